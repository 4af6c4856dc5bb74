/*
 * libintern: a concurrent string-intern service for multithreaded C programs.
 *
 * Equal strings become one canonical object, so they compare by pointer and
 * are stored once.  The design follows CPython's string interning (see
 * docs/design.md): static singletons read with no synchronization, isolated
 * interning domains ("interpreters") with a sharded table whose lookups take
 * no lock, immortal strings that skip reference counting, and mortal strings
 * that leave the table when their last reference is dropped.
 *
 * Conventions, used by every comment below:
 *
 *   Ownership is stated in one of three phrases: "Returns a new reference."
 *   (the caller must drop it with intern_str_decref()), "Returns a borrowed
 *   reference, valid until ..." and "Steals *p ..." (the function consumes
 *   the caller's reference; what the caller owns afterwards is spelled out).
 *   For immortal and static strings incref/decref are no-ops, so a new
 *   reference to one of them costs nothing to hold or drop.
 *
 *   Status is 0 or a negative errno.  Constructors return NULL and set errno.
 *   The error codes, in one place:
 *     -EINVAL     a NULL argument, or a state transition the state machine
 *                 does not allow (see enum intern_state);
 *     -EOVERFLOW  a length above INTERN_STR_MAX_LEN;
 *     -ENOMEM     memory exhausted;
 *     -EEXIST     intern_static() of content already interned as another object;
 *     -EMFILE     intern_interp_new() with INTERN_INTERP_MAX interpreters alive;
 *     ENOENT      (errno) intern_lookup() found nothing.
 *   On every failure the caller's references are untouched and still valid.
 *
 *   Threads need no ceremony: any thread may call any function at any time
 *   without registering itself.  The library uses liburcu (memb flavor)
 *   internally and registers a calling thread lazily as an RCU reader,
 *   unregistering it when the thread exits.  An application that uses the
 *   memb flavor itself may register its threads before or after calling
 *   libintern; registering a thread twice aborts inside liburcu, so an
 *   application must not call urcu_memb_register_thread() on a thread that
 *   libintern registered first (check urcu_memb_read_ongoing() is not enough:
 *   register your threads before they first call libintern).
 *
 * Copyright (c) 2026 the libintern developers.  MIT licence.
 */
#ifndef INTERN_H
#define INTERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) || !defined(__GNUC__)
#define INTERN_EXPORT
#else
#define INTERN_EXPORT __attribute__((visibility("default")))
#endif

#define INTERN_VERSION_MAJOR 0
#define INTERN_VERSION_MINOR 1
#define INTERN_VERSION_MICRO 0

/* ---------------------------------------------------------------------------
 * The string object
 * ------------------------------------------------------------------------- */

/*
 * Interning state, as in CPython's SSTATE_*.  Allowed transitions:
 *
 *   dynamic strings:  NOT_INTERNED -> MORTAL      (intern_mortal)
 *                     MORTAL       -> IMMORTAL    (intern_immortal)
 *                     NOT_INTERNED -> IMMORTAL    (intern_immortal)
 *                     MORTAL/IMMORTAL -> NOT_INTERNED only when the owning
 *                     interpreter is freed (intern_interp_free)
 *   static strings:   NOT_INTERNED -> IMMORTAL_STATIC (intern_static, once)
 *
 * The built-in singletons (one-byte strings, the empty string) are
 * IMMORTAL_STATIC for their whole life.  Every immortal string is interned.
 */
enum intern_state {
	INTERN_NOT_INTERNED = 0,
	INTERN_MORTAL = 1,
	INTERN_IMMORTAL = 2,
	INTERN_IMMORTAL_STATIC = 3,
};

/*
 * The object header.  It is ABI: statically allocated strings
 * (INTERN_STATIC_DEFINE, the build-time identifier generator) are laid out
 * by the application's compiler, so the fields, their order and the rule
 * "the bytes follow the header, then a NUL" are fixed for a soname.
 * Application code must not read or write the fields directly: use the
 * accessors below, which order their reads as the library requires.
 */
