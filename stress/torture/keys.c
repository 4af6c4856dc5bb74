/*
 * keys.c: the key set and how threads draw from it.
 *
 * Random keys (the default) have lengths drawn uniformly from
 * [len_min, len_max]; one in eight is binary (any byte, NULs included), the
 * rest printable.  When the set is big enough it also holds the bytes of the
 * harness's eight static strings and four 0/1-byte strings, placed at random
 * ranks, so every run also checks that interning those bytes by any route
 * yields the static object or the built-in singleton; and a few decimal
 * integers, some inside the library's small-int range (singletons) and
 * some just outside (ordinary strings).  A random key that happens to be a
 * small integer's text is recognized too: keys are classified by asking
 * the library (intern_int) on a scratch interpreter.
 *
 * With --poison-keys every key is a run of 'k' (0x6b, the byte the library
 * fills freed strings with), of lengths len_min, len_min + 1, ...: a lookup
 * that is comparing a string's bytes while it is freed under it (no grace
 * period) cannot tell, so it goes on to take a reference to freed memory,
 * where the checks see it.  Otherwise the poison would only make it miss.
 *
 * With --tokens FILE the keys are the distinct identifier tokens of FILE
 * ([A-Za-z_][A-Za-z0-9_]*) and each thread walks the file's token stream
 * from its own random starting point: real frequencies, real locality.
 */
#include "torture.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct keyset all_keys;

INTERN_STATIC_DEFINE(st0, "stress_static_alpha");
INTERN_STATIC_DEFINE(st1, "stress_static_beta");
INTERN_STATIC_DEFINE(st2, "stress_static_gamma");
INTERN_STATIC_DEFINE(st3, "stress_static_delta");
INTERN_STATIC_DEFINE(st4, "__init__");
INTERN_STATIC_DEFINE(st5, "self");
INTERN_STATIC_DEFINE(st6, "stress static with spaces");
INTERN_STATIC_DEFINE(st7, "ab");

struct intern_str *static_obj[NSTATIC];

/* ---- a set of byte strings, for deduplication --------------------------- */

struct dedup {
	uint32_t *slot; /* key index + 1, 0 = empty */
	size_t mask;
};

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

/* Find key bytes [p, p+n) among the first keys of all_keys; insert `idx` if absent.
 * Returns the existing index, or idx once inserted. */
static uint32_t dedup_put(struct dedup *d, const char *p, size_t n, uint32_t idx)
{
	size_t i = fnv1a(p, n) & d->mask;

	for (;; i = (i + 1) & d->mask) {
		uint32_t v = d->slot[i];

		if (!v) {
			d->slot[i] = idx + 1;
			return idx;
		}
		if (all_keys.len[v - 1] == n && memcmp(key_data(v - 1), p, n) == 0)
			return v - 1;
	}
}

/* ---- growing the key arrays ---------------------------------------------- */

static size_t bytes_cap, keys_cap, bytes_used;

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		perror("intern-stress");
		exit(2);
	}
	return p;
}

/* Append key bytes (not deduplicated); returns its index. */
static uint32_t key_append(const char *p, size_t n)
{
	if (all_keys.n == keys_cap) {
		keys_cap = keys_cap ? keys_cap * 2 : 1024;
		all_keys.off = xrealloc(all_keys.off, keys_cap * sizeof(*all_keys.off));
		all_keys.len = xrealloc(all_keys.len, keys_cap * sizeof(*all_keys.len));
	}
	while (bytes_used + n + 1 > bytes_cap) {
		bytes_cap = bytes_cap ? bytes_cap * 2 : 65536;
		all_keys.bytes = xrealloc(all_keys.bytes, bytes_cap);
	}
	memcpy(all_keys.bytes + bytes_used, p, n);
	all_keys.bytes[bytes_used + n] = 0;
	all_keys.off[all_keys.n] = (uint32_t)bytes_used;
	all_keys.len[all_keys.n] = (uint32_t)n;
	bytes_used += n + 1;
	return all_keys.n++;
}

