#include "trafficfilterproxymodel.h"

#include "trafficmodel.h"

TrafficFilterProxyModel::TrafficFilterProxyModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    // Rows never change in ways that matter to the filters (only a request's
    // latency cell does), and there is no sorting: no refiltering on dataChanged.
    setDynamicSortFilter(false);
}

void TrafficFilterProxyModel::setSourceModel(QAbstractItemModel *model)
{
    m_model = qobject_cast<TrafficModel *>(model);
    Q_ASSERT(m_model || !model);
    QSortFilterProxyModel::setSourceModel(model);
}

template<typename Change>
void TrafficFilterProxyModel::changeFilter(Change &&change)
{
#if QT_VERSION >= QT_VERSION_CHECK(6, 10, 0)
    beginFilterChange();
    change();
    endFilterChange(QSortFilterProxyModel::Direction::Rows);
#else
    change();
    invalidateRowsFilter();
#endif
    emit filterChanged();
}

void TrafficFilterProxyModel::setConnectionFilter(quint64 connectionId)
{
    if (connectionId != m_connection)
        changeFilter([&] { m_connection = connectionId; });
}

void TrafficFilterProxyModel::setMethodFilter(const QString &method)
{
    if (method != m_method)
        changeFilter([&] { m_method = method; });
}

void TrafficFilterProxyModel::setDirectionFilter(std::optional<TrafficEvent::Direction> direction)
{
    if (direction != m_direction)
        changeFilter([&] { m_direction = direction; });
}

void TrafficFilterProxyModel::setVerdictFilter(const QString &verdict)
{
    if (verdict != m_verdict)
        changeFilter([&] { m_verdict = verdict; });
}

void TrafficFilterProxyModel::setSearchText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_search)
        return;
    changeFilter([&] {
        m_search = trimmed;
        m_searchIsLatin1 = true;
        for (QChar c : trimmed)
            m_searchIsLatin1 = m_searchIsLatin1 && c.unicode() < 0x80;
    });
}

bool TrafficFilterProxyModel::isFiltering() const
{
    return m_connection || !m_method.isEmpty() || m_direction || !m_verdict.isEmpty() || !m_search.isEmpty();
}

int TrafficFilterProxyModel::sourceRow(int proxyRow) const
{
    return mapToSource(index(proxyRow, 0)).row();
}

int TrafficFilterProxyModel::proxyRowOfEvent(quint64 eventId) const
{
    if (!m_model)
        return -1;
    const int row = m_model->rowOfEvent(eventId);
    if (row < 0)
        return -1;
    return mapFromSource(m_model->index(row, 0)).row();
}

bool TrafficFilterProxyModel::matchesSearch(const TrafficEvent &e) const
{
    const auto has = [this](const QString &s) { return s.contains(m_search, Qt::CaseInsensitive); };
    if (has(e.method) || has(e.subprotocol) || has(e.reason))
        return true;
    if (QLatin1String(e.requestId).contains(m_search, Qt::CaseInsensitive))
        return true;
    if (TrafficEvent::kindName(e.kind).contains(m_search, Qt::CaseInsensitive)
        || TrafficEvent::verdictName(e.verdict).contains(m_search, Qt::CaseInsensitive))
        return true;
    if (QString::number(e.connectionId) == m_search)
        return true;
    // The payload as bytes: ASCII search text cannot match inside a UTF-8
    // sequence, so no conversion is needed for it.
    if (m_searchIsLatin1)
        return QLatin1String(e.payload).contains(m_search, Qt::CaseInsensitive);
    return QString::fromUtf8(e.payload).contains(m_search, Qt::CaseInsensitive);
}

bool TrafficFilterProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (!m_model || sourceParent.isValid())
        return true;
    const TrafficEvent &e = m_model->eventAt(sourceRow);
    if (m_connection && e.connectionId != m_connection)
        return false;
    if (!m_method.isEmpty() && e.method != m_method)
        return false;
    if (m_direction && e.direction != *m_direction)
        return false;
    if (!m_verdict.isEmpty()) {
        if (m_verdict == AnyRefusal) {
            if (e.verdict == TrafficEvent::Verdict::None || e.verdict == TrafficEvent::Verdict::Accepted)
                return false;
        } else if (TrafficEvent::verdictName(e.verdict) != m_verdict) {
            return false;
        }
    }
    return m_search.isEmpty() || matchesSearch(e);
}
