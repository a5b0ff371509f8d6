#include "serverconfig.h"

#include <QFile>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QThread>

#include <functional>

namespace {

// Reads one JSON value into a typed field; false when the type is wrong.
bool readInt(const QJsonValue &v, qint64 min, qint64 max, qint64 *out)
{
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    // Range first: converting a double outside qint64 (1e300 in a config
    // file) to qint64 is undefined behaviour (tst_config, wrongType).
    if (d < double(min) || d > double(max) || d != double(qint64(d)))
        return false;
    *out = qint64(d);
    return true;
}

struct IntField
{
    const char *key;
    qint64 min;
    qint64 max;
    std::function<void(ServerLimits &, qint64)> set;
    std::function<qint64(const ServerLimits &)> get;
};

const QList<IntField> &limitFields()
{
    static const QList<IntField> fields = {
        {"maxHeadBytes", 256, 1 << 20,
         [](ServerLimits &l, qint64 v) { l.maxHeadBytes = int(v); },
         [](const ServerLimits &l) { return qint64(l.maxHeadBytes); }},
        {"headTimeoutMs", 100, 600'000,
         [](ServerLimits &l, qint64 v) { l.headTimeoutMs = int(v); },
         [](const ServerLimits &l) { return qint64(l.headTimeoutMs); }},
        {"httpIdleTimeoutMs", 100, 3'600'000,
         [](ServerLimits &l, qint64 v) { l.httpIdleTimeoutMs = int(v); },
         [](const ServerLimits &l) { return qint64(l.httpIdleTimeoutMs); }},
        {"maxHttpBodyBytes", 0, qint64(1) << 30,
         [](ServerLimits &l, qint64 v) { l.maxHttpBodyBytes = v; },
         [](const ServerLimits &l) { return l.maxHttpBodyBytes; }},
        {"maxMessageBytes", 1, qint64(1) << 30,
         [](ServerLimits &l, qint64 v) { l.maxMessageBytes = v; },
         [](const ServerLimits &l) { return l.maxMessageBytes; }},
        {"maxFrameBytes", 1, qint64(1) << 30,
         [](ServerLimits &l, qint64 v) { l.maxFrameBytes = v; },
         [](const ServerLimits &l) { return l.maxFrameBytes; }},
        {"maxOutgoingBytes", 1024, qint64(1) << 32,
         [](ServerLimits &l, qint64 v) { l.maxOutgoingBytes = v; },
         [](const ServerLimits &l) { return l.maxOutgoingBytes; }},
        {"maxConnections", 1, 1'000'000,
         [](ServerLimits &l, qint64 v) { l.maxConnections = int(v); },
         [](const ServerLimits &l) { return qint64(l.maxConnections); }},
        {"maxPendingSockets", 1, 1'000'000,
         [](ServerLimits &l, qint64 v) { l.maxPendingSockets = int(v); },
         [](const ServerLimits &l) { return qint64(l.maxPendingSockets); }},
        {"pingIntervalMs", 100, 3'600'000,
         [](ServerLimits &l, qint64 v) { l.pingIntervalMs = int(v); },
         [](const ServerLimits &l) { return qint64(l.pingIntervalMs); }},
        {"pingTimeoutMs", 100, 3'600'000,
         [](ServerLimits &l, qint64 v) { l.pingTimeoutMs = int(v); },
         [](const ServerLimits &l) { return qint64(l.pingTimeoutMs); }},
        {"shutdownGraceMs", 0, 60'000,
         [](ServerLimits &l, qint64 v) { l.shutdownGraceMs = int(v); },
         [](const ServerLimits &l) { return qint64(l.shutdownGraceMs); }},
    };
    return fields;
}

QString typeError(const QString &key, const char *expected)
{
    return QStringLiteral("config key \"%1\" must be %2").arg(key, QLatin1String(expected));
}

bool readString(const QJsonObject &json, const QString &key, QString *out, QString *error)
{
    if (!json.contains(key))
        return true;
    const QJsonValue v = json.value(key);
    if (!v.isString()) {
        *error = typeError(key, "a string");
        return false;
    }
    *out = v.toString();
    return true;
}

bool readPort(const QJsonObject &json, const QString &key, int *out, QString *error)
{
    if (!json.contains(key))
        return true;
    qint64 v = 0;
    if (!readInt(json.value(key), 0, 65535, &v)) {
        *error = typeError(key, "a port number from 0 to 65535");
        return false;
    }
    *out = int(v);
    return true;
}

} // namespace

