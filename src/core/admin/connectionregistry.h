#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QHostAddress>
#include <QJsonObject>
#include <QMutex>
#include <QObject>
#include <QStringList>
#include <QWebSocketProtocol>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

class WebSocketSession;

// Counters of one live connection. Written by its worker thread without a
// lock (relaxed atomics), read by any thread for snapshots.
struct ConnectionStats
{
    std::atomic<quint64> messagesIn{0};
    std::atomic<quint64> messagesOut{0};
    std::atomic<quint64> bytesIn{0};
    std::atomic<quint64> bytesOut{0};
    std::atomic<qint64> lastActivityMs{0}; // ms since epoch
};

// A consistent copy of one connection, safe to keep and pass between threads.
struct ConnectionInfo
{
    quint64 id = 0;
    QHostAddress peerAddress;
    quint16 peerPort = 0;
    quint16 localPort = 0;
    QString path;
    QString origin;
    QString userAgent;
    QString user; // PRODUCT.md section 8; empty until the connection carries an identity
    QString subprotocol;
    bool subprotocolDefaulted = false; // no subprotocol offered: the configured default
    bool tls = false;
    QDateTime connectedAt;
    QDateTime lastActivity;
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;

    QString peer() const;
    // "jsonrpc", or "jsonrpc (default)" when the client offered none.
    QString subprotocolLabel() const;
    QJsonObject toJson() const;
};

// The counters of one live connection at one moment: what changes while it
// is open (everything else in ConnectionInfo is fixed at the handshake).
struct ConnectionActivity
{
    quint64 id = 0;
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    qint64 lastActivityMs = 0; // ms since epoch
};

// A handshake the server refused, with the answer it gave.
struct RefusedHandshake
{
    quint64 id = 0;
    QDateTime time;
    QHostAddress peerAddress;
    quint16 peerPort = 0;
    QString path;
    QString origin;
    QString userAgent;
    QStringList offeredSubprotocols;
    int status = 0;      // HTTP status sent, 0 when the connection was just closed
    QString cause;       // short kind: version, key, subprotocol, origin, token, limit, head_size, ...
    QString reason;

    QJsonObject toJson() const;
};

// Counters summed over every connection since start, live and closed.
struct TrafficTotals
{
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
};

// Every live WebSocket connection and the recent refused handshakes.
// Thread-safe: workers add/remove and count, the dashboard, the HTTP API and
// metrics read snapshots from any thread. Signals are emitted on the thread
// that made the change; connect with queued connections across threads.
class ConnectionRegistry : public QObject
{
    Q_OBJECT
public:
    static constexpr int RefusalHistory = 1000;

    explicit ConnectionRegistry(QObject *parent = nullptr);

    quint64 allocateId() { return m_nextId.fetch_add(1, std::memory_order_relaxed); }

    // Lists a session. Its info and counters are read from the session
    // itself (no copy per connection), so it must remove() itself before it
    // is destroyed.
    void add(WebSocketSession *session);
    void remove(quint64 id, int closeCode, const QString &closeReason);

    QList<ConnectionInfo> snapshot() const;
    std::optional<ConnectionInfo> connection(quint64 id) const;
    // The connections among `ids` that are still open, in id order.
    QList<ConnectionInfo> connections(QList<quint64> ids) const;
    // Every open connection's counters, in id order, into `out` (cleared
    // first; its capacity is reused), and the totals of totals() from the
    // same pass. Copies no strings and builds no dates: at thousands of
    // connections this is what a view that polls should call, fetching
    // the full info only for ids it has not seen (connections()).
    TrafficTotals activity(std::vector<ConnectionActivity> &out) const;
    int count() const;

    // Reaching a connection from any thread: the call is queued to its worker.
    bool sendText(quint64 id, const QByteArray &utf8);
    bool pushNotification(quint64 id, const QString &method, const QByteArray &paramsJson);
    // `code` is a close code as sent: one of QWebSocketProtocol's, or an
    // application's 4000-4999 (which that enum cannot hold).
    bool close(quint64 id, quint16 code, const QString &reason);
    // Closes every live connection; returns how many were asked to close.
    int closeAll(QWebSocketProtocol::CloseCode code, const QString &reason);

    void recordRefusal(RefusedHandshake refusal);
    // Refusals with an id greater than `afterId`, oldest first.
    QList<RefusedHandshake> refusalsAfter(quint64 afterId) const;

    quint64 totalOpened() const { return m_totalOpened.load(std::memory_order_relaxed); }
    quint64 totalRefused() const { return m_totalRefused.load(std::memory_order_relaxed); }
    TrafficTotals totals() const;
    // Refused handshakes since start, by cause.
    QHash<QString, quint64> refusalsByCause() const;

signals:
    void connectionOpened(quint64 id);
    void connectionClosed(quint64 id, int closeCode, const QString &closeReason);
    void handshakeRefused(quint64 refusalId);
    void becameEmpty();

private:
    static ConnectionInfo materialize(const WebSocketSession &session);
    template<typename F> bool postToSession(quint64 id, F &&call);

    mutable QMutex m_mutex;
    // Live sessions by id. A session removes itself under m_mutex before it
    // is destroyed, so the pointers are valid while the mutex is held.
    QHash<quint64, WebSocketSession *> m_entries;
    std::deque<RefusedHandshake> m_refusals;
    QHash<QString, quint64> m_refusalsByCause;
    TrafficTotals m_closedTotals; // counters of connections that are gone
    quint64 m_nextRefusalId = 1;
    std::atomic<quint64> m_nextId{1};
    std::atomic<quint64> m_totalOpened{0};
    std::atomic<quint64> m_totalRefused{0};
};
