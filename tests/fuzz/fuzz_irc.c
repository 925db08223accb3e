/* libFuzzer target for pinholed's IRC parser (runtime/proto/irc.c): any conversation, fed
 * whole, byte by byte and joined, must agree and never crash (fuzz_conv.h says how). */
#define FUZZ_PROTO PH_PROTO_IRC
#include "fuzz_conv.h"
