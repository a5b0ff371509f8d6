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
#include <QHash>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketServer>

#include <memory>

namespace {
// QWebSocket keeps the request it was opened with for the life of the
// connection: every header field, copied again into a QNetworkRequest (which
// also parses the ones it knows, Cookie and User-Agent among them), and the
// URL. Nothing reads them back (ConnectionInfo holds what Switchboard uses),
// so the head Qt reads is replaced by the least it checks and answers from:
// the key, version 13, the subprotocol the policy chose and the origin (the
// 101 names it in Access-Control-Allow-Origin). The policy has checked the
// real head; the 101 is the same.
void reduceHeadForQt(QTcpSocket *socket, const QByteArray &webSocketKey, const QByteArray &origin,
                     const QString &subprotocol, bool subprotocolDefaulted, int maxHeadBytes)
{
    QByteArray reduced = "GET / HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ";
    reduced += webSocketKey;
    if (!subprotocolDefaulted) {
        reduced += "\r\nSec-WebSocket-Protocol: ";
        reduced += subprotocol.toUtf8();
    }
    if (!origin.isNull()) {
        reduced += "\r\nOrigin: ";
        reduced += origin;
    }
    reduced += "\r\n\r\n";
    const QByteArray buffered = socket->peek(qMin<qint64>(socket->bytesAvailable(), qint64(maxHeadBytes)));
    int headLength = 0;
    if (RequestHead::scan(buffered, maxHeadBytes, &headLength) != RequestHead::Status::Complete)
        return;
    // Only when it saves something: putting the head back costs an
    // ungetChar() per byte (about 90 instructions each, some 15,000 per
    // handshake), and a head hardly longer than the reduced one (a client
    // that sends only what the handshake needs) costs Qt no more to keep.
    constexpr int NotWorthIt = 64;
    if (headLength <= reduced.size() + NotWorthIt)
        return;
    socket->skip(headLength);
    // Put back into the read buffer where the head was (ungetChar works from
    // the front, so the last byte first).
    for (qsizetype i = reduced.size() - 1; i >= 0; --i)
        socket->ungetChar(reduced.at(i));
}
} // namespace

// The worker thread's part of the upgrade: owns the non-listening
// QWebSocketServers that answer the 101 on this thread, and the sockets
// handed to them until their QWebSocket exists.
class UpgradeDispatcher::WorkerSide : public QObject
{
public:
    WorkerSide(const ServerLimits &limits, SubprotocolRegistry *subprotocols, ConnectionRegistry *connections,
               WorkerContext *context)
        : m_limits(limits)
        , m_subprotocols(subprotocols)
        , m_connections(connections)
        , m_context(context)
    {
    }

    // On the worker thread: sockets that have just been moved here, request
    // heads still buffered.
    void take(Handovers handovers);

private:
    // A TCP connection, as both the socket and its QWebSocket report it.
    struct PeerKey
    {
        QHostAddress address;
        quint16 port;
        quint16 localPort;
        bool operator==(const PeerKey &o) const
        {
            return port == o.port && localPort == o.localPort && address == o.address;
        }
        friend size_t qHash(const PeerKey &k, size_t seed = 0) noexcept
        {
            return qHashMulti(seed, k.address, k.port, k.localPort);
        }
    };
    struct Pending
    {
        QTcpSocket *socket;
        ConnectionInfo info;
    };

    QWebSocketServer *serverFor(const QString &subprotocol);
    void onNewConnection(QWebSocketServer *server);

    const ServerLimits m_limits;
    SubprotocolRegistry *const m_subprotocols;
    ConnectionRegistry *const m_connections;
    WorkerContext *const m_context;
    // One non-listening server per subprotocol, each supporting only that
    // one (children of this object); see serverFor().
    QHash<QString, QWebSocketServer *> m_webSockets;
    // Sockets (children of this object) whose 101 is on its way.
    QHash<PeerKey, Pending> m_pending;
};

QWebSocketServer *UpgradeDispatcher::WorkerSide::serverFor(const QString &subprotocol)
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

void UpgradeDispatcher::WorkerSide::take(Handovers handovers)
{
    for (Handover &handover : std::exchange(handovers.sockets, {})) {
        QTcpSocket *socket = handover.socket;
        ConnectionInfo &info = handover.info;
        socket->setParent(this);
        // The client may have gone while the socket was on its way, with
        // nobody listening; from here on, disconnected() tells.
        if (socket->state() != QAbstractSocket::ConnectedState) {
            socket->deleteLater();
            m_context->release();
            continue;
        }
        // Here rather than on the core thread, which every connection
        // passes: putting the reduced head back costs an ungetChar() per
        // byte, about a third of the core's work per handshake.
        reduceHeadForQt(socket, handover.webSocketKey, handover.origin, info.subprotocol,
                        info.subprotocolDefaulted, m_limits.maxHeadBytes);
        const PeerKey key{info.peerAddress, info.peerPort, info.localPort};
        const QString subprotocol = info.subprotocol;
        m_pending.insert(key, Pending{socket, std::move(info)});
        // A socket that dies while QWebSocketServer still holds it is ours to free.
        connect(socket, &QTcpSocket::disconnected, this, [this, socket, key] {
            const auto it = m_pending.constFind(key);
            if (it != m_pending.cend() && it->socket == socket) {
                m_pending.erase(it);
                socket->deleteLater();
                m_context->release();
            }
        });
        // A server that supports only the chosen one, so the 101 names exactly
        // what the policy decided. handleConnection() sees the buffered head and
        // processes it on the next event-loop pass (a queued connection);
        // newConnection follows.
        serverFor(subprotocol)->handleConnection(socket);
    }
}

