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

/* Address space only: untouched parts cost no memory. */
#define HEAP_RESERVE ((size_t)64 << 20)
#define HUGE_PAGE ((uintptr_t)2 << 20)

void heap_hint_large(void)
{
	/* Grow the heap by the reserve at the next extension, and never hand the top back:
	 * a later extension would be a new mapping without the hint. */
	if (!mallopt(M_TOP_PAD, (int)HEAP_RESERVE) || !mallopt(M_TRIM_THRESHOLD, (int)(HEAP_RESERVE * 2)))
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
