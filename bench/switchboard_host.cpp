// Switchboard as shipped (Switchboard::create: method engine, traffic log,
// jsonrpc + dm-rpc, admin API) behind the headless runner and the real
// command line, built from src/app's sources. bench/run.sh measures the
// `switchboard` binary itself and falls back to this host only when that
// binary does not negotiate `jsonrpc` (the run output says which one).
//
// For experiments only (never set by bench/run.sh's comparisons):
// SWITCHBOARD_BENCH_TRAFFIC_LOG=0 starts with the traffic log switched off,
// to measure what the log costs per message.

#include "commandline.h"
#include "front/descriptorlimit.h"
#include "headlessrunner.h"
#include "serverhost.h"
#include "switchboard.h"
#include "admin/trafficlog.h"

#include <QCoreApplication>

#include <cstdio>

int main(int argc, char *argv[])
{
    // Same names as src/app/main.cpp: the method switches persist in the same place.
    QCoreApplication::setApplicationName(QStringLiteral("switchboard"));
    QCoreApplication::setOrganizationName(QStringLiteral("Switchboard"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SWITCHBOARD_VERSION));
    QCoreApplication app(argc, argv);

    const CommandLine cli = CommandLine::parse(app.arguments());
    if (cli.action == CommandLine::Action::PrintAndExit) {
        std::fputs(qPrintable(cli.output), stdout);
        return 0;
    }
    if (cli.action == CommandLine::Action::Fail) {
        std::fprintf(stderr, "switchboard: error: %s\n", qPrintable(cli.error));
        return 2;
    }
    raiseDescriptorLimit(); // as src/app/main.cpp does
    QString error;
    const std::unique_ptr<Switchboard> switchboard = Switchboard::create(cli.config, &error);
    if (!switchboard) {
        std::fprintf(stderr, "switchboard: error: %s\n", qPrintable(error));
        return 2;
    }
    if (qEnvironmentVariable("SWITCHBOARD_BENCH_TRAFFIC_LOG") == QLatin1String("0"))
        switchboard->traffic()->setEnabled(false);
    HeadlessRunner runner(switchboard->host());
    runner.start();
    return app.exec();
}
