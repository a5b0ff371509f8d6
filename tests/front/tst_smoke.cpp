#include "testsupport.h"

#include <QTcpSocket>

class SmokeTest : public QObject
{
    Q_OBJECT
private slots:
    void echoOverSharedPort()
    {
        TestServer server;
        server.subprotocols->add(std::make_shared<EchoTestSubprotocol>());
        ServerConfig config;
        config.port = 0;
        QVERIFY(server.start(config));

        QWebSocket ws;
        QVERIFY(openWebSocket(ws, server.wsUrl("/chat"), {"nope", "echo.test"}));
        QCOMPARE(ws.subprotocol(), QStringLiteral("echo.test"));
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.sendTextMessage("hello");
        QVERIFY(received.wait());
        QCOMPARE(received.first().first().toString(), QStringLiteral("hello"));
        QTRY_COMPARE(server.host->connections()->count(), 1);
        QCOMPARE(server.host->connections()->snapshot().first().path, QStringLiteral("/chat"));

        QSignalSpy closed(&ws, &QWebSocket::disconnected);
        QVERIFY(server.stop());
        QTRY_VERIFY(!closed.isEmpty());
        QCOMPARE(int(ws.closeCode()), 1001);
    }
};

QTEST_MAIN(SmokeTest)
#include "tst_smoke.moc"
