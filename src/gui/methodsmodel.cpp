#include "methodsmodel.h"

#include "connectionmonitor.h"
#include "displayformat.h"
#include "upstreamhealth.h"

#include <QApplication>
#include <QColor>
#include <QDateTime>
#include <QLocale>
#include <QStyle>

#include <algorithm>

namespace {
bool isNumeric(int column)
{
    return column >= MethodsModel::Calls && column <= MethodsModel::MeanUpstream;
}

bool isUpstreamColumn(int column)
{
    return column >= MethodsModel::UpstreamCalls && column <= MethodsModel::MeanUpstream;
}

const QLatin1String UpstreamPrefix("upstream ");
} // namespace

MethodsModel::MethodsModel(MethodRegistry *registry, ConnectionMonitor *monitor, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
    , m_rows(registry->snapshot())
    , m_marks(m_rows.size())
{
    // setEnabled() emits on the caller's thread (an HTTP worker for PATCH):
    // always queued, so the model is touched on its own thread only.
    connect(registry, &MethodRegistry::methodToggled, this, &MethodsModel::onToggled, Qt::QueuedConnection);
    if (monitor)
        connect(monitor, &ConnectionMonitor::polled, this, &MethodsModel::refresh);
}

bool MethodsModel::sameCell(const MethodStatus &a, const MethodStatus &b, int column)
{
    switch (column) {
    case Method:
    case State: return a.name == b.name && a.enabled == b.enabled && a.enabledByDefault == b.enabledByDefault;
    case ServedBy: return a.servedBy == b.servedBy;
    case Description: return a.description == b.description;
    case Calls: return a.counters.calls == b.counters.calls;
    case Refusals: return a.counters.refusals == b.counters.refusals;
    case Errors: return a.counters.errors == b.counters.errors;
    case MeanLatency: return a.counters.meanLatencyMs() == b.counters.meanLatencyMs();
    case UpstreamCalls: return a.counters.upstreamCalls == b.counters.upstreamCalls;
    case UpstreamFailures: return a.counters.upstreamFailures == b.counters.upstreamFailures;
    case MeanUpstream: return a.counters.meanUpstreamMs() == b.counters.meanUpstreamMs();
    }
    return true;
}

QString MethodsModel::upstreamOf(const MethodStatus &status)
{
    return status.servedBy.startsWith(UpstreamPrefix) ? status.servedBy.mid(UpstreamPrefix.size()) : QString();
}

bool MethodsModel::hasUpstreamMethods() const
{
    return std::any_of(m_rows.cbegin(), m_rows.cend(),
                       [](const MethodStatus &m) { return !upstreamOf(m).isEmpty(); });
}

void MethodsModel::setUpstreamHealth(UpstreamHealth *health)
{
    if (m_health == health)
        return;
    m_health = health;
    resetMarks();
    if (!m_rows.isEmpty())
        emit dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1));
}

// Failures that happened before the model looked: dated by the upstream's
// last failure, so a recent one is marked from the start.
void MethodsModel::resetMarks()
{
    m_marks = QList<Mark>(m_rows.size());
    if (!m_health)
        return;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (int row = 0; row < m_rows.size(); ++row) {
        const UpstreamHealth::Entry *entry = m_health->entry(upstreamOf(m_rows.at(row)));
        if (entry && m_rows.at(row).counters.upstreamFailures > 0)
            m_marks[row].failureSeenMs = entry->stats.lastFailureMs;
        m_marks[row].failing = computeFailing(row, now);
    }
}

bool MethodsModel::computeFailing(int row, qint64 nowMs) const
{
    if (!m_health)
        return false;
    const UpstreamHealth::Entry *entry = m_health->entry(upstreamOf(m_rows.at(row)));
    const qint64 seen = m_marks.at(row).failureSeenMs;
    return entry && entry->failing && seen > 0 && nowMs - seen < m_health->recentWindowMs();
}

QString MethodsModel::failureTip(int row) const
{
    const UpstreamHealth::Entry *entry = m_health ? m_health->entry(upstreamOf(m_rows.at(row))) : nullptr;
    if (!entry)
        return QString();
    return tr("Upstream %1 is failing: %2 (%3 of this method's %4 upstream calls failed)")
        .arg(entry->name, UpstreamHealth::failureText(*entry))
        .arg(m_rows.at(row).counters.upstreamFailures)
        .arg(m_rows.at(row).counters.upstreamCalls);
}

