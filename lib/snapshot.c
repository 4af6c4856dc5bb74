/*
 * snapshot.c: mapped snapshots of immortal strings (docs/snapshot.md has
 * the file format, the semantics and the threat model).
 *
 * A snapshot file holds, after a 128-byte header: a string area whose
 * every string is a struct intern_str as include/intern.h lays it out,
 * IMMORTAL_STATIC with INTERN_STR_F_STATIC | INTERN_STR_F_MAPPED, its header's ob_hash holding
 * its ID; a read-only open-addressing index (XXH3-64 under the file's
 * seed, linear probing bounded by the header's max_probe); and the ID
 * table (ID -> offset).  Offsets, never pointers: the file is position
 * independent, and mapped read-only and shared (MAP_SHARED, PROT_READ) it
 * is used in place, so processes that map it share its pages and
 * starting up costs what mmap costs.
 *
 * Opening checks the header in constant time (INTERN_SNAPSHOT_TRUSTED), or
 * by default everything a hostile file could lie about, in one pass over
 * each section: nothing read later (a lookup, intern_id_str) can then leave
 * the mapping or loop.  The lookup bounds itself all the same (snapshot.h),
 * so a trusted file that lies gives wrong answers, never a stray read.
 *
 * Sections: the builder, writing, opening and validation, the interpreter.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "alloc.h"
#include "intern-private.h"
#include "snapshot.h"

/* ------------------------------------------------------------------------
 * The builder
 * ---------------------------------------------------------------------- */

struct entry {
	size_t at;    /* the bytes, in b->bytes */
	uint32_t len;
};

struct intern_snapshot_builder {
	char *bytes; /* every string's bytes, one after another */
	size_t bytes_len, bytes_cap;
	struct entry *v; /* by ID */
	uint32_t n, cap;
	uint32_t *set;   /* dedup: ID + 1 by XXH3 (seed 0), 0 empty */
	uint32_t set_mask;
	uint64_t area; /* the string area's size so far */
};

/* Bytes a string of `len` takes in the string area: header, bytes, NUL,
 * padding to the next string. */
static uint64_t record_size(uint64_t len)
{
	return (sizeof(struct intern_str) + len + 1 + INTERN__SNAP_STR_ALIGN - 1) &
	       ~(uint64_t)(INTERN__SNAP_STR_ALIGN - 1);
}

/* The largest string area: an index slot names a string by its offset in
 * 8-byte units in 32 bits, and the area starts after the header page. */
#define MAX_AREA ((uint64_t)UINT32_MAX * INTERN__SNAP_STR_ALIGN - INTERN__SNAP_ALIGN)

INTERN_API struct intern_snapshot_builder *intern_snapshot_builder_new(void)
{
	struct intern_snapshot_builder *b = intern__calloc(1, sizeof(*b));

	if (!b)
		errno = ENOMEM;
	return b;
}

INTERN_API void intern_snapshot_builder_free(struct intern_snapshot_builder *b)
{
	if (!b)
		return;
	intern__free(b->bytes);
	intern__free(b->v);
	intern__free(b->set);
	intern__free(b);
}

/* Grow *p (of *cap elements of `size` bytes) to hold `need`: 0 or -ENOMEM.
 * The old contents are kept; on failure nothing changes. */
static int grow(void **p, size_t size, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = intern__malloc(c * size);
	if (!q)
		return -ENOMEM;
	if (*p)
		memcpy(q, *p, *cap * size);
	intern__free(*p);
	*p = q;
	*cap = c;
	return 0;
}

/* The set slot of these bytes: where they are, or the empty slot to put
 * them in. */
static uint32_t *set_slot(const struct intern_snapshot_builder *b, const char *data, size_t len)
{
	uint32_t i = (uint32_t)intern__snap_hash(0, data, len) & b->set_mask;

	for (;; i = (i + 1) & b->set_mask) {
		uint32_t e = b->set[i];

		if (!e || (b->v[e - 1].len == len && !memcmp(b->bytes + b->v[e - 1].at, data, len)))
			return &b->set[i];
	}
}

/* Room in the dedup set for one more string (at most half full). */
static int set_reserve(struct intern_snapshot_builder *b)
{
	uint32_t *old = b->set, slots = b->set ? 2 * (b->set_mask + 1) : 64;

	if (old && 2 * ((uint64_t)b->n + 1) <= (uint64_t)b->set_mask + 1)
		return 0;
	b->set = intern__calloc(slots, sizeof(*b->set));
	if (!b->set) {
		b->set = old;
		return -ENOMEM;
	}
	b->set_mask = slots - 1;
	for (uint32_t id = 0; id < b->n; id++)
		*set_slot(b, b->bytes + b->v[id].at, b->v[id].len) = id + 1;
	intern__free(old);
	return 0;
}

