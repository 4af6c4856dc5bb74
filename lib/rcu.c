/*
 * rcu.c: batched deferred frees, and liburcu's calls that need a registered
 * thread.  Registration itself, and what a thread gives back when it exits,
 * are in thread.c.
 *
 * Deferred frees.  A mortal string that dies must outlive every lookup that
 * may still be reading it: it is freed after a grace period.  One call_rcu
 * per string costs an allocation-free but cross-thread hand-off per death;
 * it dominates mortal churn (docs/references.md).  So each thread
 * collects dead strings in a batch of BATCH_SIZE and queues the whole batch
 * with one call_rcu.  A thread that stops working holds at most
 * BATCH_SIZE - 1 dead strings until it exits (thread.c's exit path hands
 * the batch over), calls intern_thread_detach() (the same path) or calls
 * intern_barrier().
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "intern-private.h"
#include "thread.h"

#define BATCH_SIZE 128

struct intern__free_batch {
	struct rcu_head rcu;
	unsigned count;
	void *objs[BATCH_SIZE];
};

#ifdef INTERN_TSAN
char intern__tsan_grace;
#endif

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* This thread's liburcu reader state (rcu.h: the one TLS access). */
struct urcu_reader *intern__rcu_tls_urcu_memb_reader(void)
{
	return &urcu_memb_reader;
}

static void free_batch_cb(struct rcu_head *head)
{
	struct intern__free_batch *b = caa_container_of(head, struct intern__free_batch, rcu);

	/* The grace period has passed: every read-side section that could
	 * see these objects has ended (the edge TSan cannot see). */
	INTERN_TSAN_ACQUIRE(&intern__tsan_grace);
	INTERN_TSAN_ACQUIRE(b);
	for (unsigned i = 0; i < b->count; i++)
		intern__str_destroy(b->objs[i]);
	intern__free(b);
}

static void queue_pending(void)
{
	struct intern__free_batch *b = intern__self.pending;

	if (!b)
		return;
	intern__self.pending = NULL;
	if (b->count == 0) {
		intern__free(b);
		return;
	}
	/* The batch's contents were written by this thread; the callback
	 * runs on liburcu's call_rcu thread through a queue TSan cannot see. */
	INTERN_TSAN_RELEASE(b);
	intern__call_rcu(&b->rcu, free_batch_cb);
}

/*
 * Step 2 of thread.c's exit path.  The pending batch is flushed whoever
 * registered the thread: an application may register its threads with
 * liburcu itself, and its killers fill a batch all the same.  call_rcu
 * needs a registered caller, so a thread the application already
 * unregistered is registered for the hand-off.
 */
void intern__rcu_thread_exit(void)
{
	bool borrowed;

	if (!intern__self.pending)
		return;
	borrowed = !URCU_TLS(urcu_memb_reader).registered;
	if (borrowed)
		urcu_memb_register_thread();
	queue_pending();
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

/* A new, empty batch for this thread, armed to be flushed at exit (even on
 * a thread we did not register); NULL: out of memory. */
static struct intern__free_batch *new_batch(void)
{
	struct intern__free_batch *b = intern__malloc(sizeof(*b));

	if (!b)
		return NULL;
	if (intern__thread_arm_exit() < 0)
		intern__die("rcu: cannot arm the thread-exit handler");
	b->count = 0;
	intern__self.pending = b;
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
	struct intern__free_batch *b;

#ifdef INTERN_BUSTED_NO_GRACE
	/* Broken on purpose: no grace period, concurrent lookups may still be
	 * reading `obj`. */
	intern__str_destroy(obj);
	return;
#endif
	intern__rcu_ensure_registered();
	b = intern__self.pending ? intern__self.pending : new_batch();
	if (!b) {
		free_after_grace(obj); /* out of memory */
		return;
	}
	b->objs[b->count++] = obj;
	if (b->count == BATCH_SIZE)
		queue_pending();
}

void intern__barrier(void)
{
	intern__rcu_ensure_registered();
	queue_pending();
	urcu_memb_barrier();
}
