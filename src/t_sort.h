/* t_sort.h -- SORT and SORT_RO (t_sort.c): their rows of the command table.
 *
 * API:
 *   sortCommandTable   rows gathered by commands.c (ends with a NULL name) */
#ifndef RINGKV_T_SORT_H
#define RINGKV_T_SORT_H

#include "commands.h"

extern command sortCommandTable[];

#endif
