/* t_zset.c -- sorted sets commands, over coll.h. */
#include "t_zset.h"

command zsetCommandTable[] = {
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};
