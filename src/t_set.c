/* t_set.c -- the set commands of Redis 7.0 over coll.h: SADD SREM SISMEMBER
 * SMISMEMBER SMEMBERS SCARD SPOP SRANDMEMBER SMOVE SINTER SINTERCARD
 * SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN.
 *
 * A set is an add-wins observed-remove set (docs/types.md, "Sets"): each
 * member is an element of the key (field.h) carrying the dots of the SADDs
 * that added it; SREM and SPOP record the dots they saw, so an SADD they did
 * not see survives. A member is present while collElemLive says so.
 *
 * Every handler is a continuation chain, as in t_string.c:
 *   1. collRead the key(s): COLL_READ_FIELDS for the members a command adds
 *      or looks up (SADD, SISMEMBER, SMISMEMBER, SMOVE's destination),
 *      COLL_READ_NAMED for those it removes (SREM, SMOVE's source: its probe
 *      tells whether the set is left empty), COLL_READ_ALL when it needs the
 *      whole set (SCARD, SMEMBERS, SPOP, SRANDMEMBER, SSCAN, the algebra),
 *      COLL_READ_META for a *STORE destination (only its DEL context);
 *   2. the read's callback checks the type (WRONGTYPE), computes the reply
 *      and the deltas of one collBatch per key written, with one dot per
 *      command (collDot, taken after every read it depends on answered);
 *   3. collWrite; the reply prepared in step 2 is sent once every write of
 *      the command was acknowledged, or the first write error instead.
 * A command that writes nothing (SREM of absent members, SPOP of a missing
 * key...) replies from its read, as Redis replies without propagating.
 *
 * Deltas per command:
 *   SADD        collBatchTouch(KT_SET) + fieldDeltaAdd for each distinct
 *               member, present or not (a new dot: a concurrent SREM of the
 *               old one does not remove this add)
 *   SREM, SPOP  fieldDeltaRemove of each live member removed (the dots seen)
 *               + collBatchDel when nothing else lives (Redis deletes an
 *               emptied set: its TTL goes with it)
 *   SMOVE       the SREM of the member in source, the SADD in destination:
 *               two writes, no isolation across the two keys (as DEL k1 k2)
 *   *STORE      collBatchDel over what the destination held + the SADD of
 *               the result, one batch on the destination (Redis overwrites
 *               it whatever its type), and a tombstone over the string
 *               versions it read if it held a string; an empty result only
 *               deletes
 *
 * Multi-key commands read their keys in parallel, each read holding one
 * pending count on the request; each answer is copied (viewDup: a collView
 * is borrowed for its callback only) and the command runs once all came.
 *
 * Replies are Redis's, in member order (the views are sorted by name, so
 * SMEMBERS lists in memcmp order where Redis lists in hash order: clients
 * must not rely on either). SSCAN's cursor is an index into that sorted list
 * of live members: a full iteration returns every member present for its
 * whole duration, once (members added or removed meanwhile may be missed or,
 * if the list shifts, repeated: Redis's SSCAN guarantee is the same).
 *
 * API: setCommandTable (t_set.h), the rows commands.c gathers.
 *
 * Invariants: a command writes nothing unless its arguments were all valid
 * and every key named is a set or absent (WRONGTYPE is decided before any
 * write); the reply of a write is sent only after collWrite's callback(s). */
#include "t_set.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coll.h"
#include "commands.h"
#include "server.h"
#include "t_string.h"

/* ----------------------------------------------------------------- state */

#define SR_INT 0  /* integer reply: s->ll */
#define SR_BULK 1 /* one member (SPOP without count): the first of s->out, or null */
#define SR_SET 2  /* the members of s->out as a set (SPOP with count) */

/* One request's state: its multi-key reads, and the reply prepared for when
 * its writes are acknowledged. The request owns it (requestState). */
typedef struct setState {
    /* multi-key reads */
    int nkeys;          /* reads issued */
    int answered;       /* reads answered */
    collView **views;   /* by key: deep copies of the answers (viewDup), owned */
    void (*then)(request *r, struct setState *s); /* runs when every read answered */
    int op;             /* the algebra's operation (SET_OP_*) */
    int first;          /* argv index of the first source key */
    int store;          /* *STORE: views[nkeys - 1] is the destination */
    int cardonly;       /* SINTERCARD */
    long long limit;    /* SINTERCARD LIMIT, 0 = none */
    /* the reply, sent once every write answered */
    int writes;         /* collWrite calls not answered yet (+1 while issuing them) */
    char err[320];      /* first read or write error, "" if none */
    int kind;           /* SR_* */
    long long ll;       /* SR_INT */
    buf out;            /* SR_BULK / SR_SET: member bytes, concatenated */
    size_t *outlen;     /* their lengths */
    long nout, outcap;
} setState;

static void viewFree(collView *v);

static void setStateFree(void *p) {
    setState *s = p;
    for (int i = 0; i < s->nkeys; i++)
        if (s->views[i]) viewFree(s->views[i]);
    zfree(s->views);
    bufFree(&s->out);
    zfree(s->outlen);
    zfree(s);
}

static setState *setStateNew(request *r) {
    setState *s = requestState(r, sizeof(*s));
    r->state_free = setStateFree;
    bufInit(&s->out);
    return s;
}

