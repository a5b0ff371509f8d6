// Connections that never finish (or never start) a request head, in
// numbers: at limits.maxPendingSockets the connection that has waited
// longest for a head is closed to make room, so real clients still get in
// during a flood of 10,000 silent connections; the head timeout closes the
// rest; no descriptor stays behind. Also: accept() failing for want of
// descriptors (EMFILE) only pauses accepting.

#include "front/descriptorlimit.h"
#include "rawclient.h"
#include "testsupport.h"

#include <QDir>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QTemporaryDir>

#include <vector>

#ifdef Q_OS_LINUX
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace {

#ifdef Q_OS_LINUX
// Open descriptors of this process (server and clients live in it).
int openDescriptors()
{
    return int(QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot).size());
}

sockaddr_in loopback(quint16 port)
{
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

// Many plain non-blocking sockets that connect and never send a byte (10,000
// QTcpSockets would cost the test far more than the server). Notices, with
// epoll, every one the server closes, and closes its own end then.
class SilentFlood
{
    Q_DISABLE_COPY_MOVE(SilentFlood)

public:
    SilentFlood() : m_epoll(epoll_create1(EPOLL_CLOEXEC)) {}
    ~SilentFlood()
    {
        for (int fd : m_fds) {
            if (fd >= 0)
                ::close(fd);
        }
        if (m_epoll >= 0)
            ::close(m_epoll);
    }

    // Opens `count` connections to `port`, never more than `maxOutstanding`
    // at once that the server has not closed yet: beyond that they would
    // only wait in the kernel's listen queue (or have their SYNs dropped).
    bool open(quint16 port, int count, int maxOutstanding, QString *error)
    {
        const sockaddr_in address = loopback(port);
        QElapsedTimer timer;
        timer.start();
        m_fds.reserve(size_t(count));
        for (int i = 0; i < count; ++i) {
            while (outstanding() >= maxOutstanding) {
                if (timer.elapsed() > 30000) {
                    *error = QStringLiteral("the server stopped closing connections (%1 of %2 open, %3 closed)")
                                 .arg(m_opened).arg(count).arg(m_closed);
                    return false;
                }
                poll(10);
            }
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                *error = QStringLiteral("socket() #%1: %2").arg(i).arg(qt_error_string(errno));
                return false;
            }
            if (::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0
                && errno != EINPROGRESS) {
                *error = QStringLiteral("connect() #%1: %2").arg(i).arg(qt_error_string(errno));
                ::close(fd);
                return false;
            }
            epoll_event event{};
            event.events = EPOLLIN | EPOLLRDHUP;
            event.data.u32 = quint32(m_fds.size());
            epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event);
            m_fds.push_back(fd);
            ++m_opened;
            if (i % 64 == 63)
                poll(0);
        }
        return true;
    }

    // Takes note of the connections the server closed (FIN or RST) and of
    // any byte it sent (it must send none to a connection that sent nothing).
    void poll(int timeoutMs = 0)
    {
        epoll_event events[256];
        const int n = epoll_wait(m_epoll, events, 256, timeoutMs);
        for (int i = 0; i < n; ++i) {
            const quint32 index = events[i].data.u32;
            const int fd = m_fds[index];
            if (fd < 0)
                continue;
            char byte;
            const ssize_t got = ::recv(fd, &byte, 1, 0);
            if (got > 0) {
                ++m_answered;
            } else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                ::close(fd);
                m_fds[index] = -1;
                ++m_closed;
            }
        }
    }

    int opened() const { return m_opened; }
    int closedByServer() const { return m_closed; }
    int outstanding() const { return m_opened - m_closed; }
    int answered() const { return m_answered; }

private:
    int m_epoll;
    std::vector<int> m_fds;
    int m_opened = 0;
    int m_closed = 0;
    int m_answered = 0;
};

// Sets the soft open-file limit for the scope and restores it after.
class SoftDescriptorLimit
{
    Q_DISABLE_COPY_MOVE(SoftDescriptorLimit)

public:
    explicit SoftDescriptorLimit(rlim_t soft)
    {
        getrlimit(RLIMIT_NOFILE, &m_saved);
        rlimit lowered = m_saved;
        lowered.rlim_cur = soft;
        m_ok = setrlimit(RLIMIT_NOFILE, &lowered) == 0;
    }
    ~SoftDescriptorLimit() { restore(); }
    bool ok() const { return m_ok; }
    void restore()
    {
        if (m_ok)
            setrlimit(RLIMIT_NOFILE, &m_saved);
        m_ok = false;
    }

private:
    rlimit m_saved{};
    bool m_ok = false;
};
#endif

