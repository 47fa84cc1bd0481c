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

#include "types/hash.h"
#include "typesim.h"

#define NREP 3
#define NFLD 4
#define MAXOPS 100

static const uint64_t actors[NREP] = {0xA1A1A1A1A1A1A1A1ULL, 0x0000000000000B02ULL,
                                      0xC3C3C3C3C3C3C3C3ULL};
static const char *fields[NFLD] = {"f", "g", "h", "i"};
static const char *values[] = {"10", "-3", "1.5", "abc", "7", "0"};
#define NVAL 6

enum { OP_HSET, OP_HDEL, OP_INCR, OP_INCRF, OP_DEL, OP_EXPIRE, OP_PERSIST, OP_FIRE };

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
    char text[NFLD][64];
} view;

static void readView(const coll *c, long long now, view *v) {
    causalRemoval kr;
    keymetaRemoval(&c->meta, now, &kr);
    buf b;
    bufInit(&b);
    for (int i = 0; i < NFLD; i++) {
        field *f = collFind(c, fields[i]);
        v->present[i] = f && hashFieldRead(f, &kr, &b) != NUM_ABSENT;
        snprintf(v->text[i], sizeof(v->text[i]), "%s", v->present[i] ? b.ptr : "");
    }
    bufFree(&b);
}

static int viewEmpty(const view *v) {
    for (int i = 0; i < NFLD; i++)
        if (v->present[i]) return 0;
    return 1;
}

static int viewEqual(const view *a, const view *b) {
    for (int i = 0; i < NFLD; i++) {
        if (a->present[i] != b->present[i]) return 0;
        if (a->present[i] && strcmp(a->text[i], b->text[i])) return 0;
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
        v->text[f][0] = '\0';
        if (!present) continue;
        buf out;
        bufInit(&out);
        const char *bv = base ? values[base->val] : NULL;
        if (numberRead(bv, bv ? strlen(bv) : 0, base != NULL, &t, &out) == NUM_ABSENT)
            bufAppendStr(&out, "0");
        snprintf(v->text[f], sizeof(v->text[f]), "%s", out.ptr);
        bufFree(&out);
    }
}

/* -------------------------------------------- Redis, on one node */

/* What the command does to a hash on one Redis; returns the NUMERR_ code. */
static int redisApply(view *v, const op *o, long long *ireply, char *freply) {
    int f = o->fld;
    switch (o->kind) {
    case OP_HSET:
        v->present[f] = 1;
        snprintf(v->text[f], sizeof(v->text[f]), "%s", values[o->val]);
        return NUMERR_OK;
    case OP_HDEL:
        v->present[f] = 0;
        return NUMERR_OK;
    case OP_INCR: {
        long long cur = 0;
        if (v->present[f] && !string2ll(v->text[f], strlen(v->text[f]), &cur)) return NUMERR_NOTINT;
        if (__builtin_add_overflow(cur, o->inc, ireply)) return NUMERR_OVERFLOW;
        v->present[f] = 1;
        snprintf(v->text[f], sizeof(v->text[f]), "%lld", *ireply);
        return NUMERR_OK;
    }
    case OP_INCRF: {
        long double cur = 0;
        if (v->present[f] && !string2ld(v->text[f], strlen(v->text[f]), &cur)) return NUMERR_NOTFLOAT;
        long double r = cur + o->finc;
        if (isnan(r) || isinf(r)) return NUMERR_NANINF;
        v->present[f] = 1;
        ld2string(v->text[f], sizeof(v->text[f]), r);
        strcpy(freply, v->text[f]);
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
    o->kind = roll < 25 ? OP_HSET : roll < 40 ? OP_HDEL : roll < 60 ? OP_INCR : roll < 72 ? OP_INCRF
            : roll < 80 ? OP_DEL : roll < 88 ? OP_EXPIRE : roll < 93 ? OP_PERSIST : OP_FIRE;
    if (onlyIncr && rngChance(&s->r, 30)) o->kind = OP_INCRF;
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
    case OP_HSET: hashDeltaSet(fd, obs, o->actor, o->seq, values[o->val], strlen(values[o->val])); break;
    case OP_HDEL: hashDeltaDel(fd, obs); break;
    case OP_INCR: rc = hashDeltaIncrBy(fd, obs, &kr, o->actor, o->seq, o->inc, &ireply); break;
    case OP_INCRF:
        rc = hashDeltaIncrByFloat(fd, obs, &kr, o->actor, o->seq, o->finc, &out);
        snprintf(freply, sizeof(freply), "%s", out.ptr);
        break;
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
        if (o->create) keymetaDeltaCreate(&d->meta, &c->meta, now, KT_HASH, o->actor, o->seq);
        else keymetaDeltaWrite(&d->meta, KT_HASH, o->actor, o->seq);
    }
    collMerge(c, d);
    s->nops++;
    seenAdd(&s->seen[p], id);
    for (int j = 0; j < NREP; j++) s->pending[id][j] = j != p;
    readView(c, now, &after);
    cr_assert(viewEqual(&after, &want), "op %d kind %d on field %d: reads \"%s\" (%d), Redis \"%s\" (%d)",
              id, o->kind, o->fld, after.text[o->fld], after.present[o->fld], want.text[o->fld],
              want.present[o->fld]);
    if (o->applied && o->kind == OP_INCR) cr_assert_eq(ireply, wantI);
    if (o->applied && o->kind == OP_INCRF) cr_assert_str_eq(freply, wantF);
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

Test(hash, random_runs_are_joins_match_redis_converge_and_match_the_model) {
    int runs = 600, lawCases = 0, orders = 0, ops = 0;
    for (int seed = 1; seed <= runs; seed++) {
        sim *s = zcalloc(sizeof(sim));
        simInit(s, (uint64_t)seed * 7919);
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
                              (!got.present[f] || !strcmp(got.text[f], want.text[f])),
                          "seed %d +%d ms field %s: reads \"%s\" (%d), the model says \"%s\" (%d)",
                          seed, dt, fields[f], got.text[f], got.present[f], want.text[f],
                          want.present[f]);
        }
        ops += s->nops;
        for (int i = 0; i < np; i++) collFree(&pool[i]);
        zfree(pool);
        simFree(s);
        zfree(s);
    }
    fprintf(stderr, "hash: %d runs, %d ops checked against Redis, %d law cases, %d merge orders\n",
            runs, ops, lawCases, orders);
    cr_assert_gt(lawCases, 10000);
}

