/*
 * ids.c: dense IDs for an interpreter's immortal strings, GQuark-style:
 * an ID is given on the first request and never reused while the
 * interpreter lives; ID -> string and string -> ID take constant time and
 * no lock.  The strings of a mapped snapshot have their IDs in the file
 * (0..count-1, snapshot.c); the IDs here start at the snapshot's count.
 *
 * ID -> string: a directory of chunks that double in size (64, 128, 256...
 * entries: 27 chunks cover 2^32 IDs).  A chunk is allocated once and never
 * moves or shrinks, so a reader needs no grace period: it loads `next`
 * (acquire), and every entry below it, with the chunk that holds it, was
 * written before `next` was released.  Unlike GLib's quark array, which is
 * copied when it grows and leaks the old copy, nothing is ever copied.
 *
 * string -> ID: an open-addressing map from the string's address to its
 * ID, at most half full, probed linearly.  It grows by copying into an
 * array twice the size, published with a release store; the old array is
 * freed after an RCU grace period, so a reader that still probes it reads
 * valid memory, and finds any string the old array held.
 *
 * Writers (the first request for a string) take `ids.lock`.  Ordering,
 * for a new ID r: (1) the chunk entry is written; (2) `next` = r + 1 is
 * stored (release); (3) the map slot's ID, then its key (release).  A
 * reader that finds the key (acquire) sees (1) and (2), so intern_id_str()
 * of the ID it got returns the string.
 */
#include <errno.h>

#include "alloc.h"
#include "intern-private.h"
#include "rcu.h"
#include "snapshot.h"

#define CHUNK0_BITS 6

struct idslot {
	const struct intern_str *s; /* NULL: empty */
	uint32_t id;
};

struct intern__idmap {
	struct rcu_head rcu;
	uint32_t mask;
	uint32_t used;
	struct idslot slot[];
};

/* Where relative ID r lives: chunk *k, entry *j. */
static void chunk_of(uint32_t r, unsigned *k, size_t *j)
{
	const uint64_t x = (uint64_t)r + (1u << CHUNK0_BITS);
	const unsigned hb = 63u - (unsigned)__builtin_clzll(x);

	*k = hb - CHUNK0_BITS;
	*j = (size_t)(x - (1ull << hb));
}

static uint32_t ptr_hash(const struct intern_str *s)
{
	return (uint32_t)((((uintptr_t)s >> 4) * 0x9e3779b97f4a7c15ull) >> 32);
}

/* s's ID in map `m`, or INTERN_ID_NONE.  The map is at most half full,
 * so the probe ends at an empty slot. */
static uint32_t map_find(const struct intern__idmap *m, const struct intern_str *s)
{
	for (uint32_t i = ptr_hash(s) & m->mask;; i = (i + 1) & m->mask) {
		/* Acquire: pairs with map_put's release; the ID, the chunk
		 * entry and `next` were written before. */
		const struct intern_str *k = __atomic_load_n(&m->slot[i].s, __ATOMIC_ACQUIRE);

		if (!k)
			return INTERN_ID_NONE;
		if (k == s)
			return __atomic_load_n(&m->slot[i].id, __ATOMIC_RELAXED);
	}
}

/* Put s -> id into `m`, which has room.  ID lock held. */
static void map_put(struct intern__idmap *m, const struct intern_str *s, uint32_t id)
{
	uint32_t i = ptr_hash(s) & m->mask;

	while (m->slot[i].s)
		i = (i + 1) & m->mask;
	__atomic_store_n(&m->slot[i].id, id, __ATOMIC_RELAXED);
	/* Release: a reader that sees the key sees its ID (and see above). */
	__atomic_store_n(&m->slot[i].s, s, __ATOMIC_RELEASE);
	m->used++;
}

static void map_free_cb(struct rcu_head *head)
{
	intern__free(caa_container_of(head, struct intern__idmap, rcu));
}

/* Make room for one more entry in ids->map: 0 or -ENOMEM.  ID lock held. */
static int map_reserve(struct intern__ids *ids)
{
	struct intern__idmap *old = ids->map, *m;
	uint32_t slots = old ? 2 * (old->mask + 1) : 64;

	if (old && 2 * (old->used + 1) <= old->mask + 1)
		return 0;
	m = intern__calloc(1, sizeof(*m) + (size_t)slots * sizeof(m->slot[0]));
	if (!m)
		return -ENOMEM;
	m->mask = slots - 1;
	for (uint32_t i = 0; old && i <= old->mask; i++)
		if (old->slot[i].s)
			map_put(m, old->slot[i].s, old->slot[i].id);
	/* Release: the copied entries are visible with the array. */
	__atomic_store_n(&ids->map, m, __ATOMIC_RELEASE);
	if (old)
		intern__call_rcu(&old->rcu, map_free_cb); /* readers may still probe it */
	return 0;
}

void intern__ids_init(struct intern_interp *interp)
{
	pthread_mutex_init(&interp->ids.lock, NULL);
	interp->ids.base = interp->snap ? interp->snap->count : 0;
}

