/* store.c -- RocksDB: options, column families, group commit, iterators,
 * compaction filter, write health, stats. See store.h for the contract.
 *
 * Column families:
 *   data     [slot u24 BE][db u8][key] -> record (record.h)
 *   meta     node identity, clock high-water mark, key counters
 *   expires  [expire ms u64 BE][data key] -> "" : the active-expiry index
 *   hints    [owner id len u8][owner id][data key] -> [stored ms u64][record]
 *   clock    the clock's high-water mark only (server.c), written with every
 *            batch that issued or observed a timestamp
 *
 * Write health (health.state), one transition per function:
 *
 *   WRITABLE --a batch write fails with ENOSPC--------------> DISK_FULL
 *   WRITABLE --a batch write fails otherwise----------------> WRITE_ERROR
 *   WRITABLE --the background WAL sync fails----------------> SYNC_ERROR
 *       (healthFailed; one log line, whatever the number of writes refused)
 *   DISK_FULL, WRITE_ERROR --a write succeeds again---------> WRITABLE
 *       (healthResumed; one log line with the count refused meanwhile)
 *
 * A failed WAL write (or memtable flush) puts RocksDB in a "background
 * error": it refuses every later write until it resumes. For ENOSPC it
 * resumes by itself: its SstFileManager looks at the free space every 5 s
 * and, once the largest write buffer fits (st.reserve), flushes the
 * memtables and starts a new WAL. Other I/O errors are fatal to that RocksDB
 * instance (a restart). In a failed state the store refuses batches itself,
 * without calling RocksDB, and storeCron writes one small probe a second
 * (for a full disk, only with some room free) to learn whether RocksDB
 * resumed. So the first write RocksDB sees after it resumed is that probe,
 * which has the room it needs. (When it had nothing to flush, RocksDB
 * resumes with the WAL writer that failed; a write failing again right then
 * would leave the next one to abort inside RocksDB.) SYNC_ERROR is final
 * until a restart: after a failed sync RocksDB cannot reuse that WAL, so
 * nothing is probed (as Redis's MISCONF, until the operator acts).
 *
 * Invariants: `batch` holds exactly the writes made since the last commit,
 * and the overlay holds, for each key it wrote, what a read must see: the
 * last value or delete (merged with the merges after it), or the join of
 * its merge operands when the batch only merged into the stored value;
 * `commit_ev` is active whenever they are non-empty. No RocksDB call that
 * may touch the WAL file (a write, FlushWAL, a memtable switch by a flush
 * or a manual compaction) runs on two threads at once: they hold walLock.
 * RocksDB (built with assertions, as Debian's is) aborts the process when
 * its WAL writer is used again after a failed write, so the sync thread
 * syncs only while the state is WRITABLE (syncAllowed), and nothing but the
 * probe is tried in another state. */
#include "store.h"

#include <event2/event.h>
#include <rocksdb/c.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collbatch.h"
#include "collkey.h"
#include "record.h"
#include <xxhash.h>
#include "server.h"

static const char *cfnames[CF_COUNT + 1] = {"data",  "meta",   "expires", "hints",
                                            "clock", "zindex", "kstats",  "default"};

typedef struct pendingCb {
    storeCommitCb *cb;
    void *pd;
} pendingCb;

static struct {
    rocksdb_t *db;
    rocksdb_options_t *dbopts;
    rocksdb_options_t *cfopts[CF_COUNT + 1];
    rocksdb_column_family_handle_t *cf[CF_COUNT + 1];
    rocksdb_block_based_table_options_t *bbto;
    rocksdb_cache_t *cache;
    rocksdb_filterpolicy_t *bloom;
    rocksdb_compactionfilter_t *cfilter;
    rocksdb_readoptions_t *ropts;      /* point reads */
    rocksdb_readoptions_t *iteropts;   /* scans: total order (not data) */
    rocksdb_readoptions_t *prefixopts; /* data scans: one partition */
    rocksdb_writeoptions_t *wopts;     /* wal-fsync no/everysec */
    rocksdb_writeoptions_t *wopts_sync;/* wal-fsync always */
    rocksdb_writebatch_t *batch;      /* writes of this iteration */
    int batch_ops;
    pendingCb *cbs;
    int ncbs, cbcap;
    struct event *commit_ev;
    int armed;                         /* commit_ev is active */
    char lasterr[256];
    unsigned long long wal_syncs;
    unsigned long long commits;
    unsigned long long commit_ops;
    unsigned long long reserve;        /* free bytes RocksDB needs to resume after ENOSPC */
    storeWriteHook *hooks[4];          /* storeOnWrite */
    int nhooks;
} st;

/* Write health: see the state diagram at the top. Owned by the loop thread;
 * the sync thread sees only syncAllowed and reports through syncFailed. */
enum { WRITABLE = 0, DISK_FULL, WRITE_ERROR, SYNC_ERROR };
static const char *stateNames[] = {"ok", "disk_full", "write_error", "sync_error"};

static struct {
    int state;                        /* WRITABLE, DISK_FULL, ... */
    long long since_ms;               /* the current failure began */
    long long last_probe_ms;          /* the last write tried in a failed state */
    unsigned long long refused_ops;   /* writes refused in the current failure */
    unsigned long long refused_batches;
    unsigned long long refused_total; /* writes refused since the start */
    unsigned long long failures;      /* failures (transitions out of WRITABLE) so far */
    long long last_outage_ms;         /* how long the last failure lasted */
    char client[160];                 /* what a refused write's callback says */
} health;

/* Serialises the loop's WAL writes with the sync thread's FlushWAL (see the
 * invariants above). The loop waits for it only when a sync is running at
 * the moment it writes: at most one fsync, at most once a second. */
static pthread_mutex_t walLock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int syncAllowed;      /* WRITABLE: the sync thread may sync */
static _Atomic int syncFailed;       /* set by the sync thread, read by storeCron */
static char syncErr[200];            /* the failed sync's error, under walLock */

/* --------------------------------------------------------------- overlay */

/* What the current batch wrote, by (column family, key): storeGet must see
 * it before it is committed (a pipeline's INCR after INCR). A merge over a
 * value or a delete of the batch is merged at once (the value is known); a
 * merge over what is stored stays an operand, merged with the stored value
 * when read (storeGet), as RocksDB will. A hash table
 * cleared at every commit; cheaper than RocksDB's indexed batch, whose
 * skiplist comparisons cost as much as the memtable's. */
