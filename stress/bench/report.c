/*
 * report.c: intern-bench's output: the terminal table, CSV, Markdown,
 * gnuplot plots, libintern's performance targets, measured and marked PASS
 * or MISS, and a plain summary of where libintern wins and loses.
 *
 * Every format shows the same numbers.  A cell is the median throughput
 * over the repetitions (Mops/s, all threads together); the cost per op in
 * core-nanoseconds (1000 x min(threads, cores) / Mops: the CPU time one
 * op takes, so it stays comparable when threads outnumber cores); and the
 * ratio libintern / row, where > 1 means libintern is faster.  The
 * libintern row a ratio uses is "libintern" (immortal keys) where it runs
 * and "libintern-mortal" in the counted workloads.
 *
 * Targets are reported, never asserted: a benchmark on a noisy 2-core VM
 * is evidence, not a test verdict (contended cells varied up to 3x
 * between quiet runs).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

/* ---------------------------------------------------------------------------
 * Lookups into the results
 * ------------------------------------------------------------------------- */

/* The implementation index with `role`, or -1. */
static long impl_with_role(const struct bench_report *r, enum bench_role role)
{
	for (size_t i = 0; i < r->nimpls; i++)
		if (r->impls[i]->role == role)
			return (long)i;
	return -1;
}

/* The libintern row that workload w's ratios use, or -1. */
static long reference_row(const struct bench_report *r, size_t w)
{
	long li = impl_with_role(r, BENCH_ROLE_LIBINTERN);
	long lm = impl_with_role(r, BENCH_ROLE_LIBINTERN_MORTAL);

	/* Hot mortal workloads: libintern runs them immortal too, but the
	 * baselines count references there, as the mortal row does. */
	if (r->workloads[w].scoped && lm >= 0 && !r->skip_reason[w * r->nimpls + (size_t)lm])
		return lm;
	if (li >= 0 && !r->skip_reason[w * r->nimpls + (size_t)li])
		return li;
	if (lm >= 0 && !r->skip_reason[w * r->nimpls + (size_t)lm])
		return lm;
	return -1;
}

/* The thread-count index of `threads`, or -1. */
static long thread_index(const struct bench_report *r, unsigned threads)
{
	for (unsigned t = 0; t < r->opt->nthreads; t++)
		if (r->opt->threads[t] == threads)
			return t;
	return -1;
}

static long workload_index(const struct bench_report *r, const char *name)
{
	for (size_t w = 0; w < r->nworkloads; w++)
		if (!strcmp(r->workloads[w].name, name))
			return (long)w;
	return -1;
}

/* Median Mops/s of a cell, or 0 if it did not run. */
static double mops(const struct bench_report *r, size_t w, long i, long t)
{
	const struct bench_cell *c;

	if (i < 0 || t < 0)
		return 0;
	c = bench_cell_at(r, w, (size_t)i, (size_t)t);
	return c->status == BENCH_CELL_OK ? c->median : 0;
}

static double ns_per_op(const struct bench_report *r, unsigned threads, double m)
{
	unsigned busy = threads < r->opt->ncpus ? threads : r->opt->ncpus;

	return m > 0 ? 1e3 * busy / m : 0;
}

/* libintern / row for a cell, or 0 when either did not run. */
static double ratio(const struct bench_report *r, size_t w, size_t i, size_t t)
{
	double ref = mops(r, w, reference_row(r, w), (long)t);
	double row = mops(r, w, (long)i, (long)t);

	return ref > 0 && row > 0 ? ref / row : 0;
}

/* The hash-only loop's throughput at thread index t, or 0. */
static double machine_mops(const struct bench_report *r, long t)
{
	if (t < 0 || r->machine[t].status != BENCH_CELL_OK)
		return 0;
	return r->machine[t].median;
}

/* libintern is built in the same meson build, with the same b_ndebug. */
#ifdef NDEBUG
#define BUILD_RELEASE 1
#else
#define BUILD_RELEASE 0
#endif

#define OTHERS_HIGH BENCH_BUSY

static bool disturbed(const struct bench_cell *c)
{
	return c->status == BENCH_CELL_OK && c->others > OTHERS_HIGH;
}

/* "*": slice exhausted; "!": busy machine (see the legend). */
static const char *cell_marks(const struct bench_cell *c)
{
	bool busy = disturbed(c);

	return c->exhausted ? (busy ? "*!" : "*") : (busy ? "!" : "");
}

static size_t count_cells(const struct bench_report *r)
{
	size_t n = 0, all = r->nworkloads * r->nimpls * r->opt->nthreads;

	for (size_t k = 0; k < all; k++)
		n += r->cells[k].status == BENCH_CELL_OK;
	return n;
}

/* Others' share of the machine over every measured cell, or < 0. */
static double others_overall(const struct bench_report *r)
{
	double others = 0, capacity = 0;
	size_t all = r->nworkloads * r->nimpls * r->opt->nthreads;

	for (size_t k = 0; k < all; k++) {
		const struct bench_cell *c = &r->cells[k];

		if (c->status != BENCH_CELL_OK)
			continue;
		if (c->others_ns < 0)
			return -1;
		others += c->others_ns;
		capacity += c->capacity_ns;
	}
	return capacity > 0 ? others / capacity : -1;
}

static size_t count_exhausted(const struct bench_report *r)
{
	size_t n = 0, all = r->nworkloads * r->nimpls * r->opt->nthreads;

	for (size_t k = 0; k < all; k++)
		n += r->cells[k].status == BENCH_CELL_OK && r->cells[k].exhausted;
	return n;
}

