#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonValue>
#include <QString>

#include <vector>

struct QJsonParseError;

// Small JSON helpers for the wire protocols: writing replies without a
// QJsonDocument round trip, and finding the raw text of values in a message
// that QJsonDocument::fromJson has already accepted (so ids are echoed
// exactly as sent: `1.0` stays `1.0`, big integers keep every digit).
namespace WireJson {

// A byte range in a message.
struct Span
{
    qsizetype begin = -1;
    qsizetype length = 0;
    bool isValid() const { return begin >= 0; }
    QByteArrayView in(QByteArrayView text) const { return text.sliced(begin, length); }
};

// Appends `text` as a JSON string literal (quotes included). Lone surrogates
// are written as \uXXXX escapes, so every QString round-trips.
void appendString(QByteArray &out, QStringView text);
// Appends `value` as compact JSON, byte for byte what
// QJsonDocument::toJson(Compact) writes for it. Undefined is written as null.
void appendValue(QByteArray &out, const QJsonValue &value);
QByteArray toJson(const QJsonValue &value);

// Whether `text` is a number in the strict RFC 8259 grammar (Qt's parser
// also accepts forms such as `1.` and `.5`, which must not be echoed).
bool isStrictNumber(QByteArrayView text);

// "illegal value at offset 3"
QString parseErrorMessage(const QJsonParseError &error);

// Whether `text`, rejected by QJsonDocument::fromJson, is still valid JSON:
// a lone scalar such as `1` or `"x"` (QJsonDocument only takes objects and arrays).
bool isJsonScalar(const QByteArray &text);

// `text` cut to at most `maxBytes` bytes of UTF-8, never inside a character.
QString clampUtf8(const QString &text, int maxBytes);

// Index of the first non-whitespace byte at or after `pos`.
qsizetype skipWhitespace(QByteArrayView text, qsizetype pos);

// The value of the member `key` of the object whose '{' is at `objectBegin`,
// at that object's top level. The last occurrence wins, as in QJsonObject.
// Invalid span when absent. Never reads out of bounds, whatever the input.
Span findMember(QByteArrayView text, qsizetype objectBegin, QLatin1String key);

// The elements of the array whose '[' is at `arrayBegin`, in order; at most
// `maxElements`. Returns false if the text does not look like an array.
bool arrayElements(QByteArrayView text, qsizetype arrayBegin, std::vector<Span> &elements,
                   qsizetype maxElements);

// The JSON text to echo for a JSON-RPC/dm-rpc id: `null`, the string
// re-escaped, or a number exactly as it appears in `rawValue` (falls back to
// Qt's formatting when the raw text is missing or not a strict JSON number).
QByteArray idText(const QJsonValue &id, QByteArrayView rawValue);

} // namespace WireJson
