/* handoff.h -- partition transfers on join and leave. See handoff.c. */
#ifndef RINGKV_HANDOFF_H
#define RINGKV_HANDOFF_H

#include "util.h"

void handoffInit(void);
int handoffActive(void);
/* A replica write for partition p arrived: a node that does not own p yet
 * waits a while before dropping it (the sender may know of a ring change
 * that gossip has not brought here yet). */
void handoffNoteWrite(unsigned p);
void handoffStatus(buf *out); /* RING STATUS lines */
void handoffInfo(buf *out);   /* INFO ring lines */
/* 1 if a transfer runs (its partition and keys done of about total);
 * remaining = partitions still to receive here. */
int handoffProgress(unsigned *partition, long long *keys, long long *total, int *remaining);

#endif
