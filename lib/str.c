/*
 * str.c: the string object: creation, reference counting, accessors.
 *
 * A string is one allocation: the 16-byte header of include/intern.h, the
 * bytes, a NUL.  Static strings (the built-in singletons, application
 * statics) carry INTERN_STR_F_STATIC and are never written by incref or
 * decref; neither are immortal ones, so a hot shared string never bounces a
 * cache line between cores.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "hash.h"
#include "intern-private.h"

struct intern_str *intern__str_alloc(const char *data, size_t len, uint32_t hash)
{
	struct intern_str *s = intern__malloc(sizeof(*s) + len + 1);

	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
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

void intern__str_destroy(struct intern_str *s)
{
	if (intern__is_static(s))
		intern__die("destroy: static string %p", (void *)s);
#ifndef NDEBUG
	/* Poison, so a reader that outlives the object sees a dead count and
	 * garbage bytes (the stress harness looks for both). */
	__atomic_store_n(&s->ob_refcnt, INTERN__POISON_REFCNT, __ATOMIC_RELAXED);
	memset(s + 1, INTERN__POISON_BYTE, (size_t)s->ob_len + 1);
#endif
	intern__free(s);
}

INTERN_API struct intern_str *intern_str_new(const char *data, size_t len)
{
	if (!data && len) {
		errno = EINVAL;
		return NULL;
	}
	if (len > INTERN_STR_MAX_LEN) {
		errno = EOVERFLOW;
		return NULL;
	}
	if (!data)
		data = ""; /* len is 0; pointer arithmetic on NULL is undefined */
	return intern__str_alloc(data, len, intern__hash(data, len));
}

/* Immortal and static strings are not counted: nothing to write. */
static inline bool uncounted(const struct intern_str *s)
{
	return intern__is_static(s) ||
	       __atomic_load_n(&s->ob_state, __ATOMIC_RELAXED) >= INTERN_IMMORTAL;
}

INTERN_API void intern_str_incref(struct intern_str *s)
{
	uint32_t old;

	if (!s || uncounted(s))
		return;
	/* Relaxed: the caller already holds a reference, so the object is
	 * alive and nothing is published by this increment. */
	old = __atomic_fetch_add(&s->ob_refcnt, 1, __ATOMIC_RELAXED);
#ifndef NDEBUG
	if (old == 0 || old == INTERN__POISON_REFCNT)
		intern__die("incref of a dead string %p", (void *)s);
#else
	(void)old;
#endif
}

INTERN_API void intern_str_decref(struct intern_str *s)
{
	uint32_t old;

	if (!s || uncounted(s))
		return;
	/* (C) Release: our writes to the string (none) and our reads of it
	 * happen before whoever frees it. */
	old = __atomic_fetch_sub(&s->ob_refcnt, 1, __ATOMIC_RELEASE);
	if (old != 1) {
#ifndef NDEBUG
		if (old == 0 || old == INTERN__POISON_REFCNT)
			intern__die("decref past zero on %p", (void *)s);
#endif
		return;
	}
	/* We took the count to 0: the killer of table.c's rule R2.  Acquire
	 * pairs with every holder's release decrement. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	switch (intern__state(s)) {
	case INTERN_NOT_INTERNED:
		/* Never published, or its interpreter was freed and the sweep
		 * is done with it: nobody else can reach it. */
		intern__str_destroy(s);
		return;
	case INTERN_MORTAL:
		intern__release_mortal(s);
		return;
	default:
		/* Immortalizing needs a counted reference that is never given
		 * back, so an immortal count cannot reach 0. */
		intern__die("an immortal string's count reached zero (%p)", (void *)s);
	}
}

INTERN_API const char *intern_str_data(const struct intern_str *s)
{
	return intern__data(s);
}

INTERN_API size_t intern_str_len(const struct intern_str *s)
{
	return s->ob_len;
}

INTERN_API enum intern_state intern_str_state(const struct intern_str *s)
{
	return (enum intern_state)intern__state(s);
}
