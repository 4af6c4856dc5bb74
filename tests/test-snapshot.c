/*
 * Snapshots and dense IDs (lib/snapshot.c, lib/ids.c, docs/snapshot.md):
 * writing and mapping, every interning route returning the mapped object,
 * statics refused, IDs both ways, IDs kept across a rewrite and across
 * processes, fork, threads, every kind of refused file, and out-of-memory
 * paths.  White box: it crafts broken files from the private header's
 * structs and arms the allocation-failure injection.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "snapshot.h"
#include "test-util.h"

#define NWORDS 300

static char dir[64];

/* Word i of the test vocabulary: "word-<i>-<pad>", lengths 8 to 40. */
static size_t word(unsigned i, char *buf)
{
	return (size_t)snprintf(buf, 48, "word-%u-%.*s", i, (int)(i % 32),
				"abcdefghijklmnopqrstuvwxyzABCDEF");
}

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/libintern-snap.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int files_in_dir(void)
{
	DIR *d = opendir(dir);
	int n = 0;

	ck_assert_ptr_nonnull(d);
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static const char *path_of(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* Write the vocabulary (plus a duplicate, a built-in and "123456") to
 * `name`; returns the path. */
static const char *write_words(const char *name)
{
	struct intern_snapshot_builder *b = intern_snapshot_builder_new();
	char buf[48];

	ck_assert_ptr_nonnull(b);
	for (unsigned i = 0; i < NWORDS; i++)
		ck_assert_int_eq(intern_snapshot_builder_add(b, buf, word(i, buf)), 0);
	ck_assert_int_eq(intern_snapshot_builder_add(b, "word-0-", 7), 0); /* duplicate */
	ck_assert_int_eq(intern_snapshot_builder_add(b, "x", 1), 0);       /* built-in */
	ck_assert_int_eq(intern_snapshot_builder_add(b, "", 0), 0);
	ck_assert_int_eq(intern_snapshot_builder_add(b, "200", 3), 0);
	ck_assert_int_eq(intern_snapshot_builder_add(b, "123456", 6), 0); /* ID NWORDS */
	ck_assert_int_eq(intern_snapshot_builder_add(b, NULL, 1), -EINVAL);
	ck_assert_int_eq(intern_snapshot_builder_add(NULL, "a", 1), -EINVAL);
	ck_assert_int_eq(intern_snapshot_builder_write(b, path_of(name)), 0);
	intern_snapshot_builder_free(b);
	return path_of(name);
}

static struct intern_snapshot *open_ok(const char *path, unsigned flags)
{
	char why[128] = "";
	struct intern_snapshot *snap = intern_snapshot_open(path, flags, why, sizeof(why));

	ck_assert_msg(snap != NULL, "open %s: %s (%s)", path, why, strerror(errno));
	return snap;
}

/* A new interpreter over the file at `path` (the snapshot reference is the
 * interpreter's alone). */
static struct intern_interp *interp_of(const char *path, unsigned flags)
{
	struct intern_snapshot *snap = open_ok(path, flags);
	struct intern_interp *interp = intern_interp_new_snapshot(NULL, snap);

	ck_assert_ptr_nonnull(interp);
	intern_snapshot_close(snap);
	return interp;
}

static bool mapped(const struct intern_str *s)
{
	return intern_str_state(s) == INTERN_IMMORTAL_STATIC && (test_flags(s) & INTERN_STR_F_STATIC) &&
	       test_is_read_only(s, sizeof(*s) + intern_str_len(s) + 1);
}

/* intern_snapshot_str, _find and _info: the file read without an
 * interpreter. */
static void check_without_interp(const char *path)
{
	struct intern_snapshot *snap = open_ok(path, 0);
	struct intern_snapshot_info info;
	uint64_t bytes = 0, hist = 0;
	char buf[48];
	struct stat st;

	for (unsigned i = 0; i < NWORDS; i++) {
		size_t n = word(i, buf);

		ck_assert_content(intern_snapshot_str(snap, i), buf, n);
		ck_assert_uint_eq(intern_snapshot_find(snap, buf, n), i);
		bytes += n;
	}
	bytes += 6; /* "123456" */
	errno = 0;
	ck_assert_uint_eq(intern_snapshot_find(snap, "absent", 6), INTERN_ID_NONE);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(intern_snapshot_find(snap, "x", 1), INTERN_ID_NONE); /* built-in */
	ck_assert_uint_eq(intern_snapshot_find(NULL, "x", 1), INTERN_ID_NONE);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(intern_snapshot_str(snap, NWORDS + 1));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(intern_snapshot_info(snap, &info), 0);
	ck_assert_int_eq(intern_snapshot_info(NULL, &info), -EINVAL);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(info.format, 1);
	ck_assert_uint_eq(info.str_abi, 1);
	ck_assert_uint_eq(info.word_size, sizeof(void *));
	ck_assert_uint_eq(info.count, NWORDS + 1);
	ck_assert_uint_eq(info.file_size, (uint64_t)st.st_size);
	ck_assert_uint_eq(info.string_bytes, bytes);
	ck_assert_uint_ge(info.index_slots, 2 * info.count);
	ck_assert_str_eq(info.hash, "XXH3-64");
	for (unsigned d = 0; d < 16; d++) {
		hist += info.probe_hist[d];
		ck_assert(info.probe_hist[d] == 0 || d <= info.max_probe);
	}
	ck_assert_uint_eq(hist, info.count);
	intern_snapshot_close(snap);
}

START_TEST(test_write_and_map)
{
	const char *path;

	make_dir();
	path = write_words("a.snap");
	for (unsigned flags = 0; flags <= INTERN_SNAPSHOT_TRUSTED; flags++) {
		struct intern_snapshot *snap = open_ok(path, flags);

		ck_assert_uint_eq(intern_snapshot_count(snap), NWORDS + 1);
		intern_snapshot_close(snap);
	}
	ck_assert_uint_eq(intern_snapshot_count(NULL), 0);
	intern_snapshot_close(NULL);
	check_without_interp(path);
	/* Written atomically: no temporary file is left. */
	ck_assert_int_eq(files_in_dir(), 1);
	remove_dir();
}
END_TEST

START_TEST(test_every_route)
{
	struct intern_interp *interp;
	struct intern_str *s, *t, *w0;
	char buf[48];
	size_t n;

	make_dir();
	interp = interp_of(write_words("a.snap"), 0);
	n = word(0, buf);
	w0 = intern_bytes(interp, buf, n);
	ck_assert(mapped(w0));
	ck_assert_content(w0, buf, n);
	for (unsigned i = 0; i < NWORDS; i++) {
		n = word(i, buf);
		s = intern_bytes(interp, buf, n);
		ck_assert(mapped(s));
		ck_assert_lookup(interp, buf, n, s);
		ck_assert_ptr_eq(intern_auto(interp, buf, n), s); /* not an identifier: '-' */
		t = test_str(buf);
		ck_assert_int_eq(intern_mortal(interp, &t), 0);
		ck_assert_ptr_eq(t, s);
		t = test_str(buf);
		ck_assert_int_eq(intern_immortal(interp, &t), 0);
		ck_assert_ptr_eq(t, s);
		ck_assert_int_eq(intern_mortal(interp, &t), 0); /* the mapped object itself */
		ck_assert_ptr_eq(t, s);
		intern_str_decref(s); /* a no-op */
	}
	s = intern_int(interp, 123456);
	ck_assert(mapped(s));
	ck_assert_ptr_eq(s, intern_lookup(interp, "123456", 6));
	/* Outside the snapshot: interned as ever. */
	s = intern_bytes(interp, "not-in-the-file", 15);
	ck_assert_uint_eq(intern_str_state(s), INTERN_MORTAL);
	intern_str_decref(s);
	ck_assert_absent(interp, "absent-too", 10);
	ck_assert_ptr_eq(intern_bytes(interp, "y", 1), intern_latin1('y'));
	ck_assert_int_eq(intern_interp_check(interp), 0);
	ck_assert_uint_eq(intern_str_state(w0), INTERN_IMMORTAL_STATIC); /* never written */
	intern_interp_free(interp);
	remove_dir();
}
END_TEST

INTERN_STATIC_DEFINE(static_word0, "word-0-");
INTERN_STATIC_DEFINE(static_other, "static-other");

START_TEST(test_statics_refused)
{
	struct intern_interp *interp;
	struct intern_str *p = static_word0, *w0;
	const struct intern_str *list[] = { static_word0, static_other };
	const struct intern_static_table table = { INTERN_STATIC_TABLE_VERSION, 2, list };

	make_dir();
	interp = interp_of(write_words("a.snap"), 0);
	w0 = intern_lookup(interp, "word-0-", 7);
	ck_assert_int_eq(intern_static(interp, &p), -EEXIST);
	ck_assert_ptr_eq(p, static_word0);
	ck_assert_int_eq(intern_interp_add_statics(interp, &table), -EEXIST);
	ck_assert_ptr_eq(intern_lookup(interp, "word-0-", 7), w0); /* the mapped one stays */
	ck_assert_ptr_eq(intern_lookup(interp, "static-other", 12), static_other);
	/* intern_mortal of the static object gives the canonical, mapped one. */
	ck_assert_int_eq(intern_mortal(interp, &p), 0);
	ck_assert_ptr_eq(p, w0);
	/* The mapped object given to intern_static is itself canonical. */
	p = w0;
	ck_assert_int_eq(intern_static(interp, &p), 0);
	ck_assert_ptr_eq(p, w0);
	intern_interp_free(interp);
	remove_dir();
}
END_TEST

/* A string of one interpreter's snapshot given to another interpreter is
 * never filed there: its mapping may go first. */
START_TEST(test_other_snapshot)
{
	struct intern_interp *a, *plain;
	struct intern_str *s, *t;
	const struct intern_str *list[1];
	const struct intern_static_table table = { INTERN_STATIC_TABLE_VERSION, 1, list };

	make_dir();
	a = interp_of(write_words("a.snap"), 0);
	plain = test_interp(0);
	s = intern_lookup(a, "word-3-abc", 10);
	ck_assert(mapped(s));
	ck_assert_uint_eq(test_flags(s), INTERN_STR_F_STATIC | INTERN_STR_F_MAPPED);
	t = s;
	ck_assert_int_eq(intern_mortal(plain, &t), 0);
	ck_assert_ptr_ne(t, s);
	ck_assert_uint_eq(intern_str_state(t), INTERN_MORTAL);
	ck_assert_content(t, "word-3-abc", 10);
	intern_str_decref(t);
	t = s;
	ck_assert_int_eq(intern_immortal(plain, &t), 0);
	ck_assert_ptr_ne(t, s);
	ck_assert_ptr_eq(intern_lookup(plain, "word-3-abc", 10), t);
	t = s;
	ck_assert_int_eq(intern_static(plain, &t), -EINVAL);
	ck_assert_ptr_eq(t, s);
	list[0] = s;
	ck_assert_int_eq(intern_interp_add_statics(plain, &table), -EINVAL);
	ck_assert_int_eq(intern_interp_check(plain), 0);
	intern_interp_free(plain);
	intern_interp_free(a); /* unmaps: nothing in `plain` pointed there */
	remove_dir();
}
END_TEST

/* IDs of `interp`'s vocabulary are their order of addition, both ways. */
static void check_snapshot_ids(struct intern_interp *interp)
{
	char buf[48];

	for (unsigned i = 0; i < NWORDS; i++) {
		struct intern_str *s = intern_bytes(interp, buf, word(i, buf));

		ck_assert_uint_eq(intern_id_of(interp, s), i);
		ck_assert_ptr_eq(intern_id_str(interp, i), s);
	}
}

START_TEST(test_ids)
{
	struct intern_interp *interp, *other;
	struct intern_str *s, *im[5000];
	char buf[48];

	make_dir();
	interp = interp_of(write_words("a.snap"), 0);
	other = test_interp(0);
	check_snapshot_ids(interp);
	/* Immortal dynamic strings: IDs from the count on, on first request. */
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "dynamic-%u", i);
		im[i] = intern_bytes(interp, buf, strlen(buf));
		ck_assert_int_eq(intern_immortal(interp, &im[i]), 0);
		ck_assert_uint_eq(intern_id_of(interp, im[i]), NWORDS + 1 + i);
	}
	for (unsigned i = 0; i < 5000; i++) {
		ck_assert_uint_eq(intern_id_of(interp, im[i]), NWORDS + 1 + i);
		ck_assert_ptr_eq(intern_id_str(interp, NWORDS + 1 + i), im[i]);
	}
	errno = 0;
	ck_assert_ptr_null(intern_id_str(interp, NWORDS + 1 + 5000));
	ck_assert_int_eq(errno, ENOENT);
	/* No ID: mortal, built-in, another interpreter's, NULL. */
	s = intern_bytes(interp, "mortal-one", 10);
	errno = 0;
	ck_assert_uint_eq(intern_id_of(interp, s), INTERN_ID_NONE);
	ck_assert_int_eq(errno, EINVAL);
	intern_str_decref(s);
	ck_assert_uint_eq(intern_id_of(interp, intern_latin1('q')), INTERN_ID_NONE);
	ck_assert_uint_eq(intern_id_of(interp, NULL), INTERN_ID_NONE);
	s = intern_bytes(other, "elsewhere", 9);
	ck_assert_int_eq(intern_immortal(other, &s), 0);
	ck_assert_uint_eq(intern_id_of(interp, s), INTERN_ID_NONE);
	ck_assert_uint_eq(intern_id_of(other, s), 0); /* no snapshot: from 0 */
	ck_assert_ptr_eq(intern_id_str(other, 0), s);
	/* A snapshot string is another interpreter's too. */
	ck_assert_uint_eq(intern_id_of(other, intern_id_str(interp, 0)), INTERN_ID_NONE);
	errno = 0;
	ck_assert_ptr_null(intern_id_str(NULL, 0));
	ck_assert_int_eq(errno, EINVAL);
	intern_interp_free(other);
	intern_interp_free(interp);
	remove_dir();
}
END_TEST

