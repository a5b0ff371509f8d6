#include "admin/adminapi.h"

#include "admin/connectionregistry.h"
#include "front/httpside.h"
#include "rpc/catalogrpcengine.h"
#include "rpc/methodregistry.h"
#include "secrets.h"
#include "admin/trafficlog.h"

#include <QFile>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrlQuery>

#include <optional>

namespace {

QByteArray headerValue(const QHttpServerRequest &request, const QByteArray &name)
{
#if QT_VERSION >= QT_VERSION_CHECK(6, 8, 0)
    return request.headers().value(name).toByteArray();
#else
    return request.value(name);
#endif
}

QHttpServerResponse jsonResponse(const QJsonValue &value,
                                 QHttpServerResponse::StatusCode status = QHttpServerResponse::StatusCode::Ok)
{
    const QByteArray body = value.isArray() ? QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact)
                                            : QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    return QHttpServerResponse(QByteArrayLiteral("application/json"), body, status);
}

// The 401 for /api/* when the admin token is configured and not presented.
std::optional<QHttpServerResponse> refuseUnauthorized(const QHttpServerRequest &request,
                                                      const QString &adminToken)
{
    if (adminToken.isEmpty())
        return std::nullopt;
    const QByteArray bearer = Secrets::bearerToken(headerValue(request, "authorization"));
    if (!bearer.isNull() && Secrets::equals(bearer, adminToken.toUtf8()))
        return std::nullopt;
    QHttpServerResponse response = HttpSide::jsonError(
        QHttpServerResponse::StatusCode::Unauthorized,
        bearer.isNull() ? QStringLiteral("the admin API needs \"Authorization: Bearer <token>\"")
                        : QStringLiteral("wrong admin token"));
#if QT_VERSION >= QT_VERSION_CHECK(6, 8, 0)
    QHttpHeaders headers = response.headers();
    headers.append("WWW-Authenticate", "Bearer realm=\"switchboard\"");
    response.setHeaders(std::move(headers));
#else
    response.addHeader("WWW-Authenticate", "Bearer realm=\"switchboard\"");
#endif
    return response;
}

QByteArray consolePage()
{
    QFile file(QStringLiteral(":/switchboard/console/index.html"));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QHttpServerResponse patchMethod(MethodRegistry *methods, const QString &name, const QHttpServerRequest &request)
{
    if (!methods || !methods->contains(name))
        return HttpSide::jsonError(QHttpServerResponse::StatusCode::NotFound,
                                   QStringLiteral("no method named \"%1\"").arg(name));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body(), &error);
    const QJsonValue enabled = doc.isObject() ? doc.object().value("enabled") : QJsonValue();
    if (error.error != QJsonParseError::NoError || !doc.isObject() || !enabled.isBool()
        || doc.object().size() != 1)
        return HttpSide::jsonError(QHttpServerResponse::StatusCode::BadRequest,
                                   QStringLiteral("the body must be {\"enabled\": true|false}"));
    methods->setEnabled(name, enabled.toBool());
    return jsonResponse(methods->status(name)->toJson());
}

QHttpServerResponse trafficSlice(TrafficLog *traffic, const QHttpServerRequest &request)
{
    const QUrlQuery query = request.query();
    bool afterOk = true;
    bool limitOk = true;
    const quint64 after = query.hasQueryItem("after") ? query.queryItemValue("after").toULongLong(&afterOk) : 0;
    const int limit = query.hasQueryItem("limit") ? query.queryItemValue("limit").toInt(&limitOk) : 1000;
    if (!afterOk || !limitOk || limit < 1 || limit > 10000)
        return HttpSide::jsonError(QHttpServerResponse::StatusCode::BadRequest,
                                   QStringLiteral("use ?after=<event id>&limit=<1..10000>"));
    return jsonResponse(traffic->eventsAfter(after, limit).toJson());
}

// Prometheus label values escape backslash, quote and newline.
QByteArray label(const QString &value)
{
    QByteArray out = value.toUtf8();
    out.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    return out;
}

