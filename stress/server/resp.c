/*
 * resp.c: the RESP2 request parser (see resp.h).  Each branch below follows
 * redis-server 7.0's processMultibulkBuffer() and processInlineBuffer()
 * (networking.c), so clients see the same errors at the same bytes.
 */
#include "resp.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void resp_init(struct resp_req *r)
{
	memset(r, 0, sizeof(*r));
	r->bulk = -1;
}

void resp_reset(struct resp_req *r)
{
	r->argc = 0;
	r->pos = 0;
	r->want = 0;
	r->bulk = -1;
	r->err = NULL;
}

void resp_free(struct resp_req *r)
{
	free(r->argv);
	resp_init(r);
}

int resp_strtoll(const char *s, size_t len, long long *value)
{
	unsigned long long v = 0;
	size_t i = 0;
	int neg = 0;

	if (len == 0 || len > 20)
		return 0;
	if (len == 1 && s[0] == '0') {
		*value = 0;
		return 1;
	}
	if (s[0] == '-') {
		neg = 1;
		if (++i == len)
			return 0;
	}
	if (s[i] < '1' || s[i] > '9')
		return 0;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (v > (~0ull - 9) / 10)
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (neg) {
		if (v > (unsigned long long)LLONG_MAX + 1)
			return 0;
		*value = (long long)(0 - v);
	} else {
		if (v > LLONG_MAX)
			return 0;
		*value = (long long)v;
	}
	return 1;
}

static enum resp_status fail(struct resp_req *r, const char *msg)
{
	r->err = msg;
	return RESP_ERROR;
}

static int push_arg(struct resp_req *r, size_t off, size_t len)
{
	if (r->argc == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		struct resp_arg *v = realloc(r->argv, cap * sizeof(*v));
		if (!v)
			return -1;
		r->argv = v;
		r->cap = cap;
	}
	r->argv[r->argc].off = off;
	r->argv[r->argc].len = len;
	r->argc++;
	return 0;
}

/* ---------------------------------------------------------------------------
 * Inline requests: sdssplitargs() on one line, in place
 * ------------------------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* The byte at p, or 0 at the end of the line: sdssplitargs() reads a C
 * string, so an embedded NUL ends the line for it too. */
#define AT(p) ((p) < end ? *(p) : 0)

/* Split buf[0..end) into arguments; 0, or -1 on unbalanced quotes. */
static int split_inline(struct resp_req *r, char *buf, char *end)
{
	char *p = buf;

	for (;;) {
		while (AT(p) && isspace((unsigned char)*p))
			p++;
		if (!AT(p))
			return 0;
		char *start = p, *w = p;
		int inq = 0, insq = 0, done = 0;
		while (!done) {
			char c = AT(p);
			if (inq) {
				if (c == '\\' && AT(p + 1) == 'x' && hexval(AT(p + 2)) >= 0 &&
				    hexval(AT(p + 3)) >= 0) {
					*w++ = (char)(hexval(p[2]) * 16 + hexval(p[3]));
					p += 3;
				} else if (c == '\\' && AT(p + 1)) {
					static const char from[] = "nrtba", to[] = "\n\r\t\b\a";
					const char *e = strchr(from, *++p);
					*w++ = e ? to[e - from] : *p;
				} else if (c == '"') {
					if (AT(p + 1) && !isspace((unsigned char)p[1]))
						return -1;
					done = 1;
				} else if (!c) {
					return -1;
				} else {
					*w++ = c;
				}
			} else if (insq) {
				if (c == '\\' && AT(p + 1) == '\'') {
					p++;
					*w++ = '\'';
				} else if (c == '\'') {
					if (AT(p + 1) && !isspace((unsigned char)p[1]))
						return -1;
					done = 1;
				} else if (!c) {
					return -1;
				} else {
					*w++ = c;
				}
			} else if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || !c) {
				done = 1;
			} else if (c == '"') {
				inq = 1;
			} else if (c == '\'') {
				insq = 1;
			} else {
				*w++ = c;
			}
			if (AT(p))
				p++;
		}
		if (push_arg(r, (size_t)(start - buf), (size_t)(w - start)) < 0)
			return -2;
	}
}
#undef AT

