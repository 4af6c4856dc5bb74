/*
 * rcu.c: batched deferred frees, and liburcu's calls that need a registered
 * thread.  Registration itself, and what a thread gives back when it exits,
 * are in thread.c.
 *
 * Deferred frees.  A mortal string that dies must outlive every lookup that
 * may still be reading it: it is freed after a grace period (rule R4 of
 * table.c).  The thread that killed it frees it, not liburcu's call_rcu
 * thread: a string freed on the thread that will allocate the next one
 * goes back to that thread's allocator cache, where a free on another
 * thread contends for the allocator's locks, and churn pays it on every
 * death (docs/benchmarks.md, "Mortal churn").  So each thread keeps its
 * dead strings itself (thread.h, struct intern__reclaim):
 *
 *  - A killer appends its string to the thread's open batch.  When the
 *    batch holds BATCH_SIZE strings it is closed: it takes a grace-period
 *    ticket (below) and joins the thread's closed list.
 *  - At each close the thread frees the strings of every closed batch whose
 *    ticket a completed grace period covers, oldest first, and keeps the
 *    emptied batch for reuse.  Nothing is allocated per batch in the steady
 *    state.
 *  - Grace periods are asked of liburcu's call_rcu thread, one request in
 *    flight for the whole process: a close that finds none queues one.  A
 *    request's callback only raises `gp.done`; the call_rcu thread never
 *    touches a string.
 *  - Bounded (the killers help): a close that leaves the thread with more
 *    than THREAD_CLOSED_MAX closed batches, or the process with more than
 *    HELP_PENDING dead strings, waits for a grace period itself
 *    (synchronize_rcu) and frees every closed batch of its thread.  So a
 *    thread never holds more than THREAD_BOUND dead strings, whatever the
 *    call_rcu thread's pace; `reclaim_stats` counts them (intern.h,
 *    intern_reclaim_stats()).
 *  - Scopes end the helping.  A scope (scope.c) is a read-side section
 *    that may last a request and block on the application's locks, so a
 *    killer that holds such a lock and waits for a grace period would
 *    deadlock with a scope waiting for it.  Killers therefore wait only
 *    while no thread of the process has ever entered a scope; after that
 *    a batch over the bound goes to call_rcu, as inside a read-side
 *    section.  The handshake (intern__scope_admit() against
 *    help_begin()): a helper counts itself in `helpers`, then reads
 *    `scopes_used`; a thread entering its outermost scope sets
 *    `scopes_used`, then waits, before its read-side section begins, until
 *    `helpers` is 0.  All four accesses are sequentially consistent, so
 *    either the helper sees the flag (and does not wait) or the entering
 *    thread sees the helper (and lets its grace period end first): no
 *    helper ever waits for a scope.
 *
 * Tickets.  `gp.started` counts the grace periods asked for; a batch's
 * ticket is its value when the batch closed, read after every unlink of the
 * batch's strings (a sequentially consistent fence orders them).  A grace
 * period is asked for by taking the next value (a sequentially consistent
 * add) before starting it, and when it completes `gp.done` is raised to
 * that value.  A batch with ticket v is safe once gp.done > v: some grace
 * period whose number was taken after the batch's last unlink has
 * completed, so every read-side section that could have loaded one of its
 * strings has ended.  This is the poll interface liburcu 0.13 lacks
 * (liburcu's own counter only flips a phase bit), on our counter.
 *
 * Where a thread cannot free its own: inside the caller's own read-side
 * section (a documented misuse of intern_str_decref) it cannot wait, so a
 * batch over the bound goes to call_rcu to be freed there; a thread that
 * exits or detaches, and intern_barrier(), hand all their batches to
 * call_rcu.  A thread that stops working keeps at most THREAD_BOUND dead
 * strings until it does one of these.
 *
 * fork().  The frees run on liburcu's call_rcu thread, which a child of
 * fork() does not have: without it every free queued in the child waits
 * forever, and so does intern_barrier().  liburcu documents what a forking
 * program must call around fork(); the application does not see liburcu,
 * so the library registers those calls itself with pthread_atfork(), once,
 * before its first call_rcu (no call_rcu thread exists before that).  The
 * child gets a fresh call_rcu thread, and the callbacks queued before the
 * fork run there.  The readers are the application's part: every thread
 * but the forking one must have exited or called intern_thread_detach()
 * (thread.c counts the threads libintern keeps registered, and a checking
 * build warns in the prepare handler when others remain).  docs/process.md
 * has what fork guarantees.
 */
