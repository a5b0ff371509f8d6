#include "upstream/httpupstream.h"

#include "directsend.h"
#include "rpc/wirejson.h"
#include "upstream/httpreplyparser.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSslSocket>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>

#include <chrono>
#include <deque>
#include <vector>

Q_LOGGING_CATEGORY(lcUpstream, "switchboard.upstream", QtInfoMsg)

namespace {
using Clock = std::chrono::steady_clock;

qint64 nsSince(Clock::time_point start)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

// {"result": any} or {"error": {"code": int, "message": string, "data"?: any}};
// anything else is the upstream's failure.
UpstreamReply readReplyBody(const QByteArray &body)
{
    UpstreamReply reply;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    const QJsonObject o = doc.object();
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        reply.failure = QStringLiteral("invalid reply");
        reply.detail = QStringLiteral("the body is not a JSON object");
        return reply;
    }
    const auto result = o.constFind(QLatin1String("result"));
    const auto error = o.constFind(QLatin1String("error"));
    if (result != o.constEnd() && error == o.constEnd()) {
        reply.kind = UpstreamReply::Kind::Result;
        reply.result = result.value();
        return reply;
    }
    if (error != o.constEnd() && result == o.constEnd() && error.value().isObject()) {
        const QJsonObject e = error.value().toObject();
        const QJsonValue code = e.value(QLatin1String("code"));
        const QJsonValue message = e.value(QLatin1String("message"));
        if (code.isDouble() && code.toDouble() == double(int(code.toDouble())) && message.isString()) {
            reply.kind = UpstreamReply::Kind::Error;
            reply.error.code = int(code.toDouble());
            reply.error.message = message.toString();
            reply.error.data = e.value(QLatin1String("data")); // undefined when absent
            return reply;
        }
    }
    reply.failure = QStringLiteral("invalid reply");
    reply.detail = QStringLiteral("expected {\"result\": ...} or {\"error\": {\"code\": int, \"message\": string}}");
    return reply;
}

} // namespace

QJsonObject UpstreamStats::toJson() const
{
    QJsonObject o{{"calls", double(calls)},
                  {"results", double(results)},
                  {"errors", double(errors)},
                  {"timeouts", double(timeouts)},
                  {"unreachable", double(unreachable)},
                  {"badStatus", double(badStatus)},
                  {"invalidReplies", double(invalidReplies)},
                  {"overloaded", double(overloaded)},
                  {"failures", double(failures())},
                  {"inFlight", double(inFlight)},
                  {"meanLatencyMs", results + errors ? totalLatencyMs / double(results + errors) : 0.0}};
    o.insert("lastFailure", lastFailure.isEmpty() ? QJsonValue() : QJsonValue(lastFailure));
    if (lastFailureMs > 0)
        o.insert("lastFailureAt", QDateTime::fromMSecsSinceEpoch(lastFailureMs, Qt::UTC).toString(Qt::ISODateWithMs));
    return o;
}

// What every thread's client shares: the spec, the request head, the
// counters. Clients hold it too, so it outlives whichever goes last.
struct HttpUpstream::Shared
{
    UpstreamSpec spec;
    QByteArray headPrefix; // "POST /path HTTP/1.1\r\nHost: ..\r\n...Content-Length: "
    std::atomic<int> inFlight{0};
    std::atomic<quint64> calls{0}, results{0}, errors{0}, timeouts{0}, unreachable{0}, badStatus{0},
        invalidReplies{0}, overloaded{0}, latencyNs{0};
    mutable QMutex lastFailureMutex;
    QString lastFailure;    // under lastFailureMutex
    qint64 lastFailureMs = 0;

