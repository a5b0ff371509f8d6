#include "mainwindow.h"

#include "ui_mainwindow.h"

#include "connectionmonitor.h"
#include "connectionsview.h"
#include "connectiontablemodel.h"
#include "dashboardsettings.h"
#include "dashboardview.h"
#include "methodsmodel.h"
#include "methodsview.h"
#include "paletteiconengine.h"
#include "ratechartwidget.h"
#include "ratehistory.h"
#include "refusedhandshakemodel.h"
#include "refusedhandshakesview.h"
#include "serverbar.h"
#include "serverhost.h"
#include "rpc/catalogrpcengine.h"
#include "ws/subprotocolregistry.h"
#include "switchboard.h"
#include "trafficmodel.h"
#include "trafficview.h"
#include "trayicon.h"
#include "upstreamhealth.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QMessageBox>
#include <QStyle>
#include <QTimer>

MainWindow::MainWindow(Switchboard *server, DashboardSettings *settings, QWidget *parent)
    : MainWindow(server->host(), server->traffic(), server->engine(), settings, parent)
{
}

MainWindow::MainWindow(ServerHost *host, DashboardSettings *settings, QWidget *parent)
    : MainWindow(host, nullptr, nullptr, settings, parent)
{
}

MainWindow::MainWindow(ServerHost *host, TrafficLog *traffic, CatalogRpcEngine *engine, DashboardSettings *settings,
                       QWidget *parent)
    : QMainWindow(parent)
    , m_ui(std::make_unique<Ui::MainWindow>())
    , m_host(host)
    , m_settings(settings)
    , m_monitor(new ConnectionMonitor(host->connections(), this))
    , m_rates(new RateHistory(this))
    , m_connectionModel(new ConnectionTableModel(m_monitor, this))
    , m_refusedModel(new RefusedHandshakeModel(m_monitor, this))
{
    m_ui->setupUi(this);
    setWindowIcon(PaletteIconEngine::artwork(QStringLiteral("switchboard")));
    m_ui->actionQuit->setShortcut(QKeySequence::Quit);
    m_ui->actionQuit->setIcon(PaletteIconEngine::icon(QStringLiteral("quit")));
    m_ui->actionFind->setShortcut(QKeySequence::Find);
    m_ui->actionFind->setIcon(PaletteIconEngine::icon(QStringLiteral("search")));
    connect(m_ui->actionQuit, &QAction::triggered, this, &MainWindow::requestQuit);
    connect(m_ui->actionFind, &QAction::triggered, this, &MainWindow::focusSearch);
    connect(m_ui->actionAbout, &QAction::triggered, this, &MainWindow::showAbout);
    connect(m_ui->actionAboutQt, &QAction::triggered, qApp, &QApplication::aboutQt);

    // Server bar and its actions in the Server menu.
    ServerBar *bar = m_ui->serverBar;
    bar->setHost(host);
    m_ui->menuServer->addAction(bar->startAction());
    m_ui->menuServer->addAction(bar->stopAction());
    m_ui->menuServer->addAction(bar->restartAction());
    connect(bar, &ServerBar::statusMessage, this, [this](const QString &message) {
        statusBar()->showMessage(message, 5000);
    });
    connect(bar, &ServerBar::stateChanged, this, &MainWindow::onServerStateChanged);

    // Views.
    m_connectionsView = new ConnectionsView(m_connectionModel, host->connections(), this);
    m_connectionsView->setSubprotocols(host->subprotocols()->allNames());
    m_refusedView = new RefusedHandshakesView(m_refusedModel, this);
    const auto showStatus = [this](const QString &message) { statusBar()->showMessage(message, 5000); };
    connect(m_connectionsView, &ConnectionsView::statusMessage, this, showStatus);
    m_savedView = m_settings ? m_settings->currentView() : QString();
    addView(m_connectionsView, PaletteIconEngine::icon(QStringLiteral("connections")), tr("Connections"));
    if (traffic) {
        // Read on the monitor's tick, in batches; the server never waits for it.
        m_trafficModel = new TrafficModel(traffic, m_monitor, this);
        m_trafficView = new TrafficView(m_trafficModel, this);
        connect(m_trafficView, &TrafficView::statusMessage, this, showStatus);
        if (engine)
            m_trafficView->setMethods(engine->methods()->names());
        addView(m_trafficView, PaletteIconEngine::icon(QStringLiteral("traffic")), tr("Traffic"));
        m_connectionsView->setTrafficAvailable(true);
        connect(m_connectionsView, &ConnectionsView::showTrafficRequested, this, [this](quint64 connectionId) {
            m_trafficView->setConnectionFilter(connectionId);
            showView(m_trafficView->viewKey());
        });
    }
    if (engine) {
        // Before the methods model: both follow the monitor's tick, this first.
        m_upstreamHealth = new UpstreamHealth(engine->upstreams(), m_monitor, this);
        m_methodsModel = new MethodsModel(engine->methods(), m_monitor, this);
        m_methodsModel->setUpstreamHealth(m_upstreamHealth);
        m_methodsView = new MethodsView(m_methodsModel, engine, this);
        connect(m_methodsView, &MethodsView::statusMessage, this, showStatus);
        addView(m_methodsView, PaletteIconEngine::icon(QStringLiteral("methods")), tr("Methods"));
        connect(m_upstreamHealth, &UpstreamHealth::refreshed, this, &MainWindow::onUpstreamsRefreshed);
        onUpstreamsRefreshed();
    }
    addView(m_refusedView, PaletteIconEngine::icon(QStringLiteral("refused")), tr("Refused Handshakes"));

    // Rates as a dock under the views.
    m_rateChart = new RateChartWidget(m_rates, this);
    QDockWidget *ratesDock = addPanel(m_rateChart, QStringLiteral("ratesDock"), tr("Rates"), Qt::BottomDockWidgetArea);

    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new TrayIcon(this, this);
        connect(m_tray, &TrayIcon::quitRequested, this, &MainWindow::requestQuit);
        m_tray->show();
    }

    connect(m_monitor, &ConnectionMonitor::polled, this, &MainWindow::onPolled);
    connect(m_rates, &RateHistory::sampleAdded, this, [this] {
        const RateHistory::Sample s = m_rates->latest();
        if (m_ui->serverBar->state() == ServerBar::State::Running)
            m_ui->serverBar->showRates(s.messagesInPerSecond, s.messagesOutPerSecond);
    });

    if (!restoreSettings())
        m_firstRunDock = ratesDock; // sized on first show, when the window has its size
    onServerStateChanged();
    m_monitor->poll();
    m_monitor->start();
}

