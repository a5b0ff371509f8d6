#pragma once

// Clients for the admin API suites: a raw HTTP/1.1 exchange over QTcpSocket
// (exact control of the request's headers, every response header visible),
// and a QWebSocket that speaks `jsonrpc` or `dm-rpc` and keeps what it
// receives. Everything runs on the test's thread; waits spin its event loop.

#include "testsupport.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QList>
#include <QNetworkRequest>
#include <QPair>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTest>
#include <QUrl>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

#include <functional>

using HttpHeaders = QList<QPair<QByteArray, QByteArray>>;

// One HTTP response as it came off the wire.
struct HttpReply
{
    bool complete = false; // status line, headers and the whole body arrived
    int status = 0;
    HttpHeaders headers;
    QByteArray body;

    // First value of a header (case-insensitive name), or a null QByteArray.
    QByteArray header(const QByteArray &name) const
    {
        for (const auto &h : headers) {
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        }
        return QByteArray();
    }
    QJsonValue json() const
    {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
        if (error.error != QJsonParseError::NoError)
            return QJsonValue(QJsonValue::Undefined);
        return doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object());
    }
    QJsonObject object() const { return json().toObject(); }
    QJsonArray array() const { return json().toArray(); }
    // For failure messages.
    QByteArray describe() const { return QByteArray::number(status) + ' ' + body.left(500); }
};

// Sends one request on a fresh connection to 127.0.0.1:`port` and reads the
// response: the head, then Content-Length bytes of body (none for 1xx), or
// the body up to the close when there is no Content-Length.
inline HttpReply httpExchange(quint16 port, const QByteArray &method, const QByteArray &target,
                              const HttpHeaders &headers = {}, const QByteArray &body = QByteArray(),
                              int timeoutMs = 5000)
{
    HttpReply reply;
    QTcpSocket socket;
    QByteArray buffer;
    bool closed = false;
    QObject::connect(&socket, &QTcpSocket::readyRead, [&] { buffer += socket.readAll(); });
    QObject::connect(&socket, &QTcpSocket::disconnected, [&] { closed = true; });
    QObject::connect(&socket, &QTcpSocket::errorOccurred, [&] { closed = true; });
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    if (!socket.waitForConnected(timeoutMs))
        return reply;

    QByteArray request = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    bool hasLength = false;
    for (const auto &h : headers) {
        request += h.first + ": " + h.second + "\r\n";
        hasLength = hasLength || h.first.compare("content-length", Qt::CaseInsensitive) == 0;
    }
    if (!hasLength && (!body.isNull() || method == "PATCH" || method == "POST"))
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    request += "\r\n" + body;
    socket.write(request);

    qsizetype headEnd = -1;
    if (!QTest::qWaitFor([&] { return (headEnd = buffer.indexOf("\r\n\r\n")) >= 0 || closed; }, timeoutMs))
        return reply;
    buffer += socket.readAll();
    headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return reply;
    const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
    const QList<QByteArray> statusLine = lines.first().trimmed().split(' ');
    if (statusLine.size() < 2 || !statusLine.first().startsWith("HTTP/1."))
        return reply;
    reply.status = statusLine.at(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return reply;
        reply.headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
    }
    const qsizetype bodyStart = headEnd + 4;
    if (reply.status < 200) {
        reply.complete = true;
        reply.body = buffer.mid(bodyStart); // whatever followed (WebSocket frames)
        return reply;
    }
    if (!reply.header("transfer-encoding").isNull())
        return reply; // not expected from this server; fail loudly
    const QByteArray lengthHeader = reply.header("content-length");
    if (lengthHeader.isNull()) {
        (void)QTest::qWaitFor([&] { return closed; }, timeoutMs);
        reply.body = buffer.mid(bodyStart);
        reply.complete = closed;
        return reply;
    }
    const qsizetype length = lengthHeader.toLongLong();
    (void)QTest::qWaitFor([&] { return buffer.size() - bodyStart >= length || closed; }, timeoutMs);
    buffer += socket.readAll();
    if (buffer.size() - bodyStart < length)
        return reply;
    reply.body = buffer.mid(bodyStart, length);
    reply.complete = true;
    return reply;
}

// The headers of a valid opening handshake offering `protocols`, plus `extra`.
inline HttpHeaders upgradeHeaders(const QByteArray &protocols, const HttpHeaders &extra = {})
{
    HttpHeaders headers{{"Upgrade", "websocket"},
                        {"Connection", "Upgrade"},
                        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                        {"Sec-WebSocket-Version", "13"}};
    if (!protocols.isNull())
        headers.append(qMakePair(QByteArray("Sec-WebSocket-Protocol"), protocols));
    return headers + extra;
}

// The admin API of one server, with or without a token.
struct AdminClient
{
    quint16 port = 0;
    QByteArray token; // empty: no Authorization header

    HttpHeaders auth() const
    {
        return token.isEmpty() ? HttpHeaders{} : HttpHeaders{{"Authorization", "Bearer " + token}};
    }
    HttpReply get(const QByteArray &target) const { return httpExchange(port, "GET", target, auth()); }
    HttpReply patch(const QByteArray &target, const QByteArray &body) const
    {
        HttpHeaders headers = auth();
        headers.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
        return httpExchange(port, "PATCH", target, headers, body);
    }
    HttpReply setEnabled(const QString &method, bool enabled) const
    {
        return patch("/api/methods/" + method.toUtf8(), enabled ? "{\"enabled\":true}" : "{\"enabled\":false}");
    }
    // The /api/methods entry of `name`, or an empty object.
    QJsonObject method(const QString &name) const
    {
        const QJsonArray list = get("/api/methods").array();
        for (const QJsonValue &m : list) {
            if (m.toObject().value("name").toString() == name)
                return m.toObject();
        }
        return QJsonObject();
    }
    QJsonArray connections() const { return get("/api/connections").array(); }
};

