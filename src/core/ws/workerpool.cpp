#include "ws/workerpool.h"

#include "ws/websocketsession.h"

#include <QDateTime>
#include <QThread>

WorkerContext::WorkerContext(const ServerLimits &limits)
    : m_limits(limits)
{
    // Sweep often enough that a dead peer is dropped within about
    // pingTimeout + a quarter of it, but never more than 4 times a second.
    m_sweepTimer.setParent(this);
    m_sweepTimer.setInterval(qBound(250, qMin(limits.pingIntervalMs, limits.pingTimeoutMs) / 4, 5000));
    connect(&m_sweepTimer, &QTimer::timeout, this, &WorkerContext::sweep);
}

WorkerContext::~WorkerContext()
{
    // Sessions still open (shutdown timed out) must not call back into us.
    for (WebSocketSession *s : std::as_const(m_sessions))
        s->setFinishedHandler({});
}

void WorkerContext::adopt(WebSocketSession *session)
{
    m_sessions.insert(session);
    session->setFinishedHandler([this](WebSocketSession *s) {
        m_sessions.remove(s);
        release();
    });
    if (!m_sweepTimer.isActive())
        m_sweepTimer.start();
    session->start();
    if (m_closeNewSessions.load(std::memory_order_acquire))
        session->close(QWebSocketProtocol::CloseCodeGoingAway, m_closeReason);
}

void WorkerContext::sweep()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    // keepAlive() may abort a session, which removes it from m_sessions.
    const QList<WebSocketSession *> sessions = m_sessions.values();
    for (WebSocketSession *s : sessions)
        s->keepAlive(now, m_limits.pingIntervalMs, m_limits.pingTimeoutMs);
    if (m_sessions.isEmpty())
        m_sweepTimer.stop();
}

void WorkerContext::abortAll()
{
    const QList<WebSocketSession *> sessions = m_sessions.values();
    for (WebSocketSession *s : sessions)
        s->abort();
}

WorkerPool::WorkerPool(int threads, const ServerLimits &limits, EventLoopKind eventLoop)
{
    for (int i = 0; i < qMax(1, threads); ++i) {
        auto *thread = new QThread;
        thread->setObjectName(QStringLiteral("switchboard-worker-%1").arg(i));
        EventLoop::install(thread, eventLoop);
        auto *context = new WorkerContext(limits);
        context->moveToThread(thread);
        thread->start();
        m_workers.push_back(Worker{thread, context});
    }
}

WorkerPool::~WorkerPool()
{
    for (Worker &w : m_workers) {
        // Timers must die on their own thread.
        QMetaObject::invokeMethod(w.context, [context = w.context] { delete context; },
                                  Qt::BlockingQueuedConnection);
        w.thread->quit();
        w.thread->wait();
        delete w.thread;
    }
}

int WorkerPool::reserve()
{
    size_t best = 0;
    for (size_t i = 1; i < m_workers.size(); ++i) {
        if (m_workers[i].context->m_load.load(std::memory_order_relaxed)
            < m_workers[best].context->m_load.load(std::memory_order_relaxed))
            best = i;
    }
    m_workers[best].context->m_load.fetch_add(1, std::memory_order_relaxed);
    return int(best);
}

int WorkerPool::connectionCount() const
{
    int n = 0;
    for (const Worker &w : m_workers)
        n += w.context->m_load.load(std::memory_order_relaxed);
    return n;
}

void WorkerPool::closeNewSessions(const QString &reason)
{
    for (Worker &w : m_workers) {
        w.context->m_closeReason = reason; // read only after the flag below
        w.context->m_closeNewSessions.store(true, std::memory_order_seq_cst);
    }
}

void WorkerPool::abortAll()
{
    for (Worker &w : m_workers) {
        QMetaObject::invokeMethod(w.context, &WorkerContext::abortAll, Qt::BlockingQueuedConnection);
    }
}