/* The first implementation with a memory figure, or nimpls. */
static size_t first_measured(const struct bench_report *r)
{
	size_t i = 0;

	while (i < r->nimpls && !r->memory[i].measured)
		i++;
	return i;
}

static size_t count_disturbed(const struct bench_report *r)
{
	size_t n = 0, all = r->nworkloads * r->nimpls * r->opt->nthreads;

	for (size_t k = 0; k < all; k++)
		n += disturbed(&r->cells[k]);
	return n;
}

/* ---------------------------------------------------------------------------
 * Targets
 * ------------------------------------------------------------------------- */

enum verdict {
	NA,
	PASS,
	MISS
};

struct target {
	enum verdict verdict;
	char text[512];
};

#define MAX_TARGETS 32

struct targets {
	struct target t[MAX_TARGETS];
	size_t n;
};

__attribute__((format(printf, 3, 4))) static void target_add(struct targets *ts, enum verdict v,
							     const char *fmt, ...)
{
	struct target *t;
	va_list ap;

	if (ts->n == MAX_TARGETS)
		return;
	t = &ts->t[ts->n++];
	t->verdict = v;
	va_start(ap, fmt);
	vsnprintf(t->text, sizeof(t->text), fmt, ap);
	va_end(ap);
}

static const char *verdict_name(enum verdict v)
{
	return v == PASS ? "PASS" : v == MISS ? "MISS" : "n/a";
}

/* "at least `bar`": how far short, in percent, when it misses. */
static enum verdict at_least(double got, double bar, char *how, size_t n)
{
	if (got >= bar) {
		snprintf(how, n, "target >= %.2fx", bar);
		return PASS;
	}
	snprintf(how, n, "target >= %.2fx: %.0f%% short", bar, 100 * (1 - got / bar));
	return MISS;
}

static enum verdict at_most(double got, double bar, char *how, size_t n)
{
	if (got <= bar) {
		snprintf(how, n, "target <= %.2fx", bar);
		return PASS;
	}
	snprintf(how, n, "target <= %.2fx: %.0f%% over", bar, 100 * (got / bar - 1));
	return MISS;
}

/* Thread-scaling ratio hi/lo of row `li` (-1: libintern's reference row)
 * on workload `name`. */
static void scaling_target_row(const struct bench_report *r, struct targets *ts,
			       const char *name, const char *label, long li, unsigned lo,
			       unsigned hi, double bar)
{
	long w = workload_index(r, name);
	long tlo = thread_index(r, lo), thi = thread_index(r, hi);
	double a, b;
	char how[128];

	if (w < 0)
		return;
	if (li < 0)
		li = reference_row(r, (size_t)w);
	a = mops(r, (size_t)w, li, tlo);
	b = mops(r, (size_t)w, li, thi);
	if (a <= 0 || b <= 0) {
		target_add(ts, NA, "%s, %s: needs %u and %u threads in --threads", label, name, lo,
			   hi);
		return;
	}
	target_add(ts, at_least(b / a, bar, how, sizeof(how)),
		   "%s, %s: %u thr %.1f / %u thr %.1f Mops/s = %.2fx (%s; the hash alone "
		   "scales %.2fx here)",
		   label, name, hi, b, lo, a, b / a, how,
		   machine_mops(r, tlo) > 0 ? machine_mops(r, thi) / machine_mops(r, tlo) : 0);
}

static void scaling_target(const struct bench_report *r, struct targets *ts, const char *name,
			   const char *label, unsigned lo, unsigned hi, double bar)
{
	scaling_target_row(r, ts, name, label, -1, lo, hi, bar);
}

/*
 * Hot mortal strings with references borrowed for a scope: the scoped row
 * scales (2 threads >= 1.8x one) and stays within 1.3x of the immortal
 * row at every thread count measured; the mortal (counted) row beside it.
 */
static void hot_mortal_targets(const struct bench_report *r, struct targets *ts)
{
	long li = impl_with_role(r, BENCH_ROLE_LIBINTERN);
	long lm = impl_with_role(r, BENCH_ROLE_LIBINTERN_MORTAL);
	long ls = impl_with_role(r, BENCH_ROLE_LIBINTERN_SCOPED);

	for (size_t w = 0; w < r->nworkloads; w++) {
		const char *name = r->workloads[w].name;
		double worst = 0;
		unsigned worst_t = 0;
		char line[400] = "", how[128];
		size_t len = 0;

		if (!r->workloads[w].scoped || ls < 0)
			continue;
		scaling_target_row(r, ts, name, "hot mortal, scoped references scale", ls, 1, 2,
				   1.8);
		for (size_t t = 0; t < r->opt->nthreads; t++) {
			double a = mops(r, w, li, (long)t), s = mops(r, w, ls, (long)t);
			double m = mops(r, w, lm, (long)t);

			if (a <= 0 || s <= 0)
				continue;
			if (a / s > worst) {
				worst = a / s;
				worst_t = r->opt->threads[t];
			}
			if (len < sizeof(line) - 80)
				len += (size_t)snprintf(line + len, sizeof(line) - len,
							"%s%u thr %.1f / %.1f / %.1f", len ? ", " : "",
							r->opt->threads[t], a, s, m);
		}
		if (worst <= 0) {
			target_add(ts, NA, "hot mortal, scoped vs immortal, %s: not measured", name);
			continue;
		}
		target_add(ts, at_most(worst, 1.3, how, sizeof(how)),
			   "hot mortal, scoped within 1.3x of immortal, %s: worst %.2fx at %u thr "
			   "(%s); immortal / scoped / counted Mops/s: %s",
			   name, worst, worst_t, how, line);
	}
}

