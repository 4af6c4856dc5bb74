/*
 * hash.h: the keyed string hashes every table in libintern uses.
 *
 * Two keyed hashes, both folded to 32 bits: a fast multiply-mix (a few ns
 * on an identifier) for the common case, and SipHash-1-3 (as CPython and
 * Rust ship it) for a shard that is flooded again after a reseed
 * (table.c, "Flood defence"; docs/hashing.md).  The process hash is the
 * fast one under a 128-bit key chosen per process from the OS's random
 * source, so an attacker who controls the strings cannot predict
 * collisions.  The key is made on first use (or by
 * a constructor, whichever comes first: hash.c), so a hash is right from
 * the first instruction of any constructor.  INTERN_HASH_SEED in the
 * environment (read once, with secure_getenv) fixes the key for
 * reproducible runs.
 */
#ifndef INTERN_HASH_H
#define INTERN_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 0 normally; 1 (constant) or 2 (4 bits) in a total-collision build,
 * meson -Dtest_hash=constant|4bit (lib/meson.build). */
#ifndef INTERN_TEST_HASH
#define INTERN_TEST_HASH 0
#endif

/* ------------------------------------------------------------------------
 * The fast hash, inline: every lookup pays it, and a call boundary costs
 * the hit path what the hash's first multiply does (hash.c has the rest).
 * ---------------------------------------------------------------------- */

/* The process key and whether it is made (hash.c). */
extern uint64_t intern__process_key[2];
extern int intern__key_ready;

/* The n (4 or 8) bytes at p as a little-endian number.  memcpy, not a
 * cast: the bytes need not be aligned; with n a constant it is one load. */
static inline uint64_t intern__load_le(const unsigned char *p, size_t n)
{
	uint64_t w = 0;

	memcpy(&w, p, n);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w) >> (64 - 8 * n);
#endif
	return w;
}

/*
 * The fast keyed hash.
 *
 * The core is mum(x, y): the 128-bit product of two 64-bit words, its
 * two halves xor-ed.  Every output bit depends on every input bit of both
 * factors, one multiply (3-4 cycles) on x86-64 and AArch64.  The key
 * enters every factor that holds message bytes (a word xor-ed with a key
 * word), so without the key an attacker cannot choose what is multiplied.
 *
 *  - 0..16 bytes, the identifiers that dominate (one or two loads, no
 *    loop): two words a, b that together hold every byte: 8..16 bytes the
 *    first and the last 8 (overlapping), 4..7 the first and the last 4,
 *    1..3 the first, middle and last byte.  For a given length these are
 *    one-to-one, and the length itself enters the last mix, so strings of
 *    different lengths with equal words still differ.
 *  - Longer: 16 bytes per multiply into a running state, then the last
 *    16 bytes (overlapping) as for a short string.
 *  - Two mixes at the end: mum(a ^ k1, b ^ s) absorbs the words, and a
 *    second mum spreads the result over all 64 bits, which fold() then
 *    reduces to the table's 32.
 *
 * What it does not resist: anyone who knows the key (a factor equal to 0
 * wipes everything absorbed so far, and collisions are then found at
 * will), and, as for every hash of its family, a patient attacker who
 * learns bucket collisions from timings.  The table's answer to both is
 * escalation to SipHash under a fresh key.
 */
#define INTERN__FM_P0 0x2d358dccaa6c78a5ULL /* odd constants with balanced bits */
#define INTERN__FM_P1 0x8bb84b93962eacc9ULL
#define INTERN__FM_P2 0x4b33a62ed433d4a3ULL
#define INTERN__FM_P3 0xa0761d6478bd642fULL

