/* test_set.c -- sets as add-wins observed-remove sets stored per element:
 * a keymeta record (types/keymeta.h) plus one field state per member
 * (types/field.h), under random concurrent operations.
 *
 * What is proven, over seeded random runs (3 replicas, SADD, SREM, SPOP,
 * DEL, EXPIRE, PERSIST and expiry firing, deltas delivered late, out of
 * order, duplicated, and whole states exchanged as anti-entropy does):
 *   - merge is a join: commutative, associative and idempotent on every
 *     pair and triple drawn from the deltas and replica states of a run,
 *     and every order of merging 5 of them (all 120) gives the same bytes;
 *   - a delta merged into the coordinator's state does what the command
 *     does on one Redis (the set read before and after, and the TTL);
 *   - replicas that have received everything are byte-for-byte equal;
 *   - what they read is what an independent model computes from the
 *     operation history alone: an add is gone exactly when a remove of its
 *     member saw it (or a later add of that member by the same actor), a
 *     DEL or a creation saw it (or a later write by the same actor), or an
 *     expiry that passed covers its time;
 * and, directed: a concurrent add survives a remove that did not see it, a
 * remove removes what it saw, DEL keeps what was added concurrently,
 * expiry keeps what was added after it, and the encodings reject every
 * truncation and corruption. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "typesim.h"

#define NREP 3
#define NMEM 5
#define MAXOPS 96

static const uint64_t actors[NREP] = {0xA1A1A1A1A1A1A1A1ULL, 0x0000000000000B02ULL,
                                      0xC3C3C3C3C3C3C3C3ULL};
static const char *members[NMEM] = {"a", "b", "c", "d", "e"};

/* ------------------------------------------------------------- model */

enum { OP_SADD, OP_SREM, OP_DEL, OP_EXPIRE, OP_PERSIST, OP_FIRE };

typedef struct seenset {
    uint64_t w[2]; /* op ids 0..127 */
} seenset;

static void seenAdd(seenset *s, int id) { s->w[id / 64] |= 1ULL << (id % 64); }
static int seenHas(const seenset *s, int id) { return (s->w[id / 64] >> (id % 64)) & 1; }
static void seenUnion(seenset *d, const seenset *s) {
    d->w[0] |= s->w[0];
    d->w[1] |= s->w[1];
}

typedef struct op {
    int kind;
    int rep;
    int mem;          /* SADD, SREM */
    uint64_t actor, seq;
    int create;       /* SADD that found the key absent: also a DEL */
    int64_t at;       /* EXPIRE */
    long long now;    /* when it ran */
    seenset seen;     /* the ops whose effects its coordinator held */
} op;

typedef struct sim {
    rng r;
    simClock clk;
    coll rep[NREP];
    seenset seen[NREP];
    op ops[MAXOPS];
    coll delta[MAXOPS];
    int nops;
    int pending[MAXOPS][NREP]; /* delta i not yet delivered to replica j */
    int checked;               /* sequential checks made */
} sim;

static void removal(const coll *c, long long now, causalRemoval *kr) {
    keymetaRemoval(&c->meta, now, kr);
}

static int liveMask(const coll *c, long long now) {
    causalRemoval kr;
    removal(c, now, &kr);
    int m = 0;
    for (int i = 0; i < NMEM; i++) {
        field *f = collFind(c, members[i]);
        if (f && fieldLive(f, &kr)) m |= 1 << i;
    }
    return m;
}

/* The expiry register an op's coordinator saw, from the history alone: the
 * register write with the largest stamp among the ops it held. */
