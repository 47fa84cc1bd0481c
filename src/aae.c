/* aae.c -- active anti-entropy: replicas compare Merkle trees and move
 * only the versions that differ, both ways.
 *
 * A pass walks the partitions this node replicates; for each, it compares
 * its tree with each other reachable home replica's: roots (well, the 256
 * leaves: 2 KB), then the (key, entry) lists of the differing buckets only,
 * then for each differing key sends its record to the peer (PUT) and
 * fetches the peer's (GET) to merge here. Records travel whole, clocks
 * included; each side merges, so nothing is ever "overwritten by the
 * newest" and a concurrent sibling always survives. The work of a pass
 * grows with the difference, not the data.
 *
 * Passes run every anti-entropy-interval seconds (0: only on demand) and on
 * RING REPAIR, one exchange at a time, at most anti-entropy-rate keys
 * repaired per second. A partition whose tree is not built yet (after a
 * crash) is built from the data first.
 *
 * API:
 *   aaeInit()            bus requests, the periodic timer
 *   aaeRepair(r, wait)   RING REPAIR: start a pass (answer when it ends if wait)
 *   aaeStatus(out)       RING STATUS lines
 *   aaeInfo(out)         INFO antientropy
 * Bus requests served: AAE_TREE partition, AAE_KEYS partition bucket. */
#include "aae.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "db.h"
#include "gossip.h"
#include "merkle.h"

#define TICK_MS 100

typedef struct waiter {
    request *r;
    struct waiter *next;
} waiter;

static struct {
    int running;              /* a pass is under way */
    unsigned partition;       /* current partition */
    int peer;                 /* index into the current partition's replica list */
    int busy;                 /* an exchange step is waiting for answers */
    long long pass_start_ms;
    long long pass_keys;      /* keys repaired in this pass */
    unsigned pass_partitions; /* partitions of this node in the pass */
    unsigned pass_done;       /* partitions finished */
    /* the exchange in progress */
    int peer_member;
    unsigned buckets[MERKLE_LEAVES];
    int nbuckets, bucket_idx;
    int key_ops;              /* record transfers in flight */
    /* stats */
    long long exchanges, keys_repaired, bytes_sent, passes, last_pass_end;
    long long budget;         /* keys this tick may still repair */
    struct event *timer;
    long long next_periodic_ms;
    waiter *waiters;          /* RING REPAIR requests waiting for the end */
} a;

static busLink *linkOfMember(int idx) {
    int n;
    return gossipMembers(&n)[idx].link;
}

static int reachableMember(int idx) {
    return idx == gossipSelf() ||
           (gossipMemberUp(idx) && busLinkConnected(linkOfMember(idx)));
}

/* Home replicas (member indexes) of partition p; sets *self_in. */
static int homeReplicas(unsigned p, int *out, int *self_in) {
    const ring *rg = gossipRing();
    *self_in = 0;
    if (!rg) return 0;
    const int *l;
    int n = ringReplicas(rg, p, &l);
    for (int i = 0; i < n; i++) {
        out[i] = gossipRingMemberIndex(l[i]);
        if (out[i] == gossipSelf()) *self_in = 1;
    }
    return n;
}

static void finishPass(void) {
    a.running = 0;
    a.passes++;
    a.last_pass_end = mstime();
    serverLog(LL_VERBOSE, "Anti-entropy pass done: %u partitions, %lld keys repaired in %lld ms",
              a.pass_done, a.pass_keys, a.last_pass_end - a.pass_start_ms);
    while (a.waiters) {
        waiter *w = a.waiters;
        a.waiters = w->next;
        char msg[160];
        snprintf(msg, sizeof(msg), "repaired %lld keys in %u partitions", a.pass_keys, a.pass_done);
        addReplyStatus(w->r, msg);
        requestRelease(w->r);
        zfree(w);
    }
}

static void step(void);

/* ------------------------------------------------------------ key moves */

typedef struct keyMove {
    int member; /* the peer */
} keyMove;

static void moveDone(void) {
    if (--a.key_ops == 0 && a.busy) {
        a.busy = 0;
        a.bucket_idx++;
        step();
    }
}

static void pushed(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(ok);
    UNUSED(reply);
    UNUSED(err);
    UNUSED(pd);
    moveDone();
}

