#include "trafficmodel.h"

#include "connectionmonitor.h"
#include "displayformat.h"

#include <QColor>
#include <QDateTime>
#include <QElapsedTimer>
#include <QLocale>

#include <algorithm>

namespace {

// Events copied per TrafficLog::eventsAfter() call: the log's lock is held
// for one slice only, so appending workers wait microseconds at most.
constexpr int SliceSize = 500;
// A tick stops fetching after this long even below maxEventsPerTick().
constexpr qint64 TickBudgetNs = 4'000'000;

bool isReply(const TrafficEvent &e)
{
    return e.direction == TrafficEvent::Direction::Out
        && (e.kind == TrafficEvent::Kind::Response || e.kind == TrafficEvent::Kind::Error)
        && !e.requestId.isEmpty();
}

bool isRequest(const TrafficEvent &e)
{
    return e.direction == TrafficEvent::Direction::In && e.kind == TrafficEvent::Kind::Request
        && !e.requestId.isEmpty();
}

bool isNumeric(int column)
{
    return column == TrafficModel::Connection || column == TrafficModel::Latency || column == TrafficModel::Upstream
        || column == TrafficModel::Size;
}

bool refused(TrafficEvent::Verdict v)
{
    return v != TrafficEvent::Verdict::None && v != TrafficEvent::Verdict::Accepted;
}

} // namespace

TrafficModel::TrafficModel(TrafficLog *log, ConnectionMonitor *monitor, QObject *parent)
    : QAbstractTableModel(parent)
    , m_log(log)
{
    if (monitor)
        connect(monitor, &ConnectionMonitor::polled, this, &TrafficModel::onTick);
}

void TrafficModel::setMaxRows(int rows)
{
    m_maxRows = std::max(1, rows);
    if (int(m_rows.size()) > m_maxRows)
        removeFront(int(m_rows.size()) - m_maxRows);
}

void TrafficModel::setMaxEventsPerTick(int events)
{
    m_maxPerTick = std::max(1, events);
}

void TrafficModel::setPayloadBudget(qint64 bytes)
{
    m_payloadBudget = std::max<qint64>(0, bytes);
}

void TrafficModel::onTick()
{
    if (!m_paused) {
        fetch();
        return;
    }
    const quint64 pending = pendingCount();
    if (pending != m_lastPending) {
        m_lastPending = pending;
        emit pendingCountChanged(pending);
    }
}

quint64 TrafficModel::pendingCount() const
{
    const quint64 latest = m_log->latestId();
    return latest > m_lastId ? latest - m_lastId : 0;
}

void TrafficModel::setPaused(bool paused)
{
    if (paused == m_paused)
        return;
    m_paused = paused;
    m_lastPending = 0;
    emit pausedChanged(paused);
    if (!paused) {
        emit pendingCountChanged(0);
        fetch(); // catch up now, not a tick later
    }
}

