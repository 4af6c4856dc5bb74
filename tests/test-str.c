/*
 * The string object (lib/str): intern_str_new(), incref/decref and the
 * accessors, on strings that are not interned.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "test-util.h"

/* ---------------------------------------------------------------------------
 * Construction
 * ------------------------------------------------------------------------- */

START_TEST(test_new_fresh_state)
{
	struct intern_str *s = intern_str_new("hello", 5);

	ck_assert_ptr_nonnull(s);
	ck_assert_content(s, "hello", 5);
	ck_assert_int_eq(intern_str_state(s), INTERN_NOT_INTERNED);
	ck_assert_uint_eq(test_refcnt(s), 1);
	ck_assert_uint_eq(test_flags(s) & INTERN_STR_F_STATIC, 0);
	intern_str_decref(s);
}
END_TEST

START_TEST(test_new_copies)
{
	char buf[] = "mutable";
	struct intern_str *s = intern_str_new(buf, 7);

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_ne(intern_str_data(s), buf);
	memset(buf, 'x', 7);
	ck_assert_content(s, "mutable", 7);
	intern_str_decref(s);
}
END_TEST

START_TEST(test_new_prefix)
{
	/* Only `len` bytes are taken, and the NUL is the library's own. */
	struct intern_str *s = intern_str_new("abcdef", 3);

	ck_assert_content(s, "abc", 3);
	intern_str_decref(s);
}
END_TEST

START_TEST(test_new_embedded_nul)
{
	static const char bytes[] = { 'a', '\0', 'b', '\0', '\0', 'c' };
	struct intern_str *s = intern_str_new(bytes, sizeof(bytes));

	ck_assert_content(s, bytes, sizeof(bytes));
	intern_str_decref(s);

	/* Leading NULs, and a string of NULs only. */
	s = intern_str_new("\0\0\0x", 4);
	ck_assert_content(s, "\0\0\0x", 4);
	intern_str_decref(s);
	s = intern_str_new("\0\0\0\0", 4);
	ck_assert_content(s, "\0\0\0\0", 4);
	intern_str_decref(s);
}
END_TEST

START_TEST(test_new_trailing_nul)
{
	/* A NUL that is part of the data is kept, and another follows it. */
	struct intern_str *s = intern_str_new("abc", 4);

	ck_assert_uint_eq(intern_str_len(s), 4);
	ck_assert_content(s, "abc", 4);
	ck_assert_int_eq(intern_str_data(s)[3], '\0');
	intern_str_decref(s);
}
END_TEST

START_TEST(test_new_empty)
{
	struct intern_str *s = intern_str_new(NULL, 0);

	ck_assert_ptr_nonnull(s);
	ck_assert_content(s, "", 0);
	ck_assert_int_eq(intern_str_state(s), INTERN_NOT_INTERNED);
	intern_str_decref(s);

	s = intern_str_new("ignored", 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_content(s, "", 0);
	ck_assert_int_eq(intern_str_state(s), INTERN_NOT_INTERNED);
	intern_str_decref(s);
}
END_TEST

START_TEST(test_new_one_byte)
{
	/* Not interned: the singleton appears only when interning. */
	struct intern_str *s = intern_str_new("q", 1);

	ck_assert_content(s, "q", 1);
	ck_assert_int_eq(intern_str_state(s), INTERN_NOT_INTERNED);
	ck_assert_ptr_ne(s, intern_latin1('q'));
	intern_str_decref(s);
}
END_TEST

START_TEST(test_new_all_lengths)
{
	char buf[4096];

	test_fill_key(buf, sizeof(buf), 42);
	for (size_t len = 0; len <= sizeof(buf); len += len < 300 ? 1 : 97) {
		struct intern_str *s = intern_str_new(buf, len);

		ck_assert_content(s, buf, len);
		intern_str_decref(s);
	}
}
END_TEST

START_TEST(test_new_large)
{
	size_t len = (size_t)16 << 20;
	char *buf = malloc(len);
	struct intern_str *s;

	ck_assert_ptr_nonnull(buf);
	test_fill_key(buf, len, 7);
	s = intern_str_new(buf, len);
	ck_assert_content(s, buf, len);
	intern_str_decref(s);
	free(buf);
}
END_TEST

START_TEST(test_new_null_data)
{
	errno = 0;
	ck_assert_ptr_null(intern_str_new(NULL, 1));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_str_new(NULL, 12345));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_new_overflow)
{
	/*
	 * The buffer is far shorter than the lengths: copying (or allocating
	 * and then copying) before the length check would fault.  The list
	 * includes lengths that truncate to small values in 32 bits and
	 * SIZE_MAX, where len + 1 wraps to 0.
	 */
	static const size_t lens[] = {
		INTERN_STR_MAX_LEN + 1,
		(size_t)UINT32_MAX,
		(size_t)UINT32_MAX + 1,
		(size_t)UINT32_MAX + 2,
		((size_t)1 << 32) + 5,
		SIZE_MAX / 2,
		SIZE_MAX - 1,
		SIZE_MAX,
	};
	char small[8] = "tiny";

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		errno = 0;
		ck_assert_msg(intern_str_new(small, lens[i]) == NULL,
			      "length %zu accepted", lens[i]);
		ck_assert_msg(errno == EOVERFLOW, "length %zu: errno %d",
			      lens[i], errno);
	}
	/* NULL data with an oversized length: either check may come first,
	 * but it must fail with one of the two. */
	errno = 0;
	ck_assert_ptr_null(intern_str_new(NULL, SIZE_MAX));
	ck_assert(errno == EOVERFLOW || errno == EINVAL);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Reference counting
 * ------------------------------------------------------------------------- */

