/* t_hash.h -- hashes commands (t_hash.c): their rows of the command table.
 *
 * API:
 *   hashCommandTable   rows gathered by commands.c (ends with a NULL name) */
#ifndef RINGKV_T_HASH_H
#define RINGKV_T_HASH_H

#include "commands.h"

extern command hashCommandTable[];

#endif
