/*
 * snapshot-bench.c: intern-snapshot-bench, what a snapshot buys a process
 * that starts often or forks workers (docs/snapshot-bench.md has the
 * figures and the commands).  Three parts, side by side in one run:
 *
 *   start-up  interning N strings immortal in a fresh interpreter, as a
 *             process does at start, against opening the snapshot of the
 *             same strings and creating an interpreter on it, with full
 *             validation and with INTERN_SNAPSHOT_TRUSTED; the two
 *             interleaved, medians of --reps.
 *   prefork   a parent forks W workers; each looks up a sample of the N
 *             strings, interns and drops some mortal strings of its own,
 *             reports, and waits until every worker has reported, so that
 *             sharing is measured with all of them alive.  Three setups:
 *               snapshot   the parent has an interpreter on the snapshot;
 *               inherited  the parent interned the N strings immortal,
 *                          then forked (pages shared copy-on-write);
 *               private    each worker interns the N strings itself.
 *             A worker's added memory is its /proc/PID/smaps_rollup at the
 *             end (read by the parent, every worker alive) minus before
 *             its work (read by the worker once every worker is forked,
 *             so that both Pss readings divide the inherited pages among
 *             the same processes): Rss, Pss and Private (Private_Clean +
 *             Private_Dirty: what the machine gets back when the worker
 *             exits).
 *   lookups   intern_lookup() of snapshot strings against hits on the same
 *             strings interned immortal in an interpreter without a
 *             snapshot (same keys, same shuffled order); intern_id_str()
 *             and intern_id_of(), snapshot and dynamic IDs.
 *
 * --check runs the prefork path once, small and untimed, as a test: every
 * worker must see the parent's IDs and the parent's pointers, all inside
 * the mapping; the mapping's pages in each worker must be shared (no
 * private dirty page, some shared clean ones, Pss below Rss); and a fresh
 * mapping of the file must give the same IDs.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <intern.h>

/* ---------------------------------------------------------------------------
 * Options, keys, clocks
 * ------------------------------------------------------------------------- */

static struct {
	size_t strings;   /* N */
	unsigned workers; /* W */
	unsigned reps;
	size_t sample;  /* lookups per worker */
	size_t mortals; /* mortal strings each worker interns and drops */
	const char *dir;
	bool check;
	bool startup_only;
} opt = { 1000000, 8, 5, 1000000, 10000, "/tmp", false, false };

static void usage(FILE *f)
{
	fprintf(f, "usage: intern-snapshot-bench [--strings N] [--workers W] [--reps R]\n"
		   "                             [--sample N] [--mortals N] [--dir DIR] [--check]\n"
		   "                             [--startup]\n"
		   "  --strings N   strings in the snapshot (default 1000000)\n"
		   "  --workers W   forked workers (default 8)\n"
		   "  --reps R      repetitions of each timing, medians quoted (default 5)\n"
		   "  --sample N    strings each worker looks up (default 1000000, capped at N)\n"
		   "  --mortals N   mortal strings each worker interns and drops (default 10000)\n"
		   "  --dir DIR     where the snapshot file goes (default /tmp)\n"
		   "  --check       the prefork path once, small, untimed: IDs, pointers and\n"
		   "                shared pages checked in every worker (exit 1 on a mismatch)\n"
		   "  --startup     the start-up timings only (no prefork, no lookups)\n"
		   "Run timings under the shared lock: flock /tmp/libintern-bench.lock ...\n");
}

