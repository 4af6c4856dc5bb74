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
 * addresses fit in 48 bits; intern__table_intern checks).  Every operation
 * walks an array with the one probe of table.h.  The tag is a mix
 * of the hash, so a probe compares tags in the slot array and touches a
 * string only when its tag matches: the cache-miss case (docs/references.md, "slot
 * layout decides") costs one miss for the array and one for the string.
 *
 * Readers (lookups) take no lock: they run inside an RCU read-side section,
 * load the shard's array pointer with acquire, then load slots with acquire.
 * Writers (insert, remove, rebuild) hold the shard's mutex (asserted where
 * a function requires it: "The shard lock" below).  Writers store a
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
 *      unlink or replacement: the killer's thread frees it (rcu.c).
 *  R5. A closed batch of dead strings takes a ticket, the count of grace
 *      periods asked for, after its unlinks; it is freed once a grace
 *      period numbered above the ticket has ended (rcu.c, "Tickets").
 *  E1. An unlinked slot followed by an empty one becomes empty, and so do
 *      the tombstones just before it (unlink_slot()).
 *
 *  (A) slot store-release after the string's fields; load-acquire before
 *      reading them.  (B) array pointer store-release after the array is
 *      filled; load-acquire before probing.  (C) the final decrement is a
 *      release, and the killer's acquire fence orders it before the unlink
 *      and the free.  (D) unlink or replacement before the batch's ticket
 *      (a sequentially consistent fence between them).
 */
#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "hash.h"
#include "intern-private.h"
#include "rcu.h"

#include "snapshot.h"
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
 * The shard lock
 *
 * "Shard lock held" is a precondition of most of this file.  A build with
 * assertions records the holder (the address of a thread-local object names
 * the thread) after locking and clears it before unlocking, and asserts the
 * precondition where it is stated, as liburcu does with its mutex asserts.
 * ---------------------------------------------------------------------- */

#ifndef NDEBUG
static __thread char this_thread;
#endif

static void shard_lock(struct intern__shard *sh)
{
	pthread_mutex_lock(&sh->lock);
#ifndef NDEBUG
	sh->holder = &this_thread;
#endif
}

static void shard_unlock(struct intern__shard *sh)
{
#ifndef NDEBUG
	assert(sh->holder == &this_thread);
	sh->holder = NULL;
#endif
	pthread_mutex_unlock(&sh->lock);
}

/* Only the holder compares equal, so reading `holder` without the lock is
 * a race only in a caller that breaks the precondition. */
#define assert_shard_held(sh) assert((sh)->holder == &this_thread)

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

/* MORTAL -> IMMORTAL for `s`, whose count the caller keeps >= 1 with a
 * reference (rule d); a no-op in any other state, so that two threads
 * that both saw MORTAL refund its room once.  Shard lock held: the lock
 * orders the change with the quotas, stats and teardown walks. */
