/*
 * baseline-locked.c: the plain hash table, three ways: unsynchronized (the
 * single-thread limit), behind one global pthread mutex, and behind one
 * pthread rwlock.
 *
 * One open-addressing table with linear probing serves all three; only the
 * lock around it differs, chosen by a compile-time constant so each variant
 * compiles to straight-line code (no lock calls at all for the limit).  A
 * slot keeps the full 32-bit hash beside the entry pointer, so a probe
 * touches an entry only when the hash matches: the layout that measured
 * fastest here when every lookup misses the cache.  The table doubles when it
 * would pass half full, so it needs no presizing.  Removal shifts later
 * entries of the cluster back (no tombstones).
 *
 * Counted mode (churn workloads): an entry holds a reference count.  Under
 * the mutex, and with no lock, the count is only touched by the one thread
 * inside, so it is a plain counter (written through relaxed atomics, which
 * compile to plain moves).  Under the rwlock a hit takes only the read
 * lock, so several readers may increment at once: that increment is an
 * atomic add.  A release always takes the write lock, which excludes every
 * reader, so "the count reached 0, unlink and free" cannot race with an
 * increment; an entry is freed at once because no reader can hold it.
 *
 * The same table also backs struct bench_set, which workloads.c uses to
 * find distinct tokens.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---------------------------------------------------------------------------
 * The open-addressing table (no synchronization of its own)
 * ------------------------------------------------------------------------- */

struct oa_entry {
	_Atomic uint32_t refcnt; /* counted mode only */
	uint32_t len;
	char data[]; /* len bytes and a NUL */
};

struct oa_slot {
	uint32_t hash;
	struct oa_entry *e; /* NULL: empty */
};

struct oa_table {
	struct oa_slot *slots;
	size_t mask; /* capacity - 1, capacity a power of two */
	size_t used;
};

#define OA_MIN_CAPACITY 64

static void oa_init(struct oa_table *t)
{
	t->slots = bench_xcalloc(OA_MIN_CAPACITY, sizeof(*t->slots));
	t->mask = OA_MIN_CAPACITY - 1;
	t->used = 0;
}

/* The entry with these bytes, or NULL; *slot is its slot or the empty slot
 * ending the probe. */
static inline struct oa_entry *oa_find(const struct oa_table *t, uint32_t hash, const char *s,
				       size_t len, size_t *slot)
{
	size_t i = hash & t->mask;

	for (;;) {
		const struct oa_slot *sl = &t->slots[i];

		if (!sl->e) {
			*slot = i;
			return NULL;
		}
		if (sl->hash == hash && sl->e->len == len && memcmp(sl->e->data, s, len) == 0) {
			*slot = i;
			return sl->e;
		}
		i = (i + 1) & t->mask;
	}
}

static void oa_grow(struct oa_table *t)
{
	size_t cap = (t->mask + 1) * 2;
	struct oa_slot *old = t->slots;
	size_t old_cap = t->mask + 1;

	t->slots = bench_xcalloc(cap, sizeof(*t->slots));
	t->mask = cap - 1;
	for (size_t i = 0; i < old_cap; i++) {
		size_t j;

		if (!old[i].e)
			continue;
		for (j = old[i].hash & t->mask; t->slots[j].e; j = (j + 1) & t->mask)
			;
		t->slots[j] = old[i];
	}
	free(old);
}

/* Insert a new entry for bytes known to be absent; *slot from oa_find. */
static struct oa_entry *oa_insert(struct oa_table *t, uint32_t hash, const char *s, size_t len,
				  size_t slot, uint32_t refcnt)
{
	struct oa_entry *e = malloc(sizeof(*e) + len + 1);

	if (!e)
		return NULL;
	/* Relaxed: the entry becomes visible only through the table, and
	 * every access to the table is under the lock, which orders it. */
	atomic_store_explicit(&e->refcnt, refcnt, memory_order_relaxed);
	e->len = (uint32_t)len;
	memcpy(e->data, s, len);
	e->data[len] = '\0';
	if ((t->used + 1) * 2 > t->mask + 1) {
		oa_grow(t);
		(void)oa_find(t, hash, s, len, &slot);
	}
	t->slots[slot].hash = hash;
	t->slots[slot].e = e;
	t->used++;
	return e;
}

