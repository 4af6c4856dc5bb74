/*
 * fuzz-api: libFuzzer target for libintern's public API.
 *
 * The input is a program: a sequence of operations on two interpreters
 * (intern_bytes, intern_lookup, intern_str_new, intern_mortal,
 * intern_immortal, intern_static, intern_auto, intern_int, incref, decref,
 * stats and the consistency check, freeing and re-creating an interpreter
 * with another configuration, quotas included, calls on the stale handle,
 * and a forced flood-defence reseed of a shard).  Every result is checked against a reference model: the objects
 * the program knows (bytes, state, owner, counted references held), each
 * interpreter's canonical string per byte string, the quotas.  Any
 * disagreement aborts, which libFuzzer reports as a crash with the input.
 *
 * Built by meson -Dfuzz=true (clang, ASan + UBSan + libFuzzer coverage);
 * tests/fuzz/run-fuzz.sh runs it for a bounded time from the seed corpus in
 * tests/fuzz/corpus/.  docs/testing.md, "Fuzzing", describes the format.
 *
 * Input format: a byte stream read front to back; when it runs out the
 * program ends (every reference is dropped, both interpreters freed).
 *   byte 0..1     configuration of interpreters 0 and 1 (see make_config)
 *   then ops      one byte: op = b % OP_COUNT, interpreter = (b >> 7) & 1,
 *                 followed by the op's operands (keys, handle indices)
 *   key           one byte k: k & 0x80 and a non-empty pool -> a key seen
 *                 before (pool[k % pool size]); else k & 31 bytes follow
 *                 (fewer if the input ends), and the key joins the pool
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <intern.h>

/* White box (lib/intern-private.h): reseed a shard as the flood defence
 * does, so that the model also runs against arrays with their own key. */
struct intern_interp;
int intern__table_reseed(struct intern_interp *interp, unsigned k);

#ifndef INTERN_SMALL_INT_MIN
#error "built with lib_args (libintern_priv_dep) for the small-integer range"
#endif

#define MAXOBJ 1024
#define MAXH 64
#define KEYMAX 31
#define POOL 16
#define NSTATIC 64

enum {
	OP_BYTES,
	OP_LOOKUP,
	OP_NEW,
	OP_MORTAL,
	OP_IMMORTAL,
	OP_STATIC,
	OP_STATIC_NEW,
	OP_DECREF,
	OP_INCREF,
	OP_AUTO,
	OP_INT,
	OP_CHECK,
	OP_RECREATE,
	OP_STALE,
	OP_VERIFY,
	OP_RESEED,
	OP_COUNT
};

struct obj {
	struct intern_str *p;
	char bytes[KEYMAX + 1];
	size_t len;
	int state; /* enum intern_state */
	int owner; /* 0, 1, or -1 */
	int refs;  /* counted references held (dynamic, < IMMORTAL) */
	bool is_static;
	bool alive;
	bool filed[2]; /* statics: filed in interpreter 0 / 1 */
};

struct handle {
	struct intern_str *p;
	int obj; /* -1: a built-in singleton */
};

static struct {
	const uint8_t *in;
	size_t left;
	struct intern_interp *interp[2];
	struct intern_config config[2];
	struct obj objs[MAXOBJ];
	int nobj;
	struct handle h[MAXH];
	int nh;
	char pool[POOL][KEYMAX + 1];
	size_t pool_len[POOL];
	int npool, pool_next;
	struct intern_str *statics[NSTATIC];
	int nstatics;
	unsigned long op_no;
} m;

#define FAIL(...)                                               \
	do {                                                    \
		fprintf(stderr, "fuzz-api: op %lu: ", m.op_no); \
		fprintf(stderr, __VA_ARGS__);                   \
		fputc('\n', stderr);                            \
		abort();                                        \
	} while (0)
