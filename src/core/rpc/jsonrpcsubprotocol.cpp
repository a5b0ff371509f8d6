#include "rpc/jsonrpcsubprotocol.h"

#include "logging.h"
#include "rpc/rpcengine.h"
#include "rpc/wirejson.h"
#include "rpc/wiresession.h"
#include "admin/trafficlog.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace {

using Direction = TrafficEvent::Direction;
using Kind = TrafficEvent::Kind;
using Verdict = TrafficEvent::Verdict;

constexpr int ParseErrorCode = -32700;
constexpr int InvalidRequestCode = -32600;

void appendResult(QByteArray &out, const QJsonValue &result, QByteArrayView id)
{
    out.append("{\"jsonrpc\":\"2.0\",\"result\":");
    WireJson::appendValue(out, result);
    out.append(",\"id\":");
    out.append(id);
    out.append('}');
}

void appendError(QByteArray &out, int code, const QString &message, const QJsonValue &data, QByteArrayView id)
{
    out.append("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":");
    out.append(QByteArray::number(code));
    out.append(",\"message\":");
    WireJson::appendString(out, message);
    if (!data.isUndefined()) {
        out.append(",\"data\":");
        WireJson::appendValue(out, data);
    }
    out.append("},\"id\":");
    out.append(id);
    out.append('}');
}

// What became of one request object, for the traffic log.
struct Handled
{
    bool replied = false;   // a reply was appended
    bool errorReply = false;
    Kind inKind = Kind::Request;
    Verdict verdict = Verdict::None;
    QString method;
    QByteArray id;          // JSON text; empty for notifications and unreadable ids
    bool hasId = false;     // a request (answered), not a notification
    QString reason;
    WireSession::Clock::time_point finishedAt; // when the engine was done; unset: not called or not told
    qint64 upstreamUs = -1;
    std::shared_ptr<PendingCall> pending; // the handler answers later
};

// A batch with calls still under way: the replies of the finished ones, and
// how many are missing. JSON-RPC lets a batch's replies come in any order,
// so late replies go at the end.
struct OpenBatch
{
    QByteArray out;       // "[" and the replies so far, comma-separated
    qsizetype replies = 0;
    qsizetype waiting = 0;
    WireSession::Clock::time_point lastFinish;
};

class JsonRpcSession final : public WireSession
{
public:
    JsonRpcSession(ConnectionLink &link, RpcEngine *engine, TrafficLog *log, const JsonRpcOptions &options)
        : WireSession(link, engine, log)
        , m_options(options)
    {
    }

    void textMessageAt(const QByteArray &utf8, const Arrival &arrival) override;
    void pushNotification(const QString &method, const QByteArray &paramsJson) override;

private:
    // Handles one request object (or what should have been one) and appends
    // its reply, if any, to `out`. The call is timed from `startedAt`.
    // Returns false if the session is gone.
    bool handle(const QJsonValue &request, QByteArrayView message, WireJson::Span span, Clock::time_point startedAt,
                QByteArray &out, Handled &handled);
    // Writes the reply of a finished call (if it gets one) and fills in its verdict.
    void complete(const CallOutcome &outcome, QByteArray &out, Handled &handled) const;
    // A single request whose handler answers later: its reply is sent then.
    void awaitSingle(Handled &&handled, const Arrival &arrival, const QByteArray &request);
    // One element of a batch that answers later.
    void awaitInBatch(Handled &&handled, const Arrival &arrival, QByteArray request,
                      const std::shared_ptr<OpenBatch> &batch);
    void sendBatch(OpenBatch &batch, const Arrival &arrival);
    void replyMessageError(const QByteArray &utf8, const Arrival &arrival, int code, Verdict verdict,
                           Kind inKind, const QString &data);
    // The request's event and, when `latencyUs` >= 0, its reply's.
    void logCall(const Handled &handled, const Arrival &arrival, const QByteArray &request,
                 const QByteArray &reply, qint64 latencyUs);
    void logRequest(const Handled &handled, const Arrival &arrival, const QByteArray &request);
    void logReply(const Handled &handled, const Arrival &arrival, const QByteArray &reply, qint64 latencyUs);
    // The outcome of a notification whose handler answered later.
    void logOutcome(const Handled &handled, const Arrival &arrival);

    JsonRpcOptions m_options;
};

void JsonRpcSession::textMessageAt(const QByteArray &utf8, const Arrival &arrival)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(utf8, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        // QJsonDocument takes only objects and arrays: a lone scalar is JSON,
        // just not a request.
        if (WireJson::isJsonScalar(utf8))
            replyMessageError(utf8, arrival, InvalidRequestCode, Verdict::InvalidRequest, Kind::Message,
                              QStringLiteral("a request must be an object, a batch an array"));
        else
            replyMessageError(utf8, arrival, ParseErrorCode, Verdict::ParseError, Kind::Message,
                              WireJson::parseErrorMessage(parseError));
        return;
    }

    const qsizetype start = WireJson::skipWhitespace(utf8, 0);
    const std::weak_ptr<char> life = lifeToken();

    if (doc.isObject()) {
        QByteArray out;
        out.reserve(128); // most replies fit: one allocation
        Handled handled;
        if (!handle(doc.object(), utf8, WireJson::Span{start, utf8.size() - start}, arrival.at, out, handled))
            return;
        if (handled.pending) {
            awaitSingle(std::move(handled), arrival, utf8);
            return;
        }
        if (!handled.replied) {
            if (logging())
                logCall(handled, arrival, utf8, QByteArray(), -1);
            return;
        }
        // Until the engine was done (its clock read, shared; writing the reply is not counted).
        const qint64 latencyUs = WireSession::latencyUs(arrival, handled.finishedAt);
        const bool log = logging();
        m_link.sendText(out);
        if (log && !life.expired())
            logCall(handled, arrival, utf8, out, latencyUs);
        return;
    }

    // A batch.
    const QJsonArray batch = doc.array();
    const qsizetype count = batch.size();
    if (count == 0) {
        replyMessageError(utf8, arrival, InvalidRequestCode, Verdict::InvalidRequest, Kind::Batch,
                          QStringLiteral("empty batch"));
        return;
    }
    if (count > m_options.maxBatchSize) {
        replyMessageError(utf8, arrival, InvalidRequestCode, Verdict::InvalidRequest, Kind::Batch,
                          QStringLiteral("batch of %1 requests exceeds the limit of %2")
                              .arg(count)
                              .arg(m_options.maxBatchSize));
        return;
    }
    if (logging()) {
        TrafficEvent in = event(Direction::In, Kind::Batch);
        in.timeMs = arrival.timeMs;
        in.reason = QStringLiteral("%1 requests").arg(count);
        record(std::move(in), utf8);
    }

    // The raw text of every element: exact ids and per-request log payloads.
    std::vector<WireJson::Span> spans;
    spans.reserve(size_t(count));
    if (!WireJson::arrayElements(utf8, start, spans, count) || qsizetype(spans.size()) != count)
        spans.clear();

    // The replies gather in `open`; calls that answer later add theirs when
    // they do, and whoever leaves `waiting` at zero sends the batch. The
    // loop holds one count itself, so nothing is sent before it is done.
    auto open = std::make_shared<OpenBatch>();
    open->out.reserve(count * 48);
    open->out.append('[');
    open->waiting = 1;
    Clock::time_point callStart = arrival.at; // each call is timed from the end of the one before
    for (qsizetype i = 0; i < count; ++i) {
        QByteArray &out = open->out;
        const qsizetype mark = out.size();
        if (open->replies > 0)
            out.append(',');
        const qsizetype begin = out.size();
        const WireJson::Span span = spans.empty() ? WireJson::Span{} : spans[size_t(i)];
        Handled handled;
        if (!handle(batch.at(i), utf8, span, callStart, out, handled))
            return;
        const QByteArray request = logging() && span.isValid() ? span.in(utf8).toByteArray() : QByteArray();
        if (handled.pending) {
            out.truncate(mark);
            ++open->waiting;
            awaitInBatch(std::move(handled), arrival, request, open);
            continue;
        }
        if (handled.finishedAt != Clock::time_point())
            callStart = handled.finishedAt;
        if (handled.replied)
            ++open->replies;
        else
            out.truncate(mark);
        if (logging()) {
            if (handled.replied)
                logCall(handled, arrival, request, out.mid(begin), latencyUs(arrival, handled.finishedAt));
            else
                logCall(handled, arrival, request, QByteArray(), -1);
        }
    }
    if (callStart > open->lastFinish)
        open->lastFinish = callStart;
    if (--open->waiting == 0)
        sendBatch(*open, arrival);
}

