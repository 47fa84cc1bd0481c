/* vclock.c -- vector clocks and the hybrid logical clock. See vclock.h.
 * Invariant: entries are sorted by actor with no duplicates and no zero
 * counters, so equal clocks have equal encodings (digests rely on it). */
#include "vclock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vclockInit(vclock *vc) {
    vc->n = 0;
    vc->cap = 0;
    vc->e = NULL;
}

void vclockFree(vclock *vc) {
    zfree(vc->e);
    vclockInit(vc);
}

void vclockClear(vclock *vc) { vc->n = 0; }

static void reserve(vclock *vc, int need) {
    if (vc->cap >= need) return;
    int cap = vc->cap ? vc->cap : 4;
    while (cap < need) cap *= 2;
    vc->e = zrealloc(vc->e, sizeof(vcEntry) * (size_t)cap);
    vc->cap = cap;
}

void vclockCopy(vclock *dst, const vclock *src) {
    reserve(dst, src->n);
    if (src->n) memcpy(dst->e, src->e, sizeof(vcEntry) * (size_t)src->n);
    dst->n = src->n;
}

/* Index of actor, or -(insertion point)-1. */
static int find(const vclock *vc, uint64_t actor) {
    int lo = 0, hi = vc->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (vc->e[mid].actor == actor) return mid;
        if (vc->e[mid].actor < actor) lo = mid + 1;
        else hi = mid - 1;
    }
    return -lo - 1;
}

uint64_t vclockGet(const vclock *vc, uint64_t actor) {
    int i = find(vc, actor);
    return i >= 0 ? vc->e[i].counter : 0;
}

void vclockRaise(vclock *vc, uint64_t actor, uint64_t counter) {
    if (counter == 0) return;
    int i = find(vc, actor);
    if (i >= 0) {
        if (vc->e[i].counter < counter) vc->e[i].counter = counter;
        return;
    }
    i = -i - 1;
    reserve(vc, vc->n + 1);
    memmove(vc->e + i + 1, vc->e + i, sizeof(vcEntry) * (size_t)(vc->n - i));
    vc->e[i].actor = actor;
    vc->e[i].counter = counter;
    vc->n++;
}

void vclockMerge(vclock *dst, const vclock *src) {
    for (int i = 0; i < src->n; i++) vclockRaise(dst, src->e[i].actor, src->e[i].counter);
}

int vclockDescends(const vclock *a, const vclock *b) {
    int i = 0, j = 0;
    while (j < b->n) {
        while (i < a->n && a->e[i].actor < b->e[j].actor) i++;
        if (i == a->n || a->e[i].actor != b->e[j].actor) return 0;
        if (a->e[i].counter < b->e[j].counter) return 0;
        j++;
    }
    return 1;
}

int vclockCompare(const vclock *a, const vclock *b) {
    int ab = vclockDescends(a, b), ba = vclockDescends(b, a);
    if (ab && ba) return VC_EQUAL;
    if (ab) return VC_AFTER;
    if (ba) return VC_BEFORE;
    return VC_CONCURRENT;
}

int vclockPrune(vclock *vc, int max, uint64_t keep) {
    int dropped = 0;
    if (max < 1) max = 1;
    while (vc->n > max) {
        int oldest = -1;
        for (int i = 0; i < vc->n; i++) {
            if (vc->e[i].actor == keep) continue;
            if (oldest < 0 || vc->e[i].counter < vc->e[oldest].counter ||
                (vc->e[i].counter == vc->e[oldest].counter &&
                 vc->e[i].actor < vc->e[oldest].actor))
                oldest = i;
        }
        if (oldest < 0) break;
        memmove(vc->e + oldest, vc->e + oldest + 1,
                sizeof(vcEntry) * (size_t)(vc->n - oldest - 1));
        vc->n--;
        dropped++;
    }
    return dropped;
}

/* ---------------------------------------------------------------- varint */

void varintPut(buf *out, uint64_t v) {
    unsigned char b[10];
    int n = 0;
    while (v >= 0x80) {
        b[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (unsigned char)v;
    bufAppend(out, b, (size_t)n);
}

long varintGet(const unsigned char *p, size_t len, uint64_t *v) {
    uint64_t r = 0;
    for (size_t i = 0; i < len && i < 10; i++) {
        uint64_t b = p[i] & 0x7f;
        if (i == 9 && p[i] > 1) return -1; /* more than 64 bits */
        r |= b << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = r;
            return (long)i + 1;
        }
    }
    return -1;
}

static void put64(buf *out, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    bufAppend(out, b, 8);
}

static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

void vclockEncode(const vclock *vc, buf *out) {
    varintPut(out, (uint64_t)vc->n);
    for (int i = 0; i < vc->n; i++) {
        put64(out, vc->e[i].actor);
        varintPut(out, vc->e[i].counter);
    }
}

long vclockDecode(vclock *vc, const unsigned char *p, size_t len) {
    uint64_t n;
    long used = varintGet(p, len, &n);
    if (used < 0 || n > 65536 || n > (len - (size_t)used) / 9) return -1;
    vclockClear(vc);
    reserve(vc, (int)n);
    size_t off = (size_t)used;
    for (uint64_t i = 0; i < n; i++) {
        if (len - off < 9) return -1;
        uint64_t actor = get64(p + off), counter;
        off += 8;
        long u = varintGet(p + off, len - off, &counter);
        if (u < 0 || counter == 0) return -1;
        off += (size_t)u;
        /* must be strictly sorted: reject anything else as corrupt */
        if (vc->n && vc->e[vc->n - 1].actor >= actor) return -1;
        vc->e[vc->n].actor = actor;
        vc->e[vc->n].counter = counter;
        vc->n++;
    }
    return (long)off;
}

void vclockFormat(const vclock *vc, buf *out) {
    for (int i = 0; i < vc->n; i++) {
        bufPrintf(out, "%s%016llx:%llu.%llu", i ? "," : "", (unsigned long long)vc->e[i].actor,
                  (unsigned long long)hlcPhysicalMs(vc->e[i].counter),
                  (unsigned long long)(vc->e[i].counter & ((1u << HLC_LOGICAL_BITS) - 1)));
    }
}

/* ------------------------------------------------------------------- HLC */

uint64_t hlcNext(hlc *h, uint64_t wall_ms) {
    uint64_t phys = hlcFromMs(wall_ms);
    if (phys > h->last) h->last = phys;
    else h->last++;
    return h->last;
}

void hlcObserve(hlc *h, uint64_t ts) {
    if (ts > h->last) h->last = ts;
}
