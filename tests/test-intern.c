/*
 * The interning calls (lib/intern.c), one thread: every state transition,
 * every error path, reference neutrality, isolation between interpreters,
 * death and rebirth of mortal strings, and many strings in one table.
 * Interpreters themselves are tests/test-interp.c.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-util.h"

/* ---------------------------------------------------------------------------
 * State transitions
 * ------------------------------------------------------------------------- */

START_TEST(test_mortal_0_to_1)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = test_str("zero-to-one");
	struct intern_str *orig = s;

	ck_assert_int_eq(intern_str_state(s), INTERN_NOT_INTERNED);
	ck_assert_absent(interp, "zero-to-one", 11);
	ck_assert_int_eq(intern_mortal(interp, &s), 0);
	ck_assert_ptr_eq(s, orig);
	ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
	ck_assert_uint_eq(test_refcnt(s), 1);
	ck_assert_content(s, "zero-to-one", 11);
	ck_assert_lookup(interp, "zero-to-one", 11, s);
	ck_assert_uint_eq(test_refcnt(s), 1);
	ck_assert_uint_eq(test_stats_of(interp).mortal, 1);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_str_decref(s);
	ck_assert_absent(interp, "zero-to-one", 11);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_bytes_inserts_mortal)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = intern_bytes(interp, "sys.intern", 10);
	struct intern_str *t;

	ck_assert_content(s, "sys.intern", 10);
	ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
	ck_assert_uint_eq(test_refcnt(s), 1);
	/* A hit returns the same object with one more reference. */
	t = intern_bytes(interp, "sys.intern", 10);
	ck_assert_ptr_eq(t, s);
	ck_assert_uint_eq(test_refcnt(s), 2);
	intern_str_decref(t);
	ck_assert_uint_eq(test_refcnt(s), 1);
	intern_str_decref(s);
	ck_assert_absent(interp, "sys.intern", 10);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_immortal_1_to_2)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = intern_bytes(interp, "one-to-two", 10);
	struct intern_str *orig = s;
	struct intern_stats st;

	ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
	ck_assert_int_eq(intern_immortal(interp, &s), 0);
	ck_assert_ptr_eq(s, orig);
	ck_assert_int_eq(intern_str_state(s), INTERN_IMMORTAL);
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_uint_eq(st.immortal, 1);
	/* It outlives every decref. */
	intern_str_decref(s);
	intern_str_decref(s);
	ck_assert_lookup(interp, "one-to-two", 10, orig);
	ck_assert_content(orig, "one-to-two", 10);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_immortal_0_to_2)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = test_str("zero-to-two");
	struct intern_str *orig = s;

	ck_assert_int_eq(intern_immortal(interp, &s), 0);
	ck_assert_ptr_eq(s, orig);
	ck_assert_int_eq(intern_str_state(s), INTERN_IMMORTAL);
	ck_assert_lookup(interp, "zero-to-two", 11, s);
	ck_assert_uint_eq(test_stats_of(interp).immortal, 1);
	ck_assert_uint_eq(test_stats_of(interp).mortal, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_immortal_refcount_noop)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = test_str("no-writes");
	uint32_t count;

	ck_assert_int_eq(intern_immortal(interp, &s), 0);
	count = test_refcnt(s);
	for (int i = 0; i < 1000; i++)
		intern_str_incref(s);
	ck_assert_uint_eq(test_refcnt(s), count);
	for (int i = 0; i < 3000; i++)
		intern_str_decref(s);
	ck_assert_uint_eq(test_refcnt(s), count);
	/* Hits on an immortal string count nothing either. */
	for (int i = 0; i < 100; i++) {
		struct intern_str *t = intern_bytes(interp, "no-writes", 9);

		ck_assert_ptr_eq(t, s);
		t = intern_lookup(interp, "no-writes", 9);
		ck_assert_ptr_eq(t, s);
	}
	ck_assert_uint_eq(test_refcnt(s), count);
	ck_assert_int_eq(intern_str_state(s), INTERN_IMMORTAL);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_immortal_stays_on_mortal)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *imm = test_str("forever");
	struct intern_str *p;

	ck_assert_int_eq(intern_immortal(interp, &imm), 0);
	/* intern_mortal() of equal bytes yields the immortal object... */
	p = test_str("forever");
	ck_assert_int_eq(intern_mortal(interp, &p), 0);
	ck_assert_ptr_eq(p, imm);
	/* ...and of the object itself leaves it immortal. */
	ck_assert_int_eq(intern_mortal(interp, &p), 0);
	ck_assert_ptr_eq(p, imm);
	ck_assert_int_eq(intern_str_state(imm), INTERN_IMMORTAL);
	p = intern_bytes(interp, "forever", 7);
	ck_assert_ptr_eq(p, imm);
	ck_assert_int_eq(intern_str_state(imm), INTERN_IMMORTAL);
	/* Immortal again: still the same, still immortal. */
	ck_assert_int_eq(intern_immortal(interp, &p), 0);
	ck_assert_ptr_eq(p, imm);
	ck_assert_int_eq(intern_str_state(imm), INTERN_IMMORTAL);
	ck_assert_uint_eq(test_stats_of(interp).immortal, 1);
	ck_assert_uint_eq(test_stats_of(interp).mortal, 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_static_rejects_dynamic)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *plain = test_str("dynamic-0");
	struct intern_str *mortal = intern_bytes(interp, "dynamic-1", 9);
	struct intern_str *immortal = test_str("dynamic-2");
	struct intern_str *cases[3];

	ck_assert_int_eq(intern_immortal(interp, &immortal), 0);
	cases[0] = plain;
	cases[1] = mortal;
	cases[2] = immortal;
	for (int i = 0; i < 3; i++) {
		struct intern_str *p = cases[i];
		enum intern_state state = intern_str_state(p);
		uint32_t count = test_refcnt(p);
		char text[16];

		snprintf(text, sizeof(text), "dynamic-%d", i);
		ck_assert_int_eq(intern_static(interp, &p), -EINVAL);
		ck_assert_ptr_eq(p, cases[i]);
		ck_assert_int_eq(intern_str_state(p), state);
		ck_assert_uint_eq(test_refcnt(p), count);
		ck_assert_content(p, text, 9);
	}
	ck_assert_absent(interp, "dynamic-0", 9);
	ck_assert_lookup(interp, "dynamic-1", 9, mortal);
	ck_assert_lookup(interp, "dynamic-2", 9, immortal);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_str_decref(plain);
	intern_str_decref(mortal);
	ck_assert_absent(interp, "dynamic-1", 9);
	intern_interp_free(interp);
}
END_TEST

