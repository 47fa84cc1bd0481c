/* resp.c -- incremental RESP request parser and reply writers.
 *
 * The parser follows the framing rules of Redis 7 (networking.c):
 *   multibulk:  "*<n>\r\n" then n times "$<len>\r\n<len bytes>\r\n"
 *   inline:     a line of space separated words ending in \n (\r optional),
 *               with Redis's quoting rules (see splitArgs in util.c).
 * Invariants kept between calls: bytes buf[0..p->pos) are parsed; p->argc
 * arguments are complete; p->bulklen is -1 when the next thing to read is a
 * "$len" header, else the length of the bulk starting at p->pos. */
#include "resp.h"

#include <event2/buffer.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void respParserInit(respParser *p) {
    memset(p, 0, sizeof(*p));
    p->bulklen = -1;
    bufInit(&p->inl);
}

void respParserReset(respParser *p) {
    p->inited = 0;
    p->isinline = 0;
    p->mbtotal = 0;
    p->bulklen = -1;
    p->pos = 0;
    p->argc = 0;
    p->consumed = 0;
    p->err = NULL;
    bufClear(&p->inl);
    /* shrink after a huge request so idle clients stay small */
    if (p->argcap > 1024) {
        zfree(p->args);
        p->args = NULL;
        p->argcap = 0;
    }
}

void respParserFree(respParser *p) {
    zfree(p->args);
    bufFree(&p->inl);
    p->args = NULL;
    p->argcap = 0;
}

static void pushArg(respParser *p, size_t off, size_t len) {
    if (p->argc == p->argcap) {
        int cap = p->argcap ? p->argcap * 2 : 8;
        p->args = zrealloc(p->args, sizeof(respArg) * (size_t)cap);
        p->argcap = cap;
    }
    p->args[p->argc].off = off;
    p->args[p->argc].len = len;
    p->argc++;
}

size_t respPendingBulk(const respParser *p) {
    if (p->isinline || p->bulklen < 0) return 0;
    return (size_t)p->bulklen + 2;
}

static int parseInline(respParser *p, const char *b, size_t len) {
    const char *nl = memchr(b, '\n', len);
    if (!nl) {
        if (len > RESP_INLINE_MAX) {
            p->err = "Protocol error: too big inline request";
            return RESP_ERR;
        }
        return RESP_NEED_MORE;
    }
    size_t linelen = (size_t)(nl - b);
    size_t consumed = linelen + 1;
    if (linelen && b[linelen - 1] == '\r') linelen--;
    char **argv;
    size_t *argl;
    int argc = splitArgs(b, linelen, &argv, &argl);
    if (argc < 0) {
        p->err = "Protocol error: unbalanced quotes in request";
        return RESP_ERR;
    }
    p->isinline = 1;
    bufClear(&p->inl);
    for (int i = 0; i < argc; i++) {
        pushArg(p, p->inl.len, argl[i]);
        bufAppend(&p->inl, argv[i], argl[i]);
    }
    freeSplitArgs(argv, argl, argc);
    p->consumed = consumed;
    return RESP_OK;
}

/* Find "\r\n"-terminated line at b[0..avail). Returns line length (without
 * \r\n) or -1 if incomplete. */
static long findLine(const char *b, size_t avail) {
    const char *cr = memchr(b, '\r', avail);
    if (!cr) return -1;
    size_t l = (size_t)(cr - b);
    if (l + 2 > avail) return -1; /* need the \n too */
    return (long)l;
}

