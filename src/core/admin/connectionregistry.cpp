#include "admin/connectionregistry.h"

#include "ws/websocketsession.h"

#include <QJsonArray>
#include <QTimeZone>

#include <algorithm>

namespace {
QString isoMs(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}
} // namespace

QString ConnectionInfo::peer() const
{
    const quint32 v4 = peerAddress.toIPv4Address();
    if (peerAddress.protocol() == QAbstractSocket::IPv6Protocol && !v4)
        return QLatin1Char('[') + peerAddress.toString() + QLatin1String("]:") + QString::number(peerPort);
    // IPv4 (also mapped into IPv6) by hand: every connection's call context
    // and the dashboard's rows ask for this; QHostAddress::toString() and
    // QString::arg() cost several times as much.
    char text[sizeof "255.255.255.255:65535"];
    char *end = text;
    const auto appendNumber = [&end](unsigned n) {
        char digits[5];
        int count = 0;
        do {
            digits[count++] = char('0' + n % 10);
            n /= 10;
        } while (n);
        while (count)
            *end++ = digits[--count];
    };
    for (int shift = 24; shift >= 0; shift -= 8) {
        appendNumber((v4 >> shift) & 0xff);
        *end++ = shift ? '.' : ':';
    }
    appendNumber(peerPort);
    return QString::fromLatin1(text, end - text);
}

QString ConnectionInfo::subprotocolLabel() const
{
    return subprotocolDefaulted ? subprotocol + QStringLiteral(" (default)") : subprotocol;
}

QJsonObject ConnectionInfo::toJson() const
{
    return QJsonObject{
        {"id", double(id)},
        {"peer", peer()},
        {"path", path},
        {"origin", origin},
        {"userAgent", userAgent},
        {"subprotocol", subprotocol},
        {"subprotocolDefaulted", subprotocolDefaulted},
        {"tls", tls},
        {"since", isoMs(connectedAt)},
        {"lastActivity", isoMs(lastActivity)},
        {"messagesIn", double(messagesIn)},
        {"messagesOut", double(messagesOut)},
        {"bytesIn", double(bytesIn)},
        {"bytesOut", double(bytesOut)},
    };
}

QJsonObject RefusedHandshake::toJson() const
{
    ConnectionInfo peerOnly;
    peerOnly.peerAddress = peerAddress;
    peerOnly.peerPort = peerPort;
    return QJsonObject{
        {"id", double(id)},
        {"time", isoMs(time)},
        {"peer", peerOnly.peer()},
        {"path", path},
        {"origin", origin},
        {"userAgent", userAgent},
        {"offeredSubprotocols", QJsonArray::fromStringList(offeredSubprotocols)},
        {"status", status},
        {"cause", cause},
        {"reason", reason},
    };
}

ConnectionRegistry::ConnectionRegistry(QObject *parent)
    : QObject(parent)
{
}

void ConnectionRegistry::add(WebSocketSession *session)
{
    const quint64 id = session->info().id;
    {
        QMutexLocker locker(&m_mutex);
        m_entries.insert(id, session);
    }
    m_totalOpened.fetch_add(1, std::memory_order_relaxed);
    emit connectionOpened(id);
}

void ConnectionRegistry::remove(quint64 id, int closeCode, const QString &closeReason)
{
    bool empty = false;
    {
        QMutexLocker locker(&m_mutex);
        const auto it = m_entries.find(id);
        if (it == m_entries.end())
            return;
        const ConnectionStats &s = (*it)->stats();
        m_closedTotals.messagesIn += s.messagesIn.load(std::memory_order_relaxed);
        m_closedTotals.messagesOut += s.messagesOut.load(std::memory_order_relaxed);
        m_closedTotals.bytesIn += s.bytesIn.load(std::memory_order_relaxed);
        m_closedTotals.bytesOut += s.bytesOut.load(std::memory_order_relaxed);
        m_entries.erase(it);
        empty = m_entries.isEmpty();
    }
    emit connectionClosed(id, closeCode, closeReason);
    if (empty)
        emit becameEmpty();
}

ConnectionInfo ConnectionRegistry::materialize(const WebSocketSession &session)
{
    ConnectionInfo info = session.info();
    const ConnectionStats &s = session.stats();
    info.messagesIn = s.messagesIn.load(std::memory_order_relaxed);
    info.messagesOut = s.messagesOut.load(std::memory_order_relaxed);
    info.bytesIn = s.bytesIn.load(std::memory_order_relaxed);
    info.bytesOut = s.bytesOut.load(std::memory_order_relaxed);
    // UTC: a local-time QDateTime asks the C library for the time zone
    // (a stat() of /etc/localtime each time), per connection per snapshot.
#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
    info.lastActivity = QDateTime::fromMSecsSinceEpoch(s.lastActivityMs.load(std::memory_order_relaxed), QTimeZone::UTC);
#else
    info.lastActivity = QDateTime::fromMSecsSinceEpoch(s.lastActivityMs.load(std::memory_order_relaxed), Qt::UTC);
#endif
    return info;
}

QList<ConnectionInfo> ConnectionRegistry::snapshot() const
{
    QMutexLocker locker(&m_mutex);
    QList<ConnectionInfo> list;
    list.reserve(m_entries.size());
    for (const WebSocketSession *session : m_entries)
        list.append(materialize(*session));
    locker.unlock();
    std::sort(list.begin(), list.end(),
              [](const ConnectionInfo &a, const ConnectionInfo &b) { return a.id < b.id; });
    return list;
}

