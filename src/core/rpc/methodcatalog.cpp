#include "methodcatalog.h"

#include "jsonschema.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace {

// Method names travel in close reasons (dm-rpc, 123 bytes) and log lines.
constexpr int MaxNameLength = 100;

bool readMethod(const QJsonValue &entry, int index, CatalogMethod *method, QString *why)
{
    const QString where = QStringLiteral("methods[%1]").arg(index);
    if (!entry.isObject()) {
        *why = QStringLiteral("%1 is not an object").arg(where);
        return false;
    }
    const QJsonObject object = entry.toObject();
    static const QStringList known = {"name", "description", "params", "result", "enabled", "handler"};
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!known.contains(it.key())) {
            *why = QStringLiteral("%1 has the unknown key \"%2\" (known: %3)")
                       .arg(where, it.key(), known.join(QLatin1String(", ")));
            return false;
        }
    }

    const QJsonValue name = object.value(QLatin1String("name"));
    if (!name.isString() || name.toString().trimmed().isEmpty()) {
        *why = QStringLiteral("%1 needs a non-empty string \"name\"").arg(where);
        return false;
    }
    method->name = name.toString();
    if (method->name.size() > MaxNameLength || method->name != method->name.trimmed()) {
        *why = QStringLiteral("%1: the name \"%2\" is longer than %3 characters or has surrounding spaces")
                   .arg(where, method->name.left(MaxNameLength)).arg(MaxNameLength);
        return false;
    }
    const QString named = QStringLiteral("method \"%1\" (%2)").arg(method->name, where);

    const QJsonValue description = object.value(QLatin1String("description"));
    if (!description.isUndefined() && !description.isString()) {
        *why = QStringLiteral("%1: \"description\" must be a string").arg(named);
        return false;
    }
    method->description = description.toString();

    const QJsonValue enabled = object.value(QLatin1String("enabled"));
    if (!enabled.isUndefined() && !enabled.isBool()) {
        *why = QStringLiteral("%1: \"enabled\" must be true or false").arg(named);
        return false;
    }
    method->enabled = enabled.toBool(true);

    method->params = object.value(QLatin1String("params"));
    if (!method->params.isUndefined()) {
        QString schemaError;
        method->paramsSchema = JsonSchema::compile(method->params, &schemaError);
        if (!method->paramsSchema) {
            *why = QStringLiteral("%1: the \"params\" schema does not compile: %2").arg(named, schemaError);
            return false;
        }
    }
    const QJsonValue handler = object.value(QLatin1String("handler"));
    if (!handler.isUndefined()) {
        const QJsonObject h = handler.toObject();
        static const QList<QPair<QString, HandlerSpec::Kind>> kinds = {
            {"builtin", HandlerSpec::Kind::Builtin},
            {"upstream", HandlerSpec::Kind::Upstream},
            {"plugin", HandlerSpec::Kind::Plugin}};
        const auto kind = std::find_if(kinds.begin(), kinds.end(), [&](const auto &k) { return h.contains(k.first); });
        if (!handler.isObject() || h.size() != 1 || kind == kinds.end() || !h.value(kind->first).isString()
            || h.value(kind->first).toString().isEmpty()) {
            *why = QStringLiteral("%1: \"handler\" must be one of {\"builtin\": NAME}, {\"upstream\": NAME}, "
                                  "{\"plugin\": NAME}").arg(named);
            return false;
        }
        method->handler.kind = kind->second;
        method->handler.target = h.value(kind->first).toString();
    }

    method->result = object.value(QLatin1String("result"));
    if (!method->result.isUndefined()) {
        QString schemaError;
        if (!JsonSchema::compile(method->result, &schemaError)) {
            *why = QStringLiteral("%1: the \"result\" schema does not compile: %2").arg(named, schemaError);
            return false;
        }
    }
    return true;
}

} // namespace

