/*
 * singletons.c: the built-in static strings, the 256 one-byte strings and the
 * empty string (CPython's _Py_LATIN1_CHR and its empty-string singleton).
 *
 * They are const objects with constant initializers and no pointers, so the
 * compiler puts them in .rodata: a stray write faults.  They are born
 * IMMORTAL_STATIC and shared by every thread and interpreter with no
 * synchronization; no table holds them, because every interning route
 * checks the length first and returns them directly.
 */
#include "intern-private.h"

struct one_byte {
	struct intern_str head;
	char data[2];
};

struct empty {
	struct intern_str head;
	char data[1];
};

/* clang-format off */
#define HEAD(len) { 1u, (len), 0u, INTERN_IMMORTAL_STATIC, INTERN_STR_F_STATIC, 0u }
#define S1(c) { HEAD(1u), { (char)(c), '\0' } }
/* clang-format on */
#define S4(c) S1(c), S1((c) + 1), S1((c) + 2), S1((c) + 3)
#define S16(c) S4(c), S4((c) + 4), S4((c) + 8), S4((c) + 12)
#define S64(c) S16(c), S16((c) + 16), S16((c) + 32), S16((c) + 48)

static const struct one_byte latin1[256] = { S64(0), S64(64), S64(128), S64(192) };
static const struct empty empty = { HEAD(0u), { '\0' } };

INTERN_API struct intern_str *intern_latin1(unsigned char c)
{
	/* The cast drops const: callers get the type every API takes, and the
	 * static flag keeps every libintern path from writing through it. */
	return (struct intern_str *)&latin1[c].head;
}

INTERN_API struct intern_str *intern_empty(void)
{
	return (struct intern_str *)&empty.head;
}

struct intern_str *intern__singleton(const char *data, size_t len)
{
	return len == 0 ? intern_empty() : intern_latin1((unsigned char)data[0]);
}
