// TrafficModel (with its filter proxy) and MethodsModel over the server as
// shipped (Switchboard::create: jsonrpc, methods, traffic log) with real
// WebSocket clients, watched by QAbstractItemModelTester.

#include "rpcclient.h"

#include "connectionmonitor.h"
#include "methodsmodel.h"
#include "rpc/catalogrpcengine.h"
#include "rpc/methodregistry.h"
#include "trafficfilterproxymodel.h"
#include "trafficmodel.h"

#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QTcpSocket>

#include <thread>

class TrafficModelTest : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        dir = std::make_unique<QTemporaryDir>();
        QVERIFY(dir->isValid());
        QString error;
        server = startSwitchboard(guiTestConfig(*dir), &error);
        QVERIFY2(server, qPrintable(error));
        monitor = std::make_unique<ConnectionMonitor>(server->host()->connections());
    }

    void cleanup()
    {
        monitor.reset();
        if (server)
            QVERIFY(stopSwitchboard(*server));
        server.reset();
        dir.reset();
    }

    void requestsAndRepliesAreLinked()
    {
        TrafficModel model(server->traffic(), monitor.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        TrafficFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        monitor->start();

        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        const QJsonObject reply = client.call("echo", QJsonObject{{"hello", "world"}});
        QCOMPARE(reply.value("result").toObject().value("hello").toString(), QStringLiteral("world"));
        QTRY_COMPARE(model.rowCount(), 2);

        const TrafficEvent &request = model.eventAt(0);
        const TrafficEvent &response = model.eventAt(1);
        QCOMPARE(request.kind, TrafficEvent::Kind::Request);
        QCOMPARE(request.direction, TrafficEvent::Direction::In);
        QCOMPARE(response.kind, TrafficEvent::Kind::Response);
        QCOMPARE(response.direction, TrafficEvent::Direction::Out);
        QCOMPARE(model.linkedEventId(0), response.id);
        QCOMPARE(model.linkedEventId(1), request.id);
        QCOMPARE(model.index(0, 0).data(TrafficModel::LinkedEventIdRole).toULongLong(), response.id);
        QVERIFY(response.latencyUs >= 0);
        // The request shows its reply's latency too.
        QCOMPARE(model.index(0, TrafficModel::Latency).data().toString(),
                 model.index(1, TrafficModel::Latency).data().toString());
        QCOMPARE(model.index(0, TrafficModel::Method).data().toString(), QStringLiteral("echo"));
        QCOMPARE(model.index(0, TrafficModel::Subprotocol).data().toString(), QStringLiteral("jsonrpc"));
        QCOMPARE(model.index(0, TrafficModel::RequestId).data().toString(), QStringLiteral("1"));
        QCOMPARE(model.index(0, TrafficModel::Verdict).data().toString(), QStringLiteral("accepted"));
        QVERIFY(model.index(0, TrafficModel::Payload).data().toString().contains(QStringLiteral("hello")));

        // More calls from two clients, an unknown method and a refused one.
        RpcClient other;
        QVERIFY(other.open(switchboardUrl(*server, "/other")));
        for (int i = 0; i < 20; ++i)
            client.send("sum", QJsonArray{i, 1, 2});
        QCOMPARE(other.call("no.such.method").value("error").toObject().value("code").toInt(), -32601);
        QVERIFY(client.reply(client.lastId).contains("result"));
        QTRY_COMPARE(model.rowCount(), 2 + 40 + 2);
        for (int row = 0; row < model.rowCount(); ++row) {
            const TrafficEvent &e = model.eventAt(row);
            QVERIFY2(model.linkedEventId(row) != 0, qPrintable(QString::fromUtf8(e.toJsonLine())));
            const int partner = model.rowOfEvent(model.linkedEventId(row));
            QVERIFY(partner >= 0);
            QCOMPARE(model.linkedEventId(partner), e.id);
            QCOMPARE(model.eventAt(partner).requestId, e.requestId);
            QCOMPARE(model.eventAt(partner).connectionId, e.connectionId);
        }

        // Filters: connection, method, direction, verdict, text.
        quint64 otherId = 0;
        for (const ConnectionInfo &c : server->host()->connections()->snapshot())
            otherId = c.path == QLatin1String("/other") ? c.id : otherId;
        QVERIFY(otherId);
        proxy.setConnectionFilter(otherId);
        QCOMPARE(proxy.rowCount(), 2);
        proxy.setConnectionFilter(0);
        proxy.setMethodFilter("sum");
        QCOMPARE(proxy.rowCount(), 40);
        proxy.setDirectionFilter(TrafficEvent::Direction::In);
        QCOMPARE(proxy.rowCount(), 20);
        proxy.setDirectionFilter(std::nullopt);
        proxy.setMethodFilter(QString());
        proxy.setVerdictFilter(TrafficFilterProxyModel::AnyRefusal);
        QCOMPARE(proxy.rowCount(), 2);
        QCOMPARE(proxy.index(0, TrafficModel::Method).data().toString(), QStringLiteral("no.such.method"));
        proxy.setVerdictFilter("unknown");
        QCOMPARE(proxy.rowCount(), 2);
        proxy.setVerdictFilter(QString());
        proxy.setSearchText("HELLO");
        QCOMPARE(proxy.rowCount(), 2);
        proxy.setSearchText(QString());
        QCOMPARE(proxy.rowCount(), model.rowCount());

        // Rows arriving while a filter is set are filtered too.
        proxy.setMethodFilter("time");
        client.call("time");
        QTRY_COMPARE(proxy.rowCount(), 2);
        QCOMPARE(resets.count(), 0);
    }

    void rowsStayBoundedUnderAFlood()
    {
        TrafficModel model(server->traffic(), nullptr);
        model.setMaxRows(300);
        model.setMaxEventsPerTick(120); // several ticks per catch-up
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        TrafficFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);

        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        for (int i = 0; i < 400; ++i)
            client.send("echo", QJsonObject{{"n", i}});
        QVERIFY(client.reply(400).contains("result"));
        QTRY_COMPARE(server->traffic()->latestId(), quint64(800));

        // One fetch never takes more than its cap.
        QCOMPARE(model.fetch(), 120);
        QCOMPARE(model.rowCount(), 120);
        // 800 events, at most 300 rows: the backlog beyond the bound is
        // skipped, the rest comes over the next ticks and the oldest rows go.
        int ticks = 1;
        while (model.fetch() > 0)
            ++ticks;
        QVERIFY(ticks >= 3);
        QCOMPARE(model.rowCount(), 300);
        QCOMPARE(model.lastEventId(), quint64(800));
        QCOMPARE(model.droppedCount(), quint64(500));
        QVERIFY(removed.isEmpty());

        // 100 more events: the oldest 100 rows go, in one removal at the front.
        for (int i = 0; i < 50; ++i)
            client.send("echo", QJsonObject{{"n", i}});
        QVERIFY(client.reply(450).contains("result"));
        QTRY_COMPARE(server->traffic()->latestId(), quint64(900));
        QCOMPARE(model.fetch(), 100);
        QCOMPARE(model.rowCount(), 300);
        QCOMPARE(model.droppedCount(), quint64(600));
        QCOMPARE(removed.count(), 1);
        for (const QList<QVariant> &args : removed)
            QCOMPARE(args.at(1).toInt(), 0); // always at the front
        QCOMPARE(model.eventAt(299).id, quint64(900));
        for (int row = 1; row < model.rowCount(); ++row)
            QCOMPARE(model.eventAt(row).id, model.eventAt(row - 1).id + 1);
        QCOMPARE(proxy.rowCount(), 300);
    }

    void pauseCountsAndResumeCatchesUp()
    {
        TrafficModel model(server->traffic(), monitor.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        monitor->start();
        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        client.call("echo");
        QTRY_COMPARE(model.rowCount(), 2);

        QSignalSpy pending(&model, &TrafficModel::pendingCountChanged);
        model.setPaused(true);
        for (int i = 0; i < 5; ++i)
            client.call("echo", QJsonArray{i});
        QTRY_COMPARE(model.pendingCount(), quint64(10));
        QTRY_VERIFY(!pending.isEmpty() && pending.last().at(0).toULongLong() == 10);
        QTest::qWait(250); // ticks go by: nothing is taken in while paused
        QCOMPARE(model.rowCount(), 2);

        model.setPaused(false);
        QCOMPARE(model.rowCount(), 12); // resuming catches up at once
        QCOMPARE(model.pendingCount(), quint64(0));

        // Clear: the rows go and do not come back; new ones do.
        model.clear();
        QCOMPARE(model.rowCount(), 0);
        QTest::qWait(250);
        QCOMPARE(model.rowCount(), 0);
        client.call("time");
        QTRY_COMPARE(model.rowCount(), 2);
    }

    // A backend's actions through the server API (PRODUCT.md section 7) come
    // in as direction "server": shown as such, and filtered apart.
    void serverApiActionsShowAsServer()
    {
        TrafficModel model(server->traffic(), monitor.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        TrafficFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        monitor->start();

        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        QVERIFY(client.call("subscribe", QJsonObject{{"topic", "gui"}}).contains("result"));
        QTRY_COMPARE(model.rowCount(), 2);
        const quint64 id = server->host()->connections()->snapshot().value(0).id;
        QVERIFY(id);

        // Real HTTP requests to the running server.
        const auto post = [this](const QByteArray &target, const QByteArray &body) {
            QTcpSocket socket;
            socket.connectToHost(QStringLiteral("127.0.0.1"), quint16(server->host()->listeners().value(0).port()));
            if (!socket.waitForConnected(5000))
                return QByteArray();
            socket.write("POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                         + QByteArray::number(body.size()) + "\r\n\r\n" + body);
            QByteArray answer;
            (void)QTest::qWaitFor([&] {
                socket.waitForReadyRead(50);
                answer += socket.readAll();
                return answer.endsWith("}");
            }, 5000);
            return answer;
        };
        QVERIFY(post("/api/connections/" + QByteArray::number(id) + "/notify", R"({"method":"backend.hi"})")
                    .startsWith("HTTP/1.1 200 "));
        QVERIFY(post("/api/publish", R"({"topic":"gui","data":1})").startsWith("HTTP/1.1 200 "));
        // Two server events, and the two pushes the connection sent.
        QTRY_COMPARE(model.rowCount(), 6);

        int serverRows = 0;
        for (int row = 0; row < model.rowCount(); ++row) {
            const TrafficEvent &e = model.eventAt(row);
            const QString shown = model.index(row, TrafficModel::Direction).data().toString();
            if (e.direction == TrafficEvent::Direction::Server) {
                ++serverRows;
                QCOMPARE(shown, QStringLiteral("server"));
                QVERIFY(model.index(row, TrafficModel::Direction).data(Qt::ForegroundRole).isValid());
                QCOMPARE(model.index(row, TrafficModel::Kind).data().toString(), QStringLiteral("push"));
                QCOMPARE(model.linkedEventId(row), quint64(0)); // not a request or a reply
            } else {
                QCOMPARE(shown, e.direction == TrafficEvent::Direction::In ? QStringLiteral("in") : QStringLiteral("out"));
            }
        }
        QCOMPARE(serverRows, 2);

        proxy.setDirectionFilter(TrafficEvent::Direction::Server);
        QCOMPARE(proxy.rowCount(), 2);
        QCOMPARE(proxy.index(0, TrafficModel::Method).data().toString(), QStringLiteral("backend.hi"));
        QCOMPARE(proxy.index(1, TrafficModel::Method).data().toString(), QStringLiteral("event"));
        proxy.setDirectionFilter(TrafficEvent::Direction::Out);
        QCOMPARE(proxy.rowCount(), 3); // the subscribe reply and the two pushes
        proxy.setDirectionFilter(TrafficEvent::Direction::In);
        QCOMPARE(proxy.rowCount(), 1);
        proxy.setDirectionFilter(std::nullopt);
        proxy.setSearchText("server API publish");
        QCOMPARE(proxy.rowCount(), 1);
        proxy.setSearchText(QString());
        QCOMPARE(proxy.rowCount(), 6);
    }

    void methodsModelFollowsSwitchesAndCounters()
    {
        MethodRegistry *registry = server->engine()->methods();
        MethodsModel model(registry, monitor.get());
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        monitor->start();

        QCOMPARE(model.rowCount(), int(registry->names().size()));
        const int echo = model.rowOf("echo");
        QVERIFY(echo >= 0);
        QCOMPARE(model.index(echo, MethodsModel::Method).data(Qt::CheckStateRole).value<Qt::CheckState>(), Qt::Checked);
        QVERIFY(model.flags(model.index(echo, MethodsModel::Method)) & Qt::ItemIsUserCheckable);
        QVERIFY(!model.index(echo, MethodsModel::Description).data().toString().isEmpty());

        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        for (int i = 0; i < 3; ++i)
            QVERIFY(client.call("echo", QJsonArray{i}).contains("result"));
        QTRY_COMPARE(model.index(echo, MethodsModel::Calls).data().toString(), QStringLiteral("3"));
        QVERIFY(!model.index(echo, MethodsModel::MeanLatency).data().toString().isEmpty());
        // Only the counter cells of that row changed.
        bool sawCalls = false;
        for (const QList<QVariant> &args : std::as_const(changed)) {
            const QModelIndex tl = args.at(0).toModelIndex(), br = args.at(1).toModelIndex();
            QCOMPARE(tl.row(), echo);
            QCOMPARE(br.row(), echo);
            sawCalls = sawCalls || (tl.column() <= MethodsModel::Calls && br.column() >= MethodsModel::Calls);
        }
        QVERIFY(sawCalls);

        // Unchecking is the registry's switch: the next call is refused.
        QVERIFY(model.setData(model.index(echo, MethodsModel::Method), Qt::Unchecked, Qt::CheckStateRole));
        QVERIFY(!registry->isEnabled("echo"));
        QCOMPARE(model.index(echo, MethodsModel::State).data().toString(), QStringLiteral("off"));
        const QJsonObject refused = client.call("echo");
        QCOMPARE(refused.value("error").toObject().value("code").toInt(), -32601);
        QCOMPARE(refused.value("error").toObject().value("data").toObject().value("reason").toString(),
                 QStringLiteral("disabled"));
        QTRY_COMPARE(model.index(echo, MethodsModel::Refusals).data().toString(), QStringLiteral("1"));

        // A switch from another thread (as the HTTP API's PATCH does) shows up.
        std::thread other([registry] { registry->setEnabled("echo", true); });
        other.join();
        QTRY_COMPARE(model.index(echo, MethodsModel::Method).data(Qt::CheckStateRole).value<Qt::CheckState>(),
                     Qt::Checked);
        QVERIFY(client.call("echo").contains("result"));
        QCOMPARE(resets.count(), 0);
    }

private:
    std::unique_ptr<QTemporaryDir> dir;
    std::unique_ptr<Switchboard> server;
    std::unique_ptr<ConnectionMonitor> monitor;
};

QTEST_MAIN(TrafficModelTest)
#include "tst_trafficmodel.moc"
