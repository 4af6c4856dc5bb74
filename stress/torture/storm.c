/*
 * storm.c: intern-storm, the reclamation storm.  Shows that the dead strings
 * libintern has not yet freed stay bounded, and memory flat, however fast
 * threads kill mortal strings.
 *
 * N threads share one interpreter and a small key set; each operation
 * interns a random key and drops the reference at once, so nearly every
 * operation creates a mortal string and kills it (the churn of
 * intern-bench).  Every thread checks, every CHECK_EVERY operations, the
 * invariants of intern_reclaim_stats():
 *
 *   - thread_max <= thread_bound: no thread ever held more dead strings
 *     than its bound;
 *   - pending <= threads * thread_bound: nor did the process, as far as
 *     counted strings go (a string is counted when its batch closes).
 *
 * The main thread reads the resident set size (/proc/self/statm) once the
 * warm-up (the first tenth of the operations) is done, and again at the
 * end, before anything is freed: the end must be within --rss-slack
 * percent (default 10) plus 1 MiB of the warm-up figure (reported only
 * under AddressSanitizer, whose quarantine keeps freed memory).  After the threads
 * are joined and intern_barrier() returns, no dead string may remain
 * (pending == 0).  Prints one line of figures and PASS, or what failed and
 * exits 1.
 *
 *   intern-storm [--threads N] [--ops TOTAL] [--keys K] [--rss-slack PCT]
 *
 * It checks invariants, not timings: a slow or loaded machine runs longer,
 * never fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "intern.h"

/* AddressSanitizer holds freed memory in its quarantine on purpose: there
 * the resident set is reported, not checked (as tests/test-memory.c). */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_CHECKED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_CHECKED 0
#endif
#endif
#ifndef RSS_CHECKED
#define RSS_CHECKED 1
#endif

#define CHECK_EVERY 65536u
#define MAX_THREADS 1024u

static struct {
	unsigned threads;
	uint64_t ops;
	unsigned keys;
	unsigned rss_slack;
} opt = { 16, 10000000, 4096, 10 };

static struct intern_interp *interp;
static char (*keys)[24];
static size_t *lens;
static atomic_uint_fast64_t done_ops;
static atomic_int failed;

/* Resident set size in bytes, or 0 if /proc cannot say. */
static uint64_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static struct intern_reclaim_stats reclaim_now(void)
{
	struct intern_reclaim_stats st;

	if (intern_reclaim_stats(&st, sizeof(st)) != 0) {
		fprintf(stderr, "intern-storm: intern_reclaim_stats failed\n");
		exit(2);
	}
	return st;
}

/* The bounds; a message and `failed` set if one is broken. */
static void check_bounds(const char *where)
{
	const struct intern_reclaim_stats st = reclaim_now();

	if (st.thread_max > st.thread_bound) {
		fprintf(stderr,
			"intern-storm: %s: a thread held %" PRIu64 " dead strings, bound %" PRIu64
			"\n",
			where, st.thread_max, st.thread_bound);
		atomic_store(&failed, 1);
	}
	if (st.pending_max > (uint64_t)opt.threads * st.thread_bound) {
		fprintf(stderr,
			"intern-storm: %s: %" PRIu64 " dead strings pending, bound %" PRIu64 "\n",
			where, st.pending_max, (uint64_t)opt.threads * st.thread_bound);
		atomic_store(&failed, 1);
	}
}

static void *worker(void *arg)
{
	uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
	const uint64_t mine = opt.ops / opt.threads;

	for (uint64_t i = 0; i < mine; i++) {
		unsigned k;
		struct intern_str *s;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		k = (unsigned)(x % opt.keys);
		s = intern_bytes(interp, keys[k], lens[k]);
		if (!s) {
			fprintf(stderr, "intern-storm: intern_bytes: %s\n", strerror(errno));
			atomic_store(&failed, 1);
			return NULL;
		}
		intern_str_decref(s); /* nearly always the last: a death */
		if ((i + 1) % CHECK_EVERY == 0) {
			atomic_fetch_add(&done_ops, CHECK_EVERY);
			check_bounds("during the run");
			if (atomic_load(&failed))
				return NULL;
		}
	}
	return NULL;
}

