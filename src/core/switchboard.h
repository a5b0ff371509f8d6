#pragma once

#include "serverconfig.h"

#include <QString>

#include <memory>

class CatalogRpcEngine;
class ServerHost;
class SubprotocolRegistry;
class TrafficLog;

// The server as shipped, built from a ServerConfig: the method engine
// (catalog, validators, plugins, switches), the traffic log, the bundled
// subprotocols (jsonrpc, dm-rpc) and the HTTP admin API and console over a
// ServerHost. The headless runner, the dashboard and the end-to-end tests all
// start it the same way.
class Switchboard
{
public:
    // Null with one line naming the problem (bad catalog, plugin, validator
    // order...). A method state file that cannot be read is not one: it is
    // logged and ignored, and the catalog's switches hold (MethodRegistry).
    static std::unique_ptr<Switchboard> create(const ServerConfig &config, QString *error);
    ~Switchboard();

    ServerHost *host() const { return m_host.get(); }
    CatalogRpcEngine *engine() const { return m_engine.get(); }
    TrafficLog *traffic() const { return m_traffic.get(); }

private:
    Switchboard() = default;

    // Destroyed in reverse: the host (and its worker threads) goes first,
    // since sessions call into the engine and the log.
    std::unique_ptr<TrafficLog> m_traffic;
    std::unique_ptr<CatalogRpcEngine> m_engine;
    std::shared_ptr<SubprotocolRegistry> m_subprotocols;
    std::unique_ptr<ServerHost> m_host;
};
