/*
 * bench-churn: the single-thread cost of the whole mortal lifecycle, the
 * intern-bench workload `churn` without threads: intern_bytes() of a key
 * that is absent (a miss and an insert) and intern_str_decref() of the
 * result at once (a death, an unlink and a reclamation), on 4096
 * identifier-like keys of 6..24 bytes in a fixed shuffled order
 * (docs/micro-benchmarks.md has the figures and the commands).
 *
 *   bench-churn [ROUNDS]
 *
 * ROUNDS passes over the keys (default 50: 204800 operations).  Prints the
 * best of 21 runs in ns of thread CPU time per operation, and the
 * interpreter's miss counter as a cross-check (every operation a miss).
 *
 * The loop is not inlined, so callgrind can count its instructions alone:
 * valgrind --tool=callgrind --toggle-collect=churn_loop bench-churn 50
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <intern.h>
#include "bench-args.h"
#include "bench-keys.h"

#define KEYS 4096
#define RUNS 21

static char key_buf[KEYS][BENCH_KEY_SIZE];
static size_t key_len[KEYS];
static unsigned order[KEYS];

static double now_ns(void)
{
	struct timespec ts;

	/* This thread's CPU time: the machine is shared. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static __attribute__((noinline)) uintptr_t churn_loop(struct intern_interp *interp,
						      unsigned rounds)
{
	uintptr_t sink = 0;

	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < KEYS; i++) {
			unsigned k = order[i];
			struct intern_str *s = intern_bytes(interp, key_buf[k], key_len[k]);

			sink += (uintptr_t)s;
			intern_str_decref(s);
		}
	}
	return sink;
}

static void make_keys(void)
{
	bench_make_keys(key_buf, key_len, order, KEYS);
}

int main(int argc, char **argv)
{
	static const char usage[] = "bench-churn [ROUNDS]";
	unsigned rounds = argc > 1 ? bench_args_count(usage, argv[1]) : 50;
	struct intern_interp *interp;
	struct intern_stats st;
	double best = 1e30;
	uintptr_t sink = 0;

	if (argc > 2)
		bench_args_fail(usage, "too many arguments, from", argv[2]);
	make_keys();
	interp = intern_interp_new(NULL);
	if (!interp) {
		perror("intern_interp_new");
		return 1;
	}
	sink += churn_loop(interp, 1); /* warm: arrays sized, strings to reuse */
	for (unsigned run = 0; run < RUNS; run++) {
		double t0 = now_ns(), ns;

		sink += churn_loop(interp, rounds);
		ns = (now_ns() - t0) / ((double)rounds * KEYS);
		if (ns < best)
			best = ns;
	}
	if (intern_interp_stats(interp, &st) < 0) {
		perror("intern_interp_stats");
		return 1;
	}
	printf("churn: %.1f ns/op (best of %d, %u ops each); misses %llu, hits %llu%s\n", best,
	       RUNS, rounds * KEYS, (unsigned long long)st.misses, (unsigned long long)st.hits,
	       sink ? "" : " ");
	intern_interp_free(interp);
	return 0;
}
