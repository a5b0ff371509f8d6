#pragma once

#include "methodhandler.h"

#include <QHash>
#include <QString>
#include <QStringList>

class ConnectionRegistry;
class MethodCatalog;
class MethodRegistry;
class TopicHub;

// The handlers of the bundled catalog (PRODUCT.md section 4):
//   echo            → the params unchanged (null when absent)
//   sum             → the sum of an array of numbers
//   time            → server time, ISO 8601 UTC with milliseconds
//   subscribe       → {"topic"}: this connection receives the topic's events; true
//   unsubscribe     → {"topic"}: it no longer does; true
//   publish         → {"topic","data"}: pushes the "event" notification
//                     {"topic","data"} to every subscriber; how many were reached
//   rpc.discover    → OpenRPC document of the switched-on methods
// The pointers must outlive the handlers; `connections` may be null (then
// publish reaches nobody).
class BuiltinMethods
{
public:
    static QHash<QString, MethodHandler> handlers(TopicHub *topics, ConnectionRegistry *connections,
                                                  const MethodCatalog *catalog, const MethodRegistry *registry);
    static QStringList names();

    static QJsonValue echo(const QJsonValue &params);
    static QJsonValue sum(const QJsonValue &params);
    static QJsonValue time();
    // What the publish method does, shared with POST /api/publish: pushes the
    // "event" notification {"topic","data"} (absent data: null) to every
    // subscriber of `topic` and returns how many were reached. `eventJson`,
    // when given, gets the params sent (compact JSON).
    static int publish(TopicHub *topics, ConnectionRegistry *connections, const QString &topic,
                       const QJsonValue &data, QByteArray *eventJson = nullptr);
};
