// A client that sends but never reads must not grow the server without
// bound: once more than limits.maxOutgoingBytes wait for it, the server
// closes it with 1008 and the registry records why.

#include "rawclient.h"
#include "testsupport.h"

class TestSlowConsumer : public QObject
{
    Q_OBJECT
private slots:
    void clientThatNeverReadsIsDropped()
    {
        TestServer server;
        server.subprotocols->add(std::make_shared<EchoTestSubprotocol>());
        ServerConfig config;
        config.port = 0;
        config.limits.maxOutgoingBytes = 64 * 1024;
        QVERIFY(server.start(config));
        ClosedConnections closed(server.host->connections());

        QTcpSocket socket;
        QByteArray rest;
        QVERIFY(upgradePlainSocket(socket, server.port(), &rest));
        QTRY_COMPARE(server.host->connections()->count(), 1);

        // From here on the client reads nothing: Qt stops taking bytes from
        // the kernel once its small buffer is full, so the echoes back up
        // into the server.
        socket.setReadBufferSize(4096);
        const QByteArray frame = Ws::encode(0x1, QByteArray(60 * 1024, 'x'));
        for (int i = 0; i < 500; ++i) // 30 MB of echoes: more than any socket buffer holds
            socket.write(frame);

        QTRY_VERIFY_WITH_TIMEOUT(closed.count() == 1, 20000);
        QCOMPARE(closed.closes().first().code, 1008);
        QVERIFY2(closed.closes().first().reason.startsWith("slow consumer"),
                 qPrintable(closed.closes().first().reason));
        QCOMPARE(server.host->connections()->count(), 0);
        socket.abort();
        QVERIFY(server.stop());
    }
};

QTEST_MAIN(TestSlowConsumer)
#include "tst_slowconsumer.moc"