INTERN_API int intern_snapshot_builder_add(struct intern_snapshot_builder *b, const char *data,
					   size_t len)
{
	size_t cap;
	uint32_t *slot;
	int rc;

	if (!b)
		return -EINVAL;
	rc = intern__check_bytes(data, len);
	if (rc < 0 || intern__builtin(data, len))
		return rc; /* a built-in singleton is static already */
	if (b->n && *set_slot(b, data, len))
		return 0; /* a duplicate keeps its ID */
	if (b->n >= INTERN_ID_NONE - 1 || b->area + record_size(len) > MAX_AREA)
		return -EOVERFLOW;
	/* Reserve everything first: a failure leaves the builder as it was. */
	cap = b->cap;
	rc = grow((void **)&b->v, sizeof(*b->v), &cap, (size_t)b->n + 1);
	b->cap = (uint32_t)cap;
	if (rc == 0)
		rc = grow((void **)&b->bytes, 1, &b->bytes_cap, b->bytes_len + len);
	if (rc == 0)
		rc = set_reserve(b);
	if (rc < 0)
		return rc;
	slot = set_slot(b, data, len);
	if (len)
		memcpy(b->bytes + b->bytes_len, data, len);
	b->v[b->n] = (struct entry){ b->bytes_len, (uint32_t)len };
	b->bytes_len += len;
	b->area += record_size(len);
	*slot = ++b->n;
	return 0;
}

/* intern_snapshot_builder_add_interp's callback: add a string's bytes. */
static int add_str(void *ctx, const struct intern_str *s)
{
	return intern_snapshot_builder_add(ctx, intern__data(s), s->ob_len);
}

INTERN_API int intern_snapshot_builder_add_interp(struct intern_snapshot_builder *b,
						  struct intern_interp *interp)
{
	const struct intern_snapshot *snap;
	int rc = 0;

	if (!b || !intern__interp_ok(interp))
		return -EINVAL;
	/* The snapshot's strings, then the other IDs, each in ID order: an
	 * empty builder gives every string the ID it has now. */
	snap = interp->snap;
	for (uint32_t id = 0; snap && id < snap->count && rc == 0; id++) {
		const struct intern_str *s = intern_id_str(interp, id);

		rc = s ? add_str(b, s) : -EBADMSG; /* a trusted file that lies */
	}
	if (rc == 0)
		rc = intern__ids_each(interp, add_str, b);
	if (rc == 0)
		rc = intern__table_each_immortal(interp, add_str, b);
	return rc;
}

/* ------------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------- */

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* The index of `b`'s strings, whose offsets are `at`, under `seed`, in
 * `slots` slots: a new array, its largest displacement in *max_probe.
 * NULL: out of memory. */
static uint64_t *build_index(const struct intern_snapshot_builder *b, const uint64_t *at,
			     uint64_t seed, uint64_t slots, uint32_t *max_probe)
{
	uint64_t *index = intern__calloc(slots, sizeof(*index));
	uint64_t worst = 0;

	if (!index)
		return NULL;
	for (uint32_t id = 0; id < b->n; id++) {
		uint64_t h = intern__snap_hash(seed, b->bytes + b->v[id].at, b->v[id].len);
		uint64_t i = h & (slots - 1), d = 0;

		for (; index[i]; i = (i + 1) & (slots - 1))
			d++;
		index[i] = intern__snap_slot(h, at[id]);
		if (d > worst)
			worst = d;
	}
	*max_probe = worst > UINT32_MAX ? UINT32_MAX : (uint32_t)worst;
	return index;
}

/*
 * An index whose probes are short: at most half full, under the first of
 * a few seeds that gives a largest displacement of 32 or less, else the
 * best of them if within INTERN__SNAP_MAX_PROBE, else twice the slots.
 * (Linear probing at half load displaces by O(log n): 10^6 strings stay
 * near 30.)  The seeds are fixed, so equal input gives an equal file.
 */
static uint64_t *choose_index(const struct intern_snapshot_builder *b, const uint64_t *at,
			      struct intern__snap_header *h)
{
	uint64_t slots = 2;

	while (slots < 2 * (uint64_t)b->n)
		slots *= 2;
	for (;; slots *= 2) {
		uint64_t *best = NULL;
		uint32_t best_probe = UINT32_MAX;

		for (uint64_t k = 1; k <= 4 && best_probe > 32; k++) {
			uint64_t seed = k * 0x9e3779b97f4a7c15ull;
			uint32_t probe;
			uint64_t *index = build_index(b, at, seed, slots, &probe);

			if (!index) {
				intern__free(best);
				return NULL;
			}
			if (probe < best_probe) {
				intern__free(best);
				best = index;
				best_probe = probe;
				h->seed = seed;
			} else {
				intern__free(index);
			}
		}
		if (best_probe <= INTERN__SNAP_MAX_PROBE || slots >= ((uint64_t)1 << 32)) {
			h->index_slots = slots;
			h->max_probe = best_probe;
			return best;
		}
		intern__free(best);
	}
}

