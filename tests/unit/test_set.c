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

#include "collsim.h"

#define NMEM 5
#define MAXOPS 96

static const char *members[NMEM] = {"a", "b", "c", "d", "e"};

/* The live members at now, as a bit mask. */
static int liveMask(const coll *c, long long now) {
    causalRemoval kr;
    keymetaRemoval(&c->meta, now, &kr);
    int m = 0;
    for (int i = 0; i < NMEM; i++) {
        field *f = collFind(c, members[i]);
        if (f && fieldLive(f, &kr)) m |= 1 << i;
    }
    return m;
}

/* The live members the model (collsim.h) computes from the history. */
static int modelLive(const csim *s, long long now) {
    int m = 0;
    for (int i = 0; i < NMEM; i++)
        if (csModelPresent(s, i, now, NULL)) m |= 1 << i;
    return m;
}

/* Runs one random op at a random replica (the network calls it): makes its
 * delta from the replica's state, checks it against what Redis would do,
 * applies it locally and queues it for the others. */
static void setOp(void *ctx) {
    csim *s = ctx;
    rng *r = &s->n.r;
    int p = rngInt(r, SIM_NREP);
    coll *c = &s->rep[p];
    int id = s->n.nops;
    csOp *o = &s->ops[id];
    coll *d = &s->delta[id];
    collInit(d);
    int roll = rngInt(r, 100);
    long long now = s->n.clk.now_ms;
    o->rep = p;
    o->actor = simActors[p];
    o->seq = simDot(&s->n.clk);
    o->now = now;
    o->seen = s->n.seen[p];
    o->fld = rngInt(r, NMEM);
    o->applied = 1;
    int before = liveMask(c, now);
    long long ttlBefore = keymetaTTL(&c->meta, now);
    int expect = before;
    field *obs = collGet(c, members[o->fld]);
    if (roll < 45) {
        o->kind = CS_ADD;
        o->create = before == 0;
        if (o->create)
            keymetaDeltaCreate(&d->meta, &c->meta, now, KT_SET, o->actor, o->seq);
        else
            keymetaDeltaWrite(&d->meta, KT_SET, o->actor, o->seq);
        fieldDeltaAdd(collGet(d, members[o->fld]), o->actor, o->seq);
        expect |= 1 << o->fld;
    } else if (roll < 75) {
        /* SREM, or SPOP of a live member (the same delta) */
        o->kind = CS_REM;
        if (before && rngChance(r, 30)) {
            do o->fld = rngInt(r, NMEM);
            while (!(before >> o->fld & 1));
            obs = collGet(c, members[o->fld]);
        }
        fieldDeltaRemove(collGet(d, members[o->fld]), obs);
        expect &= ~(1 << o->fld);
    } else if (roll < 83) {
        o->kind = CS_DEL;
        keymetaDeltaDel(&d->meta, &c->meta, now, o->actor, o->seq);
        expect = 0;
    } else if (roll < 91) {
        o->kind = CS_EXPIRE;
        o->at = now + 1 + rngInt(r, 12);
        keymetaDeltaExpire(&d->meta, &c->meta, now, o->actor, o->seq, o->at);
    } else if (roll < 95) {
        o->kind = CS_PERSIST;
        keymetaDeltaExpire(&d->meta, &c->meta, now, o->actor, o->seq, 0);
    } else {
        o->kind = CS_FIRE; /* a replica's expiry cycle */
        keymetaDeltaFire(&d->meta, &c->meta, now);
    }
    collMerge(c, d);
    simNetSent(&s->n, p);

    /* the delta did exactly what the command does on one Redis */
    int after = liveMask(c, now);
    long long ttl = keymetaTTL(&c->meta, now);
    cr_assert_eq(after, expect, "op %d kind %d: set %x -> %x, expected %x", id, o->kind, before,
                 after, expect);
    if (o->kind == CS_EXPIRE) cr_assert_eq(ttl, o->at - now);
    else if (o->kind == CS_PERSIST || o->kind == CS_DEL || (o->kind == CS_ADD && o->create))
        cr_assert_eq(ttl, -1);
    else cr_assert_eq(ttl, ttlBefore);
    s->checked++;
}

static csim *setSim(uint64_t seed) { return csimNew(seed, MAXOPS, setOp, 0); }

/* ------------------------------------------------------- random runs */

