/*
 * main.c: intern-stress, libintern's torture test.
 *
 * A run: build the key set; create the shared interps (each gets the eight
 * static strings and one immortal probe string, whose ob_owner tells the
 * checks which owner id its strings carry); start N workers (worker.c) at
 * once; print a progress line every second (operations, rate, violations),
 * run intern_interp_check() on the shared interps as it goes, and watch for
 * stalls; stop after the duration or the operation count; join; then the
 * end-of-run accounting (each shared interp holds exactly the strings the
 * harness made immortal plus its statics and probe, nothing mortal, nothing
 * dying, and passes intern_interp_check()); free everything; check that no
 * thread starved; print one summary line.  Exit status: 0 clean, 1 any
 * violation, 2 bad usage or setup.  A crash prints a FAIL line and dies by
 * its signal (not under a sanitizer, which prints its own report).
 *
 * Usage: intern-stress --help.
 */
#include "torture.h"

#include "alloc.h"
#include "intern-private.h" /* intern__table_rebuild, _reseed */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct config run_config = {
	.threads = 8,
	.interps = 2,
	.keys = 4096,
	.dist = DIST_UNIFORM,
	.zipf_s = 0.99,
	.len_min = 2,
	.len_max = 40,
	.weights = {
		[OP_MORTAL] = 200000, [OP_IMMORTAL] = 20000, [OP_BYTES] = 250000,
		[OP_LOOKUP] = 200000, [OP_INCREF] = 80000,   [OP_RELEASE] = 200000,
		[OP_REINTERN] = 50000, [OP_INTERP] = 10,     [OP_BARRIER] = 5,
		[OP_INSPECT] = 20,     [OP_INT] = 10000,     [OP_AUTO] = 40000,
		[OP_SCOPE] = 20000,
	},
	.hold = 64,
	.immortal_frac = 1.0 / 16,
	.private_pct = 5,
	.recheck_pct = 10,
	.progress = 1.0,
	.check_every = 0.5,
	.starve = 0.2,
	.stall = 10.0,
	.verbose = 20,
};

struct tinterp *shared_interps;

static const char *phase = "setup";
double run_t0;
static _Atomic uint64_t ops_done; /* for the crash message */

/* ---- small helpers ---------------------------------------------------------- */

double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_sec(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

int stats_of(struct intern_interp *ip, struct intern_stats *st)
{
	int rc = intern_interp_stats(ip, st);

	if (rc)
		violation(V_ERROR, "intern_interp_stats: %d", rc);
	return rc;
}

int tinterp_setup(struct intern_interp *ip, uint16_t *owner)
{
	struct intern_str *s;
	int rc;

	for (unsigned i = 0; i < NSTATIC; i++) {
		s = static_obj[i];
		rc = intern_static(ip, &s);
		if (rc || s != static_obj[i]) {
			if (!(run_config.alloc_fail && rc == -ENOMEM))
				violation(V_ERROR, "intern_static(%s): %d, %p -> %p",
					  intern_str_data(static_obj[i]), rc, (void *)static_obj[i],
					  (void *)s);
			goto fail;
		}
	}
	s = intern_str_new(PROBE_TEXT, sizeof(PROBE_TEXT) - 1);
	if (!s) {
		if (!(run_config.alloc_fail && errno == ENOMEM))
			violation(V_ERROR, "intern_str_new(probe): errno %d", errno);
		goto fail;
	}
	rc = intern_immortal(ip, &s);
	if (rc) {
		if (!(run_config.alloc_fail && rc == -ENOMEM))
			violation(V_ERROR, "intern_immortal(probe): %d", rc);
		intern_str_decref(s);
		goto fail;
	}
	*owner = __atomic_load_n(&s->ob_owner, __ATOMIC_RELAXED);
	if (intern_str_state(s) != INTERN_IMMORTAL || *owner == 0)
		violation(V_STATE, "probe string: state %d owner %u", intern_str_state(s), *owner);
	return 0;
fail:
	intern_interp_free(ip);
	return -ENOMEM;
}

/* ---- crashes and hangs --------------------------------------------------------- */

/* Under a sanitizer its own handler reports crashes, with stacks. */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
static void on_fatal(int sig)
{
	char buf[160];
	int n = snprintf(buf, sizeof(buf),
			 "intern-stress: FAIL crashed with signal %d (%s) in %s after ~%" PRIu64
			 " ops\n",
			 sig, strsignal(sig), phase, atomic_load(&ops_done));

	if (n > 0 && write(2, buf, (size_t)n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}
#endif

static void on_alarm(int sig)
{
	char buf[160];
	int n = snprintf(buf, sizeof(buf),
			 "intern-stress: FAIL stall: no progress out of %s (violation stall)\n",
			 phase);

	(void)sig;
	if (n > 0 && write(2, buf, (size_t)n) < 0)
		n = 0;
	_exit(1);
}

static void install_handlers(void)
{
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };

	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fatal);
#endif
	signal(SIGALRM, on_alarm);
}

/* ---- a session: shared interps, workers, accounting ------------------------------ */

static void shared_free(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		intern_interp_free(shared_interps[i].ip);
		free(shared_interps[i].slot);
		free(shared_interps[i].imm);
	}
	free(shared_interps);
	shared_interps = NULL;
}

