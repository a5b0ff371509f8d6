#include "connectionmonitor.h"

#include <QDateTime>

ConnectionMonitor::ConnectionMonitor(ConnectionRegistry *registry, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
{
    m_timer.setInterval(DefaultIntervalMs);
    m_timer.setTimerType(Qt::CoarseTimer);
    connect(&m_timer, &QTimer::timeout, this, &ConnectionMonitor::poll);
}

void ConnectionMonitor::setInterval(int milliseconds)
{
    m_timer.setInterval(milliseconds);
}

void ConnectionMonitor::start()
{
    m_timer.start();
}

void ConnectionMonitor::stop()
{
    m_timer.stop();
}

void ConnectionMonitor::poll()
{
    m_totals = m_registry->activity(m_activity);
    m_lastPollMs = QDateTime::currentMSecsSinceEpoch();
    emit polled();
}
