/* zrange.h -- the part of the sorted-set commands (t_zset.c) that does no
 * I/O: Redis's parsing of scores, of score and lex ranges and of the
 * range commands' arguments, Redis's order of members, which run of an
 * ordered member list a range selects, and the results of ZUNION, ZINTER
 * and ZDIFF. Pure: no I/O, no globals; errors are returned as the text
 * Redis replies, for the command to send.
 *
 * A range command reads the members it needs (every member, or a run of
 * the score index: t_zset.c), sorts them here by (score, member) as Redis's
 * skiplist orders them, and picks its run: on a run from the lowest score,
 * ranks from the start and score ranges from its first bound select as on
 * the whole set, and on a run from the highest, ranks from the end. Picking follows Redis's listpack walk exactly
 * (first member in range, then on while in range), which also settles the
 * lex commands on members of different scores the way Redis does for
 * small sets.
 *
 * API:
 *   zrangeParseArgs(argc, argv, lens, src, store, type, dir, &args)
 *                                           ZRANGE's arguments, as Redis checks them
 *   zrangeSpan(&args, items, n, ...)        the run those arguments select
 *   zrangeParseSetop(...)                   ZUNION/ZINTER/ZDIFF/ZINTERCARD options
 *   zrangeCombine(op, agg, src, n, weights, nsrc, limit, &out)   their result
 *   zrangeParseDouble(s, len, &d)           a score/weight as ZADD parses it (string2d)
 *   zrangeParseScore(min, max, &range)      "1.5", "(1.5", "-inf", "+inf"
 *   zrangeParseLex(min, mlen, max, xlen, &range)   "[a", "(a", "-", "+"
 *   zrangeFormatScore(buf, len, d)          a score as Redis's listpack stores it (ZSCAN)
 *   zitemCmp / zitemSort                    (score, member) order
 *   zrangeRankSpan / zrangeScoreSpan / zrangeLexSpan   the run a range selects
 *
 * A span is (first, count, step): the members items[first + k * step] for
 * k < count, step 1 forward, -1 for the REV forms. */
#ifndef RINGKV_ZRANGE_H
#define RINGKV_ZRANGE_H

#include <stddef.h>

/* One member of a sorted set as a command sees it. */
typedef struct zitem {
    const char *ele; /* member bytes (borrowed: from a view, an argument or a zlist) */
    size_t len;      /* member length */
    double score;    /* its score (never NaN) */
} zitem;

/* A score range: min <= score <= max, each bound exclusive when its flag is
 * set ("(1.5"). */
typedef struct zrangeScore {
    double min, max;
    int minex, maxex;
} zrangeScore;

/* One bound of a lex range: a value ("[a" inclusive, "(a" exclusive), or
 * "-" / "+" (below / above every member). */
#define ZLEX_VALUE 0
#define ZLEX_MIN 1 /* "-" */
#define ZLEX_MAX 2 /* "+" */

typedef struct zrangeLex {
    const char *min, *max; /* the bound bytes after '[' or '(' (borrowed), for ZLEX_VALUE */
    size_t minlen, maxlen;
    int minkind, maxkind;  /* ZLEX_* */
    int minex, maxex;      /* exclusive bounds ("-" and "+" are, as in Redis) */
} zrangeLex;

/* As Redis's string2d: the whole string is a double (strtod: "inf", "1e3",
 * "0x1p3"...), no leading space, no NaN, no overflow. 1 on success. */
int zrangeParseDouble(const char *s, size_t len, double *d);
/* C_OK or C_ERR ("min or max is not a float"). min and max are NUL-terminated. */
int zrangeParseScore(const char *min, const char *max, zrangeScore *r);
/* C_OK or C_ERR ("min or max not valid string range item"). r borrows the arguments. */
int zrangeParseLex(const char *min, size_t minlen, const char *max, size_t maxlen, zrangeLex *r);

int zrangeScoreGteMin(double v, const zrangeScore *r);
int zrangeScoreLteMax(double v, const zrangeScore *r);
int zrangeLexGteMin(const char *s, size_t len, const zrangeLex *r);
int zrangeLexLteMax(const char *s, size_t len, const zrangeLex *r);

