#include "serverbar.h"

#include "ui_serverbar.h"

#include "displayformat.h"
#include "paletteiconengine.h"
#include "serverhost.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QStyle>

ServerBar::ServerBar(QWidget *parent)
    : QFrame(parent)
    , m_ui(std::make_unique<Ui::ServerBar>())
{
    m_ui->setupUi(this);
    for (QLabel *value : {m_ui->statusLabel, m_ui->tlsValue, m_ui->uptimeValue, m_ui->connectionsValue,
                          m_ui->inRateValue, m_ui->outRateValue}) {
        QFont bold = value->font();
        bold.setBold(true);
        value->setFont(bold);
    }
    // Rates and uptime change every second: fixed-width digits keep the bar still.
    const QFontMetrics fm(m_ui->inRateValue->font());
    for (QLabel *value : {m_ui->inRateValue, m_ui->outRateValue})
        value->setMinimumWidth(fm.horizontalAdvance(QStringLiteral("000,000/s")));
    m_ui->uptimeValue->setMinimumWidth(fm.horizontalAdvance(QStringLiteral("00:00:00")));
    m_ui->portSpin->setSpecialValueText(tr("any free"));

    m_ui->copyButton->setIcon(PaletteIconEngine::icon(QStringLiteral("copy")));
    connect(m_ui->copyButton, &QToolButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(listenersText());
        emit statusMessage(tr("Copied the listening addresses"));
    });

    m_start = new QAction(PaletteIconEngine::icon(QStringLiteral("start")), tr("&Start Server"), this);
    m_start->setObjectName(QStringLiteral("startServerAction"));
    m_start->setIconText(tr("Start"));
    m_start->setToolTip(tr("Start the server on the port shown"));
    connect(m_start, &QAction::triggered, this, [this] { startOnPort(restartPort()); });

    m_stop = new QAction(PaletteIconEngine::icon(QStringLiteral("stop")), tr("S&top Server"), this);
    m_stop->setObjectName(QStringLiteral("stopServerAction"));
    m_stop->setIconText(tr("Stop"));
    m_stop->setToolTip(tr("Stop the server; clients get close code 1001 (going away)"));
    connect(m_stop, &QAction::triggered, this, &ServerBar::stop);

    m_restart = new QAction(PaletteIconEngine::icon(QStringLiteral("restart")), tr("&Restart on Port"), this);
    m_restart->setObjectName(QStringLiteral("restartServerAction"));
    m_restart->setIconText(tr("Restart"));
    m_restart->setToolTip(tr("Stop the server and start it again on the port shown"));
    m_restart->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    connect(m_restart, &QAction::triggered, this, [this] { restartOnPort(restartPort()); });

    m_ui->restartButton->setDefaultAction(m_restart);
    m_ui->startStopButton->setDefaultAction(m_start);

    m_ui->upstreamWarningIcon->setPixmap(
        style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(QSize(16, 16), devicePixelRatioF()));
    m_ui->upstreamWarningLabel->setStyleSheet(QStringLiteral("color: #c62828; font-weight: bold;"));
    showUpstreamWarning(QString());

    m_uptimeTimer.setInterval(1000);
    connect(&m_uptimeTimer, &QTimer::timeout, this, &ServerBar::updateUptime);
    setState(State::Stopped);
}

ServerBar::~ServerBar() = default;

void ServerBar::setHost(ServerHost *host)
{
    if (m_host)
        disconnect(m_host, nullptr, this, nullptr);
    m_host = host;
    if (!host)
        return;
    connect(host, &ServerHost::started, this, &ServerBar::onStarted);
    connect(host, &ServerHost::startFailed, this, &ServerBar::onStartFailed);
    connect(host, &ServerHost::stopped, this, &ServerBar::onStopped);
    setRestartPort(host->config().port);
    if (host->isRunning())
        onStarted(host->listeners());
}

QString ServerBar::listenersText() const
{
    if (!m_host)
        return QString();
    QStringList urls;
    for (const QUrl &url : m_host->listeners())
        urls << url.toString();
    return urls.join(QLatin1Char('\n'));
}

int ServerBar::restartPort() const
{
    return m_ui->portSpin->value();
}

void ServerBar::setRestartPort(int port)
{
    m_ui->portSpin->setValue(port);
}

void ServerBar::start()
{
    if (!m_host || m_state == State::Running || m_state == State::Starting || m_state == State::Stopping)
        return;
    setState(State::Starting);
    m_host->start();
}

void ServerBar::stop()
{
    if (!m_host || m_state == State::Stopped || m_state == State::Stopping || m_state == State::Failed)
        return;
    m_pendingRestartPort.reset();
    setState(State::Stopping);
    m_host->stop();
}

void ServerBar::restartOnPort(int port)
{
    if (!m_host || m_state == State::Stopping)
        return;
    if (m_state == State::Running || m_state == State::Starting) {
        m_pendingRestartPort = port;
        setState(State::Stopping);
        m_host->stop(); // onStopped() starts it again
        return;
    }
    startOnPort(port);
}

