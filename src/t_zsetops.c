/* t_zsetops.c -- the sorted-set commands that combine or walk whole sets
 * (t_zset.c's header says how a sorted set is read and written).
 *
 * Each reads every member of its keys (COLL_READ_ALL): ZRANDMEMBER picks
 * from them; ZUNION, ZINTER and ZDIFF (sets count as members of score 1),
 * their *STORE forms (t_zset.c's storeStart writes the destination) and
 * ZINTERCARD combine several keys, read as MGET does, one collRead each;
 * ZSCAN walks one key by a hashed cursor.
 *
 * Moved out of t_zset.c to keep each file one concern and well under the
 * house limit; the helpers they share are t_zsetint.h's.
 *
 * Layout: ZRANDMEMBER; ZUNION/ZINTER/ZDIFF & co; ZSCAN.
 *
 * API (rows of t_zset.c's zsetCommandTable, declared in t_zsetint.h):
 *   zrandmemberCommand, zunionCommand, zinterCommand, zdiffCommand,
 *   zintercardCommand, zunionstoreCommand, zinterstoreCommand,
 *   zdiffstoreCommand, zscanCommand */
#include "t_zsetint.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "coll.h"
#include "commands.h"
#include "zrange.h"

/* ============================================================ ZRANDMEMBER */

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

static void zrandAfterRead(request *r, const collView *v, const char *err, void *pd) {
    zstate *s = pd;
    int type = zsetViewType(r, v, err);
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
void zrandmemberCommand(request *r) {
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

void zunionCommand(request *r) { setopGeneric(r, 0, ZOP_UNION, 0); }
void zinterCommand(request *r) { setopGeneric(r, 0, ZOP_INTER, 0); }
void zdiffCommand(request *r) { setopGeneric(r, 0, ZOP_DIFF, 0); }
void zintercardCommand(request *r) { setopGeneric(r, 0, ZOP_INTER, 1); }
void zunionstoreCommand(request *r) { setopGeneric(r, 1, ZOP_UNION, 0); }
void zinterstoreCommand(request *r) { setopGeneric(r, 1, ZOP_INTER, 0); }
void zdiffstoreCommand(request *r) { setopGeneric(r, 1, ZOP_DIFF, 0); }

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
    int type = zsetViewType(r, v, err);
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
void zscanCommand(request *r) {
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
