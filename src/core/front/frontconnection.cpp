#include "front/frontconnection.h"

#include "admin/connectionregistry.h"
#include "front/httpexchangesocket.h"
#include "front/httpresponse.h"
#include "front/frontlistener.h"
#include "front/httpside.h"
#include "logging.h"
#include "front/requesthead.h"
#include "front/upgradedispatcher.h"

#include <QDateTime>
#include <QTcpSocket>
#include <QTimerEvent>

#ifdef Q_OS_WIN
#include <winsock2.h>
#else
#include <sys/socket.h>
#endif

namespace {
constexpr int LingerMs = 2000; // how long a refused client may keep sending before we cut it
}

FrontConnection::FrontConnection(QTcpSocket *socket, ListenerRole role, bool tls,
                                 const FrontContext *context, FrontListener *listener)
    : QObject(listener)
    , m_socket(socket)
    , m_listener(listener)
    , m_role(role)
    , m_tls(tls)
    , m_context(context)
{
    m_socket->setParent(this);
}

FrontConnection::~FrontConnection()
{
    if (m_exchange)
        m_exchange->transportClosed();
}

void FrontConnection::start()
{
    connect(m_socket, &QTcpSocket::readyRead, this, &FrontConnection::processInput);
    connect(m_socket, &QTcpSocket::disconnected, this, &FrontConnection::finish);
    // A connection that never sends a byte is closed by the head timeout.
    armTimer(m_context->limits.headTimeoutMs);
    if (m_socket->bytesAvailable() > 0)
        processInput();
}

void FrontConnection::shutdown()
{
    if (m_state == State::HandedOver)
        return;
    m_socket->abort();
    finish();
}

void FrontConnection::armTimer(int ms)
{
    // A QBasicTimer rather than a QTimer: no object and no connection more
    // per accepted socket.
    m_timer.start(ms, this);
}

void FrontConnection::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timer.timerId()) {
        QObject::timerEvent(event);
        return;
    }
    m_timer.stop();
    onTimeout();
}

void FrontConnection::onTimeout()
{
    if (m_state == State::Closing) {
        m_socket->abort();
        finish();
        return;
    }
    if (m_requestStarted) {
        qCInfo(lcHttp) << "request head from" << m_socket->peerAddress().toString()
                       << "not complete within" << m_context->limits.headTimeoutMs << "ms; closing";
        recordHeadFailure(0, "head_timeout", QStringLiteral("request head not complete within %1 ms")
                                 .arg(m_context->limits.headTimeoutMs),
                          m_socket->peek(m_context->limits.maxHeadBytes));
    }
    // PRODUCT.md section 2: an incomplete head just gets the connection closed.
    m_socket->abort();
    finish();
}

void FrontConnection::processInput()
{
    while (m_state == State::AwaitingRequest) {
        if (m_socket->bytesAvailable() <= 0)
            return;
        if (!m_requestStarted) {
            m_requestStarted = true;
            armTimer(m_context->limits.headTimeoutMs);
        }
        const int maxHead = m_context->limits.maxHeadBytes;
        // No more than is buffered: peeking past it makes Qt reserve (and
        // drop) another 16 KiB chunk in the socket's read buffer, and leaves
        // that buffer's chunk list grown for the life of the connection.
        const QByteArray peeked = m_socket->peek(qMin<qint64>(m_socket->bytesAvailable(), maxHead + 1));
        int headLength = 0;
        switch (RequestHead::scan(peeked, maxHead, &headLength)) {
        case RequestHead::Status::Incomplete:
            return;
        case RequestHead::Status::TooLarge:
            recordHeadFailure(431, "head_size", QStringLiteral("request head over %1 bytes").arg(maxHead), peeked);
            respondAndClose(HttpResponse::json(
                431, QStringLiteral("request head over %1 bytes").arg(maxHead)));
            return;
        case RequestHead::Status::Malformed:
            respondAndClose(HttpResponse::json(400, QStringLiteral("malformed request head")));
            return;
        case RequestHead::Status::Complete:
            m_headComplete = true;
            break;
        }
        RequestHead head;
        QString error;
        if (!RequestHead::parse(QByteArrayView(peeked).first(headLength), &head, &error)) {
            recordHeadFailure(400, "malformed", error, peeked);
            respondAndClose(HttpResponse::json(400, error));
            return;
        }
        const bool handled = head.isWebSocketUpgrade() ? handleUpgrade(head)
                                                       : handlePlainRequest(head, headLength);
        if (!handled)
            return; // waiting for the body, or the connection is over
        m_headComplete = false;
        m_listener->queueForHead(this);
    }
}

bool FrontConnection::handleUpgrade(const RequestHead &head)
{
    if (m_role == ListenerRole::HttpOnly) {
        const QString message = QStringLiteral("WebSocket is served on its own port %1").arg(m_context->wsPort);
        recordHeadFailure(400, "wrong_port", message, QByteArray());
        respondAndClose(HttpResponse::json(400, message));
        return false;
    }
    m_timer.stop();
    m_socket->disconnect(this);
    const QByteArray refusal = m_context->upgrades->dispatch(m_socket, head, m_tls);
    if (!refusal.isEmpty()) {
        connect(m_socket, &QTcpSocket::disconnected, this, &FrontConnection::finish);
        respondAndClose(refusal);
        return false;
    }
    m_state = State::HandedOver; // the dispatcher owns the socket now
    m_socket = nullptr;
    finish();
    return false;
}

