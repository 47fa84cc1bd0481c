/* t_sort.c -- SORT and SORT_RO of Redis 7.0 over sets and sorted sets.
 *
 *   SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
 *            [ASC|DESC] [ALPHA] [STORE destination]
 *   SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
 *
 * What Redis does, and ringkv with it:
 *   - the elements sort as numbers (strtod of each, or of the value BY
 *     names; an element or value that is no number fails the command with
 *     "One or more scores can't be converted into double"; a BY key that
 *     does not exist counts as 0), or with ALPHA as strings (strcoll; a
 *     missing BY value sorts first). Equal keys are ordered by the
 *     element's bytes: Redis does so for numbers; for ALPHA it leaves ties
 *     in an unspecified order, ringkv makes them deterministic the same way;
 *   - a pattern names other keys through its first '*', replaced by the
 *     element: "w_*" is the string w_<element>, "h_*->f" the field f of the
 *     hash h_<element>; "#" (GET only) is the element itself; a pattern
 *     without '*' reads nothing (GET gives nil, BY means "do not sort");
 *   - BY without '*' (e.g. BY nosort) keeps the key's own order: a sorted
 *     set's (by score, DESC reversed), a set's. A set has no order in Redis
 *     (it lists in hash order); in ringkv it lists in member byte order, as
 *     SMEMBERS does;
 *   - LIMIT offset count picks the window after sorting, with Redis's
 *     clamping (a negative count means "to the end");
 *   - a missing key sorts as an empty list; a string, hash or HyperLogLog
 *     answers WRONGTYPE. Lists: ringkv has none yet, so a key is never one.
 *   - STORE writes a list in Redis. ringkv has no lists yet: SORT ... STORE
 *     answers an error and writes nothing (SORT_RO refuses STORE as a syntax
 *     error, as in Redis). So SORT never writes here, and its row is a read.
 *
 * How it runs (a continuation chain, as t_set.c's commands):
 *   1. the arguments are parsed first: bad input gets Redis's error;
 *   2. collRead(key, COLL_READ_ALL): the live elements, with each sorted
 *      set member's score (zsetScore);
 *   3. BY with '*': one read per element of the key the pattern names
 *      (coordRead for a string, collRead COLL_READ_FIELDS of one field for
 *      "->"), then the sort;
 *   4. GET: one read per GET pattern per element of the LIMIT window (a GET
 *      pattern equal to the BY pattern reuses BY's values);
 *   5. the reply.
 * Redis Cluster refuses BY and GET patterns (other keys may live on other
 * shards). In ringkv every node can read every key through the coordinator,
 * so the patterns work; unlike Redis, the work is bounded: a command that
 * would read more than SORT_MAX_READS pattern keys is refused before it
 * reads any, and at most SORT_INFLIGHT of its reads are in flight at once,
 * so that one SORT cannot flood the cluster. The pattern keys are read one
 * by one, not as one snapshot (as reads of several keys always are here).
 *
 * API: sortCommandTable (t_sort.h), the rows commands.c gathers.
 *
 * Invariants: each pattern read holds one pending count on the request
 * until its callback ran; the reply is sent once, after the last read. */
#include "t_sort.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coll.h"
#include "coord.h"
#include "server.h"
#include "t_string.h"
#include "types/hash.h"
#include "types/zset.h"

/* Pattern reads one command may make, BY and GET together. */
#define SORT_MAX_READS 100000
/* Pattern reads in flight at once for one command. */
#define SORT_INFLIGHT 64

/* A pattern's value for one element. */
typedef struct sortVal {
    char *p;     /* owned, NUL-terminated; NULL when not found */
    size_t len;
} sortVal;

/* One element of the key. */
typedef struct sortItem {
    char *name;   /* element bytes, owned, NUL-terminated */
    size_t len;
    double zscore; /* a sorted set member's score (the key's own order) */
    double score;  /* the numeric sort key */
    sortVal by;    /* the BY pattern's value */
} sortItem;

/* One read a pattern asks for. */
typedef struct sortLookup {
    char *key;     /* the key named, owned (collRead borrows it until its callback) */
    size_t klen;
    char *field;   /* hash field ("->"), points into the pattern argument; NULL for a string */
    size_t flen;
    sortVal *dst;  /* where the value goes */
} sortLookup;

