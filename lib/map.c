/*
 * map.c: a hash map from canonical strings to pointers (intern_map).
 *
 * Interned strings are equal exactly when their pointers are, so a map
 * keyed by them never needs the bytes: it hashes the address and compares
 * pointers.  A probe touches only the slot array, never the string, which
 * is what a content-keyed map cannot avoid (docs/map.md has the design and
 * the figures).
 *
 * Layout: one small header (the map) and one array of slots, each a key
 * pointer and a value pointer.  Two modes, chosen by the capacity:
 *
 *   small   cap <= SMALL_MAX: the entries are packed at the front of the
 *           array in no order and found by a linear scan of pointers.  A
 *           hash of 8 fields is 8 slots, 128 bytes, with no empty slot:
 *           a server holds millions of such maps.
 *   hashed  cap > SMALL_MAX, a power of two: open addressing with linear
 *           probing from MurmurHash3's fmix64 of the address; deletions
 *           leave tombstones (so iteration may delete), which the next
 *           resize drops.  Load (entries + tombstones) stays <= 3/4.
 *
 * Not synchronized: the caller serializes writers, as with any dict;
 * readers (get, find, size, iteration) may run together when no writer
 * does, since they write nothing.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "intern-private.h"
#include "map.h"

/* ---- types -------------------------------------------------------------- */

struct slot {
	struct intern_str *key; /* NULL: empty; TOMBSTONE: deleted */
	void *value;
};

struct intern_map {
	struct slot *slots; /* NULL while cap is 0 */
	uint32_t cap;       /* slots: 0, 2, 4, 8 (small) or a power of two > 8 */
	uint32_t count;     /* live entries */
	uint32_t tombs;     /* tombstones (hashed mode only) */
};

#define SMALL_MAX 8u
/* The largest capacity: 2^31 slots (32 GiB of slots; count stays 32-bit). */
#define CAP_MAX 0x80000000u

/* A deleted slot's key: an address no string has. */
static const char tombstone_mark;
#define TOMBSTONE ((struct intern_str *)(uintptr_t)&tombstone_mark)

/* Iterator position: (next slot << 1) | 1 while no entry is current (before
 * the first next, after a delete), so a second delete is refused. */
#define ITER_NO_CURRENT 1u

/* ---- private ------------------------------------------------------------ */

static inline bool is_small(uint32_t cap)
{
	return cap <= SMALL_MAX;
}

static inline bool is_live(const struct intern_str *key)
{
	return key != NULL && key != TOMBSTONE;
}

/*
 * The home slot: the address through MurmurHash3's 64-bit finalizer, whose
 * every output bit depends on every input bit, masked to the capacity.  A
 * single multiplication (Fibonacci hashing) is not enough: it is linear,
 * so addresses in arithmetic progressions (a fragmented heap hands them
 * out) land in runs of adjacent slots, and linear probing then walked 83
 * slots per lookup on 1,000 keys (docs/map.md).  Addresses are not chosen
 * by clients (unlike bytes), so an unkeyed hash does not invite flooding.
 */
static inline uint32_t home_slot(const struct intern_str *key, uint32_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)key;

	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32_t)h & (cap - 1);
}

/* The slot holding `key`, or NULL. */
static struct slot *find_slot(const struct intern_map *map, const struct intern_str *key)
{
	uint32_t mask = map->cap - 1;

	if (is_small(map->cap)) {
		for (uint32_t i = 0; i < map->count; i++)
			if (map->slots[i].key == key)
				return &map->slots[i];
		return NULL;
	}
	/* Load <= 3/4 guarantees an empty slot, so the probe ends. */
	for (uint32_t i = home_slot(key, map->cap);; i = (i + 1) & mask) {
		struct intern_str *k = map->slots[i].key;

		if (k == key)
			return &map->slots[i];
		if (k == NULL)
			return NULL;
	}
}

/* Place an absent key in a hashed array with room (no tombstones in it). */
static void place(struct slot *slots, uint32_t cap, struct intern_str *key, void *value)
{
	uint32_t i = home_slot(key, cap);

	while (slots[i].key)
		i = (i + 1) & (cap - 1);
	slots[i].key = key;
	slots[i].value = value;
}

/* The capacity that holds `n` entries: the small size >= n up to
 * SMALL_MAX, else the power of two that keeps the load <= 3/4 (so a map
 * that fills up doubles).  0 when n is too large. */
