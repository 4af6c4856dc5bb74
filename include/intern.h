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
 *     -EINVAL     a NULL argument, a state transition the state machine
 *                 does not allow (see enum intern_state), a string whose
 *                 header no live string has (a freed one, mostly, or one
 *                 the caller holds no reference to: count 0), or an
 *                 interpreter already freed (detected for the last 64
 *                 intern_interp_free() calls: their structs are kept),
 *                 or a borrowing call outside a scope;
 *     -EOVERFLOW  a length above INTERN_STR_MAX_LEN;
 *     -ENOMEM     memory exhausted;
 *     -EEXIST     intern_static() or intern_interp_add_statics() of content
 *                 already interned as another object;
 *     -EMFILE     intern_interp_new() with INTERN_INTERP_MAX interpreters alive;
 *     -ENOSPC     a new mortal entry would pass the interpreter's quota
 *                 (struct intern_config: max_mortal, max_mortal_bytes);
 *     ENOENT      (errno) intern_lookup() found nothing, intern_id_str()
 *                 has no string for the ID;
 *     ENOEXEC, ENOTSUP, EBADMSG  (errno) intern_snapshot_open(): not a
 *                 snapshot, a snapshot this library cannot read, a
 *                 corrupted one.
 *   On every failure the caller's references are untouched and still valid.
 *
 *   Misuse without an error to return (a decref past zero, an incref or
 *   decref of a freed string, a second intern_interp_free()) is detected
 *   where the object's memory still says so: a library built with
 *   assertions (NDEBUG undefined, meson's default debugoptimized) aborts
 *   with "libintern: <what>" on stderr; a release build prints the first
 *   16 such messages with "(ignored)", writes nothing to the object, and
 *   goes on.  A use after free is undefined behaviour all the same: the
 *   checks catch the common cases, not all (docs/design.md, "Bad input and misuse").
 *
 *   Threads need no ceremony: any thread may call any function at any time
 *   without registering itself.  The library uses liburcu (memb flavor)
 *   internally and registers a calling thread lazily as an RCU reader,
 *   unregistering it when the thread exits.  An application that uses the
 *   memb flavor itself should register its threads before they first call
 *   libintern: libintern sees liburcu's own flag and leaves such a thread's
 *   registration alone.  The other order aborts inside liburcu (it refuses
 *   a second registration of a thread libintern already registered).
 *
 *   Processes (docs/process.md has the why of each):
 *
 *   Static linking and constructors: interning is correct from the first
 *   instruction of any constructor, the application's own and C++ static
 *   initializers included, whether libintern is linked as libintern.a
 *   (`pkg-config --static libintern`) or as a shared library: the hash key
 *   is made by whichever call needs it first.
 *
 *   fork(): the child may go on using libintern, with every interpreter
 *   and string it inherited, if at the moment of fork() the forking
 *   thread is the only one libintern knows: the forking thread may have
 *   used libintern, and every other thread that used it has exited or
 *   called intern_thread_detach() since (and is not inside a libintern
 *   call).  liburcu's memb flavor, which libintern uses, requires every
 *   reader to be unregistered before fork(): the child inherits the
 *   parent's reader registry, the threads in it are gone, and its grace
 *   periods (every free, intern_barrier()) hang or crash.  A checking
 *   build (no NDEBUG) warns on stderr when libintern itself still has
 *   other threads registered; registrations the application made itself
 *   it must undo itself.  libintern registers liburcu's call_rcu fork
 *   hooks with pthread_atfork() (before it first defers a free), so the
 *   child has a call_rcu thread of its own, the frees queued before the
 *   fork run there, and intern_barrier() returns.  liburcu discourages
 *   running those hooks from pthread_atfork() when call_rcu callbacks
 *   call free(), as libintern's do: it reports occasional hangs on a glibc
 *   allocator lock in fork().  A thread that exits or detaches hands its
 *   dead strings to RCU first, so nothing is lost in the child.  (liburcu's
 *   bp flavor prunes the readers of vanished threads after fork() itself;
 *   libintern on bp would lift the restriction on other threads, at a
 *   slower read side.)  An application that uses liburcu's memb call_rcu
 *   itself must not also call urcu_memb_call_rcu_before_fork() and its two
 *   siblings: libintern already does.
 *
 *   dlopen(): a program that links neither libintern nor liburcu may load
 *   libintern.so.0 with dlopen() and use it from any number of threads.
 *   dlclose() does not unload it (it is linked with -z nodelete): liburcu's
 *   call_rcu thread and the thread-exit handler libintern arms live as
 *   long as the process.
 *
 *   Signal handlers: async-signal-safe are intern_str_data(),
 *   intern_str_len(), intern_str_state(), intern_latin1(), intern_empty(),
 *   intern_int() for a value in the small-integer range, and
 *   intern_str_incref() on a string the handler's thread holds a reference
 *   to.  Nothing else is: the other calls may allocate, take a lock,
 *   register the thread with liburcu or free a string (intern_str_decref()
 *   included, unless the string is immortal or static).
 *
 *   Teardown of shared references: a counted reference (one taken while
 *   the string was mortal) is never invalidated by what another caller
 *   did: intern_interp_free() frees the interpreter's immortal strings,
 *   but not one that a holder counted while it was still mortal (see
 *   intern_interp_free()).  A reference to a string that was already
 *   immortal when the caller got it is uncounted, and ends with the
 *   interpreter, whoever made the string immortal.
 *
 * Copyright (c) 2026 the libintern developers.  MIT licence.
 */
#ifndef INTERN_H
#define INTERN_H

#include <stdbool.h>
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

/* ---------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------- */

/*
 * The version of this header, as major.minor.micro; the build checks that it
 * equals meson.build's project version.  INTERN_VERSION_NUMBER packs it into
 * one integer for #if (0x00MMmmuu: 0.1.0 is 0x000100).  Within one major
 * version (one soname, libintern.so.0) the ABI only grows; while the major
 * version is 0, a minor version may also change the API (README.md,
 * "Versions and stability").
 */
#define INTERN_VERSION_MAJOR 0
#define INTERN_VERSION_MINOR 1
#define INTERN_VERSION_MICRO 0
#define INTERN_VERSION_NUMBER                                                 \
	((INTERN_VERSION_MAJOR << 16) | (INTERN_VERSION_MINOR << 8) |         \
	 INTERN_VERSION_MICRO)

/*
 * The version of the library loaded at run time, which may be newer than the
 * header the application was compiled with: "0.1.0" (a static string).
 * Returns a borrowed pointer, valid for the life of the process; never fails.
 * Thread-safe, no synchronization at all.
 */
INTERN_EXPORT const char *intern_version(void);

/*
 * The same version packed as INTERN_VERSION_NUMBER is, for comparing with
 * it: intern_version_number() >= INTERN_VERSION_NUMBER holds when the loaded
 * library is at least as new as the header.  Never fails.
 * Thread-safe, no synchronization at all.
 */
INTERN_EXPORT unsigned long intern_version_number(void);

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
 *   static strings:   IMMORTAL_STATIC from the start (INTERN_STATIC_DEFINE,
 *                     the generator); never another state
 *
 * The built-in singletons (one-byte strings, the empty string, the small
 * integers of intern_int) are IMMORTAL_STATIC for their whole life.  Every immortal string is interned.
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
/* With INTERN_STR_F_STATIC: inside a mapped snapshot (docs/snapshot.md),
 * so it lives as long as the mapping, not the process. */
#define INTERN_STR_F_MAPPED 0x02u

/* The largest length a string may have: 2^31 - 1 bytes. */
#define INTERN_STR_MAX_LEN ((size_t)0x7fffffff)

/*
 * Define a statically allocated string `name` (a `struct intern_str *`
 * const pointer) with the bytes of the string literal `text`.  The object
 * is const, born IMMORTAL_STATIC as the generator's objects are, so the
 * compiler may put it in read-only memory: the library never writes it.
 * intern_static() files it in an interpreter.  Usable at file scope only.
 */
#define INTERN_STATIC_DEFINE(name, text)                                      \
	static const struct {                                                 \
		struct intern_str head;                                       \
		char data[sizeof(text)];                                      \
	} name##__intern_obj = {                                              \
		INTERN_STATIC_HEAD_INIT(sizeof(text) - 1),                    \
		text,                                                         \
	};                                                                    \
	static struct intern_str *const name = (struct intern_str *)&name##__intern_obj.head

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
 * A count that reaches 2^31 saturates: the string is pinned for good (a
 * leak, never a wrapped count), as Linux's refcount_t.  An incref of a
 * string with no reference left (count 0) or of a freed one is a misuse
 * (see the conventions above).
 * Thread-safe, lock-free: one relaxed compare-and-swap for mortal and
 * non-interned strings, from the count it checked, so a misuse that
 * races with the last decref writes nothing.  NULL is ignored.
 */
