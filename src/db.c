/* db.c -- this node's keyspace: records, counters, expiry. See db.h.
 *
 * Key counters: counts[partition][db] = {keys, expires}, where a key counts
 * when its newest version is not a tombstone (an expired but not yet
 * collected key still counts, as in Redis, until active expiry turns it
 * into a tombstone a moment later). They are persisted in the meta column
 * family at a clean shutdown and counted again from the data after a crash
 * (see loadCounts), so they are never out of step with it.
 *
 * Expiry index: CF_EXPIRES holds [expire u64 BE][data key] for every record
 * whose live versions carry an expiry (the earliest one). Active expiry walks
 * it from the start and turns expired versions into tombstones that keep
 * their dot and past: a replica that still holds the expired version agrees
 * (same dot, the tombstone wins the merge) and nothing older can come back.
 *
 * Counters, byte counts and Merkle leaves change in memory as a write goes
 * into the store's batch. A batch the store refuses (a full disk) stored
 * nothing: the journal (undo) holds what each write of the batch changed
 * and batchWritten takes it back, or anti-entropy would believe this node
 * holds what it missed and never repair it. */
#include "db.h"

#include <string.h>

#include "clock.h"
#include "merkle.h"
#include "server.h"

typedef struct counts {
    long long keys;    /* keys whose newest version is not a tombstone */
    long long expires; /* of those, keys with an expiry */
} counts;

static merkle **trees;        /* [partition] Merkle tree, allocated on first use */
static long long treesBuilt;  /* trees built so far */
static void treesLoad(void);
static counts **pcounts;      /* [partition] -> counts[databases], lazily allocated */
static long long *pbytes;     /* [partition] stored bytes (keys + records, tombstones too) */

/* What one write of the current batch changed in memory. */
typedef struct undoEntry {
    unsigned partition;
    unsigned bucket;
    uint64_t leaf;     /* XORed into the bucket's leaf (0: tree not built) */
    int db;
    int keys, expires; /* added to the counters */
    long long bytes;   /* added to pbytes */
} undoEntry;

static struct {
    undoEntry *e;
    size_t n, cap;
} undo;

#define META_COUNTS_PREFIX "cnt:"
#define META_COUNTS_CLEAN "counts_clean"

/* ----------------------------------------------------------------- counters */

/* The counters live in memory. A clean shutdown saves them (with a marker);
 * a start finds the marker, loads them and removes it at once; after a
 * crash there is no marker and they are counted again from the data. (They
 * used to be written with every batch: one more memtable insert per write,
 * measured at a third of a write's instructions.) */
static counts *countsOf(unsigned partition) {
    if (!pcounts[partition])
        pcounts[partition] = zcalloc(sizeof(counts) * (size_t)server.databases);
    return pcounts[partition];
}

static void countsKey(unsigned partition, char *k) {
    memcpy(k, META_COUNTS_PREFIX, 4);
    k[4] = (char)(partition >> 8);
    k[5] = (char)partition;
}

static void saveCounts(void) {
    buf b;
    bufInit(&b);
    for (int p = 0; p < server.ring_partitions; p++) {
        if (!pcounts[p]) continue;
        counts *c = pcounts[p];
        bufClear(&b);
        for (int d = 0; d < server.databases; d++) {
            varintPut(&b, (uint64_t)(c[d].keys < 0 ? 0 : c[d].keys));
            varintPut(&b, (uint64_t)(c[d].expires < 0 ? 0 : c[d].expires));
        }
        varintPut(&b, (uint64_t)(pbytes[p] < 0 ? 0 : pbytes[p]));
        char k[6];
        countsKey((unsigned)p, k);
        storePut(CF_META, k, 6, b.ptr, b.len);
    }
    storePut(CF_META, META_COUNTS_CLEAN, strlen(META_COUNTS_CLEAN), "1", 1);
    bufFree(&b);
}

static int present(const record *r);

