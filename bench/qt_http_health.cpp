// Baseline for bench/run.sh: a minimal QHttpServer answering GET /health
// with 200 {"status":"ok"}, as Switchboard does. One thread.
//
//   bench_qt_http_health [port]     (0 or nothing: a free port)
// Prints `listening http://127.0.0.1:PORT` once listening.

#include <QCoreApplication>
#include <QHostAddress>
#include <QHttpServer>
#include <QHttpServerResponse>
#include <QJsonObject>

#include <cstdio>
#include <cstdlib>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const quint16 wanted = argc > 1 ? quint16(std::atoi(argv[1])) : 0;

    QHttpServer server;
    server.route(QStringLiteral("/health"), [] {
        return QHttpServerResponse(QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}});
    });
    const quint16 port = server.listen(QHostAddress::LocalHost, wanted);
    if (port == 0) {
        std::fprintf(stderr, "bench_qt_http_health: cannot listen\n");
        return 2;
    }
    std::printf("listening http://127.0.0.1:%u\n", unsigned(port));
    std::fflush(stdout);
    return app.exec();
}
