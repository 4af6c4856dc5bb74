/*
 * table.c: an interpreter's sharded dynamic table, and the mortal-removal
 * protocol.
 *
 * ========================================================================
 * Layout
 * ========================================================================
 *
 * The table is split into 2^k shards by the top k bits of the string's
 * 32-bit keyed hash (the process-wide key; within a shard the bucket and
 * the tag come from the same hash, or, once the shard has been reseeded
 * against a flood, from the hash under the array's own key: table.h).  A shard is an open-addressing array of 8-byte slots
 * with linear probing.  A slot is EMPTY (0), a TOMBSTONE (1), or a pointer
 * to a string with a 16-bit tag in its top 16 bits (x86-64 and AArch64 user
 * addresses fit in 48 bits; intern__table_intern checks).  The tag is a mix
 * of the hash, so a probe compares tags in the slot array and touches a
 * string only when its tag matches: the cache-miss case (docs/references.md, "slot
 * layout decides") costs one miss for the array and one for the string.
 *
 * Readers (lookups) take no lock: they run inside an RCU read-side section,
 * load the shard's array pointer with acquire, then load slots with acquire.
 * Writers (insert, remove, rebuild) hold the shard's mutex.  Writers store a
 * slot with release after the string is fully initialized, and publish a
 * rebuilt array with release; the array they replace is freed with
 * call_rcu, after every reader that could hold it has left.  There is no
 * global lock anywhere on the insert path; a mutex per shard, not a
 * spinlock, because a preempted spinlock holder stalls every spinner on an
 * oversubscribed machine (docs/references.md: 16 threads on 2 cores).
 *
 * The array grows (or is rebuilt in place of its tombstones) when live
 * entries plus tombstones would pass 3/4 of the slots, to twice the live
 * count; it shrinks when live entries fall below 1/8 of the slots.
 *
 * ========================================================================
 * The mortal-removal protocol
 * ========================================================================
 *
 * A MORTAL string is held by the table without a counted reference; when
 * its count reaches 0 it must leave the table while other threads may be
 * looking it up or inserting its bytes.  docs/design.md, "The
 * mortal-removal protocol", gives the full argument (why it is safe, every
 * interleaving); the code below cites its rules and orderings:
 *
 *  R1. Zero is terminal: lookups take references with get-unless-zero.
 *  R2. The killer (whose decrement reached 0) unlinks the string by
 *      identity under the shard lock, probing under the key of the array
 *      it finds there, and alone frees it.
 *  R3. A writer that finds a dying entry with its bytes replaces the slot
 *      in place; a rebuild drops dying entries.  Nobody waits for a death.
 *  R4. Memory is freed only after a grace period that starts after the
 *      unlink or replacement.
 *
 *  (A) slot store-release after the string's fields; load-acquire before
 *      reading them.  (B) array pointer store-release after the array is
 *      filled; load-acquire before probing.  (C) the final decrement is a
 *      release, and the killer's acquire fence orders it before the unlink
 *      and the free.  (D) unlink or replacement before call_rcu / the batch
 *      hand-off.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "hash.h"
#include "intern-private.h"
#include "rcu.h"

#include "table.h"

#define TABLE_MIN_SLOTS 8u
#define TABLE_SHRINK_MIN 64u

/* Statistics kept under the shard lock (intern-private.h): inserts and
 * removals, so that inserts - removals == live, which the check verifies. */
#ifndef INTERN_NO_STATS
#define SHARD_COUNT(sh, field, n) ((sh)->field += (n))
#else
#define SHARD_COUNT(sh, field, n) ((void)0)
#endif

/* ------------------------------------------------------------------------
 * Quotas (docs/design.md, "Quotas")
 *
 * An interpreter may limit its MORTAL entries and their bytes (len + 1
 * each).  The counts live in the interpreter (intern-private.h), one pair
 * for all shards, and change only when a limit is set, always under the
 * shard lock of the entry that enters or leaves the MORTAL state:
 *
 *   charged   a new MORTAL entry is published (insert);
 *   refunded  a MORTAL entry is unlinked by its killer (R2), dropped dying
 *             by a rebuild, replaced dying by a non-mortal entry (R3), or
 *             made IMMORTAL.  An R3 replacement by a new MORTAL entry has
 *             the same bytes: neither.
 *
 * Every MORTAL transition of an entry happens under its shard lock, so
 * with every shard lock held (intern_interp_check) the counts equal the
 * MORTAL entries in the table.  A charge reserves with a CAS loop that
 * gives up at the limit, before anything else changes, so the counts never
 * pass a limit and a refused insert leaves the candidate untouched.  No
 * global lock: one atomic RMW per limit per insert or removal, on a cache
 * line of its own, and none at all when no limit is set.
 * ---------------------------------------------------------------------- */