int respParse(respParser *p, const char *b, size_t len, const respLimits *lim) {
    if (!p->inited) {
        if (len == 0) return RESP_NEED_MORE;
        if (b[0] != '*') return parseInline(p, b, len);
        long l = findLine(b, len);
        if (l < 0) {
            if (len > RESP_INLINE_MAX) {
                p->err = "Protocol error: too big mbulk count string";
                return RESP_ERR;
            }
            return RESP_NEED_MORE;
        }
        long long n;
        if (!string2ll(b + 1, (size_t)l - 1, &n) || n > INT_MAX) {
            p->err = "Protocol error: invalid multibulk length";
            return RESP_ERR;
        }
        if (n > 10 && !lim->authenticated) {
            p->err = "Protocol error: unauthenticated multibulk length";
            return RESP_ERR;
        }
        p->inited = 1;
        p->pos = (size_t)l + 2;
        p->mbtotal = n > 0 ? n : 0;
        p->bulklen = -1;
        if (p->mbtotal > 0 && p->argcap < p->mbtotal && p->mbtotal <= 1024 * 1024) {
            p->args = zrealloc(p->args, sizeof(respArg) * (size_t)p->mbtotal);
            p->argcap = (int)p->mbtotal;
        }
    }
    while (p->argc < p->mbtotal) {
        if (p->bulklen < 0) {
            size_t avail = len - p->pos;
            long l = findLine(b + p->pos, avail);
            if (l < 0) {
                if (avail > RESP_INLINE_MAX) {
                    p->err = "Protocol error: too big bulk count string";
                    return RESP_ERR;
                }
                return RESP_NEED_MORE;
            }
            if (b[p->pos] != '$') {
                snprintf(p->errbuf, sizeof(p->errbuf), "Protocol error: expected '$', got '%c'",
                         b[p->pos]);
                p->err = p->errbuf;
                return RESP_ERR;
            }
            long long bl;
            if (!string2ll(b + p->pos + 1, (size_t)l - 1, &bl) || bl < 0 ||
                bl > lim->max_bulk) {
                p->err = "Protocol error: invalid bulk length";
                return RESP_ERR;
            }
            if (bl > 16384 && !lim->authenticated) {
                p->err = "Protocol error: unauthenticated bulk length";
                return RESP_ERR;
            }
            p->pos += (size_t)l + 2;
            p->bulklen = bl;
        }
        if (len - p->pos < (size_t)p->bulklen + 2) return RESP_NEED_MORE;
        pushArg(p, p->pos, (size_t)p->bulklen);
        p->pos += (size_t)p->bulklen + 2;
        p->bulklen = -1;
    }
    p->consumed = p->pos;
    return RESP_OK;
}

/* ------------------------------------------------------------- replies */

void respAddRaw(struct evbuffer *out, const char *s, size_t len) { evbuffer_add(out, s, len); }

static void addLenPrefixed(struct evbuffer *out, char type, long long n) {
    char b[32];
    b[0] = type;
    int l = ll2string(b + 1, sizeof(b) - 3, n);
    b[l + 1] = '\r';
    b[l + 2] = '\n';
    evbuffer_add(out, b, (size_t)l + 3);
}

void respAddStatus(struct evbuffer *out, const char *s) {
    evbuffer_add(out, "+", 1);
    evbuffer_add(out, s, strlen(s));
    evbuffer_add(out, "\r\n", 2);
}

/* As Redis's addReplyError: a text that starts with '-' carries its own
 * code ("-NOQUORUM ..."), anything else gets "-ERR ". Newlines cannot appear
 * inside an error line; they become spaces, as Redis does. */
void respAddError(struct evbuffer *out, const char *s) {
    size_t n = strlen(s);
    if (s[0] == '-') {
        s++;
        n--;
        evbuffer_add(out, "-", 1);
    } else {
        evbuffer_add(out, "-ERR ", 5);
    }
    if (memchr(s, '\n', n) || memchr(s, '\r', n)) {
        char *c = zmemdup(s, n);
        for (size_t i = 0; i < n; i++)
            if (c[i] == '\r' || c[i] == '\n') c[i] = ' ';
        evbuffer_add(out, c, n);
        zfree(c);
    } else {
        evbuffer_add(out, s, n);
    }
    evbuffer_add(out, "\r\n", 2);
}

void respAddErrorFormat(struct evbuffer *out, const char *fmt, ...) {
    char b[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof(b), fmt, ap);
    va_end(ap);
    respAddError(out, b);
}

