// What serves each method, and upstream trouble at a glance: the server as
// shipped (Switchboard::create) with a catalog whose methods are served by
// built-ins and by HTTP upstreams - a real HTTP server in this process
// (QTcpServer) and a closed port - called by real jsonrpc clients. The
// Methods model's cells (served by, upstream counters), the mark on a method
// whose upstream fails (and its clearing when the upstream answers again or
// the failure gets old), the server bar's warning, and the Traffic view's
// upstream time and "error from handler" verdict.

#include "rpcclient.h"

#include "connectionmonitor.h"
#include "dashboardsettings.h"
#include "mainwindow.h"
#include "methodsmodel.h"
#include "methodsview.h"
#include "rpc/catalogrpcengine.h"
#include "serverbar.h"
#include "trafficfilterproxymodel.h"
#include "trafficmodel.h"
#include "trafficview.h"
#include "upstreamhealth.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QHeaderView>
#include <QJsonArray>
#include <QLocale>
#include <QTabWidget>
#include <QTableView>
#include <QTcpServer>
#include <QTcpSocket>

namespace {

// A loopback HTTP/1.1 server (keep-alive) playing the backend: answers each
// POST by the "method" of its body, as the test's mode says.
class Backend : public QObject
{
public:
    enum class Mode { Answer, Status503 };

    Backend()
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                QObject::connect(socket, &QTcpSocket::readyRead, this, [this, socket] { read(socket); });
                QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
        QVERIFY(m_server.listen(QHostAddress::LocalHost));
    }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1/rpc").arg(m_server.serverPort()); }

    Mode mode = Mode::Answer;
    int requests = 0;

private:
    void read(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        for (;;) {
            const qsizetype end = buffer.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            qsizetype length = 0;
            for (const QByteArray &line : buffer.left(end).split('\n')) {
                if (line.toLower().startsWith("content-length:"))
                    length = line.mid(15).trimmed().toLongLong();
            }
            if (buffer.size() < end + 4 + length)
                return;
            const QJsonObject call = QJsonDocument::fromJson(buffer.mid(end + 4, length)).object();
            buffer.remove(0, end + 4 + length);
            ++requests;
            const QString method = call.value("method").toString();
            if (method == QLatin1String("orders.hang"))
                continue; // never answered: the upstream's timeout
            if (mode == Mode::Status503) {
                reply(socket, R"({"oops": true})", 503);
                continue;
            }
            if (method == QLatin1String("orders.reject")) {
                reply(socket, R"({"error": {"code": 4040, "message": "no such order"}})");
                continue;
            }
            reply(socket, QJsonDocument(QJsonObject{{"result", QJsonObject{{"served", method}}}})
                              .toJson(QJsonDocument::Compact));
        }
    }

    static void reply(QTcpSocket *socket, const QByteArray &body, int status = 200)
    {
        socket->write("HTTP/1.1 " + QByteArray::number(status) + " X\r\nContent-Type: application/json\r\n"
                      "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

// A port nothing listens on (taken and given back).
quint16 closedPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost))
        return 0;
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

QString cell(const QAbstractItemModel &model, int row, int column, int role = Qt::DisplayRole)
{
    return model.index(row, column).data(role).toString();
}

} // namespace