void intern__ids_fini(struct intern_interp *interp)
{
	struct intern__ids *ids = &interp->ids;

	/* No reader is left (intern_interp_free's contract); old maps are on
	 * their way through call_rcu already. */
	for (unsigned k = 0; k < INTERN__ID_CHUNKS; k++)
		intern__free(ids->chunk[k]);
	intern__free(ids->map);
	pthread_mutex_destroy(&ids->lock);
}

/* Is `s` an immortal string of `interp` that may have an ID? */
static bool immortal_here(struct intern_interp *interp, const struct intern_str *s)
{
	if (!intern__str_sane(s) || intern__fixed(interp, intern__data(s), s->ob_len))
		return false; /* built-in singletons and other snapshots' strings */
	if (!intern__is_static(s))
		return intern__state(s) == INTERN_IMMORTAL &&
		       __atomic_load_n(&s->ob_owner, __ATOMIC_RELAXED) == interp->id;
	/* A static object: filed in this interpreter's table? */
	return intern__state(s) == INTERN_IMMORTAL_STATIC &&
	       intern__table_lookup(interp, intern__entry_hash(s), intern__data(s), s->ob_len) ==
		       s;
}

/* Give `s` the next ID, under the lock: the ID, or INTERN_ID_NONE with
 * errno. */
static uint32_t assign(struct intern__ids *ids, const struct intern_str *s)
{
	uint32_t r = ids->next, id;
	unsigned k;
	size_t j;
	int err = 0;

	id = ids->map ? map_find(ids->map, s) : INTERN_ID_NONE;
	if (id != INTERN_ID_NONE)
		return id; /* another thread was first */
	if ((uint64_t)ids->base + r >= INTERN_ID_NONE)
		err = EOVERFLOW;
	chunk_of(r, &k, &j);
	if (!err && !ids->chunk[k]) {
		ids->chunk[k] = intern__calloc((size_t)1 << (k + CHUNK0_BITS), sizeof(void *));
		if (!ids->chunk[k])
			err = ENOMEM;
	}
	if (!err && map_reserve(ids) < 0)
		err = ENOMEM;
	if (err) {
		errno = err;
		return INTERN_ID_NONE;
	}
	ids->chunk[k][j] = (struct intern_str *)s; /* (1) */
	__atomic_store_n(&ids->next, r + 1, __ATOMIC_RELEASE); /* (2) */
	map_put(ids->map, s, ids->base + r);                    /* (3) */
	return ids->base + r;
}

INTERN_API uint32_t intern_id_of(struct intern_interp *interp, const struct intern_str *s)
{
	const struct intern_snapshot *snap;
	const struct intern__idmap *m;
	uint32_t id = INTERN_ID_NONE;

	if (!intern__interp_ok(interp) || !s)
		goto invalid;
	snap = interp->snap;
	if (snap && intern__snap_holds(snap, s)) {
		/* A snapshot string's header holds its ID (docs/snapshot.md). */
		if (s->ob_hash < snap->count)
			return s->ob_hash;
		goto invalid; /* a trusted file that lies */
	}
	intern__read_lock();
	m = __atomic_load_n(&interp->ids.map, __ATOMIC_ACQUIRE);
	if (m)
		id = map_find(m, s);
	intern__read_unlock();
	if (id != INTERN_ID_NONE)
		return id;
	if (!immortal_here(interp, s))
		goto invalid;
	pthread_mutex_lock(&interp->ids.lock);
	id = assign(&interp->ids, s);
	pthread_mutex_unlock(&interp->ids.lock);
	return id;
invalid:
	errno = EINVAL;
	return INTERN_ID_NONE;
}

INTERN_API struct intern_str *intern_id_str(struct intern_interp *interp, uint32_t id)
{
	const struct intern_snapshot *snap;
	uint32_t r;
	unsigned k;
	size_t j;

	if (!intern__interp_ok(interp)) {
		errno = EINVAL;
		return NULL;
	}
	snap = interp->snap;
	if (snap && id < snap->count)
		return intern_snapshot_str(snap, id);
	r = id - interp->ids.base;
	/* Acquire: pairs with assign's (2); entry r and its chunk are there. */
	if (id < interp->ids.base || r >= __atomic_load_n(&interp->ids.next, __ATOMIC_ACQUIRE)) {
		errno = ENOENT;
		return NULL;
	}
	chunk_of(r, &k, &j);
	return interp->ids.chunk[k][j];
}

int intern__ids_each(struct intern_interp *interp,
		     int (*fn)(void *ctx, const struct intern_str *s), void *ctx)
{
	struct intern__ids *ids = &interp->ids;
	int rc = 0;

	pthread_mutex_lock(&ids->lock);
	for (uint32_t r = 0; r < ids->next && rc == 0; r++) {
		unsigned k;
		size_t j;

		chunk_of(r, &k, &j);
		rc = fn(ctx, ids->chunk[k][j]);
	}
	pthread_mutex_unlock(&ids->lock);
	return rc;
}
