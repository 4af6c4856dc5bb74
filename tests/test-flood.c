/*
 * Flood defence (lib/table.c, "Flood defence"), white box: strings that
 * collide under the process key (found at test start by brute force on
 * the hash bits that pick the shard and the bucket; meson runs the suite
 * with INTERN_HASH_SEED fixed, so the keys are the same every run) make the
 * shard they land in reseed, online: one reseed, the lookups stay correct,
 * and the probes short again; keys that collide under a reseeded shard's
 * own key escalate it to SipHash; other shards are untouched; readers that run
 * through the reseed never miss; killers that race with it still remove
 * their strings; a large natural table never reseeds; the undefended table
 * (intern__reseed_disabled) shows what the attack does.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "hash.h"
#include "intern-private.h"
#include "table.h"
#include "test-util.h"

/* Keys whose hash agrees with the first one's on the low `low` bits and
 * the top `top` bits: one bucket (for tables of up to 2^low slots) in one
 * shard (of up to 2^top shards).  The hash is the process hash, or with
 * `key` the fast hash under that key (a level-1 array's, table.h). */
struct attack {
	char (*key)[16];
	size_t *len;
	unsigned n;
};

static __attribute__((unused)) struct attack find_attack_under(const uint64_t *key, unsigned n,
							       unsigned low, unsigned top,
							       unsigned long salt)
{
	struct attack a = { malloc(n * sizeof(*a.key)), malloc(n * sizeof(*a.len)), 0 };
	const uint32_t lmask = (1u << low) - 1;
	uint32_t want = 0;

	ck_assert_ptr_nonnull(a.key);
	ck_assert_ptr_nonnull(a.len);
	for (unsigned long c = 0; a.n < n; c++) {
		char buf[16];
		int len = snprintf(buf, sizeof(buf), "atk%lx_%lx", salt, c);
		uint32_t h = key ? intern__hash_fast_keyed(key, buf, (size_t)len)
				 : intern__hash(buf, (size_t)len);

		if (a.n == 0)
			want = h;
		else if ((h & lmask) != (want & lmask) ||
			 (top && (h >> (32 - top)) != (want >> (32 - top))))
			continue;
		memcpy(a.key[a.n], buf, (size_t)len + 1);
		a.len[a.n++] = (size_t)len;
	}
	return a;
}

static __attribute__((unused)) struct attack find_attack(unsigned n, unsigned low, unsigned top,
							 unsigned long salt)
{
	return find_attack_under(NULL, n, low, top, salt);
}

static __attribute__((unused)) void free_attack(struct attack *a)
{
	free(a->key);
	free(a->len);
}

/* Intern `n` benign keys ("benign-<i>"), held in `out`. */
static void intern_benign(struct intern_interp *interp, struct intern_str **out, unsigned n)
{
	char key[32];

	for (unsigned i = 0; i < n; i++) {
		int len = snprintf(key, sizeof(key), "benign-%u", i);

		out[i] = intern_bytes(interp, key, (size_t)len);
		ck_assert_ptr_nonnull(out[i]);
	}
}

static unsigned keyed_shards(const struct intern_interp *interp)
{
	unsigned n = 0;

	for (unsigned k = 0; k < interp->nshards; k++)
		n += interp->shards[k].slots && interp->shards[k].slots->keyed;
	return n;
}

#if INTERN_TEST_HASH == 0

