/* test_zrange.c -- the pure part of the sorted-set commands (zrange.c).
 *
 *   - scores parse as Redis's string2d (inf, hex, exponents; no NaN, no
 *     space, no overflow) and range bounds as zslParseRange (a bare strtod:
 *     "" is 0, "(" is an exclusive 0, overflow is inf);
 *   - lex bounds as zslParseLexRange ("[", "(", "-", "+" alone), and their
 *     order ("-" below, "+" above everything, each equal to itself);
 *   - scores print as Redis 7.0's d2string (integers, -0, inf, %.17g);
 *   - the runs BYSCORE, BYLEX and by rank select, with every LIMIT, equal
 *     a straight transcription of Redis's listpack walk, on thousands of
 *     random sorted sets (members of equal and of different scores);
 *   - union, intersection and difference equal a model computed member by
 *     member (weights, AGGREGATE, inf + -inf = 0, 0 * inf = 0, LIMIT);
 *   - ZRANGE's argument rules and error texts.
 *
 * zrange.o is not in the Makefile's UNIT_OBJ yet: the source is compiled
 * in here until it is. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/zrange.c"

/* ------------------------------------------------------------- parsing */

static int pd(const char *s, double *d) { return zrangeParseDouble(s, strlen(s), d); }

Test(zrange, parse_double_like_string2d) {
    double d;
    cr_assert(pd("1.5", &d) && d == 1.5);
    cr_assert(pd("-3", &d) && d == -3);
    cr_assert(pd("inf", &d) && isinf(d) && d > 0);
    cr_assert(pd("+inf", &d) && isinf(d) && d > 0);
    cr_assert(pd("-inf", &d) && isinf(d) && d < 0);
    cr_assert(pd("1e3", &d) && d == 1000);
    cr_assert(pd("0x10", &d) && d == 16);
    cr_assert(pd("1e-310", &d) && d > 0); /* subnormal, not zero: accepted */
    cr_assert(!pd("", &d));
    cr_assert(!pd(" 1", &d));
    cr_assert(!pd("1 ", &d));
    cr_assert(!pd("nan", &d));
    cr_assert(!pd("1e400", &d));
    cr_assert(!pd("1e-400", &d));
    cr_assert(!pd("abc", &d));
    cr_assert(!zrangeParseDouble("1\0002", 3, &d)); /* bytes after a NUL */
}

Test(zrange, parse_score_range_like_zslParseRange) {
    zrangeScore r;
    cr_assert(zrangeParseScore("1", "(2", &r) == C_OK);
    cr_assert(r.min == 1 && !r.minex && r.max == 2 && r.maxex);
    cr_assert(zrangeParseScore("-inf", "+inf", &r) == C_OK && isinf(r.min) && isinf(r.max));
    cr_assert(zrangeParseScore("", "(", &r) == C_OK);
    cr_assert(r.min == 0 && !r.minex && r.max == 0 && r.maxex);
    cr_assert(zrangeParseScore(" 1", "1e999", &r) == C_OK && r.min == 1 && isinf(r.max));
    cr_assert(zrangeParseScore("x", "1", &r) == C_ERR);
    cr_assert(zrangeParseScore("1", "nan", &r) == C_ERR);
    cr_assert(zrangeParseScore("((1", "2", &r) == C_ERR);
    cr_assert(zrangeParseScore("1", "2x", &r) == C_ERR);
}

Test(zrange, parse_lex_range_and_order) {
    zrangeLex r;
    cr_assert(zrangeParseLex("[a", 2, "(c", 2, &r) == C_OK);
    cr_assert(r.minkind == ZLEX_VALUE && !r.minex && r.minlen == 1 && r.maxex);
    cr_assert(zrangeLexGteMin("a", 1, &r) && zrangeLexLteMax("b", 1, &r));
    cr_assert(!zrangeLexLteMax("c", 1, &r) && zrangeLexLteMax("bzz", 3, &r));
    cr_assert(zrangeParseLex("-", 1, "+", 1, &r) == C_OK);
    cr_assert(zrangeLexGteMin("", 0, &r) && zrangeLexLteMax("\xff\xff", 2, &r));
    cr_assert(zrangeParseLex("[", 1, "(", 1, &r) == C_OK); /* empty strings */
    cr_assert(zrangeParseLex("a", 1, "+", 1, &r) == C_ERR);
    cr_assert(zrangeParseLex("--", 2, "+", 1, &r) == C_ERR);
    cr_assert(zrangeParseLex("", 0, "+", 1, &r) == C_ERR);
    cr_assert(zrangeParseLex("-", 1, "++", 2, &r) == C_ERR);
}

