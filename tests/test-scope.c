/*
 * References borrowed for a scope (lib/scope.c) and the map insert that
 * steals its key: borrowed hits write no count, borrowing inserts hold
 * their string until the outermost scope ends, scopes nest, promotion
 * counts a live string and re-interns a dying one, a string that dies
 * while another thread has it borrowed stays readable until that scope
 * ends (threads hammering it: ASan and valgrind see any use after free),
 * calls outside a scope fail, and an exit without an enter is a misuse.
 * White box (the static library) for allocation-failure injection: a last
 * decref inside a scope whose free cannot be queued waits for the scope.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h" /* fault injection */
#include "test-util.h"

static struct intern_str *must_bytes(struct intern_interp *in, const char *text)
{
	struct intern_str *s = intern_bytes(in, text, strlen(text));

	ck_assert_ptr_nonnull(s);
	return s;
}

/* Is `text` interned in `in` right now?  (A counted lookup, given back.) */
static bool interned(struct intern_interp *in, const char *text)
{
	struct intern_str *s = intern_lookup(in, text, strlen(text));

	intern_str_decref(s);
	return s != NULL;
}

START_TEST(test_borrowed_hit_writes_nothing)
{
	struct intern_interp *in = intern_interp_new(NULL);
	struct intern_str *s = must_bytes(in, "content-length");

	intern_scope_enter();
	ck_assert_uint_eq(intern_scope_depth(), 1);
	ck_assert_ptr_eq(intern_borrow(in, "content-length", 14), s);
	ck_assert_ptr_eq(intern_lookup_borrowed(in, "content-length", 14), s);
	ck_assert_uint_eq(test_refcnt(s), 1);
	intern_scope_exit();
	ck_assert_uint_eq(intern_scope_depth(), 0);
	ck_assert_uint_eq(test_refcnt(s), 1);
	intern_str_decref(s);
	intern_interp_free(in);
}
END_TEST

START_TEST(test_borrowed_insert_lives_until_scope_end)
{
	struct intern_interp *in = intern_interp_new(NULL);
	struct intern_str *b;

	intern_scope_enter();
	errno = 0;
	ck_assert_ptr_null(intern_lookup_borrowed(in, "x-request-id", 12));
	ck_assert_int_eq(errno, ENOENT);
	b = intern_borrow(in, "x-request-id", 12);
	ck_assert_content(b, "x-request-id", 12);
	ck_assert_int_eq(intern_str_state(b), INTERN_MORTAL);
	/* The scope holds the one counted reference. */
	ck_assert_uint_eq(test_refcnt(b), 1);
	ck_assert_ptr_eq(intern_lookup_borrowed(in, "x-request-id", 12), b);
	ck_assert_ptr_eq(intern_borrow(in, "x-request-id", 12), b);
	ck_assert_uint_eq(test_refcnt(b), 1);
	intern_scope_exit();
	ck_assert(!interned(in, "x-request-id"));
	ck_assert_int_eq(intern_interp_check(in), 0);
	intern_interp_free(in);
}
END_TEST

START_TEST(test_nesting)
{
	struct intern_interp *in = intern_interp_new(NULL);
	struct intern_str *b;

	intern_scope_enter();
	intern_scope_enter();
	ck_assert_uint_eq(intern_scope_depth(), 2);
	b = intern_borrow(in, "accept-encoding", 15);
	ck_assert_ptr_nonnull(b);
	intern_scope_exit();
	/* Still inside the outer scope: the string is held. */
	ck_assert_uint_eq(intern_scope_depth(), 1);
	ck_assert_ptr_eq(intern_lookup_borrowed(in, "accept-encoding", 15), b);
	ck_assert_content(b, "accept-encoding", 15);
	intern_scope_exit();
	ck_assert(!interned(in, "accept-encoding"));
	intern_interp_free(in);
}
END_TEST

