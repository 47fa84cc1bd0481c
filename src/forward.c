/* forward.c -- work this node sends to a key's version coordinator, the
 * first reachable replica of the key, so that versions are created by
 * replicas only and every read-modify-write of a key runs in one place.
 *
 * API: forwardWrite (coord.c), forwardCommand (client.c); see forward.h.
 * The other side of both requests is replica.c.
 *
 * COORD db key W flags expire ctx value -> OK once W replicas acked; flags
 * are tombstone, context, counter delta ('0'/'1' each).
 * A forwardOp tries the candidates in preference order:
 *
 *   forwardWrite --> forwardTry: the next reachable candidate
 *     this node       --> write.c coordinates it (writeCoordinate); op freed
 *     another node    --> SENT: COORD in flight
 *     none left       --> answered -NOQUORUM; op freed
 *   SENT --forwardAnswered(the link was never up, or -NOTREPLICA)--> forwardTry
 *   SENT --forwardAnswered(anything else)--> answered; op freed
 * Only a request that cannot have been applied is tried again elsewhere.
 *
 * CMD db read-level write-level proto argv... -> the reply's RESP bytes.
 * A single-key read-modify-write (INCR, APPEND, SET NX...) runs at the
 * key's version coordinator, whose per-key lock (keylock.c) then orders it
 * with every other read-modify-write of the key, wherever its client is:
 * INCRs through different nodes do not read the same value. The receiving
 * node keeps its own lock meanwhile, so its client's pipeline stays in
 * order. forwardCommand --> SENT --cmdAnswered--> the reply's bytes, or
 * (never sent) the command runs here after all, or -NOQUORUM. */
#include "forward.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "busargs.h"
#include "commands.h"
#include "gossip.h"
#include "keylock.h"
#include "metrics.h"
#include "target.h"
#include "write.h"

typedef struct forwardOp {
    request *r;        /* the client's request (one pending count held) */
    coordCallback *cb; /* its continuation */
    void *pd;          /* cb's private data */
    int db;
    char *key;         /* owned */
    size_t klen;
    int level;         /* the client's write level, evaluated there */
    long long start_us;  /* for the latency histogram */
    /* the operation, kept to retry on the next replica */
    char *val;         /* owned; NULL for a tombstone */
    size_t vlen;
    int tombstone;
    int incr;          /* val is a counter delta (writeOp.incr) */
    int64_t expire;
    int hasctx;        /* ctx is the client's causal context */
    vclock ctx;
    quorumTarget t[QUORUM_MAX_TARGETS]; /* the candidates: the key's replicas */
    int n, next;       /* candidates and the next one to try */
    int refreshed;     /* times the candidates were recomputed (ring views moved) */
} forwardOp;

static void forwardFree(forwardOp *op) {
    zfree(op->key);
    zfree(op->val);
    vclockFree(&op->ctx);
    zfree(op);
}

static void forwardTry(forwardOp *op);

/* Answers the client and frees op. */
static void forwardDone(forwardOp *op, int ok, const char *err) {
    coordResult res = {ok, err, NULL, 0};
    op->cb(op->r, &res, op->pd);
    requestRelease(op->r);
    forwardFree(op);
}

/* Could the request have taken effect at the peer? Not if it was never
 * written to it, nor if the peer refused it unread: as not a replica of
 * the key (NOTREPLICA: its ring view differs from ours for a gossip round
 * while a node joins or leaves), as unable to write (NOTCOORD: its disk
 * refuses writes), or as arriving after our deadline (LATE).
 * Anything else (the link failed after it was written, no answer in time,
 * another error) may have applied it. */
static int forwardNotApplied(const busResult *res) {
    return res->status == BUS_NOT_SENT || busResultIs(res, "NOTREPLICA") ||
           busResultIs(res, "NOTCOORD") || busResultIs(res, "LATE");
}

/* Called by bus.c with the version coordinator's answer to COORD. Only a
 * write that cannot have been applied goes to the next replica. */
static void forwardAnswered(const busResult *res, void *pd) {
    forwardOp *op = pd;
    int ok = res->status == BUS_OK;
    if (!ok && forwardNotApplied(res) && op->next < op->n) {
        forwardTry(op);
        return;
    }
    metricsCoord(1, op->level, ustime() - op->start_us, ok);
    char e[320];
    if (!ok) {
        if (forwardNotApplied(res))
            snprintf(e, sizeof(e), "-NOQUORUM no replica of the key could take the write (%s); "
                                   "it was not applied",
                     res->errstr[0] == '-' ? res->errstr + 1 : res->errstr);
        else if (res->status == BUS_REMOTE && res->errstr[0] == '-')
            snprintf(e, sizeof(e), "%s", res->errstr); /* the coordinator's own error */
        else
            snprintf(e, sizeof(e), "-NOQUORUM the version coordinator did not confirm the write "
                                   "(%s); it may have been applied",
                     res->errstr);
    }
    forwardDone(op, ok, ok ? NULL : e);
}

/* COORD db key W flags expire ctx value */
static void forwardSend(forwardOp *op, int m) {
    char flags[4] = {op->tombstone ? '1' : '0', op->hasctx ? '1' : '0', op->incr ? '1' : '0', '\0'};
    buf ctx;
    bufInit(&ctx);
    if (op->hasctx) vclockEncode(&op->ctx, &ctx);
    busArgs args;
    busArgsInit(&args);
    busArgsStr(&args, "COORD");
    busArgsInt(&args, op->db);
    busArgsBytes(&args, op->key, op->klen);
    busArgsInt(&args, op->level);
    busArgsStr(&args, flags);
    busArgsInt(&args, (long long)op->expire);
    busArgsBytes(&args, ctx.ptr, ctx.len);
    busArgsBytes(&args, op->val, op->vlen);
    coordStats.forwarded++;
    /* the coordinator waits up to replica-timeout for the replicas: give
     * it that, and the trip */
    busArgsSend(&args, targetLink(m), forwardAnswered, op, 2 * server.replica_timeout);
    bufFree(&ctx);
}

