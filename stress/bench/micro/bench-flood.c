/*
 * bench-flood: what a hash-flooding attack costs, with the flood defence
 * (lib/table.c, "Flood defence") off and on, at each hash level.
 *
 *     build/stress/bench/micro/bench-flood [ATTACK_KEYS [BENIGN_KEYS]]   (1000, 10000)
 *
 * Finds ATTACK_KEYS strings whose hash agrees on the low 16 bits (one
 * bucket for any shard array of up to 65536 slots) by brute force under a
 * known key, then, in a one-shard interpreter (the shard under attack;
 * with 64 shards the attacker must also match 6 top bits), interns
 * BENIGN_KEYS ordinary keys and the attack keys, all immortal (so a hit
 * writes nothing and the probe is what is measured), and measures:
 *
 *   - inserting the attack keys (total);
 *   - intern_lookup() hits on the benign keys and on the attack keys,
 *     the median of 11 rounds over each set, in ns per lookup;
 *   - the probe length of each attack key in the shard's array (slots
 *     from its home bucket to its own, white box): p99 and longest.
 *
 * Two attacks, each with the defence disabled (intern__reseed_disabled,
 * white box: what the attack does) and enabled:
 *
 *   - against level 0: keys colliding under the process key (fixed with
 *     INTERN_HASH_SEED: a leaked key); the defence reseeds the shard to
 *     level 1, the fast hash under a fresh key of its own;
 *   - against level 1: the shard reseeded first, then keys colliding under
 *     its own key (an attacker who learned that key too, or beat the fast
 *     hash whatever the key); the defence escalates the shard to level 2,
 *     SipHash-1-3 under a fresh key.
 *
 * Each line ends with the shard's hash level and reseed count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "intern-private.h"
#include "table.h"
#include "bench-args.h"

struct keys {
	char (*k)[24];
	size_t *len;
	unsigned n;
};

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static struct keys alloc_keys(unsigned n)
{
	struct keys ks = { malloc(n * sizeof(*ks.k)), malloc(n * sizeof(*ks.len)), 0 };

	if (!ks.k || !ks.len)
		exit(2);
	return ks;
}

/* Keys colliding on the low 16 bits of the process hash, or with `key`
 * of the fast hash under that key (a level-1 array's). */
static struct keys attack_keys(unsigned n, const uint64_t *key)
{
	struct keys ks = alloc_keys(n);
	uint32_t want = 0;

	for (unsigned long c = 0; ks.n < n; c++) {
		int len = snprintf(ks.k[ks.n], sizeof(ks.k[0]), "atk_%lx", c);
		uint32_t h = key ? intern__hash_fast_keyed(key, ks.k[ks.n], (size_t)len)
				 : intern__hash(ks.k[ks.n], (size_t)len);

		if (ks.n == 0)
			want = h;
		else if ((h & 0xffff) != (want & 0xffff))
			continue;
		ks.len[ks.n++] = (size_t)len;
	}
	return ks;
}

static struct keys benign_keys(unsigned n)
{
	struct keys ks = alloc_keys(n);

	for (; ks.n < n; ks.n++)
		ks.len[ks.n] = (size_t)snprintf(ks.k[ks.n], sizeof(ks.k[0]), "key_%x",
						ks.n * 2654435761u);
	return ks;
}

