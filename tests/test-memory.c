/*
 * Memory comes back: interning and releasing many unique mortal strings
 * returns the resident set to within 10% of where it started, once the
 * grace periods have passed (intern_barrier) and glibc has been asked to
 * return its free pages (malloc_trim(0): glibc keeps freed chunks in its
 * heaps otherwise, which is the allocator's policy, not a leak).
 *
 * Two patterns, each over `n` unique strings: all held at once, then all
 * released ("peak": the criterion, end <= 1.10 x start), and a sliding
 * window of 1000 live strings ("churn": end <= 1.10 x start + one page per
 * shard, see churn_slack()).
 *
 * As a suite (meson test --suite memory): n = 10^6.  By hand, or as the
 * meson benchmark `memory-return`:
 *
 *     build/tests/test-memory --strings 10000000
 *
 * prints the figures and exits 1 if either pattern misses the 10% mark.
 * Under ASan or valgrind (whose allocators keep freed memory on purpose)
 * and in a total-collision build (-Dtest_hash, where one long probe chain
 * makes 10^6 inserts quadratic) the suite runs a smaller n and only
 * reports the figures.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "hash.h" /* INTERN_TEST_HASH */
#include "test-util.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define WINDOW 1000

static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Every freed string handed back: the grace periods, then glibc. */
static void settle(void)
{
	intern_barrier();
	malloc_trim(0);
}

static int under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

/* The k-th unique key: 12 to 27 bytes, like identifiers and header
 * names; distinct for distinct k. */
