/*
 * The static singletons (lib/singletons): the 256 one-byte strings and the
 * empty string.  Their contract: IMMORTAL_STATIC forever, const objects in
 * read-only memory, and the result of interning any one-byte or empty
 * string by any route, in any interpreter.
 */
#include <errno.h>

#include "test-util.h"

/* The byte `c` as a one-byte C array (c may be NUL). */
#define BYTE(c) ((const char[1]){ (char)(c) })

START_TEST(test_latin1_content)
{
	for (int c = 0; c < 256; c++) {
		struct intern_str *s = intern_latin1((unsigned char)c);

		ck_assert_content(s, BYTE(c), 1);
		ck_assert_int_eq((unsigned char)intern_str_data(s)[0], c);
		ck_assert_int_eq(intern_str_state(s), INTERN_IMMORTAL_STATIC);
		ck_assert_uint_ne(test_flags(s) & INTERN_STR_F_STATIC, 0);
	}
}
END_TEST

START_TEST(test_latin1_identity)
{
	struct intern_str *seen[256];

	for (int c = 0; c < 256; c++) {
		seen[c] = intern_latin1((unsigned char)c);
		/* The same object every time. */
		ck_assert_ptr_eq(intern_latin1((unsigned char)c), seen[c]);
		for (int d = 0; d < c; d++)
			ck_assert_ptr_ne(seen[d], seen[c]);
		ck_assert_ptr_ne(seen[c], intern_empty());
	}
}
END_TEST

START_TEST(test_empty)
{
	struct intern_str *e = intern_empty();

	ck_assert_content(e, "", 0);
	ck_assert_ptr_eq(intern_empty(), e);
	ck_assert_int_eq(intern_str_state(e), INTERN_IMMORTAL_STATIC);
	ck_assert_uint_ne(test_flags(e) & INTERN_STR_F_STATIC, 0);
}
END_TEST

START_TEST(test_refcount_noop)
{
	/* Read-only objects: a write would fault, so surviving this loop
	 * proves incref/decref write nothing.  The count must not move. */
	for (int c = 0; c < 256; c++) {
		struct intern_str *s = intern_latin1((unsigned char)c);
		uint32_t before = test_refcnt(s);

		for (int i = 0; i < 10; i++)
			intern_str_incref(s);
		for (int i = 0; i < 20; i++)
			intern_str_decref(s);
		ck_assert_uint_eq(test_refcnt(s), before);
		ck_assert_int_eq(intern_str_state(s), INTERN_IMMORTAL_STATIC);
		ck_assert_content(s, BYTE(c), 1);
	}
	for (int i = 0; i < 10; i++) {
		intern_str_incref(intern_empty());
		intern_str_decref(intern_empty());
		intern_str_decref(intern_empty());
	}
	ck_assert_content(intern_empty(), "", 0);
}
END_TEST

START_TEST(test_read_only_mapping)
{
	/* The objects, header and bytes, lie in a mapping without write
	 * permission. */
	for (int c = 0; c < 256; c++) {
		struct intern_str *s = intern_latin1((unsigned char)c);

		ck_assert_msg(test_is_read_only(s, sizeof(*s) + 2) == 1,
			      "latin1(%d) at %p is not in read-only memory", c, (void *)s);
	}
	ck_assert_msg(test_is_read_only(intern_empty(), sizeof(struct intern_str) + 1) == 1,
		      "the empty string is not in read-only memory");
}
END_TEST

START_TEST(test_stray_write_faults)
{
	/* A child writes into the header and into the bytes; each must die
	 * of SIGSEGV (or SIGBUS). */
	struct intern_str *targets[] = {
		intern_latin1('a'),
		intern_latin1(0),
		intern_latin1(255),
		intern_empty(),
	};

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct intern_str *s = targets[i];

		ck_assert_int_eq(test_write_faults(&s->ob_refcnt), 1);
		ck_assert_int_eq(test_write_faults(&s->ob_state), 1);
		ck_assert_int_eq(test_write_faults((void *)intern_str_data(s)), 1);
	}
	/* The probe itself bites: a write to writable memory survives. */
	{
		struct intern_str *d = intern_str_new("w", 1);

		ck_assert_int_eq(test_write_faults(&d->ob_refcnt), 0);
		intern_str_decref(d);
	}
}
END_TEST