/* Create the shared interps.  0, or -ENOMEM (clean, alloc-fail mode), or -1. */
static int shared_open(void)
{
	struct intern_config c;

	shared_interps = calloc(run_config.interps, sizeof(*shared_interps));
	if (!shared_interps)
		return -1;
	intern_config_init(&c);
	c.shards = run_config.shards;
	for (unsigned i = 0; i < run_config.interps; i++) {
		struct tinterp *t = &shared_interps[i];

		t->slot = calloc(all_keys.n, sizeof(*t->slot));
		t->imm = calloc(all_keys.n, sizeof(*t->imm));
		if (!t->slot || !t->imm) {
			perror("intern-stress");
			exit(2);
		}
		t->ip = intern_interp_new(&c);
		if (!t->ip && !(run_config.alloc_fail && errno == ENOMEM))
			violation(V_ERROR, "intern_interp_new: errno %d", errno);
		if (!t->ip || tinterp_setup(t->ip, &t->owner)) { /* it frees t->ip */
			free(t->slot);
			free(t->imm);
			shared_free(i);
			return -ENOMEM;
		}
	}
	return 0;
}

/* The end-of-run audit: every thread has dropped everything. */
static void shared_account(void)
{
	size_t static_bytes = 0;

	for (unsigned i = 0; i < NSTATIC; i++)
		static_bytes += intern_str_len(static_obj[i]) + 1;
	for (unsigned i = 0; i < run_config.interps; i++) {
		struct tinterp *t = &shared_interps[i];
		size_t imm = 1, bytes = sizeof(PROBE_TEXT) + static_bytes;
		struct intern_stats st;

		for (uint32_t k = 0; k < all_keys.n; k++) {
			uint64_t w = atomic_load(&t->slot[k]);

			if (w >> 48)
				violation(V_ACCOUNT,
					  "harness: interp %u key %u still has %u holders", i, k,
					  (unsigned)(w >> 48));
			if (atomic_load(&t->imm[k])) {
				imm++;
				bytes += all_keys.len[k] + 1u;
			}
		}
		if (stats_of(t->ip, &st))
			continue;
		if (st.mortal || st.dying || st.immortal != imm || st.immortal_static != NSTATIC ||
		    st.string_bytes != bytes)
			violation(
				V_ACCOUNT,
				"interp %u after release: mortal %zu dying %zu immortal %zu static "
				"%zu string_bytes %zu; want 0 0 %zu %u %zu",
				i, st.mortal, st.dying, st.immortal, st.immortal_static,
				st.string_bytes, imm, NSTATIC, bytes);
		if (intern_interp_check(t->ip) != 0)
			violation(V_ACCOUNT, "interp %u: intern_interp_check failed at the end", i);
	}
}

static uint64_t total_ops(unsigned n)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < n; i++)
		t += atomic_load_explicit(&workers[i].ops, memory_order_relaxed);
	return t;
}

static void *worker_thread(void *arg)
{
	worker_run(arg);
	return NULL;
}

