#include "rpc/wirejson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QVariant>

#include <charconv>
#include <cmath>

namespace WireJson {

namespace {
bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// `pos` is at the opening quote; returns the index after the closing quote.
qsizetype skipString(QByteArrayView text, qsizetype pos)
{
    const qsizetype n = text.size();
    const char *d = text.data();
    for (qsizetype i = pos + 1; i < n; ++i) {
        if (d[i] == '\\')
            ++i;
        else if (d[i] == '"')
            return i + 1;
    }
    return n;
}

// `pos` is at the first byte of a value; returns the index after it. Iterative,
// so nesting depth costs no stack.
qsizetype skipValue(QByteArrayView text, qsizetype pos)
{
    const qsizetype n = text.size();
    const char *d = text.data();
    if (pos >= n)
        return n;
    const char first = d[pos];
    if (first == '"')
        return skipString(text, pos);
    if (first == '{' || first == '[') {
        qsizetype depth = 0;
        qsizetype i = pos;
        while (i < n) {
            const char c = d[i];
            if (c == '"') {
                i = skipString(text, i);
                continue;
            }
            if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return i + 1;
            }
            ++i;
        }
        return n;
    }
    qsizetype i = pos;
    while (i < n) {
        const char c = d[i];
        if (c == ',' || c == ']' || c == '}' || c == ':' || isSpace(c))
            break;
        ++i;
    }
    return i;
}

bool keyEquals(QByteArrayView rawKey, QLatin1String key)
{
    // rawKey is the text between the quotes.
    if (!rawKey.contains('\\'))
        return rawKey == QByteArrayView(key.data(), key.size());
    // An escaped key ("\u0069d") is rare: let Qt decode it.
    QByteArray probe;
    probe.reserve(rawKey.size() + 4);
    probe += "[\"";
    probe += rawKey;
    probe += "\"]";
    const QJsonDocument doc = QJsonDocument::fromJson(probe);
    return doc.isArray() && doc.array().at(0).toString() == key;
}

void appendEscapedUnit(QByteArray &out, char16_t unit)
{
    static const char hex[] = "0123456789abcdef";
    const char esc[6] = {'\\', 'u', hex[(unit >> 12) & 0xF], hex[(unit >> 8) & 0xF], hex[(unit >> 4) & 0xF],
                         hex[unit & 0xF]};
    out.append(esc, 6);
}
} // namespace

void appendString(QByteArray &out, QStringView text)
{
    out.reserve(out.size() + text.size() + 2);
    out += '"';
    const char16_t *p = text.utf16();
    const qsizetype n = text.size();
    char buf[256];
    int len = 0;
    const auto flush = [&] {
        out.append(buf, len);
        len = 0;
    };
    for (qsizetype i = 0; i < n; ++i) {
        if (len > int(sizeof(buf)) - 8)
            flush();
        const char16_t c = p[i];
        if (c >= 0x20 && c < 0x80) {
            if (c == '"' || c == '\\')
                buf[len++] = '\\';
            buf[len++] = char(c);
        } else if (c < 0x20) {
            buf[len++] = '\\';
            switch (c) {
            case '\b': buf[len++] = 'b'; break;
            case '\f': buf[len++] = 'f'; break;
            case '\n': buf[len++] = 'n'; break;
            case '\r': buf[len++] = 'r'; break;
            case '\t': buf[len++] = 't'; break;
            default:
                --len;
                flush();
                appendEscapedUnit(out, c);
                break;
            }
        } else if (c < 0x800) {
            buf[len++] = char(0xC0 | (c >> 6));
            buf[len++] = char(0x80 | (c & 0x3F));
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            if (c <= 0xDBFF && i + 1 < n && p[i + 1] >= 0xDC00 && p[i + 1] <= 0xDFFF) {
                const char32_t cp = 0x10000 + ((char32_t(c) - 0xD800) << 10) + (char32_t(p[i + 1]) - 0xDC00);
                ++i;
                buf[len++] = char(0xF0 | (cp >> 18));
                buf[len++] = char(0x80 | ((cp >> 12) & 0x3F));
                buf[len++] = char(0x80 | ((cp >> 6) & 0x3F));
                buf[len++] = char(0x80 | (cp & 0x3F));
            } else {
                flush();
                appendEscapedUnit(out, c); // a lone surrogate survives as an escape
            }
        } else {
            buf[len++] = char(0xE0 | (c >> 12));
            buf[len++] = char(0x80 | ((c >> 6) & 0x3F));
            buf[len++] = char(0x80 | (c & 0x3F));
        }
    }
    flush();
    out += '"';
}

void appendValue(QByteArray &out, const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        out += "null";
        return;
    case QJsonValue::Bool:
        out += value.toBool() ? "true" : "false";
        return;
    case QJsonValue::String:
        appendString(out, value.toString());
        return;
    case QJsonValue::Double:
        // As Qt's writer does: by how the number is stored (QJsonValue keeps
        // integral doubles up to 2^53, parsed integers and qint64 values as
        // integers; 1e16 stays a double and prints as 1e+16).
        if (value.toVariant().typeId() == QMetaType::LongLong) {
            char digits[24];
            const std::to_chars_result end = std::to_chars(digits, digits + sizeof digits, value.toInteger());
            out.append(digits, end.ptr - digits);
        } else {
            const double d = value.toDouble();
            if (std::isfinite(d))
                out += QByteArray::number(d, 'g', QLocale::FloatingPointShortest);
            else
                out += "null";
        }
        return;
    case QJsonValue::Array: {
        // Written directly, element by element: no QJsonDocument, no copy.
        const QJsonArray array = value.toArray();
        out += '[';
        bool first = true;
        for (const QJsonValue element : array) {
            if (!first)
                out += ',';
            first = false;
            appendValue(out, element);
        }
        out += ']';
        return;
    }
    case QJsonValue::Object: {
        // QJsonObject iterates in key order, as Qt's writer writes.
        const QJsonObject object = value.toObject();
        out += '{';
        for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
            if (it != object.constBegin())
                out += ',';
            appendString(out, it.key());
            out += ':';
            appendValue(out, it.value());
        }
        out += '}';
        return;
    }
    }
    out += "null";
}

