#include "catalogrpcengine.h"

#include "builtinmethods.h"
#include "catalogvalidator.h"
#include "admin/connectionregistry.h"
#include "methodcatalog.h"
#include "methodregistry.h"
#include "methodslogging.h"
#include "openrpcdocument.h"
#include "serverconfig.h"
#include "topichub.h"
#include "upstream/httpupstream.h"
#include "upstream/methodhandlerplugin.h"
#include "validatorchain.h"

#include <QCoreApplication>
#include <QObject>
#include <QPointer>
#include <QThread>

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>

namespace {

CallOutcome::Verdict classify(const RpcError &error)
{
    if (error.code == -32601) {
        return error.data.toObject().value(QLatin1String("reason")).toString() == QLatin1String("disabled")
            ? CallOutcome::Verdict::DisabledMethod
            : CallOutcome::Verdict::UnknownMethod;
    }
    if (error.code == -32602)
        return CallOutcome::Verdict::InvalidParams;
    return CallOutcome::Verdict::RefusedByPolicy;
}

// The catalog validator is always in force: without it unknown and switched
// off methods would run. Unnamed in a custom order, it goes first.
QStringList effectiveOrder(const QStringList &order)
{
    if (order.isEmpty() || order.contains(CatalogValidator::validatorName()))
        return order;
    return QStringList{CatalogValidator::validatorName()} + order;
}

QString loadedNames(const QStringList &names)
{
    return names.isEmpty() ? QStringLiteral("none") : names.join(QLatin1String(", "));
}

// A QObject living on the calling thread, where answers of handler plugins
// given from elsewhere (or later) are posted. One per thread, freed with it.
QObject *postTargetForThisThread()
{
    static thread_local QPointer<QObject> target;
    if (!target) {
        target = new QObject;
        QThread *thread = QThread::currentThread();
        if (QCoreApplication::instance() && thread != QCoreApplication::instance()->thread())
            QObject::connect(thread, &QThread::finished, target.data(), &QObject::deleteLater);
    }
    return target.data();
}

CallOutcome outcomeOf(HandlerReply::Answer answer, const QString &servedBy)
{
    CallOutcome outcome;
    outcome.servedBy = servedBy;
    switch (answer.kind) {
    case HandlerReply::Answer::Kind::Result:
        outcome.result = answer.result.isUndefined() ? QJsonValue(QJsonValue::Null) : answer.result;
        break;
    case HandlerReply::Answer::Kind::Error:
        outcome.verdict = CallOutcome::Verdict::ErrorResult;
        outcome.error = std::move(answer.error);
        outcome.error.refusedBy.clear();
        break;
    case HandlerReply::Answer::Kind::Failure:
        outcome.verdict = CallOutcome::Verdict::HandlerFailed;
        outcome.error = std::move(answer.error);
        outcome.error.refusedBy.clear();
        break;
    }
    return outcome;
}

} // namespace

CatalogRpcEngine::CatalogRpcEngine() = default;

CatalogRpcEngine::~CatalogRpcEngine()
{
    // Stop hearing about closed connections before the state they touch goes.
    m_signalContext.reset();
}

