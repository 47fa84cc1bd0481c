/* typesim.h -- what the data-type property tests (test_set.c, test_hash.c,
 * test_zset.c, test_hll.c, test_counter.c) share, written once:
 *   - a seeded PRNG, and a clock that hands out HLC dots;
 *   - the replicas' actors, and sets of operation ids ("which ops did this
 *     state see"), for the models that work from the history;
 *   - simKind: how the checks below handle one kind of replicated state
 *     (a collection, a string key with its counter, an HLL key);
 *   - simNet: 3 replicas of one key, the deltas their operations made, and
 *     a network that delivers them late, out of order and twice, and runs
 *     anti-entropy between replicas;
 *   - simPool, simLaws, simOrders: the join laws (commutative, associative,
 *     idempotent; every order of merging 5 states gives the same state) on
 *     states drawn from a run;
 *   - coll: a whole collection in memory (a keymeta record plus its
 *     elements, as a storage layer keeps them under separate keys), its
 *     join and its canonical bytes;
 *   - simCodec and the damage checks: every truncation refused, every bit
 *     flip decoded canonically or refused, trailing bytes refused.
 * What only the collections (set, hash, sorted set) share, the model of an
 * element computed from the operation history, is in collsim.h.
 * Header-only (static): each test binary is one file.
 * To look for memory errors, build these tests with -fsanitize=address,
 * undefined rather than running them under valgrind: valgrind computes
 * long double in double precision, so the float tests fail under it. */
#ifndef RINGKV_TYPESIM_H
#define RINGKV_TYPESIM_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "types/causal.h"
#include "types/field.h"
#include "types/keymeta.h"
#include "util.h"

/* ------------------------------------------------------------- PRNG */

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t rngNext(rng *r) { /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}
static inline void rngSeed(rng *r, uint64_t seed) {
    r->s = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
    if (!r->s) r->s = 1;
    for (int i = 0; i < 4; i++) rngNext(r);
}
static inline int rngInt(rng *r, int n) { return (int)(rngNext(r) % (uint64_t)n); }
static inline int rngChance(rng *r, int pct) { return rngInt(r, 100) < pct; }

/* ------------------------------------------------------------- clock */

/* One simulated cluster's time: now_ms advances, and every dot handed out
 * is an HLC timestamp within now_ms, unique across actors (each actor's
 * dots grow, as a real HLC's do). */
typedef struct simClock {
    long long now_ms;
    uint64_t last;
} simClock;

static inline void simClockInit(simClock *c, long long start_ms) {
    c->now_ms = start_ms;
    c->last = 0;
}
static inline uint64_t simDot(simClock *c) {
    uint64_t t = hlcFromMs((uint64_t)c->now_ms);
    c->last = t > c->last ? t : c->last + 1;
    return c->last;
}

/* ------------------------------------------------- actors, seen sets */

#define SIM_NREP 3

/* The replicas' node ids: one small, two with high bits set. */
static const uint64_t simActors[SIM_NREP] = {0xA1A1A1A1A1A1A1A1ULL, 0x0000000000000B02ULL,
                                             0xC3C3C3C3C3C3C3C3ULL};

/* A set of operation ids 0..127: the ops whose effects a state holds. */
typedef struct seenset {
    uint64_t w[2];
} seenset;

static inline void seenAdd(seenset *s, int id) { s->w[id / 64] |= 1ULL << (id % 64); }
static inline int seenHas(const seenset *s, int id) { return (s->w[id / 64] >> (id % 64)) & 1; }
static inline void seenUnion(seenset *d, const seenset *s) {
    d->w[0] |= s->w[0];
    d->w[1] |= s->w[1];
}

/* ------------------------------------------------------ state kinds */

/* How the network and the law checks handle one kind of state. Every
 * function takes states of that kind; dst of copy is initialized. */
typedef struct simKind {
    size_t size;                              /* bytes of one state */
    void (*init)(void *x);
    void (*free)(void *x);                    /* x is left to be initialized again */
    void (*copy)(void *dst, const void *src); /* dst := src */
    int (*merge)(void *dst, const void *src); /* dst := dst join src; 1 if dst changed */
    int (*same)(const void *a, const void *b);
} simKind;

