#pragma once

#include "admin/trafficlog.h"

#include <QAbstractTableModel>
#include <QHash>

#include <deque>

class ConnectionMonitor;

// The server's RPC traffic as a table, oldest first, read from the core's
// TrafficLog ("everything after id N") on every ConnectionMonitor tick -
// never one signal per message. A tick looks at TrafficLog::latestId()
// (cheap: it moves the workers' staged events in) and, when there is
// something new, fetches at most maxEventsPerTick() events (and for at most
// ~4 ms) in short slices (the log's lock is held for a few hundred events at
// a time, so the server's workers hardly notice), appends them with one
// beginInsertRows() and drops the oldest rows beyond maxRows() with one
// beginRemoveRows() at the front.
// What is left over waits for the next tick; a backlog larger than the table
// would ever hold is skipped (counted as dropped). 2,000 events per tick at
// 10 Hz is 20,000 rows a second, more than anyone reads, and keeps one tick's
// work (fetch, proxy, view) around 5 ms on a busy machine
// (docs/PERFORMANCE-GUI.md).
//
// Requests and their replies are linked by (connection, request id): a
// request row knows its reply and shows the reply's latency (and upstream
// time), a reply knows its request.
//
// Paused, the model stops fetching: pendingCount() says how many events
// arrived meanwhile; resuming catches up, as far as the log still holds them.
class TrafficModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Time,
        Connection,
        Direction,
        Kind,
        Subprotocol,
        Method,
        RequestId,
        Verdict,
        Latency,
        Upstream, // of the latency, the time waiting for an HTTP upstream
        Size,
        Payload,
        ColumnCount
    };
    enum Role {
        EventIdRole = Qt::UserRole + 1, // the event's id in the log, on every column
        LinkedEventIdRole,              // the request's reply / the reply's request; 0: none
        ConnectionIdRole,
    };

    static constexpr int DefaultMaxRows = 20'000;
    static constexpr int DefaultMaxEventsPerTick = 2'000;
    static constexpr qint64 DefaultPayloadBudgetBytes = 64 * 1024 * 1024;

    // `monitor` may be null: then call fetch() yourself.
    TrafficModel(TrafficLog *log, ConnectionMonitor *monitor, QObject *parent = nullptr);

    TrafficLog *log() const { return m_log; }

    void setMaxRows(int rows);
    int maxRows() const { return m_maxRows; }
    void setMaxEventsPerTick(int events);
    int maxEventsPerTick() const { return m_maxPerTick; }
    // Payload bytes the rows may hold together; the oldest rows go beyond it.
    void setPayloadBudget(qint64 bytes);

    // Takes in what the log has after lastEventId() (at most
    // maxEventsPerTick()); returns how many rows were added. Called on every
    // monitor tick; does nothing while paused.
    int fetch();

    bool isPaused() const { return m_paused; }
    void setPaused(bool paused);
    // Events the log received after lastEventId(), not taken in yet (while paused).
    quint64 pendingCount() const;

    // Empties the table; events already seen do not come back.
    void clear();

    // Id of the newest event taken in (or skipped).
    quint64 lastEventId() const { return m_lastId; }
    // Events not shown any more, or never: older rows let go for the bound,
    // events the log had already overwritten, and backlog skipped.
    quint64 droppedCount() const { return m_dropped; }

    const TrafficEvent &eventAt(int row) const { return m_rows[size_t(row)].event; }
    quint64 linkedEventId(int row) const { return m_rows[size_t(row)].linkedId; }
    int rowOfEvent(quint64 eventId) const; // -1 when not held

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString payloadPreview(const QByteArray &payload, int maxChars = 160);
    // "in", "out" or "server" (translated), as the Direction column shows it.
    static QString directionText(TrafficEvent::Direction direction);
    static QString latencyText(qint64 latencyUs);
    // "accepted", "accepted: upstream orders", "handler-failed: upstream orders: timeout", "error from
    // handler: upstream orders" (the handler answered with an error of its own).
    static QString verdictText(const TrafficEvent &event);
    // The event's upstream time, or on a request its reply's; -1: none.
    qint64 upstreamUsAt(int row) const;

signals:
    void droppedCountChanged(quint64 dropped);
    void pausedChanged(bool paused);
    // While paused, on every tick: events waiting.
    void pendingCountChanged(quint64 pending);
    // After rows were appended by fetch().
    void fetched(int rows);

private:
    struct Row
    {
        TrafficEvent event;
        quint64 linkedId = 0;
        qint64 replyLatencyUs = -1; // on requests: the linked reply's latency
        qint64 replyUpstreamUs = -1; // on requests: the linked reply's upstream time
    };
    struct PendingKey
    {
        quint64 connectionId;
        QByteArray requestId;
        bool operator==(const PendingKey &o) const
        {
            return connectionId == o.connectionId && requestId == o.requestId;
        }
    };
    friend size_t qHash(const PendingKey &key, size_t seed) { return qHashMulti(seed, key.connectionId, key.requestId); }

    void onTick();
    void removeFront(int count);
    void addDropped(quint64 count);
    Row *rowForId(quint64 eventId);

    TrafficLog *m_log;
    std::deque<Row> m_rows; // ordered by event id
    QHash<PendingKey, quint64> m_pendingRequests; // request event id awaiting its reply
    int m_maxRows = DefaultMaxRows;
    int m_maxPerTick = DefaultMaxEventsPerTick;
    qint64 m_payloadBudget = DefaultPayloadBudgetBytes;
    qint64 m_payloadBytes = 0;
    quint64 m_lastId = 0;
    quint64 m_dropped = 0;
    quint64 m_lastPending = 0;
    bool m_paused = false;
};
