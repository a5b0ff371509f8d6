#pragma once

#include <QElapsedTimer>
#include <QFrame>
#include <QList>
#include <QTimer>
#include <QUrl>

#include <memory>
#include <optional>

namespace Ui {
class ServerBar;
}
class ServerHost;
class QAction;

// The strip at the top of the window: state of the server, the addresses it
// listens on (selectable, with Copy), TLS, uptime, connection count, messages
// per second in and out, a warning while an upstream is failing,
// Start/Stop, and Restart on another port. It drives
// ServerHost with its asynchronous calls only and follows its signals.
class ServerBar : public QFrame
{
    Q_OBJECT
public:
    enum class State { Stopped, Starting, Running, Stopping, Failed };
    Q_ENUM(State)

    explicit ServerBar(QWidget *parent = nullptr);
    ~ServerBar() override;

    // Follows `host` from now on; picks up its state if it already runs.
    void setHost(ServerHost *host);

    State state() const { return m_state; }
    QString errorText() const { return m_error; }
    QString listenersText() const;
    int restartPort() const;
    void setRestartPort(int port);

    QAction *startAction() const { return m_start; }
    QAction *stopAction() const { return m_stop; }
    QAction *restartAction() const { return m_restart; }

    void start();
    void stop();
    // Stops the server if it runs and starts it again on `port` (0: any free).
    void restartOnPort(int port);

    void showConnectionCount(int connections);
    void showRates(double messagesInPerSecond, double messagesOutPerSecond);
    // A warning about failing upstreams ("upstream orders: timeout 3 s ago"),
    // with a warning icon; empty hides it.
    void showUpstreamWarning(const QString &text);
    QString upstreamWarningText() const { return m_upstreamWarning; }
    bool isUpstreamWarningShown() const;

signals:
    void stateChanged(ServerBar::State state);
    void statusMessage(const QString &message);

private:
    void setState(State state, const QString &error = QString());
    void startOnPort(int port);
    void onStarted(const QList<QUrl> &listeners);
    void onStartFailed(const QString &error);
    void onStopped();
    void updateUptime();

    std::unique_ptr<Ui::ServerBar> m_ui;
    ServerHost *m_host = nullptr;
    State m_state = State::Stopped;
    QString m_error;
    QString m_upstreamWarning;
    std::optional<int> m_pendingRestartPort;
    QElapsedTimer m_uptime;
    QTimer m_uptimeTimer;
    QAction *m_start = nullptr;
    QAction *m_stop = nullptr;
    QAction *m_restart = nullptr;
};
