/*
 * bench-args.h: the command-line checks the bench-* tools share.  A bad
 * argument prints what was wrong and the tool's usage on stderr and exits
 * with status 2; --help prints the usage on stdout and exits 0.
 */
#ifndef BENCH_ARGS_H
#define BENCH_ARGS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void bench_args_fail(const char *usage, const char *what, const char *arg)
{
	fprintf(stderr, "%s '%s'\nusage: %s\n", what, arg, usage);
	exit(2);
}

/* --help / -h: the usage on stdout, exit 0; any other option: exit 2. */
static inline void bench_args_option(const char *usage, const char *arg)
{
	if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
		printf("usage: %s\n", usage);
		exit(0);
	}
	if (arg[0] == '-' && arg[1] != '\0')
		bench_args_fail(usage, "unknown option", arg);
}

/* A positive count, the whole argument. */
static inline unsigned bench_args_count(const char *usage, const char *arg)
{
	char *end;
	unsigned long v;

	bench_args_option(usage, arg);
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || v == 0 || v > 1000000000ul)
		bench_args_fail(usage, "expected a count in [1, 1e9], got", arg);
	return (unsigned)v;
}

#endif /* BENCH_ARGS_H */
