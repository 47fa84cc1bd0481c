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

#include "types/zset.h"
#include "typesim.h"

#define NREP 3
#define NFLD 4
#define MAXOPS 100

static const uint64_t actors[NREP] = {0xA1A1A1A1A1A1A1A1ULL, 0x0000000000000B02ULL,
                                      0xC3C3C3C3C3C3C3C3ULL};
static const char *fields[NFLD] = {"m", "n", "o", "p"};
static const double values[] = {10, -3, 1.5, 0.25, 7, 0};
#define NVAL 6

enum { OP_HSET, OP_HDEL, OP_INCR, OP_INCRF, OP_DEL, OP_EXPIRE, OP_PERSIST, OP_FIRE };
/* here OP_HSET is ZADD, OP_HDEL ZREM, OP_INCRF ZINCRBY (OP_INCR unused) */

typedef struct seenset {
    uint64_t w[2];
} seenset;
static void seenAdd(seenset *s, int id) { s->w[id / 64] |= 1ULL << (id % 64); }
static int seenHas(const seenset *s, int id) { return (s->w[id / 64] >> (id % 64)) & 1; }

typedef struct op {
    int kind, rep, fld, val;
    long long inc;     /* HINCRBY */
    long double finc;  /* HINCRBYFLOAT */
    uint64_t actor, seq;
    int create;        /* a write that found the key absent */
    int applied;       /* the command succeeded (errors make no delta) */
    int64_t at;
    long long now;
    seenset seen;
} op;

typedef struct sim {
    rng r;
    simClock clk;
    coll rep[NREP];
    seenset seen[NREP];
    op ops[MAXOPS];
    coll delta[MAXOPS];
    int nops;
    int pending[MAXOPS][NREP];
    int checked;
} sim;

/* ------------------------------------------------------ reading a hash */

typedef struct view {
    int present[NFLD];
    double score[NFLD];
} view;

static void readView(const coll *c, long long now, view *v) {
    causalRemoval kr;
    keymetaRemoval(&c->meta, now, &kr);
    for (int i = 0; i < NFLD; i++) {
        field *f = collFind(c, fields[i]);
        v->score[i] = 0;
        v->present[i] = f && zsetScore(f, &kr, &v->score[i]);
    }
}

static int viewEmpty(const view *v) {
    for (int i = 0; i < NFLD; i++)
        if (v->present[i]) return 0;
    return 1;
}

static int viewEqual(const view *a, const view *b) {
    for (int i = 0; i < NFLD; i++) {
        if (a->present[i] != b->present[i]) return 0;
        if (a->present[i] && a->score[i] != b->score[i]) return 0;
    }
    return 1;
}

/* ------------------------------------------------------------- model */

static int isWrite(const op *o) {
    return o->applied && (o->kind == OP_HSET || o->kind == OP_INCR || o->kind == OP_INCRF);
}
static int isIncr(const op *o) { return o->applied && (o->kind == OP_INCR || o->kind == OP_INCRF); }
static int isDel(const op *o) { return o->applied && (o->kind == OP_DEL || (isWrite(o) && o->create)); }
static int isRegWrite(const op *o) {
    return o->applied && (o->kind == OP_EXPIRE || o->kind == OP_PERSIST || isDel(o));
}

static int64_t modelRegister(const sim *s, const seenset *seen) {
    causalStamp best = {0, 0};
    int64_t at = 0;
    for (int i = 0; i < s->nops; i++) {
        const op *o = &s->ops[i];
        if (!seenHas(seen, i) || !isRegWrite(o)) continue;
        causalStamp st = {o->seq, o->actor};
        if (causalStampCmp(st, best) > 0) {
            best = st;
            at = o->kind == OP_EXPIRE ? o->at : 0;
        }
    }
    return at;
}

static uint64_t foldOf(int64_t at, long long now) {
    return at > 0 && now > at ? causalFloorOfMs(at) : 0;
}

/* The floor a state holding exactly `seen` reads with at time now. */
static uint64_t modelFloor(const sim *s, const seenset *seen, long long now) {
    uint64_t floor = foldOf(modelRegister(s, seen), now);
    for (int i = 0; i < s->nops; i++) {
        const op *o = &s->ops[i];
        if (!seenHas(seen, i) || !o->applied) continue;
        int folds = isDel(o) || o->kind == OP_EXPIRE || o->kind == OP_PERSIST || o->kind == OP_FIRE;
        if (!folds) continue;
        uint64_t f = foldOf(modelRegister(s, &o->seen), o->now);
        if (f > floor) floor = f;
    }
    return floor;
}

