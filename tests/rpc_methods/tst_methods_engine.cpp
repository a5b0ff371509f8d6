// CatalogRpcEngine end to end: handlers, verdicts and counters, plugins at
// start-up and reload, pub/sub fan-out through a real server's
// ConnectionRegistry, rpc.discover, and toggles racing with calls.

#include "testsupport.h"

#include "rpc/catalogrpcengine.h"
#include "rpc/methodcatalog.h"
#include "rpc/methodregistry.h"
#include "rpc/topichub.h"
#include "serverconfig.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <thread>
#include <vector>

class TestMethodsEngine : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void builtinHandlers();
    void verdicts();
    void handlerFailure();
    void catalogErrorsAtStart();
    void pluginsAtStart();
    void brokenPluginsAreFatalAtStart();
    void reloadKeepsPreviousChainOnFailure();
    void publishFansOutToSubscribers();
    void discoverDocument();
    void togglesRaceWithCalls();

private:
    ServerConfig config(const QString &tag) const;
    QString writeFile(const QString &name, const QByteArray &content) const;
    std::unique_ptr<CatalogRpcEngine> engine(const ServerConfig &config, ConnectionRegistry *connections = nullptr);

    QTemporaryDir m_dir;
};

void TestMethodsEngine::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
}

ServerConfig TestMethodsEngine::config(const QString &tag) const
{
    ServerConfig c;
    c.stateFile = m_dir.filePath(tag + "-state.json");
    return c;
}

