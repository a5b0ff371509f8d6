// The opening handshake over real sockets (PRODUCT.md sections 1 and 2):
// every refusal row with its exact status and headers as a complete HTTP
// response followed by the close, the registry's record of it, good
// handshakes with QWebSocket and raw sockets, and the port rules.

#include "rawclient.h"
#include "testsupport.h"

#include <QNetworkRequest>
#include <QWebSocketHandshakeOptions>

namespace {

ServerConfig baseConfig()
{
    ServerConfig config;
    config.port = 0;
    config.workerThreads = 2;
    config.limits.headTimeoutMs = 2000;
    return config;
}

} // namespace

class HandshakeTest : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;
    quint64 m_lastRefusal = 0;

    bool startServer(const ServerConfig &config, const QStringList &protocols = {"echo.test"})
    {
        m_server = std::make_unique<TestServer>();
        for (const QString &p : protocols)
            m_server->subprotocols->add(std::make_shared<EchoTestSubprotocol>(p));
        QString error;
        if (!m_server->start(config, &error)) {
            qWarning() << "server did not start:" << error;
            return false;
        }
        m_lastRefusal = 0;
        return true;
    }
    ConnectionRegistry *registry() const { return m_server->host->connections(); }

    // The refusals recorded since the last call.
    QList<RefusedHandshake> newRefusals()
    {
        const QList<RefusedHandshake> list = registry()->refusalsAfter(m_lastRefusal);
        if (!list.isEmpty())
            m_lastRefusal = list.last().id;
        return list;
    }

    // Sends `request` on a new connection, expects a refusal with `status`
    // (complete response, then close) and its record in the registry.
    // Returns the response through `out`.
    void expectRefusal(const QByteArray &request, int status, RawResponse *out = nullptr,
                       quint16 port = 0)
    {
        RawClient client;
        QVERIFY(client.connectTo(port ? port : m_server->port()));
        client.send(request);
        RawResponse r;
        QVERIFY2(client.readResponse(&r), client.buffer().constData());
        verifyRefusal(client, r, status);
        if (QTest::currentTestFailed())
            return;
        const QList<RefusedHandshake> refusals = newRefusals();
        QCOMPARE(refusals.size(), 1);
        QCOMPARE(refusals.first().status, status);
        QCOMPARE(refusals.first().reason, r.json().value("error").toString());
        QCOMPARE(refusals.first().peerPort, client.localPort());
        QCOMPARE(refusals.first().peerAddress.toIPv4Address(), QHostAddress(QHostAddress::LocalHost).toIPv4Address());
        if (out)
            *out = r;
    }

    // A raw handshake that must succeed; the client is left open after the 101.
    void expectAccepted(RawClient &client, const UpgradeRequest &request, RawResponse *out,
                        quint16 port = 0)
    {
        QVERIFY(client.connectTo(port ? port : m_server->port()));
        client.send(request.toBytes());
        QVERIFY2(client.readResponse(out), client.buffer().constData());
        QCOMPARE(out->status, 101);
        QCOMPARE(out->header("upgrade").toLower(), QByteArray("websocket"));
        QCOMPARE(out->header("connection").toLower(), QByteArray("upgrade"));
        QByteArray key = UpgradeRequest::DefaultKey;
        for (const auto &h : request.headers) {
            if (h.first.compare("sec-websocket-key", Qt::CaseInsensitive) == 0)
                key = h.second;
        }
        QCOMPARE(out->header("sec-websocket-accept"), Ws::acceptFor(key));
    }