static int modelCovered(const sim *s, const seenset *seen, long long now, uint64_t actor,
                        uint64_t seq) {
    if (seq <= modelFloor(s, seen, now)) return 1;
    for (int i = 0; i < s->nops; i++) {
        const op *d = &s->ops[i];
        if (!seenHas(seen, i) || !isDel(d)) continue;
        for (int j = 0; j < s->nops; j++) {
            const op *w = &s->ops[j];
            if (seenHas(&d->seen, j) && isWrite(w) && w->actor == actor && w->seq >= seq) return 1;
        }
    }
    return 0;
}

/* Largest seq of actor's increments of field f among seen (0: none). */
static uint64_t lastIncr(const sim *s, const seenset *seen, int f, uint64_t actor) {
    uint64_t m = 0;
    for (int i = 0; i < s->nops; i++) {
        const op *o = &s->ops[i];
        if (seenHas(seen, i) && isIncr(o) && o->fld == f && o->actor == actor && o->seq > m) m = o->seq;
    }
    return m;
}

static int isRestart(const sim *s, int id);

/* The baseline of actor's chain for f in a state holding exactly seen. */
static uint64_t modelBaseline(const sim *s, const seenset *seen, int f, uint64_t actor) {
    uint64_t b = 0;
    for (int i = 0; i < s->nops; i++) {
        const op *o = &s->ops[i];
        if (!seenHas(seen, i) || !o->applied || o->fld != f) continue;
        uint64_t x = 0;
        if (o->kind == OP_HSET || o->kind == OP_HDEL) x = lastIncr(s, &o->seen, f, actor);
        else if (isIncr(o) && o->actor == actor && isRestart(s, i)) x = lastIncr(s, &o->seen, f, actor);
        if (x > b) b = x;
    }
    return b;
}

/* An increment whose coordinator found its own chain removed with the key
 * restarts it: a baseline of what it saw. */
static int isRestart(const sim *s, int id) {
    const op *o = &s->ops[id];
    uint64_t e = lastIncr(s, &o->seen, o->fld, o->actor);
    if (!e || e <= modelBaseline(s, &o->seen, o->fld, o->actor)) return 0;
    return modelCovered(s, &o->seen, o->now, o->actor, e);
}

/* Removed by a remove of the field that saw it (or a later write of it by
 * the same actor): HSET and HDEL record what they saw. */
static int removedInField(const sim *s, const op *w) {
    for (int i = 0; i < s->nops; i++) {
        const op *r = &s->ops[i];
        if (!r->applied || r->fld != w->fld || (r->kind != OP_HSET && r->kind != OP_HDEL)) continue;
        for (int j = 0; j < s->nops; j++) {
            const op *x = &s->ops[j];
            if (seenHas(&r->seen, j) && isWrite(x) && x->fld == w->fld && x->actor == w->actor &&
                x->seq >= w->seq)
                return 1;
        }
    }
    return 0;
}

static void modelView(const sim *s, long long now, view *v) {
    seenset all = {{0, 0}};
    for (int i = 0; i < s->nops; i++) seenAdd(&all, i);
    for (int f = 0; f < NFLD; f++) {
        int present = 0;
        const op *base = NULL;
        for (int i = 0; i < s->nops; i++) {
            const op *w = &s->ops[i];
            if (!isWrite(w) || w->fld != f) continue;
            if (removedInField(s, w) || modelCovered(s, &all, now, w->actor, w->seq)) continue;
            present = 1;
            if (w->kind == OP_HSET && (!base || causalStampCmp((causalStamp){w->seq, w->actor},
                                                                (causalStamp){base->seq, base->actor}) > 0))
                base = w;
        }
        counterTotal t = {0, 0, 0};
        for (int a = 0; a < NREP; a++) {
            uint64_t e = lastIncr(s, &all, f, actors[a]);
            uint64_t b = modelBaseline(s, &all, f, actors[a]);
            if (!e || e <= b || modelCovered(s, &all, now, actors[a], e)) continue;
            t.live++;
            for (int i = 0; i < s->nops; i++) {
                const op *o = &s->ops[i];
                if (isIncr(o) && o->fld == f && o->actor == actors[a] && o->seq > b) {
                    t.isum += o->kind == OP_INCR ? o->inc : 0;
                    t.fsum += o->kind == OP_INCRF ? o->finc : 0;
                }
            }
        }
        v->present[f] = present;
        v->score[f] = 0;
        if (!present) continue;
        long double sc = base ? values[base->val] : 0;
        if (t.live) sc += (long double)t.isum + t.fsum;
        v->score[f] = (double)sc;
    }
}

