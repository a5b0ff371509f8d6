#pragma once

#include "dashboardview.h"

#include <QList>
#include <QWebSocketProtocol>
#include <QWidget>

#include <memory>

namespace Ui {
class ConnectionsView;
}
class ConnectionRegistry;
class ConnectionTableModel;
class ConnectionFilterProxyModel;
class QAction;
class QTableView;

// The live connections table with its filters (text across the fields a
// connection keeps, its user, its path, the negotiated subprotocol) and what can be done to a connection: disconnect
// (1000, or 1008 with a reason), send it a text message or a notification,
// copy its row. Every action goes through ConnectionRegistry, which queues
// the call to the connection's worker: nothing here waits for the server.
class ConnectionsView : public QWidget, public DashboardView
{
    Q_OBJECT
public:
    ConnectionsView(ConnectionTableModel *model, ConnectionRegistry *registry, QWidget *parent = nullptr);
    ~ConnectionsView() override;

    // The subprotocols offered in the filter combo (the server's registered ones).
    void setSubprotocols(const QStringList &names);
    void setSubprotocolFilter(const QString &name); // empty: all

    QTableView *table() const;
    ConnectionFilterProxyModel *proxyModel() const { return m_proxy; }
    QList<quint64> selectedConnections() const;
    bool selectConnection(quint64 id);

    QAction *disconnectAction() const { return m_disconnect; }
    QAction *disconnectPolicyAction() const { return m_disconnectPolicy; }
    QAction *sendMessageAction() const { return m_sendMessage; }
    QAction *sendNotificationAction() const { return m_sendNotification; }
    QAction *copyAction() const { return m_copy; }
    // "Show Its Traffic Only": emits showTrafficRequested() for the selected
    // connection; disabled until setTrafficAvailable(true).
    QAction *showTrafficAction() const { return m_showTraffic; }
    void setTrafficAvailable(bool available);

    // What the actions do once their dialogs are answered; each returns how
    // many connections were still there to ask.
    int disconnectConnections(const QList<quint64> &ids, QWebSocketProtocol::CloseCode code, const QString &reason);
    int sendText(const QList<quint64> &ids, const QString &text);
    int sendNotification(const QList<quint64> &ids, const QString &method, const QByteArray &paramsJson);

    QString viewKey() const override { return QStringLiteral("connections"); }
    void focusSearch() override;
    void saveSettings(DashboardSettings &settings) const override;
    void restoreSettings(const DashboardSettings &settings) override;

signals:
    void statusMessage(const QString &message);
    void showTrafficRequested(quint64 connectionId);

private:
    void createActions();
    void showContextMenu(const QPoint &pos);
    void updateActions();
    void updateCount();
    void askPolicyReason();
    void askMessage();
    void askNotification();
    void copySelection();
    QString describe(const QList<quint64> &ids) const;

    std::unique_ptr<Ui::ConnectionsView> m_ui;
    ConnectionTableModel *m_model;
    ConnectionRegistry *m_registry;
    ConnectionFilterProxyModel *m_proxy;
    QAction *m_disconnect = nullptr;
    QAction *m_disconnectPolicy = nullptr;
    QAction *m_sendMessage = nullptr;
    QAction *m_sendNotification = nullptr;
    QAction *m_copy = nullptr;
    QAction *m_showTraffic = nullptr;
    bool m_trafficAvailable = false;
};