enum { OV_PUT = 0, OV_DELETE, OV_MERGE };

typedef struct overlayEntry {
    uint64_t hash;   /* 0 = empty slot */
    int cf;
    int kind;        /* OV_PUT: the value; OV_DELETE: none; OV_MERGE: an operand
                      * (the join of this batch's merges) over what is stored */
    size_t key;      /* offset of the key in ov.arena */
    size_t klen;
    size_t val;      /* offset of the value in ov.arena */
    size_t vlen;
} overlayEntry;

/* Keys and values live in one arena per batch, and the slots in use are
 * listed: a commit clears what the batch used, with no allocation per
 * write and no walk over the whole table (a pipeline can grow it to
 * thousands of slots, and a commit at -P 1 holds a handful of writes). */
static struct {
    overlayEntry *slots;
    size_t size;     /* power of two */
    size_t used;
    size_t *usedIdx; /* the slots in use (room for size / 2) */
    buf arena;       /* this batch's keys and values */
} ov;

static uint64_t overlayHash(int cf, const char *key, size_t klen) {
    uint64_t h = XXH3_64bits_withSeed(key, klen, (XXH64_hash_t)cf);
    return h ? h : 1;
}

static size_t overlayStash(const char *p, size_t len) {
    size_t off = ov.arena.len;
    bufAppend(&ov.arena, p, len);
    return off;
}

/* Sets size slots (empty) and re-inserts the entries in use. */
static void overlayResize(size_t size) {
    overlayEntry *old = ov.slots;
    size_t oldused = ov.used;
    size_t *oldidx = ov.usedIdx;
    ov.size = size;
    ov.slots = zcalloc(sizeof(overlayEntry) * size);
    ov.usedIdx = zmalloc(sizeof(size_t) * (size / 2));
    ov.used = 0;
    for (size_t i = 0; i < oldused; i++) {
        overlayEntry *e = &old[oldidx[i]];
        size_t j = e->hash & (size - 1);
        while (ov.slots[j].hash) j = (j + 1) & (size - 1);
        ov.slots[j] = *e;
        ov.usedIdx[ov.used++] = j;
    }
    zfree(old);
    zfree(oldidx);
}

static overlayEntry *overlayFind(int cf, const char *key, size_t klen, int create,
                                 int *created) {
    if (!ov.size) {
        if (!create) return NULL;
        overlayResize(1024);
    }
    if (create && (ov.used + 1) * 2 > ov.size) overlayResize(ov.size * 2);
    uint64_t h = overlayHash(cf, key, klen);
    size_t j = h & (ov.size - 1);
    while (ov.slots[j].hash) {
        overlayEntry *e = &ov.slots[j];
        if (e->hash == h && e->cf == cf && e->klen == klen &&
            !memcmp(ov.arena.ptr + e->key, key, klen))
            return e;
        j = (j + 1) & (ov.size - 1);
    }
    if (!create) return NULL;
    overlayEntry *e = &ov.slots[j];
    if (created) *created = 1;
    e->hash = h;
    e->cf = cf;
    e->key = overlayStash(key, klen);
    e->klen = klen;
    ov.usedIdx[ov.used++] = j;
    return e;
}

static void overlaySet(int cf, const char *key, size_t klen, const char *val, size_t vlen,
                       int deleted) {
    overlayEntry *e = overlayFind(cf, key, klen, 1, NULL);
    /* a key written twice in a batch leaves its first value in the arena
     * until the commit */
    e->val = deleted ? 0 : overlayStash(val, vlen);
    e->vlen = deleted ? 0 : vlen;
    e->kind = deleted ? OV_DELETE : OV_PUT;
}

static buf mergeScratch; /* the loop thread's merge output, reused */

/* A merge operand for a key of the data column family. */
static void overlayMerge(int cf, const char *key, size_t klen, const char *op, size_t oplen) {
    int created = 0;
    overlayEntry *e = overlayFind(cf, key, klen, 1, &created);
    if (created) {
        e->kind = OV_MERGE;
        e->val = overlayStash(op, oplen);
        e->vlen = oplen;
        return;
    }
    /* the inputs point into the arena: merge into the scratch, then stash */
    const char *ops[2];
    size_t lens[2];
    int n = 0;
    const char *base = NULL;
    size_t blen = 0;
    if (e->kind == OV_PUT) {
        base = ov.arena.ptr + e->val;
        blen = e->vlen;
    } else if (e->kind == OV_MERGE) {
        ops[n] = ov.arena.ptr + e->val;
        lens[n++] = e->vlen;
    } /* OV_DELETE: over nothing, so the result is a value */
    ops[n] = op;
    lens[n++] = oplen;
    collMergeEncoded(collKeyKind(key, klen), base, blen, ops, lens, n, &mergeScratch);
    if (e->kind == OV_DELETE) e->kind = OV_PUT;
    e->val = overlayStash(mergeScratch.ptr, mergeScratch.len);
    e->vlen = mergeScratch.len;
}

static void overlayClear(void) {
    for (size_t i = 0; i < ov.used; i++) ov.slots[ov.usedIdx[i]].hash = 0;
    ov.used = 0;
    ov.arena.len = 0;
    /* a burst made it big: give the memory back */
    if (ov.size > 65536) {
        zfree(ov.slots);
        zfree(ov.usedIdx);
        ov.slots = NULL;
        ov.usedIdx = NULL;
        ov.size = 0;
    }
    if (ov.arena.cap > (64u << 20)) bufFree(&ov.arena);
}

static _Atomic unsigned long long syncCount; /* WAL syncs by the sync thread */

/* The compaction filter runs on RocksDB's background threads: it reads only
 * this copy of the grace period, never the server struct. */
static _Atomic long long tombstone_grace_ms;

struct storeIter {
    rocksdb_iterator_t *it;
    int data;                 /* a data iterator: one partition, bucket by bucket */
    unsigned char prefix[3];  /* partition (2 bytes) and the current bucket */
    unsigned char last;       /* the last bucket to walk to: 255, or one bucket only */
};

/* Data iterators are per partition. The memtable is hashed on the 3-byte
 * partition+bucket prefix (see cfOptions) and RocksDB's iterator sees one
 * prefix (prefix_same_as_start); the store's iterator walks the partition's
 * 256 buckets in order, so callers see the whole partition, in key order,
 * and nothing past it. Others iterate in total order. */

