#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

// Complete HTTP/1.1 responses written by the front listener itself (refused
// handshakes, limits), before QHttpServer or QWebSocketServer is involved.
namespace HttpResponse {

using Headers = QList<QPair<QByteArray, QByteArray>>;

QByteArray reasonPhrase(int status);
// A response with a JSON body {"error": message, "status": status, ...extra}.
// `extraJson` is inserted verbatim as more members (may be empty).
QByteArray json(int status, const QString &message, const Headers &headers = {},
                const QByteArray &extraJson = {}, bool closeConnection = true);

} // namespace HttpResponse