/* A buffered writer that checksums what it writes past the header. */
struct out {
	int fd;
	uint64_t pos; /* bytes written or buffered */
	size_t fill;
	XXH3_state_t xxh;
	char buf[1 << 16];
};

static int out_flush(struct out *o)
{
	for (size_t done = 0; done < o->fill;) {
		ssize_t w = write(o->fd, o->buf + done, o->fill - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += (size_t)w;
	}
	o->fill = 0;
	return 0;
}

static int out_put(struct out *o, const void *data, size_t len)
{
	const char *p = data;

	/* The header (written last) is not checksummed with the body. */
	if (o->pos + len > sizeof(struct intern__snap_header)) {
		size_t skip = o->pos >= sizeof(struct intern__snap_header)
				      ? 0
				      : sizeof(struct intern__snap_header) - (size_t)o->pos;

		XXH3_64bits_update(&o->xxh, p + skip, len - skip);
	}
	o->pos += len;
	while (len) {
		size_t n = len < sizeof(o->buf) - o->fill ? len : sizeof(o->buf) - o->fill;
		int rc;

		memcpy(o->buf + o->fill, p, n);
		o->fill += n;
		p += n;
		len -= n;
		if (o->fill == sizeof(o->buf) && (rc = out_flush(o)) < 0)
			return rc;
	}
	return 0;
}

/* Zeros up to file offset `to`. */
static int out_pad(struct out *o, uint64_t to)
{
	static const char zero[INTERN__SNAP_ALIGN];
	int rc = 0;

	while (rc == 0 && o->pos < to)
		rc = out_put(o, zero, to - o->pos < sizeof(zero) ? (size_t)(to - o->pos)
								  : sizeof(zero));
	return rc;
}

/* The string area: each string a struct intern_str, its ID in ob_hash. */
static int out_strings(struct out *o, const struct intern_snapshot_builder *b)
{
	int rc = 0;

	for (uint32_t id = 0; id < b->n && rc == 0; id++) {
		const struct intern_str head = { 1u, b->v[id].len, id, INTERN_IMMORTAL_STATIC,
						 INTERN_STR_F_STATIC | INTERN_STR_F_MAPPED, 0u };
		uint64_t end = o->pos + record_size(b->v[id].len);

		rc = out_put(o, &head, sizeof(head));
		if (rc == 0)
			rc = out_put(o, b->bytes + b->v[id].at, b->v[id].len);
		if (rc == 0)
			rc = out_pad(o, end); /* the NUL and the padding */
	}
	return rc;
}

/* The whole file on o->fd; the header is written last, at offset 0. */
static int write_file(struct out *o, const struct intern_snapshot_builder *b)
{
	struct intern__snap_header h;
	uint64_t *at = intern__calloc((size_t)b->n + 1, sizeof(*at)); /* by ID */
	uint64_t *index = NULL;
	ssize_t w;
	int rc = -ENOMEM;

	if (!at)
		return rc;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, INTERN__SNAP_MAGIC, sizeof(h.magic));
	h.byte_order = INTERN__SNAP_BYTE_ORDER;
	h.format = INTERN__SNAP_FORMAT;
	h.str_abi = INTERN__SNAP_STR_ABI;
	h.str_header = sizeof(struct intern_str);
	h.word_size = sizeof(void *);
	h.header_size = sizeof(h);
	h.align = INTERN__SNAP_ALIGN;
	h.hash = INTERN__SNAP_HASH_XXH3;
	h.count = b->n;
	h.strings_offset = INTERN__SNAP_ALIGN;
	h.strings_size = b->area;
	for (uint32_t id = 0; id < b->n; id++)
		at[id] = id ? at[id - 1] + record_size(b->v[id - 1].len) : h.strings_offset;
	index = choose_index(b, at, &h);
	if (!index)
		goto out;
	h.index_offset = align_up(h.strings_offset + h.strings_size, INTERN__SNAP_ALIGN);
	h.ids_offset = align_up(h.index_offset + h.index_slots * 8, INTERN__SNAP_ALIGN);
	h.file_size = h.ids_offset + (uint64_t)b->n * 8;
	XXH3_64bits_reset(&o->xxh);
	rc = out_pad(o, h.strings_offset);
	if (rc == 0)
		rc = out_strings(o, b);
	if (rc == 0)
		rc = out_pad(o, h.index_offset);
	if (rc == 0)
		rc = out_put(o, index, h.index_slots * 8);
	if (rc == 0)
		rc = out_pad(o, h.ids_offset);
	if (rc == 0)
		rc = out_put(o, at, (size_t)b->n * 8);
	if (rc == 0)
		rc = out_flush(o);
	if (rc < 0)
		goto out;
	h.body_checksum = XXH3_64bits_digest(&o->xxh);
	h.header_checksum = XXH3_64bits(&h, offsetof(struct intern__snap_header, header_checksum));
	w = pwrite(o->fd, &h, sizeof(h), 0);
	if (w != (ssize_t)sizeof(h))
		rc = w < 0 ? -errno : -EIO; /* a short write of 128 bytes: the disk is full */
out:
	intern__free(index);
	intern__free(at);
	return rc;
}