static enum resp_status parse_inline(struct resp_req *r, char *buf, size_t len)
{
	char *nl = memchr(buf, '\n', len);

	if (!nl)
		return len > RESP_MAX_INLINE ? fail(r, "ERR Protocol error: too big inline request")
					     : RESP_MORE;
	char *end = nl;
	if (end > buf && end[-1] == '\r')
		end--;
	int rc = split_inline(r, buf, end);
	if (rc == -1)
		return fail(r, "ERR Protocol error: unbalanced quotes in request");
	if (rc == -2)
		return fail(r, "ERR out of memory");
	r->pos = (size_t)(nl + 1 - buf);
	return RESP_DONE;
}

/* ---------------------------------------------------------------------------
 * Multibulk requests
 * ------------------------------------------------------------------------- */

/* A "<prefix><number>\r" line at buf[pos]: 1 and *value, 0 for more bytes,
 * -1 too long, -2 not a number.  As redis-server, the byte after '\r' is
 * taken to be '\n' without looking. */
static int count_line(const char *buf, size_t len, size_t pos, long long *value, size_t *next)
{
	const char *p = buf + pos + 1, *end = buf + len;
	long long v = 0;

	/* The common case in one pass: a few digits, no leading zero. */
	if (p < end && *p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9' && p - (buf + pos) < 18)
			v = v * 10 + (*p++ - '0');
		if (p + 1 < end && *p == '\r') {
			*value = v;
			*next = (size_t)(p - buf) + 2;
			return 1;
		}
	}
	const char *cr = memchr(buf + pos, '\r', len - pos);
	if (!cr)
		return len - pos > RESP_MAX_INLINE ? -1 : 0;
	if ((size_t)(cr - buf) + 2 > len)
		return 0;
	if (!resp_strtoll(buf + pos + 1, (size_t)(cr - buf) - pos - 1, value))
		return -2;
	*next = (size_t)(cr - buf) + 2;
	return 1;
}

static enum resp_status parse_multibulk(struct resp_req *r, char *buf, size_t len)
{
	long long n;
	size_t next;
	int rc;

	if (r->want == 0) {
		rc = count_line(buf, len, 0, &n, &next);
		if (rc == 0)
			return RESP_MORE;
		if (rc == -1)
			return fail(r, "ERR Protocol error: too big mbulk count string");
		if (rc == -2 || n > RESP_MAX_ARGS)
			return fail(r, "ERR Protocol error: invalid multibulk length");
		r->pos = next;
		if (n <= 0)
			return RESP_DONE; /* "*0", "*-1": nothing to run */
		r->want = n;
	}
	while ((long long)r->argc < r->want) {
		if (r->bulk < 0) {
			if (r->pos >= len)
				return RESP_MORE;
			if (buf[r->pos] != '$') {
				snprintf(r->errbuf, sizeof(r->errbuf),
					 "ERR Protocol error: expected '$', got '%c'", buf[r->pos]);
				return fail(r, r->errbuf);
			}
			rc = count_line(buf, len, r->pos, &n, &next);
			if (rc == 0)
				return RESP_MORE;
			if (rc == -1)
				return fail(r, "ERR Protocol error: too big bulk count string");
			if (rc == -2 || n < 0 || n > RESP_MAX_BULK)
				return fail(r, "ERR Protocol error: invalid bulk length");
			r->pos = next;
			r->bulk = n;
		}
		if (len - r->pos < (size_t)r->bulk + 2)
			return RESP_MORE;
		if (push_arg(r, r->pos, (size_t)r->bulk) < 0)
			return fail(r, "ERR out of memory");
		r->pos += (size_t)r->bulk + 2;
		r->bulk = -1;
	}
	return RESP_DONE;
}

enum resp_status resp_parse(struct resp_req *r, char *buf, size_t len)
{
	if (r->want == 0 && r->argc == 0 && len == 0)
		return RESP_MORE;
	if (r->want > 0 || buf[0] == '*')
		return parse_multibulk(r, buf, len);
	return parse_inline(r, buf, len);
}
