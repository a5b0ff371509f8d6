#include "methodregistry.h"

#include "methodcatalog.h"
#include "methodslogging.h"

struct MethodRegistry::Entry
{
    QString name;
    QString description;
    bool enabledByDefault = true;
    std::atomic<bool> enabled{true};
    std::atomic<quint64> calls{0};
    std::atomic<quint64> refusals{0};
    std::atomic<quint64> errors{0};
    std::atomic<quint64> latencyNs{0};
    std::atomic<quint64> upstreamCalls{0};
    std::atomic<quint64> upstreamFailures{0};
    std::atomic<quint64> upstreamNs{0};
    QString servedBy = QStringLiteral("builtin"); // fixed before the first call
};

QJsonObject MethodCounters::toJson() const
{
    return QJsonObject{
        {"calls", double(calls)},
        {"refusals", double(refusals)},
        {"errors", double(errors)},
        {"totalLatencyMs", totalLatencyMs},
        {"meanLatencyMs", meanLatencyMs()},
        {"upstreamCalls", double(upstreamCalls)},
        {"upstreamFailures", double(upstreamFailures)},
        {"totalUpstreamMs", totalUpstreamMs},
        {"meanUpstreamMs", meanUpstreamMs()},
    };
}

QJsonObject MethodStatus::toJson() const
{
    return QJsonObject{
        {"name", name},
        {"description", description},
        {"enabled", enabled},
        {"enabledByDefault", enabledByDefault},
        {"servedBy", servedBy},
        {"counters", counters.toJson()},
    };
}

MethodRegistry::MethodRegistry(const MethodCatalog &catalog, const QString &stateFile, QObject *parent)
    : QObject(parent)
    , m_stateFile(stateFile)
{
    QString error;
    if (!m_stateFile.load(&m_switches, &error)) {
        qCWarning(lcMethods).noquote() << error << "- starting with the catalog's switches";
        m_persistenceError = error;
    }
    for (const CatalogMethod &method : catalog.methods()) {
        auto entry = std::make_unique<Entry>();
        entry->name = method.name;
        entry->description = method.description;
        entry->enabledByDefault = method.enabled;
        entry->enabled.store(m_switches.value(method.name, method.enabled), std::memory_order_relaxed);
        m_index.insert(method.name, entry.get());
        m_entries.push_back(std::move(entry));
    }
}

MethodRegistry::~MethodRegistry() = default;

QStringList MethodRegistry::names() const
{
    QStringList list;
    for (const auto &e : m_entries)
        list << e->name;
    return list;
}

QStringList MethodRegistry::enabledNames() const
{
    QStringList list;
    for (const auto &e : m_entries) {
        if (e->enabled.load(std::memory_order_acquire))
            list << e->name;
    }
    return list;
}

bool MethodRegistry::isEnabled(const QString &name) const
{
    const Entry *entry = m_index.value(name);
    return entry && entry->enabled.load(std::memory_order_acquire);
}

bool MethodRegistry::setEnabled(const QString &name, bool enabled)
{
    Entry *entry = m_index.value(name);
    if (!entry)
        return false;
    if (entry->enabled.exchange(enabled, std::memory_order_acq_rel) == enabled)
        return true;

    bool now = enabled;
    {
        QMutexLocker locker(&m_saveMutex);
        // Write what holds now, not what this call asked for: a racing call
        // may have flipped it again, and the file must end with the last word.
        now = entry->enabled.load(std::memory_order_acquire);
        m_switches.insert(name, now);
        QString error;
        if (m_stateFile.save(m_switches, &error)) {
            m_persistenceError.clear();
        } else {
            qCWarning(lcMethods).noquote() << error << "- the switch holds until the server stops";
            m_persistenceError = error;
        }
    }
    qCInfo(lcMethods).noquote() << "method" << name << (now ? "switched on" : "switched off");
    emit methodToggled(name, now);
    return true;
}

void MethodRegistry::record(const QString &name, CallResult result, qint64 latencyNs)
{
    Entry *entry = m_index.value(name);
    if (!entry) {
        m_unknownCalls.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    entry->calls.fetch_add(1, std::memory_order_relaxed);
    entry->latencyNs.fetch_add(quint64(qMax<qint64>(latencyNs, 0)), std::memory_order_relaxed);
    if (result == CallResult::Refused)
        entry->refusals.fetch_add(1, std::memory_order_relaxed);
    else if (result == CallResult::Failed)
        entry->errors.fetch_add(1, std::memory_order_relaxed);
}

void MethodRegistry::recordUpstream(const QString &name, qint64 upstreamNs, bool failed)
{
    Entry *entry = m_index.value(name);
    if (!entry)
        return;
    entry->upstreamCalls.fetch_add(1, std::memory_order_relaxed);
    entry->upstreamNs.fetch_add(quint64(qMax<qint64>(upstreamNs, 0)), std::memory_order_relaxed);
    if (failed)
        entry->upstreamFailures.fetch_add(1, std::memory_order_relaxed);
}

void MethodRegistry::setServedBy(const QString &name, const QString &servedBy)
{
    if (Entry *entry = m_index.value(name))
        entry->servedBy = servedBy;
}

MethodStatus MethodRegistry::statusOf(const Entry &entry) const
{
    MethodStatus status;
    status.name = entry.name;
    status.description = entry.description;
    status.enabled = entry.enabled.load(std::memory_order_acquire);
    status.enabledByDefault = entry.enabledByDefault;
    status.counters.calls = entry.calls.load(std::memory_order_relaxed);
    status.counters.refusals = entry.refusals.load(std::memory_order_relaxed);
    status.counters.errors = entry.errors.load(std::memory_order_relaxed);
    status.counters.totalLatencyMs = double(entry.latencyNs.load(std::memory_order_relaxed)) / 1e6;
    status.counters.upstreamCalls = entry.upstreamCalls.load(std::memory_order_relaxed);
    status.counters.upstreamFailures = entry.upstreamFailures.load(std::memory_order_relaxed);
    status.counters.totalUpstreamMs = double(entry.upstreamNs.load(std::memory_order_relaxed)) / 1e6;
    status.servedBy = entry.servedBy;
    return status;
}

QList<MethodStatus> MethodRegistry::snapshot() const
{
    QList<MethodStatus> list;
    list.reserve(qsizetype(m_entries.size()));
    for (const auto &e : m_entries)
        list.append(statusOf(*e));
    return list;
}

std::optional<MethodStatus> MethodRegistry::status(const QString &name) const
{
    const Entry *entry = m_index.value(name);
    if (!entry)
        return std::nullopt;
    return statusOf(*entry);
}

QJsonArray MethodRegistry::toJson() const
{
    QJsonArray array;
    for (const MethodStatus &s : snapshot())
        array.append(s.toJson());
    return array;
}

QString MethodRegistry::persistenceError() const
{
    QMutexLocker locker(&m_saveMutex);
    return m_persistenceError;
}