int TrafficModel::fetch()
{
    if (m_paused)
        return 0;
    const quint64 latest = m_log->latestId();
    if (latest < m_lastId) {
        // The log is another one (a restarted core starts again at 1).
        m_lastId = 0;
        m_pendingRequests.clear();
    }
    if (latest == m_lastId)
        return 0;

    // A backlog the table could never hold: only its newest maxRows() matter.
    if (latest - m_lastId > quint64(m_maxRows)) {
        const quint64 skipTo = latest - quint64(m_maxRows);
        addDropped(skipTo - m_lastId);
        m_lastId = skipTo;
    }

    std::vector<Row> incoming;
    incoming.reserve(size_t(std::min<quint64>(latest - m_lastId, quint64(m_maxPerTick))));
    QElapsedTimer clock;
    clock.start();
    quint64 skipped = 0;
    while (int(incoming.size()) < m_maxPerTick) {
        const int want = std::min(SliceSize, m_maxPerTick - int(incoming.size()));
        TrafficLog::Slice slice = m_log->eventsAfter(m_lastId, want);
        skipped += slice.dropped;
        if (slice.nextAfterId > m_lastId)
            m_lastId = slice.nextAfterId;
        for (TrafficEvent &e : slice.events)
            incoming.push_back(Row{std::move(e), 0, -1});
        if (!slice.more || slice.events.isEmpty() || clock.nsecsElapsed() > TickBudgetNs)
            break;
    }
    if (skipped)
        addDropped(skipped);
    if (incoming.empty())
        return 0;

    // Links within the batch and to requests already shown.
    std::vector<int> linkedOld; // rows already shown whose reply came now
    for (size_t i = 0; i < incoming.size(); ++i) {
        Row &row = incoming[i];
        const TrafficEvent &e = row.event;
        if (isRequest(e)) {
            m_pendingRequests.insert(PendingKey{e.connectionId, e.requestId}, e.id);
        } else if (isReply(e)) {
            const auto it = m_pendingRequests.find(PendingKey{e.connectionId, e.requestId});
            if (it == m_pendingRequests.end())
                continue;
            const quint64 requestId = it.value();
            m_pendingRequests.erase(it);
            row.linkedId = requestId;
            // The request is in this batch (usual) or among the rows.
            const auto inBatch = std::lower_bound(incoming.begin(), incoming.begin() + qsizetype(i), requestId,
                                                  [](const Row &r, quint64 id) { return r.event.id < id; });
            if (inBatch != incoming.begin() + qsizetype(i) && inBatch->event.id == requestId) {
                inBatch->linkedId = e.id;
                inBatch->replyLatencyUs = e.latencyUs;
                inBatch->replyUpstreamUs = e.upstreamUs;
            } else if (Row *old = rowForId(requestId)) {
                old->linkedId = e.id;
                old->replyLatencyUs = e.latencyUs;
                old->replyUpstreamUs = e.upstreamUs;
                linkedOld.push_back(rowOfEvent(requestId));
            } else {
                row.linkedId = 0; // the request is gone already
            }
        }
    }
    // Requests that never get a reply must not pile up.
    if (m_pendingRequests.size() > 2 * m_maxRows + 1024) {
        const quint64 oldest = m_rows.empty() ? incoming.front().event.id : m_rows.front().event.id;
        m_pendingRequests.removeIf([oldest](const QHash<PendingKey, quint64>::iterator &it) {
            return it.value() < oldest;
        });
    }

    // Room first: one removal at the front, then one insertion at the end.
    qint64 incomingBytes = 0;
    for (const Row &r : incoming)
        incomingBytes += r.event.payload.size();
    if (incoming.size() > size_t(m_maxRows)) {
        const size_t extra = incoming.size() - size_t(m_maxRows);
        for (size_t k = 0; k < extra; ++k)
            incomingBytes -= incoming[k].event.payload.size();
        incoming.erase(incoming.begin(), incoming.begin() + qsizetype(extra));
        addDropped(extra);
    }
    int overflow = int(m_rows.size() + incoming.size()) - m_maxRows;
    qint64 bytes = m_payloadBytes + incomingBytes;
    int removeCount = std::max(0, overflow);
    for (int k = 0; k < removeCount; ++k)
        bytes -= m_rows[size_t(k)].event.payload.size();
    while (removeCount < int(m_rows.size()) && bytes > m_payloadBudget) {
        bytes -= m_rows[size_t(removeCount)].event.payload.size();
        ++removeCount;
    }
    removeCount = std::min(removeCount, int(m_rows.size()));
    // Rows linked in this batch may be among those about to go.
    for (int &row : linkedOld)
        row -= removeCount;
    if (removeCount > 0)
        removeFront(removeCount);

    const int first = int(m_rows.size());
    const int count = int(incoming.size());
    beginInsertRows({}, first, first + count - 1);
    for (Row &r : incoming) {
        m_payloadBytes += r.event.payload.size();
        m_rows.push_back(std::move(r));
    }
    endInsertRows();

    // Replies that arrived a tick after their request: its latency cells.
    std::sort(linkedOld.begin(), linkedOld.end());
    for (int row : linkedOld) {
        if (row >= 0 && row < first)
            emit dataChanged(index(row, Latency), index(row, Upstream));
    }
    emit fetched(count);
    return count;
}

void TrafficModel::removeFront(int count)
{
    count = std::min(count, int(m_rows.size()));
    if (count <= 0)
        return;
    beginRemoveRows({}, 0, count - 1);
    for (int k = 0; k < count; ++k)
        m_payloadBytes -= m_rows[size_t(k)].event.payload.size();
    m_rows.erase(m_rows.begin(), m_rows.begin() + count);
    endRemoveRows();
    addDropped(quint64(count));
}

