// Both bundled subprotocols over real sockets: the server core on port 0
// with registerBundledSubprotocols() and the test engine, QWebSocket clients.

#include "rpc/bundledsubprotocols.h"
#include "testsupport.h"
#include "admin/trafficlog.h"
#include "wiretestsupport.h"

#include <QJsonParseError>
#include <QTest>

class TestWireEndToEnd : public QObject
{
    Q_OBJECT

private:
    TestEngine m_engine;
    TrafficLog m_log;
    TestServer m_server;

    // Sends `text`, waits for the next `count` replies.
    static QStringList exchange(QWebSocket &socket, const QString &text, int count = 1)
    {
        QSignalSpy received(&socket, &QWebSocket::textMessageReceived);
        socket.sendTextMessage(text);
        (void)QTest::qWaitFor([&] { return received.count() >= count; }, 5000);
        QStringList replies;
        for (const QList<QVariant> &args : received)
            replies << args.first().toString();
        return replies;
    }

    static QString parseErrorOf(const QByteArray &text)
    {
        QJsonParseError error;
        QJsonDocument::fromJson(text, &error);
        return QStringLiteral("%1 at offset %2").arg(error.errorString()).arg(error.offset);
    }

private slots:
    void initTestCase()
    {
        registerBundledSubprotocols(*m_server.subprotocols, &m_engine, &m_log);
        QCOMPARE(m_server.subprotocols->allNames(), (QStringList{"jsonrpc", "dm-rpc"}));
        ServerConfig config;
        config.port = 0;
        config.workerThreads = 2;
        QString error;
        QVERIFY2(m_server.start(config, &error), qPrintable(error));
    }

    void cleanupTestCase()
    {
        QVERIFY(m_server.stop());
    }

