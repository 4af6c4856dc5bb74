/*
 * worker.c: one thread's operation loop.
 *
 * Each thread holds references in a "hand": run_config.hold slots, direct-mapped
 * by (interp, key), so a thread holds at most one entry per key and
 * interp (with up to NREF_MAX references in it).  Every operation draws a
 * key and an interp, calls the API, checks the result (check_str), and puts
 * what it got in the hand, dropping whatever occupied that slot.  The hand
 * and the shared key slots give these checks:
 *
 *   - if this thread already holds key k of interp I, anything the API
 *     returns for k in I must be that very object, and intern_lookup must
 *     find it (a held string stays interned); --recheck also looks a
 *     string up again right after acquiring it and right before dropping
 *     it;
 *   - a string put in the hand is registered in I's shared slot for k, so
 *     two threads holding different objects for k at once collide there
 *     (see struct tinterp);
 *   - a held string is checked again before each reference is dropped: one
 *     freed while held (revived, or freed before a grace period) fails;
 *   - the private interp (one per thread, used by no other thread) is
 *     audited exactly before each intern_interp_free: its mortal count is
 *     what the hand holds, its immortal count what the thread made
 *     immortal.  Some of its mortal strings are kept across the free (they
 *     must come back NOT_INTERNED and intact) or handed to other threads as
 *     orphans, to be dropped while the interp is being freed;
 *   - inspect ops run intern_interp_check and _stats concurrently with
 *     everything else.
 *
 * --reborn makes a thread intern a key again right after dropping its
 * last reference (see drop()); both it and inspect widen the windows the
 * busted variants leave open (docs/busted.md).
 */
#include "torture.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct worker *workers;
atomic_bool stop_workers;

static const char *const op_name[OP__COUNT] = {
	"intern_mortal",  "intern_immortal", "intern_bytes", "intern_lookup",
	"incref",         "release",         "reintern",     "interp_churn",
	"intern_barrier", "inspect",         "intern_int",   "intern_auto",
	"scope",
};

/* ---- orphans ---------------------------------------------------------------- */

struct orphan {
	struct intern_str *s;
	uint32_t key;
	uint8_t nref;
};

#define ORPHANS_MAX 1024
static pthread_mutex_t orphan_lock = PTHREAD_MUTEX_INITIALIZER;
static struct orphan orphan_stack[ORPHANS_MAX];
static unsigned orphan_top;
static _Atomic unsigned orphan_n; /* orphan_top, readable without the lock */

void orphans_init(void)
{
	orphan_top = 0;
	atomic_store(&orphan_n, 0);
}

static bool orphan_push(const struct held *h)
{
	bool ok = false;

	pthread_mutex_lock(&orphan_lock);
	if (orphan_top < ORPHANS_MAX) {
		orphan_stack[orphan_top++] = (struct orphan){ h->s, h->key, h->nref };
		atomic_store_explicit(&orphan_n, orphan_top, memory_order_relaxed);
		ok = true;
	}
	pthread_mutex_unlock(&orphan_lock);
	return ok;
}

void orphans_drain(unsigned max)
{
	struct orphan got[16];
	unsigned n = 0;

	while (max) {
		pthread_mutex_lock(&orphan_lock);
		for (n = 0; n < max && n < 16 && orphan_top; n++)
			got[n] = orphan_stack[--orphan_top];
		atomic_store_explicit(&orphan_n, orphan_top, memory_order_relaxed);
		pthread_mutex_unlock(&orphan_lock);
		if (!n)
			return;
		max -= n;
		for (unsigned i = 0; i < n; i++) {
			/* Its interp may be mid-free: MORTAL or NOT_INTERNED. */
			if (!check_str(got[i].s, got[i].key, 0, WANT_ORPHAN, "orphan decref"))
				continue;
			for (unsigned r = 0; r < got[i].nref; r++)
				intern_str_decref(got[i].s);
		}
	}
}

/* ---- where ops go ------------------------------------------------------------ */

static inline struct intern_interp *interp_of(const struct worker *w, unsigned where)
{
	return where == WHERE_PRIVATE ? w->pip : shared_interps[where].ip;
}