START_TEST(test_reseed_one_shard)
{
	enum {
		BENIGN = 2000,
		ATK = 300
	};
	struct attack a = find_attack(ATK, 12, 0, 1);
	struct intern_interp *interp = test_interp(1);
	struct intern_str *benign[BENIGN], *atk[ATK];
	struct intern_stats st;
	unsigned reseeded_at = 0;

	intern_benign(interp, benign, BENIGN);
	ck_assert_uint_eq(test_stats_of(interp).reseeds, 0);
	for (unsigned i = 0; i < ATK; i++) {
		atk[i] = intern_bytes(interp, a.key[i], a.len[i]);
		ck_assert_content(atk[i], a.key[i], a.len[i]);
		if (!reseeded_at && test_stats_of(interp).reseeds)
			reseeded_at = i + 1;
	}
	st = test_stats_of(interp);
	printf("# reseeded at colliding key %u of %u; then max probe %zu, mean %.2f\n", reseeded_at,
	       ATK, st.max_probe, st.avg_probe);
	fflush(stdout);
	/* One reseed, early (about 64 colliding keys), and the probes are
	 * short again: the attack keys are spread by the shard's new key. */
	ck_assert_uint_eq(st.reseeds, 1);
	ck_assert_uint_gt(reseeded_at, 16);
	ck_assert_uint_le(reseeded_at, 80);
	ck_assert_uint_lt(st.max_probe, 64);
	ck_assert(st.avg_probe < 3.0);
	ck_assert_uint_eq(keyed_shards(interp), 1);
	ck_assert_uint_eq(st.mortal, BENIGN + ATK);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	/* Every lookup still finds its string, and every insert hits. */
	for (unsigned i = 0; i < ATK; i++) {
		struct intern_str *r = intern_bytes(interp, a.key[i], a.len[i]);

		ck_assert_ptr_eq(r, atk[i]);
		intern_str_decref(r);
		ck_assert_lookup(interp, a.key[i], a.len[i], atk[i]);
	}
	for (unsigned i = 0; i < BENIGN; i++) {
		char key[32];
		int len = snprintf(key, sizeof(key), "benign-%u", i);

		ck_assert_lookup(interp, key, (size_t)len, benign[i]);
	}
	/* The killers remove by identity under the new key. */
	for (unsigned i = 0; i < ATK; i += 2)
		intern_str_decref(atk[i]);
	for (unsigned i = 0; i < ATK; i++) {
		if (i % 2)
			ck_assert_lookup(interp, a.key[i], a.len[i], atk[i]);
		else
			ck_assert_absent(interp, a.key[i], a.len[i]);
	}
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (unsigned i = 1; i < ATK; i += 2)
		intern_str_decref(atk[i]);
	for (unsigned i = 0; i < BENIGN; i++)
		intern_str_decref(benign[i]);
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.mortal + st.dying, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
	free_attack(&a);
}
END_TEST

START_TEST(test_reseed_only_attacked_shard)
{
	/* 64 shards: the keys agree on the 6 shard bits and 8 bucket bits. */
	enum {
		BENIGN = 4000,
		ATK = 200
	};
	struct attack a = find_attack(ATK, 8, 6, 2);
	struct intern_interp *interp = test_interp(64);
	struct intern_str **benign = malloc(BENIGN * sizeof(*benign)), *atk[ATK];
	const struct intern__shard *target = intern__shard_of(interp,
							      intern__hash(a.key[0], a.len[0]));
	struct intern_stats st;

	ck_assert_ptr_nonnull(benign);
	intern_benign(interp, benign, BENIGN);
	for (unsigned i = 0; i < ATK; i++)
		atk[i] = intern_bytes(interp, a.key[i], a.len[i]);
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.reseeds, 1);
	ck_assert_uint_eq(keyed_shards(interp), 1);
	ck_assert_uint_eq(target->slots->keyed, INTERN__HASH_FAST);
	ck_assert_uint_eq(target->reseeds, 1);
	ck_assert_uint_lt(st.max_probe, 64);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (unsigned i = 0; i < ATK; i++) {
		ck_assert_lookup(interp, a.key[i], a.len[i], atk[i]);
		intern_str_decref(atk[i]);
	}
	for (unsigned i = 0; i < BENIGN; i++)
		intern_str_decref(benign[i]);
	ck_assert_uint_eq(test_stats_of(interp).mortal, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
	free(benign);
	free_attack(&a);
}
END_TEST

