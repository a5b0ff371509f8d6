#pragma once

#include "methodhandler.h"
#include "rpcengine.h"
#include "validatorpluginloader.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QMap>
#include <QMutex>
#include <QStringList>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

class CatalogValidator;
class ConnectionRegistry;
class HttpUpstream;
class MethodCatalog;
class MethodHandlerPlugin;
class MethodRegistry;
class QObject;
class TopicHub;
class ValidatorChain;
struct ServerConfig;

// The server's RpcEngine: the methods of a catalog, run through the
// validator chain, then their handlers; counted per method.
//
//   call → ValidatorChain (catalog validator + plugins, configured order)
//        → refusal: its error (UnknownMethod / DisabledMethod / InvalidParams
//          / RefusedByPolicy)
//        → else what serves the method (PRODUCT.md section 7): a built-in →
//          result, or -32603 (HandlerFailed); an HTTP upstream → a pending
//          outcome, finished on the same thread when the upstream answers
//          (result, its own error: ErrorResult, or -32603 with data.reason);
//          a handler plugin → what it answered inside handle() on this
//          thread, else a pending outcome finished on this thread when it
//          answers from anywhere (result, ErrorResult, or -32603)
//
// Thread-safe: call() runs on every worker at once; switches (methods()),
// counters and reloadValidators() may be used from any thread meanwhile.
class CatalogRpcEngine : public RpcEngine
{
public:
    // Loads the catalog (config.catalogFile, or the bundled one), restores the
    // method switches (config.stateFile), loads the plugins in
    // config.pluginsDir, configures the handler plugins
    // (config.handlerSettings) and builds the chain (config.validatorOrder,
    // config.validatorSettings). Null with one line naming the problem when
    // any of that fails. Every catalog method needs a handler: its "handler"
    // (a built-in, an upstream, a handler plugin), else the built-in of its
    // name or one of `extraHandlers` (which also override built-ins), else
    // the catalog's default upstream. The bindings are fixed from then on.
    // `connections` (may be null) receives publish's pushes; the engine also
    // drops the subscriptions of connections it reports closed. Both the
    // engine and `connections` must outlive the server that calls the engine.
    static std::unique_ptr<CatalogRpcEngine> create(const ServerConfig &config, ConnectionRegistry *connections,
                                                     QString *error,
                                                     const QHash<QString, MethodHandler> &extraHandlers = {});
    ~CatalogRpcEngine() override;

    CallOutcome call(const CallContext &context, const QString &method, const QJsonValue &params) override;

    // The HTTP upstreams of the catalog, with their counters.
    QList<std::shared_ptr<HttpUpstream>> upstreams() const;
    void connectionClosed(quint64 connectionId) override;

    // Switches (setEnabled, methodToggled signal) and counters (snapshot, toJson).
    MethodRegistry *methods() const { return m_registry.get(); }
    const MethodCatalog &catalog() const { return *m_catalog; }
    TopicHub *topics() const { return m_topics.get(); }

    // The handler plugins loaded at start (they are not reloaded), by name:
    // [{name, file, metaData, methods (what it suggests), serves (the
    // catalog methods bound to it)}].
    QJsonArray handlerPluginsJson() const;

    // Names of the validators in force, in order.
    QStringList validatorNames() const;
    // Every loaded validator: [{name, inForce, position, builtin, file, metaData}].
    QJsonArray validatorsJson() const;
    // Loads config.pluginsDir again and rebuilds the chain from
    // config.validatorOrder and config.validatorSettings. On failure the
    // previous chain stays in force, with its settings, and false is returned
    // with the reason. Already loaded libraries are never unloaded. Handler
    // plugins stay as they were loaded and configured at start.
    bool reloadValidators(const ServerConfig &config, QString *error);

    // The rpc.discover document as it would be answered now.
    QJsonObject discoveryDocument() const;

private:
    CatalogRpcEngine();
    // The chain in force: a plain atomic load (std::atomic_load of a
    // shared_ptr takes a lock from a global pool in libstdc++).
    const ValidatorChain *chain() const { return m_chain.load(std::memory_order_acquire); }
    // `loaded`: the plugins create() already loaded; null: load config.pluginsDir.
    bool buildChain(const ServerConfig &config, QString *error,
                    const QList<LoadedValidatorPlugin> *loaded = nullptr);
    bool configureHandlers(const QList<LoadedValidatorPlugin> &plugins, const QJsonObject &settings,
                           QString *error);

    std::shared_ptr<const MethodCatalog> m_catalog;
    // Shared so that an answer of a handler plugin arriving after the engine
    // is gone finds no registry rather than a dangling one.
    std::shared_ptr<MethodRegistry> m_registry;
    std::unique_ptr<TopicHub> m_topics;
    std::shared_ptr<CatalogValidator> m_catalogValidator;

    // What serves one method; fixed after create().
    struct Binding
    {
        MethodHandler builtin;                   // a built-in (or an extra handler), or
        std::shared_ptr<HttpUpstream> upstream;  // an HTTP upstream, or
        std::shared_ptr<MethodHandlerPlugin> plugin; // a handler plugin
        QString servedBy;                        // "upstream orders", "plugin kv"; empty for built-ins
    };
    bool bind(const QHash<QString, MethodHandler> &builtins, QString *error);
    CallOutcome callUpstream(const Binding &binding, const CallContext &context, const QString &method,
                             const QJsonValue &params, std::chrono::steady_clock::time_point start);
    CallOutcome callPlugin(const Binding &binding, const CallContext &context, const QString &method,
                           const QJsonValue &params, std::chrono::steady_clock::time_point start);
    QHash<QString, Binding> m_bindings;
    QMap<QString, LoadedValidatorPlugin> m_handlerPlugins; // by handler name; fixed after create()
    QList<std::shared_ptr<HttpUpstream>> m_upstreams;
    std::unique_ptr<QObject> m_signalContext; // ends the ConnectionRegistry connection with the engine

    std::atomic<const ValidatorChain *> m_chain{nullptr}; // the last of m_chains
    mutable QMutex m_reloadMutex; // serializes reloads; guards the three below
    // Every chain that was ever in force, kept alive with the engine: a call
    // may still run through one that a reload replaced (reloads are rare).
    std::vector<std::shared_ptr<const ValidatorChain>> m_chains;
    QList<LoadedValidatorPlugin> m_plugins;
    QJsonObject m_settings; // validatorSettings of the chain in force
};
