// TrafficLog: ids, the ring's wraparound, "everything after id N" with the
// dropped count, payload caps and budget, JSON form, concurrent appends, and
// staged events that every reader sees.

#include "admin/trafficlog.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <QThread>

#include <atomic>
#include <memory>

namespace {
TrafficEvent makeEvent(int n, QByteArray payload = QByteArray())
{
    TrafficEvent e;
    e.connectionId = quint64(n);
    e.method = QStringLiteral("m%1").arg(n);
    e.payload = payload.isNull() ? QByteArray::number(n) : payload;
    e.size = e.payload.size();
    return e;
}
} // namespace

class TestTrafficLog : public QObject
{
    Q_OBJECT

private slots:
    void idsStartAtOne()
    {
        TrafficLog log;
        QCOMPARE(log.latestId(), quint64(0));
        QCOMPARE(log.size(), 0);
        QCOMPARE(log.firstId(), quint64(1));
        log.append(makeEvent(1));
        QCOMPARE(log.latestId(), quint64(1));
        log.append(makeEvent(2));
        QCOMPARE(log.latestId(), quint64(2));
        const TrafficLog::Slice s = log.eventsAfter(0);
        QCOMPARE(s.events.size(), 2);
        QCOMPARE(s.events[0].id, quint64(1));
        QCOMPARE(s.events[0].method, QStringLiteral("m1"));
        QCOMPARE(s.events[1].id, quint64(2));
        QVERIFY(s.events[0].timeMs > 0); // stamped on append
        QCOMPARE(s.dropped, quint64(0));
        QCOMPARE(s.nextAfterId, quint64(2));
        QVERIFY(!s.more);
        QCOMPARE(log.eventsAfter(1).events.size(), 1);
        QCOMPARE(log.eventsAfter(2).events.size(), 0);
        QCOMPARE(log.eventsAfter(2).nextAfterId, quint64(2));
    }

    void wraparound()
    {
        TrafficLog::Limits limits;
        limits.capacity = 10;
        TrafficLog log(limits);
        for (int i = 1; i <= 25; ++i)
            log.append(makeEvent(i));
        QCOMPARE(log.size(), 10);
        QCOMPARE(log.firstId(), quint64(16));
        QCOMPARE(log.latestId(), quint64(25));
        QCOMPARE(log.droppedCount(), quint64(15));

        TrafficLog::Slice s = log.eventsAfter(0);
        QCOMPARE(s.dropped, quint64(15));
        QCOMPARE(s.events.size(), 10);
        for (int i = 0; i < 10; ++i) {
            QCOMPARE(s.events[i].id, quint64(16 + i));
            QCOMPARE(s.events[i].payload, QByteArray::number(16 + i));
        }
        QCOMPARE(s.nextAfterId, quint64(25));

        s = log.eventsAfter(14);
        QCOMPARE(s.dropped, quint64(1));
        QCOMPARE(s.events.first().id, quint64(16));
        s = log.eventsAfter(15);
        QCOMPARE(s.dropped, quint64(0));
        QCOMPARE(s.events.size(), 10);
        s = log.eventsAfter(20);
        QCOMPARE(s.dropped, quint64(0));
        QCOMPARE(s.events.size(), 5);
        QCOMPARE(s.events.first().id, quint64(21));
    }

    void paging()
    {
        TrafficLog log;
        for (int i = 1; i <= 25; ++i)
            log.append(makeEvent(i));
        quint64 after = 0;
        QList<quint64> seen;
        int pages = 0;
        while (true) {
            const TrafficLog::Slice s = log.eventsAfter(after, 10);
            for (const TrafficEvent &e : s.events)
                seen << e.id;
            after = s.nextAfterId;
            ++pages;
            if (!s.more)
                break;
        }
        QCOMPARE(pages, 3);
        QCOMPARE(seen.size(), 25);
        QCOMPARE(seen.last(), quint64(25));
        QCOMPARE(log.eventsAfter(0, 0).events.size(), 0);
        QVERIFY(log.eventsAfter(0, 0).more);
    }

    void idFromTheFuture()
    {
        TrafficLog log;
        log.append(makeEvent(1));
        const TrafficLog::Slice s = log.eventsAfter(1000);
        QCOMPARE(s.events.size(), 0);
        QCOMPARE(s.nextAfterId, quint64(1));
        QCOMPARE(log.eventsAfter(std::numeric_limits<quint64>::max()).events.size(), 0);
    }

