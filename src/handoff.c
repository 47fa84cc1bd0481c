/* handoff.c -- moving partitions when nodes join and leave, resumable,
 * rate-limited and visible.
 *
 * The membership gives two rings (gossip.c): the current one (NORMAL and
 * LEAVING nodes: version coordination uses it) and the future one (NORMAL
 * and JOINING nodes). While they differ, a node's change goes through these
 * phases (each node on its own, as gossip tells it):
 *   AWARE    it knows the future ring, says so in gossip ("aware" hash), and
 *            coordinates every write to the current AND the future owners,
 *            acknowledged only once each group has its quorum, and reads
 *            from both groups (target.c, read.c, write.c: joint quorums, as Cassandra's
 *            pending ranges, CASSANDRA-2434);
 *   PULLING  once every member that is up is aware (gossipAllAware) and a
 *            write coordinated before that can no longer arrive (its bus
 *            deadline, replica-timeout, has passed: it is refused as LATE
 *            after that), it pulls the partitions the future ring gives it
 *            and the current one does not (its "gains"), from a current
 *            owner, in key order, a batch at a time; the cursor is stored in
 *            the same RocksDB batch as the data it follows, so a transfer
 *            interrupted by a restart of either side resumes where it
 *            stopped. Pulling only now is what makes the stream complete:
 *            every write it may have missed went to the future owners too;
 *   SYNCED   it has no gains left and says so in gossip (its "synced" ring
 *            hash); once every node that is up says so, a JOINING node
 *            becomes NORMAL and a LEAVING one pushes what it holds to the new
 *            owners, becomes LEFT and stops.
 * When the rings agree, a node that holds data of a partition it does not
 * own first pushes whatever its owners lack (a push-only Merkle exchange:
 * cost grows with the difference), then drops the partition (DeleteRange).
 *
 * API:
 *   handoffInit()                      bus request XFER, the timer
 *   handoffNoteWrite(p)                a replica write for partition p arrived (replica.c)
 *   handoffStatus(out) / handoffInfo(out) / handoffProgress(...)   RING STATUS, INFO, status page
 * (RING PLAN is gossip.c's gossipPlan: it compares rings, moving nothing.)
 * Bus request served: XFER partition cursor maxkeys -> next total (skey record)... */
#include "handoff.h"

#include <event2/event.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <string.h>

#include "aae.h"
#include "bus.h"
#include "busargs.h"
#include "collkey.h"
#include "db.h"
#include "gossip.h"
#include "server.h"
#include "store.h"

#define TICK_MS 100
#define BATCH_KEYS 256
#define BATCH_BYTES (1 << 20)
#define META_XFER "xfer:"      /* + u16 partition -> cursor (last storage key applied) */
#define META_XFER_DONE "xfd:"  /* + u16 partition -> "" : pulled completely */

typedef struct xfer {
    unsigned partition;
    int source;           /* member index */
    buf cursor;           /* last storage key applied ("" = from the start) */
    long long keys, bytes;/* moved so far (this run) */
    long long total;      /* keys the source holds in the partition (estimate) */
    long long started_ms;
    int inflight;         /* a batch request or the final exchanges are out */
    int exchanges;        /* final exchanges still running (+1 while starting them) */
    int exchange_failed;  /* one ended early with its peer still up: pull again */
    long long repaired;   /* keys the final exchanges moved (the stream's source lacked) */
} xfer;

static struct {
    struct event *tick;
    xfer *active;            /* the transfer under way (one at a time) */
    long long budget;        /* bytes this tick may still move */
    int dropping;            /* a drop (push, then delete) is under way */
    unsigned drop_partition;
    int drop_pending;        /* push exchanges still running */
    int drop_failed;
    int leaving_push;        /* LEAVING node: final pushes under way */
    int leaving_pending;
    int farewell;            /* this node is LEFT and said goodbye (the server stops) */
    int settled;             /* rings agreed at the last tick, markers cleared */
    uint64_t aware_hash;     /* the future ring every member was seen aware of ... */
    long long aware_ms;      /* ... since then (0: not every member is aware) */
    /* stats */
    long long transfers_done, keys_moved, bytes_moved, partitions_dropped;
} h;

