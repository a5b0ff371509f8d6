#pragma once

#include <QSystemTrayIcon>

#include <memory>

class QAction;
class QMenu;

// The notification-area icon: the application icon with the live connection
// count as a badge, a tooltip with the count and the listening addresses,
// Show/Hide Window and Quit. Create it only when
// QSystemTrayIcon::isSystemTrayAvailable().
class TrayIcon : public QSystemTrayIcon
{
    Q_OBJECT
public:
    explicit TrayIcon(QWidget *window, QObject *parent = nullptr);
    ~TrayIcon() override;

    void setConnectionCount(int connections);
    int connectionCount() const { return m_connections; }
    // One address per line; empty when the server does not run.
    void setListeners(const QString &listeners);
    // Redraws the badge (after a palette change).
    void refresh();

    QAction *quitAction() const { return m_quit; }

signals:
    void quitRequested();

private:
    void updateToolTip();
    void toggleWindow();

    QWidget *m_window;
    std::unique_ptr<QMenu> m_menu;
    QAction *m_toggleWindow = nullptr;
    QAction *m_quit = nullptr;
    int m_connections = -1;
    QString m_listeners;
};
