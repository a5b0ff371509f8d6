// WireJson: replies are written without QJsonDocument, so every value must
// come out byte for byte as QJsonDocument::toJson(Compact) writes it.

#include "rpc/wirejson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cmath>
#include <limits>

namespace {
// What Qt writes for `value` (as the one element of an array, since
// QJsonDocument takes only arrays and objects).
QByteArray qtJson(const QJsonValue &value)
{
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return wrapped.mid(1, wrapped.size() - 2);
}

QByteArray wireJson(const QJsonValue &value)
{
    QByteArray out;
    WireJson::appendValue(out, value);
    return out;
}

QString allControlCharacters()
{
    QString text;
    for (char16_t c = 0; c < 0x20; ++c)
        text += QChar(c);
    return text;
}
} // namespace

class TestWireJson : public QObject
{
    Q_OBJECT

private slots:
    void sameBytesAsQt_data()
    {
        QTest::addColumn<QJsonValue>("value");
        const double inf = std::numeric_limits<double>::infinity();
        QTest::newRow("null") << QJsonValue(QJsonValue::Null);
        QTest::newRow("true") << QJsonValue(true);
        QTest::newRow("int") << QJsonValue(42);
        QTest::newRow("negative") << QJsonValue(-7);
        QTest::newRow("qint64 max") << QJsonValue(std::numeric_limits<qint64>::max());
        QTest::newRow("qint64 min") << QJsonValue(std::numeric_limits<qint64>::min());
        QTest::newRow("2^53 + 1 as integer") << QJsonValue(qint64(9007199254740993LL));
        QTest::newRow("2^60 as integer") << QJsonValue(qint64(1) << 60);
        QTest::newRow("2^60 as double") << QJsonValue(std::ldexp(1.0, 60));
        QTest::newRow("2^53 as double") << QJsonValue(9007199254740992.0);
        QTest::newRow("1e15") << QJsonValue(1e15);
        QTest::newRow("1e16") << QJsonValue(1e16);
        QTest::newRow("1e21") << QJsonValue(1e21);
        QTest::newRow("1e300") << QJsonValue(1e300);
        QTest::newRow("-1e300") << QJsonValue(-1e300);
        QTest::newRow("1e-300") << QJsonValue(1e-300);
        QTest::newRow("5e-324") << QJsonValue(5e-324);
        QTest::newRow("-0") << QJsonValue(-0.0);
        QTest::newRow("0.1") << QJsonValue(0.1);
        QTest::newRow("1/3") << QJsonValue(1.0 / 3.0);
        QTest::newRow("1e-7") << QJsonValue(1e-7);
        QTest::newRow("2.5") << QJsonValue(2.5);
        QTest::newRow("3.0") << QJsonValue(3.0);
        QTest::newRow("infinity") << QJsonValue(inf);
        QTest::newRow("nan") << QJsonValue(std::nan(""));
        QTest::newRow("empty string") << QJsonValue(QString());
        QTest::newRow("controls") << QJsonValue(allControlCharacters());
        QTest::newRow("escapes") << QJsonValue(QStringLiteral("\"quoted\" back\\slash /slash \x7f del"));
        QTest::newRow("non-ASCII") << QJsonValue(QStringLiteral("é ß € 中文 \u2028\u2029 \uFEFF \uFFFF 😀"));
        QString surrogates;
        surrogates += QChar(0xD800);
        surrogates += QLatin1Char('a');
        surrogates += QChar(0xDC00);
        surrogates += QChar(0xDBFF);
        QTest::newRow("lone surrogates") << QJsonValue(surrogates);
        QTest::newRow("empty array") << QJsonValue(QJsonArray());
        QTest::newRow("empty object") << QJsonValue(QJsonObject());
        QTest::newRow("array of everything")
            << QJsonValue(QJsonArray{1, 2.5, -0.0, 1e300, QJsonValue(qint64(1) << 62), QString(), QStringLiteral("\u0000x"),
                                     true, false, QJsonValue(), QJsonArray(), QJsonObject()});
        QTest::newRow("keys in order, escaped")
            << QJsonValue(QJsonObject{{QStringLiteral("b"), 1},
                                      {QStringLiteral("a"), QJsonArray{}},
                                      {QStringLiteral("é"), QJsonObject{}},
                                      {QStringLiteral("\"\n"), QStringLiteral("v")},
                                      {QString(), 0},
                                      {QStringLiteral("A"), QJsonValue()}});
        QJsonValue deep = QJsonArray{QJsonObject{{QStringLiteral("x"), QJsonArray{1, QJsonObject{}}}}};
        for (int i = 0; i < 50; ++i)
            deep = i % 2 ? QJsonValue(QJsonArray{deep, i}) : QJsonValue(QJsonObject{{QStringLiteral("k"), deep}});
        QTest::newRow("nested") << deep;
    }

    void sameBytesAsQt()
    {
        QFETCH(QJsonValue, value);
        QCOMPARE(wireJson(value), qtJson(value));
        QCOMPARE(WireJson::toJson(value), qtJson(value));
    }

    // Values as the parser stores them (integers, doubles, big numbers,
    // escapes), the way requests reach handlers such as echo.
    void parsedValuesSameBytesAsQt_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("numbers") << QByteArray("[1, 1.0, -0, -0.0, 1e2, 1E+2, 0.5e-3, 9007199254740993, "
                                               "123456789012345678901, -9223372036854775808, 1e300, 1.5e308]");
        QTest::newRow("strings") << QByteArray("[\"\\u0000\\u0001\\u001f\", \"\\ud83d\\ude00\", \"\\u00e9\", \"a\\/b\", \"\\\"\\\\\"]");
        QTest::newRow("object") << QByteArray("{\"z\": {\"y\": [], \"x\": {}}, \"a\": [1, \"2\", null, true], \"\\u00e9\": 0.1}");
        QTest::newRow("echo params") << QByteArray("[12345, \"sbload\"]");
    }

    void parsedValuesSameBytesAsQt()
    {
        QFETCH(QByteArray, json);
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
        const QJsonValue value = doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object());
        QCOMPARE(wireJson(value), doc.toJson(QJsonDocument::Compact));
    }

    void undefinedIsNull()
    {
        QCOMPARE(wireJson(QJsonValue(QJsonValue::Undefined)), QByteArray("null"));
    }

    void appendsToWhatIsThere()
    {
        QByteArray out("{\"result\":");
        WireJson::appendValue(out, QJsonArray{1, QStringLiteral("a")});
        QCOMPARE(out, QByteArray("{\"result\":[1,\"a\"]"));
    }
};

QTEST_GUILESS_MAIN(TestWireJson)
#include "tst_wirejson.moc"