static void metaKey(char *k, const char *prefix, unsigned p) {
    size_t l = strlen(prefix);
    memcpy(k, prefix, l);
    k[l] = (char)(p >> 8);
    k[l + 1] = (char)p;
}

static int isDone(unsigned p) {
    char k[16];
    metaKey(k, META_XFER_DONE, p);
    storeValue v;
    int f = storeGet(CF_META, k, strlen(META_XFER_DONE) + 2, &v) > 0;
    if (f) storeValueFree(&v);
    return f;
}

static void markDone(unsigned p) {
    char d[16];
    metaKey(d, META_XFER_DONE, p);
    storePut(CF_META, d, strlen(META_XFER_DONE) + 2, "", 0);
}

static int contains(const int *l, int n, int m) {
    for (int i = 0; i < n; i++)
        if (l[i] == m) return 1;
    return 0;
}

/* A partition the future ring gives this node and the current does not. */
static int isGain(unsigned p) {
    int cur[64], fut[64];
    int nc = gossipOwners(p, cur), nf = gossipFutureOwners(p, fut);
    return contains(fut, nf, gossipSelf()) && !contains(cur, nc, gossipSelf());
}

/* ------------------------------------------------------------- transfers */

static void xferFree(xfer *x) {
    bufFree(&x->cursor);
    zfree(x);
}

static void requestBatch(xfer *x);
static void startTransfer(unsigned p);
static void exchangeWithOwners(xfer *x);

static void batchAnswered(const busResult *res, void *pd) {
    int ok = res->status == BUS_OK;
    const redisReply *reply = res->reply;
    const char *err = res->errstr;
    xfer *x = pd;
    x->inflight = 0;
    if (h.active != x) { /* abandoned (the ring changed) */
        xferFree(x);
        return;
    }
    if (!ok || reply->elements < 5 || (reply->elements - 5) % 2 != 0) {
        memberInfo src;
        gossipMemberInfo(x->source, &src);
        serverLog(LL_VERBOSE, "Transfer of partition %u from %s:%d interrupted: %s; will resume",
                  x->partition, src.host, src.port, err[0] ? err : "bad answer");
        h.active = NULL;
        xferFree(x);
        return;
    }
    const redisReply *next = reply->element[3];
    long long total;
    if (string2ll(reply->element[4]->str, reply->element[4]->len, &total)) x->total = total;
    for (size_t i = 5; i + 1 < reply->elements; i += 2) {
        const redisReply *sk = reply->element[i], *rv = reply->element[i + 1];
        int db;
        const char *key;
        size_t klen;
        record rec;
        recordInit(&rec);
        if (collKeyKind(sk->str, sk->len) > COLLKEY_RECORD) /* a collection's state */
            dbApplyRaw(sk->str, sk->len, rv->str, rv->len, NULL, NULL);
        else if (keyDecode(sk->str, sk->len, NULL, &db, &key, &klen) == C_OK &&
                 recordDecode(&rec, rv->str, rv->len) == C_OK && (rec.n > 0 || rec.ctr))
            dbApply(db, key, klen, &rec, rv->str, rv->len, NULL, NULL);
        recordFree(&rec);
        x->keys++;
        x->bytes += (long long)(sk->len + rv->len);
        h.keys_moved++;
        h.bytes_moved += (long long)(sk->len + rv->len);
        h.budget -= (long long)(sk->len + rv->len);
    }
    /* the cursor goes into the same batch as the data it follows */
    char k[16];
    metaKey(k, META_XFER, x->partition);
    if (next->len == 0) {
        /* the cursor stays until the exchanges are done too: pulled again
         * after a restart, the stream is empty and they run again */
        exchangeWithOwners(x);
        return;
    }
    bufClear(&x->cursor);
    bufAppend(&x->cursor, next->str, next->len);
    storePut(CF_META, k, strlen(META_XFER) + 2, next->str, next->len);
    if (h.budget > 0) requestBatch(x); /* else the tick continues it */
}

