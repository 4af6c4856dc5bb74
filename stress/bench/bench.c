/*
 * bench.c: intern-bench's driver: options, the measurement loop, threads.
 *
 * For each workload, each implementation and each thread count it runs a
 * number of repetitions and keeps every repetition's throughput; the
 * report takes the median.  A repetition is honest in the usual ways:
 *
 *   - the table is built and preloaded before any timing, single-threaded;
 *   - worker threads are created, register with RCU where the
 *     implementation needs it, then wait on a barrier with the main
 *     thread, so they start together;
 *   - each worker takes its own start time after the barrier, replays its
 *     part of the stream until the main thread raises the stop flag after
 *     a fixed time slice (or, insert-only, until its slice of unique keys
 *     runs out), and takes its end time;
 *   - throughput is the total ops of all workers divided by the span from
 *     the earliest start to the latest end, so a worker preempted at the
 *     end (16 threads on 2 cores) lengthens the span rather than vanishing;
 *   - deferred frees still queued when a repetition ends are waited for
 *     outside the timing, so they do not leak into the next cell;
 *   - repetitions of the implementations are interleaved (see
 *     run_workload), so a slow spell of the machine hits every row;
 *   - the CPU time other processes used meanwhile is measured (/proc/stat
 *     less our own), so a cell taken on a busy machine is flagged rather
 *     than silently slower;
 *   - the same loop with only the hash behind the call ("hash-only") shows
 *     how far this machine lets any table scale.
 *
 * Every implementation is reached through the same indirect call, and the
 * loop around it is the same code for all of them.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-memb.h>

#include "bench.h"
#include "hash.h"

/* ---------------------------------------------------------------------------
 * Utilities
 * ------------------------------------------------------------------------- */

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("\nintern-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *bench_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		bench_die("out of memory (%zu bytes)", n);
	return p;
}

void *bench_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		bench_die("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *bench_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		bench_die("out of memory (%zu bytes)", n);
	return p;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool bench_in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	if (!list)
		return true;
	while (*list) {
		size_t len = strcspn(list, ",");

		if (len == n && strncmp(list, name, n) == 0)
			return true;
		list += len + (list[len] == ',');
	}
	return false;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Bytes malloc holds for the program, every arena, mmapped blocks too. */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* ---------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------- */

/* --same-hash (bench.h, bench_hash). */
bool bench_same_hash;

static const char usage[] =
	"usage: intern-bench [--quick | --full] [options]\n"
	"\n"
	"Contention benchmark: libintern against a plain table (the limit), a mutex,\n"
	"an rwlock, GLib g_intern_string, liburcu cds_lfht and sharded ck_hs, on\n"
	"synthetic workloads and, with --tokens, identifiers from your files.\n"
	"\n"
	"  --quick             the default: 3 reps of 0.1 s, 1..4x cores threads\n"
	"  --full              5 reps of 0.2 s, 1..8x cores threads (for docs)\n"
	"  --threads LIST      thread counts, e.g. 1,2,4,16\n"
	"  --max-threads N     powers of two up to N (and N)\n"
	"  --reps N            repetitions per cell (median reported)\n"
	"  --time SECONDS      time slice per repetition\n"
	"  --retries N         run a repetition again, up to N times, when other\n"
	"                      processes used over 10% of the CPU during it (default\n"
	"                      2; the run spends at most a quarter more time on it)\n"
	"  --pin               pin worker i to CPU i mod cores\n"
	"  --same-hash         every table hashes with libintern's own hash (isolates\n"
	"                      concurrency); by default each baseline uses XXH3-64,\n"
	"                      as its users would, and GLib its own hash\n"
	"  --tokens PATH...    files or directories to take identifiers from\n"
	"                      (all following arguments up to the next option)\n"
	"  --tokens-max N      stop after N identifiers (default 16000000)\n"
	"  --workloads LIST    subset of: tokens,hits-small,hits-large,misses,churn,\n"
	"                      hot,hot-mortal,hot-mortal-1k\n"
	"  --impls LIST        subset of the rows, by name\n"
	"  --small-keys N      keys of hits-small (default 1000)\n"
	"  --large-keys N      keys of hits-large (default 1000000)\n"
	"  --churn-keys N      keys of churn (default 4096)\n"
	"  --misses-keys N     unique keys of misses, split between the threads\n"
	"                      (default 1000000, --full 2000000)\n"
	"  --csv FILE          write the results as CSV\n"
	"  --md FILE           write the results as Markdown\n"
	"  --plots DIR         write throughput-vs-threads PNGs (needs gnuplot)\n"
	"\n"
	"Environment: INTERN_HASH_SEED fixes the hash key for repeatable runs.\n";

/* A bad command line: say what, show the usage, exit 2 (never abort). */
void bench_usage_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("intern-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n\n%s", usage);
	exit(2);
}

