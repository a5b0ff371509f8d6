#include "ws/subprotocolregistry.h"

#include "ws/subprotocol.h"

void SubprotocolRegistry::add(std::shared_ptr<Subprotocol> protocol, bool enabled)
{
    QWriteLocker locker(&m_lock);
    const QString name = protocol->name();
    for (Entry &e : m_entries) {
        if (e.name == name) {
            e = Entry{std::move(protocol), name, enabled};
            return;
        }
    }
    m_entries.push_back(Entry{std::move(protocol), name, enabled});
}

bool SubprotocolRegistry::setEnabled(const QString &name, bool enabled)
{
    QWriteLocker locker(&m_lock);
    for (Entry &e : m_entries) {
        if (e.name == name) {
            e.enabled = enabled;
            return true;
        }
    }
    return false;
}

QStringList SubprotocolRegistry::enabledNames() const
{
    QReadLocker locker(&m_lock);
    QStringList names;
    for (const Entry &e : m_entries) {
        if (e.enabled)
            names << e.name;
    }
    return names;
}

QStringList SubprotocolRegistry::allNames() const
{
    QReadLocker locker(&m_lock);
    QStringList names;
    for (const Entry &e : m_entries)
        names << e.name;
    return names;
}

QString SubprotocolRegistry::choose(const QList<QByteArray> &offered) const
{
    QReadLocker locker(&m_lock);
    for (const QByteArray &offer : offered) {
        // Subprotocol names are case-sensitive tokens (RFC 6455 section 11.3.4).
        const QString name = QString::fromLatin1(offer);
        for (const Entry &e : m_entries) {
            if (e.enabled && e.name == name)
                return e.name;
        }
    }
    return QString();
}

std::shared_ptr<Subprotocol> SubprotocolRegistry::find(const QString &name) const
{
    QReadLocker locker(&m_lock);
    for (const Entry &e : m_entries) {
        if (e.name == name)
            return e.protocol;
    }
    return nullptr;
}