static double best_baseline(const struct bench_report *r, size_t w, size_t t, size_t *best);

/* Is workload `name` one of the list `names` (NULL-terminated)? */
static bool named(const char *name, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(name, *names) == 0)
			return true;
	return false;
}

/*
 * "At least the best alternative" at `threads` threads, on the workloads
 * in `names` (NULL: every workload): one row, PASS when libintern is at
 * least every baseline in every such cell, else the worst cells.
 */
static void vs_best_target(const struct bench_report *r, struct targets *ts, unsigned threads,
			   const char *const *names, const char *label)
{
	long t = thread_index(r, threads);
	long li = impl_with_role(r, BENCH_ROLE_LIBINTERN);
	char list[400] = "";
	size_t len = 0, cells = 0, losses = 0;
	double worst = 1e300;

	if (t < 0 || li < 0) {
		target_add(ts, NA, "%s: needs %u threads in --threads", label, threads);
		return;
	}
	for (size_t w = 0; w < r->nworkloads; w++) {
		size_t best = 0;
		double alt, lib;

		if (names && !named(r->workloads[w].name, names))
			continue;
		alt = best_baseline(r, w, (size_t)t, &best);
		lib = mops(r, w, reference_row(r, w), t);
		if (alt <= 0 || lib <= 0)
			continue;
		cells++;
		if (lib >= alt)
			continue;
		losses++;
		if (lib / alt < worst)
			worst = lib / alt;
		if (len < sizeof(list) - 96)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%s %.1f vs %s %.1f (%.2fx)", len ? "; " : "",
						r->workloads[w].name, lib, r->impls[best]->name,
						alt, lib / alt);
	}
	if (cells == 0)
		target_add(ts, NA, "%s: nothing compared", label);
	else if (losses == 0)
		target_add(ts, PASS, "%s: %zu of %zu workloads", label, cells, cells);
	else
		target_add(ts, MISS,
			   "%s: behind in %zu of %zu workloads (target >= 1.00x: %.0f%% "
			   "short at worst): %s",
			   label, losses, cells, 100 * (1 - worst), list);
}

static void compute_targets(const struct bench_report *r, struct targets *ts)
{
	const struct bench_options *o = r->opt;
	long limit = impl_with_role(r, BENCH_ROLE_LIMIT);
	long li = impl_with_role(r, BENCH_ROLE_LIBINTERN);
	long lm = impl_with_role(r, BENCH_ROLE_LIBINTERN_MORTAL);
	long t1 = thread_index(r, 1);
	unsigned cores = o->ncpus;
	static const char *const all_hits[] = { "tokens", "hits-small", "hits-large" };
	static const char *const near_limit[] = { "tokens", "hits-small", NULL };
	static const char *const one_thread[] = { "tokens", "hits-small", "hits-large",
						  "misses", "churn",      NULL };
	char how[128];

	/* 1. One thread, real tokens and 1,000 hot keys: within 1.2x of the
	 * unsynchronized limit. */
	for (size_t w = 0; w < r->nworkloads; w++) {
		const struct bench_workload *wl = &r->workloads[w];
		double lim = mops(r, w, limit, t1), lib = mops(r, w, li, t1);

		if (!named(wl->name, near_limit))
			continue;
		if (lim <= 0 || lib <= 0) {
			target_add(ts, NA, "1-thread hit cost vs the limit, %s: not measured",
				   wl->name);
			continue;
		}
		target_add(ts, at_most(lim / lib, 1.2, how, sizeof(how)),
			   "1-thread hit cost vs the limit, %s: %.2f vs %.2f ns/op = %.2fx (%s)",
			   wl->name, 1e3 / lib, 1e3 / lim, lim / lib, how);
	}

	/* 2. At least the best alternative: one thread on every hit workload,
	 * on misses and on churn; 2 and 16 threads on every workload. */
	vs_best_target(r, ts, 1, one_thread,
		       "1 thread, at least the best alternative on hits, "
		       "misses, churn");
	vs_best_target(r, ts, 2, NULL, "2 threads, at least the best alternative everywhere");
	vs_best_target(r, ts, 16, NULL, "16 threads, at least the best alternative everywhere");

	/* 3. All-hits scaling: 2 threads >= 1.9x one. */
	for (size_t k = 0; k < sizeof(all_hits) / sizeof(all_hits[0]); k++)
		scaling_target(r, ts, all_hits[k], "2 threads vs 1 on all-hits", 1, 2, 1.9);

	/* 5. The immortal hot string scales; mortal beside it. */
	scaling_target(r, ts, "hot", "immortal hot string scales", 1, cores, 0.95 * cores);
	{
		long w = workload_index(r, "hot");

		if (w >= 0 && li >= 0 && lm >= 0) {
			char line[400] = "";
			size_t len = 0;

			for (size_t t = 0; t < o->nthreads; t++) {
				double a = mops(r, (size_t)w, li, (long)t);
				double b = mops(r, (size_t)w, lm, (long)t);

				if (a > 0 && b > 0 && len < sizeof(line) - 64)
					len += (size_t)snprintf(line + len, sizeof(line) - len,
								"%s%u thr %.1f vs %.1f (%.2fx)",
								t ? ", " : "", o->threads[t], a, b,
								a / b);
			}
			target_add(ts, NA, "hot string, immortal vs mortal Mops/s: %s", line);
		}
	}

	/* 5b. Hot mortal strings in scopes. */
	hot_mortal_targets(r, ts);

	/* 6. Memory: at most 36 bytes per entry beyond the string. */
	if (li >= 0 && r->memory[li].measured) {
		double b = r->memory[li].bytes_per_entry;

		char own[96] = "";

		if (r->memory[li].own_per_entry >= 0)
			snprintf(own, sizeof(own),
				 "; %.1f by libintern's own accounting, the "
				 "rest the allocators'",
				 r->memory[li].own_per_entry);
		target_add(ts, b <= 36 ? PASS : MISS,
			   "heap bytes per entry beyond the string: %.1f (target <= 36%s%s)", b,
			   b <= 36 ? "" : ": over", own);
	}
}

