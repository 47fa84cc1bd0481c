/* util.h -- small helpers every module uses: allocation that aborts on OOM,
 * Redis-compatible number parsing and formatting, glob matching, time.
 *
 * API:
 *   zmalloc/zcalloc/zrealloc/zstrdup/zmemdup/zfree  allocation; OOM aborts (habit 6)
 *   string2ll/string2ull/string2ld/ll2string/ld2string  strict conversions as Redis does them
 *   stringmatchlen   glob-style pattern matching (KEYS, SCAN MATCH)
 *   ustime/mstime/monotonic_us   clocks
 *   memtoull         "512mb" style sizes
 *   getRandomBytes/getRandomHex
 *
 * Everything here is pure (no globals) except the clocks and random bytes. */
#ifndef RINGKV_UTIL_H
#define RINGKV_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define C_OK 0
#define C_ERR -1

#define UNUSED(x) ((void)(x))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

void *zmalloc(size_t size);
void *zcalloc(size_t size);
void *zrealloc(void *ptr, size_t size);
char *zstrdup(const char *s);
void *zmemdup(const void *p, size_t len);
void zfree(void *ptr);
size_t zmalloc_used_memory(void);  /* jemalloc's stats.allocated, 0 if unknown */
size_t zmalloc_rss(void);          /* resident set size from /proc */

/* Strict parsing: the whole string must be the number, no spaces, no leading
 * '+', no leading zeros (Redis rules). Return 1 on success, 0 on failure. */
int string2ll(const char *s, size_t slen, long long *value);
int string2ull(const char *s, size_t slen, unsigned long long *value);
/* Parse a long double the way Redis's INCRBYFLOAT does: rejects spaces,
 * NaN and infinity. */
int string2ld(const char *s, size_t slen, long double *dp);
/* Write v in decimal into dst (at least 21 bytes), return the length. */
int ll2string(char *dst, size_t dstlen, long long v);
/* Human friendly long double formatting, as Redis replies to INCRBYFLOAT:
 * "%.17Lf" with trailing zeros and point removed. Returns length. */
int ld2string(char *buf, size_t len, long double value);
/* Format a double as Redis does in RESP (%.17g). */
int d2string(char *buf, size_t len, double value);

/* Glob matching with *, ?, [abc], [^a-z], \x. Returns 1 on match. */
int stringmatchlen(const char *pattern, int patternLen, const char *string,
                   int stringLen, int nocase);

/* "1gb" -> 1073741824. Sets *err to 1 on a bad string. */
unsigned long long memtoull(const char *p, int *err);

long long ustime(void);
long long mstime(void);
uint64_t monotonic_us(void);

/* "127.x.y.z", "::1" or "::ffff:127.x.y.z": a loopback peer address. */
int isLoopbackAddr(const char *ip);

void getRandomBytes(unsigned char *p, size_t len);
void getRandomHex(char *p, size_t len); /* len hex chars, no terminator */

/* A growable byte buffer: the one dynamic string type of the project.
 * ptr is NUL-terminated for convenience (not counted in len). */
typedef struct buf {
    char *ptr;   /* bytes, owned */
    size_t len;  /* bytes used */
    size_t cap;  /* bytes allocated (excluding the terminator byte) */
} buf;

void bufInit(buf *b);
void bufFree(buf *b);
void bufClear(buf *b);
void bufReserve(buf *b, size_t extra);
void bufAppend(buf *b, const void *p, size_t len);
void bufAppendStr(buf *b, const char *s);
void bufPrintf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bufConsume(buf *b, size_t n); /* drop the first n bytes */

/* Split a line into arguments like Redis's sdssplitargs (quotes, escapes).
 * Returns argc (>=0) with argv and argvlen allocated (free with freeSplitArgs),
 * or -1 on unbalanced quotes. */
int splitArgs(const char *line, size_t len, char ***argv, size_t **argvlen);
void freeSplitArgs(char **argv, size_t *argvlen, int argc);

#endif
