#pragma once

#include <QHttpServer>
#include <QObject>

class HttpHandoverServer;
class HttpExchangeSocket;

// The plain-HTTP half of the shared port: a QHttpServer fed through a
// non-listening HttpHandoverServer. Routes are registered by whoever owns
// an area (health here, the admin API and console in their own classes);
// anything no route takes gets a JSON 404.
class HttpSide : public QObject
{
    Q_OBJECT
public:
    explicit HttpSide(QObject *parent = nullptr);

    QHttpServer &server() { return m_server; }
    // Registers the JSON 404 for everything else; call after all routes.
    void finishRoutes();
    // Gives QHttpServer a new client connection (before its first request).
    void adopt(HttpExchangeSocket *socket);

    static QHttpServerResponse jsonError(QHttpServerResponse::StatusCode status, const QString &message);

private:
    QHttpServer m_server;
    HttpHandoverServer *m_handover;
};
