/* number.c -- base plus contributions, shown as Redis shows numbers. See
 * number.h. */
#include "number.h"

#include <math.h>

#include "tcodec.h"

int numberRead(const char *base, size_t blen, int hasBase, const counterTotal *t, buf *out) {
    bufClear(out);
    if (t->live == 0) {
        if (!hasBase) return NUM_ABSENT;
        bufAppend(out, base, blen);
        return NUM_STRING;
    }
    long long bi = 0;
    long double bf = 0;
    int intBase = 1;
    if (hasBase && !string2ll(base, blen, &bi)) {
        intBase = 0;
        if (!string2ld(base, blen, &bf)) {
            bufAppend(out, base, blen);
            return NUM_STRING;
        }
    }
    char tmp[5120];
    if (intBase && t->fsum == 0) {
        int n = tcFormatI128((i128)bi + t->isum, tmp, sizeof(tmp));
        bufAppend(out, tmp, (size_t)n);
        return NUM_INT;
    }
    long double v = intBase ? (long double)bi : bf;
    v += (long double)t->isum;
    v += (long double)t->fsum;
    int n = ld2string(tmp, sizeof(tmp), v);
    bufAppend(out, tmp, (size_t)n);
    return NUM_FLOAT;
}

long double numberExact(const char *base, size_t blen, int hasBase, const counterTotal *t) {
    long long bi = 0;
    long double bf = 0;
    if (hasBase && !string2ll(base, blen, &bi)) string2ld(base, blen, &bf);
    else bf = (long double)bi;
    return (long double)((f128)bf + (f128)t->isum + t->fsum);
}

long double numberFloatStep(const char *base, size_t blen, int hasBase, const counterTotal *t,
                            long double want) {
    return want - numberExact(base, blen, hasBase, t);
}

int numberIncrBy(const char *text, size_t len, int present, long long inc, long long *result) {
    long long cur = 0;
    if (present && !string2ll(text, len, &cur)) return NUMERR_NOTINT;
    if (__builtin_add_overflow(cur, inc, result)) return NUMERR_OVERFLOW;
    return NUMERR_OK;
}

int numberIncrByFloat(const char *text, size_t len, int present, long double inc,
                      long double *result) {
    long double cur = 0;
    if (present && !string2ld(text, len, &cur)) return NUMERR_NOTFLOAT;
    long double v = cur + inc;
    if (isnan(v) || isinf(v)) return NUMERR_NANINF;
    *result = v;
    return NUMERR_OK;
}