private slots:
    void init() { QVERIFY(startServer(baseConfig())); }
    void cleanup()
    {
        if (m_server)
            QVERIFY(m_server->stop());
        m_server.reset();
    }

    // ---- PRODUCT.md section 2, in its order ----

    // 1. Sec-WebSocket-Version is not 13 → 426 with "Sec-WebSocket-Version: 13".
    void versionNot13_data()
    {
        QTest::addColumn<QByteArray>("version"); // null: header missing
        QTest::newRow("missing") << QByteArray();
        QTest::newRow("12") << QByteArray("12");
        QTest::newRow("13, 8") << QByteArray("13, 8");
    }
    void versionNot13()
    {
        QFETCH(QByteArray, version);
        RawResponse r;
        expectRefusal(UpgradeRequest().set("Sec-WebSocket-Version", version).toBytes(), 426, &r);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.reason, QByteArray("Upgrade Required"));
        QCOMPARE(r.headerCount("sec-websocket-version"), 1);
        QCOMPARE(r.header("sec-websocket-version"), QByteArray("13"));
    }

    // 2. Sec-WebSocket-Key missing or not base64 of 16 bytes (or sent twice) → 400.
    void badKey_data()
    {
        QTest::addColumn<QList<QByteArray>>("keys");
        QTest::newRow("missing") << QList<QByteArray>{};
        QTest::newRow("not base64") << QList<QByteArray>{"!!!!not*base64!!!!!!!!=="};
        QTest::newRow("base64 of 15 bytes") << QList<QByteArray>{QByteArray(15, 'k').toBase64()};
        QTest::newRow("base64 of 17 bytes") << QList<QByteArray>{QByteArray(17, 'k').toBase64()};
        QTest::newRow("sent twice") << QList<QByteArray>{"dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=="};
    }
    void badKey()
    {
        QFETCH(QList<QByteArray>, keys);
        UpgradeRequest request;
        request.remove("Sec-WebSocket-Key");
        for (const QByteArray &k : keys)
            request.add("Sec-WebSocket-Key", k);
        RawResponse r;
        expectRefusal(request.toBytes(), 400, &r);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.reason, QByteArray("Bad Request"));
        QVERIFY2(r.json().value("error").toString().contains("Sec-WebSocket-Key"), r.body.constData());
    }

    // 3. No offered subprotocol supported and enabled → 400; the body names the supported ones.
    void noSupportedSubprotocol_data()
    {
        QTest::addColumn<QByteArray>("offer"); // null: none offered
        QTest::addColumn<bool>("disableEcho");
        QTest::newRow("none offered") << QByteArray() << false;
        QTest::newRow("only unsupported") << QByteArray("nope, other.v2") << false;
        QTest::newRow("supported but disabled") << QByteArray("echo.test") << true;
    }
    void noSupportedSubprotocol()
    {
        QFETCH(QByteArray, offer);
        QFETCH(bool, disableEcho);
        m_server->subprotocols->add(std::make_shared<EchoTestSubprotocol>("second.test"));
        if (disableEcho)
            QVERIFY(m_server->subprotocols->setEnabled("echo.test", false));
        RawResponse r;
        expectRefusal(UpgradeRequest().set("Sec-WebSocket-Protocol", offer).toBytes(), 400, &r);
        if (QTest::currentTestFailed())
            return;
        const QJsonArray expected = disableEcho ? QJsonArray{"second.test"}
                                                : QJsonArray{"echo.test", "second.test"};
        QCOMPARE(r.json().value("supported").toArray(), expected);
        QVERIFY(r.header("sec-websocket-protocol").isNull());
        if (!offer.isNull()) {
            // The offer is recorded with the refusal.
            const RefusedHandshake last = registry()->refusalsAfter(0).last();
            QCOMPARE(last.offeredSubprotocols.join(", ").toLatin1(), offer);
        }
    }
    // PRODUCT.md section 3, "No subprotocol offered": with "defaultSubprotocol"
    // the handshake is accepted, the 101 names no subprotocol (RFC 6455
    // 4.2.2), and the connection speaks and records the default.
    void defaultSubprotocolWhenNoneOffered()
    {
        ServerConfig config = baseConfig();
        config.defaultSubprotocol = QStringLiteral("echo.test");
        QVERIFY(startServer(config, {"echo.test", "second.test"}));
        RawClient client;
        QVERIFY(client.connectTo(m_server->port()));
        client.send(UpgradeRequest().set("Sec-WebSocket-Protocol", QByteArray()).toBytes());
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 101);
        QVERIFY(r.header("sec-websocket-protocol").isNull());
        client.send(Ws::encode(0x1, "hello"));
        WsFrame frame;
        QVERIFY(client.readFrame(&frame));
        QCOMPARE(frame.payload, QByteArray("hello"));
        QTRY_COMPARE(registry()->count(), 1);
        const ConnectionInfo info = registry()->snapshot().first();
        QCOMPARE(info.subprotocol, QStringLiteral("echo.test"));
        QVERIFY(info.subprotocolDefaulted);
        QCOMPARE(info.subprotocolLabel(), QStringLiteral("echo.test (default)"));
        QCOMPARE(info.toJson().value("subprotocolDefaulted").toBool(), true);

        // An offer still wins over the default and is named in the 101.
        QWebSocket ws;
        QVERIFY(openWebSocket(ws, m_server->wsUrl(), {"second.test"}));
        QCOMPARE(ws.subprotocol(), QStringLiteral("second.test"));
        // Offering only unsupported ones is still refused.
        expectRefusal(UpgradeRequest().set("Sec-WebSocket-Protocol", "soap").toBytes(), 400);
    }

    // Switching a subprotocol back on takes effect on the next handshake.
    void reenabledSubprotocolIsAcceptedAgain()
    {
        QVERIFY(m_server->subprotocols->setEnabled("echo.test", false));
        expectRefusal(UpgradeRequest().toBytes(), 400);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(m_server->subprotocols->setEnabled("echo.test", true));
        QWebSocket ws;
        QVERIFY(openWebSocket(ws, m_server->wsUrl(), {"echo.test"}));
        QCOMPARE(ws.subprotocol(), QStringLiteral("echo.test"));
    }

    // 4. Origin present and not in the allow-list → 403; allowed or absent → 101.
    void origin()
    {
        ServerConfig config = baseConfig();
        config.allowedOrigins = {"https://good.example", "http://localhost:8000"};
        QVERIFY(startServer(config));

        RawResponse r;
        expectRefusal(UpgradeRequest().set("Origin", "https://evil.example").toBytes(), 403, &r);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.reason, QByteArray("Forbidden"));
        QCOMPARE(registry()->refusalsAfter(0).last().origin, QStringLiteral("https://evil.example"));

        RawClient raw;
        expectAccepted(raw, UpgradeRequest().set("Origin", "http://localhost:8000"), &r);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.header("sec-websocket-protocol"), QByteArray("echo.test"));

        QWebSocket allowed(QStringLiteral("https://good.example"));
        QVERIFY(openWebSocket(allowed, m_server->wsUrl(), {"echo.test"}));
        QWebSocket absent; // no Origin header at all
        QVERIFY(openWebSocket(absent, m_server->wsUrl(), {"echo.test"}));
        QWebSocket denied(QStringLiteral("https://evil.example"));
        QVERIFY(!openWebSocket(denied, m_server->wsUrl(), {"echo.test"}));
        QTRY_COMPARE(registry()->count(), 3);
        QStringList origins;
        for (const ConnectionInfo &c : registry()->snapshot())
            origins << c.origin;
        origins.sort();
        QCOMPARE(origins, (QStringList{"", "http://localhost:8000", "https://good.example"}));
    }

    // 5. A client token is configured and the request lacks it → 401.
    void clientToken()
    {
        ServerConfig config = baseConfig();
        config.clientToken = QStringLiteral("C");
        QVERIFY(startServer(config));

        RawResponse r;
        expectRefusal(UpgradeRequest().toBytes(), 401, &r); // missing
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.reason, QByteArray("Unauthorized"));
        QCOMPARE(r.header("www-authenticate"), QByteArray("Bearer realm=\"switchboard\""));
        expectRefusal(UpgradeRequest().set("Authorization", "Bearer D").toBytes(), 401); // wrong
        if (QTest::currentTestFailed())
            return;
        UpgradeRequest wrongQuery;
        wrongQuery.target = "/?token=D";
        expectRefusal(wrongQuery.toBytes(), 401);
        if (QTest::currentTestFailed())
            return;

        RawClient bearer;
        expectAccepted(bearer, UpgradeRequest().set("Authorization", "Bearer C"), &r);
        if (QTest::currentTestFailed())
            return;
        UpgradeRequest query;
        query.target = "/room?token=C";
        RawClient byQuery;
        expectAccepted(byQuery, query, &r);
        if (QTest::currentTestFailed())
            return;

        // The same with a library client.
        QNetworkRequest request(m_server->wsUrl());
        request.setRawHeader("Authorization", "Bearer C");
        QWebSocketHandshakeOptions options;
        options.setSubprotocols({"echo.test"});
        QWebSocket ws;
        QSignalSpy connected(&ws, &QWebSocket::connected);
        ws.open(request, options);
        QVERIFY(connected.wait());
        QWebSocket viaQuery;
        QUrl url = m_server->wsUrl("/q");
        url.setQuery("token=C");
        QVERIFY(openWebSocket(viaQuery, url, {"echo.test"}));
        QWebSocket without;
        QVERIFY(!openWebSocket(without, m_server->wsUrl(), {"echo.test"}));
        QTRY_COMPARE(registry()->count(), 4);
        // The path is recorded without the query (which carries the secret).
        QStringList paths;
        for (const ConnectionInfo &c : registry()->snapshot())
            paths << c.path;
        QVERIFY2(paths.contains("/room") && paths.contains("/q"), qPrintable(paths.join(' ')));
    }

    // 6. The connection limit is reached → 503; a freed slot is usable again.
    void connectionLimit()
    {
        ServerConfig config = baseConfig();
        config.limits.maxConnections = 3;
        QVERIFY(startServer(config));
        std::vector<std::unique_ptr<QWebSocket>> clients;
        for (int i = 0; i < 3; ++i) {
            clients.push_back(std::make_unique<QWebSocket>());
            QVERIFY(openWebSocket(*clients.back(), m_server->wsUrl(), {"echo.test"}));
        }
        QTRY_COMPARE(registry()->count(), 3);

        RawResponse r;
        expectRefusal(UpgradeRequest().toBytes(), 503, &r);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.reason, QByteArray("Service Unavailable"));
        QCOMPARE(r.header("retry-after"), QByteArray("5"));
        QWebSocket fourth;
        QVERIFY(!openWebSocket(fourth, m_server->wsUrl(), {"echo.test"}));
        QCOMPARE(registry()->count(), 3);

        clients.front()->close();
        QTRY_COMPARE(registry()->count(), 2);
        QWebSocket again;
        QVERIFY(openWebSocket(again, m_server->wsUrl(), {"echo.test"}));
        QTRY_COMPARE(registry()->count(), 3);
    }

    // 7a. A request head over 16 KiB → 431; a head of exactly 16 KiB is fine.
    void headOver16KiB()
    {
        QCOMPARE(ServerConfig().limits.maxHeadBytes, 16 * 1024);
        // Exactly 16 KiB, in header lines of a usual size: accepted.
        UpgradeRequest request;
        for (int i = 0; i < 4; ++i)
            request.add("X-Pad-" + QByteArray::number(i), QByteArray(4000, 'p'));
        request.add("X-Pad-4", QByteArray(16 * 1024 - int(request.toBytes().size()) - int(qstrlen("X-Pad-4: \r\n")), 'p'));
        QCOMPARE(request.toBytes().size(), 16 * 1024);
        RawClient exact;
        RawResponse r;
        expectAccepted(exact, request, &r);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.header("sec-websocket-protocol"), QByteArray("echo.test"));

        // One byte more: 431.
        request.set("X-Pad-4", request.headers.last().second + 'p');
        QCOMPARE(request.toBytes().size(), 16 * 1024 + 1);
        expectRefusal(request.toBytes(), 431, &r);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.reason, QByteArray("Request Header Fields Too Large"));

        // Far over, and without ever ending the head: refused as soon as the cap is passed.
        RawClient endless;
        QVERIFY(endless.connectTo(m_server->port()));
        endless.send("GET / HTTP/1.1\r\nUpgrade: websocket\r\nX-Pad: " + QByteArray(40000, 'p'));
        QVERIFY(endless.readResponse(&r));
        QCOMPARE(r.status, 431);
        QVERIFY(endless.waitForClose());
    }

    // Within 16 KiB but a single line over 8 KiB (a big cookie) or more
    // than 100 header fields: the WebSocket side cannot take it, so it gets
    // a complete 431, never a silent close.
    void longLinesAndManyFieldsWithinTheCap_data()
    {
        QTest::addColumn<int>("fieldLine");    // length of one extra field line, 0: none
        QTest::addColumn<int>("requestLine");  // length of the request line, 0: short
        QTest::addColumn<int>("fields");       // total header fields
        QTest::addColumn<int>("status");
        QTest::newRow("field line of 8190") << 8190 << 0 << 7 << 101;
        QTest::newRow("field line of 8191") << 8191 << 0 << 7 << 431;
        QTest::newRow("cookie of 12000") << 12000 << 0 << 7 << 431;
        QTest::newRow("request line of 8190") << 0 << 8190 << 6 << 101;
        QTest::newRow("request line of 8191") << 0 << 8191 << 6 << 431;
        QTest::newRow("100 fields") << 0 << 0 << 100 << 101;
        QTest::newRow("101 fields") << 0 << 0 << 101 << 431;
        QTest::newRow("1000 fields") << 0 << 0 << 1000 << 431;
    }
    void longLinesAndManyFieldsWithinTheCap()
    {
        QFETCH(int, fieldLine);
        QFETCH(int, requestLine);
        QFETCH(int, fields);
        QFETCH(int, status);
        UpgradeRequest request;
        if (fieldLine > 0)
            request.add("Cookie", QByteArray(fieldLine - int(qstrlen("Cookie: ")), 'c'));
        if (requestLine > 0)
            request.target = "/" + QByteArray(requestLine - int(qstrlen("GET / HTTP/1.1")), 'p');
        for (int i = int(request.headers.size()); i < fields; ++i)
            request.add("X-F" + QByteArray::number(i), "v");
        QCOMPARE(int(request.headers.size()), fields);
        QVERIFY(request.toBytes().size() < 16 * 1024);
        if (status == 101) {
            RawClient client;
            RawResponse r;
            expectAccepted(client, request, &r);
            return;
        }
        RawResponse r;
        expectRefusal(request.toBytes(), status, &r);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.reason, QByteArray("Request Header Fields Too Large"));
    }

    // 7b. Head not complete within the handshake timeout → closed without a response.
    void headTimeout()
    {
        ServerConfig config = baseConfig();
        config.limits.headTimeoutMs = 300;
        QVERIFY(startServer(config));

        RawClient partial;
        QVERIFY(partial.connectTo(m_server->port()));
        QElapsedTimer timer;
        timer.start();
        partial.send("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n");
        QVERIFY(partial.waitForClose(3000));
        QVERIFY2(timer.elapsed() >= 250, qPrintable(QString::number(timer.elapsed())));
        QVERIFY2(partial.buffer().isEmpty(), partial.buffer().constData());
        const QList<RefusedHandshake> refusals = newRefusals();
        QCOMPARE(refusals.size(), 1);
        QCOMPARE(refusals.first().status, 0); // no response was sent
        QVERIFY2(refusals.first().reason.contains("300 ms"), qPrintable(refusals.first().reason));

        // A trickle of bytes does not extend the deadline.
        RawClient trickle;
        QVERIFY(trickle.connectTo(m_server->port()));
        timer.restart();
        const QByteArray head = UpgradeRequest().toBytes();
        int sent = 0;
        while (!trickle.closedByServer() && sent < head.size() - 1 && timer.elapsed() < 3000) {
            trickle.send(head.mid(sent++, 1));
            QTest::qWait(20); // pacing the client, not waiting for the server
        }
        QVERIFY(trickle.waitForClose(3000));
        QVERIFY2(timer.elapsed() < 1500, qPrintable(QString::number(timer.elapsed())));
        QVERIFY(trickle.buffer().isEmpty());

        // A connection that sends nothing at all.
        RawClient silent;
        QVERIFY(silent.connectTo(m_server->port()));
        QVERIFY(silent.waitForClose(3000));
        QVERIFY(silent.buffer().isEmpty());
        QCOMPARE(registry()->count(), 0);
    }

    // ---- around the table ----

    void nonGetUpgrade_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::newRow("POST") << QByteArray("POST");
        QTest::newRow("PUT") << QByteArray("PUT");
    }
    void nonGetUpgrade()
    {
        QFETCH(QByteArray, method);
        UpgradeRequest request;
        request.method = method;
        RawResponse r;
        expectRefusal(request.toBytes(), 405, &r);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.reason, QByteArray("Method Not Allowed"));
        QCOMPARE(r.header("allow"), QByteArray("GET"));
    }

    void http10Upgrade()
    {
        UpgradeRequest request;
        request.version = "HTTP/1.0";
        expectRefusal(request.toBytes(), 400);
    }

    // A malformed head that looks like a handshake is refused (400) and recorded.
    void malformedUpgradeHead()
    {
        UpgradeRequest request;
        request.add("Bad Header", "x");
        expectRefusal(request.toBytes(), 400);
    }

    // A request failing several rows gets the answer of the first one.
    void checkOrder_data()
    {
        QTest::addColumn<int>("fixedRows");
        QTest::addColumn<int>("status");
        QTest::newRow("version and everything else wrong") << 0 << 426;
        QTest::newRow("key and everything after it wrong") << 1 << 400;
        QTest::newRow("subprotocol, origin, token wrong, limit reached") << 2 << 400;
        QTest::newRow("origin, token wrong, limit reached") << 3 << 403;
        QTest::newRow("token wrong, limit reached") << 4 << 401;
        QTest::newRow("limit reached") << 5 << 503;
    }
    void checkOrder()
    {
        QFETCH(int, fixedRows);
        QFETCH(int, status);
        ServerConfig config = baseConfig();
        config.allowedOrigins = {"https://good.example"};
        config.clientToken = "C";
        config.limits.maxConnections = 1;
        QVERIFY(startServer(config));
        RawClient occupant;
        RawResponse r;
        expectAccepted(occupant, UpgradeRequest().set("Authorization", "Bearer C"), &r);
        if (QTest::currentTestFailed())
            return;
        QTRY_COMPARE(registry()->count(), 1);

        UpgradeRequest request;
        request.set("Sec-WebSocket-Version", fixedRows >= 1 ? "13" : "12");
        request.set("Sec-WebSocket-Key", fixedRows >= 2 ? UpgradeRequest::DefaultKey : "c2hvcnQ=");
        request.set("Sec-WebSocket-Protocol", fixedRows >= 3 ? "echo.test" : "nope");
        request.set("Origin", fixedRows >= 4 ? "https://good.example" : "https://evil.example");
        request.set("Authorization", fixedRows >= 5 ? "Bearer C" : QByteArray());
        expectRefusal(request.toBytes(), status, &r);
        if (QTest::currentTestFailed())
            return;
        const QString reason = r.json().value("error").toString();
        if (fixedRows == 1)
            QVERIFY2(reason.contains("Sec-WebSocket-Key"), qPrintable(reason));
        if (fixedRows == 2)
            QVERIFY2(r.json().contains("supported"), r.body.constData());
        if (status == 426)
            QCOMPARE(r.header("sec-websocket-version"), QByteArray("13"));
    }
    void methodBeforeEverything()
    {
        UpgradeRequest request;
        request.method = "POST";
        request.set("Sec-WebSocket-Version", "12").remove("Sec-WebSocket-Key");
        expectRefusal(request.toBytes(), 405);
    }

    // ---- good handshakes ----

    // The first offered subprotocol that the server supports wins.
    void firstSupportedOfferWins()
    {
        QVERIFY(startServer(baseConfig(), {"a", "b"}));
        QWebSocket ws;
        QVERIFY(openWebSocket(ws, m_server->wsUrl(), {"x", "b", "a"}));
        QCOMPARE(ws.subprotocol(), QStringLiteral("b"));
        QWebSocket ws2;
        QVERIFY(openWebSocket(ws2, m_server->wsUrl(), {"a", "b"}));
        QCOMPARE(ws2.subprotocol(), QStringLiteral("a"));

        // The raw 101 names it in Sec-WebSocket-Protocol, exactly once.
        RawClient raw;
        RawResponse r;
        expectAccepted(raw, UpgradeRequest().set("Sec-WebSocket-Protocol", "x, b, a"), &r);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.version, QByteArray("HTTP/1.1"));
        QCOMPARE(r.headerCount("sec-websocket-protocol"), 1);
        QCOMPARE(r.header("sec-websocket-protocol"), QByteArray("b"));
        QVERIFY(r.body.isEmpty());

        // Offers spread over two header lines count in order.
        RawClient split;
        expectAccepted(split, UpgradeRequest().set("Sec-WebSocket-Protocol", "x").add("Sec-WebSocket-Protocol", "a, b"),
                       &r);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.header("sec-websocket-protocol"), QByteArray("a"));

        QTRY_COMPARE(registry()->count(), 4);
        QMap<QString, int> chosen;
        for (const ConnectionInfo &c : registry()->snapshot())
            ++chosen[c.subprotocol];
        QCOMPARE(chosen.value("a"), 2);
        QCOMPARE(chosen.value("b"), 2);
        QVERIFY(registry()->refusalsAfter(0).isEmpty());
    }

    // Handshakes that arrive together but choose different subprotocols
    // each get their own choice in the 101.
    void simultaneousHandshakesKeepTheirOwnChoice()
    {
        QVERIFY(startServer(baseConfig(), {"a", "b"}));
        constexpr int Pairs = 20;
        std::vector<std::unique_ptr<RawClient>> clients;
        for (int i = 0; i < 2 * Pairs; ++i) {
            clients.push_back(std::make_unique<RawClient>());
            QVERIFY(clients.back()->connectTo(m_server->port()));
        }
        // All heads in one go, so the server sees them in the same event-loop pass.
        for (int i = 0; i < 2 * Pairs; ++i)
            clients[i]->send(UpgradeRequest().set("Sec-WebSocket-Protocol", i % 2 ? "b" : "a").toBytes());
        for (int i = 0; i < 2 * Pairs; ++i) {
            RawResponse r;
            QVERIFY2(clients[i]->readResponse(&r), clients[i]->buffer().constData());
            QCOMPARE(r.status, 101);
            QCOMPARE(r.header("sec-websocket-protocol"), QByteArray(i % 2 ? "b" : "a"));
        }
        QTRY_COMPARE(registry()->count(), 2 * Pairs);
        for (const ConnectionInfo &c : registry()->snapshot())
            QVERIFY2(c.subprotocol == "a" || c.subprotocol == "b", qPrintable(c.subprotocol));
    }

    // Any path is accepted and recorded with the connection.
    void anyPathIsAcceptedAndRecorded_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("root") << "/";
        QTest::newRow("nested") << "/rooms/42/live";
        QTest::newRow("an HTTP route's path") << "/health";
        QTest::newRow("encoded") << "/a%20b";
    }
    void anyPathIsAcceptedAndRecorded()
    {
        QFETCH(QString, path);
        QUrl url = m_server->wsUrl();
        url.setPath(path, QUrl::TolerantMode);
        QNetworkRequest request(url);
        request.setRawHeader("User-Agent", "switchboard-test/1.0");
        QWebSocketHandshakeOptions options;
        options.setSubprotocols({"echo.test"});
        QWebSocket ws(QStringLiteral("https://app.example"));
        QSignalSpy connected(&ws, &QWebSocket::connected);
        ws.open(request, options);
        QVERIFY(connected.wait());
        QTRY_COMPARE(registry()->count(), 1);
        const ConnectionInfo info = registry()->snapshot().first();
        QCOMPARE(info.path, path);
        QCOMPARE(info.origin, QStringLiteral("https://app.example"));
        QCOMPARE(info.userAgent, QStringLiteral("switchboard-test/1.0"));
        QCOMPARE(info.subprotocol, QStringLiteral("echo.test"));
        QCOMPARE(info.peerPort, ws.localPort());
        QCOMPARE(info.peerAddress.toIPv4Address(), QHostAddress(QHostAddress::LocalHost).toIPv4Address());
        QCOMPARE(info.peer(), QStringLiteral("127.0.0.1:%1").arg(ws.localPort()));
        QCOMPARE(info.localPort, m_server->port());
        QVERIFY(!info.tls);
        QVERIFY(info.id > 0);
        QVERIFY(info.connectedAt.isValid());
        QVERIFY(qAbs(info.connectedAt.msecsTo(QDateTime::currentDateTimeUtc())) < 5000);

        // And it works.
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.sendTextMessage(QStringLiteral("ping ") + path);
        QVERIFY(received.wait());
        QCOMPARE(received.first().first().toString(), QStringLiteral("ping ") + path);
    }

    // ---- PRODUCT.md section 1: --ws-port ----

    void separateWebSocketPort()
    {
        ServerConfig config = baseConfig();
        config.wsPort = 0;
        QVERIFY(startServer(config));
        QCOMPARE(m_server->urls.size(), 2);
        QCOMPARE(m_server->urls.at(0).scheme(), QStringLiteral("http"));
        QCOMPARE(m_server->urls.at(1).scheme(), QStringLiteral("ws"));
        const quint16 httpPort = m_server->port(0);
        const quint16 wsPort = m_server->port(1);
        QVERIFY(httpPort != wsPort);

        // An upgrade on the HTTP port → 400.
        RawResponse r;
        expectRefusal(UpgradeRequest().toBytes(), 400, &r, httpPort);
        if (QTest::currentTestFailed())
            return;
        QVERIFY2(r.json().value("error").toString().contains(QString::number(wsPort)), r.body.constData());

        // A plain GET on the WebSocket port → 426.
        RawClient plain;
        QVERIFY(plain.connectTo(wsPort));
        plain.send(httpRequest("GET", "/health"));
        QVERIFY(plain.readResponse(&r));
        verifyRefusal(plain, r, 426);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.header("upgrade"), QByteArray("websocket"));
        QCOMPARE(r.header("sec-websocket-version"), QByteArray("13"));

        // Each port serves its own traffic.
        RawClient health;
        QVERIFY(exchange(httpPort, httpRequest("GET", "/health"), &r, &health));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json(), (QJsonObject{{"status", "ok"}}));

        QWebSocket ws;
        QVERIFY(openWebSocket(ws, m_server->wsUrl("/", 1), {"echo.test"}));
        QCOMPARE(ws.subprotocol(), QStringLiteral("echo.test"));
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.sendTextMessage("over the ws port");
        QVERIFY(received.wait());
        QCOMPARE(received.first().first().toString(), QStringLiteral("over the ws port"));
        QTRY_COMPARE(registry()->count(), 1);
        QCOMPARE(registry()->snapshot().first().localPort, wsPort);

        // The WebSocket port still runs the handshake policy.
        expectRefusal(UpgradeRequest().set("Sec-WebSocket-Version", "8").toBytes(), 426, &r, wsPort);
    }
};

QTEST_GUILESS_MAIN(HandshakeTest)
#include "tst_handshake.moc"
