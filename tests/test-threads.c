/*
 * Interning from many threads at once (8 or more, on any number of cores):
 * one canonical object per key, mortal strings dying while other threads
 * look them up or re-insert them, promotion racing with the last decref,
 * teardown while other threads hold and drop references, and short-lived
 * threads (lazy RCU registration and its cleanup at thread exit).
 *
 * Worker threads never call ck_assert(): they record failures in a
 * struct test_failure and the test asserts on it after joining them.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "test-util.h"

#define NTHREADS 8

/* How long each racing test runs: long enough for many thousand deaths
 * and rebirths per key on 2 cores, short enough for Check's timeout. */
#define RACE_MS 1000

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Start `n` threads running fn(&args[i]), args of `size` bytes each. */
static void start_threads(pthread_t *tid, int n, void *(*fn)(void *), void *args, size_t size)
{
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, fn, (char *)args + (size_t)i * size),
				 0);
}

static void join_threads(pthread_t *tid, int n)
{
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
}

static int key_text(char *buf, size_t size, const char *prefix, int k)
{
	return snprintf(buf, size, "%s-%d", prefix, k);
}

/* ---------------------------------------------------------------------------
 * Many threads, same keys: one object per key
 * ------------------------------------------------------------------------- */

enum {
	SAME_KEYS = 3000
};

struct same_ctx {
	struct intern_interp *interp;
	pthread_barrier_t start;
	struct test_failure fail;
	struct intern_str *res[NTHREADS][SAME_KEYS];
};

struct same_arg {
	struct same_ctx *ctx;
	int t;
};

static void *same_worker(void *p)
{
	struct same_arg *arg = p;
	struct same_ctx *ctx = arg->ctx;
	int t = arg->t;

	pthread_barrier_wait(&ctx->start);
	for (int i = 0; i < SAME_KEYS; i++) {
		/* Each thread walks the keys from its own starting point,
		 * half of them backwards, so first inserts collide. */
		int k = (t % 2 ? SAME_KEYS - 1 - i : i);
		char key[32];
		int n;
		struct intern_str *s;

		k = (k + t * (SAME_KEYS / NTHREADS)) % SAME_KEYS;
		n = key_text(key, sizeof(key), "same", k);
		switch ((k + t) % 4) {
		case 0: s = intern_bytes(ctx->interp, key, (size_t)n); break;
		case 1:
			s = intern_str_new(key, (size_t)n);
			TCHECK(&ctx->fail, s != NULL);
			TCHECK(&ctx->fail, intern_mortal(ctx->interp, &s) == 0);
			break;
		case 2:
			s = intern_lookup(ctx->interp, key, (size_t)n);
			if (s == NULL) {
				TCHECK(&ctx->fail, errno == ENOENT);
				s = intern_bytes(ctx->interp, key, (size_t)n);
			}
			break;
		default:
			/* Every tenth key is made immortal by some threads
			 * while others intern it mortal. */
			if (k % 10 == 0) {
				s = intern_str_new(key, (size_t)n);
				TCHECK(&ctx->fail, intern_immortal(ctx->interp, &s) == 0);
			} else {
				s = intern_bytes(ctx->interp, key, (size_t)n);
			}
			break;
		}
		if (s == NULL) {
			TCHECK(&ctx->fail, s != NULL);
			continue;
		}
		TCHECK(&ctx->fail, test_same_content(s, key, (size_t)n));
		TCHECK(&ctx->fail, intern_str_state(s) == INTERN_MORTAL ||
					   intern_str_state(s) == INTERN_IMMORTAL);
		ctx->res[t][k] = s;
	}
	return NULL;
}

