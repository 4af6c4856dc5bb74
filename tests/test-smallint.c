/*
 * The small-integer strings (lib/smallint), white box: the range comes from
 * the build (INTERN_SMALL_INT_MIN/MAX, meson's small_int_min/small_int_max).
 * Their contract: intern_int() returns the canonical decimal string; in the
 * range a const IMMORTAL_STATIC object in read-only memory (the one-byte
 * singletons for 0..9), got with no allocation; the same object by every
 * route that interns the same text, in every interpreter; outside the range
 * an ordinary mortal string; non-canonical text ("+5", "007", "-0") is
 * ordinary text.
 */
#include <limits.h>
#include <stdio.h>

#include "alloc.h"
#include "hash.h"
#include "intern-private.h"
#include "test-util.h"

#define MIN INTERN_SMALL_INT_MIN
#define MAX INTERN_SMALL_INT_MAX

/* The decimal text of `v` in `buf`; returns its length. */
static size_t text_of(char *buf, size_t size, long long v)
{
	int n = snprintf(buf, size, "%lld", v);

	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

START_TEST(test_range_content)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *prev = NULL;
	char buf[32];

	for (long long v = MIN; v <= MAX; v++) {
		struct intern_str *s = intern_int(interp, v);
		size_t n = text_of(buf, sizeof(buf), v);

		ck_assert_content(s, buf, n);
		ck_assert_int_eq(intern_str_state(s), INTERN_IMMORTAL_STATIC);
		ck_assert_uint_ne(test_flags(s) & INTERN_STR_F_STATIC, 0);
		ck_assert_ptr_eq(intern_int(interp, v), s);
		ck_assert_ptr_ne(s, prev);
		if (v >= 0 && v <= 9)
			ck_assert_ptr_eq(s, intern_latin1((unsigned char)('0' + v)));
		ck_assert_msg(test_is_read_only(s, sizeof(*s) + n + 1) == 1,
			      "intern_int(%lld) at %p is not in read-only memory", v, (void *)s);
		prev = s;
	}
	/* Nothing reached the table. */
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_range_writes_fault)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *targets[] = {
		intern_int(interp, MIN),
		intern_int(interp, -1),
		intern_int(interp, 10),
		intern_int(interp, MAX),
	};

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		ck_assert_int_eq(test_write_faults(&targets[i]->ob_refcnt), 1);
		ck_assert_int_eq(test_write_faults((void *)intern_str_data(targets[i])), 1);
	}
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_range_no_allocation)
{
	/* With every allocation failing, the range still works: nothing is
	 * allocated (nor hashed, nor locked: nothing reaches a table). */
	struct intern_interp *interp = test_interp(0);
	unsigned long before;

	intern__fault_arm(1, 1);
	before = intern__alloc_count();
	for (long long v = MIN; v <= MAX; v++)
		ck_assert_ptr_nonnull(intern_int(interp, v));
	ck_assert_uint_eq(intern__alloc_count(), before);
	errno = 0;
	ck_assert_ptr_null(intern_int(interp, (long long)MAX + 1));
	ck_assert_int_eq(errno, ENOMEM);
	intern__fault_disarm();
	intern_interp_free(interp);
}
END_TEST

/* Every route from text to an interned string yields `expect`. */
static void check_all_routes(struct intern_interp *interp, const char *text,
			     struct intern_str *expect)
{
	size_t len = strlen(text);
	struct intern_str *s;

	s = intern_bytes(interp, text, len);
	ck_assert_ptr_eq(s, expect);
	intern_str_decref(s);

	s = intern_lookup(interp, text, len);
	ck_assert_ptr_eq(s, expect);
	intern_str_decref(s);

	s = intern_auto(interp, text, len);
	ck_assert_ptr_eq(s, expect);
	intern_str_decref(s);

	/* A dynamic copy is consumed and replaced by the singleton. */
	s = test_str(text);
	ck_assert_int_eq(intern_mortal(interp, &s), 0);
	ck_assert_ptr_eq(s, expect);
	intern_str_decref(s);

	s = test_str(text);
	ck_assert_int_eq(intern_immortal(interp, &s), 0);
	ck_assert_ptr_eq(s, expect);
	intern_str_decref(s);

