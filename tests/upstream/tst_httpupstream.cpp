// HttpUpstream against a real HTTP server on loopback (a QTcpServer in the
// test): the exact request of PRODUCT.md section 7, keep-alive reuse, the
// connection cap, every failure reason, the in-flight cap, a stale kept-alive
// connection, and calls from a worker thread that never wait on each other.

#include "upstream/httpupstream.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <memory>

namespace {

// One HTTP/1.1 request as the test server read it.
struct SeenRequest
{
    QByteArray head;
    QByteArray body;
    QByteArray header(const QByteArray &name) const
    {
        for (const QByteArray &line : head.split('\n')) {
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
                return line.mid(colon + 1).trimmed();
        }
        return QByteArray();
    }
};

// A loopback HTTP server whose answer to each request is the test's to write.
class TestUpstreamServer : public QObject
{
public:
    using Answer = std::function<void(QTcpSocket *, const SeenRequest &)>;

    explicit TestUpstreamServer(Answer answer)
        : m_answer(std::move(answer))
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                ++accepted;
                ++open;
                QObject::connect(socket, &QTcpSocket::readyRead, this, [this, socket] { read(socket); });
                QObject::connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
                    --open;
                    socket->deleteLater();
                });
            }
        });
        QVERIFY(m_server.listen(QHostAddress::LocalHost));
    }
    quint16 port() const { return m_server.serverPort(); }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1/rpc?v=1").arg(port()); }

    static void reply(QTcpSocket *socket, const QByteArray &body, int status = 200, const QByteArray &extra = {})
    {
        socket->write("HTTP/1.1 " + QByteArray::number(status) + " X\r\nContent-Type: application/json\r\n"
                      + extra + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    }

    QList<SeenRequest> requests;
    int accepted = 0;
    int open = 0;
    int maxOpen = 0;

private:
    void read(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        for (;;) {
            const qsizetype end = buffer.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            SeenRequest request;
            request.head = buffer.left(end);
            const qsizetype length = request.header("content-length").toLongLong();
            if (buffer.size() < end + 4 + length)
                return;
            request.body = buffer.mid(end + 4, length);
            buffer.remove(0, end + 4 + length);
            requests.append(request);
            maxOpen = qMax(maxOpen, open);
            m_answer(socket, request);
        }
    }

    QTcpServer m_server;
    Answer m_answer;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

// Echoes the params as the result.
void echoParams(QTcpSocket *socket, const SeenRequest &request)
{
    const QJsonObject call = QJsonDocument::fromJson(request.body).object();
    TestUpstreamServer::reply(socket, QJsonDocument(QJsonObject{{"result", call.value("params")}}).toJson(QJsonDocument::Compact));
}

UpstreamSpec specFor(const QString &url, int timeoutMs = 5000, int maxInFlight = 256, int maxConnections = 64)
{
    QString error;
    std::optional<UpstreamSpec> spec = UpstreamSpec::fromJson(
        QStringLiteral("orders"),
        QJsonObject{{"url", url}, {"timeoutMs", timeoutMs}, {"maxInFlight", maxInFlight},
                    {"maxConnections", maxConnections}, {"headers", QJsonObject{{"Authorization", "Bearer backend-secret"}}}},
        &error);
    if (!spec)
        qFatal("spec: %s", qPrintable(error));
    return *spec;
}

CallContext contextFor(quint64 id, const QByteArray &requestId)
{
    CallContext context(id, QStringLiteral("jsonrpc"));
    context.path = QStringLiteral("/app");
    context.peer = QStringLiteral("127.0.0.1:50544");
    context.origin = QStringLiteral("https://app.example.com");
    context.requestId = requestId;
    return context;
}

// The replies of calls, in the order they came.
struct Replies
{
    QList<UpstreamReply> list;
    HttpUpstream::Done collect()
    {
        return [this](UpstreamReply reply) { list.append(std::move(reply)); };
    }
};

} // namespace

