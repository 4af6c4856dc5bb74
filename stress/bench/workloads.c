/*
 * workloads.c: the strings the benchmark interns, and in which order.
 *
 * Synthetic keys look like identifiers: two or three words from a list of
 * 128 common ones, written snake_case, camelCase or UPPER_SNAKE, 4 to 20
 * bytes.  Key i is built from the digits of a scrambled i (a multiplication
 * modulo the key space, which is a bijection), so the first n keys are
 * distinct by construction; the hit sets are checked anyway.  Streams are
 * shuffled with a fixed seed, so every run replays the same sequence.
 *
 * Token streams are identifiers cut from files the user names (--tokens)
 * by the scanner intern-snapshot --tokens uses too (lib/tools/tokens.c):
 * C-style, comments, string and character literals and numbers skipped.
 * Directories are walked recursively; files with a NUL byte in their first
 * 4 KiB are taken as binary and skipped.
 *
 * The workloads, in report order:
 *   tokens       every identifier of the named files, all pre-interned;
 *   hits-small   1,000 pre-interned keys (fits in L1/L2), every op a hit;
 *   hits-large   1,000,000 pre-interned keys (far beyond the caches);
 *   misses       unique keys, insert-only: each thread owns a slice;
 *   churn        4,096 keys interned and released at once, so (almost)
 *                every op creates an entry and removes it;
 *   hot          one pre-interned string that every thread interns;
 *   hot-mortal   the same with counted references everywhere;
 *   hot-mortal-1k  1,000 pre-interned mortal keys, every op a hit, counted
 *                references (libintern also runs it immortal and with
 *                references borrowed for a scope: the hot mortal target).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "tokens.h"

/* ---------------------------------------------------------------------------
 * Record streams
 * ------------------------------------------------------------------------- */

void bench_stream_init(struct bench_stream *st)
{
	memset(st, 0, sizeof(*st));
}

void bench_stream_push(struct bench_stream *st, const char *s, size_t len)
{
	size_t need = st->size + len + 2;

	if (len == 0 || len > BENCH_STR_MAX)
		bench_die("stream record of %zu bytes", len);
	if (need > st->cap) {
		st->cap = st->cap ? st->cap : 4096;
		while (st->cap < need)
			st->cap *= 2;
		st->bytes = bench_xrealloc(st->bytes, st->cap);
	}
	if (st->count % BENCH_MARK_EVERY == 0) {
		if (st->nmarks == st->marks_cap) {
			st->marks_cap = st->marks_cap ? st->marks_cap * 2 : 64;
			st->marks = bench_xrealloc(st->marks, st->marks_cap * sizeof(*st->marks));
		}
		st->marks[st->nmarks++] = st->size;
	}
	st->bytes[st->size] = (unsigned char)len;
	memcpy(st->bytes + st->size + 1, s, len);
	st->bytes[st->size + 1 + len] = '\0';
	st->size = need;
	st->count++;
	st->string_bytes += len + 1;
}

void bench_stream_free(struct bench_stream *st)
{
	free(st->bytes);
	free(st->marks);
	bench_stream_init(st);
}

size_t bench_stream_slice(const struct bench_stream *st, unsigned i, unsigned n, size_t *record)
{
	size_t m;

	if (i >= n || st->nmarks == 0) {
		*record = st->count;
		return st->size;
	}
	m = (size_t)i * st->nmarks / n;
	*record = m * BENCH_MARK_EVERY;
	return st->marks[m];
}

/* ---------------------------------------------------------------------------
 * Identifier-like keys
 * ------------------------------------------------------------------------- */

static const char *const words[128] = {
	"get",   "set",    "add",   "del",   "put",   "buf",   "len",   "size",  "node",  "list",
	"next",  "prev",   "head",  "tail",  "init",  "free",  "new",   "alloc", "read",  "write",
	"open",  "close",  "file",  "path",  "name",  "key",   "val",   "hash",  "map",   "table",
	"entry", "item",   "data",  "info",  "ctx",   "state", "flag",  "mode",  "type",  "kind",
	"count", "index",  "pos",   "off",   "ptr",   "ref",   "str",   "char",  "byte",  "word",
	"line",  "text",   "msg",   "err",   "fd",    "sock",  "addr",  "port",  "host",  "user",
	"group", "id",     "time",  "tick",  "clock", "timer", "lock",  "mutex", "cond",  "wait",
	"wake",  "signal", "queue", "stack", "heap",  "tree",  "root",  "leaf",  "child", "parent",
	"left",  "right",  "min",   "max",   "total", "limit", "start", "stop",  "begin", "end",
	"first", "last",   "old",   "tmp",   "cur",   "src",   "dst",   "in",    "out",   "mem",
	"page",  "block",  "chunk", "slot",  "bit",   "mask",  "shift", "ring",  "pool",  "cache",
	"store", "load",   "sync",  "async", "event", "task",  "job",   "work",  "run",   "exec",
	"call",  "arg",    "env",   "cfg",   "dev",   "sys",   "net",   "proto",
};

enum key_style {
	STYLE_SNAKE,
	STYLE_CAMEL,
	STYLE_UPPER,
	STYLE_COUNT
};

