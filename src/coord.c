/* coord.c -- the coordinator. On a single node (the foundation), the
 * version coordinator and the only replica are this node: a read is a local
 * read, a write is dbCoordinate and completes when the storage batch that
 * holds it is durable. The cluster replaces the insides, not the API. */
#include "coord.h"

#include <stdio.h>
#include <string.h>

typedef struct writeCtx {
    request *r;
    coordCallback *cb;
    void *pd;
} writeCtx;

void coordRead(request *r, int db, const char *key, size_t klen, coordCallback *cb, void *pd) {
    record rec;
    recordInit(&rec);
    storeValue hold;
    coordResult res = {0, NULL, &rec};
    r->pending++;
    int found = dbRead(db, key, klen, &rec, &hold);
    if (found < 0) {
        res.err = "-IOERR storage read failed, see the server log";
    } else {
        res.ok = 1;
        if (found) {
            if (recordVisible(&rec, serverNowMs())) server.stat.keyspace_hits++;
            else server.stat.keyspace_misses++;
        } else {
            server.stat.keyspace_misses++;
        }
    }
    cb(r, &res, pd);
    recordFree(&rec);
    if (found > 0) storeValueFree(&hold);
    requestRelease(r);
}

static void writeDone(int ok, const char *err, void *pd) {
    writeCtx *w = pd;
    coordResult res = {ok, NULL, NULL};
    char msg[300];
    if (!ok) {
        snprintf(msg, sizeof(msg), "-IOERR storage write failed: %s", err ? err : "unknown");
        res.err = msg;
    }
    w->cb(w->r, &res, w->pd);
    requestRelease(w->r);
    zfree(w);
}

void coordWrite(request *r, int db, const char *key, size_t klen, const writeOp *op,
                coordCallback *cb, void *pd) {
    writeCtx *w = zmalloc(sizeof(*w));
    w->r = r;
    w->cb = cb;
    w->pd = pd;
    r->pending++;
    version v;
    versionInit(&v);
    if (dbCoordinate(db, key, klen, op, &v, writeDone, w) != C_OK) {
        versionFree(&v);
        writeDone(0, storeLastError(), w);
        return;
    }
    versionFree(&v);
}
