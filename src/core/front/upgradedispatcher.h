#pragma once

#include "serverconfig.h"

#include <QHash>
#include <QObject>
#include <QWebSocketServer>

#include <memory>

class ConnectionRegistry;
class QTcpSocket;
class RequestHead;
class SubprotocolRegistry;
class WorkerPool;

// Takes WebSocket upgrade requests from the front listener: runs the
// handshake policy, refuses with a complete HTTP response, or hands the
// socket (head still unread) to a non-listening QWebSocketServer, then moves
// the new connection to a worker thread. Lives on the accept thread.
class UpgradeDispatcher : public QObject
{
    Q_OBJECT
public:
    UpgradeDispatcher(const ServerConfig &config, SubprotocolRegistry *subprotocols,
                      ConnectionRegistry *connections, WorkerPool *workers, QObject *parent = nullptr);
    ~UpgradeDispatcher() override;

    // `socket` has a complete upgrade request head of `head` buffered and
    // unread. On refusal the answer is returned for the caller to send and
    // the socket stays the caller's; on acceptance this object takes the
    // socket and an empty QByteArray is returned.
    QByteArray dispatch(QTcpSocket *socket, const RequestHead &head, bool tls);

    // Handshakes accepted but not yet moved to a worker.
    int inFlight() const { return int(m_pending.size()); }

private:
    struct Pending;
    QWebSocketServer *serverFor(const QString &subprotocol);
    void onNewConnection(QWebSocketServer *server);
    static QByteArray keyOf(const QHostAddress &peer, quint16 peerPort, quint16 localPort);

    ServerConfig m_config;
    SubprotocolRegistry *m_subprotocols;
    ConnectionRegistry *m_connections;
    WorkerPool *m_workers;
    // One non-listening server per subprotocol, each supporting only that
    // one (children of this object); see serverFor().
    QHash<QString, QWebSocketServer *> m_webSockets;
    QHash<QByteArray, std::shared_ptr<Pending>> m_pending;
};