static void die(const char *what)
{
	fprintf(stderr, "intern-snapshot-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int parse_options(int argc, char **argv)
{
	static const struct option options[] = {
		{ "strings", required_argument, NULL, 'n' },
		{ "workers", required_argument, NULL, 'w' },
		{ "reps", required_argument, NULL, 'r' },
		{ "sample", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'c' },
		{ "startup", no_argument, NULL, 'u' },
		{ "mortals", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
		char *end = NULL;
		unsigned long long v = 0;

		if (optarg) {
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (o != 'd' &&
			    (errno || *end || !*optarg || optarg[0] == '-' || (v == 0 && o != 'm')))
				return -1;
		}
		switch (o) {
		case 'n': opt.strings = v; break;
		case 'w': opt.workers = v > 64 ? 64 : (unsigned)v; break;
		case 'r': opt.reps = v > 1000 ? 1000 : (unsigned)v; break;
		case 's': opt.sample = v; break;
		case 'm': opt.mortals = v; break;
		case 'd': opt.dir = optarg; break;
		case 'c': opt.check = true; break;
		case 'u': opt.startup_only = true; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* The N strings: a name-like prefix and a hexadecimal number, 7 to 30
 * bytes, distinct by construction (the numbers are). */
struct keys {
	char **p;
	size_t *len;
	size_t n;
};

static void keys_make(struct keys *k, size_t n)
{
	static const char *const prefix[] = { "http_header", "route", "metric.requests", "user",
					      "x-forwarded", "cfg",   "session_field",   "token" };
	char buf[64];

	k->n = n;
	k->p = malloc(n * sizeof(*k->p));
	k->len = malloc(n * sizeof(*k->len));
	if (!k->p || !k->len)
		die("keys");
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(buf, sizeof(buf), "%s_%zx", prefix[i % 8], i);

		k->len[i] = (size_t)len;
		k->p[i] = strdup(buf);
		if (!k->p[i])
			die("keys");
	}
}

/* A shuffled order of 0..n-1 (fixed seed: every run replays it). */
static size_t *shuffled(size_t n)
{
	size_t *order = malloc(n * sizeof(*order));
	uint64_t x = 0x9e3779b97f4a7c15ull;

	if (!order)
		die("order");
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t j = x % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	return order;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---------------------------------------------------------------------------
 * Interning and mapping
 * ------------------------------------------------------------------------- */

static const char *snap_path;
static struct keys keys;

/* A fresh interpreter holding the N strings immortal, as a process's
 * start-up makes one. */
static struct intern_interp *intern_all(void)
{
	struct intern_interp *interp = intern_interp_new(NULL);

	if (!interp)
		die("intern_interp_new");
	for (size_t i = 0; i < keys.n; i++) {
		struct intern_str *s = intern_str_new(keys.p[i], keys.len[i]);

		if (!s || intern_immortal(interp, &s) < 0)
			die("intern_immortal");
	}
	return interp;
}

static struct intern_interp *map_snapshot(unsigned flags)
{
	char why[256] = "";
	struct intern_snapshot *snap = intern_snapshot_open(snap_path, flags, why, sizeof(why));
	struct intern_interp *interp;

	if (!snap) {
		fprintf(stderr, "intern-snapshot-bench: %s refused: %s\n", snap_path, why);
		exit(1);
	}
	interp = intern_interp_new_snapshot(NULL, snap);
	if (!interp)
		die("intern_interp_new_snapshot");
	intern_snapshot_close(snap);
	return interp;
}

static void write_snapshot(void)
{
	struct intern_snapshot_builder *b = intern_snapshot_builder_new();
	int rc = b ? 0 : -ENOMEM;

	for (size_t i = 0; rc == 0 && i < keys.n; i++)
		rc = intern_snapshot_builder_add(b, keys.p[i], keys.len[i]);
	if (rc == 0)
		rc = intern_snapshot_builder_write(b, snap_path);
	intern_snapshot_builder_free(b);
	if (rc < 0) {
		errno = -rc;
		die(snap_path);
	}
}

/* ---------------------------------------------------------------------------
 * Memory: /proc/PID/smaps_rollup, and one mapping's lines of smaps
 * ------------------------------------------------------------------------- */

struct mem {
	long rss, pss, private_kb, shared_clean, private_dirty; /* kB */
};

static void mem_line(struct mem *m, const char *line)
{
	long v;

	if (sscanf(line, "Rss: %ld", &v) == 1)
		m->rss += v;
	else if (sscanf(line, "Pss: %ld", &v) == 1)
		m->pss += v;
	else if (sscanf(line, "Private_Clean: %ld", &v) == 1)
		m->private_kb += v;
	else if (sscanf(line, "Private_Dirty: %ld", &v) == 1)
		m->private_kb += v, m->private_dirty += v;
	else if (sscanf(line, "Shared_Clean: %ld", &v) == 1)
		m->shared_clean += v;
}

/* The whole process (mapping NULL), or the mappings of that file. */
static struct mem mem_of(pid_t pid, const char *mapping)
{
	char path[64], line[512];
	struct mem m = { 0 };
	bool in = mapping == NULL;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid,
			 mapping ? "smaps" : "smaps_rollup");
	else
		snprintf(path, sizeof(path), "/proc/self/%s", mapping ? "smaps" : "smaps_rollup");
	f = fopen(path, "r");
	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		/* A mapping's header: "lo-hi perms offset dev inode path". */
		if (mapping && sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			size_t n = strlen(line), k = strlen(mapping);
			in = n > k && strncmp(line + n - k - 1, mapping, k) == 0;
		} else if (in) {
			mem_line(&m, line);
		}
	}
	fclose(f);
	return m;
}

/* The address range of the snapshot's mapping in this process. */
static void mapping_range(const char *mapping, uintptr_t *lo, uintptr_t *hi)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	*lo = UINTPTR_MAX, *hi = 0;
	if (!f)
		die("/proc/self/maps");
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		size_t n = strlen(line), k = strlen(mapping);

		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && n > k &&
		    strncmp(line + n - k - 1, mapping, k) == 0) {
			*lo = a < *lo ? a : *lo;
			*hi = b > *hi ? b : *hi;
		}
	}
	fclose(f);
}

/* ---------------------------------------------------------------------------
 * Prefork
 * ------------------------------------------------------------------------- */

enum setup {
	SETUP_SNAPSHOT,
	SETUP_INHERITED,
	SETUP_PRIVATE
};

static const char *const setup_name[] = { "snapshot", "inherited", "private" };

struct report {
	pid_t pid;
	struct mem base;
	uint64_t digest; /* of every (ID, pointer) looked up */
	size_t outside;  /* pointers outside the mapping */
	size_t failed;   /* lookups that found nothing */
};

static uintptr_t map_lo, map_hi;

/* Look up the sample; with --check, digest the IDs and, unless
 * `ids_only`, the pointers (the timed runs leave intern_id_of() out: a
 * first request numbers a dynamic string, which allocates). */
static void lookups(struct intern_interp *interp, struct report *r, bool ids_only)
{
	size_t n = opt.sample < keys.n ? opt.sample : keys.n;
	uint64_t d = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++) {
		struct intern_str *s = intern_lookup(interp, keys.p[i], keys.len[i]);
		uint64_t id = s && opt.check ? intern_id_of(interp, s) : 0;

		if (!s) {
			r->failed++;
			continue;
		}
		if ((uintptr_t)s < map_lo || (uintptr_t)s >= map_hi)
			r->outside++;
		d = (d ^ id) * 1099511628211ull;
		if (!ids_only)
			d = (d ^ (uintptr_t)s) * 1099511628211ull;
		intern_str_decref(s);
	}
	r->digest = d;
}

