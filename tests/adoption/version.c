/*
 * version.c: the run-time version query against meson's project version
 * (argv[1]) and the header's macros.  Exit 0 when all three agree.
 */
#include <intern.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char header[32];
	unsigned long packed = intern_version_number();

	snprintf(header, sizeof(header), "%d.%d.%d", INTERN_VERSION_MAJOR, INTERN_VERSION_MINOR,
		 INTERN_VERSION_MICRO);
	printf("intern_version() %s, header %s, meson %s, packed 0x%06lx\n", intern_version(),
	       header, argc > 1 ? argv[1] : "?", packed);
	if (argc != 2 || strcmp(intern_version(), argv[1]) || strcmp(header, argv[1]))
		return 1;
	return packed == (unsigned long)INTERN_VERSION_NUMBER &&
			       packed == ((unsigned long)INTERN_VERSION_MAJOR << 16 |
					  (unsigned long)INTERN_VERSION_MINOR << 8 |
					  (unsigned long)INTERN_VERSION_MICRO)
		       ? 0
		       : 1;
}
