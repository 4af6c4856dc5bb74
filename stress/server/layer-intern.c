/*
 * layer-intern.c: the default layer.  Keys, fields, members and values are
 * canonical strings of one interpreter, so equal bytes are stored once
 * across the whole dataset, and every map is an intern_map: it hashes and
 * compares pointers and never reads a string's bytes.  A command argument
 * becomes a key with intern_lookup() when it is only looked up (a client
 * cannot grow the table by asking for keys that do not exist) and with
 * intern_bytes() when it may be inserted.
 *
 * The requests of one read run in a libintern scope (scope_begin/_end),
 * and inside it a key only looked up is borrowed (intern_lookup_borrowed): the
 * command word, GET's key, HGET's key and field write no shared count.
 * A key that may be stored is a counted reference (intern_bytes), and the
 * map that stores it takes that reference over (intern_map_set_steal)
 * instead of counting one of its own and the key dropping its own.
 */
#include <errno.h>

#include "layer.h"

const struct kv_layer *kv;
struct intern_interp *kv_interp;

void kv_str_free(void *s)
{
	kv->str_drop(s);
}

/* The shard hash of a canonical string: its address, mixed (equal bytes
 * are one object).  It must stay independent of intern_map's slot hash
 * (the low bits of fmix64 of the address): were the two the same, the
 * shard index would fix bits of every home slot in that shard's map and
 * its keys would cluster into a fraction of the array.  ks_lock takes the
 * top bits of this product, by a constant of its own. */
static uint64_t ptr_hash(const struct intern_str *s)
{
	return ((uint64_t)(uintptr_t)s >> 4) * 0xd6e8feb86659fd93ull;
}

static void scope_begin(void)
{
	intern_scope_enter();
}

static void scope_end(void)
{
	intern_scope_exit();
}

static void key_find(struct kv_key *k, const char *data, size_t len)
{
	k->data = data;
	k->len = len;
	/* Outside a request (start-up, the sweep): a counted lookup. */
	k->counted = intern_scope_depth() == 0;
	k->s = k->counted ? intern_lookup(kv_interp, data, len)
			  : intern_lookup_borrowed(kv_interp, data, len);
	/* Absent: no map holds the key, any shard answers "no". */
	k->hash = k->s ? ptr_hash(k->s) : len;
}

static int key_make(struct kv_key *k, const char *data, size_t len)
{
	k->data = data;
	k->len = len;
	k->s = intern_bytes(kv_interp, data, len);
	if (!k->s)
		return -errno;
	k->counted = true;
	k->hash = ptr_hash(k->s);
	return 0;
}

static void key_of(struct kv_key *k, struct intern_str *s)
{
	k->data = intern_str_data(s);
	k->len = intern_str_len(s);
	k->s = s;
	k->counted = false;
	k->hash = ptr_hash(s);
}

static void key_drop(struct kv_key *k)
{
	if (k->counted)
		intern_str_decref(k->s);
	k->s = NULL;
	k->counted = false;
}

static struct intern_str *str(const char *data, size_t len)
{
	return intern_bytes(kv_interp, data, len);
}

static struct intern_str *integer(long long v)
{
	return intern_int(kv_interp, v);
}

static void *map_new(size_t expected)
{
	return intern_map_new(expected);
}

static void map_free(void *m, void (*free_value)(void *))
{
	intern_map_free(m, free_value);
}

static void map_clear(void *m, void (*free_value)(void *))
{
	intern_map_clear(m, free_value);
}

static int map_find(const void *m, const struct kv_key *k, void **value)
{
	return k->s ? intern_map_find(m, k->s, value) : -ENOENT;
}

static int map_set(void *m, struct kv_key *k, void *value, void **old)
{
	if (!k->counted)
		return intern_map_set(m, k->s, value, old);
	k->counted = false;
	return intern_map_set_steal(m, k->s, value, old);
}

static int map_delete(void *m, const struct kv_key *k, void **old)
{
	return k->s ? intern_map_delete(m, k->s, old) : -ENOENT;
}

static size_t map_size(const void *m)
{
	return intern_map_size(m);
}

static void iter_init(union kv_iter *it, const void *m)
{
	intern_map_iter_init(&it->im, m);
}

static bool iter_next(union kv_iter *it, struct intern_str **key, void **value)
{
	return intern_map_iter_next(&it->im, key, value);
}

static int iter_delete(union kv_iter *it, void **old)
{
	return intern_map_iter_delete(&it->im, old);
}

const struct kv_layer kv_layer_intern = {
	.name = "intern",
	.scope_begin = scope_begin,
	.scope_end = scope_end,
	.key_find = key_find,
	.key_make = key_make,
	.key_of = key_of,
	.key_drop = key_drop,
	.str = str,
	.integer = integer,
	.str_drop = intern_str_decref,
	.map_new = map_new,
	.map_free = map_free,
	.map_clear = map_clear,
	.map_find = map_find,
	.map_set = map_set,
	.map_delete = map_delete,
	.map_size = map_size,
	.iter_init = iter_init,
	.iter_next = iter_next,
	.iter_delete = iter_delete,
};
