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

#define INTERN__SLOT_EMPTY ((uintptr_t)0)
#define INTERN__SLOT_TOMB ((uintptr_t)1)
#define INTERN__SLOT_PTR_BITS 48
#define INTERN__SLOT_PTR_MASK ((((uintptr_t)1) << INTERN__SLOT_PTR_BITS) - 1)

/* A 16-bit tag mixed from all 32 hash bits, so entries that share a home
 * bucket (equal low bits) still differ in their tags. */
static inline uint16_t intern__tag_of(uint32_t hash)
{
	return (uint16_t)(((uint64_t)hash * 0x9e3779b97f4a7c15ULL) >> 48);
}

static inline uintptr_t intern__slot_make(const struct intern_str *s, uint16_t tag)
{
	return (uintptr_t)s | ((uintptr_t)tag << INTERN__SLOT_PTR_BITS);
}

static inline struct intern_str *intern__slot_str(uintptr_t v)
{
	return (struct intern_str *)(v & INTERN__SLOT_PTR_MASK);
}

static inline uint16_t intern__slot_tag(uintptr_t v)
{
	return (uint16_t)(v >> INTERN__SLOT_PTR_BITS);
}

static inline bool intern__slot_is_entry(uintptr_t v)
{
	return v > INTERN__SLOT_TOMB;
}

/* Equal bytes?  Identifiers are short: compare 8-byte words, the last one
 * overlapping (4-byte words under 8 bytes; under 4, the first, middle and
 * last byte, which are all of them), instead of calling memcmp. */
