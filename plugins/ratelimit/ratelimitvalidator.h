#pragma once

// Example validator plugin, and the template for writing one.
//
// A validator plugin is a Qt plugin whose root object implements
// MethodValidator (rpc/methodvalidator.h):
//   class MyValidator : public QObject, public MethodValidator {
//       Q_OBJECT
//       Q_PLUGIN_METADATA(IID SwitchboardMethodValidator_iid FILE "my.json")
//       Q_INTERFACES(MethodValidator)
//       ...
//   };
// built with qt_add_plugin() and linked to switchboard_validator_api. Put the
// library in the directory given to `switchboard --plugins DIR`; its name()
// is how the config file orders it ("validators") and configures it
// ("validatorSettings": {"<name>": {...}}).
//
// This one, "ratelimit", is a pure policy: it defines no methods and refuses
// calls over a per-connection rate, with its own error:
//   -32029 "rate limited", data {"retryAfterMs": <ms until the next call may pass>}
// Settings (all optional):
//   "callsPerSecond": number > 0      (default 20)  — sustained rate
//   "burst":          integer >= 1    (default 40)  — calls allowed at once
//   "methods":        [names]         (default all) — only these are limited
//   "code":           integer         (default -32029)

#include "methodvalidator.h"

#include <QHash>
#include <QMutex>
#include <QObject>
#include <QSet>

class RateLimitValidator : public QObject, public MethodValidator
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID SwitchboardMethodValidator_iid FILE "ratelimit.json")
    Q_INTERFACES(MethodValidator)

public:
    // Buckets of more connections than this are pruned when full (a full
    // bucket carries no information), so memory stays bounded even if
    // connectionClosed() were never called.
    static constexpr int MaxTrackedConnections = 100'000;

    QString name() const override { return QStringLiteral("ratelimit"); }
    bool configure(const QJsonObject &settings, QString *error) override;
    QList<MethodCase> cases() const override { return {}; }
    MethodCast castToMethod(const CallContext &context, const QString &name) const override;
    void connectionClosed(quint64 connectionId) override;

private:
    struct Settings
    {
        double callsPerSecond = 20;
        double burst = 40;
        QSet<QString> methods; // empty: every method
        int code = -32029;
    };
    struct Bucket
    {
        double tokens = 0;
        qint64 refilledNs = 0;
    };
    void prune(qint64 nowNs) const;

    mutable QMutex m_mutex; // guards everything below
    Settings m_settings;
    mutable QHash<quint64, Bucket> m_buckets;
};