static inline uint16_t owner_of(const struct worker *w, unsigned where)
{
	return where == WHERE_PRIVATE ? w->powner : shared_interps[where].owner;
}

static unsigned choose_where(struct worker *w)
{
	if (w->pip && run_config.private_pct && rng_below(&w->rng, 100) < run_config.private_pct)
		return WHERE_PRIVATE;
	return run_config.interps == 1 ? 0 : rng_below(&w->rng, run_config.interps);
}

static const char *where_name(unsigned where, char *buf, size_t n)
{
	if (where == WHERE_PRIVATE)
		snprintf(buf, n, "private");
	else
		snprintf(buf, n, "%u", where);
	return buf;
}

/* ---- the shared key slots ----------------------------------------------------- */

static bool slot_register(unsigned where, uint32_t k, struct intern_str *s, const char *ctx)
{
	_Atomic uint64_t *slot = &shared_interps[where].slot[k];
	uint64_t old = atomic_load_explicit(slot, memory_order_relaxed), nw;

	do {
		if ((old >> 48) && (old & SLOT_PTR_MASK) != (uintptr_t)s) {
			violation(V_UNIQUE,
				  "%s: interp %u key %u: got %p while %u other holder(s) hold %p",
				  ctx, where, k, (void *)s, (unsigned)(old >> 48),
				  (void *)(uintptr_t)(old & SLOT_PTR_MASK));
			return false;
		}
		nw = (((old >> 48) + 1) << 48) | (uintptr_t)s;
		/* acq_rel: a registration sees every earlier holder's. */
	} while (!atomic_compare_exchange_weak_explicit(slot, &old, nw, memory_order_acq_rel,
							memory_order_relaxed));
	return true;
}

/* Returns true if this was the last holder: the string is about to die. */
static bool slot_unregister(unsigned where, uint32_t k)
{
	/* Release: ordered before the decref that may free the string. */
	return atomic_fetch_sub_explicit(&shared_interps[where].slot[k], SLOT_ONE,
					 memory_order_release) >>
		       48 ==
	       1;
}

/* ---- the hand --------------------------------------------------------------- */

#define HELD_REGISTERED 0x1u
#define HELD_IMMORTAL 0x2u /* seen immortal: must stay so */

static inline struct held *hand_slot(struct worker *w, unsigned where, uint32_t k)
{
	uint32_t h = k * 0x9e3779b1u ^ where * 0x85ebca77u;

	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return &w->hand[h & (run_config.hold - 1)];
}

static inline bool holds(const struct held *h, unsigned where, uint32_t k)
{
	return h->s && h->where == where && h->key == k;
}

static enum want held_want(const struct held *h)
{
	return (h->registered & HELD_IMMORTAL) ? WANT_IMMORTAL : WANT_INTERNED;
}

/*
 * A string this thread holds is canonical, so looking its bytes up again
 * must give the very same object.  Run when a string is acquired and again
 * just before it is dropped (the latest moment it is surely held): catches
 * a string revived from count 0 (its killer unlinks it meanwhile) and a
 * live entry removed by mistake.
 */
static void recheck(struct worker *w, unsigned where, uint32_t k, struct intern_str *s)
{
	struct intern_str *again;
	char wb[16];

	if (!run_config.recheck_pct || rng_below(&w->rng, 100) >= run_config.recheck_pct)
		return;
	errno = 0;
	again = intern_lookup(interp_of(w, where), key_data(k), all_keys.len[k]);
	if (again != s) {
		violation(V_LOOKUP,
			  "recheck: interp %s key %u: this thread holds %p, intern_lookup gave %p "
			  "(errno %d)",
			  where_name(where, wb, sizeof(wb)), k, (void *)s, (void *)again, errno);
		return;
	}
	intern_str_decref(again);
}

static void op_intern(struct worker *w, unsigned where, uint32_t k, bool immortal);

/*
 * Drop every reference of hand entry h, checking the string first.  When
 * this thread was its last holder the string most likely died just now;
 * with --reborn the thread then interns the same bytes again at once.  The
 * new string's allocation tends to get the dead one's memory back (malloc
 * reuses the last chunk freed), so a reader still inside a lookup of the
 * old one meets a new object with the same bytes: harmless when the old
 * one waited for a grace period, caught when it did not.
 */