/* Keys with `nwords` words: 3 styles x 128^nwords of them. */
static uint64_t key_space(unsigned nwords)
{
	uint64_t n = STYLE_COUNT;

	for (unsigned i = 0; i < nwords; i++)
		n *= 128;
	return n;
}

/* The fewest words (at least 2) giving `n` distinct keys. */
static unsigned words_for(size_t n)
{
	unsigned k = 2;

	while (key_space(k) < n)
		k++;
	return k;
}

/*
 * Write key `i` of the `nwords`-word space into buf (NUL-terminated);
 * returns its length.  Distinct i below key_space() give distinct keys:
 * the multiplier is odd and not a multiple of 3, so it is invertible
 * modulo the space, and a word sequence and style decode uniquely from
 * the text (words are lowercase letters; the styles differ in case and
 * in the separator).
 */
static size_t key_make(uint64_t i, unsigned nwords, char *buf)
{
	uint64_t x = (i * 0x9e3779b1u) % key_space(nwords);
	enum key_style style = (enum key_style)(x % STYLE_COUNT);
	size_t len = 0;

	x /= STYLE_COUNT;
	for (unsigned w = 0; w < nwords; w++, x /= 128) {
		const char *word = words[x % 128];

		if (w > 0 && style != STYLE_CAMEL)
			buf[len++] = '_';
		for (size_t c = 0; word[c]; c++) {
			char ch = word[c];

			if (style == STYLE_UPPER || (style == STYLE_CAMEL && w > 0 && c == 0))
				ch = (char)(ch - 'a' + 'A');
			buf[len++] = ch;
		}
	}
	buf[len] = '\0';
	return len;
}

/* The first n keys, in order, and checked distinct. */
static void keys_fill(struct bench_stream *st, size_t n)
{
	unsigned nwords = words_for(n);
	struct bench_set *seen = bench_set_new();
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		size_t len = key_make(i, nwords, buf);

		if (!bench_set_add(seen, buf, len))
			bench_die("key generator repeated \"%s\"", buf);
		bench_stream_push(st, buf, len);
	}
	bench_set_free(seen);
}

/* Offsets of every record of `st`. */
static size_t *record_offsets(const struct bench_stream *st)
{
	size_t *off = bench_xmalloc(st->count * sizeof(*off));
	size_t pos = 0;

	for (size_t k = 0; k < st->count; k++) {
		off[k] = pos;
		pos += (size_t)st->bytes[pos] + 2;
	}
	return off;
}

/* Append `rounds` shuffled passes over the records of `keys` to `out`. */
static void stream_shuffled(struct bench_stream *out, const struct bench_stream *keys,
			    unsigned rounds, uint64_t seed)
{
	size_t n = keys->count;
	size_t *off = record_offsets(keys);

	for (unsigned r = 0; r < rounds; r++) {
		for (size_t k = n - 1; k > 0; k--) {
			size_t j = bench_rand(&seed) % (k + 1);
			size_t tmp = off[k];

			off[k] = off[j];
			off[j] = tmp;
		}
		for (size_t k = 0; k < n; k++) {
			const unsigned char *rec = keys->bytes + off[k];

			bench_stream_push(out, (const char *)rec + 1, rec[0]);
		}
	}
	free(off);
}

/* ---------------------------------------------------------------------------
 * Token files
 * ------------------------------------------------------------------------- */

struct tokenizer {
	struct bench_stream *stream;   /* every identifier, in file order */
	struct bench_stream *distinct; /* each identifier once */
	struct bench_set *seen;
	size_t max;
	size_t files;
};

/* ftw callbacks take no argument: the walk in progress. */
static struct tokenizer *walk;

/* tokens_scan()'s callback: record the identifier (the stream's records
 * hold at most BENCH_STR_MAX bytes; longer ones are left out). */
static bool take_token(void *ctx, const char *s, size_t len)
{
	struct tokenizer *tk = ctx;

	if (len <= BENCH_STR_MAX) {
		bench_stream_push(tk->stream, s, len);
		if (bench_set_add(tk->seen, s, len))
			bench_stream_push(tk->distinct, s, len);
	}
	return tk->stream->count < tk->max;
}

static void tokenize_file(struct tokenizer *tk, const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long size;

	if (!f)
		bench_die("cannot open %s", path);
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		bench_die("cannot size %s", path);
	buf = bench_xmalloc((size_t)size + 1);
	if (fread(buf, 1, (size_t)size, f) != (size_t)size)
		bench_die("cannot read %s", path);
	fclose(f);
	if (tokens_is_text(buf, (size_t)size)) {
		tokens_scan(buf, (size_t)size, take_token, tk);
		tk->files++;
	}
	free(buf);
}

static int walk_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_F)
		tokenize_file(walk, path);
	return walk->stream->count >= walk->max; /* non-zero stops the walk */
}

static void tokens_load(const struct bench_options *opt, struct bench_stream *stream,
			struct bench_stream *distinct)
{
	struct tokenizer tk = { stream, distinct, bench_set_new(), opt->tokens_max, 0 };