START_TEST(test_escalate_to_siphash)
{
	/* A shard already at level 1 (the fast hash under its own key) is
	 * flooded by keys that collide under that very key, as an attacker
	 * who learned it, or who beat the fast hash whatever its key, would
	 * send: it moves to SipHash under a fresh key (level 2) at once, not
	 * after a doubling, and the probes are short again.  It never goes
	 * back, and a further reseed stays at level 2. */
	enum {
		BENIGN = 200,
		ATK = 300
	};
	struct intern_interp *interp = test_interp(1);
	struct intern__shard *sh = &interp->shards[0];
	struct intern_str *benign[BENIGN], *atk[ATK];
	struct intern_stats st;
	struct attack a;
	uint64_t key[2];
	unsigned escalated_at = 0;

	intern_benign(interp, benign, BENIGN);
	ck_assert_int_eq(intern__table_reseed(interp, 0), 0);
	ck_assert_uint_eq(sh->slots->keyed, INTERN__HASH_FAST);
	memcpy(key, sh->slots->key, sizeof(key));
	a = find_attack_under(key, ATK, 12, 0, 3);
	for (unsigned i = 0; i < ATK; i++) {
		atk[i] = intern_bytes(interp, a.key[i], a.len[i]);
		ck_assert_content(atk[i], a.key[i], a.len[i]);
		if (!escalated_at && sh->slots->keyed == INTERN__HASH_SIP)
			escalated_at = i + 1;
	}
	st = test_stats_of(interp);
	printf("# escalated to SipHash at colliding key %u of %u; then max probe %zu, mean %.2f\n",
	       escalated_at, ATK, st.max_probe, st.avg_probe);
	fflush(stdout);
	ck_assert_uint_eq(st.reseeds, 2);
	ck_assert_uint_eq(sh->slots->keyed, INTERN__HASH_SIP);
	ck_assert_uint_gt(escalated_at, 16);
	ck_assert_uint_le(escalated_at, 80);
	ck_assert_uint_lt(st.max_probe, 64);
	ck_assert(st.avg_probe < 3.0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (unsigned i = 0; i < ATK; i++)
		ck_assert_lookup(interp, a.key[i], a.len[i], atk[i]);
	/* Level 2 is the top. */
	ck_assert_int_eq(intern__table_reseed(interp, 0), 0);
	ck_assert_uint_eq(sh->slots->keyed, INTERN__HASH_SIP);
	for (unsigned i = 0; i < ATK; i++) {
		ck_assert_lookup(interp, a.key[i], a.len[i], atk[i]);
		intern_str_decref(atk[i]);
	}
	for (unsigned i = 0; i < BENIGN; i++)
		intern_str_decref(benign[i]);
	ck_assert_uint_eq(test_stats_of(interp).mortal, 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	intern_interp_free(interp);
	free_attack(&a);
}
END_TEST

START_TEST(test_no_reseed_naturally)
{
	/* Long runs happen by themselves in a large, full linear-probing
	 * table: they must not be taken for a flood.  One shard, so it is
	 * as large and as full as it gets; random bytes, NULs included. */
	enum {
		N = 190000
	};
	struct intern_interp *interp = test_interp(1);
	struct intern_str **s = malloc(N * sizeof(*s));
	struct intern_stats st;
	char key[24];

	ck_assert_ptr_nonnull(s);
	for (unsigned i = 0; i < N; i++) {
		size_t len = 8 + i % 13;

		test_fill_key(key, len, i);
		s[i] = intern_bytes(interp, key, len);
		ck_assert_ptr_nonnull(s[i]);
	}
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.reseeds, 0);
	/* The table did have long runs: the detector was consulted. */
	ck_assert_uint_gt(st.max_probe, 64);
	for (unsigned i = 0; i < N; i++)
		intern_str_decref(s[i]);
	intern_interp_free(interp);
	free(s);
}
END_TEST

START_TEST(test_undefended)
{
	/* Without the defence the same keys make one run as long as they
	 * are many: what the reseed prevents. */
	enum {
		ATK = 300
	};
	struct attack a = find_attack(ATK, 12, 0, 1);
	struct intern_interp *interp = test_interp(1);
	struct intern_str *atk[ATK];
	struct intern_stats st;

	__atomic_store_n(&intern__reseed_disabled, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < ATK; i++)
		atk[i] = intern_bytes(interp, a.key[i], a.len[i]);
	__atomic_store_n(&intern__reseed_disabled, 0, __ATOMIC_RELAXED);
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.reseeds, 0);
	ck_assert_uint_ge(st.max_probe, ATK);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	/* The next insert of a colliding key reseeds. */
	{
		struct attack b = find_attack(ATK + 1, 12, 0, 1);
		struct intern_str *r = intern_bytes(interp, b.key[ATK], b.len[ATK]);

		ck_assert_uint_eq(test_stats_of(interp).reseeds, 1);
		ck_assert_uint_lt(test_stats_of(interp).max_probe, 64);
		intern_str_decref(r);
		free_attack(&b);
	}
	for (unsigned i = 0; i < ATK; i++) {
		ck_assert_lookup(interp, a.key[i], a.len[i], atk[i]);
		intern_str_decref(atk[i]);
	}
	intern_interp_free(interp);
	free_attack(&a);
}
END_TEST