static void drop(struct worker *w, struct held *h, const char *ctx, bool may_reborn)
{
	bool sound = check_str(h->s, h->key, owner_of(w, h->where), held_want(h), ctx);
	bool last = false;

	if (sound)
		recheck(w, h->where, h->key, h->s);
	if ((h->registered & HELD_REGISTERED) && slot_unregister(h->where, h->key) && sound &&
	    intern_str_state(h->s) == INTERN_MORTAL) {
		w->deaths++;
		last = true;
	}
	if (sound) /* else leak it: it may be freed memory */
		for (unsigned r = 0; r < h->nref; r++)
			intern_str_decref(h->s);
	h->s = NULL;
	if (last && may_reborn && run_config.reborn_pct &&
	    rng_below(&w->rng, 100) < run_config.reborn_pct)
		op_intern(w, h->where, h->key, false);
}

/* Put a new reference to key k of `where` (already checked) in the hand. */
static void put(struct worker *w, unsigned where, uint32_t k, struct intern_str *s, const char *ctx)
{
	struct held *h = hand_slot(w, where, k);
	unsigned flags = intern_str_state(s) == INTERN_IMMORTAL ? HELD_IMMORTAL : 0;
	char wb[16];

	if (holds(h, where, k)) {
		if (h->s != s) {
			violation(V_UNIQUE,
				  "%s: interp %s key %u: got %p while this thread holds %p", ctx,
				  where_name(where, wb, sizeof(wb)), k, (void *)s, (void *)h->s);
			return; /* leak both: one of them is an impostor */
		}
		h->registered |= flags;
		if (h->nref < NREF_MAX)
			h->nref++;
		else
			intern_str_decref(s);
		recheck(w, where, k, s);
		return;
	}
	if (h->s)
		drop(w, h, "evict", false); /* a reborn would land in h */
	if (where != WHERE_PRIVATE && all_keys.kind[k] == KEY_DYNAMIC) {
		if (!slot_register(where, k, s, ctx))
			return;
		flags |= HELD_REGISTERED;
	}
	*h = (struct held){
		.s = s, .key = k, .where = (uint16_t)where, .nref = 1, .registered = (uint8_t)flags
	};
	recheck(w, where, k, s);
}

/* ---- failures --------------------------------------------------------------- */

/* A constructor returned NULL: ENOMEM is clean in alloc-fail mode. */
static void null_result(struct worker *w, const char *what, uint32_t k)
{
	int e = errno;

	if (run_config.alloc_fail && e == ENOMEM)
		w->enomem++;
	else
		violation(V_ERROR, "%s: key %u: NULL with errno %d (%s)", what, k, e, strerror(e));
}

/* An interning call failed: *p must be untouched and still ours. */
static void intern_failed(struct worker *w, const char *what, uint32_t k, int rc,
			  struct intern_str *before, struct intern_str *after, enum want want)
{
	if (after != before) {
		violation(V_ERROR, "%s: key %u: failed with %d but changed *p from %p to %p", what,
			  k, rc, (void *)before, (void *)after);
		return;
	}
	if (!(run_config.alloc_fail && rc == -ENOMEM)) {
		violation(V_ERROR, "%s: key %u: failed with %d (%s)", what, k, rc, strerror(-rc));
		return;
	}
	w->enomem++;
	if (check_str(before, k, 0, want, what))
		intern_str_decref(before);
}

static void mark_immortal(struct worker *w, unsigned where, uint32_t k)
{
	if (all_keys.kind[k] != KEY_DYNAMIC)
		return;
	if (where != WHERE_PRIVATE) {
		atomic_store_explicit(&shared_interps[where].imm[k], 1, memory_order_relaxed);
	} else if (!(w->pimm[k / 8] & (1u << (k % 8)))) {
		w->pimm[k / 8] |= (uint8_t)(1u << (k % 8));
		w->pimm_count++;
	}
}

/* ---- operations ---------------------------------------------------------------- */

