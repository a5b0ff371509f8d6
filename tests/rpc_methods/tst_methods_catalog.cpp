// MethodCatalog: the bundled catalog, custom catalogs, and one clear message
// naming the file and the reason for every kind of bad catalog.

#include "rpc/jsonschema.h"
#include "rpc/methodcatalog.h"

#include <QFile>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QJsonArray>
#include <QTest>

class TestMethodsCatalog : public QObject
{
    Q_OBJECT

private slots:
    void bundledCatalog();
    void customCatalog();
    void handlersAndUpstreams();
    void badCatalog_data();
    void badCatalog();
    void missingFile();
    void directoryInsteadOfFile();
    void oversizedFile();

private:
    QString write(const QByteArray &content);
    QTemporaryDir m_dir;
    int m_files = 0;
};

QString TestMethodsCatalog::write(const QByteArray &content)
{
    const QString path = m_dir.filePath(QStringLiteral("catalog%1.json").arg(++m_files));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

void TestMethodsCatalog::bundledCatalog()
{
    QString error;
    const auto catalog = MethodCatalog::load(QString(), &error);
    QVERIFY2(catalog, qPrintable(error));
    QCOMPARE(catalog->source(), MethodCatalog::bundledFile());
    for (const char *name : {"echo", "sum", "time", "subscribe", "unsubscribe", "publish", "rpc.discover"}) {
        const CatalogMethod *m = catalog->find(QLatin1String(name));
        QVERIFY2(m, name);
        QVERIFY(m->enabled);
        QVERIFY(!m->description.isEmpty());
    }
    QVERIFY(!catalog->find("echo")->paramsSchema); // any params
    const auto sum = catalog->find("sum")->paramsSchema;
    QVERIFY(sum);
    QVERIFY(sum->accepts(QJsonArray{1, 2.5, -3}));
    QVERIFY(!sum->accepts(QJsonArray{1, "2"}));
    QVERIFY(catalog->find("time")->paramsSchema->accepts(QJsonValue::Null));
    QVERIFY(!catalog->find("time")->paramsSchema->accepts(QJsonArray{1}));
    QVERIFY(catalog->find("publish")->paramsSchema->accepts(QJsonObject{{"topic", "t"}, {"data", QJsonArray{}}}));
    QVERIFY(!catalog->find("subscribe")->paramsSchema->accepts(QJsonObject{{"topic", 1}}));
    QVERIFY(!catalog->find("nope"));
}

void TestMethodsCatalog::customCatalog()
{
    QVERIFY(m_dir.isValid());
    const QString path = write(R"({"methods": [
        {"name": "echo"},
        {"name": "sum", "description": "adds", "enabled": false,
         "params": {"type": "array"}, "result": {"type": "number"}},
        {"name": "anything", "params": true}
    ]})");
    QString error;
    const auto catalog = MethodCatalog::load(path, &error);
    QVERIFY2(catalog, qPrintable(error));
    QCOMPARE(catalog->names(), QStringList({"echo", "sum", "anything"}));
    QCOMPARE(catalog->source(), path);
    QVERIFY(catalog->find("echo")->enabled);
    QVERIFY(catalog->find("echo")->description.isEmpty());
    QVERIFY(!catalog->find("sum")->enabled);
    QCOMPARE(catalog->find("sum")->description, QString("adds"));
    QVERIFY(catalog->find("anything")->paramsSchema->accepts(QJsonObject{{"x", 1}}));
}