QByteArray toJson(const QJsonValue &value)
{
    QByteArray out;
    appendValue(out, value);
    return out;
}

bool isStrictNumber(QByteArrayView text)
{
    const qsizetype n = text.size();
    const char *d = text.data();
    qsizetype i = 0;
    if (i < n && d[i] == '-')
        ++i;
    if (i >= n)
        return false;
    if (d[i] == '0') {
        ++i;
    } else if (d[i] >= '1' && d[i] <= '9') {
        while (i < n && isDigit(d[i]))
            ++i;
    } else {
        return false;
    }
    if (i < n && d[i] == '.') {
        ++i;
        const qsizetype start = i;
        while (i < n && isDigit(d[i]))
            ++i;
        if (i == start)
            return false;
    }
    if (i < n && (d[i] == 'e' || d[i] == 'E')) {
        ++i;
        if (i < n && (d[i] == '+' || d[i] == '-'))
            ++i;
        const qsizetype start = i;
        while (i < n && isDigit(d[i]))
            ++i;
        if (i == start)
            return false;
    }
    return i == n;
}

QString parseErrorMessage(const QJsonParseError &error)
{
    return QStringLiteral("%1 at offset %2").arg(error.errorString()).arg(error.offset);
}

bool isJsonScalar(const QByteArray &text)
{
    const qsizetype start = skipWhitespace(text, 0);
    if (start >= text.size() || text.at(start) == '{' || text.at(start) == '[')
        return false;
    QByteArray wrapped;
    wrapped.reserve(text.size() + 2);
    wrapped += '[';
    wrapped += text;
    wrapped += ']';
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(wrapped, &error);
    return error.error == QJsonParseError::NoError && doc.array().size() == 1;
}

QString clampUtf8(const QString &text, int maxBytes)
{
    // Cheap exit: every UTF-16 unit is at most 3 bytes of UTF-8.
    if (text.size() * 3 <= maxBytes)
        return text;
    QByteArray utf8 = text.toUtf8();
    if (utf8.size() <= maxBytes)
        return text;
    qsizetype n = maxBytes;
    while (n > 0 && (static_cast<unsigned char>(utf8.at(n)) & 0xC0) == 0x80)
        --n;
    utf8.truncate(n);
    return QString::fromUtf8(utf8);
}

qsizetype skipWhitespace(QByteArrayView text, qsizetype pos)
{
    const qsizetype n = text.size();
    while (pos < n && isSpace(text.data()[pos]))
        ++pos;
    return pos;
}

Span findMember(QByteArrayView text, qsizetype objectBegin, QLatin1String key)
{
    Span found;
    const qsizetype n = text.size();
    const char *d = text.data();
    if (objectBegin < 0 || objectBegin >= n || d[objectBegin] != '{')
        return found;
    qsizetype i = objectBegin + 1;
    while (true) {
        i = skipWhitespace(text, i);
        if (i >= n || d[i] != '"')
            return found; // '}' or malformed
        const qsizetype keyEnd = skipString(text, i);
        const QByteArrayView rawKey = text.sliced(i + 1, std::max<qsizetype>(0, std::min(keyEnd, n) - i - 2));
        i = skipWhitespace(text, keyEnd);
        if (i >= n || d[i] != ':')
            return found;
        i = skipWhitespace(text, i + 1);
        const qsizetype valueBegin = i;
        i = skipValue(text, i);
        if (i > valueBegin && keyEquals(rawKey, key))
            found = Span{valueBegin, i - valueBegin};
        i = skipWhitespace(text, i);
        if (i >= n || d[i] != ',')
            return found;
        ++i;
    }
}

bool arrayElements(QByteArrayView text, qsizetype arrayBegin, std::vector<Span> &elements,
                   qsizetype maxElements)
{
    const qsizetype n = text.size();
    const char *d = text.data();
    if (arrayBegin < 0 || arrayBegin >= n || d[arrayBegin] != '[')
        return false;
    qsizetype i = skipWhitespace(text, arrayBegin + 1);
    if (i < n && d[i] == ']')
        return true;
    while (i < n && qsizetype(elements.size()) < maxElements) {
        const qsizetype begin = i;
        i = skipValue(text, i);
        if (i <= begin)
            return false;
        elements.push_back(Span{begin, i - begin});
        i = skipWhitespace(text, i);
        if (i >= n || d[i] != ',')
            break;
        i = skipWhitespace(text, i + 1);
    }
    return true;
}

QByteArray idText(const QJsonValue &id, QByteArrayView rawValue)
{
    QByteArray out;
    switch (id.type()) {
    case QJsonValue::Null:
        out = QByteArrayLiteral("null");
        break;
    case QJsonValue::Double:
        if (!rawValue.isEmpty() && isStrictNumber(rawValue))
            out = rawValue.toByteArray();
        else
            appendValue(out, id);
        break;
    default:
        appendValue(out, id);
        break;
    }
    return out;
}

} // namespace WireJson