/* -------------------------------------------- Redis, on one node */

/* What the command does to a sorted set on one Redis; NUMERR_ code. */
static int redisApply(view *v, const op *o, long long *ireply, char *freply) {
    int f = o->fld;
    (void)ireply;
    (void)freply;
    switch (o->kind) {
    case OP_HSET:
        v->present[f] = 1;
        v->score[f] = values[o->val];
        return NUMERR_OK;
    case OP_HDEL:
        v->present[f] = 0;
        return NUMERR_OK;
    case OP_INCRF: {
        double r = (v->present[f] ? v->score[f] : 0) + (double)o->finc;
        if (isnan(r)) return NUMERR_NANINF;
        v->present[f] = 1;
        v->score[f] = r;
        return NUMERR_OK;
    }
    case OP_DEL:
        for (int i = 0; i < NFLD; i++) v->present[i] = 0;
        return NUMERR_OK;
    default:
        return NUMERR_OK;
    }
}

/* ------------------------------------------------------------ running */

static void simInit(sim *s, uint64_t seed) {
    memset(s, 0, sizeof(*s));
    rngSeed(&s->r, seed);
    simClockInit(&s->clk, 1700000000000LL);
    for (int i = 0; i < NREP; i++) collInit(&s->rep[i]);
}

static void simFree(sim *s) {
    for (int i = 0; i < NREP; i++) collFree(&s->rep[i]);
    for (int i = 0; i < s->nops; i++) collFree(&s->delta[i]);
}

static void simOp(sim *s, int onlyIncr) {
    int p = rngInt(&s->r, NREP);
    coll *c = &s->rep[p];
    int id = s->nops;
    op *o = &s->ops[id];
    coll *d = &s->delta[id];
    collInit(d);
    long long now = s->clk.now_ms;
    o->rep = p;
    o->actor = actors[p];
    o->seq = simDot(&s->clk);
    o->now = now;
    o->seen = s->seen[p];
    o->fld = rngInt(&s->r, NFLD);
    o->val = rngInt(&s->r, NVAL);
    o->inc = rngInt(&s->r, 11) - 5;
    o->finc = (long double)(rngInt(&s->r, 17) - 8) / 4;
    int roll = onlyIncr ? 40 : rngInt(&s->r, 100);
    o->kind = roll < 25 ? OP_HSET : roll < 40 ? OP_HDEL : roll < 72 ? OP_INCRF
            : roll < 80 ? OP_DEL : roll < 88 ? OP_EXPIRE : roll < 93 ? OP_PERSIST : OP_FIRE;
    view before, after, want;
    readView(c, now, &before);
    want = before;
    long long ttlBefore = keymetaTTL(&c->meta, now);
    causalRemoval kr;
    keymetaRemoval(&c->meta, now, &kr);
    field *obs = collGet(c, fields[o->fld]);
    field *fd = collGet(d, fields[o->fld]);
    long long ireply = 0, wantI = 0;
    char freply[64] = "", wantF[64] = "";
    buf out;
    bufInit(&out);
    int wantRc = redisApply(&want, o, &wantI, wantF), rc = NUMERR_OK;
    o->create = viewEmpty(&before);
    switch (o->kind) {
    case OP_HSET: zsetDeltaAdd(fd, obs, o->actor, o->seq, values[o->val]); break;
    case OP_HDEL: zsetDeltaRem(fd, obs); break;
    case OP_INCR: break;
    case OP_INCRF: {
        double r = 0;
        rc = zsetDeltaIncr(fd, obs, &kr, o->actor, o->seq, (double)o->finc, &r);
        cr_assert(rc != NUMERR_OK || r == want.score[o->fld], "ZINCRBY replies %g, Redis %g", r,
                  want.score[o->fld]);
        break;
    }
    case OP_DEL: keymetaDeltaDel(&d->meta, &c->meta, now, o->actor, o->seq); break;
    case OP_EXPIRE:
        o->at = now + 1 + rngInt(&s->r, 12);
        keymetaDeltaExpire(&d->meta, &c->meta, now, o->actor, o->seq, o->at);
        break;
    case OP_PERSIST: keymetaDeltaExpire(&d->meta, &c->meta, now, o->actor, o->seq, 0); break;
    case OP_FIRE: keymetaDeltaFire(&d->meta, &c->meta, now); break;
    }
    bufFree(&out);
    cr_assert_eq(rc, wantRc, "op %d kind %d: error %d, Redis says %d", id, o->kind, rc, wantRc);
    o->applied = rc == NUMERR_OK;
    if (!o->applied) fieldClear(fd);
    if (isWrite(o)) {
        if (o->create) keymetaDeltaCreate(&d->meta, &c->meta, now, KT_ZSET, o->actor, o->seq);
        else keymetaDeltaWrite(&d->meta, KT_ZSET, o->actor, o->seq);
    }
    collMerge(c, d);
    s->nops++;
    seenAdd(&s->seen[p], id);
    for (int j = 0; j < NREP; j++) s->pending[id][j] = j != p;
    readView(c, now, &after);
    cr_assert(viewEqual(&after, &want), "op %d kind %d on member %d: reads %g (%d), Redis %g (%d)",
              id, o->kind, o->fld, after.score[o->fld], after.present[o->fld], want.score[o->fld],
              want.present[o->fld]);
    (void)ireply;
    (void)wantI;
    (void)freply;
    (void)wantF;
    long long ttl = keymetaTTL(&c->meta, now);
    if (o->kind == OP_EXPIRE) cr_assert_eq(ttl, o->at - now);
    else if (o->kind == OP_PERSIST || o->kind == OP_DEL || (isWrite(o) && o->create)) cr_assert_eq(ttl, -1);
    else cr_assert_eq(ttl, ttlBefore);
    s->checked++;
}

