// A test-only plugin whose root object is both a handler plugin and a
// validator, both named "probe"; its methods misbehave on purpose, by the
// last part of their name:
//   .ok       → answers {"method", "connection", "user"} inside handle()
//   .error    → its own error -32050 "probe error" data {"n": params}
//   .throw    → throws std::runtime_error("probe exploded")
//   .throwint → throws an int
//   .later    → answers params from another thread after 50 ms
//   .drop     → keeps no copy of the reply and never answers
//   .twice    → answers 1, then 2 (the second is ignored), then throws
//   .fail     → answers later from another thread with fail("backend gone")
// As a validator it refuses the method "probe.refused" with -32051.
#include "methodhandlerplugin.h"
#include "methodvalidator.h"

#include <QJsonObject>
#include <QObject>
#include <QtPlugin>

#include <chrono>
#include <stdexcept>
#include <thread>

class ProbePlugin : public QObject, public MethodHandlerPlugin, public MethodValidator
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID SwitchboardMethodHandler_iid FILE "testhandler.json")
    Q_INTERFACES(MethodHandlerPlugin MethodValidator)

public:
    QString name() const override { return QStringLiteral("probe"); }
    QList<MethodCase> cases() const override { return {}; }
    MethodCast castToMethod(const CallContext &, const QString &method) const override
    {
        if (method == QLatin1String("probe.refused"))
            return MethodCast::refuse(-32051, QStringLiteral("refused by probe"));
        return MethodCast::accept();
    }
    QStringList methods() const override { return {QStringLiteral("probe.ok"), QStringLiteral("probe.later")}; }

    void handle(const CallContext &context, const QString &method, const QJsonValue &params,
                HandlerReply reply) override
    {
        const QString verb = method.section(QLatin1Char('.'), -1);
        if (verb == QLatin1String("ok")) {
            reply.result(QJsonObject{{"method", method},
                                     {"connection", double(context.connectionId)},
                                     {"user", context.user}});
        } else if (verb == QLatin1String("error")) {
            reply.error(-32050, QStringLiteral("probe error"), QJsonObject{{"n", params}});
        } else if (verb == QLatin1String("throw")) {
            throw std::runtime_error("probe exploded");
        } else if (verb == QLatin1String("throwint")) {
            throw 42;
        } else if (verb == QLatin1String("later")) {
            std::thread([reply, params] {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                reply.result(params);
            }).detach();
        } else if (verb == QLatin1String("drop")) {
            // nothing: the reply goes with this function's copy
        } else if (verb == QLatin1String("twice")) {
            reply.result(1);
            reply.result(2);
            throw std::runtime_error("after the answer");
        } else if (verb == QLatin1String("fail")) {
            std::thread([reply] {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                reply.fail(QStringLiteral("backend gone"));
            }).detach();
        } else {
            reply.error(-32601, QStringLiteral("Method not found"));
        }
    }
};

#include "testhandlerplugin.moc"
