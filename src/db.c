/* db.c -- this node's keyspace: records, derived state, expiry. See db.h.
 *
 * Writes. The version coordinator reads what it holds, makes the version and
 * puts the whole record (dbCoordinate). Every other write -- a replica's
 * PUT, a hint delivered, a read repair, an anti-entropy fetch, a handoff
 * batch -- is stored blind (dbApply): the incoming record becomes a RocksDB
 * merge operand, joined with what is stored by the record join on reads and
 * compactions (store.c, record.h). No read on that path.
 *
 * Derived state, kept lazily per (partition, Merkle bucket): the bucket's
 * Merkle leaf (XOR of its keys' entries), its stored bytes (keys and
 * records, tombstones too) and per db its keys (newest version not a
 * tombstone; an expired key not yet collected still counts, as in Redis,
 * until active expiry turns it into a tombstone a moment later) and keys
 * with an expiry. A write only marks its bucket dirty: it does not know
 * what it replaced (a blind write never reads it). Whoever needs the figures
 * -- an anti-entropy exchange (dbTree), RING PLAN (dbPartitionBytes), a
 * transfer, FLUSHDB (which must know exactly whether other dbs hold keys);
 * DBSIZE and INFO keyspace (dbRecount) within 100 ms, the cron the rest -- recomputes
 * the dirty buckets of the partitions it asks about from the stored data
 * first (refresh), as Riak's AAE keeps dirty segments. The cost follows
 * what was written since the last look, bounded by the data; the answers
 * are exact. A partition whose figures were never computed (after a crash,
 * or never asked about) counts as all dirty. A batch the store refuses (a
 * full disk) stored nothing and leaves its buckets dirty: the next refresh
 * counts what is stored, so anti-entropy still sees what the node missed.
 * Refreshing iterates the data, which commits the pending batch first.
 * A clean shutdown saves the figures as they are, dirty marks included
 * (with a marker); a start that finds the marker loads them and removes it
 * at once, so after a crash they are computed from the data again instead
 * of trusted.
 *
 * Expiry index: CF_EXPIRES holds [expire u64 BE][data key] entries. For
 * every record with a live version that expires, an entry at or before its
 * earliest live expiry exists: the coordinator's write replaces the old
 * record's entry with the new one's; a blind write adds the incoming
 * record's (the merged record's earliest expiry is either an incoming
 * version's, or a stored version's that had its entry already). Active
 * expiry walks the index from the start: an entry before the record's
 * earliest live expiry moves to it; at it, the expired versions become
 * tombstones that keep their dot and past (a replica that still holds the
 * expired version agrees: same dot, the tombstone wins the merge), and
 * nothing older can come back.
 *
 * Score index: CF_ZINDEX holds one entry per sorted-set member (an element
 * whose state is flagged scored, field.h) that is present by its own state,
 * at its score computed from its own state alone (collkey.h). elemWrite
 * keeps it as it writes the element: the entry at the stored state's score
 * goes when the score changes or the member goes, the new state's entry is
 * put (again, when it is there: a reader may have removed it, below). It
 * ignores the key's DEL and expiry (keymeta.h, not read on this path), so
 * a reader (collstore.c) checks each member through them, and removes
 * entries that no longer match their element (a partition dropped, a db
 * flushed: their ranges go here too) or whose member a DEL or a fired
 * expiry removed (only a write brings it back, and that puts the entry
 * back). A coordinator's ZINCRBY on a
 * member the removal covered removes those register values in its delta
 * (zset.c), so the member's own state reads as it does through the
 * removal; only a member written concurrently with a DEL by another
 * coordinator can read through the removal at another score than its entry
 * until its next write (README, sorted sets). */
#include "db.h"

#include <limits.h>
#include <string.h>
#include <xxhash.h>

#include "clock.h"
#include "collbatch.h"
#include "collkey.h"
#include "types/field.h"
#include "types/keymeta.h"
#include "types/strctr.h"
#include "types/zset.h"
#include "merkle.h"
#include "server.h"

/* Keys of one db in one bucket. */
typedef struct bcount {
    uint32_t keys;    /* newest version not a tombstone */
    uint32_t expires; /* of those, newest version with an expiry */
} bcount;

typedef struct counts {
    long long keys;    /* keys whose newest version is not a tombstone */
    long long expires; /* of those, keys with an expiry */
} counts;

/* One partition's derived state. */
typedef struct pstate {
    int known;                      /* figures computed (else: all buckets dirty) */
    int ndirty;                     /* buckets marked in dirty */
    uint64_t dirty[MERKLE_LEAVES / 64]; /* buckets written since their figures */
    long long bbytes[MERKLE_LEAVES];    /* stored bytes per bucket */
    bcount **bc;                    /* [db] -> bcount[256], allocated on first key */
    counts *tot;                    /* [db] sums over the buckets */
    long long bytes;                /* sum of bbytes */
    /* a collection's element keys (collkey.h), kept as they are written
     * (dbApplyRaw reads, merges, puts), so that a bucket holding a large
     * collection is not read whole at each recount: */
    uint64_t xelem[MERKLE_LEAVES];  /* XOR of their Merkle entries, part of leaf */
    long long ebytes[MERKLE_LEAVES]; /* their bytes, part of bbytes */
    int etouched;                   /* changed in the store's pending batch */
} pstate;

static pstate **pst;          /* [partition], allocated on first use */
static merkle **trees;        /* [partition] its leaves; built = pst known */
static long long treesBuilt;  /* partitions whose figures are computed */

#define META_DSTATE_PREFIX "ds2:"
#define META_DSTATE_CLEAN "dstate_clean"

static pstate *stateOf(unsigned p) {
    if (!pst[p]) {
        pst[p] = zcalloc(sizeof(pstate));
        pst[p]->bc = zcalloc(sizeof(bcount *) * (size_t)server.databases);
        pst[p]->tot = zcalloc(sizeof(counts) * (size_t)server.databases);
        trees[p] = zcalloc(sizeof(merkle));
    }
    return pst[p];
}

static bcount *bcountOf(pstate *ps, int db) {
    if (!ps->bc[db]) ps->bc[db] = zcalloc(sizeof(bcount) * MERKLE_LEAVES);
    return ps->bc[db];
}

static unsigned long long marksMade, marksSeen; /* markDirty calls; as of the last recount cycle */

/* A write to slot: its bucket's figures are stale from now on. */
static void markDirty(unsigned slot) {
    marksMade++;
    pstate *ps = stateOf(slot >> 8);
    unsigned b = slot & 0xff;
    if (!ps->known) return; /* all dirty already */
    uint64_t bit = 1ULL << (b & 63);
    if (!(ps->dirty[b >> 6] & bit)) {
        ps->dirty[b >> 6] |= bit;
        ps->ndirty++;
    }
}

/* Takes bucket b's figures out of the partition's sums (before they are
 * computed again). */