/* Add the bytes as a key unless present; returns the key's index. */
static uint32_t key_add(struct dedup *d, const char *p, size_t n)
{
	uint32_t idx = key_append(p, n);
	uint32_t got = dedup_put(d, key_data(idx), n, idx);

	if (got != idx) { /* a duplicate: take the append back */
		all_keys.n--;
		bytes_used -= n + 1;
	}
	return got;
}

static void dedup_init(struct dedup *d, size_t n)
{
	size_t cap = 1024;

	while (cap < 2 * n)
		cap *= 2;
	d->slot = calloc(cap, sizeof(*d->slot));
	if (!d->slot) {
		perror("intern-stress");
		exit(2);
	}
	d->mask = cap - 1;
}

/* ---- the two sources ------------------------------------------------------ */

static int keys_random(struct dedup *d, uint64_t *rng)
{
	char buf[4096];
	uint32_t target = run_config.keys, tries = 0;

	if (run_config.len_max > sizeof(buf)) {
		fprintf(stderr, "intern-stress: --len max is %zu\n", sizeof(buf));
		return -1;
	}
	while (all_keys.n < target) {
		uint32_t n = run_config.len_min +
			     rng_below(rng, run_config.len_max - run_config.len_min + 1);
		bool binary = rng_below(rng, 8) == 0;
		uint32_t before = all_keys.n;

		for (uint32_t i = 0; i < n; i++)
			buf[i] = binary ? (char)rng_below(rng, 256)
					: (char)(' ' + 1 + rng_below(rng, 94));
		key_add(d, buf, n);
		if (all_keys.n == before && ++tries > 100u * target + 1000) {
			fprintf(stderr,
				"intern-stress: cannot make %u distinct keys of length %u..%u\n",
				target, run_config.len_min, run_config.len_max);
			return -1;
		}
	}
	return 0;
}

static int keys_poison(struct dedup *d)
{
	char buf[4096];

	if (run_config.len_min + run_config.keys > sizeof(buf)) {
		fprintf(stderr, "intern-stress: --poison-keys: keys up to %zu bytes\n",
			sizeof(buf));
		return -1;
	}
	memset(buf, 'k', sizeof(buf));
	for (uint32_t i = 0; i < run_config.keys; i++)
		key_add(d, buf, run_config.len_min + i);
	return 0;
}

static int is_ident(int c, int first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (!first && c >= '0' && c <= '9');
}

static int keys_tokens(struct dedup *d)
{
	FILE *f = fopen(run_config.tokens, "rb");
	size_t cap = 0, n = 0, tlen = 0;
	char tok[4096];
	int c;

	if (!f) {
		fprintf(stderr, "intern-stress: %s: %s\n", run_config.tokens, strerror(errno));
		return -1;
	}
	do {
		c = getc(f);
		if (c != EOF && is_ident(c, tlen == 0)) {
			if (tlen < sizeof(tok))
				tok[tlen++] = (char)c;
			continue;
		}
		if (tlen) {
			if (n == cap) {
				cap = cap ? cap * 2 : 65536;
				all_keys.stream = xrealloc(all_keys.stream,
							   cap * sizeof(*all_keys.stream));
			}
			if (all_keys.n + 1 > d->mask / 2) { /* keep the set half empty */
				struct dedup bigger;

				dedup_init(&bigger, 2 * (d->mask + 1));
				for (uint32_t i = 0; i < all_keys.n; i++)
					dedup_put(&bigger, key_data(i), all_keys.len[i], i);
				free(d->slot);
				*d = bigger;
			}
			all_keys.stream[n++] = key_add(d, tok, tlen);
			tlen = 0;
		}
	} while (c != EOF);
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "intern-stress: %s has no tokens\n", run_config.tokens);
		return -1;
	}
	all_keys.nstream = n;
	return 0;
}

/* ---- classification ------------------------------------------------------ */

/* Is [p, p+n) the canonical decimal text of a long long (as intern_int
 * writes it: no '+', no leading zeros, no "-0")?  Sets *v. */
