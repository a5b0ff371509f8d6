#pragma once

#include "front/frontconnection.h"
#include "serverconfig.h"

#include <QObject>
#include <QTimer>
#include <QUrl>

#include <functional>
#include <memory>

class ConnectionRegistry;
class FrontListener;
class HttpSide;
class SubprotocolRegistry;
class UpgradeDispatcher;
class WorkerPool;

// The server core on its own thread: listeners, HTTP side, upgrade
// dispatcher and worker pool. Created and driven by ServerHost; never
// touched from the GUI thread directly.
class SwitchboardServer : public QObject
{
    Q_OBJECT
public:
    // Registers routes on the HTTP side before the catch-all 404; runs on the core thread.
    using RouteInstaller = std::function<void(HttpSide &)>;

    SwitchboardServer(const ServerConfig &config, SubprotocolRegistry *subprotocols,
                      ConnectionRegistry *connections, QList<RouteInstaller> routes);
    ~SwitchboardServer() override;

    // Both run on the core thread (ServerHost queues them there).
    void start();
    void stop();

signals:
    void started(const QList<QUrl> &listeners);
    void startFailed(const QString &error);
    void stopped();

private:
    void finishStop();
    // Finishes stopping once no connection is left, registered or not.
    void finishStopWhenDrained();

    ServerConfig m_config;
    SubprotocolRegistry *m_subprotocols;
    ConnectionRegistry *m_connections;
    QList<RouteInstaller> m_routes;
    std::unique_ptr<WorkerPool> m_workers;
    HttpSide *m_http = nullptr;
    UpgradeDispatcher *m_upgrades = nullptr;
    FrontContext m_frontContext;
    QList<FrontListener *> m_listeners;
    QTimer m_graceTimer;
    QTimer m_drainCheck; // while stopping
    bool m_stopping = false;
    bool m_stopped = false;
};
