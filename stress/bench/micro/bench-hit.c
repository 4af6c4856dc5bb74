/*
 * bench-hit: the single-thread cost of a lookup hit, to compare builds with
 * and without statistics (meson -Dstats=true/false), a hit on a mapped
 * snapshot string with a hit on an immortal dynamic one, and the dense IDs
 * (docs/micro-benchmarks.md has the figures and the commands).
 *
 *   bench-hit [ROUNDS [PASS]]
 *
 * 1024 identifier-like keys of 6..24 bytes are interned, then the timed
 * loop, hit_loop(), calls intern_bytes() on each key in a fixed shuffled
 * order and drops the result, ROUNDS times (default 200: 204800 hits).
 * The passes (PASS runs one):
 *   immortal       the keys immortal (a hit writes no shared memory)
 *   mortal         the keys mortal (a hit takes and drops a counted reference)
 *   snapshot       the keys in a mapped snapshot (intern_interp_new_snapshot)
 *   snapshot-miss  the keys immortal, in an interpreter whose snapshot holds
 *                  1024 other strings: what a snapshot costs the others
 *   id-of, id-str  intern_id_of() / intern_id_str() of the keys' IDs, in
 *                  the snapshot (id_of_loop, id_str_loop)
 *   id-of-dynamic, id-str-dynamic   the same for immortal dynamic keys
 * Prints the best of 21 runs in ns of thread CPU time per operation, and
 * the interpreter's hit counter as a cross-check (snapshot hits are not
 * counted).
 *
 * The loops are not inlined, so callgrind can count their instructions
 * alone: valgrind --tool=callgrind --toggle-collect=hit_loop bench-hit 20
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <intern.h>
#include "bench-args.h"
#include "bench-keys.h"

#define KEYS 1024
#define RUNS 21

static char key_buf[KEYS][BENCH_KEY_SIZE];
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

static __attribute__((noinline)) uintptr_t id_of_loop(struct intern_interp *interp,
						    struct intern_str *const *held, unsigned rounds)
{
	uintptr_t sink = 0;

	for (unsigned r = 0; r < rounds; r++)
		for (unsigned i = 0; i < KEYS; i++)
			sink += intern_id_of(interp, held[order[i]]);
	return sink;
}

static __attribute__((noinline)) uintptr_t id_str_loop(struct intern_interp *interp,
						     const uint32_t *ids, unsigned rounds)
{
	uintptr_t sink = 0;

	for (unsigned r = 0; r < rounds; r++)
		for (unsigned i = 0; i < KEYS; i++)
			sink += (uintptr_t)intern_id_str(interp, ids[order[i]]);
	return sink;
}

static void make_keys(void)
{
	bench_make_keys(key_buf, key_len, order, KEYS);
}

enum pass { IMMORTAL, MORTAL, SNAPSHOT, SNAPSHOT_MISS, ID_OF, ID_STR, ID_OF_DYN, ID_STR_DYN };

static const char *const pass_name[] = { "immortal",	  "mortal", "snapshot",	    "snapshot-miss",
					 "id-of",	  "id-str", "id-of-dynamic", "id-str-dynamic" };

/* An interpreter whose snapshot holds the keys (`mine`) or 1024 others,
 * written to a temporary file that is gone once mapped; NULL: failed. */
static struct intern_interp *snapshot_interp(int mine)
{
	struct intern_snapshot_builder *b = intern_snapshot_builder_new();
	struct intern_snapshot *snap = NULL;
	struct intern_interp *interp = NULL;
	char path[64], other[40];
	int rc = b ? 0 : -1;

	snprintf(path, sizeof(path), "/tmp/bench-hit.%ld.snap", (long)getpid());
	for (unsigned k = 0; k < KEYS && rc == 0; k++) {
		snprintf(other, sizeof(other), "other_%.*s", (int)key_len[k], key_buf[k]);
		rc = mine ? intern_snapshot_builder_add(b, key_buf[k], key_len[k])
			  : intern_snapshot_builder_add(b, other, strlen(other));
	}
	if (rc == 0 && intern_snapshot_builder_write(b, path) == 0)
		snap = intern_snapshot_open(path, 0, NULL, 0);
	unlink(path);
	if (snap)
		interp = intern_interp_new_snapshot(NULL, snap);
	intern_snapshot_close(snap);
	intern_snapshot_builder_free(b);
	return interp;
}

/* Intern the keys for `pass` into held[] (and their IDs into ids[]). */
static int setup(enum pass pass, struct intern_interp *interp, struct intern_str **held,
		 uint32_t *ids)
{
	for (unsigned k = 0; k < KEYS; k++) {
		held[k] = intern_str_new(key_buf[k], key_len[k]);
		if (!held[k] || (pass == MORTAL ? intern_mortal(interp, &held[k])
						: intern_immortal(interp, &held[k])) != 0)
			return 1;
		if (pass >= ID_OF && (ids[k] = intern_id_of(interp, held[k])) == INTERN_ID_NONE)
			return 1;
	}
	return 0;
}

static int run(enum pass pass, unsigned rounds)
{
	struct intern_interp *interp = pass == SNAPSHOT || pass == ID_OF || pass == ID_STR
					       ? snapshot_interp(1)
				       : pass == SNAPSHOT_MISS ? snapshot_interp(0)
							       : intern_interp_new(NULL);
	struct intern_str *held[KEYS];
	uint32_t ids[KEYS];
	struct intern_stats st;
	double best = 1e300;
	uintptr_t sink = 0;

	if (!interp || setup(pass, interp, held, ids))
		return 1;
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns(), dt;

		if (pass == ID_OF || pass == ID_OF_DYN)
			sink += id_of_loop(interp, held, rounds);
		else if (pass == ID_STR || pass == ID_STR_DYN)
			sink += id_str_loop(interp, ids, rounds);
		else
			sink += hit_loop(interp, rounds);
		dt = (now_ns() - t0) / ((double)rounds * KEYS);
		if (dt < best)
			best = dt;
	}
	if (intern_interp_stats(interp, &st) != 0)
		return 1;
	printf("%-14s %7.2f ns/op  (best of %d x %u; stats hits %llu, sink %lx)\n",
	       pass_name[pass], best, RUNS, rounds * KEYS, (unsigned long long)st.hits,
	       (unsigned long)(sink & 0xf));
	for (unsigned k = 0; k < KEYS; k++)
		intern_str_decref(held[k]);
	intern_interp_free(interp);
	return 0;
}

#define USAGE                                                                      \
	"bench-hit [ROUNDS [immortal|mortal|snapshot|snapshot-miss|id-of|id-str|" \
	"id-of-dynamic|id-str-dynamic]]   (default 200, every pass)"

int main(int argc, char **argv)
{
	unsigned rounds = argc > 1 ? bench_args_count(USAGE, argv[1]) : 200;
	const char *only = argc > 2 ? argv[2] : NULL;
	unsigned n = sizeof(pass_name) / sizeof(pass_name[0]), matched = 0;

	if (argc > 3)
		bench_args_fail(USAGE, "unexpected argument", argv[3]);
	make_keys();
	for (unsigned p = 0; p < n; p++) {
		if (only && strcmp(only, pass_name[p]) != 0)
			continue;
		matched++;
		if (run((enum pass)p, rounds)) {
			fprintf(stderr, "bench-hit: setup of %s failed\n", pass_name[p]);
			return 1;
		}
	}
	if (!matched)
		bench_args_fail(USAGE, "unknown pass", only);
	intern_barrier();
	return 0;
}
