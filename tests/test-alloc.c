/*
 * Allocation failure (lib/alloc), white box: with lib/alloc.h's hooks the
 * k-th allocation fails, for every k an API call reaches.  Each call must
 * then fail cleanly (NULL with errno ENOMEM, or -ENOMEM with *p unchanged
 * and still the caller's valid reference), leave nothing half-inserted
 * (intern_interp_check, lookups, stats), leak nothing (LeakSanitizer in a
 * sanitizer build, memcheck under the valgrind setup), and work again once
 * memory is back.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "slab.h"
#include "test-util.h"

/* Sweeps stop here: no call allocates this often. */
#define MAX_K 64

START_TEST(test_str_new_enomem)
{
	struct intern_str *s;

	intern__fault_arm(1, 0);
	errno = 0;
	s = intern_str_new("no memory", 9);
	intern__fault_disarm();
	ck_assert_ptr_null(s);
	ck_assert_int_eq(errno, ENOMEM);
	s = intern_str_new("no memory", 9);
	ck_assert_content(s, "no memory", 9);
	intern_str_decref(s);
}
END_TEST

START_TEST(test_interp_new_enomem)
{
	int failed = 0;

	for (unsigned long k = 1; k <= MAX_K; k++) {
		struct intern_interp *interp;
		struct intern_str *s;

		intern__fault_arm(k, 0);
		errno = 0;
		interp = intern_interp_new(NULL);
		intern__fault_disarm();
		if (interp == NULL) {
			ck_assert_int_eq(errno, ENOMEM);
			failed++;
			continue;
		}
		/* The first k that is not reached: a working interpreter. */
		s = intern_bytes(interp, "works", 5);
		ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
		intern_str_decref(s);
		intern_interp_free(interp);
		break;
	}
	ck_assert_int_gt(failed, 0);
}
END_TEST

/* One interning route, with the k-th allocation failing. */
enum route {
	R_BYTES,
	R_MORTAL,
	R_IMMORTAL,
	R__COUNT
};

static const char *const route_name[] = { "bytes", "mortal", "immortal" };

/*
 * Sweep k over one route into an interpreter that already holds `fill`
 * strings (so that some k land on a table rebuild).  Returns how many k
 * failed cleanly.
 */
static int sweep_route(enum route route, unsigned shards, int fill)
{
	struct intern_interp *interp = test_interp(shards);
	struct intern_str **held = calloc((size_t)fill + 1, sizeof(*held));
	int failed = 0;
	char key[32];

	ck_assert_ptr_nonnull(held);
	for (int i = 0; i < fill; i++) {
		int n = snprintf(key, sizeof(key), "fill-%d", i);

		held[i] = intern_bytes(interp, key, (size_t)n);
		ck_assert_ptr_nonnull(held[i]);
	}
	for (unsigned long k = 1; k <= MAX_K; k++) {
		int n = snprintf(key, sizeof(key), "victim-%d-%lu", route, k);
		struct intern_str *s = NULL, *p = NULL;
		int rc = 0;

		if (route != R_BYTES) {
			p = s = intern_str_new(key, (size_t)n);
			ck_assert_ptr_nonnull(s);
		}
		intern__fault_arm(k, 0);
		errno = 0;
		switch (route) {
		case R_BYTES:
			p = intern_bytes(interp, key, (size_t)n);
			rc = p ? 0 : -errno;
			break;
		case R_MORTAL: rc = intern_mortal(interp, &p); break;
		default: rc = intern_immortal(interp, &p); break;
		}
		intern__fault_disarm();
		ck_assert_int_eq(intern_interp_check(interp), 0);
		if (rc == 0) {
			/* Nothing failed at this k: the sweep is done. */
			ck_assert_content(p, key, (size_t)n);
			ck_assert_int_eq(intern_str_state(p),
					 route == R_IMMORTAL ? INTERN_IMMORTAL : INTERN_MORTAL);
			intern_str_decref(p);
			break;
		}
		ck_assert_msg(rc == -ENOMEM, "%s, k %lu: %d", route_name[route], k, rc);
		failed++;
		/* Nothing was inserted, and *p is still ours, unchanged. */
		ck_assert_absent(interp, key, (size_t)n);
		if (route != R_BYTES) {
			ck_assert_ptr_eq(p, s);
			ck_assert_int_eq(intern_str_state(s), INTERN_NOT_INTERNED);
			ck_assert_uint_eq(test_refcnt(s), 1);
			ck_assert_content(s, key, (size_t)n);
			/* And it can be interned now. */
			ck_assert_int_eq(intern_mortal(interp, &p), 0);
			ck_assert_ptr_eq(p, s);
			intern_str_decref(p);
		}
	}
	for (int i = 0; i < fill; i++) {
		int n = snprintf(key, sizeof(key), "fill-%d", i);

		ck_assert_lookup(interp, key, (size_t)n, held[i]);
		intern_str_decref(held[i]);
	}
	ck_assert_int_eq(intern_interp_check(interp), 0);
	free(held);
	intern_interp_free(interp);
	return failed;
}

START_TEST(test_intern_enomem)
{
	/* An empty table (the first insert allocates the shard's array),
	 * and tables of one shard filled to every size up to 40 (so that
	 * inserts hit each growth). */
	for (int route = 0; route < R__COUNT; route++) {
		ck_assert_int_gt(sweep_route((enum route)route, 0, 0), 0);
		for (int fill = 1; fill <= 40; fill++)
			sweep_route((enum route)route, 1, fill);
	}
}
END_TEST

INTERN_STATIC_DEFINE(s_alloc, "static under pressure");