struct intern_str {
	uint32_t ob_refcnt; /* counted references; ignored once immortal */
	uint32_t ob_len;    /* bytes of data, not counting the NUL */
	uint32_t ob_hash;   /* keyed hash of the bytes (dynamic strings) */
	uint8_t ob_state;   /* enum intern_state, read and written atomically */
	uint8_t ob_flags;   /* INTERN_STR_F_* */
	uint16_t ob_owner;  /* id of the owning interpreter while interned */
	/* followed by ob_len bytes and a NUL */
};

#define INTERN_STR_F_STATIC 0x01u /* statically allocated: never freed */

/* The largest length a string may have: 2^31 - 1 bytes. */
#define INTERN_STR_MAX_LEN ((size_t)0x7fffffff)

/*
 * Define a statically allocated string `name` (a `struct intern_str *`
 * const pointer) with the bytes of the string literal `text`, in state
 * NOT_INTERNED.  intern_static() moves it to IMMORTAL_STATIC (once).
 * The object lives in writable data because its state changes once; after
 * that it is never written.  Usable at file scope only.
 */
#define INTERN_STATIC_DEFINE(name, text)                                      \
	static struct {                                                       \
		struct intern_str head;                                       \
		char data[sizeof(text)];                                      \
	} name##__intern_obj = {                                              \
		{ 1u, (uint32_t)(sizeof(text) - 1), 0u, INTERN_NOT_INTERNED, \
		  INTERN_STR_F_STATIC, 0u },                                  \
		text,                                                         \
	};                                                                    \
	static struct intern_str *const name = &name##__intern_obj.head

/*
 * Create a string holding a copy of `len` bytes at `data` (any bytes,
 * embedded NULs allowed), followed by a NUL.  `data` may be NULL when
 * `len` is 0.  The string is not interned.
 * Returns a new reference, or NULL with errno EINVAL (data NULL with
 * len > 0), EOVERFLOW (len > INTERN_STR_MAX_LEN) or ENOMEM.
 * Thread-safe; allocates; takes no lock.
 */
INTERN_EXPORT struct intern_str *intern_str_new(const char *data, size_t len);

/*
 * Take a counted reference.  A no-op (writes nothing) on immortal and
 * static strings.  The caller must already hold a reference to `s`.
 * Thread-safe, wait-free: one relaxed atomic increment for mortal and
 * non-interned strings.  NULL is ignored.
 */
INTERN_EXPORT void intern_str_incref(struct intern_str *s);

/*
 * Drop a counted reference.  A no-op (writes nothing) on immortal and
 * static strings.  Dropping the last reference to a non-interned string
 * frees it at once; dropping the last reference to a mortal interned string
 * removes it from its interpreter's table (taking that table shard's
 * writer lock) and frees it after an RCU grace period, so concurrent
 * lookups never see freed memory.  Safe to call while the owning
 * interpreter is being freed.  Must not be called inside the caller's own
 * liburcu read-side critical section (the out-of-memory fallback waits
 * for a grace period).  NULL is ignored.
 * Thread-safe; release ordering on the count, acquire before freeing.
 */
INTERN_EXPORT void intern_str_decref(struct intern_str *s);

/*
 * The string's bytes: intern_str_len(s) bytes followed by a NUL.
 * Returns a borrowed pointer, valid while the caller holds a reference.
 * Thread-safe, reads only immutable fields.
 */
INTERN_EXPORT const char *intern_str_data(const struct intern_str *s);

/* The length in bytes, not counting the NUL.  Thread-safe. */
INTERN_EXPORT size_t intern_str_len(const struct intern_str *s);

/*
 * The current interning state.  For a string other threads may be interning
 * at the same moment the answer may be stale by the time it is used; it
 * never goes backwards except to NOT_INTERNED when the owning interpreter
 * is freed.  Thread-safe, acquire load.
 */
