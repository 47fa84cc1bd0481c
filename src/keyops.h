/* keyops.h -- helpers shared by the key commands (t_string.c, t_keyspace.c):
 * the visible version of a read, expiry arguments, writes whose reply is
 * prepared first and sent only once the write is acknowledged.
 *
 * API:
 *   liveVersion(res)               the version GET shows, NULL if none
 *   parseExpireArg(r, i, ms, abs)  Redis's rules for EX/PX/EXAT/PXAT values
 *   writeValue(...)                one coordWrite, context from a read record
 *   pendingReplyNew / writeValueThenReply / writeThenReply / sendPendingReply
 */
#ifndef RINGKV_KEYOPS_H
#define RINGKV_KEYOPS_H

#include "coord.h"
#include "server.h"

/* A reply prepared before the write(s), sent when the last write is
 * acknowledged, or replaced by the first write error. Used as (the first
 * member of) a request's state. */
typedef struct pendingReply {
    int kind;      /* PR_* */
    long long ll;  /* PR_INT */
    buf bulk;      /* PR_BULK */
    int remaining; /* writes still outstanding */
    char err[320]; /* first write error, "" if none */
} pendingReply;

#define PR_OK 0
#define PR_INT 1
#define PR_BULK 2
#define PR_NULL 3

const version *liveVersion(const coordResult *res);
int parseExpireArg(request *r, int i, int unit_ms, int absolute, long long *when);
void writeValue(request *r, int db, const char *key, size_t klen, const char *val, size_t vlen,
                int tombstone, long long expire, const record *ctxrec, coordCallback *cb, void *pd);
pendingReply *pendingReplyNew(request *r, int kind); /* becomes r->state */
void freePendingReply(void *p);
void sendPendingReply(request *r, pendingReply *pr);
void writeThenReply(request *r, const coordResult *res, void *pd);
void writeValueThenReply(request *r, pendingReply *pr, int db, const char *key, size_t klen,
                         const char *val, size_t vlen, int tombstone, long long expire,
                         const record *ctxrec);

#endif
