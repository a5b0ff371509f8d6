// How late the dashboard's GUI thread gets while clients flood the server:
// the real MainWindow (Traffic view in front, following) runs offscreen over
// the server as shipped, a load hammers it for a while, and a 10 ms timer on
// the GUI thread records how late it fires. Prints the lateness percentiles,
// the server's messages per second, the traffic view's rows and the
// process's resident memory at the start and the end of the load.
//
//   QT_QPA_PLATFORM=offscreen build/tests/gui/dashboard_lag [--seconds 20]
//       [--clients 8] [--depth 16] [--sbload PATH] [--view traffic]
//
// Load: with --sbload, the epoll load client of bench/ (sbload ws, a separate
// process: the fairest load, it costs the machine least); without it, N
// QWebSocket clients on a thread of their own, each keeping D echo requests
// outstanding. Never part of ctest (its numbers depend on the machine).

#include "rpcclient.h"

#include "connectionmonitor.h"
#include "dashboardsettings.h"
#include "mainwindow.h"
#include "serverbar.h"
#include "trafficmodel.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

qint64 residentKiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

// Clients on their own thread: each keeps `depth` echo requests in flight.
class LoadClients : public QObject
{
public:
    LoadClients(QUrl url, int clients, int depth)
        : m_url(std::move(url)), m_clients(clients), m_depth(depth)
    {
    }

    void start() // on the load thread
    {
        for (int i = 0; i < m_clients; ++i) {
            auto *socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
            connect(socket, &QWebSocket::connected, socket, [this, socket] {
                for (int k = 0; k < m_depth; ++k)
                    send(socket);
            });
            connect(socket, &QWebSocket::textMessageReceived, socket, [this, socket] { send(socket); });
            QWebSocketHandshakeOptions options;
            options.setSubprotocols({QStringLiteral("jsonrpc")});
            socket->open(m_url, options);
        }
    }

private:
    void send(QWebSocket *socket)
    {
        ++m_id;
        socket->sendTextMessage(QStringLiteral("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"n\":%1,"
                                               "\"text\":\"load\"},\"id\":%1}")
                                    .arg(m_id));
    }

