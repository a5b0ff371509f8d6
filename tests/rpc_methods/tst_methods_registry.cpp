// MethodRegistry: the one switch per method, its persistence across a
// restart (a new registry over the same state file), counters, and toggles
// racing from many threads.

#include "rpc/methodcatalog.h"
#include "rpc/methodregistry.h"
#include "rpc/methodstatefile.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

class TestMethodsRegistry : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void defaultsFromCatalog();
    void toggleSignalsOnlyOnChange();
    void switchesSurviveRestart();
    void foreignSwitchesAreKept();
    void corruptStateFileIsIgnored();
    void unwritableStateFileKeepsSwitch();
    void defaultStatePath();
    void counters();
    void concurrentTogglesLastWordWins();

private:
    MethodCatalog catalog(const QByteArray &json = R"({"methods":[
        {"name":"echo"},{"name":"sum","enabled":false},{"name":"time"}]})");
    QString statePath(const QString &name) const { return m_dir.filePath(name); }
    QTemporaryDir m_dir;
};

void TestMethodsRegistry::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true); // never touch the user's config
    QVERIFY(m_dir.isValid());
}

MethodCatalog TestMethodsRegistry::catalog(const QByteArray &json)
{
    QString error;
    auto c = MethodCatalog::parse(json, "test", &error);
    if (!c)
        qFatal("%s", qPrintable(error));
    return *c;
}

void TestMethodsRegistry::defaultsFromCatalog()
{
    MethodRegistry registry(catalog(), statePath("defaults.json"));
    QCOMPARE(registry.names(), QStringList({"echo", "sum", "time"}));
    QCOMPARE(registry.enabledNames(), QStringList({"echo", "time"}));
    QVERIFY(registry.isEnabled("echo"));
    QVERIFY(!registry.isEnabled("sum"));
    QVERIFY(!registry.isEnabled("unknown"));
    QVERIFY(!registry.contains("unknown"));
    QVERIFY(registry.persistenceError().isEmpty());
    QVERIFY(!QFile::exists(statePath("defaults.json"))); // nothing switched, nothing written
}

void TestMethodsRegistry::toggleSignalsOnlyOnChange()
{
    MethodRegistry registry(catalog(), statePath("signals.json"));
    QSignalSpy toggled(&registry, &MethodRegistry::methodToggled);
    QVERIFY(!registry.setEnabled("unknown", false));
    QVERIFY(registry.setEnabled("echo", true)); // already on
    QCOMPARE(toggled.count(), 0);
    QVERIFY(registry.setEnabled("echo", false));
    QCOMPARE(toggled.count(), 1);
    QCOMPARE(toggled.at(0).at(0).toString(), QString("echo"));
    QCOMPARE(toggled.at(0).at(1).toBool(), false);
    QVERIFY(!registry.isEnabled("echo"));
    QVERIFY(registry.setEnabled("sum", true));
    QCOMPARE(toggled.count(), 2);
    QCOMPARE(registry.enabledNames(), QStringList({"sum", "time"}));
}

void TestMethodsRegistry::switchesSurviveRestart()
{
    const QString path = statePath("restart.json");
    {
        MethodRegistry first(catalog(), path);
        QVERIFY(first.setEnabled("echo", false));
        QVERIFY(first.setEnabled("sum", true));
        QVERIFY(first.persistenceError().isEmpty());
    }
    QVERIFY(QFile::exists(path));
    MethodRegistry second(catalog(), path);
    QVERIFY(!second.isEnabled("echo"));
    QVERIFY(second.isEnabled("sum"));
    QVERIFY(second.isEnabled("time"));
    const auto status = second.status("sum");
    QVERIFY(status);
    QVERIFY(status->enabled);
    QVERIFY(!status->enabledByDefault);
    // And back: the catalog default is a switch like any other.
    QVERIFY(second.setEnabled("echo", true));
    MethodRegistry third(catalog(), path);
    QVERIFY(third.isEnabled("echo"));
}

void TestMethodsRegistry::foreignSwitchesAreKept()
{
    const QString path = statePath("foreign.json");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"({"methods": {"gone": false, "echo": false}})");
    file.close();

    MethodRegistry registry(catalog(), path);
    QVERIFY(!registry.isEnabled("echo"));
    QVERIFY(registry.setEnabled("time", false));

    QHash<QString, bool> stored;
    QString error;
    QVERIFY(MethodStateFile(path).load(&stored, &error));
    QCOMPARE(stored.value("gone", true), false); // a method of another catalog keeps its switch
    QCOMPARE(stored.value("echo", true), false);
    QCOMPARE(stored.value("time", true), false);
}