/* fsync() the directory holding `path`, so that the rename is durable. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL;
	int fd, rc = 0;

	if (slash) {
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		if (!dir)
			return -ENOMEM;
	}
	fd = open(dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL) /* some file systems refuse it */
		rc = -errno;
	close(fd);
	return rc;
}

INTERN_API int intern_snapshot_builder_write(struct intern_snapshot_builder *b, const char *path)
{
	static unsigned long serial;
	size_t tlen;
	char *tmp;
	struct out *o;
	int rc;

	if (!b || !path || !*path)
		return -EINVAL;
	tlen = strlen(path) + 64;
	tmp = intern__malloc(tlen);
	/* Aligned: XXH3_state_t asks for 64 bytes. */
	o = intern__calloc_aligned(64, 1, sizeof(*o));
	if (!tmp || !o) {
		intern__free(tmp);
		intern__free(o);
		return -ENOMEM;
	}
	/* In the same directory, so that rename() is atomic. */
	snprintf(tmp, tlen, "%s.tmp.%ld.%lu", path, (long)getpid(),
		 __atomic_fetch_add(&serial, 1, __ATOMIC_RELAXED));
	o->fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	rc = o->fd < 0 ? -errno : write_file(o, b);
	if (o->fd >= 0) {
		if (rc == 0 && fsync(o->fd) < 0)
			rc = -errno;
		if (close(o->fd) < 0 && rc == 0)
			rc = -errno;
		if (rc == 0 && rename(tmp, path) < 0)
			rc = -errno;
		if (rc < 0)
			unlink(tmp);
	}
	if (rc == 0)
		rc = sync_dir(path);
	intern__free(o);
	intern__free(tmp);
	return rc;
}

/* ------------------------------------------------------------------------
 * Opening and validation
 * ---------------------------------------------------------------------- */

/* Say why in why[n] (if given) and return -err. */
__attribute__((format(printf, 4, 5))) static int fail(char *why, size_t n, int err,
						       const char *fmt, ...)
{
	va_list ap;

	if (why && n) {
		va_start(ap, fmt);
		vsnprintf(why, n, fmt, ap);
		va_end(ap);
	}
	return -err;
}

