// WebSocket limits and keep-alive (PRODUCT.md section 3 "Both"): message and
// frame size → 1009, binary → 1003, invalid UTF-8 → 1007, a peer that does
// not answer pings is dropped, one that does stays.

#include "rawclient.h"
#include "testsupport.h"

namespace {

ServerConfig baseConfig()
{
    ServerConfig config;
    config.port = 0;
    config.workerThreads = 2;
    return config;
}

} // namespace

class LimitsTest : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;

    bool startServer(const ServerConfig &config)
    {
        return startEchoServer(m_server, config);
    }
    ConnectionRegistry *registry() const { return m_server->host->connections(); }

    // A raw client through the handshake; frames are up to the test.
    void rawUpgrade(RawClient &client)
    {
        QVERIFY(client.connectTo(m_server->port()));
        client.send(UpgradeRequest().toBytes());
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 101);
        QTRY_COMPARE(registry()->count(), 1);
    }

    // Sends `message` and expects the server to close with `code`; checks
    // the registry records the close.
    void expectClose(QWebSocket &ws, int code, const std::function<void()> &send)
    {
        QSignalSpy disconnected(&ws, &QWebSocket::disconnected);
        ClosedConnections closedInRegistry(registry());
        send();
        QVERIFY(disconnected.wait());
        QCOMPARE(int(ws.closeCode()), code);
        QTRY_COMPARE(closedInRegistry.count(), 1);
        QCOMPARE(closedInRegistry.closes().first().code, code);
        QTRY_COMPARE(registry()->count(), 0);
    }