static unsigned long parse(const char *name, const char *v, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v ? v : "", &end, 10);
	if (!v || errno || *end || n < min || n > max) {
		fprintf(stderr, "intern-storm: %s wants a number in [%lu, %lu]\n", name, min, max);
		exit(2);
	}
	return n;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--threads"))
			opt.threads = (unsigned)parse(a, v, 1, MAX_THREADS);
		else if (!strcmp(a, "--ops"))
			opt.ops = parse(a, v, 1000, 100000000000ul);
		else if (!strcmp(a, "--keys"))
			opt.keys = (unsigned)parse(a, v, 1, 10000000);
		else if (!strcmp(a, "--rss-slack"))
			opt.rss_slack = (unsigned)parse(a, v, 0, 1000);
		else {
			fprintf(stderr,
				"usage: intern-storm [--threads N] [--ops TOTAL] [--keys K] "
				"[--rss-slack PCT]\n");
			exit(2);
		}
		i++;
	}
}

int main(int argc, char **argv)
{
	pthread_t tid[MAX_THREADS];
	uint64_t rss_warm = 0, rss_end, limit;
	struct intern_reclaim_stats st;

	parse_args(argc, argv);
	interp = intern_interp_new(NULL);
	keys = calloc(opt.keys, sizeof(*keys));
	lens = calloc(opt.keys, sizeof(*lens));
	if (!interp || !keys || !lens)
		return 2;
	for (unsigned k = 0; k < opt.keys; k++)
		lens[k] = (size_t)snprintf(keys[k], sizeof(keys[k]), "storm-%u-%x", k,
					   k * 2654435761u);
	for (unsigned t = 0; t < opt.threads; t++)
		if (pthread_create(&tid[t], NULL, worker, (void *)(uintptr_t)(t + 1)) != 0)
			return 2;
	/* The warm-up: a tenth of the operations. */
	while (!atomic_load(&failed) && atomic_load(&done_ops) < opt.ops / 10 &&
	       atomic_load(&done_ops) + (uint64_t)opt.threads * CHECK_EVERY < opt.ops)
		usleep(1000);
	rss_warm = rss_bytes();
	for (unsigned t = 0; t < opt.threads; t++)
		pthread_join(tid[t], NULL);
	rss_end = rss_bytes(); /* before the barrier frees anything */
	check_bounds("at the end");
	st = reclaim_now();
	limit = rss_warm + rss_warm / 100 * opt.rss_slack + (1u << 20);
	printf("intern-storm: %u threads, %" PRIu64 " ops, %u keys: dead strings pending at most "
	       "%" PRIu64 " (bound %" PRIu64 " = %u threads x %" PRIu64 "), one thread at most "
	       "%" PRIu64 ", %" PRIu64 " freed, %" PRIu64 " grace periods waited for by killers; "
	       "RSS %.1f MiB after warm-up, %.1f MiB at the end (limit %.1f MiB)\n",
	       opt.threads, opt.ops / opt.threads * opt.threads, opt.keys, st.pending_max,
	       (uint64_t)opt.threads * st.thread_bound, opt.threads, st.thread_bound, st.thread_max,
	       st.freed, st.helped, rss_warm / 1048576.0, rss_end / 1048576.0, limit / 1048576.0);
	if (RSS_CHECKED && rss_warm && rss_end > limit) {
		fprintf(stderr, "intern-storm: memory grew past the limit\n");
		atomic_store(&failed, 1);
	}
	intern_barrier();
	st = reclaim_now();
	if (st.pending != 0) {
		fprintf(stderr,
			"intern-storm: %" PRIu64 " dead strings left after intern_barrier()\n",
			st.pending);
		atomic_store(&failed, 1);
	}
	intern_interp_free(interp);
	free(keys);
	free(lens);
	puts(atomic_load(&failed) ? "FAIL" : "PASS");
	return atomic_load(&failed) ? 1 : 0;
}
