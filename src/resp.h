/* resp.h -- the RESP request parser (no I/O) and the reply writers.
 *
 * API:
 *   respParserInit/respParserReset/respParserFree
 *   respParse(p, buf, len, limits)  -> RESP_NEED_MORE | RESP_OK | RESP_ERR
 *   respArgPtr(p, buf, i)           where argument i starts
 *   respAdd*(out, proto, ...)       append one reply to an evbuffer
 *
 * The parser is incremental: call respParse with the same buffer (the bytes of
 * the current request always start at buf[0]) each time more bytes arrive; it
 * resumes where it stopped, so a request split at any byte boundary costs the
 * same as one that arrives whole. On RESP_OK the request occupies p->consumed
 * bytes and its arguments are p->argc (offset, length) pairs into buf (or into
 * p->inl for an inline request, whose quotes and escapes are decoded). A
 * request with no arguments (an empty line, "*0") is RESP_OK with argc == 0.
 * On RESP_ERR, p->err is Redis's own error text, and the connection must be
 * closed after replying: the stream can no longer be framed.
 *
 * Error texts and limits follow Redis 7 (networking.c) so that clients and
 * Redis's own test suite see exactly what they expect. */
#ifndef RINGKV_RESP_H
#define RINGKV_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct evbuffer;

#define RESP_NEED_MORE 0
#define RESP_OK 1
#define RESP_ERR 2

#define RESP_INLINE_MAX (64 * 1024) /* longest inline request / header line */

typedef struct respArg {
    size_t off; /* offset of the first byte (in buf, or in p->inl.ptr if inline) */
    size_t len; /* length in bytes */
} respArg;

typedef struct respParser {
    int inited;          /* 0 until the request's first byte has been seen */
    int isinline;        /* the request is an inline (telnet) command */
    long long mbtotal;   /* arguments announced by the "*N" header */
    long long bulklen;   /* length of the bulk being read, -1 = header next */
    size_t pos;          /* bytes of buf already parsed */
    int argc;            /* arguments complete so far */
    int argcap;          /* allocated slots in args */
    respArg *args;       /* argument positions, owned */
    buf inl;             /* decoded inline arguments, owned */
    size_t consumed;     /* on RESP_OK: bytes the request took */
    const char *err;     /* on RESP_ERR: the error text (static) */
    char errbuf[64];     /* room for errors that quote a byte */
} respParser;

typedef struct respLimits {
    long long max_bulk;  /* proto-max-bulk-len */
    int authenticated;   /* unauthenticated clients get tight limits, as in Redis */
} respLimits;

void respParserInit(respParser *p);
void respParserReset(respParser *p); /* ready for the next request */
void respParserFree(respParser *p);
int respParse(respParser *p, const char *buf, size_t len, const respLimits *lim);
/* How many bytes the request still needs at least (a hint to pre-size the
 * buffer for large bulks); 0 when unknown. */
size_t respPendingBulk(const respParser *p);

static inline const char *respArgPtr(const respParser *p, const char *buf, int i) {
    return (p->isinline ? p->inl.ptr : buf) + p->args[i].off;
}

/* A command as a RESP array of bulk strings, written into out (cleared
 * first; argv/lens borrowed): what the cluster bus sends. */
void respFormatCommand(buf *out, int argc, const char **argv, const size_t *lens);

/* ---- reply writers. proto is 2 or 3 (RESP2 / RESP3). ---- */
void respAddRaw(struct evbuffer *out, const char *s, size_t len);
void respAddStatus(struct evbuffer *out, const char *s);           /* +s */
void respAddError(struct evbuffer *out, const char *s); /* "-CODE msg" as is, else "-ERR s" */
void respAddErrorFormat(struct evbuffer *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void respAddInteger(struct evbuffer *out, long long v);            /* :v */
void respAddBulk(struct evbuffer *out, const char *p, size_t len); /* $len p */
void respAddBulkCString(struct evbuffer *out, const char *s);
void respAddBulkLongLong(struct evbuffer *out, long long v);
void respAddNull(struct evbuffer *out, int proto);      /* $-1 or _ */
void respAddNullArray(struct evbuffer *out, int proto); /* *-1 or _ */
void respAddArrayLen(struct evbuffer *out, long long n);
void respAddMapLen(struct evbuffer *out, int proto, long long n); /* %n or *2n */
void respAddSetLen(struct evbuffer *out, int proto, long long n); /* ~n or *n */
void respAddDouble(struct evbuffer *out, int proto, double d);     /* ,d or bulk */
void respAddBool(struct evbuffer *out, int proto, int b);          /* #t or :1 */
void respAddVerbatim(struct evbuffer *out, int proto, const char *p, size_t len,
                     const char *ext); /* =len txt:... or bulk */

#endif