static unsigned count_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	return 1;
}

static unsigned long parse_ulong(const char *opt, const char *s, unsigned long min,
				 unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		bench_usage_error("%s: expected a number in [%lu, %lu], got \"%s\"", opt, min, max,
				  s);
	return v;
}

static void threads_up_to(struct bench_options *o, unsigned max)
{
	o->nthreads = 0;
	for (unsigned t = 1; t <= max && o->nthreads < BENCH_MAX_THREADS_LIST; t *= 2)
		o->threads[o->nthreads++] = t;
	if (o->threads[o->nthreads - 1] != max && o->nthreads < BENCH_MAX_THREADS_LIST)
		o->threads[o->nthreads++] = max;
}

static void threads_list(struct bench_options *o, const char *s)
{
	char *copy = strdup(s), *save = NULL;

	if (!copy)
		bench_die("out of memory");
	o->nthreads = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->nthreads == BENCH_MAX_THREADS_LIST)
			bench_usage_error("--threads: at most %d counts", BENCH_MAX_THREADS_LIST);
		o->threads[o->nthreads++] = (unsigned)parse_ulong("--threads", tok, 1, 1024);
	}
	free(copy);
	if (o->nthreads == 0)
		bench_usage_error("--threads: empty list");
}

static void set_mode(struct bench_options *o, bool full)
{
	o->mode = full ? "full" : "quick";
	o->reps = full ? 5 : 3;
	o->slice_s = full ? 0.2 : 0.1;
	o->misses_keys = full ? 2000000 : 1000000;
	threads_up_to(o, (full ? 8 : 4) * o->ncpus);
}

/* The command line as one string, the program by its base name. */
static char *join_args(int argc, char **argv)
{
	size_t n = 1;
	char *out;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	out = bench_xcalloc(n, 1);
	for (int i = 0; i < argc; i++) {
		const char *slash = i ? NULL : strrchr(argv[0], '/');

		strcat(out, i ? " " : "");
		strcat(out, slash ? slash + 1 : argv[i]);
	}
	return out;
}

