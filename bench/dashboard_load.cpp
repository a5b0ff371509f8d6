// The dashboard at many connections: the real MainWindow (Connections view in
// front) over the server as shipped, while bench's sbload holds N idle
// WebSocket connections and keeps M busy ones echoing. Measures, over a
// two windows of --seconds once everything is connected and shown:
//   1. the GUI thread's CPU time (utime + stime of the main thread from
//      /proc/self/task/<tid>/stat) as a percentage of one core, with nothing
//      else running in the process;
//   2. input lag: a probe thread posts a key press (Down/Up alternately) to
//      the connection table every 50 ms and records how long each waited
//      before the table got it; likewise a plain queued call every 10 ms;
//      and how late a 10 ms timer on the GUI thread fires.
// Prints one JSON line with the figures (bench/dashboard_load.sh runs it in
// rounds and summarises).
//
//   QT_QPA_PLATFORM=offscreen bench_dashboard_load --sbload PATH [--idle 15000] [--busy 50]
//       [--depth 1] [--seconds 20] [--sort "Msgs in"] [--order desc] [--search TEXT]
//       [--idle-path /idle] [--busy-path /rpc] [--drop]

#include "connectionsview.h"
#include "connectiontablemodel.h"
#include "dashboardsettings.h"
#include "mainwindow.h"
#include "serverbar.h"
#include "serverhost.h"
#include "switchboard.h"
#include "admin/connectionregistry.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLineEdit>
#include <QProcess>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// utime + stime in clock ticks of one thread (or the process with tid 0).
qint64 cpuTicks(pid_t tid)
{
    const QString path = tid ? QStringLiteral("/proc/self/task/%1/stat").arg(tid) : QStringLiteral("/proc/self/stat");
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray text = file.readAll();
    // Fields after the command name, which is in parentheses and may hold spaces.
    const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return fields.value(11).toLongLong() + fields.value(12).toLongLong();
}

// Busy and total jiffies of the whole machine (/proc/stat's cpu line).
std::pair<qint64, qint64> machineJiffies()
{
    QFile file(QStringLiteral("/proc/stat"));
    if (!file.open(QIODevice::ReadOnly))
        return {0, 0};
    const QList<QByteArray> fields = file.readLine().simplified().split(' ');
    qint64 total = 0, idle = 0;
    for (int i = 1; i < fields.size(); ++i) {
        total += fields.at(i).toLongLong();
        if (i == 4 || i == 5) // idle, iowait
            idle += fields.at(i).toLongLong();
    }
    return {total - idle, total};
}

QByteArray loadAverage()
{
    QFile file(QStringLiteral("/proc/loadavg"));
    return file.open(QIODevice::ReadOnly) ? file.readAll().split(' ').mid(0, 3).join(' ') : QByteArray();
}

struct Percentiles
{
    double p50 = 0, p99 = 0, max = 0;
    size_t count = 0;
};

Percentiles percentiles(std::vector<double> values)
{
    Percentiles p;
    p.count = values.size();
    if (values.empty())
        return p;
    std::sort(values.begin(), values.end());
    const auto at = [&values](double q) {
        return values[std::min(values.size() - 1, size_t(q * double(values.size() - 1) + 0.5))];
    };
    p.p50 = at(0.50);
    p.p99 = at(0.99);
    p.max = values.back();
    return p;
}

// Post times of the probes in flight, in posting order: events posted to
// one receiver are delivered in that order.
class ProbeQueue
{
public:
    void push(qint64 ns)
    {
        std::lock_guard lock(m_mutex);
        m_posted.push_back(ns);
    }
    qint64 pop()
    {
        std::lock_guard lock(m_mutex);
        if (m_posted.empty())
            return 0;
        const qint64 ns = m_posted.front();
        m_posted.pop_front();
        return ns;
    }

private:
    std::mutex m_mutex;
    std::deque<qint64> m_posted;
};

// Records the wait of every probe key press that reaches the table.
class KeyProbe : public QObject
{
public:
    explicit KeyProbe(ProbeQueue *queue) : m_queue(queue) { }
    std::vector<double> waitsMs;
    bool recording = false;

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::KeyPress && static_cast<QKeyEvent *>(event)->nativeVirtualKey() == ProbeMark) {
            const qint64 posted = m_queue->pop();
            if (recording && posted)
                waitsMs.push_back(double(nowNs() - posted) / 1e6);
        }
        return QObject::eventFilter(watched, event);
    }