static int checkErr(char *err, const char *what) {
    if (!err) return C_OK;
    snprintf(st.lasterr, sizeof(st.lasterr), "%s: %s", what, err);
    serverLog(LL_WARNING, "RocksDB error: %s", st.lasterr);
    rocksdb_free(err);
    return C_ERR;
}

const char *storeLastError(void) { return st.lasterr; }
unsigned long long storeWalSyncs(void) { return st.wal_syncs + atomic_load(&syncCount); }

/* ---------------------------------------------------------- write health */

static unsigned long long freeBytes(void) {
    struct statvfs sv;
    if (!server.dir || statvfs(server.dir, &sv) != 0) return 0;
    return (unsigned long long)sv.f_bavail * (unsigned long long)sv.f_frsize;
}

/* RocksDB's error text is all the C API gives: this is the one place where
 * it becomes a kind (ENOSPC, or RocksDB's own space limit). */
static int isNoSpace(const char *err) {
    return strstr(err, "No space left on device") || strstr(err, "Space limit");
}

/* A write of ops operations failed with RocksDB's err: counted, and logged
 * when it ends the WRITABLE state (only then). */
static void healthFailed(const char *err, int ops, int sync) {
    snprintf(st.lasterr, sizeof(st.lasterr), "%s: %s", sync ? "wal sync" : "write", err);
    health.refused_ops += (unsigned long long)ops;
    health.refused_total += (unsigned long long)ops;
    if (ops) health.refused_batches++; /* not the probe */
    health.last_probe_ms = mstime();
    if (health.state != WRITABLE) return;
    atomic_store(&syncAllowed, 0);
    health.state = sync ? SYNC_ERROR : isNoSpace(err) ? DISK_FULL : WRITE_ERROR;
    health.since_ms = health.last_probe_ms;
    health.failures++;
    if (health.state == DISK_FULL) {
        snprintf(health.client, sizeof(health.client),
                 "DISKFULL no space left on this node's disk: writes refused until space is freed");
        serverLog(LL_WARNING,
                  "Disk full: RocksDB refused a batch of %d writes (%s). This node refuses writes "
                  "(and keeps serving reads) until space is freed in %s: %llu bytes free now, "
                  "it resumes by itself once %llu are (checked every 5 s)",
                  ops, err, server.dir, freeBytes(), st.reserve);
    } else if (health.state == WRITE_ERROR) {
        snprintf(health.client, sizeof(health.client),
                 "DISKERROR this node's disk failed a write: writes refused (%.80s)", err);
        serverLog(LL_WARNING,
                  "Disk write error: RocksDB refused a batch of %d writes (%s). This node refuses "
                  "writes and keeps serving reads; RocksDB does not resume by itself after such "
                  "an error: check the disk and restart the node", ops, err);
    } else {
        snprintf(health.client, sizeof(health.client),
                 "DISKERROR this node's WAL sync failed: writes refused until the node restarts");
        serverLog(LL_WARNING,
                  "WAL sync failed (%s): the writes of about the last second may not be on the "
                  "disk. This node refuses writes from now on and keeps serving reads; check the "
                  "disk and restart the node", err);
    }
}

/* A write went through in a failed state: RocksDB resumed. */
static void healthResumed(void) {
    long long now = mstime();
    health.last_outage_ms = now - health.since_ms;
    serverLog(LL_WARNING,
              "Disk writes resumed after %.1f s (%s): %llu writes (%llu batches) were refused "
              "meanwhile; anti-entropy and RING REPAIR bring back what this node missed",
              (double)health.last_outage_ms / 1000.0, stateNames[health.state], health.refused_ops,
              health.refused_batches);
    health.state = WRITABLE;
    health.refused_ops = health.refused_batches = 0;
    health.client[0] = '\0';
    atomic_store(&syncAllowed, 1);
}

int storeWritable(void) { return health.state == WRITABLE; }
const char *storeWriteError(void) { return health.state == WRITABLE ? "" : health.client; }
void storeOnWrite(storeWriteHook *fn) {
    if (st.nhooks < (int)(sizeof(st.hooks) / sizeof(st.hooks[0]))) st.hooks[st.nhooks++] = fn;
}

/* Writes wb (ops operations; 0 for the probe) to RocksDB, synced under
 * wal-fsync always. Loop thread only. */
static int rocksWrite(rocksdb_writebatch_t *wb, int ops) {
    int sync = server.wal_fsync == WAL_FSYNC_ALWAYS;
    char *err = NULL;
    pthread_mutex_lock(&walLock);
    rocksdb_write(st.db, sync ? st.wopts_sync : st.wopts, wb, &err);
    if (err) atomic_store(&syncAllowed, 0); /* before the sync thread can look */
    pthread_mutex_unlock(&walLock);
    if (err) {
        healthFailed(err, ops, 0);
        rocksdb_free(err);
        return C_ERR;
    }
    if (sync) st.wal_syncs++;
    if (health.state != WRITABLE) healthResumed();
    return C_OK;
}

/* A batch of ops writes: written, or refused at once in a failed state (see
 * the top: only the probe goes to RocksDB then). */
static int writeBatch(rocksdb_writebatch_t *wb, int ops) {
    if (health.state == WRITABLE) return rocksWrite(wb, ops);
    health.refused_ops += (unsigned long long)ops;
    health.refused_total += (unsigned long long)ops;
    health.refused_batches++;
    return C_ERR;
}

/* Once a second in a failed state: one small write tells whether RocksDB
 * resumed (until then it fails at once, touching nothing). A full disk is
 * probed only with 1 MB free, far more than the probe's few bytes need. */
#define PROBE_MIN_FREE (1ULL << 20)
static void probeWrite(void) {
    if (health.state != DISK_FULL && health.state != WRITE_ERROR) return;
    long long now = mstime();
    if (now - health.last_probe_ms < 1000) return;
    health.last_probe_ms = now;
    if (health.state == DISK_FULL && freeBytes() < PROBE_MIN_FREE) return;
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    char v[24];
    int l = snprintf(v, sizeof(v), "%lld", now);
    rocksdb_writebatch_put_cf(wb, st.cf[CF_META], "store_probe", 11, v, (size_t)l);
    rocksWrite(wb, 0);
    rocksdb_writebatch_destroy(wb);
}

/* --------------------------------------------------------- compaction filter */

