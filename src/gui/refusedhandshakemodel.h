#pragma once

#include "admin/connectionregistry.h"

#include <QAbstractTableModel>
#include <QList>

class ConnectionMonitor;

// Handshakes the server refused, oldest first. On every ConnectionMonitor
// tick it appends ConnectionRegistry::refusalsAfter(lastId); it keeps at most
// maxRows() rows and counts the older ones it let go (and any the registry
// had already dropped before the model saw them).
class RefusedHandshakeModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Time, Peer, Path, Origin, Subprotocols, Status, Reason, ColumnCount };
    enum Role { SortRole = Qt::UserRole + 1 };

    static constexpr int DefaultMaxRows = ConnectionRegistry::RefusalHistory;

    // `monitor` may be null; then feed the model with append().
    explicit RefusedHandshakeModel(ConnectionMonitor *monitor, QObject *parent = nullptr);

    void setMaxRows(int rows);
    int maxRows() const { return m_maxRows; }

    // Appends refusals newer than lastId() (ordered by id).
    void append(const QList<RefusedHandshake> &refusals);
    // Empties the table; refusals already seen do not come back.
    void clear();

    quint64 lastId() const { return m_lastId; }
    // Refusals not shown because the table (or the registry) was full.
    quint64 droppedCount() const { return m_dropped; }
    const RefusedHandshake &refusalAt(int row) const { return m_rows.at(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

signals:
    void droppedCountChanged(quint64 dropped);

private:
    void trimTo(int rows);

    QList<RefusedHandshake> m_rows;
    int m_maxRows = DefaultMaxRows;
    quint64 m_lastId = 0;
    quint64 m_dropped = 0;
};
