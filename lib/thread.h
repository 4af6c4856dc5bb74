/*
 * thread.h: what libintern keeps for each thread, in one place, and the one
 * path that gives it back when the thread exits (thread.c).
 *
 * A thread that uses libintern may come to own three things: a liburcu
 * reader registration that libintern made for it (rcu.h), a batch of dead
 * strings waiting for a grace period (rcu.c), and counter slots for the
 * lookup statistics (stats.c).  All three live in one thread-local struct,
 * intern__self, and one pthread key destructor gives them back in a fixed
 * order (thread.c says which and why); intern_thread_detach() gives them
 * back early, by the same path.
 */
#ifndef INTERN_THREAD_H
#define INTERN_THREAD_H

#include <stdbool.h>
#include <stdint.h>

struct intern_interp;
struct intern_str;
struct intern__free_batch;
struct urcu_reader;

/* Dead strings shorter than this are kept for reuse (rcu.c). */
#define INTERN__REUSE_LENS 64

/*
 * A thread's dead strings not yet freed (rcu.c): the batch its killers are
 * filling, and the closed batches waiting for a grace period, oldest first.
 * Only the thread itself reads or writes it.
 */
struct intern__reclaim {
	struct intern__free_batch *open;   /* filling; NULL until needed */
	struct intern__free_batch *oldest; /* closed, waiting */
	struct intern__free_batch *newest;
	struct intern__free_batch *spare; /* an emptied batch, for the next */
	unsigned closed;                  /* batches on the closed list */
	unsigned held;                    /* strings in them */
	/* Freed dead strings kept for reuse by length (rcu.c, "Reuse"). */
	struct intern_str *reuse[INTERN__REUSE_LENS];
	unsigned kept; /* strings on those lists */
};

/* Counter slots per thread: a thread that uses more interpreters at once
 * counts the extra ones in their shared counters (thread-local state is per thread, so kept small). */
#define INTERN__THREAD_SLOTS 4

/*
 * A thread's private lookup counters for one interpreter (stats.c explains
 * the scheme).  The counters are written by the owning thread only, with a
 * relaxed load and store (no read-modify-write, no lock prefix); `interp`
 * names the interpreter counted here, NULL when the slot is free.
 */
struct intern__tslot {
	uint64_t lookups; /* hits are lookups - misses */
	uint64_t misses;
	const struct intern_interp *interp;
};

struct intern__thread {
	/* This thread's liburcu reader state (&urcu_memb_reader), NULL until
	 * the first lookup: read through here, a lookup finds this struct
	 * and the reader with one TLS access instead of two (rcu.h,
	 * intern__reader).  Fixed for the thread's life once set. */
	struct urcu_reader *reader;
#ifndef INTERN_NO_STATS
	/* Statistics (stats.c).  `slot_last` first: every lookup reads it. */
	struct intern__tslot *slot_last; /* never NULL (thread.c: no_slot) */
	struct intern__tslot slot[INTERN__THREAD_SLOTS];
	struct intern__thread *next, *prev; /* stats.c's list, under its lock */
	bool listed;                        /* on that list */
#endif
	/* Reclamation (rcu.c): dead strings not yet freed. */
	struct intern__reclaim reclaim;
	/* The lifecycle (thread.c). */
	bool registered_by_us; /* liburcu registration to undo at exit */
	bool exit_armed;       /* the exit path will run */
};

/* The calling thread's state.  Only the thread itself writes it, except
 * the slots' `interp` and the list links (stats.c, under its lock). */
extern __thread struct intern__thread intern__self;

/* &intern__self, computed once where it is called.  GCC does not merge
 * the TLS-descriptor calls of separate accesses to intern__self (each one
 * an indirect call), so the hit path takes the address here, opaque to
 * the optimizer, and uses the pointer for every access after. */
static inline struct intern__thread *intern__self_get(void)
{
	struct intern__thread *me = &intern__self;

	__asm__("" : "+r"(me));
	return me;
}

/* Register the calling thread, which liburcu does not know yet, and arm
 * the exit path that unregisters it.  Out of line: once a thread.  Callers
 * go through intern__rcu_ensure_registered() or intern__reader() (rcu.h). */
void intern__thread_register(void);

/* intern__reader()'s slow path: register the calling thread if liburcu
 * does not know it, cache its reader state in intern__self.reader, and
 * return it (thread.c). */
struct urcu_reader *intern__thread_reader(void);

/* Make the exit path run when the calling thread exits: 0, or a negative
 * errno when the pthread key cannot be made or set.  Cheap once armed. */
int intern__thread_arm_exit(void);

/* How many threads other than the caller libintern keeps registered with
 * liburcu (a relaxed count: exact when nothing registers or detaches
 * meanwhile, as at fork()). */
unsigned long intern__thread_registered_others(void);

/* The exit path's steps, called by thread.c only, in this order.  Each
 * works on the calling thread's intern__self. */
void intern__stats_thread_exit(void); /* stats.c: fold and unlist the slots */
void intern__rcu_thread_exit(void);   /* rcu.c: hand the batches to call_rcu */

#endif