void TestMethodsRegistry::corruptStateFileIsIgnored()
{
    const QString path = statePath("corrupt.json");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("{\"methods\": [tru");
    file.close();

    MethodRegistry registry(catalog(), path);
    QVERIFY(registry.persistenceError().contains(path));
    QCOMPARE(registry.enabledNames(), QStringList({"echo", "time"}));
    QVERIFY(registry.setEnabled("echo", false)); // and the next write repairs the file
    QVERIFY(registry.persistenceError().isEmpty());
    MethodRegistry after(catalog(), path);
    QVERIFY(!after.isEnabled("echo"));
}

void TestMethodsRegistry::unwritableStateFileKeepsSwitch()
{
    // A path below a regular file cannot be created.
    const QString blocker = statePath("blocker");
    QFile file(blocker);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.close();
    MethodRegistry registry(catalog(), blocker + "/sub/state.json");
    QVERIFY(registry.setEnabled("echo", false));
    QVERIFY(!registry.isEnabled("echo"));
    QVERIFY(!registry.persistenceError().isEmpty());
}

void TestMethodsRegistry::defaultStatePath()
{
    MethodRegistry registry(catalog(), QString());
    QCOMPARE(registry.stateFilePath(), MethodStateFile::defaultPath());
    QVERIFY(registry.stateFilePath().endsWith("/switchboard/method-state.json"));
}

void TestMethodsRegistry::counters()
{
    MethodRegistry registry(catalog(), statePath("counters.json"));
    registry.record("echo", MethodRegistry::CallResult::Succeeded, 2'000'000);
    registry.record("echo", MethodRegistry::CallResult::Refused, 1'000'000);
    registry.record("echo", MethodRegistry::CallResult::Failed, 3'000'000);
    registry.record("nope", MethodRegistry::CallResult::Refused, 1'000);
    const auto echo = registry.status("echo");
    QVERIFY(echo);
    QCOMPARE(echo->counters.calls, quint64(3));
    QCOMPARE(echo->counters.refusals, quint64(1));
    QCOMPARE(echo->counters.errors, quint64(1));
    QCOMPARE(echo->counters.totalLatencyMs, 6.0);
    QCOMPARE(echo->counters.meanLatencyMs(), 2.0);
    QCOMPARE(registry.unknownCalls(), quint64(1));
    QCOMPARE(registry.status("sum")->counters.calls, quint64(0));
    QCOMPARE(registry.status("sum")->counters.meanLatencyMs(), 0.0);

    const QJsonArray json = registry.toJson();
    QCOMPARE(json.size(), 3);
    const QJsonObject first = json.at(0).toObject();
    QCOMPARE(first.value("name").toString(), QString("echo"));
    QCOMPARE(first.value("enabled").toBool(), true);
    QCOMPARE(first.value("counters").toObject().value("calls").toInt(), 3);
    QCOMPARE(first.value("counters").toObject().value("meanLatencyMs").toDouble(), 2.0);
}

void TestMethodsRegistry::concurrentTogglesLastWordWins()
{
    const QString path = statePath("race.json");
    MethodRegistry registry(catalog(), path);
    std::atomic<bool> stop{false};
    std::atomic<quint64> reads{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(t);
            for (int i = 0; i < 300; ++i) {
                const QString name = i % 2 ? QStringLiteral("echo") : QStringLiteral("sum");
                registry.setEnabled(name, rng() % 2);
            }
        });
    }
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&] {
            while (!stop.load()) {
                registry.isEnabled("echo");
                registry.record("echo", MethodRegistry::CallResult::Succeeded, 10);
                registry.snapshot();
                reads.fetch_add(1);
            }
        });
    }
    for (int t = 0; t < 4; ++t)
        threads[size_t(t)].join();
    stop = true;
    for (size_t t = 4; t < threads.size(); ++t)
        threads[t].join();
    QVERIFY(reads.load() > 0);

    // The file holds whatever the switches ended at...
    MethodRegistry restarted(catalog(), path);
    QCOMPARE(restarted.isEnabled("echo"), registry.isEnabled("echo"));
    QCOMPARE(restarted.isEnabled("sum"), registry.isEnabled("sum"));
    // ...and a last, single toggle decides.
    const bool last = !registry.isEnabled("sum");
    QVERIFY(registry.setEnabled("sum", last));
    QCOMPARE(MethodRegistry(catalog(), path).isEnabled("sum"), last);
    QCOMPARE(registry.status("echo")->counters.calls, reads.load());
}

QTEST_GUILESS_MAIN(TestMethodsRegistry)
#include "tst_methods_registry.moc"
