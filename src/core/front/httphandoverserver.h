#pragma once

#include <QQueue>
#include <QTcpServer>

// A QTcpServer that never listens: QHttpServer is bound to it and takes the
// sockets the front listener hands over as if they had just been accepted.
class HttpHandoverServer : public QTcpServer
{
    Q_OBJECT
public:
    explicit HttpHandoverServer(QObject *parent = nullptr);

    void handOver(QTcpSocket *socket);

    bool hasPendingConnections() const override;
    QTcpSocket *nextPendingConnection() override;

private:
    QQueue<QTcpSocket *> m_queue;
};