typedef struct sortState {
    /* options */
    int desc, alpha;
    int dontsort;        /* BY without '*': the key's own order */
    int by;              /* argv index of the BY pattern, 0 = none */
    int store;           /* argv index of STORE's destination, 0 = none */
    long limit_start, limit_count;
    int *gets;           /* argv indexes of the GET patterns */
    int ngets;
    /* the key */
    int zset;            /* the key is a sorted set */
    sortItem *items;
    long n;
    long start, end;     /* the window, as Redis computes it (end < start: empty) */
    sortVal *getvals;    /* [w * ngets + g] for the w-th element of the window */
    /* pattern reads of the current phase */
    sortLookup *lk;
    long nlk, next, done, inflight;
    int pumping;         /* sortPump is issuing: callbacks only count */
    void (*then)(request *r, struct sortState *s); /* after the phase's last read */
    char err[320];       /* first read error */
} sortState;

static void sortLookupsFree(sortState *s) {
    for (long i = 0; i < s->nlk; i++) zfree(s->lk[i].key);
    zfree(s->lk);
    s->lk = NULL;
    s->nlk = s->next = s->done = s->inflight = 0;
}

static void sortStateFree(void *p) {
    sortState *s = p;
    for (long i = 0; i < s->n; i++) {
        zfree(s->items[i].name);
        zfree(s->items[i].by.p);
    }
    zfree(s->items);
    long w = s->end >= s->start ? s->end - s->start + 1 : 0;
    if (s->getvals)
        for (long i = 0; i < w * s->ngets; i++) zfree(s->getvals[i].p);
    zfree(s->getvals);
    zfree(s->gets);
    sortLookupsFree(s);
    zfree(s);
}

/* -------------------------------------------------------------- patterns */

/* "#": the element itself (GET #). */
static int sortPatternIsSelf(request *r, int pat) { return r->argvlen[pat] == 1 && r->argv[pat][0] == '#'; }

/* A pattern without '*' names no key. */
static int sortPatternReads(request *r, int pat) {
    return memchr(r->argv[pat], '*', r->argvlen[pat]) != NULL;
}

/* The key (and hash field) pattern pat names for element sub, as Redis's
 * lookupKeyByPattern: the first '*' is replaced by sub; "->" after it, with
 * something following, splits off a hash field. */
static void sortPatternKey(request *r, int pat, const char *sub, size_t slen, sortLookup *lk) {
    const char *p = r->argv[pat];
    size_t plen = r->argvlen[pat];
    const char *star = memchr(p, '*', plen);
    const char *end = p + plen;
    const char *arrow = memmem(star + 1, (size_t)(end - star - 1), "->", 2);
    lk->field = NULL;
    lk->flen = 0;
    if (arrow && arrow + 2 < end) {
        lk->field = (char *)arrow + 2;
        lk->flen = (size_t)(end - arrow - 2);
        end = arrow;
    }
    size_t pre = (size_t)(star - p), post = (size_t)(end - star - 1);
    lk->klen = pre + slen + post;
    lk->key = zmalloc(lk->klen + 1);
    memcpy(lk->key, p, pre);
    memcpy(lk->key + pre, sub, slen);
    memcpy(lk->key + pre + slen, star + 1, post);
    lk->key[lk->klen] = '\0';
}

/* -------------------------------------------------------- pattern reads */

static void sortPump(request *r, sortState *s);

static void sortValSet(sortVal *d, const char *p, size_t len) {
    d->p = zmalloc(len + 1);
    memcpy(d->p, p, len);
    d->p[len] = '\0';
    d->len = len;
}

static void sortLookupDone(request *r, sortState *s, const char *err) {
    if (err && !s->err[0]) snprintf(s->err, sizeof(s->err), "%s", err);
    s->inflight--;
    s->done++;
    sortPump(r, s);
}

/* coordRead's callback for a string pattern: its live value, if any (a key
 * of another type reads as absent, as in Redis). */
static void sortStringRead(request *r, const coordResult *res, void *pd) {
    sortState *s = r->state;
    sortLookup *lk = &s->lk[(intptr_t)pd];
    if (res->ok) {
        const version *v = liveVersion(res);
        if (v) sortValSet(lk->dst, v->val, v->vlen);
    }
    sortLookupDone(r, s, res->ok ? NULL : res->err);
}