std::unique_ptr<CatalogRpcEngine> CatalogRpcEngine::create(const ServerConfig &config,
                                                           ConnectionRegistry *connections, QString *error,
                                                           const QHash<QString, MethodHandler> &extraHandlers)
{
    std::optional<MethodCatalog> catalog = MethodCatalog::load(config.catalogFile, error);
    if (!catalog)
        return nullptr;

    std::unique_ptr<CatalogRpcEngine> engine(new CatalogRpcEngine);
    engine->m_catalog = std::make_shared<const MethodCatalog>(std::move(*catalog));
    engine->m_registry = std::make_shared<MethodRegistry>(*engine->m_catalog, config.stateFile);
    engine->m_topics = std::make_unique<TopicHub>();
    engine->m_catalogValidator = std::make_shared<CatalogValidator>(engine->m_catalog, engine->m_registry.get());

    QHash<QString, MethodHandler> builtins = BuiltinMethods::handlers(
        engine->m_topics.get(), connections, engine->m_catalog.get(), engine->m_registry.get());
    for (auto it = extraHandlers.begin(); it != extraHandlers.end(); ++it)
        builtins.insert(it.key(), it.value());
    // One loading of the plugins directory serves both kinds: handler
    // plugins must be there before the methods are bound to them.
    QList<LoadedValidatorPlugin> plugins;
    if (!config.pluginsDir.isEmpty() && !ValidatorPluginLoader::loadDirectory(config.pluginsDir, &plugins, error))
        return nullptr;
    if (!engine->configureHandlers(plugins, config.handlerSettings, error))
        return nullptr;
    if (!engine->bind(builtins, error))
        return nullptr;

    if (!engine->buildChain(config, error, &plugins))
        return nullptr;

    if (connections) {
        // Wire protocols call connectionClosed() too; a second call is harmless.
        engine->m_signalContext = std::make_unique<QObject>();
        CatalogRpcEngine *self = engine.get();
        QObject::connect(connections, &ConnectionRegistry::connectionClosed, engine->m_signalContext.get(),
                         [self](quint64 id) { self->connectionClosed(id); }, Qt::DirectConnection);
    }
    qCDebug(lcMethods).noquote() << "methods from" << engine->m_catalog->source() << "- validators:"
                                << engine->validatorNames().join(QLatin1String(" → "));
    return engine;
}

bool CatalogRpcEngine::bind(const QHash<QString, MethodHandler> &builtins, QString *error)
{
    QHash<QString, std::shared_ptr<HttpUpstream>> upstreams;
    for (const UpstreamSpec &spec : m_catalog->upstreams()) {
        auto upstream = std::make_shared<HttpUpstream>(spec);
        upstreams.insert(spec.name, upstream);
        m_upstreams.append(upstream);
    }
    const auto fail = [&](const CatalogMethod &method, const QString &why) {
        *error = QStringLiteral("catalog %1: method \"%2\" %3").arg(m_catalog->source(), method.name, why);
        return false;
    };
    for (const CatalogMethod &method : m_catalog->methods()) {
        Binding binding;
        QString servedBy = QStringLiteral("builtin");
        QString upstreamName;
        switch (method.handler.kind) {
        case HandlerSpec::Kind::Default:
            if (builtins.contains(method.name))
                binding.builtin = builtins.value(method.name);
            else if (!m_catalog->defaultUpstream().isEmpty())
                upstreamName = m_catalog->defaultUpstream();
            else
                return fail(method, QStringLiteral("has no built-in handler and no \"handler\", and the catalog "
                                                   "sets no default \"upstream\" (built in: %1)")
                                        .arg(BuiltinMethods::names().join(QLatin1String(", "))));
            break;
        case HandlerSpec::Kind::Builtin:
            if (!builtins.contains(method.handler.target))
                return fail(method, QStringLiteral("names the built-in \"%1\", which does not exist (built in: %2)")
                                        .arg(method.handler.target, BuiltinMethods::names().join(QLatin1String(", "))));
            binding.builtin = builtins.value(method.handler.target);
            if (method.handler.target != method.name)
                servedBy = QStringLiteral("builtin ") + method.handler.target;
            break;
        case HandlerSpec::Kind::Upstream:
            upstreamName = method.handler.target;
            break;
        case HandlerSpec::Kind::Plugin: {
            const auto plugin = m_handlerPlugins.constFind(method.handler.target);
            if (plugin == m_handlerPlugins.cend())
                return fail(method, QStringLiteral("names the handler plugin \"%1\", which is not loaded (loaded: %2)")
                                        .arg(method.handler.target, loadedNames(m_handlerPlugins.keys())));
            binding.plugin = plugin->handler;
            binding.servedBy = QStringLiteral("plugin ") + method.handler.target;
            servedBy = binding.servedBy;
            break;
        }
        }
        if (!upstreamName.isEmpty()) {
            binding.upstream = upstreams.value(upstreamName);
            if (!binding.upstream) // the catalog checked the names; kept for custom catalogs
                return fail(method, QStringLiteral("names the upstream \"%1\", which is not defined").arg(upstreamName));
            binding.servedBy = QStringLiteral("upstream ") + upstreamName;
            servedBy = binding.servedBy;
        }
        m_registry->setServedBy(method.name, servedBy);
        m_bindings.insert(method.name, std::move(binding));
    }
    return true;
}

