/* write.c -- a write at its version coordinator: create the version
 * (db.c), store it here, send the whole record to the other replicas, and
 * answer once the write level is met by acknowledgements (this node's own
 * counts once its storage commit is done) or can no longer be.
 *
 * API: writeCoordinate (coord.c, forward.c), writeCoordinateFor (replica.c,
 * a COORD request), writeRepair (read.c); see write.h.
 *
 * A replica that is unreachable, fails or times out is replaced (sloppy
 * quorum) by a fallback, which keeps the record as a hint for it (HPUT;
 * hints.c delivers it later). While partitions move, the targets are the
 * current and the future owners, and the level must be met among each
 * (target.c, quorumEvalJoint): a node that already routes by the future
 * ring reads there, one that does not yet reads the current owners, and
 * both see every acknowledged write.
 * Acknowledgements after the answer are counted (late_acks).
 *
 * States of a putOp, and the function that moves it:
 *
 *   putNew --> writeHere --> STORING: the local commit and the replicas'
 *              PUTs in flight (or writeHere fails: putProgress answers)
 *   STORING --putProgress(verdict met or lost)--> ANSWERED: putAnswer ran
 *   ANSWERED --putProgress(last ack in)--> putFree
 *
 * A target: PENDING --putAcked--> OK | FAILED; a home replica FAILED
 * before the answer --putAcked / putSend--> a fallback PENDING.
 *
 * Invariants: op->outstanding counts the acknowledgements still to come
 * plus a hold while sending, so an ack that comes at once never frees op
 * under its sender. The answer is given exactly once, to the client (r)
 * or to the forwarding node (breq). */
#include "write.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "busargs.h"
#include "collstore.h"
#include "gossip.h"
#include "hints.h"
#include "metrics.h"
#include "target.h"

typedef struct putOp {
    request *r;        /* the client request, or NULL */
    coordCallback *cb; /* its continuation */
    void *pd;          /* cb's private data */
    int outstanding;   /* acknowledgements still to come, and holds */
    busReq *breq;      /* or: the COORD request we serve for another node */
    int answered;      /* putAnswer ran */
    int db;
    char *key;         /* owned */
    size_t klen;
    int level;         /* the write level, LEVEL_* or a count */
    int n;             /* targets: home replicas, then fallbacks */
    quorumTarget t[QUORUM_MAX_TARGETS];
    long long start_us;  /* for the latency histogram */
    char lasterr[160];   /* the last failure, for the error text */
    buf rec;           /* the record sent to replicas (kept for fallbacks), or the batch */
    int batch;         /* rec is a collection batch (collbatch.h): TPUT, no fallback */
} putOp;

static void putSend(putOp *op, int i);

static long forPeers; /* COORD writes coordinated here and not answered yet */

long writeForPeersInFlight(void) { return forPeers; }

static void sendRest(busArgs *a, int member, const char *owner, int db, const char *key,
                     size_t klen, const buf *rec, busReplyCb *cb, void *pd);

static putOp *putNew(int db, const char *key, size_t klen, int level) {
    /* the 64 targets (2.5 KB) are not zeroed: targetsJoint and
     * targetAddFallback write each one they add (zeroing them was 4% of a
     * coordinated write's instructions) */
    putOp *op = zmalloc(sizeof(*op));
    memset(op, 0, offsetof(putOp, t));
    op->lasterr[0] = '\0';
    bufInit(&op->rec);
    op->batch = 0;
    op->db = db;
    op->key = zmemdup(key, klen);
    op->klen = klen;
    op->level = level;
    op->n = targetsJoint(db, key, klen, op->t);
    op->start_us = ustime();
    return op;
}

static void putFree(putOp *op) {
    bufFree(&op->rec);
    zfree(op->key);
    zfree(op);
}

static void putAnswer(putOp *op, int ok, const char *err) {
    op->answered = 1;
    if (op->breq) {
        if (ok) busReplyOK(op->breq);
        else busReplyError(op->breq, err);
        op->breq = NULL;
        forPeers--;
        return;
    }
    request *r = op->r;
    op->r = NULL;
    metricsCoord(1, op->level, ustime() - op->start_us, ok);
    coordResult res = {ok, err, NULL, 0};
    op->cb(r, &res, op->pd);
    requestRelease(r);
}

static void putProgress(putOp *op) {
    if (!op->answered) {
        quorumVerdict v = targetEval(op->level, op->t, op->n);
        if (v.status == QUORUM_MET) {
            putAnswer(op, 1, NULL);
        } else if (v.status == QUORUM_LOST) {
            char err[320];
            quorumError(&v, "acknowledged the write", op->lasterr, err, sizeof(err));
            coordStats.noquorum++;
            putAnswer(op, 0, err);
        }
    }
    if (op->answered && op->outstanding == 0) putFree(op);
}