static bool decimal_text(const char *p, size_t n, long long *v)
{
	char buf[24];
	char *end;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, p, n);
	buf[n] = 0;
	if (strlen(buf) != n) /* an embedded NUL */
		return false;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	if (errno || *end)
		return false;
	snprintf(buf, sizeof(buf), "%lld", *v);
	return strlen(buf) == n && memcmp(buf, p, n) == 0;
}

/* intern_auto's rule (include/intern.h), with the default length bound. */
static bool identifier(const char *p, size_t n)
{
	if (n == 0 || n > INTERN_AUTO_MAX_LEN_DEFAULT || !is_ident((unsigned char)p[0], 1))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_ident((unsigned char)p[i], 0))
			return false;
	return true;
}

/* Which decimal keys are built-in singletons: ask the library, whose
 * small-int range is fixed when it is built. */
static void classify_ints(void)
{
	struct intern_interp *tmp = intern_interp_new(NULL);

	if (!tmp) {
		perror("intern-stress: intern_interp_new");
		exit(2);
	}
	for (uint32_t k = 0; k < all_keys.n; k++) {
		struct intern_str *s;

		all_keys.ident[k] = identifier(key_data(k), all_keys.len[k]);
		all_keys.is_int[k] = decimal_text(key_data(k), all_keys.len[k], &all_keys.ival[k]);
		if (!all_keys.is_int[k] || all_keys.kind[k] != KEY_DYNAMIC)
			continue;
		s = intern_int(tmp, all_keys.ival[k]);
		if (!s) {
			perror("intern-stress: intern_int");
			exit(2);
		}
		if (intern_str_state(s) == INTERN_IMMORTAL_STATIC) {
			all_keys.kind[k] = KEY_SINGLETON;
			all_keys.obj[k] = s;
			all_keys.imm_ok[k] = 1;
		} else {
			intern_str_decref(s);
		}
	}
	intern_interp_free(tmp);
}

/* ---- setup ------------------------------------------------------------------ */

static void shuffle(uint64_t *rng)
{
	for (uint32_t i = all_keys.n - 1; i > 0; i--) {
		uint32_t j = rng_below(rng, i + 1), t;

		t = all_keys.off[i], all_keys.off[i] = all_keys.off[j], all_keys.off[j] = t;
		t = all_keys.len[i], all_keys.len[i] = all_keys.len[j], all_keys.len[j] = t;
	}
}

