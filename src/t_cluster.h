/* t_cluster.h -- cluster commands (t_cluster.c): CONSISTENCY and RING.
 *
 * API: the handlers below (rows of commands.c's table). */
#ifndef RINGKV_T_CLUSTER_H
#define RINGKV_T_CLUSTER_H

#include "request.h"

void consistencyCommand(request *r);
void ringCommand(request *r);

#endif
