/*
 * bench-flood: what a hash-flooding attack costs, with the flood defence
 * (lib/table.c, "Flood defence") off and on.
 *
 *     build/stress/bench/micro/bench-flood [ATTACK_KEYS [BENIGN_KEYS]]   (1000, 10000)
 *
 * Finds ATTACK_KEYS strings whose process hash agrees on the low 16 bits
 * (one bucket for any shard array of up to 65536 slots) by brute force
 * under a fixed process key, then, in a one-shard interpreter (the shard
 * under attack; with 64 shards the attacker must also match 6 top bits),
 * interns BENIGN_KEYS ordinary keys and the attack keys, all immortal (so a
 * hit writes nothing and the probe is what is measured), and times:
 *
 *   - inserting the attack keys (total);
 *   - intern_lookup() hits on the benign keys and on the attack keys,
 *     the median of 11 rounds over each set, in ns per lookup;
 *
 * once with the defence disabled (intern__reseed_disabled, white box: the
 * table before any reseed) and once enabled (the shard reseeds when the
 * flood is detected and its lookups hash under the shard's own key).
 * Prints the reseed count and the mean and longest probe (intern_stats).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "intern-private.h"
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

static struct keys attack_keys(unsigned n)
{
	struct keys ks = alloc_keys(n);
	uint32_t want = 0;

	for (unsigned long c = 0; ks.n < n; c++) {
		int len = snprintf(ks.k[ks.n], sizeof(ks.k[0]), "atk_%lx", c);
		uint32_t h = intern__hash(ks.k[ks.n], (size_t)len);

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
		ks.len[ks.n] = (size_t)snprintf(ks.k[ks.n], sizeof(ks.k[0]), "key_%x", ks.n * 2654435761u);
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

static void run(const char *what, int disabled, const struct keys *benign,
		const struct keys *atk)
{
	struct intern_config cfg;
	struct intern_interp *interp;
	struct intern_stats st;
	double t0, ins, lb, la;

	__atomic_store_n(&intern__reseed_disabled, disabled, __ATOMIC_RELAXED);
	intern_config_init(&cfg);
	cfg.shards = 1;
	interp = intern_interp_new(&cfg);
	if (!interp)
		exit(1);
	lb = 0;
	intern_all(interp, benign);
	if (!disabled) /* the ordinary table, before the attack */
		printf("%-22s benign lookups %7.1f ns\n", "no attack", time_lookups(interp, benign));
	t0 = now_ns();
	intern_all(interp, atk);
	ins = (now_ns() - t0) / 1e6;
	lb = time_lookups(interp, benign);
	la = time_lookups(interp, atk);
	intern_interp_stats(interp, &st);
	printf("%-22s insert %u attack keys %8.2f ms; lookups: benign %7.1f ns, attack %8.1f ns;"
	       " reseeds %llu, probe mean %.2f max %zu\n",
	       what, atk->n, ins, lb, la, (unsigned long long)st.reseeds, st.avg_probe,
	       st.max_probe);
	intern_interp_free(interp);
	__atomic_store_n(&intern__reseed_disabled, 0, __ATOMIC_RELAXED);
}

#define USAGE "bench-flood [ATTACK_KEYS [BENIGN_KEYS]]   (default 1000 10000)"

int main(int argc, char **argv)
{
	unsigned na = argc > 1 ? bench_args_count(USAGE, argv[1]) : 1000;
	unsigned nb = argc > 2 ? bench_args_count(USAGE, argv[2]) : 10000;
	struct keys atk, benign;
	double t0 = now_ns();

	if (argc > 3)
		bench_args_fail(USAGE, "unexpected argument", argv[3]);

	if (!getenv("INTERN_HASH_SEED"))
		fprintf(stderr, "bench-flood: INTERN_HASH_SEED unset: a random process key\n");
	atk = attack_keys(na);
	printf("%u attack keys (low 16 bits equal) found in %.1f s; %u benign keys\n", na,
	       (now_ns() - t0) / 1e9, nb);
	benign = benign_keys(nb);
	run("defence off (before)", 1, &benign, &atk);
	run("defence on (reseeded)", 0, &benign, &atk);
	return 0;
}
