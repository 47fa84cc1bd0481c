/* test_zset.c -- sorted-set members (types/zset.h over types/field.h and
 * types/keymeta.h): add-wins membership, ZADD's score a last-writer-wins
 * register, ZINCRBY a counter contribution to it.
 *
 * Over seeded random runs (3 replicas; ZADD, ZREM, ZINCRBY, DEL, EXPIRE,
 * PERSIST, firing; deltas late, reordered, duplicated; anti-entropy):
 * join laws on pairs, triples and all 120 orders of 5 states; every delta
 * against Redis on one node (scores before and after, ZINCRBY's reply);
 * convergence; every member equal to a model computed from the history
 * alone (as in test_hash.c: presence, the newest ZADD no remove saw, the
 * increments no ZADD/ZREM/DEL/expiry cleared); increments alone sum
 * whatever the order and duplication. Directed: Redis Enterprise's
 * examples, infinities and NaN. Scores and increments are multiples of 1/4
 * (exact in any order). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "collsim.h"
#include "types/zset.h"

static const double values[] = {10, -3, 1.5, 0.25, 7, 0};

/* ------------------------------------------- what a sorted set does */

static int zsetRead(const field *f, const causalRemoval *kr, csView *v, int i) {
    return zsetScore(f, kr, &v->score[i]);
}

/* What ZADD and ZINCRBY do to a sorted set on one Redis. */
static int zsetRedis(csView *v, const csOp *o, csReply *reply) {
    int f = o->fld;
    if (o->kind == CS_ADD) {
        v->present[f] = 1;
        v->score[f] = values[o->val];
        return NUMERR_OK;
    }
    double r = (v->present[f] ? v->score[f] : 0) + (double)o->finc; /* CS_INCRF */
    if (isnan(r)) return NUMERR_NANINF;
    v->present[f] = 1;
    v->score[f] = r;
    reply->score = r;
    return NUMERR_OK;
}

static int zsetDelta(field *fd, field *obs, const causalRemoval *kr, const csOp *o, csReply *reply) {
    switch (o->kind) {
    case CS_ADD:
        zsetDeltaAdd(fd, obs, o->actor, o->seq, values[o->val]);
        return NUMERR_OK;
    case CS_REM:
        zsetDeltaRem(fd, obs);
        return NUMERR_OK;
    default: /* CS_INCRF */
        return zsetDeltaIncr(fd, obs, kr, o->actor, o->seq, (double)o->finc, &reply->score);
    }
}

/* The newest ZADD's score plus the increments. */
static void zsetModel(const csOp *base, const counterTotal *t, csView *v, int i) {
    long double sc = base ? values[base->val] : 0;
    if (t->live) sc += (long double)t->isum + t->fsum;
    v->score[i] = (double)sc;
}

static void zsetSum(long long isum, long double fsum, int anyf, csView *v, int i) {
    v->score[i] = (double)((long double)isum + fsum);
}

static const csType zsetType = {
    .name = "zset",
    .what = "member",
    .keyType = KT_ZSET,
    .nfld = 4,
    .names = {"m", "n", "o", "p"},
    .nvals = sizeof(values) / sizeof(values[0]),
    .scored = 1,
    .intIncr = 0,
    .read = zsetRead,
    .redis = zsetRedis,
    .delta = zsetDelta,
    .model = zsetModel,
    .sum = zsetSum,
};

/* ------------------------------------------------------- random runs */

Test(zset, random_runs_are_joins_match_redis_converge_and_match_the_model) {
    csRandomRuns(&zsetType, 600, 6151, 17);
}

Test(zset, increments_add_up_whatever_the_order_and_duplication) {
    csIncrementRuns(&zsetType, 300, 104729);
}

/* ---------------------------------------------------------- directed */

#define A simActors[0]
#define B simActors[1]

Test(zset, zrem_concurrent_with_zincrby_leaves_the_increment_as_redis_enterprise_does) {
    /* ZADD Z 4.1 x; sync; ZREM Z x || ZINCRBY Z 2.0 x; sync -> 2 */
    field a, b, d1, d2;
    fieldsInit(&a, &b, &d1, &d2, NULL);
    double sc;
    zsetDeltaAdd(&d1, &a, A, 10, 4.1);
    fieldMerge(&a, &d1);
    fieldMerge(&b, &d1);
    zsetDeltaRem(&d1, &a);
    cr_assert_eq(zsetDeltaIncr(&d2, &b, NULL, B, 20, 2.0, &sc), NUMERR_OK);
    cr_assert_eq(sc, 6.1);
    fieldMerge(&a, &d1);
    fieldMerge(&b, &d2);
    cr_assert(!zsetScore(&a, NULL, &sc));
    fieldMerge(&a, &d2);
    fieldMerge(&b, &d1);
    cr_assert(fieldEqual(&a, &b));
    cr_assert(zsetScore(&a, NULL, &sc) && sc == 2.0);
    /* concurrent ZINCRBYs add up; a concurrent ZADD replaces the score
     * and keeps the increments it did not see */
    cr_assert_eq(zsetDeltaIncr(&d1, &a, NULL, A, 30, 1.0, &sc), NUMERR_OK);
    cr_assert_eq(zsetDeltaIncr(&d2, &b, NULL, B, 31, 1.0, &sc), NUMERR_OK);
    fieldMerge(&b, &d2);
    fieldMerge(&a, &d1);
    fieldMerge(&a, &d2);
    cr_assert(zsetScore(&a, NULL, &sc) && sc == 4.0);
    fieldMerge(&b, &d1);
    zsetDeltaAdd(&d1, &b, B, 40, 100);
    cr_assert_eq(zsetDeltaIncr(&d2, &a, NULL, A, 41, 0.5, &sc), NUMERR_OK);
    fieldMerge(&a, &d1);
    fieldMerge(&a, &d2);
    cr_assert(zsetScore(&a, NULL, &sc) && sc == 100.5);
    fieldsFree(&a, &b, &d1, &d2, NULL);
}

