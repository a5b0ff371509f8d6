#pragma once

#include "rpc/rpcengine.h"
#include "upstream/upstreamspec.h"

#include <QHash>
#include <QJsonObject>
#include <QMutex>
#include <QPointer>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

class QThread;

// What an upstream made of one call (PRODUCT.md section 7).
struct UpstreamReply
{
    enum class Kind { Result, Error, Failure };
    Kind kind = Kind::Failure;
    QJsonValue result;     // Result: the upstream's "result"
    RpcError error;        // Error: the upstream's own {"code", "message", "data"?}
    QString failure;       // Failure: "timeout", "unreachable", "status 502", "invalid reply"
    QString detail;        // Failure: what exactly, for the log (never sent to clients)
    qint64 upstreamNs = 0; // the call handed to a connection → its reply read
};

// A copy of one upstream's counters.
struct UpstreamStats
{
    quint64 calls = 0;          // handed to the upstream (not counting "overloaded")
    quint64 results = 0;
    quint64 errors = 0;         // answered with its own error
    quint64 timeouts = 0;
    quint64 unreachable = 0;
    quint64 badStatus = 0;      // answered with a status other than 200
    quint64 invalidReplies = 0;
    quint64 overloaded = 0;     // refused at once: maxInFlight calls were waiting
    quint64 inFlight = 0;       // waiting now
    double totalLatencyMs = 0;  // over the calls that got an answer (result or error)
    QString lastFailure;        // "timeout", "status 503" ...; empty: none yet
    qint64 lastFailureMs = 0;   // when, ms since the epoch

    quint64 failures() const { return timeouts + unreachable + badStatus + invalidReplies + overloaded; }
    QJsonObject toJson() const;
};

// One HTTP upstream: calls become HTTP/1.1 POSTs of the section 7 body over
// keep-alive connections. Thread-safe; each worker thread that calls gets
// its own connections (at most spec.maxConnections), driven by its own event
// loop, so a worker never blocks on an upstream: call() returns at once and
// the reply comes back on the same thread. In-flight calls are counted
// server-wide and capped at spec.maxInFlight.
class HttpUpstream
{
public:
    using Done = std::function<void(UpstreamReply)>;

    explicit HttpUpstream(UpstreamSpec spec);
    ~HttpUpstream();
    HttpUpstream(const HttpUpstream &) = delete;
    HttpUpstream &operator=(const HttpUpstream &) = delete;

    const UpstreamSpec &spec() const;
    QString name() const { return spec().name; }

    // Starts one call from the current thread, which must run an event loop,
    // and returns at once. `done` runs later on this thread, exactly once
    // (not at all if the thread ends first). False, and `done` never runs:
    // maxInFlight calls are already waiting ("overloaded").
    bool call(const CallContext &context, const QString &method, const QJsonValue &params, Done done);

    UpstreamStats stats() const;

    // The request body of PRODUCT.md section 7 for one call.
    static QByteArray requestBody(const CallContext &context, const QString &method, const QJsonValue &params);

private:
    class Client;
    struct Shared;
    Client *clientForThisThread();

    std::shared_ptr<Shared> m_shared;
    QMutex m_clientsMutex;
    QHash<QThread *, QPointer<Client>> m_clients; // under m_clientsMutex
};
