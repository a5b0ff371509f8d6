#pragma once

#include <QMainWindow>

#include <memory>

namespace Ui {
class MainWindow;
}
class CatalogRpcEngine;
class ConnectionMonitor;
class ConnectionTableModel;
class ConnectionsView;
class DashboardSettings;
class MethodsModel;
class MethodsView;
class RateChartWidget;
class RateHistory;
class RefusedHandshakeModel;
class RefusedHandshakesView;
class ServerBar;
class ServerHost;
class Switchboard;
class TrafficLog;
class TrafficModel;
class TrafficView;
class TrayIcon;
class UpstreamHealth;
class QDockWidget;
class QTabWidget;

// The dashboard window over a ServerHost: the server bar on top, the views
// as tabs (Connections, Refused handshakes; over a whole Switchboard also
// Traffic and Methods, with a warning in the server bar and on the Methods
// tab while an upstream is failing), the rate chart as a dock (addPanel() for more),
// a tray icon when the desktop has a tray. One ConnectionMonitor is the
// refresh clock of every view (10 Hz); nothing here waits for the server.
//
// Closing the window or Quit stops the server (clients get 1001), saves the
// settings and then emits shutdownFinished(); the application quits on it.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    // The server as shipped: every view, Traffic and Methods included.
    MainWindow(Switchboard *server, DashboardSettings *settings, QWidget *parent = nullptr);
    // A bare core (tests, other engines): Connections and Refused handshakes only.
    MainWindow(ServerHost *host, DashboardSettings *settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    // Starts the server unless it already runs (the window follows it either way).
    void startServer();

    // A view as a tab, with a Ctrl+<n> shortcut in the View menu; a view that
    // implements DashboardView also gets Ctrl+F and its saved settings.
    void addView(QWidget *view, const QIcon &icon, const QString &title);
    // A panel as a dock widget, remembered in the window state by `objectName`.
    QDockWidget *addPanel(QWidget *panel, const QString &objectName, const QString &title,
                          Qt::DockWidgetArea area);
    // Brings the view with this DashboardView::viewKey() (or object name) to the front.
    bool showView(const QString &viewKey);

    ServerHost *host() const { return m_host; }
    ConnectionMonitor *monitor() const { return m_monitor; }
    RateHistory *rateHistory() const { return m_rates; }
    ServerBar *serverBar() const;
    QTabWidget *viewTabs() const;
    ConnectionTableModel *connectionModel() const { return m_connectionModel; }
    RefusedHandshakeModel *refusedModel() const { return m_refusedModel; }
    ConnectionsView *connectionsView() const { return m_connectionsView; }
    RefusedHandshakesView *refusedView() const { return m_refusedView; }
    RateChartWidget *rateChart() const { return m_rateChart; }
    // Null when the window was made over a bare ServerHost.
    TrafficModel *trafficModel() const { return m_trafficModel; }
    TrafficView *trafficView() const { return m_trafficView; }
    MethodsModel *methodsModel() const { return m_methodsModel; }
    MethodsView *methodsView() const { return m_methodsView; }
    // The catalog's upstreams, re-read on every tick; null without an engine.
    UpstreamHealth *upstreamHealth() const { return m_upstreamHealth; }
    TrayIcon *trayIcon() const { return m_tray; } // null without a system tray

    void saveSettings();
    // True once shutdownFinished() has been emitted.
    bool hasShutDown() const { return m_shutdownDone; }

public slots:
    // Saves the settings, stops the server and emits shutdownFinished().
    void requestQuit();

signals:
    void shutdownFinished();

protected:
    void closeEvent(QCloseEvent *event) override;
    void changeEvent(QEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    MainWindow(ServerHost *host, TrafficLog *traffic, CatalogRpcEngine *engine, DashboardSettings *settings,
               QWidget *parent);
    bool restoreSettings(); // false when there was no saved window state
    void onPolled();
    void onUpstreamsRefreshed();
    void onServerStateChanged();
    void focusSearch();
    void finishShutdown();
    void showAbout();

    std::unique_ptr<Ui::MainWindow> m_ui;
    ServerHost *m_host;
    DashboardSettings *m_settings;
    ConnectionMonitor *m_monitor;
    RateHistory *m_rates;
    ConnectionTableModel *m_connectionModel;
    RefusedHandshakeModel *m_refusedModel;
    ConnectionsView *m_connectionsView;
    RefusedHandshakesView *m_refusedView;
    RateChartWidget *m_rateChart;
    TrafficModel *m_trafficModel = nullptr;
    TrafficView *m_trafficView = nullptr;
    MethodsModel *m_methodsModel = nullptr;
    MethodsView *m_methodsView = nullptr;
    UpstreamHealth *m_upstreamHealth = nullptr;
    bool m_upstreamFailing = false;
    TrayIcon *m_tray = nullptr;
    QDockWidget *m_firstRunDock = nullptr;
    QString m_savedView;
    bool m_shuttingDown = false;
    bool m_shutdownDone = false;
};
