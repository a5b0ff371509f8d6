// ConnectionTableModel and ConnectionMonitor over a real server core with
// real WebSocket clients, watched by QAbstractItemModelTester; plus the
// id diff on synthetic snapshots, how few signals a tick of many changes
// makes (the table must stay usable at 15,000 connections), and
// ConnectionFilterProxyModel's sorting and filtering by user, path and
// subprotocol.

#include "testsupport.h"

#include "connectionmonitor.h"
#include "connectiontablemodel.h"
#include "connectionfilterproxymodel.h"

#include <QAbstractItemModelTester>
#include <QItemSelectionModel>
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

ConnectionInfo namedConnection(quint64 id, const QString &user, const QString &path, const QString &subprotocol)
{
    ConnectionInfo c = fakeConnection(id);
    c.user = user;
    c.path = path;
    c.subprotocol = subprotocol;
    return c;
}

std::vector<ConnectionActivity> activityOf(const QList<ConnectionInfo> &connections)
{
    std::vector<ConnectionActivity> activity;
    for (const ConnectionInfo &c : connections) {
        activity.push_back({c.id, c.messagesIn, c.messagesOut, c.bytesIn, c.bytesOut,
                            c.lastActivity.toMSecsSinceEpoch()});
    }
    std::sort(activity.begin(), activity.end(),
              [](const ConnectionActivity &a, const ConnectionActivity &b) { return a.id < b.id; });
    return activity;
}

// The source rows' ids in the proxy's order.
QList<quint64> proxyIds(const QAbstractProxyModel &proxy)
{
    QList<quint64> ids;
    for (int row = 0; row < proxy.rowCount(); ++row)
        ids << proxy.index(row, 0).data(ConnectionTableModel::ConnectionIdRole).toULongLong();
    return ids;
}