/* A member for the prepared reply (copied). */
static void setReplyAdd(setState *s, const char *p, size_t len) {
    if (s->nout == s->outcap) {
        s->outcap = s->outcap ? s->outcap * 2 : 8;
        s->outlen = zrealloc(s->outlen, sizeof(size_t) * (size_t)s->outcap);
    }
    bufAppend(&s->out, p, len);
    s->outlen[s->nout++] = len;
}

static void setReplySend(request *r, setState *s) {
    if (s->err[0]) {
        addReplyError(r, s->err);
        return;
    }
    if (s->kind == SR_INT) {
        addReplyInteger(r, s->ll);
        return;
    }
    if (s->kind == SR_BULK) {
        if (s->nout) addReplyBulk(r, s->out.ptr ? s->out.ptr : "", s->outlen[0]);
        else addReplyNull(r);
        return;
    }
    addReplySetLen(r, s->nout);
    size_t off = 0;
    for (long i = 0; i < s->nout; i++) {
        addReplyBulk(r, s->out.ptr ? s->out.ptr + off : "", s->outlen[i]);
        off += s->outlen[i];
    }
}

/* ---------------------------------------------------------------- writes */

/* collWrite's callback (coll.c calls it once per write): the reply goes
 * after the last one. */
static void setWriteDone(request *r, const coordResult *res, void *pd) {
    setState *s = pd;
    if (!res->ok && !s->err[0]) snprintf(s->err, sizeof(s->err), "%s", res->err);
    if (--s->writes == 0) setReplySend(r, s);
}

/* Writes are issued between setWritesBegin and setWritesEnd, which hold one
 * count so that a write answering at once (an empty batch does) cannot send
 * the reply before the next one is issued. */
static void setWritesBegin(setState *s) { s->writes = 1; }

static void setWrite(request *r, setState *s, const char *key, size_t klen, const collBatch *b) {
    s->writes++;
    collWrite(r, r->db, key, klen, b, setWriteDone, s);
}

static void setWritesEnd(request *r, setState *s) {
    coordResult ok = {.ok = 1};
    setWriteDone(r, &ok, s);
}

/* One batch on one key, then the prepared reply. b is copied by collWrite:
 * the caller frees it. */
static void setWriteOne(request *r, setState *s, const char *key, size_t klen,
                        const collBatch *b) {
    setWritesBegin(s);
    setWrite(r, s, key, klen, b);
    setWritesEnd(r, s);
}

static void batchAdd(collBatch *b, const char *name, size_t len, uint64_t seq) {
    field d;
    fieldInit(&d);
    fieldDeltaAdd(&d, server.actor, seq);
    collBatchField(b, name, len, &d);
    fieldFree(&d);
}

static void batchRemove(collBatch *b, const collElem *e) {
    field d;
    fieldInit(&d);
    fieldDeltaRemove(&d, &e->f);
    collBatchField(b, e->name, e->len, &d);
    fieldFree(&d);
}

/* ----------------------------------------------------------------- views */

static int viewLive(const collView *v, const char *name, size_t len) {
    const collElem *e = collViewFind(v, name, len);
    return e && collElemLive(v, e);
}

/* The live elements of v, in name order; *n gets their number. The array
 * is the caller's (zfree), the elements are v's. */
static const collElem **viewLiveElems(const collView *v, long *n) {
    const collElem **a = zmalloc(sizeof(*a) * (size_t)(v->nel + 1));
    long k = 0;
    for (int i = 0; i < v->nel; i++)
        if (collElemLive(v, &v->el[i])) a[k++] = &v->el[i];
    *n = k;
    return a;
}

/* Does the key hold nothing live once the elements marked in gone (by index
 * in v->el) are removed? Only when the read saw everything (complete) and
 * found no live element it did not list (more): otherwise an element may
 * live that this command cannot see, and the key must stay. */
static int viewEmptiedBy(const collView *v, const char *gone) {
    if (v->more || !v->complete) return 0;
    for (int i = 0; i < v->nel; i++)
        if (!gone[i] && collElemLive(v, &v->el[i])) return 0;
    return 1;
}

/* A deep copy of v that outlives its callback (multi-key commands). The
 * key pointer stays borrowed from the request, which outlives the copy. */
static collView *viewDup(const collView *v) {
    collView *c = zcalloc(sizeof(*c));
    c->db = v->db;
    c->key = v->key;
    c->klen = v->klen;
    c->now_ms = v->now_ms;
    keymetaInit(&c->meta);
    keymetaCopy(&c->meta, &v->meta);
    recordInit(&c->str);
    recordMerge(&c->str, &v->str, 1);
    hllInit(&c->sketch); /* sets never read a sketch */
    keymetaRemoval(&c->meta, c->now_ms, &c->kr);
    c->nel = v->nel;
    c->el = zcalloc(sizeof(collElem) * (size_t)(v->nel + 1));
    for (int i = 0; i < v->nel; i++) {
        c->el[i].name = zmalloc(v->el[i].len + 1);
        memcpy(c->el[i].name, v->el[i].name, v->el[i].len);
        c->el[i].len = v->el[i].len;
        fieldInit(&c->el[i].f);
        fieldCopy(&c->el[i].f, &v->el[i].f);
    }
    c->more = v->more;
    c->complete = v->complete;
    return c;
}

