// ValidatorChain and plugin loading: the configured order, the first refusal
// winning with its validator's name, settings, and the BUILT example plugin
// (ratelimit) next to broken ones.

#include "rpc/catalogvalidator.h"
#include "rpc/methodcatalog.h"
#include "rpc/methodregistry.h"
#include "rpc/validatorchain.h"
#include "rpc/validatorpluginloader.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <stdexcept>

namespace {

// A naming policy: refuses every method whose name has a given prefix.
class PrefixPolicy : public MethodValidator
{
public:
    PrefixPolicy(QString name, QString prefix, int code)
        : m_name(std::move(name)), m_prefix(std::move(prefix)), m_code(code)
    {
    }
    QString name() const override { return m_name; }
    QList<MethodCase> cases() const override { return {}; }
    MethodCast castToMethod(const CallContext &, const QString &method) const override
    {
        if (method.startsWith(m_prefix))
            return MethodCast::refuse(m_code, QStringLiteral("forbidden name"), QJsonObject{{"prefix", m_prefix}});
        return MethodCast::accept();
    }

private:
    QString m_name;
    QString m_prefix;
    int m_code;
};

// Limits the number of positional params, configurable.
class ArityValidator : public MethodValidator
{
public:
    QString name() const override { return QStringLiteral("arity"); }
    bool configure(const QJsonObject &settings, QString *error) override
    {
        for (auto it = settings.begin(); it != settings.end(); ++it) {
            if (it.key() != QLatin1String("max") || !it.value().isDouble()) {
                *error = QStringLiteral("only a numeric \"max\"");
                return false;
            }
        }
        m_max = settings.value("max").toInt(3);
        return true;
    }
    QList<MethodCase> cases() const override { return {}; }
    MethodCast castToMethod(const CallContext &, const QString &) const override { return MethodCast::accept(); }
    QList<ParamsError> checkParams(const CallContext &, const QString &, const QJsonValue &params) const override
    {
        if (params.toArray().size() > m_max)
            return {{QString(), QStringLiteral("at most %1 params").arg(m_max)}};
        return {};
    }
    int m_max = 3;
};

// Defines one method of its own.
class ExtraCaseValidator : public MethodValidator
{
public:
    QString name() const override { return QStringLiteral("extra"); }
    QList<MethodCase> cases() const override { return {{"ping", "answers pong", QJsonValue()}}; }
    MethodCast castToMethod(const CallContext &, const QString &method) const override
    {
        return method == QLatin1String("ping") ? MethodCast::accept(cases().first()) : MethodCast::accept();
    }
};

class ThrowingValidator : public MethodValidator
{
public:
    QString name() const override { return QStringLiteral("thrower"); }
    QList<MethodCase> cases() const override { return {}; }
    MethodCast castToMethod(const CallContext &, const QString &) const override
    {
        throw std::runtime_error("boom");
    }
};

} // namespace

class TestMethodsChain : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void firstRefusalWinsWithItsName();
    void catalogVerdicts();
    void orderDecidesWhoRefuses();
    void paramsRefusalCarriesErrors();
    void firstCaseWins();
    void throwingValidatorIsContained();
    void assembleErrors();
    void configureErrors();

    void builtPluginLoads();
    void builtPluginRefusesOverRate();
    void builtPluginSettings();
    void textFileNamedLikeLibrary();
    void wrongIidPlugin();
    void pluginWithoutInterface();
    void missingDirectory();
    void otherFilesAreIgnored();

private:
    std::shared_ptr<MethodValidator> catalogValidator();
    std::shared_ptr<MethodValidator> loadRateLimit();

    QTemporaryDir m_dir;
    std::shared_ptr<const MethodCatalog> m_catalog;
    std::unique_ptr<MethodRegistry> m_registry;
};

void TestMethodsChain::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    QString error;
    auto catalog = MethodCatalog::parse(R"({"methods":[
        {"name":"echo"},
        {"name":"sum","params":{"type":"array","items":{"type":"number"}}},
        {"name":"off","enabled":false}]})", "test", &error);
    QVERIFY2(catalog, qPrintable(error));
    m_catalog = std::make_shared<const MethodCatalog>(*catalog);
    m_registry = std::make_unique<MethodRegistry>(*m_catalog, m_dir.filePath("state.json"));
}

