// Baseline for bench/run.sh: the smallest sensible Qt 6 JSON-RPC echo server.
// One thread, one QWebSocketServer negotiating the `jsonrpc` subprotocol;
// every text message is parsed with QJsonDocument and answered with
// {"jsonrpc":"2.0","result":params,"id":id}. No validation, no logging.
//
//   bench_qt_ws_echo [port]     (0 or nothing: a free port)
// Prints `listening http://127.0.0.1:PORT` once listening.

#include <QCoreApplication>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QWebSocket>
#include <QWebSocketServer>

#include <cstdio>
#include <cstdlib>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const quint16 port = argc > 1 ? quint16(std::atoi(argv[1])) : 0;

    QWebSocketServer server(QStringLiteral("bench-echo"), QWebSocketServer::NonSecureMode);
    server.setSupportedSubprotocols({QStringLiteral("jsonrpc")});
    server.setMaxPendingConnections(1 << 20); // 10,000 idle connections arrive in bursts
    QObject::connect(&server, &QWebSocketServer::newConnection, &server, [&server] {
        while (QWebSocket *ws = server.nextPendingConnection()) {
            QObject::connect(ws, &QWebSocket::textMessageReceived, ws, [ws](const QString &message) {
                const QJsonObject request = QJsonDocument::fromJson(message.toUtf8()).object();
                const QJsonObject reply{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                                        {QStringLiteral("result"), request.value(QLatin1String("params"))},
                                        {QStringLiteral("id"), request.value(QLatin1String("id"))}};
                ws->sendTextMessage(QString::fromUtf8(QJsonDocument(reply).toJson(QJsonDocument::Compact)));
            });
            QObject::connect(ws, &QWebSocket::disconnected, ws, &QObject::deleteLater);
        }
    });
    if (!server.listen(QHostAddress::LocalHost, port)) {
        std::fprintf(stderr, "bench_qt_ws_echo: cannot listen: %s\n", qPrintable(server.errorString()));
        return 2;
    }
    std::printf("listening http://127.0.0.1:%u\n", unsigned(server.serverPort()));
    std::fflush(stdout);
    return app.exec();
}