/* Counts every partition's keys from the stored records. */
static void countFromData(void) {
    record rec;
    recordInit(&rec);
    long long n = 0;
    for (int p = 0; p < server.ring_partitions; p++) {
        unsigned char from[3] = {(unsigned char)(p >> 8), (unsigned char)p, 0};
        storeIter *it = storeIterCreate(CF_DATA);
        for (storeIterSeek(it, (const char *)from, 3); storeIterValid(it); storeIterNext(it)) {
            size_t kl, vl;
            const char *k = storeIterKey(it, &kl);
            unsigned slot;
            int db;
            if (keyDecode(k, kl, &slot, &db, NULL, NULL) != C_OK || (int)(slot >> 8) != p) break;
            if (db >= server.databases) continue;
            const char *v = storeIterValue(it, &vl);
            pbytes[p] += (long long)(kl + vl);
            if (recordDecode(&rec, v, vl) != C_OK || !present(&rec)) continue;
            counts *c = countsOf((unsigned)p);
            c[db].keys++;
            if (recordNewest(&rec)->expire) c[db].expires++;
            n++;
        }
        storeIterFree(it);
    }
    recordFree(&rec);
    serverLog(LL_NOTICE, "Counted %lld keys in the stored data (no clean shutdown before)", n);
}

static void loadCounts(void) {
    storeValue mv;
    int clean = storeGet(CF_META, META_COUNTS_CLEAN, strlen(META_COUNTS_CLEAN), &mv) > 0;
    if (clean) storeValueFree(&mv);
    storeIter *it = storeIterCreate(CF_META);
    storeIterSeek(it, META_COUNTS_PREFIX, 4);
    for (; storeIterValid(it); storeIterNext(it)) {
        size_t kl, vl;
        const char *k = storeIterKey(it, &kl);
        if (kl != 6 || memcmp(k, META_COUNTS_PREFIX, 4) != 0) break;
        storeDelete(CF_META, k, kl);
        unsigned p = ((unsigned)(unsigned char)k[4] << 8) | (unsigned char)k[5];
        if (!clean || p >= (unsigned)server.ring_partitions) continue;
        const unsigned char *v = (const unsigned char *)storeIterValue(it, &vl);
        counts *c = countsOf(p);
        size_t off = 0;
        for (int d = 0; d < server.databases && off < vl; d++) {
            uint64_t x;
            long u = varintGet(v + off, vl - off, &x);
            if (u < 0) break;
            off += (size_t)u;
            c[d].keys = (long long)x;
            u = varintGet(v + off, vl - off, &x);
            if (u < 0) break;
            off += (size_t)u;
            c[d].expires = (long long)x;
        }
        uint64_t x;
        if (off < vl && varintGet(v + off, vl - off, &x) > 0) pbytes[p] = (long long)x;
    }
    storeIterFree(it);
    if (clean) storeDelete(CF_META, META_COUNTS_CLEAN, strlen(META_COUNTS_CLEAN));
    storeCommit();
    if (!clean) countFromData();
}

/* Called by store.c after each batch write (storeOnWrite). A tree built
 * or cleared meanwhile cannot hold a stale entry: building one and
 * dropping a partition commit the batch first. */
static void batchWritten(int ok) {
    if (!ok) {
        for (size_t i = 0; i < undo.n; i++) {
            undoEntry *u = &undo.e[i];
            if (u->leaf && trees[u->partition]) merkleUpdate(trees[u->partition], u->bucket, u->leaf, 0);
            if (u->keys || u->expires) {
                counts *c = countsOf(u->partition);
                c[u->db].keys -= u->keys;
                c[u->db].expires -= u->expires;
            }
            pbytes[u->partition] -= u->bytes;
        }
    }
    undo.n = 0;
}

static void undoAdd(const undoEntry *u) {
    if (undo.n == undo.cap) {
        undo.cap = undo.cap ? undo.cap * 2 : 256;
        undo.e = zrealloc(undo.e, sizeof(undoEntry) * undo.cap);
    }
    undo.e[undo.n++] = *u;
}

