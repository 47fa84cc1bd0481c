/* t_zset.c -- the sorted-set commands (Redis 7.0), over coll.h.
 *
 * A member is an element (field.h) whose register holds its score
 * (src/types/zset.h). Every handler is a continuation: it parses its
 * arguments (replying Redis's error for bad input before anything is read),
 * reads the key (collRead), computes its reply and, for a write, its deltas
 * (zsetDeltaAdd / zsetDeltaRem / zsetDeltaIncr, plus collBatchTouch with one
 * dot per command), and replies only once collWrite's callback says the
 * write is acknowledged.
 *
 * Each replica keeps a score index of its members (db.c, collkey.h). The
 * commands that want members from one end of the order or from a score
 * bound read a run of it (COLL_READ_RANGE; zplan below): ZPOPMIN, ZPOPMAX
 * and ZMPOP the members they pop and one more (is the key emptied?); ZRANGE
 * by rank with both indexes from the same end, ZRANGE BYSCORE (and their
 * older forms, ZRANGESTORE) and ZCOUNT the run they reply; so they cost what
 * they return, not the size of the set. What needs the whole set (ranks of
 * a member, BYLEX ranges, ZCARD, ZRANDMEMBER, ZSCAN, the set operations,
 * ZREMRANGEBY*) reads every member (COLL_READ_ALL). Either way each live
 * member's score is computed from its merged state and the members sorted
 * as Redis orders them (zrange.c), and the range's span picked from that.
 * The point commands read only the members they name: ZADD, ZINCRBY, ZSCORE
 * and ZMSCORE those alone (COLL_READ_FIELDS), ZREM with the probe for other
 * members that tells whether it empties the key (COLL_READ_NAMED).
 *
 * Emptied keys: Redis deletes a sorted set whose last member goes. A
 * command that removes members adds collBatchDel to its batch when no live
 * member is left (a NAMED read: nothing named left live, no other member,
 * every stored element seen; an ALL read: none left).
 *
 * Multi-key commands (ZUNION, ZINTER, ZDIFF, ZINTERCARD, ZMPOP and the
 * *STORE forms) read their keys as MGET does, one collRead each (their rows
 * say firstkey 0 as Redis's COMMAND does; commands.c's commandKeys finds
 * the keys after numkeys and locks them). A *STORE replaces its
 * destination: a DEL of what it read of it (a string there included), then
 * the result's members.
 *
 * Layout: shared helpers; reads by score (zplan); ZADD/ZINCRBY; ZREM; point reads; ranges
 * (ZRANGE & co, ZRANGESTORE); pops (ZPOPMIN/MAX, ZMPOP); ZREMRANGEBY*;
 * ZRANDMEMBER; ZUNION/ZINTER/ZDIFF & co; ZSCAN; the table.
 *
 * API: zsetCommandTable (t_zset.h); the handlers are static. */
#include "t_zset.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "coll.h"
#include "collbatch.h"
#include "t_string.h"
#include "types/zset.h"
#include "zrange.h"

#define ERR_NAN "resulting score is not a number (NaN)"
#define ERR_RANGE_FLOAT "min or max is not a float"
#define ERR_RANGE_LEX "min or max not valid string range item"
#define ERR_POSITIVE "value is out of range, must be positive"

/* ================================================================ helpers */

/* Members with scores; when the list owns its member bytes they are in
 * bytes (zlistCopy), else they are borrowed (from a view during its
 * callback, or from another zlist of the same state). */
typedef struct zlist {
    zitem *it;  /* owned array */
    long n;     /* items */
    buf bytes;  /* owned member bytes, if copied */
} zlist;

static void zlistFree(zlist *l) {
    zfree(l->it);
    bufFree(&l->bytes);
    l->it = NULL;
    l->n = 0;
}

/* l := copies of the span (first, count, step) of items (l emptied first). */
static void zlistCopy(zlist *l, const zitem *items, long first, long count, int step) {
    zlistFree(l);
    bufInit(&l->bytes);
    size_t total = 0;
    for (long k = 0; k < count; k++) total += items[first + k * step].len;
    bufReserve(&l->bytes, total + 1);
    l->it = zmalloc(sizeof(zitem) * (size_t)(count ? count : 1));
    size_t *off = zmalloc(sizeof(size_t) * (size_t)(count ? count : 1));
    for (long k = 0; k < count; k++) {
        const zitem *x = &items[first + k * step];
        off[k] = l->bytes.len;
        bufAppend(&l->bytes, x->ele, x->len);
        l->it[k] = (zitem){NULL, x->len, x->score};
    }
    for (long k = 0; k < count; k++) l->it[k].ele = l->bytes.ptr + off[k];
    l->n = count;
    zfree(off);
}

/* The live members of a view of a sorted set, in name order, borrowing the
 * view's names (valid for its callback only). A set's members count with
 * score 1 (ZUNION and friends accept sets, as Redis). */
static zitem *viewItems(const collView *v, int type, long *n) {
    zitem *it = zmalloc(sizeof(zitem) * (size_t)(v->nel ? v->nel : 1));
    long k = 0;
    for (int i = 0; i < v->nel; i++) {
        const collElem *e = &v->el[i];
        double s = 1;
        if (type == KT_ZSET) {
            if (!zsetScore(&e->f, &v->kr, &s)) continue;
        } else if (!collElemLive(v, e)) {
            continue;
        }
        it[k++] = (zitem){e->name, e->len, s};
    }
    *n = k;
    return it;
}

/* As viewItems, sorted by (score, member): the key's order. */
static zitem *viewSorted(const collView *v, long *n) {
    zitem *it = viewItems(v, KT_ZSET, n);
    zitemSort(it, *n);
    return it;
}

/* The score a ZADD or a *STORE writes: -0 as 0, which is what Redis reads
 * back from the listpack that holds a small sorted set. */
static double storedScore(double d) { return d == 0 ? 0.0 : d; }

/* The type the key reads as, for a sorted-set command: replies WRONGTYPE
 * and returns -2 for another type, else KT_ZSET or -1 (absent). */
static int zsetViewType(request *r, const collView *v) {
    if (collCheckType(r, v, KT_ZSET)) return -2;
    return collTypeOf(v) == KT_ZSET ? KT_ZSET : -1;
}

/* Redis's getLongFromObjectOrReply into [min, max]; err replaces both of
 * Redis's texts when given. */
static int getRangeLong(request *r, int i, long long min, long long max, long long *v,
                        const char *err) {
    if (!string2ll(r->argv[i], r->argvlen[i], v)) {
        addReplyError(r, err ? err : ERR_NOT_INT);
        return C_ERR;
    }
    if (*v < min || *v > max) {
        if (err) addReplyError(r, err);
        else addReplyErrorFormat(r, "value is out of range, value must between %lld and %lld", min, max);
        return C_ERR;
    }
    return C_OK;
}

/* A small generator for ZRANDMEMBER (xorshift64*), seeded once from the
 * system's random bytes. */
static uint64_t zrandState;

static uint64_t zrand(void) {
    while (!zrandState) getRandomBytes((unsigned char *)&zrandState, sizeof(zrandState));
    zrandState ^= zrandState >> 12;
    zrandState ^= zrandState << 25;
    zrandState ^= zrandState >> 27;
    return zrandState * 0x2545F4914F6CDD1DULL;
}

static long zrandBelow(long n) { return (long)(zrand() % (uint64_t)n); }

/* Members (and scores) as Redis replies them: a flat array, or [member,
 * score] pairs when nested (RESP3 WITHSCORES). */