Test(zrange, format_like_redis_d2string) {
    char b[64];
    struct {
        double d;
        const char *want;
    } cases[] = {{0.5, "0.5"},
                 {3, "3"},
                 {-0.0, "-0"},
                 {0.0, "0"},
                 {1e20, "1e+20"},
                 {0.1, "0.10000000000000001"},
                 {123456789012345678.0, "123456789012345680"},
                 {-4611686018427387904.0, "-4611686018427387904"},
                 {9.3e18, "9.3e+18"},
                 {INFINITY, "inf"},
                 {-INFINITY, "-inf"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int l = zrangeFormatScore(b, sizeof(b), cases[i].d);
        cr_assert_str_eq(b, cases[i].want, "%g", cases[i].d);
        cr_assert_eq(l, (int)strlen(cases[i].want));
    }
}

/* ---------------------------------------------------------------- spans */

static uint64_t rs = 88172645463325252ULL;
static uint64_t rnd(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* Redis's listpack walk, transcribed: the first member in range from the
 * start (or the end for REV), offset steps without checks, then members
 * while the far bound holds. Returns the indexes taken. */
static long modelWalk(const zitem *it, long n, int reverse, long long offset, long long limit,
                      int (*gte)(const zitem *, const void *), int (*lte)(const zitem *, const void *),
                      const void *r, int isempty, int offcheck, long *out) {
    if (offcheck && offset > 0 && offset >= n) return 0;
    if (isempty) return 0;
    long i;
    if (!reverse) {
        for (i = 0; i < n && !gte(&it[i], r); i++) {}
        if (i == n || !lte(&it[i], r)) return 0;
    } else {
        for (i = n - 1; i >= 0 && !lte(&it[i], r); i--) {}
        if (i < 0 || !gte(&it[i], r)) return 0;
    }
    while (i >= 0 && i < n && offset--) i += reverse ? -1 : 1;
    long k = 0;
    while (i >= 0 && i < n && limit--) {
        if (reverse ? !gte(&it[i], r) : !lte(&it[i], r)) break;
        out[k++] = i;
        i += reverse ? -1 : 1;
    }
    return k;
}

static int sGte(const zitem *x, const void *r) { return zrangeScoreGteMin(x->score, r); }
static int sLte(const zitem *x, const void *r) { return zrangeScoreLteMax(x->score, r); }
static int lGte(const zitem *x, const void *r) { return zrangeLexGteMin(x->ele, x->len, r); }
static int lLte(const zitem *x, const void *r) { return zrangeLexLteMax(x->ele, x->len, r); }

static const char *names[] = {"", "a", "aa", "ab", "b", "ba", "c", "cc", "d", "e"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static long randomSet(zitem *it, int samescore) {
    long n = 0;
    for (size_t i = 0; i < NNAMES; i++)
        if (rnd() % 3) it[n++] = (zitem){names[i], strlen(names[i]), samescore ? 0 : (double)(rnd() % 5)};
    zitemSort(it, n);
    return n;
}

static void checkSpan(long n, long first, long count, int step, const long *want, long nwant,
                      const char *what) {
    cr_assert_eq(count, nwant, "%s: count %ld want %ld (n %ld)", what, count, nwant, n);
    for (long k = 0; k < count; k++)
        cr_assert_eq(first + k * step, want[k], "%s: position %ld", what, k);
}

Test(zrange, score_spans_match_redis_walk) {
    zitem it[NNAMES];
    long want[NNAMES];
    for (int round = 0; round < 5000; round++) {
        long n = randomSet(it, 0);
        zrangeScore r = {(double)(rnd() % 7) - 1, (double)(rnd() % 7) - 1, (int)(rnd() % 2),
                         (int)(rnd() % 2)};
        long long offset = (long long)(rnd() % 6) - 1, limit = (long long)(rnd() % 6) - 1;
        int reverse = (int)(rnd() % 2);
        int empty = r.min > r.max || (r.min == r.max && (r.minex || r.maxex));
        long nw = modelWalk(it, n, reverse, offset, limit, sGte, sLte, &r, empty, 1, want);
        long first, count;
        int step;
        zrangeScoreSpan(it, n, &r, reverse, offset, limit, &first, &count, &step);
        checkSpan(n, first, count, step, want, nw, "score");
    }
}

Test(zrange, lex_spans_match_redis_walk) {
    zitem it[NNAMES];
    long want[NNAMES];
    const char *bounds[] = {"-", "+", "[", "(", "[a", "(a", "[ab", "(b", "[c", "(cc", "[e", "(z"};
    int nb = (int)(sizeof(bounds) / sizeof(bounds[0]));
    for (int round = 0; round < 5000; round++) {
        long n = randomSet(it, (int)(rnd() % 2)); /* equal scores, or not */
        const char *mn = bounds[rnd() % (uint64_t)nb], *mx = bounds[rnd() % (uint64_t)nb];
        zrangeLex r;
        cr_assert(zrangeParseLex(mn, strlen(mn), mx, strlen(mx), &r) == C_OK);
        long long offset = (long long)(rnd() % 6) - 1, limit = (long long)(rnd() % 6) - 1;
        int reverse = (int)(rnd() % 2);
        int cmp = lexCmp(r.minkind, r.min, r.minlen, r.maxkind, r.max, r.maxlen);
        int empty = cmp > 0 || (cmp == 0 && (r.minex || r.maxex)) ||
                    (n > 0 && (!lGte(&it[n - 1], &r) || !lLte(&it[0], &r)));
        long nw = modelWalk(it, n, reverse, offset, limit, lGte, lLte, &r, empty, 0, want);
        long first, count;
        int step;
        zrangeLexSpan(it, n, &r, reverse, offset, limit, &first, &count, &step);
        checkSpan(n, first, count, step, want, nw, "lex");
    }
}

Test(zrange, rank_spans) {
    for (long n = 0; n <= 6; n++)
        for (long long s = -8; s <= 8; s++)
            for (long long e = -8; e <= 8; e++)
                for (int rev = 0; rev < 2; rev++) {
                    long want[8], nw = 0;
                    long long a = s < 0 ? s + n : s, b = e < 0 ? e + n : e;
                    if (a < 0) a = 0;
                    if (b >= n) b = n - 1;
                    for (long long i = a; i <= b; i++) want[nw++] = rev ? n - 1 - i : i;
                    long first, count;
                    int step;
                    zrangeRankSpan(n, s, e, rev, &first, &count, &step);
                    checkSpan(n, first, count, step, want, nw, "rank");
                }
    long first, count;
    int step;
    zrangeRankSpan(5, LLONG_MIN, LLONG_MAX, 0, &first, &count, &step);
    cr_assert(first == 0 && count == 5);
}

/* ------------------------------------------------------- set operations */

static zitem *byName(zitem *it, long n) {
    zitem *c = malloc(sizeof(zitem) * (size_t)(n ? n : 1));
    memcpy(c, it, sizeof(zitem) * (size_t)n);
    for (long i = 1; i < n; i++) /* insertion sort by name */
        for (long j = i; j > 0 && bytesCmp(c[j - 1].ele, c[j - 1].len, c[j].ele, c[j].len) > 0; j--) {
            zitem t = c[j];
            c[j] = c[j - 1];
            c[j - 1] = t;
        }
    return c;
}

static double agg(double a, double b, int how) {
    if (how == ZAGG_SUM) {
        double s = a + b;
        return isnan(s) ? 0 : s;
    }
    if (how == ZAGG_MIN) return b < a ? b : a;
    return b > a ? b : a;
}

Test(zrange, combine_matches_a_member_by_member_model) {
    double scores[] = {1, 2, -1, 0.5, INFINITY, -INFINITY, 0};
    for (int round = 0; round < 3000; round++) {
        int nsrc = 1 + (int)(rnd() % 3);
        zitem raw[3][NNAMES];
        const zitem *src[3];
        long n[3];
        double w[3];
        for (int s = 0; s < nsrc; s++) {
            n[s] = 0;
            for (size_t i = 0; i < NNAMES; i++)
                if (rnd() % 2) raw[s][n[s]++] = (zitem){names[i], strlen(names[i]), scores[rnd() % 7]};
            src[s] = byName(raw[s], n[s]);
            w[s] = (double[]){1, 2, 0, -1}[rnd() % 4];
        }
        int op = (int)(rnd() % 3), how = (int)(rnd() % 3);
        /* the order Redis takes them in */
        int ord[3] = {0, 1, 2};
        if (op != ZOP_DIFF)
            for (int i = 1; i < nsrc; i++)
                for (int j = i; j > 0 && n[ord[j - 1]] > n[ord[j]]; j--) {
                    int t = ord[j];
                    ord[j] = ord[j - 1];
                    ord[j - 1] = t;
                }
        zitem model[NNAMES];
        long nm = 0;
        for (size_t i = 0; i < NNAMES; i++) {
            double v[3];
            int in[3];
            for (int s = 0; s < nsrc; s++) {
                in[s] = 0;
                for (long k = 0; k < n[s]; k++)
                    if (!strcmp(src[s][k].ele, names[i])) in[s] = 1, v[s] = src[s][k].score;
            }
            double sc = 0;
            int keep = 0, started = 0;
            if (op == ZOP_DIFF) {
                keep = in[0];
                for (int s = 1; s < nsrc; s++) keep = keep && !in[s];
                sc = v[0];
            } else {
                keep = op == ZOP_INTER;
                for (int oi = 0; oi < nsrc; oi++) {
                    int s = ord[oi];
                    if (!in[s]) {
                        if (op == ZOP_INTER) keep = 0;
                        continue;
                    }
                    double x = w[s] * v[s];
                    if (!started && isnan(x)) x = 0;
                    if (op == ZOP_UNION && isnan(x)) x = 0;
                    sc = started ? agg(sc, x, how) : x;
                    started = 1;
                    if (op == ZOP_UNION) keep = 1;
                }
            }
            if (keep) model[nm++] = (zitem){names[i], strlen(names[i]), sc};
        }
        zitemSort(model, nm);
        zitem *out;
        long got = zrangeCombine(op, how, src, n, w, nsrc, 0, &out);
        cr_assert_eq(got, nm, "op %d: %ld members, model %ld", op, got, nm);
        for (long k = 0; k < nm; k++) {
            cr_assert_str_eq(out[k].ele, model[k].ele);
            cr_assert(out[k].score == model[k].score || (isnan(out[k].score) && isnan(model[k].score)),
                      "op %d how %d %s: %g model %g", op, how, out[k].ele, out[k].score,
                      model[k].score);
        }
        free(out);
        if (op == ZOP_INTER && nm > 1) { /* ZINTERCARD's LIMIT stops there */
            got = zrangeCombine(op, how, src, n, w, nsrc, 1, &out);
            cr_assert_eq(got, 1);
            free(out);
        }
        for (int s = 0; s < nsrc; s++) free((void *)src[s]);
    }
}

/* ---------------------------------------------------- ZRANGE's arguments */

static const char *parse(const char *line, int store, int type, int dir, zrangeArgs *a) {
    static char buf[256];
    static char *argv[32];
    static size_t lens[32];
    snprintf(buf, sizeof(buf), "%s", line);
    int argc = 0;
    for (char *t = strtok(buf, " "); t && argc < 32; t = strtok(NULL, " ")) {
        argv[argc] = t;
        lens[argc++] = strlen(t);
    }
    return zrangeParseArgs(argc, argv, lens, store ? 2 : 1, store, type, dir, a);
}

Test(zrange, zrange_arguments) {
    zrangeArgs a;
    cr_assert_null(parse("zrange k 0 -1", 0, ZRT_AUTO, ZDIR_AUTO, &a));
    cr_assert(a.type == ZRT_RANK && a.start == 0 && a.end == -1 && !a.reverse && a.limit == -1);
    cr_assert_null(parse("zrange k (5 1 BYSCORE REV LIMIT 1 2 WITHSCORES", 0, ZRT_AUTO, ZDIR_AUTO, &a));
    cr_assert(a.type == ZRT_SCORE && a.reverse && a.withscores && a.offset == 1 && a.limit == 2);
    cr_assert(a.score.min == 1 && a.score.max == 5 && a.score.maxex); /* REV: max first */
    cr_assert_null(parse("zrange k 0 -1 LIMIT 0 -1", 0, ZRT_AUTO, ZDIR_AUTO, &a));
    cr_assert_str_eq(parse("zrange k 0 -1 LIMIT 0 1", 0, ZRT_AUTO, ZDIR_AUTO, &a),
                     "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    cr_assert_str_eq(parse("zrange k - + BYLEX WITHSCORES", 0, ZRT_AUTO, ZDIR_AUTO, &a),
                     "syntax error, WITHSCORES not supported in combination with BYLEX");
    cr_assert_str_eq(parse("zrangestore d k 0 -1 WITHSCORES", 1, ZRT_AUTO, ZDIR_AUTO, &a),
                     "syntax error");
    cr_assert_str_eq(parse("zrevrange k 0 -1 REV", 0, ZRT_RANK, ZDIR_REV, &a), "syntax error");
    cr_assert_str_eq(parse("zrangebyscore k 0 1 BYLEX", 0, ZRT_SCORE, ZDIR_FWD, &a), "syntax error");
    cr_assert_str_eq(parse("zrange k 0 x", 0, ZRT_AUTO, ZDIR_AUTO, &a),
                     "value is not an integer or out of range");
    cr_assert_str_eq(parse("zrange k 0 1 LIMIT a 1 BYSCORE", 0, ZRT_AUTO, ZDIR_AUTO, &a),
                     "value is not an integer or out of range");
    cr_assert_str_eq(parse("zrange k x 1 BYSCORE", 0, ZRT_AUTO, ZDIR_AUTO, &a),
                     "min or max is not a float");
    cr_assert_str_eq(parse("zrange k a b BYLEX", 0, ZRT_AUTO, ZDIR_AUTO, &a),
                     "min or max not valid string range item");
    cr_assert_str_eq(parse("zrange k 0 1 LIMIT 0", 0, ZRT_AUTO, ZDIR_AUTO, &a), "syntax error");
}