static void parse_options(struct bench_options *o, int argc, char **argv)
{
	bool full = false, retries_set = false;
	const char *threads = NULL;
	unsigned long max_threads = 0, reps = 0, misses = 0;
	double slice = 0;

	memset(o, 0, sizeof(*o));
	o->ncpus = count_cpus();
	o->command = join_args(argc, argv);
	o->small_keys = 1000;
	o->large_keys = 1000000;
	o->churn_keys = 4096;
	o->tokens_max = 16000000;
	o->token_paths = bench_xcalloc((size_t)argc, sizeof(*o->token_paths));

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			exit(0);
		} else if (!strcmp(a, "--quick") || !strcmp(a, "--default")) {
			full = false;
			takes = false;
		} else if (!strcmp(a, "--full")) {
			full = true;
			takes = false;
		} else if (!strcmp(a, "--pin")) {
			o->pin = true;
			takes = false;
		} else if (!strcmp(a, "--same-hash")) {
			o->same_hash = true;
			takes = false;
		} else if (!strcmp(a, "--tokens")) {
			while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
				o->token_paths[o->ntoken_paths++] = argv[++i];
			if (o->ntoken_paths == 0)
				bench_usage_error("--tokens: name at least one file or directory");
			continue;
		} else if (!v) {
			bench_usage_error("%s: %s", a,
					  a[0] == '-' ? "missing value, or unknown option"
						      : "unexpected argument");
		} else if (!strcmp(a, "--threads")) {
			threads = v;
		} else if (!strcmp(a, "--max-threads")) {
			max_threads = parse_ulong(a, v, 1, 1024);
		} else if (!strcmp(a, "--reps")) {
			reps = parse_ulong(a, v, 1, BENCH_MAX_REPS);
		} else if (!strcmp(a, "--retries")) {
			o->retries = (unsigned)parse_ulong(a, v, 0, 100);
			retries_set = true;
		} else if (!strcmp(a, "--time")) {
			char *end;

			slice = strtod(v, &end);
			if (*end || !(slice > 0 && slice <= 60))
				bench_usage_error("--time: expected seconds in (0, 60], got \"%s\"",
						  v);
		} else if (!strcmp(a, "--tokens-max")) {
			o->tokens_max = parse_ulong(a, v, 1, 1UL << 30);
		} else if (!strcmp(a, "--workloads")) {
			o->only_workloads = v;
		} else if (!strcmp(a, "--impls")) {
			o->only_impls = v;
		} else if (!strcmp(a, "--small-keys")) {
			o->small_keys = parse_ulong(a, v, 1, 100000000);
		} else if (!strcmp(a, "--large-keys")) {
			o->large_keys = parse_ulong(a, v, 1, 100000000);
		} else if (!strcmp(a, "--churn-keys")) {
			o->churn_keys = parse_ulong(a, v, 1, 100000000);
		} else if (!strcmp(a, "--misses-keys")) {
			misses = parse_ulong(a, v, 1, 100000000);
		} else if (!strcmp(a, "--csv")) {
			o->csv_path = v;
		} else if (!strcmp(a, "--md")) {
			o->md_path = v;
		} else if (!strcmp(a, "--plots")) {
			o->plots_dir = v;
		} else {
			bench_usage_error("unknown option %s", a);
		}
		if (takes)
			i++;
	}

	/* The mode sets defaults; explicit options override them. */
	set_mode(o, full);
	if (threads)
		threads_list(o, threads);
	else if (max_threads)
		threads_up_to(o, (unsigned)max_threads);
	if (reps)
		o->reps = (unsigned)reps;
	if (slice > 0)
		o->slice_s = slice;
	if (misses)
		o->misses_keys = misses;
	if (!retries_set)
		o->retries = 2;
}

/* ---------------------------------------------------------------------------
 * Implementations in report order
 * ------------------------------------------------------------------------- */

static const struct bench_impl *const all_impls[] = {
	&bench_impl_limit,       &bench_impl_libintern, &bench_impl_libintern_mortal,
	&bench_impl_libintern_scoped,
	&bench_impl_mutex,       &bench_impl_rwlock,
#ifdef BENCH_HAVE_GLIB
	&bench_impl_glib,
#endif
	&bench_impl_lfht,        &bench_impl_ckhs,      &bench_impl_intern_map,
	&bench_impl_content_map,
};

static size_t select_impls(const struct bench_options *o, const struct bench_impl **out)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(all_impls) / sizeof(all_impls[0]); i++)
		if (bench_in_list(o->only_impls, all_impls[i]->name))
			out[n++] = all_impls[i];
	if (n == 0)
		bench_usage_error("--impls selected nothing");
	return n;
}

/* ---------------------------------------------------------------------------
 * One repetition
 * ------------------------------------------------------------------------- */

#define BATCH 64 /* ops between two looks at the stop flag */

struct run {
	const struct bench_impl *impl;
	void *tab;
	const struct bench_stream *stream;
	bench_intern_fn *intern;
	bench_release_fn *release; /* NULL: handles carry nothing */
	bench_release_fn *op_release; /* per op: release, or NULL for borrowed handles */
	bool keep;                 /* BENCH_OP_KEEP: store handles, stop at slice end */
	pthread_barrier_t start;
	/*
	 * Set by the main thread when the time slice ends.  It carries no
	 * data (results travel through pthread_join, which orders them), so
	 * relaxed loads and store are enough: they only need the store to
	 * become visible, which it does.
	 */
	atomic_bool stop;
};

struct worker {
	struct run *run;
	pthread_t tid;
	size_t begin, end; /* byte offsets: start, and where to wrap/stop */
	const void **kept; /* BENCH_OP_KEEP: a slot per record of the slice */
	size_t nkept;
	uint64_t ops;
	uint64_t t_start, t_end;
	bool exhausted;
};

/*
 * What the whole machine spent, to tell a quiet measurement from one that
 * shared the cores with other processes: busy time of every CPU from
 * /proc/stat (in clock ticks, steal included) and this process's own CPU
 * time.  Their difference over a repetition is the others' share.
 */