static void progress_line(double t, uint64_t ops, uint64_t prev, double dt, unsigned nthreads)
{
	uint64_t enomem = 0;

	if (run_config.alloc_fail)
		for (unsigned i = 0; i < nthreads; i++)
			enomem += workers[i].enomem; /* racy read; a progress figure */
	fprintf(stderr,
		"[%7.1fs] ops %10.3fM  rate %7.2f Mops/s  violations %" PRIu64 "%s%.0" PRIu64 "\n",
		t, (double)ops / 1e6, (double)(ops - prev) / dt / 1e6, violations_total(),
		run_config.alloc_fail ? "  enomem ~" : "", run_config.alloc_fail ? enomem : 0);
}

/* --rebuild-every: the n-th forced rebuild takes shard n / 2 of each
 * shared interp (mod its shard count) and rebuilds it, under a fresh key
 * when n is odd (a reseed), while the workers run: the array swaps that
 * growth and flood defence make, at a rate churn alone never reaches. */
static void force_rebuilds(uint64_t n)
{
	for (unsigned i = 0; i < run_config.interps; i++) {
		unsigned k = (unsigned)(n / 2);
		int rc = n % 2 ? intern__table_reseed(shared_interps[i].ip, k)
			       : intern__table_rebuild(shared_interps[i].ip, k);

		/* Out of memory leaves the old array: not a violation. */
		(void)rc;
	}
}

/*
 * Run `nthreads` workers for `total` operations (0 = no limit) or
 * `duration` seconds (0 = no limit).  nthreads 0 runs one worker inline in
 * this thread (the deterministic allocation-failure sweep).
 */
static void run_workers(unsigned nthreads, uint64_t total, double duration, bool storm,
			struct result *res)
{
	bool inline_run = nthreads == 0;
	unsigned n = inline_run ? 1 : nthreads;
	double t0, last_prog, last_check, last_change, last_rebuild, t;
	uint64_t last_total = 0, prog_total = 0, rebuilds = 0;
	uint64_t rng = run_config.seed ^ 0x73746f726dull;
	bool stopping = false;
	pthread_barrier_t start;

	workers = aligned_alloc(64, n * sizeof(*workers));
	if (!workers) {
		perror("intern-stress");
		exit(2);
	}
	memset(workers, 0, n * sizeof(*workers));
	atomic_store(&stop_workers, false);
	orphans_init();
	if (!inline_run)
		pthread_barrier_init(&start, NULL, n + 1);
	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &workers[i];

