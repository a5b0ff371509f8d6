// The plain-HTTP half of the shared port (PRODUCT.md section 5 and the
// framing the front does for QHttpServer): health and 404, keep-alive
// followed by an upgrade, pipelining, closing rules, body limits,
// 100-continue, idle timeout and malformed heads. All over raw sockets.
// GET/HEAD /health is answered by the front itself (HttpSide::frontAnswer):
// its answer must be byte for byte what QHttpServer sends.

#include "rawclient.h"
#include "testsupport.h"

#include <QLoggingCategory>

#include <atomic>

namespace {

ServerConfig baseConfig()
{
    ServerConfig config;
    config.port = 0;
    config.workerThreads = 1;
    return config;
}

// What QHttpServer 6.4 sends for GET /health, and so what the front sends.
const QByteArray HealthAnswer = "HTTP/1.1 200 OK\r\n"
                                "Content-Type: application/json\r\n"
                                "Content-Length: 15\r\n"
                                "\r\n"
                                "{\"status\":\"ok\"}";
const QByteArray HealthHead = HealthAnswer.left(HealthAnswer.indexOf("\r\n\r\n") + 4);

// Counts who answered each plain request, from the front's debug line
// ("... -> 200 (answered by the front)"). Messages come from the server's
// thread, hence the atomics.
class AnswerLog
{
public:
    AnswerLog()
    {
        s_byFront = 0;
        s_byQHttpServer = 0;
        s_previous = qInstallMessageHandler(&AnswerLog::handle);
        QLoggingCategory::setFilterRules(QStringLiteral("switchboard.http.debug=true"));
    }
    ~AnswerLog()
    {
        QLoggingCategory::setFilterRules(QString());
        qInstallMessageHandler(s_previous);
    }
    int byFront() const { return s_byFront; }
    int byQHttpServer() const { return s_byQHttpServer; }

private:
    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        if (type == QtDebugMsg && qstrcmp(context.category, "switchboard.http") == 0) {
            if (message.contains(QLatin1String(" -> ")))
                ++(message.endsWith(QLatin1String("(answered by the front)")) ? s_byFront : s_byQHttpServer);
            return;
        }
        s_previous(type, context, message);
    }
    static inline std::atomic<int> s_byFront{0};
    static inline std::atomic<int> s_byQHttpServer{0};
    static inline QtMessageHandler s_previous = nullptr;
};

} // namespace

class HttpSideTest : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;

    bool startServer(const ServerConfig &config)
    {
        return startEchoServer(m_server, config);
    }
    quint16 port() const { return m_server->port(); }

    static void verifyHealth(const RawResponse &r)
    {
        QCOMPARE(r.status, 200);
        QCOMPARE(r.reason, QByteArray("OK"));
        QVERIFY(r.hasContentLength);
        QCOMPARE(r.header("content-length").toLongLong(), qint64(r.body.size()));
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(QJsonDocument::fromJson(r.body).object(), (QJsonObject{{"status", "ok"}}));
    }

