#pragma once

#include "admin/connectionregistry.h"
#include "ws/subprotocol.h"
#include "ws/textframewriter.h"

#include <QObject>

#include <functional>
#include <memory>

class QTcpSocket;
class QWebSocket;
class Subprotocol;

// One accepted WebSocket connection on its worker thread: owns the QWebSocket
// (which owns the TCP socket), the subprotocol session and the counters, and
// is the ConnectionLink its session talks back through. QWebSocket reads the
// frames and writes the control frames; the session's text messages are
// written by a TextFrameWriter on the TCP socket underneath.
class WebSocketSession : public QObject, public ConnectionLink
{
    Q_OBJECT
public:
    // `tcp` is the socket under `socket`, which owns it.
    WebSocketSession(QWebSocket *socket, QTcpSocket *tcp, ConnectionInfo info,
                     std::shared_ptr<Subprotocol> protocol, ConnectionRegistry *registry,
                     qint64 maxOutgoingBytes);
    ~WebSocketSession() override;

    // Runs on the worker thread once the session has been moved there.
    void start();

    quint64 connectionId() const override { return m_info.id; }
    QString subprotocol() const override { return m_info.subprotocol; }
    QString path() const override { return m_info.path; }
    QString peer() const override { return m_info.peer(); }
    QString origin() const override { return m_info.origin; }
    void sendText(const QByteArray &utf8) override;
    void close(QWebSocketProtocol::CloseCode code, const QString &reason) override;
    // Any close code, also an application's 4000-4999: QWebSocketProtocol's
    // enum cannot hold those, so the code stays a number up to Qt's call.
    void closeWithCode(quint16 code, const QString &reason);
    void pushNotification(const QString &method, const QByteArray &paramsJson);
    // Drops the connection without a closing handshake (dead peer, shutdown timeout).
    void abort();

    // Keep-alive bookkeeping, driven by the worker's sweep timer; also
    // frees the read buffer of a connection that has been quiet for
    // ReleaseReadBufferAfterMs. Returns false when the peer is dead and the
    // session was aborted.
    bool keepAlive(qint64 nowMs, int pingIntervalMs, int pingTimeoutMs);
    static constexpr int ReleaseReadBufferAfterMs = 1000;

    // Once a message has been read, Qt keeps the socket's 16 KiB read-buffer
    // chunk, empty, for the next one (QRingBuffer keeps one block for
    // reuse), and its first page stays resident: for an idle connection the
    // largest single allocation. Reading everything buffered with read(n)
    // hands the chunk to the returned QByteArray instead, so a byte put back
    // and read again frees it; the next frame that arrives allocates a new
    // one. With data buffered, nothing is done.
    static void releaseEmptyReadBuffer(QTcpSocket *socket);

    // Read by ConnectionRegistry from any thread: the info never changes
    // after construction, the counters are atomics, and the session leaves
    // the registry before it is destroyed.
    const ConnectionInfo &info() const { return m_info; }
    const ConnectionStats &stats() const { return m_stats; }

    // Called once when the connection has ended, just before deleteLater().
    // A callback rather than a signal: a connection per session costs about
    // 300 bytes of every idle connection's memory (docs/PERFORMANCE.md).
    void setFinishedHandler(std::function<void(WebSocketSession *)> handler)
    {
        m_finishedHandler = std::move(handler);
    }

private:
    void onText(const QString &message);
    void onBinary(const QByteArray &message);
    void onDisconnected();
    void touch(qint64 nowMs);
    ProtocolSession &protocolSession();
    void dropSlowConsumer();

    QWebSocket *m_socket;
    TextFrameWriter m_writer;
    ConnectionInfo m_info;
    std::shared_ptr<Subprotocol> m_protocol;
    std::unique_ptr<ProtocolSession> m_session; // made on first use: protocolSession()
    ConnectionRegistry *m_registry;
    ConnectionStats m_stats;
    std::function<void(WebSocketSession *)> m_finishedHandler;
    qint64 m_pingSentMs = -1; // -1: no ping outstanding
    bool m_started = false;
    bool m_closing = false;   // a close frame was sent or received (or the socket was closed)
    bool m_dropped = false;   // abort(): ended without a close handshake
    bool m_finished = false;
    bool m_readBufferHeld = false; // something was read since the read buffer was last released
    qint64 m_maxOutgoingBytes;
    QString m_slowConsumerReason; // set: the server closed it for not reading
    // Messages that arrived on the worker before start() ran (see the constructor).
    QList<QPair<bool, QByteArray>> m_early; // (binary, payload)
};
