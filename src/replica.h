/* replica.h -- what a node does when a coordinator asks (replica.c).
 *
 * API:
 *   replicaInit()             registers GET, PUT, COORD and CMD on the bus
 *   replicaCommandDone(r)     a forwarded command (CMD) ran here: answer it
 *   replicaParseDb(req, i)    argument i of a bus request as a db number */
#ifndef RINGKV_REPLICA_H
#define RINGKV_REPLICA_H

#include "bus.h"
#include "server.h"

void replicaInit(void);
/* Called by client.c when a request that came as CMD completed: its reply
 * bytes go back to the forwarding node. */
void replicaCommandDone(request *r);
/* 0..databases-1, or -1 if it is not one. */
int replicaParseDb(const busReq *req, int i);

#endif