static size_t key_of(char *buf, size_t size, unsigned long k)
{
	static const char *const prefix[] = { "x-header-", "identifier_", "label.", "key" };

	return (size_t)snprintf(buf, size, "%s%lu_%lx", prefix[k % 4], k, k * 2654435761ul % 4093);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct figures {
	size_t start, peak, end;
	double seconds;
};

/* Intern `n` unique strings, all held, then drop them all. */
static int run_peak(struct intern_interp *interp, unsigned long n, unsigned long base,
		    struct figures *f)
{
	struct intern_str **held = malloc(n * sizeof(*held));
	char key[64];
	double t0 = now_s();

	if (held == NULL)
		return -1;
	settle();
	f->start = rss_bytes();
	for (unsigned long i = 0; i < n; i++) {
		size_t len = key_of(key, sizeof(key), base + i);

		held[i] = intern_bytes(interp, key, len);
		if (held[i] == NULL) {
			free(held);
			return -1;
		}
	}
	f->peak = rss_bytes();
	for (unsigned long i = 0; i < n; i++)
		intern_str_decref(held[i]);
	free(held);
	settle();
	f->end = rss_bytes();
	f->seconds = now_s() - t0;
	return 0;
}

/* Intern `n` unique strings with at most WINDOW alive at a time. */
static int run_churn(struct intern_interp *interp, unsigned long n, unsigned long base,
		     struct figures *f)
{
	struct intern_str *win[WINDOW] = { 0 };
	char key[64];
	double t0 = now_s();

	settle();
	f->start = f->peak = rss_bytes();
	for (unsigned long i = 0; i < n; i++) {
		size_t len = key_of(key, sizeof(key), base + i);

		intern_str_decref(win[i % WINDOW]);
		win[i % WINDOW] = intern_bytes(interp, key, len);
		if (win[i % WINDOW] == NULL)
			return -1;
		if (i % 65536 == 0) {
			size_t r = rss_bytes();

			if (r > f->peak)
				f->peak = r;
		}
	}
	for (unsigned i = 0; i < WINDOW; i++)
		intern_str_decref(win[i]);
	settle();
	f->end = rss_bytes();
	f->seconds = now_s() - t0;
	return 0;
}

/* Within 10% of the start, plus `slack` bytes. */
static int within(const struct figures *f, size_t slack)
{
	return (double)f->end <= (double)f->start * 1.10 + (double)slack;
}

/*
 * The churn pattern's allowance: one page per shard.  The interpreter is
 * alive at the end and still owns one small slot array per shard (64 to 528
 * bytes); rebuilds during the churn reallocated them, so they may end up
 * scattered across the heap, each pinning a page that malloc_trim cannot
 * return.  That is live memory in a fragmented heap, bounded by the shard
 * count and independent of n (with one shard the churn ends within 1%).
 */
static size_t churn_slack(void)
{
	return INTERN_SHARDS_DEFAULT * (size_t)sysconf(_SC_PAGESIZE);
}

static void report(const char *what, unsigned long n, const struct figures *f)
{
	printf("# memory %-5s n=%lu: start %.1f MiB, peak %.1f MiB, end %.1f MiB "
	       "(%+.1f%% of start), %.2f s\n",
	       what, n, (double)f->start / 1048576.0, (double)f->peak / 1048576.0,
	       (double)f->end / 1048576.0,
	       100.0 * ((double)f->end - (double)f->start) / (double)f->start, f->seconds);
	fflush(stdout);
}

/* A fresh interpreter, warmed up so that the library's one-time state
 * (liburcu's call_rcu thread, this thread's registration) exists before
 * the first measurement. */
static struct intern_interp *warm_interp(void)
{
	struct intern_interp *interp = intern_interp_new(NULL);
	struct figures f;

	if (interp == NULL)
		return NULL;
	if (run_churn(interp, 4 * WINDOW, 1ul << 40, &f) < 0) {
		intern_interp_free(interp);
		return NULL;
	}
	return interp;
}

static int measure(unsigned long n, int assert_rss, struct figures *peak, struct figures *churn)
{
	struct intern_interp *interp = warm_interp();
	int ok = 1;

	if (interp == NULL || run_peak(interp, n, 0, peak) < 0 ||
	    run_churn(interp, n, n, churn) < 0)
		return -1;
	intern_interp_free(interp);
	report("peak", n, peak);
	report("churn", n, churn);
	if (assert_rss)
		ok = within(peak, 0) && within(churn, churn_slack());
	return ok ? 0 : 1;
}

static unsigned long suite_n(int *assert_rss)
{
	*assert_rss = 1;
	if (UNDER_ASAN || under_valgrind()) {
		*assert_rss = 0;
		return 20000;
	}
	if (INTERN_TEST_HASH == 1)
		return 10000;
	if (INTERN_TEST_HASH == 2)
		return 30000;
	return 1000000;
}

START_TEST(test_memory_returns)
{
	struct figures peak, churn;
	int assert_rss;
	unsigned long n = suite_n(&assert_rss);

	ck_assert_int_ge(measure(n, 0, &peak, &churn), 0);
	if (!assert_rss)
		return;
	ck_assert_msg(within(&peak, 0), "peak: RSS %zu -> %zu after releasing %lu strings",
		      peak.start, peak.end, n);
	ck_assert_msg(within(&churn, churn_slack()), "churn: RSS %zu -> %zu after %lu strings",
		      churn.start, churn.end, n);
	/* The peak pattern did hold the strings: RSS grew on the way. */
	if (n >= 1000000)
		ck_assert_uint_gt(peak.peak, peak.start + n * 32);
}
END_TEST

int main(int argc, char **argv)
{
	const TTest *const tc_memory[] = { test_memory_returns, NULL };
	const struct test_case cases[] = {
		{ "memory", tc_memory, 120 },
	};

	if (argc == 3 && strcmp(argv[1], "--strings") == 0) {
		struct figures peak, churn;
		int rc = measure(strtoul(argv[2], NULL, 0), 1, &peak, &churn);

		printf("%s\n", rc == 0 ? "PASS: within 10% of the start (churn: + one page a shard)"
				       : "FAIL");
		return rc == 0 ? 0 : 1;
	}
	return test_run_cases("memory", cases, TEST_COUNT(cases));
}
