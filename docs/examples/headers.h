/* headers.h: the example's HTTP header names, known by pointer. */
#ifndef EXAMPLE_HEADERS_H
#define EXAMPLE_HEADERS_H

#include <intern.h>

enum header { HEADER_OTHER, HEADER_CONTENT_LENGTH, HEADER_CONTENT_TYPE, HEADER_HOST };

/* What a canonical header name (interned in an interpreter that has the
 * application's table) is: one pointer comparison per known name. */
enum header header_kind(const struct intern_str *name);

#endif
