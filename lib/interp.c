/*
 * interp.c: interpreters (isolated interning domains) and the registry that
 * lets a dying string find its interpreter.
 *
 * A string header has room for a 16-bit owner id, not a pointer (the header
 * is 16 bytes, see include/intern.h), so interpreters live in a process-wide
 * registry indexed by id.  Lookups of the registry happen only on the death
 * of a mortal string, inside an RCU read-side section; creation and freeing
 * take `interp_registry_lock`, a mutex that is never on a lookup or insert
 * path.
 *
 * Freeing an interpreter, in order:
 *   1. sweep its table shard by shard under each shard lock: mortal strings
 *      become NOT_INTERNED, immortal ones are freed, except those that other
 *      holders counted before they became immortal, which are kept
 *      (table.c, sweep_immortal);
 *   2. unpublish it from the registry;
 *   3. wait for a grace period: every killer that found it in the registry
 *      (and may be waiting on a shard lock) has finished;
 *   4. free the shards and give the id back.
 * A killer that finds the registry slot empty (or reused by a newer
 * interpreter) unlinks nothing: its string is no longer in any table, or is
 * NOT_INTERNED, and removal is by identity.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "intern-private.h"
#include "rcu.h"
#include "snapshot.h"

static pthread_mutex_t interp_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct intern_interp *registry[INTERN_INTERP_MAX + 1]; /* [0] unused */
static unsigned char id_taken[INTERN_INTERP_MAX + 1];
static unsigned next_id = 1;

/*
 * Freed interpreters' structs, kept (magic INTERN__INTERP_DEAD, no shards)
 * until INTERN__QUARANTINE later frees push them out, so that a call with a
 * stale handle reads valid memory that says "dead" and fails with EINVAL
 * instead of reading freed memory (intern__interp_ok).  About 200 bytes
 * each; under interp_registry_lock.
 */
static struct intern_interp *quarantine[INTERN__QUARANTINE];
static unsigned quarantine_next;

/*
 * Strings that teardown could not free because holders may still use them
 * (table.c, sweep_immortal): pinned for the life of the process, and listed
 * here so that leak checkers report them as reachable, not lost.  If the
 * list cannot grow the string is kept all the same, unlisted.  The list is
 * bookkeeping for leak checkers, not memory the library needs, so it comes
 * from malloc() itself, past the fault-injection hook (alloc.h): an
 * injected failure there would only make a leak checker cry wolf.  Under
 * interp_registry_lock.
 */
static struct intern_str **kept;
static size_t kept_count, kept_cap;

void intern__keep_forever(struct intern_str *s)
{
	pthread_mutex_lock(&interp_registry_lock);
	if (kept_count == kept_cap) {
		size_t cap = kept_cap ? 2 * kept_cap : 16;
		struct intern_str **k = realloc(kept, cap * sizeof(*k));

		if (k) {
			kept = k;
			kept_cap = cap;
		}
	}
	if (kept_count < kept_cap)
		kept[kept_count++] = s;
	pthread_mutex_unlock(&interp_registry_lock);
}

