/* libFuzzer target: any bytes as a firewalld file for pinhole import (tests/fuzz/fuzz_import.h). */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import(IMPORT_FIREWALLD, "fuzz.xml", data, size);
}
