/*
 * alloc.c: allocation wrappers with failure injection.
 *
 * When disarmed (always, outside tests) the cost is one relaxed load of
 * `fault_armed` per allocation; allocations are never on the lookup-hit
 * path anyway.
 */
#include "alloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int fault_armed;            /* 0 disarmed, 1 one-shot, 2 persistent */
static unsigned long fault_target; /* value of alloc_counter that fails */
static unsigned long alloc_counter;

bool intern__alloc_should_fail(void)
{
	/* Relaxed: the counter only needs to be exact, not ordered with
	 * anything; arming happens-before the allocations it targets because
	 * tests arm from the thread that then calls the API. */
	unsigned long n = __atomic_add_fetch(&alloc_counter, 1, __ATOMIC_RELAXED);
	int armed = __atomic_load_n(&fault_armed, __ATOMIC_RELAXED);

	if (!armed)
		return 0;
	if (armed == 2)
		return n >= __atomic_load_n(&fault_target, __ATOMIC_RELAXED);
	return n == __atomic_load_n(&fault_target, __ATOMIC_RELAXED);
}

void *intern__malloc(size_t size)
{
	if (intern__alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return malloc(size);
}

void *intern__calloc(size_t nmemb, size_t size)
{
	if (intern__alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return calloc(nmemb, size);
}

void *intern__calloc_aligned(size_t align, size_t nmemb, size_t size)
{
	void *p;

	if (intern__alloc_should_fail() || (size && nmemb > SIZE_MAX / size) ||
	    posix_memalign(&p, align, nmemb * size) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	return memset(p, 0, nmemb * size);
}

void intern__free(void *ptr)
{
	free(ptr);
}

void intern__fault_arm(unsigned long nth, int persistent)
{
	unsigned long now = __atomic_load_n(&alloc_counter, __ATOMIC_RELAXED);

	__atomic_store_n(&fault_target, now + (nth ? nth : 1), __ATOMIC_RELAXED);
	__atomic_store_n(&fault_armed, persistent ? 2 : 1, __ATOMIC_SEQ_CST);
}

void intern__fault_disarm(void)
{
	__atomic_store_n(&fault_armed, 0, __ATOMIC_SEQ_CST);
}

unsigned long intern__alloc_count(void)
{
	return __atomic_load_n(&alloc_counter, __ATOMIC_RELAXED);
}
