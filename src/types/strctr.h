/* strctr.h -- string counters: INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT
 * as counter contributions beside a string key's sibling record, so that
 * increments made through different coordinators (during a failure, a
 * partition) add up instead of one overwriting the other. Pure.
 *
 * A string key's state is its record (record.h: SET's versions, siblings,
 * tombstones, expiry) and a counter (counter.h). It reads as number.h's
 * rule applied to the visible version's value (the base) and the live
 * contributions:
 *   - INCRBY by actor A at dot s adds to A's running total (no version is
 *     written, so a concurrent SET is not lost either);
 *   - SET, GETSET, SET ... and DEL clear the contributions they observed
 *     (a baseline per actor): an INCR they did not observe survives, added
 *     to the SET's value (or to 0 after a DEL);
 *   - expiry: when the visible version's expiry T has passed, every
 *     contribution made at or before T (HLC) is gone with it; one made after
 *     T (a coordinator that saw the key expired starts from 0) stays, and
 *     the key then reads as that amount with no TTL, as in Redis where an
 *     INCR recreates an expired key. A coordinator writing to a key whose
 *     expiry passed stores that expiry in the counter (its floor), so it
 *     still holds after a later SET hides the expired version.
 * The key exists when it has a visible version or a live contribution.
 *
 * API:
 *   strctrRemoval(r, now, &kr)          the expiry the record implies
 *   strctrRead(r, c, now, out)          NUM_* and GET's text
 *   strctrLive(r, now)                  the key exists as a string
 *   strctrDeltaIncrBy(delta, r, c, now, actor, seq, inc, &result)
 *   strctrDeltaIncrByFloat(delta, r, c, now, actor, seq, inc, out, &step)
 *   strctrDeltaClear(delta, r, c, now)  the counter half of SET/DEL's delta
 *   strctrDeltaAdd(delta, r, c, now, actor, seq, di, df)   an amount, at the coordinator
 *   strctrFloatStep(r, c, now, want)    INCRBYFLOAT's amount
 *   strctrCandidate(r, c, now, &cand)   the key as a string for keymetaResolveType
 */
#ifndef RINGKV_STRCTR_H
#define RINGKV_STRCTR_H

#include "counter.h"
#include "keymeta.h"
#include "number.h"
#include "record.h"

void strctrRemoval(const record *r, long long now_ms, causalRemoval *kr);
int strctrRead(const record *r, const counter *c, long long now_ms, buf *out);
/* The key exists as a string: a visible version or a live contribution. */
int strctrLive(const record *r, long long now_ms);
/* NUMERR_*; on NUMERR_OK delta is the increment and *result GET's value after it. */
int strctrDeltaIncrBy(counter *delta, const record *r, const counter *c, long long now_ms,
                      uint64_t actor, uint64_t seq, long long inc, long long *result);
/* NUMERR_*; on NUMERR_OK out holds INCRBYFLOAT's reply. */
/* step (may be NULL) gets the amount the delta adds: what a coordinator
 * adds to its own total (strctrDeltaAdd) for the value to read as the reply. */
int strctrDeltaIncrByFloat(counter *delta, const record *r, const counter *c, long long now_ms,
                           uint64_t actor, uint64_t seq, long double inc, buf *out,
                           long double *step);
void strctrDeltaClear(counter *delta, const record *r, const counter *c, long long now_ms);
/* An increment of (di, df) by actor at dot seq over what r and c hold: the
 * version coordinator's step, which turns the amount a command computed into
 * its own running total from its own copy (that copy always holds its earlier
 * ones, so its total only grows). C_ERR: seq not above the actor's. */
int strctrDeltaAdd(counter *delta, const record *r, const counter *c, long long now_ms,
                   uint64_t actor, uint64_t seq, i128 di, long double df);
/* What INCRBYFLOAT adds so that the value reads as want (number.h). */
long double strctrFloatStep(const record *r, const counter *c, long long now_ms,
                            long double want);
void strctrCandidate(const record *r, const counter *c, long long now_ms, keymetaCand *cand);

#endif