/* Reserve room for one MORTAL entry of `len` bytes: 0, or -ENOSPC with
 * nothing reserved.  The entries are reserved first; if the bytes then do
 * not fit, the entry is given back (another insert may be refused in that
 * window: near a limit a refusal may come one entry early, never late). */
static int quota_charge(struct intern_interp *interp, size_t len)
{
	const size_t max_n = interp->config.max_mortal;
	const size_t max_b = interp->config.max_mortal_bytes;
	const size_t cost = len + 1;
	size_t c;

	if (!interp->quota_on)
		return 0;
	c = __atomic_load_n(&interp->quota.entries, __ATOMIC_RELAXED);
	do {
		if (max_n && c >= max_n)
			return -ENOSPC;
	} while (!__atomic_compare_exchange_n(&interp->quota.entries, &c, c + 1, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	c = __atomic_load_n(&interp->quota.bytes, __ATOMIC_RELAXED);
	do {
		if (max_b && (cost > max_b || c > max_b - cost)) {
			__atomic_fetch_sub(&interp->quota.entries, 1, __ATOMIC_RELAXED);
			return -ENOSPC;
		}
	} while (!__atomic_compare_exchange_n(&interp->quota.bytes, &c, c + cost, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return 0;
}

/* Give back the room of a MORTAL entry of `len` bytes leaving that state. */
static void quota_refund(struct intern_interp *interp, size_t len)
{
	if (!interp->quota_on)
		return;
	__atomic_fetch_sub(&interp->quota.entries, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&interp->quota.bytes, len + 1, __ATOMIC_RELAXED);
}

/* A MORTAL entry whose count reached 0: its killer is on the way (R2). */
static inline bool is_dying(const struct intern_str *s)
{
	return !intern__is_static(s) && intern__state(s) == INTERN_MORTAL &&
	       __atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED) == 0;
}

/* ------------------------------------------------------------------------
 * Arrays
 * ---------------------------------------------------------------------- */

static struct intern__table *table_new(uint32_t nslots)
{
	struct intern__table *t =
		intern__calloc(1, sizeof(*t) + (size_t)nslots * sizeof(uintptr_t));

	if (t)
		t->mask = nslots - 1;
	return t;
}

static void table_free_cb(struct rcu_head *head)
{
	struct intern__table *t = caa_container_of(head, struct intern__table, rcu);

	/* After the grace period (every reader's section ended: the edge
	 * TSan cannot see), and after the writes of the writer that retired
	 * the array (retire's release: call_rcu's queue is invisible to
	 * TSan too). */
	INTERN_TSAN_ACQUIRE(&intern__tsan_grace);
	INTERN_TSAN_ACQUIRE(t);
	intern__free(t);
}

/* Free an array nobody can load any more (unpublished, shard lock held)
 * after a grace period.  The writes to it happened on this thread, the
 * free happens on liburcu's call_rcu thread: tell TSan they are ordered. */
static void retire(struct intern__table *t)
{
	INTERN_TSAN_RELEASE(t);
	intern__call_rcu(&t->rcu, table_free_cb);
}

/* Slots for `live` entries: the power of two that keeps load at most 1/2. */
static uint32_t slots_for(uint32_t live)
{
	uint32_t n = TABLE_MIN_SLOTS;

	while (n < 2 * (uint64_t)live + 2)
		n <<= 1;
	return n;
}

/* Place an entry known to be absent into a private (unpublished) array. */
static void place_private(struct intern__table *t, uint32_t hash, uintptr_t v)
{
	uint32_t i = hash & t->mask;

	while (t->slots[i] != SLOT_EMPTY)
		i = (i + 1) & t->mask;
	t->slots[i] = v;
}

/*
 * Replace the shard's array by a fresh one sized for its live entries plus
 * `extra`, dropping tombstones and dying entries (rule R3).  Shard lock held.
 * The new array is filled privately and then published with release (B), so
 * a reader sees either the old array or the complete new one.
 *
 * Whether an entry is dying is decided once per entry, while copying: a
 * count can reach 0 at any moment without the lock, so a separate counting
 * pass could disagree with the copy (the stress harness caught exactly that
 * drift).  The array is sized from sh->live, which counts dying entries too
 * and so is an upper bound.
 */
static int rebuild(struct intern_interp *interp, struct intern__shard *sh, uint32_t extra,
		   bool reseed)
{
	struct intern__table *old = sh->table, *t;
	uint32_t keep = 0;

	t = table_new(slots_for(sh->live + extra));
	if (!t)
		return -ENOMEM;
	/* The array's key: a fresh one for a reseed, one hash level up
	 * (the process hash, the fast hash under the fresh key, SipHash under
	 * it: "Flood defence"), else the old array's (entries keep their
	 * bucket hashes and their tags). */
	if (reseed) {
		t->keyed = old && old->keyed >= INTERN__HASH_FAST ? INTERN__HASH_SIP
								  : INTERN__HASH_FAST;
		intern__random_key(t->key);
	} else if (old) {
		t->keyed = old->keyed;
		t->key[0] = old->key[0];
		t->key[1] = old->key[1];
	}
	for (uint32_t i = 0; old && i <= old->mask; i++) {
		uintptr_t v = old->slots[i];
		struct intern_str *s;
		uint32_t bh;

		if (!slot_is_entry(v))
			continue;
		s = slot_str(v);
		if (is_dying(s)) {
			quota_refund(interp, s->ob_len); /* dropped */
			continue;
		}
		bh = entry_bucket_hash(t, s);
		place_private(t, bh, reseed ? slot_make(s, tag_of(bh)) : v);
		keep++;
	}
	SHARD_COUNT(sh, removals, sh->live - keep); /* the dying ones dropped */
	sh->live = keep;
	sh->used = keep;
	__atomic_store_n(&sh->table, t, __ATOMIC_RELEASE);
	if (old)
		retire(old);
	return 0;
}

/* ------------------------------------------------------------------------
 * Flood defence (docs/design.md, "Online per-shard reseed")
 *
 * An attacker who knows or learns the process key can make many strings
 * share a bucket (equal low hash bits, and equal top bits for the shard):
 * every insert and lookup of them then walks one ever longer run of slots.
 * HotSpot answers a chain over 32 with one global switch to a seeded hash
 * at a safepoint.  Here each shard defends itself, online:
 *
 *  - Detection, under the shard lock, at insert: a probe longer than
 *    RESEED_PROBES slots is examined (flooded()).  Linear probing makes
 *    long runs by itself in a large, full table (a simulation of our
 *    policy: 0.05% of inserts probe more than 64 slots at 10^6 entries,
 *    the longest about 200 at 4 * 10^6), so length alone is not the signal:
 *    the run is a flood if RESEED_SAME of the entries on it have the new
 *    string's own home bucket (Poisson at load 3/4: never, ~1e-15 per
 *    bucket), or if it is longer than RESEED_LONG (a flood spread over
 *    neighbouring buckets).
 *  - Reseed: the shard's array is rebuilt, as for growth, into a new array
 *    with a fresh key from the OS (intern__random_key, independent of the
 *    process key), every entry placed and tagged by its hash under that
 *    key, dying entries dropped (R3), and published with release (B); the
 *    old array goes to call_rcu.  Readers never wait: one that loaded the
 *    old array hashes with the old array's key (the key is in the array,
 *    table.h), one that loads the new array with the new key.  No other
 *    shard is touched, and no global pause; the shard index stays the
 *    process-wide hash's.
 *  - Escalation (table.h, `keyed`): the first reseed moves the shard from
 *    the process hash (level 0) to the fast hash under the fresh key
 *    (level 1), which undoes anything learned or leaked about the process
 *    key.  A flood at level 1 means the fast hash itself is being beaten
 *    (a multicollision that holds whatever the key, or a key learned
 *    again): the next reseed moves to SipHash-1-3 under a fresh key
 *    (level 2), whose collisions cannot be found without the key.  It
 *    stays there.
 *  - Cost: a reseeded shard's lookups hash twice (the process hash picks
 *    the shard, the array's key the bucket), its rebuilds hash every entry.
 *    Escalating from level 1 is allowed at once; otherwise at most one
 *    reseed per doubling of the shard's entries, so nothing can make a
 *    shard reseed in a loop; none in a total-collision build, where no key
 *    helps.
 * ---------------------------------------------------------------------- */

#define RESEED_PROBES 64u /* a probe this long is examined */
#define RESEED_SAME 16u   /* entries of the new string's home bucket: a flood */
#define RESEED_SCAN 256u  /* slots examined at most */
#define RESEED_LONG 512u  /* a probe this long is a flood whatever its shape */

/* Benchmarks and tests of the undefended table set this (white box). */
int intern__reseed_disabled;

/* Is the run of `probes` slots from bh's home bucket in array `t` a flood?
 * Shard lock held. */
static bool flooded(const struct intern__shard *sh, const struct intern__table *t,
		    uint32_t bh, uint32_t probes)
{
	const uint32_t home = bh & t->mask;
	uint32_t same = 0;

#if INTERN_TEST_HASH != 0
	(void)sh, (void)t, (void)bh, (void)probes, (void)home, (void)same;
	return false;
#else
	if (__atomic_load_n(&intern__reseed_disabled, __ATOMIC_RELAXED))
		return false;
	/* Once per doubling of the shard, except the one step up to SipHash. */
	if (sh->reseeds && t->keyed != INTERN__HASH_FAST &&
	    sh->live < 2 * (uint64_t)sh->reseed_live)
		return false;
	if (probes > RESEED_LONG)
		return true;
	for (uint32_t i = home, n = 0; n < probes && n < RESEED_SCAN; i = (i + 1) & t->mask, n++) {
		uintptr_t v = t->slots[i];

		if (slot_is_entry(v) && (entry_bucket_hash(t, slot_str(v)) & t->mask) == home &&
		    ++same >= RESEED_SAME)
			return true;
	}
	return false;
#endif
}

/* Rebuild shard `k` (mod the shard count) now, under a fresh key if
 * `reseed`.  0 or -ENOMEM. */
static int force_rebuild(struct intern_interp *interp, unsigned k, bool reseed)
{
	struct intern__shard *sh = &interp->shards[k % interp->nshards];
	int rc = 0;

	pthread_mutex_lock(&sh->lock);
	if (sh->table) {
		rc = rebuild(interp, sh, 0, reseed);
		if (rc == 0 && reseed) {
			sh->reseeds++;
			sh->reseed_live = sh->live;
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return rc;
}

/* Reseed shard `k` now, as a detected flood would (white box: the fuzz
 * target uses it to run the model against keyed arrays).  0 or -ENOMEM. */
int intern__table_reseed(struct intern_interp *interp, unsigned k)
{
	return force_rebuild(interp, k, true);
}

/* Rebuild shard `k` now under its current key, as growth would (white
 * box: the stress harness's --rebuild-every).  0 or -ENOMEM. */
int intern__table_rebuild(struct intern_interp *interp, unsigned k)
{
	return force_rebuild(interp, k, false);
}

/* ------------------------------------------------------------------------
 * Insert (shard lock)
 * ---------------------------------------------------------------------- */

/* Claim `cand` for this interpreter and set the state it is published in. */
static int claim(struct intern_interp *interp, struct intern_str *cand, int state)
{
	if (state == INTERN_IMMORTAL_STATIC) {
		uint8_t expect = INTERN_NOT_INTERNED;

		/* A static already in state 3 is not touched at all: generated
		 * objects (intern_interp_add_statics) are born 3 in read-only
		 * memory, and a CAS is a write even when it fails (x86's LOCK
		 * CMPXCHG writes the old value back), so it would fault there.
		 * State 3 is final, so the plain load cannot be stale. */
		if (intern__state(cand) == INTERN_IMMORTAL_STATIC)
			return 0;
		/* Statics go 0 -> 3 once, whichever interpreter is first. */
		if (!__atomic_compare_exchange_n(&cand->ob_state, &expect,
						 INTERN_IMMORTAL_STATIC, false,
						 __ATOMIC_RELAXED, __ATOMIC_RELAXED) &&
		    expect != INTERN_IMMORTAL_STATIC)
			return -EINVAL;
		return 0;
	}
	{
		uint16_t none = 0;

		/* Another interpreter may be interning the same object right
		 * now: exactly one of us owns it, the other makes a copy. */
		if (!__atomic_compare_exchange_n(&cand->ob_owner, &none, interp->id, false,
						 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return -EAGAIN;
	}
	return 0;
}

/* Store a claimed candidate into slot `i`: rule (A). */
static void publish(struct intern__table *t, uint32_t i, struct intern_str *cand,
		    uint16_t tag, int state)
{
#ifdef INTERN_BUSTED_NO_PUBLISH_ORDER
	/* Broken on purpose: the entry is visible before its state is set,
	 * and with relaxed ordering. The yield widens the window. */
	__atomic_store_n(&t->slots[i], slot_make(cand, tag), __ATOMIC_RELAXED);
	sched_yield();
	if (state != INTERN_IMMORTAL_STATIC)
		__atomic_store_n(&cand->ob_state, (uint8_t)state, __ATOMIC_RELAXED);
#else
	if (state != INTERN_IMMORTAL_STATIC)
		__atomic_store_n(&cand->ob_state, (uint8_t)state, __ATOMIC_RELAXED);
	__atomic_store_n(&t->slots[i], slot_make(cand, tag), __ATOMIC_RELEASE);
#endif
}

struct intern_str *intern__table_intern(struct intern_interp *interp, uint32_t hash,
					struct intern_str *cand, int state, int *err)
{
	struct intern__shard *sh = intern__shard_of(interp, hash);
	const char *data = intern__data(cand);
	const size_t len = cand->ob_len;
	struct intern__table *t;
	uint32_t free_at = UINT32_MAX, dying_at = UINT32_MAX, probes = 0, bh = hash;
	uint16_t tag = 0;
	struct intern_str *result = NULL;
	bool charged = false, reseed;
	int rc;

	if ((uintptr_t)cand & ~SLOT_PTR_MASK)
		intern__die("table: string address %p does not fit a slot", (void *)cand);

	pthread_mutex_lock(&sh->lock);
	t = sh->table;
	if (t) {
		/* The bucket and the tag under this array's key (table.h). */
		bh = bucket_hash(t, hash, data, len);
		tag = tag_of(bh);
		for (uint32_t i = bh & t->mask, n = 0; n <= t->mask;
		     i = (i + 1) & t->mask, n++, probes = n) {
			uintptr_t v = t->slots[i];
			struct intern_str *s;

			if (v == SLOT_EMPTY) {
				if (free_at == UINT32_MAX)
					free_at = i;
				break;
			}
			if (v == SLOT_TOMB) {
				if (free_at == UINT32_MAX)
					free_at = i;
				continue;
			}
			if (slot_tag(v) != tag)
				continue;
			s = slot_str(v);
			if (!same_bytes(s, data, len))
				continue;
			if (intern__is_static(s) || intern__state(s) >= INTERN_IMMORTAL) {
				result = s;
			} else if (s == cand) {
				/* Another thread interning the same object published
				 * it first.  The caller's reference to `cand` is the
				 * reference it gets back: take none (a second one
				 * would never be dropped, and the string would never
				 * die).  The caller's reference keeps the count >= 1. */
				if (state == INTERN_IMMORTAL) {
					quota_refund(interp, s->ob_len);
					__atomic_store_n(&s->ob_state, INTERN_IMMORTAL,
							 __ATOMIC_RELEASE);
				}
				result = s;
			} else if (ref_get_unless_zero(s)) {
				/* We hold a counted reference, so the count is
				 * >= 1 while we change the state (rule d). */
				if (state == INTERN_IMMORTAL) {
					/* MORTAL -> IMMORTAL: its room is free. */
					quota_refund(interp, s->ob_len);
					__atomic_store_n(&s->ob_state, INTERN_IMMORTAL,
							 __ATOMIC_RELEASE);
				}
				result = s;
			} else {
				dying_at = i; /* rule R3 */
			}
			break;
		}
	}
	if (result)
		goto out;

	/* A new MORTAL entry needs room in the quotas (an R3 replacement
	 * takes over the dying entry's, which has the same bytes); reserved
	 * before anything changes, so a refusal leaves `cand` as it was. */
	if (dying_at == UINT32_MAX && state == INTERN_MORTAL) {
		rc = quota_charge(interp, len);
		if (rc < 0) {
			*err = rc;
			goto out;
		}
		charged = true;
	}
	/* Flood defence: a long probe that shows a collision attack makes
	 * this shard rehash under a fresh key of its own, online. */
	reseed = dying_at == UINT32_MAX && t && probes > RESEED_PROBES &&
		 flooded(sh, t, bh, probes);
	if (dying_at == UINT32_MAX &&
	    (reseed || !t || free_at == UINT32_MAX ||
	     ((uint64_t)sh->used + 1) * 4 > ((uint64_t)t->mask + 1) * 3)) {
		/* Make room before claiming, so that running out of memory
		 * leaves `cand` exactly as it was (a static's 0 -> 3 cannot
		 * be undone once another interpreter may have seen it). */
		if (rebuild(interp, sh, 1, reseed) < 0) {
			/* A reseed alone is not needed to insert. */
			if (!reseed || free_at == UINT32_MAX ||
			    ((uint64_t)sh->used + 1) * 4 > ((uint64_t)t->mask + 1) * 3) {
				*err = -ENOMEM;
				goto uncharge;
			}
		} else {
			if (reseed) {
				sh->reseeds++;
				sh->reseed_live = sh->live;
			}
			t = sh->table;
			bh = bucket_hash(t, hash, data, len);
			tag = tag_of(bh);
			free_at = bh & t->mask;
			while (t->slots[free_at] != SLOT_EMPTY)
				free_at = (free_at + 1) & t->mask;
		}
	}
	rc = claim(interp, cand, state);
	if (rc < 0) {
		*err = rc;
		goto uncharge;
	}
	if (dying_at != UINT32_MAX) {
		/* R3: the dying entry's killer will find no slot for it.  Its
		 * room passes to a MORTAL newcomer, else it is given back. */
		if (state != INTERN_MORTAL)
			quota_refund(interp, len);
		publish(t, dying_at, cand, tag, state);
		SHARD_COUNT(sh, inserts, 1);
		SHARD_COUNT(sh, removals, 1);
		result = cand;
		goto out;
	}
	if (t->slots[free_at] == SLOT_EMPTY)
		sh->used++;
	sh->live++;
	SHARD_COUNT(sh, inserts, 1);
	publish(t, free_at, cand, tag, state);
	result = cand;
	goto out;
uncharge:
	if (charged)
		quota_refund(interp, len);
out:
	pthread_mutex_unlock(&sh->lock);
	return result;
}

void intern__table_immortalize(struct intern_interp *interp, struct intern_str *s)
{
	struct intern__shard *sh = intern__shard_of(interp, s->ob_hash);

	/* The caller's counted reference keeps the count >= 1 (rule d); the
	 * lock orders the change with stats and teardown walks. */
	pthread_mutex_lock(&sh->lock);
	/* Two threads may both have seen MORTAL: refund once. */
	if (intern__state(s) == INTERN_MORTAL) {
		quota_refund(interp, s->ob_len);
		__atomic_store_n(&s->ob_state, INTERN_IMMORTAL, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&sh->lock);
}

/* ------------------------------------------------------------------------
 * Removal (the killer's side, rule R2)
 * ---------------------------------------------------------------------- */

void intern__table_remove(struct intern_interp *interp, struct intern_str *s)
{
	struct intern__shard *sh = intern__shard_of(interp, s->ob_hash);
	struct intern__table *t;

	pthread_mutex_lock(&sh->lock);
	t = sh->table;
	if (t && intern__state(s) == INTERN_MORTAL) {
		/* By identity, from the bucket of `s` under the key of the array
		 * found under the lock: a reseed since our decrement copied the
		 * entry under the new key, or dropped it dying (R3). */
		for (uint32_t i = entry_bucket_hash(t, s) & t->mask, n = 0; n <= t->mask;
		     i = (i + 1) & t->mask, n++) {
			uintptr_t v = t->slots[i];

			if (v == SLOT_EMPTY)
				break;
			if (!slot_is_entry(v))
				continue;
#ifdef INTERN_BUSTED_WRONG_REMOVE
			/* Broken on purpose: unlinks whatever entry has these
			 * bytes, possibly a newer canonical string (R2 says
			 * by identity). */
			if (!same_bytes(slot_str(v), intern__data(s), s->ob_len))
				continue;
#else
			if (slot_str(v) != s)
				continue;
#endif
			/* Readers that still load the old value only attempt
			 * get-unless-zero, which fails (R1). */
			__atomic_store_n(&t->slots[i], SLOT_TOMB, __ATOMIC_RELEASE);
			quota_refund(interp, s->ob_len);
			sh->live--;
			SHARD_COUNT(sh, removals, 1);
			break;
		}
		/* Give memory back after churn; failure keeps the old array. */
		if (t->mask + 1 > TABLE_SHRINK_MIN && (uint64_t)sh->live * 8 < t->mask + 1u)
			(void)rebuild(interp, sh, 0, false);
	}
	pthread_mutex_unlock(&sh->lock);
}

/* ------------------------------------------------------------------------
 * Teardown
 * ---------------------------------------------------------------------- */

/*
 * An immortal string leaves with its interpreter.  Its count froze when it
 * was immortalized (incref and decref are no-ops since): 1 is the
 * immortalizer's own reference, which the contract ends here, so the string
 * is freed.  More means that other holders had counted references then,
 * taken while it was mortal, and those references must stay valid
 * whatever another caller did.  Since immortalization nobody counted, so
 * we cannot know when the last of them goes: the string is kept for the
 * life of the process (NOT_INTERNED, its count saturated: pinned, str.c),
 * on intern__keep_forever()'s list.  The bound: one string for each that
 * was immortalized while another counted reference to it was held.
 * The count is pinned before the state changes (release), so a holder
 * whose decref sees NOT_INTERNED also sees the pinned count.
 */
static void sweep_immortal(struct intern_str *s)
{
	if (__atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED) <= 1) {
		intern__str_destroy(s); /* the table owned it */
		return;
	}
	__atomic_store_n(&s->ob_refcnt, INTERN__REF_SATURATED, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ob_state, INTERN_NOT_INTERNED, __ATOMIC_RELEASE);
	intern__keep_forever(s);
}

void intern__table_teardown(struct intern_interp *interp)
{
	/*
	 * Runs while the interpreter is still in the registry, one shard at a
	 * time under its lock.  A killer (rule R2) of one of its strings either
	 * reaches the shard lock after us and finds the string NOT_INTERNED (it
	 * then only frees it), or finds no interpreter at all once interp.c
	 * has unpublished it.  The read-side section keeps any string that a
	 * killer already queued for a deferred free valid while we look at it.
	 */
	intern__read_lock();
	for (unsigned k = 0; k < interp->nshards; k++) {
		struct intern__shard *sh = &interp->shards[k];
		struct intern__table *t;

		pthread_mutex_lock(&sh->lock);
		t = sh->table;
		for (uint32_t i = 0; t && i <= t->mask; i++) {
			uintptr_t v = t->slots[i];
			struct intern_str *s;
			uint8_t st = INTERN_MORTAL;

			if (!slot_is_entry(v))
				continue;
			s = slot_str(v);
			if (intern__is_static(s))
				continue;
			/* Mortal strings stay valid for their holders; the last
			 * decref sees NOT_INTERNED and frees at once (rule d).
			 * For a mortal string the CAS is our last access. */
			__atomic_store_n(&s->ob_owner, 0, __ATOMIC_RELAXED);
			if (__atomic_compare_exchange_n(&s->ob_state, &st, INTERN_NOT_INTERNED,
							false, __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
				continue;
			if (st == INTERN_IMMORTAL)
				sweep_immortal(s);
		}
		sh->table = NULL;
		sh->live = sh->used = 0;
		pthread_mutex_unlock(&sh->lock);
		if (t)
			retire(t);
	}
	intern__read_unlock();
}

/* ------------------------------------------------------------------------
 * Statistics and the consistency check
 * ---------------------------------------------------------------------- */

int intern_interp_stats(struct intern_interp *interp, struct intern_stats *st)
{
	size_t entries = 0, probes = 0;

	if (!intern__interp_ok(interp) || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->shards = interp->nshards;
	st->table_bytes = sizeof(*interp) + interp->nshards * sizeof(struct intern__shard);
	for (unsigned k = 0; k < interp->nshards; k++) {
		struct intern__shard *sh = &interp->shards[k];
		struct intern__table *t;

		pthread_mutex_lock(&sh->lock);
		t = sh->table;
		if (t) {
			st->slots += t->mask + 1u;
			st->table_bytes += sizeof(*t) + (t->mask + 1u) * sizeof(uintptr_t);
			for (uint32_t i = 0; i <= t->mask; i++) {
				uintptr_t v = t->slots[i];
				struct intern_str *s;
				size_t dist;

				if (v == SLOT_TOMB)
					st->tombstones++;
				if (!slot_is_entry(v))
					continue;
				s = slot_str(v);
				if (!intern__is_static(s) &&
				    intern__state(s) == INTERN_MORTAL) {
					st->quota_mortal++;
					st->quota_mortal_bytes += s->ob_len + 1u;
				}
				if (is_dying(s)) {
					st->dying++;
					continue;
				}
				switch (intern__state(s)) {
				case INTERN_MORTAL: st->mortal++; break;
				case INTERN_IMMORTAL: st->immortal++; break;
				default: st->immortal_static++; break;
				}
				st->string_bytes += s->ob_len + 1u;
				dist = ((i - (entry_bucket_hash(t, s) & t->mask)) & t->mask) + 1u;
				probes += dist;
				entries++;
				if (dist > st->max_probe)
					st->max_probe = dist;
			}
		}
		if (sh->live > st->max_shard_entries)
			st->max_shard_entries = sh->live;
		st->reseeds += sh->reseeds;
#ifndef INTERN_NO_STATS
		st->inserts += sh->inserts;
		st->removals += sh->removals;
#endif
		pthread_mutex_unlock(&sh->lock);
	}
	st->avg_probe = entries ? (double)probes / (double)entries : 0.0;
	{
		/* Per-thread counters, summed (stats.c). */
		struct intern__counts c = intern__stats_lookups(interp);

		st->hits = c.hits;
		st->misses = c.misses;
	}
	return 0;
}

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "libintern: check: " __VA_ARGS__); \
			fputc('\n', stderr);                               \
			bad++;                                             \
		}                                                          \
	} while (0)

/* Check shard k's array; add its MORTAL entries (dying ones included) and
 * their bytes to q[0] and q[1]. */
static unsigned check_shard(const struct intern_interp *interp, unsigned k,
			    const struct intern__table *t, const struct intern__shard *sh,
			    size_t q[2])
{
	unsigned bad = 0;
	uint32_t live = 0, used = 0;

	for (uint32_t i = 0; i <= t->mask; i++) {
		uintptr_t v = t->slots[i];
		const struct intern_str *s;
		uint32_t h, bh;
		uint8_t st;

		if (v != SLOT_EMPTY)
			used++;
		if (!slot_is_entry(v))
			continue;
		live++;
		s = slot_str(v);
		st = intern__state(s);
		h = entry_hash(s);         /* the process hash: the shard */
		bh = entry_bucket_hash(t, s); /* under the array's key: bucket, tag */
		CHECK(intern__data(s)[s->ob_len] == '\0', "shard %u slot %u: no NUL", k, i);
		/* I6: the built-in singletons' bytes never reach a table, so
		 * such an entry could never be found. */
		CHECK(!intern__builtin(intern__data(s), s->ob_len),
		      "shard %u slot %u: bytes of a built-in singleton", k, i);
		CHECK(slot_tag(v) == tag_of(bh), "shard %u slot %u: tag mismatch", k, i);
		CHECK(intern__shard_of(interp, h) == sh, "shard %u slot %u: wrong shard", k, i);
		if (intern__is_static(s)) {
			CHECK(st == INTERN_IMMORTAL_STATIC, "shard %u slot %u: static in state %u",
			      k, i, st);
		} else {
			if (st == INTERN_MORTAL) {
				q[0]++;
				q[1] += s->ob_len + 1u;
			}
			CHECK(st == INTERN_MORTAL || st == INTERN_IMMORTAL,
			      "shard %u slot %u: dynamic entry in state %u", k, i, st);
			CHECK(s->ob_owner == interp->id, "shard %u slot %u: owner %u, not %u", k,
			      i, s->ob_owner, interp->id);
			CHECK(s->ob_hash == intern__hash(intern__data(s), s->ob_len),
			      "shard %u slot %u: stale hash", k, i);
			CHECK(__atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED) !=
				      INTERN__POISON_REFCNT,
			      "shard %u slot %u: freed string in the table", k, i);
			CHECK(st != INTERN_IMMORTAL ||
				      __atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED) != 0,
			      "shard %u slot %u: immortal with count 0", k, i);
		}
		/* No duplicates: probing for these bytes from their home
		 * bucket must reach this very slot first. */
		for (uint32_t j = bh & t->mask;; j = (j + 1) & t->mask) {
			uintptr_t w = t->slots[j];

			if (w == v)
				break;
			if (w == SLOT_EMPTY) {
				CHECK(0, "shard %u slot %u: unreachable by probing", k, i);
				break;
			}
			if (slot_is_entry(w) &&
			    same_bytes(slot_str(w), intern__data(s), s->ob_len)) {
				CHECK(0, "shard %u slots %u and %u: equal bytes", k, j, i);
				break;
			}
		}
	}
	CHECK(live == sh->live, "shard %u: %u entries, counter says %u", k, live, sh->live);
	CHECK(used == sh->used, "shard %u: %u used slots, counter says %u", k, used, sh->used);
	CHECK((uint64_t)used * 4 <= ((uint64_t)t->mask + 1) * 3 + 4,
	      "shard %u: load %u/%u above 3/4", k, used, t->mask + 1);
	return bad;
}

int intern_interp_check(struct intern_interp *interp)
{
	unsigned bad = 0;
	size_t q[2] = { 0, 0 };
	bool all;

	if (!intern__interp_ok(interp))
		return -EINVAL;
	/* With quotas, every shard lock is held for the walk (in index order;
	 * no other path holds two), so the counts can be compared exactly. */
	all = interp->quota_on;
	for (unsigned k = 0; all && k < interp->nshards; k++)
		pthread_mutex_lock(&interp->shards[k].lock);
	for (unsigned k = 0; k < interp->nshards; k++) {
		struct intern__shard *sh = &interp->shards[k];

		if (!all)
			pthread_mutex_lock(&sh->lock);
		if (sh->table)
			bad += check_shard(interp, k, sh->table, sh, q);
		else
			CHECK(!sh->live && !sh->used, "shard %u: no array, counters %u/%u", k,
			      sh->live, sh->used);
#ifndef INTERN_NO_STATS
		CHECK(sh->inserts - sh->removals == sh->live,
		      "shard %u: %llu inserts - %llu removals != %u entries", k,
		      (unsigned long long)sh->inserts, (unsigned long long)sh->removals,
		      sh->live);
#endif
		if (!all)
			pthread_mutex_unlock(&sh->lock);
	}
	if (all) {
		size_t n = __atomic_load_n(&interp->quota.entries, __ATOMIC_RELAXED);
		size_t b = __atomic_load_n(&interp->quota.bytes, __ATOMIC_RELAXED);

		CHECK(n == q[0], "quota: %zu mortal entries counted, %zu in the table", n, q[0]);
		CHECK(b == q[1], "quota: %zu mortal bytes counted, %zu in the table", b, q[1]);
		CHECK(!interp->config.max_mortal || n <= interp->config.max_mortal,
		      "quota: %zu mortal entries, limit %zu", n, interp->config.max_mortal);
		CHECK(!interp->config.max_mortal_bytes || b <= interp->config.max_mortal_bytes,
		      "quota: %zu mortal bytes, limit %zu", b, interp->config.max_mortal_bytes);
		for (unsigned k = interp->nshards; k-- > 0;)
			pthread_mutex_unlock(&interp->shards[k].lock);
	}
	return bad ? -EUCLEAN : 0;
}