struct cpu_snap {
	bool ok;
	uint64_t busy_ticks;
	uint64_t self_ns;
	uint64_t wall_ns;
};

static void cpu_snapshot(struct cpu_snap *s)
{
	unsigned long long v[8] = { 0 };
	struct timespec ts;
	FILE *f = fopen("/proc/stat", "r");

	s->ok = f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			    &v[3], &v[4], &v[5], &v[6], &v[7]) == 8;
	if (f)
		fclose(f);
	/* user nice system [idle iowait] irq softirq steal */
	s->busy_ticks = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	s->self_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	s->wall_ns = bench_now_ns();
}

/* Others' CPU time between two snapshots, and the machine's capacity. */
static void cpu_others(const struct cpu_snap *a, const struct cpu_snap *b, double *others,
		       double *capacity)
{
	static long tick_ns, ncpus;
	double busy;

	if (!tick_ns) {
		tick_ns = 1000000000L / sysconf(_SC_CLK_TCK);
		ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	}
	if (!a->ok || !b->ok) {
		*others = -1;
		*capacity = 0;
		return;
	}
	busy = (double)(b->busy_ticks - a->busy_ticks) * (double)tick_ns;
	*others = busy - (double)(b->self_ns - a->self_ns);
	*others = *others > 0 ? *others : 0;
	*capacity = (double)(b->wall_ns - a->wall_ns) * (double)ncpus;
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct run *r = wk->run;
	const struct bench_impl *impl = r->impl;
	const unsigned char *base = r->stream->bytes;
	const unsigned char *p = base + wk->begin, *lim = base + wk->end;
	bench_intern_fn *intern = r->intern;
	bench_release_fn *release = r->op_release;
	void *tab = r->tab;
	const bool keep = r->keep;
	const void **kept = wk->kept;
	size_t nkept = 0;
	uint64_t ops = 0;

	if (impl->thread_enter)
		impl->thread_enter();
	pthread_barrier_wait(&r->start);
	wk->t_start = bench_now_ns();
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		for (unsigned k = 0; k < BATCH; k++) {
			size_t len;
			const void *h;

			if (p == lim) {
				if (keep) {
					ops += k;
					wk->exhausted = true;
					goto done;
				}
				p = base;
			}
			len = p[0];
			h = intern(tab, (const char *)p + 1, len);
			if (!h)
				bench_die("%s: intern failed (out of memory?)", impl->name);
			if (keep)
				kept[nkept++] = h;
			else if (release)
				release(tab, h);
			p += len + 2;
		}
		ops += BATCH;
	}
done:
	wk->t_end = bench_now_ns();
	wk->ops = ops;
	wk->nkept = nkept;
	if (impl->thread_exit)
		impl->thread_exit();
	return NULL;
}

struct rep_result {
	double mops;
	double others_ns, capacity_ns; /* see bench_cell.others */
	bool exhausted;
};

static struct rep_result run_rep(const struct bench_options *o, struct run *r, unsigned nthreads)
{
	struct worker *wk = bench_xcalloc(nthreads, sizeof(*wk));
	const struct bench_stream *st = r->stream;
	struct rep_result res = { 0, 0, 0, false };
	uint64_t t0 = UINT64_MAX, t1 = 0, ops = 0;
	struct cpu_snap before, after;
	cpu_set_t cpus;
	pthread_attr_t attr;

	sched_getaffinity(0, sizeof(cpus), &cpus);
	atomic_store_explicit(&r->stop, false, memory_order_relaxed);
	if (pthread_barrier_init(&r->start, NULL, nthreads + 1) != 0)
		bench_die("pthread_barrier_init failed");

	for (unsigned t = 0; t < nthreads; t++) {
		size_t rec_begin, rec_end;

		wk[t].run = r;
		wk[t].begin = bench_stream_slice(st, t, nthreads, &rec_begin);
		if (r->keep) {
			wk[t].end = bench_stream_slice(st, t + 1, nthreads, &rec_end);
			/* Allocated and touched now: no page faults while timed. */
			wk[t].kept = bench_xmalloc((rec_end - rec_begin) * sizeof(*wk[t].kept));
			memset(wk[t].kept, 0, (rec_end - rec_begin) * sizeof(*wk[t].kept));
		} else {
			wk[t].end = st->size;
		}
		pthread_attr_init(&attr);
		if (o->pin) {
			/* Worker t gets the t-th CPU we may run on, round robin. */
			cpu_set_t one;
			unsigned want = t % (unsigned)CPU_COUNT(&cpus), seen = 0;

			CPU_ZERO(&one);
			for (int c = 0; c < CPU_SETSIZE; c++) {
				if (CPU_ISSET(c, &cpus) && seen++ == want) {
					CPU_SET(c, &one);
					break;
				}
			}
			pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
		}
		if (pthread_create(&wk[t].tid, &attr, worker_main, &wk[t]) != 0)
			bench_die("pthread_create failed");
		pthread_attr_destroy(&attr);
	}

