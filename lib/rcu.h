/*
 * rcu.h: libintern's glue to liburcu (memb flavor).
 *
 * Three jobs: (1) lazy reader registration, so application threads need no
 * ceremony (the registration and its undoing at exit: thread.c); (2) read-side critical sections for table lookups; (3) deferred
 * freeing of dead strings in per-thread batches, freed by the killing
 * thread once a grace period covers them (rcu.c), and their reuse.
 *
 * ThreadSanitizer cannot see liburcu's grace periods (Debian's liburcu is
 * not instrumented, docs/references.md), so we tell it what they mean: every
 * read-side section ends with a release on `intern__tsan_grace`, and every
 * free that follows a grace period starts with an acquire on it.  A free
 * that skips the grace period (the busted no_grace build) has no such edge,
 * so TSan still reports it.
 */
#ifndef INTERN_RCU_H
#define INTERN_RCU_H

#ifndef INTERN_NO_LGPL_URCU
#define _LGPL_SOURCE /* inline read-side primitives: 0.6 ns lock+unlock */
#endif
#include <urcu/tls-compat.h>

/*
 * liburcu's reader state, urcu_memb_reader, is thread-local in
 * liburcu-memb.so.  libintern uses TLS descriptors (so that it can be
 * dlopened: docs/process.md), where each access is a call, and GCC does
 * not merge those calls: a lookup made five.  So every URCU_TLS() in
 * libintern, liburcu's inline read-side code included, goes through one
 * function declared `const`, which GCC calls once per function that needs
 * it, as glibc's __errno_location.  (The address differs between threads
 * but never within a call, which is all `const` promises here.)
 */
#ifndef CONFIG_RCU_TLS
#error "libintern needs liburcu built with compiler TLS (CONFIG_RCU_TLS)"
#endif
struct urcu_reader;
struct urcu_reader *intern__rcu_tls_urcu_memb_reader(void) __attribute__((const));
#undef URCU_TLS
#define URCU_TLS(name) (*intern__rcu_tls_##name())

#include <urcu/urcu-memb.h>
#include <urcu/static/urcu-memb.h> /* the reader's `registered` flag */

#if defined(__SANITIZE_THREAD__)
#define INTERN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INTERN_TSAN 1
#endif
#endif

#ifdef INTERN_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char intern__tsan_grace;
#define INTERN_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#define INTERN_TSAN_RELEASE(p) __tsan_release((void *)(p))
#else
#define INTERN_TSAN_ACQUIRE(p) ((void)0)
#define INTERN_TSAN_RELEASE(p) ((void)0)
#endif

#include <string.h>

#include "intern.h"
#include "thread.h"

/* Make sure liburcu knows the calling thread: every libintern call that
 * reads under RCU or hands memory to it asks this first.  A load and a
 * compare; the registration itself is out of line (thread.c). */
static inline void intern__rcu_ensure_registered(void)
{
	if (__builtin_expect(!URCU_TLS(urcu_memb_reader).registered, 0))
		intern__thread_register();
}

static inline void intern__read_lock(void)
{
	intern__rcu_ensure_registered();
	urcu_memb_read_lock();
}

static inline void intern__read_unlock(void)
{
	INTERN_TSAN_RELEASE(&intern__tsan_grace);
	urcu_memb_read_unlock();
}

/*
 * The lookup's read-side section.  intern__read_lock() finds liburcu's
 * reader state through a call (URCU_TLS above) and intern__self through a
 * second TLS access; a lookup instead finds intern__self once (`me`) and
 * the reader state cached in it: one TLS access for the section and the
 * statistics together.  The same protocol as liburcu's inline
 * urcu_memb_read_lock/unlock (the nesting count in `ctr`, the grace-period
 * counter copied on the outermost entry, the slave barrier, the wake-up of
 * a waiting synchronize_rcu), applied to that pointer; with liburcu called
 * out of line (INTERN_NO_LGPL_URCU), its functions themselves.
 */
static inline struct urcu_reader *intern__reader(struct intern__thread *me)
{
	struct urcu_reader *r = me->reader;

	if (__builtin_expect(!r || !r->registered, 0))
		r = intern__thread_reader();
	return r;
}

