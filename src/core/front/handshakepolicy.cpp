#include "front/handshakepolicy.h"

#include "front/requesthead.h"
#include "secrets.h"
#include "ws/subprotocolregistry.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace {

HandshakeVerdict refuse(int status, const char *cause, const QString &reason,
                        HttpResponse::Headers headers = {}, QByteArray extraJson = {})
{
    HandshakeVerdict v;
    v.status = status;
    v.cause = QLatin1String(cause);
    v.reason = reason;
    v.headers = std::move(headers);
    v.extraJson = std::move(extraJson);
    return v;
}

bool isValidKey(const QByteArray &key)
{
    // base64 of exactly 16 bytes: 22 characters of the alphabet plus "==".
    if (key.size() != 24 || !key.endsWith("=="))
        return false;
    const auto decoded = QByteArray::fromBase64Encoding(key, QByteArray::AbortOnBase64DecodingErrors);
    return decoded && decoded.decoded.size() == 16;
}

bool carriesToken(const RequestHead &head, const QString &token)
{
    const QByteArray expected = token.toUtf8();
    const QByteArray bearer = Secrets::bearerToken(head.header("authorization"));
    if (!bearer.isNull() && Secrets::equals(bearer, expected))
        return true;
    const QUrlQuery query = head.query();
    return query.hasQueryItem("token")
        && Secrets::equals(query.queryItemValue("token", QUrl::FullyDecoded).toUtf8(), expected);
}

} // namespace

HandshakeVerdict evaluateHandshake(const RequestHead &head, const HandshakeContext &context)
{
    // Head size, like the 16 KiB cap the front checks before parsing. The
    // QWebSocketServer that answers the 101 drops, without any response, a
    // handshake with a line over 8 KiB or more than 100 header fields (Qt
    // 6.4.2, measured: request line up to 8190 bytes, field line up to 8192,
    // 100 fields; 8190 is used for both). A head within 16 KiB can exceed
    // those, so refuse it here with a complete 431 rather than hand it over
    // to be silently closed (tst_handshake, longLinesAndManyFieldsWithinTheCap).
    constexpr int MaxLineBytes = 8190;
    constexpr int MaxHeaderFields = 100;
    if (head.longestLine > MaxLineBytes || head.headers.size() > MaxHeaderFields)
        return refuse(431, "head_size",
                      QStringLiteral("a WebSocket handshake line must be at most %1 bytes and "
                                     "the head at most %2 header fields")
                          .arg(MaxLineBytes).arg(MaxHeaderFields));

    // Preconditions of RFC 6455 section 4.2.1 that the product table takes for granted.
    if (head.method != "GET")
        return refuse(405, "method", QStringLiteral("a WebSocket handshake must use GET"), {{"Allow", "GET"}});
    if (head.version != "HTTP/1.1")
        return refuse(400, "http_version", QStringLiteral("a WebSocket handshake needs HTTP/1.1"));

    // 1. Version.
    const QList<QByteArray> versions = head.headerTokens("sec-websocket-version");
    if (versions.size() != 1 || versions.first() != "13")
        return refuse(426, "version", QStringLiteral("unsupported WebSocket version; this server speaks 13"),
                      {{"Sec-WebSocket-Version", "13"}});

    // 2. Key.
    if (head.headerCount("sec-websocket-key") != 1 || !isValidKey(head.header("sec-websocket-key")))
        return refuse(400, "key", QStringLiteral("Sec-WebSocket-Key must be the base64 of 16 bytes, sent once"));
    if (!head.hasToken("connection", "upgrade"))
        return refuse(400, "connection_header", QStringLiteral("a WebSocket handshake needs \"Connection: Upgrade\""));

    // 3. Subprotocol: the first offered one that is supported and enabled.
    const QList<QByteArray> offered = head.headerTokens("sec-websocket-protocol");
    QString chosen = context.subprotocols->choose(offered);
    // RFC 6455 4.2.2: the 101 must not name a subprotocol the client did not
    // offer, so a defaulted connection's 101 names none.
    const bool defaulted = chosen.isEmpty() && offered.isEmpty() && !context.defaultSubprotocol.isEmpty()
        && context.subprotocols->enabledNames().contains(context.defaultSubprotocol);
    if (defaulted)
        chosen = context.defaultSubprotocol;
    if (chosen.isEmpty()) {
        const QStringList supported = context.subprotocols->enabledNames();
        const QByteArray extra = "\"supported\":"
            + QJsonDocument(QJsonArray::fromStringList(supported)).toJson(QJsonDocument::Compact);
        const QString what = offered.isEmpty()
            ? QStringLiteral("no subprotocol offered")
            : QStringLiteral("no offered subprotocol is supported");
        return refuse(400, "subprotocol", QStringLiteral("%1; supported: %2").arg(what, supported.join(", ")), {}, extra);
    }

    // 4. Origin allow-list.
    const QByteArray origin = head.header("origin");
    if (!origin.isNull() && !context.allowedOrigins.isEmpty()
        && !context.allowedOrigins.contains(QString::fromUtf8(origin)))
        return refuse(403, "origin", QStringLiteral("origin %1 is not allowed").arg(QString::fromUtf8(origin)));

    // 5. Client token.
    if (!context.clientToken.isEmpty() && !carriesToken(head, context.clientToken))
        return refuse(401, "token", QStringLiteral("a valid client token is required"),
                      {{"WWW-Authenticate", "Bearer realm=\"switchboard\""}});

    // 6. Connection limit.
    if (context.liveConnections >= context.maxConnections)
        return refuse(503, "limit", QStringLiteral("connection limit of %1 reached").arg(context.maxConnections),
                      {{"Retry-After", "5"}});

    HandshakeVerdict v;
    v.accepted = true;
    v.subprotocol = chosen;
    v.subprotocolDefaulted = defaulted;
    return v;
}
