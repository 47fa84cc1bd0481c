/* record.h -- what ringkv stores per key: a set of sibling versions, and the
 * storage key layout. Pure: no I/O, no globals.
 *
 * A record holds one or more versions that are mutually concurrent (none
 * makes another obsolete). A version is a dot (actor, counter = the writer's
 * HLC timestamp), the causal past it was written over (vector clock), an
 * optional absolute expiry, a tombstone flag and a value.
 *
 * Storage key: [partition u16 BE][bucket u8][db u8][key bytes]. The hash is
 * XXH3-64 of the key seeded with the db; partition = its top qbits, bucket =
 * the next 8 bits. So one partition, and one Merkle bucket, are each one
 * contiguous key range, and a SCAN cursor can walk (partition, bucket) slots.
 *
 * A record is a join-semilattice state: besides its versions it keeps seen,
 * the join of every past merged into it (and of the dots a sibling cap
 * dropped). A version whose dot seen covers is gone for good. recordMerge
 * is the join: associative, commutative and idempotent for any inputs (see
 * record.c), which is what lets a replica store an incoming record blind,
 * as a RocksDB merge operand, and RocksDB merge them in any grouping.
 *
 * Record encoding (all versions of a key, one RocksDB value):
 *   u8 format, [vclock seen if format 2], varint count, then per version:
 *   u8 flags (1 tombstone, 2 has expiry), u64 actor LE, varint counter,
 *   [varint expire_ms], vclock past, varint vlen, value bytes.
 * Format 1 when seen is exactly the join of the versions' pasts (nearly
 * always: decoding computes it), format 2 otherwise. Equal records encode to
 * equal bytes (digests and Merkle entries rely on it). A string that INCR
 * wrote also holds counter contributions (types/counter.h): the format byte
 * then has RECORD_FLAG_CTR, and the counter's encoding follows the
 * versions; the join merges it with counterMerge (a join too), so every
 * path that moves records moves it.
 *
 * API:
 *   keyHash/keyPartition/keyBucket/keySlot, keyEncode/keyDecode
 *   recordInit/recordFree/recordClear, recordDecode/recordEncode
 *   recordAdd(rec, version)      merge one version in (drops what it obsoletes)
 *   recordMerge(dst, src)        merge a whole record in (the join)
 *   recordMergeEncoded(base, ops) the join of encodings (RocksDB's merge operator)
 *   recordCapSiblings(rec, max)  the version coordinator's cap: seen covers the oldest
 *   recordContext(rec, vc)       join of all histories: the causal context
 *   recordNewest(rec)            the sibling plain GET shows (highest HLC)
 *   versionLive(v, now)          not a tombstone, not expired
 *   versionObsoletes(a, b)       a's history holds b's dot
 *   recordDigest(rec)            64-bit digest of the whole sibling set
 *   recordFormat(rec, now, out)  text for RING LOCAL
 *   contextEncode/contextDecode  the opaque causal context of VGET/VSET (text)
 */
#ifndef RINGKV_RECORD_H
#define RINGKV_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "vclock.h"

#define RECORD_FORMAT 1      /* seen = the join of the pasts, not stored */
#define RECORD_FORMAT_SEEN 2 /* seen stored before the versions */
#define RECORD_FLAG_CTR 0x10 /* in the format byte: counter contributions follow the versions */
#define KEY_PREFIX_LEN 4 /* partition u16 + bucket u8 + db u8 */

#define VF_TOMBSTONE 1
#define VF_EXPIRE 2

typedef struct version {
    uint64_t actor;     /* dot: who wrote it */
    uint64_t counter;   /* dot: the writer's HLC timestamp when it wrote it */
    vclock past;        /* causal past the write was made over */
    int64_t expire;     /* absolute expiry in unix ms, 0 = none */
    int tombstone;      /* a delete */
    const char *val;    /* value bytes: borrowed (from the decoded buffer) or owned */
    size_t vlen;        /* value length */
    int ownval;         /* val is owned (zfree'd with the version) */
} version;

typedef struct record {
    struct counter *ctr; /* a string's counter contributions (INCR family,
                          * types/strctr.h), owned; NULL = none */
    int n;       /* versions used */
    int cap;     /* versions allocated */
    version *v;  /* owned array; each entry's past is owned */
    vclock seen; /* dots known superseded: covers every version's past, never a
                  * kept version's dot; owned */
} record;