static inline void intern__read_lock_on(struct urcu_reader *r)
{
#ifdef INTERN_NO_LGPL_URCU
	(void)r;
	urcu_memb_read_lock();
#else
	unsigned long tmp;

	cmm_barrier();
	tmp = r->ctr;
	if (caa_likely(!(tmp & URCU_GP_CTR_NEST_MASK))) {
		_CMM_STORE_SHARED(r->ctr, _CMM_LOAD_SHARED(urcu_memb_gp.ctr));
		urcu_memb_smp_mb_slave();
	} else {
		_CMM_STORE_SHARED(r->ctr, tmp + URCU_GP_COUNT);
	}
#endif
}

static inline void intern__read_unlock_on(struct urcu_reader *r)
{
	INTERN_TSAN_RELEASE(&intern__tsan_grace);
#ifdef INTERN_NO_LGPL_URCU
	(void)r;
	urcu_memb_read_unlock();
#else
	unsigned long tmp = r->ctr;

	if (caa_likely((tmp & URCU_GP_CTR_NEST_MASK) == URCU_GP_COUNT)) {
		/* urcu_memb_smp_mb_slave() twice, with the flavor's flag read
		 * once: the compiler barrier would make it a reload. */
		if (caa_likely(urcu_memb_has_sys_membarrier)) {
			cmm_barrier();
			_CMM_STORE_SHARED(r->ctr, tmp - URCU_GP_COUNT);
			cmm_barrier();
		} else {
			cmm_smp_mb();
			_CMM_STORE_SHARED(r->ctr, tmp - URCU_GP_COUNT);
			cmm_smp_mb();
		}
		urcu_common_wake_up_gp(&urcu_memb_gp);
	} else {
		_CMM_STORE_SHARED(r->ctr, tmp - URCU_GP_COUNT);
	}
	cmm_barrier();
#endif
}

/* call_rcu, registering the calling thread first if needed. */
void intern__call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *));

/* Wait for a grace period.  Not inside a read-side section. */
void intern__synchronize(void);

/* Let the calling thread, in no scope yet, begin its outermost scope: once
 * no killer is waiting for a grace period, and none will from then on
 * (rcu.c, "Scopes end the helping").  Two loads when scopes are in use
 * and nobody helps: the common case. */
/* Is the calling thread inside a read-side section (a scope, or its own
 * liburcu section)?  Then it must not wait for a grace period. */
static inline bool intern__in_read_section(void)
{
	return URCU_TLS(urcu_memb_reader).registered && urcu_memb_read_ongoing();
}

extern int intern__scopes_used;
extern unsigned long intern__helpers;
void intern__scope_admit_slow(void);

static inline void intern__scope_admit(void)
{
	if (__builtin_expect(!__atomic_load_n(&intern__scopes_used, __ATOMIC_SEQ_CST) ||
				     __atomic_load_n(&intern__helpers, __ATOMIC_SEQ_CST) != 0,
			     0))
		intern__scope_admit_slow();
}

/*
 * Destroy the string `obj` (poison, then free or keep for reuse) once every
 * read-side section that might see it has ended: batched per thread, and
 * done by this thread once a grace period covers the batch (rcu.c).  Never
 * fails: out of memory, it waits for a grace period here instead, or,
 * inside the caller's own read-side section (a documented misuse), reports
 * and keeps the string.
 */
void intern__defer_free(void *obj);

/* Park a dead string that could not be queued (out of memory) until the
 * calling thread's outermost scope ends, where its free can wait for a
 * grace period: true if parked; false outside a scope or when the thread
 * has INTERN__SCOPE_DEAD_MAX parked already (scope.c). */
bool intern__scope_park(void *obj);

/* Where a kept dead string holds the link to the next (rcu.c, "Reuse"). */
static inline void *intern__reuse_link(struct intern_str *s)
{
	return &s->ob_hash;
}

/*
 * Memory for a new string of `len` bytes: a dead string of that length that
 * this thread freed after its grace period and kept (rcu.c, "Reuse"), its
 * header and bytes to be overwritten; NULL if none.
 */
static inline struct intern_str *intern__str_reused(size_t len)
{
	struct intern__reclaim *r = &intern__self.reclaim;
	struct intern_str *s;

	if (len >= INTERN__REUSE_LENS || !(s = r->reuse[len]))
		return NULL;
	memcpy(&r->reuse[len], intern__reuse_link(s), sizeof(s));
	r->kept--;
	return s;
}

/* Close this thread's open batch, wait for a grace period and free every
 * closed batch, as a killer over its bound does.  Not inside a read-side
 * section.  White box (tests). */
void intern__reclaim_now(void);

/* Hand this thread's batches to RCU, then wait for every callback
 * queued so far.  Not inside a read-side section. */
void intern__barrier(void);

#endif
