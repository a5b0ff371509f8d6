#pragma once

#include <QTcpServer>
#include <QTcpSocket>

// A plain TCP socket that, once setDirectWrites(true) is called, hands what
// is written to the kernel at once (DirectSend) whenever Qt's write buffer is
// empty and no input waits unread; only what the kernel does not take, and
// writes made while bytes are queued or input is buffered, go through Qt's
// buffer as usual. The bytes keep their order either way.
//
// Why: QTcpSocket keeps the 32 KiB chunk its write buffer allocated for the
// first write (the 101 of a WebSocket handshake, a ping) for the life of the
// connection, one resident page of it and the write notifier Qt creates for
// it: about 4 KiB of every idle WebSocket connection (docs/PERFORMANCE.md).
// Written straight, an idle connection never allocates it.
//
// The rule "nothing buffered either way" is TextFrameWriter's: replies to
// requests that are still buffered gather in Qt's buffer and leave together.
// Bytes sent straight are not reported by bytesWritten().
class DirectTcpSocket : public QTcpSocket
{
    Q_OBJECT
public:
    using QTcpSocket::QTcpSocket;

    // Off by default: HTTP answers are written in many small pieces that
    // Qt's buffer gathers into one send.
    void setDirectWrites(bool on) { m_directWrites = on; }
    bool directWrites() const { return m_directWrites; }

protected:
    qint64 writeData(const char *data, qint64 size) override;

private:
    bool m_directWrites = false;
};

// A QTcpServer whose accepted sockets are DirectTcpSockets (plain TCP only:
// QSslServer keeps its own sockets).
class DirectTcpServer : public QTcpServer
{
    Q_OBJECT
public:
    using QTcpServer::QTcpServer;

protected:
    void incomingConnection(qintptr socketDescriptor) override;
};
