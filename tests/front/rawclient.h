#pragma once

// Raw HTTP/WebSocket client side for the front tests: a QTcpSocket (or
// QSslSocket) whose bytes are collected as they arrive, a strict response
// reader, an upgrade-request builder and a minimal RFC 6455 frame codec, so
// tests can send exactly the malformed heads and frames a library client
// would never produce.

#include <QByteArray>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QPointer>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTest>
#include <QtEndian>

#include "admin/connectionregistry.h"

#include <memory>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

// One HTTP response as it came off the wire.
struct RawResponse
{
    QByteArray head;       // status line and header lines, without the blank line
    QByteArray version;    // "HTTP/1.1"
    int status = 0;
    QByteArray reason;
    HeaderList headers;
    QByteArray body;
    bool hasContentLength = false;

    // First value of a header (case-insensitive name), or a null QByteArray.
    QByteArray header(const QByteArray &name) const
    {
        for (const auto &h : headers) {
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        }
        return QByteArray();
    }
    int headerCount(const QByteArray &name) const
    {
        int n = 0;
        for (const auto &h : headers)
            n += h.first.compare(name, Qt::CaseInsensitive) == 0;
        return n;
    }
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

// One WebSocket frame as sent by the server (unmasked) or the test.
struct WsFrame
{
    bool fin = true;
    int opcode = 0;
    bool masked = false;
    QByteArray payload;

    int closeCode() const
    {
        return payload.size() >= 2 ? qFromBigEndian<quint16>(payload.constData()) : -1;
    }
    QByteArray closeReason() const { return payload.mid(2); }
};

namespace Ws {
enum Opcode { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

// A client frame: always masked (RFC 6455 section 5.3) unless told otherwise.
inline QByteArray encode(int opcode, const QByteArray &payload, bool fin = true, bool mask = true)
{
    QByteArray out;
    out.append(char((fin ? 0x80 : 0x00) | (opcode & 0x0F)));
    const quint64 len = quint64(payload.size());
    const char maskBit = mask ? char(0x80) : char(0);
    if (len < 126) {
        out.append(char(maskBit | char(len)));
    } else if (len <= 0xFFFF) {
        out.append(char(maskBit | 126));
        char ext[2];
        qToBigEndian<quint16>(quint16(len), ext);
        out.append(ext, 2);
    } else {
        out.append(char(maskBit | 127));
        char ext[8];
        qToBigEndian<quint64>(len, ext);
        out.append(ext, 8);
    }
    if (!mask)
        return out + payload;
    char key[4];
    qToBigEndian<quint32>(QRandomGenerator::global()->generate(), key);
    out.append(key, 4);
    QByteArray masked = payload;
    for (qsizetype i = 0; i < masked.size(); ++i)
        masked[i] = char(masked.at(i) ^ key[i % 4]);
    return out + masked;
}

inline QByteArray closeFrame(int code, const QByteArray &reason = {})
{
    char c[2];
    qToBigEndian<quint16>(quint16(code), c);
    return encode(Close, QByteArray(c, 2) + reason);
}

// Decodes one frame at the start of `data`; returns the bytes it took, 0 when incomplete.
inline qsizetype decode(const QByteArray &data, WsFrame *out)
{
    if (data.size() < 2)
        return 0;
    const auto b0 = quint8(data.at(0));
    const auto b1 = quint8(data.at(1));
    qsizetype pos = 2;
    quint64 len = b1 & 0x7F;
    if (len == 126) {
        if (data.size() < pos + 2)
            return 0;
        len = qFromBigEndian<quint16>(data.constData() + pos);
        pos += 2;
    } else if (len == 127) {
        if (data.size() < pos + 8)
            return 0;
        len = qFromBigEndian<quint64>(data.constData() + pos);
        pos += 8;
    }
    const bool masked = b1 & 0x80;
    char key[4] = {0, 0, 0, 0};
    if (masked) {
        if (data.size() < pos + 4)
            return 0;
        memcpy(key, data.constData() + pos, 4);
        pos += 4;
    }
    if (quint64(data.size() - pos) < len)
        return 0;
    out->fin = b0 & 0x80;
    out->opcode = b0 & 0x0F;
    out->masked = masked;
    out->payload = data.mid(pos, qsizetype(len));
    if (masked) {
        for (qsizetype i = 0; i < out->payload.size(); ++i)
            out->payload[i] = char(out->payload.at(i) ^ key[i % 4]);
    }
    return pos + qsizetype(len);
}

// Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2).
inline QByteArray acceptFor(const QByteArray &key)
{
    return QCryptographicHash::hash(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
                                    QCryptographicHash::Sha1)
        .toBase64();
}
} // namespace Ws

// An opening-handshake request, valid by default, that a test bends one
// field at a time. Header order is kept; set() with a null value removes.
struct UpgradeRequest
{
    static constexpr const char *DefaultKey = "dGhlIHNhbXBsZSBub25jZQ==";