/* The end of one final exchange (called by aae.c, or at once when its peer
 * is unreachable). */
static void xferExchanged(int ok, long long keys, void *pd) {
    xfer *x = pd;
    if (!ok) {
        int cur[64], n = gossipOwners(x->partition, cur), up = 0;
        for (int i = 0; i < n; i++) up += cur[i] != gossipSelf() && gossipMemberReachable(cur[i]);
        if (up) x->exchange_failed = 1; /* some owner answers: do not call it complete */
    }
    x->repaired += keys;
    if (--x->exchanges > 0) return;
    x->inflight = 0;
    if (h.active != x) { /* abandoned meanwhile (the ring changed) */
        xferFree(x);
        return;
    }
    h.active = NULL;
    if (x->exchange_failed) {
        serverLog(LL_NOTICE, "Partition %u: an exchange with a current owner was cut short; "
                             "pulling it again",
                  x->partition);
        xferFree(x);
        return;
    }
    char k[16];
    metaKey(k, META_XFER, x->partition);
    storeDelete(CF_META, k, strlen(META_XFER) + 2);
    markDone(x->partition);
    h.transfers_done++;
    memberInfo src;
    gossipMemberInfo(x->source, &src);
    serverLog(LL_NOTICE, "Partition %u received from %s:%d: %lld keys, %lld bytes in %lld ms "
                         "(%lld more keys from the other owners)",
              x->partition, src.host, src.port, x->keys, x->bytes,
              mstime() - x->started_ms, x->repaired);
    xferFree(x);
    /* on to the next partition now, not at the next tick (a node with
     * many small partitions to receive would wait a tick for each) */
    if (h.budget > 0 && gossipChanging()) {
        for (unsigned p = 0; p < (unsigned)server.ring_partitions && !h.active; p++)
            if (isGain(p) && !isDone(p)) startTransfer(p);
    }
}

/* The stream came from one current owner, which may lack a write that W
 * others acknowledged (W < N). If the future ring changes more than one of
 * the partition's replicas, every new one could have streamed from such an
 * owner, and a read of R new ones would miss that write. So once the stream
 * is in, this node runs an anti-entropy exchange with every other reachable
 * current owner: it then holds the union of what they hold, which contains
 * every acknowledged write (cost: the differences only). Riak avoids the
 * question by handing each replica over 1:1 from the one it replaces;
 * bounded loads do not pair replicas that way. */
static void exchangeWithOwners(xfer *x) {
    x->inflight = 1;
    x->exchanges = 1; /* held while starting them: an exchange may end at once */
    int cur[64], n = gossipOwners(x->partition, cur);
    for (int i = 0; i < n; i++) {
        if (cur[i] == gossipSelf() || cur[i] == x->source || !gossipMemberReachable(cur[i])) continue;
        x->exchanges++;
        aaeExchange(x->partition, cur[i], 0, xferExchanged, x);
    }
    xferExchanged(1, 0, x);
}

static void requestBatch(xfer *x) {
    if (!gossipMemberReachable(x->source)) {
        h.active = NULL;
        xferFree(x);
        return;
    }
    busArgs args; /* XFER partition cursor max-keys */
    busArgsInit(&args);
    busArgsStr(&args, "XFER");
    busArgsInt(&args, x->partition);
    busArgsBytes(&args, x->cursor.ptr, x->cursor.len);
    busArgsInt(&args, BATCH_KEYS);
    x->inflight = 1;
    busArgsSend(&args, gossipMemberLink(x->source), batchAnswered, x, 10 * server.replica_timeout);
}

