// The admin API and the RPC side at once, on the server as shipped: PATCH
// racing with live calls, publish/subscribe across both subprotocols, and
// rpc.discover following the method switches.

#include "apitestsupport.h"

#include "rpc/catalogrpcengine.h"
#include "rpc/methodregistry.h"

#include <QFile>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTemporaryDir>

namespace {

// A jsonrpc client that keeps `Depth` calls of `echo` in flight (a new one
// as soon as a reply arrives) until stopped, and sorts every reply: a result equal to the params, or
// -32601 {"reason":"disabled"}. Anything else is kept as unexpected.
class EchoLoop : public QObject
{
public:
    static constexpr int Depth = 8;

    explicit EchoLoop(int index)
        : m_index(index)
    {
        connect(&m_socket, &QWebSocket::textMessageReceived, this, &EchoLoop::onReply);
        connect(&m_socket, &QWebSocket::disconnected, this, [this] { m_disconnected = true; });
    }

    bool open(const QUrl &url) { return openWebSocket(m_socket, url, {"jsonrpc"}) && m_socket.subprotocol() == "jsonrpc"; }
    void start()
    {
        for (int i = 0; i < Depth; ++i)
            sendNext();
    }
    void stop() { m_running = false; }
    // One more call (after stop()).
    void callOnce() { sendNext(); }
    bool idle() const { return m_inFlight == 0; }
    bool disconnected() const { return m_disconnected; }

    int sent = 0;
    int results = 0;
    int disabled = 0;
    QList<QByteArray> unexpected;

private:
    void sendNext()
    {
        ++sent;
        ++m_inFlight;
        const QByteArray text = QByteArrayLiteral(R"({"jsonrpc":"2.0","method":"echo","params":[)")
            + QByteArray::number(m_index) + ',' + QByteArray::number(sent) + "],\"id\":" + QByteArray::number(sent)
            + '}';
        m_socket.sendTextMessage(QString::fromUtf8(text));
    }

    void onReply(const QString &text)
    {
        --m_inFlight;
        const QJsonObject reply = QJsonDocument::fromJson(text.toUtf8()).object();
        const int id = reply.value("id").toInt();
        const QJsonArray expected{m_index, id};
        if (reply.value("result") == QJsonValue(expected) && !reply.contains("error"))
            ++results;
        else if (reply.value("error").toObject().value("code").toInt() == -32601
                 && reply.value("error").toObject().value("data") == QJsonValue(QJsonObject{{"reason", "disabled"}})
                 && !reply.contains("result"))
            ++disabled;
        else
            unexpected << text.toUtf8();
        if (id != m_lastId + 1)
            unexpected << "out of order: " + text.toUtf8();
        m_lastId = id;
        if (m_running)
            sendNext();
    }

    QWebSocket m_socket;
    int m_index;
    int m_inFlight = 0;
    int m_lastId = 0;
    bool m_running = true;
    bool m_disconnected = false;
};

} // namespace

class TestApiLive : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<Switchboard> m_server;
    AdminClient m_api;

    QUrl ws(const QString &pathAndQuery = QStringLiteral("/")) const { return wsUrlOf(*m_server, pathAndQuery); }