/* Each test that interns statics defines its own: with CK_FORK=no a static
 * string's state persists from one test to the next. */
INTERN_STATIC_DEFINE(s_static, "a static string");
INTERN_STATIC_DEFINE(s_static_nul, "nul\0inside");

START_TEST(test_static_born_immortal)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *p = s_static;
	struct intern_str *q;

	/* Born IMMORTAL_STATIC, const: read-only memory, never written. */
	ck_assert_int_eq(test_is_read_only(s_static, sizeof(struct intern_str)), 1);
	ck_assert_int_eq(intern_str_state(s_static), INTERN_IMMORTAL_STATIC);
	ck_assert_content(s_static, "a static string", 15);
	ck_assert_uint_ne(test_flags(s_static) & INTERN_STR_F_STATIC, 0);
	ck_assert_int_eq(intern_static(interp, &p), 0);
	ck_assert_ptr_eq(p, s_static);
	ck_assert_int_eq(intern_str_state(s_static), INTERN_IMMORTAL_STATIC);

	/* Every route to these bytes yields the static object. */
	ck_assert_lookup(interp, "a static string", 15, s_static);
	q = intern_bytes(interp, "a static string", 15);
	ck_assert_ptr_eq(q, s_static);
	q = test_str("a static string");
	ck_assert_int_eq(intern_mortal(interp, &q), 0);
	ck_assert_ptr_eq(q, s_static);
	q = test_str("a static string");
	ck_assert_int_eq(intern_immortal(interp, &q), 0);
	ck_assert_ptr_eq(q, s_static);
	ck_assert_int_eq(intern_str_state(s_static), INTERN_IMMORTAL_STATIC);

	/* Again in the same interpreter: no error, same object. */
	p = s_static;
	ck_assert_int_eq(intern_static(interp, &p), 0);
	ck_assert_ptr_eq(p, s_static);

	/* Embedded NUL: the whole literal, not up to the first NUL. */
	p = s_static_nul;
	ck_assert_uint_eq(intern_str_len(s_static_nul), 10);
	ck_assert_int_eq(intern_static(interp, &p), 0);
	ck_assert_ptr_eq(p, s_static_nul);
	ck_assert_lookup(interp, "nul\0inside", 10, s_static_nul);
	ck_assert_absent(interp, "nul", 3);

	{
		struct intern_stats st = test_stats_of(interp);

		ck_assert_uint_eq(st.immortal_static, 2);
		ck_assert_uint_eq(st.mortal, 0);
		ck_assert_uint_eq(st.immortal, 0);
	}
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
	/* Statics stay static after their interpreter is gone. */
	ck_assert_int_eq(intern_str_state(s_static), INTERN_IMMORTAL_STATIC);
	ck_assert_content(s_static, "a static string", 15);
}
END_TEST