static inline bool intern__same_bytes(const struct intern_str *s, const char *data, size_t len)
{
	const char *a = intern__data(s);
	uint64_t x, y;

	uint32_t u, w;

	if (s->ob_len != len)
		return false;
	if (len < 4)
		return len == 0 || (a[0] == data[0] && a[len >> 1] == data[len >> 1] &&
				    a[len - 1] == data[len - 1]);
	if (len < 8) {
		/* The first and the last 4 bytes, overlapping: all of them. */
		memcpy(&u, a, 4);
		memcpy(&w, data, 4);
		if (u != w)
			return false;
		memcpy(&u, a + len - 4, 4);
		memcpy(&w, data + len - 4, 4);
		return u == w;
	}
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
static inline uint32_t intern__entry_hash(const struct intern_str *s)
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
static inline bool intern__ref_get_unless_zero(struct intern_str *s)
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
		if (__atomic_compare_exchange_n(&s->ob_refcnt, &c, c + 1, true, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return true;
		ck_backoff_eb(&backoff);
	}
}

/* A reference to an entry found by a reader: free for immortal and static
 * strings (nothing is written), get-unless-zero for mortal ones. */
static inline bool intern__take_ref(struct intern_str *s)
{
	if (intern__is_static(s) || intern__state(s) >= INTERN_IMMORTAL)
		return true;
#ifdef INTERN_BUSTED_REVIVE
	/* Broken on purpose: revives a string whose count reached 0. */
	__atomic_fetch_add(&s->ob_refcnt, 1, __ATOMIC_RELAXED);
	return true;
#else
	return intern__ref_get_unless_zero(s);
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

struct intern__slots {
	struct rcu_head rcu;
	uint32_t mask;  /* slots - 1 */
	uint32_t keyed; /* INTERN__HASH_PROCESS, _FAST or _SIP */
	uint64_t key[2];
	uintptr_t slot[];
};

/* The bucket hash of bytes in a keyed array (level 1 or 2). */
static inline uint32_t intern__keyed_hash(const struct intern__slots *a, const char *data,
					  size_t len)
{
	if (a->keyed == INTERN__HASH_FAST)
		return intern__hash_fast_keyed(a->key, data, len);
	return intern__hash_sip_keyed(a->key, data, len);
}

/* The bucket hash, in array `a`, of bytes whose process hash is `hash`. */
static inline uint32_t intern__bucket_hash(const struct intern__slots *a, uint32_t hash,
					   const char *data, size_t len)
{
	if (__builtin_expect(a->keyed != INTERN__HASH_PROCESS, 0))
		return intern__keyed_hash(a, data, len);
	return hash;
}

/* The bucket hash, in array `a`, of an entry. */
static inline uint32_t intern__entry_bucket_hash(const struct intern__slots *a,
						 const struct intern_str *s)
{
	if (a->keyed != INTERN__HASH_PROCESS)
		return intern__keyed_hash(a, intern__data(s), s->ob_len);
	return intern__entry_hash(s);
}

/* ------------------------------------------------------------------------
 * The probe
 *
 * Every walk over an array goes through these: the lock-free lookup below,
 * and in table.c the insert, the removal, the flood scan, the rebuild's
 * placement and the consistency check.  A probe visits the slots from the
 * home bucket of a bucket hash on, linearly and wrapping, each slot at most
 * once.  Everything is inline and the iterator is two integers, so a
 * compiler keeps it in registers: the lookup costs what a loop written for
 * it alone would.
 * ---------------------------------------------------------------------- */

#define INTERN__NOWHERE UINT32_MAX

struct intern__probe {
	uint32_t at;    /* the slot visited */
	uint32_t steps; /* slots visited before it */
};

/* Every slot of `a` in probe order from bucket hash `bh`'s home: the
 * body reads slot p.at, which is the p.steps-th after the home. */
#define INTERN__PROBE_EACH(p, a, bh)                                                 \
	for (struct intern__probe p = { (bh) & (a)->mask, 0 }; p.steps <= (a)->mask; \
	     p.at = (p.at + 1) & (a)->mask, p.steps++)

/* Slot i's value.  (A): pairs with the release store that published the
 * entry, so its length, bytes and state are visible to a reader.  Writers
 * hold the shard lock and need no more; the acquire costs them nothing on
 * x86-64 and little elsewhere. */
static inline uintptr_t intern__slot_load(const struct intern__slots *a, uint32_t i)
{
	return __atomic_load_n(&a->slot[i], __ATOMIC_ACQUIRE);
}

/* What a probe looks for: the entry that is `ident`, if not NULL (by
 * identity), else the entry with these bytes and tag. */
struct intern__key {
	const struct intern_str *ident;
	const char *data;
	size_t len;
	uint16_t tag;
};

/* What a probe for a key found. */
struct intern__found {
	uint32_t at;      /* the entry's slot, or INTERN__NOWHERE */
	uintptr_t v;      /* its slot value, or INTERN__SLOT_EMPTY */
	uint32_t free_at; /* the first tombstone or empty slot passed, or INTERN__NOWHERE */
	uint32_t probes;  /* slots visited before the one the probe stopped at */
};

/*
 * Probe `a` from `bh`'s home for key `k`, up to the first empty slot (no
 * entry can lie beyond it: insertion fills the first free slot of the
 * run).  At most one entry has given bytes in an array (R3 in table.c), so
 * the first match is the one.  Callers that do not use `free_at` or
 * `probes` do not pay for them: the function is inlined and the stores die.
 */
static inline __attribute__((always_inline)) struct intern__found
intern__probe_find(const struct intern__slots *a, uint32_t bh, const struct intern__key *k)
{
	struct intern__found f = { INTERN__NOWHERE, 0, INTERN__NOWHERE, a->mask + 1u };

	INTERN__PROBE_EACH (p, a, bh) {
		const uintptr_t v = intern__slot_load(a, p.at);

		if (v == INTERN__SLOT_EMPTY) {
			if (f.free_at == INTERN__NOWHERE)
				f.free_at = p.at;
			f.probes = p.steps;
			break;
		}
		if (v == INTERN__SLOT_TOMB) {
			if (f.free_at == INTERN__NOWHERE)
				f.free_at = p.at;
			continue;
		}
		/* Laid out for the hit: on a lookup that finds its string the
		 * first tag that matches is nearly always the string's. */
		if (__builtin_expect(k->ident ? intern__slot_str(v) != k->ident
					      : intern__slot_tag(v) != k->tag ||
							!intern__same_bytes(intern__slot_str(v),
									    k->data, k->len),
				     0))
			continue;
		f.at = p.at;
		f.v = v;
		f.probes = p.steps;
		break;
	}
	return f;
}

/* ------------------------------------------------------------------------
 * Lookup (lock-free)
 * ---------------------------------------------------------------------- */

static inline __attribute__((always_inline)) struct intern_str *
intern__table_lookup(const struct intern_interp *interp, uint32_t hash, const char *data,
		     size_t len)
{
	const struct intern__shard *sh = intern__shard_of(interp, hash);
	/* One TLS access for the section and the counters (rcu.h). */
	struct intern__thread *const me = intern__self_get();
	struct urcu_reader *const rd = intern__reader(me);
	struct intern_str *found = NULL;
	const struct intern__slots *a;

	intern__read_lock_on(rd);
	/* (B): pairs with the release store that published the array, its
	 * key included. */
	a = __atomic_load_n(&sh->slots, __ATOMIC_ACQUIRE);
	if (a) {
		/* Under the key of the array loaded: a reseed may publish
		 * another array meanwhile, and this one stays whole. */
		const uint32_t bh = intern__bucket_hash(a, hash, data, len);
		const struct intern__key k = { NULL, data, len, intern__tag_of(bh) };
		const struct intern__found f = intern__probe_find(a, bh, &k);

		/* A dying entry is absent (R1); no other entry can hold these
		 * bytes in this array (R3). */
		if (f.v != INTERN__SLOT_EMPTY && intern__take_ref(intern__slot_str(f.v)))
			found = intern__slot_str(f.v);
	}
	intern__read_unlock_on(rd);
	/* This thread's own counter: no shared write (stats.c). */
	intern__count_lookup(me, interp, found);
	return found;
}

#endif
