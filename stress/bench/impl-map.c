/*
 * impl-map.c: dictionary lookups, two rows that are maps rather than
 * interners, to show what canonical keys buy the tables an application
 * keeps (a server's keyspace, a compiler's symbol table).
 *
 *   "intern_map"   libintern's map keyed by the canonical strings: it
 *                  hashes the address and compares pointers.  The
 *                  application holds canonical pointers, not bytes, so the
 *                  row replays the stream as the array of canonical
 *                  pointers of its records (built once, when the table is
 *                  made), read in step with the driver's walk; an op is
 *                  one intern_map_get().
 *   "content-map"  the same table (open addressing, linear probing, 16-byte
 *                  slots of key and value pointers, load <= 3/4) keyed by
 *                  content: XXH3-64 over the bytes, then length and memcmp
 *                  against the stored key, which is what a user without
 *                  interning writes (XXH3 being the fast hash one picks).
 *
 * Both are read-only while timed, so any number of threads may look up at
 * once with no synchronization (the map's contract for readers).  They run
 * on the hit workloads with no counted references and no memory figure
 * (the pointer array would count against the map); they are neither
 * libintern's reference row nor a baseline, so no target compares them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "intern.h"

#include "bench.h"

static const char *map_unsupported(const struct bench_workload *w)
{
	if (!w->hits || w->counted || w->memory)
		return "a lookup-only map row: hit workloads without counting or memory";
	return NULL;
}

/* The smallest power of two holding n entries at load <= 3/4. */
static size_t slots_for(size_t n)
{
	size_t cap = 16;

	while (n * 4 > cap * 3)
		cap <<= 1;
	return cap;
}

/* Call fn on every record of `st`, in order, with its index. */
static void walk_records(const struct bench_stream *st,
			 void (*fn)(void *arg, size_t k, const char *s, size_t len), void *arg)
{
	size_t pos = 0;

	for (size_t k = 0; k < st->count; k++) {
		size_t len = st->bytes[pos];

		fn(arg, k, (const char *)st->bytes + pos + 1, len);
		pos += len + 2;
	}
}

/* ---------------------------------------------------------------------------
 * intern_map, keyed by canonical pointers
 * ------------------------------------------------------------------------- */

struct ptr_table {
	struct intern_interp *interp;
	struct intern_map *map;
	const struct bench_stream *stream;
	struct intern_str **keys; /* the canonical string of each record */
};

static void ptr_insert(void *arg, size_t k, const char *s, size_t len)
{
	struct ptr_table *t = arg;
	struct intern_str *str = intern_bytes(t->interp, s, len);

	(void)k;
	if (!str || intern_map_set(t->map, str, str, NULL) < 0)
		bench_die("intern_map: preload failed");
	intern_str_decref(str); /* the map holds it now */
}

static void ptr_resolve(void *arg, size_t k, const char *s, size_t len)
{
	struct ptr_table *t = arg;
	struct intern_str *str = intern_lookup(t->interp, s, len);

	if (!str)
		bench_die("intern_map: a record of the stream was not preloaded");
	t->keys[k] = str;
	intern_str_decref(str); /* borrowed: the map holds a reference */
}

static void *ptr_create(const struct bench_table_config *cfg)
{
	struct ptr_table *t = bench_xcalloc(1, sizeof(*t));
	const struct bench_workload *w = cfg->workload;

	t->interp = intern_interp_new(NULL);
	t->map = intern_map_new(cfg->expected);
	if (!t->interp || !t->map)
		bench_die("intern_map: %s", strerror(errno));
	t->stream = &w->stream;
	t->keys = bench_xcalloc(w->stream.count ? w->stream.count : 1, sizeof(*t->keys));
	walk_records(&w->preload, ptr_insert, t);
	walk_records(&w->stream, ptr_resolve, t);
	return t;
}

static void ptr_destroy(void *tab)
{
	struct ptr_table *t = tab;

	intern_map_free(t->map, NULL);
	intern_interp_free(t->interp);
	free(t->keys);
	free(t);
}

/*
 * Each thread's place in the pointer array: the driver walks the stream
 * record after record, so the next call's bytes are expected right after
 * the last ones and the index just advances.  A jump (a thread's first
 * call, the wrap to the stream's start) is found again from the stream's
 * marks.
 */
