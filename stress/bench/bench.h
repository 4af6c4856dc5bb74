/*
 * bench.h: what the parts of intern-bench share.
 *
 * intern-bench measures libintern against the interners an application
 * would otherwise use, in one process and one run, each baseline with the
 * fast hash its users would give it (bench_hash below).  Four pieces meet
 * here:
 *
 *   - implementations (struct bench_impl): libintern and the baselines, one
 *     vtable each, in impl-libintern.c and baseline-*.c;
 *   - workloads (struct bench_workload): record streams the threads replay,
 *     built by workloads.c;
 *   - the driver (bench.c): options, threads on a barrier, repetitions;
 *   - the report (report.c): table, CSV, Markdown, plots and targets.
 *
 * A handle is what an implementation's intern() returns: its canonical
 * object for the string.  The driver never looks inside one; it only hands
 * it back to release().
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xxhash.h>

#include "hash.h"

/* ---------------------------------------------------------------------------
 * Record streams
 * ------------------------------------------------------------------------- */

/*
 * A stream of strings laid out as the threads read them: records of
 * [length byte][bytes][NUL], back to back, so replaying one is a sequential
 * walk (as a tokenizer reads its input) and every string is NUL-terminated
 * for g_intern_string().  Strings are 1..255 bytes.
 */
struct bench_stream {
	unsigned char *bytes;
	size_t size;   /* bytes of records */
	size_t count;  /* records */
	size_t *marks; /* byte offset of record k * BENCH_MARK_EVERY */
	size_t nmarks;
	size_t string_bytes; /* sum of len + 1 over the records */
	size_t cap, marks_cap;
};

#define BENCH_MARK_EVERY 256
#define BENCH_STR_MAX 255

void bench_stream_init(struct bench_stream *st);
void bench_stream_push(struct bench_stream *st, const char *s, size_t len);
void bench_stream_free(struct bench_stream *st);

/*
 * Slice `i` of `n` roughly equal slices (cut at marks): returns the byte
 * offset of its first record and stores that record's index in *record.
 * i == n gives the end (size, count).
 */
size_t bench_stream_slice(const struct bench_stream *st, unsigned i, unsigned n, size_t *record);

/* ---------------------------------------------------------------------------
 * Workloads
 * ------------------------------------------------------------------------- */

enum bench_op {
	/* intern, then release the handle (when it carries a reference) */
	BENCH_OP_HIT,
	/* intern and keep the handle until the repetition ends; each thread
	 * owns a slice of the stream and stops at its end */
	BENCH_OP_KEEP,
};

struct bench_workload {
	const char *name;
	const char *about; /* one line: what an op is */
	enum bench_op op;
	bool counted;                /* baselines count references; entries die at 0 */
	bool fresh_table;            /* a new, empty table for every repetition */
	bool hits;                   /* every op finds a pre-interned key */
	bool memory;                 /* measure bytes per entry while preloading */
	bool scoped;                 /* hot mortal strings: counted, every op a hit
				      * on a preloaded key the benchmark holds (none
				      * dies), so libintern's immortal and scoped rows
				      * run it too; the ratios use the mortal row */
	size_t expected;             /* most entries the table will hold */
	struct bench_stream preload; /* distinct keys interned before timing */
	struct bench_stream stream;  /* what the threads replay */
};

struct bench_options; /* bench.c */

/*
 * Build the workloads the options ask for, in report order.  Returns the
 * number built; *out is an array the caller frees with
 * bench_workloads_free().  Dies on a token file it cannot read.
 */
size_t bench_workloads_build(const struct bench_options *opt, struct bench_workload **out);
void bench_workloads_free(struct bench_workload *w, size_t n);

/* ---------------------------------------------------------------------------
 * The baselines' hash
 * ------------------------------------------------------------------------- */

/*
 * The hash every baseline table files a string under (GLib keeps its own):
 * by default XXH3-64 from the system's libxxhash, the fast hash a user of
 * a mutex-guarded table, cds_lfht or ck_hs would give it; with --same-hash
 * (bench_same_hash set), libintern's own process hash, so that the rows
 * differ only in their concurrency.  Folded to 32 bits like libintern's.
 */
extern bool bench_same_hash;

static inline uint32_t bench_hash(const char *s, size_t len)
{
	uint64_t h;

	if (bench_same_hash)
		return intern__hash(s, len);
	h = XXH3_64bits(s, len);
	return (uint32_t)(h ^ (h >> 32));
}

/* ---------------------------------------------------------------------------
 * Implementations
 * ------------------------------------------------------------------------- */

typedef const void *bench_intern_fn(void *tab, const char *s, size_t len);
typedef void bench_release_fn(void *tab, const void *h);