/* Mortal strings of the worker's own, interned and dropped. */
static void mortal_churn(struct intern_interp *interp, unsigned worker)
{
	char buf[64];

	for (size_t i = 0; i < opt.mortals; i++) {
		int len = snprintf(buf, sizeof(buf), "worker%u_request_%zu", worker, i);
		struct intern_str *s = intern_bytes(interp, buf, (size_t)len);

		if (!s)
			die("intern_bytes");
		intern_str_decref(s);
	}
	intern_barrier();
}

/* EOF on `fd`: the parent closed its end. */
static void wait_eof(int fd)
{
	char c;

	while (read(fd, &c, 1) > 0)
		;
}

static void worker(enum setup setup, struct intern_interp *interp, unsigned w, int start_fd,
		   int report_fd, int go_fd)
{
	struct report r = { .pid = getpid() };

	wait_eof(start_fd);
	r.base = mem_of(0, NULL);
	if (setup == SETUP_PRIVATE)
		interp = intern_all();
	lookups(interp, &r, false);
	mortal_churn(interp, w);
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	/* The parent measures every worker, then closes the pipe. */
	wait_eof(go_fd);
	_exit(0);
}

struct prefork {
	double rss, pss, private_kb; /* added per worker, mean, kB */
	struct report first;         /* worker 0's report */
	bool same;                   /* every worker's digest equal */
	size_t outside, failed;      /* summed over the workers */
	struct mem mapping[64];      /* the snapshot mapping, per worker */
};

