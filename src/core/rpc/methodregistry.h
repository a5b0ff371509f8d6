#pragma once

#include "methodstatefile.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QMutex>
#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

class MethodCatalog;

// A copy of one method's counters.
struct MethodCounters
{
    quint64 calls = 0;    // every call naming the method, whatever became of it
    quint64 refusals = 0; // refused by a validator (switched off, bad params, policy)
    quint64 errors = 0;   // the handler failed (-32603)
    double totalLatencyMs = 0; // summed over all calls: from the message read (or the batch's previous call) to the handler's return
    // Calls handed to an upstream, those of them it failed (timeout,
    // unreachable, bad status, invalid reply, overloaded), and the time spent
    // waiting for it: the part of totalLatencyMs that is the upstream's.
    quint64 upstreamCalls = 0;
    quint64 upstreamFailures = 0;
    double totalUpstreamMs = 0;

    double meanLatencyMs() const { return calls ? totalLatencyMs / double(calls) : 0.0; }
    double meanUpstreamMs() const { return upstreamCalls ? totalUpstreamMs / double(upstreamCalls) : 0.0; }
    QJsonObject toJson() const;
};

// A copy of one method's switch and counters (GET /api/methods, dashboard).
struct MethodStatus
{
    QString name;
    QString description;
    bool enabled = true;
    bool enabledByDefault = true; // what the catalog says
    // What serves it: "builtin", "builtin echo" (another name's built-in),
    // "upstream orders", "plugin kv".
    QString servedBy;
    MethodCounters counters;

    QJsonObject toJson() const;
};

// The on/off switch and the counters of every catalog method. The switch has
// ONE writer entry point, setEnabled(), shared by dashboard, HTTP API and
// start-up; reads are lock-free atomics, so worker threads check it on every
// message and a switch takes effect on the next message of every connection.
// Switches persist in a MethodStateFile and are restored by the next
// registry built over the same file (a restart).
class MethodRegistry : public QObject
{
    Q_OBJECT
public:
    enum class CallResult { Succeeded, Refused, Failed };

    // `stateFile` empty: MethodStateFile's default place. A state file that
    // cannot be read is reported by persistenceError() and ignored.
    MethodRegistry(const MethodCatalog &catalog, const QString &stateFile, QObject *parent = nullptr);
    ~MethodRegistry() override;

    QStringList names() const;           // catalog order
    QStringList enabledNames() const;    // catalog order
    bool contains(const QString &name) const { return m_index.contains(name); }
    bool isEnabled(const QString &name) const; // false for unknown names

    // Switches a method on or off and persists it; false for an unknown name.
    // Safe from any thread; the last call wins. Emits methodToggled() when
    // the switch changed.
    bool setEnabled(const QString &name, bool enabled);

    // Counts one call. Names not in the catalog go to unknownCalls().
    void record(const QString &name, CallResult result, qint64 latencyNs);
    // Counts one call that went to an upstream (after record() counted it as a call).
    void recordUpstream(const QString &name, qint64 upstreamNs, bool failed);
    // Set once per method while the engine is built, before any call.
    void setServedBy(const QString &name, const QString &servedBy);
    quint64 unknownCalls() const { return m_unknownCalls.load(std::memory_order_relaxed); }

    QList<MethodStatus> snapshot() const; // catalog order
    std::optional<MethodStatus> status(const QString &name) const;
    QJsonArray toJson() const;            // snapshot() as JSON, for GET /api/methods

    QString stateFilePath() const { return m_stateFile.path(); }
    // The last failure to read or write the state file; empty when fine.
    QString persistenceError() const;

signals:
    // Emitted on the thread that called setEnabled(); queue it across threads.
    void methodToggled(const QString &name, bool enabled);

private:
    struct Entry;
    MethodStatus statusOf(const Entry &entry) const;

    std::vector<std::unique_ptr<Entry>> m_entries; // fixed after construction
    QHash<QString, Entry *> m_index;               // fixed after construction
    std::atomic<quint64> m_unknownCalls{0};

    MethodStateFile m_stateFile;
    mutable QMutex m_saveMutex;      // serializes writes of the state file
    QHash<QString, bool> m_switches; // what the state file holds; under m_saveMutex
    QString m_persistenceError;      // under m_saveMutex
};
