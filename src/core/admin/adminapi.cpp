#include "admin/adminapi.h"

#include "admin/connectionregistry.h"
#include "front/httpside.h"
#include "rpc/builtinmethods.h"
#include "rpc/catalogrpcengine.h"
#include "upstream/httpupstream.h"
#include "rpc/methodregistry.h"
#include "rpc/topichub.h"
#include "rpc/wirejson.h"
#include "secrets.h"
#include "admin/trafficlog.h"

#include <QFile>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QUrlQuery>

#include <algorithm>
#include <cmath>
#include <initializer_list>
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

// ---- The server API (PRODUCT.md section 7) -------------------------------

// At most `maxChars` of `text`, for echoing what a client sent in a message.
QString clip(const QString &text, int maxChars = 64)
{
    return text.size() <= maxChars ? text : text.left(maxChars) + QChar(0x2026);
}

QHttpServerResponse badRequest(const QString &why)
{
    return HttpSide::jsonError(QHttpServerResponse::StatusCode::BadRequest, why);
}

QHttpServerResponse noConnection(const QString &idText)
{
    return HttpSide::jsonError(QHttpServerResponse::StatusCode::NotFound,
                               QStringLiteral("no connection %1").arg(clip(idText)));
}

// The connection id of a path segment: decimal digits only (no sign, no
// spaces), within 64 bits.
std::optional<quint64> connectionIdOf(const QString &text)
{
    static const QRegularExpression digits(QStringLiteral("^[0-9]{1,20}$"));
    bool ok = false;
    const quint64 id = digits.match(text).hasMatch() ? text.toULongLong(&ok) : 0;
    return ok ? std::optional<quint64>(id) : std::nullopt;
}

// The request body as a JSON object, or the reason it is not one. With
// `emptyIsObject`, an empty (or blank) body reads as {}.
std::optional<QJsonObject> bodyObject(const QHttpServerRequest &request, bool emptyIsObject, QString *error)
{
    const QByteArray body = request.body();
    const bool blank = body.trimmed().isEmpty();
    if (blank && emptyIsObject)
        return QJsonObject();
    if (blank) {
        *error = QStringLiteral("the body is empty; it must be a JSON object");
        return std::nullopt;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError && !WireJson::isJsonScalar(body)) {
        *error = QStringLiteral("the body is not JSON: %1").arg(WireJson::parseErrorMessage(parseError));
        return std::nullopt;
    }
    if (!doc.isObject()) {
        *error = QStringLiteral("the body must be a JSON object");
        return std::nullopt;
    }
    return doc.object();
}

// The reason when `body` has a key beyond `allowed`; empty when it has none.
QString unknownKey(const QJsonObject &body, std::initializer_list<QLatin1String> allowed)
{
    for (auto it = body.begin(); it != body.end(); ++it) {
        if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end())
            continue;
        QStringList names;
        for (QLatin1String name : allowed)
            names << QStringLiteral("\"%1\"").arg(name);
        return QStringLiteral("unknown key \"%1\" (allowed: %2)").arg(clip(it.key()), names.join(QLatin1String(", ")));
    }
    return QString();
}

// One server-API action in the traffic log, direction "server".
void logServerAction(TrafficLog *log, quint64 connectionId, const QString &subprotocol, TrafficEvent::Kind kind,
                     const QString &method, const QByteArray &payload, const QString &reason)
{
    if (!log || !log->isEnabled())
        return;
    TrafficEvent event;
    event.direction = TrafficEvent::Direction::Server;
    event.kind = kind;
    event.connectionId = connectionId;
    event.subprotocol = subprotocol;
    event.method = method;
    event.reason = reason;
    log->setPayload(event, payload);
    log->append(std::move(event));
}

// POST /api/publish {"topic": string, "data"?: any} → {"reached": n}
QHttpServerResponse publishFromApi(const AdminApi::Sources &sources, const QHttpServerRequest &request)
{
    QString error;
    const std::optional<QJsonObject> body = bodyObject(request, false, &error);
    if (!body)
        return badRequest(error);
    if (!(error = unknownKey(*body, {QLatin1String("topic"), QLatin1String("data")})).isEmpty())
        return badRequest(error);
    const QJsonValue topic = body->value(QLatin1String("topic"));
    if (topic.isUndefined())
        return badRequest(QStringLiteral("\"topic\" is missing (a non-empty string)"));
    if (!topic.isString() || topic.toString().isEmpty() || topic.toString().size() > TopicHub::MaxTopicLength)
        return badRequest(QStringLiteral("\"topic\" must be a string of 1 to %1 characters").arg(TopicHub::MaxTopicLength));

    QByteArray eventJson;
    const int reached = BuiltinMethods::publish(sources.topics, sources.connections, topic.toString(),
                                                body->value(QLatin1String("data")), &eventJson);
    logServerAction(sources.traffic, 0, QString(), TrafficEvent::Kind::Push, QStringLiteral("event"), eventJson,
                    QStringLiteral("server API publish to topic %1: %2 reached").arg(topic.toString()).arg(reached));
    return jsonResponse(QJsonObject{{"reached", reached}});
}