static void replySpan(request *r, const zitem *it, long first, long count, int step,
                      int withscores, int nested) {
    addReplyArrayLen(r, withscores && !nested ? count * 2 : count);
    for (long k = 0; k < count; k++) {
        const zitem *x = &it[first + k * step];
        if (withscores && nested) addReplyArrayLen(r, 2);
        addReplyBulk(r, x->ele, x->len);
        if (withscores) addReplyDouble(r, x->score);
    }
}

/* ------------------------------------------------------- command state */

/* The reply a write holds until collWrite's callback. */
#define HELD_INT 0
#define HELD_DOUBLE 1
#define HELD_NULL 2
#define HELD_POP 3  /* res as ZPOPMIN replies it */
#define HELD_MPOP 4 /* [key, res as pairs] */

/* One request's state (requestState, freed by zstateFree): which fields a
 * command uses is said at each. */
typedef struct zstate {
    /* the held reply */
    int kind;           /* HELD_* */
    long long ll;       /* HELD_INT */
    double d;           /* HELD_DOUBLE */
    int nested;         /* HELD_POP: [member, score] pairs instead of a flat array */
    int keyarg;         /* HELD_MPOP: argv index of the key popped */
    zlist res;          /* HELD_POP/MPOP: the members popped; *STORE: the result */
    /* ZADD / ZINCRBY */
    int zflags;         /* ZADD_* */
    int scoreidx;       /* argv index of the first score */
    long npairs;        /* score-member pairs */
    double *scores;     /* parsed scores, owned */
    /* ranges */
    zrangeArgs ra;
    /* the read (zplan) */
    int ranged;         /* through the score index (COLL_READ_RANGE), else every member */
    collRange rq;       /* the index run asked for */
    long long need;     /* live members the reply needs (0: every one in the range) */
    int readarg;        /* argv index of the key read */
    collReadCb *then;   /* the command's continuation */
    /* pops */
    int pmax;           /* pop the largest */
    long long count;    /* how many (-1: one, the plain form) */
    int nkeys;          /* ZMPOP and the set operations: keys */
    int firstkey;       /* argv index of the first of them */
    int next;           /* ZMPOP: the key being read */
    /* *STORE destinations */
    int dstidx;         /* argv index of the destination */
    /* set operations */
    int op;             /* ZOP_* */
    int agg;            /* ZAGG_* */
    int cardonly;       /* ZINTERCARD */
    long long cardlimit;/* ZINTERCARD LIMIT (0: none) */
    double *weights;    /* per key, owned */
    zlist *src;         /* per key: its members in name order (copies) */
    int done;           /* keys read */
    int wrongtype;      /* a key held another type */
    int writes;         /* writes not acknowledged yet */
    char werr[320];     /* the first write error */
    char opterr[128];   /* an option error, replied after the keys' types are known */
    char err[320];      /* a read error */
} zstate;

static void zstateFree(void *p) {
    zstate *s = p;
    zlistFree(&s->res);
    zfree(s->scores);
    zfree(s->weights);
    if (s->src) {
        for (int i = 0; i < s->nkeys; i++) zlistFree(&s->src[i]);
        zfree(s->src);
    }
    zfree(s);
}

static zstate *zstateNew(request *r) {
    zstate *s = requestState(r, sizeof(*s));
    r->state_free = zstateFree;
    bufInit(&s->res.bytes);
    return s;
}

static void sendHeld(request *r, zstate *s) {
    switch (s->kind) {
    case HELD_INT: addReplyInteger(r, s->ll); break;
    case HELD_DOUBLE: addReplyDouble(r, s->d); break;
    case HELD_NULL: addReplyNull(r); break;
    case HELD_POP: replySpan(r, s->res.it, 0, s->res.n, 1, 1, s->nested); break;
    case HELD_MPOP:
        addReplyArrayLen(r, 2);
        addReplyBulk(r, r->argv[s->keyarg], r->argvlen[s->keyarg]);
        replySpan(r, s->res.it, 0, s->res.n, 1, 1, 1);
        break;
    }
}

/* The callback of each write of a command (collWrite, writeValue): the
 * held reply once the last is acknowledged, or the first error. */
static void zwriteDone(request *r, const coordResult *res, void *pd) {
    zstate *s = pd;
    if (!res->ok && !s->werr[0]) snprintf(s->werr, sizeof(s->werr), "%s", res->err);
    if (--s->writes > 0) return;
    if (s->werr[0]) addReplyError(r, s->werr);
    else sendHeld(r, s);
}

/* Writes b to argv[keyarg] and replies s's held reply when it is
 * acknowledged; frees b. */
static void zwrite(request *r, zstate *s, int keyarg, collBatch *b) {
    s->writes++;
    collWrite(r, r->db, r->argv[keyarg], r->argvlen[keyarg], b, zwriteDone, s);
    collBatchFree(b);
}

/* Appends the removal of the span's members (items borrow v) to b; adds
 * the key's DEL when they were all its live members (live). */
static void batchRemove(collBatch *b, const collView *v, const zitem *items, long first,
                        long count, int step, long live, uint64_t seq) {
    field delta, none;
    fieldInit(&delta);
    fieldInit(&none);
    collBatchTouch(b, v, KT_ZSET, seq);
    for (long k = 0; k < count; k++) {
        const zitem *x = &items[first + k * step];
        const collElem *e = collViewFind(v, x->ele, x->len);
        zsetDeltaRem(&delta, e ? &e->f : &none);
        collBatchField(b, x->ele, x->len, &delta);
    }
    if (count == live) collBatchDel(b, v, seq);
    fieldFree(&delta);
    fieldFree(&none);
}

/* ================================================== reads by score (zplan) */

static void zindexAfterRead(request *r, const collView *v, const char *err, void *pd);

/* Reads argv[s->readarg] as s plans it, then s->then. */
static void zread(request *r, zstate *s) {
    const char *key = r->argv[s->readarg];
    size_t klen = r->argvlen[s->readarg];
    if (!s->ranged) {
        collRead(r, r->db, key, klen, COLL_READ_ALL, NULL, NULL, 0, s->then, s);
        return;
    }
    buf q;
    bufInit(&q);
    collRangeEncode(&s->rq, &q);
    char *name = q.ptr;
    size_t len = q.len;
    collRead(r, r->db, key, klen, COLL_READ_RANGE, &name, &len, 1, zindexAfterRead, s);
    bufFree(&q);
}

/* A run of the index came back. The replicas listed up to the limit live
 * by their own removal of the key; the merged view may hold fewer (one
 * replica saw a ZREM or a DEL the other had not): then the run is read again,
 * twice as long, until the view holds what the reply needs or the range ran
 * out. */
static void zindexAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (!err && s->need > 0 && !v->exhausted && collLiveCount(v) < s->need) {
        uint64_t more = s->rq.limit * 2;
        s->rq.limit = more > s->rq.limit ? more : UINT64_MAX;
        zread(r, s);
        return;
    }
    s->then(r, v, err, s);
}

/* Index runs of at most this many members stand in for a whole read: past
 * it (ZRANGE z 0 1000000000) a run is no cheaper. */
#define ZPLAN_MAX ((long long)1 << 40)

/* The members from one end: the first want in the order (rev: from the
 * largest); want <= 0 or too large means every member. */
static void planEnd(zstate *s, int rev, long long want) {
    s->ranged = want > 0 && want < ZPLAN_MAX;
    memset(&s->rq, 0, sizeof(s->rq));
    s->rq.rev = rev;
    s->rq.limit = s->ranged ? (uint64_t)want : 0;
    s->need = s->ranged ? want : 0;
}

