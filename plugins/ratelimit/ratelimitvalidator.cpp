#include "ratelimitvalidator.h"

#include <QJsonArray>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace {

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

bool RateLimitValidator::configure(const QJsonObject &settings, QString *error)
{
    // Check everything first, apply at once: calls may be in flight.
    Settings next;
    for (auto it = settings.begin(); it != settings.end(); ++it) {
        const QString key = it.key();
        const QJsonValue v = it.value();
        if (key == QLatin1String("callsPerSecond")) {
            if (!v.isDouble() || !(v.toDouble() > 0) || v.toDouble() > 1e9) {
                *error = QStringLiteral("\"callsPerSecond\" must be a number above 0");
                return false;
            }
            next.callsPerSecond = v.toDouble();
        } else if (key == QLatin1String("burst")) {
            if (!v.isDouble() || v.toDouble() < 1 || v.toDouble() > 1e9 || v.toDouble() != std::floor(v.toDouble())) {
                *error = QStringLiteral("\"burst\" must be a whole number of at least 1");
                return false;
            }
            next.burst = v.toDouble();
        } else if (key == QLatin1String("methods")) {
            if (!v.isArray()) {
                *error = QStringLiteral("\"methods\" must be an array of method names");
                return false;
            }
            const QJsonArray names = v.toArray();
            for (const QJsonValue &n : names) {
                if (!n.isString()) {
                    *error = QStringLiteral("\"methods\" must be an array of method names");
                    return false;
                }
                next.methods.insert(n.toString());
            }
        } else if (key == QLatin1String("code")) {
            if (!v.isDouble() || v.toDouble() != std::floor(v.toDouble()) || std::fabs(v.toDouble()) > 2147483647.0) {
                *error = QStringLiteral("\"code\" must be an integer");
                return false;
            }
            next.code = v.toInt();
        } else {
            *error = QStringLiteral("unknown setting \"%1\" (known: callsPerSecond, burst, methods, code)").arg(key);
            return false;
        }
    }
    if (!settings.contains(QLatin1String("burst")))
        next.burst = std::max(1.0, std::ceil(2 * next.callsPerSecond));

    QMutexLocker locker(&m_mutex);
    m_settings = next;
    // Buckets carry on (a reload must not hand everyone a fresh burst), but
    // never above the new burst.
    for (Bucket &bucket : m_buckets)
        bucket.tokens = std::min(bucket.tokens, next.burst);
    return true;
}

MethodCast RateLimitValidator::castToMethod(const CallContext &context, const QString &name) const
{
    const qint64 now = nowNs();
    QMutexLocker locker(&m_mutex);
    if (!m_settings.methods.isEmpty() && !m_settings.methods.contains(name))
        return MethodCast::accept();

    if (m_buckets.size() >= MaxTrackedConnections && !m_buckets.contains(context.connectionId))
        prune(now);
    const bool fresh = !m_buckets.contains(context.connectionId);
    Bucket &bucket = m_buckets[context.connectionId];
    if (fresh) {
        bucket.tokens = m_settings.burst;
    } else {
        const double elapsedS = double(now - bucket.refilledNs) / 1e9;
        bucket.tokens = std::min(m_settings.burst, bucket.tokens + elapsedS * m_settings.callsPerSecond);
    }
    bucket.refilledNs = now;

    if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return MethodCast::accept();
    }
    const double waitMs = (1 - bucket.tokens) / m_settings.callsPerSecond * 1000.0;
    return MethodCast::refuse(m_settings.code, QStringLiteral("rate limited"),
                              QJsonObject{{"retryAfterMs", std::max(1.0, std::ceil(waitMs))}});
}

void RateLimitValidator::connectionClosed(quint64 connectionId)
{
    QMutexLocker locker(&m_mutex);
    m_buckets.remove(connectionId);
}

void RateLimitValidator::prune(qint64 nowNs) const
{
    for (auto it = m_buckets.begin(); it != m_buckets.end();) {
        const double elapsedS = double(nowNs - it->refilledNs) / 1e9;
        if (it->tokens + elapsedS * m_settings.callsPerSecond >= m_settings.burst)
            it = m_buckets.erase(it);
        else
            ++it;
    }
}
