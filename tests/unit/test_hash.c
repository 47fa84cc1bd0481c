/* test_hash.c -- hashes as add-wins maps of fields (types/hash.h over
 * types/field.h and types/keymeta.h): a field's value is a last-writer-wins
 * register plus counter contributions that HSET and HDEL clear as far as
 * they observed them.
 *
 * Over seeded random runs (3 replicas; HSET, HDEL, HINCRBY, HINCRBYFLOAT,
 * DEL, EXPIRE, PERSIST, expiry firing; deltas late, reordered, duplicated;
 * anti-entropy) it proves:
 *   - merge is a join (pairs, triples, all 120 orders of 5 states);
 *   - each delta does on its coordinator what the command does on one
 *     Redis: the whole hash read before and after, the reply, the errors
 *     (not an integer, not a float, overflow);
 *   - replicas that received everything are byte-for-byte equal;
 *   - every field reads what a model computes from the history alone:
 *     present iff a write of it was seen by no HSET/HDEL/DEL/creation and
 *     no passed expiry covers it; its value the newest such HSET; plus, per
 *     actor, the increments made after the last baseline an HSET or HDEL
 *     (or the actor itself, restarting a removed chain) took of it;
 *   - increments alone (no clears): the value is the sum of them, whatever
 *     the order and duplication of their deltas;
 * and, directed, the examples of docs/types.md. Float increments here are
 * multiples of 1/4, exact in any order; see docs/types.md for rounding. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "collsim.h"
#include "types/hash.h"

static const char *values[] = {"10", "-3", "1.5", "abc", "7", "0"};

/* ------------------------------------------------ what a hash does */

static int hashRead(const field *f, const causalRemoval *kr, csView *v, int i) {
    buf b;
    bufInit(&b);
    int present = hashFieldRead(f, kr, &b) != NUM_ABSENT;
    if (present) snprintf(v->text[i], sizeof(v->text[i]), "%s", b.ptr);
    bufFree(&b);
    return present;
}

/* What HSET, HINCRBY and HINCRBYFLOAT do to a hash on one Redis. */
static int hashRedis(csView *v, const csOp *o, csReply *reply) {
    int f = o->fld;
    switch (o->kind) {
    case CS_ADD:
        v->present[f] = 1;
        snprintf(v->text[f], sizeof(v->text[f]), "%s", values[o->val]);
        return NUMERR_OK;
    case CS_INCR: {
        long long cur = 0;
        if (v->present[f] && !string2ll(v->text[f], strlen(v->text[f]), &cur)) return NUMERR_NOTINT;
        if (__builtin_add_overflow(cur, o->inc, &reply->i)) return NUMERR_OVERFLOW;
        v->present[f] = 1;
        snprintf(v->text[f], sizeof(v->text[f]), "%lld", reply->i);
        return NUMERR_OK;
    }
    default: { /* CS_INCRF */
        long double cur = 0;
        if (v->present[f] && !string2ld(v->text[f], strlen(v->text[f]), &cur)) return NUMERR_NOTFLOAT;
        long double r = cur + o->finc;
        if (isnan(r) || isinf(r)) return NUMERR_NANINF;
        v->present[f] = 1;
        ld2string(v->text[f], sizeof(v->text[f]), r);
        strcpy(reply->text, v->text[f]);
        return NUMERR_OK;
    }
    }
}

static int hashDelta(field *fd, field *obs, const causalRemoval *kr, const csOp *o, csReply *reply) {
    switch (o->kind) {
    case CS_ADD:
        hashDeltaSet(fd, obs, o->actor, o->seq, values[o->val], strlen(values[o->val]));
        return NUMERR_OK;
    case CS_REM:
        hashDeltaDel(fd, obs);
        return NUMERR_OK;
    case CS_INCR: return hashDeltaIncrBy(fd, obs, kr, o->actor, o->seq, o->inc, &reply->i);
    default: { /* CS_INCRF */
        buf out;
        bufInit(&out);
        int rc = hashDeltaIncrByFloat(fd, obs, kr, o->actor, o->seq, o->finc, &out);
        snprintf(reply->text, sizeof(reply->text), "%s", out.ptr);
        bufFree(&out);
        return rc;
    }
    }
}

