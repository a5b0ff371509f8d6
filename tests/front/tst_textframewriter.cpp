// The server's text frames as they leave it (TextFrameWriter): exact header
// bytes, straight to the kernel only when nothing can be overtaken, order
// and completeness when the kernel takes only part of a frame, a peer that
// is gone, TLS through Qt; then the same through the whole server with a raw
// client: every length encoding, fragmentation of large messages, and
// replies that back up behind a client that stops reading for a while.

#include "rawclient.h"
#include "testsupport.h"
#include "ws/textframewriter.h"

#include <QSslSocket>
#include <QTcpServer>

#include <cerrno>

namespace {

QByteArray headerBytes(quint8 opcode, bool final, quint64 size)
{
    char head[10];
    return QByteArray(head, TextFrameWriter::header(opcode, final, size, head));
}

// A payload that says which message it is, so lost, doubled or reordered
// bytes show.
QByteArray numbered(int index, qsizetype size)
{
    QByteArray payload = QByteArray::number(index).rightJustified(6, '0') + ':';
    payload.reserve(size);
    while (payload.size() < size)
        payload.append(char('a' + (payload.size() + index) % 26));
    payload.truncate(size);
    return payload;
}

// A connected loopback pair: `accepted` is the server's end, a QTcpSocket or
// (never encrypted) QSslSocket made from the accepted descriptor, the way
// the front makes its sockets.
class SocketPair : public QTcpServer
{
public:
    std::unique_ptr<QTcpSocket> client = std::make_unique<QTcpSocket>();
    std::unique_ptr<QTcpSocket> accepted;

    bool open(bool ssl)
    {
        m_ssl = ssl;
        if (!listen(QHostAddress::LocalHost))
            return false;
        client->connectToHost(QHostAddress::LocalHost, serverPort());
        return QTest::qWaitFor([&] { return accepted && client->state() == QAbstractSocket::ConnectedState; },
                               5000);
    }

    // Reads on the client until `n` bytes have come (or 10 s passed).
    QByteArray receive(qsizetype n)
    {
        QByteArray got;
        (void)QTest::qWaitFor([&] {
            got += client->readAll();
            return got.size() >= n;
        }, 10000);
        got += client->readAll();
        return got;
    }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        accepted.reset(m_ssl ? new QSslSocket : new QTcpSocket);
        accepted->setSocketDescriptor(descriptor);
    }

private:
    bool m_ssl = false;
};

} // namespace

class TestTextFrameWriter : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;

    bool openRaw(RawClient &client)
    {
        if (!client.connectTo(m_server->port()))
            return false;
        client.send(UpgradeRequest().toBytes());
        RawResponse r;
        return client.readResponse(&r) && r.status == 101
            && QTest::qWaitFor([&] { return m_server->host->connections()->count() == 1; }, 5000);
    }

