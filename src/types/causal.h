/* causal.h -- what every data-type state in src/types/ is built from: dots,
 * last-writer-wins stamps, and removals. Pure: no I/O, no globals.
 *
 * Dots. Every write a version coordinator makes is named by a dot (actor,
 * counter): the actor is the node's incarnation, the counter its HLC
 * timestamp (vclock.h). An actor's counters grow with every event it makes,
 * across all keys, so an actor's events are totally ordered, and a node
 * that has seen an actor's event c has, causally, the actor's events before
 * c in its past (the actor made them first, and wrote them locally first).
 *
 * Dot sets as clocks. So a set of dots can be kept as a clock (a vclock:
 * per actor the largest counter), and a context "everything this remove
 * saw" as a clock too: a dot (a, c) is covered by context k when
 * c <= k[a]. A covered dot is one the remover saw, or one its actor made
 * before one the remover saw: never one made concurrently with the remove
 * (that one's counter is above everything the remover saw of the actor).
 * This is what makes removes observed-removes: a concurrent add survives.
 *
 * Stamps. A last-writer-wins register orders writes by (HLC timestamp,
 * actor): the higher timestamp wins, a tie goes to the higher actor. Two
 * writes never share a stamp (an actor never repeats a timestamp).
 *
 * Removals. A key-level removal is what a DEL or an expiry of a collection
 * left in the key's metadata (keymeta.h): a clock rm (the DEL saw these
 * dots) and a floor (an expiry at time T removes every dot stamped at or
 * before T, whoever made it). Element states are read through it.
 *
 * API:
 *   causalStampCmp(a, b)                  -1, 0, 1 (HLC, then actor)
 *   causalCovers(rm, actor, counter)      the key-level removal covers this dot
 *   causalFloorOfMs(ms)                   the largest HLC timestamp within ms
 *   causalDotLive(counter, ctx, rm, a)    a dot not covered by an element's
 *                                         context nor by the key's removal
 */
#ifndef RINGKV_CAUSAL_H
#define RINGKV_CAUSAL_H

#include <stdint.h>

#include "vclock.h"

typedef struct causalStamp {
    uint64_t ts;    /* HLC timestamp of the write; 0 = never written */
    uint64_t actor; /* the writer's incarnation: breaks ties */
} causalStamp;

typedef struct causalRemoval {
    const vclock *rm; /* borrowed; NULL = nothing removed by a DEL */
    uint64_t floor;   /* every dot with counter <= floor is removed; 0 = none */
} causalRemoval;

static inline int causalStampCmp(causalStamp a, causalStamp b) {
    if (a.ts != b.ts) return a.ts < b.ts ? -1 : 1;
    if (a.actor != b.actor) return a.actor < b.actor ? -1 : 1;
    return 0;
}

/* kr may be NULL (no key-level removal). */
static inline int causalCovers(const causalRemoval *kr, uint64_t actor, uint64_t counter) {
    if (!kr) return 0;
    if (counter <= kr->floor) return 1;
    return kr->rm && counter <= vclockGet(kr->rm, actor);
}

/* Redis expires a key once the clock is past its expiry time: a write made
 * within the expiry's millisecond happened before it. */
static inline uint64_t causalFloorOfMs(int64_t ms) {
    if (ms <= 0) return 0;
    return hlcFromMs((uint64_t)ms + 1) - 1;
}

static inline int causalDotLive(uint64_t actor, uint64_t counter, const vclock *ctx,
                                const causalRemoval *kr) {
    return counter > vclockGet(ctx, actor) && !causalCovers(kr, actor, counter);
}

#endif
