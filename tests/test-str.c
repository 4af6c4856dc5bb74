/*
 * The string object (lib/str): intern_str_new(), incref/decref and the
 * accessors, on strings that are not interned.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

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
		INTERN_STR_MAX_LEN + 1, (size_t)UINT32_MAX,
		(size_t)UINT32_MAX + 1, (size_t)UINT32_MAX + 2,
		((size_t)1 << 32) + 5,  SIZE_MAX / 2,
		SIZE_MAX - 1,           SIZE_MAX,
	};
	char small[8] = "tiny";

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		errno = 0;
		ck_assert_msg(intern_str_new(small, lens[i]) == NULL, "length %zu accepted",
			      lens[i]);
		ck_assert_msg(errno == EOVERFLOW, "length %zu: errno %d", lens[i], errno);
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

/* ---------------------------------------------------------------------------
 * Misuse: what the library detects without an error to return
 * ------------------------------------------------------------------------- */

START_TEST(test_accessors_null)
{
	ck_assert_ptr_null(intern_str_data(NULL));
	ck_assert_uint_eq(intern_str_len(NULL), 0);
	ck_assert_int_eq(intern_str_state(NULL), INTERN_NOT_INTERNED);
}
END_TEST

/* A string object laid out by hand (the header is ABI), so that a misuse
 * can be played on memory that stays valid: the library must neither free
 * nor write it. */
struct fake {
	struct intern_str head;
	char data[8];
};

static void fake_init(struct fake *f, uint32_t count, uint8_t state, uint8_t flags)
{
	memset(f, 0, sizeof(*f));
	f->head.ob_refcnt = count;
	f->head.ob_len = 4;
	f->head.ob_state = state;
	f->head.ob_flags = flags;
	memcpy(f->data, "fake", 5);
}

struct misuse {
	struct fake f;
	int incref; /* else decref */
};

static void misuse_child(void *arg)
{
	struct misuse *m = arg;

	if (m->incref)
		intern_str_incref(&m->f.head);
	else
		intern_str_decref(&m->f.head);
	/* Nothing was written: the count and the state are as they were. */
	if (m->f.head.ob_refcnt != m[1].f.head.ob_refcnt ||
	    m->f.head.ob_state != m[1].f.head.ob_state)
		_exit(3);
}

/*
 * Play one misuse in a child: a checking build aborts with `msg` on
 * stderr; a release build prints it with "(ignored)", writes nothing and
 * goes on (never a crash).
 */
static void expect_misuse(uint32_t count, uint8_t state, uint8_t flags, int incref, const char *msg)
{
	struct misuse m[2]; /* [1]: the expected object after the call */
	char err[512];
	int status;

	fake_init(&m[0].f, count, state, flags);
	m[0].incref = incref;
	m[1] = m[0];
	status = test_in_child(misuse_child, m, err, sizeof(err));
	ck_assert_msg(strstr(err, msg) != NULL, "no \"%s\" in \"%s\"", msg, err);
	if (TEST_CHECKING_BUILD) {
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
			      "%s: status %#x, not SIGABRT", msg, status);
	} else {
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: status %#x", msg,
			      status);
		ck_assert_msg(strstr(err, "(ignored)") != NULL, "%s", err);
	}
}

START_TEST(test_decref_past_zero)
{
	/* A count of 0: the caller holds no reference (a dying string, or a
	 * second decref).  Never decremented, so it cannot wrap. */
	expect_misuse(0, INTERN_NOT_INTERNED, 0, 0, "decref past zero");
	expect_misuse(0, INTERN_MORTAL, 0, 0, "decref past zero");
	expect_misuse(0, INTERN_NOT_INTERNED, 0, 1, "incref of a string with no reference");
}
END_TEST

