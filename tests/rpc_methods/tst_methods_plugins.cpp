// Handler plugins: loading them beside validators (both kinds, one root
// object of both kinds, refusals), the BUILT kv example plugin through
// CatalogRpcEngine and through WebSocket clients of a running server
// (answers inside handle(), answers given later from another thread or
// connection, its limits), misbehaving handlers (throwing, dropping the
// reply, answering twice), start-up errors and handlerSettings.

#include "testsupport.h"

#include "rpc/catalogrpcengine.h"
#include "rpc/methodregistry.h"
#include "rpc/methodvalidator.h"
#include "rpc/validatorpluginloader.h"
#include "serverconfig.h"
#include "upstream/methodhandlerplugin.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#include <optional>
#include <thread>

namespace {

// The outcome of a call, waited for when it answers later. `laterOn` tells
// on which thread a later answer arrived.
struct Answer
{
    CallOutcome outcome;
    bool wasPending = false;
    QThread *laterOn = nullptr;
};

std::optional<Answer> callAndWait(CatalogRpcEngine &engine, const CallContext &context, const QString &method,
                                  const QJsonValue &params, int timeoutMs = 5000)
{
    Answer answer;
    answer.outcome = engine.call(context, method, params);
    if (!answer.outcome.pending)
        return answer;
    answer.wasPending = true;
    std::shared_ptr<PendingCall> pending = answer.outcome.pending;
    std::optional<CallOutcome> done;
    pending->then([&done, &answer](CallOutcome o) {
        answer.laterOn = QThread::currentThread();
        done = std::move(o);
    });
    if (!QTest::qWaitFor([&] { return done.has_value(); }, timeoutMs))
        return std::nullopt;
    answer.outcome = std::move(*done);
    return answer;
}

QJsonObject parse(const QString &text)
{
    return QJsonDocument::fromJson(text.toUtf8()).object();
}

QString compact(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

} // namespace

class TestMethodsPlugins : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void loaderTakesBothKinds();
    void oneObjectOfBothKinds();
    void wrongIidStillRefused();
    void handlerIidWithoutInterface();
    void duplicateHandlerNames();

    void kvThroughEngine();
    void kvLimits();
    void kvWaitAnsweredFromAnotherThread();
    void kvWaitTimesOut();
    void misbehavingHandlers();
    void startUpErrors();
    void handlerSettingsErrors();
    void reloadKeepsHandlers();

    void kvOverWebSocket();

private:
    ServerConfig config(const QString &tag) const;
    std::unique_ptr<CatalogRpcEngine> engine(const ServerConfig &config);
    QString writeFile(const QString &name, const QByteArray &content) const;
    QString kvLibrary() const;
    void clearStore(CatalogRpcEngine &engine);

    QTemporaryDir m_dir;
};

void TestMethodsPlugins::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    QVERIFY2(!kvLibrary().isEmpty(), "the kv plugin is not built");
}

ServerConfig TestMethodsPlugins::config(const QString &tag) const
{
    ServerConfig c;
    c.stateFile = m_dir.filePath(tag + "-state.json");
    c.catalogFile = QStringLiteral(KV_CATALOG);
    c.pluginsDir = QStringLiteral(SWITCHBOARD_PLUGINS_DIR);
    return c;
}

std::unique_ptr<CatalogRpcEngine> TestMethodsPlugins::engine(const ServerConfig &config)
{
    QString error;
    auto e = CatalogRpcEngine::create(config, nullptr, &error);
    if (!e)
        qWarning("%s", qPrintable(error));
    return e;
}

