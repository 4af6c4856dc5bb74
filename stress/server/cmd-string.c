/*
 * cmd-string.c: the string commands.  A string value is a layer string:
 * canonical in the intern layer (so equal values are stored once, and the
 * integers INCR produces in the small range are intern_int singletons).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "resp.h"

int cmd_get(struct out *o, int argc, const struct kv_arg *argv)
{
	struct kv_key k;
	void *v;

	key_find(&k, &argv[1]);
	struct ks_shard *sh = ks_lock(&k);
	if (get_typed(o, sh, &k, KV_STRING, &v) == 0) {
		if (v)
			out_bulk_str(o, v);
		else
			out_null(o);
	}
	ks_unlock(sh);
	kv->key_drop(&k);
	return 0;
}

int cmd_mget(struct out *o, int argc, const struct kv_arg *argv)
{
	out_array(o, argc - 1);
	for (int i = 1; i < argc; i++) {
		struct kv_key k;
		key_find(&k, &argv[i]);
		struct ks_shard *sh = ks_lock(&k);
		void *v = ks_get(sh, &k);
		if (v && kv_type_of(v) == KV_STRING)
			out_bulk_str(o, v);
		else
			out_null(o);
		ks_unlock(sh);
		kv->key_drop(&k);
	}
	return 0;
}

/* Store string `val` (a new reference, stolen) under an argument's key. */
static int store(struct out *o, const struct kv_arg *key, struct intern_str *val, bool keep_ttl)
{
	struct kv_key k;
	int rc = -1;

	if (!val) {
		out_error(o, ERR_OOM);
		return -1;
	}
	if (key_make(o, &k, key) == 0) {
		struct ks_shard *sh = ks_lock(&k);
		rc = ks_put(sh, &k, kv_tag(val, KV_STRING), keep_ttl);
		ks_unlock(sh);
		kv->key_drop(&k);
		if (rc < 0)
			out_error(o, ERR_OOM);
	}
	if (rc < 0)
		kv_str_free(val);
	return rc;
}

int cmd_mset(struct out *o, int argc, const struct kv_arg *argv)
{
	if (argc % 2 == 0) {
		out_error(o, "ERR wrong number of arguments for 'mset' command");
		return 0;
	}
	for (int i = 1; i < argc; i += 2)
		if (store(o, &argv[i], kv->str(argv[i + 1].p, argv[i + 1].n), false) < 0)
			return 0;
	out_ok(o);
	return 0;
}

/* ---------------------------------------------------------------------------
 * SET and SETNX: redis-server's parseExtendedStringArgumentsOrReply() and
 * setGenericCommand()
 * ------------------------------------------------------------------------- */

enum {
	SET_NX = 1,
	SET_XX = 2,
	SET_GET = 4,
	SET_KEEPTTL = 8,
	SET_EX = 16,
	SET_PX = 32,
	SET_EXAT = 64,
	SET_PXAT = 128,
};
#define SET_ANY_TTL (SET_KEEPTTL | SET_EX | SET_PX | SET_EXAT | SET_PXAT)

static int set_options(struct out *o, int argc, const struct kv_arg *argv, int *flags,
		       const struct kv_arg **expire)
{
	static const char *const ttl_names[] = { "ex", "px", "exat", "pxat" };

	*flags = 0;
	*expire = NULL;
	for (int i = 3; i < argc; i++) {
		const struct kv_arg *a = &argv[i];
		bool has_next = i + 1 < argc;
		int f = 0;
		if (arg_is(a, "nx") && !(*flags & SET_XX))
			f = SET_NX;
		else if (arg_is(a, "xx") && !(*flags & SET_NX))
			f = SET_XX;
		else if (arg_is(a, "get"))
			f = SET_GET;
		else if (arg_is(a, "keepttl") && !(*flags & (SET_ANY_TTL & ~SET_KEEPTTL)))
			f = SET_KEEPTTL;
		for (int j = 0; j < 4 && !f; j++) {
			int bit = SET_EX << j;
			if (arg_is(a, ttl_names[j]) && !(*flags & (SET_ANY_TTL & ~bit)) &&
			    has_next) {
				f = bit;
				*expire = &argv[++i];
			}
		}
		if (!f) {
			out_error(o, ERR_SYNTAX);
			return -1;
		}
		*flags |= f;
	}
	return 0;
}

/* The absolute deadline in ms of SET's expire argument, or -1 (replied). */
static long long set_deadline(struct out *o, int flags, const struct kv_arg *expire)
{
	long long v;
	bool seconds = flags & (SET_EX | SET_EXAT), relative = flags & (SET_EX | SET_PX);
	long long now = relative ? ks_now_ms() : 0;

	if (arg_ll(o, expire, &v) < 0)
		return -1;
	if (v <= 0 || (seconds && v > LLONG_MAX / 1000) ||
	    (seconds ? v * 1000 : v) > LLONG_MAX - now) {
		out_error(o, "ERR invalid expire time in 'set' command");
		return -1;
	}
	return (seconds ? v * 1000 : v) + now;
}