static void immortalize(struct intern_interp *interp, struct intern__shard *sh,
			struct intern_str *s)
{
	assert_shard_held(sh);
	if (intern__state(s) != INTERN_MORTAL)
		return;
	quota_refund(interp, s->ob_len);
	__atomic_store_n(&s->ob_state, INTERN_IMMORTAL, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------------
 * Arrays
 * ---------------------------------------------------------------------- */

static struct intern__slots *slots_new(uint32_t nslots)
{
	struct intern__slots *a = intern__calloc(1,
						 sizeof(*a) + (size_t)nslots * sizeof(uintptr_t));

	if (a)
		a->mask = nslots - 1;
	return a;
}

static void slots_free_cb(struct rcu_head *head)
{
	struct intern__slots *a = caa_container_of(head, struct intern__slots, rcu);

	/* After the grace period (every reader's section ended: the edge
	 * TSan cannot see), and after the writes of the writer that retired
	 * the array (retire's release: call_rcu's queue is invisible to
	 * TSan too). */
	INTERN_TSAN_ACQUIRE(&intern__tsan_grace);
	INTERN_TSAN_ACQUIRE(a);
	intern__free(a);
}

/* Free an array nobody can load any more (unpublished, shard lock held)
 * after a grace period.  The writes to it happened on this thread, the
 * free happens on liburcu's call_rcu thread: tell TSan they are ordered. */
static void retire(struct intern__slots *a)
{
	INTERN_TSAN_RELEASE(a);
	intern__call_rcu(&a->rcu, slots_free_cb);
}

/* Slots for `live` entries: the power of two that keeps load at most 1/2. */
static uint32_t slots_for(uint32_t live)
{
	uint32_t n = TABLE_MIN_SLOTS;

	while (n < 2 * (uint64_t)live + 2)
		n <<= 1;
	return n;
}

/* Would one more used slot pass 3/4 of shard `sh`'s array `a`? */
static bool too_full(const struct intern__shard *sh, const struct intern__slots *a)
{
	return ((uint64_t)sh->used + 1) * 4 > ((uint64_t)a->mask + 1) * 3;
}

/* Place `s`, known to be absent, into a private (unpublished) array under
 * the array's key.  A private array has no tombstones, so the probe's first
 * free slot is the end of the run. */
static void place_private(struct intern__slots *a, struct intern_str *s)
{
	const uint32_t bh = intern__entry_bucket_hash(a, s);
	const struct intern__key k = { .ident = s };

	a->slot[intern__probe_find(a, bh, &k).free_at] = intern__slot_make(s, intern__tag_of(bh));
}

/* The key of a rebuilt array: a fresh one for a reseed, one hash level up
 * (the process hash, the fast hash under the fresh key, SipHash under it:
 * "Flood defence"), else the old array's (entries keep their bucket hashes
 * and their tags). */
static void inherit_key(struct intern__slots *a, const struct intern__slots *old, bool reseed)
{
	if (reseed) {
		a->keyed = old && old->keyed >= INTERN__HASH_FAST ? INTERN__HASH_SIP
								  : INTERN__HASH_FAST;
		intern__random_key(a->key);
	} else if (old) {
		a->keyed = old->keyed;
		a->key[0] = old->key[0];
		a->key[1] = old->key[1];
	}
}

/*
 * Replace the shard's array by a fresh one sized for its live entries plus
 * `extra`, dropping tombstones and dying entries (rule R3), under a fresh
 * key if `reseed` (and then counting the reseed).  Shard lock held.  The new
 * array is filled privately and then published with release (B), so a
 * reader sees either the old array or the complete new one.  0, or -ENOMEM
 * with the shard as it was.
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
	struct intern__slots *old = sh->slots, *a;
	uint32_t keep = 0;

	assert_shard_held(sh);
	a = slots_new(slots_for(sh->live + extra));
	if (!a)
		return -ENOMEM;
	inherit_key(a, old, reseed);
	for (uint32_t i = 0; old && i <= old->mask; i++) {
		uintptr_t v = old->slot[i];

		if (!intern__slot_is_entry(v))
			continue;
		if (is_dying(intern__slot_str(v))) {
			quota_refund(interp, intern__slot_str(v)->ob_len); /* dropped */
			continue;
		}
		place_private(a, intern__slot_str(v));
		keep++;
	}
	SHARD_COUNT(sh, removals, sh->live - keep); /* the dying ones dropped */
	sh->live = keep;
	sh->used = keep;
	if (reseed) {
		sh->reseeds++;
		sh->reseed_live = keep;
	}
	__atomic_store_n(&sh->slots, a, __ATOMIC_RELEASE);
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
 *    with a fresh key from the OS (intern__random_key: independent of the
 *    process key unless getrandom fails, hash.c), every entry placed and tagged by its hash under that
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

/* Is the run of `probes` slots from bh's home bucket in array `a` a flood?
 * Shard lock held. */
