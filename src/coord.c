/* coord.c -- the coordinator: preference lists, fan-out, quorums,
 * timeouts, read repair, and the bus requests replicas answer.
 *
 * Read:  ask every healthy replica of the key's partition (this node's own
 *        copy is read directly); answer after R successes with the merge of
 *        what they returned; once every replica has answered or timed out,
 *        send the merge to those that returned something different (read
 *        repair: the target merges it again, nothing is ever overwritten).
 * Write: the version coordinator is the first healthy replica. If that is
 *        this node, it creates the version (db.c), stores it, and sends it
 *        to the other healthy replicas; otherwise the write is forwarded to
 *        it (COORD). The client is answered after W acknowledgements (this
 *        node's own counts once its storage commit is done).
 * In strict quorum mode only the preference list counts: fewer than R
 * answers or W acknowledgements is an error that says so, never a success.
 *
 * Bus requests served here:
 *   GET db key                 -> "1" record | "0"
 *   PUT db key record          -> OK once merged and durable
 *   COORD db key W flags expire ctx value -> OK once W replicas acked
 *
 * Lifetime: an operation holds its request (one pending count) until it
 * answered; the operation itself lives on until its last replica answered,
 * for read repair and to count late acknowledgements. */
#include "coord.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "gossip.h"
#include "commands.h"
#include "handoff.h"
#include "hints.h"
#include "keylock.h"
#include "metrics.h"

#define MAX_REPLICAS 64

#define RS_PENDING 0
#define RS_OK 1
#define RS_FAILED 2
#define RS_UNASKED 3 /* reads: held back while the asked ones suffice */

static struct {
    long long reads, writes, forwarded, read_repairs, noquorum, late_acks, fallbacks;
    long long read_retries; /* reads that asked a held-back replica (failure or read-retry-ms) */
} cs;

typedef struct target {
    int member;       /* index in the membership table */
    int state;        /* RS_* */
    uint64_t digest;  /* reads: digest of the answer */
    int owner;        /* -1: a home replica; else the home replica (member
                         index) this fallback stands in for (sloppy quorum) */
    int replaced;     /* home replica: a fallback was already asked for it */
} target;

static const char *memberDc(int idx) {
    int n;
    return gossipMembers(&n)[idx].dc;
}

/* Where a target's answer counts: the data center of the home replica (a
 * fallback counts for the replica it stands in for). */
static const char *targetDc(const target *t) { return memberDc(t->owner >= 0 ? t->owner : t->member); }

/* Evaluates a consistency level over the targets. Returns 1 when met, -1
 * when it can no longer be met, 0 while waiting; *got, *need and *dc
 * describe the (first) group that decides, for the error message. */
static int evalLevel(int level, const target *t, int n, int *got, int *need, const char **dc) {
    *dc = NULL;
    if (level == LEVEL_EACH_QUORUM) {
        int result = 1;
        for (int i = 0; i < n; i++) {
            if (t[i].owner >= 0) continue; /* groups are the home replicas' DCs */
            const char *d = targetDc(&t[i]);
            int seen = 0;
            for (int j = 0; j < i; j++)
                if (t[j].owner < 0 && !strcmp(targetDc(&t[j]), d)) seen = 1;
            if (seen) continue;
            int home = 0, ok = 0, pend = 0;
            for (int j = 0; j < n; j++) {
                if (strcmp(targetDc(&t[j]), d)) continue;
                if (t[j].owner < 0) home++;
                if (t[j].state == RS_OK) ok++;
                else if (t[j].state == RS_PENDING || t[j].state == RS_UNASKED) pend++;
            }
            int q = home / 2 + 1;
            int r = ok >= q ? 1 : ok + pend < q ? -1 : 0;
            if (r < 1 && (result == 1 || r == -1)) {
                *got = ok;
                *need = q;
                *dc = d;
            }
            if (r == -1) return -1;
            if (r == 0) result = 0;
        }
        return result;
    }
    int local = level == LEVEL_LOCAL_ONE || level == LEVEL_LOCAL_QUORUM;
    int home = 0, ok = 0, pend = 0;
    for (int i = 0; i < n; i++) {
        if (local && strcmp(targetDc(&t[i]), server.dc)) continue;
        if (t[i].owner < 0) home++;
        if (t[i].state == RS_OK) ok++;
        else if (t[i].state == RS_PENDING || t[i].state == RS_UNASKED) pend++;
    }
    int q;
    if (level == LEVEL_LOCAL_ONE) q = 1;
    else if (level == LEVEL_LOCAL_QUORUM || level == LEVEL_QUORUM) q = home / 2 + 1;
    else if (level == LEVEL_ALL) q = home;
    else q = level < home ? level : home; /* fewer replicas than asked: capped */
    if (q < 1) q = 1;
    *got = ok;
    *need = q;
    if (local) *dc = server.dc;
    return ok >= q ? 1 : ok + pend < q ? -1 : 0;
}


static int readLevel(request *r) {
    return r && r->read_level ? r->read_level : (int)server.read_quorum;
}

static int writeLevel(request *r) {
    return r && r->write_level ? r->write_level : (int)server.write_quorum;
}

/* The key's replicas as membership indexes, in preference order. */
static int replicasOf(int db, const char *key, size_t klen, target *t) {
    unsigned p = keyPartition(keyHash(db, key, klen), server.qbits);
    int list[MAX_REPLICAS];
    int n = gossipOwners(p, list);
    for (int i = 0; i < n; i++) {
        t[i].member = list[i];
        t[i].state = RS_PENDING;
        t[i].digest = 0;
        t[i].owner = -1;
        t[i].replaced = 0;
    }
    return n;
}

static busLink *linkOf(int idx) {
    int n;
    member *m = gossipMembers(&n);
    return m[idx].link;
}

/* Can a request to this member be attempted now? This node always can;
 * a peer if gossip does not suspect it and its link is not in backoff. */
static int reachable(int idx) {
    if (idx == gossipSelf()) return 1;
    return gossipMemberUp(idx) && busLinkUsable(linkOf(idx));
}

/* Sloppy quorum: the next reachable member along the partition's walk that
 * is neither a home replica nor already a fallback. -1 if there is none. */
static int pickFallback(int db, const char *key, size_t klen, const target *t, int n) {
    unsigned p = keyPartition(keyHash(db, key, klen), server.qbits);
    int nm;
    gossipMembers(&nm);
    int *walk = zmalloc(sizeof(int) * (size_t)(nm ? nm : 1));
    int wn = gossipWalk(p, walk);
    int found = -1;
    for (int j = 0; j < wn && found < 0; j++) {
        int m = walk[j];
        int used = 0;
        for (int i = 0; i < n; i++)
            if (t[i].member == m) used = 1;
        if (!used && reachable(m)) found = m;
    }
    zfree(walk);
    return found;
}

/* Adds a fallback target for home target i; returns its index or -1. */
static int addFallback(int db, const char *key, size_t klen, target *t, int *n, int i) {
    if (server.quorum_mode != QUORUM_SLOPPY || t[i].owner != -1 || t[i].replaced ||
        *n >= MAX_REPLICAS)
        return -1;
    int m = pickFallback(db, key, klen, t, *n);
    if (m < 0) return -1;
    t[i].replaced = 1;
    target *f = &t[(*n)++];
    f->member = m;
    f->state = RS_PENDING;
    f->digest = 0;
    f->owner = t[i].member;
    f->replaced = 0;
    cs.fallbacks++;
    return *n - 1;
}

