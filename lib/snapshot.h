/*
 * snapshot.h: the mapped snapshot's reader side (lib/snapshot.c) and the
 * dense IDs (lib/ids.c), shared with intern.c, interp.c and table.c.  The
 * file format is docs/snapshot.md; the structs below are its header and
 * index slot, native byte order and word size.
 *
 * The lookup is inline, like the table's (table.h): a hit on a snapshot
 * string costs one XXH3 hash under the file's seed, a bounded probe of
 * 8-byte slots and one byte compare; no lock, no write, no allocation.
 */
#ifndef INTERN_SNAPSHOT_H
#define INTERN_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "intern-private.h"
#include "table.h" /* intern__same_bytes */

/* ---- the file format (docs/snapshot.md) --------------------------------- */

#define INTERN__SNAP_MAGIC "INTRNSNP"
#define INTERN__SNAP_BYTE_ORDER 0x01020304u
#define INTERN__SNAP_FORMAT 1u
/* The layout of struct intern_str that the strings are: 16 bytes, the
 * fields of include/intern.h in that order, bytes and NUL after them. */
#define INTERN__SNAP_STR_ABI 1u
#define INTERN__SNAP_HASH_XXH3 1u /* XXH3-64 with the header's seed */
#define INTERN__SNAP_ALIGN 4096u  /* every section starts on such a boundary */
#define INTERN__SNAP_STR_ALIGN 8u /* every string starts on such a boundary */
#define INTERN__SNAP_MAX_PROBE 255u

struct intern__snap_header {
	char magic[8];           /* INTERN__SNAP_MAGIC, no NUL */
	uint32_t byte_order;     /* INTERN__SNAP_BYTE_ORDER, as the writer stores it */
	uint32_t format;         /* INTERN__SNAP_FORMAT */
	uint32_t str_abi;        /* INTERN__SNAP_STR_ABI */
	uint32_t str_header;     /* sizeof(struct intern_str): 16 */
	uint32_t word_size;      /* sizeof(void *) of the writer */
	uint32_t header_size;    /* sizeof(struct intern__snap_header): 128 */
	uint32_t align;          /* INTERN__SNAP_ALIGN */
	uint32_t hash;           /* INTERN__SNAP_HASH_XXH3 */
	uint64_t seed;           /* the index hash's seed */
	uint32_t count;          /* strings, IDs 0..count-1 */
	uint32_t max_probe;      /* the largest displacement of an index entry */
	uint64_t index_slots;    /* a power of two, >= count, < 2^32 */
	uint64_t file_size;      /* bytes in the file */
	uint64_t strings_offset; /* the string area */
	uint64_t strings_size;
	uint64_t index_offset; /* index_slots 64-bit slots */
	uint64_t ids_offset;   /* count 64-bit offsets, by ID */
	uint64_t body_checksum; /* XXH3-64, seed 0, of [header_size, file_size) */
	uint64_t reserved;      /* 0 */
	uint64_t header_checksum; /* XXH3-64, seed 0, of the bytes before it */
};

_Static_assert(sizeof(struct intern__snap_header) == 128, "the header is 128 bytes");
_Static_assert(sizeof(struct intern_str) == 16, "the string header is 16 bytes");

/* An index slot: 0 when empty, else (tag << 32) | unit, where unit is the
 * string's offset in the file divided by INTERN__SNAP_STR_ALIGN (never 0:
 * the header is at offset 0) and tag the top 32 bits of its hash. */
static inline uint64_t intern__snap_slot(uint64_t hash, uint64_t offset)
{
	return (hash & 0xffffffff00000000ull) | (offset / INTERN__SNAP_STR_ALIGN);
}

/* ---- an open snapshot ---------------------------------------------------- */

struct intern_snapshot {
	/* Read by every lookup (one cache line). */
	const char *base;      /* the mapping: the file's byte 0 */
	const uint64_t *index; /* index_slots slots */
	const uint64_t *ids;   /* count offsets */
	uint64_t seed;
	uint64_t mask; /* index_slots - 1 */
	uint64_t str_begin, str_end; /* the string area, offsets in the file */
	uint32_t max_probe;
	uint32_t count;
	/* Not on the lookup path. */
	size_t size;   /* of the mapping */
	uint32_t refs; /* atomic; the last drop unmaps */
};

static inline uint64_t intern__snap_hash(uint64_t seed, const char *data, size_t len)
{
	return XXH3_64bits_withSeed(data, len, seed);
}