/* How ZRANGE's arguments (s->ra) read: by rank, both indexes counted from
 * the same end (the first end+1 from that end, or the last -start); by
 * score, from the bound the walk starts at, LIMIT's offset+count of them.
 * BYLEX and ranks from both ends read every member. */
static void planRange(zstate *s) {
    const zrangeArgs *a = &s->ra;
    s->ranged = 0;
    if (a->type == ZRT_RANK) {
        if (a->start >= 0 && a->end >= 0) planEnd(s, a->reverse, a->start > a->end ? 1 : a->end + 1);
        else if (a->start < 0 && a->end < 0 && a->start > -ZPLAN_MAX)
            planEnd(s, !a->reverse, a->start > a->end ? 1 : -a->start);
    } else if (a->type == ZRT_SCORE) {
        memset(&s->rq, 0, sizeof(s->rq));
        s->ranged = 1;
        s->rq.rev = a->reverse;
        s->rq.hasmin = s->rq.hasmax = 1;
        s->rq.min = a->score.min;
        s->rq.max = a->score.max;
        s->rq.minex = a->score.minex;
        s->rq.maxex = a->score.maxex;
        s->need = 0;
        if (a->limit >= 0 && a->offset >= 0 && a->offset < ZPLAN_MAX && a->limit < ZPLAN_MAX) {
            s->need = a->offset + a->limit;
            if (s->need == 0) s->need = 1; /* LIMIT 0 0: the type is still checked */
        } else if (a->limit >= 0 && a->offset < 0) {
            s->need = 1; /* a negative offset replies nothing, as Redis */
        }
        s->rq.limit = (uint64_t)s->need;
    }
}

/* ============================================================ ZADD/ZINCRBY */

#define ZADD_NX (1 << 0)
#define ZADD_XX (1 << 1)
#define ZADD_GT (1 << 2)
#define ZADD_LT (1 << 3)
#define ZADD_CH (1 << 4)
#define ZADD_INCR (1 << 5)

/* One distinct member of a ZADD: what the command has made of it so far. */
typedef struct zaddMember {
    const collElem *e; /* its element in the view, or NULL */
    int present;       /* it is a member (now, within the command) */
    double score;      /* its score then */
    int changed;       /* the command writes it */
} zaddMember;

/* Orders positions k by the bytes of argument idx[k], then by k. */
typedef struct argOrder {
    request *r;
    const int *idx;
} argOrder;

static int cmpArgPos(const void *a, const void *b, void *pd) {
    const argOrder *o = pd;
    int ka = *(const int *)a, kb = *(const int *)b;
    int i = o->idx[ka], j = o->idx[kb];
    size_t li = o->r->argvlen[i], lj = o->r->argvlen[j], m = li < lj ? li : lj;
    int c = m ? memcmp(o->r->argv[i], o->r->argv[j], m) : 0;
    if (c) return c;
    if (li != lj) return li < lj ? -1 : 1;
    return ka < kb ? -1 : (ka > kb);
}

/* For each of the n arguments idx[k], the number of the distinct member it
 * names (grp[k] in 0..ndistinct-1, equal arguments the same number).
 * Returns ndistinct. */
static int groupArgs(request *r, const int *idx, int n, int *grp) {
    int *ord = zmalloc(sizeof(int) * (size_t)(n ? n : 1));
    for (int k = 0; k < n; k++) ord[k] = k;
    argOrder o = {r, idx};
    qsort_r(ord, (size_t)n, sizeof(int), cmpArgPos, &o);
    int ng = 0;
    for (int k = 0; k < n; k++) {
        if (k > 0) {
            int a = idx[ord[k]], b = idx[ord[k - 1]];
            if (r->argvlen[a] != r->argvlen[b] || memcmp(r->argv[a], r->argv[b], r->argvlen[a]))
                ng++;
        }
        grp[ord[k]] = ng;
    }
    zfree(ord);
    return n ? ng + 1 : 0;
}

static void zaddIncr(request *r, zstate *s, const collView *v, zaddMember *m, uint64_t seq);

static void zaddAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    int f = s->zflags, incr = (f & ZADD_INCR) != 0;
    if (type == -1 && (f & ZADD_XX)) { /* no key + XX: nothing to do */
        if (incr) addReplyNull(r);
        else addReplyInteger(r, 0);
        return;
    }
    int n = (int)s->npairs;
    int *idx = zmalloc(sizeof(int) * (size_t)n), *grp = zmalloc(sizeof(int) * (size_t)n);
    for (int j = 0; j < n; j++) idx[j] = s->scoreidx + 1 + 2 * j;
    int ng = groupArgs(r, idx, n, grp);
    zaddMember *m = zcalloc(sizeof(zaddMember) * (size_t)(ng ? ng : 1));
    for (int j = 0; j < n; j++) {
        zaddMember *g = &m[grp[j]];
        if (g->e) continue;
        g->e = collViewFind(v, r->argv[idx[j]], r->argvlen[idx[j]]);
        g->present = g->e && zsetScore(&g->e->f, &v->kr, &g->score);
    }
    uint64_t seq = collDot();
    if (incr) {
        zaddIncr(r, s, v, &m[0], seq);
    } else {
        /* Redis applies the pairs in order: a member named twice gets the
         * last score that passed the options */
        long long added = 0, updated = 0;
        for (int j = 0; j < n; j++) {
            zaddMember *g = &m[grp[j]];
            double score = s->scores[j];
            if (g->present) {
                if ((f & ZADD_NX) || ((f & ZADD_LT) && score >= g->score) ||
                    ((f & ZADD_GT) && score <= g->score))
                    continue;
                if (score != g->score) {
                    g->score = score;
                    g->changed = 1;
                    updated++;
                }
            } else if (!(f & ZADD_XX)) {
                g->present = 1;
                g->score = score;
                g->changed = 1;
                added++;
            }
        }
        s->kind = HELD_INT;
        s->ll = (f & ZADD_CH) ? added + updated : added;
        if (added + updated == 0) {
            sendHeld(r, s);
        } else {
            collBatch b;
            collBatchInit(&b);
            collBatchTouch(&b, v, KT_ZSET, seq);
            field delta, none;
            fieldInit(&delta);
            fieldInit(&none);
            for (int j = 0; j < n; j++) {
                zaddMember *g = &m[grp[j]];
                if (!g->changed) continue;
                g->changed = 0; /* once per member */
                zsetDeltaAdd(&delta, g->e ? &g->e->f : &none, server.actor, seq,
                             storedScore(g->score));
                collBatchField(&b, r->argv[idx[j]], r->argvlen[idx[j]], &delta);
            }
            fieldFree(&delta);
            fieldFree(&none);
            zwrite(r, s, 1, &b);
        }
    }
    zfree(m);
    zfree(idx);
    zfree(grp);
}

