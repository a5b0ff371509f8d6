#pragma once

#include "methodvalidator.h"

#include <memory>

class MethodCatalog;
class MethodRegistry;

// The built-in validator, named "catalog": a method exists when the catalog
// lists it, runs only while its switch is on, and its params must satisfy
// the catalog's JSON Schema. It is always in force.
//   unknown name      → -32601 "Method not found", data {"reason":"unknown"}
//   switched off      → -32601 "Method not found", data {"reason":"disabled"}
//   params rejected   → -32602 "Invalid params",   data [{path, message}...]
class CatalogValidator : public MethodValidator
{
public:
    static QString validatorName() { return QStringLiteral("catalog"); }

    // `registry` holds the switches; both must outlive the validator.
    CatalogValidator(std::shared_ptr<const MethodCatalog> catalog, const MethodRegistry *registry);

    QString name() const override { return validatorName(); }
    QList<MethodCase> cases() const override;
    MethodCast castToMethod(const CallContext &context, const QString &name) const override;
    // Absent params are checked as null.
    QList<ParamsError> checkParams(const CallContext &context, const QString &name,
                                   const QJsonValue &params) const override;

private:
    std::shared_ptr<const MethodCatalog> m_catalog;
    const MethodRegistry *m_registry;
};
