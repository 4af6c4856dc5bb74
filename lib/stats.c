/*
 * stats.c: counting lookups (hits and misses) without touching shared
 * memory on the hit path.
 *
 * The problem.  A lookup hit writes no shared memory for an immortal string
 * (docs/design.md, "The sharded table"): a shared hit counter, even a relaxed atomic
 * add on a per-shard line, would make every hit of every thread write the
 * same cache lines and undo that.  Inserts and removals already hold a shard
 * lock, so they are counted there (table.c, struct intern__shard); hits and
 * misses are counted here, per thread.
 *
 * The scheme.  Each thread owns, in its state (thread.h, intern__self),
 * INTERN__THREAD_SLOTS counter slots (struct intern__tslot): a lookup
 * count, a miss count, and the interpreter they count for (NULL: free).
 * `slot_last` points at the slot the thread used last.  A count (intern-private.h,
 * intern__count_lookup) compares that slot's interpreter with the one
 * looked up in and, if equal, adds 1 to the lookup count (and, for a miss,
 * to the miss count) with a relaxed load and store: the thread is the only
 * writer, so no read-modify-write is needed, and relaxed atomics let
 * intern_interp_stats() read concurrently without a data race.  Hits are
 * lookups - misses, so a hit costs one increment and no branch on the
 * outcome.  Otherwise intern__count_slow() looks through the thread's
 * slots, claims a free one, or, when all of them count for other live
 * interpreters (or the thread cannot be registered), adds to the
 * interpreter's shared counters with a relaxed atomic add: exact still,
 * contended only in that case.
 *
 * Who may write what.  `thread_list_lock` (a mutex taken on no lookup path:
 * only when a thread claims a slot, exits, an interpreter is freed, or
 * statistics are read) protects the list of threads, every slot's
 * `interp`, and each interpreter's `retired` counts.  A slot's counters
 * are written by its thread only.  A slot's `interp` is set non-NULL only
 * by the owning thread, under the lock; it is set to NULL under the lock,
 * by intern_interp_free() of its interpreter (the slot is then free; its
 * stale counts are discarded when the owner claims it again) or by the
 * owner at exit.  So the owner may read its slots' `interp` without the
 * lock: nobody else can make one equal to an interpreter it uses.
 *
 * Addresses are reused: an interpreter may be created at the address of
 * one that was freed.  No slot can mistake one for the other, because
 * intern_interp_free() clears every slot naming the old one before its
 * memory is freed, and the new one reaches a thread only after that
 * (through malloc, which orders the free before the reuse, and whatever
 * hands the new interpreter to the thread).
 *
 * Threads that exit.  A thread that claims a slot joins the list and arms
 * thread.c's exit path, whose first step, intern__stats_thread_exit(), run
 * before pthread_join() returns, adds each of its slots' counts to the
 * interpreter's `retired` counts and leaves the list, under the lock.  So
 * after a join the totals are exact, and a slot never outlives its
 * thread's TLS.  A destructor of another library that interns after that
 * claims a slot again and re-arms the exit path (thread.c).
 *
 * Interpreters that are freed.  intern_interp_free() (the contract: no
 * thread still uses the interpreter) clears every slot that counts for it,
 * under the lock; after that no slot points at it.
 */
#include <pthread.h>
#include <string.h>

#include "intern-private.h"
#include "thread.h"

#ifndef INTERN_NO_STATS

/* Guards the list of counting threads, every slot's `interp`, and every
 * interpreter's `retired` counts. */
static pthread_mutex_t thread_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct intern__thread *threads; /* thread_list_lock */

static const struct intern_interp *slot_interp(const struct intern__tslot *slot)
{
	return __atomic_load_n(&slot->interp, __ATOMIC_RELAXED);
}

/* Fold a slot's counts into `c`.  While its thread is counting, the two
 * loads may straddle an increment of both: misses is read first and the
 * difference clamped, so a concurrent reader sees a count that lags, never
 * one that wrapped around. */
static void add_slot(struct intern__counts *c, const struct intern__tslot *slot)
{
	uint64_t misses = __atomic_load_n(&slot->misses, __ATOMIC_RELAXED);
	uint64_t lookups = __atomic_load_n(&slot->lookups, __ATOMIC_RELAXED);

	c->hits += lookups > misses ? lookups - misses : 0;
	c->misses += misses;
}

/* ------------------------------------------------------------------------
 * Threads
 * ---------------------------------------------------------------------- */

