/* test_hll.c -- HyperLogLog as a replicated state (types/hll.h).
 *
 *   - the estimate: over cardinalities 1 to 10^6 and many independent
 *     element sets, the relative error matches Redis's (standard error
 *     1.04/sqrt(16384) = 0.81%): sets of up to 10 are counted exactly, up
 *     to 100 within 3, the RMS error over every set of 1000 or more is
 *     under 0.95% and near 0.81% at 10^5 and more, no size shows a bias;
 *     the figures are printed;
 *   - merging sketches is exactly the register-wise maximum: the merge of
 *     the sketches of two sets is the sketch of their union, register for
 *     register;
 *   - with the key's metadata, over seeded random runs (3 replicas; PFADD,
 *     PFMERGE, DEL, EXPIRE, firing; deltas late, reordered, duplicated;
 *     anti-entropy): merge commutative, associative, idempotent (pairs,
 *     triples, all 120 orders of 5), PFADD's reply and every delta as on
 *     one Redis (the registers before and after), convergence;
 *   - DEL removes the chains it saw and keeps one added concurrently;
 *   - the encoding picks the shorter of sparse and dense, is canonical, and
 *     refuses every truncation and corruption; sparse gaps at the edges of
 *     their 1- and 2-byte forms, and the sparse/dense choice at its exact
 *     boundary (2 + 2k bytes = the dense size). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "types/hll.h"
#include "typesim.h"

static void addElem(uint8_t *regs, const char *prefix, long i) {
    char e[64];
    int n = snprintf(e, sizeof(e), "%s:%ld", prefix, i);
    unsigned idx;
    uint8_t rank;
    hllHash(e, (size_t)n, &idx, &rank);
    if (rank > regs[idx]) regs[idx] = rank;
}

/* ------------------------------------------------------------ estimate */

Test(hll, the_estimate_has_redis_error_from_1_to_a_million) {
    static const long sizes[] = {1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000, 50000, 100000, 1000000};
    static const int trials[] = {200, 200, 200, 200, 200, 200, 200, 200, 100, 100, 40, 30, 8};
    uint8_t *regs = zmalloc(HLL_REGISTERS);
    double sqBig = 0, sqHuge = 0;
    int nBig = 0, nHuge = 0;
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        double sum = 0, sq = 0, worst = 0;
        for (int t = 0; t < trials[s]; t++) {
            char prefix[32];
            snprintf(prefix, sizeof(prefix), "n%ld-t%d", sizes[s], t);
            memset(regs, 0, HLL_REGISTERS);
            for (long i = 0; i < sizes[s]; i++) addElem(regs, prefix, i);
            double est = (double)hllCountRegisters(regs);
            double err = (est - (double)sizes[s]) / (double)sizes[s];
            sum += err;
            sq += err * err;
            if (fabs(err) > worst) worst = fabs(err);
            if (sizes[s] >= 1000) {
                sqBig += err * err;
                nBig++;
            }
            if (sizes[s] >= 100000) {
                sqHuge += err * err;
                nHuge++;
            }
            /* a collision of two small sets in one register is rare but happens */
            if (sizes[s] <= 10) cr_assert_lt(fabs(est - (double)sizes[s]), 1.5, "n=%ld: %g", sizes[s], est);
            else if (sizes[s] <= 100) cr_assert_lt(fabs(est - (double)sizes[s]), 3.5, "n=%ld: %g", sizes[s], est);
        }
        double mean = sum / trials[s], rms = sqrt(sq / trials[s]);
        fprintf(stderr, "hll: n=%-8ld trials=%-4d mean error %+.3f%%  rms %.3f%%  worst %.3f%%\n", sizes[s],
                trials[s], 100 * mean, 100 * rms, 100 * worst);
        /* a bias would show as a mean error well past rms/sqrt(trials) */
        /* (the estimate is rounded to an integer, as Redis's: with small sets
         * a register collision costs one, which shows as a slight negative
         * mean below a few hundred elements, as in Redis) */
        cr_assert_lt(fabs(mean), 4 * rms / sqrt(trials[s]) + 0.5 / (double)sizes[s] + 0.0005,
                     "n=%ld biased: %g", sizes[s], mean);
        cr_assert_lt(worst, 0.045, "n=%ld: an error past 5 standard errors", sizes[s]);
    }
    double rms = sqrt(sqBig / nBig), rmsHuge = sqrt(sqHuge / nHuge);
    fprintf(stderr, "hll: rms error over %d sets of 1000 to 1000000: %.3f%%; over the %d of 100000 "
                    "and more: %.3f%% (Redis: 0.81%%)\n", nBig, 100 * rms, nHuge, 100 * rmsHuge);
    cr_assert_lt(rms, 0.0095);
    /* where the raw estimate rules, the error is the theory's 1.04/sqrt(m);
     * far below it would mean fewer registers are in use than we think */
    cr_assert(rmsHuge > 0.005 && rmsHuge < 0.012, "rms %g at 100000 and more", rmsHuge);
    zfree(regs);
}