void TrafficModel::addDropped(quint64 count)
{
    if (!count)
        return;
    m_dropped += count;
    emit droppedCountChanged(m_dropped);
}

void TrafficModel::clear()
{
    // Whatever arrived meanwhile is not wanted either.
    m_lastId = std::max(m_lastId, m_log->latestId());
    m_pendingRequests.clear();
    if (!m_rows.empty()) {
        beginResetModel();
        m_rows.clear();
        m_payloadBytes = 0;
        endResetModel();
    }
    if (m_dropped) {
        m_dropped = 0;
        emit droppedCountChanged(0);
    }
    if (m_paused) {
        m_lastPending = 0;
        emit pendingCountChanged(0);
    }
}

int TrafficModel::rowOfEvent(quint64 eventId) const
{
    const auto it = std::lower_bound(m_rows.cbegin(), m_rows.cend(), eventId,
                                     [](const Row &r, quint64 id) { return r.event.id < id; });
    return it != m_rows.cend() && it->event.id == eventId ? int(it - m_rows.cbegin()) : -1;
}

TrafficModel::Row *TrafficModel::rowForId(quint64 eventId)
{
    const int row = rowOfEvent(eventId);
    return row < 0 ? nullptr : &m_rows[size_t(row)];
}

int TrafficModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int TrafficModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString TrafficModel::payloadPreview(const QByteArray &payload, int maxChars)
{
    QString text = QString::fromUtf8(payload.left(maxChars * 4));
    const bool longer = text.size() > maxChars || payload.size() > maxChars * 4;
    text.truncate(maxChars);
    for (QChar &c : text) {
        if (c.unicode() < 0x20 || c == QChar(0x7f))
            c = QLatin1Char(' ');
    }
    if (longer)
        text += QChar(0x2026);
    return text;
}

QString TrafficModel::directionText(TrafficEvent::Direction direction)
{
    switch (direction) {
    case TrafficEvent::Direction::In: return tr("in");
    case TrafficEvent::Direction::Out: return tr("out");
    case TrafficEvent::Direction::Server: return tr("server");
    }
    return QString();
}

QString TrafficModel::latencyText(qint64 latencyUs)
{
    if (latencyUs < 0)
        return QString();
    const double ms = double(latencyUs) / 1000.0;
    return tr("%1 ms").arg(QLocale().toString(ms, 'f', ms < 10 ? 2 : 1));
}

qint64 TrafficModel::upstreamUsAt(int row) const
{
    const Row &r = m_rows[size_t(row)];
    return r.event.upstreamUs >= 0 ? r.event.upstreamUs : r.replyUpstreamUs;
}

QString TrafficModel::verdictText(const TrafficEvent &e)
{
    const QString name = e.verdict == TrafficEvent::Verdict::ErrorResult ? tr("error from handler")
                                                                           : QString(TrafficEvent::verdictName(e.verdict));
    if (e.reason.isEmpty())
        return name;
    // Accepted: only what served it ("upstream orders"; built-ins say nothing).
    if (e.verdict == TrafficEvent::Verdict::Accepted && !e.reason.startsWith(QLatin1String("upstream "))
        && !e.reason.startsWith(QLatin1String("plugin ")))
        return name;
    return tr("%1: %2").arg(name, e.reason);
}