INTERN_EXPORT enum intern_state intern_str_state(const struct intern_str *s);

/* ---------------------------------------------------------------------------
 * Static singletons
 * ------------------------------------------------------------------------- */

/*
 * The statically allocated one-byte string for byte `c`, and the empty
 * string.  Const objects in read-only memory, state IMMORTAL_STATIC, shared
 * by every thread and interpreter; interning any one-byte or empty string
 * by any route yields these objects.
 * Returns a new reference (incref/decref are no-ops on it); never fails.
 * Thread-safe, no synchronization at all.
 */
INTERN_EXPORT struct intern_str *intern_latin1(unsigned char c);
INTERN_EXPORT struct intern_str *intern_empty(void);

/* ---------------------------------------------------------------------------
 * Interpreters
 * ------------------------------------------------------------------------- */

struct intern_interp;

/* At most this many interpreters exist at once. */
#define INTERN_INTERP_MAX 65535

/* The largest shard count an interpreter may be configured with. */
#define INTERN_SHARDS_MAX 4096u
#define INTERN_SHARDS_DEFAULT 64u

struct intern_config {
	/* Shards in the dynamic table: a power of two in
	 * [1, INTERN_SHARDS_MAX]; 0 picks INTERN_SHARDS_DEFAULT. */
	unsigned shards;
};

/* Fill `config` with the defaults.  Thread-safe. */
INTERN_EXPORT void intern_config_init(struct intern_config *config);

/*
 * Create an interpreter: an isolated interning domain with its own table.
 * `config` may be NULL for the defaults; it is copied.
 * Returns a new interpreter, or NULL with errno EINVAL (a bad field:
 * shards not a power of two, or above INTERN_SHARDS_MAX), EMFILE
 * (INTERN_INTERP_MAX interpreters alive) or ENOMEM.
 * Thread-safe; takes a process-wide mutex briefly to allocate an id.
 */
INTERN_EXPORT struct intern_interp *
intern_interp_new(const struct intern_config *config);

/*
 * Free an interpreter and what it owns: its table and its immortal
 * strings (references to them become invalid).  Mortal strings that the
 * application still references become NOT_INTERNED and stay valid; their
 * last intern_str_decref() frees them.  Waits for an RCU grace period, so
 * it must not be called inside a liburcu read-side critical section.
 * NULL is ignored.
 * Concurrency: no other thread may use `interp` (intern, lookup, stats)
 * during or after the call; other threads may concurrently decref strings
 * that belonged to it.
 */
INTERN_EXPORT void intern_interp_free(struct intern_interp *interp);

/* ---------------------------------------------------------------------------
 * Interning
 * ------------------------------------------------------------------------- */

/*
 * Intern *p as a mortal string (CPython's _PyUnicode_InternMortal).
 * Steals *p and stores in *p a new reference to the canonical string with
 * the same bytes: *p itself if it became canonical, else the existing
 * canonical object (the old *p loses the stolen reference).  Reference-
 * neutral for the caller.  One-byte and empty strings become the static
 * singletons; a string already canonical in `interp` is left as is; a
 * string interned in another interpreter is replaced by `interp`'s
 * canonical copy.  The canonical object may be immortal or static.
 * Returns 0, or -EINVAL (NULL argument), -ENOMEM; on failure *p is still
 * the caller's valid reference, unchanged.
 * Thread-safe.  A hit takes no lock (an RCU read-side section and, for a
 * mortal result, one atomic increment); an insert takes one shard's lock.
 */
INTERN_EXPORT int intern_mortal(struct intern_interp *interp,
				struct intern_str **p);

/*
 * Intern *p and make the canonical string immortal (CPython's
 * _PyUnicode_InternImmortal): it then lives until intern_interp_free()
 * and incref/decref on it are no-ops.  Ownership and errors as
 * intern_mortal().  Thread-safe; takes one shard's lock unless the
 * canonical string is already immortal.
 */
