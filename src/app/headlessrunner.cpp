#include "headlessrunner.h"

#include "logging.h"
#include "serverhost.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#include <cstdio>

#ifdef Q_OS_UNIX
#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace {
int signalPipe[2] = {-1, -1};

// Async-signal-safe: only write(2). The event loop does the rest.
void forwardSignal(int signo)
{
    const char c = char(signo);
    [[maybe_unused]] const auto n = ::write(signalPipe[1], &c, 1);
}
} // namespace
#endif

HeadlessRunner::HeadlessRunner(ServerHost *host, QObject *parent)
    : QObject(parent)
    , m_host(host)
{
}

void HeadlessRunner::start()
{
    connect(m_host, &ServerHost::started, this, [](const QList<QUrl> &urls) {
        for (const QUrl &url : urls)
            std::fprintf(stdout, "listening %s\n", qPrintable(url.toString()));
        std::fflush(stdout);
    });
    connect(m_host, &ServerHost::startFailed, this, [](const QString &error) {
        std::fprintf(stderr, "switchboard: error: %s\n", qPrintable(error));
        QCoreApplication::exit(2);
    });
    connect(m_host, &ServerHost::stopped, this, [] { QCoreApplication::exit(0); });
    installSignalHandlers();
    m_host->start();
}

void HeadlessRunner::installSignalHandlers()
{
#ifdef Q_OS_UNIX
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) != 0) {
        qCWarning(lcServer) << "cannot set up signal handling; SIGTERM will not stop cleanly";
        return;
    }
    m_signalNotifier = new QSocketNotifier(signalPipe[0], QSocketNotifier::Read, this);
    connect(m_signalNotifier, &QSocketNotifier::activated, this, &HeadlessRunner::onSignal);
    struct sigaction action = {};
    action.sa_handler = forwardSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
#endif
}

void HeadlessRunner::onSignal()
{
#ifdef Q_OS_UNIX
    char signo = 0;
    [[maybe_unused]] const auto n = ::read(signalPipe[0], &signo, 1);
    qCInfo(lcServer) << "received" << (signo == SIGINT ? "SIGINT" : "SIGTERM") << "; shutting down";
#endif
    m_host->stop();
}
