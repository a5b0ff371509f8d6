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
#include "validatorchain.h"

#include <QObject>

#include <chrono>
#include <exception>

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
    engine->m_registry = std::make_unique<MethodRegistry>(*engine->m_catalog, config.stateFile);
    engine->m_topics = std::make_unique<TopicHub>();
    engine->m_catalogValidator = std::make_shared<CatalogValidator>(engine->m_catalog, engine->m_registry.get());

    QHash<QString, MethodHandler> builtins = BuiltinMethods::handlers(
        engine->m_topics.get(), connections, engine->m_catalog.get(), engine->m_registry.get());
    for (auto it = extraHandlers.begin(); it != extraHandlers.end(); ++it)
        builtins.insert(it.key(), it.value());
    if (!engine->bind(builtins, error))
        return nullptr;

    if (!engine->buildChain(config, error))
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
        case HandlerSpec::Kind::Plugin:
            return fail(method, QStringLiteral("names the handler plugin \"%1\", which is not loaded")
                                    .arg(method.handler.target));
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

bool CatalogRpcEngine::buildChain(const ServerConfig &config, QString *error)
{
    QMutexLocker locker(&m_reloadMutex);
    QList<LoadedValidatorPlugin> plugins;
    if (!config.pluginsDir.isEmpty() && !ValidatorPluginLoader::loadDirectory(config.pluginsDir, &plugins, error))
        return false;

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

void CatalogRpcEngine::connectionClosed(quint64 connectionId)
{
    m_topics->dropConnection(connectionId);
    chain()->connectionClosed(connectionId);
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