QString TestMethodsEngine::writeFile(const QString &name, const QByteArray &content) const
{
    const QString path = m_dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

std::unique_ptr<CatalogRpcEngine> TestMethodsEngine::engine(const ServerConfig &config, ConnectionRegistry *connections)
{
    QString error;
    auto e = CatalogRpcEngine::create(config, connections, &error);
    if (!e)
        qWarning("%s", qPrintable(error));
    return e;
}

void TestMethodsEngine::builtinHandlers()
{
    auto e = engine(config("handlers"));
    QVERIFY(e);
    QCOMPARE(e->validatorNames(), QStringList({"catalog"}));
    const CallContext c{1, "jsonrpc"};

    const QJsonObject object{{"a", QJsonArray{1, "x", QJsonValue::Null}}};
    QCOMPARE(e->call(c, "echo", object).result, QJsonValue(object));
    QCOMPARE(e->call(c, "echo", QJsonValue(QJsonValue::Undefined)).result, QJsonValue(QJsonValue::Null));

    CallOutcome sum = e->call(c, "sum", QJsonArray{1, 2, 3.5, -0.5});
    QVERIFY(sum.ok());
    QCOMPARE(sum.result.toDouble(), 6.0);
    QCOMPARE(e->call(c, "sum", QJsonArray{}).result.toDouble(), 0.0);
    sum = e->call(c, "sum", QJsonArray{1.7e308, 1.7e308});
    QCOMPARE(sum.verdict, CallOutcome::Verdict::HandlerFailed);

    for (const QJsonValue &none : {QJsonValue(QJsonValue::Undefined), QJsonValue(QJsonValue::Null),
                                   QJsonValue(QJsonArray()), QJsonValue(QJsonObject())}) {
        const CallOutcome time = e->call(c, "time", none);
        QVERIFY(time.ok());
        const QString text = time.result.toString();
        QVERIFY2(QRegularExpression(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)").match(text).hasMatch(),
                 qPrintable(text));
        const QDateTime parsed = QDateTime::fromString(text, Qt::ISODateWithMs);
        QVERIFY(qAbs(parsed.msecsTo(QDateTime::currentDateTimeUtc())) < 10'000);
    }

    QCOMPARE(e->call(c, "subscribe", QJsonObject{{"topic", "t"}}).result, QJsonValue(true));
    QCOMPARE(e->topics()->subscriberCount("t"), 1);
    QCOMPARE(e->call(c, "unsubscribe", QJsonObject{{"topic", "t"}}).result, QJsonValue(true));
    QCOMPARE(e->call(c, "unsubscribe", QJsonObject{{"topic", "t"}}).result, QJsonValue(true));
    QCOMPARE(e->topics()->subscriberCount("t"), 0);
    // No ConnectionRegistry: publish reaches nobody.
    QCOMPARE(e->call(c, "publish", QJsonObject{{"topic", "t"}, {"data", 1}}).result, QJsonValue(0));

    const auto echo = e->methods()->status("echo");
    QCOMPARE(echo->counters.calls, quint64(2));
    QVERIFY(echo->counters.totalLatencyMs > 0);
}

void TestMethodsEngine::verdicts()
{
    auto e = engine(config("verdicts"));
    QVERIFY(e);
    const CallContext c{1, "jsonrpc"};

    CallOutcome o = e->call(c, "nope", {});
    QCOMPARE(o.verdict, CallOutcome::Verdict::UnknownMethod);
    QCOMPARE(o.error.code, -32601);
    QCOMPARE(o.error.data.toObject(), QJsonObject({{"reason", "unknown"}}));
    QCOMPARE(o.error.refusedBy, QString("catalog"));

    QVERIFY(e->methods()->setEnabled("sum", false));
    o = e->call(c, "sum", QJsonArray{1});
    QCOMPARE(o.verdict, CallOutcome::Verdict::DisabledMethod);
    QCOMPARE(o.error.data.toObject(), QJsonObject({{"reason", "disabled"}}));
    QVERIFY(e->methods()->setEnabled("sum", true));
    QVERIFY(e->call(c, "sum", QJsonArray{1}).ok()); // the very next call

    o = e->call(c, "sum", QJsonArray{1, "2"});
    QCOMPARE(o.verdict, CallOutcome::Verdict::InvalidParams);
    QCOMPARE(o.error.code, -32602);
    QCOMPARE(o.error.data.toArray().first().toObject().value("path").toString(), QString("/1"));

    o = e->call(c, "subscribe", QJsonObject{{"topic", "t"}, {"extra", true}});
    QCOMPARE(o.verdict, CallOutcome::Verdict::InvalidParams);
    o = e->call(c, "publish", QJsonObject{{"data", 1}});
    QCOMPARE(o.verdict, CallOutcome::Verdict::InvalidParams);
    o = e->call(c, "time", QJsonArray{1});
    QCOMPARE(o.verdict, CallOutcome::Verdict::InvalidParams);

    const auto sum = e->methods()->status("sum");
    QCOMPARE(sum->counters.calls, quint64(3));
    QCOMPARE(sum->counters.refusals, quint64(2));
    QCOMPARE(sum->counters.errors, quint64(0));
    QCOMPARE(e->methods()->unknownCalls(), quint64(1));

    // The switch survives a restart of the engine.
    QVERIFY(e->methods()->setEnabled("time", false));
    e.reset();
    e = engine(config("verdicts"));
    QVERIFY(e);
    QCOMPARE(e->call(c, "time", {}).verdict, CallOutcome::Verdict::DisabledMethod);
}

void TestMethodsEngine::handlerFailure()
{
    ServerConfig cfg = config("failure");
    cfg.catalogFile = writeFile("failure-catalog.json", R"({"methods":[{"name":"echo"},{"name":"boom"}]})");
    QHash<QString, MethodHandler> extra;
    extra.insert("boom", [](const CallContext &, const QJsonValue &) -> QJsonValue {
        throw MethodFailure(QStringLiteral("the flux capacitor broke"));
    });
    QString error;
    auto e = CatalogRpcEngine::create(cfg, nullptr, &error, extra);
    QVERIFY2(e, qPrintable(error));
    const CallOutcome o = e->call({}, "boom", {});
    QCOMPARE(o.verdict, CallOutcome::Verdict::HandlerFailed);
    QCOMPARE(o.error.code, -32603);
    QCOMPARE(o.error.data.toString(), QString("the flux capacitor broke"));
    QVERIFY(o.error.refusedBy.isEmpty());
    QCOMPARE(e->methods()->status("boom")->counters.errors, quint64(1));
    QCOMPARE(e->call({}, "sum", {}).verdict, CallOutcome::Verdict::UnknownMethod); // not in this catalog
}

void TestMethodsEngine::catalogErrorsAtStart()
{
    ServerConfig cfg = config("badcatalog");
    QString error;

    cfg.catalogFile = m_dir.filePath("missing-catalog.json");
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QVERIFY2(error.startsWith("catalog " + cfg.catalogFile + ": cannot read it"), qPrintable(error));

    cfg.catalogFile = writeFile("nohandler.json", R"({"methods":[{"name":"echo"},{"name":"teleport"}]})");
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QVERIFY2(error.contains(cfg.catalogFile) && error.contains("\"teleport\" has no handler"), qPrintable(error));
}

void TestMethodsEngine::pluginsAtStart()
{
    ServerConfig cfg = config("plugins");
    cfg.pluginsDir = QStringLiteral(SWITCHBOARD_PLUGINS_DIR);
    cfg.validatorSettings = QJsonObject{{"ratelimit", QJsonObject{{"callsPerSecond", 0.01}, {"burst", 1}}}};
    auto e = engine(cfg);
    QVERIFY(e);
    QCOMPARE(e->validatorNames(), QStringList({"catalog", "ratelimit"}));
    const CallContext c{300, "jsonrpc"};
    QVERIFY(e->call(c, "echo", {}).ok());
    CallOutcome o = e->call(c, "echo", {});
    QCOMPARE(o.verdict, CallOutcome::Verdict::RefusedByPolicy);
    QCOMPARE(o.error.code, -32029);
    QCOMPARE(o.error.refusedBy, QString("ratelimit"));
    QVERIFY(o.error.data.toObject().value("retryAfterMs").toDouble() > 0);
    QCOMPARE(e->methods()->status("echo")->counters.refusals, quint64(1));
    // Unknown methods are refused by the catalog first, without using a token.
    QCOMPARE(e->call({301, "jsonrpc"}, "nope", {}).error.refusedBy, QString("catalog"));
    QVERIFY(e->call({301, "jsonrpc"}, "echo", {}).ok());

    const QJsonArray validators = e->validatorsJson();
    QCOMPARE(validators.size(), 2);
    QCOMPARE(validators.at(1).toObject().value("name").toString(), QString("ratelimit"));
    QCOMPARE(validators.at(1).toObject().value("inForce").toBool(), true);
    QCOMPARE(validators.at(1).toObject().value("position").toInt(), 1);

    // A custom order that leaves the catalog out still has it, first.
    cfg.validatorOrder = QStringList{"ratelimit"};
    e = engine(cfg);
    QVERIFY(e);
    QCOMPARE(e->validatorNames(), QStringList({"catalog", "ratelimit"}));
    cfg.validatorOrder = QStringList{"ratelimit", "catalog"};
    e = engine(cfg);
    QVERIFY(e);
    QCOMPARE(e->validatorNames(), QStringList({"ratelimit", "catalog"}));
    const CallContext d{302, "jsonrpc"};
    QCOMPARE(e->call(d, "nope", {}).error.refusedBy, QString("catalog"));
    QCOMPARE(e->call(d, "nope", {}).error.refusedBy, QString("ratelimit")); // the token went first
}

void TestMethodsEngine::brokenPluginsAreFatalAtStart()
{
    QTemporaryDir dir;
    QFile fake(dir.filePath("libfake.so"));
    QVERIFY(fake.open(QIODevice::WriteOnly));
    fake.write("not ELF");
    fake.close();
    ServerConfig cfg = config("broken");
    QString error;

    cfg.pluginsDir = dir.path();
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QVERIFY2(error.contains("libfake.so"), qPrintable(error));

    cfg.pluginsDir = QStringLiteral(WRONG_IID_PLUGIN_DIR);
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QVERIFY2(error.contains("org.example.NotAValidator/1.0"), qPrintable(error));

    cfg.pluginsDir = QStringLiteral(SWITCHBOARD_PLUGINS_DIR);
    cfg.validatorSettings = QJsonObject{{"ratelimit", QJsonObject{{"callsPerSecond", -1}}}};
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QVERIFY2(error.contains("validator ratelimit rejects its settings"), qPrintable(error));

    cfg.validatorSettings = {};
    cfg.validatorOrder = QStringList{"catalog", "ratelimt"};
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QVERIFY2(error.contains("\"ratelimt\", which is not loaded"), qPrintable(error));
}

void TestMethodsEngine::reloadKeepsPreviousChainOnFailure()
{
    ServerConfig cfg = config("reload");
    auto e = engine(cfg);
    QVERIFY(e);
    QCOMPARE(e->validatorNames(), QStringList({"catalog"}));

    cfg.pluginsDir = QStringLiteral(SWITCHBOARD_PLUGINS_DIR);
    cfg.validatorSettings = QJsonObject{{"ratelimit", QJsonObject{{"callsPerSecond", 0.01}, {"burst", 2}}}};
    QString error;
    QVERIFY2(e->reloadValidators(cfg, &error), qPrintable(error));
    QCOMPARE(e->validatorNames(), QStringList({"catalog", "ratelimit"}));
    const CallContext c{400, "jsonrpc"};
    QVERIFY(e->call(c, "echo", {}).ok());

    // Bad settings: refused, the old chain and its settings stay.
    ServerConfig bad = cfg;
    bad.validatorSettings = QJsonObject{{"ratelimit", QJsonObject{{"burst", "many"}}}};
    QVERIFY(!e->reloadValidators(bad, &error));
    QVERIFY2(error.contains("ratelimit"), qPrintable(error));
    QCOMPARE(e->validatorNames(), QStringList({"catalog", "ratelimit"}));
    QVERIFY(e->call(c, "echo", {}).ok());                                            // 2nd token of the burst
    QCOMPARE(e->call(c, "echo", {}).verdict, CallOutcome::Verdict::RefusedByPolicy); // burst 2 still holds

    // A broken plugin directory: refused, the chain stays.
    bad = cfg;
    bad.pluginsDir = QStringLiteral(WRONG_IID_PLUGIN_DIR);
    QVERIFY(!e->reloadValidators(bad, &error));
    QVERIFY2(error.contains("org.example.NotAValidator/1.0"), qPrintable(error));
    QCOMPARE(e->validatorNames(), QStringList({"catalog", "ratelimit"}));

    // And back to no plugins.
    QVERIFY2(e->reloadValidators(config("reload"), &error), qPrintable(error));
    QCOMPARE(e->validatorNames(), QStringList({"catalog"}));
    for (int i = 0; i < 5; ++i)
        QVERIFY(e->call(c, "echo", {}).ok());
}

void TestMethodsEngine::publishFansOutToSubscribers()
{
    TestServer server;
    server.subprotocols->add(std::make_shared<EchoTestSubprotocol>());
    ServerConfig serverConfig;
    serverConfig.port = 0;
    QString error;
    QVERIFY2(server.start(serverConfig, &error), qPrintable(error));
    ConnectionRegistry *connections = server.host->connections();
    auto e = engine(config("pubsub"), connections);
    QVERIFY(e);

    QWebSocket a, b, c;
    QList<QString> gotA, gotB, gotC;
    connect(&a, &QWebSocket::textMessageReceived, this, [&](const QString &m) { gotA << m; });
    connect(&b, &QWebSocket::textMessageReceived, this, [&](const QString &m) { gotB << m; });
    connect(&c, &QWebSocket::textMessageReceived, this, [&](const QString &m) { gotC << m; });
    for (QWebSocket *s : {&a, &b, &c})
        QVERIFY(openWebSocket(*s, server.wsUrl(), {"echo.test"}));
    QTRY_COMPARE(connections->count(), 3);
    const QList<ConnectionInfo> live = connections->snapshot(); // ascending ids = opening order
    const CallContext ctxA{live.at(0).id, "echo.test"};
    const CallContext ctxB{live.at(1).id, "echo.test"};
    const CallContext ctxC{live.at(2).id, "echo.test"};

    QVERIFY(e->call(ctxA, "subscribe", QJsonObject{{"topic", "news"}}).ok());
    QVERIFY(e->call(ctxB, "subscribe", QJsonObject{{"topic", "news"}}).ok());
    QVERIFY(e->call(ctxB, "subscribe", QJsonObject{{"topic", "news"}}).ok()); // twice is once
    QVERIFY(e->call(ctxC, "subscribe", QJsonObject{{"topic", "other"}}).ok());
    QCOMPARE(e->topics()->subscriberCount("news"), 2);
    QCOMPARE(e->topics()->subscribers("news"), QList<quint64>({ctxA.connectionId, ctxB.connectionId}));

    const QJsonObject data{{"headline", "hello"}, {"n", 1}};
    CallOutcome o = e->call(ctxC, "publish", QJsonObject{{"topic", "news"}, {"data", data}});
    QVERIFY(o.ok());
    QCOMPARE(o.result.toInt(), 2);
    const QString expected = QStringLiteral("event ") + QString::fromUtf8(QJsonDocument(QJsonObject{
        {"topic", "news"}, {"data", data}}).toJson(QJsonDocument::Compact));
    QTRY_COMPARE(gotA, QList<QString>({expected}));
    QTRY_COMPARE(gotB, QList<QString>({expected}));
    QTest::qWait(50);
    QVERIFY(gotC.isEmpty());

    QCOMPARE(e->call(ctxA, "publish", QJsonObject{{"topic", "nobody"}, {"data", 0}}).result.toInt(), 0);

    // Unsubscribing and closing both end the fan-out.
    QVERIFY(e->call(ctxB, "unsubscribe", QJsonObject{{"topic", "news"}}).ok());
    QCOMPARE(e->call(ctxC, "publish", QJsonObject{{"topic", "news"}, {"data", 2}}).result.toInt(), 1);
    a.close();
    QTRY_COMPARE(connections->count(), 2);
    QTRY_COMPARE(e->topics()->subscriberCount("news"), 0); // dropped through connectionClosed
    QCOMPARE(e->call(ctxC, "publish", QJsonObject{{"topic", "news"}, {"data", 3}}).result.toInt(), 0);
    QCOMPARE(e->topics()->topicsOf(ctxC.connectionId), QStringList({"other"}));
    e->connectionClosed(ctxC.connectionId);
    QCOMPARE(e->topics()->topicCount(), 0);

    b.close();
    c.close();
    QTRY_COMPARE(connections->count(), 0);
    QVERIFY(server.stop());
}

void TestMethodsEngine::discoverDocument()
{
    auto e = engine(config("discover"));
    QVERIFY(e);
    QVERIFY(e->methods()->setEnabled("sum", false));
    const CallOutcome o = e->call({}, "rpc.discover", {});
    QVERIFY(o.ok());
    const QJsonObject doc = o.result.toObject();
    QCOMPARE(doc.value("openrpc").toString(), QString("1.2.6"));
    QCOMPARE(doc.value("info").toObject().value("title").toString(), QString("Switchboard"));
    QCOMPARE(doc.value("info").toObject().value("version").toString(), QString(SWITCHBOARD_VERSION));

    QHash<QString, QJsonObject> methods;
    for (const QJsonValue &m : doc.value("methods").toArray())
        methods.insert(m.toObject().value("name").toString(), m.toObject());
    QCOMPARE(QSet<QString>(methods.keyBegin(), methods.keyEnd()),
             QSet<QString>({"echo", "time", "subscribe", "unsubscribe", "publish", "rpc.discover"}));
    for (const QJsonObject &m : methods) {
        QVERIFY(m.value("params").isArray());
        QVERIFY(m.value("result").toObject().contains("name"));
        QVERIFY(m.value("result").toObject().contains("schema"));
        QVERIFY(!m.value("description").toString().isEmpty());
    }
    const QJsonObject subscribe = methods.value("subscribe");
    QCOMPARE(subscribe.value("paramStructure").toString(), QString("by-name"));
    const QJsonArray params = subscribe.value("params").toArray();
    QCOMPARE(params.size(), 1);
    QCOMPARE(params.at(0).toObject().value("name").toString(), QString("topic"));
    QCOMPARE(params.at(0).toObject().value("required").toBool(), true);
    QCOMPARE(params.at(0).toObject().value("schema").toObject().value("type").toString(), QString("string"));
    QCOMPARE(methods.value("publish").value("params").toArray().size(), 2);
    QCOMPARE(methods.value("time").value("params").toArray().size(), 0);

    QVERIFY(e->methods()->setEnabled("sum", true));
    const QJsonObject again = e->discoveryDocument();
    QJsonObject sum;
    for (const QJsonValue &m : again.value("methods").toArray()) {
        if (m.toObject().value("name") == QLatin1String("sum"))
            sum = m.toObject();
    }
    QCOMPARE(sum.value("paramStructure").toString(), QString("by-position"));
    QCOMPARE(sum.value("x-params-schema").toObject().value("type").toString(), QString("array"));
    QCOMPARE(sum.value("result").toObject().value("schema").toObject().value("type").toString(), QString("number"));

    // Switching rpc.discover off refuses it like any other method.
    QVERIFY(e->methods()->setEnabled("rpc.discover", false));
    QCOMPARE(e->call({}, "rpc.discover", {}).verdict, CallOutcome::Verdict::DisabledMethod);
}

void TestMethodsEngine::togglesRaceWithCalls()
{
    const ServerConfig cfg = config("race");
    auto e = engine(cfg);
    QVERIFY(e);
    std::atomic<bool> stop{false};
    std::atomic<quint64> calls{0};
    std::atomic<quint64> unexpected{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
        workers.emplace_back([&, t] {
            const CallContext c{quint64(500 + t), "jsonrpc"};
            while (!stop.load()) {
                const CallOutcome s = e->call(c, "sum", QJsonArray{1, 2});
                const CallOutcome p = e->call(c, "subscribe", QJsonObject{{"topic", "race"}});
                const CallOutcome d = e->call(c, "rpc.discover", {});
                for (const CallOutcome *o : {&s, &p, &d}) {
                    if (!o->ok() && o->verdict != CallOutcome::Verdict::DisabledMethod)
                        unexpected.fetch_add(1);
                }
                calls.fetch_add(3);
            }
        });
    }
    std::vector<std::thread> togglers;
    for (int t = 0; t < 2; ++t) {
        togglers.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                e->methods()->setEnabled(i % 2 ? "sum" : "subscribe", (i + t) % 3 != 0);
                e->methods()->setEnabled("rpc.discover", i % 5 != 0);
            }
        });
    }
    for (auto &t : togglers)
        t.join();
    // The final word, as a PATCH would give it:
    QVERIFY(e->methods()->setEnabled("sum", false));
    QVERIFY(e->methods()->setEnabled("subscribe", true));
    QVERIFY(e->methods()->setEnabled("rpc.discover", true));
    stop = true;
    for (auto &t : workers)
        t.join();

    QCOMPARE(unexpected.load(), quint64(0));
    QVERIFY(calls.load() > 0);
    QCOMPARE(e->call({}, "sum", QJsonArray{1}).verdict, CallOutcome::Verdict::DisabledMethod);
    QVERIFY(e->call({}, "subscribe", QJsonObject{{"topic", "x"}}).ok());
    quint64 counted = 0;
    for (const MethodStatus &s : e->methods()->snapshot())
        counted += s.counters.calls;
    QCOMPARE(counted, calls.load() + 2);

    // A restart sees the final word too.
    e.reset();
    e = engine(cfg);
    QVERIFY(e);
    QVERIFY(!e->methods()->isEnabled("sum"));
    QVERIFY(e->methods()->isEnabled("subscribe"));
}

QTEST_GUILESS_MAIN(TestMethodsEngine)
#include "tst_methods_engine.moc"