		w->id = i;
		w->rng = run_config.seed * 0x9e3779b97f4a7c15ull + i + 1;
		w->pos = all_keys.nstream ? rng_below(&w->rng, (uint32_t)all_keys.nstream) : 0;
		w->quota = total ? total / n + (i < total % n) : UINT64_MAX;
		w->start = inline_run ? NULL : &start;
		if (worker_init(w)) {
			perror("intern-stress");
			exit(2);
		}
	}
	phase = "run";
	if (inline_run) {
		t0 = now_sec();
		worker_run(&workers[0]);
	} else {
		for (unsigned i = 0; i < n; i++)
			if (pthread_create(&workers[i].thread, NULL, worker_thread, &workers[i])) {
				perror("intern-stress: pthread_create");
				exit(2);
			}
		pthread_barrier_wait(&start);
		t0 = last_prog = last_check = last_change = last_rebuild = run_t0 = now_sec();
		for (;;) {
			bool all_done = true;
			uint64_t ops;

			sleep_sec(storm ? 0.001 : 0.01);
			t = now_sec();
			ops = total_ops(n);
			atomic_store_explicit(&ops_done, ops, memory_order_relaxed);
			for (unsigned i = 0; i < n; i++)
				all_done &= atomic_load_explicit(&workers[i].done,
								 memory_order_acquire) != 0;
			if (all_done)
				break;
			if (ops != last_total) {
				last_total = ops;
				last_change = t;
			} else if (t - last_change > run_config.stall) {
				violation(V_STALL, "no operation completed for %.1f s (%s)",
					  t - last_change, stopping ? "winding down" : "running");
				fprintf(stderr,
					"intern-stress: FAIL stall after %" PRIu64
					" ops, seed=%" PRIu64 "\n",
					ops, run_config.seed);
				_exit(1);
			}
			if (!stopping && ((duration > 0 && t - t0 >= duration) ||
					  (run_config.fail_fast && violations_total()))) {
				stopping = true;
				if (storm)
					intern__fault_disarm();
				atomic_store(&stop_workers, true);
			}
			if (storm && !stopping)
				allocfail_storm_tick(&rng, t - t0);
			if (run_config.check_every > 0 && !stopping &&
			    t - last_check >= run_config.check_every) {
				for (unsigned i = 0; i < run_config.interps; i++)
					if (intern_interp_check(shared_interps[i].ip) != 0)
						violation(
							V_ACCOUNT,
							"interp %u: intern_interp_check failed mid-run",
							i);
				last_check = t;
			}
			if (run_config.rebuild_every > 0 && !stopping &&
			    t - last_rebuild >= run_config.rebuild_every) {
				force_rebuilds(rebuilds++);
				last_rebuild = t;
			}
			if (run_config.progress > 0 && !run_config.quiet && t - last_prog >= run_config.progress) {
				progress_line(t - t0, ops, prog_total, t - last_prog, n);
				prog_total = ops;
				last_prog = t;
			}
		}
		if (storm)
			intern__fault_disarm();
		phase = "join";
		for (unsigned i = 0; i < n; i++)
			pthread_join(workers[i].thread, NULL);
		pthread_barrier_destroy(&start);
	}
	t = now_sec();

	memset(res, 0, sizeof(*res));
	res->elapsed = t - t0;
	res->ops = total_ops(n);
	res->min = UINT64_MAX;
	for (unsigned i = 0; i < n; i++) {
		uint64_t o = atomic_load(&workers[i].ops);

		res->min = o < res->min ? o : res->min;
		res->max = o > res->max ? o : res->max;
		res->enomem += workers[i].enomem;
		res->churns += workers[i].churns;
		res->deaths += workers[i].deaths;
	}
	res->mean = (double)res->ops / n;
	atomic_store_explicit(&ops_done, res->ops, memory_order_relaxed);
}

/* Flag starved threads; print per-thread figures. */
static void report_threads(unsigned n, const struct result *res, bool timed)
{
	if (!run_config.quiet) {
		fprintf(stderr, "intern-stress: ops per thread:");
		for (unsigned i = 0; i < n; i++)
			fprintf(stderr, " %" PRIu64, atomic_load(&workers[i].ops));
		fprintf(stderr, "\n");
	}
	if (run_config.verbose > 20) {
		uint64_t per_op[OP__COUNT] = { 0 };

		for (unsigned i = 0; i < n; i++)
			for (unsigned o = 0; o < OP__COUNT; o++)
				per_op[o] += workers[i].op_count[o];
		fprintf(stderr, "intern-stress: ops by kind:");
		for (unsigned o = 0; o < OP__COUNT; o++)
			fprintf(stderr, " %s=%" PRIu64, worker_op_name((enum op)o), per_op[o]);
		fprintf(stderr, "\n");
	}
	/* Starvation is measured on timed runs of 1 s or more: with an op
	 * count every thread does its share and the slow ones only take
	 * longer, and on 2 cores shared by 8 threads a shorter window is a
	 * few scheduler slices, not a measure of fairness. */
	if (!timed || res->elapsed < 1.0 || run_config.starve <= 0 ||
	    (run_config.fail_fast && violations_total()))
		return;
	for (unsigned i = 0; i < n; i++) {
		uint64_t o = atomic_load(&workers[i].ops);

		if ((double)o < run_config.starve * res->mean)
			violation(V_STARVE,
				  "thread %u did %" PRIu64 " ops, %.1f%% of the mean %.0f", i, o,
				  100.0 * (double)o / res->mean, res->mean);
	}
}

static void workers_free(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		worker_fini(&workers[i]);
	free(workers);
	workers = NULL;
}

