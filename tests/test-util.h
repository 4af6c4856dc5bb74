/*
 * Helpers shared by the Check suites in tests/.
 *
 * Check forks each test by default, and liburcu's helper threads (call_rcu,
 * ...) do not survive fork(): no test program creates an interpreter in
 * main() or in an unchecked fixture.  Every interpreter is made inside the
 * test that uses it.
 *
 * The suites must also pass with CK_FORK=no (the valgrind setup), where all
 * tests share one process: each test frees what it made, and each test that
 * calls intern_static() defines its own static strings, because a static
 * string's state changes once and for the life of the process.
 */
#ifndef INTERN_TEST_UTIL_H
#define INTERN_TEST_UTIL_H

#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <intern.h>

/* RUNNING_ON_VALGRIND: true under memcheck, where some tests do less (or
 * nothing: a forked child's vanished threads show as lost memory). */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* Run one suite the way meson expects: TAP or plain output as chosen by
 * the CK_* environment, exit status 0 only if every test passed. */
int test_run_suite(Suite *suite);

/*
 * A suite as a table.  Each test program's main() lists its test cases
 * (Check's TCase: a name, the tests, NULL-terminated, and a timeout in
 * seconds, 0 for Check's default) and calls test_run_cases():
 *
 *	const TTest *const tc_basics[] = { test_a, test_b, NULL };
 *	const struct test_case cases[] = { { "basics", tc_basics, 0 } };
 *
 *	return test_run_cases("name", cases, TEST_COUNT(cases));
 */
struct test_case {
	const char *name;
	const TTest *const *tests;
	double timeout;
};

#define TEST_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Build the suite `suite` from `n` test cases and run it as
 * test_run_suite() does; returns the exit status for main(). */
int test_run_cases(const char *suite, const struct test_case *cases, size_t n);

/*
 * White-box reads of the object header.  Applications must use the
 * accessors; the tests read the header (which is ABI) to prove what the
 * accessors cannot show: the count, and that "writes nothing" holds.
 */
static inline uint32_t test_refcnt(const struct intern_str *s)
{
	return __atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED);
}

static inline unsigned test_flags(const struct intern_str *s)
{
	return __atomic_load_n(&s->ob_flags, __ATOMIC_RELAXED);
}

/* Does `s` hold exactly the `len` bytes at `data`, followed by a NUL?
 * (For worker threads; the test's own thread uses ck_assert_content.) */
static inline int test_same_content(const struct intern_str *s, const char *data, size_t len)
{
	return intern_str_len(s) == len && memcmp(intern_str_data(s), data, len) == 0 &&
	       intern_str_data(s)[len] == '\0';
}

/* `s` holds exactly the `len` bytes at `data`, followed by a NUL. */
#define ck_assert_content(s, data, len)                                                    \
	do {                                                                               \
		const struct intern_str *s_ = (s);                                         \
		size_t len_ = (len);                                                       \
		ck_assert_ptr_nonnull(s_);                                                 \
		ck_assert_uint_eq(intern_str_len(s_), len_);                               \
		ck_assert_ptr_nonnull(intern_str_data(s_));                                \
		ck_assert_msg(len_ == 0 || memcmp(intern_str_data(s_), (data), len_) == 0, \
			      "bytes of %s differ from %s", #s, #data);                    \
		ck_assert_int_eq(intern_str_data(s_)[len_], '\0');                         \
	} while (0)

/* A counted reference to a fresh, not-interned copy of a C string. */
struct intern_str *test_str(const char *text);

/* A new interpreter with `shards` shards (0: the default); never NULL. */
struct intern_interp *test_interp(unsigned shards);

/* The interpreter's statistics (intern_interp_stats must succeed and fill
 * every field: the struct is poisoned first). */
struct intern_stats test_stats_of(struct intern_interp *interp);

/* The lookup misses, with errno ENOENT. */
#define ck_assert_absent(interp, data, len)                                 \
	do {                                                                \
		errno = 0;                                                  \
		ck_assert_ptr_null(intern_lookup((interp), (data), (len))); \
		ck_assert_int_eq(errno, ENOENT);                            \
	} while (0)

/* The lookup hits `expect`; the new reference it returns is dropped. */
#define ck_assert_lookup(interp, data, len, expect)                               \
	do {                                                                      \
		struct intern_str *hit_ = intern_lookup((interp), (data), (len)); \
		ck_assert_ptr_eq(hit_, (expect));                                 \
		intern_str_decref(hit_);                                          \
	} while (0)

/* xorshift64*: the tests' cheap generator; `*x` is its state (not 0). */
static inline uint64_t test_xorshift64s(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

/* `len` bytes derived from `seed` (any byte values, NULs included). */
void test_fill_key(char *buf, size_t len, unsigned long seed);

/* Is [addr, addr + len) inside a mapping without write permission? */
int test_is_read_only(const void *addr, size_t len);

/*
 * Fork a child that writes one byte at `addr` with SIGSEGV set to its
 * default action.  Returns 1 if the child was killed by SIGSEGV or SIGBUS
 * (the write faulted), 0 if the write went through, -1 on another outcome
 * (fork failed, or the child died some other way).
 */
int test_write_faults(void *addr);

/*
 * Run fn(arg) in a forked child with SIGABRT at its default action and its
 * stderr captured into `err` (NUL-terminated, truncated to `size`); the
 * child exits 0 after fn returns.  Returns the child's wait status.
 */
int test_in_child(void (*fn)(void *), void *arg, char *err, size_t size);

/* Is the library built with assertions (NDEBUG undefined)?  Misuse the
 * library detects then aborts; a release build reports it and goes on.
 * The tests share the library's NDEBUG (meson's b_ndebug is project-wide). */
#ifdef NDEBUG
#define TEST_CHECKING_BUILD 0
#else
#define TEST_CHECKING_BUILD 1
#endif

/* Running under ASan or valgrind, whose allocators make a use after free
 * an error of its own (so such a test is skipped there)? */
int test_under_memory_checker(void);

/*
 * Failure recording for worker threads.  ck_assert() must run on the
 * thread that runs the test (with CK_FORK=no it longjmps), so workers
 * record the first failure here and the test asserts on it after joining.
 */
struct test_failure {
	atomic_int count;
	atomic_flag claimed;
	char msg[256];
};

void test_failure_init(struct test_failure *f);
void test_failure_record(struct test_failure *f, const char *file, int line, const char *what);

#define TCHECK(f, cond)                                                      \
	do {                                                                 \
		if (!(cond))                                                 \
			test_failure_record((f), __FILE__, __LINE__, #cond); \
	} while (0)

#define ck_assert_no_failure(f)                      \
	ck_assert_msg(atomic_load(&(f)->count) == 0, \
		      "%d thread failure(s), "       \
		      "first: %s",                   \
		      atomic_load(&(f)->count), (f)->msg)

#endif /* INTERN_TEST_UTIL_H */
