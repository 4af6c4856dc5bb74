/*
 * Statistics (lib/stats.c, lib/table.c) and the consistency check, white
 * box.  The activity counters must match a known workload exactly: on one
 * thread, on several threads after they are joined (their per-thread
 * counters survive the threads), for a thread that uses more interpreters
 * than it has counter slots, and across interpreters freed and created at
 * the same address.  Deaths are counted once whichever path removes the
 * entry: the killer, a writer replacing a dying entry (rule R3), or a
 * rebuild dropping it.  A build with -Dstats=false reports zeros.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "intern-private.h"
#include "test-util.h"

#ifdef INTERN_NO_STATS
#define EXPECT(n) 0u
#else
#define EXPECT(n) (n)
#endif

static struct intern_stats stats_of(struct intern_interp *interp)
{
	struct intern_stats st;

	ck_assert_int_eq(intern_interp_stats(interp, &st), 0);
	return st;
}

#define ck_assert_activity(st, h, m, i, r)                   \
	do {                                                 \
		ck_assert_uint_eq((st).hits, EXPECT(h));     \
		ck_assert_uint_eq((st).misses, EXPECT(m));   \
		ck_assert_uint_eq((st).inserts, EXPECT(i));  \
		ck_assert_uint_eq((st).removals, EXPECT(r)); \
		ck_assert_uint_eq((st).reseeds, 0);          \
	} while (0)

static size_t key(char *buf, size_t size, const char *prefix, unsigned a, unsigned b)
{
	int n = snprintf(buf, size, "%s-%u-%u", prefix, a, b);

	return (size_t)n;
}

/* ------------------------------------------------------------------------
 * One thread
 * ---------------------------------------------------------------------- */

