#include "rpc/bundledsubprotocols.h"

#include "rpc/dmrpcsubprotocol.h"
#include "rpc/jsonrpcsubprotocol.h"
#include "ws/subprotocolregistry.h"

void registerBundledSubprotocols(SubprotocolRegistry &registry, RpcEngine *engine, TrafficLog *log,
                                 const JsonRpcOptions &jsonRpcOptions)
{
    registry.add(std::make_shared<JsonRpcSubprotocol>(engine, log, jsonRpcOptions));
    registry.add(std::make_shared<DmRpcSubprotocol>(engine, log));
}