#define CHECK(cond)                                                   \
	do {                                                          \
		if (!(cond))                                          \
			FAIL("%s:%d: %s", __FILE__, __LINE__, #cond); \
	} while (0)

/* ---- input ------------------------------------------------------------- */

static bool more(void)
{
	return m.left > 0;
}

static uint8_t u8(void)
{
	if (!m.left)
		return 0;
	m.left--;
	return *m.in++;
}

static size_t key(char *buf)
{
	uint8_t k = u8();
	size_t len;

	if ((k & 0x80) && m.npool) {
		int i = k % m.npool;

		memcpy(buf, m.pool[i], m.pool_len[i]);
		return m.pool_len[i];
	}
	len = k & 31;
	if (len > m.left)
		len = m.left;
	memcpy(buf, m.in, len);
	m.in += len;
	m.left -= len;
	memcpy(m.pool[m.pool_next], buf, len);
	m.pool_len[m.pool_next] = len;
	m.pool_next = (m.pool_next + 1) % POOL;
	if (m.npool < POOL)
		m.npool++;
	return len;
}

/* ---- the model ---------------------------------------------------------- */

/* The built-in singleton for these bytes (the library's rule, restated). */
static struct intern_str *builtin(const char *b, size_t len)
{
	long long v = 0;
	size_t i = 0;
	bool neg;

	if (len == 0)
		return intern_empty();
	if (len == 1)
		return intern_latin1((unsigned char)b[0]);
	neg = b[0] == '-';
	i = neg;
	if (i == len || len - i > 7)
		return NULL;
	if (b[i] == '0') /* "0..." and "-0": not canonical (and "0" is 1 byte) */
		return NULL;
	for (; i < len; i++) {
		if (b[i] < '0' || b[i] > '9')
			return NULL;
		v = v * 10 + (b[i] - '0');
	}
	if (neg)
		v = -v;
	if (v < INTERN_SMALL_INT_MIN || v > INTERN_SMALL_INT_MAX)
		return NULL;
	return intern_int(m.interp[0], v);
}

static bool same(const struct obj *o, const char *b, size_t len)
{
	return o->len == len && memcmp(o->bytes, b, len) == 0;
}

/* Interpreter i's canonical object for these bytes, or -1. */
static int canon(int i, const char *b, size_t len)
{
	for (int o = 0; o < m.nobj; o++) {
		const struct obj *x = &m.objs[o];

		if (!x->alive || !same(x, b, len))
			continue;
		if (x->is_static ? x->filed[i]
				 : x->owner == i && (x->state == INTERN_MORTAL ||
						     x->state == INTERN_IMMORTAL))
			return o;
	}
	return -1;
}

static int find_ptr(const struct intern_str *p)
{
	for (int o = 0; o < m.nobj; o++)
		if (m.objs[o].alive && m.objs[o].p == p)
			return o;
	return -1;
}

static bool counted(const struct obj *x)
{
	return !x->is_static && x->state < INTERN_IMMORTAL;
}

static void mortal_usage(int i, size_t *n, size_t *bytes)
{
	*n = *bytes = 0;
	for (int o = 0; o < m.nobj; o++) {
		const struct obj *x = &m.objs[o];

		if (x->alive && !x->is_static && x->owner == i && x->state == INTERN_MORTAL) {
			++*n;
			*bytes += x->len + 1;
		}
	}
}

/* Would a new mortal entry of `len` bytes pass interpreter i's quota? */
static bool over_quota(int i, size_t len)
{
	size_t n, b;

	mortal_usage(i, &n, &b);
	return (m.config[i].max_mortal && n >= m.config[i].max_mortal) ||
	       (m.config[i].max_mortal_bytes && b + len + 1 > m.config[i].max_mortal_bytes);
}

static int new_obj(struct intern_str *p, const char *b, size_t len, int state, int owner)
{
	struct obj *x;

	if (m.nobj == MAXOBJ)
		FAIL("model full"); /* not reached: run() stops first */
	CHECK(find_ptr(p) < 0);     /* a new object is no live object */
	x = &m.objs[m.nobj];
	memset(x, 0, sizeof(*x));
	x->p = p;
	memcpy(x->bytes, b, len);
	x->len = len;
	x->state = state;
	x->owner = owner;
	x->refs = 1;
	x->alive = true;
	return m.nobj++;
}

/* A counted reference to object o was dropped (the library did it). */
static void unref(int o)
{
	struct obj *x;

	if (o < 0)
		return;
	x = &m.objs[o];
	if (!counted(x))
		return;
	CHECK(x->refs > 0);
	if (--x->refs == 0)
		x->alive = false; /* freed, or removed from its table and freed */
}

/* A new reference to object o was taken by the library for us. */
static void ref(int o)
{
	if (o >= 0 && counted(&m.objs[o]))
		m.objs[o].refs++;
}

static void drop_handle(int k)
{
	intern_str_decref(m.h[k].p);
	unref(m.h[k].obj);
	m.h[k] = m.h[--m.nh];
}

/* Keep a new reference: as a handle, or dropped at once when full. */
static void push(struct intern_str *p, int o)
{
	m.h[m.nh].p = p;
	m.h[m.nh].obj = o;
	m.nh++;
	if (m.nh == MAXH)
		drop_handle(0);
}

static void check_content(const struct intern_str *p, const char *b, size_t len)
{
	CHECK(p != NULL);
	CHECK(intern_str_len(p) == len);
	CHECK(memcmp(intern_str_data(p), b, len) == 0);
	CHECK(intern_str_data(p)[len] == '\0');
}

/* ---- operations --------------------------------------------------------- */

/* What intern_bytes (and intern_auto, intern_int for identifiers and
 * large values) must return for these bytes in interpreter i. */
static void expect_intern(int i, struct intern_str *r, int err, const char *b, size_t len)
{
	struct intern_str *bi = builtin(b, len);
	int c;

	if (bi) {
		CHECK(r == bi);
		push(r, -1);
		return;
	}
	c = canon(i, b, len);
	if (c >= 0) {
		CHECK(r == m.objs[c].p);
		ref(c);
		push(r, c);
		return;
	}
	if (over_quota(i, len)) {
		CHECK(r == NULL && err == ENOSPC);
		return;
	}
	CHECK(r != NULL);
	check_content(r, b, len);
	CHECK(intern_str_state(r) == INTERN_MORTAL);
	push(r, new_obj(r, b, len, INTERN_MORTAL, i));
}

static void op_bytes(int i)
{
	char b[KEYMAX + 1];
	size_t len = key(b);
	struct intern_str *r;

	errno = 0;
	r = intern_bytes(m.interp[i], b, len);
	expect_intern(i, r, errno, b, len);
}

static void op_lookup(int i)
{
	char b[KEYMAX + 1];
	size_t len = key(b);
	struct intern_str *r, *bi = builtin(b, len);
	int c = canon(i, b, len);

	errno = 0;
	r = intern_lookup(m.interp[i], b, len);
	if (bi) {
		CHECK(r == bi);
		push(r, -1);
	} else if (c >= 0) {
		CHECK(r == m.objs[c].p);
		ref(c);
		push(r, c);
	} else {
		CHECK(r == NULL && errno == ENOENT);
	}
}

static void op_new(void)
{
	char b[KEYMAX + 1];
	size_t len = key(b);
	struct intern_str *r = intern_str_new(b, len);

	check_content(r, b, len);
	CHECK(intern_str_state(r) == INTERN_NOT_INTERNED);
	push(r, new_obj(r, b, len, INTERN_NOT_INTERNED, -1));
}

static void op_static_new(void)
{
	char b[KEYMAX + 1];
	size_t len = key(b);
	struct intern_str *s;
	int o;

	if (m.nstatics == NSTATIC)
		return;
	/* A static object laid out by hand, as INTERN_STATIC_DEFINE does:
	 * the library never frees it; this program does, after freeing the
	 * interpreters it was filed in. */
	s = calloc(1, sizeof(*s) + len + 1);
	CHECK(s != NULL);
	s->ob_refcnt = 1;
	s->ob_len = (uint32_t)len;
	s->ob_state = INTERN_IMMORTAL_STATIC;
	s->ob_flags = INTERN_STR_F_STATIC;
	memcpy(s + 1, b, len);
	m.statics[m.nstatics++] = s;
	o = new_obj(s, b, len, INTERN_IMMORTAL_STATIC, -1);
	m.objs[o].is_static = true;
	push(s, o);
}

static int pick(void)
{
	return m.nh ? u8() % m.nh : -1;
}

/* intern_mortal / intern_immortal of handle k in interpreter i. */
static void op_ref(int i, int want)
{
	int k = pick(), rc, c, o;
	struct intern_str *p, *bi;
	struct obj *x;

	if (k < 0)
		return;
	o = m.h[k].obj;
	p = m.h[k].p;
	rc = want == INTERN_MORTAL ? intern_mortal(m.interp[i], &p)
				   : intern_immortal(m.interp[i], &p);
	if (o < 0) { /* a built-in: stays itself */
		CHECK(rc == 0 && p == m.h[k].p);
		return;
	}
	x = &m.objs[o];
	bi = builtin(x->bytes, x->len);
	if (bi) {
		/* The built-in replaces it; the stolen reference is dropped
		 * (a static object passed in stays as it was). */
		CHECK(rc == 0 && p == bi);
		unref(o);
		m.h[k].p = bi;
		m.h[k].obj = -1;
		return;
	}
	if (x->is_static) {
		if (x->state != INTERN_IMMORTAL_STATIC) {
			CHECK(rc == -EINVAL && p == x->p);
			return;
		}
		c = canon(i, x->bytes, x->len);
		CHECK(rc == 0);
		if (c < 0) {
			CHECK(p == x->p);
			x->filed[i] = true;
			return;
		}
		CHECK(p == m.objs[c].p);
		ref(c);
		m.h[k].p = p;
		m.h[k].obj = c;
		return;
	}
	if (x->state != INTERN_NOT_INTERNED && x->owner == i) {
		/* Already canonical here. */
		CHECK(rc == 0 && p == x->p);
		if (want == INTERN_IMMORTAL && x->state == INTERN_MORTAL) {
			x->state = INTERN_IMMORTAL;
			x->refs = 0; /* no longer counted */
		}
		return;
	}
	c = canon(i, x->bytes, x->len);
	if (c >= 0) {
		CHECK(rc == 0 && p == m.objs[c].p);
		ref(c);
		if (want == INTERN_IMMORTAL && m.objs[c].state == INTERN_MORTAL &&
		    !m.objs[c].is_static) {
			m.objs[c].state = INTERN_IMMORTAL;
			m.objs[c].refs = 0;
		}
		unref(o);
		m.h[k].p = p;
		m.h[k].obj = c;
		return;
	}
	if (want == INTERN_MORTAL && over_quota(i, x->len)) {
		CHECK(rc == -ENOSPC && p == x->p);
		return;
	}
	CHECK(rc == 0);
	if (x->state == INTERN_NOT_INTERNED) {
		CHECK(p == x->p);
		x->state = want;
		x->owner = i;
		if (want == INTERN_IMMORTAL)
			x->refs = 0;
		return;
	}
	/* Canonical in the other interpreter: a copy here. */
	CHECK(p != x->p);
	check_content(p, x->bytes, x->len);
	c = new_obj(p, x->bytes, x->len, want, i);
	if (want == INTERN_IMMORTAL)
		m.objs[c].refs = 0;
	unref(o);
	m.h[k].p = p;
	m.h[k].obj = c;
}

static void op_static(int i)
{
	int k = pick(), rc, c, o;
	struct intern_str *p, *bi;
	struct obj *x;

	if (k < 0)
		return;
	o = m.h[k].obj;
	p = m.h[k].p;
	rc = intern_static(m.interp[i], &p);
	if (o < 0) { /* the built-ins are static and IMMORTAL_STATIC */
		CHECK(rc == 0 && p == m.h[k].p);
		return;
	}
	x = &m.objs[o];
	if (!x->is_static) {
		CHECK(rc == -EINVAL && p == x->p);
		return;
	}
	bi = builtin(x->bytes, x->len);
	if (bi) {
		CHECK(rc == 0 && p == bi);
		m.h[k].p = bi;
		m.h[k].obj = -1;
		return;
	}
	c = canon(i, x->bytes, x->len);
	if (c >= 0 && c != o) {
		CHECK(rc == -EEXIST && p == x->p);
		return;
	}
	CHECK(rc == 0 && p == x->p);
	x->state = INTERN_IMMORTAL_STATIC;
	x->filed[i] = true;
}

static void op_decref(void)
{
	int k = pick();

	if (k >= 0)
		drop_handle(k);
}

static void op_incref(void)
{
	int k = pick();

	if (k < 0)
		return;
	intern_str_incref(m.h[k].p);
	ref(m.h[k].obj);
	push(m.h[k].p, m.h[k].obj);
}

static bool is_identifier(const char *b, size_t len, size_t max)
{
	if (len == 0 || len > max)
		return false;
	for (size_t j = 0; j < len; j++) {
		char ch = b[j];
		bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';

		if (!alpha && !(j > 0 && ch >= '0' && ch <= '9'))
			return false;
	}
	return true;
}

static void op_auto(int i)
{
	char b[KEYMAX + 1];
	size_t len = key(b);
	size_t max = m.config[i].auto_intern_max_len ? m.config[i].auto_intern_max_len
						     : INTERN_AUTO_MAX_LEN_DEFAULT;
	struct intern_str *r;

	errno = 0;
	r = intern_auto(m.interp[i], b, len);
	if (builtin(b, len) || is_identifier(b, len, max)) {
		expect_intern(i, r, errno, b, len);
		return;
	}
	check_content(r, b, len);
	CHECK(intern_str_state(r) == INTERN_NOT_INTERNED);
	push(r, new_obj(r, b, len, INTERN_NOT_INTERNED, -1));
}

static void op_int(int i)
{
	long long v = 0;
	char b[32];
	int n;
	struct intern_str *r;

	for (int j = 0; j < 8; j++)
		v = (long long)((unsigned long long)v << 8 | u8());
	if (u8() & 1)
		v %= 2000; /* near the small-integer range */
	n = snprintf(b, sizeof(b), "%lld", v);
	errno = 0;
	r = intern_int(m.interp[i], v);
	expect_intern(i, r, errno, b, (size_t)n);
}

static void op_check(int i)
{
	struct intern_stats st;
	size_t mortal = 0, immortal = 0, statics = 0, qn, qb;

	CHECK(intern_interp_check(m.interp[i]) == 0);
	CHECK(intern_interp_stats(m.interp[i], &st) == 0);
	for (int o = 0; o < m.nobj; o++) {
		const struct obj *x = &m.objs[o];

		if (!x->alive)
			continue;
		if (x->is_static)
			statics += x->filed[i];
		else if (x->owner == i && x->state == INTERN_MORTAL)
			mortal++;
		else if (x->owner == i && x->state == INTERN_IMMORTAL)
			immortal++;
	}
	mortal_usage(i, &qn, &qb);
	if (st.mortal != mortal || st.immortal != immortal || st.immortal_static != statics ||
	    st.dying != 0 || st.quota_mortal != qn || st.quota_mortal_bytes != qb)
		FAIL("stats of %d: mortal %zu/%zu immortal %zu/%zu static %zu/%zu dying %zu "
		     "quota %zu/%zu bytes %zu/%zu",
		     i, st.mortal, mortal, st.immortal, immortal, st.immortal_static, statics,
		     st.dying, st.quota_mortal, qn, st.quota_mortal_bytes, qb);
}

static void op_verify(void)
{
	/* Every handle: its bytes, its state, and equal bytes in one
	 * interpreter are one object. */
	for (int k = 0; k < m.nh; k++) {
		const struct obj *x;

		if (m.h[k].obj < 0)
			continue;
		x = &m.objs[m.h[k].obj];
		CHECK(x->alive && x->p == m.h[k].p);
		check_content(x->p, x->bytes, x->len);
		if ((int)intern_str_state(x->p) != x->state)
			FAIL("handle %d: state %d, model %d", k, intern_str_state(x->p), x->state);
	}
}

static void make_config(int i, uint8_t b)
{
	struct intern_config *c = &m.config[i];

	intern_config_init(c);
	c->shards = 1u << (b & 3);             /* 1..8 */
	c->auto_intern_max_len = (b >> 2) & 7; /* 0: the default */
	switch (b >> 5) {
	case 1: c->max_mortal = 1 + (b & 3); break;
	case 2: c->max_mortal_bytes = 8 + 4 * (b & 7); break;
	case 3:
		c->max_mortal = 4;
		c->max_mortal_bytes = 24;
		break;
	default: break;
	}
}

static void free_interp(int i)
{
	/* Mortal strings held stay valid, NOT_INTERNED; immortal ones are
	 * freed with the interpreter, so their handles go. */
	for (int k = 0; k < m.nh;) {
		int o = m.h[k].obj;

		if (o >= 0 && !m.objs[o].is_static && m.objs[o].owner == i &&
		    m.objs[o].state == INTERN_IMMORTAL)
			m.h[k] = m.h[--m.nh];
		else
			k++;
	}
	intern_interp_free(m.interp[i]);
	for (int o = 0; o < m.nobj; o++) {
		struct obj *x = &m.objs[o];

		if (!x->alive)
			continue;
		if (x->is_static) {
			x->filed[i] = false;
		} else if (x->owner == i) {
			if (x->state == INTERN_IMMORTAL)
				x->alive = false;
			x->state = INTERN_NOT_INTERNED;
			x->owner = -1;
		}
	}
}

static void new_interp(int i, uint8_t b)
{
	make_config(i, b);
	m.interp[i] = intern_interp_new(&m.config[i]);
	CHECK(m.interp[i] != NULL);
}

static void op_recreate(int i)
{
	free_interp(i);
	new_interp(i, u8());
}

static void op_stale(int i)
{
	/* A freed interpreter's handle: every call fails with EINVAL. */
	struct intern_interp *old = m.interp[i];
	struct intern_str *p = m.nh ? m.h[0].p : NULL, *q = p;

	free_interp(i);
	errno = 0;
	CHECK(intern_bytes(old, "stale", 5) == NULL && errno == EINVAL);
	CHECK(intern_lookup(old, "stale", 5) == NULL && errno == EINVAL);
	if (p && m.nh && m.h[0].p == p) {
		CHECK(intern_mortal(old, &q) == -EINVAL && q == p);
	}
	new_interp(i, u8());
}

static void run(void)
{
	new_interp(0, u8());
	new_interp(1, u8());
	while (more() && m.nobj < MAXOBJ - 8) {
		uint8_t b = u8();
		int i = (b >> 7) & 1;

		m.op_no++;
		switch (b % OP_COUNT) {
		case OP_BYTES: op_bytes(i); break;
		case OP_LOOKUP: op_lookup(i); break;
		case OP_NEW: op_new(); break;
		case OP_MORTAL: op_ref(i, INTERN_MORTAL); break;
		case OP_IMMORTAL: op_ref(i, INTERN_IMMORTAL); break;
		case OP_STATIC: op_static(i); break;
		case OP_STATIC_NEW: op_static_new(); break;
		case OP_DECREF: op_decref(); break;
		case OP_INCREF: op_incref(); break;
		case OP_AUTO: op_auto(i); break;
		case OP_INT: op_int(i); break;
		case OP_CHECK: op_check(i); break;
		case OP_RECREATE: op_recreate(i); break;
		case OP_STALE: op_stale(i); break;
		case OP_VERIFY: op_verify(); break;
		case OP_RESEED: (void)intern__table_reseed(m.interp[i], u8()); break;
		}
	}
	op_verify();
	op_check(0);
	op_check(1);
	while (m.nh)
		drop_handle(m.nh - 1);
	op_check(0);
	op_check(1);
	free_interp(0);
	free_interp(1);
	/* The interpreters are gone, and with them every table that filed a
	 * static object: they are ours to free again. */
	for (int s = 0; s < m.nstatics; s++)
		free(m.statics[s]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memset(&m, 0, sizeof(m));
	m.in = data;
	m.left = size;
	run();
	return 0;
}
