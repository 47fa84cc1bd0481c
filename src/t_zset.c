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
 * The commands live in three files, one table (below; its rows keep
 * COMMAND's order): this one holds what they share (member lists, the
 * request state and its held reply, the reads by score, the writing of a
 * *STORE's destination; t_zsetint.h declares it for the other two) and
 * the commands that name their members (ZADD/ZINCRBY, ZREM, ZSCORE,
 * ZMSCORE, ZCARD, ZCOUNT, ZLEXCOUNT, ZRANK/ZREVRANK); t_zsetrange.c the
 * commands that take a span of the order (ZRANGE & co, ZRANGESTORE, the
 * pops, ZREMRANGEBY*); t_zsetops.c those that combine or walk whole sets
 * (ZUNION/ZINTER/ZDIFF & co, ZINTERCARD, ZRANDMEMBER, ZSCAN).
 *
 * Layout: shared helpers; command state; reads by score (zplan); *STORE
 * destinations; ZADD/ZINCRBY; ZREM; point reads; the table.
 *
 * API: zsetCommandTable (t_zset.h); the shared helpers of t_zsetint.h, for
 * t_zsetrange.c and t_zsetops.c; the handlers here are static. */
#include "t_zset.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coll.h"
#include "collbatch.h"
#include "t_string.h"
#include "t_zsetint.h"
#include "types/zset.h"
#include "zrange.h"

#define ERR_NAN "resulting score is not a number (NaN)"

/* ================================================================ helpers */

void zlistFree(zlist *l) {
    zfree(l->it);
    bufFree(&l->bytes);
    l->it = NULL;
    l->n = 0;
}

/* l := copies of the span (first, count, step) of items (l emptied first). */
void zlistCopy(zlist *l, const zitem *items, long first, long count, int step) {
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
zitem *viewItems(const collView *v, int type, long *n) {
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
zitem *viewSorted(const collView *v, long *n) {
    zitem *it = viewItems(v, KT_ZSET, n);
    zitemSort(it, *n);
    return it;
}

/* The score a ZADD or a *STORE writes: -0 as 0, which is what Redis reads
 * back from the listpack that holds a small sorted set. */
static double storedScore(double d) { return d == 0 ? 0.0 : d; }

/* The type the key reads as, for a sorted-set command's read callback:
 * replies the read's error (err) or WRONGTYPE and returns -2, else KT_ZSET
 * or -1 (absent). */
int zsetViewType(request *r, const collView *v, const char *err) {
    if (err) {
        addReplyError(r, err);
        return -2;
    }
    if (collCheckType(r, v, KT_ZSET)) return -2;
    return collTypeOf(v) == KT_ZSET ? KT_ZSET : -1;
}

/* Redis's getLongFromObjectOrReply into [min, max]; err replaces both of
 * Redis's texts when given. */
int getRangeLong(request *r, int i, long long min, long long max, long long *v,
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

/* Members (and scores) as Redis replies them: a flat array, or [member,
 * score] pairs when nested (RESP3 WITHSCORES). */
void replySpan(request *r, const zitem *it, long first, long count, int step,
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

zstate *zstateNew(request *r) {
    zstate *s = requestState(r, sizeof(*s));
    r->state_free = zstateFree;
    bufInit(&s->res.bytes);
    return s;
}

void sendHeld(request *r, zstate *s) {
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
void zwrite(request *r, zstate *s, int keyarg, collBatch *b) {
    s->writes++;
    collWrite(r, r->db, r->argv[keyarg], r->argvlen[keyarg], b, zwriteDone, s);
    collBatchFree(b);
}

/* Appends the removal of the span's members (items borrow v) to b; adds
 * the key's DEL when they were all its live members (live). */
void batchRemove(collBatch *b, const collView *v, const zitem *items, long first,
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
void zread(request *r, zstate *s) {
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
void planEnd(zstate *s, int rev, long long want) {
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
void planRange(zstate *s) {
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

/* ===================================================== *STORE destinations */

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

void storeStart(request *r, zstate *s) {
    collRead(r, r->db, r->argv[s->dstidx], r->argvlen[s->dstidx], COLL_READ_META, NULL, NULL, 0,
             storeAfterDst, s);
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
    int type = zsetViewType(r, v, err);
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
    int type = zsetViewType(r, v, err);
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
    int type = zsetViewType(r, v, err);
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
    int type = zsetViewType(r, v, err);
    if (type == -2) return;
    long n = 0;
    if (type == KT_ZSET) zfree(viewItems(v, KT_ZSET, &n));
    addReplyInteger(r, n);
}

/* ZCARD key */
/* (from the replicas' figures when they agree: collCount) */
static void zcardCommand(request *r) {
    collCount(r, r->db, r->argv[1], r->argvlen[1], KT_ZSET, zcardAfterRead, NULL);
}

/* ZCOUNT / ZLEXCOUNT: the members of the range s->ra selects. */
static void zcountAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    int type = zsetViewType(r, v, err);
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
    int type = zsetViewType(r, v, err);
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
