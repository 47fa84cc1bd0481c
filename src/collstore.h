/* collstore.h -- this node's copy of collection keys (collstore.c): a
 * replica's side of collection reads and writes.
 *
 * A read answer is the bytes a replica sends its coordinator (and what the
 * coordinator's own copy decodes from, so both go one way):
 *   varint len + the key's string record (empty: none)
 *   varint len + the metadata (empty: none)
 *   varint len + the HyperLogLog sketch (empty: none, or not asked for)
 *   u8 flags: 1 complete (every element stored here is in the answer, or
 *             for a probe: every element stored here that lives here),
 *             2 more (a live element that was not named is in the answer),
 *             4 stats (the two figures below follow)
 *   [u64 count, u64 digest]  COLL_READ_COUNT: the collection's figures here
 *             (collbatch.h's collStats), when this node can give them
 *   varint n, n x (u8 named, varint len + element, varint len + state)
 *
 * API:
 *   collStoreRead(db, key, klen, mode, names, lens, n, out)   C_OK / C_ERR (storage)
 *   collStoreApply(db, key, klen, batch, blen, cb, pd)        C_ERR: malformed batch
 *   collStoreHasMeta(db, key, klen)                          a collection's metadata is here
 *   collAnswerNext / collAnswerInit                          decoding an answer */
#ifndef RINGKV_COLLSTORE_H
#define RINGKV_COLLSTORE_H

#include "db.h"
#include "types/tcodec.h"

/* What a collection read fetches besides the metadata and the string
 * record (coll.h's collRead). */
#define COLL_READ_META 0  /* no element */
#define COLL_READ_NAMED 1 /* the named elements, and a probe for others */
#define COLL_READ_ALL 2   /* every element */
#define COLL_READ_HLL 3   /* the HyperLogLog sketch */
#define COLL_READ_FIELDS 4 /* the named elements only, no probe (adds, lookups: cheaper) */
#define COLL_READ_SAMPLE 5 /* up to COLL_PROBE live elements from where the one name (random
                            * bytes) falls in the element order, wrapping (SPOP, SRANDMEMBER) */
#define COLL_READ_RANGE 6  /* a sorted set's live members in score index order, as the
                            * one name (collbatch.h's collRange) asks; complete: the
                            * range ran out here */
#define COLL_READ_COUNT 7  /* no element: the collection's figures (count, digest) */

/* How many live elements a COLL_READ_NAMED probe returns besides the named. */
#define COLL_PROBE 4

int collStoreRead(int db, const char *key, size_t klen, int mode, const char *const *names,
                  const size_t *lens, int n, buf *out);
/* Merges every delta of the batch into (db, key)'s keys (one write batch),
 * blind; cb runs once durable. C_ERR, nothing written, on a malformed batch
 * (cb not called). */
int collStoreApply(int db, const char *key, size_t klen, const char *batch, size_t blen,
                   dbWriteCb *cb, void *pd);

/* 1 when this node stores metadata of a collection at (db, key): a string
 * read that finds no record says so, and the command then reads the
 * collection to answer WRONGTYPE (collstore.c). */
int collStoreHasMeta(int db, const char *key, size_t klen);

/* A decoded answer's header; elements follow in rd. Pointers borrow the
 * answer's bytes. */
typedef struct collAnswer {
    const char *str, *meta, *sketch;
    size_t strlen, metalen, sketchlen;
    int flags;
    uint64_t count, digest; /* COLL_ANS_STATS: the figures */
    uint64_t n;
    tcReader rd; /* at the first element */
} collAnswer;
#define COLL_ANS_COMPLETE 1
#define COLL_ANS_MORE 2
#define COLL_ANS_STATS 4

int collAnswerInit(collAnswer *a, const char *p, size_t len);
/* 1 an element, 0 done, -1 malformed. */
int collAnswerNext(collAnswer *a, int *named, const char **elem, size_t *elen, const char **state,
                   size_t *slen);

#endif
