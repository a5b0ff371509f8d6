// The HTTP side of the shared port (PRODUCT.md section 5) on the server as
// shipped: console, /health, the JSON 404, /api/connections, /api/methods
// and PATCH, /api/traffic, /api/refused, /metrics, and method switches that
// survive a restart. Real sockets only: raw HTTP/1.1 over QTcpSocket, and
// QWebSocket clients of `jsonrpc` and `dm-rpc`. No admin token here (the
// server listens on loopback); tst_api_auth covers the token rules.

#include "apitestsupport.h"

#include "rpc/methodregistry.h"
#include "rpc/catalogrpcengine.h"
#include "admin/trafficlog.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSet>
#include <QTcpSocket>
#include <QTemporaryDir>

class TestAdminApi : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<Switchboard> m_server;
    AdminClient m_api;

    ServerConfig configFor(const QString &stateFile) const
    {
        ServerConfig config;
        config.port = 0;
        config.workerThreads = 2;
        config.stateFile = stateFile; // never the user's real method switches
        config.limits.maxConnections = 16;
        config.limits.shutdownGraceMs = 500;
        return config;
    }

    QUrl ws(const QString &pathAndQuery = QStringLiteral("/")) const { return wsUrlOf(*m_server, pathAndQuery); }

    static QJsonObject byId(const QJsonArray &list, double id)
    {
        for (const QJsonValue &v : list) {
            if (v.toObject().value("id").toDouble() == id)
                return v.toObject();
        }
        return QJsonObject();
    }

    // One value of /metrics: the sample line "name{labels} value".
    static double metric(const QByteArray &text, const QByteArray &nameAndLabels, bool *found = nullptr)
    {
        for (const QByteArray &line : text.split('\n')) {
            if (line.startsWith(nameAndLabels + ' ')) {
                if (found)
                    *found = true;
                return line.mid(nameAndLabels.size() + 1).toDouble();
            }
        }
        if (found)
            *found = false;
        return -1;
    }