void family(QByteArray &out, const char *name, const char *type, const char *help)
{
    out += QByteArray("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n';
}

void sample(QByteArray &out, const char *name, const QByteArray &labels, double value)
{
    out += name;
    if (!labels.isEmpty())
        out += '{' + labels + '}';
    out += ' ' + QByteArray::number(value, 'g', 17) + '\n';
}

} // namespace

void AdminApi::install(HttpSide &http, const Sources &sources)
{
    QHttpServer &server = http.server();

    server.route("/", QHttpServerRequest::Method::Get, [] {
        return QHttpServerResponse(QByteArrayLiteral("text/html; charset=utf-8"), consolePage());
    });
    server.route("/metrics", QHttpServerRequest::Method::Get, [sources] {
        return QHttpServerResponse(QByteArrayLiteral("text/plain; version=0.0.4; charset=utf-8"),
                                   metricsText(sources));
    });

    server.route("/api/connections", QHttpServerRequest::Method::Get,
                 [sources](const QHttpServerRequest &request) {
        if (auto refusal = refuseUnauthorized(request, sources.adminToken))
            return std::move(*refusal);
        QJsonArray list;
        for (const ConnectionInfo &c : sources.connections->snapshot())
            list.append(c.toJson());
        return jsonResponse(list);
    });
    server.route("/api/refused", QHttpServerRequest::Method::Get,
                 [sources](const QHttpServerRequest &request) {
        if (auto refusal = refuseUnauthorized(request, sources.adminToken))
            return std::move(*refusal);
        QJsonArray list;
        for (const RefusedHandshake &r : sources.connections->refusalsAfter(0))
            list.append(r.toJson());
        return jsonResponse(list);
    });

    if (MethodRegistry *methods = sources.methods) {
        server.route("/api/methods", QHttpServerRequest::Method::Get,
                     [sources, methods](const QHttpServerRequest &request) {
            if (auto refusal = refuseUnauthorized(request, sources.adminToken))
                return std::move(*refusal);
            return jsonResponse(methods->toJson());
        });
        server.route("/api/methods/<arg>", QHttpServerRequest::Method::Patch,
                     [sources, methods](const QString &name, const QHttpServerRequest &request) {
            if (auto refusal = refuseUnauthorized(request, sources.adminToken))
                return std::move(*refusal);
            return patchMethod(methods, name, request);
        });
    }
    if (CatalogRpcEngine *engine = sources.engine) {
        server.route("/api/validators", QHttpServerRequest::Method::Get,
                     [sources, engine](const QHttpServerRequest &request) {
            if (auto refusal = refuseUnauthorized(request, sources.adminToken))
                return std::move(*refusal);
            return jsonResponse(engine->validatorsJson());
        });
    }
    if (sources.reloadValidators) {
        server.route("/api/validators/reload", QHttpServerRequest::Method::Post,
                     [sources](const QHttpServerRequest &request) {
            if (auto refusal = refuseUnauthorized(request, sources.adminToken))
                return std::move(*refusal);
            QString error;
            if (!sources.reloadValidators(&error))
                return HttpSide::jsonError(QHttpServerResponse::StatusCode::Conflict,
                                           QStringLiteral("reload failed, previous validators stay in force: %1")
                                               .arg(error));
            return sources.engine ? jsonResponse(sources.engine->validatorsJson())
                                  : jsonResponse(QJsonObject{{"reloaded", true}});
        });
    }
    if (TrafficLog *traffic = sources.traffic) {
        server.route("/api/traffic", QHttpServerRequest::Method::Get,
                     [sources, traffic](const QHttpServerRequest &request) {
            if (auto refusal = refuseUnauthorized(request, sources.adminToken))
                return std::move(*refusal);
            return trafficSlice(traffic, request);
        });
    }
    // The rest of /api/* is guarded too, so an unauthorized client learns nothing from 404s.
    server.route("/api/<arg>", [sources](const QUrl &, const QHttpServerRequest &request) {
        if (auto refusal = refuseUnauthorized(request, sources.adminToken))
            return std::move(*refusal);
        return HttpSide::jsonError(QHttpServerResponse::StatusCode::NotFound,
                                   QStringLiteral("no API resource at %1 %2")
                                       .arg(QString::fromLatin1(request.method() == QHttpServerRequest::Method::Get
                                                                    ? "GET" : "this method for"),
                                            request.url().path()));
    });
}