	walk = &tk;
	for (size_t i = 0; i < opt->ntoken_paths && stream->count < tk.max; i++) {
		if (nftw(opt->token_paths[i], walk_cb, 32, FTW_PHYS) < 0)
			bench_usage_error("--tokens: cannot read %s", opt->token_paths[i]);
	}
	walk = NULL;
	bench_set_free(tk.seen);
	if (stream->count == 0)
		bench_usage_error("--tokens: no identifiers found in those files");
	fprintf(stderr, "tokens: %zu identifiers (%zu distinct) from %zu files\n", stream->count,
		distinct->count, tk.files);
}

/* ---------------------------------------------------------------------------
 * The workload set
 * ------------------------------------------------------------------------- */

static bool wanted(const struct bench_options *opt, const char *name)
{
	return bench_in_list(opt->only_workloads, name);
}

static struct bench_workload *add(struct bench_workload **ws, size_t *n, const char *name,
				  const char *about)
{
	struct bench_workload *w;

	*ws = bench_xrealloc(*ws, (*n + 1) * sizeof(**ws));
	w = &(*ws)[(*n)++];
	memset(w, 0, sizeof(*w));
	w->name = name;
	w->about = about;
	bench_stream_init(&w->preload);
	bench_stream_init(&w->stream);
	return w;
}

/* A pre-interned key set replayed in shuffled passes: every op a hit. */
static void hits_workload(struct bench_workload *w, size_t nkeys, unsigned rounds, uint64_t seed)
{
	w->op = BENCH_OP_HIT;
	w->hits = true;
	w->expected = nkeys;
	keys_fill(&w->preload, nkeys);
	stream_shuffled(&w->stream, &w->preload, rounds, seed);
}

/* One string, `copies` times; pre-interned. */
static void hot_workload(struct bench_workload *w, bool counted)
{
	char buf[64];
	size_t len = key_make(7, 2, buf);

	w->op = BENCH_OP_HIT;
	w->hits = true;
	w->counted = counted;
	w->expected = 1;
	bench_stream_push(&w->preload, buf, len);
	for (int i = 0; i < 4096; i++)
		bench_stream_push(&w->stream, buf, len);
}

size_t bench_workloads_build(const struct bench_options *opt, struct bench_workload **out)
{
	struct bench_workload *ws = NULL, *w;
	size_t n = 0;

	if (opt->ntoken_paths == 0 && opt->only_workloads && wanted(opt, "tokens"))
		bench_usage_error("the tokens workload needs --tokens PATH...");
	if (opt->ntoken_paths > 0 && wanted(opt, "tokens")) {
		w = add(&ws, &n, "tokens",
			"identifiers of the --tokens files, pre-interned, in file order");
		w->op = BENCH_OP_HIT;
		w->hits = true;
		tokens_load(opt, &w->stream, &w->preload);
		w->expected = w->preload.count;
	}
	if (wanted(opt, "hits-small")) {
		w = add(&ws, &n, "hits-small", "small pre-interned key set, every op a hit");
		hits_workload(w, opt->small_keys, 8, 1);
	}
	if (wanted(opt, "hits-large")) {
		w = add(&ws, &n, "hits-large",
			"large pre-interned key set (far beyond the caches), every op a hit");
		hits_workload(w, opt->large_keys, 1, 2);
		w->memory = true;
	}
	if (wanted(opt, "misses")) {
		w = add(&ws, &n, "misses",
			"unique keys, insert-only; each thread interns its own slice and keeps every string");
		w->op = BENCH_OP_KEEP;
		w->fresh_table = true;
		w->expected = opt->misses_keys;
		keys_fill(&w->stream, opt->misses_keys);
	}
	if (wanted(opt, "churn")) {
		struct bench_stream pool;

		w = add(&ws, &n, "churn",
			"mortal churn: intern then release at once, entries created and removed continuously");
		w->op = BENCH_OP_HIT;
		w->counted = true;
		w->expected = opt->churn_keys;
		bench_stream_init(&pool);
		keys_fill(&pool, opt->churn_keys);
		stream_shuffled(&w->stream, &pool, 16, 3);
		bench_stream_free(&pool);
	}
	if (wanted(opt, "hot")) {
		w = add(&ws, &n, "hot", "one pre-interned string shared by all threads, immortal");
		hot_workload(w, false);
	}
	if (wanted(opt, "hot-mortal")) {
		w = add(&ws, &n, "hot-mortal",
			"one pre-interned string shared by all threads, counted references");
		hot_workload(w, true);
		w->scoped = true;
	}
	if (wanted(opt, "hot-mortal-1k")) {
		w = add(&ws, &n, "hot-mortal-1k",
			"1,000 pre-interned mortal keys, every op a hit, counted references");
		hits_workload(w, 1000, 8, 4);
		w->counted = true;
		w->scoped = true;
	}
	if (n == 0)
		bench_usage_error("--workloads selected nothing");
	*out = ws;
	return n;
}

void bench_workloads_free(struct bench_workload *ws, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bench_stream_free(&ws[i].preload);
		bench_stream_free(&ws[i].stream);
	}
	free(ws);
}
