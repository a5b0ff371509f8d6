// libFuzzer target: a `jsonrpc` session (JsonRpcSubprotocol) fed untrusted
// text messages, with a small engine (one method per verdict, and "close",
// which closes the connection from inside the handler) and the traffic log.
// Input: one settings byte, then messages separated by '\n'.

#include "fuzzsupport.h"
#include "rpc/jsonrpcsubprotocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz::runSession<JsonRpcSubprotocol>(JsonRpcSubprotocol::protocolName(), data, size);
}
