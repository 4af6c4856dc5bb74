/*
 * Application singletons (lib/statics.c, lib/intern-gen-ids.py).  The build
 * runs the generator over this very file, so the INTERN_ID / INTERN_STR uses
 * below are the generated objects under test.  Their contract: const
 * objects in read-only memory, born IMMORTAL_STATIC; once an interpreter is
 * given their table, every route to their bytes yields them, in every
 * interpreter that has the table and from every thread; and libintern never
 * writes to them (a write would fault, so surviving is the proof).
 */
#include <pthread.h>
#include <stdio.h>

#include "test-util.h"

#include "test-statics-ids.h" /* generated from this file */

/* One generated object and, written by the compiler, the bytes it must
 * hold: the compiler is the oracle for the generator's escape decoding. */
struct entry {
	struct intern_str *s;
	const char *data;
	size_t len;
};

#define E(obj, text)                            \
	{                                       \
		(obj), (text), sizeof(text) - 1 \
	}

/* A file-scope initializer: the macros are address constants. */
static const struct entry entries[] = {
	E(INTERN_ID(content_length), "content_length"),
	E(INTERN_ID(content_type), "content_type"),
	E(INTERN_ID(__init__), "__init__"),
	E(INTERN_ID(__dict__), "__dict__"),
	E(INTERN_ID(self), "self"),
	E(INTERN_ID(class), "class"),
	E(INTERN_ID(if), "if"),
	E(INTERN_ID(ab), "ab"),
	E(INTERN_ID(an_identifier_longer_than_sixty_four_bytes_so_the_literal_is_split),
	  "an_identifier_longer_than_sixty_four_bytes_so_the_literal_is_split"),
	E(INTERN_STR(empty_json, "{}"), "{}"),
	E(INTERN_STR(crlf, "\r\n"), "\r\n"),
	E(INTERN_STR(nul_inside, "nul\0inside"), "nul\0inside"),
	E(INTERN_STR(octal, "\1\02\003x\0004"), "\1\02\003x\0004"),
	E(INTERN_STR(hex, "\x7f\xff\x00z"), "\x7f\xff\x00z"),
	E(INTERN_STR(utf8, "caf\u00e9 \U0001F600"), "caf\u00e9 \U0001F600"),
	E(INTERN_STR(quotes, "'\"\\\?"), "'\"\\\?"),
	E(INTERN_STR(joined, "hello, "
			     "world"),
	  "hello, world"),
	E(INTERN_STR(spaced, "two words"), "two words"),
};

#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))

/* Used again: still one object. */
static struct intern_str *const again = INTERN_ID(content_length);

/* ---------------------------------------------------------------------------
 * The objects
 * ------------------------------------------------------------------------- */

START_TEST(test_objects)
{
	ck_assert_ptr_eq(again, entries[0].s);
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *e = &entries[i];

		ck_assert_content(e->s, e->data, e->len);
		ck_assert_int_eq(intern_str_state(e->s), INTERN_IMMORTAL_STATIC);
		ck_assert_uint_ne(test_flags(e->s) & INTERN_STR_F_STATIC, 0);
		for (size_t j = 0; j < i; j++)
			ck_assert_ptr_ne(entries[j].s, e->s);
	}
}
END_TEST

START_TEST(test_table)
{
	const struct intern_static_table *t = &test_statics_table;

	ck_assert_uint_eq(t->version, INTERN_STATIC_TABLE_VERSION);
	ck_assert_uint_eq(t->count, N_ENTRIES);
	/* Every entry of the table is one of ours, and every one of ours is
	 * in the table, once. */
	for (size_t i = 0; i < N_ENTRIES; i++) {
		int seen = 0;

		for (uint32_t k = 0; k < t->count; k++)
			seen += t->strings[k] == entries[i].s;
		ck_assert_int_eq(seen, 1);
	}
}
END_TEST

