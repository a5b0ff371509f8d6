#pragma once

#include "eventloop/eventloop.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

// Limits that Qt does not enforce on its own (see docs/ARCHITECTURE.md).
// Every one is on by default; 0 never means "unlimited" except where noted.
struct ServerLimits
{
    int maxHeadBytes = 16 * 1024;           // request head cap → 431
    int headTimeoutMs = 10'000;             // head must be complete by then → close
    int httpIdleTimeoutMs = 30'000;         // keep-alive connection with no request → close
    qint64 maxHttpBodyBytes = 1024 * 1024;  // request body cap → 413
    qint64 maxMessageBytes = 1024 * 1024;   // WebSocket message cap → close 1009
    qint64 maxFrameBytes = 1024 * 1024;     // WebSocket frame cap → close 1009
    qint64 maxOutgoingBytes = 16 * 1024 * 1024; // unsent bytes to one client → close 1008 (slow consumer)
    int maxConnections = 1000;              // live WebSocket connections → 503
    int maxPendingSockets = 4096;           // accepted sockets still sending their head
    int pingIntervalMs = 30'000;            // keep-alive ping period
    int pingTimeoutMs = 10'000;             // no pong by then → connection dropped
    int shutdownGraceMs = 2'000;            // wait for close handshakes on stop
};

struct ServerConfig
{
    QString host = QStringLiteral("127.0.0.1");
    int port = 8080;
    int wsPort = -1;                 // -1: WebSocket shares the HTTP port
    QString adminToken;              // guards /api/*; required beyond loopback
    QString clientToken;             // required on every WebSocket handshake when set
    QStringList allowedOrigins;      // empty: any Origin is accepted
    QString catalogFile;             // empty: the bundled default catalog
    QString pluginsDir;
    QStringList validatorOrder;      // names of validators in force, in order; empty: all, catalog first
    QJsonObject validatorSettings;   // validator name → its own settings object
    QJsonObject handlerSettings;     // handler plugin name → its own settings object (read at start)
    QString stateFile;               // where method on/off switches persist; empty: QSettings default
    QString tlsCertificateFile;      // both set: the listeners speak TLS (https/wss)
    QString tlsKeyFile;
    int workerThreads = 0;           // 0: one per core
    // The dispatcher of the core and worker threads; the GUI keeps Qt's.
    EventLoopKind eventLoop = EventLoop::defaultKind();
    // A handshake that offers no subprotocol gets this one (empty: refused,
    // 400); the 101 then names none (PRODUCT.md section 3).
    QString defaultSubprotocol;
    // jsonrpc answers requests without "id" with "id": null, as Resonance does.
    bool resonanceCompat = false;
    ServerLimits limits;

    bool tlsEnabled() const { return !tlsCertificateFile.isEmpty() || !tlsKeyFile.isEmpty(); }
    bool separateWebSocketPort() const { return wsPort >= 0; }
    int effectiveWorkerThreads() const;

    // Overlays the keys present in `json` onto this config. Unknown keys and
    // values of the wrong type are errors, so typos do not pass silently.
    bool applyJson(const QJsonObject &json, QString *error);
    // Reads a JSON config file and applies it.
    bool loadFile(const QString &path, QString *error);
    // Checks the combination (ports, token beyond loopback, TLS pair ...).
    bool validate(QString *error) const;

    QJsonObject toJson() const;
};