/* collRead's callback for "key->field": the field of a hash. */
static void sortFieldRead(request *r, const collView *v, const char *err, void *pd) {
    sortState *s = r->state;
    sortLookup *lk = &s->lk[(intptr_t)pd];
    if (v && collTypeOf(v) == KT_HASH) {
        collElem *e = collViewFind(v, lk->field, lk->flen);
        if (e && collElemLive(v, e)) {
            buf out;
            bufInit(&out);
            if (hashFieldRead(&e->f, &v->kr, &out) != NUM_ABSENT)
                sortValSet(lk->dst, out.ptr ? out.ptr : "", out.len);
            bufFree(&out);
        }
    }
    sortLookupDone(r, s, v ? NULL : err);
}

/* Issues the phase's reads, SORT_INFLIGHT at most at once, and runs
 * s->then after the last one answered. Reentrant: a read that answers
 * inside the issuing loop only counts. */
static void sortPump(request *r, sortState *s) {
    if (s->pumping) return;
    s->pumping = 1;
    while (s->next < s->nlk && s->inflight < SORT_INFLIGHT) {
        long i = s->next++;
        sortLookup *lk = &s->lk[i];
        s->inflight++;
        if (lk->field)
            collRead(r, r->db, lk->key, lk->klen, COLL_READ_FIELDS, &lk->field, &lk->flen, 1,
                     sortFieldRead, (void *)(intptr_t)i);
        else
            coordRead(r, r->db, lk->key, lk->klen, sortStringRead, (void *)(intptr_t)i);
    }
    s->pumping = 0;
    if (s->done < s->nlk) return;
    void (*then)(request *, sortState *) = s->then;
    s->then = NULL;
    sortLookupsFree(s);
    if (s->err[0]) addReplyError(r, s->err);
    else if (then) then(r, s);
}

/* Starts a phase of n reads (added with sortLookupAdd before sortPump). */
static void sortLookupsBegin(sortState *s, long n, void (*then)(request *, sortState *)) {
    s->lk = zcalloc(sizeof(sortLookup) * (size_t)(n + 1));
    s->nlk = 0;
    s->then = then;
}

static void sortLookupAdd(request *r, sortState *s, int pat, const sortItem *it, sortVal *dst) {
    sortLookup *lk = &s->lk[s->nlk++];
    sortPatternKey(r, pat, it->name, it->len, lk);
    lk->dst = dst;
}

/* --------------------------------------------------------------- sorting */

static int sortBytesCmp(const sortItem *x, const sortItem *y) {
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    if (c) return c;
    return x->len < y->len ? -1 : (x->len > y->len);
}

/* qsort_r's comparator: Redis's sortCompare, ties broken by the element's
 * bytes, DESC reversing the whole order. */
static int sortCompare(const void *a, const void *b, void *arg) {
    const sortState *s = arg;
    const sortItem *x = a, *y = b;
    int cmp = 0;
    if (!s->alpha) {
        cmp = x->score > y->score ? 1 : x->score < y->score ? -1 : 0;
    } else if (s->by) {
        if (!x->by.p || !y->by.p) cmp = (x->by.p != NULL) - (y->by.p != NULL);
        else cmp = strcoll(x->by.p, y->by.p);
    } else {
        cmp = strcoll(x->name, y->name);
    }
    if (!cmp) cmp = sortBytesCmp(x, y);
    return s->desc ? -cmp : cmp;
}

/* A sorted set's own order: by score, then by member bytes. */
static int sortZsetCompare(const void *a, const void *b) {
    const sortItem *x = a, *y = b;
    if (x->zscore != y->zscore) return x->zscore < y->zscore ? -1 : 1;
    return sortBytesCmp(x, y);
}

/* Redis's conversion: strtod of the whole text (up to a NUL byte). */
static int sortParseScore(const char *p, double *d) {
    char *e;
    errno = 0;
    *d = strtod(p, &e);
    return (e[0] != '\0' || errno == ERANGE || isnan(*d)) ? C_ERR : C_OK;
}

/* ---------------------------------------------------------------- phases */

static long sortWindow(const sortState *s) { return s->end >= s->start ? s->end - s->start + 1 : 0; }

