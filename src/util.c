/* util.c -- allocation, number conversions, glob matching, clocks, buffers.
 * See util.h for the API. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- memory */

static void oom(size_t size) {
    fprintf(stderr, "ringkv: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}

void *zmalloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) oom(size);
    return p;
}

void *zcalloc(size_t size) {
    void *p = calloc(1, size ? size : 1);
    if (!p) oom(size);
    return p;
}

void *zrealloc(void *ptr, size_t size) {
    void *p = realloc(ptr, size ? size : 1);
    if (!p) oom(size);
    return p;
}

char *zstrdup(const char *s) { return zmemdup(s, strlen(s) + 1); }

void *zmemdup(const void *p, size_t len) {
    void *d = zmalloc(len);
    if (len) memcpy(d, p, len);
    return d;
}

void zfree(void *ptr) { free(ptr); }

/* jemalloc is linked in the server; the unit tests link without it, so the
 * symbol is weak and we report 0 when it is absent. */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
            size_t newlen) __attribute__((weak));

size_t zmalloc_used_memory(void) {
    if (!mallctl) return 0;
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    size_t allocated = 0;
    sz = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &sz, NULL, 0) != 0) return 0;
    return allocated;
}

size_t zmalloc_rss(void) {
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0) return 0;
    char b[256];
    ssize_t n = read(fd, b, sizeof(b) - 1);
    close(fd);
    if (n <= 0) return 0;
    b[n] = '\0';
    unsigned long long size, rss;
    if (sscanf(b, "%llu %llu", &size, &rss) != 2) return 0;
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

/* ------------------------------------------------------------ conversions */

int string2ull(const char *s, size_t slen, unsigned long long *value) {
    if (slen == 0 || slen > 20) return 0;
    if (slen == 1 && s[0] == '0') {
        *value = 0;
        return 1;
    }
    if (s[0] < '1' || s[0] > '9') return 0;
    unsigned long long v = 0;
    for (size_t i = 0; i < slen; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *value = v;
    return 1;
}

int string2ll(const char *s, size_t slen, long long *value) {
    if (slen == 0) return 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        s++;
        slen--;
        if (slen == 0) return 0;
        if (slen == 1 && s[0] == '0') return 0; /* "-0" is not canonical */
    }
    unsigned long long v;
    if (!string2ull(s, slen, &v)) return 0;
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return 0;
        *value = (long long)(0ULL - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX) return 0;
        *value = (long long)v;
    }
    return 1;
}

int string2ld(const char *s, size_t slen, long double *dp) {
    char b[5120];
    if (slen == 0 || slen >= sizeof(b)) return 0;
    memcpy(b, s, slen);
    b[slen] = '\0';
    if (isspace((unsigned char)b[0])) return 0;
    char *end;
    errno = 0;
    long double v = strtold(b, &end);
    /* all slen bytes must be used: an embedded NUL ends strtold early */
    if (end != b + slen) return 0;
    if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO))
        return 0;
    if (isnan(v)) return 0;
    *dp = v;
    return 1;
}

/* Digits by hand: it writes every reply header and bus message header, and
 * snprintf's format machinery was a few percent of a request's CPU.
 * Returns the length, or 0 (and an empty string) when dst is too small. */
/* How many decimal digits u has. */
static int digits10(unsigned long long u) {
    int n = 1;
    for (;;) {
        if (u < 10) return n;
        if (u < 100) return n + 1;
        if (u < 1000) return n + 2;
        if (u < 10000) return n + 3;
        u /= 10000;
        n += 4;
    }
}

/* Two digits at a time from a table of "00".."99", written from the end
 * (the bus writes four numbers into every request's id, one of them a
 * 19-digit clock: a digit per division was 220 instructions a number). */
int ll2string(char *dst, size_t dstlen, long long v) {
    static const char pairs[201] =
        "0001020304050607080910111213141516171819"
        "2021222324252627282930313233343536373839"
        "4041424344454647484950515253545556575859"
        "6061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int neg = v < 0;
    int n = digits10(u) + neg;
    if ((size_t)n + 1 > dstlen) {
        if (dstlen) dst[0] = '\0';
        return 0;
    }
    dst[n] = '\0';
    int i = n - 1;
    while (u >= 100) {
        unsigned k = (unsigned)(u % 100) * 2;
        u /= 100;
        dst[i--] = pairs[k + 1];
        dst[i--] = pairs[k];
    }
    if (u < 10) {
        dst[i] = (char)('0' + u);
    } else {
        unsigned k = (unsigned)u * 2;
        dst[i--] = pairs[k + 1];
        dst[i] = pairs[k];
    }
    if (neg) dst[0] = '-';
    return n;
}

int ld2string(char *buf, size_t len, long double value) {
    if (isinf(value)) {
        return snprintf(buf, len, "%s", value > 0 ? "inf" : "-inf");
    }
    int l = snprintf(buf, len, "%.17Lf", value);
    if (l < 0 || (size_t)l >= len) return 0;
    if (strchr(buf, '.')) {
        char *p = buf + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.') l--;
        buf[l] = '\0';
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        buf[1] = '\0';
        l = 1;
    }
    return l;
}