void JsonRpcSession::sendBatch(OpenBatch &batch, const Arrival &arrival)
{
    if (batch.replies == 0)
        return; // only notifications: nothing to say
    batch.out.append(']');
    const qint64 batchLatencyUs = latencyUs(arrival, batch.lastFinish);
    const bool log = logging();
    const std::weak_ptr<char> life = lifeToken();
    m_link.sendText(batch.out);
    if (!log || life.expired())
        return;
    TrafficEvent reply = event(Direction::Out, Kind::Batch);
    reply.timeMs = timeAfter(arrival, batchLatencyUs);
    reply.latencyUs = batchLatencyUs;
    reply.reason = QStringLiteral("%1 replies").arg(batch.replies);
    record(std::move(reply), batch.out);
}

void JsonRpcSession::awaitSingle(Handled &&handled, const Arrival &arrival, const QByteArray &request)
{
    std::shared_ptr<PendingCall> pending = std::move(handled.pending);
    if (logging())
        logRequest(handled, arrival, request);
    pending->then([this, life = lifeToken(), handled = std::move(handled), arrival](CallOutcome outcome) mutable {
        if (life.expired())
            return; // the client left while its call was under way: dropped quietly
        QByteArray out;
        complete(outcome, out, handled);
        if (!handled.replied) {
            if (logging())
                logOutcome(handled, arrival);
            return;
        }
        const qint64 latency = latencyUs(arrival, handled.finishedAt);
        const bool log = logging();
        m_link.sendText(out);
        if (log && !life.expired())
            logReply(handled, arrival, out, latency);
    });
}

