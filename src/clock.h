/* clock.h -- this node's hybrid logical clock: the timestamps that name the
 * versions it creates (their dots' counters, vclock.h).
 *
 * One clock per process, kept ahead of every timestamp it issued and every
 * one it saw (in a replica write, a read answer, a hint, a bus message), so
 * that a new version is later than everything it is written over and "newest
 * by HLC" never contradicts causality. It never goes backwards, across
 * restarts too: a high-water mark rides in every storage batch (meta
 * "hlc_mark"), and a start begins above it.
 *
 * The arithmetic (hlcNext, hlcObserve) is vclock.c's, pure and unit-tested;
 * this module owns the one clock and its persistence.
 *
 * API:
 *   clockLoad()        at start, with the store open: begin above the mark,
 *                      and carry the mark in every batch from now on
 *   clockNext()        a fresh timestamp for a new version
 *   clockObserve(ts)   a timestamp seen elsewhere: the next one is above it
 *   clockLast()        the largest timestamp issued or observed
 *
 * Invariants: clockNext() > every earlier clockNext() and clockObserve(ts)
 * of this process and of every earlier process on the same data directory
 * whose writes survived; the mark stored with a batch covers every timestamp
 * the batch's writes carry (both or neither survive a crash). */
#ifndef RINGKV_CLOCK_H
#define RINGKV_CLOCK_H

#include <stdint.h>

/* Reads the mark, starts the clock above it, puts the new mark into the
 * current batch (the caller commits it) and registers the before-commit
 * hook that keeps it current. Call once, after storeOpen. */
void clockLoad(void);
uint64_t clockNext(void);
void clockObserve(uint64_t ts);
uint64_t clockLast(void);

#endif
