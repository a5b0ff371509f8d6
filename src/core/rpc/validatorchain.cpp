#include "validatorchain.h"

#include "methodslogging.h"

#include <QSet>

#include <exception>

namespace {

RpcError validatorFailure(const MethodValidator &validator, const char *what)
{
    // A throwing plugin is a server fault, not the client's.
    RpcError error;
    error.code = -32603;
    error.message = QStringLiteral("Internal error");
    error.data = QStringLiteral("validator %1 failed: %2").arg(validator.name(), QString::fromUtf8(what));
    error.refusedBy = validator.name();
    return error;
}

} // namespace

ValidatorChain::ValidatorChain(QList<std::shared_ptr<MethodValidator>> validators)
    : m_validators(std::move(validators))
{
}

std::shared_ptr<ValidatorChain> ValidatorChain::assemble(const QList<std::shared_ptr<MethodValidator>> &available,
                                                         const QStringList &order, QString *error)
{
    QHash<QString, std::shared_ptr<MethodValidator>> byName;
    QStringList names;
    for (const auto &v : available) {
        const QString name = v->name();
        if (byName.contains(name)) {
            *error = QStringLiteral("two validators are named \"%1\"").arg(name);
            return nullptr;
        }
        byName.insert(name, v);
        names << name;
    }
    if (order.isEmpty())
        return std::make_shared<ValidatorChain>(available);

    QList<std::shared_ptr<MethodValidator>> chosen;
    QSet<QString> seen;
    for (const QString &name : order) {
        if (!byName.contains(name)) {
            *error = QStringLiteral("the validator order names \"%1\", which is not loaded (loaded: %2)")
                         .arg(name, names.join(QLatin1String(", ")));
            return nullptr;
        }
        if (seen.contains(name)) {
            *error = QStringLiteral("the validator order names \"%1\" twice").arg(name);
            return nullptr;
        }
        seen.insert(name);
        chosen << byName.value(name);
    }
    return std::make_shared<ValidatorChain>(chosen);
}

bool ValidatorChain::configure(const QJsonObject &settings, const QStringList &known, QString *error) const
{
    for (auto it = settings.begin(); it != settings.end(); ++it) {
        if (!known.contains(it.key())) {
            *error = QStringLiteral("validatorSettings names \"%1\", which is not loaded (loaded: %2)")
                         .arg(it.key(), known.join(QLatin1String(", ")));
            return false;
        }
        if (!it.value().isObject()) {
            *error = QStringLiteral("validatorSettings.%1 must be an object").arg(it.key());
            return false;
        }
    }
    for (const auto &v : m_validators) {
        QString why;
        bool ok = false;
        try {
            ok = v->configure(settings.value(v->name()).toObject(), &why);
        } catch (const std::exception &e) {
            why = QString::fromUtf8(e.what());
        } catch (...) {
            why = QStringLiteral("unknown exception");
        }
        if (!ok) {
            *error = QStringLiteral("validator %1 rejects its settings: %2")
                         .arg(v->name(), why.isEmpty() ? QStringLiteral("no reason given") : why);
            return false;
        }
    }
    return true;
}

ValidatorChain::Verdict ValidatorChain::check(const CallContext &context, const QString &method,
                                              const QJsonValue &params) const
{
    Verdict verdict;
    for (const auto &validator : m_validators) {
        QList<ParamsError> paramsErrors;
        try {
            MethodCast cast = validator->castToMethod(context, method);
            if (cast.refused) {
                verdict.accepted = false;
                verdict.error = std::move(cast.error);
                verdict.error.refusedBy = validator->name();
                break;
            }
            if (verdict.method.name.isEmpty() && !cast.method.name.isEmpty())
                verdict.method = std::move(cast.method);
            paramsErrors = validator->checkParams(context, method, params);
        } catch (const std::exception &e) {
            verdict.accepted = false;
            verdict.error = validatorFailure(*validator, e.what());
            break;
        } catch (...) {
            verdict.accepted = false;
            verdict.error = validatorFailure(*validator, "unknown exception");
            break;
        }
        if (!paramsErrors.isEmpty()) {
            verdict.accepted = false;
            verdict.error.code = -32602;
            verdict.error.message = QStringLiteral("Invalid params");
            verdict.error.data = ParamsError::toJson(paramsErrors);
            verdict.error.refusedBy = validator->name();
            break;
        }
    }
    if (!verdict.accepted) {
        qCDebug(lcMethods).noquote() << "connection" << context.connectionId << "call" << method << "refused by"
                                     << verdict.error.refusedBy << verdict.error.code << verdict.error.message;
    }
    return verdict;
}

QStringList ValidatorChain::names() const
{
    QStringList list;
    for (const auto &v : m_validators)
        list << v->name();
    return list;
}

QList<MethodCase> ValidatorChain::cases() const
{
    QList<MethodCase> list;
    QSet<QString> seen;
    for (const auto &v : m_validators) {
        for (const MethodCase &c : v->cases()) {
            if (!seen.contains(c.name)) {
                seen.insert(c.name);
                list << c;
            }
        }
    }
    return list;
}

void ValidatorChain::connectionClosed(quint64 connectionId) const
{
    for (const auto &v : m_validators) {
        try {
            v->connectionClosed(connectionId);
        } catch (...) {
            qCWarning(lcMethods).noquote() << "validator" << v->name() << "threw on connectionClosed";
        }
    }
}