static void deliver(sim *s, int id, int to) {
    collMerge(&s->rep[to], &s->delta[id]);
    seenAdd(&s->seen[to], id);
}

static void simStep(sim *s, int onlyIncr) {
    int roll = rngInt(&s->r, 100);
    if (roll < 50 && s->nops < MAXOPS) {
        simOp(s, onlyIncr);
    } else if (roll < 90 && s->nops) {
        int id = rngInt(&s->r, s->nops), to = rngInt(&s->r, NREP);
        if (s->pending[id][to] || rngChance(&s->r, 10)) {
            deliver(s, id, to);
            s->pending[id][to] = 0;
        }
    } else {
        int a = rngInt(&s->r, NREP), b = rngInt(&s->r, NREP);
        collMerge(&s->rep[a], &s->rep[b]);
        s->seen[a].w[0] |= s->seen[b].w[0];
        s->seen[a].w[1] |= s->seen[b].w[1];
        for (int i = 0; i < s->nops; i++)
            if (!s->pending[i][b]) s->pending[i][a] = 0;
    }
    s->clk.now_ms += rngInt(&s->r, 3);
}

static void simDeliverAll(sim *s) {
    for (int i = 0; i < s->nops; i++)
        for (int j = 0; j < NREP; j++)
            if (s->pending[i][j]) {
                deliver(s, i, j);
                s->pending[i][j] = 0;
            }
}

/* ----------------------------------------------------------- the laws */

#define POOL 40

static void merged(coll *out, const coll *a, const coll *b) {
    collCopy(out, a);
    collMerge(out, b);
}

static int checkLaws(coll *pool, int n, rng *r, int rounds) {
    coll ab, ba, abc, bc, a_bc, aa;
    collInit(&ab);
    collInit(&ba);
    collInit(&abc);
    collInit(&bc);
    collInit(&a_bc);
    collInit(&aa);
    for (int k = 0; k < rounds; k++) {
        const coll *a = &pool[rngInt(r, n)], *b = &pool[rngInt(r, n)], *c = &pool[rngInt(r, n)];
        merged(&ab, a, b);
        merged(&ba, b, a);
        cr_assert(collSame(&ab, &ba), "merge is not commutative");
        merged(&abc, &ab, c);
        merged(&bc, b, c);
        merged(&a_bc, a, &bc);
        cr_assert(collSame(&abc, &a_bc), "merge is not associative");
        merged(&aa, a, a);
        cr_assert(collSame(&aa, a), "merge is not idempotent");
    }
    collFree(&ab);
    collFree(&ba);
    collFree(&abc);
    collFree(&bc);
    collFree(&a_bc);
    collFree(&aa);
    return 3 * rounds;
}

