#pragma once

#include "admin/connectionregistry.h"

#include <QObject>
#include <QTimer>

// The dashboard's refresh clock over the connection registry. At a fixed rate
// (10 Hz by default) it takes one look at every open connection's counters
// (ConnectionRegistry::activity(): numbers only, no strings, into a buffer
// reused from tick to tick), which every view then reads, and the running
// totals (closed connections included) from the same pass. The server never
// waits for it and it never waits for the server: a short mutex-protected
// copy. Whoever needs a connection's full info asks the registry for the ids
// it has not seen yet.
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

    // The latest counters of every open connection, ordered by id.
    const std::vector<ConnectionActivity> &activity() const { return m_activity; }
    int connectionCount() const { return int(m_activity.size()); }
    // Messages and bytes since the server core started, closed connections included.
    const TrafficTotals &totals() const { return m_totals; }
    qint64 lastPollMs() const { return m_lastPollMs; }

signals:
    // After every tick; activity() and totals() are up to date.
    void polled();

private:
    ConnectionRegistry *m_registry;
    QTimer m_timer;
    std::vector<ConnectionActivity> m_activity;
    TrafficTotals m_totals;
    qint64 m_lastPollMs = 0;
};
