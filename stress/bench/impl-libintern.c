/*
 * impl-libintern.c: libintern itself, through its public API only, as two
 * rows.
 *
 *   "libintern"         keys are interned immortal (intern_str_new +
 *                       intern_immortal).  A hit is intern_bytes, which on
 *                       an immortal string writes nothing shared, then
 *                       intern_str_decref, a no-op on it.  This is the
 *                       like-for-like row against baselines that never
 *                       free.
 *   "libintern-mortal"  keys are interned mortal (intern_bytes) and the
 *                       benchmark holds one reference to each preloaded key.
 *                       A hit is intern_bytes (one atomic increment) and
 *                       intern_str_decref (one atomic decrement); in churn
 *                       workloads the decrement is the last and the string
 *                       leaves the table.
 *   "libintern-scoped"  keys mortal, held as by libintern-mortal; a hit is
 *                       intern_borrow (no count written) inside a scope,
 *                       and each thread opens one scope per SCOPE_NAMES
 *                       hits (intern_scope_enter ... intern_scope_exit),
 *                       as a server borrows a request's header names in
 *                       one scope per request.  Runs only the hot mortal
 *                       workloads (bench_workload.scoped), where its
 *                       handles, which end with their scope, are never
 *                       released: nothing to release.
 *
 * Every handle is a new reference, as the API returns, so the driver
 * releases every one (BENCH_CAP_ALWAYS_REFS).  Threads need no setup:
 * libintern registers them with liburcu lazily.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"

#include "bench.h"

/* Whether the library counts its lookups (meson option stats): a counter
 * on the lookup path is part of what a hit costs. */
static bool counters_on(void)
{
	struct intern_interp *interp = intern_interp_new(NULL);
	struct intern_stats st = { 0 };

	if (!interp)
		return false;
	for (int i = 0; i < 2; i++)
		intern_str_decref(intern_bytes(interp, "probe", 5));
	intern_interp_stats(interp, &st);
	intern_interp_free(interp);
	return st.hits + st.misses > 0;
}

const char *bench_libintern_origin(void)
{
	static char text[PATH_MAX + 64];
	char path[PATH_MAX];
	Dl_info info;

	/* dladdr names the object that defines intern_bytes: the shared
	 * library normally, the benchmark itself if it got linked in whole. */
	if (!dladdr((void *)intern_bytes, &info) || !info.dli_fname)
		snprintf(path, sizeof(path), "unknown");
	else if (!realpath(info.dli_fname, path))
		snprintf(path, sizeof(path), "%s", info.dli_fname);
	snprintf(text, sizeof(text), "%s (activity counters %s)", path,
		 counters_on() ? "compiled in" : "off");
	return text;
}

static void *li_create(const struct bench_table_config *cfg)
{
	struct intern_interp *interp = intern_interp_new(NULL);

	(void)cfg; /* libintern's shards grow by themselves */
	if (!interp)
		bench_die("intern_interp_new: %s", strerror(errno));
	return interp;
}

static void li_destroy(void *tab)
{
	intern_interp_free(tab);
}

__attribute__((noinline)) static const void *li_intern(void *tab, const char *s, size_t len)
{
	return intern_bytes(tab, s, len);
}

/* Intern as immortal: the path an application takes for strings it keeps
 * for the interpreter's life (identifiers of a program being compiled). */
__attribute__((noinline)) static const void *li_intern_immortal(void *tab, const char *s,
								size_t len)
{
	struct intern_str *str = intern_str_new(s, len);

	if (!str)
		return NULL;
	if (intern_immortal(tab, &str) != 0) {
		intern_str_decref(str); /* on failure *p is still ours */
		return NULL;
	}
	return str;
}

__attribute__((noinline)) static void li_release(void *tab, const void *h)
{
	(void)tab;
	/* Handles are opaque to the driver, hence const; this one is ours. */
	intern_str_decref((struct intern_str *)h);
}

static void li_quiesce(void *tab)
{
	(void)tab;
	intern_barrier();
}

/* The table's slot arrays and shard headers plus each string's header. */
static size_t li_own_bytes(void *tab, double *bytes)
{
	struct intern_stats st;
	size_t n;

	if (intern_interp_stats(tab, &st) != 0)
		return 0;
	n = st.mortal + st.immortal + st.immortal_static;
	*bytes = (double)st.table_bytes + (double)n * sizeof(struct intern_str);
	return n;
}

/* Names borrowed per scope: a request's header names.  A scope costs its
 * enter and exit (about 100 instructions together, docs/benchmarks.md,
 * "Hot mortal strings"), shared by the request's names. */
#define SCOPE_NAMES 8

/* This worker's borrowed hits so far: a scope is open when it is not 0. */
static __thread unsigned scoped_hits;

/* A borrowed hit; the scope rolls over every SCOPE_NAMES hits. */
__attribute__((noinline)) static const void *li_intern_scoped(void *tab, const char *s,
							      size_t len)
{
	if (scoped_hits++ % SCOPE_NAMES == 0) {
		if (scoped_hits > 1)
			intern_scope_exit();
		intern_scope_enter();
	}
	return intern_borrow(tab, s, len);
}

static void li_scoped_thread_exit(void)
{
	if (scoped_hits > 0)
		intern_scope_exit();
	scoped_hits = 0;
}

static const char *li_immortal_unsupported(const struct bench_workload *w)
{
	return w->counted && !w->scoped
		       ? "immortal strings never leave the table: see libintern-mortal"
		       : NULL;
}

static const char *li_scoped_unsupported(const struct bench_workload *w)
{
	return w->scoped ? NULL : "run on the hot mortal workloads only";
}

const struct bench_impl bench_impl_libintern = {
	.name = "libintern",
	.about = "libintern, keys interned immortal (intern_bytes + no-op decref)",
	.role = BENCH_ROLE_LIBINTERN,
	.caps = BENCH_CAP_ALWAYS_REFS,
	.unsupported = li_immortal_unsupported,
	.create = li_create,
	.destroy = li_destroy,
	.intern = li_intern,
	.intern_keep = li_intern_immortal,
	.release = li_release,
	.quiesce = li_quiesce,
	.own_bytes = li_own_bytes,
};

const struct bench_impl bench_impl_libintern_mortal = {
	.name = "libintern-mortal",
	.about = "libintern, keys mortal (intern_bytes + intern_str_decref, counted)",
	.role = BENCH_ROLE_LIBINTERN_MORTAL,
	.caps = BENCH_CAP_ALWAYS_REFS,
	.create = li_create,
	.destroy = li_destroy,
	.intern = li_intern,
	.release = li_release,
	.quiesce = li_quiesce,
	.own_bytes = li_own_bytes,
};

const struct bench_impl bench_impl_libintern_scoped = {
	.name = "libintern-scoped",
	.about = "libintern, keys mortal, borrowed (no count written), one scope per 8 hits",
	.role = BENCH_ROLE_LIBINTERN_SCOPED,
	.caps = BENCH_CAP_BORROWED,
	.unsupported = li_scoped_unsupported,
	.create = li_create,
	.destroy = li_destroy,
	.thread_exit = li_scoped_thread_exit,
	.intern = li_intern_scoped,
	.intern_keep = li_intern, /* the preload: counted, held by the driver */
	.release = li_release,
	.quiesce = li_quiesce,
	.own_bytes = li_own_bytes,
};
