#include "kvhandler.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTimer>

#include <cmath>

namespace {

// -32602 with the validators' {path, message} list.
void invalidParams(const HandlerReply &reply, const QString &path, const QString &message)
{
    reply.error(-32602, QStringLiteral("Invalid params"),
                QJsonArray{QJsonObject{{"path", path}, {"message", message}}});
}

// The params object, or an answer saying why not.
bool paramsObject(const QJsonValue &params, const HandlerReply &reply, QJsonObject *object)
{
    if (!params.isObject()) {
        invalidParams(reply, QString(), QStringLiteral("must be an object"));
        return false;
    }
    *object = params.toObject();
    return true;
}

bool readKey(const QJsonObject &params, const HandlerReply &reply, QString *key)
{
    const QJsonValue v = params.value(QLatin1String("key"));
    if (!v.isString() || v.toString().isEmpty()) {
        invalidParams(reply, QStringLiteral("/key"),
                      v.isUndefined() ? QStringLiteral("is required") : QStringLiteral("must be a non-empty string"));
        return false;
    }
    *key = v.toString();
    return true;
}

// The size of the value as compact JSON text.
qsizetype jsonBytes(const QJsonValue &value)
{
    // QJsonDocument holds arrays and objects only: measure [value] less the brackets.
    return QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact).size() - 2;
}

bool positiveInt(const QJsonValue &v)
{
    return v.isDouble() && v.toDouble() >= 1 && v.toDouble() <= 2147483647.0 && v.toDouble() == std::floor(v.toDouble());
}

} // namespace

bool KvHandler::configure(const QJsonObject &settings, QString *error)
{
    int maxKeys = 10'000;
    int maxValueBytes = 65'536;
    for (auto it = settings.begin(); it != settings.end(); ++it) {
        if (it.key() == QLatin1String("maxKeys")) {
            if (!positiveInt(it.value())) {
                *error = QStringLiteral("\"maxKeys\" must be a whole number of at least 1");
                return false;
            }
            maxKeys = it.value().toInt();
        } else if (it.key() == QLatin1String("maxValueBytes")) {
            if (!positiveInt(it.value())) {
                *error = QStringLiteral("\"maxValueBytes\" must be a whole number of at least 1");
                return false;
            }
            maxValueBytes = it.value().toInt();
        } else {
            *error = QStringLiteral("unknown setting \"%1\" (known: maxKeys, maxValueBytes)").arg(it.key());
            return false;
        }
    }
    // Checked in full, applied at once. Keys beyond a lowered maxKeys stay;
    // no new key is taken until the store is below it again.
    m_maxKeys.store(maxKeys);
    m_maxValueBytes.store(maxValueBytes);
    return true;
}

QStringList KvHandler::methods() const
{
    return {QStringLiteral("kv.set"), QStringLiteral("kv.get"), QStringLiteral("kv.delete"),
            QStringLiteral("kv.keys"), QStringLiteral("kv.wait")};
}

void KvHandler::handle(const CallContext &context, const QString &method, const QJsonValue &params,
                       HandlerReply reply)
{
    const QString verb = method.section(QLatin1Char('.'), -1);
    if (verb == QLatin1String("get"))
        get(params, reply);
    else if (verb == QLatin1String("set"))
        set(params, reply);
    else if (verb == QLatin1String("delete"))
        remove(params, reply);
    else if (verb == QLatin1String("keys"))
        keys(params, reply);
    else if (verb == QLatin1String("wait"))
        wait(context, params, reply);
    else
        reply.error(-32601, QStringLiteral("Method not found"), QJsonObject{{"reason", "unknown"}});
}

void KvHandler::set(const QJsonValue &params, const HandlerReply &reply)
{
    QJsonObject p;
    QString key;
    if (!paramsObject(params, reply, &p) || !readKey(p, reply, &key))
        return;
    if (!p.contains(QLatin1String("value"))) {
        invalidParams(reply, QStringLiteral("/value"), QStringLiteral("is required"));
        return;
    }
    const QJsonValue value = p.value(QLatin1String("value"));
    const qsizetype bytes = jsonBytes(value);
    const int maxValueBytes = m_maxValueBytes.load();
    if (bytes > maxValueBytes) {
        reply.error(-32011, QStringLiteral("value too large"),
                    QJsonObject{{"maxValueBytes", maxValueBytes}, {"bytes", double(bytes)}});
        return;
    }
    {
        QWriteLocker locker(&m_lock);
        const int maxKeys = m_maxKeys.load();
        if (!m_store.contains(key) && m_store.size() >= maxKeys) {
            locker.unlock();
            reply.error(-32010, QStringLiteral("store full"), QJsonObject{{"maxKeys", maxKeys}});
            return;
        }
        m_store.insert(key, value);
    }

    // The calls waiting for this key get the value: answered from this
    // thread, whichever threads they came from.
    QList<HandlerReply> waiting;
    {
        QMutexLocker locker(&m_waitMutex);
        const QList<quint64> ids = m_waitIds.values(key);
        m_waitIds.remove(key);
        for (quint64 id : ids)
            waiting << m_waiters.take(id).reply;
    }
    for (const HandlerReply &w : std::as_const(waiting))
        w.result(value);
    reply.result(true);
}

