#pragma once

#include "frontconnection.h"

#include <QHostAddress>
#include <QObject>
#include <QSet>
#include <QSslConfiguration>

class QTcpServer;

// One listening port (plain or TLS). Accepts connections and gives each to a
// FrontConnection, up to the pending-socket limit.
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
    void onPendingConnection();

    ListenerRole m_role;
    const FrontContext *m_context;
    QTcpServer *m_server = nullptr;
    bool m_tls = false;
    QSet<FrontConnection *> m_connections;
};
