/*
 * cmap.c: the content-keyed map of --no-intern: what a server without an
 * intern table uses for its dict.  Open addressing with linear probing and
 * backward-shift deletion (no tombstones), slots of {key, value}; each key
 * is the map's own plain copy of the bytes (kv_plain_str), hashed with
 * XXH3 and compared with memcmp.  Not synchronized: the keyspace shard lock or the owning
 * key's lock covers it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "layer.h"

struct slot {
	struct intern_str *key;
	void *value;
};

struct cmap {
	size_t size;
	size_t mask; /* capacity - 1; capacity is a power of two */
	struct slot *slots;
};

#define CMAP_MIN 4

uint64_t cmap_hash(const char *data, size_t len)
{
	return XXH3_64bits(data, len);
}

static uint64_t key_hash(const struct intern_str *s)
{
	return cmap_hash(intern_str_data(s), intern_str_len(s));
}

struct cmap *cmap_new(size_t expected)
{
	size_t cap = CMAP_MIN;
	struct cmap *m = malloc(sizeof(*m));

	while (cap * 3 / 4 < expected)
		cap *= 2;
	if (!m)
		return NULL;
	m->slots = calloc(cap, sizeof(struct slot));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	m->size = 0;
	m->mask = cap - 1;
	return m;
}

void cmap_clear(struct cmap *m, void (*free_value)(void *value))
{
	for (size_t i = 0; i <= m->mask; i++) {
		struct slot *sl = &m->slots[i];
		if (!sl->key)
			continue;
		free(sl->key);
		if (free_value)
			free_value(sl->value);
		sl->key = NULL;
	}
	m->size = 0;
}

void cmap_free(struct cmap *m, void (*free_value)(void *value))
{
	if (!m)
		return;
	cmap_clear(m, free_value);
	free(m->slots);
	free(m);
}

/* The slot holding k, or the empty slot where it would go. */
static size_t probe(const struct cmap *m, const struct kv_key *k)
{
	size_t i = k->hash & m->mask;

	for (;; i = (i + 1) & m->mask) {
		const struct intern_str *s = m->slots[i].key;
		if (!s || (intern_str_len(s) == k->len &&
			   memcmp(intern_str_data(s), k->data, k->len) == 0))
			return i;
	}
}

int cmap_find(const struct cmap *m, const struct kv_key *k, void **value)
{
	size_t i = probe(m, k);

	if (!m->slots[i].key)
		return -ENOENT;
	if (value)
		*value = m->slots[i].value;
	return 0;
}

static int grow(struct cmap *m)
{
	size_t cap = (m->mask + 1) * 2;
	struct slot *old = m->slots, *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i <= m->mask; i++) {
		if (!old[i].key)
			continue;
		size_t j = key_hash(old[i].key) & (cap - 1);
		while (slots[j].key)
			j = (j + 1) & (cap - 1);
		slots[j] = old[i];
	}
	free(old);
	m->slots = slots;
	m->mask = cap - 1;
	return 0;
}

int cmap_set(struct cmap *m, const struct kv_key *k, void *value, void **old)
{
	size_t i = probe(m, k);

	if (m->slots[i].key) {
		if (old)
			*old = m->slots[i].value;
		m->slots[i].value = value;
		return 0;
	}
	if ((m->size + 1) * 4 > (m->mask + 1) * 3) {
		if (grow(m) < 0)
			return -ENOMEM;
		i = probe(m, k);
	}
	struct intern_str *s = kv_plain_str(k->data, k->len);
	if (!s)
		return -ENOMEM;
	m->slots[i].key = s;
	m->slots[i].value = value;
	m->size++;
	return 1;
}

/* Empty slot i and shift later entries of its cluster back, so probes
 * never need tombstones. */
static void remove_at(struct cmap *m, size_t i)
{
	size_t j = i;

	free(m->slots[i].key);
	m->slots[i].key = NULL;
	m->size--;
	for (;;) {
		j = (j + 1) & m->mask;
		if (!m->slots[j].key)
			return;
		size_t home = key_hash(m->slots[j].key) & m->mask;
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->slots[i] = m->slots[j];
			m->slots[j].key = NULL;
			i = j;
		}
	}
}

int cmap_delete(struct cmap *m, const struct kv_key *k, void **old)
{
	size_t i = probe(m, k);

	if (!m->slots[i].key)
		return -ENOENT;
	if (old)
		*old = m->slots[i].value;
	remove_at(m, i);
	return 0;
}

size_t cmap_size(const struct cmap *m)
{
	return m->size;
}

/* pos is one past the slot last returned. */
void cmap_iter_init(union kv_iter *it, const void *m)
{
	it->cm.map = m;
	it->cm.pos = 0;
}

bool cmap_iter_next(union kv_iter *it, struct intern_str **key, void **value)
{
	const struct cmap *m = it->cm.map;

	while (it->cm.pos <= m->mask) {
		const struct slot *sl = &m->slots[it->cm.pos++];
		if (sl->key) {
			*key = sl->key;
			*value = sl->value;
			return true;
		}
	}
	return false;
}

/* The shift may move a later entry into the slot just emptied: step back
 * so it is visited.  (An entry of a cluster that wrapped around the end
 * may then be visited twice; the keyspace's sweep, the only caller, just
 * looks at it again.) */
int cmap_iter_delete(union kv_iter *it, void **old)
{
	struct cmap *m = (struct cmap *)it->cm.map;
	size_t i = it->cm.pos - 1;

	if (it->cm.pos == 0 || !m->slots[i].key)
		return -ENOENT;
	if (old)
		*old = m->slots[i].value;
	remove_at(m, i);
	if (m->slots[i].key)
		it->cm.pos = i;
	return 0;
}