void KvHandler::get(const QJsonValue &params, const HandlerReply &reply) const
{
    QJsonObject p;
    QString key;
    if (!paramsObject(params, reply, &p) || !readKey(p, reply, &key))
        return;
    QJsonValue value(QJsonValue::Null);
    {
        QReadLocker locker(&m_lock);
        value = m_store.value(key, QJsonValue(QJsonValue::Null));
    }
    reply.result(value);
}

void KvHandler::remove(const QJsonValue &params, const HandlerReply &reply)
{
    QJsonObject p;
    QString key;
    if (!paramsObject(params, reply, &p) || !readKey(p, reply, &key))
        return;
    bool existed = false;
    {
        QWriteLocker locker(&m_lock);
        existed = m_store.remove(key) > 0;
    }
    reply.result(existed);
}

void KvHandler::keys(const QJsonValue &params, const HandlerReply &reply) const
{
    const bool none = params.isUndefined() || params.isNull() || (params.isObject() && params.toObject().isEmpty())
        || (params.isArray() && params.toArray().isEmpty());
    if (!none) {
        invalidParams(reply, QString(), QStringLiteral("takes no params"));
        return;
    }
    QStringList names;
    {
        QReadLocker locker(&m_lock);
        names = m_store.keys(); // QMap: sorted
    }
    reply.result(QJsonArray::fromStringList(names));
}

void KvHandler::wait(const CallContext &context, const QJsonValue &params, const HandlerReply &reply)
{
    QJsonObject p;
    QString key;
    if (!paramsObject(params, reply, &p) || !readKey(p, reply, &key))
        return;
    int timeoutMs = MaxWaitMs;
    if (p.contains(QLatin1String("timeoutMs"))) {
        const QJsonValue t = p.value(QLatin1String("timeoutMs"));
        if (!t.isDouble() || t.toDouble() < 0 || t.toDouble() > MaxWaitMs || t.toDouble() != std::floor(t.toDouble())) {
            invalidParams(reply, QStringLiteral("/timeoutMs"),
                          QStringLiteral("must be a whole number from 0 to %1").arg(MaxWaitMs));
            return;
        }
        timeoutMs = t.toInt();
    }
    if (timeoutMs == 0) {
        reply.result(QJsonValue(QJsonValue::Null));
        return;
    }
    quint64 id = 0;
    {
        QMutexLocker locker(&m_waitMutex);
        if (m_waiters.size() >= MaxWaiting) {
            locker.unlock();
            reply.error(-32012, QStringLiteral("too many waiting calls"), QJsonObject{{"maxWaiting", MaxWaiting}});
            return;
        }
        id = m_nextWaitId++;
        m_waiters.insert(id, Waiter{key, context.connectionId, reply});
        m_waitIds.insert(key, id);
    }
    // The timeout runs on the calling (worker) thread's event loop, long
    // after handle() returned: an answer given later. (The plugin object
    // lives as long as the process, so `this` stays valid.)
    QTimer::singleShot(timeoutMs, [this, id] { expire(id); });
}

void KvHandler::expire(quint64 waitId)
{
    HandlerReply reply;
    {
        QMutexLocker locker(&m_waitMutex);
        const auto it = m_waiters.find(waitId);
        if (it == m_waiters.end())
            return; // answered by a set, or its connection closed
        reply = it->reply;
        m_waitIds.remove(it->key, waitId);
        m_waiters.erase(it);
    }
    reply.result(QJsonValue(QJsonValue::Null));
}

void KvHandler::connectionClosed(quint64 connectionId)
{
    QList<HandlerReply> gone;
    {
        QMutexLocker locker(&m_waitMutex);
        for (auto it = m_waiters.begin(); it != m_waiters.end();) {
            if (it->connectionId == connectionId) {
                m_waitIds.remove(it->key, it.key());
                gone << it->reply;
                it = m_waiters.erase(it);
            } else {
                ++it;
            }
        }
    }
    // Nobody is there to read these answers; they end the calls.
    for (const HandlerReply &reply : std::as_const(gone))
        reply.result(QJsonValue(QJsonValue::Null));
}
