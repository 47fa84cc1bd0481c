/* t_bitfield.h -- BITFIELD and BITFIELD_RO (t_bitfield.c): their rows of
 * the command table.
 *
 * API:
 *   bitfieldCommandTable   rows gathered by commands.c (ends with a NULL name) */
#ifndef RINGKV_T_BITFIELD_H
#define RINGKV_T_BITFIELD_H

#include "commands.h"

extern command bitfieldCommandTable[];

#endif
