/*
 * net.h: the server's configuration and its event loops.
 *
 * `threads` workers each run an epoll loop over the connections they
 * accepted; the listening socket is in every worker's epoll set with
 * EPOLLEXCLUSIVE, so a new connection wakes one worker, which accepts it
 * and serves it for its whole life.  Sockets are non-blocking; replies are
 * buffered and written when the socket takes them, so a slow or stalled
 * client only ever delays itself.
 */
#ifndef INTERN_KV_NET_H
#define INTERN_KV_NET_H

#include <stdatomic.h>
#include <signal.h>
#include <stdbool.h>

struct kv_config {
	const char *bind;
	int port;
	int threads;
	long maxclients;
	bool no_intern;
	const char *snapshot; /* --snapshot FILE, or NULL */
};

extern struct kv_config kv_config;
/* Connections open now, and accepted since start. */
extern atomic_long kv_clients;
extern atomic_llong kv_connections;
extern long long kv_start_ms;

/* Bind and listen: 0 or -errno (reason printed). */
int net_listen(void);
/* Start the workers: 0 or -errno. */
int net_start(void);
/* Accept connections and sweep expired keys until one of `signals`
 * (blocked in every thread) arrives: 0 or -errno. */
int net_run(const sigset_t *signals);
/* Stop the workers, close every connection, free what they hold. */
void net_stop(void);

#endif