static void intern_all(struct intern_interp *interp, const struct keys *ks)
{
	for (unsigned i = 0; i < ks->n; i++) {
		struct intern_str *s = intern_str_new(ks->k[i], ks->len[i]);

		if (!s || intern_immortal(interp, &s) != 0) {
			fprintf(stderr, "bench-flood: intern failed\n");
			exit(1);
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static __attribute__((noinline)) uintptr_t lookup_all(struct intern_interp *interp,
						      const struct keys *ks)
{
	uintptr_t sink = 0;

	for (unsigned i = 0; i < ks->n; i++) {
		struct intern_str *s = intern_lookup(interp, ks->k[i], ks->len[i]);

		sink += (uintptr_t)s;
		intern_str_decref(s);
	}
	return sink;
}

/* Median ns per lookup over 11 rounds. */
static double time_lookups(struct intern_interp *interp, const struct keys *ks)
{
	double t[11];
	uintptr_t sink = 0;

	for (int r = 0; r < 11; r++) {
		double t0 = now_ns();

		sink += lookup_all(interp, ks);
		t[r] = (now_ns() - t0) / ks->n;
	}
	qsort(t, 11, sizeof(t[0]), cmp_double);
	if (sink == 1)
		puts("");
	return t[5];
}

/* Slots from the home bucket of `data` to its entry in its shard's
 * current array (1: at home), white box; 0 if absent. */
static unsigned probe_length(const struct intern_interp *interp, const char *data, size_t len)
{
	const uint32_t hash = intern__hash(data, len);
	const struct intern__slots *t = intern__shard_of(interp, hash)->slots;
	const uint32_t bh = intern__bucket_hash(t, hash, data, len);
	const struct intern__key k = {
		.ident = NULL, .data = data, .len = len, .tag = intern__tag_of(bh)
	};
	const struct intern__found f = intern__probe_find(t, bh, &k);

	return f.at == INTERN__NOWHERE ? 0 : f.probes + 1;
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

/* The 99th percentile and the longest probe of the keys. */
static void probe_p99(const struct intern_interp *interp, const struct keys *ks, unsigned *p99,
		      unsigned *max)
{
	unsigned *n = malloc(ks->n * sizeof(*n));

	if (!n)
		exit(2);
	for (unsigned i = 0; i < ks->n; i++)
		n[i] = probe_length(interp, ks->k[i], ks->len[i]);
	qsort(n, ks->n, sizeof(*n), cmp_unsigned);
	*p99 = n[(ks->n - 1) * 99 / 100];
	*max = n[ks->n - 1];
	free(n);
}

static const char *const level_name[] = { "0 process", "1 fast/own key", "2 SipHash/own key" };

/*
 * One attack: a one-shard interpreter with the benign keys, reseeded to
 * level 1 first if `against_level1`, then the attack keys (found under
 * the process key, or under the level-1 array's own key), the defence
 * `disabled` or not.
 */
static void run(const char *what, int disabled, bool against_level1, const struct keys *benign,
		unsigned natk)
{
	struct intern_config cfg;
	struct intern_interp *interp;
	const struct intern__shard *sh;
	struct intern_stats st;
	struct keys atk;
	unsigned p99, max;
	double t0, ins, lb, la;

	intern_config_init(&cfg);
	cfg.shards = 1;
	interp = intern_interp_new(&cfg);
	if (!interp)
		exit(1);
	sh = &interp->shards[0];
	intern_all(interp, benign);
	if (!disabled && !against_level1) /* the ordinary table, before any attack */
		printf("%-26s lookups benign %6.1f ns; level %s\n", "no attack",
		       time_lookups(interp, benign), level_name[sh->slots->keyed]);
	if (against_level1 && intern__table_reseed(interp, 0) != 0)
		exit(1);
	atk = attack_keys(natk, against_level1 ? sh->slots->key : NULL);
	__atomic_store_n(&intern__reseed_disabled, disabled, __ATOMIC_RELAXED);
	t0 = now_ns();
	intern_all(interp, &atk);
	ins = (now_ns() - t0) / 1e6;
	__atomic_store_n(&intern__reseed_disabled, 0, __ATOMIC_RELAXED);
	lb = time_lookups(interp, benign);
	la = time_lookups(interp, &atk);
	probe_p99(interp, &atk, &p99, &max);
	intern_interp_stats(interp, &st);
	printf("%-26s insert %8.2f ms; lookups benign %6.1f ns, attack %8.1f ns; attack probe "
	       "p99 %5u max %5u; level %s, reseeds %llu\n",
	       what, ins, lb, la, p99, max, level_name[sh->slots->keyed],
	       (unsigned long long)st.reseeds);
	intern_interp_free(interp);
	free(atk.k);
	free(atk.len);
}

#define USAGE "bench-flood [ATTACK_KEYS [BENIGN_KEYS]]   (default 1000 10000)"

int main(int argc, char **argv)
{
	unsigned na = argc > 1 ? bench_args_count(USAGE, argv[1]) : 1000;
	unsigned nb = argc > 2 ? bench_args_count(USAGE, argv[2]) : 10000;
	struct keys benign;

	if (argc > 3)
		bench_args_fail(USAGE, "unexpected argument", argv[3]);

	if (!getenv("INTERN_HASH_SEED"))
		fprintf(stderr, "bench-flood: INTERN_HASH_SEED unset: a random process key\n");
	printf("%u attack keys (low 16 bits equal under the key attacked), %u benign keys\n", na,
	       nb);
	benign = benign_keys(nb);
	run("level 0 attack, defence", 0, false, &benign, na);
	run("level 0 attack, no defence", 1, false, &benign, na);
	run("level 1 attack, no defence", 1, true, &benign, na);
	run("level 1 attack, escalation", 0, true, &benign, na);
	return 0;
}
