#include "frontlistener.h"

#include "logging.h"

#include <QSslServer>
#include <QTcpServer>
#include <QTcpSocket>

FrontListener::FrontListener(ListenerRole role, const FrontContext *context, QObject *parent)
    : QObject(parent)
    , m_role(role)
    , m_context(context)
    , m_server(new QTcpServer(this))
{
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
    m_server->setMaxPendingConnections(1024);
    if (!m_server->listen(address, port)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(address.toString()).arg(port).arg(m_server->errorString());
        return false;
    }
    return true;
}

void FrontListener::close()
{
    m_server->close();
    const QSet<FrontConnection *> connections = m_connections;
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
            // Protects descriptors for clients that do talk: the oldest idle
            // ones go first by their head timeout, new ones are cut at once.
            qCWarning(lcServer) << "pending-socket limit" << m_context->limits.maxPendingSockets
                                << "reached; dropping" << socket->peerAddress().toString();
            socket->abort();
            socket->deleteLater();
            continue;
        }
        auto *connection = new FrontConnection(socket, m_role, m_tls, m_context, this);
        m_connections.insert(connection);
        connect(connection, &FrontConnection::finished, this,
                [this, connection] { m_connections.remove(connection); });
        connection->start();
    }
}