	/* The singleton itself passed in stays itself. */
	s = expect;
	ck_assert_int_eq(intern_mortal(interp, &s), 0);
	ck_assert_ptr_eq(s, expect);
	ck_assert_int_eq(intern_immortal(interp, &s), 0);
	ck_assert_ptr_eq(s, expect);
	ck_assert_int_eq(intern_static(interp, &s), 0);
	ck_assert_ptr_eq(s, expect);
	ck_assert_int_eq(intern_str_state(expect), INTERN_IMMORTAL_STATIC);
}

/* Each test that calls intern_static() has its own statics (test-util.h). */
INTERN_STATIC_DEFINE(app_200, "200");
INTERN_STATIC_DEFINE(app_min, "-5");

START_TEST(test_every_route)
{
	struct intern_interp *a = test_interp(0), *b = test_interp(1);
	static const long long values[] = { MIN, -1, 0, 7, 9, 10, 99, 200, 404, MAX };
	struct intern_stats st;
	char buf[32];

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct intern_str *s = intern_int(a, values[i]);

		text_of(buf, sizeof(buf), values[i]);
		check_all_routes(a, buf, s);
		/* Another interpreter: the same object. */
		ck_assert_ptr_eq(intern_int(b, values[i]), s);
		check_all_routes(b, buf, s);
	}

	/* An application static with the same text: intern_static gives the
	 * built-in object (as for one-byte statics); the application's stays
	 * unfiled and unused. */
	{
		struct intern_str *p = app_200;

		ck_assert_int_eq(intern_static(a, &p), 0);
		ck_assert_ptr_eq(p, intern_int(a, 200));
		ck_assert_int_eq(intern_str_state(app_200), INTERN_IMMORTAL_STATIC);
		if (MIN <= -5) {
			p = app_min;
			ck_assert_int_eq(intern_static(b, &p), 0);
			ck_assert_ptr_eq(p, intern_int(b, -5));
		}
	}

	/* No table holds them, and no lookup counted them. */
	ck_assert_int_eq(intern_interp_stats(a, &st), 0);
	ck_assert_uint_eq(st.mortal + st.immortal + st.immortal_static, 0);
	ck_assert_uint_eq(st.hits + st.misses + st.inserts, 0);
	ck_assert_int_eq(intern_interp_check(a), 0);
	ck_assert_int_eq(intern_interp_check(b), 0);
	intern_interp_free(a);
	intern_interp_free(b);
}
END_TEST

/* intern_int(v) outside the range: an ordinary mortal string of `interp`
 * with the text `text`, the one every other route finds, which dies. */
static void check_outside(struct intern_interp *interp, long long v, const char *text)
{
	size_t len = strlen(text);
	struct intern_str *s = intern_int(interp, v), *t;

	ck_assert_content(s, text, len);
	ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
	ck_assert_uint_eq(test_flags(s) & INTERN_STR_F_STATIC, 0);
	ck_assert_uint_eq(test_refcnt(s), 1);
	ck_assert_ptr_eq(intern_int(interp, v), s);
	intern_str_decref(s);
	ck_assert_lookup(interp, text, len, s);
	t = intern_bytes(interp, text, len);
	ck_assert_ptr_eq(t, s);
	intern_str_decref(t);
	t = test_str(text);
	ck_assert_int_eq(intern_mortal(interp, &t), 0);
	ck_assert_ptr_eq(t, s);
	intern_str_decref(t);
	intern_str_decref(s);
	ck_assert_absent(interp, text, len);
}