QString TestMethodsPlugins::writeFile(const QString &name, const QByteArray &content) const
{
    const QString path = m_dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

QString TestMethodsPlugins::kvLibrary() const
{
    const QDir built(QStringLiteral(SWITCHBOARD_PLUGINS_DIR));
    const QStringList libraries = built.entryList({"*switchboard_kv*"}, QDir::Files);
    return libraries.isEmpty() ? QString() : built.filePath(libraries.first());
}

// The store lives as long as the process: each test starts from an empty one.
void TestMethodsPlugins::clearStore(CatalogRpcEngine &engine)
{
    const CallContext c{1, "jsonrpc"};
    const QJsonArray keys = engine.call(c, "kv.keys", {}).result.toArray();
    for (const QJsonValue &k : keys)
        QVERIFY(engine.call(c, "kv.delete", QJsonObject{{"key", k}}).result.toBool());
    QCOMPARE(engine.call(c, "kv.keys", {}).result.toArray(), QJsonArray());
}

void TestMethodsPlugins::loaderTakesBothKinds()
{
    QList<LoadedValidatorPlugin> plugins;
    QString error;
    QVERIFY2(ValidatorPluginLoader::loadDirectory(QStringLiteral(SWITCHBOARD_PLUGINS_DIR), &plugins, &error),
             qPrintable(error));
    QCOMPARE(plugins.size(), 2);
    const LoadedValidatorPlugin &kv = plugins.at(0); // libswitchboard_kv sorts first
    QVERIFY(kv.handler);
    QVERIFY(!kv.validator);
    QCOMPARE(kv.handler->name(), QString("kv"));
    QCOMPARE(kv.metaData.value("name").toString(), QString("kv"));
    QCOMPARE(kv.handler->methods(), QStringList({"kv.set", "kv.get", "kv.delete", "kv.keys", "kv.wait"}));
    const LoadedValidatorPlugin &ratelimit = plugins.at(1);
    QVERIFY(ratelimit.validator && !ratelimit.handler);
    QCOMPARE(ratelimit.validator->name(), QString("ratelimit"));

    // Loading again yields the same instance.
    LoadedValidatorPlugin again;
    QVERIFY2(ValidatorPluginLoader::loadFile(kv.file, &again, &error), qPrintable(error));
    QCOMPARE(again.handler.get(), kv.handler.get());
}

void TestMethodsPlugins::oneObjectOfBothKinds()
{
    QList<LoadedValidatorPlugin> plugins;
    QString error;
    QVERIFY2(ValidatorPluginLoader::loadDirectory(QStringLiteral(PROBE_PLUGIN_DIR), &plugins, &error),
             qPrintable(error));
    QCOMPARE(plugins.size(), 1);
    QVERIFY(plugins.first().handler && plugins.first().validator);
    QCOMPARE(plugins.first().handler->name(), QString("probe"));
    QCOMPARE(plugins.first().validator->name(), QString("probe"));
    // The very same object behind both interfaces.
    QCOMPARE(dynamic_cast<QObject *>(plugins.first().handler.get()),
             dynamic_cast<QObject *>(plugins.first().validator.get()));

    // In an engine it is both: a validator in the chain and a handler.
    const QString catalog = writeFile("probe-catalog.json", R"({"methods": [
        {"name": "probe.ok", "handler": {"plugin": "probe"}},
        {"name": "probe.refused", "handler": {"plugin": "probe"}}]})");
    ServerConfig cfg = config("both");
    cfg.catalogFile = catalog;
    cfg.pluginsDir = QStringLiteral(PROBE_PLUGIN_DIR);
    auto e = engine(cfg);
    QVERIFY(e);
    QCOMPARE(e->validatorNames(), QStringList({"catalog", "probe"}));
    CallContext c{77, "jsonrpc"};
    c.user = QStringLiteral("ada");
    const CallOutcome ok = e->call(c, "probe.ok", {});
    QVERIFY(ok.ok());
    QVERIFY(!ok.pending);
    QCOMPARE(ok.result.toObject(), QJsonObject({{"method", "probe.ok"}, {"connection", 77}, {"user", "ada"}}));
    QCOMPARE(ok.servedBy, QString("plugin probe"));
    const CallOutcome refused = e->call(c, "probe.refused", {});
    QCOMPARE(refused.verdict, CallOutcome::Verdict::RefusedByPolicy);
    QCOMPARE(refused.error.code, -32051);
    QCOMPARE(refused.error.refusedBy, QString("probe"));
}

void TestMethodsPlugins::wrongIidStillRefused()
{
    QList<LoadedValidatorPlugin> plugins;
    QString error;
    QVERIFY(!ValidatorPluginLoader::loadDirectory(QStringLiteral(WRONG_IID_PLUGIN_DIR), &plugins, &error));
    const QStringList files = QDir(QStringLiteral(WRONG_IID_PLUGIN_DIR)).entryList(QDir::Files);
    QCOMPARE(files.size(), 1);
    const QString file = QFileInfo(QDir(QStringLiteral(WRONG_IID_PLUGIN_DIR)).filePath(files.first())).canonicalFilePath();
    QCOMPARE(error, QStringLiteral("plugin %1: implements \"org.example.NotAValidator/1.0\", not "
                                   "\"org.switchboard.MethodValidator/1.0\" or \"org.switchboard.MethodHandler/1.0\"")
                        .arg(file));
    QVERIFY(plugins.isEmpty());

    // Beside good plugins it fails the whole directory, at start-up too.
    QTemporaryDir dir;
    QVERIFY(QFile::copy(kvLibrary(), dir.filePath("libswitchboard_kv.so")));
    QVERIFY(QFile::copy(QDir(QStringLiteral(WRONG_IID_PLUGIN_DIR)).filePath(files.first()),
                        dir.filePath("libzz_wrong.so")));
    QVERIFY(!ValidatorPluginLoader::loadDirectory(dir.path(), &plugins, &error));
    QVERIFY2(error.contains("libzz_wrong.so: implements"), qPrintable(error));
    QVERIFY(plugins.isEmpty());
    ServerConfig cfg = config("wrongiid");
    cfg.pluginsDir = dir.path();
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QVERIFY2(error.contains("libzz_wrong.so: implements"), qPrintable(error));
}