    QUrl m_url;
    int m_clients;
    int m_depth;
    qint64 m_id = 0;
};

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const size_t i = std::min(values.size() - 1, size_t(p * double(values.size() - 1) + 0.5));
    return values[i];
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("switchboard"));
    QApplication::setOrganizationName(QStringLiteral("Switchboard"));
    QApplication::setApplicationVersion(QStringLiteral(SWITCHBOARD_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Measures the dashboard's GUI-thread lag under load."));
    parser.addHelpOption();
    const QCommandLineOption seconds(QStringLiteral("seconds"), QStringLiteral("Load duration (default 20)."),
                                     QStringLiteral("N"), QStringLiteral("20"));
    const QCommandLineOption clients(QStringLiteral("clients"), QStringLiteral("Connections (default 8)."),
                                     QStringLiteral("N"), QStringLiteral("8"));
    const QCommandLineOption depth(QStringLiteral("depth"), QStringLiteral("Requests in flight per connection (default 16)."),
                                   QStringLiteral("D"), QStringLiteral("16"));
    const QCommandLineOption sbload(QStringLiteral("sbload"), QStringLiteral("Use bench/'s sbload as the load."),
                                    QStringLiteral("PATH"));
    const QCommandLineOption view(QStringLiteral("view"), QStringLiteral("View in front (default traffic)."),
                                  QStringLiteral("KEY"), QStringLiteral("traffic"));
    parser.addOptions({seconds, clients, depth, sbload, view});
    parser.process(app);
    const int runSeconds = std::max(2, parser.value(seconds).toInt());
    const int clientCount = std::max(1, parser.value(clients).toInt());
    const int depthCount = std::max(1, parser.value(depth).toInt());

    QTemporaryDir dir;
    const ServerConfig config = guiTestConfig(dir);
    DashboardSettings settings(dir.filePath(QStringLiteral("dashboard.ini")));
    QString error;
    std::unique_ptr<Switchboard> server = Switchboard::create(config, &error);
    if (!server) {
        std::fprintf(stderr, "dashboard_lag: %s\n", qPrintable(error));
        return 1;
    }
    MainWindow window(server.get(), &settings);
    window.resize(1280, 800);
    window.show();
    window.startServer();
    (void)QTest::qWaitFor([&] { return window.serverBar()->state() != ServerBar::State::Starting; }, 5000);
    if (window.serverBar()->state() != ServerBar::State::Running) {
        std::fprintf(stderr, "dashboard_lag: the server did not start\n");
        return 1;
    }
    window.showView(parser.value(view));
    const QUrl url = switchboardUrl(*server);

    // The load.
    QThread loadThread;
    LoadClients *load = nullptr;
    QProcess loadProcess;
    if (parser.isSet(sbload)) {
        loadProcess.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        loadProcess.start(parser.value(sbload),
                          {QStringLiteral("ws"), QStringLiteral("--port"), QString::number(url.port()),
                           QStringLiteral("--conns"), QString::number(clientCount), QStringLiteral("--depth"),
                           QString::number(depthCount), QStringLiteral("--duration"),
                           QString::number(runSeconds + 3), QStringLiteral("--warmup"), QStringLiteral("1")});
        if (!loadProcess.waitForStarted(5000)) {
            std::fprintf(stderr, "dashboard_lag: cannot start %s\n", qPrintable(parser.value(sbload)));
            return 1;
        }
    } else {
        load = new LoadClients(url, clientCount, depthCount);
        load->moveToThread(&loadThread);
        QObject::connect(&loadThread, &QThread::finished, load, &QObject::deleteLater);
        loadThread.start();
        QMetaObject::invokeMethod(load, [load] { load->start(); }, Qt::QueuedConnection);
    }
    QTest::qWait(1500); // connected and going

    // The probe: a 10 ms timer on the GUI thread and how late it fires.
    std::vector<double> lateMs;
    lateMs.reserve(size_t(runSeconds) * 120);
    QElapsedTimer sinceLast;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(10);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const double elapsedMs = double(sinceLast.nsecsElapsed()) / 1e6;
        sinceLast.restart();
        lateMs.push_back(std::max(0.0, elapsedMs - 10.0));
    });

    const TrafficTotals before = server->host()->connections()->totals();
    const qint64 rssBefore = residentKiB();
    QElapsedTimer wall;
    wall.start();
    sinceLast.start();
    probe.start();
    qint64 rssMax = rssBefore;
    QTimer rssProbe;
    QObject::connect(&rssProbe, &QTimer::timeout, [&] { rssMax = std::max(rssMax, residentKiB()); });
    rssProbe.start(500);
    QTest::qWait(runSeconds * 1000);
    probe.stop();
    rssProbe.stop();
    const double wallS = double(wall.nsecsElapsed()) / 1e9;
    const TrafficTotals after = server->host()->connections()->totals();
    const qint64 rssAfter = residentKiB();
    TrafficModel *traffic = window.trafficModel();

    const double inPerS = double(after.messagesIn - before.messagesIn) / wallS;
    const double outPerS = double(after.messagesOut - before.messagesOut) / wallS;
    const double p50 = percentile(lateMs, 0.50), p99 = percentile(lateMs, 0.99);
    const double maxLate = lateMs.empty() ? 0 : *std::max_element(lateMs.begin(), lateMs.end());
    std::printf("load: %s, %d connections x %d in flight, %.1f s\n",
                parser.isSet(sbload) ? "sbload (separate process)" : "QWebSocket clients (own thread)",
                clientCount, depthCount, wallS);
    std::printf("server: %.0f messages/s in, %.0f messages/s out\n", inPerS, outPerS);
    std::printf("GUI thread, 10 ms timer lateness over %zu ticks: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                lateMs.size(), p50, p99, maxLate);
    std::printf("traffic view: %d rows kept, %llu older dropped; resident memory %lld MiB before, "
                "%lld MiB max, %lld MiB after\n",
                traffic ? traffic->rowCount() : 0,
                traffic ? static_cast<unsigned long long>(traffic->droppedCount()) : 0ULL,
                rssBefore / 1024, rssMax / 1024, rssAfter / 1024);
    std::printf("{\"messagesInPerS\":%.0f,\"messagesOutPerS\":%.0f,\"lateP50Ms\":%.3f,\"lateP99Ms\":%.3f,"
                "\"lateMaxMs\":%.3f,\"ticks\":%zu,\"rows\":%d,\"rssBeforeKiB\":%lld,\"rssMaxKiB\":%lld,"
                "\"rssAfterKiB\":%lld}\n",
                inPerS, outPerS, p50, p99, maxLate, lateMs.size(), traffic ? traffic->rowCount() : 0, rssBefore,
                rssMax, rssAfter);
    std::fflush(stdout);

    // Wind down: the load first, then the window and the server.
    if (load) {
        loadThread.quit();
        loadThread.wait();
    }
    if (loadProcess.state() != QProcess::NotRunning) {
        loadProcess.terminate();
        loadProcess.waitForFinished(5000);
    }
    QSignalSpy finished(&window, &MainWindow::shutdownFinished);
    window.requestQuit();
    finished.wait(10000);
    return 0;
}
