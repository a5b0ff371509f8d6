// What an idle connection keeps (docs/PERFORMANCE.md, "Idle memory"), and
// that what was done to keep it small changes nothing a client sees:
// DirectTcpSocket writes straight to the kernel only when nothing can be
// overtaken, and queues the rest in order; the head QWebSocket is given is
// reduced, and the 101 and the connection's info stay those of the real
// head; a connection keeps working after its read buffer was given back;
// a push reaches a connection that never sent anything (its protocol
// session is made then).

#include "directtcpsocket.h"
#include "rawclient.h"
#include "testsupport.h"
#include "ws/websocketsession.h"

namespace {

ServerConfig baseConfig()
{
    ServerConfig config;
    config.port = 0;
    config.workerThreads = 2;
    return config;
}

// A payload whose every byte depends on its position, so lost, doubled or
// reordered bytes show.
QByteArray patterned(qsizetype size)
{
    QByteArray out(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        out[i] = char('a' + (i * 7 + i / 26) % 26);
    return out;
}

// A client connected to a DirectTcpServer, and the server's end of it.
struct DirectPair
{
    DirectTcpServer server;
    QTcpSocket client;
    DirectTcpSocket *accepted = nullptr;

    bool open()
    {
        if (!server.listen(QHostAddress::LocalHost))
            return false;
        client.connectToHost(QHostAddress::LocalHost, server.serverPort());
        if (!QTest::qWaitFor([&] { return server.hasPendingConnections(); }, 5000))
            return false;
        accepted = qobject_cast<DirectTcpSocket *>(server.nextPendingConnection());
        return accepted && QTest::qWaitFor([&] { return client.state() == QAbstractSocket::ConnectedState; }, 5000);
    }

    QByteArray receive(qsizetype n)
    {
        QByteArray got;
        (void)QTest::qWaitFor([&] {
            got += client.readAll();
            return got.size() >= n;
        }, 10000);
        return got + client.readAll();
    }
};

} // namespace

class IdleMemoryTest : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;

    ConnectionRegistry *registry() const { return m_server->host->connections(); }

private slots:
    void cleanup()
    {
        if (m_server)
            QVERIFY(m_server->stop());
        m_server.reset();
    }

    void directWritesGoStraightWhenNothingIsQueued()
    {
        DirectPair pair;
        QVERIFY(pair.open());
        pair.accepted->setDirectWrites(true);
        QCOMPARE(pair.accepted->write("hello"), qint64(5));
        QCOMPARE(pair.accepted->bytesToWrite(), qint64(0)); // in the kernel already
        QCOMPARE(pair.receive(5), QByteArray("hello"));
    }

    void withoutDirectWritesQtBuffers()
    {
        DirectPair pair;
        QVERIFY(pair.open());
        QVERIFY(!pair.accepted->directWrites());
        QCOMPARE(pair.accepted->write("hello"), qint64(5));
        QCOMPARE(pair.accepted->bytesToWrite(), qint64(5));
        QCOMPARE(pair.receive(5), QByteArray("hello"));
    }

    // Unread input or queued bytes: Qt's buffer, in order.
    void bufferedInputOrQueuedBytesKeepQtsBuffer()
    {
        DirectPair pair;
        QVERIFY(pair.open());
        pair.accepted->setDirectWrites(true);
        pair.client.write("x");
        QTRY_COMPARE(pair.accepted->bytesAvailable(), qint64(1));
        pair.accepted->write("ab");
        QCOMPARE(pair.accepted->bytesToWrite(), qint64(2));
        QCOMPARE(pair.accepted->read(1), QByteArray("x"));
        pair.accepted->write("cd"); // behind "ab", which is still queued
        QCOMPARE(pair.accepted->bytesToWrite(), qint64(4));
        QCOMPARE(pair.receive(4), QByteArray("abcd"));
        QTRY_COMPARE(pair.accepted->bytesToWrite(), qint64(0));
        pair.accepted->write("ef"); // nothing queued any more
        QCOMPARE(pair.accepted->bytesToWrite(), qint64(0));
        QCOMPARE(pair.receive(2), QByteArray("ef"));
    }

    // The kernel takes part of a large write: the rest is queued behind it,
    // and what follows behind that.
    void partOfALargeWriteIsQueuedInOrder()
    {
        DirectPair pair;
        QVERIFY(pair.open());
        pair.accepted->setDirectWrites(true);
        pair.accepted->setSocketOption(QAbstractSocket::SendBufferSizeSocketOption, 64 * 1024);
        const QByteArray payload = patterned(16 * 1024 * 1024);
        QCOMPARE(pair.accepted->write(payload), qint64(payload.size()));
        const qint64 queued = pair.accepted->bytesToWrite();
        QVERIFY2(queued > 0 && queued < payload.size(), qPrintable(QString::number(queued)));
        pair.accepted->write("tail");
        QCOMPARE(pair.accepted->bytesToWrite(), queued + 4);
        const QByteArray got = pair.receive(payload.size() + 4);
        QCOMPARE(got.size(), payload.size() + 4);
        QVERIFY(got.startsWith(payload));
        QVERIFY(got.endsWith("tail"));
    }