/* ---------------------------------------------------------------------------
 * The summary: where libintern wins and loses
 * ------------------------------------------------------------------------- */

#define EVEN 0.05 /* within 5%: neither wins (runs here vary more than that) */

/* The fastest baseline in cell (w, t): its Mops/s, and its index in *best. */
static double best_baseline(const struct bench_report *r, size_t w, size_t t, size_t *best)
{
	double top = 0;

	for (size_t i = 0; i < r->nimpls; i++) {
		double m = r->impls[i]->role == BENCH_ROLE_BASELINE ? mops(r, w, (long)i, (long)t)
								    : 0;

		if (m > top) {
			top = m;
			*best = i;
		}
	}
	return top;
}

/* One line a workload: at each thread count, libintern against the
 * fastest alternative there.  Counts the cells won, even and lost. */
static void summary_line(const struct bench_report *r, size_t w, size_t count[3])
{
	const struct bench_options *o = r->opt;
	long ref = reference_row(r, w);
	static const char *const how[3] = { "wins", "even", "loses" };
	char line[3][512] = { "", "", "" };
	size_t len[3] = { 0, 0, 0 };

	for (size_t t = 0; t < o->nthreads; t++) {
		size_t best = 0;
		double alt = best_baseline(r, w, t, &best), lib = mops(r, w, ref, (long)t);
		int k;

		if (alt <= 0 || lib <= 0)
			continue;
		k = lib / alt >= 1 + EVEN ? 0 : lib / alt > 1 - EVEN ? 1 : 2;
		count[k]++;
		if (len[k] < sizeof(line[k]) - 64)
			len[k] += (size_t)snprintf(line[k] + len[k], sizeof(line[k]) - len[k],
						   "%s%u thr %.2fx %s", len[k] ? ", " : "",
						   o->threads[t], lib / alt, r->impls[best]->name);
	}
	printf("  %-14s", r->workloads[w].name);
	for (int k = 0, first = 1; k < 3; k++) {
		if (!len[k])
			continue;
		printf("%s%s at %s", first ? "" : "; ", how[k], line[k]);
		first = 0;
	}
	printf("\n");
}

/* Memory in one sentence: libintern against the leanest alternative. */
static void print_memory_summary(const struct bench_report *r)
{
	long li = impl_with_role(r, BENCH_ROLE_LIBINTERN);
	long lean = -1;

	if (li < 0 || !r->memory[li].measured)
		return;
	for (size_t i = 0; i < r->nimpls; i++)
		if (r->impls[i]->role == BENCH_ROLE_BASELINE && r->memory[i].measured &&
		    (lean < 0 || r->memory[i].bytes_per_entry < r->memory[lean].bytes_per_entry))
			lean = (long)i;
	if (lean < 0)
		return;
	printf("Memory: libintern takes %.1f heap bytes per entry beyond the string, the "
	       "leanest alternative (%s) %.1f: %s.\n",
	       r->memory[li].bytes_per_entry, r->impls[lean]->name, r->memory[lean].bytes_per_entry,
	       r->memory[li].bytes_per_entry <= r->memory[lean].bytes_per_entry
		       ? "libintern wins"
		       : "libintern loses");
}

static void print_summary(const struct bench_report *r)
{
	size_t count[3] = { 0, 0, 0 }, all;

	printf("\n== in short: libintern against the fastest alternative at each thread "
	       "count\n   (libintern's Mops/s / that row's: above 1 libintern wins; within "
	       "%.0f%% is even)\n",
	       100 * EVEN);
	for (size_t w = 0; w < r->nworkloads; w++)
		summary_line(r, w, count);
	all = count[0] + count[1] + count[2];
	if (all == 0) {
		printf("Nothing to compare: run more than one row.\n");
		return;
	}
	printf("Overall libintern was the fastest in %zu of %zu cells, even in %zu and "
	       "behind in %zu.\n",
	       count[0], all, count[1], count[2]);
	print_memory_summary(r);
	if (count_disturbed(r))
		printf("%zu cells ran while other processes were busy (marked !): run again "
		       "on a quiet machine before quoting them.\n",
		       count_disturbed(r));
}

/* ---------------------------------------------------------------------------
 * Terminal
 * ------------------------------------------------------------------------- */

