/*
 * alloc.h: every allocation libintern makes goes through here, so tests and
 * the stress harness can make the k-th one fail (allocation-failure
 * injection) and check that each API call then fails cleanly.
 */
#ifndef INTERN_ALLOC_H
#define INTERN_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *intern__malloc(size_t size);
void *intern__calloc(size_t nmemb, size_t size);
/* Zeroed, aligned to `align` (a power of two, multiple of sizeof(void *)). */
void *intern__calloc_aligned(size_t align, size_t nmemb, size_t size);
void intern__free(void *ptr);

/* Should the allocation being made now fail (failure injection)?  Every
 * allocator asks this once per allocation: the wrappers above, and the
 * string allocator (slab.c) per object. */
bool intern__alloc_should_fail(void);

/*
 * Make the `nth` allocation from now fail (1 = the next one).  With
 * `persistent` non-zero, every allocation from that one on fails too.
 * Process-wide and thread-safe; intern__fault_disarm() ends it.
 */
void intern__fault_arm(unsigned long nth, int persistent);
void intern__fault_disarm(void);

/* Allocations attempted since the process started (failed ones included). */
unsigned long intern__alloc_count(void);

#endif