static void same_keys(unsigned shards)
{
	struct same_ctx *ctx = calloc(1, sizeof(*ctx));
	struct same_arg arg[NTHREADS];
	pthread_t tid[NTHREADS];
	struct intern_stats st;
	size_t immortal = 0;

	ck_assert_ptr_nonnull(ctx);
	ctx->interp = test_interp(shards);
	test_failure_init(&ctx->fail);
	pthread_barrier_init(&ctx->start, NULL, NTHREADS);
	for (int t = 0; t < NTHREADS; t++)
		arg[t] = (struct same_arg){ ctx, t };
	start_threads(tid, NTHREADS, same_worker, arg, sizeof(arg[0]));
	join_threads(tid, NTHREADS);
	ck_assert_no_failure(&ctx->fail);

	/* Every thread still holds its reference: one object per key. */
	for (int k = 0; k < SAME_KEYS; k++) {
		struct intern_str *s = ctx->res[0][k];

		for (int t = 1; t < NTHREADS; t++)
			ck_assert_msg(ctx->res[t][k] == s, "key %d: thread %d got %p, thread 0 %p",
				      k, t, (void *)ctx->res[t][k], (void *)s);
		if (intern_str_state(s) == INTERN_IMMORTAL) {
			immortal++;
			ck_assert_int_eq(k % 10, 0);
		} else {
			ck_assert_int_eq(intern_str_state(s), INTERN_MORTAL);
			ck_assert_uint_eq(test_refcnt(s), NTHREADS);
		}
	}
	st = (struct intern_stats){ 0 };
	ck_assert_int_eq(intern_interp_stats(ctx->interp, &st), 0);
	ck_assert_uint_eq(st.mortal + st.immortal, SAME_KEYS);
	ck_assert_uint_eq(st.immortal, immortal);
	ck_assert_uint_eq(st.dying, 0);
	ck_assert_int_eq(intern_interp_check(ctx->interp), 0);

	for (int t = 0; t < NTHREADS; t++)
		for (int k = 0; k < SAME_KEYS; k++)
			intern_str_decref(ctx->res[t][k]);
	ck_assert_int_eq(intern_interp_stats(ctx->interp, &st), 0);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_uint_eq(st.immortal, immortal);
	ck_assert_int_eq(intern_interp_check(ctx->interp), 0);
	intern_interp_free(ctx->interp);
	pthread_barrier_destroy(&ctx->start);
	free(ctx);
}

START_TEST(test_same_keys_default_shards)
{
	same_keys(0);
}
END_TEST

