/* read.c -- a read at its coordinator: ask the key's replicas (this node's
 * own copy is read directly), answer after the read level is met with the
 * merge of what they returned, and once every asked replica has answered
 * or timed out, send the merge to those that returned something different
 * (read repair: the target merges it again, nothing is ever overwritten).
 *
 * API: readStart (read.h), called by coord.c.
 *
 * Fan-out (read-fanout): "all" and the levels counted per data center ask
 * every replica at once; "needed" asks this node's copy and as many
 * reachable replicas as the level needs, and holds the others back
 * (QUORUM_HELD) until one fails or read-retry-ms passes. A failed replica
 * is replaced by a held-back one, else (sloppy quorum) by a fallback that
 * is asked for its hint of the key.
 *
 * States of a readOp, and the function that moves it:
 *
 *   readStart --> ASKING: r set; targets pending or held back
 *   ASKING --readProgress(verdict met or lost)--> ANSWERED: cb ran, r NULL
 *   ASKING --readProgress(waiting, nothing in flight)--> readAskRest: every
 *             held-back replica is asked, still ASKING
 *   ASKING --readRetry (read-retry-ms)--> readAskRest
 *   ANSWERED --readProgress(last answer in)--> readRepair, readFree
 *
 * A target: HELD --readAskHeldBack--> PENDING --readAnswered / readAsk
 * (local)--> OK | FAILED; FAILED --readFailed--> a held-back one or a
 * fallback PENDING.
 *
 * Invariants: op->outstanding counts the answers still to come plus the
 * holds the functions that ask take while asking, so an answer that
 * comes at once (a local read, an unreachable peer) never frees op under
 * its caller. The callback runs exactly once. */
#include "read.h"

#include <event2/event.h>
#include <stddef.h>
#include <string.h>

#include "busargs.h"
#include "clock.h"
#include "collstore.h"
#include "gossip.h"
#include "hints.h"
#include "metrics.h"
#include "target.h"
#include "write.h"

typedef struct readOp {
    request *r;          /* the client's request; NULL once answered */
    coordCallback *cb;   /* its continuation */
    void *pd;            /* cb's private data */
    int outstanding;     /* answers still to come, and holds while asking */
    int db;
    char *key;           /* owned */
    size_t klen;
    int level;           /* the read level, LEVEL_* or a count */
    int n;               /* targets: home replicas, then fallbacks */
    quorumTarget t[QUORUM_MAX_TARGETS];
    uint64_t digest[QUORUM_MAX_TARGETS]; /* of each target's answer (read repair) */
    record merged;       /* the merge of the answers; values owned */
    long long start_us;  /* for the latency histogram */
    struct event *retry; /* read-retry-ms: asks the held-back ones */
    int coll;            /* a replica said it holds a collection's metadata (coord.h) */
} readOp;

static void readAsk(readOp *op, int i);
static void readAskRest(readOp *op);

static void readFree(readOp *op) {
    if (op->retry) event_free(op->retry);
    recordFree(&op->merged);
    zfree(op->key);
    zfree(op);
}

/* Every answer is in: home replicas that returned something else than the
 * merge get it. Fallbacks are left alone (their hint goes to the owner). */
static void readRepair(readOp *op) {
    if ((op->merged.n == 0 && !op->merged.ctr) || quorumCount(op->t, op->n, QUORUM_OK) < 2)
        return; /* one answer: nothing to compare */
    uint64_t want = recordDigest(&op->merged);
    buf enc;
    bufInit(&enc);
    for (int i = 0; i < op->n; i++) {
        if (op->t[i].state != QUORUM_OK || op->t[i].owner >= 0 || op->digest[i] == want) continue;
        if (!enc.len) recordEncode(&op->merged, &enc);
        coordStats.read_repairs++;
        writeRepair(op->t[i].member, op->db, op->key, op->klen, &enc);
    }
    bufFree(&enc);
}

