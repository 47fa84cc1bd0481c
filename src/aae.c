/* aae.c -- active anti-entropy: replicas compare Merkle trees and move
 * only the versions that differ.
 *
 * An exchange compares this node's tree of one partition with one peer's:
 * the 256 leaves first (2 KB), then the (key, entry) lists of the
 * differing buckets only, then for each differing key sends its record to
 * the peer (PUT) and, unless the exchange is push-only, fetches the peer's
 * (GET) to merge here. Records travel whole, clocks included; each side
 * merges, so nothing is "overwritten by the newest" and a concurrent
 * sibling always survives. The work grows with the difference, not with
 * the data. A collection's states (metadata, elements, sketch: collkey.h)
 * are keys of the same buckets; a differing one moves by its storage key
 * (RPUT, RGET) and is merged by its own join on arrival.
 *
 * A pass runs an exchange for every partition this node replicates with
 * every other reachable replica of it, one at a time: every
 * anti-entropy-interval seconds (0: only on demand) and on RING REPAIR.
 * Handoff (handoff.c) runs push-only exchanges before a node drops a
 * partition it no longer owns. All exchanges share anti-entropy-rate: at
 * most that many keys moved per second; an exchange out of budget waits
 * for the next tick.
 *
 * API:
 *   aaeInit()                         bus requests, the periodic timer
 *   aaeExchange(p, peer, push, cb, pd)   one exchange; cb(ok, keys, pd) at its end
 *   aaeRepair(done, pd)               RING REPAIR: a pass now; done(keys, partitions, pd) at its end
 *   aaeStatus(out) / aaeInfo(out)     RING STATUS / INFO antientropy
 * Bus requests served: AAE_TREE partition, AAE_KEYS partition bucket. */
#include "aae.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "busargs.h"
#include "collkey.h"
#include "db.h"
#include "gossip.h"
#include "merkle.h"
#include "server.h"

#define TICK_MS 100

typedef struct exchange {
    unsigned partition;
    int peer;                          /* member index */
    int push;                          /* push-only: never fetch the peer's records */
    unsigned buckets[MERKLE_LEAVES];   /* differing buckets */
    int nbuckets, bucket_idx;
    int ops;                           /* record moves in flight (+1 while starting them) */
    int failed;                        /* the peer stopped answering */
    long long keys;                    /* keys moved */
    aaeDoneFn *done;
    void *pd;
    struct exchange *next;             /* in the list of exchanges waiting for budget */
} exchange;

/* Someone waiting for the end of the pass (RING REPAIR). */
typedef struct waiter {
    aaePassDoneFn *done; /* called once, at the end of the pass */
    void *pd;            /* its argument */
    struct waiter *next;
} waiter;

static struct {
    /* the pass */
    int running;
    unsigned partition;       /* current partition */
    int peer;                 /* next index into its replica list */
    long long pass_start_ms;
    long long pass_keys;
    unsigned pass_partitions; /* partitions of this node in the pass */
    unsigned pass_done;
    waiter *waiters;          /* callers of aaeRepair waiting for the end */
    /* budget */
    long long budget;         /* keys this tick may still move */
    exchange *parked;         /* exchanges waiting for budget */
    /* stats */
    long long exchanges, keys_repaired, bytes_sent, passes, last_pass_end, active;
    struct event *timer;
    long long next_periodic_ms;
} a;

/* ------------------------------------------------------------ exchanges */

static void exchangeStep(exchange *x);

static void exchangeEnd(exchange *x) {
    a.active--;
    a.exchanges++;
    aaeDoneFn *done = x->done;
    void *pd = x->pd;
    int ok = !x->failed;
    long long keys = x->keys;
    zfree(x);
    if (done) done(ok, keys, pd);
}

static void moveDone(exchange *x) {
    if (--x->ops == 0) {
        x->bucket_idx++;
        exchangeStep(x);
    }
}

static void pushed(const busResult *res, void *pd) {
    int ok = res->status == BUS_OK;
    exchange *x = pd;
    if (!ok) x->failed = 1;
    moveDone(x);
}

typedef struct fetch {
    exchange *x;
    int db;
    buf key;
} fetch;

static void appliedLocal(int ok, const char *err, void *pd) {
    UNUSED(ok);
    UNUSED(err);
    moveDone(pd);
}

static void fetched(const busResult *res, void *pd) {
    int ok = res->status == BUS_OK;
    const redisReply *reply = res->reply;
    fetch *f = pd;
    exchange *x = f->x;
    int later = 0;
    if (!ok) x->failed = 1;
    if (ok && reply->elements >= 5 && reply->element[3]->len == 1 &&
        reply->element[3]->str[0] == '1') {
        record rec;
        recordInit(&rec);
        if (recordDecode(&rec, reply->element[4]->str, reply->element[4]->len) == C_OK &&
            (rec.n > 0 || rec.ctr) &&
            dbApply(f->db, f->key.ptr ? f->key.ptr : "", f->key.len, &rec, reply->element[4]->str,
                    reply->element[4]->len, appliedLocal, x) == C_OK)
            later = 1; /* appliedLocal runs (maybe already ran) */
        recordFree(&rec);
    }
    bufFree(&f->key);
    zfree(f);
    if (!later) moveDone(x);
}