	pthread_barrier_wait(&r->start);
	cpu_snapshot(&before);
	sleep_s(o->slice_s);
	atomic_store_explicit(&r->stop, true, memory_order_relaxed);
	for (unsigned t = 0; t < nthreads; t++) {
		pthread_join(wk[t].tid, NULL);
		t0 = wk[t].t_start < t0 ? wk[t].t_start : t0;
		t1 = wk[t].t_end > t1 ? wk[t].t_end : t1;
		ops += wk[t].ops;
		res.exhausted |= wk[t].exhausted;
	}
	cpu_snapshot(&after);
	cpu_others(&before, &after, &res.others_ns, &res.capacity_ns);
	pthread_barrier_destroy(&r->start);
	if (t1 > t0)
		res.mops = (double)ops * 1e3 / (double)(t1 - t0);

	/* The strings the workers kept are the application's to drop. */
	for (unsigned t = 0; t < nthreads; t++) {
		if (r->release)
			for (size_t k = 0; k < wk[t].nkept; k++)
				r->release(r->tab, wk[t].kept[k]);
		free(wk[t].kept);
	}
	free(wk);
	return res;
}

/* ---------------------------------------------------------------------------
 * Tables: create, preload, measure memory
 * ------------------------------------------------------------------------- */

struct table {
	void *tab;
	const void **held; /* references the preload took, to drop later */
	size_t nheld;
};

static bench_intern_fn *keep_fn(const struct bench_impl *impl)
{
	return impl->intern_keep ? impl->intern_keep : impl->intern;
}

/*
 * Create a table and intern the workload's preload set into it, from this
 * thread.  With `mem`, measure what that cost the heap per entry beyond
 * the strings' own bytes and NULs.
 */
static void table_open(struct table *t, const struct bench_impl *impl,
		       const struct bench_workload *w, const struct bench_table_config *cfg,
		       bench_release_fn *release, struct bench_memory *mem)
{
	const struct bench_stream *pre = &w->preload;
	bench_intern_fn *keep = keep_fn(impl);
	size_t before, after, pos = 0;

	t->nheld = 0;
	t->held = release ? bench_xcalloc(pre->count, sizeof(*t->held)) : NULL;
	before = mem ? heap_in_use() : 0;
	t->tab = impl->create(cfg);
	for (size_t k = 0; k < pre->count; k++) {
		size_t len = pre->bytes[pos];
		const void *h = keep(t->tab, (const char *)pre->bytes + pos + 1, len);

		if (!h)
			bench_die("%s: preload failed", impl->name);
		if (release)
			t->held[t->nheld++] = h;
		pos += len + 2;
	}
	if (!mem || pre->count == 0)
		return;
	if (impl->quiesce)
		impl->quiesce(t->tab);
	after = heap_in_use();
	mem->measured = true;
	mem->entries = pre->count;
	mem->mean_string = (double)pre->string_bytes / (double)pre->count;
	mem->bytes_per_entry = ((double)after - (double)before) / (double)pre->count -
			       mem->mean_string;
	mem->own_per_entry = -1;
	if (impl->own_bytes) {
		double own;
		size_t n = impl->own_bytes(t->tab, &own);

		if (n > 0)
			mem->own_per_entry = own / (double)n;
	}
}

static void table_close(struct table *t, const struct bench_impl *impl, bench_release_fn *release)
{
	for (size_t k = 0; k < t->nheld; k++)
		release(t->tab, t->held[k]);
	free(t->held);
	if (impl->quiesce)
		impl->quiesce(t->tab);
	impl->destroy(t->tab);
}

/* ---------------------------------------------------------------------------
 * Progress
 * ------------------------------------------------------------------------- */

