/*
 * scope.c: references borrowed for a scope.
 *
 * A server uses a request's names (the command word, header and field
 * names, a key it only reads) for the length of the request.  Counting a
 * reference to each costs two writes of the string's shared count, and a
 * hot mortal string then has every core writing one cache line.  A scope
 * lets a thread hold strings with no count written: intern_scope_enter()
 * opens an RCU read-side section on the calling thread (nestable), and the
 * borrowing calls return canonical strings that stay readable until the
 * thread's outermost intern_scope_exit().  docs/design.md, "Scopes", has
 * the safety argument in full; in short:
 *
 *  S1. A borrowed hit writes nothing.  The lookup is the table's own probe
 *      (table.h, intern__table_probe), run inside the scope's read-side
 *      section; an entry whose count is 0 (dying) is treated as absent, as
 *      by every lookup (R1), so a borrowed string was live and canonical
 *      when it was found.
 *  S2. A borrowed string is readable until the scope ends.  If its last
 *      holder lets go meanwhile, its killer unlinks it and frees it after a
 *      grace period (R2, R4), which waits for this thread's read-side
 *      section: the bytes never change and the memory stays valid until
 *      intern_scope_exit().  Nothing new is needed in the removal protocol.
 *  S3. A borrowing insert (intern_borrow() of absent bytes) inserts as
 *      intern_bytes() does, which returns a counted reference; the scope
 *      keeps that reference on the thread's list and drops it when the
 *      outermost scope ends, after the read-side section (a last reference
 *      may free, and freeing must be able to wait for a grace period).
 *  S4. Keeping a borrowed string past the scope needs a count, and its
 *      count may be 0 by then (S2): intern_promote() takes a reference
 *      with get-unless-zero (R1), and when that fails re-interns the
 *      bytes, still readable inside the scope, so the caller gets the
 *      canonical string for them either way.  intern_str_incref() of a
 *      borrowed string is a misuse when its count is 0.
 *
 * Costs: entering and leaving are liburcu's read lock and unlock (two
 * thread-local stores each) and a depth count; a borrowed hit is the hash
 * and the probe, with no read lock of its own and no atomic write.  A long
 * scope delays every grace period, hence every free of a dead string in
 * the process: scopes are for the length of a request, not a connection.
 */
#include <errno.h>

#include "alloc.h"
#include "hash.h"
#include "intern-private.h"
#include "rcu.h"
#include "snapshot.h" /* intern__fixed: built-ins and the mapped snapshot */
#include "table.h"
#include "thread.h"

/* ------------------------------------------------------------------------
 * The read-side section
 * ---------------------------------------------------------------------- */

/* The scope's read-side section, on the thread's reader state `rd`
 * (rcu.h: one TLS access finds it and intern__self together). */
static inline void section_enter(struct urcu_reader *rd)
{
#ifndef INTERN_BUSTED_SCOPE_UNGUARDED
	intern__read_lock_on(rd);
#else
	/* Broken on purpose: a scope that is no read-side section, so a
	 * string that dies while borrowed is freed under the borrower (S2). */
	(void)rd;
#endif
}

static inline void section_exit(struct urcu_reader *rd)
{
#ifndef INTERN_BUSTED_SCOPE_UNGUARDED
	intern__read_unlock_on(rd);
#else
	(void)rd;
#endif
}

/* Drop the references the scope's inserts took (S3), and queue the frees
 * that were parked inside it.  Outside every read-side section of the
 * thread: a last reference frees, and a free may wait for a grace period. */
static void release_held(void)
{
	struct intern__thread *t = &intern__self;

	while (t->scope_held_count > 0)
		intern_str_decref(t->scope_held[--t->scope_held_count]);
	while (t->scope_dead_count > 0)
		intern__defer_free(t->scope_dead[--t->scope_dead_count]);
}

bool intern__scope_park(void *obj)
{
	struct intern__thread *t = &intern__self;

	if (t->scope_depth == 0 || t->scope_dead_count == INTERN__SCOPE_DEAD_MAX)
		return false;
	t->scope_dead[t->scope_dead_count++] = obj;
	return true;
}

/* Keep a new reference until the outermost scope ends: 0, or -ENOMEM (the
 * reference is then the caller's still). */
