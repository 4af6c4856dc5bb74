/*
 * intern-private.h: what libintern's source files share with each other and
 * with the white-box tests.  Nothing here is API.
 *
 * Names: `intern_` is public, `intern__` is private across files, plain
 * `static` helpers carry no prefix.
 */
#ifndef INTERN_PRIVATE_H
#define INTERN_PRIVATE_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "intern.h"
#include "thread.h"

/* Wraps every exported definition; the version script lists the same set. */
#define INTERN_API INTERN_EXPORT

#define INTERN_CACHELINE 64

/* Poison written over freed strings: the count and the state in every
 * build (two stores; the allocator may overwrite them, see str.c), the
 * bytes in checking builds (assertions on). */
#define INTERN__POISON_REFCNT 0xdeadbeefu
#define INTERN__POISON_STATE 0xffu
#define INTERN__POISON_BYTE 0x6b

/* Reference counts at or above INTERN__REF_LIMIT are saturated: the string
 * is pinned (never freed: a leak, not a use after free), as the Linux
 * kernel's refcount_t.  An increment that reaches the limit stores
 * INTERN__REF_SATURATED, half-way to the wrap, and decrements and
 * increments of a saturated count store it again.  2^31 references are not
 * held by a correct program; a leak of references is. */
#define INTERN__REF_LIMIT 0x80000000u
#define INTERN__REF_SATURATED 0xc0000000u

/* ---- diagnostics -------------------------------------------------------- */

/* Print "libintern: <msg>" and abort: for broken invariants only. */
__attribute__((noreturn, format(printf, 1, 2))) void intern__die(const char *fmt, ...);

/* A misuse the library detected and survives (a decref past zero, a freed
 * or foreign object given to incref/decref): a checking build (NDEBUG
 * undefined) dies as intern__die(); a release build prints
 * "libintern: <msg> (ignored)" for the first few and returns, and the
 * caller then does nothing. */
__attribute__((format(printf, 1, 2))) void intern__misuse(const char *fmt, ...);

/* ---- string objects (str.c, singletons.c) ------------------------------- */

static inline const char *intern__data(const struct intern_str *s)
{
	return (const char *)(s + 1);
}

static inline uint8_t intern__state(const struct intern_str *s)
{
	return __atomic_load_n(&s->ob_state, __ATOMIC_ACQUIRE);
}

static inline bool intern__is_static(const struct intern_str *s)
{
	return (s->ob_flags & INTERN_STR_F_STATIC) != 0;
}

/* Inside a mapped snapshot: static, but only as long as its mapping. */
static inline bool intern__is_mapped(const struct intern_str *s)
{
	return (s->ob_flags & INTERN_STR_F_MAPPED) != 0;
}

/* Could `s` be a live libintern string?  Its state and flags are among the
 * defined ones, its length in range.  A freed string usually fails: free()
 * poisons the state, and glibc's allocator overwrites the header's second
 * word with a random key (tcache) or a pointer (bins).  A cheap filter for
 * bad input, not a proof. */
static inline bool intern__str_sane(const struct intern_str *s)
{
	return __atomic_load_n(&s->ob_state, __ATOMIC_RELAXED) <= INTERN_IMMORTAL_STATIC &&
	       (s->ob_flags == 0 || s->ob_flags == INTERN_STR_F_STATIC ||
		s->ob_flags == (INTERN_STR_F_STATIC | INTERN_STR_F_MAPPED)) &&
	       s->ob_len <= INTERN_STR_MAX_LEN;
}

/* May `len` bytes at `data` become a string?  0, -EINVAL (NULL data with a
 * length) or -EOVERFLOW (longer than INTERN_STR_MAX_LEN).  Every call that
 * takes bytes asks this first. */
static inline int intern__check_bytes(const char *data, size_t len)
{
	if (!data && len)
		return -EINVAL;
	if (len > INTERN_STR_MAX_LEN)
		return -EOVERFLOW;
	return 0;
}

/* A new NOT_INTERNED string with count 1 and the given hash; NULL: out of
 * memory (errno is not set: the public constructor that called says). */
