/* hash.h -- a hash's fields as replicated states: add-wins fields whose
 * value is a last-writer-wins register plus counter contributions. Pure.
 *
 * Each field is a field.h state stored under its own key; the hash's key
 * has a keymeta.h record (DEL, expiry, type). What a field reads as:
 *   - present when one of its dots is live (an HSET or HINCRBY no HDEL
 *     observed, not removed with the key);
 *   - its text: the winning live HSET value (largest HLC, then actor) plus
 *     the HINCRBY/HINCRBYFLOAT contributions no HSET/HDEL observed, shown
 *     by number.h's rule (integer, or float as HINCRBYFLOAT writes it, or
 *     the value itself when nothing was added to it);
 *   - HSET and HDEL clear the contributions they observed; an HINCRBY they
 *     did not observe (concurrent) survives with its own amount, on top of
 *     the HSET's value, or from 0 after the HDEL (the field exists again).
 *
 * The delta constructors take the coordinator's state of the field (obs)
 * and, for increments, give the reply Redis would give: the value after
 * the delta is merged into obs (so the reply is what a read shows).
 *
 * API:
 *   hashFieldRead(f, kr, out)                  NUM_ABSENT or the value's kind
 *   hashDeltaSet(delta, obs, actor, seq, val, len)      HSET, HSETNX, HMSET
 *   hashDeltaDel(delta, obs)                   HDEL
 *   hashDeltaIncrBy(delta, obs, kr, actor, seq, inc, &result)        HINCRBY
 *   hashDeltaIncrByFloat(delta, obs, kr, actor, seq, inc, out)       HINCRBYFLOAT
 */
#ifndef RINGKV_HASH_H
#define RINGKV_HASH_H

#include "field.h"
#include "number.h"

/* NUM_ABSENT when the field is not present; out gets the text otherwise. */
int hashFieldRead(const field *f, const causalRemoval *kr, buf *out);
void hashDeltaSet(field *delta, const field *obs, uint64_t actor, uint64_t seq, const void *val,
                  size_t len);
void hashDeltaDel(field *delta, const field *obs);
/* NUMERR_*; on NUMERR_OK delta holds the increment and *result the value. */
int hashDeltaIncrBy(field *delta, const field *obs, const causalRemoval *kr, uint64_t actor,
                    uint64_t seq, long long inc, long long *result);
/* NUMERR_*; on NUMERR_OK out holds the reply text. */
int hashDeltaIncrByFloat(field *delta, const field *obs, const causalRemoval *kr, uint64_t actor,
                         uint64_t seq, long double inc, buf *out);

#endif
