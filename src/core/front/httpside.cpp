#include "front/httpside.h"

#include "front/httpexchangesocket.h"
#include "front/httphandoverserver.h"
#include "logging.h"
#include "front/requesthead.h"

#include <QJsonObject>
#include <QLoggingCategory>
#include <QUrl>

namespace {
QLoggingCategory::CategoryFilter previousFilter = nullptr;

// Routes the front answers itself, with the bytes QHttpServer sends for them
// (learned once in finishRoutes()). Through QHttpServer a health probe costs
// a second parse of the head, a route match, a JSON serialisation and a
// write per header line: Switchboard answered GET /health at 0.82x the rate
// of a bare QHttpServer (docs/PERFORMANCE.md). Only for answers that depend
// on nothing in the request and never change while the server runs.
constexpr const char *FrontServedTargets[] = {"/health"};

// Header fields after which QHttpServer might answer differently than to a
// bare GET, or which the front handles itself (body framing, 100-continue).
bool keepsRequestOffFrontPath(const QByteArray &name)
{
    for (const char *field : {"content-length", "transfer-encoding", "expect", "upgrade"}) {
        if (name.compare(field, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

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
        return QHttpServerResponse(healthStatus());
    });
}

QJsonObject HttpSide::healthStatus()
{
    return QJsonObject{{"status", "ok"}};
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
    learnFrontAnswers();
}

void HttpSide::learnFrontAnswers()
{
    m_frontAnswers.clear();
    for (const char *target : FrontServedTargets) {
        // Ask QHttpServer once, through a socket that keeps what it writes:
        // the front then sends exactly these bytes, and the route above stays
        // the only place the answer is defined.
        auto *probe = new HttpExchangeSocket(nullptr, this);
        adopt(probe);
        probe->deliver("GET " + QByteArray(target) + " HTTP/1.1\r\nHost: switchboard\r\n\r\n");
        FrontAnswer answer;
        answer.target = target;
        answer.response = probe->takeWritten();
        answer.status = probe->lastStatus();
        probe->transportClosed(); // QHttpServer lets go of it and deletes it
        const qsizetype end = answer.response.indexOf("\r\n\r\n");
        answer.headLength = end < 0 ? 0 : end + 4;
        // Only a complete 200 with a Content-Length is safe to repeat verbatim.
        if (answer.status != 200 || end < 0
            || !answer.response.left(end).toLower().contains(
                "\r\ncontent-length: " + QByteArray::number(answer.response.size() - answer.headLength))) {
            qCWarning(lcHttp) << "not answering" << target << "in the front: QHttpServer answered"
                              << answer.response.left(200);
            continue;
        }
        m_frontAnswers.append(std::move(answer));
    }
}

const HttpSide::FrontAnswer *HttpSide::frontAnswer(const RequestHead &head) const
{
    if (head.method != "GET" && head.method != "HEAD")
        return nullptr;
    for (const FrontAnswer &answer : m_frontAnswers) {
        if (head.target != answer.target)
            continue;
        for (const auto &field : head.headers) {
            if (keepsRequestOffFrontPath(field.first))
                return nullptr;
        }
        return &answer;
    }
    return nullptr;
}

void HttpSide::adopt(HttpExchangeSocket *socket)
{
    m_handover->handOver(socket);
}
