/* test_counter.c -- counter contributions (types/counter.h) and string
 * counters (types/strctr.h: INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT beside a
 * string key's sibling record).
 *
 * Over seeded random runs of a string key (3 replicas; SET, SET EX, DEL,
 * INCRBY, DECRBY, INCRBYFLOAT; deltas late, reordered, duplicated;
 * anti-entropy), it proves:
 *   - the counter's merge is a join (pairs, triples, all 120 orders of 5),
 *     on its own and with the record beside it;
 *   - every operation does on its coordinator what it does on one Redis:
 *     GET and the TTL before and after, INCR's reply, its errors, expiry
 *     (an INCR after the expiry recreates the key from 0 with no TTL);
 *   - replicas that received everything are byte-for-byte equal;
 *   - increments alone: GET is the sum of all of them, whatever the order
 *     and the duplication of their deltas;
 * and, directed: SET and DEL keep the increments they did not see, clear
 * the ones they saw; the counter encoding is canonical and refuses damage. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "record.h"
#include "types/strctr.h"
#include "typesim.h"

#define NREP 3
#define MAXOPS 80

static const uint64_t actors[NREP] = {0xA1A1A1A1A1A1A1A1ULL, 0x0000000000000B02ULL,
                                      0xC3C3C3C3C3C3C3C3ULL};
static const char *values[] = {"10", "-7", "2.5", "abc", "0"};
#define NVAL 5

/* A string key: its record and its counter. */
typedef struct skey {
    record r;
    counter c;
} skey;

static void skInit(skey *k) {
    recordInit(&k->r);
    counterInit(&k->c);
}
static void skFree(skey *k) {
    recordFree(&k->r);
    counterFree(&k->c);
}
static void skMerge(skey *d, const skey *s) {
    recordMerge(&d->r, &s->r, 1);
    counterMerge(&d->c, &s->c);
}
static void skCopy(skey *d, const skey *s) {
    skFree(d);
    skInit(d);
    skMerge(d, s);
}
static int skSame(const skey *a, const skey *b) {
    buf x, y;
    bufInit(&x);
    bufInit(&y);
    recordEncode(&a->r, &x);
    counterEncode(&a->c, &x);
    recordEncode(&b->r, &y);
    counterEncode(&b->c, &y);
    int same = x.len == y.len && !memcmp(x.ptr, y.ptr, x.len);
    bufFree(&x);
    bufFree(&y);
    return same;
}

/* GET and TTL as a client sees them. */
typedef struct sview {
    int present;
    char text[64];
    long long expire; /* absolute ms, 0 = none */
} sview;

static void readKey(const skey *k, long long now, sview *v) {
    buf b;
    bufInit(&b);
    int kind = strctrRead(&k->r, &k->c, now, &b);
    v->present = kind != NUM_ABSENT;
    snprintf(v->text, sizeof(v->text), "%s", b.ptr ? b.ptr : "");
    const version *vis = recordVisible(&k->r, now);
    v->expire = v->present && vis ? vis->expire : 0;
    bufFree(&b);
}

enum { OP_SET, OP_SETEX, OP_DEL, OP_INCR, OP_INCRF };

typedef struct sim {
    rng r;
    simClock clk;
    skey rep[NREP];
    skey delta[MAXOPS];
    int applied[MAXOPS];
    int kind[MAXOPS];
    long long inc[MAXOPS];
    long double finc[MAXOPS];
    int nops;
    int pending[MAXOPS][NREP];
} sim;

