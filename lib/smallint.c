/*
 * smallint.c: the small-integer strings, CPython's small-int cache for a
 * string library.  Servers turn the same numbers into strings all day
 * (status codes, ports, counters); the decimal strings of a range fixed at
 * build time (meson options small_int_min and small_int_max, default -5 to
 * 1024) are static singletons, like the one-byte strings of singletons.c.
 *
 * The table is generated at build time by gen-smallint.py (lib/meson.build)
 * into smallint-table.h: const objects with constant initializers and no
 * pointers, so they land in .rodata, born IMMORTAL_STATIC.  Nothing is
 * built, allocated, hashed or locked at run time.  The digits 0..9 are not
 * in it: a one-byte string is always the one-byte singleton.
 *
 * Every interning route asks intern__builtin() (intern-private.h) first,
 * which sends 2..INTERN__SMALL_INT_MAXLEN-byte strings that start with '-'
 * or a digit here; so "200" interned by any route is the object that
 * intern_int(interp, 200) returns, and no table ever holds such bytes.
 */
#include <errno.h>

#include "intern-private.h"

/* One entry: the header, then the longest text and its NUL. */
struct small_int {
	struct intern_str head;
	char data[INTERN__SMALL_INT_MAXLEN + 1];
};

/* clang-format off */
#define SMALLINT_HEAD(len) { 1u, (len), 0u, INTERN_IMMORTAL_STATIC, INTERN_STR_F_STATIC, 0u }
/* clang-format on */

/* smallint[]: [MIN, -1] then [10, MAX], in increasing order. */
#include "smallint-table.h"

_Static_assert(SMALLINT_COUNT == -(INTERN_SMALL_INT_MIN) + (INTERN_SMALL_INT_MAX - 9),
	       "smallint-table.h does not cover the range");

/* The static string for `v`, known to be in the range. */
static struct intern_str *smallint_at(long long v)
{
	if (v >= 0 && v <= 9)
		return intern_latin1((unsigned char)('0' + v));
	/* The cast drops const, as intern_latin1() does: the static flag keeps
	 * every libintern path from writing through it. */
	if (v < 0)
		return (struct intern_str *)&smallint[v - INTERN_SMALL_INT_MIN].head;
	return (struct intern_str *)&smallint[-(INTERN_SMALL_INT_MIN) + (v - 10)].head;
}

struct intern_str *intern__smallint_parse(const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	long long v = 0;
	bool neg = *p == '-';

	if (neg)
		p++;
	/* Canonical: a first digit of 1..9 ("0" itself is one byte, so never
	 * here), which also rules out "-0", "-", "007" and "--1". */
	if (p == end || *p < '1' || *p > '9')
		return NULL;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return NULL;
		v = v * 10 + (*p - '0'); /* at most 8 digits: no overflow */
	}
	if (neg)
		v = -v;
	if (v < INTERN_SMALL_INT_MIN || v > INTERN_SMALL_INT_MAX)
		return NULL;
	return smallint_at(v);
}

INTERN_API struct intern_str *intern_int(struct intern_interp *interp, long long value)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u;

	if (!intern__interp_ok(interp)) {
		errno = EINVAL;
		return NULL;
	}
	if (value >= INTERN_SMALL_INT_MIN && value <= INTERN_SMALL_INT_MAX)
		return smallint_at(value);
	/* In unsigned arithmetic, so that LLONG_MIN negates. */
	u = value < 0 ? 0ull - (unsigned long long)value : (unsigned long long)value;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (value < 0)
		*--p = '-';
	return intern_bytes(interp, p, (size_t)(buf + sizeof(buf) - p));
}