bool FrontConnection::handlePlainRequest(const RequestHead &head, int headLength)
{
    if (m_role == ListenerRole::WebSocketOnly) {
        respondAndClose(HttpResponse::json(426, QStringLiteral("this port serves WebSocket only"),
                                           {{"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"}}));
        return false;
    }
    if (const HttpSide::FrontAnswer *answer = m_context->http->frontAnswer(head)) {
        // A fixed answer (GET/HEAD /health): the same bytes QHttpServer would
        // write, without handing the request over (see HttpSide).
        m_socket->skip(headLength);
        if (m_socket->state() == QAbstractSocket::ConnectedState) // as HttpExchangeSocket does
            m_socket->write(answer->response.constData(),
                            head.method == "HEAD" ? answer->headLength : answer->response.size());
        return finishPlainExchange(head, answer->status, true);
    }
    if (head.headerCount("transfer-encoding") > 0) {
        respondAndClose(HttpResponse::json(411, QStringLiteral("send the body with Content-Length")));
        return false;
    }
    qint64 bodyLength = 0;
    const QList<QByteArray> lengths = head.headerTokens("content-length");
    if (!lengths.isEmpty()) {
        bool ok = false;
        bodyLength = lengths.first().toLongLong(&ok);
        const bool consistent = std::all_of(lengths.begin(), lengths.end(),
                                            [&](const QByteArray &l) { return l == lengths.first(); });
        if (!ok || bodyLength < 0 || !consistent) {
            respondAndClose(HttpResponse::json(400, QStringLiteral("invalid Content-Length")));
            return false;
        }
    }
    if (bodyLength > m_context->limits.maxHttpBodyBytes) {
        respondAndClose(HttpResponse::json(
            413, QStringLiteral("request body over %1 bytes").arg(m_context->limits.maxHttpBodyBytes)));
        return false;
    }
    const qint64 total = headLength + bodyLength;
    if (m_socket->bytesAvailable() < total) {
        // curl and others wait for this before sending a body.
        if (!m_continueSent && head.hasToken("expect", "100-continue")) {
            m_continueSent = true;
            m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
        }
        return false;
    }

    QByteArray request = m_socket->read(total);
    // QHttpServer's routes answer GET; HEAD is GET without the content.
    const bool headRequest = head.method == "HEAD";
    if (headRequest)
        request.replace(0, 4, "GET");
    if (!m_exchange) {
        m_exchange = new HttpExchangeSocket(m_socket, this);
        connect(m_exchange, &HttpExchangeSocket::closeRequested, this, [this] {
            if (m_state == State::AwaitingRequest) {
                m_state = State::Closing;
                m_socket->disconnectFromHost();
            }
        });
        m_context->http->adopt(m_exchange);
    }
    m_exchange->deliver(request, headRequest);
    return finishPlainExchange(head, m_exchange->lastStatus(), false);
}

bool FrontConnection::finishPlainExchange(const RequestHead &head, int status, bool answeredByFront)
{
    qCDebug(lcHttp).noquote() << m_socket->peerAddress().toString() << head.method << head.target
                              << "->" << status << (answeredByFront ? "(answered by the front)" : "");
    m_requestStarted = false;
    m_continueSent = false;
    if (m_state != State::AwaitingRequest)
        return false; // QHttpServer asked to close
    if (!head.keepAlive()) {
        m_state = State::Closing;
        m_socket->disconnectFromHost();
        return false;
    }
    armTimer(m_context->limits.httpIdleTimeoutMs);
    return true;
}

void FrontConnection::respondAndClose(const QByteArray &response)
{
    m_state = State::Closing;
    // Whatever else the client sent is discarded, now and until it closes:
    // closing with unread data would reset the connection and could destroy
    // the response before the client reads it.
    m_socket->readAll();
    connect(m_socket, &QTcpSocket::readyRead, this, [this] { m_socket->readAll(); });
    m_socket->write(response);
    m_socket->flush();
    armTimer(LingerMs);
    if (m_tls) {
        m_socket->disconnectFromHost();
        return;
    }
    if (m_socket->bytesToWrite() == 0)
        halfCloseWhenFlushed();
    else
        connect(m_socket, &QTcpSocket::bytesWritten, this, &FrontConnection::halfCloseWhenFlushed);
}

void FrontConnection::halfCloseWhenFlushed()
{
    if (!m_socket || m_socket->bytesToWrite() > 0)
        return;
    // Send FIN after the response; the client closes its side when it has read it.
#ifdef Q_OS_WIN
    ::shutdown(SOCKET(m_socket->socketDescriptor()), SD_SEND);
#else
    ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
#endif
}

void FrontConnection::recordHeadFailure(int status, const char *cause, const QString &reason,
                                        const QByteArray &partialHead)
{
    // Only what looks like a WebSocket handshake belongs in the refused-handshake list.
    if (!partialHead.isNull() && !partialHead.toLower().contains("websocket"))
        return;
    RefusedHandshake refusal;
    refusal.time = QDateTime::currentDateTimeUtc();
    refusal.peerAddress = m_socket->peerAddress();
    refusal.peerPort = m_socket->peerPort();
    refusal.status = status;
    refusal.cause = QLatin1String(cause);
    refusal.reason = reason;
    m_context->connections->recordRefusal(std::move(refusal));
}

void FrontConnection::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_timer.stop();
    m_listener->forget(this);
    deleteLater();
}
