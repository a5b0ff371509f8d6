#include "upstreamhealth.h"

#include "connectionmonitor.h"

#include <QDateTime>

#include <algorithm>

UpstreamHealth::UpstreamHealth(QList<std::shared_ptr<HttpUpstream>> upstreams, ConnectionMonitor *monitor,
                               QObject *parent)
    : QObject(parent)
    , m_upstreams(std::move(upstreams))
{
    for (const std::shared_ptr<HttpUpstream> &upstream : std::as_const(m_upstreams)) {
        Entry entry;
        entry.name = upstream->name();
        entry.url = upstream->spec().url.toDisplayString(QUrl::RemoveUserInfo);
        m_entries.append(entry);
    }
    if (monitor)
        connect(monitor, &ConnectionMonitor::polled, this, &UpstreamHealth::refresh);
    refresh();
}

void UpstreamHealth::refresh()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (int i = 0; i < m_upstreams.size(); ++i) {
        Entry &entry = m_entries[i];
        const UpstreamStats stats = m_upstreams.at(i)->stats();
        const quint64 answers = stats.results + stats.errors;
        const bool newFailure = stats.lastFailureMs != entry.stats.lastFailureMs;
        // Answered since the last tick and did not fail meanwhile: recovered.
        if (answers > entry.answers && !newFailure && stats.lastFailureMs > 0)
            entry.recoveredFromMs = stats.lastFailureMs;
        entry.answers = answers;
        entry.stats = stats;
        entry.failureAgeMs = stats.lastFailureMs > 0 ? std::max<qint64>(0, now - stats.lastFailureMs) : -1;
        entry.failing = entry.failureAgeMs >= 0 && entry.failureAgeMs < m_windowMs
            && entry.recoveredFromMs != stats.lastFailureMs;
    }
    emit refreshed();
}

const UpstreamHealth::Entry *UpstreamHealth::entry(const QString &name) const
{
    for (const Entry &e : m_entries) {
        if (e.name == name)
            return &e;
    }
    return nullptr;
}

bool UpstreamHealth::anyFailing() const
{
    return std::any_of(m_entries.cbegin(), m_entries.cend(), [](const Entry &e) { return e.failing; });
}

QString UpstreamHealth::failureText(const Entry &entry)
{
    if (entry.failureAgeMs < 0)
        return QString();
    return tr("%1 %2 s ago").arg(entry.stats.lastFailure).arg(entry.failureAgeMs / 1000);
}

QString UpstreamHealth::warningText() const
{
    QList<const Entry *> failing;
    for (const Entry &e : m_entries) {
        if (e.failing)
            failing << &e;
    }
    std::stable_sort(failing.begin(), failing.end(),
                     [](const Entry *a, const Entry *b) { return a->failureAgeMs < b->failureAgeMs; });
    QStringList parts;
    for (const Entry *e : std::as_const(failing))
        parts << tr("upstream %1: %2").arg(e->name, failureText(*e));
    return parts.join(QStringLiteral(", "));
}
