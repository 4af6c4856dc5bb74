/*
 * Interpreters (lib/interp.c), one thread: configuration, creation and
 * freeing, limits, stale and doubly freed handles, teardown with live
 * references, and the per-interpreter statistics and invariant checker.
 * The interning calls themselves are tests/test-intern.c.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "test-util.h"

/* ---------------------------------------------------------------------------
 * Configuration and lifetime of interpreters
 * ------------------------------------------------------------------------- */

START_TEST(test_config_defaults)
{
	struct intern_config config;
	struct intern_interp *interp;

	config.shards = 12345;
	intern_config_init(&config);
	ck_assert_uint_eq(config.shards, INTERN_SHARDS_DEFAULT);

	interp = intern_interp_new(NULL);
	ck_assert_ptr_nonnull(interp);
	ck_assert_uint_eq(test_stats_of(interp).shards, INTERN_SHARDS_DEFAULT);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);

	config.shards = 0;
	interp = intern_interp_new(&config);
	ck_assert_ptr_nonnull(interp);
	/* The config is copied: changing it afterwards changes nothing. */
	config.shards = 3;
	ck_assert_uint_eq(test_stats_of(interp).shards, INTERN_SHARDS_DEFAULT);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_config_valid_shards)
{
	for (unsigned shards = 1; shards <= INTERN_SHARDS_MAX; shards *= 2) {
		struct intern_interp *interp = test_interp(shards);
		struct intern_str *s = intern_bytes(interp, "key", 3);
		struct intern_stats st = test_stats_of(interp);

		ck_assert_uint_eq(st.shards, shards);
		ck_assert_uint_eq(st.mortal, 1);
		ck_assert_uint_ge(st.slots, 1);
		ck_assert_int_eq(intern_interp_check(interp), 0);
		intern_str_decref(s);
		intern_interp_free(interp);
	}
}
END_TEST

START_TEST(test_config_invalid_shards)
{
	static const unsigned bad[] = {
		3,
		5,
		6,
		7,
		12,
		100,
		1000,
		4095,
		INTERN_SHARDS_MAX + 1,
		INTERN_SHARDS_MAX * 2,
		65536,
		1u << 31,
		UINT_MAX,
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct intern_config config;

		intern_config_init(&config);
		config.shards = bad[i];
		errno = 0;
		ck_assert_msg(intern_interp_new(&config) == NULL, "shards %u accepted", bad[i]);
		ck_assert_msg(errno == EINVAL, "shards %u: errno %d", bad[i], errno);
	}
}
END_TEST

START_TEST(test_interp_free_null)
{
	intern_interp_free(NULL);
}
END_TEST

START_TEST(test_interp_many_alive)
{
	/* Each interpreter is its own domain: equal bytes, distinct
	 * canonical objects, freed in an interleaved order. */
	enum {
		N = 300
	};
	struct intern_interp *interp[N];
	struct intern_str *s[N];

	for (int i = 0; i < N; i++) {
		interp[i] = test_interp(i % 2 ? 1 : 0);
		s[i] = intern_bytes(interp[i], "everywhere", 10);
		ck_assert_ptr_nonnull(s[i]);
		for (int j = 0; j < i; j++)
			ck_assert_ptr_ne(s[i], s[j]);
	}
	for (int i = 0; i < N; i++)
		ck_assert_lookup(interp[i], "everywhere", 10, s[i]);
	for (int i = 0; i < N; i += 2) {
		intern_str_decref(s[i]);
		intern_interp_free(interp[i]);
	}
	for (int i = 1; i < N; i += 2) {
		ck_assert_lookup(interp[i], "everywhere", 10, s[i]);
		intern_interp_free(interp[i]);
		/* Outlives its interpreter, then dies with its reference. */
		ck_assert_int_eq(intern_str_state(s[i]), INTERN_NOT_INTERNED);
		intern_str_decref(s[i]);
	}
}
END_TEST

START_TEST(test_interp_churn)
{
	/* More create/free cycles than there are interpreter ids: ids must
	 * be recycled. */
	for (long i = 0; i < INTERN_INTERP_MAX + 1000L; i++) {
		struct intern_interp *interp = intern_interp_new(NULL);

		ck_assert_msg(interp != NULL, "cycle %ld: errno %d", i, errno);
		if (i % 4096 == 0) {
			struct intern_str *s = intern_bytes(interp, "cycle", 5);

			ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
			intern_str_decref(s);
		}
		intern_interp_free(interp);
	}
}
END_TEST