struct intern_str *intern__str_alloc(const char *data, size_t len, uint32_t hash);

/* Poison (checking builds) and free a dynamic string nobody can reach. */
void intern__str_destroy(struct intern_str *s);

/* Free the memory of a dynamic string of `len` bytes, header unread (it
 * may be overwritten): the other half of intern__str_alloc(), which any
 * code that keeps dead strings' memory for itself frees them with. */
void intern__str_free_mem(struct intern_str *s, size_t len);

/* The poisoning alone: the memory stays the caller's (rcu.c's reuse). */
void intern__str_poison(struct intern_str *s);

/* The built-in singleton for a 0- or 1-byte string. */
struct intern_str *intern__singleton(const char *data, size_t len);

/* ---- small-integer strings (smallint.c) --------------------------------- */

/* The build-time range, from meson's small_int_min/small_int_max (always
 * [min <= 0, max >= 9]: the digits are the one-byte singletons). */
#if !defined(INTERN_SMALL_INT_MIN) || !defined(INTERN_SMALL_INT_MAX)
#error "INTERN_SMALL_INT_MIN/MAX come from lib/meson.build's lib_args"
#endif

/* clang-format off */
#define INTERN__DIGITS(x)                                                      \
	((x) >= 1000000 ? 7 : (x) >= 100000 ? 6 : (x) >= 10000 ? 5 :           \
	 (x) >= 1000 ? 4 : (x) >= 100 ? 3 : (x) >= 10 ? 2 : 1)
/* clang-format on */
/* The longest canonical text in the range: "-5" or "1024" by default. */
#define INTERN__SMALL_INT_MAXLEN                                                            \
	(INTERN__DIGITS(INTERN_SMALL_INT_MAX) > 1 + INTERN__DIGITS(-(INTERN_SMALL_INT_MIN)) \
		 ? INTERN__DIGITS(INTERN_SMALL_INT_MAX)                                     \
		 : 1 + INTERN__DIGITS(-(INTERN_SMALL_INT_MIN)))

/* The static string of `len` bytes (2..INTERN__SMALL_INT_MAXLEN, starting
 * with '-' or a digit) if they are the canonical decimal text of an integer
 * in the range, else NULL.  No hashing, no synchronization. */
struct intern_str *intern__smallint_parse(const char *data, size_t len);

/*
 * The built-in static string for these bytes, or NULL: the empty string,
 * the one-byte strings, the canonical small integers.  Every interning
 * route asks this first, so no table holds their bytes (invariant I6).
 * Inline: for other strings it costs a length compare and, for 2..4-byte
 * strings (by default), a test of the first byte.
 */
static inline struct intern_str *intern__builtin(const char *data, size_t len)
{
	if (len <= 1)
		return intern__singleton(data, len);
	if (len <= INTERN__SMALL_INT_MAXLEN && (data[0] == '-' || (unsigned)(data[0] - '0') < 10u))
		return intern__smallint_parse(data, len);
	return NULL;
}

/* ---- interpreters (interp.c) -------------------------------------------- */

struct intern__slots;

struct intern__shard {
	pthread_mutex_t lock;        /* serializes writers of this shard */
	struct intern__slots *slots; /* RCU-published; NULL until first insert */
	uint32_t live;               /* entries, dying ones included */
	uint32_t used;               /* live entries plus tombstones */
	uint32_t reseeds;            /* flood-defence reseeds (table.c) */
	uint32_t reseed_live;        /* live at the last reseed */
#ifndef INTERN_NO_STATS
	/* Statistics, written and read under `lock` only, by writers that
	 * already write the lock's line.  inserts - removals == live. */
	uint64_t inserts;  /* entries published (R3 replacements too) */
	uint64_t removals; /* entries unlinked, replaced or dropped */
#endif
#ifndef NDEBUG
	/* The thread holding `lock` (table.c, shard_lock), for the
	 * assertions of "shard lock held"; NULL when free. */
	const void *holder;
#endif
} __attribute__((aligned(INTERN_CACHELINE)));

