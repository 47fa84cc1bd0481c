/* strctr.c -- string counters over a record. See strctr.h. */
#include "strctr.h"

#include <string.h>

void strctrRemoval(const record *r, long long now_ms, causalRemoval *kr) {
    kr->rm = NULL;
    kr->floor = 0;
    const version *v = recordNewest(r);
    if (v && v->expire && now_ms > v->expire) kr->floor = causalFloorOfMs(v->expire);
}

int strctrLive(const record *r, long long now_ms) {
    if (recordVisible(r, now_ms)) return 1;
    if (!r->ctr) return 0;
    causalRemoval kr;
    strctrRemoval(r, now_ms, &kr);
    counterTotal t;
    counterSum(r->ctr, &kr, &t);
    return t.live > 0;
}

int strctrRead(const record *r, const counter *c, long long now_ms, buf *out) {
    causalRemoval kr;
    strctrRemoval(r, now_ms, &kr);
    const version *v = recordVisible(r, now_ms);
    counterTotal t;
    counterSum(c, &kr, &t);
    return numberRead(v ? v->val : NULL, v ? v->vlen : 0, v != NULL, &t, out);
}

/* A passed expiry the coordinator saw becomes part of the delta. */
static void foldExpiry(counter *delta, const record *r, long long now_ms) {
    causalRemoval kr;
    strctrRemoval(r, now_ms, &kr);
    if (kr.floor > delta->floor) delta->floor = kr.floor;
}

static void readAfter(const record *r, const counter *c, const counter *delta, long long now_ms,
                      buf *out) {
    counter after;
    counterInit(&after);
    counterCopy(&after, c);
    counterMerge(&after, delta);
    strctrRead(r, &after, now_ms, out);
    counterFree(&after);
}

long double strctrFloatStep(const record *r, const counter *c, long long now_ms,
                            long double want) {
    causalRemoval kr;
    strctrRemoval(r, now_ms, &kr);
    const version *v = recordVisible(r, now_ms);
    counterTotal t;
    counterSum(c, &kr, &t);
    return numberFloatStep(v ? v->val : NULL, v ? v->vlen : 0, v != NULL, &t, want);
}

int strctrDeltaAdd(counter *delta, const record *r, const counter *c, long long now_ms,
                   uint64_t actor, uint64_t seq, i128 di, long double df) {
    causalRemoval kr;
    strctrRemoval(r, now_ms, &kr);
    if (counterDeltaIncr(delta, c, &kr, actor, seq, di, df) != C_OK) return C_ERR;
    foldExpiry(delta, r, now_ms);
    return C_OK;
}

int strctrDeltaIncrBy(counter *delta, const record *r, const counter *c, long long now_ms,
                      uint64_t actor, uint64_t seq, long long inc, long long *result) {
    buf cur;
    bufInit(&cur);
    int kind = strctrRead(r, c, now_ms, &cur);
    long long want;
    int rc = numberIncrBy(cur.ptr, cur.len, kind != NUM_ABSENT, inc, &want);
    causalRemoval kr;
    strctrRemoval(r, now_ms, &kr);
    if (rc == NUMERR_OK && counterDeltaIncr(delta, c, &kr, actor, seq, (i128)inc, 0) != C_OK)
        rc = NUMERR_CLOCK;
    if (rc == NUMERR_OK) {
        foldExpiry(delta, r, now_ms);
        readAfter(r, c, delta, now_ms, &cur);
        if (!string2ll(cur.ptr, cur.len, result)) *result = want;
    }
    bufFree(&cur);
    return rc;
}

/* The unrounded value once delta is merged into c. */
static long double exactAfter(const record *r, const counter *c, const counter *delta,
                              long long now_ms) {
    counter after;
    counterInit(&after);
    counterCopy(&after, c);
    counterMerge(&after, delta);
    causalRemoval kr;
    strctrRemoval(r, now_ms, &kr);
    const version *v = recordVisible(r, now_ms);
    counterTotal t;
    counterSum(&after, &kr, &t);
    long double x = numberExact(v ? v->val : NULL, v ? v->vlen : 0, v != NULL, &t);
    counterFree(&after);
    return x;
}

int strctrDeltaIncrByFloat(counter *delta, const record *r, const counter *c, long long now_ms,
                           uint64_t actor, uint64_t seq, long double inc, buf *out,
                           long double *step) {
    int kind = strctrRead(r, c, now_ms, out);
    long double want, d = 0;
    int rc = numberIncrByFloat(out->ptr, out->len, kind != NUM_ABSENT, inc, &want);
    causalRemoval kr;
    strctrRemoval(r, now_ms, &kr);
    if (rc == NUMERR_OK) {
        /* the step that makes the value read as want: a running total far
         * from 0 (after many increments, or cleared by a SET) loses the
         * step's last bits in entry - baseline, so the result is read back
         * and the step corrected (twice at most, in practice) */
        char wtxt[5120];
        int wl = ld2string(wtxt, sizeof(wtxt), want);
        d = strctrFloatStep(r, c, now_ms, want);
        for (int i = 0; i < 4; i++) {
            if (counterDeltaIncr(delta, c, &kr, actor, seq, 0, d) != C_OK) {
                rc = NUMERR_CLOCK;
                break;
            }
            foldExpiry(delta, r, now_ms);
            readAfter(r, c, delta, now_ms, out);
            if (out->len == (size_t)wl && !memcmp(out->ptr, wtxt, (size_t)wl)) break;
            d += want - exactAfter(r, c, delta, now_ms);
        }
    }
    if (rc != NUMERR_OK) bufClear(out);
    if (step) *step = d;
    return rc;
}

void strctrDeltaClear(counter *delta, const record *r, const counter *c, long long now_ms) {
    counterDeltaClear(delta, c);
    foldExpiry(delta, r, now_ms);
}

void strctrCandidate(const record *r, const counter *c, long long now_ms, keymetaCand *cand) {
    causalRemoval kr;
    strctrRemoval(r, now_ms, &kr);
    counterTotal t;
    counterSum(c, &kr, &t);
    cand->type = KT_STRING;
    cand->live = recordVisible(r, now_ms) != NULL || t.live > 0;
    cand->last = (causalStamp){0, 0};
    const version *v = recordNewest(r);
    if (v) cand->last = (causalStamp){v->counter, v->actor};
    for (int i = 0; i < c->n; i++) {
        causalStamp s = {c->s[i].seq, c->s[i].actor};
        if (causalStampCmp(s, cand->last) > 0) cand->last = s;
    }
}
