// libFuzzer target: the method catalog loader (MethodCatalog::parse), which
// also compiles every params schema through valijson, and the compiled
// schemas checking a few values (the catalog text itself among them).
//
// Known finding 1 (docs/ROBUSTNESS.md): schemas with a reference cycle that
// does not descend into the value make valijson recurse until the stack
// overflows. Such inputs are set aside (schemacycles.h) so the fuzzer keeps
// looking for other problems; FUZZ_CATALOG_KEEP_CYCLES=1 lets them through.

#include "rpc/jsonschema.h"
#include "schemacycles.h"
#include "rpc/methodcatalog.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {
bool knownCycle(const QByteArray &json)
{
    static const bool keep = std::getenv("FUZZ_CATALOG_KEEP_CYCLES") != nullptr;
    if (keep)
        return false;
    const QJsonArray methods = QJsonDocument::fromJson(json).object().value(QLatin1String("methods")).toArray();
    for (const QJsonValue &m : methods) {
        const QJsonObject method = m.toObject();
        for (const char *key : {"params", "result"}) {
            if (method.contains(QLatin1String(key)) && fuzz::SchemaCycles::find(method.value(QLatin1String(key))))
                return true;
        }
    }
    return false;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray json(reinterpret_cast<const char *>(data), qsizetype(size));
    if (knownCycle(json))
        return -1; // not added to the corpus
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