START_TEST(test_incref_decref)
{
	struct intern_str *s = intern_str_new("counted", 7);

	ck_assert_uint_eq(test_refcnt(s), 1);
	intern_str_incref(s);
	ck_assert_uint_eq(test_refcnt(s), 2);
	intern_str_incref(s);
	ck_assert_uint_eq(test_refcnt(s), 3);
	intern_str_decref(s);
	ck_assert_uint_eq(test_refcnt(s), 2);
	intern_str_decref(s);
	ck_assert_uint_eq(test_refcnt(s), 1);
	/* Still whole while a reference is held; its state never moved. */
	ck_assert_content(s, "counted", 7);
	ck_assert_int_eq(intern_str_state(s), INTERN_NOT_INTERNED);
	/* The last reference frees it (ASan and valgrind check the free). */
	intern_str_decref(s);
}
END_TEST

START_TEST(test_incref_decref_many)
{
	struct intern_str *s = intern_str_new("many", 4);

	for (int i = 0; i < 100000; i++)
		intern_str_incref(s);
	ck_assert_uint_eq(test_refcnt(s), 100001);
	for (int i = 0; i < 100000; i++)
		intern_str_decref(s);
	ck_assert_uint_eq(test_refcnt(s), 1);
	ck_assert_content(s, "many", 4);
	intern_str_decref(s);
}
END_TEST

START_TEST(test_null_ignored)
{
	intern_str_incref(NULL);
	intern_str_decref(NULL);
}
END_TEST

START_TEST(test_independent_objects)
{
	/* Not interned: equal bytes give distinct objects. */
	struct intern_str *a = intern_str_new("same", 4);
	struct intern_str *b = intern_str_new("same", 4);

	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_ne(intern_str_data(a), intern_str_data(b));
	intern_str_decref(a);
	ck_assert_content(b, "same", 4);
	intern_str_decref(b);
}
END_TEST

static Suite *
str_suite(void)
{
	Suite *s = suite_create("str");
	TCase *tc = tcase_create("new");

	tcase_add_test(tc, test_new_fresh_state);
	tcase_add_test(tc, test_new_copies);
	tcase_add_test(tc, test_new_prefix);
	tcase_add_test(tc, test_new_embedded_nul);
	tcase_add_test(tc, test_new_trailing_nul);
	tcase_add_test(tc, test_new_empty);
	tcase_add_test(tc, test_new_one_byte);
	tcase_add_test(tc, test_new_all_lengths);
	tcase_add_test(tc, test_new_large);
	tcase_add_test(tc, test_new_null_data);
	tcase_add_test(tc, test_new_overflow);
	suite_add_tcase(s, tc);

	tc = tcase_create("refcount");
	tcase_add_test(tc, test_incref_decref);
	tcase_add_test(tc, test_incref_decref_many);
	tcase_add_test(tc, test_null_ignored);
	tcase_add_test(tc, test_independent_objects);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(str_suite());
}