public:
    static constexpr quint32 ProbeMark = 0x5b0a7d;

private:
    ProbeQueue *m_queue;
};

int columnByTitle(const QAbstractItemModel *model, QString title)
{
    const auto squash = [](QString s) { return s.remove(QLatin1Char(' ')).toLower(); };
    title = squash(title);
    for (int c = 0; c < model->columnCount(); ++c) {
        if (squash(model->headerData(c, Qt::Horizontal).toString()) == title)
            return c;
    }
    return -1;
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("switchboard-bench"));
    QApplication::setOrganizationName(QStringLiteral("Switchboard"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("The dashboard's GUI-thread CPU and input lag at many connections."));
    parser.addHelpOption();
    const QCommandLineOption sbloadOption(QStringLiteral("sbload"), QStringLiteral("bench's sbload."), QStringLiteral("PATH"));
    const QCommandLineOption idleOption(QStringLiteral("idle"), QStringLiteral("Idle connections (15000)."),
                                        QStringLiteral("N"), QStringLiteral("15000"));
    const QCommandLineOption busyOption(QStringLiteral("busy"), QStringLiteral("Busy connections (50)."),
                                        QStringLiteral("N"), QStringLiteral("50"));
    const QCommandLineOption depthOption(QStringLiteral("depth"), QStringLiteral("Requests in flight per busy one (1)."),
                                         QStringLiteral("D"), QStringLiteral("1"));
    const QCommandLineOption secondsOption(QStringLiteral("seconds"), QStringLiteral("Each of the two measured windows (20)."),
                                           QStringLiteral("S"), QStringLiteral("20"));
    const QCommandLineOption settleOption(QStringLiteral("settle"),
                                          QStringLiteral("Seconds between the busy load's start and the window (3)."),
                                          QStringLiteral("S"), QStringLiteral("3"));
    const QCommandLineOption sortOption(QStringLiteral("sort"), QStringLiteral("Column title to sort by (Id)."),
                                        QStringLiteral("TITLE"), QStringLiteral("Id"));
    const QCommandLineOption orderOption(QStringLiteral("order"), QStringLiteral("asc or desc (asc)."),
                                         QStringLiteral("ORDER"), QStringLiteral("asc"));
    const QCommandLineOption searchOption(QStringLiteral("search"), QStringLiteral("Text typed into the filter box."),
                                          QStringLiteral("TEXT"));
    const QCommandLineOption idlePathOption(QStringLiteral("idle-path"), QStringLiteral("Path of the idle ones (/idle)."),
                                            QStringLiteral("PATH"), QStringLiteral("/idle"));
    const QCommandLineOption busyPathOption(QStringLiteral("busy-path"), QStringLiteral("Path of the busy ones (/rpc)."),
                                            QStringLiteral("PATH"), QStringLiteral("/rpc"));
    const QCommandLineOption dropOption(QStringLiteral("drop"),
                                       QStringLiteral("Afterwards, half of the idle ones leave at once, from all over "
                                                      "the table; report the GUI thread's longest stall."));
    parser.addOptions({sbloadOption, idleOption, busyOption, depthOption, secondsOption, settleOption, sortOption,
                       orderOption, searchOption, idlePathOption, busyPathOption, dropOption});
    parser.process(app);
    if (!parser.isSet(sbloadOption)) {
        std::fprintf(stderr, "dashboard_load: --sbload PATH is required\n");
        return 2;
    }
    const int idle = std::max(0, parser.value(idleOption).toInt());
    const int busy = std::max(0, parser.value(busyOption).toInt());
    const int seconds = std::max(2, parser.value(secondsOption).toInt());
    const int settle = std::max(0, parser.value(settleOption).toInt());

    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    QTemporaryDir dir;
    ServerConfig config;
    config.port = 0;
    config.stateFile = dir.filePath(QStringLiteral("methods.json"));
    config.limits.maxConnections = idle + busy + 1000;
    config.limits.maxPendingSockets = idle + busy + 1000;
    config.limits.shutdownGraceMs = 500;
    DashboardSettings settings(dir.filePath(QStringLiteral("dashboard.ini")));
    QString error;
    std::unique_ptr<Switchboard> server = Switchboard::create(config, &error);
    if (!server) {
        std::fprintf(stderr, "dashboard_load: %s\n", qPrintable(error));
        return 1;
    }
    MainWindow window(server.get(), &settings);
    window.resize(1280, 800);
    window.show();
    window.startServer();
    // Waits in a real event loop (the GUI thread sleeps between events, as
    // in the application), checking `done` every 50 ms.
    const auto waitUntil = [](const std::function<bool()> &done, int timeoutMs) {
        if (done())
            return true;
        QEventLoop loop;
        QTimer check;
        QObject::connect(&check, &QTimer::timeout, &loop, [&] {
            if (done())
                loop.quit();
        });
        check.start(50);
        QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
        loop.exec();
        return done();
    };
    const auto wait = [&waitUntil](int ms) { waitUntil([] { return false; }, ms); };

    waitUntil([&] { return window.serverBar()->state() != ServerBar::State::Starting; }, 5000);
    if (window.serverBar()->state() != ServerBar::State::Running) {
        std::fprintf(stderr, "dashboard_load: the server did not start\n");
        return 1;
    }
    window.showView(QStringLiteral("connections"));
    ConnectionsView *view = window.connectionsView();
    QTableView *table = view->table();
    const int port = server->host()->listeners().value(0).port();

    const int sortColumn = columnByTitle(table->model(), parser.value(sortOption));
    if (sortColumn < 0) {
        std::fprintf(stderr, "dashboard_load: no column \"%s\"\n", qPrintable(parser.value(sortOption)));
        return 2;
    }
    table->sortByColumn(sortColumn, parser.value(orderOption) == QLatin1String("desc") ? Qt::DescendingOrder
                                                                                      : Qt::AscendingOrder);
    if (parser.isSet(searchOption)) {
        if (auto *search = view->findChild<QLineEdit *>(QStringLiteral("searchEdit")))
            search->setText(parser.value(searchOption));
    }
    table->setFocus();
    table->selectRow(0);

    // The idle connections, held until we stop them. With --drop, from two
    // processes started together, so that their ids interleave: when one
    // of them goes, its connections leave from all over the table, as when
    // a client host drops.
    const QString sbload = parser.value(sbloadOption);
    const bool drop = parser.isSet(dropOption);
    std::vector<std::unique_ptr<QProcess>> idleLoads;
    QElapsedTimer connectClock;
    connectClock.start();
    const int idleProcesses = idle > 0 ? (drop ? 2 : 1) : 0;
    for (int i = 0; i < idleProcesses; ++i) {
        auto load = std::make_unique<QProcess>();
        load->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        const int conns = idle / idleProcesses + (i == 0 ? idle % idleProcesses : 0);
        load->start(sbload, {QStringLiteral("idle"), QStringLiteral("--port"), QString::number(port),
                             QStringLiteral("--conns"), QString::number(conns), QStringLiteral("--parallel"),
                             QString::number(64 / idleProcesses), QStringLiteral("--path"),
                             parser.value(idlePathOption), QStringLiteral("--hold"), QStringLiteral("3600"),
                             QStringLiteral("--timeout"), QStringLiteral("3600")});
        if (!load->waitForStarted(5000)) {
            std::fprintf(stderr, "dashboard_load: cannot start %s\n", qPrintable(sbload));
            return 1;
        }
        idleLoads.push_back(std::move(load));
    }
    ConnectionRegistry *registry = server->host()->connections();
    ConnectionTableModel *model = window.connectionModel();
    if (!waitUntil([&] { return registry->count() >= idle && model->rowCount() >= idle; }, 180'000)) {
        std::fprintf(stderr, "dashboard_load: %d of %d idle connections after 180 s\n", registry->count(), idle);
        return 1;
    }
    const double connectS = double(connectClock.elapsed()) / 1000.0;

    QProcess busyLoad;
    busyLoad.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    if (busy > 0) {
        busyLoad.start(sbload, {QStringLiteral("ws"), QStringLiteral("--port"), QString::number(port),
                                QStringLiteral("--conns"), QString::number(busy), QStringLiteral("--depth"),
                                parser.value(depthOption), QStringLiteral("--path"), parser.value(busyPathOption),
                                QStringLiteral("--duration"),
                                QString::number(settle + 2 * seconds + 10), QStringLiteral("--warmup"),
                                QStringLiteral("1")});
        if (!busyLoad.waitForStarted(5000)) {
            std::fprintf(stderr, "dashboard_load: cannot start %s\n", qPrintable(sbload));
            return 1;
        }
        if (!waitUntil([&] { return model->rowCount() >= idle + busy; }, 30'000)) {
            std::fprintf(stderr, "dashboard_load: the busy connections did not show up\n");
            return 1;
        }
    }
    wait(settle * 1000);

    // Two windows of `seconds` each. First the GUI thread's CPU with nothing
    // but the dashboard and the load (the probes below cost CPU of their
    // own: each key press moves the current row and repaints); then the
    // lag, with the probes.
    const pid_t mainThread = getpid(); // the main thread's id is the process id
    struct Window
    {
        qint64 guiTicks = 0, processTicks = 0;
        std::pair<qint64, qint64> machine;
        TrafficTotals totals;
        QElapsedTimer wall;
    };
    const auto open = [&](Window &w) {
        w.totals = registry->totals();
        w.guiTicks = cpuTicks(mainThread);
        w.processTicks = cpuTicks(0);
        w.machine = machineJiffies();
        w.wall.start();
    };
    const double tick = double(sysconf(_SC_CLK_TCK));
    struct Figures
    {
        double wallS, guiCpuPct, processCpuPct, machineBusyPct, messagesPerS;
    };
    const auto close = [&](const Window &w) {
        Figures f;
        f.wallS = double(w.wall.nsecsElapsed()) / 1e9;
        f.guiCpuPct = 100.0 * double(cpuTicks(mainThread) - w.guiTicks) / tick / f.wallS;
        f.processCpuPct = 100.0 * double(cpuTicks(0) - w.processTicks) / tick / f.wallS;
        const auto machine = machineJiffies();
        const qint64 total = machine.second - w.machine.second;
        f.machineBusyPct = total > 0 ? 100.0 * double(machine.first - w.machine.first) / double(total) : 0;
        f.messagesPerS = double(registry->totals().messagesIn - w.totals.messagesIn) / f.wallS;
        return f;
    };

    const QByteArray loadBefore = loadAverage();
    // For a profiler to attach to the main thread for the first window.
    std::printf("{\"event\":\"window\",\"pid\":%d,\"seconds\":%d}\n", int(mainThread), seconds);
    std::fflush(stdout);
    Window quiet;
    open(quiet);
    wait(seconds * 1000);
    const Figures cpu = close(quiet);

    // The probes: a key press every 50 ms, a queued call and a timer every 10 ms.
    ProbeQueue keyQueue;
    KeyProbe keyProbe(&keyQueue);
    table->installEventFilter(&keyProbe);
    std::vector<double> callWaitsMs;
    bool recordCalls = false;
    QObject callReceiver;
    std::atomic<bool> probing{true};
    const QInputDevice *keyboard = QInputDevice::primaryKeyboard(); // created here, on the GUI thread
    std::thread prober([&] {
        bool down = true;
        auto next = Clock::now();
        for (int n = 0; probing.load(); ++n) {
            next += std::chrono::milliseconds(10);
            std::this_thread::sleep_until(next);
            if (n % 5 == 0) {
                // Alternating Down/Up keeps the current row near the top.
                keyQueue.push(nowNs());
                QCoreApplication::postEvent(table, new QKeyEvent(QEvent::KeyPress, down ? Qt::Key_Down : Qt::Key_Up,
                                                                 Qt::NoModifier, 0, KeyProbe::ProbeMark, 0,
                                                                 QString(), false, 1, keyboard));
                down = !down;
            }
            const qint64 posted = nowNs();
            QMetaObject::invokeMethod(&callReceiver, [&, posted] {
                if (recordCalls)
                    callWaitsMs.push_back(double(nowNs() - posted) / 1e6);
            }, Qt::QueuedConnection);
        }
    });
    std::vector<double> lateMs;
    QElapsedTimer sinceLast;
    QTimer timerProbe;
    timerProbe.setTimerType(Qt::PreciseTimer);
    timerProbe.setInterval(10);
    QObject::connect(&timerProbe, &QTimer::timeout, [&] {
        lateMs.push_back(std::max(0.0, double(sinceLast.nsecsElapsed()) / 1e6 - 10.0));
        sinceLast.restart();
    });
    Window probed;
    open(probed);
    keyProbe.recording = true;
    recordCalls = true;
    sinceLast.start();
    timerProbe.start();
    wait(seconds * 1000);
    timerProbe.stop();
    keyProbe.recording = false;
    recordCalls = false;
    const Figures lag = close(probed);
    probing = false;
    prober.join();

    const Percentiles key = percentiles(keyProbe.waitsMs);
    const Percentiles call = percentiles(callWaitsMs);
    const Percentiles late = percentiles(lateMs);
    const int rows = model->rowCount();
    const int shown = table->model()->rowCount();

    // --drop: the second idle process goes; how long until the table shows
    // it, and how late the 10 ms timer got meanwhile (the longest stall).
    int dropRows = 0;
    double dropS = 0;
    Percentiles dropLate;
    if (drop && idleLoads.size() == 2) {
        lateMs.clear();
        const int rowsBefore = model->rowCount();
        const int staying = rowsBefore - idle / 2;
        QElapsedTimer dropClock;
        dropClock.start();
        sinceLast.restart();
        timerProbe.start();
        idleLoads[1]->kill();
        const bool gone = waitUntil([&] { return model->rowCount() <= staying; }, 30'000);
        dropS = double(dropClock.nsecsElapsed()) / 1e9;
        wait(1000);
        timerProbe.stop();
        dropRows = rowsBefore - model->rowCount();
        dropLate = percentiles(lateMs);
        if (!gone)
            std::fprintf(stderr, "dashboard_load: %d rows left after the drop, %d expected\n", model->rowCount(),
                         staying);
    }

    std::printf("{\"idle\":%d,\"busy\":%d,\"sort\":\"%s %s\",\"search\":\"%s\",\"rows\":%d,\"shown\":%d,"
                "\"connect_s\":%.2f,\"window_s\":%.1f,\"gui_cpu_pct\":%.1f,\"process_cpu_pct\":%.1f,"
                "\"machine_busy_pct\":%.1f,\"msgs_per_s\":%.0f,"
                "\"probed_gui_cpu_pct\":%.1f,\"probed_machine_busy_pct\":%.1f,\"probed_msgs_per_s\":%.0f,"
                "\"key_p50_ms\":%.2f,\"key_p99_ms\":%.2f,\"key_max_ms\":%.2f,\"keys\":%zu,"
                "\"call_p50_ms\":%.2f,\"call_p99_ms\":%.2f,\"call_max_ms\":%.2f,\"calls\":%zu,"
                "\"timer_late_p50_ms\":%.2f,\"timer_late_p99_ms\":%.2f,\"timer_late_max_ms\":%.2f,"
                "\"drop_rows\":%d,\"drop_s\":%.2f,\"drop_timer_late_p99_ms\":%.2f,\"drop_timer_late_max_ms\":%.2f,"
                "\"loadavg_before\":\"%s\",\"loadavg_after\":\"%s\"}\n",
                idle, busy, qPrintable(parser.value(sortOption)), qPrintable(parser.value(orderOption)),
                qPrintable(parser.value(searchOption)), rows, shown, connectS,
                cpu.wallS, cpu.guiCpuPct, cpu.processCpuPct, cpu.machineBusyPct, cpu.messagesPerS, lag.guiCpuPct,
                lag.machineBusyPct, lag.messagesPerS, key.p50, key.p99, key.max, key.count, call.p50, call.p99,
                call.max, call.count, late.p50, late.p99, late.max, dropRows, dropS, dropLate.p99, dropLate.max,
                loadBefore.constData(), loadAverage().constData());
    std::fflush(stdout);

    // Wind down: the load first; the window and server go with the process.
    std::vector<QProcess *> loads{&busyLoad};
    for (const auto &load : idleLoads)
        loads.push_back(load.get());
    for (QProcess *load : loads) {
        if (load->state() != QProcess::NotRunning) {
            load->kill();
            load->waitForFinished(5000);
        }
    }
    std::_Exit(0);
}
