/* t_hll.c -- HyperLogLog commands, over coll.h. */
#include "t_hll.h"

command hllCommandTable[] = {
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};
