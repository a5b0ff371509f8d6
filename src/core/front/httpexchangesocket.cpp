#include "front/httpexchangesocket.h"

HttpExchangeSocket::HttpExchangeSocket(QTcpSocket *transport, QObject *parent)
    : QTcpSocket(parent)
    , m_transport(transport)
{
    if (transport) {
        setPeerAddress(transport->peerAddress());
        setPeerPort(transport->peerPort());
        setLocalAddress(transport->localAddress());
        setLocalPort(transport->localPort());
    }
    setSocketState(QAbstractSocket::ConnectedState);
    setOpenMode(QIODevice::ReadWrite);
}

HttpExchangeSocket::~HttpExchangeSocket()
{
    // QAbstractSocket's destructor would try to abort a socket engine we never had.
    setSocketState(QAbstractSocket::UnconnectedState);
    setOpenMode(QIODevice::NotOpen);
}

void HttpExchangeSocket::deliver(const QByteArray &request, bool headersOnly)
{
    m_input = request;
    m_inputPos = 0;
    m_lastStatus = 0;
    m_expectStatusLine = true;
    m_statusLine.clear();
    m_headersOnly = headersOnly;
    m_headTail.clear();
    emit readyRead();
    m_headersOnly = false;
}

void HttpExchangeSocket::transportClosed()
{
    if (state() == QAbstractSocket::UnconnectedState)
        return;
    setSocketState(QAbstractSocket::UnconnectedState);
    emit disconnected();
}

qint64 HttpExchangeSocket::bytesAvailable() const
{
    return QIODevice::bytesAvailable() + (m_input.size() - m_inputPos);
}

qint64 HttpExchangeSocket::readData(char *data, qint64 maxSize)
{
    const qint64 n = qMin<qint64>(maxSize, m_input.size() - m_inputPos);
    if (n <= 0)
        return state() == QAbstractSocket::ConnectedState ? 0 : -1;
    memcpy(data, m_input.constData() + m_inputPos, size_t(n));
    m_inputPos += n;
    if (m_inputPos == m_input.size()) {
        m_input.clear();
        m_inputPos = 0;
    }
    return n;
}

qint64 HttpExchangeSocket::writeData(const char *data, qint64 size)
{
    if (m_expectStatusLine) {
        // QHttpServer writes the status line in pieces ("HTTP/", "1", ".",
        // "1", " ", "200", ...): collect its first 12 bytes.
        m_statusLine.append(data, qMin<qint64>(size, 12 - m_statusLine.size()));
        if (m_statusLine.size() == 12) {
            if (m_statusLine.startsWith("HTTP/1."))
                m_lastStatus = m_statusLine.mid(9, 3).toInt();
            m_expectStatusLine = false;
        }
    }
    if (!m_transport) {
        m_written.append(data, size);
        return size;
    }
    if (m_transport->state() != QAbstractSocket::ConnectedState)
        return size; // the peer left; QHttpServer must not see an error for it
    if (m_headersOnly) {
        // RFC 9110 section 9.3.2: HEAD gets GET's answer without content.
        // Pass bytes until the blank line ending the head, drop the rest.
        if (m_headTail.endsWith("\r\n\r\n"))
            return size;
        const QByteArray seen = m_headTail + QByteArray::fromRawData(data, size);
        const qsizetype end = seen.indexOf("\r\n\r\n");
        const qint64 pass = end < 0 ? size : end + 4 - m_headTail.size();
        m_headTail = end < 0 ? seen.right(3) : QByteArray("\r\n\r\n");
        m_transport->write(data, pass);
        return size;
    }
    return m_transport->write(data, size);
}

void HttpExchangeSocket::disconnectFromHost()
{
    emit closeRequested();
}

void HttpExchangeSocket::close()
{
    emit closeRequested();
}