/* A pair of lookup counters (stats.c). */
struct intern__counts {
	uint64_t hits;
	uint64_t misses;
};

/* intern_interp.magic: live, and after intern_interp_free (interp.c keeps
 * the freed struct in a quarantine, so a stale handle reads this). */
#define INTERN__INTERP_LIVE 0x1e7e4a11u
#define INTERN__INTERP_DEAD 0xdeadd00du

/* Dense IDs beyond the snapshot's (ids.c): ID base + r is chunk[k][j],
 * chunk k holding 2^(k + 6) entries, so no array ever moves. */
#define INTERN__ID_CHUNKS 27
struct intern__idmap;

struct intern__ids {
	pthread_mutex_t lock;       /* serializes the assignment of IDs */
	uint32_t base;              /* the snapshot's count: the first ID here */
	uint32_t next;              /* IDs assigned here; release-published */
	struct intern_str **chunk[INTERN__ID_CHUNKS];
	struct intern__idmap *map;  /* string -> ID, RCU-published */
};

struct intern_interp {
	uint16_t id;          /* index in the registry, never 0 */
	/* The mapped snapshot whose strings come first, or NULL (snapshot.h);
	 * set before the interpreter is returned, never changed. */
	struct intern_snapshot *snap;
	uint32_t magic;       /* INTERN__INTERP_LIVE, or _DEAD once freed */
	unsigned shard_shift; /* shard = hash >> shard_shift (64-bit) */
	unsigned nshards;
	struct intern__shard *shards;
	struct intern_config config;
#ifndef INTERN_NO_STATS
	struct intern__counts retired; /* of exited threads; stats.c's lock */
	struct intern__counts shared;  /* threads without a slot; relaxed RMW */
#endif
	bool quota_on; /* config.max_mortal or _bytes set */
	/* The quotas' counts (table.c, "Quotas"): MORTAL entries, dying ones
	 * included, and their bytes.  Changed only when quota_on, always
	 * under the shard lock of the entry concerned, with atomic RMW (the
	 * shards are many): with every shard lock held they are exact.  Own
	 * cache line: the fields above are read by every lookup. */
	struct {
		size_t entries;
		size_t bytes;
	} quota __attribute__((aligned(INTERN_CACHELINE)));
	struct intern__ids ids __attribute__((aligned(INTERN_CACHELINE)));
};

/* Is `interp` a live interpreter?  NULL and interpreters freed by one of
 * the last INTERN__QUARANTINE intern_interp_free() calls are not. */
static inline bool intern__interp_ok(const struct intern_interp *interp)
{
	return interp && __atomic_load_n(&interp->magic, __ATOMIC_RELAXED) == INTERN__INTERP_LIVE;
}

/* How many freed interpreters' structs interp.c keeps before freeing them. */
#define INTERN__QUARANTINE 64u

static inline struct intern__shard *intern__shard_of(const struct intern_interp *interp,
						     uint32_t hash)
{
	return &interp->shards[(uint64_t)hash >> interp->shard_shift];
}

/* intern_interp_new(), with the strings of `snap` first if not NULL
 * (intern_interp_new_snapshot: the interpreter takes a reference). */
struct intern_interp *intern__interp_create(const struct intern_config *config,
					    struct intern_snapshot *snap);

/* The last reference to a MORTAL string was dropped: unlink and free it. */
void intern__release_mortal(struct intern_str *s);

/* ---- statistics (stats.c) ----------------------------------------------- */

/* Start and end an interpreter's counting (intern_interp_new/_free). */
void intern__stats_init(struct intern_interp *interp);
void intern__stats_fini(struct intern_interp *interp);

/* The hits and misses counted so far for `interp`, every thread summed. */
struct intern__counts intern__stats_lookups(struct intern_interp *interp);

#ifndef INTERN_NO_STATS
void intern__count_slow(const struct intern_interp *interp, bool hit);

