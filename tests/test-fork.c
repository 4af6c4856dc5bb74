/*
 * fork() (lib/rcu.c, docs/process.md): a process whose strings have died
 * (so liburcu's call_rcu thread exists) forks; the child interns 10^5
 * strings, lets them all die, and intern_barrier() must return with their
 * memory given back, while the strings interned before the fork are still
 * the canonical ones.  The parent checks the child's exit status, then
 * goes on using the library itself.  Without the library's fork handlers
 * the child has no call_rcu thread: its barrier never returns (the alarm
 * kills it) and the dead strings are never freed.
 *
 * Other threads of the parent that used the library must have exited or
 * called intern_thread_detach() by the fork: liburcu's memb registry of
 * readers goes to the child with their nodes in it, on stacks glibc hands
 * to the child's new threads, and the child's grace periods hang.  Two
 * tests fork with such threads: alive but detached, and exited; the child
 * starts threads of its own before the checks above.
 *
 * Check forks each test too; every interpreter is made inside the test.
 * White box only for INTERN_TEST_HASH (it links the static build).
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hash.h" /* INTERN_TEST_HASH */
#include "rcu.h"  /* intern__read_lock: detaching inside a read section */
#include "test-util.h"

/* In a total-collision build (-Dtest_hash) every insert walks one probe
 * chain: fewer strings, or the child would take minutes. */
#define CHILD_STRINGS (INTERN_TEST_HASH ? 2000 : 100000)
#define CHILD_SECONDS 20
#define WORKERS 4
/* Not a multiple of the batch size: each worker keeps a partial batch. */
#define WORKER_STRINGS 300

/* The child's checks: its exit status says which failed (0: all held). */
enum {
	CHILD_OK = 0,
	CHILD_NOT_CANONICAL = 2,
	CHILD_INTERN_FAILED = 3,
	CHILD_MEMORY_KEPT = 4,
	CHILD_CHECK_FAILED = 5,
	CHILD_NO_MEMORY = 6,
};

/* ASan's allocator reports here (weak: absent otherwise). */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

/* Bytes the allocator has handed out and not had back: glibc's figure, or
 * ASan's when it replaces malloc.  0 where neither is known (valgrind). */
static size_t heap_in_use(void)
{
	if (__sanitizer_get_current_allocated_bytes)
		return __sanitizer_get_current_allocated_bytes();
	struct mallinfo2 mi = mallinfo2();

	/* Blocks malloc mmapped (the string allocator's regions may be) too. */
	return mi.uordblks + mi.hblkhd;
}

static int child(struct intern_interp *interp, struct intern_str *before_fork)
{
	char buf[48];
	struct intern_str **held = malloc(CHILD_STRINGS * sizeof(*held));
	struct intern_str *again;
	size_t start, peak, end;

	if (!held)
		return CHILD_NO_MEMORY;
	/* A hang in the barrier is a failure, not a test timeout.  Check's
	 * own SIGALRM handler would kill the whole test: the default action
	 * kills this child only. */
	signal(SIGALRM, SIG_DFL);
	alarm(CHILD_SECONDS);
	again = intern_bytes(interp, "interned-before-fork", 20);
	if (again != before_fork)
		return CHILD_NOT_CANONICAL;
	intern_str_decref(again);

	intern_barrier();
	start = heap_in_use();
	for (unsigned i = 0; i < CHILD_STRINGS; i++) {
		snprintf(buf, sizeof(buf), "child-string-%u", i);
		held[i] = intern_bytes(interp, buf, strlen(buf));
		if (!held[i])
			return CHILD_INTERN_FAILED;
	}
	peak = heap_in_use();
	for (unsigned i = 0; i < CHILD_STRINGS; i++)
		intern_str_decref(held[i]);
	intern_barrier();
	end = heap_in_use();
	fprintf(stderr, "child: heap in use %zu -> %zu -> %zu bytes\n", start, peak, end);
	/* Every string and the table room they took come back; allow a few
	 * pages of shard arrays and batches.  (An allocator that reports
	 * nothing, valgrind's, leaves only the barrier to check.)  The peak
	 * shows the strings were counted at all; the string allocator takes
	 * memory from malloc a region (up to 1 MiB) at a time, so the 2,000
	 * strings of a constant-hash build may fit in a region the parent
	 * left partly free, and only the larger run checks it. */
	if (peak != 0 && (end > start + 64 * 1024 ||
			  (!INTERN_TEST_HASH && peak < start + CHILD_STRINGS * 32u)))
		return CHILD_MEMORY_KEPT;
	if (intern_interp_check(interp) != 0)
		return CHILD_CHECK_FAILED;
	/* The child's copy of the parent's reference, and its own memory:
	 * a leak checker that follows the child sees nothing left. */
	intern_str_decref(before_fork);
	intern_interp_free(interp);
	intern_barrier();
	free(held);
	return CHILD_OK;
}