void MethodsModel::refresh()
{
    const QList<MethodStatus> next = m_registry->snapshot();
    if (next.size() != m_rows.size()) { // the catalog is fixed; only a new registry changes it
        beginResetModel();
        m_rows = next;
        resetMarks();
        endResetModel();
        return;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (int row = 0; row < m_rows.size(); ++row) {
        int first = -1, last = -1;
        for (int column = 0; column < ColumnCount; ++column) {
            if (!sameCell(m_rows.at(row), next.at(row), column)) {
                if (first < 0)
                    first = column;
                last = column;
            }
        }
        if (next.at(row).counters.upstreamFailures > m_rows.at(row).counters.upstreamFailures)
            m_marks[row].failureSeenMs = now;
        if (first >= 0)
            m_rows[row] = next.at(row);
        const bool failing = computeFailing(row, now);
        if (failing != m_marks.at(row).failing) {
            m_marks[row].failing = failing;
            first = 0; // colour, icon and tooltip of the whole row
            last = ColumnCount - 1;
        }
        if (first >= 0)
            emit dataChanged(index(row, first), index(row, last));
    }
}

void MethodsModel::onToggled(const QString &name, bool enabled)
{
    const int row = rowOf(name);
    if (row < 0 || m_rows.at(row).enabled == enabled)
        return;
    m_rows[row].enabled = enabled;
    emit dataChanged(index(row, Method), index(row, State));
}

int MethodsModel::rowOf(const QString &method) const
{
    for (int row = 0; row < m_rows.size(); ++row) {
        if (m_rows.at(row).name == method)
            return row;
    }
    return -1;
}

int MethodsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int MethodsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

Qt::ItemFlags MethodsModel::flags(const QModelIndex &index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && index.column() == Method)
        f |= Qt::ItemIsUserCheckable;
    return f;
}

QVariant MethodsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const MethodStatus &m = m_rows.at(index.row());
    const MethodCounters &c = m.counters;
    const int column = index.column();
    const bool upstream = !upstreamOf(m).isEmpty();
    const bool failing = m_marks.at(index.row()).failing;
    if (isUpstreamColumn(column) && !upstream && (role == Qt::DisplayRole || role == Qt::ToolTipRole))
        return {}; // built-ins and plugins: nothing to say
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case Method: return m.name;
        case State: return m.enabled ? tr("on") : tr("off");
        case ServedBy: return m.servedBy;
        case Description: return m.description;
        case Calls: return DisplayFormat::count(c.calls);
        case Refusals: return DisplayFormat::count(c.refusals);
        case Errors: return DisplayFormat::count(c.errors);
        case MeanLatency:
            return c.calls ? QLocale().toString(c.meanLatencyMs(), 'f', 3) : QString();
        case UpstreamCalls: return DisplayFormat::count(c.upstreamCalls);
        case UpstreamFailures: return DisplayFormat::count(c.upstreamFailures);
        case MeanUpstream:
            return c.upstreamCalls ? QLocale().toString(c.meanUpstreamMs(), 'f', 3) : QString();
        }
        break;
    case SortRole:
        switch (column) {
        case Method: return m.name;
        case State: return m.enabled;
        case ServedBy: return m.servedBy;
        case Description: return m.description;
        case Calls: return c.calls;
        case Refusals: return c.refusals;
        case Errors: return c.errors;
        case MeanLatency: return c.meanLatencyMs();
        case UpstreamCalls: return qint64(upstream ? c.upstreamCalls : -1);
        case UpstreamFailures: return qint64(upstream ? c.upstreamFailures : -1);
        case MeanUpstream: return upstream ? c.meanUpstreamMs() : -1.0;
        }
        break;
    case RecentFailureRole:
        if (failing) {
            const UpstreamHealth::Entry *entry = m_health->entry(upstreamOf(m));
            return entry ? UpstreamHealth::failureText(*entry) : QString();
        }
        break;
    case Qt::DecorationRole:
        if (failing && column == ServedBy && qobject_cast<QApplication *>(QCoreApplication::instance()))
            return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
        break;
    case Qt::ForegroundRole:
        if (failing && (column == ServedBy || column == UpstreamFailures))
            return QColor(0xc6, 0x28, 0x28);
        break;
    case Qt::CheckStateRole:
        if (column == Method)
            return m.enabled ? Qt::Checked : Qt::Unchecked;
        break;
    case MethodNameRole:
        return m.name;
    case Qt::ToolTipRole:
        if (failing && (column == Method || column == ServedBy || column == UpstreamFailures))
            return failureTip(index.row());
        switch (column) {
        case ServedBy:
            if (upstream) {
                const UpstreamHealth::Entry *entry = m_health ? m_health->entry(upstreamOf(m)) : nullptr;
                return entry ? tr("Answered by the HTTP upstream %1 (%2)").arg(entry->name, entry->url)
                             : tr("Answered by the HTTP upstream %1").arg(upstreamOf(m));
            }
            if (m.servedBy.startsWith(QLatin1String("plugin ")))
                return tr("Answered by the handler plugin %1").arg(m.servedBy.mid(7));
            if (m.servedBy.startsWith(QLatin1String("builtin ")))
                return tr("Answered by the built-in %1, under this method's name").arg(m.servedBy.mid(8));
            return tr("Answered by the server's built-in of this name");
        case UpstreamCalls: return tr("Calls handed to the upstream, failed ones included");
        case UpstreamFailures:
            return tr("Upstream calls that failed: timeout, unreachable, bad status, invalid reply or overloaded "
                      "(the client got -32603 with data.reason)");
        case MeanUpstream: return tr("Mean time waiting for the upstream per call (part of the mean latency)");
        case Method:
        case State:
            return m.enabled == m.enabledByDefault
                ? (m.enabled ? tr("Switched on (as in the catalog)") : tr("Switched off (as in the catalog)"))
                : (m.enabled ? tr("Switched on (the catalog has it off)") : tr("Switched off (the catalog has it on)"));
        case Description: return m.description;
        case Refusals: return tr("Refused by a validator: switched off, bad params or a policy");
        case Errors: return tr("The handler failed (-32603)");
        case MeanLatency: return tr("Mean time per call, validation and upstream included");
        }
        break;
    case Qt::TextAlignmentRole:
        return QVariant::fromValue<Qt::Alignment>((isNumeric(column) ? Qt::AlignRight : Qt::AlignLeft)
                                                  | Qt::AlignVCenter);
    }
    return {};
}

