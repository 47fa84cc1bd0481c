/* db.h -- this node's own keyspace on top of store.c: reading records,
 * creating versions (the version-coordinator step), storing incoming
 * records blind (every other write path), the derived state (key counts,
 * stored bytes, Merkle leaves: kept lazily per bucket, see db.c), the expiry
 * index and active expiry, and scans of local keys.
 *
 * API:
 *   dbInit()                                counters and Merkle trees loaded
 *   dbRead(db, key, rec, hold)              1 found, 0 absent, -1 storage error
 *   dbApply(db, key, incoming, enc, cb, pd) merge a record in, blind (replica path)
 *   dbApplyRaw(skey, val, cb, pd)           merge a collection's state in, blind
 *   dbCoordinate(db, key, op, newv, cb, pd) create a version here and store it
 *   dbKeys(db) / dbExpires(db)              live key counts (this node; dbRecount)
 *   dbFlush(db)                             drop a db (-1 = all)
 *   dbScan(db, cursor, count, fn, pd)       walk keys by slot (SCAN cursor): string
 *                                           records and collections' metadata
 *   dbActiveExpireCycle()                   turn expired versions into tombstones
 *   dbTree / dbTreeBuild / dbBucketKeys     Merkle trees per partition (aae.c)
 *   dbTreesSave()                           trees and counters kept at a clean shutdown
 */
#ifndef RINGKV_DB_H
#define RINGKV_DB_H

#include "record.h"
#include "store.h"

/* What a write asks the version coordinator to create. */
typedef struct writeOp {
    const char *val;     /* the new value (ignored for a tombstone) */
    size_t vlen;         /* its length */
    int tombstone;       /* a delete */
    int64_t expire;      /* absolute expiry in unix ms, 0 = none */
    const vclock *ctx;   /* causal context: NULL = over every version stored here */
    int incr;            /* val is an increment (svarint128, then an optional ldouble:
                          * types/tcodec.h) this node adds to its running total
                          * (INCR family, types/strctr.h); no version made */
} writeOp;

typedef void dbWriteCb(int ok, const char *err, void *pd);

void dbInit(void);
/* Reads (db, key). rec gets the versions, whose values point into *hold:
 * release hold with storeValueFree after the record is done. */
int dbRead(int db, const char *key, size_t klen, record *rec, storeValue *hold);
/* The stored record's bytes as they are (for a replica's answer). */
int dbReadRaw(int db, const char *key, size_t klen, storeValue *out);
/* Keys of db in one partition (this node's copy) as last counted: call
 * dbRecount first. */
long long dbPartitionKeys(int db, unsigned partition);
/* Recounts the buckets written since the last look, for at most 100 ms
 * (what is left stays as counted before; the cron goes on with it), and
 * every partition never counted, whole. */
void dbRecount(void);
/* The cron's share of that work: at most budget_us. */
void dbRecountCycle(long long budget_us);
/* Buckets whose figures are not counted yet (INFO: 0 when they are exact). */
long long dbDirtyBuckets(void);
/* Bytes stored for a partition (keys and records as stored, tombstones
 * included; its dirty buckets are counted first). */
long long dbPartitionBytes(unsigned partition);
/* Merges incoming (decoded: enc, its encoding, borrowed) into the stored
 * record without reading it: enc becomes a merge operand (store.c), the
 * key's bucket is marked dirty, an expiry of incoming gets its index entry.
 * cb runs once the batch is durable (WAL and memtable), with ok = 0 if the
 * store refused it. Returns C_OK (cb will be called). */
int dbApply(int db, const char *key, size_t klen, const record *incoming, const char *enc,
            size_t enclen, dbWriteCb *cb, void *pd);
/* Merges a collection's state (val: the encoding of the state its storage
 * key skey holds, collkey.h) into what is stored, blind, and marks the
 * bucket dirty; cb (may be NULL) runs once the batch is durable. C_ERR
 * (nothing done, cb not called) when skey is not a collection's key. */
