#include "connectionfilterproxymodel.h"

#include "connectiontablemodel.h"

ConnectionFilterProxyModel::ConnectionFilterProxyModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setDynamicSortFilter(false); // sorted again per tick instead; see the header
}

void ConnectionFilterProxyModel::setSourceModel(QAbstractItemModel *model)
{
    disconnect(m_batchConnection);
    m_model = qobject_cast<ConnectionTableModel *>(model);
    Q_ASSERT_X(m_model || !model, "ConnectionFilterProxyModel", "the source must be a ConnectionTableModel");
    QSortFilterProxyModel::setSourceModel(m_model);
    if (m_model) {
        m_batchConnection = connect(m_model, &ConnectionTableModel::batchApplied, this,
                                    &ConnectionFilterProxyModel::onBatchApplied);
    }
}

template<typename Change>
void ConnectionFilterProxyModel::changeFilter(Change &&change)
{
#if QT_VERSION >= QT_VERSION_CHECK(6, 10, 0)
    beginFilterChange();
    change();
    endFilterChange(QSortFilterProxyModel::Direction::Rows);
#else
    change();
    invalidateRowsFilter();
#endif
    // Rows that pass now were appended where the unsorted mapping put them.
    sortAgainIfNeeded();
    emit filterChanged();
}

void ConnectionFilterProxyModel::setSearchText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed != m_search)
        changeFilter([&] { m_search = trimmed; });
}

void ConnectionFilterProxyModel::setUserFilter(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed != m_user)
        changeFilter([&] { m_user = trimmed; });
}

void ConnectionFilterProxyModel::setPathFilter(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed != m_path)
        changeFilter([&] { m_path = trimmed; });
}

void ConnectionFilterProxyModel::setSubprotocolFilter(const QString &name)
{
    if (name != m_subprotocol)
        changeFilter([&] { m_subprotocol = name; });
}

bool ConnectionFilterProxyModel::isFiltering() const
{
    return !m_search.isEmpty() || !m_user.isEmpty() || !m_path.isEmpty() || !m_subprotocol.isEmpty();
}

bool ConnectionFilterProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (sourceParent.isValid() || !m_model)
        return false;
    const ConnectionInfo &c = m_model->connectionAt(sourceRow);
    if (!m_subprotocol.isEmpty() && c.subprotocol != m_subprotocol)
        return false;
    if (!m_user.isEmpty() && !c.user.contains(m_user, Qt::CaseInsensitive))
        return false;
    if (!m_path.isEmpty() && !c.path.contains(m_path, Qt::CaseInsensitive))
        return false;
    return m_search.isEmpty() || m_model->rowContains(sourceRow, m_search);
}

bool ConnectionFilterProxyModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    // Rows the model is about to remove (many scattered at once) sort last in
    // either order, so that their removal is one run here too.
    const bool leftLeaving = m_model->isLeaving(left.row());
    const bool rightLeaving = m_model->isLeaving(right.row());
    if (leftLeaving != rightLeaving)
        return sortOrder() == Qt::AscendingOrder ? rightLeaving : leftLeaving;
    return m_model->lessThan(left.row(), right.row(), left.column());
}

void ConnectionFilterProxyModel::onBatchApplied(quint32 changedColumns, bool rowsInserted)
{
    const int column = sortColumn();
    if (column < 0 || column >= ConnectionTableModel::ColumnCount)
        return;
    if (rowsInserted || (changedColumns & ConnectionTableModel::columnBit(column)))
        sortAgainIfNeeded();
}

void ConnectionFilterProxyModel::sortAgainIfNeeded()
{
    if (sortColumn() < 0 || isInOrder())
        return;
    ++m_resorts;
    sort(sortColumn(), sortOrder()); // with dynamic sorting off, this always sorts
}

bool ConnectionFilterProxyModel::isInOrder() const
{
    const int column = sortColumn();
    const int rows = rowCount();
    if (!m_model || column < 0 || rows < 2)
        return true;
    const bool descending = sortOrder() == Qt::DescendingOrder;
    int previous = mapToSource(index(0, 0)).row();
    for (int row = 1; row < rows; ++row) {
        const int current = mapToSource(index(row, 0)).row();
        if (descending ? m_model->lessThan(previous, current, column) : m_model->lessThan(current, previous, column))
            return false;
        previous = current;
    }
    return true;
}