INTERN_EXPORT int intern_immortal(struct intern_interp *interp,
				  struct intern_str **p);

/*
 * Intern a statically allocated string (INTERN_STATIC_DEFINE) as
 * IMMORTAL_STATIC (CPython's _PyUnicode_InternStatic).  The first call
 * moves it NOT_INTERNED -> IMMORTAL_STATIC; after that, interning its
 * bytes in `interp` by any route yields it.  Calling it again, or for
 * another interpreter, registers the same object there.
 * Steals *p and stores in *p a new reference to the static object (for a
 * one-byte or empty string: the built-in singleton).
 * Returns 0, or -EINVAL (NULL argument, or *p is a dynamically allocated
 * string), -EEXIST (`interp` already has another canonical object with
 * these bytes), -ENOMEM; on failure *p is unchanged.
 * Thread-safe; takes one shard's lock.
 */
INTERN_EXPORT int intern_static(struct intern_interp *interp,
				struct intern_str **p);

/*
 * Python's sys.intern() on raw bytes: the canonical string with these
 * `len` bytes, interned mortal if it was absent.
 * Returns a new reference, or NULL with errno EINVAL (NULL interp, or
 * data NULL with len > 0), EOVERFLOW or ENOMEM.
 * Thread-safe.  A hit allocates nothing and takes no lock; a miss
 * allocates the string and takes one shard's lock.
 */
INTERN_EXPORT struct intern_str *
intern_bytes(struct intern_interp *interp, const char *data, size_t len);

/*
 * Look up without inserting, for untrusted input that must not grow the
 * table.  Returns a new reference to the canonical string, or NULL with
 * errno ENOENT (absent), EINVAL or EOVERFLOW.
 * Thread-safe, lock-free; writes shared memory only to count a reference
 * on a mortal result.
 */
INTERN_EXPORT struct intern_str *
intern_lookup(struct intern_interp *interp, const char *data, size_t len);

/* ---------------------------------------------------------------------------
 * Reclamation, inspection
 * ------------------------------------------------------------------------- */

/*
 * Mortal strings that die are freed in batches, one RCU callback per batch
 * per thread.  intern_barrier() hands this thread's partial batch to RCU and
 * waits until every free queued so far, by any thread, has run.  Use it
 * before measuring memory or before exit under a leak checker.  Blocks; must
 * not be called inside a liburcu read-side critical section.
 */
INTERN_EXPORT void intern_barrier(void);

struct intern_stats {
	size_t mortal;          /* entries by state */
	size_t immortal;
	size_t immortal_static;
	size_t dying;           /* entries whose count reached 0, not yet removed */
	size_t string_bytes;    /* sum of len + 1 over live entries */
	size_t table_bytes;     /* bytes of slot arrays and shard headers */
	size_t shards;
	size_t slots;           /* total slot capacity */
	size_t tombstones;
	size_t max_shard_entries;
	double avg_probe;       /* mean probe length of a successful lookup */
	size_t max_probe;
};

/*
 * Fill `stats` with `interp`'s figures by walking every shard under its
 * lock.  Returns 0 or -EINVAL.  Thread-safe; takes each shard's lock in
 * turn, so it briefly delays inserts, never lookups.
 */
INTERN_EXPORT int intern_interp_stats(struct intern_interp *interp,
				      struct intern_stats *stats);

/*
 * Walk `interp` and verify every invariant that can be checked from
 * inside: each entry's state and owner, each slot's hash tag, no two
 * entries with equal bytes, counts that agree.  Returns 0 if all hold,
 * -EINVAL for a NULL argument, or -EUCLEAN and prints what failed to
 * stderr.  Thread-safe; takes each shard's lock in turn.
 */
INTERN_EXPORT int intern_interp_check(struct intern_interp *interp);

#ifdef __cplusplus
}
#endif

#endif /* INTERN_H */