inline QJsonValue parseJsonText(const QByteArray &text)
{
    // Wrapped so that scalars parse too.
    const QJsonDocument doc = QJsonDocument::fromJson("[" + text + "]");
    return doc.isArray() && doc.array().size() == 1 ? doc.array().at(0) : QJsonValue(QJsonValue::Undefined);
}

// A WebSocket client of the bundled subprotocols. Every text message it
// receives is kept (raw) until a call takes its reply; pushes stay queued.
class RpcClient : public QObject
{
public:
    RpcClient()
    {
        connect(&m_socket, &QWebSocket::textMessageReceived, this,
                [this](const QString &text) { m_received << text.toUtf8(); });
        connect(&m_socket, &QWebSocket::disconnected, this, [this] { m_disconnected = true; });
    }

    QWebSocket &socket() { return m_socket; }

    // Opens `url` offering `protocol`; `headers` go into the handshake.
    bool open(const QUrl &url, const QString &protocol, const HttpHeaders &headers = {})
    {
        QNetworkRequest request(url);
        for (const auto &h : headers)
            request.setRawHeader(h.first, h.second);
        QWebSocketHandshakeOptions options;
        options.setSubprotocols({protocol});
        QSignalSpy connected(&m_socket, &QWebSocket::connected);
        m_socket.open(request, options);
        (void)QTest::qWaitFor([&] { return !connected.isEmpty() || m_disconnected; }, 5000);
        return m_socket.state() == QAbstractSocket::ConnectedState && m_socket.subprotocol() == protocol;
    }
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    bool waitForDisconnected(int timeoutMs = 5000)
    {
        return QTest::qWaitFor([&] { return m_disconnected; }, timeoutMs);
    }
    int closeCode() const { return int(m_socket.closeCode()); }

    void send(const QByteArray &text) { m_socket.sendTextMessage(QString::fromUtf8(text)); }

    // JSON-RPC 2.0: a request with a fresh numeric id; returns the reply
    // object with that id (empty after 5 s without one). `sent`/`received`
    // get the exact texts when given.
    QJsonObject call(const QString &method, const QJsonValue &params = QJsonValue(QJsonValue::Undefined),
                     QByteArray *sent = nullptr, QByteArray *received = nullptr)
    {
        const int id = ++m_lastId;
        send(request(method, params, id, sent));
        const QByteArray reply = takeWhere([id](const QJsonValue &v) {
            return v.isObject() && v.toObject().value("id") == QJsonValue(id);
        });
        if (received)
            *received = reply;
        return parseJsonText(reply).toObject();
    }
    // Sends a request and returns its id; the reply stays queued.
    int callAsync(const QString &method, const QJsonValue &params = QJsonValue(QJsonValue::Undefined))
    {
        const int id = ++m_lastId;
        send(request(method, params, id, nullptr));
        return id;
    }

    // dm-rpc: [method, payload, id] → the [method, result, id] reply (empty
    // when none came, e.g. the server closed the connection).
    QJsonArray callDm(const QString &method, const QJsonValue &payload)
    {
        const int id = ++m_lastId;
        send(QJsonDocument(QJsonArray{method, payload, id}).toJson(QJsonDocument::Compact));
        const QByteArray reply = takeWhere([id](const QJsonValue &v) {
            return v.isArray() && v.toArray().size() == 3 && v.toArray().at(2) == QJsonValue(id);
        });
        return parseJsonText(reply).toArray();
    }

    // The first received message matching `match`, removed from the queue;
    // null when none arrives within `timeoutMs`.
    QByteArray takeWhere(const std::function<bool(const QJsonValue &)> &match, int timeoutMs = 5000)
    {
        QByteArray found;
        (void)QTest::qWaitFor([&] {
            for (qsizetype i = 0; i < m_received.size(); ++i) {
                if (match(parseJsonText(m_received.at(i)))) {
                    found = m_received.takeAt(i);
                    return true;
                }
            }
            return m_disconnected;
        }, timeoutMs);
        return found;
    }
    // Messages received and not taken by a call, oldest first.
    QList<QByteArray> &received() { return m_received; }

private:
    static QByteArray request(const QString &method, const QJsonValue &params, int id, QByteArray *sent)
    {
        QJsonObject r{{"jsonrpc", "2.0"}, {"method", method}, {"id", id}};
        if (!params.isUndefined())
            r.insert("params", params);
        const QByteArray text = QJsonDocument(r).toJson(QJsonDocument::Compact);
        if (sent)
            *sent = text;
        return text;
    }

    QWebSocket m_socket;
    QList<QByteArray> m_received;
    bool m_disconnected = false;
    int m_lastId = 0;
};

// The ws:// URL of a started Switchboard, at `pathAndQuery`.
inline QUrl wsUrlOf(const Switchboard &switchboard, const QString &pathAndQuery = QStringLiteral("/"))
{
    const QUrl http = switchboard.host()->listeners().value(0);
    return QUrl(QStringLiteral("ws://%1:%2%3").arg(http.host()).arg(http.port()).arg(pathAndQuery));
}

inline quint16 portOf(const Switchboard &switchboard)
{
    return quint16(switchboard.host()->listeners().value(0).port());
}