START_TEST(test_builtins_and_immortals)
{
	struct intern_interp *in = intern_interp_new(NULL);
	struct intern_str *imm = intern_str_new("server", 6);

	ck_assert_int_eq(intern_immortal(in, &imm), 0);
	intern_scope_enter();
	ck_assert_ptr_eq(intern_borrow(in, "x", 1), intern_latin1('x'));
	ck_assert_ptr_eq(intern_borrow(in, "", 0), intern_empty());
	ck_assert_ptr_eq(intern_lookup_borrowed(in, "200", 3), intern_int(in, 200));
	ck_assert_ptr_eq(intern_borrow(in, "server", 6), imm);
	ck_assert_ptr_eq(intern_promote(in, imm), imm); /* uncounted */
	intern_scope_exit();
	intern_interp_free(in);
}
END_TEST

START_TEST(test_promote_live)
{
	struct intern_interp *in = intern_interp_new(NULL);
	struct intern_str *s = must_bytes(in, "user-agent"), *b, *kept;

	intern_scope_enter();
	b = intern_borrow(in, "user-agent", 10);
	kept = intern_promote(in, b);
	ck_assert_ptr_eq(kept, s);
	ck_assert_uint_eq(test_refcnt(s), 2);
	intern_scope_exit();
	intern_str_decref(s);
	/* The promoted reference keeps it past the scope. */
	ck_assert(interned(in, "user-agent"));
	ck_assert_content(kept, "user-agent", 10);
	intern_str_decref(kept);
	ck_assert(!interned(in, "user-agent"));
	intern_interp_free(in);
}
END_TEST

/* A string whose last counted holder lets go inside the scope: removed at
 * once, still readable, and promotion re-interns its bytes. */
START_TEST(test_promote_dying)
{
	struct intern_interp *in = intern_interp_new(NULL);
	struct intern_str *s = must_bytes(in, "cache-control"), *b, *kept;

	intern_scope_enter();
	b = intern_borrow(in, "cache-control", 13);
	ck_assert_ptr_eq(b, s);
	intern_str_decref(s); /* the last reference: dies inside the scope */
	ck_assert_uint_eq(test_refcnt(b), 0);
	ck_assert_content(b, "cache-control", 13);
	errno = 0;
	ck_assert_ptr_null(intern_lookup_borrowed(in, "cache-control", 13));
	ck_assert_int_eq(errno, ENOENT);
	kept = intern_promote(in, b);
	ck_assert_ptr_nonnull(kept);
	ck_assert_ptr_ne(kept, b);
	ck_assert_content(kept, "cache-control", 13);
	ck_assert_uint_eq(test_refcnt(kept), 1);
	ck_assert_content(b, "cache-control", 13); /* the corpse, unchanged */
	intern_scope_exit();
	ck_assert_int_eq(intern_interp_check(in), 0);
	intern_str_decref(kept);
	intern_barrier();
	intern_interp_free(in);
}
END_TEST

START_TEST(test_outside_a_scope)
{
	struct intern_interp *in = intern_interp_new(NULL);
	struct intern_str *s = must_bytes(in, "host");

	errno = 0;
	ck_assert_ptr_null(intern_borrow(in, "host", 4));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_lookup_borrowed(in, "host", 4));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_promote(in, s));
	ck_assert_int_eq(errno, EINVAL);
	intern_scope_enter();
	errno = 0;
	ck_assert_ptr_null(intern_borrow(NULL, "host", 4));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_borrow(in, NULL, 4));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_promote(in, NULL));
	ck_assert_int_eq(errno, EINVAL);
	intern_scope_exit();
	ck_assert_uint_eq(test_refcnt(s), 1);
	intern_str_decref(s);
	intern_interp_free(in);
}
END_TEST

static void exit_without_enter(void *arg)
{
	(void)arg;
	intern_scope_exit();
	if (intern_scope_depth() != 0)
		_exit(3);
}

