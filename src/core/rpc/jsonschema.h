#pragma once

#include "methodvalidator.h"

#include <QJsonValue>
#include <QList>
#include <QString>

#include <memory>

// A compiled JSON Schema (draft 7, through valijson) that checks a value and
// says where it fails. Immutable once compiled, so one instance serves every
// worker thread at once.
class JsonSchema
{
public:
    // At most this many errors are listed; more are summed up in one entry.
    static constexpr int MaxErrors = 20;
    // Values with more nodes than this get one summary error instead of a
    // full list: listing every failing element of a huge array would cost
    // far more memory than the message itself.
    static constexpr int MaxDetailedNodes = 10'000;

    ~JsonSchema();

    // `schema` must be an object or a boolean; nullptr with the reason when
    // it does not compile (unknown type name, remote $ref, wrong shapes...).
    static std::shared_ptr<const JsonSchema> compile(const QJsonValue &schema, QString *error);

    const QJsonValue &source() const { return m_source; }

    bool accepts(const QJsonValue &value) const;
    // Empty when `value` is valid. Paths are JSON Pointers ("" is the value itself).
    QList<ParamsError> check(const QJsonValue &value) const;

private:
    struct Compiled;
    JsonSchema(QJsonValue source, std::unique_ptr<Compiled> compiled);

    QJsonValue m_source;
    std::unique_ptr<Compiled> m_compiled;
};
