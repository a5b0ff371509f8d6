// Connections on worker threads: many concurrent clients exchanging
// messages, abrupt aborts (RST) that leave no connection and no descriptor
// behind, and shutdown sending 1001 to everyone still connected.

#include "rawclient.h"
#include "testsupport.h"

#include <QDir>
#include <QTcpSocket>
#include <QThread>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

namespace {

// Open descriptors of this process (server and clients live in it), or -1.
int openDescriptors()
{
#ifdef Q_OS_LINUX
    return int(QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot).size());
#else
    return -1;
#endif
}

// Makes close/abort of a library client send RST instead of FIN.
void setLingerZero(QWebSocket &ws)
{
#ifdef Q_OS_UNIX
    // QWebSocket keeps its QTcpSocket as a child; there is no public accessor.
    for (QTcpSocket *s : ws.findChildren<QTcpSocket *>()) {
        struct linger l = {1, 0};
        ::setsockopt(int(s->socketDescriptor()), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
#else
    Q_UNUSED(ws);
#endif
}

constexpr int Clients = 50;
constexpr int MessagesEach = 10;

} // namespace

class WorkersTest : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;

    ConnectionRegistry *registry() const { return m_server->host->connections(); }

    // Opens `n` clients at once (not one after the other) and waits for all.
    bool openMany(std::vector<std::unique_ptr<QWebSocket>> &clients, int n)
    {
        QWebSocketHandshakeOptions options;
        options.setSubprotocols({"echo.test"});
        int connected = 0;
        for (int i = 0; i < n; ++i) {
            auto ws = std::make_unique<QWebSocket>();
            QObject::connect(ws.get(), &QWebSocket::connected, ws.get(), [&connected] { ++connected; });
            ws->open(m_server->wsUrl(QStringLiteral("/client/%1").arg(clients.size())), options);
            clients.push_back(std::move(ws));
        }
        return QTest::qWaitFor([&] { return connected == n; }, 10000);
    }

private slots:
    void init()
    {
        m_server = std::make_unique<TestServer>();
        m_server->subprotocols->add(std::make_shared<EchoTestSubprotocol>());
        ServerConfig config;
        config.port = 0;
        config.workerThreads = 2;
        QString error;
        QVERIFY2(m_server->start(config, &error), qPrintable(error));
    }
    void cleanup()
    {
        if (m_server)
            QVERIFY(m_server->stop());
        m_server.reset();
    }

    void manyClientsThenAbruptAborts()
    {
        // Baseline after one client has come and gone, so lazily created
        // process-wide resources are already counted.
        const int before = openDescriptors();
        {
            QWebSocket warmUp;
            QVERIFY(openWebSocket(warmUp, m_server->wsUrl(), {"echo.test"}));
            warmUp.close();
            QTRY_COMPARE(registry()->count(), 0);
            QTRY_COMPARE(warmUp.state(), QAbstractSocket::UnconnectedState);
        }
        if (before >= 0)
            QTRY_VERIFY(openDescriptors() <= before + 2); // the server side of the warm-up is gone too
        const int baseline = openDescriptors();

        std::vector<std::unique_ptr<QWebSocket>> clients;
        QVERIFY(openMany(clients, Clients));
        QTRY_COMPARE(registry()->count(), Clients);

        // Every client sends its messages at once; each gets its own back, in order.
        std::vector<QStringList> received(Clients);
        for (int i = 0; i < Clients; ++i) {
            QObject::connect(clients[i].get(), &QWebSocket::textMessageReceived, clients[i].get(),
                             [&received, i](const QString &m) { received[i] << m; });
        }
        for (int m = 0; m < MessagesEach; ++m) {
            for (int i = 0; i < Clients; ++i)
                clients[i]->sendTextMessage(QStringLiteral("client %1 message %2").arg(i).arg(m));
        }
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(received.begin(), received.end(),
                                             [](const QStringList &l) { return l.size() >= MessagesEach; }),
                                 10000);
        for (int i = 0; i < Clients; ++i) {
            QCOMPARE(received[i].size(), MessagesEach);
            for (int m = 0; m < MessagesEach; ++m)
                QCOMPARE(received[i].at(m), QStringLiteral("client %1 message %2").arg(i).arg(m));
        }
        // The registry's counters saw every message, in and out.
        const QList<ConnectionInfo> snapshot = registry()->snapshot();
        QCOMPARE(snapshot.size(), Clients);
        QSet<QString> paths;
        for (const ConnectionInfo &c : snapshot) {
            QCOMPARE(c.messagesIn, quint64(MessagesEach));
            QTRY_COMPARE(registry()->connection(c.id)->messagesOut, quint64(MessagesEach));
            paths.insert(c.path);
        }
        QCOMPARE(paths.size(), Clients);

        if (baseline >= 0)
            QVERIFY2(openDescriptors() >= baseline + 2 * Clients,
                     qPrintable(QStringLiteral("%1 open, baseline %2").arg(openDescriptors()).arg(baseline)));

        // Abrupt: RST, no close frame.
        ClosedConnections closed(registry());
        for (auto &ws : clients) {
            setLingerZero(*ws);
            ws->abort();
        }
        clients.clear();
        QTRY_COMPARE_WITH_TIMEOUT(registry()->count(), 0, 10000);
        QTRY_COMPARE(closed.count(), Clients);
        for (const ClosedConnections::Close &c : closed.closes())
            QCOMPARE(c.code, int(QWebSocketProtocol::CloseCodeAbnormalDisconnection));

        if (baseline < 0)
            QSKIP("counting open descriptors needs /proc/self/fd (Linux)");
        QTRY_VERIFY2_WITH_TIMEOUT(openDescriptors() <= baseline + 2,
                                  qPrintable(QStringLiteral("%1 open, baseline %2").arg(openDescriptors()).arg(baseline)),
                                  10000);
    }

    // Sockets that die in every state before they become a WebSocket leave nothing behind.
    void abortsBeforeTheUpgradeLeakNothing()
    {
        const int before = openDescriptors();
        if (before < 0)
            QSKIP("counting open descriptors needs /proc/self/fd (Linux)");
        {
            RawClient warmUp;
            RawResponse r;
            QVERIFY(exchange(m_server->port(), httpRequest("GET", "/health"), &r, &warmUp));
        }
        QTRY_VERIFY(openDescriptors() <= before + 2); // the server noticed the warm-up is gone
        const int baseline = openDescriptors();
        const QByteArray upgrade = UpgradeRequest().toBytes();
        std::vector<std::unique_ptr<RawClient>> clients;
        for (int i = 0; i < 40; ++i) {
            auto c = std::make_unique<RawClient>();
            QVERIFY(c->connectTo(m_server->port()));
            switch (i % 4) {
            case 0: break;                                         // nothing sent
            case 1: c->send(upgrade.left(upgrade.size() / 2)); break; // half a head
            case 2: c->send(httpRequest("GET", "/health")); break;   // a plain request
            case 3: c->send(upgrade); break;                        // a whole handshake
            }
            clients.push_back(std::move(c));
        }
        // Let the whole handshakes and plain requests be answered, then cut everyone.
        for (int i = 2; i < 40; i += 4) {
            RawResponse r;
            QVERIFY(clients[i]->readResponse(&r));
            QCOMPARE(r.status, 200);
            QVERIFY(clients[i + 1]->readResponse(&r));
            QCOMPARE(r.status, 101);
        }
        QTRY_COMPARE(registry()->count(), 10);
        for (auto &c : clients) {
            c->setLingerZero();
            c->socket()->abort();
        }
        clients.clear();
        QTRY_COMPARE_WITH_TIMEOUT(registry()->count(), 0, 10000);
        QTRY_VERIFY2_WITH_TIMEOUT(openDescriptors() <= baseline + 2,
                                  qPrintable(QStringLiteral("%1 open, baseline %2").arg(openDescriptors()).arg(baseline)),
                                  10000);
    }

    // stop() sends 1001 to every client still connected, then reports stopped.
    void stopSendsGoingAway()
    {
        std::vector<std::unique_ptr<QWebSocket>> clients;
        QVERIFY(openMany(clients, 20));
        QTRY_COMPARE(registry()->count(), 20);
        int disconnected = 0;
        for (auto &ws : clients)
            QObject::connect(ws.get(), &QWebSocket::disconnected, ws.get(), [&disconnected] { ++disconnected; });
        ClosedConnections closed(registry());
        QSignalSpy stopped(m_server->host.get(), &ServerHost::stopped);
        m_server->host->stop();
        QTRY_COMPARE(disconnected, 20);
        for (auto &ws : clients) {
            QCOMPARE(ws->closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
            QCOMPARE(ws->closeReason(), QStringLiteral("server shutting down"));
        }
        QTRY_COMPARE(stopped.count(), 1);
        QCOMPARE(registry()->count(), 0);
        QTRY_COMPARE(closed.count(), 20);
        for (const ClosedConnections::Close &c : closed.closes())
            QCOMPARE(c.code, 1001);
        QVERIFY(!m_server->host->isRunning());
        // The port is closed.
        QTcpSocket probe;
        probe.connectToHost(QStringLiteral("127.0.0.1"), m_server->port());
        QVERIFY(!probe.waitForConnected(1000) || probe.state() != QAbstractSocket::ConnectedState);
    }

    // The client's first message, sent as soon as the 101 is in, always
    // reaches the session, also while the worker threads are brand new
    // (the session used to connect its signals only once started on the
    // worker, and a message read before that was dropped).
    void firstMessageRightAfterTheHandshake()
    {
        QVERIFY(m_server->stop());
        for (int i = 0; i < 60; ++i) {
            m_server = std::make_unique<TestServer>();
            m_server->subprotocols->add(std::make_shared<EchoTestSubprotocol>());
            ServerConfig config;
            config.port = 0;
            config.workerThreads = 2;
            QVERIFY(m_server->start(config));
            QWebSocket ws;
            QWebSocketHandshakeOptions options;
            options.setSubprotocols({"echo.test"});
            QSignalSpy connected(&ws, &QWebSocket::connected);
            QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
            ws.open(m_server->wsUrl(), options);
            // QSignalSpy::wait returns the moment the 101 is in (qWaitFor
            // would idle a few ms and hide the race).
            QVERIFY(connected.wait());
            ws.sendTextMessage(QStringLiteral("first %1").arg(i));
            QVERIFY2(received.wait(2000), qPrintable(QStringLiteral("first message of round %1 lost").arg(i)));
            QCOMPARE(received.first().first().toString(), QStringLiteral("first %1").arg(i));
            QVERIFY(m_server->stop());
        }
    }

    // A raw client that never answers the close frame still gets the 1001
    // and its connection ends; stop() completes within the grace period.
    void stopReachesClientsThatDoNotAnswer()
    {
        QVERIFY(m_server->stop());
        m_server = std::make_unique<TestServer>();
        m_server->subprotocols->add(std::make_shared<EchoTestSubprotocol>());
        ServerConfig config;
        config.port = 0;
        config.workerThreads = 2;
        config.limits.shutdownGraceMs = 300;
        QVERIFY(m_server->start(config));

        RawClient deaf;
        QVERIFY(deaf.connectTo(m_server->port()));
        deaf.send(UpgradeRequest().toBytes());
        RawResponse r;
        QVERIFY(deaf.readResponse(&r));
        QCOMPARE(r.status, 101);
        QTRY_COMPARE(registry()->count(), 1);

        QElapsedTimer timer;
        timer.start();
        QSignalSpy stopped(m_server->host.get(), &ServerHost::stopped);
        m_server->host->stop();
        QVERIFY(stopped.wait(5000));
        QVERIFY2(timer.elapsed() < 300 + 1000, qPrintable(QString::number(timer.elapsed())));
        WsFrame frame;
        QVERIFY(deaf.readDataOrCloseFrame(&frame));
        QCOMPARE(frame.opcode, int(Ws::Close));
        QCOMPARE(frame.closeCode(), 1001);
        QCOMPARE(frame.closeReason(), QByteArray("server shutting down"));
        QVERIFY(deaf.waitForClose());
        QCOMPARE(registry()->count(), 0);
    }
};

QTEST_GUILESS_MAIN(WorkersTest)
#include "tst_workers.moc"