void dbInit(void) {
    pcounts = zcalloc(sizeof(counts *) * (size_t)server.ring_partitions);
    pbytes = zcalloc(sizeof(long long) * (size_t)server.ring_partitions);
    loadCounts();
    trees = zcalloc(sizeof(merkle *) * (size_t)server.ring_partitions);
    treesLoad();
    storeOnWrite(batchWritten);
}

long long dbKeys(int db) {
    long long n = 0;
    for (int p = 0; p < server.ring_partitions; p++)
        if (pcounts[p]) n += pcounts[p][db].keys;
    return n;
}

long long dbExpires(int db) {
    long long n = 0;
    for (int p = 0; p < server.ring_partitions; p++)
        if (pcounts[p]) n += pcounts[p][db].expires;
    return n;
}

/* ------------------------------------------------------------------ records */

static int present(const record *r) {
    const version *v = recordNewest(r);
    return v && !v->tombstone;
}

static int64_t liveMinExpire(const record *r) {
    int64_t m = 0;
    for (int i = 0; i < r->n; i++)
        if (!r->v[i].tombstone && r->v[i].expire && (m == 0 || r->v[i].expire < m))
            m = r->v[i].expire;
    return m;
}

/* Partition p's data was removed (handoff): its counters and tree too. */
void dbPartitionDropped(unsigned p) {
    storeCommit(); /* settle the journal before the tree is cleared */
    if (pcounts[p]) {
        for (int d = 0; d < server.databases; d++) pcounts[p][d].keys = pcounts[p][d].expires = 0;
    }
    pbytes[p] = 0;
    if (trees[p]) memset(trees[p]->leaf, 0, sizeof(trees[p]->leaf));
    storeCommit();
}

/* ----------------------------------------------------------------- trees */

static merkle *treeOf(unsigned partition) {
    if (!trees[partition]) trees[partition] = zcalloc(sizeof(merkle));
    return trees[partition];
}

/* A write replaced oldraw by (rec, rlen) for skey: O(1) leaf update. A tree
 * not built yet is left alone: its build scans the committed data. Returns
 * what was XORed into the leaf (0: nothing). */
static uint64_t treeChanged(unsigned partition, unsigned bucket, const char *skey, size_t sklen,
                            const storeValue *oldraw, const char *rec, size_t rlen) {
    merkle *m = trees[partition];
    if (!m || !m->built) return 0;
    uint64_t o = oldraw && oldraw->ptr ? merkleEntry(skey, sklen, oldraw->ptr, oldraw->len) : 0;
    uint64_t n = rec ? merkleEntry(skey, sklen, rec, rlen) : 0;
    merkleUpdate(m, bucket, o, n);
    return o ^ n;
}

merkle *dbTree(unsigned partition) { return trees[partition]; }
long long dbTreesBuilt(void) { return treesBuilt; }

/* Computes partition's tree from the stored records (the pending batch is
 * committed first by the iterator). */
void dbTreeBuild(unsigned partition) {
    storeCommit(); /* settle the journal before the leaves are cleared */
    merkle *m = treeOf(partition);
    memset(m->leaf, 0, sizeof(m->leaf));
    unsigned char from[3] = {(unsigned char)(partition >> 8), (unsigned char)partition, 0};
    storeIter *it = storeIterCreate(CF_DATA);
    for (storeIterSeek(it, (const char *)from, 3); storeIterValid(it); storeIterNext(it)) {
        size_t kl, vl;
        const char *k = storeIterKey(it, &kl);
        unsigned slot;
        if (keyDecode(k, kl, &slot, NULL, NULL, NULL) != C_OK || (slot >> 8) != partition) break;
        const char *v = storeIterValue(it, &vl);
        merkleUpdate(m, slot & 0xff, 0, merkleEntry(k, kl, v, vl));
    }
    storeIterFree(it);
    if (!m->built) treesBuilt++;
    m->built = 1;
}

