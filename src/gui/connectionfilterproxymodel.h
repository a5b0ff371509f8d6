#pragma once

#include <QSortFilterProxyModel>

class ConnectionTableModel;

// Sorting and filtering of the connections table, made for tens of
// thousands of rows whose counters change ten times a second:
//   - the filters look only at what a connection keeps while it lives (the
//     search text at id, peer, user, path, origin, subprotocol and user
//     agent; the user and the path filters; the exact subprotocol), so a
//     row's acceptance never changes after it came: no re-filtering when
//     counters move;
//   - sorting compares the model's values directly (no QVariant), ties by id;
//   - no dynamic sorting per reported change: QSortFilterProxyModel's
//     re-sorts each dataChanged range on its own at a cost that grows with
//     all rows. Instead, after each of the model's ticks (batchApplied) the
//     order is checked once, and when the tick's changes or new rows broke
//     it, the rows are sorted once: at most one layout change per tick.
class ConnectionFilterProxyModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit ConnectionFilterProxyModel(QObject *parent = nullptr);

    // Must be a ConnectionTableModel.
    void setSourceModel(QAbstractItemModel *model) override;

    QString searchText() const { return m_search; }
    void setSearchText(const QString &text);          // contained, any case, in any kept field
    QString userFilter() const { return m_user; }
    void setUserFilter(const QString &text);          // contained in the user, any case
    QString pathFilter() const { return m_path; }
    void setPathFilter(const QString &text);          // contained in the path, any case
    QString subprotocolFilter() const { return m_subprotocol; }
    void setSubprotocolFilter(const QString &name);   // the negotiated subprotocol, exactly
    bool isFiltering() const;

    // How often a tick made the rows sort again (tests and benchmarks).
    int resortCount() const { return m_resorts; }

signals:
    void filterChanged();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    template<typename Change> void changeFilter(Change &&change);
    void onBatchApplied(quint32 changedColumns, bool rowsInserted);
    void sortAgainIfNeeded();
    bool isInOrder() const;

    ConnectionTableModel *m_model = nullptr;
    QMetaObject::Connection m_batchConnection;
    QString m_search;
    QString m_user;
    QString m_path;
    QString m_subprotocol;
    int m_resorts = 0;
};