    QByteArray method = "GET";
    QByteArray target = "/";
    QByteArray version = "HTTP/1.1";
    HeaderList headers = {
        {"Host", "127.0.0.1"},
        {"Upgrade", "websocket"},
        {"Connection", "Upgrade"},
        {"Sec-WebSocket-Key", DefaultKey},
        {"Sec-WebSocket-Version", "13"},
        {"Sec-WebSocket-Protocol", "echo.test"},
    };

    UpgradeRequest &set(const QByteArray &name, const QByteArray &value)
    {
        bool replaced = false;
        for (qsizetype i = 0; i < headers.size();) {
            if (headers.at(i).first.compare(name, Qt::CaseInsensitive) == 0) {
                if (value.isNull() || replaced) {
                    headers.removeAt(i);
                    continue;
                }
                headers[i].second = value;
                replaced = true;
            }
            ++i;
        }
        if (!replaced && !value.isNull())
            headers.append({name, value});
        return *this;
    }
    UpgradeRequest &add(const QByteArray &name, const QByteArray &value)
    {
        headers.append({name, value});
        return *this;
    }
    UpgradeRequest &remove(const QByteArray &name) { return set(name, QByteArray()); }

    QByteArray toBytes() const
    {
        QByteArray out = method + ' ' + target + ' ' + version + "\r\n";
        for (const auto &h : headers)
            out += h.first + ": " + h.second + "\r\n";
        return out + "\r\n";
    }
};

// A plain request head (and optional body) for the HTTP side.
inline QByteArray httpRequest(const QByteArray &method, const QByteArray &target,
                              const HeaderList &extra = {}, const QByteArray &body = {},
                              const QByteArray &version = "HTTP/1.1")
{
    QByteArray out = method + ' ' + target + ' ' + version + "\r\n";
    if (version == "HTTP/1.1")
        out += "Host: 127.0.0.1\r\n";
    for (const auto &h : extra)
        out += h.first + ": " + h.second + "\r\n";
    return out + "\r\n" + body;
}

// A client connection that collects every byte the server sends and notices
// when the server closes its side.
class RawClient
{
    Q_DISABLE_COPY_MOVE(RawClient) // the socket's slots hold `this`

public:
    explicit RawClient(QTcpSocket *socket = nullptr)
        : m_socket(socket ? socket : new QTcpSocket)
    {
        QObject::connect(m_socket.get(), &QTcpSocket::readyRead, m_socket.get(),
                         [this] { m_buffer += m_socket->readAll(); });
        QObject::connect(m_socket.get(), &QTcpSocket::disconnected, m_socket.get(), [this] {
            if (m_socket->isReadable())
                m_buffer += m_socket->readAll();
            m_closed = true;
        });
        QObject::connect(m_socket.get(), &QAbstractSocket::errorOccurred, m_socket.get(),
                         [this](QAbstractSocket::SocketError e) {
                             if (e == QAbstractSocket::RemoteHostClosedError)
                                 m_closed = true;
                             else
                                 m_error = e;
                         });
    }

    QTcpSocket *socket() const { return m_socket.get(); }

    bool connectTo(quint16 port, int timeoutMs = 5000)
    {
        m_socket->connectToHost(QStringLiteral("127.0.0.1"), port);
        const bool ok = QTest::qWaitFor(
            [&] { return m_socket->state() == QAbstractSocket::ConnectedState || m_error != -1; },
            timeoutMs)
            && m_socket->state() == QAbstractSocket::ConnectedState;
        m_localPort = m_socket->localPort();
        return ok;
    }

