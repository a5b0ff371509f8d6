#pragma once

#include <QList>
#include <QObject>

// Messages per second and connections over the last minutes: one sample per
// period (1 s), at most `capacity` of them (300: five minutes). Fed with the
// running totals of ConnectionMonitor; rates are the differences between
// two samples divided by the time between them.
class RateHistory : public QObject
{
    Q_OBJECT
public:
    struct Sample
    {
        qint64 timeMs = 0;               // ms since epoch, end of the period
        double messagesInPerSecond = 0;
        double messagesOutPerSecond = 0;
        int connections = 0;
    };

    static constexpr int DefaultCapacity = 300;
    static constexpr int DefaultPeriodMs = 1000;

    explicit RateHistory(QObject *parent = nullptr);
    RateHistory(int capacity, int periodMs, QObject *parent = nullptr);

    // Cumulative totals at `nowMs`; adds a sample once a period has passed.
    void record(qint64 nowMs, quint64 messagesIn, quint64 messagesOut, int connections);
    void clear();

    const QList<Sample> &samples() const { return m_samples; }
    bool isEmpty() const { return m_samples.isEmpty(); }
    Sample latest() const { return m_samples.isEmpty() ? Sample{} : m_samples.last(); }
    int capacity() const { return m_capacity; }
    int periodMs() const { return m_periodMs; }
    qint64 spanMs() const { return qint64(m_capacity) * m_periodMs; }

signals:
    void sampleAdded();

private:
    int m_capacity;
    int m_periodMs;
    QList<Sample> m_samples;
    bool m_haveBase = false;
    qint64 m_baseMs = 0;
    quint64 m_baseIn = 0;
    quint64 m_baseOut = 0;
};
