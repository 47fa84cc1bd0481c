/* zrange.c -- sorted-set scores, ranges and member order as Redis has them.
 * See zrange.h. */
#include "zrange.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* ------------------------------------------------------------- parsing */

int zrangeParseDouble(const char *s, size_t len, double *d) {
    char *eptr;
    errno = 0;
    double v = strtod(s, &eptr);
    if (len == 0 || isspace((unsigned char)s[0]) || (size_t)(eptr - s) != len ||
        (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return 0;
    *d = v;
    return 1;
}

/* Redis parses a range bound with a bare strtod up to the terminator: an
 * empty bound reads as 0 and overflow as +-inf; only NaN and trailing bytes
 * are refused. */
static int parseScoreBound(const char *s, double *v, int *ex) {
    char *eptr;
    *ex = 0;
    if (s[0] == '(') {
        *ex = 1;
        s++;
    }
    *v = strtod(s, &eptr);
    return eptr[0] == '\0' && !isnan(*v) ? C_OK : C_ERR;
}

int zrangeParseScore(const char *min, const char *max, zrangeScore *r) {
    if (parseScoreBound(min, &r->min, &r->minex) != C_OK ||
        parseScoreBound(max, &r->max, &r->maxex) != C_OK)
        return C_ERR;
    return C_OK;
}

static int parseLexBound(const char *s, size_t len, const char **p, size_t *plen, int *kind,
                         int *ex) {
    if (len == 0) return C_ERR;
    *p = NULL;
    *plen = 0;
    switch (s[0]) {
    case '+':
    case '-':
        if (len != 1) return C_ERR;
        *kind = s[0] == '-' ? ZLEX_MIN : ZLEX_MAX;
        *ex = 1;
        return C_OK;
    case '(':
    case '[':
        *kind = ZLEX_VALUE;
        *ex = s[0] == '(';
        *p = s + 1;
        *plen = len - 1;
        return C_OK;
    default:
        return C_ERR;
    }
}

int zrangeParseLex(const char *min, size_t minlen, const char *max, size_t maxlen, zrangeLex *r) {
    if (parseLexBound(min, minlen, &r->min, &r->minlen, &r->minkind, &r->minex) != C_OK ||
        parseLexBound(max, maxlen, &r->max, &r->maxlen, &r->maxkind, &r->maxex) != C_OK)
        return C_ERR;
    return C_OK;
}

/* ------------------------------------------------------------ compares */

static int bytesCmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t m = alen < blen ? alen : blen;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c < 0 ? -1 : 1;
    return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

/* Redis's sdscmplex: "-" is below and "+" above every string, and each
 * equals itself. */
static int lexCmp(int ka, const char *a, size_t alen, int kb, const char *b, size_t blen) {
    if (ka == kb && ka != ZLEX_VALUE) return 0;
    if (ka == ZLEX_MIN || kb == ZLEX_MAX) return -1;
    if (ka == ZLEX_MAX || kb == ZLEX_MIN) return 1;
    return bytesCmp(a, alen, b, blen);
}

int zrangeScoreGteMin(double v, const zrangeScore *r) { return r->minex ? v > r->min : v >= r->min; }
int zrangeScoreLteMax(double v, const zrangeScore *r) { return r->maxex ? v < r->max : v <= r->max; }

int zrangeLexGteMin(const char *s, size_t len, const zrangeLex *r) {
    int c = lexCmp(ZLEX_VALUE, s, len, r->minkind, r->min, r->minlen);
    return r->minex ? c > 0 : c >= 0;
}

int zrangeLexLteMax(const char *s, size_t len, const zrangeLex *r) {
    int c = lexCmp(ZLEX_VALUE, s, len, r->maxkind, r->max, r->maxlen);
    return r->maxex ? c < 0 : c <= 0;
}

int zitemCmp(const zitem *a, const zitem *b) {
    if (a->score < b->score) return -1;
    if (a->score > b->score) return 1;
    return bytesCmp(a->ele, a->len, b->ele, b->len);
}

static int zitemQsortCmp(const void *a, const void *b) { return zitemCmp(a, b); }

void zitemSort(zitem *items, long n) {
    if (n > 1) qsort(items, (size_t)n, sizeof(zitem), zitemQsortCmp);
}

/* ---------------------------------------------------------- formatting */

int zrangeFormatScore(char *buf, size_t len, double d) {
    if (isnan(d)) return snprintf(buf, len, "nan");
    if (isinf(d)) return snprintf(buf, len, d > 0 ? "inf" : "-inf");
    if (d == 0) return snprintf(buf, len, 1.0 / d < 0 ? "-0" : "0");
    if (d >= (double)(-LLONG_MAX / 2) && d <= (double)(LLONG_MAX / 2)) {
        long long ll = (long long)d;
        if ((double)ll == d) return snprintf(buf, len, "%lld", ll);
    }
    return snprintf(buf, len, "%.17g", d);
}

/* --------------------------------------------------------------- spans */

static void spanNone(long *first, long *count, int *step) {
    *first = 0;
    *count = 0;
    *step = 1;
}

void zrangeRankSpan(long n, long long start, long long end, int reverse, long *first,
                    long *count, int *step) {
    spanNone(first, count, step);
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (start < 0) start = 0;
    if (start > end || start >= n) return;
    if (end >= n) end = n - 1;
    *count = (long)(end - start + 1);
    *first = reverse ? (long)(n - 1 - start) : (long)start;
    *step = reverse ? -1 : 1;
}

/* Walks from the member at i0 (the first in range in the walk's direction):
 * skips offset members, then takes up to limit while inside (Redis checks
 * only the far bound on the way, the near one held at i0). */
static void walk(long n, long i0, int step, long long offset, long long limit, long *first,
                 long *count, int *stepout, int (*inside)(long i, const void *ctx),
                 const void *ctx) {
    if (offset < 0 || offset >= n) return; /* Redis walks off the end */
    long i = i0 + step * (long)offset;
    if (i < 0 || i >= n) return;
    long c = 0;
    while (i + step * c >= 0 && i + step * c < n && (limit < 0 || c < limit) &&
           inside(i + step * c, ctx))
        c++;
    *first = i;
    *count = c;
    *stepout = step;
}

typedef struct spanCtx {
    const zitem *items;
    const zrangeScore *sr;
    const zrangeLex *lr;
} spanCtx;

static int scoreLteMax(long i, const void *p) {
    const spanCtx *c = p;
    return zrangeScoreLteMax(c->items[i].score, c->sr);
}
static int scoreGteMin(long i, const void *p) {
    const spanCtx *c = p;
    return zrangeScoreGteMin(c->items[i].score, c->sr);
}
static int lexLteMax(long i, const void *p) {
    const spanCtx *c = p;
    return zrangeLexLteMax(c->items[i].ele, c->items[i].len, c->lr);
}
static int lexGteMin(long i, const void *p) {
    const spanCtx *c = p;
    return zrangeLexGteMin(c->items[i].ele, c->items[i].len, c->lr);
}

void zrangeScoreSpan(const zitem *items, long n, const zrangeScore *r, int reverse,
                     long long offset, long long limit, long *first, long *count, int *step) {
    spanNone(first, count, step);
    if (offset > 0 && offset >= n) return;
    if (r->min > r->max || (r->min == r->max && (r->minex || r->maxex))) return;
    spanCtx c = {items, r, NULL};
    /* the members are sorted by score: the bounds are found by bisection */
    long lo = 0, hi = n;
    if (!reverse) {
        while (lo < hi) { /* first member >= min */
            long mid = lo + (hi - lo) / 2;
            if (zrangeScoreGteMin(items[mid].score, r)) hi = mid;
            else lo = mid + 1;
        }
        if (lo == n || !zrangeScoreLteMax(items[lo].score, r)) return;
        walk(n, lo, 1, offset, limit, first, count, step, scoreLteMax, &c);
    } else {
        while (lo < hi) { /* first member > max */
            long mid = lo + (hi - lo) / 2;
            if (zrangeScoreLteMax(items[mid].score, r)) lo = mid + 1;
            else hi = mid;
        }
        long i0 = lo - 1;
        if (i0 < 0 || !zrangeScoreGteMin(items[i0].score, r)) return;
        walk(n, i0, -1, offset, limit, first, count, step, scoreGteMin, &c);
    }
}

void zrangeLexSpan(const zitem *items, long n, const zrangeLex *r, int reverse, long long offset,
                   long long limit, long *first, long *count, int *step) {
    spanNone(first, count, step);
    int cmp = lexCmp(r->minkind, r->min, r->minlen, r->maxkind, r->max, r->maxlen);
    if (cmp > 0 || (cmp == 0 && (r->minex || r->maxex))) return;
    if (n == 0 || !zrangeLexGteMin(items[n - 1].ele, items[n - 1].len, r) ||
        !zrangeLexLteMax(items[0].ele, items[0].len, r))
        return;
    spanCtx c = {items, NULL, r};
    /* members of different scores are not in lex order: walk as Redis's
     * listpack does, from the end the range starts at */
    if (!reverse) {
        long i = 0;
        while (i < n && !zrangeLexGteMin(items[i].ele, items[i].len, r)) i++;
        if (i == n || !zrangeLexLteMax(items[i].ele, items[i].len, r)) return;
        walk(n, i, 1, offset, limit, first, count, step, lexLteMax, &c);
    } else {
        long i = n - 1;
        while (i >= 0 && !zrangeLexLteMax(items[i].ele, items[i].len, r)) i--;
        if (i < 0 || !zrangeLexGteMin(items[i].ele, items[i].len, r)) return;
        walk(n, i, -1, offset, limit, first, count, step, lexGteMin, &c);
    }
}

/* ------------------------------------------------------ ZRANGE's arguments */

const char *zrangeParseArgs(int argc, char **argv, const size_t *lens, int src, int store,
                            int type, int dir, zrangeArgs *a) {
    int minidx = src + 1, maxidx = src + 2;
    memset(a, 0, sizeof(*a));
    a->src = src;
    a->limit = -1;
    for (int j = src + 3; j < argc; j++) {
        int left = argc - j - 1;
        if (!store && !strcasecmp(argv[j], "withscores")) {
            a->withscores = 1;
        } else if (!strcasecmp(argv[j], "limit") && left >= 2) {
            if (!string2ll(argv[j + 1], lens[j + 1], &a->offset) ||
                !string2ll(argv[j + 2], lens[j + 2], &a->limit))
                return "value is not an integer or out of range";
            j += 2;
        } else if (dir == ZDIR_AUTO && !strcasecmp(argv[j], "rev")) {
            dir = ZDIR_REV;
        } else if (type == ZRT_AUTO && !strcasecmp(argv[j], "bylex")) {
            type = ZRT_LEX;
        } else if (type == ZRT_AUTO && !strcasecmp(argv[j], "byscore")) {
            type = ZRT_SCORE;
        } else {
            return "syntax error";
        }
    }
    if (dir == ZDIR_AUTO) dir = ZDIR_FWD;
    if (type == ZRT_AUTO) type = ZRT_RANK;
    if (a->limit != -1 && type == ZRT_RANK)
        return "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
    if (a->withscores && type == ZRT_LEX)
        return "syntax error, WITHSCORES not supported in combination with BYLEX";
    a->type = type;
    a->reverse = dir == ZDIR_REV;
    if (a->reverse && type != ZRT_RANK) { /* the range is given as max min */
        int t = minidx;
        minidx = maxidx;
        maxidx = t;
    }
    if (type == ZRT_RANK) {
        if (!string2ll(argv[minidx], lens[minidx], &a->start) ||
            !string2ll(argv[maxidx], lens[maxidx], &a->end))
            return "value is not an integer or out of range";
    } else if (type == ZRT_SCORE) {
        if (zrangeParseScore(argv[minidx], argv[maxidx], &a->score) != C_OK)
            return "min or max is not a float";
    } else if (zrangeParseLex(argv[minidx], lens[minidx], argv[maxidx], lens[maxidx], &a->lex) !=
               C_OK) {
        return "min or max not valid string range item";
    }
    return NULL;
}

void zrangeSpan(const zrangeArgs *a, const zitem *items, long n, long *first, long *count,
                int *step) {
    if (a->type == ZRT_RANK)
        zrangeRankSpan(n, a->start, a->end, a->reverse, first, count, step);
    else if (a->type == ZRT_SCORE)
        zrangeScoreSpan(items, n, &a->score, a->reverse, a->offset, a->limit, first, count, step);
    else
        zrangeLexSpan(items, n, &a->lex, a->reverse, a->offset, a->limit, first, count, step);
}

/* ---------------------------------------------------------- set operations */

const char *zrangeParseSetop(int argc, char **argv, const size_t *lens, int j, int op, int store,
                             int cardonly, int nkeys, double *weights, int *agg, int *withscores,
                             long long *cardlimit) {
    int remaining = argc - j;
    while (remaining) {
        if (op != ZOP_DIFF && !cardonly && remaining >= nkeys + 1 &&
            !strcasecmp(argv[j], "weights")) {
            j++;
            remaining--;
            for (int i = 0; i < nkeys; i++, j++, remaining--)
                if (!zrangeParseDouble(argv[j], lens[j], &weights[i]))
                    return "weight value is not a float";
        } else if (op != ZOP_DIFF && !cardonly && remaining >= 2 &&
                   !strcasecmp(argv[j], "aggregate")) {
            j++;
            remaining--;
            if (!strcasecmp(argv[j], "sum")) *agg = ZAGG_SUM;
            else if (!strcasecmp(argv[j], "min")) *agg = ZAGG_MIN;
            else if (!strcasecmp(argv[j], "max")) *agg = ZAGG_MAX;
            else return "syntax error";
            j++;
            remaining--;
        } else if (remaining >= 1 && !store && !cardonly && !strcasecmp(argv[j], "withscores")) {
            j++;
            remaining--;
            *withscores = 1;
        } else if (cardonly && remaining >= 2 && !strcasecmp(argv[j], "limit")) {
            j++;
            remaining--;
            long long l;
            if (!string2ll(argv[j], lens[j], &l) || l < 0) return "LIMIT can't be negative";
            *cardlimit = l;
            j++;
            remaining--;
        } else {
            return "syntax error";
        }
    }
    return NULL;
}

/* Redis's zunionInterAggregate: a SUM of inf and -inf is 0. */
static void aggregate(double *target, double val, int agg) {
    if (agg == ZAGG_SUM) {
        *target = *target + val;
        if (isnan(*target)) *target = 0.0;
    } else if (agg == ZAGG_MIN) {
        *target = val < *target ? val : *target;
    } else {
        *target = val > *target ? val : *target;
    }
}

/* The member's score in l (n members sorted by name). */
static int findByName(const zitem *l, long n, const char *ele, size_t len, double *score) {
    long lo = 0, hi = n;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        int c = bytesCmp(l[mid].ele, l[mid].len, ele, len);
        if (c == 0) {
            *score = l[mid].score;
            return 1;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* A union's entries while they are grouped by member. */
typedef struct uentry {
    const zitem *x; /* borrowed from a source */
    double score;   /* weighted */
    long seq;       /* position in source order: a tie keeps it */
} uentry;

static int uentryCmp(const void *pa, const void *pb) {
    const uentry *a = pa, *b = pb;
    int c = bytesCmp(a->x->ele, a->x->len, b->x->ele, b->x->len);
    if (c) return c;
    return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

typedef struct zout {
    zitem *it;
    long n, cap;
} zout;

static void push(zout *o, const char *ele, size_t len, double score) {
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->it = zrealloc(o->it, sizeof(zitem) * (size_t)o->cap);
    }
    o->it[o->n++] = (zitem){ele, len, score};
}

long zrangeCombine(int op, int agg, const zitem *const *src, const long *n,
                   const double *weights, int nsrc, long long limit, zitem **out) {
    /* Redis takes the sources smallest first (a stable sort), except a
     * DIFF's, whose first is the one taken from */
    int *ord = zmalloc(sizeof(int) * (size_t)(nsrc ? nsrc : 1));
    for (int i = 0; i < nsrc; i++) ord[i] = i;
    if (op != ZOP_DIFF) {
        for (int i = 1; i < nsrc; i++) {
            int k = ord[i], j = i - 1;
            while (j >= 0 && n[ord[j]] > n[k]) {
                ord[j + 1] = ord[j];
                j--;
            }
            ord[j + 1] = k;
        }
    }
    zout o = {NULL, 0, 0};
    if (op == ZOP_INTER && nsrc > 0) {
        int a = ord[0];
        for (long i = 0; i < n[a]; i++) {
            const zitem *x = &src[a][i];
            double score = weights[a] * x->score, value;
            if (isnan(score)) score = 0;
            int j;
            for (j = 1; j < nsrc; j++) {
                if (!findByName(src[ord[j]], n[ord[j]], x->ele, x->len, &value)) break;
                value *= weights[ord[j]];
                aggregate(&score, value, agg);
            }
            if (j < nsrc) continue;
            push(&o, x->ele, x->len, score);
            if (limit > 0 && o.n >= limit) break;
        }
    } else if (op == ZOP_UNION) {
        long total = 0, k = 0;
        for (int i = 0; i < nsrc; i++) total += n[i];
        uentry *u = zmalloc(sizeof(uentry) * (size_t)(total ? total : 1));
        for (int oi = 0; oi < nsrc; oi++) {
            int i = ord[oi];
            for (long e = 0; e < n[i]; e++, k++) {
                double score = weights[i] * src[i][e].score;
                if (isnan(score)) score = 0;
                u[k] = (uentry){&src[i][e], score, k};
            }
        }
        qsort(u, (size_t)total, sizeof(uentry), uentryCmp);
        for (long i = 0; i < total;) {
            double score = u[i].score;
            long j = i + 1;
            while (j < total && !bytesCmp(u[j].x->ele, u[j].x->len, u[i].x->ele, u[i].x->len))
                aggregate(&score, u[j++].score, agg);
            push(&o, u[i].x->ele, u[i].x->len, score);
            i = j;
        }
        zfree(u);
    } else if (op == ZOP_DIFF && nsrc > 0) {
        for (long i = 0; i < n[0]; i++) {
            const zitem *x = &src[0][i];
            double value;
            int j = 1;
            while (j < nsrc && !findByName(src[j], n[j], x->ele, x->len, &value)) j++;
            if (j == nsrc) push(&o, x->ele, x->len, x->score);
        }
    }
    zfree(ord);
    zitemSort(o.it, o.n);
    *out = o.it ? o.it : zmalloc(sizeof(zitem));
    return o.n;
}