/* What the command does on one Redis. */
static int redisApply(sview *v, int kind, int val, long long ex, long long inc, long double finc,
                      long long now, long long *ireply, char *freply) {
    if (v->present && v->expire && now > v->expire) v->present = 0; /* expired */
    switch (kind) {
    case OP_SET:
    case OP_SETEX:
        v->present = 1;
        snprintf(v->text, sizeof(v->text), "%s", values[val]);
        v->expire = kind == OP_SETEX ? ex : 0;
        return NUMERR_OK;
    case OP_DEL:
        v->present = 0;
        return NUMERR_OK;
    case OP_INCR: {
        long long cur = 0;
        if (v->present && !string2ll(v->text, strlen(v->text), &cur)) return NUMERR_NOTINT;
        if (__builtin_add_overflow(cur, inc, ireply)) return NUMERR_OVERFLOW;
        if (!v->present) v->expire = 0;
        v->present = 1;
        snprintf(v->text, sizeof(v->text), "%lld", *ireply);
        return NUMERR_OK;
    }
    default: {
        long double cur = 0;
        if (v->present && !string2ld(v->text, strlen(v->text), &cur)) return NUMERR_NOTFLOAT;
        long double r = cur + finc;
        if (isnan(r) || isinf(r)) return NUMERR_NANINF;
        if (!v->present) v->expire = 0;
        v->present = 1;
        ld2string(v->text, sizeof(v->text), r);
        strcpy(freply, v->text);
        return NUMERR_OK;
    }
    }
}

static void simOp(sim *s, int onlyIncr) {
    int p = rngInt(&s->r, NREP);
    skey *k = &s->rep[p];
    int id = s->nops;
    skey *d = &s->delta[id];
    skInit(d);
    long long now = s->clk.now_ms;
    uint64_t actor = actors[p], seq = simDot(&s->clk);
    int roll = onlyIncr ? 50 + rngInt(&s->r, 50) : rngInt(&s->r, 100);
    int kind = roll < 20 ? OP_SET : roll < 30 ? OP_SETEX : roll < 40 ? OP_DEL : roll < 80 ? OP_INCR : OP_INCRF;
    int val = rngInt(&s->r, NVAL);
    long long ex = now + 1 + rngInt(&s->r, 10), inc = rngInt(&s->r, 11) - 5, ireply = 0, wantI = 0;
    long double finc = (long double)(rngInt(&s->r, 17) - 8) / 4;
    char freply[64] = "", wantF[64] = "";
    sview before, after, want;
    readKey(k, now, &before);
    want = before;
    int wantRc = redisApply(&want, kind, val, ex, inc, finc, now, &wantI, wantF), rc = NUMERR_OK;
    if (kind == OP_SET || kind == OP_SETEX || kind == OP_DEL) {
        version v;
        versionInit(&v);
        v.actor = actor;
        v.counter = seq;
        recordContext(&k->r, &v.past);
        if (kind == OP_DEL) v.tombstone = 1;
        else v.val = values[val], v.vlen = strlen(values[val]);
        if (kind == OP_SETEX) v.expire = ex;
        recordAdd(&d->r, &v, 1);
        versionFree(&v);
        strctrDeltaClear(&d->c, &k->r, &k->c, now);
    } else if (kind == OP_INCR) {
        rc = strctrDeltaIncrBy(&d->c, &k->r, &k->c, now, actor, seq, inc, &ireply);
    } else {
        buf out;
        bufInit(&out);
        rc = strctrDeltaIncrByFloat(&d->c, &k->r, &k->c, now, actor, seq, finc, &out);
        snprintf(freply, sizeof(freply), "%s", out.ptr ? out.ptr : "");
        bufFree(&out);
    }
    cr_assert_eq(rc, wantRc, "op %d kind %d: %d, Redis %d", id, kind, rc, wantRc);
    if (rc != NUMERR_OK) counterClear(&d->c);
    skMerge(k, d);
    readKey(k, now, &after);
    cr_assert(after.present == want.present && (!want.present || !strcmp(after.text, want.text)),
              "op %d kind %d: GET \"%s\" (%d), Redis \"%s\" (%d)", id, kind, after.text,
              after.present, want.text, want.present);
    if (want.present) cr_assert_eq(after.expire, want.expire, "op %d kind %d: TTL", id, kind);
    if (rc == NUMERR_OK && kind == OP_INCR) cr_assert_eq(ireply, wantI);
    if (rc == NUMERR_OK && kind == OP_INCRF) cr_assert_str_eq(freply, wantF);
    s->applied[id] = rc == NUMERR_OK;
    s->kind[id] = kind;
    s->inc[id] = inc;
    s->finc[id] = finc;
    s->nops++;
    for (int j = 0; j < NREP; j++) s->pending[id][j] = j != p;
}