int cmd_set(struct out *o, int argc, const struct kv_arg *argv)
{
	const struct kv_arg *expire;
	long long when = 0;
	int flags;
	struct kv_key k;
	void *old;

	if (set_options(o, argc, argv, &flags, &expire) < 0)
		return 0;
	if (expire && (when = set_deadline(o, flags, expire)) < 0)
		return 0;
	struct intern_str *val = kv->str(argv[2].p, argv[2].n);
	if (!val) {
		out_error(o, ERR_OOM);
		return 0;
	}
	if (key_make(o, &k, &argv[1]) < 0) {
		kv_str_free(val);
		return 0;
	}
	struct ks_shard *sh = ks_lock(&k);
	if ((flags & SET_GET) && get_typed(o, sh, &k, KV_STRING, &old) < 0)
		goto out;
	if (flags & SET_GET) {
		if (old)
			out_bulk_str(o, old);
		else
			out_null(o);
	} else if (flags & (SET_NX | SET_XX | SET_KEEPTTL)) {
		/* Also drops an expired key, whose deadline KEEPTTL would keep. */
		old = ks_get(sh, &k);
	} else {
		old = NULL; /* a plain SET: ks_put replaces any value and TTL */
	}
	if ((flags & SET_NX && old) || (flags & SET_XX && !old)) {
		if (!(flags & SET_GET))
			out_null(o);
		goto out;
	}
	if (ks_put(sh, &k, kv_tag(val, KV_STRING), flags & SET_KEEPTTL) < 0) {
		out_error(o, ERR_OOM);
		goto out;
	}
	val = NULL; /* stored */
	if (when && ks_set_deadline(sh, &k, when) < 0)
		out_error(o, ERR_OOM);
	else if (!(flags & SET_GET))
		out_ok(o);
out:
	ks_unlock(sh);
	kv->key_drop(&k);
	kv_str_free(val);
	return 0;
}

int cmd_setnx(struct out *o, int argc, const struct kv_arg *argv)
{
	struct kv_key k;

	if (key_make(o, &k, &argv[1]) < 0)
		return 0;
	struct ks_shard *sh = ks_lock(&k);
	if (ks_get(sh, &k)) {
		out_int(o, 0);
	} else {
		struct intern_str *val = kv->str(argv[2].p, argv[2].n);
		if (!val || ks_put(sh, &k, kv_tag(val, KV_STRING), false) < 0) {
			kv_str_free(val);
			out_error(o, ERR_OOM);
		} else {
			out_int(o, 1);
		}
	}
	ks_unlock(sh);
	kv->key_drop(&k);
	return 0;
}

/* ---------------------------------------------------------------------------
 * INCR and friends, APPEND, STRLEN
 * ------------------------------------------------------------------------- */

static void incr_by(struct out *o, const struct kv_arg *key, long long by)
{
	struct kv_key k;
	void *v;
	long long cur = 0;

	if (key_make(o, &k, key) < 0)
		return;
	struct ks_shard *sh = ks_lock(&k);
	if (get_typed(o, sh, &k, KV_STRING, &v) < 0)
		goto out;
	if (v && !resp_strtoll(intern_str_data(v), intern_str_len(v), &cur)) {
		out_error(o, ERR_NOT_INT);
		goto out;
	}
	if ((by < 0 && cur < LLONG_MIN - by) || (by > 0 && cur > LLONG_MAX - by)) {
		out_error(o, ERR_OVERFLOW);
		goto out;
	}
	struct intern_str *val = kv->integer(cur + by);
	if (!val || ks_put(sh, &k, kv_tag(val, KV_STRING), true) < 0) {
		kv_str_free(val);
		out_error(o, ERR_OOM);
	} else {
		out_int(o, cur + by);
	}
out:
	ks_unlock(sh);
	kv->key_drop(&k);
}

int cmd_incr(struct out *o, int argc, const struct kv_arg *argv)
{
	incr_by(o, &argv[1], 1);
	return 0;
}

int cmd_decr(struct out *o, int argc, const struct kv_arg *argv)
{
	incr_by(o, &argv[1], -1);
	return 0;
}

int cmd_incrby(struct out *o, int argc, const struct kv_arg *argv)
{
	long long by;

	if (arg_ll(o, &argv[2], &by) == 0)
		incr_by(o, &argv[1], by);
	return 0;
}

int cmd_decrby(struct out *o, int argc, const struct kv_arg *argv)
{
	long long by;

	if (arg_ll(o, &argv[2], &by) < 0)
		return 0;
	if (by == LLONG_MIN)
		out_error(o, "ERR decrement would overflow");
	else
		incr_by(o, &argv[1], -by);
	return 0;
}

int cmd_append(struct out *o, int argc, const struct kv_arg *argv)
{
	struct kv_key k;
	void *v;

	if (key_make(o, &k, &argv[1]) < 0)
		return 0;
	struct ks_shard *sh = ks_lock(&k);
	if (get_typed(o, sh, &k, KV_STRING, &v) < 0)
		goto out;
	size_t have = v ? intern_str_len(v) : 0, len = have + argv[2].n;
	if (len > RESP_MAX_BULK) {
		out_error(o, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
		goto out;
	}
	/* Strings are immutable (and shared): the result is a new one. */
	char *buf = malloc(len ? len : 1);
	struct intern_str *val = NULL;
	if (buf) {
		if (have)
			memcpy(buf, intern_str_data(v), have);
		memcpy(buf + have, argv[2].p, argv[2].n);
		val = kv->str(buf, len);
		free(buf);
	}
	if (!val || ks_put(sh, &k, kv_tag(val, KV_STRING), true) < 0) {
		kv_str_free(val);
		out_error(o, ERR_OOM);
	} else {
		out_int(o, (long long)len);
	}
out:
	ks_unlock(sh);
	kv->key_drop(&k);
	return 0;
}

int cmd_strlen(struct out *o, int argc, const struct kv_arg *argv)
{
	struct kv_key k;
	void *v;

	key_find(&k, &argv[1]);
	struct ks_shard *sh = ks_lock(&k);
	if (get_typed(o, sh, &k, KV_STRING, &v) == 0)
		out_int(o, v ? (long long)intern_str_len(v) : 0);
	ks_unlock(sh);
	kv->key_drop(&k);
	return 0;
}
