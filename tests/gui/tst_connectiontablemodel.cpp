// ConnectionTableModel and ConnectionMonitor over a real server core with
// real WebSocket clients, watched by QAbstractItemModelTester; plus the
// id diff on synthetic snapshots.

#include "testsupport.h"

#include "connectionmonitor.h"
#include "connectiontablemodel.h"
#include "connectionfilterproxymodel.h"

#include <QAbstractItemModelTester>
#include <QRandomGenerator>

namespace {

ConnectionInfo fakeConnection(quint64 id, quint64 messagesIn = 0)
{
    ConnectionInfo c;
    c.id = id;
    c.peerAddress = QHostAddress::LocalHost;
    c.peerPort = quint16(40000 + id);
    c.path = QStringLiteral("/p%1").arg(id);
    c.subprotocol = QStringLiteral("echo.test");
    c.connectedAt = QDateTime::fromMSecsSinceEpoch(1'700'000'000'000 + qint64(id));
    c.lastActivity = c.connectedAt;
    c.messagesIn = messagesIn;
    return c;
}

QList<quint64> idsOf(const ConnectionTableModel &model)
{
    QList<quint64> ids;
    for (int row = 0; row < model.rowCount(); ++row)
        ids << model.connectionId(row);
    return ids;
}

} // namespace

