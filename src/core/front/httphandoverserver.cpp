#include "front/httphandoverserver.h"

#include <QMetaMethod>
#include <QTcpSocket>

HttpHandoverServer::HttpHandoverServer(QObject *parent)
    : QTcpServer(parent)
{
}

void HttpHandoverServer::handOver(QTcpSocket *socket)
{
    m_queue.enqueue(socket);
    // QHttpServer listens for pendingConnectionAvailable, a private signal
    // that only QTcpServer itself may emit; the meta-object emits it for us.
    static const QMetaMethod signal = QMetaMethod::fromSignal(&QTcpServer::pendingConnectionAvailable);
    signal.invoke(this, Qt::DirectConnection);
}

bool HttpHandoverServer::hasPendingConnections() const
{
    return !m_queue.isEmpty();
}

QTcpSocket *HttpHandoverServer::nextPendingConnection()
{
    return m_queue.isEmpty() ? nullptr : m_queue.dequeue();
}
