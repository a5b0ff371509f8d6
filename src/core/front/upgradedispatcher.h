#pragma once

#include "admin/connectionregistry.h"
#include "serverconfig.h"

#include <QObject>

#include <vector>

class ConnectionRegistry;
class QTcpSocket;
class RequestHead;
class SubprotocolRegistry;
class WorkerPool;

// Takes WebSocket upgrade requests from the front listener and runs the
// handshake policy on the accept thread: a refusal gets a complete HTTP
// response there. An accepted socket (head still unread) moves to the least
// loaded worker thread, where a non-listening QWebSocketServer answers the
// 101 and the WebSocketSession is made: Qt's handshake, the QWebSocket and
// the session are built on the thread that keeps them, in parallel on the
// workers, and only the bare TCP socket crosses threads.
class UpgradeDispatcher : public QObject
{
    Q_OBJECT
public:
    UpgradeDispatcher(const ServerConfig &config, SubprotocolRegistry *subprotocols,
                      ConnectionRegistry *connections, WorkerPool *workers, QObject *parent = nullptr);
    ~UpgradeDispatcher() override;

    // `socket` has a complete upgrade request head of `head` buffered and
    // unread. On refusal the answer is returned for the caller to send and
    // the socket stays the caller's; on acceptance the socket (which must
    // have no connections to objects of this thread left) moves to a worker
    // and an empty QByteArray is returned.
    QByteArray dispatch(QTcpSocket *socket, const RequestHead &head, bool tls);

private:
    class WorkerSide;
    // Accepted sockets on their way to one worker, each with what the
    // policy accepted. Deletes the sockets it still holds: a batch whose
    // delivery is dropped (its worker side went first, at shutdown) leaks
    // nothing.
    struct Handover
    {
        QTcpSocket *socket;
        ConnectionInfo info;
        // For the head Qt is given (see take()): the key, and the origin,
        // which Qt's 101 names in Access-Control-Allow-Origin ("*" without).
        QByteArray webSocketKey;
        QByteArray origin;
    };
    struct Handovers
    {
        std::vector<Handover> sockets;
        Handovers() = default;
        Handovers(Handovers &&) = default;
        Handovers &operator=(Handovers &&) = default;
        ~Handovers();
    };

    void handOver();

    ServerConfig m_config;
    SubprotocolRegistry *m_subprotocols;
    ConnectionRegistry *m_connections;
    WorkerPool *m_workers;
    // One per worker, by the worker's index; each lives on its worker's
    // thread as a child of its WorkerContext, which deletes it.
    std::vector<WorkerSide *> m_workerSides;
    // Accepted sockets waiting for handOver(), by worker index.
    std::vector<Handovers> m_handovers;
    bool m_handOverQueued = false;
};