struct progress {
	size_t done, total;
	uint64_t t_begin;
	bool tty;
};

/* Seconds left, from the pace so far (0 before the first measurement). */
static double progress_left(const struct progress *pg)
{
	double spent = (double)(bench_now_ns() - pg->t_begin) / 1e9;

	return pg->done ? spent / (double)pg->done * (double)(pg->total - pg->done) : 0;
}

/* On a terminal: one line, rewritten before every measurement. */
static void progress_show(struct progress *pg, const struct bench_workload *w,
			  const struct bench_impl *impl, unsigned threads, unsigned rep,
			  unsigned reps)
{
	if (!pg->tty)
		return;
	fprintf(stderr, "\r\033[K[%zu/%zu] %-10s %-16s %3u thr  rep %u/%u  %4.0f s left",
		pg->done + 1, pg->total, w->name, impl->name, threads, rep + 1, reps,
		progress_left(pg));
	fflush(stderr);
}

/* Into a log or a pipe: a line as each workload starts. */
static void progress_workload(const struct progress *pg, const struct bench_workload *w, size_t wi,
			      size_t nworkloads)
{
	if (pg->tty)
		return;
	fprintf(stderr, "intern-bench: workload %zu of %zu, %s: %zu of %zu measurements done",
		wi + 1, nworkloads, w->name, pg->done, pg->total);
	if (pg->done)
		fprintf(stderr, ", about %.0f s left", progress_left(pg));
	fputc('\n', stderr);
}

/* ---------------------------------------------------------------------------
 * The run
 * ------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sort v[0..n) and return its median. */
static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void cell_add(struct bench_cell *c, const struct rep_result *res)
{
	if (c->nreps == 0 || res->others_ns < 0)
		c->others_ns = res->others_ns;
	else if (c->others_ns >= 0)
		c->others_ns += res->others_ns;
	c->capacity_ns += res->capacity_ns;
	c->mops[c->nreps++] = res->mops;
	c->exhausted |= res->exhausted;
}

static void cell_finish(struct bench_cell *c)
{
	c->others = c->others_ns >= 0 && c->capacity_ns > 0 ? c->others_ns / c->capacity_ns : -1;
	c->median = median(c->mops, c->nreps);
	c->min = c->mops[0];
	c->max = c->mops[c->nreps - 1];
	c->status = BENCH_CELL_OK;
}

static bool runs_at(const struct bench_impl *impl, unsigned threads)
{
	return impl->role != BENCH_ROLE_LIMIT || threads == 1;
}

static bool busy(const struct rep_result *res)
{
	return res->others_ns >= 0 && res->capacity_ns > 0 &&
	       res->others_ns / res->capacity_ns > BENCH_BUSY;
}

/* Wait, up to `max_s` seconds, for a 0.1 s window in which other
 * processes use under BENCH_BUSY of the machine. */
static void wait_quiet(double max_s)
{
	uint64_t end = bench_now_ns() + (uint64_t)(max_s * 1e9);

	while (bench_now_ns() < end) {
		struct cpu_snap a, b;
		double others, capacity;

		cpu_snapshot(&a);
		sleep_s(0.1);
		cpu_snapshot(&b);
		cpu_others(&a, &b, &others, &capacity);
		if (others < 0 || others <= BENCH_BUSY * capacity)
			return;
	}
}

/*
 * One repetition (on a table of its own for fresh-table workloads; `w`
 * NULL: no table).  If other processes were busy during it, wait (up to
 * 2 s) for the machine to calm down and run it again, up to --retries
 * times and while the run's budget lasts (a quarter of its planned time):
 * on a shared machine this keeps most cells quiet without letting a run
 * that never gets a quiet moment last much longer.
 */
static struct rep_result measure(const struct bench_options *o, struct bench_report *rep,
				 struct run *r, struct table *t, const struct bench_workload *w,
				 const struct bench_table_config *cfg, unsigned nthreads)
{
	for (unsigned attempt = 0;; attempt++) {
		struct rep_result res;
		/* The whole attempt is charged to the budget: a fresh-table
		 * workload rebuilds its table each time (a million inserts for
		 * hits-large), far more than the time slice. */
		uint64_t t0 = bench_now_ns();

		if (w && w->fresh_table) {
			table_open(t, r->impl, w, cfg, r->release, NULL);
			r->tab = t->tab;
		}
		res = run_rep(o, r, nthreads);
		if (w && w->fresh_table)
			table_close(t, r->impl, r->release);
		else if (r->impl->quiesce)
			r->impl->quiesce(r->tab);
		if (!busy(&res) || attempt >= o->retries || rep->retry_s_left <= 0)
			return res;
		wait_quiet(rep->retry_s_left < 2 ? rep->retry_s_left : 2);
		rep->retry_s_left -= (double)(bench_now_ns() - t0) / 1e9;
		rep->retried++;
	}
}

