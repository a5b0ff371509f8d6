#include "serverhost.h"

#include "admin/connectionregistry.h"
#include "ws/subprotocolregistry.h"

#include <QThread>

ServerHost::ServerHost(const ServerConfig &config, std::shared_ptr<SubprotocolRegistry> subprotocols,
                       QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_subprotocols(std::move(subprotocols))
    , m_connections(std::make_unique<ConnectionRegistry>())
{
}

ServerHost::~ServerHost()
{
    if (m_server) {
        // Leaving without stop(): drop everything now rather than wait.
        QMetaObject::invokeMethod(m_server, [server = m_server] { delete server; },
                                  Qt::BlockingQueuedConnection);
        m_server = nullptr;
    }
    teardown();
}

void ServerHost::start()
{
    if (m_thread)
        return;
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("switchboard-core"));
    // The listeners, the HTTP side and every handshake in flight run here.
    EventLoop::install(m_thread, m_config.eventLoop);
    m_server = new SwitchboardServer(m_config, m_subprotocols.get(), m_connections.get(), m_routes);
    m_server->moveToThread(m_thread);
    connect(m_server, &SwitchboardServer::started, this, [this](const QList<QUrl> &urls) {
        m_running = true;
        m_listeners = urls;
        emit started(urls);
    });
    connect(m_server, &SwitchboardServer::startFailed, this, [this](const QString &error) {
        QMetaObject::invokeMethod(m_server, [server = m_server] { delete server; },
                                  Qt::BlockingQueuedConnection);
        m_server = nullptr;
        teardown();
        emit startFailed(error);
    });
    connect(m_server, &SwitchboardServer::stopped, this, [this] {
        QMetaObject::invokeMethod(m_server, [server = m_server] { delete server; },
                                  Qt::BlockingQueuedConnection);
        m_server = nullptr;
        teardown();
        emit stopped();
    });
    m_thread->start();
    QMetaObject::invokeMethod(m_server, &SwitchboardServer::start, Qt::QueuedConnection);
}

void ServerHost::stop()
{
    if (!m_server) {
        emit stopped();
        return;
    }
    QMetaObject::invokeMethod(m_server, &SwitchboardServer::stop, Qt::QueuedConnection);
}

void ServerHost::teardown()
{
    m_running = false;
    m_listeners.clear();
    if (m_thread) {
        m_thread->quit();
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
    }
}
