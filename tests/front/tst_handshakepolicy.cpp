// evaluateHandshake(): the pure decision of PRODUCT.md section 2, without
// sockets: every row, its status and headers, and the order of the checks.

#include "front/handshakepolicy.h"
#include "front/requesthead.h"
#include "ws/subprotocolregistry.h"

#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace {

// A valid handshake; each test bends one part.
struct Head
{
    QByteArray method = "GET";
    QByteArray target = "/";
    QByteArray version = "HTTP/1.1";
    QList<QPair<QByteArray, QByteArray>> headers = {
        {"Host", "x"},
        {"Upgrade", "websocket"},
        {"Connection", "Upgrade"},
        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
        {"Sec-WebSocket-Version", "13"},
        {"Sec-WebSocket-Protocol", "echo.test"},
    };

    Head &set(const QByteArray &name, const QByteArray &value)
    {
        headers.removeIf([&](const auto &h) { return h.first.compare(name, Qt::CaseInsensitive) == 0; });
        if (!value.isNull())
            headers.append({name, value});
        return *this;
    }
    Head &add(const QByteArray &name, const QByteArray &value)
    {
        headers.append({name, value});
        return *this;
    }
    RequestHead parse() const
    {
        QByteArray raw = method + ' ' + target + ' ' + version + "\r\n";
        for (const auto &h : headers)
            raw += h.first + ": " + h.second + "\r\n";
        raw += "\r\n";
        RequestHead head;
        QString error;
        if (!RequestHead::parse(raw, &head, &error))
            qFatal("test head does not parse: %s", qPrintable(error));
        return head;
    }
};

QByteArray base64OfBytes(int n)
{
    return QByteArray(n, '\x5a').toBase64();
}

} // namespace

class HandshakePolicyTest : public QObject
{
    Q_OBJECT

    std::unique_ptr<SubprotocolRegistry> m_subprotocols;
    HandshakeContext m_context;

    HandshakeVerdict evaluate(const Head &head) const { return evaluateHandshake(head.parse(), m_context); }

private slots:
    void init()
    {
        m_subprotocols = std::make_unique<SubprotocolRegistry>();
        m_subprotocols->add(std::make_shared<EchoTestSubprotocol>());
        m_context = HandshakeContext();
        m_context.subprotocols = m_subprotocols.get();
        m_context.maxConnections = 10;
    }

    void acceptsAValidHandshake()
    {
        const HandshakeVerdict v = evaluate(Head());
        QVERIFY(v.accepted);
        QCOMPARE(v.subprotocol, QStringLiteral("echo.test"));
        QCOMPARE(v.status, 0);
    }

    // PRODUCT.md section 3, "No subprotocol offered": with a default
    // configured, a handshake offering none is accepted with it (the 101
    // names none); offering only unsupported ones is still refused.
    void defaultSubprotocol()
    {
        HandshakeVerdict v = evaluate(Head().set("Sec-WebSocket-Protocol", QByteArray()));
        QVERIFY(!v.accepted);
        QCOMPARE(v.status, 400);

        m_context.defaultSubprotocol = QStringLiteral("echo.test");
        v = evaluate(Head().set("Sec-WebSocket-Protocol", QByteArray()));
        QVERIFY(v.accepted);
        QCOMPARE(v.subprotocol, QStringLiteral("echo.test"));
        QVERIFY(v.subprotocolDefaulted);

        v = evaluate(Head());
        QVERIFY(v.accepted);
        QVERIFY(!v.subprotocolDefaulted);

        v = evaluate(Head().set("Sec-WebSocket-Protocol", "soap, wamp"));
        QVERIFY(!v.accepted);
        QCOMPARE(v.status, 400);
        QCOMPARE(v.cause, QStringLiteral("subprotocol"));

        // A default that is switched off (or not registered) is no default.
        m_context.defaultSubprotocol = QStringLiteral("dm-rpc");
        v = evaluate(Head().set("Sec-WebSocket-Protocol", QByteArray()));
        QVERIFY(!v.accepted);
        QCOMPARE(v.status, 400);
    }

