/*
 * intern-private.h: what libintern's source files share with each other and
 * with the white-box tests.  Nothing here is API.
 *
 * Names: `intern_` is public, `intern__` is private across files, plain
 * `static` helpers carry no prefix.
 */
#ifndef INTERN_PRIVATE_H
#define INTERN_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "intern.h"

/* Wraps every exported definition; the version script lists the same set. */
#define INTERN_API INTERN_EXPORT

#define INTERN_CACHELINE 64

/* Poison written over freed strings in checking builds (assertions on). */
#define INTERN__POISON_REFCNT 0xdeadbeefu
#define INTERN__POISON_BYTE 0x6b

/* ---- diagnostics -------------------------------------------------------- */

/* Print "libintern: <msg>" and abort: for broken invariants only. */
__attribute__((noreturn, format(printf, 1, 2))) void intern__die(const char *fmt, ...);

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

/* A new NOT_INTERNED string with count 1 and the given hash; NULL + ENOMEM. */
struct intern_str *intern__str_alloc(const char *data, size_t len, uint32_t hash);

/* Poison (checking builds) and free a dynamic string nobody can reach. */
void intern__str_destroy(struct intern_str *s);

/* The built-in singleton for a 0- or 1-byte string. */
struct intern_str *intern__singleton(const char *data, size_t len);
bool intern__is_builtin(const struct intern_str *s);

/* ---- interpreters (interp.c) -------------------------------------------- */

struct intern__table;

struct intern__shard {
	pthread_mutex_t lock;          /* serializes writers of this shard */
	struct intern__table *table;   /* RCU-published; NULL until first insert */
	uint32_t live;                 /* entries, dying ones included */
	uint32_t used;                 /* live entries plus tombstones */
} __attribute__((aligned(INTERN_CACHELINE)));

struct intern_interp {
	uint16_t id;                   /* index in the registry, never 0 */
	unsigned shard_shift;          /* shard = hash >> shard_shift (64-bit) */
	unsigned nshards;
	struct intern__shard *shards;
	struct intern_config config;
};

static inline struct intern__shard *intern__shard_of(const struct intern_interp *interp,
						     uint32_t hash)
{
	return &interp->shards[(uint64_t)hash >> interp->shard_shift];
}

/* The last reference to a MORTAL string was dropped: unlink and free it. */
void intern__release_mortal(struct intern_str *s);

/* ---- the sharded table (table.c) ---------------------------------------- */

/* The lock-free lookup, intern__table_lookup(), is inline in table.h. */

/*
 * Find-or-insert under the shard lock.  `cand` is a string the caller holds:
 * NOT_INTERNED and unowned for `state` MORTAL/IMMORTAL, a static object for
 * IMMORTAL_STATIC.  Returns a new reference to the existing canonical string
 * (made immortal if `state` asks), or `cand` itself once published (the
 * caller's reference to it is then the returned one).  NULL with *err set:
 * -ENOMEM, or -EAGAIN when another interpreter claimed `cand` first.
 */
struct intern_str *intern__table_intern(struct intern_interp *interp, uint32_t hash,
					struct intern_str *cand, int state, int *err);

/* MORTAL -> IMMORTAL for a string of `interp` the caller holds a reference to. */
void intern__table_immortalize(struct intern_interp *interp, struct intern_str *s);

/* Unlink a dead MORTAL string (count 0) by identity. */
void intern__table_remove(struct intern_interp *interp, struct intern_str *s);

/* intern_interp_free's sweep: mortal -> NOT_INTERNED, immortal freed. */
void intern__table_teardown(struct intern_interp *interp);

#endif