INTERN_STATIC_DEFINE(static_with_id, "static-with-id");

START_TEST(test_ids_statics)
{
	struct intern_interp *interp = test_interp(0);
	struct intern_str *p = static_with_id;

	ck_assert_uint_eq(intern_id_of(interp, static_with_id), INTERN_ID_NONE); /* not filed */
	ck_assert_int_eq(intern_static(interp, &p), 0);
	ck_assert_uint_eq(intern_id_of(interp, static_with_id), 0);
	ck_assert_ptr_eq(intern_id_str(interp, 0), static_with_id);
	intern_interp_free(interp);
}
END_TEST

START_TEST(test_rewrite_keeps_ids)
{
	struct intern_interp *interp, *again;
	struct intern_snapshot_builder *b;
	struct intern_str *d[3], *noid, *mortal;
	char buf[48];

	make_dir();
	interp = interp_of(write_words("a.snap"), 0);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "numbered-%u", i);
		d[i] = intern_bytes(interp, buf, strlen(buf));
		ck_assert_int_eq(intern_immortal(interp, &d[i]), 0);
	}
	/* IDs in another order than interning. */
	ck_assert_uint_eq(intern_id_of(interp, d[2]), NWORDS + 1);
	ck_assert_uint_eq(intern_id_of(interp, d[0]), NWORDS + 2);
	noid = intern_bytes(interp, "immortal-no-id", 14);
	ck_assert_int_eq(intern_immortal(interp, &noid), 0);
	mortal = intern_bytes(interp, "mortal-left-out", 15);
	b = intern_snapshot_builder_new();
	ck_assert_int_eq(intern_snapshot_builder_add_interp(b, interp), 0);
	ck_assert_int_eq(intern_snapshot_builder_add_interp(b, NULL), -EINVAL);
	ck_assert_int_eq(intern_snapshot_builder_write(b, path_of("b.snap")), 0);
	intern_snapshot_builder_free(b);
	again = interp_of(path_of("b.snap"), 0);
	check_snapshot_ids(again);
	ck_assert_uint_eq(intern_id_of(again, intern_lookup(again, "numbered-2", 10)), NWORDS + 1);
	ck_assert_uint_eq(intern_id_of(again, intern_lookup(again, "numbered-0", 10)), NWORDS + 2);
	/* The immortal strings without an ID follow, in no particular order. */
	ck_assert(mapped(intern_lookup(again, "immortal-no-id", 14)));
	ck_assert_uint_eq(intern_id_of(again, intern_lookup(again, "numbered-1", 10)) +
				  intern_id_of(again, intern_lookup(again, "immortal-no-id", 14)),
			  2 * NWORDS + 7);
	ck_assert_absent(again, "mortal-left-out", 15);
	intern_str_decref(mortal);
	intern_interp_free(again);
	intern_interp_free(interp);
	remove_dir();
}
END_TEST