static void appliedLocal(int ok, const char *err, void *pd) {
    UNUSED(ok);
    UNUSED(err);
    UNUSED(pd);
    moveDone();
}

typedef struct fetch {
    int db;
    buf key;
} fetch;

static void fetched(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(err);
    fetch *f = pd;
    int pending = 0;
    if (ok && reply->elements >= 5 && reply->element[3]->len == 1 &&
        reply->element[3]->str[0] == '1') {
        record rec;
        recordInit(&rec);
        if (recordDecode(&rec, reply->element[4]->str, reply->element[4]->len) == C_OK &&
            rec.n > 0 &&
            dbApply(f->db, f->key.ptr ? f->key.ptr : "", f->key.len, &rec, appliedLocal, NULL) ==
                C_OK)
            pending = 1;
        recordFree(&rec);
    }
    bufFree(&f->key);
    zfree(f);
    if (!pending) moveDone();
}

/* One differing key: ours to the peer, theirs to us. */
static void diffKey(const merkleKey *mine, const merkleKey *theirs, void *pd) {
    int peer = *(int *)pd;
    const merkleKey *k = mine ? mine : theirs;
    int db;
    const char *key;
    size_t klen;
    if (keyDecode(k->skey, k->sklen, NULL, &db, &key, &klen) != C_OK) return;
    char dbs[8];
    snprintf(dbs, sizeof(dbs), "%d", db);
    a.keys_repaired++;
    a.pass_keys++;
    a.budget--;
    if (mine) {
        storeValue v;
        if (dbReadRaw(db, key, klen, &v) > 0) {
            const char *argv[4] = {"PUT", dbs, key, v.ptr};
            size_t lens[4] = {3, strlen(dbs), klen, v.len};
            a.key_ops++;
            a.bytes_sent += (long long)v.len;
            busSend(linkOfMember(peer), 4, argv, lens, pushed, NULL, 0);
            storeValueFree(&v);
        }
    }
    if (theirs) {
        fetch *f = zmalloc(sizeof(*f));
        f->db = db;
        bufInit(&f->key);
        bufAppend(&f->key, key, klen);
        const char *argv[3] = {"GET", dbs, key};
        size_t lens[3] = {3, strlen(dbs), klen};
        a.key_ops++;
        busSend(linkOfMember(peer), 3, argv, lens, fetched, f, 0);
    }
}

static void keysAnswered(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(err);
    UNUSED(pd);
    merkleKey *theirs = NULL, *mine = NULL;
    long nt = -1;
    if (ok && reply->elements >= 4)
        nt = merkleKeyListDecode(reply->element[3]->str, reply->element[3]->len, &theirs);
    if (nt < 0) {
        /* the peer could not answer: skip the rest of this exchange */
        a.busy = 0;
        a.bucket_idx = a.nbuckets;
        step();
        return;
    }
    buf ml;
    bufInit(&ml);
    dbBucketKeys(a.partition, a.buckets[a.bucket_idx], &ml);
    long nm = merkleKeyListDecode(ml.ptr ? ml.ptr : "", ml.len, &mine);
    a.key_ops++; /* hold until every move is started */
    if (nm >= 0) merkleDiffKeys(mine, nm, theirs, nt, diffKey, &a.peer_member);
    zfree(mine);
    zfree(theirs);
    bufFree(&ml);
    moveDone();
}

static void treeAnswered(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(err);
    UNUSED(pd);
    a.busy = 0;
    merkle *mine = dbTree(a.partition);
    if (ok && reply->elements >= 4 && reply->element[3]->len == sizeof(mine->leaf) && mine) {
        a.exchanges++;
        a.nbuckets = merkleDiffLeaves(mine->leaf, (const uint64_t *)reply->element[3]->str,
                                      a.buckets);
        a.bucket_idx = 0;
    } else {
        a.nbuckets = 0;
    }
    step();
}

/* --------------------------------------------------------------- driver */

/* Advances the pass: the next bucket of the current exchange, else the
 * next peer, else the next partition. Returns when waiting on the bus or
 * out of budget (the tick resumes it). */
