#include "httpside.h"

#include "httpexchangesocket.h"
#include "httphandoverserver.h"

#include <QJsonObject>
#include <QLoggingCategory>
#include <QUrl>

namespace {
QLoggingCategory::CategoryFilter previousFilter = nullptr;

// QHttpServer::bind() warns that the handover server is not listening, which
// is by design here; that one warning is muted while binding.
void muteHttpServerWarnings(QLoggingCategory *category)
{
    if (previousFilter)
        previousFilter(category);
    if (qstrcmp(category->categoryName(), "qt.httpserver") == 0)
        category->setEnabled(QtWarningMsg, false);
}
} // namespace

HttpSide::HttpSide(QObject *parent)
    : QObject(parent)
    , m_handover(new HttpHandoverServer)
{
    // bind() takes ownership. Sockets come from the front listener, never
    // from listen().
    previousFilter = QLoggingCategory::installFilter(muteHttpServerWarnings);
    m_server.bind(m_handover);
    QLoggingCategory::installFilter(previousFilter);
    m_server.route("/health", QHttpServerRequest::Method::Get, [] {
        return QHttpServerResponse(QJsonObject{{"status", "ok"}});
    });
}

QHttpServerResponse HttpSide::jsonError(QHttpServerResponse::StatusCode status, const QString &message)
{
    return QHttpServerResponse(QJsonObject{{"error", message}, {"status", int(status)}}, status);
}

void HttpSide::finishRoutes()
{
    // A QUrl argument matches the rest of the path, so this takes every
    // request that no earlier route did. Safe only because upgrade requests
    // never reach QHttpServer here (see HttpExchangeSocket).
    m_server.route("/<arg>", [](const QUrl &, const QHttpServerRequest &request) {
        return jsonError(QHttpServerResponse::StatusCode::NotFound,
                         QStringLiteral("no resource at %1").arg(request.url().path()));
    });
}

void HttpSide::adopt(HttpExchangeSocket *socket)
{
    m_handover->handOver(socket);
}
