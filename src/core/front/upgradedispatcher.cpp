#include "front/upgradedispatcher.h"

#include "admin/connectionregistry.h"
#include "directtcpsocket.h"
#include "front/handshakepolicy.h"
#include "logging.h"
#include "front/requesthead.h"
#include "ws/subprotocol.h"
#include "ws/subprotocolregistry.h"
#include "ws/websocketsession.h"
#include "ws/workerpool.h"

#include <QDateTime>
#include <QPointer>
#include <QTcpSocket>
#include <QWebSocket>

namespace {
// QWebSocket keeps the request it was opened with for the life of the
// connection: every header field, copied again into a QNetworkRequest (which
// also parses the ones it knows, Cookie and User-Agent among them), and the
// URL. Nothing reads them back (ConnectionInfo holds what Switchboard uses),
// so the head Qt reads is replaced by the least it checks and answers from:
// the key, version 13 and the subprotocol the policy chose. The policy has
// checked the real head; the 101 is the same.
void reduceHeadForQt(QTcpSocket *socket, const RequestHead &head, const QString &subprotocol,
                     bool subprotocolDefaulted, int maxHeadBytes)
{
    const QByteArray buffered = socket->peek(qMin<qint64>(socket->bytesAvailable(), qint64(maxHeadBytes) + 4));
    const qsizetype end = buffered.indexOf("\r\n\r\n");
    if (end < 0)
        return;
    QByteArray reduced = "GET / HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ";
    reduced += head.header("sec-websocket-key");
    if (!subprotocolDefaulted) {
        reduced += "\r\nSec-WebSocket-Protocol: ";
        reduced += subprotocol.toUtf8();
    }
    reduced += "\r\n\r\n";
    socket->skip(end + 4);
    // Put back into the read buffer where the head was (ungetChar works from
    // the front, so the last byte first).
    for (qsizetype i = reduced.size() - 1; i >= 0; --i)
        socket->ungetChar(reduced.at(i));
}
} // namespace

struct UpgradeDispatcher::Pending
{
    QPointer<QTcpSocket> socket;
    ConnectionInfo info;
};