/* Empty slot i, shifting back later members of its cluster whose home slot
 * lies at or before i (cyclically), so every probe still finds them. */
static void oa_remove_at(struct oa_table *t, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & t->mask;
		if (!t->slots[j].e)
			break;
		home = t->slots[j].hash & t->mask;
		/* Keep the entry at j if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	t->slots[i].e = NULL;
	t->used--;
}

static void oa_destroy(struct oa_table *t)
{
	for (size_t i = 0; i <= t->mask; i++)
		free(t->slots[i].e);
	free(t->slots);
}

/* ---------------------------------------------------------------------------
 * The table behind a lock
 * ------------------------------------------------------------------------- */

enum lock_kind {
	LOCK_NONE,
	LOCK_MUTEX,
	LOCK_RWLOCK
};

struct locked_table {
	enum lock_kind kind;
	bool counted;
	union {
		pthread_mutex_t mutex;
		pthread_rwlock_t rwlock;
	} lock;
	struct oa_table t;
};

static inline void lock_exclusive(struct locked_table *lt, enum lock_kind kind)
{
	if (kind == LOCK_MUTEX)
		pthread_mutex_lock(&lt->lock.mutex);
	else if (kind == LOCK_RWLOCK)
		pthread_rwlock_wrlock(&lt->lock.rwlock);
}

static inline void unlock_exclusive(struct locked_table *lt, enum lock_kind kind)
{
	if (kind == LOCK_MUTEX)
		pthread_mutex_unlock(&lt->lock.mutex);
	else if (kind == LOCK_RWLOCK)
		pthread_rwlock_unlock(&lt->lock.rwlock);
}

/* Count one more reference while holding the lock exclusively: no other
 * thread can touch the count, so a relaxed load and store suffice. */
static inline void count_exclusive(struct oa_entry *e)
{
	uint32_t c = atomic_load_explicit(&e->refcnt, memory_order_relaxed);

	atomic_store_explicit(&e->refcnt, c + 1, memory_order_relaxed);
}

static inline const void *locked_intern(struct locked_table *lt, const char *s, size_t len,
					enum lock_kind kind)
{
	uint32_t hash = bench_hash(s, len);
	struct oa_entry *e;
	size_t slot;

	if (kind == LOCK_RWLOCK) {
		pthread_rwlock_rdlock(&lt->lock.rwlock);
		e = oa_find(&lt->t, hash, s, len, &slot);
		/* Readers share the lock, so two may count the same entry at
		 * once: an atomic add keeps both increments.  A release holds
		 * the write lock, so none can see the count reach 0 meanwhile. */
		if (e && lt->counted)
			atomic_fetch_add_explicit(&e->refcnt, 1, memory_order_relaxed);
		pthread_rwlock_unlock(&lt->lock.rwlock);
		if (e)
			return e;
	}
	lock_exclusive(lt, kind);
	/* For the rwlock this looks again: a writer may have inserted the
	 * bytes between our read unlock and write lock. */
	e = oa_find(&lt->t, hash, s, len, &slot);
	if (e) {
		if (lt->counted)
			count_exclusive(e);
	} else {
		e = oa_insert(&lt->t, hash, s, len, slot, lt->counted ? 1 : 0);
	}
	unlock_exclusive(lt, kind);
	return e;
}

static inline void locked_release(struct locked_table *lt, const void *h, enum lock_kind kind)
{
	struct oa_entry *e = (struct oa_entry *)h;
	uint32_t c;

	if (!lt->counted)
		return;
	lock_exclusive(lt, kind);
	/* Exclusive: no reader can add to the count meanwhile (see
	 * count_exclusive), so load and store need no read-modify-write. */
	c = atomic_load_explicit(&e->refcnt, memory_order_relaxed) - 1;
	atomic_store_explicit(&e->refcnt, c, memory_order_relaxed);
	if (c == 0) {
		size_t slot;

		if (oa_find(&lt->t, bench_hash(e->data, e->len), e->data, e->len, &slot) != e)
			bench_die("locked table: a counted entry is not in its table");
		oa_remove_at(&lt->t, slot);
		free(e); /* every access to it happens under this lock */
	}
	unlock_exclusive(lt, kind);
}

static void *locked_create(const struct bench_table_config *cfg, enum lock_kind kind)
{
	struct locked_table *lt = bench_xcalloc(1, sizeof(*lt));

	lt->kind = kind;
	lt->counted = cfg->counted;
	if (kind == LOCK_MUTEX)
		pthread_mutex_init(&lt->lock.mutex, NULL);
	else if (kind == LOCK_RWLOCK)
		pthread_rwlock_init(&lt->lock.rwlock, NULL);
	oa_init(&lt->t);
	return lt;
}

static void locked_destroy(void *tab)
{
	struct locked_table *lt = tab;

	oa_destroy(&lt->t);
	if (lt->kind == LOCK_MUTEX)
		pthread_mutex_destroy(&lt->lock.mutex);
	else if (lt->kind == LOCK_RWLOCK)
		pthread_rwlock_destroy(&lt->lock.rwlock);
	free(lt);
}

/*
 * One row per lock kind.  The wrappers pass the kind as a constant so the
 * compiler drops the branches for the other kinds.  They are out of line
 * (noinline) on purpose: every implementation is reached through the same
 * indirect call.
 */
#define LOCKED_IMPL(var, kind, row, text, role_)                                            \
	__attribute__((noinline)) static const void *var##_intern(void *tab, const char *s, \
								  size_t len)               \
	{                                                                                   \
		return locked_intern(tab, s, len, kind);                                    \
	}                                                                                   \
	__attribute__((noinline)) static void var##_release(void *tab, const void *h)       \
	{                                                                                   \
		locked_release(tab, h, kind);                                               \
	}                                                                                   \
	static void *var##_create(const struct bench_table_config *cfg)                     \
	{                                                                                   \
		return locked_create(cfg, kind);                                            \
	}                                                                                   \
	const struct bench_impl bench_impl_##var = {                                        \
		.name = row,                                                                \
		.about = text,                                                              \
		.role = role_,                                                              \
		.create = var##_create,                                                     \
		.destroy = locked_destroy,                                                  \
		.intern = var##_intern,                                                     \
		.release = var##_release,                                                   \
	}

