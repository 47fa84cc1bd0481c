/* t_set.h -- sets commands (t_set.c): their rows of the command table.
 *
 * API:
 *   setCommandTable   rows gathered by commands.c (ends with a NULL name) */
#ifndef RINGKV_T_SET_H
#define RINGKV_T_SET_H

#include "commands.h"

extern command setCommandTable[];

#endif