static void op_intern(struct worker *w, unsigned where, uint32_t k, bool immortal)
{
	const char *what = immortal ? "intern_immortal" : "intern_mortal";
	struct intern_str *s = intern_str_new(key_data(k), all_keys.len[k]), *before;
	int rc;

	if (!s) {
		null_result(w, "intern_str_new", k);
		return;
	}
	before = s;
	rc = immortal ? intern_immortal(interp_of(w, where), &s)
		      : intern_mortal(interp_of(w, where), &s);
	if (rc) {
		intern_failed(w, what, k, rc, before, s, WANT_FREED);
		return;
	}
	if (!check_str(s, k, owner_of(w, where), immortal ? WANT_IMMORTAL : WANT_INTERNED, what))
		return;
	if (immortal)
		mark_immortal(w, where, k);
	put(w, where, k, s, what);
}

static void op_bytes(struct worker *w, unsigned where, uint32_t k)
{
	struct intern_str *s = intern_bytes(interp_of(w, where), key_data(k), all_keys.len[k]);

	if (!s) {
		null_result(w, "intern_bytes", k);
		return;
	}
	if (check_str(s, k, owner_of(w, where), WANT_INTERNED, "intern_bytes"))
		put(w, where, k, s, "intern_bytes");
}

/* intern_int on a decimal key: the same canonical object as by any route. */
static void op_int(struct worker *w, unsigned where, uint32_t k)
{
	struct intern_str *s;

	if (!all_keys.is_int[k]) {
		op_bytes(w, where, k);
		return;
	}
	s = intern_int(interp_of(w, where), all_keys.ival[k]);
	if (!s) {
		null_result(w, "intern_int", k);
		return;
	}
	if (check_str(s, k, owner_of(w, where), WANT_INTERNED, "intern_int"))
		put(w, where, k, s, "intern_int");
}

/* intern_auto: identifiers (and built-in singletons) come back interned,
 * anything else as a new string of its own. */
static void op_auto(struct worker *w, unsigned where, uint32_t k)
{
	struct intern_str *s = intern_auto(interp_of(w, where), key_data(k), all_keys.len[k]);

	if (!s) {
		null_result(w, "intern_auto", k);
		return;
	}
	if (all_keys.ident[k] || all_keys.kind[k] == KEY_SINGLETON) {
		if (check_str(s, k, owner_of(w, where), WANT_INTERNED, "intern_auto"))
			put(w, where, k, s, "intern_auto");
	} else if (check_str(s, k, 0, WANT_FREED, "intern_auto (not an identifier)")) {
		intern_str_decref(s);
	}
}

static void op_lookup(struct worker *w, unsigned where, uint32_t k)
{
	struct held *h = hand_slot(w, where, k);
	bool mine = holds(h, where, k);
	struct intern_str *s;
	char wb[16];

	errno = 0;
	s = intern_lookup(interp_of(w, where), key_data(k), all_keys.len[k]);
	if (!s) {
		int e = errno;

		if (e != ENOENT)
			violation(V_ERROR, "intern_lookup: key %u: NULL with errno %d, want ENOENT",
				  k, e);
		else if (mine || all_keys.kind[k] != KEY_DYNAMIC)
			violation(V_LOOKUP,
				  "intern_lookup: interp %s key %u: ENOENT while %p is interned "
				  "(held by this thread, or static)",
				  where_name(where, wb, sizeof(wb)), k,
				  mine ? (void *)h->s : (void *)all_keys.obj[k]);
		return;
	}
	if (check_str(s, k, owner_of(w, where), WANT_INTERNED, "intern_lookup"))
		put(w, where, k, s, "intern_lookup");
}

static struct held *random_held(struct worker *w)
{
	struct held *h = &w->hand[rng_below(&w->rng, run_config.hold)];

	return h->s ? h : NULL;
}

static void op_incref(struct worker *w)
{
	struct held *h = random_held(w);

	if (!h || !check_str(h->s, h->key, owner_of(w, h->where), held_want(h), "incref"))
		return;
	if (h->nref < NREF_MAX && (h->nref == 1 || rng_below(&w->rng, 2))) {
		intern_str_incref(h->s);
		h->nref++;
	} else {
		intern_str_decref(h->s);
		h->nref--;
	}
}