static inline uint64_t intern__mum(uint64_t x, uint64_t y)
{
	__uint128_t r = (__uint128_t)x * y;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline __attribute__((always_inline)) uint64_t
intern__fastmix_inline(const uint64_t key[2], const void *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	uint64_t s = key[0] ^ INTERN__FM_P0, a, b;

	if (__builtin_expect(len <= 16, 1)) {
		if (len >= 8) {
			a = intern__load_le(p, 8);
			b = intern__load_le(p + len - 8, 8);
		} else if (len >= 4) {
			a = intern__load_le(p, 4);
			b = intern__load_le(p + len - 4, 4);
		} else if (len) {
			a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		size_t left = len;

		do {
			s = intern__mum(intern__load_le(p, 8) ^ key[1] ^ INTERN__FM_P1,
					intern__load_le(p + 8, 8) ^ s);
			p += 16;
			left -= 16;
		} while (left > 16);
		a = intern__load_le(p + left - 16, 8);
		b = intern__load_le(p + left - 8, 8);
	}
	s = intern__mum(a ^ key[1] ^ INTERN__FM_P2, b ^ s);
	return intern__mum(s ^ (uint64_t)len ^ INTERN__FM_P3, key[0] ^ key[1] ^ INTERN__FM_P1);
}

/* Fold a 64-bit hash to the table's 32.  A total-collision build
 * (meson -Dtest_hash=constant|4bit) throws the bits away here, so that every
 * table hash, whatever its key, is one value or one of 16. */
static inline uint32_t intern__fold(uint64_t h)
{
	uint32_t x = (uint32_t)(h ^ (h >> 32));

#if INTERN_TEST_HASH == 1
	(void)x;
	return 0x5a5a5a5au;
#elif INTERN_TEST_HASH == 2
	/* 16 values, spread so that they still differ in the shard (top
	 * bits), the bucket (low bits) and the tag. */
	return (x & 0xfu) * 0x11111111u;
#else
	return x;
#endif
}

/* Is the process key made?  Acquire: pairs with make_process_key. */
static inline bool intern__key_made(void)
{
	return __builtin_expect(__atomic_load_n(&intern__key_ready, __ATOMIC_ACQUIRE) != 0, 1);
}

/* ------------------------------------------------------------------------
 * Out of line
 * ---------------------------------------------------------------------- */

/* SipHash-c-d of `len` bytes under `key`; `crounds`/`drounds` are the
 * compression and finalization round counts (1 and 3 for SipHash-1-3). */
uint64_t intern__siphash(const uint64_t key[2], const void *data, size_t len, int crounds,
			 int drounds);

/* The fast keyed multiply-mix of `len` bytes under `key`, 64 bits. */
uint64_t intern__fastmix(const uint64_t key[2], const void *data, size_t len);

/* The process-wide keyed hash of a string's bytes (the fast mix under the
 * process key, folded to 32 bits): every string's ob_hash, and the bucket
 * hash of a shard at level 0.  Thread-safe: the key is written once,
 * before its first use. */
uint32_t intern__hash(const void *data, size_t len);

/* intern__hash(), inline: the same value.  Thread-safe. */
static inline uint32_t intern__hash_inline(const void *data, size_t len)
{
	if (!intern__key_made())
		return intern__hash(data, len); /* makes the key first */
	return intern__fold(intern__fastmix_inline(intern__process_key, data, len));
}

/* Make the process key if nobody has yet (hash.c).  Thread-safe, once. */
void intern__hash_key_slow(void);

/* The same fast hash (folded to 32 bits, degraded as intern__hash in a
 * total-collision build) under another key: a shard's slot array after
 * its first reseed, level 1 (table.c, "Flood defence"). */
uint32_t intern__hash_fast_keyed(const uint64_t key[2], const void *data, size_t len);

/* SipHash-1-3 under `key`, folded (and degraded) the same way: a shard's
 * slot array once flooded again after a reseed, level 2. */
uint32_t intern__hash_sip_keyed(const uint64_t key[2], const void *data, size_t len);

/* A fresh 128-bit key from the OS (getrandom), independent of the process
 * key; without entropy, a PRF of the process key, a counter and the
 * clock.  Thread-safe. */
void intern__random_key(uint64_t key[2]);

#endif
