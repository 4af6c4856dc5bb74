/*
 * auto.c: identifier auto-interning, an opt-in policy for parsers.
 *
 * CPython interns the string constants of its code objects that consist of
 * name characters only (all_name_chars() in Objects/codeobject.c): names
 * recur, literal text rarely does.  intern_auto() offers the same choice per
 * call: identifier-like bytes are interned, anything else becomes a plain
 * string.  The rule is the C and Python (ASCII) identifier grammar,
 * [A-Za-z_][A-Za-z0-9_]*, bounded by the interpreter's
 * auto_intern_max_len; it differs from all_name_chars() in refusing a
 * leading digit and the empty string, and in the bound.
 */
#include "intern-private.h"
#include "snapshot.h"

/* May byte `c` be part of an identifier, and start one? */
static inline bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static inline bool name_start(unsigned char c)
{
	return name_char(c) && !(c >= '0' && c <= '9');
}

static bool is_identifier(const char *data, size_t len, size_t max_len)
{
	const unsigned char *p = (const unsigned char *)data;

	if (len == 0 || len > max_len || !name_start(p[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!name_char(p[i]))
			return false;
	return true;
}

INTERN_API struct intern_str *intern_auto(struct intern_interp *interp, const char *data,
					  size_t len)
{
	struct intern_str *s;

	/* intern_bytes fails bad arguments as this call must (errno EINVAL
	 * or EOVERFLOW), and returns the built-in singleton of a one-letter
	 * name. */
	if (!intern__interp_ok(interp) || intern__check_bytes(data, len) < 0 ||
	    is_identifier(data, len, interp->config.auto_intern_max_len))
		return intern_bytes(interp, data, len);
	/* A string with a built-in singleton or in the snapshot is
	 * canonical for free. */
	s = intern__fixed(interp, data, len);
	return s ? s : intern_str_new(data, len);
}
