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

struct keyset ks;

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

/* Find key bytes [p, p+n) among ks's first keys; insert `idx` if absent.
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
		if (ks.len[v - 1] == n && memcmp(key_data(v - 1), p, n) == 0)
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
	if (ks.n == keys_cap) {
		keys_cap = keys_cap ? keys_cap * 2 : 1024;
		ks.off = xrealloc(ks.off, keys_cap * sizeof(*ks.off));
		ks.len = xrealloc(ks.len, keys_cap * sizeof(*ks.len));
	}
	while (bytes_used + n + 1 > bytes_cap) {
		bytes_cap = bytes_cap ? bytes_cap * 2 : 65536;
		ks.bytes = xrealloc(ks.bytes, bytes_cap);
	}
	memcpy(ks.bytes + bytes_used, p, n);
	ks.bytes[bytes_used + n] = 0;
	ks.off[ks.n] = (uint32_t)bytes_used;
	ks.len[ks.n] = (uint32_t)n;
	bytes_used += n + 1;
	return ks.n++;
}

/* Add the bytes as a key unless present; returns the key's index. */
static uint32_t key_add(struct dedup *d, const char *p, size_t n)
{
	uint32_t idx = key_append(p, n);
	uint32_t got = dedup_put(d, key_data(idx), n, idx);

	if (got != idx) { /* a duplicate: take the append back */
		ks.n--;
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
	uint32_t target = cfg.keys, tries = 0;

	if (cfg.len_max > sizeof(buf)) {
		fprintf(stderr, "intern-stress: --len max is %zu\n", sizeof(buf));
		return -1;
	}
	while (ks.n < target) {
		uint32_t n = cfg.len_min + rng_below(rng, cfg.len_max - cfg.len_min + 1);
		bool binary = rng_below(rng, 8) == 0;
		uint32_t before = ks.n;

		for (uint32_t i = 0; i < n; i++)
			buf[i] = binary ? (char)rng_below(rng, 256)
					: (char)(' ' + 1 + rng_below(rng, 94));
		key_add(d, buf, n);
		if (ks.n == before && ++tries > 100u * target + 1000) {
			fprintf(stderr,
				"intern-stress: cannot make %u distinct keys of length %u..%u\n",
				target, cfg.len_min, cfg.len_max);
			return -1;
		}
	}
	return 0;
}

static int keys_poison(struct dedup *d)
{
	char buf[4096];

	if (cfg.len_min + cfg.keys > sizeof(buf)) {
		fprintf(stderr, "intern-stress: --poison-keys: keys up to %zu bytes\n", sizeof(buf));
		return -1;
	}
	memset(buf, 'k', sizeof(buf));
	for (uint32_t i = 0; i < cfg.keys; i++)
		key_add(d, buf, cfg.len_min + i);
	return 0;
}

static int is_ident(int c, int first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (!first && c >= '0' && c <= '9');
}

static int keys_tokens(struct dedup *d)
{
	FILE *f = fopen(cfg.tokens, "rb");
	size_t cap = 0, n = 0, tlen = 0;
	char tok[4096];
	int c;

	if (!f) {
		fprintf(stderr, "intern-stress: %s: %s\n", cfg.tokens, strerror(errno));
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
				ks.stream = xrealloc(ks.stream, cap * sizeof(*ks.stream));
			}
			if (ks.n + 1 > d->mask / 2) { /* keep the set half empty */
				struct dedup bigger;

				dedup_init(&bigger, 2 * (d->mask + 1));
				for (uint32_t i = 0; i < ks.n; i++)
					dedup_put(&bigger, key_data(i), ks.len[i], i);
				free(d->slot);
				*d = bigger;
			}
			ks.stream[n++] = key_add(d, tok, tlen);
			tlen = 0;
		}
	} while (c != EOF);
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "intern-stress: %s has no tokens\n", cfg.tokens);
		return -1;
	}
	ks.nstream = n;
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
	for (uint32_t k = 0; k < ks.n; k++) {
		struct intern_str *s;

		ks.ident[k] = identifier(key_data(k), ks.len[k]);
		ks.is_int[k] = decimal_text(key_data(k), ks.len[k], &ks.ival[k]);
		if (!ks.is_int[k] || ks.kind[k] != KEY_DYNAMIC)
			continue;
		s = intern_int(tmp, ks.ival[k]);
		if (!s) {
			perror("intern-stress: intern_int");
			exit(2);
		}
		if (intern_str_state(s) == INTERN_IMMORTAL_STATIC) {
			ks.kind[k] = KEY_SINGLETON;
			ks.obj[k] = s;
			ks.imm_ok[k] = 1;
		} else {
			intern_str_decref(s);
		}
	}
	intern_interp_free(tmp);
}

/* ---- setup ------------------------------------------------------------------ */

