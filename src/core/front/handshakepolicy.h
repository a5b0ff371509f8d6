#pragma once

#include "front/httpresponse.h"

#include <QString>
#include <QStringList>

class RequestHead;
class SubprotocolRegistry;

// What the policy needs to know about the server at the moment of a handshake.
struct HandshakeContext
{
    const SubprotocolRegistry *subprotocols = nullptr;
    QStringList allowedOrigins;   // empty: any
    QString clientToken;          // empty: none required
    QString defaultSubprotocol;   // taken when none is offered (and it is enabled); empty: refuse
    int liveConnections = 0;
    int maxConnections = 0;
};

struct HandshakeVerdict
{
    bool accepted = false;
    QString subprotocol;          // accepted: the one the connection speaks
    bool subprotocolDefaulted = false; // accepted with the default: the 101 names none
    int status = 0;               // refused: the HTTP status
    QString cause;                // refused: short machine-readable kind ("version", "subprotocol", ...)
    QString reason;               // refused: why, for the body and the registry
    HttpResponse::Headers headers;
    QByteArray extraJson;         // refused: more members for the JSON body

    QByteArray response() const { return HttpResponse::json(status, reason, headers, extraJson); }
};

// Decides a WebSocket opening handshake (RFC 6455 section 4.2.1) in the
// order of PRODUCT.md section 2. Pure: no sockets, so it is tested and
// fuzzed directly.
HandshakeVerdict evaluateHandshake(const RequestHead &head, const HandshakeContext &context);
