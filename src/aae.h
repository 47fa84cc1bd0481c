/* aae.h -- active anti-entropy with Merkle trees. See aae.c. */
#ifndef RINGKV_AAE_H
#define RINGKV_AAE_H

#include "util.h"

void aaeInit(void);
/* One exchange of partition p with peer (member index): both ways, or only
 * pushing this node's differing records if push. done(ok, keys moved, pd)
 * runs once at the end (ok = 0 if the peer stopped answering). */
typedef void aaeDoneFn(int ok, long long keys, void *pd);
void aaeExchange(unsigned p, int peer, int push, aaeDoneFn *done, void *pd);
/* RING REPAIR: starts a pass unless one runs. Returns 0 if it ended at once
 * (nothing to compare: done is not called), else 1, and done(keys repaired,
 * partitions compared, pd) runs once at the end of the pass if not NULL. */
typedef void aaePassDoneFn(long long keys, unsigned partitions, void *pd);
int aaeRepair(aaePassDoneFn *done, void *pd);
void aaeStatus(buf *out); /* RING STATUS */
/* 1 while a pass runs, with its progress. */
int aaeProgress(unsigned *done, unsigned *total, long long *keys);
void aaeInfo(buf *out);   /* INFO antientropy */

#endif
