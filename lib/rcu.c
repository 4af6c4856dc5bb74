/*
 * rcu.c: lazy RCU reader registration and batched deferred frees.
 *
 * Registration.  liburcu's memb flavor needs every reader thread
 * registered, and registering twice aborts.  We register a thread the
 * first time it enters a read-side section, unless the application already
 * did (liburcu's own per-thread `registered` flag tells us), and
 * unregister it from a pthread key destructor when it exits.  Before
 * unregistering we hand the thread's pending free batch to call_rcu, which
 * needs a registered caller.
 *
 * Deferred frees.  A mortal string that dies must outlive every lookup that
 * may still be reading it: it is freed after a grace period.  One call_rcu
 * per string costs an allocation-free but cross-thread hand-off per death;
 * it dominates mortal churn (docs/references.md).  So each thread
 * collects dead strings in a batch of BATCH_SIZE and queues the whole batch
 * with one call_rcu.  A thread that stops working holds at most
 * BATCH_SIZE - 1 dead strings until it exits or calls intern_barrier().
 *
 * fork().  The frees run on liburcu's call_rcu thread, which a child of
 * fork() does not have: without it every free queued in the child waits
 * forever, and so does intern_barrier().  liburcu documents what a forking
 * program must call around fork(); the application does not see liburcu,
 * so the library registers those calls itself with pthread_atfork(), once,
 * before its first call_rcu (no call_rcu thread exists before that).  The
 * child gets a fresh call_rcu thread, and the callbacks queued before the
 * fork run there.  docs/process.md has what fork guarantees.
 */
#include "rcu.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "intern-private.h"

#define BATCH_SIZE 128

struct free_batch {
	struct rcu_head rcu;
	unsigned count;
	void *objs[BATCH_SIZE];
};

#ifdef INTERN_TSAN
char intern__tsan_grace;
#endif

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static __thread int registered_by_us;
static __thread struct free_batch *pending;

/* This thread's liburcu reader state (rcu.h: the one TLS access). */
struct urcu_reader *intern__rcu_tls_urcu_memb_reader(void)
{
	return &urcu_memb_reader;
}

static void free_batch_cb(struct rcu_head *head)
{
	struct free_batch *b = caa_container_of(head, struct free_batch, rcu);

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
	struct free_batch *b = pending;

	if (!b)
		return;
	pending = NULL;
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
 * Thread exit.  The pending batch is flushed whoever registered the thread:
 * an application may register its threads with liburcu itself, and its
 * killers fill a batch all the same.  call_rcu needs a registered caller,
 * so a thread the application already unregistered is registered for the
 * hand-off.  Only a registration of ours is undone.
 */
static void on_thread_exit(void *arg)
{
	(void)arg;
	if (pending) {
		bool borrowed = !URCU_TLS(urcu_memb_reader).registered;

		if (borrowed)
			urcu_memb_register_thread();
		queue_pending();
		if (borrowed)
			urcu_memb_unregister_thread();
	}
	if (registered_by_us) {
		urcu_memb_unregister_thread();
		registered_by_us = 0;
	}
}

static void make_exit_key(void)
{
	if (pthread_key_create(&exit_key, on_thread_exit) != 0)
		intern__die("rcu: cannot create the thread-exit key");
}

/* Make on_thread_exit run when this thread exits. */
static void arm_exit(void)
{
	pthread_once(&exit_key_once, make_exit_key);
	/* A non-NULL value makes the destructor run at thread exit. */
	if (pthread_setspecific(exit_key, (void *)1) != 0)
		intern__die("rcu: cannot arm the thread-exit handler");
}

void intern__rcu_register_slow(void)
{
	urcu_memb_register_thread();
	registered_by_us = 1;
	arm_exit();
}

/* liburcu's fork protocol for call_rcu: the parent's call_rcu threads
 * pause at a point where they hold nothing across fork(); the child
 * replaces them with a new thread that inherits their queued callbacks. */
static void before_fork(void)
{
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
	if (!URCU_TLS(urcu_memb_reader).registered)
		intern__rcu_register_slow();
	/* Before the call that may start the call_rcu thread. */
	pthread_once(&fork_once, arm_fork);
	urcu_memb_call_rcu(head, func);
}

void intern__synchronize(void)
{
	if (!URCU_TLS(urcu_memb_reader).registered)
		intern__rcu_register_slow();
	urcu_memb_synchronize_rcu();
	/* The grace period orders every earlier read-side section before what
	 * the caller does next (the edge TSan cannot see). */
	INTERN_TSAN_ACQUIRE(&intern__tsan_grace);
}

void intern__defer_free(void *obj)
{
#ifdef INTERN_BUSTED_NO_GRACE
	/* Broken on purpose: no grace period, concurrent lookups may still be
	 * reading `obj`. */
	intern__str_destroy(obj);
	return;
#endif
	if (!URCU_TLS(urcu_memb_reader).registered)
		intern__rcu_register_slow();
	if (!pending) {
		pending = intern__malloc(sizeof(*pending));
		if (!pending) {
			/* Out of memory: wait for the grace period here.  Not
			 * inside the caller's own read-side section (the
			 * documented contract of intern_str_decref): that would
			 * wait for itself, so keep the string instead. */
			if (urcu_memb_read_ongoing()) {
				intern__misuse("decref inside a liburcu read-side section, out of "
					       "memory: %p is kept, not freed", obj);
				return;
			}
			urcu_memb_synchronize_rcu();
			INTERN_TSAN_ACQUIRE(&intern__tsan_grace);
			intern__str_destroy(obj);
			return;
		}
		pending->count = 0;
		arm_exit(); /* flushed at exit, even on a thread we did not register */
	}
	pending->objs[pending->count++] = obj;
	if (pending->count == BATCH_SIZE)
		queue_pending();
}

void intern__barrier(void)
{
	if (!URCU_TLS(urcu_memb_reader).registered)
		intern__rcu_register_slow();
	queue_pending();
	urcu_memb_barrier();
}
