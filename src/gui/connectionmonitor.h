#pragma once

#include "admin/connectionregistry.h"

#include <QList>
#include <QObject>
#include <QTimer>

// The dashboard's refresh clock over the connection registry. At a fixed rate
// (10 Hz by default) it takes one snapshot, which every view then reads, and
// the registry's running totals (closed connections included). The server
// never waits for it and it never waits for the server: both are short
// mutex-protected copies.
//
// Models that need the same clock (refused handshakes, and in phase 2 the
// traffic log) read from the core in their slot on polled().
class ConnectionMonitor : public QObject
{
    Q_OBJECT
public:
    static constexpr int DefaultIntervalMs = 100;

    explicit ConnectionMonitor(ConnectionRegistry *registry, QObject *parent = nullptr);

    ConnectionRegistry *registry() const { return m_registry; }

    void setInterval(int milliseconds);
    int interval() const { return m_timer.interval(); }
    void start();
    void stop();
    bool isActive() const { return m_timer.isActive(); }

    // One tick now (also what the timer calls).
    void poll();

    // The latest snapshot, ordered by connection id.
    const QList<ConnectionInfo> &connections() const { return m_connections; }
    // Messages and bytes since the server core started, closed connections included.
    const TrafficTotals &totals() const { return m_totals; }
    qint64 lastPollMs() const { return m_lastPollMs; }

signals:
    // After every tick; connections() and totals() are up to date.
    void polled();

private:
    ConnectionRegistry *m_registry;
    QTimer m_timer;
    QList<ConnectionInfo> m_connections;
    TrafficTotals m_totals;
    qint64 m_lastPollMs = 0;
};