/* The (key, entry) list of one bucket, sorted by storage key. */
void dbBucketKeys(unsigned partition, unsigned bucket, buf *out) {
    unsigned slot = partition * 256 + bucket;
    unsigned char from[3] = {(unsigned char)(slot >> 16), (unsigned char)(slot >> 8),
                             (unsigned char)slot};
    storeIter *it = storeIterCreate(CF_DATA);
    for (storeIterSeekBucket(it, (const char *)from); storeIterValid(it); storeIterNext(it)) {
        size_t kl, vl;
        const char *k = storeIterKey(it, &kl);
        if (kl < KEY_PREFIX_LEN || memcmp(k, from, 3) != 0) break;
        const char *v = storeIterValue(it, &vl);
        merkleKeyListAdd(out, k, kl, merkleEntry(k, kl, v, vl));
    }
    storeIterFree(it);
}

#define META_TREES_CLEAN "trees_clean"
#define META_TREE_PREFIX "tree:"

/* On a clean shutdown the trees are saved with a marker; a start that
 * finds the marker loads them and removes it at once, so after a crash the
 * trees are rebuilt from the data instead of trusted. */
void dbTreesSave(void) {
    saveCounts();
    for (int p = 0; p < server.ring_partitions; p++) {
        if (!trees[p] || !trees[p]->built) continue;
        char k[8];
        memcpy(k, META_TREE_PREFIX, 5);
        k[5] = (char)(p >> 8);
        k[6] = (char)p;
        storePut(CF_META, k, 7, (const char *)trees[p]->leaf, sizeof(trees[p]->leaf));
    }
    storePut(CF_META, META_TREES_CLEAN, strlen(META_TREES_CLEAN), "1", 1);
    storeCommit();
}

static void treesLoad(void) {
    storeValue v;
    int clean = storeGet(CF_META, META_TREES_CLEAN, strlen(META_TREES_CLEAN), &v) > 0;
    if (clean) storeValueFree(&v);
    storeIter *it = storeIterCreate(CF_META);
    for (storeIterSeek(it, META_TREE_PREFIX, 5); storeIterValid(it); storeIterNext(it)) {
        size_t kl, vl;
        const char *k = storeIterKey(it, &kl);
        if (kl != 7 || memcmp(k, META_TREE_PREFIX, 5) != 0) break;
        unsigned p = ((unsigned)(unsigned char)k[5] << 8) | (unsigned char)k[6];
        const char *val = storeIterValue(it, &vl);
        if (clean && p < (unsigned)server.ring_partitions && vl == sizeof(((merkle *)0)->leaf)) {
            merkle *m = treeOf(p);
            memcpy(m->leaf, val, vl);
            m->built = 1;
            treesBuilt++;
        }
        storeDelete(CF_META, k, kl);
    }
    storeIterFree(it);
    if (clean) storeDelete(CF_META, META_TREES_CLEAN, strlen(META_TREES_CLEAN));
    storeCommit();
    serverLog(LL_NOTICE, "%s", clean ? "Merkle trees loaded from the last clean shutdown"
                                     : "Merkle trees will be rebuilt from the stored data");
}

static void expireKey(buf *out, int64_t when, const char *skey, size_t sklen) {
    unsigned char t[8];
    for (int i = 0; i < 8; i++) t[i] = (unsigned char)((uint64_t)when >> (56 - 8 * i));
    bufClear(out);
    bufAppend(out, t, 8);
    bufAppend(out, skey, sklen);
}

/* Writes new over old for storage key skey, keeping counters and the expiry
 * index in step. */
