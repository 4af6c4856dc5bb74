/*
 * intern-snapshot: write a libintern snapshot (a mapped file of immortal
 * strings with stable dense IDs) from a word list or a token stream, and
 * show what a snapshot holds.
 *
 *   intern-snapshot write [-o FILE] [--words|--tokens] [INPUT...]
 *   intern-snapshot info [--trusted] FILE
 *   intern-snapshot get [--trusted] FILE ID
 *   intern-snapshot id [--trusted] FILE STRING
 *
 * The library writes, validates and maps the file, and a refused file is
 * reported with the library's own reason.  Only `info` reads the file
 * itself, after the library has accepted it: the header's fields and the
 * index's probe lengths, which the API does not expose, read as
 * docs/snapshot.md lays them out (the format's documented reader).  Exit status: 0 done, 1 failed (a refused or
 * unreadable file, a string not found), 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <intern.h>

#include "tokens.h"

#define DEFAULT_OUTPUT "intern.snapshot"

static const char *progname = "intern-snapshot";

static void usage(FILE *f)
{
	fprintf(f, "usage: intern-snapshot write [-o FILE] [--words|--tokens] [INPUT...]\n"
		   "       intern-snapshot info [--trusted] FILE\n"
		   "       intern-snapshot get [--trusted] FILE ID\n"
		   "       intern-snapshot id [--trusted] FILE STRING\n"
		   "  write      a snapshot of the strings of INPUT files (stdin if none, or -)\n"
		   "    -o FILE    where (written atomically); default " DEFAULT_OUTPUT "\n"
		   "    --words    one string per line (default; a trailing CR is dropped,\n"
		   "               empty lines are skipped)\n"
		   "    --tokens   the C/Python-like identifiers of the text\n"
		   "  info       the header, statistics and validation result of FILE\n"
		   "  get        the string with dense ID `ID`\n"
		   "  id         the dense ID of STRING\n"
		   "    --trusted  check the header only (constant time), not every byte\n");
}

static int usage_error(const char *what)
{
	if (what)
		fprintf(stderr, "%s: %s\n", progname, what);
	usage(stderr);
	return 2;
}

/* ---------------------------------------------------------------------------
 * Input
 * ------------------------------------------------------------------------- */

/* The whole of `f`, in a malloc'd buffer (*len bytes); NULL on error. */
static unsigned char *read_all(FILE *f, size_t *len)
{
	size_t cap = 65536, n = 0, got;
	unsigned char *buf = malloc(cap), *bigger;

	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			bigger = realloc(buf, cap *= 2);
			if (!bigger)
				free(buf);
			buf = bigger;
		}
	}
	if (buf && ferror(f)) {
		free(buf);
		buf = NULL;
	}
	*len = n;
	return buf;
}

static unsigned char *read_input(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	unsigned char *buf;

	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		return NULL;
	}
	buf = read_all(f, len);
	if (!buf)
		fprintf(stderr, "%s: %s: cannot read: %s\n", progname, path, strerror(errno));
	if (f != stdin)
		fclose(f);
	return buf;
}

/* ---------------------------------------------------------------------------
 * write
 * ------------------------------------------------------------------------- */

struct feed {
	struct intern_snapshot_builder *b;
	const char *path;
	size_t strings; /* words or tokens given to the builder */
	int err;        /* the first error, a negative errno */
};

/* Give one string to the builder; false (and f->err) on a real error. */
static bool feed_one(void *ctx, const char *s, size_t len)
{
	struct feed *f = ctx;
	int rc = intern_snapshot_builder_add(f->b, s, len);

	/* Duplicates and built-in singletons (the empty and one-byte strings,
	 * small integers' texts: static in every process already) are no-ops. */
	f->strings++;
	if (rc < 0) {
		fprintf(stderr, "%s: %s: string %zu (%zu bytes): %s\n", progname, f->path,
			f->strings, len, strerror(-rc));
		f->err = rc;
		return false;
	}
	return true;
}

/* One string per line; a trailing CR goes, empty lines are skipped. */
static void feed_words(struct feed *f, const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const unsigned char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - p) : n, len = end - i;

		if (len > 0 && p[end - 1] == '\r')
			len--;
		if (len > 0 && !feed_one(f, (const char *)p + i, len))
			return;
		i = end + 1;
	}
}