/* A target acknowledged (ok) or failed (err, for the client's error
 * text): every outcome but an acknowledgement counts as a failure here
 * (an unknown outcome may still land: a fallback then keeps a hint too,
 * and merges make the second copy harmless). */
static void putResult(targetRef *ref, int ok, const char *err) {
    int i;
    putOp *op = targetRefTake(ref, &i);
    op->outstanding--;
    quorumResult(&op->t[i], ok);
    if (ok) {
        if (op->answered) coordStats.late_acks++;
    } else {
        snprintf(op->lasterr, sizeof(op->lasterr), "%s", err && err[0] ? err : "failed");
        /* a replica that timed out or failed: a fallback keeps a hint */
        if (!op->answered && op->t[i].owner < 0 && op->rec.len && !op->batch) {
            int f = targetAddFallback(op->db, op->key, op->klen, op->t, &op->n, i);
            if (f >= 0) putSend(op, f);
        }
    }
    putProgress(op);
}

/* Called by bus.c with a replica's answer to PUT / HPUT. */
static void putAcked(const busResult *res, void *pd) {
    putResult(pd, res->status == BUS_OK, res->errstr);
}

/* Called by db.c / hints.c once this node's own write is committed. */
static void putLocalAcked(int ok, const char *err, void *pd) {
    if (ok) {
        putResult(pd, 1, NULL);
        return;
    }
    char e[160];
    snprintf(e, sizeof(e), "local storage: %s", err ? err : "failed");
    putResult(pd, 0, e);
}

/* PUT db key record, or for a fallback HPUT owner db key record. */
static void sendPut(int member, const char *owner, int db, const char *key, size_t klen,
                    const buf *rec, busReplyCb *cb, void *pd) {
    busArgs args;
    busArgsInit(&args);
    busArgsStr(&args, owner ? "HPUT" : "PUT");
    sendRest(&args, member, owner, db, key, klen, rec, cb, pd);
}

/* TPUT db key batch: a collection's deltas. */
static void sendBatch(int member, int db, const char *key, size_t klen, const buf *b,
                      busReplyCb *cb, void *pd) {
    busArgs args;
    busArgsInit(&args);
    busArgsStr(&args, "TPUT");
    sendRest(&args, member, NULL, db, key, klen, b, cb, pd);
}

static void sendRest(busArgs *a, int member, const char *owner, int db, const char *key,
                     size_t klen, const buf *rec, busReplyCb *cb, void *pd) {
    if (owner) busArgsStr(a, owner);
    busArgsInt(a, db);
    busArgsBytes(a, key, klen);
    busArgsBytes(a, rec->ptr, rec->len);
    busArgsSend(a, targetLink(member), cb, pd, 0);
}

static void ignoreReply(const busResult *res, void *pd) {
    UNUSED(res);
    UNUSED(pd);
}

static void ignoreLocal(int ok, const char *err, void *pd) {
    UNUSED(ok);
    UNUSED(err);
    UNUSED(pd);
}

void writeRepair(int member, int db, const char *key, size_t klen, const buf *enc) {
    if (member == gossipSelf()) {
        record rec;
        recordInit(&rec);
        if (recordDecode(&rec, enc->ptr, enc->len) == C_OK)
            dbApply(db, key, klen, &rec, enc->ptr, enc->len, ignoreLocal, NULL);
        recordFree(&rec);
        return;
    }
    if (!targetReachable(member)) return;
    sendPut(member, NULL, db, key, klen, enc, ignoreReply, NULL);
}

/* This node is a fallback: it keeps the record as a hint for owner. */
static void putHintHere(putOp *op, const char *owner, targetRef *ref) {
    record rec;
    recordInit(&rec);
    const char *err = "malformed record";
    if (recordDecode(&rec, op->rec.ptr, op->rec.len) != C_OK ||
        hintsStore(owner, op->db, op->key, op->klen, &rec, putLocalAcked, ref, &err) != C_OK) {
        recordFree(&rec);
        putResult(ref, 0, err);
        return;
    }
    recordFree(&rec);
}

/* Sends op->rec to target i: PUT to a home replica, or, for a fallback, a
 * hint for the replica it stands in for. An unreachable home replica gets
 * a fallback at once in sloppy mode. */
