#pragma once

#include <QObject>

class QSocketNotifier;

// Turns SIGINT and SIGTERM into a Qt signal on the thread that created it, so
// that a service manager, a terminal's Ctrl+C or `kill` stop the server the
// same clean way (1001 to every client) whether or not a window is open.
// The handler itself only writes one byte to a socket pair (async-signal-safe);
// the event loop does the rest. No effect outside Unix.
class StopSignals : public QObject
{
    Q_OBJECT
public:
    explicit StopSignals(QObject *parent = nullptr);

signals:
    // `name` is "SIGINT" or "SIGTERM".
    void received(const QString &name);

private:
    void onReadable();

    QSocketNotifier *m_notifier = nullptr;
};