QList<std::shared_ptr<HttpUpstream>> CatalogRpcEngine::upstreams() const
{
    return m_upstreams;
}

bool CatalogRpcEngine::configureHandlers(const QList<LoadedValidatorPlugin> &plugins, const QJsonObject &settings,
                                         QString *error)
{
    for (const LoadedValidatorPlugin &plugin : plugins) {
        if (plugin.handler) // the loader refused two of one name
            m_handlerPlugins.insert(plugin.handler->name(), plugin);
    }
    for (auto it = settings.begin(); it != settings.end(); ++it) {
        if (!m_handlerPlugins.contains(it.key())) {
            *error = QStringLiteral("handlerSettings names \"%1\", which is not loaded (loaded: %2)")
                         .arg(it.key(), loadedNames(m_handlerPlugins.keys()));
            return false;
        }
        if (!it.value().isObject()) {
            *error = QStringLiteral("handlerSettings.%1 must be an object").arg(it.key());
            return false;
        }
    }
    for (auto it = m_handlerPlugins.cbegin(); it != m_handlerPlugins.cend(); ++it) {
        QString why;
        bool ok = false;
        try {
            ok = it->handler->configure(settings.value(it.key()).toObject(), &why);
        } catch (const std::exception &e) {
            why = QString::fromUtf8(e.what());
        } catch (...) {
            why = QStringLiteral("unknown exception");
        }
        if (!ok) {
            *error = QStringLiteral("handler plugin %1 rejects its settings: %2")
                         .arg(it.key(), why.isEmpty() ? QStringLiteral("no reason given") : why);
            return false;
        }
    }
    return true;
}

QJsonArray CatalogRpcEngine::handlerPluginsJson() const
{
    QJsonArray list;
    for (auto it = m_handlerPlugins.cbegin(); it != m_handlerPlugins.cend(); ++it) {
        QJsonArray serves;
        for (const CatalogMethod &method : m_catalog->methods()) {
            if (method.handler.kind == HandlerSpec::Kind::Plugin && method.handler.target == it.key())
                serves.append(method.name);
        }
        list.append(QJsonObject{{"name", it.key()},
                                {"file", it->file},
                                {"metaData", it->metaData},
                                {"methods", QJsonArray::fromStringList(it->handler->methods())},
                                {"serves", serves}});
    }
    return list;
}

bool CatalogRpcEngine::buildChain(const ServerConfig &config, QString *error,
                                  const QList<LoadedValidatorPlugin> *loaded)
{
    QMutexLocker locker(&m_reloadMutex);
    QList<LoadedValidatorPlugin> plugins;
    if (loaded) {
        plugins = *loaded;
    } else if (!config.pluginsDir.isEmpty()
               && !ValidatorPluginLoader::loadDirectory(config.pluginsDir, &plugins, error)) {
        return false;
    }
    // Handler plugins that are no validators have no place in the chain.
    plugins.erase(std::remove_if(plugins.begin(), plugins.end(),
                                 [](const LoadedValidatorPlugin &p) { return !p.validator; }),
                  plugins.end());

    QList<std::shared_ptr<MethodValidator>> available{m_catalogValidator};
    QStringList known{m_catalogValidator->name()};
    for (const LoadedValidatorPlugin &plugin : plugins) {
        available << plugin.validator;
        known << plugin.validator->name();
    }
    QString why;
    std::shared_ptr<ValidatorChain> chain =
        ValidatorChain::assemble(available, effectiveOrder(config.validatorOrder), &why);
    if (!chain) {
        *error = QStringLiteral("validators: %1").arg(why);
        return false;
    }
    if (!chain->configure(config.validatorSettings, known, &why)) {
        *error = QStringLiteral("validators: %1").arg(why);
        // Plugins shared with the chain in force get their old settings back.
        if (const ValidatorChain *previous = this->chain()) {
            QString ignored;
            previous->configure(m_settings, previous->names(), &ignored);
        }
        return false;
    }
    m_chains.push_back(chain);
    m_chain.store(chain.get(), std::memory_order_release);
    m_plugins = plugins;
    m_settings = config.validatorSettings;
    return true;
}