START_TEST(test_fork_after_deaths)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *kept, *s;
	char buf[32];
	int status;
	pid_t pid;

	/* Deaths before the fork: the call_rcu thread runs, batches queued. */
	for (unsigned i = 0; i < 10000; i++) {
		snprintf(buf, sizeof(buf), "parent-string-%u", i);
		s = intern_bytes(interp, buf, strlen(buf));
		ck_assert_ptr_nonnull(s);
		intern_str_decref(s);
	}
	kept = intern_bytes(interp, "interned-before-fork", 20);
	ck_assert_ptr_nonnull(kept);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child(interp, kept));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(!WIFSIGNALED(status), "child killed by signal %d%s", WTERMSIG(status),
		      WTERMSIG(status) == SIGALRM ? " (intern_barrier hung)" : "");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK,
		      "child failed with status %d", WEXITSTATUS(status));

	/* The parent's call_rcu thread runs again after the fork. */
	for (unsigned i = 0; i < 10000; i++) {
		snprintf(buf, sizeof(buf), "parent-after-%u", i);
		s = intern_bytes(interp, buf, strlen(buf));
		ck_assert_ptr_nonnull(s);
		intern_str_decref(s);
	}
	intern_barrier();
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_str_decref(kept);
	intern_interp_free(interp);
	intern_barrier();
}
END_TEST

/* Two generations: a child forks a grandchild, which must work too. */
START_TEST(test_fork_twice)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *kept = intern_bytes(interp, "interned-before-fork", 20);
	struct intern_str *s;
	int status;
	pid_t pid;

	ck_assert_ptr_nonnull(kept);
	s = intern_bytes(interp, "dies-before-fork", 16);
	intern_str_decref(s);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pid_t grandchild;

		signal(SIGALRM, SIG_DFL);
		alarm(CHILD_SECONDS);
		s = intern_bytes(interp, "dies-in-child", 13);
		intern_str_decref(s);
		intern_barrier();
		grandchild = fork();
		if (grandchild < 0)
			_exit(1);
		if (grandchild == 0)
			_exit(child(interp, kept));
		if (waitpid(grandchild, &status, 0) != grandchild || !WIFEXITED(status))
			_exit(1);
		/* Its own copies, as the grandchild did (for leak checkers). */
		intern_str_decref(kept);
		intern_interp_free(interp);
		intern_barrier();
		_exit(WEXITSTATUS(status));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK,
		      "child or grandchild failed (status %#x)", status);
	intern_str_decref(kept);
	intern_interp_free(interp);
	intern_barrier();
}
END_TEST

/* Intern WORKER_STRINGS strings named after `tag` and let them all die. */
static void churn(struct intern_interp *interp, unsigned tag)
{
	char buf[48];

	for (unsigned i = 0; i < WORKER_STRINGS; i++) {
		struct intern_str *s;

		snprintf(buf, sizeof(buf), "thread-%u-string-%u", tag, i);
		s = intern_bytes(interp, buf, strlen(buf));
		if (s)
			intern_str_decref(s);
	}
}

