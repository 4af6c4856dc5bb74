/*
 * Helpers shared by the Check suites: the suite runner, key generation,
 * memory-protection probes and failure recording for worker threads.
 */
#include "test-util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int test_run_suite(Suite *suite)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	/* CK_ENV: CK_VERBOSITY decides, so meson's TAP setup
	 * (CK_TAP_LOG_FILE_NAME=-, CK_VERBOSITY=silent) and a plain run from
	 * a shell both read well. */
	srunner_run_all(runner, CK_ENV);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int test_run_cases(const char *suite, const struct test_case *cases, size_t n)
{
	Suite *s = suite_create(suite);

	for (size_t i = 0; i < n; i++) {
		TCase *tc = tcase_create(cases[i].name);

		if (cases[i].timeout > 0)
			tcase_set_timeout(tc, cases[i].timeout);
		for (const TTest *const *t = cases[i].tests; *t != NULL; t++)
			tcase_add_test(tc, *t);
		suite_add_tcase(s, tc);
	}
	return test_run_suite(s);
}

struct intern_str *test_str(const char *text)
{
	struct intern_str *s = intern_str_new(text, strlen(text));

	ck_assert_ptr_nonnull(s);
	return s;
}

struct intern_interp *test_interp(unsigned shards)
{
	struct intern_config config;
	struct intern_interp *interp;

	intern_config_init(&config);
	config.shards = shards;
	interp = intern_interp_new(&config);
	ck_assert_msg(interp != NULL, "intern_interp_new(shards %u): errno %d", shards, errno);
	return interp;
}

struct intern_stats test_stats_of(struct intern_interp *interp)
{
	struct intern_stats st;

	memset(&st, 0xa5, sizeof(st));
	ck_assert_int_eq(intern_interp_stats(interp, &st), 0);
	return st;
}

void test_fill_key(char *buf, size_t len, unsigned long seed)
{
	/* Every byte value appears, NULs included. */
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(test_xorshift64s(&x) >> 56);
}

int test_is_read_only(const void *addr, size_t len)
{
	uintptr_t lo = (uintptr_t)addr, hi = lo + len;
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	int result = -1;

	if (maps == NULL)
		return -1;
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long start, end;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) != 3)
			continue;
		if (lo >= start && lo < end) {
			/* The whole object must sit in this one mapping. */
			result = hi <= end && perms[0] == 'r' && perms[1] != 'w';
			break;
		}
	}
	fclose(maps);
	return result;
}

int test_write_faults(void *addr)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct sigaction dfl;

		/* A sanitizer's SIGSEGV handler would turn the fault into an
		 * exit status; restore the default so the kernel kills us. */
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGSEGV, &dfl, NULL);
		sigaction(SIGBUS, &dfl, NULL);
		*(volatile unsigned char *)addr ^= 0x5a;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS ? 1 : -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int test_in_child(void (*fn)(void *), void *arg, char *err, size_t size)
{
	int fd[2], status = -1;
	size_t got = 0;
	pid_t pid;

	if (pipe(fd) != 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGABRT, &dfl, NULL);
		close(fd[0]);
		dup2(fd[1], STDERR_FILENO);
		fn(arg);
		fflush(NULL);
		_exit(0);
	}
	close(fd[1]);
	while (size > 1 && got < size - 1) {
		ssize_t n = read(fd[0], err + got, size - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (size)
		err[got] = '\0';
	close(fd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

int test_under_memory_checker(void)
{
	const char *p = getenv("LD_PRELOAD");

#if defined(__SANITIZE_ADDRESS__)
	return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return 1;
#endif
#endif
	return p != NULL && strstr(p, "vgpreload") != NULL;
}

void test_failure_init(struct test_failure *f)
{
	atomic_init(&f->count, 0);
	atomic_flag_clear(&f->claimed);
	f->msg[0] = '\0';
}

void test_failure_record(struct test_failure *f, const char *file, int line, const char *what)
{
	atomic_fetch_add(&f->count, 1);
	if (!atomic_flag_test_and_set(&f->claimed))
		snprintf(f->msg, sizeof(f->msg), "%s:%d: %s", file, line, what);
}