/* The run of one implementation on one workload: its table and callbacks. */
static void run_setup(struct run *r, const struct bench_impl *impl, const struct bench_workload *w)
{
	bool refs = w->counted || (impl->caps & BENCH_CAP_ALWAYS_REFS);

	memset(r, 0, sizeof(*r));
	r->impl = impl;
	r->stream = &w->stream;
	r->intern = w->op == BENCH_OP_KEEP ? keep_fn(impl) : impl->intern;
	r->release = refs ? impl->release : NULL;
	r->op_release = impl->caps & BENCH_CAP_BORROWED ? NULL : r->release;
	r->keep = w->op == BENCH_OP_KEEP;
}

/*
 * One workload.  Repetitions are interleaved: for each thread count, rep 1
 * of every implementation, then rep 2 of every one..., each pass starting
 * one implementation further along.  On a machine whose speed drifts
 * (neighbours on the host), a slow spell then lands on all rows alike
 * instead of on whichever ran at that time, and the median discards it.
 */
static void run_workload(const struct bench_options *o, struct bench_report *rep, size_t wi,
			 struct progress *pg)
{
	const struct bench_workload *w = &rep->workloads[wi];
	const struct bench_table_config cfg = { w->expected, w->counted, w };
	size_t n = rep->nimpls;
	struct run *runs = bench_xcalloc(n, sizeof(*runs));
	struct table *tables = bench_xcalloc(n, sizeof(*tables));

	progress_workload(pg, w, wi, rep->nworkloads);
	for (size_t ii = 0; ii < n; ii++) {
		if (rep->skip_reason[wi * n + ii]) {
			for (unsigned ti = 0; ti < o->nthreads; ti++)
				bench_cell_at(rep, wi, ii, ti)->status = BENCH_CELL_SKIPPED;
			continue;
		}
		run_setup(&runs[ii], rep->impls[ii], w);
		if (!w->fresh_table) {
			table_open(&tables[ii], rep->impls[ii], w, &cfg, runs[ii].release,
				   w->memory ? &rep->memory[ii] : NULL);
			runs[ii].tab = tables[ii].tab;
		}
	}

	for (unsigned ti = 0; ti < o->nthreads; ti++) {
		for (unsigned k = 0; k < o->reps; k++) {
			for (size_t j = 0; j < n; j++) {
				size_t ii = (j + k) % n;
				const struct bench_impl *impl = rep->impls[ii];
				struct rep_result res;

				if (rep->skip_reason[wi * n + ii] || !runs_at(impl, o->threads[ti]))
					continue;
				progress_show(pg, w, impl, o->threads[ti], k, o->reps);
				res = measure(o, rep, &runs[ii], &tables[ii], w, &cfg,
					      o->threads[ti]);
				cell_add(bench_cell_at(rep, wi, ii, ti), &res);
				pg->done++;
			}
		}
		for (size_t ii = 0; ii < n; ii++) {
			struct bench_cell *c = bench_cell_at(rep, wi, ii, ti);

			if (c->nreps > 0)
				cell_finish(c);
		}
	}

	for (size_t ii = 0; ii < n; ii++)
		if (!rep->skip_reason[wi * n + ii] && !w->fresh_table)
			table_close(&tables[ii], rep->impls[ii], runs[ii].release);
	free(tables);
	free(runs);
}

/*
 * The machine's own scaling, for reading the scaling targets: the same
 * loop and stream with nothing behind the call but the hash, which shares
 * no memory between threads.  What it does at N threads over 1 thread is
 * the most any table can scale here (on this VM two vCPUs give about
 * 1.3x, not 2x, even for independent processes).
 */
__attribute__((noinline)) static const void *hash_only(void *tab, const char *s, size_t len)
{
	(void)tab;
	return (const void *)(uintptr_t)(intern__hash(s, len) | 1u);
}