Test(hll, empty_and_tiny) {
    uint8_t *regs = zcalloc(HLL_REGISTERS);
    cr_assert_eq(hllCountRegisters(regs), 0);
    addElem(regs, "x", 1);
    cr_assert_eq(hllCountRegisters(regs), 1);
    addElem(regs, "x", 1);
    cr_assert_eq(hllCountRegisters(regs), 1, "the same element twice is one");
    memset(regs, HLL_MAX_RANK, HLL_REGISTERS);
    cr_assert_gt(hllCountRegisters(regs), 1000000000ULL, "every register full: no overflow, no zero");
    zfree(regs);
}

Test(hll, merge_is_exactly_the_register_wise_max) {
    for (int t = 0; t < 20; t++) {
        hll a, b, u, d;
        hllInit(&a), hllInit(&b), hllInit(&u), hllInit(&d);
        uint8_t *ra = zcalloc(HLL_REGISTERS), *rb = zcalloc(HLL_REGISTERS), *ru = zcalloc(HLL_REGISTERS);
        long na = 1 + t * 997, nb = 1 + t * 1499;
        for (long i = 0; i < na; i++) addElem(ra, "s", i);
        for (long i = na / 2; i < na / 2 + nb; i++) addElem(rb, "s", i);
        for (long i = 0; i < na / 2 + nb; i++) addElem(ru, "s", i);
        cr_assert(hllDeltaRaise(&d, &a, NULL, simActors[0], 10, ra) >= 0);
        hllMerge(&a, &d);
        cr_assert(hllDeltaRaise(&d, &b, NULL, simActors[1], 11, rb) >= 0);
        hllMerge(&b, &d);
        hllCopy(&u, &a);
        hllMerge(&u, &b);
        uint8_t *view = zmalloc(HLL_REGISTERS);
        hllView(&u, NULL, view);
        cr_assert(!memcmp(view, ru, HLL_REGISTERS), "the merge is the sketch of the union");
        cr_assert_eq(hllCount(&u, NULL), hllCountRegisters(ru));
        zfree(view);
        zfree(ra), zfree(rb), zfree(ru);
        hllFree(&a), hllFree(&b), hllFree(&u), hllFree(&d);
    }
}

/* ------------------------------------------------------- random runs */

typedef struct hkey {
    keymeta meta;
    hll h;
} hkey;

static void hkInit(hkey *k) {
    keymetaInit(&k->meta);
    hllInit(&k->h);
}
static void hkFree(hkey *k) {
    keymetaFree(&k->meta);
    hllFree(&k->h);
}
static int hkMerge(hkey *d, const hkey *s) {
    int changed = keymetaMerge(&d->meta, &s->meta);
    return hllMerge(&d->h, &s->h) | changed;
}
static void hkCopy(hkey *d, const hkey *s) {
    keymetaCopy(&d->meta, &s->meta);
    hllCopy(&d->h, &s->h);
}
/* Equal states (their encodings are equal exactly then: the encoding
 * test below checks the round trip, so plain equality is enough here). */
static int hkSame(const hkey *a, const hkey *b) {
    return keymetaEqual(&a->meta, &b->meta) && hllEqual(&a->h, &b->h);
}

SIM_KIND(hkeyKind, hkey, hk);

#define MAXOPS 60

typedef struct sim {
    simNet n;
    hkey rep[SIM_NREP];
    hkey delta[MAXOPS];
    int checked; /* ops checked against Redis */
} sim;

static void viewOf(const hkey *k, long long now, uint8_t *regs) {
    causalRemoval kr;
    keymetaRemoval(&k->meta, now, &kr);
    hllView(&k->h, &kr, regs);
}

/* Runs one random op at a random replica (the network calls it), checks
 * it against Redis, applies it locally and queues it for the others. */
