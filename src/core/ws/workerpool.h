#pragma once

#include "serverconfig.h"

#include <QObject>
#include <QSet>
#include <QTimer>

#include <memory>
#include <vector>

class QThread;
class WebSocketSession;

// The sessions of one worker thread and their keep-alive sweep. Lives on
// that thread.
class WorkerContext : public QObject
{
    Q_OBJECT
public:
    explicit WorkerContext(const ServerLimits &limits);
    ~WorkerContext() override;

    // Takes a session created on this thread, in a place WorkerPool::reserve()
    // counted, and starts it. The place is given back when the session ends.
    void adopt(WebSocketSession *session);
    // Gives back a place reserved for a connection that did not become a session.
    void release() { m_load.fetch_sub(1, std::memory_order_relaxed); }
    void abortAll();

private:
    void sweep();

    ServerLimits m_limits;
    QSet<WebSocketSession *> m_sessions;
    QTimer m_sweepTimer;
    std::atomic<int> m_load{0};
    // Set by WorkerPool::closeNewSessions(): sessions adopted from then on
    // are closed with 1001 and this reason as soon as they start.
    std::atomic<bool> m_closeNewSessions{false};
    QString m_closeReason;
    friend class WorkerPool;
};

// N threads that carry the WebSocket connections, so neither the accept
// thread nor the GUI ever does per-message work.
class WorkerPool
{
public:
    // Each thread runs the event dispatcher of `eventLoop`.
    WorkerPool(int threads, const ServerLimits &limits, EventLoopKind eventLoop);
    ~WorkerPool(); // stops and joins the threads

    int size() const { return int(m_workers.size()); }
    WorkerContext *context(int index) const { return m_workers[size_t(index)].context; }
    // Counts a connection on the least loaded worker and returns its index;
    // the connection goes there and is adopted, or the place released.
    int reserve();
    // Connections on all workers, with those reserved and not yet adopted.
    // Lock-free, so the handshake's connection limit reads it every time.
    int connectionCount() const;
    // Shutdown: a handshake on its way to a worker is in no registry yet,
    // so closeAll() cannot reach it, and its 101 may already be out. From
    // now on every session is closed with 1001 and `reason` as soon as it
    // is adopted. Call before ConnectionRegistry::closeAll(): whatever is
    // registered after that call's snapshot is adopted after this flag.
    void closeNewSessions(const QString &reason);
    // Drops every connection at once (end of the shutdown grace period).
    void abortAll();

private:
    struct Worker
    {
        QThread *thread;
        WorkerContext *context;
    };
    std::vector<Worker> m_workers;
};
