#pragma once

#include <QJsonObject>
#include <QStringList>

class MethodCatalog;

// The answer to rpc.discover: an OpenRPC 1.2.6 document
// (https://spec.open-rpc.org/) of the catalog methods named in `methods`.
// Each method's params are derived from its JSON Schema: object properties
// become by-name params, array items by-position ones; the full schema is
// also given as "x-params-schema", since a content-descriptor list cannot say
// everything a schema can (e.g. "any number of numbers").
class OpenRpcDocument
{
public:
    static constexpr const char *Version = "1.2.6";
    static QJsonObject build(const MethodCatalog &catalog, const QStringList &methods);
};