    // Row 1: Sec-WebSocket-Version is not 13 → 426 with Sec-WebSocket-Version: 13.
    void version_data()
    {
        QTest::addColumn<QByteArray>("value"); // null: header missing
        QTest::newRow("missing") << QByteArray();
        QTest::newRow("12") << QByteArray("12");
        QTest::newRow("8") << QByteArray("8");
        QTest::newRow("13, 8") << QByteArray("13, 8");
        QTest::newRow("8, 13") << QByteArray("8, 13");
        QTest::newRow("empty") << QByteArray("");
        QTest::newRow("13 with junk") << QByteArray("13a");
    }
    void version()
    {
        QFETCH(QByteArray, value);
        const HandshakeVerdict v = evaluate(Head().set("Sec-WebSocket-Version", value));
        QVERIFY(!v.accepted);
        QCOMPARE(v.status, 426);
        QCOMPARE(v.headers, (HttpResponse::Headers{{"Sec-WebSocket-Version", "13"}}));
    }
    void versionSentTwice()
    {
        Head head;
        head.add("Sec-WebSocket-Version", "13");
        QCOMPARE(evaluate(head).status, 426);
    }

    // Row 2: key missing or not base64 of 16 bytes → 400.
    void key_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("missing") << QByteArray();
        QTest::newRow("empty") << QByteArray("");
        QTest::newRow("not base64") << QByteArray("!!!!!!!!!!!!!!!!!!!!!!==");
        QTest::newRow("plain text") << QByteArray("the sample nonce");
        QTest::newRow("base64 of 15 bytes") << base64OfBytes(15);
        QTest::newRow("base64 of 17 bytes") << base64OfBytes(17);
        QTest::newRow("base64 of 16 bytes without padding") << base64OfBytes(16).left(22);
        QTest::newRow("base64url alphabet") << QByteArray("____________________-A==");
    }
    void key()
    {
        QFETCH(QByteArray, value);
        const HandshakeVerdict v = evaluate(Head().set("Sec-WebSocket-Key", value));
        QVERIFY(!v.accepted);
        QCOMPARE(v.status, 400);
        QVERIFY2(v.reason.contains("Sec-WebSocket-Key"), qPrintable(v.reason));
    }
    void keyOf16BytesIsAccepted()
    {
        QCOMPARE(base64OfBytes(16).size(), 24);
        QVERIFY(evaluate(Head().set("Sec-WebSocket-Key", base64OfBytes(16))).accepted);
    }
    void keySentTwice()
    {
        Head head;
        head.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        const HandshakeVerdict v = evaluate(head);
        QCOMPARE(v.status, 400);
        QVERIFY2(v.reason.contains("Sec-WebSocket-Key"), qPrintable(v.reason));
    }

    // Row 3: no offered subprotocol supported and enabled → 400 naming the supported ones.
    void subprotocol_data()
    {
        QTest::addColumn<QByteArray>("offer"); // null: no header
        QTest::newRow("none offered") << QByteArray();
        QTest::newRow("only unsupported") << QByteArray("nope, other");
        QTest::newRow("case differs") << QByteArray("ECHO.TEST");
        QTest::newRow("disabled one") << QByteArray("off.test");
    }
    void subprotocol()
    {
        QFETCH(QByteArray, offer);
        m_subprotocols->add(std::make_shared<EchoTestSubprotocol>("off.test"), false);
        m_subprotocols->add(std::make_shared<EchoTestSubprotocol>("second.test"));
        const HandshakeVerdict v = evaluate(Head().set("Sec-WebSocket-Protocol", offer));
        QVERIFY(!v.accepted);
        QCOMPARE(v.status, 400);
        const QByteArray response = v.response();
        const QJsonObject body = QJsonDocument::fromJson(response.mid(response.indexOf("\r\n\r\n") + 4)).object();
        QCOMPARE(body.value("supported").toArray(), (QJsonArray{"echo.test", "second.test"}));
        QCOMPARE(body.value("status").toInt(), 400);
        QVERIFY2(v.reason.contains("echo.test, second.test"), qPrintable(v.reason));
    }

    void firstSupportedOfferWins_data()
    {
        QTest::addColumn<QList<QByteArray>>("headers");
        QTest::addColumn<QString>("chosen");
        QTest::newRow("x, b, a") << QList<QByteArray>{"x, b, a"} << "b";
        QTest::newRow("a, b") << QList<QByteArray>{"a, b"} << "a";
        QTest::newRow("split over two headers") << QList<QByteArray>{"x", "b, a"} << "b";
        QTest::newRow("disabled first") << QList<QByteArray>{"off, a"} << "a";
        QTest::newRow("with spaces") << QList<QByteArray>{" x ,  a ,b"} << "a";
    }
    void firstSupportedOfferWins()
    {
        QFETCH(QList<QByteArray>, headers);
        QFETCH(QString, chosen);
        m_subprotocols->add(std::make_shared<EchoTestSubprotocol>("a"));
        m_subprotocols->add(std::make_shared<EchoTestSubprotocol>("b"));
        m_subprotocols->add(std::make_shared<EchoTestSubprotocol>("off"), false);
        Head head;
        head.set("Sec-WebSocket-Protocol", QByteArray());
        for (const QByteArray &h : headers)
            head.add("Sec-WebSocket-Protocol", h);
        const HandshakeVerdict v = evaluate(head);
        QVERIFY(v.accepted);
        QCOMPARE(v.subprotocol, chosen);
    }

    // Row 4: Origin present and not allowed → 403.
    void origin_data()
    {
        QTest::addColumn<QStringList>("allowed");
        QTest::addColumn<QByteArray>("origin");
        QTest::addColumn<int>("status"); // 0: accepted
        const QStringList list{"https://good.example", "http://localhost:3000"};
        QTest::newRow("allowed") << list << QByteArray("https://good.example") << 0;
        QTest::newRow("second allowed") << list << QByteArray("http://localhost:3000") << 0;
        QTest::newRow("not allowed") << list << QByteArray("https://evil.example") << 403;
        QTest::newRow("prefix of an allowed one") << list << QByteArray("https://good.exampl") << 403;
        QTest::newRow("null origin") << list << QByteArray("null") << 403;
        QTest::newRow("no Origin header") << list << QByteArray() << 0;
        QTest::newRow("no allow-list") << QStringList() << QByteArray("https://evil.example") << 0;
    }
    void origin()
    {
        QFETCH(QStringList, allowed);
        QFETCH(QByteArray, origin);
        QFETCH(int, status);
        m_context.allowedOrigins = allowed;
        const HandshakeVerdict v = evaluate(Head().set("Origin", origin));
        QCOMPARE(v.accepted, status == 0);
        QCOMPARE(v.status, status);
    }

    // Row 5: client token configured and missing or wrong → 401.
    void token_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("authorization");
        QTest::addColumn<int>("status");
        QTest::newRow("missing") << QByteArray("/") << QByteArray() << 401;
        QTest::newRow("wrong bearer") << QByteArray("/") << QByteArray("Bearer wrong") << 401;
        QTest::newRow("prefix of the token") << QByteArray("/") << QByteArray("Bearer s3cr") << 401;
        QTest::newRow("token plus more") << QByteArray("/") << QByteArray("Bearer s3cr3t!x") << 401;
        QTest::newRow("Basic scheme") << QByteArray("/") << QByteArray("Basic s3cr3t!") << 401;
        QTest::newRow("empty bearer") << QByteArray("/") << QByteArray("Bearer ") << 401;
        QTest::newRow("wrong query") << QByteArray("/?token=nope") << QByteArray() << 401;
        QTest::newRow("empty query") << QByteArray("/?token=") << QByteArray() << 401;
        QTest::newRow("bearer") << QByteArray("/") << QByteArray("Bearer s3cr3t!") << 0;
        QTest::newRow("lowercase scheme") << QByteArray("/") << QByteArray("bearer s3cr3t!") << 0;
        QTest::newRow("query") << QByteArray("/x?token=s3cr3t%21") << QByteArray() << 0;
        QTest::newRow("query among others") << QByteArray("/x?a=1&token=s3cr3t%21&b") << QByteArray() << 0;
        QTest::newRow("wrong bearer, right query")
            << QByteArray("/?token=s3cr3t%21") << QByteArray("Bearer wrong") << 0;
    }
    void token()
    {
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, authorization);
        QFETCH(int, status);
        m_context.clientToken = QStringLiteral("s3cr3t!");
        Head head;
        head.target = target;
        head.set("Authorization", authorization);
        const HandshakeVerdict v = evaluate(head);
        QCOMPARE(v.accepted, status == 0);
        QCOMPARE(v.status, status);
        if (status == 401)
            QCOMPARE(v.headers, (HttpResponse::Headers{{"WWW-Authenticate", "Bearer realm=\"switchboard\""}}));
    }

    // Row 6: connection limit reached → 503.
    void connectionLimit_data()
    {
        QTest::addColumn<int>("live");
        QTest::addColumn<int>("max");
        QTest::addColumn<int>("status");
        QTest::newRow("below") << 2 << 3 << 0;
        QTest::newRow("reached") << 3 << 3 << 503;
        QTest::newRow("over") << 4 << 3 << 503;
    }
    void connectionLimit()
    {
        QFETCH(int, live);
        QFETCH(int, max);
        QFETCH(int, status);
        m_context.liveConnections = live;
        m_context.maxConnections = max;
        const HandshakeVerdict v = evaluate(Head());
        QCOMPARE(v.status, status);
        if (status == 503)
            QCOMPARE(v.headers, (HttpResponse::Headers{{"Retry-After", "5"}}));
    }

    void preconditions_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("version");
        QTest::addColumn<QByteArray>("connection");
        QTest::addColumn<int>("status");
        QTest::newRow("POST") << QByteArray("POST") << QByteArray("HTTP/1.1") << QByteArray("Upgrade") << 405;
        QTest::newRow("HEAD") << QByteArray("HEAD") << QByteArray("HTTP/1.1") << QByteArray("Upgrade") << 405;
        QTest::newRow("HTTP/1.0") << QByteArray("GET") << QByteArray("HTTP/1.0") << QByteArray("Upgrade") << 400;
        QTest::newRow("no Connection: Upgrade")
            << QByteArray("GET") << QByteArray("HTTP/1.1") << QByteArray("keep-alive") << 400;
        QTest::newRow("Upgrade in a Connection list")
            << QByteArray("GET") << QByteArray("HTTP/1.1") << QByteArray("keep-alive, Upgrade") << 0;
    }
    void preconditions()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, version);
        QFETCH(QByteArray, connection);
        QFETCH(int, status);
        Head head;
        head.method = method;
        head.version = version;
        head.set("Connection", connection);
        const HandshakeVerdict v = evaluate(head);
        QCOMPARE(v.status, status);
        if (status == 405)
            QCOMPARE(v.headers, (HttpResponse::Headers{{"Allow", "GET"}}));
    }

    // Lines and field counts the WebSocket side cannot take → 431 (before anything else).
    void headTooLargeForTheWebSocketSide_data()
    {
        QTest::addColumn<int>("valueBytes");
        QTest::addColumn<int>("extraFields");
        QTest::addColumn<int>("status");
        QTest::newRow("line of 8190") << 8190 - 3 << 0 << 0;
        QTest::newRow("line of 8191") << 8191 - 3 << 0 << 431;
        QTest::newRow("100 fields") << 1 << 100 - 7 << 0;
        QTest::newRow("101 fields") << 1 << 101 - 7 << 431;
    }
    void headTooLargeForTheWebSocketSide()
    {
        QFETCH(int, valueBytes);
        QFETCH(int, extraFields);
        QFETCH(int, status);
        Head head;
        head.add("X", QByteArray(valueBytes, 'v')); // "X: " + value
        for (int i = 0; i < extraFields; ++i)
            head.add("F" + QByteArray::number(i), "1");
        HandshakeVerdict v = evaluate(head);
        QCOMPARE(v.status, status);
        // And before every other check.
        head.method = "POST";
        head.set("Sec-WebSocket-Version", "1");
        v = evaluate(head);
        QCOMPARE(v.status, status ? status : 405);
    }

    // The table is checked top to bottom: a request failing several rows
    // gets the answer of the first one.
    void order_data()
    {
        QTest::addColumn<int>("fixedRows"); // how many of the failures are repaired, in table order
        QTest::addColumn<int>("status");
        QTest::newRow("everything wrong") << 0 << 426;
        QTest::newRow("version fixed") << 1 << 400;
        QTest::newRow("key fixed") << 2 << 400;
        QTest::newRow("subprotocol fixed") << 3 << 403;
        QTest::newRow("origin fixed") << 4 << 401;
        QTest::newRow("token fixed") << 5 << 503;
        QTest::newRow("limit fixed") << 6 << 0;
    }
    void order()
    {
        QFETCH(int, fixedRows);
        QFETCH(int, status);
        m_context.allowedOrigins = {"https://good.example"};
        m_context.clientToken = "C";
        m_context.maxConnections = 1;
        m_context.liveConnections = fixedRows >= 6 ? 0 : 1;
        Head head;
        head.set("Sec-WebSocket-Version", fixedRows >= 1 ? "13" : "12");
        head.set("Sec-WebSocket-Key", fixedRows >= 2 ? "dGhlIHNhbXBsZSBub25jZQ==" : "short");
        head.set("Sec-WebSocket-Protocol", fixedRows >= 3 ? "echo.test" : "nope");
        head.set("Origin", fixedRows >= 4 ? "https://good.example" : "https://evil.example");
        head.set("Authorization", fixedRows >= 5 ? "Bearer C" : QByteArray());
        const HandshakeVerdict v = evaluate(head);
        QCOMPARE(v.status, status);
        QCOMPARE(v.accepted, status == 0);
        if (fixedRows == 1)
            QVERIFY2(v.reason.contains("Sec-WebSocket-Key"), qPrintable(v.reason)); // not the subprotocol 400
        if (fixedRows == 2)
            QVERIFY2(v.reason.contains("subprotocol"), qPrintable(v.reason));
    }
    void methodIsCheckedFirst()
    {
        Head head;
        head.method = "PUT";
        head.set("Sec-WebSocket-Version", "12").set("Sec-WebSocket-Key", QByteArray());
        QCOMPARE(evaluate(head).status, 405);
    }

    // The refusal as the front sends it: a complete HTTP/1.1 response.
    void responseIsComplete()
    {
        const HandshakeVerdict v = evaluate(Head().set("Sec-WebSocket-Version", "8"));
        const QByteArray response = v.response();
        QVERIFY(response.startsWith("HTTP/1.1 426 Upgrade Required\r\n"));
        const qsizetype headEnd = response.indexOf("\r\n\r\n");
        QVERIFY(headEnd > 0);
        const QByteArray head = response.left(headEnd + 2);
        const QByteArray body = response.mid(headEnd + 4);
        QVERIFY(head.contains("\r\nContent-Type: application/json\r\n"));
        QVERIFY(head.contains("\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n"));
        QVERIFY(head.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        QVERIFY(head.contains("\r\nConnection: close\r\n"));
        QJsonParseError error;
        const QJsonObject json = QJsonDocument::fromJson(body, &error).object();
        QCOMPARE(error.error, QJsonParseError::NoError);
        QCOMPARE(json.value("status").toInt(), 426);
        QCOMPARE(json.value("error").toString(), v.reason);
    }
};

QTEST_GUILESS_MAIN(HandshakePolicyTest)
#include "tst_handshakepolicy.moc"