/* Answers the client: the merge, or the verdict's error. */
static void readAnswer(readOp *op, const quorumVerdict *v) {
    coordResult res = {v->status == QUORUM_MET, NULL, &op->merged, op->coll};
    char err[160];
    if (!res.ok) {
        res.err = quorumError(v, "answered", NULL, err, sizeof(err));
        coordStats.noquorum++;
    }
    request *r = op->r;
    op->r = NULL;
    metricsCoord(0, op->level, ustime() - op->start_us, res.ok);
    if (res.ok) {
        if (recordVisible(&op->merged, serverNowMs())) server.stat.keyspace_hits++;
        else server.stat.keyspace_misses++;
    }
    op->cb(r, &res, op->pd);
    requestRelease(r);
}

static void readProgress(readOp *op) {
    if (op->r) {
        quorumVerdict v = targetEval(op->level, op->t, op->n);
        if (v.status == QUORUM_WAITING && op->outstanding == 0 &&
            quorumCount(op->t, op->n, QUORUM_HELD)) {
            readAskRest(op); /* nothing in flight and not enough yet */
            return;
        }
        if (v.status != QUORUM_WAITING) readAnswer(op, &v);
    }
    if (!op->r && op->outstanding == 0) {
        readRepair(op);
        readFree(op);
    }
}

/* Asks the first held-back home replica; 0 if there was none. */
static int readAskHeldBack(readOp *op) {
    int i = targetTakeHeld(op->t, op->n);
    if (i < 0) return 0;
    readAsk(op, i);
    return 1;
}

/* Target i failed: a held-back replica is asked in its place, else (sloppy
 * quorum) a fallback for it. */
static void readFailed(readOp *op, int i) {
    quorumResult(&op->t[i], 0);
    if (!op->r) return;
    if (readAskHeldBack(op)) return;
    if (op->t[i].owner < 0) {
        int f = targetAddFallback(op->db, op->key, op->klen, op->t, &op->n, i);
        if (f >= 0) readAsk(op, f);
    }
}

/* Asks every held-back replica, then sees whether the read can answer. */
static void readAskRest(readOp *op) {
    op->outstanding++; /* hold the operation while asking */
    while (readAskHeldBack(op)) {}
    op->outstanding--;
    readProgress(op);
}

static void readRetry(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    readOp *op = arg;
    if (op->r) readAskRest(op);
}

/* Target i answered rec (digest: of its stored bytes). */
static void readGot(readOp *op, int i, const record *rec, uint64_t digest) {
    quorumResult(&op->t[i], 1);
    op->digest[i] = digest;
    recordMerge(&op->merged, rec, 1);
}

/* Called by bus.c with a replica's answer to GET / HGET: "0", or "1" and
 * the record. */
static void readAnswered(const busResult *res, void *pd) {
    int ok = res->status == BUS_OK;
    const redisReply *reply = res->reply;
    int i;
    readOp *op = targetRefTake(pd, &i);
    op->outstanding--;
    record rec;
    recordInit(&rec);
    if (ok && reply->elements >= 4 && reply->element[3]->len == 1 &&
        reply->element[3]->str[0] == '2')
        op->coll = 1;
    if (ok && reply->elements >= 4 && reply->element[3]->len == 1 &&
        (reply->element[3]->str[0] == '0' || reply->element[3]->str[0] == '2' ||
         (reply->element[3]->str[0] == '1' && reply->elements >= 5 &&
          recordDecode(&rec, reply->element[4]->str, reply->element[4]->len) == C_OK))) {
        for (int j = 0; j < rec.n; j++) clockObserve(rec.v[j].counter);
        readGot(op, i, &rec,
                reply->element[3]->str[0] == '1'
                    ? recordDigestRaw(reply->element[4]->str, reply->element[4]->len)
                    : 0);
    } else {
        op->outstanding++; /* asking another one must not free op */
        readFailed(op, i);
        op->outstanding--;
    }
    recordFree(&rec);
    readProgress(op);
}