INTERN_EXPORT void intern_str_incref(struct intern_str *s);

/*
 * Drop a counted reference.  A no-op (writes nothing) on immortal and
 * static strings.  Dropping the last reference to a non-interned string
 * frees it at once; dropping the last reference to a mortal interned string
 * removes it from its interpreter's table (taking that table shard's
 * writer lock) and frees it after an RCU grace period, so concurrent
 * lookups never see freed memory: the calling thread frees it later, in a
 * batch, and about once every 2,048 such deaths on a thread under churn
 * it waits for a grace period itself (docs/design.md, "Reclamation").
 * Safe to call while the owning interpreter is being freed.  Must not be
 * called inside the caller's own liburcu read-side critical section (the
 * thread could not wait for a grace period there: its dead strings then
 * go to liburcu's call_rcu thread); inside a libintern scope it may (it
 * never waits there, see "Scopes").  NULL is ignored.  A decref past zero (count
 * already 0: the string is dying) or of a freed string is a misuse (see
 * the conventions above): never decremented, so the count cannot wrap.
 * A saturated count (see intern_str_incref) stays saturated.
 * Thread-safe; release ordering on the count, acquire before freeing.
 * May block: the last reference to a mortal string takes a shard lock,
 * and, in a process that has never entered a scope, sometimes waits for a
 * grace period (a few microseconds, or until every reader preempted
 * inside a lookup has run again).  Once any thread has entered a scope it
 * never waits for one (a scope may block on a lock the caller holds): its
 * dead strings over the bound go to liburcu's call_rcu thread instead.
 */
INTERN_EXPORT void intern_str_decref(struct intern_str *s);

/*
 * The string's bytes: intern_str_len(s) bytes followed by a NUL.
 * Returns a borrowed pointer, valid while the caller holds a reference;
 * NULL for NULL.
 * Thread-safe, reads only immutable fields.
 */
INTERN_EXPORT const char *intern_str_data(const struct intern_str *s);

/* The length in bytes, not counting the NUL; 0 for NULL.  Thread-safe. */
INTERN_EXPORT size_t intern_str_len(const struct intern_str *s);

/*
 * The current interning state.  For a string other threads may be interning
 * at the same moment the answer may be stale by the time it is used; it
 * never goes backwards except to NOT_INTERNED when the owning interpreter
 * is freed.  INTERN_NOT_INTERNED for NULL.  Thread-safe, acquire load.
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
	/* intern_auto() interns identifiers of at most this many bytes;
	 * 0 picks INTERN_AUTO_MAX_LEN_DEFAULT. */
	size_t auto_intern_max_len;
	/* Quotas on MORTAL entries, for tables fed from untrusted input: at
	 * most `max_mortal` of them, and at most `max_mortal_bytes` bytes of
	 * them, each entry counting intern_str_len() + 1; 0 is unlimited
	 * (the default).  Interning that would add a mortal entry past a
	 * limit fails with -ENOSPC (constructors: NULL, errno ENOSPC); hits,
	 * lookups and the strings already interned are unaffected.  Immortal
	 * and static entries are not counted: the application chooses them
	 * (never immortalize untrusted strings), and intern_immortal() of a
	 * mortal entry gives its room back.  An entry counts from its insert
	 * until it is removed, which its last intern_str_decref() does before
	 * returning: from then on the room is free again.  Never exceeded,
	 * under any concurrency; docs/design.md, "Quotas". */
	size_t max_mortal;
	size_t max_mortal_bytes;
};

/* The default longest identifier intern_auto() interns. */
#define INTERN_AUTO_MAX_LEN_DEFAULT 40u

/* Fill `config` with the defaults (all zero but shards and
 * auto_intern_max_len).  NULL is ignored.  Thread-safe. */
INTERN_EXPORT void intern_config_init(struct intern_config *config);