/* Drops records made only of tombstones older than tombstone-grace. RocksDB
 * turns a removal above the bottom level into a deletion marker, so an older
 * value below can not resurface. Expired values are turned into tombstones
 * by the active expiry of db.c (which keeps the key counters exact); this
 * filter then collects them. RocksDB shows it stored values only, never
 * merge operands (kept): a key written by merges is seen here once a
 * compaction has merged its operands into a value, a compaction later. */
static unsigned char dataFilter(void *state, int level, const char *key, size_t klen,
                                const char *val, size_t vlen, char **nv, size_t *nvlen,
                                unsigned char *changed) {
    UNUSED(state);
    UNUSED(level);
    UNUSED(key);
    UNUSED(klen);
    UNUSED(nv);
    UNUSED(nvlen);
    *changed = 0;
    record r;
    recordInit(&r);
    int drop = 0;
    if (recordDecode(&r, val, vlen) == C_OK && r.n > 0 && !r.ctr) { /* counters stay */
        long long now = mstime();
        long long grace = atomic_load(&tombstone_grace_ms);
        drop = 1;
        for (int i = 0; i < r.n; i++) {
            /* a tombstone's age counts from the delete, or from the expiry
             * it replaced, whichever is later */
            long long t = (long long)hlcPhysicalMs(r.v[i].counter);
            if (r.v[i].expire > t) t = r.v[i].expire;
            if (!r.v[i].tombstone || t + grace > now) {
                drop = 0;
                break;
            }
        }
    }
    recordFree(&r);
    return (unsigned char)drop;
}

static void dataFilterDestroy(void *state) { UNUSED(state); }

static const char *dataFilterName(void *state) {
    UNUSED(state);
    return "ringkv.tombstones";
}

/* ------------------------------------------------------------ merge operator */

#define MAX_SUCCESSIVE_MERGES 8

/* The data column family's merge operator: a replica stores what it is sent
 * as a merge operand, without reading (see db.c), and RocksDB merges the
 * operands with the stored value on reads, flushes and compactions, in
 * whatever order and grouping it meets them. collMergeEncoded is the join
 * of the key's kind of state (collkey.h: a string's record, a collection's
 * metadata, element or sketch; each associative, commutative, idempotent:
 * tests/unit/test_merge.c and the types' tests), so every grouping gives the
 * same state, and the full and
 * the partial merge are the same function. It runs on RocksDB's threads
 * (reads on the loop thread, compactions on background ones): it is pure,
 * and counts malformed operands (left out) in an atomic. */
static _Atomic unsigned long long mergeMalformed;

static char *mergeOut(buf *out, int bad, unsigned char *success, size_t *newlen) {
    if (bad) atomic_fetch_add(&mergeMalformed, (unsigned long long)bad);
    *success = 1;
    *newlen = out->len;
    return out->ptr; /* released by mergeDeleteValue */
}

static char *mergeFull(void *state, const char *key, size_t klen, const char *existing,
                       size_t elen, const char *const *ops, const size_t *lens, int n,
                       unsigned char *success, size_t *newlen) {
    UNUSED(state);
    buf out;
    bufInit(&out);
    int bad = collMergeEncoded(collKeyKind(key, klen), existing, elen, ops, lens, n, &out);
    return mergeOut(&out, bad, success, newlen);
}

static char *mergePartial(void *state, const char *key, size_t klen, const char *const *ops,
                          const size_t *lens, int n, unsigned char *success, size_t *newlen) {
    UNUSED(state);
    buf out;
    bufInit(&out);
    int bad = collMergeEncoded(collKeyKind(key, klen), NULL, 0, ops, lens, n, &out);
    return mergeOut(&out, bad, success, newlen);
}

static void mergeDeleteValue(void *state, const char *value, size_t len) {
    UNUSED(state);
    UNUSED(len);
    zfree((void *)value);
}

static void mergeDestroy(void *state) { UNUSED(state); }

static const char *mergeName(void *state) {
    UNUSED(state);
    return "ringkv.record.join";
}

/* ---------------------------------------------------------------- commit */

static void commitEvent(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    st.armed = 0;
    storeCommit();
}

int storeHasPending(void) { return st.batch_ops > 0 || st.ncbs > 0; }

/* The commit event is made active (not scheduled): libevent runs it after
 * the callbacks already active in this loop iteration, so every request
 * read in this iteration joins the same batch. */
static void armCommit(void) {
    if (st.commit_ev && !st.armed) {
        st.armed = 1;
        event_active(st.commit_ev, EV_TIMEOUT, 0);
    }
}

static void (*beforeCommit[4])(void); /* storeBeforeCommit, in the order registered */

void storeBeforeCommit(void (*fn)(void)) {
    for (int i = 0; i < 4; i++)
        if (!beforeCommit[i]) {
            beforeCommit[i] = fn;
            return;
        }
}

int storeCommit(void) {
    if (!st.batch_ops && !st.ncbs) return C_OK;
    int ok = 1;
    if (st.batch_ops) {
        for (int i = 0; i < 4 && beforeCommit[i]; i++) beforeCommit[i]();
        ok = writeBatch(st.batch, st.batch_ops) == C_OK;
        st.commits++;
        st.commit_ops += (unsigned long long)st.batch_ops;
        rocksdb_writebatch_clear(st.batch);
        overlayClear();
        st.batch_ops = 0;
        /* before the callbacks: those who keep state in memory beside the
         * batch (db.c's counters and trees, the clock mark) take a failed
         * batch's changes back first */
        for (int i = 0; i < st.nhooks; i++) st.hooks[i](ok);
    }
    /* Callbacks may write again (a new batch, a new commit event): take the
     * list first. */
    pendingCb *cbs = st.cbs;
    int n = st.ncbs;
    st.cbs = NULL;
    st.ncbs = st.cbcap = 0;
    for (int i = 0; i < n; i++) cbs[i].cb(ok, ok ? NULL : health.client, cbs[i].pd);
    zfree(cbs);
    return ok ? C_OK : C_ERR;
}

void storeAfterCommit(storeCommitCb *cb, void *pd) {
    if (st.ncbs == st.cbcap) {
        st.cbcap = st.cbcap ? st.cbcap * 2 : 64;
        st.cbs = zrealloc(st.cbs, sizeof(pendingCb) * (size_t)st.cbcap);
    }
    st.cbs[st.ncbs].cb = cb;
    st.cbs[st.ncbs].pd = pd;
    st.ncbs++;
    armCommit();
}


