#include "front/frontlistener.h"

#include "directtcpsocket.h"
#include "logging.h"

#include <QSslServer>
#include <QTcpServer>
#include <QTcpSocket>

namespace {
// Qt's default (50) drops SYNs during a burst of connections (a reconnect
// storm, a flood) and the clients retry only after a second; the kernel caps
// this at net.core.somaxconn.
constexpr int ListenBacklog = 1024;
// Qt stops accepting after any accept() error but EAGAIN (EMFILE and ENFILE
// included) and never resumes by itself.
constexpr int ResumeAcceptingAfterMs = 100;
constexpr int SheddingReportIntervalMs = 1000;
} // namespace

FrontListener::FrontListener(ListenerRole role, const FrontContext *context, QObject *parent)
    : QObject(parent)
    , m_role(role)
    , m_context(context)
    , m_server(new DirectTcpServer(this))
{
    m_resumeAccepting.setSingleShot(true);
    connect(&m_resumeAccepting, &QTimer::timeout, this, [this] { m_server->resumeAccepting(); });
    m_sheddingReport.setSingleShot(true);
    connect(&m_sheddingReport, &QTimer::timeout, this, &FrontListener::flushSheddingReport);
}

void FrontListener::enableTls(const QSslConfiguration &configuration, int handshakeTimeoutMs)
{
    delete m_server;
    auto *ssl = new QSslServer(this);
    ssl->setSslConfiguration(configuration);
    ssl->setHandshakeTimeout(handshakeTimeoutMs);
    connect(ssl, &QSslServer::errorOccurred, this, [](QSslSocket *socket, QAbstractSocket::SocketError) {
        qCInfo(lcServer) << "TLS handshake with" << socket->peerAddress().toString()
                         << "failed:" << socket->errorString();
    });
    m_server = ssl;
    m_tls = true;
}

bool FrontListener::listen(const QHostAddress &address, quint16 port, QString *error)
{
    // pendingConnectionAvailable, not newConnection: with TLS the latter
    // fires before the TLS handshake is done.
    connect(m_server, &QTcpServer::pendingConnectionAvailable, this, &FrontListener::onPendingConnection,
            Qt::UniqueConnection);
    connect(m_server, &QTcpServer::acceptError, this, &FrontListener::onAcceptError, Qt::UniqueConnection);
    m_server->setMaxPendingConnections(1024);
    m_server->setListenBacklogSize(ListenBacklog);
    if (!m_server->listen(address, port)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(address.toString()).arg(port).arg(m_server->errorString());
        return false;
    }
    return true;
}

void FrontListener::close()
{
    flushSheddingReport();
    m_sheddingReport.stop();
    m_resumeAccepting.stop();
    m_server->close();
    const QList<FrontConnection *> connections = m_connections.keys();
    for (FrontConnection *c : connections)
        c->shutdown();
}

quint16 FrontListener::port() const
{
    return m_server->serverPort();
}

void FrontListener::onPendingConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        if (m_connections.size() >= m_context->limits.maxPendingSockets) {
            const bool evicted = evictOldestAwaitingHead();
            ++(evicted ? m_evicted : m_refused);
            reportShedding();
            if (!evicted) {
                // Every pending connection is past its head (a body upload,
                // a response being sent): the newcomer has to go.
                socket->abort();
                socket->deleteLater();
                continue;
            }
        }
        auto *connection = new FrontConnection(socket, m_role, m_tls, m_context, this);
        m_connections.insert(connection, m_awaitingHead.end());
        queueForHead(connection);
        connection->start();
    }
}

void FrontListener::queueForHead(FrontConnection *connection)
{
    const auto it = m_connections.find(connection);
    if (it == m_connections.end())
        return;
    if (it.value() != m_awaitingHead.end())
        m_awaitingHead.erase(it.value());
    it.value() = m_awaitingHead.insert(m_awaitingHead.end(), connection);
}

void FrontListener::forget(FrontConnection *connection)
{
    const auto it = m_connections.constFind(connection);
    if (it == m_connections.cend())
        return;
    if (it.value() != m_awaitingHead.end())
        m_awaitingHead.erase(it.value());
    m_connections.erase(it);
}

bool FrontListener::evictOldestAwaitingHead()
{
    while (!m_awaitingHead.empty()) {
        FrontConnection *oldest = m_awaitingHead.front();
        m_awaitingHead.pop_front();
        m_connections.find(oldest).value() = m_awaitingHead.end();
        if (!oldest->isAwaitingHead())
            continue; // its head came in meanwhile; queued again if it waits for another
        oldest->shutdown(); // forget() takes it out of m_connections
        return true;
    }
    return false;
}

void FrontListener::onAcceptError()
{
    // Out of descriptors (EMFILE, ENFILE) or kernel memory, typically: the
    // connections waiting in the kernel's queue are taken once descriptors
    // are free again (head timeouts, closing clients). Linux reports EMFILE
    // even with nothing queued, as soon as the table is full.
    ++m_acceptErrors;
    m_lastAcceptError = m_server->errorString();
    reportShedding();
    m_resumeAccepting.start(ResumeAcceptingAfterMs);
}

void FrontListener::reportShedding()
{
    // The first event of a burst is reported at once, the rest once a second.
    if (!m_sheddingReport.isActive())
        flushSheddingReport();
}

void FrontListener::flushSheddingReport()
{
    if (m_evicted == 0 && m_refused == 0 && m_acceptErrors == 0)
        return;
    if (m_evicted > 0) {
        qCWarning(lcServer).noquote().nospace()
            << "pending-socket limit " << m_context->limits.maxPendingSockets << " reached on port "
            << m_server->serverPort() << ": closed " << m_evicted
            << " connection(s) that waited longest for a request head, to make room for new ones";
    }
    if (m_refused > 0) {
        qCWarning(lcServer).noquote().nospace()
            << "pending-socket limit " << m_context->limits.maxPendingSockets << " reached on port "
            << m_server->serverPort() << ": refused " << m_refused
            << " new connection(s); every pending one is past its request head";
    }
    if (m_acceptErrors > 0) {
        qCWarning(lcServer).noquote().nospace()
            << "accepting on port " << m_server->serverPort() << " failed " << m_acceptErrors
            << " time(s): " << m_lastAcceptError << "; retrying every " << ResumeAcceptingAfterMs << " ms";
    }
    m_evicted = m_refused = m_acceptErrors = 0;
    // Keep the one-a-second pace while the burst lasts.
    m_sheddingReport.start(SheddingReportIntervalMs);
}
