/*
 * net.c: the acceptor and the worker event loops (see net.h).
 *
 * The main thread accepts (it also runs the expiry sweep from a timer and
 * waits for SIGINT/SIGTERM on a signalfd) and hands each connection to the
 * next worker in turn, through a small queue and an eventfd: round-robin
 * keeps the workers evenly loaded when a benchmark opens all its
 * connections at once.  A worker serves its connections until they close.
 *
 * Per connection: the parser state and, only while it has a partial request
 * or unsent replies, an input and an output buffer of its own.  A worker
 * reads into its own input buffer and writes replies into its own output
 * buffer; what is left over when the request or the write is incomplete
 * moves to the connection, so an idle connection holds no buffer and the
 * common request costs no allocation.  Requests are run while their replies fit
 * under OUT_SOFT_LIMIT bytes of unsent output; past it the worker stops
 * reading from that client until the socket drains (so a client that
 * pipelines without reading holds at most that much, plus one reply), and
 * a client whose unsent output still passes OUT_HARD_LIMIT is closed.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cmd.h"
#include "resp.h"

#define READ_CHUNK (16 * 1024)
#define RESERVE_AHEAD (4 * 1024 * 1024)
#define OUT_SOFT_LIMIT (256 * 1024)
/* One reply may be a 512 MB bulk string, or a listing of a large hash. */
#define OUT_HARD_LIMIT (1024ul * 1024 * 1024)
/* The worker's buffers: one read, and the replies of one batch. */
#define WORKER_IN (64 * 1024)
#define WORKER_OUT (64 * 1024)
#define MAX_EVENTS 128

struct kv_config kv_config;
atomic_long kv_clients;
atomic_llong kv_connections;
long long kv_start_ms;

struct client {
	int fd;
	uint32_t events; /* what epoll watches for it now */
	bool closing;    /* close once the output is written */
	char *in;
	size_t in_start; /* start of the request being parsed */
	size_t in_len;
	size_t in_cap;
	bool in_borrowed; /* in is the worker's buffer (during a read) */
	struct resp_req req;
	struct out out;
	struct client *prev, *next;
};

struct worker {
	pthread_t thread;
	int epfd;
	int wakefd;           /* eventfd: new connections, or stop */
	pthread_mutex_t lock; /* guards queue */
	int *queue;
	size_t queued, queue_cap;
	struct client *clients;
	struct kv_arg *argv; /* scratch vector for cmd_dispatch */
	size_t argv_cap;
	char in[WORKER_IN];
	char out[WORKER_OUT];
};

static struct worker *workers;
static int listen_fd = -1;
static atomic_bool stopping;

/* epoll tags that are not clients. */
static char wake_tag;

/* ---------------------------------------------------------------------------
 * Connections
 * ------------------------------------------------------------------------- */

static void set_events(struct worker *w, struct client *c, uint32_t events)
{
	if (events == c->events)
		return;
	struct epoll_event ev = { .events = events, .data.ptr = c };
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->events = events;
}

static void client_close(struct worker *w, struct client *c)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (!c->in_borrowed)
		free(c->in);
	resp_free(&c->req);
	out_free(&c->out);
	free(c);
	atomic_fetch_sub(&kv_clients, 1);
}

static void client_add(struct worker *w, int fd)
{
	struct client *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c) {
		close(fd);
		atomic_fetch_sub(&kv_clients, 1);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->events = EPOLLIN;
	resp_init(&c->req);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(c);
		atomic_fetch_sub(&kv_clients, 1);
		return;
	}
	c->next = w->clients;
	if (c->next)
		c->next->prev = c;
	w->clients = c;
}

/* Write what the socket takes.  0, or -1 if the client was closed. */
static int client_flush(struct worker *w, struct client *c)
{
	struct out *o = &c->out;

	if (o->oom)
		goto close;
	while (out_pending(o)) {
		ssize_t n = send(c->fd, o->buf + o->sent, out_pending(o), MSG_NOSIGNAL);
		if (n > 0)
			o->sent += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN)
			break;
		else
			goto close;
	}
	if (!out_pending(o)) {
		if (c->closing)
			goto close;
		out_free(o); /* an idle client keeps no buffer */
	} else if (out_pending(o) > OUT_HARD_LIMIT) {
		goto close;
	} else if (o->borrowed) {
		out_keep(o); /* the rest moves to the client */
		if (o->oom)
			goto close;
	} else {
		out_compact(o);
	}
	set_events(w, c,
		   (out_pending(o) ? EPOLLOUT : 0) |
			   (out_pending(o) < OUT_SOFT_LIMIT && !c->closing ? EPOLLIN : 0));
	return 0;
close:
	client_close(w, c);
	return -1;
}