/* wal-fsync everysec: a thread of its own syncs the WAL once a second, so
 * the event loop never waits for the disk (but for walLock, when a write
 * meets a sync). It touches nothing but RocksDB (whose FlushWAL is thread
 * safe), walLock, syncErr and three atomics. It syncs only while the loop
 * says the WAL is healthy (syncAllowed): FlushWAL after a failed write
 * aborts the process inside RocksDB. A failed sync is reported to the loop
 * (syncFailed; storeCron logs it) and ends the syncing. */
static pthread_t syncThread;
static _Atomic int syncRun, syncEverysec;

static void *syncMain(void *arg) {
    UNUSED(arg);
    while (atomic_load(&syncRun)) {
        for (int i = 0; i < 10 && atomic_load(&syncRun); i++) usleep(100000);
        if (!atomic_load(&syncRun) || !atomic_load(&syncEverysec)) continue;
        pthread_mutex_lock(&walLock);
        if (atomic_load(&syncAllowed)) {
            char *err = NULL;
            rocksdb_flush_wal(st.db, 1, &err);
            if (err) {
                snprintf(syncErr, sizeof(syncErr), "%s", err);
                rocksdb_free(err);
                atomic_store(&syncAllowed, 0);
                atomic_store(&syncFailed, 1);
            } else {
                atomic_fetch_add(&syncCount, 1);
            }
        }
        pthread_mutex_unlock(&walLock);
    }
    return NULL;
}

void storeCron(void) {
    /* keep the thread's view of the policy current (CONFIG SET wal-fsync) */
    atomic_store(&syncEverysec, server.wal_fsync == WAL_FSYNC_EVERYSEC);
    if (atomic_exchange(&syncFailed, 0)) {
        char e[sizeof(syncErr)];
        pthread_mutex_lock(&walLock);
        memcpy(e, syncErr, sizeof(e));
        pthread_mutex_unlock(&walLock);
        if (health.state == WRITABLE) {
            healthFailed(e, 0, 1);
        } else { /* already failed: the state (and its line) stays */
            serverLog(LL_WARNING, "WAL sync failed too (%s)", e);
        }
    }
    probeWrite();
}

/* ------------------------------------------------------------ reads, writes */

/* A copy of p in memory storeValueFree releases (rocksdb_free, i.e. free). */
static char *valueCopy(const char *p, size_t len) {
    char *c = malloc(len ? len : 1);
    if (!c) abort();
    memcpy(c, p, len);
    return c;
}

int storeGet(int cf, const char *key, size_t klen, storeValue *v) {
    char *err = NULL;
    size_t vlen = 0;
    char *val;
    overlayEntry *o = st.batch_ops ? overlayFind(cf, key, klen, 0, NULL) : NULL;
    if (o && o->kind != OV_MERGE) { /* written in this iteration, not committed yet */
        if (o->kind == OV_DELETE) {
            v->ptr = NULL;
            v->len = 0;
            return 0;
        }
        v->ptr = valueCopy(ov.arena.ptr + o->val, o->vlen);
        v->len = o->vlen;
        return 1;
    }
    val = rocksdb_get_cf(st.db, st.ropts, st.cf[cf], key, klen, &vlen, &err);
    if (checkErr(err, "get") != C_OK) return -1;
    if (o) { /* this batch's merge operand over what is stored */
        const char *op = ov.arena.ptr + o->val;
        collMergeEncoded(collKeyKind(key, klen), val, vlen, &op, &o->vlen, 1, &mergeScratch);
        if (val) rocksdb_free(val);
        v->ptr = valueCopy(mergeScratch.ptr, mergeScratch.len);
        v->len = mergeScratch.len;
        return 1;
    }
    v->ptr = val;
    v->len = vlen;
    return val != NULL;
}

void storeValueFree(storeValue *v) {
    if (v->ptr) rocksdb_free(v->ptr);
    v->ptr = NULL;
    v->len = 0;
}

void storePut(int cf, const char *key, size_t klen, const char *val, size_t vlen) {
    rocksdb_writebatch_put_cf(st.batch, st.cf[cf], key, klen, val, vlen);
    overlaySet(cf, key, klen, val, vlen, 0);
    st.batch_ops++;
    armCommit();
}

void storeMerge(int cf, const char *key, size_t klen, const char *op, size_t oplen) {
    rocksdb_writebatch_merge_cf(st.batch, st.cf[cf], key, klen, op, oplen);
    overlayMerge(cf, key, klen, op, oplen);
    st.batch_ops++;
    armCommit();
}

void storeDelete(int cf, const char *key, size_t klen) {
    rocksdb_writebatch_delete_cf(st.batch, st.cf[cf], key, klen);
    overlaySet(cf, key, klen, NULL, 0, 1);
    st.batch_ops++;
    armCommit();
}

int storeDeleteRange(int cf, const char *from, size_t flen, const char *to, size_t tlen) {
    storeCommit();
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    rocksdb_writebatch_delete_range_cf(wb, st.cf[cf], from, flen, to, tlen);
    int rc = writeBatch(wb, 1);
    rocksdb_writebatch_destroy(wb);
    return rc;
}

void storeCompactRange(int cf, const char *from, size_t flen, const char *to, size_t tlen) {
    /* a compaction may flush the memtable, which writes to the WAL: not
     * after a failed write (see the top), and not during a sync */
    if (health.state != WRITABLE) return;
    pthread_mutex_lock(&walLock);
    rocksdb_compact_range_cf(st.db, st.cf[cf], from, flen, to, tlen);
    pthread_mutex_unlock(&walLock);
}

/* -------------------------------------------------------------- iterators */

storeIter *storeIterCreate(int cf) {
    storeCommit(); /* iterators read the DB only: make the batch visible first */
    storeIter *it = zcalloc(sizeof(*it));
    it->data = cf == CF_DATA;
    it->it = rocksdb_create_iterator_cf(st.db, it->data ? st.prefixopts : st.iteropts, st.cf[cf]);
    return it;
}

/* A data iterator past its bucket's end moves to the next bucket of the
 * partition, until one has keys or the partition ends. */
static void nextBucket(storeIter *it) {
    while (it->data && !rocksdb_iter_valid(it->it) && it->prefix[2] < it->last) {
        it->prefix[2]++;
        rocksdb_iter_seek(it->it, (const char *)it->prefix, 3);
    }
}