void ServerBar::startOnPort(int port)
{
    if (!m_host)
        return;
    ServerConfig config = m_host->config();
    if (config.port != port) {
        config.port = port;
        QString error;
        if (!config.validate(&error)) {
            onStartFailed(error);
            return;
        }
        m_host->setConfig(config);
    }
    start();
}

void ServerBar::onStarted(const QList<QUrl> &listeners)
{
    m_uptime.start();
    m_uptimeTimer.start();
    if (!listeners.isEmpty())
        setRestartPort(listeners.first().port());
    setState(State::Running);
    emit statusMessage(tr("Listening on %1").arg(listenersText().replace(QLatin1Char('\n'), QStringLiteral(", "))));
}

void ServerBar::onStartFailed(const QString &error)
{
    m_uptimeTimer.stop();
    setState(State::Failed, error);
}

void ServerBar::onStopped()
{
    m_uptimeTimer.stop();
    if (m_pendingRestartPort) {
        const int port = *m_pendingRestartPort;
        m_pendingRestartPort.reset();
        setState(State::Stopped);
        startOnPort(port);
        return;
    }
    setState(State::Stopped);
    emit statusMessage(tr("Server stopped"));
}

void ServerBar::setState(State state, const QString &error)
{
    m_state = state;
    m_error = error;
    QString status;
    QString icon = QStringLiteral("status-stopped");
    switch (state) {
    case State::Stopped: status = tr("Stopped"); break;
    case State::Starting: status = tr("Starting…"); break;
    case State::Running: status = tr("Running"); icon = QStringLiteral("status-running"); break;
    case State::Stopping: status = tr("Stopping…"); icon = QStringLiteral("status-running"); break;
    case State::Failed: status = tr("Not running"); icon = QStringLiteral("status-failed"); break;
    }
    m_ui->statusLabel->setText(status);
    m_ui->statusIcon->setPixmap(PaletteIconEngine::artwork(icon).pixmap(QSize(16, 16), devicePixelRatioF()));

    const bool running = state == State::Running;
    if (state == State::Failed)
        m_ui->listenersLabel->setText(error);
    else if (running)
        m_ui->listenersLabel->setText(listenersText().replace(QLatin1Char('\n'), QStringLiteral("   ")));
    else
        m_ui->listenersLabel->setText(QString());
    m_ui->copyButton->setEnabled(running);

    const bool tls = m_host && m_host->config().tlsEnabled();
    m_ui->tlsValue->setText(running ? (tls ? tr("on") : tr("off")) : QStringLiteral("—"));
    if (!running) {
        m_ui->uptimeValue->setText(QStringLiteral("—"));
        showRates(0, 0);
    } else {
        updateUptime();
    }

    m_start->setEnabled(m_host && (state == State::Stopped || state == State::Failed));
    m_stop->setEnabled(m_host && (state == State::Running || state == State::Starting));
    m_restart->setEnabled(m_host && state != State::Stopping && state != State::Starting);
    // One button, two actions; a QToolButton holding both would show a menu arrow.
    QAction *shown = state == State::Running || state == State::Starting || state == State::Stopping ? m_stop
                                                                                                      : m_start;
    if (m_ui->startStopButton->defaultAction() != shown) {
        if (QAction *previous = m_ui->startStopButton->defaultAction())
            m_ui->startStopButton->removeAction(previous);
        m_ui->startStopButton->setDefaultAction(shown);
    }
    emit stateChanged(state);
}

void ServerBar::updateUptime()
{
    if (m_state == State::Running)
        m_ui->uptimeValue->setText(DisplayFormat::duration(m_uptime.elapsed() / 1000));
}

void ServerBar::showConnectionCount(int connections)
{
    m_ui->connectionsValue->setText(DisplayFormat::count(quint64(qMax(0, connections))));
}

void ServerBar::showRates(double messagesInPerSecond, double messagesOutPerSecond)
{
    m_ui->inRateValue->setText(DisplayFormat::rate(messagesInPerSecond));
    m_ui->outRateValue->setText(DisplayFormat::rate(messagesOutPerSecond));
}

void ServerBar::showUpstreamWarning(const QString &text)
{
    const bool wasShown = !m_upstreamWarning.isEmpty();
    m_upstreamWarning = text;
    m_ui->upstreamWarningLabel->setText(text);
    for (QWidget *w : {static_cast<QWidget *>(m_ui->upstreamWarningLine), static_cast<QWidget *>(m_ui->upstreamWarningIcon),
                       static_cast<QWidget *>(m_ui->upstreamWarningLabel)})
        w->setHidden(text.isEmpty());
    if (wasShown != !text.isEmpty())
        emit statusMessage(text.isEmpty() ? tr("Upstreams answer again") : tr("Failing: %1").arg(text));
}

bool ServerBar::isUpstreamWarningShown() const
{
    return !m_ui->upstreamWarningLabel->isHidden();
}
