/*
 * cmd-set.c: the set commands.  A set is a layer map from member to NULL.
 */
#include "cmd.h"

/* SADD and SREM: add or remove each member, reply how many changed. */
static void change_members(struct out *o, int argc, const struct kv_arg *argv, bool add)
{
	struct kv_key k, m;
	long long n = 0;
	void *s;

	if (!add)
		key_find(&k, &argv[1]);
	else if (key_make(o, &k, &argv[1]) < 0)
		return;
	struct ks_shard *sh = ks_lock(&k);
	if (add)
		s = map_for_write(o, sh, &k, KV_SET);
	else if (get_typed(o, sh, &k, KV_SET, &s) < 0)
		goto out;
	for (int i = 2; s && i < argc; i++) {
		int rc;
		if (add) {
			rc = kv->key_make(&m, argv[i].p, argv[i].n);
			rc = rc < 0 ? rc : kv->map_set(s, &m, NULL, NULL);
		} else {
			kv->key_find(&m, argv[i].p, argv[i].n);
			rc = kv->map_delete(s, &m, NULL) == 0;
		}
		kv->key_drop(&m);
		if (rc < 0) {
			out_error(o, ERR_OOM);
			delete_if_empty(sh, &k, s);
			goto out;
		}
		n += rc;
	}
	if (s)
		delete_if_empty(sh, &k, s);
	if (s || !add)
		out_int(o, n);
out:
	ks_unlock(sh);
	kv->key_drop(&k);
}

int cmd_sadd(struct out *o, int argc, const struct kv_arg *argv)
{
	change_members(o, argc, argv, true);
	return 0;
}

int cmd_srem(struct out *o, int argc, const struct kv_arg *argv)
{
	change_members(o, argc, argv, false);
	return 0;
}

/* The read-only set commands: fn under the shard lock, s NULL if absent. */
static void with_set(struct out *o, const struct kv_arg *argv,
		     void (*fn)(struct out *o, void *s, const struct kv_arg *argv))
{
	struct kv_key k;
	void *s;

	key_find(&k, &argv[1]);
	struct ks_shard *sh = ks_lock(&k);
	if (get_typed(o, sh, &k, KV_SET, &s) == 0)
		fn(o, s, argv);
	ks_unlock(sh);
	kv->key_drop(&k);
}

static void sismember(struct out *o, void *s, const struct kv_arg *argv)
{
	struct kv_key m;

	kv->key_find(&m, argv[2].p, argv[2].n);
	out_int(o, s && kv->map_find(s, &m, NULL) == 0);
	kv->key_drop(&m);
}

static void scard(struct out *o, void *s, const struct kv_arg *argv)
{
	out_int(o, s ? (long long)kv->map_size(s) : 0);
}

static void smembers(struct out *o, void *s, const struct kv_arg *argv)
{
	list_map(o, s, LIST_KEYS);
}

int cmd_sismember(struct out *o, int argc, const struct kv_arg *argv)
{
	with_set(o, argv, sismember);
	return 0;
}

int cmd_scard(struct out *o, int argc, const struct kv_arg *argv)
{
	with_set(o, argv, scard);
	return 0;
}

int cmd_smembers(struct out *o, int argc, const struct kv_arg *argv)
{
	with_set(o, argv, smembers);
	return 0;
}