struct bench_table_config {
	size_t expected; /* most entries it will hold: tables that cannot resize
			  * are presized to it, the others grow */
	bool counted;    /* handles carry a counted reference; an entry leaves
			  * the table when its last one is released */
	const struct bench_workload *workload; /* what it will replay */
};

enum bench_role {
	BENCH_ROLE_LIBINTERN,        /* the reference row for immortal workloads */
	BENCH_ROLE_LIBINTERN_MORTAL, /* the reference row for counted workloads */
	BENCH_ROLE_LIBINTERN_SCOPED, /* borrowed references in a scope: no target
				      * of its own but the hot mortal one */
	BENCH_ROLE_LIMIT,            /* unsynchronized: one thread, a ceiling */
	BENCH_ROLE_BASELINE,
	BENCH_ROLE_MAP, /* a map lookup, not an interner: no target */
};

/* Every handle carries a reference, whatever the table mode (libintern). */
#define BENCH_CAP_ALWAYS_REFS 0x1u
/* intern()'s handles are borrowed for the op and carry nothing (libintern's
 * scoped row); intern_keep()'s, the preload's, carry a reference still. */
#define BENCH_CAP_BORROWED 0x2u

struct bench_impl {
	const char *name;
	const char *about;
	enum bench_role role;
	unsigned caps;

	/* NULL, or why this implementation cannot run workload `w`. */
	const char *(*unsupported)(const struct bench_workload *w);

	/* A new table; dies on failure.  Called from the main thread. */
	void *(*create)(const struct bench_table_config *cfg);
	/* Free the table and every entry.  No handle is used afterwards. */
	void (*destroy)(void *tab);

	/* Run on each worker thread before / after its first / last op. */
	void (*thread_enter)(void);
	void (*thread_exit)(void);

	/* The canonical handle for `len` bytes at `s` (NUL-terminated),
	 * inserted if absent; NULL only when memory is exhausted. */
	bench_intern_fn *intern;
	/* Same, for strings the application keeps for the table's life
	 * (preloads, the misses workload); NULL: use intern(). */
	bench_intern_fn *intern_keep;
	/* Drop the reference a handle carries (see BENCH_CAP_ALWAYS_REFS and
	 * bench_table_config.counted). */
	bench_release_fn *release;
	/* Wait until deferred frees have run; NULL: none are deferred. */
	void (*quiesce)(void *tab);
	/* NULL, or the bytes the implementation itself accounts for beyond
	 * the strings' bytes and NULs (headers, slot arrays), not counting
	 * what malloc adds; returns the entry count, 0 if unknown. */
	size_t (*own_bytes)(void *tab, double *bytes);
};

/* Each baseline file exports its rows; the GLib one only when built. */
extern const struct bench_impl bench_impl_libintern;
extern const struct bench_impl bench_impl_libintern_mortal;
extern const struct bench_impl bench_impl_libintern_scoped;
extern const struct bench_impl bench_impl_limit;
extern const struct bench_impl bench_impl_mutex;
extern const struct bench_impl bench_impl_rwlock;
extern const struct bench_impl bench_impl_lfht;
extern const struct bench_impl bench_impl_ckhs;
extern const struct bench_impl bench_impl_intern_map;
extern const struct bench_impl bench_impl_content_map;
#ifdef BENCH_HAVE_GLIB
extern const struct bench_impl bench_impl_glib;
#endif

/* The file libintern's intern_bytes was loaded from (the shared library,
 * unless the build linked the static copy into the benchmark), and whether
 * it counts its lookups. */
const char *bench_libintern_origin(void);

/*
 * A set of distinct strings for building workloads (deduplicating tokens,
 * checking generated keys): the baselines' own open-addressing table, used
 * unsynchronized, so the program has one table implementation.
 * bench_set_add returns true when the string was not in the set yet.
 */
struct bench_set;
struct bench_set *bench_set_new(void);
bool bench_set_add(struct bench_set *set, const char *s, size_t len);
void bench_set_free(struct bench_set *set);

/*
 * Take a counted reference unless the count is already 0 (the entry is
 * dying and its releaser will unlink and free it): the Linux kernel's
 * kref_get_unless_zero.  Relaxed is enough: the caller reached the entry
 * through a table that published it (release/acquire there), and the
 * count is the only field written after publication.  What it prevents:
 * reviving an entry whose releaser already decided to free it
 * (RUSTSEC-2020-0017).
 */
