/*
 * baseline-ckhs.c: a sharded ConcurrencyKit ck_hs, one of the table designs
 * libintern considered (its numbers go in the design notes).
 *
 * The strings are split over 64 shards by the top bits of the hash (as
 * libintern's default).  Each shard is a ck_hs in SPMC mode: any number of
 * readers run concurrently with one writer, so lookups take no lock, only
 * a memb read-side section; writers take the shard's pthread mutex (a
 * mutex, not a spinlock: a preempted spinlock holder stalls every spinner
 * when 16 threads share 2 cores: spinlocked shard writers fell to a tenth
 * of mutex-locked ones on this machine).  ck_hs frees an outgrown
 * slot array with defer = true; our allocator hands those to call_rcu, so
 * a reader still probing the old array is safe.
 *
 * Debian's ConcurrencyKit stores bare pointers in the slots
 * (CK_MD_POINTER_PACK_DISABLE): every probed slot is a dependent load of
 * the entry, which is what the 1M-key workload shows.
 *
 * Counted mode: hits take their reference with get-unless-zero; the thread
 * that drops the count to 0 locks the shard, unlinks the entry if it is
 * still the one in the table (by identity), and frees it after a grace
 * period.  A writer that finds a dying entry under the lock unlinks it and
 * inserts a fresh one; the dying entry's releaser then finds another
 * object there, unlinks nothing, and still frees its own entry.
 */
#include "bench-rcu.h"

#include <ck_hs.h>
#include <pthread.h>
#include <string.h>

#include "bench.h"

#define CK_SHARD_BITS 6
#define CK_SHARDS (1u << CK_SHARD_BITS)
#define CK_INITIAL_CAPACITY 64

/* What the slots point to and what lookups pass as the key share a head,
 * so one compare function serves ck_hs_get (probe keys) and ck_hs_put
 * (entries).  CK_PROBE in `len` says which one this is. */
struct ck_head {
	uint32_t hash;
	uint32_t len;
};
#define CK_PROBE 0x80000000u

struct ck_entry {
	struct ck_head h;
	_Atomic uint32_t refcnt; /* counted mode only */
	char data[];             /* len bytes and a NUL */
};

struct ck_probe {
	struct ck_head h;
	const char *s;
};

struct ck_shard {
	pthread_mutex_t lock; /* the shard's one writer */
	ck_hs_t hs;
} __attribute__((aligned(64)));

struct ck_table {
	bool counted;
	struct ck_shard shards[CK_SHARDS];
};

/* ---- allocator: slot arrays outgrown under readers wait for RCU ------- */

struct ck_block {
	struct rcu_head head;
};

static void *ck_m_malloc(size_t n)
{
	struct ck_block *b = malloc(sizeof(*b) + n);

	return b ? b + 1 : NULL;
}

static void ck_block_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct ck_block, head));
}

static void ck_m_free(void *p, size_t n, bool defer)
{
	struct ck_block *b = (struct ck_block *)p - 1;

	(void)n;
	if (defer)
		urcu_memb_call_rcu(&b->head, ck_block_free_cb);
	else
		free(b);
}

static void *ck_m_realloc(void *p, size_t old, size_t n, bool defer)
{
	void *q = ck_m_malloc(n);

	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	ck_m_free(p, old, defer);
	return q;
}

static struct ck_malloc ck_allocator = {
	.malloc = ck_m_malloc,
	.realloc = ck_m_realloc,
	.free = ck_m_free,
};

/* ---- ck_hs callbacks -------------------------------------------------- */

static unsigned long ck_hash_cb(const void *obj, unsigned long seed)
{
	(void)seed;
	return ((const struct ck_head *)obj)->hash;
}

static bool ck_compare_cb(const void *stored, const void *key)
{
	const struct ck_entry *e = stored;
	const struct ck_head *k = key;
	const char *bytes;

	if (k->len & CK_PROBE) {
		if (e->h.len != (k->len & ~CK_PROBE))
			return false;
		bytes = ((const struct ck_probe *)k)->s;
	} else {
		if (e->h.len != k->len)
			return false;
		bytes = ((const struct ck_entry *)k)->data;
	}
	return memcmp(e->data, bytes, e->h.len) == 0;
}

/* ---- the table -------------------------------------------------------- */

static size_t entry_size(size_t len)
{
	return sizeof(struct ck_entry) + len + 1;
}

static struct ck_shard *shard_of(struct ck_table *t, uint32_t hash)
{
	return &t->shards[hash >> (32 - CK_SHARD_BITS)];
}

