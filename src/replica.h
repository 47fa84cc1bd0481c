/* replica.h -- what a node does when a coordinator asks (replica.c).
 *
 * API:
 *   replicaInit()             registers GET, PUT, COORD and CMD on the bus */
#ifndef RINGKV_REPLICA_H
#define RINGKV_REPLICA_H

void replicaInit(void);

#endif
