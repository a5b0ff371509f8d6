#pragma once

#include <QHash>
#include <QSortFilterProxyModel>

// Sorting and filtering for the dashboard's tables: a row passes when the
// search text occurs (case-insensitively) in any column's displayed text and
// every exact column filter (e.g. Subprotocol = "jsonrpc") matches.
class SearchFilterProxyModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit SearchFilterProxyModel(QObject *parent = nullptr);

    QString searchText() const { return m_search; }
    void setSearchText(const QString &text);

    // An empty value removes the column's filter.
    void setColumnFilter(int column, const QString &value);
    QString columnFilter(int column) const { return m_columnFilters.value(column); }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    template<typename Change> void changeRowsFilter(Change &&change);

    QString m_search;
    QHash<int, QString> m_columnFilters;
};