void TestMethodsPlugins::handlerIidWithoutInterface()
{
    QList<LoadedValidatorPlugin> plugins;
    QString error;
    QVERIFY(!ValidatorPluginLoader::loadDirectory(QStringLiteral(LIAR_HANDLER_PLUGIN_DIR), &plugins, &error));
    QVERIFY2(error.startsWith("plugin ") && error.contains("switchboard_test_liarhandler")
                 && error.endsWith(": its root object LiarHandlerPlugin does not implement MethodHandlerPlugin"),
             qPrintable(error));
}

void TestMethodsPlugins::duplicateHandlerNames()
{
    // Two files that are the same handler plugin (two copies of kv).
    QTemporaryDir dir;
    QVERIFY(QFile::copy(kvLibrary(), dir.filePath("libkv_a.so")));
    QVERIFY(QFile::copy(kvLibrary(), dir.filePath("libkv_b.so")));
    QList<LoadedValidatorPlugin> plugins;
    QString error;
    QVERIFY(!ValidatorPluginLoader::loadDirectory(dir.path(), &plugins, &error));
    const QString a = QFileInfo(dir.filePath("libkv_a.so")).canonicalFilePath();
    const QString b = QFileInfo(dir.filePath("libkv_b.so")).canonicalFilePath();
    QCOMPARE(error, QStringLiteral("plugins %1 and %2 are both the handler plugin \"kv\"").arg(a, b));
    QVERIFY(plugins.isEmpty());

    // A symbolic link to the same file is the same plugin, not a duplicate.
    QTemporaryDir linked;
    QVERIFY(QFile::copy(kvLibrary(), linked.filePath("libkv.so")));
    QVERIFY(QFile::link(linked.filePath("libkv.so"), linked.filePath("libkv_link.so")));
    QVERIFY2(ValidatorPluginLoader::loadDirectory(linked.path(), &plugins, &error), qPrintable(error));
    QCOMPARE(plugins.size(), 1);
}

void TestMethodsPlugins::kvThroughEngine()
{
    auto e = engine(config("kv"));
    QVERIFY(e);
    clearStore(*e);
    const CallContext c{10, "jsonrpc"};

    // Served by the plugin, answered inside handle(): no pending outcome.
    CallOutcome o = e->call(c, "kv.set", QJsonObject{{"key", "b"}, {"value", QJsonObject{{"n", 1}}}});
    QVERIFY(o.ok());
    QVERIFY(!o.pending);
    QCOMPARE(o.result, QJsonValue(true));
    QCOMPARE(o.servedBy, QString("plugin kv"));
    QVERIFY(e->call(c, "kv.set", QJsonObject{{"key", "a"}, {"value", "text"}}).ok());
    QVERIFY(e->call(c, "kv.set", QJsonObject{{"key", "c"}, {"value", QJsonValue::Null}}).ok());
    QCOMPARE(e->call(c, "kv.get", QJsonObject{{"key", "b"}}).result, QJsonValue(QJsonObject{{"n", 1}}));
    QCOMPARE(e->call(c, "kv.get", QJsonObject{{"key", "a"}}).result, QJsonValue("text"));
    QCOMPARE(e->call(c, "kv.get", QJsonObject{{"key", "zzz"}}).result, QJsonValue(QJsonValue::Null));
    QCOMPARE(e->call(c, "kv.keys", {}).result, QJsonValue(QJsonArray{"a", "b", "c"}));
    // Overwriting keeps one key.
    QVERIFY(e->call(c, "kv.set", QJsonObject{{"key", "a"}, {"value", 2}}).ok());
    QCOMPARE(e->call(c, "kv.get", QJsonObject{{"key", "a"}}).result, QJsonValue(2));
    QCOMPARE(e->call(c, "kv.keys", {}).result.toArray().size(), 3);
    QCOMPARE(e->call(c, "kv.delete", QJsonObject{{"key", "a"}}).result, QJsonValue(true));
    QCOMPARE(e->call(c, "kv.delete", QJsonObject{{"key", "a"}}).result, QJsonValue(false));
    QCOMPARE(e->call(c, "kv.keys", {}).result, QJsonValue(QJsonArray{"b", "c"}));

    // The catalog's schemas check params before the plugin sees them.
    o = e->call(c, "kv.get", QJsonObject{{"key", 5}});
    QCOMPARE(o.verdict, CallOutcome::Verdict::InvalidParams);
    QCOMPARE(o.error.refusedBy, QString("catalog"));

    // The registry knows what serves each method, and counts plugin calls.
    QCOMPARE(e->methods()->status("kv.set")->servedBy, QString("plugin kv"));
    QCOMPARE(e->methods()->status("echo")->servedBy, QString("builtin"));
    const MethodCounters set = e->methods()->status("kv.set")->counters;
    QCOMPARE(set.calls, quint64(4));
    QCOMPARE(set.errors, quint64(0));
    QVERIFY(set.totalLatencyMs > 0);
    QCOMPARE(e->methods()->status("kv.get")->counters.refusals, quint64(1));

    const QJsonArray handlers = e->handlerPluginsJson();
    QCOMPARE(handlers.size(), 1);
    const QJsonObject kv = handlers.first().toObject();
    QCOMPARE(kv.value("name").toString(), QString("kv"));
    QVERIFY(kv.value("file").toString().contains("switchboard_kv"));
    QCOMPARE(kv.value("metaData").toObject().value("name").toString(), QString("kv"));
    QCOMPARE(kv.value("serves").toArray(), QJsonArray({"kv.set", "kv.get", "kv.delete", "kv.keys", "kv.wait"}));
    // A handler plugin is no validator.
    QCOMPARE(e->validatorNames(), QStringList({"catalog", "ratelimit"}));
    clearStore(*e);
}