/*
 * Create an interpreter: an isolated interning domain with its own table.
 * `config` may be NULL for the defaults; it is copied (a zeroed struct
 * intern_config is the defaults too).
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
 * last intern_str_decref() frees them.  One exception keeps other
 * holders safe: a string made immortal while it was mortal and someone
 * else held a counted reference to it (a module keeps intern_bytes()'s
 * result, another calls intern_immortal() on equal bytes) is not freed.
 * Nobody counts an immortal string, so when its earlier holders are done
 * cannot be known: it becomes NOT_INTERNED and is kept for the life of the
 * process, its count pinned (incref and decref then change nothing), and
 * every reference to it stays valid.  At most one such object per string
 * so immortalized (docs/process.md, "Teardown").  Waits for an RCU grace period, so
 * it must not be called inside a liburcu read-side critical section or a
 * scope (a misuse, detected: nothing is freed), nor while holding a lock
 * that a thread inside a scope may wait for.
 * NULL is ignored.  The struct itself is kept (marked dead) until 64 later
 * frees, so that every call with the stale pointer fails with EINVAL, and
 * a second free of it is a misuse (see the conventions above).
 * Concurrency: no other thread may use `interp` (intern, lookup, stats)
 * during or after the call; other threads may concurrently decref its
 * mortal strings (never its immortal ones: they are freed by the call).
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
 * neutral for the caller.  One-byte and empty strings, and the text of a
 * small integer (intern_int), become the static singletons; a string already canonical in `interp` is left as is; a
 * string interned in another interpreter is replaced by `interp`'s
 * canonical copy.  The canonical object may be immortal or static.
 * Returns 0, or -EINVAL (NULL argument), -ENOSPC (a new mortal entry
 * would pass the quota), -ENOMEM; on failure *p is still the caller's
 * valid reference, unchanged.
 * Thread-safe.  A hit takes no lock (an RCU read-side section and, for a
 * mortal result, one atomic increment); an insert takes one shard's lock.
 * It may drop the last reference to the string *p held (as
 * intern_str_decref() does), so it must not be called inside the
 * caller's own liburcu read-side critical section.
 */
INTERN_EXPORT int intern_mortal(struct intern_interp *interp,
				struct intern_str **p);

/*
 * Intern *p and make the canonical string immortal (CPython's
 * _PyUnicode_InternImmortal): it then lives until intern_interp_free()
 * and incref/decref on it are no-ops.  Ownership and errors as
 * intern_mortal().  Thread-safe; takes one shard's lock unless the
 * canonical string is already immortal.  Not inside the caller's own
 * liburcu read-side critical section (it may drop a last reference, as
 * intern_mortal()).
 */
INTERN_EXPORT int intern_immortal(struct intern_interp *interp,
				  struct intern_str **p);

/*
 * Intern a statically allocated string (INTERN_STATIC_DEFINE), born
 * IMMORTAL_STATIC (CPython's _PyUnicode_InternStatic): file it in
 * `interp`, after which interning its bytes there by any route yields it.
 * Calling it again, or for another interpreter, registers the same object
 * there.  The object is only read, never written.
 * Steals *p and stores in *p a new reference to the static object (for a
 * one-byte or empty string or a small integer's text: the built-in
 * singleton; the object passed in is then not filed anywhere).
 * Returns 0, or -EINVAL (NULL argument, or *p is a dynamically allocated
 * string or a static object not in state IMMORTAL_STATIC), -EEXIST (`interp` already has another canonical object with
 * these bytes), -ENOMEM; on failure *p is unchanged.
 * Thread-safe; takes one shard's lock.  Not inside the caller's own
 * liburcu read-side critical section (it may drop a last reference, as
 * intern_mortal()).
 */
INTERN_EXPORT int intern_static(struct intern_interp *interp,
				struct intern_str **p);

/*
 * Python's sys.intern() on raw bytes: the canonical string with these
 * `len` bytes, interned mortal if it was absent.
 * Returns a new reference, or NULL with errno EINVAL (NULL interp, or
 * data NULL with len > 0), EOVERFLOW, ENOSPC (absent, and the quota is
 * reached) or ENOMEM.
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
 * Scopes: references borrowed for the length of a request
 * ------------------------------------------------------------------------- */

/*
 * A server uses a request's names (the command word, header and field
 * names, keys it only reads) for the length of the request.  Inside a
 * scope a thread holds canonical strings with no count written, so a hot
 * mortal string costs what an immortal one does on every core:
 *
 *     intern_scope_enter();
 *     struct intern_str *name = intern_borrow(interp, buf, len);
 *     ...                                   use name until the scope ends
 *     struct intern_str *kept = intern_promote(interp, name);  counted
 *     intern_scope_exit();                  name is invalid from here on
 *
 * A scope is an RCU read-side section of the calling thread.  A borrowed
 * string is readable (its bytes never change) until the thread's
 * outermost intern_scope_exit(), even if every counted reference to it is
 * dropped meanwhile: it is then removed from the table at once, but freed
 * only after every scope that could have seen it has ended
 * (docs/design.md, "Scopes").  When it was found it was the canonical
 * string for its bytes: it equals, by pointer, every string with those
 * bytes that anyone holds a counted reference to at the same time, so
 * maps keyed by canonical strings may be probed with it.  (If its last
 * counted holder lets go during the scope, a later intern of its bytes
 * may give a new object.)
 *
 * Inside a scope: every call is allowed except intern_barrier(),
 * intern_thread_detach() (-EBUSY) and intern_interp_free(), which wait for
 * a grace period and so for the scope itself.  intern_str_decref() of a
 * last reference is allowed, and never waits for a grace period there (a
 * wait inside the scope would never end): the string is freed after the
 * scope, as any dead string, and the thread's reclamation hands its
 * batches to liburcu's call_rcu thread where it would otherwise wait.  If
 * no reclamation batch can be allocated (out of memory), the string waits
 * for the outermost intern_scope_exit() instead, on a fixed list of 32 per
 * thread; past 32 in one scope it is kept, never freed (a leak, reported
 * as a misuse).
 * intern_str_incref() of a borrowed
 * mortal string is a misuse if its count is 0 (it is dying): use
 * intern_promote().  Keep scopes short: a scope delays every grace period
 * of the process, hence every free of a dead string.  Borrowed strings of
 * an interpreter count as using it: scopes that borrowed from it must have
 * ended before intern_interp_free().  A thread must leave its scopes
 * before it exits (the exit path reports a misuse and closes them).
 */

/*
 * Enter a scope on the calling thread.  Scopes nest; every enter needs its
 * intern_scope_exit() on the same thread.  Never fails.
 * Thread-safe; acts on the calling thread only; lock-free (liburcu's read
 * lock: two thread-local stores).  Registers the thread with liburcu the
 * first time, as every call does.
 */
INTERN_EXPORT void intern_scope_enter(void);

/*
 * Leave the innermost scope.  Leaving the outermost one ends every
 * borrowed reference the thread holds and drops the counted references
 * intern_borrow() took for the strings it inserted (which may free them,
 * after a grace period, as intern_str_decref() does).  An exit without an
 * enter is a misuse (see the conventions above).
 * Thread-safe; acts on the calling thread only; the outermost exit may
 * take a shard lock (a last reference dropped), the others are lock-free.
 */
INTERN_EXPORT void intern_scope_exit(void);

/* How many scopes the calling thread is inside (0: none).  Thread-safe,
 * reads the calling thread's state only. */
INTERN_EXPORT unsigned intern_scope_depth(void);

