#pragma once

#include <QString>

class QThread;

// Which event dispatcher runs the server's own threads (the core thread and
// the WebSocket workers); the GUI thread always keeps Qt's. Config key
// "eventLoop" (PRODUCT.md section 1, docs/ARCHITECTURE.md).
enum class EventLoopKind {
    Epoll, // EpollEventDispatcher: a wake-up costs O(ready sockets); Linux only
    Qt,    // Qt's stock dispatcher (glib or poll()): O(open sockets) per wake-up
};

namespace EventLoop {

// The best one this platform has: epoll on Linux, Qt's elsewhere.
EventLoopKind defaultKind();
bool available(EventLoopKind kind);
QString name(EventLoopKind kind); // "epoll" | "qt"
// Parses "epoll" or "qt"; false for anything else.
bool fromName(const QString &name, EventLoopKind *kind);

// Gives `thread`, which has not started yet, the dispatcher of `kind`.
// Qt's own needs nothing: the thread creates it when it starts.
void install(QThread *thread, EventLoopKind kind);

} // namespace EventLoop