// Every signal that changes rows or the layout, counted.
struct ModelSignals
{
    explicit ModelSignals(QAbstractItemModel *model)
        : inserted(model, &QAbstractItemModel::rowsInserted)
        , removed(model, &QAbstractItemModel::rowsRemoved)
        , changed(model, &QAbstractItemModel::dataChanged)
        , layouts(model, &QAbstractItemModel::layoutChanged)
        , resets(model, &QAbstractItemModel::modelReset)
    {
    }
    void clear()
    {
        for (QSignalSpy *spy : {&inserted, &removed, &changed, &layouts, &resets})
            spy->clear();
    }
    QSignalSpy inserted, removed, changed, layouts, resets;
};

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

        // By path; by user, which no connection has without identity.
        proxy.setPathFilter(QStringLiteral("/ROOM"));
        QCOMPARE(proxy.rowCount(), 2);
        proxy.setPathFilter(QString());
        proxy.setUserFilter(QStringLiteral("a"));
        QCOMPARE(proxy.rowCount(), 0);
        proxy.setUserFilter(QString());
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

    // The registry's counters-only look agrees with its full snapshot.
    void registryActivityMatchesSnapshot()
    {
        ConnectionRegistry *registry = server->host->connections();
        QWebSocket a, b, c;
        QVERIFY(openWebSocket(a, server->wsUrl("/a"), {"echo.test"}));
        QVERIFY(openWebSocket(b, server->wsUrl("/b"), {"echo.test"}));
        QVERIFY(openWebSocket(c, server->wsUrl("/c"), {"chat.test"}));
        QTRY_COMPARE(registry->count(), 3);
        QSignalSpy echoed(&b, &QWebSocket::textMessageReceived);
        b.sendTextMessage(QStringLiteral("four"));
        QVERIFY(echoed.wait());
        QTRY_COMPARE(registry->totals().messagesOut, 1ull);

        std::vector<ConnectionActivity> activity{{999, 1, 1, 1, 1, 1}}; // replaced, not appended to
        const TrafficTotals totals = registry->activity(activity);
        const QList<ConnectionInfo> snapshot = registry->snapshot();
        QCOMPARE(activity.size(), size_t(3));
        for (size_t i = 0; i < activity.size(); ++i) {
            const ConnectionInfo &info = snapshot.at(qsizetype(i));
            QCOMPARE(activity[i].id, info.id);
            QCOMPARE(activity[i].messagesIn, info.messagesIn);
            QCOMPARE(activity[i].bytesIn, info.bytesIn);
            QCOMPARE(activity[i].messagesOut, info.messagesOut);
            QCOMPARE(activity[i].lastActivityMs, info.lastActivity.toMSecsSinceEpoch());
            QVERIFY(info.user.isEmpty()); // no identity yet
        }
        QCOMPARE(activity[1].messagesIn, 1ull);
        QCOMPARE(activity[1].bytesIn, 4ull);
        QCOMPARE(totals.messagesIn, registry->totals().messagesIn);
        QCOMPARE(totals.bytesOut, registry->totals().bytesOut);

        // Full info for a few ids, in id order, without the ones that are gone.
        const QList<ConnectionInfo> some = registry->connections({snapshot.at(2).id, 424242, snapshot.at(0).id});
        QCOMPARE(some.size(), 2);
        QCOMPARE(some.at(0).id, snapshot.at(0).id);
        QCOMPARE(some.at(0).path, QStringLiteral("/a"));
        QCOMPARE(some.at(1).id, snapshot.at(2).id);
        QCOMPARE(some.at(1).subprotocol, QStringLiteral("chat.test"));
    }

    // A tick in which 1,000 of 5,000 connections count messages is one
    // dataChanged from the model and at most one re-sort of the proxy.
    void burstOfUpdatesIsOneBatch()
    {
        ConnectionTableModel model(nullptr);
        QList<ConnectionInfo> connections;
        for (quint64 id = 1; id <= 5000; ++id)
            connections << fakeConnection(id, id % 7);
        model.applySnapshot(connections);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        ConnectionFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.sort(ConnectionTableModel::MessagesIn, Qt::DescendingOrder);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        ModelSignals modelSignals(&model);
        ModelSignals proxySignals(&proxy);
        QSignalSpy batches(&model, &ConnectionTableModel::batchApplied);

        for (qsizetype i = 0; i < connections.size(); i += 5)
            connections[i].messagesIn += 100 + quint64(i); // 1,000 rows, far apart
        model.applyActivity(activityOf(connections), {});

        QCOMPARE(modelSignals.changed.count(), 1);
        QCOMPARE(modelSignals.inserted.count() + modelSignals.removed.count() + modelSignals.layouts.count()
                     + modelSignals.resets.count(),
                 0);
        QCOMPARE(batches.count(), 1);
        QCOMPARE(batches.first().at(0).toUInt(), ConnectionTableModel::columnBit(ConnectionTableModel::MessagesIn));
        QCOMPARE(batches.first().at(1).toBool(), false);
        // The rectangle covers every changed cell and only the changed column.
        const QModelIndex topLeft = modelSignals.changed.first().at(0).toModelIndex();
        const QModelIndex bottomRight = modelSignals.changed.first().at(1).toModelIndex();
        QCOMPARE(topLeft, model.index(0, ConnectionTableModel::MessagesIn));
        QCOMPARE(bottomRight, model.index(4995, ConnectionTableModel::MessagesIn));

        QVERIFY(proxySignals.changed.count() <= 1);
        QCOMPARE(proxySignals.layouts.count(), 1);
        QCOMPARE(proxy.resortCount(), 1);
        QCOMPARE(proxySignals.resets.count(), 0);
        for (int row = 1; row < proxy.rowCount(); ++row) {
            QVERIFY(proxy.index(row - 1, ConnectionTableModel::MessagesIn).data(ConnectionTableModel::SortRole).toULongLong()
                    >= proxy.index(row, ConnectionTableModel::MessagesIn).data(ConnectionTableModel::SortRole).toULongLong());
        }

        // The same look again changes nothing and sends nothing.
        modelSignals.clear();
        proxySignals.clear();
        model.applyActivity(activityOf(connections), {});
        QCOMPARE(modelSignals.changed.count() + proxySignals.changed.count() + proxySignals.layouts.count(), 0);

        // Counters that change but keep the order: no re-sort.
        connections[0].bytesIn += 10;
        model.applyActivity(activityOf(connections), {});
        QCOMPARE(modelSignals.changed.count(), 1);
        QCOMPARE(proxySignals.layouts.count(), 0);
        QCOMPARE(proxy.resortCount(), 1);
    }

    // 1,000 new connections in one tick: one insertion; 1,000 scattered
    // ones leaving in one tick: one layout change and one removal, and the
    // selection and persistent indexes of the rows that stay follow them.
    void arrivalsAndDeparturesAreOneBatch()
    {
        ConnectionTableModel model(nullptr);
        QList<ConnectionInfo> connections;
        for (quint64 id = 1; id <= 4000; ++id)
            connections << fakeConnection(id);
        model.applySnapshot(connections);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        ConnectionFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.sort(ConnectionTableModel::Id, Qt::DescendingOrder); // new ones belong at the top
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        ModelSignals modelSignals(&model);
        ModelSignals proxySignals(&proxy);

        QList<ConnectionInfo> arrivals;
        for (quint64 id = 4001; id <= 5000; ++id)
            arrivals << fakeConnection(id, 1);
        connections += arrivals;
        QList<quint64> asked;
        model.applyActivity(activityOf(connections), [&](const QList<quint64> &ids) {
            asked = ids;
            return arrivals;
        });
        QCOMPARE(asked.size(), 1000); // only the new ids are looked up
        QCOMPARE(asked.first(), 4001ull);
        QCOMPARE(model.rowCount(), 5000);
        QCOMPARE(modelSignals.inserted.count(), 1);
        QCOMPARE(modelSignals.changed.count() + modelSignals.removed.count() + modelSignals.layouts.count(), 0);
        QVERIFY(proxySignals.inserted.count() <= 1);
        QVERIFY(proxySignals.layouts.count() <= 1);
        QCOMPARE(proxy.rowCount(), 5000);
        QCOMPARE(proxyIds(proxy).first(), 5000ull);
        QCOMPARE(proxyIds(proxy).last(), 1ull);

        // A selected row and a persistent index, both on rows that stay.
        QItemSelectionModel selection(&proxy);
        const int proxyRowOf4002 = int(proxyIds(proxy).indexOf(4002));
        selection.select(proxy.index(proxyRowOf4002, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        const QPersistentModelIndex kept(model.index(model.rowOf(3001), ConnectionTableModel::Path));

        // Every fifth connection leaves: 1,000 runs of one row.
        modelSignals.clear();
        proxySignals.clear();
        QList<ConnectionInfo> staying;
        for (const ConnectionInfo &c : std::as_const(connections)) {
            if (c.id % 5 != 0)
                staying << c;
        }
        model.applyActivity(activityOf(staying), {});
        QCOMPARE(model.rowCount(), 4000);
        QCOMPARE(modelSignals.layouts.count(), 1);
        QCOMPARE(modelSignals.removed.count(), 1);
        QCOMPARE(modelSignals.resets.count(), 0);
        QVERIFY(proxySignals.layouts.count() <= 1);
        QCOMPARE(proxySignals.removed.count(), 1);
        QCOMPARE(proxySignals.resets.count(), 0);
        QList<quint64> expected;
        for (const ConnectionInfo &c : std::as_const(staying))
            expected << c.id;
        QCOMPARE(idsOf(model), expected);
        std::reverse(expected.begin(), expected.end());
        QCOMPARE(proxyIds(proxy), expected);
        QCOMPARE(model.rowOf(4002), int(expected.size() - 1 - expected.indexOf(4002)));
        QCOMPARE(model.rowOf(4000), -1);

        QVERIFY(kept.isValid());
        QCOMPARE(model.connectionId(kept.row()), 3001ull);
        QCOMPARE(kept.data().toString(), QStringLiteral("/p3001"));
        const QModelIndexList selected = selection.selectedRows();
        QCOMPARE(selected.size(), 1);
        QCOMPARE(selected.first().data(ConnectionTableModel::ConnectionIdRole).toULongLong(), 4002ull);

        // A few runs still go one by one.
        modelSignals.clear();
        staying.removeIf([](const ConnectionInfo &c) { return c.id == 1 || c.id == 2 || c.id == 4999; });
        model.applyActivity(activityOf(staying), {});
        QCOMPARE(modelSignals.removed.count(), 2);
        QCOMPARE(modelSignals.layouts.count(), 0);
        QCOMPARE(model.rowCount(), 3997);
    }

    // Sorting and filtering by the columns a connection keeps: user, path,
    // subprotocol (users made up: no identity yet, PRODUCT.md section 8).
    void sortsAndFiltersByUserPathAndSubprotocol()
    {
        ConnectionTableModel model(nullptr);
        model.applySnapshot({namedConnection(1, QStringLiteral("carol"), QStringLiteral("/rooms/7"), QStringLiteral("jsonrpc")),
                             namedConnection(2, QString(), QStringLiteral("/lobby"), QStringLiteral("dm-rpc")),
                             namedConnection(3, QStringLiteral("Alice"), QStringLiteral("/rooms/1"), QStringLiteral("jsonrpc")),
                             namedConnection(4, QStringLiteral("bob"), QStringLiteral("/Lobby"), QStringLiteral("jsonrpc")),
                             namedConnection(5, QStringLiteral("alice"), QStringLiteral("/rooms/2"), QStringLiteral("dm-rpc"))});
        ConnectionFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);

        QCOMPARE(model.index(model.rowOf(3), ConnectionTableModel::User).data().toString(), QStringLiteral("Alice"));
        QCOMPARE(model.index(model.rowOf(2), ConnectionTableModel::User).data().toString(), QString());
        QVERIFY(!model.index(model.rowOf(2), ConnectionTableModel::User).data(Qt::ToolTipRole).toString().isEmpty());
        QCOMPARE(model.headerData(ConnectionTableModel::User, Qt::Horizontal).toString(), QStringLiteral("User"));

        // Text columns sort without regard to case, ties by id.
        proxy.sort(ConnectionTableModel::User, Qt::AscendingOrder);
        QCOMPARE(proxyIds(proxy), (QList<quint64>{2, 3, 5, 4, 1}));
        proxy.sort(ConnectionTableModel::User, Qt::DescendingOrder);
        QCOMPARE(proxyIds(proxy), (QList<quint64>{1, 4, 5, 3, 2}));
        proxy.sort(ConnectionTableModel::Path, Qt::AscendingOrder);
        QCOMPARE(proxyIds(proxy), (QList<quint64>{2, 4, 3, 5, 1}));
        proxy.sort(ConnectionTableModel::Subprotocol, Qt::AscendingOrder);
        QCOMPARE(proxyIds(proxy), (QList<quint64>{2, 5, 1, 3, 4}));

        // Filters: contained, any case; the subprotocol exactly; combined.
        proxy.setUserFilter(QStringLiteral("ALI"));
        QCOMPARE(proxyIds(proxy), (QList<quint64>{5, 3}));
        QVERIFY(proxy.isFiltering());
        proxy.setPathFilter(QStringLiteral("/rooms"));
        QCOMPARE(proxyIds(proxy), (QList<quint64>{5, 3}));
        proxy.setSubprotocolFilter(QStringLiteral("jsonrpc"));
        QCOMPARE(proxyIds(proxy), (QList<quint64>{3}));
        proxy.setUserFilter(QString());
        QCOMPARE(proxyIds(proxy), (QList<quint64>{1, 3}));
        proxy.setSubprotocolFilter(QStringLiteral("json"));
        QCOMPARE(proxy.rowCount(), 0);
        proxy.setSubprotocolFilter(QString());
        proxy.setPathFilter(QStringLiteral("lobby"));
        QCOMPARE(proxyIds(proxy), (QList<quint64>{2, 4}));
        proxy.setPathFilter(QString());
        QVERIFY(!proxy.isFiltering());

        // The search text reaches the user too; rows that pass again come back in order.
        proxy.setSearchText(QStringLiteral("bob"));
        QCOMPARE(proxyIds(proxy), (QList<quint64>{4}));
        proxy.setSearchText(QString());
        QCOMPARE(proxyIds(proxy), (QList<quint64>{2, 5, 1, 3, 4}));

        // New rows land in sorted order and pass the filters as they come.
        proxy.sort(ConnectionTableModel::User, Qt::AscendingOrder);
        proxy.setPathFilter(QStringLiteral("/rooms"));
        QList<ConnectionInfo> all;
        for (quint64 id = 1; id <= 5; ++id)
            all << model.connectionAt(model.rowOf(id));
        all << namedConnection(6, QStringLiteral("amy"), QStringLiteral("/rooms/9"), QStringLiteral("jsonrpc"))
            << namedConnection(7, QStringLiteral("zed"), QStringLiteral("/elsewhere"), QStringLiteral("jsonrpc"));
        model.applySnapshot(all);
        QCOMPARE(proxyIds(proxy), (QList<quint64>{3, 5, 6, 1}));
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