/* ---- threads ----------------------------------------------------------- */

#define READERS 3
#define ATK_T 400

struct race {
	struct intern_interp *interp;
	struct attack a;
	struct intern_str *atk[ATK_T];
	atomic_uint published; /* atk[0..published) are interned and held */
	atomic_int stop;
	struct test_failure fail;
	atomic_long lookups;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	while (!atomic_load_explicit(&r->stop, memory_order_acquire)) {
		unsigned n = atomic_load_explicit(&r->published, memory_order_acquire);
		unsigned i;
		struct intern_str *s;

		if (!n)
			continue;
		x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
		i = (unsigned)((x * 0x2545f4914f6cdd1dull) >> 33) % n;
		/* A held string: the lookup must find that very object, in
		 * the old array or the new one, under its key. */
		s = intern_lookup(r->interp, r->a.key[i], r->a.len[i]);
		TCHECK(&r->fail, s == r->atk[i]);
		intern_str_decref(s);
		atomic_fetch_add_explicit(&r->lookups, 1, memory_order_relaxed);
	}
	return NULL;
}

START_TEST(test_reseed_under_readers)
{
	struct race *r = calloc(1, sizeof(*r));
	pthread_t tid[READERS];

	ck_assert_ptr_nonnull(r);
	test_failure_init(&r->fail);
	r->a = find_attack(ATK_T, 12, 0, 3);
	r->interp = test_interp(1);
	for (int i = 0; i < READERS; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, reader, r), 0);
	for (unsigned i = 0; i < ATK_T; i++) {
		r->atk[i] = intern_bytes(r->interp, r->a.key[i], r->a.len[i]);
		ck_assert_ptr_nonnull(r->atk[i]);
		atomic_store_explicit(&r->published, i + 1, memory_order_release);
		if (i % 8 == 0)
			sched_yield(); /* let the readers run across the reseed */
	}
	atomic_store_explicit(&r->stop, 1, memory_order_release);
	for (int i = 0; i < READERS; i++)
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
	ck_assert_no_failure(&r->fail);
	ck_assert_int_gt(atomic_load(&r->lookups), 0);
	ck_assert_uint_eq(test_stats_of(r->interp).reseeds, 1);
	ck_assert_int_eq(intern_interp_check(r->interp), 0);
	for (unsigned i = 0; i < ATK_T; i++)
		intern_str_decref(r->atk[i]);
	intern_interp_free(r->interp);
	free_attack(&r->a);
	free(r);
}
END_TEST

struct churn {
	struct intern_interp *interp;
	struct attack *a;
	unsigned from, to;
	atomic_int *stop;
	struct test_failure *fail;
};

static void *churner(void *arg)
{
	struct churn *c = arg;
	unsigned i = c->from;

	/* Intern and drop colliding keys: their killers race with the reseed
	 * (and later rebuilds) of the shard. */
	while (!atomic_load_explicit(c->stop, memory_order_acquire)) {
		struct intern_str *s = intern_bytes(c->interp, c->a->key[i], c->a->len[i]);

		TCHECK(c->fail, s && test_same_content(s, c->a->key[i], c->a->len[i]));
		intern_str_decref(s);
		if (++i == c->to)
			i = c->from;
	}
	return NULL;
}

