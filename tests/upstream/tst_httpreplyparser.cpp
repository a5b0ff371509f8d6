// HttpReplyParser: how an upstream's bytes become one reply — framing by
// Content-Length, chunks or the end of the connection, keep-alive, interim
// responses, and every way a reply can be malformed.

#include "upstream/httpreplyparser.h"

#include <QTest>

class TestHttpReplyParser : public QObject
{
    Q_OBJECT

    // Feeds `bytes` in pieces of `step` bytes; returns the last state.
    static HttpReplyParser::State feedInSteps(HttpReplyParser &parser, const QByteArray &bytes, int step,
                                              QByteArray *rest = nullptr)
    {
        QByteArray buffer;
        HttpReplyParser::State state = HttpReplyParser::State::NeedMore;
        for (qsizetype i = 0; i < bytes.size(); i += step) {
            buffer += bytes.mid(i, step);
            state = parser.feed(buffer);
            if (state != HttpReplyParser::State::NeedMore)
                break;
        }
        if (rest)
            *rest = buffer;
        return state;
    }

private slots:
    void framing_data()
    {
        QTest::addColumn<QByteArray>("reply");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("keepAlive");
        QTest::newRow("content-length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{\"result\":1}")
                                        << 200 << QByteArray("{\"result\":1}") << true;
        QTest::newRow("no reason phrase") << QByteArray("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n{}")
                                          << 200 << QByteArray("{}") << true;
        QTest::newRow("chunked") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                               "5;ext=1\r\n{\"res\r\n7\r\nult\":2}\r\n0\r\nX-Trailer: a\r\n\r\n")
                                 << 200 << QByteArray("{\"result\":2}") << true;
        QTest::newRow("connection close") << QByteArray("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n"
                                                        "Content-Length: 3\r\n\r\nbad")
                                          << 502 << QByteArray("bad") << false;
        QTest::newRow("http/1.0 keep-alive") << QByteArray("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
                                                           "Content-Length: 2\r\n\r\n{}")
                                             << 200 << QByteArray("{}") << true;
        QTest::newRow("interim 100 first") << QByteArray("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                                                         "Content-Length: 2\r\n\r\n[]")
                                           << 200 << QByteArray("[]") << true;
        QTest::newRow("204 has no body") << QByteArray("HTTP/1.1 204 No Content\r\n\r\n") << 204 << QByteArray()
                                         << true;
        QTest::newRow("folded case") << QByteArray("HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: 2\r\nCONNECTION: CLOSE\r\n\r\nok")
                                     << 200 << QByteArray("ok") << false;
    }
    void framing()
    {
        QFETCH(QByteArray, reply);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(bool, keepAlive);
        // Whole, and one byte at a time: the same reply.
        for (int step : {int(reply.size()), 1, 7}) {
            HttpReplyParser parser;
            QByteArray rest;
            QCOMPARE(feedInSteps(parser, reply, step, &rest), HttpReplyParser::State::Done);
            QCOMPARE(parser.status(), status);
            QCOMPARE(parser.body(), body);
            QCOMPARE(parser.keepAlive(), keepAlive);
            QVERIFY(rest.isEmpty());
        }
    }

    // The bytes of the next reply stay in the buffer for it.
    void pipelinedRepliesStayApart()
    {
        HttpReplyParser parser;
        QByteArray buffer = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb";
        QCOMPARE(parser.feed(buffer), HttpReplyParser::State::Done);
        QCOMPARE(parser.body(), QByteArray("a"));
        parser.reset();
        QCOMPARE(parser.feed(buffer), HttpReplyParser::State::Done);
        QCOMPARE(parser.body(), QByteArray("b"));
        QVERIFY(buffer.isEmpty());
    }

    // No length and no chunks: the body runs to the end of the connection.
    void bodyUntilClose()
    {
        HttpReplyParser parser;
        QByteArray buffer = "HTTP/1.1 200 OK\r\n\r\n{\"result\":";
        QCOMPARE(parser.feed(buffer), HttpReplyParser::State::NeedMore);
        buffer = "3}";
        QCOMPARE(parser.feed(buffer), HttpReplyParser::State::NeedMore);
        QCOMPARE(parser.finish(), HttpReplyParser::State::Done);
        QCOMPARE(parser.body(), QByteArray("{\"result\":3}"));
        QVERIFY(!parser.keepAlive());
    }

    void truncatedByClose()
    {
        HttpReplyParser parser;
        QByteArray buffer = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
        QCOMPARE(parser.feed(buffer), HttpReplyParser::State::NeedMore);
        QVERIFY(parser.started());
        QCOMPARE(parser.finish(), HttpReplyParser::State::Invalid);
        QVERIFY(parser.error().contains("middle"));

        HttpReplyParser silent;
        QVERIFY(!silent.started());
        QCOMPARE(silent.finish(), HttpReplyParser::State::Invalid);
        QVERIFY(silent.error().contains("before a reply"));
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("reply");
        QTest::newRow("not http") << QByteArray("SSH-2.0-OpenSSH\r\n\r\n");
        QTest::newRow("http/2 preface") << QByteArray("PRI * HTTP/2.0\r\n\r\n");
        QTest::newRow("status letters") << QByteArray("HTTP/1.1 2x0 OK\r\n\r\n");
        QTest::newRow("status 99") << QByteArray("HTTP/1.1 099 Odd\r\n\r\n");
        QTest::newRow("status 600") << QByteArray("HTTP/1.1 600 Odd\r\n\r\n");
        QTest::newRow("status 4 digits") << QByteArray("HTTP/1.1 2000 OK\r\n\r\n");
        QTest::newRow("header without colon") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\n{}");
        QTest::newRow("obsolete folding") << QByteArray("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n");
        QTest::newRow("negative length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
        QTest::newRow("two different lengths") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                                                             "Content-Length: 2\r\n\r\nab");
        QTest::newRow("huge length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n");
        QTest::newRow("over the body limit") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n");
        QTest::newRow("gzip coding") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        QTest::newRow("bad chunk size") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        QTest::newRow("negative chunk") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n");
        QTest::newRow("chunk without crlf") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                          "1\r\nab\r\n");
        QTest::newRow("chunks over the limit") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                             "100001\r\n");
    }
    void malformed()
    {
        QFETCH(QByteArray, reply);
        HttpReplyParser parser(1024 * 1024);
        QByteArray buffer = reply;
        QCOMPARE(parser.feed(buffer), HttpReplyParser::State::Invalid);
        QVERIFY(!parser.error().isEmpty());
        QVERIFY(!parser.keepAlive());
        // And it stays so.
        QByteArray more = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        QCOMPARE(parser.feed(more), HttpReplyParser::State::Invalid);
    }

    // A head that never ends is cut at the cap instead of growing.
    void endlessHead()
    {
        HttpReplyParser parser;
        QByteArray buffer = "HTTP/1.1 200 OK\r\n";
        QCOMPARE(parser.feed(buffer), HttpReplyParser::State::NeedMore);
        buffer += "X-Filler: " + QByteArray(HttpReplyParser::MaxHeadBytes, 'a');
        QCOMPARE(parser.feed(buffer), HttpReplyParser::State::Invalid);
    }
};

QTEST_APPLESS_MAIN(TestHttpReplyParser)
#include "tst_httpreplyparser.moc"