/* ZADD ... INCR and ZINCRBY: one member, m. */
static void zaddIncr(request *r, zstate *s, const collView *v, zaddMember *m, uint64_t seq) {
    int f = s->zflags;
    double inc = s->scores[0];
    if (m->present ? (f & ZADD_NX) : (f & ZADD_XX)) {
        addReplyNull(r);
        return;
    }
    double want = m->present ? m->score + inc : inc;
    if (isnan(want)) {
        addReplyError(r, ERR_NAN);
        return;
    }
    if (m->present && (((f & ZADD_LT) && want >= m->score) || ((f & ZADD_GT) && want <= m->score))) {
        addReplyNull(r);
        return;
    }
    field delta, none;
    fieldInit(&delta);
    fieldInit(&none);
    double result = want;
    int rc = zsetDeltaIncr(&delta, m->e ? &m->e->f : &none, &v->kr, server.actor, seq, inc,
                           &result);
    if (rc == NUMERR_NANINF) {
        addReplyError(r, ERR_NAN);
    } else if (rc != NUMERR_OK) {
        addReplyError(r, "sorted set increment refused: this node's clock is behind the member's");
    } else {
        collBatch b;
        collBatchInit(&b);
        collBatchTouch(&b, v, KT_ZSET, seq);
        int mi = s->scoreidx + 1;
        collBatchField(&b, r->argv[mi], r->argvlen[mi], &delta);
        s->kind = HELD_DOUBLE;
        s->d = result;
        zwrite(r, s, 1, &b);
    }
    fieldFree(&delta);
    fieldFree(&none);
}

/* ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
 * ZINCRBY key increment member (the same with INCR; its options would be
 * read as ZADD's, as Redis does, and then fail as a syntax error). */
static void zaddGeneric(request *r, int flags) {
    int j = 2;
    for (; j < r->argc; j++) {
        if (argIs(r, j, "nx")) flags |= ZADD_NX;
        else if (argIs(r, j, "xx")) flags |= ZADD_XX;
        else if (argIs(r, j, "ch")) flags |= ZADD_CH;
        else if (argIs(r, j, "incr")) flags |= ZADD_INCR;
        else if (argIs(r, j, "gt")) flags |= ZADD_GT;
        else if (argIs(r, j, "lt")) flags |= ZADD_LT;
        else break;
    }
    int elements = r->argc - j;
    if (elements % 2 || !elements) {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    elements /= 2;
    int nx = flags & ZADD_NX, xx = flags & ZADD_XX, gt = flags & ZADD_GT, lt = flags & ZADD_LT;
    if (nx && xx) {
        addReplyError(r, "XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        addReplyError(r, "GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if ((flags & ZADD_INCR) && elements > 1) {
        addReplyError(r, "INCR option supports a single increment-element pair");
        return;
    }
    zstate *s = zstateNew(r);
    s->zflags = flags;
    s->scoreidx = j;
    s->npairs = elements;
    s->scores = zmalloc(sizeof(double) * (size_t)elements);
    for (int k = 0; k < elements; k++) {
        int a = j + 2 * k;
        if (!zrangeParseDouble(r->argv[a], r->argvlen[a], &s->scores[k])) {
            addReplyError(r, ERR_NOT_FLOAT);
            return;
        }
    }
    char **names = zmalloc(sizeof(char *) * (size_t)elements);
    size_t *lens = zmalloc(sizeof(size_t) * (size_t)elements);
    for (int k = 0; k < elements; k++) {
        names[k] = r->argv[j + 1 + 2 * k];
        lens[k] = r->argvlen[j + 1 + 2 * k];
    }
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_FIELDS, names, lens, elements,
             zaddAfterRead, s);
    zfree(names);
    zfree(lens);
}

static void zaddCommand(request *r) { zaddGeneric(r, 0); }
static void zincrbyCommand(request *r) { zaddGeneric(r, ZADD_INCR); }

/* ==================================================================== ZREM */

static void zremAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    if (type == -1) {
        addReplyInteger(r, 0);
        return;
    }
    int n = r->argc - 2;
    int *idx = zmalloc(sizeof(int) * (size_t)n), *grp = zmalloc(sizeof(int) * (size_t)n);
    for (int j = 0; j < n; j++) idx[j] = 2 + j;
    int ng = groupArgs(r, idx, n, grp);
    char *seen = zcalloc((size_t)(ng ? ng : 1));
    uint64_t seq = collDot();
    collBatch b;
    collBatchInit(&b);
    collBatchTouch(&b, v, KT_ZSET, seq);
    field delta;
    fieldInit(&delta);
    long long deleted = 0;
    for (int j = 0; j < n; j++) {
        if (seen[grp[j]]) continue;
        seen[grp[j]] = 1;
        const collElem *e = collViewFind(v, r->argv[idx[j]], r->argvlen[idx[j]]);
        double sc;
        if (!e || !zsetScore(&e->f, &v->kr, &sc)) continue;
        zsetDeltaRem(&delta, &e->f);
        collBatchField(&b, r->argv[idx[j]], r->argvlen[idx[j]], &delta);
        deleted++;
    }
    fieldFree(&delta);
    /* every named member is gone now: the key is empty unless another lives */
    if (deleted && !v->more && v->complete) collBatchDel(&b, v, seq);
    s->kind = HELD_INT;
    s->ll = deleted;
    if (deleted) zwrite(r, s, 1, &b);
    else {
        collBatchFree(&b);
        sendHeld(r, s);
    }
    zfree(seen);
    zfree(idx);
    zfree(grp);
}

/* ZREM key member [member ...] */
static void zremCommand(request *r) {
    zstate *s = zstateNew(r);
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_NAMED, r->argv + 2, r->argvlen + 2,
             r->argc - 2, zremAfterRead, s);
}

/* ============================================================= point reads */

static void zscoreAfterRead(request *r, const collView *v, const char *err, void *pd) {
    int multi = pd != NULL;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    if (multi) addReplyArrayLen(r, r->argc - 2);
    for (int j = 2; j < r->argc; j++) {
        const collElem *e = type == KT_ZSET ? collViewFind(v, r->argv[j], r->argvlen[j]) : NULL;
        double sc;
        if (e && zsetScore(&e->f, &v->kr, &sc)) addReplyDouble(r, sc);
        else addReplyNull(r);
    }
}

/* ZSCORE key member */
static void zscoreCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_FIELDS, r->argv + 2, r->argvlen + 2, 1,
             zscoreAfterRead, NULL);
}

/* ZMSCORE key member [member ...]: a missing key reads as an empty set */
static void zmscoreCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_FIELDS, r->argv + 2, r->argvlen + 2,
             r->argc - 2, zscoreAfterRead, (void *)1);
}

static void zcardAfterRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    long n = 0;
    if (type == KT_ZSET) zfree(viewItems(v, KT_ZSET, &n));
    addReplyInteger(r, n);
}

/* ZCARD key */
static void zcardCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0, zcardAfterRead,
             NULL);
}

/* ZCOUNT / ZLEXCOUNT: the members of the range s->ra selects. */
static void zcountAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    long n = 0, first, count = 0;
    int step;
    if (type == KT_ZSET) {
        zitem *it = viewSorted(v, &n);
        if (s->ra.type == ZRT_SCORE)
            zrangeScoreSpan(it, n, &s->ra.score, 0, 0, -1, &first, &count, &step);
        else
            zrangeLexSpan(it, n, &s->ra.lex, 0, 0, -1, &first, &count, &step);
        zfree(it);
    }
    addReplyInteger(r, count);
}

/* ZCOUNT key min max */
static void zcountCommand(request *r) {
    zstate *s = zstateNew(r);
    s->ra.type = ZRT_SCORE;
    if (zrangeParseScore(r->argv[2], r->argv[3], &s->ra.score) != C_OK) {
        addReplyError(r, ERR_RANGE_FLOAT);
        return;
    }
    s->ra.limit = -1;
    planRange(s);
    s->readarg = 1;
    s->then = zcountAfterRead;
    zread(r, s);
}

