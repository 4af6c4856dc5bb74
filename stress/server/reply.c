/*
 * reply.c: RESP2 reply writers over a growable output buffer.
 */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <intern.h>

void out_free(struct out *o)
{
	if (!o->borrowed)
		free(o->buf);
	memset(o, 0, sizeof(*o));
}

void out_lend(struct out *o, char *buf, size_t cap)
{
	o->buf = buf;
	o->cap = cap;
	o->len = o->sent = 0;
	o->borrowed = true;
}

void out_keep(struct out *o)
{
	size_t n = out_pending(o);

	if (!o->borrowed)
		return;
	char *own = n ? malloc(n) : NULL;
	if (own)
		memcpy(own, o->buf + o->sent, n);
	else if (n)
		o->oom = true;
	o->buf = own;
	o->cap = own ? n : 0;
	o->len = own ? n : 0;
	o->sent = 0;
	o->borrowed = false;
}

void out_compact(struct out *o)
{
	if (o->sent == 0)
		return;
	memmove(o->buf, o->buf + o->sent, o->len - o->sent);
	o->len -= o->sent;
	o->sent = 0;
}

/* Room for n more bytes: a pointer to write them at, or NULL (oom). */
static char *reserve(struct out *o, size_t n)
{
	if (o->oom)
		return NULL;
	if (o->cap - o->len < n) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap - o->len < n)
			cap *= 2;
		char *b = o->borrowed ? malloc(cap) : realloc(o->buf, cap);
		if (!b) {
			o->oom = true;
			return NULL;
		}
		if (o->borrowed)
			memcpy(b, o->buf, o->len);
		o->borrowed = false;
		o->buf = b;
		o->cap = cap;
	}
	return o->buf + o->len;
}

void out_raw(struct out *o, const char *data, size_t len)
{
	char *p = reserve(o, len);

	if (p) {
		memcpy(p, data, len);
		o->len += len;
	}
}

/* Decimal digits of v into the end of buf[24]; returns the first byte. */
static char *digits(char *end, long long v)
{
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;

	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--end = '-';
	return end;
}

/* "<prefix><v>\r\n" */
static void prefixed_number(struct out *o, char prefix, long long v)
{
	char buf[24];
	char *d = digits(buf + sizeof(buf), v);
	size_t n = (size_t)(buf + sizeof(buf) - d);
	char *p = reserve(o, n + 3);

	if (!p)
		return;
	p[0] = prefix;
	memcpy(p + 1, d, n);
	memcpy(p + 1 + n, "\r\n", 2);
	o->len += n + 3;
}

void out_int(struct out *o, long long v)
{
	prefixed_number(o, ':', v);
}

void out_array(struct out *o, long long n)
{
	prefixed_number(o, '*', n);
}

void out_bulk(struct out *o, const char *data, size_t len)
{
	prefixed_number(o, '$', (long long)len);
	char *p = reserve(o, len + 2);
	if (!p)
		return;
	memcpy(p, data, len);
	memcpy(p + len, "\r\n", 2);
	o->len += len + 2;
}

void out_bulk_str(struct out *o, const struct intern_str *s)
{
	out_bulk(o, intern_str_data(s), intern_str_len(s));
}

void out_null(struct out *o)
{
	out_raw(o, "$-1\r\n", 5);
}

void out_ok(struct out *o)
{
	out_raw(o, "+OK\r\n", 5);
}

static void line(struct out *o, char prefix, const char *text, size_t len)
{
	char *p = reserve(o, len + 3);

	if (!p)
		return;
	p[0] = prefix;
	memcpy(p + 1, text, len);
	for (size_t i = 1; i <= len; i++)
		if (p[i] == '\r' || p[i] == '\n')
			p[i] = ' ';
	memcpy(p + 1 + len, "\r\n", 2);
	o->len += len + 3;
}

void out_status(struct out *o, const char *text)
{
	line(o, '+', text, strlen(text));
}

void out_error(struct out *o, const char *text)
{
	line(o, '-', text, strlen(text));
}

void out_errorf(struct out *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	line(o, '-', buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
