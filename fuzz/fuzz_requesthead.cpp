// libFuzzer target: the front's request-head path on untrusted bytes:
// RequestHead::scan (16 KiB cap), RequestHead::parse, the accessors the
// front and the policy use, and evaluateHandshake with its response.
// The first input byte picks the server settings (origin list, client token,
// connection limit, a disabled subprotocol).

#include "front/handshakepolicy.h"
#include "front/requesthead.h"
#include "ws/subprotocol.h"
#include "ws/subprotocolregistry.h"

#include <QString>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace {

class NamedProtocol : public Subprotocol
{
public:
    explicit NamedProtocol(QString name)
        : m_name(std::move(name))
    {
    }
    QString name() const override { return m_name; }
    QString description() const override { return m_name; }
    std::unique_ptr<ProtocolSession> createSession(ConnectionLink &) override { return nullptr; }

private:
    QString m_name;
};

SubprotocolRegistry *registry(bool dmRpcEnabled)
{
    static SubprotocolRegistry *withDm = [] {
        auto *r = new SubprotocolRegistry;
        r->add(std::make_shared<NamedProtocol>(QStringLiteral("jsonrpc")));
        r->add(std::make_shared<NamedProtocol>(QStringLiteral("dm-rpc")));
        return r;
    }();
    static SubprotocolRegistry *withoutDm = [] {
        auto *r = new SubprotocolRegistry;
        r->add(std::make_shared<NamedProtocol>(QStringLiteral("jsonrpc")));
        r->add(std::make_shared<NamedProtocol>(QStringLiteral("dm-rpc")), false);
        return r;
    }();
    return dmRpcEnabled ? withDm : withoutDm;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t settings = data[0];
    const QByteArray bytes(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));

    int headLength = -1;
    const RequestHead::Status status = RequestHead::scan(bytes, 16 * 1024, &headLength);
    if (status != RequestHead::Status::Complete)
        return 0;
    if (headLength <= 0 || headLength > bytes.size())
        __builtin_trap(); // scan promised a head inside the data

    RequestHead head;
    QString error;
    if (!RequestHead::parse(bytes.left(headLength), &head, &error)) {
        if (error.isEmpty())
            __builtin_trap(); // a refusal must say why
        return 0;
    }
    (void)head.path();
    (void)head.query().queryItems();
    (void)head.keepAlive();
    (void)head.isWebSocketUpgrade();
    (void)head.headerTokens("sec-websocket-protocol");
    (void)head.headerCount("sec-websocket-key");

    HandshakeContext context;
    context.subprotocols = registry(!(settings & 1));
    if (settings & 2)
        context.allowedOrigins = {QStringLiteral("https://app.example.com"), QStringLiteral("http://localhost:8080")};
    if (settings & 4)
        context.clientToken = QStringLiteral("client-secret");
    context.maxConnections = 1000;
    context.liveConnections = (settings & 8) ? 1000 : 3;
    const HandshakeVerdict verdict = evaluateHandshake(head, context);
    if (verdict.accepted) {
        if (verdict.subprotocol.isEmpty())
            __builtin_trap(); // an accepted handshake names its subprotocol
    } else {
        if (verdict.status < 400 || verdict.status > 599)
            __builtin_trap();
        (void)verdict.response();
    }
    return 0;
}