static void startTransfer(unsigned p) {
    int cur[64];
    int nc = gossipOwners(p, cur), source = -1;
    for (int i = 0; i < nc && source < 0; i++)
        if (cur[i] != gossipSelf() && gossipMemberReachable(cur[i])) source = cur[i];
    if (source < 0) return; /* owners unreachable: try again later */
    xfer *x = zcalloc(sizeof(*x));
    x->partition = p;
    x->source = source;
    x->started_ms = mstime();
    bufInit(&x->cursor);
    char k[16];
    metaKey(k, META_XFER, p);
    storeValue v;
    if (storeGet(CF_META, k, strlen(META_XFER) + 2, &v) > 0) {
        bufAppend(&x->cursor, v.ptr, v.len); /* resume */
        storeValueFree(&v);
        serverLog(LL_NOTICE, "Resuming the transfer of partition %u", p);
    }
    h.active = x;
    requestBatch(x);
}

/* XFER id partition cursor maxkeys -> next total [skey record]... */
static void xferHandler(busReq *req) {
    long long p, maxkeys;
    if (req->argc < 5 || !string2ll(req->argv[2], req->lens[2], &p) || p < 0 ||
        p >= server.ring_partitions || !string2ll(req->argv[4], req->lens[4], &maxkeys) ||
        maxkeys < 1) {
        busReplyError(req, "XFER malformed");
        return;
    }
    unsigned char start[3] = {(unsigned char)(p >> 8), (unsigned char)p, 0};
    storeIter *it = storeIterCreate(CF_DATA);
    if (req->lens[3]) storeIterSeek(it, req->argv[3], req->lens[3]);
    else storeIterSeek(it, (const char *)start, 3);
    /* the cursor is the last key the receiver applied: skip it */
    if (req->lens[3] && storeIterValid(it)) {
        size_t kl;
        const char *k = storeIterKey(it, &kl);
        if (kl == req->lens[3] && !memcmp(k, req->argv[3], kl)) storeIterNext(it);
    }
    int cap = 2 + 2 * (int)maxkeys, n = 2;
    const char **av = zmalloc(sizeof(char *) * (size_t)cap);
    size_t *al = zmalloc(sizeof(size_t) * (size_t)cap);
    buf data; /* copies: the iterator's slices move on */
    bufInit(&data);
    size_t *offs = zmalloc(sizeof(size_t) * (size_t)cap);
    size_t bytes = 0;
    int more = 0;
    for (; storeIterValid(it); storeIterNext(it)) {
        size_t kl, vl;
        const char *k = storeIterKey(it, &kl);
        unsigned slot;
        if (keyDecode(k, kl, &slot, NULL, NULL, NULL) != C_OK || (long long)(slot >> 8) != p) break;
        if (n - 2 >= 2 * maxkeys || bytes >= BATCH_BYTES) {
            more = 1;
            break;
        }
        const char *v = storeIterValue(it, &vl);
        offs[n] = data.len;
        bufAppend(&data, k, kl);
        al[n++] = kl;
        offs[n] = data.len;
        bufAppend(&data, v, vl);
        al[n++] = vl;
        bytes += kl + vl;
    }
    storeIterFree(it);
    for (int i = 2; i < n; i++) av[i] = data.ptr + offs[i];
    /* next: the last key sent, or "" when the partition is done */
    av[0] = more && n > 2 ? av[n - 2] : "";
    al[0] = more && n > 2 ? al[n - 2] : 0;
    long long total = 0;
    for (int d = 0; d < server.databases; d++) total += dbPartitionKeys(d, (unsigned)p);
    char tb[24];
    snprintf(tb, sizeof(tb), "%lld", total);
    av[1] = tb;
    al[1] = strlen(tb);
    busReplyArgs(req, n, av, al);
    zfree(offs);
    bufFree(&data);
    zfree(av);
    zfree(al);
}

/* ------------------------------------------------------------------ drops */

/* When a replica write last arrived, per partition (ms). A coordinator that
 * already knows of a ring change sends writes to the partition's future
 * owners; one of them may not have heard of the change yet, see data in a
 * partition it does not own, and drop it, to pull it again moments later.
 * Such a partition waits DROP_QUIET_MS after its last write. */
#define DROP_QUIET_MS 5000
static long long *lastWrite;

void handoffNoteWrite(unsigned p) {
    if (!lastWrite) lastWrite = zcalloc(sizeof(long long) * 65536);
    lastWrite[p & 65535] = mstime();
}