const char *bench_hash_mode(const struct bench_options *o)
{
	return o->same_hash ? "same-hash mode: every table hashes with libintern's own keyed "
			      "hash, except glib (its own djb2)"
			    : "as-used mode: every baseline hashes with XXH3-64 (libxxhash), "
			      "glib with its own djb2, libintern with its own keyed hash "
			      "(--same-hash: all on libintern's)";
}

/* What a newcomer needs to read the tables: the columns, which way is
 * better, and what each row is. */
static void print_legend(const struct bench_report *r)
{
	printf("\nHow to read the tables: one table per workload, one row per way of\n"
	       "interning strings, one column group per number of threads.  In a cell:\n"
	       "  Mops/s  millions of intern calls per second, all threads together "
	       "(median of the\n"
	       "          repetitions): higher is better\n"
	       "  ns/op   CPU time one call costs, 1000 x min(threads, cores) / Mops/s: "
	       "lower is better\n"
	       "  ratio   libintern's Mops/s divided by this row's: above 1.00x libintern "
	       "is faster,\n"
	       "          below 1.00x this row is faster\n"
	       "Hashes, %s.\nThe rows:\n",
	       bench_hash_mode(r->opt));
	for (size_t i = 0; i < r->nimpls; i++) {
		const struct bench_impl *impl = r->impls[i];

		printf("  %-17s %s\n", impl->name, impl->about);
		if (impl->role == BENCH_ROLE_LIMIT)
			printf("  %-17s = the fastest any interner can be on one thread, "
			       "since it pays for no\n  %-17s   thread safety at all; libintern "
			       "aims to stay within 1.2x of it\n",
			       "", "");
	}
}

static void print_terminal(const struct bench_report *r, const struct targets *ts)
{
	const struct bench_options *o = r->opt;

	printf("\nintern-bench, %s mode: %u reps x %.3g s per cell, %u cores%s, %.0f s.\n", o->mode,
	       o->reps, o->slice_s, o->ncpus, o->pin ? " (pinned)" : "", r->elapsed_s);
	print_legend(r);
	printf("libintern: %s\n", bench_libintern_origin());
	if (others_overall(r) >= 0)
		printf("Other processes used %.0f%% of the machine's CPU time while cells "
		       "ran (cells over %.0f%% are marked !); %zu busy repetitions were run "
		       "again.\n",
		       100 * others_overall(r), 100 * OTHERS_HIGH, r->retried);
	if (!BUILD_RELEASE)
		printf("WARNING: built with assertions on (libintern's checking code runs); "
		       "configure with --buildtype=release for figures to publish.\n");
	printf("Machine: the hash alone (no table, nothing shared), Mops/s by threads:");
	for (unsigned t = 0; t < o->nthreads; t++)
		printf("%s %u: %.1f", t ? "," : "", o->threads[t], machine_mops(r, t));
	printf("\n  (the most any table can scale on this machine)\n");

	for (size_t w = 0; w < r->nworkloads; w++) {
		const struct bench_workload *wl = &r->workloads[w];

		printf("\n== %s: %s\n   (pre-interned: %zu strings; stream: %zu)\n%-17s", wl->name,
		       wl->about, wl->preload.count, wl->stream.count, "");
		for (unsigned t = 0; t < o->nthreads; t++)
			printf("  %-20u", o->threads[t]);
		printf("\n%-17s", "threads:");
		for (unsigned t = 0; t < o->nthreads; t++)
			printf("  %7s %6s %5s", "Mops/s", "ns/op", "ratio");
		printf("\n");
		for (size_t i = 0; i < r->nimpls; i++) {
			const char *why = r->skip_reason[w * r->nimpls + i];

			printf("%-17s", r->impls[i]->name);
			if (why) {
				printf("  skipped: %s\n", why);
				continue;
			}
			for (unsigned t = 0; t < o->nthreads; t++) {
				const struct bench_cell *c = bench_cell_at(r, w, i, t);
				double q = ratio(r, w, i, t);

				if (c->status != BENCH_CELL_OK) {
					printf("  %7s %6s %5s", "-", "", "");
					continue;
				}
				printf("  %7.2f %6.1f %4.2fx%s", c->median,
				       ns_per_op(r, o->threads[t], c->median), q, cell_marks(c));
			}
			printf("\n");
		}
	}
	if (count_exhausted(r))
		printf("\n* a thread used up its slice of unique keys before the time slice "
		       "ended: the cell measured a shorter run\n");
	if (count_disturbed(r))
		printf("\n! other processes (or the hypervisor) used over %.0f%% of the "
		       "machine's CPU time while the cell ran (%zu of %zu cells): compare those "
		       "with care\n",
		       100 * OTHERS_HIGH, count_disturbed(r), count_cells(r));

	for (size_t i = 0; i < r->nimpls; i++) {
		const struct bench_memory *m = &r->memory[i];

		if (!m->measured)
			continue;
		if (i == first_measured(r))
			printf("\n== memory: heap bytes per entry beyond the string's bytes "
			       "and NUL\n");
		printf("%-17s %8.1f   (%zu entries, mean string %.1f bytes)", r->impls[i]->name,
		       m->bytes_per_entry, m->entries, m->mean_string);
		if (m->own_per_entry >= 0)
			printf("; %.1f by its own accounting, the rest is the allocators'",
			       m->own_per_entry);
		printf("\n");
	}

	printf("\n== targets, measured in this run (PASS: met, MISS: not met, n/a: "
	       "not measured)\n");
	for (size_t k = 0; k < ts->n; k++)
		printf("%-4s  %s\n", verdict_name(ts->t[k].verdict), ts->t[k].text);
	print_summary(r);
	fflush(stdout);
}

