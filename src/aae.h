/* aae.h -- active anti-entropy with Merkle trees. See aae.c. */
#ifndef RINGKV_AAE_H
#define RINGKV_AAE_H

#include "server.h"

void aaeInit(void);
/* One exchange of partition p with peer (member index): both ways, or only
 * pushing this node's differing records if push. done(ok, keys moved, pd)
 * runs once at the end (ok = 0 if the peer stopped answering). */
typedef void aaeDoneFn(int ok, long long keys, void *pd);
void aaeExchange(unsigned p, int peer, int push, aaeDoneFn *done, void *pd);
/* RING REPAIR: starts a pass; if wait, r is answered when it ends. */
void aaeRepair(request *r, int wait);
void aaeStatus(buf *out); /* RING STATUS */
/* 1 while a pass runs, with its progress. */
int aaeProgress(unsigned *done, unsigned *total, long long *keys);
void aaeInfo(buf *out);   /* INFO antientropy */

#endif
