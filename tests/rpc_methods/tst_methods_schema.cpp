// JsonSchema (valijson): the official JSON Schema test suite for the keywords
// the catalog uses, and the {path, message} errors a client gets back.

#include "rpc/jsonschema.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

class TestMethodsSchema : public QObject
{
    Q_OBJECT

private slots:
    void suite_data();
    void suite();
    void errorPaths_data();
    void errorPaths();
    void pointerEscaping();
    void errorListIsCapped();
    void hugeInvalidValueGetsOneError();
    void deepRecursionDoesNotCrash();
    void badSchemasDoNotCompile_data();
    void badSchemasDoNotCompile();
};

// Keywords the catalog relies on (draft 7).
static const QStringList suiteFiles = {"type", "items", "properties", "required", "additionalProperties",
                                       "maxItems", "minLength", "maxLength", "minimum", "enum", "maxProperties"};

void TestMethodsSchema::suite_data()
{
    QTest::addColumn<QJsonValue>("schema");
    QTest::addColumn<QJsonValue>("data");
    QTest::addColumn<bool>("valid");

    const QString root = QStringLiteral(JSON_SCHEMA_TEST_SUITE_DIR);
    if (root.isEmpty() || !QDir(root).exists()) {
        QTest::newRow("suite not installed") << QJsonValue() << QJsonValue() << false;
        return;
    }
    for (const QString &name : suiteFiles) {
        QFile file(root + QStringLiteral("/tests/draft7/%1.json").arg(name));
        QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
        const QJsonArray groups = QJsonDocument::fromJson(file.readAll()).array();
        QVERIFY2(!groups.isEmpty(), qPrintable(file.fileName()));
        for (const QJsonValue &g : groups) {
            const QJsonObject group = g.toObject();
            for (const QJsonValue &t : group.value("tests").toArray()) {
                const QJsonObject test = t.toObject();
                const QString row = QStringLiteral("%1: %2: %3")
                                        .arg(name, group.value("description").toString(),
                                             test.value("description").toString());
                QTest::newRow(qPrintable(row)) << group.value("schema") << test.value("data")
                                               << test.value("valid").toBool();
            }
        }
    }
}

void TestMethodsSchema::suite()
{
    QFETCH(QJsonValue, schema);
    QFETCH(QJsonValue, data);
    QFETCH(bool, valid);
    if (schema.isUndefined())
        QSKIP("json-schema-test-suite is not installed");

    QString error;
    const auto compiled = JsonSchema::compile(schema, &error);
    QVERIFY2(compiled, qPrintable(error));
    QCOMPARE(compiled->accepts(data), valid);
    // The detailed check agrees with the quick one.
    QCOMPARE(compiled->check(data).isEmpty(), valid);
}

static QJsonValue json(const char *text)
{
    // Wrapped in an array so scalars parse too.
    return QJsonDocument::fromJson(QByteArray("[") + text + "]").array().at(0);
}

static QStringList paths(const QList<ParamsError> &errors)
{
    QStringList list;
    for (const ParamsError &e : errors)
        list << e.path;
    return list;
}

void TestMethodsSchema::errorPaths_data()
{
    QTest::addColumn<QJsonValue>("schema");
    QTest::addColumn<QJsonValue>("value");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("messagePart");

    const QJsonValue numbers = json(R"({"type":"array","items":{"type":"number"}})");
    const QJsonValue topic = json(R"({"type":"object","properties":{"topic":{"type":"string"}},
                                      "required":["topic"],"additionalProperties":false})");
    QTest::newRow("array item") << numbers << json(R"([1, "two", 3])") << "/1" << "type";
    QTest::newRow("whole value") << numbers << json(R"({"a":1})") << "" << "type";
    QTest::newRow("null for array") << numbers << json("null") << "" << "type";
    QTest::newRow("property type") << topic << json(R"({"topic": 5})") << "/topic" << "type";
    QTest::newRow("missing property") << topic << json(R"({})") << "" << "topic";
    QTest::newRow("extra property") << topic << json(R"({"topic":"a","extra":1})") << "" << "extra";
    QTest::newRow("nested") << json(R"({"properties":{"a":{"items":{"properties":{"b":{"type":"string"}}}}}})")
                            << json(R"({"a":[{"b":"ok"},{"b":false}]})") << "/a/1/b" << "type";
}