/* Does [off, off + len) lie inside [0, size)?  Without overflow. */
static bool inside(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* The version fields: ENOEXEC for a file that is no snapshot, ENOTSUP for
 * one this library cannot read. */
static int check_kind(const struct intern__snap_header *h, char *why, size_t n)
{
	if (memcmp(h->magic, INTERN__SNAP_MAGIC, sizeof(h->magic)) != 0)
		return fail(why, n, ENOEXEC, "bad magic: not a libintern snapshot");
	if (h->byte_order == __builtin_bswap32(INTERN__SNAP_BYTE_ORDER))
		return fail(why, n, ENOTSUP, "written on a machine of the other byte order");
	if (h->byte_order != INTERN__SNAP_BYTE_ORDER)
		return fail(why, n, EBADMSG, "byte-order mark %#x is corrupted", h->byte_order);
	if (h->format != INTERN__SNAP_FORMAT)
		return fail(why, n, ENOTSUP, "format version %u; this library reads %u",
			    h->format, INTERN__SNAP_FORMAT);
	if (h->word_size != sizeof(void *))
		return fail(why, n, ENOTSUP, "written with %u-byte words; this process has %zu",
			    h->word_size, sizeof(void *));
	if (h->str_abi != INTERN__SNAP_STR_ABI || h->str_header != sizeof(struct intern_str))
		return fail(why, n, ENOTSUP,
			    "string ABI %u with %u-byte headers; this library has %u and %zu",
			    h->str_abi, h->str_header, INTERN__SNAP_STR_ABI,
			    sizeof(struct intern_str));
	if (h->hash != INTERN__SNAP_HASH_XXH3)
		return fail(why, n, ENOTSUP, "index hash %u unknown", h->hash);
	return 0;
}

/* Everything the header says that can be checked without reading the
 * rest: constant time, what INTERN_SNAPSHOT_TRUSTED checks. */
static int check_header(const struct intern__snap_header *h, uint64_t size, char *why, size_t n)
{
	const uint64_t slots = h->index_slots, a = INTERN__SNAP_ALIGN;
	int rc = check_kind(h, why, n);

	if (rc < 0)
		return rc;
	if (h->header_checksum !=
	    XXH3_64bits(h, offsetof(struct intern__snap_header, header_checksum)))
		return fail(why, n, EBADMSG, "header checksum mismatch");
	if (h->header_size != sizeof(*h) || h->align != a || h->reserved)
		return fail(why, n, EBADMSG, "header size, alignment or reserved fields corrupted");
	if (h->file_size != size)
		return fail(why, n, EBADMSG,
			    "the file is %llu bytes, its header says %llu: truncated or extended",
			    (unsigned long long)size, (unsigned long long)h->file_size);
	if (slots == 0 || (slots & (slots - 1)) || slots > ((uint64_t)1 << 32) ||
	    slots < h->count || h->count >= INTERN_ID_NONE)
		return fail(why, n, EBADMSG, "%llu index slots for %u strings",
			    (unsigned long long)slots, h->count);
	if (h->max_probe >= slots || h->max_probe > INTERN__SNAP_MAX_PROBE)
		return fail(why, n, EBADMSG, "max probe %u out of range", h->max_probe);
	if (h->strings_offset < a || h->strings_offset % a || h->index_offset % a ||
	    h->ids_offset % a || h->strings_size % INTERN__SNAP_STR_ALIGN)
		return fail(why, n, EBADMSG, "a section is not aligned");
	if (!inside(h->strings_offset, h->strings_size, h->index_offset) ||
	    h->strings_offset + h->strings_size > MAX_AREA + a ||
	    !inside(h->index_offset, slots * 8, h->ids_offset) ||
	    !inside(h->ids_offset, (uint64_t)h->count * 8, size) ||
	    h->ids_offset + (uint64_t)h->count * 8 != size)
		return fail(why, n, EBADMSG, "sections overlap or run past the end of the file");
	return 0;
}

/*
 * Full validation reads the file once, in order.  The string area is read
 * with pread() into a buffer of WALK_BUF bytes, reused: each buffer is
 * fed to the checksum, then its strings are checked from cache.  Reading
 * it through the mapping instead would touch every page of it, and a
 * page's first touch in a process costs more than reading its bytes
 * (about 2 us a page on the virtual machines measured, 30 ms for 58 MiB);
 * the strings' pages are then faulted in by the lookups that use them, as
 * in a trusted open.  The index is then checksummed and counted a chunk at
 * a time, through the mapping, and the ID table checksummed.  The only
 * random reads are each string's ID table entry and its index probe; the
 * probes are issued PENDING strings ahead of their check (prefetched), so
 * that their cache misses overlap instead of following one another.  The
 * bytes checked are the file's, as mapped: the file must not be written
 * in place while it is in use (docs/snapshot.md, "Writing").
 */
#define CHUNK ((uint64_t)64 << 10)
#define WALK_BUF ((uint64_t)256 << 10)
#define PENDING 16u

/* The body checksum so far, bytes [header_size, hashed) of the file, and
 * the buffer holding bytes [buf_at, buf_at + buf_len) of the string area. */
struct walk {
	XXH3_state_t sum;
	uint64_t hashed;
	int fd;
	char *buf;
	uint64_t buf_at, buf_len;
};

/* A string whose index probe is pending: its record and its hash. */
struct pending {
	uint64_t at, h;
};

/* Feed the checksum with the file up to offset `to`. */
static void sum_to(const struct intern_snapshot *snap, struct walk *w, uint64_t to)
{
	if (to > w->hashed) {
		XXH3_64bits_update(&w->sum, snap->base + w->hashed, to - w->hashed);
		w->hashed = to;
	}
}

/* Read len bytes at file offset `at` into buf: 0, or -1 (errno set). */
static int read_at(int fd, char *buf, uint64_t len, uint64_t at)
{
	while (len) {
		ssize_t r = pread(fd, buf, len, (off_t)at);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			errno = r < 0 ? errno : EIO; /* truncated under us */
			return -1;
		}
		buf += r, at += (uint64_t)r, len -= (uint64_t)r;
	}
	return 0;
}

/*
 * Bytes [at, at + len) of the string area (the caller checked that they
 * are inside it), from the buffer, refilled from `at` on if they are not
 * all in it; a string longer than the buffer is read in place.  NULL if
 * the file cannot be read.
 */
static const char *area_bytes(const struct intern_snapshot *snap, struct walk *w, uint64_t at,
			      uint64_t len)
{
	uint64_t n = snap->str_end - at < WALK_BUF ? snap->str_end - at : WALK_BUF;

	if (len > WALK_BUF)
		return snap->base + at;
	if (at < w->buf_at || at + len > w->buf_at + w->buf_len) {
		sum_to(snap, w, at); /* what lies before: the header page, a long string */
		if (read_at(w->fd, w->buf, n, at) < 0)
			return NULL;
		w->buf_at = at;
		w->buf_len = n;
		if (w->hashed < at + n) {
			XXH3_64bits_update(&w->sum, w->buf + (w->hashed - at), at + n - w->hashed);
			w->hashed = at + n;
		}
	}
	return w->buf + (at - w->buf_at);
}