/* ---------------------------------------------------------------------------
 * CSV
 * ------------------------------------------------------------------------- */

/* A CSV field: quoted, with quotes doubled. */
static void csv_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void write_csv(const struct bench_report *r, const struct targets *ts, FILE *f)
{
	const struct bench_options *o = r->opt;

	fprintf(f, "kind,workload,impl,threads,reps,mops_median,mops_min,mops_max,"
		   "ns_per_op,ratio_libintern_over_impl,bytes_per_entry,others_cpu,status,note\n");
	fprintf(f, "hash,,,,,,,,,,,,%s,", o->same_hash ? "same-hash" : "as-used");
	csv_str(f, bench_hash_mode(o));
	fputc('\n', f);
	for (size_t w = 0; w < r->nworkloads; w++) {
		for (size_t i = 0; i < r->nimpls; i++) {
			const char *why = r->skip_reason[w * r->nimpls + i];

			if (why) {
				fprintf(f, "throughput,%s,%s,,,,,,,,,,skipped,",
					r->workloads[w].name, r->impls[i]->name);
				csv_str(f, why);
				fputc('\n', f);
				continue;
			}
			for (unsigned t = 0; t < o->nthreads; t++) {
				const struct bench_cell *c = bench_cell_at(r, w, i, t);

				if (c->status != BENCH_CELL_OK)
					continue;
				fprintf(f,
					"throughput,%s,%s,%u,%u,%.4f,%.4f,%.4f,%.3f,%.4f,,%.3f,%s,\n",
					r->workloads[w].name, r->impls[i]->name, o->threads[t],
					c->nreps, c->median, c->min, c->max,
					ns_per_op(r, o->threads[t], c->median), ratio(r, w, i, t),
					c->others, c->exhausted ? "exhausted" : "ok");
			}
		}
	}
	for (unsigned t = 0; t < o->nthreads; t++)
		fprintf(f,
			"machine,,hash-only,%u,%u,%.4f,%.4f,%.4f,%.3f,,,%.3f,ok,"
			"\"the hash alone, no table\"\n",
			o->threads[t], r->machine[t].nreps, machine_mops(r, t), r->machine[t].min,
			r->machine[t].max, ns_per_op(r, o->threads[t], machine_mops(r, t)),
			r->machine[t].others);
	for (size_t i = 0; i < r->nimpls; i++) {
		const struct bench_memory *m = &r->memory[i];

		if (!m->measured)
			continue;
		fprintf(f, "memory,,%s,,,,,,,,%.2f,,ok,\"%zu entries, mean string %.2f bytes",
			r->impls[i]->name, m->bytes_per_entry, m->entries, m->mean_string);
		if (m->own_per_entry >= 0)
			fprintf(f, ", %.2f by its own accounting", m->own_per_entry);
		fprintf(f, "\"\n");
	}
	for (size_t k = 0; k < ts->n; k++) {
		fprintf(f, "target,,,,,,,,,,,,%s,", verdict_name(ts->t[k].verdict));
		csv_str(f, ts->t[k].text);
		fputc('\n', f);
	}
}

/* ---------------------------------------------------------------------------
 * Plots
 * ------------------------------------------------------------------------- */

static bool have_gnuplot(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

static void mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		bench_die("bad directory name \"%s\"", path);
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			bench_die("cannot create %s: %s", buf, strerror(errno));
		buf[i] = path[i];
	}
}

/* Write DIR/<workload>.dat and .gp, and run gnuplot on them.  Returns the
 * number of plots gnuplot failed to draw. */
