#pragma once

// What the libFuzzer targets share: a small RpcEngine with one method per
// verdict (and one that closes the connection from inside its handler), a
// ConnectionLink that records what is sent and can destroy the session when
// asked to close (as a real socket may), and the way a frame's bytes reach a
// session in production (QWebSocket hands over a QString; the session gets
// its UTF-8).

#include "rpc/rpcengine.h"
#include "ws/subprotocol.h"
#include "admin/trafficlog.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace fuzz {

class Engine : public RpcEngine
{
public:
    std::function<void()> onCloseCall; // run by the method "close"

    CallOutcome call(const CallContext &context, const QString &method, const QJsonValue &params) override
    {
        CallOutcome o;
        if (method == QLatin1String("echo")) {
            o.result = params.isUndefined() ? QJsonValue() : params;
        } else if (method == QLatin1String("sum")) {
            if (!params.isArray()) {
                o.verdict = CallOutcome::Verdict::InvalidParams;
                o.error.data = QJsonArray{QJsonObject{{"path", ""}, {"message", "must be an array"}}};
                return o;
            }
            double total = 0;
            for (const QJsonValue &v : params.toArray())
                total += v.toDouble();
            o.result = total;
        } else if (method == QLatin1String("disabled")) {
            o.verdict = CallOutcome::Verdict::DisabledMethod; // codes and data filled in by the wire layer
        } else if (method == QLatin1String("fail")) {
            o.verdict = CallOutcome::Verdict::HandlerFailed;
            o.error.data = params.isString() ? params : QJsonValue(QStringLiteral("boom"));
        } else if (method == QLatin1String("refuse")) {
            o.verdict = CallOutcome::Verdict::RefusedByPolicy;
            o.error.code = params.isDouble() ? int(qBound(-1e9, params.toDouble(), 1e9)) : -32001;
            o.error.message = QStringLiteral("refused");
            o.error.data = params;
            o.error.refusedBy = QStringLiteral("fuzz-policy");
        } else if (method == QLatin1String("close")) {
            if (context.link)
                context.link->close(QWebSocketProtocol::CloseCodePolicyViolated, QString(300, QChar(0x00e9)));
            if (onCloseCall)
                onCloseCall();
            o.result = true;
        } else {
            o.verdict = CallOutcome::Verdict::UnknownMethod;
        }
        return o;
    }
    void connectionClosed(quint64) override {}
};

class Link : public ConnectionLink
{
public:
    explicit Link(QString protocol)
        : m_protocol(std::move(protocol))
    {
    }
    quint64 connectionId() const override { return 42; }
    QString subprotocol() const override { return m_protocol; }
    void sendText(const QByteArray &utf8) override
    {
        ++sent;
        bytes += utf8.size();
    }
    void close(QWebSocketProtocol::CloseCode, const QString &reason) override
    {
        closed = true;
        // The real link cuts the reason to 123 bytes of UTF-8 itself; the
        // wire layer must hand over something sane anyway.
        lastReasonBytes = reason.toUtf8().size();
        if (onClose)
            onClose();
    }

    int sent = 0;
    qint64 bytes = 0;
    bool closed = false;
    qsizetype lastReasonBytes = 0;
    std::function<void()> onClose;

private:
    QString m_protocol;
};

// Splits fuzz input into messages at '\n' (at most `max`), each as the
// session would receive it: QWebSocket decodes the frame to a QString and
// WebSocketSession hands its UTF-8 over (invalid UTF-8 closes with 1007
// before any session sees it; the round trip stands in for that check).
inline QList<QByteArray> messages(const uint8_t *data, size_t size, int max = 16)
{
    QList<QByteArray> out;
    const QByteArray all(reinterpret_cast<const char *>(data), qsizetype(size));
    qsizetype start = 0;
    while (start <= all.size() && out.size() < max) {
        qsizetype end = all.indexOf('\n', start);
        if (end < 0 || out.size() == max - 1)
            end = all.size();
        out << QString::fromUtf8(all.mid(start, end - start)).toUtf8();
        start = end + 1;
    }
    return out;
}

// Small limits so that a few inputs already exercise eviction and payload cuts.
inline TrafficLog::Limits smallLogLimits()
{
    TrafficLog::Limits limits;
    limits.capacity = 16;
    limits.payloadCapBytes = 64;
    limits.payloadBudgetBytes = 512;
    return limits;
}

// Reads everything the log holds, as the dashboard and the HTTP API do.
inline void drainLog(const TrafficLog &log)
{
    const TrafficLog::Slice slice = log.eventsAfter(0, 1000);
    for (const TrafficEvent &e : slice.events)
        (void)e.toJsonLine();
    (void)slice.toJson();
}

// Drives one session of `protocol` with the messages of one input. The
// first byte chooses whether closing destroys the session at once.
template<typename Protocol>
int runSession(const QString &name, const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const bool destroyOnClose = data[0] & 1;
    const bool logOn = !(data[0] & 2);
    Engine engine;
    TrafficLog log(smallLogLimits());
    log.setEnabled(logOn);
    Protocol protocol(&engine, &log);
    Link link(name);
    std::unique_ptr<ProtocolSession> session = protocol.createSession(link);
    if (destroyOnClose)
        link.onClose = [&session] { session.reset(); };
    for (const QByteArray &message : messages(data + 1, size - 1)) {
        if (!session)
            break;
        session->textMessage(message);
        if (session && message.startsWith("push"))
            session->pushNotification(QStringLiteral("event"), QByteArrayLiteral("{\"topic\":\"t\",\"data\":[1]}"));
    }
    if (session)
        session->pushNotification(QStringLiteral("event"), QByteArrayLiteral("{\"topic\":\"t\",\"data\":1}"));
    session.reset();
    drainLog(log);
    return 0;
}

} // namespace fuzz