static void prefork(enum setup setup, struct intern_interp *interp, struct prefork *out)
{
	int start[2], report[2], go[2];
	struct report r[64];
	pid_t pid[64];

	if (pipe(start) < 0 || pipe(report) < 0 || pipe(go) < 0)
		die("pipe");
	fflush(NULL);
	for (unsigned w = 0; w < opt.workers; w++) {
		pid[w] = fork();
		if (pid[w] < 0)
			die("fork");
		if (pid[w] == 0) {
			close(start[1]);
			close(report[0]);
			close(go[1]);
			worker(setup, interp, w, start[0], report[1], go[0]);
		}
	}
	close(start[0]);
	close(report[1]);
	close(go[0]);
	close(start[1]); /* every worker is forked: start */
	memset(out, 0, sizeof(*out));
	out->same = true;
	for (unsigned w = 0; w < opt.workers; w++) {
		if (read(report[0], &r[w], sizeof(r[w])) != sizeof(r[w])) {
			fprintf(stderr, "intern-snapshot-bench: a worker died\n");
			exit(1);
		}
	}
	/* Every worker is done and alive: measure them now. */
	for (unsigned w = 0; w < opt.workers; w++) {
		struct mem end = mem_of(r[w].pid, NULL);

		out->rss += (double)(end.rss - r[w].base.rss) / opt.workers;
		out->pss += (double)(end.pss - r[w].base.pss) / opt.workers;
		out->private_kb += (double)(end.private_kb - r[w].base.private_kb) / opt.workers;
		out->same &= r[w].digest == r[0].digest;
		out->outside += r[w].outside;
		out->failed += r[w].failed;
		if (setup == SETUP_SNAPSHOT)
			out->mapping[w] = mem_of(r[w].pid, snap_path);
	}
	out->first = r[0];
	close(go[1]);
	close(report[0]);
	for (unsigned w = 0; w < opt.workers; w++) {
		int status;

		if (waitpid(pid[w], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "intern-snapshot-bench: worker %u failed\n", w);
			exit(1);
		}
	}
}

/* ---------------------------------------------------------------------------
 * --check: the fork path as a test
 * ------------------------------------------------------------------------- */

static int fail(const char *what)
{
	printf("FAIL: %s\n", what);
	return 1;
}

static int check(void)
{
	struct intern_interp *interp, *again;
	struct report parent = { 0 }, fresh = { 0 };
	struct prefork pf;
	int bad = 0;

	write_snapshot();
	interp = map_snapshot(0);
	mapping_range(snap_path, &map_lo, &map_hi);
	if (map_lo >= map_hi)
		return fail("no mapping of the snapshot in /proc/self/maps");
	/* The parent touches every page the workers will read. */
	lookups(interp, &parent, false);
	if (parent.failed || parent.outside)
		bad |= fail("the parent's lookups did not all land in the mapping");
	prefork(SETUP_SNAPSHOT, interp, &pf);
	if (!pf.same || pf.first.digest != parent.digest)
		bad |= fail("a worker saw other IDs or other pointers than the parent");
	if (pf.failed || pf.outside)
		bad |= fail("a worker's lookup missed or returned a pointer outside the mapping");
	for (unsigned w = 0; w < opt.workers; w++) {
		const struct mem *m = &pf.mapping[w];

		printf("worker %u: mapping Rss %ld kB, Pss %ld kB, Shared_Clean %ld kB, "
		       "Private_Dirty %ld kB\n",
		       w, m->rss, m->pss, m->shared_clean, m->private_dirty);
		if (m->private_dirty != 0 || m->shared_clean == 0 || m->pss >= m->rss)
			bad |= fail("the mapping's pages are not shared in a worker");
	}
	/* Another mapping of the same file, elsewhere: the same IDs. */
	again = map_snapshot(INTERN_SNAPSHOT_TRUSTED);
	map_lo = 0, map_hi = UINTPTR_MAX;
	lookups(again, &fresh, true);
	lookups(interp, &parent, true);
	if (fresh.digest != parent.digest || fresh.failed)
		bad |= fail("a second mapping of the file gives other IDs");
	intern_interp_free(again);
	intern_interp_free(interp);
	printf("%s: %zu strings, %u workers: IDs, pointers and shared pages %s\n", snap_path,
	       keys.n, opt.workers, bad ? "WRONG" : "as expected");
	return bad;
}