static void simStep(sim *s, int onlyIncr) {
    int roll = rngInt(&s->r, 100);
    if (roll < 50 && s->nops < MAXOPS) {
        simOp(s, onlyIncr);
    } else if (roll < 90 && s->nops) {
        int id = rngInt(&s->r, s->nops), to = rngInt(&s->r, NREP);
        if (s->pending[id][to] || rngChance(&s->r, 10)) {
            skMerge(&s->rep[to], &s->delta[id]);
            s->pending[id][to] = 0;
        }
    } else {
        int a = rngInt(&s->r, NREP), b = rngInt(&s->r, NREP);
        skMerge(&s->rep[a], &s->rep[b]);
        for (int i = 0; i < s->nops; i++)
            if (!s->pending[i][b]) s->pending[i][a] = 0;
    }
    s->clk.now_ms += rngInt(&s->r, 3);
}

static void simRun(sim *s, uint64_t seed, int steps, int onlyIncr) {
    memset(s, 0, sizeof(*s));
    rngSeed(&s->r, seed);
    simClockInit(&s->clk, 1700000000000LL);
    for (int i = 0; i < NREP; i++) skInit(&s->rep[i]);
    for (int i = 0; i < steps; i++) simStep(s, onlyIncr);
    for (int i = 0; i < s->nops; i++)
        for (int j = 0; j < NREP; j++)
            if (s->pending[i][j]) skMerge(&s->rep[j], &s->delta[i]);
}

static void simFree(sim *s) {
    for (int i = 0; i < NREP; i++) skFree(&s->rep[i]);
    for (int i = 0; i < s->nops; i++) skFree(&s->delta[i]);
}

static void merged(skey *out, const skey *a, const skey *b) {
    skCopy(out, a);
    skMerge(out, b);
}

Test(counter, string_counters_are_joins_match_redis_and_converge) {
    int runs = 800, ops = 0, cases = 0, orders = 0;
    for (int seed = 1; seed <= runs; seed++) {
        sim *s = zcalloc(sizeof(sim));
        simRun(s, (uint64_t)seed, 40 + (seed % 100), 0);
        for (int j = 1; j < NREP; j++) cr_assert(skSame(&s->rep[0], &s->rep[j]), "seed %d", seed);
        /* the laws, on the deltas and the final states */
        int n = s->nops + NREP;
        skey *pool = zcalloc(sizeof(skey) * (size_t)n);
        for (int i = 0; i < n; i++) {
            skInit(&pool[i]);
            skCopy(&pool[i], i < s->nops ? &s->delta[i] : &s->rep[i - s->nops]);
        }
        skey ab, ba, abc, bc, a_bc, aa;
        skInit(&ab), skInit(&ba), skInit(&abc), skInit(&bc), skInit(&a_bc), skInit(&aa);
        for (int k = 0; k < 30 && n > 1; k++) {
            const skey *a = &pool[rngInt(&s->r, n)], *b = &pool[rngInt(&s->r, n)],
                       *c = &pool[rngInt(&s->r, n)];
            merged(&ab, a, b);
            merged(&ba, b, a);
            cr_assert(skSame(&ab, &ba), "not commutative");
            merged(&abc, &ab, c);
            merged(&bc, b, c);
            merged(&a_bc, a, &bc);
            cr_assert(skSame(&abc, &a_bc), "not associative");
            merged(&aa, a, a);
            cr_assert(skSame(&aa, a), "not idempotent");
            cases += 3;
        }
        if (n >= 5) {
            int idx[5], perm[5] = {0, 1, 2, 3, 4};
            for (int i = 0; i < 5; i++) idx[i] = rngInt(&s->r, n);
            skey first, cur;
            skInit(&first);
            skInit(&cur);
            for (int i = 0; i < 5; i++) skMerge(&first, &pool[idx[i]]);
            do {
                skFree(&cur);
                skInit(&cur);
                for (int i = 0; i < 5; i++) skMerge(&cur, &pool[idx[perm[i]]]);
                cr_assert(skSame(&cur, &first), "merge orders differ");
                orders++;
            } while (nextPerm(perm, 5));
            skFree(&first);
            skFree(&cur);
        }
        skFree(&ab), skFree(&ba), skFree(&abc), skFree(&bc), skFree(&a_bc), skFree(&aa);
        for (int i = 0; i < n; i++) skFree(&pool[i]);
        zfree(pool);
        ops += s->nops;
        simFree(s);
        zfree(s);
    }
    fprintf(stderr, "counter: %d runs, %d string ops checked against Redis, %d law cases, %d merge orders\n",
            runs, ops, cases, orders);
    cr_assert_gt(cases, 10000);
}