/* Every route from bytes to an interned string, for one byte string. */
static void check_all_routes(struct intern_interp *interp, const char *bytes, size_t len,
			     struct intern_str *expect)
{
	struct intern_str *s;

	s = intern_bytes(interp, bytes, len);
	ck_assert_ptr_eq(s, expect);
	intern_str_decref(s);

	s = intern_lookup(interp, bytes, len);
	ck_assert_ptr_eq(s, expect);
	intern_str_decref(s);

	s = intern_str_new(bytes, len);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_ne(s, expect);
	ck_assert_int_eq(intern_mortal(interp, &s), 0);
	ck_assert_ptr_eq(s, expect);
	intern_str_decref(s);

	s = intern_str_new(bytes, len);
	ck_assert_int_eq(intern_immortal(interp, &s), 0);
	ck_assert_ptr_eq(s, expect);
	intern_str_decref(s);

	/* The singleton itself passed in stays itself. */
	s = expect;
	ck_assert_int_eq(intern_mortal(interp, &s), 0);
	ck_assert_ptr_eq(s, expect);
	ck_assert_int_eq(intern_immortal(interp, &s), 0);
	ck_assert_ptr_eq(s, expect);

	ck_assert_int_eq(intern_str_state(expect), INTERN_IMMORTAL_STATIC);
}

START_TEST(test_intern_routes)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_stats before, after;

	ck_assert_int_eq(intern_interp_stats(interp, &before), 0);
	for (int c = 0; c < 256; c++)
		check_all_routes(interp, BYTE(c), 1, intern_latin1((unsigned char)c));
	check_all_routes(interp, "", 0, intern_empty());
	check_all_routes(interp, NULL, 0, intern_empty());

	/* The singletons are not copied into the dynamic table. */
	ck_assert_int_eq(intern_interp_stats(interp, &after), 0);
	ck_assert_uint_eq(after.mortal, before.mortal);
	ck_assert_uint_eq(after.immortal, before.immortal);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_shared_by_interpreters)
{
	struct intern_interp *a = test_interp(0);
	struct intern_interp *b = test_interp(0);
	struct intern_str *s;

	s = intern_bytes(a, "z", 1);
	ck_assert_ptr_eq(s, intern_latin1('z'));
	/* Moving it to another interpreter keeps the singleton. */
	ck_assert_int_eq(intern_mortal(b, &s), 0);
	ck_assert_ptr_eq(s, intern_latin1('z'));
	intern_interp_free(a);
	/* Freeing an interpreter leaves the singletons as they were. */
	ck_assert_int_eq(intern_str_state(s), INTERN_IMMORTAL_STATIC);
	ck_assert_content(s, "z", 1);
	ck_assert_ptr_eq(intern_bytes(b, "z", 1), s);
	intern_interp_free(b);
	ck_assert_int_eq(intern_str_state(intern_empty()), INTERN_IMMORTAL_STATIC);
}
END_TEST

/* Statically defined one-byte and empty strings intern to the built-in
 * singletons. */
INTERN_STATIC_DEFINE(s_one, "k");
INTERN_STATIC_DEFINE(s_empty, "");

START_TEST(test_static_define_one_byte)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *p;

	p = s_one;
	ck_assert_int_eq(intern_static(interp, &p), 0);
	ck_assert_ptr_eq(p, intern_latin1('k'));
	p = s_empty;
	ck_assert_int_eq(intern_static(interp, &p), 0);
	ck_assert_ptr_eq(p, intern_empty());
	ck_assert_ptr_eq(intern_lookup(interp, "k", 1), intern_latin1('k'));
	intern_interp_free(interp);
}
END_TEST

int main(void)
{
	const TTest *const tc_objects[] = {
		test_latin1_content,    test_latin1_identity,    test_empty, test_refcount_noop,
		test_read_only_mapping, test_stray_write_faults, NULL,
	};
	const TTest *const tc_interning[] = {
		test_intern_routes,
		test_shared_by_interpreters,
		test_static_define_one_byte,
		NULL,
	};
	const struct test_case cases[] = {
		{ "objects", tc_objects, 0 },
		{ "interning", tc_interning, 0 },
	};

	return test_run_cases("singletons", cases, TEST_COUNT(cases));
}