struct cursor {
	const struct ptr_table *tab;
	const char *next;
	size_t k;
};

static _Thread_local struct cursor cur;

static void cursor_seek(const struct ptr_table *t, const char *s)
{
	const struct bench_stream *st = t->stream;
	size_t off = (size_t)((const unsigned char *)s - 1 - st->bytes);
	size_t lo = 0, hi = st->nmarks, pos, k;

	/* The last mark at or before `off`. */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (st->marks[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	pos = st->marks[lo];
	k = lo * BENCH_MARK_EVERY;
	while (pos < off) {
		pos += st->bytes[pos] + 2u;
		k++;
	}
	if (pos != off)
		bench_die("intern_map: lost track of the stream");
	cur.tab = t;
	cur.k = k;
}

__attribute__((noinline)) static const void *ptr_lookup(void *tab, const char *s, size_t len)
{
	const struct ptr_table *t = tab;

	if (__builtin_expect(s != cur.next || t != cur.tab, 0))
		cursor_seek(t, s);
	cur.next = s + len + 2;
	return intern_map_get(t->map, t->keys[cur.k++]);
}

/* The driver's preload: the entries went in at create; find each again by
 * its bytes (the preload is not the stream the cursor follows). */
static const void *ptr_keep(void *tab, const char *s, size_t len)
{
	const struct ptr_table *t = tab;
	struct intern_str *str = intern_lookup(t->interp, s, len);
	const void *v = intern_map_get(t->map, str);

	intern_str_decref(str);
	return v;
}

const struct bench_impl bench_impl_intern_map = {
	.name = "intern_map",
	.about = "intern_map_get on the canonical pointer (address hash, pointer compare)",
	.role = BENCH_ROLE_MAP,
	.unsupported = map_unsupported,
	.create = ptr_create,
	.destroy = ptr_destroy,
	.intern = ptr_lookup,
	.intern_keep = ptr_keep,
};

/* ---------------------------------------------------------------------------
 * The same table keyed by content
 * ------------------------------------------------------------------------- */

struct content_key {
	uint32_t len;
	char bytes[]; /* len bytes and a NUL */
};

struct content_slot {
	const struct content_key *key;
	void *value;
};

struct content_table {
	struct content_slot *slots;
	size_t mask;
};

static void *content_create(const struct bench_table_config *cfg)
{
	struct content_table *t = bench_xcalloc(1, sizeof(*t));
	size_t cap = slots_for(cfg->expected);

	t->slots = bench_xcalloc(cap, sizeof(*t->slots));
	t->mask = cap - 1;
	return t;
}

static void content_destroy(void *tab)
{
	struct content_table *t = tab;

	for (size_t i = 0; i <= t->mask; i++)
		free((void *)t->slots[i].key);
	free(t->slots);
	free(t);
}

/* The slot holding these bytes, or the empty slot where they would go. */
static inline struct content_slot *content_probe(const struct content_table *t, const char *s,
						 size_t len)
{
	size_t i = (size_t)XXH3_64bits(s, len) & t->mask;

	for (;; i = (i + 1) & t->mask) {
		struct content_slot *slot = &t->slots[i];

		if (!slot->key || (slot->key->len == len && memcmp(slot->key->bytes, s, len) == 0))
			return slot;
	}
}

__attribute__((noinline)) static const void *content_lookup(void *tab, const char *s, size_t len)
{
	return content_probe(tab, s, len)->value;
}

/* Preload: insert if absent (presized from cfg->expected: never grows). */
static const void *content_insert(void *tab, const char *s, size_t len)
{
	struct content_slot *slot = content_probe(tab, s, len);

	if (!slot->key) {
		struct content_key *key = bench_xmalloc(sizeof(*key) + len + 1);

		key->len = (uint32_t)len;
		memcpy(key->bytes, s, len);
		key->bytes[len] = '\0';
		slot->key = key;
		slot->value = key;
	}
	return slot->value;
}

const struct bench_impl bench_impl_content_map = {
	.name = "content-map",
	.about = "the same table keyed by content (XXH3-64 of the bytes, memcmp)",
	.role = BENCH_ROLE_MAP,
	.unsupported = map_unsupported,
	.create = content_create,
	.destroy = content_destroy,
	.intern = content_lookup,
	.intern_keep = content_insert,
};
