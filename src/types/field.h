/* field.h -- the state of one element of a collection: a set member, a
 * hash field or a sorted-set member. Each is stored under a RocksDB key of
 * its own (Kvrocks's layout, Riak bigsets' idea), so this is the whole
 * state a storage merge operand needs for it. Pure: no I/O, no globals.
 *
 * State (every part a join-semilattice, so the whole is one):
 *   dots  presence: per actor, the dot of its latest write to the element
 *         (SADD, HSET, HINCRBY, ZADD, ZINCRBY); a clock (causal.h)
 *   ctx   what removes of this element observed (SREM, HDEL, ZREM, and the
 *         writes that replace a value): a clock; a dot at or below it is gone
 *   vals  the value register: per actor its latest assigned value (HSET's
 *         bytes, ZADD's score) with the assignment's dot. The value read is
 *         the live one with the largest stamp (HLC, then actor): last writer
 *         wins among the assignments no remove observed
 *   ctr   counter contributions (counter.h): HINCRBY(FLOAT), ZINCRBY
 *   scored a flag, set by every sorted-set delta (zset.h), merged by or: the
 *         element is a sorted-set member, its register holds a score, and
 *         the storage layer keeps it in the key's score index (db.c)
 *
 * An element is present when one of its dots is live: above ctx and not
 * covered by the key's removal (DEL/expiry, keymeta.h, passed in as kr).
 * A remove records the dots it saw in ctx and a baseline of each counter
 * entry it saw, so an add or increment it did not see survives (add wins),
 * with only its own amount.
 *
 * Merge is pointwise: dots and ctx by max per actor, vals per actor by the
 * larger dot (ties, impossible in valid states, by the bytes), ctr by
 * counterMerge. Normalized after every merge: dots and vals at or below
 * ctx are dropped (removed, now and after any merge). Read through a key
 * removal, the element is normalized further by fieldDroppable.
 *
 * Deltas are fields too, so a replica merges a delta exactly as it merges
 * a whole state (a RocksDB merge operand needs nothing else):
 *   fieldDeltaAdd       SADD:        dots {actor: seq}
 *   fieldDeltaRemove    SREM, HDEL, ZREM: ctx := observed dots, counter baselines
 *   fieldDeltaAssign    HSET, ZADD:  a remove of what it observed + dot + value
 *   fieldDeltaIncr      HINCRBY, ZINCRBY: dot + counter entry
 *
 * Encoding:
 *   u8 1 (format), u8 flags (1 dots, 2 ctx, 4 vals, 8 ctr, 16 scored),
 *   [clock dots] [clock ctx] [varint n, n x (u64 actor, varint seq, varint len, bytes)]
 *   [counter]     -- parts that are empty are omitted; canonical only
 *
 * API:
 *   fieldInit/fieldFree/fieldClear/fieldCopy/fieldEqual
 *   fieldMerge(dst, src)          join, dst normalized
 *   fieldEncode/fieldDecode
 *   fieldLive(f, kr)              present?
 *   fieldValue(f, kr)             the register's winning live value, or NULL
 *   fieldDroppable(f, kr)         storage may delete the element's key
 *   fieldEncodedScored(p, len)    a stored state is a sorted-set member
 *   fieldDelta*                   the deltas above
 */
#ifndef RINGKV_FIELD_H
#define RINGKV_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include "causal.h"
#include "counter.h"
#include "util.h"
#include "vclock.h"

typedef struct fieldVal {
    uint64_t actor; /* who assigned it */
    uint64_t seq;   /* the assignment's dot (its HLC timestamp) */
    char *val;      /* the value bytes, owned */
    size_t len;     /* value length */
} fieldVal;

typedef struct field {
    vclock dots;  /* presence: newest write per actor */
    vclock ctx;   /* observed-remove context */
    int nv;       /* values used, sorted by actor */
    int cap;      /* values allocated */
    fieldVal *v;  /* owned */
    counter ctr;  /* contributions */
    int scored;   /* a sorted-set member: vals are scores (set by zset.h's
                   * deltas, merged by or): what tells the storage layer to
                   * keep it in the key's score index */
} field;

#define FIELD_FORMAT 1
#define FIELD_MAX_ACTORS 65536

void fieldInit(field *f);
void fieldFree(field *f);
void fieldClear(field *f);
void fieldCopy(field *dst, const field *src); /* dst initialized; values copied */
int fieldEqual(const field *a, const field *b);
/* dst := dst join src (src borrowed; values copied). Returns 1 if dst changed. */
int fieldMerge(field *dst, const field *src);
void fieldEncode(const field *f, buf *out);
/* Values are copied out of p. C_ERR on anything but a canonical field. */
int fieldDecode(field *f, const void *p, size_t len);

/* The encoded state p (len bytes) is flagged scored: a cheap look at its
 * flags, no decoding (the storage layer's test for the score index). */
int fieldEncodedScored(const void *p, size_t len);

/* kr may be NULL. */
int fieldLive(const field *f, const causalRemoval *kr);
const fieldVal *fieldValue(const field *f, const causalRemoval *kr);
/* Nothing in f matters any more under kr: every dot and value is removed,
 * ctx is covered by kr (a late add it removes is removed by kr as well),
 * and it holds no counter slot (a baseline keeps mattering as long as its
 * actor may add to the chain). */
int fieldDroppable(const field *f, const causalRemoval *kr);

/* Each delta constructor clears delta first; obs is the coordinator's state
 * of the element (borrowed), seq its dot for this write (its HLC now). */
void fieldDeltaAdd(field *delta, uint64_t actor, uint64_t seq);
void fieldDeltaRemove(field *delta, const field *obs);
void fieldDeltaAssign(field *delta, const field *obs, uint64_t actor, uint64_t seq,
                      const void *val, size_t len);
/* C_ERR as counterDeltaIncr (seq not above the actor's, or overflow). */
int fieldDeltaIncr(field *delta, const field *obs, const causalRemoval *kr, uint64_t actor,
                   uint64_t seq, i128 di, long double df);

#endif