/* ZLEXCOUNT key min max */
static void zlexcountCommand(request *r) {
    zstate *s = zstateNew(r);
    s->ra.type = ZRT_LEX;
    if (zrangeParseLex(r->argv[2], r->argvlen[2], r->argv[3], r->argvlen[3], &s->ra.lex) != C_OK) {
        addReplyError(r, ERR_RANGE_LEX);
        return;
    }
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0, zcountAfterRead, s);
}

static void zrankAfterRead(request *r, const collView *v, const char *err, void *pd) {
    int reverse = pd != NULL;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    if (type == -1) {
        addReplyNull(r);
        return;
    }
    const collElem *e = collViewFind(v, r->argv[2], r->argvlen[2]);
    double sc;
    if (!e || !zsetScore(&e->f, &v->kr, &sc)) {
        addReplyNull(r);
        return;
    }
    long n;
    zitem *it = viewSorted(v, &n);
    zitem me = {r->argv[2], r->argvlen[2], sc};
    long lo = 0, hi = n; /* the member's position: bisection on the key's order */
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (zitemCmp(&it[mid], &me) < 0) lo = mid + 1;
        else hi = mid;
    }
    zfree(it);
    addReplyInteger(r, reverse ? n - 1 - lo : lo);
}

/* ZRANK key member, ZREVRANK key member */
static void zrankCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0, zrankAfterRead,
             NULL);
}
static void zrevrankCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0, zrankAfterRead,
             (void *)1);
}

/* ================================================================= ranges */

/* Parses ZRANGE's arguments (zrangeParseArgs); replies and returns C_ERR
 * on bad input. */
static int parseRange(request *r, int src, int store, int type, int dir, zrangeArgs *a) {
    const char *err = zrangeParseArgs(r->argc, r->argv, r->argvlen, src, store, type, dir, a);
    if (!err) return C_OK;
    addReplyError(r, err);
    return C_ERR;
}

static void zrangeAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    long n = 0, first = 0, count = 0;
    int step = 1;
    zitem *it = type == KT_ZSET ? viewSorted(v, &n) : NULL;
    if (it) zrangeSpan(&s->ra, it, n, &first, &count, &step);
    replySpan(r, it, first, count, step, s->ra.withscores, r->proto >= 3);
    zfree(it);
}

static void zrangeGeneric(request *r, int type, int dir) {
    zstate *s = zstateNew(r);
    if (parseRange(r, 1, 0, type, dir, &s->ra) != C_OK) return;
    planRange(s);
    s->readarg = 1;
    s->then = zrangeAfterRead;
    zread(r, s);
}

/* ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
 * and the older forms, each one fixed kind and direction. */
static void zrangeCommand(request *r) { zrangeGeneric(r, ZRT_AUTO, ZDIR_AUTO); }
static void zrevrangeCommand(request *r) { zrangeGeneric(r, ZRT_RANK, ZDIR_REV); }
static void zrangebyscoreCommand(request *r) { zrangeGeneric(r, ZRT_SCORE, ZDIR_FWD); }
static void zrevrangebyscoreCommand(request *r) { zrangeGeneric(r, ZRT_SCORE, ZDIR_REV); }
static void zrangebylexCommand(request *r) { zrangeGeneric(r, ZRT_LEX, ZDIR_FWD); }
static void zrevrangebylexCommand(request *r) { zrangeGeneric(r, ZRT_LEX, ZDIR_REV); }

/* ------------------------------------------------------------ the STOREs */

/* The destination was read: it becomes s->res (a DEL of what was read of
 * it, then each member), or goes when s->res is empty; whatever it held
 * goes, a string too (as DEL does it: a tombstone over the versions read).
 * Replies the count once every write is acknowledged. */
static void storeAfterDst(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    s->kind = HELD_INT;
    s->ll = s->res.n;
    int hasmeta = v->meta.clock.n > 0;
    int hasstr = recordVisible(&v->str, v->now_ms) != NULL;
    if (s->res.n == 0 && !hasmeta && !hasstr) {
        sendHeld(r, s);
        return;
    }
    uint64_t seq = collDot();
    collBatch b;
    collBatchInit(&b);
    if (hasmeta) collBatchDel(&b, v, seq);
    if (s->res.n > 0) {
        collBatchTouch(&b, v, KT_ZSET, seq);
        field delta, none;
        fieldInit(&delta);
        fieldInit(&none);
        for (long k = 0; k < s->res.n; k++) {
            const zitem *x = &s->res.it[k];
            zsetDeltaAdd(&delta, &none, server.actor, seq, storedScore(x->score));
            collBatchField(&b, x->ele, x->len, &delta);
        }
        fieldFree(&delta);
        fieldFree(&none);
    }
    /* both writes are counted before either can complete */
    s->writes = (b.n > 0) + hasstr;
    if (b.n > 0) {
        collWrite(r, r->db, r->argv[s->dstidx], r->argvlen[s->dstidx], &b, zwriteDone, s);
    }
    collBatchFree(&b);
    if (hasstr)
        writeValue(r, r->db, r->argv[s->dstidx], r->argvlen[s->dstidx], NULL, 0, 1, 0, &v->str,
                   zwriteDone, s);
}

static void storeStart(request *r, zstate *s) {
    collRead(r, r->db, r->argv[s->dstidx], r->argvlen[s->dstidx], COLL_READ_META, NULL, NULL, 0,
             storeAfterDst, s);
}

static void zrangestoreAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    if (type == KT_ZSET) {
        long n, first, count;
        int step;
        zitem *it = viewSorted(v, &n);
        zrangeSpan(&s->ra, it, n, &first, &count, &step);
        zlistCopy(&s->res, it, first, count, step);
        zfree(it);
    }
    storeStart(r, s);
}

/* ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] */
static void zrangestoreCommand(request *r) {
    zstate *s = zstateNew(r);
    s->dstidx = 1;
    if (parseRange(r, 2, 1, ZRT_AUTO, ZDIR_AUTO, &s->ra) != C_OK) return;
    planRange(s);
    s->readarg = 2;
    s->then = zrangestoreAfterRead;
    zread(r, s);
}

/* =================================================================== pops */

/* Pops s->count members (-1: one) from v at the end s->pmax says; the
 * reply (HELD_POP or HELD_MPOP, set by the caller) waits for the write. */
static void popFrom(request *r, zstate *s, const collView *v, int keyarg) {
    long n;
    zitem *it = viewSorted(v, &n);
    long want = s->count == -1 ? 1 : (long)s->count;
    long take = want < n ? want : n;
    long first = s->pmax ? n - 1 : 0;
    int step = s->pmax ? -1 : 1;
    zlistCopy(&s->res, it, first, take, step);
    uint64_t seq = collDot();
    collBatch b;
    collBatchInit(&b);
    /* the key goes with its last members: known when the read ran out */
    batchRemove(&b, v, it, first, take, step, v->complete ? n : LONG_MAX, seq);
    zfree(it);
    s->keyarg = keyarg;
    zwrite(r, s, keyarg, &b);
}

static void zpopAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    if (type == -1 || s->count == 0) {
        addReplyArrayLen(r, 0);
        return;
    }
    s->kind = HELD_POP;
    /* a flat array, except RESP3 pairs when a count was given */
    s->nested = r->proto >= 3 && s->count != -1;
    popFrom(r, s, v, 1);
}

