#include "httpexchangesocket.h"

HttpExchangeSocket::HttpExchangeSocket(QTcpSocket *transport, QObject *parent)
    : QTcpSocket(parent)
    , m_transport(transport)
{
    setPeerAddress(transport->peerAddress());
    setPeerPort(transport->peerPort());
    setLocalAddress(transport->localAddress());
    setLocalPort(transport->localPort());
    setSocketState(QAbstractSocket::ConnectedState);
    setOpenMode(QIODevice::ReadWrite);
}

HttpExchangeSocket::~HttpExchangeSocket()
{
    // QAbstractSocket's destructor would try to abort a socket engine we never had.
    setSocketState(QAbstractSocket::UnconnectedState);
    setOpenMode(QIODevice::NotOpen);
}

void HttpExchangeSocket::deliver(const QByteArray &request)
{
    m_input = request;
    m_inputPos = 0;
    m_lastStatus = 0;
    m_expectStatusLine = true;
    emit readyRead();
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
    if (m_expectStatusLine && size >= 12 && memcmp(data, "HTTP/1.", 7) == 0) {
        m_lastStatus = QByteArray(data + 9, 3).toInt();
        m_expectStatusLine = false;
    }
    if (m_transport->state() != QAbstractSocket::ConnectedState)
        return size; // the peer left; QHttpServer must not see an error for it
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
