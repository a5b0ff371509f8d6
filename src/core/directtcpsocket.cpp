#include "directtcpsocket.h"

#include "directsend.h"

qint64 DirectTcpSocket::writeData(const char *data, qint64 size)
{
    if (m_directWrites && size > 0 && bytesToWrite() == 0 && bytesAvailable() == 0
        && state() == QAbstractSocket::ConnectedState) {
        const qint64 sent = DirectSend::send(this, data, qsizetype(size));
        if (sent == size)
            return size;
        if (sent > 0) {
            const qint64 queued = QTcpSocket::writeData(data + sent, size - sent);
            return queued < 0 ? sent : sent + queued;
        }
    }
    return QTcpSocket::writeData(data, size);
}

void DirectTcpServer::incomingConnection(qintptr socketDescriptor)
{
    // What QTcpServer::incomingConnection() does, with our socket class.
    auto *socket = new DirectTcpSocket(this);
    socket->setSocketDescriptor(socketDescriptor);
    addPendingConnection(socket);
}
