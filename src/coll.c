/* coll.c -- collection keys through the cluster: reads merged from the read
 * level's replicas, writes of a command's batch of deltas. See coll.h.
 *
 * A read (collReadOp) asks the home replicas of the key as read-fanout says
 * (every one at once, or as many as the level needs with the others held
 * back until one fails or read-retry-ms passes, as read.c does; this node's
 * copy is read directly: collstore.c) for its answer: the string
 * record, the metadata, the sketch and elements as the mode asks. Every
 * answer merges into the view (all joins), and once the read level is met
 * the callback gets the view. Answers after that are dropped: an element
 * state a late replica lacks reaches it through anti-entropy (digests cover
 * every element key).
 *
 * States of a collReadOp, and the function that moves it:
 *
 *   collRead --> ASKING: every home replica asked
 *   ASKING --collReadProgress(verdict met)--> ANSWERED: collReadAnswer ran
 *             the callback with the view (finished first: sorted, merged)
 *   ASKING --collReadProgress(verdict lost)--> ANSWERED: the error
 *   ASKING --collReadProgress(verdict met, a range the replicas listed
 *            differently)--> REREADING: collReadAnswer asked for the listed
 *            elements by name (a COLL_READ_FIELDS read), holding op
 *   REREADING --rangeReread--> ANSWERED: that view merged in, the callback
 *   ANSWERED --collReadProgress(last answer in)--> collReadFree
 *
 * Invariants: op->outstanding counts the answers still to come plus a hold
 * while asking; the callback runs exactly once. No fallbacks: a collection
 * read or write needs its level among the key's home replicas (sloppy
 * quorum's hints carry string records only, see the README).
 *
 * Writes go through write.c (writeCoordinateBatch), which stores the batch
 * here when this node is a replica of the key and sends it to the others. */
#include "coll.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "busargs.h"
#include "clock.h"
#include "collbatch.h"
#include "collkey.h"
#include "gossip.h"
#include "metrics.h"
#include "target.h"
#include "types/strctr.h"
#include "write.h"

typedef struct collReadOp {
    request *r;        /* the client's request; NULL once answered */
    collReadCb *cb;    /* its continuation */
    void *pd;          /* cb's private data */
    int outstanding;   /* answers still to come, and a hold while asking */
    int mode;          /* COLL_READ_* */
    int level;         /* the read level */
    int nnames;        /* elements named */
    char **names;      /* owned copies */
    size_t *lens;
    int answers;       /* replicas whose answers merged */
    int differ;        /* COLL_READ_RANGE: the replicas listed different elements */
    int answering;     /* collReadAnswer is starting the second read of a range */
    int stats;         /* COLL_READ_COUNT: answers that gave figures, all alike so far */
    int statsdiffer;   /* ... or some did not give them, or differed */
    uint64_t count, digest, metahash; /* the first figures and metadata */
    struct event *retry; /* read-fanout needed: read-retry-ms asks the held-back ones */
    int incomplete;    /* a replica's answer was not complete */
    collView v;        /* the merge so far; el unsorted, may repeat names */
    int n;             /* targets */
    quorumTarget t[QUORUM_MAX_TARGETS];
    long long start_us;
} collReadOp;

static void collViewFree(collView *v) {
    keymetaFree(&v->meta);
    recordFree(&v->str);
    hllFree(&v->sketch);
    for (int i = 0; i < v->nel; i++) {
        zfree(v->el[i].name);
        fieldFree(&v->el[i].f);
    }
    zfree(v->el);
}

static void collReadFree(collReadOp *op) {
    if (op->retry) event_free(op->retry);
    collViewFree(&op->v);
    for (int i = 0; i < op->nnames; i++) zfree(op->names[i]);
    zfree(op->names);
    zfree(op->lens);
    zfree(op);
}

static int elemCmp(const void *a, const void *b) {
    const collElem *x = a, *y = b;
    size_t l = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, l);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Sorts the elements and merges those answered by several replicas. */
