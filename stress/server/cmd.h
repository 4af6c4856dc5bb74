/*
 * cmd.h: commands and their dispatch.
 *
 * A command's name is a static identifier singleton (INTERN_ID, made at
 * build time by intern-gen-ids); the command table is a layer map keyed by
 * those names, so in the intern layer dispatch is an intern_lookup of the
 * lower-cased word (which never inserts) and a pointer-keyed map lookup.
 */
#ifndef INTERN_KV_CMD_H
#define INTERN_KV_CMD_H

#include <stddef.h>

#include "keyspace.h"
#include "reply.h"

struct kv_arg {
	const char *p;
	size_t n;
};

/* Run a command; returns 1 if the connection must close after the reply
 * (QUIT), else 0. */
typedef int cmd_fn(struct out *o, int argc, const struct kv_arg *argv);

struct cmd {
	struct intern_str *name;
	int arity; /* as redis-server: N exactly, -N at least N */
	cmd_fn *fn;
};

/* Build the dispatch map (after the layer and interpreter are set). */
int cmd_init(void);
void cmd_free(void);
/* Run one request: argv[0] is the command word.  Returns as cmd_fn. */
int cmd_dispatch(struct out *o, int argc, const struct kv_arg *argv);
size_t cmd_count(void);
/* Strings of the --snapshot file (0 without one), and how many command
 * names resolve into it (set by main and cmd_init, read by INFO). */
extern size_t kv_snapshot_strings, kv_snapshot_commands;

/* Helpers the command files share. */
/* Case-insensitive comparison of an argument with a lower-case word. */
int arg_is(const struct kv_arg *a, const char *word);
/* Parse an integer argument or reply ERR_NOT_INT: 0 or -1. */
int arg_ll(struct out *o, const struct kv_arg *a, long long *v);
/* Look up (find) or prepare for insert (make) the key of an argument;
 * make replies ERR_OOM and returns -1 on failure. */
void key_find(struct kv_key *k, const struct kv_arg *a);
int key_make(struct out *o, struct kv_key *k, const struct kv_arg *a);
/* The value of k if absent or of type t (*v, NULL when absent): 0; else
 * reply WRONGTYPE and return -1. */
int get_typed(struct out *o, struct ks_shard *sh, const struct kv_key *k, enum kv_type t, void **v);

/* Look up a hash or set for writing, creating an empty one if absent: the
 * map, or NULL after a reply (WRONGTYPE, out of memory). */
void *map_for_write(struct out *o, struct ks_shard *sh, struct kv_key *k, enum kv_type t);
/* Delete the key of an emptied hash or set, as redis-server does. */
void delete_if_empty(struct ks_shard *sh, const struct kv_key *k, void *m);
/* Reply the keys, the values or both (HGETALL's order) of a map, or an
 * empty array for NULL. */
enum {
	LIST_KEYS = 1,
	LIST_VALUES = 2
};
void list_map(struct out *o, void *m, int what);

/* The commands, by data type. */
cmd_fn cmd_ping, cmd_echo, cmd_quit, cmd_select, cmd_command, cmd_config, cmd_info, cmd_dbsize,
	cmd_flushall;
cmd_fn cmd_type, cmd_exists, cmd_del, cmd_expire, cmd_pexpire, cmd_ttl, cmd_pttl, cmd_persist;
cmd_fn cmd_get, cmd_set, cmd_setnx, cmd_mget, cmd_mset, cmd_incr, cmd_decr, cmd_incrby, cmd_decrby,
	cmd_append, cmd_strlen;
cmd_fn cmd_hset, cmd_hget, cmd_hmget, cmd_hdel, cmd_hlen, cmd_hexists, cmd_hgetall, cmd_hkeys,
	cmd_hvals, cmd_hincrby, cmd_hmset;
cmd_fn cmd_sadd, cmd_srem, cmd_sismember, cmd_scard, cmd_smembers;

#endif