int session(unsigned nthreads, uint64_t total, double duration, bool storm, struct result *res)
{
	unsigned n = nthreads ? nthreads : 1;
	int rc;

	phase = "setup";
	rc = shared_open();
	if (rc)
		return rc;
	run_workers(nthreads, total, duration, storm, res);
	phase = "accounting";
	alarm((unsigned)(run_config.stall * 3 + 30));
	orphans_drain(UINT32_MAX);
	intern_barrier();
	report_threads(n, res, nthreads && duration > 0 && !total);
	if (!(run_config.fail_fast && violations_total()))
		shared_account();
	phase = "teardown";
	shared_free(run_config.interps); /* main() waits for the last frees */
	workers_free(n);
	alarm(0);
	phase = "done";
	return 0;
}

/* ---- options -------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: intern-stress [options]\n"
"  -t, --threads N        worker threads (8)\n"
"  -d, --duration SECS    run this long (default 5 s unless -n)\n"
"  -n, --ops N            run N operations in all (split evenly over threads)\n"
"  -i, --interps N        shared interpreters (2)\n"
"  -k, --keys N           random key-set size (4096)\n"
"      --dist D           uniform | zipf[:S] (S = 0.99 by default)\n"
"      --tokens FILE      keys = the identifier tokens of FILE, drawn in file order\n"
"      --len MIN:MAX      random key lengths (2:40)\n"
"      --poison-keys      keys are runs of 'k' (the freed-string poison byte) of\n"
"                         lengths MIN, MIN+1, ...: a lookup racing a free cannot\n"
"                         tell poisoned bytes from its key\n"
"      --mix SPEC         op weights, e.g. mortal=20,bytes=25,lookup=20,release=20\n"
"                         ops: mortal immortal bytes lookup incref release reintern\n"
"                         interp barrier inspect int auto (ops not named get 0)\n"
"      --hold N           references held per thread, a power of two (64)\n"
"      --immortal-frac F  fraction of keys intern_immortal may touch (0.0625)\n"
"      --private PCT      %% of ops on the thread's private interp (5)\n"
"      --recheck PCT      %% of acquired strings looked up again at once: a held\n"
"                         string must be found, and be the same object (10)\n"
"      --reborn PCT       after dropping what was likely a string's last reference,\n"
"                         intern the same bytes again at once, PCT%% of the time (0)\n"
"      --shards N         shards per shared interp (library default)\n"
"      --seed N           random seed (default: from the clock; printed)\n"
"      --progress SECS    progress line interval, 0 = none (1)\n"
"      --check-every SECS intern_interp_check on shared interps while running (0.5)\n"
"      --rebuild-every SECS rebuild one shard of each shared interp this often,\n"
"                         alternately under its own key and a fresh one (a\n"
"                         reseed), while workers run (0 = never, the default)\n"
"      --starve F         flag a thread below F x the mean ops (0.2)\n"
"      --stall SECS       no progress this long is a violation (10)\n"
"      --fail-fast        exit at the first violation, before the library can\n"
"                         crash on what it broke: the line names the check\n"
"      --profile NAME     churn: 8 poison keys of ~1000 bytes in one shard, 4 held\n"
"                         per thread, all mortal, --reborn 100, inspections: what\n"
"                         the busted variants are measured with.  Put it first:\n"
"                         later options override it\n"
"                         scope: churn, with scopes that borrow the dying keys\n"
"      --alloc-fail[=M]   allocation-failure injection: sweep (every k, then\n"
"                         persistent, one thread), storm (threads, random faults),\n"
"                         or both (default)\n"
"  -q, --quiet            no progress or per-thread lines\n"
"  -v, --verbose N        print the first N violations (20)\n"
"exit status: 0 clean, 1 violations, 2 usage or setup error\n");
}

static const char *const mix_names[OP__COUNT] = {
	"mortal",   "immortal", "bytes",   "lookup",  "incref", "release",
	"reintern", "interp",   "barrier", "inspect", "int",    "auto",
	"scope",
};

/*
 * Option values: the whole argument must be a number (no sign for counts;
 * a duration or fraction in [0, 1e9]).  A bad one is reported and marks
 * the command line bad, so the run never starts on a value strtoul()
 * would have read as 0 or as a huge count.
 */
static bool opt_bad;