void JsonRpcSession::awaitInBatch(Handled &&handled, const Arrival &arrival, QByteArray request,
                                  const std::shared_ptr<OpenBatch> &batch)
{
    std::shared_ptr<PendingCall> pending = std::move(handled.pending);
    if (logging())
        logRequest(handled, arrival, request);
    pending->then([this, life = lifeToken(), handled = std::move(handled), arrival,
                   batch](CallOutcome outcome) mutable {
        if (life.expired())
            return;
        const qsizetype mark = batch->out.size();
        if (batch->replies > 0)
            batch->out.append(',');
        const qsizetype begin = batch->out.size();
        complete(outcome, batch->out, handled);
        if (handled.finishedAt > batch->lastFinish)
            batch->lastFinish = handled.finishedAt;
        if (handled.replied)
            ++batch->replies;
        else
            batch->out.truncate(mark);
        if (logging()) {
            if (handled.replied)
                logReply(handled, arrival, batch->out.mid(begin), latencyUs(arrival, handled.finishedAt));
            else
                logOutcome(handled, arrival);
        }
        if (--batch->waiting == 0)
            sendBatch(*batch, arrival);
    });
}

bool JsonRpcSession::handle(const QJsonValue &request, QByteArrayView message, WireJson::Span span,
                            Clock::time_point startedAt, QByteArray &out, Handled &handled)
{
    QString invalid;
    QJsonObject object;
    bool hasId = false;
    QJsonValue method;
    QJsonValue params;

    if (!request.isObject()) {
        invalid = QStringLiteral("a request must be an object");
    } else {
        object = request.toObject();
        const auto idIt = object.constFind(QLatin1String("id"));
        hasId = idIt != object.constEnd();
        if (hasId) {
            const QJsonValue id = idIt.value();
            if (id.isString() || id.isDouble() || id.isNull()) {
                const WireJson::Span raw = id.isDouble() && span.isValid()
                    ? WireJson::findMember(message, span.begin, QLatin1String("id"))
                    : WireJson::Span{};
                handled.id = WireJson::idText(id, raw.isValid() ? raw.in(message) : QByteArrayView());
            } else {
                invalid = QStringLiteral("\"id\" must be a string, a number or null");
            }
        }
        if (invalid.isEmpty()) {
            const auto version = object.constFind(QLatin1String("jsonrpc"));
            method = object.value(QLatin1String("method"));
            const auto paramsIt = object.constFind(QLatin1String("params"));
            if (paramsIt != object.constEnd())
                params = paramsIt.value();
            else
                params = QJsonValue(QJsonValue::Undefined);
            if (version == object.constEnd() || !version.value().isString()
                || version.value().toString() != QLatin1String("2.0"))
                invalid = QStringLiteral("\"jsonrpc\" must be \"2.0\"");
            else if (method.isUndefined())
                invalid = QStringLiteral("\"method\" is missing");
            else if (!method.isString())
                invalid = QStringLiteral("\"method\" must be a string");
            // "params" may be any JSON value: Resonance's clients send a bare
            // string (PRODUCT.md section 3); the validators judge it.
        }
    }

    if (!invalid.isEmpty()) {
        // An invalid request is answered even without an id; the id is
        // echoed when it could be read, else null.
        handled.replied = true;
        handled.errorReply = true;
        handled.inKind = hasId ? Kind::Request : Kind::Message;
        handled.verdict = Verdict::InvalidRequest;
        handled.reason = invalid;
        if (method.isString())
            handled.method = method.toString();
        appendError(out, InvalidRequestCode, standardMessage(InvalidRequestCode), invalid,
                    handled.id.isEmpty() ? QByteArrayView("null") : QByteArrayView(handled.id));
        return true;
    }

    handled.method = method.toString();
    if (!hasId && m_options.resonanceCompat) {
        hasId = true;
        handled.id = QByteArrayLiteral("null");
    }
    handled.inKind = hasId ? Kind::Request : Kind::Notification;
    const std::weak_ptr<char> life = lifeToken();
    m_context.startedAt = startedAt;
    m_context.requestId = hasId ? handled.id : QByteArray();
    CallOutcome outcome = m_engine->call(m_context, handled.method, params);
    if (life.expired())
        return false;
    if (outcome.pending) {
        handled.pending = std::move(outcome.pending);
        handled.hasId = hasId;
        handled.verdict = Verdict::Accepted; // by the validators; the handler's answer is still to come
        handled.reason = outcome.servedBy;
        return true;
    }
    handled.hasId = hasId;
    complete(outcome, out, handled);
    return true;
}

