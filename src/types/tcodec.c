/* tcodec.c -- bounded, canonical encodings shared by the data-type states.
 * See tcodec.h. Invariant: a reader in error stays in error and reads
 * nothing more; no read ever touches p[len] or beyond. */
#include "tcodec.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tcReaderInit(tcReader *rd, const void *p, size_t len) {
    rd->p = p;
    rd->len = len;
    rd->off = 0;
    rd->err = 0;
}

int tcDone(const tcReader *rd) { return !rd->err && rd->off == rd->len ? C_OK : C_ERR; }

static int fail(tcReader *rd) {
    rd->err = 1;
    return C_ERR;
}

int tcU8(tcReader *rd, uint8_t *v) {
    if (rd->err || rd->len - rd->off < 1) return fail(rd);
    *v = rd->p[rd->off++];
    return C_OK;
}

int tcU64(tcReader *rd, uint64_t *v) {
    if (rd->err || rd->len - rd->off < 8) return fail(rd);
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = (x << 8) | rd->p[rd->off + (size_t)i];
    rd->off += 8;
    *v = x;
    return C_OK;
}

int tcVarint(tcReader *rd, uint64_t *v) {
    if (rd->err) return C_ERR;
    uint64_t r = 0;
    for (size_t i = 0; i < 10 && rd->off + i < rd->len; i++) {
        unsigned char b = rd->p[rd->off + i];
        if (i == 9 && b > 1) break; /* more than 64 bits */
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i > 0 && b == 0) break; /* a redundant high group: not canonical */
            rd->off += i + 1;
            *v = r;
            return C_OK;
        }
    }
    return fail(rd);
}

int tcSvarint128(tcReader *rd, i128 *v) {
    if (rd->err) return C_ERR;
    unsigned __int128 r = 0;
    for (size_t i = 0; i < 19 && rd->off + i < rd->len; i++) {
        unsigned char b = rd->p[rd->off + i];
        if (i == 18 && b > 3) break; /* 18 x 7 = 126 bits, 2 more allowed */
        r |= (unsigned __int128)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i > 0 && b == 0) break;
            rd->off += i + 1;
            /* zigzag: 0,1,2,3 -> 0,-1,1,-2 */
            *v = (i128)(r >> 1) ^ -(i128)(r & 1);
            return C_OK;
        }
    }
    return fail(rd);
}

int tcBytes(tcReader *rd, size_t n, const unsigned char **p) {
    if (rd->err || rd->len - rd->off < n) return fail(rd);
    *p = rd->p + rd->off;
    rd->off += n;
    return C_OK;
}

int tcClock(tcReader *rd, vclock *vc, uint64_t maxn) {
    uint64_t n;
    vclockClear(vc);
    if (tcVarint(rd, &n) != C_OK) return C_ERR;
    /* each entry takes at least 9 bytes: refuse a count the input cannot hold
     * before anything is allocated for it */
    if (n > maxn || n > tcLeft(rd) / 9) return fail(rd);
    uint64_t prev = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t actor, counter;
        if (tcU64(rd, &actor) != C_OK || tcVarint(rd, &counter) != C_OK) return C_ERR;
        if (counter == 0 || (i > 0 && actor <= prev)) return fail(rd);
        vclockRaise(vc, actor, counter); /* appends: actors arrive sorted */
        prev = actor;
    }
    return C_OK;
}

static int formatLd(long double v, char *dst, size_t len) {
    return snprintf(dst, len, "%.*Lg", LDBL_DECIMAL_DIG, v);
}

int tcLdouble(tcReader *rd, long double *v) {
    uint8_t n;
    const unsigned char *p;
    if (tcU8(rd, &n) != C_OK) return C_ERR;
    if (n == 0 || n > 63) return fail(rd);
    if (tcBytes(rd, n, &p) != C_OK) return C_ERR;
    char text[64], again[80];
    memcpy(text, p, n);
    text[n] = '\0';
    /* strtold would accept spaces, hex, "inf", "nan": only the one text our
     * own writer makes for the value is accepted, checked by writing it again */
    if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '-')) return fail(rd);
    char *end;
    long double x = strtold(text, &end);
    if (end != text + n || !isfinite(x) || x == 0) return fail(rd);
    int m = formatLd(x, again, sizeof(again));
    if (m != (int)n || memcmp(again, text, n) != 0) return fail(rd);
    *v = x;
    return C_OK;
}

int tcDouble(tcReader *rd, double *v) {
    const unsigned char *p;
    if (tcBytes(rd, 8, &p) != C_OK) return C_ERR;
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++) bits = (bits << 8) | p[i];
    double x;
    memcpy(&x, &bits, sizeof(x));
    if (isnan(x)) return fail(rd);
    *v = x;
    return C_OK;
}

void tcPutU8(buf *out, uint8_t v) { bufAppend(out, &v, 1); }

void tcPutU64(buf *out, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    bufAppend(out, b, 8);
}

void tcPutVarint(buf *out, uint64_t v) { varintPut(out, v); }

void tcPutSvarint128(buf *out, i128 v) {
    unsigned __int128 z = ((unsigned __int128)v << 1) ^ (unsigned __int128)(v >> 127);
    unsigned char b[19];
    int n = 0;
    while (z >= 0x80) {
        b[n++] = (unsigned char)(z | 0x80);
        z >>= 7;
    }
    b[n++] = (unsigned char)z;
    bufAppend(out, b, (size_t)n);
}

void tcPutClock(buf *out, const vclock *vc) {
    tcPutVarint(out, (uint64_t)vc->n);
    for (int i = 0; i < vc->n; i++) {
        tcPutU64(out, vc->e[i].actor);
        tcPutVarint(out, vc->e[i].counter);
    }
}

void tcPutLdouble(buf *out, long double v) {
    char text[80];
    int n = formatLd(v, text, sizeof(text));
    if (n <= 0 || n > 63) abort(); /* cannot happen for a finite value */
    tcPutU8(out, (uint8_t)n);
    bufAppend(out, text, (size_t)n);
}

void tcPutDouble(buf *out, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(bits >> (56 - 8 * i));
    bufAppend(out, b, 8);
}

int tcFormatI128(i128 v, char *dst, size_t len) {
    unsigned __int128 u = v < 0 ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    char tmp[48];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (v < 0) tmp[n++] = '-';
    if ((size_t)n + 1 > len) {
        if (len) dst[0] = '\0';
        return 0;
    }
    for (int i = 0; i < n; i++) dst[i] = tmp[n - 1 - i];
    dst[n] = '\0';
    return n;
}
