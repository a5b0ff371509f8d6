#include "rpc/wiresession.h"

#include "logging.h"

#include <QJsonArray>
#include <QJsonObject>

Q_LOGGING_CATEGORY(lcRpcWire, "switchboard.rpc.wire", QtInfoMsg)

WireSession::WireSession(ConnectionLink &link, RpcEngine *engine, TrafficLog *log)
    : m_link(link)
    , m_engine(engine)
    , m_log(log)
    , m_life(std::make_shared<char>(0))
{
    m_context.connectionId = link.connectionId();
    m_context.subprotocol = link.subprotocol();
    m_context.path = link.path();
    m_context.peer = link.peer();
    m_context.origin = link.origin();
    m_context.link = &link;
}

WireSession::~WireSession()
{
    if (m_engine)
        m_engine->connectionClosed(m_context.connectionId);
}

qint64 WireSession::latencyUs(const Arrival &arrival, Clock::time_point until)
{
    if (until == Clock::time_point())
        until = Clock::now();
    return std::chrono::duration_cast<std::chrono::microseconds>(until - arrival.at).count();
}

TrafficEvent WireSession::event(TrafficEvent::Direction direction, TrafficEvent::Kind kind) const
{
    TrafficEvent e;
    e.connectionId = m_context.connectionId;
    e.subprotocol = m_context.subprotocol;
    e.direction = direction;
    e.kind = kind;
    return e;
}

void WireSession::record(TrafficEvent &&event, const QByteArray &payload)
{
    m_log->setPayload(event, payload);
    m_log->append(std::move(event));
}

TrafficEvent::Verdict WireSession::verdictOf(CallOutcome::Verdict verdict)
{
    switch (verdict) {
    case CallOutcome::Verdict::Accepted: return TrafficEvent::Verdict::Accepted;
    case CallOutcome::Verdict::UnknownMethod: return TrafficEvent::Verdict::UnknownMethod;
    case CallOutcome::Verdict::DisabledMethod: return TrafficEvent::Verdict::DisabledMethod;
    case CallOutcome::Verdict::InvalidParams: return TrafficEvent::Verdict::InvalidParams;
    case CallOutcome::Verdict::RefusedByPolicy: return TrafficEvent::Verdict::Refused;
    case CallOutcome::Verdict::HandlerFailed: return TrafficEvent::Verdict::HandlerFailed;
    case CallOutcome::Verdict::ErrorResult: return TrafficEvent::Verdict::ErrorResult;
    }
    return TrafficEvent::Verdict::HandlerFailed;
}

QString WireSession::standardMessage(int code)
{
    switch (code) {
    case -32700: return QStringLiteral("Parse error");
    case -32600: return QStringLiteral("Invalid Request");
    case -32601: return QStringLiteral("Method not found");
    case -32602: return QStringLiteral("Invalid params");
    case -32603: return QStringLiteral("Internal error");
    default: return QStringLiteral("Server error");
    }
}

RpcError WireSession::normalizedError(const CallOutcome &outcome)
{
    RpcError e = outcome.error;
    using V = CallOutcome::Verdict;
    if (e.code == 0) {
        switch (outcome.verdict) {
        case V::UnknownMethod:
        case V::DisabledMethod: e.code = -32601; break;
        case V::InvalidParams: e.code = -32602; break;
        case V::RefusedByPolicy: e.code = -32000; break;
        case V::HandlerFailed:
        case V::ErrorResult:
        case V::Accepted: e.code = -32603; break;
        }
    }
    if (e.message.isEmpty())
        e.message = outcome.verdict == V::RefusedByPolicy && e.code == -32000
            ? QStringLiteral("Refused by policy")
            : standardMessage(e.code);
    // A validator that sets data to null means "not given", as undefined
    // does: JSON-RPC then omits error.data or fills in the standard one.
    if (e.data.isNull())
        e.data = QJsonValue(QJsonValue::Undefined);
    if (e.data.isUndefined()) {
        switch (outcome.verdict) {
        case V::UnknownMethod: e.data = QJsonObject{{QLatin1String("reason"), QLatin1String("unknown")}}; break;
        case V::DisabledMethod: e.data = QJsonObject{{QLatin1String("reason"), QLatin1String("disabled")}}; break;
        case V::HandlerFailed: e.data = e.message; break;
        default: break;
        }
    }
    return e;
}

QString WireSession::describeFailure(const CallOutcome &outcome, const RpcError &error)
{
    using V = CallOutcome::Verdict;
    switch (outcome.verdict) {
    case V::Accepted:
        return QString();
    case V::UnknownMethod:
        return QStringLiteral("unknown method");
    case V::DisabledMethod:
        return QStringLiteral("method disabled");
    case V::InvalidParams: {
        // "invalid params: /0 must be a number; /1 must be a number"
        QString text = QStringLiteral("invalid params");
        const QJsonArray list = error.data.toArray();
        const qsizetype shown = std::min<qsizetype>(list.size(), 3);
        for (qsizetype i = 0; i < shown; ++i) {
            const QJsonObject item = list.at(i).toObject();
            text += i == 0 ? QStringLiteral(": ") : QStringLiteral("; ");
            const QString path = item.value(QLatin1String("path")).toString();
            if (!path.isEmpty())
                text += path + QLatin1Char(' ');
            text += item.value(QLatin1String("message")).toString();
        }
        if (list.size() > shown)
            text += QStringLiteral(" (+%1 more)").arg(list.size() - shown);
        else if (list.isEmpty() && error.data.isString())
            text += QStringLiteral(": ") + error.data.toString();
        return text;
    }
    case V::RefusedByPolicy: {
        QString text = QStringLiteral("refused by ")
            + (error.refusedBy.isEmpty() ? QStringLiteral("policy") : error.refusedBy);
        if (!error.message.isEmpty())
            text += QStringLiteral(": ") + error.message;
        return text;
    }
    case V::HandlerFailed: {
        // An upstream's failure: "upstream orders: timeout".
        const QJsonObject data = error.data.toObject();
        if (data.contains(QLatin1String("upstream")))
            return QStringLiteral("upstream %1: %2").arg(data.value(QLatin1String("upstream")).toString(),
                                                         data.value(QLatin1String("reason")).toString());
        return error.data.isString() && !error.data.toString().isEmpty() ? error.data.toString()
                                                                          : error.message;
    }
    case V::ErrorResult: {
        QString text = QStringLiteral("error %1: %2").arg(error.code).arg(error.message);
        if (!outcome.servedBy.isEmpty())
            text = outcome.servedBy + QStringLiteral(" answered ") + text;
        return text;
    }
    }
    return error.message;
}

void WireSession::sendPush(const QString &method, const QByteArray &message)
{
    const bool log = logging();
    const std::weak_ptr<char> life = lifeToken();
    m_link.sendText(message);
    if (!log || life.expired())
        return; // the send may have closed and destroyed the session
    TrafficEvent push = event(TrafficEvent::Direction::Out, TrafficEvent::Kind::Push);
    push.method = method;
    record(std::move(push), message);
}
