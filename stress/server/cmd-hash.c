/*
 * cmd-hash.c: the hash commands.  A hash is a layer map from field to
 * value string; in the intern layer both are canonical, so a million
 * hashes with the same field names and a few thousand distinct values
 * hold each of those strings once.  An emptied hash is deleted.
 */
#include <limits.h>

#include "cmd.h"
#include "resp.h"

/* Set one field: 1 created, 0 replaced, -1 out of memory (nothing changed). */
static int hash_set(void *h, const struct kv_arg *field, struct intern_str *val)
{
	struct kv_key f;
	void *old;
	int rc = -1;

	if (!val)
		return -1;
	if (kv->key_make(&f, field->p, field->n) == 0) {
		rc = kv->map_set(h, &f, val, &old);
		kv->key_drop(&f);
	}
	if (rc < 0)
		kv_str_free(val);
	else if (rc == 0)
		kv_str_free(old);
	return rc < 0 ? -1 : rc;
}

static void hset_generic(struct out *o, int argc, const struct kv_arg *argv, const char *name,
			 bool reply_count)
{
	struct kv_key k;
	struct ks_shard *sh;
	long long created = 0;
	void *h = NULL;

	if (argc % 2 == 1) {
		out_errorf(o, "ERR wrong number of arguments for '%s' command", name);
		return;
	}
	/* The key of a hash that exists is only looked up (in the intern
	 * layer, borrowed for the request: no count written on a hot key);
	 * it is made, counted, only when a new hash stores it. */
	key_find(&k, &argv[1]);
	sh = ks_lock(&k);
	if (get_typed(o, sh, &k, KV_HASH, &h) < 0)
		goto out;
	if (!h) {
		ks_unlock(sh);
		kv->key_drop(&k);
		if (key_make(o, &k, &argv[1]) < 0)
			return;
		sh = ks_lock(&k);
		h = map_for_write(o, sh, &k, KV_HASH);
	}
	for (int i = 2; h && i < argc; i += 2) {
		int rc = hash_set(h, &argv[i], kv->str(argv[i + 1].p, argv[i + 1].n));
		if (rc < 0) {
			out_error(o, ERR_OOM);
			delete_if_empty(sh, &k, h);
			h = NULL;
		}
		created += rc;
	}
	if (h && reply_count)
		out_int(o, created);
	else if (h)
		out_ok(o);
out:
	ks_unlock(sh);
	kv->key_drop(&k);
}

int cmd_hset(struct out *o, int argc, const struct kv_arg *argv)
{
	hset_generic(o, argc, argv, "hset", true);
	return 0;
}

int cmd_hmset(struct out *o, int argc, const struct kv_arg *argv)
{
	hset_generic(o, argc, argv, "hmset", false);
	return 0;
}

/* Reply a hash field's value (or null). */
static void reply_field(struct out *o, void *h, const struct kv_arg *field)
{
	struct kv_key f;
	void *v;

	kv->key_find(&f, field->p, field->n);
	if (h && kv->map_find(h, &f, &v) == 0)
		out_bulk_str(o, v);
	else
		out_null(o);
	kv->key_drop(&f);
}

/* The common frame of the read-only hash commands: look up the hash of
 * argv[1] (NULL if absent) and call fn under the shard lock, unless the
 * key holds another type. */
static void with_hash(struct out *o, int argc, const struct kv_arg *argv,
		      void (*fn)(struct out *o, void *h, int argc, const struct kv_arg *argv))
{
	struct kv_key k;
	void *h;

	key_find(&k, &argv[1]);
	struct ks_shard *sh = ks_lock(&k);
	if (get_typed(o, sh, &k, KV_HASH, &h) == 0)
		fn(o, h, argc, argv);
	ks_unlock(sh);
	kv->key_drop(&k);
}

static void hget(struct out *o, void *h, int argc, const struct kv_arg *argv)
{
	reply_field(o, h, &argv[2]);
}

static void hmget(struct out *o, void *h, int argc, const struct kv_arg *argv)
{
	out_array(o, argc - 2);
	for (int i = 2; i < argc; i++)
		reply_field(o, h, &argv[i]);
}

static void hlen(struct out *o, void *h, int argc, const struct kv_arg *argv)
{
	out_int(o, h ? (long long)kv->map_size(h) : 0);
}

static void hexists(struct out *o, void *h, int argc, const struct kv_arg *argv)
{
	struct kv_key f;

	kv->key_find(&f, argv[2].p, argv[2].n);
	out_int(o, h && kv->map_find(h, &f, NULL) == 0);
	kv->key_drop(&f);
}

static void hgetall(struct out *o, void *h, int argc, const struct kv_arg *argv)
{
	list_map(o, h, LIST_KEYS | LIST_VALUES);
}

static void hkeys(struct out *o, void *h, int argc, const struct kv_arg *argv)
{
	list_map(o, h, LIST_KEYS);
}

static void hvals(struct out *o, void *h, int argc, const struct kv_arg *argv)
{
	list_map(o, h, LIST_VALUES);
}

#define READ_COMMAND(name)                                                 \
	int cmd_##name(struct out *o, int argc, const struct kv_arg *argv) \
	{                                                                  \
		with_hash(o, argc, argv, name);                            \
		return 0;                                                  \
	}
READ_COMMAND(hget)
READ_COMMAND(hmget)
READ_COMMAND(hlen)
READ_COMMAND(hexists)
READ_COMMAND(hgetall)
READ_COMMAND(hkeys)
READ_COMMAND(hvals)

int cmd_hdel(struct out *o, int argc, const struct kv_arg *argv)
{
	struct kv_key k;
	void *h, *old;
	long long n = 0;

	key_find(&k, &argv[1]);
	struct ks_shard *sh = ks_lock(&k);
	if (get_typed(o, sh, &k, KV_HASH, &h) == 0) {
		for (int i = 2; h && i < argc; i++) {
			struct kv_key f;
			kv->key_find(&f, argv[i].p, argv[i].n);
			if (kv->map_delete(h, &f, &old) == 0) {
				kv_str_free(old);
				n++;
			}
			kv->key_drop(&f);
		}
		if (h)
			delete_if_empty(sh, &k, h);
		out_int(o, n);
	}
	ks_unlock(sh);
	kv->key_drop(&k);
	return 0;
}

int cmd_hincrby(struct out *o, int argc, const struct kv_arg *argv)
{
	struct kv_key k, f;
	long long by, cur = 0;
	void *v;

	if (arg_ll(o, &argv[3], &by) < 0 || key_make(o, &k, &argv[1]) < 0)
		return 0;
	struct ks_shard *sh = ks_lock(&k);
	void *h = map_for_write(o, sh, &k, KV_HASH);
	if (!h)
		goto out;
	kv->key_find(&f, argv[2].p, argv[2].n);
	if (kv->map_find(h, &f, &v) == 0 &&
	    !resp_strtoll(intern_str_data(v), intern_str_len(v), &cur)) {
		out_error(o, "ERR hash value is not an integer");
	} else if ((by < 0 && cur < LLONG_MIN - by) || (by > 0 && cur > LLONG_MAX - by)) {
		out_error(o, ERR_OVERFLOW);
	} else if (hash_set(h, &argv[2], kv->integer(cur + by)) < 0) {
		out_error(o, ERR_OOM);
	} else {
		out_int(o, cur + by);
	}
	kv->key_drop(&f);
	delete_if_empty(sh, &k, h);
out:
	ks_unlock(sh);
	kv->key_drop(&k);
	return 0;
}
