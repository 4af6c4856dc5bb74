/*
 * thread.c: the per-thread state (thread.h) and its one exit path.
 *
 * Registration.  liburcu's memb flavor needs every reader thread
 * registered, and registering twice aborts.  libintern registers a thread
 * the first time it needs to (intern__rcu_ensure_registered(), rcu.h),
 * unless the application already did (liburcu's own per-thread
 * `registered` flag says so), and undoes only a registration of its own.
 *
 * Exit.  One pthread key, one destructor: on_thread_exit().  Anything that
 * gives a thread something to give back (a registration, a batch of dead
 * strings, a counter slot) arms it first, with a non-NULL key value.  The
 * destructor runs before pthread_join() returns, and does, in order:
 *   0. scopes: a thread that exits inside intern_scope_enter() is reported
 *      (a misuse) and its scopes are closed, so that its read-side section
 *      ends and the references its scopes hold are dropped, before
 *      anything below needs the thread outside a read-side section;
 *   1. statistics: each slot's counts go to its interpreter's `retired`
 *      counts and the thread leaves stats.c's list, so that after a join
 *      the totals are exact and no slot outlives the thread's TLS;
 *   2. reclamation: the batches go to call_rcu (rcu.c), which needs
 *      the thread registered: so before
 *   3. the registration libintern made, if any, is undone.
 * Steps 1 and 2 are independent of each other; 3 must come after 2.
 * (intern_thread_detach() refuses inside a read-side section, so step 0
 * only ever acts at exit.)
 * intern_thread_detach() runs the same three steps on a live thread, so
 * that it holds nothing of libintern's across a fork() (docs/process.md).  POSIX
 * clears the key's value before calling the destructor, so `exit_armed`
 * is cleared too: a destructor of another library that runs after ours and
 * uses libintern arms the key again, and POSIX calls ours again for it
 * (up to PTHREAD_DESTRUCTOR_ITERATIONS times).
 */
#include "thread.h"

#include <errno.h>
#include <pthread.h>

#include "intern-private.h"
#include "rcu.h"

#ifndef INTERN_NO_STATS
/* The slot a thread starts with: names no interpreter, so it never
 * matches and is never written; it may live in read-only memory. */
static const struct intern__tslot no_slot;

__thread struct intern__thread intern__self = {
	.slot_last = (struct intern__tslot *)&no_slot,
};
#else
__thread struct intern__thread intern__self;
#endif

static pthread_key_t thread_exit_key;
static pthread_once_t thread_exit_key_once = PTHREAD_ONCE_INIT;
static int thread_exit_key_err; /* 0, or why the key could not be made */

/* Threads whose liburcu registration libintern made and has not undone:
 * the fork handler compares it with the forking thread's own (rcu.c). */
static unsigned long registered_count;

unsigned long intern__thread_registered_others(void)
{
	unsigned long n = __atomic_load_n(&registered_count, __ATOMIC_RELAXED);

	return intern__self.registered_by_us ? n - 1 : n;
}

/* Steps 1 to 3: what the thread holds goes back (thread exit, and
 * intern_thread_detach()). */
static void give_back(void)
{
	intern__scope_thread_exit(); /* 0 */
	intern__stats_thread_exit(); /* 1 */
#ifndef INTERN_NO_STATS
	intern__self.slot_last = (struct intern__tslot *)&no_slot;
#endif
	intern__rcu_thread_exit(); /* 2 */
	if (intern__self.registered_by_us) {
		urcu_memb_unregister_thread(); /* 3 */
		intern__self.registered_by_us = false;
		__atomic_fetch_sub(&registered_count, 1, __ATOMIC_RELAXED);
	}
}

static void on_thread_exit(void *arg)
{
	(void)arg;
	intern__self.exit_armed = false; /* POSIX cleared the key's value */
	give_back();
}

/* The exit path, now.  The key stays armed: if the thread uses libintern
 * again, it is registered again lazily and the exit path gives that back. */
INTERN_API int intern_thread_detach(void)
{
	if (intern__in_read_section())
		return -EBUSY;
	give_back();
	return 0;
}

static void make_exit_key(void)
{
	thread_exit_key_err = -pthread_key_create(&thread_exit_key, on_thread_exit);
}

int intern__thread_arm_exit(void)
{
	int rc;

	if (intern__self.exit_armed)
		return 0;
	pthread_once(&thread_exit_key_once, make_exit_key);
	if (thread_exit_key_err)
		return thread_exit_key_err;
	/* A non-NULL value makes the destructor run at thread exit. */
	rc = pthread_setspecific(thread_exit_key, &intern__self);
	if (rc)
		return -rc;
	intern__self.exit_armed = true;
	return 0;
}

void intern__thread_register(void)
{
	urcu_memb_register_thread();
	intern__self.registered_by_us = true;
	__atomic_fetch_add(&registered_count, 1, __ATOMIC_RELAXED);
	if (intern__thread_arm_exit() < 0)
		intern__die("thread: cannot arm the thread-exit handler");
}

struct urcu_reader *intern__thread_reader(void)
{
	/* The application may have registered the thread itself: then only
	 * the cache is filled. */
	if (!urcu_memb_reader.registered)
		intern__thread_register();
	intern__self.reader = &urcu_memb_reader;
	return intern__self.reader;
}