void UpgradeDispatcher::WorkerSide::onNewConnection(QWebSocketServer *server)
{
    while (QWebSocket *ws = server->nextPendingConnection()) {
        const auto it = m_pending.find(PeerKey{ws->peerAddress(), ws->peerPort(), ws->localPort()});
        if (it == m_pending.end()) {
            qCWarning(lcHandshake) << "accepted WebSocket without a pending handshake; closing it";
            ws->abort();
            ws->deleteLater();
            continue;
        }
        QTcpSocket *socket = it->socket;
        ConnectionInfo info = std::move(it->info);
        m_pending.erase(it);
        socket->disconnect(this);
        // QWebSocketServer would delete the socket on disconnect, under the
        // QWebSocket that owns it.
        QObject::disconnect(socket, nullptr, server, nullptr);
        // The server-side QWebSocket does not own its TCP socket; it must.
        socket->setParent(ws);
        ws->setParent(nullptr);
        ws->setMaxAllowedIncomingMessageSize(quint64(m_limits.maxMessageBytes));
        ws->setMaxAllowedIncomingFrameSize(quint64(m_limits.maxFrameBytes));
        // Qt keeps the read chunk the handshake used.
        WebSocketSession::releaseEmptyReadBuffer(socket);
        // Qt has put the 101 in the socket's buffer and enabled its write
        // notifier: send it now instead of on another pass of the loop.
        socket->flush();

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
            m_context->release();
            continue;
        }
        auto *session = new WebSocketSession(ws, socket, info, std::move(protocol), m_connections,
                                             m_limits.maxOutgoingBytes);
        m_connections->add(session);
        qCDebug(lcHandshake) << "accepted" << info.peer() << info.path << info.subprotocol << "as" << info.id;
        m_context->adopt(session);
    }
}

UpgradeDispatcher::UpgradeDispatcher(const ServerConfig &config, SubprotocolRegistry *subprotocols,
                                     ConnectionRegistry *connections, WorkerPool *workers,
                                     QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_subprotocols(subprotocols)
    , m_connections(connections)
    , m_workers(workers)
{
    for (int i = 0; i < m_workers->size(); ++i) {
        WorkerContext *context = m_workers->context(i);
        auto *side = new WorkerSide(m_config.limits, subprotocols, connections, context);
        side->moveToThread(context->thread());
        // Parented there (a parent must live on the same thread), so the
        // context deletes it, and the sockets it holds, on that thread.
        QMetaObject::invokeMethod(side, [side, context] { side->setParent(context); }, Qt::QueuedConnection);
        m_workerSides.push_back(side);
    }
    m_handovers.resize(m_workerSides.size());
}

UpgradeDispatcher::~UpgradeDispatcher() = default;

UpgradeDispatcher::Handovers::~Handovers()
{
    for (const Handover &handover : sockets)
        delete handover.socket;
}

QByteArray UpgradeDispatcher::dispatch(QTcpSocket *socket, const RequestHead &head, bool tls)
{
    HandshakeContext context;
    context.subprotocols = m_subprotocols;
    context.allowedOrigins = m_config.allowedOrigins;
    context.clientToken = m_config.clientToken;
    context.defaultSubprotocol = m_config.defaultSubprotocol;
    // Sessions and handshakes on their way to a worker alike.
    context.liveConnections = m_workers->connectionCount();
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
    // The 101, and the pongs and pings QWebSocket writes itself, go straight
    // to the kernel: Qt's write buffer would keep a 32 KiB chunk per
    // connection after the first of them.
    if (auto *direct = qobject_cast<DirectTcpSocket *>(socket))
        direct->setDirectWrites(true);
    const int worker = m_workers->reserve();
    socket->setParent(nullptr);
    m_handovers[size_t(worker)].sockets.push_back(
        Handover{socket, std::move(info), head.header("sec-websocket-key"), head.header("origin")});
    // Not moved to the worker here: this runs inside the socket's readyRead,
    // and Qt goes on using the socket (its read notifier) after the signal
    // returns, which must not happen once the worker owns it. One queued
    // call moves all the sockets accepted in this pass of the event loop.
    if (!m_handOverQueued) {
        m_handOverQueued = true;
        QMetaObject::invokeMethod(this, &UpgradeDispatcher::handOver, Qt::QueuedConnection);
    }
    return QByteArray();
}

void UpgradeDispatcher::handOver()
{
    m_handOverQueued = false;
    for (size_t i = 0; i < m_handovers.size(); ++i) {
        if (m_handovers[i].sockets.empty())
            continue;
        Handovers batch = std::exchange(m_handovers[i], Handovers());
        WorkerSide *side = m_workerSides[i];
        for (const Handover &handover : batch.sockets)
            handover.socket->moveToThread(side->thread());
        // The call owns the sockets until it runs; should the worker side go
        // first (shutdown), they are deleted with it, on the worker thread.
        QMetaObject::invokeMethod(
            side, [side, batch = std::move(batch)]() mutable { side->take(std::move(batch)); },
            Qt::QueuedConnection);
    }
}
