#pragma once

#include "admin/connectionregistry.h"

#include <QAbstractTableModel>
#include <QList>

class ConnectionMonitor;

// The live connections as a table, one row per connection in id order.
// Fed by ConnectionMonitor's snapshots (10 Hz): each one is diffed by id
// against the rows shown, so a tick inserts and removes only the rows that
// came and went and emits dataChanged only for cells that changed - never a
// model reset, so selections, scrolling and sorting survive.
class ConnectionTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Id,
        Peer,
        Path,
        Origin,
        Subprotocol,
        ConnectedSince,
        MessagesIn,
        MessagesOut,
        BytesIn,
        BytesOut,
        LastActivity,
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1, // raw value: numbers, ms since epoch, text
        ConnectionIdRole             // the connection's id, on every column
    };

    // `monitor` may be null; then feed the model with applySnapshot().
    explicit ConnectionTableModel(ConnectionMonitor *monitor, QObject *parent = nullptr);

    // Brings the rows in line with `snapshot` (any order; ConnectionRegistry
    // gives it ordered by id).
    void applySnapshot(QList<ConnectionInfo> snapshot);

    const ConnectionInfo &connectionAt(int row) const { return m_rows.at(row); }
    quint64 connectionId(int row) const { return m_rows.at(row).id; }
    int rowOf(quint64 id) const; // -1 when not shown

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    static bool sameCell(const ConnectionInfo &a, const ConnectionInfo &b, int column);
    QList<ConnectionInfo> m_rows;
};
