/*
 * allocfail.c: allocation-failure injection (--alloc-fail).
 *
 * Two modes, both built on lib/alloc.h's hooks:
 *
 *   sweep  One worker, inline, runs a fixed workload (same seed, same
 *          operations) in a fresh session again and again.  A dry run
 *          counts the allocations it makes (A); then for every k in
 *          1..A (+ a margin) the k-th allocation from the session's start
 *          fails, and for k in 1..A by steps every allocation from the k-th
 *          on fails.  Each session runs its normal checks and its exact
 *          end-of-run audit, so a failed call must have been clean: NULL
 *          with errno ENOMEM or -ENOMEM with *p untouched and still valid,
 *          and nothing half-inserted, lost or leaked (the audit counts the
 *          tables; LeakSanitizer, in an ASan build, counts the heap).
 *
 *   storm  The normal threaded run, while the main thread re-arms a
 *          one-shot fault every millisecond at a random distance, and every
 *          ~50 ms makes every allocation fail for a few milliseconds.
 *
 * In both, the workers accept ENOMEM as a clean outcome (run_config.alloc_fail)
 * and check everything else as usual.
 */
#include "torture.h"

#include "alloc.h"

#include <inttypes.h>
#include <stdio.h>

#define SWEEP_OPS 300

/* One sweep session; true if the fault showed (clean ENOMEM seen). */
static bool sweep_once(uint64_t *enomem, unsigned *setup_failed)
{
	struct result res;

	if (session(0, SWEEP_OPS, 0, false, &res)) {
		++*setup_failed;
		intern__fault_disarm();
		return true;
	}
	intern__fault_disarm();
	*enomem += res.enomem;
	return res.enomem != 0;
}

int allocfail_sweep(uint64_t *enomem_out)
{
	const struct config saved = run_config;
	static const unsigned mix[OP__COUNT] = {
		[OP_MORTAL] = 20,   [OP_IMMORTAL] = 10, [OP_BYTES] = 20,
		[OP_LOOKUP] = 10,   [OP_INCREF] = 5,    [OP_RELEASE] = 25,
		[OP_REINTERN] = 10, [OP_INTERP] = 1,    [OP_INSPECT] = 1,
	};
	unsigned long a0, nalloc, k, step;
	unsigned transient = 0, persistent = 0, setup_failed = 0, shown = 0;
	uint64_t enomem = 0, v0 = violations_total();
	double t0 = now_sec();
	struct result res;

	run_config.interps = 2;
	run_config.hold = 16;
	run_config.private_pct = 30;
	run_config.check_every = 0;
	run_config.progress = 0;
	run_config.quiet = true;
	run_config.reborn_pct = 10;
	for (unsigned o = 0; o < OP__COUNT; o++)
		run_config.weights[o] = mix[o];
	worker_weights_init();

	a0 = intern__alloc_count();
	if (session(0, SWEEP_OPS, 0, false, &res)) {
		fprintf(stderr, "intern-stress: alloc-fail sweep: the dry run failed\n");
		violation(V_ERROR, "alloc-fail dry run could not set up");
	}
	intern_barrier();
	nalloc = intern__alloc_count() - a0;

	for (k = 1; k <= nalloc + nalloc / 8 + 4; k++, transient++) {
		intern__fault_arm(k, 0);
		shown += sweep_once(&enomem, &setup_failed);
	}
	step = nalloc / 64 + 1;
	for (k = 1; k <= nalloc + 1; k += step, persistent++) {
		intern__fault_arm(k, 1);
		shown += sweep_once(&enomem, &setup_failed);
	}

	run_config = saved;
	worker_weights_init();
	*enomem_out += enomem;
	fprintf(stderr,
		"intern-stress: alloc-fail sweep: %lu allocations per workload; %u one-shot "
		"and %u persistent runs; %u saw the failure (%" PRIu64
		" clean ENOMEM returns, %u failed setups); violations %" PRIu64 "; %.2f s\n",
		nalloc, transient, persistent, shown, enomem, setup_failed, violations_total() - v0,
		now_sec() - t0);
	return (int)(violations_total() - v0);
}

void allocfail_storm_tick(uint64_t *rng, double now)
{
	static double persist_until = -1, next_persist = 0.05;

	if (persist_until >= 0) {
		if (now >= persist_until) {
			intern__fault_disarm();
			persist_until = -1;
			next_persist = now + 0.03 + rng_below(rng, 40) * 1e-3;
		}
		return;
	}
	if (now >= next_persist) {
		intern__fault_arm(1 + rng_below(rng, 8), 1);
		persist_until = now + 0.001 + rng_below(rng, 5) * 1e-3;
		return;
	}
	intern__fault_arm(1 + rng_below(rng, 64), 0);
}