/* This node is target i: its stored copy, or for a fallback its hint. */
static void readLocal(readOp *op, int i) {
    quorumTarget *t = &op->t[i];
    record rec;
    recordInit(&rec);
    storeValue hold;
    int found;
    uint64_t digest;
    if (t->owner < 0) { /* the stored bytes: decoded, and digested as they are */
        found = dbReadRaw(op->db, op->key, op->klen, &hold);
        if (found > 0 && recordDecode(&rec, hold.ptr, hold.len) != C_OK) {
            storeValueFree(&hold);
            found = -1;
        }
        digest = found > 0 ? recordDigestRaw(hold.ptr, hold.len) : 0;
        if (found == 0 && collStoreHasMeta(op->db, op->key, op->klen)) op->coll = 1;
    } else {
        found = hintsRead(targetMemberId(t->owner), op->db, op->key, op->klen, &rec, &hold);
        digest = found > 0 ? recordDigest(&rec) : 0;
    }
    op->digest[i] = digest;
    if (found < 0) readFailed(op, i);
    else readGot(op, i, &rec, digest);
    recordFree(&rec);
    if (found > 0) storeValueFree(&hold);
}

/* Asks target i (a home replica, or a fallback for its hint). */
static void readAsk(readOp *op, int i) {
    quorumTarget *t = &op->t[i];
    if (t->member == gossipSelf()) {
        readLocal(op, i);
        return;
    }
    if (!targetReachable(t->member)) {
        readFailed(op, i);
        return;
    }
    busArgs args;
    busArgsInit(&args);
    if (t->owner < 0) { /* GET db key */
        busArgsStr(&args, "GET");
    } else { /* HGET owner db key: the fallback's hint for the home replica */
        busArgsStr(&args, "HGET");
        busArgsStr(&args, targetMemberId(t->owner));
    }
    busArgsInt(&args, op->db);
    busArgsBytes(&args, op->key, op->klen);
    op->outstanding++;
    busArgsSend(&args, targetLink(t->member), readAnswered, targetRefNew(op, i), 0);
}

/* How many replicas a read asks at first: all of them (read-fanout all, or
 * a level counted per data center), else as many as the level needs. */
static int readFanout(readOp *op) { return targetReadFanout(op->t, op->n, op->level); }

/* read-fanout needed: this node's copy and the next reachable replicas in
 * preference order, ask in all, are asked; the others are held back until
 * one fails or read-retry-ms passes. */
static void readAskSome(readOp *op, int ask) {
    int pick[QUORUM_MAX_TARGETS];
    int np = targetPickReaders(op->t, op->n, ask, pick);
    for (int j = 0; j < np; j++) readAsk(op, pick[j]);
    for (; np < ask && readAskHeldBack(op); np++) {} /* too few reachable: fail fast */
    if (op->r) op->retry = targetRetryTimer(op->t, op->n, readRetry, op);
}

void readStart(request *r, int db, const char *key, size_t klen, coordCallback *cb, void *pd) {
    /* the 64 targets and digests (3 KB) are not zeroed: targetsJoint and
     * targetAddFallback write each target they add, and a digest is read
     * only for a target that answered (readGot wrote it) */
    readOp *op = zmalloc(sizeof(*op));
    memset(op, 0, offsetof(readOp, t));
    op->retry = NULL;
    op->coll = 0;
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    op->db = db;
    op->key = zmemdup(key, klen);
    op->klen = klen;
    recordInit(&op->merged);
    op->n = targetsJoint(db, key, klen, op->t);
    op->level = targetLevel(r, 0);
    op->start_us = ustime();
    r->pending++;
    coordStats.reads++;
    int home = op->n;
    op->outstanding++; /* hold the operation until every target was asked */
    int ask = readFanout(op);
    if (ask < home) {
        readAskSome(op, ask);
    } else {
        for (int i = 0; i < home; i++) readAsk(op, i);
    }
    op->outstanding--;
    readProgress(op);
}
