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

    // Takes a session that has just been moved to this thread and starts it.
    void adopt(WebSocketSession *session);
    void abortAll();
    int sessionCount() const { return m_load.load(std::memory_order_relaxed); }

private:
    void sweep();

    ServerLimits m_limits;
    QSet<WebSocketSession *> m_sessions;
    QTimer m_sweepTimer;
    std::atomic<int> m_load{0};
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
    // Moves `session` (which must have no parent) to the least loaded worker
    // and starts it there.
    void assign(WebSocketSession *session);
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
