#include "commandline.h"

#include <QCommandLineParser>
#include <QCoreApplication>

namespace {

bool parsePort(const QString &text, const QString &flag, int *out, QString *error)
{
    bool ok = false;
    const int port = text.toInt(&ok);
    if (!ok || port < 0 || port > 65535) {
        *error = QStringLiteral("%1 must be a port number from 0 to 65535, not \"%2\"").arg(flag, text);
        return false;
    }
    *out = port;
    return true;
}

} // namespace

CommandLine CommandLine::parse(const QStringList &arguments)
{
    CommandLine result;
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Switchboard: a WebSocket RPC server you can see into. HTTP and WebSocket share one port."));
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const QCommandLineOption headless("headless", "Run without a window; logs go to stderr.");
    const QCommandLineOption host("host", "Address to listen on (default 127.0.0.1).", "ADDR");
    const QCommandLineOption port("port", "Port for HTTP and WebSocket (default 8080; 0 picks a free one).", "N");
    const QCommandLineOption wsPort("ws-port", "Serve WebSocket on its own port M instead.", "M");
    const QCommandLineOption config("config", "JSON config file; flags override it.", "FILE");
    const QCommandLineOption catalog("catalog", "Method catalog JSON file (default: the bundled one).", "FILE");
    const QCommandLineOption plugins("plugins", "Directory of validator plugins to load.", "DIR");
    const QCommandLineOption token("token", "Admin token for /api/* (required beyond loopback).", "T");
    const QCommandLineOption clientToken("client-token", "Token every WebSocket handshake must carry.", "C");
    parser.addOptions({headless, host, port, wsPort, config, catalog, plugins, token, clientToken});

    if (!parser.parse(arguments)) {
        result.action = Action::Fail;
        result.error = parser.errorText();
        return result;
    }
    if (parser.isSet(helpOption)) {
        result.action = Action::PrintAndExit;
        result.output = parser.helpText();
        return result;
    }
    if (parser.isSet(versionOption)) {
        result.action = Action::PrintAndExit;
        result.output = QStringLiteral("%1 %2\n").arg(QCoreApplication::applicationName(),
                                                      QCoreApplication::applicationVersion());
        return result;
    }
    if (!parser.positionalArguments().isEmpty()) {
        result.action = Action::Fail;
        result.error = QStringLiteral("unexpected argument \"%1\"").arg(parser.positionalArguments().first());
        return result;
    }

    result.headless = parser.isSet(headless);
    ServerConfig &cfg = result.config;
    QString error;
    if (parser.isSet(config) && !cfg.loadFile(parser.value(config), &error)) {
        result.action = Action::Fail;
        result.error = error;
        return result;
    }
    if (parser.isSet(host))
        cfg.host = parser.value(host);
    if ((parser.isSet(port) && !parsePort(parser.value(port), "--port", &cfg.port, &error))
        || (parser.isSet(wsPort) && !parsePort(parser.value(wsPort), "--ws-port", &cfg.wsPort, &error))) {
        result.action = Action::Fail;
        result.error = error;
        return result;
    }
    if (parser.isSet(catalog))
        cfg.catalogFile = parser.value(catalog);
    if (parser.isSet(plugins))
        cfg.pluginsDir = parser.value(plugins);
    if (parser.isSet(token))
        cfg.adminToken = parser.value(token);
    if (parser.isSet(clientToken))
        cfg.clientToken = parser.value(clientToken);

    if (!cfg.validate(&error)) {
        result.action = Action::Fail;
        result.error = error;
    }
    return result;
}
