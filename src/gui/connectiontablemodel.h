#pragma once

#include "admin/connectionregistry.h"

#include <QAbstractTableModel>
#include <QList>

#include <functional>
#include <memory>
#include <vector>

class ConnectionMonitor;

// The live connections as a table, one row per connection in id order.
// Built for tens of thousands of rows that change ten times a second: on
// each ConnectionMonitor tick it merges the counters of every open
// connection (numbers only) into its rows by id, asks the registry for the
// full info of new ids only, and reports the whole tick as a batch:
//   - one beginRemoveRows() per run of adjacent rows that went (bottom up);
//     more than MaxRemovalRuns runs: one layout change that moves the
//     leaving rows to the end, then one beginRemoveRows() (removeScattered),
//   - one beginInsertRows() per run of new rows (new ids are the highest, so
//     usually one run at the end),
//   - one dataChanged() for the rectangle that holds every changed cell,
//   - then batchApplied(), which says which columns changed.
// Never a model reset, so selections, scrolling and sorting survive. Rows
// are kept by pointer so that removing one moves 8 bytes per row below it.
class ConnectionTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Id,
        Peer,
        User,
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

    // The full info of connections not shown yet (ids given in ascending
    // order); ids no longer open are left out.
    using InfoLookup = std::function<QList<ConnectionInfo>(const QList<quint64> &ids)>;

    // `monitor` may be null; then feed the model with applyActivity() or applySnapshot().
    explicit ConnectionTableModel(ConnectionMonitor *monitor, QObject *parent = nullptr);
    ~ConnectionTableModel() override;

    // One tick: brings the rows in line with `activity` (every open
    // connection's counters, in id order, as ConnectionRegistry::activity()
    // gives them).
    void applyActivity(const std::vector<ConnectionActivity> &activity, const InfoLookup &lookup);
    // The same from full infos in any order (tests, or a caller without a registry).
    void applySnapshot(QList<ConnectionInfo> snapshot);

    const ConnectionInfo &connectionAt(int row) const { return m_rows.at(size_t(row))->info; }
    quint64 connectionId(int row) const { return m_rows.at(size_t(row))->info.id; }
    int rowOf(quint64 id) const; // -1 when not shown (or about to go)
    // True only during a removal of many scattered rows, for the rows that
    // are about to go (moved to the end by a layout change just before).
    bool isLeaving(int row) const { return m_rows.at(size_t(row))->leaving; }

    // Orders two rows by a column's value, ties by id, without QVariants
    // (what a sorting proxy calls a few hundred thousand times per sort).
    bool lessThan(int leftRow, int rightRow, int column) const;
    // Whether `text` occurs, case-insensitively, in one of the fields a row
    // keeps while it lives: id, peer, user, path, origin, subprotocol, user agent.
    bool rowContains(int row, const QString &text) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static constexpr quint32 columnBit(int column) { return 1u << column; }
    // Beyond this many separate runs of gone rows in one tick, they go in one removal.
    static constexpr size_t MaxRemovalRuns = 16;

signals:
    // After each tick that changed anything: `changedColumns` has
    // columnBit(c) for every column that changed in a row that was already
    // shown; `rowsInserted` tells whether rows came.
    void batchApplied(quint32 changedColumns, bool rowsInserted);

private:
    struct Row
    {
        ConnectionInfo info;
        QString peerText; // as shown: "127.0.0.1:5000", with " (TLS)"
        Q_IPV6ADDR peerKey{}; // the address as 16 bytes, for sorting
        qint64 lastActivityMs = 0;
        bool leaving = false; // see isLeaving()
    };
    static std::unique_ptr<Row> makeRow(ConnectionInfo info);
    void removeScattered(const std::vector<std::pair<int, int>> &goneRuns);

    std::vector<std::unique_ptr<Row>> m_rows; // ascending ids
    ptrdiff_t m_leaving = 0; // rows at the end waiting for their removal
};