Test(counter, increments_add_up_whatever_the_order_and_duplication) {
    for (int seed = 1; seed <= 400; seed++) {
        sim *s = zcalloc(sizeof(sim));
        simRun(s, (uint64_t)seed * 31337, 160, 1);
        for (int j = 1; j < NREP; j++) cr_assert(skSame(&s->rep[0], &s->rep[j]));
        long long isum = 0;
        long double fsum = 0;
        int any = 0;
        for (int i = 0; i < s->nops; i++) {
            if (!s->applied[i]) continue;
            any = 1;
            if (s->kind[i] == OP_INCR) isum += s->inc[i];
            else fsum += s->finc[i];
        }
        sview v;
        readKey(&s->rep[0], s->clk.now_ms, &v);
        cr_assert_eq(v.present, any);
        char want[64];
        if (fsum == 0) snprintf(want, sizeof(want), "%lld", isum);
        else ld2string(want, sizeof(want), (long double)isum + fsum);
        if (any) cr_assert_str_eq(v.text, want, "seed %d", seed);
        simFree(s);
        zfree(s);
    }
}

/* ---------------------------------------------------------- directed */

#define A actors[0]
#define B actors[1]

static void set(skey *k, skey *d, const char *val, uint64_t actor, uint64_t seq, long long now) {
    skFree(d);
    skInit(d);
    version v;
    versionInit(&v);
    v.actor = actor;
    v.counter = seq;
    recordContext(&k->r, &v.past);
    if (val) v.val = val, v.vlen = strlen(val);
    else v.tombstone = 1;
    recordAdd(&d->r, &v, 1);
    versionFree(&v);
    strctrDeltaClear(&d->c, &k->r, &k->c, now);
    skMerge(k, d);
}

static void incr(skey *k, skey *d, long long by, uint64_t actor, uint64_t seq, long long now) {
    skFree(d);
    skInit(d);
    long long r;
    cr_assert_eq(strctrDeltaIncrBy(&d->c, &k->r, &k->c, now, actor, seq, by, &r), NUMERR_OK);
    skMerge(k, d);
}

static const char *get(const skey *k, long long now, buf *b) {
    return strctrRead(&k->r, &k->c, now, b) == NUM_ABSENT ? NULL : b->ptr;
}