LOCKED_IMPL(limit, LOCK_NONE, "limit",
	    "open addressing, no synchronization, 1 thread only (the ceiling)", BENCH_ROLE_LIMIT);
LOCKED_IMPL(mutex, LOCK_MUTEX, "mutex", "the same table behind one global pthread mutex",
	    BENCH_ROLE_BASELINE);
LOCKED_IMPL(rwlock, LOCK_RWLOCK, "rwlock",
	    "the same table behind one pthread rwlock (read lock for hits)", BENCH_ROLE_BASELINE);

/* ---------------------------------------------------------------------------
 * The distinct-string set for workload building
 * ------------------------------------------------------------------------- */

struct bench_set {
	struct oa_table t;
};

struct bench_set *bench_set_new(void)
{
	struct bench_set *set = bench_xmalloc(sizeof(*set));

	oa_init(&set->t);
	return set;
}

bool bench_set_add(struct bench_set *set, const char *s, size_t len)
{
	uint32_t hash = bench_hash(s, len);
	size_t slot;

	if (oa_find(&set->t, hash, s, len, &slot))
		return false;
	if (!oa_insert(&set->t, hash, s, len, slot, 0))
		bench_die("out of memory building a key set");
	return true;
}

void bench_set_free(struct bench_set *set)
{
	if (!set)
		return;
	oa_destroy(&set->t);
	free(set);
}