START_TEST(test_interp_max)
{
	struct intern_interp **all = calloc(INTERN_INTERP_MAX, sizeof(*all));
	struct intern_interp *extra;

	ck_assert_ptr_nonnull(all);
	for (long i = 0; i < INTERN_INTERP_MAX; i++) {
		all[i] = test_interp(1);
	}
	errno = 0;
	ck_assert_ptr_null(intern_interp_new(NULL));
	ck_assert_int_eq(errno, EMFILE);

	/* A freed id can be taken again, and only one. */
	intern_interp_free(all[1234]);
	all[1234] = test_interp(1);
	errno = 0;
	ck_assert_ptr_null(intern_interp_new(NULL));
	ck_assert_int_eq(errno, EMFILE);

	/* The last one made still works. */
	extra = all[INTERN_INTERP_MAX - 1];
	{
		struct intern_str *s = intern_bytes(extra, "last", 4);

		ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
		intern_str_decref(s);
	}
	for (long i = 0; i < INTERN_INTERP_MAX; i++)
		intern_interp_free(all[i]);
	free(all);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Stale and doubly freed interpreters, absurd configurations
 * ------------------------------------------------------------------------- */

INTERN_STATIC_DEFINE(s_stale, "stale-handle");

START_TEST(test_use_after_interp_free)
{
	/* A freed interpreter's struct is kept in a quarantine (the last 64
	 * frees), so a stale handle is detected, not read after free: every
	 * call fails with EINVAL and leaves the caller's references alone.
	 * (ASan and valgrind see no invalid access either.) */
	struct intern_interp *interp = test_interp(0);
	struct intern_str *held = intern_bytes(interp, "held-mortal", 11);
	struct intern_str *fresh = test_str("fresh-string"), *p, *st_p = s_stale;
	struct intern_static_table table = { INTERN_STATIC_TABLE_VERSION, 0, NULL };
	struct intern_stats st;

	ck_assert_ptr_nonnull(held);
	intern_interp_free(interp);
	ck_assert_int_eq(intern_str_state(held), INTERN_NOT_INTERNED);

	errno = 0;
	ck_assert_ptr_null(intern_bytes(interp, "held-mortal", 11));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_lookup(interp, "held-mortal", 11));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_auto(interp, "ident", 5));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_int(interp, 7));
	ck_assert_int_eq(errno, EINVAL);
	p = fresh;
	ck_assert_int_eq(intern_mortal(interp, &p), -EINVAL);
	ck_assert_int_eq(intern_immortal(interp, &p), -EINVAL);
	ck_assert_ptr_eq(p, fresh);
	ck_assert_int_eq(intern_static(interp, &st_p), -EINVAL);
	ck_assert_ptr_eq(st_p, s_stale);
	ck_assert_int_eq(intern_str_state(s_stale), INTERN_IMMORTAL_STATIC);
	ck_assert_int_eq(intern_interp_add_statics(interp, &table), -EINVAL);
	ck_assert_int_eq(intern_interp_stats(interp, &st), -EINVAL);
	ck_assert_int_eq(intern_interp_check(interp), -EINVAL);
	ck_assert_int_eq(intern_str_state(fresh), INTERN_NOT_INTERNED);
	ck_assert_uint_eq(test_refcnt(fresh), 1);
	intern_str_decref(fresh);
	intern_str_decref(held);
}
END_TEST

static void double_free_child(void *arg)
{
	intern_interp_free(arg);
}

START_TEST(test_interp_double_free)
{
	/* No error to return: reported, fatal in a checking build, ignored in
	 * a release build; in the child, the quarantined struct is intact. */
	struct intern_interp *interp = test_interp(0);
	char err[512];
	int status;

	intern_interp_free(interp);
	status = test_in_child(double_free_child, interp, err, sizeof(err));
	ck_assert_msg(strstr(err, "intern_interp_free of a freed interpreter") != NULL, "%s", err);
	if (TEST_CHECKING_BUILD)
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "%#x", status);
	else
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%#x", status);
}
END_TEST

START_TEST(test_interp_quarantine_bounded)
{
	/* Creating and freeing many interpreters keeps at most 64 freed
	 * structs: valgrind and LeakSanitizer see them as reachable. */
	for (int i = 0; i < 300; i++)
		intern_interp_free(test_interp(1));
}
END_TEST

