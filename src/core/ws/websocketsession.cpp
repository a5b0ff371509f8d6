#include "ws/websocketsession.h"

#include "logging.h"

#include <QDateTime>
#include <QTcpSocket>
#include <QTimer>
#include <QWebSocket>

namespace {
// RFC 6455 section 5.5: a control frame payload is at most 125 bytes, two of
// which carry the close code.
QString clampCloseReason(const QString &reason)
{
    QByteArray utf8 = reason.toUtf8();
    if (utf8.size() <= 123)
        return reason;
    utf8.truncate(123);
    // Do not cut a multi-byte sequence in half.
    while (!utf8.isEmpty() && (static_cast<unsigned char>(utf8.back()) & 0xC0) == 0x80)
        utf8.chop(1);
    if (!utf8.isEmpty() && (static_cast<unsigned char>(utf8.back()) & 0x80))
        utf8.chop(1);
    return QString::fromUtf8(utf8);
}
} // namespace

WebSocketSession::WebSocketSession(QWebSocket *socket, QTcpSocket *tcp, ConnectionInfo info,
                                   std::shared_ptr<Subprotocol> protocol, ConnectionRegistry *registry,
                                   qint64 maxOutgoingBytes)
    : m_socket(socket)
    , m_writer(tcp)
    , m_info(std::move(info))
    , m_protocol(std::move(protocol))
    , m_registry(registry)
    , m_maxOutgoingBytes(maxOutgoingBytes)
{
    m_socket->setParent(this);
    m_stats.lastActivityMs.store(m_info.connectedAt.toMSecsSinceEpoch(), std::memory_order_relaxed);
    // Connected here, before the move to the worker, and not in start():
    // the worker thread may service the socket (write the 101, read the
    // client's first message) before the queued start() runs, and a message
    // signal with nothing connected is lost for good (a client's first
    // message, sent the moment the 101 arrived, vanished now and then:
    // tst_workers, firstMessageRightAfterTheHandshake). Until start(), the
    // handlers keep what arrives and start() replays it.
    connect(m_socket, &QWebSocket::textMessageReceived, this, &WebSocketSession::onText);
    connect(m_socket, &QWebSocket::binaryMessageReceived, this, &WebSocketSession::onBinary);
    // QWebSocket emits aboutToClose when it sends a close frame (also in
    // answer to the peer's) and when its TCP socket is closed on purpose;
    // not when the peer just disappears.
    connect(m_socket, &QWebSocket::aboutToClose, this, [this] { m_closing = true; });
}

WebSocketSession::~WebSocketSession()
{
    // The registry points to live sessions: never leave one behind, even
    // when a session is destroyed without having seen its end.
    if (!m_finished)
        m_registry->remove(m_info.id, int(QWebSocketProtocol::CloseCodeAbnormalDisconnection), QString());
    // The protocol session may still talk to the link while it is destroyed.
    m_session.reset();
}

void WebSocketSession::start()
{
    connect(m_socket, &QWebSocket::disconnected, this, &WebSocketSession::onDisconnected);
    connect(m_socket, &QWebSocket::pong, this, [this] {
        m_pingSentMs = -1;
        touch(QDateTime::currentMSecsSinceEpoch());
    });
    m_started = true;
    qCDebug(lcWebSocket) << "connection" << m_info.id << "open" << m_info.peer() << m_info.subprotocol;
    for (const auto &[binary, payload] : std::exchange(m_early, {})) {
        if (binary)
            onBinary(payload);
        else
            onText(QString::fromUtf8(payload));
    }
    // The socket may have been closed before the session reached its thread.
    if (m_socket->state() != QAbstractSocket::ConnectedState)
        onDisconnected();
}

ProtocolSession &WebSocketSession::protocolSession()
{
    // Made when the first message or push needs it, not at the 101: most of
    // an idle connection's bytes are Qt's, and this one can wait.
    if (!m_session)
        m_session = m_protocol->createSession(*this);
    return *m_session;
}

void WebSocketSession::touch(qint64 nowMs)
{
    m_stats.lastActivityMs.store(nowMs, std::memory_order_relaxed);
    m_readBufferHeld = true;
}

void WebSocketSession::releaseEmptyReadBuffer(QTcpSocket *socket)
{
    // A socket on its way out (its disconnected() not handled yet) is left
    // alone: reading a closed device only warns.
    if (socket->state() != QAbstractSocket::ConnectedState || socket->bytesAvailable() != 0
        || socket->isTransactionStarted())
        return;
    socket->ungetChar('\0');
    (void)socket->read(1);
}

void WebSocketSession::onText(const QString &message)
{
    if (!m_started) {
        m_early.append({false, message.toUtf8()});
        return;
    }
    const QByteArray utf8 = message.toUtf8();
    m_stats.messagesIn.fetch_add(1, std::memory_order_relaxed);
    m_stats.bytesIn.fetch_add(quint64(utf8.size()), std::memory_order_relaxed);
    m_pingSentMs = -1; // any traffic proves the peer alive
    // The message's one clock reading: activity, the log's time stamps, latencies.
    const MessageArrival arrival = MessageArrival::now();
    touch(arrival.timeMs);
    protocolSession().textMessageAt(utf8, arrival);
}