static void collViewFinish(collReadOp *op) {
    collView *v = &op->v;
    if (op->mode == COLL_READ_NAMED || op->mode == COLL_READ_FIELDS) /* every named one is in */
        for (int i = 0; i < op->nnames; i++) {
            v->el = zrealloc(v->el, sizeof(collElem) * (size_t)(v->nel + 1));
            collElem *e = &v->el[v->nel++];
            e->name = zmemdup(op->names[i], op->lens[i]);
            e->len = op->lens[i];
            fieldInit(&e->f);
        }
    if (v->nel > 1) qsort(v->el, (size_t)v->nel, sizeof(collElem), elemCmp);
    int w = 0, copies = 0;
    op->differ = 0;
    for (int i = 0; i < v->nel; i++) {
        if (w > 0 && !elemCmp(&v->el[w - 1], &v->el[i])) {
            fieldMerge(&v->el[w - 1].f, &v->el[i].f);
            zfree(v->el[i].name);
            fieldFree(&v->el[i].f);
            copies++;
            continue;
        }
        if (w > 0 && copies < op->answers) op->differ = 1; /* a replica did not list it */
        copies = 1;
        v->el[w++] = v->el[i];
    }
    if (w > 0 && copies < op->answers) op->differ = 1;
    v->nel = w;
    v->now_ms = serverNowMs();
    keymetaRemoval(&v->meta, v->now_ms, &v->kr);
    v->complete = !op->incomplete && (op->mode == COLL_READ_NAMED || op->mode == COLL_READ_ALL ||
                                      op->mode == COLL_READ_SAMPLE);
    v->counted = op->mode == COLL_READ_COUNT && op->stats > 0 && !op->statsdiffer;
    v->count = v->counted ? (long long)op->count : 0;
    if (op->mode == COLL_READ_RANGE) {
        collRange q;
        v->exhausted = !op->incomplete;
        v->complete = v->exhausted && collRangeDecode(&q, op->names[0], op->lens[0]) == C_OK &&
                      !q.hasmin && !q.hasmax;
    }
    /* the probe: a live element that was not named (the names, sorted, are
     * searched: a ZREM of 10,000 members compared every pair) */
    v->more = 0;
    for (int i = 0; i < v->nel; i++) v->el[i].named = 0;
    if (op->mode == COLL_READ_NAMED || op->mode == COLL_READ_FIELDS) {
        collElem *names = zmalloc(sizeof(collElem) * (size_t)(op->nnames ? op->nnames : 1));
        for (int j = 0; j < op->nnames; j++) {
            names[j].name = op->names[j];
            names[j].len = op->lens[j];
        }
        if (op->nnames > 1) qsort(names, (size_t)op->nnames, sizeof(collElem), elemCmp);
        for (int i = 0; i < v->nel; i++) {
            v->el[i].named =
                bsearch(&v->el[i], names, (size_t)op->nnames, sizeof(collElem), elemCmp) != NULL;
            if (!v->el[i].named && collElemLive(v, &v->el[i])) v->more = 1;
        }
        zfree(names);
    }
    /* a dot this node makes next must be above every dot of the key: the
     * last writer wins by HLC, and a later command must win */
    for (int i = 0; i < v->meta.clock.n; i++) clockObserve(v->meta.clock.e[i].counter);
    for (int i = 0; i < v->str.n; i++) clockObserve(v->str.v[i].counter);
}

static void collReadProgress(collReadOp *op);

/* The second half of a range read whose replicas listed different
 * elements: the named read of them all (collReadAnswer started it) merges
 * into the first view, whose callback runs now. */
static void rangeReread(request *r, const collView *nv, const char *err, void *pd) {
    collReadOp *op = pd;
    if (err) {
        op->cb(r, NULL, err, op->pd);
    } else {
        collView *v = &op->v;
        keymetaMerge(&v->meta, &nv->meta);
        recordMerge(&v->str, &nv->str, 1);
        for (int i = 0; i < nv->nel; i++) {
            collElem *e = collViewFind(v, nv->el[i].name, nv->el[i].len);
            if (e) fieldMerge(&e->f, &nv->el[i].f);
        }
        v->now_ms = nv->now_ms;
        keymetaRemoval(&v->meta, v->now_ms, &v->kr);
        op->cb(r, v, NULL, op->pd);
    }
    op->outstanding--; /* the hold collReadAnswer took */
    if (!op->answering) collReadProgress(op); /* else collReadAnswer's caller frees op */
}

static void collReadAnswer(collReadOp *op, const quorumVerdict *vd) {
    request *r = op->r;
    op->r = NULL;
    metricsCoord(0, op->level, ustime() - op->start_us, vd->status == QUORUM_MET);
    if (vd->status == QUORUM_MET) {
        collViewFinish(op);
        if (op->mode == COLL_READ_RANGE && op->differ) {
            char **names = zmalloc(sizeof(char *) * (size_t)op->v.nel);
            size_t *lens = zmalloc(sizeof(size_t) * (size_t)op->v.nel);
            for (int i = 0; i < op->v.nel; i++) {
                names[i] = op->v.el[i].name;
                lens[i] = op->v.el[i].len;
            }
            op->outstanding++; /* held until rangeReread ran */
            coordStats.range_rereads++;
            op->answering = 1; /* (the read may answer before collRead returns) */
            collRead(r, op->v.db, op->v.key, op->v.klen, COLL_READ_FIELDS, names, lens,
                     op->v.nel, rangeReread, op);
            op->answering = 0;
            zfree(names);
            zfree(lens);
        } else {
            op->cb(r, &op->v, NULL, op->pd);
        }
    } else {
        char err[320];
        quorumError(vd, "answered", NULL, err, sizeof(err));
        coordStats.noquorum++;
        op->cb(r, NULL, err, op->pd);
    }
    requestRelease(r);
}