/* What each worker does once its strings have died. */
enum worker_end {
	WORKER_EXITS,
	WORKER_DETACHES, /* calls intern_thread_detach(), then waits */
	WORKER_WAITS,    /* waits, still registered (a misuse before fork) */
};

/* Threads that used the library before the fork.  A worker that waits
 * does so alive and outside any libintern call, until stop_workers(). */
struct workers {
	struct intern_interp *interp;
	enum worker_end end;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned started;      /* atomic: names each worker's strings */
	unsigned ready;        /* lock */
	unsigned detach_failed; /* lock */
	bool release;          /* lock */
	pthread_t tid[WORKERS];
};

static void *worker(void *arg)
{
	struct workers *w = arg;
	int rc = 0;

	churn(w->interp, 1 + __atomic_fetch_add(&w->started, 1, __ATOMIC_RELAXED));
	if (w->end == WORKER_EXITS)
		return NULL;
	if (w->end == WORKER_DETACHES)
		rc = intern_thread_detach();
	pthread_mutex_lock(&w->lock);
	w->detach_failed += rc != 0;
	w->ready++;
	pthread_cond_broadcast(&w->cond);
	while (!w->release)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Start the workers; return once each is waiting, or has exited. */
static void start_workers(struct workers *w)
{
	for (unsigned i = 0; i < WORKERS; i++)
		ck_assert_int_eq(pthread_create(&w->tid[i], NULL, worker, w), 0);
	if (w->end == WORKER_EXITS) {
		for (unsigned i = 0; i < WORKERS; i++)
			ck_assert_int_eq(pthread_join(w->tid[i], NULL), 0);
		return;
	}
	pthread_mutex_lock(&w->lock);
	while (w->ready < WORKERS)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	ck_assert_int_eq(w->detach_failed, 0);
}

static void stop_workers(struct workers *w)
{
	if (w->end == WORKER_EXITS)
		return;
	pthread_mutex_lock(&w->lock);
	w->release = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < WORKERS; i++)
		ck_assert_int_eq(pthread_join(w->tid[i], NULL), 0);
}

static void *child_thread(void *arg)
{
	churn(arg, 1000);
	return NULL;
}

/* The child of a parent with workers: threads of its own first (glibc may
 * give them the parent's workers' stacks), then child()'s checks. */
static int child_with_threads(struct intern_interp *interp, struct intern_str *before_fork)
{
	pthread_t tid[WORKERS];

	signal(SIGALRM, SIG_DFL);
	alarm(CHILD_SECONDS);
	for (unsigned i = 0; i < WORKERS; i++)
		if (pthread_create(&tid[i], NULL, child_thread, interp) != 0)
			return CHILD_CHECK_FAILED;
	for (unsigned i = 0; i < WORKERS; i++)
		pthread_join(tid[i], NULL);
	return child(interp, before_fork);
}

/* Under valgrind (its preload is in LD_PRELOAD)?  memcheck checks the
 * child of a multithreaded parent for leaks at its exit and reports the
 * vanished workers' thread stacks, which no child can free, so the exit
 * status it gives that child says nothing about libintern. */
static bool under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload && strstr(preload, "vgpreload");
}

/* Fork with workers that `end` so, and check the child (not under
 * valgrind: see under_valgrind(); every other build runs it). */
static void fork_with_workers(enum worker_end end)
{
	struct workers w = {
		.interp = test_interp(0),
		.end = end,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	struct intern_str *kept = intern_bytes(w.interp, "interned-before-fork", 20);
	int status;
	pid_t pid;

	ck_assert_ptr_nonnull(kept);
	if (under_valgrind()) {
		intern_str_decref(kept);
		intern_interp_free(w.interp);
		return;
	}
	churn(w.interp, 0);
	intern_barrier(); /* the call_rcu thread and the fork handlers exist */
	start_workers(&w);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_with_threads(w.interp, kept));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(!WIFSIGNALED(status), "child killed by signal %d%s", WTERMSIG(status),
		      WTERMSIG(status) == SIGALRM ? " (intern_barrier hung)" : "");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK,
		      "child failed with status %d", WEXITSTATUS(status));

	stop_workers(&w);
	intern_barrier();
	ck_assert_int_eq(intern_interp_check(w.interp), 0);
	intern_str_decref(kept);
	intern_interp_free(w.interp);
	intern_barrier();
}