std::shared_ptr<MethodValidator> TestMethodsChain::catalogValidator()
{
    return std::make_shared<CatalogValidator>(m_catalog, m_registry.get());
}

void TestMethodsChain::firstRefusalWinsWithItsName()
{
    auto a = std::make_shared<PrefixPolicy>("a", "x.", -32010);
    auto b = std::make_shared<PrefixPolicy>("b", "x.", -32020);
    const CallContext context{7, "jsonrpc"};

    const auto ab = ValidatorChain(QList<std::shared_ptr<MethodValidator>>{a, b}).check(context, "x.y", {});
    QVERIFY(!ab.accepted);
    QCOMPARE(ab.error.refusedBy, QString("a"));
    QCOMPARE(ab.error.code, -32010);
    QCOMPARE(ab.error.message, QString("forbidden name"));
    QCOMPARE(ab.error.data.toObject().value("prefix").toString(), QString("x."));

    const auto ba = ValidatorChain(QList<std::shared_ptr<MethodValidator>>{b, a}).check(context, "x.y", {});
    QCOMPARE(ba.error.refusedBy, QString("b"));
    QCOMPARE(ba.error.code, -32020);

    QVERIFY(ValidatorChain(QList<std::shared_ptr<MethodValidator>>{a, b}).check(context, "y", {}).accepted);
}

void TestMethodsChain::catalogVerdicts()
{
    const ValidatorChain chain(QList<std::shared_ptr<MethodValidator>>{catalogValidator()});
    const CallContext context;

    auto v = chain.check(context, "nope", {});
    QVERIFY(!v.accepted);
    QCOMPARE(v.error.code, -32601);
    QCOMPARE(v.error.data.toObject(), QJsonObject({{"reason", "unknown"}}));
    QCOMPARE(v.error.refusedBy, QString("catalog"));

    v = chain.check(context, "off", {});
    QCOMPARE(v.error.code, -32601);
    QCOMPARE(v.error.data.toObject(), QJsonObject({{"reason", "disabled"}}));

    v = chain.check(context, "echo", QJsonObject{{"any", "thing"}});
    QVERIFY(v.accepted);
    QCOMPARE(v.method.name, QString("echo"));

    // The switch is read on every call.
    QVERIFY(m_registry->setEnabled("echo", false));
    QCOMPARE(chain.check(context, "echo", {}).error.data.toObject().value("reason").toString(), QString("disabled"));
    QVERIFY(m_registry->setEnabled("echo", true));
    QVERIFY(chain.check(context, "echo", {}).accepted);
}

void TestMethodsChain::orderDecidesWhoRefuses()
{
    // "admin.reset" is unknown to the catalog AND forbidden by the policy.
    auto policy = std::make_shared<PrefixPolicy>("naming", "admin.", -32001);
    QList<std::shared_ptr<MethodValidator>> available{catalogValidator(), policy};
    QString error;

    auto chain = ValidatorChain::assemble(available, {}, &error);
    QVERIFY2(chain, qPrintable(error));
    QCOMPARE(chain->names(), QStringList({"catalog", "naming"}));
    QCOMPARE(chain->check({}, "admin.reset", {}).error.refusedBy, QString("catalog"));

    chain = ValidatorChain::assemble(available, {"naming", "catalog"}, &error);
    QVERIFY2(chain, qPrintable(error));
    QCOMPARE(chain->names(), QStringList({"naming", "catalog"}));
    const auto v = chain->check({}, "admin.reset", {});
    QCOMPARE(v.error.refusedBy, QString("naming"));
    QCOMPARE(v.error.code, -32001);

    chain = ValidatorChain::assemble(available, {"catalog"}, &error); // naming loaded, not in force
    QVERIFY(chain);
    QCOMPARE(chain->names(), QStringList({"catalog"}));
}