std::optional<ConnectionInfo> ConnectionRegistry::connection(quint64 id) const
{
    QMutexLocker locker(&m_mutex);
    const auto it = m_entries.constFind(id);
    if (it == m_entries.cend())
        return std::nullopt;
    return materialize(**it);
}

QList<ConnectionInfo> ConnectionRegistry::connections(QList<quint64> ids) const
{
    std::sort(ids.begin(), ids.end());
    QList<ConnectionInfo> list;
    list.reserve(ids.size());
    QMutexLocker locker(&m_mutex);
    for (quint64 id : std::as_const(ids)) {
        const auto it = m_entries.constFind(id);
        if (it != m_entries.cend())
            list.append(materialize(**it));
    }
    return list;
}

TrafficTotals ConnectionRegistry::activity(std::vector<ConnectionActivity> &out) const
{
    out.clear();
    TrafficTotals t;
    {
        QMutexLocker locker(&m_mutex);
        out.reserve(size_t(m_entries.size()));
        t = m_closedTotals;
        for (auto it = m_entries.cbegin(); it != m_entries.cend(); ++it) {
            const ConnectionStats &s = it.value()->stats();
            ConnectionActivity a;
            a.id = it.key();
            a.messagesIn = s.messagesIn.load(std::memory_order_relaxed);
            a.messagesOut = s.messagesOut.load(std::memory_order_relaxed);
            a.bytesIn = s.bytesIn.load(std::memory_order_relaxed);
            a.bytesOut = s.bytesOut.load(std::memory_order_relaxed);
            a.lastActivityMs = s.lastActivityMs.load(std::memory_order_relaxed);
            t.messagesIn += a.messagesIn;
            t.messagesOut += a.messagesOut;
            t.bytesIn += a.bytesIn;
            t.bytesOut += a.bytesOut;
            out.push_back(a);
        }
    }
    std::sort(out.begin(), out.end(),
              [](const ConnectionActivity &a, const ConnectionActivity &b) { return a.id < b.id; });
    return t;
}

int ConnectionRegistry::count() const
{
    QMutexLocker locker(&m_mutex);
    return int(m_entries.size());
}

template<typename F>
bool ConnectionRegistry::postToSession(quint64 id, F &&call)
{
    QMutexLocker locker(&m_mutex);
    const auto it = m_entries.constFind(id);
    if (it == m_entries.cend())
        return false;
    // The session removes itself under this mutex before it is destroyed, so
    // the pointer is valid here; a queued call to an object that is deleted
    // before delivery is dropped by Qt.
    WebSocketSession *session = *it;
    QMetaObject::invokeMethod(session, [session, call = std::forward<F>(call)]() { call(*session); },
                              Qt::QueuedConnection);
    return true;
}

bool ConnectionRegistry::sendText(quint64 id, const QByteArray &utf8)
{
    return postToSession(id, [utf8](WebSocketSession &s) { s.sendText(utf8); });
}

bool ConnectionRegistry::pushNotification(quint64 id, const QString &method, const QByteArray &paramsJson)
{
    return postToSession(id, [method, paramsJson](WebSocketSession &s) {
        s.pushNotification(method, paramsJson);
    });
}

bool ConnectionRegistry::close(quint64 id, quint16 code, const QString &reason)
{
    return postToSession(id, [code, reason](WebSocketSession &s) { s.closeWithCode(code, reason); });
}

int ConnectionRegistry::closeAll(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    QList<quint64> ids;
    {
        QMutexLocker locker(&m_mutex);
        ids = m_entries.keys();
    }
    int n = 0;
    for (quint64 id : ids)
        n += close(id, code, reason);
    return n;
}

void ConnectionRegistry::recordRefusal(RefusedHandshake refusal)
{
    quint64 id = 0;
    {
        QMutexLocker locker(&m_mutex);
        id = refusal.id = m_nextRefusalId++;
        ++m_refusalsByCause[refusal.cause];
        m_refusals.push_back(std::move(refusal));
        while (m_refusals.size() > size_t(RefusalHistory))
            m_refusals.pop_front();
    }
    m_totalRefused.fetch_add(1, std::memory_order_relaxed);
    emit handshakeRefused(id);
}

QList<RefusedHandshake> ConnectionRegistry::refusalsAfter(quint64 afterId) const
{
    QMutexLocker locker(&m_mutex);
    QList<RefusedHandshake> list;
    for (const RefusedHandshake &r : m_refusals) {
        if (r.id > afterId)
            list.append(r);
    }
    return list;
}

TrafficTotals ConnectionRegistry::totals() const
{
    QMutexLocker locker(&m_mutex);
    TrafficTotals t = m_closedTotals;
    for (const WebSocketSession *session : m_entries) {
        const ConnectionStats &s = session->stats();
        t.messagesIn += s.messagesIn.load(std::memory_order_relaxed);
        t.messagesOut += s.messagesOut.load(std::memory_order_relaxed);
        t.bytesIn += s.bytesIn.load(std::memory_order_relaxed);
        t.bytesOut += s.bytesOut.load(std::memory_order_relaxed);
    }
    return t;
}

QHash<QString, quint64> ConnectionRegistry::refusalsByCause() const
{
    QMutexLocker locker(&m_mutex);
    return m_refusalsByCause;
}
