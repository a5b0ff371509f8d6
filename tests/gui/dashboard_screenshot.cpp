// Renders the dashboard with live clients offscreen and saves it as a PNG:
// the screenshot in docs/ is made with this program.
//
//   cmake --build build --target dashboard-screenshot
//       (runs: QT_QPA_PLATFORM=offscreen build/tests/gui/dashboard_screenshot docs/screenshot-dashboard.png)
//
//   dashboard_screenshot [--dark] [--seconds N] [--size WIDTHxHEIGHT] OUTPUT.png
//
// A real server core on 127.0.0.1:8080 (any free port when taken) with real
// WebSocket clients that connect, send at a varying rate, and leave, plus a
// few handshakes that are refused. The clients' sessions echo (the test
// subprotocol under the bundled protocols' names) until the RPC engine is
// wired into the dashboard's server. Settings go to a temporary file, never
// the user's.

#include "testsupport.h"

#include "connectionsview.h"
#include "dashboardsettings.h"
#include "mainwindow.h"
#include "serverbar.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QStatusBar>
#include <QStyleFactory>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>

#include <cmath>
#include <cstdio>

namespace {

struct ClientPlan
{
    const char *path;
    QStringList offered;
    const char *origin;
    double weight;   // share of the traffic
    int opensAtPercent;
    int closesAtPercent; // 100: stays to the end
};

QPalette darkPalette()
{
    QPalette p;
    const QColor window(45, 47, 51), base(32, 33, 36), text(225, 227, 230), disabled(120, 122, 126);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(40, 42, 46));
    p.setColor(QPalette::ToolTipBase, window);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, disabled);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, QColor(61, 142, 220));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(100, 170, 240));
    p.setColor(QPalette::Light, QColor(70, 72, 77));
    p.setColor(QPalette::Midlight, QColor(58, 60, 64));
    p.setColor(QPalette::Mid, QColor(38, 39, 42));
    p.setColor(QPalette::Dark, QColor(25, 26, 28));
    p.setColor(QPalette::Shadow, Qt::black);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    return p;
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("switchboard"));
    QApplication::setOrganizationName(QStringLiteral("Switchboard"));
    QApplication::setApplicationVersion(QStringLiteral(SWITCHBOARD_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Saves a screenshot of the Switchboard dashboard with live clients."));
    parser.addHelpOption();
    const QCommandLineOption dark(QStringLiteral("dark"), QStringLiteral("Use a dark palette."));
    const QCommandLineOption seconds(QStringLiteral("seconds"), QStringLiteral("Traffic before the shot (default 60)."),
                                     QStringLiteral("N"), QStringLiteral("60"));
    const QCommandLineOption size(QStringLiteral("size"), QStringLiteral("Window size (default 1280x800)."),
                                  QStringLiteral("WxH"), QStringLiteral("1280x800"));
    parser.addOptions({dark, seconds, size});
    parser.addPositionalArgument(QStringLiteral("output"), QStringLiteral("PNG file to write."));
    parser.process(app);
    if (parser.positionalArguments().size() != 1) {
        std::fprintf(stderr, "dashboard_screenshot: give one output file (see --help)\n");
        return 2;
    }
    const QString output = parser.positionalArguments().first();
    const int runSeconds = qMax(1, parser.value(seconds).toInt());
    const QStringList wh = parser.value(size).split(QLatin1Char('x'));
    const QSize windowSize(wh.value(0).toInt(), wh.value(1).toInt());

    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    if (parser.isSet(dark))
        QApplication::setPalette(darkPalette());

    auto subprotocols = std::make_shared<SubprotocolRegistry>();
    subprotocols->add(std::make_shared<EchoTestSubprotocol>(QStringLiteral("jsonrpc")));
    subprotocols->add(std::make_shared<EchoTestSubprotocol>(QStringLiteral("dm-rpc")));

    ServerConfig config;
    config.port = 8080;
    config.allowedOrigins = {QStringLiteral("https://app.example.org"), QStringLiteral("http://localhost:3000")};
    QTemporaryDir settingsDir;
    DashboardSettings settings(settingsDir.filePath(QStringLiteral("dashboard.ini")));

    std::unique_ptr<ServerHost> host;
    std::unique_ptr<MainWindow> window;
    for (int port : {8080, 0}) {
        config.port = port;
        window.reset();
        host = std::make_unique<ServerHost>(config, subprotocols);
        window = std::make_unique<MainWindow>(host.get(), &settings);
        window->resize(windowSize.isValid() ? windowSize : QSize(1280, 800));
        window->show();
        window->startServer();
        (void)QTest::qWaitFor([&] {
            return window->serverBar()->state() == ServerBar::State::Running
                || window->serverBar()->state() == ServerBar::State::Failed;
        }, 5000);
        if (window->serverBar()->state() == ServerBar::State::Running)
            break;
    }
    if (window->serverBar()->state() != ServerBar::State::Running) {
        std::fprintf(stderr, "dashboard_screenshot: the server did not start: %s\n",
                     qPrintable(window->serverBar()->errorText()));
        return 1;
    }
    QUrl base = host->listeners().value(0);
    base.setScheme(QStringLiteral("ws"));

    const QList<ClientPlan> plans = {
        {"/rpc", {"jsonrpc"}, "https://app.example.org", 5, 0, 100},
        {"/rpc", {"jsonrpc"}, "https://app.example.org", 2, 5, 100},
        {"/legacy", {"dm-rpc"}, nullptr, 1, 10, 100},
        {"/rpc", {"dm-rpc", "jsonrpc"}, "http://localhost:3000", 1.5, 20, 100},
        {"/admin", {"jsonrpc"}, "http://localhost:3000", 0.2, 30, 100},
        {"/feed", {"jsonrpc"}, nullptr, 3, 40, 75},
        {"/legacy", {"dm-rpc"}, nullptr, 0.5, 55, 100},
        {"/feed", {"jsonrpc"}, nullptr, 2.5, 65, 100},
    };
    std::vector<std::unique_ptr<QWebSocket>> clients(plans.size());
    qint64 messageId = 0;
    QElapsedTimer clock;
    clock.start();
    const qint64 totalMs = runSeconds * 1000;

    QTimer traffic;
    traffic.setInterval(20);
    QObject::connect(&traffic, &QTimer::timeout, [&] {
        const qint64 now = clock.elapsed();
        const int percent = int(now * 100 / totalMs);
        for (int i = 0; i < plans.size(); ++i) {
            const ClientPlan &plan = plans.at(i);
            auto &client = clients[size_t(i)];
            if (!client && percent >= plan.opensAtPercent && percent < plan.closesAtPercent) {
                client = std::make_unique<QWebSocket>(plan.origin ? QString::fromLatin1(plan.origin) : QString());
                QWebSocketHandshakeOptions options;
                options.setSubprotocols(plan.offered);
                QUrl url = base;
                url.setPath(QString::fromLatin1(plan.path));
                client->open(url, options);
            }
            const bool leaves = plan.closesAtPercent < 100 && percent >= plan.closesAtPercent;
            if (client && leaves && client->state() == QAbstractSocket::ConnectedState)
                client->close();
            if (!client || client->state() != QAbstractSocket::ConnectedState)
                continue;
            // A load that swells and ebbs, so the chart has something to show.
            const double wave = 1.0 + 0.8 * std::sin(now / 4000.0 + i);
            const int burst = int(std::lround(plan.weight * wave));
            for (int k = 0; k < burst; ++k) {
                ++messageId;
                const QString text = client->subprotocol() == QLatin1String("dm-rpc")
                    ? QStringLiteral("[\"sum\",[%1,2,3],%2]").arg(messageId % 97).arg(messageId)
                    : QStringLiteral("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"n\":%1},\"id\":%2}")
                          .arg(messageId % 97)
                          .arg(messageId);
                client->sendTextMessage(text);
            }
        }
    });
    traffic.start();

    // Handshakes the server refuses, spread over the run.
    struct Refusal { int atPercent; QStringList offered; const char *origin; const char *path; };
    const QList<Refusal> refusals = {
        {8, {"mqtt"}, nullptr, "/mqtt"},
        {30, {"jsonrpc"}, "https://evil.example", "/rpc"},
        {50, {}, nullptr, "/"},
        {70, {"wamp.2.json", "wamp.2.msgpack"}, nullptr, "/ws"},
    };
    std::vector<std::unique_ptr<QWebSocket>> refused;
    for (const Refusal &r : refusals) {
        QTimer::singleShot(int(totalMs * r.atPercent / 100), &app, [&, r] {
            auto socket = std::make_unique<QWebSocket>(r.origin ? QString::fromLatin1(r.origin) : QString());
            QWebSocketHandshakeOptions options;
            options.setSubprotocols(r.offered);
            QUrl url = base;
            url.setPath(QString::fromLatin1(r.path));
            socket->open(url, options);
            refused.push_back(std::move(socket));
        });
    }

    QTest::qWait(int(totalMs)); // the traffic keeps going while the shot is taken

    ConnectionsView *view = window->connectionsView();
    window->showView(view->viewKey());
    view->table()->selectRow(0);
    view->table()->setFocus();
    window->statusBar()->clearMessage();
    QTest::qWait(200);

    const QImage image = window->grab().toImage();
    QDir().mkpath(QFileInfo(output).absolutePath());
    const bool saved = image.save(output, "PNG");
    if (!saved)
        std::fprintf(stderr, "dashboard_screenshot: cannot write %s\n", qPrintable(output));
    else
        std::fprintf(stdout, "wrote %s (%dx%d)\n", qPrintable(output), image.width(), image.height());

    traffic.stop();
    QSignalSpy finished(window.get(), &MainWindow::shutdownFinished);
    window->requestQuit();
    finished.wait(10000);
    return saved ? 0 : 1;
}
