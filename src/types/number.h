/* number.h -- what a string value plus counter contributions reads as, the
 * way Redis shows numbers: the one rule GET (string counters) and HGET
 * (hash fields) share. Pure: no I/O, no globals.
 *
 * A key or field holds a base (the last value SET/HSET wrote, or none) and
 * the counter contributions no clear observed (counter.h). It reads as:
 *   - no live contribution: the base, byte for byte (so "1.0" stays "1.0",
 *     as in Redis until something increments it);
 *   - a base that is not a number (not an integer nor a float by Redis's
 *     parsing rules, e.g. "abc" written by a SET concurrent with INCRs):
 *     the base; the contributions stay stored, hidden, until a clear
 *     observes them (the next INCR is refused as in Redis: not an integer);
 *   - an integer base (or none) and no float contribution (the float parts
 *     sum to exactly 0): the exact integer base + the integer increments,
 *     in decimal (past 64 bits too: only concurrent increments can get
 *     there, and the next INCR says it would overflow);
 *   - otherwise: base + integer increments + float increments summed in
 *     long double and written as Redis writes INCRBYFLOAT's result
 *     ("%.17Lf" without trailing zeros: 10.5 + 0.5 reads "11", after which
 *     INCR works again, as in Redis).
 *
 * Increments are checked against what the value reads as, as Redis checks
 * them (the coordinator does, before it makes a delta):
 *   numberIncrBy      the value must be an integer (or absent: 0) and the
 *                     result must fit 64 bits
 *   numberIncrByFloat the value must parse as a long double, the result be
 *                     finite
 *
 * API:
 *   numberRead(base, blen, hasBase, total, out)  NUM_* and the text in out
 *   numberIncrBy(text, len, present, inc, &result)        NUMERR_*
 *   numberIncrByFloat(text, len, present, inc, &result)   NUMERR_*
 *   numberExact / numberFloatStep                  the unrounded value; INCRBYFLOAT's step
 */
#ifndef RINGKV_NUMBER_H
#define RINGKV_NUMBER_H

#include <stddef.h>

#include "counter.h"
#include "util.h"

#define NUM_ABSENT 0 /* no base, no live contribution */
#define NUM_STRING 1 /* the base as it is */
#define NUM_INT 2    /* an integer */
#define NUM_FLOAT 3  /* a long double result */

/* Why an increment is refused; the command layer words it as Redis does. */
#define NUMERR_OK 0
#define NUMERR_NOTINT 1   /* "value is not an integer or out of range" / "hash value is not an integer" */
#define NUMERR_NOTFLOAT 2 /* "value is not a valid float" / "hash value is not a float" */
#define NUMERR_OVERFLOW 3 /* "increment or decrement would overflow" */
#define NUMERR_NANINF 4   /* "increment would produce NaN or Infinity" */
#define NUMERR_CLOCK 5    /* the dot is not above the actor's own: a coordinator bug */

/* out is cleared first; it receives the text (empty for NUM_ABSENT). */
int numberRead(const char *base, size_t blen, int hasBase, const counterTotal *t, buf *out);
/* The value base + contributions, unrounded (what numberRead prints). */
long double numberExact(const char *base, size_t blen, int hasBase, const counterTotal *t);
/* What an INCRBYFLOAT must add so that the value reads as want: Redis
 * parses the value's 17-decimal text, adds, and stores the result's text,
 * so a chain of increments is rounded at every step; adding the raw
 * increments instead drifts from Redis in the last digits (10.5 + 0.1
 * after a few steps read 10.60000000000000009). The step is want minus the
 * unrounded value, so the sum reads as Redis's result. */
long double numberFloatStep(const char *base, size_t blen, int hasBase, const counterTotal *t,
                            long double want);
/* text/len: what the value reads as (numberRead), present: it exists. */
int numberIncrBy(const char *text, size_t len, int present, long long inc, long long *result);
int numberIncrByFloat(const char *text, size_t len, int present, long double inc,
                      long double *result);

#endif
