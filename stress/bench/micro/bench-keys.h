/*
 * bench-keys.h: the keys the bench-* tools look up: `n` identifier-like
 * strings of 3 to 26 bytes ("request_h_17"), each distinct, and a shuffled
 * visiting order, both from a fixed xorshift seed so every run and every
 * tool sees the same keys.
 */
#ifndef BENCH_KEYS_H
#define BENCH_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_KEY_SIZE 32

static inline void bench_make_keys(char (*buf)[BENCH_KEY_SIZE], size_t *len, unsigned *order,
				   unsigned n)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (unsigned k = 0; k < n; k++) {
		x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
		len[k] = (size_t)snprintf(buf[k], BENCH_KEY_SIZE, "%.*s_%u",
					  (int)(1 + (x >> 40) % 19), "request_header_value_field",
					  k);
		order[k] = k;
	}
	for (unsigned k = n - 1; k > 0; k--) {
		unsigned j, t;

		x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
		j = (unsigned)((x >> 33) % (k + 1));
		t = order[k], order[k] = order[j], order[j] = t;
	}
}

#endif