static void writeRecord(const char *skey, size_t sklen, const record *old, const storeValue *oldraw,
                        const record *nw, dbWriteCb *cb, void *pd, buf *encout) {
    unsigned slot;
    int db;
    keyDecode(skey, sklen, &slot, &db, NULL, NULL);
    unsigned partition = slot >> 8;

    buf b;
    bufInit(&b);
    recordEncode(nw, &b);
    storePut(CF_DATA, skey, sklen, b.ptr, b.len);
    undoEntry u = {partition, slot & 0xff, 0, db, 0, 0, 0};
    u.leaf = treeChanged(partition, slot & 0xff, skey, sklen, oldraw, b.ptr, b.len);
    u.bytes = (long long)(sklen + b.len) -
              (oldraw && oldraw->ptr ? (long long)(sklen + oldraw->len) : 0);
    pbytes[partition] += u.bytes;

    int was = present(old), is = present(nw);
    int wasx = was && recordNewest(old)->expire, isx = is && recordNewest(nw)->expire;
    if (was != is || wasx != isx) {
        counts *c = countsOf(partition);
        u.keys = is - was;
        u.expires = isx - wasx;
        c[db].keys += u.keys;
        c[db].expires += u.expires;
    }
    undoAdd(&u);
    int64_t oe = liveMinExpire(old), ne = liveMinExpire(nw);
    if (oe != ne) {
        if (oe) {
            expireKey(&b, oe, skey, sklen);
            storeDelete(CF_EXPIRES, b.ptr, b.len);
        }
        if (ne) {
            expireKey(&b, ne, skey, sklen);
            storePut(CF_EXPIRES, b.ptr, b.len, "", 0);
        }
    }
    if (encout) {
        bufClear(encout);
        recordEncode(nw, encout);
    }
    bufFree(&b);
    if (cb) storeAfterCommit(cb, pd);
}

static int readSkey(const char *skey, size_t sklen, record *rec, storeValue *hold) {
    recordClear(rec);
    hold->ptr = NULL;
    hold->len = 0;
    int found = storeGet(CF_DATA, skey, sklen, hold);
    if (found <= 0) return found;
    if (recordDecode(rec, hold->ptr, hold->len) != C_OK) {
        serverLog(LL_WARNING, "Corrupt record for a key of %zu bytes: treated as absent",
                  sklen - KEY_PREFIX_LEN);
        storeValueFree(hold);
        return 0;
    }
    return 1;
}

int dbRead(int db, const char *key, size_t klen, record *rec, storeValue *hold) {
    buf sk;
    bufInit(&sk);
    keyEncode(&sk, server.qbits, db, key, klen);
    int found = readSkey(sk.ptr, sk.len, rec, hold);
    bufFree(&sk);
    return found;
}

int dbReadRaw(int db, const char *key, size_t klen, storeValue *out) {
    buf sk;
    bufInit(&sk);
    keyEncode(&sk, server.qbits, db, key, klen);
    out->ptr = NULL;
    out->len = 0;
    int found = storeGet(CF_DATA, sk.ptr, sk.len, out);
    bufFree(&sk);
    return found;
}

long long dbPartitionBytes(unsigned partition) {
    return partition < (unsigned)server.ring_partitions && pbytes[partition] > 0 ? pbytes[partition] : 0;
}

long long dbPartitionKeys(int db, unsigned partition) {
    return pcounts[partition] ? pcounts[partition][db].keys : 0;
}

/* max-siblings: the oldest beyond it go, counted and logged. */
static void capSiblings(record *r) {
    int dropped = recordCapSiblings(r, (int)server.max_siblings);
    if (dropped) {
        server.stat.siblings_dropped += dropped;
        serverLog(LL_WARNING, "Key with more than %lld siblings: dropped the %d oldest",
                  server.max_siblings, dropped);
    }
}

static void okNow(dbWriteCb *cb, void *pd) {
    if (cb) cb(1, NULL, pd);
}