void TestMethodsChain::paramsRefusalCarriesErrors()
{
    auto arity = std::make_shared<ArityValidator>();
    const ValidatorChain catalogFirst(QList<std::shared_ptr<MethodValidator>>{catalogValidator(), arity});
    const ValidatorChain arityFirst(QList<std::shared_ptr<MethodValidator>>{arity, catalogValidator()});
    const QJsonArray bad{1, "two", 3, 4};

    auto v = catalogFirst.check({}, "sum", bad);
    QCOMPARE(v.error.code, -32602);
    QCOMPARE(v.error.message, QString("Invalid params"));
    QCOMPARE(v.error.refusedBy, QString("catalog"));
    QVERIFY(v.error.data.isArray());
    const QJsonObject first = v.error.data.toArray().first().toObject();
    QCOMPARE(first.value("path").toString(), QString("/1"));
    QVERIFY(!first.value("message").toString().isEmpty());

    v = arityFirst.check({}, "sum", bad);
    QCOMPARE(v.error.code, -32602);
    QCOMPARE(v.error.refusedBy, QString("arity"));
    QCOMPARE(v.error.data.toArray().first().toObject().value("message").toString(), QString("at most 3 params"));

    QVERIFY(catalogFirst.check({}, "sum", QJsonArray{1, 2}).accepted);
    // Absent params are checked as null: sum wants an array.
    QCOMPARE(catalogFirst.check({}, "sum", QJsonValue(QJsonValue::Undefined)).error.code, -32602);
}

void TestMethodsChain::firstCaseWins()
{
    auto extra = std::make_shared<ExtraCaseValidator>();
    const ValidatorChain chain(QList<std::shared_ptr<MethodValidator>>{extra, catalogValidator()});
    QCOMPARE(chain.check({}, "echo", {}).method.name, QString("echo"));
    QCOMPARE(chain.check({}, "ping", {}).error.refusedBy, QString("catalog")); // still not in the catalog
    QStringList names;
    for (const MethodCase &c : chain.cases())
        names << c.name;
    QCOMPARE(names, QStringList({"ping", "echo", "sum", "off"}));
    QCOMPARE(extra->names(), QStringList({"ping"}));
}

void TestMethodsChain::throwingValidatorIsContained()
{
    const ValidatorChain chain(QList<std::shared_ptr<MethodValidator>>{std::make_shared<ThrowingValidator>()});
    const auto v = chain.check({}, "echo", {});
    QVERIFY(!v.accepted);
    QCOMPARE(v.error.code, -32603);
    QCOMPARE(v.error.refusedBy, QString("thrower"));
    QVERIFY(v.error.data.toString().contains("boom"));
}

void TestMethodsChain::assembleErrors()
{
    auto a = std::make_shared<PrefixPolicy>("a", "x", 1);
    auto a2 = std::make_shared<PrefixPolicy>("a", "y", 2);
    auto b = std::make_shared<PrefixPolicy>("b", "x", 1);
    QString error;
    QVERIFY(!ValidatorChain::assemble({a, a2}, {}, &error));
    QVERIFY2(error.contains("two validators are named \"a\""), qPrintable(error));
    QVERIFY(!ValidatorChain::assemble({a, b}, {"a", "c"}, &error));
    QVERIFY2(error.contains("\"c\", which is not loaded (loaded: a, b)"), qPrintable(error));
    QVERIFY(!ValidatorChain::assemble({a, b}, {"a", "b", "a"}, &error));
    QVERIFY2(error.contains("\"a\" twice"), qPrintable(error));
}

void TestMethodsChain::configureErrors()
{
    auto arity = std::make_shared<ArityValidator>();
    const ValidatorChain chain(QList<std::shared_ptr<MethodValidator>>{catalogValidator(), arity});
    const QStringList known{"catalog", "arity", "loadedButIdle"};
    QString error;

    QVERIFY(chain.configure(QJsonObject{{"arity", QJsonObject{{"max", 1}}}, {"loadedButIdle", QJsonObject{}}},
                            known, &error));
    QCOMPARE(arity->m_max, 1);
    QCOMPARE(chain.check({}, "sum", QJsonArray{1, 2}).error.refusedBy, QString("arity"));

    QVERIFY(!chain.configure(QJsonObject{{"arty", QJsonObject{}}}, known, &error));
    QVERIFY2(error.contains("\"arty\", which is not loaded"), qPrintable(error));
    QVERIFY(!chain.configure(QJsonObject{{"arity", 3}}, known, &error));
    QVERIFY2(error.contains("validatorSettings.arity must be an object"), qPrintable(error));
    QVERIFY(!chain.configure(QJsonObject{{"arity", QJsonObject{{"max", "x"}}}}, known, &error));
    QVERIFY2(error.contains("validator arity rejects its settings: only a numeric"), qPrintable(error));
    QVERIFY(!chain.configure(QJsonObject{{"catalog", QJsonObject{{"strict", true}}}}, known, &error));
    QVERIFY2(error.contains("validator catalog rejects its settings: takes no settings"), qPrintable(error));
}