class MethodsModelTest : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        dir = std::make_unique<QTemporaryDir>();
        QVERIFY(dir->isValid());
        backend = std::make_unique<Backend>();
        const quint16 deadPort = closedPort();
        QVERIFY(deadPort);
        const QJsonObject catalog{
            {"upstreams",
             QJsonObject{{"orders", QJsonObject{{"url", backend->url()}, {"timeoutMs", 400}}},
                         {"down", QJsonObject{{"url", QStringLiteral("http://127.0.0.1:%1/rpc").arg(deadPort)},
                                              {"timeoutMs", 2000}}}}},
            {"methods",
             QJsonArray{QJsonObject{{"name", "echo"}},
                        QJsonObject{{"name", "say"}, {"handler", QJsonObject{{"builtin", "echo"}}}},
                        QJsonObject{{"name", "orders.create"}, {"handler", QJsonObject{{"upstream", "orders"}}}},
                        QJsonObject{{"name", "orders.reject"}, {"handler", QJsonObject{{"upstream", "orders"}}}},
                        QJsonObject{{"name", "orders.hang"}, {"handler", QJsonObject{{"upstream", "orders"}}}},
                        QJsonObject{{"name", "stock.check"}, {"handler", QJsonObject{{"upstream", "down"}}}}}}};
        QFile file(dir->filePath(QStringLiteral("catalog.json")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(catalog).toJson());
        file.close();
        config = guiTestConfig(*dir);
        config.catalogFile = file.fileName();
    }

    void cleanup()
    {
        if (window && !window->hasShutDown()) {
            QSignalSpy finished(window.get(), &MainWindow::shutdownFinished);
            window->requestQuit();
            QVERIFY(finished.count() || finished.wait(10000));
        }
        window.reset();
        settings.reset();
        monitor.reset();
        if (server)
            QVERIFY(stopSwitchboard(*server));
        server.reset();
        backend.reset();
        dir.reset();
    }

    void servedByAndUpstreamCounters()
    {
        startServer();
        UpstreamHealth health(server->engine()->upstreams(), monitor.get());
        MethodsModel model(server->engine()->methods(), monitor.get());
        model.setUpstreamHealth(&health);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        monitor->start();

        const int echo = model.rowOf("echo"), say = model.rowOf("say"), create = model.rowOf("orders.create"),
                  stock = model.rowOf("stock.check");
        QVERIFY(echo >= 0 && say >= 0 && create >= 0 && stock >= 0);
        QCOMPARE(cell(model, echo, MethodsModel::ServedBy), QStringLiteral("builtin"));
        QCOMPARE(cell(model, say, MethodsModel::ServedBy), QStringLiteral("builtin echo"));
        QCOMPARE(cell(model, create, MethodsModel::ServedBy), QStringLiteral("upstream orders"));
        QCOMPARE(cell(model, stock, MethodsModel::ServedBy), QStringLiteral("upstream down"));
        QVERIFY(cell(model, create, MethodsModel::ServedBy, Qt::ToolTipRole).contains(backend->url()));
        QCOMPARE(model.headerData(MethodsModel::ServedBy, Qt::Horizontal).toString(), QStringLiteral("Served by"));
        for (int column : {MethodsModel::UpstreamCalls, MethodsModel::UpstreamFailures, MethodsModel::MeanUpstream})
            QVERIFY(!model.headerData(column, Qt::Horizontal, Qt::ToolTipRole).toString().isEmpty());

        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        for (int i = 0; i < 3; ++i) {
            const QJsonObject reply = client.call("orders.create", QJsonObject{{"n", i}});
            QCOMPARE(reply.value("result").toObject().value("served").toString(), QStringLiteral("orders.create"));
        }
        QCOMPARE(client.call("echo", QJsonArray{1}).value("result").toArray(), QJsonArray{1});
        QCOMPARE(backend->requests, 3);

        QTRY_COMPARE(cell(model, create, MethodsModel::UpstreamCalls), QStringLiteral("3"));
        QCOMPARE(cell(model, create, MethodsModel::UpstreamFailures), QStringLiteral("0"));
        bool ok = false;
        const double meanUpstream = QLocale().toDouble(cell(model, create, MethodsModel::MeanUpstream), &ok);
        QVERIFY(ok);
        QVERIFY(meanUpstream > 0);
        const double meanLatency = QLocale().toDouble(cell(model, create, MethodsModel::MeanLatency), &ok);
        QVERIFY(ok);
        QVERIFY(meanLatency >= meanUpstream);
        QVERIFY(!model.isFailing(create));
        // Built-ins: the upstream columns say nothing.
        QTRY_COMPARE(cell(model, echo, MethodsModel::Calls), QStringLiteral("1"));
        for (int column : {MethodsModel::UpstreamCalls, MethodsModel::UpstreamFailures, MethodsModel::MeanUpstream}) {
            QVERIFY(!model.index(echo, column).data().isValid());
            QVERIFY(!model.index(echo, column).data(Qt::ToolTipRole).isValid());
        }
        QVERIFY(!health.anyFailing());
        QVERIFY(health.warningText().isEmpty());

        // A timeout of the upstream that answers others.
        const QJsonObject timedOut = client.call("orders.hang");
        QCOMPARE(timedOut.value("error").toObject().value("data").toObject().value("reason").toString(),
                 QStringLiteral("timeout"));
        const int hang = model.rowOf("orders.hang");
        QTRY_VERIFY(model.isFailing(hang));
        QVERIFY(!model.isFailing(create)); // its failures did not grow
        QVERIFY(cell(model, hang, MethodsModel::Method, MethodsModel::RecentFailureRole)
                    .startsWith(QStringLiteral("timeout ")));
        QVERIFY(health.warningText().startsWith(QStringLiteral("upstream orders: timeout ")));

        // It answers again: recovered, the mark goes at once.
        QVERIFY(client.call("orders.create").contains("result"));
        QTRY_VERIFY(!model.isFailing(hang));
        QVERIFY(health.warningText().isEmpty());

        // A bad status marks the method that got it.
        backend->mode = Backend::Mode::Status503;
        QCOMPARE(client.call("orders.create").value("error").toObject().value("data").toObject().value("reason")
                     .toString(),
                 QStringLiteral("status 503"));
        QTRY_VERIFY(model.isFailing(create));
        QVERIFY(cell(model, create, MethodsModel::ServedBy, Qt::ToolTipRole).contains(QStringLiteral("status 503")));
        QCOMPARE(cell(model, create, MethodsModel::UpstreamFailures), QStringLiteral("1"));
        backend->mode = Backend::Mode::Answer;
        QVERIFY(client.call("orders.create").contains("result"));
        QTRY_VERIFY(!model.isFailing(create));

        // The closed port: unreachable, and the method is marked.
        const QJsonObject failed = client.call("stock.check");
        const QJsonObject error = failed.value("error").toObject();
        QCOMPARE(error.value("code").toInt(), -32603);
        QCOMPARE(error.value("data").toObject().value("reason").toString(), QStringLiteral("unreachable"));
        QTRY_VERIFY(model.isFailing(stock));
        QCOMPARE(cell(model, stock, MethodsModel::UpstreamCalls), QStringLiteral("1"));
        QCOMPARE(cell(model, stock, MethodsModel::UpstreamFailures), QStringLiteral("1"));
        QVERIFY(cell(model, stock, MethodsModel::Method, MethodsModel::RecentFailureRole)
                    .startsWith(QStringLiteral("unreachable ")));
        QVERIFY(cell(model, stock, MethodsModel::ServedBy, Qt::ToolTipRole).contains(QStringLiteral("unreachable")));
        QVERIFY(cell(model, stock, MethodsModel::UpstreamFailures, Qt::ToolTipRole).contains(QStringLiteral("down")));
        QVERIFY(model.index(stock, MethodsModel::ServedBy).data(Qt::DecorationRole).isValid());
        QVERIFY(model.index(stock, MethodsModel::ServedBy).data(Qt::ForegroundRole).isValid());
        QVERIFY(!model.isFailing(create)); // another upstream: not marked
        QVERIFY(!model.index(create, MethodsModel::ServedBy).data(Qt::DecorationRole).isValid());
        QVERIFY(!model.index(create, MethodsModel::Method).data(MethodsModel::RecentFailureRole).isValid());
        QVERIFY(health.warningText().startsWith(QStringLiteral("upstream down: unreachable ")));
        QVERIFY(health.warningText().endsWith(QStringLiteral(" s ago")));

        // The failure gets old: the mark goes.
        health.setRecentWindowMs(300);
        QTRY_VERIFY(!model.isFailing(stock));
        QVERIFY(!health.anyFailing());
        QVERIFY(!model.index(stock, MethodsModel::ServedBy).data(Qt::DecorationRole).isValid());
    }

    void modelSeesFailuresFromBeforeIt()
    {
        startServer();
        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        QVERIFY(client.call("stock.check").contains("error"));
        // A dashboard opened after the failure still marks it.
        UpstreamHealth health(server->engine()->upstreams(), nullptr);
        MethodsModel model(server->engine()->methods(), nullptr);
        model.setUpstreamHealth(&health);
        QTRY_VERIFY([&] { health.refresh(); model.refresh(); return model.isFailing(model.rowOf("stock.check")); }());
        QVERIFY(!model.isFailing(model.rowOf("orders.create")));
    }

    void windowWarnsAndTrafficShowsUpstreamTime()
    {
        QString error;
        server = Switchboard::create(config, &error);
        QVERIFY2(server, qPrintable(error));
        settings = std::make_unique<DashboardSettings>(dir->filePath(QStringLiteral("dashboard.ini")));
        window = std::make_unique<MainWindow>(server.get(), settings.get());
        window->resize(1400, 800);
        window->show();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));
        window->startServer();
        QTRY_COMPARE(window->serverBar()->state(), ServerBar::State::Running);
        QVERIFY(window->upstreamHealth());
        ServerBar *bar = window->serverBar();
        QVERIFY(!bar->isUpstreamWarningShown());
        QVERIFY(bar->upstreamWarningText().isEmpty());

        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        QVERIFY(client.call("orders.create", QJsonObject{{"item", "tea"}}).contains("result"));
        const QJsonObject rejected = client.call("orders.reject");
        QCOMPARE(rejected.value("error").toObject().value("code").toInt(), 4040);

        // Traffic: the upstream time on request and reply, in the detail pane.
        TrafficView *view = window->trafficView();
        QVERIFY(window->showView(view->viewKey()));
        TrafficModel *traffic = window->trafficModel();
        QTRY_COMPARE(traffic->rowCount(), 4);
        QCOMPARE(traffic->headerData(TrafficModel::Upstream, Qt::Horizontal).toString(), QStringLiteral("Upstream"));
        const TrafficEvent &reply = traffic->eventAt(1);
        QCOMPARE(reply.direction, TrafficEvent::Direction::Out);
        QVERIFY(reply.upstreamUs > 0);
        QVERIFY(reply.latencyUs >= reply.upstreamUs);
        QCOMPARE(cell(*traffic, 1, TrafficModel::Upstream), TrafficModel::latencyText(reply.upstreamUs));
        QCOMPARE(cell(*traffic, 0, TrafficModel::Upstream), cell(*traffic, 1, TrafficModel::Upstream));
        QCOMPARE(cell(*traffic, 1, TrafficModel::Upstream, Qt::ToolTipRole),
                 QStringLiteral("Waiting for the upstream: %1 µs").arg(reply.upstreamUs));
        QCOMPARE(cell(*traffic, 0, TrafficModel::Verdict), QStringLiteral("accepted: upstream orders"));
        view->table()->selectRow(0);
        QTRY_COMPARE(view->detailEventId(), traffic->eventAt(0).id);
        QVERIFY2(view->detailHeaderText().contains(QStringLiteral("upstream %1 (%2 µs)")
                                                       .arg(TrafficModel::latencyText(reply.upstreamUs))
                                                       .arg(reply.upstreamUs)),
                 qPrintable(view->detailHeaderText()));
        // The upstream's own error: "error from handler", with who said what.
        QCOMPARE(traffic->eventAt(3).verdict, TrafficEvent::Verdict::ErrorResult);
        const QString verdict = cell(*traffic, 3, TrafficModel::Verdict);
        QVERIFY2(verdict.startsWith(QStringLiteral("error from handler: upstream orders")), qPrintable(verdict));
        QVERIFY(verdict.contains(QStringLiteral("no such order")));
        QVERIFY(cell(*traffic, 3, TrafficModel::Upstream).size() > 0);
        // A built-in: no upstream time anywhere.
        QVERIFY(client.call("say", QJsonArray{"hi"}).contains("result"));
        QTRY_COMPARE(traffic->rowCount(), 6);
        QVERIFY(cell(*traffic, 5, TrafficModel::Upstream).isEmpty());
        QCOMPARE(cell(*traffic, 5, TrafficModel::Verdict), QStringLiteral("accepted"));
        view->table()->selectRow(5);
        QTRY_COMPARE(view->detailEventId(), traffic->eventAt(5).id);
        QVERIFY(!view->detailHeaderText().contains(QStringLiteral("upstream")));
        // The verdict filter knows error-result.
        auto *proxy = qobject_cast<TrafficFilterProxyModel *>(view->table()->model());
        QVERIFY(proxy);
        int errorResults = 0;
        for (int row = 0; row < traffic->rowCount(); ++row)
            errorResults += traffic->eventAt(row).verdict == TrafficEvent::Verdict::ErrorResult ? 1 : 0;
        QVERIFY(errorResults >= 1);
        proxy->setVerdictFilter(QStringLiteral("error-result"));
        QCOMPARE(proxy->rowCount(), errorResults);
        QCOMPARE(proxy->index(0, TrafficModel::Method).data().toString(), QStringLiteral("orders.reject"));
        proxy->setVerdictFilter(QString());

        // The Methods view shows the columns.
        MethodsModel *methods = window->methodsModel();
        const int create = methods->rowOf("orders.create");
        QTRY_COMPARE(cell(*methods, create, MethodsModel::UpstreamCalls), QStringLiteral("1"));
        QCOMPARE(window->methodsView()->table()->model()->headerData(MethodsModel::ServedBy, Qt::Horizontal)
                     .toString(),
                 QStringLiteral("Served by"));
        for (int column : {MethodsModel::ServedBy, MethodsModel::UpstreamCalls, MethodsModel::UpstreamFailures,
                           MethodsModel::MeanUpstream})
            QVERIFY(!window->methodsView()->table()->horizontalHeader()->isSectionHidden(column));

        // An unreachable upstream: the server bar says so, and the Methods tab.
        QVERIFY(client.call("stock.check").contains("error"));
        QTRY_VERIFY(bar->isUpstreamWarningShown());
        QVERIFY2(bar->upstreamWarningText().startsWith(QStringLiteral("upstream down: unreachable ")),
                 qPrintable(bar->upstreamWarningText()));
        QVERIFY(bar->upstreamWarningText().endsWith(QStringLiteral(" s ago")));
        QTRY_VERIFY(methods->isFailing(methods->rowOf("stock.check")));
        QTabWidget *tabs = window->viewTabs();
        const int methodsTab = tabs->indexOf(window->methodsView());
        QVERIFY(!tabs->tabToolTip(methodsTab).isEmpty());

        // Old enough: cleared.
        window->upstreamHealth()->setRecentWindowMs(300);
        QTRY_VERIFY(!bar->isUpstreamWarningShown());
        QVERIFY(bar->upstreamWarningText().isEmpty());
        QVERIFY(tabs->tabToolTip(methodsTab).isEmpty());
        QTRY_VERIFY(!methods->isFailing(methods->rowOf("stock.check")));
    }

private:
    void startServer()
    {
        QString error;
        server = startSwitchboard(config, &error);
        QVERIFY2(server, qPrintable(error));
        monitor = std::make_unique<ConnectionMonitor>(server->host()->connections());
    }

    std::unique_ptr<QTemporaryDir> dir;
    std::unique_ptr<Backend> backend;
    ServerConfig config;
    std::unique_ptr<Switchboard> server;
    std::unique_ptr<ConnectionMonitor> monitor;
    std::unique_ptr<DashboardSettings> settings;
    std::unique_ptr<MainWindow> window;
};

QTEST_MAIN(MethodsModelTest)
#include "tst_methodsmodel.moc"
