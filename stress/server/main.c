/*
 * intern-kv: a multithreaded in-memory key-value server speaking the Redis
 * protocol (RESP2), built on libintern.  See README in this folder.
 *
 *   intern-kv --port PORT [--bind ADDR] [--threads N] [--maxclients N] [--no-intern]
 *             [--snapshot FILE]
 *
 * main() parses the options, sets up the string layer, the interpreter,
 * the command table and the keyspace, starts the workers, prints one
 * "ready" line, and on SIGINT or SIGTERM stops everything and frees it
 * (clean under valgrind and LeakSanitizer).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd.h"
#include "net.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: intern-kv --port PORT [--bind ADDR] [--threads N] [--maxclients N] [--no-intern]\n"
		"                 [--snapshot FILE]\n"
		"  --port PORT       TCP port (0: any free one, printed in the ready line); default 6379\n"
		"  --bind ADDR       IPv4 address to listen on; default 127.0.0.1\n"
		"  --threads N       worker threads; default the number of cores\n"
		"  --maxclients N    connections served at once; default 10000\n"
		"  --no-intern       plain heap strings and content-keyed maps (the A/B baseline)\n"
		"  --snapshot FILE   start the interpreter on this libintern snapshot (command\n"
		"                    names, fields, values: shared by every process mapping it)\n");
}

static int number(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return !errno && *s && !*end && *v >= min && *v <= max ? 0 : -1;
}

static int parse_options(int argc, char **argv)
{
	static const struct option options[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 't' },
		{ "maxclients", required_argument, NULL, 'm' },
		{ "no-intern", no_argument, NULL, 'n' },
		{ "snapshot", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long cores = sysconf(_SC_NPROCESSORS_ONLN), v;
	int opt;

	kv_config = (struct kv_config){ .bind = "127.0.0.1",
					.port = 6379,
					.threads = cores > 0 ? (int)cores : 1,
					.maxclients = 10000 };
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (number(optarg, 0, 65535, &v) < 0)
				return -1;
			kv_config.port = (int)v;
			break;
		case 'b': kv_config.bind = optarg; break;
		case 't':
			if (number(optarg, 1, 1024, &v) < 0)
				return -1;
			kv_config.threads = (int)v;
			break;
		case 'm':
			if (number(optarg, 1, 1000000, &v) < 0)
				return -1;
			kv_config.maxclients = v;
			break;
		case 'n': kv_config.no_intern = true; break;
		case 's': kv_config.snapshot = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* Enough descriptors for maxclients connections, as redis-server asks. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)kv_config.maxclients + 32;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The interpreter: on the snapshot when one is given (its strings are then
 * the canonical ones, mapped read-only and shared with every process that
 * maps the file), else empty.  NULL after a message. */
static struct intern_interp *interp_new(void)
{
	struct intern_snapshot *snap;
	struct intern_interp *interp;
	char why[256] = "";

	if (!kv_config.snapshot) {
		interp = intern_interp_new(NULL);
		if (!interp)
			perror("intern-kv: intern_interp_new");
		return interp;
	}
	snap = intern_snapshot_open(kv_config.snapshot, 0, why, sizeof(why));
	if (!snap) {
		fprintf(stderr, "intern-kv: --snapshot %s: refused: %s\n", kv_config.snapshot,
			why[0] ? why : strerror(errno));
		return NULL;
	}
	interp = intern_interp_new_snapshot(NULL, snap);
	if (!interp)
		perror("intern-kv: intern_interp_new_snapshot");
	else
		kv_snapshot_strings = intern_snapshot_count(snap);
	/* The interpreter holds its own reference. */
	intern_snapshot_close(snap);
	return interp;
}

int main(int argc, char **argv)
{
	sigset_t signals;
	int rc = 1;

	if (parse_options(argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	raise_fd_limit();
	kv = kv_config.no_intern ? &kv_layer_plain : &kv_layer_intern;
	kv_interp = interp_new();
	if (!kv_interp)
		return 1;
	/* Every thread inherits the mask: the signals arrive on net_run's signalfd. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	/* A shell without job control starts background commands with SIGINT
	 * ignored.  Linux queues a blocked signal even then, but take the
	 * default back so that delivery to the signalfd depends on nothing
	 * inherited (the default action never runs: the signals stay blocked). */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	kv_start_ms = ks_now_ms();
	if (cmd_init() < 0 || ks_init() < 0) {
		fprintf(stderr, "intern-kv: out of memory\n");
		goto out;
	}
	if (net_listen() < 0)
		goto out;
	if (net_start() < 0) {
		perror("intern-kv: starting the workers");
		goto out;
	}
	printf("intern-kv: ready on %s:%d (%d threads, %s layer, maxclients %ld)\n", kv_config.bind,
	       kv_config.port, kv_config.threads, kv->name, kv_config.maxclients);
	fflush(stdout);
	rc = net_run(&signals) < 0;
out:
	net_stop();
	ks_free();
	cmd_free();
	/* The mortal strings dropped above are freed after a grace period:
	 * wait for it, so that nothing is left for a leak checker. */
	intern_barrier();
	intern_interp_free(kv_interp);
	intern_barrier();
	if (rc == 0)
		fprintf(stderr, "intern-kv: stopped\n");
	return rc;
}