START_TEST(test_read_only)
{
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *e = &entries[i];

		ck_assert_msg(test_is_read_only(e->s, sizeof(*e->s) + e->len + 1) == 1,
			      "\"%s\" at %p is not in read-only memory", e->data, (void *)e->s);
	}
	/* The probe bites: a write to the header or the bytes faults. */
	ck_assert_int_eq(test_write_faults(&INTERN_ID(self)->ob_state), 1);
	ck_assert_int_eq(test_write_faults(&INTERN_ID(self)->ob_refcnt), 1);
	ck_assert_int_eq(test_write_faults((void *)intern_str_data(INTERN_ID(self))), 1);
}
END_TEST

START_TEST(test_refcount_noop)
{
	for (size_t i = 0; i < N_ENTRIES; i++) {
		struct intern_str *s = entries[i].s;
		uint32_t before = test_refcnt(s);

		for (int k = 0; k < 5; k++)
			intern_str_incref(s);
		for (int k = 0; k < 10; k++)
			intern_str_decref(s);
		ck_assert_uint_eq(test_refcnt(s), before);
		ck_assert_int_eq(intern_str_state(s), INTERN_IMMORTAL_STATIC);
	}
}
END_TEST

/* ---------------------------------------------------------------------------
 * Interning
 * ------------------------------------------------------------------------- */

/* Every route from the bytes of `e` to an interned string yields e->s. */
static void check_routes(struct intern_interp *interp, const struct entry *e)
{
	struct intern_str *s;

	s = intern_bytes(interp, e->data, e->len);
	ck_assert_ptr_eq(s, e->s);
	intern_str_decref(s);
	ck_assert_lookup(interp, e->data, e->len, e->s);

	s = intern_str_new(e->data, e->len);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(intern_mortal(interp, &s), 0);
	ck_assert_ptr_eq(s, e->s);
	s = intern_str_new(e->data, e->len);
	ck_assert_int_eq(intern_immortal(interp, &s), 0);
	ck_assert_ptr_eq(s, e->s);

	/* The object itself, by each call. */
	s = e->s;
	ck_assert_int_eq(intern_mortal(interp, &s), 0);
	ck_assert_ptr_eq(s, e->s);
	ck_assert_int_eq(intern_immortal(interp, &s), 0);
	ck_assert_ptr_eq(s, e->s);
	ck_assert_int_eq(intern_static(interp, &s), 0);
	ck_assert_ptr_eq(s, e->s);
	ck_assert_int_eq(intern_str_state(e->s), INTERN_IMMORTAL_STATIC);
}

static struct intern_stats stats_of(struct intern_interp *interp)
{
	struct intern_stats st;

	ck_assert_int_eq(intern_interp_stats(interp, &st), 0);
	return st;
}

START_TEST(test_all_routes)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_stats st;

	ck_assert_int_eq(intern_interp_add_statics(interp, &test_statics_table), 0);
	for (size_t i = 0; i < N_ENTRIES; i++)
		check_routes(interp, &entries[i]);
	/* Filed as entries of the table, nothing copied. */
	st = stats_of(interp);
	ck_assert_uint_eq(st.immortal_static, N_ENTRIES);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_uint_eq(st.immortal, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	/* A prefix or an extension of a static is another string. */
	ck_assert_absent(interp, "content_lengt", 13);
	ck_assert_absent(interp, "content_length_", 15);
	ck_assert_absent(interp, "nul", 3);
	intern_interp_free(interp);
	for (size_t i = 0; i < N_ENTRIES; i++) {
		ck_assert_int_eq(intern_str_state(entries[i].s), INTERN_IMMORTAL_STATIC);
		ck_assert_content(entries[i].s, entries[i].data, entries[i].len);
	}
}
END_TEST

