#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QString>
#include <QUrl>

#include <optional>

// One HTTP upstream as the catalog declares it (PRODUCT.md section 7):
//   "orders": {"url": "http://127.0.0.1:9000/rpc", "timeoutMs": 10000,
//              "maxInFlight": 256, "maxConnections": 64,
//              "headers": {"Authorization": "Bearer backend-secret"}}
// Only "url" is required.
struct UpstreamSpec
{
    QString name;
    QUrl url;                 // http:// or https://, with a host
    int timeoutMs = 10'000;   // request sent → whole reply read; then "timeout"
    int maxInFlight = 256;    // calls waiting at once, server-wide; one more is "overloaded"
    int maxConnections = 64;  // keep-alive connections per worker thread
    QList<QPair<QByteArray, QByteArray>> headers; // sent with every call

    // Null with one line naming the upstream and the problem.
    static std::optional<UpstreamSpec> fromJson(const QString &name, const QJsonValue &value, QString *error);
    // For the admin API and the dashboard: header names only (values may be secrets).
    QJsonObject toJson() const;
};
