/*
 * The keyed hashes (lib/hash), white box: intern__siphash() matches the
 * SipHash reference vectors and the fast mix its pinned known answers;
 * the fast mix depends on every key bit; intern__hash() (the fast mix
 * under the process key) and both hashes under a shard's own key are
 * deterministic within a process (across threads too) at every length
 * from 0 to 64 and every alignment, tell different inputs apart, handle
 * embedded NULs, read only the bytes they are given, and the process hash
 * is keyed per process unless INTERN_HASH_SEED fixes the key.  Also the
 * probe's byte compare (table.h), which a hash collision reaches.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hash.h"
#include "table.h" /* intern__same_bytes: the probe's compare */
#include "test-util.h"

enum {
	MAXLEN = 64
};

/* argv[0], to run this program again with another environment. */
static const char *self;

/*
 * SipHash under the key 00 01 .. 0f of the messages 00 01 .. (n-1), for n
 * in 0..63.  SipHash-2-4: the reference implementation's vectors.h
 * (Aumasson and Bernstein); the paper's worked example is n = 15,
 * a129ca6149be45e5.  SipHash-1-3: the same construction with 1 and 3
 * rounds, computed with an independent implementation that reproduces the
 * 2-4 vectors.
 */
static const uint64_t sip24_vectors[64] = {
	0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull, 0x85676696d7fb7e2dull,
	0xcf2794e0277187b7ull, 0x18765564cd99a68dull, 0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull,
	0x93f5f5799a932462ull, 0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
	0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull, 0xa129ca6149be45e5ull,
	0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull, 0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull,
	0xbed65cf21aa2ee98ull, 0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
	0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull, 0x2f2e6163076bcfadull,
	0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull, 0xad87a3535c49ef28ull, 0x32d892fad841c342ull,
	0x7127512f72f27cceull, 0xa7f32346f95978e3ull, 0x12e0b01abb051238ull, 0x15e034d40fa197aeull,
	0x314dffbe0815a3b4ull, 0x027990f029623981ull, 0xcadcd4e59ef40c4dull, 0x9abfd8766a33735cull,
	0x0e3ea96b5304a7d0ull, 0xad0c42d6fc585992ull, 0x187306c89bc215a9ull, 0xd4a60abcf3792b95ull,
	0xf935451de4f21df2ull, 0xa9538f0419755787ull, 0xdb9acddff56ca510ull, 0xd06c98cd5c0975ebull,
	0xe612a3cb9ecba951ull, 0xc766e62cfcadaf96ull, 0xee64435a9752fe72ull, 0xa192d576b245165aull,
	0x0a8787bf8ecb74b2ull, 0x81b3e73d20b49b6full, 0x7fa8220ba3b2eceaull, 0x245731c13ca42499ull,
	0xb78dbfaf3a8d83bdull, 0xea1ad565322a1a0bull, 0x60e61c23a3795013ull, 0x6606d7e446282b93ull,
	0x6ca4ecb15c5f91e1ull, 0x9f626da15c9625f3ull, 0xe51b38608ef25f57ull, 0x958a324ceb064572ull,
};
static const uint64_t sip13_vectors[64] = {
	0xabac0158050fc4dcull, 0xc9f49bf37d57ca93ull, 0x82cb9b024dc7d44dull, 0x8bf80ab8e7ddf7fbull,
	0xcf75576088d38328ull, 0xdef9d52f49533b67ull, 0xc50d2b50c59f22a7ull, 0xd3927d989bb11140ull,
	0x369095118d299a8eull, 0x25a48eb36c063de4ull, 0x79de85ee92ff097full, 0x70c118c1f94dc352ull,
	0x78a384b157b4d9a2ull, 0x306f760c1229ffa7ull, 0x605aa111c0f95d34ull, 0xd320d86d2a519956ull,
	0xcc4fdd1a7d908b66ull, 0x9cf2689063dbd80cull, 0x8ffc389cb473e63eull, 0xf21f9de58d297d1cull,
	0xc0dc2f46a6cce040ull, 0xb992abfe2b45f844ull, 0x7ffe7b9ba320872eull, 0x525a0e7fdae6c123ull,
	0xf464aeb267349c8cull, 0x45cd5928705b0979ull, 0x3a3e35e3ca9913a5ull, 0xa91dc74e4ade3b35ull,
	0xfb0bed02ef6cd00dull, 0x88d93cb44ab1e1f4ull, 0x540f11d643c5e663ull, 0x2370dd1f8c21d1bcull,
	0x81157b6c16a7b60dull, 0x4d54b9e57a8ff9bfull, 0x759f12781f2a753eull, 0xcea1a3bebf186b91ull,
	0x2cf508d3ada26206ull, 0xb6101c2da3c33057ull, 0xb3f47496ae3a36a1ull, 0x626b57547b108392ull,
	0xc1d2363299e41531ull, 0x667cc1923f1ad944ull, 0x65704ffec8138825ull, 0x24f280d1c28949a6ull,
	0xc2ca1cedfaf8876bull, 0xc2164bfc9f042196ull, 0xa16e9c9368b1d623ull, 0x49fb169c8b5114fdull,
	0x9f3143f8df074c46ull, 0xc6fdaf2412cc86b3ull, 0x7eaf49d10a52098full, 0x1cf313559d292f9aull,
	0xc44a30dda2f41f12ull, 0x36fae98943a71ed0ull, 0x318fb34c73f0bce6ull, 0xa27abf3670a7e980ull,
	0xb4bcc0db243c6d75ull, 0x23f8d852fdb71513ull, 0x8f035f4da67d8a08ull, 0xd89cd0e5b7e8f148ull,
	0xf6f4e6bcf7a644eeull, 0xaec59ad80f1837f2ull, 0xc3b2f6154b6694e0ull, 0x9d199062b7bbb3a8ull,
};