class ConnectionTableModelTest : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        server = std::make_unique<TestServer>();
        server->subprotocols->add(std::make_shared<EchoTestSubprotocol>());
        server->subprotocols->add(std::make_shared<EchoTestSubprotocol>(QStringLiteral("chat.test")));
        ServerConfig config;
        config.port = 0;
        QString error;
        QVERIFY2(server->start(config, &error), qPrintable(error));
    }

    void cleanup()
    {
        QVERIFY(server->stop());
        server.reset();
    }

    void rowsFollowRealClients()
    {
        ConnectionMonitor monitor(server->host->connections());
        ConnectionTableModel model(&monitor);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        ConnectionFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.sort(ConnectionTableModel::MessagesIn, Qt::DescendingOrder);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        monitor.start();

        QWebSocket a, b, c;
        QVERIFY(openWebSocket(a, server->wsUrl("/a"), {"echo.test"}));
        QVERIFY(openWebSocket(b, server->wsUrl("/b"), {"nope", "chat.test"}));
        QVERIFY(openWebSocket(c, server->wsUrl("/c"), {"echo.test"}));
        QTRY_COMPARE(model.rowCount(), 3);

        // Rows are in id order and carry what the handshake negotiated.
        const QList<quint64> ids = idsOf(model);
        QVERIFY(std::is_sorted(ids.cbegin(), ids.cend()));
        QStringList paths, subprotocols;
        for (int row = 0; row < 3; ++row) {
            paths << model.index(row, ConnectionTableModel::Path).data().toString();
            subprotocols << model.index(row, ConnectionTableModel::Subprotocol).data().toString();
            QCOMPARE(model.index(row, ConnectionTableModel::Id).data(ConnectionTableModel::ConnectionIdRole).toULongLong(),
                     ids.at(row));
            QVERIFY(model.index(row, ConnectionTableModel::Peer).data().toString().startsWith("127.0.0.1:"));
        }
        QCOMPARE(paths, (QStringList{"/a", "/b", "/c"}));
        QCOMPARE(subprotocols, (QStringList{"echo.test", "chat.test", "echo.test"}));

        // Counters move with real traffic; only the changed cells are reported.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy echoed(&b, &QWebSocket::textMessageReceived);
        b.sendTextMessage("hello");
        b.sendTextMessage("world!");
        QTRY_COMPARE(echoed.count(), 2);
        const int rowB = model.rowOf(ids.at(1));
        QTRY_COMPARE(model.index(rowB, ConnectionTableModel::MessagesIn).data(ConnectionTableModel::SortRole).toULongLong(), 2ull);
        QTRY_COMPARE(model.index(rowB, ConnectionTableModel::MessagesOut).data(ConnectionTableModel::SortRole).toULongLong(), 2ull);
        QCOMPARE(model.index(rowB, ConnectionTableModel::BytesIn).data(ConnectionTableModel::SortRole).toULongLong(), 11ull);
        QVERIFY(!changed.isEmpty());
        for (const QList<QVariant> &args : std::as_const(changed)) {
            const QModelIndex topLeft = args.at(0).toModelIndex();
            const QModelIndex bottomRight = args.at(1).toModelIndex();
            QCOMPARE(topLeft.row(), rowB);
            QCOMPARE(bottomRight.row(), rowB);
            QVERIFY2(topLeft.column() >= ConnectionTableModel::MessagesIn, "only counters and activity change");
        }
        // The proxy sorted by messages in puts b first.
        QTRY_COMPARE(proxy.index(0, ConnectionTableModel::Path).data().toString(), QStringLiteral("/b"));

        // A client that leaves loses its row; the others keep theirs.
        b.close();
        QTRY_COMPARE(model.rowCount(), 2);
        QCOMPARE(idsOf(model), (QList<quint64>{ids.at(0), ids.at(2)}));
        QCOMPARE(resets.count(), 0);
    }

    void proxyFiltersBySearchAndSubprotocol()
    {
        ConnectionMonitor monitor(server->host->connections());
        ConnectionTableModel model(&monitor);
        ConnectionFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        monitor.start();

        QWebSocket a, b, c;
        QVERIFY(openWebSocket(a, server->wsUrl("/lobby"), {"echo.test"}));
        QVERIFY(openWebSocket(b, server->wsUrl("/room/1"), {"chat.test"}));
        QVERIFY(openWebSocket(c, server->wsUrl("/room/2"), {"chat.test"}));
        QTRY_COMPARE(proxy.rowCount(), 3);

        proxy.setSubprotocolFilter(QStringLiteral("chat.test"));
        QCOMPARE(proxy.rowCount(), 2);
        proxy.setSearchText(QStringLiteral("ROOM/2"));
        QCOMPARE(proxy.rowCount(), 1);
        QCOMPARE(proxy.index(0, ConnectionTableModel::Path).data().toString(), QStringLiteral("/room/2"));
        proxy.setSubprotocolFilter(QString());
        proxy.setSearchText(QStringLiteral("lobby"));
        QCOMPARE(proxy.rowCount(), 1);
        proxy.setSearchText(QString());
        QCOMPARE(proxy.rowCount(), 3);

        // New rows pass through the filter as they arrive.
        proxy.setSubprotocolFilter(QStringLiteral("echo.test"));
        QWebSocket d;
        QVERIFY(openWebSocket(d, server->wsUrl("/late"), {"echo.test"}));
        QTRY_COMPARE(proxy.rowCount(), 2);
    }

    void totalsKeepClosedConnections()
    {
        ConnectionMonitor monitor(server->host->connections());
        monitor.setInterval(20);
        monitor.start();
        QWebSocket a;
        QVERIFY(openWebSocket(a, server->wsUrl("/a"), {"echo.test"}));
        QSignalSpy echoed(&a, &QWebSocket::textMessageReceived);
        for (int i = 0; i < 3; ++i)
            a.sendTextMessage(QStringLiteral("m%1").arg(i));
        QTRY_COMPARE(echoed.count(), 3);
        QTRY_COMPARE(monitor.totals().messagesIn, 3ull);
        QTRY_COMPARE(monitor.totals().messagesOut, 3ull);
        QCOMPARE(monitor.totals().bytesIn, 6ull);

        a.close();
        QTRY_COMPARE(monitor.connectionCount(), 0);
        QCOMPARE(monitor.totals().messagesIn, 3ull);
        QCOMPARE(monitor.totals().messagesOut, 3ull);
        QCOMPARE(monitor.totals().bytesOut, 6ull);

        // A connection that comes and goes between two ticks still counts.
        monitor.stop();
        QWebSocket b;
        QVERIFY(openWebSocket(b, server->wsUrl("/b"), {"echo.test"}));
        QSignalSpy echoedB(&b, &QWebSocket::textMessageReceived);
        b.sendTextMessage(QStringLiteral("x"));
        QVERIFY(echoedB.wait());
        b.close();
        QTRY_COMPARE(server->host->connections()->count(), 0);
        monitor.poll();
        QCOMPARE(monitor.connectionCount(), 0);
        QCOMPARE(monitor.totals().messagesIn, 4ull);
        QCOMPARE(monitor.totals().messagesOut, 4ull);
    }

    // The diff on its own: random snapshots, compared row by row afterwards.
    void diffMatchesEverySnapshot()
    {
        ConnectionTableModel model(nullptr);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QRandomGenerator random(42);
        QHash<quint64, quint64> counters;
        for (int round = 0; round < 300; ++round) {
            QList<ConnectionInfo> snapshot;
            for (quint64 id = 1; id <= 40; ++id) {
                if (random.bounded(3) == 0)
                    continue;
                if (random.bounded(4) == 0)
                    counters[id] += random.bounded(5);
                snapshot << fakeConnection(id, counters.value(id));
            }
            if (round % 2)
                std::reverse(snapshot.begin(), snapshot.end()); // any order is accepted
            model.applySnapshot(snapshot);
            std::sort(snapshot.begin(), snapshot.end(),
                      [](const ConnectionInfo &x, const ConnectionInfo &y) { return x.id < y.id; });
            QCOMPARE(model.rowCount(), int(snapshot.size()));
            for (int row = 0; row < model.rowCount(); ++row) {
                QCOMPARE(model.connectionId(row), snapshot.at(row).id);
                QCOMPARE(model.connectionAt(row).messagesIn, snapshot.at(row).messagesIn);
            }
        }
        QCOMPARE(resets.count(), 0);
    }

    void diffReportsOnlyWhatChanged()
    {
        ConnectionTableModel model(nullptr);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.applySnapshot({fakeConnection(1), fakeConnection(3), fakeConnection(5)});

        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        // 2 and 4 come, 5 goes, 3 counts one message.
        model.applySnapshot({fakeConnection(1), fakeConnection(2), fakeConnection(3, 1), fakeConnection(4)});
        QCOMPARE(idsOf(model), (QList<quint64>{1, 2, 3, 4}));
        QCOMPARE(inserted.count(), 2);
        QCOMPARE(inserted.at(0).at(1).toInt(), 1); // 2 before 3
        QCOMPARE(inserted.at(1).at(1).toInt(), 3); // 4 after 3
        QCOMPARE(removed.count(), 1);
        QCOMPARE(changed.count(), 1);
        const QModelIndex topLeft = changed.first().at(0).toModelIndex();
        const QModelIndex bottomRight = changed.first().at(1).toModelIndex();
        QCOMPARE(topLeft, model.index(2, ConnectionTableModel::MessagesIn));
        QCOMPARE(bottomRight, model.index(2, ConnectionTableModel::MessagesIn));

        // The same snapshot again changes nothing.
        inserted.clear();
        removed.clear();
        changed.clear();
        model.applySnapshot({fakeConnection(1), fakeConnection(2), fakeConnection(3, 1), fakeConnection(4)});
        QCOMPARE(inserted.count() + removed.count() + changed.count(), 0);

        // A run of consecutive changed rows is one rectangle.
        model.applySnapshot({fakeConnection(1, 7), fakeConnection(2, 7), fakeConnection(3, 7), fakeConnection(4)});
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.first().at(0).toModelIndex().row(), 0);
        QCOMPARE(changed.first().at(1).toModelIndex().row(), 2);

        // Everything gone at once: one removal.
        removed.clear();
        model.applySnapshot({});
        QCOMPARE(removed.count(), 1);
        QCOMPARE(model.rowCount(), 0);
    }

private:
    std::unique_ptr<TestServer> server;
};

QTEST_MAIN(ConnectionTableModelTest)
#include "tst_connectiontablemodel.moc"
