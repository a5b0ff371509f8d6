#include "connectiontablemodel.h"

#include "connectionmonitor.h"
#include "displayformat.h"

#include <algorithm>

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
        connect(monitor, &ConnectionMonitor::polled, this,
                [this, monitor] { applySnapshot(monitor->connections()); });
        applySnapshot(monitor->connections());
    }
}

bool ConnectionTableModel::sameCell(const ConnectionInfo &a, const ConnectionInfo &b, int column)
{
    switch (column) {
    case Id: return a.id == b.id;
    case Peer: return a.peerAddress == b.peerAddress && a.peerPort == b.peerPort && a.userAgent == b.userAgent
            && a.tls == b.tls;
    case Path: return a.path == b.path;
    case Origin: return a.origin == b.origin;
    case Subprotocol: return a.subprotocol == b.subprotocol;
    case ConnectedSince: return a.connectedAt == b.connectedAt;
    case MessagesIn: return a.messagesIn == b.messagesIn;
    case MessagesOut: return a.messagesOut == b.messagesOut;
    case BytesIn: return a.bytesIn == b.bytesIn;
    case BytesOut: return a.bytesOut == b.bytesOut;
    case LastActivity: return a.lastActivity == b.lastActivity;
    default: return true;
    }
}

void ConnectionTableModel::applySnapshot(QList<ConnectionInfo> next)
{
    if (!std::is_sorted(next.cbegin(), next.cend(), byId))
        std::sort(next.begin(), next.end(), byId);

    // Changed cells of adjacent rows are reported as one rectangle.
    struct { bool open = false; int firstRow = 0, lastRow = 0, firstColumn = 0, lastColumn = 0; } pending;
    const auto flushChanged = [this, &pending] {
        if (pending.open)
            emit dataChanged(index(pending.firstRow, pending.firstColumn), index(pending.lastRow, pending.lastColumn));
        pending.open = false;
    };
    const auto markChanged = [&pending, &flushChanged](int row, int firstColumn, int lastColumn) {
        if (pending.open && row == pending.lastRow + 1) {
            pending.lastRow = row;
            pending.firstColumn = qMin(pending.firstColumn, firstColumn);
            pending.lastColumn = qMax(pending.lastColumn, lastColumn);
            return;
        }
        flushChanged();
        pending = {true, row, row, firstColumn, lastColumn};
    };

    // Merge walk over two id-ordered lists; `row` is always a live index.
    int row = 0;
    qsizetype j = 0;
    while (row < m_rows.size() || j < next.size()) {
        if (j == next.size() || (row < m_rows.size() && m_rows.at(row).id < next.at(j).id)) {
            // Rows whose connection is gone: remove the whole run at once.
            int last = row;
            while (last + 1 < m_rows.size() && (j == next.size() || m_rows.at(last + 1).id < next.at(j).id))
                ++last;
            beginRemoveRows({}, row, last);
            m_rows.remove(row, last - row + 1);
            endRemoveRows();
        } else if (row == m_rows.size() || next.at(j).id < m_rows.at(row).id) {
            // New connections: insert the whole run at once.
            qsizetype lastNew = j;
            while (lastNew + 1 < next.size() && (row == m_rows.size() || next.at(lastNew + 1).id < m_rows.at(row).id))
                ++lastNew;
            const int count = int(lastNew - j + 1);
            beginInsertRows({}, row, row + count - 1);
            for (qsizetype k = j; k <= lastNew; ++k)
                m_rows.insert(row + int(k - j), next.at(k));
            endInsertRows();
            row += count;
            j = lastNew + 1;
        } else {
            int first = -1, last = -1;
            for (int column = 0; column < ColumnCount; ++column) {
                if (!sameCell(m_rows.at(row), next.at(j), column)) {
                    if (first < 0)
                        first = column;
                    last = column;
                }
            }
            if (first >= 0) {
                m_rows[row] = next.at(j);
                markChanged(row, first, last);
            }
            ++row;
            ++j;
        }
    }
    flushChanged();
}

int ConnectionTableModel::rowOf(quint64 id) const
{
    const auto it = std::lower_bound(m_rows.cbegin(), m_rows.cend(), id,
                                     [](const ConnectionInfo &c, quint64 value) { return c.id < value; });
    return it != m_rows.cend() && it->id == id ? int(it - m_rows.cbegin()) : -1;
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
    const ConnectionInfo &c = m_rows.at(index.row());
    const int column = index.column();

    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case Id: return QString::number(c.id);
        case Peer: return c.tls ? tr("%1 (TLS)").arg(c.peer()) : c.peer();
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
        case Path: return c.path;
        case Origin: return c.origin;
        case Subprotocol: return c.subprotocol;
        case ConnectedSince: return c.connectedAt.toMSecsSinceEpoch();
        case MessagesIn: return c.messagesIn;
        case MessagesOut: return c.messagesOut;
        case BytesIn: return c.bytesIn;
        case BytesOut: return c.bytesOut;
        case LastActivity: return c.lastActivity.toMSecsSinceEpoch();
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
