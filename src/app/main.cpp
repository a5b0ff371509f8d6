#include "commandline.h"
#include "headlessrunner.h"
#include "serverhost.h"
#include "subprotocolregistry.h"

#include <QCoreApplication>

#include <cstdio>
#include <memory>

int main(int argc, char *argv[])
{
    QCoreApplication::setApplicationName(QStringLiteral("switchboard"));
    QCoreApplication::setOrganizationName(QStringLiteral("Switchboard"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SWITCHBOARD_VERSION));
    qSetMessagePattern(QStringLiteral("%{time yyyy-MM-ddThh:mm:ss.zzz} %{if-category}%{category} %{endif}%{type}: %{message}"));

    QCoreApplication app(argc, argv);
    const CommandLine cli = CommandLine::parse(app.arguments());
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

    auto subprotocols = std::make_shared<SubprotocolRegistry>();
    ServerHost host(cli.config, subprotocols);
    HeadlessRunner runner(&host);
    runner.start();
    return app.exec();
}