static int recentlyWritten(unsigned p) {
    return lastWrite && mstime() - lastWrite[p & 65535] < DROP_QUIET_MS;
}

/* Any stored key (data) in partition p? */
static int holdsData(unsigned p) {
    unsigned char start[3] = {(unsigned char)(p >> 8), (unsigned char)p, 0};
    storeIter *it = storeIterCreate(CF_DATA);
    storeIterSeek(it, (const char *)start, 3);
    int has = 0;
    if (storeIterValid(it)) {
        size_t kl;
        const char *k = storeIterKey(it, &kl);
        unsigned slot;
        has = keyDecode(k, kl, &slot, NULL, NULL, NULL) == C_OK && (slot >> 8) == p;
    }
    storeIterFree(it);
    return has;
}

static void dropNow(unsigned p) {
    unsigned char a[3] = {(unsigned char)(p >> 8), (unsigned char)p, 0};
    unsigned char b[3] = {(unsigned char)((p + 1) >> 8), (unsigned char)(p + 1), 0};
    if (p + 1 < 65536) {
        storeDeleteRange(CF_DATA, (const char *)a, 3, (const char *)b, 3);
    } else { /* the very last partition has no upper bound key: one by one */
        storeIter *it = storeIterCreate(CF_DATA);
        for (storeIterSeek(it, (const char *)a, 3); storeIterValid(it); storeIterNext(it)) {
            size_t kl;
            const char *k = storeIterKey(it, &kl);
            storeDelete(CF_DATA, k, kl);
        }
        storeIterFree(it);
    }
    dbPartitionDropped(p);
    char d[16];
    metaKey(d, META_XFER_DONE, p);
    storeDelete(CF_META, d, strlen(META_XFER_DONE) + 2);
    h.partitions_dropped++;
    serverLog(LL_NOTICE, "Partition %u handed over to its owners and dropped here", p);
}

static void dropPushed(int ok, long long keys, void *pd) {
    UNUSED(keys);
    UNUSED(pd);
    if (!ok) h.drop_failed = 1;
    if (--h.drop_pending > 0) return;
    unsigned p = h.drop_partition;
    h.dropping = 0;
    int owners[64];
    int n = gossipOwners(p, owners);
    /* still not ours, nothing failed, ring unchanged meanwhile: drop */
    if (!h.drop_failed && !contains(owners, n, gossipSelf()) && !gossipChanging() &&
        !recentlyWritten(p))
        dropNow(p);
}

/* Pushes what p's owners lack, then drops p (in dropPushed). */
static int startDrop(unsigned p) {
    int owners[64];
    int n = gossipOwners(p, owners);
    if (n == 0) return 0;
    for (int i = 0; i < n; i++)
        if (!gossipMemberReachable(owners[i])) return 0; /* wait for every owner */
    h.dropping = 1;
    h.drop_partition = p;
    h.drop_failed = 0;
    h.drop_pending = n;
    for (int i = 0; i < n; i++) aaeExchange(p, owners[i], 1, dropPushed, NULL);
    return 1;
}

/* ---------------------------------------------------------------- leaving */

static void leavePushed(int ok, long long keys, void *pd) {
    UNUSED(ok);
    UNUSED(keys);
    UNUSED(pd);
    if (--h.leaving_pending > 0) return;
    h.leaving_push = 0;
    if (!gossipAllSynced()) return;
    gossipSetSelfStatus(MEMBER_LEFT);
    storeCommit();
    serverLog(LL_WARNING, "This node has left the cluster: its partitions are with their new "
                          "owners. Shutting down.");
    h.farewell = 1;
    gossipFarewell();
}

/* A LEAVING node, once everyone holds the future ring: push the
 * differences of every partition to its future owners, then leave. */
