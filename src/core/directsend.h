#pragma once

#include <QtGlobal>

class QTcpSocket;

// Writing straight to the kernel, past Qt's socket buffer: one send() where
// QTcpSocket::write() would enable its write notifier, wait for the next
// pass of the event loop and disable it again (two eventfd wake-ups of the
// GLib loop per message; docs/PERFORMANCE.md). Only for plain TCP on a
// platform with MSG_NOSIGNAL, and only when nothing is queued in Qt's buffer
// (the bytes would overtake it); callers write what was not taken through
// Qt as usual.
namespace DirectSend {

// Whether `socket` can be written to directly at all (plain TCP here).
bool supported(const QTcpSocket *socket);

// Sends `first` then `second` (may be empty) with one sendmsg(); returns the
// bytes the kernel took: 0 on EAGAIN or an error (Qt's own write then meets
// the same error and ends the connection).
qint64 send(QTcpSocket *socket, const char *first, qsizetype firstSize, const char *second = nullptr,
            qsizetype secondSize = 0);

} // namespace DirectSend
