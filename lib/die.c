/*
 * die.c: the one way libintern reports a broken invariant.  Never used for
 * bad input (that gets an error code); only for states the protocol rules
 * out, where going on would corrupt memory.  And intern__misuse(): a misuse
 * detected where no error can be returned (incref, decref), fatal in a
 * checking build, reported and survived in a release build.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "intern-private.h"

void intern__die(const char *fmt, ...)
{
	va_list ap;

	fputs("libintern: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void intern__misuse(const char *fmt, ...)
{
	va_list ap;
#ifndef NDEBUG
	va_start(ap, fmt);
	fputs("libintern: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
#else
	static unsigned reported;

	/* Report the first 16, so a misuse in a loop cannot flood stderr. */
	if (__atomic_fetch_add(&reported, 1, __ATOMIC_RELAXED) >= 16)
		return;
	va_start(ap, fmt);
	fputs("libintern: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (ignored)\n", stderr);
#endif
}