Test(counter, concurrent_incrs_through_different_coordinators_all_count) {
    /* the limitation this retires: two nodes coordinating INCR during a
     * failure used to make siblings, and GET showed one of them */
    skey a, b, da, db;
    skInit(&a), skInit(&b), skInit(&da), skInit(&db);
    buf t;
    bufInit(&t);
    set(&a, &da, "10", A, 100, 0);
    skMerge(&b, &da);
    for (int i = 0; i < 5; i++) {
        incr(&a, &da, 1, A, 200 + i, 0);
        incr(&b, &db, 2, B, 300 + i, 0);
    }
    skMerge(&a, &b);
    skMerge(&b, &a);
    cr_assert_str_eq(get(&a, 0, &t), "25");
    cr_assert(skSame(&a, &b));
    /* SET concurrent with an INCR: the SET's value plus the increment it
     * did not see; the increments it saw are gone */
    set(&a, &da, "100", A, 400, 0);
    incr(&b, &db, 7, B, 401, 0);
    skMerge(&a, &db);
    skMerge(&b, &da);
    cr_assert_str_eq(get(&a, 0, &t), "107");
    cr_assert_str_eq(get(&b, 0, &t), "107");
    /* DEL concurrent with an INCR: the increment alone */
    set(&a, &da, NULL, A, 500, 0);
    incr(&b, &db, 3, B, 501, 0);
    skMerge(&a, &db);
    skMerge(&b, &da);
    cr_assert_str_eq(get(&a, 0, &t), "3");
    cr_assert(skSame(&a, &b));
    /* a SET that is not a number hides the increments until a clear */
    set(&a, &da, "abc", A, 600, 0);
    incr(&b, &db, 1, B, 601, 0);
    skMerge(&a, &db);
    cr_assert_str_eq(get(&a, 0, &t), "abc");
    long long r;
    cr_assert_eq(strctrDeltaIncrBy(&da.c, &a.r, &a.c, 0, A, 602, 1, &r), NUMERR_NOTINT);
    bufFree(&t);
    skFree(&a), skFree(&b), skFree(&da), skFree(&db);
}

Test(counter, expiry_takes_the_increments_made_before_it) {
    long long t0 = 1700000000000LL;
    uint64_t h = hlcFromMs((uint64_t)t0);
    skey a, b, d;
    skInit(&a), skInit(&b), skInit(&d);
    buf t;
    bufInit(&t);
    /* SET k 10 PX 10; INCR (A); INCR (B, replicated) */
    version v;
    versionInit(&v);
    v.actor = A;
    v.counter = h;
    v.val = "10";
    v.vlen = 2;
    v.expire = t0 + 10;
    recordAdd(&a.r, &v, 1);
    versionFree(&v);
    skMerge(&b, &a);
    incr(&a, &d, 1, A, h + 1, t0 + 1);
    skMerge(&b, &d);
    incr(&b, &d, 1, B, h + 2, t0 + 2);
    skMerge(&a, &d);
    cr_assert_str_eq(get(&a, t0 + 10, &t), "12");
    cr_assert_null(get(&a, t0 + 11, &t), "gone with its expiry, increments included");
    /* INCR after the expiry starts from 0 */
    incr(&a, &d, 5, A, hlcFromMs((uint64_t)t0 + 20), t0 + 20);
    cr_assert_str_eq(get(&a, t0 + 20, &t), "5");
    skMerge(&b, &d);
    cr_assert_str_eq(get(&b, t0 + 20, &t), "5");
    /* a later SET hides the expired version; the expiry stays folded */
    set(&b, &d, "1", B, hlcFromMs((uint64_t)t0 + 30), t0 + 30);
    skMerge(&a, &d);
    cr_assert_str_eq(get(&a, t0 + 30, &t), "1");
    cr_assert(skSame(&a, &b));
    bufFree(&t);
    skFree(&a), skFree(&b), skFree(&d);
}

