/* libFuzzer target for the files `pinhole confirm` and the rollback watchdog read back from the
 * state directory (rollback.h): KEY.pending (who waits) and the header of KEY.rollback (the
 * saved batch). Damaged or hostile files must be refused, never crash or over-read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rollback.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so that ASan sees any read past the end. */
	char *copy = malloc(size ? size : 1);
	if (size)
		memcpy(copy, data, size);
	struct rollback_info info;
	if (rollback_info_parse(copy, size, &info) && strlen(info.policy) >= sizeof(info.policy))
		abort();
	const char *msgs;
	size_t len;
	if (rollback_batch_parse(copy, size, &msgs, &len) &&
	    (msgs < copy || msgs + len != copy + size))
		abort();
	free(copy);
	return 0;
}
