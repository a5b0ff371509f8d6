#include "admin/trafficlog.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>
#include <QTimeZone>

#include <algorithm>
#include <thread>

namespace {
TrafficLog::Limits sane(TrafficLog::Limits limits)
{
    limits.capacity = std::max(1, limits.capacity);
    limits.payloadCapBytes = std::max(0, limits.payloadCapBytes);
    limits.payloadBudgetBytes = std::max<qint64>(0, limits.payloadBudgetBytes);
    return limits;
}

// Longest prefix of `bytes` of at most `cap` bytes that does not end inside
// a UTF-8 sequence.
qsizetype utf8Prefix(const QByteArray &bytes, qsizetype cap)
{
    if (bytes.size() <= cap)
        return bytes.size();
    qsizetype n = cap;
    // Step back over continuation bytes to the lead byte of the cut character.
    while (n > 0 && (static_cast<unsigned char>(bytes.at(n)) & 0xC0) == 0x80)
        --n;
    return n;
}
} // namespace

QLatin1String TrafficEvent::directionName(Direction direction)
{
    switch (direction) {
    case Direction::In: return QLatin1String("in");
    case Direction::Out: return QLatin1String("out");
    case Direction::Server: return QLatin1String("server");
    }
    return QLatin1String("in");
}

QLatin1String TrafficEvent::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Request: return QLatin1String("request");
    case Kind::Notification: return QLatin1String("notification");
    case Kind::Response: return QLatin1String("response");
    case Kind::Error: return QLatin1String("error");
    case Kind::Push: return QLatin1String("push");
    case Kind::Batch: return QLatin1String("batch");
    case Kind::Close: return QLatin1String("close");
    case Kind::Message: return QLatin1String("message");
    }
    return QLatin1String("message");
}

QLatin1String TrafficEvent::verdictName(Verdict verdict)
{
    switch (verdict) {
    case Verdict::None: return QLatin1String();
    case Verdict::Accepted: return QLatin1String("accepted");
    case Verdict::UnknownMethod: return QLatin1String("unknown");
    case Verdict::DisabledMethod: return QLatin1String("disabled");
    case Verdict::InvalidParams: return QLatin1String("invalid-params");
    case Verdict::Refused: return QLatin1String("refused");
    case Verdict::HandlerFailed: return QLatin1String("handler-failed");
    case Verdict::ErrorResult: return QLatin1String("error-result");
    case Verdict::ParseError: return QLatin1String("parse-error");
    case Verdict::InvalidRequest: return QLatin1String("invalid-request");
    }
    return QLatin1String();
}

QJsonObject TrafficEvent::toJson() const
{
    const auto orNull = [](const QString &s) { return s.isEmpty() ? QJsonValue() : QJsonValue(s); };
    QJsonObject o;
    o.insert(QLatin1String("id"), double(id));
#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
    const QDateTime time = QDateTime::fromMSecsSinceEpoch(timeMs, QTimeZone::UTC);
#else
    const QDateTime time = QDateTime::fromMSecsSinceEpoch(timeMs, Qt::UTC);
#endif
    o.insert(QLatin1String("time"), time.toString(Qt::ISODateWithMs));
    o.insert(QLatin1String("connection"), double(connectionId));
    o.insert(QLatin1String("direction"), directionName(direction));
    o.insert(QLatin1String("kind"), kindName(kind));
    o.insert(QLatin1String("subprotocol"), subprotocol);
    o.insert(QLatin1String("method"), orNull(method));
    o.insert(QLatin1String("requestId"),
             requestId.isEmpty() ? QJsonValue() : QJsonValue(QString::fromUtf8(requestId)));
    o.insert(QLatin1String("verdict"),
             verdict == Verdict::None ? QJsonValue() : QJsonValue(verdictName(verdict)));
    o.insert(QLatin1String("reason"), orNull(reason));
    o.insert(QLatin1String("size"), double(size));
    o.insert(QLatin1String("payload"), QString::fromUtf8(payload));
    o.insert(QLatin1String("truncated"), truncated);
    o.insert(QLatin1String("latencyUs"), latencyUs < 0 ? QJsonValue() : QJsonValue(double(latencyUs)));
    if (upstreamUs >= 0)
        o.insert(QLatin1String("upstreamUs"), double(upstreamUs));
    return o;
}

