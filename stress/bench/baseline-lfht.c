/*
 * baseline-lfht.c: liburcu's lock-free hash table (cds_lfht) used directly
 * as an interner, the way an application that already has liburcu would
 * write one.
 *
 * Lookups run inside a memb read-side section; inserts are
 * cds_lfht_add_unique, so no two nodes ever hold equal bytes.  The table is
 * presized to the workload's most entries and never resized: liburcu
 * 0.13.2's automatic resize is erratic on this machine (runs swung from 4
 * to 39 Mops/s, a resize flag stayed set with the worker idle), so
 * relying on it would measure the resize worker, not the table.
 *
 * Counted mode follows the rules of libintern's lib/table.c:
 *   - a hit takes its reference with get-unless-zero, so an entry whose
 *     count reached 0 is never revived;
 *   - the thread whose release took the count to 0 owns the node: it calls
 *     cds_lfht_del (which fails harmlessly if an inserter already replaced
 *     the node) and frees it with call_rcu, after every reader that might
 *     hold it has left;
 *   - an inserter that meets a dying node replaces that exact node
 *     (cds_lfht_replace) rather than wait for the releaser.  Exactly one of
 *     del and replace unlinks a node, and only its releaser frees it.
 */
#include "bench-rcu.h"
#include <urcu/rculfhash.h>

#include <string.h>

#include "bench.h"

struct lf_table {
	struct cds_lfht *ht;
	bool counted;
};

struct lf_entry {
	struct cds_lfht_node node;
	_Atomic uint32_t refcnt; /* counted mode only */
	uint32_t len;
	char data[]; /* len bytes and a NUL */
};

struct lf_key {
	const char *s;
	size_t len;
};

static size_t entry_size(size_t len)
{
	return sizeof(struct lf_entry) + len + 1;
}

static struct lf_entry *entry_new(const struct lf_table *t, const char *s, size_t len)
{
	struct lf_entry *e = malloc(bench_rcu_alloc_size(entry_size(len), t->counted));

	if (!e)
		return NULL;
	cds_lfht_node_init(&e->node);
	/* Relaxed: cds_lfht_add_unique publishes the node with a full
	 * barrier, so no reader can see the node before this store. */
	atomic_store_explicit(&e->refcnt, 1, memory_order_relaxed);
	e->len = (uint32_t)len;
	memcpy(e->data, s, len);
	e->data[len] = '\0';
	return e;
}

static int lf_match(struct cds_lfht_node *node, const void *key)
{
	const struct lf_entry *e = caa_container_of(node, struct lf_entry, node);
	const struct lf_key *k = key;

	return e->len == k->len && memcmp(e->data, k->s, k->len) == 0;
}

static void *lf_create(const struct bench_table_config *cfg)
{
	struct lf_table *t = bench_xcalloc(1, sizeof(*t));
	unsigned long buckets = 1024;

	while (buckets < cfg->expected)
		buckets <<= 1;
	t->counted = cfg->counted;
	/* No CDS_LFHT_AUTO_RESIZE, and min = max = init: a fixed size. */
	t->ht = cds_lfht_new_flavor(buckets, buckets, buckets, 0, &urcu_memb_flavor, NULL);
	if (!t->ht)
		bench_die("cds_lfht_new failed");
	return t;
}

static void lf_destroy(void *tab)
{
	struct lf_table *t = tab;
	struct cds_lfht_iter iter;
	struct cds_lfht_node *n;

	/* Dead counted nodes are already unlinked; let their callbacks run. */
	urcu_memb_barrier();
	/* No other thread uses the table now: free the rest at once.  Walked
	 * by hand: cds_lfht_for_each_entry ends by taking container_of(NULL),
	 * which clang's UBSan reports as pointer arithmetic on NULL. */
	urcu_memb_read_lock();
	for (cds_lfht_first(t->ht, &iter); (n = cds_lfht_iter_get_node(&iter)) != NULL;
	     cds_lfht_next(t->ht, &iter)) {
		struct lf_entry *e = caa_container_of(n, struct lf_entry, node);

		if (cds_lfht_del(t->ht, n) == 0)
			free(e);
	}
	urcu_memb_read_unlock();
	if (cds_lfht_destroy(t->ht, NULL) != 0)
		bench_die("cds_lfht_destroy failed");
	free(t);
}

__attribute__((noinline)) static const void *lf_intern(void *tab, const char *s, size_t len)
{
	struct lf_table *t = tab;
	unsigned long hash = bench_hash(s, len);
	struct lf_key key = { s, len };
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	struct lf_entry *e, *fresh;

	urcu_memb_read_lock();
	cds_lfht_lookup(t->ht, hash, lf_match, &key, &iter);
	node = cds_lfht_iter_get_node(&iter);
	if (node) {
		e = caa_container_of(node, struct lf_entry, node);
		if (!t->counted || bench_ref_get_unless_zero(&e->refcnt))
			goto out;
	}
	e = fresh = entry_new(t, s, len);
	if (!fresh)
		goto out;
	for (;;) {
		node = cds_lfht_add_unique(t->ht, hash, lf_match, &key, &fresh->node);
		if (node == &fresh->node)
			break;
		e = caa_container_of(node, struct lf_entry, node);
		if (!t->counted || bench_ref_get_unless_zero(&e->refcnt)) {
			free(fresh); /* never published: no grace period needed */
			break;
		}
		/* e is dying: take its place.  Replace only that exact node; if
		 * it is gone, or another node stands there now, start over. */
		cds_lfht_lookup(t->ht, hash, lf_match, &key, &iter);
		if (cds_lfht_iter_get_node(&iter) == node &&
		    cds_lfht_replace(t->ht, &iter, hash, lf_match, &key, &fresh->node) == 0) {
			e = fresh;
			break;
		}
	}
out:
	urcu_memb_read_unlock();
	return e;
}

__attribute__((noinline)) static void lf_release(void *tab, const void *h)
{
	struct lf_table *t = tab;
	struct lf_entry *e = (struct lf_entry *)h;

	if (!t->counted || !bench_ref_put(&e->refcnt))
		return;
	urcu_memb_read_lock();
	/* -ENOENT: an inserter replaced the node already; we still own it. */
	(void)cds_lfht_del(t->ht, &e->node);
	urcu_memb_read_unlock();
	bench_rcu_free_deferred(e, entry_size(e->len));
}

const struct bench_impl bench_impl_lfht = {
	.name = "cds_lfht",
	.about = "liburcu cds_lfht, presized (no auto-resize), RCU lookups",
	.role = BENCH_ROLE_BASELINE,
	.create = lf_create,
	.destroy = lf_destroy,
	.thread_enter = bench_rcu_thread_enter,
	.thread_exit = bench_rcu_thread_exit,
	.intern = lf_intern,
	.release = lf_release,
	.quiesce = bench_rcu_quiesce,
};