/*
 * intern_bytes() for the length of a scope: the canonical string with
 * these bytes, interned mortal if absent.
 * Returns a borrowed reference, valid until the calling thread's outermost
 * scope ends, or NULL with errno EINVAL (NULL or freed interp, data NULL
 * with len > 0, or called outside a scope), EOVERFLOW, ENOSPC or ENOMEM.
 * Built-in singletons, immortal and static strings are returned as by
 * intern_bytes() (references to them need no count anyway).
 * Thread-safe.  A hit writes no shared memory, takes no lock and no
 * read lock of its own (the scope's covers it); a miss inserts as
 * intern_bytes() does (one shard lock) and keeps the new string's counted
 * reference until the outermost scope ends.
 */
INTERN_EXPORT struct intern_str *
intern_borrow(struct intern_interp *interp, const char *data, size_t len);

/*
 * intern_lookup() for the length of a scope: the canonical string with
 * these bytes, never inserting.
 * Returns a borrowed reference, valid until the calling thread's outermost
 * scope ends, or NULL with errno ENOENT (absent, or dying: its count
 * reached 0), EINVAL (as intern_borrow()) or EOVERFLOW.
 * Thread-safe, wait-free: writes no shared memory.
 */
INTERN_EXPORT struct intern_str *
intern_lookup_borrowed(struct intern_interp *interp, const char *data, size_t len);

/*
 * Keep a string borrowed from `interp` past the scope: a counted
 * reference to the canonical string with the bytes of `s`.  That is `s`
 * itself if it is still live (immortal, static, or mortal with a count
 * above 0, taken with get-unless-zero, never from 0); if `s` is dying (its
 * last counted holder let go during the scope), its bytes are interned
 * again in `interp` and the result is the new canonical string, which is
 * not `s`.  A string that is not `interp`'s (borrowed from another
 * interpreter or its snapshot) is interned in `interp` the same way.  Call
 * it inside the scope that borrowed `s`.
 * Returns a new reference, or NULL with errno EINVAL (NULL or freed
 * interp, NULL or insane `s`, called outside a scope), ENOSPC or ENOMEM
 * (re-interning only).
 * Thread-safe; lock-free unless it re-interns (one shard lock).
 */
INTERN_EXPORT struct intern_str *intern_promote(struct intern_interp *interp,
						struct intern_str *s);

/* ---------------------------------------------------------------------------
 * Small integers, identifier auto-interning
 * ------------------------------------------------------------------------- */

/*
 * The canonical decimal string of `value` ("200", "-5", "0": no '+', no
 * leading zeros, no "-0"), as CPython's small-int cache.  For values in a
 * range fixed when libintern is built (meson options small_int_min and
 * small_int_max, default -5 to 1024) it is a static singleton: a const
 * object in read-only memory, IMMORTAL_STATIC, shared by every thread and
 * interpreter, returned with no allocation, no hashing and no
 * synchronization.  The digits 0 to 9 are the one-byte singletons:
 * intern_int(interp, 7) == intern_latin1('7').  Interning the same text by
 * any route (intern_bytes, intern_lookup, intern_mortal, intern_immortal,
 * intern_static, intern_auto), in any interpreter, yields the same object;
 * the text of values outside the range is interned mortal in `interp` as
 * intern_bytes() does.
 * Returns a new reference (incref/decref are no-ops on a singleton), or
 * NULL with errno EINVAL (NULL interp), ENOSPC or ENOMEM (outside the
 * range only).
 * Thread-safe; in the range, no synchronization at all; outside it, as
 * intern_bytes().
 */
INTERN_EXPORT struct intern_str *intern_int(struct intern_interp *interp, long long value);

/*
 * Create a string of these `len` bytes, interned only if they look like an
 * identifier, as CPython interns the identifier-like constants of its code
 * objects: for a parser that wants names canonical without interning every
 * literal.  The rule: 1 to config.auto_intern_max_len bytes (default
 * INTERN_AUTO_MAX_LEN_DEFAULT), the first in [A-Za-z_], the others in
 * [A-Za-z0-9_]; ASCII only, so any byte >= 0x80 or a NUL disqualifies.
 * (CPython's all_name_chars() also accepts a leading digit and the empty
 * string, and has no length limit.)  Identifiers are interned mortal, as
 * intern_bytes() does.  Other bytes give a new NOT_INTERNED string, as
 * intern_str_new() does, which the caller may still intern later; except
 * that bytes with a built-in singleton (the empty and one-byte strings,
 * small integers, see intern_int) always give that singleton, which costs
 * nothing.
 * Returns a new reference, or NULL with errno EINVAL (NULL interp, or data
 * NULL with len > 0), EOVERFLOW (len > INTERN_STR_MAX_LEN), ENOSPC (an
 * identifier, absent, and the quota is reached) or ENOMEM.
 * Thread-safe; an identifier as intern_bytes(), anything else allocates and
 * takes no lock.
 */
INTERN_EXPORT struct intern_str *
intern_auto(struct intern_interp *interp, const char *data, size_t len);

/* ---------------------------------------------------------------------------
 * Application singletons
 * ------------------------------------------------------------------------- */

/*
 * An application's own static strings, as CPython's _Py_ID and _Py_STR.
 * In its C sources the application writes
 *
 *     INTERN_ID(content_length)      the string "content_length"
 *     INTERN_STR(empty_json, "{}")   the string "{}", named empty_json
 *
 * and its build runs the generator `intern-gen-ids` over those sources.
 * The generator emits a header, which defines the two macros, and a C file
 * with one const object per content, born IMMORTAL_STATIC with
 * INTERN_STR_F_STATIC, in read-only memory, and a struct
 * intern_static_table that lists them.  Each macro is an address constant
 * of type `struct intern_str *`: no call, no synchronization, usable in
 * static initializers and by every thread; incref/decref on it are no-ops,
 * and libintern never writes to it (it may be passed to every function
 * that takes a string).  intern_interp_add_statics() makes an interpreter
 * return these objects for their bytes.
 *
 * The generator's rules (docs/identifiers.md): one
 * object per content; an INTERN_STR whose text equals an INTERN_ID's name,
 * two INTERN_STR names with the same text, one name with two texts, and
 * the bytes of a built-in singleton (the empty and one-byte strings, the
 * decimal text of an integer: use intern_empty(), intern_latin1(),
 * intern_int()) are errors, reported as file:line with a non-zero exit, as
 * is any malformed use.
 *
 * Strings the application allocates statically by other means use
 * INTERN_STATIC_DEFINE and intern_static() above: const objects, born
 * IMMORTAL_STATIC like these.
 */

/* The layout version of struct intern_static_table and of the objects it
 * lists; intern_interp_add_statics() refuses any other. */
#define INTERN_STATIC_TABLE_VERSION 1u

struct intern_static_table {
	uint32_t version;                       /* INTERN_STATIC_TABLE_VERSION */
	uint32_t count;                         /* entries in `strings` */
	const struct intern_str *const *strings; /* static, IMMORTAL_STATIC */
};