/*
 * The string of `snap` with these bytes, or NULL.  Every probe is bounded:
 * at most max_probe + 1 slots, and a slot is followed only if the string
 * it names, `len` bytes long, lies inside the string area, so a file
 * opened with INTERN_SNAPSHOT_TRUSTED whose index lies still reads only
 * inside the mapping.
 */
/* Does a record's header say what every snapshot string's must: state
 * IMMORTAL_STATIC, flags STATIC | MAPPED, owner 0?  The full check proves
 * it for every record at open; a trusted file's lookups ask it of each
 * record they return, so a lying header never reaches a caller that would
 * count or file it (one 4-byte compare on a line the lookup has loaded). */
static inline bool intern__snap_header_ok(const struct intern_str *s)
{
	return s->ob_state == INTERN_IMMORTAL_STATIC &&
	       s->ob_flags == (INTERN_STR_F_STATIC | INTERN_STR_F_MAPPED) && s->ob_owner == 0;
}

static inline struct intern_str *intern__snap_find(const struct intern_snapshot *snap,
						   const char *data, size_t len)
{
	const uint64_t h = intern__snap_hash(snap->seed, data, len);
	const uint32_t tag = (uint32_t)(h >> 32);
	uint64_t i = h & snap->mask;

	for (uint32_t n = 0; n <= snap->max_probe; n++, i = (i + 1) & snap->mask) {
		const uint64_t v = snap->index[i];
		const uint64_t at = (uint32_t)v * (uint64_t)INTERN__SNAP_STR_ALIGN;
		const struct intern_str *s;

		if (v == 0)
			return NULL;
		if ((uint32_t)(v >> 32) != tag || at < snap->str_begin ||
		    at + sizeof(*s) + len >= snap->str_end)
			continue;
		s = (const struct intern_str *)(snap->base + at);
		if (intern__same_bytes(s, data, len))
			return intern__snap_header_ok(s) ? (struct intern_str *)s : NULL;
	}
	return NULL;
}

/* The string whose record starts at file offset `at`, if the whole record
 * (header, bytes, NUL) lies inside the string area, else NULL: what
 * intern_id_str() and intern_snapshot_str() return for a trusted file's
 * ID table, whatever it says. */
static inline struct intern_str *intern__snap_record(const struct intern_snapshot *snap,
						     uint64_t at)
{
	const struct intern_str *s = (const struct intern_str *)(snap->base + at);

	if (at < snap->str_begin || at % INTERN__SNAP_STR_ALIGN ||
	    at + sizeof(*s) >= snap->str_end || s->ob_len >= snap->str_end - at - sizeof(*s) ||
	    !intern__snap_header_ok(s))
		return NULL;
	return (struct intern_str *)s;
}

/* Is `s` a string inside `snap`'s string area?  (Its start: a string
 * handed in by a caller is one the library returned.) */
static inline bool intern__snap_holds(const struct intern_snapshot *snap,
				      const struct intern_str *s)
{
	const char *p = (const char *)s;

	return p >= snap->base + snap->str_begin && p < snap->base + snap->str_end;
}

/*
 * The built-in singleton or the string of interp's snapshot with these
 * bytes, or NULL: every interning route asks this before the table, so no
 * table holds their bytes (invariant I6, and I7 for the snapshot).
 */
static inline struct intern_str *intern__fixed(const struct intern_interp *interp,
					       const char *data, size_t len)
{
	struct intern_str *r = intern__builtin(data, len);

	if (r || !interp->snap)
		return r;
	return intern__snap_find(interp->snap, data, len);
}

/* Take a reference on `snap` (interp.c: an interpreter holds one). */
void intern__snap_ref(struct intern_snapshot *snap);

/* ---- dense IDs (ids.c) --------------------------------------------------- */

/* Set up and free an interpreter's IDs (intern_interp_new / _free). */
void intern__ids_init(struct intern_interp *interp);
void intern__ids_fini(struct intern_interp *interp);

/* The strings that have an ID beyond the snapshot's, in ID order, for
 * `fn`; stops at the first non-zero return and returns it.  Takes the ID
 * lock. */
int intern__ids_each(struct intern_interp *interp,
		     int (*fn)(void *ctx, const struct intern_str *s), void *ctx);

/* Every IMMORTAL or filed static entry of interp's table, for `fn`, each
 * shard under its lock; stops at the first non-zero return (table.c). */
int intern__table_each_immortal(struct intern_interp *interp,
				int (*fn)(void *ctx, const struct intern_str *s), void *ctx);

#endif
