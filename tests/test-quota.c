/*
 * Quotas (struct intern_config: max_mortal, max_mortal_bytes): a new mortal
 * entry past a limit is refused with -ENOSPC by every route, the caller's
 * reference intact; hits, lookups, singletons, immortal and static strings
 * are unaffected; room comes back when a mortal string dies or is made
 * immortal; the count is exact and never passes the limit with many
 * threads inserting, dying, re-interning and immortalizing at once.
 *
 * Worker threads never call ck_assert(): they record failures in a
 * struct test_failure and the test asserts on it after joining them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "test-util.h"

static struct intern_interp *quota_interp(size_t max_mortal, size_t max_bytes, unsigned shards)
{
	struct intern_config c;
	struct intern_interp *interp;

	intern_config_init(&c);
	c.shards = shards;
	c.max_mortal = max_mortal;
	c.max_mortal_bytes = max_bytes;
	interp = intern_interp_new(&c);
	ck_assert_ptr_nonnull(interp);
	return interp;
}

static struct intern_stats stats_of(struct intern_interp *interp)
{
	struct intern_stats st;

	ck_assert_int_eq(intern_interp_stats(interp, &st), 0);
	return st;
}

/* intern_bytes of a C string. */
static struct intern_str *ib(struct intern_interp *interp, const char *text)
{
	return intern_bytes(interp, text, strlen(text));
}

static void ck_enospc(struct intern_str *r)
{
	ck_assert_ptr_null(r);
	ck_assert_int_eq(errno, ENOSPC);
}