#include "rcu.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "intern-private.h"
#include "thread.h"

#define BATCH_SIZE 128
#define THREAD_CLOSED_MAX 16u /* closed batches a thread keeps at most */
#define HELP_PENDING 16384u   /* dead strings in the process: every killer helps */
/* The most dead strings one thread holds: its closed batches and the one
 * that just closed (the open batch is empty then). */
#define THREAD_BOUND ((THREAD_CLOSED_MAX + 1u) * BATCH_SIZE)

struct intern__free_batch {
	struct rcu_head rcu;             /* only when handed to call_rcu */
	struct intern__free_batch *next; /* the thread's closed list */
	unsigned long ticket;            /* gp.started when it closed */
	unsigned count;
	void *objs[BATCH_SIZE];
};

/* Grace periods asked for and completed (the tickets above), and the one
 * request that may be queued with call_rcu.  Written once per grace
 * period, read at each batch close. */
static struct {
	unsigned long started; /* tickets taken */
	unsigned long done;    /* the highest ticket whose grace period ended */
	unsigned long asked;   /* the queued request's ticket */
	bool inflight;         /* a request is queued */
	struct rcu_head head;
} gp __attribute__((aligned(INTERN_CACHELINE)));

/* The counts of intern_reclaim_stats(), changed once per batch. */
static struct intern_reclaim_stats counts __attribute__((aligned(INTERN_CACHELINE)));

#ifdef INTERN_TSAN
char intern__tsan_grace;
#endif

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* This thread's liburcu reader state (rcu.h: the one TLS access). */
struct urcu_reader *intern__rcu_tls_urcu_memb_reader(void)
{
	return &urcu_memb_reader;
}

/* ------------------------------------------------------------------------
 * Statistics
 * ---------------------------------------------------------------------- */

