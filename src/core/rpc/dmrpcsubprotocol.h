#pragma once

#include "ws/subprotocol.h"

class RpcEngine;
class TrafficLog;

// `dm-rpc`: Resonance's earlier tuple protocol (PRODUCT.md section 3).
//   client → server  [method, payload, requestId|null]   (null: notification)
//   server → client  [method, result, requestId]          (reply)
//                    [method, payload, null]               (push)
// Anything invalid closes the connection: 1002 for a malformed message or
// params the validator rejects, 1008 for an unknown or disabled method or a
// policy refusal, 1011 when the handler fails; the close reason (at most
// 123 bytes of UTF-8) says why.
class DmRpcSubprotocol final : public Subprotocol
{
public:
    static QString protocolName() { return QStringLiteral("dm-rpc"); }

    // `engine` must outlive every session; `log` may be null (no traffic log).
    DmRpcSubprotocol(RpcEngine *engine, TrafficLog *log);

    QString name() const override { return protocolName(); }
    QString description() const override;
    std::unique_ptr<ProtocolSession> createSession(ConnectionLink &link) override;

private:
    RpcEngine *m_engine;
    TrafficLog *m_log;
};
