/*
 * Teardown of shared references (lib/table.c, sweep_immortal;
 * docs/process.md, "Teardown"): one holder's counted reference, taken
 * while the string was mortal, stays valid through intern_interp_free()
 * whatever another caller did to the string meanwhile (made it immortal,
 * by any route).  Under ASan a dangling reference is a heap-use-after-free;
 * in a checking build the freed bytes are poisoned, so the content check
 * fails too.
 */
#include "test-util.h"

#include <malloc.h>

/* `held` is a counted reference taken while mortal; the interpreter is
 * freed; it must still be the same live string, NOT_INTERNED, and its
 * holder's increfs and decrefs must be harmless. */
static void
check_survives(struct intern_interp *interp, struct intern_str *held, const char *text)
{
	size_t len = strlen(text);

	intern_interp_free(interp);
	intern_barrier();
	ck_assert_content(held, text, len);
	ck_assert_int_eq(intern_str_state(held), INTERN_NOT_INTERNED);
	intern_str_incref(held);
	intern_str_decref(held);
	intern_str_decref(held);
	intern_barrier();
	/* Kept for good: every reference a holder may still think it has
	 * stays valid, extra decrefs included. */
	ck_assert_content(held, text, len);
}

/* Another module makes an equal string immortal through intern_immortal()
 * of its own copy. */
START_TEST(test_immortal_copy_keeps_holder)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *held = intern_bytes(interp, "shared-module-key", 17);
	struct intern_str *other = test_str("shared-module-key");

	ck_assert_ptr_nonnull(held);
	ck_assert_int_eq(intern_immortal(interp, &other), 0);
	ck_assert_ptr_eq(other, held);
	ck_assert_int_eq(intern_str_state(held), INTERN_IMMORTAL);
	/* The holder drops and takes references while it is immortal. */
	intern_str_incref(held);
	intern_str_decref(held);
	check_survives(interp, held, "shared-module-key");
}
END_TEST

/* Another module holds a second counted reference to the same object and
 * immortalizes that (the "already canonical here" route). */
START_TEST(test_immortal_same_object_keeps_holder)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *held = intern_bytes(interp, "same-object-key", 15);
	struct intern_str *other;

	ck_assert_ptr_nonnull(held);
	intern_str_incref(held);
	other = held;
	ck_assert_int_eq(intern_immortal(interp, &other), 0);
	ck_assert_ptr_eq(other, held);
	check_survives(interp, held, "same-object-key");
}
END_TEST

/* The holder interned its own object with intern_mortal(); another module
 * immortalizes a copy of it. */
START_TEST(test_immortal_after_mortal_keeps_holder)
{
	struct intern_interp *interp = test_interp(1);
	struct intern_str *held = test_str("mortal-first-key");
	struct intern_str *other = test_str("mortal-first-key");

	ck_assert_int_eq(intern_mortal(interp, &held), 0);
	ck_assert_int_eq(intern_immortal(interp, &other), 0);
	ck_assert_ptr_eq(other, held);
	check_survives(interp, held, "mortal-first-key");
}
END_TEST

/* An immortal string nobody else counted is still freed by teardown (the
 * holder's immortal reference ends there, as the header says): only its
 * content is checked before the free, and the table check passes. */
START_TEST(test_sole_immortal_freed)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *s = test_str("sole-immortal-key");

	ck_assert_int_eq(intern_immortal(interp, &s), 0);
	ck_assert_int_eq(intern_str_state(s), INTERN_IMMORTAL);
	ck_assert_uint_eq(test_refcnt(s), 1);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
	intern_barrier();
}
END_TEST

/* A kept string that later interpreters make immortal again is kept once:
 * the list of kept strings grows with the strings, not with the teardowns
 * (it grew by a pointer per teardown before).  Heap in use is the measure;
 * sanitizer and valgrind allocators report none, and then only the
 * references are checked. */
START_TEST(test_kept_string_listed_once)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *held = intern_bytes(interp, "kept-once-key", 13);
	struct intern_str *other = test_str("kept-once-key");
	size_t before = 0, after;

	ck_assert_int_eq(intern_immortal(interp, &other), 0);
	intern_interp_free(interp);
	intern_barrier();
	for (int i = 0; i < 4200; i++) {
		struct intern_str *again = held;

		/* After a warm-up: the registry keeps the last freed
		 * interpreters' structs, a bounded amount. */
		if (i == 200)
			before = mallinfo2().uordblks;
		interp = test_interp(0);
		intern_str_incref(again); /* pinned: a no-op */
		ck_assert_int_eq(intern_immortal(interp, &again), 0);
		ck_assert_ptr_eq(again, held);
		intern_interp_free(interp);
	}
	intern_barrier();
	after = mallinfo2().uordblks;
	ck_assert_content(held, "kept-once-key", 13);
	ck_assert_uint_lt(after > before ? after - before : 0, 16 * 1024);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("teardown");
	TCase *tc = tcase_create("teardown");

	tcase_add_test(tc, test_immortal_copy_keeps_holder);
	tcase_add_test(tc, test_immortal_same_object_keeps_holder);
	tcase_add_test(tc, test_immortal_after_mortal_keeps_holder);
	tcase_add_test(tc, test_sole_immortal_freed);
	tcase_add_test(tc, test_kept_string_listed_once);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
