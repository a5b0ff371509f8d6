#pragma once

#include <QByteArray>
#include <QString>

class ConnectionRegistry;
class HttpSide;
class MethodRegistry;
class QHttpServerRequest;
class TrafficLog;

// The HTTP side's own pages (PRODUCT.md section 5): the web console at "/",
// the admin API under /api (guarded by the admin token when one is set) and
// Prometheus metrics. Reads only thread-safe registries; installed on the
// core thread through ServerHost::addRoutes().
class AdminApi
{
public:
    struct Sources
    {
        ConnectionRegistry *connections = nullptr;
        TrafficLog *traffic = nullptr;       // optional
        MethodRegistry *methods = nullptr;   // optional
        QString adminToken;                  // empty: /api/* is open (loopback only)
    };

    static void install(HttpSide &http, const Sources &sources);

    // Prometheus text exposition of the server's counters and gauges.
    static QByteArray metricsText(const Sources &sources);
};
