/*
 * bench-statics: what an application's static table costs a lookup of a
 * dynamic string.  The build generates 4096 identifiers
 * (INTERN_ID(bench_ident_00000) ...) into `bench_table`; this program times
 * the same intern_bytes() hits on dynamic strings in interpreters that hold
 * (--table) none of those identifiers, the generated table, or the same
 * identifiers interned dynamically (immortal) at startup, which is what an
 * application without the generator would do.  The last two give every
 * interpreter the same keys, hashes and slot layout, so they isolate what
 * the static layer itself costs; "none" shows what a bigger table costs.
 *
 *   bench-statics --compare                  every condition, interleaved,
 *                                            medians
 *   bench-statics [--table none|static|dynamic] [--mode M]
 *         [--keys N] [--rounds R] [--reps K]  one condition (for callgrind:
 *                                            --toggle-collect=hit_loop)
 *
 * Modes: immortal (dynamic immortal strings: a hit writes nothing), mortal
 * (dynamic mortal strings held by the program: a hit is a get-unless-zero
 * and a decref), static (hits on the generated objects themselves).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <intern.h>

#include "bench-statics-ids.h"
#include "bench-args.h"

enum mode {
	MODE_IMMORTAL,
	MODE_MORTAL,
	MODE_STATIC
};
static const char *const mode_names[] = { "immortal", "mortal", "static" };

/* What the interpreter holds besides the keys. */
enum table {
	TABLE_NONE,
	TABLE_STATIC,
	TABLE_DYNAMIC
};
static const char *const table_names[] = { "none", "static", "dynamic" };

struct cond {
	enum mode mode;
	enum table table;
	struct intern_interp *interp;
	int nkeys;
	char (*keys)[32];
	size_t *lens;
	struct intern_str **expect;
	double *ns; /* one figure per repetition */
};

static void die(const char *what)
{
	fprintf(stderr, "bench-statics: %s\n", what);
	exit(1);
}

static void cond_init(struct cond *c, enum mode mode, enum table table, int nkeys, int reps)
{
	memset(c, 0, sizeof(*c));
	c->mode = mode;
	c->table = table;
	c->nkeys = nkeys;
	c->interp = intern_interp_new(NULL);
	c->keys = calloc((size_t)nkeys, sizeof(*c->keys));
	c->lens = calloc((size_t)nkeys, sizeof(*c->lens));
	c->expect = calloc((size_t)nkeys, sizeof(*c->expect));
	c->ns = calloc((size_t)reps, sizeof(*c->ns));
	if (!c->interp || !c->keys || !c->lens || !c->expect || !c->ns)
		die("out of memory");
	if (table == TABLE_STATIC && intern_interp_add_statics(c->interp, &bench_table) != 0)
		die("intern_interp_add_statics failed");
	for (uint32_t i = 0; table == TABLE_DYNAMIC && i < bench_table.count; i++) {
		/* The same bytes, as dynamic immortal strings (the table owns
		 * them until intern_interp_free). */
		const struct intern_str *g = bench_table.strings[i];
		struct intern_str *s = intern_str_new(intern_str_data(g), intern_str_len(g));

		if (!s || intern_immortal(c->interp, &s) != 0)
			die("interning an identifier failed");
	}
	for (int k = 0; k < nkeys; k++) {
		struct intern_str *s;

		if (mode == MODE_STATIC) {
			if ((uint32_t)k >= bench_table.count)
				die("more keys than generated identifiers");
			s = (struct intern_str *)bench_table.strings[k];
			c->lens[k] = intern_str_len(s);
			memcpy(c->keys[k], intern_str_data(s), c->lens[k]);
		} else {
			/* 17 bytes, a typical identifier (docs/micro-benchmarks.md). */
			c->lens[k] = (size_t)snprintf(c->keys[k], sizeof(c->keys[k]),
						      "dynamic_key_%05d", k);
			s = intern_bytes(c->interp, c->keys[k], c->lens[k]);
			if (s && mode == MODE_IMMORTAL && intern_immortal(c->interp, &s) != 0)
				die("intern_immortal failed");
		}
		if (!s)
			die("interning failed");
		c->expect[k] = s; /* held to the end: mortal strings stay */
	}
}

