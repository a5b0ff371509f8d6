#include "switchboard.h"

#include "admin/adminapi.h"
#include "admin/connectionregistry.h"
#include "front/httpside.h"
#include "logging.h"
#include "rpc/methodcatalog.h"
#include "rpc/methodregistry.h"
#include "rpc/bundledsubprotocols.h"
#include "rpc/catalogrpcengine.h"
#include "serverhost.h"
#include "ws/subprotocolregistry.h"
#include "admin/trafficlog.h"

std::unique_ptr<Switchboard> Switchboard::create(const ServerConfig &config, QString *error)
{
    std::unique_ptr<Switchboard> sb(new Switchboard);
    sb->m_traffic = std::make_unique<TrafficLog>();
    sb->m_subprotocols = std::make_shared<SubprotocolRegistry>();
    sb->m_host = std::make_unique<ServerHost>(config, sb->m_subprotocols);
    sb->m_engine = CatalogRpcEngine::create(config, sb->m_host->connections(), error);
    if (!sb->m_engine)
        return nullptr;
    JsonRpcOptions jsonRpc;
    jsonRpc.resonanceCompat = config.resonanceCompat;
    registerBundledSubprotocols(*sb->m_subprotocols, sb->m_engine.get(), sb->m_traffic.get(), jsonRpc);

    AdminApi::Sources sources;
    sources.connections = sb->m_host->connections();
    sources.traffic = sb->m_traffic.get();
    sources.methods = sb->m_engine->methods();
    sources.engine = sb->m_engine.get();
    sources.topics = sb->m_engine->topics();
    CatalogRpcEngine *engine = sb->m_engine.get();
    sources.reloadValidators = [engine, config](QString *error) {
        return engine->reloadValidators(config, error);
    };
    sources.adminToken = config.adminToken;
    sb->m_host->addRoutes([sources](HttpSide &http) { AdminApi::install(http, sources); });

    // Said once the server listens, so a start that fails prints only its error.
    QObject::connect(sb->m_host.get(), &ServerHost::started, sb->m_host.get(), [engine] {
        qCInfo(lcServer).noquote() << engine->methods()->enabledNames().size() << "of"
                                   << engine->methods()->names().size() << "methods on, from"
                                   << engine->catalog().source() << "- validators:"
                                   << engine->validatorNames().join(QLatin1String(" → "));
    });
    return sb;
}

Switchboard::~Switchboard()
{
    m_host.reset();
}