int d2string(char *buf, size_t len, double value) {
    if (isnan(value)) return snprintf(buf, len, "nan");
    if (isinf(value)) return snprintf(buf, len, value > 0 ? "inf" : "-inf");
    return snprintf(buf, len, "%.17g", value);
}

/* ------------------------------------------------------------------ glob */

/* *skip is set once a '*' found no match for the rest of the pattern at
 * any position of the rest of the string: an earlier '*' taking more bytes
 * could only leave the rest less room, so it stops trying (Redis's fix for
 * patterns like "a*a*a*...b" that otherwise backtrack exponentially). */
static int matchRec(const char *p, int plen, const char *s, int slen, int nocase,
                    int *skip, int depth) {
    if (depth > 1000) return 0; /* pathological patterns: give up, no match */
    while (plen && slen >= 0) {
        switch (p[0]) {
        case '*':
            while (plen > 1 && p[1] == '*') {
                p++;
                plen--;
            }
            if (plen == 1) return 1;
            while (slen) {
                if (matchRec(p + 1, plen - 1, s, slen, nocase, skip, depth + 1)) return 1;
                if (*skip) return 0;
                s++;
                slen--;
            }
            *skip = 1;
            return 0;
        case '?':
            if (slen == 0) return 0;
            s++;
            slen--;
            break;
        case '[': {
            if (slen == 0) return 0;
            p++;
            plen--;
            int neg = (plen && p[0] == '^');
            if (neg) {
                p++;
                plen--;
            }
            int match = 0;
            while (plen) {
                if (p[0] == '\\' && plen >= 2) {
                    p++;
                    plen--;
                    if (p[0] == s[0]) match = 1;
                } else if (p[0] == ']') {
                    break;
                } else if (plen >= 3 && p[1] == '-') {
                    int a = (unsigned char)p[0], b = (unsigned char)p[2],
                        c = (unsigned char)s[0];
                    if (a > b) {
                        int t = a;
                        a = b;
                        b = t;
                    }
                    if (nocase) {
                        a = tolower(a);
                        b = tolower(b);
                        c = tolower(c);
                    }
                    if (c >= a && c <= b) match = 1;
                    p += 2;
                    plen -= 2;
                } else if (nocase ? tolower((unsigned char)p[0]) == tolower((unsigned char)s[0])
                                  : p[0] == s[0]) {
                    match = 1;
                }
                p++;
                plen--;
            }
            if (plen == 0) { /* unterminated class: treat the end as ']' */
                p--;
                plen++;
            }
            if (neg) match = !match;
            if (!match) return 0;
            s++;
            slen--;
            break;
        }
        case '\\':
            if (plen >= 2) {
                p++;
                plen--;
            }
            /* fall through */
        default:
            if (slen == 0) return 0;
            if (nocase ? tolower((unsigned char)p[0]) != tolower((unsigned char)s[0])
                       : p[0] != s[0])
                return 0;
            s++;
            slen--;
            break;
        }
        p++;
        plen--;
        if (slen == 0) {
            while (plen && *p == '*') {
                p++;
                plen--;
            }
            break;
        }
    }
    return plen == 0 && slen == 0;
}

int stringmatchlen(const char *pattern, int patternLen, const char *string,
                   int stringLen, int nocase) {
    int skip = 0;
    return matchRec(pattern, patternLen, string, stringLen, nocase, &skip, 0);
}

unsigned long long memtoull(const char *p, int *err) {
    if (err) *err = 0;
    const char *u = p;
    while (*u == '-' || (*u >= '0' && *u <= '9')) u++;
    unsigned long long mul;
    if (!strcasecmp(u, "") || !strcasecmp(u, "b")) mul = 1;
    else if (!strcasecmp(u, "k")) mul = 1000;
    else if (!strcasecmp(u, "kb")) mul = 1024;
    else if (!strcasecmp(u, "m")) mul = 1000ULL * 1000;
    else if (!strcasecmp(u, "mb")) mul = 1024ULL * 1024;
    else if (!strcasecmp(u, "g")) mul = 1000ULL * 1000 * 1000;
    else if (!strcasecmp(u, "gb")) mul = 1024ULL * 1024 * 1024;
    else {
        if (err) *err = 1;
        return 0;
    }
    unsigned long long v;
    if (u == p || !string2ull(p, (size_t)(u - p), &v)) {
        if (err) *err = 1;
        return 0;
    }
    if (v && mul > ULLONG_MAX / v) {
        if (err) *err = 1;
        return 0;
    }
    return v * mul;
}

/* ----------------------------------------------------------------- time */