/* The string at file offset `at`. */
static const struct intern_str *str_at(const struct intern_snapshot *snap, uint64_t at)
{
	return (const struct intern_str *)(snap->base + at);
}

/* The index lists the string at p->at, whose hash is p->h: a probe of its
 * bytes reaches its slot within max_probe (so its tag is right and no
 * empty slot lies between its home and it), passing no other string with
 * equal bytes. */
static int check_indexed(const struct intern_snapshot *snap, const struct pending *p,
			 char *why, size_t n)
{
	const struct intern_str *s = str_at(snap, p->at);
	const uint64_t want = intern__snap_slot(p->h, p->at);
	uint64_t i = p->h & snap->mask;

	for (uint32_t d = 0; d <= snap->max_probe; d++, i = (i + 1) & snap->mask) {
		const uint64_t v = snap->index[i];
		const struct intern_str *t;

		if (v == want)
			return 0;
		if (v == 0)
			break;
		if ((uint32_t)(v >> 32) != (uint32_t)(p->h >> 32))
			continue;
		t = intern__snap_record(snap, (uint32_t)v * (uint64_t)INTERN__SNAP_STR_ALIGN);
		if (t && intern__same_bytes(t, intern__data(s), s->ob_len))
			return fail(why, n, EBADMSG, "strings %u and %u have equal bytes",
				    t->ob_hash, s->ob_hash);
	}
	return fail(why, n, EBADMSG,
		    "string %u: the index does not list it within %u slots of its home",
		    s->ob_hash, snap->max_probe);
}

/* One string of the area at `at`: its record size in *rec and its index
 * hash in *h, or an error. */
static int check_string(const struct intern_snapshot *snap, struct walk *w, uint64_t at,
			uint64_t *rec, uint64_t *h, char *why, size_t n)
{
	const struct intern_str *s;
	const char *data;
	uint64_t room = snap->str_end - at;

	if (room < sizeof(*s))
		return fail(why, n, EBADMSG, "string at %llu: its header runs past the area",
			    (unsigned long long)at);
	s = (const struct intern_str *)area_bytes(snap, w, at, sizeof(*s));
	if (!s)
		return fail(why, n, EIO, "cannot read the string area: %s", strerror(errno));
	if (s->ob_len > INTERN_STR_MAX_LEN || record_size(s->ob_len) > room)
		return fail(why, n, EBADMSG, "string at %llu: its length runs past the area",
			    (unsigned long long)at);
	*rec = record_size(s->ob_len);
	s = (const struct intern_str *)area_bytes(snap, w, at, *rec);
	if (!s)
		return fail(why, n, EIO, "cannot read the string area: %s", strerror(errno));
	data = intern__data(s);
	if (s->ob_refcnt != 1 || s->ob_state != INTERN_IMMORTAL_STATIC ||
	    s->ob_flags != (INTERN_STR_F_STATIC | INTERN_STR_F_MAPPED) || s->ob_owner != 0)
		return fail(why, n, EBADMSG, "string at %llu: header not a static string's",
			    (unsigned long long)at);
	for (uint64_t i = s->ob_len; i < *rec - sizeof(*s); i++)
		if (data[i])
			return fail(why, n, EBADMSG,
				    "string at %llu: not NUL-terminated or padded with zeros",
				    (unsigned long long)at);
	if (s->ob_hash >= snap->count || snap->ids[s->ob_hash] != at)
		return fail(why, n, EBADMSG,
			    "string at %llu claims ID %u, which the ID table does not give it",
			    (unsigned long long)at, s->ob_hash);
	if (intern__builtin(data, s->ob_len))
		return fail(why, n, EBADMSG, "string %u: the bytes of a built-in singleton",
			    s->ob_hash);
	*h = intern__snap_hash(snap->seed, data, s->ob_len);
	return 0;
}

/*
 * The string area, walked from its start: strings one after another, so
 * none overlaps another; each claims the ID whose table entry points at
 * it.  `count` strings that fill the area exactly, each with a distinct
 * ID (distinct offsets), means the ID table is a bijection onto the
 * strings' starts: no entry points into the middle of a string.  Each
 * string is looked for in the index as a lookup would (check_indexed),
 * PENDING strings after its slot was prefetched.
 */