static void viewFree(collView *v) {
    keymetaFree(&v->meta);
    recordFree(&v->str);
    hllFree(&v->sketch);
    for (int i = 0; i < v->nel; i++) {
        zfree(v->el[i].name);
        fieldFree(&v->el[i].f);
    }
    zfree(v->el);
    zfree(v);
}

/* ------------------------------------------------------------- arguments */

typedef struct setArg {
    const char *p;
    size_t len;
} setArg;

static int setArgCmp(const void *a, const void *b) {
    const setArg *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c) return c;
    return x->len < y->len ? -1 : (x->len > y->len);
}

/* argv[first..argc-1] without repetitions (SADD s a a adds a once); *n
 * gets their number. The array is the caller's (zfree). */
static setArg *uniqueArgs(request *r, int first, int *n) {
    int k = r->argc - first;
    setArg *a = zmalloc(sizeof(*a) * (size_t)(k + 1));
    for (int i = 0; i < k; i++) a[i] = (setArg){r->argv[first + i], r->argvlen[first + i]};
    qsort(a, (size_t)k, sizeof(*a), setArgCmp);
    int u = 0;
    for (int i = 0; i < k; i++)
        if (!u || setArgCmp(&a[u - 1], &a[i])) a[u++] = a[i];
    *n = u;
    return a;
}

static int sameArg(request *r, int a, int b) {
    return r->argvlen[a] == r->argvlen[b] && !memcmp(r->argv[a], r->argv[b], r->argvlen[a]);
}

/* Redis's getRangeLongFromObjectOrReply: a long in [min, max]; msg (when
 * given) is the error for both a non-number and a number out of range. */
static int getRangeArg(request *r, int i, long long min, long long max, long long *v,
                       const char *msg) {
    if (getLongLongFromArg(r, i, v, msg) != C_OK) return C_ERR;
    if (*v < min || *v > max) {
        if (msg) addReplyError(r, msg);
        else addReplyErrorFormat(r, "value is out of range, value must between %lld and %lld",
                                 min, max);
        return C_ERR;
    }
    return C_OK;
}

#define ERR_POSITIVE "value is out of range, must be positive"

/* ---------------------------------------------------------------- random */

/* xorshift64*: SPOP and SRANDMEMBER need fair picks, not secrets. Seeded
 * per command from getRandomBytes. */
typedef struct setRng {
    uint64_t s;
} setRng;

static void rngInit(setRng *g) {
    getRandomBytes((unsigned char *)&g->s, sizeof(g->s));
    if (!g->s) g->s = 0x9e3779b97f4a7c15ULL;
}

static uint64_t rngBelow(setRng *g, uint64_t n) {
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return (g->s * 0x2545f4914f6cdd1dULL) % n;
}

/* Moves k distinct random entries of a[0..n-1] to its front (a partial
 * Fisher-Yates shuffle). */
static void pickDistinct(setRng *g, const collElem **a, long n, long k) {
    for (long i = 0; i < k && i < n - 1; i++) {
        long j = i + (long)rngBelow(g, (uint64_t)(n - i));
        const collElem *t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* ------------------------------------------------------------------ SADD */

/* SADD key member [member ...] */
static void saddRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collCheckType(r, v, KT_SET)) return;
    int n;
    setArg *m = uniqueArgs(r, 2, &n);
    uint64_t seq = collDot();
    collBatch b;
    collBatchInit(&b);
    collBatchTouch(&b, v, KT_SET, seq);
    long long added = 0;
    for (int i = 0; i < n; i++) {
        if (!viewLive(v, m[i].p, m[i].len)) added++;
        batchAdd(&b, m[i].p, m[i].len, seq);
    }
    setState *s = setStateNew(r);
    s->kind = SR_INT;
    s->ll = added;
    setWriteOne(r, s, r->argv[1], r->argvlen[1], &b);
    collBatchFree(&b);
    zfree(m);
}

static void saddCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_FIELDS, r->argv + 2, r->argvlen + 2,
             r->argc - 2, saddRead, NULL);
}

/* ------------------------------------------------------------------ SREM */

/* SREM key member [member ...] */
static void sremRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collCheckType(r, v, KT_SET)) return;
    int n;
    setArg *m = uniqueArgs(r, 2, &n);
    char *gone = zcalloc((size_t)v->nel + 1);
    collBatch b;
    collBatchInit(&b);
    long long removed = 0;
    for (int i = 0; i < n; i++) {
        const collElem *e = collViewFind(v, m[i].p, m[i].len);
        if (!e || !collElemLive(v, e)) continue;
        batchRemove(&b, e);
        gone[e - v->el] = 1;
        removed++;
    }
    if (!removed) {
        addReplyInteger(r, 0);
    } else {
        if (viewEmptiedBy(v, gone)) collBatchDel(&b, v, collDot());
        setState *s = setStateNew(r);
        s->kind = SR_INT;
        s->ll = removed;
        setWriteOne(r, s, r->argv[1], r->argvlen[1], &b);
    }
    collBatchFree(&b);
    zfree(gone);
    zfree(m);
}

static void sremCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_NAMED, r->argv + 2, r->argvlen + 2,
             r->argc - 2, sremRead, NULL);
}

/* --------------------------------------------------- SISMEMBER / SMISMEMBER */

/* SISMEMBER key member */
static void sismemberRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collCheckType(r, v, KT_SET)) return;
    addReplyInteger(r, viewLive(v, r->argv[2], r->argvlen[2]));
}

