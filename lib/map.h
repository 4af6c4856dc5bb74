/*
 * map.h: what map.c shows the white-box tests.  Nothing here is API.
 */
#ifndef INTERN_MAP_H
#define INTERN_MAP_H

#include "intern.h"

/* The mean number of slots a successful lookup steps past its home slot
 * (a small map's linear scan counts from slot 0); 0 for an empty map. */
double intern__map_mean_probe(const struct intern_map *map);

#endif
