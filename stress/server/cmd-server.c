/*
 * cmd-server.c: connection and server commands: PING, ECHO, QUIT, SELECT,
 * COMMAND, CONFIG GET, DBSIZE, FLUSHALL/FLUSHDB.  INFO is in info.c.
 */
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "net.h"

int cmd_ping(struct out *o, int argc, const struct kv_arg *argv)
{
	if (argc > 2)
		out_error(o, "ERR wrong number of arguments for 'ping' command");
	else if (argc == 2)
		out_bulk(o, argv[1].p, argv[1].n);
	else
		out_status(o, "PONG");
	return 0;
}

int cmd_echo(struct out *o, int argc, const struct kv_arg *argv)
{
	out_bulk(o, argv[1].p, argv[1].n);
	return 0;
}

int cmd_quit(struct out *o, int argc, const struct kv_arg *argv)
{
	out_ok(o);
	return 1;
}

int cmd_select(struct out *o, int argc, const struct kv_arg *argv)
{
	long long db;

	if (arg_ll(o, &argv[1], &db) < 0)
		return 0;
	if (db < INT_MIN || db > INT_MAX)
		out_error(
			o,
			"ERR value is out of range, value must between -2147483648 and 2147483647");
	else if (db != 0)
		out_error(o, "ERR DB index is out of range");
	else
		out_ok(o);
	return 0;
}

static void unknown_subcommand(struct out *o, const struct kv_arg *sub, const char *cmd)
{
	out_errorf(o, "ERR unknown subcommand '%.*s'. Try %s HELP.",
		   (int)(sub->n < 128 ? sub->n : 128), sub->p, cmd);
}

/* Enough of COMMAND for redis-cli (which asks COMMAND DOCS for its hints
 * and does without them) and for clients that count commands. */
int cmd_command(struct out *o, int argc, const struct kv_arg *argv)
{
	if (argc == 1 || arg_is(&argv[1], "docs")) {
		out_array(o, 0);
	} else if (arg_is(&argv[1], "count")) {
		if (argc != 2)
			out_error(o, "ERR wrong number of arguments for 'command|count' command");
		else
			out_int(o, (long long)cmd_count());
	} else if (arg_is(&argv[1], "info")) {
		out_array(o, argc - 2);
		for (int i = 2; i < argc; i++)
			out_raw(o, "*-1\r\n", 5);
	} else {
		unknown_subcommand(o, &argv[1], "COMMAND");
	}
	return 0;
}

/* CONFIG GET: the parameters clients ask about (redis-benchmark reads
 * "save" and "appendonly"), as redis-server answers: an exact name is
 * echoed as the client spelled it, a glob pattern gives the canonical
 * names it matches, each parameter once.  CONFIG SET changes nothing. */
int cmd_config(struct out *o, int argc, const struct kv_arg *argv)
{
	char port[16], maxclients[24], threads[16];
	const char *params[][2] = {
		{ "save", "" },
		{ "appendonly", "no" },
		{ "bind", kv_config.bind },
		{ "port", port },
		{ "maxclients", maxclients },
		{ "databases", "1" },
		{ "io-threads", threads },
		{ "proto-max-bulk-len", "536870912" },
	};
	enum {
		NPARAMS = sizeof(params) / sizeof(params[0])
	};
	const struct kv_arg *asked[NPARAMS] = { NULL }; /* the name to echo */
	struct kv_arg canonical[NPARAMS];

	if (arg_is(&argv[1], "set") && argc >= 3) {
		out_errorf(o, "ERR Unknown option or number of arguments for CONFIG SET - '%.*s'",
			   (int)(argv[2].n < 128 ? argv[2].n : 128), argv[2].p);
		return 0;
	}
	if (!arg_is(&argv[1], "get")) {
		unknown_subcommand(o, &argv[1], "CONFIG");
		return 0;
	}
	if (argc < 3) {
		out_error(o, "ERR wrong number of arguments for 'config|get' command");
		return 0;
	}
	snprintf(port, sizeof(port), "%d", kv_config.port);
	snprintf(maxclients, sizeof(maxclients), "%ld", kv_config.maxclients);
	snprintf(threads, sizeof(threads), "%d", kv_config.threads);
	long long n = 0;
	for (int i = 2; i < argc; i++) {
		char pattern[128];
		bool glob = memchr(argv[i].p, '*', argv[i].n) ||
			    memchr(argv[i].p, '?', argv[i].n) || memchr(argv[i].p, '[', argv[i].n);
		snprintf(pattern, sizeof(pattern), "%.*s", (int)argv[i].n, argv[i].p);
		for (size_t j = 0; j < NPARAMS; j++) {
			if (asked[j] || !(glob ? fnmatch(pattern, params[j][0], FNM_CASEFOLD) == 0
					       : arg_is(&argv[i], params[j][0])))
				continue;
			canonical[j] = (struct kv_arg){ params[j][0], strlen(params[j][0]) };
			asked[j] = glob ? &canonical[j] : &argv[i];
			n++;
		}
	}
	out_array(o, 2 * n);
	for (size_t j = 0; j < NPARAMS; j++) {
		if (!asked[j])
			continue;
		out_bulk(o, asked[j]->p, asked[j]->n);
		out_bulk(o, params[j][1], strlen(params[j][1]));
	}
	return 0;
}

int cmd_dbsize(struct out *o, int argc, const struct kv_arg *argv)
{
	size_t keys, expires;

	ks_counts(&keys, &expires);
	out_int(o, (long long)keys);
	return 0;
}

/* FLUSHALL and FLUSHDB [ASYNC|SYNC]: both free everything at once. */
int cmd_flushall(struct out *o, int argc, const struct kv_arg *argv)
{
	if (argc > 2 || (argc == 2 && !arg_is(&argv[1], "sync") && !arg_is(&argv[1], "async"))) {
		out_error(o, ERR_SYNTAX);
		return 0;
	}
	ks_flush();
	out_ok(o);
	return 0;
}
