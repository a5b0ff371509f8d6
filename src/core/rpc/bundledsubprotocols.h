#pragma once

#include "rpc/jsonrpcsubprotocol.h"

class RpcEngine;
class SubprotocolRegistry;
class TrafficLog;

// Registers the bundled wire protocols, enabled, in the order a client's
// offer is matched against: `jsonrpc`, then `dm-rpc`. `engine` must outlive
// the registry's sessions; `log` may be null.
void registerBundledSubprotocols(SubprotocolRegistry &registry, RpcEngine *engine, TrafficLog *log,
                                 const JsonRpcOptions &jsonRpcOptions = JsonRpcOptions());