static void *ck_create(const struct bench_table_config *cfg)
{
	struct ck_table *t = bench_xcalloc(1, sizeof(*t));
	unsigned mode = CK_HS_MODE_SPMC | CK_HS_MODE_OBJECT;

	if (cfg->counted)
		mode |= CK_HS_MODE_DELETE;
	t->counted = cfg->counted;
	for (unsigned i = 0; i < CK_SHARDS; i++) {
		pthread_mutex_init(&t->shards[i].lock, NULL);
		if (!ck_hs_init(&t->shards[i].hs, mode, ck_hash_cb, ck_compare_cb, &ck_allocator,
				CK_INITIAL_CAPACITY, 0))
			bench_die("ck_hs_init failed");
	}
	return t;
}

static void ck_destroy(void *tab)
{
	struct ck_table *t = tab;

	/* Let deferred frees (dead entries, outgrown arrays) run first. */
	urcu_memb_barrier();
	for (unsigned i = 0; i < CK_SHARDS; i++) {
		ck_hs_iterator_t it = CK_HS_ITERATOR_INITIALIZER;
		void *obj;

		while (ck_hs_next(&t->shards[i].hs, &it, &obj))
			free(obj);
		ck_hs_destroy(&t->shards[i].hs);
		pthread_mutex_destroy(&t->shards[i].lock);
	}
	free(t);
}

__attribute__((noinline)) static const void *ck_intern(void *tab, const char *s, size_t len)
{
	struct ck_table *t = tab;
	uint32_t hash = bench_hash(s, len);
	struct ck_shard *sh = shard_of(t, hash);
	struct ck_probe probe = { { hash, (uint32_t)len | CK_PROBE }, s };
	struct ck_entry *e;

	/* The read-side section keeps the entry and the slot array we probe
	 * from being freed under us (both are freed with call_rcu). */
	urcu_memb_read_lock();
	e = ck_hs_get(&sh->hs, hash, &probe.h);
	if (e && (!t->counted || bench_ref_get_unless_zero(&e->refcnt))) {
		urcu_memb_read_unlock();
		return e;
	}
	urcu_memb_read_unlock();

	/* Every change to the shard happens under its lock, so no entry the
	 * lookup below can reach is freed meanwhile: no read-side section. */
	pthread_mutex_lock(&sh->lock);
	e = ck_hs_get(&sh->hs, hash, &probe.h);
	if (e) {
		if (!t->counted || bench_ref_get_unless_zero(&e->refcnt))
			goto unlock;
		/* Dying: unlink it now; its releaser still frees it. */
		ck_hs_remove(&sh->hs, hash, &probe.h);
	}
	e = malloc(bench_rcu_alloc_size(entry_size(len), t->counted));
	if (!e)
		goto unlock;
	e->h.hash = hash;
	e->h.len = (uint32_t)len;
	/* Relaxed: published only by the fenced slot store below. */
	atomic_store_explicit(&e->refcnt, 1, memory_order_relaxed);
	memcpy(e->data, s, len);
	e->data[len] = '\0';
	/* A reader that loads the new slot must see the bytes written above,
	 * not what the allocator left: order them before the slot store.
	 * (Readers follow the pointer, an address dependency.) */
	atomic_thread_fence(memory_order_release);
	if (!ck_hs_put(&sh->hs, hash, &e->h)) {
		free(e);
		e = NULL;
	}
unlock:
	pthread_mutex_unlock(&sh->lock);
	return e;
}

__attribute__((noinline)) static void ck_release(void *tab, const void *h)
{
	struct ck_table *t = tab;
	struct ck_entry *e = (struct ck_entry *)h;
	struct ck_shard *sh;

	if (!t->counted || !bench_ref_put(&e->refcnt))
		return;
	sh = shard_of(t, e->h.hash);
	pthread_mutex_lock(&sh->lock);
	/* By identity: a writer may have replaced it with a fresh entry. */
	if (ck_hs_get(&sh->hs, e->h.hash, &e->h) == e)
		ck_hs_remove(&sh->hs, e->h.hash, &e->h);
	pthread_mutex_unlock(&sh->lock);
	bench_rcu_free_deferred(e, entry_size(e->h.len));
}

const struct bench_impl bench_impl_ckhs = {
	.name = "ck_hs-sharded",
	.about = "64 ConcurrencyKit ck_hs shards (SPMC), mutex per shard writer, RCU lookups",
	.role = BENCH_ROLE_BASELINE,
	.create = ck_create,
	.destroy = ck_destroy,
	.thread_enter = bench_rcu_thread_enter,
	.thread_exit = bench_rcu_thread_exit,
	.intern = ck_intern,
	.release = ck_release,
	.quiesce = bench_rcu_quiesce,
};