static unsigned long long opt_ull(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || strchr(s, '-')) {
		fprintf(stderr, "intern-stress: not a count: '%s'\n", s);
		opt_bad = true;
	}
	return v;
}

static double opt_double(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0 && v <= 1e9)) {
		fprintf(stderr, "intern-stress: not a number in [0, 1e9]: '%s'\n", s);
		opt_bad = true;
	}
	return v;
}

static int parse_mix(const char *spec)
{
	char *copy = strdup(spec), *save = NULL;

	memset(run_config.weights, 0, sizeof(run_config.weights));
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		unsigned o;

		if (!eq)
			goto bad;
		*eq = 0;
		for (o = 0; o < OP__COUNT; o++)
			if (!strcmp(tok, mix_names[o]))
				break;
		if (o == OP__COUNT)
			goto bad;
		run_config.weights[o] = (unsigned)opt_ull(eq + 1);
	}
	free(copy);
	return 0;
bad:
	fprintf(stderr, "intern-stress: bad --mix item '%s'\n", spec);
	free(copy);
	return -1;
}

static void profile_churn(void)
{
	/*
	 * Every key dies and is reborn all the time, in one shard, while
	 * inspections hold the shard lock: the profile the busted variants
	 * are measured with (docs/busted.md explains each setting).  Eight
	 * poison keys ('k' x 1000..1007), four references held per thread,
	 * all mortal; a thread that drops a key's last reference interns it
	 * again at once; the mid-run check runs often.
	 */
	run_config.interps = 1;
	run_config.shards = 1;
	run_config.keys = 8;
	run_config.poison_keys = true;
	run_config.len_min = 1000;
	run_config.len_max = 1007;
	run_config.hold = 4;
	run_config.private_pct = 0;
	run_config.immortal_frac = 0;
	run_config.reborn_pct = 100;
	parse_mix("mortal=30,bytes=30,lookup=30,release=40,incref=5,reintern=5,inspect=10");
	run_config.check_every = 0.02;
	run_config.progress = 0;
}

/* The churn profile with scopes: borrowed keys die under their borrowers
 * all the time, which the scope_unguarded variant is measured with. */
static void profile_scope(void)
{
	profile_churn();
	parse_mix("mortal=30,bytes=30,lookup=30,release=40,incref=5,reintern=5,inspect=10,"
		  "scope=60");
	run_config.scope_slow_pct = 25;
}

enum {
	O_DIST = 256, O_TOKENS, O_POISONKEYS, O_LEN, O_MIX, O_HOLD, O_IMMFRAC, O_PRIVATE, O_SHARDS, O_SEED,
	O_RECHECK, O_REBORN, O_PROGRESS, O_CHECK, O_STARVE, O_STALL, O_FAILFAST,
	O_PROFILE, O_ALLOCFAIL, O_REBUILD,
};

static char alloc_fail_mode[16];

