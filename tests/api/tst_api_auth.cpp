// Token rules of PRODUCT.md sections 2 and 5 on the server as shipped: the
// admin token guards every /api/* route (known or not), and the client token
// every WebSocket handshake. Raw HTTP/1.1, so the exact Authorization header
// sent and every response header are under the test's control.
//
// Choice (PRODUCT.md guards only /api/*): "/", "/health" and "/metrics" stay
// open with an admin token configured. The console holds no data (it asks
// for the client token itself), health checks and Prometheus scrapers
// usually carry no credentials, and /metrics shows counts only, no peers,
// payloads or tokens.

#include "apitestsupport.h"

#include <QLoggingCategory>
#include <QTemporaryDir>

class TestApiAuth : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<Switchboard> m_server;
    quint16 m_port = 0;

    static constexpr const char *WwwAuthenticate = "Bearer realm=\"switchboard\"";

    void verify401(const HttpReply &r)
    {
        QVERIFY(r.complete);
        QCOMPARE(r.status, 401);
        QCOMPARE(r.header("www-authenticate"), QByteArray(WwwAuthenticate));
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.object().value("status").toInt(), 401);
        QVERIFY2(!r.object().value("error").toString().isEmpty(), r.body.constData());
    }

private slots:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("switchboard.*.info=false"));
        QVERIFY(m_dir.isValid());
        ServerConfig config;
        config.port = 0;
        config.workerThreads = 1;
        config.stateFile = m_dir.filePath("methods.json");
        config.adminToken = QStringLiteral("T");
        config.clientToken = QStringLiteral("C");
        config.limits.shutdownGraceMs = 500;
        QString error;
        m_server = startSwitchboard(config, &error);
        QVERIFY2(m_server, qPrintable(error));
        m_port = portOf(*m_server);
    }

    void cleanupTestCase()
    {
        if (m_server)
            QVERIFY(stopSwitchboard(*m_server));
        m_server.reset();
    }

    void adminApi_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("authorizedStatus"); // with "Authorization: Bearer T"
        QTest::newRow("GET connections") << QByteArray("GET") << QByteArray("/api/connections") << QByteArray() << 200;
        QTest::newRow("GET methods") << QByteArray("GET") << QByteArray("/api/methods") << QByteArray() << 200;
        QTest::newRow("GET traffic") << QByteArray("GET") << QByteArray("/api/traffic?after=0") << QByteArray() << 200;
        QTest::newRow("GET traffic bad query") << QByteArray("GET") << QByteArray("/api/traffic?after=x") << QByteArray() << 400;
        QTest::newRow("GET refused") << QByteArray("GET") << QByteArray("/api/refused") << QByteArray() << 200;
        QTest::newRow("PATCH method") << QByteArray("PATCH") << QByteArray("/api/methods/echo")
                                      << QByteArray(R"({"enabled":true})") << 200;
        QTest::newRow("PATCH unknown method") << QByteArray("PATCH") << QByteArray("/api/methods/nosuch")
                                              << QByteArray(R"({"enabled":true})") << 404;
        QTest::newRow("PATCH bad body") << QByteArray("PATCH") << QByteArray("/api/methods/echo")
                                        << QByteArray("{}") << 400;
        QTest::newRow("GET unknown api") << QByteArray("GET") << QByteArray("/api/x") << QByteArray() << 404;
        QTest::newRow("GET deep unknown api") << QByteArray("GET") << QByteArray("/api/x/y/z") << QByteArray() << 404;
        QTest::newRow("GET api slash") << QByteArray("GET") << QByteArray("/api/") << QByteArray() << 404;
        QTest::newRow("POST connections") << QByteArray("POST") << QByteArray("/api/connections") << QByteArray("{}") << 404;
        // The server API (PRODUCT.md section 7).
        QTest::newRow("POST publish") << QByteArray("POST") << QByteArray("/api/publish")
                                      << QByteArray(R"({"topic":"t","data":1})") << 200;
        QTest::newRow("POST publish bad body") << QByteArray("POST") << QByteArray("/api/publish")
                                               << QByteArray(R"({"topic":""})") << 400;
        QTest::newRow("GET publish") << QByteArray("GET") << QByteArray("/api/publish") << QByteArray() << 404;
        QTest::newRow("GET topics") << QByteArray("GET") << QByteArray("/api/topics") << QByteArray() << 200;
        QTest::newRow("POST notify unknown") << QByteArray("POST") << QByteArray("/api/connections/999/notify")
                                             << QByteArray(R"({"method":"m"})") << 404;
        QTest::newRow("POST notify not an id") << QByteArray("POST") << QByteArray("/api/connections/x/notify")
                                               << QByteArray(R"({"method":"m"})") << 404;
        QTest::newRow("POST close unknown") << QByteArray("POST") << QByteArray("/api/connections/999/close")
                                            << QByteArray() << 404;
    }
    void adminApi()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, body);
        QFETCH(int, authorizedStatus);

        // No Authorization header.
        verify401(httpExchange(m_port, method, target, {}, body));
        if (QTest::currentTestFailed())
            return;
        // Wrong tokens and wrong schemes.
        for (const QByteArray &authorization : {QByteArray("Bearer wrong"), QByteArray("Bearer TT"),
                                                 QByteArray("Bearer t"), QByteArray("Bearer C"),
                                                 QByteArray("Bearer"), QByteArray("Bearer "),
                                                 QByteArray("Basic VDo="), QByteArray("T")}) {
            verify401(httpExchange(m_port, method, target, {{"Authorization", authorization}}, body));
            if (QTest::currentTestFailed()) {
                qWarning() << "Authorization:" << authorization;
                return;
            }
        }
        // A token in the query does not count for the admin API.
        const QByteArray withQuery = target + (target.contains('?') ? "&token=T" : "?token=T");
        verify401(httpExchange(m_port, method, withQuery, {}, body));
        if (QTest::currentTestFailed())
            return;

        const HttpReply ok = httpExchange(m_port, method, target, {{"Authorization", "Bearer T"}}, body);
        QVERIFY(ok.complete);
        QCOMPARE(ok.status, authorizedStatus);
        QVERIFY(ok.header("www-authenticate").isNull());
        QVERIFY2(ok.json().isObject() || ok.json().isArray(), ok.body.constData());
        // The scheme is case-insensitive (RFC 9110 section 11.1).
        QCOMPARE(httpExchange(m_port, method, target, {{"authorization", "bearer T"}}, body).status, authorizedStatus);
    }

    // The server API on a live connection: without the admin token nothing
    // reaches the client; with it, the notification and the close do.
    void serverApiOnALiveConnection()
    {
        RpcClient client;
        QVERIFY(client.open(wsUrlOf(*m_server, "/?token=C"), "jsonrpc"));
        const QList<ConnectionInfo> live = m_server->host()->connections()->snapshot();
        QCOMPARE(live.size(), 1);
        const QByteArray base = "/api/connections/" + QByteArray::number(live.first().id);
        const QByteArray notify = R"({"method":"hi"})";
        for (const HttpHeaders &headers : {HttpHeaders{}, HttpHeaders{{"Authorization", "Bearer wrong"}},
                                           HttpHeaders{{"Authorization", "Bearer C"}}}) {
            verify401(httpExchange(m_port, "POST", base + "/notify", headers, notify));
            verify401(httpExchange(m_port, "POST", base + "/close", headers, "{}"));
            verify401(httpExchange(m_port, "POST", "/api/publish", headers, R"({"topic":"t"})"));
            verify401(httpExchange(m_port, "GET", "/api/topics", headers));
        }
        QVERIFY(client.takeWhere([](const QJsonValue &) { return true; }, 300).isNull());
        QVERIFY(client.isConnected());

        const HttpHeaders admin{{"Authorization", "Bearer T"}};
        QCOMPARE(httpExchange(m_port, "POST", base + "/notify", admin, notify).object(),
                 (QJsonObject{{"sent", true}}));
        QCOMPARE(parseJsonText(client.takeWhere([](const QJsonValue &) { return true; })),
                 QJsonValue(QJsonObject{{"jsonrpc", "2.0"}, {"method", "hi"}}));
        QCOMPARE(httpExchange(m_port, "POST", base + "/close", admin, R"({"code":4003})").object(),
                 (QJsonObject{{"closing", true}}));
        QVERIFY(client.waitForDisconnected());
        QCOMPARE(client.closeCode(), 4003);
        QTRY_COMPARE(m_server->host()->connections()->count(), 0);
    }

    void openRoutes_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("contentType");
        QTest::newRow("console") << QByteArray("/") << QByteArray("text/html; charset=utf-8");
        QTest::newRow("health") << QByteArray("/health") << QByteArray("application/json");
        QTest::newRow("metrics") << QByteArray("/metrics") << QByteArray("text/plain; version=0.0.4; charset=utf-8");
    }
    void openRoutes()
    {
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, contentType);
        for (const HttpHeaders &headers : {HttpHeaders{}, HttpHeaders{{"Authorization", "Bearer wrong"}}}) {
            const HttpReply r = httpExchange(m_port, "GET", target, headers);
            QVERIFY(r.complete);
            QCOMPARE(r.status, 200);
            QCOMPARE(r.header("content-type"), contentType);
            QVERIFY(r.header("www-authenticate").isNull());
        }
        // Outside /api, an unknown path is a plain 404, token or not.
        const HttpReply missing = httpExchange(m_port, "GET", target + "nope/");
        QCOMPARE(missing.status, 404);
    }

    void clientTokenHandshake()
    {
        // Without it: 401 with a challenge, and a refusal recorded as "token".
        HttpReply r = httpExchange(m_port, "GET", "/", upgradeHeaders("jsonrpc"));
        verify401(r);
        if (QTest::currentTestFailed())
            return;
        // The admin token is not the client token.
        QCOMPARE(httpExchange(m_port, "GET", "/", upgradeHeaders("jsonrpc", {{"Authorization", "Bearer T"}})).status, 401);
        QCOMPARE(httpExchange(m_port, "GET", "/?token=wrong", upgradeHeaders("jsonrpc")).status, 401);

        // ?token=C and Authorization: Bearer C open it.
        r = httpExchange(m_port, "GET", "/?token=C", upgradeHeaders("jsonrpc"));
        QVERIFY(r.complete);
        QCOMPARE(r.status, 101);
        QCOMPARE(r.header("sec-websocket-protocol"), QByteArray("jsonrpc"));
        r = httpExchange(m_port, "GET", "/path", upgradeHeaders("dm-rpc", {{"Authorization", "Bearer C"}}));
        QVERIFY(r.complete);
        QCOMPARE(r.status, 101);
        QCOMPARE(r.header("sec-websocket-protocol"), QByteArray("dm-rpc"));

        const HttpReply refused = httpExchange(m_port, "GET", "/api/refused", {{"Authorization", "Bearer T"}});
        QCOMPARE(refused.status, 200);
        const QJsonArray list = refused.array();
        QVERIFY(list.size() >= 3);
        for (const QJsonValue &v : list) {
            QCOMPARE(v.toObject().value("cause").toString(), QStringLiteral("token"));
            QCOMPARE(v.toObject().value("status").toInt(), 401);
        }

        // A real client with the token calls through.
        RpcClient client;
        QVERIFY(client.open(wsUrlOf(*m_server, "/?token=C"), "jsonrpc"));
        QCOMPARE(client.call("echo", QJsonArray{"ok"}).value("result"), QJsonValue(QJsonArray{"ok"}));
        RpcClient bearer;
        QVERIFY(bearer.open(wsUrlOf(*m_server), "dm-rpc", {{"Authorization", "Bearer C"}}));
        QCOMPARE(bearer.callDm("echo", "ok"), (QJsonArray{"echo", "ok", 1}));
        RpcClient none;
        QVERIFY(!none.open(wsUrlOf(*m_server), "jsonrpc"));
    }
};

QTEST_MAIN(TestApiAuth)
#include "tst_api_auth.moc"