static int checkPermutations(coll *pool, int n, rng *r) {
    int idx[5], perm[5] = {0, 1, 2, 3, 4}, orders = 0;
    for (int i = 0; i < 5; i++) idx[i] = rngInt(r, n);
    coll first, cur;
    collInit(&first);
    collInit(&cur);
    for (int i = 0; i < 5; i++) collMerge(&first, &pool[idx[i]]);
    do {
        collFree(&cur);
        collInit(&cur);
        for (int i = 0; i < 5; i++) collMerge(&cur, &pool[idx[perm[i]]]);
        cr_assert(collSame(&cur, &first), "two merge orders differ");
        orders++;
    } while (nextPerm(perm, 5));
    collFree(&first);
    collFree(&cur);
    return orders;
}

Test(zset, random_runs_are_joins_match_redis_converge_and_match_the_model) {
    int runs = 600, lawCases = 0, orders = 0, ops = 0;
    for (int seed = 1; seed <= runs; seed++) {
        sim *s = zcalloc(sizeof(sim));
        simInit(s, (uint64_t)seed * 6151 + 17);
        coll *pool = zcalloc(sizeof(coll) * POOL);
        int np = 0;
        int steps = 40 + rngInt(&s->r, 120);
        for (int i = 0; i < steps; i++) {
            simStep(s, 0);
            if (np < POOL && rngChance(&s->r, 15)) {
                collInit(&pool[np]);
                collCopy(&pool[np++], &s->rep[rngInt(&s->r, NREP)]);
            }
        }
        for (int i = 0; i < s->nops && np < POOL; i++) {
            collInit(&pool[np]);
            collCopy(&pool[np++], &s->delta[i]);
        }
        if (np >= 2) {
            lawCases += checkLaws(pool, np, &s->r, 40);
            orders += checkPermutations(pool, np, &s->r);
        }
        simDeliverAll(s);
        for (int j = 1; j < NREP; j++)
            cr_assert(collSame(&s->rep[0], &s->rep[j]), "seed %d: replicas differ", seed);
        for (int dt = 0; dt <= 30; dt += 15) {
            view got, want;
            readView(&s->rep[0], s->clk.now_ms + dt, &got);
            modelView(s, s->clk.now_ms + dt, &want);
            for (int f = 0; f < NFLD; f++)
                cr_assert(got.present[f] == want.present[f] &&
                              (!got.present[f] || got.score[f] == want.score[f]),
                          "seed %d +%d ms member %s: %g (%d), the model says %g (%d)", seed, dt,
                          fields[f], got.score[f], got.present[f], want.score[f], want.present[f]);
        }
        ops += s->nops;
        for (int i = 0; i < np; i++) collFree(&pool[i]);
        zfree(pool);
        simFree(s);
        zfree(s);
    }
    fprintf(stderr, "zset: %d runs, %d ops checked against Redis, %d law cases, %d merge orders\n",
            runs, ops, lawCases, orders);
    cr_assert_gt(lawCases, 10000);
}

Test(zset, increments_add_up_whatever_the_order_and_duplication) {
    for (int seed = 1; seed <= 300; seed++) {
        sim *s = zcalloc(sizeof(sim));
        simInit(s, (uint64_t)seed * 104729);
        for (int i = 0; i < 150; i++) simStep(s, 1);
        simDeliverAll(s);
        for (int j = 1; j < NREP; j++) cr_assert(collSame(&s->rep[0], &s->rep[j]));
        view got;
        readView(&s->rep[0], s->clk.now_ms, &got);
        for (int f = 0; f < NFLD; f++) {
            long double sum = 0;
            int any = 0;
            for (int i = 0; i < s->nops; i++)
                if (s->ops[i].fld == f && s->ops[i].applied) any = 1, sum += s->ops[i].finc;
            cr_assert_eq(got.present[f], any);
            if (any) cr_assert_eq(got.score[f], (double)sum, "seed %d member %s", seed, fields[f]);
        }
        simFree(s);
        zfree(s);
    }
}

/* ---------------------------------------------------------- directed */

#define A actors[0]
#define B actors[1]

Test(zset, zrem_concurrent_with_zincrby_leaves_the_increment_as_redis_enterprise_does) {
    /* ZADD Z 4.1 x; sync; ZREM Z x || ZINCRBY Z 2.0 x; sync -> 2 */
    field a, b, d1, d2;
    fieldInit(&a);
    fieldInit(&b);
    fieldInit(&d1);
    fieldInit(&d2);
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
    fieldFree(&a);
    fieldFree(&b);
    fieldFree(&d1);
    fieldFree(&d2);
}

Test(zset, infinite_scores_are_registers_and_nan_is_refused) {
    field a, d;
    fieldInit(&a);
    fieldInit(&d);
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
    fieldFree(&a);
    fieldFree(&d);
}