static void simOp(void *ctx) {
    sim *s = ctx;
    rng *r = &s->n.r;
    int p = rngInt(r, SIM_NREP), id = s->n.nops;
    hkey *k = &s->rep[p], *d = &s->delta[id];
    hkInit(d);
    long long now = s->n.clk.now_ms;
    uint64_t actor = simActors[p], seq = simDot(&s->n.clk);
    uint8_t before[HLL_REGISTERS], after[HLL_REGISTERS], want[HLL_REGISTERS];
    viewOf(k, now, before);
    memcpy(want, before, HLL_REGISTERS);
    causalRemoval kr;
    keymetaRemoval(&k->meta, now, &kr);
    int roll = rngInt(r, 100);
    int empty = 1;
    for (int i = 0; i < HLL_REGISTERS && empty; i++) empty = before[i] == 0;
    if (roll < 60) { /* PFADD of a few elements, or PFMERGE of another sketch */
        uint8_t add[HLL_REGISTERS];
        memset(add, 0, sizeof(add));
        int n = rngInt(r, roll < 45 ? 6 : 300);
        for (int i = 0; i < n; i++) addElem(add, "e", rngInt(r, 2000));
        int changed = 0;
        for (int i = 0; i < HLL_REGISTERS; i++)
            if (add[i] > want[i]) want[i] = add[i], changed = 1;
        int rc = hllDeltaRaise(&d->h, &k->h, &kr, actor, seq, add);
        cr_assert_eq(rc, changed, "PFADD replies %d, Redis %d", rc, changed);
        if (empty) keymetaDeltaCreate(&d->meta, &k->meta, now, KT_HLL, actor, seq);
        else keymetaDeltaWrite(&d->meta, KT_HLL, actor, seq);
    } else if (roll < 75) {
        keymetaDeltaDel(&d->meta, &k->meta, now, actor, seq);
        memset(want, 0, sizeof(want));
    } else if (roll < 90) {
        keymetaDeltaExpire(&d->meta, &k->meta, now, actor, seq, now + 1 + rngInt(r, 8));
    } else {
        keymetaDeltaFire(&d->meta, &k->meta, now);
    }
    hkMerge(k, d);
    viewOf(k, now, after);
    cr_assert(!memcmp(after, want, HLL_REGISTERS), "op %d: registers differ from Redis's", id);
    s->checked++;
    simNetSent(&s->n, p);
}

Test(hll, random_runs_are_joins_match_redis_and_converge) {
    int runs = 120, cases = 0, orders = 0, ops = 0;
    for (int seed = 1; seed <= runs; seed++) {
        sim *s = zcalloc(sizeof(sim));
        simNetInit(&s->n, &hkeyKind, s->rep, s->delta, MAXOPS, 45, simOp, s, (uint64_t)seed);
        for (int i = 0; i < 90; i++) simNetStep(&s->n);
        if (s->n.nops >= 3) {
            simPool pool;
            simPoolInit(&pool, &hkeyKind, MAXOPS + SIM_NREP);
            for (int i = 0; i < s->n.nops; i++) simPoolAdd(&pool, &s->delta[i]);
            for (int j = 0; j < SIM_NREP; j++) simPoolAdd(&pool, &s->rep[j]);
            cases += simLaws(&pool, &s->n.r, 20, 0);
            orders += simOrders(&pool, &s->n.r);
            simPoolFree(&pool);
        }
        simNetDeliverAll(&s->n);
        simNetAssertConverged(&s->n, seed);
        ops += s->checked;
        simNetFree(&s->n);
        zfree(s);
    }
    fprintf(stderr, "hll: %d runs, %d ops checked against Redis, %d law cases, %d merge orders\n", runs,
            ops, cases, orders);
    cr_assert_gt(cases, 5000);
}

/* ---------------------------------------------------------- directed */

static int pfadd(hkey *k, hkey *d, uint64_t actor, uint64_t seq, const char *e) {
    hkFree(d);
    hkInit(d);
    causalRemoval kr;
    keymetaRemoval(&k->meta, 0, &kr);
    const char *elems[1] = {e};
    size_t lens[1] = {strlen(e)};
    int rc = hllDeltaAdd(&d->h, &k->h, &kr, actor, seq, elems, lens, 1);
    keymetaDeltaWrite(&d->meta, KT_HLL, actor, seq);
    hkMerge(k, d);
    return rc;
}

