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

#include <stddef.h>
#include <stdint.h>

/* 0 normally; 1 (constant) or 2 (4 bits) in a total-collision build,
 * meson -Dtest_hash=constant|4bit (lib/meson.build). */
#ifndef INTERN_TEST_HASH
#define INTERN_TEST_HASH 0
#endif

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