// POST /api/connections/{id}/notify {"method": string, "params"?: any} → {"sent": true}
QHttpServerResponse notifyFromApi(const AdminApi::Sources &sources, const QString &idText,
                                  const QHttpServerRequest &request)
{
    const std::optional<quint64> id = connectionIdOf(idText);
    const std::optional<ConnectionInfo> info = id ? sources.connections->connection(*id) : std::nullopt;
    if (!info)
        return noConnection(idText);
    QString error;
    const std::optional<QJsonObject> body = bodyObject(request, false, &error);
    if (!body)
        return badRequest(error);
    if (!(error = unknownKey(*body, {QLatin1String("method"), QLatin1String("params")})).isEmpty())
        return badRequest(error);
    const QJsonValue method = body->value(QLatin1String("method"));
    if (method.isUndefined())
        return badRequest(QStringLiteral("\"method\" is missing (a non-empty string)"));
    if (!method.isString() || method.toString().isEmpty())
        return badRequest(QStringLiteral("\"method\" must be a non-empty string"));

    // Absent params: a jsonrpc notification without "params", dm-rpc's null.
    const QJsonValue params = body->value(QLatin1String("params"));
    const QByteArray paramsJson = params.isUndefined() ? QByteArray() : WireJson::toJson(params);
    if (!sources.connections->pushNotification(*id, method.toString(), paramsJson))
        return noConnection(idText); // gone in the meantime
    logServerAction(sources.traffic, *id, info->subprotocol, TrafficEvent::Kind::Push, method.toString(),
                    WireJson::toJson(*body), QStringLiteral("server API notify to connection %1").arg(*id));
    return jsonResponse(QJsonObject{{"sent", true}});
}

// POST /api/connections/{id}/close {"code"?: 1000 | 4000..4999, "reason"?: string} → {"closing": true}
QHttpServerResponse closeFromApi(const AdminApi::Sources &sources, const QString &idText,
                                 const QHttpServerRequest &request)
{
    constexpr int MaxReasonBytes = 123; // RFC 6455 section 5.5: a control frame's payload is at most 125 bytes
    const std::optional<quint64> id = connectionIdOf(idText);
    const std::optional<ConnectionInfo> info = id ? sources.connections->connection(*id) : std::nullopt;
    if (!info)
        return noConnection(idText);
    QString error;
    const std::optional<QJsonObject> body = bodyObject(request, true, &error);
    if (!body)
        return badRequest(error);
    if (!(error = unknownKey(*body, {QLatin1String("code"), QLatin1String("reason")})).isEmpty())
        return badRequest(error);
    int code = int(QWebSocketProtocol::CloseCodeNormal);
    if (body->contains(QLatin1String("code"))) {
        const QJsonValue value = body->value(QLatin1String("code"));
        const double d = value.toDouble(-1);
        if (!value.isDouble() || !(d == 1000 || (d >= 4000 && d <= 4999)) || d != std::floor(d))
            return badRequest(QStringLiteral("\"code\" must be 1000 or an integer from 4000 to 4999"));
        code = int(d);
    }
    QString reason;
    if (body->contains(QLatin1String("reason"))) {
        const QJsonValue value = body->value(QLatin1String("reason"));
        if (!value.isString())
            return badRequest(QStringLiteral("\"reason\" must be a string"));
        reason = value.toString();
        const qsizetype bytes = reason.toUtf8().size();
        if (bytes > MaxReasonBytes)
            return badRequest(QStringLiteral("\"reason\" is %1 bytes of UTF-8; at most %2 fit in a close frame")
                                  .arg(bytes).arg(MaxReasonBytes));
    }

    if (!sources.connections->close(*id, quint16(code), reason))
        return noConnection(idText); // gone in the meantime
    logServerAction(sources.traffic, *id, info->subprotocol, TrafficEvent::Kind::Close, QString(),
                    WireJson::toJson(QJsonObject{{"code", code}, {"reason", reason}}),
                    reason.isEmpty() ? QStringLiteral("server API close: %1").arg(code)
                                     : QStringLiteral("server API close: %1 %2").arg(code).arg(reason));
    return jsonResponse(QJsonObject{{"closing", true}});
}