bool CatalogRpcEngine::reloadValidators(const ServerConfig &config, QString *error)
{
    if (!buildChain(config, error)) {
        qCWarning(lcMethods).noquote() << *error << "- the previous validators stay in force";
        return false;
    }
    qCInfo(lcMethods).noquote() << "validators reloaded:" << validatorNames().join(QLatin1String(" → "));
    return true;
}

CallOutcome CatalogRpcEngine::call(const CallContext &context, const QString &method, const QJsonValue &params)
{
    using Clock = std::chrono::steady_clock;
    // Timed from the caller's start when it has one (no clock read here);
    // the one read at the end is handed back for the caller's latency.
    const Clock::time_point start = context.startedAt != Clock::time_point() ? context.startedAt : Clock::now();
    CallOutcome outcome;
    const auto elapsedNs = [&outcome, start] {
        outcome.finishedAt = Clock::now();
        return qint64(std::chrono::duration_cast<std::chrono::nanoseconds>(outcome.finishedAt - start).count());
    };

    const ValidatorChain::Verdict verdict = chain()->check(context, method, params);
    if (!verdict.accepted) {
        outcome.verdict = classify(verdict.error);
        outcome.error = verdict.error;
        m_registry->record(method, MethodRegistry::CallResult::Refused, elapsedNs());
        return outcome;
    }

    const auto binding = m_bindings.constFind(method);
    if (binding == m_bindings.cend()) { // only when a custom order left out every check of the name
        outcome.verdict = CallOutcome::Verdict::UnknownMethod;
        outcome.error = {-32601, QStringLiteral("Method not found"), QJsonObject{{"reason", "unknown"}}, QString()};
        m_registry->record(method, MethodRegistry::CallResult::Refused, elapsedNs());
        return outcome;
    }

    if (binding->upstream)
        return callUpstream(*binding, context, method, params, start);
    if (binding->plugin)
        return callPlugin(*binding, context, method, params, start);

    QString failure;
    try {
        outcome.result = binding->builtin(context, params);
        if (outcome.result.isUndefined())
            outcome.result = QJsonValue(QJsonValue::Null);
    } catch (const std::exception &e) {
        failure = QString::fromUtf8(e.what());
    } catch (...) {
        failure = QStringLiteral("unknown failure");
    }
    if (!failure.isNull()) {
        outcome.verdict = CallOutcome::Verdict::HandlerFailed;
        outcome.result = QJsonValue();
        outcome.error = {-32603, QStringLiteral("Internal error"),
                         failure.isEmpty() ? QStringLiteral("handler failed") : failure, QString()};
        qCDebug(lcMethods).noquote() << "connection" << context.connectionId << "call" << method
                                     << "failed:" << failure;
    }
    m_registry->record(method, outcome.ok() ? MethodRegistry::CallResult::Succeeded : MethodRegistry::CallResult::Failed,
                       elapsedNs());
    return outcome;
}

