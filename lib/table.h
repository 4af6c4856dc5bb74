/*
 * table.h: the reader side of the sharded table (lib/table.c), inline so that
 * a lookup hit makes no function call inside the library.  The slot format,
 * the layout and the protocol are described at the top of table.c.
 */
#ifndef INTERN_TABLE_H
#define INTERN_TABLE_H

#include <string.h>

#include <ck_backoff.h>

#include "hash.h"
#include "intern-private.h"
#include "rcu.h"

/* ------------------------------------------------------------------------
 * Slots
 * ---------------------------------------------------------------------- */

#define SLOT_EMPTY ((uintptr_t)0)
#define SLOT_TOMB ((uintptr_t)1)
#define SLOT_PTR_BITS 48
#define SLOT_PTR_MASK ((((uintptr_t)1) << SLOT_PTR_BITS) - 1)

/* A 16-bit tag mixed from all 32 hash bits, so entries that share a home
 * bucket (equal low bits) still differ in their tags. */
static inline uint16_t tag_of(uint32_t hash)
{
	return (uint16_t)(((uint64_t)hash * 0x9e3779b97f4a7c15ULL) >> 48);
}

static inline uintptr_t slot_make(const struct intern_str *s, uint16_t tag)
{
	return (uintptr_t)s | ((uintptr_t)tag << SLOT_PTR_BITS);
}

static inline struct intern_str *slot_str(uintptr_t v)
{
	return (struct intern_str *)(v & SLOT_PTR_MASK);
}

static inline uint16_t slot_tag(uintptr_t v)
{
	return (uint16_t)(v >> SLOT_PTR_BITS);
}

static inline bool slot_is_entry(uintptr_t v)
{
	return v > SLOT_TOMB;
}

/* Equal bytes?  Identifiers are short: compare 8-byte words, the last one
 * overlapping, instead of calling memcmp. */
static inline bool same_bytes(const struct intern_str *s, const char *data, size_t len)
{
	const char *a = intern__data(s);
	uint64_t x, y;

	if (s->ob_len != len)
		return false;
	if (len < 8)
		return memcmp(a, data, len) == 0;
	for (size_t i = 0; i + 8 < len; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, data + i, 8);
		if (x != y)
			return false;
	}
	memcpy(&x, a + len - 8, 8);
	memcpy(&y, data + len - 8, 8);
	return x == y;
}

/* The hash an entry was filed under.  Static strings are laid out by the
 * compiler, which cannot know the per-process key, so theirs is computed. */
static inline uint32_t entry_hash(const struct intern_str *s)
{
	if (intern__is_static(s))
		return intern__hash(intern__data(s), s->ob_len);
	return s->ob_hash;
}

/* ------------------------------------------------------------------------
 * References
 * ---------------------------------------------------------------------- */

/*
 * Rule R1: take a reference unless the count already reached 0.  Under a hot
 * mortal string every core retries this CAS; ConcurrencyKit's exponential
 * backoff spaces the retries so the cache line is not fought over.
 */
