#include "rpc/dmrpcsubprotocol.h"

#include "logging.h"
#include "rpc/rpcengine.h"
#include "rpc/wirejson.h"
#include "rpc/wiresession.h"
#include "admin/trafficlog.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace {

using Direction = TrafficEvent::Direction;
using Kind = TrafficEvent::Kind;
using Verdict = TrafficEvent::Verdict;
using CloseCode = QWebSocketProtocol::CloseCode;

// RFC 6455 section 5.5: 125 bytes of close payload, 2 of them the code.
constexpr int MaxCloseReasonBytes = 123;

class DmRpcSession final : public WireSession
{
public:
    DmRpcSession(ConnectionLink &link, RpcEngine *engine, TrafficLog *log)
        : WireSession(link, engine, log)
    {
    }

    void textMessageAt(const QByteArray &utf8, const Arrival &arrival) override;
    void pushNotification(const QString &method, const QByteArray &paramsJson) override;

private:
    struct Call
    {
        Kind kind = Kind::Message;
        QString method;
        QByteArray id; // JSON text; empty when unreadable or a notification
    };

    // Logs the refusal and closes the connection. Nothing may touch the
    // session after it: closing can end the connection, and the session, at once.
    void fail(const QByteArray &utf8, const Arrival &arrival, const Call &call, CloseCode code, Verdict verdict,
              const QString &reason);
    // Replies to (or logs) a call whose handler is done, now or later.
    void finish(const QByteArray &utf8, const Arrival &arrival, const Call &call, const CallOutcome &outcome);

    bool m_closed = false; // closing: later messages and pushes are ignored
};

void DmRpcSession::textMessageAt(const QByteArray &utf8, const Arrival &arrival)
{
    if (m_closed)
        return;
    Call call;

    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(utf8, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        if (WireJson::isJsonScalar(utf8))
            fail(utf8, arrival, call, QWebSocketProtocol::CloseCodeProtocolError, Verdict::InvalidRequest,
                 QStringLiteral("expected an array [method, payload, requestId]"));
        else
            fail(utf8, arrival, call, QWebSocketProtocol::CloseCodeProtocolError, Verdict::ParseError,
                 QStringLiteral("not JSON: ") + WireJson::parseErrorMessage(parseError));
        return;
    }
    if (!doc.isArray()) {
        fail(utf8, arrival, call, QWebSocketProtocol::CloseCodeProtocolError, Verdict::InvalidRequest,
             QStringLiteral("expected an array [method, payload, requestId]"));
        return;
    }
    const QJsonArray tuple = doc.array();
    if (tuple.size() != 3) {
        fail(utf8, arrival, call, QWebSocketProtocol::CloseCodeProtocolError, Verdict::InvalidRequest,
             QStringLiteral("expected [method, payload, requestId], got %1 elements").arg(tuple.size()));
        return;
    }
    const QJsonValue methodValue = tuple.at(0);
    if (!methodValue.isString()) {
        fail(utf8, arrival, call, QWebSocketProtocol::CloseCodeProtocolError, Verdict::InvalidRequest,
             QStringLiteral("method must be a string"));
        return;
    }
    call.method = methodValue.toString();
    const QJsonValue id = tuple.at(2);
    if (id.isNull()) {
        call.kind = Kind::Notification;
    } else if (id.isString() || id.isDouble()) {
        call.kind = Kind::Request;
        QByteArrayView raw;
        if (id.isDouble()) {
            std::vector<WireJson::Span> spans;
            spans.reserve(3);
            if (WireJson::arrayElements(utf8, WireJson::skipWhitespace(utf8, 0), spans, 3) && spans.size() == 3)
                raw = spans[2].in(utf8);
        }
        call.id = WireJson::idText(id, raw);
    } else {
        call.kind = Kind::Request;
        fail(utf8, arrival, call, QWebSocketProtocol::CloseCodeProtocolError, Verdict::InvalidRequest,
             QStringLiteral("request id must be a string, a number or null"));
        return;
    }

    const std::weak_ptr<char> life = lifeToken();
    m_context.startedAt = arrival.at;
    m_context.requestId = call.kind == Kind::Request ? call.id : QByteArray();
    CallOutcome outcome = m_engine->call(m_context, call.method, tuple.at(1));
    if (life.expired() || m_closed)
        return; // the handler closed this connection
    if (outcome.pending) {
        // Answered when the handler is done; other messages go on meanwhile.
        outcome.pending->then([this, life, utf8, arrival, call](CallOutcome late) {
            if (!life.expired() && !m_closed)
                finish(utf8, arrival, call, late);
        });
        return;
    }
    finish(utf8, arrival, call, outcome);
}

