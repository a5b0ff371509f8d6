#include "switchboardserver.h"

#include "admin/connectionregistry.h"
#include "front/frontlistener.h"
#include "front/httpside.h"
#include "logging.h"
#include "front/upgradedispatcher.h"
#include "ws/workerpool.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslKey>

#include <optional>

namespace {

bool loadTls(const ServerConfig &config, QSslConfiguration *out, QString *error)
{
    QFile certFile(config.tlsCertificateFile);
    if (!certFile.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read TLS certificate %1: %2")
                     .arg(config.tlsCertificateFile, certFile.errorString());
        return false;
    }
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certFile.readAll(), QSsl::Pem);
    if (chain.isEmpty()) {
        *error = QStringLiteral("no PEM certificate in %1").arg(config.tlsCertificateFile);
        return false;
    }
    QFile keyFile(config.tlsKeyFile);
    if (!keyFile.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read TLS key %1: %2").arg(config.tlsKeyFile, keyFile.errorString());
        return false;
    }
    const QByteArray keyData = keyFile.readAll();
    QSslKey key(keyData, QSsl::Rsa, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(keyData, QSsl::Ec, QSsl::Pem);
    if (key.isNull()) {
        *error = QStringLiteral("no usable PEM private key (RSA or EC) in %1").arg(config.tlsKeyFile);
        return false;
    }
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(chain);
    tls.setPrivateKey(key);
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    *out = tls;
    return true;
}

QUrl listenerUrl(const QString &host, quint16 port, bool tls, bool webSocket)
{
    QUrl url;
    url.setScheme(webSocket ? (tls ? "wss" : "ws") : (tls ? "https" : "http"));
    url.setHost(host);
    url.setPort(port);
    return url;
}

} // namespace

SwitchboardServer::SwitchboardServer(const ServerConfig &config, SubprotocolRegistry *subprotocols,
                                     ConnectionRegistry *connections, QList<RouteInstaller> routes)
    : m_config(config)
    , m_subprotocols(subprotocols)
    , m_connections(connections)
    , m_routes(std::move(routes))
{
    m_graceTimer.setParent(this); // moves to the core thread with the server
    m_graceTimer.setSingleShot(true);
    connect(&m_graceTimer, &QTimer::timeout, this, &SwitchboardServer::finishStop);
    m_drainCheck.setParent(this);
    connect(&m_drainCheck, &QTimer::timeout, this, &SwitchboardServer::finishStopWhenDrained);
}

SwitchboardServer::~SwitchboardServer()
{
    for (FrontListener *l : std::as_const(m_listeners))
        l->close();
    delete m_upgrades;
    m_workers.reset(); // joins the worker threads
}

void SwitchboardServer::start()
{
    // Built only for TLS: a QSslConfiguration loads the TLS backend (OpenSSL).
    std::optional<QSslConfiguration> tls;
    QString error;
    if (m_config.tlsEnabled()) {
        tls.emplace();
        if (!loadTls(m_config, &*tls, &error)) {
            emit startFailed(error);
            return;
        }
    }

    m_workers = std::make_unique<WorkerPool>(m_config.effectiveWorkerThreads(), m_config.limits, m_config.eventLoop);
    m_http = new HttpSide(this);
    for (const RouteInstaller &install : std::as_const(m_routes))
        install(*m_http);
    m_http->finishRoutes();
    m_upgrades = new UpgradeDispatcher(m_config, m_subprotocols, m_connections, m_workers.get());

    m_frontContext.limits = m_config.limits;
    m_frontContext.http = m_http;
    m_frontContext.upgrades = m_upgrades;
    m_frontContext.connections = m_connections;
    m_frontContext.wsPort = m_config.wsPort;

    const QHostAddress address = m_config.host == QLatin1String("localhost")
        ? QHostAddress(QHostAddress::LocalHost)
        : QHostAddress(m_config.host);
    struct Plan { ListenerRole role; int port; };
    QList<Plan> plan;
    if (m_config.separateWebSocketPort())
        plan = {{ListenerRole::HttpOnly, m_config.port}, {ListenerRole::WebSocketOnly, m_config.wsPort}};
    else
        plan = {{ListenerRole::Shared, m_config.port}};

    QList<QUrl> urls;
    for (const Plan &p : plan) {
        auto *listener = new FrontListener(p.role, &m_frontContext, this);
        if (tls)
            listener->enableTls(*tls, m_config.limits.headTimeoutMs);
        if (!listener->listen(address, quint16(p.port), &error)) {
            delete listener;
            for (FrontListener *l : std::as_const(m_listeners))
                l->close();
            qDeleteAll(m_listeners);
            m_listeners.clear();
            emit startFailed(error);
            return;
        }
        m_listeners << listener;
        // With --ws-port 0 the system picks the port: the hint in the 400 on
        // the HTTP port must name the real one, not 0 (tst_handshake).
        if (p.role == ListenerRole::WebSocketOnly)
            m_frontContext.wsPort = listener->port();
        urls << listenerUrl(m_config.host, listener->port(), m_config.tlsEnabled(),
                            p.role == ListenerRole::WebSocketOnly);
    }
    qCInfo(lcServer) << "listening on" << urls << "with" << m_workers->size() << "worker thread(s), event loop"
                       << qUtf8Printable(EventLoop::name(m_config.eventLoop));
    emit started(urls);
}

void SwitchboardServer::stop()
{
    if (m_stopping)
        return;
    m_stopping = true;
    for (FrontListener *l : std::as_const(m_listeners))
        l->close();
    const QString reason = QStringLiteral("server shutting down");
    // A handshake still on its way to its worker is in no registry yet, and
    // its 101 may be out already: it gets the same 1001 when it is adopted.
    if (m_workers)
        m_workers->closeNewSessions(reason);
    // 1001 to every client, then wait for their close frames (bounded).
    m_connections->closeAll(QWebSocketProtocol::CloseCodeGoingAway, reason);
    if (!m_workers || m_workers->connectionCount() == 0) {
        finishStop();
        return;
    }
    connect(m_connections, &ConnectionRegistry::becameEmpty, this, &SwitchboardServer::finishStopWhenDrained,
            Qt::QueuedConnection);
    // A handshake that fails before it is adopted never shows in the
    // registry, so the count is looked at now and then as well.
    m_drainCheck.start(10);
    m_graceTimer.start(m_config.limits.shutdownGraceMs);
}

void SwitchboardServer::finishStopWhenDrained()
{
    if (m_workers && m_workers->connectionCount() > 0)
        return;
    finishStop();
}

void SwitchboardServer::finishStop()
{
    if (!m_stopping || m_stopped)
        return;
    m_stopped = true;
    m_graceTimer.stop();
    m_drainCheck.stop();
    disconnect(m_connections, &ConnectionRegistry::becameEmpty, this, &SwitchboardServer::finishStopWhenDrained);
    if (m_workers && m_connections->count() > 0) {
        qCInfo(lcServer) << m_connections->count() << "connection(s) did not close in time; dropping them";
        m_workers->abortAll();
    }
    m_workers.reset();
    qCInfo(lcServer) << "stopped";
    emit stopped();
}
