#pragma once

#include "serverconfig.h"
#include "switchboardserver.h"

#include <QObject>
#include <QUrl>

#include <memory>

class ConnectionRegistry;
class QThread;
class SubprotocolRegistry;

// The front ends' handle on the server core (headless runner, dashboard,
// tests). Owns the core thread and the shared registries; every call returns
// at once and results arrive as signals on the caller's thread.
class ServerHost : public QObject
{
    Q_OBJECT
public:
    ServerHost(const ServerConfig &config, std::shared_ptr<SubprotocolRegistry> subprotocols,
               QObject *parent = nullptr);
    ~ServerHost() override; // stops the server if it still runs

    const ServerConfig &config() const { return m_config; }
    // The config of the next start() (the dashboard's "restart on another
    // port"); a running server keeps the one it was started with.
    void setConfig(const ServerConfig &config) { m_config = config; }
    ConnectionRegistry *connections() const { return m_connections.get(); }
    SubprotocolRegistry *subprotocols() const { return m_subprotocols.get(); }
    // Extra HTTP routes (admin API, console); call before start().
    void addRoutes(SwitchboardServer::RouteInstaller installer) { m_routes << std::move(installer); }

    void start();
    void stop();
    bool isRunning() const { return m_running; }
    QList<QUrl> listeners() const { return m_listeners; }

signals:
    void started(const QList<QUrl> &listeners);
    void startFailed(const QString &error);
    void stopped();

private:
    void teardown();

    ServerConfig m_config;
    std::shared_ptr<SubprotocolRegistry> m_subprotocols;
    std::unique_ptr<ConnectionRegistry> m_connections;
    QList<SwitchboardServer::RouteInstaller> m_routes;
    QThread *m_thread = nullptr;
    SwitchboardServer *m_server = nullptr;
    QList<QUrl> m_listeners;
    bool m_running = false;
};
