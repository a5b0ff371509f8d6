#pragma once

// A JSON-RPC 2.0 client over a real QWebSocket (subprotocol "jsonrpc") for
// the dashboard tests, and the config of a Switchboard that keeps its method
// switches in a temporary directory.

#include "testsupport.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

inline ServerConfig guiTestConfig(const QTemporaryDir &dir)
{
    ServerConfig config;
    config.port = 0;
    config.stateFile = dir.filePath(QStringLiteral("methods.json")); // never the user's switches
    config.limits.shutdownGraceMs = 500;
    return config;
}

inline QUrl switchboardUrl(Switchboard &server, const QString &path = QStringLiteral("/rpc"))
{
    QUrl url = server.host()->listeners().value(0);
    url.setScheme(QStringLiteral("ws"));
    url.setPath(path);
    return url;
}

class RpcClient : public QObject
{
public:
    RpcClient()
    {
        QObject::connect(&socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
            replies.append(QJsonDocument::fromJson(text.toUtf8()).object());
        });
    }

    bool open(const QUrl &url) { return openWebSocket(socket, url, {QStringLiteral("jsonrpc")}); }

    // Sends a request; returns its id.
    int send(const QString &method, const QJsonValue &params = QJsonValue())
    {
        const int id = ++lastId;
        QJsonObject request{{"jsonrpc", "2.0"}, {"method", method}, {"id", id}};
        if (!params.isUndefined() && !params.isNull())
            request.insert("params", params);
        socket.sendTextMessage(QString::fromUtf8(QJsonDocument(request).toJson(QJsonDocument::Compact)));
        return id;
    }

    // The reply to `id` (an empty object when none came within 5 s).
    QJsonObject reply(int id)
    {
        QJsonObject found;
        (void)QTest::qWaitFor([&] {
            for (const QJsonObject &r : std::as_const(replies)) {
                if (r.value("id").toInt(-1) == id) {
                    found = r;
                    return true;
                }
            }
            return false;
        }, 5000);
        return found;
    }

    QJsonObject call(const QString &method, const QJsonValue &params = QJsonValue())
    {
        return reply(send(method, params));
    }

    QWebSocket socket;
    QList<QJsonObject> replies;
    int lastId = 0;
};