/* Is this node an owner of op's key in its view now? The candidates were
 * computed when the write arrived; an answer later, the ring may have moved
 * on (a membership change ended) and left this node out. */
static int ownsNow(forwardOp *op) {
    quorumTarget t[QUORUM_MAX_TARGETS];
    int n = targetsJoint(op->db, op->key, op->klen, t);
    for (int i = 0; i < n; i++)
        if (t[i].member == gossipSelf()) return 1;
    return 0;
}

#define FORWARD_MAX_REFRESH 3

static void forwardTry(forwardOp *op) {
    while (op->next < op->n) {
        int m = op->t[op->next++].member;
        if (!targetCanCoordinate(m)) continue;
        if (m == gossipSelf() && !ownsNow(op)) {
            /* our view moved since the candidates were taken: take them
             * again from it (a few times at most: views settle within a
             * gossip round) */
            if (op->refreshed++ >= FORWARD_MAX_REFRESH) continue;
            op->n = targetsJoint(op->db, op->key, op->klen, op->t);
            op->next = 0;
            continue;
        }
        if (m == gossipSelf()) {
            /* every replica before us is unreachable: we coordinate */
            writeOp w = {op->val, op->vlen, op->tombstone, op->expire,
                         op->hasctx ? &op->ctx : NULL, op->incr};
            writeCoordinate(op->r, op->db, op->key, op->klen, op->level, &w, op->cb, op->pd);
            forwardFree(op);
            return;
        }
        forwardSend(op, m);
        return;
    }
    coordStats.noquorum++;
    forwardDone(op, 0, "-NOQUORUM no replica of the key is reachable to coordinate the write");
}

void forwardWrite(request *r, int db, const char *key, size_t klen, int level,
                  const quorumTarget *t, int n, int first, const writeOp *w, coordCallback *cb,
                  void *pd) {
    forwardOp *op = zcalloc(sizeof(*op));
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    op->db = db;
    op->key = zmemdup(key, klen);
    op->klen = klen;
    op->level = level;
    op->start_us = ustime();
    op->val = w->tombstone ? NULL : zmemdup(w->val ? w->val : "", w->vlen);
    op->vlen = w->tombstone ? 0 : w->vlen;
    op->tombstone = w->tombstone;
    op->incr = w->incr;
    op->expire = w->expire;
    vclockInit(&op->ctx);
    if (w->ctx) {
        op->hasctx = 1;
        vclockCopy(&op->ctx, w->ctx);
    }
    memcpy(op->t, t, sizeof(quorumTarget) * (size_t)n);
    op->n = n;
    op->next = first < 0 ? n : first;
    forwardTry(op);
}

/* ------------------------------------------------------------------- CMD */

/* Called by bus.c with the version coordinator's answer to CMD. A command
 * that cannot have run there runs here after all; one that may have run
 * there (the link failed after it was written, no answer in time) is never
 * run twice: the client gets an error saying its outcome is unknown. */
static void cmdAnswered(const busResult *res, void *pd) {
    request *r = pd;
    const redisReply *reply = res->reply;
    if (res->status == BUS_OK && reply->elements >= 4) {
        evbuffer_add(r->out, reply->element[3]->str, reply->element[3]->len);
    } else if (forwardNotApplied(res)) {
        r->cmd->proc(r);
    } else {
        addReplyErrorFormat(r, "-NOQUORUM the key's coordinator did not answer (%s); the command "
                               "may have been applied",
                            res->errstr[0] ? res->errstr : "bad answer");
    }
    requestRelease(r);
}

int forwardCommand(request *r) {
    if (r->forwarded || !r->cmd || !(r->cmd->flags & CMD_WRITE)) return 0;
    int mode, kidx[64];
    if (r->argc > 64) return 0;
    int nk = commandKeys(r->cmd, r->argc, r->argv, kidx, &mode);
    if (nk != 1 || mode != LOCK_EXCL) return 0;
    quorumTarget t[QUORUM_MAX_TARGETS];
    int n = targetsOfKey(r->db, r->argv[kidx[0]], r->argvlen[kidx[0]], t);
    int first = targetCoordinator(t, n, targetLevel(r, 1));
    if (first < 0 || t[first].member == gossipSelf()) return 0;
    busArgs args;
    busArgsInit(&args);
    busArgsStr(&args, "CMD");
    busArgsInt(&args, r->db);
    busArgsInt(&args, r->read_level);
    busArgsInt(&args, r->write_level);
    busArgsInt(&args, r->proto);
    size_t bytes = 0;
    for (int i = 0; i < r->argc; i++) {
        busArgsBytes(&args, r->argv[i], r->argvlen[i]);
        bytes += r->argvlen[i];
    }
    r->pending++;
    coordStats.forwarded++;
    /* the coordinator reads and writes, each within the timeout of its own
     * requests (which grow with the command's size): give it both */
    busArgsSend(&args, targetLink(t[first].member), cmdAnswered, r, 2 * busTimeoutFor(bytes));
    return 1;
}