private slots:
    void cleanup()
    {
        if (m_server)
            QVERIFY(m_server->stop());
        m_server.reset();
    }

    void defaults()
    {
        const ServerLimits limits;
        QCOMPARE(limits.maxMessageBytes, qint64(1024 * 1024));
        QCOMPARE(limits.maxFrameBytes, qint64(1024 * 1024));
    }

    // A message over limits.maxMessageBytes → 1009; one at the limit is fine.
    void messageTooBig()
    {
        ServerConfig config = baseConfig();
        config.limits.maxMessageBytes = 1000;
        config.limits.maxFrameBytes = 1000;
        QVERIFY(startServer(config));
        QWebSocket ws;
        QVERIFY(openWebSocket(ws, m_server->wsUrl(), {"echo.test"}));

        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        const QString atLimit(1000, QLatin1Char('a'));
        ws.sendTextMessage(atLimit);
        QVERIFY(received.wait());
        QCOMPARE(received.first().first().toString(), atLimit);

        expectClose(ws, 1009, [&] { ws.sendTextMessage(QString(1001, QLatin1Char('b'))); });
        QCOMPARE(ws.closeCode(), QWebSocketProtocol::CloseCodeTooMuchData);
    }

    // The message limit holds across fragments that are each small.
    void fragmentedMessageTooBig()
    {
        ServerConfig config = baseConfig();
        config.limits.maxMessageBytes = 1000;
        config.limits.maxFrameBytes = 1024 * 1024;
        QVERIFY(startServer(config));
        QWebSocket ws;
        ws.setOutgoingFrameSize(100);
        QVERIFY(openWebSocket(ws, m_server->wsUrl(), {"echo.test"}));
        expectClose(ws, 1009, [&] { ws.sendTextMessage(QString(1500, QLatin1Char('c'))); });
    }

    // A single frame over limits.maxFrameBytes → 1009, even when the message limit is higher.
    void frameTooBig()
    {
        ServerConfig config = baseConfig();
        config.limits.maxMessageBytes = 1024 * 1024;
        config.limits.maxFrameBytes = 500;
        QVERIFY(startServer(config));
        QWebSocket ws;
        ws.setOutgoingFrameSize(400);
        QVERIFY(openWebSocket(ws, m_server->wsUrl(), {"echo.test"}));
        // Fragments of 400 bytes are fine, the whole message of 1200 too.
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.sendTextMessage(QString(1200, QLatin1Char('d')));
        QVERIFY(received.wait());
        QCOMPARE(received.first().first().toString().size(), 1200);
        ws.setOutgoingFrameSize(600);
        expectClose(ws, 1009, [&] { ws.sendTextMessage(QString(600, QLatin1Char('e'))); });
    }

    // A binary frame → 1003.
    void binaryFrame()
    {
        QVERIFY(startServer(baseConfig()));
        QWebSocket ws;
        QVERIFY(openWebSocket(ws, m_server->wsUrl(), {"echo.test"}));
        expectClose(ws, 1003, [&] { ws.sendBinaryMessage(QByteArray("\x00\x01\x02", 3)); });
        QCOMPARE(ws.closeReason(), QStringLiteral("binary frames are not accepted"));
    }

    // Invalid UTF-8 in a text frame → 1007 (needs a raw frame).
    void invalidUtf8_data()
    {
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<bool>("fragmented");
        QTest::newRow("bad continuation byte") << QByteArray("ok \xC3\x28") << false;
        QTest::newRow("overlong encoding") << QByteArray("\xC0\xAF") << false;
        QTest::newRow("surrogate") << QByteArray("\xED\xA0\x80") << false;
        QTest::newRow("0xFF") << QByteArray("a\xFF" "b") << false;
        QTest::newRow("truncated at the end of the message") << QByteArray("abc\xE2\x82") << false;
        QTest::newRow("over two fragments") << QByteArray("abc\xC3\x28") << true;
    }
    void invalidUtf8()
    {
        QFETCH(QByteArray, payload);
        QFETCH(bool, fragmented);
        QVERIFY(startServer(baseConfig()));
        RawClient client;
        rawUpgrade(client);
        if (QTest::currentTestFailed())
            return;
        // A valid message first: the encoder is right and the session is live.
        client.send(Ws::encode(Ws::Text, "caf\xC3\xA9"));
        WsFrame frame;
        QVERIFY(client.readDataOrCloseFrame(&frame));
        QCOMPARE(frame.opcode, int(Ws::Text));
        QCOMPARE(frame.payload, QByteArray("caf\xC3\xA9"));

        ClosedConnections closedInRegistry(registry());
        if (fragmented) {
            client.send(Ws::encode(Ws::Text, payload.left(4), false));
            client.send(Ws::encode(Ws::Continuation, payload.mid(4), true));
        } else {
            client.send(Ws::encode(Ws::Text, payload));
        }
        QVERIFY(client.readDataOrCloseFrame(&frame));
        QCOMPARE(frame.opcode, int(Ws::Close));
        QCOMPARE(frame.closeCode(), 1007);
        QTRY_COMPARE(closedInRegistry.count(), 1);
        QCOMPARE(closedInRegistry.closes().first().code, 1007);
        QTRY_COMPARE(registry()->count(), 0);
        QVERIFY(client.waitForClose());
    }

    // A peer that never answers pings is dropped; the registry empties.
    void unansweredPingsDropThePeer()
    {
        ServerConfig config = baseConfig();
        config.limits.pingIntervalMs = 200;
        config.limits.pingTimeoutMs = 200;
        QVERIFY(startServer(config));
        QElapsedTimer timer;
        timer.start();
        ClosedConnections closedInRegistry(registry());
        RawClient deaf;
        rawUpgrade(deaf);
        if (QTest::currentTestFailed())
            return;
        // It receives pings (and reads them into its buffer) but never answers.
        QTRY_COMPARE_WITH_TIMEOUT(registry()->count(), 0, 5000);
        QVERIFY2(timer.elapsed() >= 350, qPrintable(QString::number(timer.elapsed()))); // interval + timeout
        QVERIFY(deaf.waitForClose());
        QTRY_COMPARE(closedInRegistry.count(), 1);
        QCOMPARE(closedInRegistry.closes().first().code, int(QWebSocketProtocol::CloseCodeAbnormalDisconnection));
        WsFrame frame;
        QVERIFY(Ws::decode(deaf.buffer(), &frame) > 0);
        QCOMPARE(frame.opcode, int(Ws::Ping));
    }

    // The peer goes away without a close frame (FIN or RST): 1006 in the registry.
    void peerLeavesWithoutCloseFrame_data()
    {
        QTest::addColumn<bool>("reset");
        QTest::newRow("FIN") << false;
        QTest::newRow("RST") << true;
    }
    void peerLeavesWithoutCloseFrame()
    {
        QFETCH(bool, reset);
        QVERIFY(startServer(baseConfig()));
        ClosedConnections closedInRegistry(registry());
        RawClient client;
        rawUpgrade(client);
        if (QTest::currentTestFailed())
            return;
        if (reset) {
            client.setLingerZero();
            client.socket()->abort();
        } else {
            client.socket()->disconnectFromHost();
        }
        QTRY_COMPARE(registry()->count(), 0);
        QTRY_COMPARE(closedInRegistry.count(), 1);
        QCOMPARE(closedInRegistry.closes().first().code, int(QWebSocketProtocol::CloseCodeAbnormalDisconnection));
    }

    // A clean close handshake from the client: its code and reason in the registry.
    void cleanCloseIsRecorded()
    {
        QVERIFY(startServer(baseConfig()));
        ClosedConnections closedInRegistry(registry());
        QWebSocket ws;
        QVERIFY(openWebSocket(ws, m_server->wsUrl(), {"echo.test"}));
        QTRY_COMPARE(registry()->count(), 1);
        ws.close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("done here"));
        QTRY_COMPARE(closedInRegistry.count(), 1);
        QCOMPARE(closedInRegistry.closes().first().code, 1000);
        QCOMPARE(closedInRegistry.closes().first().reason, QStringLiteral("done here"));
        QTRY_COMPARE(registry()->count(), 0);
    }

    // A raw peer that answers pings stays.
    void answeredPingsKeepTheRawPeer()
    {
        ServerConfig config = baseConfig();
        config.limits.pingIntervalMs = 200;
        config.limits.pingTimeoutMs = 200;
        QVERIFY(startServer(config));
        RawClient client;
        rawUpgrade(client);
        if (QTest::currentTestFailed())
            return;
        int pongs = 0;
        QElapsedTimer timer;
        timer.start();
        while (pongs < 5 && timer.elapsed() < 5000) {
            WsFrame frame;
            QVERIFY(client.readFrame(&frame, 2000));
            QCOMPARE(frame.opcode, int(Ws::Ping));
            client.send(Ws::encode(Ws::Pong, frame.payload));
            ++pongs;
        }
        QCOMPARE(pongs, 5);
        QCOMPARE(registry()->count(), 1);
        QVERIFY(!client.closedByServer());
    }

    // A normal QWebSocket answers pings on its own and stays connected
    // across several ping intervals without sending anything.
    void libraryClientStaysAcrossPings()
    {
        ServerConfig config = baseConfig();
        config.limits.pingIntervalMs = 200;
        config.limits.pingTimeoutMs = 200;
        QVERIFY(startServer(config));
        QWebSocket ws;
        QVERIFY(openWebSocket(ws, m_server->wsUrl(), {"echo.test"}));
        QSignalSpy disconnected(&ws, &QWebSocket::disconnected);
        QTRY_COMPARE(registry()->count(), 1);
        const ConnectionInfo first = registry()->snapshot().first();

        // Only pongs move lastActivity here; 1.2 s is six intervals and
        // three times the interval plus timeout after which it would be dropped.
        QTRY_VERIFY_WITH_TIMEOUT(registry()->snapshot().value(0).lastActivity.toMSecsSinceEpoch()
                                         - first.connectedAt.toMSecsSinceEpoch()
                                     >= 1200,
                                 5000);
        QVERIFY(disconnected.isEmpty());
        QCOMPARE(ws.state(), QAbstractSocket::ConnectedState);
        QCOMPARE(registry()->snapshot().first().id, first.id);

        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.sendTextMessage("still here");
        QVERIFY(received.wait());
        QCOMPARE(received.first().first().toString(), QStringLiteral("still here"));
    }
};

QTEST_GUILESS_MAIN(LimitsTest)
#include "tst_limits.moc"
