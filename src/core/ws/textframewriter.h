#pragma once

#include <QByteArray>
#include <QtGlobal>

class QTcpSocket;

// Writes a server's text messages (RFC 6455 section 5.2: unmasked frames) to
// the TCP socket under a QWebSocket, in place of QWebSocket::sendTextMessage().
//
// Why: every QAbstractSocket::write() on a buffered socket turns the socket's
// write notifier on, and the flush on the next event-loop pass turns it off;
// with the GLib event loop each toggle wakes the loop through its eventfd.
// For a request/response connection that is two of the five syscalls and
// one of the loop passes per reply (docs/PERFORMANCE.md). So when nothing is
// queued in Qt's buffer and no unread request of the connection waits in it,
// the frame goes straight to the kernel with one sendmsg(). What the kernel
// does not take, and every frame while something is queued or while more
// requests are buffered (their replies then leave together in one write),
// is appended to the socket's buffer, behind what is queued: frames reach
// the wire in the order of the calls, and QWebSocket's own frames (pong,
// close) still go through Qt's buffer.
//
// TLS sockets and platforms without MSG_NOSIGNAL always take Qt's path.
class TextFrameWriter
{
public:
    // Messages longer than this are split into frames of this size, as
    // QWebSocket does by default (its outgoingFrameSize()).
    static constexpr qsizetype MaxFramePayload = 512 * 1024;

    // `socket` is the TCP socket under the QWebSocket (not owned).
    explicit TextFrameWriter(QTcpSocket *socket);

    QTcpSocket *socket() const { return m_socket; }

    // Writes `utf8` as one text message.
    void write(const QByteArray &utf8);

    // The header (2, 4 or 10 bytes, the shortest length encoding) of an
    // unmasked frame; returns its size.
    static int header(quint8 opcode, bool final, quint64 payloadSize, char (&out)[10]);

private:
    // Straight to the kernel; returns the bytes it took (0 on EAGAIN or an
    // error: Qt's own write then meets the same error and ends the connection).
    qint64 sendNow(const char *head, int headSize, const QByteArray &payload);

    QTcpSocket *m_socket;
    bool m_direct; // plain TCP on a platform with MSG_NOSIGNAL
};
