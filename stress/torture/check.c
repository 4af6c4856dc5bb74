/*
 * check.c: checking one string, and the violation counters.
 *
 * check_str() is the "never dead", "content" and "state" check, run on every
 * string an API call returns and again on every held string just before the
 * harness drops a reference to it (a string freed while still held, as a
 * revived or too-early-freed one is, shows up there).  The library poisons
 * a freed string in checking builds (count 0xdeadbeef, bytes 0x6b) and
 * glibc's free() then overwrites the first 16 bytes with its own list
 * pointers, so freed memory fails these checks one way or another: garbage
 * state, count, length or bytes.
 */
#include "torture.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define POISON_REFCNT 0xdeadbeefu
#define POISON_BYTE 0x6b
/* No string in a run is held this many times: a larger count is garbage. */
#define REFCNT_SANE (1u << 24)

_Atomic uint64_t viol_count[V__COUNT];

const char *const viol_name[V__COUNT] = {
	[V_UNIQUE] = "unique",   [V_DEAD] = "dead",     [V_CONTENT] = "content",
	[V_STATE] = "state",     [V_LOOKUP] = "lookup", [V_ERROR] = "error",
	[V_ACCOUNT] = "account", [V_STARVE] = "starve", [V_STALL] = "stall",
};

static _Atomic unsigned printed;
static atomic_flag failing = ATOMIC_FLAG_INIT;

void violation(enum viol v, const char *fmt, ...)
{
	bool print = atomic_fetch_add_explicit(&printed, 1, memory_order_relaxed) <
		     run_config.verbose;
	va_list ap;
	char buf[512];

	atomic_fetch_add_explicit(&viol_count[v], 1, memory_order_relaxed);
	if (print || run_config.fail_fast) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
	}
	if (print)
		fprintf(stderr, "intern-stress: VIOLATION %s: %s\n", viol_name[v], buf);
	if (run_config.fail_fast) {
		/* Stop the whole process now: after a real violation the
		 * library may corrupt the heap, and a crash would hide which
		 * check fired first.  The first violator reports and exits. */
		if (atomic_flag_test_and_set(&failing))
			for (;;)
				pause();
		printf("intern-stress: FAIL fail-fast: first violation %s: %s (after %.3f s, "
		       "seed=%" PRIu64 ")\n",
		       viol_name[v], buf, run_t0 > 0 ? now_sec() - run_t0 : 0.0, run_config.seed);
		fflush(stdout);
		_exit(1);
	}
}

uint64_t violations_total(void)
{
	uint64_t n = 0;

	for (int v = 0; v < V__COUNT; v++)
		n += atomic_load_explicit(&viol_count[v], memory_order_relaxed);
	return n;
}

static const char *state_name(unsigned st)
{
	static const char *const names[] = { "NOT_INTERNED", "MORTAL", "IMMORTAL",
					     "IMMORTAL_STATIC" };

	return st < 4 ? names[st] : "garbage";
}

static bool all_poison(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] != POISON_BYTE)
			return false;
	return n > 0;
}

bool check_str(const struct intern_str *s, uint32_t k, uint16_t owner, enum want want,
	       const char *ctx)
{
	/* The count is read as the library writes it (atomically); the owner
	 * too, since interp free rewrites it.  Test-only reads of ABI fields. */
	uint32_t rc = __atomic_load_n(&s->ob_refcnt, __ATOMIC_RELAXED);
	unsigned st = intern_str_state(s);
	size_t len, want_len = all_keys.len[k];
	const char *data;
	bool ok_state;

	if (rc == POISON_REFCNT || st > INTERN_IMMORTAL_STATIC ||
	    (st != INTERN_IMMORTAL_STATIC && st != INTERN_IMMORTAL &&
	     (rc == 0 || rc >= REFCNT_SANE))) {
		violation(V_DEAD, "%s: key %u: %p has count %#x state %u (%s): dead or freed", ctx,
			  k, (const void *)s, rc, st, state_name(st));
		return false;
	}
	len = intern_str_len(s);
	data = intern_str_data(s);
	if (len != want_len || memcmp(data, key_data(k), want_len) != 0 || data[want_len]) {
		bool poisoned = len == want_len && all_poison(data, len);

		violation(poisoned ? V_DEAD : V_CONTENT,
			  "%s: key %u: %p has length %zu (want %zu)%s%s", ctx, k, (const void *)s,
			  len, want_len, len == want_len ? ", wrong bytes" : "",
			  poisoned ? " all 0x6b: freed" : "");
		return false;
	}

	if ((want == WANT_INTERNED || want == WANT_IMMORTAL) && all_keys.kind[k] != KEY_DYNAMIC) {
		/* Interning these bytes by any route yields the one object. */
		if (s != all_keys.obj[k] || st != INTERN_IMMORTAL_STATIC) {
			violation(V_STATE,
				  "%s: key %u (%s): got %p state %s, want %p IMMORTAL_STATIC", ctx,
				  k, all_keys.kind[k] == KEY_STATIC ? "static" : "singleton",
				  (const void *)s, state_name(st), (const void *)all_keys.obj[k]);
			return false;
		}
		return true;
	}
	switch (want) {
	case WANT_FREED: /* a fresh string, or one whose interp was freed */
		ok_state = st == INTERN_NOT_INTERNED;
		break;
	case WANT_ORPHAN: ok_state = st == INTERN_NOT_INTERNED || st == INTERN_MORTAL; break;
	case WANT_IMMORTAL: ok_state = st == INTERN_IMMORTAL; break;
	case WANT_INTERNED:
	default: ok_state = st == INTERN_MORTAL || st == INTERN_IMMORTAL; break;
	}
	if (!ok_state) {
		violation(V_STATE, "%s: key %u: %p is %s", ctx, k, (const void *)s, state_name(st));
		return false;
	}
	if (st != INTERN_NOT_INTERNED && owner) {
		uint16_t o = __atomic_load_n(&s->ob_owner, __ATOMIC_RELAXED);

		/* An orphan's owner may be rewritten as we look. */
		if (o != owner && want != WANT_ORPHAN) {
			violation(V_STATE, "%s: key %u: %p is %s owned by interp %u, want %u", ctx,
				  k, (const void *)s, state_name(st), o, owner);
			return false;
		}
	}
	return true;
}
