/* t_geo.h -- the geo commands (t_geo.c): their rows of the command table.
 *
 * API:
 *   geoCommandTable   rows gathered by commands.c (ends with a NULL name) */
#ifndef RINGKV_T_GEO_H
#define RINGKV_T_GEO_H

#include "commands.h"

extern command geoCommandTable[];

#endif
