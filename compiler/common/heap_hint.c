/* Compiling 10,000 rules touches about 25 MB of fresh heap: some 6,000 page faults of 4 KiB
 * each, a quarter of `pinhole apply`'s own CPU time (perf). With the heap grown in one
 * reserved stretch marked MADV_HUGEPAGE, the kernel fills it 2 MiB at a time: a dozen faults.
 * The memory used is the same but for the last huge page. */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "heap_hint.h"

/* Address space only: untouched parts cost no memory (but count as committed where the
 * kernel keeps strict accounting, vm.overcommit_memory=2: hence sized to the need). */
#define HEAP_RESERVE_MIN ((size_t)8 << 20)
#define HEAP_RESERVE_MAX ((size_t)512 << 20)
#define HUGE_PAGE ((uintptr_t)2 << 20)

void heap_hint_large(size_t expect)
{
	size_t reserve = expect < HEAP_RESERVE_MIN ? HEAP_RESERVE_MIN : expect > HEAP_RESERVE_MAX ? HEAP_RESERVE_MAX : expect;
	/* Grow the heap by the reserve at the next extension, and never hand the top back:
	 * a later extension would be a new mapping without the hint. */
	if (!mallopt(M_TOP_PAD, (int)reserve) || !mallopt(M_TRIM_THRESHOLD, (int)(reserve * 2)))
		return;
	/* Blocks below the mmap threshold come from the heap: two such force the extension now. */
	void *a = malloc(96 << 10), *b = malloc(96 << 10);
	uintptr_t lo = ((uintptr_t)(b ? b : a) + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	uintptr_t hi = (uintptr_t)sbrk(0) & ~(HUGE_PAGE - 1);
	free(b);
	free(a);
	if (a && hi > lo)
		madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* refused (no THP): 4 KiB pages, as before */
}

size_t heap_hint_for_policy(size_t bytes)
{
	if (!bytes)
		return (size_t)64 << 20;
	return bytes > HEAP_RESERVE_MAX / 64 ? HEAP_RESERVE_MAX : bytes * 64 + ((size_t)8 << 20);
}