static void op_release(struct worker *w)
{
	struct held *h = random_held(w);

	if (h)
		drop(w, h, "release", true);
	if (atomic_load_explicit(&orphan_n, memory_order_relaxed))
		orphans_drain(4);
}

/* intern_mortal on a string we hold: in its own interp it must come back
 * unchanged; in another it must become that interp's canonical copy. */
static void op_reintern(struct worker *w)
{
	struct held *h = random_held(w);
	struct intern_str *s, *before;
	unsigned where, from;
	uint32_t k;
	int rc;

	if (!h || !check_str(h->s, h->key, owner_of(w, h->where), held_want(h), "reintern"))
		return;
	from = h->where;
	k = h->key;
	where = choose_where(w);
	s = before = h->s;
	intern_str_incref(s); /* the reference intern_mortal steals */
	rc = intern_mortal(interp_of(w, where), &s);
	if (rc) {
		intern_failed(w, "reintern", k, rc, before, s, WANT_INTERNED);
		return;
	}
	if (!check_str(s, k, owner_of(w, where), WANT_INTERNED, "reintern"))
		return;
	if (where == from && s != before) {
		violation(V_UNIQUE,
			  "reintern: key %u: canonical %p replaced by %p in its own interp", k,
			  (void *)before, (void *)s);
		return;
	}
	put(w, where, k, s, "reintern");
}

/* Inspection runs concurrently with everything else (the API allows it):
 * the check must pass mid-run, and each walk holds every shard lock in
 * turn, so killers and inserters queue behind it and meet in new orders. */
static void op_inspect(struct worker *w)
{
	unsigned where = run_config.interps == 1 ? 0 : rng_below(&w->rng, run_config.interps);
	struct intern_stats st;

	if (rng_below(&w->rng, 2)) {
		if (intern_interp_check(shared_interps[where].ip) != 0)
			violation(V_ACCOUNT,
				  "interp %u: intern_interp_check failed mid-run (thread %u)",
				  where, w->id);
	} else if (stats_of(shared_interps[where].ip, &st) == 0 && st.immortal_static != NSTATIC) {
		violation(V_ACCOUNT, "interp %u: %zu static entries mid-run, want %u", where,
			  st.immortal_static, NSTATIC);
	}
}

/* ---- the private interp ------------------------------------------------------- */

static void private_create(struct worker *w)
{
	struct intern_config c;
	struct intern_interp *ip;

	intern_config_init(&c);
	c.shards = run_config.shards ? run_config.shards : 4;
	ip = intern_interp_new(&c);
	if (!ip) {
		null_result(w, "intern_interp_new", 0);
		return;
	}
	if (tinterp_setup(ip, &w->powner)) {
		w->enomem++;
		return;
	}
	memset(w->pimm, 0, (all_keys.n + 7) / 8);
	w->pimm_count = 0;
	w->pip = ip;
}

/* Audit the private interp, then free it (see the top of this file). */
static void private_retire(struct worker *w, bool at_exit)
{
	struct held kept[32];
	unsigned nkept = 0;
	size_t mortal = 0;
	struct intern_stats st;

	if (!w->pip)
		return;
	for (unsigned i = 0; i < run_config.hold; i++)
		if (w->hand[i].s && w->hand[i].where == WHERE_PRIVATE &&
		    intern_str_state(w->hand[i].s) == INTERN_MORTAL)
			mortal++;
	if (stats_of(w->pip, &st) == 0 &&
	    (st.mortal != mortal || st.dying != 0 || st.immortal != w->pimm_count + 1u ||
	     st.immortal_static != NSTATIC))
		violation(V_ACCOUNT,
			  "thread %u private interp: mortal %zu dying %zu immortal %zu static %zu; "
			  "want %zu 0 %u %u",
			  w->id, st.mortal, st.dying, st.immortal, st.immortal_static, mortal,
			  w->pimm_count + 1u, NSTATIC);
	if (intern_interp_check(w->pip) != 0)
		violation(V_ACCOUNT, "thread %u private interp: intern_interp_check failed", w->id);

	for (unsigned i = 0; i < run_config.hold; i++) {
		struct held *h = &w->hand[i];
		unsigned r;

		if (!h->s || h->where != WHERE_PRIVATE)
			continue;
		if (!check_str(h->s, h->key, w->powner, held_want(h), "private retire")) {
			h->s = NULL;
			continue;
		}
		r = rng_below(&w->rng, 4);
		if (intern_str_state(h->s) == INTERN_MORTAL) {
			if (r == 0 && !at_exit && orphan_push(h)) {
				h->s = NULL; /* another thread drops it, maybe mid-free */
				continue;
			}
			if (r == 1 && nkept < 32) {
				kept[nkept++] = *h; /* held across the free */
				h->s = NULL;
				continue;
			}
		}
		for (unsigned n = 0; n < h->nref; n++)
			intern_str_decref(h->s); /* no-ops on immortal ones */
		h->s = NULL;
	}
	intern_interp_free(w->pip);
	w->pip = NULL;
	for (unsigned i = 0; i < nkept; i++) {
		if (!check_str(kept[i].s, kept[i].key, 0, WANT_FREED, "held across interp_free"))
			continue;
		for (unsigned n = 0; n < kept[i].nref; n++)
			intern_str_decref(kept[i].s);
	}
	w->churns++;
}