void TestMethodsPlugins::kvLimits()
{
    ServerConfig cfg = config("kvlimits");
    cfg.handlerSettings = QJsonObject{{"kv", QJsonObject{{"maxKeys", 2}, {"maxValueBytes", 10}}}};
    auto e = engine(cfg);
    QVERIFY(e);
    clearStore(*e);
    const CallContext c{11, "jsonrpc"};
    QVERIFY(e->call(c, "kv.set", QJsonObject{{"key", "one"}, {"value", 1}}).ok());
    QVERIFY(e->call(c, "kv.set", QJsonObject{{"key", "two"}, {"value", "12345678"}}).ok()); // "12345678" is 10 bytes

    CallOutcome o = e->call(c, "kv.set", QJsonObject{{"key", "three"}, {"value", 3}});
    QCOMPARE(o.verdict, CallOutcome::Verdict::ErrorResult);
    QCOMPARE(o.error.code, -32010);
    QCOMPARE(o.error.message, QString("store full"));
    QCOMPARE(o.error.data, QJsonValue(QJsonObject{{"maxKeys", 2}}));
    QVERIFY(o.error.refusedBy.isEmpty());
    // A key that exists may still change.
    QVERIFY(e->call(c, "kv.set", QJsonObject{{"key", "one"}, {"value", 11}}).ok());

    o = e->call(c, "kv.set", QJsonObject{{"key", "one"}, {"value", "123456789"}}); // 11 bytes
    QCOMPARE(o.verdict, CallOutcome::Verdict::ErrorResult);
    QCOMPARE(o.error.code, -32011);
    QCOMPARE(o.error.message, QString("value too large"));
    QCOMPARE(o.error.data, QJsonValue(QJsonObject{{"maxValueBytes", 10}, {"bytes", 11}}));
    o = e->call(c, "kv.set", QJsonObject{{"key", "one"}, {"value", QJsonArray{1, 2, 3, 4, 5}}}); // [1,2,3,4,5]: 11
    QCOMPARE(o.error.code, -32011);
    QCOMPARE(o.error.data.toObject().value("bytes").toInt(), 11);
    QCOMPARE(e->call(c, "kv.get", QJsonObject{{"key", "one"}}).result, QJsonValue(11));
    QCOMPARE(e->call(c, "kv.keys", {}).result, QJsonValue(QJsonArray{"one", "two"}));

    // The handler's own errors count as errors, not as refusals.
    const MethodCounters set = e->methods()->status("kv.set")->counters;
    QCOMPARE(set.calls, quint64(6));
    QCOMPARE(set.refusals, quint64(0));
    QCOMPARE(set.errors, quint64(3));
    clearStore(*e);
}

