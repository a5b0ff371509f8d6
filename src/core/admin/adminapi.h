#pragma once

#include <QByteArray>
#include <QString>

#include <functional>

class CatalogRpcEngine;
class ConnectionRegistry;
class HttpSide;
class MethodRegistry;
class QHttpServerRequest;
class TopicHub;
class TrafficLog;

// The HTTP side's own pages (PRODUCT.md section 5): the web console at "/",
// the admin API under /api (guarded by the admin token when one is set) and
// Prometheus metrics. Also the server API a backend uses to reach clients
// (section 7): POST /api/publish, POST /api/connections/{id}/notify and
// /close, GET /api/topics; each action goes into the traffic log with
// direction "server". Reads only thread-safe registries; installed on the
// core thread through ServerHost::addRoutes().
class AdminApi
{
public:
    struct Sources
    {
        ConnectionRegistry *connections = nullptr;
        TrafficLog *traffic = nullptr;       // optional
        MethodRegistry *methods = nullptr;   // optional
        CatalogRpcEngine *engine = nullptr;  // optional: validators list and reload
        TopicHub *topics = nullptr;          // optional: POST /api/publish, GET /api/topics
        // Reloads the validator plugins from the configured directory; false
        // with the reason leaves the previous chain in force.
        std::function<bool(QString *error)> reloadValidators;
        QString adminToken;                  // empty: /api/* is open (loopback only)
    };

    static void install(HttpSide &http, const Sources &sources);

    // Prometheus text exposition of the server's counters and gauges.
    static QByteArray metricsText(const Sources &sources);
};
