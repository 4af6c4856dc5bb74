/*
 * torture.h: what the files of intern-stress share.
 *
 * intern-stress is libintern's torture test, modelled on Linux's rcutorture
 * and liburcu's test_urcu_hash: N threads hammer one or more interpreters
 * with a configurable mix of operations while every result is checked
 * against what a correct interner must give.  The files:
 *
 *   main.c       options, setup, the progress loop, end-of-run accounting,
 *                the summary line
 *   keys.c       the key set (random, or the tokens of a file) and how keys
 *                are drawn (uniform, Zipf, the file's own token stream)
 *   worker.c     one thread's operation loop, the references it holds, and
 *                the shared key slots that prove uniqueness
 *   check.c      checking one returned string; counting and printing
 *                violations
 *   allocfail.c  the allocation-failure modes (--alloc-fail)
 *
 * Nothing here is libintern API.  The harness reads a few fields of
 * struct intern_str directly (the count, the owner) because it checks what
 * the accessors cannot show; it reads them atomically and only to check.
 */
#ifndef TORTURE_H
#define TORTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "intern.h"

/* ---- options ------------------------------------------------------------ */

enum op {
	OP_MORTAL,   /* intern_str_new + intern_mortal */
	OP_IMMORTAL, /* intern_str_new + intern_immortal (immortal-eligible keys) */
	OP_BYTES,    /* intern_bytes */
	OP_LOOKUP,   /* intern_lookup */
	OP_INCREF,   /* take or drop one more reference to a held string */
	OP_RELEASE,  /* drop every reference to one held string */
	OP_REINTERN, /* intern_mortal on a held string, same or another interp */
	OP_INTERP,   /* free this thread's private interp and make a new one */
	OP_BARRIER,  /* intern_barrier */
	OP_INSPECT,  /* intern_interp_check or _stats on a shared interp */
	OP_INT,      /* intern_int for a decimal key (else intern_bytes) */
	OP_AUTO,     /* intern_auto: interned iff the key is an identifier */
	OP_SCOPE,    /* a scope: borrow keys, drop a reference, recheck, promote */
	OP__COUNT,
};

enum dist {
	DIST_UNIFORM,
	DIST_ZIPF,
	DIST_STREAM
};

struct config {
	unsigned threads;
	double duration;  /* seconds; 0 = until ops are done */
	uint64_t ops;     /* total operations; 0 = until duration */
	unsigned interps; /* shared interpreters */
	uint32_t keys;    /* key-set size (random keys) */
	enum dist dist;
	double zipf_s;
	const char *tokens; /* file whose tokens are the keys */
	uint32_t len_min, len_max;
	bool poison_keys; /* keys are runs of the poison byte 'k' */
	unsigned weights[OP__COUNT];
	unsigned hold;        /* hand slots per thread, a power of two */
	double immortal_frac; /* fraction of keys intern_immortal may touch */
	unsigned private_pct; /* % of ops on the thread's private interp */
	unsigned recheck_pct; /* % of acquisitions looked up again at once */
	unsigned reborn_pct;  /* % of likely deaths followed by a re-intern */
	unsigned scope_slow_pct; /* % of scope ops that sleep 2 ms a round */
	unsigned shards;
	uint64_t seed;
	double progress;          /* seconds between progress lines; 0 = none */
	double check_every;       /* seconds between mid-run intern_interp_check */
	double rebuild_every;     /* seconds between forced rebuilds, reseeds; 0 = none */
	double starve;            /* a thread below starve * mean ops starves */
	double stall;             /* seconds without progress = a stall */
	bool fail_fast;
	bool quiet;
	unsigned verbose; /* violation messages printed (then counted) */
	/* --alloc-fail */
	bool alloc_fail; /* ENOMEM is an allowed outcome */
};

extern struct config run_config;

/* ---- keys (keys.c) ------------------------------------------------------ */

enum key_kind {
	KEY_DYNAMIC,   /* interned as a dynamic string */
	KEY_STATIC,    /* the bytes of one of the harness's static strings */
	KEY_SINGLETON, /* a built-in singleton: 0 or 1 byte, a small integer */
};

struct keyset {
	uint32_t n;
	uint32_t ndraw;      /* uniform and Zipf draw keys [0, ndraw) */
	uint32_t *off, *len; /* bytes of key i: bytes + off[i], len[i] */
	char *bytes;
	uint8_t *kind;   /* enum key_kind */
	uint8_t *imm_ok; /* intern_immortal may be used on it */
	uint8_t *ident;  /* intern_auto interns it */
	uint8_t *is_int; /* canonical decimal text of ival[k] */
	long long *ival;
	struct intern_str **obj; /* the static object or singleton, else NULL */
	double *cdf;             /* DIST_ZIPF */
	uint32_t *stream;        /* DIST_STREAM: the file's tokens, in order */
	size_t nstream;
};

extern struct keyset all_keys;

#define NSTATIC 8
extern struct intern_str *static_obj[NSTATIC];

int keys_init(void);
void keys_fini(void);
static inline const char *key_data(uint32_t k)
{
	return all_keys.bytes + all_keys.off[k];
}

/* Draw a key; `pos` is the thread's position in the token stream. */
uint32_t key_draw(uint64_t *rng, size_t *pos);

/* ---- random numbers ----------------------------------------------------- */

/* splitmix64: fast, good enough, a 64-bit state per thread. */
static inline uint64_t splitmix64_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((splitmix64_next(s) >> 32) * (uint64_t)n) >> 32);
}

/* ---- interpreters under test -------------------------------------------- */

