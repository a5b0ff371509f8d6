#pragma once

#include "rpc/rpcengine.h"
#include "ws/subprotocol.h"
#include "admin/trafficlog.h"

#include <chrono>
#include <memory>

// What the bundled protocol sessions (jsonrpc, dm-rpc) share: the call
// context, the engine, traffic log events, and a guard against being
// destroyed while a handler runs (a handler that closes its own connection
// can end the session before the call returns).
class WireSession : public ProtocolSession
{
public:
    using Clock = std::chrono::steady_clock;

    WireSession(ConnectionLink &link, RpcEngine *engine, TrafficLog *log);
    ~WireSession() override; // tells the engine the connection is gone

    // Reads the clock once; connections pass the time they read instead.
    void textMessage(const QByteArray &utf8) final { textMessageAt(utf8, MessageArrival::now()); }

protected:
    // When a message arrived, for event times and latencies.
    using Arrival = MessageArrival;
    // µs from the arrival to `until`; an unset `until` reads the clock.
    static qint64 latencyUs(const Arrival &arrival, Clock::time_point until = {});
    // The time stamp of an event `latencyUs` after the arrival, without a clock read.
    static qint64 timeAfter(const Arrival &arrival, qint64 latencyUs) { return arrival.timeMs + latencyUs / 1000; }

    // Alive as long as the session; copy it into a weak_ptr before calling
    // out (engine, link) and check expired() afterwards.
    std::weak_ptr<char> lifeToken() const { return m_life; }

    bool logging() const { return m_log && m_log->isEnabled(); }
    TrafficEvent event(TrafficEvent::Direction direction, TrafficEvent::Kind kind) const;
    // Sets the payload (shared or cut at the cap) and appends the event.
    void record(TrafficEvent &&event, const QByteArray &payload);
    // Sends a formatted server push and logs it (unless sending ended the session).
    void sendPush(const QString &method, const QByteArray &message);

    static TrafficEvent::Verdict verdictOf(CallOutcome::Verdict verdict);
    // The error of a failed call with the engine's blanks filled in: the
    // standard code and message for the verdict, and error.data of
    // PRODUCT.md section 3 (`{"reason":"unknown"}` ...). A null data counts
    // as not given, and stays undefined unless the verdict supplies one.
    static RpcError normalizedError(const CallOutcome &outcome);
    // One line for the traffic log and close reasons: "refused by X: ...".
    static QString describeFailure(const CallOutcome &outcome, const RpcError &error);
    static QString standardMessage(int code);

    ConnectionLink &m_link;
    RpcEngine *m_engine;
    TrafficLog *m_log;
    CallContext m_context;

private:
    std::shared_ptr<char> m_life;
};