static void seekUpTo(storeIter *it, const char *key, size_t klen, unsigned char last) {
    it->last = last;
    if (it->data) {
        memset(it->prefix, 0, 3);
        memcpy(it->prefix, key, klen < 3 ? klen : 3);
        if (klen < 3) { /* shorter than a prefix: from the start of that bucket */
            key = (const char *)it->prefix;
            klen = 3;
        }
    }
    rocksdb_iter_seek(it->it, key, klen);
    nextBucket(it);
}
void storeIterSeek(storeIter *it, const char *key, size_t klen) { seekUpTo(it, key, klen, 255); }
/* One bucket only: the iterator ends with the bucket instead of walking on. */
void storeIterSeekBucket(storeIter *it, const char *prefix) {
    seekUpTo(it, prefix, 3, (unsigned char)prefix[2]);
}
void storeIterSeekFirst(storeIter *it) {
    if (it->data) {
        storeIterSeek(it, "\0\0\0", 3);
        return;
    }
    rocksdb_iter_seek_to_first(it->it);
}
void storeIterSeekForPrev(storeIter *it, const char *key, size_t klen) {
    rocksdb_iter_seek_for_prev(it->it, key, klen);
}
void storeIterPrev(storeIter *it) { rocksdb_iter_prev(it->it); }
int storeIterValid(storeIter *it) { return rocksdb_iter_valid(it->it); }
void storeIterNext(storeIter *it) {
    rocksdb_iter_next(it->it);
    nextBucket(it);
}
const char *storeIterKey(storeIter *it, size_t *len) { return rocksdb_iter_key(it->it, len); }
const char *storeIterValue(storeIter *it, size_t *len) {
    return rocksdb_iter_value(it->it, len);
}
void storeIterFree(storeIter *it) {
    if (!it) return;
    char *err = NULL;
    rocksdb_iter_get_error(it->it, &err);
    checkErr(err, "iterator");
    rocksdb_iter_destroy(it->it);
    zfree(it);
}

/* ------------------------------------------------------------ open, close */

static rocksdb_options_t *cfOptions(int cf) {
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_block_based_table_factory(o, st.bbto);
    rocksdb_options_set_compression(o, rocksdb_lz4_compression);
    rocksdb_options_set_bottommost_compression(o, rocksdb_zstd_compression);
    rocksdb_options_set_level_compaction_dynamic_level_bytes(o, 1);
    if (cf == CF_DATA) {
        /* The memtable is a hash of skiplists keyed by the 3-byte
         * partition+bucket prefix: an insert or a lookup searches a list of
         * a few entries instead of all (measured: with the whole memtable
         * in one skiplist its search was most of a write's CPU; with one
         * list per partition, still a third of a GET's). Iterators then see
         * one prefix at a time; every scan of data is per partition, which
         * storeIter walks bucket by bucket, so none needs total order
         * (which this memtable can only give by copying itself). */
        rocksdb_options_set_prefix_extractor(o, rocksdb_slicetransform_create_fixed_prefix(3));
        size_t buckets = (size_t)server.ring_partitions * 256 * 2;
        if (buckets > (1u << 20)) buckets = 1u << 20;
        /* The bucket array (8 bytes a bucket) lives in the memtable's own
         * arena: at most a quarter of it, or a small memtable-size is full
         * before its first write (RocksDB asserts that it is not). */
        if (buckets > (size_t)server.memtable_size / 32) buckets = (size_t)server.memtable_size / 32;
        /* Each bucket's skiplist may grow tall: a collection's elements
         * all share its key's bucket (collkey.h), and a list capped at
         * height 4 (branching 4) searches linearly past a few hundred
         * entries (measured: SADD into a set of 18k members at a third of
         * the rate into an empty one). A node's expected height does not
         * depend on the cap, so small buckets cost what they did. */
        rocksdb_options_set_hash_skip_list_rep(o, buckets, 12, 4);
        rocksdb_options_set_write_buffer_size(o, (size_t)server.memtable_size);
        rocksdb_options_set_max_write_buffer_number(o, 3);
        rocksdb_options_set_enable_blob_files(o, 1);
        rocksdb_options_set_min_blob_size(o, (uint64_t)server.blob_threshold);
        rocksdb_options_set_blob_compression_type(o, rocksdb_lz4_compression);
        rocksdb_options_set_enable_blob_gc(o, 1);
        rocksdb_options_set_compaction_filter(o, st.cfilter);
        /* Replicas write merge operands (the record join, above). A key
         * written often collects operands in the memtable until a flush,
         * and every read of it merges them all: after this many in a row
         * the next merge reads the key, merges and writes a value instead
         * (each merge looks the key up in the memtable to count). The
         * options own the operator (a shared_ptr in the C API). */
        rocksdb_options_set_merge_operator(
            o, rocksdb_mergeoperator_create(NULL, mergeDestroy, mergeFull, mergePartial,
                                            mergeDeleteValue, mergeName));
        rocksdb_options_set_max_successive_merges(o, MAX_SUCCESSIVE_MERGES);
    } else {
        if (cf == CF_CLOCK) {
            /* The clock mark rides in every batch: one key written
             * thousands of times a second. In the meta family each put added
             * an entry to a skiplist that also held everything else written
             * to meta since the start (a restart's and a ring change's
             * hundreds of deletions), and a put cost 8-12k instructions
             * (callgrind), a sixth of a replica's write. Alone in its family
             * and updated in place, the memtable holds one entry. Nothing
             * reads this family through a snapshot or an iterator (what
             * in-place updates give up). */
            rocksdb_options_set_inplace_update_support(o, 1);
        }
        /* never above memtable-size: RocksDB resumes after a full disk once
         * the largest write buffer fits in the free space (st.reserve) */
        long long wb = 8 << 20;
        if (server.memtable_size < wb) wb = server.memtable_size;
        rocksdb_options_set_write_buffer_size(o, (size_t)wb);
    }
    return o;
}