long long ustime(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

long long mstime(void) { return ustime() / 1000; }

uint64_t monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int isLoopbackAddr(const char *ip) {
    if (!strncmp(ip, "::ffff:", 7)) ip += 7;
    if (!strcmp(ip, "::1")) return 1;
    return !strncmp(ip, "127.", 4);
}

void getRandomBytes(unsigned char *p, size_t len) {
    int fd = open("/dev/urandom", O_RDONLY);
    size_t got = 0;
    if (fd >= 0) {
        while (got < len) {
            ssize_t n = read(fd, p + got, len - got);
            if (n <= 0) break;
            got += (size_t)n;
        }
        close(fd);
    }
    if (got < len) { /* fall back: not cryptographic, but unique enough */
        uint64_t x = (uint64_t)ustime() ^ ((uint64_t)getpid() << 32);
        for (size_t i = got; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p[i] = (unsigned char)x;
        }
    }
}

void getRandomHex(char *p, size_t len) {
    static const char *hex = "0123456789abcdef";
    unsigned char r[64];
    while (len) {
        size_t n = len > 128 ? 128 : len;
        getRandomBytes(r, (n + 1) / 2);
        for (size_t i = 0; i < n; i++) p[i] = hex[(r[i / 2] >> ((i & 1) * 4)) & 15];
        p += n;
        len -= n;
    }
}

/* ---------------------------------------------------------------- buffers */

void bufInit(buf *b) {
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void bufFree(buf *b) {
    zfree(b->ptr);
    bufInit(b);
}

void bufClear(buf *b) {
    b->len = 0;
    if (b->ptr) b->ptr[0] = '\0';
}

void bufReserve(buf *b, size_t extra) {
    if (b->cap - b->len >= extra && b->ptr) return;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap < (1u << 20) ? cap * 2 : cap + (cap >> 1);
    b->ptr = zrealloc(b->ptr, cap + 1);
    b->cap = cap;
}

void bufAppend(buf *b, const void *p, size_t len) {
    bufReserve(b, len);
    if (len) memcpy(b->ptr + b->len, p, len);
    b->len += len;
    b->ptr[b->len] = '\0';
}

void bufAppendStr(buf *b, const char *s) { bufAppend(b, s, strlen(s)); }

void bufPrintf(buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof(tmp)) {
        bufAppend(b, tmp, (size_t)n);
    } else {
        bufReserve(b, (size_t)n + 1);
        vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void bufConsume(buf *b, size_t n) {
    if (n >= b->len) {
        bufClear(b);
        return;
    }
    memmove(b->ptr, b->ptr + n, b->len - n);
    b->len -= n;
    b->ptr[b->len] = '\0';
}

/* --------------------------------------------------------- argument split */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int splitArgs(const char *line, size_t len, char ***argvp, size_t **lenp) {
    const char *p = line, *end = line + len;
    int argc = 0, cap = 4;
    char **argv = zmalloc(sizeof(char *) * (size_t)cap);
    size_t *argl = zmalloc(sizeof(size_t) * (size_t)cap);
    for (;;) {
        while (p < end && isspace((unsigned char)*p)) p++;
        if (p >= end) break;
        buf cur;
        bufInit(&cur);
        bufReserve(&cur, 16);
        int inq = 0, insq = 0, done = 0;
        while (!done) {
            if (inq) {
                if (p >= end) goto err;
                if (*p == '\\' && p + 3 < end && p[1] == 'x' && hexval(p[2]) >= 0 &&
                    hexval(p[3]) >= 0) {
                    char c = (char)(hexval(p[2]) * 16 + hexval(p[3]));
                    bufAppend(&cur, &c, 1);
                    p += 3;
                } else if (*p == '\\' && p + 1 < end) {
                    char c;
                    p++;
                    switch (*p) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: c = *p; break;
                    }
                    bufAppend(&cur, &c, 1);
                } else if (*p == '"') {
                    /* closing quote must be followed by a space or nothing */
                    if (p + 1 < end && !isspace((unsigned char)p[1])) goto err;
                    done = 1;
                } else {
                    bufAppend(&cur, p, 1);
                }
            } else if (insq) {
                if (p >= end) goto err;
                if (*p == '\\' && p + 1 < end && p[1] == '\'') {
                    p++;
                    bufAppend(&cur, "'", 1);
                } else if (*p == '\'') {
                    if (p + 1 < end && !isspace((unsigned char)p[1])) goto err;
                    done = 1;
                } else {
                    bufAppend(&cur, p, 1);
                }
            } else {
                if (p >= end) {
                    done = 1;
                    break;
                }
                switch (*p) {
                case ' ': case '\n': case '\r': case '\t': case '\0': done = 1; break;
                case '"': inq = 1; break;
                case '\'': insq = 1; break;
                default: bufAppend(&cur, p, 1); break;
                }
            }
            if (p < end) p++;
        }
        if (argc == cap) {
            cap *= 2;
            argv = zrealloc(argv, sizeof(char *) * (size_t)cap);
            argl = zrealloc(argl, sizeof(size_t) * (size_t)cap);
        }
        argv[argc] = cur.ptr;
        argl[argc] = cur.len;
        argc++;
        continue;
    err:
        bufFree(&cur);
        freeSplitArgs(argv, argl, argc);
        *argvp = NULL;
        *lenp = NULL;
        return -1;
    }
    *argvp = argv;
    *lenp = argl;
    return argc;
}

void freeSplitArgs(char **argv, size_t *argvlen, int argc) {
    for (int i = 0; i < argc; i++) zfree(argv[i]);
    zfree(argv);
    zfree(argvlen);
}