START_TEST(test_fresh_zero)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_stats st = stats_of(interp);

	ck_assert_activity(st, 0, 0, 0, 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_known_workload)
{
	enum {
		N = 300,
		M = 5,
		K = 70,
		R = 120
	};
	struct intern_interp *interp = test_interp(4);
	struct intern_str *held[N];
	uint64_t hits = 0, misses = 0, inserts = 0, removals = 0;
	struct intern_stats st;
	char buf[64];

	/* N inserts: each a miss, then an insert. */
	for (unsigned i = 0; i < N; i++) {
		size_t n = key(buf, sizeof(buf), "key", i, 0);

		held[i] = intern_bytes(interp, buf, n);
		ck_assert_ptr_nonnull(held[i]);
	}
	misses += N;
	inserts += N;
	/* M rounds of hits, by three routes. */
	for (unsigned r = 0; r < M; r++) {
		for (unsigned i = 0; i < N; i++) {
			size_t n = key(buf, sizeof(buf), "key", i, 0);
			struct intern_str *s;

			switch (i % 3) {
			case 0: s = intern_bytes(interp, buf, n); break;
			case 1: s = intern_lookup(interp, buf, n); break;
			default:
				s = intern_str_new(buf, n);
				ck_assert_int_eq(intern_mortal(interp, &s), 0);
				break;
			}
			ck_assert_ptr_eq(s, held[i]);
			intern_str_decref(s);
		}
	}
	hits += (uint64_t)M * N;
	/* K lookups of absent keys: misses, nothing inserted. */
	for (unsigned i = 0; i < K; i++) {
		size_t n = key(buf, sizeof(buf), "absent", i, 0);

		ck_assert_absent(interp, buf, n);
	}
	misses += K;
	/* Uncounted: built-in singletons, and strings already canonical. */
	for (unsigned i = 0; i < 50; i++) {
		struct intern_str *s = held[i];
		size_t n = (size_t)snprintf(buf, sizeof(buf), "%d", INTERN_SMALL_INT_MAX);

		intern_str_decref(intern_bytes(interp, "x", 1));
		intern_str_decref(intern_lookup(interp, "", 0));
		intern_str_decref(intern_int(interp, (long long)i));
		intern_str_decref(intern_bytes(interp, buf, n));
		intern_str_incref(s);
		ck_assert_int_eq(intern_mortal(interp, &s), 0);
		intern_str_decref(s);
	}
	st = stats_of(interp);
	ck_assert_activity(st, hits, misses, inserts, removals);

	/* R removals: the last references dropped. */
	for (unsigned i = 0; i < R; i++)
		intern_str_decref(held[i]);
	removals += R;
	/* An immortal string and a static one: inserts, never removed. */
	{
		INTERN_STATIC_DEFINE(app_static, "stats static");
		struct intern_str *p = app_static, *imm = test_str("stats immortal");

		ck_assert_int_eq(intern_static(interp, &p), 0);
		ck_assert_int_eq(intern_immortal(interp, &imm), 0);
		inserts += 2;
		misses += 1; /* intern_immortal looked first; intern_static did not */
	}
	st = stats_of(interp);
	ck_assert_activity(st, hits, misses, inserts, removals);
	ck_assert_uint_eq(st.mortal, N - R);
	ck_assert_uint_eq(st.immortal, 1);
	ck_assert_uint_eq(st.immortal_static, 1);
#ifndef INTERN_NO_STATS
	ck_assert_uint_eq(st.mortal + st.immortal + st.immortal_static + st.dying,
			  inserts - removals);
#endif
	ck_assert_int_eq(intern_interp_check(interp), 0);

	for (unsigned i = R; i < N; i++)
		intern_str_decref(held[i]);
	removals += N - R;
	st = stats_of(interp);
	ck_assert_activity(st, hits, misses, inserts, removals);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_barrier();
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_replaced_dying_counted_once)
{
	/* Rule R3: a writer replaces an entry whose count reached 0 before
	 * its killer got the shard lock.  Played by hand: the count is set to
	 * 0 as the killer's decrement would, then the killer runs late and
	 * finds nothing to unlink.  One insert and one removal for the
	 * replacement, nothing more for the killer. */
	struct intern_interp *interp = test_interp(1);
	struct intern_str *old = intern_bytes(interp, "phoenix", 7), *fresh;
	struct intern_stats st;

	__atomic_store_n(&old->ob_refcnt, 0, __ATOMIC_RELEASE); /* "killer" */
	fresh = intern_bytes(interp, "phoenix", 7);             /* miss, R3 */
	ck_assert_ptr_ne(fresh, old);
	st = stats_of(interp);
	ck_assert_activity(st, 0, 2, 2, 1);
	ck_assert_uint_eq(st.mortal, 1);
	intern__release_mortal(old); /* the killer, late: unlinks nothing */
	st = stats_of(interp);
	ck_assert_activity(st, 0, 2, 2, 1);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_str_decref(fresh);
	st = stats_of(interp);
	ck_assert_activity(st, 0, 2, 2, 2);
	intern_barrier();
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_rebuild_drop_counted_once)
{
	/* A rebuild (growth) drops an entry whose count reached 0; its late
	 * killer then unlinks nothing: one removal. */
	enum {
		N = 64
	};
	struct intern_interp *interp = test_interp(1);
	struct intern_str *victim = intern_bytes(interp, "victim", 6);
	struct intern_str *held[N];
	struct intern_stats st;
	char buf[64];

	__atomic_store_n(&victim->ob_refcnt, 0, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < N; i++) /* grows the one shard's array */
		held[i] = intern_bytes(interp, buf, key(buf, sizeof(buf), "grow", i, 0));
	st = stats_of(interp);
	ck_assert_activity(st, 0, N + 1, N + 1, 1);
	ck_assert_uint_eq(st.dying, 0);
	intern__release_mortal(victim);
	st = stats_of(interp);
	ck_assert_activity(st, 0, N + 1, N + 1, 1);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (unsigned i = 0; i < N; i++)
		intern_str_decref(held[i]);
	st = stats_of(interp);
	ck_assert_activity(st, 0, N + 1, N + 1, N + 1);
	intern_barrier();
	intern_interp_free(interp);
}
END_TEST