void JsonRpcSession::complete(const CallOutcome &outcome, QByteArray &out, Handled &handled) const
{
    handled.finishedAt = outcome.finishedAt;
    handled.verdict = verdictOf(outcome.verdict);
    handled.upstreamUs = outcome.upstreamNs < 0 ? -1 : outcome.upstreamNs / 1000;
    if (outcome.ok()) {
        handled.reason = outcome.servedBy;
        if (handled.hasId) {
            handled.replied = true;
            appendResult(out, outcome.result, handled.id);
        }
        return;
    }
    const RpcError error = normalizedError(outcome);
    handled.reason = describeFailure(outcome, error);
    if (handled.hasId) {
        handled.replied = true;
        handled.errorReply = true;
        appendError(out, error.code, error.message, error.data, handled.id);
    }
}

void JsonRpcSession::replyMessageError(const QByteArray &utf8, const Arrival &arrival, int code, Verdict verdict,
                                       Kind inKind, const QString &data)
{
    qCDebug(lcRpcWire) << "connection" << m_context.connectionId << "jsonrpc error" << code << data;
    QByteArray out;
    appendError(out, code, standardMessage(code), data, "null");
    const qint64 latencyUs = WireSession::latencyUs(arrival);
    const bool log = logging();
    if (log) {
        TrafficEvent in = event(Direction::In, inKind);
        in.timeMs = arrival.timeMs;
        in.verdict = verdict;
        in.reason = data;
        record(std::move(in), utf8);
    }
    const std::weak_ptr<char> life = lifeToken();
    m_link.sendText(out);
    if (!log || life.expired())
        return;
    TrafficEvent reply = event(Direction::Out, Kind::Error);
    reply.requestId = QByteArrayLiteral("null");
    reply.verdict = verdict;
    reply.reason = data;
    reply.timeMs = timeAfter(arrival, latencyUs);
    reply.latencyUs = latencyUs;
    record(std::move(reply), out);
}

