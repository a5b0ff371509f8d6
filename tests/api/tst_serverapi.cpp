// The server API of PRODUCT.md section 7 on the server as shipped: what an
// application backend uses to reach clients. POST /api/publish,
// POST /api/connections/{id}/notify and /close, GET /api/topics: exact
// answers (status and body), what real `jsonrpc` and `dm-rpc` WebSocket
// clients receive, the traffic log's "server" events, and hostile bodies.
// The admin token rules for these routes are in tst_api_auth.

#include "apitestsupport.h"

#include "admin/trafficlog.h"
#include "rpc/catalogrpcengine.h"
#include "rpc/topichub.h"

#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QTemporaryDir>

class TestServerApi : public QObject
{
    Q_OBJECT

private:
    static constexpr qint64 BodyLimit = 64 * 1024;

    QTemporaryDir m_dir;
    std::unique_ptr<Switchboard> m_server;
    AdminClient m_api;
    int m_nextPath = 0;

    QUrl ws(const QString &path) const { return wsUrlOf(*m_server, path); }

    HttpReply post(const QByteArray &target, const QByteArray &body) const
    {
        return httpExchange(m_api.port, "POST", target, {{"Content-Type", "application/json"}}, body);
    }

    // Opens `client` on a path of its own and returns its connection id (0: failed).
    quint64 open(RpcClient &client, const QString &protocol)
    {
        const QString path = QStringLiteral("/serverapi/%1").arg(++m_nextPath);
        if (!client.open(ws(path), protocol))
            return 0;
        quint64 id = 0;
        (void)QTest::qWaitFor([&] {
            for (const QJsonValue &c : m_api.connections()) {
                if (c.toObject().value("path").toString() == path)
                    id = quint64(c.toObject().value("id").toInteger());
            }
            return id != 0;
        }, 5000);
        return id;
    }

    static QByteArray notifyTarget(quint64 id) { return "/api/connections/" + QByteArray::number(id) + "/notify"; }
    static QByteArray closeTarget(quint64 id) { return "/api/connections/" + QByteArray::number(id) + "/close"; }

    // The traffic log's events after `mark` with direction "server".
    QJsonArray serverEvents(quint64 mark) const
    {
        QJsonArray out;
        const QJsonArray all = m_api.get("/api/traffic?limit=10000&after=" + QByteArray::number(mark))
                                   .object().value("events").toArray();
        for (const QJsonValue &e : all) {
            if (e.toObject().value("direction").toString() == QLatin1String("server"))
                out.append(e);
        }
        return out;
    }

    // An answer of exactly `status` with the JSON object `body`.
    static void verifyJson(const HttpReply &r, int status, const QJsonObject &body)
    {
        QVERIFY(r.complete);
        QVERIFY2(r.status == status, r.describe().constData());
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.header("content-length").toLongLong(), qint64(r.body.size()));
        QCOMPARE(r.object(), body);
    }
    static QJsonObject error(int status, const QString &message)
    {
        return QJsonObject{{"error", message}, {"status", status}};
    }

    static QByteArray compact(const QJsonValue &value)
    {
        const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
        return wrapped.mid(1, wrapped.size() - 2);
    }

