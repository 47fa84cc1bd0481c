/* counter.h -- counter contributions: what INCR, INCRBY(FLOAT), HINCRBY(FLOAT)
 * and ZINCRBY add to a number, merged so that no increment is lost or
 * counted twice, whatever the order or duplication of deliveries. Pure.
 *
 * State. One slot per actor (the node incarnation that coordinated the
 * increment), holding two entries:
 *   - the entry: the actor's running totals (an integer part for INCRBY, a
 *     long double part for INCRBYFLOAT), stamped with the dot (seq) of the
 *     actor's latest increment. Only the actor writes its entry and its
 *     increments are sequential, so the entry with the larger seq is the
 *     newer total and contains the older one: merge keeps the larger seq.
 *   - the baseline: the actor's totals as a clear (SET, HSET, HDEL, ZADD,
 *     ZREM, DEL of a string) observed them. What the actor contributes is
 *     entry - baseline, and nothing once the baseline has caught up with
 *     the entry. Merge keeps the baseline with the larger seq.
 * plus a floor (string counters only): every entry stamped at or before it
 * is expired. A clear records exactly what it saw, so an increment made
 * concurrently with it (a larger seq it did not see) survives with only
 * its own amount: Redis Enterprise's "subtract what the remove observed".
 *
 * Join. Per actor the state is a pair of chains ordered by seq (ties, which
 * valid states never have, broken by the totals so that any two states
 * still merge deterministically), and the floor a maximum: a product of
 * total orders, so merge is commutative, associative and idempotent.
 * Normalized: an entry at or below its baseline or at or below the floor is
 * dropped (it contributes nothing now nor after any merge), so equal states
 * have equal encodings; decoding accepts normalized states only.
 *
 * Removals from outside. A collection's DEL or expiry (keymeta.h) covers
 * dots without touching every field; an entry whose seq it covers
 * contributes nothing. An entry above it still contributes entry - baseline:
 * if the same actor had incremented the field before that DEL and again
 * concurrently with it, the older increments come back with the newer (the
 * one case a collection-wide DEL is not exact; a DEL that is not
 * concurrent is exact, because the incrementing coordinator sees the
 * removal and writes a baseline first: counterDeltaIncr).
 *
 * Encoding (version byte first so it can evolve):
 *   u8 1, varint floor, varint n, n x slot sorted by actor:
 *   u64 actor, u8 flags (1 entry, 2 baseline, 4 entry int, 8 entry float,
 *   16 baseline int, 32 baseline float), [varint seq, [svarint128], [ldouble]],
 *   [varint bseq, [svarint128], [ldouble]]   (zero parts are omitted)
 *
 * API:
 *   counterInit/counterFree/counterClear/counterCopy
 *   counterMerge(dst, src)                  join; dst normalized after
 *   counterEncode/counterDecode             canonical; decode rejects anything else
 *   counterDeltaIncr(delta, obs, kr, actor, seq, di, df)   one increment
 *   counterDeltaClear(delta, obs)           baselines := what obs holds
 *   counterSum(c, kr, &sum)                 what the live entries add up to
 *   counterEqual(a, b)
 */
#ifndef RINGKV_COUNTER_H
#define RINGKV_COUNTER_H

#include <stddef.h>
#include <stdint.h>

#include "causal.h"
#include "tcodec.h"
#include "util.h"

/* Float totals are kept in binary128: a running total far from 0 (after
 * many increments, or below a baseline a SET left) minus its baseline must
 * give back an increment's every bit that a long double result shows
 * (10.5 + 0.1 must read 10.6 after the total went through 6000). */
typedef __float128 f128;

typedef struct counterSlot {
    uint64_t actor;    /* who coordinated these increments */
    uint64_t seq;      /* entry: dot of the actor's latest increment; 0 = no entry */
    i128 isum;         /* entry: running integer total */
    f128 fsum;         /* entry: running float total (finite) */
    uint64_t bseq;     /* baseline: seq of the entry a clear observed; 0 = none */
    i128 bisum;        /* baseline: integer total then */
    f128 bfsum;        /* baseline: float total then */
} counterSlot;

typedef struct counter {
    int n;          /* slots used, sorted by actor, no duplicates */
    int cap;        /* slots allocated */
    counterSlot *s; /* owned */
    uint64_t floor; /* string counters: entries with seq <= floor are expired */
} counter;

/* What the live contributions add up to. */
typedef struct counterTotal {
    i128 isum;        /* integer increments */
    f128 fsum;        /* float increments, summed by actor order */
    int live;         /* how many actors contribute */
} counterTotal;

#define COUNTER_FORMAT 1
#define COUNTER_MAX_SLOTS 65536

void counterInit(counter *c);
void counterFree(counter *c);
void counterClear(counter *c);
void counterCopy(counter *dst, const counter *src); /* dst initialized */
int counterEqual(const counter *a, const counter *b);
/* Returns 1 if dst changed. */
int counterMerge(counter *dst, const counter *src);
void counterEncode(const counter *c, buf *out);
/* Reads one counter from rd (c is cleared first). C_ERR: malformed. */
int counterRead(counter *c, tcReader *rd);
/* The whole of p[0..len) is one counter. */
int counterDecode(counter *c, const void *p, size_t len);

/* The delta of one increment by actor at dot seq, made over obs (the
 * coordinator's state, borrowed) read through the key-level removal kr
 * (may be NULL): delta gets the actor's new entry, and a baseline when the
 * actor's entry in obs no longer contributes (so the new entry contributes
 * exactly di + df). delta is cleared first. C_ERR if seq is not above
 * every seq obs holds for the actor (a coordinator's HLC only grows). */
int counterDeltaIncr(counter *delta, const counter *obs, const causalRemoval *kr,
                     uint64_t actor, uint64_t seq, i128 di, long double df);
/* The delta of a clear over obs: a baseline for every entry obs holds.
 * delta is cleared first. */
void counterDeltaClear(counter *delta, const counter *obs);

void counterSum(const counter *c, const causalRemoval *kr, counterTotal *t);
/* The actor's slot, or NULL. */
const counterSlot *counterFind(const counter *c, uint64_t actor);

#endif
