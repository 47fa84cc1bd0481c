/* dump.h -- a key's value as one self-contained description (an image),
 * and DUMP's payload of it. Pure: no I/O, no globals.
 *
 * An image is what a user reads from a key, not its replicated state: a
 * string's value; a set's members; a hash's fields and their values; a
 * sorted set's members and scores; a HyperLogLog's registers (what PFCOUNT
 * reads). No dots, no clocks, no TTL: writing an image makes a fresh key
 * with fresh dots (t_keyspace.c), which is what RENAME, COPY, MOVE and
 * RESTORE do, and DUMP/RESTORE carry it between keys, nodes and clusters.
 *
 * Payload (DUMP). Ours, not Redis's RDB serialization: a Redis payload is
 * refused by its version and checksum, as Redis refuses a foreign one.
 *   u8 type (KT_*, keymeta.h), then the body:
 *     string  varint len, value
 *     set     varint n (>= 1), n x (varint len, member)
 *     hash    varint n (>= 1), n x (varint len, field, varint len, value)
 *     zset    varint n (>= 1), n x (varint len, member, double score: tcodec's)
 *     hll     varint k, k x (varint gap, u8 rank 1..HLL_MAX_RANK): the non-zero
 *             registers in index order, gap = index - previous index - 1
 *             (the first: the index)
 *   u16 DUMP_VERSION little endian, u64 XXH3-64 of every byte before it,
 *   little endian (Redis's footer has the same shape: RDB version + CRC64).
 *
 * API:
 *   dumpImageInit(img, type) / dumpImageFree(img)
 *   dumpImageAdd(img, name, nlen, val, vlen, score)   one element (or a string's value)
 *   dumpItemName(img, i, &len) / dumpItemValue(img, i, &len)
 *   dumpEncode(img, out)                 the payload, appended to out
 *   dumpDecode(img, p, len)              DUMP_OK, DUMP_ERR_VERSION, DUMP_ERR_FORMAT
 *
 * Ownership: an image owns copies of everything added; dumpDecode copies
 * out of p. */
#ifndef RINGKV_DUMP_H
#define RINGKV_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define DUMP_VERSION 0x524b /* "RK": never an RDB version (Redis 7.0 writes 10) */

#define DUMP_OK 0
#define DUMP_ERR_VERSION 1 /* too short, another version, or the checksum differs */
#define DUMP_ERR_FORMAT 2  /* the body is not a valid image */

typedef struct dumpItem {
    size_t off, len;   /* its name in data (a string's value: empty) */
    size_t voff, vlen; /* its value in data (hash values, a string's value) */
    double score;      /* sorted sets */
} dumpItem;

typedef struct dumpImage {
    int type;          /* KT_* */
    buf data;          /* names and values back to back */
    dumpItem *items;   /* owned */
    int n, cap;        /* items */
    uint8_t *regs;     /* KT_HLL: HLL_REGISTERS ranks (owned); NULL otherwise */
} dumpImage;

void dumpImageInit(dumpImage *img, int type);
void dumpImageFree(dumpImage *img);
/* A string's value is added as one item with an empty name. */
void dumpImageAdd(dumpImage *img, const char *name, size_t nlen, const char *val, size_t vlen,
                  double score);
/* Pointers into img->data, valid until the next add; never NULL. */
const char *dumpItemName(const dumpImage *img, int i, size_t *len);
const char *dumpItemValue(const dumpImage *img, int i, size_t *len);

void dumpEncode(const dumpImage *img, buf *out);
/* img is initialized by the call (free it whatever the result). */
int dumpDecode(dumpImage *img, const char *p, size_t len);

#endif