// PRODUCT.md section 7: each kind of handler, the upstreams and the default.
void TestMethodsCatalog::handlersAndUpstreams()
{
    QVERIFY(m_dir.isValid());
    const QString path = write(R"({"upstreams": {"orders": {"url": "http://127.0.0.1:9000/rpc?v=2", "timeoutMs": 250,
                                                     "maxInFlight": 8, "headers": {"Authorization": "Bearer s"}}},
        "upstream": "orders",
        "methods": [{"name": "echo"}, {"name": "shout", "handler": {"builtin": "echo"}},
                    {"name": "orders.create", "handler": {"upstream": "orders"}},
                    {"name": "kv.get", "handler": {"plugin": "kv"}}, {"name": "orders.list"}]})");
    QString error;
    const auto catalog = MethodCatalog::load(path, &error);
    QVERIFY2(catalog, qPrintable(error));
    QCOMPARE(catalog->find("echo")->handler.kind, HandlerSpec::Kind::Default);
    QCOMPARE(catalog->find("shout")->handler.kind, HandlerSpec::Kind::Builtin);
    QCOMPARE(catalog->find("shout")->handler.target, QStringLiteral("echo"));
    QCOMPARE(catalog->find("orders.create")->handler.kind, HandlerSpec::Kind::Upstream);
    QCOMPARE(catalog->find("orders.create")->handler.target, QStringLiteral("orders"));
    QCOMPARE(catalog->find("kv.get")->handler.kind, HandlerSpec::Kind::Plugin);
    QCOMPARE(catalog->find("orders.list")->handler.kind, HandlerSpec::Kind::Default);
    QCOMPARE(catalog->defaultUpstream(), QStringLiteral("orders"));
    QCOMPARE(catalog->upstreams().size(), 1);
    const UpstreamSpec &orders = catalog->upstreams().first();
    QCOMPARE(orders.url.toString(), QStringLiteral("http://127.0.0.1:9000/rpc?v=2"));
    QCOMPARE(orders.timeoutMs, 250);
    QCOMPARE(orders.maxInFlight, 8);
    QCOMPARE(orders.maxConnections, 64);
    QCOMPARE(orders.headers.size(), 1);
    // The admin view names headers, never their values.
    QCOMPARE(orders.toJson().value("headers").toArray(), QJsonArray{"Authorization"});
}