    void clear()
    {
        TrafficLog log;
        for (int i = 1; i <= 5; ++i)
            log.append(makeEvent(i));
        log.clear();
        QCOMPARE(log.size(), 0);
        QCOMPARE(log.latestId(), quint64(5));
        TrafficLog::Slice s = log.eventsAfter(2);
        QCOMPARE(s.events.size(), 0);
        QCOMPARE(s.dropped, quint64(3));
        log.append(makeEvent(6));
        QCOMPARE(log.latestId(), quint64(6));
        s = log.eventsAfter(5);
        QCOMPARE(s.events.size(), 1);
        QCOMPARE(s.events.first().id, quint64(6));
    }

    void disabled()
    {
        TrafficLog log;
        log.setEnabled(false);
        QVERIFY(!log.isEnabled());
        log.append(makeEvent(1));
        QCOMPARE(log.size(), 0);
        QCOMPARE(log.latestId(), quint64(0));
        log.setEnabled(true);
        log.append(makeEvent(1));
        QCOMPARE(log.latestId(), quint64(1));
    }

    void payloadCap()
    {
        TrafficLog::Limits limits;
        limits.payloadCapBytes = 10;
        TrafficLog log(limits);

        TrafficEvent e;
        log.setPayload(e, "0123456789");
        QCOMPARE(e.payload, QByteArray("0123456789"));
        QVERIFY(!e.truncated);
        QCOMPARE(e.size, qint64(10));

        TrafficEvent big;
        log.setPayload(big, "0123456789abcdef");
        QCOMPARE(big.payload, QByteArray("0123456789"));
        QVERIFY(big.truncated);
        QCOMPARE(big.size, qint64(16));

        // Never cut inside a UTF-8 character: "aaaaaaaaé" is 10 bytes, "aaaaaaaaaé" 11.
        TrafficEvent utf;
        log.setPayload(utf, QString(QStringLiteral("aaaaaaaaaé")).toUtf8());
        QCOMPARE(utf.payload, QByteArray("aaaaaaaaa"));
        QVERIFY(utf.truncated);
        TrafficEvent emoji;
        log.setPayload(emoji, QString(QStringLiteral("aaaaaaaa😀")).toUtf8());
        QCOMPARE(emoji.payload, QByteArray("aaaaaaaa"));

        // A caller-set size (the whole frame) is kept.
        TrafficEvent sized;
        sized.size = 1000;
        log.setPayload(sized, "xyz");
        QCOMPARE(sized.size, qint64(1000));
    }

    void payloadBudget()
    {
        TrafficLog::Limits limits;
        limits.capacity = 100;
        limits.payloadCapBytes = 100;
        limits.payloadBudgetBytes = 250;
        TrafficLog log(limits);
        for (int i = 1; i <= 10; ++i) {
            TrafficEvent e;
            log.setPayload(e, QByteArray(100, 'x'));
            log.append(std::move(e));
        }
        QCOMPARE(log.size(), 2); // 2 × 100 bytes fit the budget of 250
        QCOMPARE(log.firstId(), quint64(9));
        QCOMPARE(log.eventsAfter(0).dropped, quint64(8));
        // Small events are not held back by the budget.
        for (int i = 0; i < 40; ++i)
            log.append(makeEvent(i, "x"));
        QCOMPARE(log.size(), 42); // 200 + 40 bytes
        log.append(makeEvent(41, QByteArray(20, 'x')));
        QCOMPARE(log.size(), 42); // the oldest big one made room
        QCOMPARE(log.firstId(), quint64(10));
        // One event larger than the whole budget still gets in, alone.
        TrafficLog::Limits tiny = limits;
        tiny.payloadBudgetBytes = 10;
        TrafficLog small(tiny);
        small.append(makeEvent(1, QByteArray(50, 'y')));
        small.append(makeEvent(2, QByteArray(50, 'z')));
        QCOMPARE(small.size(), 1);
        QCOMPARE(small.eventsAfter(0).events.first().payload, QByteArray(50, 'z'));
    }

