/*
 * layer.h: the string and map layer, the one thing that differs between
 * intern-kv's two modes.
 *
 * Every command, the keyspace and the network code are written once
 * against this vtable.  The default layer (layer-intern.c) stores keys,
 * fields, members and values as libintern canonical strings and keys every
 * map with intern_map (hashing and comparing pointers).  --no-intern picks
 * layer-plain.c: each stored string is its own heap copy and the maps hash
 * the bytes (XXH3) and compare them (memcmp), as a server without an
 * intern table does.  Both store `struct intern_str *` objects (a plain
 * one is simply never interned), so the A/B difference is exactly
 * interning plus pointer-keyed maps.  (Plain strings are allocated by the
 * server, not by intern_str_new(), which would hash each one for a table
 * it never enters.)
 */
#ifndef INTERN_KV_LAYER_H
#define INTERN_KV_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <intern.h>

/* A command argument prepared as a map key. */
struct kv_key {
	const char *data;
	size_t len;
	struct intern_str *s; /* intern layer: the canonical string, NULL
				* when no string has these bytes; plain: NULL */
	bool counted;         /* intern layer: s is a new reference of this
				* key's (key_make; key_find outside a scope),
				* until a map_set takes it over; otherwise s
				* is borrowed (key_find inside the request's
				* scope, key_of) */
	uint64_t hash;        /* picks the keyspace shard (and the plain
				* map's slot) */
};

/* Iteration state of either map kind. */
union kv_iter {
	struct intern_map_iter im;
	struct {
		const void *map;
		size_t pos;
	} cm;
};

struct kv_layer {
	const char *name;
	/* Bracket the requests of one read (NULL: nothing to do).  The
	 * intern layer runs them in a libintern scope, so that key_find
	 * borrows its strings (no count written) until they are done. */
	void (*scope_begin)(void);
	void (*scope_end)(void);
	/* Prepare a key for lookups only: never grows any table. */
	void (*key_find)(struct kv_key *k, const char *data, size_t len);
	/* Prepare a key that may be inserted: 0, or -ENOMEM / -ENOSPC. */
	int (*key_make)(struct kv_key *k, const char *data, size_t len);
	/* Borrow a string that a map holds as a key (never dropped). */
	void (*key_of)(struct kv_key *k, struct intern_str *s);
	/* Release what key_find / key_make took. */
	void (*key_drop)(struct kv_key *k);
	/* A stored string with these bytes, or an integer's decimal text.
	 * Returns a new reference, or NULL when memory is exhausted. */
	struct intern_str *(*str)(const char *data, size_t len);
	struct intern_str *(*integer)(long long v);
	/* Drop a reference that str or integer returned (NULL ignored). */
	void (*str_drop)(struct intern_str *s);

	/* Maps from keys to void * (the intern_map API, over kv_key). */
	void *(*map_new)(size_t expected);
	void (*map_free)(void *m, void (*free_value)(void *value));
	void (*map_clear)(void *m, void (*free_value)(void *value));
	int (*map_find)(const void *m, const struct kv_key *k, void **value);
	/* Insert or replace; takes over k's counted reference, if it has
	 * one, on every path (k->counted is false afterwards, and k->s stays
	 * readable until the request's scope ends). */
	int (*map_set)(void *m, struct kv_key *k, void *value, void **old);
	int (*map_delete)(void *m, const struct kv_key *k, void **old);
	size_t (*map_size)(const void *m);
	void (*iter_init)(union kv_iter *it, const void *m);
	bool (*iter_next)(union kv_iter *it, struct intern_str **key, void **value);
	int (*iter_delete)(union kv_iter *it, void **old);
};

extern const struct kv_layer kv_layer_intern;
extern const struct kv_layer kv_layer_plain;

/* The layer in use and the interpreter (set once by main before any
 * thread starts; the plain layer keeps the interpreter for the command
 * names' singletons and INFO only). */
extern const struct kv_layer *kv;
extern struct intern_interp *kv_interp;

/* Drop a string value (kv->str_drop): also the free_value callback of
 * maps of strings. */
void kv_str_free(void *s);

/* A plain heap string: the header of struct intern_str (which is ABI),
 * the bytes and a NUL in one allocation, never hashed nor interned, read
 * with intern_str_data() / intern_str_len() and freed with free().  What
 * a server without an intern table stores. */
struct intern_str *kv_plain_str(const char *data, size_t len);

/* ---------------------------------------------------------------------------
 * The content-keyed map of the plain layer (cmap.c)
 * ------------------------------------------------------------------------- */

struct cmap;
uint64_t cmap_hash(const char *data, size_t len);
struct cmap *cmap_new(size_t expected);
void cmap_free(struct cmap *m, void (*free_value)(void *value));
void cmap_clear(struct cmap *m, void (*free_value)(void *value));
int cmap_find(const struct cmap *m, const struct kv_key *k, void **value);
int cmap_set(struct cmap *m, const struct kv_key *k, void *value, void **old);
int cmap_delete(struct cmap *m, const struct kv_key *k, void **old);
size_t cmap_size(const struct cmap *m);
void cmap_iter_init(union kv_iter *it, const void *m);
bool cmap_iter_next(union kv_iter *it, struct intern_str **key, void **value);
int cmap_iter_delete(union kv_iter *it, void **old);

#endif
