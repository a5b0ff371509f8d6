#pragma once

// The extension point for checking RPC calls, and the Qt plugin interface
// that validator plugins implement. This header is all a plugin author needs
// (it is header-only on purpose: plugins link Qt6::Core, nothing of ours).
//
// Every call a client makes goes through the validators in force, in their
// configured order. Each validator is asked, in turn:
//   1. castToMethod(context, name) — "what is this method?" It returns the
//      method case, or a refusal (an RpcError with its own code, message,
//      data). A validator that does not define methods (a pure policy such as
//      a rate limit) accepts every name it has no objection to.
//   2. checkParams(context, name, params) — a list of {path, message}
//      errors; a non-empty list refuses the call with -32602.
// The first refusal stops the call; its error goes to the client unchanged,
// with the refusing validator's name(). When a call has no params, `params`
// is an undefined QJsonValue.
//
// Threading: castToMethod() and checkParams() are called on worker threads,
// many at once, so they must be thread-safe. configure() is called before the
// first call and again when validators are reloaded at run time, possibly
// while calls are in flight: check the settings fully, then apply them
// atomically, and leave the old settings in force when they are rejected.

#include "rpcengine.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>
#include <QtPlugin>

// One method as a validator knows it (the seed's "case").
struct MethodCase
{
    QString name;
    QString description;
    QJsonValue paramsSchema; // JSON Schema of the params; undefined: any params
};

// One reason why params were rejected. `path` is a JSON Pointer into the
// params ("" is the params themselves, "/topic", "/0").
struct ParamsError
{
    QString path;
    QString message;

    QJsonObject toJson() const { return {{"path", path}, {"message", message}}; }
    static QJsonArray toJson(const QList<ParamsError> &errors)
    {
        QJsonArray array;
        for (const ParamsError &e : errors)
            array.append(e.toJson());
        return array;
    }
};

// The answer to castToMethod(): the method, or a refusal.
struct MethodCast
{
    bool refused = false;
    RpcError error;    // when refused; refusedBy is filled in by the chain
    MethodCase method; // when accepted; may be empty for validators that define no methods

    static MethodCast accept(MethodCase method = {})
    {
        MethodCast cast;
        cast.method = std::move(method);
        return cast;
    }
    static MethodCast refuse(int code, const QString &message, const QJsonValue &data = QJsonValue(QJsonValue::Undefined))
    {
        MethodCast cast;
        cast.refused = true;
        cast.error.code = code;
        cast.error.message = message;
        cast.error.data = data;
        return cast;
    }
};

class MethodValidator
{
public:
    virtual ~MethodValidator() = default;

    // Unique among the validators loaded; used in the configured order, in
    // validatorSettings and as RpcError::refusedBy. Lower case, no spaces.
    virtual QString name() const = 0;

    // Settings from the server config (validatorSettings[name()]; {} when
    // none). Return false with a short reason to reject them. The default
    // takes no settings, so a typo in the config does not pass silently.
    virtual bool configure(const QJsonObject &settings, QString *error)
    {
        if (settings.isEmpty())
            return true;
        if (error)
            *error = QStringLiteral("takes no settings");
        return false;
    }

    // The methods this validator defines (may be empty for pure policies).
    virtual QList<MethodCase> cases() const = 0;

    // The names of cases(), in the same order.
    virtual QStringList names() const
    {
        QStringList list;
        for (const MethodCase &c : cases())
            list << c.name;
        return list;
    }

    // Cast a called name to a method, or refuse the call.
    virtual MethodCast castToMethod(const CallContext &context, const QString &name) const = 0;

    // Errors in the params of an accepted method; empty: the params are fine.
    virtual QList<ParamsError> checkParams(const CallContext &context, const QString &name,
                                           const QJsonValue &params) const
    {
        Q_UNUSED(context)
        Q_UNUSED(name)
        Q_UNUSED(params)
        return {};
    }

    // The connection is gone: forget whatever was kept for it.
    virtual void connectionClosed(quint64 connectionId) { Q_UNUSED(connectionId) }
};

#define SwitchboardMethodValidator_iid "org.switchboard.MethodValidator/1.0"
Q_DECLARE_INTERFACE(MethodValidator, SwitchboardMethodValidator_iid)
