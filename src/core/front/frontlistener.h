#pragma once

#include "front/frontconnection.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QSslConfiguration>
#include <QTimer>

#include <list>

class QTcpServer;

// One listening port (plain or TLS). Accepts connections and gives each to a
// FrontConnection, up to the pending-socket limit. At the limit, the
// connection that has waited longest for a request head is evicted to make
// room, so a flood of connections that never send anything cannot lock out
// clients that do talk.
class FrontListener : public QObject
{
    Q_OBJECT
public:
    FrontListener(ListenerRole role, const FrontContext *context, QObject *parent = nullptr);

    // TLS: accepted sockets finish the TLS handshake before they are handed on.
    void enableTls(const QSslConfiguration &configuration, int handshakeTimeoutMs);
    bool listen(const QHostAddress &address, quint16 port, QString *error);
    void close();
    quint16 port() const;
    bool isTls() const { return m_tls; }
    ListenerRole role() const { return m_role; }
    int pendingCount() const { return int(m_connections.size()); }

private:
    friend class FrontConnection;
    using HeadWaitQueue = std::list<FrontConnection *>;

    void onPendingConnection();
    void onAcceptError();
    // Called by a connection: it waits for a request head (again) ...
    void queueForHead(FrontConnection *connection);
    // ... or it is finished.
    void forget(FrontConnection *connection);
    bool evictOldestAwaitingHead();
    void reportShedding();
    void flushSheddingReport();

    ListenerRole m_role;
    const FrontContext *m_context;
    QTcpServer *m_server = nullptr;
    bool m_tls = false;
    // Every live connection, with its place in m_awaitingHead (end() when not queued).
    QHash<FrontConnection *, HeadWaitQueue::iterator> m_connections;
    // Connections waiting for a request head, the longest-waiting first. A
    // connection that stops waiting (head complete, closing) is taken out
    // lazily when it reaches the front, and queued again at the back when a
    // keep-alive request of it has been answered.
    HeadWaitQueue m_awaitingHead;
    QTimer m_resumeAccepting;  // after an accept() error, which makes Qt pause accepting
    // Floods produce one summary line a second, not one per socket.
    QTimer m_sheddingReport;
    int m_evicted = 0;
    int m_refused = 0;
    int m_acceptErrors = 0;
    QString m_lastAcceptError;
};
