// RateHistory: per-second rates from cumulative totals, bounded history.

#include "ratehistory.h"

#include <QSignalSpy>
#include <QTest>

class RateHistoryTest : public QObject
{
    Q_OBJECT

private slots:
    void ratesFromDifferences()
    {
        RateHistory history;
        QSignalSpy added(&history, &RateHistory::sampleAdded);
        history.record(10'000, 1000, 500, 1); // the base
        history.record(10'400, 1100, 520, 2); // within the period: no sample
        QVERIFY(history.isEmpty());
        history.record(11'000, 1200, 600, 3);
        QCOMPARE(added.count(), 1);
        QCOMPARE(history.latest().messagesInPerSecond, 200.0);
        QCOMPARE(history.latest().messagesOutPerSecond, 100.0);
        QCOMPARE(history.latest().connections, 3);
        QCOMPARE(history.latest().timeMs, 11'000);

        // A late tick averages over the longer time.
        history.record(13'000, 1400, 600, 3);
        QCOMPARE(history.latest().messagesInPerSecond, 100.0);
        QCOMPARE(history.latest().messagesOutPerSecond, 0.0);
    }

    void totalsGoingDownStartOver()
    {
        RateHistory history;
        history.record(0, 100, 100, 0);
        history.record(1000, 50, 50, 0); // not a negative rate: a new base
        QVERIFY(history.isEmpty());
        history.record(2000, 60, 70, 0);
        QCOMPARE(history.samples().size(), 1);
        QCOMPARE(history.latest().messagesInPerSecond, 10.0);
        QCOMPARE(history.latest().messagesOutPerSecond, 20.0);
    }

    void keepsAtMostCapacity()
    {
        RateHistory history(5, 100);
        QCOMPARE(history.spanMs(), 500);
        for (int i = 0; i <= 20; ++i)
            history.record(i * 100, quint64(i) * 10, 0, i);
        QCOMPARE(history.samples().size(), 5);
        QCOMPARE(history.samples().first().connections, 16);
        QCOMPARE(history.latest().connections, 20);
        QCOMPARE(history.latest().messagesInPerSecond, 100.0);
        history.clear();
        QVERIFY(history.isEmpty());
    }
};

QTEST_GUILESS_MAIN(RateHistoryTest)
#include "tst_ratehistory.moc"