START_TEST(test_exit_without_enter_is_misuse)
{
	char err[512];
	int status = test_in_child(exit_without_enter, NULL, err, sizeof(err));

	ck_assert_msg(strstr(err, "intern_scope_exit() without intern_scope_enter()") != NULL,
		      "%s", err);
	if (TEST_CHECKING_BUILD) {
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x",
			      status);
	} else {
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
		ck_assert_msg(strstr(err, "(ignored)") != NULL, "%s", err);
	}
}
END_TEST

/* intern_interp_free() inside a scope would wait for its own grace period:
 * refused as a misuse before anything is torn down. */
static void free_inside_scope(void *arg)
{
	struct intern_interp *in = intern_interp_new(NULL);
	struct intern_str *s = intern_bytes(in, "still-here", 10);

	(void)arg;
	intern_scope_enter();
	intern_interp_free(in); /* refused */
	intern_barrier();       /* refused */
	intern_scope_exit();
	if (!interned(in, "still-here"))
		_exit(3);
	intern_str_decref(s);
	intern_interp_free(in);
}

START_TEST(test_free_inside_scope_is_misuse)
{
	char err[1024];
	int status = test_in_child(free_inside_scope, NULL, err, sizeof(err));

	ck_assert_msg(strstr(err, "intern_interp_free inside a scope") != NULL, "%s", err);
	if (TEST_CHECKING_BUILD) {
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x",
			      status);
	} else {
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x: %s",
			      status, err);
		ck_assert_msg(strstr(err, "intern_barrier inside a scope") != NULL, "%s", err);
	}
}
END_TEST

/* A thread inside a scope waits for a lock that a killer, in no scope,
 * holds while it drops enough last references to pass its reclamation
 * bound (2,176 dead strings): the killer must not wait for a grace
 * period, which would wait for the scope (rcu.c, "Scopes end the
 * helping"). */
static pthread_mutex_t app_lock = PTHREAD_MUTEX_INITIALIZER;
static int waiter_in_scope;

static void *scope_waits_for_lock(void *arg)
{
	(void)arg;
	intern_scope_enter();
	__atomic_store_n(&waiter_in_scope, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&app_lock);
	pthread_mutex_unlock(&app_lock);
	intern_scope_exit();
	return NULL;
}

static void killer_holds_lock(void *arg)
{
	struct intern_interp *in = intern_interp_new(NULL);
	pthread_t t;
	char buf[32];

	(void)arg;
	alarm(20); /* a deadlock ends the child: SIGALRM */
	pthread_mutex_lock(&app_lock);
	pthread_create(&t, NULL, scope_waits_for_lock, NULL);
	while (!__atomic_load_n(&waiter_in_scope, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(20000); /* the waiter blocks on app_lock inside its scope */
	for (unsigned i = 0; i < 40000; i++) {
		int n = snprintf(buf, sizeof(buf), "killed-%u", i);

		intern_str_decref(intern_bytes(in, buf, (size_t)n));
	}
	pthread_mutex_unlock(&app_lock);
	pthread_join(t, NULL);
	intern_interp_free(in);
}

START_TEST(test_killer_never_waits_for_a_scope)
{
	char err[512];
	int status = test_in_child(killer_holds_lock, NULL, err, sizeof(err));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x: %s", status,
		      err);
}
END_TEST

static void *exit_inside_scope(void *arg)
{
	struct intern_interp *in = arg;

	intern_scope_enter();
	(void)intern_borrow(in, "left-open", 9);
	return NULL;
}

static void thread_exits_in_scope(void *arg)
{
	struct intern_interp *in = intern_interp_new(NULL);
	pthread_t t;

	(void)arg;
	pthread_create(&t, NULL, exit_inside_scope, in);
	pthread_join(t, NULL);
	/* Closed and released by the exit path: gone, and frees still run. */
	if (interned(in, "left-open"))
		_exit(3);
	intern_barrier();
	intern_interp_free(in);
}

START_TEST(test_thread_exits_inside_scope)
{
	char err[512];
	int status;

	/* The child's aborting thread leaves a stack memcheck reports. */
	if (RUNNING_ON_VALGRIND)
		return;
	status = test_in_child(thread_exits_in_scope, NULL, err, sizeof(err));

	ck_assert_msg(strstr(err, "a thread exits inside 1 scope(s)") != NULL, "%s", err);
	if (TEST_CHECKING_BUILD)
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x",
			      status);
	else
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
}
END_TEST

