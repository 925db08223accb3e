/* libFuzzer target for pinholed's RPC parser (runtime/proto/rpc.c): any conversation, fed
 * whole, byte by byte and joined, must agree and never crash (fuzz_conv.h says how). */
#define FUZZ_PROTO PH_PROTO_RPC
#include "fuzz_conv.h"