    // QWebSocket is given a reduced head; the client sees the 101 the real
    // head earns, and the registry keeps the real head's path, origin and
    // user agent.
    void browserHeadGetsTheSameAnswerAndInfo()
    {
        QVERIFY(startEchoServer(m_server, baseConfig()));
        RawClient client;
        QVERIFY(client.connectTo(m_server->port()));
        const QByteArray key = "x3JJHMbDL1EzLkh9GBhXDw==";
        UpgradeRequest request;
        request.target = "/chat/room?x=1";
        request.set("Sec-WebSocket-Key", key)
            .set("Sec-WebSocket-Protocol", "other.proto, echo.test")
            .set("Origin", "http://example.test")
            .set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Test/1.0")
            .set("Cookie", "session=" + QByteArray(600, 'c') + "; theme=dark")
            .set("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")
            .set("Accept-Language", "en-US,en;q=0.9");
        client.send(request.toBytes());
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 101);
        QCOMPARE(r.header("sec-websocket-accept"), Ws::acceptFor(key));
        QCOMPARE(r.header("sec-websocket-protocol"), QByteArray("echo.test"));
        QCOMPARE(r.headerCount("sec-websocket-extensions"), 0);
        QCOMPARE(r.header("access-control-allow-origin"), QByteArray("http://example.test"));
        client.takeAll();

        QTRY_COMPARE(registry()->count(), 1);
        const ConnectionInfo info = registry()->snapshot().first();
        QCOMPARE(info.path, QStringLiteral("/chat/room"));
        QCOMPARE(info.origin, QStringLiteral("http://example.test"));
        QCOMPARE(info.userAgent, QStringLiteral("Mozilla/5.0 (X11; Linux x86_64) Test/1.0"));
        QCOMPARE(info.subprotocol, QStringLiteral("echo.test"));

        client.send(Ws::encode(Ws::Text, "after the reduced head"));
        WsFrame frame;
        QVERIFY(client.readFrame(&frame));
        QCOMPARE(frame.opcode, int(Ws::Text));
        QCOMPARE(frame.payload, QByteArray("after the reduced head"));
    }

    // A quiet connection gives its read buffer back (the keep-alive sweep,
    // WebSocketSession::ReleaseReadBufferAfterMs); what comes next, also
    // a frame split over two writes, is read whole.
    void quietConnectionKeepsWorkingAfterItsReadBufferIsReleased()
    {
        ServerConfig config = baseConfig();
        config.limits.pingIntervalMs = 60'000;
        config.limits.pingTimeoutMs = 1000; // the sweep runs every 250 ms
        QVERIFY(startEchoServer(m_server, config));
        RawClient client;
        QVERIFY(client.connectTo(m_server->port()));
        client.send(UpgradeRequest().toBytes());
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 101);
        client.takeAll();

        WsFrame frame;
        client.send(Ws::encode(Ws::Text, "first"));
        QVERIFY(client.readFrame(&frame));
        QCOMPARE(frame.payload, QByteArray("first"));
        for (int round = 0; round < 2; ++round) {
            QTest::qWait(WebSocketSession::ReleaseReadBufferAfterMs + 600);
            const QByteArray message = "after a quiet second " + QByteArray::number(round);
            const QByteArray bytes = Ws::encode(Ws::Text, message);
            client.send(bytes.left(3));
            QTest::qWait(50);
            client.send(bytes.mid(3));
            QVERIFY(client.readFrame(&frame));
            QCOMPARE(frame.opcode, int(Ws::Text));
            QCOMPARE(frame.payload, message);
        }
        QCOMPARE(registry()->count(), 1);
    }

    // The protocol session is made on first use: a push is its first use.
    void pushReachesAConnectionThatNeverSpoke()
    {
        QVERIFY(startEchoServer(m_server, baseConfig()));
        QWebSocket ws;
        QVERIFY(openWebSocket(ws, m_server->wsUrl(), {"echo.test"}));
        QTRY_COMPARE(registry()->count(), 1);
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        QVERIFY(registry()->pushNotification(registry()->snapshot().first().id, QStringLiteral("app.hello"), "[1]"));
        QVERIFY(received.wait());
        QCOMPARE(received.first().first().toString(), QStringLiteral("app.hello [1]"));
    }
};

QTEST_GUILESS_MAIN(IdleMemoryTest)
#include "tst_idlememory.moc"