static void sortReply(request *r, sortState *s) {
    long w = sortWindow(s);
    addReplyArrayLen(r, s->ngets ? (long long)s->ngets * w : w);
    for (long k = 0; k < w; k++) {
        const sortItem *it = &s->items[s->start + k];
        if (!s->ngets) addReplyBulk(r, it->name, it->len);
        for (int g = 0; g < s->ngets; g++) {
            int pat = s->gets[g];
            const sortVal *val = &s->getvals[k * s->ngets + g];
            if (sortPatternIsSelf(r, pat)) addReplyBulk(r, it->name, it->len);
            else if (val->p) addReplyBulk(r, val->p, val->len);
            else addReplyNull(r);
        }
    }
}

/* The GET reads for the window, then the reply. A GET pattern equal to the
 * BY pattern takes BY's value (already read). */
static void sortGets(request *r, sortState *s) {
    long w = sortWindow(s);
    if (!s->ngets || !w) {
        sortReply(r, s);
        return;
    }
    s->getvals = zcalloc(sizeof(sortVal) * (size_t)(w * s->ngets + 1));
    sortLookupsBegin(s, w * s->ngets, sortReply);
    for (long k = 0; k < w; k++) {
        sortItem *it = &s->items[s->start + k];
        for (int g = 0; g < s->ngets; g++) {
            int pat = s->gets[g];
            sortVal *dst = &s->getvals[k * s->ngets + g];
            if (sortPatternIsSelf(r, pat) || !sortPatternReads(r, pat)) continue;
            if (s->by && !s->dontsort && r->argvlen[pat] == r->argvlen[s->by] &&
                !memcmp(r->argv[pat], r->argv[s->by], r->argvlen[pat])) {
                if (it->by.p) sortValSet(dst, it->by.p, it->by.len);
                continue;
            }
            sortLookupAdd(r, s, pat, it, dst);
        }
    }
    sortPump(r, s);
}

/* Every sort key is known (the elements, or BY's values): sort, then GET. */
static void sortSort(request *r, sortState *s) {
    if (!s->dontsort) {
        int bad = 0;
        for (long i = 0; i < s->n; i++) {
            sortItem *it = &s->items[i];
            if (s->alpha) continue;
            const char *key = s->by ? it->by.p : it->name;
            if (!key) continue; /* a missing BY key: 0 */
            if (sortParseScore(key, &it->score) != C_OK) bad = 1;
        }
        if (bad) {
            addReplyError(r, "One or more scores can't be converted into double");
            return;
        }
        qsort_r(s->items, (size_t)s->n, sizeof(sortItem), sortCompare, s);
    }
    sortGets(r, s);
}

/* collRead's callback for the key: its live elements, the window, then the
 * BY reads (if the order needs them). */
