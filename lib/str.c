/*
 * str.c: the string object: creation, reference counting, accessors.
 *
 * A string is one allocation (slab.c): the 16-byte header of
 * include/intern.h, the bytes, a NUL.  Static strings (the built-in singletons, application
 * statics) carry INTERN_STR_F_STATIC and are never written by incref or
 * decref; neither are immortal ones, so a hot shared string never bounces a
 * cache line between cores.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "hash.h"
#include "intern-private.h"
#include "rcu.h" /* INTERN_TSAN */
#include "slab.h"

struct intern_str *intern__str_alloc(const char *data, size_t len, uint32_t hash)
{
	/* A dead string of this length that this thread freed (rcu.c). */
	struct intern_str *s = intern__str_reused(len);

	if (!s)
		s = intern__slab_alloc(sizeof(*s) + len + 1, hash);
	if (!s)
		return NULL;
	s->ob_refcnt = 1;
	s->ob_len = (uint32_t)len;
	s->ob_hash = hash;
	s->ob_state = INTERN_NOT_INTERNED;
	s->ob_flags = 0;
	s->ob_owner = 0;
	if (len)
		memcpy(s + 1, data, len);
	((char *)(s + 1))[len] = '\0';
	return s;
}

void intern__str_poison(struct intern_str *s)
{
	if (intern__is_static(s))
		intern__die("destroy: static string %p", (void *)s);
	/* Poison, so a reader that outlives the object sees a dead count and
	 * garbage bytes (the stress harness looks for both), and an incref or
	 * decref of a freed string sees an invalid state (in release builds
	 * too: two stores).  free() may overwrite the header's words with its
	 * own (glibc's tcache: a pointer, then a random key over the state),
	 * which intern__str_sane() rejects all the same, mostly. */
	__atomic_store_n(&s->ob_refcnt, INTERN__POISON_REFCNT, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ob_state, INTERN__POISON_STATE, __ATOMIC_RELAXED);
#ifndef NDEBUG
	memset(s + 1, INTERN__POISON_BYTE, (size_t)s->ob_len + 1);
#endif
}

void intern__str_destroy(struct intern_str *s)
{
	intern__str_poison(s);
	intern__str_free_mem(s, s->ob_len);
}

void intern__str_free_mem(struct intern_str *s, size_t len)
{
	intern__slab_free(s, sizeof(*s) + len + 1);
}

INTERN_API struct intern_str *intern_str_new(const char *data, size_t len)
{
	int rc = intern__check_bytes(data, len);
	struct intern_str *s;

	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	if (!data)
		data = ""; /* len is 0; pointer arithmetic on NULL is undefined */
	s = intern__str_alloc(data, len, intern__hash(data, len));
	if (!s)
		errno = ENOMEM;
	return s;
}

/*
 * Immortal and static strings are not counted: nothing to write.  Also true
 * for a header no live string has (a state above IMMORTAL_STATIC: freed,
 * or not a libintern string), so that incref and decref write nothing to
 * it; `op` reports it.
 */
static inline bool uncounted(const struct intern_str *s, const char *op)
{
	/* Acquire: an immortal string that teardown kept (table.c,
	 * sweep_immortal) pins its count before it turns NOT_INTERNED, and a
	 * holder that sees the new state must see the pinned count. */
	uint8_t st = __atomic_load_n(&s->ob_state, __ATOMIC_ACQUIRE);

	if (st >= INTERN_IMMORTAL || intern__is_static(s)) {
		if (__builtin_expect(st > INTERN_IMMORTAL_STATIC, 0))
			intern__misuse("%s of a freed or invalid string %p (state %u, flags %#x)",
				       op, (void *)s, st, s->ob_flags);
		return true;
	}
	return false;
}

/*
 * A count that no held reference allows: 0 (the caller holds none: the
 * string is dying, or freed and reused), the poison of a freed string, a
 * saturated count (see INTERN__REF_LIMIT), or flags set on a counted
 * string.  Out of line: never on a correct program's path.  The caller
 * then leaves the count alone.
 */