/* The header initializer of a generated object of `len` bytes (for the
 * generator's output): born IMMORTAL_STATIC, so it can be const. */
#define INTERN_STATIC_HEAD_INIT(len)                                          \
	{ 1u, (uint32_t)(len), 0u, INTERN_IMMORTAL_STATIC,                    \
	  INTERN_STR_F_STATIC, 0u }

/*
 * File the strings of `table` in `interp`: from then on interning their
 * bytes in `interp` by any route (intern_bytes, intern_lookup,
 * intern_mortal or intern_immortal of an equal string, intern_static)
 * yields the static objects.  Several interpreters may share one table.
 * Filing an entry that `interp` already holds is a no-op, so the call may
 * be repeated.  The entries are read, never written: they may live in
 * read-only memory.  Borrows `table` and its strings for the life of
 * `interp` (generated tables are static data).
 * Give the table before other threads intern in `interp`: an entry whose
 * bytes already have another canonical object there (a dynamic string, or
 * another static object) cannot replace it, because references to that
 * object may be held.
 * Returns 0; -EINVAL (a NULL argument, a version other than
 * INTERN_STATIC_TABLE_VERSION, a NULL strings array with a non-zero count,
 * or an entry that is NULL, not static, not IMMORTAL_STATIC, not
 * NUL-terminated, or has the bytes of a built-in singleton, which no table
 * may hold: nothing is filed then); -EEXIST (the entries whose bytes
 * already had another canonical object in `interp` are skipped, every
 * other entry is filed); -ENOMEM (the entries filed so far stay filed, a
 * static entry cannot be taken back: call it again).
 * Thread-safe, may run concurrently with any operation on `interp` but
 * intern_interp_free(); takes one shard's lock per entry.  Each entry is
 * visible to lookups from the moment it is filed (a release store), every
 * entry by the return.
 */
INTERN_EXPORT int
intern_interp_add_statics(struct intern_interp *interp,
			  const struct intern_static_table *table);

/* ---------------------------------------------------------------------------
 * Snapshots and IDs
 * ------------------------------------------------------------------------- */

/*
 * A snapshot is a file of immortal strings that processes map read-only
 * and shared (docs/snapshot.md has the format).  Each string in it is a
 * canonical struct intern_str, IMMORTAL_STATIC with INTERN_STR_F_STATIC
 * and INTERN_STR_F_MAPPED,
 * beside a read-only hash index: an interpreter created with a snapshot
 * returns the object inside the mapping for its bytes, by every route,
 * with no allocation, no lock and no write, and maps the file in constant
 * time.  Every snapshot string has a dense 32-bit ID, its index in the
 * file, the same in every process and across restarts that map the same
 * file; the interpreter's other immortal strings get IDs on request, from
 * the snapshot's count upward, never reused while the interpreter lives.
 */
struct intern_snapshot;
struct intern_snapshot_builder;

/* "No ID": what intern_id_of() returns on failure. */
#define INTERN_ID_NONE UINT32_MAX

/* intern_snapshot_open() flag: check the header and its checksum only. */
#define INTERN_SNAPSHOT_TRUSTED 0x1u

/*
 * Create an empty builder: a set of strings to write as a snapshot.
 * Returns a new builder, to be freed with intern_snapshot_builder_free(),
 * or NULL with errno ENOMEM.
 * Thread-safe; allocates.  A builder itself is not synchronized: one
 * thread at a time uses it.
 */
INTERN_EXPORT struct intern_snapshot_builder *intern_snapshot_builder_new(void);

/*
 * Add `len` bytes at `data` (copied).  IDs are given in order of first
 * addition, from 0; adding bytes already in the builder is a no-op (it
 * keeps its ID), and so is adding the bytes of a built-in singleton (the
 * empty and one-byte strings, the small integers' decimal text), which are
 * static in every process already.
 * Returns 0, or -EINVAL (NULL builder, data NULL with len > 0), -EOVERFLOW
 * (len > INTERN_STR_MAX_LEN, or the builder would pass 2^32 - 1 strings or
 * the format's size limit) or -ENOMEM; the builder is unchanged then.
 * Not synchronized: the caller excludes other calls on `b`.
 */
INTERN_EXPORT int intern_snapshot_builder_add(struct intern_snapshot_builder *b,
					      const char *data, size_t len);

/*
 * Add every immortal string of `interp`, in this order: the strings of
 * its snapshot in ID order, then its other strings with an ID in ID order,
 * then its immortal strings without an ID (immortal dynamic and filed
 * statics, in no particular order).  Into an empty builder, this keeps
 * every ID: a snapshot written from a process that mapped snapshot S
 * gives S's strings, and the strings the process numbered since, the IDs
 * they had.  Borrows `interp` for the call.
 * Returns 0, -EINVAL (a NULL or freed argument), -EOVERFLOW, -ENOMEM
 * (the strings added before the failure stay added) or -EBADMSG (a
 * snapshot opened with INTERN_SNAPSHOT_TRUSTED whose ID table lies).
 * Not synchronized on `b`; thread-safe on `interp`: it may run while
 * other threads intern there (strings made immortal meanwhile may be
 * missed), takes each shard's lock in turn and the ID lock.
 */
INTERN_EXPORT int intern_snapshot_builder_add_interp(struct intern_snapshot_builder *b,
						     struct intern_interp *interp);

/*
 * Write the builder's strings to `path` as a snapshot, atomically: into a
 * temporary file in the same directory, flushed with fsync(), then renamed
 * over `path`, so a reader sees the old file or the whole new one, never
 * part of one.  The builder is unchanged and may be written again.
 * Returns 0, or -EINVAL (a NULL argument), -ENOMEM, or the negative errno
 * of the failing system call (open, write, fsync, rename...); the
 * temporary file is removed on failure.
 * Not synchronized on `b`; blocks on I/O.
 */
INTERN_EXPORT int intern_snapshot_builder_write(struct intern_snapshot_builder *b,
						const char *path);

/* Free a builder and its copies of the strings.  NULL is ignored.
 * Not synchronized: no other call may use `b` during or after it. */
INTERN_EXPORT void intern_snapshot_builder_free(struct intern_snapshot_builder *b);

