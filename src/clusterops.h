/* clusterops.h -- commands that span the whole keyspace: SCAN and KEYS
 * (clusteropsScan), DBSIZE (clusteropsCount), FLUSHDB and FLUSHALL
 * (clusteropsFlush); see clusterops.c.
 *
 * API:
 *   clusteropsScan(r, db, cursor, count, pat, cb, pd)
 *   clusteropsCount(r, db, cb, pd)
 *   clusteropsFlush(r, db, cb, pd)      db -1: every db
 *   clusteropsInit()                    registers SCAN, COUNT and FLUSH
 * Each holds one pending count on r until its callback has run. */
#ifndef RINGKV_CLUSTEROPS_H
#define RINGKV_CLUSTEROPS_H

#include "request.h"
#include "server.h"

typedef struct clusteropsKeys {
    buf bytes;     /* the keys, back to back */
    size_t *lens;  /* their lengths */
    int *types;    /* what each reads as: KT_* (keymeta.h's type rule) */
    long n, cap;   /* keys, and room in lens and types */
} clusteropsKeys;

typedef struct clusteropsScanResult {
    int ok;                      /* 1 on success */
    const char *err;             /* on failure: the error to reply */
    unsigned long long next;     /* the cursor to continue with, 0 = done */
    const clusteropsKeys *keys;  /* borrowed for the callback */
} clusteropsScanResult;

typedef void clusteropsScanCallback(request *r, const clusteropsScanResult *res, void *pd);
typedef void clusteropsCountCallback(request *r, int ok, const char *err, long long n, void *pd);

/* SCAN over the cluster from cursor until count keys (matching pat if not
 * NULL) were collected or the keyspace ended: string keys and collection
 * keys (sets, hashes, sorted sets, HyperLogLog), each with its type. pat is
 * copied. */
void clusteropsScan(request *r, int db, unsigned long long cursor, long count, const char *pat,
                    size_t patlen, clusteropsScanCallback *cb, void *pd);
void clusteropsCount(request *r, int db, clusteropsCountCallback *cb, void *pd);
void clusteropsFlush(request *r, int db, clusteropsCountCallback *cb, void *pd);
void clusteropsInit(void);

#endif