/* ZPOPMIN key [count], ZPOPMAX key [count] */
static void zpopGeneric(request *r, int pmax) {
    if (r->argc > 3) {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    zstate *s = zstateNew(r);
    s->pmax = pmax;
    s->count = -1;
    if (r->argc == 3 && getRangeLong(r, 2, 0, LLONG_MAX, &s->count, ERR_POSITIVE) != C_OK) return;
    /* the members popped and one more: is the key emptied? */
    planEnd(s, pmax, (s->count == -1 ? 1 : s->count) + (s->count < LLONG_MAX));
    s->readarg = 1;
    s->then = zpopAfterRead;
    zread(r, s);
}

static void zpopminCommand(request *r) { zpopGeneric(r, 0); }
static void zpopmaxCommand(request *r) { zpopGeneric(r, 1); }

static void zmpopNext(request *r, zstate *s);

/* ZMPOP reads its keys one at a time, in order: the first that exists is
 * popped (or answers WRONGTYPE), as Redis. */
static void zmpopAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    if (type == -1) {
        s->next++;
        zmpopNext(r, s);
        return;
    }
    s->kind = HELD_MPOP;
    popFrom(r, s, v, s->firstkey + s->next);
}

static void zmpopNext(request *r, zstate *s) {
    if (s->next >= s->nkeys) {
        addReplyNullArray(r);
        return;
    }
    planEnd(s, s->pmax, s->count + (s->count < LLONG_MAX));
    s->readarg = s->firstkey + s->next;
    s->then = zmpopAfterRead;
    zread(r, s);
}

/* ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
static void zmpopCommand(request *r) {
    long long numkeys;
    if (getRangeLong(r, 1, 1, LLONG_MAX, &numkeys, "numkeys should be greater than 0") != C_OK)
        return;
    if (numkeys >= r->argc - 2) {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    int where = 2 + (int)numkeys;
    zstate *s = zstateNew(r);
    if (argIs(r, where, "min")) s->pmax = 0;
    else if (argIs(r, where, "max")) s->pmax = 1;
    else {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    s->count = -1;
    for (int j = where + 1; j < r->argc; j++) {
        if (s->count == -1 && argIs(r, j, "count") && j + 1 < r->argc) {
            j++;
            if (getRangeLong(r, j, 1, LLONG_MAX, &s->count, "count should be greater than 0") !=
                C_OK)
                return;
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    if (s->count == -1) s->count = 1;
    s->nkeys = (int)numkeys;
    s->firstkey = 2;
    zmpopNext(r, s);
}

/* ============================================================ ZREMRANGEBY* */

static void zremrangeAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    if (type == -1) {
        addReplyInteger(r, 0);
        return;
    }
    long n, first, count;
    int step;
    zitem *it = viewSorted(v, &n);
    zrangeSpan(&s->ra, it, n, &first, &count, &step);
    s->kind = HELD_INT;
    s->ll = count;
    if (count == 0) {
        zfree(it);
        sendHeld(r, s);
        return;
    }
    collBatch b;
    collBatchInit(&b);
    batchRemove(&b, v, it, first, count, step, n, collDot());
    zfree(it);
    zwrite(r, s, 1, &b);
}

static void zremrangeGeneric(request *r, int type) {
    zstate *s = zstateNew(r);
    zrangeArgs *a = &s->ra;
    a->type = type;
    a->limit = -1;
    if (type == ZRT_RANK) {
        if (getLongLongFromArg(r, 2, &a->start, NULL) != C_OK ||
            getLongLongFromArg(r, 3, &a->end, NULL) != C_OK)
            return;
    } else if (type == ZRT_SCORE) {
        if (zrangeParseScore(r->argv[2], r->argv[3], &a->score) != C_OK) {
            addReplyError(r, ERR_RANGE_FLOAT);
            return;
        }
    } else if (zrangeParseLex(r->argv[2], r->argvlen[2], r->argv[3], r->argvlen[3], &a->lex) !=
               C_OK) {
        addReplyError(r, ERR_RANGE_LEX);
        return;
    }
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0,
             zremrangeAfterRead, s);
}

/* ZREMRANGEBYRANK key start stop, ZREMRANGEBYSCORE key min max,
 * ZREMRANGEBYLEX key min max */
static void zremrangebyrankCommand(request *r) { zremrangeGeneric(r, ZRT_RANK); }
static void zremrangebyscoreCommand(request *r) { zremrangeGeneric(r, ZRT_SCORE); }
static void zremrangebylexCommand(request *r) { zremrangeGeneric(r, ZRT_LEX); }

/* ============================================================ ZRANDMEMBER */

static void zrandAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    int hascount = r->argc >= 3, ws = s->ra.withscores, nested = ws && r->proto >= 3;
    long n = 0;
    zitem *it = type == KT_ZSET ? viewSorted(v, &n) : NULL;
    if (!hascount) {
        if (n == 0) addReplyNull(r);
        else {
            const zitem *x = &it[zrandBelow(n)];
            addReplyBulk(r, x->ele, x->len);
        }
        zfree(it);
        return;
    }
    long long l = s->count;
    unsigned long long count = l >= 0 ? (unsigned long long)l : (unsigned long long)(-l);
    if (n == 0 || count == 0) {
        addReplyArrayLen(r, 0);
    } else if (l < 0 || count == 1) {
        /* with repetitions, in random order */
        addReplyArrayLen(r, ws && !nested ? (long long)count * 2 : (long long)count);
        for (unsigned long long k = 0; k < count; k++) {
            /* as Redis: a reply past the client's hard output limit stops
             * here (the connection is closed for it), so ZRANDMEMBER z
             * -9223372036854775807 cannot take the server's memory */
            if ((k & 1023) == 1023 && server.obuf_hard &&
                evbuffer_get_length(r->out) > (size_t)server.obuf_hard)
                break;
            const zitem *x = &it[zrandBelow(n)];
            if (nested) addReplyArrayLen(r, 2);
            addReplyBulk(r, x->ele, x->len);
            if (ws) addReplyDouble(r, x->score);
        }
    } else if (count >= (unsigned long long)n) {
        replySpan(r, it, n - 1, n, -1, ws, nested); /* the whole set, as Redis walks it */
    } else {
        /* distinct members: the first count of a partial shuffle */
        for (long k = 0; k < (long)count; k++) {
            long j = k + zrandBelow(n - k);
            zitem t = it[k];
            it[k] = it[j];
            it[j] = t;
        }
        replySpan(r, it, 0, (long)count, 1, ws, nested);
    }
    zfree(it);
}

/* ZRANDMEMBER key [count [WITHSCORES]] */
static void zrandmemberCommand(request *r) {
    zstate *s = zstateNew(r);
    if (r->argc >= 3) {
        if (getRangeLong(r, 2, -LLONG_MAX, LLONG_MAX, &s->count, NULL) != C_OK) return;
        if (r->argc > 4 || (r->argc == 4 && !argIs(r, 3, "withscores"))) {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
        if (r->argc == 4) {
            s->ra.withscores = 1;
            if (s->count < -LLONG_MAX / 2 || s->count > LLONG_MAX / 2) {
                addReplyError(r, "value is out of range");
                return;
            }
        }
    }
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0, zrandAfterRead, s);
}

/* ====================================================== set operations */

/* s->res := the operation's result over s->src (zrangeCombine); returns
 * its cardinality. */
static long computeSetOp(zstate *s) {
    const zitem **src = zmalloc(sizeof(zitem *) * (size_t)s->nkeys);
    long *n = zmalloc(sizeof(long) * (size_t)s->nkeys);
    for (int i = 0; i < s->nkeys; i++) {
        src[i] = s->src[i].it;
        n[i] = s->src[i].n;
    }
    zlistFree(&s->res);
    s->res.n = zrangeCombine(s->op, s->agg, src, n, s->weights, s->nkeys,
                             s->cardonly ? s->cardlimit : 0, &s->res.it);
    zfree(src);
    zfree(n);
    return s->res.n;
}

