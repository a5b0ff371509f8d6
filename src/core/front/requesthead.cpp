#include "front/requesthead.h"

#include <QString>

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

bool isToken(const QByteArray &s)
{
    if (s.isEmpty())
        return false;
    for (char c : s) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

bool isFieldValue(const QByteArray &s)
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
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end >= 0 && end + 4 <= maxHeadBytes) {
        *headLength = int(end + 4);
        return Status::Complete;
    }
    if (end >= 0 || data.size() >= maxHeadBytes)
        return Status::TooLarge;
    // A bare LF line ending or a NUL byte can never become a valid head: refuse early
    // rather than wait for the timeout.
    for (qsizetype i = 0; i < data.size(); ++i) {
        if (data.at(i) == '\0' || (data.at(i) == '\n' && (i == 0 || data.at(i - 1) != '\r')))
            return Status::Malformed;
    }
    return Status::Incomplete;
}

bool RequestHead::parse(const QByteArray &head, RequestHead *out, QString *error)
{
    QList<QByteArray> lines = head.split('\n');
    // The head ends with CRLF CRLF: split leaves two trailing empties ("\r", "").
    if (lines.size() < 3) {
        *error = QStringLiteral("empty request");
        return false;
    }
    lines.removeLast();
    lines.removeLast();
    out->longestLine = 0;
    for (QByteArray &line : lines) {
        if (!line.endsWith('\r')) {
            *error = QStringLiteral("line not terminated by CRLF");
            return false;
        }
        line.chop(1);
        out->longestLine = qMax(out->longestLine, int(line.size()));
    }

    const QList<QByteArray> requestLine = lines.first().split(' ');
    if (requestLine.size() != 3) {
        *error = QStringLiteral("malformed request line");
        return false;
    }
    out->method = requestLine.at(0);
    out->target = requestLine.at(1);
    out->version = requestLine.at(2);
    if (!isToken(out->method)) {
        *error = QStringLiteral("malformed method");
        return false;
    }
    if (out->target.isEmpty() || (!out->target.startsWith('/') && out->target != "*")) {
        *error = QStringLiteral("request target must be an absolute path");
        return false;
    }
    for (char c : out->target) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) {
            *error = QStringLiteral("request target has an invalid character");
            return false;
        }
    }
    if (out->version != "HTTP/1.1" && out->version != "HTTP/1.0") {
        *error = QStringLiteral("unsupported HTTP version");
        return false;
    }

    out->headers.clear();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines.at(i);
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) {
            *error = QStringLiteral("malformed header line");
            return false;
        }
        const QByteArray name = line.left(colon);
        const QByteArray value = line.mid(colon + 1).trimmed();
        // No space before the colon (RFC 9112 section 5.1) and no obsolete folding.
        if (!isToken(name)) {
            *error = QStringLiteral("malformed header name");
            return false;
        }
        if (!isFieldValue(value)) {
            *error = QStringLiteral("header %1 has a control character").arg(QString::fromLatin1(name));
            return false;
        }
        out->headers.append({name, value});
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

QByteArray RequestHead::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return QByteArray();
}

QList<QByteArray> RequestHead::headerTokens(const QByteArray &name) const
{
    QList<QByteArray> tokens;
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) != 0)
            continue;
        for (const QByteArray &part : h.second.split(',')) {
            const QByteArray t = part.trimmed();
            if (!t.isEmpty())
                tokens.append(t);
        }
    }
    return tokens;
}

int RequestHead::headerCount(const QByteArray &name) const
{
    int n = 0;
    for (const auto &h : headers)
        n += h.first.compare(name, Qt::CaseInsensitive) == 0;
    return n;
}

bool RequestHead::hasToken(const QByteArray &name, const QByteArray &token) const
{
    const QList<QByteArray> tokens = headerTokens(name);
    return std::any_of(tokens.begin(), tokens.end(), [&](const QByteArray &t) {
        return t.compare(token, Qt::CaseInsensitive) == 0;
    });
}

bool RequestHead::keepAlive() const
{
    if (hasToken("connection", "close"))
        return false;
    return version == "HTTP/1.1" || hasToken("connection", "keep-alive");
}