void DmRpcSession::finish(const QByteArray &utf8, const Arrival &arrival, const Call &call, const CallOutcome &outcome)
{
    const std::weak_ptr<char> life = lifeToken();
    if (!outcome.ok()) {
        const RpcError error = normalizedError(outcome);
        const QString why = describeFailure(outcome, error);
        CloseCode code = QWebSocketProtocol::CloseCodePolicyViolated;
        QString reason;
        switch (outcome.verdict) {
        case CallOutcome::Verdict::UnknownMethod:
        case CallOutcome::Verdict::DisabledMethod:
            reason = why + QStringLiteral(": ") + call.method;
            break;
        case CallOutcome::Verdict::RefusedByPolicy:
            reason = call.method + QLatin1Char(' ') + why;
            break;
        case CallOutcome::Verdict::InvalidParams:
            code = QWebSocketProtocol::CloseCodeProtocolError;
            reason = call.method + QStringLiteral(": ") + why;
            break;
        case CallOutcome::Verdict::HandlerFailed:
        case CallOutcome::Verdict::ErrorResult:
        case CallOutcome::Verdict::Accepted:
            code = QWebSocketProtocol::CloseCodeBadOperation;
            reason = call.method + QStringLiteral(" failed: ") + why;
            break;
        }
        fail(utf8, arrival, call, code, verdictOf(outcome.verdict), reason);
        return;
    }

    const bool log = logging();
    if (call.kind == Kind::Notification) {
        if (log) {
            TrafficEvent in = event(Direction::In, Kind::Notification);
            in.timeMs = arrival.timeMs;
            in.method = call.method;
            in.verdict = Verdict::Accepted;
            in.reason = outcome.servedBy;
            in.upstreamUs = outcome.upstreamNs < 0 ? -1 : outcome.upstreamNs / 1000;
            record(std::move(in), utf8);
        }
        return;
    }

    QByteArray out;
    out.reserve(128 + call.method.size() + call.id.size());
    out.append('[');
    WireJson::appendString(out, call.method);
    out.append(',');
    WireJson::appendValue(out, outcome.result);
    out.append(',');
    out.append(call.id);
    out.append(']');
    // Until the engine was done (its clock read, shared; writing the reply is not counted).
    const qint64 latencyUs = WireSession::latencyUs(arrival, outcome.finishedAt);
    m_link.sendText(out);
    if (!log || life.expired())
        return;
    TrafficEvent in = event(Direction::In, Kind::Request);
    in.timeMs = arrival.timeMs;
    in.method = call.method;
    in.requestId = call.id;
    in.verdict = Verdict::Accepted;
    record(std::move(in), utf8);
    TrafficEvent reply = event(Direction::Out, Kind::Response);
    reply.method = call.method;
    reply.requestId = call.id;
    reply.verdict = Verdict::Accepted;
    reply.reason = outcome.servedBy;
    reply.timeMs = timeAfter(arrival, latencyUs);
    reply.latencyUs = latencyUs;
    reply.upstreamUs = outcome.upstreamNs < 0 ? -1 : outcome.upstreamNs / 1000;
    record(std::move(reply), out);
}

void DmRpcSession::fail(const QByteArray &utf8, const Arrival &arrival, const Call &call, CloseCode code,
                        Verdict verdict, const QString &reason)
{
    m_closed = true;
    const QString clamped = WireJson::clampUtf8(reason, MaxCloseReasonBytes);
    qCDebug(lcRpcWire) << "connection" << m_context.connectionId << "dm-rpc close" << int(code) << clamped;
    if (logging()) {
        TrafficEvent in = event(Direction::In, call.kind);
        in.timeMs = arrival.timeMs;
        in.method = call.method;
        in.requestId = call.id;
        in.verdict = verdict;
        in.reason = reason;
        record(std::move(in), utf8);

        QByteArray payload;
        payload.append("{\"code\":");
        payload.append(QByteArray::number(int(code)));
        payload.append(",\"reason\":");
        WireJson::appendString(payload, clamped);
        payload.append('}');
        TrafficEvent close = event(Direction::Out, Kind::Close);
        close.method = call.method;
        close.requestId = call.id;
        close.verdict = verdict;
        close.reason = clamped;
        close.size = 2 + clamped.toUtf8().size(); // the close frame's payload
        close.latencyUs = latencyUs(arrival);
        close.timeMs = timeAfter(arrival, close.latencyUs);
        record(std::move(close), payload);
    }
    m_link.close(code, clamped); // last: may destroy this session
}

void DmRpcSession::pushNotification(const QString &method, const QByteArray &paramsJson)
{
    if (m_closed)
        return;
    QByteArray out;
    out.reserve(16 + method.size() + paramsJson.size());
    out.append('[');
    WireJson::appendString(out, method);
    out.append(',');
    out.append(paramsJson.isEmpty() ? QByteArrayView("null") : QByteArrayView(paramsJson));
    out.append(",null]");
    sendPush(method, out);
}

} // namespace

DmRpcSubprotocol::DmRpcSubprotocol(RpcEngine *engine, TrafficLog *log)
    : m_engine(engine)
    , m_log(log)
{
    Q_ASSERT(engine);
}

QString DmRpcSubprotocol::description() const
{
    return QStringLiteral("Resonance tuple protocol [method, payload, requestId]; errors close the connection");
}

std::unique_ptr<ProtocolSession> DmRpcSubprotocol::createSession(ConnectionLink &link)
{
    return std::make_unique<DmRpcSession>(link, m_engine, m_log);
}