    void count(const UpstreamReply &reply)
    {
        switch (reply.kind) {
        case UpstreamReply::Kind::Result:
            results.fetch_add(1, std::memory_order_relaxed);
            latencyNs.fetch_add(quint64(reply.upstreamNs), std::memory_order_relaxed);
            return;
        case UpstreamReply::Kind::Error:
            errors.fetch_add(1, std::memory_order_relaxed);
            latencyNs.fetch_add(quint64(reply.upstreamNs), std::memory_order_relaxed);
            return;
        case UpstreamReply::Kind::Failure:
            if (reply.failure == QLatin1String("timeout"))
                timeouts.fetch_add(1, std::memory_order_relaxed);
            else if (reply.failure == QLatin1String("unreachable"))
                unreachable.fetch_add(1, std::memory_order_relaxed);
            else if (reply.failure.startsWith(QLatin1String("status ")))
                badStatus.fetch_add(1, std::memory_order_relaxed);
            else
                invalidReplies.fetch_add(1, std::memory_order_relaxed);
            noteFailure(reply.failure);
            qCDebug(lcUpstream).noquote() << "upstream" << spec.name << reply.failure << reply.detail;
            return;
        }
    }
    void noteFailure(const QString &failure)
    {
        QMutexLocker locker(&lastFailureMutex);
        lastFailure = failure;
        lastFailureMs = QDateTime::currentMSecsSinceEpoch();
    }
};

// One thread's connections to the upstream. Lives on that thread; every
// member runs there. A call waits for a free connection when spec.maxConnections
// are busy; every call has the same time limit, so the calls ordered by their
// start are also ordered by their deadline, and one timer serves them all.
class HttpUpstream::Client : public QObject
{
public:
    explicit Client(std::shared_ptr<Shared> shared)
        : m_shared(std::move(shared))
    {
        m_timer.setSingleShot(true);
        m_timer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&m_timer, &QTimer::timeout, this, [this] { expire(); });
    }
    ~Client() override
    {
        // The thread is ending: unfinished calls are dropped, not answered.
        // Silence the sockets first: deleting a connected one emits
        // disconnected(), which would discard it a second time.
        for (Connection *c : std::exchange(m_all, {})) {
            c->socket->disconnect(this);
            delete c;
        }
    }

    void start(QByteArray request, Done done)
    {
        auto call = std::make_shared<Call>();
        call->request = std::move(request);
        call->done = std::move(done);
        call->deadline = Clock::now() + std::chrono::milliseconds(m_shared->spec.timeoutMs);
        m_byDeadline.push_back(call);
        if (!m_timer.isActive())
            armTimer();
        assign(call);
    }

