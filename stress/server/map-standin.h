/* TEMPORARY: the agreed intern_map API, until the library has it. */
#include <stdbool.h>
#include <stddef.h>
struct intern_str;
struct intern_map;
struct intern_map *intern_map_new(size_t expected);
void intern_map_free(struct intern_map *map, void (*free_value)(void *value));
int intern_map_set(struct intern_map *map, struct intern_str *key, void *value, void **old_value);
void *intern_map_get(const struct intern_map *map, const struct intern_str *key);
int intern_map_find(const struct intern_map *map, const struct intern_str *key, void **value);
int intern_map_delete(struct intern_map *map, const struct intern_str *key, void **old_value);
size_t intern_map_size(const struct intern_map *map);
void intern_map_clear(struct intern_map *map, void (*free_value)(void *value));
struct intern_map_iter { const struct intern_map *map; size_t pos; };
void intern_map_iter_init(struct intern_map_iter *it, const struct intern_map *map);
bool intern_map_iter_next(struct intern_map_iter *it, struct intern_str **key, void **value);
int intern_map_iter_delete(struct intern_map_iter *it, void **old_value);
