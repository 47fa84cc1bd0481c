/* coll.h -- reading and writing collection keys (sets, hashes, sorted sets,
 * HyperLogLog) through the cluster: what the data-type commands (t_set.c,
 * t_hash.c, t_zset.c, t_hll.c) use, as t_string.c uses coord.h.
 *
 * A collection is stored as a metadata record (keymeta.h) plus one RocksDB
 * key per element (field.h), or one sketch (hll.h), all in the key's
 * partition and Merkle bucket (collkey.h). A command:
 *   1. reads what it needs (collRead): the key's metadata, its string record
 *      (for the type rule), and the elements it names, or all of them,
 *      from the read level's replicas, merged (every state is a join, so
 *      the merge of any replicas' answers is a valid state);
 *   2. computes its reply and the deltas (src/types/: the smallest states
 *      that, merged in, have the command's effect) into a collBatch;
 *   3. writes the batch (collWrite): this node merges it in, the other
 *      replicas are sent exactly the batch (one field for an HSET, never the
 *      collection), each merges it in blind (RocksDB merge operands), and
 *      the callback runs once the write level acknowledged it.
 * Single-key writes run at the key's version coordinator (forward.c sends
 * the whole command there, as for INCR), so a key's commands see each
 * other's effects in order while nothing fails.
 *
 * Modes (collstore.h): COLL_READ_FIELDS reads the named elements (adds,
 * lookups); COLL_READ_ALL every element; COLL_READ_META none; COLL_READ_HLL
 * the sketch; COLL_READ_RANGE a sorted set's members in score order from
 * one end or a bound (names[0]: collbatch.h's collRange), as each replica's
 * score index lists them. When the replicas' lists differ (one missed a
 * write), the members any of them listed are read again by name from the
 * read level's replicas and merged in before the callback, so each state in
 * the view is the merge of R replicas' as in every other mode. Reads with COLL_READ_NAMED also probe for other live elements, so that a
 * command that removes can tell whether the key is now empty (Redis deletes
 * an emptied collection): v->more says at least one element that was not
 * named lives, v->complete that every element the replicas hold was seen.
 *
 * API:
 *   collRead(r, db, key, klen, mode, names, lens, n, cb, pd)
 *   collViewFind(v, name, len)          an element of the view, or NULL
 *   collElemLive(v, e)                  present (fieldLive through the key removal)
 *   collTypeOf(v)                       KT_* the key reads as, or -1 when absent
 *   collCheckType(r, v, type)           WRONGTYPE replied? 1 = the key is another type
 *   collDot(&seq)                       this node's next dot (server.actor, HLC)
 *   collBatch*                          the deltas of one command
 *   collWrite(r, db, key, klen, batch, cb, pd)
 *   collLiveCount(v)                    live elements in a COLL_READ_ALL view
 *   collCount(r, db, key, klen, type, whole, pd)   SCARD/HLEN/ZCARD from the figures
 *
 * Ownership: a collView is the callback's, borrowed for its duration only;
 * a batch is copied by collWrite. */
#ifndef RINGKV_COLL_H
#define RINGKV_COLL_H

#include "collstore.h"
#include "coord.h"
#include "types/field.h"
#include "types/hll.h"
#include "types/keymeta.h"


typedef struct collElem {
    char *name;  /* element bytes (member, field), owned */
    size_t len;  /* its length */
    field f;     /* merged state; empty when no replica holds it */
    int named;   /* COLL_READ_NAMED/FIELDS: one of the names asked for (its state
                  * is the merge of every replica that answered); 0 for a probe's,
                  * which only the replicas that listed it gave */
} collElem;

typedef struct collView {
    int db;
    const char *key;  /* borrowed from the request */
    size_t klen;
    long long now_ms; /* the coordinator's clock when the answers were merged */
    keymeta meta;     /* merged metadata; empty when none */
    record str;       /* the key's string record, merged (type rule) */
    hll sketch;       /* COLL_READ_HLL: the merged sketch */
    causalRemoval kr; /* keymetaRemoval(meta, now_ms): elements are read through it */
    int nel;          /* elements, sorted by name (memcmp order, shorter first on ties) */
    collElem *el;
    int more;         /* a live element not named exists (NAMED probe) */
    int complete;     /* every element stored on the replicas that answered is in el */
    int exhausted;    /* COLL_READ_RANGE: each replica that answered ran out of the range
                       * (complete says so only for a range with no bound) */
    int counted;      /* COLL_READ_COUNT: every replica that answered gave the same
                       * figures and metadata: they hold the same elements */
    long long count;  /* ... and this many of them live */
} collView;

typedef void collReadCb(request *r, const collView *v, const char *err, void *pd);

/* Reads (db, key) at r's read level; takes one pending count on r until cb
 * ran. names/lens (n of them) are copied; for COLL_READ_NAMED they are the
 * elements wanted (duplicates allowed). cb gets err (a -NOQUORUM... text)
 * and v NULL on failure. */
void collRead(request *r, int db, const char *key, size_t klen, int mode, char **names,
              const size_t *lens, int n, collReadCb *cb, void *pd);

collElem *collViewFind(const collView *v, const char *name, size_t len);
int collElemLive(const collView *v, const collElem *e);
/* The type rule (keymeta.h): the string record's live version and each
 * collection type that may live compete; -1 when nothing lives. */
int collTypeOf(const collView *v);
/* Replies WRONGTYPE and returns 1 when the key holds another live type. */
int collCheckType(request *r, const collView *v, int type);
/* Live elements of the view (COLL_READ_ALL: of the key). */
long long collLiveCount(const collView *v);

/* SCARD, HLEN, ZCARD: replies the number of live elements of (db, key), a
 * collection of type, from the replicas' figures (COLL_READ_COUNT) when
 * those that answered agree (same element digest, same metadata: the same
 * collection), else reads every element and lets whole (with pd) reply,
 * as the command did before. Takes pending counts on r as collRead. */
void collCount(request *r, int db, const char *key, size_t klen, int type, collReadCb *whole,
               void *pd);

/* A fresh dot of this node: returns the HLC timestamp, above every
 * timestamp the coordinator has read (collRead observes them). The actor is
 * server.actor. */
uint64_t collDot(void);

/* The deltas of one command, in the order they are added. */
typedef struct collBatch {
    buf b;  /* encoded entries (collbatch.h) */
    int n;  /* entries */
} collBatch;

void collBatchInit(collBatch *b);
void collBatchFree(collBatch *b);
void collBatchMeta(collBatch *b, const keymeta *delta);
void collBatchField(collBatch *b, const char *name, size_t len, const field *delta);
void collBatchHll(collBatch *b, const hll *delta);

/* The metadata half of a write of type (an add, increment, PFADD) at dot
 * seq: keymetaDeltaCreate when the key does not live as type (so what was
 * left of it goes), else keymetaDeltaWrite. Appended to b. */
void collBatchTouch(collBatch *b, const collView *v, int type, uint64_t seq);
/* DEL of what v saw (keymetaDeltaDel), appended to b. */
void collBatchDel(collBatch *b, const collView *v, uint64_t seq);

/* Writes the batch at r's write level; cb runs once (coordResult: ok, or
 * err). Takes one pending count on r until cb ran. b is copied (the caller
 * frees it). An empty batch completes at once with ok. */
void collWrite(request *r, int db, const char *key, size_t klen, const collBatch *b,
               coordCallback *cb, void *pd);

#endif