    // The client's port, also after the connection is gone.
    quint16 localPort() const { return m_localPort; }

    void send(const QByteArray &bytes)
    {
        m_socket->write(bytes);
        m_socket->flush();
    }

    // Everything received and not yet taken by readResponse()/readFrame().
    const QByteArray &buffer() const { return m_buffer; }
    QByteArray takeAll() { return std::exchange(m_buffer, QByteArray()); }
    bool closedByServer() const { return m_closed; }
    int socketError() const { return m_error; }

    // Waits until at least `n` unread bytes are there.
    bool waitForBytes(qsizetype n, int timeoutMs = 5000)
    {
        return QTest::qWaitFor([&] { return m_buffer.size() >= n || m_closed; }, timeoutMs)
            && m_buffer.size() >= n;
    }

    // Waits for the server to close the connection (FIN or RST).
    bool waitForClose(int timeoutMs = 5000)
    {
        return QTest::qWaitFor([&] { return m_closed || m_error != -1; }, timeoutMs);
    }

    // Reads one complete response: head, then a body of exactly
    // Content-Length bytes (none for 1xx); without Content-Length the body
    // runs to the close. False when it did not arrive in time.
    bool readResponse(RawResponse *out, int timeoutMs = 5000)
    {
        QElapsedTimer timer;
        timer.start();
        qsizetype headEnd = -1;
        if (!QTest::qWaitFor([&] { return (headEnd = m_buffer.indexOf("\r\n\r\n")) >= 0 || m_closed; },
                             timeoutMs)
            || headEnd < 0)
            return false;
        RawResponse r;
        r.head = m_buffer.left(headEnd);
        const QList<QByteArray> lines = r.head.split('\n');
        const QByteArray statusLine = lines.first().chopped(lines.first().endsWith('\r') ? 1 : 0);
        const qsizetype sp1 = statusLine.indexOf(' ');
        const qsizetype sp2 = statusLine.indexOf(' ', sp1 + 1);
        if (sp1 < 0)
            return false;
        r.version = statusLine.left(sp1);
        r.status = statusLine.mid(sp1 + 1, sp2 < 0 ? -1 : sp2 - sp1 - 1).toInt();
        r.reason = sp2 < 0 ? QByteArray() : statusLine.mid(sp2 + 1);
        for (qsizetype i = 1; i < lines.size(); ++i) {
            QByteArray line = lines.at(i);
            if (line.endsWith('\r'))
                line.chop(1);
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0)
                return false;
            r.headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
        }
        const qsizetype bodyStart = headEnd + 4;
        qint64 length = 0;
        if (r.status >= 200 && !r.header("content-length").isNull()) {
            r.hasContentLength = true;
            length = r.header("content-length").toLongLong();
        } else if (r.status >= 200) {
            length = -1; // to the close
        }
        if (length >= 0) {
            if (!QTest::qWaitFor([&] { return m_buffer.size() - bodyStart >= length || m_closed; },
                                 int(qMax<qint64>(1, timeoutMs - timer.elapsed())))
                || m_buffer.size() - bodyStart < length)
                return false;
            r.body = m_buffer.mid(bodyStart, qsizetype(length));
            m_buffer.remove(0, bodyStart + qsizetype(length));
        } else {
            if (!waitForClose(int(qMax<qint64>(1, timeoutMs - timer.elapsed()))))
                return false;
            r.body = m_buffer.mid(bodyStart);
            m_buffer.clear();
        }
        *out = r;
        return true;
    }

    // Reads one WebSocket frame sent by the server.
    bool readFrame(WsFrame *out, int timeoutMs = 5000)
    {
        qsizetype used = 0;
        (void)QTest::qWaitFor([&] { return (used = Ws::decode(m_buffer, out)) > 0 || m_closed; }, timeoutMs);
        if (used <= 0)
            used = Ws::decode(m_buffer, out);
        if (used <= 0)
            return false;
        m_buffer.remove(0, used);
        return true;
    }