static void step(void) {
    while (a.running && !a.busy) {
        if (a.budget <= 0) return;
        if (a.peer_member >= 0 && a.bucket_idx < a.nbuckets) {
            if (!reachableMember(a.peer_member)) {
                a.bucket_idx = a.nbuckets;
                continue;
            }
            char ps[16], bs[8];
            snprintf(ps, sizeof(ps), "%u", a.partition);
            snprintf(bs, sizeof(bs), "%u", a.buckets[a.bucket_idx]);
            const char *argv[3] = {"AAE_KEYS", ps, bs};
            size_t lens[3] = {8, strlen(ps), strlen(bs)};
            a.busy = 1;
            busSend(linkOfMember(a.peer_member), 3, argv, lens, keysAnswered, NULL, 0);
            return;
        }
        /* next peer of this partition */
        int reps[64], self_in;
        int n = a.partition < (unsigned)server.ring_partitions
                    ? homeReplicas(a.partition, reps, &self_in)
                    : 0;
        a.peer_member = -1;
        a.nbuckets = 0;
        if (a.partition < (unsigned)server.ring_partitions && self_in) {
            while (a.peer < n && (reps[a.peer] == gossipSelf() || !reachableMember(reps[a.peer])))
                a.peer++;
            if (a.peer < n) {
                a.peer_member = reps[a.peer++];
                merkle *t = dbTree(a.partition);
                if (!t || !t->built) dbTreeBuild(a.partition);
                char ps[16];
                snprintf(ps, sizeof(ps), "%u", a.partition);
                const char *argv[2] = {"AAE_TREE", ps};
                size_t lens[2] = {8, strlen(ps)};
                a.busy = 1;
                busSend(linkOfMember(a.peer_member), 2, argv, lens, treeAnswered, NULL, 0);
                return;
            }
            a.pass_done++;
        }
        /* next partition */
        a.partition++;
        a.peer = 0;
        if (a.partition >= (unsigned)server.ring_partitions) {
            finishPass();
            return;
        }
    }
}

static void startPass(void) {
    if (a.running) return;
    a.running = 1;
    a.partition = 0;
    a.peer = 0;
    a.peer_member = -1;
    a.nbuckets = 0;
    a.busy = 0;
    a.pass_start_ms = mstime();
    a.pass_keys = 0;
    a.pass_done = 0;
    a.pass_partitions = 0;
    for (unsigned p = 0; p < (unsigned)server.ring_partitions; p++) {
        int reps[64], self_in;
        homeReplicas(p, reps, &self_in);
        if (self_in) a.pass_partitions++;
    }
    step();
}

static void tick(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    a.budget = server.aae_rate * TICK_MS / 1000;
    if (a.budget < 1) a.budget = 1;
    long long now = mstime();
    if (server.aae_interval > 0 && now >= a.next_periodic_ms) {
        a.next_periodic_ms = now + server.aae_interval * 1000;
        startPass();
    }
    if (a.running && !a.busy) step();
}

void aaeRepair(request *r, int wait) {
    startPass();
    if (!a.running) { /* finished at once (nothing to compare) */
        addReplyStatus(r, "repaired 0 keys");
        return;
    }
    if (!wait) {
        addReplyStatus(r, "repair started (RING STATUS shows progress)");
        return;
    }
    waiter *w = zmalloc(sizeof(*w));
    w->r = r;
    w->next = a.waiters;
    a.waiters = w;
    r->pending++;
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
    const char *av[1] = {(const char *)t->leaf};
    size_t al[1] = {sizeof(t->leaf)};
    busReplyArgs(req, 1, av, al);
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
    const char *av[1] = {l.ptr ? l.ptr : ""};
    size_t al[1] = {l.len};
    busReplyArgs(req, 1, av, al);
    bufFree(&l);
}

void aaeInit(void) {
    busRegister("AAE_TREE", treeHandler);
    busRegister("AAE_KEYS", keysHandler);
    a.peer_member = -1;
    /* the first periodic pass waits a full interval: let gossip settle */
    a.next_periodic_ms = mstime() + server.aae_interval * 1000;
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
    bufPrintf(out, "aae_trees_built:%lld\r\naae_interval:%lld\r\n", dbTreesBuilt(),
              server.aae_interval);
}
