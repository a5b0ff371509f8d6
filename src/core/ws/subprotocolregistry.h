#pragma once

#include <QReadWriteLock>
#include <QStringList>

#include <memory>
#include <vector>

class Subprotocol;

// The subprotocols the server can negotiate, in registration order, each with
// an enabled flag. Read by the handshake policy on the accept thread and by
// every worker; written rarely (start-up, dashboard), hence the RW lock.
class SubprotocolRegistry
{
public:
    // Takes ownership. A second registration under the same name replaces the first.
    void add(std::shared_ptr<Subprotocol> protocol, bool enabled = true);
    bool setEnabled(const QString &name, bool enabled);

    // Names that a client may pick right now, in registration order.
    QStringList enabledNames() const;
    QStringList allNames() const;
    // The first of `offered` that is registered and enabled, or an empty string.
    QString choose(const QList<QByteArray> &offered) const;
    std::shared_ptr<Subprotocol> find(const QString &name) const;

private:
    struct Entry
    {
        std::shared_ptr<Subprotocol> protocol;
        QString name;
        bool enabled;
    };
    mutable QReadWriteLock m_lock;
    std::vector<Entry> m_entries;
};