/* Raise *max to at least v. */
static void raise_to(uint64_t *max, uint64_t v)
{
	uint64_t m = __atomic_load_n(max, __ATOMIC_RELAXED);

	while (m < v &&
	       !__atomic_compare_exchange_n(max, &m, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* `n` dead strings were handed to reclamation by a thread that now holds
 * `held`. */
static void count_pending(unsigned n, unsigned held)
{
	raise_to(&counts.pending_max, __atomic_add_fetch(&counts.pending, n, __ATOMIC_RELAXED));
	raise_to(&counts.thread_max, held);
}

static void count_freed(unsigned n)
{
	__atomic_fetch_sub(&counts.pending, n, __ATOMIC_RELAXED);
	__atomic_fetch_add(&counts.freed, n, __ATOMIC_RELAXED);
}

INTERN_API int intern_reclaim_stats(struct intern_reclaim_stats *st, size_t size)
{
	struct intern_reclaim_stats now;

	if (!st || size == 0)
		return -EINVAL;
	now.pending = __atomic_load_n(&counts.pending, __ATOMIC_RELAXED);
	now.pending_max = __atomic_load_n(&counts.pending_max, __ATOMIC_RELAXED);
	now.thread_max = __atomic_load_n(&counts.thread_max, __ATOMIC_RELAXED);
	now.thread_bound = THREAD_BOUND;
	now.freed = __atomic_load_n(&counts.freed, __ATOMIC_RELAXED);
	now.helped = __atomic_load_n(&counts.helped, __ATOMIC_RELAXED);
	/* A caller compiled against an older, shorter struct gets its part. */
	memcpy(st, &now, size < sizeof(now) ? size : sizeof(now));
	return 0;
}

/* ------------------------------------------------------------------------
 * Grace-period tickets
 * ---------------------------------------------------------------------- */

/* A grace period numbered `t` has ended: raise gp.done.  Release: the frees
 * that a killer makes after reading the new value come after the grace
 * period. */
static void gp_ended(unsigned long t)
{
	unsigned long d = __atomic_load_n(&gp.done, __ATOMIC_RELAXED);

	while (d < t && !__atomic_compare_exchange_n(&gp.done, &d, t, true, __ATOMIC_RELEASE,
						     __ATOMIC_RELAXED))
		;
}

/* Take the next grace-period number.  Sequentially consistent: it comes
 * after every ticket read before it (the tickets' argument, above). */
static unsigned long gp_number(void)
{
	return __atomic_add_fetch(&gp.started, 1, __ATOMIC_SEQ_CST);
}

static void gp_request_cb(struct rcu_head *head)
{
	(void)head;
	/* After the grace period (the edge TSan cannot see), and after the
	 * requester's write of gp.asked (call_rcu's queue, invisible too). */
	INTERN_TSAN_ACQUIRE(&intern__tsan_grace);
	INTERN_TSAN_ACQUIRE(&gp.asked);
	gp_ended(gp.asked);
	__atomic_store_n(&gp.inflight, false, __ATOMIC_RELEASE);
}

/* Ask the call_rcu thread for a grace period, unless one is on its way. */
static void gp_request(void)
{
	bool idle = false;

	if (__atomic_load_n(&gp.inflight, __ATOMIC_RELAXED) ||
	    !__atomic_compare_exchange_n(&gp.inflight, &idle, true, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return;
	gp.asked = gp_number();
	INTERN_TSAN_RELEASE(&gp.asked);
	intern__call_rcu(&gp.head, gp_request_cb);
}

/* Has a grace period that covers ticket `v` ended? */
static bool gp_covers(unsigned long v)
{
#ifdef INTERN_BUSTED_EARLY_RECLAIM
	/* Broken on purpose: a closed batch counts as safe at once, before
	 * any grace period. */
	(void)v;
	return true;
#else
	return __atomic_load_n(&gp.done, __ATOMIC_ACQUIRE) > v;
#endif
}

/* ------------------------------------------------------------------------
 * Batches
 * ---------------------------------------------------------------------- */

/* ------------------------------------------------------------------------
 * Reuse
 *
 * Churn frees a string and at once allocates one much like it.  A dead
 * string whose grace period has passed is nobody's: the killer that frees
 * it keeps it, poisoned, on its thread's list for its length (lengths below
 * INTERN__REUSE_LENS, up to REUSE_MAX strings in all), and the thread's
 * next string of that length takes it (intern__str_reused(), rcu.h)
 * without a call to the allocator.  The list is linked through the header's
 * second 8 bytes (hash, state, flags, owner): the count keeps its poison
 * and the length stays, as after intern__str_destroy(), and the state byte
 * holds a pointer's bits 32-39.  Those are rarely a valid state (0 to 3:
 * about 4 regions in 256 of a mapped heap), so a stale incref or decref
 * is mostly still reported; where the byte reads 0 or 1 the poisoned
 * count still refuses it, and where it reads 2 or 3 (immortal) the call
 * writes nothing.  The kept strings go back to the allocator when the
 * thread exits, detaches or calls intern_barrier().
 * ---------------------------------------------------------------------- */

#define REUSE_MAX 2048u

/* The link fills the header from ob_hash to its end. */
_Static_assert(sizeof(struct intern_str) == 16 && offsetof(struct intern_str, ob_hash) == 8,
	       "the reuse link is the header's second 8 bytes");

/* Free dead string `s`, whose grace period has passed, on its killer's
 * thread: keep it for reuse if there is room. */
static void recycle(struct intern__reclaim *r, struct intern_str *s)
{
	const uint32_t len = s->ob_len;

	if (len >= INTERN__REUSE_LENS || r->kept >= REUSE_MAX) {
		intern__str_destroy(s);
		return;
	}
	intern__str_poison(s);
	memcpy(intern__reuse_link(s), &r->reuse[len], sizeof(s));
	r->reuse[len] = s;
	r->kept++;
}

/* Give every kept string back to the allocator. */
static void drain_reuse(struct intern__reclaim *r)
{
	for (unsigned len = 0; len < INTERN__REUSE_LENS; len++) {
		struct intern_str *s;

		while ((s = intern__str_reused(len)))
			intern__str_free_mem(s, len);
	}
}

/* Free a batch's strings (their grace period has passed) and empty it:
 * kept for reuse by `r`, the killer's thread, or given to the allocator
 * (r NULL: the call_rcu thread, which allocates no strings). */
static void destroy_strings(struct intern__free_batch *b, struct intern__reclaim *r)
{
	for (unsigned i = 0; i < b->count; i++) {
		if (r)
			recycle(r, b->objs[i]);
		else
			intern__str_destroy(b->objs[i]);
	}
	count_freed(b->count);
	b->count = 0;
}

static void free_batch_cb(struct rcu_head *head)
{
	struct intern__free_batch *b = caa_container_of(head, struct intern__free_batch, rcu);

	/* The grace period has passed: every read-side section that could
	 * see these objects has ended (the edge TSan cannot see). */
	INTERN_TSAN_ACQUIRE(&intern__tsan_grace);
	INTERN_TSAN_ACQUIRE(b);
	destroy_strings(b, NULL);
	intern__free(b);
}

/* Hand batch `b`, unlinked from the thread's lists, to call_rcu: freed
 * there after a grace period. */
static void hand_over(struct intern__free_batch *b)
{
	if (b->count == 0) {
		intern__free(b);
		return;
	}
	/* The batch's contents were written by this thread; the callback
	 * runs on liburcu's call_rcu thread through a queue TSan cannot see. */
	INTERN_TSAN_RELEASE(b);
	intern__call_rcu(&b->rcu, free_batch_cb);
}

/* The oldest closed batch, unlinked from the closed list. */
static struct intern__free_batch *pop_oldest(struct intern__reclaim *r)
{
	struct intern__free_batch *b = r->oldest;

	r->oldest = b->next;
	if (!r->oldest)
		r->newest = NULL;
	r->closed--;
	r->held -= b->count;
	return b;
}

/* Keep emptied batch `b` for the next open one (one is enough). */
static void keep_spare(struct intern__reclaim *r, struct intern__free_batch *b)
{
	if (r->spare)
		intern__free(b);
	else
		r->spare = b;
}

/* Free the closed batches whose grace period has ended, oldest first (their
 * tickets only grow), or all of them after `all` (a grace period waited
 * for by this thread). */
static void reclaim_ripe(struct intern__reclaim *r, bool all)
{
	while (r->oldest && (all || gp_covers(r->oldest->ticket))) {
		struct intern__free_batch *b = pop_oldest(r);

		/* TSan sees the grace period through gp.done: the callback or
		 * the helper acquired it (the edge it cannot see) before the
		 * release that raised gp.done, which gp_covers() acquires. */
		destroy_strings(b, r);
		keep_spare(r, b);
	}
}

/* Scopes against helpers: the handshake in the comment at the top. */
int intern__scopes_used;
unsigned long intern__helpers;

void intern__scope_admit_slow(void)
{
	if (!__atomic_load_n(&intern__scopes_used, __ATOMIC_SEQ_CST))
		__atomic_store_n(&intern__scopes_used, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&intern__helpers, __ATOMIC_SEQ_CST) != 0)
		sched_yield();
}

/* May this thread wait for a grace period?  If so, end with help_end(). */
static bool help_begin(void)
{
	/* The flag is never cleared: once it reads set, no handshake is
	 * needed, and `helpers` is not written. */
	if (urcu_memb_read_ongoing() || __atomic_load_n(&intern__scopes_used, __ATOMIC_ACQUIRE))
		return false;
	__atomic_fetch_add(&intern__helpers, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&intern__scopes_used, __ATOMIC_SEQ_CST))
		return true;
	__atomic_fetch_sub(&intern__helpers, 1, __ATOMIC_SEQ_CST);
	return false;
}

static void help_end(void)
{
	__atomic_fetch_sub(&intern__helpers, 1, __ATOMIC_SEQ_CST);
}

/*
 * Help: wait for a grace period here and free every closed batch.  Where
 * waiting could deadlock (inside the caller's own read-side section, a
 * misuse; or once scopes are in use, see the top) the oldest batches go
 * to call_rcu instead, down to the bound.
 */
static void help(struct intern__reclaim *r)
{
	if (!help_begin()) {
		while (r->closed > THREAD_CLOSED_MAX)
			hand_over(pop_oldest(r));
		return;
	}
	/* Every batch on the list took its ticket before this number. */
	const unsigned long t = gp_number();

	intern__synchronize();
	help_end();
	gp_ended(t);
	__atomic_fetch_add(&counts.helped, 1, __ATOMIC_RELAXED);
	reclaim_ripe(r, true);
}

/* Close the open batch: ticket it, list it, free what is ripe, and help
 * when the backlog passed a bound.  Then ask for a grace period if the
 * oldest batch still waits for one. */
static void close_open(struct intern__reclaim *r)
{
	struct intern__free_batch *b = r->open;

	r->open = NULL;
	b->next = NULL;
	/* After every unlink of the batch's strings (tickets, above). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	b->ticket = __atomic_load_n(&gp.started, __ATOMIC_RELAXED);
	if (r->newest)
		r->newest->next = b;
	else
		r->oldest = b;
	r->newest = b;
	r->closed++;
	r->held += b->count;
	count_pending(b->count, r->held);
	reclaim_ripe(r, false);
	if (r->closed > THREAD_CLOSED_MAX ||
	    (r->closed && __atomic_load_n(&counts.pending, __ATOMIC_RELAXED) > HELP_PENDING))
		help(r);
	if (r->oldest)
		gp_request();
}

/* Hand every batch of this thread, open and closed, to call_rcu. */
static void hand_over_all(void)
{
	struct intern__reclaim *r = &intern__self.reclaim;

	if (r->open) {
		struct intern__free_batch *b = r->open;

		r->open = NULL;
		count_pending(b->count, r->held + b->count);
		hand_over(b);
	}
	while (r->oldest)
		hand_over(pop_oldest(r));
	if (r->spare) {
		intern__free(r->spare);
		r->spare = NULL;
	}
	drain_reuse(r);
}

/*
 * Step 2 of thread.c's exit path.  The batches are handed over whoever
 * registered the thread: an application may register its threads with
 * liburcu itself, and its killers fill a batch all the same.  call_rcu
 * needs a registered caller, so a thread the application already
 * unregistered is registered for the hand-off.
 */
void intern__rcu_thread_exit(void)
{
	const struct intern__reclaim *r = &intern__self.reclaim;
	bool borrowed;

	drain_reuse(&intern__self.reclaim); /* needs no registration */
	if (!r->open && !r->oldest && !r->spare)
		return;
	borrowed = !URCU_TLS(urcu_memb_reader).registered;
	if (borrowed)
		urcu_memb_register_thread();
	hand_over_all();
	if (borrowed)
		urcu_memb_unregister_thread();
}

/* liburcu's fork protocol for call_rcu: the parent's call_rcu threads
 * pause at a point where they hold nothing across fork(); the child
 * replaces them with a new thread that inherits their queued callbacks. */
static void before_fork(void)
{
#ifndef NDEBUG
	/* Their reader nodes would stay on liburcu's registry in the child,
	 * where the threads are gone: its grace periods hang or crash. */
	unsigned long others = intern__thread_registered_others();

	if (others)
		fprintf(stderr,
			"libintern: fork() with %lu other threads still "
			"registered; call intern_thread_detach() in them first "
			"(docs/process.md)\n",
			others);
#endif
	urcu_memb_call_rcu_before_fork();
}

static void after_fork_parent(void)
{
	urcu_memb_call_rcu_after_fork_parent();
}

static void after_fork_child(void)
{
	urcu_memb_call_rcu_after_fork_child();
}

static void arm_fork(void)
{
	if (pthread_atfork(before_fork, after_fork_parent, after_fork_child) != 0)
		intern__die("rcu: cannot register the fork handlers");
}

void intern__call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *))
{
	/* liburcu wants call_rcu from registered threads: it reads its
	 * per-CPU call_rcu data inside a read-side section. */
	intern__rcu_ensure_registered();
	/* Before the call that may start the call_rcu thread. */
	pthread_once(&fork_once, arm_fork);
	urcu_memb_call_rcu(head, func);
}

void intern__synchronize(void)
{
	intern__rcu_ensure_registered();
	urcu_memb_synchronize_rcu();
	/* The grace period orders every earlier read-side section before what
	 * the caller does next (the edge TSan cannot see). */
	INTERN_TSAN_ACQUIRE(&intern__tsan_grace);
}

/* An empty open batch for this thread, armed to be handed over at exit
 * (even on a thread we did not register); NULL: out of memory. */
static struct intern__free_batch *open_batch(struct intern__reclaim *r)
{
	struct intern__free_batch *b = r->spare;

	if (b) {
		r->spare = NULL;
	} else {
		b = intern__malloc(sizeof(*b));
		if (!b)
			return NULL;
		if (intern__thread_arm_exit() < 0)
			intern__die("rcu: cannot arm the thread-exit handler");
		b->count = 0;
	}
	r->open = b;
	return b;
}

/* intern__defer_free() without a batch: wait for the grace period here.
 * Not inside a read-side section: that would wait for itself.  Inside a
 * libintern scope the string waits for the scope's end (scope.c); inside
 * the caller's own section (against the contract of intern_str_decref),
 * or with too many parked, keep the string instead. */
static void free_after_grace(void *obj)
{
	if (urcu_memb_read_ongoing()) {
		if (intern__scope_park(obj))
			return;
		intern__misuse("decref inside a liburcu read-side section, out of "
			       "memory: %p is kept, not freed",
			       obj);
		return;
	}
	intern__synchronize();
	intern__str_destroy(obj);
}

void intern__defer_free(void *obj)
{
	struct intern__reclaim *r = &intern__self.reclaim;
	struct intern__free_batch *b;

#ifdef INTERN_BUSTED_NO_GRACE
	/* Broken on purpose: no grace period, concurrent lookups may still be
	 * reading `obj`. */
	intern__str_destroy(obj);
	return;
#endif
	intern__rcu_ensure_registered();
	b = r->open ? r->open : open_batch(r);
	if (!b) {
		free_after_grace(obj); /* out of memory */
		return;
	}
	b->objs[b->count++] = obj;
	if (b->count == BATCH_SIZE)
		close_open(r);
}

void intern__reclaim_now(void)
{
	struct intern__reclaim *r = &intern__self.reclaim;

	intern__rcu_ensure_registered();
	if (r->open && r->open->count)
		close_open(r);
	if (r->oldest)
		help(r);
}

void intern__barrier(void)
{
	intern__rcu_ensure_registered();
	hand_over_all();
	urcu_memb_barrier();
}