START_TEST(test_filing_writes_nothing)
{
	/*
	 * The objects are in read-only memory (test_read_only), so any write
	 * libintern made to one would kill this process.  Each way of filing
	 * an object in an interpreter that does not hold it yet: intern_static
	 * and intern_mortal of the object itself (a CAS on its state, even a
	 * failing one, would be a locked write), and the table.
	 */
	struct intern_interp *a = test_interp(0);
	struct intern_interp *b = test_interp(0);
	struct intern_interp *c = test_interp(0);
	struct intern_str *p;

	ck_assert_int_eq(test_is_read_only(INTERN_ID(__init__), sizeof(struct intern_str)), 1);
	p = INTERN_ID(__init__);
	ck_assert_int_eq(intern_static(a, &p), 0);
	ck_assert_ptr_eq(p, INTERN_ID(__init__));
	ck_assert_lookup(a, "__init__", 8, INTERN_ID(__init__));

	ck_assert_int_eq(intern_mortal(b, &p), 0);
	ck_assert_ptr_eq(p, INTERN_ID(__init__));
	ck_assert_lookup(b, "__init__", 8, INTERN_ID(__init__));

	ck_assert_int_eq(intern_interp_add_statics(c, &test_statics_table), 0);
	ck_assert_lookup(c, "__init__", 8, INTERN_ID(__init__));
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(intern_interp_add_statics(a, &test_statics_table), 0);
	ck_assert_int_eq(intern_interp_check(a), 0);
	intern_interp_free(a);
	intern_interp_free(b);
	intern_interp_free(c);
}
END_TEST

START_TEST(test_add_twice)
{
	struct intern_interp *interp = test_interp(0);

	ck_assert_int_eq(intern_interp_add_statics(interp, &test_statics_table), 0);
	ck_assert_int_eq(intern_interp_add_statics(interp, &test_statics_table), 0);
	ck_assert_uint_eq(stats_of(interp).immortal_static, N_ENTRIES);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_shared_by_interpreters)
{
	static const unsigned shards[] = { 1, 4, 64, 4096 };
	struct intern_interp *in[4];
	struct intern_str *dyn;

	for (int k = 0; k < 4; k++) {
		in[k] = test_interp(shards[k]);
		ck_assert_int_eq(intern_interp_add_statics(in[k], &test_statics_table), 0);
	}
	for (int k = 0; k < 4; k++)
		for (size_t i = 0; i < N_ENTRIES; i++)
			check_routes(in[k], &entries[i]);
	/* Dynamic strings stay per interpreter. */
	dyn = intern_bytes(in[0], "only in the first", 17);
	ck_assert_ptr_nonnull(dyn);
	ck_assert_absent(in[1], "only in the first", 17);
	/* Freeing interpreters leaves the others and the objects as they were. */
	intern_interp_free(in[0]);
	intern_interp_free(in[2]);
	for (size_t i = 0; i < N_ENTRIES; i++) {
		check_routes(in[1], &entries[i]);
		check_routes(in[3], &entries[i]);
	}
	ck_assert_int_eq(intern_interp_check(in[1]), 0);
	ck_assert_int_eq(intern_interp_check(in[3]), 0);
	intern_interp_free(in[1]);
	intern_interp_free(in[3]);
	intern_str_decref(dyn); /* NOT_INTERNED since its interpreter went */
}
END_TEST

/* Each test that calls intern_static() defines its own statics (see
 * test-util.h). */
INTERN_STATIC_DEFINE(s_clash_before, "__dict__");
INTERN_STATIC_DEFINE(s_clash_after, "two words");

