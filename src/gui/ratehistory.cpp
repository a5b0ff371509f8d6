#include "ratehistory.h"

RateHistory::RateHistory(QObject *parent)
    : RateHistory(DefaultCapacity, DefaultPeriodMs, parent)
{
}

RateHistory::RateHistory(int capacity, int periodMs, QObject *parent)
    : QObject(parent)
    , m_capacity(qMax(2, capacity))
    , m_periodMs(qMax(1, periodMs))
{
}

void RateHistory::record(qint64 nowMs, quint64 messagesIn, quint64 messagesOut, int connections)
{
    if (!m_haveBase || nowMs < m_baseMs || messagesIn < m_baseIn || messagesOut < m_baseOut) {
        // First call, a clock step back, or totals that went down (a new
        // source): start counting from here.
        m_haveBase = true;
        m_baseMs = nowMs;
        m_baseIn = messagesIn;
        m_baseOut = messagesOut;
        return;
    }
    const qint64 elapsed = nowMs - m_baseMs;
    if (elapsed < m_periodMs)
        return;
    const double seconds = elapsed / 1000.0;
    Sample sample;
    sample.timeMs = nowMs;
    sample.messagesInPerSecond = double(messagesIn - m_baseIn) / seconds;
    sample.messagesOutPerSecond = double(messagesOut - m_baseOut) / seconds;
    sample.connections = connections;
    m_samples.append(sample);
    if (m_samples.size() > m_capacity)
        m_samples.remove(0, m_samples.size() - m_capacity);
    m_baseMs = nowMs;
    m_baseIn = messagesIn;
    m_baseOut = messagesOut;
    emit sampleAdded();
}

void RateHistory::clear()
{
    m_samples.clear();
    m_haveBase = false;
}