static int check_strings(const struct intern_snapshot *snap, struct walk *w, char *why, size_t n)
{
	struct pending q[PENDING];
	uint64_t at = snap->str_begin, rec = 0;
	uint32_t seen = 0;
	int rc = 0;

	for (; at < snap->str_end; at += rec, seen++) {
		struct pending *p = &q[seen % PENDING];

		if (seen >= snap->count)
			return fail(why, n, EBADMSG, "more strings than %u", snap->count);
		if (seen >= PENDING && (rc = check_indexed(snap, p, why, n)) < 0)
			return rc;
		rc = check_string(snap, w, at, &rec, &p->h, why, n);
		if (rc < 0)
			return rc;
		p->at = at;
		__builtin_prefetch(&snap->index[p->h & snap->mask]);
	}
	if (seen != snap->count)
		return fail(why, n, EBADMSG, "%u strings, the header says %u", seen, snap->count);
	for (uint32_t k = seen > PENDING ? seen - PENDING : 0; rc == 0 && k < seen; k++)
		rc = check_indexed(snap, &q[k % PENDING], why, n);
	return rc;
}

/* Every string was found in a slot of its own (distinct offsets make
 * distinct slot values): if no other slot is used, the index lists
 * exactly the strings, each once.  The index is checksummed a chunk at a
 * time as it is counted. */
static int check_index_count(const struct intern_snapshot *snap, struct walk *w, char *why,
			     size_t n)
{
	const uint64_t step = CHUNK / sizeof(*snap->index);
	const uint64_t index_at = (uint64_t)((const char *)snap->index - snap->base);
	uint64_t used = 0;

	for (uint64_t i = 0; i <= snap->mask; i += step) {
		uint64_t end = snap->mask + 1 - i > step ? i + step : snap->mask + 1;

		sum_to(snap, w, index_at + end * sizeof(*snap->index));
		for (uint64_t j = i; j < end; j++)
			used += snap->index[j] != 0;
	}
	if (used != snap->count)
		return fail(why, n, EBADMSG, "the index lists %llu strings, the header says %u",
			    (unsigned long long)used, snap->count);
	return 0;
}

/* Full validation of a mapped file whose header passed: one pass, in
 * order.  The structure is checked on bytes not yet known to match the
 * checksum (every check is bounded, whatever the bytes), but a corrupted
 * file is reported as such: the checksum comes first in the verdict. */
static int check_body(const struct intern_snapshot *snap, const struct intern__snap_header *h,
		      int fd, char *why, size_t n)
{
	struct walk w;
	int rc;

	XXH3_64bits_reset(&w.sum);
	w.hashed = sizeof(*h);
	w.fd = fd;
	w.buf = intern__malloc(WALK_BUF);
	w.buf_at = w.buf_len = 0;
	if (!w.buf)
		return fail(why, n, ENOMEM, "out of memory");
	rc = check_strings(snap, &w, why, n);
	intern__free(w.buf);
	if (rc == 0)
		rc = check_index_count(snap, &w, why, n);
	sum_to(snap, &w, snap->size);
	if (XXH3_64bits_digest(&w.sum) != h->body_checksum)
		return fail(why, n, EBADMSG, "checksum mismatch: the file is corrupted");
	return rc;
}

/* The snapshot view of a mapped file whose header is `h`. */
static void view(struct intern_snapshot *snap, const void *base, size_t size,
		 const struct intern__snap_header *h)
{
	snap->base = base;
	snap->size = size;
	snap->index = (const uint64_t *)(snap->base + h->index_offset);
	snap->ids = (const uint64_t *)(snap->base + h->ids_offset);
	snap->seed = h->seed;
	snap->mask = h->index_slots - 1;
	snap->str_begin = h->strings_offset;
	snap->str_end = h->strings_offset + h->strings_size;
	snap->max_probe = h->max_probe;
	snap->count = h->count;
	snap->refs = 1;
}