QVariant TrafficModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    const TrafficEvent &e = row.event;
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case Time:
            return QDateTime::fromMSecsSinceEpoch(e.timeMs).toString(QStringLiteral("HH:mm:ss.zzz"));
        case Connection: return QString::number(e.connectionId);
        case Direction: return directionText(e.direction);
        case Kind: return QString(TrafficEvent::kindName(e.kind));
        case Subprotocol: return e.subprotocol;
        case Method: return e.method;
        case RequestId: return QString::fromUtf8(e.requestId);
        case Verdict: return verdictText(e);
        case Latency: return latencyText(e.latencyUs >= 0 ? e.latencyUs : row.replyLatencyUs);
        case Upstream: return latencyText(e.upstreamUs >= 0 ? e.upstreamUs : row.replyUpstreamUs);
        case Size: return DisplayFormat::bytes(quint64(std::max<qint64>(0, e.size)));
        case Payload: return payloadPreview(e.payload);
        }
        break;
    case Qt::ToolTipRole:
        switch (column) {
        case Time:
            return DisplayFormat::preciseTime(QDateTime::fromMSecsSinceEpoch(e.timeMs));
        case Verdict:
            if (e.verdict == TrafficEvent::Verdict::ErrorResult)
                return tr("The handler (%1) answered with an error of its own, passed to the client as it was")
                    .arg(e.reason.isEmpty() ? tr("built-in") : e.reason);
            return e.reason.isEmpty() ? QVariant() : QVariant(e.reason);
        case Latency:
            if (e.latencyUs >= 0)
                return tr("Request to reply: %1 µs").arg(e.latencyUs);
            if (row.replyLatencyUs >= 0)
                return tr("Request to reply (shown on the reply too): %1 µs").arg(row.replyLatencyUs);
            break;
        case Upstream:
            if (e.upstreamUs >= 0)
                return tr("Waiting for the upstream: %1 µs").arg(e.upstreamUs);
            if (row.replyUpstreamUs >= 0)
                return tr("Waiting for the upstream (shown on the reply too): %1 µs").arg(row.replyUpstreamUs);
            break;
        case Size:
            return e.truncated ? tr("%1 bytes (payload kept: %2 bytes)").arg(e.size).arg(e.payload.size())
                               : tr("%1 bytes").arg(e.size);
        case Payload:
            return payloadPreview(e.payload, 600);
        }
        break;
    case Qt::ForegroundRole:
        if (column == Verdict && refused(e.verdict))
            return QColor(0xc6, 0x28, 0x28);
        if (column == Kind && e.kind == TrafficEvent::Kind::Error)
            return QColor(0xc6, 0x28, 0x28);
        if (column == Direction && e.direction == TrafficEvent::Direction::Server)
            return QColor(0x15, 0x65, 0xc0); // a backend's action, told apart from client traffic
        break;
    case Qt::TextAlignmentRole:
        return QVariant::fromValue<Qt::Alignment>((isNumeric(column) ? Qt::AlignRight : Qt::AlignLeft)
                                                  | Qt::AlignVCenter);
    case EventIdRole:
        return e.id;
    case LinkedEventIdRole:
        return row.linkedId;
    case ConnectionIdRole:
        return e.connectionId;
    }
    return {};
}

QVariant TrafficModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case Time: return tr("Time");
        case Connection: return tr("Conn.");
        case Direction: return tr("Dir.");
        case Kind: return tr("Kind");
        case Subprotocol: return tr("Subprotocol");
        case Method: return tr("Method");
        case RequestId: return tr("Id");
        case Verdict: return tr("Verdict");
        case Latency: return tr("Latency");
        case Upstream: return tr("Upstream");
        case Size: return tr("Size");
        case Payload: return tr("Payload");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case Time: return tr("When the server received or sent it");
        case Connection: return tr("Connection id (as in the Connections view)");
        case Direction: return tr("in: from the client; out: from the server; server: an action of the server API "
                                  "(a backend's publish, notify or close)");
        case Kind: return tr("request, notification, response, error, push, batch, close or message");
        case Subprotocol: return tr("The connection's subprotocol");
        case Method: return tr("The method called (on replies: the request's method)");
        case RequestId: return tr("The request id as the client wrote it (JSON)");
        case Verdict: return tr("Accepted, or refused and why (which validator); for upstream methods, which "
                                "upstream and how it failed; \"error from handler\": the handler's own error reply");
        case Latency: return tr("From the request's arrival to its reply");
        case Upstream: return tr("Of the latency, the time waiting for the HTTP upstream that serves the method; "
                                 "empty when no upstream was asked");
        case Size: return tr("Size of the message on the wire");
        case Payload: return tr("The message; select the row for all of it");
        }
    } else if (role == Qt::TextAlignmentRole) {
        return QVariant::fromValue<Qt::Alignment>((isNumeric(section) ? Qt::AlignRight : Qt::AlignLeft)
                                                  | Qt::AlignVCenter);
    }
    return QAbstractTableModel::headerData(section, orientation, role);
}