int dbApply(int db, const char *key, size_t klen, const record *incoming, dbWriteCb *cb,
            void *pd) {
    buf sk;
    bufInit(&sk);
    keyEncode(&sk, server.qbits, db, key, klen);
    record old, nw;
    recordInit(&old);
    recordInit(&nw);
    storeValue hold;
    int found = readSkey(sk.ptr, sk.len, &old, &hold);
    if (found < 0) {
        bufFree(&sk);
        return C_ERR;
    }
    for (int i = 0; i < incoming->n; i++) clockObserve(incoming->v[i].counter);
    recordMerge(&nw, &old, 0);
    int changed = recordMerge(&nw, incoming, 0);
    if (changed) {
        capSiblings(&nw);
        writeRecord(sk.ptr, sk.len, &old, &hold, &nw, cb, pd, NULL);
    }
    recordFree(&old);
    recordFree(&nw);
    storeValueFree(&hold);
    bufFree(&sk);
    if (!changed) okNow(cb, pd);
    return C_OK;
}

int dbCoordinate(int db, const char *key, size_t klen, const writeOp *op, buf *recout,
                 dbWriteCb *cb, void *pd) {
    buf sk;
    bufInit(&sk);
    keyEncode(&sk, server.qbits, db, key, klen);
    record old, nw;
    recordInit(&old);
    recordInit(&nw);
    storeValue hold;
    if (readSkey(sk.ptr, sk.len, &old, &hold) < 0) {
        bufFree(&sk);
        return C_ERR;
    }
    /* The new dot must be later than everything it is written over, so that
     * "newest by HLC" never contradicts causality. Contexts come from
     * clients: only plausible timestamps (not far in the future) count. */
    uint64_t horizon = hlcFromMs((uint64_t)serverNowMs() + 3600 * 1000);
    for (int i = 0; i < old.n; i++) clockObserve(old.v[i].counter);
    if (op->ctx)
        for (int i = 0; i < op->ctx->n; i++)
            if (op->ctx->e[i].counter < horizon) clockObserve(op->ctx->e[i].counter);

    version nv;
    versionInit(&nv);
    version *v = &nv;
    if (op->ctx) vclockCopy(&v->past, op->ctx);
    else recordContext(&old, &v->past);
    vclockPrune(&v->past, (int)server.vclock_max_entries, server.actor);
    v->actor = server.actor;
    v->counter = clockNext();
    v->tombstone = op->tombstone;
    v->expire = op->expire;
    v->val = op->tombstone ? NULL : op->val;
    v->vlen = op->tombstone ? 0 : op->vlen;
    v->ownval = 0;

    recordMerge(&nw, &old, 0);
    recordAdd(&nw, v, 0);
    capSiblings(&nw);
    writeRecord(sk.ptr, sk.len, &old, &hold, &nw, cb, pd, recout);
    versionFree(&nv);
    recordFree(&old);
    recordFree(&nw);
    storeValueFree(&hold);
    bufFree(&sk);
    return C_OK;
}

/* -------------------------------------------------------------------- scans */

/* Positions it at the first key of db at or after slot; returns that key's
 * slot, or -1 when there is none. */
/* Data iterators see one partition at a time (store.c walks its buckets);
 * running off its end moves to the next partition. */
static long seekSlot(storeIter *it, unsigned long long slot, unsigned long long nslots, int db) {
    while (slot < nslots) {
        unsigned char pre[KEY_PREFIX_LEN];
        keySlotPrefix(pre, (unsigned)slot, db);
        storeIterSeek(it, (const char *)pre, KEY_PREFIX_LEN);
        if (!storeIterValid(it)) {
            slot = ((slot >> 8) + 1) << 8; /* nothing more in this partition */
            continue;
        }
        size_t kl;
        const char *k = storeIterKey(it, &kl);
        unsigned s;
        int d;
        if (keyDecode(k, kl, &s, &d, NULL, NULL) != C_OK) return -1;
        if (s == slot && d == db) return (long)s;
        if (s == slot || d > db) slot = (unsigned long long)s + 1;
        else slot = s; /* a later slot, smaller db: seek (s, db) */
    }
    return -1;
}

unsigned long long dbScan(int db, unsigned long long cursor, unsigned long long end, long count,
                          dbScanFn *fn, void *pd) {
    return dbScanEx(db, cursor, end, count, 0, fn, pd);
}