std::shared_ptr<MethodValidator> TestMethodsChain::loadRateLimit()
{
    QList<LoadedValidatorPlugin> plugins;
    QString error;
    if (!ValidatorPluginLoader::loadDirectory(QStringLiteral(SWITCHBOARD_PLUGINS_DIR), &plugins, &error)) {
        qWarning("%s", qPrintable(error));
        return nullptr;
    }
    for (const LoadedValidatorPlugin &p : plugins) {
        if (p.validator && p.validator->name() == QLatin1String("ratelimit"))
            return p.validator;
    }
    return nullptr;
}

void TestMethodsChain::builtPluginLoads()
{
    QList<LoadedValidatorPlugin> plugins;
    QString error;
    QVERIFY2(ValidatorPluginLoader::loadDirectory(QStringLiteral(SWITCHBOARD_PLUGINS_DIR), &plugins, &error),
             qPrintable(error));
    // The built plugins: the kv handler plugin and the ratelimit validator,
    // in file-name order; each is of one kind only.
    QCOMPARE(plugins.size(), 2);
    QVERIFY(plugins.first().file.contains("switchboard_kv"));
    QVERIFY(plugins.first().handler && !plugins.first().validator);
    const LoadedValidatorPlugin &p = plugins.at(1);
    QVERIFY(!p.handler);
    QCOMPARE(p.validator->name(), QString("ratelimit"));
    QCOMPARE(p.metaData.value("name").toString(), QString("ratelimit"));
    QVERIFY(p.file.endsWith(".so") || p.file.endsWith(".dll") || p.file.endsWith(".dylib"));
    QVERIFY(p.validator->cases().isEmpty()); // a pure policy

    // Loading again yields the same instance: libraries are never unloaded.
    LoadedValidatorPlugin again;
    QVERIFY2(ValidatorPluginLoader::loadFile(p.file, &again, &error), qPrintable(error));
    QCOMPARE(again.validator.get(), p.validator.get());
}

void TestMethodsChain::builtPluginRefusesOverRate()
{
    auto rateLimit = loadRateLimit();
    QVERIFY(rateLimit);
    QString error;
    QVERIFY2(rateLimit->configure(QJsonObject{{"callsPerSecond", 0.5}, {"burst", 2}}, &error), qPrintable(error));
    const ValidatorChain chain(QList<std::shared_ptr<MethodValidator>>{rateLimit, catalogValidator()});
    const CallContext one{101, "jsonrpc"};
    const CallContext two{102, "jsonrpc"};

    QVERIFY(chain.check(one, "echo", {}).accepted);
    QVERIFY(chain.check(one, "echo", {}).accepted);
    const auto refused = chain.check(one, "echo", {});
    QVERIFY(!refused.accepted);
    QCOMPARE(refused.error.code, -32029);
    QCOMPARE(refused.error.message, QString("rate limited"));
    QCOMPARE(refused.error.refusedBy, QString("ratelimit"));
    const double retry = refused.error.data.toObject().value("retryAfterMs").toDouble();
    QVERIFY2(retry > 0 && retry <= 2000, qPrintable(QString::number(retry)));

    // Per connection: another one still has its burst.
    QVERIFY(chain.check(two, "echo", {}).accepted);
    // A closed connection starts afresh.
    chain.connectionClosed(101);
    QVERIFY(chain.check(one, "echo", {}).accepted);
}

