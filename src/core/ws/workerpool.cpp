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
        m_load.fetch_sub(1, std::memory_order_relaxed);
    });
    if (!m_sweepTimer.isActive())
        m_sweepTimer.start();
    session->start();
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

void WorkerPool::assign(WebSocketSession *session)
{
    Worker *best = &m_workers.front();
    for (Worker &w : m_workers) {
        if (w.context->m_load.load(std::memory_order_relaxed)
            < best->context->m_load.load(std::memory_order_relaxed))
            best = &w;
    }
    best->context->m_load.fetch_add(1, std::memory_order_relaxed);
    session->moveToThread(best->thread);
    WorkerContext *context = best->context;
    QMetaObject::invokeMethod(context, [context, session] { context->adopt(session); },
                              Qt::QueuedConnection);
}

void WorkerPool::abortAll()
{
    for (Worker &w : m_workers) {
        QMetaObject::invokeMethod(w.context, &WorkerContext::abortAll, Qt::BlockingQueuedConnection);
    }
}