static int parse_options(int argc, char **argv, bool *have_seed)
{
	static const struct option opts[] = {
		{ "threads", required_argument, 0, 't' },
		{ "duration", required_argument, 0, 'd' },
		{ "ops", required_argument, 0, 'n' },
		{ "interps", required_argument, 0, 'i' },
		{ "keys", required_argument, 0, 'k' },
		{ "dist", required_argument, 0, O_DIST },
		{ "tokens", required_argument, 0, O_TOKENS },
		{ "len", required_argument, 0, O_LEN },
		{ "poison-keys", no_argument, 0, O_POISONKEYS },
		{ "mix", required_argument, 0, O_MIX },
		{ "hold", required_argument, 0, O_HOLD },
		{ "immortal-frac", required_argument, 0, O_IMMFRAC },
		{ "private", required_argument, 0, O_PRIVATE },
		{ "recheck", required_argument, 0, O_RECHECK },
		{ "reborn", required_argument, 0, O_REBORN },
		{ "shards", required_argument, 0, O_SHARDS },
		{ "seed", required_argument, 0, O_SEED },
		{ "progress", required_argument, 0, O_PROGRESS },
		{ "check-every", required_argument, 0, O_CHECK },
		{ "rebuild-every", required_argument, 0, O_REBUILD },
		{ "starve", required_argument, 0, O_STARVE }, { "stall", required_argument, 0, O_STALL },
		{ "fail-fast", no_argument, 0, O_FAILFAST },
		{ "profile", required_argument, 0, O_PROFILE },
		{ "alloc-fail", optional_argument, 0, O_ALLOCFAIL },
		{ "quiet", no_argument, 0, 'q' },
		{ "verbose", required_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	bool keys_given = false;
	int c;

	while ((c = getopt_long(argc, argv, "t:d:n:i:k:qv:h", opts, NULL)) != -1) {
		switch (c) {
		case 't': run_config.threads = (unsigned)opt_ull(optarg); break;
		case 'd': run_config.duration = opt_double(optarg); break;
		case 'n': run_config.ops = opt_ull(optarg); break;
		case 'i': run_config.interps = (unsigned)opt_ull(optarg); break;
		case 'k': run_config.keys = (uint32_t)opt_ull(optarg); keys_given = true; break;
		case O_DIST:
			if (!strcmp(optarg, "uniform")) {
				run_config.dist = DIST_UNIFORM;
			} else if (!strncmp(optarg, "zipf", 4)) {
				run_config.dist = DIST_ZIPF;
				if (optarg[4] == ':')
					run_config.zipf_s = opt_double(optarg + 5);
			} else {
				fprintf(stderr, "intern-stress: bad --dist %s\n", optarg);
				return -1;
			}
			break;
		case O_TOKENS:
			run_config.tokens = optarg;
			run_config.dist = DIST_STREAM;
			break;
		case O_POISONKEYS: run_config.poison_keys = true; break;
		case O_LEN:
			if (sscanf(optarg, "%u:%u", &run_config.len_min, &run_config.len_max) !=
				    2 ||
			    run_config.len_min > run_config.len_max) {
				fprintf(stderr, "intern-stress: bad --len %s\n", optarg);
				return -1;
			}
			break;
		case O_MIX:
			if (parse_mix(optarg))
				return -1;
			break;
		case O_HOLD: run_config.hold = (unsigned)strtoul(optarg, NULL, 0); break;
		case O_IMMFRAC: run_config.immortal_frac = strtod(optarg, NULL); break;
		case O_PRIVATE: run_config.private_pct = (unsigned)strtoul(optarg, NULL, 0); break;
		case O_RECHECK: run_config.recheck_pct = (unsigned)strtoul(optarg, NULL, 0); break;
		case O_REBORN: run_config.reborn_pct = (unsigned)strtoul(optarg, NULL, 0); break;
		case O_SHARDS: run_config.shards = (unsigned)strtoul(optarg, NULL, 0); break;
		case O_SEED: run_config.seed = strtoull(optarg, NULL, 0); *have_seed = true; break;
		case O_PROGRESS: run_config.progress = strtod(optarg, NULL); break;
		case O_CHECK: run_config.check_every = strtod(optarg, NULL); break;
		case O_REBUILD: run_config.rebuild_every = strtod(optarg, NULL); break;
		case O_STARVE: run_config.starve = strtod(optarg, NULL); break;
		case O_STALL: run_config.stall = strtod(optarg, NULL); break;
		case O_FAILFAST: run_config.fail_fast = true; break;
		case O_PROFILE:
			if (!strcmp(optarg, "churn")) {
				profile_churn();
			} else if (!strcmp(optarg, "scope")) {
				profile_scope();
			} else {
				fprintf(stderr, "intern-stress: unknown profile %s\n", optarg);
				return -1;
			}
			break;
		case O_ALLOCFAIL:
			run_config.alloc_fail = true;
			snprintf(alloc_fail_mode, sizeof(alloc_fail_mode), "%s",
				 optarg ? optarg : "both");
			break;
		case 'q': run_config.quiet = true; break;
		case 'v': run_config.verbose = (unsigned)opt_ull(optarg); break;
		case 'h': usage(stdout); exit(0);
		default: return -1; /* getopt said what */
		}
	}
	if (opt_bad)
		return -1;
	if (optind < argc) {
		fprintf(stderr, "intern-stress: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	if (run_config.alloc_fail && !keys_given)
		run_config.keys = 128; /* a small set: repeated keys, hits as well as inserts */
	if (!run_config.duration && !run_config.ops)
		run_config.duration = 5;
	if (run_config.threads < 1 || run_config.threads > 4096 || run_config.interps < 1 ||
	    run_config.interps > 1024 || run_config.keys < 1 || !run_config.hold ||
	    (run_config.hold & (run_config.hold - 1)) || run_config.private_pct > 100 ||
	    run_config.recheck_pct > 100 || run_config.reborn_pct > 100) {
		fprintf(stderr, "intern-stress: bad option value (see --help)\n");
		return -1;
	}
	if (run_config.alloc_fail && strcmp(alloc_fail_mode, "sweep") &&
	    strcmp(alloc_fail_mode, "storm") && strcmp(alloc_fail_mode, "both")) {
		fprintf(stderr, "intern-stress: --alloc-fail=sweep|storm|both\n");
		return -1;
	}
	bool any = false;
	for (unsigned o = 0; o < OP__COUNT; o++)
		any |= run_config.weights[o] != 0;
	if (!any) {
		fprintf(stderr, "intern-stress: --mix gives every op weight 0\n");
		return -1;
	}
	return 0;
}

/* ---- main ------------------------------------------------------------------------ */

/* The one summary line, on stdout (progress and violations go to stderr). */
static void print_summary(const struct result *res, uint32_t nkeys, unsigned long allocs)
{
	uint64_t v = violations_total();
	char counts[256], extra[64] = "";
	size_t off = 0;

	for (unsigned i = 0; i < V__COUNT; i++)
		off += (size_t)snprintf(counts + off, sizeof(counts) - off, "%s%s=%" PRIu64,
					i ? " " : "", viol_name[i], atomic_load(&viol_count[i]));
	if (run_config.alloc_fail)
		snprintf(extra, sizeof(extra), " alloc-fail=%s enomem=%" PRIu64, alloc_fail_mode,
			 res->enomem);
	printf("intern-stress: %s ops=%" PRIu64 " time=%.2fs rate=%.2fMops/s threads=%u "
	       "interps=%u keys=%u thread-ops min/mean/max=%" PRIu64 "/%.0f/%" PRIu64 "%s "
	       "lib-allocs=%lu deaths~%" PRIu64 " violations=%" PRIu64 " (%s) seed=%" PRIu64 "\n",
	       v ? "FAIL" : "PASS", res->ops, res->elapsed,
	       res->elapsed > 0 ? (double)res->ops / res->elapsed / 1e6 : 0.0, run_config.threads,
	       run_config.interps, nkeys, res->ops ? res->min : 0, res->mean, res->max, extra,
	       allocs, res->deaths, v, counts, run_config.seed);
}

int main(int argc, char **argv)
{
	unsigned long allocs = intern__alloc_count();
	bool have_seed = false, sweep, storm;
	struct result res = { 0 };
	uint64_t sweep_enomem = 0;
	uint32_t nkeys;

	setvbuf(stderr, NULL, _IOLBF, 0);
	if (parse_options(argc, argv, &have_seed)) {
		usage(stderr);
		return 2;
	}
	if (!have_seed)
		run_config.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (keys_init())
		return 2;
	worker_weights_init();
	install_handlers();

	sweep = run_config.alloc_fail && strcmp(alloc_fail_mode, "storm");
	storm = run_config.alloc_fail && strcmp(alloc_fail_mode, "sweep");
	if (sweep) {
		phase = "alloc-fail sweep";
		allocfail_sweep(&sweep_enomem);
	}
	if ((!run_config.alloc_fail || storm) &&
	    session(run_config.threads, run_config.ops, run_config.duration, storm, &res)) {
		fprintf(stderr, "intern-stress: cannot create the shared interps\n");
		return 2;
	}
	res.enomem += sweep_enomem;
	allocs = intern__alloc_count() - allocs;
	nkeys = all_keys.ndraw;
	keys_fini();
	intern_barrier(); /* every deferred free done: a leak checker sees all */
	print_summary(&res, nkeys, allocs);
	return violations_total() ? 1 : 0;
}
