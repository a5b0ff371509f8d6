#include "jsonschema.h"

#include "schemacycles.h"

// valijson reports errors through throwRuntimeError(); without exceptions it
// calls abort(), which a bad catalog must never do.
#ifndef VALIJSON_USE_EXCEPTIONS
#define VALIJSON_USE_EXCEPTIONS 1
#endif

#include <valijson/adapters/qtjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <QJsonArray>
#include <QJsonObject>
#include <QSet>

#include <exception>

struct JsonSchema::Compiled
{
    valijson::Schema schema;
};

namespace {

// Counts nodes, stopping early once over `limit`.
int countNodes(const QJsonValue &value, int limit)
{
    int n = 1;
    if (value.isArray()) {
        const QJsonArray array = value.toArray();
        for (const QJsonValue &v : array) {
            n += countNodes(v, limit - n);
            if (n > limit)
                break;
        }
    } else if (value.isObject()) {
        const QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end() && n <= limit; ++it)
            n += countNodes(it.value(), limit - n);
    }
    return n;
}

// valijson's context is {"<root>", "[0]", "[topic]", ...}; make a JSON Pointer.
QString jsonPointer(const std::vector<std::string> &context)
{
    QString pointer;
    for (size_t i = 1; i < context.size(); ++i) {
        QString token = QString::fromStdString(context[i]);
        if (token.size() >= 2 && token.startsWith(QLatin1Char('[')) && token.endsWith(QLatin1Char(']')))
            token = token.mid(1, token.size() - 2);
        token.replace(QLatin1Char('~'), QLatin1String("~0")).replace(QLatin1Char('/'), QLatin1String("~1"));
        pointer += QLatin1Char('/') + token;
    }
    return pointer;
}

} // namespace

JsonSchema::JsonSchema(QJsonValue source, std::unique_ptr<Compiled> compiled)
    : m_source(std::move(source))
    , m_compiled(std::move(compiled))
{
}

JsonSchema::~JsonSchema() = default;

std::shared_ptr<const JsonSchema> JsonSchema::compile(const QJsonValue &schema, QString *error)
{
    if (!schema.isObject() && !schema.isBool()) {
        *error = QStringLiteral("a schema must be a JSON object or a boolean");
        return nullptr;
    }
    // valijson recurses without end on these (at compile or validation time).
    if (SchemaCycles::find(schema)) {
        *error = QStringLiteral("the schema refers to itself without descending into the value "
                                "(a $ref, allOf/anyOf/oneOf, not or if/then/else cycle)");
        return nullptr;
    }
    auto compiled = std::make_unique<Compiled>();
    try {
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        const valijson::adapters::QtJsonAdapter adapter(schema);
        parser.populateSchema(adapter, compiled->schema);
    } catch (const std::exception &e) {
        *error = QString::fromStdString(e.what());
        return nullptr;
    }
    return std::shared_ptr<const JsonSchema>(new JsonSchema(schema, std::move(compiled)));
}

bool JsonSchema::accepts(const QJsonValue &value) const
{
    try {
        valijson::Validator validator; // holds a regex cache: one per call keeps this thread-safe
        return validator.validate(m_compiled->schema, valijson::adapters::QtJsonAdapter(value), nullptr);
    } catch (const std::exception &) {
        return false;
    }
}

QList<ParamsError> JsonSchema::check(const QJsonValue &value) const
{
    if (accepts(value))
        return {};
    if (countNodes(value, MaxDetailedNodes) > MaxDetailedNodes)
        return {{QString(), QStringLiteral("does not match the schema (too large to list each error)")}};

    valijson::ValidationResults results;
    try {
        valijson::Validator validator;
        validator.validate(m_compiled->schema, valijson::adapters::QtJsonAdapter(value), &results);
    } catch (const std::exception &e) {
        return {{QString(), QStringLiteral("schema check failed: %1").arg(QString::fromStdString(e.what()))}};
    }

    QList<ParamsError> errors;
    QSet<QString> seen;
    int more = 0;
    for (const valijson::ValidationResults::Error &e : results) {
        ParamsError error{jsonPointer(e.context), QString::fromStdString(e.description)};
        const QString key = error.path + QChar(0) + error.message;
        if (seen.contains(key))
            continue;
        seen.insert(key);
        if (errors.size() < MaxErrors)
            errors.append(std::move(error));
        else
            ++more;
    }
    if (more > 0)
        errors.append({QString(), QStringLiteral("%1 more errors not listed").arg(more)});
    if (errors.isEmpty()) // cannot happen with valijson, but never report "invalid" without a reason
        errors.append({QString(), QStringLiteral("does not match the schema")});
    return errors;
}