static void collReadProgress(collReadOp *op) {
    if (op->r) {
        quorumVerdict vd = targetEval(op->level, op->t, op->n);
        if (vd.status != QUORUM_WAITING) collReadAnswer(op, &vd);
    }
    if (!op->r && op->outstanding == 0) collReadFree(op);
}

/* Merges one replica's answer into the view; C_ERR if it is malformed. */
static int collReadMerge(collReadOp *op, const char *p, size_t len) {
    collAnswer a;
    if (collAnswerInit(&a, p, len) != C_OK) return C_ERR;
    collView *v = &op->v;
    int rc = C_OK;
    if (a.strlen) {
        record rec;
        recordInit(&rec);
        if (recordDecode(&rec, a.str, a.strlen) == C_OK) recordMerge(&v->str, &rec, 1);
        else rc = C_ERR;
        recordFree(&rec);
    }
    if (a.metalen) {
        keymeta m;
        keymetaInit(&m);
        if (keymetaDecode(&m, a.meta, a.metalen) == C_OK) keymetaMerge(&v->meta, &m);
        else rc = C_ERR;
        keymetaFree(&m);
    }
    if (a.sketchlen) {
        hll h;
        hllInit(&h);
        if (hllDecode(&h, a.sketch, a.sketchlen) == C_OK) hllMerge(&v->sketch, &h);
        else rc = C_ERR;
        hllFree(&h);
    }
    if (!(a.flags & COLL_ANS_COMPLETE)) op->incomplete = 1;
    op->answers++;
    if (op->mode == COLL_READ_COUNT) {
        uint64_t mh = XXH3_64bits(a.meta ? a.meta : "", a.metalen);
        if (!(a.flags & COLL_ANS_STATS)) {
            op->statsdiffer = 1;
        } else if (op->stats++ == 0) {
            op->count = a.count;
            op->digest = a.digest;
            op->metahash = mh;
        } else if (a.count != op->count || a.digest != op->digest || mh != op->metahash) {
            op->statsdiffer = 1;
        }
    }
    int named, k;
    const char *e, *s;
    size_t elen, slen;
    if (a.n > (uint64_t)len) return C_ERR; /* each element takes bytes */
    int limit = v->nel + (int)a.n;
    v->el = zrealloc(v->el, sizeof(collElem) * (size_t)(limit + 1));
    while ((k = collAnswerNext(&a, &named, &e, &elen, &s, &slen)) == 1) {
        if (v->nel >= limit) { /* more than it announced */
            rc = C_ERR;
            break;
        }
        collElem *x = &v->el[v->nel];
        fieldInit(&x->f);
        if (fieldDecode(&x->f, s, slen) != C_OK) {
            fieldFree(&x->f);
            rc = C_ERR;
            continue;
        }
        x->name = zmemdup(elen ? e : "", elen);
        x->len = elen;
        v->nel++;
    }
    if (k < 0) rc = C_ERR;
    return rc;
}

static void collReadAsk(collReadOp *op, int i);

/* Asks the first held-back replica (read-fanout needed); 0 if none is. */
static int collAskHeldBack(collReadOp *op) {
    int i = targetTakeHeld(op->t, op->n);
    if (i < 0) return 0;
    collReadAsk(op, i);
    return 1;
}

/* Target i answered (ok) or failed: a failed one is replaced by a
 * held-back replica while the read is unanswered (no fallbacks: see the
 * top). */
static void collReadResult(collReadOp *op, int i, int ok) {
    quorumResult(&op->t[i], ok);
    if (!ok && op->r) collAskHeldBack(op);
}

/* Called by bus.c with a replica's answer to TREAD. */
static void collReadAnswered(const busResult *res, void *pd) {
    int i;
    collReadOp *op = targetRefTake(pd, &i);
    op->outstanding--;
    const redisReply *reply = res->reply;
    /* an answer after the callback is dropped: the view is final once
     * finished (a range read's second half merges into it, and an answer
     * appended then was read unsorted and unmerged: ranks came out wrong) */
    int ok = res->status == BUS_OK && reply->elements >= 4 &&
             (!op->r || collReadMerge(op, reply->element[3]->str, reply->element[3]->len) == C_OK);
    collReadResult(op, i, ok);
    collReadProgress(op);
}

