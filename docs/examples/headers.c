/*
 * headers.c: a second source with uses, to show that the generator joins
 * the uses of every source into one table (the same name in two files is
 * one object).
 */
#include "app-ids.h"
#include "headers.h"

enum header header_kind(const struct intern_str *name)
{
	/* Canonical strings compare by pointer: no strcmp, no hashing. */
	if (name == INTERN_STR(content_length, "Content-Length"))
		return HEADER_CONTENT_LENGTH;
	if (name == INTERN_STR(content_type, "Content-Type"))
		return HEADER_CONTENT_TYPE;
	if (name == INTERN_STR(host, "Host"))
		return HEADER_HOST;
	return HEADER_OTHER;
}
