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
 * Everything about the file goes through the public API: the library
 * writes, validates, maps and describes it (intern_snapshot_info), and a
 * refused file is reported with the library's own reason.  Exit status:
 * 0 done, 1 failed (a refused or unreadable file, a string not found), 2
 * bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ---------------------------------------------------------------------------
 * info
 * ------------------------------------------------------------------------- */

#define PROBE_BUCKETS (sizeof(((struct intern_snapshot_info *)0)->probe_hist) / sizeof(uint64_t))

static void print_header(const struct intern_snapshot_info *in)
{
	printf("size:           %" PRIu64 " bytes (%.1f MiB)\n", in->file_size,
	       in->file_size / 1048576.0);
	printf("format:         %" PRIu32 ", string ABI %" PRIu32 "\n", in->format, in->str_abi);
	printf("byte order:     %s-endian\n", in->big_endian ? "big" : "little");
	printf("word size:      %" PRIu32 " bytes\n", in->word_size);
	printf("count:          %" PRIu32 " (IDs 0 to count - 1)\n", in->count);
	printf("string area:    %" PRIu64 " bytes (headers, NULs and padding included)\n",
	       in->string_area);
	printf("index:          %" PRIu64 " slots of 8 bytes (%.1f%% full)\n", in->index_slots,
	       in->index_slots ? 100.0 * in->count / in->index_slots : 0.0);
	printf("hash:           %s, seed 0x%016" PRIx64 "\n", in->hash, in->seed);
	printf("max probe:      %" PRIu32 "\n", in->max_probe);
	printf("checksums:      header 0x%016" PRIx64 ", body 0x%016" PRIx64 "\n",
	       in->header_checksum, in->body_checksum);
}

/* The index's displacements, and the strings' bytes and lengths (read
 * through their IDs). */
static void print_stats(const struct intern_snapshot *snap, const struct intern_snapshot_info *in)
{
	size_t min = SIZE_MAX, max = 0;
	uint64_t sum = 0;

	printf("probe lengths:  displacement from the home slot: strings\n");
	for (size_t d = 0; d < PROBE_BUCKETS; d++) {
		sum += in->probe_hist[d] * d;
		if (in->probe_hist[d])
			printf("  %s%-3zu %12" PRIu64 "  %5.1f%%\n",
			       d == PROBE_BUCKETS - 1 ? ">=" : "  ", d, in->probe_hist[d],
			       in->count ? 100.0 * in->probe_hist[d] / in->count : 0.0);
	}
	printf("  mean %.3f%s\n", in->count ? (double)sum / in->count : 0.0,
	       in->probe_hist[PROBE_BUCKETS - 1] ? " (the last bucket counted as its least)" : "");
	for (uint32_t id = 0; id < in->count; id++) {
		size_t len = intern_str_len(intern_snapshot_str(snap, id));

		min = len < min ? len : min;
		max = len > max ? len : max;
	}
	printf("string bytes:   %" PRIu64 " (without the NULs)\n", in->string_bytes);
	if (in->count)
		printf("length:         mean %.2f, min %zu, max %zu\n",
		       (double)in->string_bytes / in->count, min, max);
}

static int cmd_info(int argc, char **argv)
{
	struct intern_snapshot_info in;
	struct intern_snapshot *snap;
	unsigned flags;

	if (read_options(argc, argv, 1, &flags) < 0)
		return usage_error("info: FILE expected");
	snap = open_or_say(argv[optind], flags);
	if (!snap)
		return 1;
	intern_snapshot_info(snap, &in);
	printf("file:           %s\n", argv[optind]);
	print_header(&in);
	print_stats(snap, &in);
	printf("validation:     %s\n", flags & INTERN_SNAPSHOT_TRUSTED
					       ? "header only (--trusted): accepted"
					       : "full (checksum and structure): valid");
	intern_snapshot_close(snap);
	return 0;
}

/* ---------------------------------------------------------------------------
 * get, id
 * ------------------------------------------------------------------------- */

static int cmd_get(int argc, char **argv)
{
	struct intern_snapshot *snap;
	struct intern_str *s;
	unsigned long long id;
	unsigned flags;
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
	s = id < UINT32_MAX ? intern_snapshot_str(snap, (uint32_t)id) : NULL;
	if (s) {
		fwrite(intern_str_data(s), 1, intern_str_len(s), stdout);
		putchar('\n');
	} else {
		fprintf(stderr, "%s: %s: no string with ID %llu (%zu strings, IDs from 0)\n",
			progname, argv[optind], id, intern_snapshot_count(snap));
	}
	intern_snapshot_close(snap);
	return s ? 0 : 1;
}

static int cmd_id(int argc, char **argv)
{
	struct intern_snapshot *snap;
	const char *str;
	unsigned flags;
	uint32_t id;

	if (read_options(argc, argv, 2, &flags) < 0)
		return usage_error("id: FILE STRING expected");
	snap = open_or_say(argv[optind], flags);
	if (!snap)
		return 1;
	str = argv[optind + 1];
	id = intern_snapshot_find(snap, str, strlen(str));
	if (id != INTERN_ID_NONE)
		printf("%" PRIu32 "\n", id);
	else
		fprintf(stderr, "%s: %s: \"%s\" is not in the snapshot\n", progname, argv[optind],
			str);
	intern_snapshot_close(snap);
	return id != INTERN_ID_NONE ? 0 : 1;
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
