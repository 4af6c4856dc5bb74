/*
 * Identifier auto-interning (lib/auto): intern_auto() interns bytes that
 * match [A-Za-z_][A-Za-z0-9_]* with 1..auto_intern_max_len bytes, returns a
 * fresh NOT_INTERNED string for anything else, and the built-in singleton
 * for bytes that have one (empty, one byte, small integers).  The rule at
 * each of its edges.
 */
#include "test-util.h"

/* An interpreter with auto_intern_max_len `max` (0: the default). */
static struct intern_interp *auto_interp(size_t max)
{
	struct intern_config config;
	struct intern_interp *interp;

	intern_config_init(&config);
	config.auto_intern_max_len = max;
	interp = intern_interp_new(&config);
	ck_assert_ptr_nonnull(interp);
	return interp;
}

/* intern_auto interns these bytes: the canonical mortal string. */
static void check_interned(struct intern_interp *interp, const char *data, size_t len)
{
	struct intern_str *s = intern_auto(interp, data, len), *t;

	ck_assert_content(s, data, len);
	ck_assert_msg(intern_str_state(s) == INTERN_MORTAL, "\"%.*s\" (%zu bytes) in state %d",
		      (int)len, data, len, intern_str_state(s));
	t = intern_auto(interp, data, len);
	ck_assert_ptr_eq(t, s);
	intern_str_decref(t);
	ck_assert_lookup(interp, data, len, s);
	intern_str_decref(s);
	ck_assert_absent(interp, data, len); /* it was mortal: gone */
}

/* intern_auto leaves these bytes alone: a fresh string each time, and the
 * table still does not hold them. */
static void check_plain(struct intern_interp *interp, const char *data, size_t len)
{
	struct intern_str *s = intern_auto(interp, data, len), *t;

	ck_assert_content(s, data, len);
	ck_assert_msg(intern_str_state(s) == INTERN_NOT_INTERNED,
		      "\"%.*s\" (%zu bytes) in state %d", (int)len, data, len, intern_str_state(s));
	ck_assert_uint_eq(test_refcnt(s), 1);
	t = intern_auto(interp, data, len);
	ck_assert_ptr_ne(t, s);
	intern_str_decref(t);
	ck_assert_absent(interp, data, len);
	/* The caller may still intern it. */
	ck_assert_int_eq(intern_mortal(interp, &s), 0);
	ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
	intern_str_decref(s);
}

#define INTERNED(interp, lit) check_interned((interp), (lit), sizeof(lit) - 1)
#define PLAIN(interp, lit) check_plain((interp), (lit), sizeof(lit) - 1)

START_TEST(test_identifiers)
{
	struct intern_interp *interp = auto_interp(0);

	INTERNED(interp, "foo");
	INTERNED(interp, "_x");
	INTERNED(interp, "__init__");
	INTERNED(interp, "Content_Length2");
	INTERNED(interp, "z9");
	INTERNED(interp, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklm");
	INTERNED(interp, "_0123456789");
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_not_identifiers)
{
	struct intern_interp *interp = auto_interp(0);

	PLAIN(interp, "9lives"); /* leading digit */
	PLAIN(interp, "0x");
	PLAIN(interp, "007"); /* digits, not a canonical integer */
	PLAIN(interp, "foo-bar");
	PLAIN(interp, "foo bar");
	PLAIN(interp, "a.b");
	PLAIN(interp, "$x");
	PLAIN(interp, "x$");
	PLAIN(interp, "caf\xc3\xa9"); /* non-ASCII: UTF-8 */
	PLAIN(interp, "\xe9t\xe9");   /* non-ASCII: Latin-1 */
	PLAIN(interp, "na\x80me");
	PLAIN(interp, "ab\0cd"); /* embedded NUL */
	PLAIN(interp, "abc\0");  /* trailing NUL */
	PLAIN(interp, "\0abc");
	PLAIN(interp, "tab\t");
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_length_limit)
{
	char buf[INTERN_AUTO_MAX_LEN_DEFAULT + 2];
	struct intern_interp *interp = auto_interp(0), *eight = auto_interp(8);
	struct intern_config config;

	intern_config_init(&config);
	ck_assert_uint_eq(config.auto_intern_max_len, INTERN_AUTO_MAX_LEN_DEFAULT);

	/* The default: exactly max bytes interned, max + 1 not. */
	memset(buf, 'n', sizeof(buf));
	check_interned(interp, buf, INTERN_AUTO_MAX_LEN_DEFAULT);
	check_plain(interp, buf, INTERN_AUTO_MAX_LEN_DEFAULT + 1);
	check_interned(interp, buf, 2);

	/* A configured limit. */
	check_interned(eight, "abcdefgh", 8);
	check_plain(eight, "abcdefghi", 9);
	check_interned(eight, "ab", 2);
	intern_interp_free(interp);
	intern_interp_free(eight);
}
END_TEST

START_TEST(test_builtins)
{
	/* Bytes with a built-in singleton give it, identifier or not. */
	struct intern_interp *interp = auto_interp(0);

	ck_assert_ptr_eq(intern_auto(interp, "", 0), intern_empty());
	ck_assert_ptr_eq(intern_auto(interp, NULL, 0), intern_empty());
	ck_assert_ptr_eq(intern_auto(interp, "x", 1), intern_latin1('x'));
	ck_assert_ptr_eq(intern_auto(interp, "_", 1), intern_latin1('_'));
	ck_assert_ptr_eq(intern_auto(interp, "+", 1), intern_latin1('+'));
	ck_assert_ptr_eq(intern_auto(interp, "7", 1), intern_latin1('7'));
	ck_assert_ptr_eq(intern_auto(interp, "\0", 1), intern_latin1(0));
	ck_assert_ptr_eq(intern_auto(interp, "\xff", 1), intern_latin1(0xff));
	ck_assert_ptr_eq(intern_auto(interp, "200", 3), intern_int(interp, 200));
	ck_assert_ptr_eq(intern_auto(interp, "-1", 2), intern_int(interp, -1));
	ck_assert_int_eq(intern_str_state(intern_auto(interp, "200", 3)), INTERN_IMMORTAL_STATIC);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_canonical_kept)
{
	/* An identifier already canonical (immortal here) is returned as is. */
	struct intern_interp *interp = auto_interp(0);
	struct intern_str *imm = test_str("keyword"), *s;

	ck_assert_int_eq(intern_immortal(interp, &imm), 0);
	s = intern_auto(interp, "keyword", 7);
	ck_assert_ptr_eq(s, imm);
	ck_assert_int_eq(intern_str_state(s), INTERN_IMMORTAL);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_errors)
{
	struct intern_interp *interp = auto_interp(0);

	errno = 0;
	ck_assert_ptr_null(intern_auto(NULL, "foo", 3));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(intern_auto(interp, NULL, 3));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	/* The length is refused before any byte is read. */
	ck_assert_ptr_null(intern_auto(interp, "foo", INTERN_STR_MAX_LEN + 1));
	ck_assert_int_eq(errno, EOVERFLOW);
	intern_interp_free(interp);
}
END_TEST

int main(void)
{
	const TTest *const tc_rule[] = {
		test_identifiers,
		test_not_identifiers,
		test_length_limit,
		test_builtins,
		test_canonical_kept,
		test_errors,
		NULL,
	};
	const struct test_case cases[] = {
		{ "rule", tc_rule, 0 },
	};

	return test_run_cases("auto", cases, TEST_COUNT(cases));
}