/* ------------------------------------------------------------------------
 * Threads
 * ---------------------------------------------------------------------- */

enum {
	THREADS = 4,
	SHARED = 200,
	OWN = 150,
	ROUNDS = 7,
	ABSENT = 33,
	DROP = 100
};

struct worker {
	pthread_t tid;
	unsigned id;
	struct intern_interp *interp;
	pthread_barrier_t *pause; /* NULL: run straight through */
	struct test_failure *fail;
};

/* Per thread: OWN misses + inserts, ROUNDS * SHARED hits, ABSENT misses,
 * DROP removals.  Nothing depends on the interleaving: the shared keys are
 * in the table before the threads start and nobody drops them. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct intern_str *own[OWN];
	char buf[64];

	for (unsigned i = 0; i < OWN; i++) {
		own[i] = intern_bytes(w->interp, buf, key(buf, sizeof(buf), "own", w->id, i));
		TCHECK(w->fail, own[i] && intern_str_state(own[i]) == INTERN_MORTAL);
	}
	for (unsigned r = 0; r < ROUNDS; r++) {
		for (unsigned i = 0; i < SHARED; i++) {
			size_t n = key(buf, sizeof(buf), "shared", 0, i);
			struct intern_str *s = (i + w->id) % 2 ? intern_bytes(w->interp, buf, n)
							       : intern_lookup(w->interp, buf, n);

			TCHECK(w->fail, s && intern_str_state(s) == INTERN_IMMORTAL);
			intern_str_decref(s);
		}
	}
	for (unsigned i = 0; i < ABSENT; i++) {
		struct intern_str *s = intern_lookup(w->interp, buf,
						     key(buf, sizeof(buf), "absent", w->id, i));

		TCHECK(w->fail, s == NULL);
	}
	for (unsigned i = 0; i < DROP; i++)
		intern_str_decref(own[i]);
	if (w->pause) {
		/* Stay alive while the main thread reads the counters. */
		pthread_barrier_wait(w->pause);
		pthread_barrier_wait(w->pause);
	}
	for (unsigned i = DROP; i < OWN; i++)
		intern_str_decref(own[i]);
	return NULL;
}

static struct intern_interp *shared_interp(struct intern_str **imm)
{
	struct intern_interp *interp = test_interp(8);
	char buf[64];

	for (unsigned i = 0; i < SHARED; i++) {
		imm[i] = intern_str_new(buf, key(buf, sizeof(buf), "shared", 0, i));
		ck_assert_int_eq(intern_immortal(interp, &imm[i]), 0);
	}
	return interp;
}

static void run_workers(struct intern_interp *interp, pthread_barrier_t *pause, struct worker *w,
			struct test_failure *fail)
{
	for (unsigned t = 0; t < THREADS; t++) {
		w[t] = (struct worker){ .id = t, .interp = interp, .pause = pause, .fail = fail };
		ck_assert_int_eq(pthread_create(&w[t].tid, NULL, worker_main, &w[t]), 0);
	}
}