Test(zset, infinite_scores_are_registers_and_nan_is_refused) {
    field a, d;
    fieldsInit(&a, &d, NULL);
    double sc;
    zsetDeltaAdd(&d, &a, A, 10, 1.5);
    fieldMerge(&a, &d);
    cr_assert_eq(zsetDeltaIncr(&d, &a, NULL, A, 11, INFINITY, &sc), NUMERR_OK);
    cr_assert(isinf(sc) && sc > 0);
    cr_assert_eq(d.ctr.n, 0, "an infinite result is written as a score, not an increment");
    fieldMerge(&a, &d);
    cr_assert_eq(zsetDeltaIncr(&d, &a, NULL, A, 12, -INFINITY, &sc), NUMERR_NANINF);
    cr_assert_eq(zsetDeltaIncr(&d, &a, NULL, A, 12, 5, &sc), NUMERR_OK);
    cr_assert(isinf(sc));
    fieldMerge(&a, &d);
    zsetDeltaAdd(&d, &a, A, 13, -INFINITY);
    fieldMerge(&a, &d);
    cr_assert(zsetScore(&a, NULL, &sc) && isinf(sc) && sc < 0);
    zsetDeltaAdd(&d, &a, A, 14, 1e308);
    fieldMerge(&a, &d);
    cr_assert_eq(zsetDeltaIncr(&d, &a, NULL, A, 15, 1e308, &sc), NUMERR_OK);
    cr_assert(isinf(sc), "overflow to infinity is a score too");
    cr_assert_eq(d.ctr.n, 0);
    cr_assert_eq(zsetDeltaIncr(&d, &a, NULL, A, 15, 1, &sc), NUMERR_OK);
    cr_assert_eq(zsetDeltaIncr(&d, &a, NULL, A, 14, 1, &sc), NUMERR_CLOCK);
    fieldsFree(&a, &d, NULL);
}

Test(zset, every_delta_flags_a_member_and_the_flag_survives_merges) {
    /* the storage layer keeps a score index of flagged elements (db.c) */
    field a, d, s;
    fieldsInit(&a, &d, &s, NULL);
    double sc;
    zsetDeltaAdd(&d, &a, A, 10, 3);
    cr_assert(d.scored);
    fieldMerge(&a, &d);
    cr_assert(a.scored);
    cr_assert_eq(zsetDeltaIncr(&d, &a, NULL, B, 11, 1, &sc), NUMERR_OK);
    cr_assert(d.scored);
    zsetDeltaRem(&d, &a);
    cr_assert(d.scored);
    /* a set member's delta is not flagged; merged with a member's, it is */
    fieldDeltaAdd(&s, A, 12);
    cr_assert(!s.scored);
    fieldMerge(&s, &d);
    cr_assert(s.scored);
    buf b;
    bufInit(&b);
    fieldEncode(&a, &b);
    cr_assert(fieldEncodedScored(b.ptr, b.len));
    field back;
    fieldInit(&back);
    cr_assert_eq(fieldDecode(&back, b.ptr, b.len), C_OK);
    cr_assert(fieldEqual(&back, &a) && back.scored);
    fieldDeltaAdd(&s, A, 13);
    bufClear(&b);
    fieldEncode(&s, &b);
    cr_assert(!fieldEncodedScored(b.ptr, b.len));
    bufFree(&b);
    fieldFree(&back);
    fieldsFree(&a, &d, &s, NULL);
}

Test(zset, zincrby_after_an_expiry_leaves_a_member_whose_own_state_reads_as_through_it) {
    /* ZADD z 5 x; the key expires (every dot up to the floor removed);
     * ZINCRBY z 1 x reads x absent and writes 1: the member's own state,
     * read with no key removal (what its index entry is computed from),
     * must read 1 too, not 5 + 1 */
    field x, d;
    fieldsInit(&x, &d, NULL);
    double sc;
    zsetDeltaAdd(&d, &x, A, 10, 5);
    fieldMerge(&x, &d);
    causalRemoval kr = {NULL, 10};
    cr_assert(!zsetScore(&x, &kr, &sc));
    cr_assert_eq(zsetDeltaIncr(&d, &x, &kr, A, 20, 1, &sc), NUMERR_OK);
    cr_assert_eq(sc, 1);
    fieldMerge(&x, &d);
    cr_assert(zsetScore(&x, &kr, &sc) && sc == 1);
    cr_assert(zsetScore(&x, NULL, &sc) && sc == 1);
    fieldsFree(&x, &d, NULL);
}