std::optional<MethodCatalog> MethodCatalog::load(const QString &file, QString *error)
{
    const QString path = file.isEmpty() ? bundledFile() : file;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("catalog %1: cannot read it: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    if (f.size() > MaxFileBytes) {
        *error = QStringLiteral("catalog %1: larger than %2 bytes").arg(path).arg(MaxFileBytes);
        return std::nullopt;
    }
    const QByteArray json = f.read(MaxFileBytes + 1);
    if (f.error() != QFileDevice::NoError) {
        *error = QStringLiteral("catalog %1: cannot read it: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    if (json.size() > MaxFileBytes) { // a pipe or a growing file
        *error = QStringLiteral("catalog %1: larger than %2 bytes").arg(path).arg(MaxFileBytes);
        return std::nullopt;
    }
    return parse(json, path, error);
}

std::optional<MethodCatalog> MethodCatalog::parse(const QByteArray &json, const QString &source, QString *error)
{
    auto fail = [&](const QString &why) {
        *error = QStringLiteral("catalog %1: %2").arg(source, why);
        return std::nullopt;
    };

    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return fail(QStringLiteral("invalid JSON at offset %1: %2").arg(parseError.offset).arg(parseError.errorString()));
    if (!doc.isObject())
        return fail(QStringLiteral("the top level must be an object {\"methods\": [...]}"));
    const QJsonObject top = doc.object();
    for (auto it = top.begin(); it != top.end(); ++it) {
        if (it.key() != QLatin1String("methods") && it.key() != QLatin1String("upstreams")
            && it.key() != QLatin1String("upstream"))
            return fail(QStringLiteral("unknown top-level key \"%1\" (known: methods, upstreams, upstream)").arg(it.key()));
    }
    if (!top.value(QLatin1String("methods")).isArray())
        return fail(QStringLiteral("\"methods\" must be an array of method objects"));

    MethodCatalog catalog;
    catalog.m_source = source;
    const QJsonValue upstreams = top.value(QLatin1String("upstreams"));
    if (!upstreams.isUndefined() && !upstreams.isObject())
        return fail(QStringLiteral("\"upstreams\" must be an object of named upstreams"));
    const QJsonObject upstreamObject = upstreams.toObject();
    for (auto it = upstreamObject.begin(); it != upstreamObject.end(); ++it) {
        QString why;
        std::optional<UpstreamSpec> spec = UpstreamSpec::fromJson(it.key(), it.value(), &why);
        if (!spec)
            return fail(why);
        catalog.m_upstreams.append(std::move(*spec));
    }
    const auto upstreamNamed = [&catalog](const QString &name) {
        return std::any_of(catalog.m_upstreams.begin(), catalog.m_upstreams.end(),
                           [&](const UpstreamSpec &u) { return u.name == name; });
    };
    const QJsonValue defaultUpstream = top.value(QLatin1String("upstream"));
    if (!defaultUpstream.isUndefined()) {
        if (!defaultUpstream.isString() || !upstreamNamed(defaultUpstream.toString()))
            return fail(QStringLiteral("\"upstream\" must name one of \"upstreams\""));
        catalog.m_defaultUpstream = defaultUpstream.toString();
    }
    const QJsonArray entries = top.value(QLatin1String("methods")).toArray();
    for (int i = 0; i < entries.size(); ++i) {
        CatalogMethod method;
        QString why;
        if (!readMethod(entries.at(i), i, &method, &why))
            return fail(why);
        if (catalog.m_index.contains(method.name))
            return fail(QStringLiteral("duplicate method name \"%1\" (methods[%2] and methods[%3])")
                            .arg(method.name).arg(catalog.m_index.value(method.name)).arg(i));
        if (method.handler.kind == HandlerSpec::Kind::Upstream && !upstreamNamed(method.handler.target))
            return fail(QStringLiteral("method \"%1\" (methods[%2]): no upstream named \"%3\" in \"upstreams\"")
                            .arg(method.name).arg(i).arg(method.handler.target));
        catalog.m_index.insert(method.name, int(catalog.m_methods.size()));
        catalog.m_methods.append(std::move(method));
    }
    return catalog;
}

QStringList MethodCatalog::names() const
{
    QStringList list;
    for (const CatalogMethod &m : m_methods)
        list << m.name;
    return list;
}

const CatalogMethod *MethodCatalog::find(const QString &name) const
{
    const auto it = m_index.constFind(name);
    return it == m_index.cend() ? nullptr : &m_methods.at(*it);
}