/*
 * Open the snapshot at `path`: check it and map it read-only and shared
 * (MAP_SHARED, PROT_READ), so that every process mapping the file shares
 * its pages.  `flags` is 0, full validation in time linear in the file's
 * size (the XXH3 checksum of the whole file and the structure, in one
 * ordered pass: every length and offset in bounds, strings
 * NUL-terminated, not overlapping and not duplicated, the index and the
 * ID table consistent), or
 * INTERN_SNAPSHOT_TRUSTED, for files this deployment wrote itself: the
 * header and its checksum only, constant time.  A file that changes
 * after it was opened is undefined behaviour, as for any mapped file:
 * replace a snapshot by renaming a new one over it (what
 * intern_snapshot_builder_write() does), never by writing into it.
 * Returns a new reference to a snapshot, dropped with
 * intern_snapshot_close(), or NULL with errno: what open() or fstat()
 * said (ENOENT, EACCES...), EINVAL (a NULL path, an unknown flag, a
 * directory or other non-regular file), ENOEXEC (not a snapshot: empty,
 * shorter than a header, a wrong magic), ENOTSUP (a snapshot of another
 * format version, struct intern_str ABI, byte order or word size),
 * EBADMSG (corrupted: a checksum or the structure), EIO (the file could
 * not be read while it was checked), ENOMEM.  When `why`
 * is not NULL and `why_len` > 0, a NUL-terminated sentence that says
 * what was wrong ("string 17: its length runs past the string area") is
 * written there on failure.
 * Thread-safe; blocks on I/O; allocates.
 */
INTERN_EXPORT struct intern_snapshot *intern_snapshot_open(const char *path, unsigned flags,
							   char *why, size_t why_len);

/*
 * Drop the caller's reference to `snap`.  The mapping goes when the last
 * reference goes: interpreters created with it hold their own, so it may
 * be closed right after intern_interp_new_snapshot().  NULL is ignored.
 * Thread-safe; an atomic decrement; the last one unmaps.
 */
INTERN_EXPORT void intern_snapshot_close(struct intern_snapshot *snap);

/* The number of strings in `snap`, whose IDs are 0..count-1; 0 for NULL.
 * Thread-safe, reads an immutable field. */
INTERN_EXPORT size_t intern_snapshot_count(const struct intern_snapshot *snap);

/* What intern_snapshot_info() tells about an open snapshot. */
struct intern_snapshot_info {
	uint32_t format;           /* the file format's version */
	uint32_t str_abi;          /* the layout version of struct intern_str in it */
	bool big_endian;           /* the file's (and so this process's) byte order */
	uint32_t word_size;        /* sizeof(void *) of the writer, in bytes */
	uint32_t count;            /* strings, IDs 0..count-1 */
	uint64_t file_size;        /* bytes */
	uint64_t string_bytes;     /* the strings' lengths summed, NULs not counted */
	uint64_t string_area;      /* bytes of the string area: headers, NULs, padding */
	uint64_t index_slots;      /* slots of the hash index (8 bytes each) */
	const char *hash;          /* the index hash, "XXH3-64" (seeded): static */
	uint64_t seed;             /* its seed */
	uint32_t max_probe;        /* the largest displacement in the index */
	uint64_t header_checksum;  /* as stored (XXH3-64 of the header) */
	uint64_t body_checksum;    /* as stored (XXH3-64 of the rest) */
	uint64_t probe_hist[16];   /* strings at displacement 0..14, and 15 or more */
};

/*
 * Fill `info` with `snap`'s header and index statistics (docs/snapshot.md
 * has the fields' meaning in the file).  Walks the index and the ID table:
 * linear in the number of strings (and their bytes, hashed for the
 * displacements).  Returns 0 or -EINVAL (a NULL argument).
 * Thread-safe, reads only (the mapping is immutable).
 */
INTERN_EXPORT int intern_snapshot_info(const struct intern_snapshot *snap,
				       struct intern_snapshot_info *info);

/*
 * The string whose ID in `snap` is `id`, without an interpreter.
 * Returns a borrowed reference (incref/decref are no-ops on it), valid
 * while a reference to `snap` is held, or NULL with errno ENOENT (`id` >=
 * the count) or EINVAL (NULL snap).
 * Thread-safe, constant time, writes nothing.
 */
INTERN_EXPORT struct intern_str *intern_snapshot_str(const struct intern_snapshot *snap,
						     uint32_t id);

/*
 * The ID of the string of `snap` with these `len` bytes, without an
 * interpreter; the built-in singletons' bytes are never in a snapshot.
 * Returns the ID, or INTERN_ID_NONE with errno ENOENT (not in it) or
 * EINVAL (NULL snap, data NULL with len > 0).
 * Thread-safe, lock-free, writes nothing: one hash and a bounded probe.
 */
INTERN_EXPORT uint32_t intern_snapshot_find(const struct intern_snapshot *snap,
					    const char *data, size_t len);

/*
 * Create an interpreter (as intern_interp_new(), `config` the same)
 * whose canonical strings start with `snap`'s: interning bytes that the
 * snapshot holds, by any route (intern_bytes, intern_lookup, intern_auto,
 * intern_int, intern_mortal and intern_immortal of an equal string),
 * returns the object inside the mapping, IMMORTAL_STATIC, without a lock,
 * an allocation or a write.  Static objects with those bytes are refused
 * with -EEXIST (intern_static, intern_interp_add_statics): the snapshot's
 * object is canonical.  A string of another snapshot (flag
 * INTERN_STR_F_MAPPED) lives only as long as its mapping, so no other
 * interpreter files it: intern_mortal() and intern_immortal() intern a
 * copy of its bytes there, intern_static() and intern_interp_add_statics()
 * refuse it with -EINVAL.  Takes its own reference on `snap`, dropped by
 * intern_interp_free(); the mapped strings stay valid as long as
 * the interpreter.
 * Returns a new interpreter, or NULL with errno as intern_interp_new()
 * (EINVAL also for a NULL `snap`).
 * Thread-safe, as intern_interp_new().
 */
INTERN_EXPORT struct intern_interp *
intern_interp_new_snapshot(const struct intern_config *config, struct intern_snapshot *snap);

/* ---------------------------------------------------------------------------
 * Dense IDs
 * ------------------------------------------------------------------------- */

/*
 * The dense ID of `s` in `interp`.  A string of interp's snapshot has its
 * index in the file (0..count-1).  Another immortal string of `interp`
 * (IMMORTAL dynamic, or a filed static) gets the next free ID, from the
 * snapshot's count (0 without one) upward, on its first request; later
 * requests return the same ID, and an ID is never reused while `interp`
 * lives.  Built-in singletons have no ID.
 * Returns the ID, or INTERN_ID_NONE with errno EINVAL (NULL or freed
 * argument; `s` not immortal in `interp`: mortal, not interned, another
 * interpreter's, a built-in singleton), EOVERFLOW (IDs exhausted) or
 * ENOMEM.
 * Thread-safe.  For a snapshot string, or a string that has its ID
 * already, lock-free and constant time (an RCU read-side section, no
 * write); a first request takes the interpreter's ID lock and may
 * allocate.
 */
INTERN_EXPORT uint32_t intern_id_of(struct intern_interp *interp, const struct intern_str *s);