static inline bool ref_get_unless_zero(struct intern_str *s)
{
	uint32_t c = __atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED);
	ck_backoff_t backoff = CK_BACKOFF_INITIALIZER;

	for (;;) {
		if (c == 0)
			return false;
		/* Saturated (str.c): pinned, never freed, not counted. */
		if (__builtin_expect(c >= INTERN__REF_LIMIT, 0))
			return true;
		/* Relaxed: the bytes we go on to read are immutable and were
		 * published by the slot's release store; the count only needs
		 * atomicity against the killer's decrement (total order on
		 * one location). */
		if (__atomic_compare_exchange_n(&s->ob_refcnt, &c, c + 1, true,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
		ck_backoff_eb(&backoff);
	}
}

/* A reference to an entry found by a reader: free for immortal and static
 * strings (nothing is written), get-unless-zero for mortal ones. */
static inline bool take_ref(struct intern_str *s)
{
	if (intern__is_static(s) || intern__state(s) >= INTERN_IMMORTAL)
		return true;
#ifdef INTERN_BUSTED_REVIVE
	/* Broken on purpose: revives a string whose count reached 0. */
	__atomic_fetch_add(&s->ob_refcnt, 1, __ATOMIC_RELAXED);
	return true;
#else
	return ref_get_unless_zero(s);
#endif
}

/*
 * A shard's slot array.  Its entries sit at the bucket, and carry the tag,
 * of their *bucket hash*, chosen by the array's `keyed` level (table.c,
 * "Flood defence"): 0, the string's process-wide hash (ob_hash, the fast
 * hash under the process key); 1, after a reseed, the fast hash under the
 * array's own `key`; 2, after a flood at level 1, SipHash-1-3 under the
 * array's own key.  The key travels with the array, so a reader hashes
 * with the level and key of the array it loaded, whichever that is; the
 * shard is always chosen by the process-wide hash.
 */
enum {
	INTERN__HASH_PROCESS = 0, /* ob_hash */
	INTERN__HASH_FAST = 1,    /* fast hash under key */
	INTERN__HASH_SIP = 2      /* SipHash-1-3 under key */
};

struct intern__table {
	struct rcu_head rcu;
	uint32_t mask;   /* slots - 1 */
	uint32_t keyed;  /* INTERN__HASH_PROCESS, _FAST or _SIP */
	uint64_t key[2];
	uintptr_t slots[];
};

/* The bucket hash of bytes in a keyed array (level 1 or 2). */
static inline uint32_t keyed_hash(const struct intern__table *t, const char *data, size_t len)
{
	if (t->keyed == INTERN__HASH_FAST)
		return intern__hash_fast_keyed(t->key, data, len);
	return intern__hash_sip_keyed(t->key, data, len);
}

/* The bucket hash, in array `t`, of bytes whose process hash is `hash`. */
static inline uint32_t bucket_hash(const struct intern__table *t, uint32_t hash,
				   const char *data, size_t len)
{
	if (__builtin_expect(t->keyed != INTERN__HASH_PROCESS, 0))
		return keyed_hash(t, data, len);
	return hash;
}

/* The bucket hash, in array `t`, of an entry. */
static inline uint32_t entry_bucket_hash(const struct intern__table *t,
					 const struct intern_str *s)
{
	if (t->keyed != INTERN__HASH_PROCESS)
		return keyed_hash(t, intern__data(s), s->ob_len);
	return entry_hash(s);
}

/* ------------------------------------------------------------------------
 * Lookup (lock-free)
 * ---------------------------------------------------------------------- */

static inline __attribute__((always_inline)) struct intern_str *
intern__table_lookup(const struct intern_interp *interp, uint32_t hash, const char *data,
		     size_t len)
{
	const struct intern__shard *sh = intern__shard_of(interp, hash);
	struct intern_str *found = NULL;
	const struct intern__table *t;

	intern__read_lock();
	/* (B): pairs with the release store that published the array, its
	 * key included. */
	t = __atomic_load_n(&sh->table, __ATOMIC_ACQUIRE);
	if (t) {
		/* Under the key of the array loaded: a reseed may publish
		 * another array meanwhile, and this one stays whole. */
		const uint32_t bh = bucket_hash(t, hash, data, len);
		const uint16_t tag = tag_of(bh);

		for (uint32_t i = bh & t->mask, n = 0; n <= t->mask;
		     i = (i + 1) & t->mask, n++) {
			/* (A): pairs with the release store that published the
			 * entry, so its length, bytes and state are visible. */
			uintptr_t v = __atomic_load_n(&t->slots[i], __ATOMIC_ACQUIRE);
			struct intern_str *s;

			if (v == SLOT_EMPTY)
				break;
			if (v == SLOT_TOMB || slot_tag(v) != tag)
				continue;
			s = slot_str(v);
			if (!same_bytes(s, data, len))
				continue;
			if (take_ref(s))
				found = s;
			/* A dying entry is absent (R1); no other entry can hold
			 * these bytes in this array (R3). */
			break;
		}
	}
	intern__read_unlock();
	/* This thread's own counter: no shared write (stats.c). */
	intern__count_lookup(interp, found);
	return found;
}

#endif
