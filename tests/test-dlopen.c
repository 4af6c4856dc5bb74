/*
 * dlopen: a program that links neither libintern nor liburcu loads
 * libintern.so at run time (as a plugin host or a language runtime does),
 * interns from several threads, frees what it made, and dlcloses it while
 * one thread that used it is still alive; that thread then exits (running
 * libintern's thread-exit handlers).  Then it loads the library again and
 * does it all once more.  libintern is linked with -z nodelete, so
 * dlclose() leaves it and liburcu mapped: liburcu's call_rcu thread and the
 * thread-exit handlers never run unmapped code.
 *
 * Usage: test-dlopen PATH-TO-libintern.so.0.  Exit status 0 on success; a
 * message on stderr and 1 otherwise.  Not a Check suite: Check would link
 * nothing of libintern, but the point is that this binary links nothing
 * but libc.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define KEYS 512
#define ROUNDS 20

struct intern_str;
struct intern_interp;

/* The API, looked up by name: this file includes no libintern header so
 * that nothing of it can leak into the link. */
static struct intern_interp *(*p_interp_new)(const void *);
static void (*p_interp_free)(struct intern_interp *);
static struct intern_str *(*p_bytes)(struct intern_interp *, const char *, size_t);
static void (*p_decref)(struct intern_str *);
static const char *(*p_data)(const struct intern_str *);
static void (*p_barrier)(void);
static int (*p_check)(struct intern_interp *);

static struct intern_interp *interp;
static pthread_mutex_t linger_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t linger_cond = PTHREAD_COND_INITIALIZER;
static int linger_ready, linger_go;
static struct intern_str *first[KEYS]; /* canonical object of each key */

static void fail(const char *what)
{
	fprintf(stderr, "test-dlopen: %s\n", what);
	exit(1);
}

static void *sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (!p) {
		fprintf(stderr, "test-dlopen: dlsym %s: %s\n", name, dlerror());
		exit(1);
	}
	return p;
}

static void key(char *buf, size_t n, unsigned i)
{
	snprintf(buf, n, "plugin-key-%u", i);
}

/* Each thread interns every key ROUNDS times: each answer must be the one
 * canonical object, then it drops its references (so strings die and are
 * freed through liburcu's call_rcu thread, started by the library). */
static void *worker(void *arg)
{
	char buf[32];

	(void)arg;
	for (unsigned r = 0; r < ROUNDS; r++) {
		for (unsigned i = 0; i < KEYS; i++) {
			struct intern_str *s;

			key(buf, sizeof(buf), i);
			s = p_bytes(interp, buf, strlen(buf));
			if (!s || strcmp(p_data(s), buf) != 0)
				fail("intern_bytes gave a wrong string");
			if (s != __atomic_load_n(&first[i], __ATOMIC_ACQUIRE))
				fail("two canonical objects for one key");
			p_decref(s);
		}
	}
	p_barrier();
	return NULL;
}

/* Interns (so libintern registers the thread and arms its exit handlers),
 * then waits until the library was dlclosed, and exits. */
static void *linger(void *arg)
{
	struct intern_str *s = p_bytes(interp, "lingering", 9);

	(void)arg;
	if (!s)
		fail("intern_bytes failed in the lingering thread");
	p_decref(s);
	pthread_mutex_lock(&linger_lock);
	linger_ready = 1;
	pthread_cond_broadcast(&linger_cond);
	while (!linger_go)
		pthread_cond_wait(&linger_cond, &linger_lock);
	pthread_mutex_unlock(&linger_lock);
	return NULL;
}

static void load_and_run(const char *path)
{
	pthread_t lth;
	pthread_t th[THREADS];
	char buf[32];
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "test-dlopen: dlopen %s: %s\n", path, dlerror());
		exit(1);
	}
	p_interp_new = sym(h, "intern_interp_new");
	p_interp_free = sym(h, "intern_interp_free");
	p_bytes = sym(h, "intern_bytes");
	p_decref = sym(h, "intern_str_decref");
	p_data = sym(h, "intern_str_data");
	p_barrier = sym(h, "intern_barrier");
	p_check = sym(h, "intern_interp_check");

	interp = p_interp_new(NULL);
	if (!interp)
		fail("intern_interp_new failed");
	/* The main thread holds one reference per key, so the canonical
	 * object of each is fixed for the run. */
	for (unsigned i = 0; i < KEYS; i++) {
		key(buf, sizeof(buf), i);
		first[i] = p_bytes(interp, buf, strlen(buf));
		if (!first[i])
			fail("intern_bytes failed");
	}
	linger_ready = linger_go = 0;
	if (pthread_create(&lth, NULL, linger, NULL) != 0)
		fail("pthread_create failed");
	for (unsigned t = 0; t < THREADS; t++)
		if (pthread_create(&th[t], NULL, worker, NULL) != 0)
			fail("pthread_create failed");
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	pthread_mutex_lock(&linger_lock);
	while (!linger_ready)
		pthread_cond_wait(&linger_cond, &linger_lock);
	pthread_mutex_unlock(&linger_lock);
	if (p_check(interp) != 0)
		fail("intern_interp_check failed");
	for (unsigned i = 0; i < KEYS; i++)
		p_decref(first[i]);
	p_interp_free(interp);
	p_barrier();
	if (dlclose(h) != 0)
		fail("dlclose failed");
	pthread_mutex_lock(&linger_lock);
	linger_go = 1;
	pthread_cond_broadcast(&linger_cond);
	pthread_mutex_unlock(&linger_lock);
	pthread_join(lth, NULL);
}

static void *late_thread(void *arg)
{
	(void)arg;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;

	if (argc != 2)
		fail("usage: test-dlopen PATH-TO-libintern.so.0");
	load_and_run(argv[1]);
	/* A thread that starts and exits after the unload: nothing of the
	 * library may run at its exit. */
	if (pthread_create(&th, NULL, late_thread, NULL) != 0)
		fail("pthread_create failed");
	pthread_join(th, NULL);
	load_and_run(argv[1]);
	puts("ok");
	return 0;
}