    void json()
    {
        TrafficLog log;
        TrafficEvent e;
        e.timeMs = 1700000000123;
        e.connectionId = 42;
        e.direction = TrafficEvent::Direction::Out;
        e.kind = TrafficEvent::Kind::Error;
        e.subprotocol = QStringLiteral("jsonrpc");
        e.method = QStringLiteral("sum");
        e.requestId = "1.0";
        e.verdict = TrafficEvent::Verdict::Refused;
        e.reason = QStringLiteral("refused by night-policy");
        e.latencyUs = 250;
        log.setPayload(e, R"({"jsonrpc":"2.0","error":{"code":-32001},"id":1.0})");
        log.append(std::move(e));
        log.append(makeEvent(2));

        const QList<TrafficEvent> events = log.eventsAfter(0).events;
        const QJsonObject o = events[0].toJson();
        QCOMPARE(o.value("id").toInteger(), 1);
        QCOMPARE(o.value("time").toString(), QStringLiteral("2023-11-14T22:13:20.123Z"));
        QCOMPARE(o.value("connection").toInteger(), 42);
        QCOMPARE(o.value("direction").toString(), QStringLiteral("out"));
        QCOMPARE(o.value("kind").toString(), QStringLiteral("error"));
        QCOMPARE(o.value("subprotocol").toString(), QStringLiteral("jsonrpc"));
        QCOMPARE(o.value("method").toString(), QStringLiteral("sum"));
        QCOMPARE(o.value("requestId").toString(), QStringLiteral("1.0"));
        QCOMPARE(o.value("verdict").toString(), QStringLiteral("refused"));
        QCOMPARE(o.value("reason").toString(), QStringLiteral("refused by night-policy"));
        QCOMPARE(o.value("size").toInteger(), 50);
        QCOMPARE(o.value("payload").toString(), QStringLiteral(R"({"jsonrpc":"2.0","error":{"code":-32001},"id":1.0})"));
        QCOMPARE(o.value("truncated").toBool(), false);
        QCOMPARE(o.value("latencyUs").toInteger(), 250);
        QCOMPARE(o.keys().size(), 14);

        // Absent values are null, every key is always there.
        const QJsonObject plain = events[1].toJson();
        QCOMPARE(plain.keys(), o.keys());
        QVERIFY(plain.value("requestId").isNull());
        QVERIFY(plain.value("verdict").isNull());
        QVERIFY(plain.value("reason").isNull());
        QVERIFY(plain.value("latencyUs").isNull());
        QCOMPARE(plain.value("direction").toString(), QStringLiteral("in"));
        QCOMPARE(plain.value("kind").toString(), QStringLiteral("message"));

        const QJsonObject slice = log.eventsAfter(0, 1).toJson();
        QCOMPARE(slice.value("events").toArray().size(), 1);
        QCOMPARE(slice.value("events").toArray().first().toObject(), o);
        QCOMPARE(slice.value("dropped").toInteger(), 0);
        QCOMPARE(slice.value("nextAfter").toInteger(), 1);
        QCOMPARE(slice.value("more").toBool(), true);

        const QByteArray line = events[0].toJsonLine();
        QVERIFY(line.endsWith('\n'));
        QCOMPARE(line.count('\n'), 1);
        QCOMPARE(QJsonDocument::fromJson(line).object(), o);
    }

    void names()
    {
        using K = TrafficEvent::Kind;
        using V = TrafficEvent::Verdict;
        QStringList kinds;
        for (K k : {K::Request, K::Notification, K::Response, K::Error, K::Push, K::Batch, K::Close, K::Message})
            kinds << TrafficEvent::kindName(k);
        QCOMPARE(kinds, (QStringList{"request", "notification", "response", "error", "push", "batch", "close", "message"}));
        QStringList verdicts;
        for (V v : {V::None, V::Accepted, V::UnknownMethod, V::DisabledMethod, V::InvalidParams, V::Refused,
                    V::HandlerFailed, V::ParseError, V::InvalidRequest})
            verdicts << TrafficEvent::verdictName(v);
        QCOMPARE(verdicts, (QStringList{"", "accepted", "unknown", "disabled", "invalid-params", "refused",
                                        "handler-failed", "parse-error", "invalid-request"}));
    }

