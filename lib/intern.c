/*
 * intern.c: the interning operations of the public API: CPython's three
 * reference-stealing calls (intern_mortal, intern_immortal, intern_static),
 * sys.intern() on bytes, and lookup-only.
 *
 * Every route funnels into intern_content(): a lock-free lookup first (the
 * hit path: an RCU read-side section, a probe, at most one atomic increment
 * for a mortal result, no allocation), then find-or-insert under one shard
 * lock (table.c).  Strings with a built-in singleton (empty, one byte, a
 * small integer's decimal text: intern__builtin) never reach a table: every
 * route returns the singleton for them first.
 */
#include <errno.h>

#include "hash.h"
#include "intern-private.h"
#include "snapshot.h"
#include "table.h"

/* The part of intern_content() after a lookup missed: find-or-insert under
 * the shard lock.  Out of line, to keep the hit path small. */
static __attribute__((noinline)) int intern_slow(struct intern_interp *interp, const char *data,
						 size_t len, uint32_t hash, struct intern_str *cand,
						 int state, struct intern_str **out)
{
	struct intern_str *fresh = NULL;

	for (;;) {
		struct intern_str *use = cand;
		int rc;

		if (!use) {
			if (!fresh) {
				fresh = intern__str_alloc(data, len, hash);
				if (!fresh)
					return -ENOMEM;
				/* Born owned: claim() in table.c needs no CAS. */
				fresh->ob_owner = interp->id;
			}
			use = fresh;
		}
		rc = intern__table_intern(interp, hash, use, state, out);
		if (rc == 0) {
			if (fresh && *out != fresh)
				intern__str_destroy(fresh); /* never published */
			return 0;
		}
		if (rc == -EAGAIN && cand) {
			/* Another interpreter owns `cand` now: intern a copy. */
			cand = NULL;
			continue;
		}
		if (fresh)
			intern__str_destroy(fresh);
		return rc;
	}
}

/*
 * The canonical string for these bytes in `interp`, interned in `state` if
 * absent.  `cand`, if not NULL, is a string the caller holds that may become
 * canonical (NOT_INTERNED and dynamic, or static for IMMORTAL_STATIC); the
 * caller's reference to it is not consumed.  0 and in *out a new reference
 * (when it is `cand`, the caller's reference to `cand` is that reference),
 * or a negative errno.
 */
static inline __attribute__((always_inline)) int
intern_content(struct intern_interp *interp, const char *data, size_t len, uint32_t hash,
	       struct intern_str *cand, int state, struct intern_str **out)
{
	struct intern_str *r;

	if (state != INTERN_IMMORTAL_STATIC) {
		r = intern__table_lookup(interp, hash, data, len);
		if (__builtin_expect(r != NULL, 1)) {
			/* `cand` itself, published by another thread interning
			 * the same object: the caller's reference is the one it
			 * gets back, so drop the one the lookup took (the count
			 * is >= 2 here: the caller's and ours). */
			if (__builtin_expect(r == cand, 0))
				intern_str_decref(r);
			if (state == INTERN_IMMORTAL && !intern__is_static(r) &&
			    intern__state(r) == INTERN_MORTAL)
				intern__table_immortalize(interp, r);
			*out = r;
			return 0;
		}
	}
	return intern_slow(interp, data, len, hash, cand, state, out);
}

/*
 * Is `s` a string the caller may hand over: a sane header and, for a
 * counted string, a count that a held reference allows (not 0: the caller
 * holds none, the string is dying or freed)?  A filter for bad input; a
 * freed string whose memory was reused may still pass.
 */
static bool held_str(const struct intern_str *s)
{
	uint32_t c;

	if (!intern__str_sane(s))
		return false;
	if (intern__is_static(s) || intern__state(s) >= INTERN_IMMORTAL)
		return true;
	c = __atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED);
	return c != 0 && c != INTERN__POISON_REFCNT;
}

