#pragma once

#include "rpc/methodregistry.h"

#include <QAbstractTableModel>
#include <QList>

class ConnectionMonitor;

// The catalog's methods with their switch and counters, one row per method
// in catalog order. The Method column is checkable: checking it calls
// MethodRegistry::setEnabled(), the same single entry point as the HTTP API,
// so the switch takes effect on the next message and is persisted. Switches
// made elsewhere (PATCH /api/methods/...) arrive through methodToggled(),
// queued to the GUI thread. Counters are re-read on every monitor tick and
// only the cells that changed are reported (dataChanged; never a reset).
class MethodsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Method, State, Description, Calls, Refusals, Errors, MeanLatency, ColumnCount };
    enum Role { SortRole = Qt::UserRole + 1, MethodNameRole };

    // `monitor` may be null: then call refresh() yourself.
    MethodsModel(MethodRegistry *registry, ConnectionMonitor *monitor, QObject *parent = nullptr);

    MethodRegistry *registry() const { return m_registry; }
    // Re-reads switches and counters.
    void refresh();
    int rowOf(const QString &method) const;
    const MethodStatus &statusAt(int row) const { return m_rows.at(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

signals:
    // After the dashboard switched a method (the registry has it already).
    void methodSwitched(const QString &method, bool enabled);

private:
    void onToggled(const QString &name, bool enabled);
    static bool sameCell(const MethodStatus &a, const MethodStatus &b, int column);

    MethodRegistry *m_registry;
    QList<MethodStatus> m_rows;
};