QByteArray TrafficEvent::toJsonLine() const
{
    QByteArray line = QJsonDocument(toJson()).toJson(QJsonDocument::Compact);
    line += '\n';
    return line;
}

QJsonObject TrafficLog::Slice::toJson() const
{
    QJsonArray list;
    for (const TrafficEvent &e : events)
        list.append(e.toJson());
    return QJsonObject{
        {QLatin1String("events"), list},
        {QLatin1String("dropped"), double(dropped)},
        {QLatin1String("nextAfter"), double(nextAfterId)},
        {QLatin1String("more"), more},
    };
}

// One thread's events on their way into the ring.
struct TrafficLog::Staging
{
    QMutex mutex;                      // taken by its thread per event, by readers rarely
    std::vector<TrafficEvent> events;  // oldest first
    std::atomic<bool> empty{true};     // events.empty(), for readers that skip idle stagings
    std::thread::id thread;            // the thread that appends here
    int idleReads = 0;                 // readers that found it empty in a row (guarded by m_stagingsMutex)
};

namespace {
std::atomic<quint64> g_nextLogSerial{1};
// Readers that find a staging empty this many times in a row free its buffer
// (its thread may be gone: stagings live as long as the log).
constexpr int IdleReadsBeforeRelease = 50;
} // namespace

TrafficLog::TrafficLog()
    : TrafficLog(Limits{})
{
}

TrafficLog::TrafficLog(const Limits &limits)
    : m_limits(sane(limits))
    , m_serial(g_nextLogSerial.fetch_add(1, std::memory_order_relaxed))
    , m_ring(size_t(m_limits.capacity))
{
}

TrafficLog::~TrafficLog() = default;

void TrafficLog::setPayload(TrafficEvent &event, const QByteArray &payload) const
{
    if (event.size == 0)
        event.size = payload.size();
    const qsizetype cap = m_limits.payloadCapBytes;
    if (payload.size() > cap) {
        event.payload = QByteArray(payload.constData(), utf8Prefix(payload, cap));
        event.truncated = true;
    } else if (payload.capacity() - payload.size() > 64 + payload.size() / 4) {
        // A buffer with much slack (QString::toUtf8 reserves 3 bytes per
        // character): keep an exact copy, not the whole allocation.
        event.payload = QByteArray(payload.constData(), payload.size());
    } else {
        event.payload = payload;
    }
}

TrafficLog::Staging &TrafficLog::stagingOfThisThread()
{
    // Keyed by the log's serial, not its address: a log created where a
    // destroyed one was must not find the old one's staging.
    struct Cache
    {
        quint64 logSerial = 0;
        Staging *staging = nullptr;
    };
    static thread_local Cache cache;
    if (cache.logSerial == m_serial)
        return *cache.staging;
    const std::thread::id self = std::this_thread::get_id();
    QMutexLocker locker(&m_stagingsMutex);
    Staging *found = nullptr;
    for (const std::unique_ptr<Staging> &staging : m_stagings) {
        if (staging->thread == self) { // a thread back to this log, or a new one with an old one's id
            found = staging.get();
            break;
        }
    }
    if (!found) {
        m_stagings.push_back(std::make_unique<Staging>());
        found = m_stagings.back().get();
        found->thread = self;
    }
    cache = Cache{m_serial, found};
    return *found;
}

void TrafficLog::append(TrafficEvent &&event)
{
    if (!isEnabled())
        return;
    if (event.timeMs == 0)
        event.timeMs = QDateTime::currentMSecsSinceEpoch();
    Staging &staging = stagingOfThisThread();
    QMutexLocker locker(&staging.mutex);
    if (staging.events.capacity() == 0)
        staging.events.reserve(StagingBatch);
    staging.events.push_back(std::move(event));
    if (staging.events.size() == 1)
        staging.empty.store(false, std::memory_order_release);
    if (staging.events.size() >= size_t(StagingBatch)
        || staging.events.back().timeMs - staging.events.front().timeMs >= StagingMaxAgeMs)
        commit(staging);
}