// A QWebSocket offering `jsonrpc` that sends one echo request once connected.
struct JsonRpcEcho
{
    QWebSocket ws;
    QSignalSpy received{&ws, &QWebSocket::textMessageReceived};
    int id;

    JsonRpcEcho(const QUrl &url, int requestId) : id(requestId)
    {
        QWebSocketHandshakeOptions options;
        options.setSubprotocols({QStringLiteral("jsonrpc")});
        QObject::connect(&ws, &QWebSocket::connected, &ws, [this] {
            ws.sendTextMessage(
                QStringLiteral(R"({"jsonrpc":"2.0","method":"echo","params":["flood",%1],"id":%1})").arg(id));
        });
        ws.open(url, options);
    }

    bool waitForReply(QString *why)
    {
        if (!QTest::qWaitFor([&] { return !received.isEmpty(); }, 5000)) {
            *why = QStringLiteral("no echo reply; WebSocket state %1, %2").arg(int(ws.state())).arg(ws.errorString());
            return false;
        }
        const QString text = received.first().first().toString();
        const QJsonObject reply = QJsonDocument::fromJson(text.toUtf8()).object();
        if (reply.value("id").toInt() != id || reply.value("result").toArray() != QJsonArray{"flood", id}) {
            *why = QStringLiteral("unexpected reply: ") + text;
            return false;
        }
        return true;
    }
};

ServerConfig floodConfig(int maxPending, int headTimeoutMs)
{
    ServerConfig config;
    config.port = 0;
    config.workerThreads = 2;
    config.limits.maxPendingSockets = maxPending;
    config.limits.headTimeoutMs = headTimeoutMs;
    return config;
}

} // namespace

class SilentFloodTest : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;

    bool startServer(const ServerConfig &config)
    {
        return startEchoServer(m_server, config);
    }

    // A QWebSocket that must get through the handshake and an echo.
    void expectEcho(QWebSocket &ws)
    {
        QVERIFY(openWebSocket(ws, m_server->wsUrl(), {"echo.test"}));
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.sendTextMessage(QStringLiteral("still served"));
        QVERIFY(received.wait());
        QCOMPARE(received.first().first().toString(), QStringLiteral("still served"));
    }

    // Waits a little and checks the server has closed none of `clients`.
    void expectOpen(std::initializer_list<RawClient *> clients)
    {
        QTest::qWait(100);
        for (RawClient *c : clients)
            QVERIFY2(!c->closedByServer(), qPrintable(QString::number(c->localPort())));
    }