/* Defines the simKind `name` of type T from the functions prefix##Init,
 * prefix##Free, prefix##Copy, prefix##Merge and prefix##Same. */
#define SIM_KIND(name, T, prefix)                                                              \
    static void name##Init(void *x) { prefix##Init((T *)x); }                                  \
    static void name##Free(void *x) { prefix##Free((T *)x); }                                  \
    static void name##Copy(void *d, const void *s) { prefix##Copy((T *)d, (const T *)s); }     \
    static int name##Merge(void *d, const void *s) { return prefix##Merge((T *)d, (const T *)s); } \
    static int name##Same(const void *a, const void *b) {                                      \
        return prefix##Same((const T *)a, (const T *)b);                                       \
    }                                                                                          \
    static const simKind name = {sizeof(T), name##Init, name##Free, name##Copy, name##Merge, name##Same}

/* ---------------------------------------------------------- network */

#define SIM_MAXOPS 100 /* the most ops a run makes (seensets hold 128) */

/* Replicas of one key and the deltas of the ops made at them. The states
 * are the caller's arrays (rep: SIM_NREP, delta: maxops), of kind k. Each
 * step (simNetStep) either runs an operation, through op(ctx), or delivers
 * a random delta to a random replica (again, now and then, if it had it
 * already), or merges one replica's whole state into another's as
 * anti-entropy does; then the clock moves 0 to 2 ms.
 * An op (the caller's) picks its replica p, makes delta n->nops from p's
 * state, merges it into p's state and calls simNetSent(n, p). */
typedef struct simNet {
    const simKind *k;
    rng r;
    simClock clk;
    void *rep;                          /* SIM_NREP states, the caller's */
    void *delta;                        /* maxops states: op i's delta is delta i */
    int maxops;                         /* ops a run makes at most */
    int opPct;                          /* the percentage of steps that run an op */
    void (*op)(void *ctx);              /* runs one op (see above) */
    void *ctx;                          /* op's argument */
    int nops;                           /* ops made so far */
    seenset seen[SIM_NREP];             /* the ops whose effects replica j holds */
    int pending[SIM_MAXOPS][SIM_NREP];  /* delta i not yet delivered to replica j */
} simNet;

static inline void *simRep(const simNet *n, int j) { return (char *)n->rep + (size_t)j * n->k->size; }
static inline void *simDelta(const simNet *n, int i) {
    return (char *)n->delta + (size_t)i * n->k->size;
}

/* Starts a run: the replicas empty, the clock at 2023-11-14. */
static inline void simNetInit(simNet *n, const simKind *k, void *rep, void *delta, int maxops,
                              int opPct, void (*op)(void *), void *ctx, uint64_t seed) {
    if (maxops > SIM_MAXOPS) abort();
    memset(n, 0, sizeof(*n));
    n->k = k;
    n->rep = rep;
    n->delta = delta;
    n->maxops = maxops;
    n->opPct = opPct;
    n->op = op;
    n->ctx = ctx;
    rngSeed(&n->r, seed);
    simClockInit(&n->clk, 1700000000000LL);
    for (int j = 0; j < SIM_NREP; j++) k->init(simRep(n, j));
}

static inline void simNetFree(simNet *n) {
    for (int j = 0; j < SIM_NREP; j++) n->k->free(simRep(n, j));
    for (int i = 0; i < n->nops; i++) n->k->free(simDelta(n, i));
}

/* The op made at replica p has its delta in place: queue it for the
 * others. Returns its id. */
static inline int simNetSent(simNet *n, int p) {
    int id = n->nops++;
    seenAdd(&n->seen[p], id);
    for (int j = 0; j < SIM_NREP; j++) n->pending[id][j] = j != p;
    return id;
}

static inline void simNetDeliver(simNet *n, int id, int to) {
    n->k->merge(simRep(n, to), simDelta(n, id));
    seenAdd(&n->seen[to], id);
    n->pending[id][to] = 0;
}

static inline void simNetStep(simNet *n) {
    int roll = rngInt(&n->r, 100);
    if (roll < n->opPct && n->nops < n->maxops) {
        n->op(n->ctx);
    } else if (roll < 90 && n->nops) {
        int id = rngInt(&n->r, n->nops), to = rngInt(&n->r, SIM_NREP);
        if (n->pending[id][to] || rngChance(&n->r, 10)) simNetDeliver(n, id, to); /* sometimes twice */
    } else {
        int a = rngInt(&n->r, SIM_NREP), b = rngInt(&n->r, SIM_NREP); /* anti-entropy */
        n->k->merge(simRep(n, a), simRep(n, b));
        seenUnion(&n->seen[a], &n->seen[b]);
        for (int i = 0; i < n->nops; i++)
            if (!n->pending[i][b]) n->pending[i][a] = 0;
    }
    n->clk.now_ms += rngInt(&n->r, 3);
}

/* Every delta not yet delivered, to every replica that lacks it. */
static inline void simNetDeliverAll(simNet *n) {
    for (int i = 0; i < n->nops; i++)
        for (int j = 0; j < SIM_NREP; j++)
            if (n->pending[i][j]) simNetDeliver(n, i, j);
}

/* Once everything is delivered, every replica holds the same state. */
static inline void simNetAssertConverged(const simNet *n, int seed) {
    for (int j = 1; j < SIM_NREP; j++)
        cr_assert(n->k->same(simRep(n, 0), simRep(n, j)), "seed %d: replicas differ", seed);
}

/* -------------------------------------------------------- join laws */

/* States drawn from a run (replica states, deltas), copied. */
typedef struct simPool {
    const simKind *k;
    char *x;  /* cap states, owned */
    int n;    /* states held */
    int cap;  /* states it holds at most */
} simPool;

static inline void simPoolInit(simPool *p, const simKind *k, int cap) {
    p->k = k;
    p->x = zcalloc(k->size * (size_t)cap);
    p->n = 0;
    p->cap = cap;
}
static inline int simPoolFull(const simPool *p) { return p->n == p->cap; }
static inline void *simPoolAt(const simPool *p, int i) { return p->x + (size_t)i * p->k->size; }
/* A copy of x (borrowed), unless the pool is full. */
static inline void simPoolAdd(simPool *p, const void *x) {
    if (simPoolFull(p)) return;
    p->k->init(simPoolAt(p, p->n));
    p->k->copy(simPoolAt(p, p->n), x);
    p->n++;
}
static inline void simPoolFree(simPool *p) {
    for (int i = 0; i < p->n; i++) p->k->free(simPoolAt(p, i));
    zfree(p->x);
}

/* Checks the merge is commutative, associative and idempotent on `rounds`
 * triples drawn from the pool; with quiet, also that merging a state into
 * itself reports no change. Returns the cases checked (3 a round). */
static inline int simLaws(const simPool *p, rng *r, int rounds, int quiet) {
    const simKind *k = p->k;
    char *t = zmalloc(6 * k->size);
    void *ab = t, *ba = t + k->size, *abc = t + 2 * k->size, *bc = t + 3 * k->size,
         *a_bc = t + 4 * k->size, *aa = t + 5 * k->size;
    for (int i = 0; i < 6; i++) k->init(t + (size_t)i * k->size);
    int cases = 0;
    for (int i = 0; i < rounds; i++) {
        const void *a = simPoolAt(p, rngInt(r, p->n)), *b = simPoolAt(p, rngInt(r, p->n)),
                   *c = simPoolAt(p, rngInt(r, p->n));
        k->copy(ab, a);
        k->merge(ab, b);
        k->copy(ba, b);
        k->merge(ba, a);
        cr_assert(k->same(ab, ba), "merge is not commutative");
        k->copy(abc, ab);
        k->merge(abc, c);
        k->copy(bc, b);
        k->merge(bc, c);
        k->copy(a_bc, a);
        k->merge(a_bc, bc);
        cr_assert(k->same(abc, a_bc), "merge is not associative");
        k->copy(aa, a);
        k->merge(aa, a);
        cr_assert(k->same(aa, a), "merge is not idempotent");
        if (quiet) cr_assert_eq(k->merge(aa, a), 0, "merging a state into itself reports a change");
        cases += 3;
    }
    for (int i = 0; i < 6; i++) k->free(t + (size_t)i * k->size);
    zfree(t);
    return cases;
}

/* Next permutation of p[0..n) in lexicographic order; 0 after the last. */
static inline int nextPerm(int *p, int n) {
    int i = n - 2;
    while (i >= 0 && p[i] >= p[i + 1]) i--;
    if (i < 0) return 0;
    int j = n - 1;
    while (p[j] <= p[i]) j--;
    int t = p[i];
    p[i] = p[j];
    p[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--) {
        t = p[a];
        p[a] = p[b];
        p[b] = t;
    }
    return 1;
}

/* Merges 5 states drawn from the pool in every one of their 120 orders:
 * each order gives the same state. Returns the orders checked. */
static inline int simOrders(const simPool *p, rng *r) {
    const simKind *k = p->k;
    int idx[5], perm[5] = {0, 1, 2, 3, 4}, orders = 0;
    for (int i = 0; i < 5; i++) idx[i] = rngInt(r, p->n);
    char *t = zmalloc(2 * k->size);
    void *first = t, *cur = t + k->size;
    k->init(first);
    k->init(cur);
    for (int i = 0; i < 5; i++) k->merge(first, simPoolAt(p, idx[i]));
    do {
        k->free(cur);
        k->init(cur);
        for (int i = 0; i < 5; i++) k->merge(cur, simPoolAt(p, idx[perm[i]]));
        cr_assert(k->same(cur, first), "two merge orders differ");
        orders++;
    } while (nextPerm(perm, 5));
    k->free(first);
    k->free(cur);
    zfree(t);
    return orders;
}

/* ------------------------------------------------------- collections */

#define SIM_MAXMEM 16

/* A collection as one value: its metadata and its elements by name. */
typedef struct coll {
    keymeta meta;
    int n;                       /* members known (possibly empty states) */
    char name[SIM_MAXMEM][8];    /* member names */
    field f[SIM_MAXMEM];         /* their states */
} coll;

static inline void collInit(coll *c) {
    keymetaInit(&c->meta);
    c->n = 0;
}
static inline void collFree(coll *c) {
    keymetaFree(&c->meta);
    for (int i = 0; i < c->n; i++) fieldFree(&c->f[i]);
    c->n = 0;
}
static inline field *collFind(const coll *c, const char *name) {
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], name)) return (field *)&c->f[i];
    return NULL;
}
/* The member's state, created empty if absent. */
static inline field *collGet(coll *c, const char *name) {
    field *f = collFind(c, name);
    if (f) return f;
    if (c->n == SIM_MAXMEM) abort();
    int i = c->n++;
    strcpy(c->name[i], name);
    fieldInit(&c->f[i]);
    return &c->f[i];
}
static inline int collMerge(coll *dst, const coll *src) {
    int changed = keymetaMerge(&dst->meta, &src->meta);
    for (int i = 0; i < src->n; i++) changed |= fieldMerge(collGet(dst, src->name[i]), &src->f[i]);
    return changed;
}
static inline void collCopy(coll *dst, const coll *src) {
    collFree(dst);
    collInit(dst);
    collMerge(dst, src);
}
static inline int fieldEmpty(const field *f) {
    return f->dots.n == 0 && f->ctx.n == 0 && f->nv == 0 && f->ctr.n == 0 && f->ctr.floor == 0;
}
/* Canonical bytes: the metadata, then the non-empty members by name. Two
 * collections are the same state exactly when these are equal. */
