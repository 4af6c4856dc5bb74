/*
 * hash.c: the table's two keyed hashes and the per-process key.
 *
 * The fast hash (fastmix) is what every lookup pays: a multiply-mix in the
 * style of wyhash and rapidhash, written from the idea, not from their
 * code, and inline in hash.h for the lookup.  SipHash-1-3 is the strong
 * hash a shard escalates to when it is flooded again after a reseed (table.c, "Flood
 * defence"; docs/hashing.md has the attack analysis).
 *
 * SipHash is written from the paper (Aumasson and Bernstein, 2012): four 64-bit
 * lanes, the message absorbed 8 little-endian bytes at a time with
 * `crounds` SipRounds per word, the last partial word padded with the
 * length in its top byte, then `drounds` rounds of finalization.  We run
 * 1 and 3 rounds (SipHash-1-3): CPython's and Rust's choice, about three
 * quarters of SipHash-2-4's instructions on identifier-sized strings
 * (docs/micro-benchmarks.md) with no known practical
 * attack on the keyed function.
 */
#include "hash.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "intern-private.h" /* intern__die */

/* The process key and its flag (hash.h: the inline hash reads them). */
uint64_t intern__process_key[2];
int intern__key_ready;

static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/* The last 0-7 bytes, little-endian, with the length in the top byte. */
static inline uint64_t load_tail(const unsigned char *p, size_t len)
{
	uint64_t m = (uint64_t)(len & 0xff) << 56;

	switch (len & 7) {
	case 7: m |= (uint64_t)p[6] << 48; /* fall through */
	case 6: m |= (uint64_t)p[5] << 40; /* fall through */
	case 5: m |= (uint64_t)p[4] << 32; /* fall through */
	case 4: m |= (uint64_t)p[3] << 24; /* fall through */
	case 3: m |= (uint64_t)p[2] << 16; /* fall through */
	case 2: m |= (uint64_t)p[1] << 8;  /* fall through */
	case 1: m |= (uint64_t)p[0];       /* fall through */
	case 0: break;
	}
	return m;
}

/* clang-format off */
#define SIPROUND(v0, v1, v2, v3)                                                 \
	do {                                                                     \
		v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32); \
		v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                       \
		v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                       \
		v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32); \
	} while (0)
/* clang-format on */

/* Always inlined so that the round counts are constants at each caller and
 * the round loops unroll: the hash runs on every lookup. */
static inline __attribute__((always_inline)) uint64_t
siphash(const uint64_t key[2], const unsigned char *p, size_t len, int crounds, int drounds)
{
	uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL;
	uint64_t v1 = key[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL;
	uint64_t v3 = key[1] ^ 0x7465646279746573ULL;
	const unsigned char *end = p + (len & ~(size_t)7);
	uint64_t m;

	for (; p != end; p += 8) {
		m = intern__load_le(p, 8);
		v3 ^= m;
		for (int r = 0; r < crounds; r++)
			SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	m = load_tail(p, len);
	v3 ^= m;
	for (int r = 0; r < crounds; r++)
		SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	for (int r = 0; r < drounds; r++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t intern__fastmix(const uint64_t key[2], const void *data, size_t len)
{
	return intern__fastmix_inline(key, data, len);
}

uint64_t intern__siphash(const uint64_t key[2], const void *data, size_t len, int crounds,
			 int drounds)
{
	if (crounds == 1 && drounds == 3)
		return siphash(key, data, len, 1, 3);
	if (crounds == 2 && drounds == 4)
		return siphash(key, data, len, 2, 4);
	return siphash(key, data, len, crounds, drounds);
}

/* The process key, made first if nothing asked for it yet. */
static inline const uint64_t *the_key(void)
{
	if (!intern__key_made())
		intern__hash_key_slow();
	return intern__process_key;
}

/* The first hash of the process: make the key, then hash.  Out of line and
 * reached by a tail call, so that intern__hash stays a leaf function (no
 * frame to set up on the hot path). */
static __attribute__((noinline, cold)) uint32_t hash_first(const void *data, size_t len)
{
	return intern__fold(intern__fastmix_inline(the_key(), data, len));
}

uint32_t intern__hash(const void *data, size_t len)
{
	if (!intern__key_made())
		return hash_first(data, len);
	return intern__fold(intern__fastmix_inline(intern__process_key, data, len));
}

uint32_t intern__hash_fast_keyed(const uint64_t key[2], const void *data, size_t len)
{
	return intern__fold(intern__fastmix_inline(key, data, len));
}

uint32_t intern__hash_sip_keyed(const uint64_t key[2], const void *data, size_t len)
{
	return intern__fold(siphash(key, data, len, 1, 3));
}

void intern__random_key(uint64_t key[2])
{
	static uint64_t counter;
	struct timespec ts;
	uint64_t in[3];

	if (getrandom(key, 2 * sizeof(uint64_t), GRND_NONBLOCK) == (ssize_t)(2 * sizeof(uint64_t)))
		return;
	/* No entropy this early (or no getrandom): a PRF of the process key
	 * over a counter and the clock, still unpredictable without the
	 * process key. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	in[0] = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	in[1] = (uint64_t)ts.tv_sec;
	in[2] = (uint64_t)ts.tv_nsec;
	key[0] = siphash(the_key(), (const unsigned char *)in, sizeof(in), 2, 4);
	in[0] ^= 0x9e3779b97f4a7c15ULL;
	key[1] = siphash(the_key(), (const unsigned char *)in, sizeof(in), 2, 4);
}

/*
 * The process key must hold before the first hash, whoever asks first: in
 * a static link the application's own constructors (and C++ static
 * initializers) may run before ours and intern.  So the key is made once,
 * on first use, under a pthread_once; intern__key_ready (an acquire load, a plain
 * load on x86-64) is the only cost the hash pays for it.  A constructor of
 * the highest priority an application may use (101) makes it early in
 * every ordinary process, so that check is always true by the time
 * anything runs on the hot path.
 *
 * The key comes from getrandom().  That can only fail this early on a
 * kernel without it or before the entropy pool is ready; then we mix the
 * clock, the pid and an ASLR-randomized address, which still differs per
 * process.  INTERN_HASH_SEED fixes the key for reproducible runs; it is
 * read with secure_getenv(), so a set-user-ID or set-group-ID program's
 * caller cannot choose it (and predict collisions).
 */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void make_process_key(void)
{
	const char *seed = secure_getenv("INTERN_HASH_SEED");
	struct timespec ts;

	if (seed && *seed) {
		unsigned long long s = strtoull(seed, NULL, 0);

		intern__process_key[0] = s;
		intern__process_key[1] = s ^ 0x9e3779b97f4a7c15ULL;
	} else if (getrandom(intern__process_key, sizeof(intern__process_key), GRND_NONBLOCK) !=
		   (ssize_t)sizeof(intern__process_key)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		intern__process_key[0] = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
					 ((uint64_t)getpid() << 16);
		intern__process_key[1] = (uint64_t)(uintptr_t)&intern__process_key ^
					 rotl64(intern__process_key[0], 29);
	}
	/* Release: a thread that sees intern__key_ready sees the key. */
	__atomic_store_n(&intern__key_ready, 1, __ATOMIC_RELEASE);
}

void intern__hash_key_slow(void)
{
	if (pthread_once(&key_once, make_process_key) != 0)
		intern__die("hash: cannot make the process key");
}

__attribute__((constructor(101))) static void init_process_key(void)
{
	intern__hash_key_slow();
}