Test(set, random_runs_are_joins_match_redis_converge_and_match_the_model) {
    int runs = 1000, lawCases = 0, orders = 0, seqChecks = 0, ops = 0;
    for (int seed = 1; seed <= runs; seed++) {
        csim *s = setSim((uint64_t)seed);
        /* merging a state into itself says it changed nothing, too */
        csRunLawsConverge(s, seed, 40 + rngInt(&s->n.r, 100), 48, 1, &lawCases, &orders);
        /* and reads what the history says, now and later (expiries pass) */
        for (int dt = 0; dt <= 30; dt += 15) {
            long long now = s->n.clk.now_ms + dt;
            int got = liveMask(&s->rep[0], now), want = modelLive(s, now);
            cr_assert_eq(got, want, "seed %d at +%d ms: members %x, the model says %x", seed, dt,
                         got, want);
        }
        seqChecks += s->checked;
        ops += s->n.nops;
        csimFree(s);
    }
    cr_log_info("set: %d runs, %d ops (each checked against Redis), %d law cases, %d merge orders",
                runs, ops, lawCases, orders);
    fprintf(stderr, "set: %d runs, %d ops checked against Redis, %d law cases, %d merge orders\n",
            runs, ops, lawCases, orders);
    cr_assert_gt(lawCases, 10000);
    cr_assert_gt(seqChecks, 5000);
}

/* ---------------------------------------------------------- directed */

#define A simActors[0]
#define B simActors[1]

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
    collsInit(&a, &b, &d1, &d2, NULL);
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
    collsFree(&a, &b, &d1, &d2, NULL);
}

Test(set, a_remove_removes_what_it_saw_from_every_actor_and_nothing_else) {
    coll a, b, d1, d2, d3;
    collsInit(&a, &b, &d1, &d2, &d3, NULL);
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
    collsFree(&a, &b, &d1, &d2, &d3, NULL);
}

Test(set, del_removes_what_it_saw_and_keeps_concurrent_adds) {
    coll a, b, d1, d2, d3, d4;
    collsInit(&a, &b, &d1, &d2, &d3, &d4, NULL);
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
    collsFree(&a, &b, &d1, &d2, &d3, &d4, NULL);
}

Test(set, expiry_removes_what_was_there_at_its_time_on_every_replica) {
    long long t0 = 1700000000000LL;
    uint64_t s1 = hlcFromMs((uint64_t)t0);
    coll a, b, d, e;
    collsInit(&a, &b, &d, &e, NULL);
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
    collsFree(&a, &b, &d, &e, NULL);
}

Test(set, a_persist_made_before_the_expiry_time_saves_the_key) {
    long long t0 = 1700000000000LL;
    uint64_t s1 = hlcFromMs((uint64_t)t0);
    coll c, d, p;
    collsInit(&c, &d, &p, NULL);
    sadd(&c, &d, "x", A, s1);
    keymetaDeltaExpire(&p.meta, &c.meta, t0, A, s1 + 1, t0 + 10);
    collMerge(&c, &p);
    keymetaDeltaExpire(&p.meta, &c.meta, t0 + 5, B, hlcFromMs((uint64_t)t0 + 5), 0);
    collMerge(&c, &p);
    cr_assert(present(&c, "x", t0 + 100));
    cr_assert_eq(keymetaTTL(&c.meta, t0 + 100), -1);
    collsFree(&c, &d, &p, NULL);
}

Test(set, elements_merge_without_their_metadata) {
    /* a storage merge operand sees one element's key: field merges alone
     * are joins (the random runs prove it on whole collections; here a
     * remove delta reaches an element before the add it removes) */
    field add, rem, x1, x2;
    fieldsInit(&add, &rem, &x1, &x2, NULL);
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
    fieldsFree(&add, &rem, &x1, &x2, NULL);
}

/* -------------------------------------------------------- encodings */

SIM_CODEC(fieldCodec, field, field);
SIM_CODEC(metaCodec, keymeta, keymeta);

static void checkDamage(const simCodec *c, const buf *enc) {
    simRejectsTruncations(c, enc->ptr, enc->len, 1);
    simRejectsTrailing(c, enc->ptr, enc->len);
    simSurvivesFlips(c, enc->ptr, enc->len, 1);
}

Test(set, encodings_round_trip_and_reject_damage) {
    csim *s = setSim(4242);
    for (int i = 0; i < 120; i++) simNetStep(&s->n);
    int fields = 0;
    buf e;
    bufInit(&e);
    for (int j = 0; j < SIM_NREP; j++) {
        coll *c = &s->rep[j];
        for (int i = 0; i < c->n; i++) {
            bufClear(&e);
            fieldEncode(&c->f[i], &e);
            field f;
            fieldInit(&f);
            cr_assert_eq(fieldDecode(&f, e.ptr, e.len), C_OK);
            cr_assert(fieldEqual(&f, &c->f[i]));
            fieldFree(&f);
            if (j == 0) checkDamage(&fieldCodec, &e);
            fields++;
        }
        bufClear(&e);
        keymetaEncode(&c->meta, &e);
        keymeta m;
        keymetaInit(&m);
        cr_assert_eq(keymetaDecode(&m, e.ptr, e.len), C_OK);
        cr_assert(keymetaEqual(&m, &c->meta));
        keymetaFree(&m);
        checkDamage(&metaCodec, &e);
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
    csimFree(s);
}