static void bucketZero(pstate *ps, merkle *m, unsigned b) {
    ps->bytes -= ps->bbytes[b];
    ps->bbytes[b] = 0;
    m->leaf[b] = 0;
    for (int d = 0; d < server.databases; d++) {
        if (!ps->bc[d]) continue;
        ps->tot[d].keys -= ps->bc[d][b].keys;
        ps->tot[d].expires -= ps->bc[d][b].expires;
        ps->bc[d][b].keys = ps->bc[d][b].expires = 0;
    }
}

static int present(const record *r) {
    const version *v = recordNewest(r);
    if (v && !v->tombstone) return 1;
    return r->ctr && strctrLive(r, serverNowMs()); /* a key only INCR wrote */
}

/* Adds one stored key (k, v) of partition ps to its bucket's figures. */
static void bucketAdd(pstate *ps, merkle *m, const char *k, size_t kl, const char *v, size_t vl,
                      record *scratch) {
    unsigned slot;
    int db;
    if (keyDecode(k, kl, &slot, &db, NULL, NULL) != C_OK) return;
    unsigned b = slot & 0xff;
    m->leaf[b] ^= merkleEntry(k, kl, v, vl);
    ps->bbytes[b] += (long long)(kl + vl);
    ps->bytes += (long long)(kl + vl);
    if (collKeyKind(k, kl) == COLLKEY_META) {
        /* a collection key counts while some type of it may live (an
         * emptied one is deleted by the command that emptied it) */
        keymeta m;
        keymetaInit(&m);
        int live = 0;
        if (keymetaDecode(&m, v, vl) == C_OK)
            for (int t = KT_SET; t <= KT_HLL && !live; t++)
                live = keymetaTypeMayLive(&m, t, serverNowMs());
        keymetaFree(&m);
        db &= 0x0f;
        if (!live || db >= server.databases) return;
        bcount *bc = bcountOf(ps, db);
        bc[b].keys++;
        ps->tot[db].keys++;
        return;
    }
    if (db >= server.databases || recordDecode(scratch, v, vl) != C_OK || !present(scratch))
        return;
    bcount *bc = bcountOf(ps, db);
    bc[b].keys++;
    ps->tot[db].keys++;
    const version *nv = recordNewest(scratch);
    if (nv && !nv->tombstone && nv->expire) { /* (a key only INCR wrote has none) */
        bc[b].expires++;
        ps->tot[db].expires++;
    }
}

/* One element key's entry and bytes in (or out of: its entry again and
 * negative bytes) bucket b's figures. */
static void elemAdd(pstate *ps, merkle *m, unsigned b, uint64_t entry, long long bytes) {
    ps->xelem[b] ^= entry;
    m->leaf[b] ^= entry;
    ps->ebytes[b] += bytes;
    ps->bbytes[b] += bytes;
    ps->bytes += bytes;
}

/* Computes partition p's dirty buckets (all, if it was never computed)
 * from the stored data. */
static void refresh(unsigned p) {
    pstate *ps = stateOf(p);
    if (ps->known && !ps->ndirty) return;
    merkle *m = trees[p];
    record rec;
    recordInit(&rec);
    storeIter *it = storeIterCreate(CF_DATA); /* commits the pending batch */
    if (!ps->known) {
        for (unsigned b = 0; b < MERKLE_LEAVES; b++) {
            bucketZero(ps, m, b);
            ps->xelem[b] = 0;
            ps->ebytes[b] = 0;
        }
        unsigned char from[3] = {(unsigned char)(p >> 8), (unsigned char)p, 0};
        for (storeIterSeek(it, (const char *)from, 3); storeIterValid(it); storeIterNext(it)) {
            size_t kl, vl;
            const char *k = storeIterKey(it, &kl);
            if (kl < KEY_PREFIX_LEN || ((unsigned)(unsigned char)k[0] << 8 | (unsigned char)k[1]) != p)
                break;
            const char *v = storeIterValue(it, &vl);
            if (collKeyKind(k, kl) == COLLKEY_ELEM)
                elemAdd(ps, m, (unsigned char)k[2], merkleEntry(k, kl, v, vl), (long long)(kl + vl));
            else
                bucketAdd(ps, m, k, kl, v, vl, &rec);
        }
        ps->known = 1;
        m->built = 1;
        treesBuilt++;
    } else {
        for (unsigned b = 0; b < MERKLE_LEAVES; b++) {
            if (!(ps->dirty[b >> 6] & (1ULL << (b & 63)))) continue;
            bucketZero(ps, m, b);
            /* the elements' part is kept as they are written */
            m->leaf[b] ^= ps->xelem[b];
            ps->bbytes[b] += ps->ebytes[b];
            ps->bytes += ps->ebytes[b];
            unsigned slot = p * 256 + b;
            unsigned char from[3] = {(unsigned char)(slot >> 16), (unsigned char)(slot >> 8),
                                     (unsigned char)slot};
            for (storeIterSeekBucket(it, (const char *)from); storeIterValid(it);
                 storeIterNext(it)) {
                size_t kl, vl;
                const char *k = storeIterKey(it, &kl);
                if (kl < KEY_PREFIX_LEN || memcmp(k, from, 3) != 0) break;
                if (collKeyKind(k, kl) == COLLKEY_ELEM) break; /* they come last */
                const char *v = storeIterValue(it, &vl);
                bucketAdd(ps, m, k, kl, v, vl, &rec);
            }
        }
    }
    memset(ps->dirty, 0, sizeof(ps->dirty));
    ps->ndirty = 0;
    storeIterFree(it);
    recordFree(&rec);
}

/* What DBSIZE, INFO keyspace or a cluster-wide COUNT may spend recounting
 * buckets written since the last look before answering with the figures
 * as they are: recounting is a pass over those buckets' data (about 1 s per
 * 350k keys written, measured), and a monitoring INFO on a busy node must
 * not stall its event loop for that long. The cron recounts the rest in the
 * background (dbRecountCycle), so the figures catch up within seconds of
 * the writes. A partition never counted (after a crash) is counted whole
 * at the first such question: counting it as empty would be far off. */
#define RECOUNT_BUDGET_US 100000
static unsigned recountNext; /* where the next bounded recount starts */

static void recount(long long budget_us, int unknown_too) {
    long long start = ustime();
    unsigned n = (unsigned)server.ring_partitions;
    if (unknown_too)
        for (unsigned p = 0; p < n; p++)
            if (!stateOf(p)->known) refresh(p);
    for (unsigned i = 0; i < n; i++) {
        unsigned p = (recountNext + i) % n;
        pstate *ps = stateOf(p);
        if (ps->known && !ps->ndirty) continue;
        if (ustime() - start >= budget_us) {
            recountNext = p;
            return;
        }
        refresh(p);
    }
    recountNext = 0;
}

void dbRecount(void) { recount(RECOUNT_BUDGET_US, 1); }