static bool flooded(const struct intern__shard *sh, const struct intern__slots *a, uint32_t bh,
		    uint32_t probes)
{
	const uint32_t home = bh & a->mask;
	uint32_t same = 0;

	assert_shard_held(sh);
#if INTERN_TEST_HASH != 0
	(void)sh, (void)a, (void)bh, (void)probes, (void)home, (void)same;
	return false;
#else
	if (__atomic_load_n(&intern__reseed_disabled, __ATOMIC_RELAXED))
		return false;
	/* Once per doubling of the shard, except the one step up to SipHash. */
	if (sh->reseeds && a->keyed != INTERN__HASH_FAST &&
	    sh->live < 2 * (uint64_t)sh->reseed_live)
		return false;
	if (probes > RESEED_LONG)
		return true;
	INTERN__PROBE_EACH (p, a, bh) {
		uintptr_t v;

		if (p.steps >= probes || p.steps >= RESEED_SCAN)
			break;
		v = intern__slot_load(a, p.at);
		if (intern__slot_is_entry(v) &&
		    (intern__entry_bucket_hash(a, intern__slot_str(v)) & a->mask) == home &&
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

	shard_lock(sh);
	if (sh->slots)
		rc = rebuild(interp, sh, 0, reseed);
	shard_unlock(sh);
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
 *
 * Three steps: find the position (the probe for the candidate's bytes in
 * the shard's array), make room (rebuild the array when it is missing, too
 * full or flooded, before anything else changes, so that running out of
 * memory leaves the candidate as it was), and commit (claim the candidate,
 * publish it, count it).
 * ---------------------------------------------------------------------- */

/* Where an insert stands: the shard's array and what the probe for the
 * candidate's bytes found in it. */
struct place {
	struct intern__slots *a; /* NULL: the shard has no array yet */
	uint32_t bh;             /* the candidate's bucket hash in `a` */
	uint16_t tag;
	struct intern__found f;
};

/* Probe shard `sh`'s current array for the bytes of `cand`, whose process
 * hash is `hash`.  Shard lock held. */
static struct place find_place(struct intern__shard *sh, uint32_t hash,
			       const struct intern_str *cand)
{
	struct place p = { .a = sh->slots, .bh = hash };
	struct intern__key k = { NULL, intern__data(cand), cand->ob_len, 0 };

	assert_shard_held(sh);
	p.f = (struct intern__found){ INTERN__NOWHERE, 0, INTERN__NOWHERE, 0 };
	if (!p.a)
		return p;
	/* The bucket and the tag under this array's key (table.h). */
	p.bh = intern__bucket_hash(p.a, hash, k.data, k.len);
	p.tag = k.tag = intern__tag_of(p.bh);
	p.f = intern__probe_find(p.a, p.bh, &k);
	return p;
}

/* The probe found `s` with the bytes of `cand`: take a reference to it for
 * the caller and make it immortal if `state` asks (true), or leave it to
 * its killer, it is dying (false: rule R3).  Shard lock held. */
static bool take_existing(struct intern_interp *interp, struct intern__shard *sh,
			  struct intern_str *s, const struct intern_str *cand, int state)
{
	if (intern__is_static(s) || intern__state(s) >= INTERN_IMMORTAL)
		return true;
	/* s == cand: another thread interning the same object published it
	 * first.  The caller's reference to `cand` is the reference it gets
	 * back: take none (a second one would never be dropped, and the
	 * string would never die); the caller's keeps the count >= 1.  Else
	 * the counted reference we take keeps it >= 1 (rule d). */
	if (s != cand && !intern__ref_get_unless_zero(s))
		return false;
	if (state == INTERN_IMMORTAL)
		immortalize(interp, sh, s);
	return true;
}

/* Claim dynamic `cand` for this interpreter.  A static one needs no claim:
 * it is born IMMORTAL_STATIC, possibly in read-only memory, and nothing
 * here writes it (a CAS is a write even when it fails: x86's LOCK CMPXCHG
 * writes the old value back, so it would fault there). */
static int claim(struct intern_interp *interp, struct intern_str *cand, int state)
{
	uint16_t none = 0;

	if (state == INTERN_IMMORTAL_STATIC)
		return 0;
	/* A string intern.c allocated for this insert is born owned: nobody
	 * else has seen it, and no other string carries this interpreter's
	 * id while NOT_INTERNED (teardown clears the owner of every entry). */
	if (__atomic_load_n(&cand->ob_owner, __ATOMIC_RELAXED) == interp->id)
		return 0;
	/* Another interpreter may be interning the same object right now:
	 * exactly one of us owns it, the other makes a copy. */
	if (!__atomic_compare_exchange_n(&cand->ob_owner, &none, interp->id, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return -EAGAIN;
	return 0;
}

/* Store a claimed candidate into slot `i`: rule (A). */
static void publish(struct intern__slots *a, uint32_t i, struct intern_str *cand, uint16_t tag,
		    int state)
{
#ifdef INTERN_BUSTED_NO_PUBLISH_ORDER
	/* Broken on purpose: the entry is visible before its state is set,
	 * and with relaxed ordering. The yield widens the window. */
	__atomic_store_n(&a->slot[i], intern__slot_make(cand, tag), __ATOMIC_RELAXED);
	sched_yield();
	if (state != INTERN_IMMORTAL_STATIC)
		__atomic_store_n(&cand->ob_state, (uint8_t)state, __ATOMIC_RELAXED);
#else
	if (state != INTERN_IMMORTAL_STATIC)
		__atomic_store_n(&cand->ob_state, (uint8_t)state, __ATOMIC_RELAXED);
	__atomic_store_n(&a->slot[i], intern__slot_make(cand, tag), __ATOMIC_RELEASE);
#endif
}

/* R3: `cand` takes the slot of the dying entry with its bytes, whose
 * killer will then find no slot for it.  The dying entry's quota room
 * passes to a MORTAL newcomer, else it is given back. */
static int replace_dying(struct intern_interp *interp, struct intern__shard *sh,
			 const struct place *p, struct intern_str *cand, int state)
{
	int rc = claim(interp, cand, state);

	if (rc < 0)
		return rc;
	if (state != INTERN_MORTAL)
		quota_refund(interp, cand->ob_len);
	publish(p->a, p->f.at, cand, p->tag, state);
	SHARD_COUNT(sh, inserts, 1);
	SHARD_COUNT(sh, removals, 1);
	return 0;
}

/* Make sure p->f.free_at is a slot the candidate may take without passing
 * 3/4 of the array: rebuild the array when it is missing, too full, or
 * flooded (then under a fresh key of its own, online: "Flood defence"), and
 * probe again.  0 or -ENOMEM, the candidate untouched either way. */
static int make_room(struct intern_interp *interp, struct intern__shard *sh, uint32_t hash,
		     const struct intern_str *cand, struct place *p)
{
	const bool room = p->a && p->f.free_at != INTERN__NOWHERE && !too_full(sh, p->a);
	const bool reseed = p->a && p->f.probes > RESEED_PROBES &&
			    flooded(sh, p->a, p->bh, p->f.probes);

	if (room && !reseed)
		return 0;
	if (rebuild(interp, sh, 1, reseed) < 0)
		return room ? 0 : -ENOMEM; /* a reseed alone is not needed to insert */
	*p = find_place(sh, hash, cand);
	return 0;
}

/* Claim `cand`, publish it in the free slot make_room() left, and count it. */
static int insert_new(struct intern_interp *interp, struct intern__shard *sh, const struct place *p,
		      struct intern_str *cand, int state)
{
	int rc = claim(interp, cand, state);

	if (rc < 0)
		return rc;
	if (p->a->slot[p->f.free_at] == INTERN__SLOT_EMPTY)
		sh->used++;
	sh->live++;
	SHARD_COUNT(sh, inserts, 1);
	publish(p->a, p->f.free_at, cand, p->tag, state);
	return 0;
}

/* intern__table_intern() with shard `sh` locked. */
static int intern_locked(struct intern_interp *interp, struct intern__shard *sh, uint32_t hash,
			 struct intern_str *cand, int state, struct intern_str **out)
{
	struct place p = find_place(sh, hash, cand);
	int rc;

	if (p.f.at != INTERN__NOWHERE) {
		struct intern_str *s = intern__slot_str(p.f.v);

		if (!take_existing(interp, sh, s, cand, state)) {
			rc = replace_dying(interp, sh, &p, cand, state);
			s = cand;
		} else {
			rc = 0;
		}
		if (rc == 0)
			*out = s;
		return rc;
	}
	/* A new MORTAL entry needs room in the quotas (an R3 replacement
	 * takes over the dying entry's, which has the same bytes); reserved
	 * before anything changes, so a refusal leaves `cand` as it was. */
	if (state == INTERN_MORTAL) {
		rc = quota_charge(interp, cand->ob_len);
		if (rc < 0)
			return rc;
	}
	rc = make_room(interp, sh, hash, cand, &p);
	if (rc == 0)
		rc = insert_new(interp, sh, &p, cand, state);
	if (rc < 0 && state == INTERN_MORTAL)
		quota_refund(interp, cand->ob_len);
	if (rc == 0)
		*out = cand;
	return rc;
}

int intern__table_intern(struct intern_interp *interp, uint32_t hash, struct intern_str *cand,
			 int state, struct intern_str **out)
{
	struct intern__shard *sh = intern__shard_of(interp, hash);
	int rc;

	if ((uintptr_t)cand & ~INTERN__SLOT_PTR_MASK)
		intern__die("table: string address %p does not fit a slot", (void *)cand);
	shard_lock(sh);
	rc = intern_locked(interp, sh, hash, cand, state, out);
	shard_unlock(sh);
	return rc;
}

void intern__table_immortalize(struct intern_interp *interp, struct intern_str *s)
{
	struct intern__shard *sh = intern__shard_of(interp, s->ob_hash);

	shard_lock(sh);
	immortalize(interp, sh, s);
	shard_unlock(sh);
}

/* ------------------------------------------------------------------------
 * Removal (the killer's side, rule R2)
 * ---------------------------------------------------------------------- */

/* The probe key that finds the entry the killer of `s` unlinks. */
static struct intern__key removal_key(const struct intern_str *s)
{
#ifdef INTERN_BUSTED_WRONG_REMOVE
	/* Broken on purpose: unlinks whatever entry has these bytes,
	 * possibly a newer canonical string (R2 says by identity). */
	return (struct intern__key){ NULL, intern__data(s), s->ob_len, 0 };
#else
	return (struct intern__key){ .ident = s };
#endif
}

/*
 * Empty slot `at` of shard `sh`'s array `a`, which holds the entry being
 * removed.  A tombstone keeps the probes that pass it going; but when the
 * next slot is empty no probe needs to pass it: an entry lies before the
 * first empty slot from its home (insertion fills the first free slot of
 * a run), so none lies beyond `at` on a probe that reaches `at`.  The slot
 * is then emptied, and so are the tombstones just before it, by the same
 * argument, one at a time backwards.  A lock-free reader that meets such
 * an empty slot stops there, which is where its key could no longer be
 * found.  Churn then leaves no tombstones to rebuild away (E1 in
 * docs/design.md).  Shard lock held.
 */
static void unlink_slot(struct intern__shard *sh, struct intern__slots *a, uint32_t at)
{
	assert_shard_held(sh);
#ifndef INTERN_BUSTED_EMPTY_UNLINK
	if (a->slot[(at + 1) & a->mask] != INTERN__SLOT_EMPTY) {
		__atomic_store_n(&a->slot[at], INTERN__SLOT_TOMB, __ATOMIC_RELEASE);
		return;
	}
#endif
	do {
		__atomic_store_n(&a->slot[at], INTERN__SLOT_EMPTY, __ATOMIC_RELEASE);
		sh->used--;
		at = (at - 1) & a->mask;
	} while (a->slot[at] == INTERN__SLOT_TOMB);
}

void intern__table_remove(struct intern_interp *interp, struct intern_str *s)
{
	struct intern__shard *sh = intern__shard_of(interp, s->ob_hash);
	struct intern__slots *a;

	shard_lock(sh);
	a = sh->slots;
	if (a && intern__state(s) == INTERN_MORTAL) {
		/* By identity, from the bucket of `s` under the key of the array
		 * found under the lock: a reseed since our decrement copied the
		 * entry under the new key, or dropped it dying (R3). */
		const uint32_t bh = intern__entry_bucket_hash(a, s);
		struct intern__key k = removal_key(s);
		uint32_t at;

		k.tag = intern__tag_of(bh);
		at = intern__probe_find(a, bh, &k).at;
		if (at != INTERN__NOWHERE) {
			/* Readers that still load the old value only attempt
			 * get-unless-zero, which fails (R1). */
			unlink_slot(sh, a, at);
			quota_refund(interp, s->ob_len);
			sh->live--;
			SHARD_COUNT(sh, removals, 1);
		}
		/* Give memory back after churn; failure keeps the old array. */
		if (a->mask + 1 > TABLE_SHRINK_MIN && (uint64_t)sh->live * 8 < a->mask + 1u)
			(void)rebuild(interp, sh, 0, false);
	}
	shard_unlock(sh);
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
	/* Acquire: a holder's last decrement (a release, made while it still
	 * saw the string mortal) and its reads of the string happen before
	 * the free below. */
	uint32_t c = __atomic_load_n(&s->ob_refcnt, __ATOMIC_ACQUIRE);

	if (c <= 1) {
		intern__str_destroy(s); /* the table owned it */
		return;
	}
	__atomic_store_n(&s->ob_refcnt, INTERN__REF_SATURATED, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ob_state, INTERN_NOT_INTERNED, __ATOMIC_RELEASE);
	/* Pinned already: kept by an earlier teardown (and interned again
	 * since), or saturated.  Listed once at most, so the list is bounded
	 * by the strings, not by the teardowns. */
	if (c < INTERN__REF_LIMIT)
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
		struct intern__slots *a;

		shard_lock(sh);
		a = sh->slots;
		for (uint32_t i = 0; a && i <= a->mask; i++) {
			uintptr_t v = a->slot[i];
			struct intern_str *s;
			uint8_t st = INTERN_MORTAL;

			if (!intern__slot_is_entry(v))
				continue;
			s = intern__slot_str(v);
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
		sh->slots = NULL;
		sh->live = sh->used = 0;
		shard_unlock(sh);
		if (a)
			retire(a);
	}
	intern__read_unlock();
}

int intern__table_each_immortal(struct intern_interp *interp,
				int (*fn)(void *ctx, const struct intern_str *s), void *ctx)
{
	int rc = 0;

	/* Under each shard's lock the array is the current one, and an
	 * immortal entry stays until the interpreter is freed. */
	for (unsigned k = 0; k < interp->nshards && rc == 0; k++) {
		struct intern__shard *sh = &interp->shards[k];
		const struct intern__slots *a;

		shard_lock(sh);
		a = sh->slots;
		for (uint32_t i = 0; a && i <= a->mask && rc == 0; i++) {
			uintptr_t v = a->slot[i];

			if (intern__slot_is_entry(v) &&
			    intern__state(intern__slot_str(v)) >= INTERN_IMMORTAL)
				rc = fn(ctx, intern__slot_str(v));
		}
		shard_unlock(sh);
	}
	return rc;
}

/* ------------------------------------------------------------------------
 * Statistics and the consistency check
 * ---------------------------------------------------------------------- */

/* Add array `a`'s slots and entries to `st`, and its entries' probe
 * distances to *probes and their number to *entries.  Shard lock held. */
static void stats_slots(const struct intern__slots *a, struct intern_stats *st, size_t *entries,
			size_t *probes)
{
	st->slots += a->mask + 1u;
	st->table_bytes += sizeof(*a) + (a->mask + 1u) * sizeof(uintptr_t);
	for (uint32_t i = 0; i <= a->mask; i++) {
		uintptr_t v = a->slot[i];
		struct intern_str *s;
		size_t dist;

		if (v == INTERN__SLOT_TOMB)
			st->tombstones++;
		if (!intern__slot_is_entry(v))
			continue;
		s = intern__slot_str(v);
		if (!intern__is_static(s) && intern__state(s) == INTERN_MORTAL) {
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
		dist = ((i - (intern__entry_bucket_hash(a, s) & a->mask)) & a->mask) + 1u;
		*probes += dist;
		(*entries)++;
		if (dist > st->max_probe)
			st->max_probe = dist;
	}
}

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

		shard_lock(sh);
		if (sh->slots)
			stats_slots(sh->slots, st, &entries, &probes);
		if (sh->live > st->max_shard_entries)
			st->max_shard_entries = sh->live;
		st->reseeds += sh->reseeds;
#ifndef INTERN_NO_STATS
		st->inserts += sh->inserts;
		st->removals += sh->removals;
#endif
		shard_unlock(sh);
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

/* No duplicates: probing array `a` for the bytes of `s`, the entry in
 * slot i, from their home bucket must find this very slot. */
static unsigned check_reachable(const struct intern__slots *a, unsigned k, uint32_t i, uint32_t bh,
				const struct intern_str *s)
{
	const struct intern__key key = { NULL, intern__data(s), s->ob_len, intern__tag_of(bh) };
	const uint32_t at = intern__probe_find(a, bh, &key).at;
	unsigned bad = 0;

	CHECK(at != INTERN__NOWHERE, "shard %u slot %u: unreachable by probing", k, i);
	CHECK(at == INTERN__NOWHERE || at == i, "shard %u slots %u and %u: equal bytes", k, at, i);
	return bad;
}

/* Check shard k's array; add its MORTAL entries (dying ones included) and
 * their bytes to q[0] and q[1]. */
static unsigned check_shard(const struct intern_interp *interp, unsigned k,
			    const struct intern__slots *a, const struct intern__shard *sh,
			    size_t q[2])
{
	unsigned bad = 0;
	uint32_t live = 0, used = 0;

	assert_shard_held(sh);
	for (uint32_t i = 0; i <= a->mask; i++) {
		uintptr_t v = a->slot[i];
		const struct intern_str *s;
		uint32_t h, bh;
		uint8_t st;

		if (v != INTERN__SLOT_EMPTY)
			used++;
		if (!intern__slot_is_entry(v))
			continue;
		live++;
		s = intern__slot_str(v);
		st = intern__state(s);
		h = intern__entry_hash(s);            /* the process hash: the shard */
		bh = intern__entry_bucket_hash(a, s); /* under the array's key: bucket, tag */
		CHECK(intern__data(s)[s->ob_len] == '\0', "shard %u slot %u: no NUL", k, i);
		/* I6: the built-in singletons' bytes never reach a table, so
		 * such an entry could never be found. */
		CHECK(!intern__fixed(interp, intern__data(s), s->ob_len),
		      "shard %u slot %u: bytes of a built-in singleton or a snapshot string", k,
		      i);
		CHECK(intern__slot_tag(v) == intern__tag_of(bh), "shard %u slot %u: tag mismatch",
		      k, i);
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
			CHECK(s->ob_owner == interp->id, "shard %u slot %u: owner %u, not %u", k, i,
			      s->ob_owner, interp->id);
			CHECK(s->ob_hash == intern__hash(intern__data(s), s->ob_len),
			      "shard %u slot %u: stale hash", k, i);
			CHECK(__atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED) !=
				      INTERN__POISON_REFCNT,
			      "shard %u slot %u: freed string in the table", k, i);
			CHECK(st != INTERN_IMMORTAL ||
				      __atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED) != 0,
			      "shard %u slot %u: immortal with count 0", k, i);
		}
		bad += check_reachable(a, k, i, bh, s);
	}
	CHECK(live == sh->live, "shard %u: %u entries, counter says %u", k, live, sh->live);
	CHECK(used == sh->used, "shard %u: %u used slots, counter says %u", k, used, sh->used);
	CHECK((uint64_t)used * 4 <= ((uint64_t)a->mask + 1) * 3 + 4,
	      "shard %u: load %u/%u above 3/4", k, used, a->mask + 1);
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
		shard_lock(&interp->shards[k]);
	for (unsigned k = 0; k < interp->nshards; k++) {
		struct intern__shard *sh = &interp->shards[k];

		if (!all)
			shard_lock(sh);
		if (sh->slots)
			bad += check_shard(interp, k, sh->slots, sh, q);
		else
			CHECK(!sh->live && !sh->used, "shard %u: no array, counters %u/%u", k,
			      sh->live, sh->used);
#ifndef INTERN_NO_STATS
		CHECK(sh->inserts - sh->removals == sh->live,
		      "shard %u: %llu inserts - %llu removals != %u entries", k,
		      (unsigned long long)sh->inserts, (unsigned long long)sh->removals, sh->live);
#endif
		if (!all)
			shard_unlock(sh);
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
			shard_unlock(&interp->shards[k]);
	}
	return bad ? -EUCLEAN : 0;
}
