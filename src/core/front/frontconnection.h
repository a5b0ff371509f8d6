#pragma once

#include "serverconfig.h"

#include <QBasicTimer>
#include <QObject>
#include <QPointer>

class ConnectionRegistry;
class FrontListener;
class HttpExchangeSocket;
class HttpSide;
class QTcpSocket;
class RequestHead;
class UpgradeDispatcher;

// Which traffic a listener takes (PRODUCT.md section 1, --ws-port).
enum class ListenerRole { Shared, HttpOnly, WebSocketOnly };

// What every FrontConnection of a server shares.
struct FrontContext
{
    ServerLimits limits;
    HttpSide *http = nullptr;
    UpgradeDispatcher *upgrades = nullptr;
    ConnectionRegistry *connections = nullptr;
    int wsPort = -1; // for the hint in the 400 on the HTTP-only port
};

// One accepted TCP connection until it becomes a WebSocket or ends. Reads
// each request head without consuming it (peek), enforces the head size and
// time limits, and then either hands an upgrade to the UpgradeDispatcher or
// frames one plain HTTP request (head plus Content-Length body) and delivers
// it to QHttpServer through an HttpExchangeSocket. Requests are handled one
// at a time, so pipelining and keep-alive followed by an upgrade both work.
class FrontConnection : public QObject
{
    Q_OBJECT
public:
    // `listener` is the parent, told when the connection waits for a new
    // request head and when it is finished.
    FrontConnection(QTcpSocket *socket, ListenerRole role, bool tls, const FrontContext *context,
                    FrontListener *listener);
    ~FrontConnection() override;

    void start();
    void shutdown();
    // Waiting for the head of a request (none sent yet, part of one, or idle
    // between keep-alive requests): what the listener may evict under a flood.
    bool isAwaitingHead() const { return m_state == State::AwaitingRequest && !m_headComplete; }

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    enum class State { AwaitingRequest, Closing, HandedOver };

    void processInput();
    bool handleUpgrade(const RequestHead &head);
    bool handlePlainRequest(const RequestHead &head, int headLength);
    // After a plain request was answered: Connection: close / HTTP/1.0, the
    // keep-alive idle timer. Returns whether the next request may follow.
    bool finishPlainExchange(const RequestHead &head, int status, bool answeredByFront);
    void armTimer(int ms);
    void onTimeout();
    void respondAndClose(const QByteArray &response);
    void halfCloseWhenFlushed();
    void finish();
    void recordHeadFailure(int status, const char *cause, const QString &reason, const QByteArray &partialHead);

    QTcpSocket *m_socket;
    FrontListener *m_listener;
    ListenerRole m_role;
    bool m_tls;
    const FrontContext *m_context;
    State m_state = State::AwaitingRequest;
    QPointer<HttpExchangeSocket> m_exchange;
    QBasicTimer m_timer; // single shot: head, keep-alive idle or linger timeout
    bool m_requestStarted = false;  // bytes of the current request have arrived
    bool m_headComplete = false;    // the current request's head is complete (its body may not be)
    bool m_continueSent = false;    // "100 Continue" answered for the current request
    bool m_finished = false;
};
