/*
 * make-snapshot-seeds DIR: write the snapshot fuzz target's seed files
 * (tests/fuzz/snapshot-corpus/) into DIR: an empty snapshot, one string,
 * and a small vocabulary.  The writer is deterministic, so the test
 * `snapshot-seeds` compares a fresh set with the committed one: a change
 * of the format shows up there, and the seeds are regenerated with
 *   build/tests/make-snapshot-seeds tests/fuzz/snapshot-corpus
 */
#include <stdio.h>
#include <string.h>

#include <intern.h>

static int write_seed(const char *dir, const char *name, const char *const *words)
{
	struct intern_snapshot_builder *b = intern_snapshot_builder_new();
	char path[4096];
	int rc = b ? 0 : -1;

	for (; rc == 0 && *words; words++)
		rc = intern_snapshot_builder_add(b, *words, strlen(*words));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (rc == 0)
		rc = intern_snapshot_builder_write(b, path);
	intern_snapshot_builder_free(b);
	if (rc < 0)
		fprintf(stderr, "make-snapshot-seeds: %s: error %d\n", path, rc);
	return rc;
}

int main(int argc, char **argv)
{
	static const char *const none[] = { NULL };
	static const char *const one[] = { "content-length", NULL };
	static const char *const words[] = {
		"GET", "POST", "content-type", "content-length", "host", "user-agent",
		"accept", "accept-encoding", "connection", "keep-alive", "HSET", "HGET",
		"status", "200 OK", "cache-control", "x-request-id", "ab", "ba", NULL,
	};

	if (argc != 2) {
		fprintf(stderr, "usage: make-snapshot-seeds DIR\n");
		return 2;
	}
	return write_seed(argv[1], "empty.snap", none) || write_seed(argv[1], "one.snap", one) ||
	       write_seed(argv[1], "words.snap", words);
}