void TestMethodsSchema::errorPaths()
{
    QFETCH(QJsonValue, schema);
    QFETCH(QJsonValue, value);
    QFETCH(QString, path);
    QFETCH(QString, messagePart);

    QString error;
    const auto compiled = JsonSchema::compile(schema, &error);
    QVERIFY2(compiled, qPrintable(error));
    const QList<ParamsError> errors = compiled->check(value);
    QVERIFY(!errors.isEmpty());
    QVERIFY2(paths(errors).contains(path), qPrintable(paths(errors).join(" | ")));
    bool mentioned = false;
    for (const ParamsError &e : errors)
        mentioned = mentioned || (e.path == path && e.message.contains(messagePart, Qt::CaseInsensitive));
    QVERIFY2(mentioned, qPrintable(QJsonDocument(ParamsError::toJson(errors)).toJson()));
}

void TestMethodsSchema::pointerEscaping()
{
    QString error;
    const auto compiled = JsonSchema::compile(json(R"({"additionalProperties":{"type":"string"}})"), &error);
    QVERIFY(compiled);
    const QStringList p = paths(compiled->check(json(R"({"a/b~c": 1})")));
    QVERIFY2(p.contains("/a~1b~0c"), qPrintable(p.join(" | ")));
}

void TestMethodsSchema::errorListIsCapped()
{
    QString error;
    const auto compiled = JsonSchema::compile(json(R"({"items":{"type":"string"}})"), &error);
    QVERIFY(compiled);
    QJsonArray many;
    for (int i = 0; i < 100; ++i)
        many.append(i);
    const QList<ParamsError> errors = compiled->check(many);
    QCOMPARE(errors.size(), JsonSchema::MaxErrors + 1);
    QVERIFY(errors.last().message.contains("more errors"));
}

void TestMethodsSchema::hugeInvalidValueGetsOneError()
{
    QString error;
    const auto compiled = JsonSchema::compile(json(R"({"items":{"type":"string"}})"), &error);
    QVERIFY(compiled);
    QJsonArray many;
    for (int i = 0; i < 200'000; ++i)
        many.append(i);
    const QList<ParamsError> errors = compiled->check(many);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first().path, QString());
}

void TestMethodsSchema::deepRecursionDoesNotCrash()
{
    QString error;
    const auto compiled = JsonSchema::compile(json(R"({"type":"array","items":{"$ref":"#"}})"), &error);
    QVERIFY2(compiled, qPrintable(error));
    // As deep as Qt's JSON parser allows.
    QByteArray deep = QByteArray(1000, '[') + QByteArray(1000, ']');
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(deep, &parseError);
    QCOMPARE(parseError.error, QJsonParseError::NoError);
    QVERIFY(compiled->accepts(doc.array()));
    deep = QByteArray(999, '[') + "1" + QByteArray(999, ']');
    QVERIFY(!compiled->check(QJsonDocument::fromJson(deep).array()).isEmpty());
}

void TestMethodsSchema::badSchemasDoNotCompile_data()
{
    QTest::addColumn<QJsonValue>("schema");
    QTest::newRow("number") << json("5");
    QTest::newRow("string") << json(R"("object")");
    QTest::newRow("unknown type") << json(R"({"type":"nonsense"})");
    QTest::newRow("type not a string") << json(R"({"type":5})");
    QTest::newRow("properties not an object") << json(R"({"properties":5})");
    QTest::newRow("items not a schema") << json(R"({"items":"x"})");
    QTest::newRow("remote $ref") << json(R"({"$ref":"http://example.invalid/schema.json"})");
    QTest::newRow("dangling $ref") << json(R"({"$ref":"#/definitions/missing"})");
    QTest::newRow("negative maxItems") << json(R"({"maxItems":-1})");
}

void TestMethodsSchema::badSchemasDoNotCompile()
{
    QFETCH(QJsonValue, schema);
    QString error;
    QVERIFY(!JsonSchema::compile(schema, &error));
    QVERIFY(!error.isEmpty());
}

QTEST_GUILESS_MAIN(TestMethodsSchema)
#include "tst_methods_schema.moc"
