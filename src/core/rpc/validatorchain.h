#pragma once

#include "methodvalidator.h"

#include <QJsonObject>
#include <QList>
#include <QStringList>

#include <memory>

// The validators in force, in their configured order. Every call passes
// through each one (castToMethod, then checkParams); the first refusal stops
// the call and carries the refusing validator's name. Immutable once built:
// a reload builds a new chain and swaps it in whole.
class ValidatorChain
{
public:
    struct Verdict
    {
        bool accepted = true;
        RpcError error;    // when refused; refusedBy names the validator
        MethodCase method; // when accepted: the first case a validator returned
    };

    explicit ValidatorChain(QList<std::shared_ptr<MethodValidator>> validators);

    // Picks the validators in force from `available` (in their default order):
    // all of them when `order` is empty, else exactly those named, in that
    // order. Fails on duplicate validator names, on names in `order` that are
    // not available, and on a name given twice.
    static std::shared_ptr<ValidatorChain> assemble(const QList<std::shared_ptr<MethodValidator>> &available,
                                                    const QStringList &order, QString *error);

    // Hands each validator in force its settings (settings[name], {} when
    // absent). Fails when `settings` names a validator not in `known`, when
    // a value is not an object, or when a validator rejects its settings;
    // the validators before the failing one keep their new settings.
    bool configure(const QJsonObject &settings, const QStringList &known, QString *error) const;

    Verdict check(const CallContext &context, const QString &method, const QJsonValue &params) const;

    QStringList names() const;
    const QList<std::shared_ptr<MethodValidator>> &validators() const { return m_validators; }
    // The union of the validators' cases; the first validator to define a name wins.
    QList<MethodCase> cases() const;
    void connectionClosed(quint64 connectionId) const;

private:
    QList<std::shared_ptr<MethodValidator>> m_validators;
};