static uint64_t pfcount(const hkey *k) {
    causalRemoval kr;
    keymetaRemoval(&k->meta, 0, &kr);
    return hllCount(&k->h, &kr);
}

Test(hll, del_removes_what_it_saw_and_keeps_a_concurrent_pfadd) {
    uint64_t A = simActors[0], B = simActors[1], C = simActors[2];
    hkey a, b, d1, d2;
    hkInit(&a), hkInit(&b), hkInit(&d1), hkInit(&d2);
    cr_assert_eq(pfadd(&a, &d1, A, 10, "x"), 1);
    cr_assert_eq(pfadd(&a, &d1, A, 11, "x"), 0, "nothing new");
    cr_assert_eq(pfadd(&a, &d1, A, 12, "y"), 1);
    hkMerge(&b, &a);
    /* B deletes; C adds z concurrently */
    keymetaDeltaDel(&d1.meta, &b.meta, 0, B, 20);
    hllClear(&d1.h);
    hkMerge(&b, &d1);
    cr_assert_eq(pfcount(&b), 0);
    cr_assert_eq(pfadd(&a, &d2, C, 21, "z"), 1);
    hkMerge(&a, &d1);
    hkMerge(&b, &d2);
    cr_assert(hkSame(&a, &b));
    cr_assert_eq(pfcount(&a), 1, "z survives the DEL that did not see it; x and y are gone");
    /* A adds after seeing the DEL: a new chain, x and y stay gone */
    cr_assert_eq(pfadd(&a, &d2, A, 30, "w"), 1);
    cr_assert_eq(pfcount(&a), 2);
    hkMerge(&b, &d2);
    cr_assert(hkSame(&a, &b));
    hkFree(&a), hkFree(&b), hkFree(&d1), hkFree(&d2);
}

Test(hll, the_one_inexact_case_is_a_concurrent_add_by_the_same_actor) {
    /* documented in hll.h and docs/types.md: A's chain covered by a DEL at B
     * while A, not having seen the DEL, extends it: the whole chain stays */
    uint64_t A = simActors[0], B = simActors[1];
    hkey a, b, d1, d2;
    hkInit(&a), hkInit(&b), hkInit(&d1), hkInit(&d2);
    pfadd(&a, &d1, A, 10, "x");
    hkMerge(&b, &a);
    keymetaDeltaDel(&d1.meta, &b.meta, 0, B, 20);
    hllClear(&d1.h);
    hkMerge(&b, &d1);
    pfadd(&a, &d2, A, 21, "y");
    hkMerge(&a, &d1);
    hkMerge(&b, &d2);
    cr_assert(hkSame(&a, &b));
    cr_assert_eq(pfcount(&a), 2, "x comes back with y: no acknowledged add is lost");
    hkFree(&a), hkFree(&b), hkFree(&d1), hkFree(&d2);
}

/* ---------------------------------------------------------- encoding */

SIM_CODEC(hllCodec, hll, hll);

static int decHll(const void *p, size_t len) { return simDecodes(&hllCodec, p, len); }

Test(hll, encoding_is_the_shorter_form_canonical_and_refuses_damage) {
    for (long n = 0; n <= 20000; n = n ? n * 4 : 1) {
        hll h, d;
        hllInit(&h), hllInit(&d);
        uint8_t *regs = zcalloc(HLL_REGISTERS);
        for (long i = 0; i < n; i++) addElem(regs, "enc", i);
        hllDeltaRaise(&d, &h, NULL, simActors[0], 5, regs);
        hllMerge(&h, &d);
        hllDeltaRaise(&d, &h, NULL, simActors[1], 6, regs);
        hllMerge(&h, &d);
        buf e;
        bufInit(&e);
        hllEncode(&h, &e);
        cr_assert_lt(e.len, 2 * (HLL_DENSE_BYTES + 32), "never more than dense");
        cr_assert_eq(decHll(e.ptr, e.len), C_OK);
        hll back;
        hllInit(&back);
        cr_assert_eq(hllDecode(&back, e.ptr, e.len), C_OK);
        cr_assert(hllEqual(&back, &h));
        if (n <= 64 || n == 16384) { /* a long encoding: a sample of the truncations and flips */
            simRejectsTruncations(&hllCodec, e.ptr, e.len, e.len > 400 ? 97 : 1);
            simSurvivesFlips(&hllCodec, e.ptr, e.len, e.len > 400 ? 37 : 1);
        }
        bufFree(&e);
        zfree(regs);
        hllFree(&h), hllFree(&d), hllFree(&back);
    }
    /* a rank past 51, an index past the end, chains out of order */
    const unsigned char bigRank[] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 52};
    cr_assert_eq(decHll(bigRank, sizeof(bigRank)), C_ERR);
    const unsigned char okRank[] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 51};
    cr_assert_eq(decHll(okRank, sizeof(okRank)), C_OK);
    const unsigned char farIndex[] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0x80, 0x80, 1, 3};
    cr_assert_eq(decHll(farIndex, sizeof(farIndex)), C_ERR);
    const unsigned char seqBelowEpoch[] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0};
    cr_assert_eq(decHll(seqBelowEpoch, sizeof(seqBelowEpoch)), C_ERR);
}