START_TEST(test_reseed_under_killers)
{
	/* Two threads churn 100 colliding keys each while the main thread
	 * interns 300 more and holds them; a quota is set so that the
	 * rebuild's accounting is checked too. */
	enum {
		HELD = 300,
		CHURN = 100
	};
	struct attack a = find_attack(HELD + 2 * CHURN, 12, 0, 4);
	struct intern_config cfg;
	struct intern_interp *interp;
	struct intern_str *held[HELD];
	struct churn c[2];
	pthread_t tid[2];
	atomic_int stop = 0;
	struct test_failure fail;
	struct intern_stats st;

	test_failure_init(&fail);
	intern_config_init(&cfg);
	cfg.shards = 1;
	cfg.max_mortal = 100000;
	interp = intern_interp_new(&cfg);
	ck_assert_ptr_nonnull(interp);
	for (int t = 0; t < 2; t++) {
		c[t] = (struct churn){ interp, &a,   HELD + t * CHURN, HELD + (t + 1) * CHURN,
				       &stop,  &fail };
		ck_assert_int_eq(pthread_create(&tid[t], NULL, churner, &c[t]), 0);
	}
	for (unsigned i = 0; i < HELD; i++) {
		held[i] = intern_bytes(interp, a.key[i], a.len[i]);
		ck_assert_ptr_nonnull(held[i]);
		if (i % 16 == 0)
			ck_assert_int_eq(intern_interp_check(interp), 0);
	}
	atomic_store_explicit(&stop, 1, memory_order_release);
	for (int t = 0; t < 2; t++)
		ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
	ck_assert_no_failure(&fail);
	st = test_stats_of(interp);
	ck_assert_uint_ge(st.reseeds, 1);
	ck_assert_uint_eq(st.mortal, HELD);
	ck_assert_uint_eq(st.quota_mortal, HELD);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (unsigned i = 0; i < HELD; i++) {
		ck_assert_lookup(interp, a.key[i], a.len[i], held[i]);
		intern_str_decref(held[i]);
	}
	st = test_stats_of(interp);
	ck_assert_uint_eq(st.mortal + st.dying + st.quota_mortal, 0);
	intern_interp_free(interp);
	free_attack(&a);
}
END_TEST

#endif /* INTERN_TEST_HASH == 0 */

START_TEST(test_degraded_no_reseed)
{
	/* In a total-collision build no key can help, so no shard reseeds,
	 * however long its run (and in a normal build, this is a small
	 * table that has no reason to). */
	enum {
		N = 600
	};
	struct intern_interp *interp = test_interp(4);
	struct intern_str *s[N];

	intern_benign(interp, s, N);
	ck_assert_uint_eq(test_stats_of(interp).reseeds, 0);
	ck_assert_uint_eq(keyed_shards(interp), 0);
	ck_assert_int_eq(intern_interp_check(interp), 0);
	for (unsigned i = 0; i < N; i++)
		intern_str_decref(s[i]);
	intern_interp_free(interp);
}
END_TEST

int main(void)
{
	const TTest *const tc_flood[] = {
		test_degraded_no_reseed,
#if INTERN_TEST_HASH == 0
		/* The rest finds collisions by brute force and expects the
		 * reseed: meaningless in a total-collision build (every key
		 * collides, and no reseed is attempted). */
		test_reseed_one_shard,
		test_reseed_only_attacked_shard,
		test_escalate_to_siphash,
		test_no_reseed_naturally,
		test_undefended,
		test_reseed_under_readers,
		test_reseed_under_killers,
#endif
		NULL,
	};
	const struct test_case cases[] = {
		{ "flood", tc_flood, 60 },
	};

	return test_run_cases("flood", cases, TEST_COUNT(cases));
}
