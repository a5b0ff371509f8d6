#include "front/requesthead.h"

#include <QString>

#include <cstring>

namespace {

bool isTokenChar(char c)
{
    // RFC 9110 tchar
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

bool isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

// Header names compare case-insensitively; most differ in length already.
bool sameName(const QByteArray &a, QByteArrayView b)
{
    return a.size() == b.size() && QByteArrayView(a).compare(b, Qt::CaseInsensitive) == 0;
}

bool isFieldValue(QByteArrayView s)
{
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && u != '\t') || u == 0x7f)
            return false;
    }
    return true;
}

} // namespace

RequestHead::Status RequestHead::scan(const QByteArray &data, int maxHeadBytes, int *headLength)
{
    // The first CR LF CR LF, found from the line feeds (memchr) rather than
    // by a general substring search.
    const char *const bytes = data.constData();
    const qsizetype size = data.size();
    qsizetype end = -1;
    for (qsizetype from = 3; from < size;) {
        const auto *lf = static_cast<const char *>(memchr(bytes + from, '\n', size_t(size - from)));
        if (!lf)
            break;
        const qsizetype at = lf - bytes;
        if (bytes[at - 1] == '\r' && bytes[at - 2] == '\n' && bytes[at - 3] == '\r') {
            end = at - 3;
            break;
        }
        from = at + 1;
    }
    if (end >= 0 && end + 4 <= maxHeadBytes) {
        *headLength = int(end + 4);
        return Status::Complete;
    }
    if (end >= 0 || size >= maxHeadBytes)
        return Status::TooLarge;
    // A bare LF line ending or a NUL byte can never become a valid head: refuse early
    // rather than wait for the timeout.
    for (qsizetype i = 0; i < size; ++i) {
        if (bytes[i] == '\0' || (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r')))
            return Status::Malformed;
    }
    return Status::Incomplete;
}

bool RequestHead::parse(QByteArrayView head, RequestHead *out, QString *error)
{
    // One pass over the bytes without intermediate lists or copies: this runs
    // on the accept thread ahead of every request and WebSocket handshake.
    // The head ends with CRLF CRLF: the lines are what lies before the
    // second-to-last LF, each ending in CR LF.
    const char *const data = head.constData();
    const qsizetype lastLf = head.lastIndexOf('\n');
    const qsizetype linesEnd = lastLf > 0 ? head.lastIndexOf('\n', lastLf - 1) : -1;
    if (linesEnd < 0) {
        *error = QStringLiteral("empty request");
        return false;
    }
    out->longestLine = 0;
    qsizetype fields = 0;
    for (qsizetype begin = 0;; ++fields) {
        const qsizetype lf = head.indexOf('\n', begin); // at most linesEnd
        if (lf == begin || data[lf - 1] != '\r') {
            *error = QStringLiteral("line not terminated by CRLF");
            return false;
        }
        out->longestLine = qMax(out->longestLine, int(lf - 1 - begin));
        if (lf == linesEnd)
            break;
        begin = lf + 1;
    }

    const qsizetype requestLineEnd = head.indexOf('\n');
    const QByteArrayView requestLine(data, requestLineEnd - 1);
    const qsizetype firstSpace = requestLine.indexOf(' ');
    const qsizetype secondSpace = firstSpace < 0 ? -1 : requestLine.indexOf(' ', firstSpace + 1);
    if (secondSpace < 0 || requestLine.indexOf(' ', secondSpace + 1) >= 0) {
        *error = QStringLiteral("malformed request line");
        return false;
    }
    const QByteArrayView method = requestLine.first(firstSpace);
    const QByteArrayView target = requestLine.sliced(firstSpace + 1, secondSpace - firstSpace - 1);
    const QByteArrayView version = requestLine.sliced(secondSpace + 1);
    out->method = method.toByteArray();
    out->target = target.toByteArray();
    out->version = version.toByteArray();
    if (!isToken(method)) {
        *error = QStringLiteral("malformed method");
        return false;
    }
    if (target.isEmpty() || (!target.startsWith('/') && target != "*")) {
        *error = QStringLiteral("request target must be an absolute path");
        return false;
    }
    for (char c : target) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) {
            *error = QStringLiteral("request target has an invalid character");
            return false;
        }
    }
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        *error = QStringLiteral("unsupported HTTP version");
        return false;
    }

    out->headers.clear();
    out->headers.reserve(fields);
    for (qsizetype begin = requestLineEnd + 1; requestLineEnd < linesEnd;) {
        const qsizetype lf = head.indexOf('\n', begin);
        const QByteArrayView line(data + begin, lf - 1 - begin); // without its CR
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) {
            *error = QStringLiteral("malformed header line");
            return false;
        }
        const QByteArrayView name = line.first(colon);
        const QByteArrayView value = line.sliced(colon + 1).trimmed();
        // No space before the colon (RFC 9112 section 5.1) and no obsolete folding.
        if (!isToken(name)) {
            *error = QStringLiteral("malformed header name");
            return false;
        }
        if (!isFieldValue(value)) {
            *error = QStringLiteral("header %1 has a control character").arg(QLatin1String(name.data(), name.size()));
            return false;
        }
        out->headers.append({name.toByteArray(), value.toByteArray()});
        if (lf == linesEnd)
            break;
        begin = lf + 1;
    }
    if (out->version == "HTTP/1.1" && out->headerCount("host") != 1) {
        *error = QStringLiteral("HTTP/1.1 request needs exactly one Host header");
        return false;
    }
    return true;
}

QByteArray RequestHead::path() const
{
    const qsizetype q = target.indexOf('?');
    return q < 0 ? target : target.left(q);
}

QUrlQuery RequestHead::query() const
{
    const qsizetype q = target.indexOf('?');
    return q < 0 ? QUrlQuery() : QUrlQuery(QString::fromLatin1(target.mid(q + 1)));
}

QByteArray RequestHead::header(QByteArrayView name) const
{
    for (const auto &h : headers) {
        if (sameName(h.first, name))
            return h.second;
    }
    return QByteArray();
}

template<typename Visit>
bool RequestHead::forEachToken(QByteArrayView name, Visit visit) const
{
    for (const auto &h : headers) {
        if (!sameName(h.first, name))
            continue;
        QByteArrayView rest(h.second);
        while (true) {
            const qsizetype comma = rest.indexOf(',');
            const QByteArrayView token = (comma < 0 ? rest : rest.first(comma)).trimmed();
            if (!token.isEmpty() && visit(token))
                return true;
            if (comma < 0)
                break;
            rest = rest.sliced(comma + 1);
        }
    }
    return false;
}

QList<QByteArray> RequestHead::headerTokens(QByteArrayView name) const
{
    QList<QByteArray> tokens;
    forEachToken(name, [&](QByteArrayView token) {
        tokens.append(token.toByteArray());
        return false;
    });
    return tokens;
}

int RequestHead::headerCount(QByteArrayView name) const
{
    int n = 0;
    for (const auto &h : headers)
        n += sameName(h.first, name);
    return n;
}

bool RequestHead::hasToken(QByteArrayView name, QByteArrayView token) const
{
    return forEachToken(name, [&](QByteArrayView t) { return t.compare(token, Qt::CaseInsensitive) == 0; });
}

bool RequestHead::keepAlive() const
{
    if (hasToken("connection", "close"))
        return false;
    return version == "HTTP/1.1" || hasToken("connection", "keep-alive");
}