START_TEST(test_edges)
{
	struct intern_interp *interp = test_interp(0);
	char buf[32];

	/* The ends of the range: static. */
	ck_assert_int_eq(intern_str_state(intern_int(interp, MIN)), INTERN_IMMORTAL_STATIC);
	ck_assert_int_eq(intern_str_state(intern_int(interp, MAX)), INTERN_IMMORTAL_STATIC);
	text_of(buf, sizeof(buf), MIN);
	ck_assert_content(intern_int(interp, MIN), buf, strlen(buf));
	text_of(buf, sizeof(buf), MAX);
	ck_assert_content(intern_int(interp, MAX), buf, strlen(buf));
	/* One past them: mortal. */
	text_of(buf, sizeof(buf), (long long)MIN - 1);
	check_outside(interp, (long long)MIN - 1, buf);
	text_of(buf, sizeof(buf), (long long)MAX + 1);
	check_outside(interp, (long long)MAX + 1, buf);
	/* The extremes of long long (LLONG_MIN has no positive twin). */
	check_outside(interp, LLONG_MIN, "-9223372036854775808");
	check_outside(interp, LLONG_MAX, "9223372036854775807");
	check_outside(interp, LLONG_MIN + 1, "-9223372036854775807");
	check_outside(interp, 1000000000000LL, "1000000000000");
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_default_range)
{
	/* The default range: -5..1024, as CPython 3.15. */
	struct intern_interp *interp = test_interp(0);

	if (MIN != -5 || MAX != 1024) {
		intern_interp_free(interp);
		return; /* built with another range: test_edges covers it */
	}
	ck_assert_int_eq(intern_str_state(intern_int(interp, -5)), INTERN_IMMORTAL_STATIC);
	ck_assert_int_eq(intern_str_state(intern_int(interp, 1024)), INTERN_IMMORTAL_STATIC);
	check_outside(interp, -6, "-6");
	check_outside(interp, 1025, "1025");
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_noncanonical)
{
	/* Other spellings of small integers are ordinary text: interned
	 * mortal, distinct from the canonical singleton. */
	static const char *const texts[] = {
		"+5",  "007",  "00",  "-0", "-00", "-05", "05",     "+0",  "10 ", " 10",
		"1e2", "0x10", "--1", "1-", "2OO", "-+1", "1024\n", "99a", "-1x",
	};
	struct intern_interp *interp = test_interp(0);

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t len = strlen(texts[i]);
		struct intern_str *s = intern_bytes(interp, texts[i], len);

		ck_assert_content(s, texts[i], len);
		ck_assert_msg(intern_str_state(s) == INTERN_MORTAL, "\"%s\" is in state %d",
			      texts[i], intern_str_state(s));
		intern_str_decref(s);
	}
	/* Embedded NUL and high bytes: "20\0" is not "20". */
	{
		struct intern_str *s = intern_bytes(interp, "20\0", 3);
		struct intern_str *t = intern_bytes(interp, "2\xb2", 2);

		ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
		ck_assert_ptr_ne(s, intern_int(interp, 20));
		ck_assert_int_eq(intern_str_state(t), INTERN_MORTAL);
		intern_str_decref(s);
		intern_str_decref(t);
	}
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_null_interp)
{
	errno = 0;
	ck_assert_ptr_null(intern_int(NULL, 200));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_int(NULL, 123456789));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_check_flags_builtin_bytes)
{
	/* Invariant I6 in the checker: an entry with a small integer's text
	 * (planted behind the API's back) is reported, and gone once it dies. */
	struct intern_interp *interp = test_interp(0);
	uint32_t h = intern__hash("200", 3);
	struct intern_str *s = intern__str_alloc("200", 3, h);
	struct intern_str *r = NULL;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(intern__table_intern(interp, h, s, INTERN_MORTAL, &r), 0);
	ck_assert_ptr_eq(r, s);
	ck_assert_int_eq(intern_interp_check(interp), -EUCLEAN);
	intern_str_decref(s); /* the killer unlinks it */
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_barrier();
	intern_interp_free(interp);
}
END_TEST

int main(void)
{
	const TTest *const tc_singletons[] = {
		test_range_content,
		test_range_writes_fault,
		test_range_no_allocation,
		test_every_route,
		NULL,
	};
	const TTest *const tc_text[] = {
		test_edges,
		test_default_range,
		test_noncanonical,
		test_null_interp,
		test_check_flags_builtin_bytes,
		NULL,
	};
	const struct test_case cases[] = {
		{ "singletons", tc_singletons, 0 },
		{ "text", tc_text, 0 },
	};

	return test_run_cases("smallint", cases, TEST_COUNT(cases));
}