START_TEST(test_same_keys_one_shard)
{
	same_keys(1);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Mortal strings dying under concurrent lookups and inserts
 * ------------------------------------------------------------------------- */

/*
 * Few keys, so that every key dies and is reborn constantly while other
 * threads look it up.  The promoting variant has more keys, each made
 * immortal at a random moment, so that promotion races with the last
 * decref and with concurrent inserts once per key.
 */
enum {
	RACE_KEYS = 4,
	PROMOTE_KEYS = 64,
	PROMOTE_ODDS = 1024
};

struct race_ctx {
	struct intern_interp *interp;
	pthread_barrier_t start;
	atomic_int stop;
	int promote;
	int nkeys;
	struct test_failure fail;
	char key[PROMOTE_KEYS][24];
	size_t len[PROMOTE_KEYS];
	/* What each thread holds right now, per key. */
	_Atomic(struct intern_str *) held[PROMOTE_KEYS][NTHREADS];
	/* The immortal object of each key, once one was seen. */
	_Atomic(struct intern_str *) immortal[PROMOTE_KEYS];
	atomic_long rounds, misses;
};

struct race_arg {
	struct race_ctx *ctx;
	int t;
};

/*
 * A reference to key k's canonical string by a random route; NULL after a
 * lookup miss.  *extra is set to a reference the caller must also drop
 * (a duplicate the caller held twice before interning it), or NULL.
 */
static struct intern_str *race_get(struct race_ctx *ctx, int k, uint64_t r,
				   struct intern_str **extra)
{
	struct intern_str *s;

	*extra = NULL;
	if (ctx->promote && r % PROMOTE_ODDS == 0) {
		s = intern_str_new(ctx->key[k], ctx->len[k]);
		TCHECK(&ctx->fail, s != NULL);
		if (intern_immortal(ctx->interp, &s) != 0)
			TCHECK(&ctx->fail, !"intern_immortal failed");
		return s;
	}
	switch ((r >> 10) % 4) {
	case 0: return intern_bytes(ctx->interp, ctx->key[k], ctx->len[k]);
	case 1:
		s = intern_lookup(ctx->interp, ctx->key[k], ctx->len[k]);
		if (s == NULL) {
			TCHECK(&ctx->fail, errno == ENOENT);
			atomic_fetch_add(&ctx->misses, 1);
		}
		return s;
	default:
		s = intern_str_new(ctx->key[k], ctx->len[k]);
		TCHECK(&ctx->fail, s != NULL);
		if (r & 0x1000) {
			intern_str_incref(s);
			*extra = s;
		}
		if (intern_mortal(ctx->interp, &s) != 0)
			TCHECK(&ctx->fail, !"intern_mortal failed");
		return s;
	}
}

static void race_check_live(struct race_ctx *ctx, int k, struct intern_str *s)
{
	enum intern_state state = intern_str_state(s);

	/* A string we hold is alive: its count is between 1 and what the
	 * threads can hold at once (each holds at most two references; a
	 * freed string's count is 0 or poison), and its bytes are whole.
	 * Immortal strings keep whatever count they had. */
	TCHECK(&ctx->fail, state == INTERN_MORTAL || state == INTERN_IMMORTAL);
	TCHECK(&ctx->fail,
	       state != INTERN_MORTAL || (test_refcnt(s) >= 1 && test_refcnt(s) <= 2 * NTHREADS));
	TCHECK(&ctx->fail, test_same_content(s, ctx->key[k], ctx->len[k]));
}

static void *race_worker(void *p)
{
	struct race_arg *arg = p;
	struct race_ctx *ctx = arg->ctx;
	int t = arg->t;
	uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
	long rounds = 0;

	pthread_barrier_wait(&ctx->start);
	while (!atomic_load_explicit(&ctx->stop, memory_order_relaxed)) {
		uint64_t r = test_xorshift64s(&x);
		int k = (int)((r >> 40) % (uint64_t)ctx->nkeys);
		struct intern_str *imm = atomic_load(&ctx->immortal[k]);
		struct intern_str *extra, *s;

		s = race_get(ctx, k, r, &extra);
		rounds++;
		if (s == NULL)
			continue;
		race_check_live(ctx, k, s);
		/* Once immortal, always that object. */
		if (imm != NULL)
			TCHECK(&ctx->fail, s == imm);
		if (intern_str_state(s) == INTERN_IMMORTAL) {
			struct intern_str *none = NULL;

			if (!atomic_compare_exchange_strong(&ctx->immortal[k], &none, s))
				TCHECK(&ctx->fail, none == s);
		}

		/* Publish while holding, then compare with every thread
		 * holding the same key: at the instant of each load both
		 * references are held, so the objects must be one.  (A
		 * holder clears its slot before it drops its reference.) */
		atomic_store(&ctx->held[k][t], s);
		for (int u = 0; u < NTHREADS; u++) {
			struct intern_str *o = atomic_load(&ctx->held[k][u]);

			if (o != NULL && o != s)
				TCHECK(&ctx->fail, !"two live canonical "
						    "objects for one key");
		}
		if (r & 0x100)
			sched_yield();
		race_check_live(ctx, k, s);
		atomic_store(&ctx->held[k][t], NULL);
		intern_str_decref(s);
		/* A duplicate held twice: not interned, or the canonical
		 * object itself (then this is its last reference). */
		if (extra != NULL) {
			TCHECK(&ctx->fail,
			       extra == s || intern_str_state(extra) == INTERN_NOT_INTERNED);
			intern_str_decref(extra);
		}
	}
	atomic_fetch_add(&ctx->rounds, rounds);
	return NULL;
}

static void mortal_race(int promote)
{
	struct race_ctx *ctx = calloc(1, sizeof(*ctx));
	struct race_arg arg[NTHREADS];
	pthread_t tid[NTHREADS];
	struct intern_stats st;
	int immortal = 0;

	ck_assert_ptr_nonnull(ctx);
	ctx->interp = test_interp(0);
	ctx->promote = promote;
	ctx->nkeys = promote ? PROMOTE_KEYS : RACE_KEYS;
	test_failure_init(&ctx->fail);
	for (int k = 0; k < ctx->nkeys; k++)
		ctx->len[k] = (size_t)key_text(ctx->key[k], sizeof(ctx->key[k]), "race-key", k);
	pthread_barrier_init(&ctx->start, NULL, NTHREADS + 1);
	for (int t = 0; t < NTHREADS; t++)
		arg[t] = (struct race_arg){ ctx, t };
	start_threads(tid, NTHREADS, race_worker, arg, sizeof(arg[0]));
	pthread_barrier_wait(&ctx->start);
	sleep_ms(RACE_MS);
	atomic_store(&ctx->stop, 1);
	join_threads(tid, NTHREADS);
	fprintf(stderr, "# %s: %ld rounds, %ld lookup misses\n", promote ? "promote" : "mortal",
		atomic_load(&ctx->rounds), atomic_load(&ctx->misses));
	ck_assert_no_failure(&ctx->fail);
	ck_assert_int_gt(atomic_load(&ctx->rounds), 1000);
	/* The lookups did race with deaths. */
	ck_assert_int_gt(atomic_load(&ctx->misses), 0);

	/* Every reference is dropped: no mortal entry is left, and the
	 * immortal ones are intact. */
	ck_assert_int_eq(intern_interp_stats(ctx->interp, &st), 0);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_uint_eq(st.dying, 0);
	for (int k = 0; k < ctx->nkeys; k++) {
		struct intern_str *imm = atomic_load(&ctx->immortal[k]);
		struct intern_str *s;

		s = intern_lookup(ctx->interp, ctx->key[k], ctx->len[k]);
		if (imm == NULL) {
			ck_assert_ptr_null(s);
			continue;
		}
		immortal++;
		ck_assert_ptr_eq(s, imm);
		ck_assert_int_eq(intern_str_state(imm), INTERN_IMMORTAL);
		ck_assert_content(imm, ctx->key[k], ctx->len[k]);
	}
	ck_assert_uint_eq(st.immortal, (size_t)immortal);
	if (promote)
		ck_assert_int_gt(immortal, 0);
	ck_assert_int_eq(intern_interp_check(ctx->interp), 0);
	intern_interp_free(ctx->interp);
	pthread_barrier_destroy(&ctx->start);
	free(ctx);
}

START_TEST(test_mortal_race)
{
	mortal_race(0);
}
END_TEST

START_TEST(test_mortal_race_promote)
{
	mortal_race(1);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Teardown while other threads hold references
 * ------------------------------------------------------------------------- */

enum {
	TD_KEYS = 400
};

struct td_ctx {
	struct intern_interp *interp;
	pthread_barrier_t interned, freed;
	struct test_failure fail;
};

struct td_arg {
	struct td_ctx *ctx;
	int t;
};

static void *td_worker(void *p)
{
	struct td_arg *arg = p;
	struct td_ctx *ctx = arg->ctx;
	struct intern_str *own[TD_KEYS], *shared[TD_KEYS];
	char key[32], skey[32];

	for (int k = 0; k < TD_KEYS; k++) {
		int n = snprintf(key, sizeof(key), "own-%d-%d", arg->t, k);
		int m = key_text(skey, sizeof(skey), "shared", k);

		own[k] = intern_bytes(ctx->interp, key, (size_t)n);
		shared[k] = intern_bytes(ctx->interp, skey, (size_t)m);
		TCHECK(&ctx->fail, own[k] != NULL && shared[k] != NULL);
	}
	pthread_barrier_wait(&ctx->interned);

	/* The main thread is freeing the interpreter now: drop half of the
	 * references meanwhile (the contract allows it). */
	for (int k = 0; k < TD_KEYS; k += 2) {
		intern_str_decref(own[k]);
		intern_str_decref(shared[k]);
	}
	pthread_barrier_wait(&ctx->freed);

	/* After the free: the rest are valid, not interned, and die with
	 * their last decref. */
	for (int k = 1; k < TD_KEYS; k += 2) {
		int n = snprintf(key, sizeof(key), "own-%d-%d", arg->t, k);
		int m = key_text(skey, sizeof(skey), "shared", k);

		TCHECK(&ctx->fail, intern_str_state(own[k]) == INTERN_NOT_INTERNED);
		TCHECK(&ctx->fail, intern_str_state(shared[k]) == INTERN_NOT_INTERNED);
		TCHECK(&ctx->fail, test_same_content(own[k], key, (size_t)n));
		TCHECK(&ctx->fail, test_same_content(shared[k], skey, (size_t)m));
		intern_str_decref(own[k]);
		intern_str_decref(shared[k]);
	}
	return NULL;
}

START_TEST(test_teardown_with_references)
{
	struct td_ctx ctx;
	struct td_arg arg[NTHREADS];
	pthread_t tid[NTHREADS];

	ctx.interp = test_interp(0);
	test_failure_init(&ctx.fail);
	pthread_barrier_init(&ctx.interned, NULL, NTHREADS + 1);
	pthread_barrier_init(&ctx.freed, NULL, NTHREADS + 1);
	for (int t = 0; t < NTHREADS; t++)
		arg[t] = (struct td_arg){ &ctx, t };
	start_threads(tid, NTHREADS, td_worker, arg, sizeof(arg[0]));
	pthread_barrier_wait(&ctx.interned);
	ck_assert_int_eq(intern_interp_check(ctx.interp), 0);
	{
		/* Immortal strings too, freed with the interpreter. */
		for (int k = 0; k < 100; k++) {
			char key[32];
			int n = key_text(key, sizeof(key), "immortal", k);
			struct intern_str *s = intern_str_new(key, (size_t)n);

			ck_assert_int_eq(intern_immortal(ctx.interp, &s), 0);
		}
	}
	intern_interp_free(ctx.interp);
	pthread_barrier_wait(&ctx.freed);
	join_threads(tid, NTHREADS);
	ck_assert_no_failure(&ctx.fail);
	pthread_barrier_destroy(&ctx.interned);
	pthread_barrier_destroy(&ctx.freed);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Short-lived threads
 * ------------------------------------------------------------------------- */

enum {
	SHORT_THREADS = 200
};

struct short_ctx {
	struct intern_interp *interp;
	struct test_failure fail;
	/* Each thread hands back a reference to the shared key. */
	struct intern_str *handed[SHORT_THREADS];
};

struct short_arg {
	struct short_ctx *ctx;
	int t;
};

static void *short_worker(void *p)
{
	struct short_arg *arg = p;
	struct short_ctx *ctx = arg->ctx;
	char key[32];
	int n = snprintf(key, sizeof(key), "thread-%d", arg->t);
	struct intern_str *own, *s;

	/* The first call on a fresh thread: no registration by us. */
	switch (arg->t % 4) {
	case 0: own = intern_bytes(ctx->interp, key, (size_t)n); break;
	case 1:
		own = intern_lookup(ctx->interp, key, (size_t)n);
		TCHECK(&ctx->fail, own == NULL && errno == ENOENT);
		own = intern_bytes(ctx->interp, key, (size_t)n);
		break;
	case 2:
		own = intern_str_new(key, (size_t)n);
		TCHECK(&ctx->fail, intern_mortal(ctx->interp, &own) == 0);
		break;
	default:
		own = intern_str_new(key, (size_t)n);
		TCHECK(&ctx->fail, intern_immortal(ctx->interp, &own) == 0);
		break;
	}
	TCHECK(&ctx->fail, own != NULL && test_same_content(own, key, (size_t)n));
	s = intern_bytes(ctx->interp, "handed-back", 11);
	TCHECK(&ctx->fail, s != NULL && intern_str_state(s) == INTERN_MORTAL);
	ctx->handed[arg->t] = s;
	/* Kill its own string, queueing an RCU-deferred free from a
	 * thread that is about to exit. */
	intern_str_decref(own);
	if (arg->t % 4 != 3) {
		own = intern_lookup(ctx->interp, key, (size_t)n);
		TCHECK(&ctx->fail, own == NULL && errno == ENOENT);
	}
	if (arg->t % 16 == 5)
		intern_barrier();
	return NULL;
}

START_TEST(test_short_lived_threads)
{
	struct short_ctx *ctx = calloc(1, sizeof(*ctx));
	struct short_arg arg[SHORT_THREADS];
	pthread_t tid[SHORT_THREADS];
	struct intern_stats st;

	ck_assert_ptr_nonnull(ctx);
	ctx->interp = test_interp(0);
	test_failure_init(&ctx->fail);
	/* Waves of NTHREADS threads at once. */
	for (int w = 0; w < SHORT_THREADS; w += NTHREADS) {
		int n = SHORT_THREADS - w < NTHREADS ? SHORT_THREADS - w : NTHREADS;

		for (int t = w; t < w + n; t++)
			arg[t] = (struct short_arg){ ctx, t };
		start_threads(&tid[w], n, short_worker, &arg[w], sizeof(arg[0]));
		join_threads(&tid[w], n);
	}
	ck_assert_no_failure(&ctx->fail);

	/* All handed-back references are held now: one object. */
	for (int t = 1; t < SHORT_THREADS; t++)
		ck_assert_ptr_eq(ctx->handed[t], ctx->handed[0]);
	ck_assert_uint_eq(test_refcnt(ctx->handed[0]), SHORT_THREADS);
	ck_assert_content(ctx->handed[0], "handed-back", 11);
	ck_assert_int_eq(intern_interp_stats(ctx->interp, &st), 0);
	ck_assert_uint_eq(st.mortal, 1);
	ck_assert_uint_eq(st.immortal, SHORT_THREADS / 4);
	for (int t = 0; t < SHORT_THREADS; t++)
		intern_str_decref(ctx->handed[t]);
	ck_assert_int_eq(intern_interp_stats(ctx->interp, &st), 0);
	ck_assert_uint_eq(st.mortal, 0);
	ck_assert_int_eq(intern_interp_check(ctx->interp), 0);
	intern_barrier();
	intern_interp_free(ctx->interp);
	free(ctx);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Interpreters made and freed by many threads at once
 * ------------------------------------------------------------------------- */

struct churn_ctx {
	struct test_failure fail;
	struct intern_interp *shared;
};

static void *churn_worker(void *p)
{
	struct churn_ctx *ctx = p;
	struct intern_interp *mine[4] = { NULL };

	for (int i = 0; i < 200; i++) {
		int slot = i % 4;
		struct intern_str *s, *g;

		intern_interp_free(mine[slot]);
		mine[slot] = intern_interp_new(NULL);
		TCHECK(&ctx->fail, mine[slot] != NULL);
		if (mine[slot] == NULL)
			break;
		/* The same bytes in a private and in the shared domain. */
		s = intern_bytes(mine[slot], "churn", 5);
		g = intern_bytes(ctx->shared, "churn", 5);
		TCHECK(&ctx->fail, s != NULL && g != NULL && s != g);
		TCHECK(&ctx->fail, intern_str_state(s) == INTERN_MORTAL);
		intern_str_decref(g);
		/* Keep some references past the free of their domain. */
		if (i % 3 == 0) {
			intern_interp_free(mine[slot]);
			mine[slot] = NULL;
			TCHECK(&ctx->fail, intern_str_state(s) == INTERN_NOT_INTERNED);
		}
		intern_str_decref(s);
	}
	for (int slot = 0; slot < 4; slot++)
		intern_interp_free(mine[slot]);
	return p;
}

START_TEST(test_interp_churn_threads)
{
	struct churn_ctx ctx;
	pthread_t tid[NTHREADS];

	test_failure_init(&ctx.fail);
	ctx.shared = test_interp(0);
	for (int t = 0; t < NTHREADS; t++)
		ck_assert_int_eq(pthread_create(&tid[t], NULL, churn_worker, &ctx), 0);
	join_threads(tid, NTHREADS);
	ck_assert_no_failure(&ctx.fail);
	ck_assert_int_eq(intern_interp_check(ctx.shared), 0);
	intern_interp_free(ctx.shared);
}
END_TEST

/*
 * Many threads intern the same NOT_INTERNED object at once, each with a
 * reference of its own (CPython's intern of a shared string).  Each must get
 * the object back with exactly its own reference: once every thread has
 * dropped it, the string must be gone.  A thread that read the state before
 * another published the object, and then took a second reference to its own
 * candidate, would leave the count one too high: the entry would never die.
 */
#define SHARED_ROUNDS 400

struct shared_ctx {
	struct intern_interp *interp;
	struct intern_str *volatile obj;
	pthread_barrier_t go, done;
	struct test_failure fail;
};

static void *shared_worker(void *arg)
{
	struct shared_ctx *ctx = arg;

	for (int r = 0; r < SHARED_ROUNDS; r++) {
		struct intern_str *p;

		pthread_barrier_wait(&ctx->go);
		p = ctx->obj; /* a reference the main thread took for us */
		TCHECK(&ctx->fail, intern_mortal(ctx->interp, &p) == 0);
		TCHECK(&ctx->fail, p == ctx->obj);
		intern_str_decref(p);
		pthread_barrier_wait(&ctx->done);
	}
	return NULL;
}

START_TEST(test_shared_object_interned_by_all)
{
	struct shared_ctx ctx;
	pthread_t tid[NTHREADS];
	char key[32];

	test_failure_init(&ctx.fail);
	ctx.interp = test_interp(1);
	pthread_barrier_init(&ctx.go, NULL, NTHREADS + 1);
	pthread_barrier_init(&ctx.done, NULL, NTHREADS + 1);
	for (int t = 0; t < NTHREADS; t++)
		ck_assert_int_eq(pthread_create(&tid[t], NULL, shared_worker, &ctx), 0);
	for (int r = 0; r < SHARED_ROUNDS; r++) {
		int len = snprintf(key, sizeof(key), "shared-object-%d", r);

		ctx.obj = intern_str_new(key, (size_t)len);
		ck_assert_ptr_nonnull(ctx.obj);
		for (int t = 1; t < NTHREADS; t++)
			intern_str_incref(ctx.obj); /* one reference per thread */
		pthread_barrier_wait(&ctx.go);
		pthread_barrier_wait(&ctx.done);
		/* Every reference is gone: so is the entry. */
		errno = 0;
		ck_assert_msg(intern_lookup(ctx.interp, key, (size_t)len) == NULL &&
				      errno == ENOENT,
			      "round %d: the string outlived all its references", r);
	}
	join_threads(tid, NTHREADS);
	ck_assert_no_failure(&ctx.fail);
	ck_assert_int_eq(intern_interp_check(ctx.interp), 0);
	pthread_barrier_destroy(&ctx.go);
	pthread_barrier_destroy(&ctx.done);
	intern_interp_free(ctx.interp);
}
END_TEST

int main(void)
{
	/* Each test runs about a second on 2 cores; leave room for slow
	 * machines and sanitizers (CK_TIMEOUT_MULTIPLIER scales it). */
	const TTest *const tc_threads[] = {
		test_same_keys_default_shards,
		test_same_keys_one_shard,
		test_mortal_race,
		test_mortal_race_promote,
		test_shared_object_interned_by_all,
		test_teardown_with_references,
		test_short_lived_threads,
		test_interp_churn_threads,
		NULL,
	};
	const struct test_case cases[] = {
		{ "threads", tc_threads, 30 },
	};

	return test_run_cases("threads", cases, TEST_COUNT(cases));
}