START_TEST(test_threads_exact_after_join)
{
	struct intern_str *imm[SHARED];
	struct intern_interp *interp = shared_interp(imm);
	struct worker w[THREADS];
	struct test_failure fail;
	struct intern_stats st;

	test_failure_init(&fail);
	run_workers(interp, NULL, w, &fail);
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(w[t].tid, NULL);
	ck_assert_no_failure(&fail);
	/* The workers exited: their counts live on in the interpreter. */
	st = stats_of(interp);
	ck_assert_activity(st, (uint64_t)THREADS * ROUNDS * SHARED,
			   SHARED + (uint64_t)THREADS * (OWN + ABSENT),
			   SHARED + (uint64_t)THREADS * OWN, (uint64_t)THREADS * OWN);
	ck_assert_uint_eq(st.immortal, SHARED);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_barrier();
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_threads_exact_while_alive)
{
	struct intern_str *imm[SHARED];
	struct intern_interp *interp = shared_interp(imm);
	struct worker w[THREADS];
	struct test_failure fail;
	pthread_barrier_t pause;
	struct intern_stats st;

	test_failure_init(&fail);
	pthread_barrier_init(&pause, NULL, THREADS + 1);
	run_workers(interp, &pause, w, &fail);
	pthread_barrier_wait(&pause);
	/* Every worker is parked: its counts are in its live slot. */
	st = stats_of(interp);
	ck_assert_activity(st, (uint64_t)THREADS * ROUNDS * SHARED,
			   SHARED + (uint64_t)THREADS * (OWN + ABSENT),
			   SHARED + (uint64_t)THREADS * OWN, (uint64_t)THREADS * DROP);
	ck_assert_uint_eq(st.mortal, (uint64_t)THREADS * (OWN - DROP));
	pthread_barrier_wait(&pause);
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(w[t].tid, NULL);
	pthread_barrier_destroy(&pause);
	ck_assert_no_failure(&fail);
	st = stats_of(interp);
	ck_assert_activity(st, (uint64_t)THREADS * ROUNDS * SHARED,
			   SHARED + (uint64_t)THREADS * (OWN + ABSENT),
			   SHARED + (uint64_t)THREADS * OWN, (uint64_t)THREADS * OWN);
	intern_barrier();
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_more_interps_than_slots)
{
	/* One thread, interpreters used in rotation: more than a thread's
	 * counter slots, so some count in their shared counters. */
	enum {
		NI = 11,
		ROUNDS_I = 9
	};
	struct intern_interp *ip[NI];
	struct intern_str *s[NI];
	char buf[64];

	for (unsigned i = 0; i < NI; i++) {
		ip[i] = test_interp(1);
		s[i] = intern_bytes(ip[i], "rotating", 8);
	}
	for (unsigned r = 0; r < ROUNDS_I; r++) {
		for (unsigned i = 0; i < NI; i++) {
			intern_str_decref(intern_bytes(ip[i], "rotating", 8));
			ck_assert_absent(ip[i], buf, key(buf, sizeof(buf), "no", i, r));
			for (unsigned j = 0; j < i; j++)
				intern_str_decref(intern_lookup(ip[i], "rotating", 8));
		}
	}
	for (unsigned i = 0; i < NI; i++) {
		struct intern_stats st = stats_of(ip[i]);

		ck_assert_activity(st, (uint64_t)ROUNDS_I * (1 + i), 1 + ROUNDS_I, 1, 0);
		intern_str_decref(s[i]);
		intern_interp_free(ip[i]);
	}
}
END_TEST

static void *use_then_wait(void *arg)
{
	struct worker *w = arg;

	/* Claims a slot for w->interp, then stays alive while the main
	 * thread frees that interpreter, then uses a new one. */
	intern_str_decref(intern_bytes(w->interp, "held by a thread", 16));
	pthread_barrier_wait(w->pause);
	pthread_barrier_wait(w->pause); /* main: freed it, made another */
	intern_str_decref(intern_bytes(w->interp, "second life", 11));
	intern_str_decref(intern_lookup(w->interp, "second life", 11));
	return NULL;
}

START_TEST(test_freed_and_reborn)
{
	/* A thread keeps a slot for an interpreter that is freed; a new one,
	 * possibly at the same address with the same id, starts from zero on
	 * every thread. */
	struct worker w = { .id = 0 };
	pthread_barrier_t pause;
	struct intern_stats st;
	struct intern_str *s;

	pthread_barrier_init(&pause, NULL, 2);
	w.pause = &pause;
	w.interp = test_interp(0);
	intern_str_decref(intern_bytes(w.interp, "main thread too", 15));
	ck_assert_int_eq(pthread_create(&w.tid, NULL, use_then_wait, &w), 0);
	pthread_barrier_wait(&pause);
	intern_interp_free(w.interp);
	w.interp = test_interp(0);
	st = stats_of(w.interp);
	ck_assert_activity(st, 0, 0, 0, 0);
	s = intern_bytes(w.interp, "second life", 11); /* 1 miss, 1 insert */
	pthread_barrier_wait(&pause);
	pthread_join(w.tid, NULL);
	st = stats_of(w.interp);
	ck_assert_activity(st, 2, 1, 1, 0);
	intern_str_decref(s);
	intern_interp_free(w.interp);
	pthread_barrier_destroy(&pause);
}
END_TEST

