/* t_zsetint.h -- what the sorted-set command files share, and no other file:
 * t_zset.c (the shared helpers, the commands that name their members, the
 * command table), t_zsetrange.c (spans of the order: ZRANGE & co, the pops,
 * ZREMRANGEBY*) and t_zsetops.c (whole sets: ZUNION/ZINTER/ZDIFF & co,
 * ZRANDMEMBER, ZSCAN). Everything else uses t_zset.h.
 *
 * Why a header: the three files are one module split for size; their
 * handlers share one request state (zstate), its held reply, the member
 * lists and the reads by score, and t_zset.c's one table names the other
 * two files' handlers (so COMMAND lists the rows in the order it always
 * has). The helpers keep the names they had as t_zset.c's statics.
 *
 * API, t_zset.c for t_zsetrange.c and t_zsetops.c:
 *   zlistFree / zlistCopy                 a zlist's members (owned copies)
 *   viewItems / viewSorted                a view's live members (borrowed)
 *   zsetViewType(r, v, err)               KT_ZSET, -1 (absent) or -2 (an error or WRONGTYPE replied)
 *   getRangeLong(r, i, min, max, v, err)  an integer argument in [min, max]
 *   replySpan(r, it, first, count, ...)   members (and scores) as Redis replies them
 *   zstateNew(r)                          the request's zstate
 *   sendHeld(r, s) / zwrite(r, s, k, b)   the held reply; a write that sends it when acknowledged
 *   batchRemove(b, v, items, ...)         a span's removal (and the key's DEL) into a batch
 *   zread / planEnd / planRange           reads by score (zplan)
 *   storeStart(r, s)                      a *STORE: s->res replaces the destination
 * API, t_zsetrange.c and t_zsetops.c for t_zset.c's table: their handlers. */
#ifndef RINGKV_T_ZSETINT_H
#define RINGKV_T_ZSETINT_H

#include <stdint.h>

#include "coll.h"
#include "collbatch.h"
#include "coord.h"
#include "request.h"
#include "zrange.h"

#define ERR_RANGE_FLOAT "min or max is not a float"
#define ERR_RANGE_LEX "min or max not valid string range item"

/* Members with scores; when the list owns its member bytes they are in
 * bytes (zlistCopy), else they are borrowed (from a view during its
 * callback, or from another zlist of the same state). */
typedef struct zlist {
    zitem *it;  /* owned array */
    long n;     /* items */
    buf bytes;  /* owned member bytes, if copied */
} zlist;

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

/* ---- t_zset.c, for t_zsetrange.c and t_zsetops.c ---- */
void zlistFree(zlist *l);
/* l := copies of the span (first, count, step) of items (l emptied first). */
void zlistCopy(zlist *l, const zitem *items, long first, long count, int step);
/* The live members of a view in name order, borrowing the view's names
 * (valid for its callback only); a set's members count with score 1. */
zitem *viewItems(const collView *v, int type, long *n);
/* As viewItems, sorted by (score, member): the key's order. */
zitem *viewSorted(const collView *v, long *n);
/* Replies WRONGTYPE and returns -2 for another type, else KT_ZSET or -1. */
int zsetViewType(request *r, const collView *v, const char *err);
int getRangeLong(request *r, int i, long long min, long long max, long long *v,
                 const char *err);
void replySpan(request *r, const zitem *it, long first, long count, int step,
               int withscores, int nested);
zstate *zstateNew(request *r); /* becomes r->state, freed with the request */
void sendHeld(request *r, zstate *s);
/* Writes b to argv[keyarg] and replies s's held reply when it is
 * acknowledged; frees b. */
void zwrite(request *r, zstate *s, int keyarg, collBatch *b);
void batchRemove(collBatch *b, const collView *v, const zitem *items, long first,
                 long count, int step, long live, uint64_t seq);
/* Reads argv[s->readarg] as s plans it (planEnd, planRange), then s->then. */
void zread(request *r, zstate *s);
void planEnd(zstate *s, int rev, long long want);
void planRange(zstate *s);
/* Reads the destination argv[s->dstidx], then replaces it by s->res and
 * replies the count once the writes are acknowledged. */
void storeStart(request *r, zstate *s);

/* ---- t_zsetrange.c, for t_zset.c's table ---- */
void zrangeCommand(request *r);
void zrevrangeCommand(request *r);
void zrangebyscoreCommand(request *r);
void zrevrangebyscoreCommand(request *r);
void zrangebylexCommand(request *r);
void zrevrangebylexCommand(request *r);
void zrangestoreCommand(request *r);
void zpopminCommand(request *r);
void zpopmaxCommand(request *r);
void zmpopCommand(request *r);
void zremrangebyrankCommand(request *r);
void zremrangebyscoreCommand(request *r);
void zremrangebylexCommand(request *r);

/* ---- t_zsetops.c, for t_zset.c's table ---- */
void zrandmemberCommand(request *r);
void zunionCommand(request *r);
void zinterCommand(request *r);
void zdiffCommand(request *r);
void zintercardCommand(request *r);
void zunionstoreCommand(request *r);
void zinterstoreCommand(request *r);
void zdiffstoreCommand(request *r);
void zscanCommand(request *r);

#endif
