// The `dm-rpc` subprotocol session, driven directly through a recording
// ConnectionLink: replies, notifications, pushes, every way to be closed
// (code and reason), the 123-byte reason limit, and the traffic log events.

#include "rpc/dmrpcsubprotocol.h"
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
} // namespace

class TestDmRpc : public QObject
{
    Q_OBJECT

private:
    struct Fixture
    {
        explicit Fixture(TrafficLog::Limits limits = TrafficLog::Limits())
            : log(limits)
            , protocol(&engine, &log)
            , link(QStringLiteral("dm-rpc"), 11)
            , session(protocol.createSession(link))
        {
        }
        QList<QByteArray> send(const QByteArray &message)
        {
            const qsizetype before = link.sent.size();
            session->textMessage(message);
            return link.sent.mid(before);
        }
        TestEngine engine;
        TrafficLog log;
        DmRpcSubprotocol protocol;
        TestLink link;
        std::unique_ptr<ProtocolSession> session;
    };

private slots:
    void name()
    {
        TestEngine engine;
        DmRpcSubprotocol p(&engine, nullptr);
        QCOMPARE(p.name(), QStringLiteral("dm-rpc"));
        QVERIFY(!p.description().isEmpty());
    }

    // A handler that answers later: the reply is sent then; a failure
    // closes with 1011 as any handler failure does.
    void callsThatAnswerLater()
    {
        Fixture f;
        QCOMPARE(f.send(R"(["later",{"ms":30,"value":"slow"},1])"), QList<QByteArray>());
        QCOMPARE(f.send(R"(["echo","now",2])"), QList<QByteArray>{R"(["echo","now",2])"});
        QTRY_COMPARE(f.link.sent.size(), 2);
        QCOMPARE(f.link.sent.last(), QByteArray(R"(["later","slow",1])"));
        f.send(R"(["later_error",{},3])");
        QTRY_VERIFY(!f.link.closes.isEmpty());
        QCOMPARE(f.link.closes.first().code, 1011);
        QVERIFY2(f.link.closes.first().reason.contains("no such order"), qPrintable(f.link.closes.first().reason));
    }