    // Reads frames until one that is not a ping (answering nothing).
    bool readDataOrCloseFrame(WsFrame *out, int timeoutMs = 5000)
    {
        QElapsedTimer timer;
        timer.start();
        while (readFrame(out, int(qMax<qint64>(1, timeoutMs - timer.elapsed())))) {
            if (out->opcode != Ws::Ping && out->opcode != Ws::Pong)
                return true;
        }
        return false;
    }

    // Sends RST instead of FIN when the socket is aborted or closed.
    void setLingerZero()
    {
#ifdef Q_OS_UNIX
        struct linger l = {1, 0};
        ::setsockopt(int(m_socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &l, sizeof l);
#endif
    }

private:
    std::unique_ptr<QTcpSocket> m_socket;
    QByteArray m_buffer;
    bool m_closed = false;
    int m_error = -1;
    quint16 m_localPort = 0;
};

// Sends `request` on a fresh connection to `port` and reads the answer.
inline bool exchange(quint16 port, const QByteArray &request, RawResponse *response,
                     RawClient *keep = nullptr)
{
    RawClient local;
    RawClient &client = keep ? *keep : local;
    if (!client.connectTo(port))
        return false;
    client.send(request);
    return client.readResponse(response);
}

// Upgrades a plain QTcpSocket (one a test wants to stop reading from, which
// RawClient never does) with the default UpgradeRequest. True once the 101
// has come; bytes after it stay in `rest`.
inline bool upgradePlainSocket(QTcpSocket &socket, quint16 port, QByteArray *rest)
{
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    if (!socket.waitForConnected(5000))
        return false;
    socket.write(UpgradeRequest().toBytes());
    QByteArray received;
    if (!QTest::qWaitFor([&] {
            received += socket.readAll();
            return received.contains("\r\n\r\n");
        }, 5000)
        || !received.startsWith("HTTP/1.1 101")) {
        qWarning() << "no 101:" << received.left(200);
        return false;
    }
    *rest = received.mid(received.indexOf("\r\n\r\n") + 4);
    return true;
}

// Checks the shape every refusal of the front must have: a complete HTTP/1.1
// response with the status, a JSON body whose "status" repeats it and whose
// "error" says why, Content-Length matching the body, "Connection: close",
// and then the server closes the connection. Use through VERIFY_REFUSAL.
inline void verifyRefusal(RawClient &client, const RawResponse &r, int status)
{
    QCOMPARE(r.version, QByteArray("HTTP/1.1"));
    QCOMPARE(r.status, status);
    QVERIFY2(!r.reason.isEmpty(), r.head.constData());
    QVERIFY2(r.hasContentLength, r.head.constData());
    QCOMPARE(r.headerCount("content-length"), 1);
    QCOMPARE(r.header("content-length").toLongLong(), qint64(r.body.size()));
    QCOMPARE(r.header("connection"), QByteArray("close"));
    QCOMPARE(r.header("content-type"), QByteArray("application/json"));
    const QJsonObject body = r.json();
    QCOMPARE(body.value("status").toInt(), status);
    QVERIFY2(!body.value("error").toString().isEmpty(), r.body.constData());
    QVERIFY2(client.waitForClose(), "the server kept the connection open after a refusal");
    QVERIFY2(client.buffer().isEmpty(), client.buffer().constData()); // nothing after the response
}

#define VERIFY_REFUSAL(client, response, status)                                                  \
    do {                                                                                           \
        verifyRefusal(client, response, status);                                                   \
        if (QTest::currentTestFailed())                                                            \
            return;                                                                                \
    } while (false)

// Records ConnectionRegistry::connectionClosed on the test's thread. The
// signal is emitted on worker threads, where a QSignalSpy would append while
// the test reads it.
class ClosedConnections : public QObject
{
public:
    struct Close
    {
        quint64 id;
        int code;
        QString reason;
    };

    explicit ClosedConnections(ConnectionRegistry *registry)
    {
        connect(registry, &ConnectionRegistry::connectionClosed, this,
                [this](quint64 id, int code, const QString &reason) { m_closes.append({id, code, reason}); },
                Qt::QueuedConnection);
    }
    int count() const { return int(m_closes.size()); }
    const QList<Close> &closes() const { return m_closes; }

private:
    QList<Close> m_closes;
};
