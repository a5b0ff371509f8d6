#pragma once

#include "ws/subprotocol.h"

class RpcEngine;
class TrafficLog;

struct JsonRpcOptions
{
    // Requests in one batch; a longer batch gets one -32600 error (not an
    // array). The 1 MiB message limit alone would allow ~500,000 elements.
    int maxBatchSize = 10'000;
    // Resonance answers a request without "id" (its chat tutorial reads the
    // result); JSON-RPC 2.0 calls it a notification. On: it gets its reply
    // with "id": null (PRODUCT.md section 3, "resonanceCompat").
    bool resonanceCompat = false;
};

// `jsonrpc`: JSON-RPC 2.0 over text frames (PRODUCT.md section 3), the
// envelope of Resonance's WebSocket RPC clients. Errors are replies; the
// connection is never dropped for what a message says.
class JsonRpcSubprotocol final : public Subprotocol
{
public:
    static QString protocolName() { return QStringLiteral("jsonrpc"); }

    // `engine` must outlive every session; `log` may be null (no traffic log).
    JsonRpcSubprotocol(RpcEngine *engine, TrafficLog *log, JsonRpcOptions options = JsonRpcOptions());

    QString name() const override { return protocolName(); }
    QString description() const override;
    std::unique_ptr<ProtocolSession> createSession(ConnectionLink &link) override;

private:
    RpcEngine *m_engine;
    TrafficLog *m_log;
    JsonRpcOptions m_options;
};
