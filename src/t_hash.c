/* t_hash.c -- hashes commands, over coll.h. */
#include "t_hash.h"

command hashCommandTable[] = {
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};