static void *exit_after_free(void *arg)
{
	struct worker *w = arg;

	intern_str_decref(intern_bytes(w->interp, "orphan", 6));
	pthread_barrier_wait(w->pause);
	pthread_barrier_wait(w->pause); /* main freed the interpreter */
	return NULL;                    /* exit: the slot is already free */
}

START_TEST(test_thread_exits_after_free)
{
	struct worker w = { .id = 0 };
	pthread_barrier_t pause;
	struct intern_interp *other = test_interp(0);
	struct intern_stats st;

	pthread_barrier_init(&pause, NULL, 2);
	w.pause = &pause;
	w.interp = test_interp(0);
	ck_assert_int_eq(pthread_create(&w.tid, NULL, exit_after_free, &w), 0);
	pthread_barrier_wait(&pause);
	intern_interp_free(w.interp);
	pthread_barrier_wait(&pause);
	pthread_join(w.tid, NULL);
	st = stats_of(other);
	ck_assert_activity(st, 0, 0, 0, 0);
	intern_interp_free(other);
	pthread_barrier_destroy(&pause);
}
END_TEST

/* ------------------------------------------------------------------------
 * The consistency check
 * ---------------------------------------------------------------------- */

START_TEST(test_check_counts_agree)
{
	/* inserts - removals must equal the entries: a counter bumped behind
	 * the library's back is reported (stats builds). */
	struct intern_interp *interp = test_interp(1);
	struct intern_str *s = intern_bytes(interp, "counted", 7);

	ck_assert_int_eq(intern_interp_check(interp), 0);
#ifndef INTERN_NO_STATS
	interp->shards[0].removals++;
	ck_assert_int_eq(intern_interp_check(interp), -EUCLEAN);
	interp->shards[0].removals--;
	ck_assert_int_eq(intern_interp_check(interp), 0);
#endif
	intern_str_decref(s);
	intern_barrier();
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_free_checks_in_debug_builds)
{
	/* intern_interp_free runs the check when assertions are on, and a
	 * failure aborts (HotSpot's VerifyStringTableAtExit).  In a child, so
	 * the abort is observed. */
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = intern_bytes(interp, "corrupted", 9);
	uint16_t owner = s->ob_owner;
	int status;
	pid_t pid;

#ifdef NDEBUG
	/* No check at free in this build: nothing to observe. */
	intern_str_decref(s);
	intern_interp_free(interp);
	return;
#endif
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGABRT, &dfl, NULL);
		freopen("/dev/null", "w", stderr);
		__atomic_store_n(&s->ob_owner, (uint16_t)(owner + 1), __ATOMIC_RELAXED);
		intern_interp_free(interp);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		      "intern_interp_free of a corrupt table did not abort (status %#x)", status);
	intern_str_decref(s);
	intern_barrier();
	intern_interp_free(interp);
}
END_TEST

int main(void)
{
	const TTest *const tc_one_thread[] = {
		test_fresh_zero,
		test_known_workload,
		test_replaced_dying_counted_once,
		test_rebuild_drop_counted_once,
		NULL,
	};
	const TTest *const tc_threads[] = {
		test_threads_exact_after_join, test_threads_exact_while_alive,
		test_more_interps_than_slots,  test_freed_and_reborn,
		test_thread_exits_after_free,  NULL,
	};
	const TTest *const tc_check[] = {
		test_check_counts_agree,
		test_free_checks_in_debug_builds,
		NULL,
	};
	const struct test_case cases[] = {
		{ "one thread", tc_one_thread, 0 },
		{ "threads", tc_threads, 0 },
		{ "check", tc_check, 0 },
	};

	return test_run_cases("stats", cases, TEST_COUNT(cases));
}
