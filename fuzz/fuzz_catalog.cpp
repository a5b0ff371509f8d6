// libFuzzer target: the method catalog loader (MethodCatalog::parse), which
// also compiles every params schema through valijson, and the compiled
// schemas checking a few values (the catalog text itself among them).
//
// Schemas with a reference cycle that does not descend into the value used
// to make valijson recurse until the stack overflowed (docs/ROBUSTNESS.md,
// finding 1); JsonSchema::compile now refuses them (rpc/schemacycles.h).

#include "rpc/jsonschema.h"
#include "rpc/methodcatalog.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray json(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;
    const std::optional<MethodCatalog> catalog = MethodCatalog::parse(json, QStringLiteral("fuzz.json"), &error);
    if (!catalog) {
        if (error.isEmpty())
            __builtin_trap(); // a refusal must say why
        return 0;
    }
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    const QJsonValue self = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());
    const QJsonValue samples[] = {QJsonValue(), QJsonValue(1.5), QJsonValue(QStringLiteral("x")),
                                  QJsonArray{1, 2, 3}, QJsonObject{{"topic", "t"}, {"data", 1}}, self};
    for (const QString &name : catalog->names()) {
        const CatalogMethod *method = catalog->find(name);
        if (!method)
            __builtin_trap(); // every listed name is found
        if (!method->paramsSchema)
            continue;
        for (const QJsonValue &value : samples) {
            const QList<ParamsError> errors = method->paramsSchema->check(value);
            if (errors.isEmpty() != method->paramsSchema->accepts(value))
                __builtin_trap(); // check() and accepts() agree
        }
    }
    return 0;
}