/* The sparse body's gaps at the edges of their 1- and 2-byte forms, and the
 * sparse/dense choice at its exact boundary (hll.c parses and counts these
 * inline, 8 registers at a time). */
static int regAfterDecode(const unsigned char *p, size_t len, long idx) {
    hll h;
    hllInit(&h);
    int r = hllDecode(&h, p, len) == C_OK && h.n == 1 ? h.c[0].reg[idx] : -1;
    hllFree(&h);
    return r;
}

Test(hll, sparse_gaps_and_the_sparse_dense_boundary) {
    /* fmt 1, one chain: actor 1, epoch 1, seq 1, sparse, then k and entries */
#define HDR 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0
    const unsigned char gap127[] = {HDR, 1, 127, 5};
    cr_assert_eq(regAfterDecode(gap127, sizeof(gap127), 127), 5);
    const unsigned char gap128[] = {HDR, 1, 0x80, 0x01, 6};
    cr_assert_eq(regAfterDecode(gap128, sizeof(gap128), 128), 6);
    const unsigned char last[] = {HDR, 1, 0xff, 0x7f, 7}; /* gap 16383: the last register */
    cr_assert_eq(regAfterDecode(last, sizeof(last), HLL_REGISTERS - 1), 7);
    const unsigned char pastLast[] = {HDR, 2, 0xff, 0x7f, 7, 0, 1};
    cr_assert_eq(decHll(pastLast, sizeof(pastLast)), C_ERR);
    const unsigned char longGap[] = {HDR, 1, 0x85, 0x00, 5}; /* 5 in two bytes: not canonical */
    cr_assert_eq(decHll(longGap, sizeof(longGap)), C_ERR);
    const unsigned char cutGap[] = {HDR, 1, 0x80};
    cr_assert_eq(decHll(cutGap, sizeof(cutGap)), C_ERR);
    const unsigned char cutRank[] = {HDR, 1, 3};
    cr_assert_eq(decHll(cutRank, sizeof(cutRank)), C_ERR);
    const unsigned char zeroRank[] = {HDR, 1, 3, 0};
    cr_assert_eq(decHll(zeroRank, sizeof(zeroRank)), C_ERR);
    const unsigned char moreThanK[] = {HDR, 1, 3, 4, 0, 4};
    cr_assert_eq(decHll(moreThanK, sizeof(moreThanK)), C_ERR);
#undef HDR
    /* k registers one apart: 2 + 2k bytes sparse, so 6143 is sparse (12288,
     * as long as dense: sparse on a tie) and 6144 is dense */
    for (long k = 6142; k <= 6145; k++) {
        uint8_t *regs = zcalloc(HLL_REGISTERS);
        for (long i = 0; i < k; i++) regs[2 * i] = (uint8_t)(1 + i % HLL_MAX_RANK);
        hll h, d;
        hllInit(&h), hllInit(&d);
        cr_assert_eq(hllDeltaRaise(&d, &h, NULL, 1, 5, regs), 1);
        buf e;
        bufInit(&e);
        hllEncode(&d, &e);
        /* fmt, n, actor (8), epoch, seq: the kind is byte 12 */
        cr_assert_eq(e.ptr[12], k <= 6143 ? 0 : 1, "k %ld", k);
        cr_assert_eq(hllDecode(&h, e.ptr, e.len), C_OK, "k %ld", k);
        cr_assert(hllEqual(&h, &d), "k %ld", k);
        bufFree(&e);
        zfree(regs);
        hllFree(&h), hllFree(&d);
    }
}