static void shuffle(uint64_t *rng)
{
	for (uint32_t i = ks.n - 1; i > 0; i--) {
		uint32_t j = rng_below(rng, i + 1), t;

		t = ks.off[i], ks.off[i] = ks.off[j], ks.off[j] = t;
		t = ks.len[i], ks.len[i] = ks.len[j], ks.len[j] = t;
	}
}

int keys_init(void)
{
	struct intern_str *const st[NSTATIC] = { st0, st1, st2, st3, st4, st5, st6, st7 };
	uint64_t rng = cfg.seed ^ 0x6b657973ull;
	struct dedup d;
	int err;

	for (unsigned i = 0; i < NSTATIC; i++)
		static_obj[i] = st[i];
	dedup_init(&d, cfg.tokens ? 65536 : cfg.keys);
	if (cfg.tokens) {
		err = keys_tokens(&d);
	} else if (cfg.poison_keys) {
		err = keys_poison(&d);
	} else {
		if (cfg.keys >= 64) { /* the special keys, when there is room */
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
			dedup_init(&d, ks.n);
			for (uint32_t i = 0; i < ks.n; i++)
				dedup_put(&d, key_data(i), ks.len[i], i);
		}
	}
	if (err)
		return err;
	/* The statics are registered in every interp, so their bytes must be
	 * keys even when the file or the draw did not produce them; keys added
	 * here are not drawn in random mode (small sets stay all dynamic). */
	ks.ndraw = cfg.tokens ? ks.n + NSTATIC : ks.n;
	for (unsigned i = 0; i < NSTATIC; i++)
		key_add(&d, intern_str_data(st[i]), intern_str_len(st[i]));

	if (ks.ndraw > ks.n)
		ks.ndraw = ks.n;
	ks.kind = calloc(ks.n, 1);
	ks.imm_ok = calloc(ks.n, 1);
	ks.obj = calloc(ks.n, sizeof(*ks.obj));
	ks.ident = calloc(ks.n, 1);
	ks.is_int = calloc(ks.n, 1);
	ks.ival = calloc(ks.n, sizeof(*ks.ival));
	if (!ks.kind || !ks.imm_ok || !ks.obj || !ks.ident || !ks.is_int || !ks.ival) {
		perror("intern-stress");
		exit(2);
	}
	for (uint32_t k = 0; k < ks.n; k++) {
		/* Immortal-eligible by a hash of the bytes, not by rank, so the
		 * hottest Zipf keys are not all eligible or all not. */
		double u = (double)(fnv1a(key_data(k), ks.len[k]) >> 11) / (double)(1ull << 53);

		ks.imm_ok[k] = u < cfg.immortal_frac;
		if (ks.len[k] <= 1) {
			ks.kind[k] = KEY_SINGLETON;
			ks.obj[k] = ks.len[k] ? intern_latin1((unsigned char)key_data(k)[0])
					      : intern_empty();
			ks.imm_ok[k] = 1;
		}
	}
	for (unsigned i = 0; i < NSTATIC; i++) {
		uint32_t k = dedup_put(&d, intern_str_data(st[i]), intern_str_len(st[i]), UINT32_MAX);

		ks.kind[k] = KEY_STATIC;
		ks.obj[k] = st[i];
		ks.imm_ok[k] = 1;
	}
	free(d.slot);
	classify_ints();

	if (cfg.dist == DIST_ZIPF) {
		double sum = 0;

		ks.cdf = malloc(ks.ndraw * sizeof(*ks.cdf));
		if (!ks.cdf) {
			perror("intern-stress");
			exit(2);
		}
		for (uint32_t i = 0; i < ks.ndraw; i++) {
			sum += 1.0 / pow(i + 1.0, cfg.zipf_s);
			ks.cdf[i] = sum;
		}
		for (uint32_t i = 0; i < ks.ndraw; i++)
			ks.cdf[i] /= sum;
	}
	return 0;
}

void keys_fini(void)
{
	free(ks.off);
	free(ks.len);
	free(ks.bytes);
	free(ks.kind);
	free(ks.imm_ok);
	free(ks.obj);
	free(ks.ident);
	free(ks.is_int);
	free(ks.ival);
	free(ks.cdf);
	free(ks.stream);
	memset(&ks, 0, sizeof(ks));
}

uint32_t key_draw(uint64_t *rng, size_t *pos)
{
	switch (cfg.dist) {
	case DIST_ZIPF: {
		double u = (double)(rng_next(rng) >> 11) / (double)(1ull << 53);
		uint32_t lo = 0, hi = ks.ndraw - 1;

		while (lo < hi) { /* the first rank whose cdf reaches u */
			uint32_t mid = lo + (hi - lo) / 2;

			if (ks.cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo;
	}
	case DIST_STREAM:
		if (++*pos >= ks.nstream)
			*pos = 0;
		return ks.stream[*pos];
	case DIST_UNIFORM:
	default:
		return rng_below(rng, ks.ndraw);
	}
}
