/*
 * test-rcu.c: lib/rcu.c, the glue to liburcu: lazy registration, the
 * thread-exit flush of the deferred-free batch, call_rcu only from
 * registered threads, and reclamation on the killing thread: its bound,
 * its statistics, the reuse of dead strings.
 *
 * White-box (links the static library): it reads liburcu's per-thread
 * `registered` flag through lib/rcu.h.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rcu.h"
#include "test-util.h"

static struct intern_interp *shared_interp;

/*
 * A thread the application registered with liburcu itself (the header
 * allows it) kills mortal strings, unregisters and exits.  Its batch of dead
 * strings must be handed to RCU at exit all the same: if it were not, the
 * batch and its strings would leak, which the ASan and valgrind stages of
 * .ci/test report (a plain build cannot see it; the test runs there too).
 */
static void *app_registered_thread(void *arg)
{
	char key[32];

	(void)arg;
	urcu_memb_register_thread();
	for (int i = 0; i < 10; i++) {
		int n = snprintf(key, sizeof(key), "app-registered-%d", i);
		struct intern_str *s = intern_bytes(shared_interp, key, (size_t)n);

		if (s)
			intern_str_decref(s); /* the last reference: a kill */
	}
	/* Still registered by the application, not by libintern. */
	if (!URCU_TLS(urcu_memb_reader).registered)
		return (void *)1;
	urcu_memb_unregister_thread();
	return NULL;
}