    void replies_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<QByteArray>("reply");
        QTest::newRow("number id") << QByteArray(R"(["sum",[1,2],7])") << QByteArray(R"(["sum",3,7])");
        QTest::newRow("string id") << QByteArray(R"(["sum",[1,2],"r-1"])") << QByteArray(R"(["sum",3,"r-1"])");
        QTest::newRow("id 1.0 exact") << QByteArray(R"(["sum",[1,2],1.0])") << QByteArray(R"(["sum",3,1.0])");
        QTest::newRow("big id exact") << QByteArray(R"(["sum",[1,2],123456789012345678901234567890])")
                                      << QByteArray(R"(["sum",3,123456789012345678901234567890])");
        QTest::newRow("whitespace") << QByteArray(" [ \"sum\" , [ 1 , 2 ] , 1e3 ] ") << QByteArray(R"(["sum",3,1e3])");
        QTest::newRow("echo object") << QByteArray(R"(["echo",{"a":[1,{"b":null}]},"x"])")
                                     << QByteArray(R"(["echo",{"a":[1,{"b":null}]},"x"])");
        QTest::newRow("echo scalar") << QByteArray(R"(["echo","text",1])") << QByteArray(R"(["echo","text",1])");
        QTest::newRow("echo null") << QByteArray(R"(["echo",null,1])") << QByteArray(R"(["echo",null,1])");
        QTest::newRow("no result") << QByteArray(R"(["update",[1],2])") << QByteArray(R"(["update",null,2])");
        QTest::newRow("method escaped") << QByteArray("[\"e\\u0063ho\",1,2]") << QByteArray(R"(["echo",1,2])");
    }

    void replies()
    {
        QFETCH(QByteArray, request);
        QFETCH(QByteArray, reply);
        Fixture f;
        QCOMPARE(f.send(request), QList<QByteArray>{reply});
        QVERIFY(f.link.closes.isEmpty());
    }

    void notification()
    {
        Fixture f;
        QCOMPARE(f.send(R"(["sum",[1,2],null])").size(), 0);
        QCOMPARE(f.engine.calls(), QStringList{"sum"});
        QVERIFY(f.link.closes.isEmpty());
        QCOMPARE(f.engine.params().first(), parseJson("[1,2]"));
    }

    // Every way a dm-rpc message closes the connection, with code and reason.
    void closes_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("reason");
        QTest::addColumn<int>("verdict");

        const int protocolError = QWebSocketProtocol::CloseCodeProtocolError;   // 1002
        const int policy = QWebSocketProtocol::CloseCodePolicyViolated;         // 1008
        const int internal = QWebSocketProtocol::CloseCodeBadOperation;         // 1011
        using V = TrafficEvent::Verdict;
        const QString notArray = QStringLiteral("expected an array [method, payload, requestId]");

        QTest::newRow("not JSON") << QByteArray("[\"sum\", [1,") << protocolError
                                  << "not JSON: " + parserMessage("[\"sum\", [1,") << int(V::ParseError);
        QTest::newRow("not JSON, text") << QByteArray("hello") << protocolError << "not JSON: " + parserMessage("hello")
                                        << int(V::ParseError);
        QTest::newRow("empty") << QByteArray("") << protocolError << "not JSON: " + parserMessage("") << int(V::ParseError);
        QTest::newRow("too deep") << QByteArray(5000, '[') << protocolError << "not JSON: " + parserMessage(QByteArray(5000, '['))
                                  << int(V::ParseError);
        QTest::newRow("object") << QByteArray(R"({"method":"sum"})") << protocolError << notArray << int(V::InvalidRequest);
        QTest::newRow("scalar") << QByteArray("42") << protocolError << notArray << int(V::InvalidRequest);
        QTest::newRow("string") << QByteArray(R"("sum")") << protocolError << notArray << int(V::InvalidRequest);
        QTest::newRow("0 elements") << QByteArray("[]") << protocolError
                                    << "expected [method, payload, requestId], got 0 elements" << int(V::InvalidRequest);
        QTest::newRow("2 elements") << QByteArray(R"(["sum",[1]])") << protocolError
                                    << "expected [method, payload, requestId], got 2 elements" << int(V::InvalidRequest);
        QTest::newRow("4 elements") << QByteArray(R"(["sum",[1],1,2])") << protocolError
                                    << "expected [method, payload, requestId], got 4 elements" << int(V::InvalidRequest);
        QTest::newRow("method a number") << QByteArray(R"([1,[1],1])") << protocolError << "method must be a string"
                                         << int(V::InvalidRequest);
        QTest::newRow("method null") << QByteArray(R"([null,[1],1])") << protocolError << "method must be a string"
                                     << int(V::InvalidRequest);
        QTest::newRow("id an object") << QByteArray(R"(["sum",[1],{}])") << protocolError
                                      << "request id must be a string, a number or null" << int(V::InvalidRequest);
        QTest::newRow("id an array") << QByteArray(R"(["sum",[1],[1]])") << protocolError
                                     << "request id must be a string, a number or null" << int(V::InvalidRequest);
        QTest::newRow("id a bool") << QByteArray(R"(["sum",[1],true])") << protocolError
                                   << "request id must be a string, a number or null" << int(V::InvalidRequest);
        QTest::newRow("params rejected") << QByteArray(R"(["sum",[1,"x"],1])") << protocolError
                                         << "sum: invalid params: /1 must be a number" << int(V::InvalidParams);
        QTest::newRow("params rejected, notification") << QByteArray(R"(["sum","x",null])") << protocolError
                                                       << "sum: invalid params: must be an array" << int(V::InvalidParams);
        QTest::newRow("unknown") << QByteArray(R"(["nope",{},1])") << policy << "unknown method: nope" << int(V::UnknownMethod);
        QTest::newRow("unknown, notification") << QByteArray(R"(["nope",{},null])") << policy << "unknown method: nope"
                                               << int(V::UnknownMethod);
        QTest::newRow("unknown, bare verdict") << QByteArray(R"(["lazy_unknown",{},1])") << policy
                                               << "unknown method: lazy_unknown" << int(V::UnknownMethod);
        QTest::newRow("disabled") << QByteArray(R"(["disabled_method",{},1])") << policy
                                  << "method disabled: disabled_method" << int(V::DisabledMethod);
        QTest::newRow("refused by policy") << QByteArray(R"(["guarded",{},"a"])") << policy
                                           << "guarded refused by night-policy: not allowed at night" << int(V::Refused);
        QTest::newRow("handler failed") << QByteArray(R"(["fail",{},1])") << internal << "fail failed: boom"
                                        << int(V::HandlerFailed);
    }

    void closes()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, code);
        QFETCH(QString, reason);
        QFETCH(int, verdict);

        Fixture f;
        QCOMPARE(f.send(request).size(), 0);
        QCOMPARE(f.link.closes.size(), 1);
        QCOMPARE(f.link.closes.first().code, code);
        QCOMPARE(f.link.closes.first().reason, reason);
        QVERIFY(f.link.closes.first().reason.toUtf8().size() <= 123);

        // Logged: the inbound message with its verdict, then the close.
        const QList<TrafficEvent> e = f.log.eventsAfter(0).events;
        QCOMPARE(e.size(), 2);
        QCOMPARE(e[0].direction, TrafficEvent::Direction::In);
        QCOMPARE(int(e[0].verdict), verdict);
        QCOMPARE(e[0].payload, request.left(f.log.limits().payloadCapBytes));
        QCOMPARE(e[1].direction, TrafficEvent::Direction::Out);
        QCOMPARE(e[1].kind, TrafficEvent::Kind::Close);
        QCOMPARE(int(e[1].verdict), verdict);
        QCOMPARE(e[1].reason, reason);
        const QJsonObject closePayload = parseJson(e[1].payload).toObject();
        QCOMPARE(closePayload.value("code").toInt(), code);
        QCOMPARE(closePayload.value("reason").toString(), reason);

        // Closing: later messages and pushes are ignored.
        f.send(R"(["sum",[1],2])");
        f.session->pushNotification("event", "{}");
        QCOMPARE(f.link.sent.size(), 0);
        QCOMPARE(f.link.closes.size(), 1);
    }

    void closeReasonLength_data()
    {
        QTest::addColumn<QString>("method");
        QTest::newRow("ascii") << QString(300, QLatin1Char('m'));
        QTest::newRow("two-byte") << QString(200, QChar(0xE9));          // é
        QTest::newRow("three-byte") << QString(100, QChar(0x20AC));      // €
        QTest::newRow("four-byte") << QString::fromUtf8("😀").repeated(60);
        QTest::newRow("mixed") << QStringLiteral("a€😀é").repeated(30);
    }

    void closeReasonLength()
    {
        QFETCH(QString, method);
        for (int pad = 0; pad < 4; ++pad) {
            // Shift the cut point across every byte of a multi-byte character.
            Fixture f;
            const QString name = QString(pad, QLatin1Char('x')) + method;
            QByteArray request = "[";
            QByteArray quoted = QJsonDocument(QJsonArray{name}).toJson(QJsonDocument::Compact);
            request += quoted.mid(1, quoted.size() - 2) + ",{},1]";
            f.send(request);
            QCOMPARE(f.link.closes.size(), 1);
            const QString reason = f.link.closes.first().reason;
            const QByteArray utf8 = reason.toUtf8();
            QVERIFY2(utf8.size() <= 123, utf8.constData());
            QVERIFY(utf8.size() >= 120); // cut no shorter than it must be
            QVERIFY(!reason.contains(QChar::ReplacementCharacter));
            QVERIFY(QStringLiteral("unknown method: %1").arg(name).startsWith(reason));
            QCOMPARE(f.link.closes.first().code, int(QWebSocketProtocol::CloseCodePolicyViolated));
        }
    }

    void push()
    {
        Fixture f;
        f.session->pushNotification(QStringLiteral("event"), R"({"topic":"news","data":{"x":1}})");
        f.session->pushNotification(QStringLiteral("tick"), QByteArray());
        QCOMPARE(f.link.sent, (QList<QByteArray>{R"(["event",{"topic":"news","data":{"x":1}},null])",
                                                  R"(["tick",null,null])"}));
        const QList<TrafficEvent> e = f.log.eventsAfter(0).events;
        QCOMPARE(e.size(), 2);
        QCOMPARE(e[0].kind, TrafficEvent::Kind::Push);
        QCOMPARE(e[0].method, QStringLiteral("event"));
        QCOMPARE(e[0].subprotocol, QStringLiteral("dm-rpc"));
    }

    void trafficEvents()
    {
        Fixture f;
        f.send(R"(["sum",[1,2],1.50])");
        f.send(R"(["notify_hello",[7],null])");
        const QList<TrafficEvent> e = f.log.eventsAfter(0).events;
        QCOMPARE(e.size(), 3);
        QCOMPARE(e[0].kind, TrafficEvent::Kind::Request);
        QCOMPARE(e[0].method, QStringLiteral("sum"));
        QCOMPARE(e[0].requestId, QByteArray("1.50"));
        QCOMPARE(e[0].verdict, TrafficEvent::Verdict::Accepted);
        QCOMPARE(e[1].kind, TrafficEvent::Kind::Response);
        QCOMPARE(e[1].direction, TrafficEvent::Direction::Out);
        QCOMPARE(e[1].payload, QByteArray(R"(["sum",3,1.50])"));
        QVERIFY(e[1].latencyUs >= 0);
        QCOMPARE(e[2].kind, TrafficEvent::Kind::Notification);
        QCOMPARE(e[2].connectionId, quint64(11));
    }

    // Seeded random mutations: a reply or a close with a valid code and a
    // reason of at most 123 bytes, never a crash.
    void mutatedMessages()
    {
        const QList<QByteArray> seeds{R"(["sum",[1,2,3.5],12345678901234567890])",
                                      "[\"echo\",{\"a\":[\"x\\\"y\",{\"id\":1}]},\"r-1\"]", R"(["notify_hello",[7],null])"};
        QRandomGenerator random(20240611);
        for (int round = 0; round < 5'000; ++round) {
            QByteArray m = seeds.at(round % seeds.size());
            const int edits = 1 + int(random.bounded(3));
            for (int e = 0; e < edits && !m.isEmpty(); ++e) {
                const int at = int(random.bounded(m.size()));
                static const char alphabet[] = "{}[]\",:0123456789.eE+-\\ nul";
                const char c = alphabet[random.bounded(int(sizeof(alphabet) - 1))];
                switch (random.bounded(3)) {
                case 0: m[at] = c; break;
                case 1: m.insert(at, c); break;
                default: m.remove(at, 1); break;
                }
            }
            Fixture f(TrafficLog::Limits{100, 1024, 1024 * 1024});
            const QList<QByteArray> replies = f.send(m);
            QVERIFY(replies.size() + f.link.closes.size() <= 1);
            for (const QByteArray &reply : replies)
                QCOMPARE(parseJson(reply).toArray().size(), 3);
            for (const TestLink::Close &c : f.link.closes) {
                QVERIFY(c.code == 1002 || c.code == 1008 || c.code == 1011);
                QVERIFY(c.reason.toUtf8().size() <= 123);
            }
        }
    }

    void connectionClosedOnDestroy()
    {
        Fixture f;
        f.session.reset();
        QCOMPARE(f.engine.closedConnections(), QList<quint64>{11});
    }

    // Closing may end the session at once (a real socket can disconnect
    // synchronously): nothing touches it afterwards.
    void sessionDestroyedByClose()
    {
        Fixture f;
        f.link.onClose = [&] { f.session.reset(); };
        f.send(R"(["nope",{},1])");
        QVERIFY(!f.session);
        QCOMPARE(f.engine.closedConnections(), QList<quint64>{11});

        Fixture g;
        g.link.onClose = [&] { g.session.reset(); };
        g.engine.hook = [](const CallContext &c) {
            c.link->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("bye"));
        };
        g.send(R"(["hook",{},1])");
        QVERIFY(!g.session);
        QCOMPARE(g.link.sent.size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestDmRpc)
#include "tst_dmrpc.moc"
