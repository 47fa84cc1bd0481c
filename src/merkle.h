/* merkle.h -- the hash trees anti-entropy compares. Pure: no I/O.
 *
 * One tree per partition: 256 leaves (the Merkle buckets, record.h), each
 * the XOR of the entries of the keys in that bucket, and a root over the
 * leaves. A key's entry hashes its storage key with the bytes of its whole
 * record (every sibling's clock, tombstone flag, expiry and value: two
 * replicas with different sibling sets differ). XOR makes a write O(1):
 * the leaf takes out the old entry and puts in the new one.
 *
 * Comparing two replicas: roots first; if they differ, the 256 leaves;
 * then, for each differing bucket only, the (key, entry) lists. The cost of
 * a comparison grows with the difference, not with the data.
 *
 * API:
 *   merkleEntry(skey, rec)           a key's entry (0 for no record)
 *   merkleUpdate(tree, bucket, old, new)
 *   merkleRoot(tree)
 *   merkleDiffLeaves(a, b, out)      buckets that differ
 *   merkleEncodeKeys / merkleDiffKeys   a bucket's key list and its diff */
#ifndef RINGKV_MERKLE_H
#define RINGKV_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define MERKLE_LEAVES 256

typedef struct merkle {
    uint64_t leaf[MERKLE_LEAVES]; /* XOR of the entries of each bucket */
    int built;                    /* leaves reflect the stored data */
} merkle;

uint64_t merkleEntry(const char *skey, size_t sklen, const char *rec, size_t rlen);
static inline void merkleUpdate(merkle *m, unsigned bucket, uint64_t oldent, uint64_t newent) {
    m->leaf[bucket & (MERKLE_LEAVES - 1)] ^= oldent ^ newent;
}
uint64_t merkleRoot(const merkle *m);
/* Writes the indexes of differing leaves into out (room for 256); returns
 * how many. */
int merkleDiffLeaves(const uint64_t *a, const uint64_t *b, unsigned *out);

/* A bucket's key list: entries of (storage key, entry), sorted by key. */
void merkleKeyListAdd(buf *out, const char *skey, size_t sklen, uint64_t entry);
typedef struct merkleKey {
    const char *skey; /* points into the encoded list */
    size_t sklen;
    uint64_t entry;
} merkleKey;
/* Decodes a list; returns the count or -1 if malformed. *keys is allocated
 * (zfree), and points into data. */
long merkleKeyListDecode(const char *data, size_t len, merkleKey **keys);
/* Given two sorted lists, calls fn for each key whose entries differ or
 * that is missing on one side (mine/theirs NULL when absent). */
typedef void merkleDiffFn(const merkleKey *mine, const merkleKey *theirs, void *pd);
void merkleDiffKeys(const merkleKey *a, long na, const merkleKey *b, long nb, merkleDiffFn *fn,
                    void *pd);

#endif