bool MethodsModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)
        || index.column() != Method || role != Qt::CheckStateRole)
        return false;
    const bool enabled = value.value<Qt::CheckState>() == Qt::Checked;
    const QString name = m_rows.at(index.row()).name;
    if (!m_registry->setEnabled(name, enabled)) // the one switch, shared with the HTTP API
        return false;
    if (m_rows.at(index.row()).enabled != enabled) {
        m_rows[index.row()].enabled = enabled;
        emit dataChanged(this->index(index.row(), Method), this->index(index.row(), State));
    }
    emit methodSwitched(name, enabled);
    return true;
}

QVariant MethodsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case Method: return tr("Method");
        case State: return tr("On/off");
        case ServedBy: return tr("Served by");
        case Description: return tr("Description");
        case Calls: return tr("Calls");
        case Refusals: return tr("Refusals");
        case Errors: return tr("Errors");
        case MeanLatency: return tr("Mean latency (ms)");
        case UpstreamCalls: return tr("Upstream calls");
        case UpstreamFailures: return tr("Upstream failures");
        case MeanUpstream: return tr("Mean upstream (ms)");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case Method: return tr("Check to switch the method on; takes effect on the next message and is remembered");
        case Calls: return tr("Every call naming the method, whatever became of it");
        case ServedBy: return tr("What answers the method: a built-in, an HTTP upstream (by name) or a handler plugin");
        case Refusals: return tr("Refused by a validator: switched off, bad params or a policy");
        case Errors: return tr("The handler failed (-32603), upstream failures included");
        case MeanLatency: return tr("Mean time per call, validation and upstream included");
        case UpstreamCalls: return tr("Calls handed to the method's upstream; empty when no upstream serves it");
        case UpstreamFailures: return tr("Upstream calls that failed (timeout, unreachable, bad status, invalid reply, "
                                         "overloaded); a warning marks the method while they keep failing");
        case MeanUpstream: return tr("Mean time waiting for the upstream, per upstream call");
        }
    } else if (role == Qt::TextAlignmentRole) {
        return QVariant::fromValue<Qt::Alignment>((isNumeric(section) ? Qt::AlignRight : Qt::AlignLeft)
                                                  | Qt::AlignVCenter);
    }
    return QAbstractTableModel::headerData(section, orientation, role);
}
