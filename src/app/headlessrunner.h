#pragma once

#include <QObject>

class ServerHost;

// Runs the server without a window: prints the listening lines on stdout,
// stops cleanly on SIGINT/SIGTERM (1001 to every client, exit code 0) and
// exits with 2 when the server cannot start.
class HeadlessRunner : public QObject
{
    Q_OBJECT
public:
    explicit HeadlessRunner(ServerHost *host, QObject *parent = nullptr);
    void start();

private:
    ServerHost *m_host;
};