static void collReadAsk(collReadOp *op, int i) {
    quorumTarget *t = &op->t[i];
    if (t->member == gossipSelf()) {
        buf ans;
        bufInit(&ans);
        int ok = collStoreRead(op->v.db, op->v.key, op->v.klen, op->mode,
                               (const char *const *)op->names, op->lens,
                               op->nnames, &ans) == C_OK &&
                 collReadMerge(op, ans.ptr, ans.len) == C_OK;
        bufFree(&ans);
        collReadResult(op, i, ok);
        return;
    }
    if (!targetReachable(t->member)) {
        collReadResult(op, i, 0);
        return;
    }
    busArgs args; /* TREAD db key mode name... */
    busArgsInit(&args);
    busArgsStr(&args, "TREAD");
    busArgsInt(&args, op->v.db);
    busArgsBytes(&args, op->v.key, op->v.klen);
    busArgsInt(&args, op->mode);
    for (int j = 0; j < op->nnames; j++) busArgsBytes(&args, op->names[j], op->lens[j]);
    op->outstanding++;
    busArgsSend(&args, targetLink(t->member), collReadAnswered, targetRefNew(op, i), 0);
}

static void collRetry(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    collReadOp *op = arg;
    if (!op->r) return;
    op->outstanding++; /* hold the operation while asking */
    while (collAskHeldBack(op)) {}
    op->outstanding--;
    collReadProgress(op);
}

/* Asks the replicas, as string reads do (read.c): every one (read-fanout
 * all, or a level counted per data center), else (read-fanout needed) this
 * node's copy and the next reachable replicas in preference order, as many
 * as the level needs; the others are held back until one fails or
 * read-retry-ms passes. */
static void collAskFirst(collReadOp *op) {
    int ask = targetReadFanout(op->t, op->n, op->level);
    if (ask >= op->n) {
        for (int i = 0; i < op->n; i++) collReadAsk(op, i);
        return;
    }
    int pick[QUORUM_MAX_TARGETS];
    int np = targetPickReaders(op->t, op->n, ask, pick);
    for (int j = 0; j < np; j++) collReadAsk(op, pick[j]);
    for (; np < ask && collAskHeldBack(op); np++) {} /* too few reachable: fail fast */
    if (op->r) op->retry = targetRetryTimer(op->t, op->n, collRetry, op);
}

void collRead(request *r, int db, const char *key, size_t klen, int mode, char **names,
              const size_t *lens, int n, collReadCb *cb, void *pd) {
    collReadOp *op = zcalloc(sizeof(*op));
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    op->mode = mode;
    op->v.db = db;
    op->v.key = key;
    op->v.klen = klen;
    keymetaInit(&op->v.meta);
    recordInit(&op->v.str);
    hllInit(&op->v.sketch);
    if ((mode == COLL_READ_NAMED || mode == COLL_READ_FIELDS || mode == COLL_READ_SAMPLE ||
         mode == COLL_READ_RANGE) &&
        n > 0) {
        op->nnames = n;
        op->names = zmalloc(sizeof(char *) * (size_t)n);
        op->lens = zmalloc(sizeof(size_t) * (size_t)n);
        for (int i = 0; i < n; i++) {
            op->names[i] = zmemdup(lens[i] ? names[i] : "", lens[i]);
            op->lens[i] = lens[i];
        }
    }
    op->n = targetsJoint(db, key, klen, op->t);
    op->level = targetLevel(r, 0);
    op->start_us = ustime();
    r->pending++;
    coordStats.reads++;
    op->outstanding++; /* hold until every target was asked */
    collAskFirst(op);
    op->outstanding--;
    collReadProgress(op);
}

/* ------------------------------------------------------ SCARD, HLEN, ZCARD */

typedef struct countOp {
    int type;          /* KT_* the command counts */
    collReadCb *whole; /* its count from a whole read */
    void *pd;          /* whole's private data */
} countOp;

static void counted(request *r, const collView *v, const char *err, void *pd) {
    countOp c = *(countOp *)pd;
    zfree(pd);
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (!v->counted) { /* figures missing or different: the replicas differ */
        collRead(r, v->db, v->key, v->klen, COLL_READ_ALL, NULL, NULL, 0, c.whole, c.pd);
        return;
    }
    if (collCheckType(r, v, c.type)) return;
    addReplyInteger(r, collTypeOf(v) == c.type ? v->count : 0);
}