static const char *memberId(int idx) {
    int n;
    return gossipMembers(&n)[idx].id;
}

/* The version coordinator of a write: the first reachable replica (in this
 * data center for the LOCAL levels, so the write needs no other one).
 * Returns its index in t, or -1. */
static int firstCoordinator(const target *t, int n, int level) {
    int local = level == LEVEL_LOCAL_ONE || level == LEVEL_LOCAL_QUORUM;
    for (int pass = local ? 0 : 1; pass < 2; pass++)
        for (int i = 0; i < n; i++)
            if (reachable(t[i].member) && (pass || !strcmp(memberDc(t[i].member), server.dc)))
                return i;
    return -1;
}

/* ------------------------------------------------------------------ reads */

typedef struct readOp {
    request *r;        /* NULL once answered */
    coordCallback *cb;
    void *pd;
    int db;
    char *key;
    size_t klen;
    int n;             /* replicas */
    target t[MAX_REPLICAS];
    int level, ok, failed, outstanding;
    record merged;     /* values owned */
    long long start_us;
    struct event *retry; /* read-retry-ms: asks the held-back ones */
} readOp;

typedef struct readReply {
    readOp *op;
    int idx;
} readReply;

static void readFree(readOp *op) {
    if (op->retry) event_free(op->retry);
    recordFree(&op->merged);
    zfree(op->key);
    zfree(op);
}

static void sendRepair(int idx, int db, const char *key, size_t klen, const buf *enc);
static void readAskRest(readOp *op);

static int heldBack(const readOp *op) {
    int n = 0;
    for (int i = 0; i < op->n; i++) n += op->t[i].state == RS_UNASKED;
    return n;
}

static void readRepair(readOp *op) {
    if (op->merged.n == 0 || op->ok < 2) return; /* one answer: nothing to compare */
    uint64_t want = recordDigest(&op->merged);
    buf enc;
    bufInit(&enc);
    for (int i = 0; i < op->n; i++) {
        if (op->t[i].state != RS_OK || op->t[i].owner >= 0 || op->t[i].digest == want) continue;
        if (!enc.len) recordEncode(&op->merged, &enc);
        cs.read_repairs++;
        sendRepair(op->t[i].member, op->db, op->key, op->klen, &enc);
    }
    bufFree(&enc);
}