static void finishLeaving(void) {
    h.leaving_push = 1;
    h.leaving_pending = 1;
    for (unsigned p = 0; p < (unsigned)server.ring_partitions; p++) {
        if (!holdsData(p)) continue;
        int fut[64];
        int n = gossipFutureOwners(p, fut);
        for (int i = 0; i < n; i++) {
            if (fut[i] == gossipSelf()) continue;
            h.leaving_pending++;
            aaeExchange(p, fut[i], 1, leavePushed, NULL);
        }
    }
    leavePushed(1, 0, NULL);
}

/* ------------------------------------------------------------------ tick */

/* May this node pull its gains now? Only once every member that is up knows
 * the future ring, and replica-timeout (plus a margin) after it first saw
 * that: a write coordinated by a node that did not know yet went to the
 * current owners only, and must be in the source's data before the stream
 * passes its key. Such a write's bus requests expire replica-timeout after
 * they were sent, and a replica refuses them after that (bus.c, LATE). */
#define PULL_MARGIN_MS 200
static int pullAllowed(void) {
    uint64_t fh = gossipFutureHash();
    if (!gossipAllAware(NULL)) {
        h.aware_ms = 0;
        return 0;
    }
    if (h.aware_ms == 0 || h.aware_hash != fh) {
        h.aware_hash = fh;
        h.aware_ms = mstime();
    }
    return mstime() - h.aware_ms >= server.replica_timeout + PULL_MARGIN_MS;
}

static unsigned dropScan; /* next partition to look at for drops */


static void tick(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    /* a token bucket: a batch bigger than one tick's share (the XFER asks
     * for keys, not bytes) leaves a debt the next ticks pay back, so that
     * handoff-rate holds on average instead of one batch per tick at least */
    long long per_tick = server.handoff_rate * TICK_MS / 1000;
    if (per_tick < 1) per_tick = 1;
    h.budget += per_tick;
    if (h.budget > per_tick) h.budget = per_tick;
    if (!gossipKnowsCluster()) return; /* a new node has not heard of the others yet */
    int status = gossipSelfStatus();
    if (status == MEMBER_LEFT) {
        /* the cluster made us left (we were forgotten, or gone too long
         * while leaving): our partitions are with their new owners */
        if (!h.farewell) {
            h.farewell = 1;
            storeCommit();
            serverLog(LL_WARNING, "The cluster lists this node as left (it was forgotten, or "
                                  "away while leaving): it owns nothing. Shutting down.");
            gossipFarewell();
        }
        return;
    }
    if (gossipChanging()) {
        h.settled = 0;
        int may_pull = pullAllowed();
        /* pull gains, one transfer at a time */
        int pending = 0;
        for (unsigned p = 0; p < (unsigned)server.ring_partitions; p++) {
            if (!isGain(p) || isDone(p)) continue;
            int cur[64];
            if (gossipOwners(p, cur) == 0) {
                /* nobody owns it yet (a new cluster): nothing was ever
                 * written to it, nothing to pull or wait for */
                markDone(p);
                continue;
            }
            pending++;
            if (may_pull && !h.active && h.budget > 0) startTransfer(p);
        }
        if (h.active && !h.active->inflight && h.budget > 0) requestBatch(h.active);
        if (h.active && !isGain(h.active->partition)) {
            /* the ring changed under the transfer: abandon it (the data
             * received so far stays until a drop cleans it up) */
            if (!h.active->inflight) xferFree(h.active);
            h.active = NULL;
        }
        if (pending == 0) gossipSetSynced(gossipFutureHash());
        if (status == MEMBER_JOINING && pending == 0 && gossipAllSynced())
            gossipSetSelfStatus(MEMBER_NORMAL);
        if (pending == 0 && gossipAllSynced()) gossipRetireGone();
        if (status == MEMBER_LEAVING && pending == 0 && gossipAllSynced() && !h.leaving_push)
            finishLeaving();
        return;
    }
    gossipSetSynced(gossipFutureHash());
    if (!h.settled) {
        /* The rings agree: the markers of the change that ended (pulled
         * partitions, cursors) mean nothing for the next one. Left behind
         * (e.g. the "nothing to pull" marks of a cluster formed together,
         * or a partition received, then lost with no data to drop), a
         * later gain of that partition would be skipped as done, and the
         * node would call itself synced without its data. */
        char k[16];
        for (unsigned p = 0; p < (unsigned)server.ring_partitions; p++) {
            metaKey(k, META_XFER_DONE, p);
            storeDelete(CF_META, k, strlen(META_XFER_DONE) + 2);
            metaKey(k, META_XFER, p);
            storeDelete(CF_META, k, strlen(META_XFER) + 2);
        }
        if (h.active) { /* the change ended under it */
            if (!h.active->inflight) xferFree(h.active);
            h.active = NULL;
        }
        h.settled = 1;
    }
    if (status == MEMBER_JOINING) gossipSetSelfStatus(MEMBER_NORMAL); /* nothing to wait for */
    if (status == MEMBER_LEAVING && !h.leaving_push) finishLeaving();
    /* drops: a few partitions per tick */
    if (h.dropping) return;
    for (int i = 0; i < 8; i++) {
        unsigned p = dropScan++ % (unsigned)server.ring_partitions;
        int owners[64];
        int n = gossipOwners(p, owners);
        if (n == 0 || contains(owners, n, gossipSelf()) || recentlyWritten(p) || !holdsData(p))
            continue;
        if (startDrop(p)) return;
    }
}