void collCount(request *r, int db, const char *key, size_t klen, int type, collReadCb *whole,
               void *pd) {
    countOp *c = zmalloc(sizeof(*c));
    *c = (countOp){type, whole, pd};
    collRead(r, db, key, klen, COLL_READ_COUNT, NULL, NULL, 0, counted, c);
}

/* ------------------------------------------------------------ the view */

collElem *collViewFind(const collView *v, const char *name, size_t len) {
    collElem k;
    k.name = (char *)name;
    k.len = len;
    return bsearch(&k, v->el, (size_t)v->nel, sizeof(collElem), elemCmp);
}

int collElemLive(const collView *v, const collElem *e) { return fieldLive(&e->f, &v->kr); }

long long collLiveCount(const collView *v) {
    long long n = 0;
    for (int i = 0; i < v->nel; i++)
        if (collElemLive(v, &v->el[i])) n++;
    return n;
}

/* Whether the view shows no live element of the collection for sure. */
static int collEmpty(const collView *v) {
    if (!v->complete || v->more) return 0;
    return collLiveCount(v) == 0;
}

int collTypeOf(const collView *v) {
    keymetaCand c[KT_MAX + 1];
    int n = 0;
    static const counter none;
    strctrCandidate(&v->str, v->str.ctr ? v->str.ctr : &none, v->now_ms, &c[n++]);
    for (int t = KT_SET; t <= KT_HLL; t++) {
        c[n].type = t;
        c[n].live = keymetaTypeMayLive(&v->meta, t, v->now_ms);
        /* an emptied collection (every element removed, no DEL recorded) */
        if (c[n].live && t != KT_HLL && collEmpty(v)) c[n].live = 0;
        c[n].last = keymetaTypeStamp(&v->meta, t);
        n++;
    }
    int w = keymetaResolveType(c, n);
    return w < 0 ? -1 : c[w].type;
}

int collCheckType(request *r, const collView *v, int type) {
    int t = collTypeOf(v);
    if (t < 0 || t == type) return 0;
    addReplyError(r, ERR_WRONGTYPE);
    return 1;
}

uint64_t collDot(void) { return clockNext(); }

/* ------------------------------------------------------------ batches */

void collBatchInit(collBatch *b) {
    bufInit(&b->b);
    b->n = 0;
}

void collBatchFree(collBatch *b) {
    bufFree(&b->b);
    b->n = 0;
}

void collBatchMeta(collBatch *b, const keymeta *delta) {
    buf e;
    bufInit(&e);
    keymetaEncode(delta, &e);
    collBatchAppend(&b->b, COLLKEY_META, NULL, 0, e.ptr, e.len);
    b->n++;
    bufFree(&e);
}

void collBatchField(collBatch *b, const char *name, size_t len, const field *delta) {
    buf e;
    bufInit(&e);
    fieldEncode(delta, &e);
    collBatchAppend(&b->b, COLLKEY_ELEM, name, len, e.ptr, e.len);
    b->n++;
    bufFree(&e);
}

void collBatchHll(collBatch *b, const hll *delta) {
    buf e;
    bufInit(&e);
    hllEncode(delta, &e);
    collBatchAppend(&b->b, COLLKEY_HLL, NULL, 0, e.ptr, e.len);
    b->n++;
    bufFree(&e);
}

void collBatchTouch(collBatch *b, const collView *v, int type, uint64_t seq) {
    keymeta d;
    keymetaInit(&d);
    if (collTypeOf(v) == type)
        keymetaDeltaWrite(&d, type, server.actor, seq);
    else
        keymetaDeltaCreate(&d, &v->meta, v->now_ms, type, server.actor, seq);
    collBatchMeta(b, &d);
    keymetaFree(&d);
}

void collBatchDel(collBatch *b, const collView *v, uint64_t seq) {
    keymeta d;
    keymetaInit(&d);
    keymetaDeltaDel(&d, &v->meta, v->now_ms, server.actor, seq);
    collBatchMeta(b, &d);
    keymetaFree(&d);
}

/* ------------------------------------------------------------ writes */

void collWrite(request *r, int db, const char *key, size_t klen, const collBatch *b,
               coordCallback *cb, void *pd) {
    if (!b->n) {
        coordResult ok = {1, NULL, NULL, 0};
        cb(r, &ok, pd);
        return;
    }
    r->pending++;
    coordStats.writes++;
    writeCoordinateBatch(r, db, key, klen, targetLevel(r, 1), b->b.ptr, b->b.len, cb, pd);
}
