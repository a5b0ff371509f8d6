#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QWebSocketProtocol>

#include <chrono>
#include <memory>

struct ConnectionInfo;

// When a message arrived: read once per message by the connection and shared
// by everything that stamps or times it (activity, traffic log, latencies).
struct MessageArrival
{
    using Clock = std::chrono::steady_clock;
    qint64 timeMs = 0;     // ms since the epoch
    Clock::time_point at;  // for latencies
    static MessageArrival now() { return MessageArrival{QDateTime::currentMSecsSinceEpoch(), Clock::now()}; }
};

// The way back to one client, handed to a subprotocol's session. It lives on
// the connection's worker thread; call it only from there (handlers run
// there). To reach a connection from elsewhere use ConnectionRegistry.
class ConnectionLink
{
public:
    virtual ~ConnectionLink() = default;
    virtual quint64 connectionId() const = 0;
    virtual QString subprotocol() const = 0;
    // Where the client came from (for the call context handed to handlers
    // and upstreams); empty when not known.
    virtual QString path() const { return QString(); }
    virtual QString peer() const { return QString(); }
    virtual QString origin() const { return QString(); }
    // Sends one text message and counts it. `utf8` must be valid UTF-8: it
    // goes on the wire as it is (a client closes on anything else, 1007).
    virtual void sendText(const QByteArray &utf8) = 0;
    // Starts the closing handshake; `reason` is cut to 123 bytes of UTF-8.
    virtual void close(QWebSocketProtocol::CloseCode code, const QString &reason) = 0;
};

// One connection's reader of a subprotocol: created when the connection's
// first message or push arrives (an idle connection never needs one),
// destroyed when the connection ends, always on the connection's worker
// thread.
class ProtocolSession
{
public:
    virtual ~ProtocolSession() = default;
    // A complete text message, already checked as UTF-8 and within the size limit.
    virtual void textMessage(const QByteArray &utf8) = 0;
    // The same, with the time the connection received it (saves the session
    // its own clock reads). By default the time is not used.
    virtual void textMessageAt(const QByteArray &utf8, const MessageArrival &arrival)
    {
        Q_UNUSED(arrival);
        textMessage(utf8);
    }
    // A push from elsewhere in the server (pub/sub, dashboard "send"):
    // `method` and `params` in this protocol's notification format.
    virtual void pushNotification(const QString &method, const QByteArray &paramsJson) = 0;
};

// A named subprotocol that can be offered in Sec-WebSocket-Protocol.
class Subprotocol
{
public:
    virtual ~Subprotocol() = default;
    virtual QString name() const = 0;
    virtual QString description() const = 0;
    // Called on the connection's worker thread; `link` outlives the session.
    virtual std::unique_ptr<ProtocolSession> createSession(ConnectionLink &link) = 0;
};
