#include "searchfilterproxymodel.h"

SearchFilterProxyModel::SearchFilterProxyModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortCaseSensitivity(Qt::CaseInsensitive);
    setDynamicSortFilter(true);
}

template<typename Change>
void SearchFilterProxyModel::changeRowsFilter(Change &&change)
{
#if QT_VERSION >= QT_VERSION_CHECK(6, 10, 0)
    beginFilterChange();
    change();
    endFilterChange(QSortFilterProxyModel::Direction::Rows);
#else
    change();
    invalidateRowsFilter();
#endif
}

void SearchFilterProxyModel::setSearchText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_search)
        return;
    changeRowsFilter([&] { m_search = trimmed; });
}

void SearchFilterProxyModel::setColumnFilter(int column, const QString &value)
{
    if (m_columnFilters.value(column) == value)
        return;
    changeRowsFilter([&] {
        if (value.isEmpty())
            m_columnFilters.remove(column);
        else
            m_columnFilters.insert(column, value);
    });
}

bool SearchFilterProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QAbstractItemModel *model = sourceModel();
    for (auto it = m_columnFilters.cbegin(); it != m_columnFilters.cend(); ++it) {
        if (model->index(sourceRow, it.key(), sourceParent).data(Qt::DisplayRole).toString() != it.value())
            return false;
    }
    if (m_search.isEmpty())
        return true;
    const int columns = model->columnCount(sourceParent);
    for (int column = 0; column < columns; ++column) {
        const QString text = model->index(sourceRow, column, sourceParent).data(Qt::DisplayRole).toString();
        if (text.contains(m_search, Qt::CaseInsensitive))
            return true;
    }
    return false;
}
