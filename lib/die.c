/*
 * die.c: the one way libintern reports a broken invariant.  Never used for
 * bad input (that gets an error code); only for states the protocol rules
 * out, where going on would corrupt memory.
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