static void setopFinish(request *r, zstate *s) {
    if (s->err[0]) {
        addReplyError(r, s->err);
        return;
    }
    if (s->wrongtype) {
        addReplyError(r, ERR_WRONGTYPE);
        return;
    }
    if (s->opterr[0]) {
        addReplyError(r, s->opterr);
        return;
    }
    long n = computeSetOp(s);
    if (s->dstidx) {
        storeStart(r, s);
    } else if (s->cardonly) {
        addReplyInteger(r, n);
    } else {
        replySpan(r, s->res.it, 0, n, 1, s->ra.withscores, r->proto >= 3);
    }
}

static void setopAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = r->state;
    int i = (int)(intptr_t)pd;
    if (err) {
        if (!s->err[0]) snprintf(s->err, sizeof(s->err), "%s", err);
    } else {
        int type = collTypeOf(v);
        if (type == KT_ZSET || type == KT_SET) {
            long n;
            zitem *it = viewItems(v, type, &n);
            zlistCopy(&s->src[i], it, 0, n, 1);
            zfree(it);
        } else if (type != -1) {
            s->wrongtype = 1;
        }
    }
    if (++s->done == s->nkeys) setopFinish(r, s);
}

/* ZUNION/ZINTER/ZDIFF numkeys key [key ...] [options], their STORE forms
 * (dst first) and ZINTERCARD. */