Test(hash, increments_add_up_whatever_the_order_and_duplication) {
    int runs = 300;
    for (int seed = 1; seed <= runs; seed++) {
        sim *s = zcalloc(sizeof(sim));
        simInit(s, (uint64_t)seed * 104729);
        for (int i = 0; i < 150; i++) simStep(s, 1);
        simDeliverAll(s);
        for (int j = 1; j < NREP; j++) cr_assert(collSame(&s->rep[0], &s->rep[j]));
        view got;
        readView(&s->rep[0], s->clk.now_ms, &got);
        for (int f = 0; f < NFLD; f++) {
            long long isum = 0;
            long double fsum = 0;
            int any = 0, anyf = 0;
            for (int i = 0; i < s->nops; i++) {
                const op *o = &s->ops[i];
                if (o->fld != f || !o->applied) continue; /* refused as Redis refuses it */
                any = 1;
                if (o->kind == OP_INCR) isum += o->inc;
                else anyf = 1, fsum += o->finc;
            }
            cr_assert_eq(got.present[f], any);
            if (!any) continue;
            char want[64];
            if (!anyf || fsum == 0) snprintf(want, sizeof(want), "%lld", isum);
            else ld2string(want, sizeof(want), (long double)isum + fsum);
            cr_assert_str_eq(got.text[f], want, "seed %d field %s: %s vs %s", seed, fields[f], got.text[f], want);
        }
        simFree(s);
        zfree(s);
    }
}

/* ---------------------------------------------------------- directed */

#define A actors[0]
#define B actors[1]

static const char *hget(const field *f, const causalRemoval *kr, buf *b) {
    return hashFieldRead(f, kr, b) == NUM_ABSENT ? NULL : b->ptr;
}

Test(hash, hset_clears_the_increments_it_saw_and_keeps_the_concurrent_ones) {
    field a, b, d1, d2;
    fieldInit(&a);
    fieldInit(&b);
    fieldInit(&d1);
    fieldInit(&d2);
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
    fieldFree(&a);
    fieldFree(&b);
    fieldFree(&d1);
    fieldFree(&d2);
}

Test(hash, numbers_read_as_redis_writes_them) {
    field f, d;
    fieldInit(&f);
    fieldInit(&d);
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
    fieldFree(&f);
    fieldFree(&d);
}

Test(hash, concurrent_increments_past_64_bits_read_exactly) {
    field a, b, d1, d2;
    fieldInit(&a);
    fieldInit(&b);
    fieldInit(&d1);
    fieldInit(&d2);
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
    fieldFree(&a);
    fieldFree(&b);
    fieldFree(&d1);
    fieldFree(&d2);
}
