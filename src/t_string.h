/* t_string.h -- string commands (t_string.c), and the helpers the key
 * commands share (t_keyspace.c uses them): the visible version of a read,
 * expiry arguments, writes whose reply is prepared first and sent only once
 * the write is acknowledged; and the read-modify-write and value-read
 * helpers the bit commands (t_bitops.c, their own header t_bitops.h) share.
 *
 * API:
 *   the *Command handlers below (rows of commands.c's table)
 *   liveVersion(res)               the version GET shows, NULL if none
 *   stringView(rec)                the same for a record (counter contributions added)
 *   readTyped(r, cb, pd)           a string command's read (WRONGTYPE on a collection)
 *   parseExpireArg(r, i, ms, abs)  Redis's rules for EX/PX/EXAT/PXAT values
 *   writeValue(...)                one coordWrite, context from a read record
 *   pendingReplyNew / writeValueThenReply / writeThenReply / sendPendingReply
 *   rmw(r, fn)                     a read-modify-write of argv[1] (for t_bitops.c)
 *   readValue(r, fn)               a reply computed from argv[1]'s value (for t_bitops.c)
 */
#ifndef RINGKV_T_STRING_H
#define RINGKV_T_STRING_H

#include "coord.h"
#include "request.h"

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
/* A string command's read of argv[1] (coordRead): a key holding a live
 * collection answers WRONGTYPE instead of calling cb (t_string.c). */
void readTyped(request *r, coordCallback *cb, void *pd);
/* The version a read of rec shows, counter contributions added (valid until
 * the next call but one). */
const version *stringView(const record *rec);
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

/* A read-modify-write over one key: fn computes the new value from the old
 * (NULL if absent) and either replies itself (returns 0) or fills newval /
 * pr and returns 1 to write it, keeping the old expiry. */
typedef int rmwFn(request *r, const version *old, buf *newval, pendingReply *pr);
void rmw(request *r, rmwFn *fn);
/* A read whose reply is computed from the value by fn (NULL if absent). */
typedef void readFn(request *r, const version *v);
void readValue(request *r, readFn *fn);

void getCommand(request *r);
void setCommand(request *r);
void setnxCommand(request *r);
void setexCommand(request *r);
void psetexCommand(request *r);
void getsetCommand(request *r);
void getdelCommand(request *r);
void getexCommand(request *r);
void mgetCommand(request *r);
void msetCommand(request *r);
void msetnxCommand(request *r);
void appendCommand(request *r);
void setrangeCommand(request *r);
void incrCommand(request *r);
void decrCommand(request *r);
void incrbyCommand(request *r);
void decrbyCommand(request *r);
void incrbyfloatCommand(request *r);
void strlenCommand(request *r);
void getrangeCommand(request *r);
void lcsCommand(request *r);
void vgetCommand(request *r);
void vsetCommand(request *r);

#endif
