#pragma once

#include <QByteArray>
#include <QTcpSocket>

#include <utility>

// The socket QHttpServer is given for one client connection. It is not
// connected to the network: the FrontConnection that owns the real socket
// frames the byte stream into whole requests and delivers them here one at a
// time, and everything QHttpServer writes goes straight to the real socket.
//
// This is what lets one port serve HTTP and WebSocket on Qt 6.4: the front
// sees every request head first, so an upgrade on a keep-alive connection,
// pipelined requests, `Connection: close`, body limits and idle timeouts are
// handled before QHttpServer (which handles none of them in 6.4) parses a byte.
//
// Without a transport (null), what QHttpServer writes is kept instead and
// taken with takeWritten(): HttpSide learns the fixed answers the front
// serves itself that way.
class HttpExchangeSocket : public QTcpSocket
{
    Q_OBJECT
public:
    explicit HttpExchangeSocket(QTcpSocket *transport, QObject *parent = nullptr);
    ~HttpExchangeSocket() override;

    // Hands QHttpServer one complete request (head and body). QHttpServer
    // answers synchronously from its readyRead slot; the status line of the
    // answer is then in lastStatus(). With `headersOnly` (a HEAD request
    // delivered as GET) only the head of the answer reaches the client.
    void deliver(const QByteArray &request, bool headersOnly = false);
    int lastStatus() const { return m_lastStatus; }
    // Without a transport: everything written since the last call.
    QByteArray takeWritten() { return std::exchange(m_written, {}); }
    // The real connection ended: tell QHttpServer, which then deletes this object.
    void transportClosed();

    qint64 bytesAvailable() const override;
    void disconnectFromHost() override;
    void close() override;

signals:
    // QHttpServer asked to close the connection (it does so on parse errors).
    void closeRequested();

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *data, qint64 size) override;

private:
    QTcpSocket *m_transport;
    QByteArray m_input;
    qsizetype m_inputPos = 0;
    int m_lastStatus = 0;
    bool m_expectStatusLine = false;
    QByteArray m_statusLine; // its first bytes, until the status code is in
    bool m_headersOnly = false;
    QByteArray m_headTail; // last bytes written, to find the end of the head across writes
    QByteArray m_written;  // without a transport: what QHttpServer wrote
};