private:
    struct Connection;
    struct Call
    {
        QByteArray request;
        Done done;
        Clock::time_point deadline;
        Clock::time_point sentAt;
        Connection *connection = nullptr;
        bool finished = false;
        bool retried = false;
    };
    struct Connection
    {
        ~Connection() { delete socket; }
        QTcpSocket *socket = nullptr;
        HttpReplyParser parser;
        QByteArray buffer;
        std::shared_ptr<Call> call;
        bool connected = false;
        bool reused = false; // it carried a call before: the upstream may have closed it meanwhile
    };

    void assign(const std::shared_ptr<Call> &call)
    {
        while (!m_idle.empty()) {
            Connection *c = m_idle.back();
            m_idle.pop_back();
            if (c->socket->state() == QAbstractSocket::ConnectedState) {
                send(c, call);
                return;
            }
            discard(c);
        }
        if (int(m_all.size()) < m_shared->spec.maxConnections) {
            send(open(), call);
            return;
        }
        m_waiting.push_back(call);
    }

    Connection *open()
    {
        auto *c = new Connection;
        const QUrl &url = m_shared->spec.url;
        const bool tls = url.scheme() == QLatin1String("https");
        c->socket = tls ? new QSslSocket : new QTcpSocket;
        QTcpSocket *socket = c->socket;
        QObject::connect(socket, &QAbstractSocket::connected, this, [c] {
            c->connected = true;
            c->socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        });
        QObject::connect(socket, &QIODevice::readyRead, this, [this, c] { readReply(c); });
        QObject::connect(socket, &QAbstractSocket::disconnected, this, [this, c] { lost(c, QString()); });
        QObject::connect(socket, &QAbstractSocket::errorOccurred, this,
                         [this, c](QAbstractSocket::SocketError) { lost(c, c->socket->errorString()); });
        m_all.push_back(c);
        const quint16 port = quint16(url.port(tls ? 443 : 80));
        if (tls)
            static_cast<QSslSocket *>(socket)->connectToHostEncrypted(url.host(), port);
        else
            socket->connectToHost(url.host(), port);
        return c;
    }

    void send(Connection *c, const std::shared_ptr<Call> &call)
    {
        c->call = call;
        call->connection = c;
        call->sentAt = Clock::now();
        c->parser.reset();
        // A kept-alive connection with nothing queued: straight to the
        // kernel (docs/PERFORMANCE.md); else Qt's buffer, which also holds
        // a new connection's first request until it is up.
        qint64 sent = 0;
        if (c->connected && c->socket->bytesToWrite() == 0 && DirectSend::supported(c->socket))
            sent = DirectSend::send(c->socket, call->request.constData(), call->request.size());
        if (sent < call->request.size())
            c->socket->write(call->request.constData() + sent, call->request.size() - sent);
    }

    void readReply(Connection *c)
    {
        c->buffer += c->socket->readAll();
        if (!c->call) {
            // Bytes nobody asked for: the connection is out of step.
            discard(c);
            return;
        }
        const HttpReplyParser::State state = c->parser.feed(c->buffer);
        if (state == HttpReplyParser::State::NeedMore)
            return;
        std::shared_ptr<Call> call = std::exchange(c->call, nullptr);
        call->connection = nullptr;
        UpstreamReply reply;
        if (state == HttpReplyParser::State::Invalid) {
            reply.failure = QStringLiteral("invalid reply");
            reply.detail = c->parser.error();
            discard(c);
        } else {
            if (c->parser.status() != 200) {
                reply.failure = QStringLiteral("status %1").arg(c->parser.status());
            } else {
                reply = readReplyBody(c->parser.body());
            }
            if (c->parser.keepAlive() && c->buffer.isEmpty())
                release(c);
            else
                discard(c);
        }
        finish(call, std::move(reply));
    }

    // The connection ended (closed by the upstream, or failed).
    void lost(Connection *c, const QString &why)
    {
        std::shared_ptr<Call> call = std::exchange(c->call, nullptr);
        if (!call) {
            discard(c);
            return;
        }
        call->connection = nullptr;
        if (c->parser.started()) {
            c->buffer += c->socket->bytesAvailable() > 0 ? c->socket->readAll() : QByteArray();
            HttpReplyParser::State state = c->parser.feed(c->buffer);
            if (state == HttpReplyParser::State::NeedMore)
                state = c->parser.finish();
            UpstreamReply reply;
            if (state == HttpReplyParser::State::Done && c->parser.status() == 200) {
                reply = readReplyBody(c->parser.body());
            } else if (state == HttpReplyParser::State::Done) {
                reply.failure = QStringLiteral("status %1").arg(c->parser.status());
            } else {
                reply.failure = QStringLiteral("invalid reply");
                reply.detail = c->parser.error();
            }
            discard(c);
            finish(call, std::move(reply));
            return;
        }
        const bool stale = c->reused && !call->retried;
        discard(c);
        if (stale) {
            // A kept-alive connection the upstream had closed meanwhile: it
            // read nothing of this call, so it goes once more on a new one.
            call->retried = true;
            assign(call);
            return;
        }
        UpstreamReply reply;
        reply.failure = QStringLiteral("unreachable");
        reply.detail = why.isEmpty() ? QStringLiteral("connection closed before a reply") : why;
        finish(call, std::move(reply));
    }

    // A finished exchange on a connection that stays open: the next waiting call takes it.
    void release(Connection *c)
    {
        c->reused = true;
        while (!m_waiting.empty()) {
            std::shared_ptr<Call> next = m_waiting.front();
            m_waiting.pop_front();
            if (!next->finished) {
                send(c, next);
                return;
            }
        }
        m_idle.push_back(c);
    }

    void discard(Connection *c)
    {
        m_idle.erase(std::remove(m_idle.begin(), m_idle.end(), c), m_idle.end());
        m_all.erase(std::remove(m_all.begin(), m_all.end(), c), m_all.end());
        c->socket->disconnect(this);
        c->socket->abort();
        c->socket->deleteLater(); // may be inside its own signal
        c->socket = nullptr;
        delete c;
        // A connection is free to open again: a waiting call takes it.
        while (!m_waiting.empty() && int(m_all.size()) < m_shared->spec.maxConnections) {
            std::shared_ptr<Call> next = m_waiting.front();
            m_waiting.pop_front();
            if (!next->finished)
                send(open(), next);
        }
    }

    void finish(const std::shared_ptr<Call> &call, UpstreamReply reply)
    {
        if (call->finished)
            return;
        call->finished = true;
        // Calls mostly finish in the order they started: drop the finished
        // ones from the front now, so a long timeout does not keep every
        // call of that span alive until the timer fires.
        while (!m_byDeadline.empty() && m_byDeadline.front()->finished)
            m_byDeadline.pop_front();
        if (call->sentAt != Clock::time_point())
            reply.upstreamNs = nsSince(call->sentAt);
        m_shared->count(reply);
        m_shared->inFlight.fetch_sub(1, std::memory_order_relaxed);
        Done done = std::move(call->done);
        call->request.clear();
        done(std::move(reply));
    }

    void armTimer()
    {
        while (!m_byDeadline.empty() && m_byDeadline.front()->finished)
            m_byDeadline.pop_front();
        if (m_byDeadline.empty())
            return;
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(m_byDeadline.front()->deadline - Clock::now());
        m_timer.start(int(qMax<qint64>(0, wait.count())));
    }

    void expire()
    {
        const Clock::time_point now = Clock::now();
        while (!m_byDeadline.empty()) {
            std::shared_ptr<Call> call = m_byDeadline.front();
            if (!call->finished && call->deadline > now)
                break;
            m_byDeadline.pop_front();
            if (call->finished)
                continue;
            // A late reply would arrive out of step: the connection goes.
            if (Connection *c = call->connection) {
                c->call = nullptr;
                call->connection = nullptr;
                discard(c);
            }
            UpstreamReply reply;
            reply.failure = QStringLiteral("timeout");
            reply.detail = QStringLiteral("no reply within %1 ms").arg(m_shared->spec.timeoutMs);
            finish(call, std::move(reply));
        }
        armTimer();
    }

    std::shared_ptr<Shared> m_shared;
    std::vector<Connection *> m_all;  // every open connection
    std::vector<Connection *> m_idle; // open, with no call
    std::deque<std::shared_ptr<Call>> m_waiting;    // for a connection
    std::deque<std::shared_ptr<Call>> m_byDeadline; // every call not yet finished (some finished ones too)
    QTimer m_timer;
};