/* Under valgrind (its preload is in LD_PRELOAD)?  memcheck checks a
 * forked child for leaks at its _exit() and changes its exit status, so
 * children report their result through a pipe as well. */
static bool under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload && strstr(preload, "vgpreload");
}

/* The child `pid` ended well: it wrote `result` 0 and, unless valgrind
 * decided its exit status, exited 0. */
static void child_ok(pid_t pid, int fd)
{
	unsigned char result = 0xff;
	int status;

	ck_assert_int_eq(read(fd, &result, 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(result == 0, "child result %u", result);
	ck_assert_msg(under_valgrind() || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
		      "child status %#x", status);
}

/* In a child: send `result` on fd and exit with it. */
static void child_exit(int fd, unsigned char result)
{
	if (write(fd, &result, 1) != 1)
		_exit(9);
	_exit(result);
}

/* In a child: map `path`, write the ID of every word to fd, exit. */
static void report_ids(const char *path, int fd)
{
	struct intern_snapshot *snap = intern_snapshot_open(path, 0, NULL, 0);
	struct intern_interp *interp = snap ? intern_interp_new_snapshot(NULL, snap) : NULL;
	char buf[48];

	for (unsigned i = 0; interp && i < NWORDS; i++) {
		uint32_t id = intern_id_of(interp, intern_bytes(interp, buf, word(i, buf)));

		if (write(fd, &id, sizeof(id)) != sizeof(id))
			_exit(2);
	}
	child_exit(fd, interp ? 0 : 1);
}

START_TEST(test_ids_across_processes)
{
	const char *path;
	int fd[2];
	uint32_t id;
	pid_t pid;

	make_dir();
	path = write_words("a.snap");
	ck_assert_int_eq(pipe(fd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fd[0]);
		report_ids(path, fd[1]);
	}
	close(fd[1]);
	for (unsigned i = 0; i < NWORDS; i++) {
		ck_assert_int_eq(read(fd[0], &id, sizeof(id)), sizeof(id));
		ck_assert_uint_eq(id, i);
	}
	child_ok(pid, fd[0]);
	close(fd[0]);
	remove_dir();
}
END_TEST

/* The child of a parent that mapped a snapshot interns, looks up, numbers
 * and frees as usual: 0, or the number of the check that failed. */
static unsigned char child_work(struct intern_interp *interp)
{
	char buf[48];
	struct intern_str *s;

	for (unsigned i = 0; i < NWORDS; i++) {
		s = intern_bytes(interp, buf, word(i, buf));
		if (!mapped(s) || intern_id_of(interp, s) != i)
			return 2;
	}
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "child-%u", i);
		s = intern_bytes(interp, buf, strlen(buf));
		if (!s || intern_str_state(s) != INTERN_MORTAL)
			return 3;
		if (i % 2 == 0)
			intern_str_decref(s);
		else if (intern_immortal(interp, &s) != 0 || intern_id_of(interp, s) == INTERN_ID_NONE)
			return 4;
	}
	if (intern_interp_check(interp) != 0)
		return 5;
	intern_interp_free(interp);
	intern_barrier();
	return 0;
}

