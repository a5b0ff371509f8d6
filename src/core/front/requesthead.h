#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QUrlQuery>

// The parsed head of one HTTP/1.x request: request line and header fields.
// Parsing is strict (RFC 9112 syntax); anything malformed is refused with 400
// before either the HTTP or the WebSocket side sees it.
class RequestHead
{
public:
    enum class Status { Complete, Incomplete, TooLarge, Malformed };

    // Looks for a complete head at the start of `data` (up to and including
    // the blank line). On Complete, `headLength` is the number of bytes the
    // head occupies. `maxHeadBytes` bounds the search.
    static Status scan(const QByteArray &data, int maxHeadBytes, int *headLength);
    // Parses exactly one complete head. On failure `error` says why.
    static bool parse(QByteArrayView head, RequestHead *out, QString *error);

    QByteArray method;
    QByteArray target;       // as sent: path plus optional query
    QByteArray version;      // "HTTP/1.1"
    QList<QPair<QByteArray, QByteArray>> headers; // names as sent, values trimmed
    int longestLine = 0;     // bytes of the longest line (request line or field), without CRLF

    QByteArray path() const;
    QUrlQuery query() const;
    // First value of a header (case-insensitive), or a null QByteArray.
    QByteArray header(QByteArrayView name) const;
    // All values of a header, each comma-separated list split and trimmed.
    QList<QByteArray> headerTokens(QByteArrayView name) const;
    int headerCount(QByteArrayView name) const;
    // Whether one of those values is `token` (case-insensitive).
    bool hasToken(QByteArrayView name, QByteArrayView token) const;

    // A WebSocket opening handshake: `Upgrade: websocket` is present.
    bool isWebSocketUpgrade() const { return hasToken("upgrade", "websocket"); }
    // Whether the client wants the connection kept open after the response.
    bool keepAlive() const;

private:
    // Calls visit(token) for each value of header `name` as headerTokens()
    // lists them, until it returns true; returns whether one did.
    template<typename Visit>
    bool forEachToken(QByteArrayView name, Visit visit) const;
};
