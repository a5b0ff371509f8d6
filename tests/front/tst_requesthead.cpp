// RequestHead: the strict HTTP/1.x request-head scanner and parser that the
// front listener runs on every request before HTTP or WebSocket sees it.

#include "front/requesthead.h"

#include <QTest>

class RequestHeadTest : public QObject
{
    Q_OBJECT

private:
    static RequestHead parsed(const QByteArray &head)
    {
        RequestHead h;
        QString error;
        if (!RequestHead::parse(head, &h, &error))
            qWarning() << "unexpected parse error:" << error;
        return h;
    }

private slots:
    void scan_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<int>("max");
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("headLength");

        const QByteArray head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"; // 27 bytes
        const int complete = int(RequestHead::Status::Complete);
        const int incomplete = int(RequestHead::Status::Incomplete);
        const int tooLarge = int(RequestHead::Status::TooLarge);
        const int malformed = int(RequestHead::Status::Malformed);
        QTest::newRow("complete") << head << 1024 << complete << 27;
        QTest::newRow("complete with body after it") << head + "BODY" << 1024 << complete << 27;
        QTest::newRow("two pipelined heads: the first") << head + head << 1024 << complete << 27;
        QTest::newRow("exactly the limit") << head << 27 << complete << 27;
        QTest::newRow("one byte over the limit") << head << 26 << tooLarge << 0;
        QTest::newRow("empty") << QByteArray() << 1024 << incomplete << 0;
        QTest::newRow("request line only") << QByteArray("GET / HTTP/1.1\r\n") << 1024 << incomplete << 0;
        QTest::newRow("ends in CR") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n\r") << 1024 << incomplete << 0;
        QTest::newRow("no end, at the limit") << QByteArray(64, 'a') << 64 << tooLarge << 0;
        QTest::newRow("no end, under the limit") << QByteArray(63, 'a') << 64 << incomplete << 0;
        QTest::newRow("bare LF") << QByteArray("GET / HTTP/1.1\nHost") << 1024 << malformed << 0;
        QTest::newRow("leading LF") << QByteArray("\nGET") << 1024 << malformed << 0;
        QTest::newRow("NUL byte") << QByteArray("GET /\0 HTTP/1.1", 15) << 1024 << malformed << 0;
    }
    void scan()
    {
        QFETCH(QByteArray, data);
        QFETCH(int, max);
        QFETCH(int, status);
        QFETCH(int, headLength);
        int length = 0;
        QCOMPARE(int(RequestHead::scan(data, max, &length)), status);
        if (status == int(RequestHead::Status::Complete))
            QCOMPARE(length, headLength);
    }

    void parseValid()
    {
        RequestHead h;
        QString error;
        const QByteArray head = "GET /chat/room?token=a%20b&x=1 HTTP/1.1\r\n"
                                "Host: example.com\r\n"
                                "Upgrade:   WebSocket  \r\n"
                                "Connection: keep-alive, Upgrade\r\n"
                                "Sec-WebSocket-Protocol: a, b\r\n"
                                "sec-websocket-protocol: c\r\n"
                                "X-Empty:\r\n"
                                "\r\n";
        QVERIFY2(RequestHead::parse(head, &h, &error), qPrintable(error));
        QCOMPARE(h.method, QByteArray("GET"));
        QCOMPARE(h.target, QByteArray("/chat/room?token=a%20b&x=1"));
        QCOMPARE(h.version, QByteArray("HTTP/1.1"));
        QCOMPARE(h.headers.size(), 6);
        QCOMPARE(h.headers.at(1).first, QByteArray("Upgrade")); // names as sent
        QCOMPARE(h.headers.at(1).second, QByteArray("WebSocket")); // values trimmed
        QCOMPARE(h.path(), QByteArray("/chat/room"));
        QCOMPARE(h.query().queryItemValue("token", QUrl::FullyDecoded), QStringLiteral("a b"));
        QCOMPARE(h.query().queryItemValue("x"), QStringLiteral("1"));
        QCOMPARE(h.header("HOST"), QByteArray("example.com"));
        QVERIFY(h.header("missing").isNull());
        QVERIFY(!h.header("x-empty").isNull());
        QVERIFY(h.header("x-empty").isEmpty());
        QCOMPARE(h.headerTokens("Sec-WebSocket-Protocol"), (QList<QByteArray>{"a", "b", "c"}));
        QCOMPARE(h.headerCount("sec-websocket-protocol"), 2);
        QCOMPARE(h.headerCount("nothing"), 0);
        QVERIFY(h.hasToken("connection", "upgrade"));
        QVERIFY(h.hasToken("connection", "KEEP-ALIVE"));
        QVERIFY(!h.hasToken("connection", "close"));
        QVERIFY(h.isWebSocketUpgrade());
        QVERIFY(h.keepAlive());
    }

    void longestLine()
    {
        const RequestHead h = parsed("GET /abc HTTP/1.1\r\nHost: x\r\nX-Long: 0123456789012345\r\n\r\n");
        QCOMPARE(h.longestLine, int(qstrlen("X-Long: 0123456789012345")));
        const RequestHead h2 = parsed("GET /a-rather-long-target HTTP/1.1\r\nHost: x\r\n\r\n");
        QCOMPARE(h2.longestLine, int(qstrlen("GET /a-rather-long-target HTTP/1.1")));
    }

    void pathAndQueryWithoutQuery()
    {
        const RequestHead h = parsed("GET /a/b HTTP/1.1\r\nHost: x\r\n\r\n");
        QCOMPARE(h.path(), QByteArray("/a/b"));
        QVERIFY(h.query().isEmpty());
        QVERIFY(!h.isWebSocketUpgrade());
    }

    void parseInvalid_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<QString>("error");
        const QByteArray host = "Host: x\r\n";
        QTest::newRow("empty") << QByteArray("\r\n\r\n") << "malformed request line";
        QTest::newRow("two parts") << QByteArray("GET /\r\n" + host + "\r\n") << "malformed request line";
        QTest::newRow("four parts") << QByteArray("GET / x HTTP/1.1\r\n" + host + "\r\n")
                                    << "malformed request line";
        QTest::newRow("double space") << QByteArray("GET  / HTTP/1.1\r\n" + host + "\r\n")
                                      << "malformed request line";
        QTest::newRow("method with a slash") << QByteArray("GE/T / HTTP/1.1\r\n" + host + "\r\n")
                                             << "malformed method";
        QTest::newRow("relative target") << QByteArray("GET chat HTTP/1.1\r\n" + host + "\r\n")
                                         << "request target must be an absolute path";
        QTest::newRow("absolute URI target")
            << QByteArray("GET http://x/ HTTP/1.1\r\n" + host + "\r\n")
            << "request target must be an absolute path";
        QTest::newRow("non-ASCII target") << QByteArray("GET /\xC3\xA9 HTTP/1.1\r\n" + host + "\r\n")
                                          << "request target has an invalid character";
        QTest::newRow("HTTP/2.0") << QByteArray("GET / HTTP/2.0\r\n" + host + "\r\n")
                                  << "unsupported HTTP version";
        QTest::newRow("lowercase version") << QByteArray("GET / http/1.1\r\n" + host + "\r\n")
                                           << "unsupported HTTP version";
        QTest::newRow("header without colon")
            << QByteArray("GET / HTTP/1.1\r\n" + host + "NoColon\r\n\r\n") << "malformed header line";
        QTest::newRow("header with empty name")
            << QByteArray("GET / HTTP/1.1\r\n" + host + ": v\r\n\r\n") << "malformed header line";
        QTest::newRow("space before colon")
            << QByteArray("GET / HTTP/1.1\r\n" + host + "Bad : v\r\n\r\n") << "malformed header name";
        QTest::newRow("obsolete line folding")
            << QByteArray("GET / HTTP/1.1\r\n" + host + "A: b\r\n c\r\n\r\n") << "malformed header line";
        QTest::newRow("control character in value")
            << QByteArray("GET / HTTP/1.1\r\n" + host + "A: b\x01" "c\r\n\r\n")
            << "header A has a control character";
        QTest::newRow("bare CR in value")
            << QByteArray("GET / HTTP/1.1\r\n" + host + "A: b\rc\r\n\r\n") << "header A has a control character";
        QTest::newRow("LF without CR") << QByteArray("GET / HTTP/1.1\n" + host + "\r\n")
                                       << "line not terminated by CRLF";
        QTest::newRow("HTTP/1.1 without Host") << QByteArray("GET / HTTP/1.1\r\n\r\n")
                                               << "HTTP/1.1 request needs exactly one Host header";
        QTest::newRow("HTTP/1.1 with two Hosts")
            << QByteArray("GET / HTTP/1.1\r\n" + host + host + "\r\n")
            << "HTTP/1.1 request needs exactly one Host header";
    }
    void parseInvalid()
    {
        QFETCH(QByteArray, head);
        QFETCH(QString, error);
        RequestHead h;
        QString message;
        QVERIFY(!RequestHead::parse(head, &h, &message));
        QCOMPARE(message, error);
    }

    void http10WithoutHost()
    {
        RequestHead h;
        QString error;
        QVERIFY2(RequestHead::parse("GET * HTTP/1.0\r\n\r\n", &h, &error), qPrintable(error));
        QCOMPARE(h.target, QByteArray("*"));
        QVERIFY(h.headers.isEmpty());
    }

    void keepAlive_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<bool>("keepAlive");
        QTest::newRow("1.1 default") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n") << true;
        QTest::newRow("1.1 close") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                                   << false;
        QTest::newRow("1.1 Close in a list")
            << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n") << false;
        QTest::newRow("1.0 default") << QByteArray("GET / HTTP/1.0\r\n\r\n") << false;
        QTest::newRow("1.0 keep-alive") << QByteArray("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
                                        << true;
        QTest::newRow("1.0 keep-alive and close")
            << QByteArray("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n") << false;
    }
    void keepAlive()
    {
        QFETCH(QByteArray, head);
        QFETCH(bool, keepAlive);
        QCOMPARE(parsed(head).keepAlive(), keepAlive);
    }

    void webSocketUpgradeDetection_data()
    {
        QTest::addColumn<QByteArray>("upgradeHeader");
        QTest::addColumn<bool>("upgrade");
        QTest::newRow("websocket") << QByteArray("Upgrade: websocket\r\n") << true;
        QTest::newRow("case-insensitive") << QByteArray("Upgrade: WebSocket\r\n") << true;
        QTest::newRow("in a list") << QByteArray("Upgrade: h2c, websocket\r\n") << true;
        QTest::newRow("other protocol") << QByteArray("Upgrade: h2c\r\n") << false;
        QTest::newRow("none") << QByteArray() << false;
    }
    void webSocketUpgradeDetection()
    {
        QFETCH(QByteArray, upgradeHeader);
        QFETCH(bool, upgrade);
        const RequestHead h = parsed("GET / HTTP/1.1\r\nHost: x\r\n" + upgradeHeader + "\r\n");
        QCOMPARE(h.isWebSocketUpgrade(), upgrade);
    }
};

QTEST_GUILESS_MAIN(RequestHeadTest)
#include "tst_requesthead.moc"