static void putSend(putOp *op, int i) {
    quorumTarget *t = &op->t[i];
    if (t->owner < 0 && !targetReachable(t->member)) {
        quorumResult(t, 0);
        if (op->batch) return; /* no hints for collections */
        int f = targetAddFallback(op->db, op->key, op->klen, op->t, &op->n, i);
        if (f >= 0) putSend(op, f);
        return;
    }
    targetRef *ref = targetRefNew(op, i);
    op->outstanding++;
    const char *owner = t->owner < 0 ? NULL : targetMemberId(t->owner);
    if (op->batch) sendBatch(t->member, op->db, op->key, op->klen, &op->rec, putAcked, ref);
    else if (owner && t->member == gossipSelf()) putHintHere(op, owner, ref);
    else sendPut(t->member, owner, op->db, op->key, op->klen, &op->rec, putAcked, ref);
}

/* Create, store, replicate. */
static void writeHere(putOp *op, const writeOp *w) {
    buf enc;
    bufInit(&enc);
    int self = -1;
    for (int i = 0; i < op->n; i++)
        if (op->t[i].member == gossipSelf()) self = i;
    targetRef *ref = targetRefNew(op, self);
    op->outstanding++;
    if (self < 0 ||
        dbCoordinate(op->db, op->key, op->klen, w, &enc, putLocalAcked, ref) != C_OK) {
        zfree(ref);
        op->outstanding--;
        if (self < 0)
            snprintf(op->lasterr, sizeof(op->lasterr), "this node does not own the key");
        else
            snprintf(op->lasterr, sizeof(op->lasterr), "local storage: %s", storeLastError());
        bufFree(&enc);
        /* no version was made, so nothing goes to any replica: the write
         * has failed everywhere (else the client would wait for ever) */
        for (int i = 0; i < op->n; i++) quorumResult(&op->t[i], 0);
        putProgress(op);
        return;
    }
    /* the whole record goes to the replicas, not only the new version */
    op->rec = enc;
    op->outstanding++; /* hold op while sending: an answer may come at once */
    int home = op->n;
    for (int i = 0; i < home; i++)
        if (i != self) putSend(op, i);
    op->outstanding--;
    putProgress(op);
}

/* Store the batch here if this node is a replica of the key, send it to
 * the other replicas. A coordinator that is no replica of the key (a
 * multi-key command's destination) only sends: a collection's deltas carry
 * their own dots, whoever makes them. */
static void writeBatchHere(putOp *op) {
    int self = -1;
    for (int i = 0; i < op->n; i++)
        if (op->t[i].member == gossipSelf()) self = i;
    op->outstanding++; /* hold op while sending: an answer may come at once */
    if (self >= 0) {
        targetRef *ref = targetRefNew(op, self);
        op->outstanding++;
        if (!storeWritable() ||
            collStoreApply(op->db, op->key, op->klen, op->rec.ptr, op->rec.len, putLocalAcked,
                           ref) != C_OK) {
            zfree(ref);
            op->outstanding--;
            snprintf(op->lasterr, sizeof(op->lasterr), "local storage: %s",
                     storeWritable() ? "malformed batch" : storeWriteError());
            for (int i = 0; i < op->n; i++) quorumResult(&op->t[i], 0);
            op->outstanding--;
            putProgress(op);
            return;
        }
    }
    for (int i = 0; i < op->n; i++)
        if (i != self) putSend(op, i);
    op->outstanding--;
    putProgress(op);
}

void writeCoordinateBatch(request *r, int db, const char *key, size_t klen, int level,
                          const char *batch, size_t blen, coordCallback *cb, void *pd) {
    putOp *op = putNew(db, key, klen, level);
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    op->batch = 1;
    bufAppend(&op->rec, batch, blen);
    writeBatchHere(op);
}

void writeCoordinate(request *r, int db, const char *key, size_t klen, int level,
                     const writeOp *w, coordCallback *cb, void *pd) {
    putOp *op = putNew(db, key, klen, level);
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    writeHere(op, w);
}

void writeCoordinateFor(busReq *req, int db, const char *key, size_t klen, int level,
                        const writeOp *w) {
    putOp *op = putNew(db, key, klen, level);
    /* An owner in either ring of this node's view: while partitions move,
     * the sender may already route by the future ring, or still by the
     * current one, a gossip round apart from us; whoever takes it writes to
     * both groups (joint quorum). Anyone else refuses, unapplied, and the
     * sender tries its next candidate. */
    int replica = 0;
    for (int i = 0; i < op->n; i++)
        if (op->t[i].member == gossipSelf()) replica = 1;
    if (!replica) {
        putFree(op);
        busReplyError(req, "-NOTREPLICA this node does not replicate that key (ring views differ)");
        return;
    }
    if (!storeWritable() || server.draining) {
        /* before any version is made: the sender tries the next replica */
        putFree(op);
        busReplyError(req, server.draining ? "-NOTCOORD this node is shutting down"
                                           : "-NOTCOORD this node's disk refuses writes");
        return;
    }
    op->breq = req;
    forPeers++;
    writeHere(op, w);
}