/* ---------------------------------------------------------------------------
 * Timings
 * ------------------------------------------------------------------------- */

struct startup {
	double intern_s, full_s, trusted_s;
};

static void startup(struct startup *st)
{
	double a[1000], b[1000], c[1000];

	for (unsigned r = 0; r < opt.reps; r++) {
		double t0 = now();
		struct intern_interp *interp = intern_all();
		double t1 = now();

		intern_interp_free(interp);
		t0 = t1 - t0;
		t1 = now();
		interp = map_snapshot(0);
		b[r] = now() - t1;
		intern_interp_free(interp);
		t1 = now();
		interp = map_snapshot(INTERN_SNAPSHOT_TRUSTED);
		c[r] = now() - t1;
		intern_interp_free(interp);
		a[r] = t0;
	}
	st->intern_s = median(a, opt.reps);
	st->full_s = median(b, opt.reps);
	st->trusted_s = median(c, opt.reps);
}

/* ns per call of intern_lookup() over the keys in `order`. */
static double time_lookups(struct intern_interp *interp, const size_t *order, size_t n)
{
	uintptr_t sink = 0;
	double t = now();

	for (size_t i = 0; i < n; i++) {
		size_t k = order[i];
		struct intern_str *s = intern_lookup(interp, keys.p[k], keys.len[k]);

		sink ^= (uintptr_t)s;
		intern_str_decref(s);
	}
	t = now() - t;
	if (sink == 1)
		puts("");
	return t * 1e9 / n;
}

static double time_id_str(struct intern_interp *interp, const uint32_t *ids, size_t n)
{
	uintptr_t sink = 0;
	double t = now();

	for (size_t i = 0; i < n; i++)
		sink ^= (uintptr_t)intern_id_str(interp, ids[i]);
	t = now() - t;
	if (sink == 1)
		puts("");
	return t * 1e9 / n;
}

static double time_id_of(struct intern_interp *interp, struct intern_str *const *s, size_t n)
{
	uint64_t sink = 0;
	double t = now();

	for (size_t i = 0; i < n; i++)
		sink += intern_id_of(interp, s[i]);
	t = now() - t;
	if (sink == 1)
		puts("");
	return t * 1e9 / n;
}

/* The six figures, ns per call: lookups of snapshot strings and of the
 * same strings interned immortal without a snapshot, then ID to string and
 * string to ID for each. */
enum {
	LK_SNAP,
	LK_DYN,
	LK_SNAP_ID_STR,
	LK_SNAP_ID_OF,
	LK_DYN_ID_STR,
	LK_DYN_ID_OF,
	LK_N
};

struct lookup_ns {
	double cold[LK_N]; /* every key once, shuffled: cache misses included */
	double hot[LK_N];  /* HOT_KEYS keys, over and over: the calls' own cost */
};

#define HOT_KEYS 1000

/* One interpreter's side: per key, its canonical string and ID. */
struct side {
	struct intern_interp *interp;
	struct intern_str **str;
	uint32_t *id;
};

static void side_fill(struct side *sd, struct intern_interp *interp)
{
	sd->interp = interp;
	sd->str = malloc(keys.n * sizeof(*sd->str));
	sd->id = malloc(keys.n * sizeof(*sd->id));
	if (!sd->str || !sd->id)
		die("lookup arrays");
	for (size_t k = 0; k < keys.n; k++) {
		sd->str[k] = intern_lookup(interp, keys.p[k], keys.len[k]);
		/* Numbers a dynamic string on its first request. */
		sd->id[k] = intern_id_of(interp, sd->str[k]);
		if (sd->id[k] == INTERN_ID_NONE)
			die("intern_id_of");
	}
}