static inline void collEncode(const coll *c, buf *out) {
    bufClear(out);
    keymetaEncode(&c->meta, out);
    int order[SIM_MAXMEM], k = 0;
    for (int i = 0; i < c->n; i++)
        if (!fieldEmpty(&c->f[i])) order[k++] = i;
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && strcmp(c->name[order[j - 1]], c->name[order[j]]) > 0; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < k; i++) {
        bufAppendStr(out, c->name[order[i]]);
        bufAppend(out, "", 1);
        fieldEncode(&c->f[order[i]], out);
    }
}
static inline int collSame(const coll *a, const coll *b) {
    buf x, y;
    bufInit(&x);
    bufInit(&y);
    collEncode(a, &x);
    collEncode(b, &y);
    int same = x.len == y.len && !memcmp(x.ptr, y.ptr, x.len);
    bufFree(&x);
    bufFree(&y);
    return same;
}

SIM_KIND(collKind, coll, coll);

/* For the directed tests: fieldsInit(&a, &b, NULL) initializes each field
 * listed up to the NULL; fieldsFree, collsInit and collsFree likewise. */
#define SIM_EACH(fn, T, each)                                                                  \
    static inline void fn(T *x, ...) {                                                         \
        va_list ap;                                                                            \
        va_start(ap, x);                                                                       \
        for (; x; x = va_arg(ap, T *)) each(x);                                                \
        va_end(ap);                                                                            \
    }