QByteArray AdminApi::metricsText(const Sources &sources)
{
    QByteArray out;
    const ConnectionRegistry &connections = *sources.connections;

    family(out, "switchboard_connections", "gauge", "Live WebSocket connections.");
    sample(out, "switchboard_connections", {}, connections.count());
    family(out, "switchboard_connections_opened_total", "counter", "WebSocket connections accepted since start.");
    sample(out, "switchboard_connections_opened_total", {}, double(connections.totalOpened()));

    const TrafficTotals totals = connections.totals();
    family(out, "switchboard_messages_total", "counter", "WebSocket messages by direction.");
    sample(out, "switchboard_messages_total", "direction=\"in\"", double(totals.messagesIn));
    sample(out, "switchboard_messages_total", "direction=\"out\"", double(totals.messagesOut));
    family(out, "switchboard_message_bytes_total", "counter", "WebSocket message payload bytes by direction.");
    sample(out, "switchboard_message_bytes_total", "direction=\"in\"", double(totals.bytesIn));
    sample(out, "switchboard_message_bytes_total", "direction=\"out\"", double(totals.bytesOut));

    family(out, "switchboard_handshakes_refused_total", "counter", "Refused WebSocket handshakes by cause.");
    const QHash<QString, quint64> refusals = connections.refusalsByCause();
    QStringList causes = refusals.keys();
    causes.sort();
    for (const QString &cause : causes)
        sample(out, "switchboard_handshakes_refused_total", "cause=\"" + label(cause) + '"', double(refusals.value(cause)));

    if (const MethodRegistry *methods = sources.methods) {
        const QList<MethodStatus> statuses = methods->snapshot();
        family(out, "switchboard_rpc_calls_total", "counter", "RPC calls by method, whatever their outcome.");
        for (const MethodStatus &m : statuses)
            sample(out, "switchboard_rpc_calls_total", "method=\"" + label(m.name) + '"', double(m.counters.calls));
        family(out, "switchboard_rpc_refusals_total", "counter", "RPC calls refused by a validator, by method.");
        for (const MethodStatus &m : statuses)
            sample(out, "switchboard_rpc_refusals_total", "method=\"" + label(m.name) + '"', double(m.counters.refusals));
        family(out, "switchboard_rpc_errors_total", "counter", "RPC calls whose handler failed, by method.");
        for (const MethodStatus &m : statuses)
            sample(out, "switchboard_rpc_errors_total", "method=\"" + label(m.name) + '"', double(m.counters.errors));
        family(out, "switchboard_rpc_duration_seconds_sum", "counter", "Time spent on RPC calls, by method.");
        for (const MethodStatus &m : statuses)
            sample(out, "switchboard_rpc_duration_seconds_sum", "method=\"" + label(m.name) + '"',
                   m.counters.totalLatencyMs / 1000.0);
        family(out, "switchboard_method_enabled", "gauge", "1 when the method is switched on.");
        for (const MethodStatus &m : statuses)
            sample(out, "switchboard_method_enabled", "method=\"" + label(m.name) + '"', m.enabled ? 1 : 0);
        family(out, "switchboard_rpc_unknown_method_calls_total", "counter", "Calls naming no catalog method.");
        sample(out, "switchboard_rpc_unknown_method_calls_total", {}, double(methods->unknownCalls()));
    }
    if (const TrafficLog *traffic = sources.traffic) {
        family(out, "switchboard_traffic_log_events", "gauge", "Events held in the traffic log.");
        sample(out, "switchboard_traffic_log_events", {}, traffic->size());
        family(out, "switchboard_traffic_log_dropped_total", "counter", "Traffic log events overwritten or cleared.");
        sample(out, "switchboard_traffic_log_dropped_total", {}, double(traffic->droppedCount()));
    }
    return out;
}