static uint32_t cap_for(size_t n)
{
	uint32_t cap = 2;

	if (n == 0)
		return 0;
	while (is_small(cap) ? cap < n : (uint64_t)n * 4 > (uint64_t)cap * 3) {
		if (cap == CAP_MAX)
			return 0;
		cap <<= 1;
	}
	return cap;
}

/*
 * Move every entry into a new array of `cap` slots (0 frees the array).
 * Returns 0, or -ENOMEM with the map unchanged.
 */
static int resize(struct intern_map *map, uint32_t cap)
{
	struct slot *slots = NULL;
	uint32_t n = 0;

	if (cap) {
		slots = intern__calloc(cap, sizeof(*slots));
		if (!slots)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < map->cap; i++) {
		struct slot *s = &map->slots[i];

		if (!is_live(s->key))
			continue;
		if (is_small(cap))
			slots[n++] = *s;
		else
			place(slots, cap, s->key, s->value);
	}
	intern__free(map->slots);
	map->slots = slots;
	map->cap = cap;
	map->tombs = 0;
	return 0;
}

/* Make room for one more entry. */
static int reserve_one(struct intern_map *map)
{
	uint32_t used = map->count + map->tombs + 1;
	uint32_t cap;

	if (is_small(map->cap) ? used <= map->cap : (uint64_t)used * 4 <= (uint64_t)map->cap * 3)
		return 0;
	cap = cap_for((size_t)map->count + 1);
	if (!cap)
		return -ENOMEM;
	return resize(map, cap);
}

/* Empty a slot whose key reference has been dropped.  Small: the last
 * entry moves into the hole.  Hashed: a tombstone, unless the next slot is
 * empty (then no probe can pass through this one). */
static void vacate(struct intern_map *map, struct slot *s)
{
	map->count--;
	if (is_small(map->cap)) {
		*s = map->slots[map->count];
		map->slots[map->count] = (struct slot){ NULL, NULL };
		return;
	}
	if (map->slots[(s - map->slots + 1) & (map->cap - 1)].key == NULL) {
		*s = (struct slot){ NULL, NULL };
	} else {
		*s = (struct slot){ TOMBSTONE, NULL };
		map->tombs++;
	}
}

/* Give memory back after deletions: a hashed map below 1/8 full shrinks. */
static void maybe_shrink(struct intern_map *map)
{
	if (is_small(map->cap) || (uint64_t)map->count * 8 >= map->cap)
		return;
	/* Best effort: without memory the map just stays larger. */
	(void)resize(map, cap_for((size_t)map->count * 2));
}

/* Drop every entry (keys decref'd, values to free_value) and the array. */
static void drop_all(struct intern_map *map, void (*free_value)(void *value))
{
	for (uint32_t i = 0; i < map->cap; i++) {
		struct slot *s = &map->slots[i];

		if (!is_live(s->key))
			continue;
		intern_str_decref(s->key);
		if (free_value)
			free_value(s->value);
	}
	intern__free(map->slots);
	map->slots = NULL;
	map->cap = map->count = map->tombs = 0;
}

/* ---- white box ---------------------------------------------------------- */

double intern__map_mean_probe(const struct intern_map *map)
{
	uint64_t steps = 0;

	if (!map || map->count == 0)
		return 0;
	for (uint32_t i = 0; i < map->cap; i++) {
		const struct intern_str *key = map->slots[i].key;

		if (is_live(key))
			steps += is_small(map->cap)
					 ? i
					 : (i - home_slot(key, map->cap)) & (map->cap - 1);
	}
	return (double)steps / map->count;
}

/* ---- API ---------------------------------------------------------------- */

INTERN_API struct intern_map *intern_map_new(size_t expected)
{
	struct intern_map *map = intern__calloc(1, sizeof(*map));
	uint32_t cap = cap_for(expected);

	if (!map)
		return NULL;
	if (expected && (!cap || resize(map, cap) < 0)) {
		intern__free(map);
		errno = ENOMEM;
		return NULL;
	}
	return map;
}

INTERN_API void intern_map_free(struct intern_map *map, void (*free_value)(void *value))
{
	if (!map)
		return;
	drop_all(map, free_value);
	intern__free(map);
}

/* Insert or replace, counting nothing: 1 inserted (the map now owns a
 * reference the caller provides), 0 replaced, or a negative errno. */