/* Check the open file `fd` and map it into *snap: 0 or -errno. */
static int open_fd(int fd, unsigned flags, struct intern_snapshot *snap, char *why, size_t n)
{
	struct intern__snap_header h;
	struct stat st;
	void *base;
	int rc;

	if (fstat(fd, &st) < 0)
		return fail(why, n, errno, "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(why, n, EINVAL, "not a regular file");
	if (st.st_size == 0)
		return fail(why, n, ENOEXEC, "empty file");
	if ((uint64_t)st.st_size < sizeof(h))
		return fail(why, n, ENOEXEC, "%lld bytes: shorter than a snapshot header",
			    (long long)st.st_size);
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return fail(why, n, EIO, "cannot read the header");
	rc = check_header(&h, (uint64_t)st.st_size, why, n);
	if (rc < 0)
		return rc;
	base = mmap(NULL, (size_t)st.st_size, PROT_READ,
		    MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return fail(why, n, errno, "mmap: %s", strerror(errno));
	view(snap, base, (size_t)st.st_size, &h);
	rc = flags & INTERN_SNAPSHOT_TRUSTED ? 0 : check_body(snap, &h, fd, why, n);
	if (rc < 0)
		munmap(base, (size_t)st.st_size);
	return rc;
}

INTERN_API struct intern_snapshot *intern_snapshot_open(const char *path, unsigned flags,
							char *why, size_t why_len)
{
	struct intern_snapshot *snap;
	int fd, rc;

	if (!path || (flags & ~INTERN_SNAPSHOT_TRUSTED)) {
		errno = -fail(why, why_len, EINVAL, "bad argument");
		return NULL;
	}
	snap = intern__calloc(1, sizeof(*snap));
	if (!snap) {
		errno = -fail(why, why_len, ENOMEM, "out of memory");
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		rc = fail(why, why_len, errno, "open: %s", strerror(errno));
	else
		rc = open_fd(fd, flags, snap, why, why_len);
	if (fd >= 0)
		close(fd); /* the mapping stays */
	if (rc < 0) {
		intern__free(snap);
		errno = -rc;
		return NULL;
	}
	return snap;
}

void intern__snap_ref(struct intern_snapshot *snap)
{
	__atomic_fetch_add(&snap->refs, 1, __ATOMIC_RELAXED);
}

INTERN_API void intern_snapshot_close(struct intern_snapshot *snap)
{
	/* Acq_rel: every user's reads of the mapping happen before munmap. */
	if (snap && __atomic_sub_fetch(&snap->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		munmap((void *)snap->base, snap->size);
		intern__free(snap);
	}
}

INTERN_API size_t intern_snapshot_count(const struct intern_snapshot *snap)
{
	return snap ? snap->count : 0;
}

INTERN_API struct intern_str *intern_snapshot_str(const struct intern_snapshot *snap, uint32_t id)
{
	struct intern_str *s;

	if (!snap) {
		errno = EINVAL;
		return NULL;
	}
	/* Checked at open unless the file was trusted; a lie still gives
	 * NULL or a whole record inside the string area. */
	s = id < snap->count ? intern__snap_record(snap, snap->ids[id]) : NULL;
	if (!s)
		errno = ENOENT;
	return s;
}

INTERN_API uint32_t intern_snapshot_find(const struct intern_snapshot *snap, const char *data,
					 size_t len)
{
	const struct intern_str *s;

	if (!snap || intern__check_bytes(data, len) < 0) {
		errno = EINVAL;
		return INTERN_ID_NONE;
	}
	if (!data)
		data = ""; /* len is 0 */
	s = intern__snap_find(snap, data, len);
	if (!s || s->ob_hash >= snap->count) {
		errno = ENOENT;
		return INTERN_ID_NONE;
	}
	return s->ob_hash;
}

/* Displacements of the index entries into info->probe_hist. */
static void probe_histogram(const struct intern_snapshot *snap, struct intern_snapshot_info *info)
{
	for (uint64_t i = 0; i <= snap->mask; i++) {
		const uint64_t v = snap->index[i];
		const struct intern_str *s;
		uint64_t d;

		if (!v || !(s = intern__snap_record(snap, (uint32_t)v * (uint64_t)INTERN__SNAP_STR_ALIGN)))
			continue;
		d = (i - intern__snap_hash(snap->seed, intern__data(s), s->ob_len)) & snap->mask;
		info->probe_hist[d < 15 ? d : 15]++;
	}
}

INTERN_API int intern_snapshot_info(const struct intern_snapshot *snap,
				    struct intern_snapshot_info *info)
{
	const struct intern__snap_header *h;

	if (!snap || !info)
		return -EINVAL;
	h = (const struct intern__snap_header *)snap->base;
	memset(info, 0, sizeof(*info));
	info->format = h->format;
	info->str_abi = h->str_abi;
	info->big_endian = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
	info->word_size = h->word_size;
	info->count = snap->count;
	info->file_size = h->file_size;
	info->string_area = h->strings_size;
	info->index_slots = h->index_slots;
	info->hash = "XXH3-64";
	info->seed = h->seed;
	info->max_probe = h->max_probe;
	info->header_checksum = h->header_checksum;
	info->body_checksum = h->body_checksum;
	for (uint32_t id = 0; id < snap->count; id++) {
		const struct intern_str *s = intern__snap_record(snap, snap->ids[id]);

		info->string_bytes += s ? s->ob_len : 0;
	}
	probe_histogram(snap, info);
	return 0;
}

/* ------------------------------------------------------------------------
 * The interpreter
 * ---------------------------------------------------------------------- */

INTERN_API struct intern_interp *intern_interp_new_snapshot(const struct intern_config *config,
							    struct intern_snapshot *snap)
{
	if (!snap) {
		errno = EINVAL;
		return NULL;
	}
	return intern__interp_create(config, snap);
}