int dbApplyRaw(const char *skey, size_t sklen, const char *val, size_t vlen, dbWriteCb *cb,
               void *pd);
/* The version coordinator's step: reads the local record, makes a version
 * with a fresh dot over op->ctx (or over all local versions), merges it in
 * and writes. *rec receives the encoding of the whole resulting record (all
 * its siblings: replicas get the full record, so a replica never holds a
 * newer version of an actor without the older concurrent one it sits
 * beside). Returns C_ERR on a storage error (cb not called). */
int dbCoordinate(int db, const char *key, size_t klen, const writeOp *op, buf *rec,
                 dbWriteCb *cb, void *pd);
/* Live key counts (this node) as last counted: call dbRecount first (once
 * for all dbs); exact unless more was written since the last look than
 * 100 ms of recounting covers. */
long long dbKeys(int db);
long long dbExpires(int db);
int dbFlush(int db);

struct keymeta;
/* Called for each live key: a string record (rec, meta NULL) or a
 * collection's metadata (meta, rec NULL; live: some type may live, see
 * keymetaTypeMayLive); a key holding both is called once for each. Both are
 * borrowed for the call. Return 0 to go on. */
typedef int dbScanFn(const char *key, size_t klen, const record *rec, const struct keymeta *meta,
                     void *pd);
/* Visits whole slots from cursor up to (not including) slot end, until at
 * least count keys were seen; returns the next slot to visit (end when the
 * range is done). end = 0 means the end of the keyspace, and then the
 * return value is 0 when done (a SCAN cursor). */
unsigned long long dbScan(int db, unsigned long long cursor, unsigned long long end, long count,
                          dbScanFn *fn, void *pd);
/* The same, and with dead set every stored record, tombstones and expired
 * ones included, and every collection's metadata, dead or not (for a
 * coordinator that merges several replicas' views). */
unsigned long long dbScanEx(int db, unsigned long long cursor, unsigned long long end, long count,
                            int dead, dbScanFn *fn, void *pd);
void dbActiveExpireCycle(long long budget_us);

/* ---- Merkle trees (merkle.h), one per partition ---- */
struct merkle;
/* The partition's tree, its dirty buckets computed first (never NULL; the
 * leaves are valid until the next write). */
struct merkle *dbTree(unsigned partition);
void dbTreeBuild(unsigned partition);        /* compute all of it from the data again */
long long dbTreesBuilt(void);                /* partitions whose figures are computed */
void dbBucketKeys(unsigned partition, unsigned bucket, buf *out); /* AAE key list */
void dbTreesSave(void);                      /* clean shutdown: trees and counts saved */
void dbPartitionDropped(unsigned partition); /* after its range was deleted */

/* A collection's figures (collbatch.h's collStats, CF_KSTATS) by stats key
 * (collkey.h): 1 found, 0 none, -1 storage error; and their replacement.
 * The figures of the pending batch's collections are kept in memory and put
 * into the batch as it is written, so these are the only way to them. */
struct collStats;
int dbCollStats(const char *sk, size_t sklen, struct collStats *st);
void dbCollStatsPut(const char *sk, size_t sklen, const struct collStats *st);

/* C_ERR (logged) when the store holds collections written by an earlier
 * build, in a format this one would read wrong; else marks the store as of
 * this format. Called once at start, after dbInit. */
int dbCheckFormat(void);

/* Where a sorted set's live score index entries begin (rev 0) or end (rev
 * 1) as far as this node knows (db.c): 1 and the entry key in out, or 0.
 * pre is the key's index prefix (collkey.h). A walk from that end that
 * found every entry before k gone (deleted, or dead for good) sets it. */
int dbZindexHint(const char *pre, size_t plen, int rev, buf *out);
void dbZindexHintSet(const char *pre, size_t plen, int rev, const char *k, size_t kl);

#endif