static int64_t modelRegister(const sim *s, const seenset *seen) {
    causalStamp best = {0, 0};
    int64_t at = 0;
    for (int i = 0; i < s->nops; i++) {
        const op *o = &s->ops[i];
        if (!seenHas(seen, i)) continue;
        int writes = o->kind == OP_EXPIRE || o->kind == OP_PERSIST || o->kind == OP_DEL ||
                     (o->kind == OP_SADD && o->create);
        if (!writes) continue;
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

/* Is the add (actor a, dot s) of member m removed, by the history alone? */
static int modelRemoved(const sim *s, int addId, uint64_t floor) {
    const op *add = &s->ops[addId];
    if (add->seq <= floor) return 1;
    for (int i = 0; i < s->nops; i++) {
        const op *rm = &s->ops[i];
        int isDel = rm->kind == OP_DEL || (rm->kind == OP_SADD && rm->create);
        int isRem = rm->kind == OP_SREM && rm->mem == add->mem;
        if (!isDel && !isRem) continue;
        for (int j = 0; j < s->nops; j++) {
            const op *w = &s->ops[j];
            if (!seenHas(&rm->seen, j) || w->kind != OP_SADD || w->actor != add->actor) continue;
            if (isRem && w->mem != add->mem) continue;
            if (w->seq >= add->seq) return 1;
        }
    }
    return 0;
}

static int modelLive(const sim *s, long long now) {
    seenset all = {{0, 0}};
    for (int i = 0; i < s->nops; i++) seenAdd(&all, i);
    uint64_t floor = foldOf(modelRegister(s, &all), now);
    for (int i = 0; i < s->nops; i++) { /* every fold a coordinator or replica made */
        const op *o = &s->ops[i];
        if (o->kind == OP_SREM) continue;
        uint64_t f = foldOf(modelRegister(s, &o->seen), o->now);
        if (o->kind == OP_SADD && !o->create) f = 0; /* a plain add folds nothing */
        if (f > floor) floor = f;
    }
    int m = 0;
    for (int i = 0; i < s->nops; i++)
        if (s->ops[i].kind == OP_SADD && !modelRemoved(s, i, floor)) m |= 1 << s->ops[i].mem;
    return m;
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

/* Runs one random op at a random replica: makes its delta from the
 * replica's state, checks it against what Redis would do, applies it
 * locally and queues it for the others. */
static void simOp(sim *s, int withExpiry) {
    int p = rngInt(&s->r, NREP);
    coll *c = &s->rep[p];
    op *o = &s->ops[s->nops];
    coll *d = &s->delta[s->nops];
    collInit(d);
    int roll = rngInt(&s->r, 100);
    o->rep = p;
    o->actor = actors[p];
    o->seq = simDot(&s->clk);
    o->now = s->clk.now_ms;
    o->seen = s->seen[p];
    o->mem = rngInt(&s->r, NMEM);
    long long now = s->clk.now_ms;
    int before = liveMask(c, now);
    long long ttlBefore = keymetaTTL(&c->meta, now);
    int expect = before;
    field *obs = collGet(c, members[o->mem]);
    if (roll < 45) {
        o->kind = OP_SADD;
        o->create = before == 0;
        if (o->create)
            keymetaDeltaCreate(&d->meta, &c->meta, now, KT_SET, o->actor, o->seq);
        else
            keymetaDeltaWrite(&d->meta, KT_SET, o->actor, o->seq);
        fieldDeltaAdd(collGet(d, members[o->mem]), o->actor, o->seq);
        expect |= 1 << o->mem;
    } else if (roll < 75) {
        /* SREM, or SPOP of a live member (the same delta) */
        o->kind = OP_SREM;
        if (before && rngChance(&s->r, 30)) {
            do o->mem = rngInt(&s->r, NMEM);
            while (!(before >> o->mem & 1));
            obs = collGet(c, members[o->mem]);
        }
        fieldDeltaRemove(collGet(d, members[o->mem]), obs);
        expect &= ~(1 << o->mem);
    } else if (roll < 83) {
        o->kind = OP_DEL;
        keymetaDeltaDel(&d->meta, &c->meta, now, o->actor, o->seq);
        expect = 0;
    } else if (withExpiry && roll < 91) {
        o->kind = OP_EXPIRE;
        o->at = now + 1 + rngInt(&s->r, 12);
        keymetaDeltaExpire(&d->meta, &c->meta, now, o->actor, o->seq, o->at);
    } else if (withExpiry && roll < 95) {
        o->kind = OP_PERSIST;
        keymetaDeltaExpire(&d->meta, &c->meta, now, o->actor, o->seq, 0);
    } else if (withExpiry) {
        o->kind = OP_FIRE; /* a replica's expiry cycle */
        keymetaDeltaFire(&d->meta, &c->meta, now);
    } else {
        o->kind = OP_DEL;
        keymetaDeltaDel(&d->meta, &c->meta, now, o->actor, o->seq);
        expect = 0;
    }
    collMerge(c, d);
    int id = s->nops++;
    seenAdd(&s->seen[p], id);
    for (int j = 0; j < NREP; j++) s->pending[id][j] = j != p;

    /* the delta did exactly what the command does on one Redis */
    int after = liveMask(c, now);
    long long ttl = keymetaTTL(&c->meta, now);
    cr_assert_eq(after, expect, "op %d kind %d: set %x -> %x, expected %x", id, o->kind, before,
                 after, expect);
    if (o->kind == OP_EXPIRE) cr_assert_eq(ttl, o->at - now);
    else if (o->kind == OP_PERSIST || o->kind == OP_DEL || (o->kind == OP_SADD && o->create))
        cr_assert_eq(ttl, -1);
    else cr_assert_eq(ttl, ttlBefore);
    s->checked++;
}

static void deliver(sim *s, int id, int to) {
    collMerge(&s->rep[to], &s->delta[id]);
    seenAdd(&s->seen[to], id);
}

static void simStep(sim *s) {
    int roll = rngInt(&s->r, 100);
    if (roll < 50 && s->nops < MAXOPS) {
        simOp(s, 1);
    } else if (roll < 90 && s->nops) {
        int id = rngInt(&s->r, s->nops), to = rngInt(&s->r, NREP);
        if (s->pending[id][to] || rngChance(&s->r, 10)) { /* sometimes twice */
            deliver(s, id, to);
            s->pending[id][to] = 0;
        }
    } else {
        int a = rngInt(&s->r, NREP), b = rngInt(&s->r, NREP); /* anti-entropy */
        collMerge(&s->rep[a], &s->rep[b]);
        seenUnion(&s->seen[a], &s->seen[b]);
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

#define POOL 48

typedef struct pool {
    coll c[POOL];
    int n;
} pool;

static void poolAdd(pool *p, const coll *c) {
    if (p->n == POOL) return;
    collInit(&p->c[p->n]);
    collCopy(&p->c[p->n], c);
    p->n++;
}

static void poolFree(pool *p) {
    for (int i = 0; i < p->n; i++) collFree(&p->c[i]);
}

static void merged(coll *out, const coll *a, const coll *b) {
    collCopy(out, a);
    collMerge(out, b);
}

static int checkLaws(pool *p, rng *r, int rounds) {
    int cases = 0;
    coll ab, ba, abc, bc, a_bc, aa;
    collInit(&ab);
    collInit(&ba);
    collInit(&abc);
    collInit(&bc);
    collInit(&a_bc);
    collInit(&aa);
    for (int k = 0; k < rounds; k++) {
        const coll *a = &p->c[rngInt(r, p->n)], *b = &p->c[rngInt(r, p->n)],
                   *c = &p->c[rngInt(r, p->n)];
        merged(&ab, a, b);
        merged(&ba, b, a);
        cr_assert(collSame(&ab, &ba), "merge is not commutative");
        merged(&abc, &ab, c);
        merged(&bc, b, c);
        merged(&a_bc, a, &bc);
        cr_assert(collSame(&abc, &a_bc), "merge is not associative");
        merged(&aa, a, a);
        cr_assert(collSame(&aa, a), "merge is not idempotent");
        cr_assert_eq(collMerge(&aa, a), 0, "merging a state into itself reports a change");
        cases += 3;
    }
    collFree(&ab);
    collFree(&ba);
    collFree(&abc);
    collFree(&bc);
    collFree(&a_bc);
    collFree(&aa);
    return cases;
}

static int checkPermutations(pool *p, rng *r) {
    int idx[5], perm[5] = {0, 1, 2, 3, 4}, orders = 0;
    for (int i = 0; i < 5; i++) idx[i] = rngInt(r, p->n);
    coll first, cur;
    collInit(&first);
    collInit(&cur);
    for (int i = 0; i < 5; i++) collMerge(&first, &p->c[idx[i]]);
    do {
        collFree(&cur);
        collInit(&cur);
        for (int i = 0; i < 5; i++) collMerge(&cur, &p->c[idx[perm[i]]]);
        cr_assert(collSame(&cur, &first), "two merge orders differ");
        orders++;
    } while (nextPerm(perm, 5));
    collFree(&first);
    collFree(&cur);
    return orders;
}

Test(set, random_runs_are_joins_match_redis_converge_and_match_the_model) {
    int runs = 1000, lawCases = 0, orders = 0, seqChecks = 0, ops = 0;
    for (int seed = 1; seed <= runs; seed++) {
        sim *s = zcalloc(sizeof(sim));
        simInit(s, (uint64_t)seed);
        pool p = {.n = 0};
        int steps = 40 + rngInt(&s->r, 100);
        for (int i = 0; i < steps; i++) {
            simStep(s);
            if (rngChance(&s->r, 15)) poolAdd(&p, &s->rep[rngInt(&s->r, NREP)]);
        }
        for (int i = 0; i < s->nops && p.n < POOL; i++) poolAdd(&p, &s->delta[i]);
        if (p.n >= 2) {
            lawCases += checkLaws(&p, &s->r, 40);
            orders += checkPermutations(&p, &s->r);
        }
        simDeliverAll(s);
        /* everything delivered: every replica holds the same bytes */
        for (int j = 1; j < NREP; j++)
            cr_assert(collSame(&s->rep[0], &s->rep[j]), "seed %d: replicas differ", seed);
        /* and reads what the history says, now and later (expiries pass) */
        for (int dt = 0; dt <= 30; dt += 15) {
            long long now = s->clk.now_ms + dt;
            int got = liveMask(&s->rep[0], now), want = modelLive(s, now);
            cr_assert_eq(got, want, "seed %d at +%d ms: members %x, the model says %x", seed, dt,
                         got, want);
        }
        seqChecks += s->checked;
        ops += s->nops;
        poolFree(&p);
        simFree(s);
        zfree(s);
    }
    cr_log_info("set: %d runs, %d ops (each checked against Redis), %d law cases, %d merge orders",
                runs, ops, lawCases, orders);
    fprintf(stderr, "set: %d runs, %d ops checked against Redis, %d law cases, %d merge orders\n",
            runs, ops, lawCases, orders);
    cr_assert_gt(lawCases, 10000);
    cr_assert_gt(seqChecks, 5000);
}

/* ---------------------------------------------------------- directed */

#define A actors[0]
#define B actors[1]

static int present(const coll *c, const char *m, long long now) {
    causalRemoval kr;
    keymetaRemoval(&c->meta, now, &kr);
    field *f = collFind(c, m);
    return f && fieldLive(f, &kr);
}

static void sadd(coll *c, coll *delta, const char *m, uint64_t actor, uint64_t seq) {
    collFree(delta);
    collInit(delta);
    keymetaDeltaWrite(&delta->meta, KT_SET, actor, seq);
    fieldDeltaAdd(collGet(delta, m), actor, seq);
    collMerge(c, delta);
}

static void srem(coll *c, coll *delta, const char *m) {
    collFree(delta);
    collInit(delta);
    fieldDeltaRemove(collGet(delta, m), collGet(c, m));
    collMerge(c, delta);
}

Test(set, a_concurrent_add_survives_a_remove_that_did_not_see_it) {
    coll a, b, d1, d2;
    collInit(&a);
    collInit(&b);
    collInit(&d1);
    collInit(&d2);
    sadd(&a, &d1, "x", A, 100);
    collMerge(&b, &d1);           /* b saw A's first add */
    sadd(&a, &d2, "x", A, 200);   /* A adds x again ... */
    srem(&b, &d1, "x");           /* ... while B removes the x it saw */
    cr_assert(!present(&b, "x", 0));
    collMerge(&a, &d1);
    collMerge(&b, &d2);
    cr_assert(present(&a, "x", 0), "the add B did not see survives");
    cr_assert(collSame(&a, &b));
    /* a remove that saw it removes it */
    srem(&a, &d1, "x");
    collMerge(&b, &d1);
    cr_assert(!present(&a, "x", 0) && !present(&b, "x", 0));
    cr_assert(collSame(&a, &b));
    collFree(&a);
    collFree(&b);
    collFree(&d1);
    collFree(&d2);
}

Test(set, a_remove_removes_what_it_saw_from_every_actor_and_nothing_else) {
    coll a, b, d1, d2, d3;
    collInit(&a);
    collInit(&b);
    collInit(&d1);
    collInit(&d2);
    collInit(&d3);
    sadd(&a, &d1, "x", A, 100);
    sadd(&b, &d2, "x", B, 101);
    collMerge(&a, &d2);
    collMerge(&b, &d1);          /* both adds seen everywhere */
    srem(&a, &d3, "x");
    collMerge(&b, &d3);
    cr_assert(!present(&a, "x", 0) && !present(&b, "x", 0));
    /* late duplicates of the adds change nothing */
    collMerge(&a, &d1);
    collMerge(&a, &d2);
    cr_assert(!present(&a, "x", 0));
    cr_assert(collSame(&a, &b));
    collFree(&a);
    collFree(&b);
    collFree(&d1);
    collFree(&d2);
    collFree(&d3);
}

Test(set, del_removes_what_it_saw_and_keeps_concurrent_adds) {
    coll a, b, d1, d2, d3, d4;
    collInit(&a);
    collInit(&b);
    collInit(&d1);
    collInit(&d2);
    collInit(&d3);
    collInit(&d4);
    sadd(&a, &d1, "x", A, 100);
    sadd(&a, &d2, "y", A, 110);
    collMerge(&b, &d1);
    collMerge(&b, &d2);
    /* B deletes the key; concurrently A adds z and re-adds x */
    keymetaDeltaDel(&d3.meta, &b.meta, 0, B, 120);
    collMerge(&b, &d3);
    cr_assert(!present(&b, "x", 0) && !present(&b, "y", 0));
    sadd(&a, &d4, "z", A, 115);
    collMerge(&b, &d4);
    sadd(&a, &d4, "x", A, 116);
    collMerge(&b, &d4);
    collMerge(&a, &d3);
    cr_assert(collSame(&a, &b));
    cr_assert(present(&a, "z", 0) && present(&a, "x", 0) && !present(&a, "y", 0));
    collFree(&a);
    collFree(&b);
    collFree(&d1);
    collFree(&d2);
    collFree(&d3);
    collFree(&d4);
}

Test(set, expiry_removes_what_was_there_at_its_time_on_every_replica) {
    long long t0 = 1700000000000LL;
    uint64_t s1 = hlcFromMs((uint64_t)t0);
    coll a, b, d, e;
    collInit(&a);
    collInit(&b);
    collInit(&d);
    collInit(&e);
    sadd(&a, &d, "x", A, s1);
    collMerge(&b, &d);
    keymetaDeltaExpire(&e.meta, &a.meta, t0, A, s1 + 1, t0 + 10); /* EXPIRE k 10 ms */
    collMerge(&a, &e);
    collMerge(&b, &e);
    cr_assert_eq(keymetaTTL(&a.meta, t0 + 4), 6);
    cr_assert(present(&a, "x", t0 + 10), "alive at its expiry time, as in Redis");
    cr_assert(!present(&a, "x", t0 + 11) && !present(&b, "x", t0 + 11));
    cr_assert_eq(keymetaTTL(&a.meta, t0 + 11), -1);
    /* B adds y after the expiry: it stays, whether or not A fired it */
    sadd(&b, &d, "y", B, hlcFromMs((uint64_t)t0 + 12));
    cr_assert(keymetaDeltaFire(&e.meta, &a.meta, t0 + 20));
    collMerge(&a, &e);
    collMerge(&a, &d);
    collMerge(&b, &e);
    cr_assert(collSame(&a, &b));
    cr_assert(present(&a, "y", t0 + 30) && !present(&a, "x", t0 + 30));
    cr_assert_eq(keymetaTTL(&a.meta, t0 + 30), -1, "what is left has no TTL");
    /* firing is a pure function of the register: twice is once */
    cr_assert(!keymetaDeltaFire(&e.meta, &a.meta, t0 + 40));
    collFree(&a);
    collFree(&b);
    collFree(&d);
    collFree(&e);
}

Test(set, a_persist_made_before_the_expiry_time_saves_the_key) {
    long long t0 = 1700000000000LL;
    uint64_t s1 = hlcFromMs((uint64_t)t0);
    coll c, d, p;
    collInit(&c);
    collInit(&d);
    collInit(&p);
    sadd(&c, &d, "x", A, s1);
    keymetaDeltaExpire(&p.meta, &c.meta, t0, A, s1 + 1, t0 + 10);
    collMerge(&c, &p);
    keymetaDeltaExpire(&p.meta, &c.meta, t0 + 5, B, hlcFromMs((uint64_t)t0 + 5), 0);
    collMerge(&c, &p);
    cr_assert(present(&c, "x", t0 + 100));
    cr_assert_eq(keymetaTTL(&c.meta, t0 + 100), -1);
    collFree(&c);
    collFree(&d);
    collFree(&p);
}

Test(set, elements_merge_without_their_metadata) {
    /* a storage merge operand sees one element's key: field merges alone
     * are joins (the random runs prove it on whole collections; here a
     * remove delta reaches an element before the add it removes) */
    field add, rem, x1, x2;
    fieldInit(&add);
    fieldInit(&rem);
    fieldInit(&x1);
    fieldInit(&x2);
    fieldDeltaAdd(&add, A, 50);
    fieldCopy(&x1, &add);
    fieldDeltaRemove(&rem, &x1);
    fieldMerge(&x2, &rem);
    fieldMerge(&x2, &add);
    fieldMerge(&x1, &rem);
    cr_assert(fieldEqual(&x1, &x2));
    cr_assert(!fieldLive(&x1, NULL));
    causalRemoval none = {NULL, 0};
    cr_assert(fieldDroppable(&x1, &(causalRemoval){NULL, 50}), "the key's removal covers it all");
    cr_assert(!fieldDroppable(&x1, &none), "its context still removes a late add");
    fieldFree(&add);
    fieldFree(&rem);
    fieldFree(&x1);
    fieldFree(&x2);
}

/* -------------------------------------------------------- encodings */

static void checkDecoderRejectsDamage(const buf *enc, int (*dec)(const buf *)) {
    for (size_t n = 0; n < enc->len; n++) {
        buf t;
        bufInit(&t);
        bufAppend(&t, enc->ptr, n);
        cr_assert_eq(dec(&t), C_ERR, "a %zu-byte truncation of %zu decoded", n, enc->len);
        bufFree(&t);
    }
    buf t;
    bufInit(&t);
    bufAppend(&t, enc->ptr, enc->len);
    bufAppend(&t, "", 1);
    cr_assert_eq(dec(&t), C_ERR, "trailing bytes accepted");
    for (size_t i = 0; i < enc->len; i++) /* every one-bit flip: decoded or not, no crash */
        for (int bit = 0; bit < 8; bit++) {
            t.ptr[i] ^= (char)(1 << bit);
            t.len = enc->len;
            dec(&t);
            t.ptr[i] ^= (char)(1 << bit);
        }
    bufFree(&t);
}

static int decField(const buf *b) {
    field f;
    fieldInit(&f);
    char *copy = malloc(b->len ? b->len : 1);
    memcpy(copy, b->ptr, b->len);
    int rc = fieldDecode(&f, copy, b->len);
    if (rc == C_OK) { /* canonical: it encodes back to the input */
        buf e;
        bufInit(&e);
        fieldEncode(&f, &e);
        cr_assert(e.len == b->len && !memcmp(e.ptr, b->ptr, e.len));
        bufFree(&e);
    }
    free(copy);
    fieldFree(&f);
    return rc;
}

static int decMeta(const buf *b) {
    keymeta m;
    keymetaInit(&m);
    char *copy = malloc(b->len ? b->len : 1);
    memcpy(copy, b->ptr, b->len);
    int rc = keymetaDecode(&m, copy, b->len);
    if (rc == C_OK) {
        buf e;
        bufInit(&e);
        keymetaEncode(&m, &e);
        cr_assert(e.len == b->len && !memcmp(e.ptr, b->ptr, e.len));
        bufFree(&e);
    }
    free(copy);
    keymetaFree(&m);
    return rc;
}

Test(set, encodings_round_trip_and_reject_damage) {
    sim *s = zcalloc(sizeof(sim));
    simInit(s, 4242);
    for (int i = 0; i < 120; i++) simStep(s);
    int fields = 0;
    buf e;
    bufInit(&e);
    for (int j = 0; j < NREP; j++) {
        coll *c = &s->rep[j];
        for (int i = 0; i < c->n; i++) {
            bufClear(&e);
            fieldEncode(&c->f[i], &e);
            field f;
            fieldInit(&f);
            cr_assert_eq(fieldDecode(&f, e.ptr, e.len), C_OK);
            cr_assert(fieldEqual(&f, &c->f[i]));
            fieldFree(&f);
            if (j == 0) checkDecoderRejectsDamage(&e, decField);
            fields++;
        }
        bufClear(&e);
        keymetaEncode(&c->meta, &e);
        keymeta m;
        keymetaInit(&m);
        cr_assert_eq(keymetaDecode(&m, e.ptr, e.len), C_OK);
        cr_assert(keymetaEqual(&m, &c->meta));
        keymetaFree(&m);
        checkDecoderRejectsDamage(&e, decMeta);
    }
    cr_assert_gt(fields, 3);
    /* non-canonical forms of valid states are refused */
    unsigned char overlong[] = {1, 1, 0x81, 0x00}; /* dots count 1 as two varint bytes */
    field f;
    fieldInit(&f);
    cr_assert_eq(fieldDecode(&f, overlong, sizeof(overlong)), C_ERR);
    unsigned char emptyDots[] = {1, 1, 0}; /* the dots flag with no dots */
    cr_assert_eq(fieldDecode(&f, emptyDots, sizeof(emptyDots)), C_ERR);
    unsigned char empty[] = {1, 0};
    cr_assert_eq(fieldDecode(&f, empty, sizeof(empty)), C_OK);
    unsigned char v2[] = {2, 0};
    cr_assert_eq(fieldDecode(&f, v2, sizeof(v2)), C_ERR, "an unknown format version");
    fieldFree(&f);
    bufFree(&e);
    simFree(s);
    zfree(s);
}