/* ---- scoped references ---------------------------------------------------- */

#define SCOPE_BORROWS 4
#define SCOPE_ROUNDS 8 /* drop, yield, recheck */

/* Inside its scope a borrowed string keeps a live header and its bytes,
 * whatever other threads drop meanwhile (its count may reach 0). */
static bool borrowed_sound(const struct intern_str *s, uint32_t k, const char *ctx)
{
	unsigned st = __atomic_load_n(&s->ob_state, __ATOMIC_RELAXED);
	size_t len = all_keys.len[k];

	if (st > INTERN_IMMORTAL_STATIC) {
		violation(V_DEAD, "%s: key %u: borrowed %p has state %#x inside its scope", ctx, k,
			  (const void *)s, st);
		return false;
	}
	if (s->ob_len != len || memcmp(intern_str_data(s), key_data(k), len) != 0 ||
	    intern_str_data(s)[len] != '\0') {
		violation(V_CONTENT, "%s: key %u: borrowed %p changed its bytes inside its scope",
			  ctx, k, (const void *)s);
		return false;
	}
	return true;
}

/* A borrowing call failed: only a lookup's ENOENT, or ENOMEM under fault
 * injection, is allowed. */
static void borrow_failed(uint32_t k, bool lookup, int e)
{
	if ((lookup && e == ENOENT) || (e == ENOMEM && run_config.alloc_fail))
		return;
	violation(V_ERROR, "%s: key %u: NULL with errno %d",
		  lookup ? "intern_lookup_borrowed" : "intern_borrow", k, e);
}

/*
 * One scope (sometimes two, nested): borrow keys of a shared interp; drop
 * a reference of our own and yield or sleep (so borrowed strings die, here
 * or in other threads) and check that every borrowed string still holds
 * its bytes, SCOPE_ROUNDS times; promote the first into a counted
 * reference of the hand.
 */
static void op_scope(struct worker *w)
{
	unsigned where = rng_below(&w->rng, run_config.interps), n = 0;
	struct intern_interp *ip = shared_interps[where].ip;
	bool nest = rng_below(&w->rng, 4) == 0;
	/* A slow request now and then (the scope profile): frees are batched
	 * on the killer's thread and wait for a grace period, so only a scope
	 * that lasts some milliseconds sees the strings that died under it
	 * come back freed if it does not hold them off (scope_unguarded). */
	bool slow = rng_below(&w->rng, 100) < run_config.scope_slow_pct;
	struct intern_str *b[SCOPE_BORROWS], *p;
	uint32_t key[SCOPE_BORROWS];

	intern_scope_enter();
	for (unsigned i = 0; i < SCOPE_BORROWS; i++) {
		uint32_t k = key_draw(&w->rng, &w->pos);
		const bool lookup = i & 1;
		struct intern_str *s;

		if (nest && i == 2)
			intern_scope_enter();
		errno = 0;
		s = lookup ? intern_lookup_borrowed(ip, key_data(k), all_keys.len[k])
			   : intern_borrow(ip, key_data(k), all_keys.len[k]);
		if (!s)
			borrow_failed(k, lookup, errno);
		else if (borrowed_sound(s, k, "borrowed"))
			b[n] = s, key[n++] = k;
	}
	if (nest)
		intern_scope_exit(); /* the inner scope's strings stay valid */
	for (unsigned round = 0; round < SCOPE_ROUNDS; round++) {
		op_release(w);
		if (slow)
			nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
		else
			sched_yield();
		for (unsigned i = 0; i < n; i++)
			if (b[i] && !borrowed_sound(b[i], key[i], "later in the scope"))
				b[i] = NULL;
	}
	if (n > 0 && b[0]) {
		errno = 0;
		p = intern_promote(ip, b[0]);
		if (!p)
			borrow_failed(key[0], false, errno);
		else if (check_str(p, key[0], shared_interps[where].owner, WANT_INTERNED,
				   "intern_promote"))
			put(w, where, key[0], p, "intern_promote");
	}
	intern_scope_exit();
}