/* Redis 7.0's d2string: "inf", "-inf", "-0", an integer when the double is
 * one (within +-2^62), else %.17g. Returns the length. */
int zrangeFormatScore(char *buf, size_t len, double d);

/* Score, then member bytes (memcmp, the shorter first on a tie), as Redis. */
int zitemCmp(const zitem *a, const zitem *b);
void zitemSort(zitem *items, long n);

/* ZRANGE by rank: Redis's index rules (negative from the end, clamped). */
void zrangeRankSpan(long n, long long start, long long end, int reverse, long *first,
                    long *count, int *step);
/* BYSCORE / BYLEX with LIMIT offset count (count < 0: no limit, offset < 0:
 * nothing, as Redis). items sorted by zitemSort. */
void zrangeScoreSpan(const zitem *items, long n, const zrangeScore *r, int reverse,
                     long long offset, long long limit, long *first, long *count, int *step);
void zrangeLexSpan(const zitem *items, long n, const zrangeLex *r, int reverse, long long offset,
                   long long limit, long *first, long *count, int *step);

/* ---- ZRANGE's arguments ---- */

/* Range kinds and directions, as Redis's zrangeGenericCommand takes them:
 * AUTO for ZRANGE/ZRANGESTORE (BYSCORE, BYLEX and REV decide), fixed for
 * the older commands (ZREVRANGE, ZRANGEBYSCORE...). */
#define ZRT_AUTO 0
#define ZRT_RANK 1
#define ZRT_SCORE 2
#define ZRT_LEX 3
#define ZDIR_AUTO 0
#define ZDIR_FWD 1
#define ZDIR_REV 2

typedef struct zrangeArgs {
    int type;             /* ZRT_RANK, ZRT_SCORE or ZRT_LEX once parsed */
    int reverse;          /* REV, or a ZREV* command */
    int withscores;       /* WITHSCORES */
    long long offset;     /* LIMIT offset (0) */
    long long limit;      /* LIMIT count (-1: none) */
    long long start, end; /* ZRT_RANK */
    zrangeScore score;    /* ZRT_SCORE */
    zrangeLex lex;        /* ZRT_LEX: borrows argv */
    int src;              /* argv index of the source key */
} zrangeArgs;

/* argv[src] is the source key, then min max and the options (store:
 * ZRANGESTORE, no WITHSCORES). NULL, or the error text Redis replies. */
const char *zrangeParseArgs(int argc, char **argv, const size_t *lens, int src, int store,
                            int type, int dir, zrangeArgs *a);
void zrangeSpan(const zrangeArgs *a, const zitem *items, long n, long *first, long *count,
                int *step);

/* ---- ZUNION, ZINTER, ZDIFF (their STORE forms) and ZINTERCARD ---- */

#define ZOP_UNION 0
#define ZOP_INTER 1
#define ZOP_DIFF 2
#define ZAGG_SUM 0
#define ZAGG_MIN 1
#define ZAGG_MAX 2

/* The options from argv[j] on: WEIGHTS (nkeys of them, into weights),
 * AGGREGATE, WITHSCORES (not for a store), LIMIT (cardonly). NULL, or the
 * error text Redis replies. */
const char *zrangeParseSetop(int argc, char **argv, const size_t *lens, int j, int op, int store,
                             int cardonly, int nkeys, double *weights, int *agg, int *withscores,
                             long long *cardlimit);
/* The result of op over the nsrc sources (src[i]: n[i] members sorted by
 * name, as a view holds them), sorted by (score, member), into *out
 * (allocated; members borrowed from src). Redis's rules: weights multiply
 * (NaN -> 0), a SUM of inf and -inf is 0, the sources are taken by
 * cardinality (a DIFF's first excepted). limit > 0 stops an INTER there
 * (ZINTERCARD). Returns the number of members. */
long zrangeCombine(int op, int agg, const zitem *const *src, const long *n,
                   const double *weights, int nsrc, long long limit, zitem **out);

#endif