void TestMethodsPlugins::kvWaitAnsweredFromAnotherThread()
{
    auto e = engine(config("kvwait"));
    QVERIFY(e);
    clearStore(*e);
    const CallContext waiter{20, "jsonrpc"};
    const CallContext setter{21, "jsonrpc"};

    CallOutcome o = e->call(waiter, "kv.wait", QJsonObject{{"key", "door"}, {"timeoutMs", 5000}});
    QVERIFY(o.ok());
    QVERIFY(o.pending);
    QCOMPARE(o.servedBy, QString("plugin kv"));
    std::optional<CallOutcome> done;
    QThread *answeredOn = nullptr;
    o.pending->then([&](CallOutcome finished) {
        answeredOn = QThread::currentThread();
        done = std::move(finished);
    });
    QTest::qWait(50);
    QVERIFY(!done); // nothing set yet

    // Another connection sets the key, on another thread.
    std::atomic<bool> setOk{false};
    std::thread other([&] {
        const CallOutcome set = e->call(setter, "kv.set", QJsonObject{{"key", "door"}, {"value", "open"}});
        setOk = set.ok() && !set.pending && set.result == QJsonValue(true);
    });
    other.join();
    QVERIFY(setOk);
    // The answer is posted to the waiting call's thread, not given on the setter's.
    QVERIFY(!done);
    QTRY_VERIFY(done.has_value());
    QCOMPARE(answeredOn, QThread::currentThread());
    QVERIFY(done->ok());
    QCOMPARE(done->result, QJsonValue("open"));
    QCOMPARE(done->servedBy, QString("plugin kv"));
    QVERIFY(done->finishedAt != std::chrono::steady_clock::time_point());
    // Counted at completion, with the wait in its latency.
    const MethodCounters wait = e->methods()->status("kv.wait")->counters;
    QCOMPARE(wait.calls, quint64(1));
    QVERIFY2(wait.totalLatencyMs >= 50, qPrintable(QString::number(wait.totalLatencyMs)));

    // Several waiters of one key all get the next value; other keys' do not.
    std::vector<std::shared_ptr<PendingCall>> pendings;
    std::vector<std::optional<QJsonValue>> results(3);
    for (int i = 0; i < 3; ++i) {
        CallOutcome w = e->call({quint64(30 + i), "jsonrpc"}, "kv.wait",
                                QJsonObject{{"key", i < 2 ? "k" : "other"}, {"timeoutMs", 3000}});
        QVERIFY(w.pending);
        w.pending->then([&results, i](CallOutcome f) { results[size_t(i)] = f.result; });
        pendings.push_back(w.pending);
    }
    QVERIFY(e->call(setter, "kv.set", QJsonObject{{"key", "k"}, {"value", 42}}).ok());
    QTRY_COMPARE(results[0], std::optional<QJsonValue>(42));
    QTRY_COMPARE(results[1], std::optional<QJsonValue>(42));
    QTest::qWait(50);
    QVERIFY(!results[2].has_value());
    // Closing its connection ends the third wait at once (with null).
    e->connectionClosed(32);
    QTRY_COMPARE(results[2], std::optional<QJsonValue>(QJsonValue::Null));
    clearStore(*e);
}

void TestMethodsPlugins::kvWaitTimesOut()
{
    auto e = engine(config("kvtimeout"));
    QVERIFY(e);
    const CallContext c{40, "jsonrpc"};
    QElapsedTimer timer;
    timer.start();
    std::optional<Answer> a = callAndWait(*e, c, "kv.wait", QJsonObject{{"key", "never"}, {"timeoutMs", 300}});
    QVERIFY(a);
    QVERIFY(a->wasPending);
    QVERIFY(a->outcome.ok());
    QCOMPARE(a->outcome.result, QJsonValue(QJsonValue::Null));
    QVERIFY2(timer.elapsed() >= 290, qPrintable(QString::number(timer.elapsed())));
    QCOMPARE(a->laterOn, QThread::currentThread());
    // A set after the timeout is nobody's answer; the key simply holds it.
    QVERIFY(e->call(c, "kv.set", QJsonObject{{"key", "never"}, {"value", 1}}).ok());

    // timeoutMs 0 answers null at once; over 10000 is refused by the schema.
    const CallOutcome now = e->call(c, "kv.wait", QJsonObject{{"key", "never"}, {"timeoutMs", 0}});
    QVERIFY(!now.pending);
    QCOMPARE(now.result, QJsonValue(QJsonValue::Null));
    QCOMPARE(e->call(c, "kv.wait", QJsonObject{{"key", "x"}, {"timeoutMs", 10001}}).verdict,
             CallOutcome::Verdict::InvalidParams);
    clearStore(*e);
}