void respAddInteger(struct evbuffer *out, long long v) {
    if (v == 0) {
        evbuffer_add(out, ":0\r\n", 4);
    } else if (v == 1) {
        evbuffer_add(out, ":1\r\n", 4);
    } else {
        addLenPrefixed(out, ':', v);
    }
}

/* Values of 16 KB and more are added by reference would need their lifetime;
 * callers own the bytes only for the call, so everything is copied here. */
void respAddBulk(struct evbuffer *out, const char *p, size_t len) {
    addLenPrefixed(out, '$', (long long)len);
    if (len) evbuffer_add(out, p, len);
    evbuffer_add(out, "\r\n", 2);
}

void respAddBulkCString(struct evbuffer *out, const char *s) {
    respAddBulk(out, s, strlen(s));
}

void respAddBulkLongLong(struct evbuffer *out, long long v) {
    char b[32];
    int l = ll2string(b, sizeof(b), v);
    respAddBulk(out, b, (size_t)l);
}

void respAddNull(struct evbuffer *out, int proto) {
    if (proto >= 3) evbuffer_add(out, "_\r\n", 3);
    else evbuffer_add(out, "$-1\r\n", 5);
}

void respAddNullArray(struct evbuffer *out, int proto) {
    if (proto >= 3) evbuffer_add(out, "_\r\n", 3);
    else evbuffer_add(out, "*-1\r\n", 5);
}

void respAddArrayLen(struct evbuffer *out, long long n) { addLenPrefixed(out, '*', n); }

/* Writes "<type><n>\r\n" at p; returns the end. */
static char *lenPrefixed(char *p, char type, size_t n) {
    char num[24];
    int l = 0;
    do {
        num[l++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    *p++ = type;
    while (l) *p++ = num[--l];
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* Every cluster bus message is formatted here: room for all of it is
 * reserved once and the bytes are written in place (a bufAppend per piece
 * and ll2string per length were most of the cost of sending a PUT). */
void respFormatCommand(buf *out, int argc, const char **argv, const size_t *lens) {
    size_t total = 24;
    for (int i = 0; i < argc; i++) total += lens[i] + 26;
    bufClear(out);
    bufReserve(out, total);
    char *p = out->ptr;
    p = lenPrefixed(p, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        p = lenPrefixed(p, '$', lens[i]);
        if (lens[i]) memcpy(p, argv[i], lens[i]);
        p += lens[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    out->len = (size_t)(p - out->ptr);
    out->ptr[out->len] = '\0';
}

void respAddMapLen(struct evbuffer *out, int proto, long long n) {
    if (proto >= 3) addLenPrefixed(out, '%', n);
    else addLenPrefixed(out, '*', n * 2);
}

void respAddSetLen(struct evbuffer *out, int proto, long long n) {
    addLenPrefixed(out, proto >= 3 ? '~' : '*', n);
}

void respAddDouble(struct evbuffer *out, int proto, double d) {
    char b[64];
    int l = d2string(b, sizeof(b), d);
    if (proto >= 3) {
        evbuffer_add(out, ",", 1);
        evbuffer_add(out, b, (size_t)l);
        evbuffer_add(out, "\r\n", 2);
    } else {
        respAddBulk(out, b, (size_t)l);
    }
}

void respAddBool(struct evbuffer *out, int proto, int v) {
    if (proto >= 3) evbuffer_add(out, v ? "#t\r\n" : "#f\r\n", 4);
    else respAddInteger(out, v ? 1 : 0);
}

void respAddVerbatim(struct evbuffer *out, int proto, const char *p, size_t len,
                     const char *ext) {
    if (proto < 3) {
        respAddBulk(out, p, len);
        return;
    }
    addLenPrefixed(out, '=', (long long)len + 4);
    evbuffer_add(out, ext, 3);
    evbuffer_add(out, ":", 1);
    evbuffer_add(out, p, len);
    evbuffer_add(out, "\r\n", 2);
}
