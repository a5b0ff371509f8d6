#pragma once

// Example handler plugin, and the template for writing one.
//
// A handler plugin is a Qt plugin whose root object implements
// MethodHandlerPlugin (upstream/methodhandlerplugin.h):
//   class MyHandler : public QObject, public MethodHandlerPlugin {
//       Q_OBJECT
//       Q_PLUGIN_METADATA(IID SwitchboardMethodHandler_iid FILE "my.json")
//       Q_INTERFACES(MethodHandlerPlugin)
//       ...
//   };
// built with qt_add_plugin() and linked to switchboard_plugin_api. Put the
// library in the directory given to `switchboard --plugins DIR`; catalog
// methods name it by its name() ("handler": {"plugin": "kv"}) and the config
// file configures it ("handlerSettings": {"kv": {...}}). See catalog.json
// here for a catalog that serves all of its methods.
//
// This one, "kv", is a key-value store in the server's memory, shared by all
// connections (it lives as long as the server process). It serves methods by
// the last part of their name, so a catalog may call them "kv.get" or
// "cache.get":
//   set    {"key": string, "value": any}       → true
//   get    {"key": string}                     → the value, or null
//   delete {"key": string}                     → whether the key existed
//   keys   (no params)                         → the keys, sorted
//   wait   {"key": string, "timeoutMs": 0..10000 (default 10000)}
//          → the value the key is next set to, answered when that happens
//            (by another call, on any thread), or null at the timeout
// Errors of its own:
//   -32010 "store full"       data {"maxKeys": n}        (a new key beyond maxKeys)
//   -32011 "value too large"  data {"maxValueBytes": n, "bytes": n} (compact JSON size)
//   -32012 "too many waiting calls" data {"maxWaiting": n}
//   -32602 "Invalid params"   data [{path, message}]     (as the validators')
//   -32601 "Method not found" data {"reason": "unknown"}  (a name it does not serve)
// Settings (all optional):
//   "maxKeys":       integer >= 1 (default 10000)
//   "maxValueBytes": integer >= 1 (default 65536)

#include "methodhandlerplugin.h"

#include <QHash>
#include <QMap>
#include <QMutex>
#include <QObject>
#include <QReadWriteLock>

#include <atomic>

class KvHandler : public QObject, public MethodHandlerPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID SwitchboardMethodHandler_iid FILE "kv.json")
    Q_INTERFACES(MethodHandlerPlugin)

public:
    static constexpr int MaxWaitMs = 10'000;
    static constexpr int MaxWaiting = 10'000; // kv.wait calls waiting at once

    QString name() const override { return QStringLiteral("kv"); }
    bool configure(const QJsonObject &settings, QString *error) override;
    QStringList methods() const override;
    void handle(const CallContext &context, const QString &method, const QJsonValue &params,
                HandlerReply reply) override;
    void connectionClosed(quint64 connectionId) override;

private:
    void set(const QJsonValue &params, const HandlerReply &reply);
    void get(const QJsonValue &params, const HandlerReply &reply) const;
    void remove(const QJsonValue &params, const HandlerReply &reply);
    void keys(const QJsonValue &params, const HandlerReply &reply) const;
    void wait(const CallContext &context, const QJsonValue &params, const HandlerReply &reply);
    void expire(quint64 waitId);

    mutable QReadWriteLock m_lock; // guards the store
    QMap<QString, QJsonValue> m_store;
    std::atomic<int> m_maxKeys{10'000};
    std::atomic<int> m_maxValueBytes{65'536};

    struct Waiter
    {
        QString key;
        quint64 connectionId = 0;
        HandlerReply reply;
    };
    QMutex m_waitMutex; // guards the three below
    QHash<quint64, Waiter> m_waiters;      // by wait id
    QMultiHash<QString, quint64> m_waitIds; // key → wait ids
    quint64 m_nextWaitId = 1;
};