static void setopGeneric(request *r, int dstidx, int op, int cardonly) {
    int numidx = dstidx ? 2 : 1;
    long long setnum;
    if (getLongLongFromArg(r, numidx, &setnum, NULL) != C_OK) return;
    if (setnum < 1) {
        addReplyErrorFormat(r, "at least 1 input key is needed for '%s' command", r->cmd->name);
        return;
    }
    if (setnum > r->argc - (numidx + 1)) {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    zstate *s = zstateNew(r);
    s->op = op;
    s->cardonly = cardonly;
    s->dstidx = dstidx;
    s->nkeys = (int)setnum;
    s->firstkey = numidx + 1;
    s->weights = zmalloc(sizeof(double) * (size_t)s->nkeys);
    for (int i = 0; i < s->nkeys; i++) s->weights[i] = 1.0;
    s->src = zcalloc(sizeof(zlist) * (size_t)s->nkeys);
    /* Redis reports a key of the wrong type before a bad option */
    const char *oe = zrangeParseSetop(r->argc, r->argv, r->argvlen, s->firstkey + s->nkeys, s->op,
                                      s->dstidx != 0, s->cardonly, s->nkeys, s->weights, &s->agg,
                                      &s->ra.withscores, &s->cardlimit);
    if (oe) snprintf(s->opterr, sizeof(s->opterr), "%s", oe);
    for (int i = 0; i < s->nkeys; i++) {
        int k = s->firstkey + i;
        collRead(r, r->db, r->argv[k], r->argvlen[k], COLL_READ_ALL, NULL, NULL, 0,
                 setopAfterRead, (void *)(intptr_t)i);
    }
}

static void zunionCommand(request *r) { setopGeneric(r, 0, ZOP_UNION, 0); }
static void zinterCommand(request *r) { setopGeneric(r, 0, ZOP_INTER, 0); }
static void zdiffCommand(request *r) { setopGeneric(r, 0, ZOP_DIFF, 0); }
static void zintercardCommand(request *r) { setopGeneric(r, 0, ZOP_INTER, 1); }
static void zunionstoreCommand(request *r) { setopGeneric(r, 1, ZOP_UNION, 0); }
static void zinterstoreCommand(request *r) { setopGeneric(r, 1, ZOP_INTER, 0); }
static void zdiffstoreCommand(request *r) { setopGeneric(r, 1, ZOP_DIFF, 0); }

/* ================================================================== ZSCAN */

/* A member's place in the scan order: a hash, so that the cursor (the next
 * place) stays meaningful while members come and go, as Redis's
 * reverse-binary cursor does: a member present for the whole scan is
 * returned. Never 0 (the cursor that starts and ends a scan). */
static uint64_t scanPlace(const char *p, size_t len) { return (XXH3_64bits(p, len) >> 1) + 1; }

/* Redis returns a sorted set of up to 128 members (its listpack size) in
 * one reply, whatever the COUNT. */
#define ZSCAN_SMALL 128

typedef struct scanEntry {
    uint64_t place;
    const zitem *x;
} scanEntry;

static int scanEntryCmp(const void *pa, const void *pb) {
    const scanEntry *a = pa, *b = pb;
    if (a->place != b->place) return a->place < b->place ? -1 : 1;
    return 0;
}

static void zscanAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    int type = zsetViewType(r, v);
    if (type == -2) return;
    if (type == -1) {
        addReplyArrayLen(r, 2);
        addReplyBulkCString(r, "0");
        addReplyArrayLen(r, 0);
        return;
    }
    /* options are parsed once the key is known, as Redis does */
    long long count = 10;
    const char *pat = NULL;
    size_t patlen = 0;
    for (int i = 3; i < r->argc; i++) {
        int more = r->argc - i >= 2;
        if (argIs(r, i, "count") && more) {
            if (getLongLongFromArg(r, i + 1, &count, NULL) != C_OK) return;
            if (count < 1) {
                addReplyError(r, ERR_SYNTAX);
                return;
            }
            i++;
        } else if (argIs(r, i, "match") && more) {
            pat = r->argv[i + 1];
            patlen = r->argvlen[i + 1];
            if (patlen == 1 && pat[0] == '*') pat = NULL;
            i++;
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    long n;
    zitem *it = viewItems(v, KT_ZSET, &n);
    scanEntry *e = zmalloc(sizeof(scanEntry) * (size_t)(n ? n : 1));
    uint64_t cursor = (uint64_t)s->count, next = 0;
    long i = 0, end = n;
    if (cursor == 0 && n <= ZSCAN_SMALL) {
        /* a small set at once, in its order, as Redis returns a listpack */
        zitemSort(it, n);
        for (long k = 0; k < n; k++) e[k] = (scanEntry){0, &it[k]};
    } else {
        for (long k = 0; k < n; k++) e[k] = (scanEntry){scanPlace(it[k].ele, it[k].len), &it[k]};
        qsort(e, (size_t)n, sizeof(scanEntry), scanEntryCmp);
        while (i < n && e[i].place < cursor) i++;
        /* COUNT members, and the whole of a run of equal places */
        end = i;
        while (end < n && (end - i < count || e[end].place == e[end - 1].place)) end++;
        next = end < n ? e[end].place : 0;
    }
    long keep = 0;
    for (long k = i; k < end; k++)
        if (!pat || stringmatchlen(pat, (int)patlen, e[k].x->ele, (int)e[k].x->len, 0)) keep++;
    char cb[32];
    addReplyArrayLen(r, 2);
    snprintf(cb, sizeof(cb), "%llu", (unsigned long long)next);
    addReplyBulkCString(r, cb);
    addReplyArrayLen(r, keep * 2);
    for (long k = i; k < end; k++) {
        const zitem *x = e[k].x;
        if (pat && !stringmatchlen(pat, (int)patlen, x->ele, (int)x->len, 0)) continue;
        char sb[64];
        int sl = zrangeFormatScore(sb, sizeof(sb), x->score);
        addReplyBulk(r, x->ele, x->len);
        addReplyBulk(r, sb, (size_t)sl);
    }
    zfree(e);
    zfree(it);
}

/* ZSCAN key cursor [MATCH pattern] [COUNT count] */
static void zscanCommand(request *r) {
    /* Redis reads the cursor with strtoul: an unsigned 64-bit number */
    const char *c = r->argv[2];
    char *eptr;
    errno = 0;
    unsigned long long cursor = strtoull(c, &eptr, 10);
    if (isspace((unsigned char)c[0]) || eptr[0] != '\0' || errno == ERANGE) {
        addReplyError(r, "invalid cursor");
        return;
    }
    zstate *s = zstateNew(r);
    s->count = (long long)cursor;
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0, zscanAfterRead, s);
}

/* ================================================================== table */

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define SS "sorted-set"
#define SETOP_OPTS "[WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]"

command zsetCommandTable[] = {
    {"zadd", zaddCommand, -4, W | F, 1, 1, 1, SS, "1.2.0", "Add one or more members to a sorted set, or update its score if it already exists",
     "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]", 0, 0, 0, 0},
    {"zincrby", zincrbyCommand, 4, W | F, 1, 1, 1, SS, "1.2.0", "Increment the score of a member in a sorted set", "key increment member", 0, 0, 0, 0},
    {"zrem", zremCommand, -3, W | F, 1, 1, 1, SS, "1.2.0", "Remove one or more members from a sorted set", "key member [member ...]", 0, 0, 0, 0},
    {"zscore", zscoreCommand, 3, R | F, 1, 1, 1, SS, "1.2.0", "Get the score associated with the given member in a sorted set", "key member", 0, 0, 0, 0},
    {"zmscore", zmscoreCommand, -3, R | F, 1, 1, 1, SS, "6.2.0", "Get the score associated with the given members in a sorted set", "key member [member ...]", 0, 0, 0, 0},
    {"zcard", zcardCommand, 2, R | F, 1, 1, 1, SS, "1.2.0", "Get the number of members in a sorted set", "key", 0, 0, 0, 0},
    {"zcount", zcountCommand, 4, R | F, 1, 1, 1, SS, "2.0.0", "Count the members in a sorted set with scores within the given values", "key min max", 0, 0, 0, 0},
    {"zlexcount", zlexcountCommand, 4, R | F, 1, 1, 1, SS, "2.8.9", "Count the number of members in a sorted set between a given lexicographical range", "key min max", 0, 0, 0, 0},
    {"zrank", zrankCommand, 3, R | F, 1, 1, 1, SS, "2.0.0", "Determine the index of a member in a sorted set", "key member", 0, 0, 0, 0},
    {"zrevrank", zrevrankCommand, 3, R | F, 1, 1, 1, SS, "2.0.0", "Determine the index of a member in a sorted set, with scores ordered from high to low", "key member", 0, 0, 0, 0},
    {"zrange", zrangeCommand, -4, R, 1, 1, 1, SS, "1.2.0", "Return a range of members in a sorted set",
     "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]", 0, 0, 0, 0},
    {"zrangestore", zrangestoreCommand, -5, W, 1, 2, 1, SS, "6.2.0", "Store a range of members from sorted set into another key",
     "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]", 0, 0, 0, 0},
    {"zrevrange", zrevrangeCommand, -4, R, 1, 1, 1, SS, "1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low",
     "key start stop [WITHSCORES]", 0, 0, 0, 0},
    {"zrangebyscore", zrangebyscoreCommand, -4, R, 1, 1, 1, SS, "1.0.5", "Return a range of members in a sorted set, by score",
     "key min max [WITHSCORES] [LIMIT offset count]", 0, 0, 0, 0},
    {"zrevrangebyscore", zrevrangebyscoreCommand, -4, R, 1, 1, 1, SS, "2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low",
     "key max min [WITHSCORES] [LIMIT offset count]", 0, 0, 0, 0},
    {"zrangebylex", zrangebylexCommand, -4, R, 1, 1, 1, SS, "2.8.9", "Return a range of members in a sorted set, by lexicographical range",
     "key min max [LIMIT offset count]", 0, 0, 0, 0},
    {"zrevrangebylex", zrevrangebylexCommand, -4, R, 1, 1, 1, SS, "2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
     "key max min [LIMIT offset count]", 0, 0, 0, 0},
    {"zpopmin", zpopminCommand, -2, W | F, 1, 1, 1, SS, "5.0.0", "Remove and return members with the lowest scores in a sorted set", "key [count]", 0, 0, 0, 0},
    {"zpopmax", zpopmaxCommand, -2, W | F, 1, 1, 1, SS, "5.0.0", "Remove and return members with the highest scores in a sorted set", "key [count]", 0, 0, 0, 0},
    {"zmpop", zmpopCommand, -4, W, 0, 0, 0, SS, "7.0.0", "Remove and return members with scores in a sorted set",
     "numkeys key [key ...] MIN|MAX [COUNT count]", 0, 0, 0, 0},
    {"zrandmember", zrandmemberCommand, -2, R, 1, 1, 1, SS, "6.2.0", "Get one or multiple random elements from a sorted set",
     "key [count [WITHSCORES]]", 0, 0, 0, 0},
    {"zremrangebyrank", zremrangebyrankCommand, 4, W, 1, 1, 1, SS, "2.0.0", "Remove all members in a sorted set within the given indexes", "key start stop", 0, 0, 0, 0},
    {"zremrangebyscore", zremrangebyscoreCommand, 4, W, 1, 1, 1, SS, "1.2.0", "Remove all members in a sorted set within the given scores", "key min max", 0, 0, 0, 0},
    {"zremrangebylex", zremrangebylexCommand, 4, W, 1, 1, 1, SS, "2.8.9", "Remove all members in a sorted set between the given lexicographical range", "key min max", 0, 0, 0, 0},
    {"zunion", zunionCommand, -3, R, 0, 0, 0, SS, "6.2.0", "Add multiple sorted sets",
     "numkeys key [key ...] " SETOP_OPTS " [WITHSCORES]", 0, 0, 0, 0},
    {"zinter", zinterCommand, -3, R, 0, 0, 0, SS, "6.2.0", "Intersect multiple sorted sets",
     "numkeys key [key ...] " SETOP_OPTS " [WITHSCORES]", 0, 0, 0, 0},
    {"zdiff", zdiffCommand, -3, R, 0, 0, 0, SS, "6.2.0", "Subtract multiple sorted sets", "numkeys key [key ...] [WITHSCORES]", 0, 0, 0, 0},
    {"zunionstore", zunionstoreCommand, -4, W, 1, 1, 1, SS, "2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key",
     "destination numkeys key [key ...] " SETOP_OPTS, 0, 0, 0, 0},
    {"zinterstore", zinterstoreCommand, -4, W, 1, 1, 1, SS, "2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key",
     "destination numkeys key [key ...] " SETOP_OPTS, 0, 0, 0, 0},
    {"zdiffstore", zdiffstoreCommand, -4, W, 1, 1, 1, SS, "6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key",
     "destination numkeys key [key ...]", 0, 0, 0, 0},
    {"zintercard", zintercardCommand, -3, R, 0, 0, 0, SS, "7.0.0", "Intersect multiple sorted sets and return the cardinality of the result",
     "numkeys key [key ...] [LIMIT limit]", 0, 0, 0, 0},
    {"zscan", zscanCommand, -3, R, 1, 1, 1, SS, "2.8.0", "Incrementally iterate sorted sets elements and associated scores",
     "key cursor [MATCH pattern] [COUNT count]", 0, 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};
