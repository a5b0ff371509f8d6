#include "topichub.h"

#include <algorithm>

bool TopicHub::subscribe(quint64 connectionId, const QString &topic, QString *error)
{
    if (topic.isEmpty() || topic.size() > MaxTopicLength) {
        *error = QStringLiteral("a topic has 1 to %1 characters").arg(MaxTopicLength);
        return false;
    }
    QMutexLocker locker(&m_mutex);
    QSet<QString> &topics = m_topics[connectionId];
    if (!topics.contains(topic) && topics.size() >= MaxTopicsPerConnection) {
        if (topics.isEmpty())
            m_topics.remove(connectionId);
        *error = QStringLiteral("a connection may subscribe to at most %1 topics").arg(MaxTopicsPerConnection);
        return false;
    }
    topics.insert(topic);
    m_subscribers[topic].insert(connectionId);
    return true;
}

bool TopicHub::unsubscribe(quint64 connectionId, const QString &topic)
{
    QMutexLocker locker(&m_mutex);
    const auto topicsIt = m_topics.find(connectionId);
    if (topicsIt == m_topics.end() || !topicsIt->remove(topic))
        return false;
    if (topicsIt->isEmpty())
        m_topics.erase(topicsIt);
    const auto subsIt = m_subscribers.find(topic);
    if (subsIt != m_subscribers.end()) {
        subsIt->remove(connectionId);
        if (subsIt->isEmpty())
            m_subscribers.erase(subsIt);
    }
    return true;
}

void TopicHub::dropConnection(quint64 connectionId)
{
    QMutexLocker locker(&m_mutex);
    const QSet<QString> topics = m_topics.take(connectionId);
    for (const QString &topic : topics) {
        const auto it = m_subscribers.find(topic);
        if (it == m_subscribers.end())
            continue;
        it->remove(connectionId);
        if (it->isEmpty())
            m_subscribers.erase(it);
    }
}

QList<quint64> TopicHub::subscribers(const QString &topic) const
{
    QList<quint64> ids;
    {
        QMutexLocker locker(&m_mutex);
        const QSet<quint64> set = m_subscribers.value(topic);
        ids = QList<quint64>(set.begin(), set.end());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

int TopicHub::subscriberCount(const QString &topic) const
{
    QMutexLocker locker(&m_mutex);
    return int(m_subscribers.value(topic).size());
}

QStringList TopicHub::topicsOf(quint64 connectionId) const
{
    QStringList list;
    {
        QMutexLocker locker(&m_mutex);
        const QSet<QString> set = m_topics.value(connectionId);
        list = QStringList(set.begin(), set.end());
    }
    list.sort();
    return list;
}

int TopicHub::topicCount() const
{
    QMutexLocker locker(&m_mutex);
    return int(m_subscribers.size());
}

QList<TopicHub::TopicCount> TopicHub::topics() const
{
    QList<TopicCount> list;
    {
        QMutexLocker locker(&m_mutex);
        list.reserve(m_subscribers.size());
        for (auto it = m_subscribers.cbegin(); it != m_subscribers.cend(); ++it)
            list.append(TopicCount{it.key(), int(it.value().size())});
    }
    std::sort(list.begin(), list.end(),
              [](const TopicCount &a, const TopicCount &b) { return a.topic < b.topic; });
    return list;
}