private slots:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("switchboard.*.info=false"));
        QVERIFY(m_dir.isValid());
        ServerConfig config;
        config.port = 0;
        config.workerThreads = 2;
        config.stateFile = m_dir.filePath("methods.json");
        config.limits.maxConnections = 16;
        config.limits.shutdownGraceMs = 500;
        QString error;
        m_server = startSwitchboard(config, &error);
        QVERIFY2(m_server, qPrintable(error));
        m_api.port = portOf(*m_server);
    }

    void cleanupTestCase()
    {
        if (m_server)
            QVERIFY(stopSwitchboard(*m_server));
        m_server.reset();
    }

    void cleanup()
    {
        QTRY_COMPARE(m_server->host()->connections()->count(), 0);
        for (const QString &name : m_server->engine()->methods()->names())
            m_server->engine()->methods()->setEnabled(name, true);
    }

    void patchRacesLiveCalls()
    {
        constexpr int Clients = 4;
        constexpr int Patches = 100;
        const quint64 echoCallsBefore = m_server->engine()->methods()->status("echo")->counters.calls;
        const quint64 echoRefusalsBefore = m_server->engine()->methods()->status("echo")->counters.refusals;

        std::vector<std::unique_ptr<EchoLoop>> loops;
        for (int i = 0; i < Clients; ++i) {
            loops.push_back(std::make_unique<EchoLoop>(i));
            QVERIFY(loops.back()->open(ws(QStringLiteral("/loop%1").arg(i))));
        }
        for (auto &loop : loops)
            loop->start();

        // Alternate on/off; the last PATCH (i = 99) switches it off. Each
        // PATCH's wait spins the event loop, so the clients keep calling.
        for (int i = 0; i < Patches; ++i) {
            const bool enabled = i % 2 == 0;
            const HttpReply r = m_api.setEnabled("echo", enabled);
            QVERIFY2(r.complete && r.status == 200, r.describe().constData());
            QCOMPARE(r.object().value("enabled"), QJsonValue(enabled));
        }
        for (auto &loop : loops)
            loop->stop();
        for (auto &loop : loops)
            QTRY_VERIFY(loop->idle());

        int calls = 0;
        int results = 0;
        int disabled = 0;
        for (auto &loop : loops) {
            QVERIFY2(loop->unexpected.isEmpty(), loop->unexpected.value(0).constData());
            QVERIFY(!loop->disconnected());
            calls += loop->sent;
            results += loop->results;
            disabled += loop->disabled;
        }
        QCOMPARE(results + disabled, calls);
        QVERIFY2(results > 0, "no call got through while echo was toggled");
        QVERIFY2(disabled > 0, "no call was refused while echo was toggled");
        qDebug() << calls << "calls during" << Patches << "PATCHes:" << results << "results," << disabled << "refused";

        // Every call was counted once, every refusal too.
        const MethodStatus echo = *m_server->engine()->methods()->status("echo");
        QCOMPARE(echo.counters.calls - echoCallsBefore, quint64(calls));
        QCOMPARE(echo.counters.refusals - echoRefusalsBefore, quint64(disabled));

        // The last PATCH wins: off, everywhere (the connections that raced
        // it and a new one), also in the state file.
        QCOMPARE(m_api.method("echo").value("enabled"), QJsonValue(false));
        for (auto &loop : loops) {
            const int resultsBefore = loop->results;
            const int disabledBefore = loop->disabled;
            loop->callOnce();
            QTRY_VERIFY(loop->idle());
            QCOMPARE(loop->results, resultsBefore);
            QCOMPARE(loop->disabled, disabledBefore + 1);
            QVERIFY2(loop->unexpected.isEmpty(), loop->unexpected.value(0).constData());
        }
        RpcClient client;
        QVERIFY(client.open(ws(), "jsonrpc"));
        QCOMPARE(client.call("echo", QJsonArray{1}).value("error").toObject().value("data"),
                 QJsonValue(QJsonObject{{"reason", "disabled"}}));
        QFile state(m_dir.filePath("methods.json"));
        QVERIFY(state.open(QIODevice::ReadOnly));
        QCOMPARE(QJsonDocument::fromJson(state.readAll()).object().value("methods").toObject().value("echo"),
                 QJsonValue(false));

        QCOMPARE(m_api.setEnabled("echo", true).status, 200);
        QCOMPARE(client.call("echo", QJsonArray{2}).value("result"), QJsonValue(QJsonArray{2}));
    }

    void publishAcrossSubprotocols()
    {
        RpcClient json;
        RpcClient dm;
        RpcClient publisher;
        QVERIFY(json.open(ws("/sub-json"), "jsonrpc"));
        QVERIFY(dm.open(ws("/sub-dm"), "dm-rpc"));
        QVERIFY(publisher.open(ws("/pub"), "jsonrpc"));

        QCOMPARE(json.call("subscribe", QJsonObject{{"topic", "t"}}).value("result"), QJsonValue(true));
        QCOMPARE(dm.callDm("subscribe", QJsonObject{{"topic", "t"}}), (QJsonArray{"subscribe", true, 1}));
        // Another topic, to check nobody gets what they did not ask for.
        QCOMPARE(publisher.call("subscribe", QJsonObject{{"topic", "other"}}).value("result"), QJsonValue(true));

        const QJsonObject data{{"n", 1}, {"list", QJsonArray{"a", true, QJsonValue()}}};
        QCOMPARE(publisher.call("publish", QJsonObject{{"topic", "t"}, {"data", data}}).value("result"), QJsonValue(2));

        const QJsonObject event{{"topic", "t"}, {"data", data}};
        const QByteArray jsonPush = json.takeWhere([](const QJsonValue &v) { return v.toObject().value("method") == "event"; });
        QCOMPARE(parseJsonText(jsonPush),
                 QJsonValue(QJsonObject{{"jsonrpc", "2.0"}, {"method", "event"}, {"params", event}}));
        const QByteArray dmPush = dm.takeWhere([](const QJsonValue &v) { return v.toArray().at(0) == "event"; });
        QCOMPARE(parseJsonText(dmPush), QJsonValue(QJsonArray{"event", event, QJsonValue()}));

        // Nothing else arrived: a round trip later, the queues are empty.
        QCOMPARE(json.call("echo").value("result"), QJsonValue());
        QCOMPARE(dm.callDm("echo", 0), (QJsonArray{"echo", 0, 2}));
        QCOMPARE(publisher.call("echo").value("result"), QJsonValue());
        QVERIFY2(json.received().isEmpty(), json.received().value(0).constData());
        QVERIFY2(dm.received().isEmpty(), dm.received().value(0).constData());
        QVERIFY2(publisher.received().isEmpty(), publisher.received().value(0).constData());

        // A subscriber that leaves is no longer reached.
        dm.socket().close();
        QVERIFY(dm.waitForDisconnected());
        QTRY_COMPARE(publisher.call("publish", QJsonObject{{"topic", "t"}, {"data", 2}}).value("result"), QJsonValue(1));
        QVERIFY(!json.takeWhere([](const QJsonValue &v) { return v.toObject().value("method") == "event"; }).isNull());
        // Unsubscribed: nobody.
        QCOMPARE(json.call("unsubscribe", QJsonObject{{"topic", "t"}}).value("result"), QJsonValue(true));
        QCOMPARE(publisher.call("publish", QJsonObject{{"topic", "t"}, {"data", 3}}).value("result"), QJsonValue(0));
    }

    void discoverFollowsSwitches()
    {
        RpcClient client;
        QVERIFY(client.open(ws(), "jsonrpc"));
        const QJsonObject doc = client.call("rpc.discover").value("result").toObject();
        QVERIFY2(QRegularExpression(QStringLiteral(R"(^1\.\d+\.\d+$)")).match(doc.value("openrpc").toString()).hasMatch(),
                 qPrintable(doc.value("openrpc").toString()));
        const QJsonObject info = doc.value("info").toObject();
        QCOMPARE(info.value("title").toString(), QStringLiteral("Switchboard"));
        QVERIFY(!info.value("version").toString().isEmpty());
        QCOMPARE(info.value("version").toString(), QStringLiteral(SWITCHBOARD_VERSION));

        auto namesOf = [](const QJsonObject &document) {
            QStringList names;
            for (const QJsonValue &m : document.value("methods").toArray()) {
                names << m.toObject().value("name").toString();
                if (!m.toObject().value("params").isArray() || !m.toObject().value("result").isObject())
                    names << QStringLiteral("<method without params/result>");
            }
            return names;
        };
        const QStringList all{"echo", "sum", "time", "subscribe", "unsubscribe", "publish", "rpc.discover"};
        QCOMPARE(namesOf(doc), all);

        QCOMPARE(m_api.setEnabled("time", false).status, 200);
        QCOMPARE(m_api.setEnabled("publish", false).status, 200);
        QStringList some = all;
        some.removeAll("time");
        some.removeAll("publish");
        QCOMPARE(namesOf(client.call("rpc.discover").value("result").toObject()), some);
        // The same over dm-rpc.
        RpcClient dm;
        QVERIFY(dm.open(ws(), "dm-rpc"));
        const QJsonArray dmReply = dm.callDm("rpc.discover", QJsonValue());
        QCOMPARE(dmReply.size(), 3);
        QCOMPARE(namesOf(dmReply.at(1).toObject()), some);

        QCOMPARE(m_api.setEnabled("time", true).status, 200);
        QCOMPARE(m_api.setEnabled("publish", true).status, 200);
        QCOMPARE(namesOf(client.call("rpc.discover").value("result").toObject()), all);

        // rpc.discover is a method like the others (and its dotted name a path segment).
        QCOMPARE(m_api.setEnabled("rpc.discover", false).status, 200);
        QCOMPARE(client.call("rpc.discover").value("error").toObject().value("data"),
                 QJsonValue(QJsonObject{{"reason", "disabled"}}));
        QCOMPARE(m_api.setEnabled("rpc.discover", true).status, 200);
        QCOMPARE(namesOf(client.call("rpc.discover").value("result").toObject()), all);
    }
};

QTEST_MAIN(TestApiLive)
#include "tst_api_live.moc"
