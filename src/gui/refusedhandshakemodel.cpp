#include "refusedhandshakemodel.h"

#include "connectionmonitor.h"
#include "displayformat.h"

namespace {
QString peerText(const RefusedHandshake &r)
{
    ConnectionInfo peerOnly;
    peerOnly.peerAddress = r.peerAddress;
    peerOnly.peerPort = r.peerPort;
    return peerOnly.peer();
}

QString statusText(int status)
{
    return status == 0 ? RefusedHandshakeModel::tr("closed") : QString::number(status);
}
} // namespace

RefusedHandshakeModel::RefusedHandshakeModel(ConnectionMonitor *monitor, QObject *parent)
    : QAbstractTableModel(parent)
{
    if (monitor) {
        connect(monitor, &ConnectionMonitor::polled, this,
                [this, monitor] { append(monitor->registry()->refusalsAfter(m_lastId)); });
    }
}

void RefusedHandshakeModel::setMaxRows(int rows)
{
    m_maxRows = qMax(1, rows);
    trimTo(m_maxRows);
}

void RefusedHandshakeModel::trimTo(int rows)
{
    const int excess = int(m_rows.size()) - rows;
    if (excess <= 0)
        return;
    beginRemoveRows({}, 0, excess - 1);
    m_rows.remove(0, excess);
    endRemoveRows();
    m_dropped += quint64(excess);
    emit droppedCountChanged(m_dropped);
}

void RefusedHandshakeModel::append(const QList<RefusedHandshake> &refusals)
{
    QList<RefusedHandshake> fresh;
    quint64 skipped = 0;
    for (const RefusedHandshake &r : refusals) {
        if (r.id <= m_lastId)
            continue;
        if (r.id > m_lastId + 1)
            skipped += r.id - m_lastId - 1; // gone from the registry before we looked
        m_lastId = r.id;
        fresh.append(r);
    }
    if (fresh.size() > m_maxRows) {
        skipped += quint64(fresh.size() - m_maxRows);
        fresh.remove(0, fresh.size() - m_maxRows);
    }
    if (skipped) {
        m_dropped += skipped;
        emit droppedCountChanged(m_dropped);
    }
    if (fresh.isEmpty())
        return;
    trimTo(m_maxRows - int(fresh.size()));
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(fresh.size()) - 1);
    m_rows.append(fresh);
    endInsertRows();
}

void RefusedHandshakeModel::clear()
{
    if (m_rows.isEmpty())
        return;
    beginRemoveRows({}, 0, int(m_rows.size()) - 1);
    m_rows.clear();
    endRemoveRows();
}

int RefusedHandshakeModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RefusedHandshakeModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RefusedHandshakeModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RefusedHandshake &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Time: return DisplayFormat::clockTime(r.time);
        case Peer: return peerText(r);
        case Path: return r.path;
        case Origin: return r.origin;
        case Subprotocols: return r.offeredSubprotocols.join(QStringLiteral(", "));
        case Status: return statusText(r.status);
        case Reason: return r.reason;
        }
        break;
    case SortRole:
        switch (index.column()) {
        case Time: return r.id; // ids follow time and break ties
        case Status: return r.status;
        default: return data(index, Qt::DisplayRole);
        }
    case Qt::ToolTipRole:
        switch (index.column()) {
        case Time: return DisplayFormat::preciseTime(r.time);
        case Peer: return r.userAgent.isEmpty() ? peerText(r) : tr("%1\nUser-Agent: %2").arg(peerText(r), r.userAgent);
        case Subprotocols:
            return r.offeredSubprotocols.isEmpty() ? tr("No subprotocol offered")
                                                   : r.offeredSubprotocols.join(QLatin1Char('\n'));
        case Reason: return r.reason;
        case Path: return r.path;
        case Origin: return r.origin;
        }
        break;
    case Qt::TextAlignmentRole:
        return QVariant::fromValue<Qt::Alignment>(
            (index.column() == Status ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter);
    }
    return {};
}

QVariant RefusedHandshakeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case Time: return tr("Time");
        case Peer: return tr("Peer");
        case Path: return tr("Path");
        case Origin: return tr("Origin");
        case Subprotocols: return tr("Requested subprotocols");
        case Status: return tr("Status");
        case Reason: return tr("Reason");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case Subprotocols: return tr("Sec-WebSocket-Protocol offered by the client");
        case Status: return tr("HTTP status of the refusal; \"closed\" when the connection was just closed");
        case Reason: return tr("Why the server refused the handshake");
        }
    }
    return QAbstractTableModel::headerData(section, orientation, role);
}