/* intern_mortal and intern_immortal: `state` is the one asked for. */
static int intern_ref(struct intern_interp *interp, struct intern_str **p, int state)
{
	struct intern_str *s, *r;
	uint8_t st;
	int rc;

	if (!intern__interp_ok(interp) || !p || !*p || !held_str(*p))
		return -EINVAL;
	s = *p;
	r = intern__fixed(interp, intern__data(s), s->ob_len);
	if (r) {
		*p = r;
		intern_str_decref(s); /* a no-op if s is r */
		return 0;
	}
	st = intern__state(s);
	if (intern__is_mapped(s)) {
		/* Another snapshot's string (this one's was found above): its
		 * mapping may go before `interp`, so never file it; intern its
		 * bytes.  Its ob_hash is its ID, not a hash. */
		rc = intern_content(interp, intern__data(s), s->ob_len,
				    intern__hash(intern__data(s), s->ob_len), NULL, state, p);
		return rc < 0 ? rc : 0; /* the stolen reference: nothing to drop */
	}
	if (intern__is_static(s)) {
		/* Statics are born IMMORTAL_STATIC: file it (as intern_static). */
		if (st != INTERN_IMMORTAL_STATIC)
			return -EINVAL;
		/* *p becomes s or this interpreter's own canonical string. */
		return intern_content(interp, intern__data(s), s->ob_len,
				      intern__entry_hash(s), s,
				      INTERN_IMMORTAL_STATIC, p);
	}
	if (st != INTERN_NOT_INTERNED &&
	    __atomic_load_n(&s->ob_owner, __ATOMIC_RELAXED) == interp->id) {
		/* Already canonical here; only MORTAL -> IMMORTAL remains. */
		if (state == INTERN_IMMORTAL && st == INTERN_MORTAL)
			intern__table_immortalize(interp, s);
		return 0;
	}
	/* Not interned (s may become canonical), or interned elsewhere (this
	 * interpreter needs its own canonical string). */
	rc = intern_content(interp, intern__data(s), s->ob_len, s->ob_hash,
			    st == INTERN_NOT_INTERNED ? s : NULL, state, &r);
	if (rc < 0)
		return rc;
	if (r != s)
		intern_str_decref(s); /* the stolen reference */
	*p = r;
	return 0;
}

INTERN_API int intern_mortal(struct intern_interp *interp, struct intern_str **p)
{
	return intern_ref(interp, p, INTERN_MORTAL);
}

INTERN_API int intern_immortal(struct intern_interp *interp, struct intern_str **p)
{
	return intern_ref(interp, p, INTERN_IMMORTAL);
}

INTERN_API int intern_static(struct intern_interp *interp, struct intern_str **p)
{
	struct intern_str *s, *r;

	if (!intern__interp_ok(interp) || !p || !*p || !held_str(*p))
		return -EINVAL;
	s = *p;
	/* CPython: InternStatic on a dynamic string.  A static object is
	 * born IMMORTAL_STATIC and never changes state. */
	if (!intern__is_static(s) || intern__state(s) != INTERN_IMMORTAL_STATIC)
		return -EINVAL;
	r = intern__builtin(intern__data(s), s->ob_len);
	if (r) {
		*p = r; /* `s` is not filed, unused */
		return 0;
	}
	/* Another snapshot's string lives only as long as its mapping. */
	if (intern__is_mapped(s) && !(interp->snap && intern__snap_holds(interp->snap, s)))
		return -EINVAL;
	return intern__file_static(interp, s);
}

/* intern_static()'s filing step, shared with intern_interp_add_statics()
 * (statics.c): `s` is static and IMMORTAL_STATIC, without the bytes of a
 * built-in singleton.  `s` is only read (claim() in table.c). */
int intern__file_static(struct intern_interp *interp, struct intern_str *s)
{
	struct intern_str *r;
	int rc;

	/* The snapshot's object is canonical for its bytes: references to it
	 * may be held in every process that maps the file. */
	if (interp->snap && (r = intern__snap_find(interp->snap, intern__data(s), s->ob_len)))
		return r == s ? 0 : -EEXIST;
	rc = intern_content(interp, intern__data(s), s->ob_len, intern__entry_hash(s), s,
			    INTERN_IMMORTAL_STATIC, &r);
	if (rc < 0)
		return rc;
	if (r != s) {
		intern_str_decref(r);
		return -EEXIST;
	}
	return 0;
}

int intern__insert_bytes(struct intern_interp *interp, const char *data, size_t len,
			 uint32_t hash, struct intern_str **out)
{
	return intern_slow(interp, data, len, hash, NULL, INTERN_MORTAL, out);
}

INTERN_API struct intern_str *intern_bytes(struct intern_interp *interp, const char *data,
					   size_t len)
{
	int rc = intern__interp_ok(interp) ? intern__check_bytes(data, len) : -EINVAL;
	struct intern_str *r, *out;

	if (__builtin_expect(rc < 0, 0)) {
		errno = -rc;
		return NULL;
	}
	r = intern__fixed(interp, data, len);
	if (r)
		return r;
	rc = intern_content(interp, data, len, intern__hash_inline(data, len), NULL,
			    INTERN_MORTAL, &out);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	return out;
}

INTERN_API struct intern_str *intern_lookup(struct intern_interp *interp, const char *data,
					    size_t len)
{
	int rc = intern__interp_ok(interp) ? intern__check_bytes(data, len) : -EINVAL;
	struct intern_str *r;

	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	r = intern__fixed(interp, data, len);
	if (r)
		return r;
	r = intern__table_lookup(interp, intern__hash_inline(data, len), data, len);
	if (!r)
		errno = ENOENT;
	return r;
}
