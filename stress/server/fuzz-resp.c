/*
 * fuzz-resp.c: libFuzzer target for the request parser (resp.c).
 *
 * The input is a byte stream a client might send.  It is parsed twice:
 * whole, and fed in pieces whose sizes come from the input itself, as a
 * socket delivers them.  Both must yield the same requests with the same
 * arguments, and every argument must lie inside the bytes consumed.  The
 * parser's own bugs (out-of-bounds reads, overflows) are for ASan/UBSan.
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false
 *   ninja -C build-fuzz stress/server/fuzz-resp
 *   FUZZ_TARGET=stress/server/fuzz-resp FUZZ_CORPUS=stress/server/fuzz-corpus \
 *       tests/fuzz/run-fuzz.sh build-fuzz 30
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A digest of the requests parsed from one stream. */
struct trace {
	uint64_t hash;
	size_t requests;
	size_t consumed;
	int error;
};

static void mix(struct trace *t, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ b[i]) * 0x100000001b3ull;
}

/* Parse buf[0..size), revealing it `step(i)` bytes at a time. */
static struct trace parse_stream(char *buf, size_t size, const uint8_t *steps, size_t nsteps)
{
	struct trace t = { 0xcbf29ce484222325ull, 0, 0, 0 };
	struct resp_req r;
	size_t start = 0, avail = 0, k = 0;

	resp_init(&r);
	while (start < size) {
		enum resp_status st = resp_parse(&r, buf + start, avail - start);
		if (st == RESP_ERROR) {
			t.error = 1;
			mix(&t, r.err, strlen(r.err));
			break;
		}
		if (st == RESP_MORE) {
			if (avail == size)
				break;
			size_t step = nsteps ? (size_t)steps[k++ % nsteps] + 1 : size;
			avail = avail + step < size ? avail + step : size;
			continue;
		}
		if (r.pos == 0 || r.pos > avail - start)
			abort(); /* must consume, and only what it was given */
		for (size_t i = 0; i < r.argc; i++) {
			if (r.argv[i].off > r.pos || r.argv[i].len > r.pos - r.argv[i].off)
				abort();
			mix(&t, &r.argv[i].len, sizeof(r.argv[i].len));
			mix(&t, buf + start + r.argv[i].off, r.argv[i].len);
		}
		t.requests++;
		start += r.pos;
		resp_reset(&r);
	}
	t.consumed = start;
	resp_free(&r);
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Inline arguments are unescaped in place: each run gets a fresh copy. */
	char *a = malloc(size + 1), *b = malloc(size + 1);

	if (!a || !b)
		abort();
	memcpy(a, data, size);
	memcpy(b, data, size);
	struct trace whole = parse_stream(a, size, NULL, 0);
	struct trace pieces = parse_stream(b, size, data, size < 64 ? size : 64);
	if (whole.hash != pieces.hash || whole.requests != pieces.requests ||
	    whole.consumed != pieces.consumed || whole.error != pieces.error) {
		fprintf(stderr, "fuzz-resp: whole and piecewise parses differ\n");
		abort();
	}
	free(a);
	free(b);
	return 0;
}
