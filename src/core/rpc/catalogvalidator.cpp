#include "catalogvalidator.h"

#include "jsonschema.h"
#include "methodcatalog.h"
#include "methodregistry.h"

CatalogValidator::CatalogValidator(std::shared_ptr<const MethodCatalog> catalog, const MethodRegistry *registry)
    : m_catalog(std::move(catalog))
    , m_registry(registry)
{
}

QList<MethodCase> CatalogValidator::cases() const
{
    QList<MethodCase> list;
    for (const CatalogMethod &m : m_catalog->methods())
        list.append({m.name, m.description, m.params});
    return list;
}

MethodCast CatalogValidator::castToMethod(const CallContext &context, const QString &name) const
{
    Q_UNUSED(context)
    const CatalogMethod *method = m_catalog->find(name);
    if (!method)
        return MethodCast::refuse(-32601, QStringLiteral("Method not found"), QJsonObject{{"reason", "unknown"}});
    if (!m_registry->isEnabled(name))
        return MethodCast::refuse(-32601, QStringLiteral("Method not found"), QJsonObject{{"reason", "disabled"}});
    return MethodCast::accept({method->name, method->description, method->params});
}

QList<ParamsError> CatalogValidator::checkParams(const CallContext &context, const QString &name,
                                                 const QJsonValue &params) const
{
    Q_UNUSED(context)
    const CatalogMethod *method = m_catalog->find(name);
    if (!method || !method->paramsSchema)
        return {};
    return method->paramsSchema->check(params.isUndefined() ? QJsonValue(QJsonValue::Null) : params);
}
