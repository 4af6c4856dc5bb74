/*
 * baseline-glib.c: GLib's g_intern_string, built only when GLib is found
 * (meson option `glib`).
 *
 * It is one process-wide table, so create and destroy do nothing and what
 * one workload interns stays for the rest of the run.  It hashes with its
 * own g_str_hash (djb2, unseeded), in both hash modes (bench.h,
 * bench_hash): its users cannot change it.  It never frees a string, so it cannot run counted
 * workloads; and it leaks its quark array each time 2,048 more strings
 * arrive (gquark.c copies it to a larger one and keeps the old for
 * lockless readers), so memory grows with the square of the strings
 * interned: the insert-only workload, which interns millions, is skipped.
 */
#include <glib.h>
#include <unistd.h>

#include "bench.h"

static const char *glib_unsupported(const struct bench_workload *w)
{
	/* What the outgrown quark arrays of n strings leak: arrays of 2048 k
	 * 8-byte pointers for k = 1 .. n / 2048, about n^2 / 512 bytes
	 * (2 GB for a million strings). */
	double n = (double)w->preload.count;
	double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);

	if (w->counted)
		return "GLib never frees interned strings";
	if (w->op == BENCH_OP_KEEP)
		return "GLib leaks a quark array per 2,048 new strings (memory quadratic in inserts)";
	if (n * n / 512 > phys / 4)
		return "GLib would leak over a quarter of this machine's memory in quark arrays";
	return NULL;
}

static void *glib_create(const struct bench_table_config *cfg)
{
	(void)cfg;
	return NULL; /* the table is GLib's global one */
}

static void glib_destroy(void *tab)
{
	(void)tab;
}

__attribute__((noinline)) static const void *glib_intern(void *tab, const char *s, size_t len)
{
	(void)tab;
	(void)len;
	return g_intern_string(s);
}

const struct bench_impl bench_impl_glib = {
	.name = "glib",
	.about = "GLib g_intern_string (global mutex, its own djb2 hash, never frees)",
	.role = BENCH_ROLE_BASELINE,
	.unsupported = glib_unsupported,
	.create = glib_create,
	.destroy = glib_destroy,
	.intern = glib_intern,
};
