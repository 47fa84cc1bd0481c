/* typesim.h -- what the data-type property tests (test_set.c, test_hash.c,
 * test_zset.c, test_hll.c, test_counter.c) share: a seeded PRNG, a clock
 * that hands out HLC dots, a whole collection in memory (a keymeta record
 * plus its elements, as a storage layer keeps them under separate keys),
 * its join, its canonical bytes, and the permutations of small sets.
 * Header-only (static): each test binary is one file.
 * To look for memory errors, build these tests with -fsanitize=address,
 * undefined rather than running them under valgrind: valgrind computes
 * long double in double precision, so the float tests fail under it. */
#ifndef RINGKV_TYPESIM_H
#define RINGKV_TYPESIM_H

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

/* ------------------------------------------------------- permutations */

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

#endif