INTERN_STATIC_DEFINE(s_shared, "shared static");

START_TEST(test_static_two_interps)
{
	struct intern_interp *a = test_interp(0);
	struct intern_interp *b = test_interp(4);
	struct intern_str *p = s_shared;

	ck_assert_int_eq(intern_static(a, &p), 0);
	ck_assert_ptr_eq(p, s_shared);
	/* Not yet registered in b. */
	ck_assert_absent(b, "shared static", 13);
	ck_assert_int_eq(intern_static(b, &p), 0);
	ck_assert_ptr_eq(p, s_shared);
	ck_assert_lookup(a, "shared static", 13, s_shared);
	ck_assert_lookup(b, "shared static", 13, s_shared);
	intern_interp_free(a);
	ck_assert_lookup(b, "shared static", 13, s_shared);
	ck_assert_int_eq(intern_str_state(s_shared), INTERN_IMMORTAL_STATIC);
	ck_assert_int_eq(intern_interp_check(b), 0);
	intern_interp_free(b);
}
END_TEST

INTERN_STATIC_DEFINE(s_taken_mortal, "taken-mortal");
INTERN_STATIC_DEFINE(s_taken_immortal, "taken-immortal");
INTERN_STATIC_DEFINE(s_taken_static, "taken-static");
INTERN_STATIC_DEFINE(s_taken_static2, "taken-static");

START_TEST(test_static_eexist)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *m = intern_bytes(interp, "taken-mortal", 12);
	struct intern_str *i = test_str("taken-immortal");
	struct intern_str *p;

	ck_assert_int_eq(intern_immortal(interp, &i), 0);

	p = s_taken_mortal;
	ck_assert_int_eq(intern_static(interp, &p), -EEXIST);
	ck_assert_ptr_eq(p, s_taken_mortal);
	/* A failed call leaves the static object as it was, unfiled... */
	ck_assert_int_eq(intern_str_state(s_taken_mortal), INTERN_IMMORTAL_STATIC);
	/* ...and leaves the canonical string as it was: still mortal, with
	 * only the caller's reference. */
	ck_assert_int_eq(intern_str_state(m), INTERN_MORTAL);
	ck_assert_uint_eq(test_refcnt(m), 1);
	ck_assert_lookup(interp, "taken-mortal", 12, m);

	p = s_taken_immortal;
	ck_assert_int_eq(intern_static(interp, &p), -EEXIST);
	ck_assert_ptr_eq(p, s_taken_immortal);
	ck_assert_int_eq(intern_str_state(s_taken_immortal), INTERN_IMMORTAL_STATIC);
	ck_assert_lookup(interp, "taken-immortal", 14, i);

	/* Two static objects with the same bytes: the second is refused. */
	p = s_taken_static;
	ck_assert_int_eq(intern_static(interp, &p), 0);
	p = s_taken_static2;
	ck_assert_int_eq(intern_static(interp, &p), -EEXIST);
	ck_assert_ptr_eq(p, s_taken_static2);
	ck_assert_lookup(interp, "taken-static", 12, s_taken_static);

	/* Once the mortal string is gone, the static one goes in. */
	intern_str_decref(m);
	ck_assert_absent(interp, "taken-mortal", 12);
	p = s_taken_mortal;
	ck_assert_int_eq(intern_static(interp, &p), 0);
	ck_assert_ptr_eq(p, s_taken_mortal);
	ck_assert_int_eq(intern_str_state(s_taken_mortal), INTERN_IMMORTAL_STATIC);
	ck_assert_lookup(interp, "taken-mortal", 12, s_taken_mortal);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Bad arguments
 * ------------------------------------------------------------------------- */

INTERN_STATIC_DEFINE(s_nullargs, "null-args");