START_TEST(test_refcount_freed_header)
{
	/* What intern__str_destroy() leaves: a poisoned count and state (the
	 * allocator may overwrite them, docs/design.md "Bad input and misuse"). */
	expect_misuse(0xdeadbeefu, 0xff, 0, 0, "decref of a freed or invalid string");
	expect_misuse(0xdeadbeefu, 0xff, 0, 1, "incref of a freed or invalid string");
	/* Only the count poisoned; only the state; unknown flags. */
	expect_misuse(0xdeadbeefu, INTERN_MORTAL, 0, 0, "decref of a freed or invalid string");
	expect_misuse(1, 7, 0, 0, "decref of a freed or invalid string");
	expect_misuse(1, INTERN_NOT_INTERNED, 0x80, 0, "decref of a freed or invalid string");
	expect_misuse(1, 4, 0, 1, "incref of a freed or invalid string");
}
END_TEST

START_TEST(test_refcount_saturates)
{
	/* 2^31 references pin a string for good (a leak, never a use after
	 * free through a wrapped count), as the kernel's refcount_t. */
	struct intern_str *s = test_str("saturate");

	__atomic_store_n(&s->ob_refcnt, 0x7ffffffeu, __ATOMIC_RELAXED);
	intern_str_incref(s);
	ck_assert_uint_eq(test_refcnt(s), 0x7fffffffu);
	intern_str_incref(s);
	ck_assert_uint_eq(test_refcnt(s), 0xc0000000u);
	for (int i = 0; i < 1000; i++) {
		intern_str_decref(s);
		intern_str_incref(s);
		intern_str_decref(s);
	}
	ck_assert_uint_eq(test_refcnt(s), 0xc0000000u);
	ck_assert_content(s, "saturate", 8);
	/* Let it go (by hand: a real program never gets it back). */
	__atomic_store_n(&s->ob_refcnt, 1u, __ATOMIC_RELAXED);
	intern_str_decref(s);
}
END_TEST

static void uaf_child(void *arg)
{
	struct intern_str *s = arg;

	intern_str_decref(s); /* freed at once: not interned */
	intern_str_decref(s); /* reads freed memory */
	intern_str_incref(s);
}

START_TEST(test_decref_after_free)
{
	/* A real use after free, outside ASan and valgrind (which report it
	 * themselves).  intern__str_destroy() poisons the state and the
	 * count, and the string allocator (slab.c) links the freed object
	 * through its length and hash, leaving the poison: so the second
	 * decref sees an invalid state (and is reported: a checking build
	 * aborts).  A neighbour stays alive, so the region of chunks the
	 * string came from stays mapped: once the last string of a region is
	 * freed the region goes back to malloc, and a use after free may
	 * then fault (docs/design.md, "Bad input and misuse"). */
	struct intern_str *s, *neighbour;
	char err[512];
	int status;

	if (test_under_memory_checker())
		return;
	neighbour = test_str("use after frei");
	s = test_str("use after free");
	status = test_in_child(uaf_child, s, err, sizeof(err));
	if (TEST_CHECKING_BUILD)
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
				      strstr(err, "freed or invalid") != NULL,
			      "%#x: %s", status, err);
	else
		ck_assert_msg(WIFEXITED(status) && strstr(err, "(ignored)") != NULL, "%#x: %s",
			      status, err);
	intern_str_decref(s);
	intern_str_decref(neighbour);
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

int main(void)
{
	const TTest *const tc_new[] = {
		test_new_fresh_state,  test_new_copies,    test_new_prefix,   test_new_embedded_nul,
		test_new_trailing_nul, test_new_empty,     test_new_one_byte, test_new_all_lengths,
		test_new_large,        test_new_null_data, test_new_overflow, NULL,
	};
	const TTest *const tc_refcount[] = {
		test_incref_decref,
		test_incref_decref_many,
		test_null_ignored,
		test_independent_objects,
		NULL,
	};
	const TTest *const tc_misuse[] = {
		test_accessors_null,     test_decref_past_zero,  test_refcount_freed_header,
		test_refcount_saturates, test_decref_after_free, NULL,
	};
	const struct test_case cases[] = {
		{ "new", tc_new, 0 },
		{ "refcount", tc_refcount, 0 },
		{ "misuse", tc_misuse, 0 },
	};

	return test_run_cases("str", cases, TEST_COUNT(cases));
}