START_TEST(test_static_enomem)
{
	struct intern_interp *interp = test_interp(0);
	int failed = 0;

	for (unsigned long k = 1; k <= MAX_K; k++) {
		struct intern_str *p = s_alloc;
		int rc;

		intern__fault_arm(k, 0);
		rc = intern_static(interp, &p);
		intern__fault_disarm();
		ck_assert_ptr_eq(p, s_alloc);
		if (rc == 0)
			break;
		ck_assert_int_eq(rc, -ENOMEM);
		failed++;
		/* A failed call leaves the static string as it was
		 * (born IMMORTAL_STATIC) and unfiled. */
		ck_assert_int_eq(intern_str_state(s_alloc), INTERN_IMMORTAL_STATIC);
		ck_assert_absent(interp, "static under pressure", 21);
	}
	ck_assert_int_gt(failed, 0);
	ck_assert_int_eq(intern_str_state(s_alloc), INTERN_IMMORTAL_STATIC);
	ck_assert_lookup(interp, "static under pressure", 21, s_alloc);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_hits_do_not_allocate)
{
	/* With every allocation failing, hits and the singletons still
	 * work: a hit allocates nothing. */
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = intern_bytes(interp, "already here", 12);
	struct intern_str *t, *dup = intern_str_new("already here", 12);

	intern__fault_arm(1, 1);
	t = intern_bytes(interp, "already here", 12);
	ck_assert_ptr_eq(t, s);
	intern_str_decref(t);
	ck_assert_lookup(interp, "already here", 12, s);
	ck_assert_int_eq(intern_mortal(interp, &dup), 0);
	ck_assert_ptr_eq(dup, s);
	ck_assert_ptr_eq(intern_bytes(interp, "x", 1), intern_latin1('x'));
	ck_assert_ptr_eq(intern_bytes(interp, "", 0), intern_empty());
	errno = 0;
	ck_assert_ptr_null(intern_bytes(interp, "not here", 8));
	ck_assert_int_eq(errno, ENOMEM);
	intern__fault_disarm();
	intern_str_decref(dup);
	intern_str_decref(s);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_death_without_memory)
{
	/* Mortal strings die while every allocation fails: the deferred
	 * free has a fallback, the entries leave the table, nothing leaks. */
	enum {
		N = 100
	};
	struct intern_interp *interp = test_interp(4);
	struct intern_str *s[N];
	struct intern_stats st;
	char key[32];

	for (int i = 0; i < N; i++) {
		int n = snprintf(key, sizeof(key), "doomed-%d", i);

		s[i] = intern_bytes(interp, key, (size_t)n);
		ck_assert_ptr_nonnull(s[i]);
	}
	intern__fault_arm(1, 1);
	for (int i = 0; i < N; i++)
		intern_str_decref(s[i]);
	intern__fault_disarm();
	for (int i = 0; i < N; i++) {
		int n = snprintf(key, sizeof(key), "doomed-%d", i);

		ck_assert_absent(interp, key, (size_t)n);
	}
	ck_assert_int_eq(intern_interp_stats(interp, &st), 0);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_barrier();
	intern_interp_free(interp);
}
END_TEST

/* The string allocator (slab.c): strings of every slab size and beyond,
 * allocated and freed interleaved, keep their bytes, are aligned for the
 * header and distinct; a string allocation can fail (the injection
 * reaches the slab path); and freeing them all
 * gives the memory back to malloc. */
static size_t heap_now(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

START_TEST(test_slab_strings)
{
	enum {
		N = 20000
	};
	static struct intern_str *s[N];
	char buf[200];
	size_t before = heap_now();

	memset(buf, 'x', sizeof(buf));
	for (unsigned i = 0; i < N; i++) {
		buf[0] = (char)i;
		s[i] = intern_str_new(buf, i % 150);
		ck_assert_ptr_nonnull(s[i]);
		ck_assert_uint_eq((uintptr_t)s[i] % _Alignof(struct intern_str), 0);
	}
	/* Free a quarter, then allocate again: freed objects are reused. */
	for (unsigned i = 1; i < N; i += 4)
		intern_str_decref(s[i]);
	for (unsigned i = 1; i < N; i += 4) {
		buf[0] = (char)i;
		s[i] = intern_str_new(buf, 0);
		ck_assert_ptr_nonnull(s[i]);
	}
	for (unsigned i = 0; i < N; i++) {
		size_t len = (i % 4 == 1) ? 0 : i % 150;

		buf[0] = (char)i;
		ck_assert_content(s[i], buf, len);
		ck_assert_ptr_ne(s[i], s[(i + 1) % N]);
	}
	intern__fault_arm(1, 0);
	errno = 0;
	ck_assert_ptr_null(intern_str_new("slab", 4));
	ck_assert_int_eq(errno, ENOMEM);
	intern__fault_disarm();
	for (unsigned i = 0; i < N; i++)
		intern_str_decref(s[i]);
	ck_assert_msg(heap_now() <= before + 64 * 1024, "heap %zu -> %zu: strings kept",
		      before, heap_now());
}
END_TEST

int main(void)
{
	const TTest *const tc_enomem[] = {
		test_str_new_enomem,
		test_interp_new_enomem,
		test_intern_enomem,
		test_static_enomem,
		test_hits_do_not_allocate,
		test_death_without_memory,
		test_slab_strings,
		NULL,
	};
	const struct test_case cases[] = {
		{ "enomem", tc_enomem, 30 },
	};

	return test_run_cases("alloc", cases, TEST_COUNT(cases));
}
