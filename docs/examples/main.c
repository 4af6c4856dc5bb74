/*
 * main.c: libintern's application singletons, end to end.
 *
 * INTERN_ID(name) and INTERN_STR(name, "text") are constant pointers to
 * static strings that the build generates from these sources
 * (intern-gen-ids, see meson.build or Makefile beside this file).  An
 * interpreter given the generated table (intern_app_table) returns those
 * very objects for their bytes, by any route.  The program exits 0 if every
 * identity holds.
 */
#include <stdio.h>
#include <string.h>

#include <intern.h>

#include "app-ids.h"
#include "headers.h"

/* The macros are address constants: usable in a static initializer. */
static const struct {
	struct intern_str *s;
	const char *text;
} declared[] = {
	{ INTERN_ID(method), "method" },
	{ INTERN_ID(path), "path" },
	{ INTERN_ID(__init__), "__init__" },
	{ INTERN_STR(empty_json, "{}"), "{}" },
	{ INTERN_STR(content_length, "Content-Length"), "Content-Length" },
};

static int failures;

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "example-app: FAILED: %s\n", what);
		failures++;
	}
}

int main(void)
{
	static const char *const request[] = { "Host", "Content-Type", "Accept",
					       "Content-Length" };
	static const enum header kinds[] = { HEADER_HOST, HEADER_CONTENT_TYPE, HEADER_OTHER,
					     HEADER_CONTENT_LENGTH };
	struct intern_interp *interp[2];

	for (int k = 0; k < 2; k++) {
		interp[k] = intern_interp_new(NULL);
		if (!interp[k]) {
			perror("intern_interp_new");
			return 1;
		}
		/* Before other threads intern in it: every content becomes
		 * the static object.  Both interpreters share the table. */
		check(intern_interp_add_statics(interp[k], &intern_app_table) == 0,
		      "intern_interp_add_statics");
	}
	for (size_t i = 0; i < sizeof(declared) / sizeof(declared[0]); i++) {
		const char *text = declared[i].text;

		check(intern_str_state(declared[i].s) == INTERN_IMMORTAL_STATIC, text);
		check(strcmp(intern_str_data(declared[i].s), text) == 0, text);
		for (int k = 0; k < 2; k++) {
			/* A new reference; on a static string decref is a no-op,
			 * dropping it is still the right habit. */
			struct intern_str *s = intern_bytes(interp[k], text, strlen(text));

			check(s == declared[i].s, text);
			intern_str_decref(s);
		}
	}
	/* Header names parsed from input become the declared objects. */
	for (size_t i = 0; i < sizeof(request) / sizeof(request[0]); i++) {
		struct intern_str *name = intern_bytes(interp[i % 2], request[i],
						       strlen(request[i]));

		check(name != NULL && header_kind(name) == kinds[i], request[i]);
		printf("%-15s -> %s\n", request[i],
		       header_kind(name) == HEADER_OTHER ? "other (dynamic)" : "known (static)");
		intern_str_decref(name);
	}
	intern_interp_free(interp[0]);
	intern_interp_free(interp[1]);
	/* The objects outlive every interpreter. */
	check(intern_str_state(INTERN_ID(method)) == INTERN_IMMORTAL_STATIC, "after free");
	printf("%u static strings, %s\n", intern_app_table.count,
	       failures ? "FAILED" : "all identities hold");
	return failures ? 1 : 0;
}