/* Called by bus.c with the peer's answer to RGET: "0", or "1" and the
 * state, merged here. */
typedef struct fetchState {
    exchange *x;
    buf skey; /* the storage key asked for */
} fetchState;

static void fetchedState(const busResult *res, void *pd) {
    fetchState *f = pd;
    exchange *x = f->x;
    const redisReply *reply = res->reply;
    int later = 0;
    if (res->status != BUS_OK) {
        x->failed = 1;
    } else if (reply->elements >= 5 && reply->element[3]->len == 1 &&
               reply->element[3]->str[0] == '1') {
        if (dbApplyRaw(f->skey.ptr, f->skey.len, reply->element[4]->str, reply->element[4]->len,
                       appliedLocal, x) == C_OK)
            later = 1; /* appliedLocal runs (maybe already ran) */
        else
            x->failed = 1;
    }
    bufFree(&f->skey);
    zfree(f);
    if (!later) moveDone(x);
}

/* One differing collection state (metadata, element, sketch: collkey.h),
 * moved by its storage key: ours to the peer (RPUT), theirs to us (RGET);
 * each side merges it with what it holds. */
static void diffState(exchange *x, const merkleKey *mine, const merkleKey *theirs) {
    if (mine) {
        storeValue v;
        if (storeGet(CF_DATA, mine->skey, mine->sklen, &v) > 0) {
            busArgs args; /* RPUT skey state */
            busArgsInit(&args);
            busArgsStr(&args, "RPUT");
            busArgsBytes(&args, mine->skey, mine->sklen);
            busArgsBytes(&args, v.ptr, v.len);
            x->ops++;
            a.bytes_sent += (long long)v.len;
            busArgsSend(&args, gossipMemberLink(x->peer), pushed, x, 0);
            storeValueFree(&v);
        }
    }
    if (theirs && !x->push) {
        busArgs args; /* RGET skey */
        busArgsInit(&args);
        busArgsStr(&args, "RGET");
        busArgsBytes(&args, theirs->skey, theirs->sklen);
        x->ops++;
        fetchState *f = zmalloc(sizeof(*f));
        f->x = x;
        bufInit(&f->skey);
        bufAppend(&f->skey, theirs->skey, theirs->sklen);
        busArgsSend(&args, gossipMemberLink(x->peer), fetchedState, f, 0);
    }
}

/* One differing key: ours to the peer, theirs to us. */
static void diffKey(const merkleKey *mine, const merkleKey *theirs, void *pd) {
    exchange *x = pd;
    const merkleKey *k = mine ? mine : theirs;
    int db;
    const char *key;
    size_t klen;
    if (keyDecode(k->skey, k->sklen, NULL, &db, &key, &klen) != C_OK) return;
    if (x->push && !mine) return;
    x->keys++;
    a.keys_repaired++;
    if (!x->push) a.pass_keys++;
    a.budget--;
    if (collKeyKind(k->skey, k->sklen) > COLLKEY_RECORD) {
        diffState(x, mine, theirs);
        return;
    }
    if (mine) {
        storeValue v;
        if (dbReadRaw(db, key, klen, &v) > 0) {
            busArgs args; /* PUT db key record */
            busArgsInit(&args);
            busArgsStr(&args, "PUT");
            busArgsInt(&args, db);
            busArgsBytes(&args, key, klen);
            busArgsBytes(&args, v.ptr, v.len);
            x->ops++;
            a.bytes_sent += (long long)v.len;
            busArgsSend(&args, gossipMemberLink(x->peer), pushed, x, 0);
            storeValueFree(&v);
        }
    }
    if (theirs && !x->push) {
        fetch *f = zmalloc(sizeof(*f));
        f->x = x;
        f->db = db;
        bufInit(&f->key);
        bufAppend(&f->key, key, klen);
        busArgs args; /* GET db key */
        busArgsInit(&args);
        busArgsStr(&args, "GET");
        busArgsInt(&args, db);
        busArgsBytes(&args, key, klen);
        x->ops++;
        busArgsSend(&args, gossipMemberLink(x->peer), fetched, f, 0);
    }
}