void WebSocketSession::onBinary(const QByteArray &message)
{
    if (!m_started) {
        m_early.append({true, message});
        return;
    }
    m_stats.messagesIn.fetch_add(1, std::memory_order_relaxed);
    m_stats.bytesIn.fetch_add(quint64(message.size()), std::memory_order_relaxed);
    touch(QDateTime::currentMSecsSinceEpoch());
    // Every bundled subprotocol is text-only (PRODUCT.md section 3).
    close(QWebSocketProtocol::CloseCodeDatatypeNotSupported, QStringLiteral("binary frames are not accepted"));
}

void WebSocketSession::sendText(const QByteArray &utf8)
{
    if (m_socket->state() != QAbstractSocket::ConnectedState || !m_slowConsumerReason.isEmpty())
        return;
    m_stats.messagesOut.fetch_add(1, std::memory_order_relaxed);
    m_stats.bytesOut.fetch_add(quint64(utf8.size()), std::memory_order_relaxed);
    m_writer.write(utf8);
    // Qt buffers without bound what the peer does not read (a subscriber to a
    // busy topic that never reads would grow the server forever).
    if (m_socket->bytesToWrite() > m_maxOutgoingBytes)
        dropSlowConsumer();
}

void WebSocketSession::dropSlowConsumer()
{
    m_slowConsumerReason = QStringLiteral("slow consumer: over %1 bytes unread").arg(m_maxOutgoingBytes);
    qCWarning(lcWebSocket).noquote() << "connection" << m_info.id << m_info.peer() << "-"
                                     << m_slowConsumerReason << "; closing it (1008)";
    m_socket->close(QWebSocketProtocol::CloseCodePolicyViolated, m_slowConsumerReason);
    // The close frame queues behind the data the peer does not read: if the
    // connection is still there shortly after, it is cut.
    QTimer::singleShot(1000, this, [this] {
        if (!m_finished)
            abort();
    });
}

void WebSocketSession::pushNotification(const QString &method, const QByteArray &paramsJson)
{
    if (m_started) // as before start(): nothing to push to yet
        protocolSession().pushNotification(method, paramsJson);
}

void WebSocketSession::close(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    closeWithCode(quint16(code), reason);
}

void WebSocketSession::closeWithCode(quint16 code, const QString &reason)
{
    if (m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->close(static_cast<QWebSocketProtocol::CloseCode>(code), clampCloseReason(reason));
}

void WebSocketSession::abort()
{
    m_dropped = true; // abort() closes the socket, which also emits aboutToClose
    m_socket->abort();
    onDisconnected();
}

bool WebSocketSession::keepAlive(qint64 nowMs, int pingIntervalMs, int pingTimeoutMs)
{
    if (m_finished)
        return false;
    if (m_pingSentMs >= 0) {
        if (nowMs - m_pingSentMs >= pingTimeoutMs) {
            qCInfo(lcWebSocket) << "connection" << m_info.id << "answered no ping within"
                                << pingTimeoutMs << "ms; dropping it";
            abort();
            return false;
        }
        return true;
    }
    const qint64 quietMs = nowMs - m_stats.lastActivityMs.load(std::memory_order_relaxed);
    if (quietMs >= pingIntervalMs) {
        m_pingSentMs = nowMs;
        m_socket->ping();
    }
    if (m_readBufferHeld && quietMs >= ReleaseReadBufferAfterMs) {
        // The pong of the last ping, or the last message, left Qt's read
        // buffer empty but holding its 16 KiB chunk.
        releaseEmptyReadBuffer(m_writer.socket());
        m_readBufferHeld = false;
    }
    return true;
}

void WebSocketSession::onDisconnected()
{
    if (m_finished)
        return;
    m_finished = true;
    // Without any close frame QWebSocket still reports 1000 (its initial
    // value); a connection that just dropped (reset, dead peer, abort) is
    // 1006 (RFC 6455 section 7.1.5), so the registry does not list an
    // abrupt end as a normal close (tst_workers, tst_limits).
    int code = m_closing && !m_dropped ? int(m_socket->closeCode())
                                             : int(QWebSocketProtocol::CloseCodeAbnormalDisconnection);
    QString reason = m_socket->closeReason();
    if (!m_slowConsumerReason.isEmpty()) {
        code = int(QWebSocketProtocol::CloseCodePolicyViolated);
        reason = m_slowConsumerReason;
    }
    qCDebug(lcWebSocket) << "connection" << m_info.id << "closed" << code << reason;
    // The protocol session is not destroyed here: this may run inside its
    // own textMessage() (a close() makes QWebSocket drop the TCP connection
    // at once). The destructor, after deleteLater(), ends it.
    m_registry->remove(m_info.id, code, reason);
    if (m_finishedHandler)
        m_finishedHandler(this);
    deleteLater();
}
