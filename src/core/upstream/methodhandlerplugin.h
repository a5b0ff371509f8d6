#pragma once

// The Qt plugin interface of handler plugins: methods served by code loaded
// at run time (PRODUCT.md section 7, a catalog method's
// "handler": {"plugin": "NAME"}). This header is all a plugin author needs;
// it is header-only on purpose, so plugins link Qt6::Core and nothing of
// ours (CMake: switchboard_plugin_api).
//
// A handler plugin is a Qt plugin whose root object implements
// MethodHandlerPlugin:
//   class MyHandler : public QObject, public MethodHandlerPlugin {
//       Q_OBJECT
//       Q_PLUGIN_METADATA(IID SwitchboardMethodHandler_iid FILE "my.json")
//       Q_INTERFACES(MethodHandlerPlugin)
//       ...
//   };
// It lives in the directory given to `switchboard --plugins DIR`, beside
// validator plugins, and is loaded by the same rules (a file that does not
// load fails the whole directory). One root object may implement both
// MethodValidator and MethodHandlerPlugin.
//
// Calls reach handle() only after the validators accepted them. The handler
// answers each call exactly once through its HandlerReply: inside handle(),
// or later from any thread (keep a copy of the reply; it is cheap to copy).
// result() gives the client that result; error() gives it that error
// unchanged; fail() - or an exception thrown out of handle() - answers
// -32603 "Internal error" as a failing built-in does. A reply dropped
// without an answer answers -32603 too, so a call never hangs for good.
//
// Threading: handle() is called on worker threads, many calls at once, so
// it must be thread-safe. Do not block in it: answer later instead.
// configure() is called once, before the first call, when the server
// starts; handler plugins are not reloaded while the server runs.

#include "../rpc/rpcengine.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <QtPlugin>

#include <atomic>
#include <functional>
#include <memory>
#include <utility>

// Answers one call. Copies share the call: the first answer counts, later
// ones (from any copy, on any thread) are ignored. Thread-safe.
class HandlerReply
{
public:
    // What the handler answered; given to the server's completion once.
    struct Answer
    {
        enum class Kind {
            Result,  // `result` goes to the client
            Error,   // the handler's own error, passed to the client unchanged
            Failure  // the handler failed: -32603 "Internal error", data = the message
        };
        Kind kind = Kind::Result;
        QJsonValue result;
        RpcError error;
    };
    using Completion = std::function<void(Answer)>;

    // A reply that answers nowhere (answers are ignored).
    HandlerReply() = default;
    // The server makes the reply of each call with what finishes the call.
    explicit HandlerReply(Completion completion)
        : m_state(std::make_shared<State>(std::move(completion)))
    {
    }

    // Answers with a result (an undefined value answers null).
    void result(const QJsonValue &value) const
    {
        Answer answer;
        answer.result = value.isUndefined() ? QJsonValue(QJsonValue::Null) : value;
        complete(std::move(answer));
    }
    // Answers with an error of the handler's own; the client gets exactly
    // this code, message and data (undefined data: no "data" member).
    void error(int code, const QString &message, const QJsonValue &data = QJsonValue(QJsonValue::Undefined)) const
    {
        Answer answer;
        answer.kind = Answer::Kind::Error;
        answer.error.code = code;
        answer.error.message = message;
        answer.error.data = data;
        complete(std::move(answer));
    }
    // Answers -32603 "Internal error" with `message` as data, as an exception
    // thrown out of handle() does (for failures found after handle() returned).
    void fail(const QString &message) const
    {
        Answer answer;
        answer.kind = Answer::Kind::Failure;
        answer.error.code = -32603;
        answer.error.message = QStringLiteral("Internal error");
        answer.error.data = message;
        complete(std::move(answer));
    }

    // True once any copy answered.
    bool answered() const { return m_state && m_state->answered.load(std::memory_order_acquire); }

private:
    struct State
    {
        explicit State(Completion c)
            : completion(std::move(c))
        {
        }
        ~State()
        {
            // Every copy is gone and nobody answered: the call must not hang.
            if (!answered.exchange(true) && completion) {
                Answer answer;
                answer.kind = Answer::Kind::Failure;
                answer.error.code = -32603;
                answer.error.message = QStringLiteral("Internal error");
                answer.error.data = QStringLiteral("the handler dropped the call without answering");
                completion(std::move(answer));
            }
        }
        std::atomic_bool answered{false};
        Completion completion; // touched only by whoever set `answered`
    };

    void complete(Answer answer) const
    {
        if (!m_state || m_state->answered.exchange(true, std::memory_order_acq_rel))
            return;
        Completion completion = std::move(m_state->completion);
        m_state->completion = nullptr;
        if (completion)
            completion(std::move(answer));
    }

    std::shared_ptr<State> m_state;
};

class MethodHandlerPlugin
{
public:
    virtual ~MethodHandlerPlugin() = default;

    // Unique among the handler plugins loaded; what a catalog method names in
    // "handler": {"plugin": NAME} and the key of its "handlerSettings".
    // Lower case, no spaces.
    virtual QString name() const = 0;

    // Settings from the server config (handlerSettings[name()]; {} when
    // none), once at start-up. Return false with a short reason to reject
    // them (the server does not start). The default takes no settings, so a
    // typo in the config does not pass silently.
    virtual bool configure(const QJsonObject &settings, QString *error)
    {
        if (settings.isEmpty())
            return true;
        if (error)
            *error = QStringLiteral("takes no settings");
        return false;
    }

    // The method names it suggests serving (informational: listings and the
    // dashboard). What it serves is what the catalog binds to it.
    virtual QStringList methods() const { return {}; }

    // Runs one call of `method` (a catalog method bound to this plugin; one
    // plugin may serve several). `params` is undefined when the call had
    // none. Called on worker threads, many at once; answer through `reply`,
    // inside handle() or later from any thread. `context` is valid during
    // handle() only: copy what an answer given later needs.
    virtual void handle(const CallContext &context, const QString &method, const QJsonValue &params,
                        HandlerReply reply) = 0;

    // The connection is gone: forget whatever was kept for it (its calls
    // still waiting may be answered or dropped; their answers are not sent).
    virtual void connectionClosed(quint64 connectionId) { Q_UNUSED(connectionId) }
};

#define SwitchboardMethodHandler_iid "org.switchboard.MethodHandler/1.0"
Q_DECLARE_INTERFACE(MethodHandlerPlugin, SwitchboardMethodHandler_iid)