START_TEST(test_null_args)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = test_str("argument");
	struct intern_str *p, *null = NULL;
	struct intern_stats st;
	int (*const ops[])(struct intern_interp *, struct intern_str **) = {
		intern_mortal,
		intern_immortal,
		intern_static,
	};

	for (int i = 0; i < 3; i++) {
		p = i == 2 ? s_nullargs : s;
		ck_assert_int_eq(ops[i](NULL, &p), -EINVAL);
		ck_assert_ptr_eq(p, i == 2 ? s_nullargs : s);
		ck_assert_int_eq(ops[i](interp, NULL), -EINVAL);
		ck_assert_int_eq(ops[i](interp, &null), -EINVAL);
		ck_assert_ptr_null(null);
	}
	/* The caller's reference is intact and nothing was interned. */
	ck_assert_int_eq(intern_str_state(s), INTERN_NOT_INTERNED);
	ck_assert_uint_eq(test_refcnt(s), 1);
	ck_assert_content(s, "argument", 8);
	ck_assert_int_eq(intern_str_state(s_nullargs), INTERN_IMMORTAL_STATIC);
	ck_assert_absent(interp, "argument", 8);

	errno = 0;
	ck_assert_ptr_null(intern_bytes(NULL, "x-y", 3));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_bytes(interp, NULL, 3));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_lookup(NULL, "x-y", 3));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_lookup(interp, NULL, 3));
	ck_assert_int_eq(errno, EINVAL);
	/* NULL data with length 0 is the empty string. */
	ck_assert_ptr_eq(intern_bytes(interp, NULL, 0), intern_empty());
	ck_assert_ptr_eq(intern_lookup(interp, NULL, 0), intern_empty());

	ck_assert_int_eq(intern_interp_stats(NULL, &st), -EINVAL);
	ck_assert_int_eq(intern_interp_stats(interp, NULL), -EINVAL);
	ck_assert_int_eq(intern_interp_check(NULL), -EINVAL);
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.mortal + st.immortal + st.immortal_static, 0);
	intern_str_decref(s);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_overflow_args)
{
	/* Short buffer, huge lengths: reading before checking would fault. */
	static const size_t lens[] = {
		INTERN_STR_MAX_LEN + 1,
		(size_t)UINT32_MAX + 1,
		((size_t)1 << 32) + 3,
		SIZE_MAX,
	};
	struct intern_interp *interp = test_interp(0);
	char small[8] = "xy";

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		errno = 0;
		ck_assert_ptr_null(intern_bytes(interp, small, lens[i]));
		ck_assert_msg(errno == EOVERFLOW, "bytes %zu: errno %d", lens[i], errno);
		errno = 0;
		ck_assert_ptr_null(intern_lookup(interp, small, lens[i]));
		ck_assert_msg(errno == EOVERFLOW, "lookup %zu: errno %d", lens[i], errno);
	}
	ck_assert_uint_eq(test_stats_of(interp).mortal, 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_invalid_objects)
{
	/* Headers no live string has: refused with -EINVAL, nothing written.
	 * The header is ABI, so a test can lay such objects out. */
	struct {
		struct intern_str head;
		char data[8];
	} bad[] = {
		{ { 1, 4, 0, 9, 0, 0 }, "bad1" },                             /* state */
		{ { 1, 4, 0, INTERN_NOT_INTERNED, 0x40, 0 }, "bad2" },        /* flags */
		{ { 0, 4, 0, INTERN_NOT_INTERNED, 0, 0 }, "bad3" },           /* count 0 */
		{ { 0xdeadbeefu, 4, 0, 0xff, 0, 0 }, "bad4" },                /* freed */
		{ { 1, 0x80000000u, 0, INTERN_NOT_INTERNED, 0, 0 }, "bad5" }, /* len */
		{ { 1, 4, 0, 5, INTERN_STR_F_STATIC, 0 }, "bad6" },           /* static, state */
	};
	struct intern_interp *interp = test_interp(0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct intern_str *p = &bad[i].head, copy = bad[i].head;

		ck_assert_msg(intern_mortal(interp, &p) == -EINVAL, "mortal %zu", i);
		ck_assert_msg(intern_immortal(interp, &p) == -EINVAL, "immortal %zu", i);
		ck_assert_msg(intern_static(interp, &p) == -EINVAL, "static %zu", i);
		ck_assert_ptr_eq(p, &bad[i].head);
		ck_assert(memcmp(&copy, &bad[i].head, sizeof(copy)) == 0);
	}
	ck_assert_uint_eq(test_stats_of(interp).mortal + test_stats_of(interp).immortal, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_arbitrary_bytes)
{
	/* Embedded NULs and invalid UTF-8 are bytes like any: each distinct
	 * byte string is one canonical object, by every route. */
	static const struct {
		const char *data;
		size_t len;
	} in[] = {
		{ "a\0b", 3 },         { "a\0c", 3 },
		{ "a\0", 2 },          { "\0a", 2 },
		{ "\0\0", 2 },         { "\0\0\0", 3 },
		{ "\xff\xfe", 2 },     { "\xc0\x80", 2 },
		{ "\xed\xa0\x80", 3 }, { "\x80\x80\x80\x80", 4 },
		{ "ab\0", 3 },         { "\xf4\x90\x80\x80zz", 6 },
		{ "-0", 2 },           { "007", 3 },
		{ "+5", 2 },
	};
	enum {
		N = sizeof(in) / sizeof(in[0])
	};
	struct intern_interp *interp = test_interp(0);
	struct intern_str *got[N];

	for (size_t i = 0; i < N; i++) {
		struct intern_str *p = intern_str_new(in[i].data, in[i].len), *a;

		got[i] = intern_bytes(interp, in[i].data, in[i].len);
		ck_assert_content(got[i], in[i].data, in[i].len);
		ck_assert_int_eq(intern_mortal(interp, &p), 0);
		ck_assert_ptr_eq(p, got[i]);
		intern_str_decref(p);
		ck_assert_lookup(interp, in[i].data, in[i].len, got[i]);
		/* Not identifiers: intern_auto leaves them NOT_INTERNED. */
		a = intern_auto(interp, in[i].data, in[i].len);
		ck_assert_int_eq(intern_str_state(a), INTERN_NOT_INTERNED);
		intern_str_decref(a);
		for (size_t j = 0; j < i; j++)
			ck_assert_ptr_ne(got[i], got[j]);
	}
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (size_t i = 0; i < N; i++)
		intern_str_decref(got[i]);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_lookup_miss)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = intern_bytes(interp, "present", 7);

	ck_assert_absent(interp, "absent", 6);
	ck_assert_absent(interp, "presen", 6);
	ck_assert_absent(interp, "present!", 8);
	ck_assert_absent(interp, "present\0", 8);
	/* A miss inserts nothing. */
	ck_assert_absent(interp, "absent", 6);
	ck_assert_uint_eq(test_stats_of(interp).mortal, 1);
	ck_assert_lookup(interp, "present", 7, s);
	intern_str_decref(s);
	ck_assert_absent(interp, "present", 7);
	intern_interp_free(interp);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Reference neutrality
 * ------------------------------------------------------------------------- */

START_TEST(test_neutral_duplicate)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *canon = intern_bytes(interp, "canonical", 9);
	struct intern_str *dup = test_str("canonical");

	ck_assert_ptr_ne(dup, canon);
	ck_assert_int_eq(intern_mortal(interp, &dup), 0);
	/* The caller now holds two references to the canonical object (the
	 * duplicate's reference was stolen and the duplicate freed). */
	ck_assert_ptr_eq(dup, canon);
	ck_assert_uint_eq(test_refcnt(canon), 2);
	ck_assert_int_eq(intern_str_state(canon), INTERN_MORTAL);
	intern_str_decref(dup);
	ck_assert_lookup(interp, "canonical", 9, canon);
	intern_str_decref(canon);
	ck_assert_absent(interp, "canonical", 9);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_neutral_already_canonical)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = intern_bytes(interp, "itself", 6);
	struct intern_str *p = s;

	ck_assert_int_eq(intern_mortal(interp, &p), 0);
	ck_assert_ptr_eq(p, s);
	ck_assert_uint_eq(test_refcnt(s), 1);
	ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
	intern_str_decref(p);
	ck_assert_absent(interp, "itself", 6);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_neutral_duplicate_shared)
{
	/* A duplicate the caller holds twice loses only the stolen
	 * reference: it stays a valid, not-interned string. */
	struct intern_interp *interp = test_interp(0);
	struct intern_str *canon = intern_bytes(interp, "twice", 5);
	struct intern_str *dup = test_str("twice");
	struct intern_str *p = dup;

	intern_str_incref(dup);
	ck_assert_int_eq(intern_mortal(interp, &p), 0);
	ck_assert_ptr_eq(p, canon);
	ck_assert_uint_eq(test_refcnt(canon), 2);
	ck_assert_uint_eq(test_refcnt(dup), 1);
	ck_assert_int_eq(intern_str_state(dup), INTERN_NOT_INTERNED);
	ck_assert_content(dup, "twice", 5);
	intern_str_decref(dup);
	intern_str_decref(p);
	intern_str_decref(canon);
	ck_assert_absent(interp, "twice", 5);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_neutral_canonical_shared)
{
	/* A string the caller holds twice becomes canonical and dies only
	 * with the second reference. */
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = test_str("held-twice");
	struct intern_str *p = s;

	intern_str_incref(s);
	ck_assert_int_eq(intern_mortal(interp, &p), 0);
	ck_assert_ptr_eq(p, s);
	ck_assert_uint_eq(test_refcnt(s), 2);
	intern_str_decref(p);
	ck_assert_lookup(interp, "held-twice", 10, s);
	ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
	intern_str_decref(s);
	ck_assert_absent(interp, "held-twice", 10);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_immortal_duplicate)
{
	/* intern_immortal() of a duplicate makes the canonical mortal string
	 * immortal; the caller's other reference to it stays valid. */
	struct intern_interp *interp = test_interp(0);
	struct intern_str *canon = intern_bytes(interp, "promote", 7);
	struct intern_str *dup = test_str("promote");

	ck_assert_int_eq(intern_immortal(interp, &dup), 0);
	ck_assert_ptr_eq(dup, canon);
	ck_assert_int_eq(intern_str_state(canon), INTERN_IMMORTAL);
	intern_str_decref(canon);
	ck_assert_lookup(interp, "promote", 7, canon);
	ck_assert_content(canon, "promote", 7);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

START_TEST(test_duplicates_freed)
{
	/*
	 * 2,000 duplicates of 16 KiB each: leaking the stolen duplicates
	 * would hold 32 MiB.  (Under ASan or valgrind mallinfo2() does not see
	 * their allocator and this check is vacuous; their leak checkers
	 * take over.)
	 */
	enum {
		LEN = 16 << 10,
		ROUNDS = 2000
	};
	struct intern_interp *interp = test_interp(0);
	char *key = malloc(LEN);
	struct intern_str *mortal, *immortal;
	size_t before;

	ck_assert_ptr_nonnull(key);
	test_fill_key(key, LEN, 1);
	mortal = intern_bytes(interp, key, LEN);
	key[0] ^= 1;
	immortal = intern_str_new(key, LEN);
	ck_assert_int_eq(intern_immortal(interp, &immortal), 0);
	before = heap_in_use();
	for (int i = 0; i < ROUNDS; i++) {
		struct intern_str *dup;

		key[0] ^= 1;
		dup = intern_str_new(key, LEN);
		ck_assert_int_eq(intern_mortal(interp, &dup), 0);
		ck_assert_ptr_eq(dup, i % 2 ? immortal : mortal);
		intern_str_decref(dup);
	}
	intern_barrier();
	ck_assert_msg(heap_in_use() < before + (4u << 20), "heap grew from %zu to %zu bytes",
		      before, heap_in_use());
	ck_assert_uint_eq(test_refcnt(mortal), 1);
	intern_str_decref(mortal);
	free(key);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_cross_interp)
{
	struct intern_interp *a = test_interp(0);
	struct intern_interp *b = test_interp(2);
	struct intern_str *in_a = intern_bytes(a, "travel", 6);
	struct intern_str *p = in_a;
	struct intern_str *b_old;

	/* b has no such string: b gets its own copy. */
	intern_str_incref(in_a);
	ck_assert_int_eq(intern_mortal(b, &p), 0);
	ck_assert_ptr_ne(p, in_a);
	ck_assert_content(p, "travel", 6);
	ck_assert_int_eq(intern_str_state(p), INTERN_MORTAL);
	ck_assert_lookup(b, "travel", 6, p);
	ck_assert_lookup(a, "travel", 6, in_a);
	ck_assert_int_eq(intern_str_state(in_a), INTERN_MORTAL);
	ck_assert_uint_eq(test_refcnt(in_a), 1);

	/* b has one: b's canonical object, with one more reference. */
	b_old = p;
	p = in_a;
	intern_str_incref(in_a);
	ck_assert_int_eq(intern_mortal(b, &p), 0);
	ck_assert_ptr_eq(p, b_old);
	ck_assert_uint_eq(test_refcnt(b_old), 2);
	intern_str_decref(p);

	/* The stolen reference was a's last: it leaves a's table. */
	p = in_a;
	intern_str_decref(b_old);
	ck_assert_absent(b, "travel", 6);
	ck_assert_int_eq(intern_immortal(b, &p), 0);
	ck_assert_ptr_ne(p, in_a);
	ck_assert_int_eq(intern_str_state(p), INTERN_IMMORTAL);
	ck_assert_absent(a, "travel", 6);

	ck_assert_int_eq(intern_interp_check(a), 0);
	ck_assert_int_eq(intern_interp_check(b), 0);
	intern_interp_free(a);
	intern_interp_free(b);
}
END_TEST

START_TEST(test_cross_interp_immortal)
{
	struct intern_interp *a = test_interp(0);
	struct intern_interp *b = test_interp(0);
	struct intern_str *in_a = test_str("immortal-in-a");
	struct intern_str *p;

	ck_assert_int_eq(intern_immortal(a, &in_a), 0);
	p = in_a;
	ck_assert_int_eq(intern_mortal(b, &p), 0);
	ck_assert_ptr_ne(p, in_a);
	ck_assert_int_eq(intern_str_state(p), INTERN_MORTAL);
	ck_assert_int_eq(intern_str_state(in_a), INTERN_IMMORTAL);
	ck_assert_lookup(a, "immortal-in-a", 13, in_a);
	ck_assert_lookup(b, "immortal-in-a", 13, p);
	intern_str_decref(p);
	ck_assert_absent(b, "immortal-in-a", 13);
	intern_interp_free(b);
	/* Freeing b left a's string alone. */
	ck_assert_lookup(a, "immortal-in-a", 13, in_a);
	ck_assert_int_eq(intern_str_state(in_a), INTERN_IMMORTAL);
	intern_interp_free(a);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Death and rebirth
 * ------------------------------------------------------------------------- */

START_TEST(test_mortal_dies)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = intern_bytes(interp, "short-lived", 11);
	struct intern_stats st;

	ck_assert_uint_eq(test_stats_of(interp).mortal, 1);
	intern_str_decref(s);
	ck_assert_absent(interp, "short-lived", 11);
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_uint_eq(st.dying, 0);
	ck_assert_uint_eq(st.string_bytes, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_reintern_after_death)
{
	struct intern_interp *interp = test_interp(1);

	for (int i = 0; i < 2000; i++) {
		struct intern_str *s;

		if (i % 2) {
			s = intern_bytes(interp, "phoenix", 7);
		} else {
			s = test_str("phoenix");
			ck_assert_int_eq(intern_mortal(interp, &s), 0);
		}
		ck_assert_content(s, "phoenix", 7);
		ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
		ck_assert_uint_eq(test_refcnt(s), 1);
		ck_assert_lookup(interp, "phoenix", 7, s);
		intern_str_decref(s);
		ck_assert_absent(interp, "phoenix", 7);
		if (i % 256 == 0)
			intern_barrier();
	}
	ck_assert_uint_eq(test_stats_of(interp).mortal, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Many strings
 * ------------------------------------------------------------------------- */

/* Key i: its index in 4 bytes (so keys are distinct), then 0..35 bytes of
 * noise, NULs included. */
static size_t many_key(char *key, int i)
{
	size_t len = 4 + (size_t)i % 36;

	memcpy(key, &i, 4);
	test_fill_key(key + 4, len - 4, (unsigned long)i);
	return len;
}

static void many_strings(unsigned shards)
{
	enum {
		N = 20000
	};
	struct intern_interp *interp = test_interp(shards);
	struct intern_str **s = calloc(N, sizeof(*s));
	char key[40];
	size_t bytes = 0;
	struct intern_stats st;

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < N; i++) {
		size_t len = many_key(key, i);

		s[i] = intern_bytes(interp, key, len);
		ck_assert_content(s[i], key, len);
		ck_assert_int_eq(intern_str_state(s[i]), INTERN_MORTAL);
		ck_assert_uint_eq(test_refcnt(s[i]), 1);
		bytes += len + 1;
	}
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.mortal, N);
	ck_assert_uint_eq(st.string_bytes, bytes);
	ck_assert_uint_ge(st.slots, N);
	ck_assert_uint_ge(st.max_shard_entries, (N + st.shards - 1) / st.shards);
	ck_assert_uint_le(st.max_shard_entries, N);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (int i = 0; i < N; i++) {
		size_t len = many_key(key, i);

		ck_assert_lookup(interp, key, len, s[i]);
	}
	/* Drop every other one: the rest stay, the dropped ones miss. */
	for (int i = 0; i < N; i += 2)
		intern_str_decref(s[i]);
	ck_assert_uint_eq(test_stats_of(interp).mortal, N / 2);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (int i = 0; i < N; i++) {
		size_t len = many_key(key, i);

		if (i % 2 == 0) {
			ck_assert_absent(interp, key, len);
			continue;
		}
		ck_assert_lookup(interp, key, len, s[i]);
		intern_str_decref(s[i]);
	}
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_uint_eq(st.string_bytes, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	free(s);
	intern_interp_free(interp);
}

START_TEST(test_many_strings_one_shard)
{
	many_strings(1);
}
END_TEST

START_TEST(test_many_strings_default)
{
	many_strings(0);
}
END_TEST

START_TEST(test_similar_keys)
{
	/* Prefixes of one buffer, and keys differing only after a NUL: all
	 * distinct canonical strings. */
	struct intern_interp *interp = test_interp(8);
	static const struct {
		const char *data;
		size_t len;
	} nul_keys[] = {
		{ "a", 1 },    { "a\0", 2 },    { "a\0b", 3 },   { "a\0c", 3 },
		{ "\0\0", 2 }, { "\0\0\0", 3 }, { "a\0b\0", 4 },
	};
	enum {
		NK = sizeof(nul_keys) / sizeof(nul_keys[0]),
		NP = 300
	};
	struct intern_str *k[NK], *prefix[NP + 1];
	char buf[NP];

	for (int i = 0; i < NK; i++) {
		k[i] = intern_bytes(interp, nul_keys[i].data, nul_keys[i].len);
		ck_assert_content(k[i], nul_keys[i].data, nul_keys[i].len);
		for (int j = 0; j < i; j++)
			ck_assert_ptr_ne(k[i], k[j]);
	}
	for (int i = 0; i < NK; i++)
		ck_assert_lookup(interp, nul_keys[i].data, nul_keys[i].len, k[i]);
	memset(buf, 'p', sizeof(buf));
	for (int len = 2; len <= NP; len++) {
		prefix[len] = intern_bytes(interp, buf, (size_t)len);
		ck_assert_content(prefix[len], buf, (size_t)len);
	}
	for (int len = 2; len <= NP; len++) {
		ck_assert_lookup(interp, buf, (size_t)len, prefix[len]);
		if (len > 2)
			ck_assert_ptr_ne(prefix[len], prefix[len - 1]);
	}
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (int i = 0; i < NK; i++)
		intern_str_decref(k[i]);
	for (int len = 2; len <= NP; len++)
		intern_str_decref(prefix[len]);
	ck_assert_uint_eq(test_stats_of(interp).mortal, 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_long_key)
{
	size_t len = (size_t)4 << 20;
	char *key = malloc(len);
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s;

	ck_assert_ptr_nonnull(key);
	test_fill_key(key, len, 99);
	s = intern_bytes(interp, key, len);
	ck_assert_content(s, key, len);
	ck_assert_lookup(interp, key, len, s);
	key[len - 1] ^= 1;
	ck_assert_absent(interp, key, len);
	intern_str_decref(s);
	free(key);
	intern_interp_free(interp);
}
END_TEST

int main(void)
{
	const TTest *const tc_transitions[] = {
		test_mortal_0_to_1,
		test_bytes_inserts_mortal,
		test_immortal_1_to_2,
		test_immortal_0_to_2,
		test_immortal_refcount_noop,
		test_immortal_stays_on_mortal,
		test_static_rejects_dynamic,
		test_static_born_immortal,
		test_static_two_interps,
		test_static_eexist,
		NULL,
	};
	const TTest *const tc_errors[] = {
		test_null_args,       test_overflow_args,   test_lookup_miss,
		test_invalid_objects, test_arbitrary_bytes, NULL,
	};
	const TTest *const tc_references[] = {
		test_neutral_duplicate,
		test_neutral_already_canonical,
		test_neutral_duplicate_shared,
		test_neutral_canonical_shared,
		test_immortal_duplicate,
		test_duplicates_freed,
		test_cross_interp,
		test_cross_interp_immortal,
		NULL,
	};
	const TTest *const tc_lifecycle[] = {
		test_mortal_dies,
		test_reintern_after_death,
		test_many_strings_one_shard,
		test_many_strings_default,
		test_similar_keys,
		test_long_key,
		NULL,
	};
	const struct test_case cases[] = {
		{ "transitions", tc_transitions, 0 },
		{ "errors", tc_errors, 0 },
		{ "references", tc_references, 0 },
		{ "lifecycle", tc_lifecycle, 30 },
	};

	return test_run_cases("intern", cases, TEST_COUNT(cases));
}
