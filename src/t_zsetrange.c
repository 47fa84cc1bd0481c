/* t_zsetrange.c -- the sorted-set commands that take a span of the order
 * (t_zset.c's header says how a sorted set is read and written).
 *
 * ZRANGE and its older forms reply a span picked by rank, score or lex
 * range (zrangeSpan) from the members sorted as Redis orders them;
 * ZRANGESTORE writes it to a destination (t_zset.c's storeStart); ZPOPMIN,
 * ZPOPMAX and ZMPOP remove the members at one end and reply them once the
 * write is acknowledged; ZREMRANGEBYRANK/SCORE/LEX remove a span. All but
 * BYLEX spans, spans by rank from both ends and ZREMRANGEBY* read a run of
 * the score index (t_zset.c's zplan), the rest every member.
 *
 * Moved out of t_zset.c to keep each file one concern and well under the
 * house limit; the helpers they share are t_zsetint.h's.
 *
 * Layout: ranges (ZRANGE & co); ZRANGESTORE; pops (ZPOPMIN/MAX, ZMPOP);
 * ZREMRANGEBY*.
 *
 * API (rows of t_zset.c's zsetCommandTable, declared in t_zsetint.h):
 *   zrangeCommand, zrevrangeCommand, zrangebyscoreCommand,
 *   zrevrangebyscoreCommand, zrangebylexCommand, zrevrangebylexCommand,
 *   zrangestoreCommand, zpopminCommand, zpopmaxCommand, zmpopCommand,
 *   zremrangebyrankCommand, zremrangebyscoreCommand, zremrangebylexCommand */
#include "t_zsetint.h"

#include <limits.h>
#include <stdint.h>

#include "coll.h"
#include "collbatch.h"
#include "zrange.h"

#define ERR_POSITIVE "value is out of range, must be positive"

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
    int type = zsetViewType(r, v, err);
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
void zrangeCommand(request *r) { zrangeGeneric(r, ZRT_AUTO, ZDIR_AUTO); }
void zrevrangeCommand(request *r) { zrangeGeneric(r, ZRT_RANK, ZDIR_REV); }
void zrangebyscoreCommand(request *r) { zrangeGeneric(r, ZRT_SCORE, ZDIR_FWD); }
void zrevrangebyscoreCommand(request *r) { zrangeGeneric(r, ZRT_SCORE, ZDIR_REV); }
void zrangebylexCommand(request *r) { zrangeGeneric(r, ZRT_LEX, ZDIR_FWD); }
void zrevrangebylexCommand(request *r) { zrangeGeneric(r, ZRT_LEX, ZDIR_REV); }

/* ============================================================ ZRANGESTORE */

static void zrangestoreAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    int type = zsetViewType(r, v, err);
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
void zrangestoreCommand(request *r) {
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
    int type = zsetViewType(r, v, err);
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

void zpopminCommand(request *r) { zpopGeneric(r, 0); }
void zpopmaxCommand(request *r) { zpopGeneric(r, 1); }

static void zmpopNext(request *r, zstate *s);

/* ZMPOP reads its keys one at a time, in order: the first that exists is
 * popped (or answers WRONGTYPE), as Redis. */
static void zmpopAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    int type = zsetViewType(r, v, err);
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
void zmpopCommand(request *r) {
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
    int type = zsetViewType(r, v, err);
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
void zremrangebyrankCommand(request *r) { zremrangeGeneric(r, ZRT_RANK); }
void zremrangebyscoreCommand(request *r) { zremrangeGeneric(r, ZRT_SCORE); }
void zremrangebylexCommand(request *r) { zremrangeGeneric(r, ZRT_LEX); }