/* ---- the loop ---------------------------------------------------------------- */

static unsigned weight_total;
static unsigned weight_cum[OP__COUNT];

static enum op pick_op(uint64_t *rng)
{
	uint32_t r = rng_below(rng, weight_total);
	unsigned op = 0;

	while (r >= weight_cum[op])
		op++;
	return (enum op)op;
}

void worker_weights_init(void)
{
	weight_total = 0;
	for (unsigned i = 0; i < OP__COUNT; i++) {
		weight_total += run_config.weights[i];
		weight_cum[i] = weight_total;
	}
}

static void do_op(struct worker *w, enum op op)
{
	unsigned where;
	uint32_t k;

	w->op_count[op]++;
	switch (op) {
	case OP_MORTAL:
	case OP_IMMORTAL:
	case OP_BYTES:
	case OP_LOOKUP:
	case OP_INT:
	case OP_AUTO:
		where = choose_where(w);
		k = key_draw(&w->rng, &w->pos);
		if (op == OP_BYTES)
			op_bytes(w, where, k);
		else if (op == OP_LOOKUP)
			op_lookup(w, where, k);
		else if (op == OP_INT)
			op_int(w, where, k);
		else if (op == OP_AUTO)
			op_auto(w, where, k);
		else
			op_intern(w, where, k, op == OP_IMMORTAL && all_keys.imm_ok[k]);
		break;
	case OP_INCREF: op_incref(w); break;
	case OP_RELEASE: op_release(w); break;
	case OP_REINTERN: op_reintern(w); break;
	case OP_INTERP:
		private_retire(w, false);
		private_create(w);
		break;
	case OP_BARRIER: intern_barrier(); break;
	case OP_INSPECT: op_inspect(w); break;
	case OP_SCOPE: op_scope(w); break;
	case OP__COUNT: break;
	}
}

int worker_init(struct worker *w)
{
	w->hand = calloc(run_config.hold, sizeof(*w->hand));
	w->pimm = calloc((all_keys.n + 7) / 8, 1);
	if (!w->hand || !w->pimm)
		return -ENOMEM;
	return 0;
}

void worker_fini(struct worker *w)
{
	free(w->hand);
	free(w->pimm);
	w->hand = NULL;
	w->pimm = NULL;
}

/* Run w->quota operations or until `stop_workers`; then drop everything. */
void worker_run(struct worker *w)
{
	uint64_t n = 0;

	if (run_config.private_pct || run_config.weights[OP_INTERP])
		private_create(w);
	if (w->start)
		pthread_barrier_wait(w->start);
	while (n < w->quota) {
		if ((n & 15) == 0 && atomic_load_explicit(&stop_workers, memory_order_relaxed))
			break;
		do_op(w, pick_op(&w->rng));
		n++;
		atomic_store_explicit(&w->ops, n, memory_order_relaxed);
	}
	for (unsigned i = 0; i < run_config.hold; i++)
		if (w->hand[i].s && w->hand[i].where != WHERE_PRIVATE)
			drop(w, &w->hand[i], "final release", false);
	private_retire(w, true);
	atomic_store_explicit(&w->done, 1, memory_order_release);
}

const char *worker_op_name(enum op op)
{
	return op_name[op];
}
