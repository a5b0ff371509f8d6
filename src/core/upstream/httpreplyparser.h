#pragma once

#include <QByteArray>
#include <QString>

// Reads one HTTP/1.1 response at a time from the bytes an upstream sends:
// status line, header fields, then a body framed by Content-Length, chunked
// transfer coding, or the end of the connection. Interim 1xx responses are
// skipped. Pure (no sockets), so it is tested and fuzzed directly.
class HttpReplyParser
{
public:
    enum class State { NeedMore, Done, Invalid };

    static constexpr qsizetype MaxHeadBytes = 64 * 1024;

    explicit HttpReplyParser(qsizetype maxBodyBytes = 16 * 1024 * 1024)
        : m_maxBodyBytes(maxBodyBytes)
    {
    }

    // Takes what it can use from the front of `buffer` (bytes of a next
    // response stay there). Done: status(), body() and keepAlive() are the
    // response's until reset(). Invalid: error() says why; the connection
    // cannot be used any more.
    State feed(QByteArray &buffer);
    // The connection ended: a body read to the end of the connection is
    // complete now; anything else unfinished is Invalid.
    State finish();
    // Ready for the next response on the same connection.
    void reset();

    // True once any byte of the current response arrived.
    bool started() const { return m_started; }
    int status() const { return m_status; }
    const QByteArray &body() const { return m_body; }
    // The connection may carry another request (HTTP/1.1 without
    // "Connection: close", or HTTP/1.0 with "Connection: keep-alive").
    bool keepAlive() const { return m_keepAlive; }
    QString error() const { return m_error; }

private:
    enum class Phase { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailers, UntilClose, Complete, Failed };

    State fail(const QString &why);
    bool parseHead(const QByteArray &head);
    // Moves up to m_remaining bytes into the body; true when none remain.
    bool takeBody(QByteArray &buffer);

    qsizetype m_maxBodyBytes;
    Phase m_phase = Phase::Head;
    bool m_started = false;
    int m_status = 0;
    bool m_keepAlive = true;
    qint64 m_remaining = 0; // of the Content-Length body or the current chunk
    QByteArray m_body;
    QString m_error;
};
