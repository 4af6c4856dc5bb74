/*
 * info.c: INFO, with redis-server's sections where they apply and a
 * "# Intern" section with the interpreter's figures (intern_interp_stats).
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "net.h"

/* A growing text for the one bulk reply. */
struct text {
	char buf[4096];
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < sizeof(t->buf) - t->len ? (size_t)n
							      : sizeof(t->buf) - t->len - 1;
}

static long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

static void server_section(struct text *t)
{
	add(t,
	    "# Server\r\nredis_version:7.0.15\r\nintern_kv_version:%s\r\n"
	    "redis_mode:standalone\r\nprocess_id:%ld\r\ntcp_port:%d\r\n"
	    "uptime_in_seconds:%lld\r\nthreads:%d\r\nstring_layer:%s\r\n",
	    INTERN_KV_VERSION, (long)getpid(), kv_config.port, (ks_now_ms() - kv_start_ms) / 1000,
	    kv_config.threads, kv->name);
}

static void clients_section(struct text *t)
{
	add(t,
	    "# Clients\r\nconnected_clients:%ld\r\nmaxclients:%ld\r\n"
	    "total_connections_received:%lld\r\n",
	    atomic_load(&kv_clients), kv_config.maxclients, atomic_load(&kv_connections));
}

static void memory_section(struct text *t)
{
	struct mallinfo2 mi = mallinfo2();

	add(t, "# Memory\r\nused_memory:%zu\r\nused_memory_rss:%ld\r\n", mi.uordblks + mi.hblkhd,
	    rss_bytes());
}

static void keyspace_section(struct text *t)
{
	size_t keys, expires;

	ks_counts(&keys, &expires);
	add(t, "# Keyspace\r\ndb0:keys=%zu,expires=%zu,avg_ttl=0\r\n", keys, expires);
}

static void intern_section(struct text *t)
{
	struct intern_stats st;

	if (intern_interp_stats(kv_interp, &st) < 0)
		return;
	add(t,
	    "# Intern\r\nintern_mortal:%zu\r\nintern_immortal:%zu\r\n"
	    "intern_immortal_static:%zu\r\nintern_dying:%zu\r\nintern_bytes:%zu\r\n"
	    "intern_table_bytes:%zu\r\nintern_hits:%llu\r\nintern_misses:%llu\r\n"
	    "intern_inserts:%llu\r\nintern_removals:%llu\r\n",
	    st.mortal, st.immortal, st.immortal_static, st.dying, st.string_bytes, st.table_bytes,
	    (unsigned long long)st.hits, (unsigned long long)st.misses,
	    (unsigned long long)st.inserts, (unsigned long long)st.removals);
	add(t,
	    "intern_snapshot:%s\r\nintern_snapshot_strings:%zu\r\nintern_snapshot_commands:%zu\r\n",
	    kv_config.snapshot ? kv_config.snapshot : "", kv_snapshot_strings,
	    kv_snapshot_commands);
}

static const struct {
	const char *name;
	void (*fn)(struct text *t);
} sections[] = {
	{ "server", server_section }, { "clients", clients_section },
	{ "memory", memory_section }, { "keyspace", keyspace_section },
	{ "intern", intern_section },
};

/* INFO [section ...]: every section, or those named ("all", "default" and
 * "everything" name every one). */
int cmd_info(struct out *o, int argc, const struct kv_arg *argv)
{
	struct text t = { .len = 0 };

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		bool want = argc == 1;
		for (int j = 1; j < argc && !want; j++)
			want = arg_is(&argv[j], sections[i].name) || arg_is(&argv[j], "all") ||
			       arg_is(&argv[j], "default") || arg_is(&argv[j], "everything");
		if (!want)
			continue;
		if (t.len)
			add(&t, "\r\n");
		sections[i].fn(&t);
	}
	out_bulk(o, t.buf, t.len);
	return 0;
}