static __attribute__((noinline)) void bad_count(struct intern_str *s, uint32_t c, const char *op)
{
	/* Saturated: a count that went past INTERN__REF_LIMIT by a few racing
	 * increments, or one near INTERN__REF_SATURATED.  Any other count
	 * above the limit is garbage (a freed string whose header the
	 * allocator overwrote, say), and nothing is written to it. */
	if (!s->ob_flags && (c - INTERN__REF_LIMIT < (1u << 24) ||
			     c - (INTERN__REF_SATURATED - (1u << 24)) < (2u << 24))) {
		/* Pinned for good; keep it far from the wrap. */
		__atomic_store_n(&s->ob_refcnt, INTERN__REF_SATURATED, __ATOMIC_RELAXED);
		return;
	}
	if (c == 0)
		intern__misuse("%s of a string with no reference left %p (count 0)%s", op,
			       (void *)s, op[0] == 'd' ? ": decref past zero" : "");
	else
		intern__misuse("%s of a freed or invalid string %p (count %#x, flags %#x)", op,
			       (void *)s, c, s->ob_flags);
}

INTERN_API void intern_str_incref(struct intern_str *s)
{
	uint32_t old;

	if (!s || uncounted(s, "incref"))
		return;
	old = __atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED);
	for (;;) {
		/* Check before writing, so a detectably dead string is not
		 * written.  One compare for 0 and >= INTERN__REF_LIMIT - 1
		 * (unsigned wrap). */
		if (__builtin_expect(old - 1 >= INTERN__REF_LIMIT - 2 || s->ob_flags, 0)) {
			if (old == INTERN__REF_LIMIT - 1 && !s->ob_flags)
				old = INTERN__REF_LIMIT; /* this increment saturates */
			bad_count(s, old, "incref");
			return;
		}
		/* A CAS from the count we checked, not an add: an incref that
		 * races with the last decref (the caller held no reference)
		 * then fails and sees 0, instead of raising the count to 1
		 * for an instant, during which a lookup could revive the
		 * dying string (rule R1).  Relaxed: a correct caller already
		 * holds a reference, so the object is alive and nothing is
		 * published by this increment. */
		if (__atomic_compare_exchange_n(&s->ob_refcnt, &old, old + 1, true,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return;
	}
}

INTERN_API void intern_str_decref(struct intern_str *s)
{
	uint32_t old;

	if (!s || uncounted(s, "decref"))
		return;
	/* Check before writing: a count of 0, poison or saturation is never
	 * decremented (so a second decref of a dying string cannot wrap it). */
	old = __atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED);
	/* One compare for 0 and >= INTERN__REF_LIMIT (unsigned wrap). */
	if (__builtin_expect(old - 1 >= INTERN__REF_LIMIT - 1 || s->ob_flags, 0)) {
		bad_count(s, old, "decref");
		return;
	}
	/* (C) Release: our writes to the string (none) and our reads of it
	 * happen before whoever frees it. */
#ifdef INTERN_TSAN
	/* TSan does not model a standalone fence: give the decrement the
	 * acquire too, so ordering (C) is visible to it. */
	old = __atomic_fetch_sub(&s->ob_refcnt, 1, __ATOMIC_ACQ_REL);
#else
	old = __atomic_fetch_sub(&s->ob_refcnt, 1, __ATOMIC_RELEASE);
#endif
	if (old != 1) {
		if (__builtin_expect(old == 0, 0)) {
			/* Two decrefs raced for the last reference: a caller
			 * dropped one it did not hold.  Undo ours; the count is
			 * 1 for an instant, so this misuse can still let a
			 * concurrent lookup revive the dying string, which
			 * correct programs never risk (rule R1). */
			__atomic_fetch_add(&s->ob_refcnt, 1, __ATOMIC_RELAXED);
			bad_count(s, 0, "decref");
		}
		return;
	}
	/* We took the count to 0: the killer of table.c's rule R2.  Acquire
	 * pairs with every holder's release decrement. */
#ifndef INTERN_TSAN
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
#endif
	switch (intern__state(s)) {
	case INTERN_NOT_INTERNED:
		/* Never published, or its interpreter was freed and the sweep
		 * is done with it: nobody else can reach it. */
		intern__str_destroy(s);
		return;
	case INTERN_MORTAL: intern__release_mortal(s); return;
	default:
		/* Immortalizing needs a counted reference that is never given
		 * back, so an immortal count cannot reach 0. */
		intern__die("an immortal string's count reached zero (%p)", (void *)s);
	}
}

INTERN_API const char *intern_str_data(const struct intern_str *s)
{
	return s ? intern__data(s) : NULL;
}

INTERN_API size_t intern_str_len(const struct intern_str *s)
{
	return s ? s->ob_len : 0;
}

INTERN_API enum intern_state intern_str_state(const struct intern_str *s)
{
	return s ? (enum intern_state)intern__state(s) : INTERN_NOT_INTERNED;
}