int storeOpen(const char *path, char **errout) {
    /* RocksDB writes a few lines to its LOG while it opens, whatever
     * rocksdb-log-level says, and aborts on a disk with no room for them
     * (see the info log below): say so and exit instead */
    unsigned long long avail = freeBytes();
    if (avail < PROBE_MIN_FREE) {
        static char msg[512];
        snprintf(msg, sizeof(msg), "the disk of %.300s has %llu bytes free: free some space "
                 "first (at least 1 MB to start, memtable-size to take writes)", server.dir, avail);
        *errout = msg;
        return C_ERR;
    }
    atomic_store(&tombstone_grace_ms, server.tombstone_grace * 1000);
    st.cache = rocksdb_cache_create_lru((size_t)server.cache_size);
    st.bloom = rocksdb_filterpolicy_create_bloom_full(10);
    st.bbto = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(st.bbto, st.cache);
    rocksdb_block_based_options_set_filter_policy(st.bbto, st.bloom);
    /* Index and filter blocks stay with their table readers, outside the
     * block cache (about 2.5 bytes per key: 25 MB at 10M keys), so a lookup
     * never searches the cache for them. Kept in the cache, a big file's
     * full filter (megabytes at 10M keys) did not fit a cache shard and was
     * read from disk and checksummed on every lookup (measured: loading 10M
     * keys fell from 117k/s to 27k/s, 88% of the CPU in that re-read);
     * partitioning them instead cost a third of the throughput at 1M keys. */
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(st.bbto, 0);
    rocksdb_block_based_options_set_format_version(st.bbto, 5);
    /* Data blocks carry a small hash of their keys: a point lookup (the
     * coordinator's read before its write, a GET) finds its key without the
     * binary search and its key comparisons; scans still binary search. */
    rocksdb_block_based_options_set_data_block_index_type(
        st.bbto, rocksdb_block_based_table_data_block_index_type_binary_search_and_hash);
    rocksdb_block_based_options_set_data_block_hash_ratio(st.bbto, 0.75);
    st.cfilter = rocksdb_compactionfilter_create(NULL, dataFilterDestroy, dataFilter, dataFilterName);

    st.dbopts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(st.dbopts, 1);
    rocksdb_options_set_create_missing_column_families(st.dbopts, 1);
    rocksdb_options_set_max_background_jobs(st.dbopts, 2);
    rocksdb_options_set_keep_log_file_num(st.dbopts, 3);
    rocksdb_options_set_max_log_file_size(st.dbopts, 16 << 20);
    rocksdb_options_set_max_total_wal_size(st.dbopts, 256 << 20);
    rocksdb_options_enable_statistics(st.dbopts);
    /* the hash-skiplist memtable takes one writer at a time (we have one) */
    rocksdb_options_set_allow_concurrent_memtable_write(st.dbopts, 0);
    /* RocksDB's own LOG file (rocksdb-log-level, off by default): Debian's
     * RocksDB asserts when it writes to it after a write to it failed, so on
     * a full disk any logging there aborts the process within seconds (its
     * SstFileManager logs an error every 5 s while it waits for space). */
    rocksdb_options_set_info_log_level(st.dbopts, server.rocksdb_log_level);

    /* RocksDB's SstFileManager resumes writes after ENOSPC once this much
     * is free: the largest write buffer (cfOptions) */
    st.reserve = (unsigned long long)server.memtable_size;

    const rocksdb_options_t *cfo[CF_COUNT + 1];
    for (int i = 0; i <= CF_COUNT; i++) {
        st.cfopts[i] = cfOptions(i);
        cfo[i] = st.cfopts[i];
    }
    char *err = NULL;
    st.db = rocksdb_open_column_families(st.dbopts, path, CF_COUNT + 1, cfnames, cfo, st.cf, &err);
    if (err) {
        *errout = err; /* caller logs, process exits */
        return C_ERR;
    }
    st.ropts = rocksdb_readoptions_create();
    st.iteropts = rocksdb_readoptions_create();
    rocksdb_readoptions_set_total_order_seek(st.iteropts, 1);
    rocksdb_readoptions_set_fill_cache(st.iteropts, 0);
    st.prefixopts = rocksdb_readoptions_create();
    rocksdb_readoptions_set_prefix_same_as_start(st.prefixopts, 1);
    rocksdb_readoptions_set_fill_cache(st.prefixopts, 0);
    st.wopts = rocksdb_writeoptions_create();
    st.wopts_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(st.wopts_sync, 1);
    st.batch = rocksdb_writebatch_create();
    if (server.base) st.commit_ev = event_new(server.base, -1, 0, commitEvent, NULL);
    atomic_store(&syncEverysec, server.wal_fsync == WAL_FSYNC_EVERYSEC);
    atomic_store(&syncAllowed, 1);
    atomic_store(&syncRun, 1);
    if (pthread_create(&syncThread, NULL, syncMain, NULL) != 0) {
        atomic_store(&syncRun, 0);
        serverLog(LL_WARNING, "Could not start the WAL sync thread");
    }
    return C_OK;
}

void storeClose(void) {
    if (!st.db) return;
    if (atomic_load(&syncRun)) {
        atomic_store(&syncRun, 0);
        pthread_join(syncThread, NULL);
    }
    storeCommit();
    if (health.state == WRITABLE) {
        char *err = NULL;
        rocksdb_flush_wal(st.db, 1, &err);
        checkErr(err, "flush_wal");
        /* Flush the memtables so a restart need not replay the WAL. */
        rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
        rocksdb_flushoptions_set_wait(fo, 1);
        for (int i = 0; i < CF_COUNT; i++) {
            err = NULL;
            rocksdb_flush_cf(st.db, fo, st.cf[i], &err);
            checkErr(err, "flush");
        }
        rocksdb_flushoptions_destroy(fo);
    } else {
        /* FlushWAL or a memtable switch after a failed write would abort
         * inside RocksDB (see the top); what was written is in the WAL and
         * is replayed at the next start */
        serverLog(LL_WARNING, "Closing the store without flushing (%s): the next start replays "
                  "the WAL", stateNames[health.state]);
    }
    for (int i = 0; i <= CF_COUNT; i++) rocksdb_column_family_handle_destroy(st.cf[i]);
    rocksdb_close(st.db);
    st.db = NULL;
    if (st.commit_ev) event_free(st.commit_ev);
    st.commit_ev = NULL;
    rocksdb_writebatch_destroy(st.batch);
    overlayClear();
    zfree(ov.slots);
    zfree(ov.usedIdx);
    bufFree(&ov.arena);
    memset(&ov, 0, sizeof(ov));
    rocksdb_readoptions_destroy(st.ropts);
    rocksdb_readoptions_destroy(st.iteropts);
    rocksdb_readoptions_destroy(st.prefixopts);
    rocksdb_writeoptions_destroy(st.wopts);
    rocksdb_writeoptions_destroy(st.wopts_sync);
    for (int i = 0; i <= CF_COUNT; i++) rocksdb_options_destroy(st.cfopts[i]);
    rocksdb_options_destroy(st.dbopts);
    rocksdb_block_based_options_destroy(st.bbto);
    rocksdb_cache_destroy(st.cache);
    rocksdb_compactionfilter_destroy(st.cfilter);
}

