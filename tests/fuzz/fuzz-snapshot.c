/*
 * fuzz-snapshot: libFuzzer target for the snapshot loader (lib/snapshot.c).
 *
 * The input is a snapshot file.  Its two checksums are recomputed first,
 * so that mutations reach the structural checks instead of stopping at the
 * checksum; the unit tests cover the checksums themselves.  The bytes go
 * to a memfd, opened by path, in both modes:
 *   - full validation: if accepted, every string is looked up by its bytes
 *     and by its ID, and must be the one the file says; then lookups of
 *     byte strings taken from the input;
 *   - INTERN_SNAPSHOT_TRUSTED: the header alone is checked, and the same
 *     byte lookups must stay inside the mapping whatever the file claims
 *     (ASan reports a stray read; a loop is a timeout).
 * Any disagreement aborts, which libFuzzer reports with the input.
 *
 * Built by meson -Dfuzz=true; tests/fuzz/run-fuzz.sh runs it with
 * FUZZ_TARGET=tests/fuzz/fuzz-snapshot FUZZ_CORPUS=tests/fuzz/snapshot-corpus.
 * The seeds are files the library wrote (tests/make-snapshot-seeds.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "snapshot.h" /* the header layout, XXH3 */

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz-snapshot: %s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                              \
			abort();                                                     \
		}                                                                    \
	} while (0)

static int fd = -1;
static char path[64];

/* Lookups of byte strings cut from the input: mapped or not, never a read
 * outside the mapping. */
static void lookups(struct intern_interp *interp, const uint8_t *data, size_t size)
{
	for (size_t off = 0, n = 0; off + 2 <= size && n < 64; off += 61, n++) {
		size_t len = 2 + data[off] % 40;
		struct intern_str *s;

		if (len > size - off)
			len = size - off;
		s = intern_bytes(interp, (const char *)data + off, len);
		CHECK(s != NULL);
		if (intern_str_state(s) == INTERN_IMMORTAL_STATIC)
			(void)intern_id_of(interp, s);
		intern_str_decref(s);
	}
}

/* Every string of a validated snapshot is found by its bytes and its ID. */
static void every_string(struct intern_interp *interp, const struct intern_snapshot *snap)
{
	for (uint32_t id = 0; id < intern_snapshot_count(snap); id++) {
		struct intern_str *s = intern_id_str(interp, id);

		CHECK(s != NULL);
		CHECK(intern_str_state(s) == INTERN_IMMORTAL_STATIC);
		CHECK(intern_lookup(interp, intern_str_data(s), intern_str_len(s)) == s);
		CHECK(intern_id_of(interp, s) == id);
	}
}

static void try_open(unsigned flags, const uint8_t *data, size_t size)
{
	char why[160];
	struct intern_snapshot *snap = intern_snapshot_open(path, flags, why, sizeof(why));
	struct intern_interp *interp;

	if (!snap) {
		CHECK(why[0] != '\0');
		return;
	}
	interp = intern_interp_new_snapshot(NULL, snap);
	CHECK(interp != NULL);
	if (!(flags & INTERN_SNAPSHOT_TRUSTED))
		every_string(interp, snap);
	intern_snapshot_close(snap); /* the interpreter holds its own */
	lookups(interp, data, size);
	intern_interp_free(interp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct intern__snap_header *h = (struct intern__snap_header *)copy;

	CHECK(copy != NULL);
	if (fd < 0) {
		fd = memfd_create("fuzz-snapshot", MFD_CLOEXEC);
		CHECK(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	memcpy(copy, data, size);
	if (size >= sizeof(*h)) {
		h->body_checksum = XXH3_64bits(copy + sizeof(*h), size - sizeof(*h));
		h->header_checksum =
			XXH3_64bits(h, offsetof(struct intern__snap_header, header_checksum));
	}
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(size == 0 || pwrite(fd, copy, size, 0) == (ssize_t)size);
	try_open(0, copy, size);
	try_open(INTERN_SNAPSHOT_TRUSTED, copy, size);
	free(copy);
	return 0;
}
