#include "connectiontablemodel.h"

#include "connectionmonitor.h"
#include "displayformat.h"

#include <QTimeZone>

#include <algorithm>
#include <cstring>
#include <limits>

namespace {
bool byId(const ConnectionInfo &a, const ConnectionInfo &b)
{
    return a.id < b.id;
}

bool isNumeric(int column)
{
    switch (column) {
    case ConnectionTableModel::Id:
    case ConnectionTableModel::MessagesIn:
    case ConnectionTableModel::MessagesOut:
    case ConnectionTableModel::BytesIn:
    case ConnectionTableModel::BytesOut:
        return true;
    default:
        return false;
    }
}

} // namespace

ConnectionTableModel::ConnectionTableModel(ConnectionMonitor *monitor, QObject *parent)
    : QAbstractTableModel(parent)
{
    if (monitor) {
        ConnectionRegistry *registry = monitor->registry();
        const InfoLookup lookup = [registry](const QList<quint64> &ids) { return registry->connections(ids); };
        connect(monitor, &ConnectionMonitor::polled, this,
                [this, monitor, lookup] { applyActivity(monitor->activity(), lookup); });
        applyActivity(monitor->activity(), lookup);
    }
}

ConnectionTableModel::~ConnectionTableModel() = default;

std::unique_ptr<ConnectionTableModel::Row> ConnectionTableModel::makeRow(ConnectionInfo info)
{
    auto row = std::make_unique<Row>();
    row->peerText = info.tls ? tr("%1 (TLS)").arg(info.peer()) : info.peer();
    row->peerKey = info.peerAddress.toIPv6Address(); // IPv4 as ::ffff:a.b.c.d: one order for both
    row->lastActivityMs = info.lastActivity.isValid() ? info.lastActivity.toMSecsSinceEpoch() : 0;
    row->info = std::move(info);
    return row;
}