CallOutcome CatalogRpcEngine::callUpstream(const Binding &binding, const CallContext &context, const QString &method,
                                           const QJsonValue &params, std::chrono::steady_clock::time_point start)
{
    using Clock = std::chrono::steady_clock;
    const QString upstreamName = binding.upstream->name();
    const auto failure = [upstreamName](const QString &reason) {
        return RpcError{-32603, QStringLiteral("Internal error"),
                        QJsonObject{{"reason", reason}, {"upstream", upstreamName}}, QString()};
    };
    CallOutcome outcome;
    outcome.servedBy = binding.servedBy;
    auto pending = std::make_shared<PendingCall>();
    MethodRegistry *registry = m_registry.get();
    const QString servedBy = binding.servedBy;
    const bool started = binding.upstream->call(
        context, method, params, [pending, registry, method, start, servedBy, failure](UpstreamReply reply) {
            CallOutcome done;
            done.servedBy = servedBy;
            done.upstreamNs = reply.upstreamNs;
            switch (reply.kind) {
            case UpstreamReply::Kind::Result:
                done.result = reply.result.isUndefined() ? QJsonValue(QJsonValue::Null) : reply.result;
                break;
            case UpstreamReply::Kind::Error:
                done.verdict = CallOutcome::Verdict::ErrorResult;
                done.error = reply.error;
                break;
            case UpstreamReply::Kind::Failure:
                done.verdict = CallOutcome::Verdict::HandlerFailed;
                done.error = failure(reply.failure);
                break;
            }
            done.finishedAt = Clock::now();
            const bool failed = reply.kind == UpstreamReply::Kind::Failure;
            registry->record(method, done.ok() ? MethodRegistry::CallResult::Succeeded : MethodRegistry::CallResult::Failed,
                             std::chrono::duration_cast<std::chrono::nanoseconds>(done.finishedAt - start).count());
            registry->recordUpstream(method, reply.upstreamNs, failed);
            pending->finish(std::move(done));
        });
    if (!started) {
        // More than maxInFlight calls waiting: refused at once, never queued.
        outcome.verdict = CallOutcome::Verdict::HandlerFailed;
        outcome.error = failure(QStringLiteral("overloaded"));
        outcome.finishedAt = Clock::now();
        m_registry->record(method, MethodRegistry::CallResult::Failed,
                           std::chrono::duration_cast<std::chrono::nanoseconds>(outcome.finishedAt - start).count());
        m_registry->recordUpstream(method, 0, true);
        return outcome;
    }
    outcome.pending = std::move(pending);
    return outcome;
}