MainWindow::~MainWindow() = default;

ServerBar *MainWindow::serverBar() const
{
    return m_ui->serverBar;
}

QTabWidget *MainWindow::viewTabs() const
{
    return m_ui->viewTabs;
}

void MainWindow::startServer()
{
    m_ui->serverBar->start();
}

void MainWindow::addView(QWidget *view, const QIcon &icon, const QString &title)
{
    auto *dashboardView = dynamic_cast<DashboardView *>(view);
    if (dashboardView) {
        view->setObjectName(dashboardView->viewKey());
        if (m_settings)
            dashboardView->restoreSettings(*m_settings);
    }
    const int index = m_ui->viewTabs->addTab(view, icon, title);
    if (index < 9) {
        QAction *show = m_ui->menuView->addAction(icon, title);
        show->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + index)));
        connect(show, &QAction::triggered, this, [this, view] { m_ui->viewTabs->setCurrentWidget(view); });
    }
    if (!m_savedView.isEmpty() && view->objectName() == m_savedView)
        m_ui->viewTabs->setCurrentWidget(view);
}

QDockWidget *MainWindow::addPanel(QWidget *panel, const QString &objectName, const QString &title,
                                  Qt::DockWidgetArea area)
{
    auto *dock = new QDockWidget(title, this);
    dock->setObjectName(objectName);
    dock->setWidget(panel);
    addDockWidget(area, dock);
    QAction *toggle = dock->toggleViewAction();
    if (objectName == QLatin1String("ratesDock"))
        toggle->setIcon(PaletteIconEngine::icon(QStringLiteral("rates")));
    m_ui->menuView->addAction(toggle);
    restoreDockWidget(dock); // after restoreState(): panels added later keep their place
    return dock;
}

bool MainWindow::showView(const QString &viewKey)
{
    for (int i = 0; i < m_ui->viewTabs->count(); ++i) {
        if (m_ui->viewTabs->widget(i)->objectName() == viewKey) {
            m_ui->viewTabs->setCurrentIndex(i);
            return true;
        }
    }
    return false;
}

void MainWindow::onPolled()
{
    const int connections = m_monitor->connectionCount();
    const TrafficTotals &totals = m_monitor->totals();
    m_rates->record(m_monitor->lastPollMs(), totals.messagesIn, totals.messagesOut, connections);
    m_ui->serverBar->showConnectionCount(connections);
    if (m_tray)
        m_tray->setConnectionCount(connections);
}

