/*
 * keyspace.h: the keyspace, shared by every worker thread.
 *
 * KS_SHARDS shards, each a map from key to value under its own mutex, and
 * a second map from the keys that have a time to live to their deadline
 * (redis-server's `expires` dict): a key without a TTL costs nothing for
 * it.  A value is a tagged pointer (struct intern_str * for a string, a
 * layer map for a hash or a set), so a key costs one map slot and no
 * object of its own.
 */
#ifndef INTERN_KV_KEYSPACE_H
#define INTERN_KV_KEYSPACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "layer.h"

#define KS_SHARDS 256

enum kv_type {
	KV_STRING = 0, /* struct intern_str * */
	KV_HASH = 1,   /* map: field -> struct intern_str * value */
	KV_SET = 2,    /* map: member -> NULL */
};

/* Every stored object is at least 4-byte aligned (struct intern_str has
 * 32-bit fields), which leaves the low two bits for the type. */
static inline void *kv_tag(void *p, enum kv_type t)
{
	return (void *)((uintptr_t)p | (uintptr_t)t);
}

static inline enum kv_type kv_type_of(const void *v)
{
	return (enum kv_type)((uintptr_t)v & 3u);
}

static inline void *kv_untag(void *v)
{
	return (void *)((uintptr_t)v & ~(uintptr_t)3u);
}

/* Free a tagged value with everything it holds. */
void kv_value_free(void *v);

struct ks_shard {
	_Alignas(64) pthread_mutex_t lock;
	void *dict;    /* key -> tagged value */
	void *expires; /* key -> deadline (ms since the epoch) as a pointer */
	/* The size of expires, written under the lock, read without it by
	 * the sweep to pass over shards with no TTL at all. */
	atomic_size_t nexpires;
};

int ks_init(void);
void ks_free(void);

/* Milliseconds since the epoch (the clock TTLs are kept in). */
long long ks_now_ms(void);

/* Lock the shard of k; every function below needs it held. */
struct ks_shard *ks_lock(const struct kv_key *k);
void ks_unlock(struct ks_shard *sh);

/* The tagged value of k, or NULL if absent; an expired key is deleted. */
void *ks_get(struct ks_shard *sh, const struct kv_key *k);
/* Store v under k (made with key_make), freeing a value it replaces; the
 * key's TTL is cleared unless keep_ttl.  0 or -ENOMEM (v not stored). */
int ks_put(struct ks_shard *sh, struct kv_key *k, void *v, bool keep_ttl);
/* Delete k: 1 if it was there, 0 if not. */
int ks_del(struct ks_shard *sh, const struct kv_key *k);
/* The deadline of an existing key, or -1 if it has no TTL. */
long long ks_deadline(struct ks_shard *sh, const struct kv_key *k);
/* Give an existing key a deadline: 0 or -ENOMEM. */
int ks_set_deadline(struct ks_shard *sh, struct kv_key *k, long long when);
/* Clear an existing key's TTL: 1 if it had one. */
int ks_persist(struct ks_shard *sh, const struct kv_key *k);

/* Figures and whole-keyspace operations; each takes the shard locks in turn. */
void ks_counts(size_t *keys, size_t *expires);
void ks_flush(void);
/* Delete expired keys (the background sweep, every 100 ms): the shards
 * are visited in turn until about KS_SWEEP_BUDGET TTL entries have been
 * looked at, so a tick costs a bounded time however many keys have one;
 * a key the sweep has not reached yet is deleted when a command touches
 * it. */
#define KS_SWEEP_BUDGET 4096
void ks_sweep(void);

#endif