void dbRecountCycle(long long budget_us) {
    /* no write since the last cycle: five times the budget, so the figures
     * are exact again within seconds once writes stop */
    if (marksMade == marksSeen) budget_us *= 5;
    marksSeen = marksMade;
    recount(budget_us, 0);
}

long long dbDirtyBuckets(void) {
    long long n = 0;
    for (int p = 0; p < server.ring_partitions; p++)
        if (pst[p]) n += pst[p]->known ? pst[p]->ndirty : MERKLE_LEAVES;
    return n;
}

/* Forgets partition p's figures: they are computed again when asked for. */
static void forget(unsigned p) {
    pstate *ps = stateOf(p);
    if (ps->known) treesBuilt--;
    ps->known = 0;
    trees[p]->built = 0;
    memset(ps->dirty, 0, sizeof(ps->dirty));
    ps->ndirty = 0;
}

/* Partition p holds nothing any more (its range was deleted, committed). */
static void setEmpty(unsigned p) {
    pstate *ps = stateOf(p);
    for (unsigned b = 0; b < MERKLE_LEAVES; b++) {
        bucketZero(ps, trees[p], b);
        ps->xelem[b] = 0;
        ps->ebytes[b] = 0;
    }
    memset(ps->dirty, 0, sizeof(ps->dirty));
    ps->ndirty = 0;
    if (!ps->known) treesBuilt++;
    ps->known = 1;
    trees[p]->built = 1;
}

long long dbKeys(int db) {
    long long n = 0;
    for (int p = 0; p < server.ring_partitions; p++)
        if (pst[p]) n += pst[p]->tot[db].keys;
    return n;
}

long long dbExpires(int db) {
    long long n = 0;
    for (int p = 0; p < server.ring_partitions; p++)
        if (pst[p]) n += pst[p]->tot[db].expires;
    return n;
}

long long dbPartitionKeys(int db, unsigned partition) {
    if (!stateOf(partition)->known) refresh(partition); /* else as counted (dbRecount) */
    return pst[partition]->tot[db].keys;
}

long long dbPartitionBytes(unsigned partition) {
    if (partition >= (unsigned)server.ring_partitions) return 0;
    refresh(partition);
    return pst[partition]->bytes > 0 ? pst[partition]->bytes : 0;
}

merkle *dbTree(unsigned partition) {
    refresh(partition);
    return trees[partition];
}

long long dbTreesBuilt(void) { return treesBuilt; }

void dbTreeBuild(unsigned partition) {
    forget(partition);
    refresh(partition);
}

/* Partition p's data was removed (handoff): its figures too. */
static void metaForget(void);
static void metaMerged(const char *mk, size_t mklen, const char *val, size_t vlen);
static void statsFlush(void);
static void zhintsForget(void);

/* a before b in RocksDB's bytewise order */
static int bytesBefore(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    return c < 0 || (c == 0 && al < bl);
}

