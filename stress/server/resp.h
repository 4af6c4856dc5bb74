/*
 * resp.h: the RESP2 request parser of intern-kv.
 *
 * A pure function over a byte buffer: no sockets, no allocation besides the
 * argument vector, so that it can be fuzzed alone (fuzz-resp.c).  It
 * accepts what redis-server 7.0 accepts, with its error texts: multibulk
 * requests ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and inline ones ("GET k\n",
 * split as sdssplitargs() splits, with its quoting rules).  Arguments are
 * not copied: each is an offset and a length into the caller's buffer
 * (inline arguments with quotes are unescaped in place, which only ever
 * shortens them).
 */
#ifndef INTERN_KV_RESP_H
#define INTERN_KV_RESP_H

#include <stddef.h>

/* redis-server's proto-max-bulk-len, inline and count-line limit. */
#define RESP_MAX_BULK (512ll * 1024 * 1024)
#define RESP_MAX_INLINE (64 * 1024)
/* The most arguments one request may have (redis-server allows INT_MAX;
 * each argument costs 16 bytes of vector here before its bytes arrive). */
#define RESP_MAX_ARGS (1024 * 1024)

struct resp_arg {
	size_t off; /* from the start of the request */
	size_t len;
};

/* Parser state for one connection: resumable, so a request arriving in
 * pieces is scanned once. */
struct resp_req {
	struct resp_arg *argv;
	size_t argc;
	size_t cap;
	size_t pos;      /* bytes of the request consumed so far */
	long long want;  /* multibulk: arguments announced; 0: not started */
	long long bulk;  /* multibulk: length of the pending argument, -1 none */
	const char *err; /* on RESP_ERROR: the reply text, without "-" */
	char errbuf[64];
};

enum resp_status {
	RESP_ERROR = -1, /* protocol error: reply r->err and close */
	RESP_MORE = 0,   /* incomplete: call again with more bytes */
	RESP_DONE = 1,   /* a request: r->argc arguments, r->pos bytes */
};

void resp_init(struct resp_req *r);
/* Forget the request just parsed (keeps the vector). */
void resp_reset(struct resp_req *r);
void resp_free(struct resp_req *r);

/*
 * Parse the request that starts at buf[0]; `len` bytes are available.
 * Call it again, after more bytes arrived, with the same request start.
 * RESP_DONE with argc 0 is a request to ignore (an empty line, "*0").
 * buf is written only to unescape a quoted inline argument.
 */
enum resp_status resp_parse(struct resp_req *r, char *buf, size_t len);

/* redis-server's string2ll(): strict decimal, no '+', no leading zeros,
 * no spaces; 1 and *value on success, 0 otherwise. */
int resp_strtoll(const char *s, size_t len, long long *value);

#endif
