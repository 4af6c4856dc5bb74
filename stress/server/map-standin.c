/* TEMPORARY stand-in for the library's intern_map until it is merged:
 * wraps cmap (bytes compare equal exactly when canonical pointers do). */
#include <errno.h>
#include "layer.h"

static void mk(struct kv_key *k, const struct intern_str *s)
{
	k->data = intern_str_data(s);
	k->len = intern_str_len(s);
	k->s = (struct intern_str *)s;
	k->hash = cmap_hash(k->data, k->len);
}

struct intern_map *intern_map_new(size_t expected) { return (struct intern_map *)cmap_new(expected); }
void intern_map_free(struct intern_map *m, void (*f)(void *)) { cmap_free((struct cmap *)m, f); }
void intern_map_clear(struct intern_map *m, void (*f)(void *)) { cmap_clear((struct cmap *)m, f); }
int intern_map_set(struct intern_map *m, struct intern_str *key, void *v, void **old)
{ struct kv_key k; mk(&k, key); return cmap_set((struct cmap *)m, &k, v, old); }
void *intern_map_get(const struct intern_map *m, const struct intern_str *key)
{ void *v = NULL; intern_map_find(m, key, &v); return v; }
int intern_map_find(const struct intern_map *m, const struct intern_str *key, void **v)
{ struct kv_key k; mk(&k, key); return cmap_find((const struct cmap *)m, &k, v); }
int intern_map_delete(struct intern_map *m, const struct intern_str *key, void **old)
{ struct kv_key k; mk(&k, key); return cmap_delete((struct cmap *)m, &k, old); }
size_t intern_map_size(const struct intern_map *m) { return cmap_size((const struct cmap *)m); }
void intern_map_iter_init(struct intern_map_iter *it, const struct intern_map *m)
{ cmap_iter_init((union kv_iter *)it, m); }
bool intern_map_iter_next(struct intern_map_iter *it, struct intern_str **k, void **v)
{ return cmap_iter_next((union kv_iter *)it, k, v); }
int intern_map_iter_delete(struct intern_map_iter *it, void **old)
{ return cmap_iter_delete((union kv_iter *)it, old); }