/* Step 1 of thread.c's exit path. */
void intern__stats_thread_exit(void)
{
	struct intern__thread *self = &intern__self;

	pthread_mutex_lock(&thread_list_lock);
	for (unsigned i = 0; i < INTERN__THREAD_SLOTS; i++) {
		struct intern__tslot *slot = &self->slot[i];
		/* Non-NULL under the lock: the interpreter is not freed yet
		 * (intern__stats_fini clears the slot first, under this lock). */
		struct intern_interp *interp = (struct intern_interp *)slot_interp(slot);

		if (!interp)
			continue;
		add_slot(&interp->retired, slot);
		__atomic_store_n(&slot->interp, NULL, __ATOMIC_RELAXED);
	}
	if (self->listed) {
		if (self->prev)
			self->prev->next = self->next;
		else
			threads = self->next;
		if (self->next)
			self->next->prev = self->prev;
		self->listed = false;
	}
	pthread_mutex_unlock(&thread_list_lock);
}

/* Put this thread in the list, its exit path armed.  thread_list_lock
 * held.  False if the exit path cannot be armed: the thread then never
 * owns a slot, since nothing would give the slot back when it exits. */
static bool list_self(void)
{
	struct intern__thread *self = &intern__self;

	if (self->listed)
		return true;
	if (intern__thread_arm_exit() < 0)
		return false;
	self->prev = NULL;
	self->next = threads;
	if (threads)
		threads->prev = self;
	threads = self;
	self->listed = true;
	return true;
}

/* ------------------------------------------------------------------------
 * Counting
 * ---------------------------------------------------------------------- */

void intern__count_slow(const struct intern_interp *interp, bool hit)
{
	struct intern__tslot *slot = NULL;
	struct intern_interp *ip = (struct intern_interp *)interp;

	for (unsigned i = 0; i < INTERN__THREAD_SLOTS; i++) {
		const struct intern_interp *owner = slot_interp(&intern__self.slot[i]);

		if (owner == interp) {
			slot = &intern__self.slot[i];
			goto count;
		}
		if (!owner && !slot)
			slot = &intern__self.slot[i];
	}
	if (slot) {
		/* Only we set our slots' interp, so the slot is still free;
		 * the lock orders the claim with stats readers and with
		 * intern__stats_fini. */
		pthread_mutex_lock(&thread_list_lock);
		if (list_self()) {
			__atomic_store_n(&slot->lookups, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&slot->misses, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&slot->interp, interp, __ATOMIC_RELAXED);
		} else {
			slot = NULL;
		}
		pthread_mutex_unlock(&thread_list_lock);
	}
	if (!slot) {
		/* Every slot busy: exact, and contended only among the
		 * threads in this case. */
		__atomic_fetch_add(hit ? &ip->shared.hits : &ip->shared.misses, 1,
				   __ATOMIC_RELAXED);
		return;
	}
count:
	intern__self.slot_last = slot;
	intern__count_bump(&slot->lookups);
	if (!hit)
		intern__count_bump(&slot->misses);
}

/* ------------------------------------------------------------------------
 * Interpreters
 * ---------------------------------------------------------------------- */

void intern__stats_init(struct intern_interp *interp)
{
	memset(&interp->retired, 0, sizeof(interp->retired));
	memset(&interp->shared, 0, sizeof(interp->shared));
}

void intern__stats_fini(struct intern_interp *interp)
{
	pthread_mutex_lock(&thread_list_lock);
	for (struct intern__thread *t = threads; t; t = t->next)
		for (unsigned i = 0; i < INTERN__THREAD_SLOTS; i++)
			if (slot_interp(&t->slot[i]) == interp)
				__atomic_store_n(&t->slot[i].interp, NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&thread_list_lock);
}

struct intern__counts intern__stats_lookups(struct intern_interp *interp)
{
	struct intern__counts c;

	pthread_mutex_lock(&thread_list_lock);
	c.hits = interp->retired.hits + __atomic_load_n(&interp->shared.hits, __ATOMIC_RELAXED);
	c.misses = interp->retired.misses +
		   __atomic_load_n(&interp->shared.misses, __ATOMIC_RELAXED);
	for (struct intern__thread *t = threads; t; t = t->next)
		for (unsigned i = 0; i < INTERN__THREAD_SLOTS; i++)
			if (slot_interp(&t->slot[i]) == interp)
				add_slot(&c, &t->slot[i]);
	pthread_mutex_unlock(&thread_list_lock);
	return c;
}

#else /* INTERN_NO_STATS */

void intern__stats_thread_exit(void)
{
}

void intern__stats_init(struct intern_interp *interp)
{
	(void)interp;
}

void intern__stats_fini(struct intern_interp *interp)
{
	(void)interp;
}

struct intern__counts intern__stats_lookups(struct intern_interp *interp)
{
	(void)interp;
	return (struct intern__counts){ 0, 0 };
}

#endif
