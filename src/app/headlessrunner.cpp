#include "headlessrunner.h"

#include "serverhost.h"
#include "stopsignals.h"

#include <QCoreApplication>

#include <cstdio>

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
    connect(new StopSignals(this), &StopSignals::received, m_host, &ServerHost::stop);
    m_host->start();
}
