/*
 * statics.c: application singletons, the tables that the generator
 * intern-gen-ids (lib/intern-gen-ids.py) emits from an application's
 * INTERN_ID / INTERN_STR uses (CPython's _Py_ID / _Py_STR).
 *
 * A generated object is const data, born IMMORTAL_STATIC with
 * INTERN_STR_F_STATIC, so the compiler puts it in read-only memory.  Giving
 * a table to an interpreter files each object in the interpreter's own
 * sharded table, exactly as intern_static() files an INTERN_STATIC_DEFINE
 * object: one more entry, found by the same lock-free probe.  So a lookup of
 * a dynamic string pays nothing for the static layer (no second table to
 * consult first; docs/micro-benchmarks.md measures it), and a lookup that hits a
 * static object writes nothing.
 *
 * Nothing here writes to an object: it is born in state 3, and table.c's
 * claim() does not touch a static string (a failed CAS would still be a
 * write, and fault on read-only memory).
 */
#include <errno.h>

#include "intern-private.h"

/* Is `s` an object a table may list: static for the process (not inside a
 * mapped snapshot, whose mapping may go first), born IMMORTAL_STATIC,
 * NUL-terminated, and not the bytes of a built-in singleton (empty, one
 * byte, a small integer), which every route returns before any table is
 * probed (invariant I6), so a table entry with them could never be found. */
static bool valid_entry(const struct intern_str *s)
{
	return s && intern__is_static(s) && !intern__is_mapped(s) &&
	       intern__state(s) == INTERN_IMMORTAL_STATIC &&
	       s->ob_len <= INTERN_STR_MAX_LEN && intern__data(s)[s->ob_len] == '\0' &&
	       !intern__builtin(intern__data(s), s->ob_len);
}

INTERN_API int intern_interp_add_statics(struct intern_interp *interp,
					 const struct intern_static_table *table)
{
	int rc = 0;

	if (!intern__interp_ok(interp) || !table || table->version != INTERN_STATIC_TABLE_VERSION ||
	    (table->count && !table->strings))
		return -EINVAL;
	/* Validate everything first: a bad table files nothing. */
	for (uint32_t i = 0; i < table->count; i++)
		if (!valid_entry(table->strings[i]))
			return -EINVAL;
	for (uint32_t i = 0; i < table->count; i++) {
		/* The cast drops const: the object is only read (see above). */
		int err = intern__file_static(interp, (struct intern_str *)table->strings[i]);

		if (err == -EEXIST)
			rc = -EEXIST; /* skip it, file the rest */
		else if (err < 0)
			return err; /* -ENOMEM: what is filed stays filed */
	}
	return rc;
}
