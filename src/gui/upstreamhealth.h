#pragma once

#include "upstream/httpupstream.h"

#include <QList>
#include <QObject>
#include <QString>

#include <memory>

class ConnectionMonitor;

// The catalog's HTTP upstreams as the dashboard sees them: their counters
// (HttpUpstream::stats(), a few atomics and one short lock: fine on the GUI
// thread) re-read on every monitor tick, and whether each one is failing.
//
// An upstream is failing from its last failure (timeout, unreachable, bad
// status, invalid reply, overloaded) until recentWindowMs() has passed, or
// until it answers again (a result or its own error) in a later tick without
// failing in that tick: a recovered upstream clears at once.
class UpstreamHealth : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 DefaultRecentWindowMs = 30'000;

    struct Entry
    {
        QString name;
        QString url; // without user info
        UpstreamStats stats;
        bool failing = false;
        qint64 failureAgeMs = -1; // now - stats.lastFailureMs; -1: never failed
        // Internal: answers (results + errors) at the previous tick, and the
        // failure the upstream recovered from (its lastFailureMs).
        quint64 answers = 0;
        qint64 recoveredFromMs = 0;
    };

    // `monitor` may be null: then call refresh() yourself.
    UpstreamHealth(QList<std::shared_ptr<HttpUpstream>> upstreams, ConnectionMonitor *monitor,
                   QObject *parent = nullptr);

    void setRecentWindowMs(qint64 ms) { m_windowMs = ms; }
    qint64 recentWindowMs() const { return m_windowMs; }

    // Re-reads every upstream's counters; emits refreshed().
    void refresh();

    const QList<Entry> &entries() const { return m_entries; }
    // Null for a name that is not an upstream of the catalog.
    const Entry *entry(const QString &name) const;
    bool anyFailing() const;
    // The failing upstreams, the most recent failure first, as one line:
    // "upstream orders: timeout 3 s ago"; empty when none is failing.
    QString warningText() const;
    // "timeout 3 s ago" for one entry (empty when it never failed).
    static QString failureText(const Entry &entry);

signals:
    void refreshed();

private:
    QList<std::shared_ptr<HttpUpstream>> m_upstreams;
    QList<Entry> m_entries;
    qint64 m_windowMs = DefaultRecentWindowMs;
};