/* Workers alive at the fork, each detached. */
START_TEST(test_fork_detached_workers)
{
	fork_with_workers(WORKER_DETACHES);
}
END_TEST

/* Workers that exited before the fork (their exit unregistered them). */
START_TEST(test_fork_exited_workers)
{
	fork_with_workers(WORKER_EXITS);
}
END_TEST

/* A fork with a worker that did not detach: a checking build warns, once,
 * on stderr (read through a pipe).  The child does nothing: it could hang. */
START_TEST(test_fork_warns_undetached)
{
	struct workers w = {
		.interp = test_interp(0),
		.end = WORKER_WAITS,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	char said[512] = "";
	int fds[2], saved, status;
	ssize_t n;
	pid_t pid;

	churn(w.interp, 0); /* the fork handlers exist */
	start_workers(&w);
	ck_assert_int_eq(pipe(fds), 0);
	fflush(stderr);
	saved = dup(2);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fds[1], 2), 0);
	pid = fork();
	if (pid == 0)
		_exit(0);
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	ck_assert_int_ge(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	n = read(fds[0], said, sizeof(said) - 1);
	close(fds[0]);
	said[n > 0 ? n : 0] = '\0';
#ifndef NDEBUG
	ck_assert_msg(strstr(said, "libintern: fork() with 4 other threads still registered; "
				   "call intern_thread_detach() in them first"),
		      "no warning: \"%s\"", said);
#else
	ck_assert_str_eq(said, "");
#endif
	stop_workers(&w);
	intern_barrier();
	intern_interp_free(w.interp);
	intern_barrier();
}
END_TEST

/* A detached thread that uses the library again is registered again, and
 * its exit gives that back: nothing leaks, every string is freed. */
static void *detach_and_return(void *arg)
{
	churn(arg, 1);
	if (intern_thread_detach() != 0)
		return arg;
	if (intern_thread_detach() != 0) /* nothing held: harmless */
		return arg;
	churn(arg, 2);
	return NULL;
}

/* Inside a read-side section a detach would unregister an active reader:
 * it refuses and gives nothing back. */
START_TEST(test_detach_in_read_section)
{
	struct intern_interp *interp = test_interp(0);
	int rc;

	churn(interp, 3);
	intern__read_lock();
	rc = intern_thread_detach();
	intern__read_unlock();
	ck_assert_int_eq(rc, -EBUSY);
	ck_assert(URCU_TLS(urcu_memb_reader).registered);
	ck_assert_int_eq(intern_thread_detach(), 0);
	intern_interp_free(interp);
	intern_barrier();
}
END_TEST

START_TEST(test_detach_then_reuse)
{
	struct intern_interp *interp = test_interp(0);
	void *ret = interp;
	pthread_t tid;

	ck_assert_int_eq(pthread_create(&tid, NULL, detach_and_return, interp), 0);
	ck_assert_int_eq(pthread_join(tid, &ret), 0);
	ck_assert_ptr_null(ret);
	intern_barrier();
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
	intern_barrier();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fork");
	TCase *tc = tcase_create("fork");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fork_after_deaths);
	tcase_add_test(tc, test_fork_twice);
	tcase_add_test(tc, test_fork_detached_workers);
	tcase_add_test(tc, test_fork_exited_workers);
	tcase_add_test(tc, test_detach_then_reuse);
	tcase_add_test(tc, test_detach_in_read_section);
	tcase_add_test(tc, test_fork_warns_undetached);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