static const struct bench_impl machine_impl = {
	.name = "hash-only",
	.intern = hash_only,
};

static void calibrate(const struct bench_options *o, struct bench_report *rep,
		      const struct bench_workload *w)
{
	struct run r;

	run_setup(&r, &machine_impl, w);
	r.keep = false;
	r.intern = hash_only;
	for (unsigned ti = 0; ti < o->nthreads; ti++) {
		struct bench_cell *c = &rep->machine[ti];

		for (unsigned k = 0; k < o->reps; k++) {
			struct rep_result res = measure(o, rep, &r, NULL, NULL, NULL,
							o->threads[ti]);

			cell_add(c, &res);
		}
		cell_finish(c);
	}
}

int main(int argc, char **argv)
{
	struct bench_options opt;
	const struct bench_impl *impls[sizeof(all_impls) / sizeof(all_impls[0])];
	struct bench_workload *workloads;
	struct bench_report rep = { 0 };
	struct progress pg = { 0 };
	uint64_t t_begin = bench_now_ns();
	int status;

	parse_options(&opt, argc, argv);
	bench_same_hash = opt.same_hash;
	/*
	 * Register the main thread with liburcu before libintern could do it
	 * lazily: the RCU baselines need it registered too, and registering
	 * a thread twice aborts (intern.h, "Threads need no ceremony").
	 */
	urcu_memb_register_thread();

	rep.opt = &opt;
	rep.impls = impls;
	rep.nimpls = select_impls(&opt, impls);
	fprintf(stderr, "intern-bench: %s mode, %u cores, threads", opt.mode, opt.ncpus);
	for (unsigned t = 0; t < opt.nthreads; t++)
		fprintf(stderr, "%s%u", t ? "," : " ", opt.threads[t]);
	fprintf(stderr, ", %u reps x %.3g s%s, %s; building workloads...\n", opt.reps, opt.slice_s,
		opt.pin ? ", pinned" : "", bench_hash_mode(&opt));
	rep.nworkloads = bench_workloads_build(&opt, &workloads);
	rep.workloads = workloads;
	rep.cells = bench_xcalloc(rep.nworkloads * rep.nimpls * opt.nthreads, sizeof(*rep.cells));
	rep.skip_reason = bench_xcalloc(rep.nworkloads * rep.nimpls, sizeof(*rep.skip_reason));
	rep.memory = bench_xcalloc(rep.nimpls, sizeof(*rep.memory));

	for (size_t wi = 0; wi < rep.nworkloads; wi++) {
		for (size_t ii = 0; ii < rep.nimpls; ii++) {
			const struct bench_impl *impl = impls[ii];
			const char *why = impl->unsupported ? impl->unsupported(&workloads[wi])
							    : NULL;

			rep.skip_reason[wi * rep.nimpls + ii] = why;
			for (unsigned t = 0; !why && t < opt.nthreads; t++)
				if (runs_at(impl, opt.threads[t]))
					pg.total += opt.reps;
		}
	}

	pg.tty = isatty(STDERR_FILENO);
	pg.t_begin = bench_now_ns();
	fprintf(stderr,
		"intern-bench: %zu workloads, %zu rows, %zu measurements of %.3g s "
		"each (plus building each table): at least %.0f s\n",
		rep.nworkloads, rep.nimpls, pg.total, opt.slice_s,
		(double)(pg.total + opt.nthreads * opt.reps) * opt.slice_s);
	rep.machine = bench_xcalloc(opt.nthreads, sizeof(*rep.machine));
	rep.retry_s_left = (double)(pg.total + opt.nthreads * opt.reps) * opt.slice_s / 4;
	calibrate(&opt, &rep, &workloads[0]);
	for (size_t wi = 0; wi < rep.nworkloads; wi++)
		run_workload(&opt, &rep, wi, &pg);
	if (pg.tty)
		fputs("\r\033[K", stderr);
	rep.elapsed_s = (double)(bench_now_ns() - t_begin) / 1e9;

	status = bench_report_write(&rep);

	free(rep.cells);
	free(rep.skip_reason);
	free(rep.memory);
	free(rep.machine);
	bench_workloads_free(workloads, rep.nworkloads);
	free(opt.token_paths);
	free(opt.command);
	urcu_memb_unregister_thread();
	return status;
}
