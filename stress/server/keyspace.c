/*
 * keyspace.c: the sharded keyspace (see keyspace.h).
 *
 * Each shard is one mutex over two maps.  A mutex, not a reader-writer
 * lock: every command holds it for a map operation or two, and a read
 * lock costs an atomic read-modify-write on the shared lock word all the
 * same, so readers gain nothing at this critical-section length.  Expiry
 * is lazy (ks_get deletes an expired key it finds) plus a sweep that the
 * main thread runs every 100 ms.
 */
#include "keyspace.h"

#include <errno.h>
#include <time.h>

static struct ks_shard shards[KS_SHARDS];

void kv_value_free(void *v)
{
	void *p = kv_untag(v);

	switch (kv_type_of(v)) {
	case KV_STRING: kv_str_free(p); break;
	case KV_HASH: kv->map_free(p, kv_str_free); break;
	case KV_SET: kv->map_free(p, NULL); break;
	}
}

int ks_init(void)
{
	for (size_t i = 0; i < KS_SHARDS; i++) {
		struct ks_shard *sh = &shards[i];
		pthread_mutex_init(&sh->lock, NULL);
		sh->dict = kv->map_new(0);
		sh->expires = kv->map_new(0);
		if (!sh->dict || !sh->expires)
			return -ENOMEM;
	}
	return 0;
}

void ks_free(void)
{
	for (size_t i = 0; i < KS_SHARDS; i++) {
		struct ks_shard *sh = &shards[i];
		if (sh->dict)
			kv->map_free(sh->dict, kv_value_free);
		if (sh->expires)
			kv->map_free(sh->expires, NULL);
		sh->dict = sh->expires = NULL;
		pthread_mutex_destroy(&sh->lock);
	}
}

long long ks_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ks_shard *ks_lock(const struct kv_key *k)
{
	/* The high bits: the pointer hash is multiplicative. */
	struct ks_shard *sh = &shards[(k->hash >> 56) % KS_SHARDS];

	pthread_mutex_lock(&sh->lock);
	return sh;
}

void ks_unlock(struct ks_shard *sh)
{
	pthread_mutex_unlock(&sh->lock);
}

/* After a change to sh->expires. */
static void expires_changed(struct ks_shard *sh)
{
	atomic_store_explicit(&sh->nexpires, kv->map_size(sh->expires), memory_order_relaxed);
}

/* Remove k from both maps and free its value; it must be present. */
static void remove_key(struct ks_shard *sh, const struct kv_key *k)
{
	void *old;

	/* The expires entry first: it holds a key reference of its own, and
	 * in the intern layer k->s may be borrowed from the dict's entry. */
	if (kv->map_delete(sh->expires, k, NULL) == 0)
		expires_changed(sh);
	if (kv->map_delete(sh->dict, k, &old) == 0)
		kv_value_free(old);
}

static bool expired(struct ks_shard *sh, const struct kv_key *k)
{
	void *when;

	if (kv->map_size(sh->expires) == 0 || kv->map_find(sh->expires, k, &when) < 0)
		return false;
	return ks_now_ms() > (long long)(intptr_t)when;
}

void *ks_get(struct ks_shard *sh, const struct kv_key *k)
{
	void *v;

	if (kv->map_find(sh->dict, k, &v) < 0)
		return NULL;
	if (expired(sh, k)) {
		remove_key(sh, k);
		return NULL;
	}
	return v;
}

int ks_put(struct ks_shard *sh, struct kv_key *k, void *v, bool keep_ttl)
{
	void *old = NULL;
	int rc = kv->map_set(sh->dict, k, v, &old);

	if (rc < 0)
		return rc;
	/* Replaced: drop the old value's reference, even when it is v itself
	 * (the same canonical string stored again holds two now). */
	if (rc == 0)
		kv_value_free(old);
	if (rc == 0 && !keep_ttl && kv->map_delete(sh->expires, k, NULL) == 0)
		expires_changed(sh);
	return 0;
}

int ks_del(struct ks_shard *sh, const struct kv_key *k)
{
	if (!ks_get(sh, k))
		return 0;
	remove_key(sh, k);
	return 1;
}

long long ks_deadline(struct ks_shard *sh, const struct kv_key *k)
{
	void *when;

	if (kv->map_find(sh->expires, k, &when) < 0)
		return -1;
	return (long long)(intptr_t)when;
}

int ks_set_deadline(struct ks_shard *sh, struct kv_key *k, long long when)
{
	int rc = kv->map_set(sh->expires, k, (void *)(intptr_t)when, NULL);

	expires_changed(sh);
	return rc < 0 ? rc : 0;
}

int ks_persist(struct ks_shard *sh, const struct kv_key *k)
{
	if (kv->map_delete(sh->expires, k, NULL) < 0)
		return 0;
	expires_changed(sh);
	return 1;
}

void ks_counts(size_t *keys, size_t *expires)
{
	*keys = *expires = 0;
	for (size_t i = 0; i < KS_SHARDS; i++) {
		struct ks_shard *sh = &shards[i];
		pthread_mutex_lock(&sh->lock);
		*keys += kv->map_size(sh->dict);
		*expires += kv->map_size(sh->expires);
		pthread_mutex_unlock(&sh->lock);
	}
}

void ks_flush(void)
{
	for (size_t i = 0; i < KS_SHARDS; i++) {
		struct ks_shard *sh = &shards[i];
		pthread_mutex_lock(&sh->lock);
		kv->map_clear(sh->expires, NULL);
		expires_changed(sh);
		kv->map_clear(sh->dict, kv_value_free);
		pthread_mutex_unlock(&sh->lock);
	}
}

/* Delete the expired keys of one locked shard; returns the entries seen. */
static size_t sweep_shard(struct ks_shard *sh, long long now)
{
	union kv_iter it;
	struct intern_str *key;
	void *when, *old;
	size_t seen = 0;

	kv->iter_init(&it, sh->expires);
	while (kv->iter_next(&it, &key, &when)) {
		seen++;
		if (now <= (long long)(intptr_t)when)
			continue;
		struct kv_key k;
		kv->key_of(&k, key);
		/* The expires entry keeps `key` alive until iter_delete. */
		if (kv->map_delete(sh->dict, &k, &old) == 0)
			kv_value_free(old);
		kv->iter_delete(&it, NULL);
	}
	expires_changed(sh);
	return seen;
}

/* Only the main thread sweeps. */
static size_t sweep_next;

void ks_sweep(void)
{
	long long now = ks_now_ms();
	size_t seen = 0;

	for (size_t n = 0; n < KS_SHARDS && seen < KS_SWEEP_BUDGET; n++) {
		struct ks_shard *sh = &shards[sweep_next++ % KS_SHARDS];
		if (atomic_load_explicit(&sh->nexpires, memory_order_relaxed) == 0)
			continue;
		pthread_mutex_lock(&sh->lock);
		seen += sweep_shard(sh, now);
		pthread_mutex_unlock(&sh->lock);
	}
}
