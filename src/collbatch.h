/* collbatch.h -- the byte formats of collection writes: a batch of deltas
 * (what a coordinator sends its replicas for one command), the parameters
 * of a score range read, and the merge of stored states by kind (what
 * RocksDB's merge operator calls). Pure: no
 * I/O, no globals; thread safe (the merge runs on RocksDB's threads).
 *
 * Batch: a sequence of entries, each
 *   u8 kind (COLLKEY_META, COLLKEY_HLL, COLLKEY_ELEM),
 *   varint elen, element bytes (empty unless ELEM),
 *   varint slen, the delta state's encoding (keymeta, hll or field).
 * A replica turns each entry into one merge operand on its storage key
 * (collkey.h), all in one RocksDB write batch, so a command's deltas land
 * together or not at all.
 *
 * API:
 *   collBatchAppend(out, kind, elem, elen, state, slen)
 *   collBatchNext(rd, &entry)        1 an entry, 0 the end, -1 malformed
 *   collMergeEncoded(kind, base, blen, ops, lens, n, out)   the join, by kind
 *   collStateValid(kind, p, len)     a state that decodes
 *   collRangeEncode / collRangeDecode / collRangeHas   a score range read's parameters
 *   collStatsEncode / collStatsDecode / collRemovalMark  a collection's figures (CF_KSTATS)
 *
 * Score range (COLL_READ_RANGE, collstore.h): u8 flags (1 rev, 2 min, 4 max,
 * 8 min exclusive, 16 max exclusive), [double min], [double max], varint
 * limit.
 */
#ifndef RINGKV_COLLBATCH_H
#define RINGKV_COLLBATCH_H

#include <stddef.h>

#include "types/causal.h"
#include "types/tcodec.h"
#include "util.h"

typedef struct collEntry {
    int kind;            /* COLLKEY_* */
    const char *elem;    /* borrowed from the batch */
    size_t elen;
    const char *state;   /* borrowed from the batch */
    size_t slen;
} collEntry;

void collBatchAppend(buf *out, int kind, const char *elem, size_t elen, const char *state,
                     size_t slen);
/* rd over the batch's bytes. Checks the kind and that the state decodes. */
int collBatchNext(tcReader *rd, collEntry *e);
/* 1 when p[0..len) is a well-formed (canonical) state of kind. */
int collStateValid(int kind, const char *p, size_t len);
/* The join of a stored value (base; NULL for none) and n operands, all
 * encodings of kind's state, as one canonical encoding into out (cleared).
 * Malformed inputs are left out; returns how many there were. */
int collMergeEncoded(int kind, const char *base, size_t blen, const char *const *ops,
                     const size_t *lens, int n, buf *out);

/* A score range read: a sorted set's members in the order of its score
 * index, from one end or a bound, up to a bound or a number of them. */
typedef struct collRange {
    int rev;            /* from the largest score down */
    int hasmin, hasmax; /* the bounds given */
    int minex, maxex;   /* exclusive bounds ("(1.5") */
    double min, max;    /* the bounds (never NaN) */
    uint64_t limit;     /* live members wanted at most; 0: every one in range */
} collRange;

/* A collection's figures, kept by each replica for its own copy (db.c):
 * how many elements live through the key's removal (its DELs and its
 * expiry once passed: keymetaRemoval), which removal that was (mark:
 * collRemovalMark; a count whose mark is not the key's current one is
 * stale, counted again from the elements), and the XOR of every stored
 * element's Merkle entry (merkleEntry of its key and state: two replicas
 * with the same digest and metadata hold the same collection).
 * Encoding: 3 x u64 LE (count, mark, digest). */
typedef struct collStats {
    uint64_t count;  /* live elements */
    uint64_t mark;   /* the removal they were counted through */
    uint64_t digest; /* XOR of the elements' Merkle entries */
} collStats;

#define COLL_STATS_LEN 24
void collStatsEncode(const collStats *st, unsigned char out[COLL_STATS_LEN]);
int collStatsDecode(collStats *st, const char *p, size_t len); /* C_ERR: not 24 bytes */
/* A hash of a key's removal (keymetaRemoval's: the DELs' context and the
 * floor of fired or passed expiries); the same for equal removals. kr
 * may be NULL (none). */
uint64_t collRemovalMark(const causalRemoval *kr);

void collRangeEncode(const collRange *q, buf *out); /* out cleared first */
int collRangeDecode(collRange *q, const char *p, size_t len); /* C_ERR: malformed */
/* 1 when score is within q's bounds; else 0, with *past 1 when it lies
 * beyond the bound the walk goes towards (the walk is over). */
int collRangeHas(const collRange *q, double score, int *past);

#endif
