#include "upstream/httpreplyparser.h"

#include <QList>

namespace {

// Field values compare case-insensitively as comma-separated tokens.
bool hasToken(const QByteArray &value, const char *token)
{
    const QList<QByteArray> parts = value.split(',');
    for (const QByteArray &part : parts) {
        if (part.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

bool parseDecimal(const QByteArray &text, qint64 *out)
{
    if (text.isEmpty() || text.size() > 15)
        return false;
    qint64 v = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

} // namespace

void HttpReplyParser::reset()
{
    m_phase = Phase::Head;
    m_started = false;
    m_status = 0;
    m_keepAlive = true;
    m_remaining = 0;
    m_body.clear();
    m_error.clear();
}

HttpReplyParser::State HttpReplyParser::fail(const QString &why)
{
    m_phase = Phase::Failed;
    m_error = why;
    m_keepAlive = false;
    return State::Invalid;
}

bool HttpReplyParser::parseHead(const QByteArray &head)
{
    const QList<QByteArray> lines = head.split('\n');
    QByteArray statusLine = lines.value(0);
    if (statusLine.endsWith('\r'))
        statusLine.chop(1);
    // HTTP-version SP 3DIGIT SP [reason]
    if (!statusLine.startsWith("HTTP/1.") || statusLine.size() < 12 || statusLine.at(8) != ' ') {
        fail(QStringLiteral("not an HTTP/1.x status line"));
        return false;
    }
    const bool http10 = statusLine.at(7) == '0';
    qint64 status = 0;
    if (!parseDecimal(statusLine.mid(9, 3), &status) || status < 100 || status > 599
        || (statusLine.size() > 12 && statusLine.at(12) != ' ')) {
        fail(QStringLiteral("bad status code"));
        return false;
    }
    m_status = int(status);

    qint64 contentLength = -1;
    bool chunked = false;
    QByteArray connection;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        QByteArray line = lines.at(i);
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty())
            continue;
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || line.at(0) == ' ' || line.at(0) == '\t') {
            fail(QStringLiteral("malformed header field"));
            return false;
        }
        const QByteArray name = line.left(colon).toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (name == "content-length") {
            qint64 length = 0;
            if (!parseDecimal(value, &length) || (contentLength >= 0 && contentLength != length)) {
                fail(QStringLiteral("bad Content-Length"));
                return false;
            }
            contentLength = length;
        } else if (name == "transfer-encoding") {
            if (!value.trimmed().toLower().endsWith("chunked")) {
                fail(QStringLiteral("unsupported Transfer-Encoding"));
                return false;
            }
            chunked = true;
        } else if (name == "connection") {
            connection += value + ',';
        }
    }
    m_keepAlive = http10 ? hasToken(connection, "keep-alive") : !hasToken(connection, "close");

    if (m_status < 200) {
        m_phase = Phase::Head; // interim response: the real one follows
        return true;
    }
    if (m_status == 204 || m_status == 304) {
        m_phase = Phase::Complete;
    } else if (chunked) {
        // Transfer-Encoding wins over Content-Length (RFC 9112 6.3).
        m_phase = Phase::ChunkSize;
    } else if (contentLength >= 0) {
        if (contentLength > m_maxBodyBytes) {
            fail(QStringLiteral("reply body of %1 bytes is over the limit").arg(contentLength));
            return false;
        }
        m_remaining = contentLength;
        m_phase = contentLength == 0 ? Phase::Complete : Phase::Body;
    } else {
        m_keepAlive = false;
        m_phase = Phase::UntilClose;
    }
    return true;
}

bool HttpReplyParser::takeBody(QByteArray &buffer)
{
    const qsizetype take = qsizetype(qMin<qint64>(m_remaining, buffer.size()));
    m_body.append(buffer.constData(), take);
    buffer.remove(0, take);
    m_remaining -= take;
    return m_remaining == 0;
}

HttpReplyParser::State HttpReplyParser::feed(QByteArray &buffer)
{
    if (!buffer.isEmpty())
        m_started = true;
    for (;;) {
        switch (m_phase) {
        case Phase::Failed:
            return State::Invalid;
        case Phase::Complete:
            return State::Done;
        case Phase::Head: {
            const qsizetype end = buffer.indexOf("\r\n\r\n");
            if (end < 0) {
                if (buffer.size() > MaxHeadBytes)
                    return fail(QStringLiteral("reply head over %1 bytes").arg(MaxHeadBytes));
                return State::NeedMore;
            }
            if (end > MaxHeadBytes)
                return fail(QStringLiteral("reply head over %1 bytes").arg(MaxHeadBytes));
            const QByteArray head = buffer.left(end);
            buffer.remove(0, end + 4);
            if (!parseHead(head))
                return State::Invalid;
            break;
        }
        case Phase::Body:
            if (!takeBody(buffer))
                return State::NeedMore;
            m_phase = Phase::Complete;
            break;
        case Phase::ChunkSize: {
            const qsizetype end = buffer.indexOf("\r\n");
            if (end < 0)
                return buffer.size() > 1024 ? fail(QStringLiteral("bad chunk size line")) : State::NeedMore;
            QByteArray line = buffer.left(end);
            buffer.remove(0, end + 2);
            const qsizetype semicolon = line.indexOf(';'); // chunk extensions are ignored
            if (semicolon >= 0)
                line.truncate(semicolon);
            line = line.trimmed();
            bool ok = false;
            const qint64 size = line.size() <= 15 ? line.toLongLong(&ok, 16) : -1;
            if (!ok || size < 0 || line.startsWith('-') || line.startsWith('+'))
                return fail(QStringLiteral("bad chunk size"));
            if (m_body.size() + size > m_maxBodyBytes)
                return fail(QStringLiteral("reply body over the limit"));
            m_remaining = size;
            m_phase = size == 0 ? Phase::Trailers : Phase::ChunkData;
            break;
        }
        case Phase::ChunkData:
            if (!takeBody(buffer))
                return State::NeedMore;
            m_phase = Phase::ChunkDataEnd;
            break;
        case Phase::ChunkDataEnd:
            if (buffer.size() < 2)
                return State::NeedMore;
            if (!buffer.startsWith("\r\n"))
                return fail(QStringLiteral("chunk not followed by CRLF"));
            buffer.remove(0, 2);
            m_phase = Phase::ChunkSize;
            break;
        case Phase::Trailers: {
            const qsizetype end = buffer.indexOf("\r\n");
            if (end < 0)
                return buffer.size() > MaxHeadBytes ? fail(QStringLiteral("trailers too long")) : State::NeedMore;
            buffer.remove(0, end + 2);
            if (end == 0)
                m_phase = Phase::Complete; // the empty line after the trailers
            break;
        }
        case Phase::UntilClose:
            if (m_body.size() + buffer.size() > m_maxBodyBytes)
                return fail(QStringLiteral("reply body over the limit"));
            m_body.append(buffer);
            buffer.clear();
            return State::NeedMore;
        }
    }
}

HttpReplyParser::State HttpReplyParser::finish()
{
    switch (m_phase) {
    case Phase::Complete:
        return State::Done;
    case Phase::UntilClose:
        m_phase = Phase::Complete;
        return State::Done;
    case Phase::Failed:
        return State::Invalid;
    default:
        return fail(m_started ? QStringLiteral("connection closed in the middle of the reply")
                              : QStringLiteral("connection closed before a reply"));
    }
}