    void jsonrpc()
    {
        QWebSocket socket;
        QVERIFY(openWebSocket(socket, m_server.wsUrl(), {"jsonrpc"}));
        QCOMPARE(socket.subprotocol(), QStringLiteral("jsonrpc"));
        QCOMPARE(exchange(socket, R"({"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1.0})"),
                 QStringList{R"({"jsonrpc":"2.0","result":19,"id":1.0})"});
        // A notification gets nothing; the request after it gets its reply.
        socket.sendTextMessage(R"({"jsonrpc":"2.0","method":"nope"})");
        QCOMPARE(exchange(socket, R"([{"jsonrpc":"2.0","method":"get_data","id":"9"},{"jsonrpc":"2.0","method":"notify_hello","params":[7]}])"),
                 QStringList{R"([{"jsonrpc":"2.0","result":["hello",5],"id":"9"}])"});
        QCOMPARE(exchange(socket, "{oops"),
                 QStringList{QStringLiteral(R"({"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":"%1"},"id":null})")
                                 .arg(parseErrorOf("{oops"))});
        QCOMPARE(socket.state(), QAbstractSocket::ConnectedState);
    }

    void dmrpc()
    {
        QWebSocket socket;
        // The first offered subprotocol that the server supports wins.
        QVERIFY(openWebSocket(socket, m_server.wsUrl(), {"x-unknown", "dm-rpc", "jsonrpc"}));
        QCOMPARE(socket.subprotocol(), QStringLiteral("dm-rpc"));
        QCOMPARE(exchange(socket, R"(["sum",[1,2],1.0])"), QStringList{R"(["sum",3,1.0])"});

        QSignalSpy disconnected(&socket, &QWebSocket::disconnected);
        socket.sendTextMessage(R"(["nope",{},2])");
        QVERIFY(disconnected.wait(5000) || !disconnected.isEmpty());
        QCOMPARE(int(socket.closeCode()), int(QWebSocketProtocol::CloseCodePolicyViolated));
        QCOMPARE(socket.closeReason(), QStringLiteral("unknown method: nope"));
    }

    void dmrpcProtocolError()
    {
        QWebSocket socket;
        QVERIFY(openWebSocket(socket, m_server.wsUrl(), {"dm-rpc"}));
        QSignalSpy disconnected(&socket, &QWebSocket::disconnected);
        socket.sendTextMessage(R"({"not":"a tuple"})");
        QVERIFY(disconnected.wait(5000) || !disconnected.isEmpty());
        QCOMPARE(int(socket.closeCode()), int(QWebSocketProtocol::CloseCodeProtocolError));
        QCOMPARE(socket.closeReason(), QStringLiteral("expected an array [method, payload, requestId]"));
    }

    void pushes()
    {
        QWebSocket json;
        QWebSocket dm;
        QVERIFY(openWebSocket(json, m_server.wsUrl(), {"jsonrpc"}));
        QVERIFY(openWebSocket(dm, m_server.wsUrl(), {"dm-rpc"}));
        QSignalSpy jsonPush(&json, &QWebSocket::textMessageReceived);
        QSignalSpy dmPush(&dm, &QWebSocket::textMessageReceived);
        QTRY_COMPARE(m_server.host->connections()->count(), 2);
        for (const ConnectionInfo &c : m_server.host->connections()->snapshot())
            QVERIFY(m_server.host->connections()->pushNotification(c.id, "event", R"({"topic":"t","data":1})"));
        QTRY_COMPARE(jsonPush.count(), 1);
        QTRY_COMPARE(dmPush.count(), 1);
        QCOMPARE(jsonPush.first().first().toString(),
                 QStringLiteral(R"({"jsonrpc":"2.0","method":"event","params":{"topic":"t","data":1}})"));
        QCOMPARE(dmPush.first().first().toString(), QStringLiteral(R"(["event",{"topic":"t","data":1},null])"));
    }

    // A handler that closes its own connection, on the real WebSocketSession.
    void handlerClosesConnection()
    {
        m_engine.hook = [](const CallContext &c) {
            c.link->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("handler said bye"));
        };
        for (const char *protocol : {"jsonrpc", "dm-rpc"}) {
            QWebSocket socket;
            QVERIFY(openWebSocket(socket, m_server.wsUrl(), {QString::fromLatin1(protocol)}));
            QSignalSpy disconnected(&socket, &QWebSocket::disconnected);
            socket.sendTextMessage(QLatin1String(protocol) == QLatin1String("jsonrpc")
                                       ? QStringLiteral(R"([{"jsonrpc":"2.0","method":"hook","id":1},{"jsonrpc":"2.0","method":"sum","params":[1],"id":2}])")
                                       : QStringLiteral(R"(["hook",{},1])"));
            QVERIFY(disconnected.wait(5000) || !disconnected.isEmpty());
            QCOMPARE(int(socket.closeCode()), int(QWebSocketProtocol::CloseCodeNormal));
        }
        m_engine.hook = nullptr;
        // The server is still fine.
        QWebSocket socket;
        QVERIFY(openWebSocket(socket, m_server.wsUrl(), {"jsonrpc"}));
        QCOMPARE(exchange(socket, R"({"jsonrpc":"2.0","method":"sum","params":[2,2],"id":3})"),
                 QStringList{R"({"jsonrpc":"2.0","result":4,"id":3})"});
    }

    void trafficAndClosedConnections()
    {
        QTRY_COMPARE(m_server.host->connections()->count(), 0);
        // Every finished connection was reported to the engine.
        QTRY_VERIFY(m_engine.closedConnections().size() >= 7);
        const TrafficLog::Slice s = m_log.eventsAfter(0, 10'000);
        QVERIFY(s.events.size() > 10);
        bool sawClose = false;
        for (const TrafficEvent &e : s.events) {
            QVERIFY(e.connectionId > 0);
            if (e.kind == TrafficEvent::Kind::Close && e.reason == QLatin1String("unknown method: nope"))
                sawClose = true;
        }
        QVERIFY(sawClose);
    }
};

QTEST_GUILESS_MAIN(TestWireEndToEnd)
#include "tst_wire_e2e.moc"
