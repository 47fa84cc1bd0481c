/* replica.h -- what a node does when a coordinator asks (replica.c).
 *
 * API:
 *   replicaInit()             registers GET, PUT, COORD and CMD on the bus
 *   replicaCommandDone(r)     a forwarded command (CMD) ran here: answer it */
#ifndef RINGKV_REPLICA_H
#define RINGKV_REPLICA_H

#include "server.h"

void replicaInit(void);
/* Called by client.c when a request that came as CMD completed: its reply
 * bytes go back to the forwarding node. */
void replicaCommandDone(request *r);

#endif