START_TEST(test_fork)
{
	struct intern_interp *interp;
	int fd[2];
	pid_t pid;
	char buf[48];

	make_dir();
	interp = interp_of(write_words("a.snap"), 0);
	ck_assert(mapped(intern_bytes(interp, buf, word(7, buf))));
	ck_assert_int_eq(pipe(fd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child_exit(fd[1], child_work(interp));
	close(fd[1]);
	child_ok(pid, fd[0]);
	close(fd[0]);
	check_snapshot_ids(interp);
	intern_interp_free(interp);
	remove_dir();
}
END_TEST

struct worker {
	struct intern_interp *interp;
	struct test_failure *f;
	unsigned seed;
	struct intern_str *mine[200];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char buf[48];

	for (unsigned round = 0; round < 50; round++) {
		for (unsigned i = 0; i < NWORDS; i++) {
			struct intern_str *s = intern_bytes(w->interp, buf, word(i, buf));

			TCHECK(w->f, s == intern_id_str(w->interp, i));
			TCHECK(w->f, intern_id_of(w->interp, s) == i);
		}
		for (unsigned i = 0; i < 200; i++) {
			struct intern_str *s;
			uint32_t id;

			snprintf(buf, sizeof(buf), "shared-%u", i);
			s = intern_bytes(w->interp, buf, strlen(buf));
			TCHECK(w->f, intern_immortal(w->interp, &s) == 0);
			id = intern_id_of(w->interp, s);
			TCHECK(w->f, id > NWORDS && intern_id_str(w->interp, id) == s);
			TCHECK(w->f, round == 0 || w->mine[i] == s);
			w->mine[i] = s;
		}
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct test_failure f;
	struct worker w[4];
	pthread_t t[4];

	make_dir();
	test_failure_init(&f);
	w[0].interp = interp_of(write_words("a.snap"), 0);
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){ w[0].interp, &f, i, { NULL } };
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_no_failure(&f);
	for (unsigned i = 1; i < 4; i++)
		ck_assert_mem_eq(w[i].mine, w[0].mine, sizeof(w[0].mine));
	ck_assert_int_eq(intern_interp_check(w[0].interp), 0);
	intern_interp_free(w[0].interp);
	remove_dir();
}
END_TEST

/* ---- refused files ------------------------------------------------------ */

struct file {
	char *p;
	size_t size;
};

static struct file slurp(const char *path)
{
	struct file f;
	FILE *in = fopen(path, "rb");
	struct stat st;

	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(fstat(fileno(in), &st), 0);
	f.size = (size_t)st.st_size;
	f.p = malloc(f.size);
	ck_assert_uint_eq(fread(f.p, 1, f.size, in), f.size);
	fclose(in);
	return f;
}

static void spill(const char *path, const void *p, size_t size)
{
	FILE *out = fopen(path, "wb");

	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(fwrite(p, 1, size, out), size);
	ck_assert_int_eq(fclose(out), 0);
}

static struct intern__snap_header *hdr(struct file *f)
{
	return (struct intern__snap_header *)f->p;
}

/* Recompute both checksums, so that only the structure is wrong. */
static void reseal(struct file *f)
{
	struct intern__snap_header *h = hdr(f);

	h->body_checksum = XXH3_64bits(f->p + sizeof(*h), f->size - sizeof(*h));
	h->header_checksum = XXH3_64bits(h, offsetof(struct intern__snap_header, header_checksum));
}

static struct intern_str *str_id(struct file *f, uint32_t id)
{
	return (struct intern_str *)(f->p + ((uint64_t *)(f->p + hdr(f)->ids_offset))[id]);
}

/* Rebuild the index from the strings, as a writer that does not dedup
 * would, with the max probe it needs. */
static void reindex(struct file *f)
{
	struct intern__snap_header *h = hdr(f);
	uint64_t *index = (uint64_t *)(f->p + h->index_offset), mask = h->index_slots - 1;

	memset(index, 0, h->index_slots * 8);
	h->max_probe = 0;
	for (uint32_t id = 0; id < h->count; id++) {
		struct intern_str *s = str_id(f, id);
		uint64_t x = XXH3_64bits_withSeed(s + 1, s->ob_len, h->seed), i = x & mask, d = 0;

		for (; index[i]; i = (i + 1) & mask)
			d++;
		index[i] = intern__snap_slot(x, (uint64_t)((char *)s - f->p));
		if (d > h->max_probe)
			h->max_probe = (uint32_t)d;
	}
}

/* Open `f` written to a file: refused with `err`, a reason that contains
 * `what` in both modes if `both`. */
static void refused(const struct file *f, size_t size, unsigned flags, int err, const char *what)
{
	char why[160] = "";
	const char *path = path_of("bad.snap");

	spill(path, f->p, size);
	errno = 0;
	ck_assert_ptr_null(intern_snapshot_open(path, flags, why, sizeof(why)));
	ck_assert_msg(errno == err, "errno %d (%s), expected %d; why: %s", errno, strerror(errno),
		      err, why);
	ck_assert_msg(strstr(why, what) != NULL, "why '%s' does not say '%s'", why, what);
}

START_TEST(test_refused_basic)
{
	char why[128] = "";
	struct file f;

	make_dir();
	f = slurp(write_words("a.snap"));
	errno = 0;
	ck_assert_ptr_null(intern_snapshot_open(path_of("none"), 0, why, sizeof(why)));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(why, "open"));
	ck_assert_ptr_null(intern_snapshot_open(dir, 0, why, sizeof(why)));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "regular"));
	ck_assert_ptr_null(intern_snapshot_open(NULL, 0, NULL, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(intern_snapshot_open(path_of("a.snap"), 0x10, NULL, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(intern_interp_new_snapshot(NULL, NULL));
	ck_assert_int_eq(errno, EINVAL);
	refused(&f, 0, 0, ENOEXEC, "empty");
	/* Truncated inside every header field, and past the header. */
	for (size_t cut = 1; cut < sizeof(struct intern__snap_header); cut += 4)
		refused(&f, cut, INTERN_SNAPSHOT_TRUSTED, ENOEXEC, "shorter than");
	refused(&f, sizeof(struct intern__snap_header), 0, EBADMSG, "truncated");
	refused(&f, f.size - 1, INTERN_SNAPSHOT_TRUSTED, EBADMSG, "truncated");
	refused(&f, hdr(&f)->index_offset + 8, 0, EBADMSG, "truncated");
	free(f.p);
	remove_dir();
}
END_TEST

/* A copy of the good file, changed by the statements after `what` (which
 * may use `h`, its header, and `g_`, the copy), refused as refused() says. */
#define WITH_HEADER(f, flags, err, what, ...)                    \
	do {                                                     \
		struct file g_ = { malloc((f).size), (f).size }; \
		struct intern__snap_header *h = hdr(&g_);        \
		(void)h;                                         \
		memcpy(g_.p, (f).p, (f).size);                   \
		__VA_ARGS__;                                     \
		refused(&g_, g_.size, (flags), (err), (what));   \
		free(g_.p);                                      \
	} while (0)

/* The same, resealed: the checksums agree, the structure does not. */
#define WITH_RESEALED(f, err, what, ...) WITH_HEADER(f, 0, err, what, __VA_ARGS__; reseal(&g_))

START_TEST(test_refused_header)
{
	struct file f;
	const unsigned T = INTERN_SNAPSHOT_TRUSTED;

	make_dir();
	f = slurp(write_words("a.snap"));
	WITH_HEADER(f, T, ENOEXEC, "magic", h->magic[0] = 'X');
	WITH_HEADER(f, T, ENOTSUP, "byte order", h->byte_order = __builtin_bswap32(h->byte_order));
	WITH_HEADER(f, T, EBADMSG, "byte-order", h->byte_order = 7);
	WITH_HEADER(f, T, ENOTSUP, "format version", h->format = 2);
	WITH_HEADER(f, T, ENOTSUP, "words", h->word_size = 4);
	WITH_HEADER(f, T, ENOTSUP, "ABI", h->str_abi = 2);
	WITH_HEADER(f, T, ENOTSUP, "ABI", h->str_header = 24);
	WITH_HEADER(f, T, ENOTSUP, "hash", h->hash = 9);
	WITH_HEADER(f, T, EBADMSG, "header checksum", h->count++);
	WITH_HEADER(f, T, EBADMSG, "header checksum", h->seed ^= 1);
	WITH_HEADER(f, T, EBADMSG, "header checksum", h->header_checksum ^= 1);
	/* Resealed: the header agrees with itself, not with the file. */
	WITH_RESEALED(f, EBADMSG, "past the end", h->index_offset += 1 << 20);
	WITH_RESEALED(f, EBADMSG, "past the end", h->strings_size = h->index_offset);
	WITH_RESEALED(f, EBADMSG, "past the end", h->ids_offset += 4096);
	WITH_RESEALED(f, EBADMSG, "aligned", h->strings_offset = 4000);
	WITH_RESEALED(f, EBADMSG, "index slots", h->index_slots = 3);
	WITH_RESEALED(f, EBADMSG, "index slots", h->index_slots = 2); /* fewer than strings */
	WITH_RESEALED(f, EBADMSG, "max probe", h->max_probe = (uint32_t)h->index_slots);
	WITH_RESEALED(f, EBADMSG, "max probe", h->max_probe = 1000);
	WITH_RESEALED(f, EBADMSG, "reserved", h->reserved = 1);
	WITH_RESEALED(f, EBADMSG, "truncated", h->file_size++);
	free(f.p);
	remove_dir();
}
END_TEST

START_TEST(test_refused_body)
{
	struct file f;

	make_dir();
	f = slurp(write_words("a.snap"));
	/* Checksum: the default mode reads every byte; trusted mode does not. */
	WITH_HEADER(f, 0, EBADMSG, "checksum", ((char *)(str_id(&g_, 5) + 1))[2] ^= 1);
	/* Lengths past the end of the area, and past the next string. */
	WITH_RESEALED(f, EBADMSG, "length runs past", str_id(&g_, h->count - 1)->ob_len = 100000);
	WITH_RESEALED(f, EBADMSG, "length", str_id(&g_, h->count - 1)->ob_len = 0x7fffffff);
	WITH_RESEALED(f, EBADMSG, "string at", str_id(&g_, 3)->ob_len += 16);
	/* Not NUL-terminated; a header not a static string's. */
	WITH_RESEALED(f, EBADMSG, "NUL", ((char *)(str_id(&g_, 3) + 1))[str_id(&g_, 3)->ob_len] = 'z');
	WITH_RESEALED(f, EBADMSG, "static", str_id(&g_, 3)->ob_state = INTERN_MORTAL);
	WITH_RESEALED(f, EBADMSG, "static", str_id(&g_, 3)->ob_flags = 0);
	/* IDs: a string claims another's ID; the ID table points into the
	 * middle of a string, or twice at one (overlapping strings). */
	WITH_RESEALED(f, EBADMSG, "claims ID", str_id(&g_, 3)->ob_hash = 4);
	WITH_RESEALED(f, EBADMSG, "claims ID 4", ((uint64_t *)(g_.p + h->ids_offset))[4] += 8);
	WITH_RESEALED(f, EBADMSG, "claims ID 4", ((uint64_t *)(g_.p + h->ids_offset))[4] =
				 ((uint64_t *)(g_.p + h->ids_offset))[3]);
	WITH_RESEALED(f, EBADMSG, "", h->count--);
	free(f.p);
	remove_dir();
}
END_TEST

/* The first non-empty index slot of `g`. */
static uint64_t *first_slot(struct file *g)
{
	uint64_t *index = (uint64_t *)(g->p + hdr(g)->index_offset);

	while (!*index)
		index++;
	return index;
}

/* An empty index slot of `g`. */
static uint64_t *empty_slot(struct file *g)
{
	uint64_t *index = (uint64_t *)(g->p + hdr(g)->index_offset);

	while (*index)
		index++;
	return index;
}

START_TEST(test_refused_index)
{
	struct file f;

	make_dir();
	f = slurp(write_words("a.snap"));
	/* An entry that names no string start, or the middle of one. */
	WITH_RESEALED(f, EBADMSG, "does not list", *first_slot(&g_) += 1);
	WITH_RESEALED(f, EBADMSG, "does not list", *first_slot(&g_) |= 0xffffffffu);
	WITH_RESEALED(f, EBADMSG, "does not list", *first_slot(&g_) ^= 1ull << 40); /* tag */
	/* Listed twice; not listed. */
	WITH_RESEALED(f, EBADMSG, "the index lists", *empty_slot(&g_) = *first_slot(&g_));
	WITH_RESEALED(f, EBADMSG, "does not list", *first_slot(&g_) = 0);
	/* Displaced further than the header's max probe. */
	WITH_RESEALED(f, EBADMSG, "within 0 slots", { reindex(&g_); ck_assert_uint_gt(h->max_probe, 0); h->max_probe = 0; });
	/* A full index (every slot taken: a probe that would loop) pointing
	 * at one string. */
	WITH_RESEALED(f, EBADMSG, "", {
		uint64_t *index = (uint64_t *)(g_.p + h->index_offset);
		for (uint64_t i = 0; i < h->index_slots; i++)
			index[i] = *first_slot(&g_);
	});
	/* Duplicate strings, indexed as a writer without dedup would. */
	WITH_RESEALED(f, EBADMSG, "equal bytes", {
		struct intern_str *a = str_id(&g_, 10), *b = str_id(&g_, 42); /* equal lengths */
		ck_assert_uint_eq(a->ob_len, b->ob_len);
		memcpy(b + 1, a + 1, a->ob_len);
		reindex(&g_);
	});
	/* The rebuilt index alone is fine: reindex() writes what the
	 * library writes, so the errors above are the edits'. */
	reindex(&f);
	reseal(&f);
	spill(path_of("re.snap"), f.p, f.size);
	intern_snapshot_close(open_ok(path_of("re.snap"), 0));
	free(f.p);
	remove_dir();
}
END_TEST

/* Trusted mode maps a lying file, and every read stays inside it. */
START_TEST(test_trusted_lies)
{
	struct intern_interp *interp;
	struct file f;
	char buf[48];

	make_dir();
	f = slurp(write_words("a.snap"));
	{
		uint64_t *index = (uint64_t *)(f.p + hdr(&f)->index_offset);
		uint64_t *ids = (uint64_t *)(f.p + hdr(&f)->ids_offset);

		for (uint64_t i = 0; i < hdr(&f)->index_slots; i++)
			index[i] = index[i] ? index[i] | 0xfffffff0u : 0;
		for (uint32_t id = 0; id < hdr(&f)->count; id++)
			ids[id] = f.size * 4;
	}
	spill(path_of("lies.snap"), f.p, f.size);
	interp = interp_of(path_of("lies.snap"), INTERN_SNAPSHOT_TRUSTED);
	for (unsigned i = 0; i < NWORDS; i++) {
		struct intern_str *s = intern_bytes(interp, buf, word(i, buf));

		ck_assert_uint_eq(intern_str_state(s), INTERN_MORTAL); /* not found: interned */
		intern_str_decref(s);
		errno = 0;
		ck_assert_ptr_null(intern_id_str(interp, i));
		ck_assert_int_eq(errno, ENOENT);
		ck_assert_uint_eq(intern_id_of(interp, intern_id_str(interp, i)), INTERN_ID_NONE);
	}
	intern_interp_free(interp);
	free(f.p);
	remove_dir();
}
END_TEST

/* A trusted file whose records lie about their headers (a mortal state,
 * or STATIC without MAPPED): lookups never return such a record, so it is
 * never counted (a write to the read-only mapping would fault) nor filed
 * in another interpreter's table; the bytes are interned as any others. */
START_TEST(test_trusted_lying_headers)
{
	struct intern_interp *interp, *other;
	struct file f;
	char buf[48];

	make_dir();
	f = slurp(write_words("a.snap"));
	{
		const uint64_t *ids = (const uint64_t *)(f.p + hdr(&f)->ids_offset);

		for (uint32_t id = 0; id < hdr(&f)->count; id++) {
			struct intern_str *rec = (struct intern_str *)(f.p + ids[id]);

			rec->ob_state = id % 2 ? INTERN_IMMORTAL_STATIC : INTERN_MORTAL;
			rec->ob_flags = id % 2 ? INTERN_STR_F_STATIC : 0;
		}
	}
	spill(path_of("headers.snap"), f.p, f.size);
	interp = interp_of(path_of("headers.snap"), INTERN_SNAPSHOT_TRUSTED);
	other = intern_interp_new(NULL);
	ck_assert_ptr_nonnull(other);
	for (unsigned i = 0; i < NWORDS; i++) {
		struct intern_str *s = intern_bytes(interp, buf, word(i, buf));

		ck_assert_ptr_nonnull(s);
		ck_assert_uint_eq(intern_str_state(s), INTERN_MORTAL); /* not the record */
		ck_assert_int_eq(intern_mortal(other, &s), 0);
		intern_str_decref(s);
		errno = 0;
		ck_assert_ptr_null(intern_id_str(interp, i));
		ck_assert_int_eq(errno, ENOENT);
	}
	intern_interp_free(other);
	intern_interp_free(interp);
	free(f.p);
	remove_dir();
}
END_TEST

/* A string area larger than the loader's read buffer (256 KiB): strings
 * straddle its refills, and two are longer than it (read in place).  The
 * file is accepted and every string found; damage after the first refill
 * is still seen, by the checksum and by the structural checks. */
#define BIG_WORDS 20000u
#define LONG_ID 10000u

static const char *write_big(const char *name, char *long_str, size_t long_len)
{
	struct intern_snapshot_builder *b = intern_snapshot_builder_new();
	char buf[48];

	ck_assert_ptr_nonnull(b);
	for (unsigned i = 0; i < BIG_WORDS; i++) {
		if (i == LONG_ID || i == LONG_ID + 1) {
			long_str[0] = (char)('A' + i - LONG_ID); /* two different long strings */
			ck_assert_int_eq(intern_snapshot_builder_add(b, long_str, long_len - i + LONG_ID), 0);
			continue;
		}
		ck_assert_int_eq(intern_snapshot_builder_add(b, buf, word(i, buf)), 0);
	}
	ck_assert_int_eq(intern_snapshot_builder_write(b, path_of(name)), 0);
	intern_snapshot_builder_free(b);
	return path_of(name);
}

START_TEST(test_large_area)
{
	const size_t long_len = 300000;
	char *long_str = malloc(long_len), buf[48];
	struct intern_snapshot *snap;
	struct file f;

	make_dir();
	memset(long_str, 'q', long_len);
	snap = open_ok(write_big("big.snap", long_str, long_len), 0);
	ck_assert_uint_gt(hdr(&(struct file){ (char *)snap->base, snap->size })->strings_size,
			  4 * long_len);
	for (unsigned i = 0; i < BIG_WORDS; i++)
		if (i != LONG_ID && i != LONG_ID + 1)
			ck_assert_uint_eq(intern_snapshot_find(snap, buf, word(i, buf)), i);
	long_str[0] = 'B';
	ck_assert_uint_eq(intern_snapshot_find(snap, long_str, long_len - 1), LONG_ID + 1);
	long_str[0] = 'A';
	ck_assert_uint_eq(intern_snapshot_find(snap, long_str, long_len), LONG_ID);
	ck_assert_uint_eq(intern_snapshot_str(snap, LONG_ID)->ob_len, long_len);
	intern_snapshot_close(snap);
	f = slurp(path_of("big.snap"));
	WITH_HEADER(f, 0, EBADMSG, "checksum", ((char *)(str_id(&g_, BIG_WORDS - 1) + 1))[1] ^= 1);
	WITH_HEADER(f, 0, EBADMSG, "checksum", ((char *)(str_id(&g_, LONG_ID) + 1))[long_len / 2] ^= 1);
	WITH_RESEALED(f, EBADMSG, "NUL",
		      ((char *)(str_id(&g_, LONG_ID) + 1))[long_len] = 'z');
	WITH_RESEALED(f, EBADMSG, "claims ID", str_id(&g_, BIG_WORDS - 1)->ob_hash = 3);
	WITH_RESEALED(f, EBADMSG, "equal bytes", {
		struct intern_str *a = str_id(&g_, 19000), *b = str_id(&g_, 19032);
		ck_assert_uint_eq(a->ob_len, b->ob_len);
		memcpy(b + 1, a + 1, a->ob_len);
		reindex(&g_);
	});
	free(f.p);
	free(long_str);
	remove_dir();
}
END_TEST

/* ---- out of memory ------------------------------------------------------ */

START_TEST(test_enomem)
{
	struct intern_snapshot_builder *b = NULL;
	struct intern_snapshot *snap = NULL;
	struct intern_interp *interp = NULL;
	struct intern_str *s;
	unsigned long k;
	int rc = -ENOMEM;

	make_dir();
	for (k = 1; !b; k++) {
		intern__fault_arm(k, 0);
		b = intern_snapshot_builder_new();
		intern__fault_disarm();
		ck_assert(b || errno == ENOMEM);
	}
	for (unsigned i = 0; i < 100; i++) {
		char buf[48];
		size_t n = word(i, buf);

		for (k = 1, rc = -ENOMEM; rc == -ENOMEM; k++) {
			intern__fault_arm(k, 0);
			rc = intern_snapshot_builder_add(b, buf, n);
			intern__fault_disarm();
		}
		ck_assert_int_eq(rc, 0);
	}
	for (k = 1, rc = -ENOMEM; rc == -ENOMEM; k++) {
		intern__fault_arm(k, 0);
		rc = intern_snapshot_builder_write(b, path_of("c.snap"));
		intern__fault_disarm();
	}
	ck_assert_int_eq(rc, 0);
	intern_snapshot_builder_free(b);
	/* The file of the 100 words just written: IDs 0..99. */
	for (k = 1; !snap; k++) {
		intern__fault_arm(k, 0);
		snap = intern_snapshot_open(path_of("c.snap"), 0, NULL, 0);
		intern__fault_disarm();
		ck_assert(snap || errno == ENOMEM);
	}
	for (k = 1; !interp; k++) {
		intern__fault_arm(k, 0);
		interp = intern_interp_new_snapshot(NULL, snap);
		intern__fault_disarm();
		ck_assert(interp || errno == ENOMEM);
	}
	intern_snapshot_close(snap);
	s = intern_bytes(interp, "needs-an-id", 11);
	ck_assert_int_eq(intern_immortal(interp, &s), 0);
	for (k = 1, rc = -1; rc != 100; k++) {
		intern__fault_arm(k, 0);
		errno = 0;
		rc = (int)intern_id_of(interp, s);
		intern__fault_disarm();
		ck_assert_msg(rc == 100 || errno == ENOMEM, "rc %d errno %d k %lu", rc, errno, k);
	}
	intern_interp_free(interp);
	remove_dir();
}
END_TEST

int main(void)
{
	const TTest *const tc_map[] = { test_write_and_map, test_every_route, test_statics_refused,
					test_other_snapshot, NULL };
	const TTest *const tc_ids[] = { test_ids, test_ids_statics, test_rewrite_keeps_ids,
					test_ids_across_processes, NULL };
	const TTest *const tc_proc[] = { test_fork, test_threads, NULL };
	const TTest *const tc_refused[] = { test_refused_basic, test_refused_header,
					    test_refused_body, test_refused_index,
					    test_trusted_lies, test_trusted_lying_headers, test_large_area, NULL };
	const TTest *const tc_oom[] = { test_enomem, NULL };
	const struct test_case cases[] = {
		{ "map", tc_map, 60 },	       { "ids", tc_ids, 60 },
		{ "processes", tc_proc, 120 }, { "refused", tc_refused, 60 },
		{ "enomem", tc_oom, 60 },
	};

	return test_run_cases("snapshot", cases, TEST_COUNT(cases));
}
