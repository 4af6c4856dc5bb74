/*
 * layer-plain.c: --no-intern.  Every stored string is its own heap object
 * (kv_plain_str: never interned, freed once) and every map is a cmap,
 * hashing and comparing bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"

static void key_find(struct kv_key *k, const char *data, size_t len)
{
	k->data = data;
	k->len = len;
	k->s = NULL;
	k->hash = cmap_hash(data, len);
}

/* The map copies a key's bytes when it inserts one: nothing to make. */
static int key_make(struct kv_key *k, const char *data, size_t len)
{
	key_find(k, data, len);
	return 0;
}

static void key_of(struct kv_key *k, struct intern_str *s)
{
	key_find(k, intern_str_data(s), intern_str_len(s));
}

static void key_drop(struct kv_key *k)
{
	(void)k;
}

struct intern_str *kv_plain_str(const char *data, size_t len)
{
	struct intern_str *s = malloc(sizeof(*s) + len + 1);

	if (!s)
		return NULL;
	*s = (struct intern_str){ 1u, (uint32_t)len, 0u, INTERN_NOT_INTERNED, 0u, 0u };
	memcpy(s + 1, data, len);
	((char *)(s + 1))[len] = '\0';
	return s;
}

static struct intern_str *plain_integer(long long v)
{
	char buf[24];

	return kv_plain_str(buf, (size_t)snprintf(buf, sizeof(buf), "%lld", v));
}

static void plain_drop(struct intern_str *s)
{
	free(s);
}

static void *map_new(size_t expected)
{
	return cmap_new(expected);
}

static void map_free(void *m, void (*free_value)(void *))
{
	cmap_free(m, free_value);
}

static void map_clear(void *m, void (*free_value)(void *))
{
	cmap_clear(m, free_value);
}

static int map_find(const void *m, const struct kv_key *k, void **value)
{
	return cmap_find(m, k, value);
}

static int map_set(void *m, struct kv_key *k, void *value, void **old)
{
	return cmap_set(m, k, value, old);
}

static int map_delete(void *m, const struct kv_key *k, void **old)
{
	return cmap_delete(m, k, old);
}

static size_t map_size(const void *m)
{
	return cmap_size(m);
}

const struct kv_layer kv_layer_plain = {
	.name = "plain",
	.key_find = key_find,
	.key_make = key_make,
	.key_of = key_of,
	.key_drop = key_drop,
	.str = kv_plain_str,
	.integer = plain_integer,
	.str_drop = plain_drop,
	.map_new = map_new,
	.map_free = map_free,
	.map_clear = map_clear,
	.map_find = map_find,
	.map_set = map_set,
	.map_delete = map_delete,
	.map_size = map_size,
	.iter_init = cmap_iter_init,
	.iter_next = cmap_iter_next,
	.iter_delete = cmap_iter_delete,
};