void TestMethodsCatalog::badCatalog_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("reason");

    QTest::newRow("invalid JSON") << QByteArray(R"({"methods": [)") << "invalid JSON";
    QTest::newRow("empty file") << QByteArray() << "invalid JSON";
    QTest::newRow("top level array") << QByteArray(R"([{"name":"echo"}])") << "top level must be an object";
    QTest::newRow("unknown top-level key") << QByteArray(R"({"methods": [], "method": []})")
                                           << "unknown top-level key \"method\"";
    QTest::newRow("no methods") << QByteArray(R"({})") << "\"methods\" must be an array";
    QTest::newRow("methods not array") << QByteArray(R"({"methods": {}})") << "\"methods\" must be an array";
    QTest::newRow("entry not object") << QByteArray(R"({"methods": ["echo"]})") << "methods[0] is not an object";
    QTest::newRow("missing name") << QByteArray(R"({"methods": [{"description": "x"}]})")
                                  << "methods[0] needs a non-empty string \"name\"";
    QTest::newRow("empty name") << QByteArray(R"({"methods": [{"name": " "}]})") << "non-empty string \"name\"";
    QTest::newRow("name not string") << QByteArray(R"({"methods": [{"name": 3}]})") << "\"name\"";
    QTest::newRow("duplicate") << QByteArray(R"({"methods": [{"name": "a"}, {"name": "b"}, {"name": "a"}]})")
                               << "duplicate method name \"a\" (methods[0] and methods[2])";
    QTest::newRow("unknown key") << QByteArray(R"({"methods": [{"name": "a", "enabeld": false}]})")
                                 << "methods[0] has the unknown key \"enabeld\"";
    QTest::newRow("enabled not bool") << QByteArray(R"({"methods": [{"name": "a", "enabled": "no"}]})")
                                      << "method \"a\" (methods[0]): \"enabled\" must be true or false";
    QTest::newRow("description not string") << QByteArray(R"({"methods": [{"name": "a", "description": 1}]})")
                                            << "\"description\" must be a string";
    QTest::newRow("params schema does not compile")
        << QByteArray(R"({"methods": [{"name": "a", "params": {"type": "nonsense"}}]})")
        << "method \"a\" (methods[0]): the \"params\" schema does not compile";
    QTest::newRow("params schema not a schema") << QByteArray(R"({"methods": [{"name": "a", "params": 12}]})")
                                               << "the \"params\" schema does not compile";
    QTest::newRow("result schema does not compile")
        << QByteArray(R"({"methods": [{"name": "a", "result": {"$ref": "#/nowhere"}}]})")
        << "the \"result\" schema does not compile";
    QTest::newRow("name too long") << (QByteArray(R"({"methods": [{"name": ")") + QByteArray(101, 'x') + "\"}]}")
                                   << "longer than 100 characters";
    // Found by fuzz_catalog: valijson recursed until the stack overflowed on
    // these (at start-up, or at the first call of the method).
    const char *cycle = "the \"params\" schema does not compile: the schema refers to itself";
    QTest::newRow("self $ref") << QByteArray(R"({"methods":[{"name":"r","params":{"$ref":"#"}}]})") << cycle;
    QTest::newRow("$ref loop")
        << QByteArray(R"({"methods":[{"name":"r","params":{"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},"$ref":"#/definitions/a"}}]})")
        << cycle;
    QTest::newRow("relative $ref") << QByteArray(R"({"methods":[{"name":"r","params":{"$ref":"x"}}]})") << cycle;
    QTest::newRow("allOf cycle") << QByteArray(R"({"methods":[{"name":"r","params":{"allOf":[{"$ref":"#"}]}}]})")
                                 << cycle;
    QTest::newRow("not cycle") << QByteArray(R"({"methods":[{"name":"r","params":{"not":{"$ref":"#"}}}]})") << cycle;
    // PRODUCT.md section 7: what serves a method, and the upstreams.
    const QString handler = "\"handler\" must be one of {\"builtin\": NAME}, {\"upstream\": NAME}, {\"plugin\": NAME}";
    QTest::newRow("handler a string") << QByteArray(R"({"methods":[{"name":"a","handler":"echo"}]})") << handler;
    QTest::newRow("handler of two kinds")
        << QByteArray(R"({"methods":[{"name":"a","handler":{"builtin":"echo","upstream":"u"}}]})") << handler;
    QTest::newRow("handler of no kind") << QByteArray(R"({"methods":[{"name":"a","handler":{"lambda":"x"}}]})") << handler;
    QTest::newRow("handler naming nothing") << QByteArray(R"({"methods":[{"name":"a","handler":{"builtin":""}}]})")
                                            << handler;
    QTest::newRow("upstreams an array") << QByteArray(R"({"upstreams":[],"methods":[]})")
                                        << "\"upstreams\" must be an object of named upstreams";
    QTest::newRow("upstream with a bad url") << QByteArray(R"({"upstreams":{"u":{"url":"ftp://x/"}},"methods":[]})")
                                             << "upstream \"u\": \"url\" must be an http:// or https:// URL";
    QTest::newRow("default upstream undefined") << QByteArray(R"({"upstream":"nope","methods":[]})")
                                                << "\"upstream\" must name one of \"upstreams\"";
    QTest::newRow("handler naming an undefined upstream")
        << QByteArray(R"({"upstreams":{"u":{"url":"http://h/"}},"methods":[{"name":"a","handler":{"upstream":"v"}}]})")
        << "method \"a\" (methods[0]): no upstream named \"v\" in \"upstreams\"";
}

void TestMethodsCatalog::badCatalog()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, reason);
    QVERIFY(m_dir.isValid());
    const QString path = write(content);
    QString error;
    QVERIFY(!MethodCatalog::load(path, &error));
    QVERIFY2(error.startsWith(QStringLiteral("catalog %1: ").arg(path)), qPrintable(error));
    QVERIFY2(error.contains(reason), qPrintable(error));
    QVERIFY(!error.contains('\n'));
}

void TestMethodsCatalog::missingFile()
{
    const QString path = m_dir.filePath("no-such-catalog.json");
    QString error;
    QVERIFY(!MethodCatalog::load(path, &error));
    QVERIFY2(error.startsWith(QStringLiteral("catalog %1: cannot read it").arg(path)), qPrintable(error));
}

void TestMethodsCatalog::directoryInsteadOfFile()
{
    QString error;
    QVERIFY(!MethodCatalog::load(m_dir.path(), &error));
    QVERIFY2(error.startsWith(QStringLiteral("catalog %1: ").arg(m_dir.path())), qPrintable(error));
}

void TestMethodsCatalog::oversizedFile()
{
    const QString path = write(QByteArray(MethodCatalog::MaxFileBytes + 10, ' '));
    QString error;
    QVERIFY(!MethodCatalog::load(path, &error));
    QVERIFY2(error.contains("larger than"), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestMethodsCatalog)
#include "tst_methods_catalog.moc"
