/*
 * cmd.c: the command table, dispatch and the helpers every command file
 * uses.
 */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "resp.h"
#include "server-ids.h"

/* Sorted by data type, as cmd.h declares them. */
static const struct cmd commands[] = {
	{ INTERN_ID(ping), -1, cmd_ping },
	{ INTERN_ID(echo), 2, cmd_echo },
	{ INTERN_ID(quit), -1, cmd_quit },
	{ INTERN_ID(select), 2, cmd_select },
	{ INTERN_ID(command), -1, cmd_command },
	{ INTERN_ID(config), -2, cmd_config },
	{ INTERN_ID(info), -1, cmd_info },
	{ INTERN_ID(dbsize), 1, cmd_dbsize },
	{ INTERN_ID(flushall), -1, cmd_flushall },
	{ INTERN_ID(flushdb), -1, cmd_flushall },
	{ INTERN_ID(type), 2, cmd_type },
	{ INTERN_ID(exists), -2, cmd_exists },
	{ INTERN_ID(del), -2, cmd_del },
	{ INTERN_ID(unlink), -2, cmd_del },
	{ INTERN_ID(expire), -3, cmd_expire },
	{ INTERN_ID(pexpire), -3, cmd_pexpire },
	{ INTERN_ID(ttl), 2, cmd_ttl },
	{ INTERN_ID(pttl), 2, cmd_pttl },
	{ INTERN_ID(persist), 2, cmd_persist },
	{ INTERN_ID(get), 2, cmd_get },
	{ INTERN_ID(set), -3, cmd_set },
	{ INTERN_ID(setnx), 3, cmd_setnx },
	{ INTERN_ID(mget), -2, cmd_mget },
	{ INTERN_ID(mset), -3, cmd_mset },
	{ INTERN_ID(incr), 2, cmd_incr },
	{ INTERN_ID(decr), 2, cmd_decr },
	{ INTERN_ID(incrby), 3, cmd_incrby },
	{ INTERN_ID(decrby), 3, cmd_decrby },
	{ INTERN_ID(append), 3, cmd_append },
	{ INTERN_ID(strlen), 2, cmd_strlen },
	{ INTERN_ID(hset), -4, cmd_hset },
	{ INTERN_ID(hmset), -4, cmd_hmset },
	{ INTERN_ID(hget), 3, cmd_hget },
	{ INTERN_ID(hmget), -3, cmd_hmget },
	{ INTERN_ID(hdel), -3, cmd_hdel },
	{ INTERN_ID(hlen), 2, cmd_hlen },
	{ INTERN_ID(hexists), 3, cmd_hexists },
	{ INTERN_ID(hgetall), 2, cmd_hgetall },
	{ INTERN_ID(hkeys), 2, cmd_hkeys },
	{ INTERN_ID(hvals), 2, cmd_hvals },
	{ INTERN_ID(hincrby), 4, cmd_hincrby },
	{ INTERN_ID(sadd), -3, cmd_sadd },
	{ INTERN_ID(srem), -3, cmd_srem },
	{ INTERN_ID(sismember), 3, cmd_sismember },
	{ INTERN_ID(scard), 2, cmd_scard },
	{ INTERN_ID(smembers), 2, cmd_smembers },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Command name -> const struct cmd *. */
static void *dispatch;

size_t kv_snapshot_strings, kv_snapshot_commands;

/* The longest command name, lower-cased on the stack before the lookup. */
#define CMD_NAME_MAX 16

size_t cmd_count(void)
{
	return NCOMMANDS;
}

/* Whether a command name's canonical string is the snapshot's: its dense ID
 * is then below the snapshot's count. */
static bool in_snapshot(const struct intern_str *name)
{
	struct intern_str *s;
	bool in;

	if (!kv_snapshot_strings)
		return false;
	s = intern_lookup(kv_interp, intern_str_data(name), intern_str_len(name));
	in = s && intern_id_of(kv_interp, s) < kv_snapshot_strings;
	intern_str_decref(s);
	return in;
}

/*
 * The dispatch map is keyed by what each name's bytes intern to, not by the
 * INTERN_ID objects themselves: with a snapshot that holds a command name,
 * the canonical object is the one in the mapping, intern_interp_add_statics()
 * skips the static (-EEXIST) and a request's intern_lookup() finds the
 * mapped one.  Either way the map holds the pointer a lookup returns, so
 * dispatch costs the same with or without a snapshot.
 */
int cmd_init(void)
{
	int rc = intern_interp_add_statics(kv_interp, &intern_server_table);

	if (rc < 0 && !(rc == -EEXIST && kv_snapshot_strings))
		return rc;
	kv_snapshot_commands = 0;
	for (size_t i = 0; i < NCOMMANDS; i++)
		kv_snapshot_commands += in_snapshot(commands[i].name);
	dispatch = kv->map_new(NCOMMANDS);
	if (!dispatch)
		return -ENOMEM;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		struct kv_key k;
		/* The intern layer's key is the singleton itself. */
		rc = kv->key_make(&k, intern_str_data(commands[i].name),
				  intern_str_len(commands[i].name));
		if (rc < 0)
			return rc;
		rc = kv->map_set(dispatch, &k, (void *)&commands[i], NULL);
		kv->key_drop(&k);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void cmd_free(void)
{
	kv->map_free(dispatch, NULL);
	dispatch = NULL;
}

/* redis-server's reply to an unknown command: the name and the first
 * arguments, each cut at 128 bytes and at a NUL (it prints them with %s). */
static void unknown(struct out *o, int argc, const struct kv_arg *argv)
{
	char args[160];
	size_t len = 0;

	args[0] = '\0';
	for (int i = 1; i < argc && len < 128; i++) {
		int n = snprintf(args + len, sizeof(args) - len, "'%.*s' ",
				 (int)(argv[i].n < 128 - len ? argv[i].n : 128 - len), argv[i].p);
		/* %.*s stops at a NUL: count what was written. */
		len += (size_t)n;
	}
	out_errorf(o, "ERR unknown command '%.*s', with args beginning with: %s",
		   (int)(argv[0].n < 128 ? argv[0].n : 128), argv[0].p, args);
}

static const struct cmd *lookup(const struct kv_arg *word)
{
	char lower[CMD_NAME_MAX];
	struct kv_key k;
	void *found = NULL;

	if (word->n > CMD_NAME_MAX)
		return NULL;
	for (size_t i = 0; i < word->n; i++) {
		char ch = word->p[i];
		lower[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch | 0x20) : ch;
	}
	kv->key_find(&k, lower, word->n);
	kv->map_find(dispatch, &k, &found);
	kv->key_drop(&k);
	return found;
}

int cmd_dispatch(struct out *o, int argc, const struct kv_arg *argv)
{
	const struct cmd *c = lookup(&argv[0]);

	if (!c) {
		unknown(o, argc, argv);
		return 0;
	}
	if ((c->arity > 0 && argc != c->arity) || argc < -c->arity) {
		out_errorf(o, "ERR wrong number of arguments for '%s' command",
			   intern_str_data(c->name));
		return 0;
	}
	return c->fn(o, argc, argv);
}

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

int arg_is(const struct kv_arg *a, const char *word)
{
	return strlen(word) == a->n && strncasecmp(a->p, word, a->n) == 0;
}

int arg_ll(struct out *o, const struct kv_arg *a, long long *v)
{
	if (resp_strtoll(a->p, a->n, v))
		return 0;
	out_error(o, ERR_NOT_INT);
	return -1;
}

void key_find(struct kv_key *k, const struct kv_arg *a)
{
	kv->key_find(k, a->p, a->n);
}

int key_make(struct out *o, struct kv_key *k, const struct kv_arg *a)
{
	if (kv->key_make(k, a->p, a->n) == 0)
		return 0;
	out_error(o, ERR_OOM);
	return -1;
}

int get_typed(struct out *o, struct ks_shard *sh, const struct kv_key *k, enum kv_type t, void **v)
{
	*v = ks_get(sh, k);
	if (*v && kv_type_of(*v) != t) {
		out_error(o, ERR_WRONGTYPE);
		return -1;
	}
	if (*v)
		*v = kv_untag(*v);
	return 0;
}

void *map_for_write(struct out *o, struct ks_shard *sh, struct kv_key *k, enum kv_type t)
{
	void *h;

	if (get_typed(o, sh, k, t, &h) < 0)
		return NULL;
	if (h)
		return h;
	h = kv->map_new(0);
	if (h && ks_put(sh, k, kv_tag(h, t), false) == 0)
		return h;
	kv->map_free(h, NULL);
	out_error(o, ERR_OOM);
	return NULL;
}

void delete_if_empty(struct ks_shard *sh, const struct kv_key *k, void *m)
{
	if (kv->map_size(m) == 0)
		ks_del(sh, k);
}

void list_map(struct out *o, void *m, int what)
{
	union kv_iter it;
	struct intern_str *key;
	void *v;

	if (!m) {
		out_array(o, 0);
		return;
	}
	out_array(o, (long long)kv->map_size(m) * (what == (LIST_KEYS | LIST_VALUES) ? 2 : 1));
	kv->iter_init(&it, m);
	while (kv->iter_next(&it, &key, &v)) {
		if (what & LIST_KEYS)
			out_bulk_str(o, key);
		if (what & LIST_VALUES)
			out_bulk_str(o, v);
	}
}