private slots:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("switchboard.*.info=false"));
        QVERIFY(m_dir.isValid());
        QString error;
        m_server = startSwitchboard(configFor(m_dir.filePath("methods.json")), &error);
        QVERIFY2(m_server, qPrintable(error));
        m_api.port = portOf(*m_server);
    }

    void cleanupTestCase()
    {
        if (m_server)
            QVERIFY(stopSwitchboard(*m_server));
        m_server.reset();
    }

    // Each test closes its clients; the next one starts with none (the
    // server notices closes on its worker threads, hence the wait).
    void cleanup()
    {
        QTRY_COMPARE(m_server->host()->connections()->count(), 0);
        for (const QString &name : m_server->engine()->methods()->names())
            m_server->engine()->methods()->setEnabled(name, true);
    }

    void consolePage()
    {
        const HttpReply r = m_api.get("/");
        QVERIFY(r.complete);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("content-type"), QByteArray("text/html; charset=utf-8"));
        QCOMPARE(r.header("content-length").toLongLong(), qint64(r.body.size()));
        QVERIFY2(r.body.contains("Switchboard console"), r.body.left(300).constData());
        QVERIFY(r.body.contains("new WebSocket("));
        QVERIFY(r.body.contains("jsonrpc"));
        QVERIFY(r.body.contains("dm-rpc"));
    }

    void health()
    {
        const HttpReply r = m_api.get("/health");
        QVERIFY(r.complete);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.object(), (QJsonObject{{"status", "ok"}}));
    }

    void notFound_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::newRow("unknown path") << QByteArray("GET") << QByteArray("/nope");
        QTest::newRow("nested unknown path") << QByteArray("GET") << QByteArray("/a/b/c?x=1");
        QTest::newRow("unknown api resource") << QByteArray("GET") << QByteArray("/api/nope");
        QTest::newRow("GET on a PATCH-only resource") << QByteArray("GET") << QByteArray("/api/methods/echo");
        QTest::newRow("POST health") << QByteArray("POST") << QByteArray("/health");
        QTest::newRow("DELETE connections") << QByteArray("DELETE") << QByteArray("/api/connections");
    }
    void notFound()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        const HttpReply r = httpExchange(m_api.port, method, target);
        QVERIFY(r.complete);
        QCOMPARE(r.status, 404);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        const QJsonObject body = r.object();
        QCOMPARE(body.value("status").toInt(), 404);
        QVERIFY2(!body.value("error").toString().isEmpty(), r.body.constData());
    }

    // HEAD of a page that GET serves. RFC 9110 section 9.3.2: the answer is
    // GET's without content, so on a kept-alive connection the next response
    // follows the head directly.
    void headHasNoBody()
    {
        QTcpSocket socket;
        QByteArray buffer;
        connect(&socket, &QTcpSocket::readyRead, this, [&] { buffer += socket.readAll(); });
        socket.connectToHost(QStringLiteral("127.0.0.1"), m_api.port);
        QVERIFY(socket.waitForConnected(5000));
        socket.write("HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QTRY_VERIFY(buffer.contains("\r\n\r\n"));
        const qsizetype headEnd = buffer.indexOf("\r\n\r\n") + 4;
        const QByteArray head = buffer.left(headEnd);
        // Then a GET on the same connection: its response must come next.
        socket.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QTRY_VERIFY(buffer.endsWith("{\"status\":\"ok\"}"));
        const QByteArray after = buffer.mid(headEnd);
        QVERIFY2(head.startsWith("HTTP/1.1 200 "), head.constData());
        QVERIFY2(after.startsWith("HTTP/1.1 200 "), after.left(120).constData());
    }

    void connectionsList()
    {
        RpcClient a;
        RpcClient b;
        QVERIFY(a.open(ws("/alpha?x=1"), "jsonrpc"));
        QVERIFY(b.open(ws("/beta/gamma"), "dm-rpc"));

        QJsonArray list;
        QTRY_COMPARE((list = m_api.connections()).size(), 2);
        const QJsonObject first = list.at(0).toObject();
        const QJsonObject second = list.at(1).toObject();
        QVERIFY(first.value("id").toDouble() < second.value("id").toDouble()); // oldest first
        const QJsonObject ca = first.value("subprotocol").toString() == "jsonrpc" ? first : second;
        const QJsonObject cb = first.value("subprotocol").toString() == "jsonrpc" ? second : first;
        QCOMPARE(ca.value("subprotocol").toString(), QStringLiteral("jsonrpc"));
        QCOMPARE(cb.value("subprotocol").toString(), QStringLiteral("dm-rpc"));
        QCOMPARE(ca.value("path").toString(), QStringLiteral("/alpha"));
        QCOMPARE(cb.value("path").toString(), QStringLiteral("/beta/gamma"));
        QCOMPARE(ca.value("peer").toString(), QStringLiteral("127.0.0.1:%1").arg(a.socket().localPort()));
        QCOMPARE(cb.value("peer").toString(), QStringLiteral("127.0.0.1:%1").arg(b.socket().localPort()));
        for (const QJsonObject &c : {ca, cb}) {
            QVERIFY(c.value("id").toDouble() >= 1);
            const QDateTime since = QDateTime::fromString(c.value("since").toString(), Qt::ISODateWithMs);
            QVERIFY2(since.isValid(), qPrintable(c.value("since").toString()));
            QVERIFY(qAbs(since.msecsTo(QDateTime::currentDateTimeUtc())) < 60'000);
            for (const char *counter : {"messagesIn", "messagesOut", "bytesIn", "bytesOut"}) {
                QVERIFY2(c.value(counter).isDouble(), counter);
                QCOMPARE(c.value(counter).toDouble(), 0.0);
            }
            QVERIFY(c.contains("lastActivity"));
            QVERIFY(c.contains("origin"));
            QVERIFY(c.contains("userAgent"));
            QCOMPARE(c.value("tls").toBool(true), false);
        }

        // Counters move with calls: messages and their exact payload bytes.
        QByteArray sent1, got1, sent2, got2;
        QCOMPARE(a.call("echo", QJsonArray{1, 2, 3}, &sent1, &got1).value("result"), QJsonValue(QJsonArray{1, 2, 3}));
        QCOMPARE(a.call("sum", QJsonArray{1, 2}, &sent2, &got2).value("result"), QJsonValue(3));
        QCOMPARE(b.callDm("echo", "hi"), (QJsonArray{"echo", "hi", 1}));

        const double idA = ca.value("id").toDouble();
        const double idB = cb.value("id").toDouble();
        QTRY_COMPARE(byId(m_api.connections(), idA).value("messagesOut").toDouble(), 2.0);
        QTRY_COMPARE(byId(m_api.connections(), idB).value("messagesOut").toDouble(), 1.0);
        const QJsonObject ca2 = byId(m_api.connections(), idA);
        QCOMPARE(ca2.value("messagesIn").toDouble(), 2.0);
        QCOMPARE(ca2.value("bytesIn").toDouble(), double(sent1.size() + sent2.size()));
        QCOMPARE(ca2.value("bytesOut").toDouble(), double(got1.size() + got2.size()));
        const QJsonObject cb2 = byId(m_api.connections(), idB);
        QCOMPARE(cb2.value("messagesIn").toDouble(), 1.0);
        QCOMPARE(cb2.value("bytesIn").toDouble(), double(QByteArray(R"(["echo","hi",1])").size()));
        QCOMPARE(cb2.value("bytesOut").toDouble(), double(QByteArray(R"(["echo","hi",1])").size()));

        // A closed connection leaves the list.
        b.socket().close();
        QTRY_COMPARE(m_api.connections().size(), 1);
        QCOMPARE(m_api.connections().at(0).toObject().value("id").toDouble(), idA);
    }

    void methodsList()
    {
        const HttpReply r = m_api.get("/api/methods");
        QVERIFY(r.complete);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        const QJsonArray list = r.array();
        QStringList names;
        for (const QJsonValue &v : list) {
            const QJsonObject m = v.toObject();
            names << m.value("name").toString();
            QVERIFY(m.value("enabled").isBool());
            QVERIFY(m.value("description").isString());
            const QJsonObject counters = m.value("counters").toObject();
            for (const char *c : {"calls", "refusals", "errors", "totalLatencyMs", "meanLatencyMs"})
                QVERIFY2(counters.value(c).isDouble(), c);
        }
        QCOMPARE(names, (QStringList{"echo", "sum", "time", "subscribe", "unsubscribe", "publish", "rpc.discover"}));

        // Counters: a call, a refusal (bad params), each counted once.
        const QJsonObject before = m_api.method("sum").value("counters").toObject();
        RpcClient client;
        QVERIFY(client.open(ws(), "jsonrpc"));
        QCOMPARE(client.call("sum", QJsonArray{2, 3}).value("result"), QJsonValue(5));
        QCOMPARE(client.call("sum", QJsonArray{"x"}).value("error").toObject().value("code").toInt(), -32602);
        const QJsonObject after = m_api.method("sum").value("counters").toObject();
        QCOMPARE(after.value("calls").toDouble(), before.value("calls").toDouble() + 2);
        QCOMPARE(after.value("refusals").toDouble(), before.value("refusals").toDouble() + 1);
        QCOMPARE(after.value("errors").toDouble(), before.value("errors").toDouble());
        QVERIFY(after.value("totalLatencyMs").toDouble() > before.value("totalLatencyMs").toDouble());
    }

    void patchTogglesLiveConnections()
    {
        // Both clients are connected BEFORE the switch: it must reach them.
        RpcClient json;
        RpcClient dm;
        QVERIFY(json.open(ws("/j"), "jsonrpc"));
        QVERIFY(dm.open(ws("/d"), "dm-rpc"));
        QCOMPARE(json.call("echo", QJsonArray{1}).value("result"), QJsonValue(QJsonArray{1}));
        QCOMPARE(dm.callDm("echo", 1), (QJsonArray{"echo", 1, 1}));

        HttpReply r = m_api.setEnabled("echo", false);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.object().value("name").toString(), QStringLiteral("echo"));
        QCOMPARE(r.object().value("enabled"), QJsonValue(false));
        QCOMPARE(m_api.method("echo").value("enabled"), QJsonValue(false));

        QByteArray reply;
        const QJsonObject off = json.call("echo", QJsonArray{2}, nullptr, &reply);
        QCOMPARE(off.value("error").toObject().value("code").toInt(), -32601);
        QCOMPARE(off.value("error").toObject().value("data"), QJsonValue(QJsonObject{{"reason", "disabled"}}));
        QVERIFY2(!off.contains("result"), reply.constData());
        QVERIFY(json.isConnected()); // jsonrpc: errors are replies

        // Other methods are untouched.
        QCOMPARE(json.call("sum", QJsonArray{1, 1}).value("result"), QJsonValue(2));

        dm.send(R"(["echo",2,2])");
        QVERIFY(dm.waitForDisconnected());
        QCOMPARE(dm.closeCode(), 1008);
        QVERIFY2(dm.socket().closeReason().contains("echo"), qPrintable(dm.socket().closeReason()));
        QCOMPARE(dm.socket().closeReason().toUtf8().size() <= 123, true);

        // Switching it off again is not an error; the state stays.
        QCOMPARE(m_api.setEnabled("echo", false).status, 200);

        r = m_api.setEnabled("echo", true);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.object().value("enabled"), QJsonValue(true));
        QCOMPARE(json.call("echo", QJsonArray{3}).value("result"), QJsonValue(QJsonArray{3}));
        RpcClient dm2;
        QVERIFY(dm2.open(ws(), "dm-rpc"));
        QCOMPARE(dm2.callDm("echo", 3), (QJsonArray{"echo", 3, 1}));
    }

    void patchErrors_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::newRow("unknown method") << QByteArray("/api/methods/nosuch") << QByteArray(R"({"enabled":false})") << 404;
        QTest::newRow("not JSON") << QByteArray("/api/methods/echo") << QByteArray("enabled=false") << 400;
        QTest::newRow("truncated JSON") << QByteArray("/api/methods/echo") << QByteArray(R"({"enabled":fal)") << 400;
        QTest::newRow("empty body") << QByteArray("/api/methods/echo") << QByteArray("") << 400;
        QTest::newRow("string") << QByteArray("/api/methods/echo") << QByteArray(R"({"enabled":"no"})") << 400;
        QTest::newRow("number") << QByteArray("/api/methods/echo") << QByteArray(R"({"enabled":0})") << 400;
        QTest::newRow("null") << QByteArray("/api/methods/echo") << QByteArray(R"({"enabled":null})") << 400;
        QTest::newRow("empty object") << QByteArray("/api/methods/echo") << QByteArray("{}") << 400;
        QTest::newRow("extra key") << QByteArray("/api/methods/echo") << QByteArray(R"({"enabled":false,"x":1})") << 400;
        QTest::newRow("wrong key") << QByteArray("/api/methods/echo") << QByteArray(R"({"enable":false})") << 400;
        QTest::newRow("array") << QByteArray("/api/methods/echo") << QByteArray("[false]") << 400;
        QTest::newRow("bare bool") << QByteArray("/api/methods/echo") << QByteArray("false") << 400;
    }
    void patchErrors()
    {
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        const HttpReply r = m_api.patch(target, body);
        QVERIFY(r.complete);
        QCOMPARE(r.status, status);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.object().value("status").toInt(), status);
        QVERIFY2(!r.object().value("error").toString().isEmpty(), r.body.constData());
        // Nothing switched.
        QCOMPARE(m_api.method("echo").value("enabled"), QJsonValue(true));
        QVERIFY(m_server->engine()->methods()->isEnabled("echo"));
    }

    void switchesSurviveRestart()
    {
        // A server of its own, so stopping it leaves the suite's server alone.
        const QString stateFile = m_dir.filePath("restart/methods.json");
        QString error;
        std::unique_ptr<Switchboard> first = startSwitchboard(configFor(stateFile), &error);
        QVERIFY2(first, qPrintable(error));
        AdminClient api{portOf(*first), {}};
        QCOMPARE(api.setEnabled("sum", false).status, 200);
        QCOMPARE(api.setEnabled("time", false).status, 200);
        QCOMPARE(api.setEnabled("time", true).status, 200); // the last word counts
        QVERIFY(QFile::exists(stateFile));
        QVERIFY(stopSwitchboard(*first));
        first.reset();

        std::unique_ptr<Switchboard> second = startSwitchboard(configFor(stateFile), &error);
        QVERIFY2(second, qPrintable(error));
        api.port = portOf(*second);
        QCOMPARE(api.method("sum").value("enabled"), QJsonValue(false));
        QCOMPARE(api.method("sum").value("enabledByDefault"), QJsonValue(true));
        QCOMPARE(api.method("time").value("enabled"), QJsonValue(true));
        QCOMPARE(api.method("echo").value("enabled"), QJsonValue(true));
        RpcClient client;
        QVERIFY(client.open(wsUrlOf(*second), "jsonrpc"));
        QCOMPARE(client.call("sum", QJsonArray{1}).value("error").toObject().value("data"),
                 QJsonValue(QJsonObject{{"reason", "disabled"}}));
        QVERIFY(client.call("time").value("result").isString());

        // And back on, which also persists.
        QCOMPARE(api.setEnabled("sum", true).status, 200);
        QCOMPARE(client.call("sum", QJsonArray{1}).value("result"), QJsonValue(1));
        client.socket().close();
        QVERIFY(stopSwitchboard(*second));
        second.reset();
        std::unique_ptr<Switchboard> third = startSwitchboard(configFor(stateFile), &error);
        QVERIFY2(third, qPrintable(error));
        api.port = portOf(*third);
        QCOMPARE(api.method("sum").value("enabled"), QJsonValue(true));
        QVERIFY(stopSwitchboard(*third));
    }

    // A damaged state file does not keep the server from starting: it is
    // logged and ignored (the catalog's switches hold), and the next PATCH
    // writes a good one.
    void damagedStateFile()
    {
        const QString stateFile = m_dir.filePath("damaged/methods.json");
        QVERIFY(QDir().mkpath(QFileInfo(stateFile).absolutePath()));
        QFile file(stateFile);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{\"methods\": {\"echo\": fal");
        file.close();

        QTest::ignoreMessage(QtWarningMsg, QRegularExpression("method state .*methods.json"));
        QString error;
        std::unique_ptr<Switchboard> server = startSwitchboard(configFor(stateFile), &error);
        QVERIFY2(server, qPrintable(error));
        const AdminClient api{portOf(*server), {}};
        QCOMPARE(api.method("echo").value("enabled"), QJsonValue(true));
        QCOMPARE(api.setEnabled("echo", false).status, 200);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(QJsonDocument::fromJson(file.readAll()).object().value("methods").toObject().value("echo"),
                 QJsonValue(false));
        QVERIFY(stopSwitchboard(*server));
    }

    // The dashboard's "restart": the same Switchboard's host stopped and
    // started again. The admin API comes back on the new listener, over the
    // same methods, counters and log.
    void sameServerRestarts()
    {
        QString error;
        std::unique_ptr<Switchboard> server = startSwitchboard(configFor(m_dir.filePath("again/methods.json")), &error);
        QVERIFY2(server, qPrintable(error));
        {
            RpcClient client;
            QVERIFY(client.open(wsUrlOf(*server), "jsonrpc"));
            QCOMPARE(client.call("echo", QJsonArray{1}).value("result"), QJsonValue(QJsonArray{1}));
            const AdminClient api{portOf(*server), {}};
            QCOMPARE(api.setEnabled("sum", false).status, 200);
        }
        QVERIFY(stopSwitchboard(*server));
        QSignalSpy started(server->host(), &ServerHost::started);
        server->host()->start();
        QTRY_COMPARE(started.count(), 1);
        const AdminClient api{portOf(*server), {}};
        QCOMPARE(api.method("echo").value("counters").toObject().value("calls").toDouble(), 1.0);
        QCOMPARE(api.method("sum").value("enabled"), QJsonValue(false));
        QCOMPARE(api.get("/health").status, 200);
        QCOMPARE(api.connections().size(), 0);
        RpcClient client;
        QVERIFY(client.open(wsUrlOf(*server), "jsonrpc"));
        QCOMPARE(client.call("echo", QJsonArray{2}).value("result"), QJsonValue(QJsonArray{2}));
        QTRY_VERIFY(api.get("/api/traffic").object().value("events").toArray().size() >= 4);
        client.socket().close();
        QVERIFY(stopSwitchboard(*server));
    }

    void trafficAfter()
    {
        RpcClient client;
        QVERIFY(client.open(ws("/traffic"), "jsonrpc"));
        QJsonArray list;
        QTRY_COMPARE((list = m_api.connections()).size(), 1);
        const double connectionId = list.at(0).toObject().value("id").toDouble();

        const quint64 mark = m_server->traffic()->latestId();
        QByteArray sent, received;
        QCOMPARE(client.call("echo", QJsonObject{{"k", "v"}}, &sent, &received).value("result"),
                 QJsonValue(QJsonObject{{"k", "v"}}));
        QCOMPARE(m_api.setEnabled("echo", false).status, 200);
        QByteArray sentOff, receivedOff;
        QCOMPARE(client.call("echo", QJsonArray{}, &sentOff, &receivedOff).value("error").toObject().value("code").toInt(),
                 -32601);

        // The log is written after the reply is sent: wait for all four.
        HttpReply r;
        QTRY_COMPARE((r = m_api.get("/api/traffic?after=" + QByteArray::number(mark))).object().value("events").toArray().size(), 4);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        const QJsonObject body = r.object();
        QCOMPARE(body.value("dropped").toDouble(), 0.0);
        QCOMPARE(body.value("more"), QJsonValue(false));
        const QJsonArray events = body.value("events").toArray();
        QCOMPARE(body.value("nextAfter").toDouble(), events.last().toObject().value("id").toDouble());
        double previous = double(mark);
        for (const QJsonValue &v : events) {
            const QJsonObject e = v.toObject();
            QVERIFY(e.value("id").toDouble() > previous); // ids after N, increasing
            previous = e.value("id").toDouble();
            QCOMPARE(e.value("connection").toDouble(), connectionId);
            QCOMPARE(e.value("subprotocol").toString(), QStringLiteral("jsonrpc"));
            QCOMPARE(e.value("method").toString(), QStringLiteral("echo"));
            QVERIFY(QDateTime::fromString(e.value("time").toString(), Qt::ISODateWithMs).isValid());
        }
        const QJsonObject request = events.at(0).toObject();
        QCOMPARE(request.value("direction").toString(), QStringLiteral("in"));
        QCOMPARE(request.value("kind").toString(), QStringLiteral("request"));
        QCOMPARE(request.value("requestId").toString(), QStringLiteral("1"));
        QCOMPARE(request.value("verdict").toString(), QStringLiteral("accepted"));
        QCOMPARE(request.value("payload").toString().toUtf8(), sent);
        QCOMPARE(request.value("size").toDouble(), double(sent.size()));
        QVERIFY(request.value("latencyUs").isNull());

        const QJsonObject response = events.at(1).toObject();
        QCOMPARE(response.value("direction").toString(), QStringLiteral("out"));
        QCOMPARE(response.value("kind").toString(), QStringLiteral("response"));
        QCOMPARE(response.value("requestId").toString(), QStringLiteral("1"));
        QCOMPARE(response.value("verdict").toString(), QStringLiteral("accepted"));
        QCOMPARE(response.value("payload").toString().toUtf8(), received);
        QVERIFY(response.value("latencyUs").isDouble());
        QVERIFY(response.value("latencyUs").toDouble() >= 0);

        const QJsonObject refused = events.at(2).toObject();
        QCOMPARE(refused.value("kind").toString(), QStringLiteral("request"));
        QCOMPARE(refused.value("requestId").toString(), QStringLiteral("2"));
        QCOMPARE(refused.value("verdict").toString(), QStringLiteral("disabled"));
        const QJsonObject error = events.at(3).toObject();
        QCOMPARE(error.value("direction").toString(), QStringLiteral("out"));
        QCOMPARE(error.value("kind").toString(), QStringLiteral("error"));
        QCOMPARE(error.value("requestId").toString(), QStringLiteral("2"));
        QCOMPARE(error.value("verdict").toString(), QStringLiteral("disabled"));
        QCOMPARE(error.value("payload").toString().toUtf8(), receivedOff);
        QVERIFY(error.value("latencyUs").toDouble() >= 0);

        // Paging: limit, more, next.
        const QJsonObject page = m_api.get("/api/traffic?after=" + QByteArray::number(mark) + "&limit=3").object();
        QCOMPARE(page.value("events").toArray().size(), 3);
        QCOMPARE(page.value("more"), QJsonValue(true));
        const QJsonObject rest = m_api.get("/api/traffic?after=" + QByteArray::number(page.value("nextAfter").toInteger())).object();
        QCOMPARE(rest.value("events").toArray().size(), 1);
        QCOMPARE(rest.value("events").toArray().at(0), events.at(3));
        QCOMPARE(rest.value("more"), QJsonValue(false));
        // Nothing after the newest.
        const QJsonObject none = m_api.get("/api/traffic?after=" + QByteArray::number(previous)).object();
        QCOMPARE(none.value("events").toArray().size(), 0);
        // No `after`: from the oldest held event.
        const QJsonObject all = m_api.get("/api/traffic?limit=10000").object();
        QVERIFY(all.value("events").toArray().size() >= 4);
        QCOMPARE(all.value("events").toArray().at(0).toObject().value("id").toDouble(), 1.0);
    }

    void trafficBadQuery_data()
    {
        QTest::addColumn<QByteArray>("query");
        QTest::newRow("after not a number") << QByteArray("after=abc");
        QTest::newRow("after negative") << QByteArray("after=-1");
        QTest::newRow("after empty") << QByteArray("after=");
        QTest::newRow("after fraction") << QByteArray("after=1.5");
        QTest::newRow("limit zero") << QByteArray("limit=0");
        QTest::newRow("limit too big") << QByteArray("limit=10001");
        QTest::newRow("limit not a number") << QByteArray("after=0&limit=ten");
    }
    void trafficBadQuery()
    {
        QFETCH(QByteArray, query);
        const HttpReply r = m_api.get("/api/traffic?" + query);
        QVERIFY(r.complete);
        QCOMPARE(r.status, 400);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.object().value("status").toInt(), 400);
        QVERIFY(!r.object().value("error").toString().isEmpty());
    }

    void refusedHandshakes()
    {
        // A real client offering only a subprotocol the server lacks.
        const HttpReply r = httpExchange(m_api.port, "GET", "/refuse-me?q=1",
                                         upgradeHeaders("nope, nada", {{"User-Agent", "tst_adminapi"}}));
        QVERIFY(r.complete);
        QCOMPARE(r.status, 400);
        HttpHeaders oldVersion = upgradeHeaders("jsonrpc");
        oldVersion[3].second = "8"; // Sec-WebSocket-Version
        const HttpReply v = httpExchange(m_api.port, "GET", "/old", oldVersion);
        QCOMPARE(v.status, 426);

        const HttpReply list = m_api.get("/api/refused");
        QCOMPARE(list.status, 200);
        QCOMPARE(list.header("content-type"), QByteArray("application/json"));
        const QJsonArray refusals = list.array();
        QVERIFY(refusals.size() >= 2);
        const QJsonObject sub = refusals.at(refusals.size() - 2).toObject();
        QCOMPARE(sub.value("cause").toString(), QStringLiteral("subprotocol"));
        QCOMPARE(sub.value("status").toInt(), 400);
        QCOMPARE(sub.value("path").toString(), QStringLiteral("/refuse-me"));
        QCOMPARE(sub.value("offeredSubprotocols"), QJsonValue(QJsonArray{"nope", "nada"}));
        QCOMPARE(sub.value("userAgent").toString(), QStringLiteral("tst_adminapi"));
        QVERIFY(sub.value("peer").toString().startsWith("127.0.0.1:"));
        QVERIFY(sub.value("reason").toString().contains("jsonrpc"));
        QVERIFY(QDateTime::fromString(sub.value("time").toString(), Qt::ISODateWithMs).isValid());
        const QJsonObject ver = refusals.last().toObject();
        QCOMPARE(ver.value("cause").toString(), QStringLiteral("version"));
        QCOMPARE(ver.value("status").toInt(), 426);
        QVERIFY(ver.value("id").toDouble() > sub.value("id").toDouble());
    }

    void metrics()
    {
        RpcClient client;
        QVERIFY(client.open(ws(), "jsonrpc"));
        const int calls = 5;
        for (int i = 0; i < calls; ++i)
            QCOMPARE(client.call("echo", QJsonArray{i}).value("result"), QJsonValue(QJsonArray{i}));
        QCOMPARE(client.call("nosuch").value("error").toObject().value("code").toInt(), -32601);
        // A refusal for the subprotocol counter.
        QCOMPARE(httpExchange(m_api.port, "GET", "/", upgradeHeaders("nope")).status, 400);
        QTRY_COMPARE(m_server->host()->connections()->count(), 1);

        const HttpReply r = m_api.get("/metrics");
        QVERIFY(r.complete);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("content-type"), QByteArray("text/plain; version=0.0.4; charset=utf-8"));
        const QByteArray text = r.body;
        QVERIFY(text.endsWith('\n'));

        // Text exposition format 0.0.4: HELP/TYPE comments, samples
        // `name{label="value",...} value`, one TYPE per family before its samples.
        static const QRegularExpression comment(
            QStringLiteral(R"(^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$)"));
        static const QRegularExpression sampleLine(QStringLiteral(
            R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")"
            R"((?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? )"
            R"((-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)$)"));
        QString family;
        QSet<QString> typed;
        QSet<QString> seenSamples;
        const QList<QByteArray> lines = text.chopped(1).split('\n');
        for (const QByteArray &raw : lines) {
            const QString line = QString::fromUtf8(raw);
            if (line.startsWith('#')) {
                const QRegularExpressionMatch m = comment.match(line);
                QVERIFY2(m.hasMatch(), qPrintable(line));
                if (m.captured(1) == QLatin1String("TYPE")) {
                    QVERIFY2(!typed.contains(m.captured(2)), qPrintable("TYPE twice: " + line));
                    typed.insert(m.captured(2));
                    family = m.captured(2);
                    QVERIFY2(QStringList({"counter", "gauge", "histogram", "summary", "untyped"}).contains(m.captured(3)),
                             qPrintable(line));
                }
                continue;
            }
            const QRegularExpressionMatch m = sampleLine.match(line);
            QVERIFY2(m.hasMatch(), qPrintable("not a sample line: " + line));
            QCOMPARE(m.captured(1), family); // grouped under its family's TYPE
            QVERIFY2(!seenSamples.contains(m.captured(1) + m.captured(2)), qPrintable("duplicate: " + line));
            seenSamples.insert(m.captured(1) + m.captured(2));
            QVERIFY(m.captured(1).startsWith("switchboard_"));
        }

        bool found = false;
        QCOMPARE(metric(text, "switchboard_connections", &found), 1.0);
        QVERIFY(found);
        QVERIFY(metric(text, "switchboard_connections_opened_total") >= 1);
        QVERIFY(metric(text, "switchboard_messages_total{direction=\"in\"}") >= calls + 1);
        QVERIFY(metric(text, "switchboard_messages_total{direction=\"out\"}") >= calls + 1);
        QVERIFY(metric(text, "switchboard_message_bytes_total{direction=\"in\"}") > 0);
        QVERIFY(metric(text, "switchboard_rpc_calls_total{method=\"echo\"}") >= calls);
        QVERIFY(metric(text, "switchboard_rpc_unknown_method_calls_total") >= 1);
        QVERIFY(metric(text, "switchboard_handshakes_refused_total{cause=\"subprotocol\"}") >= 1);
        QCOMPARE(metric(text, "switchboard_method_enabled{method=\"echo\"}"), 1.0);
        QVERIFY(metric(text, "switchboard_traffic_log_events") >= 2 * calls);

        // The same numbers as the registries.
        QCOMPARE(metric(text, "switchboard_rpc_calls_total{method=\"echo\"}"),
                 double(m_server->engine()->methods()->status("echo")->counters.calls));

        // Gauges follow switches and closes.
        QCOMPARE(m_api.setEnabled("echo", false).status, 200);
        client.socket().close();
        QTRY_COMPARE(m_server->host()->connections()->count(), 0);
        const QByteArray later = m_api.get("/metrics").body;
        QCOMPARE(metric(later, "switchboard_method_enabled{method=\"echo\"}"), 0.0);
        QCOMPARE(metric(later, "switchboard_connections"), 0.0);
        QVERIFY(metric(later, "switchboard_messages_total{direction=\"in\"}")
                >= metric(text, "switchboard_messages_total{direction=\"in\"}")); // totals keep closed connections
    }
};

QTEST_MAIN(TestAdminApi)
#include "tst_adminapi.moc"
