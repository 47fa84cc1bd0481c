/* collkey.h -- where a collection's state is stored: the RocksDB keys of its
 * metadata, its elements and its HyperLogLog sketch. Pure: no I/O, no
 * globals.
 *
 * Every key of a collection lies in the partition and Merkle bucket of the
 * collection's own key (its slot: keySlot(keyHash(db, key))), so a
 * transfer of the partition or an anti-entropy exchange of the bucket
 * moves and digests them with it. The fourth byte, which for a string's
 * record is the db (0..15), says what the key holds:
 *
 *   record  [slot u24][db]         [key]                      record.h
 *   meta    [slot u24][0x80 | db]  [key]                      keymeta.h
 *   hll     [slot u24][0xA0 | db]  [key]                      hll.h
 *   element [slot u24][0xC0 | db]  [varint klen][key][element] field.h
 *
 * A sorted set's members are also listed, by score, in the score index: a
 * column family of its own (store.h's CF_ZINDEX), derived from the element
 * states by db.c and never sent, digested or counted:
 *
 *   index   [slot u24][db]         [varint klen][key][score u64][member]
 *
 * and each collection's figures (CF_KSTATS, db.c: its live element count
 * and a digest of its element states, derived the same way):
 *
 *   stats   [slot u24][db]         [varint klen][key]
 *
 * where the score is 8 bytes whose bytewise order is the doubles' order
 * (collScoreBits; -0 is stored as 0), so one key's members are contiguous
 * and in Redis's order: score, then member bytes, a prefix first.
 *
 * So within a slot the string records of every db come first, then the
 * metadata, then the sketches, then the elements, a collection's elements
 * contiguous and in element order (one prefix iteration reads them). Code
 * that walks records by db (SCAN, counts) skips the others by their db
 * byte, which is never below 0x80.
 *
 * API:
 *   collKeyEncode(out, qbits, kind, db, key, klen, elem, elen)   out cleared first
 *   collKeyElemPrefix(out, qbits, db, key, klen)                 every element's prefix
 *   collKeyKind(skey, len)                                       COLLKEY_*, -1 malformed
 *   collKeyDecode(skey, len, &kind, &db, &key, &klen, &elem, &elen)
 *   collKeyZindexPrefix(out, qbits, db, key, klen)              a key's index entries' prefix
 *   collKeyZindexOfElem(out, skey, sklen, score)                an element key's index entry
 *   collKeyStatsOfElem(out, skey, sklen)                        its collection's stats key
 *                                                               (collKeyZindexPrefix's bytes)
 *   collScoreBits(d) / collScoreFromBits(u)                     the order-preserving score
 */
#ifndef RINGKV_COLLKEY_H
#define RINGKV_COLLKEY_H

#include <stddef.h>

#include "util.h"

#define COLLKEY_RECORD 0
#define COLLKEY_META 1
#define COLLKEY_HLL 2
#define COLLKEY_ELEM 3

void collKeyEncode(buf *out, int qbits, int kind, int db, const char *key, size_t klen,
                   const char *elem, size_t elen);
void collKeyElemPrefix(buf *out, int qbits, int db, const char *key, size_t klen);
int collKeyKind(const char *skey, size_t len);
/* C_ERR when skey is not a well-formed key of any kind. elem is NULL and
 * elen 0 for the kinds that have none. Pointers borrow skey. */
int collKeyDecode(const char *skey, size_t len, int *kind, int *db, const char **key,
                  size_t *klen, const char **elem, size_t *elen);

/* out := the prefix of every index entry of (db, key). */
void collKeyZindexPrefix(buf *out, int qbits, int db, const char *key, size_t klen);
/* out := the index entry of the element key skey at score. C_ERR when skey
 * is not an element key. */
int collKeyZindexOfElem(buf *out, const char *skey, size_t sklen, double score);
/* out := the stats key of the element key skey's collection (the same
 * bytes as collKeyZindexPrefix of its key). C_ERR when skey is not an
 * element key. */
int collKeyStatsOfElem(buf *out, const char *skey, size_t sklen);
/* Big-endian bytes of collScoreBits(d) order as the doubles do (NaN never
 * stored); -0 maps to 0's bits. */
uint64_t collScoreBits(double d);
double collScoreFromBits(uint64_t u);

#endif
