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
 *   coordRead(r, db, key, cb, pd)
 *   coordWrite(r, db, key, op, cb, pd)
 *   coordInit() / coordInfo(out)
 * Callbacks get a coordResult; res->rec is borrowed for the callback only. */
#ifndef RINGKV_COORD_H
#define RINGKV_COORD_H

#include "db.h"
#include "server.h"

typedef struct coordResult {
    int ok;            /* 1 on success */
    const char *err;   /* on failure: the error to reply (e.g. "-NOQUORUM ...") */
    const record *rec; /* reads: the merged versions (empty if absent) */
} coordResult;

typedef void coordCallback(request *r, const coordResult *res, void *pd);

void coordRead(request *r, int db, const char *key, size_t klen, coordCallback *cb, void *pd);
void coordWrite(request *r, int db, const char *key, size_t klen, const writeOp *op,
                coordCallback *cb, void *pd);
/* Whole-cluster operations. Keys come back as concatenated bytes. */
typedef struct coordKeys {
    buf bytes;     /* the keys, back to back */
    size_t *lens;  /* their lengths */
    long n, cap;
} coordKeys;

typedef struct coordScanResult {
    int ok;
    const char *err;
    unsigned long long next; /* the cursor to continue with, 0 = done */
    const coordKeys *keys;   /* borrowed for the callback */
} coordScanResult;

typedef void coordScanCallback(request *r, const coordScanResult *res, void *pd);
typedef void coordCountCallback(request *r, int ok, const char *err, long long n, void *pd);

/* SCAN over the cluster from cursor until count keys (matching pat if not
 * NULL) were collected or the keyspace ended. */
void coordScan(request *r, int db, unsigned long long cursor, long count, const char *pat,
               size_t patlen, coordScanCallback *cb, void *pd);
void coordCount(request *r, int db, coordCountCallback *cb, void *pd); /* DBSIZE */
void coordFlush(request *r, int db, coordCountCallback *cb, void *pd); /* db -1 = all */
void coordInit(void);          /* registers the bus requests replicas serve */
/* Sends r to the key's version coordinator if r is a single-key
 * read-modify-write and that is another node; returns 1 if it did (r
 * completes when the answer comes). */
int coordForwardCommand(request *r);
void coordForwardedDone(request *r); /* a CMD request ran here: answer it */
void coordInfo(buf *out);      /* INFO ring lines */

#endif
