#pragma once

#include <QByteArray>
#include <QHttpServer>
#include <QJsonObject>
#include <QList>
#include <QObject>

class HttpHandoverServer;
class HttpExchangeSocket;
class RequestHead;

// The plain-HTTP half of the shared port: a QHttpServer fed through a
// non-listening HttpHandoverServer. Routes are registered by whoever owns
// an area (health here, the admin API and console in their own classes);
// anything no route takes gets a JSON 404.
//
// A few fixed routes (/health) are also answered by the front itself, with
// the bytes QHttpServer sent for them once at start (see frontAnswer()).
class HttpSide : public QObject
{
    Q_OBJECT
public:
    explicit HttpSide(QObject *parent = nullptr);

    QHttpServer &server() { return m_server; }
    // Registers the JSON 404 for everything else and learns the front-served
    // answers; call after all routes.
    void finishRoutes();
    // Gives QHttpServer a new client connection (before its first request).
    void adopt(HttpExchangeSocket *socket);

    // A complete answer the front writes without QHttpServer.
    struct FrontAnswer
    {
        QByteArray target;        // the request target it answers, exactly
        QByteArray response;      // status line, headers and body, as QHttpServer wrote them
        qsizetype headLength = 0; // bytes of `response` up to the body (a HEAD's answer)
        int status = 0;
    };
    // The answer for `head` when the front may serve it itself: a GET or HEAD
    // of a front-served target, without anything QHttpServer could answer
    // differently (a body, Expect, Upgrade, a query string). Null otherwise.
    const FrontAnswer *frontAnswer(const RequestHead &head) const;

    static QHttpServerResponse jsonError(QHttpServerResponse::StatusCode status, const QString &message);
    // The body of GET /health (PRODUCT.md section 5).
    static QJsonObject healthStatus();

private:
    void learnFrontAnswers();

    QHttpServer m_server;
    HttpHandoverServer *m_handover;
    QList<FrontAnswer> m_frontAnswers;
};