HttpUpstream::HttpUpstream(UpstreamSpec spec)
    : m_shared(std::make_shared<Shared>())
{
    m_shared->spec = std::move(spec);
    const QUrl &url = m_shared->spec.url;
    QByteArray target = url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (url.hasQuery())
        target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
    QByteArray head = "POST " + target + " HTTP/1.1\r\nHost: " + url.host(QUrl::FullyEncoded).toLatin1();
    if (url.port() > 0)
        head += ':' + QByteArray::number(url.port());
    head += "\r\nContent-Type: application/json\r\nAccept: application/json\r\nUser-Agent: Switchboard/"
        SWITCHBOARD_VERSION "\r\n";
    for (const auto &header : m_shared->spec.headers)
        head += header.first + ": " + header.second + "\r\n";
    head += "Content-Length: ";
    m_shared->headPrefix = head;
}

HttpUpstream::~HttpUpstream()
{
    QMutexLocker locker(&m_clientsMutex);
    for (const QPointer<Client> &client : std::as_const(m_clients)) {
        if (!client)
            continue;
        if (client->thread() == QThread::currentThread())
            delete client.data();
        else
            client->deleteLater();
    }
}

const UpstreamSpec &HttpUpstream::spec() const
{
    return m_shared->spec;
}

HttpUpstream::Client *HttpUpstream::clientForThisThread()
{
    QThread *thread = QThread::currentThread();
    QMutexLocker locker(&m_clientsMutex);
    QPointer<Client> &client = m_clients[thread];
    if (!client) {
        client = new Client(m_shared);
        // Freed with its thread (deferred deletes run as a thread finishes).
        QObject::connect(thread, &QThread::finished, client.data(), &QObject::deleteLater);
    }
    return client.data();
}