static int put(struct intern_map *map, struct intern_str *key, void *value, void **old_value)
{
	struct slot *s;
	int err;

	if (!map || !key)
		return -EINVAL;
	s = map->cap ? find_slot(map, key) : NULL;
	if (s) {
		if (old_value)
			*old_value = s->value;
		s->value = value;
		return 0;
	}
	err = reserve_one(map);
	if (err)
		return err;
	if (is_small(map->cap)) {
		map->slots[map->count] = (struct slot){ key, value };
	} else {
		/* Reuse the first tombstone on the key's probe path. */
		uint32_t i = home_slot(key, map->cap);

		while (is_live(map->slots[i].key))
			i = (i + 1) & (map->cap - 1);
		if (map->slots[i].key == TOMBSTONE)
			map->tombs--;
		map->slots[i] = (struct slot){ key, value };
	}
	map->count++;
	return 1;
}

INTERN_API int intern_map_set(struct intern_map *map, struct intern_str *key, void *value,
			      void **old_value)
{
	int rc = put(map, key, value, old_value);

	if (rc == 1)
		intern_str_incref(key);
	return rc;
}

INTERN_API int intern_map_set_steal(struct intern_map *map, struct intern_str *key,
				    void *value, void **old_value)
{
	int rc = put(map, key, value, old_value);

	if (rc != 1)
		intern_str_decref(key); /* NULL is ignored */
	return rc;
}

INTERN_API int intern_map_find(const struct intern_map *map, const struct intern_str *key,
			       void **value)
{
	const struct slot *s;

	if (!map || !key)
		return -EINVAL;
	s = map->cap ? find_slot(map, key) : NULL;
	if (!s)
		return -ENOENT;
	if (value)
		*value = s->value;
	return 0;
}

INTERN_API void *intern_map_get(const struct intern_map *map, const struct intern_str *key)
{
	void *value = NULL;

	return intern_map_find(map, key, &value) == 0 ? value : NULL;
}

INTERN_API int intern_map_delete(struct intern_map *map, const struct intern_str *key,
				 void **old_value)
{
	struct slot *s;
	struct intern_str *held;

	if (!map || !key)
		return -EINVAL;
	s = map->cap ? find_slot(map, key) : NULL;
	if (!s)
		return -ENOENT;
	held = s->key;
	if (old_value)
		*old_value = s->value;
	vacate(map, s);
	maybe_shrink(map);
	/* Last: the decref may free the string, and `key` may be the
	 * caller's borrowed view of the very reference the map held. */
	intern_str_decref(held);
	return 0;
}

INTERN_API size_t intern_map_size(const struct intern_map *map)
{
	return map ? map->count : 0;
}

INTERN_API void intern_map_clear(struct intern_map *map, void (*free_value)(void *value))
{
	if (map)
		drop_all(map, free_value);
}

INTERN_API void intern_map_iter_init(struct intern_map_iter *it, const struct intern_map *map)
{
	if (!it)
		return;
	it->map = map;
	it->pos = ITER_NO_CURRENT;
}

INTERN_API bool intern_map_iter_next(struct intern_map_iter *it, struct intern_str **key,
				     void **value)
{
	const struct intern_map *map;

	if (!it || !it->map)
		return false;
	map = it->map;
	for (size_t i = it->pos >> 1; i < map->cap; i++) {
		const struct slot *s = &map->slots[i];

		if (!is_live(s->key))
			continue;
		it->pos = (i + 1) << 1;
		if (key)
			*key = s->key;
		if (value)
			*value = s->value;
		return true;
	}
	it->pos = ((size_t)map->cap << 1) | ITER_NO_CURRENT;
	return false;
}

INTERN_API int intern_map_iter_delete(struct intern_map_iter *it, void **old_value)
{
	struct intern_map *map;
	struct slot *s;
	struct intern_str *held;
	size_t i;

	if (!it || !it->map || (it->pos & ITER_NO_CURRENT))
		return -EINVAL;
	/* The map was handed over const for reading; deleting through the
	 * iterator is the one write iteration allows. */
	map = (struct intern_map *)it->map;
	i = (it->pos >> 1) - 1;
	s = &map->slots[i];
	held = s->key;
	if (old_value)
		*old_value = s->value;
	vacate(map, s);
	/* Small: the last entry moved into this slot and has not been
	 * visited yet, so the next call looks at this slot again.  Hashed:
	 * nothing moved, tombstones never shrink the table during a walk. */
	it->pos = (is_small(map->cap) ? i << 1 : (i + 1) << 1) | ITER_NO_CURRENT;
	intern_str_decref(held);
	return 0;
}
