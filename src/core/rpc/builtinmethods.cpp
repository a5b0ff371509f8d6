#include "builtinmethods.h"

#include "admin/connectionregistry.h"
#include "methodregistry.h"
#include "openrpcdocument.h"
#include "topichub.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace {

// The handlers also run when a custom catalog drops the schemas, so each one
// checks the shape it relies on.
QString topicOf(const QJsonValue &params)
{
    const QJsonValue topic = params.toObject().value(QLatin1String("topic"));
    if (!topic.isString())
        throw MethodFailure(QStringLiteral("params must be an object with a string \"topic\""));
    return topic.toString();
}

} // namespace

QJsonValue BuiltinMethods::echo(const QJsonValue &params)
{
    return params.isUndefined() ? QJsonValue(QJsonValue::Null) : params;
}

QJsonValue BuiltinMethods::sum(const QJsonValue &params)
{
    if (!params.isArray())
        throw MethodFailure(QStringLiteral("params must be an array of numbers"));
    double total = 0;
    const QJsonArray numbers = params.toArray();
    for (const QJsonValue &n : numbers) {
        if (!n.isDouble())
            throw MethodFailure(QStringLiteral("params must be an array of numbers"));
        total += n.toDouble();
    }
    if (!std::isfinite(total)) // JSON has no infinity
        throw MethodFailure(QStringLiteral("the sum is out of the range of a double"));
    return total;
}

QJsonValue BuiltinMethods::time()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

int BuiltinMethods::publish(TopicHub *topics, ConnectionRegistry *connections, const QString &topic,
                            const QJsonValue &data, QByteArray *eventJson)
{
    const QJsonObject event{{"topic", topic}, {"data", data.isUndefined() ? QJsonValue(QJsonValue::Null) : data}};
    const QByteArray json = QJsonDocument(event).toJson(QJsonDocument::Compact);
    if (eventJson)
        *eventJson = json;
    int reached = 0;
    if (connections) {
        for (quint64 id : topics->subscribers(topic))
            reached += connections->pushNotification(id, QStringLiteral("event"), json) ? 1 : 0;
    }
    return reached;
}

QStringList BuiltinMethods::names()
{
    return {"echo", "sum", "time", "subscribe", "unsubscribe", "publish", "rpc.discover"};
}

QHash<QString, MethodHandler> BuiltinMethods::handlers(TopicHub *topics, ConnectionRegistry *connections,
                                                      const MethodCatalog *catalog, const MethodRegistry *registry)
{
    QHash<QString, MethodHandler> table;
    table.insert("echo", [](const CallContext &, const QJsonValue &params) { return echo(params); });
    table.insert("sum", [](const CallContext &, const QJsonValue &params) { return sum(params); });
    table.insert("time", [](const CallContext &, const QJsonValue &) { return time(); });
    table.insert("subscribe", [topics](const CallContext &context, const QJsonValue &params) {
        QString error;
        if (!topics->subscribe(context.connectionId, topicOf(params), &error))
            throw MethodFailure(error);
        return QJsonValue(true);
    });
    table.insert("unsubscribe", [topics](const CallContext &context, const QJsonValue &params) {
        topics->unsubscribe(context.connectionId, topicOf(params));
        return QJsonValue(true);
    });
    table.insert("publish", [topics, connections](const CallContext &, const QJsonValue &params) {
        return QJsonValue(publish(topics, connections, topicOf(params), params.toObject().value(QLatin1String("data"))));
    });
    table.insert("rpc.discover", [catalog, registry](const CallContext &, const QJsonValue &) {
        return QJsonValue(OpenRpcDocument::build(*catalog, registry->enabledNames()));
    });
    return table;
}
