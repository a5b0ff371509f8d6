// The `jsonrpc` subprotocol session, driven directly through a recording
// ConnectionLink: PRODUCT.md section 3's error table, the JSON-RPC 2.0
// specification's own examples, id echo exactness, batches, limits, pushes
// and the traffic log events.

#include "rpc/jsonrpcsubprotocol.h"
#include "admin/trafficlog.h"
#include "wiretestsupport.h"

#include <QJsonParseError>
#include <QRandomGenerator>
#include <QTest>

namespace {
QString parserMessage(const QByteArray &text)
{
    QJsonParseError error;
    QJsonDocument::fromJson(text, &error);
    return QStringLiteral("%1 at offset %2").arg(error.errorString()).arg(error.offset);
}

// The spec's expected replies carry no error.data (ours do), so data is
// dropped from actual replies before comparing them with the spec.
QJsonValue withoutErrorData(const QJsonValue &value)
{
    if (value.isArray()) {
        QJsonArray out;
        for (const QJsonValue &v : value.toArray())
            out.append(withoutErrorData(v));
        return out;
    }
    QJsonObject o = value.toObject();
    if (o.contains("error")) {
        QJsonObject e = o.value("error").toObject();
        e.remove("data");
        o.insert("error", e);
    }
    return o;
}
} // namespace

class TestJsonRpc : public QObject
{
    Q_OBJECT

private:
    struct Fixture
    {
        explicit Fixture(JsonRpcOptions options = JsonRpcOptions(), TrafficLog::Limits limits = TrafficLog::Limits())
            : log(limits)
            , protocol(&engine, &log, options)
            , link(QStringLiteral("jsonrpc"))
            , session(protocol.createSession(link))
        {
        }
        // Sends one message; returns the replies it produced.
        QList<QByteArray> send(const QByteArray &message)
        {
            const qsizetype before = link.sent.size();
            session->textMessage(message);
            return link.sent.mid(before);
        }
        TestEngine engine;
        TrafficLog log;
        JsonRpcSubprotocol protocol;
        TestLink link;
        std::unique_ptr<ProtocolSession> session;
    };

private slots:
    void name()
    {
        TestEngine engine;
        JsonRpcSubprotocol p(&engine, nullptr);
        QCOMPARE(p.name(), QStringLiteral("jsonrpc"));
        QVERIFY(!p.description().isEmpty());
    }

    // PRODUCT.md section 3, every row of the jsonrpc error table (and the
    // ways a request object can be invalid).
    void errorTable_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::addColumn<QByteArray>("data"); // JSON text of error.data
        QTest::addColumn<QByteArray>("id");   // JSON text of the echoed id

