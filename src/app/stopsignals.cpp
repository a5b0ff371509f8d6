#include "stopsignals.h"

#include "logging.h"

#include <QSocketNotifier>

#ifdef Q_OS_UNIX
#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace {
int signalPipe[2] = {-1, -1};

// Async-signal-safe: only write(2).
void forwardSignal(int signo)
{
    const char c = char(signo);
    [[maybe_unused]] const auto n = ::write(signalPipe[1], &c, 1);
}
} // namespace
#endif

StopSignals::StopSignals(QObject *parent)
    : QObject(parent)
{
#ifdef Q_OS_UNIX
    if (signalPipe[0] < 0 && ::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) != 0) {
        qCWarning(lcServer) << "cannot set up signal handling; SIGTERM will not stop cleanly";
        return;
    }
    m_notifier = new QSocketNotifier(signalPipe[0], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &StopSignals::onReadable);
    struct sigaction action = {};
    action.sa_handler = forwardSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
#endif
}

void StopSignals::onReadable()
{
#ifdef Q_OS_UNIX
    char signo = 0;
    [[maybe_unused]] const auto n = ::read(signalPipe[0], &signo, 1);
    const QString name = signo == SIGINT ? QStringLiteral("SIGINT") : QStringLiteral("SIGTERM");
    qCInfo(lcServer) << "received" << name << "; shutting down";
    emit received(name);
#endif
}
