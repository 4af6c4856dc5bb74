/*
 * tokens.h: identifiers cut from source text, C-style, for the programs
 * that feed libintern a token stream (intern-snapshot --tokens, the
 * benchmark's tokens workload).
 *
 * An identifier is [A-Za-z_][A-Za-z0-9_]*; comments (block and line),
 * string and character literals and numbers are skipped.  A literal ends at
 * its closing quote or, in text that is not C (Python, shell), at the end of
 * the line.  The scan is byte-wise and needs no NUL terminator.
 */
#ifndef INTERN_TOOLS_TOKENS_H
#define INTERN_TOOLS_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

/* Called for each identifier, s[0..len) inside the scanned text (not
 * NUL-terminated); returns false to stop the scan. */
typedef bool tokens_fn(void *ctx, const char *s, size_t len);

/* Scan p[0..n) and call fn for every identifier in order.  Returns false if
 * fn stopped the scan, true if it reached the end. */
bool tokens_scan(const unsigned char *p, size_t n, tokens_fn *fn, void *ctx);

/* Whether the first `n` bytes of a file look like text (no NUL in its first
 * 4 KiB): binary files are not tokenized. */
bool tokens_is_text(const unsigned char *p, size_t n);

#endif