QByteArray HttpUpstream::requestBody(const CallContext &context, const QString &method, const QJsonValue &params)
{
    QByteArray body;
    body.reserve(192 + context.path.size() + context.origin.size());
    body.append("{\"method\":");
    WireJson::appendString(body, method);
    body.append(",\"params\":");
    if (params.isUndefined())
        body.append("null");
    else
        WireJson::appendValue(body, params);
    body.append(",\"id\":");
    body.append(context.requestId.isEmpty() ? QByteArrayView("null") : QByteArrayView(context.requestId));
    body.append(",\"connection\":{\"id\":");
    body.append(QByteArray::number(context.connectionId));
    body.append(",\"subprotocol\":");
    WireJson::appendString(body, context.subprotocol);
    body.append(",\"path\":");
    WireJson::appendString(body, context.path);
    body.append(",\"peer\":");
    WireJson::appendString(body, context.peer);
    body.append(",\"origin\":");
    if (context.origin.isEmpty())
        body.append("null");
    else
        WireJson::appendString(body, context.origin);
    body.append(",\"user\":");
    if (context.user.isEmpty())
        body.append("null");
    else
        WireJson::appendString(body, context.user);
    if (!context.claims.isEmpty()) {
        body.append(",\"claims\":");
        WireJson::appendValue(body, context.claims);
    }
    body.append("}}");
    return body;
}

bool HttpUpstream::call(const CallContext &context, const QString &method, const QJsonValue &params, Done done)
{
    Shared &shared = *m_shared;
    if (shared.inFlight.fetch_add(1, std::memory_order_relaxed) >= shared.spec.maxInFlight) {
        shared.inFlight.fetch_sub(1, std::memory_order_relaxed);
        shared.overloaded.fetch_add(1, std::memory_order_relaxed);
        shared.noteFailure(QStringLiteral("overloaded"));
        return false;
    }
    shared.calls.fetch_add(1, std::memory_order_relaxed);
    const QByteArray body = requestBody(context, method, params);
    QByteArray request;
    request.reserve(shared.headPrefix.size() + 16 + body.size());
    request.append(shared.headPrefix);
    request.append(QByteArray::number(body.size()));
    request.append("\r\n\r\n");
    request.append(body);
    clientForThisThread()->start(std::move(request), std::move(done));
    return true;
}

UpstreamStats HttpUpstream::stats() const
{
    const Shared &s = *m_shared;
    UpstreamStats stats;
    stats.calls = s.calls.load(std::memory_order_relaxed);
    stats.results = s.results.load(std::memory_order_relaxed);
    stats.errors = s.errors.load(std::memory_order_relaxed);
    stats.timeouts = s.timeouts.load(std::memory_order_relaxed);
    stats.unreachable = s.unreachable.load(std::memory_order_relaxed);
    stats.badStatus = s.badStatus.load(std::memory_order_relaxed);
    stats.invalidReplies = s.invalidReplies.load(std::memory_order_relaxed);
    stats.overloaded = s.overloaded.load(std::memory_order_relaxed);
    stats.inFlight = quint64(qMax(0, s.inFlight.load(std::memory_order_relaxed)));
    stats.totalLatencyMs = double(s.latencyNs.load(std::memory_order_relaxed)) / 1e6;
    QMutexLocker locker(&s.lastFailureMutex);
    stats.lastFailure = s.lastFailure;
    stats.lastFailureMs = s.lastFailureMs;
    return stats;
}