SIM_EACH(fieldsInit, field, fieldInit)
SIM_EACH(fieldsFree, field, fieldFree)
SIM_EACH(collsInit, coll, collInit)
SIM_EACH(collsFree, coll, collFree)

/* ------------------------------------------------------------ codecs */

/* An encoded type: a field, a keymeta record, a counter, an HLL. */
typedef struct simCodec {
    size_t size;                                        /* bytes of one value */
    void (*init)(void *x);
    void (*free)(void *x);
    int (*decode)(void *x, const void *p, size_t len);  /* C_OK or C_ERR */
    void (*encode)(const void *x, buf *out);            /* appends */
} simCodec;

/* Defines the simCodec `name` of type T from prefix##Init, prefix##Free,
 * prefix##Decode and prefix##Encode. */
#define SIM_CODEC(name, T, prefix)                                                              \
    static void name##Init(void *x) { prefix##Init((T *)x); }                                   \
    static void name##Free(void *x) { prefix##Free((T *)x); }                                   \
    static int name##Decode(void *x, const void *p, size_t len) { return prefix##Decode((T *)x, p, len); } \
    static void name##Encode(const void *x, buf *out) { prefix##Encode((const T *)x, out); }   \
    static const simCodec name = {sizeof(T), name##Init, name##Free, name##Decode, name##Encode}

/* Decodes a copy of p[0..len) (so a decoder that reads past its input is
 * caught by ASan); what decodes must encode back to exactly the input
 * (there is one encoding of each value). Returns C_OK or C_ERR. */
static inline int simDecodes(const simCodec *c, const void *p, size_t len) {
    void *x = zmalloc(c->size);
    c->init(x);
    void *copy = malloc(len ? len : 1);
    memcpy(copy, p, len);
    int rc = c->decode(x, copy, len);
    if (rc == C_OK) {
        buf e;
        bufInit(&e);
        c->encode(x, &e);
        cr_assert(e.len == len && !memcmp(e.ptr, p, len), "decoded, but not canonical");
        bufFree(&e);
    }
    free(copy);
    c->free(x);
    zfree(x);
    return rc;
}

/* Every truncation of the encoding p[0..len) (every step-th length) is refused. */
static inline void simRejectsTruncations(const simCodec *c, const void *p, size_t len, size_t step) {
    for (size_t n = 0; n < len; n += step)
        cr_assert_eq(simDecodes(c, p, n), C_ERR, "a %zu-byte truncation of %zu decoded", n, len);
}

/* A byte after the encoding p[0..len) is refused. */
static inline void simRejectsTrailing(const simCodec *c, const void *p, size_t len) {
    char *t = zmalloc(len + 1);
    memcpy(t, p, len);
    t[len] = '\0';
    cr_assert_eq(simDecodes(c, t, len + 1), C_ERR, "trailing bytes accepted");
    zfree(t);
}

/* Every one-bit flip of the encoding p[0..len) (of every step-th byte)
 * decodes canonically or is refused, without a crash. */
static inline void simSurvivesFlips(const simCodec *c, const void *p, size_t len, size_t step) {
    unsigned char *t = zmalloc(len ? len : 1);
    memcpy(t, p, len);
    for (size_t i = 0; i < len; i += step)
        for (int bit = 0; bit < 8; bit++) {
            t[i] ^= (unsigned char)(1 << bit);
            simDecodes(c, t, len);
            t[i] ^= (unsigned char)(1 << bit);
        }
    zfree(t);
}

#endif