private slots:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("switchboard.*.info=false"));
        QVERIFY(m_dir.isValid());
        ServerConfig config;
        config.port = 0;
        config.workerThreads = 2;
        config.stateFile = m_dir.filePath("methods.json");
        config.limits.maxConnections = 32;
        config.limits.maxHttpBodyBytes = BodyLimit;
        config.limits.shutdownGraceMs = 500;
        QString why;
        m_server = startSwitchboard(config, &why);
        QVERIFY2(m_server, qPrintable(why));
        m_api.port = portOf(*m_server);
    }

    void cleanupTestCase()
    {
        if (m_server)
            QVERIFY(stopSwitchboard(*m_server));
        m_server.reset();
    }

    // Every test closes its clients; their subscriptions go with them.
    void cleanup()
    {
        QTRY_COMPARE(m_server->host()->connections()->count(), 0);
        QTRY_COMPARE(m_server->engine()->topics()->topicCount(), 0);
    }

    void publishReachesSubscribersOfBothSubprotocols()
    {
        RpcClient json, dm, bystander;
        QVERIFY(open(json, "jsonrpc"));
        QVERIFY(open(dm, "dm-rpc"));
        QVERIFY(open(bystander, "jsonrpc"));
        QCOMPARE(json.call("subscribe", QJsonObject{{"topic", "news"}}).value("result"), QJsonValue(true));
        QCOMPARE(dm.callDm("subscribe", QJsonObject{{"topic", "news"}}), (QJsonArray{"subscribe", true, 1}));
        QCOMPARE(bystander.call("subscribe", QJsonObject{{"topic", "other"}}).value("result"), QJsonValue(true));

        const quint64 mark = m_server->traffic()->latestId();
        const QJsonObject data{{"x", QJsonArray{1, 2.5, "three"}}, {"nested", QJsonObject{{"ok", true}}}};
        verifyJson(post("/api/publish", compact(QJsonObject{{"topic", "news"}, {"data", data}})), 200,
                   QJsonObject{{"reached", 2}});

        const auto isEvent = [](const QJsonValue &v) {
            return (v.isObject() && v.toObject().value("method") == QJsonValue("event"))
                || (v.isArray() && v.toArray().at(0) == QJsonValue("event"));
        };
        const QJsonObject params{{"topic", "news"}, {"data", data}};
        const QByteArray fromApiJson = json.takeWhere(isEvent);
        QCOMPARE(parseJsonText(fromApiJson),
                 QJsonValue(QJsonObject{{"jsonrpc", "2.0"}, {"method", "event"}, {"params", params}}));
        const QByteArray fromApiDm = dm.takeWhere(isEvent);
        QCOMPARE(parseJsonText(fromApiDm), QJsonValue(QJsonArray{"event", params, QJsonValue::Null}));

        // Byte for byte what the publish method sends.
        QCOMPARE(bystander.call("publish", QJsonObject{{"topic", "news"}, {"data", data}}).value("result"),
                 QJsonValue(2));
        QCOMPARE(json.takeWhere(isEvent), fromApiJson);
        QCOMPARE(dm.takeWhere(isEvent), fromApiDm);
        // Nothing for a connection that did not subscribe to the topic.
        QVERIFY(bystander.takeWhere(isEvent, 300).isNull());

        // The traffic log: one "server" event for the publish (the pushes to
        // each subscriber are logged as "out" by their connections).
        const QJsonArray events = serverEvents(mark);
        QCOMPARE(events.size(), 1);
        const QJsonObject e = events.at(0).toObject();
        QCOMPARE(e.value("direction").toString(), QStringLiteral("server"));
        QCOMPARE(e.value("connection").toInteger(), qint64(0));
        QCOMPARE(e.value("kind").toString(), QStringLiteral("push"));
        QCOMPARE(e.value("method").toString(), QStringLiteral("event"));
        QCOMPARE(parseJsonText(e.value("payload").toString().toUtf8()), QJsonValue(params));
        QCOMPARE(e.value("size").toInteger(), qint64(e.value("payload").toString().toUtf8().size()));
        QCOMPARE(e.value("reason").toString(), QStringLiteral("server API publish to topic news: 2 reached"));
        QVERIFY(e.value("verdict").isNull());
        QVERIFY(e.value("requestId").isNull());
    }

    void publishWithoutDataSendsNull()
    {
        RpcClient json, dm;
        QVERIFY(open(json, "jsonrpc"));
        QVERIFY(open(dm, "dm-rpc"));
        QCOMPARE(json.call("subscribe", QJsonObject{{"topic", "t"}}).value("result"), QJsonValue(true));
        QCOMPARE(dm.callDm("subscribe", QJsonObject{{"topic", "t"}}), (QJsonArray{"subscribe", true, 1}));
        verifyJson(post("/api/publish", R"({"topic":"t"})"), 200, QJsonObject{{"reached", 2}});
        const QJsonObject params{{"topic", "t"}, {"data", QJsonValue::Null}};
        QCOMPARE(parseJsonText(json.takeWhere([](const QJsonValue &v) { return v.isObject(); })),
                 QJsonValue(QJsonObject{{"jsonrpc", "2.0"}, {"method", "event"}, {"params", params}}));
        QCOMPARE(parseJsonText(dm.takeWhere([](const QJsonValue &v) { return v.isArray(); })),
                 QJsonValue(QJsonArray{"event", params, QJsonValue::Null}));
        // Explicit null and scalars as data.
        verifyJson(post("/api/publish", R"({"topic":"t","data":null})"), 200, QJsonObject{{"reached", 2}});
        verifyJson(post("/api/publish", R"({"data":"s","topic":"t"})"), 200, QJsonObject{{"reached", 2}});
        QCOMPARE(parseJsonText(dm.takeWhere([](const QJsonValue &v) { return v.isArray(); })),
                 QJsonValue(QJsonArray{"event", params, QJsonValue::Null}));
        QCOMPARE(parseJsonText(dm.takeWhere([](const QJsonValue &v) { return v.isArray(); })),
                 QJsonValue(QJsonArray{"event", QJsonObject{{"topic", "t"}, {"data", "s"}}, QJsonValue::Null}));
        // A topic nobody listens to.
        const quint64 mark = m_server->traffic()->latestId();
        verifyJson(post("/api/publish", R"({"topic":"nobody"})"), 200, QJsonObject{{"reached", 0}});
        const QJsonArray events = serverEvents(mark);
        QCOMPARE(events.size(), 1);
        QCOMPARE(events.at(0).toObject().value("reason").toString(),
                 QStringLiteral("server API publish to topic nobody: 0 reached"));
    }

    void publishBadBodies_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("message"); // exact, or a prefix ending in "…"
        const QString notTopic = QStringLiteral("\"topic\" must be a string of 1 to 200 characters");
        QTest::newRow("empty") << QByteArray() << QStringLiteral("the body is empty; it must be a JSON object");
        QTest::newRow("blank") << QByteArray(" \r\n") << QStringLiteral("the body is empty; it must be a JSON object");
        QTest::newRow("not JSON") << QByteArray("topic=t") << QStringLiteral("the body is not JSON: …");
        QTest::newRow("truncated") << QByteArray(R"({"topic":"t")") << QStringLiteral("the body is not JSON: …");
        QTest::newRow("array") << QByteArray(R"(["t"])") << QStringLiteral("the body must be a JSON object");
        QTest::newRow("string") << QByteArray(R"("t")") << QStringLiteral("the body must be a JSON object");
        QTest::newRow("number") << QByteArray("1") << QStringLiteral("the body must be a JSON object");
        QTest::newRow("no topic") << QByteArray(R"({"data":1})") << QStringLiteral("\"topic\" is missing (a non-empty string)");
        QTest::newRow("empty object") << QByteArray("{}") << QStringLiteral("\"topic\" is missing (a non-empty string)");
        QTest::newRow("empty topic") << QByteArray(R"({"topic":""})") << notTopic;
        QTest::newRow("null topic") << QByteArray(R"({"topic":null})") << notTopic;
        QTest::newRow("number topic") << QByteArray(R"({"topic":7})") << notTopic;
        QTest::newRow("array topic") << QByteArray(R"({"topic":["t"]})") << notTopic;
        QTest::newRow("long topic") << QByteArray("{\"topic\":\"" + QByteArray(201, 'a') + "\"}") << notTopic;
        QTest::newRow("unknown key") << QByteArray(R"({"topic":"t","extra":1})")
                                     << QStringLiteral("unknown key \"extra\" (allowed: \"topic\", \"data\")");
        QTest::newRow("misspelt key") << QByteArray(R"({"topics":"t"})")
                                      << QStringLiteral("unknown key \"topics\" (allowed: \"topic\", \"data\")");
    }
    void publishBadBodies()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, message);
        RpcClient json;
        QVERIFY(open(json, "jsonrpc"));
        QCOMPARE(json.call("subscribe", QJsonObject{{"topic", "t"}}).value("result"), QJsonValue(true));
        const quint64 mark = m_server->traffic()->latestId();

        const HttpReply r = post("/api/publish", body);
        QVERIFY(r.complete);
        QCOMPARE(r.status, 400);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.object().value("status").toInt(), 400);
        const QString got = r.object().value("error").toString();
        if (message.endsWith(QChar(0x2026)))
            QVERIFY2(got.startsWith(message.chopped(1)) && got.size() > message.size(), qPrintable(got));
        else
            QCOMPARE(got, message);
        // Nothing was sent, nothing logged.
        QVERIFY(json.takeWhere([](const QJsonValue &v) { return v.isObject(); }, 200).isNull());
        QCOMPARE(serverEvents(mark).size(), 0);
    }

    void notifyBothSubprotocols()
    {
        RpcClient json, dm;
        const quint64 jsonId = open(json, "jsonrpc");
        const quint64 dmId = open(dm, "dm-rpc");
        QVERIFY(jsonId && dmId);
        const quint64 mark = m_server->traffic()->latestId();
        const auto any = [](const QJsonValue &) { return true; };

        const QJsonObject params{{"a", 1}, {"list", QJsonArray{true, QJsonValue::Null}}};
        verifyJson(post(notifyTarget(jsonId), compact(QJsonObject{{"method", "app.hello"}, {"params", params}})), 200,
                   QJsonObject{{"sent", true}});
        QCOMPARE(parseJsonText(json.takeWhere(any)),
                 QJsonValue(QJsonObject{{"jsonrpc", "2.0"}, {"method", "app.hello"}, {"params", params}}));
        verifyJson(post(notifyTarget(dmId), compact(QJsonObject{{"method", "app.hello"}, {"params", params}})), 200,
                   QJsonObject{{"sent", true}});
        QCOMPARE(parseJsonText(dm.takeWhere(any)), QJsonValue(QJsonArray{"app.hello", params, QJsonValue::Null}));

        // Without params: a notification without "params"; dm-rpc's null.
        verifyJson(post(notifyTarget(jsonId), R"({"method":"ping"})"), 200, QJsonObject{{"sent", true}});
        const QByteArray bare = json.takeWhere(any);
        QCOMPARE(parseJsonText(bare), QJsonValue(QJsonObject{{"jsonrpc", "2.0"}, {"method", "ping"}}));
        QVERIFY2(!bare.contains("params"), bare.constData());
        verifyJson(post(notifyTarget(dmId), R"({"method":"ping"})"), 200, QJsonObject{{"sent", true}});
        QCOMPARE(parseJsonText(dm.takeWhere(any)), QJsonValue(QJsonArray{"ping", QJsonValue::Null, QJsonValue::Null}));

        // Params of any JSON type, passed on as given.
        verifyJson(post(notifyTarget(jsonId), R"({"params":"text","method":"s"})"), 200, QJsonObject{{"sent", true}});
        QCOMPARE(parseJsonText(json.takeWhere(any)),
                 QJsonValue(QJsonObject{{"jsonrpc", "2.0"}, {"method", "s"}, {"params", "text"}}));
        verifyJson(post(notifyTarget(dmId), R"({"method":"n","params":[1,2]})"), 200, QJsonObject{{"sent", true}});
        QCOMPARE(parseJsonText(dm.takeWhere(any)), QJsonValue(QJsonArray{"n", QJsonArray{1, 2}, QJsonValue::Null}));

        // The traffic log: one "server" event per notify, on the target connection.
        const QJsonArray events = serverEvents(mark);
        QCOMPARE(events.size(), 6);
        const struct
        {
            quint64 id;
            const char *subprotocol;
            const char *method;
            QJsonObject payload;
        } expected[] = {
            {jsonId, "jsonrpc", "app.hello", QJsonObject{{"method", "app.hello"}, {"params", params}}},
            {dmId, "dm-rpc", "app.hello", QJsonObject{{"method", "app.hello"}, {"params", params}}},
            {jsonId, "jsonrpc", "ping", QJsonObject{{"method", "ping"}}},
            {dmId, "dm-rpc", "ping", QJsonObject{{"method", "ping"}}},
            {jsonId, "jsonrpc", "s", QJsonObject{{"method", "s"}, {"params", "text"}}},
            {dmId, "dm-rpc", "n", QJsonObject{{"method", "n"}, {"params", QJsonArray{1, 2}}}},
        };
        for (int i = 0; i < 6; ++i) {
            const QJsonObject e = events.at(i).toObject();
            QCOMPARE(e.value("direction").toString(), QStringLiteral("server"));
            QCOMPARE(quint64(e.value("connection").toInteger()), expected[i].id);
            QCOMPARE(e.value("subprotocol").toString(), QString::fromLatin1(expected[i].subprotocol));
            QCOMPARE(e.value("kind").toString(), QStringLiteral("push"));
            QCOMPARE(e.value("method").toString(), QString::fromLatin1(expected[i].method));
            QCOMPARE(parseJsonText(e.value("payload").toString().toUtf8()), QJsonValue(expected[i].payload));
            QCOMPARE(e.value("reason").toString(), QStringLiteral("server API notify to connection %1").arg(expected[i].id));
        }
        // The clients are still connected and served.
        QCOMPARE(json.call("echo", QJsonArray{5}).value("result"), QJsonValue(QJsonArray{5}));
        QCOMPARE(dm.callDm("echo", 6), (QJsonArray{"echo", 6, 1}));
    }

    void notifyUnknownConnection_data()
    {
        QTest::addColumn<QByteArray>("id");
        QTest::newRow("unknown") << QByteArray("999999");
        QTest::newRow("zero") << QByteArray("0");
        QTest::newRow("word") << QByteArray("abc");
        QTest::newRow("negative") << QByteArray("-1");
        QTest::newRow("plus") << QByteArray("+1");
        QTest::newRow("fraction") << QByteArray("1.5");
        QTest::newRow("hex") << QByteArray("0x1");
        QTest::newRow("over 64 bits") << QByteArray("99999999999999999999999");
        QTest::newRow("max 64 bits") << QByteArray("18446744073709551615");
    }
    void notifyUnknownConnection()
    {
        QFETCH(QByteArray, id);
        // A live connection, so that "no connection" is not just "none at all".
        RpcClient json;
        QVERIFY(open(json, "jsonrpc"));
        const quint64 mark = m_server->traffic()->latestId();
        const QString message = QStringLiteral("no connection %1").arg(QString::fromLatin1(id));
        verifyJson(post("/api/connections/" + id + "/notify", R"({"method":"m"})"), 404, error(404, message));
        verifyJson(post("/api/connections/" + id + "/close", R"({"code":4000})"), 404, error(404, message));
        verifyJson(post("/api/connections/" + id + "/close", QByteArray()), 404, error(404, message));
        QVERIFY(json.takeWhere([](const QJsonValue &) { return true; }, 200).isNull());
        QVERIFY(json.isConnected());
        QCOMPARE(serverEvents(mark).size(), 0);
    }

    void notifyBadBodies_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("message"); // exact, or a prefix ending in "…"
        const QString badMethod = QStringLiteral("\"method\" must be a non-empty string");
        QTest::newRow("empty") << QByteArray() << QStringLiteral("the body is empty; it must be a JSON object");
        QTest::newRow("not JSON") << QByteArray("method=m") << QStringLiteral("the body is not JSON: …");
        QTest::newRow("truncated") << QByteArray(R"({"method":"m","params":[)") << QStringLiteral("the body is not JSON: …");
        QTest::newRow("array") << QByteArray(R"(["m"])") << QStringLiteral("the body must be a JSON object");
        QTest::newRow("null") << QByteArray("null") << QStringLiteral("the body must be a JSON object");
        QTest::newRow("no method") << QByteArray(R"({"params":1})") << QStringLiteral("\"method\" is missing (a non-empty string)");
        QTest::newRow("empty method") << QByteArray(R"({"method":""})") << badMethod;
        QTest::newRow("null method") << QByteArray(R"({"method":null})") << badMethod;
        QTest::newRow("number method") << QByteArray(R"({"method":1})") << badMethod;
        QTest::newRow("object method") << QByteArray(R"({"method":{}})") << badMethod;
        QTest::newRow("unknown key") << QByteArray(R"({"method":"m","id":1})")
                                     << QStringLiteral("unknown key \"id\" (allowed: \"method\", \"params\")");
        QTest::newRow("jsonrpc key") << QByteArray(R"({"jsonrpc":"2.0","method":"m"})")
                                     << QStringLiteral("unknown key \"jsonrpc\" (allowed: \"method\", \"params\")");
    }
    void notifyBadBodies()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, message);
        RpcClient json;
        const quint64 id = open(json, "jsonrpc");
        QVERIFY(id);
        const quint64 mark = m_server->traffic()->latestId();
        const HttpReply r = post(notifyTarget(id), body);
        QVERIFY(r.complete);
        QCOMPARE(r.status, 400);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.object().value("status").toInt(), 400);
        const QString got = r.object().value("error").toString();
        if (message.endsWith(QChar(0x2026)))
            QVERIFY2(got.startsWith(message.chopped(1)) && got.size() > message.size(), qPrintable(got));
        else
            QCOMPARE(got, message);
        QVERIFY(json.takeWhere([](const QJsonValue &) { return true; }, 200).isNull());
        QCOMPARE(serverEvents(mark).size(), 0);
    }

    void closeBothSubprotocols_data()
    {
        QTest::addColumn<QString>("subprotocol");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("reason");
        // 123 bytes of UTF-8: 61 two-byte characters and one ASCII one.
        const QString longest = QString(61, QChar(0xe9)) + QLatin1Char('x');
        QVERIFY(longest.toUtf8().size() == 123);
        const QByteArray longestJson = compact(QJsonObject{{"code", 4999}, {"reason", longest}});
        for (const char *protocol : {"jsonrpc", "dm-rpc"}) {
            const QString p = QString::fromLatin1(protocol);
            QTest::addRow("%s empty body", protocol) << p << QByteArray() << 1000 << QString();
            QTest::addRow("%s empty object", protocol) << p << QByteArray("{}") << 1000 << QString();
            QTest::addRow("%s 4001 with reason", protocol) << p << QByteArray(R"({"code":4001,"reason":"bye now"})")
                                                           << 4001 << QStringLiteral("bye now");
            QTest::addRow("%s 4000", protocol) << p << QByteArray(R"({"code":4000})") << 4000 << QString();
            QTest::addRow("%s 1000 with reason", protocol) << p << QByteArray(R"({"reason":"done","code":1000})")
                                                           << 1000 << QStringLiteral("done");
            QTest::addRow("%s reason only", protocol) << p << QByteArray(R"({"reason":"later"})") << 1000
                                                      << QStringLiteral("later");
            QTest::addRow("%s 123-byte reason", protocol) << p << longestJson << 4999 << longest;
        }
    }
    void closeBothSubprotocols()
    {
        QFETCH(QString, subprotocol);
        QFETCH(QByteArray, body);
        QFETCH(int, code);
        QFETCH(QString, reason);
        RpcClient client;
        const quint64 id = open(client, subprotocol);
        QVERIFY(id);
        const quint64 mark = m_server->traffic()->latestId();

        verifyJson(post(closeTarget(id), body), 200, QJsonObject{{"closing", true}});
        QVERIFY(client.waitForDisconnected());
        QCOMPARE(client.closeCode(), code);
        QCOMPARE(client.socket().closeReason(), reason);
        // Gone from the list, and a second close finds nothing.
        QTRY_VERIFY(!m_server->host()->connections()->connection(id));
        verifyJson(post(closeTarget(id), body), 404, error(404, QStringLiteral("no connection %1").arg(id)));

        const QJsonArray events = serverEvents(mark);
        QCOMPARE(events.size(), 1);
        const QJsonObject e = events.at(0).toObject();
        QCOMPARE(e.value("direction").toString(), QStringLiteral("server"));
        QCOMPARE(quint64(e.value("connection").toInteger()), id);
        QCOMPARE(e.value("subprotocol").toString(), subprotocol);
        QCOMPARE(e.value("kind").toString(), QStringLiteral("close"));
        QVERIFY(e.value("method").isNull());
        QCOMPARE(parseJsonText(e.value("payload").toString().toUtf8()),
                 QJsonValue(QJsonObject{{"code", code}, {"reason", reason}}));
        QCOMPARE(e.value("reason").toString(),
                 reason.isEmpty() ? QStringLiteral("server API close: %1").arg(code)
                                  : QStringLiteral("server API close: %1 %2").arg(code).arg(reason));
    }

    void closeBadBodies_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("message"); // exact, or a prefix ending in "…"
        const QString badCode = QStringLiteral("\"code\" must be 1000 or an integer from 4000 to 4999");
        for (const char *code : {"999", "1001", "1006", "1011", "3999", "5000", "65536", "-4000", "4000.5", "1e300",
                                 "\"4000\"", "null", "true", "[4000]"})
            QTest::addRow("code %s", code) << QByteArray("{\"code\":") + code + '}' << badCode;
        // 124 bytes of UTF-8.
        const QByteArray tooLong = compact(QJsonObject{{"reason", QString(62, QChar(0xe9))}});
        QTest::newRow("reason 124 bytes") << tooLong
                                          << QStringLiteral("\"reason\" is 124 bytes of UTF-8; at most 123 fit in a close frame");
        QTest::newRow("reason 1000 bytes") << QByteArray("{\"reason\":\"" + QByteArray(1000, 'r') + "\"}")
                                           << QStringLiteral("\"reason\" is 1000 bytes of UTF-8; at most 123 fit in a close frame");
        QTest::newRow("reason number") << QByteArray(R"({"reason":1})") << QStringLiteral("\"reason\" must be a string");
        QTest::newRow("reason null") << QByteArray(R"({"reason":null})") << QStringLiteral("\"reason\" must be a string");
        QTest::newRow("unknown key") << QByteArray(R"({"code":4000,"why":"x"})")
                                     << QStringLiteral("unknown key \"why\" (allowed: \"code\", \"reason\")");
        QTest::newRow("not JSON") << QByteArray("code=4000") << QStringLiteral("the body is not JSON: …");
        QTest::newRow("array") << QByteArray("[4000]") << QStringLiteral("the body must be a JSON object");
        QTest::newRow("number") << QByteArray("4000") << QStringLiteral("the body must be a JSON object");
    }
    void closeBadBodies()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, message);
        RpcClient dm;
        const quint64 id = open(dm, "dm-rpc");
        QVERIFY(id);
        const quint64 mark = m_server->traffic()->latestId();
        const HttpReply r = post(closeTarget(id), body);
        QVERIFY(r.complete);
        QVERIFY2(r.status == 400, r.describe().constData());
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.object().value("status").toInt(), 400);
        const QString got = r.object().value("error").toString();
        if (message.endsWith(QChar(0x2026)))
            QVERIFY2(got.startsWith(message.chopped(1)) && got.size() > message.size(), qPrintable(got));
        else
            QCOMPARE(got, message);
        // Still open and served.
        QCOMPARE(dm.callDm("echo", "still here"), (QJsonArray{"echo", "still here", 1}));
        QVERIFY(dm.isConnected());
        QCOMPARE(serverEvents(mark).size(), 0);
    }

    void topicsList()
    {
        verifyJson(m_api.get("/api/topics"), 200, QJsonObject{{"topics", QJsonArray{}}});
        RpcClient a, b;
        QVERIFY(open(a, "jsonrpc"));
        QVERIFY(open(b, "dm-rpc"));
        for (const char *topic : {"zeta", "alpha", "Beta", "m\u00fcnchen"})
            QCOMPARE(a.call("subscribe", QJsonObject{{"topic", QString::fromUtf8(topic)}}).value("result"), QJsonValue(true));
        QCOMPARE(b.callDm("subscribe", QJsonObject{{"topic", "alpha"}}), (QJsonArray{"subscribe", true, 1}));
        QCOMPARE(b.callDm("subscribe", QJsonObject{{"topic", "zeta"}}), (QJsonArray{"subscribe", true, 2}));
        const auto entry = [](const QString &topic, int n) { return QJsonObject{{"topic", topic}, {"subscribers", n}}; };
        verifyJson(m_api.get("/api/topics"), 200,
                   QJsonObject{{"topics", QJsonArray{entry("Beta", 1), entry("alpha", 2), entry("m\u00fcnchen", 1),
                                                     entry("zeta", 2)}}});
        // Unsubscribing and leaving update the counts; empty topics go.
        QCOMPARE(a.call("unsubscribe", QJsonObject{{"topic", "Beta"}}).value("result"), QJsonValue(true));
        b.socket().close();
        QVERIFY(b.waitForDisconnected());
        QTRY_COMPARE(m_api.get("/api/topics").object(),
                     (QJsonObject{{"topics", QJsonArray{entry("alpha", 1), entry("m\u00fcnchen", 1), entry("zeta", 1)}}}));
        // Publishing does not create topics.
        verifyJson(post("/api/publish", R"({"topic":"new"})"), 200, QJsonObject{{"reached", 0}});
        QCOMPARE(m_api.get("/api/topics").object().value("topics").toArray().size(), 3);
    }

    // Another HTTP method on a server-API path answers as on every other
    // /api resource: the JSON 404.
    void wrongHttpMethods_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::newRow("GET publish") << QByteArray("GET") << QByteArray("/api/publish");
        QTest::newRow("PUT publish") << QByteArray("PUT") << QByteArray("/api/publish");
        QTest::newRow("POST topics") << QByteArray("POST") << QByteArray("/api/topics");
        QTest::newRow("DELETE topics") << QByteArray("DELETE") << QByteArray("/api/topics");
        QTest::newRow("GET notify") << QByteArray("GET") << QByteArray("/api/connections/1/notify");
        QTest::newRow("PATCH close") << QByteArray("PATCH") << QByteArray("/api/connections/1/close");
        QTest::newRow("POST no action") << QByteArray("POST") << QByteArray("/api/connections/1");
        QTest::newRow("POST other action") << QByteArray("POST") << QByteArray("/api/connections/1/kick");
        QTest::newRow("POST notify deeper") << QByteArray("POST") << QByteArray("/api/connections/1/notify/x");
    }
    void wrongHttpMethods()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        const HttpReply r = httpExchange(m_api.port, method, target, {}, QByteArray(R"({"topic":"t","method":"m"})"));
        QVERIFY(r.complete);
        QCOMPARE(r.status, 404);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.object().value("status").toInt(), 404);
        QVERIFY2(!r.object().value("error").toString().isEmpty(), r.body.constData());
    }

    void bodyOverTheLimit()
    {
        RpcClient json;
        const quint64 id = open(json, "jsonrpc");
        QVERIFY(id);
        QCOMPARE(json.call("subscribe", QJsonObject{{"topic", "big"}}).value("result"), QJsonValue(true));
        const quint64 mark = m_server->traffic()->latestId();
        // Just at the limit: served.
        const QByteArray head = "{\"topic\":\"big\",\"data\":\"";
        const QByteArray atLimit = head + QByteArray(BodyLimit - head.size() - 2, 'd') + "\"}";
        QCOMPARE(atLimit.size(), BodyLimit);
        verifyJson(post("/api/publish", atLimit), 200, QJsonObject{{"reached", 1}});
        QVERIFY(!json.takeWhere([](const QJsonValue &v) { return v.isObject(); }).isNull());
        // One byte more: 413 on every server-API route, nothing sent. (The
        // head alone: the server answers before the body, and closing on an
        // unread body could reset the connection before the answer is read.)
        for (const QByteArray &target : {QByteArray("/api/publish"), notifyTarget(id), closeTarget(id)}) {
            const HttpReply r = httpExchange(m_api.port, "POST", target,
                                             {{"Content-Type", "application/json"},
                                              {"Content-Length", QByteArray::number(BodyLimit + 1)}});
            QVERIFY(r.complete);
            QVERIFY2(r.status == 413, r.describe().constData());
        }
        QVERIFY(json.isConnected());
        QVERIFY(json.takeWhere([](const QJsonValue &) { return true; }, 200).isNull());
        QCOMPARE(serverEvents(mark).size(), 1); // the publish at the limit only
    }

    // A few hundred hostile bodies on every server-API route: each gets a
    // complete answer of 200, 400 or 404, and the server stays up.
    void hostileBodies()
    {
        RpcClient json, dm;
        quint64 jsonId = open(json, "jsonrpc");
        quint64 dmId = open(dm, "dm-rpc");
        QVERIFY(jsonId && dmId);
        QCOMPARE(json.call("subscribe", QJsonObject{{"topic", "t"}}).value("result"), QJsonValue(true));

        QList<QByteArray> bodies{
            QByteArray(),
            QByteArray("\0\0\0", 3),
            "\xff\xfe{\"topic\":\"t\"}",
            "{\"topic\":\"\xc3\x28\"}",               // invalid UTF-8 in a string
            "{\"topic\":\"t\",\"data\":\"\\ud800\"}", // lone surrogate
            "{\"method\":\"\\ud800\",\"params\":\"\\udfff\"}",
            "{\"reason\":\"\\ud800\\ud800\\ud800\"}",
            "{\"topic\":\"t\",\"data\":1e999999}",
            "{\"topic\":\"t\",\"data\":-1e999999}",
            "{\"topic\":\"t\",\"data\":123456789012345678901234567890123456789}",
            "{\"code\":1e999999}",
            "{\"code\":-0}",
            "{\"code\":4.000e3}",
            "{\"code\":18446744073709551616}",
            "{\"code\":4000,\"code\":1}",
            "{\"topic\":\"a\",\"topic\":\"t\"}",
            "{\"method\":\"m\",\"method\":5}",
            "{\"topic\":\"t\",\"data\":" + QByteArray(5000, '[') + "}",
            "{\"topic\":\"t\",\"data\":" + QByteArray(30000, '[') + QByteArray(30000, ']') + "}",
            "{\"topic\":\"t\",\"data\":" + QByteArray(60, '[') + QByteArray(60, ']') + "}",
            "{\"method\":\"m\",\"params\":" + QByteArray(30000, '{') + "}",
            QByteArray(60000, '{'),
            QByteArray(60000, '"'),
            "{\"" + QByteArray(60000, 'k') + "\":1}",
            "{\"topic\":\"" + QByteArray(60000, 't') + "\"}",
            "{\"method\":\"" + QByteArray(60000, 'm') + "\"}",
            "{\"topic\":\"t\",\"data\":\"" + QByteArray(60000, '\\') + "\"}",
            "{\"topic\":\"t\" \"data\":1}",
            "{topic:\"t\"}",
            "{'topic':'t'}",
            "{\"topic\":\"t\",}",
            "[]",
            "{}",
            "true",
            "0",
            "\"\"",
        };
        // Valid bodies mutated at random (fixed seed: the same run every time).
        const QList<QByteArray> seeds{R"({"topic":"t","data":{"a":[1,2,{"b":null}]}})",
                                      R"({"method":"app.x","params":[1,"two",{"3":true}]})",
                                      R"({"code":4321,"reason":"mutated"})"};
        QRandomGenerator random(20240611);
        for (int i = 0; i < 300; ++i) {
            QByteArray b = seeds.at(i % seeds.size());
            const int size = int(b.size());
            switch (random.bounded(4)) {
            case 0: b.truncate(random.bounded(size)); break;
            case 1: b[random.bounded(size)] = char(random.bounded(256)); break;
            case 2: b.insert(random.bounded(size), QByteArray(1 + random.bounded(8), "{[\"\\:,}]0e-"[random.bounded(11)])); break;
            default: b.remove(random.bounded(size), 1 + random.bounded(4)); break;
            }
            bodies.append(b);
        }

        std::vector<std::unique_ptr<RpcClient>> fresh; // replacements for closed dm clients
        int answered = 0;
        for (const QByteArray &body : bodies) {
            const QList<QByteArray> targets{"/api/publish", notifyTarget(jsonId), closeTarget(dmId)};
            for (const QByteArray &target : targets) {
                const HttpReply r = post(target, body);
                QVERIFY2(r.complete, (target + " " + body.left(80).toPercentEncoding()).constData());
                QVERIFY2(r.status == 200 || r.status == 400 || r.status == 404,
                         (r.describe() + " for " + target + " " + body.left(80).toPercentEncoding()).constData());
                QVERIFY(r.json().isObject());
                ++answered;
                if (target.endsWith("/close") && r.status == 200) {
                    // A mutated body that is a valid close: the next one needs a fresh connection.
                    QVERIFY(dm.waitForDisconnected());
                    dm.socket().close();
                    QTRY_VERIFY(!m_server->host()->connections()->connection(dmId));
                    fresh.push_back(std::make_unique<RpcClient>());
                    QVERIFY((dmId = open(*fresh.back(), "dm-rpc")));
                }
            }
        }
        QVERIFY(answered >= 3 * 300);
        // Still up, still serving HTTP and WebSocket.
        const HttpReply health = m_api.get("/health");
        QCOMPARE(health.status, 200);
        QCOMPARE(health.object(), (QJsonObject{{"status", "ok"}}));
        QVERIFY(json.isConnected());
        QCOMPARE(json.call("echo", QJsonArray{"alive"}).value("result"), QJsonValue(QJsonArray{"alive"}));
        verifyJson(post("/api/publish", R"({"topic":"t","data":"after"})"), 200, QJsonObject{{"reached", 1}});
        QVERIFY(m_server->host()->connections()->connection(dmId));
    }
};

QTEST_MAIN(TestServerApi)
#include "tst_serverapi.moc"