private slots:
    void init() { QVERIFY(startServer(baseConfig())); }
    void cleanup()
    {
        if (m_server)
            QVERIFY(m_server->stop());
        m_server.reset();
    }

    void health()
    {
        RawClient client;
        RawResponse r;
        QVERIFY(exchange(port(), httpRequest("GET", "/health"), &r, &client));
        verifyHealth(r);
        // Keep-alive by default: the connection stays usable.
        QVERIFY(!client.closedByServer());
        client.send(httpRequest("GET", "/health"));
        QVERIFY(client.readResponse(&r));
        verifyHealth(r);
    }

    void unknownPathIs404Json_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::newRow("GET /nope") << QByteArray("GET") << QByteArray("/nope");
        QTest::newRow("nested") << QByteArray("GET") << QByteArray("/a/b/c?x=1");
        QTest::newRow("health with a suffix") << QByteArray("GET") << QByteArray("/healthz");
        QTest::newRow("POST /health") << QByteArray("POST") << QByteArray("/health");
    }
    void unknownPathIs404Json()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        RawClient client;
        RawResponse r;
        QVERIFY(exchange(port(), httpRequest(method, target, {{"Content-Length", "0"}}), &r, &client));
        QCOMPARE(r.status, 404);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.header("content-length").toLongLong(), qint64(r.body.size()));
        QJsonParseError error;
        const QJsonObject body = QJsonDocument::fromJson(r.body, &error).object();
        QCOMPARE(error.error, QJsonParseError::NoError);
        QCOMPARE(body.value("status").toInt(), 404);
        const QByteArray path = target.left(target.indexOf('?') < 0 ? target.size() : target.indexOf('?'));
        QCOMPARE(body.value("error").toString(), QStringLiteral("no resource at %1").arg(QString::fromLatin1(path)));
        // A 404 does not end a keep-alive connection.
        client.send(httpRequest("GET", "/health"));
        QVERIFY(client.readResponse(&r));
        verifyHealth(r);
    }

    // A GET /health and then an upgrade on the same TCP connection: 101, and
    // WebSocket frames flow both ways.
    void keepAliveThenUpgrade()
    {
        RawClient client;
        RawResponse r;
        QVERIFY(exchange(port(), httpRequest("GET", "/health"), &r, &client));
        verifyHealth(r);

        client.send(UpgradeRequest().toBytes());
        QVERIFY2(client.readResponse(&r), client.buffer().constData());
        QCOMPARE(r.status, 101);
        QCOMPARE(r.header("sec-websocket-protocol"), QByteArray("echo.test"));
        QCOMPARE(r.header("sec-websocket-accept"), Ws::acceptFor(UpgradeRequest::DefaultKey));
        QVERIFY(client.buffer().isEmpty());

        client.send(Ws::encode(Ws::Text, "hello over keep-alive"));
        WsFrame frame;
        QVERIFY(client.readDataOrCloseFrame(&frame));
        QCOMPARE(frame.opcode, int(Ws::Text));
        QVERIFY(frame.fin);
        QVERIFY(!frame.masked); // server frames are never masked
        QCOMPARE(frame.payload, QByteArray("hello over keep-alive"));

        QTRY_COMPARE(m_server->host->connections()->count(), 1);
        QCOMPARE(m_server->host->connections()->snapshot().first().peerPort, client.socket()->localPort());

        // A clean close handshake.
        client.send(Ws::closeFrame(1000, "bye"));
        QVERIFY(client.readDataOrCloseFrame(&frame));
        QCOMPARE(frame.opcode, int(Ws::Close));
        QCOMPARE(frame.closeCode(), 1000);
        QVERIFY(client.waitForClose());
        QTRY_COMPARE(m_server->host->connections()->count(), 0);
    }

    // Three requests in one write: three responses, in order.
    void pipelining()
    {
        RawClient client;
        QVERIFY(client.connectTo(port()));
        client.send(httpRequest("GET", "/health") + httpRequest("GET", "/first-missing")
                    + httpRequest("POST", "/second-missing", {{"Content-Length", "4"}}, "abcd"));
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        verifyHealth(r);
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 404);
        QCOMPARE(r.json().value("error").toString(), QStringLiteral("no resource at /first-missing"));
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 404);
        QCOMPARE(r.json().value("error").toString(), QStringLiteral("no resource at /second-missing"));
        QVERIFY(client.buffer().isEmpty());
        QVERIFY(!client.closedByServer());
    }

    // Pipelined requests followed by an upgrade in the same write.
    void pipelinedRequestsThenUpgrade()
    {
        RawClient client;
        QVERIFY(client.connectTo(port()));
        client.send(httpRequest("GET", "/health") + httpRequest("GET", "/health") + UpgradeRequest().toBytes());
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        verifyHealth(r);
        QVERIFY(client.readResponse(&r));
        verifyHealth(r);
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 101);
        client.send(Ws::encode(Ws::Text, "after pipelining"));
        WsFrame frame;
        QVERIFY(client.readDataOrCloseFrame(&frame));
        QCOMPARE(frame.payload, QByteArray("after pipelining"));
    }

    // "Connection: close": the response, then the server closes.
    void connectionClose()
    {
        RawClient client;
        RawResponse r;
        QVERIFY(exchange(port(), httpRequest("GET", "/health", {{"Connection", "close"}}), &r, &client));
        verifyHealth(r);
        QVERIFY(client.waitForClose());
        QVERIFY(client.buffer().isEmpty());
    }

    // A request after "Connection: close" in the same write is not answered.
    void nothingAfterConnectionClose()
    {
        RawClient client;
        QVERIFY(client.connectTo(port()));
        client.send(httpRequest("GET", "/health", {{"Connection", "close"}}) + httpRequest("GET", "/health"));
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        verifyHealth(r);
        QVERIFY(client.waitForClose());
        QVERIFY2(client.buffer().isEmpty(), client.buffer().constData());
    }

    void http10_data()
    {
        QTest::addColumn<QByteArray>("connection");
        QTest::addColumn<bool>("staysOpen");
        QTest::newRow("no keep-alive") << QByteArray() << false;
        QTest::newRow("Connection: keep-alive") << QByteArray("keep-alive") << true;
    }
    void http10()
    {
        QFETCH(QByteArray, connection);
        QFETCH(bool, staysOpen);
        HeaderList headers;
        if (!connection.isEmpty())
            headers.append({"Connection", connection});
        RawClient client;
        RawResponse r;
        QVERIFY(exchange(port(), httpRequest("GET", "/health", headers, {}, "HTTP/1.0"), &r, &client));
        verifyHealth(r);
        if (!staysOpen) {
            QVERIFY(client.waitForClose());
            return;
        }
        client.send(httpRequest("GET", "/health", headers, {}, "HTTP/1.0"));
        QVERIFY(client.readResponse(&r));
        verifyHealth(r);
        QVERIFY(!client.closedByServer());
    }

    // A body over limits.maxHttpBodyBytes → 413, before the body is sent.
    void bodyTooLarge()
    {
        ServerConfig config = baseConfig();
        config.limits.maxHttpBodyBytes = 100;
        QVERIFY(startServer(config));

        RawClient atLimit;
        RawResponse r;
        QVERIFY(exchange(port(), httpRequest("POST", "/x", {{"Content-Length", "100"}}, QByteArray(100, 'b')), &r,
                         &atLimit));
        QCOMPARE(r.status, 404);

        RawClient over;
        QVERIFY(over.connectTo(port()));
        over.send(httpRequest("POST", "/x", {{"Content-Length", "101"}}));
        QVERIFY(over.readResponse(&r));
        verifyRefusal(over, r, 413);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.reason, QByteArray("Content Too Large"));

        // A huge declared length is refused at once, not waited for.
        RawClient huge;
        QVERIFY(huge.connectTo(port()));
        huge.send(httpRequest("POST", "/x", {{"Content-Length", "2000000000"}}, "some of it"));
        QVERIFY(huge.readResponse(&r, 2000));
        QCOMPARE(r.status, 413);
        QVERIFY(huge.waitForClose());
    }

    void chunkedIs411()
    {
        RawClient client;
        QVERIFY(client.connectTo(port()));
        client.send(httpRequest("POST", "/x", {{"Transfer-Encoding", "chunked"}}, "4\r\nabcd\r\n0\r\n\r\n"));
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        verifyRefusal(client, r, 411);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.reason, QByteArray("Length Required"));
    }

    void invalidContentLength_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("not a number") << QByteArray("ten");
        QTest::newRow("negative") << QByteArray("-1");
        QTest::newRow("two different") << QByteArray("3, 4");
    }
    void invalidContentLength()
    {
        QFETCH(QByteArray, value);
        RawClient client;
        QVERIFY(client.connectTo(port()));
        client.send(httpRequest("POST", "/x", {{"Content-Length", value}}, "abc"));
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        verifyRefusal(client, r, 400);
    }

    // "Expect: 100-continue": the interim answer comes before the body is sent.
    void expectContinue()
    {
        RawClient client;
        QVERIFY(client.connectTo(port()));
        client.send(httpRequest("POST", "/upload", {{"Content-Length", "11"}, {"Expect", "100-continue"}}));
        const QByteArray interim = "HTTP/1.1 100 Continue\r\n\r\n";
        QVERIFY(client.waitForBytes(interim.size(), 3000));
        QCOMPARE(client.buffer(), interim);
        client.takeAll();
        client.send("hello world");
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 404);
        QCOMPARE(r.json().value("error").toString(), QStringLiteral("no resource at /upload"));
        QVERIFY(client.buffer().isEmpty()); // exactly one interim answer

        // With the body already there, no interim answer is needed.
        client.send(httpRequest("POST", "/upload", {{"Content-Length", "2"}, {"Expect", "100-continue"}}, "ok"));
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 404);
        QVERIFY(client.buffer().isEmpty());
    }

    // An idle keep-alive connection is closed after limits.httpIdleTimeoutMs.
    void idleKeepAliveIsClosed()
    {
        ServerConfig config = baseConfig();
        config.limits.httpIdleTimeoutMs = 300;
        config.limits.headTimeoutMs = 5000;
        QVERIFY(startServer(config));
        RawClient client;
        RawResponse r;
        QVERIFY(exchange(port(), httpRequest("GET", "/health"), &r, &client));
        verifyHealth(r);
        QElapsedTimer idle;
        idle.start();
        QVERIFY(client.waitForClose(3000));
        QVERIFY2(idle.elapsed() >= 250, qPrintable(QString::number(idle.elapsed())));
        QVERIFY(client.buffer().isEmpty());
    }

    // Each request restarts the idle clock.
    void activeKeepAliveStaysOpen()
    {
        ServerConfig config = baseConfig();
        config.limits.httpIdleTimeoutMs = 400;
        QVERIFY(startServer(config));
        RawClient client;
        QVERIFY(client.connectTo(port()));
        QElapsedTimer total;
        total.start();
        for (int i = 0; i < 6; ++i) {
            client.send(httpRequest("GET", "/health"));
            RawResponse r;
            QVERIFY(client.readResponse(&r));
            verifyHealth(r);
            QTest::qWait(200); // client think time, half the idle limit
        }
        QVERIFY(total.elapsed() > 1000); // well past one idle period in all
        QVERIFY(!client.closedByServer());
    }

    void malformedRequest_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::newRow("request line without version") << QByteArray("GET /health\r\nHost: x\r\n\r\n");
        QTest::newRow("garbage") << QByteArray("HELLO\r\n\r\n");
        QTest::newRow("relative target") << QByteArray("GET health HTTP/1.1\r\nHost: x\r\n\r\n");
        QTest::newRow("HTTP/2.0") << QByteArray("GET /health HTTP/2.0\r\nHost: x\r\n\r\n");
        QTest::newRow("no Host in 1.1") << QByteArray("GET /health HTTP/1.1\r\n\r\n");
        QTest::newRow("bare LF") << QByteArray("GET /health HTTP/1.1\nHost: x\n\n");
        QTest::newRow("space before colon") << QByteArray("GET /health HTTP/1.1\r\nHost : x\r\n\r\n");
    }
    void malformedRequest()
    {
        QFETCH(QByteArray, request);
        RawClient client;
        QVERIFY(client.connectTo(port()));
        client.send(request);
        RawResponse r;
        QVERIFY2(client.readResponse(&r), client.buffer().constData());
        verifyRefusal(client, r, 400);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.reason, QByteArray("Bad Request"));
        // Plain HTTP errors are not refused handshakes.
        QVERIFY(m_server->host->connections()->refusalsAfter(0).isEmpty());
    }

    // A malformed request after a good one on the same connection.
    void malformedAfterKeepAlive()
    {
        RawClient client;
        RawResponse r;
        QVERIFY(exchange(port(), httpRequest("GET", "/health"), &r, &client));
        verifyHealth(r);
        client.send("BROKEN\r\n\r\n");
        QVERIFY(client.readResponse(&r));
        verifyRefusal(client, r, 400);
    }

    // The front's own answer to GET/HEAD /health: exact bytes, the same as
    // QHttpServer's (the same request with "Content-Length: 0" goes to
    // QHttpServer), and the same keep-alive / close rules.
    void healthAnsweredByTheFront_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("version");
        QTest::addColumn<HeaderList>("headers");
        QTest::addColumn<QByteArray>("expected");
        QTest::addColumn<bool>("staysOpen");
        QTest::newRow("GET") << QByteArray("GET") << QByteArray("HTTP/1.1") << HeaderList() << HealthAnswer << true;
        QTest::newRow("HEAD: no body") << QByteArray("HEAD") << QByteArray("HTTP/1.1") << HeaderList() << HealthHead
                                       << true;
        QTest::newRow("Connection: close") << QByteArray("GET") << QByteArray("HTTP/1.1")
                                           << HeaderList{{"Connection", "close"}} << HealthAnswer << false;
        QTest::newRow("HEAD, Connection: close") << QByteArray("HEAD") << QByteArray("HTTP/1.1")
                                                 << HeaderList{{"Connection", "close"}} << HealthHead << false;
        QTest::newRow("HTTP/1.0") << QByteArray("GET") << QByteArray("HTTP/1.0") << HeaderList() << HealthAnswer
                                  << false;
        QTest::newRow("HTTP/1.0 keep-alive") << QByteArray("GET") << QByteArray("HTTP/1.0")
                                             << HeaderList{{"Connection", "keep-alive"}} << HealthAnswer << true;
        QTest::newRow("other headers") << QByteArray("GET") << QByteArray("HTTP/1.1")
                                       << HeaderList{{"Accept", "*/*"}, {"User-Agent", "probe/1.0"}} << HealthAnswer
                                       << true;
    }
    void healthAnsweredByTheFront()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, version);
        QFETCH(HeaderList, headers);
        QFETCH(QByteArray, expected);
        QFETCH(bool, staysOpen);

        for (const bool throughQHttpServer : {false, true}) {
            HeaderList sent = headers;
            if (throughQHttpServer)
                sent.append(qMakePair(QByteArray("Content-Length"), QByteArray("0"))); // QHttpServer answers
            const QByteArray request = httpRequest(method, "/health", sent, {}, version);
            const QByteArray path = throughQHttpServer ? "QHttpServer" : "front";
            AnswerLog log;
            RawClient client;
            QVERIFY(client.connectTo(port()));
            // Twice on one connection when it stays open: keep-alive reuse.
            for (int round = 0; round < (staysOpen ? 2 : 1); ++round) {
                client.send(request);
                QVERIFY2(client.waitForBytes(expected.size()), path.constData());
                if (!staysOpen)
                    QVERIFY2(client.waitForClose(), path.constData());
                else
                    QTest::qWait(20); // nothing more may follow
                QCOMPARE(client.takeAll(), expected);
                QCOMPARE(client.closedByServer(), !staysOpen);
            }
            const int answers = staysOpen ? 2 : 1;
            QTRY_COMPARE(log.byFront() + log.byQHttpServer(), answers);
            QCOMPARE(log.byFront(), throughQHttpServer ? 0 : answers);
        }
    }

    // Requests QHttpServer might answer differently, or that need the front's
    // framing, are not answered by the front; their answers do not change.
    void unusualHealthRequestsGoToQHttpServer_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::newRow("query string") << httpRequest("GET", "/health?verbose=1") << 200;
        QTest::newRow("empty body") << httpRequest("GET", "/health", {{"Content-Length", "0"}}) << 200;
        QTest::newRow("a body") << httpRequest("GET", "/health", {{"Content-Length", "3"}}, "abc") << 200;
        QTest::newRow("Expect") << httpRequest("GET", "/health", {{"Content-Length", "2"}, {"Expect", "100-continue"}},
                                               "ok")
                                << 200;
        QTest::newRow("Upgrade: h2c") << httpRequest("GET", "/health", {{"Connection", "Upgrade"}, {"Upgrade", "h2c"}})
                                      << 200;
        QTest::newRow("percent-encoded") << httpRequest("GET", "/%68ealth") << 200;
        QTest::newRow("trailing slash") << httpRequest("GET", "/health/") << 404;
        QTest::newRow("POST") << httpRequest("POST", "/health", {{"Content-Length", "0"}}) << 404;
        QTest::newRow("OPTIONS") << httpRequest("OPTIONS", "/health") << 404;
    }
    void unusualHealthRequestsGoToQHttpServer()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        AnswerLog log;
        RawClient client;
        RawResponse r;
        QVERIFY(exchange(port(), request, &r, &client));
        QCOMPARE(r.status, status);
        if (status == 200)
            verifyHealth(r);
        QTRY_COMPARE(log.byQHttpServer(), 1);
        QCOMPARE(log.byFront(), 0);
        QVERIFY(!client.closedByServer());
    }

    // Pipelined health probes, mixed with a request for QHttpServer: all
    // answered, in order, on one connection that stays open.
    void pipelinedHealthAnsweredByTheFront()
    {
        AnswerLog log;
        RawClient client;
        QVERIFY(client.connectTo(port()));
        client.send(httpRequest("GET", "/health") + httpRequest("HEAD", "/health") + httpRequest("GET", "/nope")
                    + httpRequest("GET", "/health"));
        const QByteArray notFoundBody = R"({"error":"no resource at /nope","status":404})";
        const QByteArray expected = HealthAnswer + HealthHead
            + "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(notFoundBody.size()) + "\r\n\r\n" + notFoundBody + HealthAnswer;
        QVERIFY(client.waitForBytes(expected.size()));
        QTest::qWait(20); // nothing more may follow
        QCOMPARE(client.takeAll(), expected);
        QVERIFY(!client.closedByServer());
        QTRY_COMPARE(log.byFront(), 3);
        QCOMPARE(log.byQHttpServer(), 1);
    }

    // A health probe answered by the front and one QHttpServer answers on
    // one connection, then an upgrade: every stage still gets its bytes.
    void frontAnswerThenQHttpServerThenUpgrade()
    {
        RawClient client;
        QVERIFY(client.connectTo(port()));
        client.send(httpRequest("GET", "/health") + httpRequest("GET", "/health", {{"Content-Length", "0"}})
                    + UpgradeRequest().toBytes());
        for (int i = 0; i < 2; ++i) {
            RawResponse r;
            QVERIFY(client.readResponse(&r));
            QCOMPARE(r.head + "\r\n\r\n" + r.body, HealthAnswer);
        }
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 101);
        client.send(Ws::encode(Ws::Text, "after the front"));
        WsFrame frame;
        QVERIFY(client.readDataOrCloseFrame(&frame));
        QCOMPARE(frame.payload, QByteArray("after the front"));
    }

    // The front's idle timer runs after its own answers too.
    void idleAfterFrontAnswerIsClosed()
    {
        ServerConfig config = baseConfig();
        config.limits.httpIdleTimeoutMs = 300;
        config.limits.headTimeoutMs = 5000;
        QVERIFY(startServer(config));
        RawClient client;
        QVERIFY(client.connectTo(port()));
        client.send(httpRequest("HEAD", "/health"));
        QVERIFY(client.waitForBytes(HealthHead.size()));
        QElapsedTimer idle;
        idle.start();
        QVERIFY(client.waitForClose(3000));
        QVERIFY2(idle.elapsed() >= 250, qPrintable(QString::number(idle.elapsed())));
        QCOMPARE(client.takeAll(), HealthHead);
    }

    void headTooLarge()
    {
        RawClient client;
        QVERIFY(client.connectTo(port()));
        client.send(httpRequest("GET", "/health", {{"X-Big", QByteArray(17 * 1024, 'x')}}));
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        verifyRefusal(client, r, 431);
    }
};

QTEST_GUILESS_MAIN(HttpSideTest)
#include "tst_httpside.moc"