static int alloc_id(struct intern_interp *interp)
{
	int rc = -EMFILE;

	pthread_mutex_lock(&interp_registry_lock);
	for (unsigned n = 0; n < INTERN_INTERP_MAX; n++) {
		unsigned id = next_id;

		next_id = next_id == INTERN_INTERP_MAX ? 1 : next_id + 1;
		if (!id_taken[id]) {
			id_taken[id] = 1;
			interp->id = (uint16_t)id;
			/* Release: the interpreter is fully built before a
			 * killer can find it. */
			__atomic_store_n(&registry[id], interp, __ATOMIC_RELEASE);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&interp_registry_lock);
	return rc;
}

INTERN_API void intern_config_init(struct intern_config *config)
{
	if (!config)
		return;
	memset(config, 0, sizeof(*config));
	config->shards = INTERN_SHARDS_DEFAULT;
	config->auto_intern_max_len = INTERN_AUTO_MAX_LEN_DEFAULT;
}

struct intern_interp *intern__interp_create(const struct intern_config *config,
					    struct intern_snapshot *snap)
{
	struct intern_config cfg;
	struct intern_interp *interp;
	unsigned bits = 0;
	int rc;

	intern_config_init(&cfg);
	if (config) {
		cfg = *config;
		if (cfg.shards == 0)
			cfg.shards = INTERN_SHARDS_DEFAULT;
		if (cfg.auto_intern_max_len == 0)
			cfg.auto_intern_max_len = INTERN_AUTO_MAX_LEN_DEFAULT;
	}
	if (cfg.shards > INTERN_SHARDS_MAX || (cfg.shards & (cfg.shards - 1))) {
		errno = EINVAL;
		return NULL;
	}
	while ((1u << bits) < cfg.shards)
		bits++;

	/* Aligned: the quota counters have a cache line of their own. */
	interp = intern__calloc_aligned(INTERN_CACHELINE, 1, sizeof(*interp));
	if (!interp)
		goto nomem;
	interp->magic = INTERN__INTERP_LIVE;
	interp->config = cfg;
	interp->quota_on = cfg.max_mortal != 0 || cfg.max_mortal_bytes != 0;
	interp->nshards = cfg.shards;
	interp->shard_shift = 32 - bits;
	interp->shards = intern__calloc_aligned(INTERN_CACHELINE, cfg.shards,
						sizeof(*interp->shards));
	if (!interp->shards)
		goto nomem;
	for (unsigned k = 0; k < cfg.shards; k++)
		pthread_mutex_init(&interp->shards[k].lock, NULL);
	intern__stats_init(interp);
	interp->snap = snap;
	intern__ids_init(interp);
	rc = alloc_id(interp);
	if (rc < 0) {
		intern__ids_fini(interp);
		intern__free(interp->shards);
		intern__free(interp);
		errno = -rc;
		return NULL;
	}
	if (snap)
		intern__snap_ref(snap); /* dropped by intern_interp_free */
	return interp;
nomem:
	if (interp)
		intern__free(interp->shards);
	intern__free(interp);
	errno = ENOMEM;
	return NULL;
}

INTERN_API struct intern_interp *intern_interp_new(const struct intern_config *config)
{
	return intern__interp_create(config, NULL);
}

INTERN_API void intern_interp_free(struct intern_interp *interp)
{
	struct intern_interp *old;

	if (!interp)
		return;
	if (!intern__interp_ok(interp)) {
		/* Freed already (within the quarantine): a double free. */
		intern__misuse("intern_interp_free of a freed interpreter %p", (void *)interp);
		return;
	}
	if (intern__in_read_section()) {
		/* Its grace period would wait for the caller: refused before
		 * anything is torn down. */
		intern__misuse("intern_interp_free inside a scope or read-side section");
		return;
	}
#ifndef NDEBUG
	/* HotSpot's VerifyStringTableAtExit: a broken table is reported, not
	 * torn down in silence. */
	if (intern_interp_check(interp) != 0)
		intern__die("intern_interp_free: interpreter %u fails intern_interp_check",
			    interp->id);
#endif
	intern__table_teardown(interp); /* 1 */
	pthread_mutex_lock(&interp_registry_lock);
	__atomic_store_n(&registry[interp->id], NULL, __ATOMIC_RELEASE); /* 2 */
	pthread_mutex_unlock(&interp_registry_lock);
	intern__synchronize(); /* 3 */
	pthread_mutex_lock(&interp_registry_lock);
	id_taken[interp->id] = 0; /* 4 */
	pthread_mutex_unlock(&interp_registry_lock);
	intern__stats_fini(interp); /* no thread's counter slot names it now */
	intern__ids_fini(interp);
	intern_snapshot_close(interp->snap); /* NULL is ignored */
	interp->snap = NULL;
	for (unsigned k = 0; k < interp->nshards; k++)
		pthread_mutex_destroy(&interp->shards[k].lock);
	intern__free(interp->shards);
	interp->shards = NULL;
	__atomic_store_n(&interp->magic, INTERN__INTERP_DEAD, __ATOMIC_RELAXED);
	pthread_mutex_lock(&interp_registry_lock);
	old = quarantine[quarantine_next];
	quarantine[quarantine_next] = interp;
	quarantine_next = (quarantine_next + 1) % INTERN__QUARANTINE;
	pthread_mutex_unlock(&interp_registry_lock);
	intern__free(old);
}

void intern__release_mortal(struct intern_str *s)
{
	struct intern_interp *interp;

	intern__read_lock();
	/* Acquire: pairs with alloc_id's release, the interpreter is built. */
	interp = __atomic_load_n(&registry[__atomic_load_n(&s->ob_owner, __ATOMIC_RELAXED)],
				 __ATOMIC_ACQUIRE);
	if (interp)
		intern__table_remove(interp, s);
	intern__read_unlock();
	/* Rule R4: unlinked (or replaced) above, freed after a grace period. */
	intern__defer_free(s);
}

INTERN_API void intern_barrier(void)
{
	if (intern__in_read_section()) {
		intern__misuse("intern_barrier inside a scope or read-side section");
		return;
	}
	intern__barrier();
}
