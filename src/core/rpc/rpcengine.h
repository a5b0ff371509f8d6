#pragma once

#include <QJsonValue>
#include <QString>

#include <chrono>

class ConnectionLink;

// Who is calling: handed by a wire protocol (jsonrpc, dm-rpc) to the engine.
struct CallContext
{
    quint64 connectionId = 0;
    QString subprotocol;
    ConnectionLink *link = nullptr; // the caller's connection, on the current (worker) thread
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

// What became of one call: a result, or an error with the verdict that caused it.
struct CallOutcome
{
    enum class Verdict {
        Accepted,        // validators passed, handler ran and returned a result
        UnknownMethod,   // -32601 {"reason":"unknown"}
        DisabledMethod,  // -32601 {"reason":"disabled"}
        InvalidParams,   // -32602 list of {path, message}
        RefusedByPolicy, // a validator refused with its own error
        HandlerFailed    // -32603 message
    };
    Verdict verdict = Verdict::Accepted;
    QJsonValue result;   // Accepted
    RpcError error;      // everything else
    // When the engine was done (set by engines that read the clock anyway;
    // unset: the caller reads it if it needs it).
    std::chrono::steady_clock::time_point finishedAt{};

    bool ok() const { return verdict == Verdict::Accepted; }
};

// The method side of the server as the wire protocols see it: validate a call
// through the validator chain, then run its handler. Thread-safe; called on
// worker threads, many at once.
class RpcEngine
{
public:
    virtual ~RpcEngine() = default;
    virtual CallOutcome call(const CallContext &context, const QString &method, const QJsonValue &params) = 0;
    // The connection is gone: drop its subscriptions and other per-connection state.
    virtual void connectionClosed(quint64 connectionId) = 0;
};