static void sismemberCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_FIELDS, r->argv + 2, r->argvlen + 2, 1,
             sismemberRead, NULL);
}

/* SMISMEMBER key member [member ...]: a missing key is an empty set. */
static void smismemberRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collCheckType(r, v, KT_SET)) return;
    addReplyArrayLen(r, r->argc - 2);
    for (int i = 2; i < r->argc; i++) addReplyInteger(r, viewLive(v, r->argv[i], r->argvlen[i]));
}

static void smismemberCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_FIELDS, r->argv + 2, r->argvlen + 2,
             r->argc - 2, smismemberRead, NULL);
}

/* ------------------------------------------------------ SCARD / SMEMBERS */

static void readAll(request *r, collReadCb *cb) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0, cb, NULL);
}

/* SCARD key */
static void scardRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collCheckType(r, v, KT_SET)) return;
    addReplyInteger(r, collLiveCount(v));
}

/* (from the replicas' figures when they agree: collCount) */
static void scardCommand(request *r) {
    collCount(r, r->db, r->argv[1], r->argvlen[1], KT_SET, scardRead, NULL);
}

/* SMEMBERS key (Redis 7.0 runs it as SINTER key: a set reply) */
static void smembersRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collCheckType(r, v, KT_SET)) return;
    long n;
    const collElem **live = viewLiveElems(v, &n);
    addReplySetLen(r, n);
    for (long i = 0; i < n; i++) addReplyBulk(r, live[i]->name, live[i]->len);
    zfree(live);
}

static void smembersCommand(request *r) { readAll(r, smembersRead); }

/* ------------------------------------------------------------------ SPOP */

/* SPOP key [count]. pd: 1 when a count was given (it is in argv[2], valid). */
static void spopRead(request *r, const collView *v, const char *err, void *pd) {
    int withcount = pd != NULL;
    if (err) {
        addReplyError(r, err);
        return;
    }
    long long count = 1;
    if (withcount) string2ll(r->argv[2], r->argvlen[2], &count);
    if (collTypeOf(v) == -1) {
        /* missing: nil, or an empty set for SPOP key count */
        if (withcount) addReplySetLen(r, 0);
        else addReplyNull(r);
        return;
    }
    if (collCheckType(r, v, KT_SET)) return;
    if (count == 0) {
        addReplySetLen(r, 0);
        return;
    }
    long n;
    const collElem **live = viewLiveElems(v, &n);
    long k = count >= n ? n : (long)count;
    if (k == 0) { /* a set with nothing live reads as missing; kept for safety */
        zfree(live);
        if (withcount) addReplySetLen(r, 0);
        else addReplyNull(r);
        return;
    }
    setRng g;
    rngInit(&g);
    pickDistinct(&g, live, n, k);
    setState *s = setStateNew(r);
    s->kind = withcount ? SR_SET : SR_BULK;
    char *gone = zcalloc((size_t)v->nel + 1);
    collBatch b;
    collBatchInit(&b);
    for (long i = 0; i < k; i++) {
        batchRemove(&b, live[i]);
        gone[live[i] - v->el] = 1;
        setReplyAdd(s, live[i]->name, live[i]->len);
    }
    if (viewEmptiedBy(v, gone)) collBatchDel(&b, v, collDot());
    setWriteOne(r, s, r->argv[1], r->argvlen[1], &b);
    collBatchFree(&b);
    zfree(gone);
    zfree(live);
}

/* One member, SPOP key or SRANDMEMBER key, without reading the whole set:
 *   1. a sample (COLL_READ_SAMPLE): each replica returns the first few
 *      members it holds live from where random bytes fall in the member
 *      order (wrapping around); a sample is one replica's view;
 *   2. those candidates read by name from the read level's replicas (their
 *      merged states, and the probe that tells whether the set empties);
 *   3. a live one at random is the answer (and, for SPOP, removed).
 * O(1) in the set's size where a whole read made SPOP O(n) (Redis's
 * "intsets implementation stress testing" timed out). The pick is random
 * among the members near a random point, not uniform over the set as
 * Redis's: the README says so. If every candidate was removed meanwhile,
 * the whole set is read (spopRead / srandmemberRead). pd: 1 for SPOP. */
static void srandmemberRead(request *r, const collView *v, const char *err, void *pd);

/* The start of both reads of one member: 1 when the reply is made (the
 * read's error, a missing key's nil, WRONGTYPE). */
static int oneReplied(request *r, const collView *v, const char *err) {
    if (err) {
        addReplyError(r, err);
        return 1;
    }
    if (collTypeOf(v) == -1) {
        addReplyNull(r);
        return 1;
    }
    return collCheckType(r, v, KT_SET);
}