/* The figures for the keys idx[0..n), in that order for every call. */
static void time_pass(const struct side sd[2], const size_t *idx, size_t n, double out[LK_N])
{
	uint32_t *ids = malloc(n * sizeof(*ids));
	struct intern_str **strs = malloc(n * sizeof(*strs));
	double v[LK_N][1000];

	if (!ids || !strs)
		die("lookup arrays");
	for (unsigned r = 0; r < opt.reps; r++) {
		for (int side = 0; side < 2; side++) {
			for (size_t i = 0; i < n; i++) {
				ids[i] = sd[side].id[idx[i]];
				strs[i] = sd[side].str[idx[i]];
			}
			v[LK_SNAP + side][r] = time_lookups(sd[side].interp, idx, n);
			v[LK_SNAP_ID_STR + 2 * side][r] = time_id_str(sd[side].interp, ids, n);
			v[LK_SNAP_ID_OF + 2 * side][r] = time_id_of(sd[side].interp, strs, n);
		}
	}
	for (int k = 0; k < LK_N; k++)
		out[k] = median(v[k], opt.reps);
	free(ids);
	free(strs);
}

static void lookup_times(struct lookup_ns *ns)
{
	struct side sd[2];
	size_t n = keys.n, *order = shuffled(n), *hot = malloc(n * sizeof(*hot));

	if (!hot)
		die("lookup arrays");
	side_fill(&sd[0], map_snapshot(INTERN_SNAPSHOT_TRUSTED));
	side_fill(&sd[1], intern_all());
	for (size_t i = 0; i < n; i++)
		hot[i] = order[i % (n < HOT_KEYS ? n : HOT_KEYS)];
	time_pass(sd, order, n, ns->cold);
	time_pass(sd, hot, n, ns->hot);
	for (int i = 0; i < 2; i++) {
		free(sd[i].str);
		free(sd[i].id);
		intern_interp_free(sd[i].interp);
	}
	free(order);
	free(hot);
}

static const char *verdict(bool ok)
{
	return ok ? "PASS" : "MISS";
}

/* A row of the lookup table; ID rows carry the "a few nanoseconds" target,
 * judged on the hot figure (the cold one is the cache misses). */
static void lookup_row(const char *name, const struct lookup_ns *ns, int k, const char *kind)
{
	printf("%-40s %8.1f %8.1f", name, ns->cold[k], ns->hot[k]);
	if (*kind)
		printf("  %s (target: hot <= 5 ns)", verdict(ns->hot[k] <= 5));
	putchar('\n');
}

/* The start-up rows: interning against mapping, full and trusted. */
static void report_startup(const struct startup *st, long long file_size)
{
	printf("\n== start-up: %zu strings, a %.1f MiB snapshot (median of %u)\n", keys.n,
	       file_size / 1048576.0, opt.reps);
	printf("%-44s %12s %10s\n", "", "ms", "speed-up");
	printf("%-44s %12.3f %10s\n", "intern them immortal (fresh interpreter)",
	       st->intern_s * 1e3, "1x");
	printf("%-44s %12.3f %9.0fx  %s (target >= 100x)\n",
	       "open + map the snapshot, full validation", st->full_s * 1e3,
	       st->intern_s / st->full_s, verdict(st->intern_s / st->full_s >= 100));
	printf("%-44s %12.3f %9.0fx  %s (target >= 100x)\n", "open + map the snapshot, TRUSTED",
	       st->trusted_s * 1e3, st->intern_s / st->trusted_s,
	       verdict(st->intern_s / st->trusted_s >= 100));
}