static void keysAnswered(const busResult *res, void *pd) {
    int ok = res->status == BUS_OK;
    const redisReply *reply = res->reply;
    exchange *x = pd;
    merkleKey *theirs = NULL, *mine = NULL;
    long nt = -1;
    if (ok && reply->elements >= 4)
        nt = merkleKeyListDecode(reply->element[3]->str, reply->element[3]->len, &theirs);
    if (nt < 0) {
        x->failed = 1;
        exchangeEnd(x);
        return;
    }
    buf ml;
    bufInit(&ml);
    dbBucketKeys(x->partition, x->buckets[x->bucket_idx], &ml);
    long nm = merkleKeyListDecode(ml.ptr ? ml.ptr : "", ml.len, &mine);
    x->ops = 1; /* held until every move is started */
    if (nm >= 0) merkleDiffKeys(mine, nm, theirs, nt, diffKey, x);
    zfree(mine);
    zfree(theirs);
    bufFree(&ml);
    moveDone(x);
}

static void treeAnswered(const busResult *res, void *pd) {
    int ok = res->status == BUS_OK;
    const redisReply *reply = res->reply;
    exchange *x = pd;
    merkle *mine = dbTree(x->partition);
    if (!ok || reply->elements < 4 || reply->element[3]->len != sizeof(mine->leaf)) {
        x->failed = 1;
        exchangeEnd(x);
        return;
    }
    x->nbuckets = merkleDiffLeaves(mine->leaf, (const uint64_t *)reply->element[3]->str, x->buckets);
    x->bucket_idx = 0;
    exchangeStep(x);
}

/* The next differing bucket, or the end. Waits for budget if out. */
static void exchangeStep(exchange *x) {
    if (x->failed || x->bucket_idx >= x->nbuckets) {
        exchangeEnd(x);
        return;
    }
    if (!gossipMemberReachable(x->peer)) {
        x->failed = 1;
        exchangeEnd(x);
        return;
    }
    if (a.budget <= 0) {
        x->next = a.parked;
        a.parked = x;
        return;
    }
    busArgs args; /* AAE_KEYS partition bucket */
    busArgsInit(&args);
    busArgsStr(&args, "AAE_KEYS");
    busArgsInt(&args, x->partition);
    busArgsInt(&args, x->buckets[x->bucket_idx]);
    busArgsSend(&args, gossipMemberLink(x->peer), keysAnswered, x, 0);
}

void aaeExchange(unsigned p, int peer, int push, aaeDoneFn *done, void *pd) {
    exchange *x = zcalloc(sizeof(*x));
    x->partition = p;
    x->peer = peer;
    x->push = push;
    x->done = done;
    x->pd = pd;
    a.active++;
    if (!gossipMemberReachable(peer) || peer == gossipSelf()) {
        x->failed = 1;
        exchangeEnd(x);
        return;
    }
    merkle *t = dbTree(p);
    if (!t || !t->built) dbTreeBuild(p);
    busArgs args; /* AAE_TREE partition */
    busArgsInit(&args);
    busArgsStr(&args, "AAE_TREE");
    busArgsInt(&args, p);
    busArgsSend(&args, gossipMemberLink(peer), treeAnswered, x, 0);
}

/* ------------------------------------------------------------------ pass */

static void passNext(void);

static void finishPass(void) {
    a.running = 0;
    a.passes++;
    a.last_pass_end = mstime();
    serverLog(LL_VERBOSE, "Anti-entropy pass done: %u partitions, %lld keys repaired in %lld ms",
              a.pass_done, a.pass_keys, a.last_pass_end - a.pass_start_ms);
    while (a.waiters) {
        waiter *w = a.waiters;
        a.waiters = w->next;
        w->done(a.pass_keys, a.pass_done, w->pd);
        zfree(w);
    }
}

static void passExchangeDone(int ok, long long keys, void *pd) {
    UNUSED(ok);
    UNUSED(keys);
    UNUSED(pd);
    passNext();
}

/* Starts the next exchange of the pass, or ends it. */
static void passNext(void) {
    while (a.running) {
        if (a.partition >= (unsigned)server.ring_partitions) {
            finishPass();
            return;
        }
        int reps[64];
        int n = gossipOwners(a.partition, reps), self_in = 0;
        for (int i = 0; i < n; i++)
            if (reps[i] == gossipSelf()) self_in = 1;
        if (self_in) {
            while (a.peer < n && (reps[a.peer] == gossipSelf() || !gossipMemberReachable(reps[a.peer])))
                a.peer++;
            if (a.peer < n) {
                int peer = reps[a.peer++];
                aaeExchange(a.partition, peer, 0, passExchangeDone, NULL);
                return;
            }
            a.pass_done++;
        }
        a.partition++;
        a.peer = 0;
    }
}