static int feed_file(struct feed *f, const char *path, bool tokens)
{
	size_t len;
	unsigned char *buf = read_input(path, &len);

	if (!buf)
		return -1;
	f->path = path;
	if (!tokens)
		feed_words(f, buf, len);
	else if (tokens_is_text(buf, len))
		tokens_scan(buf, len, feed_one, f);
	else
		fprintf(stderr, "%s: %s: binary (a NUL in its first 4 KiB): no tokens taken\n",
			progname, path);
	free(buf);
	return f->err < 0 ? -1 : 0;
}

static int cmd_write(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "words", no_argument, NULL, 'w' },
		{ "tokens", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = DEFAULT_OUTPUT;
	struct feed f = { 0 };
	bool tokens = false;
	char why[256];
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'w': tokens = false; break;
		case 't': tokens = true; break;
		case 'h': usage(stdout); return 0;
		default: return usage_error(NULL);
		}
	}
	f.b = intern_snapshot_builder_new();
	if (!f.b) {
		fprintf(stderr, "%s: %s\n", progname, strerror(errno));
		return 1;
	}
	if (optind == argc && feed_file(&f, "-", tokens) < 0)
		goto out;
	for (int i = optind; i < argc; i++)
		if (feed_file(&f, argv[i], tokens) < 0)
			goto out;
	rc = intern_snapshot_builder_write(f.b, out);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: cannot write: %s\n", progname, out, strerror(-rc));
		rc = 1;
		goto out;
	}
	/* Read it back as any process would: the library's full check. */
	struct intern_snapshot *snap = intern_snapshot_open(out, 0, why, sizeof(why));
	if (!snap) {
		fprintf(stderr, "%s: %s: written but refused: %s\n", progname, out, why);
		rc = 1;
		goto out;
	}
	printf("%s: %zu strings (from %zu %s; duplicates and built-in singletons are left out)\n",
	       out, intern_snapshot_count(snap), f.strings, tokens ? "tokens" : "words");
	intern_snapshot_close(snap);
	rc = 0;
out:
	intern_snapshot_builder_free(f.b);
	return rc;
}

/* ---------------------------------------------------------------------------
 * Reading a snapshot
 * ------------------------------------------------------------------------- */