int ServerConfig::effectiveWorkerThreads() const
{
    return workerThreads > 0 ? workerThreads : qMax(1, QThread::idealThreadCount());
}

bool ServerConfig::applyJson(const QJsonObject &json, QString *error)
{
    static const QStringList knownKeys = {
        "host", "port", "wsPort", "token", "clientToken", "allowedOrigins", "catalog",
        "plugins", "tls", "workerThreads", "limits", "validators", "validatorSettings", "handlerSettings", "stateFile",
        "defaultSubprotocol", "resonanceCompat", "eventLoop"};
    for (auto it = json.begin(); it != json.end(); ++it) {
        if (!knownKeys.contains(it.key())) {
            *error = QStringLiteral("unknown config key \"%1\"").arg(it.key());
            return false;
        }
    }
    if (!readString(json, "host", &host, error) || !readPort(json, "port", &port, error)
        || !readPort(json, "wsPort", &wsPort, error)
        || !readString(json, "token", &adminToken, error)
        || !readString(json, "clientToken", &clientToken, error)
        || !readString(json, "catalog", &catalogFile, error)
        || !readString(json, "plugins", &pluginsDir, error)
        || !readString(json, "stateFile", &stateFile, error)
        || !readString(json, "defaultSubprotocol", &defaultSubprotocol, error))
        return false;
    if (json.contains("defaultSubprotocol")
        && !QStringList{"jsonrpc", "dm-rpc"}.contains(defaultSubprotocol)) {
        *error = typeError("defaultSubprotocol", "\"jsonrpc\" or \"dm-rpc\"");
        return false;
    }
    if (json.contains("resonanceCompat")) {
        if (!json.value("resonanceCompat").isBool()) {
            *error = typeError("resonanceCompat", "true or false");
            return false;
        }
        resonanceCompat = json.value("resonanceCompat").toBool();
    }

    if (json.contains("validators")) {
        const QJsonValue v = json.value("validators");
        QStringList names;
        for (const QJsonValue &n : v.toArray())
            names << n.toString();
        if (!v.isArray() || names.contains(QString())) {
            *error = typeError("validators", "an array of validator names");
            return false;
        }
        validatorOrder = names;
    }
    if (json.contains("validatorSettings")) {
        if (!json.value("validatorSettings").isObject()) {
            *error = typeError("validatorSettings", "an object keyed by validator name");
            return false;
        }
        validatorSettings = json.value("validatorSettings").toObject();
    }
    if (json.contains("handlerSettings")) {
        if (!json.value("handlerSettings").isObject()) {
            *error = typeError("handlerSettings", "an object keyed by handler plugin name");
            return false;
        }
        handlerSettings = json.value("handlerSettings").toObject();
    }

    if (json.contains("allowedOrigins")) {
        const QJsonValue v = json.value("allowedOrigins");
        if (!v.isArray()) {
            *error = typeError("allowedOrigins", "an array of strings");
            return false;
        }
        QStringList origins;
        for (const QJsonValue &o : v.toArray()) {
            if (!o.isString()) {
                *error = typeError("allowedOrigins", "an array of strings");
                return false;
            }
            origins << o.toString();
        }
        allowedOrigins = origins;
    }
    if (json.contains("workerThreads")) {
        qint64 v = 0;
        if (!readInt(json.value("workerThreads"), 0, 256, &v)) {
            *error = typeError("workerThreads", "a whole number from 0 (one per core) to 256");
            return false;
        }
        workerThreads = int(v);
    }
    if (json.contains("eventLoop")) {
        EventLoopKind kind;
        if (!json.value("eventLoop").isString() || !EventLoop::fromName(json.value("eventLoop").toString(), &kind)) {
            *error = typeError("eventLoop", "\"epoll\" or \"qt\"");
            return false;
        }
        if (!EventLoop::available(kind)) {
            *error = QStringLiteral("config key \"eventLoop\": \"%1\" is not available on this platform")
                         .arg(EventLoop::name(kind));
            return false;
        }
        eventLoop = kind;
    }
    if (json.contains("tls")) {
        if (!json.value("tls").isObject()) {
            *error = typeError("tls", "an object with \"certificate\" and \"key\"");
            return false;
        }
        const QJsonObject tls = json.value("tls").toObject();
        for (auto it = tls.begin(); it != tls.end(); ++it) {
            if (it.key() != "certificate" && it.key() != "key") {
                *error = QStringLiteral("unknown config key \"tls.%1\"").arg(it.key());
                return false;
            }
        }
        if (!readString(tls, "certificate", &tlsCertificateFile, error)
            || !readString(tls, "key", &tlsKeyFile, error)) {
            error->replace("\"certificate\"", "\"tls.certificate\"").replace("\"key\"", "\"tls.key\"");
            return false;
        }
    }
    if (json.contains("limits")) {
        if (!json.value("limits").isObject()) {
            *error = typeError("limits", "an object");
            return false;
        }
        const QJsonObject lim = json.value("limits").toObject();
        for (auto it = lim.begin(); it != lim.end(); ++it) {
            const auto &fields = limitFields();
            const auto field = std::find_if(fields.begin(), fields.end(), [&](const IntField &f) {
                return it.key() == QLatin1String(f.key);
            });
            if (field == fields.end()) {
                *error = QStringLiteral("unknown config key \"limits.%1\"").arg(it.key());
                return false;
            }
            qint64 v = 0;
            if (!readInt(it.value(), field->min, field->max, &v)) {
                *error = QStringLiteral("config key \"limits.%1\" must be a whole number from %2 to %3")
                             .arg(it.key()).arg(field->min).arg(field->max);
                return false;
            }
            field->set(limits, v);
        }
    }
    return true;
}