START_TEST(test_absurd_config)
{
	/* Fields at their extremes: the shard count is checked, the others
	 * are limits that any value makes sense for. */
	struct intern_config c;
	struct intern_interp *interp;
	struct intern_str *s;

	intern_config_init(NULL); /* ignored */
	intern_config_init(&c);
	c.shards = UINT_MAX;
	errno = 0;
	ck_assert_ptr_null(intern_interp_new(&c));
	ck_assert_int_eq(errno, EINVAL);
	c.shards = INTERN_SHARDS_MAX * 2;
	ck_assert_ptr_null(intern_interp_new(&c));
	c.shards = 1;
	c.auto_intern_max_len = SIZE_MAX;
	c.max_mortal = SIZE_MAX;
	c.max_mortal_bytes = SIZE_MAX;
	interp = intern_interp_new(&c);
	ck_assert_ptr_nonnull(interp);
	s = intern_auto(interp, "an_identifier", 13);
	ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
	intern_str_decref(s);
	c.max_mortal_bytes = 1; /* no string fits: every insert refused */
	intern_interp_free(interp);
	interp = intern_interp_new(&c);
	errno = 0;
	ck_assert_ptr_null(intern_bytes(interp, "xy", 2));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_ptr_eq(intern_bytes(interp, "x", 1), intern_latin1('x'));
	intern_interp_free(interp);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Teardown with references held
 * ------------------------------------------------------------------------- */

INTERN_STATIC_DEFINE(s_teardown, "teardown-static");

START_TEST(test_free_with_references)
{
	struct intern_interp *a = test_interp(0);
	struct intern_interp *b;
	struct intern_str *m1 = intern_bytes(a, "orphan-1", 8);
	struct intern_str *m2 = intern_bytes(a, "orphan-2", 8);
	struct intern_str *imm = test_str("immortal-dies");
	struct intern_str *st = s_teardown;

	intern_str_incref(m2);
	ck_assert_int_eq(intern_immortal(a, &imm), 0);
	ck_assert_int_eq(intern_static(a, &st), 0);
	for (int i = 0; i < 100; i++) {
		char key[16];
		struct intern_str *s;

		/* Dead and immortal strings for the teardown to free. */
		snprintf(key, sizeof(key), "gone-%d", i);
		s = test_str(key);
		ck_assert_int_eq(i % 2 ? intern_immortal(a, &s) : intern_mortal(a, &s), 0);
		intern_str_decref(s);
	}
	intern_interp_free(a);

	/* The mortal strings survive as not-interned strings. */
	ck_assert_int_eq(intern_str_state(m1), INTERN_NOT_INTERNED);
	ck_assert_content(m1, "orphan-1", 8);
	ck_assert_int_eq(intern_str_state(m2), INTERN_NOT_INTERNED);
	ck_assert_content(m2, "orphan-2", 8);
	ck_assert_uint_eq(test_refcnt(m2), 2);
	ck_assert_int_eq(intern_str_state(s_teardown), INTERN_IMMORTAL_STATIC);
	intern_str_decref(m1);

	/* An orphan can be interned again elsewhere (0 -> 1). */
	b = test_interp(0);
	ck_assert_int_eq(intern_mortal(b, &m2), 0);
	ck_assert_int_eq(intern_str_state(m2), INTERN_MORTAL);
	ck_assert_lookup(b, "orphan-2", 8, m2);
	ck_assert_int_eq(intern_interp_check(b), 0);
	intern_str_decref(m2);
	ck_assert_lookup(b, "orphan-2", 8, m2);
	intern_str_decref(m2);
	ck_assert_absent(b, "orphan-2", 8);
	intern_interp_free(b);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Statistics and the checker
 * ------------------------------------------------------------------------- */

INTERN_STATIC_DEFINE(s_stats, "counted static");

START_TEST(test_stats_counts)
{
	struct intern_interp *interp = test_interp(4);
	struct intern_str *m[10], *i[5], *p = s_stats;
	struct intern_stats st = test_stats_of(interp);
	size_t bytes = 0;

	/* An empty interpreter. */
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_uint_eq(st.immortal, 0);
	ck_assert_uint_eq(st.immortal_static, 0);
	ck_assert_uint_eq(st.dying, 0);
	ck_assert_uint_eq(st.string_bytes, 0);
	ck_assert_uint_eq(st.shards, 4);
	ck_assert_uint_eq(st.max_shard_entries, 0);
	ck_assert_uint_gt(st.table_bytes, 0);

	for (int k = 0; k < 10; k++) {
		char key[16];
		int n = snprintf(key, sizeof(key), "mortal-%d", k);

		m[k] = intern_bytes(interp, key, (size_t)n);
		bytes += (size_t)n + 1;
	}
	for (int k = 0; k < 5; k++) {
		char key[32];
		int n = snprintf(key, sizeof(key), "immortal-number-%d", k);

		i[k] = intern_str_new(key, (size_t)n);
		ck_assert_int_eq(intern_immortal(interp, &i[k]), 0);
		bytes += (size_t)n + 1;
	}
	ck_assert_int_eq(intern_static(interp, &p), 0);
	bytes += intern_str_len(s_stats) + 1;

	st = test_stats_of(interp);
	ck_assert_uint_eq(st.mortal, 10);
	ck_assert_uint_eq(st.immortal, 5);
	ck_assert_uint_eq(st.immortal_static, 1);
	ck_assert_uint_eq(st.dying, 0);
	ck_assert_uint_eq(st.string_bytes, bytes);
	ck_assert_uint_eq(st.shards, 4);
	ck_assert_uint_ge(st.slots, 16);
	ck_assert_uint_ge(st.max_shard_entries, 4);
	ck_assert_uint_le(st.max_shard_entries, 16);
	ck_assert_uint_ge(st.max_probe, 1);
	ck_assert(st.avg_probe >= 0.0);
	ck_assert(st.avg_probe <= (double)st.max_probe);
	ck_assert_uint_gt(st.table_bytes, 0);

	/* Promotion moves a count; death removes one. */
	ck_assert_int_eq(intern_immortal(interp, &m[0]), 0);
	intern_str_decref(m[1]);
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.mortal, 8);
	ck_assert_uint_eq(st.immortal, 6);
	ck_assert_uint_eq(st.string_bytes, bytes - strlen("mortal-1") - 1);
	for (int k = 2; k < 10; k++)
		intern_str_decref(m[k]);
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_uint_eq(st.immortal, 6);
	ck_assert_uint_eq(st.immortal_static, 1);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_check_detects_corruption)
{
	/* The checker can fail: corrupt a header behind the library's back
	 * (white box), expect -EUCLEAN, then repair it. */
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = intern_bytes(interp, "victim", 6);
	uint16_t owner = s->ob_owner;

	ck_assert_int_eq(intern_interp_check(interp), 0);
	__atomic_store_n(&s->ob_owner, (uint16_t)(owner + 1), __ATOMIC_RELAXED);
	ck_assert_int_eq(intern_interp_check(interp), -EUCLEAN);
	__atomic_store_n(&s->ob_owner, owner, __ATOMIC_RELAXED);
	ck_assert_int_eq(intern_interp_check(interp), 0);

	__atomic_store_n(&s->ob_state, INTERN_NOT_INTERNED, __ATOMIC_RELAXED);
	ck_assert_int_eq(intern_interp_check(interp), -EUCLEAN);
	__atomic_store_n(&s->ob_state, INTERN_MORTAL, __ATOMIC_RELAXED);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_str_decref(s);
	intern_interp_free(interp);
}
END_TEST

int main(void)
{
	const TTest *const tc_lifetime[] = {
		test_config_defaults,  test_config_valid_shards, test_config_invalid_shards,
		test_interp_free_null, test_interp_many_alive,   NULL,
	};
	/* Tens of thousands of interpreters: slower than the rest. */
	const TTest *const tc_limits[] = {
		test_interp_churn,
		test_interp_max,
		NULL,
	};
	const TTest *const tc_errors[] = {
		test_use_after_interp_free,
		test_interp_double_free,
		test_interp_quarantine_bounded,
		test_absurd_config,
		NULL,
	};
	const TTest *const tc_lifecycle[] = {
		test_free_with_references,
		test_stats_counts,
		test_check_detects_corruption,
		NULL,
	};
	const struct test_case cases[] = {
		{ "lifetime", tc_lifetime, 0 },
		{ "limits", tc_limits, 60 },
		{ "errors", tc_errors, 0 },
		{ "lifecycle", tc_lifecycle, 30 },
	};

	return test_run_cases("interp", cases, TEST_COUNT(cases));
}
