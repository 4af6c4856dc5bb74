/*
 * bench-hit: the single-thread cost of a lookup hit, to compare builds with
 * and without statistics (meson -Dstats=true/false;
 * docs/micro-benchmarks.md has the figures and the commands).
 *
 *   bench-hit [ROUNDS [immortal|mortal]]
 *
 * 1024 identifier-like keys of 6..24 bytes are interned, then the timed
 * loop, hit_loop(), calls intern_bytes() on each key in a fixed shuffled
 * order and drops the result, ROUNDS times (default 200: 204800 hits).
 * Two passes: the keys immortal (a hit writes no shared memory) and mortal
 * (a hit takes and drops a counted reference).  Prints the best of 21 runs
 * in ns of thread CPU time per hit, and the interpreter's hit counter as a
 * cross-check.  A second argument runs that pass only.
 *
 * hit_loop() is not inlined, so callgrind can count its instructions
 * alone: valgrind --tool=callgrind --toggle-collect=hit_loop bench-hit 20
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <intern.h>
#include "bench-args.h"

#define KEYS 1024
#define RUNS 21

static char key_buf[KEYS][32];
static size_t key_len[KEYS];
static unsigned order[KEYS];

static double now_ns(void)
{
	struct timespec ts;

	/* This thread's CPU time: a slice lost to another process (this
	 * machine is shared) does not count; the best run is the one the
	 * other processes disturbed least. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static __attribute__((noinline)) uintptr_t hit_loop(struct intern_interp *interp, unsigned rounds)
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
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (unsigned k = 0; k < KEYS; k++) {
		x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
		key_len[k] = (size_t)snprintf(key_buf[k], sizeof(key_buf[k]), "%.*s_%u",
					      (int)(1 + (x >> 40) % 19),
					      "request_header_value_field", k);
		order[k] = k;
	}
	for (unsigned k = KEYS - 1; k > 0; k--) {
		unsigned j, t;

		x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
		j = (unsigned)((x >> 33) % (k + 1));
		t = order[k], order[k] = order[j], order[j] = t;
	}
}

static int run(const char *name, int immortal, unsigned rounds)
{
	struct intern_interp *interp = intern_interp_new(NULL);
	struct intern_str *held[KEYS];
	struct intern_stats st;
	double best = 1e300;
	uintptr_t sink = 0;

	if (!interp)
		return 1;
	for (unsigned k = 0; k < KEYS; k++) {
		held[k] = intern_str_new(key_buf[k], key_len[k]);
		if (!held[k] || (immortal ? intern_immortal(interp, &held[k])
					  : intern_mortal(interp, &held[k])) != 0)
			return 1;
	}
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns(), dt;

		sink += hit_loop(interp, rounds);
		dt = (now_ns() - t0) / ((double)rounds * KEYS);
		if (dt < best)
			best = dt;
	}
	if (intern_interp_stats(interp, &st) != 0)
		return 1;
	printf("%-8s %7.2f ns/hit  (best of %d x %u hits; stats hits %llu, sink %lx)\n", name, best,
	       RUNS, rounds * KEYS, (unsigned long long)st.hits, (unsigned long)(sink & 0xf));
	for (unsigned k = 0; k < KEYS; k++)
		intern_str_decref(held[k]);
	intern_interp_free(interp);
	return 0;
}

#define USAGE "bench-hit [ROUNDS [immortal|mortal]]   (default 200, both)"

int main(int argc, char **argv)
{
	unsigned rounds = argc > 1 ? bench_args_count(USAGE, argv[1]) : 200;
	const char *only = argc > 2 ? argv[2] : "";

	if (argc > 3 || (argc > 2 && strcmp(only, "immortal") && strcmp(only, "mortal")))
		bench_args_fail(USAGE, "unexpected argument", argv[argc > 3 ? 3 : 2]);
	make_keys();
	if ((strcmp(only, "mortal") != 0 && run("immortal", 1, rounds)) ||
	    (strcmp(only, "immortal") != 0 && run("mortal", 0, rounds))) {
		fprintf(stderr, "bench-hit: setup failed\n");
		return 1;
	}
	intern_barrier();
	return 0;
}
