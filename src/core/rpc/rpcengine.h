#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

class ConnectionLink;

// Who is calling, and which call: handed by a wire protocol (jsonrpc,
// dm-rpc) to the engine, and by the engine to every validator, handler,
// plugin and upstream call. The connection's part is the same for all its
// calls; requestId and startedAt are the call's.
struct CallContext
{
    CallContext() = default;
    CallContext(quint64 connection, QString subprotocolName)
        : connectionId(connection)
        , subprotocol(std::move(subprotocolName))
    {
    }

    // Unique in this process. Kept to 53 bits, so that it stays exact in
    // JSON numbers and leaves room for a node's part when nodes share ids.
    quint64 connectionId = 0;
    QString subprotocol;
    QString path;        // the upgrade request's path, with its query (tokens masked)
    QString peer;        // "127.0.0.1:50544"
    QString origin;      // empty: the handshake had no Origin
    // The connection's user (PRODUCT.md section 8) and its claims; empty
    // until the connection carries an identity.
    QString user;
    QJsonObject claims;
    ConnectionLink *link = nullptr; // the caller's connection, on the current (worker) thread

    // The call's id as the client wrote it (JSON text: `7`, `"a"`, `null`);
    // empty for a notification.
    QByteArray requestId;
    // When the call began (its message arrived, or the previous call of its
    // batch ended): the engine times the call from here. Unset: from call().
    std::chrono::steady_clock::time_point startedAt{};
};

// An error reply in JSON-RPC terms; dm-rpc maps it to a close code.
struct RpcError
{
    int code = 0;          // -32601, -32602, -32603, or a validator's own code
    QString message;
    QJsonValue data{QJsonValue::Undefined}; // error.data of PRODUCT.md section 3 (undefined: omitted)
    QString refusedBy;     // name of the validator that refused; empty for handler failures
};

class PendingCall;

// What became of one call: a result, or an error with the verdict that caused it.
struct CallOutcome
{
    enum class Verdict {
        Accepted,        // validators passed, handler ran and returned a result
        UnknownMethod,   // -32601 {"reason":"unknown"}
        DisabledMethod,  // -32601 {"reason":"disabled"}
        InvalidParams,   // -32602 list of {path, message}
        RefusedByPolicy, // a validator refused with its own error
        HandlerFailed,   // -32603 message (an upstream's failure: data {"reason", "upstream"})
        ErrorResult      // the handler answered with an error of its own (an upstream's
                         // {"error": ...}): passed to the client unchanged
    };
    Verdict verdict = Verdict::Accepted;
    QJsonValue result;   // Accepted
    RpcError error;      // everything else
    // When the engine was done (set by engines that read the clock anyway;
    // unset: the caller reads it if it needs it).
    std::chrono::steady_clock::time_point finishedAt{};
    // What served the call when it is not a built-in: "upstream orders",
    // "plugin kv". Empty for built-ins.
    QString servedBy;
    // Time spent waiting for the upstream (request sent → reply read); -1:
    // no upstream was asked.
    qint64 upstreamNs = -1;
    // Set when the handler answers later (an upstream, a plugin): the call
    // is under way and its outcome comes through pending->then(). The
    // verdict until then is Accepted (the validators passed).
    std::shared_ptr<PendingCall> pending;

    bool ok() const { return verdict == Verdict::Accepted; }
};

// A call whose handler answers later. Both ends live on the thread that
// made the call: the engine calls finish() there once (an answer from
// another thread is posted there first), the wire protocol calls then()
// there once, right after call() returned. Either order works.
class PendingCall
{
public:
    using Continuation = std::function<void(CallOutcome)>;

    void then(Continuation continuation)
    {
        if (m_outcome) {
            CallOutcome outcome = std::move(*m_outcome);
            m_outcome.reset();
            continuation(std::move(outcome));
            return;
        }
        m_continuation = std::move(continuation);
    }
    void finish(CallOutcome outcome)
    {
        if (m_continuation) {
            Continuation continuation = std::move(m_continuation);
            m_continuation = nullptr;
            continuation(std::move(outcome));
            return;
        }
        m_outcome = std::move(outcome);
    }

private:
    Continuation m_continuation;
    std::optional<CallOutcome> m_outcome;
};

// The method side of the server as the wire protocols see it: validate a call
// through the validator chain, then run its handler. Thread-safe; called on
// worker threads, many at once. A handler that waits (an upstream) never
// blocks the thread: call() returns with `pending` set (see PendingCall).
class RpcEngine
{
public:
    virtual ~RpcEngine() = default;
    virtual CallOutcome call(const CallContext &context, const QString &method, const QJsonValue &params) = 0;
    // The connection is gone: drop its subscriptions and other per-connection state.
    virtual void connectionClosed(quint64 connectionId) = 0;
};
