/* libFuzzer target for pinholed's RTSP parser (runtime/proto/rtsp.c): any conversation, fed
 * whole, byte by byte and joined, must agree and never crash (fuzz_conv.h says how). */
#define FUZZ_PROTO PH_PROTO_RTSP
#include "fuzz_conv.h"
