#pragma once

#include "rpc/methodregistry.h"

#include <QAbstractTableModel>
#include <QList>

class ConnectionMonitor;
class UpstreamHealth;

// The catalog's methods with their switch and counters, one row per method
// in catalog order. The Method column is checkable: checking it calls
// MethodRegistry::setEnabled(), the same single entry point as the HTTP API,
// so the switch takes effect on the next message and is persisted. Switches
// made elsewhere (PATCH /api/methods/...) arrive through methodToggled(),
// queued to the GUI thread. Counters are re-read on every monitor tick and
// only the cells that changed are reported (dataChanged; never a reset).
//
// "Served by" names what answers each method (built-in, an upstream, a
// plugin); the upstream columns are empty for methods no upstream serves.
// With an UpstreamHealth, a method whose upstream calls failed recently (its
// failures grew within the health's window and the upstream has not
// recovered since) is marked: a warning icon on Served by, warning colour,
// and the upstream's last failure in the tooltip (RecentFailureRole).
class MethodsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Method,
        State,
        ServedBy,
        Calls,
        Refusals,
        Errors,
        MeanLatency,
        UpstreamCalls,
        UpstreamFailures,
        MeanUpstream,
        Description, // last: it takes the room that is left
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1,
        MethodNameRole,
        // On every cell: the upstream's last failure ("timeout 3 s ago") while
        // the method is marked as failing; an invalid QVariant otherwise.
        RecentFailureRole,
    };

    // `monitor` may be null: then call refresh() yourself.
    MethodsModel(MethodRegistry *registry, ConnectionMonitor *monitor, QObject *parent = nullptr);

    MethodRegistry *registry() const { return m_registry; }
    // Marks methods whose upstream failed recently (null: no marks).
    void setUpstreamHealth(UpstreamHealth *health);
    UpstreamHealth *upstreamHealth() const { return m_health; }
    // "orders" for a method served by "upstream orders"; empty otherwise.
    static QString upstreamOf(const MethodStatus &status);
    bool isFailing(int row) const { return m_marks.at(row).failing; }
    // Whether any method is served by an upstream.
    bool hasUpstreamMethods() const;
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
    struct Mark
    {
        qint64 failureSeenMs = 0; // when its upstream failures were seen to grow
        bool failing = false;
    };
    void resetMarks();
    bool computeFailing(int row, qint64 nowMs) const;
    QString failureTip(int row) const;

    MethodRegistry *m_registry;
    UpstreamHealth *m_health = nullptr;
    QList<MethodStatus> m_rows;
    QList<Mark> m_marks; // parallel to m_rows
};
