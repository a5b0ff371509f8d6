#include "upstream/upstreamspec.h"

#include <QJsonArray>

namespace {

bool readBoundedInt(const QJsonObject &object, const char *key, int min, int max, int *out)
{
    const QJsonValue v = object.value(QLatin1String(key));
    if (v.isUndefined())
        return true;
    if (!v.isDouble() || v.toDouble() != double(qint64(v.toDouble())) || v.toDouble() < min || v.toDouble() > max)
        return false;
    *out = int(v.toDouble());
    return true;
}

// RFC 9110 token characters, for header names.
bool isToken(const QByteArray &name)
{
    if (name.isEmpty())
        return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
        if (!ok)
            return false;
    }
    return true;
}

} // namespace

std::optional<UpstreamSpec> UpstreamSpec::fromJson(const QString &name, const QJsonValue &value, QString *error)
{
    const auto fail = [&](const QString &why) {
        *error = QStringLiteral("upstream \"%1\": %2").arg(name, why);
        return std::nullopt;
    };
    if (name.isEmpty())
        return fail(QStringLiteral("the name must not be empty"));
    if (!value.isObject())
        return fail(QStringLiteral("must be an object with a \"url\""));
    const QJsonObject o = value.toObject();
    static const QStringList known = {"url", "timeoutMs", "maxInFlight", "maxConnections", "headers"};
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (!known.contains(it.key()))
            return fail(QStringLiteral("unknown key \"%1\"").arg(it.key()));
    }

    UpstreamSpec spec;
    spec.name = name;
    const QJsonValue url = o.value(QLatin1String("url"));
    if (!url.isString())
        return fail(QStringLiteral("\"url\" must be a string such as \"http://127.0.0.1:9000/rpc\""));
    spec.url = QUrl(url.toString(), QUrl::StrictMode);
    const QString scheme = spec.url.scheme();
    if (!spec.url.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        || spec.url.host().isEmpty())
        return fail(QStringLiteral("\"url\" must be an http:// or https:// URL with a host, not \"%1\"")
                        .arg(url.toString()));
    if (!spec.url.userInfo().isEmpty() || !spec.url.fragment().isNull())
        return fail(QStringLiteral("\"url\" must not carry user info or a fragment (put credentials in \"headers\")"));

    if (!readBoundedInt(o, "timeoutMs", 1, 3'600'000, &spec.timeoutMs))
        return fail(QStringLiteral("\"timeoutMs\" must be a whole number from 1 to 3600000"));
    if (!readBoundedInt(o, "maxInFlight", 1, 1'000'000, &spec.maxInFlight))
        return fail(QStringLiteral("\"maxInFlight\" must be a whole number from 1 to 1000000"));
    if (!readBoundedInt(o, "maxConnections", 1, 10'000, &spec.maxConnections))
        return fail(QStringLiteral("\"maxConnections\" must be a whole number from 1 to 10000"));

    const QJsonValue headers = o.value(QLatin1String("headers"));
    if (!headers.isUndefined() && !headers.isObject())
        return fail(QStringLiteral("\"headers\" must be an object of strings"));
    // Framing headers are Switchboard's to write: a second Content-Length
    // would let a catalog smuggle requests.
    static const QList<QByteArray> reserved = {"host", "content-length", "content-type", "transfer-encoding",
                                               "connection", "keep-alive", "upgrade", "te", "trailer"};
    const QJsonObject headerObject = headers.toObject();
    for (auto it = headerObject.begin(); it != headerObject.end(); ++it) {
        const QByteArray key = it.key().toLatin1();
        if (!isToken(key) || key != it.key().toUtf8())
            return fail(QStringLiteral("header name \"%1\" is not a valid HTTP field name").arg(it.key()));
        if (reserved.contains(key.toLower()))
            return fail(QStringLiteral("header \"%1\" is set by Switchboard and cannot be configured").arg(it.key()));
        if (!it.value().isString())
            return fail(QStringLiteral("header \"%1\" must be a string").arg(it.key()));
        const QByteArray headerValue = it.value().toString().toUtf8();
        if (headerValue.contains('\r') || headerValue.contains('\n') || headerValue.contains('\0'))
            return fail(QStringLiteral("header \"%1\" must not contain line breaks").arg(it.key()));
        spec.headers.append({key, headerValue});
    }
    return spec;
}

QJsonObject UpstreamSpec::toJson() const
{
    QJsonArray headerNames;
    for (const auto &header : headers)
        headerNames.append(QString::fromLatin1(header.first));
    return QJsonObject{{"name", name},
                       {"url", url.toString()},
                       {"timeoutMs", timeoutMs},
                       {"maxInFlight", maxInFlight},
                       {"maxConnections", maxConnections},
                       {"headers", headerNames}};
}
