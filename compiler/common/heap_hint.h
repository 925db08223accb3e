/* A hint to the allocator for a command that builds a large heap once and then exits. */
#ifndef PINHOLE_HEAP_HINT_H
#define PINHOLE_HEAP_HINT_H

#include <stddef.h>

/* Lets the heap grow in one reserved stretch of about `expect` bytes (8 MiB to 512 MiB)
 * backed by transparent huge pages (where the kernel offers them on request:
 * /sys/kernel/mm/transparent_hugepage/enabled "madvise" or "always"). Call before the heap
 * grows; without THP it only reserves address space. */
void heap_hint_large(size_t expect);

/* What compiling a policy file of `bytes` takes, about: 60 times its size (10,000 entries,
 * 0.4 MB of policy: 27 MB of heap), plus the app library; 64 MiB when unknown (0). */
size_t heap_hint_for_policy(size_t bytes);

#endif