static void startPass(void) {
    if (a.running) return;
    a.running = 1;
    a.partition = 0;
    a.peer = 0;
    a.pass_start_ms = mstime();
    a.pass_keys = 0;
    a.pass_done = 0;
    a.pass_partitions = 0;
    for (unsigned p = 0; p < (unsigned)server.ring_partitions; p++) {
        int reps[64];
        int n = gossipOwners(p, reps);
        for (int i = 0; i < n; i++)
            if (reps[i] == gossipSelf()) a.pass_partitions++;
    }
    passNext();
}

static void tick(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    a.budget = server.aae_rate * TICK_MS / 1000;
    if (a.budget < 1) a.budget = 1;
    exchange *p = a.parked;
    a.parked = NULL;
    while (p) {
        exchange *next = p->next;
        exchangeStep(p);
        p = next;
    }
    long long now = mstime();
    if (server.aae_interval > 0 && now >= a.next_periodic_ms) {
        a.next_periodic_ms = now + server.aae_interval * 1000;
        startPass();
    }
}

int aaeRepair(aaePassDoneFn *done, void *pd) {
    startPass();
    if (!a.running) return 0; /* finished at once (nothing to compare) */
    if (done) {
        waiter *w = zmalloc(sizeof(*w));
        w->done = done;
        w->pd = pd;
        w->next = a.waiters;
        a.waiters = w;
    }
    return 1;
}

/* ------------------------------------------------------------ bus side */

static int parsePartition(busReq *req, int i, unsigned *p) {
    long long v;
    if (req->argc <= i || !string2ll(req->argv[i], req->lens[i], &v) || v < 0 ||
        v >= server.ring_partitions)
        return C_ERR;
    *p = (unsigned)v;
    return C_OK;
}

static void treeHandler(busReq *req) {
    unsigned p;
    if (parsePartition(req, 2, &p) != C_OK) {
        busReplyError(req, "AAE_TREE malformed");
        return;
    }
    merkle *t = dbTree(p);
    if (!t || !t->built) {
        dbTreeBuild(p);
        t = dbTree(p);
    }
    busArgs args;
    busArgsInit(&args);
    busArgsBytes(&args, (const char *)t->leaf, sizeof(t->leaf));
    busArgsReply(&args, req);
}

static void keysHandler(busReq *req) {
    unsigned p;
    long long b;
    if (parsePartition(req, 2, &p) != C_OK || req->argc < 4 ||
        !string2ll(req->argv[3], req->lens[3], &b) || b < 0 || b >= MERKLE_LEAVES) {
        busReplyError(req, "AAE_KEYS malformed");
        return;
    }
    buf l;
    bufInit(&l);
    dbBucketKeys(p, (unsigned)b, &l);
    busArgs args;
    busArgsInit(&args);
    busArgsBytes(&args, l.ptr, l.len);
    busArgsReply(&args, req);
    bufFree(&l);
}

void aaeInit(void) {
    busRegister("AAE_TREE", treeHandler);
    busRegister("AAE_KEYS", keysHandler);
    /* the first periodic pass waits a full interval: let gossip settle */
    a.next_periodic_ms = mstime() + server.aae_interval * 1000;
    a.budget = server.aae_rate * TICK_MS / 1000;
    a.timer = event_new(server.base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(a.timer, &tv);
}

static void fmtTime(long long ms, char *b, size_t len) {
    if (!ms) {
        snprintf(b, len, "never");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(b, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int aaeProgress(unsigned *done, unsigned *total, long long *keys) {
    *done = a.pass_done;
    *total = a.pass_partitions;
    *keys = a.pass_keys;
    return a.running;
}

void aaeStatus(buf *out) {
    char when[64];
    if (a.running) {
        unsigned pct = a.pass_partitions ? a.pass_done * 100 / a.pass_partitions : 100;
        bufPrintf(out,
                  "repair: running, %u of %u partitions (%u%%), %lld keys repaired, for %lld ms\n",
                  a.pass_done, a.pass_partitions, pct, a.pass_keys, mstime() - a.pass_start_ms);
    } else {
        fmtTime(a.last_pass_end, when, sizeof(when));
        bufPrintf(out, "repair: idle, last full pass %s\n", when);
    }
}

void aaeInfo(buf *out) {
    char when[64];
    fmtTime(a.last_pass_end, when, sizeof(when));
    bufPrintf(out, "aae_running:%d\r\naae_passes:%lld\r\naae_exchanges:%lld\r\n", a.running,
              a.passes, a.exchanges);
    bufPrintf(out, "aae_keys_repaired:%lld\r\naae_bytes_sent:%lld\r\n", a.keys_repaired,
              a.bytes_sent);
    bufPrintf(out, "aae_last_full_pass:%lld\r\naae_last_full_pass_time:%s\r\n",
              a.last_pass_end / 1000, when);
    bufPrintf(out, "aae_trees_built:%lld\r\naae_interval:%lld\r\naae_active_exchanges:%lld\r\n",
              dbTreesBuilt(), server.aae_interval, a.active);
}
