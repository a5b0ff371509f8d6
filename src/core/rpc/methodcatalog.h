#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

#include "upstream/upstreamspec.h"

#include <memory>
#include <optional>

class JsonSchema;

// What serves a method (PRODUCT.md section 7, the "handler" key).
struct HandlerSpec
{
    enum class Kind {
        Default,  // no "handler": the built-in of the method's name, else the catalog's default upstream
        Builtin,  // {"builtin": "echo"}
        Upstream, // {"upstream": "orders"}
        Plugin    // {"plugin": "kv"}
    };
    Kind kind = Kind::Default;
    QString target; // the built-in, upstream or plugin named
};

// One method as the catalog file declares it.
struct CatalogMethod
{
    QString name;
    QString description;
    QJsonValue params;   // JSON Schema of the params; undefined: any params
    QJsonValue result;   // JSON Schema of the result, for rpc.discover only; undefined: any
    bool enabled = true; // the default; a persisted switch overrides it
    HandlerSpec handler;
    std::shared_ptr<const JsonSchema> paramsSchema; // compiled `params`; null: any params
};

// The methods the server offers, read from a JSON file:
//   {"upstreams": {"orders": {"url": "http://127.0.0.1:9000/rpc", ...}},
//    "upstream": "orders",
//    "methods": [{"name": "sum", "description": "...", "params": {schema},
//                 "result": {schema}, "enabled": true,
//                 "handler": {"upstream": "orders"}}, ...]}
// Only "methods" and each method's "name" are required. Immutable after loading, so it is shared freely
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

    // The HTTP upstreams by name (catalog order), and the one that serves
    // methods with neither a built-in nor a "handler" (empty: none).
    const QList<UpstreamSpec> &upstreams() const { return m_upstreams; }
    QString defaultUpstream() const { return m_defaultUpstream; }

private:
    QString m_source;
    QList<CatalogMethod> m_methods;
    QHash<QString, int> m_index; // name → position in m_methods
    QList<UpstreamSpec> m_upstreams;
    QString m_defaultUpstream;
};
