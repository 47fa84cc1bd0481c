/* t_hll.h -- HyperLogLog commands (t_hll.c): their rows of the command table.
 *
 * API:
 *   hllCommandTable   rows gathered by commands.c (ends with a NULL name):
 *                     PFADD, PFCOUNT, PFMERGE; their handlers are static */
#ifndef RINGKV_T_HLL_H
#define RINGKV_T_HLL_H

#include "commands.h"

extern command hllCommandTable[];

#endif
