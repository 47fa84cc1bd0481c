/* vclock.h -- vector clocks, dots, and hybrid logical clocks. Pure, no I/O.
 *
 * ringkv versions are "dotted": a version is named by its dot (actor, counter)
 * and carries the causal past it was written over, a vector clock. A version
 * A makes version B obsolete exactly when B's dot is inside A's history
 * (A.past covers it, or A is B). This is what lets VSET supersede exactly the
 * siblings its context names and no others, and what keeps a write that was
 * made from an old context concurrent with the versions it never saw
 * (plain vector clocks with server actors would silently order them; Riak's
 * "sibling explosion"/lost-update history is the lesson).
 *
 * Counters are HLC timestamps of the actor (48 bits of milliseconds, 16 bits
 * of logical count). They grow per actor across every key and across
 * restarts, so a dot is never reused even after an entry was pruned, and the
 * counter doubles as the entry's timestamp for pruning.
 *
 * An actor is a random 64-bit number created with a node's data directory
 * (the "incarnation"): a node that lost its data comes back as a new actor and
 * can never produce a dot that collides with its old ones (Riak kv679).
 *
 * API:
 *   vclockInit/vclockFree/vclockCopy/vclockClear
 *   vclockGet(vc, actor)              counter of actor, 0 if absent
 *   vclockRaise(vc, actor, counter)   entry = max(entry, counter)
 *   vclockMerge(dst, src)             pointwise max
 *   vclockCompare(a, b)               VC_EQUAL / VC_BEFORE / VC_AFTER / VC_CONCURRENT
 *   vclockPrune(vc, max, keep)        drop the oldest entries past max, never keep
 *   vclockEncode/vclockDecode         compact binary form
 *   vclockFormat                      human readable text
 *   hlcNext/hlcObserve                hybrid logical clock
 */
#ifndef RINGKV_VCLOCK_H
#define RINGKV_VCLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct vcEntry {
    uint64_t actor;   /* node incarnation */
    uint64_t counter; /* HLC timestamp of the actor's latest event seen */
} vcEntry;

typedef struct vclock {
    int n;      /* entries used, sorted by actor, no duplicates */
    int cap;    /* entries allocated */
    vcEntry *e; /* owned */
} vclock;

#define VC_EQUAL 0
#define VC_BEFORE 1     /* a < b: b descends a */
#define VC_AFTER 2      /* a > b: a descends b */
#define VC_CONCURRENT 3

void vclockInit(vclock *vc);
void vclockFree(vclock *vc);
void vclockClear(vclock *vc);
void vclockCopy(vclock *dst, const vclock *src); /* dst must be initialized */
uint64_t vclockGet(const vclock *vc, uint64_t actor);
void vclockRaise(vclock *vc, uint64_t actor, uint64_t counter);
void vclockMerge(vclock *dst, const vclock *src);
int vclockDescends(const vclock *a, const vclock *b); /* a >= b pointwise */
int vclockCompare(const vclock *a, const vclock *b);
/* Keep at most max entries: drops the ones with the smallest counters (the
 * oldest), never the entry of actor keep. Returns entries dropped. Dropping
 * can only make versions look concurrent, never newer. */
int vclockPrune(vclock *vc, int max, uint64_t keep);

/* Binary: varint n, then n x (8 byte actor LE, varint counter). */
void vclockEncode(const vclock *vc, buf *out);
/* Decode from p[0..len), returns bytes used or -1 on malformed input. */
long vclockDecode(vclock *vc, const unsigned char *p, size_t len);
/* "actor:counter,actor:counter" with actors in hex. */
void vclockFormat(const vclock *vc, buf *out);

/* varints (LEB128), shared with record.c */
void varintPut(buf *out, uint64_t v);
long varintGet(const unsigned char *p, size_t len, uint64_t *v); /* bytes used or -1 */

/* ---- hybrid logical clock ---- */
#define HLC_LOGICAL_BITS 16
typedef struct hlc {
    uint64_t last; /* the largest timestamp issued or observed */
} hlc;

/* A timestamp greater than every one issued or observed, and at least the
 * wall clock (wall_ms). */
uint64_t hlcNext(hlc *h, uint64_t wall_ms);
/* Note a timestamp seen in a message or a stored version. */
void hlcObserve(hlc *h, uint64_t ts);
static inline uint64_t hlcPhysicalMs(uint64_t ts) { return ts >> HLC_LOGICAL_BITS; }
static inline uint64_t hlcFromMs(uint64_t ms) { return ms << HLC_LOGICAL_BITS; }

#endif
