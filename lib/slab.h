/*
 * slab.h: the allocator of dynamic strings (slab.c): no per-object header,
 * 4-byte granularity, chunks returned to malloc when empty.
 */
#ifndef INTERN_SLAB_H
#define INTERN_SLAB_H

#include <stddef.h>
#include <stdint.h>

/* `size` bytes, aligned for struct intern_str, for a string whose hash is
 * `hash`; NULL when out of memory (or an injected failure: alloc.h).
 * Thread-safe; may block on an arena's mutex. */
void *intern__slab_alloc(size_t size, uint32_t hash);

/* Give back `p` from intern__slab_alloc() with the same size (the hash
 * need not be the same: memory may be reused for another string of its
 * size).  Thread-safe; may block on an arena's mutex.  A pointer that is
 * not allocated here dies (a broken invariant). */
void intern__slab_free(void *p, size_t size);

#endif