void TestMethodsPlugins::misbehavingHandlers()
{
    const QString catalog = writeFile("probe-all.json", R"({"methods": [
        {"name": "p.ok", "handler": {"plugin": "probe"}},
        {"name": "p.error", "handler": {"plugin": "probe"}},
        {"name": "p.throw", "handler": {"plugin": "probe"}},
        {"name": "p.throwint", "handler": {"plugin": "probe"}},
        {"name": "p.later", "handler": {"plugin": "probe"}},
        {"name": "p.drop", "handler": {"plugin": "probe"}},
        {"name": "p.twice", "handler": {"plugin": "probe"}},
        {"name": "p.fail", "handler": {"plugin": "probe"}}]})");
    ServerConfig cfg = config("probe");
    cfg.catalogFile = catalog;
    cfg.pluginsDir = QStringLiteral(PROBE_PLUGIN_DIR);
    auto e = engine(cfg);
    QVERIFY(e);
    const CallContext c{50, "jsonrpc"};

    std::optional<Answer> a = callAndWait(*e, c, "p.error", 7);
    QVERIFY(a && !a->wasPending);
    QCOMPARE(a->outcome.verdict, CallOutcome::Verdict::ErrorResult);
    QCOMPARE(a->outcome.error.code, -32050);
    QCOMPARE(a->outcome.error.message, QString("probe error"));
    QCOMPARE(a->outcome.error.data, QJsonValue(QJsonObject{{"n", 7}}));

    a = callAndWait(*e, c, "p.throw", {});
    QVERIFY(a && !a->wasPending);
    QCOMPARE(a->outcome.verdict, CallOutcome::Verdict::HandlerFailed);
    QCOMPARE(a->outcome.error.code, -32603);
    QCOMPARE(a->outcome.error.message, QString("Internal error"));
    QCOMPARE(a->outcome.error.data, QJsonValue("probe exploded"));
    QCOMPARE(a->outcome.servedBy, QString("plugin probe"));

    a = callAndWait(*e, c, "p.throwint", {});
    QVERIFY(a && !a->wasPending);
    QCOMPARE(a->outcome.verdict, CallOutcome::Verdict::HandlerFailed);
    QCOMPARE(a->outcome.error.data, QJsonValue("unknown failure"));

    a = callAndWait(*e, c, "p.later", QJsonArray{1, "two"});
    QVERIFY(a && a->wasPending);
    QVERIFY(a->outcome.ok());
    QCOMPARE(a->outcome.result, QJsonValue(QJsonArray{1, "two"}));
    QCOMPARE(a->laterOn, QThread::currentThread());

    a = callAndWait(*e, c, "p.drop", {});
    QVERIFY(a && !a->wasPending);
    QCOMPARE(a->outcome.verdict, CallOutcome::Verdict::HandlerFailed);
    QCOMPARE(a->outcome.error.data, QJsonValue("the handler dropped the call without answering"));

    // The first answer counts; the second and the exception after it do not.
    a = callAndWait(*e, c, "p.twice", {});
    QVERIFY(a && !a->wasPending);
    QVERIFY(a->outcome.ok());
    QCOMPARE(a->outcome.result, QJsonValue(1));

    a = callAndWait(*e, c, "p.fail", {});
    QVERIFY(a && a->wasPending);
    QCOMPARE(a->outcome.verdict, CallOutcome::Verdict::HandlerFailed);
    QCOMPARE(a->outcome.error.code, -32603);
    QCOMPARE(a->outcome.error.data, QJsonValue("backend gone"));

    // Counters: failures are errors; the handler's own error is not a refusal.
    QCOMPARE(e->methods()->status("p.throw")->counters.errors, quint64(1));
    QCOMPARE(e->methods()->status("p.fail")->counters.errors, quint64(1));
    QCOMPARE(e->methods()->status("p.later")->counters.errors, quint64(0));
    QCOMPARE(e->methods()->status("p.error")->counters.refusals, quint64(0));

    // Many calls at once from several threads, answered later each.
    std::atomic<int> right{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&e, &right, t] {
            for (int i = 0; i < 50; ++i) {
                const CallOutcome o = e->call({quint64(60 + t), "jsonrpc"}, "p.ok", {});
                if (o.ok() && o.result.toObject().value("connection").toInt() == 60 + t)
                    ++right;
            }
        });
    }
    for (std::thread &t : threads)
        t.join();
    QCOMPARE(right.load(), 200);
}

void TestMethodsPlugins::startUpErrors()
{
    const QString catalog = writeFile("nope.json", R"({"methods": [
        {"name": "kv.get", "handler": {"plugin": "kv"}},
        {"name": "x", "handler": {"plugin": "nope"}}]})");
    ServerConfig cfg = config("nope");
    cfg.catalogFile = catalog;
    QString error;
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QCOMPARE(error, QStringLiteral("catalog %1: method \"x\" names the handler plugin \"nope\", which is not loaded "
                                   "(loaded: kv)")
                        .arg(catalog));

    // Without a plugins directory, no handler plugin is loaded at all.
    cfg.pluginsDir.clear();
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QCOMPARE(error, QStringLiteral("catalog %1: method \"kv.get\" names the handler plugin \"kv\", which is not "
                                   "loaded (loaded: none)")
                        .arg(catalog));

    // Through the whole server as the command line starts it.
    ServerConfig whole = config("nope-server");
    whole.port = 0;
    whole.catalogFile = catalog;
    QVERIFY(!startSwitchboard(whole, &error));
    QVERIFY2(error.contains("names the handler plugin \"nope\", which is not loaded (loaded: kv)"), qPrintable(error));
}