/* A thread with no reclamation batch yet drops a last reference inside a
 * scope while every allocation fails: the free cannot be queued and may
 * not wait inside the scope, so it waits for the scope's end. */
static void *decref_oom_in_scope(void *arg)
{
	struct intern_interp *in = arg;
	struct intern_str *s = intern_bytes(in, "if-none-match", 13);

	ck_assert_ptr_nonnull(s);
	intern_barrier(); /* this thread's batch is handed over: none pending */
	intern_scope_enter();
	intern__fault_arm(1, 1);
	intern_str_decref(s); /* the killer: its batch allocation fails */
	intern__fault_disarm();
	ck_assert_content(s, "if-none-match", 13); /* parked, not freed */
	intern_scope_exit(); /* queued (or waited for) here */
	intern_barrier();
	return NULL;
}

START_TEST(test_decref_oom_in_scope)
{
	struct intern_interp *in = intern_interp_new(NULL);
	pthread_t t;

	pthread_create(&t, NULL, decref_oom_in_scope, in);
	pthread_join(t, NULL);
	ck_assert(!interned(in, "if-none-match"));
	ck_assert_int_eq(intern_interp_check(in), 0);
	intern_interp_free(in);
}
END_TEST

START_TEST(test_map_set_steal)
{
	struct intern_interp *in = intern_interp_new(NULL);
	struct intern_map *map = intern_map_new(0);
	struct intern_str *k = must_bytes(in, "etag");
	void *old = NULL;
	int one = 1, two = 2;

	intern_str_incref(k); /* ours, besides the one we hand over */
	ck_assert_int_eq(intern_map_set_steal(map, k, &one, NULL), 1);
	ck_assert_uint_eq(test_refcnt(k), 2); /* taken over, not counted */
	intern_str_incref(k);
	ck_assert_int_eq(intern_map_set_steal(map, k, &two, &old), 0);
	ck_assert_ptr_eq(old, &one);
	ck_assert_uint_eq(test_refcnt(k), 2); /* the stolen one was dropped */
	intern_str_incref(k);
	ck_assert_int_eq(intern_map_set_steal(NULL, k, &two, NULL), -EINVAL);
	ck_assert_uint_eq(test_refcnt(k), 2);
	ck_assert_int_eq(intern_map_set_steal(map, NULL, &two, NULL), -EINVAL);
	/* In a scope: borrow, promote, store; the promoted reference is the
	 * map's. */
	intern_scope_enter();
	{
		struct intern_str *b = intern_borrow(in, "vary", 4);
		ck_assert_int_eq(intern_map_set_steal(map, intern_promote(in, b), &one, NULL), 1);
	}
	intern_scope_exit();
	ck_assert(interned(in, "vary"));
	intern_map_free(map, NULL);
	ck_assert(!interned(in, "vary"));
	ck_assert_uint_eq(test_refcnt(k), 1);
	intern_str_decref(k);
	intern_interp_free(in);
}
END_TEST

/* ------------------------------------------------------------------------
 * Threads: strings die while other threads have them borrowed
 * ---------------------------------------------------------------------- */

#define HOT 16
#define ROUNDS 20000

struct hammer {
	struct intern_interp *in;
	atomic_int stop;
	atomic_long borrowed, dying_seen, bad;
};

static int key_text(char *buf, int i)
{
	return snprintf(buf, 32, "hot-mortal-%02d", i);
}

/* The killer: makes each hot string live and dead again and again, so its
 * last reference is dropped while readers have it borrowed. */
