/* coord.h -- the coordinator: the only way command handlers read or write
 * keys. A read returns the merged record of the key; a write creates a new
 * version through the key's version coordinator and returns once it is
 * acknowledged. Both complete through a callback, possibly later (a write
 * waits for the storage commit; in a cluster, for the replicas), so
 * handlers are written as continuations.
 *
 * Each operation holds one pending count on its request until its callback
 * has run, so a request completes exactly when its last operation did.
 *
 * API:
 *   coordRead(r, db, key, cb, pd)        read.c's state machine
 *   coordWrite(r, db, key, op, cb, pd)   write.c here, or forward.c to the
 *                                        version coordinator
 *   coordInit()                          registers the bus requests served
 *   coordInfo(out)                       INFO ring: membership and ring, levels,
 *                                        coordinator counters, transfers, bus
 * Cluster-wide SCAN/DBSIZE/FLUSH are in clusterops.h; forwarding of whole
 * commands in forward.h / replica.h. Callbacks get a coordResult;
 * res->rec is borrowed for the callback only. */
#ifndef RINGKV_COORD_H
#define RINGKV_COORD_H

#include "db.h"
#include "request.h"
#include "server.h"

typedef struct coordResult {
    int ok;            /* 1 on success */
    const char *err;   /* on failure: the error to reply (e.g. "-NOQUORUM ...") */
    const record *rec; /* reads: the merged versions (empty if absent) */
    int coll;          /* reads: a replica with no record holds a collection's
                        * metadata there (the command may answer WRONGTYPE) */
} coordResult;

typedef void coordCallback(request *r, const coordResult *res, void *pd);

void coordRead(request *r, int db, const char *key, size_t klen, coordCallback *cb, void *pd);
void coordWrite(request *r, int db, const char *key, size_t klen, const writeOp *op,
                coordCallback *cb, void *pd);
void coordInit(void);
void coordInfo(buf *out);

/* The coordinator's counters (INFO ring), bumped by the coordination files
 * (read.c, write.c, forward.c, target.c). */
extern struct coordStats {
    long long reads, writes, forwarded, read_repairs, noquorum, late_acks, fallbacks;
    long long read_retries; /* reads that asked a held-back replica (failure or read-retry-ms) */
    long long range_rereads; /* score range reads whose replicas listed different members (coll.c) */
} coordStats;

#endif