/* The newest HSET's text, plus the increments, as Redis writes numbers. */
static void hashModel(const csOp *base, const counterTotal *t, csView *v, int i) {
    buf out;
    bufInit(&out);
    const char *bv = base ? values[base->val] : NULL;
    if (numberRead(bv, bv ? strlen(bv) : 0, base != NULL, t, &out) == NUM_ABSENT) bufAppendStr(&out, "0");
    snprintf(v->text[i], sizeof(v->text[i]), "%s", out.ptr);
    bufFree(&out);
}

static void hashSum(long long isum, long double fsum, int anyf, csView *v, int i) {
    if (!anyf || fsum == 0) snprintf(v->text[i], sizeof(v->text[i]), "%lld", isum);
    else ld2string(v->text[i], sizeof(v->text[i]), (long double)isum + fsum);
}

static const csType hashType = {
    .name = "hash",
    .what = "field",
    .keyType = KT_HASH,
    .nfld = 4,
    .names = {"f", "g", "h", "i"},
    .nvals = sizeof(values) / sizeof(values[0]),
    .scored = 0,
    .intIncr = 1,
    .read = hashRead,
    .redis = hashRedis,
    .delta = hashDelta,
    .model = hashModel,
    .sum = hashSum,
};

/* ------------------------------------------------------- random runs */

Test(hash, random_runs_are_joins_match_redis_converge_and_match_the_model) {
    csRandomRuns(&hashType, 600, 7919, 0);
}

Test(hash, increments_add_up_whatever_the_order_and_duplication) {
    csIncrementRuns(&hashType, 300, 104729);
}

/* ---------------------------------------------------------- directed */

#define A simActors[0]
#define B simActors[1]

static const char *hget(const field *f, const causalRemoval *kr, buf *b) {
    return hashFieldRead(f, kr, b) == NUM_ABSENT ? NULL : b->ptr;
}

Test(hash, hset_clears_the_increments_it_saw_and_keeps_the_concurrent_ones) {
    field a, b, d1, d2;
    fieldsInit(&a, &b, &d1, &d2, NULL);
    buf t;
    bufInit(&t);
    long long r;
    hashDeltaSet(&d1, &a, A, 10, "5", 1);
    fieldMerge(&a, &d1);
    cr_assert_eq(hashDeltaIncrBy(&d1, &a, NULL, A, 20, 3, &r), NUMERR_OK);
    cr_assert_eq(r, 8);
    fieldMerge(&a, &d1);
    fieldMerge(&b, &a);                                        /* B sees 8 */
    hashDeltaSet(&d2, &b, B, 30, "100", 3);                    /* B: HSET 100 */
    cr_assert_eq(hashDeltaIncrBy(&d1, &a, NULL, A, 31, 2, &r), NUMERR_OK); /* A: +2 */
    fieldMerge(&a, &d1);
    fieldMerge(&a, &d2);
    fieldMerge(&b, &d1);
    fieldMerge(&b, &d2);
    cr_assert(fieldEqual(&a, &b));
    cr_assert_str_eq(hget(&a, NULL, &t), "102", "the HSET's value plus the increment it did not see");
    /* HDEL concurrent with an increment: the field comes back with it alone */
    hashDeltaDel(&d2, &b);
    cr_assert_eq(hashDeltaIncrBy(&d1, &a, NULL, A, 40, 7, &r), NUMERR_OK);
    fieldMerge(&a, &d2);
    fieldMerge(&a, &d1);
    cr_assert_str_eq(hget(&a, NULL, &t), "7");
    bufFree(&t);
    fieldsFree(&a, &b, &d1, &d2, NULL);
}