START_TEST(test_eexist)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *m = intern_bytes(interp, "content_type", 12);
	struct intern_str *i = test_str("self");
	struct intern_str *p = s_clash_before;

	ck_assert_int_eq(intern_immortal(interp, &i), 0);
	ck_assert_int_eq(intern_static(interp, &p), 0);

	/* Three contents already have canonical objects: a mortal and an
	 * immortal dynamic string, another static.  They are skipped, the
	 * rest is filed. */
	ck_assert_int_eq(intern_interp_add_statics(interp, &test_statics_table), -EEXIST);
	ck_assert_lookup(interp, "content_type", 12, m);
	ck_assert_lookup(interp, "self", 4, i);
	ck_assert_lookup(interp, "__dict__", 8, s_clash_before);
	ck_assert_lookup(interp, "content_length", 14, INTERN_ID(content_length));
	ck_assert_lookup(interp, "{}", 2, INTERN_STR(empty_json, "{}"));
	ck_assert_uint_eq(stats_of(interp).immortal_static, N_ENTRIES - 3 + 1);
	/* The canonical strings are as they were. */
	ck_assert_int_eq(intern_str_state(m), INTERN_MORTAL);
	ck_assert_uint_eq(test_refcnt(m), 1);
	ck_assert_int_eq(intern_str_state(INTERN_ID(content_type)), INTERN_IMMORTAL_STATIC);

	/* Once the mortal string has died, its content can be filed. */
	intern_str_decref(m);
	ck_assert_absent(interp, "content_type", 12);
	ck_assert_int_eq(intern_interp_add_statics(interp, &test_statics_table), -EEXIST);
	ck_assert_lookup(interp, "content_type", 12, INTERN_ID(content_type));

	/* The other way round: a static with a filed content is refused. */
	p = s_clash_after;
	ck_assert_int_eq(intern_static(interp, &p), -EEXIST);
	ck_assert_ptr_eq(p, s_clash_after);
	ck_assert_int_eq(intern_str_state(s_clash_after), INTERN_IMMORTAL_STATIC);
	ck_assert_lookup(interp, "two words", 9, INTERN_STR(spaced, "two words"));
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

/* Writable look-alikes of generated objects, each broken in one way. */
static struct {
	struct intern_str head;
	char data[3];
} no_nul = { INTERN_STATIC_HEAD_INIT(2), { 'a', 'b', 'c' } },
  small_int = { INTERN_STATIC_HEAD_INIT(2), "10" },
  unborn = { { 1u, 2u, 0u, INTERN_NOT_INTERNED, INTERN_STR_F_STATIC, 0u }, "nb" };