        const auto str = [](const QString &s) { return QJsonDocument(QJsonArray{s}).toJson(QJsonDocument::Compact).mid(1).chopped(1); };
        const QByteArray broken = R"({"jsonrpc":"2.0","method":"sum","params":[1,2)";
        QTest::newRow("not JSON") << broken << -32700 << "Parse error" << str(parserMessage(broken)) << QByteArray("null");
        QTest::newRow("not JSON, empty") << QByteArray("") << -32700 << "Parse error" << str(parserMessage("")) << QByteArray("null");
        QTest::newRow("not JSON, garbage after") << QByteArray(R"({"jsonrpc":"2.0","method":"sum","id":1} x)")
                                                 << -32700 << "Parse error"
                                                 << str(parserMessage(R"({"jsonrpc":"2.0","method":"sum","id":1} x)"))
                                                 << QByteArray("null");
        QTest::newRow("JSON but a number") << QByteArray("42") << -32600 << "Invalid Request"
                                           << QByteArray(R"("a request must be an object, a batch an array")") << QByteArray("null");
        QTest::newRow("JSON but a string") << QByteArray(R"("sum")") << -32600 << "Invalid Request"
                                           << QByteArray(R"("a request must be an object, a batch an array")") << QByteArray("null");
        QTest::newRow("jsonrpc missing") << QByteArray(R"({"method":"sum","params":[1],"id":1})") << -32600
                                         << "Invalid Request" << str(QStringLiteral("\"jsonrpc\" must be \"2.0\"")) << QByteArray("1");
        QTest::newRow("jsonrpc 1.0") << QByteArray(R"({"jsonrpc":"1.0","method":"sum","params":[1],"id":1})") << -32600
                                     << "Invalid Request" << str(QStringLiteral("\"jsonrpc\" must be \"2.0\"")) << QByteArray("1");
        QTest::newRow("jsonrpc number") << QByteArray(R"({"jsonrpc":2.0,"method":"sum","params":[1],"id":"a"})") << -32600
                                        << "Invalid Request" << str(QStringLiteral("\"jsonrpc\" must be \"2.0\"")) << QByteArray(R"("a")");
        QTest::newRow("method missing") << QByteArray(R"({"jsonrpc":"2.0","params":[1],"id":2})") << -32600
                                        << "Invalid Request" << str(QStringLiteral("\"method\" is missing")) << QByteArray("2");
        QTest::newRow("method not a string") << QByteArray(R"({"jsonrpc":"2.0","method":1,"params":"bar"})") << -32600
                                             << "Invalid Request" << str(QStringLiteral("\"method\" must be a string")) << QByteArray("null");
        QTest::newRow("id an object") << QByteArray(R"({"jsonrpc":"2.0","method":"sum","params":[1],"id":{"a":1}})") << -32600
                                      << "Invalid Request" << str(QStringLiteral("\"id\" must be a string, a number or null")) << QByteArray("null");
        QTest::newRow("id a bool") << QByteArray(R"({"jsonrpc":"2.0","method":"sum","params":[1],"id":true})") << -32600
                                   << "Invalid Request" << str(QStringLiteral("\"id\" must be a string, a number or null")) << QByteArray("null");
        QTest::newRow("empty batch") << QByteArray("[]") << -32600 << "Invalid Request" << QByteArray(R"("empty batch")") << QByteArray("null");
        QTest::newRow("method unknown") << QByteArray(R"({"jsonrpc":"2.0","method":"foobar","id":"1"})") << -32601
                                        << "Method not found" << QByteArray(R"({"reason":"unknown"})") << QByteArray(R"("1")");
        QTest::newRow("method disabled") << QByteArray(R"({"jsonrpc":"2.0","method":"disabled_method","params":{},"id":4})") << -32601
                                         << "Method not found" << QByteArray(R"({"reason":"disabled"})") << QByteArray("4");
        QTest::newRow("params rejected") << QByteArray(R"({"jsonrpc":"2.0","method":"sum","params":[1,"x",true],"id":5})") << -32602
                                         << "Invalid params"
                                         << QByteArray(R"([{"path":"/1","message":"must be a number"},{"path":"/2","message":"must be a number"}])")
                                         << QByteArray("5");
        QTest::newRow("handler failed") << QByteArray(R"({"jsonrpc":"2.0","method":"fail","params":[],"id":6})") << -32603
                                        << "Internal error" << QByteArray(R"("boom")") << QByteArray("6");
        QTest::newRow("refused by a policy validator") << QByteArray(R"({"jsonrpc":"2.0","method":"guarded","id":7})") << -32001
                                                       << "not allowed at night" << QByteArray(R"({"rule":"night"})") << QByteArray("7");
        // An engine that gives only the verdict: the standard code and data are filled in.
        QTest::newRow("unknown, bare verdict") << QByteArray(R"({"jsonrpc":"2.0","method":"lazy_unknown","id":8})") << -32601
                                               << "Method not found" << QByteArray(R"({"reason":"unknown"})") << QByteArray("8");
        QTest::newRow("disabled, bare verdict") << QByteArray(R"({"jsonrpc":"2.0","method":"lazy_disabled","id":9})") << -32601
                                                << "Method not found" << QByteArray(R"({"reason":"disabled"})") << QByteArray("9");
    }

    void errorTable()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, code);
        QFETCH(QString, message);
        QFETCH(QByteArray, data);
        QFETCH(QByteArray, id);

        Fixture f;
        const QList<QByteArray> replies = f.send(request);
        QCOMPARE(replies.size(), 1);
        QVERIFY(f.link.closes.isEmpty()); // errors are replies, never dropped connections
        const QByteArray reply = replies.first();
        const QJsonObject o = parseJson(reply).toObject();
        QCOMPARE(o.value("jsonrpc").toString(), QStringLiteral("2.0"));
        QVERIFY(!o.contains("result"));
        const QJsonObject error = o.value("error").toObject();
        QCOMPARE(error.value("code").toInt(), code);
        QCOMPARE(error.value("message").toString(), message);
        QVERIFY(error.contains("data"));
        QCOMPARE(error.value("data"), parseJson(data));
        QVERIFY2(reply.endsWith(",\"id\":" + id + "}"), reply.constData());
        QCOMPARE(o.keys().size(), 3);
    }

    // The examples of https://www.jsonrpc.org/specification section 7, with
    // their exact expected replies (error.data aside).
    void specExamples_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<QByteArray>("expected"); // empty: no reply at all

        QTest::newRow("positional 1") << QByteArray(R"({"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1})")
                                      << QByteArray(R"({"jsonrpc": "2.0", "result": 19, "id": 1})");
        QTest::newRow("positional 2") << QByteArray(R"({"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2})")
                                      << QByteArray(R"({"jsonrpc": "2.0", "result": -19, "id": 2})");
        QTest::newRow("named 1") << QByteArray(R"({"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3})")
                                 << QByteArray(R"({"jsonrpc": "2.0", "result": 19, "id": 3})");
        QTest::newRow("named 2") << QByteArray(R"({"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4})")
                                 << QByteArray(R"({"jsonrpc": "2.0", "result": 19, "id": 4})");
        QTest::newRow("notification update") << QByteArray(R"({"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]})") << QByteArray();
        QTest::newRow("notification foobar") << QByteArray(R"({"jsonrpc": "2.0", "method": "foobar"})") << QByteArray();
        QTest::newRow("non-existent method") << QByteArray(R"({"jsonrpc": "2.0", "method": "foobar", "id": "1"})")
                                             << QByteArray(R"({"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"})");
        QTest::newRow("invalid JSON") << QByteArray(R"({"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz])")
                                      << QByteArray(R"({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null})");
        QTest::newRow("invalid Request object") << QByteArray(R"({"jsonrpc": "2.0", "method": 1, "params": "bar"})")
                                                << QByteArray(R"({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null})");
        QTest::newRow("batch, invalid JSON") << QByteArray(R"([
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
])") << QByteArray(R"({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null})");
        QTest::newRow("empty Array") << QByteArray("[]")
                                     << QByteArray(R"({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null})");
        QTest::newRow("invalid batch, not empty") << QByteArray("[1]")
                                                  << QByteArray(R"([{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}])");
        QTest::newRow("invalid batch") << QByteArray("[1,2,3]") << QByteArray(R"([
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}
])");
        QTest::newRow("batch") << QByteArray(R"([
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ])") << QByteArray(R"([
        {"jsonrpc": "2.0", "result": 7, "id": "1"},
        {"jsonrpc": "2.0", "result": 19, "id": "2"},
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
        {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
        {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
    ])");
        QTest::newRow("batch, all notifications") << QByteArray(R"([
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ])") << QByteArray();
    }

    void specExamples()
    {
        QFETCH(QByteArray, request);
        QFETCH(QByteArray, expected);
        Fixture f;
        const QList<QByteArray> replies = f.send(request);
        QVERIFY(f.link.closes.isEmpty());
        if (expected.isEmpty()) {
            QCOMPARE(replies.size(), 0);
            return;
        }
        QCOMPARE(replies.size(), 1);
        const QJsonValue actual = parseJson(replies.first());
        QVERIFY2(!actual.isUndefined(), replies.first().constData());
        QCOMPARE(withoutErrorData(actual), parseJson(expected));
    }

    void exactReplyText()
    {
        Fixture f;
        QCOMPARE(f.send(R"({"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":19,"id":1})"});
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"foobar","id":"1"})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found","data":{"reason":"unknown"}},"id":"1"})"});
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"sum","params":[1,2],"id":null})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":3,"id":null})"});
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"sum","params":[0.5,0.25],"id":1})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":0.75,"id":1})"});
    }

    // Requests as Resonance's JavaScript clients send them.
    void resonanceEnvelope()
    {
        Fixture f;
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"echo","params":{"text":"hi","n":[1,2]},"id":"c1f3a-17"})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":{"n":[1,2],"text":"hi"},"id":"c1f3a-17"})"});
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"sum","params":[],"id":"x"})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":0,"id":"x"})"});
        QCOMPARE(f.engine.params().first(), parseJson(R"({"text":"hi","n":[1,2]})"));
    }

    // PRODUCT.md section 3: params may be any JSON value (Resonance's echo
    // example sends a bare string); the validators, not the envelope, judge it.
    void paramsOfAnyType_data()
    {
        QTest::addColumn<QByteArray>("params");
        QTest::newRow("string") << QByteArray(R"("hello")");
        QTest::newRow("number") << QByteArray("42.5");
        QTest::newRow("true") << QByteArray("true");
        QTest::newRow("false") << QByteArray("false");
        QTest::newRow("null") << QByteArray("null");
        QTest::newRow("object") << QByteArray(R"({"a":[1,{"b":null}]})");
        QTest::newRow("array") << QByteArray(R"([1,"two",false])");
    }
    void paramsOfAnyType()
    {
        QFETCH(QByteArray, params);
        Fixture f;
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"echo","params":)" + params + R"(,"id":"7b0c"})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":)" + params + R"(,"id":"7b0c"})"});
        QCOMPARE(QJsonDocument(QJsonArray{f.engine.params().first()}).toJson(QJsonDocument::Compact),
                 "[" + params + "]");
    }

    // Resonance's exact echo request, with the uuid id its client makes.
    void resonanceEchoExample()
    {
        Fixture f;
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"echo","params":"hello","id":"3f2c8b9e-1d4a-4c6b-9a57-0e8d2f1b7c44"})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":"hello","id":"3f2c8b9e-1d4a-4c6b-9a57-0e8d2f1b7c44"})"});
    }

    // "resonanceCompat": a request without id is answered with "id": null
    // (Resonance's chat tutorial); by default it stays a notification.
    void resonanceCompatAnswersRequestsWithoutId()
    {
        const QByteArray chat = R"({"jsonrpc":"2.0","method":"echo","params":{"message":"hi"}})";
        Fixture plain;
        QCOMPARE(plain.send(chat), QList<QByteArray>());

        JsonRpcOptions options;
        options.resonanceCompat = true;
        Fixture compat(options);
        QCOMPARE(compat.send(chat), QList<QByteArray>{R"({"jsonrpc":"2.0","result":{"message":"hi"},"id":null})"});
        QCOMPARE(compat.send(R"({"jsonrpc":"2.0","method":"foobar"})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found","data":{"reason":"unknown"}},"id":null})"});
        // In a batch too; explicit ids are untouched.
        QCOMPARE(compat.send(R"([{"jsonrpc":"2.0","method":"echo","params":1},{"jsonrpc":"2.0","method":"echo","params":2,"id":9}])"),
                 QList<QByteArray>{R"([{"jsonrpc":"2.0","result":1,"id":null},{"jsonrpc":"2.0","result":2,"id":9}])"});
        const QList<TrafficEvent> events = compat.log.eventsAfter(0, 100).events;
        QVERIFY(!events.isEmpty());
        QCOMPARE(events.first().kind, TrafficEvent::Kind::Request);
    }

    // Handlers that answer later (upstreams): each reply is sent when its
    // call finishes, matched by id; other messages go on meanwhile.
    void repliesOfCallsThatAnswerLater()
    {
        Fixture f;
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"later","params":{"ms":80,"value":"slow"},"id":1})"),
                 QList<QByteArray>());
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"later","params":{"ms":0,"value":"fast"},"id":2})"),
                 QList<QByteArray>());
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"echo","params":"now","id":3})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":"now","id":3})"});
        QTRY_COMPARE(f.link.sent.size(), 3);
        QCOMPARE(f.link.sent.at(1), QByteArray(R"({"jsonrpc":"2.0","result":"fast","id":2})"));
        QCOMPARE(f.link.sent.at(2), QByteArray(R"({"jsonrpc":"2.0","result":"slow","id":1})"));

        // The handler's own error goes to the client unchanged; a failure is -32603.
        f.send(R"({"jsonrpc":"2.0","method":"later_error","id":"e"})");
        QTRY_COMPARE(f.link.sent.size(), 4);
        QCOMPARE(f.link.sent.last(),
                 QByteArray(R"({"jsonrpc":"2.0","error":{"code":4001,"message":"no such order","data":{"order":7}},"id":"e"})"));
        f.send(R"({"jsonrpc":"2.0","method":"later_fail","id":"f"})");
        QTRY_COMPARE(f.link.sent.size(), 5);
        QCOMPARE(f.link.sent.last(),
                 QByteArray(R"({"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error","data":{"reason":"timeout","upstream":"test"}},"id":"f"})"));
        // A notification that answers later gets nothing.
        f.send(R"({"jsonrpc":"2.0","method":"later","params":{"ms":0}})");
        QTest::qWait(30);
        QCOMPARE(f.link.sent.size(), 5);

        // The traffic log has each request when it came, and its reply with
        // the verdict, what served it and the upstream's time.
        const QList<TrafficEvent> events = f.log.eventsAfter(0, 100).events;
        const auto reply = std::find_if(events.begin(), events.end(), [](const TrafficEvent &e) {
            return e.direction == TrafficEvent::Direction::Out && e.requestId == "\"e\"";
        });
        QVERIFY(reply != events.end());
        QCOMPARE(reply->verdict, TrafficEvent::Verdict::ErrorResult);
        QCOMPARE(reply->kind, TrafficEvent::Kind::Error);
        QCOMPARE(reply->upstreamUs, qint64(1));
        QCOMPARE(reply->reason, QStringLiteral("upstream test answered error 4001: no such order"));
        const auto failed = std::find_if(events.begin(), events.end(), [](const TrafficEvent &e) {
            return e.direction == TrafficEvent::Direction::Out && e.requestId == "\"f\"";
        });
        QVERIFY(failed != events.end());
        QCOMPARE(failed->reason, QStringLiteral("upstream test: timeout"));
    }

    // A batch waits for its slowest call and answers with one array.
    void batchWithCallsThatAnswerLater()
    {
        Fixture f;
        QCOMPARE(f.send(R"([{"jsonrpc":"2.0","method":"later","params":{"ms":40,"value":"a"},"id":1},)"
                        R"({"jsonrpc":"2.0","method":"echo","params":"b","id":2},)"
                        R"({"jsonrpc":"2.0","method":"later","params":{"ms":0}},)"
                        R"({"jsonrpc":"2.0","method":"later","params":{"ms":10,"value":"c"},"id":3}])"),
                 QList<QByteArray>());
        QTRY_COMPARE(f.link.sent.size(), 1);
        QCOMPARE(f.link.sent.first(), QByteArray(R"([{"jsonrpc":"2.0","result":"b","id":2},)"
                                                 R"({"jsonrpc":"2.0","result":"c","id":3},)"
                                                 R"({"jsonrpc":"2.0","result":"a","id":1}])"));
        // Only notifications that answer later: no reply at all.
        f.send(R"([{"jsonrpc":"2.0","method":"later","params":{"ms":0}}])");
        QTest::qWait(30);
        QCOMPARE(f.link.sent.size(), 1);
    }

    // The client left while its call was under way: the late answer is dropped.
    void lateAnswerAfterTheSessionIsGone()
    {
        Fixture f;
        f.send(R"({"jsonrpc":"2.0","method":"later","params":{"ms":10,"value":1},"id":1})");
        f.send(R"([{"jsonrpc":"2.0","method":"later","params":{"ms":10,"value":1},"id":2}])");
        f.session.reset();
        QTest::qWait(40);
        QVERIFY(f.link.sent.isEmpty());
    }

    void paramsOmittedIsUndefined()
    {
        Fixture f;
        f.send(R"({"jsonrpc":"2.0","method":"echo","id":1})");
        QVERIFY(f.engine.params().first().isUndefined());
        QCOMPARE(f.link.sent.first(), QByteArray(R"({"jsonrpc":"2.0","result":null,"id":1})"));
    }

    // Ids come back exactly as sent, including number spellings that
    // QJsonValue would change.
    void idEcho_data()
    {
        QTest::addColumn<QByteArray>("id");
        QTest::addColumn<QByteArray>("echo");
        const QList<QByteArray> same{"1", "0", "-0", "1.0", "1.50", "-7", "1e2", "1E+2", "2.5e-3",
                                     "12345678901234567890123", "9007199254740993", "-9223372036854775809",
                                     "0.1000000000000000055511151231257827", "\"abc\"", "\"\"", "\"1\"",
                                     "\"é😀\"", "\"a\\\"b\\\\c\\n\"", "null"};
        for (const QByteArray &id : same)
            QTest::newRow(id.constData()) << id << id;
        // Same value, another spelling: strings are re-escaped.
        QTest::newRow("escaped string") << QByteArray("\"\\u00e9\\/\"") << QByteArray("\"é/\"");
        QTest::newRow("lone surrogate") << QByteArray("\"\\ud800\"") << QByteArray("\"\\ud800\"");
        QTest::newRow("control char") << QByteArray("\"\\u0001\"") << QByteArray("\"\\u0001\"");
        // Qt's parser accepts numbers JSON does not; they come back in JSON form.
        QTest::newRow("lenient .5") << QByteArray(".5") << QByteArray("0.5");
        QTest::newRow("lenient 1.") << QByteArray("1.") << QByteArray("1");
    }

    void idEcho()
    {
        QFETCH(QByteArray, id);
        QFETCH(QByteArray, echo);
        Fixture f;
        // Resonance's key order (params before id) and the spec's (id last) ...
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"sum","params":[1,2],"id":)" + id + "}"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":3,"id":)" + echo + "}"});
        // ... id first, with whitespace, an "id" inside params ...
        QCOMPARE(f.send(R"({ "id" : )" + id + R"( , "jsonrpc":"2.0","method":"echo","params":{"id":99,"x":[{"id":1}]}})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":{"id":99,"x":[{"id":1}]},"id":)" + echo + "}"});
        // ... an error reply ...
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"nope","id":)" + id + "}"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found","data":{"reason":"unknown"}},"id":)" + echo + "}"});
        // ... and inside a batch.
        QCOMPARE(f.send(R"([{"jsonrpc":"2.0","method":"sum","params":[1],"id":"first"}, {"jsonrpc":"2.0","method":"sum","params":[2],"id":)" + id + "}]"),
                 QList<QByteArray>{R"([{"jsonrpc":"2.0","result":1,"id":"first"},{"jsonrpc":"2.0","result":2,"id":)" + echo + "}]"});
    }

    void idEchoCornerCases()
    {
        Fixture f;
        // A duplicate id: QJsonObject keeps the last one, so does the echo.
        QCOMPARE(f.send(R"({"jsonrpc":"2.0","method":"sum","params":[1],"id":1.0,"id":2.0})"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":1,"id":2.0})"});
        // An escaped member name.
        QCOMPARE(f.send("{\"jsonrpc\":\"2.0\",\"method\":\"sum\",\"params\":[1],\"\\u0069d\":3.0}"),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","result":1,"id":3.0})"});
        // Strings with brackets and quotes before the id do not confuse the scan.
        QCOMPARE(f.send("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"}]\\\"{[\",\"\\\\\"],\"id\":4.0}"),
                 QList<QByteArray>{"{\"jsonrpc\":\"2.0\",\"result\":[\"}]\\\"{[\",\"\\\\\"],\"id\":4.0}"});
    }

    void notificationsNeverGetReplies_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::newRow("accepted") << QByteArray(R"({"jsonrpc":"2.0","method":"sum","params":[1]})");
        QTest::newRow("unknown") << QByteArray(R"({"jsonrpc":"2.0","method":"nope","params":[1]})");
        QTest::newRow("disabled") << QByteArray(R"({"jsonrpc":"2.0","method":"disabled_method"})");
        QTest::newRow("invalid params") << QByteArray(R"({"jsonrpc":"2.0","method":"sum","params":["x"]})");
        QTest::newRow("handler failed") << QByteArray(R"({"jsonrpc":"2.0","method":"fail"})");
        QTest::newRow("refused") << QByteArray(R"({"jsonrpc":"2.0","method":"guarded"})");
    }

    void notificationsNeverGetReplies()
    {
        QFETCH(QByteArray, request);
        Fixture f;
        QCOMPARE(f.send(request).size(), 0);
        QCOMPARE(f.engine.calls().size(), 1);
        QVERIFY(f.link.closes.isEmpty());
    }

    void batchMixedWithNotificationErrors()
    {
        Fixture f;
        const QList<QByteArray> replies = f.send(R"([{"jsonrpc":"2.0","method":"nope"},{"jsonrpc":"2.0","method":"sum","params":[2,3],"id":1},[],{"jsonrpc":"2.0","method":"fail"}])");
        QCOMPARE(replies.size(), 1);
        QCOMPARE(replies.first(),
                 QByteArray(R"([{"jsonrpc":"2.0","result":5,"id":1},{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"a request must be an object"},"id":null}])"));
        QCOMPARE(f.engine.calls(), (QStringList{"nope", "sum", "fail"}));
    }

    void batchLimit()
    {
        JsonRpcOptions options;
        options.maxBatchSize = 3;
        Fixture f(options);
        const QByteArray three = R"([{"jsonrpc":"2.0","method":"sum","params":[1],"id":1},{"jsonrpc":"2.0","method":"sum","params":[2],"id":2},{"jsonrpc":"2.0","method":"sum","params":[3],"id":3}])";
        QCOMPARE(parseJson(f.send(three).value(0)).toArray().size(), 3);
        const QByteArray four = R"([1,{"jsonrpc":"2.0","method":"sum","params":[1],"id":1},2,3])";
        QCOMPARE(f.send(four),
                 QList<QByteArray>{R"({"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"batch of 4 requests exceeds the limit of 3"},"id":null})"});
        QCOMPARE(f.engine.calls().size(), 3); // nothing of the refused batch ran
    }

    // 100,000 elements fit into the 1 MiB message limit: refused cleanly by
    // default, and answered in full when the limit allows them.
    void hugeBatch()
    {
        QByteArray batch = "[";
        for (int i = 0; i < 100'000; ++i)
            batch += i ? ",1" : "1";
        batch += "]";
        QVERIFY(batch.size() < 1024 * 1024);
        {
            Fixture f;
            const QList<QByteArray> replies = f.send(batch);
            QCOMPARE(replies.size(), 1);
            const QJsonObject error = parseJson(replies.first()).toObject().value("error").toObject();
            QCOMPARE(error.value("code").toInt(), -32600);
            QCOMPARE(error.value("data").toString(), QStringLiteral("batch of 100000 requests exceeds the limit of 10000"));
        }
        {
            JsonRpcOptions options;
            options.maxBatchSize = 200'000;
            Fixture f(options, TrafficLog::Limits{1000, 1024, 1024 * 1024});
            const QList<QByteArray> replies = f.send(batch);
            QCOMPARE(replies.size(), 1);
            const QJsonArray errors = parseJson(replies.first()).toArray();
            QCOMPARE(errors.size(), 100'000);
            QCOMPARE(errors.last().toObject().value("error").toObject().value("code").toInt(), -32600);
            QCOMPARE(f.log.size(), 1000); // bounded
        }
        {
            // Valid requests, many of them.
            JsonRpcOptions options;
            options.maxBatchSize = 20'000;
            Fixture f(options);
            QByteArray requests = "[";
            for (int i = 0; i < 15'000; ++i)
                requests += (i ? "," : "") + QByteArray(R"({"jsonrpc":"2.0","method":"sum","params":[1,)")
                    + QByteArray::number(i) + R"(],"id":)" + QByteArray::number(i) + ".0}";
            requests += "]";
            QVERIFY(requests.size() < 1024 * 1024);
            const QJsonArray replies = parseJson(f.send(requests).value(0)).toArray();
            QCOMPARE(replies.size(), 15'000);
            QCOMPARE(replies.at(14'999).toObject().value("result").toInt(), 15'000);
            QVERIFY(f.link.sent.first().endsWith(R"({"jsonrpc":"2.0","result":15000,"id":14999.0}])"));
        }
    }

    void deepNesting()
    {
        Fixture f;
        // Far beyond QJsonDocument's nesting limit (1024): a parse error, no crash.
        const QByteArray deep = QByteArray(200'000, '[') + QByteArray(200'000, ']');
        QList<QByteArray> replies = f.send(deep);
        QCOMPARE(replies.size(), 1);
        QJsonObject error = parseJson(replies.first()).toObject().value("error").toObject();
        QCOMPARE(error.value("code").toInt(), -32700);
        QCOMPARE(error.value("data").toString(), parserMessage(deep));

        const QByteArray deepObjects = QByteArray(100'000, '{').replace("{", R"({"a":)");
        replies = f.send(deepObjects);
        QCOMPARE(parseJson(replies.value(0)).toObject().value("error").toObject().value("code").toInt(), -32700);

        // Deep, but within the limit: works, echo included.
        const QByteArray params = QByteArray(1000, '[') + QByteArray(1000, ']');
        replies = f.send(R"({"jsonrpc":"2.0","method":"echo","params":)" + params + R"(,"id":1})");
        QCOMPARE(replies, QList<QByteArray>{R"({"jsonrpc":"2.0","result":)" + params + R"(,"id":1})"});
    }

    void unicodeRoundTrip()
    {
        Fixture f;
        const QByteArray params = "[\"é\",\"😀\",\"\\ud800\",\"a\\u0000b\",\"\\t\\r\\n\",\"\\u2028\"]";
        const QList<QByteArray> replies = f.send(R"({"jsonrpc":"2.0","method":"echo","params":)" + params + R"(,"id":1})");
        QCOMPARE(parseJson(replies.value(0)).toObject().value("result"), parseJson(params));
        QCOMPARE(f.send(QByteArray(R"({"jsonrpc":"2.0","method":"nöpe😀","id":1})")).size(), 1);
        QCOMPARE(f.engine.calls().last(), QStringLiteral("nöpe😀"));
    }

    void push()
    {
        Fixture f;
        f.session->pushNotification(QStringLiteral("event"), R"({"topic":"news","data":[1,"x"]})");
        f.session->pushNotification(QStringLiteral("ping\"me"), QByteArray());
        QCOMPARE(f.link.sent, (QList<QByteArray>{R"({"jsonrpc":"2.0","method":"event","params":{"topic":"news","data":[1,"x"]}})",
                                                  "{\"jsonrpc\":\"2.0\",\"method\":\"ping\\\"me\"}"}));
        const TrafficLog::Slice s = f.log.eventsAfter(0);
        QCOMPARE(s.events.size(), 2);
        QCOMPARE(s.events[0].kind, TrafficEvent::Kind::Push);
        QCOMPARE(s.events[0].direction, TrafficEvent::Direction::Out);
        QCOMPARE(s.events[0].method, QStringLiteral("event"));
        QCOMPARE(s.events[0].payload, f.link.sent[0]);
    }

    void callContext()
    {
        Fixture f;
        CallContext seen;
        f.engine.hook = [&](const CallContext &c) { seen = c; };
        f.send(R"({"jsonrpc":"2.0","method":"hook","id":1})");
        QCOMPARE(seen.connectionId, quint64(7));
        QCOMPARE(seen.subprotocol, QStringLiteral("jsonrpc"));
        QCOMPARE(seen.link, &f.link);
    }

    void connectionClosedOnDestroy()
    {
        Fixture f;
        QVERIFY(f.engine.closedConnections().isEmpty());
        f.session.reset();
        QCOMPARE(f.engine.closedConnections(), QList<quint64>{7});
    }

    // A handler that closes its own connection can end the session before
    // the call returns (a real socket may disconnect synchronously).
    void sessionDestroyedByHandler()
    {
        Fixture f;
        f.link.onClose = [&] { f.session.reset(); };
        f.engine.hook = [](const CallContext &c) {
            c.link->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("bye"));
        };
        f.send(R"([{"jsonrpc":"2.0","method":"hook","id":1},{"jsonrpc":"2.0","method":"sum","params":[1],"id":2}])");
        QVERIFY(!f.session);
        QCOMPARE(f.link.sent.size(), 0);
        QCOMPARE(f.engine.calls(), QStringList{"hook"});
        QCOMPARE(f.engine.closedConnections(), QList<quint64>{7});
    }

    void trafficEvents()
    {
        Fixture f;
        f.send(R"({"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1.0})");
        f.send(R"({"jsonrpc":"2.0","method":"disabled_method","params":[]})");
        f.send(R"({"jsonrpc":"2.0","method":"guarded","id":"g"})");
        f.send("not json");
        f.send(R"([{"jsonrpc":"2.0","method":"sum","params":[1],"id":5},{"jsonrpc":"2.0","method":"notify_hello"}])");

        using K = TrafficEvent::Kind;
        using D = TrafficEvent::Direction;
        using V = TrafficEvent::Verdict;
        const QList<TrafficEvent> e = f.log.eventsAfter(0).events;
        QCOMPARE(e.size(), 12);
        for (qsizetype i = 0; i < e.size(); ++i) {
            QCOMPARE(e[i].id, quint64(i + 1));
            QCOMPARE(e[i].connectionId, quint64(7));
            QCOMPARE(e[i].subprotocol, QStringLiteral("jsonrpc"));
            QVERIFY(e[i].timeMs > 0);
        }
        // request + response
        QCOMPARE(e[0].direction, D::In);
        QCOMPARE(e[0].kind, K::Request);
        QCOMPARE(e[0].method, QStringLiteral("sum"));
        QCOMPARE(e[0].requestId, QByteArray("1.0"));
        QCOMPARE(e[0].verdict, V::Accepted);
        QCOMPARE(e[0].payload, QByteArray(R"({"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1.0})"));
        QCOMPARE(e[0].size, qint64(e[0].payload.size()));
        QCOMPARE(e[0].latencyUs, qint64(-1));
        QCOMPARE(e[1].direction, D::Out);
        QCOMPARE(e[1].kind, K::Response);
        QCOMPARE(e[1].requestId, QByteArray("1.0"));
        QCOMPARE(e[1].payload, QByteArray(R"({"jsonrpc":"2.0","result":3,"id":1.0})"));
        QVERIFY(e[1].latencyUs >= 0);
        // notification refused: no reply, verdict on the inbound event
        QCOMPARE(e[2].kind, K::Notification);
        QCOMPARE(e[2].verdict, V::DisabledMethod);
        QVERIFY(e[2].requestId.isEmpty());
        // policy refusal names the validator
        QCOMPARE(e[3].verdict, V::Refused);
        QCOMPARE(e[3].reason, QStringLiteral("refused by night-policy: not allowed at night"));
        QCOMPARE(e[4].kind, K::Error);
        QCOMPARE(e[4].requestId, QByteArray("\"g\""));
        // parse error
        QCOMPARE(e[5].kind, K::Message);
        QCOMPARE(e[5].verdict, V::ParseError);
        QCOMPARE(e[5].reason, parserMessage("not json"));
        QCOMPARE(e[6].kind, K::Error);
        QCOMPARE(e[6].requestId, QByteArray("null"));
        // batch: wrapper in, each call, wrapper out
        QCOMPARE(e[7].kind, K::Batch);
        QCOMPARE(e[7].direction, D::In);
        QCOMPARE(e[8].kind, K::Request);
        QCOMPARE(e[8].payload, QByteArray(R"({"jsonrpc":"2.0","method":"sum","params":[1],"id":5})"));
        QCOMPARE(e[9].kind, K::Response);
        QCOMPARE(e[9].payload, QByteArray(R"({"jsonrpc":"2.0","result":1,"id":5})"));
        QCOMPARE(e[10].kind, K::Notification);
        QCOMPARE(e[10].method, QStringLiteral("notify_hello"));
        QCOMPARE(e[11].kind, K::Batch);
        QCOMPARE(e[11].direction, D::Out);
        QCOMPARE(e[11].payload, QByteArray(R"([{"jsonrpc":"2.0","result":1,"id":5}])"));
        QVERIFY(e[11].latencyUs >= 0);
    }

    // Seeded random mutations of valid messages: never a crash, never a
    // dropped connection, at most one reply, and every reply valid JSON-RPC.
    void mutatedMessages()
    {
        const QList<QByteArray> seeds{
            R"({"jsonrpc":"2.0","method":"sum","params":[1,2.5e3,-0.0],"id":12345678901234567890})",
            "[{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"a\":[\"x\\\"y\",{\"id\":1}]},\"id\":1.0},{\"jsonrpc\":\"2.0\",\"method\":\"notify_hello\"}]",
            "{\"id\":\"\\u0041\",\"jsonrpc\":\"2.0\",\"method\":\"subtract\",\"params\":{\"minuend\":1,\"subtrahend\":2}}",
        };
        QRandomGenerator random(20240611);
        Fixture f;
        for (int round = 0; round < 20'000; ++round) {
            QByteArray m = seeds.at(round % seeds.size());
            const int edits = 1 + int(random.bounded(4));
            for (int e = 0; e < edits && !m.isEmpty(); ++e) {
                const int at = int(random.bounded(m.size()));
                static const char alphabet[] = "{}[]\",:0123456789.eE+-\\ \tidnul";
                const char c = alphabet[random.bounded(int(sizeof(alphabet) - 1))];
                switch (random.bounded(3)) {
                case 0: m[at] = c; break;
                case 1: m.insert(at, c); break;
                default: m.remove(at, 1); break;
                }
            }
            const QList<QByteArray> replies = f.send(m);
            QVERIFY2(replies.size() <= 1, m.constData());
            for (const QByteArray &reply : replies) {
                const QJsonValue v = parseJson(reply);
                QVERIFY2(v.isObject() || v.isArray(), (m + " -> " + reply).constData());
                const QJsonArray list = v.isArray() ? v.toArray() : QJsonArray{v};
                for (const QJsonValue &r : list) {
                    QCOMPARE(r.toObject().value("jsonrpc").toString(), QStringLiteral("2.0"));
                    QVERIFY(r.toObject().contains("id"));
                    QVERIFY(r.toObject().contains("result") != r.toObject().contains("error"));
                }
            }
        }
        QVERIFY(f.link.closes.isEmpty());
    }

    void trafficLogOptional()
    {
        TestEngine engine;
        JsonRpcSubprotocol protocol(&engine, nullptr);
        TestLink link(QStringLiteral("jsonrpc"));
        auto session = protocol.createSession(link);
        session->textMessage(R"({"jsonrpc":"2.0","method":"sum","params":[1],"id":1})");
        session->pushNotification("event", "{}");
        QCOMPARE(link.sent.size(), 2);

        TrafficLog log;
        log.setEnabled(false);
        JsonRpcSubprotocol quiet(&engine, &log);
        auto s2 = quiet.createSession(link);
        s2->textMessage(R"({"jsonrpc":"2.0","method":"sum","params":[1],"id":1})");
        QCOMPARE(log.latestId(), quint64(0));
    }
};

QTEST_GUILESS_MAIN(TestJsonRpc)
#include "tst_jsonrpc.moc"