/* Add 1 to a counter only this thread writes: relaxed load and store, so
 * intern_interp_stats() may read it concurrently without a data race. */
static inline void intern__count_bump(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}
#endif

/* Count one lock-free lookup of `interp` that returned `found` (NULL: a
 * miss) in the calling thread's state `me` (&intern__self): a load, a compare, and one or two increments of this thread's
 * own counters.  `found` rather than a bool, so that a hit computes none. */
static inline void intern__count_lookup(struct intern__thread *me,
					const struct intern_interp *interp,
					const struct intern_str *found)
{
#ifndef INTERN_NO_STATS
	/* The slot this thread counted in last (thread.h). */
	struct intern__tslot *slot = me->slot_last;

	if (__builtin_expect(__atomic_load_n(&slot->interp, __ATOMIC_RELAXED) == interp, 1)) {
		intern__count_bump(&slot->lookups);
		if (!found)
			intern__count_bump(&slot->misses);
	} else {
		intern__count_slow(interp, found != NULL);
	}
#else
	(void)me;
	(void)interp;
	(void)found;
#endif
}

/* ---- the sharded table (table.c) ---------------------------------------- */

/* The lock-free lookup, intern__table_lookup(), is inline in table.h. */

/*
 * Find-or-insert under the shard lock.  `cand` is a string the caller holds:
 * NOT_INTERNED and unowned for `state` MORTAL/IMMORTAL, a static object
 * (born IMMORTAL_STATIC, only read) for IMMORTAL_STATIC.  0 and in *out a new reference to the existing canonical
 * string (made immortal if `state` asks), or `cand` itself once published
 * (the caller's reference to it is then the returned one).  Else -ENOSPC
 * (a quota), -ENOMEM, or -EAGAIN when another interpreter claimed `cand`
 * first; `cand` is then as it was.
 */
int intern__table_intern(struct intern_interp *interp, uint32_t hash, struct intern_str *cand,
			 int state, struct intern_str **out);

/* MORTAL -> IMMORTAL for a string of `interp` the caller holds a reference to. */
void intern__table_immortalize(struct intern_interp *interp, struct intern_str *s);

/* Unlink a dead MORTAL string (count 0) by identity. */
void intern__table_remove(struct intern_interp *interp, struct intern_str *s);

/* Non-zero: shards never reseed (table.c, "Flood defence"), so that a
 * benchmark or test can measure the undefended table.  White box only. */
extern int intern__reseed_disabled;

/* Reseed shard k (mod the shard count) now, as a detected flood would:
 * 0 or -ENOMEM.  White box (the fuzz target). */
int intern__table_reseed(struct intern_interp *interp, unsigned k);

/* Rebuild shard k (mod the shard count) now under its own key, as growth
 * does: 0 or -ENOMEM.  White box (the stress harness). */
int intern__table_rebuild(struct intern_interp *interp, unsigned k);

/* intern_interp_free's sweep: mortal -> NOT_INTERNED, immortal freed
 * (or kept for good: table.c, sweep_immortal). */
void intern__table_teardown(struct intern_interp *interp);

/* Keep `s` (pinned, NOT_INTERNED) for the life of the process, on a list
 * that leak checkers see as reachable (interp.c).  Thread-safe. */
void intern__keep_forever(struct intern_str *s);

/* ---- application statics (intern.c, statics.c) ------------------------- */

/* File static `s` (IMMORTAL_STATIC, not a built-in's bytes) in `interp`:
 * 0, -EEXIST (another object holds its bytes) or -ENOMEM.  `s` is only
 * read, never written. */
int intern__file_static(struct intern_interp *interp, struct intern_str *s);

/* The insert half of intern_bytes(), after a lookup of these bytes (whose
 * process hash is `hash`) missed: find-or-insert a MORTAL entry under the
 * shard lock.  0 and a new reference in *out, or a negative errno.  For
 * scope.c's intern_borrow(), which made its lookup without a reference. */
int intern__insert_bytes(struct intern_interp *interp, const char *data, size_t len,
			 uint32_t hash, struct intern_str **out);

#endif