void ConnectionTableModel::applyActivity(const std::vector<ConnectionActivity> &activity, const InfoLookup &lookup)
{
    // 1. Rows whose connection is gone: a few runs are removed run by run
    //    from the bottom up, so that the rows above keep their numbers; many
    //    scattered ones (clients of one host leaving) all at once.
    bool removedAny = false;
    {
        std::vector<std::pair<int, int>> goneRuns;
        size_t j = 0;
        for (int row = 0; row < int(m_rows.size()); ++row) {
            const quint64 id = m_rows[size_t(row)]->info.id;
            while (j < activity.size() && activity[j].id < id)
                ++j;
            if (j < activity.size() && activity[j].id == id)
                continue;
            if (!goneRuns.empty() && goneRuns.back().second == row - 1)
                goneRuns.back().second = row;
            else
                goneRuns.emplace_back(row, row);
        }
        removedAny = !goneRuns.empty();
        if (goneRuns.size() > MaxRemovalRuns) {
            removeScattered(goneRuns);
        } else {
            for (auto run = goneRuns.crbegin(); run != goneRuns.crend(); ++run) {
                beginRemoveRows({}, run->first, run->second);
                m_rows.erase(m_rows.begin() + run->first, m_rows.begin() + run->second + 1);
                endRemoveRows();
            }
        }
    }

    // 2. The full info of ids not shown yet, in one call.
    QList<ConnectionInfo> newInfos;
    {
        QList<quint64> newIds;
        size_t row = 0;
        for (const ConnectionActivity &a : activity) {
            while (row < m_rows.size() && m_rows[row]->info.id < a.id)
                ++row;
            if (row == m_rows.size() || m_rows[row]->info.id != a.id)
                newIds.append(a.id);
        }
        if (!newIds.isEmpty() && lookup)
            newInfos = lookup(newIds);
    }

    // 3. One walk: new rows inserted run by run where their ids belong,
    //    counters of the others updated in place. Every row index recorded
    //    for the changed rectangle is final, since later insertions only
    //    happen further down.
    quint32 changedColumns = 0;
    int firstChangedRow = -1, lastChangedRow = -1;
    const auto markChanged = [&](int row, quint32 columns) {
        changedColumns |= columns;
        if (firstChangedRow < 0)
            firstChangedRow = row;
        lastChangedRow = row;
    };
    qsizetype nextNew = 0;
    const auto insertNewBefore = [&](int row, quint64 beforeId) {
        qsizetype end = nextNew;
        while (end < newInfos.size() && newInfos.at(end).id < beforeId)
            ++end;
        if (end == nextNew)
            return 0;
        const int count = int(end - nextNew);
        beginInsertRows({}, row, row + count - 1);
        std::vector<std::unique_ptr<Row>> fresh;
        fresh.reserve(size_t(count));
        for (qsizetype k = nextNew; k < end; ++k)
            fresh.push_back(makeRow(newInfos.at(k)));
        m_rows.insert(m_rows.begin() + row, std::make_move_iterator(fresh.begin()),
                      std::make_move_iterator(fresh.end()));
        endInsertRows();
        nextNew = end;
        return count;
    };
    int row = 0;
    size_t j = 0;
    while (row < int(m_rows.size())) {
        const quint64 id = m_rows[size_t(row)]->info.id;
        const int inserted = insertNewBefore(row, id);
        if (inserted) {
            row += inserted;
            continue;
        }
        while (j < activity.size() && activity[j].id < id)
            ++j;
        if (j < activity.size() && activity[j].id == id) {
            const ConnectionActivity &a = activity[j];
            Row &r = *m_rows[size_t(row)];
            quint32 columns = 0;
            if (r.info.messagesIn != a.messagesIn)
                columns |= columnBit(MessagesIn);
            if (r.info.messagesOut != a.messagesOut)
                columns |= columnBit(MessagesOut);
            if (r.info.bytesIn != a.bytesIn)
                columns |= columnBit(BytesIn);
            if (r.info.bytesOut != a.bytesOut)
                columns |= columnBit(BytesOut);
            if (r.lastActivityMs != a.lastActivityMs)
                columns |= columnBit(LastActivity);
            if (columns) {
                r.info.messagesIn = a.messagesIn;
                r.info.messagesOut = a.messagesOut;
                r.info.bytesIn = a.bytesIn;
                r.info.bytesOut = a.bytesOut;
                if (r.lastActivityMs != a.lastActivityMs) {
                    r.lastActivityMs = a.lastActivityMs;
                    // UTC: no time-zone lookup here; shown in local time.
#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
                    r.info.lastActivity = QDateTime::fromMSecsSinceEpoch(a.lastActivityMs, QTimeZone::UTC);
#else
                    r.info.lastActivity = QDateTime::fromMSecsSinceEpoch(a.lastActivityMs, Qt::UTC);
#endif
                }
                markChanged(row, columns);
            }
        }
        ++row;
    }
    const bool insertedAny = !newInfos.isEmpty();
    insertNewBefore(int(m_rows.size()), std::numeric_limits<quint64>::max());

    if (firstChangedRow >= 0) {
        int firstColumn = ColumnCount, lastColumn = -1;
        for (int column = 0; column < ColumnCount; ++column) {
            if (changedColumns & columnBit(column)) {
                firstColumn = std::min(firstColumn, column);
                lastColumn = column;
            }
        }
        emit dataChanged(index(firstChangedRow, firstColumn), index(lastChangedRow, lastColumn));
    }
    if (changedColumns || insertedAny || removedAny)
        emit batchApplied(changedColumns, insertedAny);
}

void ConnectionTableModel::removeScattered(const std::vector<std::pair<int, int>> &goneRuns)
{
    // Each removal signal costs every attached proxy and view work in
    // proportion to all rows (QSortFilterProxyModel rebuilds its mappings,
    // QHeaderView walks its sections), so a thousand scattered runs would
    // stall the GUI thread for a good part of a second. Instead the leaving
    // rows move behind the others in one layout change (persistent indexes,
    // and with them selections, follow) and go in one removal. While they
    // wait at the end, isLeaving() is true for them, so that a sorting proxy
    // can keep them at its end too (ConnectionFilterProxyModel does).
    const int rows = int(m_rows.size());
    std::vector<bool> gone(size_t(rows), false);
    for (const auto &[first, last] : goneRuns)
        std::fill(gone.begin() + first, gone.begin() + last + 1, true);

    emit layoutAboutToBeChanged();
    // The rows that stay keep their order, the leaving ones follow in theirs.
    std::vector<int> newRowOf(size_t(rows), -1);
    std::vector<std::unique_ptr<Row>> reordered;
    reordered.reserve(size_t(rows));
    for (bool leaving : {false, true}) {
        for (int row = 0; row < rows; ++row) {
            if (gone[size_t(row)] != leaving)
                continue;
            newRowOf[size_t(row)] = int(reordered.size());
            m_rows[size_t(row)]->leaving = leaving;
            reordered.push_back(std::move(m_rows[size_t(row)]));
        }
    }
    const int kept = rows - int(std::count(gone.cbegin(), gone.cend(), true));
    m_rows.swap(reordered);
    m_leaving = rows - kept;
    const QModelIndexList from = persistentIndexList();
    QModelIndexList to;
    to.reserve(from.size());
    for (const QModelIndex &i : from)
        to.append(index(newRowOf[size_t(i.row())], i.column()));
    changePersistentIndexList(from, to);
    emit layoutChanged();

    beginRemoveRows({}, kept, rows - 1);
    m_rows.resize(size_t(kept));
    m_leaving = 0;
    endRemoveRows();
}