void dbPartitionDropped(unsigned p) {
    metaForget();
    zhintsForget();
    /* the partition's score index entries go with its elements */
    unsigned char a[3] = {(unsigned char)(p >> 8), (unsigned char)p, 0};
    unsigned char b[4] = {(unsigned char)((p + 1) >> 8), (unsigned char)(p + 1), 0, 0};
    if (p + 1 >= 65536) memset(b, 0xff, sizeof(b)); /* above every slot's entries */
    storeDeleteRange(CF_ZINDEX, (const char *)a, 3, (const char *)b, p + 1 >= 65536 ? 4 : 3);
    storeDeleteRange(CF_KSTATS, (const char *)a, 3, (const char *)b, p + 1 >= 65536 ? 4 : 3);
    storeCommit();
    setEmpty(p);
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

/* ------------------------------------------------------- saved figures */

static void stateKey(unsigned p, char *k) {
    memcpy(k, META_DSTATE_PREFIX, 4);
    k[4] = (char)(p >> 8);
    k[5] = (char)p;
}

/* At a clean shutdown: the figures of every partition computed once, as
 * they are (nothing is scanned: a dirty bucket is saved as dirty). Per
 * partition: the 256 leaves (8 bytes LE each), the dirty bitmap (32 bytes),
 * 256 varint byte counts, then per db with keys: varint db, 256 x (varint
 * keys, varint expires). */
void dbTreesSave(void) {
    buf b;
    bufInit(&b);
    for (int p = 0; p < server.ring_partitions; p++) {
        pstate *ps = pst[p];
        if (!ps || !ps->known) continue;
        bufClear(&b);
        for (int i = 0; i < MERKLE_LEAVES; i++) {
            unsigned char e[8];
            for (int j = 0; j < 8; j++) e[j] = (unsigned char)(trees[p]->leaf[i] >> (8 * j));
            bufAppend(&b, e, 8);
        }
        for (int i = 0; i < MERKLE_LEAVES / 64; i++) {
            unsigned char e[8];
            for (int j = 0; j < 8; j++) e[j] = (unsigned char)(ps->dirty[i] >> (8 * j));
            bufAppend(&b, e, 8);
        }
        for (int i = 0; i < MERKLE_LEAVES; i++)
            varintPut(&b, (uint64_t)(ps->bbytes[i] < 0 ? 0 : ps->bbytes[i]));
        for (int i = 0; i < MERKLE_LEAVES; i++) {
            unsigned char e[8];
            for (int j = 0; j < 8; j++) e[j] = (unsigned char)(ps->xelem[i] >> (8 * j));
            bufAppend(&b, e, 8);
            varintPut(&b, (uint64_t)(ps->ebytes[i] < 0 ? 0 : ps->ebytes[i]));
        }
        for (int d = 0; d < server.databases; d++) {
            if (!ps->bc[d] || !ps->tot[d].keys) continue;
            varintPut(&b, (uint64_t)d);
            for (int i = 0; i < MERKLE_LEAVES; i++) {
                varintPut(&b, ps->bc[d][i].keys);
                varintPut(&b, ps->bc[d][i].expires);
            }
        }
        char k[6];
        stateKey((unsigned)p, k);
        storePut(CF_META, k, 6, b.ptr, b.len);
    }
    storePut(CF_META, META_DSTATE_CLEAN, strlen(META_DSTATE_CLEAN), "1", 1);
    storeCommit();
    bufFree(&b);
}

/* Loads one partition's saved figures; C_ERR if malformed (then the
 * partition stays unknown). */
static int loadState(unsigned p, const unsigned char *v, size_t vl) {
    if (vl < 8 * MERKLE_LEAVES + MERKLE_LEAVES / 8) return C_ERR;
    pstate *ps = stateOf(p);
    merkle *m = trees[p];
    for (int i = 0; i < MERKLE_LEAVES; i++) {
        uint64_t x = 0;
        for (int j = 7; j >= 0; j--) x = (x << 8) | v[8 * i + j];
        m->leaf[i] = x;
    }
    size_t off = 8 * MERKLE_LEAVES;
    ps->ndirty = 0;
    for (int i = 0; i < MERKLE_LEAVES / 64; i++, off += 8) {
        uint64_t x = 0;
        for (int j = 7; j >= 0; j--) x = (x << 8) | v[off + (size_t)j];
        ps->dirty[i] = x;
        ps->ndirty += __builtin_popcountll(x);
    }
    for (int i = 0; i < MERKLE_LEAVES; i++) {
        uint64_t x;
        long u = varintGet(v + off, vl - off, &x);
        if (u < 0) return C_ERR;
        off += (size_t)u;
        ps->bbytes[i] = (long long)x;
        ps->bytes += (long long)x;
    }
    for (int i = 0; i < MERKLE_LEAVES; i++) {
        uint64_t x = 0;
        if (vl - off < 8) return C_ERR;
        for (int j = 7; j >= 0; j--) x = (x << 8) | v[off + (size_t)j];
        off += 8;
        ps->xelem[i] = x;
        long u = varintGet(v + off, vl - off, &x);
        if (u < 0) return C_ERR;
        off += (size_t)u;
        ps->ebytes[i] = (long long)x;
    }
    while (off < vl) {
        uint64_t d, k, e;
        long u = varintGet(v + off, vl - off, &d);
        if (u < 0 || d >= (uint64_t)server.databases) return C_ERR;
        off += (size_t)u;
        bcount *bc = bcountOf(ps, (int)d);
        for (int i = 0; i < MERKLE_LEAVES; i++) {
            if ((u = varintGet(v + off, vl - off, &k)) < 0) return C_ERR;
            off += (size_t)u;
            if ((u = varintGet(v + off, vl - off, &e)) < 0) return C_ERR;
            off += (size_t)u;
            bc[i].keys = (uint32_t)k;
            bc[i].expires = (uint32_t)e;
            ps->tot[d].keys += (long long)k;
            ps->tot[d].expires += (long long)e;
        }
    }
    ps->known = 1;
    m->built = 1;
    treesBuilt++;
    return C_OK;
}

/* The figures saved by the last clean shutdown, if it was the last thing
 * this data directory saw; the saved copy is removed either way. Older
 * formats (counters and trees apart) are removed too: computed again. */
static void statesLoad(void) {
    storeValue mv;
    int clean = storeGet(CF_META, META_DSTATE_CLEAN, strlen(META_DSTATE_CLEAN), &mv) > 0;
    if (clean) storeValueFree(&mv);
    static const char *prefixes[] = {META_DSTATE_PREFIX, "dst:", "cnt:", "tree:"};
    long loaded = 0;
    for (int i = 0; i < 4; i++) {
        size_t pl = strlen(prefixes[i]);
        storeIter *it = storeIterCreate(CF_META);
        for (storeIterSeek(it, prefixes[i], pl); storeIterValid(it); storeIterNext(it)) {
            size_t kl, vl;
            const char *k = storeIterKey(it, &kl);
            if (kl != pl + 2 || memcmp(k, prefixes[i], pl) != 0) break;
            storeDelete(CF_META, k, kl);
            unsigned p = ((unsigned)(unsigned char)k[pl] << 8) | (unsigned char)k[pl + 1];
            if (i != 0 || !clean || p >= (unsigned)server.ring_partitions) continue;
            const unsigned char *v = (const unsigned char *)storeIterValue(it, &vl);
            if (loadState(p, v, vl) == C_OK) {
                loaded++;
            } else {
                forget(p);
                serverLog(LL_WARNING, "Saved figures of partition %u are malformed: computed "
                          "from the data when needed", p);
            }
        }
        storeIterFree(it);
    }
    if (clean) storeDelete(CF_META, META_DSTATE_CLEAN, strlen(META_DSTATE_CLEAN));
    storeDelete(CF_META, "counts_clean", strlen("counts_clean"));
    storeDelete(CF_META, "trees_clean", strlen("trees_clean"));
    storeCommit();
    if (clean)
        serverLog(LL_NOTICE, "Key counts and Merkle trees of %ld partitions loaded from the last "
                  "clean shutdown", loaded);
    else
        serverLog(LL_NOTICE, "Key counts and Merkle trees will be computed from the stored data "
                  "(no clean shutdown before)");
}

static void elemsWritten(int ok);

/* The format of collections in this store: "2" since element states carry
 * the scored flag and the score index and figures are kept (zindex,
 * kstats). A store without it that holds collection elements was written
 * by an earlier build, whose sorted-set members no index lists: reading it
 * would answer wrong, silently, so the node refuses to start on it. */
#define META_COLL_FORMAT "coll_format"

int dbCheckFormat(void) {
    storeValue v;
    int found = storeGet(CF_META, META_COLL_FORMAT, strlen(META_COLL_FORMAT), &v);
    if (found < 0) return C_ERR;
    if (found) {
        storeValueFree(&v);
        return C_OK;
    }
    for (unsigned p = 0; p < (unsigned)server.ring_partitions; p++) {
        unsigned char from[3] = {(unsigned char)(p >> 8), (unsigned char)p, 0};
        storeIter *it = storeIterCreate(CF_DATA);
        int elems = 0;
        for (storeIterSeek(it, (const char *)from, 3); storeIterValid(it) && !elems;
             storeIterNext(it)) {
            size_t kl;
            const char *k = storeIterKey(it, &kl);
            if (kl < KEY_PREFIX_LEN || ((unsigned)(unsigned char)k[0] << 8 | (unsigned char)k[1]) != p)
                break;
            elems = collKeyKind(k, kl) == COLLKEY_ELEM;
        }
        storeIterFree(it);
        if (elems) {
            serverLog(LL_WARNING,
                      "This data directory holds sets, hashes or sorted sets written by an earlier "
                      "ringkv, before sorted sets had a score index: this build would read them "
                      "wrong. Start the earlier build and DUMP them, then RESTORE them into a node "
                      "of this one started on an empty directory.");
            return C_ERR;
        }
    }
    storePut(CF_META, META_COLL_FORMAT, strlen(META_COLL_FORMAT), "2", 1);
    return storeCommit();
}

void dbInit(void) {
    pst = zcalloc(sizeof(pstate *) * (size_t)server.ring_partitions);
    trees = zcalloc(sizeof(merkle *) * (size_t)server.ring_partitions);
    statesLoad();
    storeOnWrite(elemsWritten);
    storeBeforeCommit(statsFlush);
}

/* ------------------------------------------------------------------ records */

static int64_t liveMinExpire(const record *r) {
    int64_t m = 0;
    for (int i = 0; i < r->n; i++)
        if (!r->v[i].tombstone && r->v[i].expire && (m == 0 || r->v[i].expire < m))
            m = r->v[i].expire;
    return m;
}

static void expireKey(buf *out, int64_t when, const char *skey, size_t sklen) {
    unsigned char t[8];
    for (int i = 0; i < 8; i++) t[i] = (unsigned char)((uint64_t)when >> (56 - 8 * i));
    bufClear(out);
    bufAppend(out, t, 8);
    bufAppend(out, skey, sklen);
}

/* Adds (put) or removes (del) skey's expiry-index entry at when. */
static void expiryIndex(int put, int64_t when, const char *skey, size_t sklen) {
    buf b;
    bufInit(&b);
    expireKey(&b, when, skey, sklen);
    if (put) storePut(CF_EXPIRES, b.ptr, b.len, "", 0);
    else storeDelete(CF_EXPIRES, b.ptr, b.len);
    bufFree(&b);
}

/* Writes nw over old for storage key skey (a read-modify-write: the
 * coordinator, active expiry), keeping the expiry index in step. */
static void writeRecord(const char *skey, size_t sklen, const record *old, const record *nw,
                        dbWriteCb *cb, void *pd, buf *encout) {
    unsigned slot;
    keyDecode(skey, sklen, &slot, NULL, NULL, NULL);
    buf b;
    bufInit(&b);
    recordEncode(nw, &b);
    storePut(CF_DATA, skey, sklen, b.ptr, b.len);
    if (encout) {
        bufClear(encout);
        bufAppend(encout, b.ptr, b.len);
    }
    markDirty(slot);
    int64_t oe = liveMinExpire(old), ne = liveMinExpire(nw);
    if (oe != ne) {
        if (oe) expiryIndex(0, oe, skey, sklen);
        if (ne) expiryIndex(1, ne, skey, sklen);
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

/* max-siblings: the oldest beyond it go, counted and logged. */
static void capSiblings(record *r) {
    int dropped = recordCapSiblings(r, (int)server.max_siblings);
    if (dropped) {
        server.stat.siblings_dropped += dropped;
        serverLog(LL_WARNING, "Key with more than %lld siblings: dropped the %d oldest",
                  server.max_siblings, dropped);
    }
}

int dbApply(int db, const char *key, size_t klen, const record *incoming, const char *enc,
            size_t enclen, dbWriteCb *cb, void *pd) {
    unsigned char sk[KEY_PREFIX_LEN + 256];
    buf skb;
    bufInit(&skb);
    const char *skey;
    size_t sklen = KEY_PREFIX_LEN + klen;
    if (sklen <= sizeof(sk)) { /* no allocation for the usual key */
        keySlotPrefix(sk, keySlot(keyHash(db, key, klen), server.qbits), db);
        memcpy(sk + KEY_PREFIX_LEN, key, klen);
        skey = (const char *)sk;
    } else {
        keyEncode(&skb, server.qbits, db, key, klen);
        skey = skb.ptr;
    }
    for (int i = 0; i < incoming->n; i++) clockObserve(incoming->v[i].counter);
    storeMerge(CF_DATA, skey, sklen, enc, enclen);
    unsigned slot;
    keyDecode(skey, sklen, &slot, NULL, NULL, NULL);
    markDirty(slot);
    int64_t ne = liveMinExpire(incoming);
    if (ne) expiryIndex(1, ne, skey, sklen);
    bufFree(&skb);
    if (cb) storeAfterCommit(cb, pd);
    return C_OK;
}

/* An element key is read, merged and put (not a merge operand), and its
 * Merkle entry and bytes replaced in its bucket's figures at once: its
 * bucket is not marked dirty, so a recount reads the bucket's records and
 * metadata, never a large collection's elements (see the file comment). */
static pstate **etouched; /* partitions with elements changed in the pending batch */
static int netouched;

/* Reads skey's state, merges val (a state of kind) into it and puts the
 * result; old (found: 1) keeps what was stored, nw the result. C_ERR, nothing
 * put, on a storage error or a malformed val. */
static int mergePut(int kind, const char *skey, size_t sklen, const char *val, size_t vlen,
                    storeValue *old, int *found, buf *nw) {
    *found = storeGet(CF_DATA, skey, sklen, old);
    if (*found < 0) return C_ERR;
    if (collMergeEncoded(kind, *found ? old->ptr : NULL, *found ? old->len : 0, &val, &vlen, 1,
                         nw) != 0) {
        if (*found) storeValueFree(old);
        return C_ERR;
    }
    storePut(CF_DATA, skey, sklen, nw->ptr, nw->len);
    return C_OK;
}

/* A HyperLogLog sketch is read, merged and put too: as merge operands,
 * every read of a busy sketch decoded and merged 16 KB per node chain per
 * operand (measured: PFCOUNT 12x slower than Redis after 3,000 PFADDs). */
static int sketchWrite(unsigned slot, const char *skey, size_t sklen, const char *val,
                       size_t vlen) {
    storeValue old;
    int found;
    buf nw;
    bufInit(&nw);
    int rc = mergePut(COLLKEY_HLL, skey, sklen, val, vlen, &old, &found, &nw);
    if (rc == C_OK) {
        markDirty(slot);
        if (found) storeValueFree(&old);
    }
    bufFree(&nw);
    return rc;
}

/* Where a sorted set's live index entries begin and end, as far as this
 * node knows (kept in memory; none after a restart): every entry before lo
 * (after hi) was looked at by a walk from that end (collstore.c) and found
 * gone, and none was put there since. A walk from an end seeks there
 * instead of stepping over what a queue leaves behind: ZADD at one end and
 * ZPOPMIN at the other deletes entries at the front, and RocksDB steps
 * over each deletion until it compacts them (measured: redis-benchmark's
 * ZPOPMIN fell to 600 pops a second, a third of a second of CPU each once
 * thousands were popped). One slot per hash of the key's prefix. */
#define ZHINTS 1024
static struct zhint {
    buf pre;         /* the key's index prefix (collkey.h); empty: slot unused */
    buf end[2];      /* [0] lo, [1] hi: entry keys (empty: not known) */
} zhints[ZHINTS];

static struct zhint *zhintSlot(const char *pre, size_t plen) {
    return &zhints[XXH3_64bits(pre, plen) % ZHINTS];
}

int dbZindexHint(const char *pre, size_t plen, int rev, buf *out) {
    struct zhint *h = zhintSlot(pre, plen);
    if (h->pre.len != plen || memcmp(h->pre.ptr, pre, plen) != 0 || !h->end[rev].len) return 0;
    bufClear(out);
    bufAppend(out, h->end[rev].ptr, h->end[rev].len);
    return 1;
}

void dbZindexHintSet(const char *pre, size_t plen, int rev, const char *k, size_t kl) {
    struct zhint *h = zhintSlot(pre, plen);
    if (h->pre.len != plen || memcmp(h->pre.ptr, pre, plen) != 0) {
        bufClear(&h->pre);
        bufAppend(&h->pre, pre, plen);
        bufClear(&h->end[0]);
        bufClear(&h->end[1]);
    }
    bufClear(&h->end[rev]);
    bufAppend(&h->end[rev], k, kl);
}

/* An entry put at ik (prefix plen bytes long) moves a known end out to it. */
static void zhintPut(const char *ik, size_t iklen, size_t plen) {
    struct zhint *h = zhintSlot(ik, plen);
    if (h->pre.len != plen || memcmp(h->pre.ptr, ik, plen) != 0) return;
    buf *lo = &h->end[0], *hi = &h->end[1];
    if (lo->len && bytesBefore(ik, iklen, lo->ptr, lo->len)) {
        bufClear(lo);
        bufAppend(lo, ik, iklen);
    }
    if (hi->len && bytesBefore(hi->ptr, hi->len, ik, iklen)) {
        bufClear(hi);
        bufAppend(hi, ik, iklen);
    }
}

static void zhintsForget(void) {
    for (int i = 0; i < ZHINTS; i++) {
        bufClear(&zhints[i].pre);
        bufClear(&zhints[i].end[0]);
        bufClear(&zhints[i].end[1]);
    }
}

/* The score index after element skey went from old (NULL: none stored,
 * or not decodable) to nw (decoded states). */
static void indexUpdate(const char *skey, size_t sklen, const field *old, const field *nw) {
    if (!(nw && nw->scored) && !(old && old->scored)) return;
    double os = 0, ns = 0;
    int op = old && old->scored && zsetScore(old, NULL, &os);
    int np = nw && nw->scored && zsetScore(nw, NULL, &ns);
    buf ik;
    bufInit(&ik);
    if (op && (!np || collScoreBits(os) != collScoreBits(ns)) &&
        collKeyZindexOfElem(&ik, skey, sklen, os) == C_OK)
        storeDelete(CF_ZINDEX, ik.ptr, ik.len);
    if (np && collKeyZindexOfElem(&ik, skey, sklen, ns) == C_OK) {
        storePut(CF_ZINDEX, ik.ptr, ik.len, "", 0);
        const char *elem;
        size_t elen;
        int kind, db;
        const char *key;
        size_t klen;
        if (collKeyDecode(skey, sklen, &kind, &db, &key, &klen, &elem, &elen) == C_OK)
            zhintPut(ik.ptr, ik.len, ik.len - 8 - elen);
    }
    bufFree(&ik);
}

/* The metadata of the collection whose elements are being written, kept
 * between element writes (a batch writes many elements of one key: reading
 * the metadata, merge operands and all, was a seventh of a ZADD's cost).
 * Forgotten whenever any metadata is written, and by FLUSHDB and dropped
 * partitions (metaForget). */
static buf memoKey;     /* its storage key; empty: nothing kept */
static keymeta memoMeta;

static void metaForget(void) { bufClear(&memoKey); }

/* A metadata delta was merged into mk: the kept metadata follows it (a
 * command writes its key's metadata, then its elements, which read it). */
static void metaMerged(const char *mk, size_t mklen, const char *val, size_t vlen) {
    if (memoKey.len != mklen || memcmp(memoKey.ptr, mk, mklen) != 0) {
        metaForget();
        return;
    }
    keymeta d;
    keymetaInit(&d);
    if (keymetaDecode(&d, val, vlen) == C_OK) keymetaMerge(&memoMeta, &d);
    else metaForget();
    keymetaFree(&d);
}

static const keymeta *metaOf(const char *mk, size_t mklen) {
    if (memoKey.len == mklen && memcmp(memoKey.ptr, mk, mklen) == 0) return &memoMeta;
    storeValue mv;
    keymetaClear(&memoMeta);
    int found = storeGet(CF_DATA, mk, mklen, &mv);
    if (found > 0) {
        if (keymetaDecode(&memoMeta, mv.ptr, mv.len) != C_OK) keymetaClear(&memoMeta);
        storeValueFree(&mv);
    }
    bufClear(&memoKey);
    if (found >= 0) bufAppend(&memoKey, mk, mklen); /* (an error is not kept) */
    return &memoMeta;
}

/* The figures of the collections written in the pending batch, kept here
 * and put into the batch once, just before it is written (statsFlush, a
 * storeBeforeCommit hook): a put of a collection's figures per element
 * written filled the memtable with versions of one key (a 1,000-member
 * ZADD put it a thousand times). Readers go through dbCollStats. */
#define STATS_MEMO 8
static struct statsMemo {
    buf key;      /* the stats key (collkey.h) */
    collStats st; /* its figures as the batch leaves them */
} smemo[STATS_MEMO];
static int nsmemo;

static void statsFlush(void) {
    for (int i = 0; i < nsmemo; i++) {
        unsigned char enc[COLL_STATS_LEN];
        collStatsEncode(&smemo[i].st, enc);
        storePut(CF_KSTATS, smemo[i].key.ptr, smemo[i].key.len, (const char *)enc, COLL_STATS_LEN);
        bufClear(&smemo[i].key);
    }
    nsmemo = 0;
}

static struct statsMemo *statsFind(const char *sk, size_t sklen) {
    for (int i = 0; i < nsmemo; i++)
        if (smemo[i].key.len == sklen && memcmp(smemo[i].key.ptr, sk, sklen) == 0) return &smemo[i];
    return NULL;
}

int dbCollStats(const char *sk, size_t sklen, collStats *st) {
    struct statsMemo *m = statsFind(sk, sklen);
    if (m) {
        *st = m->st;
        return 1;
    }
    storeValue sv;
    int found = storeGet(CF_KSTATS, sk, sklen, &sv);
    if (found <= 0) return found;
    if (collStatsDecode(st, sv.ptr, sv.len) != C_OK) st->mark = 0; /* unreadable: stale */
    storeValueFree(&sv);
    return 1;
}

void dbCollStatsPut(const char *sk, size_t sklen, const collStats *st) {
    struct statsMemo *m = statsFind(sk, sklen);
    if (!m) {
        if (nsmemo == STATS_MEMO) statsFlush();
        m = &smemo[nsmemo++];
        bufClear(&m->key);
        bufAppend(&m->key, sk, sklen);
    }
    m->st = *st; /* put with the pending batch (an element write of it made one) */
}

/* The collection's figures (collbatch.h's collStats) after element skey went
 * from old (the stored bytes and state, NULL: none) to nw: the digest
 * always; the count when it was counted through the key's removal as it is
 * now (else it stays stale, and the next count read counts the elements:
 * collstore.c). A collection with no figures yet has none of its elements
 * counted: nothing, through no removal. */
static void statsUpdate(const char *skey, size_t sklen, const storeValue *old, const field *of,
                        const buf *nw, const field *nf) {
    buf sk, mk;
    bufInit(&sk);
    bufInit(&mk);
    int kind, db;
    const char *key, *elem;
    size_t klen, elen;
    if (collKeyDecode(skey, sklen, &kind, &db, &key, &klen, &elem, &elen) != C_OK ||
        collKeyStatsOfElem(&sk, skey, sklen) != C_OK) {
        bufFree(&sk);
        return;
    }
    collStats st = {0, collRemovalMark(NULL), 0}; /* none yet: nothing counted */
    if (dbCollStats(sk.ptr, sk.len, &st) < 0) {
        bufFree(&sk);
        return;
    }
    st.digest ^= (old ? merkleEntry(skey, sklen, old->ptr, old->len) : 0) ^
                 merkleEntry(skey, sklen, nw->ptr, nw->len);
    collKeyEncode(&mk, server.qbits, COLLKEY_META, db, key, klen, NULL, 0);
    causalRemoval kr;
    keymetaRemoval(metaOf(mk.ptr, mk.len), serverNowMs(), &kr);
    if (st.mark == collRemovalMark(&kr))
        st.count += (uint64_t)((nf && fieldLive(nf, &kr)) - (of && fieldLive(of, &kr)));
    dbCollStatsPut(sk.ptr, sk.len, &st);
    bufFree(&sk);
    bufFree(&mk);
}

static int elemWrite(unsigned slot, const char *skey, size_t sklen, const char *val,
                     size_t vlen) {
    storeValue old;
    int found;
    buf nw;
    bufInit(&nw);
    if (mergePut(COLLKEY_ELEM, skey, sklen, val, vlen, &old, &found, &nw) != C_OK) {
        bufFree(&nw);
        return C_ERR;
    }
    /* the derived state: each state decoded once for both */
    field of, nf;
    fieldInit(&of);
    fieldInit(&nf);
    int ho = found && fieldDecode(&of, old.ptr, old.len) == C_OK;
    int hn = fieldDecode(&nf, nw.ptr, nw.len) == C_OK;
    indexUpdate(skey, sklen, ho ? &of : NULL, hn ? &nf : NULL);
    statsUpdate(skey, sklen, found ? &old : NULL, ho ? &of : NULL, &nw, hn ? &nf : NULL);
    fieldFree(&of);
    fieldFree(&nf);
    pstate *ps = stateOf(slot >> 8);
    if (ps->known) {
        unsigned b = slot & 0xff;
        merkle *m = trees[slot >> 8];
        if (found) elemAdd(ps, m, b, merkleEntry(skey, sklen, old.ptr, old.len), -(long long)(sklen + old.len));
        elemAdd(ps, m, b, merkleEntry(skey, sklen, nw.ptr, nw.len), (long long)(sklen + nw.len));
        if (!ps->etouched) {
            ps->etouched = 1;
            etouched = zrealloc(etouched, sizeof(pstate *) * (size_t)(netouched + 1));
            etouched[netouched++] = ps;
        }
    }
    marksMade++;
    bufFree(&nw);
    if (found) storeValueFree(&old);
    return C_OK;
}

/* After each batch (storeOnWrite): a refused one stored none of the
 * elements whose figures elemWrite changed, so their partitions are
 * computed from the data again. */
static void elemsWritten(int ok) {
    for (int i = 0; i < netouched; i++) {
        etouched[i]->etouched = 0;
        if (!ok)
            for (unsigned p = 0; p < (unsigned)server.ring_partitions; p++)
                if (pst[p] == etouched[i]) forget(p);
    }
    netouched = 0;
}

int dbApplyRaw(const char *skey, size_t sklen, const char *val, size_t vlen, dbWriteCb *cb,
               void *pd) {
    unsigned slot;
    int kind = collKeyKind(skey, sklen);
    if (kind <= COLLKEY_RECORD || keyDecode(skey, sklen, &slot, NULL, NULL, NULL) != C_OK)
        return C_ERR;
    if (kind == COLLKEY_META) {
        storeMerge(CF_DATA, skey, sklen, val, vlen);
        markDirty(slot);
        metaMerged(skey, sklen, val, vlen);
    } else if ((kind == COLLKEY_HLL ? sketchWrite : elemWrite)(slot, skey, sklen, val, vlen) !=
               C_OK) {
        return C_ERR;
    }
    if (cb) storeAfterCommit(cb, pd);
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

    if (op->incr) { /* an amount (svarint128 [ldouble]): this node's contribution, no version */
        static const counter none;
        tcReader rd;
        i128 di = 0;
        long double df = 0;
        tcReaderInit(&rd, op->val, op->vlen);
        tcSvarint128(&rd, &di);
        if (tcLeft(&rd)) tcLdouble(&rd, &df);
        counter d;
        counterInit(&d);
        for (int i = 0; i < old.n; i++) clockObserve(old.v[i].counter);
        int ok = tcDone(&rd) == C_OK &&
                 strctrDeltaAdd(&d, &old, old.ctr ? old.ctr : &none, serverNowMs(), server.actor,
                                clockNext(), di, df) == C_OK;
        if (ok) {
            recordMerge(&nw, &old, 0);
            counterMerge(recordCounter(&nw), &d);
            writeRecord(sk.ptr, sk.len, &old, &nw, cb, pd, recout);
        }
        counterFree(&d);
        recordFree(&old);
        recordFree(&nw);
        storeValueFree(&hold);
        bufFree(&sk);
        return ok ? C_OK : C_ERR;
    }

    version nv;
    versionInit(&nv);
    version *v = &nv;
    if (op->ctx) vclockCopy(&v->past, op->ctx);
    else recordContext(&old, &v->past);
    vclockPrune(&v->past, (int)server.vclock_max_entries, server.actor);
    v->actor = server.actor;
    v->counter = clockNext();
    /* a context entry at or past the new dot was never observed (beyond
     * the horizon): kept, it would cover dots not written yet, for good */
    versionClampPast(v);
    v->tombstone = op->tombstone;
    v->expire = op->expire;
    v->val = op->tombstone ? NULL : op->val;
    v->vlen = op->tombstone ? 0 : op->vlen;
    v->ownval = 0;

    recordMerge(&nw, &old, 0);
    recordAdd(&nw, v, 0);
    if (old.ctr) {
        /* a write over a counted string (SET, DEL, APPEND...) clears the
         * contributions it observed; one made concurrently survives */
        counter d;
        counterInit(&d);
        strctrDeltaClear(&d, &old, old.ctr, serverNowMs());
        counterMerge(recordCounter(&nw), &d);
        counterFree(&d);
    }
    capSiblings(&nw);
    writeRecord(sk.ptr, sk.len, &old, &nw, cb, pd, recout);
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

/* Collection metadata lives beside the records of a slot under the db byte
 * 0x80 | db (collkey.h), so a slot's keys are two runs: its string records,
 * then its collections' metadata. A key that holds both (a type conflict,
 * or hidden data of another type) is visited twice, once per run; callers
 * merge by name. Each run's next slot is remembered (next[k]) until the
 * walk passes it, so a keyspace without collections costs one seek per
 * partition for the metadata run, not one per slot. */
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
    keymeta meta;
    keymetaInit(&meta);
    const int dbytes[2] = {db, 0x80 | db};
    long next[2] = {-2, -2}; /* per run: its next slot, -1 none left, -2 not sought */
    int stop = 0;
    while (!stop) {
        long s = -1;
        for (int k = 0; k < 2; k++) {
            if (next[k] == -2 || (next[k] >= 0 && (unsigned long long)next[k] < slot))
                next[k] = seekSlot(it, slot, nslots, dbytes[k]);
            if (next[k] >= 0 && (s < 0 || next[k] < s)) s = next[k];
        }
        if (s < 0) {
            slot = nslots;
            break;
        }
        for (int k = 0; k < 2 && !stop; k++) {
            if (next[k] != s) continue;
            unsigned char pre[KEY_PREFIX_LEN];
            keySlotPrefix(pre, (unsigned)s, dbytes[k]);
            for (storeIterSeek(it, (const char *)pre, KEY_PREFIX_LEN); storeIterValid(it);
                 storeIterNext(it)) {
                size_t kl, vl;
                const char *sk = storeIterKey(it, &kl);
                unsigned ks;
                int kd;
                const char *key;
                size_t klen;
                if (keyDecode(sk, kl, &ks, &kd, &key, &klen) != C_OK || ks != (unsigned)s ||
                    kd != dbytes[k])
                    break;
                const char *v = storeIterValue(it, &vl);
                int r;
                if (k == 0) {
                    if (recordDecode(&rec, v, vl) != C_OK) continue;
                    /* live: a version, or counter contributions */
                    if (!dead && !strctrLive(&rec, now)) continue;
                    seen++;
                    r = fn(key, klen, &rec, NULL, pd);
                } else {
                    if (keymetaDecode(&meta, v, vl) != C_OK) continue;
                    int live = 0;
                    for (int t = KT_SET; t <= KT_MAX && !live; t++)
                        live = keymetaTypeMayLive(&meta, t, now);
                    if (!dead && !live) continue;
                    seen++;
                    r = fn(key, klen, NULL, &meta, pd);
                }
                if (r) {
                    stop = 1;
                    break;
                }
            }
        }
        slot = (unsigned long long)s + 1;
        if (seen >= count) break;
    }
    recordFree(&rec);
    keymetaFree(&meta);
    storeIterFree(it);
    if (slot >= nslots) return end ? nslots : 0;
    return slot;
}

int dbFlush(int db) {
    metaForget();
    zhintsForget();
    unsigned long long nslots = (unsigned long long)server.ring_partitions * 256;
    int rc = C_OK;
    int others = 0, elemsDeleted = 0;
    if (db >= 0) {
        /* Whether another db holds keys decides between deleting everything
         * and deleting this db's keys one by one: it must be exact, never
         * the bounded recount of DBSIZE (an uncounted bucket of db 0 would
         * read as "db 0 is empty", and FLUSHDB of db 3 would delete it). */
        recount(LLONG_MAX, 1);
        for (int d = 0; d < server.databases; d++)
            if (d != db && (dbKeys(d) > 0)) others = 1;
    }
    if (db < 0 || !others) {
        /* Everything goes: two range deletions, then compaction frees the
         * space. Tombstones of other dbs go too (nothing else is stored). */
        char from[1] = {0}, to[8];
        memset(to, 0xff, sizeof(to));
        if (storeDeleteRange(CF_DATA, from, 0, to, sizeof(to)) != C_OK) rc = C_ERR;
        if (storeDeleteRange(CF_EXPIRES, from, 0, to, sizeof(to)) != C_OK) rc = C_ERR;
        if (storeDeleteRange(CF_ZINDEX, from, 0, to, sizeof(to)) != C_OK) rc = C_ERR;
        if (storeDeleteRange(CF_KSTATS, from, 0, to, sizeof(to)) != C_OK) rc = C_ERR;
        /* the space comes back as RocksDB compacts the range tombstones (a
         * full compaction here would stall the event loop) */
    } else {
        /* One db among others: its keys are spread over every slot, and a
         * range deletion per slot leaves thousands of range tombstones that
         * every later iterator and seek pays for. Point deletions instead
         * (O(keys), as in Redis), each marking its bucket dirty. */
        /* the db's records, then its collections' metadata, sketches and
         * elements (collkey.h: the same db in the low bits of the 4th byte) */
        static const int kindBytes[] = {0x00, 0x80, 0xA0, 0xC0};
        long n = 0;
        for (int kb = 0; kb < 4; kb++) {
            int dbyte = kindBytes[kb] | db;
            storeIter *it = storeIterCreate(CF_DATA);
            unsigned long long slot = 0;
            long s;
            while ((s = seekSlot(it, slot, nslots, dbyte)) >= 0) {
                for (; storeIterValid(it); storeIterNext(it)) {
                    size_t kl;
                    const char *k = storeIterKey(it, &kl);
                    unsigned ks;
                    int kd;
                    if (keyDecode(k, kl, &ks, &kd, NULL, NULL) != C_OK || ks != (unsigned)s ||
                        kd != dbyte)
                        break;
                    storeDelete(CF_DATA, k, kl);
                    markDirty(ks);
                    if (kb == 3) elemsDeleted = 1;
                    /* the iterator reads its own snapshot: committing is safe */
                    if (++n % 4096 == 0 && storeCommit() != C_OK) rc = C_ERR;
                }
                slot = (unsigned long long)s + 1;
            }
            storeIterFree(it);
        }
        storeIter *it = storeIterCreate(CF_EXPIRES);
        for (storeIterSeekFirst(it); storeIterValid(it); storeIterNext(it)) {
            size_t kl;
            const char *k = storeIterKey(it, &kl);
            if (kl >= 8 + KEY_PREFIX_LEN && (unsigned char)k[8 + 3] == db)
                storeDelete(CF_EXPIRES, k, kl);
        }
        storeIterFree(it);
        static const int derived[] = {CF_ZINDEX, CF_KSTATS}; /* the db's index entries, figures */
        for (int c = 0; c < 2; c++) {
            it = storeIterCreate(derived[c]);
            for (storeIterSeekFirst(it); storeIterValid(it); storeIterNext(it)) {
                size_t kl;
                const char *k = storeIterKey(it, &kl);
                if (kl >= KEY_PREFIX_LEN && (unsigned char)k[3] == db) storeDelete(derived[c], k, kl);
            }
            storeIterFree(it);
        }
    }
    if (storeCommit() != C_OK) rc = C_ERR;
    for (int p = 0; p < server.ring_partitions; p++) {
        /* some of it may be deleted and some not (a full disk): computed
         * again from what is stored, when asked for */
        if (rc != C_OK || elemsDeleted) forget((unsigned)p);
        else if (db < 0 || !others) setEmpty((unsigned)p);
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
        int64_t m = found ? liveMinExpire(&old) : 0;
        if (m != when) {
            /* an early entry (a blind write's, or a sibling's since
             * superseded): gone, or moved to the record's earliest expiry */
            storeDelete(CF_EXPIRES, k, kl);
            if (m) expiryIndex(1, m, skey, sklen);
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
            writeRecord(skey, sklen, &old, &nw, NULL, NULL, NULL);
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