/* ------------------------------------------------------------------ stats */

static unsigned long long propInt(int cf, const char *name) {
    char *v = rocksdb_property_value_cf(st.db, st.cf[cf], name);
    unsigned long long x = v ? strtoull(v, NULL, 10) : 0;
    if (v) rocksdb_free(v);
    return x;
}

/* Statistics tickers come as "rocksdb.block.cache.hit COUNT : 42" lines. */
static unsigned long long ticker(const char *stats, const char *name) {
    if (!stats) return 0;
    size_t nl = strlen(name);
    const char *p = stats;
    while ((p = strstr(p, name)) != NULL) {
        if ((p == stats || p[-1] == '\n') && p[nl] == ' ') {
            const char *c = strstr(p, "COUNT : ");
            const char *eol = strchr(p, '\n');
            if (c && (!eol || c < eol)) return strtoull(c + 8, NULL, 10);
        }
        p += nl;
    }
    return 0;
}

void storeInfo(buf *out) {
    if (!st.db) return;
    char *stats = rocksdb_options_statistics_get_string(st.dbopts);
    unsigned long long mem = 0, live = 0, pend = 0, blobsz = 0;
    for (int i = 0; i < CF_COUNT; i++) {
        mem += propInt(i, "rocksdb.cur-size-all-mem-tables");
        live += propInt(i, "rocksdb.live-sst-files-size");
        pend += propInt(i, "rocksdb.estimate-pending-compaction-bytes");
    }
    blobsz = propInt(CF_DATA, "rocksdb.live-blob-file-size");
    bufPrintf(out, "storage_engine:rocksdb\r\n");
    bufPrintf(out, "wal_fsync:%s\r\n",
              server.wal_fsync == WAL_FSYNC_ALWAYS ? "always"
              : server.wal_fsync == WAL_FSYNC_EVERYSEC ? "everysec" : "no");
    bufPrintf(out, "memtable_bytes:%llu\r\n", mem);
    bufPrintf(out, "sst_live_bytes:%llu\r\n", live);
    bufPrintf(out, "blob_live_bytes:%llu\r\n", blobsz);
    bufPrintf(out, "blob_files:%llu\r\n", propInt(CF_DATA, "rocksdb.num-blob-files"));
    for (int l = 0; l < 7; l++) {
        char name[64];
        snprintf(name, sizeof(name), "rocksdb.num-files-at-level%d", l);
        unsigned long long n = 0;
        for (int i = 0; i < CF_COUNT; i++) n += propInt(i, name);
        bufPrintf(out, "sst_files_l%d:%llu\r\n", l, n);
    }
    bufPrintf(out, "estimated_keys:%llu\r\n", propInt(CF_DATA, "rocksdb.estimate-num-keys"));
    bufPrintf(out, "pending_compaction_bytes:%llu\r\n", pend);
    bufPrintf(out, "compactions_running:%llu\r\n", propInt(CF_DATA, "rocksdb.num-running-compactions"));
    bufPrintf(out, "flushes_running:%llu\r\n", propInt(CF_DATA, "rocksdb.num-running-flushes"));
    bufPrintf(out, "block_cache_capacity:%llu\r\n", (unsigned long long)server.cache_size);
    bufPrintf(out, "block_cache_usage:%llu\r\n",
              (unsigned long long)rocksdb_cache_get_usage(st.cache));
    bufPrintf(out, "block_cache_hit:%llu\r\n", ticker(stats, "rocksdb.block.cache.hit"));
    bufPrintf(out, "block_cache_miss:%llu\r\n", ticker(stats, "rocksdb.block.cache.miss"));
    bufPrintf(out, "bloom_filter_useful:%llu\r\n", ticker(stats, "rocksdb.bloom.filter.useful"));
    bufPrintf(out, "bloom_filter_checked:%llu\r\n",
              ticker(stats, "rocksdb.bloom.filter.full.positive") +
                  ticker(stats, "rocksdb.bloom.filter.useful"));
    bufPrintf(out, "memtable_hit:%llu\r\n", ticker(stats, "rocksdb.memtable.hit"));
    bufPrintf(out, "memtable_miss:%llu\r\n", ticker(stats, "rocksdb.memtable.miss"));
    bufPrintf(out, "wal_bytes:%llu\r\n", ticker(stats, "rocksdb.wal.bytes"));
    bufPrintf(out, "wal_syncs:%llu\r\n", storeWalSyncs());
    bufPrintf(out, "write_batches:%llu\r\n", st.commits);
    bufPrintf(out, "write_batch_ops:%llu\r\n", st.commit_ops);
    bufPrintf(out, "bytes_written:%llu\r\n", ticker(stats, "rocksdb.bytes.written"));
    bufPrintf(out, "bytes_read:%llu\r\n", ticker(stats, "rocksdb.bytes.read"));
    bufPrintf(out, "compact_read_bytes:%llu\r\n", ticker(stats, "rocksdb.compact.read.bytes"));
    bufPrintf(out, "compact_write_bytes:%llu\r\n", ticker(stats, "rocksdb.compact.write.bytes"));
    bufPrintf(out, "blob_bytes_written:%llu\r\n", ticker(stats, "rocksdb.blobdb.blob.file.bytes.written"));
    long long now = mstime();
    bufPrintf(out, "storage_state:%s\r\n", stateNames[health.state]);
    bufPrintf(out, "storage_writable:%d\r\n", health.state == WRITABLE);
    bufPrintf(out, "storage_failed_seconds:%lld\r\n",
              health.state == WRITABLE ? 0 : (now - health.since_ms) / 1000);
    bufPrintf(out, "storage_writes_refused:%llu\r\n", health.refused_total);
    bufPrintf(out, "storage_failures:%llu\r\n", health.failures);
    bufPrintf(out, "storage_last_outage_ms:%lld\r\n", health.last_outage_ms);
    bufPrintf(out, "disk_free_bytes:%llu\r\n", freeBytes());
    bufPrintf(out, "disk_resume_free_bytes:%llu\r\n", st.reserve);
    bufPrintf(out, "merge_operands_malformed:%llu\r\n", atomic_load(&mergeMalformed));
    bufPrintf(out, "last_error:%s\r\n", st.lasterr[0] ? st.lasterr : "none");
    if (stats) rocksdb_free(stats);
}