unsigned long long dbScanEx(int db, unsigned long long cursor, unsigned long long end, long count,
                            int dead, dbScanFn *fn, void *pd) {
    unsigned long long all = (unsigned long long)server.ring_partitions * 256;
    unsigned long long nslots = end && end < all ? end : all;
    if (cursor >= nslots) return end ? nslots : 0;
    storeIter *it = storeIterCreate(CF_DATA);
    long long now = serverNowMs();
    long seen = 0;
    unsigned long long slot = cursor;
    record rec;
    recordInit(&rec);
    int stop = 0;
    while (!stop) {
        long s = seekSlot(it, slot, nslots, db);
        if (s < 0) {
            slot = nslots;
            break;
        }
        for (; storeIterValid(it); storeIterNext(it)) {
            size_t kl, vl;
            const char *k = storeIterKey(it, &kl);
            unsigned ks;
            int kd;
            const char *key;
            size_t klen;
            if (keyDecode(k, kl, &ks, &kd, &key, &klen) != C_OK || ks != (unsigned)s || kd != db)
                break;
            const char *v = storeIterValue(it, &vl);
            if (recordDecode(&rec, v, vl) != C_OK) continue;
            if (!dead && !recordVisible(&rec, now)) continue;
            seen++;
            if (fn(key, klen, &rec, pd)) {
                stop = 1;
                break;
            }
        }
        slot = (unsigned long long)s + 1;
        if (seen >= count) break;
    }
    recordFree(&rec);
    storeIterFree(it);
    if (slot >= nslots) return end ? nslots : 0;
    return slot;
}

int dbFlush(int db) {
    unsigned long long nslots = (unsigned long long)server.ring_partitions * 256;
    int rc = C_OK;
    int others = 0;
    if (db >= 0)
        for (int d = 0; d < server.databases; d++)
            if (d != db && (dbKeys(d) > 0)) others = 1;
    if (db < 0 || !others) {
        /* Everything goes: two range deletions, then compaction frees the
         * space. Tombstones of other dbs go too (nothing else is stored). */
        char from[1] = {0}, to[8];
        memset(to, 0xff, sizeof(to));
        if (storeDeleteRange(CF_DATA, from, 0, to, sizeof(to)) != C_OK) rc = C_ERR;
        if (storeDeleteRange(CF_EXPIRES, from, 0, to, sizeof(to)) != C_OK) rc = C_ERR;
        /* the space comes back as RocksDB compacts the range tombstones (a
         * full compaction here would stall the event loop) */
    } else {
        /* One db among others: its keys are spread over every slot, and a
         * range deletion per slot leaves thousands of range tombstones that
         * every later iterator and seek pays for. Point deletions instead
         * (O(keys), as in Redis), trees and byte counts kept in step. */
        storeIter *it = storeIterCreate(CF_DATA);
        unsigned long long slot = 0;
        long s, n = 0;
        while ((s = seekSlot(it, slot, nslots, db)) >= 0) {
            unsigned p = (unsigned)s >> 8;
            for (; storeIterValid(it); storeIterNext(it)) {
                size_t kl, vl;
                const char *k = storeIterKey(it, &kl);
                unsigned ks;
                int kd;
                if (keyDecode(k, kl, &ks, &kd, NULL, NULL) != C_OK || ks != (unsigned)s || kd != db)
                    break;
                const char *v = storeIterValue(it, &vl);
                if (trees[p] && trees[p]->built)
                    merkleUpdate(trees[p], (unsigned)s & 0xff, merkleEntry(k, kl, v, vl), 0);
                pbytes[p] -= (long long)(kl + vl);
                if (pbytes[p] < 0) pbytes[p] = 0;
                storeDelete(CF_DATA, k, kl);
                /* the iterator reads its own snapshot: committing is safe */
                if (++n % 4096 == 0 && storeCommit() != C_OK) rc = C_ERR;
            }
            slot = (unsigned long long)s + 1;
        }
        storeIterFree(it);
        it = storeIterCreate(CF_EXPIRES);
        for (storeIterSeekFirst(it); storeIterValid(it); storeIterNext(it)) {
            size_t kl;
            const char *k = storeIterKey(it, &kl);
            if (kl >= 8 + KEY_PREFIX_LEN && (unsigned char)k[8 + 3] == db)
                storeDelete(CF_EXPIRES, k, kl);
        }
        storeIterFree(it);
    }
    for (int p = 0; p < server.ring_partitions; p++) {
        if (db < 0 || !others) pbytes[p] = 0; /* (one db's keys were counted off above) */
        if (!pcounts[p]) continue;
        for (int d = 0; d < server.databases; d++) {
            if (db >= 0 && d != db) continue;
            if (pcounts[p][d].keys || pcounts[p][d].expires) {
                pcounts[p][d].keys = pcounts[p][d].expires = 0;
            }
        }
    }
    /* trees: everything gone (one db's keys were taken out one by one) */
    for (int p = 0; p < server.ring_partitions; p++) {
        if (!trees[p] || !trees[p]->built) continue;
        if (db < 0 || !others) memset(trees[p]->leaf, 0, sizeof(trees[p]->leaf));
    }
    if (storeCommit() != C_OK) rc = C_ERR;
    if (rc != C_OK) {
        /* some of it may be deleted and some not (a full disk): count
         * again from what is stored, and build the trees again when used */
        for (int p = 0; p < server.ring_partitions; p++) {
            pbytes[p] = 0;
            if (pcounts[p]) memset(pcounts[p], 0, sizeof(counts) * (size_t)server.databases);
            if (trees[p] && trees[p]->built) {
                trees[p]->built = 0;
                treesBuilt--;
            }
        }
        countFromData();
    }
    return rc;
}

