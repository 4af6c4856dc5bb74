/*
 * bench-hash: the keyed hashes considered for the table
 * (docs/micro-benchmarks.md), on real short identifiers.
 *
 *     build/stress/bench/micro/bench-hash FILE...      (default: include/intern.h)
 *
 * Reads the files, takes every C identifier token ([A-Za-z_][A-Za-z0-9_]*)
 * in order (repeats included, as a parser meets them), and hashes the whole
 * stream with each candidate under a random key (the library's own under
 * its process key): the best of 11 runs, in
 * ns per token, and a checksum so nothing is optimized away.  For
 * instructions, run under callgrind with --toggle-collect=run_<name>.
 *
 * Candidates:
 *   fastmix     the library's process hash (lib/hash.c): its keyed
 *               multiply-mix, 32-bit fold, as intern__hash runs it
 *   xxh3        XXH3-64 from the system's libxxhash, unseeded, 32-bit
 *               fold: what the benchmark's baselines use (bench.h)
 *   siphash13   SipHash-1-3, 32-bit fold: the library's strong hash, a
 *               flooded shard's level 2 (lib/table.c)
 *   siphash24   SipHash-2-4: the conservative original
 *   halfsip13   HalfSipHash-1-3: 32-bit lanes, 64-bit key
 *   wymix       a wyhash-style keyed multiply-mix (128-bit multiply of the
 *               input words xor-ed with the key, folded): fast, but its
 *               security rests on the key; wyhash has known
 *               weak-seed issues (a product is 0 whenever an input word
 *               equals its key word, whatever the rest)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include <xxhash.h>

#include "hash.h"
#include "bench-args.h"

static uint64_t key[2];

static inline uint32_t rotl32(uint32_t x, int b)
{
	return (x << b) | (x >> (32 - b));
}

#define HROUND(v0, v1, v2, v3)       \
	do {                         \
		v0 += v1;            \
		v1 = rotl32(v1, 5);  \
		v1 ^= v0;            \
		v0 = rotl32(v0, 16); \
		v2 += v3;            \
		v3 = rotl32(v3, 8);  \
		v3 ^= v2;            \
		v0 += v3;            \
		v3 = rotl32(v3, 7);  \
		v3 ^= v0;            \
		v2 += v1;            \
		v1 = rotl32(v1, 13); \
		v1 ^= v2;            \
		v2 = rotl32(v2, 16); \
	} while (0)

/* HalfSipHash-1-3 (Aumasson's reference construction, 32-bit output). */
static uint32_t halfsip13(const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + (len & ~(size_t)3);
	uint32_t k0 = (uint32_t)key[0], k1 = (uint32_t)(key[0] >> 32);
	uint32_t v0 = k0, v1 = k1, v2 = 0x6c796765u ^ k0, v3 = 0x74656462u ^ k1;
	uint32_t m, b = (uint32_t)len << 24;

	for (; p != end; p += 4) {
		memcpy(&m, p, 4);
		v3 ^= m;
		HROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	switch (len & 3) {
	case 3: b |= (uint32_t)p[2] << 16; /* fall through */
	case 2: b |= (uint32_t)p[1] << 8;  /* fall through */
	case 1: b |= (uint32_t)p[0];       /* fall through */
	case 0: break;
	}
	v3 ^= b;
	HROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	HROUND(v0, v1, v2, v3);
	HROUND(v0, v1, v2, v3);
	HROUND(v0, v1, v2, v3);
	return v1 ^ v3;
}

static inline uint64_t mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* A wyhash-style mix: 16 bytes per multiply, the key xor-ed in. */
static uint32_t wymix(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t s = key[0] ^ mum(key[1] ^ 0xa0761d6478bd642fULL, len ^ 0xe7037ed1a0b428dbULL);
	uint64_t a = 0, b = 0, h;

	while (len > 16) {
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		s = mum(a ^ key[1], b ^ s);
		p += 16;
		len -= 16;
	}
	a = b = 0;
	if (len >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, p + len - 8, 8);
	} else if (len >= 4) {
		uint32_t x, y;

		memcpy(&x, p, 4);
		memcpy(&y, p + len - 4, 4);
		a = x;
		b = y;
	} else if (len) {
		a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
	}
	h = mum(a ^ key[1] ^ 0x8ebc6af09c88c6e3ULL, b ^ s);
	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t fastmix(const void *data, size_t len)
{
	return intern__hash(data, len);
}

static uint32_t xxh3(const void *data, size_t len)
{
	uint64_t h = XXH3_64bits(data, len);

	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t siphash13(const void *data, size_t len)
{
	uint64_t h = intern__siphash(key, data, len, 1, 3);

	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t siphash24(const void *data, size_t len)
{
	uint64_t h = intern__siphash(key, data, len, 2, 4);

	return (uint32_t)(h ^ (h >> 32));
}

/* The token stream: offsets into one buffer. */
static char *text;
static uint32_t *off, *tlen;
static size_t ntok;

static int ident_start(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int ident_char(int c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

static void load(const char *path, size_t *cap_text, size_t *used, size_t *cap_tok)
{
	FILE *f = fopen(path, "rb");
	size_t start = *used, first = *used;

	if (!f) {
		perror(path);
		exit(2);
	}
	for (;;) {
		size_t n;

		if (*used + 65536 > *cap_text) {
			*cap_text = (*cap_text + 65536) * 2;
			text = realloc(text, *cap_text);
			if (!text)
				exit(2);
		}
		n = fread(text + *used, 1, 65536, f);
		if (!n)
			break;
		*used += n;
	}
	fclose(f);
	for (size_t i = first; i < *used; i++) {
		if (ntok == *cap_tok) {
			*cap_tok = *cap_tok ? *cap_tok * 2 : 4096;
			off = realloc(off, *cap_tok * sizeof(*off));
			tlen = realloc(tlen, *cap_tok * sizeof(*tlen));
			if (!off || !tlen)
				exit(2);
		}
		if (ident_start((unsigned char)text[i]) &&
		    (i == first || !ident_char((unsigned char)text[i - 1])) && i >= start) {
			size_t j = i;

			while (j < *used && ident_char((unsigned char)text[j]))
				j++;
			off[ntok] = (uint32_t)i;
			tlen[ntok] = (uint32_t)(j - i);
			ntok++;
			start = j;
			i = j - 1;
		}
	}
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

#define RUNNER(name)                                         \
	__attribute__((noinline)) uint32_t run_##name(void); \
	__attribute__((noinline)) uint32_t run_##name(void)  \
	{                                                    \
		uint32_t sum = 0;                            \
		for (size_t i = 0; i < ntok; i++)            \
			sum += name(text + off[i], tlen[i]); \
		return sum;                                  \
	}
RUNNER(fastmix)
RUNNER(xxh3)
RUNNER(siphash13)
RUNNER(siphash24)
RUNNER(halfsip13)
RUNNER(wymix)

static void bench(const char *name, uint32_t (*run)(void))
{
	double best = 1e300;
	uint32_t sum = 0;

	for (int r = 0; r < 11; r++) {
		double t0 = now_ns();

		sum = run();
		t0 = now_ns() - t0;
		if (t0 < best)
			best = t0;
	}
	printf("%-10s %6.2f ns/token  (sum %08x)\n", name, best / (double)ntok, sum);
}

int main(int argc, char **argv)
{
	size_t cap_text = 0, used = 0, cap_tok = 0, bytes = 0;
	const char *def[] = { "include/intern.h" };

	for (int i = 1; i < argc; i++)
		bench_args_option("bench-hash [FILE...]   (default include/intern.h)", argv[i]);
	if (argc > 1)
		for (int i = 1; i < argc; i++)
			load(argv[i], &cap_text, &used, &cap_tok);
	else
		load(def[0], &cap_text, &used, &cap_tok);
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		key[0] = 1, key[1] = 2;
	for (size_t i = 0; i < ntok; i++)
		bytes += tlen[i];
	printf("%zu identifier tokens, mean length %.1f bytes\n", ntok,
	       ntok ? (double)bytes / (double)ntok : 0.0);
	bench("fastmix", run_fastmix);
	bench("xxh3", run_xxh3);
	bench("siphash13", run_siphash13);
	bench("siphash24", run_siphash24);
	bench("halfsip13", run_halfsip13);
	bench("wymix", run_wymix);
	return 0;
}