static void oneNamedRead(request *r, const collView *v, const char *err, void *pd) {
    int pop = pd != NULL;
    if (oneReplied(r, v, err)) return;
    /* the candidates only: a probe's member was listed by some replicas and
     * its state is theirs (one that missed its removal lists it live) */
    long n = 0;
    const collElem **live = viewLiveElems(v, &n);
    long k = 0;
    for (long i = 0; i < n; i++)
        if (live[i]->named) live[k++] = live[i];
    n = k;
    if (n == 0) { /* removed meanwhile: the whole set */
        zfree(live);
        collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0,
                 pop ? spopRead : srandmemberRead, NULL);
        return;
    }
    setRng g;
    rngInit(&g);
    const collElem *e = live[rngBelow(&g, (uint64_t)n)];
    if (!pop) {
        addReplyBulk(r, e->name, e->len);
        zfree(live);
        return;
    }
    setState *s = setStateNew(r);
    s->kind = SR_BULK;
    char *gone = zcalloc((size_t)v->nel + 1);
    gone[e - v->el] = 1;
    collBatch b;
    collBatchInit(&b);
    batchRemove(&b, e);
    setReplyAdd(s, e->name, e->len);
    if (viewEmptiedBy(v, gone)) collBatchDel(&b, v, collDot());
    setWriteOne(r, s, r->argv[1], r->argvlen[1], &b);
    collBatchFree(&b);
    zfree(gone);
    zfree(live);
}

static void oneSampleRead(request *r, const collView *v, const char *err, void *pd) {
    if (oneReplied(r, v, err)) return;
    char **names = zmalloc(sizeof(char *) * (size_t)(v->nel + 1));
    size_t *lens = zmalloc(sizeof(size_t) * (size_t)(v->nel + 1));
    int n = 0;
    for (int i = 0; i < v->nel; i++) {
        if (!collElemLive(v, &v->el[i])) continue;
        names[n] = v->el[i].name;
        lens[n++] = v->el[i].len;
    }
    if (n) collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_NAMED, names, lens, n,
                    oneNamedRead, pd);
    else collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0,
                  pd ? spopRead : srandmemberRead, NULL);
    zfree(names);
    zfree(lens);
}

static void readOne(request *r, int pop) {
    unsigned char start[8];
    getRandomBytes(start, sizeof(start));
    char *names[1] = {(char *)start};
    size_t lens[1] = {sizeof(start)};
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_SAMPLE, names, lens, 1, oneSampleRead,
             pop ? (void *)1 : NULL);
}

static void spopCommand(request *r) {
    if (r->argc > 3) {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    long long count;
    if (r->argc == 3 && getRangeArg(r, 2, 0, LONG_MAX, &count, ERR_POSITIVE) != C_OK) return;
    if (r->argc == 2) {
        readOne(r, 1);
        return;
    }
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0, spopRead,
             (void *)1);
}

/* ----------------------------------------------------------- SRANDMEMBER */

/* SRANDMEMBER key [count]: a positive count asks for distinct members (at
 * most the whole set), a negative one for |count| picks with repeats. */
static void srandmemberRead(request *r, const collView *v, const char *err, void *pd) {
    int withcount = pd != NULL;
    if (err) {
        addReplyError(r, err);
        return;
    }
    long long count = 1;
    if (withcount) string2ll(r->argv[2], r->argvlen[2], &count);
    if (collTypeOf(v) == -1) {
        if (withcount) addReplyArrayLen(r, 0);
        else addReplyNull(r);
        return;
    }
    if (collCheckType(r, v, KT_SET)) return;
    if (withcount && count == 0) {
        addReplyArrayLen(r, 0);
        return;
    }
    long n;
    const collElem **live = viewLiveElems(v, &n);
    setRng g;
    rngInit(&g);
    if (n == 0) {
        if (withcount) addReplyArrayLen(r, 0);
        else addReplyNull(r);
    } else if (!withcount) {
        const collElem *e = live[rngBelow(&g, (uint64_t)n)];
        addReplyBulk(r, e->name, e->len);
    } else if (count < 0) {
        unsigned long long k = (unsigned long long)(-count);
        addReplyArrayLen(r, (long long)k);
        for (unsigned long long i = 0; i < k; i++) {
            const collElem *e = live[rngBelow(&g, (uint64_t)n)];
            addReplyBulk(r, e->name, e->len);
        }
    } else {
        long k = count >= n ? n : (long)count;
        pickDistinct(&g, live, n, k);
        addReplyArrayLen(r, k);
        for (long i = 0; i < k; i++) addReplyBulk(r, live[i]->name, live[i]->len);
    }
    zfree(live);
}

static void srandmemberCommand(request *r) {
    if (r->argc > 3) {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    long long count;
    if (r->argc == 3 && getRangeArg(r, 2, -LONG_MAX, LONG_MAX, &count, NULL) != C_OK) return;
    if (r->argc == 2) {
        readOne(r, 0);
        return;
    }
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0, srandmemberRead,
             (void *)1);
}

/* ----------------------------------------------------------------- SSCAN */

/* Redis's parseScanCursorOrReply: strtoul's rules (a leading sign or zeros
 * are accepted), no leading space, nothing after the number. */
static int parseCursor(request *r, int i, unsigned long long *cursor) {
    const char *p = r->argv[i];
    char *end;
    errno = 0;
    *cursor = strtoull(p, &end, 10);
    if (isspace((unsigned char)p[0]) || end[0] != '\0' || errno == ERANGE) {
        addReplyError(r, "invalid cursor");
        return C_ERR;
    }
    return C_OK;
}

/* SSCAN key cursor [MATCH pattern] [COUNT count]. The cursor is an index
 * into the sorted live members; the reply's cursor is where the next call
 * starts, 0 at the end. As in Redis, the options are parsed only for a key
 * that exists and is a set. */