void MainWindow::onUpstreamsRefreshed()
{
    const QString warning = m_upstreamHealth->warningText();
    if (warning != m_ui->serverBar->upstreamWarningText())
        m_ui->serverBar->showUpstreamWarning(warning);
    const bool failing = !warning.isEmpty();
    if (failing == m_upstreamFailing)
        return;
    m_upstreamFailing = failing;
    const int tab = m_ui->viewTabs->indexOf(m_methodsView);
    if (tab < 0)
        return;
    m_ui->viewTabs->setTabIcon(tab, failing ? style()->standardIcon(QStyle::SP_MessageBoxWarning)
                                            : PaletteIconEngine::icon(QStringLiteral("methods")));
    m_ui->viewTabs->setTabToolTip(tab, failing ? tr("An upstream is failing: the marked methods say how") : QString());
}

void MainWindow::onServerStateChanged()
{
    ServerBar *bar = m_ui->serverBar;
    switch (bar->state()) {
    case ServerBar::State::Running:
        setWindowTitle(tr("Switchboard — %1").arg(bar->listenersText().section(QLatin1Char('\n'), 0, 0)));
        m_connectionsView->setSubprotocols(m_host->subprotocols()->allNames());
        break;
    case ServerBar::State::Failed:
        setWindowTitle(tr("Switchboard — not running"));
        statusBar()->showMessage(tr("The server could not start: %1").arg(bar->errorText()));
        break;
    case ServerBar::State::Stopped:
        setWindowTitle(tr("Switchboard — stopped"));
        break;
    case ServerBar::State::Starting:
    case ServerBar::State::Stopping:
        break;
    }
    if (m_tray)
        m_tray->setListeners(bar->state() == ServerBar::State::Running ? bar->listenersText() : QString());
    if (m_shuttingDown && (bar->state() == ServerBar::State::Stopped || bar->state() == ServerBar::State::Failed))
        finishShutdown();
}

void MainWindow::focusSearch()
{
    if (auto *view = dynamic_cast<DashboardView *>(m_ui->viewTabs->currentWidget()))
        view->focusSearch();
}

void MainWindow::saveSettings()
{
    if (!m_settings)
        return;
    m_settings->setWindowGeometry(saveGeometry());
    m_settings->setWindowState(saveState());
    m_settings->setCurrentView(m_ui->viewTabs->currentWidget() ? m_ui->viewTabs->currentWidget()->objectName()
                                                               : QString());
    for (int i = 0; i < m_ui->viewTabs->count(); ++i) {
        if (auto *view = dynamic_cast<DashboardView *>(m_ui->viewTabs->widget(i)))
            view->saveSettings(*m_settings);
    }
    m_settings->sync();
}

bool MainWindow::restoreSettings()
{
    if (!m_settings)
        return false;
    const QByteArray geometry = m_settings->windowGeometry();
    if (!geometry.isEmpty())
        restoreGeometry(geometry);
    const QByteArray state = m_settings->windowState();
    return !state.isEmpty() && restoreState(state);
}

void MainWindow::requestQuit()
{
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    saveSettings();
    ServerBar *bar = m_ui->serverBar;
    bar->stop();
    if (bar->state() != ServerBar::State::Stopping) {
        finishShutdown();
        return;
    }
    statusBar()->showMessage(tr("Stopping the server…"));
    // The server bounds its own shutdown (grace period); this is a last resort.
    QTimer::singleShot(m_host->config().limits.shutdownGraceMs + 5000, this, &MainWindow::finishShutdown);
}

void MainWindow::finishShutdown()
{
    if (m_shutdownDone)
        return;
    m_shutdownDone = true;
    m_monitor->stop();
    if (m_tray)
        m_tray->hide();
    close(); // accepted now
    emit shutdownFinished();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_shutdownDone) {
        event->accept();
        return;
    }
    event->ignore();
    requestQuit();
}

void MainWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    if (m_firstRunDock) {
        // First run: a chart tall enough to read, about a third of the window.
        resizeDocks({m_firstRunDock}, {qMax(fontMetrics().height() * 14, height() / 3)}, Qt::Vertical);
        m_firstRunDock = nullptr;
    }
}

void MainWindow::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange && m_tray)
        m_tray->refresh();
    QMainWindow::changeEvent(event);
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About Switchboard"),
                       tr("<h3>Switchboard %1</h3>"
                          "<p>A WebSocket RPC server you can see into: live connections with their "
                          "subprotocols, refused handshakes, RPC traffic and methods.</p>"
                          "<p>Built with Qt %2, running on Qt %3.</p>")
                           .arg(QCoreApplication::applicationVersion(), QStringLiteral(QT_VERSION_STR),
                                QString::fromLatin1(qVersion())));
}
