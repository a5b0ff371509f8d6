#include "commandline.h"
#include "front/descriptorlimit.h"
#include "headlessrunner.h"
#include "serverhost.h"
#include "stopsignals.h"
#include "switchboard.h"

#ifdef SWITCHBOARD_WITH_GUI
#include "dashboardsettings.h"
#include "mainwindow.h"

#include <QApplication>
#endif

#include <QCoreApplication>

#include <cstdio>
#include <memory>

namespace {

// Whether this run opens the window. Decided from argv before any application
// object exists: --headless, --help, --version and command-line errors then
// get a QCoreApplication and need no display.
bool opensWindow(int argc, char *argv[])
{
#ifdef SWITCHBOARD_WITH_GUI
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    const CommandLine cli = CommandLine::parse(arguments);
    return cli.action == CommandLine::Action::Run && !cli.headless;
#else
    Q_UNUSED(argc);
    Q_UNUSED(argv);
    return false;
#endif
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication::setApplicationName(QStringLiteral("switchboard"));
    QCoreApplication::setOrganizationName(QStringLiteral("Switchboard"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SWITCHBOARD_VERSION));
    qSetMessagePattern(QStringLiteral("%{time yyyy-MM-ddThh:mm:ss.zzz} %{if-category}%{category} %{endif}%{type}: %{message}"));

    const bool window = opensWindow(argc, argv);
    std::unique_ptr<QCoreApplication> app;
#ifdef SWITCHBOARD_WITH_GUI
    if (window) {
        app = std::make_unique<QApplication>(argc, argv);
        // Matches the window to its menu entry and icon (Wayland, task bars).
        QGuiApplication::setDesktopFileName(QStringLiteral("io.github.switchboard.Switchboard"));
    }
#endif
    if (!app)
        app = std::make_unique<QCoreApplication>(argc, argv);

    const CommandLine cli = CommandLine::parse(app->arguments());
    switch (cli.action) {
    case CommandLine::Action::PrintAndExit:
        std::fputs(qPrintable(cli.output), stdout);
        return 0;
    case CommandLine::Action::Fail:
        std::fprintf(stderr, "switchboard: error: %s\n", qPrintable(cli.error));
        return 2;
    case CommandLine::Action::Run:
        break;
    }

    // Every connection costs a descriptor; the usual soft limit (1024) is far
    // below what the default connection and pending-socket limits allow.
    raiseDescriptorLimit();

    // The server as shipped: RPC engine, traffic log, bundled subprotocols,
    // admin API. A bad catalog or plugin stops here with exit 2.
    QString error;
    const std::unique_ptr<Switchboard> server = Switchboard::create(cli.config, &error);
    if (!server) {
        std::fprintf(stderr, "switchboard: error: %s\n", qPrintable(error));
        return 2;
    }
    ServerHost &host = *server->host();

#ifdef SWITCHBOARD_WITH_GUI
    if (window) {
        QApplication::setQuitOnLastWindowClosed(false); // quit once the server has stopped
        QObject::connect(&host, &ServerHost::startFailed, [](const QString &error) {
            std::fprintf(stderr, "switchboard: error: %s\n", qPrintable(error));
        });
        DashboardSettings settings;
        MainWindow mainWindow(server.get(), &settings);
        QObject::connect(&mainWindow, &MainWindow::shutdownFinished, app.get(), &QCoreApplication::quit,
                         Qt::QueuedConnection);
        // SIGTERM (logout, a service manager) and Ctrl+C quit like the Quit action.
        StopSignals stopSignals;
        QObject::connect(&stopSignals, &StopSignals::received, &mainWindow, &MainWindow::requestQuit);
        mainWindow.show();
        mainWindow.startServer();
        return app->exec();
    }
#else
    if (!cli.headless)
        std::fputs("switchboard: built without the dashboard; running headless\n", stderr);
#endif

    HeadlessRunner runner(&host);
    runner.start();
    return app->exec();
}