static void sscanRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collTypeOf(v) == -1) {
        addReplyArrayLen(r, 2);
        addReplyBulkCString(r, "0");
        addReplyArrayLen(r, 0);
        return;
    }
    if (collCheckType(r, v, KT_SET)) return;
    long long count = 10;
    const char *pat = NULL;
    size_t patlen = 0;
    for (int j = 3; j < r->argc; j++) {
        int more = j + 1 < r->argc;
        if (argIs(r, j, "count") && more) {
            if (getLongLongFromArg(r, ++j, &count, NULL) != C_OK) return;
            if (count < 1) {
                addReplyError(r, ERR_SYNTAX);
                return;
            }
        } else if (argIs(r, j, "match") && more) {
            pat = r->argv[++j];
            patlen = r->argvlen[j];
            if (patlen == 1 && pat[0] == '*') pat = NULL; /* matches everything */
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    unsigned long long cursor;
    parseCursor(r, 2, &cursor);
    long n;
    const collElem **live = viewLiveElems(v, &n);
    unsigned long long from = cursor, to = (unsigned long long)n;
    if (from > to) from = to;
    if (to - from > (unsigned long long)count) to = from + (unsigned long long)count;
    long k = 0;
    for (unsigned long long i = from; i < to; i++)
        if (!pat || stringmatchlen(pat, (int)patlen, live[i]->name, (int)live[i]->len, 0))
            live[k++] = live[i];
    char cb[32];
    snprintf(cb, sizeof(cb), "%llu", to < (unsigned long long)n ? to : 0ULL);
    addReplyArrayLen(r, 2);
    addReplyBulkCString(r, cb);
    addReplyArrayLen(r, k);
    for (long i = 0; i < k; i++) addReplyBulk(r, live[i]->name, live[i]->len);
    zfree(live);
}

static void sscanCommand(request *r) {
    unsigned long long cursor;
    if (parseCursor(r, 2, &cursor) != C_OK) return;
    readAll(r, sscanRead);
}

/* ------------------------------------------------------- multi-key reads */

/* One key's answer: copied, and the command goes on once all answered. */
static void multiReadOne(request *r, const collView *v, const char *err, void *pd) {
    setState *s = r->state;
    int i = (int)(intptr_t)pd;
    if (err) {
        if (!s->err[0]) snprintf(s->err, sizeof(s->err), "%s", err);
    } else {
        s->views[i] = viewDup(v);
    }
    if (++s->answered < s->nkeys) return;
    if (s->err[0]) {
        addReplyError(r, s->err);
        return;
    }
    s->then(r, s);
}

/* A state for n keys read by multiReadKey, then runs then. */
static setState *multiNew(request *r, int n, void (*then)(request *, setState *)) {
    setState *s = setStateNew(r);
    s->nkeys = n;
    s->views = zcalloc(sizeof(collView *) * (size_t)n);
    s->then = then;
    return s;
}

/* Reads key i (argv[ai]) in mode; ni, when not 0, is the argv index of the
 * one element named (COLL_READ_NAMED, COLL_READ_FIELDS). */
static void multiReadKey(request *r, int i, int ai, int mode, int ni) {
    collRead(r, r->db, r->argv[ai], r->argvlen[ai], mode, ni ? r->argv + ni : NULL,
             ni ? r->argvlen + ni : NULL, ni ? 1 : 0, multiReadOne, (void *)(intptr_t)i);
}

/* ----------------------------------------------------------------- SMOVE */

/* SMOVE source destination member: views[0] the source (the member named,
 * and the probe that tells whether it is the last), views[1] the
 * destination (the member only). */
static void smoveAfterReads(request *r, setState *s) {
    const collView *src = s->views[0], *dst = s->views[1];
    const char *m = r->argv[3];
    size_t mlen = r->argvlen[3];
    /* Redis's order: a missing source answers 0 before any type check */
    if (collTypeOf(src) == -1) {
        addReplyInteger(r, 0);
        return;
    }
    if (collCheckType(r, src, KT_SET) || collCheckType(r, dst, KT_SET)) return;
    const collElem *e = collViewFind(src, m, mlen);
    if (!e || !collElemLive(src, e)) {
        addReplyInteger(r, 0);
        return;
    }
    uint64_t seq = collDot();
    collBatch bs, bd;
    collBatchInit(&bs);
    collBatchInit(&bd);
    batchRemove(&bs, e);
    char *gone = zcalloc((size_t)src->nel + 1);
    gone[e - src->el] = 1;
    if (viewEmptiedBy(src, gone)) collBatchDel(&bs, src, seq);
    collBatchTouch(&bd, dst, KT_SET, seq);
    batchAdd(&bd, m, mlen, seq);
    s->kind = SR_INT;
    s->ll = 1;
    setWritesBegin(s);
    setWrite(r, s, r->argv[1], r->argvlen[1], &bs);
    setWrite(r, s, r->argv[2], r->argvlen[2], &bd);
    setWritesEnd(r, s);
    collBatchFree(&bs);
    collBatchFree(&bd);
    zfree(gone);
}

/* SMOVE s s member: a no-op that answers whether member is in s. */
static void smoveSameRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collTypeOf(v) == -1) {
        addReplyInteger(r, 0);
        return;
    }
    if (collCheckType(r, v, KT_SET)) return;
    addReplyInteger(r, viewLive(v, r->argv[3], r->argvlen[3]));
}