// GET /api/topics → {"topics": [{"topic", "subscribers"}]}, sorted by topic
QHttpServerResponse topicsList(const TopicHub &topics)
{
    QJsonArray list;
    for (const TopicHub::TopicCount &t : topics.topics())
        list.append(QJsonObject{{"topic", t.topic}, {"subscribers", t.subscribers}});
    return jsonResponse(QJsonObject{{"topics", list}});
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
        // The catalog's HTTP upstreams with their counters (header values
        // are secrets: only their names are shown).
        server.route("/api/upstreams", QHttpServerRequest::Method::Get,
                     [sources, engine](const QHttpServerRequest &request) {
            if (auto refusal = refuseUnauthorized(request, sources.adminToken))
                return std::move(*refusal);
            QJsonArray list;
            for (const auto &upstream : engine->upstreams()) {
                QJsonObject o = upstream->spec().toJson();
                o.insert("stats", upstream->stats().toJson());
                list.append(o);
            }
            return jsonResponse(list);
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
    // The server API (PRODUCT.md section 7). Another HTTP method on these
    // paths falls through to the 404 below, as on every other resource.
    if (sources.topics) {
        server.route("/api/publish", QHttpServerRequest::Method::Post,
                     [sources](const QHttpServerRequest &request) {
            if (auto refusal = refuseUnauthorized(request, sources.adminToken))
                return std::move(*refusal);
            return publishFromApi(sources, request);
        });
        server.route("/api/topics", QHttpServerRequest::Method::Get,
                     [sources](const QHttpServerRequest &request) {
            if (auto refusal = refuseUnauthorized(request, sources.adminToken))
                return std::move(*refusal);
            return topicsList(*sources.topics);
        });
    }
    server.route("/api/connections/<arg>/notify", QHttpServerRequest::Method::Post,
                 [sources](const QString &id, const QHttpServerRequest &request) {
        if (auto refusal = refuseUnauthorized(request, sources.adminToken))
            return std::move(*refusal);
        return notifyFromApi(sources, id, request);
    });
    server.route("/api/connections/<arg>/close", QHttpServerRequest::Method::Post,
                 [sources](const QString &id, const QHttpServerRequest &request) {
        if (auto refusal = refuseUnauthorized(request, sources.adminToken))
            return std::move(*refusal);
        return closeFromApi(sources, id, request);
    });

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
        // The upstream's part of the calls it serves (PRODUCT.md section 7).
        const auto upstreamFamily = [&](const char *name, const char *help, auto value) {
            family(out, name, "counter", help);
            for (const MethodStatus &m : statuses) {
                if (m.servedBy.startsWith(QLatin1String("upstream ")))
                    sample(out, name, "method=\"" + label(m.name) + '"', value(m.counters));
            }
        };
        upstreamFamily("switchboard_rpc_upstream_calls_total", "RPC calls handed to an upstream, by method.",
                       [](const MethodCounters &c) { return double(c.upstreamCalls); });
        upstreamFamily("switchboard_rpc_upstream_failures_total",
                       "RPC calls an upstream failed (timeout, unreachable, bad status, invalid reply, overloaded), by method.",
                       [](const MethodCounters &c) { return double(c.upstreamFailures); });
        upstreamFamily("switchboard_rpc_upstream_duration_seconds_sum",
                       "Time spent waiting for upstreams, by method (part of switchboard_rpc_duration_seconds_sum).",
                       [](const MethodCounters &c) { return c.totalUpstreamMs / 1000.0; });
    }
    if (const CatalogRpcEngine *engine = sources.engine) {
        const QList<std::shared_ptr<HttpUpstream>> upstreams = engine->upstreams();
        if (!upstreams.isEmpty()) {
            QList<QPair<QByteArray, UpstreamStats>> stats;
            for (const auto &upstream : upstreams)
                stats.append({"upstream=\"" + label(upstream->name()) + '"', upstream->stats()});
            family(out, "switchboard_upstream_in_flight", "gauge", "Calls waiting for the upstream now.");
            for (const auto &s : stats)
                sample(out, "switchboard_upstream_in_flight", s.first, double(s.second.inFlight));
            family(out, "switchboard_upstream_calls_total", "counter", "Calls handed to the upstream.");
            for (const auto &s : stats)
                sample(out, "switchboard_upstream_calls_total", s.first, double(s.second.calls));
            family(out, "switchboard_upstream_failures_total", "counter", "Upstream failures, by reason.");
            for (const auto &s : stats) {
                const QList<QPair<const char *, quint64>> reasons = {
                    {"timeout", s.second.timeouts}, {"unreachable", s.second.unreachable},
                    {"status", s.second.badStatus}, {"invalid reply", s.second.invalidReplies},
                    {"overloaded", s.second.overloaded}};
                for (const auto &r : reasons)
                    sample(out, "switchboard_upstream_failures_total",
                           s.first + ",reason=\"" + QByteArray(r.first) + '"', double(r.second));
            }
            family(out, "switchboard_upstream_duration_seconds_sum", "counter",
                   "Time from sending a call to reading the upstream's answer (result or error).");
            for (const auto &s : stats)
                sample(out, "switchboard_upstream_duration_seconds_sum", s.first, s.second.totalLatencyMs / 1000.0);
        }
    }
    if (const TrafficLog *traffic = sources.traffic) {
        family(out, "switchboard_traffic_log_events", "gauge", "Events held in the traffic log.");
        sample(out, "switchboard_traffic_log_events", {}, traffic->size());
        family(out, "switchboard_traffic_log_dropped_total", "counter", "Traffic log events overwritten or cleared.");
        sample(out, "switchboard_traffic_log_dropped_total", {}, double(traffic->droppedCount()));
    }
    return out;
}
