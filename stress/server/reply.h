/*
 * reply.h: a connection's output buffer and the RESP2 reply writers.
 * Replies are appended here by the commands and written to the socket by
 * the event loop (net.c) without ever blocking.
 */
#ifndef INTERN_KV_REPLY_H
#define INTERN_KV_REPLY_H

#include <stdbool.h>
#include <stddef.h>

struct intern_str;

struct out {
	char *buf;
	size_t len;  /* bytes buffered */
	size_t sent; /* of which already written to the socket */
	size_t cap;
	bool oom;      /* an append failed: the connection must close */
	bool borrowed; /* buf is the worker's (out_lend), never freed here */
};

void out_free(struct out *o);
/* Write into the caller's buffer until it fills (then the out moves to a
 * buffer of its own); out_keep() afterwards takes back what was not sent,
 * copying it if there is any.  The buffer must outlive the borrowing. */
void out_lend(struct out *o, char *buf, size_t cap);
void out_keep(struct out *o);
/* Drop what was sent, keeping the unsent tail at the start. */
void out_compact(struct out *o);
static inline size_t out_pending(const struct out *o)
{
	return o->len - o->sent;
}

void out_raw(struct out *o, const char *data, size_t len);
void out_status(struct out *o, const char *text); /* +text */
void out_error(struct out *o, const char *text);  /* -text, text has its code */
/* -ERR ..., printf-style, '\r' and '\n' replaced by spaces as redis-server does. */
void out_errorf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_int(struct out *o, long long v);
void out_bulk(struct out *o, const char *data, size_t len);
void out_bulk_str(struct out *o, const struct intern_str *s);
void out_null(struct out *o);               /* $-1 */
void out_array(struct out *o, long long n); /* *n */
void out_ok(struct out *o);

/* The error texts shared by several commands, as redis-server's shared.*. */
#define ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define ERR_NOT_INT "ERR value is not an integer or out of range"
#define ERR_OVERFLOW "ERR increment or decrement would overflow"
#define ERR_SYNTAX "ERR syntax error"
#define ERR_OOM "ERR out of memory"

#endif
