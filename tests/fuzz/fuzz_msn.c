/* libFuzzer target for pinholed's MSN parser (runtime/proto/msn.c): any conversation, fed
 * whole, byte by byte and joined, must agree and never crash (fuzz_conv.h says how). */
#define FUZZ_PROTO PH_PROTO_MSN
#include "fuzz_conv.h"
