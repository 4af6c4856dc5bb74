/*
 * snapshot.c: mapped snapshots of immortal strings and dense IDs
 * (docs/snapshot.md).  Declared first so that users of the API can build
 * against it; every call fails with ENOSYS until the implementation lands.
 */
#include <errno.h>

#include "intern-private.h"

INTERN_API struct intern_snapshot_builder *intern_snapshot_builder_new(void)
{
	errno = ENOSYS;
	return NULL;
}

INTERN_API int intern_snapshot_builder_add(struct intern_snapshot_builder *b, const char *data,
					   size_t len)
{
	(void)b, (void)data, (void)len;
	return -ENOSYS;
}

INTERN_API int intern_snapshot_builder_add_interp(struct intern_snapshot_builder *b,
						  struct intern_interp *interp)
{
	(void)b, (void)interp;
	return -ENOSYS;
}

INTERN_API int intern_snapshot_builder_write(struct intern_snapshot_builder *b, const char *path)
{
	(void)b, (void)path;
	return -ENOSYS;
}

INTERN_API void intern_snapshot_builder_free(struct intern_snapshot_builder *b)
{
	(void)b;
}

INTERN_API struct intern_snapshot *intern_snapshot_open(const char *path, unsigned flags,
							char *why, size_t why_len)
{
	(void)path, (void)flags, (void)why, (void)why_len;
	errno = ENOSYS;
	return NULL;
}

INTERN_API void intern_snapshot_close(struct intern_snapshot *snap)
{
	(void)snap;
}

INTERN_API size_t intern_snapshot_count(const struct intern_snapshot *snap)
{
	(void)snap;
	return 0;
}

INTERN_API struct intern_interp *intern_interp_new_snapshot(const struct intern_config *config,
							    struct intern_snapshot *snap)
{
	(void)config, (void)snap;
	errno = ENOSYS;
	return NULL;
}

INTERN_API uint32_t intern_id_of(struct intern_interp *interp, const struct intern_str *s)
{
	(void)interp, (void)s;
	errno = ENOSYS;
	return INTERN_ID_NONE;
}

INTERN_API struct intern_str *intern_id_str(struct intern_interp *interp, uint32_t id)
{
	(void)interp, (void)id;
	errno = ENOSYS;
	return NULL;
}