/*
 * The string whose ID in `interp` is `id`.
 * Returns a borrowed reference (incref/decref are no-ops on it), valid
 * while `interp` lives, or NULL with errno ENOENT (no string has that ID
 * yet) or EINVAL (NULL or freed interp).
 * Thread-safe, lock-free, constant time, writes nothing.
 */
INTERN_EXPORT struct intern_str *intern_id_str(struct intern_interp *interp, uint32_t id);

/* ---------------------------------------------------------------------------
 * Reclamation, inspection
 * ------------------------------------------------------------------------- */

/*
 * Mortal strings that die are freed after an RCU grace period, in batches,
 * by the thread that dropped their last reference (docs/design.md,
 * "Reclamation").  A thread keeps at most `thread_bound` dead strings (see
 * intern_reclaim_stats()) until it exits, calls intern_thread_detach() or
 * intern_barrier().  intern_barrier() hands all of this thread's dead
 * strings to RCU and waits until every free queued so far, by any thread,
 * has run.  Use it before measuring memory or before exit under a leak
 * checker.  Blocks; must not be called inside a liburcu read-side critical
 * section or a scope (a misuse, detected: it returns at once), nor while
 * holding a lock that a thread inside a scope may wait for.
 */
INTERN_EXPORT void intern_barrier(void);

/*
 * Reclamation figures, process-wide (dead strings of every interpreter).
 * A dead string is a mortal string whose last reference was dropped: it
 * has left its table and waits for a grace period before it is freed.
 * Each thread counts its dead strings in batches of 128: a string is
 * counted from the moment its batch closes, or is handed over at thread
 * exit, intern_thread_detach() or intern_barrier().  New fields are only
 * ever added at the end (see intern_reclaim_stats()).
 */
struct intern_reclaim_stats {
	uint64_t pending;      /* dead strings counted and not yet freed */
	uint64_t pending_max;  /* the most `pending` has been */
	uint64_t thread_max;   /* the most one thread held at once */
	uint64_t thread_bound; /* what one thread may hold: thread_max never
				* passes it, except in a thread that drops
				* references inside its own liburcu read-side
				* section (its excess goes to liburcu's
				* call_rcu thread) */
	uint64_t freed;        /* dead strings freed */
	uint64_t helped;       /* grace periods a thread waited for itself
				* because its backlog, or the process's,
				* passed a threshold */
};

/*
 * Fill the first `size` bytes of `stats` (pass sizeof(*stats)) with the
 * reclamation figures.  struct intern_stats is laid out by the caller and
 * cannot grow within a soname, so these come through a call of their own,
 * whose struct may grow at its end: a program compiled against an older
 * header passes its smaller size and gets the fields it knows.
 * The figures are read without a lock, each atomically, so they may be a
 * moment apart from each other.  Returns 0, or -EINVAL (NULL, size 0).
 * Thread-safe, lock-free, never blocks.
 */
INTERN_EXPORT int intern_reclaim_stats(struct intern_reclaim_stats *stats,
				       size_t size);

/*
 * The calling thread gives back what libintern holds for it, as its exit
 * would: its batches of dead strings go to RCU (their frees are queued,
 * not waited for), the dead strings it kept for reuse are freed, its statistics counts go to their interpreters, and
 * libintern's liburcu registration of it, if libintern made one, is
 * undone.  A registration the application made itself is left alone (the
 * application undoes it).  Call it, in every thread but the forking one,
 * before fork(): liburcu's memb readers must all be unregistered then
 * (see "fork()" above).  The thread may use libintern again afterwards:
 * it is registered again when it next needs to be.
 * Returns 0; -EBUSY inside a liburcu read-side critical section (nothing
 * is given back then).  Strings the thread holds stay valid: references
 * belong to the caller, not to the thread.
 * Thread-safe; acts on the calling thread only.  Blocks: it takes the
 * statistics lock and liburcu's registry lock, which a grace period in
 * progress holds until it ends.  The counts it gives
 * back are in intern_interp_stats() once it returns.
 */
INTERN_EXPORT int intern_thread_detach(void);

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
	/* Activity since intern_interp_new(), every thread counted, exited
	 * ones included; all 0 in a library built with -Dstats=false.
	 * A lookup is the lock-free probe every intern_bytes, intern_lookup,
	 * intern_auto (identifier), intern_mortal and intern_immortal call
	 * makes first, except when a built-in singleton answers (0/1-byte
	 * strings, small integers), the interpreter's snapshot does (its
	 * hits write nothing, not even a counter) or the string is already
	 * canonical in `interp`; intern_static makes none. */
	uint64_t hits;          /* lookups that returned a canonical string */
	uint64_t misses;        /* lookups that found none (or a dying one) */
	uint64_t inserts;       /* entries added, static ones included */
	uint64_t removals;      /* entries removed: dead mortal strings */
	uint64_t reseeds;       /* shards rehashed under a fresh key of their
				 * own because a flood was detected (counted
				 * with -Dstats=false too) */
	/* What the quotas count (struct intern_config): mortal entries,
	 * dying ones included until removed, and their bytes (len + 1
	 * each).  Counted whether or not a limit is set. */
	size_t quota_mortal;
	size_t quota_mortal_bytes;
};

/*
 * Fill `stats` with `interp`'s figures by walking every shard under its
 * lock.  The activity counters are exact for the calls that happened
 * before this one (a thread's calls before pthread_join() returned, say);
 * for calls running concurrently they may lag.  Returns 0 or -EINVAL.
 * Thread-safe; takes each shard's lock in turn and briefly a process-wide
 * mutex (to sum the per-thread counters), so it delays inserts and threads
 * starting to use an interpreter, never lookups.
 */
INTERN_EXPORT int intern_interp_stats(struct intern_interp *interp,
				      struct intern_stats *stats);

/*
 * Walk `interp` and verify every invariant that can be checked from
 * inside: each entry's state and owner, each slot's hash tag, no two
 * entries with equal bytes, no entry with the bytes of a built-in
 * singleton, counts that agree (with the statistics: inserts - removals =
 * entries; with a quota, the counted mortal entries and bytes equal the
 * table's and are within the limits).  Returns 0 if all hold, -EINVAL for
 * a NULL argument, or -EUCLEAN and prints what failed to stderr.  A
 * library built with assertions (NDEBUG undefined) runs it in
 * intern_interp_free() and aborts if it fails, as HotSpot's
 * VerifyStringTableAtExit.
 * Thread-safe; takes each shard's lock in turn, or, when the interpreter
 * has a quota, every shard's lock for the whole walk (inserts and removals
 * wait; lookups never do).
 */
INTERN_EXPORT int intern_interp_check(struct intern_interp *interp);

/* ---------------------------------------------------------------------------
 * Maps keyed by canonical strings
 * ------------------------------------------------------------------------- */