UpgradeDispatcher::UpgradeDispatcher(const ServerConfig &config, SubprotocolRegistry *subprotocols,
                                     ConnectionRegistry *connections, WorkerPool *workers,
                                     QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_subprotocols(subprotocols)
    , m_connections(connections)
    , m_workers(workers)
{
}

UpgradeDispatcher::~UpgradeDispatcher()
{
    for (const auto &p : std::as_const(m_pending)) {
        if (p->socket)
            p->socket->deleteLater();
    }
}

QWebSocketServer *UpgradeDispatcher::serverFor(const QString &subprotocol)
{
    // The head was checked before the handover; the server only has to
    // answer 101 naming the subprotocol the policy chose. One server per
    // subprotocol, because QWebSocketServer reads its supported list when
    // the queued handshake runs, not in handleConnection(): a single server
    // re-set to each handshake's choice answered handshakes that arrived
    // together with another one's choice, or with none (tst_handshake,
    // simultaneousHandshakesKeepTheirOwnChoice). At most one server per
    // registered subprotocol name.
    QWebSocketServer *&server = m_webSockets[subprotocol];
    if (!server) {
        server = new QWebSocketServer(QStringLiteral("Switchboard"), QWebSocketServer::NonSecureMode, this);
        server->setMaxPendingConnections(std::numeric_limits<int>::max());
        server->setSupportedSubprotocols({subprotocol});
        QWebSocketServer *s = server;
        connect(s, &QWebSocketServer::newConnection, this, [this, s] { onNewConnection(s); });
    }
    return server;
}

QByteArray UpgradeDispatcher::keyOf(const QHostAddress &peer, quint16 peerPort, quint16 localPort)
{
    return peer.toString().toLatin1() + '|' + QByteArray::number(peerPort) + '|'
        + QByteArray::number(localPort);
}

QByteArray UpgradeDispatcher::dispatch(QTcpSocket *socket, const RequestHead &head, bool tls)
{
    HandshakeContext context;
    context.subprotocols = m_subprotocols;
    context.allowedOrigins = m_config.allowedOrigins;
    context.clientToken = m_config.clientToken;
    context.defaultSubprotocol = m_config.defaultSubprotocol;
    context.liveConnections = m_connections->count() + inFlight();
    context.maxConnections = m_config.limits.maxConnections;
    const HandshakeVerdict verdict = evaluateHandshake(head, context);

    ConnectionInfo info;
    info.peerAddress = socket->peerAddress();
    info.peerPort = socket->peerPort();
    info.localPort = socket->localPort();
    info.path = QString::fromUtf8(head.path());
    info.origin = QString::fromUtf8(head.header("origin"));
    info.userAgent = QString::fromUtf8(head.header("user-agent"));
    info.tls = tls;

    if (!verdict.accepted) {
        RefusedHandshake refusal;
        refusal.time = QDateTime::currentDateTimeUtc();
        refusal.peerAddress = info.peerAddress;
        refusal.peerPort = info.peerPort;
        refusal.path = info.path;
        refusal.origin = info.origin;
        refusal.userAgent = info.userAgent;
        for (const QByteArray &p : head.headerTokens("sec-websocket-protocol"))
            refusal.offeredSubprotocols << QString::fromLatin1(p);
        refusal.status = verdict.status;
        refusal.cause = verdict.cause;
        refusal.reason = verdict.reason;
        qCInfo(lcHandshake).noquote() << "refused" << info.peer() << info.path << verdict.status
                                      << verdict.reason;
        m_connections->recordRefusal(std::move(refusal));
        return verdict.response();
    }

    info.subprotocol = verdict.subprotocol;
    info.subprotocolDefaulted = verdict.subprotocolDefaulted;
    auto pending = std::make_shared<Pending>();
    pending->socket = socket;
    pending->info = info;
    const QByteArray key = keyOf(info.peerAddress, info.peerPort, info.localPort);
    m_pending.insert(key, pending);

    reduceHeadForQt(socket, head, verdict.subprotocol, verdict.subprotocolDefaulted, m_config.limits.maxHeadBytes);
    socket->setParent(nullptr);
    // The 101, and the pongs and pings QWebSocket writes itself, go straight
    // to the kernel: Qt's write buffer would keep a 32 KiB chunk per
    // connection after the first of them.
    if (auto *direct = qobject_cast<DirectTcpSocket *>(socket))
        direct->setDirectWrites(true);
    // A socket that dies while QWebSocketServer still holds it is ours to free.
    connect(socket, &QTcpSocket::disconnected, this, [this, key, pending] {
        if (m_pending.value(key) == pending) {
            m_pending.remove(key);
            if (pending->socket)
                pending->socket->deleteLater();
        }
    });
    // A server that supports only the chosen one, so the 101 names exactly
    // what the policy decided. handleConnection() sees the buffered head and
    // processes it on the next event-loop pass (a queued connection);
    // newConnection follows.
    serverFor(verdict.subprotocol)->handleConnection(socket);
    return QByteArray();
}

void UpgradeDispatcher::onNewConnection(QWebSocketServer *server)
{
    while (QWebSocket *ws = server->nextPendingConnection()) {
        const QByteArray key = keyOf(ws->peerAddress(), ws->peerPort(), ws->localPort());
        const std::shared_ptr<Pending> pending = m_pending.take(key);
        if (!pending || !pending->socket) {
            qCWarning(lcHandshake) << "accepted WebSocket without a pending handshake; closing it";
            ws->abort();
            ws->deleteLater();
            continue;
        }
        QTcpSocket *socket = pending->socket.data();
        socket->disconnect(this);
        // QWebSocketServer would delete the socket on disconnect from this
        // thread, under the QWebSocket that owns it on another.
        QObject::disconnect(socket, nullptr, server, nullptr);
        // The server-side QWebSocket does not own its TCP socket; it must,
        // so that both move to the worker thread together.
        socket->setParent(ws);
        ws->setParent(nullptr);
        ws->setMaxAllowedIncomingMessageSize(quint64(m_config.limits.maxMessageBytes));
        ws->setMaxAllowedIncomingFrameSize(quint64(m_config.limits.maxFrameBytes));
        // Qt keeps the read chunk the handshake used.
        WebSocketSession::releaseEmptyReadBuffer(socket);

        ConnectionInfo info = pending->info;
        info.id = m_connections->allocateId();
        info.connectedAt = QDateTime::currentDateTimeUtc();
        // A defaulted connection's QWebSocket negotiated none (the client
        // offered none); it speaks the default the policy chose.
        if (!info.subprotocolDefaulted)
            info.subprotocol = ws->subprotocol();
        std::shared_ptr<Subprotocol> protocol = m_subprotocols->find(info.subprotocol);
        if (!protocol) {
            // Unregistered between the policy check and here: nothing can read its messages.
            ws->close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("subprotocol withdrawn"));
            ws->deleteLater();
            continue;
        }
        auto *session = new WebSocketSession(ws, socket, info, std::move(protocol), m_connections,
                                             m_config.limits.maxOutgoingBytes);
        m_connections->add(session);
        qCDebug(lcHandshake) << "accepted" << info.peer() << info.path << info.subprotocol << "as" << info.id;
        m_workers->assign(session);
    }
}
