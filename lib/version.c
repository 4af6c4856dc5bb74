/*
 * version.c: the run-time version query.
 *
 * meson passes its project version as INTERN_BUILD_VERSION_*; the header's
 * INTERN_VERSION_* must agree, so a release that bumps one but not the other
 * fails to build instead of reporting a wrong version.
 */
#include "intern.h"

#define STR_(x) #x
#define STR(x) STR_(x)

_Static_assert(INTERN_VERSION_MAJOR == INTERN_BUILD_VERSION_MAJOR &&
		       INTERN_VERSION_MINOR == INTERN_BUILD_VERSION_MINOR &&
		       INTERN_VERSION_MICRO == INTERN_BUILD_VERSION_MICRO,
	       "include/intern.h's INTERN_VERSION_* differ from meson.build's project version");

const char *intern_version(void)
{
	return STR(INTERN_BUILD_VERSION_MAJOR) "." STR(INTERN_BUILD_VERSION_MINOR) "." STR(
		INTERN_BUILD_VERSION_MICRO);
}

unsigned long intern_version_number(void)
{
	return INTERN_VERSION_NUMBER;
}