static void report(const struct startup *st, const struct prefork pf[3], const struct lookup_ns *ns,
		   long long file_size)
{
	double base = pf[SETUP_PRIVATE].private_kb;

	report_startup(st, file_size);
	printf("\n== prefork: %u workers, each looks up %zu strings and interns and drops %zu mortal "
	       "ones\n",
	       opt.workers, opt.sample < keys.n ? opt.sample : keys.n, opt.mortals);
	printf("added memory per worker (kB, mean)   %10s %10s %10s %12s\n", "Rss", "Pss",
	       "Private", "vs private");
	for (int s = 0; s < 3; s++)
		printf("%-36s %10.0f %10.0f %10.0f %11.1f%%\n", setup_name[s], pf[s].rss, pf[s].pss,
		       pf[s].private_kb, base > 0 ? 100 * pf[s].private_kb / base : 0.0);
	printf("snapshot's added Private memory per worker: %.1f%% of interning privately: %s "
	       "(target < 5%%)\n",
	       base > 0 ? 100 * pf[SETUP_SNAPSHOT].private_kb / base : 0.0,
	       verdict(pf[SETUP_SNAPSHOT].private_kb < 0.05 * base));
	printf("snapshot's added Pss per worker: %.1f%% of interning privately's Pss (the Pss\n"
	       "includes the worker's 1/%u share of the one copy of the file, %.1f MiB, in the page cache)\n",
	       pf[SETUP_PRIVATE].pss > 0 ? 100 * pf[SETUP_SNAPSHOT].pss / pf[SETUP_PRIVATE].pss
					 : 0.0,
	       opt.workers + 1, file_size / 1048576.0);

	printf("\n== lookups: ns per call, median of %u; cold: the %zu strings once each, "
	       "shuffled;\n   hot: %d of them over and over (%zu calls)\n",
	       opt.reps, keys.n, HOT_KEYS, keys.n);
	printf("%-40s %8s %8s\n", "", "cold", "hot");
	lookup_row("intern_lookup, immortal dynamic (hit)", ns, LK_DYN, "");
	lookup_row("intern_lookup, snapshot string", ns, LK_SNAP, "");
	printf("   snapshot / dynamic: cold %.2fx, hot %.2fx: %s (target <= 1.00x)\n",
	       ns->cold[LK_SNAP] / ns->cold[LK_DYN], ns->hot[LK_SNAP] / ns->hot[LK_DYN],
	       verdict(ns->cold[LK_SNAP] <= ns->cold[LK_DYN] &&
		       ns->hot[LK_SNAP] <= ns->hot[LK_DYN]));
	lookup_row("intern_id_str, snapshot ID", ns, LK_SNAP_ID_STR, "id");
	lookup_row("intern_id_of, snapshot string", ns, LK_SNAP_ID_OF, "id");
	lookup_row("intern_id_str, dynamic ID", ns, LK_DYN_ID_STR, "id");
	lookup_row("intern_id_of, immortal dynamic string", ns, LK_DYN_ID_OF, "id");
}

int main(int argc, char **argv)
{
	static char path[PATH_MAX];
	struct startup st;
	struct prefork pf[3];
	struct lookup_ns ns;
	struct stat sb;
	int rc;

	if (parse_options(argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	if (opt.check && opt.strings == 1000000)
		opt.strings = 5000, opt.workers = opt.workers == 8 ? 4 : opt.workers;
	/* Absolute: the mapping is found by its path in /proc/PID/smaps. */
	if (!realpath(opt.dir, path))
		die(opt.dir);
	snprintf(path + strlen(path), sizeof(path) - strlen(path),
		 "/intern-snapshot-bench.%ld.snap", (long)getpid());
	snap_path = path;
	keys_make(&keys, opt.strings);
	if (opt.check) {
		rc = check();
		unlink(snap_path);
		return rc;
	}
	fprintf(stderr, "intern-snapshot-bench: writing %s (%zu strings)\n", snap_path, keys.n);
	write_snapshot();
	if (stat(snap_path, &sb) < 0)
		die(snap_path);
	fprintf(stderr, "intern-snapshot-bench: start-up, %u reps\n", opt.reps);
	startup(&st);
	if (opt.startup_only) {
		report_startup(&st, (long long)sb.st_size);
		unlink(snap_path);
		return 0;
	}
	fprintf(stderr, "intern-snapshot-bench: prefork, %u workers x 3 setups\n", opt.workers);
	{
		struct intern_interp *interp = map_snapshot(0);

		mapping_range(snap_path, &map_lo, &map_hi);
		prefork(SETUP_SNAPSHOT, interp, &pf[SETUP_SNAPSHOT]);
		intern_interp_free(interp);
		map_lo = 0, map_hi = UINTPTR_MAX;
		interp = intern_all();
		prefork(SETUP_INHERITED, interp, &pf[SETUP_INHERITED]);
		intern_interp_free(interp);
		prefork(SETUP_PRIVATE, NULL, &pf[SETUP_PRIVATE]);
	}
	fprintf(stderr, "intern-snapshot-bench: lookups, %u reps\n", opt.reps);
	lookup_times(&ns);
	report(&st, pf, &ns, (long long)sb.st_size);
	unlink(snap_path);
	return 0;
}