static int write_plots(const struct bench_report *r)
{
	const struct bench_options *o = r->opt;
	const char *dir = o->plots_dir;
	bool gnuplot = have_gnuplot();
	const char *term = "pngcairo size 960,600 font ',10'";
	char path[PATH_MAX];
	int failed = 0;

	if (strchr(dir, '\'') || strchr(dir, '"'))
		bench_usage_error("--plots: quotes in the directory name are not supported");
	mkdir_p(dir);
	if (gnuplot && system("gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1") != 0)
		term = "png size 960,600";

	for (size_t w = 0; w < r->nworkloads; w++) {
		const struct bench_workload *wl = &r->workloads[w];
		int ncols = 1;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.dat", dir, wl->name);
		if (!(f = fopen(path, "w")))
			bench_die("cannot write %s", path);
		fprintf(f, "threads");
		for (size_t i = 0; i < r->nimpls; i++)
			if (!r->skip_reason[w * r->nimpls + i]) {
				fprintf(f, " %s", r->impls[i]->name);
				ncols++;
			}
		fprintf(f, "\n");
		for (unsigned t = 0; t < o->nthreads; t++) {
			fprintf(f, "%u", o->threads[t]);
			for (size_t i = 0; i < r->nimpls; i++) {
				double m = mops(r, w, (long)i, t);

				if (r->skip_reason[w * r->nimpls + i])
					continue;
				if (m > 0)
					fprintf(f, " %.4f", m);
				else
					fprintf(f, " ?");
			}
			fprintf(f, "\n");
		}
		fclose(f);

		snprintf(path, sizeof(path), "%s/%s.gp", dir, wl->name);
		if (!(f = fopen(path, "w")))
			bench_die("cannot write %s", path);
		fprintf(f, "# intern-bench: %s (%s mode). Run: gnuplot '%s'\n", wl->name, o->mode,
			path);
		fprintf(f, "set terminal %s\n", term);
		fprintf(f, "set output '%s/%s.png'\n", dir, wl->name);
		fprintf(f, "set title \"%s: %s\\n(median of %u x %.3g s, %u cores)\" noenhanced\n",
			wl->name, wl->about, o->reps, o->slice_s, o->ncpus);
		fprintf(f, "set xlabel 'threads'\nset ylabel 'Mops/s'\n");
		fprintf(f, "set logscale x 2\nset xtics (");
		for (unsigned t = 0; t < o->nthreads; t++)
			fprintf(f, "%s%u", t ? ", " : "", o->threads[t]);
		fprintf(f, ")\nset xrange [%g:%g]\n", o->threads[0] / 1.2,
			o->threads[o->nthreads - 1] * 1.2);
		fprintf(f, "set yrange [0:*]\nset grid\nset key outside right top noenhanced\n");
		fprintf(f, "set datafile missing '?'\n");
		fprintf(f, "set arrow from %u, graph 0 to %u, graph 1 nohead dashtype 2\n",
			o->ncpus, o->ncpus);
		fprintf(f, "set label 'cores' at %u, graph 0.97 offset 0.5,0\n", o->ncpus);
		/* libintern's rows bold, the limit a lone marker. */
		fprintf(f, "plot \\\n");
		for (size_t i = 0, col = 2; i < r->nimpls; i++) {
			enum bench_role role = r->impls[i]->role;

			if (r->skip_reason[w * r->nimpls + i])
				continue;
			/* linetype by row, so a row has one colour in every plot */
			fprintf(f,
				"  '%s/%s.dat' using 1:%zu title columnheader(%zu) "
				"with %s linetype %zu%s",
				dir, wl->name, col, col,
				role == BENCH_ROLE_LIMIT ? "points pointtype 9 pointsize 2.5"
				: role == BENCH_ROLE_BASELINE
					? "linespoints linewidth 1.5 pointtype 7 pointsize 0.8"
					: "linespoints linewidth 3.5 pointtype 7 pointsize 1.2",
				i + 1, col < (size_t)ncols ? ", \\\n" : "\n");
			col++;
		}
		fclose(f);

		if (gnuplot) {
			char cmd[PATH_MAX + 64];

			snprintf(cmd, sizeof(cmd), "gnuplot '%s'", path);
			if (system(cmd) != 0) {
				fprintf(stderr, "intern-bench: gnuplot failed on %s\n", path);
				failed++;
			}
		}
	}
	if (!gnuplot)
		fprintf(stderr, "intern-bench: gnuplot not found; wrote %s/*.dat and *.gp only\n",
			dir);
	return failed;
}

/* ---------------------------------------------------------------------------
 * Markdown
 * ------------------------------------------------------------------------- */

/* The plots directory as seen from the Markdown file's directory. */
static void plots_link(const struct bench_report *r, char *out, size_t n)
{
	char md_dir[PATH_MAX], real_md[PATH_MAX], real_plots[PATH_MAX];
	const char *slash = strrchr(r->opt->md_path, '/');
	size_t len;

	snprintf(md_dir, sizeof(md_dir), "%.*s", slash ? (int)(slash - r->opt->md_path) : 1,
		 slash ? r->opt->md_path : ".");
	if (slash == r->opt->md_path)
		snprintf(md_dir, sizeof(md_dir), "/");
	if (!realpath(md_dir, real_md) || !realpath(r->opt->plots_dir, real_plots)) {
		snprintf(out, n, "%s", r->opt->plots_dir);
		return;
	}
	len = strlen(real_md);
	if (!strcmp(real_md, real_plots))
		snprintf(out, n, ".");
	else if (!strncmp(real_md, real_plots, len) && real_plots[len] == '/')
		snprintf(out, n, "%s", real_plots + len + 1);
	else
		snprintf(out, n, "%s", real_plots);
}