int keys_init(void)
{
	struct intern_str *const st[NSTATIC] = { st0, st1, st2, st3, st4, st5, st6, st7 };
	uint64_t rng = run_config.seed ^ 0x6b657973ull;
	struct dedup d;
	int err;

	for (unsigned i = 0; i < NSTATIC; i++)
		static_obj[i] = st[i];
	dedup_init(&d, run_config.tokens ? 65536 : run_config.keys);
	if (run_config.tokens) {
		err = keys_tokens(&d);
	} else if (run_config.poison_keys) {
		err = keys_poison(&d);
	} else {
		if (run_config.keys >= 64) { /* the special keys, when there is room */
			for (unsigned i = 0; i < NSTATIC; i++)
				key_add(&d, intern_str_data(st[i]), intern_str_len(st[i]));
			key_add(&d, "", 0);
			key_add(&d, "x", 1);
			key_add(&d, "\0", 1);
			key_add(&d, "\xff", 1);
			key_add(&d, "42", 2);
			key_add(&d, "-5", 2);
			key_add(&d, "-6", 2);
			key_add(&d, "1024", 4);
			key_add(&d, "1025", 4);
		}
		err = keys_random(&d, &rng);
		if (!err) { /* random ranks for the special keys; reindex */
			shuffle(&rng);
			free(d.slot);
			dedup_init(&d, all_keys.n);
			for (uint32_t i = 0; i < all_keys.n; i++)
				dedup_put(&d, key_data(i), all_keys.len[i], i);
		}
	}
	if (err)
		return err;
	/* The statics are registered in every interp, so their bytes must be
	 * keys even when the file or the draw did not produce them; keys added
	 * here are not drawn in random mode (small sets stay all dynamic). */
	all_keys.ndraw = run_config.tokens ? all_keys.n + NSTATIC : all_keys.n;
	for (unsigned i = 0; i < NSTATIC; i++)
		key_add(&d, intern_str_data(st[i]), intern_str_len(st[i]));

	if (all_keys.ndraw > all_keys.n)
		all_keys.ndraw = all_keys.n;
	all_keys.kind = calloc(all_keys.n, 1);
	all_keys.imm_ok = calloc(all_keys.n, 1);
	all_keys.obj = calloc(all_keys.n, sizeof(*all_keys.obj));
	all_keys.ident = calloc(all_keys.n, 1);
	all_keys.is_int = calloc(all_keys.n, 1);
	all_keys.ival = calloc(all_keys.n, sizeof(*all_keys.ival));
	if (!all_keys.kind || !all_keys.imm_ok || !all_keys.obj || !all_keys.ident ||
	    !all_keys.is_int || !all_keys.ival) {
		perror("intern-stress");
		exit(2);
	}
	for (uint32_t k = 0; k < all_keys.n; k++) {
		/* Immortal-eligible by a hash of the bytes, not by rank, so the
		 * hottest Zipf keys are not all eligible or all not. */
		double u = (double)(fnv1a(key_data(k), all_keys.len[k]) >> 11) /
			   (double)(1ull << 53);

		all_keys.imm_ok[k] = u < run_config.immortal_frac;
		if (all_keys.len[k] <= 1) {
			all_keys.kind[k] = KEY_SINGLETON;
			all_keys.obj[k] = all_keys.len[k]
						  ? intern_latin1((unsigned char)key_data(k)[0])
						  : intern_empty();
			all_keys.imm_ok[k] = 1;
		}
	}
	for (unsigned i = 0; i < NSTATIC; i++) {
		uint32_t k = dedup_put(&d, intern_str_data(st[i]), intern_str_len(st[i]),
				       UINT32_MAX);

		all_keys.kind[k] = KEY_STATIC;
		all_keys.obj[k] = st[i];
		all_keys.imm_ok[k] = 1;
	}
	free(d.slot);
	classify_ints();

	if (run_config.dist == DIST_ZIPF) {
		double sum = 0;

		all_keys.cdf = malloc(all_keys.ndraw * sizeof(*all_keys.cdf));
		if (!all_keys.cdf) {
			perror("intern-stress");
			exit(2);
		}
		for (uint32_t i = 0; i < all_keys.ndraw; i++) {
			sum += 1.0 / pow(i + 1.0, run_config.zipf_s);
			all_keys.cdf[i] = sum;
		}
		for (uint32_t i = 0; i < all_keys.ndraw; i++)
			all_keys.cdf[i] /= sum;
	}
	return 0;
}

void keys_fini(void)
{
	free(all_keys.off);
	free(all_keys.len);
	free(all_keys.bytes);
	free(all_keys.kind);
	free(all_keys.imm_ok);
	free(all_keys.obj);
	free(all_keys.ident);
	free(all_keys.is_int);
	free(all_keys.ival);
	free(all_keys.cdf);
	free(all_keys.stream);
	memset(&all_keys, 0, sizeof(all_keys));
}

uint32_t key_draw(uint64_t *rng, size_t *pos)
{
	switch (run_config.dist) {
	case DIST_ZIPF: {
		double u = (double)(splitmix64_next(rng) >> 11) / (double)(1ull << 53);
		uint32_t lo = 0, hi = all_keys.ndraw - 1;

		while (lo < hi) { /* the first rank whose cdf reaches u */
			uint32_t mid = lo + (hi - lo) / 2;

			if (all_keys.cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo;
	}
	case DIST_STREAM:
		if (++*pos >= all_keys.nstream)
			*pos = 0;
		return all_keys.stream[*pos];
	case DIST_UNIFORM:
	default: return rng_below(rng, all_keys.ndraw);
	}
}