/*
 * A hash map from strings to `void *` values, for keys that are canonical
 * (interned, or static singletons): it hashes the key's address and
 * compares pointers, never reading the bytes, so two keys are the same key
 * exactly when they are the same object.  (A NOT_INTERNED string works as
 * a key too, by identity.)  The map holds a counted reference on each key:
 * a mortal key stays in the intern table while a map holds it, and leaves
 * it when the last holder, perhaps the map, lets go.  Small maps are
 * compact: up to 8 entries sit in an array of 2, 4 or 8 slots of 16 bytes,
 * scanned without hashing (docs/map.md has the layout and the memory per
 * entry).
 *
 * Not internally synchronized, like a dict: the caller serializes every
 * call that changes the map (set, delete, clear, free, iteration with
 * intern_map_iter_delete) against every other call on it.  Calls that only
 * read (get, find, size, iteration without deleting) write nothing and may
 * run concurrently with each other.  Calls that drop key references
 * (delete, clear, free, intern_map_iter_delete) call intern_str_decref(),
 * so they must not run inside the caller's own liburcu read-side critical
 * section.
 */
struct intern_map;

/* An iteration cursor, on the caller's stack.  The fields are private. */
struct intern_map_iter {
	const struct intern_map *map;
	size_t pos;
};

/*
 * Create an empty map with room for `expected` entries (0: none yet; the
 * array is allocated by the first insert).
 * Returns a new map, to be freed with intern_map_free(), or NULL with
 * errno ENOMEM.
 * Thread-safe; allocates.
 */
INTERN_EXPORT struct intern_map *intern_map_new(size_t expected);

/*
 * Free `map`: drops the map's reference on every key and, if `free_value`
 * is not NULL, calls it on every value (NULL values included).  NULL is
 * ignored.
 * Not synchronized: no other call may use `map` during or after it.
 */
INTERN_EXPORT void intern_map_free(struct intern_map *map, void (*free_value)(void *value));

/*
 * Insert `key` -> `value`, or replace the value of a key present.
 * Inserted: the map takes its own new reference on `key` (the caller keeps
 * its own) and 1 is returned.  Replaced: the map keeps the reference it
 * already holds, stores the old value in *old_value if `old_value` is not
 * NULL, and returns 0.  The map never frees values.
 * Returns 1, 0, -EINVAL (NULL map or key) or -ENOMEM (growing failed: the
 * map and the caller's reference are unchanged; a replace never fails).
 * Not synchronized: the caller excludes every other call on `map`.
 */
INTERN_EXPORT int intern_map_set(struct intern_map *map, struct intern_str *key, void *value,
				 void **old_value);

/*
 * intern_map_set(), taking over the caller's reference to `key` instead
 * of counting one of its own: for a caller that got `key` as a new
 * reference only to store it (intern_bytes(), intern_promote()), it
 * saves an increment and a decrement of the key's count.
 * Steals `key` on every path, including failure: inserted, the map keeps
 * the reference (returns 1); replaced, the map keeps the reference it
 * already holds and drops the stolen one (returns 0, *old_value as
 * intern_map_set()); on -EINVAL (NULL map; a NULL key is ignored) or
 * -ENOMEM the stolen reference is dropped.  Dropping may free a mortal
 * string (as intern_str_decref()), so `key` must not be used after the
 * call unless the caller holds another reference or borrowed it in a
 * scope that is still open.
 * Not synchronized: the caller excludes every other call on `map`.
 */
INTERN_EXPORT int intern_map_set_steal(struct intern_map *map, struct intern_str *key,
				       void *value, void **old_value);

/*
 * The value stored for `key`, or NULL if absent or on a NULL argument (use
 * intern_map_find() when values may be NULL).  Returns a borrowed value:
 * the map does not own it.
 * Not synchronized: may run with other reads of `map`, not with a write.
 */
INTERN_EXPORT void *intern_map_get(const struct intern_map *map, const struct intern_str *key);

/*
 * Is `key` present?  Returns 0 and stores its value in *value (a borrowed
 * value) if `value` is not NULL, -ENOENT if absent, -EINVAL (NULL map or
 * key).
 * Not synchronized: may run with other reads of `map`, not with a write.
 */
INTERN_EXPORT int intern_map_find(const struct intern_map *map, const struct intern_str *key,
				  void **value);

/*
 * Remove `key`: the map drops its reference on the key (which may free a
 * mortal string whose last holder the map was: `key` is then dangling on
 * return, unless the caller holds its own reference), and stores the value
 * in *old_value if `old_value` is not NULL (the caller owns it now).  A
 * map that falls below 1/8 full shrinks.
 * Returns 0, -ENOENT (absent), -EINVAL (NULL map or key).
 * Not synchronized: the caller excludes every other call on `map`; must
 * not run inside the caller's liburcu read-side critical section.
 */
INTERN_EXPORT int intern_map_delete(struct intern_map *map, const struct intern_str *key,
				    void **old_value);

/* The number of entries; 0 for NULL.  Not synchronized, reads only. */
INTERN_EXPORT size_t intern_map_size(const struct intern_map *map);

/*
 * Remove every entry: the map drops its reference on every key and calls
 * `free_value` (if not NULL) on every value; frees the slot array and
 * stays usable.  NULL is ignored.
 * Not synchronized: the caller excludes every other call on `map`; must
 * not run inside the caller's liburcu read-side critical section.
 */
INTERN_EXPORT void intern_map_clear(struct intern_map *map, void (*free_value)(void *value));

/*
 * Iterate:
 *
 *     struct intern_map_iter it;
 *     struct intern_str *key;
 *     void *value;
 *
 *     intern_map_iter_init(&it, map);
 *     while (intern_map_iter_next(&it, &key, &value))
 *             if (expired(value))
 *                     intern_map_iter_delete(&it, NULL);
 *
 * Every entry present for the whole walk is visited exactly once, in no
 * particular order.  The map must not change during the walk except
 * through intern_map_iter_delete(), which removes the entry just returned
 * as intern_map_delete() does (without shrinking).  intern_map_iter_next()
 * stores borrowed references to the key and value (each pointer may be
 * NULL), valid until the entry is removed, and returns false at the end;
 * a NULL iterator or map ends at once.  intern_map_iter_delete() returns
 * 0, or -EINVAL when no entry is current (before the first next, after
 * the end, a second delete of the same entry) or for a NULL iterator.
 * Not synchronized: a walk is a read of `map` (a walk that deletes, a
 * write); the caller excludes writers for its whole length.
 */
INTERN_EXPORT void intern_map_iter_init(struct intern_map_iter *it,
					const struct intern_map *map);
INTERN_EXPORT bool intern_map_iter_next(struct intern_map_iter *it, struct intern_str **key,
					void **value);
INTERN_EXPORT int intern_map_iter_delete(struct intern_map_iter *it, void **old_value);

#ifdef __cplusplus
}
#endif

#endif /* INTERN_H */