void TrafficLog::commit(Staging &staging) const
{
    std::vector<TrafficEvent> &batch = staging.events;
    if (batch.empty())
        return;
    const quint64 capacity = m_ring.size();
    QList<QByteArray> evictedPayloads; // freed after the lock, with the batch
    {
        QMutexLocker locker(&m_mutex);
        for (TrafficEvent &event : batch) {
            const quint64 id = m_nextId++;
            event.id = id;
            const qint64 bytes = event.payload.size();
            // Make room: the ring holds `capacity` events and `payloadBudgetBytes`.
            while (m_firstId < id
                   && (id - m_firstId >= capacity || m_payloadBytes + bytes > m_limits.payloadBudgetBytes)) {
                TrafficEvent &old = m_ring[size_t(m_firstId % capacity)];
                m_payloadBytes -= old.payload.size();
                if (m_firstId % capacity != id % capacity) // evicted early for the byte budget
                    evictedPayloads.append(std::exchange(old.payload, QByteArray()));
                ++m_firstId;
            }
            // The previous occupant of the slot takes the event's place in
            // the batch.
            std::swap(m_ring[size_t(id % capacity)], event);
            m_payloadBytes += bytes;
        }
        m_latestId.store(m_nextId - 1, std::memory_order_release);
    }
    // The ring's previous occupants, freed outside the ring's lock. (Freeing
    // them a few per append instead, between this thread's allocations,
    // measured no better.)
    batch.clear();
    staging.empty.store(true, std::memory_order_relaxed);
}

void TrafficLog::flushAll() const
{
    QMutexLocker registry(&m_stagingsMutex);
    for (const std::unique_ptr<Staging> &staging : m_stagings) {
        if (!staging->empty.load(std::memory_order_acquire)) {
            staging->idleReads = 0;
            QMutexLocker locker(&staging->mutex);
            commit(*staging);
        } else if (staging->idleReads < IdleReadsBeforeRelease && ++staging->idleReads == IdleReadsBeforeRelease) {
            QMutexLocker locker(&staging->mutex);
            if (staging->events.empty())
                std::vector<TrafficEvent>().swap(staging->events);
        }
    }
}

TrafficLog::Slice TrafficLog::eventsAfter(quint64 afterId, int maxCount) const
{
    Slice result;
    maxCount = std::max(0, maxCount);
    flushAll();
    QMutexLocker locker(&m_mutex);
    if (afterId >= m_nextId) {
        // An id from the future (another server run): start over from now.
        result.nextAfterId = m_nextId - 1;
        return result;
    }
    const quint64 begin = std::max(afterId + 1, m_firstId);
    result.dropped = begin - (afterId + 1);
    const quint64 end = std::min<quint64>(m_nextId, begin + quint64(maxCount));
    result.events.reserve(qsizetype(end - begin));
    for (quint64 id = begin; id < end; ++id)
        result.events.append(slot(id));
    result.nextAfterId = end - 1;
    result.more = end < m_nextId;
    return result;
}

quint64 TrafficLog::latestId() const
{
    flushAll();
    return m_latestId.load(std::memory_order_acquire);
}

quint64 TrafficLog::firstId() const
{
    flushAll();
    QMutexLocker locker(&m_mutex);
    return m_firstId;
}

int TrafficLog::size() const
{
    flushAll();
    QMutexLocker locker(&m_mutex);
    return int(m_nextId - m_firstId);
}

quint64 TrafficLog::droppedCount() const
{
    flushAll();
    QMutexLocker locker(&m_mutex);
    return m_firstId - 1;
}

void TrafficLog::clear()
{
    // Build the empty ring outside the lock and free the old one after it.
    std::vector<TrafficEvent> fresh(m_ring.size());
    flushAll(); // staged events are held events too
    {
        QMutexLocker locker(&m_mutex);
        m_ring.swap(fresh);
        m_firstId = m_nextId;
        m_payloadBytes = 0;
    }
}
