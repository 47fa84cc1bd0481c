/* clock.c -- this node's hybrid logical clock and its high-water mark in
 * the meta column family. See clock.h.
 *
 * Persistence: the mark is the last timestamp issued or observed, written
 * by the store's before-commit hook (clockIntoBatch) into each batch that
 * carries writes, so the writes that used a timestamp and the mark that
 * covers it are one RocksDB write. The mark has a column family of its own
 * (CF_CLOCK, one key updated in place): written with every batch, its put
 * into the meta family cost 8-12k instructions a batch (callgrind). Data
 * directories written before CF_CLOCK keep it in CF_META: the larger of
 * the two counts at start. */
#include "clock.h"

#include <string.h>

#include "server.h"
#include "store.h"
#include "vclock.h"

#define META_HLC_MARK "hlc_mark"

/* How far ahead of the last timestamp issued the persisted mark runs. A
 * restart starts the clock at the mark, so a reserve is a jump into the
 * future after every crash: with 60 s, a restarted node's versions won every
 * "newest by HLC" choice between siblings for a minute, and a plain GET read
 * an older acknowledged value (stale reads in tests/fault/jepsen.py). With
 * 0, the mark is the last timestamp issued, written once per batch by the
 * store's before-commit hook (clockIntoBatch), in the batch of the writes
 * that used it: both or neither survive a crash. */
#define HLC_RESERVE_MS 0

static hlc nodeClock;      /* issues the timestamps */
static uint64_t persisted; /* the mark in the batch being built, or stored */
static uint64_t written;   /* the mark of the last batch the store wrote */

static void persistMark(uint64_t mark) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(mark >> (8 * i));
    storePut(CF_CLOCK, META_HLC_MARK, strlen(META_HLC_MARK), (const char *)b, 8);
    persisted = mark;
}

/* Before every commit: the mark covers every timestamp issued (or
 * observed) so far, so a restart never reissues one. */
static void clockIntoBatch(void) {
    if (nodeClock.last > persisted) persistMark(nodeClock.last + hlcFromMs(HLC_RESERVE_MS));
}

/* After each batch (storeOnWrite): a refused one (a full disk) did not
 * store its mark, so the next batch must carry one again. */
static void clockWritten(int ok) {
    if (ok) written = persisted;
    else persisted = written;
}

/* The persisted mark in cf, 0 if none. */
static uint64_t loadMark(int cf) {
    uint64_t mark = 0;
    storeValue v;
    if (storeGet(cf, META_HLC_MARK, strlen(META_HLC_MARK), &v) > 0) {
        if (v.len == 8)
            for (int i = 7; i >= 0; i--) mark = (mark << 8) | (unsigned char)v.ptr[i];
        storeValueFree(&v);
    }
    return mark;
}

void clockLoad(void) {
    uint64_t mark = loadMark(CF_CLOCK), legacy = loadMark(CF_META);
    if (legacy > mark) mark = legacy;
    hlcObserve(&nodeClock, mark);
    uint64_t now = hlcFromMs((uint64_t)serverNowMs() + HLC_RESERVE_MS);
    written = mark;
    persistMark(now > mark ? now : mark + hlcFromMs(HLC_RESERVE_MS));
    storeBeforeCommit(clockIntoBatch);
    storeOnWrite(clockWritten);
}

uint64_t clockNext(void) {
    /* The write that uses ts goes into the current batch, and the batch
     * carries the mark past ts (clockIntoBatch) before it is written. */
    return hlcNext(&nodeClock, (uint64_t)serverNowMs());
}

void clockObserve(uint64_t ts) { hlcObserve(&nodeClock, ts); }

uint64_t clockLast(void) { return nodeClock.last; }