START_TEST(test_app_registered_thread_flushes_at_exit)
{
	pthread_t tid;
	void *rc;
	struct intern_stats st;

	shared_interp = test_interp(0);
	ck_assert_int_eq(pthread_create(&tid, NULL, app_registered_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(tid, &rc), 0);
	ck_assert_ptr_null(rc);
	intern_barrier(); /* every queued batch has been freed */
	ck_assert_int_eq(intern_interp_stats(shared_interp, &st), 0);
	ck_assert_uint_eq(st.mortal + st.dying, 0);
	intern_interp_free(shared_interp);
}
END_TEST

/* Static strings filed by intern_static() from a fresh thread: growing the
 * shard's array queues the old one with call_rcu, which liburcu wants from
 * a registered thread.  intern_static takes no lookup (the usual place a
 * thread gets registered), so the registration must come with the call. */
#define NSTATICS 48

static struct {
	struct intern_str head;
	char data[24];
} statics[NSTATICS];

static void *static_filer(void *arg)
{
	struct intern_interp *interp = arg;

	if (URCU_TLS(urcu_memb_reader).registered)
		return (void *)1; /* a fresh thread starts unregistered */
	for (int i = 0; i < NSTATICS; i++) {
		struct intern_str *p = &statics[i].head;

		if (intern_static(interp, &p) != 0 || p != &statics[i].head)
			return (void *)2;
	}
	return URCU_TLS(urcu_memb_reader).registered ? NULL : (void *)3;
}

START_TEST(test_call_rcu_from_registered_thread)
{
	struct intern_interp *interp = test_interp(1); /* one shard: it grows */
	pthread_t tid;
	void *rc;

	for (int i = 0; i < NSTATICS; i++) {
		int n = snprintf(statics[i].data, sizeof(statics[i].data), "static-%02d", i);

		statics[i].head.ob_refcnt = 1;
		statics[i].head.ob_len = (uint32_t)n;
		statics[i].head.ob_state = INTERN_IMMORTAL_STATIC;
		statics[i].head.ob_flags = INTERN_STR_F_STATIC;
	}
	ck_assert_int_eq(pthread_create(&tid, NULL, static_filer, interp), 0);
	ck_assert_int_eq(pthread_join(tid, &rc), 0);
	ck_assert_msg(rc == NULL, "static_filer failed at step %ld", (long)(intptr_t)rc);
	intern_barrier();
	intern_interp_free(interp);
}
END_TEST

/* ---- reclamation on the killing thread ---------------------------------- */

/* Intern and drop `n` distinct mortal strings of 12 bytes: `n` deaths. */
static void kill_strings(struct intern_interp *interp, unsigned first, unsigned n)
{
	char key[16];

	for (unsigned i = first; i < first + n; i++) {
		snprintf(key, sizeof(key), "kill-%07u", i % 10000000u);
		intern_str_decref(intern_bytes(interp, key, 12));
	}
}

static struct intern_reclaim_stats reclaim_now(void)
{
	struct intern_reclaim_stats st;

	ck_assert_int_eq(intern_reclaim_stats(&st, sizeof(st)), 0);
	return st;
}

START_TEST(test_reclaim_stats_api)
{
	struct intern_reclaim_stats st;

	ck_assert_int_eq(intern_reclaim_stats(NULL, sizeof(st)), -EINVAL);
	ck_assert_int_eq(intern_reclaim_stats(&st, 0), -EINVAL);
	/* A caller that knows only the first field gets only that one. */
	memset(&st, 0xa5, sizeof(st));
	ck_assert_int_eq(intern_reclaim_stats(&st, sizeof(st.pending)), 0);
	ck_assert_uint_eq(st.pending_max, 0xa5a5a5a5a5a5a5a5ull);
	st = reclaim_now();
	ck_assert_uint_gt(st.thread_bound, 0);
	ck_assert_uint_le(st.pending, st.pending_max);
}
END_TEST

/* The killer frees its own dead strings after a grace period, keeps them
 * for reuse, and its next string of that length takes one: no allocation.
 * The counts follow: counted when the batch closed, freed after. */
START_TEST(test_killer_reuses_its_dead)
{
	struct intern_interp *interp = test_interp(0);
	const struct intern_reclaim_stats before = reclaim_now();
	struct intern_reclaim_stats st;
	struct intern_str *kept, *s;

	kill_strings(interp, 0, 200); /* a full batch and part of another */
	intern__reclaim_now();        /* a grace period, then the frees */
	st = reclaim_now();
	ck_assert_uint_ge(st.freed - before.freed, 200);
	ck_assert_uint_ge(st.pending_max, 128);
	kept = intern__self.reclaim.reuse[12];
	ck_assert_ptr_nonnull(kept);
	ck_assert_uint_ge(intern__self.reclaim.kept, 200);
	s = intern_bytes(interp, "fresh-string", 12);
	ck_assert_ptr_eq(s, kept);
	ck_assert_str_eq(intern_str_data(s), "fresh-string");
	ck_assert_uint_eq(intern_str_state(s), INTERN_MORTAL);
	intern_str_decref(s);
	intern_barrier(); /* everything handed over and freed: nothing kept */
	ck_assert_uint_eq(intern__self.reclaim.kept, 0);
	ck_assert_uint_eq(reclaim_now().pending, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

/* However fast a thread kills, it never holds more than its bound. */
static void *storm_thread(void *arg)
{
	kill_strings(arg, (unsigned)pthread_self() % 1000u * 1000u, 50000);
	return NULL;
}

START_TEST(test_backlog_bounded)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_reclaim_stats st;
	pthread_t tid[4];

	for (int t = 0; t < 4; t++)
		ck_assert_int_eq(pthread_create(&tid[t], NULL, storm_thread, interp), 0);
	kill_strings(interp, 5000000, 50000);
	st = reclaim_now();
	ck_assert_uint_le(intern__self.reclaim.held, st.thread_bound);
	for (int t = 0; t < 4; t++)
		ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
	st = reclaim_now();
	ck_assert_uint_le(st.thread_max, st.thread_bound);
	ck_assert_uint_le(st.pending_max, 5 * st.thread_bound);
	intern_barrier(); /* the exited threads' batches, and ours */
	ck_assert_uint_eq(reclaim_now().pending, 0);
	intern_interp_free(interp);
}
END_TEST

int main(void)
{
	const TTest *const tc_threads[] = {
		test_app_registered_thread_flushes_at_exit,
		test_call_rcu_from_registered_thread,
		NULL,
	};
	const TTest *const tc_reclaim[] = {
		test_reclaim_stats_api,
		test_killer_reuses_its_dead,
		test_backlog_bounded,
		NULL,
	};
	const struct test_case cases[] = {
		{ "threads", tc_threads, 0 },
		{ "reclaim", tc_reclaim, 0 },
	};

	return test_run_cases("rcu", cases, TEST_COUNT(cases));
}