/* ----------------------------------------------------------- active expiry */

void dbActiveExpireCycle(long long budget_us) {
    long long start = ustime();
    long long now = serverNowMs();
    storeIter *it = storeIterCreate(CF_EXPIRES);
    record old, nw;
    recordInit(&old);
    recordInit(&nw);
    long done = 0;
    for (storeIterSeekFirst(it); storeIterValid(it); storeIterNext(it)) {
        size_t kl;
        const char *k = storeIterKey(it, &kl);
        if (kl < 8 + KEY_PREFIX_LEN) {
            storeDelete(CF_EXPIRES, k, kl);
            continue;
        }
        int64_t when = 0;
        for (int i = 0; i < 8; i++) when = (when << 8) | (unsigned char)k[i];
        if (when >= now) break; /* live until the clock is past it */
        const char *skey = k + 8;
        size_t sklen = kl - 8;
        storeValue hold;
        int found = readSkey(skey, sklen, &old, &hold);
        if (found < 0) break;
        if (!found || liveMinExpire(&old) != when) {
            storeDelete(CF_EXPIRES, k, kl); /* stale entry */
        } else {
            recordClear(&nw);
            recordMerge(&nw, &old, 0);
            for (int i = 0; i < nw.n; i++) {
                version *v = &nw.v[i];
                if (!v->tombstone && v->expire && v->expire < now) {
                    v->tombstone = 1;
                    if (v->ownval) zfree((void *)v->val);
                    v->val = NULL;
                    v->vlen = 0;
                    v->ownval = 0;
                    server.stat.expiredkeys++;
                }
            }
            writeRecord(skey, sklen, &old, &hold, &nw, NULL, NULL, NULL);
        }
        storeValueFree(&hold);
        if ((++done & 31) == 0 && ustime() - start > budget_us) break;
        /* 0 (no option sets it yet) = no cap but the time budget; before
         * this check, 0 meant one key per cycle and expiry fell behind */
        if (server.max_expire_per_cycle > 0 && done >= server.max_expire_per_cycle) break;
    }
    recordFree(&old);
    recordFree(&nw);
    storeIterFree(it);
}
