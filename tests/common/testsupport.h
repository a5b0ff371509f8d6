#pragma once

// Shared by the test executables: a test-only subprotocol and a way to run
// the real server core on its own thread and wait for it.

#include "admin/connectionregistry.h"
#include "serverhost.h"
#include "ws/subprotocol.h"
#include "ws/subprotocolregistry.h"
#include "switchboard.h"

#include <QAbstractSocket>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

#include <memory>

// "echo.test": answers every text message with the same text.
class EchoTestSubprotocol : public Subprotocol
{
public:
    explicit EchoTestSubprotocol(QString name = QStringLiteral("echo.test"))
        : m_name(std::move(name))
    {
    }
    QString name() const override { return m_name; }
    QString description() const override { return QStringLiteral("echoes text (tests only)"); }
    std::unique_ptr<ProtocolSession> createSession(ConnectionLink &link) override
    {
        struct Session : ProtocolSession
        {
            explicit Session(ConnectionLink &l) : link(l) {}
            void textMessage(const QByteArray &utf8) override { link.sendText(utf8); }
            void pushNotification(const QString &method, const QByteArray &params) override
            {
                link.sendText(method.toUtf8() + ' ' + params);
            }
            ConnectionLink &link;
        };
        return std::make_unique<Session>(link);
    }

private:
    QString m_name;
};

// A running server core on port 0 with the given subprotocols.
struct TestServer
{
    std::shared_ptr<SubprotocolRegistry> subprotocols = std::make_shared<SubprotocolRegistry>();
    std::unique_ptr<ServerHost> host;
    QList<QUrl> urls;

    // Returns false (and the error) when it does not start within 5 s.
    bool start(ServerConfig config, QString *error = nullptr)
    {
        host = std::make_unique<ServerHost>(config, subprotocols);
        QSignalSpy started(host.get(), &ServerHost::started);
        QSignalSpy failed(host.get(), &ServerHost::startFailed);
        host->start();
        if (!QTest::qWaitFor([&] { return started.count() + failed.count() > 0; }, 5000))
            return false;
        if (!failed.isEmpty()) {
            if (error)
                *error = failed.first().first().toString();
            return false;
        }
        urls = host->listeners();
        return true;
    }
    bool stop()
    {
        if (!host || !host->isRunning())
            return true;
        QSignalSpy stopped(host.get(), &ServerHost::stopped);
        host->stop();
        return stopped.wait(10000) || !stopped.isEmpty();
    }
    quint16 port(int listener = 0) const { return quint16(urls.value(listener).port()); }
    QUrl wsUrl(const QString &path = QStringLiteral("/"), int listener = 0) const
    {
        QUrl url = urls.value(listener);
        url.setScheme(url.scheme() == QLatin1String("https") || url.scheme() == QLatin1String("wss")
                          ? QStringLiteral("wss")
                          : QStringLiteral("ws"));
        url.setPath(path);
        return url;
    }
};

// Opens a QWebSocket offering `protocols`; returns once connected or failed.
inline bool openWebSocket(QWebSocket &socket, const QUrl &url, const QStringList &protocols,
                          int timeoutMs = 5000)
{
    QWebSocketHandshakeOptions options;
    options.setSubprotocols(protocols);
    QSignalSpy connected(&socket, &QWebSocket::connected);
    QSignalSpy disconnected(&socket, &QWebSocket::disconnected);
    socket.open(url, options);
    (void)QTest::qWaitFor([&] { return connected.count() + disconnected.count() > 0; }, timeoutMs);
    return socket.state() == QAbstractSocket::ConnectedState;
}

// Makes `server` a bare core negotiating the echo test subprotocol and starts
// it with `config`; false, with a warning saying why, when it does not start
// (`server` is kept either way, so a test's cleanup can stop it).
inline bool startEchoServer(std::unique_ptr<TestServer> &server, const ServerConfig &config)
{
    server = std::make_unique<TestServer>();
    server->subprotocols->add(std::make_shared<EchoTestSubprotocol>());
    QString error;
    if (!server->start(config, &error)) {
        qWarning() << "server did not start:" << error;
        return false;
    }
    return true;
}

// The server as shipped (Switchboard::create: methods, traffic log, jsonrpc,
// dm-rpc, admin API) started with `config`, the way TestServer starts a bare
// core. Null, with the error, when it cannot be built or does not start
// within 5 s.
inline std::unique_ptr<Switchboard> startSwitchboard(const ServerConfig &config, QString *error = nullptr)
{
    QString why;
    std::unique_ptr<Switchboard> switchboard = Switchboard::create(config, &why);
    if (switchboard) {
        QSignalSpy started(switchboard->host(), &ServerHost::started);
        QSignalSpy failed(switchboard->host(), &ServerHost::startFailed);
        switchboard->host()->start();
        if (!QTest::qWaitFor([&] { return started.count() + failed.count() > 0; }, 5000))
            why = QStringLiteral("the server did not start within 5 s");
        else if (!failed.isEmpty())
            why = failed.first().first().toString();
        else
            return switchboard;
    }
    if (error)
        *error = why;
    return nullptr;
}

// Stops a started Switchboard cleanly (close frames, grace period) and waits.
inline bool stopSwitchboard(Switchboard &switchboard)
{
    ServerHost *host = switchboard.host();
    if (!host->isRunning())
        return true;
    QSignalSpy stopped(host, &ServerHost::stopped);
    host->stop();
    return QTest::qWaitFor([&] { return !stopped.isEmpty(); }, 10000);
}
