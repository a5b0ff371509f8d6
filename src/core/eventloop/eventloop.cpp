#include "eventloop/eventloop.h"

#include "eventloop/epolleventdispatcher.h"

#include <QThread>

EventLoopKind EventLoop::defaultKind()
{
    return available(EventLoopKind::Epoll) ? EventLoopKind::Epoll : EventLoopKind::Qt;
}

bool EventLoop::available(EventLoopKind kind)
{
#ifdef Q_OS_LINUX
    Q_UNUSED(kind);
    return true;
#else
    return kind == EventLoopKind::Qt;
#endif
}

QString EventLoop::name(EventLoopKind kind)
{
    return kind == EventLoopKind::Epoll ? QStringLiteral("epoll") : QStringLiteral("qt");
}

bool EventLoop::fromName(const QString &name, EventLoopKind *kind)
{
    if (name == QLatin1String("epoll"))
        *kind = EventLoopKind::Epoll;
    else if (name == QLatin1String("qt"))
        *kind = EventLoopKind::Qt;
    else
        return false;
    return true;
}

void EventLoop::install(QThread *thread, EventLoopKind kind)
{
#ifdef Q_OS_LINUX
    if (kind == EventLoopKind::Epoll)
        thread->setEventDispatcher(new EpollEventDispatcher);
#else
    Q_UNUSED(thread);
    Q_UNUSED(kind);
#endif
}