CallOutcome CatalogRpcEngine::callPlugin(const Binding &binding, const CallContext &context, const QString &method,
                                         const QJsonValue &params, std::chrono::steady_clock::time_point start)
{
    using Clock = std::chrono::steady_clock;
    // What the call's reply shares with this function while handle() runs.
    struct Call
    {
        QMutex mutex;
        bool inHandle = true;
        std::optional<HandlerReply::Answer> early; // answered on this thread inside handle()
    };
    auto call = std::make_shared<Call>();
    auto pending = std::make_shared<PendingCall>();
    const std::weak_ptr<MethodRegistry> registry = m_registry;
    QThread *const thread = QThread::currentThread();
    const QPointer<QObject> target = postTargetForThisThread();
    const QString servedBy = binding.servedBy;
    const quint64 connectionId = context.connectionId;

    // Ends a call answered after handle() returned, on the calling thread.
    auto finish = [pending, registry, method, start, servedBy, connectionId](HandlerReply::Answer answer) {
        CallOutcome done = outcomeOf(std::move(answer), servedBy);
        done.finishedAt = Clock::now();
        if (done.verdict == CallOutcome::Verdict::HandlerFailed)
            qCDebug(lcMethods).noquote() << "connection" << connectionId << "call" << method << "failed:"
                                         << done.error.data.toString();
        if (const std::shared_ptr<MethodRegistry> r = registry.lock()) {
            r->record(method, done.ok() ? MethodRegistry::CallResult::Succeeded : MethodRegistry::CallResult::Failed,
                      std::chrono::duration_cast<std::chrono::nanoseconds>(done.finishedAt - start).count());
        }
        pending->finish(std::move(done));
    };
    HandlerReply reply([call, thread, target, finish](HandlerReply::Answer answer) {
        {
            QMutexLocker locker(&call->mutex);
            if (call->inHandle && QThread::currentThread() == thread) {
                call->early = std::move(answer);
                return;
            }
        }
        // Later, or from another thread: the calling thread finishes the call
        // (after call() returned). A thread that is gone has nobody to answer.
        if (target)
            QMetaObject::invokeMethod(target.data(), [finish, answer]() mutable { finish(std::move(answer)); },
                                      Qt::QueuedConnection);
    });

    QString failure;
    try {
        binding.plugin->handle(context, method, params, reply);
    } catch (const std::exception &e) {
        failure = QString::fromUtf8(e.what());
    } catch (...) {
        failure = QStringLiteral("unknown failure");
    }
    // Thrown: -32603 as for a built-in, unless an answer came first (then a
    // copy that answers later is ignored too, as the call is answered).
    if (!failure.isNull())
        reply.fail(failure.isEmpty() ? QStringLiteral("handler failed") : failure);
    // The engine's copy goes: when the plugin kept none and did not answer,
    // the reply answers -32603 now rather than never.
    reply = HandlerReply();

    std::optional<HandlerReply::Answer> early;
    {
        QMutexLocker locker(&call->mutex);
        call->inHandle = false;
        early = std::move(call->early);
    }
    if (!early) {
        CallOutcome outcome;
        outcome.servedBy = servedBy;
        outcome.pending = std::move(pending);
        return outcome;
    }
    CallOutcome outcome = outcomeOf(std::move(*early), servedBy);
    outcome.finishedAt = Clock::now();
    if (outcome.verdict == CallOutcome::Verdict::HandlerFailed)
        qCDebug(lcMethods).noquote() << "connection" << connectionId << "call" << method << "failed:"
                                     << outcome.error.data.toString();
    m_registry->record(method, outcome.ok() ? MethodRegistry::CallResult::Succeeded : MethodRegistry::CallResult::Failed,
                       std::chrono::duration_cast<std::chrono::nanoseconds>(outcome.finishedAt - start).count());
    return outcome;
}

void CatalogRpcEngine::connectionClosed(quint64 connectionId)
{
    m_topics->dropConnection(connectionId);
    chain()->connectionClosed(connectionId);
    for (const LoadedValidatorPlugin &plugin : std::as_const(m_handlerPlugins)) {
        try {
            plugin.handler->connectionClosed(connectionId);
        } catch (...) {
            // A plugin's trouble with forgetting a connection is its own.
        }
    }
}

QStringList CatalogRpcEngine::validatorNames() const
{
    return chain()->names();
}

QJsonArray CatalogRpcEngine::validatorsJson() const
{
    const QStringList inForce = validatorNames();
    QJsonArray list;
    auto entry = [&](const QString &name) {
        QJsonObject o{{"name", name}, {"inForce", inForce.contains(name)}};
        if (inForce.contains(name))
            o.insert("position", int(inForce.indexOf(name)));
        return o;
    };
    QJsonObject catalogEntry = entry(m_catalogValidator->name());
    catalogEntry.insert("builtin", true);
    list.append(catalogEntry);
    QMutexLocker locker(&m_reloadMutex);
    for (const LoadedValidatorPlugin &plugin : m_plugins) {
        QJsonObject o = entry(plugin.validator->name());
        o.insert("builtin", false);
        o.insert("file", plugin.file);
        o.insert("metaData", plugin.metaData);
        list.append(o);
    }
    return list;
}

QJsonObject CatalogRpcEngine::discoveryDocument() const
{
    return OpenRpcDocument::build(*m_catalog, m_registry->enabledNames());
}