void JsonRpcSession::logCall(const Handled &handled, const Arrival &arrival, const QByteArray &request,
                             const QByteArray &reply, qint64 latencyUs)
{
    logRequest(handled, arrival, request);
    if (latencyUs >= 0)
        logReply(handled, arrival, reply, latencyUs);
}

void JsonRpcSession::logRequest(const Handled &handled, const Arrival &arrival, const QByteArray &request)
{
    TrafficEvent in = event(Direction::In, handled.inKind);
    in.timeMs = arrival.timeMs;
    in.method = handled.method;
    in.requestId = handled.id;
    in.verdict = handled.verdict;
    in.reason = handled.reason;
    record(std::move(in), request);
}

void JsonRpcSession::logReply(const Handled &handled, const Arrival &arrival, const QByteArray &reply,
                              qint64 latencyUs)
{
    TrafficEvent out = event(Direction::Out, handled.errorReply ? Kind::Error : Kind::Response);
    out.method = handled.method;
    out.requestId = handled.id.isEmpty() ? QByteArrayLiteral("null") : handled.id;
    out.verdict = handled.verdict;
    out.reason = handled.reason;
    out.timeMs = timeAfter(arrival, latencyUs);
    out.latencyUs = latencyUs;
    out.upstreamUs = handled.upstreamUs;
    record(std::move(out), reply);
}

void JsonRpcSession::logOutcome(const Handled &handled, const Arrival &arrival)
{
    // A notification that was under way: its outcome has no reply to go with,
    // so it is logged as the notification's own event, once more.
    TrafficEvent in = event(Direction::In, handled.inKind);
    in.timeMs = timeAfter(arrival, latencyUs(arrival, handled.finishedAt));
    in.method = handled.method;
    in.verdict = handled.verdict;
    in.reason = handled.reason.isEmpty() ? QStringLiteral("done") : handled.reason;
    in.upstreamUs = handled.upstreamUs;
    record(std::move(in), QByteArray());
}

void JsonRpcSession::pushNotification(const QString &method, const QByteArray &paramsJson)
{
    QByteArray out;
    out.reserve(40 + method.size() + paramsJson.size());
    out.append("{\"jsonrpc\":\"2.0\",\"method\":");
    WireJson::appendString(out, method);
    if (!paramsJson.isEmpty()) {
        out.append(",\"params\":");
        out.append(paramsJson);
    }
    out.append('}');
    sendPush(method, out);
}

} // namespace

JsonRpcSubprotocol::JsonRpcSubprotocol(RpcEngine *engine, TrafficLog *log, JsonRpcOptions options)
    : m_engine(engine)
    , m_log(log)
    , m_options(options)
{
    Q_ASSERT(engine);
}

QString JsonRpcSubprotocol::description() const
{
    return QStringLiteral("JSON-RPC 2.0: requests, notifications and batches; errors are replies");
}

std::unique_ptr<ProtocolSession> JsonRpcSubprotocol::createSession(ConnectionLink &link)
{
    return std::make_unique<JsonRpcSession>(link, m_engine, m_log, m_options);
}