/* Run one parsed request. */
static void run_request(struct worker *w, struct client *c)
{
	struct resp_req *r = &c->req;
	const char *base = c->in + c->in_start;

	if (r->argc > w->argv_cap) {
		struct kv_arg *v = realloc(w->argv, r->argc * sizeof(*v));
		if (!v) {
			out_error(&c->out, ERR_OOM);
			c->closing = true;
			return;
		}
		w->argv = v;
		w->argv_cap = r->argc;
	}
	for (size_t i = 0; i < r->argc; i++) {
		w->argv[i].p = base + r->argv[i].off;
		w->argv[i].n = r->argv[i].len;
	}
	if (cmd_dispatch(&c->out, (int)r->argc, w->argv))
		c->closing = true;
}

/* run_requests() inside the layer's scope. */
static bool run_batch(struct worker *w, struct client *c)
{
	while (!c->closing) {
		if (out_pending(&c->out) >= OUT_SOFT_LIMIT)
			return true;
		if (!c->out.buf)
			out_lend(&c->out, w->out, WORKER_OUT);
		enum resp_status st = resp_parse(&c->req, c->in + c->in_start,
						 c->in_len - c->in_start);
		if (st == RESP_MORE)
			break;
		if (st == RESP_ERROR) {
			out_error(&c->out, c->req.err);
			c->closing = true;
			break;
		}
		if (c->req.argc)
			run_request(w, c);
		c->in_start += c->req.pos;
		resp_reset(&c->req);
	}
	return false;
}

/* Run the complete requests buffered while the output stays under the
 * soft limit: true if it stopped at the limit with input left.  The
 * requests of one read run in one layer scope (the intern layer's
 * libintern scope: its borrowed strings last until the batch is done),
 * so a pipelined batch pays for one scope. */
static bool run_requests(struct worker *w, struct client *c)
{
	bool more;

	if (kv->scope_begin)
		kv->scope_begin();
	more = run_batch(w, c);
	if (kv->scope_end)
		kv->scope_end();
	return more;
}

/* Keep only the unparsed input, at the start of the buffer; none at all
 * once everything was parsed. */
static void compact_input(struct client *c)
{
	if (c->in_start == c->in_len) {
		if (!c->in_borrowed)
			free(c->in);
		c->in = NULL;
		c->in_borrowed = false;
		c->in_start = c->in_len = c->in_cap = 0;
	} else if (c->in_start > 0) {
		memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
		c->in_len -= c->in_start;
		c->in_start = 0;
	}
}

/* Run what is buffered and write the replies, going on as long as the
 * socket takes them.  0, or -1 if the client was closed. */
static int client_process(struct worker *w, struct client *c)
{
	bool more;

	do {
		more = run_requests(w, c);
		compact_input(c);
		if (client_flush(w, c) < 0)
			return -1;
	} while (more && out_pending(&c->out) < OUT_SOFT_LIMIT);
	return 0;
}

/* Room to read into: at least READ_CHUNK, or the rest of the pending bulk
 * argument at once when that is at most RESERVE_AHEAD bytes away (an
 * announced length is only a claim: a larger one is grown into by
 * doubling as its bytes arrive).  0 or -1 (out of memory). */
static int client_reserve(struct client *c)
{
	size_t need = c->in_len + READ_CHUNK;

	if (c->req.bulk >= 0) {
		size_t whole = c->in_start + c->req.pos + (size_t)c->req.bulk + 2;
		if (whole > need && whole - c->in_len <= RESERVE_AHEAD)
			need = whole;
	}
	if (need <= c->in_cap)
		return 0;
	size_t cap = c->in_cap ? c->in_cap : READ_CHUNK;
	while (cap < need)
		cap *= 2;
	char *in = realloc(c->in, cap);
	if (!in)
		return -1;
	c->in = in;
	c->in_cap = cap;
	return 0;
}

/* After a read into the worker's buffer: move the partial request left
 * to a buffer of the client's own.  0, or -1 out of memory. */
static int keep_input(struct client *c)
{
	if (!c->in_borrowed)
		return 0;
	size_t cap = c->in_len > READ_CHUNK ? c->in_len : READ_CHUNK;
	char *own = malloc(cap);
	if (!own)
		return -1;
	memcpy(own, c->in, c->in_len);
	c->in = own;
	c->in_cap = cap;
	c->in_borrowed = false;
	return 0;
}

static void client_read(struct worker *w, struct client *c)
{
	if (c->in_len == 0) {
		c->in = w->in; /* no partial request: read into ours */
		c->in_cap = WORKER_IN;
		c->in_borrowed = true;
	} else if (client_reserve(c) < 0) {
		client_close(w, c);
		return;
	}
	ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) {
		client_close(w, c);
		return;
	}
	if (n > 0) {
		c->in_len += (size_t)n;
		if (client_process(w, c) < 0)
			return;
	}
	if (c->in_len == 0)
		compact_input(c); /* drops a borrowed, empty buffer */
	else if (keep_input(c) < 0)
		client_close(w, c);
}