static void sortLoaded(request *r, const collView *v, const char *err, void *pd) {
    sortState *s = pd;
    if (!v) {
        addReplyError(r, err);
        return;
    }
    int type = collTypeOf(v);
    if (type != -1 && type != KT_SET && type != KT_ZSET) {
        addReplyError(r, ERR_WRONGTYPE);
        return;
    }
    s->zset = type == KT_ZSET;
    s->items = zcalloc(sizeof(sortItem) * (size_t)(v->nel + 1));
    if (type != -1) {
        for (int i = 0; i < v->nel; i++) {
            const collElem *e = &v->el[i];
            if (!collElemLive(v, e)) continue;
            sortItem *it = &s->items[s->n++];
            it->name = zmalloc(e->len + 1);
            memcpy(it->name, e->name, e->len);
            it->name[e->len] = '\0';
            it->len = e->len;
            if (s->zset && !zsetScore(&e->f, &v->kr, &it->zscore)) it->zscore = 0;
        }
    }
    /* the window, with Redis's clamping */
    long n = s->n;
    long start = s->limit_start < 0 ? 0 : s->limit_start > n ? n : s->limit_start;
    long count = s->limit_count < -1 ? -1 : s->limit_count > n ? n : s->limit_count;
    long end = count < 0 ? n - 1 : start + count - 1;
    if (start >= n) {
        start = n - 1;
        end = n - 2;
    }
    if (end >= n) end = n - 1;
    s->start = start;
    s->end = end;
    if (s->dontsort) {
        /* the key's own order: a sorted set's by score (DESC from the
         * highest); a set's, member order (Redis: hash order, no DESC) */
        if (s->zset) {
            qsort(s->items, (size_t)n, sizeof(sortItem), sortZsetCompare);
            if (s->desc)
                for (long i = 0, j = n - 1; i < j; i++, j--) {
                    sortItem t = s->items[i];
                    s->items[i] = s->items[j];
                    s->items[j] = t;
                }
        }
    }
    /* the bound, before anything is read */
    long long reads = (s->by && !s->dontsort) ? n : 0;
    int getreads = 0;
    for (int g = 0; g < s->ngets; g++)
        if (!sortPatternIsSelf(r, s->gets[g]) && sortPatternReads(r, s->gets[g])) getreads++;
    reads += (long long)getreads * sortWindow(s);
    if (reads > SORT_MAX_READS) {
        addReplyErrorFormat(r,
                            "SORT would read %lld keys through its BY/GET patterns, more than "
                            "ringkv's limit of %d per command (use LIMIT, or fewer GET patterns)",
                            reads, SORT_MAX_READS);
        return;
    }
    if (!s->by || s->dontsort || !n) {
        sortSort(r, s);
        return;
    }
    sortLookupsBegin(s, n, sortSort);
    for (long i = 0; i < n; i++) sortLookupAdd(r, s, s->by, &s->items[i], &s->items[i].by);
    sortPump(r, s);
}

/* ------------------------------------------------------------- arguments */

/* Redis's option loop (sortCommandGeneric): later options override earlier
 * ones, LIMIT's numbers are longs, STORE only for SORT. */
static int sortParse(request *r, sortState *s, int ro) {
    s->limit_count = -1;
    s->gets = zmalloc(sizeof(int) * (size_t)(r->argc + 1));
    for (int j = 2; j < r->argc; j++) {
        int left = r->argc - j - 1;
        if (argIs(r, j, "asc")) {
            s->desc = 0;
        } else if (argIs(r, j, "desc")) {
            s->desc = 1;
        } else if (argIs(r, j, "alpha")) {
            s->alpha = 1;
        } else if (argIs(r, j, "limit") && left >= 2) {
            long long a, b;
            if (getLongLongFromArg(r, j + 1, &a, NULL) != C_OK ||
                getLongLongFromArg(r, j + 2, &b, NULL) != C_OK)
                return C_ERR;
            s->limit_start = (long)a;
            s->limit_count = (long)b;
            j += 2;
        } else if (!ro && argIs(r, j, "store") && left >= 1) {
            s->store = ++j;
        } else if (argIs(r, j, "by") && left >= 1) {
            s->by = ++j;
            s->dontsort = !sortPatternReads(r, s->by);
        } else if (argIs(r, j, "get") && left >= 1) {
            s->gets[s->ngets++] = ++j;
        } else {
            addReplyError(r, ERR_SYNTAX);
            return C_ERR;
        }
    }
    return C_OK;
}

static void sortGeneric(request *r, int ro) {
    sortState *s = requestState(r, sizeof(*s));
    r->state_free = sortStateFree;
    if (sortParse(r, s, ro) != C_OK) return;
    if (s->store) {
        addReplyError(r, "SORT ... STORE needs lists, which ringkv does not have yet "
                         "(SORT without STORE returns the same elements)");
        return;
    }
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0, sortLoaded, s);
}

static void sortCommand(request *r) { sortGeneric(r, 0); }
static void sortroCommand(request *r) { sortGeneric(r, 1); }

/* ---------------------------------------------------------------- table */

/* Arity and key positions as Redis 7.0's COMMAND reports them. SORT is a
 * write in Redis (STORE); here it never writes (STORE is refused until
 * ringkv has lists), so it is a read like SORT_RO and runs where it
 * arrives. */
command sortCommandTable[] = {
    {"sort", sortCommand, -2, CMD_READONLY, 1, 1, 1, "generic", "1.0.0", "Sort the elements in a list, set or sorted set",
     "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]", 0, 0, 0, 0},
    {"sort_ro", sortroCommand, -2, CMD_READONLY, 1, 1, 1, "generic", "7.0.0", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
     "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]", 0, 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};