Test(counter, an_increment_from_before_the_expiry_that_arrives_late_stays_expired) {
    long long t0 = 1700000000000LL;
    uint64_t h = hlcFromMs((uint64_t)t0);
    skey a, b, d, late;
    skInit(&a), skInit(&b), skInit(&d), skInit(&late);
    buf t;
    bufInit(&t);
    version v;
    versionInit(&v);
    v.actor = A;
    v.counter = h;
    v.val = "10";
    v.vlen = 2;
    v.expire = t0 + 10;
    recordAdd(&a.r, &v, 1);
    versionFree(&v);
    skMerge(&b, &a);
    incr(&b, &late, 1, B, h + 2, t0 + 2); /* B's INCR before the expiry, not yet at A */
    /* after the expiry A sets a new value: the expired version is obsoleted
     * and dropped, but the SET saw that it had expired */
    set(&a, &d, "1", A, hlcFromMs((uint64_t)t0 + 30), t0 + 30);
    skMerge(&a, &late);
    cr_assert_str_eq(get(&a, t0 + 30, &t), "1", "the late increment was made before the expiry");
    skMerge(&b, &d);
    cr_assert(skSame(&a, &b));
    bufFree(&t);
    skFree(&a), skFree(&b), skFree(&d), skFree(&late);
}

/* ---------------------------------------------------------- encoding */

static int decCounter(const void *p, size_t len) {
    counter c;
    counterInit(&c);
    void *copy = malloc(len ? len : 1);
    memcpy(copy, p, len);
    int rc = counterDecode(&c, copy, len);
    if (rc == C_OK) {
        buf e;
        bufInit(&e);
        counterEncode(&c, &e);
        cr_assert(e.len == len && !memcmp(e.ptr, p, len), "decoded, but not canonical");
        bufFree(&e);
    }
    free(copy);
    counterFree(&c);
    return rc;
}

Test(counter, encoding_is_canonical_and_refuses_damage) {
    counter c, d, o;
    counterInit(&c), counterInit(&d), counterInit(&o);
    cr_assert_eq(counterDeltaIncr(&d, &c, NULL, A, 10, (i128)INT64_MAX * 4, 0.25L), C_OK);
    counterMerge(&c, &d);
    cr_assert_eq(counterDeltaIncr(&d, &c, NULL, B, 11, -3, -1e300L), C_OK);
    counterMerge(&c, &d);
    counterDeltaClear(&o, &c);
    counterMerge(&c, &o);
    cr_assert_eq(counterDeltaIncr(&d, &c, NULL, B, 12, 1, 0), C_OK);
    counterMerge(&c, &d);
    c.floor = 5;
    buf e;
    bufInit(&e);
    counterEncode(&c, &e);
    cr_assert_eq(decCounter(e.ptr, e.len), C_OK);
    counter back;
    counterInit(&back);
    cr_assert_eq(counterDecode(&back, e.ptr, e.len), C_OK);
    cr_assert(counterEqual(&back, &c));
    for (size_t n = 0; n < e.len; n++) cr_assert_eq(decCounter(e.ptr, n), C_ERR, "truncated at %zu", n);
    for (size_t i = 0; i < e.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            e.ptr[i] ^= (char)(1 << bit);
            decCounter(e.ptr, e.len);
            e.ptr[i] ^= (char)(1 << bit);
        }
    /* floats in any text but the canonical one are refused */
    const unsigned char sloppy[] = {1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 9, 1, 3, '1', '.', '0'};
    cr_assert_eq(decCounter(sloppy, sizeof(sloppy)), C_ERR);
    const unsigned char nan[] = {1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 9, 1, 3, 'n', 'a', 'n'};
    cr_assert_eq(decCounter(nan, sizeof(nan)), C_ERR);
    const unsigned char one[] = {1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 9, 1, 1, '1'};
    cr_assert_eq(decCounter(one, sizeof(one)), C_OK);
    /* an increment with a dot that is not new, and overflow, are refused */
    cr_assert_eq(counterDeltaIncr(&d, &c, NULL, A, 10, 1, 0), C_ERR);
    cr_assert_eq(counterDeltaIncr(&d, &c, NULL, A, 20, 0, INFINITY), C_ERR);
    bufFree(&e);
    counterFree(&c), counterFree(&d), counterFree(&o), counterFree(&back);
}