void TestMethodsPlugins::handlerSettingsErrors()
{
    ServerConfig cfg = config("settings");
    QString error;
    cfg.handlerSettings = QJsonObject{{"kvv", QJsonObject{}}};
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QCOMPARE(error, QString("handlerSettings names \"kvv\", which is not loaded (loaded: kv)"));
    // A validator's name is no handler plugin's.
    cfg.handlerSettings = QJsonObject{{"ratelimit", QJsonObject{}}};
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QCOMPARE(error, QString("handlerSettings names \"ratelimit\", which is not loaded (loaded: kv)"));
    cfg.handlerSettings = QJsonObject{{"kv", 5}};
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QCOMPARE(error, QString("handlerSettings.kv must be an object"));
    cfg.handlerSettings = QJsonObject{{"kv", QJsonObject{{"maxKeys", 0}}}};
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QCOMPARE(error, QString("handler plugin kv rejects its settings: \"maxKeys\" must be a whole number of at least 1"));
    cfg.handlerSettings = QJsonObject{{"kv", QJsonObject{{"maxValueBytes", 1.5}}}};
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QCOMPARE(error,
             QString("handler plugin kv rejects its settings: \"maxValueBytes\" must be a whole number of at least 1"));
    cfg.handlerSettings = QJsonObject{{"kv", QJsonObject{{"maxkeys", 10}}}};
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QCOMPARE(error, QString("handler plugin kv rejects its settings: unknown setting \"maxkeys\" (known: maxKeys, "
                            "maxValueBytes)"));
    // The plugin without settings of its own takes none.
    cfg.pluginsDir = QStringLiteral(PROBE_PLUGIN_DIR);
    cfg.catalogFile.clear();
    cfg.handlerSettings = QJsonObject{{"probe", QJsonObject{{"x", 1}}}};
    QVERIFY(!CatalogRpcEngine::create(cfg, nullptr, &error));
    QCOMPARE(error, QString("handler plugin probe rejects its settings: takes no settings"));

    // The config file key.
    ServerConfig fromFile;
    QVERIFY(!fromFile.applyJson(QJsonObject{{"handlerSettings", QJsonArray()}}, &error));
    QCOMPARE(error, QString("config key \"handlerSettings\" must be an object keyed by handler plugin name"));
    QVERIFY2(fromFile.applyJson(QJsonObject{{"handlerSettings", QJsonObject{{"kv", QJsonObject{{"maxKeys", 5}}}}}},
                                &error),
             qPrintable(error));
    QCOMPARE(fromFile.handlerSettings, QJsonObject({{"kv", QJsonObject{{"maxKeys", 5}}}}));
    QCOMPARE(fromFile.toJson().value("handlerSettings").toObject(), fromFile.handlerSettings);
}

void TestMethodsPlugins::reloadKeepsHandlers()
{
    auto e = engine(config("reload"));
    QVERIFY(e);
    clearStore(*e);
    const CallContext c{70, "jsonrpc"};
    QVERIFY(e->call(c, "kv.set", QJsonObject{{"key", "kept"}, {"value", 1}}).ok());
    // Reloading without any plugins directory: validators go, kv stays bound.
    ServerConfig none = config("reload");
    none.pluginsDir.clear();
    QString error;
    QVERIFY2(e->reloadValidators(none, &error), qPrintable(error));
    QCOMPARE(e->validatorNames(), QStringList({"catalog"}));
    QCOMPARE(e->call(c, "kv.get", QJsonObject{{"key", "kept"}}).result, QJsonValue(1));
    QCOMPARE(e->handlerPluginsJson().size(), 1);
    // Reloading the directory with kv in it does not count kv as a validator.
    QVERIFY2(e->reloadValidators(config("reload"), &error), qPrintable(error));
    QCOMPARE(e->validatorNames(), QStringList({"catalog", "ratelimit"}));
    QCOMPARE(e->validatorsJson().size(), 2);
    clearStore(*e);
}

