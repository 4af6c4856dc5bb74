/*
 * bench-rcu.h: what the two RCU baselines (cds_lfht, sharded ck_hs) share:
 * reader registration and freeing an entry after a grace period.
 *
 * Both use liburcu's memb flavor with the inline read-side primitives
 * (_LGPL_SOURCE), as libintern does, so the comparison is about the tables.
 * Worker threads register in thread_enter; the main thread registered
 * itself in bench.c before libintern could register it lazily (registering
 * a thread twice aborts inside liburcu).
 *
 * A counted entry that dies is freed with call_rcu.  Its rcu_head is put
 * after the entry's bytes and allocated only for counted tables, so the
 * never-freeing mode (whose memory the report shows) carries no such field.
 */
#ifndef BENCH_RCU_H
#define BENCH_RCU_H

#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

#include <stdbool.h>
#include <stdlib.h>

struct bench_rcu_tail {
	struct rcu_head head;
	void *obj; /* the allocation to free */
};

/* Bytes to allocate for an object of `size` bytes, with a tail if counted. */
static inline size_t bench_rcu_alloc_size(size_t size, bool counted)
{
	size_t align = _Alignof(struct bench_rcu_tail);

	if (!counted)
		return size;
	return ((size + align - 1) & ~(align - 1)) + sizeof(struct bench_rcu_tail);
}

static void bench_rcu_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct bench_rcu_tail, head)->obj);
}

/*
 * Free `obj` (allocated with bench_rcu_alloc_size(size, true) bytes) once
 * every read-side section that could have reached it has ended.  The
 * caller must have unlinked it first.  The calling thread must be a
 * registered reader.
 */
static inline void bench_rcu_free_deferred(void *obj, size_t size)
{
	size_t align = _Alignof(struct bench_rcu_tail);
	struct bench_rcu_tail *tail = (struct bench_rcu_tail *)((char *)obj + ((size + align - 1) &
									       ~(align - 1)));

	tail->obj = obj;
	urcu_memb_call_rcu(&tail->head, bench_rcu_free_cb);
}

static inline void bench_rcu_thread_enter(void)
{
	urcu_memb_register_thread();
}

static inline void bench_rcu_thread_exit(void)
{
	urcu_memb_unregister_thread();
}

/* Wait for every callback queued so far. */
static inline void bench_rcu_quiesce(void *tab)
{
	(void)tab;
	urcu_memb_barrier();
}

#endif