/* The measured loop: rounds x keys hits, each checked and dropped. */
static __attribute__((noinline)) void hit_loop(struct cond *c, int rounds)
{
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < c->nkeys; k++) {
			struct intern_str *s = intern_bytes(c->interp, c->keys[k], c->lens[k]);

			if (s != c->expect[k])
				die("a hit returned another object");
			intern_str_decref(s);
		}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void measure(struct cond *c, int rounds, int rep)
{
	double t0 = now_ns();

	hit_loop(c, rounds);
	c->ns[rep] = (now_ns() - t0) / ((double)rounds * c->nkeys);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(struct cond *c, int reps)
{
	struct intern_stats st;

	if (intern_interp_stats(c->interp, &st) != 0)
		die("intern_interp_stats failed");
	qsort(c->ns, (size_t)reps, sizeof(double), cmp_double);
	printf("%-8s hits  table %-7s  entries %5zu  slots %6zu  avg probe %.3f  "
	       "ns/hit median %6.2f  (min %6.2f, max %6.2f)\n",
	       mode_names[c->mode], table_names[c->table],
	       st.mortal + st.immortal + st.immortal_static, st.slots, st.avg_probe,
	       c->ns[reps / 2], c->ns[0], c->ns[reps - 1]);
}

static void cond_free(struct cond *c)
{
	for (int k = 0; k < c->nkeys; k++)
		intern_str_decref(c->expect[k]);
	intern_interp_free(c->interp);
	free(c->keys);
	free(c->lens);
	free(c->expect);
	free(c->ns);
}

#define USAGE                                                      \
	"bench-statics [--compare] [--table none|static|dynamic] " \
	"[--mode immortal|mortal|static] [--keys N] [--rounds R] [--reps K]"

int main(int argc, char **argv)
{
	int compare = 0, nkeys = 1000, rounds = 20, reps = 201;
	enum mode mode = MODE_IMMORTAL;
	enum table table = TABLE_NONE;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--table") && v && (i++, 1))
			table = !strcmp(v, "static")    ? TABLE_STATIC
				: !strcmp(v, "dynamic") ? TABLE_DYNAMIC
				: !strcmp(v, "none")
					? TABLE_NONE
					: (bench_args_fail(USAGE, "bad --table", v), 0);
		else if (!strcmp(a, "--compare"))
			compare = 1;
		else if (!strcmp(a, "--mode") && v && (i++, 1))
			mode = !strcmp(v, "mortal")   ? MODE_MORTAL
			       : !strcmp(v, "static") ? MODE_STATIC
			       : !strcmp(v, "immortal")
				       ? MODE_IMMORTAL
				       : (bench_args_fail(USAGE, "bad --mode", v), 0);
		else if (!strcmp(a, "--keys") && v && (i++, 1))
			nkeys = (int)bench_args_count(USAGE, v);
		else if (!strcmp(a, "--rounds") && v && (i++, 1))
			rounds = (int)bench_args_count(USAGE, v);
		else if (!strcmp(a, "--reps") && v && (i++, 1))
			reps = (int)bench_args_count(USAGE, v);
		else if (bench_args_option(USAGE, a), 1)
			bench_args_fail(USAGE, "unexpected argument", a);
	}
	if (nkeys < 1 || rounds < 1 || reps < 1)
		die("--keys, --rounds and --reps must be positive");

	if (!compare) {
		struct cond c;

		cond_init(&c, mode, mode == MODE_STATIC ? TABLE_STATIC : table, nkeys, reps);
		for (int r = 0; r < reps; r++)
			measure(&c, rounds, r);
		report(&c, reps);
		cond_free(&c);
		return 0;
	}

	/* Interleaved: every repetition measures every condition once, so a
	 * noisy moment on a shared machine hits them alike. */
	{
		struct cond c[7];
		int n = 0;

		for (int m = MODE_IMMORTAL; m <= MODE_MORTAL; m++)
			for (int t = TABLE_NONE; t <= TABLE_DYNAMIC; t++)
				cond_init(&c[n++], (enum mode)m, (enum table)t, nkeys, reps);
		cond_init(&c[n++], MODE_STATIC, TABLE_STATIC, nkeys, reps);
		for (int r = 0; r < reps; r++)
			for (int k = 0; k < n; k++)
				measure(&c[k], rounds, r);
		printf("%d keys of 17 bytes, %d rounds x %d repetitions, %u generated "
		       "identifiers\n",
		       nkeys, rounds, reps, bench_table.count);
		for (int k = 0; k < n; k++) {
			report(&c[k], reps);
			cond_free(&c[k]);
		}
	}
	return 0;
}