/* ---- keys ---- */
uint64_t keyHash(int db, const char *key, size_t klen);
static inline unsigned keyPartition(uint64_t hash, int qbits) {
    return (unsigned)(hash >> (64 - qbits));
}
static inline unsigned keyBucket(uint64_t hash, int qbits) {
    return (unsigned)((hash >> (64 - qbits - 8)) & 0xff);
}
/* slot = partition * 256 + bucket: the SCAN cursor unit and Merkle leaf */
static inline unsigned keySlot(uint64_t hash, int qbits) {
    return (unsigned)(hash >> (64 - qbits - 8));
}
/* Writes the storage key of (db, key) into out (cleared first). */
void keyEncode(buf *out, int qbits, int db, const char *key, size_t klen);
/* Storage key prefix for a slot and db: 4 bytes into p. */
void keySlotPrefix(unsigned char *p, unsigned slot, int db);
/* Splits a storage key; returns C_ERR if it is too short. */
int keyDecode(const char *skey, size_t len, unsigned *slot, int *db, const char **key,
              size_t *klen);

/* ---- versions ---- */
void versionInit(version *v);
void versionFree(version *v);
void versionCopy(version *dst, const version *src, int copyval); /* dst initialized */
/* As Redis: a key expires once the clock is past its expiry time. */
static inline int versionLive(const version *v, long long now_ms) {
    return !v->tombstone && (v->expire == 0 || v->expire >= now_ms);
}
int versionObsoletes(const version *a, const version *b);
static inline int versionSameDot(const version *a, const version *b) {
    return a->actor == b->actor && a->counter == b->counter;
}
/* Full history as a clock: past plus the dot. */
void versionHistory(const version *v, vclock *out);

/* ---- records ---- */
void recordInit(record *r);
void recordFree(record *r);
void recordClear(record *r);
/* r's counter, created empty if it has none (owned by r). */
struct counter *recordCounter(record *r);
/* Decode; values point into p, which must outlive the record (or call
 * recordOwnValues). Returns C_ERR on malformed input. */
int recordDecode(record *r, const char *p, size_t len);
void recordOwnValues(record *r);
void recordEncode(const record *r, buf *out);
/* Merge version v (copied; its value copied too if copyval) into r.
 * Returns 1 if r changed. */
int recordAdd(record *r, const version *v, int copyval);
/* dst = dst join src (src's values copied if copyval, else borrowed).
 * Returns 1 if dst changed. */
int recordMerge(record *dst, const record *src, int copyval);
/* The join of a stored value (base, NULL for none) and n merge operands,
 * all record encodings, as one canonical encoding into out (cleared).
 * Malformed inputs are left out; returns how many there were. Pure and
 * thread safe: RocksDB's merge operator (full and partial) and the store's
 * view of its uncommitted batch call it. */
int recordMergeEncoded(const char *base, size_t blen, const char *const *ops,
                       const size_t *lens, int n, buf *out);
/* Drop the oldest siblings (by HLC) beyond max, by raising seen over their
 * dots, so that every replica that merges this record drops them too and
 * no copy brings them back. Only a version coordinator caps (merges do
 * not: a cap inside the merge would make it order dependent). Returns how
 * many were dropped. */
int recordCapSiblings(record *r, int max);
/* Same dot, different copies: <0, 0, >0. The greater wins a merge; a
 * tombstone beats the live copy (an expiry turned it into one), the rest
 * only orders garbage (one dot is written once) deterministically. */
int versionPayloadCmp(const version *a, const version *b);
/* Drops the past's entries at or above v's own counter: a version
 * coordinator's clock is past every dot it observed, so such an entry comes
 * from a client's implausible context; kept, it would cover dots not yet
 * written (its own among them) for good, through seen. */
void versionClampPast(version *v);
/* seen joined with every version's history: what a write over r saw. */
void recordContext(const record *r, vclock *out);
/* The version plain GET shows: highest counter (ties: highest actor).
 * NULL if the record is empty. */
const version *recordNewest(const record *r);
/* Newest version if it is live, else NULL. */
const version *recordVisible(const record *r, long long now_ms);
int recordHasLive(const record *r, long long now_ms);
uint64_t recordDigest(const record *r);
/* The same digest from a record's encoding (stored bytes are canonical). */
uint64_t recordDigestRaw(const char *enc, size_t len);
void recordFormat(const record *r, long long now_ms, buf *out);
/* Earliest expiry among versions with one, 0 if none. */
int64_t recordMinExpire(const record *r);

/* The causal context handed to clients by VGET: base64url text of the
 * encoded clock. Decode returns C_ERR on anything malformed. */
void contextEncode(const vclock *vc, buf *out);
int contextDecode(vclock *vc, const char *p, size_t len);

#endif