static void *killer(void *arg)
{
	struct hammer *h = arg;
	char buf[32];

	for (int r = 0; r < ROUNDS && !atomic_load(&h->stop); r++) {
		struct intern_str *s[HOT];

		for (int i = 0; i < HOT; i++) {
			int n = key_text(buf, i);

			s[i] = intern_bytes(h->in, buf, (size_t)n);
		}
		for (int i = 0; i < HOT; i++)
			intern_str_decref(s[i]);
	}
	intern_barrier();
	return NULL;
}

/* A reader: borrows the hot strings in scopes, reads their bytes again
 * after yielding (the killer runs meanwhile), promotes some. */
static void *reader(void *arg)
{
	struct hammer *h = arg;
	char buf[32];

	while (!atomic_load(&h->stop)) {
		struct intern_str *b[HOT];

		intern_scope_enter();
		for (int i = 0; i < HOT; i++) {
			int n = key_text(buf, i);

			b[i] = (i & 1) ? intern_lookup_borrowed(h->in, buf, (size_t)n)
				       : intern_borrow(h->in, buf, (size_t)n);
		}
		sched_yield();
		for (int i = 0; i < HOT; i++) {
			int n = key_text(buf, i);

			if (!b[i])
				continue;
			atomic_fetch_add(&h->borrowed, 1);
			if (test_refcnt(b[i]) == 0)
				atomic_fetch_add(&h->dying_seen, 1);
			if (!test_same_content(b[i], buf, (size_t)n))
				atomic_fetch_add(&h->bad, 1);
			if (i == 3) {
				struct intern_str *k = intern_promote(h->in, b[i]);

				if (!k || !test_same_content(k, buf, (size_t)n))
					atomic_fetch_add(&h->bad, 1);
				intern_str_decref(k);
			}
		}
		intern_scope_exit();
	}
	intern_thread_detach();
	return NULL;
}

START_TEST(test_die_while_borrowed_threads)
{
	struct hammer h = { .in = intern_interp_new(NULL) };
	pthread_t k, r[3];

	for (int i = 0; i < 3; i++)
		pthread_create(&r[i], NULL, reader, &h);
	pthread_create(&k, NULL, killer, &h);
	pthread_join(k, NULL);
	atomic_store(&h.stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(r[i], NULL);
	ck_assert_int_eq(atomic_load(&h.bad), 0);
	ck_assert_int_gt(atomic_load(&h.borrowed), 0);
	intern_barrier();
	ck_assert_int_eq(intern_interp_check(h.in), 0);
	intern_interp_free(h.in);
	fprintf(stderr, "borrowed %ld, seen dying %ld\n", atomic_load(&h.borrowed),
		atomic_load(&h.dying_seen));
}
END_TEST

int main(void)
{
	const TTest *const tc_borrow[] = { test_borrowed_hit_writes_nothing,
					   test_borrowed_insert_lives_until_scope_end,
					   test_nesting,
					   test_builtins_and_immortals,
					   NULL };
	const TTest *const tc_promote[] = { test_promote_live, test_promote_dying,
					    test_decref_oom_in_scope, NULL };
	const TTest *const tc_misuse[] = { test_outside_a_scope, test_exit_without_enter_is_misuse,
					   test_thread_exits_inside_scope,
					   test_free_inside_scope_is_misuse, NULL };
	const TTest *const tc_map[] = { test_map_set_steal, NULL };
	const TTest *const tc_threads[] = { test_die_while_borrowed_threads,
					    test_killer_never_waits_for_a_scope, NULL };
	const struct test_case cases[] = {
		{ "borrow", tc_borrow, 0 },   { "promote", tc_promote, 0 },
		{ "misuse", tc_misuse, 0 },   { "map", tc_map, 0 },
		{ "threads", tc_threads, 120 },
	};

	return test_run_cases("scope", cases, TEST_COUNT(cases));
}