static void smoveCommand(request *r) {
    if (sameArg(r, 1, 2)) {
        collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_FIELDS, r->argv + 3,
                 r->argvlen + 3, 1, smoveSameRead, NULL);
        return;
    }
    multiNew(r, 2, smoveAfterReads);
    multiReadKey(r, 0, 1, COLL_READ_NAMED, 3);
    multiReadKey(r, 1, 2, COLL_READ_FIELDS, 3);
}

/* ------------------------------------------ SINTER / SUNION / SDIFF (+STORE) */

#define SET_OP_INTER 0
#define SET_OP_UNION 1
#define SET_OP_DIFF 2

static int elemPtrCmp(const void *a, const void *b) {
    const collElem *x = *(const collElem *const *)a, *y = *(const collElem *const *)b;
    setArg ax = {x->name, x->len}, ay = {y->name, y->len};
    return setArgCmp(&ax, &ay);
}

/* The members of the operation over the source views, in name order (the
 * elements are the views'); *n gets their number, stopping at limit (> 0)
 * for SINTERCARD. */
static const collElem **algebra(setState *s, int nsrc, long limit, long *n) {
    collView **v = s->views;
    const collElem **res = NULL;
    long k = 0;
    if (s->op == SET_OP_INTER) {
        /* every key must exist; walk the smallest, probe the others */
        int small = 0;
        long best = -1;
        for (int i = 0; i < nsrc; i++) {
            if (collTypeOf(v[i]) == -1) {
                *n = 0;
                return zmalloc(sizeof(*res));
            }
            long c = (long)collLiveCount(v[i]);
            if (best < 0 || c < best) best = c, small = i;
        }
        res = viewLiveElems(v[small], &k);
        long out = 0;
        for (long e = 0; e < k && (limit <= 0 || out < limit); e++) {
            int all = 1;
            for (int j = 0; j < nsrc && all; j++)
                if (j != small && !viewLive(v[j], res[e]->name, res[e]->len)) all = 0;
            if (all) res[out++] = res[e];
        }
        k = out;
    } else if (s->op == SET_OP_UNION) {
        long total = 0;
        for (int i = 0; i < nsrc; i++) total += v[i]->nel;
        res = zmalloc(sizeof(*res) * (size_t)(total + 1));
        for (int i = 0; i < nsrc; i++)
            for (int e = 0; e < v[i]->nel; e++)
                if (collElemLive(v[i], &v[i]->el[e])) res[k++] = &v[i]->el[e];
        qsort(res, (size_t)k, sizeof(*res), elemPtrCmp);
        long u = 0;
        for (long e = 0; e < k; e++)
            if (!u || elemPtrCmp(&res[u - 1], &res[e])) res[u++] = res[e];
        k = u;
    } else {
        res = viewLiveElems(v[0], &k);
        long out = 0;
        for (long e = 0; e < k; e++) {
            int found = 0;
            for (int j = 1; j < nsrc && !found; j++)
                found = viewLive(v[j], res[e]->name, res[e]->len);
            if (!found) res[out++] = res[e];
        }
        k = out;
    }
    *n = k;
    return res;
}

static void algebraAfterReads(request *r, setState *s) {
    int nsrc = s->store ? s->nkeys - 1 : s->nkeys;
    for (int i = 0; i < nsrc; i++)
        if (collCheckType(r, s->views[i], KT_SET)) return;
    long n;
    const collElem **res = algebra(s, nsrc, s->cardonly ? (long)s->limit : 0, &n);
    if (s->cardonly) {
        addReplyInteger(r, n);
    } else if (!s->store) {
        addReplySetLen(r, n);
        for (long i = 0; i < n; i++) addReplyBulk(r, res[i]->name, res[i]->len);
    } else {
        /* the destination is overwritten whatever it held: a DEL of what it
         * held, then the result's adds, in one batch */
        const collView *dst = s->views[nsrc];
        const char *dkey = r->argv[1];
        size_t dlen = r->argvlen[1];
        s->kind = SR_INT;
        s->ll = n;
        if (n == 0 && collTypeOf(dst) == -1) {
            addReplyInteger(r, 0); /* nothing to store, nothing to delete */
        } else {
            uint64_t seq = collDot();
            collBatch b;
            collBatchInit(&b);
            collBatchDel(&b, dst, seq);
            if (n) collBatchTouch(&b, dst, KT_SET, seq);
            for (long i = 0; i < n; i++) batchAdd(&b, res[i]->name, res[i]->len, seq);
            setWritesBegin(s);
            /* a string there goes too (a tombstone over the versions read),
             * or it would show again once the set is emptied */
            if (recordVisible(&dst->str, dst->now_ms)) {
                s->writes++;
                writeValue(r, r->db, dkey, dlen, NULL, 0, 1, 0, &dst->str, setWriteDone, s);
            }
            setWrite(r, s, dkey, dlen, &b);
            setWritesEnd(r, s);
            collBatchFree(&b);
        }
    }
    zfree(res);
}

/* Reads the sources argv[first..first+nsrc-1] (and, to store, the
 * destination argv[1], its metadata only), then algebraAfterReads. */
static void algebraStart(request *r, int op, int first, int nsrc, int store, int cardonly,
                         long long limit) {
    setState *s = multiNew(r, nsrc + (store ? 1 : 0), algebraAfterReads);
    s->op = op;
    s->first = first;
    s->store = store;
    s->cardonly = cardonly;
    s->limit = limit;
    for (int i = 0; i < nsrc; i++) multiReadKey(r, i, first + i, COLL_READ_ALL, 0);
    if (store) multiReadKey(r, nsrc, 1, COLL_READ_META, 0);
}