void ConnectionTableModel::applySnapshot(QList<ConnectionInfo> snapshot)
{
    std::sort(snapshot.begin(), snapshot.end(), byId);
    std::vector<ConnectionActivity> activity;
    activity.reserve(size_t(snapshot.size()));
    for (const ConnectionInfo &c : std::as_const(snapshot)) {
        activity.push_back({c.id, c.messagesIn, c.messagesOut, c.bytesIn, c.bytesOut,
                            c.lastActivity.isValid() ? c.lastActivity.toMSecsSinceEpoch() : 0});
    }
    applyActivity(activity, [&snapshot](const QList<quint64> &ids) {
        QList<ConnectionInfo> infos;
        infos.reserve(ids.size());
        for (quint64 id : ids) {
            const auto it = std::lower_bound(snapshot.cbegin(), snapshot.cend(), id,
                                             [](const ConnectionInfo &c, quint64 value) { return c.id < value; });
            if (it != snapshot.cend() && it->id == id)
                infos.append(*it);
        }
        return infos;
    });
}

int ConnectionTableModel::rowOf(quint64 id) const
{
    // Rows are in id order, except leaving ones waiting at the end.
    const auto end = m_rows.cend() - m_leaving;
    const auto it = std::lower_bound(m_rows.cbegin(), end, id,
                                     [](const std::unique_ptr<Row> &r, quint64 value) { return r->info.id < value; });
    return it != end && (*it)->info.id == id ? int(it - m_rows.cbegin()) : -1;
}

bool ConnectionTableModel::lessThan(int leftRow, int rightRow, int column) const
{
    const Row &l = *m_rows[size_t(leftRow)];
    const Row &r = *m_rows[size_t(rightRow)];
    const ConnectionInfo &a = l.info;
    const ConnectionInfo &b = r.info;
    const auto text = [](const QString &x, const QString &y) { return x.compare(y, Qt::CaseInsensitive); };
    int order = 0;
    switch (column) {
    case Peer:
        order = std::memcmp(l.peerKey.c, r.peerKey.c, sizeof l.peerKey.c);
        if (order == 0)
            order = int(a.peerPort) - int(b.peerPort);
        break;
    case User: order = text(a.user, b.user); break;
    case Path: order = text(a.path, b.path); break;
    case Origin: order = text(a.origin, b.origin); break;
    case Subprotocol:
        order = text(a.subprotocol, b.subprotocol);
        if (order == 0)
            order = int(a.subprotocolDefaulted) - int(b.subprotocolDefaulted);
        break;
    case ConnectedSince:
        order = a.connectedAt < b.connectedAt ? -1 : b.connectedAt < a.connectedAt ? 1 : 0;
        break;
    case MessagesIn: order = a.messagesIn < b.messagesIn ? -1 : a.messagesIn > b.messagesIn ? 1 : 0; break;
    case MessagesOut: order = a.messagesOut < b.messagesOut ? -1 : a.messagesOut > b.messagesOut ? 1 : 0; break;
    case BytesIn: order = a.bytesIn < b.bytesIn ? -1 : a.bytesIn > b.bytesIn ? 1 : 0; break;
    case BytesOut: order = a.bytesOut < b.bytesOut ? -1 : a.bytesOut > b.bytesOut ? 1 : 0; break;
    case LastActivity:
        order = l.lastActivityMs < r.lastActivityMs ? -1 : l.lastActivityMs > r.lastActivityMs ? 1 : 0;
        break;
    default: break; // Id: the tie-break below
    }
    return order != 0 ? order < 0 : a.id < b.id;
}

bool ConnectionTableModel::rowContains(int row, const QString &text) const
{
    const Row &r = *m_rows[size_t(row)];
    const ConnectionInfo &c = r.info;
    const auto has = [&text](const QString &field) { return field.contains(text, Qt::CaseInsensitive); };
    return has(QString::number(c.id)) || has(r.peerText) || has(c.user) || has(c.path) || has(c.origin)
        || has(c.subprotocolLabel()) || has(c.userAgent);
}

int ConnectionTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ConnectionTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ConnectionTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = *m_rows[size_t(index.row())];
    const ConnectionInfo &c = r.info;
    const int column = index.column();

    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case Id: return QString::number(c.id);
        case Peer: return r.peerText;
        case User: return c.user;
        case Path: return c.path;
        case Origin: return c.origin;
        case Subprotocol: return c.subprotocolLabel();
        case ConnectedSince: return DisplayFormat::clockTime(c.connectedAt);
        case MessagesIn: return DisplayFormat::count(c.messagesIn);
        case MessagesOut: return DisplayFormat::count(c.messagesOut);
        case BytesIn: return DisplayFormat::bytes(c.bytesIn);
        case BytesOut: return DisplayFormat::bytes(c.bytesOut);
        case LastActivity: return DisplayFormat::clockTime(c.lastActivity);
        }
        break;
    case SortRole:
        switch (column) {
        case Id: return c.id;
        case Peer: return c.peer();
        case User: return c.user;
        case Path: return c.path;
        case Origin: return c.origin;
        case Subprotocol: return c.subprotocol;
        case ConnectedSince: return c.connectedAt.toMSecsSinceEpoch();
        case MessagesIn: return c.messagesIn;
        case MessagesOut: return c.messagesOut;
        case BytesIn: return c.bytesIn;
        case BytesOut: return c.bytesOut;
        case LastActivity: return r.lastActivityMs;
        }
        break;
    case ConnectionIdRole:
        return c.id;
    case Qt::ToolTipRole:
        switch (column) {
        case Peer:
            return c.userAgent.isEmpty() ? c.peer() : tr("%1\nUser-Agent: %2").arg(c.peer(), c.userAgent);
        case ConnectedSince:
            return tr("%1 (%2)").arg(DisplayFormat::preciseTime(c.connectedAt),
                                     DisplayFormat::age(c.connectedAt, QDateTime::currentDateTime()));
        case LastActivity:
            return tr("%1 (%2)").arg(DisplayFormat::preciseTime(c.lastActivity),
                                     DisplayFormat::age(c.lastActivity, QDateTime::currentDateTime()));
        case BytesIn: return tr("%1 bytes").arg(DisplayFormat::count(c.bytesIn));
        case BytesOut: return tr("%1 bytes").arg(DisplayFormat::count(c.bytesOut));
        case User: return c.user.isEmpty() ? tr("No user: the connection carries no identity") : c.user;
        case Path: return c.path;
        case Origin: return c.origin;
        }
        break;
    case Qt::TextAlignmentRole:
        if (isNumeric(column))
            return QVariant::fromValue<Qt::Alignment>(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant::fromValue<Qt::Alignment>(Qt::AlignLeft | Qt::AlignVCenter);
    }
    return {};
}

QVariant ConnectionTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case Id: return tr("Id");
        case Peer: return tr("Peer");
        case User: return tr("User");
        case Path: return tr("Path");
        case Origin: return tr("Origin");
        case Subprotocol: return tr("Subprotocol");
        case ConnectedSince: return tr("Connected since");
        case MessagesIn: return tr("Msgs in");
        case MessagesOut: return tr("Msgs out");
        case BytesIn: return tr("Bytes in");
        case BytesOut: return tr("Bytes out");
        case LastActivity: return tr("Last activity");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case Id: return tr("Connection id, unique while the server runs");
        case Peer: return tr("Client address and port");
        case User: return tr("The connection's user, from its token or the connect hook; empty when it has none");
        case Path: return tr("Request path of the WebSocket handshake");
        case Origin: return tr("Origin header of the handshake (browsers send it)");
        case Subprotocol: return tr("The subprotocol negotiated in the handshake; \"(default)\": the client offered none "
                  "and got the configured default");
        case ConnectedSince: return tr("When the handshake completed");
        case MessagesIn: return tr("Messages received from the client");
        case MessagesOut: return tr("Messages sent to the client");
        case BytesIn: return tr("Payload bytes received from the client");
        case BytesOut: return tr("Payload bytes sent to the client");
        case LastActivity: return tr("Last message or pong in either direction");
        }
    } else if (role == Qt::TextAlignmentRole) {
        return QVariant::fromValue<Qt::Alignment>(
            (isNumeric(section) ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter);
    }
    return QAbstractTableModel::headerData(section, orientation, role);
}
