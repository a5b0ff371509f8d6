#include "methodsmodel.h"

#include "connectionmonitor.h"
#include "displayformat.h"

#include <QLocale>

namespace {
bool isNumeric(int column)
{
    return column >= MethodsModel::Calls && column <= MethodsModel::MeanLatency;
}
} // namespace

MethodsModel::MethodsModel(MethodRegistry *registry, ConnectionMonitor *monitor, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
    , m_rows(registry->snapshot())
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
    case Description: return a.description == b.description;
    case Calls: return a.counters.calls == b.counters.calls;
    case Refusals: return a.counters.refusals == b.counters.refusals;
    case Errors: return a.counters.errors == b.counters.errors;
    case MeanLatency: return a.counters.meanLatencyMs() == b.counters.meanLatencyMs();
    }
    return true;
}

void MethodsModel::refresh()
{
    const QList<MethodStatus> next = m_registry->snapshot();
    if (next.size() != m_rows.size()) { // the catalog is fixed; only a new registry changes it
        beginResetModel();
        m_rows = next;
        endResetModel();
        return;
    }
    for (int row = 0; row < m_rows.size(); ++row) {
        int first = -1, last = -1;
        for (int column = 0; column < ColumnCount; ++column) {
            if (!sameCell(m_rows.at(row), next.at(row), column)) {
                if (first < 0)
                    first = column;
                last = column;
            }
        }
        if (first < 0)
            continue;
        m_rows[row] = next.at(row);
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
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case Method: return m.name;
        case State: return m.enabled ? tr("on") : tr("off");
        case Description: return m.description;
        case Calls: return DisplayFormat::count(c.calls);
        case Refusals: return DisplayFormat::count(c.refusals);
        case Errors: return DisplayFormat::count(c.errors);
        case MeanLatency:
            return c.calls ? QLocale().toString(c.meanLatencyMs(), 'f', 3) : QString();
        }
        break;
    case SortRole:
        switch (column) {
        case Method: return m.name;
        case State: return m.enabled;
        case Description: return m.description;
        case Calls: return c.calls;
        case Refusals: return c.refusals;
        case Errors: return c.errors;
        case MeanLatency: return c.meanLatencyMs();
        }
        break;
    case Qt::CheckStateRole:
        if (column == Method)
            return m.enabled ? Qt::Checked : Qt::Unchecked;
        break;
    case MethodNameRole:
        return m.name;
    case Qt::ToolTipRole:
        switch (column) {
        case Method:
        case State:
            return m.enabled == m.enabledByDefault
                ? (m.enabled ? tr("Switched on (as in the catalog)") : tr("Switched off (as in the catalog)"))
                : (m.enabled ? tr("Switched on (the catalog has it off)") : tr("Switched off (the catalog has it on)"));
        case Description: return m.description;
        case Refusals: return tr("Refused by a validator: switched off, bad params or a policy");
        case Errors: return tr("The handler failed (-32603)");
        case MeanLatency: return tr("Mean time per call, validation included");
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
        case Description: return tr("Description");
        case Calls: return tr("Calls");
        case Refusals: return tr("Refusals");
        case Errors: return tr("Errors");
        case MeanLatency: return tr("Mean latency (ms)");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case Method: return tr("Check to switch the method on; takes effect on the next message and is remembered");
        case Calls: return tr("Every call naming the method, whatever became of it");
        }
    } else if (role == Qt::TextAlignmentRole) {
        return QVariant::fromValue<Qt::Alignment>((isNumeric(section) ? Qt::AlignRight : Qt::AlignLeft)
                                                  | Qt::AlignVCenter);
    }
    return QAbstractTableModel::headerData(section, orientation, role);
}