void TestMethodsChain::builtPluginSettings()
{
    auto rateLimit = loadRateLimit();
    QVERIFY(rateLimit);
    QString error;
    QVERIFY(rateLimit->configure(QJsonObject{{"callsPerSecond", 0.001}, {"burst", 1}, {"methods", QJsonArray{"sum"}},
                                             {"code", -32099}},
                                 &error));
    const ValidatorChain chain(QList<std::shared_ptr<MethodValidator>>{rateLimit});
    const CallContext c{200, "dm-rpc"};
    QVERIFY(chain.check(c, "sum", {}).accepted);
    QCOMPARE(chain.check(c, "sum", {}).error.code, -32099);
    for (int i = 0; i < 10; ++i)
        QVERIFY(chain.check(c, "echo", {}).accepted); // not limited

    for (const QJsonObject &bad : {QJsonObject{{"callsPerSecond", 0}}, QJsonObject{{"callsPerSecond", "fast"}},
                                   QJsonObject{{"burst", 0.5}}, QJsonObject{{"methods", "sum"}},
                                   QJsonObject{{"bogus", 1}}}) {
        error.clear();
        QVERIFY(!rateLimit->configure(bad, &error));
        QVERIFY(!error.isEmpty());
    }
    // Rejected settings left the old ones in force.
    QCOMPARE(chain.check(c, "sum", {}).error.code, -32099);
    QVERIFY(rateLimit->configure({}, &error)); // defaults again, for the other tests
}

void TestMethodsChain::textFileNamedLikeLibrary()
{
    QTemporaryDir dir;
    QFile fake(dir.filePath("libbroken.so"));
    QVERIFY(fake.open(QIODevice::WriteOnly));
    fake.write("this is not a shared library\n");
    fake.close();

    QList<LoadedValidatorPlugin> plugins;
    QString error;
    QVERIFY(!ValidatorPluginLoader::loadDirectory(dir.path(), &plugins, &error));
    QVERIFY2(error.startsWith("plugin ") && error.contains("libbroken.so: "), qPrintable(error));
    QVERIFY(plugins.isEmpty());
}

void TestMethodsChain::wrongIidPlugin()
{
    QList<LoadedValidatorPlugin> plugins;
    QString error;
    QVERIFY(!ValidatorPluginLoader::loadDirectory(QStringLiteral(WRONG_IID_PLUGIN_DIR), &plugins, &error));
    QVERIFY2(error.contains("switchboard_test_wrongiid")
                 && error.contains("implements \"org.example.NotAValidator/1.0\", not "
                                   "\"org.switchboard.MethodValidator/1.0\" or \"org.switchboard.MethodHandler/1.0\""),
             qPrintable(error));
}

void TestMethodsChain::pluginWithoutInterface()
{
    QList<LoadedValidatorPlugin> plugins;
    QString error;
    QVERIFY(!ValidatorPluginLoader::loadDirectory(QStringLiteral(LIAR_PLUGIN_DIR), &plugins, &error));
    QVERIFY2(error.contains("switchboard_test_liar") && error.contains("does not implement MethodValidator"),
             qPrintable(error));
}

void TestMethodsChain::missingDirectory()
{
    QList<LoadedValidatorPlugin> plugins;
    QString error;
    const QString dir = m_dir.filePath("no-such-dir");
    QVERIFY(!ValidatorPluginLoader::loadDirectory(dir, &plugins, &error));
    QCOMPARE(error, QStringLiteral("plugins directory %1 does not exist").arg(dir));
}

void TestMethodsChain::otherFilesAreIgnored()
{
    QTemporaryDir dir;
    QFile readme(dir.filePath("README.txt"));
    QVERIFY(readme.open(QIODevice::WriteOnly));
    readme.close();
    QVERIFY(QDir().mkpath(dir.filePath("sub.so")));
    QList<LoadedValidatorPlugin> plugins;
    QString error;
    QVERIFY2(ValidatorPluginLoader::loadDirectory(dir.path(), &plugins, &error), qPrintable(error));
    QVERIFY(plugins.isEmpty());
}

QTEST_GUILESS_MAIN(TestMethodsChain)
#include "tst_methods_chain.moc"
