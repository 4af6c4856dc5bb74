/*
 * cmd-keys.c: the commands on keys of any type: TYPE, EXISTS, DEL/UNLINK,
 * EXPIRE/PEXPIRE, TTL/PTTL, PERSIST.
 */
#include <limits.h>

#include "cmd.h"

int cmd_type(struct out *o, int argc, const struct kv_arg *argv)
{
	static const char *const names[] = { "string", "hash", "set" };
	struct kv_key k;

	key_find(&k, &argv[1]);
	struct ks_shard *sh = ks_lock(&k);
	void *v = ks_get(sh, &k);
	out_status(o, v ? names[kv_type_of(v)] : "none");
	ks_unlock(sh);
	kv->key_drop(&k);
	return 0;
}

/* EXISTS and DEL: count the keys present (repeats counted), deleting them
 * if `del`. */
static void count_keys(struct out *o, int argc, const struct kv_arg *argv, bool del)
{
	long long n = 0;

	for (int i = 1; i < argc; i++) {
		struct kv_key k;
		key_find(&k, &argv[i]);
		struct ks_shard *sh = ks_lock(&k);
		n += del ? ks_del(sh, &k) : ks_get(sh, &k) != NULL;
		ks_unlock(sh);
		kv->key_drop(&k);
	}
	out_int(o, n);
}

int cmd_exists(struct out *o, int argc, const struct kv_arg *argv)
{
	count_keys(o, argc, argv, false);
	return 0;
}

int cmd_del(struct out *o, int argc, const struct kv_arg *argv)
{
	count_keys(o, argc, argv, true);
	return 0;
}

/* ---------------------------------------------------------------------------
 * EXPIRE, PEXPIRE: redis-server's expireGenericCommand()
 * ------------------------------------------------------------------------- */

enum {
	EXP_NX = 1,
	EXP_XX = 2,
	EXP_GT = 4,
	EXP_LT = 8
};

static int expire_flags(struct out *o, int argc, const struct kv_arg *argv, int *flags)
{
	static const char *const names[] = { "nx", "xx", "gt", "lt" };

	*flags = 0;
	for (int i = 3; i < argc; i++) {
		int f = 0;
		for (int j = 0; j < 4; j++)
			if (arg_is(&argv[i], names[j]))
				f = 1 << j;
		if (!f) {
			out_errorf(o, "ERR Unsupported option %.*s", (int)argv[i].n, argv[i].p);
			return -1;
		}
		*flags |= f;
	}
	if ((*flags & EXP_NX) && (*flags & (EXP_XX | EXP_GT | EXP_LT))) {
		out_error(o, "ERR NX and XX, GT or LT options at the same time are not compatible");
		return -1;
	}
	if ((*flags & EXP_GT) && (*flags & EXP_LT)) {
		out_error(o, "ERR GT and LT options at the same time are not compatible");
		return -1;
	}
	return 0;
}

/* Whether the flags let a key with deadline `cur` (-1: none) take `when`. */
static bool expire_allowed(int flags, long long cur, long long when)
{
	if ((flags & EXP_NX) && cur != -1)
		return false;
	if ((flags & EXP_XX) && cur == -1)
		return false;
	if ((flags & EXP_GT) && (cur == -1 || when <= cur))
		return false;
	if ((flags & EXP_LT) && cur != -1 && when >= cur)
		return false;
	return true;
}

static void expire_generic(struct out *o, int argc, const struct kv_arg *argv, bool seconds,
			   const char *name)
{
	long long when, now = ks_now_ms();
	int flags;
	struct kv_key k;

	if (expire_flags(o, argc, argv, &flags) < 0 || arg_ll(o, &argv[2], &when) < 0)
		return;
	if ((seconds && (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)) ||
	    (seconds ? when * 1000 : when) > LLONG_MAX - now) {
		out_errorf(o, "ERR invalid expire time in '%s' command", name);
		return;
	}
	when = (seconds ? when * 1000 : when) + now;
	key_find(&k, &argv[1]);
	struct ks_shard *sh = ks_lock(&k);
	if (!ks_get(sh, &k) || !expire_allowed(flags, ks_deadline(sh, &k), when)) {
		out_int(o, 0);
	} else if (when <= now) {
		ks_del(sh, &k);
		out_int(o, 1);
	} else if (ks_set_deadline(sh, &k, when) < 0) {
		out_error(o, ERR_OOM);
	} else {
		out_int(o, 1);
	}
	ks_unlock(sh);
	kv->key_drop(&k);
}

int cmd_expire(struct out *o, int argc, const struct kv_arg *argv)
{
	expire_generic(o, argc, argv, true, "expire");
	return 0;
}

int cmd_pexpire(struct out *o, int argc, const struct kv_arg *argv)
{
	expire_generic(o, argc, argv, false, "pexpire");
	return 0;
}

static void ttl_generic(struct out *o, const struct kv_arg *argv, bool ms)
{
	struct kv_key k;

	key_find(&k, &argv[1]);
	struct ks_shard *sh = ks_lock(&k);
	if (!ks_get(sh, &k)) {
		out_int(o, -2);
	} else {
		long long when = ks_deadline(sh, &k);
		if (when == -1) {
			out_int(o, -1);
		} else {
			long long ttl = when - ks_now_ms();
			if (ttl < 0)
				ttl = 0;
			out_int(o, ms ? ttl : (ttl + 500) / 1000);
		}
	}
	ks_unlock(sh);
	kv->key_drop(&k);
}

int cmd_ttl(struct out *o, int argc, const struct kv_arg *argv)
{
	ttl_generic(o, argv, false);
	return 0;
}

int cmd_pttl(struct out *o, int argc, const struct kv_arg *argv)
{
	ttl_generic(o, argv, true);
	return 0;
}

int cmd_persist(struct out *o, int argc, const struct kv_arg *argv)
{
	struct kv_key k;

	key_find(&k, &argv[1]);
	struct ks_shard *sh = ks_lock(&k);
	out_int(o, ks_get(sh, &k) ? ks_persist(sh, &k) : 0);
	ks_unlock(sh);
	kv->key_drop(&k);
	return 0;
}
