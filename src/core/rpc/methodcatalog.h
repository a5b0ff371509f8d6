#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

class JsonSchema;

// One method as the catalog file declares it.
struct CatalogMethod
{
    QString name;
    QString description;
    QJsonValue params;   // JSON Schema of the params; undefined: any params
    QJsonValue result;   // JSON Schema of the result, for rpc.discover only; undefined: any
    bool enabled = true; // the default; a persisted switch overrides it
    std::shared_ptr<const JsonSchema> paramsSchema; // compiled `params`; null: any params
};

// The methods the server offers, read from a JSON file:
//   {"methods": [{"name": "sum", "description": "...", "params": {schema},
//                 "result": {schema}, "enabled": true}, ...]}
// Only "name" is required. Immutable after loading, so it is shared freely
// between threads.
class MethodCatalog
{
public:
    // The catalog compiled into the binary (resources/catalog.json).
    static QString bundledFile() { return QStringLiteral(":/switchboard/catalog.json"); }
    static constexpr qint64 MaxFileBytes = 4 * 1024 * 1024;

    // Reads `file` (empty: the bundled catalog). On failure: nullopt and one
    // line naming the file and the reason.
    static std::optional<MethodCatalog> load(const QString &file, QString *error);
    // Parses catalog JSON; `source` names it in error messages.
    static std::optional<MethodCatalog> parse(const QByteArray &json, const QString &source, QString *error);

    QString source() const { return m_source; }
    const QList<CatalogMethod> &methods() const { return m_methods; }
    QStringList names() const;
    // Null when the catalog has no such method.
    const CatalogMethod *find(const QString &name) const;

private:
    QString m_source;
    QList<CatalogMethod> m_methods;
    QHash<QString, int> m_index; // name → position in m_methods
};
