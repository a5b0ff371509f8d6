#include "openrpcdocument.h"

#include "methodcatalog.h"

#include <QJsonArray>

namespace {

QJsonObject descriptor(const QString &name, const QJsonValue &schema, bool required)
{
    QJsonObject d{{"name", name}, {"schema", schema.isObject() || schema.isBool() ? schema : QJsonValue(QJsonObject())}};
    if (required)
        d.insert("required", true);
    const QString description = schema.toObject().value(QLatin1String("description")).toString();
    if (!description.isEmpty())
        d.insert("description", description);
    return d;
}

// OpenRPC content descriptors for a params schema, and how they are passed.
void describeParams(const QJsonValue &schema, QJsonArray *params, QString *structure)
{
    const QJsonObject object = schema.toObject();
    const QJsonValue properties = object.value(QLatin1String("properties"));
    const QJsonValue items = object.value(QLatin1String("items"));
    if (properties.isObject()) {
        const QJsonArray required = object.value(QLatin1String("required")).toArray();
        const QJsonObject props = properties.toObject();
        for (auto it = props.begin(); it != props.end(); ++it)
            params->append(descriptor(it.key(), it.value(), required.contains(it.key())));
        *structure = QStringLiteral("by-name");
    } else if (items.isArray()) { // a tuple: one descriptor per position
        const QJsonArray tuple = items.toArray();
        const int minItems = object.value(QLatin1String("minItems")).toInt(0);
        for (int i = 0; i < tuple.size(); ++i) {
            const QString title = tuple.at(i).toObject().value(QLatin1String("title")).toString();
            params->append(descriptor(title.isEmpty() ? QStringLiteral("param%1").arg(i + 1) : title, tuple.at(i),
                                      i < minItems));
        }
        *structure = QStringLiteral("by-position");
    } else if (items.isObject() || items.isBool()) { // any number of values of one kind
        const QString title = items.toObject().value(QLatin1String("title")).toString();
        params->append(descriptor(title.isEmpty() ? QStringLiteral("values") : title, items, false));
        *structure = QStringLiteral("by-position");
    } else {
        *structure = QStringLiteral("either");
    }
}

} // namespace

QJsonObject OpenRpcDocument::build(const MethodCatalog &catalog, const QStringList &methods)
{
    QJsonArray list;
    for (const QString &name : methods) {
        const CatalogMethod *method = catalog.find(name);
        if (!method)
            continue;
        QJsonArray params;
        QString structure;
        describeParams(method->params, &params, &structure);
        QJsonObject entry{
            {"name", method->name},
            {"params", params},
            {"paramStructure", structure},
            {"result", descriptor(method->name + QLatin1String(".result"), method->result, false)},
            {"x-params-schema", method->params.isUndefined() ? QJsonValue(QJsonObject()) : method->params},
        };
        if (!method->description.isEmpty())
            entry.insert("description", method->description);
        list.append(entry);
    }
    return QJsonObject{
        {"openrpc", QLatin1String(Version)},
        {"info", QJsonObject{
                     {"title", "Switchboard"},
                     {"version", QStringLiteral(SWITCHBOARD_VERSION)},
                     {"description", "The methods this server answers right now (switched-on methods only)."},
                 }},
        {"methods", list},
    };
}