    // Events wait in their thread's staging until a batch is full, they are
    // old enough, or anyone reads: every reader sees them, with ids in the
    // order of appending.
    void stagedEventsAreSeenByEveryReader()
    {
        TrafficLog::Limits limits;
        limits.capacity = 4;
        TrafficLog log(limits);
        log.append(makeEvent(1));
        QCOMPARE(log.size(), 1);
        log.append(makeEvent(2));
        QCOMPARE(log.firstId(), quint64(1));
        log.append(makeEvent(3));
        QCOMPARE(log.eventsAfter(0).events.last().id, quint64(3));
        for (int i = 4; i <= 6; ++i)
            log.append(makeEvent(i));
        QCOMPARE(log.droppedCount(), quint64(2));
        log.append(makeEvent(7));
        log.clear(); // clears staged events too
        QCOMPARE(log.size(), 0);
        QCOMPARE(log.latestId(), quint64(7));

        // From another thread, which has exited by the time of reading.
        QThread *writer = QThread::create([&log] {
            for (int i = 8; i <= 10; ++i)
                log.append(makeEvent(i));
        });
        writer->start();
        QVERIFY(writer->wait(10'000));
        delete writer;
        const TrafficLog::Slice s = log.eventsAfter(7);
        QCOMPARE(s.events.size(), 3);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(s.events[i].id, quint64(8 + i));
            QCOMPARE(s.events[i].connectionId, quint64(8 + i));
        }
    }

    // A batch larger than the ring, and a staging that fills up on its own.
    void fullStagingBatches()
    {
        TrafficLog::Limits limits;
        limits.capacity = 10;
        TrafficLog log(limits);
        const int count = 3 * TrafficLog::StagingBatch + 5;
        for (int i = 1; i <= count; ++i) {
            TrafficEvent e = makeEvent(i);
            e.timeMs = 1000; // all at once: only the batch size moves them
            log.append(std::move(e));
        }
        QCOMPARE(log.latestId(), quint64(count));
        QCOMPARE(log.size(), 10);
        const TrafficLog::Slice s = log.eventsAfter(0);
        QCOMPARE(s.dropped, quint64(count - 10));
        for (int i = 0; i < 10; ++i)
            QCOMPARE(s.events[i].connectionId, quint64(count - 9 + i));
    }

    // Two logs on one thread, and a log created where a destroyed one was.
    void severalLogsOnOneThread()
    {
        TrafficLog a;
        TrafficLog b;
        for (int i = 1; i <= 3; ++i) {
            a.append(makeEvent(i));
            b.append(makeEvent(10 + i));
        }
        QCOMPARE(a.latestId(), quint64(3));
        QCOMPARE(b.eventsAfter(0).events.first().connectionId, quint64(11));
        for (int round = 0; round < 3; ++round) {
            auto log = std::make_unique<TrafficLog>();
            log->append(makeEvent(round));
            QCOMPARE(log->size(), 1);
            QCOMPARE(log->eventsAfter(0).events.first().connectionId, quint64(round));
        }
    }

    // Several writers and a polling reader at once: every id once, in order,
    // each writer's events in its own order, nothing lost but what the ring
    // overwrote (and that is counted).
    void concurrentAppends()
    {
        constexpr int Writers = 6;
        constexpr int PerWriter = 20'000;
        TrafficLog::Limits limits;
        limits.capacity = 5'000;
        TrafficLog log(limits);

        std::atomic<bool> done{false};
        std::atomic<bool> readerOk{true};
        quint64 readerSeen = 0;
        quint64 readerDropped = 0;
        QThread *reader = QThread::create([&] {
            quint64 after = 0;
            while (true) {
                const bool last = done.load();
                const TrafficLog::Slice s = log.eventsAfter(after, 700);
                quint64 expect = after + 1 + s.dropped;
                for (const TrafficEvent &e : s.events) {
                    if (e.id != expect++)
                        readerOk = false;
                }
                readerSeen += quint64(s.events.size());
                readerDropped += s.dropped;
                after = s.nextAfterId;
                if (last && !s.more)
                    break;
                if (s.events.isEmpty())
                    QThread::yieldCurrentThread();
            }
        });
        reader->start();

        QList<QThread *> writers;
        for (int w = 0; w < Writers; ++w) {
            writers << QThread::create([&log, w] {
                for (int i = 0; i < PerWriter; ++i) {
                    TrafficEvent e;
                    e.connectionId = quint64(w);
                    e.size = i;
                    e.payload = QByteArray::number(i);
                    log.append(std::move(e));
                }
            });
        }
        for (QThread *t : writers)
            t->start();
        for (QThread *t : writers) {
            QVERIFY(t->wait(60'000));
            delete t;
        }
        done = true;
        QVERIFY(reader->wait(60'000));
        delete reader;

        const quint64 total = quint64(Writers) * PerWriter;
        QCOMPARE(log.latestId(), total);
        QCOMPARE(log.size(), limits.capacity);
        QVERIFY(readerOk.load());
        QCOMPARE(readerSeen + readerDropped, total);

        const TrafficLog::Slice s = log.eventsAfter(0, limits.capacity);
        QCOMPARE(s.dropped, total - quint64(limits.capacity));
        QCOMPARE(qsizetype(s.events.size()), qsizetype(limits.capacity));
        qint64 lastSeq[Writers];
        std::fill(std::begin(lastSeq), std::end(lastSeq), -1);
        for (qsizetype i = 0; i < s.events.size(); ++i) {
            const TrafficEvent &e = s.events[i];
            QCOMPARE(e.id, s.dropped + quint64(i) + 1);
            QVERIFY(e.connectionId < quint64(Writers));
            QVERIFY(e.size > lastSeq[e.connectionId]); // per writer, in order
            QCOMPARE(e.payload, QByteArray::number(e.size));
            lastSeq[e.connectionId] = e.size;
        }
        for (int w = 0; w < Writers; ++w)
            QVERIFY(lastSeq[w] <= PerWriter - 1);
    }
};

QTEST_GUILESS_MAIN(TestTrafficLog)
#include "tst_trafficlog.moc"