/* The options of info, get and id: [--trusted] then `nargs` operands. */
static int read_options(int argc, char **argv, int nargs, unsigned *flags)
{
	static const struct option options[] = {
		{ "trusted", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*flags = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'T': *flags |= INTERN_SNAPSHOT_TRUSTED; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	return argc - optind == nargs ? 0 : -1;
}

/* Open `path` or say why the library refused it. */
static struct intern_snapshot *open_or_say(const char *path, unsigned flags)
{
	char why[256] = "";
	struct intern_snapshot *snap = intern_snapshot_open(path, flags, why, sizeof(why));

	if (!snap)
		fprintf(stderr, "%s: %s: refused: %s\n", progname, path,
			why[0] ? why : strerror(errno));
	return snap;
}

/* An interpreter on the snapshot, for its IDs; NULL after a message. */
static struct intern_interp *interp_on(struct intern_snapshot *snap)
{
	struct intern_interp *interp = intern_interp_new_snapshot(NULL, snap);

	if (!interp)
		fprintf(stderr, "%s: an interpreter on the snapshot: %s\n", progname,
			strerror(errno));
	return interp;
}

/* ---------------------------------------------------------------------------
 * info
 * ------------------------------------------------------------------------- */

/* Bytes and lengths of every string, read through its ID. */
static void print_strings(struct intern_interp *interp, size_t count)
{
	size_t bytes = 0, min = SIZE_MAX, max = 0;

	for (size_t id = 0; id < count; id++) {
		size_t len = intern_str_len(intern_id_str(interp, (uint32_t)id));

		bytes += len;
		min = len < min ? len : min;
		max = len > max ? len : max;
	}
	printf("strings:        %zu\n", count);
	printf("string bytes:   %zu (without the NULs)\n", bytes);
	if (count)
		printf("length:         mean %.2f, min %zu, max %zu\n", (double)bytes / count, min,
		       max);
}

/* ---------------------------------------------------------------------------
 * The header and the index, as docs/snapshot.md lays them out
 * ------------------------------------------------------------------------- */

/* Header fields, by their documented offsets (native byte order: the
 * library refuses any other before we get here). */
enum {
	H_BYTE_ORDER = 8,
	H_FORMAT = 12,
	H_STR_ABI = 16,
	H_STR_HEADER = 20,
	H_WORD_SIZE = 24,
	H_HASH = 36,
	H_SEED = 40,
	H_COUNT = 48,
	H_MAX_PROBE = 52,
	H_INDEX_SLOTS = 56,
	H_FILE_SIZE = 64,
	H_STRINGS_OFFSET = 72,
	H_STRINGS_SIZE = 80,
	H_INDEX_OFFSET = 88,
	H_IDS_OFFSET = 96,
	H_BODY_CHECKSUM = 104,
	H_HEADER_CHECKSUM = 120,
	H_SIZE = 128
};

#define PROBE_BUCKETS 17 /* displacements 0..15, then 16 and more */

static uint32_t u32_at(const unsigned char *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint64_t u64_at(const unsigned char *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* The displacement of every index entry from its home slot, counted into
 * hist[]; slots that name no record inside the file (possible only in a
 * file opened --trusted) are counted in *bad.  Returns the largest. */
static uint64_t probe_lengths(const unsigned char *file, uint64_t size, uint64_t hist[],
			      uint64_t *bad)
{
	uint64_t slots = u64_at(file, H_INDEX_SLOTS), at = u64_at(file, H_INDEX_OFFSET);
	uint64_t seed = u64_at(file, H_SEED), max = 0;

	if (slots == 0 || (slots & (slots - 1)) || at > size || slots > (size - at) / 8)
		return (*bad = slots), 0;
	for (uint64_t i = 0; i < slots; i++) {
		uint64_t slot = u64_at(file, at + 8 * i), rec = (slot & 0xffffffffu) * 8, len, d;

		if (!slot)
			continue;
		if (rec > size - 16 || (len = u32_at(file, rec + 4)) > size - rec - 16) {
			(*bad)++;
			continue;
		}
		d = (i - XXH3_64bits_withSeed(file + rec + 16, len, seed)) & (slots - 1);
		hist[d < PROBE_BUCKETS - 1 ? d : PROBE_BUCKETS - 1]++;
		max = d > max ? d : max;
	}
	return max;
}

static void print_probes(const uint64_t hist[], uint64_t count, uint64_t max, uint64_t bad)
{
	uint64_t sum = 0;

	printf("probe lengths:  displacement from the home slot: strings\n");
	for (int d = 0; d < PROBE_BUCKETS; d++) {
		sum += hist[d] * (uint64_t)d;
		if (hist[d])
			printf("  %s%-3d %12" PRIu64 "  %5.1f%%\n",
			       d == PROBE_BUCKETS - 1 ? ">=" : "  ", d, hist[d],
			       count ? 100.0 * hist[d] / count : 0.0);
	}
	printf("  mean %.3f, longest %" PRIu64 "%s\n", count ? (double)sum / count : 0.0, max,
	       max >= PROBE_BUCKETS - 1 ? " (the mean counts the last bucket as 16)" : "");
	if (bad)
		printf("  %" PRIu64 " slots name no record inside the file\n", bad);
}

static void print_header(const unsigned char *h, uint64_t size)
{
	const uint32_t one = 1;
	bool little = *(const unsigned char *)&one == 1;
	uint64_t slots = u64_at(h, H_INDEX_SLOTS), count = u32_at(h, H_COUNT);

	printf("size:           %" PRIu64 " bytes (%.1f MiB)\n", size, size / 1048576.0);
	printf("format:         %" PRIu32 ", string ABI %" PRIu32 " (%" PRIu32 "-byte headers)\n",
	       u32_at(h, H_FORMAT), u32_at(h, H_STR_ABI), u32_at(h, H_STR_HEADER));
	printf("byte order:     %s-endian (mark 0x%08" PRIx32 ")\n", little ? "little" : "big",
	       u32_at(h, H_BYTE_ORDER));
	printf("word size:      %" PRIu32 " bytes\n", u32_at(h, H_WORD_SIZE));
	printf("count:          %" PRIu64 " (IDs 0 to count - 1)\n", count);
	printf("strings area:   %" PRIu64 " bytes at offset %" PRIu64 "\n",
	       u64_at(h, H_STRINGS_SIZE), u64_at(h, H_STRINGS_OFFSET));
	printf("index:          %" PRIu64 " slots of 8 bytes at offset %" PRIu64 " (%.1f%% full)\n",
	       slots, u64_at(h, H_INDEX_OFFSET), slots ? 100.0 * count / slots : 0.0);
	printf("ID table:       %" PRIu64 " bytes at offset %" PRIu64 "\n", 8 * count,
	       u64_at(h, H_IDS_OFFSET));
	printf("hash:           %s, seed 0x%016" PRIx64 "\n",
	       u32_at(h, H_HASH) == 1 ? "XXH3-64" : "unknown", u64_at(h, H_SEED));
	printf("max probe:      %" PRIu32 " (recorded in the header)\n", u32_at(h, H_MAX_PROBE));
	printf("checksums:      header 0x%016" PRIx64 ", body 0x%016" PRIx64 " (XXH3-64)\n",
	       u64_at(h, H_HEADER_CHECKSUM), u64_at(h, H_BODY_CHECKSUM));
}

/* The header and the probe lengths of the file at `path`, mapped on our
 * own; 0, or -1 after a message. */
static int print_layout(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t hist[PROBE_BUCKETS] = { 0 }, bad = 0, max;
	struct stat sb;
	void *map;

	if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_size < H_SIZE) {
		fprintf(stderr, "%s: %s: cannot read the header: %s\n", progname, path,
			fd < 0 ? strerror(errno) : "too short");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		fprintf(stderr, "%s: %s: mmap: %s\n", progname, path, strerror(errno));
		return -1;
	}
	print_header(map, (uint64_t)sb.st_size);
	max = probe_lengths(map, (uint64_t)sb.st_size, hist, &bad);
	print_probes(hist, u32_at(map, H_COUNT), max, bad);
	munmap(map, (size_t)sb.st_size);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	struct intern_snapshot *snap;
	struct intern_interp *interp;
	unsigned flags;

	if (read_options(argc, argv, 1, &flags) < 0)
		return usage_error("info: FILE expected");
	snap = open_or_say(argv[optind], flags);
	if (!snap)
		return 1;
	interp = interp_on(snap);
	if (interp) {
		printf("file:           %s\n", argv[optind]);
		if (print_layout(argv[optind]) < 0) {
			intern_interp_free(interp);
			intern_snapshot_close(snap);
			return 1;
		}
		print_strings(interp, intern_snapshot_count(snap));
		printf("validation:     %s\n", flags & INTERN_SNAPSHOT_TRUSTED
						       ? "header only (--trusted): accepted"
						       : "full (checksum and structure): valid");
		intern_interp_free(interp);
	}
	intern_snapshot_close(snap);
	return interp ? 0 : 1;
}

/* ---------------------------------------------------------------------------
 * get, id
 * ------------------------------------------------------------------------- */

static int cmd_get(int argc, char **argv)
{
	struct intern_snapshot *snap;
	struct intern_interp *interp;
	struct intern_str *s = NULL;
	unsigned flags;
	unsigned long long id;
	char *end;

	if (read_options(argc, argv, 2, &flags) < 0)
		return usage_error("get: FILE ID expected");
	errno = 0;
	id = strtoull(argv[optind + 1], &end, 10);
	if (errno || *end || !*argv[optind + 1] || argv[optind + 1][0] == '-')
		return usage_error("get: ID is a decimal number");
	snap = open_or_say(argv[optind], flags);
	if (!snap)
		return 1;
	interp = interp_on(snap);
	if (interp && id < intern_snapshot_count(snap))
		s = intern_id_str(interp, (uint32_t)id);
	if (s) {
		fwrite(intern_str_data(s), 1, intern_str_len(s), stdout);
		putchar('\n');
	} else if (interp) {
		fprintf(stderr, "%s: %s: no string with ID %llu (%zu strings, IDs from 0)\n",
			progname, argv[optind], id, intern_snapshot_count(snap));
	}
	intern_interp_free(interp);
	intern_snapshot_close(snap);
	return s ? 0 : 1;
}

static int cmd_id(int argc, char **argv)
{
	struct intern_snapshot *snap;
	struct intern_interp *interp;
	struct intern_str *s = NULL;
	uint32_t id = INTERN_ID_NONE;
	bool found = false;
	unsigned flags;

	if (read_options(argc, argv, 2, &flags) < 0)
		return usage_error("id: FILE STRING expected");
	snap = open_or_say(argv[optind], flags);
	if (!snap)
		return 1;
	interp = interp_on(snap);
	if (interp) {
		const char *str = argv[optind + 1];

		s = intern_lookup(interp, str, strlen(str));
		/* Found in the interpreter means in the file, or a built-in. */
		if (s)
			id = intern_id_of(interp, s);
		found = id < intern_snapshot_count(snap);
		if (found)
			printf("%" PRIu32 "\n", id);
		else
			fprintf(stderr, "%s: %s: \"%s\" is not in the snapshot\n", progname,
				argv[optind], str);
		intern_str_decref(s);
		intern_interp_free(interp);
	}
	intern_snapshot_close(snap);
	return found ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} commands[] = {
		{ "write", cmd_write },
		{ "info", cmd_info },
		{ "get", cmd_get },
		{ "id", cmd_id },
	};

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; argc >= 2 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	return usage_error(argc < 2 ? "a command is needed" : "unknown command");
}
