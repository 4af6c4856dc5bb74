/*
 * tokens.c: the identifier scanner shared by intern-snapshot and the
 * benchmark (tokens.h says what it accepts).
 */
#include "tokens.h"

#include <string.h>

static bool ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool ident_char(unsigned char c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

bool tokens_scan(const unsigned char *p, size_t n, tokens_fn *fn, void *ctx)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];

		if (c == '/' && i + 1 < n && p[i + 1] == '*') {
			for (i += 2; i + 1 < n && !(p[i] == '*' && p[i + 1] == '/'); i++)
				;
			i += 2;
		} else if (c == '/' && i + 1 < n && p[i + 1] == '/') {
			while (i < n && p[i] != '\n')
				i++;
		} else if (c == '"' || c == '\'') {
			/* A literal ends at its quote or, in files that are not
			 * C, at the end of the line. */
			for (i++; i < n && p[i] != c && p[i] != '\n'; i++)
				if (p[i] == '\\')
					i++;
			i++;
		} else if (c >= '0' && c <= '9') {
			while (i < n && (ident_char(p[i]) || p[i] == '.'))
				i++;
		} else if (ident_start(c)) {
			size_t start = i;

			while (i < n && ident_char(p[i]))
				i++;
			if (!fn(ctx, (const char *)p + start, i - start))
				return false;
		} else {
			i++;
		}
	}
	return true;
}

bool tokens_is_text(const unsigned char *p, size_t n)
{
	return !memchr(p, '\0', n < 4096 ? n : 4096);
}