void TestMethodsPlugins::kvOverWebSocket()
{
    ServerConfig cfg = config("ws");
    cfg.port = 0;
    cfg.workerThreads = 2;
    cfg.handlerSettings = QJsonObject{{"kv", QJsonObject{{"maxKeys", 3}}}};
    QString error;
    std::unique_ptr<Switchboard> server = startSwitchboard(cfg, &error);
    QVERIFY2(server, qPrintable(error));
    clearStore(*server->engine());
    const QUrl http = server->host()->listeners().value(0);
    const QUrl url(QStringLiteral("ws://%1:%2/kv").arg(http.host()).arg(http.port()));

    QWebSocket a, b;
    QStringList gotA, gotB;
    connect(&a, &QWebSocket::textMessageReceived, this, [&](const QString &m) { gotA << m; });
    connect(&b, &QWebSocket::textMessageReceived, this, [&](const QString &m) { gotB << m; });
    QVERIFY(openWebSocket(a, url, {"jsonrpc"}));
    QVERIFY(openWebSocket(b, url, {"jsonrpc"}));

    // A waits; B sets the key: A's reply comes then, with the value.
    a.sendTextMessage(R"({"jsonrpc":"2.0","id":"w1","method":"kv.wait","params":{"key":"door","timeoutMs":5000}})");
    QTest::qWait(100);
    QVERIFY(gotA.isEmpty());
    // Meanwhile A's other calls are answered (the wait blocks nothing).
    a.sendTextMessage(R"({"jsonrpc":"2.0","id":2,"method":"kv.get","params":{"key":"door"}})");
    QTRY_COMPARE(gotA.size(), 1);
    QCOMPARE(parse(gotA.at(0)), QJsonObject({{"jsonrpc", "2.0"}, {"id", 2}, {"result", QJsonValue::Null}}));

    b.sendTextMessage(R"({"jsonrpc":"2.0","id":1,"method":"kv.set","params":{"key":"door","value":{"state":"open"}}})");
    QTRY_COMPARE(gotB.size(), 1);
    QCOMPARE(parse(gotB.at(0)), QJsonObject({{"jsonrpc", "2.0"}, {"id", 1}, {"result", true}}));
    QTRY_COMPARE(gotA.size(), 2);
    QCOMPARE(parse(gotA.at(1)),
             QJsonObject({{"jsonrpc", "2.0"}, {"id", "w1"}, {"result", QJsonObject{{"state", "open"}}}}));

    // get, keys, delete as the client sees them.
    b.sendTextMessage(R"({"jsonrpc":"2.0","id":2,"method":"kv.set","params":{"key":"apple","value":[1,2]}})");
    b.sendTextMessage(R"({"jsonrpc":"2.0","id":3,"method":"kv.keys"})");
    b.sendTextMessage(R"({"jsonrpc":"2.0","id":4,"method":"kv.get","params":{"key":"apple"}})");
    b.sendTextMessage(R"({"jsonrpc":"2.0","id":5,"method":"kv.delete","params":{"key":"apple"}})");
    b.sendTextMessage(R"({"jsonrpc":"2.0","id":6,"method":"kv.delete","params":{"key":"apple"}})");
    QTRY_COMPARE(gotB.size(), 6);
    QCOMPARE(parse(gotB.at(1)), QJsonObject({{"jsonrpc", "2.0"}, {"id", 2}, {"result", true}}));
    QCOMPARE(parse(gotB.at(2)), QJsonObject({{"jsonrpc", "2.0"}, {"id", 3}, {"result", QJsonArray{"apple", "door"}}}));
    QCOMPARE(parse(gotB.at(3)), QJsonObject({{"jsonrpc", "2.0"}, {"id", 4}, {"result", QJsonArray{1, 2}}}));
    QCOMPARE(parse(gotB.at(4)), QJsonObject({{"jsonrpc", "2.0"}, {"id", 5}, {"result", true}}));
    QCOMPARE(parse(gotB.at(5)), QJsonObject({{"jsonrpc", "2.0"}, {"id", 6}, {"result", false}}));

    // The store's limit, exactly as the client gets it.
    b.sendTextMessage(R"({"jsonrpc":"2.0","id":7,"method":"kv.set","params":{"key":"k2","value":2}})");
    b.sendTextMessage(R"({"jsonrpc":"2.0","id":8,"method":"kv.set","params":{"key":"k3","value":3}})");
    b.sendTextMessage(R"({"jsonrpc":"2.0","id":9,"method":"kv.set","params":{"key":"k4","value":4}})");
    QTRY_COMPARE(gotB.size(), 9);
    QCOMPARE(parse(gotB.at(8)),
             QJsonObject({{"jsonrpc", "2.0"},
                          {"id", 9},
                          {"error", QJsonObject{{"code", -32010}, {"message", "store full"},
                                                {"data", QJsonObject{{"maxKeys", 3}}}}}}));

    // A wait that nobody answers: null at its timeout.
    QElapsedTimer timer;
    timer.start();
    a.sendTextMessage(R"({"jsonrpc":"2.0","id":"w2","method":"kv.wait","params":{"key":"silent","timeoutMs":400}})");
    QTRY_COMPARE_WITH_TIMEOUT(gotA.size(), 3, 5000);
    QVERIFY2(timer.elapsed() >= 380, qPrintable(QString::number(timer.elapsed())));
    QCOMPARE(compact(parse(gotA.at(2))), QString(R"({"id":"w2","jsonrpc":"2.0","result":null})"));

    // The method panel's view: served by the plugin, counted.
    const std::optional<MethodStatus> wait = server->engine()->methods()->status("kv.wait");
    QVERIFY(wait);
    QCOMPARE(wait->servedBy, QString("plugin kv"));
    QCOMPARE(wait->counters.calls, quint64(2));

    // A client that leaves while waiting: its wait ends with the connection,
    // and a later set of the key is answered to nobody.
    a.sendTextMessage(R"({"jsonrpc":"2.0","id":"w3","method":"kv.wait","params":{"key":"gone","timeoutMs":5000}})");
    QTest::qWait(100);
    a.close();
    QTRY_COMPARE(server->host()->connections()->count(), 1);
    QTRY_COMPARE(server->engine()->methods()->status("kv.wait")->counters.calls, quint64(3));
    b.sendTextMessage(R"({"jsonrpc":"2.0","id":10,"method":"kv.set","params":{"key":"k2","value":"x"}})");
    QTRY_COMPARE(gotB.size(), 10);
    QCOMPARE(parse(gotB.at(9)).value("result"), QJsonValue(true));

    clearStore(*server->engine());
    b.close();
    QVERIFY(stopSwitchboard(*server));
}

QTEST_MAIN(TestMethodsPlugins)
#include "tst_methods_plugins.moc"
