/* tcodec.h -- the byte encodings every data-type state shares, with a
 * reader that never trusts its input. Pure: no I/O, no globals.
 *
 * The states in src/types/ are stored in RocksDB and sent between nodes, so
 * their decoders read bytes that may be truncated, corrupted or hostile.
 * Every read here is bounds-checked against the input's length, and the
 * reader is sticky (as hiredis's): after the first error every call fails
 * and reports C_ERR, so a decoder can read a whole record and check once.
 *
 * Every encoding is canonical: one state has exactly one encoding, and a
 * reader accepts only that one (varints with no redundant high groups,
 * clocks strictly sorted, floats in their one text form). So decode
 * followed by encode gives back the input byte for byte, and equal states
 * digest alike on every replica (anti-entropy compares digests).
 *
 * API:
 *   tcReaderInit(rd, p, len)              read p[0..len); p borrowed
 *   tcU8 / tcU64 / tcVarint / tcSvarint128 / tcBytes / tcClock / tcLdouble / tcDouble
 *   tcDone(rd)                            C_OK when no error and every byte used
 *   tcPutU8 / tcPutU64 / tcPutVarint / tcPutSvarint128 / tcPutClock / tcPutLdouble / tcPutDouble
 *   tcFormatI128(v, dst, len)             decimal text of a 128-bit integer
 *
 * Formats:
 *   u64        8 bytes little endian (actors: random, so varints would not help)
 *   varint     LEB128, at most 10 bytes, no trailing zero group
 *   svarint128 zigzag then LEB128 over 128 bits, at most 19 bytes, canonical
 *   clock      varint n, then n x (u64 actor, varint counter > 0), actors
 *              strictly increasing (the same layout as vclockEncode, but
 *              only canonical varints are accepted)
 *   ldouble    u8 length (1..63), then "%.*Lg" text with LDBL_DECIMAL_DIG
 *              digits: exact for the platform's long double; finite, not 0
 *              (zero is always encoded by its absence)
 *   double     8 bytes, IEEE 754 bits big endian; NaN rejected
 */
#ifndef RINGKV_TCODEC_H
#define RINGKV_TCODEC_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "vclock.h"

typedef __int128 i128;

typedef struct tcReader {
    const unsigned char *p; /* input, borrowed */
    size_t len;             /* input length */
    size_t off;             /* bytes consumed */
    int err;                /* sticky: set by the first failed read */
} tcReader;

void tcReaderInit(tcReader *rd, const void *p, size_t len);
int tcDone(const tcReader *rd);
static inline size_t tcLeft(const tcReader *rd) { return rd->err ? 0 : rd->len - rd->off; }

int tcU8(tcReader *rd, uint8_t *v);
int tcU64(tcReader *rd, uint64_t *v);
int tcVarint(tcReader *rd, uint64_t *v);
int tcSvarint128(tcReader *rd, i128 *v);
/* *p points into the input (borrowed, valid while the input is). */
int tcBytes(tcReader *rd, size_t n, const unsigned char **p);
/* At most maxn entries; vc must be initialized (it is cleared first). */
int tcClock(tcReader *rd, vclock *vc, uint64_t maxn);
int tcLdouble(tcReader *rd, long double *v);
int tcDouble(tcReader *rd, double *v);

void tcPutU8(buf *out, uint8_t v);
void tcPutU64(buf *out, uint64_t v);
void tcPutVarint(buf *out, uint64_t v);
void tcPutSvarint128(buf *out, i128 v);
void tcPutClock(buf *out, const vclock *vc);
void tcPutLdouble(buf *out, long double v); /* v finite and not 0 */
void tcPutDouble(buf *out, double v);

/* Writes v in decimal into dst (at least 41 bytes). Returns the length. */
int tcFormatI128(i128 v, char *dst, size_t len);

#endif
