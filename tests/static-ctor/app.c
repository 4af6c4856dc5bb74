/*
 * An application linked with the static libintern whose own constructor
 * interns before libintern's constructors run (the archive's objects come
 * after this one in the link, so their constructors run later).  main()
 * then interns the same bytes again: it must get the very same object, and
 * the interpreter must pass its own check (no entry filed under another
 * key).  Exit status 0 on success.
 */
#include <stdio.h>
#include <string.h>

#include <intern.h>

static struct intern_interp *interp;
static struct intern_str *early;

__attribute__((constructor)) static void app_init(void)
{
	interp = intern_interp_new(NULL);
	if (interp)
		early = intern_bytes(interp, "content_length", 14);
}

int main(void)
{
	struct intern_str *late;
	int rc = 0;

	if (!interp || !early) {
		fputs("static-ctor: interning in a constructor failed\n", stderr);
		return 1;
	}
	late = intern_bytes(interp, "content_length", 14);
	if (late != early) {
		fprintf(stderr, "static-ctor: two canonical objects for one string (%p, %p)\n",
			(void *)early, (void *)late);
		rc = 1;
	}
	if (intern_interp_check(interp) != 0) {
		fputs("static-ctor: intern_interp_check failed\n", stderr);
		rc = 1;
	}
	intern_str_decref(late);
	intern_str_decref(early);
	intern_interp_free(interp);
	intern_barrier();
	if (rc == 0)
		puts("ok");
	return rc;
}
