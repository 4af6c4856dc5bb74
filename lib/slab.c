/*
 * slab.c: the allocator of dynamic strings.
 *
 * malloc() gives a string an 8-byte chunk header and rounds it to 16
 * bytes: 17.9 bytes per entry on identifiers, more than the table's slots.
 * Strings need neither: a string's size follows from its length, and its
 * arena is recorded in its chunk.  So
 * strings of up to SLAB_MAX bytes come from 4 KiB chunks, each chunk
 * holding objects of one size class (a multiple of SLAB_GRAIN bytes: the
 * header's alignment), with no per-object header: a chunk keeps a count of
 * its live objects and a list of its free ones, and goes back to malloc
 * when the count reaches 0 (to its region, and the region to malloc when
 * all its chunks are back: below), so memory follows the live strings and
 * a freed interpreter's strings are not kept.  Longer strings use malloc.
 *
 * Threads.  A string is allocated on an interning thread and freed on
 * whichever thread ends it (liburcu's call_rcu thread for a mortal death),
 * so the allocator is shared: SLAB_ARENAS arenas, an allocation's chosen
 * by bits of the string's hash, each with its own mutex (a mutex, not a spinlock, for the
 * reason the shard lock is one: a preempted holder must not stall
 * spinners; table.c).  The critical section is a few loads and stores.
 *
 * Failure injection (alloc.h) covers every object: each allocation asks
 * it, and so does each region.
 *
 * Use-after-free detection.  A chunk hides a freed string from the tools
 * that find use after free, so under AddressSanitizer and ThreadSanitizer
 * (compile time) and under valgrind (run time, when <valgrind/valgrind.h>
 * was found) every string is malloc'd on its own instead, as before.
 */
#include "slab.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "intern-private.h"

#ifdef INTERN_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

/* A sanitizer that tracks heap objects: AddressSanitizer (use after free)
 * or ThreadSanitizer (a reused object's accesses, ordered only through the
 * arena's mutex, look unrelated to it). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SLAB_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SLAB_SANITIZER 1
#endif
#endif

#define SLAB_CHUNK 4096u
#define SLAB_GRAIN 4u /* struct intern_str's alignment */
#define SLAB_MAX 128u /* larger objects: malloc */
#define SLAB_CLASSES (SLAB_MAX / SLAB_GRAIN)
#define SLAB_ARENAS 16u

/*
 * Chunks come from regions, one malloc each, cut into the
 * SLAB_CHUNK-aligned chunks that fit: the first few regions of
 * SLAB_REGION_FIRST bytes, so that a small program keeps little, then of
 * SLAB_REGION bytes, where the chunk lost to alignment is 0.4 %.  (A
 * chunk malloc'd on its own with that alignment would leave a free
 * fragment of about its size before it in the heap: twice the memory.)  A
 * region goes back to malloc when its last chunk does.  One mutex for the
 * regions: a chunk is taken or given back once per ~100 strings.
 */
#define SLAB_REGION_FIRST (256u * 1024u)
#define SLAB_REGION (1024u * 1024u)
#define SLAB_SMALL_REGIONS 4u /* regions of the first size at most */

struct region {
	struct region *next, *prev; /* regions with a free chunk */
	void *base;                 /* what malloc returned */
	struct chunk *free;         /* free chunks, linked through `next` */
	uint32_t used;              /* chunks handed out */
	bool listed;
};

/* A chunk's header, at the start of its SLAB_CHUNK-aligned block. */
struct chunk {
	struct region *region;
	struct chunk *next, *prev; /* the class's chunks with room, if listed */
	char *free;                /* a free object, or NULL */
	uint32_t live;             /* objects handed out */
	uint32_t bump;             /* offset of the never-used tail */
	uint32_t size;             /* the class's object size */
	uint16_t arena;            /* index in arenas[] */
	bool listed;               /* on its class's list */
};

#define SLAB_FIRST ((sizeof(struct chunk) + 7u) & ~7u)

struct arena {
	pthread_mutex_t lock;
	struct chunk *room[SLAB_CLASSES]; /* chunks with a free object or tail */
} __attribute__((aligned(INTERN_CACHELINE)));

static pthread_mutex_t regions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct region *regions; /* those with a free chunk */
static unsigned nregions;      /* regions allocated */

static void region_list(struct region *r, bool on)
{
	if (on == r->listed)
		return;
	if (on) {
		r->prev = NULL;
		r->next = regions;
		if (regions)
			regions->prev = r;
		regions = r;
	} else {
		if (r->prev)
			r->prev->next = r->next;
		else
			regions = r->next;
		if (r->next)
			r->next->prev = r->prev;
	}
	r->listed = on;
}

/* A new region, its chunks on its free list; NULL when out of memory.
 * The region's own header takes the slack before the first aligned
 * chunk when it fits there, else a chunk. */
static struct region *region_new(void)
{
	const size_t size = nregions < SLAB_SMALL_REGIONS ? SLAB_REGION_FIRST : SLAB_REGION;
	char *base = intern__malloc(size), *at, *end;
	struct region *r;