START_TEST(test_siphash_vectors)
{
	uint64_t key[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	unsigned char msg[64];

	for (int i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	ck_assert_uint_eq(intern__siphash(key, msg, 15, 2, 4), 0xa129ca6149be45e5ull);
	for (size_t n = 0; n < 64; n++) {
		ck_assert_msg(intern__siphash(key, msg, n, 2, 4) == sip24_vectors[n],
			      "SipHash-2-4 of %zu bytes", n);
		ck_assert_msg(intern__siphash(key, msg, n, 1, 3) == sip13_vectors[n],
			      "SipHash-1-3 of %zu bytes", n);
	}
}
END_TEST

/*
 * The fast mix under the key 00 01 .. 0f of the messages 00 01 .. (n-1),
 * for n in 0..64: computed once with this implementation and pinned, so
 * that a change to the function (which would change every ob_hash and the
 * flood analysis in docs/hashing.md) is a deliberate one.
 */
static const uint64_t fast_vectors[65] = {
	0xdbbe333001a72e51ull, 0x576ef0d46fc1c990ull, 0xbbfc928fa97c5ef5ull, 0xb2a0b3e0527625d6ull,
	0x2a8f9ff05b9bfa75ull, 0xb99ff67a20c3afa5ull, 0xbcea29fbcef3e99dull, 0xf86c716c7ce06d71ull,
	0xbfb83cb1a655d305ull, 0x6f518825d62b9d00ull, 0x29799810b2e067e4ull, 0x4abbd12dafd9a745ull,
	0x318b54c9b9457ab5ull, 0xeabf634e26919835ull, 0x205f1e9fe5f89d4cull, 0x9b3ba9ffa657ae7bull,
	0x950bd2596454b38eull, 0xb64a123981fb8470ull, 0x6ffeaef5f14075baull, 0x06f8e380d9fad170ull,
	0xb97921968fc19a75ull, 0x58cec01c0cbcaa9cull, 0x44d4f41aa72c7cc5ull, 0xa868ddcf7b13f94cull,
	0x46c00a838c23b474ull, 0x5f1a449dba2b9ccbull, 0x519de97c04515d07ull, 0xb5844d504c8d514cull,
	0x04185a324df0886dull, 0xcd50b573fea8f566ull, 0xa767adcf57228aabull, 0x30a6ddb0c90cbc01ull,
	0x98880c0b1a5c4c74ull, 0x7b3576e127e77040ull, 0xfe06180428f572bfull, 0x17d2b3b18746204cull,
	0x3102650ba7ae7944ull, 0x16b52c505cc0b0fcull, 0x738bfba36b9b2867ull, 0x6dc94b03cdd795b9ull,
	0x2197c3dd1346ce00ull, 0x476f281d1df05aacull, 0x6b82789fa2e0e5b5ull, 0xedc0df46b4d8026bull,
	0x2ef144a1fc3db4feull, 0xc9ea7b3559e2b4cfull, 0x4d0f73b428c632c1ull, 0xf27b9a55f2fadecdull,
	0x5abe9f166ce8c18cull, 0x45a749ec4480ebf5ull, 0x64af55578a18ce1eull, 0x118d4ed0667bd46aull,
	0x1353588584c1ed60ull, 0x3a3fff3e1f0bf964ull, 0x98489f2c1ca454d7ull, 0x37a54fa34cc8b13eull,
	0xd9c17ceb0087a7a1ull, 0x066bb3a3ecbc0909ull, 0x81d54bd65b366071ull, 0xaccb8a4676b41042ull,
	0xbc29bab7c523cc84ull, 0x5104acecbaba9902ull, 0xb40b82a124ecde99ull, 0x5d3b9083fd8fbbd4ull,
	0x38834c39a3f5826dull,
};

START_TEST(test_fastmix_vectors)
{
	uint64_t key[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	unsigned char msg[64 + 8];

	for (int i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	for (size_t n = 0; n <= 64; n++) {
		ck_assert_msg(intern__fastmix(key, msg, n) == fast_vectors[n],
			      "fast mix of %zu bytes: %016llx", n,
			      (unsigned long long)intern__fastmix(key, msg, n));
		/* The same bytes at every alignment. */
		for (size_t off = 1; off < 8; off++) {
			unsigned char copy[64 + 8];

			memcpy(copy + off, msg, n);
			ck_assert_uint_eq(intern__fastmix(key, copy + off, n), fast_vectors[n]);
		}
	}
}
END_TEST

/* Keyed: at every length, another key gives another value, and so does
 * each of the 128 single-bit changes of the key (unkeyed bits would let
 * an attacker find collisions that hold whatever the key). */
START_TEST(test_fastmix_keyed)
{
	const uint64_t base[2] = { 0x243f6a8885a308d3ull, 0x13198a2e03707344ull };
	const uint64_t other[2] = { 0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull };
	char buf[MAXLEN];

	test_fill_key(buf, sizeof(buf), 5);
	for (size_t len = 0; len <= MAXLEN; len++) {
		uint64_t h = intern__fastmix(base, buf, len);

		ck_assert_uint_eq(intern__fastmix(base, buf, len), h);
		ck_assert_uint_ne(intern__fastmix(other, buf, len), h);
		for (int bit = 0; bit < 128; bit++) {
			uint64_t k[2] = { base[0], base[1] };

			k[bit / 64] ^= 1ull << (bit % 64);
			ck_assert_msg(intern__fastmix(k, buf, len) != h, "key bit %d, length %zu", bit,
				      len);
		}
	}
}
END_TEST

/* A shard's own-key hashes (levels 1 and 2) are deterministic at every
 * length and alignment, and differ from each other and from the process
 * hash (unless the build degrades them all on purpose). */
START_TEST(test_shard_hashes)
{
	const uint64_t key[2] = { 0x452821e638d01377ull, 0xbe5466cf34e90c6cull };
	char buf[MAXLEN], copy[MAXLEN + 8];
	unsigned same_fast = 0, same_sip = 0;

	test_fill_key(buf, sizeof(buf), 7);
	for (size_t len = 0; len <= MAXLEN; len++) {
		uint32_t f = intern__hash_fast_keyed(key, buf, len);
		uint32_t s = intern__hash_sip_keyed(key, buf, len);

		for (size_t off = 0; off < 8; off++) {
			memcpy(copy + off, buf, len);
			ck_assert_uint_eq(intern__hash_fast_keyed(key, copy + off, len), f);
			ck_assert_uint_eq(intern__hash_sip_keyed(key, copy + off, len), s);
		}
		same_fast += f == intern__hash(buf, len);
		same_sip += s == f;
	}
	if (INTERN_TEST_HASH == 0) {
		ck_assert_uint_eq(same_fast, 0);
		ck_assert_uint_eq(same_sip, 0);
	}
}
END_TEST

START_TEST(test_deterministic)
{
	char buf[MAXLEN + 1];

	test_fill_key(buf, sizeof(buf), 3);
	for (size_t len = 0; len <= MAXLEN; len++) {
		uint32_t h = intern__hash(buf, len);
		char copy[MAXLEN + 8];

		ck_assert_uint_eq(intern__hash(buf, len), h);
		/* Equal bytes elsewhere, at every alignment, hash equal. */
		for (size_t off = 0; off < 8; off++) {
			memcpy(copy + off, buf, len);
			ck_assert_uint_eq(intern__hash(copy + off, len), h);
		}
	}
	/* Length 0 hashes the same whatever the pointer. */
	ck_assert_uint_eq(intern__hash("", 0), intern__hash(buf, 0));
	ck_assert_uint_eq(intern__hash("xyz", 0), intern__hash(buf, 0));
}
END_TEST

static void *hash_in_thread(void *p)
{
	static uint32_t h[MAXLEN + 1];
	char buf[MAXLEN];

	(void)p;
	test_fill_key(buf, sizeof(buf), 3);
	for (size_t len = 0; len <= MAXLEN; len++)
		h[len] = intern__hash(buf, len);
	return h;
}

START_TEST(test_same_in_threads)
{
	char buf[MAXLEN];
	pthread_t tid;
	uint32_t *theirs;

	ck_assert_int_eq(pthread_create(&tid, NULL, hash_in_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(tid, (void **)&theirs), 0);
	test_fill_key(buf, sizeof(buf), 3);
	for (size_t len = 0; len <= MAXLEN; len++)
		ck_assert_uint_eq(intern__hash(buf, len), theirs[len]);
}
END_TEST

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* No two of the n hashes are equal.  A 32-bit keyed hash collides in a set
 * of n inputs with probability about n * n / 2^33. */
static int all_distinct(uint32_t *h, size_t n)
{
	qsort(h, n, sizeof(*h), cmp_u32);
	for (size_t i = 1; i < n; i++)
		if (h[i] == h[i - 1])
			return 0;
	return 1;
}

START_TEST(test_prefixes_differ)
{
	/* Every length 0..64 of one buffer: 65 distinct hashes, so the
	 * length and every byte up to it count. */
	char buf[MAXLEN];
	uint32_t h[MAXLEN + 1];

	test_fill_key(buf, sizeof(buf), 11);
	for (size_t len = 0; len <= MAXLEN; len++)
		h[len] = intern__hash(buf, len);
	ck_assert(all_distinct(h, MAXLEN + 1));

	/* The same with all-NUL and all-0xff buffers, where only the
	 * length differs. */
	memset(buf, 0, sizeof(buf));
	for (size_t len = 0; len <= MAXLEN; len++)
		h[len] = intern__hash(buf, len);
	ck_assert(all_distinct(h, MAXLEN + 1));
	memset(buf, 0xff, sizeof(buf));
	for (size_t len = 0; len <= MAXLEN; len++)
		h[len] = intern__hash(buf, len);
	ck_assert(all_distinct(h, MAXLEN + 1));
}
END_TEST

START_TEST(test_bit_flips_differ)
{
	/* For each length 1..64, flipping any one bit changes the hash,
	 * whatever its position: the tail bytes count as much as the
	 * first.  (Chance of a false alarm: about 1e-5 in all.) */
	char buf[MAXLEN];

	for (size_t len = 1; len <= MAXLEN; len++) {
		uint32_t h;

		test_fill_key(buf, len, 100 + len);
		h = intern__hash(buf, len);
		for (size_t bit = 0; bit < len * 8; bit++) {
			buf[bit / 8] ^= (char)(1u << (bit % 8));
			ck_assert_msg(intern__hash(buf, len) != h,
				      "length %zu: flipping bit %zu kept the "
				      "hash",
				      len, bit);
			buf[bit / 8] ^= (char)(1u << (bit % 8));
		}
	}
}
END_TEST

START_TEST(test_embedded_nul)
{
	/* NUL is data: inputs that agree up to a NUL still differ. */
	static const struct {
		const char *data;
		size_t len;
	} in[] = {
		{ "", 0 },       { "\0", 1 },   { "\0\0", 2 },   { "a", 1 },
		{ "a\0", 2 },    { "a\0b", 3 }, { "a\0c", 3 },   { "\0a", 2 },
		{ "a\0b\0", 4 }, { "ab", 2 },   { "a\0\0b", 4 }, { "\0\0\0\0", 4 },
	};
	enum {
		N = sizeof(in) / sizeof(in[0])
	};
	uint32_t h[N];

	for (size_t i = 0; i < N; i++)
		h[i] = intern__hash(in[i].data, in[i].len);
	ck_assert(all_distinct(h, N));
}
END_TEST

START_TEST(test_many_keys_distinct)
{
	/* 1,000 short keys (the identifiers of a real program are short):
	 * no collision expected (probability about 1e-4). */
	enum {
		N = 1000
	};
	uint32_t *h = malloc(N * sizeof(*h));
	char key[16];

	ck_assert_ptr_nonnull(h);
	for (size_t i = 0; i < N; i++) {
		int n = snprintf(key, sizeof(key), "id_%zu", i);

		h[i] = intern__hash(key, (size_t)n);
	}
	ck_assert(all_distinct(h, N));
	free(h);
}
END_TEST

START_TEST(test_reads_only_len_bytes)
{
	/* The input ends exactly at an inaccessible page: reading one byte
	 * past it faults.  Also the hash of the bytes there equals the hash
	 * of a copy, so nothing past the end leaks into the result. */
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *end;

	ck_assert_ptr_ne(map, MAP_FAILED);
	ck_assert_int_eq(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	end = map + page;
	test_fill_key(map, (size_t)page, 5);
	for (size_t len = 0; len <= MAXLEN; len++) {
		char copy[MAXLEN + 16];

		memcpy(copy, end - len, len);
		memset(copy + len, 0x77, 16);
		ck_assert_uint_eq(intern__hash(end - len, len), intern__hash(copy, len));
	}
	munmap(map, (size_t)page * 2);
}
END_TEST

/* The hash of a fixed string, computed by a fresh copy of this program with
 * INTERN_HASH_SEED set to `seed` (NULL: unset). */
static uint32_t hash_in_child(const char *seed)
{
	int fd[2], status;
	char out[32] = "";
	pid_t pid;

	ck_assert_int_eq(pipe(fd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		if (seed != NULL)
			setenv("INTERN_HASH_SEED", seed, 1);
		else
			unsetenv("INTERN_HASH_SEED");
		execl(self, self, "--print-hash", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	ck_assert_int_gt(read(fd[0], out, sizeof(out) - 1), 0);
	close(fd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return (uint32_t)strtoul(out, NULL, 16);
}

START_TEST(test_seed)
{
	/* A fixed seed gives the same key in every process... */
	uint32_t a = hash_in_child("12345"), b = hash_in_child("12345");

	ck_assert_uint_eq(a, b);
	ck_assert_uint_ne(hash_in_child("12346"), a);
	/* ...and without one each process draws its own key (equal by
	 * chance with probability 2^-32). */
	ck_assert_uint_ne(hash_in_child(NULL), hash_in_child(NULL));
}
END_TEST

START_TEST(test_degraded)
{
	/* A total-collision build (meson -Dtest_hash=constant|4bit): the
	 * table hash has exactly 1 or 16 values, and the 4-bit values still
	 * differ in the top (shard) and low (bucket) bits. */
	enum {
		N = 1000
	};
	uint32_t *h = malloc(N * sizeof(*h));
	size_t distinct = 1;
	char key[16];

	ck_assert_ptr_nonnull(h);
	for (size_t i = 0; i < N; i++) {
		int n = snprintf(key, sizeof(key), "id_%zu", i);

		h[i] = intern__hash(key, (size_t)n);
	}
	qsort(h, N, sizeof(*h), cmp_u32);
	for (size_t i = 1; i < N; i++)
		distinct += h[i] != h[i - 1];
	ck_assert_uint_eq(distinct, INTERN_TEST_HASH == 1 ? 1 : 16);
	if (INTERN_TEST_HASH == 2)
		for (size_t i = 0; i < N; i++)
			ck_assert_uint_eq(h[i] >> 28, h[i] & 0xf);
	free(h);
}
END_TEST

/* The probe's compare (table.h, intern__same_bytes) at every length from
 * 0 to MAXLEN: equal bytes match, one byte changed anywhere (the word
 * loads overlap at the tail) or another length does not. */
START_TEST(test_same_bytes)
{
	char buf[MAXLEN + 1];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);
	for (size_t len = 0; len <= MAXLEN; len++) {
		struct intern_str *s = intern_str_new(buf, len);

		ck_assert_ptr_nonnull(s);
		ck_assert(intern__same_bytes(s, buf, len));
		if (len < MAXLEN)
			ck_assert(!intern__same_bytes(s, buf, len + 1));
		for (size_t i = 0; i < len; i++) {
			buf[i] ^= 0x20;
			ck_assert_msg(!intern__same_bytes(s, buf, len), "len %zu, byte %zu", len,
				      i);
			buf[i] ^= 0x20;
		}
		intern_str_decref(s);
	}
}
END_TEST

int main(int argc, char **argv)
{
	const TTest *const tc_hash[] = {
		test_siphash_vectors,
		test_fastmix_vectors,
		test_fastmix_keyed,
		test_shard_hashes,
		test_deterministic,
		test_same_in_threads,
		test_reads_only_len_bytes,
		test_same_bytes,
#if INTERN_TEST_HASH == 0
		/* These assert that the hash tells inputs apart, which a
		 * total-collision build does not do on purpose: there the
		 * suite checks the degradation itself instead. */
		test_prefixes_differ,
		test_bit_flips_differ,
		test_embedded_nul,
		test_many_keys_distinct,
		test_seed,
#else
		test_degraded,
#endif
		NULL,
	};
	const struct test_case cases[] = {
		{ "hash", tc_hash, 0 },
	};

#if INTERN_TEST_HASH == 0
	(void)test_degraded;
#else
	(void)test_prefixes_differ, (void)test_bit_flips_differ, (void)test_embedded_nul;
	(void)test_many_keys_distinct, (void)test_seed;
#endif
	if (argc == 2 && strcmp(argv[1], "--print-hash") == 0) {
		printf("%08x\n", (unsigned)intern__hash("libintern", 9));
		return 0;
	}
	self = argv[0];
	return test_run_cases("hash", cases, TEST_COUNT(cases));
}