START_TEST(test_bad_tables)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *dyn = test_str("dynamic");
	const struct intern_str *bad[] = {
		NULL, dyn, &unborn.head, intern_latin1('a'), intern_empty(), &no_nul.head,
	};
	const struct intern_str *list[2];
	struct intern_static_table t = { INTERN_STATIC_TABLE_VERSION, 2, list };

	ck_assert_int_eq(intern_interp_add_statics(NULL, &test_statics_table), -EINVAL);
	ck_assert_int_eq(intern_interp_add_statics(interp, NULL), -EINVAL);
	t.version = INTERN_STATIC_TABLE_VERSION + 1;
	list[0] = list[1] = INTERN_ID(if);
	ck_assert_int_eq(intern_interp_add_statics(interp, &t), -EINVAL);
	t.version = INTERN_STATIC_TABLE_VERSION;
	t.strings = NULL;
	ck_assert_int_eq(intern_interp_add_statics(interp, &t), -EINVAL);
	t.count = 0;
	ck_assert_int_eq(intern_interp_add_statics(interp, &t), 0);

	/* A bad entry after a good one: nothing is filed. */
	t.strings = list;
	t.count = 2;
	list[0] = INTERN_ID(if);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		list[1] = bad[k];
		ck_assert_msg(intern_interp_add_statics(interp, &t) == -EINVAL, "entry %zu", k);
		ck_assert_absent(interp, "if", 2);
	}
	/* The bytes of a built-in small integer (when this build's range has
	 * 10): every route returns the built-in, so no table may hold them. */
	{
		struct intern_str *ten = intern_int(interp, 10);

		list[1] = &small_int.head;
		if (intern_str_state(ten) == INTERN_IMMORTAL_STATIC) {
			ck_assert_int_eq(intern_interp_add_statics(interp, &t), -EINVAL);
			ck_assert_absent(interp, "if", 2);
		}
		intern_str_decref(ten);
	}
	/* Nothing was written to them either. */
	ck_assert_int_eq(intern_str_state(&unborn.head), INTERN_NOT_INTERNED);
	ck_assert_int_eq(intern_str_state(dyn), INTERN_NOT_INTERNED);
	ck_assert_uint_eq(test_refcnt(dyn), 1);
	ck_assert_uint_eq(stats_of(interp).immortal_static, 0);
	intern_str_decref(dyn);

	/* A table listing one object twice is fine. */
	list[1] = INTERN_ID(if);
	ck_assert_int_eq(intern_interp_add_statics(interp, &t), 0);
	ck_assert_lookup(interp, "if", 2, INTERN_ID(if));
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_churn_beside_statics)
{
	/* One shard: dynamic strings come and go around the static entries,
	 * so the array grows, fills with tombstones, is rebuilt and shrinks
	 * with the statics in it. */
	struct intern_interp *interp = test_interp(1);
	struct intern_str *held[512];
	char key[32];

	ck_assert_int_eq(intern_interp_add_statics(interp, &test_statics_table), 0);
	for (int round = 0; round < 4; round++) {
		for (int k = 0; k < 512; k++) {
			int n = snprintf(key, sizeof(key), "churn-%d-%d", round, k);

			held[k] = intern_bytes(interp, key, (size_t)n);
			ck_assert_ptr_nonnull(held[k]);
		}
		for (size_t i = 0; i < N_ENTRIES; i++)
			ck_assert_lookup(interp, entries[i].data, entries[i].len, entries[i].s);
		for (int k = 0; k < 512; k++)
			intern_str_decref(held[k]);
		ck_assert_int_eq(intern_interp_check(interp), 0);
	}
	intern_barrier();
	for (size_t i = 0; i < N_ENTRIES; i++)
		check_routes(interp, &entries[i]);
	ck_assert_uint_eq(stats_of(interp).immortal_static, N_ENTRIES);
	ck_assert_uint_eq(stats_of(interp).mortal, 0);
	intern_interp_free(interp);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Threads
 * ------------------------------------------------------------------------- */

#define THREADS 8

struct shared {
	struct intern_interp *interp;
	pthread_barrier_t start, filed;
	struct test_failure fail;
	int rounds;
};

struct worker {
	struct shared *sh;
	int id;
};

/* Every route, from a worker thread, without ck_assert. */
static void worker_routes(struct test_failure *f, struct intern_interp *interp,
			  const struct entry *e)
{
	struct intern_str *s;

	s = intern_bytes(interp, e->data, e->len);
	TCHECK(f, s == e->s);
	s = intern_lookup(interp, e->data, e->len);
	TCHECK(f, s == e->s);
	s = intern_str_new(e->data, e->len);
	TCHECK(f, s != NULL);
	if (s) {
		TCHECK(f, intern_mortal(interp, &s) == 0);
		TCHECK(f, s == e->s);
		intern_str_decref(s);
	}
	s = intern_str_new(e->data, e->len);
	if (s) {
		TCHECK(f, intern_immortal(interp, &s) == 0);
		TCHECK(f, s == e->s);
	}
}

static void *shared_worker(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	char key[48];

	pthread_barrier_wait(&sh->start);
	/* Phase 1: every thread gives the table while the others look its
	 * contents up: a lookup finds nothing or the static object, never
	 * anything else. */
	TCHECK(&sh->fail, intern_interp_add_statics(sh->interp, &test_statics_table) == 0);
	for (int r = 0; r < 20; r++)
		for (size_t i = 0; i < N_ENTRIES; i++) {
			struct intern_str *s = intern_lookup(sh->interp, entries[i].data,
							     entries[i].len);

			TCHECK(&sh->fail, s == NULL || s == entries[i].s);
		}
	pthread_barrier_wait(&sh->filed);
	/* Phase 2: every route, beside dynamic strings that come and go. */
	for (int r = 0; r < sh->rounds; r++) {
		struct intern_str *held[16];

		for (int k = 0; k < 16; k++) {
			int n = snprintf(key, sizeof(key), "dyn-%d-%d-%d", w->id, r, k);

			held[k] = intern_bytes(sh->interp, key, (size_t)n);
			TCHECK(&sh->fail, held[k] != NULL);
		}
		for (size_t i = 0; i < N_ENTRIES; i++)
			worker_routes(&sh->fail, sh->interp,
				      &entries[(i + (size_t)w->id) % N_ENTRIES]);
		for (int k = 0; k < 16; k++)
			intern_str_decref(held[k]);
	}
	return NULL;
}

/* Run THREADS workers on `fn` and wait for them all. */
static void run_workers(struct shared *sh, void *(*fn)(void *))
{
	struct worker w[THREADS];
	pthread_t tid[THREADS];

	for (int t = 0; t < THREADS; t++) {
		w[t].sh = sh;
		w[t].id = t;
		ck_assert_int_eq(pthread_create(&tid[t], NULL, fn, &w[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(tid[t], NULL);
	ck_assert_no_failure(&sh->fail);
}

START_TEST(test_threads_one_interpreter)
{
	struct shared sh;
	struct intern_stats st;

	sh.interp = test_interp(4);
	sh.rounds = 5000;
	test_failure_init(&sh.fail);
	pthread_barrier_init(&sh.start, NULL, THREADS);
	pthread_barrier_init(&sh.filed, NULL, THREADS);
	run_workers(&sh, shared_worker);
	pthread_barrier_destroy(&sh.start);
	pthread_barrier_destroy(&sh.filed);
	intern_barrier();
	st = stats_of(sh.interp);
	ck_assert_uint_eq(st.immortal_static, N_ENTRIES);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_int_eq(intern_interp_check(sh.interp), 0);
	intern_interp_free(sh.interp);
}
END_TEST

static void *own_interp_worker(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;

	pthread_barrier_wait(&sh->start);
	for (int r = 0; r < sh->rounds; r++) {
		struct intern_config cfg;
		struct intern_interp *mine;
		struct intern_str *dyn;

		intern_config_init(&cfg);
		cfg.shards = 1u << ((unsigned)(w->id + r) % 7);
		mine = intern_interp_new(&cfg);
		TCHECK(&sh->fail, mine != NULL);
		if (!mine)
			break;
		TCHECK(&sh->fail, intern_interp_add_statics(mine, &test_statics_table) == 0);
		dyn = intern_bytes(mine, "per-interpreter", 15);
		for (size_t i = 0; i < N_ENTRIES; i++) {
			worker_routes(&sh->fail, mine, &entries[i]);
			/* The long-lived interpreter shares the same objects. */
			TCHECK(&sh->fail, intern_lookup(sh->interp, entries[i].data,
							entries[i].len) == entries[i].s);
		}
		TCHECK(&sh->fail, intern_interp_check(mine) == 0);
		intern_str_decref(dyn);
		intern_interp_free(mine);
	}
	return NULL;
}

START_TEST(test_threads_many_interpreters)
{
	struct shared sh;

	sh.interp = test_interp(0);
	sh.rounds = 500;
	test_failure_init(&sh.fail);
	ck_assert_int_eq(intern_interp_add_statics(sh.interp, &test_statics_table), 0);
	pthread_barrier_init(&sh.start, NULL, THREADS);
	run_workers(&sh, own_interp_worker);
	pthread_barrier_destroy(&sh.start);
	for (size_t i = 0; i < N_ENTRIES; i++) {
		check_routes(sh.interp, &entries[i]);
		ck_assert_int_eq(intern_str_state(entries[i].s), INTERN_IMMORTAL_STATIC);
	}
	ck_assert_int_eq(intern_interp_check(sh.interp), 0);
	intern_interp_free(sh.interp);
}
END_TEST

int main(void)
{
	const TTest *const tc_objects[] = {
		test_objects, test_table, test_read_only, test_refcount_noop, NULL,
	};
	const TTest *const tc_interning[] = {
		test_all_routes,
		test_filing_writes_nothing,
		test_add_twice,
		test_shared_by_interpreters,
		test_eexist,
		test_bad_tables,
		test_churn_beside_statics,
		NULL,
	};
	const TTest *const tc_threads[] = {
		test_threads_one_interpreter,
		test_threads_many_interpreters,
		NULL,
	};
	const struct test_case cases[] = {
		{ "objects", tc_objects, 0 },
		{ "interning", tc_interning, 0 },
		{ "threads", tc_threads, 60 },
	};

	return test_run_cases("statics", cases, TEST_COUNT(cases));
}