static void client_event(struct worker *w, struct client *c, uint32_t events)
{
	if (events & EPOLLOUT) {
		if (client_flush(w, c) < 0)
			return;
		/* Drained below the soft limit: run what was left waiting. */
		if (c->in_len > c->in_start && out_pending(&c->out) < OUT_SOFT_LIMIT &&
		    client_process(w, c) < 0)
			return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_read(w, c);
}

/* ---------------------------------------------------------------------------
 * Workers
 * ------------------------------------------------------------------------- */

static void take_new_connections(struct worker *w)
{
	uint64_t n;

	if (read(w->wakefd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->queued; i++)
		client_add(w, w->queue[i]);
	w->queued = 0;
	pthread_mutex_unlock(&w->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event events[MAX_EVENTS];

	while (!atomic_load(&stopping)) {
		int n = epoll_wait(w->epfd, events, MAX_EVENTS, -1);
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == &wake_tag)
				take_new_connections(w);
			else
				client_event(w, events[i].data.ptr, events[i].events);
		}
	}
	while (w->clients)
		client_close(w, w->clients);
	return NULL;
}

static int hand_over(struct worker *w, int fd)
{
	uint64_t one = 1;
	int rc = 0;

	pthread_mutex_lock(&w->lock);
	if (w->queued == w->queue_cap) {
		size_t cap = w->queue_cap ? 2 * w->queue_cap : 64;
		int *q = realloc(w->queue, cap * sizeof(*q));
		if (q) {
			w->queue = q;
			w->queue_cap = cap;
		}
	}
	if (w->queued < w->queue_cap)
		w->queue[w->queued++] = fd;
	else
		rc = -1;
	pthread_mutex_unlock(&w->lock);
	if (rc == 0 && write(w->wakefd, &one, sizeof(one)) < 0)
		return 0; /* the counter is saturated: the worker is awake anyway */
	return rc;
}

/* Accept what is pending and give each connection to the next worker. */
static void accept_all(void)
{
	static unsigned next;
	static const char full[] = "-ERR max number of clients reached\r\n";

	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		atomic_fetch_add(&kv_connections, 1);
		if (atomic_fetch_add(&kv_clients, 1) >= kv_config.maxclients) {
			/* As redis-server: one best-effort error, then close. */
			if (send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL) < 0)
				(void)0;
			close(fd);
			atomic_fetch_sub(&kv_clients, 1);
			continue;
		}
		if (hand_over(&workers[next++ % (unsigned)kv_config.threads], fd) < 0) {
			close(fd);
			atomic_fetch_sub(&kv_clients, 1);
		}
	}
}

/* ---------------------------------------------------------------------------
 * Start, run, stop
 * ------------------------------------------------------------------------- */

int net_listen(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)kv_config.port) };
	socklen_t len = sizeof(sa);
	int one = 1;

	if (inet_pton(AF_INET, kv_config.bind, &sa.sin_addr) != 1) {
		fprintf(stderr, "intern-kv: bad bind address %s (IPv4 only)\n", kv_config.bind);
		return -EINVAL;
	}
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 ||
	    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(listen_fd, 511) < 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&sa, &len) < 0) {
		int err = errno;
		fprintf(stderr, "intern-kv: %s:%d: %s\n", kv_config.bind, kv_config.port,
			strerror(err));
		return -err;
	}
	kv_config.port = ntohs(sa.sin_port); /* --port 0: the one chosen */
	return 0;
}

int net_start(void)
{
	workers = calloc((size_t)kv_config.threads, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	for (int i = 0; i < kv_config.threads; i++) {
		struct worker *w = &workers[i];
		pthread_mutex_init(&w->lock, NULL);
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &wake_tag };
		if (w->epfd < 0 || w->wakefd < 0 ||
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) < 0 ||
		    pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			kv_config.threads = i; /* net_stop joins those started */
			return -errno;
		}
	}
	return 0;
}

/* The main thread's loop: accept, sweep every 100 ms, until a signal. */
int net_run(const sigset_t *signals)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int sfd = signalfd(-1, signals, SFD_CLOEXEC);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct itimerspec tick = { { 0, 100000000 }, { 0, 100000000 } };
	struct epoll_event ev, events[8];
	int rc = 0;

	if (ep < 0 || sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &tick, NULL) < 0) {
		rc = -errno;
		goto out;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = listen_fd };
	epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, events, 8, -1);
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			uint64_t ticks;
			if (fd == listen_fd) {
				accept_all();
			} else if (fd == tfd) {
				if (read(tfd, &ticks, sizeof(ticks)) > 0)
					ks_sweep();
			} else {
				goto out; /* SIGINT or SIGTERM */
			}
		}
	}
out:
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	return rc;
}

void net_stop(void)
{
	uint64_t one = 1;

	atomic_store(&stopping, true);
	for (int i = 0; workers && i < kv_config.threads; i++) {
		struct worker *w = &workers[i];
		if (write(w->wakefd, &one, sizeof(one)) < 0)
			(void)0;
		pthread_join(w->thread, NULL);
		for (size_t j = 0; j < w->queued; j++)
			close(w->queue[j]);
		free(w->queue);
		free(w->argv);
		close(w->epfd);
		close(w->wakefd);
		pthread_mutex_destroy(&w->lock);
	}
	free(workers);
	workers = NULL;
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
}