	if (!base)
		return NULL;
	at = (char *)(((uintptr_t)base + SLAB_CHUNK - 1) & ~(uintptr_t)(SLAB_CHUNK - 1));
	end = base + size;
	if ((size_t)(at - base) >= sizeof(*r)) {
		r = (struct region *)base;
	} else {
		r = (struct region *)at;
		at += SLAB_CHUNK;
	}
	*r = (struct region){ .base = base };
	nregions++;
	for (; at + SLAB_CHUNK <= end; at += SLAB_CHUNK) {
		struct chunk *c = (struct chunk *)at;

		c->next = r->free;
		r->free = c;
	}
	region_list(r, true);
	return r;
}

/* A chunk, not yet initialized; NULL when out of memory. */
static struct chunk *chunk_get(void)
{
	struct region *r;
	struct chunk *c = NULL;

	pthread_mutex_lock(&regions_lock);
	r = regions ? regions : region_new();
	if (r) {
		c = r->free;
		r->free = c->next;
		r->used++;
		c->region = r;
		if (!r->free)
			region_list(r, false);
	}
	pthread_mutex_unlock(&regions_lock);
	return c;
}

static void chunk_put(struct chunk *c)
{
	struct region *r = c->region;

	pthread_mutex_lock(&regions_lock);
	c->next = r->free;
	r->free = c;
	if (--r->used == 0) {
		region_list(r, false);
		nregions--;
		intern__free(r->base);
	} else {
		region_list(r, true);
	}
	pthread_mutex_unlock(&regions_lock);
}

static struct arena arenas[SLAB_ARENAS] = {
	[0 ... SLAB_ARENAS - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER },
};

/* A free object's link: over ob_len and ob_hash (bytes 4..11), so that the
 * poison str.c wrote into the count and the state stays visible. */
#define LINK_AT 4u

/* Every string malloc'd on its own: under ASan, TSan or valgrind. */
static bool by_malloc(void)
{
#ifdef SLAB_SANITIZER
	return true;
#elif defined(INTERN_HAVE_VALGRIND_H)
	return RUNNING_ON_VALGRIND != 0;
#else
	return false;
#endif
}

static struct chunk *chunk_of(void *p)
{
	return (struct chunk *)((uintptr_t)p & ~(uintptr_t)(SLAB_CHUNK - 1));
}

static void list_add(struct arena *ar, unsigned cls, struct chunk *c)
{
	c->prev = NULL;
	c->next = ar->room[cls];
	if (c->next)
		c->next->prev = c;
	ar->room[cls] = c;
	c->listed = true;
}

static void list_del(struct arena *ar, unsigned cls, struct chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		ar->room[cls] = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->listed = false;
}

static bool chunk_full(const struct chunk *c)
{
	return !c->free && c->bump + c->size > SLAB_CHUNK;
}

/* An object of class `cls` from `ar`, lock held: NULL when a new chunk
 * cannot be had. */
static void *take(struct arena *ar, unsigned cls, uint32_t size)
{
	struct chunk *c = ar->room[cls];
	char *p;

	if (!c) {
		c = chunk_get();
		if (!c)
			return NULL;
		*c = (struct chunk){ .region = c->region,
				     .bump = SLAB_FIRST,
				     .size = size,
				     .arena = (uint16_t)(ar - arenas) };
		list_add(ar, cls, c);
	}
	if (c->free) {
		p = c->free;
		memcpy(&c->free, p + LINK_AT, sizeof(c->free));
	} else {
		p = (char *)c + c->bump;
		c->bump += size;
	}
	c->live++;
	if (chunk_full(c))
		list_del(ar, cls, c);
	return p;
}

void *intern__slab_alloc(size_t size, uint32_t hash)
{
	const uint32_t rounded = (uint32_t)((size + SLAB_GRAIN - 1) & ~(size_t)(SLAB_GRAIN - 1));
	struct arena *ar = &arenas[(hash >> 8) % SLAB_ARENAS];
	void *p;

	if (size > SLAB_MAX || by_malloc())
		return intern__malloc(size);
	if (intern__alloc_should_fail())
		return NULL;
	pthread_mutex_lock(&ar->lock);
	p = take(ar, rounded / SLAB_GRAIN - 1, rounded);
	pthread_mutex_unlock(&ar->lock);
	return p;
}

void intern__slab_free(void *p, size_t size)
{
	const unsigned cls = (unsigned)((size + SLAB_GRAIN - 1) / SLAB_GRAIN) - 1;
	struct arena *ar;
	struct chunk *c;

	if (size > SLAB_MAX || by_malloc()) {
		intern__free(p);
		return;
	}
	/* The chunk's arena, which the caller's live object keeps fixed: an
	 * object may be freed whatever hash its last user gave it. */
	c = chunk_of(p);
	ar = &arenas[c->arena % SLAB_ARENAS];
	pthread_mutex_lock(&ar->lock);
	if (c->live == 0 || c->size != (cls + 1) * SLAB_GRAIN)
		intern__die("slab: free of %p (%zu bytes) that is not allocated", p, size);
	memcpy((char *)p + LINK_AT, &c->free, sizeof(c->free));
	c->free = p;
	if (--c->live == 0) {
		/* Empty: back to its region (and the region to malloc when it
		 * is empty too), so memory follows the live strings. */
		if (c->listed)
			list_del(ar, cls, c);
		chunk_put(c);
	} else if (!c->listed) {
		list_add(ar, cls, c);
	}
	pthread_mutex_unlock(&ar->lock);
}
