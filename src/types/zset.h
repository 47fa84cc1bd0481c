/* zset.h -- a sorted set's members as replicated states: add-wins
 * membership, ZADD's score a last-writer-wins register, ZINCRBY a counter
 * contribution to it (as Redis Enterprise merges scores). Pure.
 *
 * Each member is a field.h state stored under its own key (its register
 * value is the score's 8 bytes, tcodec's double); the key has a keymeta.h
 * record. A member reads as:
 *   - present when one of its dots is live (a ZADD or ZINCRBY no ZREM
 *     observed, not removed with the key);
 *   - score = the winning live ZADD score (largest HLC, then actor; 0 if
 *     none) + the ZINCRBY contributions no ZADD/ZREM observed, summed in
 *     long double and rounded once to a double. A ZREM concurrent with a
 *     ZINCRBY leaves the member with the increment alone (Redis Enterprise:
 *     ZADD 4.1 x; ZREM x || ZINCRBY 2 x -> 2).
 * Infinite scores are registers, never contributions: a ZINCRBY whose
 * increment or result is infinite writes the result as a ZADD would (so
 * contributions stay finite and sums never meet inf - inf); a NaN result is
 * refused as Redis refuses it.
 * The score index a storage layer keeps for ranges is derived: a member's
 * score changes when a contribution or a register merges in, so the index
 * is recomputed from the member after each merge, never merged itself. It
 * is computed from the member's own state, without the key's removal
 * (zsetScore(f, NULL)): every delta here flags the member (field.h's
 * scored), and ZINCRBY also removes the register values the key's removal
 * covers, so that after a command the member reads alike with and without
 * it.
 *
 * API:
 *   zsetScore(f, kr, &score)                      1 present, 0 absent
 *   zsetDeltaAdd(delta, obs, actor, seq, score)   ZADD (and ZADD INCR's write)
 *   zsetDeltaRem(delta, obs)                      ZREM, ZPOP*, ZREMRANGE*
 *   zsetDeltaIncr(delta, obs, kr, actor, seq, inc, &result)   ZINCRBY
 */
#ifndef RINGKV_ZSET_H
#define RINGKV_ZSET_H

#include "field.h"
#include "number.h"

int zsetScore(const field *f, const causalRemoval *kr, double *score);
void zsetDeltaAdd(field *delta, const field *obs, uint64_t actor, uint64_t seq, double score);
void zsetDeltaRem(field *delta, const field *obs);
/* NUMERR_OK, NUMERR_NANINF (the result would be NaN) or NUMERR_CLOCK. */
int zsetDeltaIncr(field *delta, const field *obs, const causalRemoval *kr, uint64_t actor,
                  uint64_t seq, double inc, double *result);

#endif