static void readProgress(readOp *op) {
    if (op->r) {
        coordResult res = {0, NULL, &op->merged};
        char err[160];
        int answer = 0;
        int got, need;
        const char *dc;
        int st = op->n ? evalLevel(op->level, op->t, op->n, &got, &need, &dc) : -1;
        if (!op->n) {
            got = 0;
            need = 1;
            dc = NULL;
        }
        if (st == 0 && op->outstanding == 0 && heldBack(op)) {
            readAskRest(op); /* nothing in flight and not enough yet */
            return;
        }
        if (st == 1) {
            res.ok = 1;
            answer = 1;
        } else if (st == -1) {
            snprintf(err, sizeof(err), "-NOQUORUM %d of %d replicas%s%s answered", got, need,
                     dc ? " in " : "", dc ? dc : "");
            res.err = err;
            cs.noquorum++;
            answer = 1;
        }
        if (answer) {
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
    }
    if (!op->r && op->outstanding == 0) {
        readRepair(op);
        readFree(op);
    }
}

static void readAsk(readOp *op, int i);

/* Asks the first held-back home replica; 0 if there was none. */
static int readAskHeldBack(readOp *op) {
    for (int i = 0; i < op->n; i++) {
        if (op->t[i].state != RS_UNASKED) continue;
        op->t[i].state = RS_PENDING;
        cs.read_retries++;
        readAsk(op, i);
        return 1;
    }
    return 0;
}

/* Target i failed: a held-back replica is asked in its place, else (sloppy
 * quorum) a fallback for it. */
static void readFailed(readOp *op, int i) {
    op->t[i].state = RS_FAILED;
    op->failed++;
    if (!op->r) return;
    if (readAskHeldBack(op)) return;
    if (op->t[i].owner < 0) {
        int f = addFallback(op->db, op->key, op->klen, op->t, &op->n, i);
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

static void readAnswered(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(err);
    readReply *rr = pd;
    readOp *op = rr->op;
    int rr_idx = rr->idx;
    target *t = &op->t[rr_idx];
    zfree(rr);
    op->outstanding--;
    record rec;
    recordInit(&rec);
    if (ok && reply->elements >= 4 && reply->element[3]->len == 1 &&
        (reply->element[3]->str[0] == '0' ||
         (reply->element[3]->str[0] == '1' && reply->elements >= 5 &&
          recordDecode(&rec, reply->element[4]->str, reply->element[4]->len) == C_OK))) {
        t->state = RS_OK;
        t->digest = reply->element[3]->str[0] == '1'
                        ? recordDigestRaw(reply->element[4]->str, reply->element[4]->len)
                        : 0;
        for (int i = 0; i < rec.n; i++) hlcObserve(&server.clock, rec.v[i].counter);
        recordMerge(&op->merged, &rec, 1);
        op->ok++;
    } else {
        op->outstanding++; /* asking another one must not free op */
        readFailed(op, rr_idx);
        op->outstanding--;
    }
    recordFree(&rec);
    readProgress(op);
}

/* Asks target i (a home replica, or a fallback for its hint). */
static void readAsk(readOp *op, int i) {
    target *t = &op->t[i];
    int self = t->member == gossipSelf();
    if (self) {
        record rec;
        recordInit(&rec);
        storeValue hold;
        int found;
        if (t->owner < 0) { /* the stored bytes: decoded, and digested as they are */
            found = dbReadRaw(op->db, op->key, op->klen, &hold);
            if (found > 0 && recordDecode(&rec, hold.ptr, hold.len) != C_OK) {
                storeValueFree(&hold);
                found = -1;
            }
            t->digest = found > 0 ? recordDigestRaw(hold.ptr, hold.len) : 0;
        } else {
            found = hintsRead(memberId(t->owner), op->db, op->key, op->klen, &rec, &hold);
            t->digest = found > 0 ? recordDigest(&rec) : 0;
        }
        if (found < 0) {
            readFailed(op, i);
        } else {
            t->state = RS_OK;
            recordMerge(&op->merged, &rec, 1);
            op->ok++;
        }
        recordFree(&rec);
        if (found > 0) storeValueFree(&hold);
        return;
    }
    if (!reachable(t->member)) {
        readFailed(op, i);
        return;
    }
    char dbs[8];
    int dl = ll2string(dbs, sizeof(dbs), op->db);
    readReply *rr = zmalloc(sizeof(*rr));
    rr->op = op;
    rr->idx = i;
    op->outstanding++;
    if (t->owner < 0) {
        const char *argv[3] = {"GET", dbs, op->key};
        size_t lens[3] = {3, (size_t)dl, op->klen};
        busSend(linkOf(t->member), 3, argv, lens, readAnswered, rr, 0);
    } else {
        const char *owner = memberId(t->owner);
        const char *argv[4] = {"HGET", owner, dbs, op->key};
        size_t lens[4] = {4, strlen(owner), (size_t)dl, op->klen};
        busSend(linkOf(t->member), 4, argv, lens, readAnswered, rr, 0);
    }
}

/* How many replicas a read asks at first: all of them (read-fanout all, or
 * a level counted per data center), else as many as the level needs. */
static int readFanout(readOp *op) {
    if (server.read_fanout == READ_FANOUT_ALL || op->level == LEVEL_LOCAL_ONE ||
        op->level == LEVEL_LOCAL_QUORUM || op->level == LEVEL_EACH_QUORUM)
        return op->n;
    int got, need;
    const char *dc;
    evalLevel(op->level, op->t, op->n, &got, &need, &dc);
    return need < op->n ? need : op->n;
}

/* read-fanout needed: this node's copy and the next reachable replicas in
 * preference order, ask in all, are asked; the others are held back
 * (RS_UNASKED) until one fails or read-retry-ms passes. */
static void readAskSome(readOp *op, int ask) {
    int pick[MAX_REPLICAS], np = 0;
    for (int i = 0; i < op->n; i++) {
        op->t[i].state = RS_UNASKED;
        if (op->t[i].member == gossipSelf()) pick[np++] = i;
    }
    for (int i = 0; i < op->n && np < ask; i++)
        if (op->t[i].member != gossipSelf() && reachable(op->t[i].member)) pick[np++] = i;
    /* all marked before any is asked: a failure asks a held-back one */
    for (int j = 0; j < np; j++) op->t[pick[j]].state = RS_PENDING;
    for (int j = 0; j < np; j++) readAsk(op, pick[j]);
    for (; np < ask && readAskHeldBack(op); np++) {} /* too few reachable: fail fast */
    if (op->r && heldBack(op) && server.read_retry_ms > 0) {
        op->retry = evtimer_new(server.base, readRetry, op);
        struct timeval tv = {(time_t)(server.read_retry_ms / 1000),
                             (suseconds_t)(server.read_retry_ms % 1000) * 1000};
        evtimer_add(op->retry, &tv);
    }
}

void coordRead(request *r, int db, const char *key, size_t klen, coordCallback *cb, void *pd) {
    readOp *op = zcalloc(sizeof(*op));
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    op->db = db;
    op->key = zmemdup(key, klen);
    op->klen = klen;
    recordInit(&op->merged);
    op->n = replicasOf(db, key, klen, op->t);
    op->level = readLevel(r);
    op->start_us = ustime();
    r->pending++;
    cs.reads++;
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

/* ----------------------------------------------------------------- writes */

typedef struct writeState {
    request *r;        /* the client request, or NULL */
    coordCallback *cb; /* its continuation */
    void *pd;
    busReq *breq;      /* or: the COORD request we serve for another node */
    int answered;
    int db;
    char *key;
    size_t klen;
    int n;
    target t[MAX_REPLICAS];
    int level, acks, failed, outstanding;
    long long start_us;
    char lasterr[160];
    buf rec;           /* the record sent to replicas (kept for fallbacks) */
} writeState;

typedef struct writeAck {
    writeState *ws;
    int idx;
} writeAck;

static void writeFree(writeState *ws) {
    bufFree(&ws->rec);
    zfree(ws->key);
    zfree(ws);
}

static void writeAnswer(writeState *ws, int ok, const char *err) {
    ws->answered = 1;
    if (ws->breq) {
        if (ok) busReplyOK(ws->breq);
        else busReplyError(ws->breq, err);
        ws->breq = NULL;
        return;
    }
    request *r = ws->r;
    ws->r = NULL;
    metricsCoord(1, ws->level, ustime() - ws->start_us, ok);
    coordResult res = {ok, err, NULL};
    ws->cb(r, &res, ws->pd);
    requestRelease(r);
}

static void writeProgress(writeState *ws) {
    if (!ws->answered) {
        int got, need;
        const char *dc;
        int st = ws->n ? evalLevel(ws->level, ws->t, ws->n, &got, &need, &dc) : -1;
        if (!ws->n) {
            got = 0;
            need = 1;
            dc = NULL;
        }
        if (st == 1) {
            writeAnswer(ws, 1, NULL);
        } else if (st == -1) {
            char err[320];
            snprintf(err, sizeof(err), "-NOQUORUM %d of %d replicas%s%s acknowledged the write%s%s",
                     got, need, dc ? " in " : "", dc ? dc : "", ws->lasterr[0] ? " (" : "",
                     ws->lasterr[0] ? ws->lasterr : "");
            if (ws->lasterr[0]) strcat(err, ")");
            cs.noquorum++;
            writeAnswer(ws, 0, err);
        }
    }
    if (ws->answered && ws->outstanding == 0) writeFree(ws);
}

static void sendTo(writeState *ws, int i);
static void sendToFuture(writeState *ws, int home);
static void sendPut(int idx, int db, const char *key, size_t klen, const char *rec, size_t rlen,
                    busReplyCb *cb, void *pd);
static void repairDone(int ok, const redisReply *reply, const char *err, void *pd);

static void replicaAcked(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(reply);
    writeAck *wa = pd;
    writeState *ws = wa->ws;
    int wa_idx = wa->idx;
    target *t = &ws->t[wa_idx];
    zfree(wa);
    ws->outstanding--;
    if (ok) {
        t->state = RS_OK;
        if (ws->answered) cs.late_acks++;
        ws->acks++;
    } else {
        t->state = RS_FAILED;
        ws->failed++;
        snprintf(ws->lasterr, sizeof(ws->lasterr), "%s", err ? err : "failed");
        /* a replica that timed out or failed: a fallback keeps a hint */
        if (!ws->answered && t->owner < 0 && ws->rec.len) {
            int f = addFallback(ws->db, ws->key, ws->klen, ws->t, &ws->n, wa_idx);
            if (f >= 0) sendTo(ws, f);
        }
    }
    writeProgress(ws);
}

static void localAcked(int ok, const char *err, void *pd) {
    writeAck wa = *(writeAck *)pd;
    zfree(pd);
    char e[160];
    snprintf(e, sizeof(e), "local storage: %s", err ? err : "failed");
    writeAck *copy = zmalloc(sizeof(*copy));
    *copy = wa;
    replicaAcked(ok, NULL, ok ? NULL : e, copy);
}

static void sendPut(int idx, int db, const char *key, size_t klen, const char *rec, size_t rlen,
                    busReplyCb *cb, void *pd) {
    char dbs[8];
    int dl = ll2string(dbs, sizeof(dbs), db);
    const char *argv[4] = {"PUT", dbs, key, rec};
    size_t lens[4] = {3, (size_t)dl, klen, rlen};
    busSend(linkOf(idx), 4, argv, lens, cb, pd, 0);
}

static void repairDone(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(ok);
    UNUSED(reply);
    UNUSED(err);
    UNUSED(pd);
}

static void repairLocalDone(int ok, const char *err, void *pd) {
    UNUSED(ok);
    UNUSED(err);
    UNUSED(pd);
}

static void sendRepair(int idx, int db, const char *key, size_t klen, const buf *enc) {
    if (idx == gossipSelf()) {
        record rec;
        recordInit(&rec);
        if (recordDecode(&rec, enc->ptr, enc->len) == C_OK)
            dbApply(db, key, klen, &rec, repairLocalDone, NULL);
        recordFree(&rec);
        return;
    }
    if (!reachable(idx)) return;
    sendPut(idx, db, key, klen, enc->ptr, enc->len, repairDone, NULL);
}

/* This node is the version coordinator: create, store, replicate. */
static void coordinateHere(writeState *ws, const writeOp *op) {
    buf enc;
    bufInit(&enc);
    int self = -1;
    for (int i = 0; i < ws->n; i++)
        if (ws->t[i].member == gossipSelf()) self = i;
    writeAck *wa = zmalloc(sizeof(*wa));
    wa->ws = ws;
    wa->idx = self;
    ws->outstanding++;
    if (self < 0 || dbCoordinate(ws->db, ws->key, ws->klen, op, &enc, localAcked, wa) != C_OK) {
        zfree(wa);
        ws->outstanding--;
        ws->failed++;
        snprintf(ws->lasterr, sizeof(ws->lasterr), "local storage: %s", storeLastError());
        bufFree(&enc);
        writeProgress(ws);
        return;
    }
    /* the whole record goes to the replicas, not only the new version */
    ws->rec = enc;
    ws->outstanding++; /* hold ws while sending: an answer may come at once */
    int home = ws->n;
    for (int i = 0; i < home; i++)
        if (i != self) sendTo(ws, i);
    if (gossipChanging()) sendToFuture(ws, home);
    ws->outstanding--;
    writeProgress(ws);
}

/* While partitions move (a join or a leave), a write also goes to the
 * partition's future owners that are not owners yet: they are catching up
 * by a stream that may already be past this key. Not counted towards W. */
static void sendToFuture(writeState *ws, int home) {
    unsigned p = keyPartition(keyHash(ws->db, ws->key, ws->klen), server.qbits);
    int fut[MAX_REPLICAS];
    int n = gossipFutureOwners(p, fut);
    for (int j = 0; j < n; j++) {
        int m = fut[j], already = 0;
        for (int i = 0; i < home; i++)
            if (ws->t[i].member == m) already = 1;
        if (already || m == gossipSelf() || !reachable(m)) continue;
        sendPut(m, ws->db, ws->key, ws->klen, ws->rec.ptr, ws->rec.len, repairDone, NULL);
    }
}

/* Sends ws->rec to target i: PUT to a home replica, or, for a fallback, a
 * hint for the replica it stands in for. An unreachable home replica gets
 * a fallback at once in sloppy mode. */
static void sendTo(writeState *ws, int i) {
    target *t = &ws->t[i];
    if (t->owner < 0 && !reachable(t->member)) {
        t->state = RS_FAILED;
        ws->failed++;
        int f = addFallback(ws->db, ws->key, ws->klen, ws->t, &ws->n, i);
        if (f >= 0) sendTo(ws, f);
        return;
    }
    writeAck *a = zmalloc(sizeof(*a));
    a->ws = ws;
    a->idx = i;
    ws->outstanding++;
    if (t->owner < 0) {
        sendPut(t->member, ws->db, ws->key, ws->klen, ws->rec.ptr, ws->rec.len, replicaAcked, a);
        return;
    }
    const char *owner = memberId(t->owner);
    if (t->member == gossipSelf()) {
        record rec;
        recordInit(&rec);
        const char *err = "malformed record";
        if (recordDecode(&rec, ws->rec.ptr, ws->rec.len) != C_OK ||
            hintsStore(owner, ws->db, ws->key, ws->klen, &rec, localAcked, a, &err) != C_OK) {
            recordFree(&rec);
            replicaAcked(0, NULL, err, a);
            return;
        }
        recordFree(&rec);
        return;
    }
    char dbs[8];
    ll2string(dbs, sizeof(dbs), ws->db);
    const char *argv[5] = {"HPUT", owner, dbs, ws->key, ws->rec.ptr};
    size_t lens[5] = {4, strlen(owner), strlen(dbs), ws->klen, ws->rec.len};
    busSend(linkOf(t->member), 5, argv, lens, replicaAcked, a, 0);
}

/* COORD db key W flags expire ctx value */
static void encodeCoord(const writeOp *op, int level, char *wbuf, char *fbuf, char *ebuf, buf *ctx) {
    ll2string(wbuf, 16, level);
    fbuf[0] = op->tombstone ? '1' : '0';
    fbuf[1] = op->ctx ? '1' : '0';
    fbuf[2] = '\0';
    ll2string(ebuf, 24, (long long)op->expire);
    if (op->ctx) vclockEncode(op->ctx, ctx);
}

typedef struct forwardState {
    request *r;
    coordCallback *cb;
    void *pd;
    int db;
    char *key;
    size_t klen;
    int level;
    long long start_us;
    /* the operation, kept to retry on the next replica */
    char *val;
    size_t vlen;
    int tombstone;
    int64_t expire;
    int hasctx;
    vclock ctx;
    target t[MAX_REPLICAS];
    int n, next;       /* candidates and the next one to try */
} forwardState;

static void forwardFree(forwardState *fs) {
    zfree(fs->key);
    zfree(fs->val);
    vclockFree(&fs->ctx);
    zfree(fs);
}

static void forwardTry(forwardState *fs);

static void forwardAnswered(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(reply);
    forwardState *fs = pd;
    /* The link was never up: the write cannot have reached that node, so the
     * next replica may coordinate it. The same when that node refused it as
     * not a replica of the key (its ring view differs from ours for a
     * gossip round while a node joins or leaves): it wrote nothing. Any
     * other failure may have written. */
    if (!ok && err && (strstr(err, "down") || strstr(err, "NOTREPLICA")) && fs->next < fs->n) {
        forwardTry(fs);
        return;
    }
    coordResult res = {ok, NULL, NULL};
    metricsCoord(1, fs->level, ustime() - fs->start_us, ok);
    char e[320];
    if (!ok) {
        if (err && err[0] == '-') snprintf(e, sizeof(e), "%s", err);
        else snprintf(e, sizeof(e), "-NOQUORUM the version coordinator did not confirm the write (%s); it may have been applied",
                      err ? err : "error");
        res.err = e;
    }
    fs->cb(fs->r, &res, fs->pd);
    requestRelease(fs->r);
    forwardFree(fs);
}

static writeState *writeStateNew(int db, const char *key, size_t klen);

static void forwardTry(forwardState *fs) {
    while (fs->next < fs->n) {
        int m = fs->t[fs->next++].member;
        if (!reachable(m)) continue;
        if (m == gossipSelf()) {
            /* every replica before us is unreachable: we coordinate */
            writeState *ws = writeStateNew(fs->db, fs->key, fs->klen);
            ws->r = fs->r;
            ws->cb = fs->cb;
            ws->pd = fs->pd;
            ws->level = fs->level;
            writeOp op = {fs->val, fs->vlen, fs->tombstone, fs->expire,
                          fs->hasctx ? &fs->ctx : NULL};
            coordinateHere(ws, &op);
            forwardFree(fs);
            return;
        }
        char dbs[8], wbuf[16], fbuf[16], ebuf[24];
        ll2string(dbs, sizeof(dbs), fs->db);
        writeOp op = {fs->val, fs->vlen, fs->tombstone, fs->expire, fs->hasctx ? &fs->ctx : NULL};
        buf ctx;
        bufInit(&ctx);
        encodeCoord(&op, fs->level, wbuf, fbuf, ebuf, &ctx);
        const char *argv[8] = {"COORD", dbs, fs->key, wbuf, fbuf, ebuf, ctx.ptr ? ctx.ptr : "",
                               fs->val ? fs->val : ""};
        size_t lens[8] = {5, strlen(dbs), fs->klen, strlen(wbuf), strlen(fbuf), strlen(ebuf),
                          ctx.len, fs->vlen};
        cs.forwarded++;
        /* the coordinator waits up to replica-timeout for the replicas: give
         * it that, and the trip */
        busSend(linkOf(m), 8, argv, lens, forwardAnswered, fs, 2 * server.replica_timeout);
        bufFree(&ctx);
        return;
    }
    coordResult res = {0, NULL, NULL};
    char e[160];
    snprintf(e, sizeof(e), "-NOQUORUM no replica of the key is reachable to coordinate the write");
    res.err = e;
    cs.noquorum++;
    fs->cb(fs->r, &res, fs->pd);
    requestRelease(fs->r);
    forwardFree(fs);
}

static writeState *writeStateNew(int db, const char *key, size_t klen) {
    writeState *ws = zcalloc(sizeof(*ws));
    ws->db = db;
    ws->key = zmemdup(key, klen);
    ws->klen = klen;
    ws->n = replicasOf(db, key, klen, ws->t);
    ws->start_us = ustime();
    return ws;
}

void coordWrite(request *r, int db, const char *key, size_t klen, const writeOp *op,
                coordCallback *cb, void *pd) {
    cs.writes++;
    r->pending++;
    target t[MAX_REPLICAS];
    int n = replicasOf(db, key, klen, t);
    int level = writeLevel(r);
    int first = firstCoordinator(t, n, level);
    if (first >= 0 && t[first].member == gossipSelf()) {
        writeState *ws = writeStateNew(db, key, klen);
        ws->r = r;
        ws->cb = cb;
        ws->pd = pd;
        ws->level = level;
        coordinateHere(ws, op);
        return;
    }
    forwardState *fs = zcalloc(sizeof(*fs));
    fs->r = r;
    fs->cb = cb;
    fs->pd = pd;
    fs->db = db;
    fs->key = zmemdup(key, klen);
    fs->klen = klen;
    fs->level = level;
    fs->start_us = ustime();
    fs->val = op->tombstone ? NULL : zmemdup(op->val ? op->val : "", op->vlen);
    fs->vlen = op->tombstone ? 0 : op->vlen;
    fs->tombstone = op->tombstone;
    fs->expire = op->expire;
    vclockInit(&fs->ctx);
    if (op->ctx) {
        fs->hasctx = 1;
        vclockCopy(&fs->ctx, op->ctx);
    }
    memcpy(fs->t, t, sizeof(target) * (size_t)n);
    fs->n = n;
    fs->next = first < 0 ? n : first;
    forwardTry(fs);
}

/* ------------------------------------------------------- bus: replica side */

static int parseDb(busReq *req, int i) {
    long long db;
    if (!string2ll(req->argv[i], req->lens[i], &db) || db < 0 || db >= server.databases) return -1;
    return (int)db;
}

static void getHandler(busReq *req) {
    int db = req->argc >= 4 ? parseDb(req, 2) : -1;
    if (db < 0) {
        busReplyError(req, "GET malformed");
        return;
    }
    storeValue v;
    int found = dbReadRaw(db, req->argv[3], req->lens[3], &v);
    if (found < 0) {
        busReplyError(req, "storage read failed");
        return;
    }
    if (!found) {
        const char *av[1] = {"0"};
        size_t al[1] = {1};
        busReplyArgs(req, 1, av, al);
        return;
    }
    const char *av[2] = {"1", v.ptr};
    size_t al[2] = {1, v.len};
    busReplyArgs(req, 2, av, al);
    storeValueFree(&v);
}

static void putDone(int ok, const char *err, void *pd) {
    busReq *req = pd;
    if (ok) busReplyOK(req);
    else busReplyError(req, err ? err : "storage write failed");
}

static void putHandler(busReq *req) {
    int db = req->argc >= 5 ? parseDb(req, 2) : -1;
    record rec;
    recordInit(&rec);
    if (db < 0 || recordDecode(&rec, req->argv[4], req->lens[4]) != C_OK || rec.n == 0) {
        recordFree(&rec);
        busReplyError(req, "PUT malformed");
        return;
    }
    handoffNoteWrite(keyPartition(keyHash(db, req->argv[3], req->lens[3]), server.qbits));
    if (dbApply(db, req->argv[3], req->lens[3], &rec, putDone, req) != C_OK)
        busReplyError(req, "storage failed");
    recordFree(&rec);
}

static void coordHandler(busReq *req) {
    /* COORD id db key W flags expire ctx value */
    int db = req->argc >= 9 ? parseDb(req, 2) : -1;
    long long need, expire;
    if (db < 0 || !string2ll(req->argv[4], req->lens[4], &need) || req->lens[5] != 2 ||
        !string2ll(req->argv[6], req->lens[6], &expire)) {
        busReplyError(req, "COORD malformed");
        return;
    }
    int tombstone = req->argv[5][0] == '1', hasctx = req->argv[5][1] == '1';
    vclock ctx;
    vclockInit(&ctx);
    if (hasctx && req->lens[7] &&
        vclockDecode(&ctx, (const unsigned char *)req->argv[7], req->lens[7]) != (long)req->lens[7]) {
        vclockFree(&ctx);
        busReplyError(req, "COORD malformed context");
        return;
    }
    writeState *ws = writeStateNew(db, req->argv[3], req->lens[3]);
    int replica = 0;
    for (int i = 0; i < ws->n; i++)
        if (ws->t[i].member == gossipSelf()) replica = 1;
    if (!replica) {
        writeFree(ws);
        vclockFree(&ctx);
        busReplyError(req, "-NOTREPLICA this node does not replicate that key (ring views differ)");
        return;
    }
    ws->breq = req;
    ws->level = (int)need; /* the client's level, evaluated here */
    writeOp op = {req->argv[8], req->lens[8], tombstone, expire, hasctx ? &ctx : NULL};
    coordinateHere(ws, &op);
    vclockFree(&ctx);
}

/* ------------------------------------------- read-modify-write at the owner */

/* A single-key read-modify-write (INCR, APPEND, SET NX...) runs at the key's
 * version coordinator, whose per-key lock (keylock.c) then orders it with
 * every other read-modify-write of the key, wherever its client is: INCRs
 * through different nodes do not read the same value. The receiving node
 * keeps its own lock meanwhile, so its client's pipeline stays in order.
 * Bus request: CMD db read-level write-level proto argv... -> the reply's
 * RESP bytes. */

static void fwdAnswered(int ok, const redisReply *reply, const char *err, void *pd) {
    request *r = pd;
    if (ok && reply->elements >= 4) {
        evbuffer_add(r->out, reply->element[3]->str, reply->element[3]->len);
    } else if (err && strstr(err, "down")) {
        r->cmd->proc(r); /* never sent: run it here after all */
    } else {
        addReplyErrorFormat(r, "-NOQUORUM the key's coordinator did not answer (%s); the command "
                               "may have been applied",
                            err ? err : "error");
    }
    requestRelease(r);
}

int coordForwardCommand(request *r) {
    if (r->forwarded || !r->cmd || !(r->cmd->flags & CMD_WRITE)) return 0;
    int mode, kidx[64];
    if (r->argc > 64) return 0;
    int nk = commandKeys(r->cmd, r->argc, r->argv, kidx, &mode);
    if (nk != 1 || mode != LOCK_EXCL) return 0;
    target t[MAX_REPLICAS];
    int n = replicasOf(r->db, r->argv[kidx[0]], r->argvlen[kidx[0]], t);
    int first = firstCoordinator(t, n, writeLevel(r));
    if (first < 0 || t[first].member == gossipSelf()) return 0;
    int argc = r->argc + 5;
    const char **argv = zmalloc(sizeof(char *) * (size_t)argc);
    size_t *lens = zmalloc(sizeof(size_t) * (size_t)argc);
    char dbs[8], rl[16], wl[16], pr[8];
    ll2string(dbs, sizeof(dbs), r->db);
    ll2string(rl, sizeof(rl), r->read_level);
    ll2string(wl, sizeof(wl), r->write_level);
    ll2string(pr, sizeof(pr), r->proto);
    argv[0] = "CMD";
    argv[1] = dbs;
    argv[2] = rl;
    argv[3] = wl;
    argv[4] = pr;
    for (int i = 0; i < r->argc; i++) {
        argv[5 + i] = r->argv[i];
        lens[5 + i] = r->argvlen[i];
    }
    for (int i = 0; i < 5; i++) lens[i] = strlen(argv[i]);
    r->pending++;
    cs.forwarded++;
    busSend(linkOf(t[first].member), argc, argv, lens, fwdAnswered, r, 2 * server.replica_timeout);
    zfree(argv);
    zfree(lens);
    return 1;
}

/* CMD id db read-level write-level proto argv... */
static void cmdHandler(busReq *req) {
    long long db, rl, wl, pr;
    if (req->argc < 7 || !string2ll(req->argv[2], req->lens[2], &db) || db < 0 ||
        db >= server.databases || !string2ll(req->argv[3], req->lens[3], &rl) ||
        !string2ll(req->argv[4], req->lens[4], &wl) || !string2ll(req->argv[5], req->lens[5], &pr)) {
        busReplyError(req, "CMD malformed");
        return;
    }
    command *cmd = commandLookup(req->argv[6], req->lens[6]);
    if (!cmd) {
        busReplyError(req, "CMD unknown command");
        return;
    }
    request *r = requestCreate(NULL);
    requestSetArgs(r, req->argc - 6, (char **)req->argv + 6, req->lens + 6);
    r->cmd = cmd;
    r->db = (int)db;
    r->read_level = (int)rl;
    r->write_level = (int)wl;
    r->proto = pr == 3 ? 3 : 2;
    r->forwarded = 1;
    r->busreq = req;
    r->pending = 1;
    int now = requestLockKeys(r);
    if (now) {
        cmd->proc(r);
        requestRelease(r);
    } /* else the grant runs it (requestRunLater) */
}

void coordForwardedDone(request *r) {
    busReq *req = r->busreq;
    size_t len = evbuffer_get_length(r->out);
    char *bytes = zmalloc(len ? len : 1);
    evbuffer_remove(r->out, bytes, len);
    const char *av[1] = {bytes};
    size_t al[1] = {len};
    busReplyArgs(req, 1, av, al);
    zfree(bytes);
}

void coordInitClusterOps(void);

void coordInit(void) {
    coordInitClusterOps();
    busRegister("CMD", cmdHandler);
    busRegister("GET", getHandler);
    busRegister("PUT", putHandler);
    busRegister("COORD", coordHandler);
}

void coordInfo(buf *out) {
    bufPrintf(out, "coord_reads:%lld\r\ncoord_writes:%lld\r\ncoord_forwarded:%lld\r\n", cs.reads,
              cs.writes, cs.forwarded);
    bufPrintf(out, "read_repairs:%lld\r\nnoquorum_errors:%lld\r\nlate_acks:%lld\r\n",
              cs.read_repairs, cs.noquorum, cs.late_acks);
    bufPrintf(out, "sloppy_fallbacks:%lld\r\nread_retries:%lld\r\n", cs.fallbacks,
              cs.read_retries);
}

/* ------------------------------------------------ whole-cluster commands */

/* SCAN, KEYS, DBSIZE and FLUSH* span the cluster. A SCAN cursor is a slot
 * (partition * 256 + Merkle bucket), the same on every node. Each
 * partition is read from N - W + 1 of its replicas (so from at least one
 * that acknowledged any write) and their versions are merged, so a replica
 * that missed writes or deletes neither hides nor revives keys. */

typedef struct scanOp {
    request *r;
    coordScanCallback *cb;
    void *pd;
    int db;
    unsigned long long cursor;
    unsigned long long nslots;
    long count;
    char *pat;
    size_t patlen;
    int wlevel;        /* the connection's write level: how many replicas to read */
    coordKeys keys;    /* the answer so far */
    /* the partition being read */
    int outstanding;   /* replicas not answered yet */
    int answered;      /* replicas that answered */
    unsigned long long next; /* smallest cursor a replica stopped at */
    record *recs;      /* merged versions (headers) per key seen */
    buf *names;        /* the keys, parallel to recs */
    long nseen, capseen;
} scanOp;

static void keysAdd(coordKeys *k, const char *key, size_t klen) {
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->lens = zrealloc(k->lens, sizeof(size_t) * (size_t)k->cap);
    }
    k->lens[k->n++] = klen;
    bufAppend(&k->bytes, key, klen);
}

/* A key one replica reported, with its versions (values left out). */
static void scanSeen(scanOp *op, const char *key, size_t klen, const record *rec) {
    for (long i = 0; i < op->nseen; i++) {
        if (op->names[i].len == klen && !memcmp(op->names[i].ptr, key, klen)) {
            recordMerge(&op->recs[i], rec, 1);
            return;
        }
    }
    if (op->nseen == op->capseen) {
        op->capseen = op->capseen ? op->capseen * 2 : 64;
        op->recs = zrealloc(op->recs, sizeof(record) * (size_t)op->capseen);
        op->names = zrealloc(op->names, sizeof(buf) * (size_t)op->capseen);
    }
    recordInit(&op->recs[op->nseen]);
    bufInit(&op->names[op->nseen]);
    bufAppend(&op->names[op->nseen], key, klen);
    recordMerge(&op->recs[op->nseen], rec, 1);
    op->nseen++;
}

static void scanSeenClear(scanOp *op) {
    for (long i = 0; i < op->nseen; i++) {
        recordFree(&op->recs[i]);
        bufFree(&op->names[i]);
    }
    op->nseen = 0;
}

static int scanCollectLocal(const char *key, size_t klen, const record *rec, void *pd) {
    scanOp *op = pd;
    if (op->pat && !stringmatchlen(op->pat, (int)op->patlen, key, (int)klen, 0)) return 0;
    scanSeen(op, key, klen, rec);
    return 0;
}

static void scanFinish(scanOp *op, int ok, const char *err) {
    coordScanResult res = {ok, err, op->cursor >= op->nslots ? 0 : op->cursor, &op->keys};
    request *r = op->r;
    op->cb(r, &res, op->pd);
    requestRelease(r);
    scanSeenClear(op);
    zfree(op->recs);
    zfree(op->names);
    bufFree(&op->keys.bytes);
    zfree(op->keys.lens);
    zfree(op->pat);
    zfree(op);
}

static void scanStep(scanOp *op);

/* Every asked replica answered for the current partition: the keys whose
 * merged versions are live, up to the smallest position a replica reached
 * (keys past it come again from there: at least once). */
static void scanPartitionDone(scanOp *op) {
    if (!op->answered) {
        char err[128];
        snprintf(err, sizeof(err), "-CLUSTERDOWN no replica of partition %u answered",
                 (unsigned)(op->cursor >> 8));
        scanFinish(op, 0, err);
        return;
    }
    long long now = serverNowMs();
    for (long i = 0; i < op->nseen; i++) {
        const char *k = op->names[i].ptr ? op->names[i].ptr : "";
        size_t kl = op->names[i].len;
        if (keySlot(keyHash(op->db, k, kl), server.qbits) >= op->next) continue;
        if (recordVisible(&op->recs[i], now)) keysAdd(&op->keys, k, kl);
    }
    scanSeenClear(op);
    op->cursor = op->next;
    scanStep(op);
}

static void scanAnswered(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(err);
    scanOp *op = pd;
    unsigned long long next;
    if (ok && reply->elements >= 4 && (reply->elements - 4) % 2 == 0 &&
        string2ull(reply->element[3]->str, reply->element[3]->len, &next) && next > op->cursor) {
        record rec;
        recordInit(&rec);
        for (size_t i = 4; i + 1 < reply->elements; i += 2) {
            if (recordDecode(&rec, reply->element[i + 1]->str, reply->element[i + 1]->len) == C_OK)
                scanSeen(op, reply->element[i]->str, reply->element[i]->len, &rec);
        }
        recordFree(&rec);
        if (next < op->next) op->next = next;
        op->answered++;
    }
    if (--op->outstanding == 0) scanPartitionDone(op);
}

/* How many replicas a SCAN reads per partition so that it meets every
 * write's acknowledgements: N - W + 1 (a key acknowledged by W replicas is
 * on at least one of them). */
static int scanWidth(int wlevel, int n) {
    int w = wlevel == LEVEL_QUORUM || wlevel == LEVEL_LOCAL_QUORUM || wlevel == LEVEL_EACH_QUORUM
                ? n / 2 + 1
            : wlevel == LEVEL_ALL ? n
            : wlevel == LEVEL_LOCAL_ONE ? 1
                                      : (wlevel < n ? wlevel : n);
    if (w < 1) w = 1;
    return n - w + 1;
}

static void scanStep(scanOp *op) {
    if (op->cursor >= op->nslots || op->keys.n >= op->count) {
        scanFinish(op, 1, NULL);
        return;
    }
    unsigned p = (unsigned)(op->cursor >> 8);
    unsigned long long end = (unsigned long long)(p + 1) * 256;
    int owners[MAX_REPLICAS];
    int n = gossipOwners(p, owners), width = scanWidth(op->wlevel, n), asked = 0;
    op->next = end;
    op->answered = 0;
    op->outstanding = 1; /* held while asking */
    long want = op->count - op->keys.n;
    for (int i = 0; i < n && asked < width; i++) {
        int m = owners[i];
        if (!reachable(m)) continue;
        asked++;
        if (m == gossipSelf()) {
            unsigned long long nx = dbScanEx(op->db, op->cursor, end, want, 1, scanCollectLocal, op);
            if (nx < op->next) op->next = nx;
            op->answered++;
            continue;
        }
        char dbs[8], cur[24], endb[24], cnt[24];
        ll2string(dbs, sizeof(dbs), op->db);
        snprintf(cur, sizeof(cur), "%llu", op->cursor);
        snprintf(endb, sizeof(endb), "%llu", end);
        snprintf(cnt, sizeof(cnt), "%ld", want);
        const char *argv[6] = {"SCAN", dbs, cur, endb, cnt, op->pat ? op->pat : ""};
        size_t lens[6] = {4, strlen(dbs), strlen(cur), strlen(endb), strlen(cnt),
                          op->pat ? op->patlen : 0};
        op->outstanding++;
        busSend(linkOf(m), op->pat ? 6 : 5, argv, lens, scanAnswered, op, 0);
    }
    if (--op->outstanding == 0) scanPartitionDone(op);
}

void coordScan(request *r, int db, unsigned long long cursor, long count, const char *pat,
               size_t patlen, coordScanCallback *cb, void *pd) {
    scanOp *op = zcalloc(sizeof(*op));
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    op->db = db;
    op->cursor = cursor;
    op->nslots = (unsigned long long)server.ring_partitions * 256;
    op->count = count;
    op->wlevel = writeLevel(r);
    if (pat && !(patlen == 1 && pat[0] == '*')) {
        op->pat = zmemdup(pat, patlen);
        op->patlen = patlen;
    }
    bufInit(&op->keys.bytes);
    r->pending++;
    scanStep(op);
}

/* SCAN db cursor end count [pattern] -> next, then (key, versions without
 * values) pairs, tombstones included: the coordinator merges replicas. */
typedef struct scanReply {
    buf data;
    size_t *offs, *lens;
    int n, cap;
    const char *pat;
    size_t patlen;
} scanReply;

static int scanCollectReply(const char *key, size_t klen, const record *rec, void *pd) {
    scanReply *s = pd;
    if (s->pat && !stringmatchlen(s->pat, (int)s->patlen, key, (int)klen, 0)) return 0;
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->offs = zrealloc(s->offs, sizeof(size_t) * (size_t)s->cap);
        s->lens = zrealloc(s->lens, sizeof(size_t) * (size_t)s->cap);
    }
    s->offs[s->n] = s->data.len;
    s->lens[s->n++] = klen;
    bufAppend(&s->data, key, klen);
    record hdr; /* the versions without their values: enough to merge and decide */
    hdr.n = rec->n;
    hdr.cap = rec->n;
    hdr.v = zmalloc(sizeof(version) * (size_t)(rec->n ? rec->n : 1));
    for (int i = 0; i < rec->n; i++) {
        hdr.v[i] = rec->v[i];
        hdr.v[i].val = NULL;
        hdr.v[i].vlen = 0;
        hdr.v[i].ownval = 0;
    }
    size_t before = s->data.len;
    recordEncode(&hdr, &s->data);
    zfree(hdr.v);
    s->offs[s->n] = before;
    s->lens[s->n++] = s->data.len - before;
    return 0;
}

static void scanHandler(busReq *req) {
    int db = req->argc >= 6 ? parseDb(req, 2) : -1;
    unsigned long long cursor, end;
    long long count;
    if (db < 0 || !string2ull(req->argv[3], req->lens[3], &cursor) ||
        !string2ull(req->argv[4], req->lens[4], &end) ||
        !string2ll(req->argv[5], req->lens[5], &count) || count < 1 || end == 0) {
        busReplyError(req, "SCAN malformed");
        return;
    }
    scanReply sr;
    memset(&sr, 0, sizeof(sr));
    bufInit(&sr.data);
    if (req->argc >= 7) {
        sr.pat = req->argv[6];
        sr.patlen = req->lens[6];
    }
    unsigned long long next = dbScanEx(db, cursor, end, (long)count, 1, scanCollectReply, &sr);
    int n = sr.n + 1;
    const char **av = zmalloc(sizeof(char *) * (size_t)n);
    size_t *al = zmalloc(sizeof(size_t) * (size_t)n);
    char nb[24];
    snprintf(nb, sizeof(nb), "%llu", next);
    av[0] = nb;
    al[0] = strlen(nb);
    for (int i = 0; i < sr.n; i++) {
        av[i + 1] = sr.data.ptr + sr.offs[i];
        al[i + 1] = sr.lens[i];
    }
    busReplyArgs(req, n, av, al);
    zfree(av);
    zfree(al);
    bufFree(&sr.data);
    zfree(sr.offs);
    zfree(sr.lens);
}

/* DBSIZE: every node reports its keys per partition. */
typedef struct countOp {
    request *r;
    coordCountCallback *cb;
    void *pd;
    int db;
    int nm;               /* members */
    long long **counts;   /* per member: one count per partition, or NULL */
    int outstanding;
} countOp;

typedef struct countReply {
    countOp *op;
    int member;
} countReply;

/* Each partition counts as the largest count among its replicas that
 * answered: a replica that missed writes does not hide them (an estimate
 * when replicas miss different keys; anti-entropy evens them out). */
static void countFinish(countOp *op) {
    long long total = 0;
    char err[128] = "";
    for (unsigned p = 0; p < (unsigned)server.ring_partitions && !err[0]; p++) {
        int l[MAX_REPLICAS];
        int n = gossipOwners(p, l), got = 0;
        long long best = 0;
        for (int i = 0; i < n; i++) {
            int m = l[i];
            if (m < op->nm && op->counts[m]) {
                if (!got || op->counts[m][p] > best) best = op->counts[m][p];
                got = 1;
            }
        }
        total += best;
        if (!got && n > 0)
            snprintf(err, sizeof(err), "-CLUSTERDOWN no replica of partition %u answered", p);
    }
    request *r = op->r;
    op->cb(r, !err[0], err[0] ? err : NULL, total, op->pd);
    requestRelease(r);
    for (int i = 0; i < op->nm; i++) zfree(op->counts[i]);
    zfree(op->counts);
    zfree(op);
}

static void countAnswered(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(err);
    countReply *cr = pd;
    countOp *op = cr->op;
    size_t q = (size_t)server.ring_partitions;
    if (ok && reply->elements >= 4 && reply->element[3]->len == q * 8) {
        long long *c = zmalloc(sizeof(long long) * q);
        const unsigned char *b = (const unsigned char *)reply->element[3]->str;
        for (size_t p = 0; p < q; p++) {
            uint64_t v = 0;
            for (int k = 7; k >= 0; k--) v = (v << 8) | b[p * 8 + (size_t)k];
            c[p] = (long long)v;
        }
        op->counts[cr->member] = c;
    }
    zfree(cr);
    if (--op->outstanding == 0) countFinish(op);
}

void coordCount(request *r, int db, coordCountCallback *cb, void *pd) {
    countOp *op = zcalloc(sizeof(*op));
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    op->db = db;
    gossipMembers(&op->nm);
    op->counts = zcalloc(sizeof(long long *) * (size_t)op->nm);
    r->pending++;
    op->outstanding = 1; /* held until every request is out */
    size_t q = (size_t)server.ring_partitions;
    char dbs[8];
    ll2string(dbs, sizeof(dbs), db);
    for (int m = 0; m < op->nm; m++) {
        if (m == gossipSelf()) {
            op->counts[m] = zmalloc(sizeof(long long) * q);
            for (size_t p = 0; p < q; p++) op->counts[m][p] = dbPartitionKeys(db, (unsigned)p);
        } else if (reachable(m)) {
            countReply *cr = zmalloc(sizeof(*cr));
            cr->op = op;
            cr->member = m;
            op->outstanding++;
            const char *argv[2] = {"COUNT", dbs};
            size_t lens[2] = {5, strlen(dbs)};
            busSend(linkOf(m), 2, argv, lens, countAnswered, cr, 0);
        }
    }
    if (--op->outstanding == 0) countFinish(op);
}

static void countHandler(busReq *req) {
    int db = req->argc >= 3 ? parseDb(req, 2) : -1;
    if (db < 0) {
        busReplyError(req, "COUNT malformed");
        return;
    }
    size_t q = (size_t)server.ring_partitions;
    unsigned char *b = zmalloc(q * 8);
    for (size_t p = 0; p < q; p++) {
        uint64_t v = (uint64_t)dbPartitionKeys(db, (unsigned)p);
        for (int k = 0; k < 8; k++) b[p * 8 + (size_t)k] = (unsigned char)(v >> (8 * k));
    }
    const char *av[1] = {(const char *)b};
    size_t al[1] = {q * 8};
    busReplyArgs(req, 1, av, al);
    zfree(b);
}

/* FLUSHDB / FLUSHALL: deletes without tombstones, so it needs every node:
 * a node that missed it would bring the data back through repair. */
typedef struct flushOp {
    request *r;
    coordCountCallback *cb;
    void *pd;
    int outstanding;
    char err[200];
} flushOp;

static void flushFinish(flushOp *op) {
    request *r = op->r;
    op->cb(r, !op->err[0], op->err[0] ? op->err : NULL, 0, op->pd);
    requestRelease(r);
    zfree(op);
}

static void flushAnswered(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(reply);
    flushOp *op = pd;
    if (!ok && !op->err[0]) snprintf(op->err, sizeof(op->err), "-ERR flush failed on a node: %s", err);
    if (--op->outstanding == 0) flushFinish(op);
}

void coordFlush(request *r, int db, coordCountCallback *cb, void *pd) {
    int nm;
    member *m = gossipMembers(&nm);
    flushOp *op = zcalloc(sizeof(*op));
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    r->pending++;
    for (int i = 0; i < nm; i++) {
        if (m[i].status == MEMBER_LEFT || reachable(i)) continue;
        snprintf(op->err, sizeof(op->err),
                 "-CLUSTERDOWN %s needs every node: %s:%d is down (nothing was flushed)",
                 db < 0 ? "FLUSHALL" : "FLUSHDB", m[i].host, m[i].port);
        flushFinish(op);
        return;
    }
    op->outstanding = 1;
    char dbs[8];
    ll2string(dbs, sizeof(dbs), db);
    for (int i = 0; i < nm; i++) {
        if (i == gossipSelf() || m[i].status == MEMBER_LEFT) continue;
        op->outstanding++;
        const char *argv[2] = {"FLUSH", dbs};
        size_t lens[2] = {5, strlen(dbs)};
        busSend(linkOf(i), 2, argv, lens, flushAnswered, op, 10 * server.replica_timeout);
    }
    if (dbFlush(db) != C_OK && !op->err[0])
        snprintf(op->err, sizeof(op->err), "-IOERR flush failed, see the server log");
    if (--op->outstanding == 0) flushFinish(op);
}

static void flushHandler(busReq *req) {
    long long db;
    if (req->argc < 3 || !string2ll(req->argv[2], req->lens[2], &db) || db < -1 ||
        db >= server.databases) {
        busReplyError(req, "FLUSH malformed");
        return;
    }
    if (dbFlush((int)db) != C_OK) busReplyError(req, "flush failed");
    else busReplyOK(req);
}

void coordInitClusterOps(void) {
    busRegister("SCAN", scanHandler);
    busRegister("COUNT", countHandler);
    busRegister("FLUSH", flushHandler);
}
