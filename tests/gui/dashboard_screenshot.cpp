// Renders the dashboard with live clients offscreen and saves it as a PNG:
// the screenshots in docs/ are made with this program.
//
//   cmake --build build --target dashboard-screenshot
//       (runs: QT_QPA_PLATFORM=offscreen build/tests/gui/dashboard_screenshot
//              --plugins build/plugins --methods-output docs/screenshot-methods.png
//              docs/screenshot-dashboard.png)
//
//   dashboard_screenshot [--dark] [--seconds N] [--size WIDTHxHEIGHT] [--view KEY]
//                        [--plugins DIR] [--methods-output FILE.png] OUTPUT.png
//
// The server as shipped (Switchboard::create: jsonrpc, dm-rpc, the method
// catalog, the traffic log; the ratelimit plugin when --plugins points at it)
// on 127.0.0.1:8080 (any free port when taken), with real WebSocket clients
// that connect, call methods at a varying rate and leave, plus a few calls
// that are refused (a switched-off method, an unknown one, bad params, the
// rate limit) and a few handshakes that are refused. Settings and method
// switches go to a temporary directory, never the user's.

#include "testsupport.h"

#include "connectionsview.h"
#include "dashboardsettings.h"
#include "mainwindow.h"
#include "methodsview.h"
#include "rpc/catalogrpcengine.h"
#include "rpc/methodregistry.h"
#include "serverbar.h"
#include "trafficfilterproxymodel.h"
#include "trafficmodel.h"
#include "trafficview.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QDockWidget>
#include <QSplitter>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
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
    const QCommandLineOption viewOption(QStringLiteral("view"), QStringLiteral("View in front (default traffic)."),
                                        QStringLiteral("KEY"), QStringLiteral("traffic"));
    const QCommandLineOption plugins(QStringLiteral("plugins"),
                                     QStringLiteral("Validator plugins to load (the build's plugins directory)."),
                                     QStringLiteral("DIR"));
    const QCommandLineOption methodsOutput(QStringLiteral("methods-output"),
                                           QStringLiteral("Also save the Methods view to this PNG."),
                                           QStringLiteral("FILE"));
    parser.addOptions({dark, seconds, size, viewOption, plugins, methodsOutput});
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

    ServerConfig config;
    config.allowedOrigins = {QStringLiteral("https://app.example.org"), QStringLiteral("http://localhost:3000")};
    QTemporaryDir stateDir;
    config.stateFile = stateDir.filePath(QStringLiteral("methods.json"));
    if (parser.isSet(plugins)) {
        config.pluginsDir = parser.value(plugins);
        // 20 publishes a second per connection; the feed clients try more at their peaks.
        config.validatorSettings = QJsonObject{
            {QStringLiteral("ratelimit"),
             QJsonObject{{QStringLiteral("callsPerSecond"), 20}, {QStringLiteral("burst"), 20},
                         {QStringLiteral("methods"), QJsonArray{QStringLiteral("publish")}}}}};
    }
    DashboardSettings settings(stateDir.filePath(QStringLiteral("dashboard.ini")));

    std::unique_ptr<Switchboard> server;
    std::unique_ptr<MainWindow> window;
    for (int port : {8080, 0}) {
        config.port = port;
        window.reset();
        server.reset();
        QString error;
        server = Switchboard::create(config, &error);
        if (!server) {
            std::fprintf(stderr, "dashboard_screenshot: %s\n", qPrintable(error));
            return 1;
        }
        window = std::make_unique<MainWindow>(server.get(), &settings);
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
    // A method switched off from the dashboard's own switch: its calls are refused.
    server->engine()->methods()->setEnabled(QStringLiteral("rpc.discover"), false);
    QUrl base = server->host()->listeners().value(0);
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
    traffic.setInterval(100); // a pace whose rows can be read
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
                const qint64 n = messageId;
                QByteArray text;
                if (client->subprotocol() == QLatin1String("dm-rpc")) {
                    text = n % 3 ? QByteArray("[\"sum\",[") + QByteArray::number(n % 97) + ",2,3]," + QByteArray::number(n) + "]"
                                 : QByteArray("[\"time\",null,") + QByteArray::number(n) + "]";
                } else {
                    QJsonObject request{{"jsonrpc", "2.0"}, {"id", n}};
                    const QString path = QString::fromLatin1(plan.path);
                    if (path == QLatin1String("/feed") && n % 6 == 0) {
                        request.insert("method", "publish");
                        request.insert("params", QJsonObject{{"topic", "prices"},
                                                             {"data", QJsonObject{{"symbol", n % 2 ? "ACME" : "GLOBEX"},
                                                                                  {"bid", 100 + (n % 37) / 4.0},
                                                                                  {"size", int(n % 9 + 1) * 100}}}});
                    } else if (n % 41 == 0) {
                        request.insert("method", "rpc.discover"); // switched off
                    } else if (n % 53 == 0) {
                        request.insert("method", "reports.generate"); // no such method
                    } else if (n % 47 == 0) {
                        request.insert("method", "sum");
                        request.insert("params", QJsonArray{1, "two", 3}); // invalid params
                    } else if (n % 5 == 0) {
                        request.insert("method", "time");
                    } else if (n % 2) {
                        request.insert("method", "echo");
                        request.insert("params", QJsonObject{{"seq", n}, {"text", "hello"}});
                    } else {
                        request.insert("method", "sum");
                        request.insert("params", QJsonArray{n % 97, 2, 3});
                    }
                    text = QJsonDocument(request).toJson(QJsonDocument::Compact);
                }
                client->sendTextMessage(QString::fromUtf8(text));
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

    window->statusBar()->clearMessage();
    // The chart low, the tables tall.
    if (auto *rates = window->findChild<QDockWidget *>(QStringLiteral("ratesDock")))
        window->resizeDocks({rates}, {190}, Qt::Vertical);
    if (auto *splitter = window->trafficView()->findChild<QSplitter *>(QStringLiteral("splitter")))
        splitter->setSizes({300, 200});
    const QString front = parser.value(viewOption);
    window->showView(front);
    if (front == QLatin1String("connections")) {
        window->connectionsView()->table()->selectRow(0);
        window->connectionsView()->table()->setFocus();
    }
    QTest::qWait(300);
    if (front == QLatin1String("traffic")) {
        // A recent request with a reply, selected: the pair and its JSON show.
        TrafficView *view = window->trafficView();
        TrafficFilterProxyModel *proxy = view->proxyModel();
        for (int row = proxy->rowCount() - 8; row >= 0; --row) {
            const QModelIndex index = proxy->index(row, TrafficModel::Method);
            if (index.data().toString() == QLatin1String("echo")
                && index.siblingAtColumn(TrafficModel::Kind).data().toString() == QLatin1String("request")
                && index.data(TrafficModel::LinkedEventIdRole).toULongLong()) {
                view->selectEvent(index.data(TrafficModel::EventIdRole).toULongLong());
                break;
            }
        }
        view->pauseAction()->setChecked(true); // hold still for the shot
        view->table()->setFocus();
    }
    QTest::qWait(200);

    const QImage image = window->grab().toImage();
    QDir().mkpath(QFileInfo(output).absolutePath());
    bool saved = image.save(output, "PNG");
    if (!saved)
        std::fprintf(stderr, "dashboard_screenshot: cannot write %s\n", qPrintable(output));
    else
        std::fprintf(stdout, "wrote %s (%dx%d)\n", qPrintable(output), image.width(), image.height());

    if (parser.isSet(methodsOutput)) {
        const QString file = parser.value(methodsOutput);
        window->showView(QStringLiteral("methods"));
        window->methodsView()->table()->selectRow(0);
        QTest::qWait(300);
        const QImage methods = window->grab().toImage();
        QDir().mkpath(QFileInfo(file).absolutePath());
        if (methods.save(file, "PNG")) {
            std::fprintf(stdout, "wrote %s (%dx%d)\n", qPrintable(file), methods.width(), methods.height());
        } else {
            std::fprintf(stderr, "dashboard_screenshot: cannot write %s\n", qPrintable(file));
            saved = false;
        }
    }

    traffic.stop();
    QSignalSpy finished(window.get(), &MainWindow::shutdownFinished);
    window->requestQuit();
    finished.wait(10000);
    return saved ? 0 : 1;
}
