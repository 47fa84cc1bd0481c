/* hash.c -- hash fields: reading and the deltas of HSET, HDEL and the
 * increments. See hash.h. */
#include "hash.h"

#include <string.h>

int hashFieldRead(const field *f, const causalRemoval *kr, buf *out) {
    bufClear(out);
    if (!fieldLive(f, kr)) return NUM_ABSENT;
    const fieldVal *v = fieldValue(f, kr);
    counterTotal t;
    counterSum(&f->ctr, kr, &t);
    int kind = numberRead(v ? v->val : NULL, v ? v->len : 0, v != NULL, &t, out);
    if (kind == NUM_ABSENT) { /* present by an increment whose amount is gone */
        bufAppendStr(out, "0");
        kind = NUM_INT;
    }
    return kind;
}

void hashDeltaSet(field *delta, const field *obs, uint64_t actor, uint64_t seq, const void *val,
                  size_t len) {
    fieldDeltaAssign(delta, obs, actor, seq, val, len);
}

void hashDeltaDel(field *delta, const field *obs) { fieldDeltaRemove(delta, obs); }

/* The value obs reads as once delta is merged into it. */
static int readAfter(const field *obs, const field *delta, const causalRemoval *kr, buf *out) {
    field after;
    fieldInit(&after);
    fieldCopy(&after, obs);
    fieldMerge(&after, delta);
    int kind = hashFieldRead(&after, kr, out);
    fieldFree(&after);
    return kind;
}

int hashDeltaIncrBy(field *delta, const field *obs, const causalRemoval *kr, uint64_t actor,
                    uint64_t seq, long long inc, long long *result) {
    buf cur;
    bufInit(&cur);
    int kind = hashFieldRead(obs, kr, &cur);
    long long want;
    int rc = numberIncrBy(cur.ptr, cur.len, kind != NUM_ABSENT, inc, &want);
    if (rc == NUMERR_OK &&
        fieldDeltaIncr(delta, obs, kr, actor, seq, (i128)inc, 0) != C_OK)
        rc = NUMERR_CLOCK;
    if (rc == NUMERR_OK) {
        readAfter(obs, delta, kr, &cur);
        if (!string2ll(cur.ptr, cur.len, result)) *result = want;
    }
    bufFree(&cur);
    return rc;
}

/* The field's unrounded value once delta is merged into obs. */
static long double exactAfter(const field *obs, const field *delta, const causalRemoval *kr) {
    field after;
    fieldInit(&after);
    fieldCopy(&after, obs);
    fieldMerge(&after, delta);
    const fieldVal *v = fieldValue(&after, kr);
    counterTotal t;
    counterSum(&after.ctr, kr, &t);
    long double x = numberExact(v ? v->val : NULL, v ? v->len : 0, v != NULL, &t);
    fieldFree(&after);
    return x;
}

int hashDeltaIncrByFloat(field *delta, const field *obs, const causalRemoval *kr, uint64_t actor,
                         uint64_t seq, long double inc, buf *out) {
    bufClear(out);
    int kind = hashFieldRead(obs, kr, out);
    long double want;
    int rc = numberIncrByFloat(out->ptr, out->len, kind != NUM_ABSENT, inc, &want);
    if (rc == NUMERR_OK) {
        /* the step that makes the field read as want (number.h), read back
         * and corrected as strctr.c does: a running total far from 0 loses
         * the step's last bits */
        char wtxt[5120];
        int wl = ld2string(wtxt, sizeof(wtxt), want);
        long double step = inc;
        if (fieldLive(obs, kr)) {
            const fieldVal *v = fieldValue(obs, kr);
            counterTotal t;
            counterSum(&obs->ctr, kr, &t);
            step = numberFloatStep(v ? v->val : NULL, v ? v->len : 0, v != NULL, &t, want);
        }
        for (int i = 0; i < 4; i++) {
            if (fieldDeltaIncr(delta, obs, kr, actor, seq, 0, step) != C_OK) {
                rc = NUMERR_CLOCK;
                break;
            }
            readAfter(obs, delta, kr, out);
            if (out->len == (size_t)wl && !memcmp(out->ptr, wtxt, (size_t)wl)) break;
            step += want - exactAfter(obs, delta, kr);
        }
    }
    if (rc != NUMERR_OK) bufClear(out);
    return rc;
}