bool ServerConfig::loadFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read config file %1: %2").arg(path, file.errorString());
        return false;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        *error = QStringLiteral("invalid config file %1: %2 at offset %3")
                     .arg(path, parseError.errorString()).arg(parseError.offset);
        return false;
    }
    if (!doc.isObject()) {
        *error = QStringLiteral("invalid config file %1: the top level must be a JSON object").arg(path);
        return false;
    }
    QString keyError;
    if (!applyJson(doc.object(), &keyError)) {
        *error = QStringLiteral("invalid config file %1: %2").arg(path, keyError);
        return false;
    }
    return true;
}

bool ServerConfig::validate(QString *error) const
{
    QHostAddress address;
    if (!address.setAddress(host) && host != QLatin1String("localhost")) {
        *error = QStringLiteral("host \"%1\" is not an IP address").arg(host);
        return false;
    }
    if (port < 0 || port > 65535 || wsPort < -1 || wsPort > 65535) {
        *error = QStringLiteral("ports must be from 0 to 65535");
        return false;
    }
    if (separateWebSocketPort() && wsPort == port && port != 0) {
        *error = QStringLiteral("the WebSocket port %1 is also the HTTP port").arg(wsPort);
        return false;
    }
    const bool loopback = host == QLatin1String("localhost") || address.isLoopback();
    if (!loopback && adminToken.isEmpty()) {
        *error = QStringLiteral("listening on %1 (beyond loopback) needs an admin token (--token)").arg(host);
        return false;
    }
    if (tlsCertificateFile.isEmpty() != tlsKeyFile.isEmpty()) {
        *error = QStringLiteral("TLS needs both tls.certificate and tls.key");
        return false;
    }
    return true;
}

QJsonObject ServerConfig::toJson() const
{
    QJsonObject lim;
    for (const IntField &f : limitFields())
        lim.insert(QLatin1String(f.key), double(f.get(limits)));
    QJsonObject json{{"host", host},
                     {"port", port},
                     {"allowedOrigins", QJsonArray::fromStringList(allowedOrigins)},
                     {"workerThreads", workerThreads},
                     {"eventLoop", EventLoop::name(eventLoop)},
                     {"limits", lim}};
    if (wsPort >= 0)
        json.insert("wsPort", wsPort);
    if (!catalogFile.isEmpty())
        json.insert("catalog", catalogFile);
    if (!pluginsDir.isEmpty())
        json.insert("plugins", pluginsDir);
    if (!validatorOrder.isEmpty())
        json.insert("validators", QJsonArray::fromStringList(validatorOrder));
    if (!validatorSettings.isEmpty())
        json.insert("validatorSettings", validatorSettings);
    if (!handlerSettings.isEmpty())
        json.insert("handlerSettings", handlerSettings);
    if (!stateFile.isEmpty())
        json.insert("stateFile", stateFile);
    if (!defaultSubprotocol.isEmpty())
        json.insert("defaultSubprotocol", defaultSubprotocol);
    if (resonanceCompat)
        json.insert("resonanceCompat", true);
    if (tlsEnabled())
        json.insert("tls", QJsonObject{{"certificate", tlsCertificateFile}, {"key", tlsKeyFile}});
    return json; // tokens are secrets: never echoed
}
