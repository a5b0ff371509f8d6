#pragma once

// A small RpcEngine that behaves as PRODUCT.md section 4 says the real one
// does (verdicts, error codes and data), with the methods of the JSON-RPC 2.0
// specification's examples, and a ConnectionLink that records what a
// session sends and how it closes.

#include "rpc/rpcengine.h"
#include "ws/subprotocol.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QSet>
#include <QStringList>
#include <QTimer>

#include <functional>

class TestEngine : public RpcEngine
{
public:
    QSet<QString> disabled{QStringLiteral("disabled_method")};
    // Runs inside call() for the method "hook" (to close the link from a handler ...).
    std::function<void(const CallContext &)> hook;

    CallOutcome call(const CallContext &context, const QString &method, const QJsonValue &params) override
    {
        {
            QMutexLocker locker(&m_mutex);
            m_calls << method;
            m_params << params;
            m_contexts << context.connectionId;
        }
        CallOutcome o;
        if (disabled.contains(method))
            return failure(CallOutcome::Verdict::DisabledMethod, -32601, QStringLiteral("Method not found"),
                           QJsonObject{{"reason", "disabled"}});
        if (method == QLatin1String("subtract")) {
            double a = 0, b = 0;
            if (params.isArray() && params.toArray().size() == 2 && params.toArray().at(0).isDouble()
                && params.toArray().at(1).isDouble()) {
                a = params.toArray().at(0).toDouble();
                b = params.toArray().at(1).toDouble();
            } else if (params.isObject() && params.toObject().value("minuend").isDouble()
                       && params.toObject().value("subtrahend").isDouble()) {
                a = params.toObject().value("minuend").toDouble();
                b = params.toObject().value("subtrahend").toDouble();
            } else {
                return invalidParams(QJsonArray{QJsonObject{{"path", ""}, {"message", "needs two numbers"}}});
            }
            o.result = a - b;
            return o;
        }
        if (method == QLatin1String("sum")) {
            if (!params.isArray())
                return invalidParams(QJsonArray{QJsonObject{{"path", ""}, {"message", "must be an array"}}});
            double total = 0;
            QJsonArray errors;
            const QJsonArray list = params.toArray();
            for (qsizetype i = 0; i < list.size(); ++i) {
                if (!list.at(i).isDouble())
                    errors.append(QJsonObject{{"path", QStringLiteral("/%1").arg(i)}, {"message", "must be a number"}});
                total += list.at(i).toDouble();
            }
            if (!errors.isEmpty())
                return invalidParams(errors);
            o.result = total;
            return o;
        }
        if (method == QLatin1String("notify_hello") || method == QLatin1String("notify_sum")
            || method == QLatin1String("update")) {
            return o; // result undefined: written as null
        }
        if (method == QLatin1String("get_data")) {
            o.result = QJsonArray{"hello", 5};
            return o;
        }
        if (method == QLatin1String("echo")) {
            o.result = params.isUndefined() ? QJsonValue() : params;
            return o;
        }
        if (method == QLatin1String("fail"))
            return failure(CallOutcome::Verdict::HandlerFailed, -32603, QStringLiteral("Internal error"),
                           QStringLiteral("boom"));
        if (method == QLatin1String("guarded")) {
            CallOutcome r = failure(CallOutcome::Verdict::RefusedByPolicy, -32001,
                                    QStringLiteral("not allowed at night"), QJsonObject{{"rule", "night"}});
            r.error.refusedBy = QStringLiteral("night-policy");
            return r;
        }
        // Verdicts without codes, messages or data: the wire layer fills them in.
        if (method == QLatin1String("lazy_unknown")) {
            o.verdict = CallOutcome::Verdict::UnknownMethod;
            return o;
        }
        if (method == QLatin1String("lazy_disabled")) {
            o.verdict = CallOutcome::Verdict::DisabledMethod;
            return o;
        }
        // Handlers that answer later, as upstreams do: {"ms": delay, "value": result}
        // ("later"), or an error of the handler's own ("later_error"), or a
        // failure ("later_fail"), delivered from the event loop.
        if (method.startsWith(QLatin1String("later"))) {
            auto pending = std::make_shared<PendingCall>();
            o.pending = pending;
            o.servedBy = QStringLiteral("upstream test");
            const QJsonObject args = params.toObject();
            QTimer::singleShot(args.value("ms").toInt(), [pending, method, args] {
                CallOutcome done;
                done.servedBy = QStringLiteral("upstream test");
                done.upstreamNs = 1000;
                if (method == QLatin1String("later_error")) {
                    done.verdict = CallOutcome::Verdict::ErrorResult;
                    done.error = {4001, QStringLiteral("no such order"), QJsonObject{{"order", 7}}, QString()};
                } else if (method == QLatin1String("later_fail")) {
                    done.verdict = CallOutcome::Verdict::HandlerFailed;
                    done.error = {-32603, QStringLiteral("Internal error"),
                                  QJsonObject{{"reason", "timeout"}, {"upstream", "test"}}, QString()};
                } else {
                    done.result = args.value("value");
                }
                pending->finish(done);
            });
            return o;
        }
        if (method == QLatin1String("hook")) {
            if (hook)
                hook(context);
            o.result = true;
            return o;
        }
        return failure(CallOutcome::Verdict::UnknownMethod, -32601, QStringLiteral("Method not found"),
                       QJsonObject{{"reason", "unknown"}});
    }

    void connectionClosed(quint64 connectionId) override
    {
        QMutexLocker locker(&m_mutex);
        m_closed << connectionId;
    }

    QStringList calls() const
    {
        QMutexLocker locker(&m_mutex);
        return m_calls;
    }
    QList<QJsonValue> params() const
    {
        QMutexLocker locker(&m_mutex);
        return m_params;
    }
    QList<quint64> closedConnections() const
    {
        QMutexLocker locker(&m_mutex);
        return m_closed;
    }

private:
    static CallOutcome failure(CallOutcome::Verdict verdict, int code, const QString &message, const QJsonValue &data)
    {
        CallOutcome o;
        o.verdict = verdict;
        o.error.code = code;
        o.error.message = message;
        o.error.data = data;
        return o;
    }
    static CallOutcome invalidParams(const QJsonArray &errors)
    {
        return failure(CallOutcome::Verdict::InvalidParams, -32602, QStringLiteral("Invalid params"), errors);
    }

    mutable QMutex m_mutex;
    QStringList m_calls;
    QList<QJsonValue> m_params;
    QList<quint64> m_contexts;
    QList<quint64> m_closed;
};

class TestLink : public ConnectionLink
{
public:
    struct Close
    {
        int code;
        QString reason;
    };

    explicit TestLink(QString protocol, quint64 id = 7)
        : m_protocol(std::move(protocol))
        , m_id(id)
    {
    }

    quint64 connectionId() const override { return m_id; }
    QString subprotocol() const override { return m_protocol; }
    void sendText(const QByteArray &utf8) override { sent << utf8; }
    void close(QWebSocketProtocol::CloseCode code, const QString &reason) override
    {
        closes << Close{int(code), reason};
        if (onClose)
            onClose();
    }

    QList<QByteArray> sent;
    QList<Close> closes;
    std::function<void()> onClose; // e.g. destroy the session at once, as a real socket may

private:
    QString m_protocol;
    quint64 m_id;
};

inline QJsonValue parseJson(const QByteArray &text)
{
    // Wrapped so that scalars parse too.
    const QJsonDocument doc = QJsonDocument::fromJson("[" + text + "]");
    return doc.isArray() && doc.array().size() == 1 ? doc.array().at(0) : QJsonValue(QJsonValue::Undefined);
}