static void write_md(const struct bench_report *r, const struct targets *ts, FILE *f)
{
	const struct bench_options *o = r->opt;
	char link[PATH_MAX];

	if (o->plots_dir)
		plots_link(r, link, sizeof(link));
	fprintf(f, "# intern-bench results\n\n`%s`\n\n", o->command);
	fprintf(f, "%s mode: %u repetitions of %.3g s per cell, threads", o->mode, o->reps,
		o->slice_s);
	for (unsigned t = 0; t < o->nthreads; t++)
		fprintf(f, "%s%u", t ? ", " : " ", o->threads[t]);
	fprintf(f, "; %u cores%s; the run took %.0f s; %s; libintern: %s.\n\n", o->ncpus,
		o->pin ? ", threads pinned" : ", threads not pinned", r->elapsed_s,
		BUILD_RELEASE ? "release build (assertions off)"
			      : "**built with assertions on**: not figures to publish",
		bench_libintern_origin());
	if (others_overall(r) >= 0)
		fprintf(f,
			"Other processes used %.0f%% of the machine's CPU time while cells "
			"ran (cells over %.0f%% are marked !); %zu busy repetitions were run "
			"again (--retries).\n\n",
			100 * others_overall(r), 100 * OTHERS_HIGH, r->retried);
	fprintf(f,
		"A cell is `median Mops/s · core-ns per op · libintern/row` "
		"(ratio > 1: libintern faster). Core-ns per op = 1000 × min(threads, cores) "
		"/ Mops/s. The ratio compares with `libintern` (immortal keys), or with "
		"`libintern-mortal` where the workload is counted. Hashes, %s.\n\n",
		bench_hash_mode(o));

	fprintf(f, "The machine: the hash alone (the same loop and call, no table, nothing "
		   "shared between threads), Mops/s by threads:");
	for (unsigned t = 0; t < o->nthreads; t++)
		fprintf(f, "%s %u: %.1f", t ? "," : "", o->threads[t], machine_mops(r, t));
	fprintf(f, ". No table can scale further than that here.\n\n");

	fprintf(f, "| row | what it is |\n|---|---|\n");
	for (size_t i = 0; i < r->nimpls; i++)
		fprintf(f, "| `%s` | %s |\n", r->impls[i]->name, r->impls[i]->about);

	for (size_t w = 0; w < r->nworkloads; w++) {
		const struct bench_workload *wl = &r->workloads[w];
		bool any_exhausted = false, any_disturbed = false;

		fprintf(f, "\n## %s\n\n%s (pre-interned: %zu strings; stream: %zu).\n\n", wl->name,
			wl->about, wl->preload.count, wl->stream.count);
		fprintf(f, "| impl |");
		for (unsigned t = 0; t < o->nthreads; t++)
			fprintf(f, " %u thread%s |", o->threads[t], o->threads[t] > 1 ? "s" : "");
		fprintf(f, "\n|---|");
		for (unsigned t = 0; t < o->nthreads; t++)
			fprintf(f, "---:|");
		fprintf(f, "\n");
		for (size_t i = 0; i < r->nimpls; i++) {
			const char *why = r->skip_reason[w * r->nimpls + i];

			fprintf(f, "| `%s` |", r->impls[i]->name);
			for (unsigned t = 0; t < o->nthreads; t++) {
				const struct bench_cell *c = bench_cell_at(r, w, i, t);

				if (why && t == 0)
					fprintf(f, " skipped: %s |", why);
				else if (c->status != BENCH_CELL_OK)
					fprintf(f, " |");
				else
					fprintf(f, " %.2f · %.1f · %.2fx%s%s |", c->median,
						ns_per_op(r, o->threads[t], c->median),
						ratio(r, w, i, t), c->exhausted ? "\\*" : "",
						disturbed(c) ? "!" : "");
				any_exhausted |= c->exhausted;
				any_disturbed |= disturbed(c);
			}
			fprintf(f, "\n");
		}
		if (any_exhausted)
			fprintf(f, "\n\\* a thread used up its slice of unique keys before the "
				   "time slice ended.\n");
		if (any_disturbed)
			fprintf(f,
				"\n! other processes (or the hypervisor) used over %.0f%% of "
				"the machine's CPU time while the cell ran: compare with care.\n",
				100 * OTHERS_HIGH);
		if (o->plots_dir)
			fprintf(f, "\n![%s: throughput against threads](%s/%s.png)\n", wl->name,
				link, wl->name);
	}

	if (first_measured(r) < r->nimpls)
		fprintf(f, "\n## Memory\n\nHeap bytes (mallinfo2, all arenas) per entry "
			   "beyond the string's own bytes and NUL, while preloading the "
			   "hits-large keys into a new table; and, where the implementation "
			   "reports it, what it accounts for itself (headers, slot arrays: the "
			   "difference is the allocators' headers and rounding: malloc's, and "
			   "libintern's string allocator's).\n\n"
			   "| impl | bytes per entry | own accounting | entries | mean string "
			   "bytes |\n|---|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < r->nimpls; i++) {
		const struct bench_memory *m = &r->memory[i];

		if (m->measured && m->own_per_entry >= 0)
			fprintf(f, "| `%s` | %.1f | %.1f | %zu | %.1f |\n", r->impls[i]->name,
				m->bytes_per_entry, m->own_per_entry, m->entries, m->mean_string);
		else if (m->measured)
			fprintf(f, "| `%s` | %.1f | | %zu | %.1f |\n", r->impls[i]->name,
				m->bytes_per_entry, m->entries, m->mean_string);
	}

	fprintf(f, "\n## Targets\n\n");
	for (size_t k = 0; k < ts->n; k++)
		fprintf(f, "- **%s** %s\n", verdict_name(ts->t[k].verdict), ts->t[k].text);
}

/* ---------------------------------------------------------------------------
 * Entry point
 * ------------------------------------------------------------------------- */

/* Open `path` for writing, creating its directory if needed. */
static FILE *open_out(const char *path)
{
	const char *slash = strrchr(path, '/');
	FILE *f;

	if (slash && slash != path) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		mkdir_p(dir);
	}
	f = fopen(path, "w");

	if (!f)
		bench_die("cannot write %s: %s", path, strerror(errno));
	return f;
}

int bench_report_write(const struct bench_report *r)
{
	struct targets ts = { .n = 0 };
	int failed = 0;
	FILE *f;

	compute_targets(r, &ts);
	print_terminal(r, &ts);
	if (r->opt->csv_path) {
		f = open_out(r->opt->csv_path);
		write_csv(r, &ts, f);
		fclose(f);
	}
	/* Plots before Markdown, which links to them. */
	if (r->opt->plots_dir)
		failed = write_plots(r);
	if (r->opt->md_path) {
		f = open_out(r->opt->md_path);
		write_md(r, &ts, f);
		fclose(f);
	}
	return failed ? 1 : 0;
}
