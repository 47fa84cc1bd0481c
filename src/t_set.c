/* t_set.c -- sets commands, over coll.h. */
#include "t_set.h"

command setCommandTable[] = {
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};
