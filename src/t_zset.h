/* t_zset.h -- sorted sets commands (t_zset.c): their rows of the command table.
 *
 * API:
 *   zsetCommandTable   rows gathered by commands.c (ends with a NULL name) */
#ifndef RINGKV_T_ZSET_H
#define RINGKV_T_ZSET_H

#include "commands.h"

extern command zsetCommandTable[];

#endif