private slots:
    void initTestCase()
    {
        // Head timeouts of the flood are not news here.
        QLoggingCategory::setFilterRules(QStringLiteral("switchboard.*.info=false"));
    }

    void cleanup()
    {
        if (m_server)
            QVERIFY(m_server->stop());
        m_server.reset();
    }

    // At the limit the connection waiting longest for a head goes first:
    // silent ones, a head trickling in, a keep-alive connection idle since
    // its last answer (which joins the back of the line with each request);
    // never one whose head is complete (here: waiting for its body).
    void longestWaitingIsEvictedFirst()
    {
        QVERIFY(startServer(floodConfig(4, 10'000)));
        const quint16 port = m_server->port();

        RawClient upload; // head complete, body not sent yet
        QVERIFY(upload.connectTo(port));
        upload.send(httpRequest("POST", "/upload", {{"Content-Length", "10"}, {"Expect", "100-continue"}}));
        QVERIFY(upload.waitForBytes(qstrlen("HTTP/1.1 100 Continue\r\n\r\n")));
        QVERIFY(upload.takeAll().startsWith("HTTP/1.1 100 Continue"));
        RawClient silent1;
        QVERIFY(silent1.connectTo(port));
        RawClient trickle; // part of a head
        QVERIFY(trickle.connectTo(port));
        trickle.send("GET /health HTTP/1.1\r\nHo");
        RawClient keepAlive;
        RawResponse r;
        QVERIFY(exchange(port, httpRequest("GET", "/health"), &r, &keepAlive));
        QCOMPARE(r.status, 200);
        expectOpen({&upload, &silent1, &trickle, &keepAlive});

        // Four pending, the limit: a real client gets in, the oldest silent one makes room.
        QWebSocket ws;
        expectEcho(ws);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(silent1.waitForClose(2000));
        QVERIFY(silent1.buffer().isEmpty());
        expectOpen({&upload, &trickle, &keepAlive});

        RawClient silent2;
        QVERIFY(silent2.connectTo(port)); // four pending again (the WebSocket is no longer one)
        RawClient silent3;
        QVERIFY(silent3.connectTo(port));
        QVERIFY(trickle.waitForClose(2000));
        expectOpen({&upload, &keepAlive, &silent2});

        // Another request moves the keep-alive connection to the back of the line.
        keepAlive.send(httpRequest("GET", "/health"));
        QVERIFY(keepAlive.readResponse(&r));
        QCOMPARE(r.status, 200);
        RawClient silent4;
        QVERIFY(silent4.connectTo(port));
        QVERIFY(silent2.waitForClose(2000));
        RawClient silent5;
        QVERIFY(silent5.connectTo(port));
        QVERIFY(silent3.waitForClose(2000));
        expectOpen({&upload, &keepAlive});
        RawClient silent6;
        QVERIFY(silent6.connectTo(port));
        QVERIFY(keepAlive.waitForClose(2000));
        expectOpen({&upload, &silent4, &silent5, &silent6});

        // The upload was never a candidate: its body is still taken.
        upload.send("0123456789");
        QVERIFY(upload.readResponse(&r));
        QCOMPARE(r.status, 404);
    }

    // When no pending connection waits for a head, a new one is refused.
    void newcomerRefusedWhenNothingCanBeEvicted()
    {
        QVERIFY(startServer(floodConfig(1, 10'000)));
        RawClient upload;
        QVERIFY(upload.connectTo(m_server->port()));
        upload.send(httpRequest("POST", "/upload", {{"Content-Length", "10"}, {"Expect", "100-continue"}}));
        QVERIFY(upload.waitForBytes(qstrlen("HTTP/1.1 100 Continue\r\n\r\n")));
        RawClient late;
        QVERIFY(late.connectTo(m_server->port()));
        QVERIFY(late.waitForClose(2000)); // long before the head timeout
        expectOpen({&upload});
    }

    // 10,000 connections that never send a byte (fewer when the open-file
    // limit does not allow it) against maxPendingSockets 300: a WebSocket
    // client and a plain GET /health are still served while the flood is
    // held; every silent connection is closed by the head timeout at the
    // latest; the descriptors all come back.
    void silentFloodDoesNotLockOutClients()
    {
#ifndef Q_OS_LINUX
        QSKIP("needs epoll and /proc/self/fd (Linux)");
#else
        constexpr int MaxPending = 300;
        constexpr int HeadTimeoutMs = 1500;
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        ServerConfig config = floodConfig(MaxPending, HeadTimeoutMs);
        config.stateFile = dir.filePath(QStringLiteral("methods.json"));
        QString error;
        const std::unique_ptr<Switchboard> server = startSwitchboard(config, &error);
        QVERIFY2(server, qPrintable(error));
        const QUrl url = server->host()->listeners().value(0);
        const quint16 port = quint16(url.port());
        QUrl wsUrl = url;
        wsUrl.setScheme(QStringLiteral("ws"));

        // Warm up what the server creates on first use, then take the baseline.
        {
            JsonRpcEcho echo(wsUrl, 1);
            QVERIFY2(echo.waitForReply(&error), qPrintable(error));
            RawClient http;
            RawResponse r;
            QVERIFY(exchange(port, httpRequest("GET", "/health"), &r, &http));
        }
        QTest::qWait(200);
        const int baseline = openDescriptors();

        // This process holds both ends of every connection the server has not
        // closed yet: at most MaxOutstanding on the flood's side, as many on
        // the server's (its pending ones and those accepted but not yet seen).
        constexpr int MaxOutstanding = MaxPending + 600;
        const long long limit = raiseDescriptorLimit();
        const int room = int(qMin<long long>(limit - baseline - 100, 100'000)) / 2;
        if (room < MaxPending + 100)
            QSKIP(qPrintable(QStringLiteral("open-file limit %1 leaves room for too few connections").arg(limit)));
        const int count = 10'000;
        qInfo("flood of %d silent connections (open-file limit %lld, %d descriptors open before)", count, limit,
              baseline);

        QElapsedTimer timer;
        timer.start();
        SilentFlood flood;
        QVERIFY2(flood.open(port, count, qMin(MaxOutstanding, room), &error), qPrintable(error));
        const qint64 openedMs = timer.elapsed();
        // The server works through the listen queue; it keeps only the newest MaxPending.
        QVERIFY(QTest::qWaitFor([&] { flood.poll(); return flood.outstanding() <= MaxPending; }, 10'000));
        const int held = flood.outstanding();
        qInfo("opened in %lld ms; %d closed to make room, %d held by the server after %lld ms", openedMs,
              flood.closedByServer(), held, timer.elapsed());

        // (a) and (b) while the flood is held: both need a slot at once.
        JsonRpcEcho echo(wsUrl, 2);
        RawClient http;
        QVERIFY(http.connectTo(port));
        http.send(httpRequest("GET", "/health"));
        QVERIFY2(echo.waitForReply(&error), qPrintable(error));
        RawResponse r;
        QVERIFY2(http.readResponse(&r), http.buffer().constData());
        QCOMPARE(r.status, 200);
        qInfo("real clients served %lld ms after the flood began", timer.elapsed());

        // (c) Every silent connection is closed by the head timeout at the latest.
        QVERIFY2(QTest::qWaitFor([&] { flood.poll(10); return flood.closedByServer() == count; }, HeadTimeoutMs + 5000),
                 qPrintable(QStringLiteral("%1 of %2 still open").arg(flood.outstanding()).arg(count)));
        QCOMPARE(flood.answered(), 0);
        qInfo("all closed by the server %lld ms after the flood began", timer.elapsed());

        // (d) ...and no descriptor stays behind.
        echo.ws.close();
        http.socket()->disconnectFromHost();
        QVERIFY(QTest::qWaitFor([&] { return openDescriptors() <= baseline + 4; }, 5000));
        QVERIFY(stopSwitchboard(*server));
#endif
    }

    // accept() failing with EMFILE makes Qt pause accepting for good; the
    // listener resumes, so descriptor shortage only delays new clients.
    void acceptResumesAfterDescriptorShortage()
    {
#ifndef Q_OS_LINUX
        QSKIP("sets RLIMIT_NOFILE and counts /proc/self/fd (Linux)");
#else
        QVERIFY(startServer(floodConfig(100, 10'000)));
        const sockaddr_in address = loopback(m_server->port());
        const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        QVERIFY(client >= 0);
        const auto closeClient = qScopeGuard([client] { ::close(client); });

        // From here no descriptor is free below the soft limit: the server's
        // accept() fails with EMFILE. (The client's socket already exists.)
        QTest::qWait(100); // whatever the previous test left to close is closed
        int lowestFree = 0;
        while (fcntl(lowestFree, F_GETFD) != -1 || errno != EBADF)
            ++lowestFree;
        std::vector<int> fillers; // descriptors freed meanwhile below the limit
        const auto closeFillers = qScopeGuard([&fillers] {
            for (int fd : fillers)
                ::close(fd);
        });
        SoftDescriptorLimit shortage{rlim_t(lowestFree)};
        QVERIFY(shortage.ok());
        for (int fd; (fd = ::fcntl(client, F_DUPFD_CLOEXEC, 0)) >= 0;)
            fillers.push_back(fd);
        QVERIFY(::connect(client, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0);
        const QByteArray request = httpRequest("GET", "/health");
        QCOMPARE(::send(client, request.constData(), size_t(request.size()), MSG_NOSIGNAL), ssize_t(request.size()));
        QTest::qWait(400); // several retries, every 100 ms
        pollfd readable{client, POLLIN, 0};
        QCOMPARE(::poll(&readable, 1, 0), 0); // not accepted, so not answered
        shortage.restore();

        QByteArray answer;
        QElapsedTimer timer;
        timer.start();
        while (!answer.contains("\r\n\r\n") && timer.elapsed() < 3000) {
            QTest::qWait(20);
            char buffer[1024];
            const ssize_t n = ::recv(client, buffer, sizeof buffer, MSG_DONTWAIT);
            if (n > 0)
                answer.append(buffer, n);
        }
        QVERIFY2(answer.startsWith("HTTP/1.1 200"), answer.constData());
        qInfo("answered %lld ms after descriptors were available again", timer.elapsed());
#endif
    }
};

QTEST_GUILESS_MAIN(SilentFloodTest)
#include "tst_silentflood.moc"
