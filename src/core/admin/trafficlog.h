#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QMutex>
#include <QString>

#include <atomic>
#include <memory>
#include <vector>

// One thing that crossed the wire (or was refused on it): a request, a reply,
// a push, a batch, a close the server started. Plain data, cheap to copy
// (the strings and the payload are implicitly shared).
struct TrafficEvent
{
    // In: from a client; Out: to a client; Server: an action of the server
    // API (a backend's publish, notify or close; PRODUCT.md section 7).
    enum class Direction : quint8 { In, Out, Server };
    enum class Kind : quint8 {
        Request,      // a call that expects a reply
        Notification, // a call without reply (JSON-RPC: no id; dm-rpc: requestId null)
        Response,     // a successful reply
        Error,        // an error reply (JSON-RPC error object)
        Push,         // a server-initiated notification (pub/sub, dashboard, server API)
        Batch,        // a whole JSON-RPC batch message, in or out
        Close,        // the server closed the connection because of a message, or the server API did
        Message       // an inbound message that could not be read as a call
    };
    enum class Verdict : quint8 {
        None,           // not a verdict-carrying event (push, batch wrapper)
        Accepted,
        UnknownMethod,
        DisabledMethod,
        InvalidParams,
        Refused,        // refused by a policy validator; `reason` names it
        HandlerFailed,
        ErrorResult,    // the handler (an upstream) answered with an error of its own
        ParseError,
        InvalidRequest
    };

    quint64 id = 0;            // assigned when the event enters the TrafficLog's ring, starts at 1
    qint64 timeMs = 0;         // ms since the epoch; 0: TrafficLog::append stamps it
    quint64 connectionId = 0;  // 0: none (a server-API publish reaches a topic)
    qint64 size = 0;           // bytes of the message (or batch element) as sent
    qint64 latencyUs = -1;     // request → reply, on replies; -1: not applicable
    qint64 upstreamUs = -1;    // of that, waiting for the upstream; -1: no upstream asked
    Direction direction = Direction::In;
    Kind kind = Kind::Message;
    Verdict verdict = Verdict::None;
    bool truncated = false;    // payload was cut at the log's payload cap
    QString subprotocol;
    QString method;
    QByteArray requestId;      // JSON text exactly as sent (`1.0`, `"a"`, `null`); empty: none
    QString reason;            // why: validator, error message, close reason
    QByteArray payload;        // the JSON text (UTF-8), possibly truncated

    // Fields: id, time (ISO 8601 UTC, ms), connection, direction, kind,
    // subprotocol, method, requestId, verdict, reason, size, payload,
    // truncated, latencyUs. Absent optional values are null.
    QJsonObject toJson() const;
    // One line of JSON Lines export: compact JSON and '\n'.
    QByteArray toJsonLine() const;

    static QLatin1String directionName(Direction direction);
    static QLatin1String kindName(Kind kind);
    static QLatin1String verdictName(Verdict verdict); // empty for None
};

// The RPC traffic of the whole server: one bounded ring of events with
// increasing 64-bit ids. Worker threads append concurrently; the dashboard,
// the HTTP API and the export read "everything after id N" from any thread.
// No signal per event: views poll latestId() at a steady rate and fetch in
// batches.
//
// Appends do not touch the shared ring: each appending thread has its own
// staging buffer (its own, practically uncontended, mutex), moved into the
// ring in batches — when it holds StagingBatch events, when its oldest event
// is StagingMaxAgeMs older than the one being appended, and whenever a reader
// asks (every reader first moves all staged events in). Ids are assigned when
// events enter the ring, so one thread's events (one connection's) keep their
// order, while different threads' events interleave by batch.
class TrafficLog
{
public:
    struct Limits
    {
        int capacity = 50'000;                       // events held at most
        int payloadCapBytes = 64 * 1024;             // one event's payload is cut here
        qint64 payloadBudgetBytes = 64 * 1024 * 1024; // payload bytes held at most, all events
    };

    struct Slice
    {
        QList<TrafficEvent> events; // oldest first
        quint64 dropped = 0;        // events after the asked id that are gone (overwritten or cleared)
        quint64 nextAfterId = 0;    // pass as `afterId` next time
        bool more = false;          // more events are waiting beyond this slice

        // {"events":[event...], "dropped":N, "nextAfter":id, "more":bool}
        // (the body of GET /api/traffic?after=N).
        QJsonObject toJson() const;
    };

    static constexpr int StagingBatch = 256;
    static constexpr qint64 StagingMaxAgeMs = 20;

    TrafficLog();
    explicit TrafficLog(const Limits &limits);
    ~TrafficLog();
    TrafficLog(const TrafficLog &) = delete;
    TrafficLog &operator=(const TrafficLog &) = delete;

    const Limits &limits() const { return m_limits; }

    // Disabled: append() drops events, and the protocols skip building them.
    bool isEnabled() const { return m_enabled.load(std::memory_order_relaxed); }
    void setEnabled(bool enabled) { m_enabled.store(enabled, std::memory_order_relaxed); }

    // Puts `payload` into `event`: shared when small, copied and cut at the
    // payload cap (on a UTF-8 character boundary) when large. Sets `size` to
    // the full length unless `size` is already set. Call outside any lock.
    void setPayload(TrafficEvent &event, const QByteArray &payload) const;

    // Stages the event (dropped when disabled); it gets its id when it enters
    // the ring, at the latest when any reader below is called. Thread-safe.
    void append(TrafficEvent &&event);

    // Events with an id greater than `afterId`, oldest first, at most
    // `maxCount`. Thread-safe.
    Slice eventsAfter(quint64 afterId, int maxCount = 1000) const;

    // The id of the newest event (0: none yet). Poll it: it moves staged
    // events in (a few short, uncontended locks) only when there are any.
    quint64 latestId() const;
    // The id of the oldest event still held (latestId() + 1 when empty).
    quint64 firstId() const;
    int size() const;
    // Events no longer held: overwritten by newer ones, evicted for the
    // payload budget, or cleared.
    quint64 droppedCount() const;

    // Forgets every held event; ids keep increasing.
    void clear();

private:
    struct Staging;

    const TrafficEvent &slot(quint64 id) const { return m_ring[size_t(id % m_ring.size())]; }

    Staging &stagingOfThisThread();
    // Moves `staging`'s events into the ring; the caller holds its mutex.
    // The ring's previous occupants are freed after the ring's lock is
    // released, by the committing thread.
    void commit(Staging &staging) const;
    // Commits every thread's staged events (readers call it first).
    void flushAll() const;

    const Limits m_limits;
    const quint64 m_serial; // tells this log from an earlier one at the same address
    std::atomic<bool> m_enabled{true};
    mutable std::atomic<quint64> m_latestId{0};

    // Every thread that appended has a staging here, owned by the log (a
    // thread's cache only points to it), so neither a thread's exit nor the
    // log's destruction leaves a dangling one behind.
    mutable QMutex m_stagingsMutex;
    std::vector<std::unique_ptr<Staging>> m_stagings;

    // The ring; mutable because readers commit staged events first.
    mutable QMutex m_mutex;
    mutable std::vector<TrafficEvent> m_ring; // slot of id = id % capacity
    mutable quint64 m_firstId = 1;            // oldest held id
    mutable quint64 m_nextId = 1;             // id of the next event
    mutable qint64 m_payloadBytes = 0;        // payload bytes of the held events
};