static int hold(struct intern_str *s)
{
	struct intern__thread *t = &intern__self;

	if (intern__is_static(s) || intern__state(s) >= INTERN_IMMORTAL)
		return 0; /* uncounted: nothing to drop later */
	if (t->scope_held_count == t->scope_held_cap) {
		unsigned cap = t->scope_held_cap ? 2 * t->scope_held_cap : 16;
		struct intern_str **a = intern__malloc(cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		if (t->scope_held_count)
			memcpy(a, t->scope_held, t->scope_held_count * sizeof(*a));
		intern__free(t->scope_held);
		t->scope_held = a;
		t->scope_held_cap = cap;
		/* The list is freed at thread exit (thread.c, step 0). */
		if (intern__thread_arm_exit() < 0)
			intern__die("scope: cannot arm the thread-exit handler");
	}
	t->scope_held[t->scope_held_count++] = s;
	return 0;
}

INTERN_API void intern_scope_enter(void)
{
	struct intern__thread *const me = intern__self_get();

	if (me->scope_depth == 0)
		intern__scope_admit(); /* no killer waits for this scope */
	section_enter(intern__reader(me)); /* registers the thread if needed */
	me->scope_depth++;
}

INTERN_API void intern_scope_exit(void)
{
	struct intern__thread *const t = intern__self_get();
	const unsigned depth = t->scope_depth;

	if (__builtin_expect(depth == 0, 0)) {
		intern__misuse("intern_scope_exit() without intern_scope_enter()");
		return;
	}
	t->scope_depth = depth - 1;
	section_exit(intern__reader(t));
	/* One test for both lists on the way out of a hit-only scope. */
	if (depth == 1 && __builtin_expect((t->scope_held_count | t->scope_dead_count) != 0, 0))
		release_held();
}

INTERN_API unsigned intern_scope_depth(void)
{
	return intern__self.scope_depth;
}

/* Step 0 of thread.c's exit path: a thread must leave its scopes before it
 * exits; if it did not, close them (a misuse, reported) so that its
 * read-side section ends before it is unregistered.  Then free the list. */
void intern__scope_thread_exit(void)
{
	struct intern__thread *t = &intern__self;

	if (t->scope_depth > 0) {
		intern__misuse("a thread exits inside %u scope(s)", t->scope_depth);
		while (t->scope_depth > 0) {
			t->scope_depth--;
			section_exit(intern__reader(t));
		}
		release_held();
	}
	intern__free(t->scope_held);
	t->scope_held = NULL;
	t->scope_held_cap = 0;
}

/* ------------------------------------------------------------------------
 * Borrowing
 * ---------------------------------------------------------------------- */

/* Live, so canonical (S1)?  Immortal and static strings always are; a
 * mortal one while its count is not 0 (R1).  A relaxed load: the memory is
 * valid inside the section whatever the answer (S2). */
static bool alive(const struct intern_str *s)
{
	if (intern__is_static(s) || intern__state(s) >= INTERN_IMMORTAL)
		return true;
	return __atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED) != 0;
}

/* The arguments of a borrowing call on thread state `me`: 0, or -EINVAL
 * (a stale interpreter, no scope open) or the bytes' error. */
static inline int borrow_args(const struct intern__thread *me,
			      const struct intern_interp *interp, const char *data, size_t len)
{
	if (!intern__interp_ok(interp) || me->scope_depth == 0)
		return -EINVAL;
	return intern__check_bytes(data, len);
}

/* The live table entry for these bytes, borrowed (S1); NULL: absent.
 * (The built-ins and a mapped snapshot, which intern__fixed answers
 * first, are static: borrowing them is returning them.) */
static inline __attribute__((always_inline)) struct intern_str *
borrow_find(struct intern__thread *me, const struct intern_interp *interp, uint32_t hash,
	    const char *data, size_t len)
{
	struct intern_str *s = intern__table_probe(interp, hash, data, len);

	if (s && !alive(s))
		s = NULL;
	intern__count_lookup(me, interp, s);
	return s;
}

INTERN_API struct intern_str *intern_lookup_borrowed(struct intern_interp *interp,
						     const char *data, size_t len)
{
	struct intern__thread *const me = intern__self_get();
	int rc = borrow_args(me, interp, data, len);
	struct intern_str *r;

	if (__builtin_expect(rc < 0, 0)) {
		errno = -rc;
		return NULL;
	}
	r = intern__fixed(interp, data, len);
	if (r)
		return r;
	r = borrow_find(me, interp, intern__hash_inline(data, len), data, len);
	if (!r)
		errno = ENOENT;
	return r;
}

INTERN_API struct intern_str *intern_borrow(struct intern_interp *interp, const char *data,
					    size_t len)
{
	struct intern__thread *const me = intern__self_get();
	int rc = borrow_args(me, interp, data, len);
	struct intern_str *r;
	uint32_t hash;

	if (__builtin_expect(rc < 0, 0))
		goto fail;
	r = intern__fixed(interp, data, len);
	if (r)
		return r;
	hash = intern__hash_inline(data, len);
	r = borrow_find(me, interp, hash, data, len);
	if (__builtin_expect(r != NULL, 1))
		return r;
	/* Absent: insert, and keep the reference until the scope ends (S3). */
	rc = intern__insert_bytes(interp, data, len, hash, &r);
	if (rc < 0)
		goto fail;
	rc = hold(r);
	if (rc < 0) {
		intern_str_decref(r);
		goto fail;
	}
	return r;
fail:
	errno = -rc;
	return NULL;
}

/* Is `s` a string `interp` may hand out: its own (a dynamic string it
 * owns, its snapshot's), or a static one, which every interpreter shares?
 * A string borrowed in another interpreter is not. */
static bool belongs_to(const struct intern_interp *interp, const struct intern_str *s)
{
	if (intern__is_mapped(s))
		return interp->snap && intern__snap_holds(interp->snap, s);
	if (intern__is_static(s))
		return true;
	return __atomic_load_n(&s->ob_owner, __ATOMIC_RELAXED) == interp->id;
}

INTERN_API struct intern_str *intern_promote(struct intern_interp *interp, struct intern_str *s)
{
	if (!intern__interp_ok(interp) || !s || !intern__str_sane(s) ||
	    intern__self.scope_depth == 0) {
		errno = EINVAL;
		return NULL;
	}
	/* Live and this interpreter's: count it (R1: never from 0). */
	if (belongs_to(interp, s) && intern__take_ref(s))
		return s;
	/* Dying (S4): its bytes are readable until the scope ends.  Or
	 * another interpreter's: this one's canonical copy. */
	return intern_bytes(interp, intern__data(s), s->ob_len);
}
