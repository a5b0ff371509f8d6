#pragma once

#include <QHash>
#include <QList>
#include <QMutex>
#include <QSet>
#include <QString>
#include <QStringList>

// Which connection listens to which topic (subscribe/unsubscribe/publish).
// Thread-safe: every worker subscribes and publishes at once. Bounded: a
// connection holds at most MaxTopicsPerConnection subscriptions, and a topic
// name at most MaxTopicLength characters.
class TopicHub
{
public:
    static constexpr int MaxTopicsPerConnection = 1000;
    static constexpr int MaxTopicLength = 200;

    // False with the reason when the topic is invalid or the connection holds
    // too many subscriptions; subscribing twice is fine.
    bool subscribe(quint64 connectionId, const QString &topic, QString *error);
    // False when the connection was not subscribed.
    bool unsubscribe(quint64 connectionId, const QString &topic);
    // Forgets every subscription of a closed connection.
    void dropConnection(quint64 connectionId);

    struct TopicCount
    {
        QString topic;
        int subscribers = 0;
    };

    QList<quint64> subscribers(const QString &topic) const; // ascending ids
    int subscriberCount(const QString &topic) const;
    QStringList topicsOf(quint64 connectionId) const;        // sorted
    int topicCount() const;
    // Every topic with at least one subscriber, sorted by name (GET /api/topics).
    QList<TopicCount> topics() const;

private:
    mutable QMutex m_mutex;
    QHash<QString, QSet<quint64>> m_subscribers; // topic → connections; no empty sets
    QHash<quint64, QSet<QString>> m_topics;      // connection → topics; no empty sets
};
