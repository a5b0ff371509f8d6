// libFuzzer target: a `dm-rpc` session (DmRpcSubprotocol) fed untrusted
// text messages, with the same small engine and the traffic log. Anything
// invalid closes the connection; with the first byte's bit 0 set, closing
// destroys the session at once, as a real socket may.
// Input: one settings byte, then messages separated by '\n'.

#include "fuzzsupport.h"
#include "rpc/dmrpcsubprotocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz::runSession<DmRpcSubprotocol>(DmRpcSubprotocol::protocolName(), data, size);
}
