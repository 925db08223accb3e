/* A hint to the allocator for a command that builds a large heap once and then exits. */
#ifndef PINHOLE_HEAP_HINT_H
#define PINHOLE_HEAP_HINT_H

/* Lets the heap grow in one reserved stretch backed by transparent huge pages (where the
 * kernel offers them on request: /sys/kernel/mm/transparent_hugepage/enabled "madvise" or
 * "always"). Call before the heap grows; without THP it only reserves address space. */
void heap_hint_large(void);

#endif