static inline bool bench_ref_get_unless_zero(_Atomic uint32_t *count)
{
	uint32_t c = atomic_load_explicit(count, memory_order_relaxed);

	do {
		if (c == 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(count, &c, c + 1, memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

/*
 * Drop a counted reference; true when it was the last.  Release ordering
 * so this thread's reads of the entry happen before another thread frees
 * it; the caller that gets true issues an acquire fence before unlinking
 * and freeing, so it sees every other holder's accesses as finished.
 */
static inline bool bench_ref_put(_Atomic uint32_t *count)
{
	if (atomic_fetch_sub_explicit(count, 1, memory_order_release) != 1)
		return false;
	atomic_thread_fence(memory_order_acquire);
	return true;
}

/* ---------------------------------------------------------------------------
 * Results and the report
 * ------------------------------------------------------------------------- */

#define BENCH_MAX_THREADS_LIST 16
#define BENCH_MAX_REPS 64

enum bench_cell_status {
	BENCH_CELL_NOT_RUN = 0, /* not asked for (the limit above 1 thread) */
	BENCH_CELL_OK,
	BENCH_CELL_SKIPPED, /* the implementation cannot do the workload */
};

struct bench_cell {
	enum bench_cell_status status;
	unsigned nreps;
	double mops[BENCH_MAX_REPS]; /* per repetition, sorted once done */
	double median, min, max;     /* Mops/s */
	/* CPU time other processes (and the hypervisor's steal) used while
	 * this cell's repetitions ran, over all the machine's CPU time then:
	 * a cell measured on a busy machine shows it.  < 0: unknown. */
	double others_ns, capacity_ns;
	double others;
	bool exhausted; /* a thread ran out of its slice early */
};

struct bench_memory {
	bool measured;
	size_t entries;
	double mean_string;     /* mean len + 1 */
	double bytes_per_entry; /* beyond the string's bytes and NUL */
	double own_per_entry;   /* by its own accounting; < 0: none */
};

/* A repetition during which other processes used more than this share of
 * the machine's CPU time was measured on a busy machine. */
#define BENCH_BUSY 0.10

struct bench_options {
	const char *mode; /* "quick" or "full" */
	unsigned threads[BENCH_MAX_THREADS_LIST];
	unsigned nthreads;
	unsigned reps;
	unsigned retries; /* re-runs of a busy repetition, at most */
	double slice_s;   /* seconds per repetition */
	bool pin;
	bool same_hash; /* --same-hash: every table on libintern's hash */
	unsigned ncpus;
	size_t small_keys, large_keys, churn_keys, misses_keys;
	size_t tokens_max;
	const char **token_paths;
	size_t ntoken_paths;
	const char *only_workloads; /* comma list, or NULL for all */
	const char *only_impls;
	const char *csv_path, *md_path, *plots_dir;
	char *command; /* the command line, for the report */
};

struct bench_report {
	const struct bench_options *opt;
	const struct bench_workload *workloads;
	size_t nworkloads;
	const struct bench_impl *const *impls;
	size_t nimpls;
	/* cells[(w * nimpls + i) * nthreads + t] */
	struct bench_cell *cells;
	const char **skip_reason;    /* [w * nimpls + i], NULL if it ran */
	struct bench_memory *memory; /* [i] */
	struct bench_cell *machine;  /* [t]: the hash alone, no table */
	size_t retried;              /* busy repetitions run again */
	double retry_s_left;         /* the run's time budget for that */
	double elapsed_s;
};

static inline struct bench_cell *bench_cell_at(const struct bench_report *r, size_t w, size_t i,
					       size_t t)
{
	return &r->cells[(w * r->nimpls + i) * r->opt->nthreads + t];
}

/* Which hash the baselines ran with, in words (bench_hash). */
const char *bench_hash_mode(const struct bench_options *o);

/* Print the table and targets to stdout; write CSV, Markdown and plots
 * where the options ask for them.  Returns 0, or 1 if gnuplot failed. */
int bench_report_write(const struct bench_report *r);

/* ---------------------------------------------------------------------------
 * Utilities
 * ------------------------------------------------------------------------- */

__attribute__((noreturn, format(printf, 1, 2))) void bench_die(const char *fmt, ...);
/* A bad command line: the message and the usage on stderr, exit status 2. */
__attribute__((noreturn, format(printf, 1, 2))) void bench_usage_error(const char *fmt, ...);
void *bench_xmalloc(size_t n);
void *bench_xcalloc(size_t n, size_t size);
void *bench_xrealloc(void *p, size_t n);
uint64_t bench_now_ns(void);

/* Whether `name` is an item of the comma-separated `list` (NULL: all). */
bool bench_in_list(const char *list, const char *name);

/* splitmix64: the benchmark's only random source, seeded for repeatable
 * workloads. */
static inline uint64_t bench_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