private slots:
    void cleanup()
    {
        if (m_server)
            QVERIFY(m_server->stop());
        m_server.reset();
    }

    // ---- the writer on a socket pair ----

    // RFC 6455 section 5.2: FIN and opcode, no mask bit, the shortest of the
    // three length encodings.
    void headerEncodings_data()
    {
        QTest::addColumn<int>("opcode");
        QTest::addColumn<bool>("final");
        QTest::addColumn<quint64>("size");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("empty text") << 1 << true << quint64(0) << QByteArray::fromHex("8100");
        QTest::newRow("125: one byte") << 1 << true << quint64(125) << QByteArray::fromHex("817d");
        QTest::newRow("126: two more") << 1 << true << quint64(126) << QByteArray::fromHex("817e007e");
        QTest::newRow("65535") << 1 << true << quint64(65535) << QByteArray::fromHex("817effff");
        QTest::newRow("65536: eight more") << 1 << true << quint64(65536) << QByteArray::fromHex("817f0000000000010000");
        QTest::newRow("2^32") << 1 << true << (quint64(1) << 32) << QByteArray::fromHex("817f0000000100000000");
        QTest::newRow("first of several") << 1 << false << quint64(5) << QByteArray::fromHex("0105");
        QTest::newRow("last continuation") << 0 << true << quint64(300) << QByteArray::fromHex("807e012c");
    }
    void headerEncodings()
    {
        QFETCH(int, opcode);
        QFETCH(bool, final);
        QFETCH(quint64, size);
        QFETCH(QByteArray, expected);
        QCOMPARE(headerBytes(quint8(opcode), final, size).toHex(), expected.toHex());
    }

    // Nothing queued, nothing unread: the frame is in the kernel before the
    // call returns (Qt's path would hold it until the next loop pass).
    void straightToTheKernelWhenNothingIsQueued()
    {
        SocketPair pair;
        QVERIFY(pair.open(false));
        TextFrameWriter writer(pair.accepted.get());
        writer.write("hello");
#ifdef Q_OS_LINUX // where the writer sends directly (MSG_NOSIGNAL) and CI runs
        QCOMPARE(pair.accepted->bytesToWrite(), 0);
#endif
        QCOMPARE(pair.receive(7), QByteArray("\x81\x05hello"));
    }

    // Bytes already in Qt's buffer go first.
    void queuedBytesAreNotOvertaken()
    {
        SocketPair pair;
        QVERIFY(pair.open(false));
        pair.accepted->write("AB");
        TextFrameWriter writer(pair.accepted.get());
        writer.write("hello");
        QCOMPARE(pair.accepted->bytesToWrite(), 2 + 7);
        QCOMPARE(pair.receive(9), QByteArray("AB\x81\x05hello"));
    }

    // A request still unread on the connection: its reply will follow, so
    // this one waits in Qt's buffer to leave with it.
    void gathersWhileRequestsAreBuffered()
    {
        SocketPair pair;
        QVERIFY(pair.open(false));
        pair.client->write("next request");
        QVERIFY(QTest::qWaitFor([&] { return pair.accepted->bytesAvailable() > 0; }, 5000));
        TextFrameWriter writer(pair.accepted.get());
        writer.write("first");
        QCOMPARE(pair.accepted->bytesToWrite(), 7);
        writer.write("second");
        QCOMPARE(pair.accepted->bytesToWrite(), 7 + 8);
        QCOMPARE(pair.receive(15), QByteArray("\x81\x05" "first" "\x81\x06" "second"));
    }

    // TLS: the bytes must pass through QSslSocket.
    void tlsSocketsGoThroughQt()
    {
        SocketPair pair;
        QVERIFY(pair.open(true));
        TextFrameWriter writer(pair.accepted.get());
        writer.write("hello");
        QCOMPARE(pair.accepted->bytesToWrite(), 7);
        QCOMPARE(pair.receive(7), QByteArray("\x81\x05hello"));
    }

    // The kernel takes part of a frame: the rest, and every frame after it,
    // queue in Qt's buffer; the peer gets every byte once, in order.
    void partialSendsKeepEveryByteInOrder()
    {
        SocketPair pair;
        QVERIFY(pair.open(false));
        // A fixed send buffer (no autotuning up to megabytes); the client
        // does not read until all is written.
        pair.accepted->setSocketOption(QAbstractSocket::SendBufferSizeSocketOption, 64 * 1024);
        TextFrameWriter writer(pair.accepted.get());
        // Frames of several segments each, so that the kernel runs out of room
        // inside one (it takes whole segments); 4 MB in all, far more than
        // its buffers hold.
        constexpr int Messages = 40;
        constexpr qsizetype Size = 100'000;
        QByteArray expected;
        for (int i = 0; i < Messages; ++i) {
            const QByteArray payload = numbered(i, Size);
            writer.write(payload);
            expected += headerBytes(1, true, Size) + payload;
        }
        // The kernel took the first frames at once, Qt holds the rest.
        QVERIFY2(pair.accepted->bytesToWrite() > 0, "the kernel buffers took everything");
        QVERIFY(pair.accepted->bytesToWrite() < expected.size());
        const QByteArray got = pair.receive(expected.size());
        QCOMPARE(got.size(), expected.size());
        QVERIFY(got == expected);
    }

    // A peer that has gone. The reset is reported once (ECONNRESET); sends
    // after that fail with EPIPE, which raises SIGPIPE, ending this process,
    // unless the send says not to. Either way the frame goes to Qt, whose
    // own write meets the same error and ends the socket as it would have
    // without the writer.
    void peerGoneEndsTheSocketWithoutSignal_data()
    {
        QTest::addColumn<bool>("resetAlreadyReported");
        QTest::newRow("first send after the reset") << false;
        QTest::newRow("reset already reported") << true;
    }
    void peerGoneEndsTheSocketWithoutSignal()
    {
        QFETCH(bool, resetAlreadyReported);
        SocketPair pair;
        QVERIFY(pair.open(false));
        QSignalSpy disconnected(pair.accepted.get(), &QTcpSocket::disconnected);
#ifdef Q_OS_UNIX
        struct linger l = {1, 0};
        ::setsockopt(int(pair.client->socketDescriptor()), SOL_SOCKET, SO_LINGER, &l, sizeof l);
#endif
        pair.client->abort(); // RST, in the kernel at once on loopback
        // No event-loop pass before the writes, or Qt would see the reset first.
        if (resetAlreadyReported) {
#ifdef MSG_NOSIGNAL
            const char byte = 0;
            QCOMPARE(::send(int(pair.accepted->socketDescriptor()), &byte, 1, MSG_NOSIGNAL), ssize_t(-1));
            QCOMPARE(errno, ECONNRESET);
#else
            QSKIP("no MSG_NOSIGNAL here: the writer always goes through Qt");
#endif
        }
        TextFrameWriter writer(pair.accepted.get());
        writer.write(numbered(0, 1000));
#ifdef Q_OS_LINUX // the reset is in before abort() returns
        QCOMPARE(pair.accepted->bytesToWrite(), 4 + 1000); // all of it handed to Qt
#endif
        QTRY_VERIFY_WITH_TIMEOUT(disconnected.count() == 1, 5000);
        QCOMPARE(pair.accepted->state(), QAbstractSocket::UnconnectedState);
    }

    // ---- through the whole server (echo.test), raw client ----

    // Each length encoding, and messages over MaxFramePayload split the way
    // QWebSocket splits them: a text frame, then continuations, the last final.
    void messageSizes_data()
    {
        QTest::addColumn<int>("size");
        QTest::addColumn<QList<int>>("frames");
        QTest::newRow("empty") << 0 << QList<int>{0};
        QTest::newRow("125") << 125 << QList<int>{125};
        QTest::newRow("126") << 126 << QList<int>{126};
        QTest::newRow("65535") << 65535 << QList<int>{65535};
        QTest::newRow("65536") << 65536 << QList<int>{65536};
        QTest::newRow("one full frame") << 524288 << QList<int>{524288};
        QTest::newRow("one byte more") << 524289 << QList<int>{524288, 1};
        QTest::newRow("1,000,000") << 1'000'000 << QList<int>{524288, 475712};
    }
    void messageSizes()
    {
        QFETCH(int, size);
        QFETCH(QList<int>, frames);
        ServerConfig config;
        config.port = 0;
        QVERIFY(startEchoServer(m_server, config));
        RawClient client;
        QVERIFY(openRaw(client));

        const QByteArray message = numbered(7, size);
        client.send(Ws::encode(Ws::Text, message));
        QByteArray echoed;
        for (qsizetype i = 0; i < frames.size(); ++i) {
            const qsizetype length = frames.at(i);
            const QByteArray head = headerBytes(i == 0 ? 1 : 0, i == frames.size() - 1, quint64(length));
            QVERIFY2(client.waitForBytes(head.size(), 10000), qPrintable(QStringLiteral("frame %1").arg(i)));
            QCOMPARE(client.buffer().left(head.size()).toHex(), head.toHex());
            WsFrame frame;
            QVERIFY(client.readFrame(&frame, 10000));
            QCOMPARE(frame.payload.size(), length);
            echoed += frame.payload;
        }
        QVERIFY(echoed == message);
        QCOMPARE(client.buffer().size(), 0);
    }

    // The client stops reading while the server answers: replies fill the
    // kernel's buffers and back up in Qt's; once it reads again every reply
    // arrives whole and in order.
    void repliesBackUpAndArriveInOrder()
    {
        ServerConfig config;
        config.port = 0;
        QVERIFY(startEchoServer(m_server, config));
        QTcpSocket socket;
        QByteArray received;
        QVERIFY(upgradePlainSocket(socket, m_server->port(), &received));

        // Qt stops taking bytes from the kernel once its small buffer is full.
        socket.setReadBufferSize(4096);
        constexpr int Messages = 150;
        constexpr qsizetype Size = 60'000; // 9 MB of echoes, within maxOutgoingBytes (16 MiB)
        for (int i = 0; i < Messages; ++i)
            socket.write(Ws::encode(Ws::Text, numbered(i, Size)));
        QTRY_VERIFY_WITH_TIMEOUT(!m_server->host->connections()->snapshot().isEmpty()
                                     && m_server->host->connections()->snapshot().first().messagesOut == Messages,
                                 20000);

        socket.setReadBufferSize(0);
        int next = 0;
        QVERIFY(QTest::qWaitFor([&] {
            received += socket.readAll();
            WsFrame frame;
            while (qsizetype used = Ws::decode(received, &frame)) {
                received.remove(0, used);
                if (frame.opcode != Ws::Text || frame.payload != numbered(next, Size)) {
                    qWarning() << "message" << next << "differs: opcode" << frame.opcode << "size"
                               << frame.payload.size() << frame.payload.left(7);
                    return true;
                }
                ++next;
            }
            return next == Messages;
        }, 30000));
        QCOMPARE(next, Messages);
    }
};

QTEST_MAIN(TestTextFrameWriter)
#include "tst_textframewriter.moc"