START_TEST(test_defaults_unlimited)
{
	struct intern_config c;
	struct intern_interp *interp;
	struct intern_str *s[300];
	char key[16];

	intern_config_init(&c);
	ck_assert_uint_eq(c.max_mortal, 0);
	ck_assert_uint_eq(c.max_mortal_bytes, 0);
	interp = intern_interp_new(&c);
	ck_assert_ptr_nonnull(interp);
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "key%03d", i);
		s[i] = ib(interp, key);
		ck_assert_ptr_nonnull(s[i]);
	}
	/* Counted even without a limit: 300 entries of 7 bytes. */
	ck_assert_uint_eq(stats_of(interp).quota_mortal, 300);
	ck_assert_uint_eq(stats_of(interp).quota_mortal_bytes, 300 * 7);
	for (int i = 0; i < 300; i++)
		intern_str_decref(s[i]);
	ck_assert_uint_eq(stats_of(interp).quota_mortal, 0);
	ck_assert_uint_eq(stats_of(interp).quota_mortal_bytes, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_entry_limit_every_route)
{
	struct intern_interp *interp = quota_interp(4, 0, 0);
	struct intern_str *held[4], *p, *r;
	INTERN_STATIC_DEFINE(stat, "static_text");

	held[0] = ib(interp, "alpha");
	held[1] = ib(interp, "beta");
	held[2] = intern_int(interp, 123456789);
	p = test_str("gamma");
	ck_assert_int_eq(intern_mortal(interp, &p), 0);
	held[3] = p;
	for (int i = 0; i < 4; i++)
		ck_assert_ptr_nonnull(held[i]);
	ck_assert_uint_eq(stats_of(interp).quota_mortal, 4);

	/* Full: each route that would add a mortal entry is refused. */
	errno = 0;
	ck_enospc(ib(interp, "delta"));
	ck_enospc(intern_int(interp, 987654321));
	ck_enospc(intern_auto(interp, "ident", 5));
	p = test_str("epsilon");
	ck_assert_int_eq(intern_mortal(interp, &p), -ENOSPC);
	/* The caller's reference is intact and still its own. */
	ck_assert_content(p, "epsilon", 7);
	ck_assert_int_eq(intern_str_state(p), INTERN_NOT_INTERNED);
	ck_assert_uint_eq(test_refcnt(p), 1);
	ck_assert_absent(interp, "epsilon", 7);

	/* Hits, lookups and everything that adds no mortal entry work. */
	r = ib(interp, "alpha");
	ck_assert_ptr_eq(r, held[0]);
	intern_str_decref(r);
	ck_assert_lookup(interp, "beta", 4, held[1]);
	ck_assert_absent(interp, "delta", 5);
	ck_assert_ptr_eq(ib(interp, "x"), intern_latin1('x'));
	ck_assert_ptr_eq(ib(interp, "42"), intern_int(interp, 42));
	r = intern_auto(interp, "not an identifier", 17);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(intern_str_state(r), INTERN_NOT_INTERNED);
	intern_str_decref(r);
	r = test_str("gamma"); /* equal bytes: the canonical one */
	ck_assert_int_eq(intern_mortal(interp, &r), 0);
	ck_assert_ptr_eq(r, held[3]);
	intern_str_decref(r);
	/* Immortal and static entries are not counted. */
	r = test_str("immortal_one");
	ck_assert_int_eq(intern_immortal(interp, &r), 0);
	ck_assert_int_eq(intern_str_state(r), INTERN_IMMORTAL);
	r = stat;
	ck_assert_int_eq(intern_static(interp, &r), 0);
	ck_assert_ptr_eq(r, stat);
	ck_assert_uint_eq(stats_of(interp).quota_mortal, 4);
	ck_assert_int_eq(intern_interp_check(interp), 0);

	/* A death gives the room back: the refused string now fits. */
	intern_str_decref(held[1]);
	ck_assert_uint_eq(stats_of(interp).quota_mortal, 3);
	ck_assert_int_eq(intern_mortal(interp, &p), 0);
	ck_assert_int_eq(intern_str_state(p), INTERN_MORTAL);
	held[1] = p;
	ck_enospc(ib(interp, "delta"));

	/* Making a mortal string immortal gives its room back too. */
	r = held[0];
	ck_assert_int_eq(intern_immortal(interp, &r), 0);
	ck_assert_ptr_eq(r, held[0]);
	ck_assert_uint_eq(stats_of(interp).quota_mortal, 3);
	r = ib(interp, "delta");
	ck_assert_ptr_nonnull(r);
	held[0] = r;
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (int i = 0; i < 4; i++)
		intern_str_decref(held[i]);
	ck_assert_uint_eq(stats_of(interp).quota_mortal, 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_byte_limit_exact)
{
	/* 100 bytes: nine 9-byte strings take 90 (len + 1 each). */
	struct intern_interp *interp = quota_interp(0, 100, 0);
	struct intern_str *s[10], *r;
	char key[16];

	for (int i = 0; i < 9; i++) {
		snprintf(key, sizeof(key), "string_%02d", i);
		s[i] = ib(interp, key);
		ck_assert_ptr_nonnull(s[i]);
	}
	ck_assert_uint_eq(stats_of(interp).quota_mortal_bytes, 90);
	ck_enospc(ib(interp, "ten_bytes_")); /* 11 > 10 left */
	ck_assert_ptr_eq(intern_bytes(interp, "", 0), intern_empty());
	s[9] = ib(interp, "nine_byte"); /* exactly 10 */
	ck_assert_ptr_nonnull(s[9]);
	ck_assert_uint_eq(stats_of(interp).quota_mortal_bytes, 100);
	ck_enospc(ib(interp, "ab")); /* 3 > 0 left */
	ck_assert_ptr_eq(ib(interp, "a"), intern_latin1('a'));
	/* A string larger than the whole quota. */
	{
		char big[200];

		memset(big, 'z', sizeof(big));
		ck_enospc(intern_bytes(interp, big, sizeof(big)));
	}
	intern_str_decref(s[0]);
	r = ib(interp, "ten_bytes_");
	ck_enospc(r); /* 11 > 10 */
	intern_str_decref(s[1]);
	r = ib(interp, "ten_bytes_");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(stats_of(interp).quota_mortal_bytes, 91);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_str_decref(r);
	for (int i = 2; i < 10; i++)
		intern_str_decref(s[i]);
	ck_assert_uint_eq(stats_of(interp).quota_mortal_bytes, 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_both_limits_and_interps)
{
	/* Each interpreter has its own quota; the tighter limit decides. */
	struct intern_interp *a = quota_interp(2, 1000, 1);
	struct intern_interp *b = quota_interp(100, 12, 1);
	struct intern_str *a1 = ib(a, "one_1"), *a2 = ib(a, "two_2");
	struct intern_str *b1 = ib(b, "one_1"), *p;

	ck_assert_ptr_nonnull(a1);
	ck_assert_ptr_nonnull(a2);
	ck_assert_ptr_nonnull(b1);
	ck_assert_ptr_ne(a1, b1);
	ck_enospc(ib(a, "three"));   /* entries */
	ck_enospc(ib(b, "three_3")); /* 6 + 8 > 12 */
	p = ib(b, "thr3");           /* 6 + 5 <= 12 */
	ck_assert_ptr_nonnull(p);
	/* A's canonical string moved to B, which is full: B needs a copy,
	 * refused; the caller still holds A's canonical string. */
	{
		struct intern_str *q = a2;

		intern_str_incref(q);
		ck_assert_int_eq(intern_mortal(b, &q), -ENOSPC);
		ck_assert_ptr_eq(q, a2);
		ck_assert_uint_eq(test_refcnt(a2), 2);
		intern_str_decref(q);
	}
	ck_assert_int_eq(intern_interp_check(a), 0);
	ck_assert_int_eq(intern_interp_check(b), 0);
	intern_str_decref(a1);
	intern_str_decref(a2);
	intern_str_decref(b1);
	intern_str_decref(p);
	ck_assert_uint_eq(stats_of(a).quota_mortal, 0);
	ck_assert_uint_eq(stats_of(b).quota_mortal_bytes, 0);
	intern_interp_free(a);
	intern_interp_free(b);
}
END_TEST

START_TEST(test_reintern_at_limit)
{
	/* At the limit, a string that dies and is interned again right away
	 * (the same bytes) always fits: its own room came back. */
	struct intern_interp *interp = quota_interp(3, 0, 1);
	struct intern_str *s[3];

	s[0] = ib(interp, "keep_a");
	s[1] = ib(interp, "keep_b");
	s[2] = ib(interp, "churn");
	for (int i = 0; i < 1000; i++) {
		intern_str_decref(s[2]);
		s[2] = ib(interp, "churn");
		ck_assert_ptr_nonnull(s[2]);
	}
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (int i = 0; i < 3; i++)
		intern_str_decref(s[i]);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_free_with_quota_full)
{
	/* Freeing an interpreter at its limit leaves the strings its callers
	 * hold valid (NOT_INTERNED), as without quotas. */
	struct intern_interp *interp = quota_interp(2, 0, 0);
	struct intern_str *a = ib(interp, "left_a"), *b = ib(interp, "left_b");

	ck_enospc(ib(interp, "left_c"));
	intern_interp_free(interp);
	ck_assert_int_eq(intern_str_state(a), INTERN_NOT_INTERNED);
	ck_assert_content(b, "left_b", 6);
	intern_str_decref(a);
	intern_str_decref(b);
}
END_TEST

/* ---- many threads ------------------------------------------------------ */

#define NTHREADS 6
#define NKEYS 512
#define LIMIT 64
#define HOLD 24
#define RACE_MS 700

struct race {
	struct intern_interp *interp;
	struct test_failure fail;
	atomic_int stop;
	atomic_long inserts_ok, refused;
};

struct worker {
	struct race *race;
	unsigned id;
};

static void key_of(char *buf, size_t size, unsigned k, size_t *len)
{
	/* 6 to 13 bytes, so the byte limit is exercised with varied costs. */
	int n = snprintf(buf, size, "q%0*u", 5 + (int)(k % 8), k);

	*len = (size_t)n;
}

static void *quota_worker(void *arg)
{
	struct worker *w = arg;
	struct race *r = w->race;
	struct intern_str *held[HOLD] = { 0 };
	uint64_t x = 0x9e3779b97f4a7c15ull * (w->id + 1);
	char key[32];

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		unsigned slot = (unsigned)(test_xorshift64s(&x) % HOLD);
		unsigned k = (unsigned)(test_xorshift64s(&x) % NKEYS);
		unsigned op = (unsigned)(test_xorshift64s(&x) % 64);
		struct intern_str *s;
		size_t len;

		key_of(key, sizeof(key), k, &len);
		intern_str_decref(held[slot]);
		held[slot] = NULL;
		if (op == 0 && k < 32) {
			/* Immortalize now and then (32 keys at most, so the
			 * others keep meeting the limit): its room comes
			 * back. */
			s = intern_str_new(key, len);
			TCHECK(&r->fail, s != NULL);
			if (intern_immortal(r->interp, &s) != 0) {
				intern_str_decref(s);
				continue;
			}
			TCHECK(&r->fail, test_same_content(s, key, len));
			continue;
		}
		if (op == 1) {
			s = intern_lookup(r->interp, key, len);
			TCHECK(&r->fail, s || errno == ENOENT);
			intern_str_decref(s);
			continue;
		}
		errno = 0;
		s = intern_bytes(r->interp, key, len);
		if (s) {
			TCHECK(&r->fail, test_same_content(s, key, len));
			held[slot] = s;
			atomic_fetch_add_explicit(&r->inserts_ok, 1, memory_order_relaxed);
		} else {
			TCHECK(&r->fail, errno == ENOSPC);
			atomic_fetch_add_explicit(&r->refused, 1, memory_order_relaxed);
		}
	}
	for (unsigned i = 0; i < HOLD; i++)
		intern_str_decref(held[i]);
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void race_quota(size_t max_mortal, size_t max_bytes)
{
	struct race r;
	struct worker w[NTHREADS];
	pthread_t tid[NTHREADS];
	struct intern_stats st;
	struct timespec t0, t;
	long checks = 0;

	memset(&r, 0, sizeof(r));
	test_failure_init(&r.fail);
	/* Few shards, so the workers meet on the shard locks too. */
	r.interp = quota_interp(max_mortal, max_bytes, 4);
	for (unsigned i = 0; i < NTHREADS; i++) {
		w[i].race = &r;
		w[i].id = i;
		ck_assert_int_eq(pthread_create(&tid[i], NULL, quota_worker, &w[i]), 0);
	}
	/* Watch while they run: with every shard lock held the counts equal
	 * the table and are within the limits (intern_interp_check).  The
	 * statistics walk the shards one at a time, so their sum is no
	 * snapshot and may pass a limit: they are only read here. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		ck_assert_int_eq(intern_interp_stats(r.interp, &st), 0);
		ck_assert_int_eq(intern_interp_check(r.interp), 0);
		checks++;
		sleep_ms(5);
		clock_gettime(CLOCK_MONOTONIC, &t);
		/* At least three checks while the workers run, however slow
		 * this machine (valgrind on a loaded one took one check past
		 * RACE_MS). */
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < RACE_MS ||
		 checks < 3);
	atomic_store(&r.stop, 1);
	for (unsigned i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
	ck_assert_no_failure(&r.fail);
	ck_assert_int_gt(atomic_load(&r.inserts_ok), 1000);
	ck_assert_int_gt(atomic_load(&r.refused), 0);

	/* Quiet again: nothing mortal is held, so nothing is counted, and
	 * exactly the limit fits once more. */
	ck_assert_int_eq(intern_interp_check(r.interp), 0);
	st = stats_of(r.interp);
	ck_assert_uint_eq(st.quota_mortal, 0);
	ck_assert_uint_eq(st.quota_mortal_bytes, 0);
	ck_assert_uint_eq(st.mortal, 0);
	if (max_mortal && !max_bytes) {
		struct intern_str *s[LIMIT];
		char key[32];
		size_t len;
		unsigned n = 0;

		for (unsigned k = 0; n < max_mortal; k++) {
			struct intern_str *e;

			key_of(key, sizeof(key), k, &len);
			/* Keys made immortal by the race are hits, not inserts. */
			e = intern_lookup(r.interp, key, len);
			if (e) {
				intern_str_decref(e);
				continue;
			}
			s[n] = intern_bytes(r.interp, key, len);
			ck_assert_ptr_nonnull(s[n]);
			n++;
		}
		ck_enospc(intern_bytes(r.interp, "one_more_key", 12));
		for (unsigned i = 0; i < n; i++)
			intern_str_decref(s[i]);
	}
	intern_interp_free(r.interp);
}

START_TEST(test_threads_entry_limit)
{
	race_quota(LIMIT, 0);
}
END_TEST

START_TEST(test_threads_byte_limit)
{
	race_quota(0, LIMIT * 10);
}
END_TEST

START_TEST(test_threads_both_limits)
{
	race_quota(LIMIT, LIMIT * 8);
}
END_TEST

int main(void)
{
	const TTest *const tc_quota[] = {
		test_defaults_unlimited,
		test_entry_limit_every_route,
		test_byte_limit_exact,
		test_both_limits_and_interps,
		test_reintern_at_limit,
		test_free_with_quota_full,
		NULL,
	};
	const TTest *const tc_threads[] = {
		test_threads_entry_limit,
		test_threads_byte_limit,
		test_threads_both_limits,
		NULL,
	};
	const struct test_case cases[] = {
		{ "quota", tc_quota, 0 },
		{ "threads", tc_threads, 60 },
	};

	return test_run_cases("quota", cases, TEST_COUNT(cases));
}