Test(hash, numbers_read_as_redis_writes_them) {
    field f, d;
    fieldsInit(&f, &d, NULL);
    buf t;
    bufInit(&t);
    long long r;
    hashDeltaSet(&d, &f, A, 10, "10", 2);
    fieldMerge(&f, &d);
    cr_assert_eq(hashDeltaIncrByFloat(&d, &f, NULL, A, 11, 0.5L, &t), NUMERR_OK);
    cr_assert_str_eq(t.ptr, "10.5");
    fieldMerge(&f, &d);
    cr_assert_eq(hashDeltaIncrBy(&d, &f, NULL, A, 12, 1, &r), NUMERR_NOTINT);
    cr_assert_eq(hashDeltaIncrByFloat(&d, &f, NULL, A, 12, 0.5L, &t), NUMERR_OK);
    cr_assert_str_eq(t.ptr, "11", "10.5 + 0.5 reads 11 ...");
    fieldMerge(&f, &d);
    cr_assert_eq(hashDeltaIncrBy(&d, &f, NULL, A, 13, 1, &r), NUMERR_OK, "... and HINCRBY works again");
    cr_assert_eq(r, 12);
    fieldMerge(&f, &d);
    /* 1.0 stays 1.0 until something adds to it */
    hashDeltaSet(&d, &f, A, 14, "1.0", 3);
    fieldMerge(&f, &d);
    cr_assert_str_eq(hget(&f, NULL, &t), "1.0");
    /* overflow and NaN/Inf as Redis refuses them */
    hashDeltaSet(&d, &f, A, 15, "9223372036854775806", 19);
    fieldMerge(&f, &d);
    cr_assert_eq(hashDeltaIncrBy(&d, &f, NULL, A, 16, 2, &r), NUMERR_OVERFLOW);
    cr_assert_eq(hashDeltaIncrByFloat(&d, &f, NULL, A, 16, INFINITY, &t), NUMERR_NANINF);
    hashDeltaSet(&d, &f, A, 17, "abc", 3);
    fieldMerge(&f, &d);
    cr_assert_eq(hashDeltaIncrByFloat(&d, &f, NULL, A, 18, 1, &t), NUMERR_NOTFLOAT);
    cr_assert_eq(hashDeltaIncrBy(&d, &f, NULL, A, 17, 1, &r), NUMERR_NOTINT);
    cr_assert_eq(hashDeltaIncrBy(&d, &f, NULL, A, 10, 1, &r), NUMERR_NOTINT);
    hashDeltaSet(&d, &f, A, 19, "1", 1);
    fieldMerge(&f, &d);
    cr_assert_eq(hashDeltaIncrBy(&d, &f, NULL, A, 19, 1, &r), NUMERR_CLOCK, "a dot that is not new");
    bufFree(&t);
    fieldsFree(&f, &d, NULL);
}

Test(hash, concurrent_increments_past_64_bits_read_exactly) {
    field a, b, d1, d2;
    fieldsInit(&a, &b, &d1, &d2, NULL);
    buf t;
    bufInit(&t);
    long long r;
    cr_assert_eq(hashDeltaIncrBy(&d1, &a, NULL, A, 10, INT64_MAX, &r), NUMERR_OK);
    cr_assert_eq(hashDeltaIncrBy(&d2, &b, NULL, B, 11, INT64_MAX, &r), NUMERR_OK);
    fieldMerge(&a, &d1);
    fieldMerge(&a, &d2);
    cr_assert_str_eq(hget(&a, NULL, &t), "18446744073709551614");
    cr_assert_eq(hashDeltaIncrBy(&d1, &a, NULL, A, 12, 1, &r), NUMERR_NOTINT,
                 "what no 64-bit integer holds cannot be incremented");
    bufFree(&t);
    fieldsFree(&a, &b, &d1, &d2, NULL);
}