class TestHttpUpstream : public QObject
{
    Q_OBJECT

private slots:
    void specValidation_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("error");
        QTest::newRow("no url") << QByteArray("{}") << "upstream \"u\": \"url\" must be a string such as \"http://127.0.0.1:9000/rpc\"";
        QTest::newRow("ftp") << QByteArray("{\"url\":\"ftp://h/x\"}") << "upstream \"u\": \"url\" must be an http:// or https:// URL with a host, not \"ftp://h/x\"";
        QTest::newRow("no host") << QByteArray("{\"url\":\"http:///x\"}") << "upstream \"u\": \"url\" must be an http:// or https:// URL with a host, not \"http:///x\"";
        QTest::newRow("user info") << QByteArray("{\"url\":\"http://a:b@h/x\"}") << "upstream \"u\": \"url\" must not carry user info or a fragment (put credentials in \"headers\")";
        QTest::newRow("timeout zero") << QByteArray("{\"url\":\"http://h/\",\"timeoutMs\":0}") << "upstream \"u\": \"timeoutMs\" must be a whole number from 1 to 3600000";
        QTest::newRow("maxInFlight string") << QByteArray("{\"url\":\"http://h/\",\"maxInFlight\":\"9\"}") << "upstream \"u\": \"maxInFlight\" must be a whole number from 1 to 1000000";
        QTest::newRow("unknown key") << QByteArray("{\"url\":\"http://h/\",\"retries\":3}") << "upstream \"u\": unknown key \"retries\"";
        QTest::newRow("header not a string") << QByteArray("{\"url\":\"http://h/\",\"headers\":{\"X-A\":1}}") << "upstream \"u\": header \"X-A\" must be a string";
        QTest::newRow("header with a line break") << QByteArray("{\"url\":\"http://h/\",\"headers\":{\"X-A\":\"a\\r\\nContent-Length: 0\"}}") << "upstream \"u\": header \"X-A\" must not contain line breaks";
        QTest::newRow("framing header") << QByteArray("{\"url\":\"http://h/\",\"headers\":{\"Content-Length\":\"5\"}}") << "upstream \"u\": header \"Content-Length\" is set by Switchboard and cannot be configured";
        QTest::newRow("bad header name") << QByteArray("{\"url\":\"http://h/\",\"headers\":{\"X A\":\"v\"}}") << "upstream \"u\": header name \"X A\" is not a valid HTTP field name";
    }
    void specValidation()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, error);
        QString message;
        QVERIFY(!UpstreamSpec::fromJson("u", QJsonDocument::fromJson(json).object(), &message));
        QCOMPARE(message, error);
    }

    // The request is the section 7 body, POSTed with the configured headers;
    // the result comes back; the second call reuses the connection.
    void exactRequestAndKeepAlive()
    {
        TestUpstreamServer server(echoParams);
        HttpUpstream upstream(specFor(server.url()));
        Replies replies;
        CallContext context = contextFor(12, "\"c1\"");
        QVERIFY(upstream.call(context, "orders.create", QJsonObject{{"sku", "A-1"}}, replies.collect()));
        QVERIFY(replies.list.isEmpty()); // never inside call()
        QTRY_COMPARE(replies.list.size(), 1);
        QCOMPARE(replies.list.at(0).kind, UpstreamReply::Kind::Result);
        QCOMPARE(replies.list.at(0).result, QJsonValue(QJsonObject{{"sku", "A-1"}}));
        QVERIFY(replies.list.at(0).upstreamNs > 0);

        const SeenRequest seen = server.requests.first();
        QVERIFY2(seen.head.startsWith("POST /rpc?v=1 HTTP/1.1\r\n"), seen.head.constData());
        QCOMPARE(seen.header("host"), QByteArray("127.0.0.1:") + QByteArray::number(server.port()));
        QCOMPARE(seen.header("content-type"), QByteArray("application/json"));
        QCOMPARE(seen.header("authorization"), QByteArray("Bearer backend-secret"));
        QCOMPARE(QJsonDocument::fromJson(seen.body).object(),
                 QJsonDocument::fromJson("{\"method\":\"orders.create\",\"params\":{\"sku\":\"A-1\"},\"id\":\"c1\","
"                     \"connection\":{\"id\":12,\"subprotocol\":\"jsonrpc\",\"path\":\"/app\",\"peer\":\"127.0.0.1:50544\","
"                                   \"origin\":\"https://app.example.com\",\"user\":null}}").object());

        // Absent params and id are null; a notification has no id.
        context.requestId.clear();
        QVERIFY(upstream.call(context, "orders.ping", QJsonValue(QJsonValue::Undefined), replies.collect()));
        QTRY_COMPARE(replies.list.size(), 2);
        const QJsonObject second = QJsonDocument::fromJson(server.requests.at(1).body).object();
        QVERIFY(second.value("params").isNull());
        QVERIFY(second.contains("id") && second.value("id").isNull());
        QCOMPARE(server.accepted, 1);
        QCOMPARE(upstream.stats().results, quint64(2));
        QCOMPARE(upstream.stats().inFlight, quint64(0));
    }

    // More calls than connections: they wait for one, never more are opened.
    void connectionCap()
    {
        QList<QPair<QPointer<QTcpSocket>, SeenRequest>> held;
        TestUpstreamServer server([&held](QTcpSocket *s, const SeenRequest &r) { held.append({s, r}); });
        HttpUpstream upstream(specFor(server.url(), 5000, 256, 2));
        Replies replies;
        for (int i = 0; i < 5; ++i)
            QVERIFY(upstream.call(contextFor(1, QByteArray::number(i)), "m", i, replies.collect()));
        QTRY_COMPARE(held.size(), 2);
        QTest::qWait(50);
        QCOMPARE(server.accepted, 2);
        QCOMPARE(upstream.stats().inFlight, quint64(5));
        // Answer whatever is held until all five are done.
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
            while (!held.isEmpty()) {
                auto next = held.takeFirst();
                if (next.first)
                    echoParams(next.first, next.second);
            }
            return replies.list.size() == 5;
        }()), 5000);
        QCOMPARE(server.accepted, 2);
        QCOMPARE(server.maxOpen, 2);
    }

    void failures_data()
    {
        QTest::addColumn<QByteArray>("answer"); // raw bytes; "" = none, "close" = close at once
        QTest::addColumn<QString>("failure");
        QTest::newRow("502") << QByteArray("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n") << "status 502";
        QTest::newRow("404") << QByteArray("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}") << "status 404";
        QTest::newRow("not JSON") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello") << "invalid reply";
        QTest::newRow("no result, no error") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{\"ok\":1}") << "invalid reply";
        QTest::newRow("both") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 43\r\n\r\n{\"result\":1,\"error\":{\"code\":1,\"message\":\"\"}}") << "invalid reply";
        QTest::newRow("error without code") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n{\"error\":{\"message\":\"x\"}}") << "invalid reply";
        QTest::newRow("not HTTP") << QByteArray("garbage\r\n\r\n") << "invalid reply";
        QTest::newRow("closed mid-reply") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"res") << "invalid reply";
        QTest::newRow("closed without a reply") << QByteArray("close") << "unreachable";
        QTest::newRow("no answer") << QByteArray() << "timeout";
    }
    void failures()
    {
        QFETCH(QByteArray, answer);
        QFETCH(QString, failure);
        TestUpstreamServer server([answer](QTcpSocket *s, const SeenRequest &) {
            if (answer.isEmpty())
                return;
            if (answer != "close")
                s->write(answer);
            if (answer == "close" || answer.contains("Content-Length: 50"))
                s->disconnectFromHost();
        });
        HttpUpstream upstream(specFor(server.url(), 300));
        Replies replies;
        QVERIFY(upstream.call(contextFor(1, "1"), "m", 1, replies.collect()));
        QTRY_COMPARE(replies.list.size(), 1);
        QCOMPARE(replies.list.first().kind, UpstreamReply::Kind::Failure);
        QCOMPARE(replies.list.first().failure, failure);
        const UpstreamStats stats = upstream.stats();
        QCOMPARE(stats.failures(), quint64(1));
        QCOMPARE(stats.lastFailure, failure);
        QCOMPARE(stats.inFlight, quint64(0));
        // The next call works on a new connection when the server behaves.
        // (A timed-out connection is dropped: its late reply would be out of step.)
    }

    void errorPassesThrough()
    {
        TestUpstreamServer server([](QTcpSocket *s, const SeenRequest &) {
            TestUpstreamServer::reply(s, "{\"error\":{\"code\":4001,\"message\":\"out of stock\",\"data\":{\"sku\":\"A-1\"}}}");
        });
        HttpUpstream upstream(specFor(server.url()));
        Replies replies;
        QVERIFY(upstream.call(contextFor(1, "1"), "m", 1, replies.collect()));
        QTRY_COMPARE(replies.list.size(), 1);
        const UpstreamReply &r = replies.list.first();
        QCOMPARE(r.kind, UpstreamReply::Kind::Error);
        QCOMPARE(r.error.code, 4001);
        QCOMPARE(r.error.message, QStringLiteral("out of stock"));
        QCOMPARE(r.error.data, QJsonValue(QJsonObject{{"sku", "A-1"}}));
        QCOMPARE(upstream.stats().errors, quint64(1));
    }

    void unreachable()
    {
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost));
            port = probe.serverPort();
        } // closed: nothing listens there now
        HttpUpstream upstream(specFor(QStringLiteral("http://127.0.0.1:%1/").arg(port)));
        Replies replies;
        QVERIFY(upstream.call(contextFor(1, "1"), "m", 1, replies.collect()));
        QTRY_COMPARE(replies.list.size(), 1);
        QCOMPARE(replies.list.first().failure, QStringLiteral("unreachable"));
        QCOMPARE(upstream.stats().unreachable, quint64(1));
    }

    // More than maxInFlight waiting: refused at once, the rest unharmed.
    void overloaded()
    {
        QList<QPair<QPointer<QTcpSocket>, SeenRequest>> held;
        TestUpstreamServer server([&held](QTcpSocket *s, const SeenRequest &r) { held.append({s, r}); });
        HttpUpstream upstream(specFor(server.url(), 5000, 2));
        Replies replies;
        QVERIFY(upstream.call(contextFor(1, "1"), "m", 1, replies.collect()));
        QVERIFY(upstream.call(contextFor(1, "2"), "m", 2, replies.collect()));
        QVERIFY(!upstream.call(contextFor(1, "3"), "m", 3, replies.collect()));
        QCOMPARE(upstream.stats().overloaded, quint64(1));
        QCOMPARE(upstream.stats().lastFailure, QStringLiteral("overloaded"));
        QTRY_COMPARE(held.size(), 2);
        for (const auto &h : held)
            echoParams(h.first, h.second);
        QTRY_COMPARE(replies.list.size(), 2);
        // Room again.
        QVERIFY(upstream.call(contextFor(1, "4"), "m", 4, replies.collect()));
    }

    // The upstream closed a kept-alive connection meanwhile: the call goes
    // once more on a new connection instead of failing.
    void staleKeepAliveIsRetried()
    {
        TestUpstreamServer server(echoParams);
        HttpUpstream upstream(specFor(server.url()));
        Replies replies;
        QVERIFY(upstream.call(contextFor(1, "1"), "m", 1, replies.collect()));
        QTRY_COMPARE(replies.list.size(), 1);
        // The server side of the idle connection goes away.
        const QList<QTcpSocket *> sockets = server.findChildren<QTcpSocket *>();
        for (QTcpSocket *s : sockets)
            s->abort();
        QVERIFY(upstream.call(contextFor(1, "2"), "m", 2, replies.collect()));
        QTRY_COMPARE(replies.list.size(), 2);
        QCOMPARE(replies.list.at(1).kind, UpstreamReply::Kind::Result);
        QCOMPARE(replies.list.at(1).result, QJsonValue(2));
    }

    // Calls from a worker thread: answered there, each as it finishes; a
    // slow one does not hold back a fast one.
    void workerThreadNeverWaits()
    {
        TestUpstreamServer server([](QTcpSocket *s, const SeenRequest &r) {
            const QJsonObject call = QJsonDocument::fromJson(r.body).object();
            const int delay = call.value("params").toInt();
            QPointer<QTcpSocket> socket(s);
            QTimer::singleShot(delay, s, [socket, call] {
                if (socket)
                    echoParams(socket, SeenRequest{QByteArray(), QJsonDocument(call).toJson(QJsonDocument::Compact)});
            });
        });
        HttpUpstream upstream(specFor(server.url()));
        QThread worker;
        worker.start();
        QObject context;
        context.moveToThread(&worker);
        QMutex mutex;
        QList<int> order;
        QList<QThread *> threads;
        QMetaObject::invokeMethod(&context, [&] {
            for (int delay : {400, 0}) {
                upstream.call(contextFor(1, QByteArray::number(delay)), "m", delay, [&, delay](UpstreamReply) {
                    QMutexLocker locker(&mutex);
                    order.append(delay);
                    threads.append(QThread::currentThread());
                });
            }
        });
        QTRY_VERIFY_WITH_TIMEOUT(([&] { QMutexLocker l(&mutex); return order.size() == 2; }()), 5000);
        QCOMPARE(order, (QList<int>{0, 400}));
        QCOMPARE(threads, (QList<QThread *>{&worker, &worker}));
        worker.quit();
        QVERIFY(worker.wait(5000));
    }
};

QTEST_MAIN(TestHttpUpstream)
#include "tst_httpupstream.moc"