/*
 * A shared interpreter.  slot[k] proves uniqueness: it packs the pointer
 * that the current holders of key k hold (low 48 bits) with how many hand
 * entries hold it (high 16 bits).  A holder registers after its call
 * returned and unregisters before it drops the reference, so any two
 * holders registered at once held their references at once; their
 * pointers must then be equal.  One atomic word makes the comparison and
 * the count one indivisible step.
 */
struct tinterp {
	struct intern_interp *ip;
	uint16_t owner;         /* ob_owner of its strings */
	_Atomic uint64_t *slot; /* [all_keys.n] */
	_Atomic uint8_t *imm;   /* [all_keys.n]: made immortal here by the harness */
};

extern struct tinterp *shared_interps;

#define SLOT_PTR_MASK ((UINT64_C(1) << 48) - 1)
#define SLOT_ONE (UINT64_C(1) << 48)

/* The probe string every interp gets immortal, to learn its owner id. */
#define PROBE_TEXT "intern-stress owner probe"

/* Make an interp ready for the harness: statics registered, probe interned.
 * Returns 0, or -errno (alloc-fail mode) after freeing it. */
int tinterp_setup(struct intern_interp *ip, uint16_t *owner);

/* ---- violations (check.c) ------------------------------------------------ */

enum viol {
	V_UNIQUE,  /* two objects for equal bytes held at once */
	V_DEAD,    /* a returned or held string is dead, freed or poisoned */
	V_CONTENT, /* wrong length or bytes */
	V_STATE,   /* wrong state, owner, or static/singleton identity */
	V_LOOKUP,  /* a lookup missed a string that was held throughout */
	V_ERROR,   /* an unexpected error, or *p changed on failure */
	V_ACCOUNT, /* counts, intern_interp_check, leaks */
	V_STARVE,  /* a thread made too little progress */
	V_STALL,   /* no progress at all */
	V__COUNT,
};

extern _Atomic uint64_t viol_count[V__COUNT];
extern const char *const viol_name[V__COUNT];

__attribute__((format(printf, 2, 3))) void violation(enum viol v, const char *fmt, ...);
uint64_t violations_total(void);

enum want {
	WANT_INTERNED, /* MORTAL or IMMORTAL (or the static/singleton) */
	WANT_IMMORTAL, /* IMMORTAL (or the static/singleton) */
	WANT_ORPHAN,   /* MORTAL or NOT_INTERNED: its interp is being freed */
	WANT_FREED,    /* NOT_INTERNED: its interp was freed */
};

/*
 * Check one string that the caller holds a reference to, as key `k` of
 * the interp whose strings carry owner id `owner`.  Returns true if it is
 * sound; false after reporting a violation (the caller must then not touch
 * the string again: it may be freed memory).
 */
bool check_str(const struct intern_str *s, uint32_t k, uint16_t owner, enum want want,
	       const char *ctx);

/* ---- workers (worker.c) -------------------------------------------------- */

struct held {
	struct intern_str *s;
	uint32_t key;
	uint16_t where;     /* shared interp index, or WHERE_PRIVATE */
	uint8_t nref;       /* references held */
	uint8_t registered; /* counted in the shared slot */
};

#define WHERE_PRIVATE 0xffffu
#define NREF_MAX 4

struct worker {
	unsigned id;
	pthread_t thread;
	uint64_t rng;
	size_t pos;               /* token stream position */
	uint64_t quota;           /* ops to run; UINT64_MAX = until stopped */
	pthread_barrier_t *start; /* all workers start at once */
	struct held *hand;        /* [run_config.hold], direct-mapped by (where, key) */
	/* the private interp: used by this thread only */
	struct intern_interp *pip;
	uint16_t powner;
	uint8_t *pimm; /* bitmap: keys made immortal in pip */
	uint32_t pimm_count;
	uint64_t op_count[OP__COUNT];
	uint64_t enomem; /* clean ENOMEM failures (alloc-fail mode) */
	uint64_t churns;
	uint64_t deaths; /* last holder dropped a mortal string */
	_Atomic uint64_t ops __attribute__((aligned(64)));
	_Atomic int done;
} __attribute__((aligned(64)));

extern struct worker *workers;
extern atomic_bool stop_workers;

void worker_weights_init(void);
int worker_init(struct worker *w);
void worker_fini(struct worker *w);
/* Run w->quota operations or until `stop_workers`, then drop every reference. */
void worker_run(struct worker *w);
const char *worker_op_name(enum op op);

/* Orphans: mortal strings of a freed private interp, decref'd by others. */
void orphans_drain(unsigned max);
void orphans_init(void);

/* ---- allocation failure (allocfail.c) ------------------------------------ */

/* The single-threaded sweep: every k, then persistent.  Adds the clean
 * ENOMEM failures it saw to *enomem; returns its violations. */
int allocfail_sweep(uint64_t *enomem);
/* Arm faults at random from the main thread while workers run. */
void allocfail_storm_tick(uint64_t *rng, double now);

/* ---- sessions (main.c) ----------------------------------------------------- */

struct result {
	uint64_t ops, min, max;
	double elapsed, mean;
	uint64_t enomem, churns, deaths;
};

/*
 * One whole session: create the shared interps, run `nthreads` workers
 * (0: one worker, inline in this thread) for `total` operations or
 * `duration` seconds (0 = no limit), audit, free everything.  With `storm`
 * the main thread injects allocation failures meanwhile.  Returns 0, or
 * -ENOMEM when the setup failed cleanly under fault injection.
 */
int session(unsigned nthreads, uint64_t total, double duration, bool storm, struct result *res);

/* ---- misc ---------------------------------------------------------------- */

double now_sec(void);
extern double run_t0; /* when the workers started */
int stats_of(struct intern_interp *ip, struct intern_stats *st);

#endif