void handoffInit(void) {
    busRegister("XFER", xferHandler);
    h.tick = event_new(server.base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(h.tick, &tv);
}

int handoffActive(void) { return h.active != NULL; }

int handoffProgress(unsigned *partition, long long *keys, long long *total, int *remaining) {
    *remaining = 0;
    if (gossipChanging())
        for (unsigned p = 0; p < (unsigned)server.ring_partitions; p++)
            if (isGain(p) && !isDone(p)) (*remaining)++;
    if (!h.active) return 0;
    *partition = h.active->partition;
    *keys = h.active->keys;
    *total = h.active->total;
    return 1;
}

void handoffStatus(buf *out) {
    int gains = 0;
    if (gossipChanging())
        for (unsigned p = 0; p < (unsigned)server.ring_partitions; p++)
            if (isGain(p) && !isDone(p)) gains++;
    if (h.active) {
        xfer *x = h.active;
        long long el = mstime() - x->started_ms;
        long long pct = x->total > 0 ? x->keys * 100 / x->total : 0;
        if (pct > 100) pct = 100;
        long long eta = x->keys > 0 && x->total > x->keys ? (x->total - x->keys) * el / x->keys : 0;
        memberInfo src;
        gossipMemberInfo(x->source, &src);
        bufPrintf(out,
                  "transfer: partition %u from %s:%d, %lld of ~%lld keys (%lld%%), %lld bytes, "
                  "ETA %lld ms\n",
                  x->partition, src.host, src.port, x->keys, x->total, pct,
                  x->bytes, eta);
    }
    int unaware = 0;
    if (gossipChanging() && !gossipAllAware(&unaware))
        bufPrintf(out, "transfers: waiting for %d node(s) to learn the membership change before "
                       "pulling %d partitions\n",
                  unaware, gains);
    else if (gossipChanging())
        bufPrintf(out, "transfers: %d partitions still to receive here; membership change %s\n",
                  gains, gossipAllSynced() ? "ready to complete" : "in progress");
    else if (!h.active)
        bufPrintf(out, "transfers: none\n");
    if (h.dropping) bufPrintf(out, "handoff: pushing partition %u to its owners before dropping it\n",
                              h.drop_partition);
}

void handoffInfo(buf *out) {
    bufPrintf(out, "ring_transfers_active:%d\r\nring_changing:%d\r\n", h.active ? 1 : 0,
              gossipChanging());
    bufPrintf(out, "handoff_transfers_done:%lld\r\nhandoff_keys:%lld\r\nhandoff_bytes:%lld\r\n",
              h.transfers_done, h.keys_moved, h.bytes_moved);
    bufPrintf(out, "handoff_partitions_dropped:%lld\r\n", h.partitions_dropped);
}