static void sinterCommand(request *r) { algebraStart(r, SET_OP_INTER, 1, r->argc - 1, 0, 0, 0); }
static void sunionCommand(request *r) { algebraStart(r, SET_OP_UNION, 1, r->argc - 1, 0, 0, 0); }
static void sdiffCommand(request *r) { algebraStart(r, SET_OP_DIFF, 1, r->argc - 1, 0, 0, 0); }

static void sinterstoreCommand(request *r) {
    algebraStart(r, SET_OP_INTER, 2, r->argc - 2, 1, 0, 0);
}

static void sunionstoreCommand(request *r) {
    algebraStart(r, SET_OP_UNION, 2, r->argc - 2, 1, 0, 0);
}

static void sdiffstoreCommand(request *r) {
    algebraStart(r, SET_OP_DIFF, 2, r->argc - 2, 1, 0, 0);
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
static void sintercardCommand(request *r) {
    long long numkeys, limit = 0;
    if (getRangeArg(r, 1, 1, LONG_MAX, &numkeys, "numkeys should be greater than 0") != C_OK)
        return;
    if (numkeys > r->argc - 2) {
        addReplyError(r, "Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < r->argc; j++) {
        if (argIs(r, j, "limit") && j + 1 < r->argc) {
            if (getRangeArg(r, ++j, 0, LONG_MAX, &limit, "LIMIT can't be negative") != C_OK)
                return;
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    algebraStart(r, SET_OP_INTER, 2, (int)numkeys, 0, 1, limit);
}

/* ------------------------------------------------------------------ table */

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST

/* Arity, flags and key positions as Redis 7.0's COMMAND reports them.
 * SINTERCARD's keys are movable (COMMAND says 0 0 0), so commandKeys finds
 * none to lock: CMD_BARRIER at least starts it after the client's earlier
 * commands (a pipelined SADD then SINTERCARD sees the add). */
command setCommandTable[] = {
    {"sadd", saddCommand, -3, W | F, 1, 1, 1, "set", "1.0.0", "Add one or more members to a set", "key member [member ...]", 0, 0, 0, 0},
    {"srem", sremCommand, -3, W | F, 1, 1, 1, "set", "1.0.0", "Remove one or more members from a set", "key member [member ...]", 0, 0, 0, 0},
    {"sismember", sismemberCommand, 3, R | F, 1, 1, 1, "set", "1.0.0", "Determine if a given value is a member of a set", "key member", 0, 0, 0, 0},
    {"smismember", smismemberCommand, -3, R | F, 1, 1, 1, "set", "6.2.0", "Returns the membership associated with the given elements for a set", "key member [member ...]", 0, 0, 0, 0},
    {"smembers", smembersCommand, 2, R, 1, 1, 1, "set", "1.0.0", "Get all the members in a set", "key", 0, 0, 0, 0},
    {"scard", scardCommand, 2, R | F, 1, 1, 1, "set", "1.0.0", "Get the number of members in a set", "key", 0, 0, 0, 0},
    {"spop", spopCommand, -2, W | F, 1, 1, 1, "set", "1.0.0", "Remove and return one or multiple random members from a set", "key [count]", 0, 0, 0, 0},
    {"srandmember", srandmemberCommand, -2, R, 1, 1, 1, "set", "1.0.0", "Get one or multiple random members from a set", "key [count]", 0, 0, 0, 0},
    {"smove", smoveCommand, 4, W | F, 1, 2, 1, "set", "1.0.0", "Move a member from one set to another", "source destination member", 0, 0, 0, 0},
    {"sinter", sinterCommand, -2, R, 1, -1, 1, "set", "1.0.0", "Intersect multiple sets", "key [key ...]", 0, 0, 0, 0},
    {"sintercard", sintercardCommand, -3, R | CMD_BARRIER, 0, 0, 0, "set", "7.0.0", "Intersect multiple sets and return the cardinality of the result", "numkeys key [key ...] [LIMIT limit]", 0, 0, 0, 0},
    {"sinterstore", sinterstoreCommand, -3, W, 1, -1, 1, "set", "1.0.0", "Intersect multiple sets and store the resulting set in a key", "destination key [key ...]", 0, 0, 0, 0},
    {"sunion", sunionCommand, -2, R, 1, -1, 1, "set", "1.0.0", "Add multiple sets", "key [key ...]", 0, 0, 0, 0},
    {"sunionstore", sunionstoreCommand, -3, W, 1, -1, 1, "set", "1.0.0", "Add multiple sets and store the resulting set in a key", "destination key [key ...]", 0, 0, 0, 0},
    {"sdiff", sdiffCommand, -2, R, 1, -1, 1, "set", "1.0.0", "Subtract multiple sets", "key [key ...]", 0, 0, 0, 0},
    {"sdiffstore", sdiffstoreCommand, -3, W, 1, -1, 1, "set", "1.0.0", "Subtract multiple sets and store the resulting set in a key", "destination key [key ...]", 0, 0, 0, 0},
    {"sscan", sscanCommand, -3, R, 1, 1, 1, "set", "2.8.0", "Incrementally iterate Set elements", "key cursor [MATCH pattern] [COUNT count]", 0, 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};
