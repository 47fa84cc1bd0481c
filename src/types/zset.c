/* zset.c -- sorted-set members: the score and the deltas of ZADD, ZREM and
 * ZINCRBY. See zset.h. */
#include "zset.h"

#include <math.h>

#include "tcodec.h"

/* The register's score; a value that is not 8 bytes of a double (never
 * written by zsetDeltaAdd) reads as 0, the same on every replica. */
static double regScore(const fieldVal *v) {
    double d = 0;
    if (!v || v->len != 8) return 0;
    tcReader rd;
    tcReaderInit(&rd, v->val, v->len);
    return tcDouble(&rd, &d) == C_OK ? d : 0;
}

int zsetScore(const field *f, const causalRemoval *kr, double *score) {
    if (!fieldLive(f, kr)) return 0;
    counterTotal t;
    counterSum(&f->ctr, kr, &t);
    long double s = regScore(fieldValue(f, kr));
    if (t.live) {
        s += (long double)t.isum;
        s += (long double)t.fsum;
    }
    *score = (double)s;
    return 1;
}

void zsetDeltaAdd(field *delta, const field *obs, uint64_t actor, uint64_t seq, double score) {
    buf b;
    bufInit(&b);
    tcPutDouble(&b, score);
    fieldDeltaAssign(delta, obs, actor, seq, b.ptr, b.len);
    delta->scored = 1;
    bufFree(&b);
}

void zsetDeltaRem(field *delta, const field *obs) {
    fieldDeltaRemove(delta, obs);
    delta->scored = 1;
}

int zsetDeltaIncr(field *delta, const field *obs, const causalRemoval *kr, uint64_t actor,
                  uint64_t seq, double inc, double *result) {
    double cur = 0;
    if (!zsetScore(obs, kr, &cur)) cur = 0;
    double want = cur + inc;
    if (isnan(want) || isnan(inc)) return NUMERR_NANINF;
    if (seq <= vclockGet(&obs->dots, actor)) return NUMERR_CLOCK;
    if (!isfinite(inc) || !isfinite(want)) {
        zsetDeltaAdd(delta, obs, actor, seq, want);
    } else if (fieldDeltaIncr(delta, obs, kr, actor, seq, 0, (long double)inc) != C_OK) {
        return NUMERR_CLOCK;
    }
    /* register values the key's removal covers are removed in the delta
     * too, so that the member's own state reads as it does through the
     * removal (its score index entry is computed without the removal) */
    for (int i = 0; i < obs->nv; i++)
        if (causalCovers(kr, obs->v[i].actor, obs->v[i].seq) &&
            obs->v[i].seq > vclockGet(&delta->ctx, obs->v[i].actor))
            vclockRaise(&delta->ctx, obs->v[i].actor, obs->v[i].seq);
    delta->scored = 1;
    field after;
    fieldInit(&after);
    fieldCopy(&after, obs);
    fieldMerge(&after, delta);
    if (!zsetScore(&after, kr, result)) *result = want;
    fieldFree(&after);
    return NUMERR_OK;
}
