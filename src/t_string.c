/* t_string.c -- string commands as coordinator operations.
 *
 * Every handler is a continuation chain over coord.c: read the key (merged
 * across replicas), decide, write a new version, reply when the write is
 * acknowledged. Read-modify-write commands (INCR, APPEND, SET NX/XX/GET...)
 * write with the causal context they read, so a concurrent writer of the
 * same key through another coordinator produces a sibling, never a silently
 * lost update; plain SET/MSET write over whatever the version coordinator
 * holds (see README "What a plain SET does").
 *
 * Semantics and error texts follow Redis 7.0. A value is a byte string; a
 * command that reads a key holding a collection answers WRONGTYPE
 * (readTyped).
 *
 * The bit commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP) are
 * t_bitops.c's; they read and write through rmw and readValue below.
 *
 * API: the *Command handlers in commands.h, plus the shared helpers
 * parseExpireArg / liveVersion / writeValue used by t_keyspace.c, and
 * rmw / readValue used by t_bitops.c (all in t_string.h). */
#include "t_string.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "clock.h"
#include "coll.h"
#include "coord.h"
#include "types/strctr.h"
#include "types/tcodec.h"

/* ------------------------------------------------------------- helpers */

/* A string command's read of argv[1]: coordRead, and when no record lives
 * there but a replica holds a collection's metadata (res->coll) or a
 * tombstone (SET, DEL, then SADD leaves both), the collection is read too: a live collection answers WRONGTYPE, as Redis
 * does, instead of cb. Only a miss pays for the second read. (A string
 * that lives is taken as it is: a collection can hide it only if written
 * concurrently with it, docs/types.md's type rule.) */
typedef struct typedRead {
    coordCallback *cb; /* the command's continuation */
    void *pd;          /* its private data */
    record rec;        /* the record read (no live version; tombstones matter to writes) */
} typedRead;

static void typedReadColl(request *r, const collView *v, const char *err, void *pd) {
    typedRead *t = pd;
    if (!v) {
        addReplyError(r, err);
    } else if (collTypeOf(v) > KT_STRING) {
        addReplyError(r, ERR_WRONGTYPE);
    } else {
        coordResult res = {1, NULL, &t->rec, 0};
        t->cb(r, &res, t->pd);
    }
    recordFree(&t->rec);
    zfree(t);
}

static void typedReadDone(request *r, const coordResult *res, void *pd) {
    typedRead *t = pd;
    /* a tombstone does not say whether a collection was made after it:
     * only a key no replica holds anything of skips the second read */
    if (!res->ok || liveVersion(res) || (!res->coll && res->rec->n == 0)) {
        t->cb(r, res, t->pd);
        zfree(t);
        return;
    }
    recordInit(&t->rec);
    recordMerge(&t->rec, res->rec, 1);
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_NAMED, NULL, NULL, 0, typedReadColl, t);
}

void readTyped(request *r, coordCallback *cb, void *pd) {
    typedRead *t = zmalloc(sizeof(*t));
    t->cb = cb;
    t->pd = pd;
    coordRead(r, r->db, r->argv[1], r->argvlen[1], typedReadDone, t);
}

const version *liveVersion(const coordResult *res) { return stringView(res->rec); }

/* The version a read shows, counter contributions included (strctr.h):
 * the newest live version, or, when increments no SET observed live, a
 * version made up with the number as its value (over the live version's
 * dot and expiry, or none: a key only INCR wrote). The made-up one lives
 * in static storage until the next call (two slots: a command may look at
 * two keys at once); the event loop is the only caller. */
const version *stringView(const record *rec) {
    static version made[2];
    static buf text[2];
    static int next;
    if (!rec) return NULL;
    long long now = serverNowMs();
    const version *v = recordVisible(rec, now);
    if (!rec->ctr) return v;
    int slot = next;
    next ^= 1;
    bufClear(&text[slot]);
    int kind = strctrRead(rec, rec->ctr, now, &text[slot]);
    if (kind == NUM_ABSENT) return NULL;
    if (kind == NUM_STRING) return v;
    version *m = &made[slot];
    if (v) {
        *m = *v; /* shares v's past: read only */
    } else {
        memset(m, 0, sizeof(*m));
        for (int i = 0; i < rec->ctr->n; i++)
            if (rec->ctr->s[i].seq > m->counter) m->counter = rec->ctr->s[i].seq;
    }
    m->val = text[slot].ptr ? text[slot].ptr : "";
    m->vlen = text[slot].len;
    m->ownval = 0;
    m->tombstone = 0;
    return m;
}

int parseExpireArg(request *r, int i, int unit_ms, int absolute, long long *when) {
    long long v;
    if (getLongLongFromArg(r, i, &v, NULL) != C_OK) return C_ERR;
    if (v <= 0 || (!unit_ms && v > LLONG_MAX / 1000)) goto bad;
    if (!unit_ms) v *= 1000;
    if (!absolute) {
        long long now = serverNowMs();
        if (v > LLONG_MAX - now) goto bad;
        v += now;
    }
    if (v <= 0) goto bad;
    *when = v;
    return C_OK;
bad:
    addReplyErrorFormat(r, "invalid expire time in '%s' command", r->cmd->name);
    return C_ERR;
}

void writeValue(request *r, int db, const char *key, size_t klen, const char *val, size_t vlen,
                int tombstone, long long expire, const record *ctxrec, coordCallback *cb, void *pd) {
    writeOp op = {val, vlen, tombstone, expire, NULL, 0};
    vclock ctx;
    vclockInit(&ctx);
    if (ctxrec) {
        recordContext(ctxrec, &ctx);
        op.ctx = &ctx;
    }
    coordWrite(r, db, key, klen, &op, cb, pd);
    vclockFree(&ctx);
}

void freePendingReply(void *p) {
    pendingReply *pr = p;
    bufFree(&pr->bulk);
    zfree(pr);
}

pendingReply *pendingReplyNew(request *r, int kind) {
    pendingReply *pr = requestState(r, sizeof(*pr));
    r->state_free = freePendingReply;
    bufInit(&pr->bulk);
    pr->kind = kind;
    return pr;
}

void sendPendingReply(request *r, pendingReply *pr) {
    if (pr->err[0]) {
        addReplyError(r, pr->err);
        return;
    }
    switch (pr->kind) {
    case PR_OK: addReplyOK(r); break;
    case PR_INT: addReplyInteger(r, pr->ll); break;
    case PR_BULK: addReplyBulk(r, pr->bulk.ptr ? pr->bulk.ptr : "", pr->bulk.len); break;
    case PR_NULL: addReplyNull(r); break;
    }
}

/* Write callback: counts down pr->remaining and replies at zero. */
void writeThenReply(request *r, const coordResult *res, void *pd) {
    pendingReply *pr = pd;
    if (!res->ok && !pr->err[0]) snprintf(pr->err, sizeof(pr->err), "%s", res->err);
    if (--pr->remaining <= 0) sendPendingReply(r, pr);
}

void writeValueThenReply(request *r, pendingReply *pr, int db, const char *key, size_t klen,
                         const char *val, size_t vlen, int tombstone, long long expire,
                         const record *ctxrec) {
    pr->remaining++;
    writeValue(r, db, key, klen, val, vlen, tombstone, expire, ctxrec, writeThenReply, pr);
}

/* ----------------------------------------------------------------- GET */

static void getDone(request *r, const coordResult *res, void *pd) {
    UNUSED(pd);
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    const version *v = liveVersion(res);
    if (v) addReplyBulk(r, v->val, v->vlen);
    else addReplyNull(r);
}

void getCommand(request *r) { readTyped(r, getDone, NULL); }

/* ----------------------------------------------------------------- SET */

#define SET_NX (1 << 0)
#define SET_XX (1 << 1)
#define SET_GET (1 << 2)
#define SET_KEEPTTL (1 << 3)
#define SET_EX (1 << 4)
#define SET_PX (1 << 5)
#define SET_EXAT (1 << 6)
#define SET_PXAT (1 << 7)
#define SET_PERSIST (1 << 8)
#define SET_EXPIRES (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

typedef struct setState {
    pendingReply pr; /* must be first: freed as a pendingReply */
    int flags;
    long long expire;
    int vi;          /* argv index of the value */
    const char *abort_reply; /* "null" or "0" when NX/XX fails */
} setState;

/* Parses SET/GETEX options from argv[first..]; 'set' selects SET's options.
 * Returns C_ERR after replying. */
static int parseStringOptions(request *r, int first, int set, int *flags, long long *expire) {
    int f = 0, expi = 0;
    for (int j = first; j < r->argc; j++) {
        const char *o = r->argv[j];
        int next = j + 1 < r->argc;
        if (set && !strcasecmp(o, "nx") && !(f & SET_XX)) f |= SET_NX;
        else if (set && !strcasecmp(o, "xx") && !(f & SET_NX)) f |= SET_XX;
        else if (set && !strcasecmp(o, "get")) f |= SET_GET;
        else if (set && !strcasecmp(o, "keepttl") && !(f & SET_EXPIRES)) f |= SET_KEEPTTL;
        else if (!set && !strcasecmp(o, "persist") && !(f & SET_EXPIRES)) f |= SET_PERSIST;
        else {
            static const struct {
                const char *name;
                int flag;
            } ex[] = {{"ex", SET_EX}, {"px", SET_PX}, {"exat", SET_EXAT}, {"pxat", SET_PXAT}};
            int matched = 0;
            for (int k = 0; k < 4; k++) {
                if (strcasecmp(o, ex[k].name)) continue;
                if (!next || (f & (SET_KEEPTTL | SET_PERSIST)) || (f & SET_EXPIRES & ~ex[k].flag))
                    break;
                f |= ex[k].flag;
                expi = ++j;
                matched = 1;
                break;
            }
            if (!matched) {
                addReplyError(r, ERR_SYNTAX);
                return C_ERR;
            }
        }
    }
    if (expi && parseExpireArg(r, expi, (f & (SET_PX | SET_PXAT)) != 0,
                               (f & (SET_EXAT | SET_PXAT)) != 0, expire) != C_OK)
        return C_ERR;
    *flags = f;
    return C_OK;
}

static void setAfterRead(request *r, const coordResult *res, void *pd) {
    setState *s = pd;
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    const version *old = liveVersion(res);
    if (s->flags & SET_GET) {
        if (old) {
            s->pr.kind = PR_BULK;
            bufAppend(&s->pr.bulk, old->val, old->vlen);
        } else {
            s->pr.kind = PR_NULL;
        }
    }
    if (((s->flags & SET_NX) && old) || ((s->flags & SET_XX) && !old)) {
        if (s->flags & SET_GET) sendPendingReply(r, &s->pr);
        else if (s->abort_reply[0] == '0') addReplyInteger(r, 0);
        else addReplyNull(r);
        return;
    }
    long long expire = s->expire;
    if ((s->flags & SET_KEEPTTL) && old) expire = old->expire;
    writeValueThenReply(r, &s->pr, r->db, r->argv[1], r->argvlen[1], r->argv[s->vi],
                        r->argvlen[s->vi], 0, expire, res->rec);
}

/* The body of SET, SETNX, SETEX, PSETEX, GETSET. */
static void setGeneric(request *r, int flags, long long expire, int vi, int okint) {
    setState *s = requestState(r, sizeof(*s));
    r->state_free = freePendingReply;
    bufInit(&s->pr.bulk);
    s->flags = flags;
    s->expire = expire;
    s->vi = vi;
    s->pr.kind = okint ? PR_INT : PR_OK;
    s->pr.ll = 1;
    s->abort_reply = okint ? "0" : "null";
    if (!(flags & (SET_NX | SET_XX | SET_GET | SET_KEEPTTL))) {
        /* plain SET: no read, the version coordinator's versions are the past */
        writeValueThenReply(r, &s->pr, r->db, r->argv[1], r->argvlen[1], r->argv[vi],
                            r->argvlen[vi], 0, expire, NULL);
        return;
    }
    if (flags & SET_GET) readTyped(r, setAfterRead, s);
    else coordRead(r, r->db, r->argv[1], r->argvlen[1], setAfterRead, s);
}

void setCommand(request *r) {
    int flags;
    long long expire = 0;
    if (parseStringOptions(r, 3, 1, &flags, &expire) != C_OK) return;
    setGeneric(r, flags, expire, 2, 0);
}

void setnxCommand(request *r) { setGeneric(r, SET_NX, 0, 2, 1); }

void setexCommand(request *r) {
    long long expire;
    if (parseExpireArg(r, 2, 0, 0, &expire) != C_OK) return;
    setGeneric(r, 0, expire, 3, 0);
}

void psetexCommand(request *r) {
    long long expire;
    if (parseExpireArg(r, 2, 1, 0, &expire) != C_OK) return;
    setGeneric(r, 0, expire, 3, 0);
}

void getsetCommand(request *r) { setGeneric(r, SET_GET, 0, 2, 0); }

/* ------------------------------------------------------- GETDEL / GETEX */

static void getdelAfterRead(request *r, const coordResult *res, void *pd) {
    UNUSED(pd);
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    const version *v = liveVersion(res);
    if (!v) {
        addReplyNull(r);
        return;
    }
    pendingReply *pr = pendingReplyNew(r, PR_BULK);
    bufAppend(&pr->bulk, v->val, v->vlen);
    writeValueThenReply(r, pr, r->db, r->argv[1], r->argvlen[1], NULL, 0, 1, 0, res->rec);
}

void getdelCommand(request *r) {
    readTyped(r, getdelAfterRead, NULL);
}

typedef struct getexState {
    pendingReply pr; /* first: freed as a pendingReply */
    int flags;
    long long expire;
} getexState;

static void getexAfterRead(request *r, const coordResult *res, void *pd) {
    getexState *g = pd;
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    const version *v = liveVersion(res);
    if (!v) {
        addReplyNull(r);
        return;
    }
    if (!(g->flags & (SET_EXPIRES | SET_PERSIST)) || ((g->flags & SET_PERSIST) && !v->expire)) {
        addReplyBulk(r, v->val, v->vlen);
        return;
    }
    bufAppend(&g->pr.bulk, v->val, v->vlen);
    if (g->expire && g->expire <= serverNowMs()) /* EXAT/PXAT in the past deletes */
        writeValueThenReply(r, &g->pr, r->db, r->argv[1], r->argvlen[1], NULL, 0, 1, 0, res->rec);
    else
        writeValueThenReply(r, &g->pr, r->db, r->argv[1], r->argvlen[1], v->val, v->vlen, 0,
                            (g->flags & SET_PERSIST) ? 0 : g->expire, res->rec);
}

void getexCommand(request *r) {
    getexState *g = requestState(r, sizeof(*g));
    r->state_free = freePendingReply;
    bufInit(&g->pr.bulk);
    g->pr.kind = PR_BULK;
    if (parseStringOptions(r, 2, 0, &g->flags, &g->expire) != C_OK) return;
    readTyped(r, getexAfterRead, g);
}

/* ------------------------------------------------------------ MGET/MSET */

typedef struct mgetState {
    int n;        /* keys */
    int done;     /* answers received */
    buf *vals;    /* value per key */
    char *found;  /* 1 if the key had a live value */
    char err[320];
} mgetState;

static void freeMget(void *p) {
    mgetState *m = p;
    for (int i = 0; i < m->n; i++) bufFree(&m->vals[i]);
    zfree(m->vals);
    zfree(m->found);
    zfree(m);
}

static void mgetOne(request *r, const coordResult *res, void *pd) {
    mgetState *m = r->state;
    int i = (int)(intptr_t)pd;
    if (!res->ok) {
        if (!m->err[0]) snprintf(m->err, sizeof(m->err), "%s", res->err);
    } else {
        const version *v = liveVersion(res);
        if (v) {
            m->found[i] = 1;
            bufAppend(&m->vals[i], v->val, v->vlen);
        }
    }
    if (++m->done < m->n) return;
    if (m->err[0]) {
        addReplyError(r, m->err);
        return;
    }
    addReplyArrayLen(r, m->n);
    for (int k = 0; k < m->n; k++) {
        if (m->found[k]) addReplyBulk(r, m->vals[k].ptr ? m->vals[k].ptr : "", m->vals[k].len);
        else addReplyNull(r);
    }
}

void mgetCommand(request *r) {
    mgetState *m = requestState(r, sizeof(*m));
    r->state_free = freeMget;
    m->n = r->argc - 1;
    m->vals = zcalloc(sizeof(buf) * (size_t)m->n);
    m->found = zcalloc((size_t)m->n);
    for (int i = 0; i < m->n; i++)
        coordRead(r, r->db, r->argv[i + 1], r->argvlen[i + 1], mgetOne, (void *)(intptr_t)i);
}

void msetCommand(request *r) {
    if ((r->argc % 2) == 0) {
        addReplyErrorArity(r);
        return;
    }
    pendingReply *pr = pendingReplyNew(r, PR_OK);
    /* Hold one count so the reply is sent once, after the loop, even if
     * every write completes inside it. */
    pr->remaining = 1;
    for (int i = 1; i < r->argc; i += 2)
        writeValueThenReply(r, pr, r->db, r->argv[i], r->argvlen[i], r->argv[i + 1],
                            r->argvlen[i + 1], 0, 0, NULL);
    coordResult ok = {1, NULL, NULL, 0};
    writeThenReply(r, &ok, pr);
}

/* MSETNX: read every key; if none exists, write them all. */
typedef struct msetnxState {
    pendingReply pr; /* first: freed as a pendingReply */
    int n, done, exists;
    record *recs;    /* each key's read record, values owned */
} msetnxState;

static void freeMsetnx(void *p) {
    msetnxState *m = p;
    for (int i = 0; i < m->n; i++) recordFree(&m->recs[i]);
    zfree(m->recs);
    bufFree(&m->pr.bulk);
    zfree(m);
}

static void msetnxOne(request *r, const coordResult *res, void *pd) {
    msetnxState *m = r->state;
    int i = (int)(intptr_t)pd;
    if (!res->ok) {
        if (!m->pr.err[0]) snprintf(m->pr.err, sizeof(m->pr.err), "%s", res->err);
    } else {
        if (liveVersion(res)) m->exists = 1;
        recordMerge(&m->recs[i], res->rec, 1);
    }
    if (++m->done < m->n) return;
    if (m->pr.err[0]) {
        addReplyError(r, m->pr.err);
        return;
    }
    if (m->exists) {
        addReplyInteger(r, 0);
        return;
    }
    m->pr.kind = PR_INT;
    m->pr.ll = 1;
    m->pr.remaining = 1;
    for (int k = 0; k < m->n; k++) {
        int ki = 1 + 2 * k;
        writeValueThenReply(r, &m->pr, r->db, r->argv[ki], r->argvlen[ki], r->argv[ki + 1],
                            r->argvlen[ki + 1], 0, 0, &m->recs[k]);
    }
    coordResult ok = {1, NULL, NULL, 0};
    writeThenReply(r, &ok, &m->pr);
}

void msetnxCommand(request *r) {
    if ((r->argc % 2) == 0) {
        addReplyErrorArity(r);
        return;
    }
    msetnxState *m = requestState(r, sizeof(*m));
    r->state_free = freeMsetnx;
    bufInit(&m->pr.bulk);
    m->n = (r->argc - 1) / 2;
    m->recs = zcalloc(sizeof(record) * (size_t)m->n);
    for (int i = 0; i < m->n; i++) recordInit(&m->recs[i]);
    for (int i = 0; i < m->n; i++)
        coordRead(r, r->db, r->argv[1 + 2 * i], r->argvlen[1 + 2 * i], msetnxOne,
                  (void *)(intptr_t)i);
}

/* --------------------------------------------------- read-modify-write */

static void rmwAfterRead(request *r, const coordResult *res, void *pd) {
    rmwFn *fn = (rmwFn *)pd;
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    const version *old = liveVersion(res);
    pendingReply *pr = pendingReplyNew(r, PR_INT);
    buf nv;
    bufInit(&nv);
    if (fn(r, old, &nv, pr)) {
        writeValueThenReply(r, pr, r->db, r->argv[1], r->argvlen[1], nv.ptr ? nv.ptr : "",
                            nv.len, 0, old ? old->expire : 0, res->rec);
    }
    bufFree(&nv);
}

void rmw(request *r, rmwFn *fn) {
    readTyped(r, rmwAfterRead, (void *)fn);
}

/* base + add bytes would be the new length; base >= 0. Compared without
 * adding, so SETRANGE at an offset near LLONG_MAX cannot overflow. */
static int checkStringLength(request *r, long long base, size_t add) {
    if (base > server.proto_max_bulk_len ||
        (unsigned long long)add > (unsigned long long)(server.proto_max_bulk_len - base)) {
        addReplyError(r, "string exceeds maximum allowed size (proto-max-bulk-len)");
        return C_ERR;
    }
    return C_OK;
}

static int appendFn(request *r, const version *old, buf *nv, pendingReply *pr) {
    size_t oldlen = old ? old->vlen : 0;
    if (checkStringLength(r, (long long)oldlen, r->argvlen[2]) != C_OK) return 0;
    if (old) bufAppend(nv, old->val, old->vlen);
    bufAppend(nv, r->argv[2], r->argvlen[2]);
    pr->ll = (long long)nv->len;
    return 1;
}

void appendCommand(request *r) { rmw(r, appendFn); }

static int setrangeFn(request *r, const version *old, buf *nv, pendingReply *pr) {
    long long offset;
    string2ll(r->argv[2], r->argvlen[2], &offset); /* checked before the read */
    size_t oldlen = old ? old->vlen : 0;
    if (r->argvlen[3] == 0) {
        /* nothing to write: reply the current length, create nothing */
        addReplyInteger(r, (long long)oldlen);
        return 0;
    }
    if (checkStringLength(r, offset, r->argvlen[3]) != C_OK) return 0;
    size_t newlen = (size_t)offset + r->argvlen[3];
    if (newlen < oldlen) newlen = oldlen;
    bufReserve(nv, newlen);
    memset(nv->ptr, 0, newlen);
    if (old) memcpy(nv->ptr, old->val, oldlen);
    memcpy(nv->ptr + offset, r->argv[3], r->argvlen[3]);
    nv->len = newlen;
    pr->ll = (long long)newlen;
    return 1;
}

void setrangeCommand(request *r) {
    long long offset;
    if (getLongLongFromArg(r, 2, &offset, NULL) != C_OK) return;
    if (offset < 0) {
        addReplyError(r, "offset is out of range");
        return;
    }
    /* an empty value writes nothing, so it has no size to exceed (Redis too) */
    if (r->argvlen[3] && checkStringLength(r, offset, r->argvlen[3]) != C_OK) return;
    rmw(r, setrangeFn);
}

/* INCR family: the increment is parsed before the read and kept in the
 * request state's ll through the pendingReply. */
static long long incrAmount(request *r) {
    long long by = 1;
    const char *n = r->cmd->name;
    if (!strcmp(n, "decr")) by = -1;
    else if (!strcmp(n, "incrby")) string2ll(r->argv[2], r->argvlen[2], &by);
    else if (!strcmp(n, "decrby")) {
        string2ll(r->argv[2], r->argvlen[2], &by);
        by = -by;
    }
    return by;
}

/* INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT: a counter contribution
 * (types/strctr.h), not a new version, so that increments made through
 * different coordinators during a failure add up instead of one replacing
 * the other (docs/types.md). The command checks the increment against what
 * the read level's replicas hold and replies what GET shows after it; the
 * write carries the amount, and the key's version coordinator adds it to
 * its own running total from its own copy, which always holds its earlier
 * contributions (db.c), so no total ever goes back. */
static const counter noCounter; /* a record without contributions reads through this */

static void incrAfterRead(request *r, const coordResult *res, void *pd) {
    int isfloat = pd != NULL;
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    const record *rec = res->rec;
    const counter *c = rec->ctr ? rec->ctr : &noCounter;
    long long now = serverNowMs();
    counter delta; /* what this read says the increment does: the reply */
    counterInit(&delta);
    pendingReply *pr = pendingReplyNew(r, isfloat ? PR_BULK : PR_INT);
    i128 di = 0;
    long double df = 0;
    int rc;
    if (isfloat) {
        long double by;
        string2ld(r->argv[2], r->argvlen[2], &by); /* checked before the read */
        rc = strctrDeltaIncrByFloat(&delta, rec, c, now, server.actor, clockNext(), by, &pr->bulk,
                                    &df);
    } else {
        long long by = incrAmount(r);
        rc = strctrDeltaIncrBy(&delta, rec, c, now, server.actor, clockNext(), by, &pr->ll);
        di = by;
    }
    switch (rc) {
    case NUMERR_OK: {
        /* the amount goes to the version coordinator, which adds it to its
         * own running total from its own copy (dbCoordinate) */
        buf enc;
        bufInit(&enc);
        tcPutSvarint128(&enc, di);
        if (df != 0 && isfinite(df)) tcPutLdouble(&enc, df);
        writeOp op = {enc.ptr, enc.len, 0, 0, NULL, 1};
        pr->remaining++;
        coordWrite(r, r->db, r->argv[1], r->argvlen[1], &op, writeThenReply, pr);
        bufFree(&enc);
        break;
    }
    case NUMERR_NOTINT: addReplyError(r, ERR_NOT_INT); break;
    case NUMERR_NOTFLOAT: addReplyError(r, ERR_NOT_FLOAT); break;
    case NUMERR_OVERFLOW: addReplyError(r, ERR_OVERFLOW); break;
    case NUMERR_NANINF: addReplyError(r, "increment would produce NaN or Infinity"); break;
    default: addReplyError(r, "ERR this node's clock is behind its own counter entry"); break;
    }
    counterFree(&delta);
}

void incrCommand(request *r) { readTyped(r, incrAfterRead, NULL); }
void decrCommand(request *r) { readTyped(r, incrAfterRead, NULL); }

void incrbyCommand(request *r) {
    long long by;
    if (getLongLongFromArg(r, 2, &by, NULL) != C_OK) return;
    readTyped(r, incrAfterRead, NULL);
}

void decrbyCommand(request *r) {
    long long by;
    if (getLongLongFromArg(r, 2, &by, NULL) != C_OK) return;
    if (by == LLONG_MIN) {
        addReplyError(r, "decrement would overflow");
        return;
    }
    readTyped(r, incrAfterRead, NULL);
}

void incrbyfloatCommand(request *r) {
    long double by;
    if (getLongDoubleFromArg(r, 2, &by, NULL) != C_OK) return;
    readTyped(r, incrAfterRead, (void *)1);
}

/* -------------------------------------------------- plain reads of a value */

static void readAfter(request *r, const coordResult *res, void *pd) {
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    ((readFn *)pd)(r, liveVersion(res));
}

void readValue(request *r, readFn *fn) {
    readTyped(r, readAfter, (void *)fn);
}

static void strlenFn(request *r, const version *v) { addReplyInteger(r, v ? (long long)v->vlen : 0); }
void strlenCommand(request *r) { readValue(r, strlenFn); }

static void getrangeFn(request *r, const version *v) {
    long long start, end;
    string2ll(r->argv[2], r->argvlen[2], &start);
    string2ll(r->argv[3], r->argvlen[3], &end);
    long long len = v ? (long long)v->vlen : 0;
    if (start < 0 && end < 0 && start > end) {
        addReplyBulk(r, "", 0);
        return;
    }
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= len) end = len - 1;
    if (start > end || len == 0) addReplyBulk(r, "", 0);
    else addReplyBulk(r, v->val + start, (size_t)(end - start + 1));
}

void getrangeCommand(request *r) {
    long long x;
    if (getLongLongFromArg(r, 2, &x, NULL) != C_OK || getLongLongFromArg(r, 3, &x, NULL) != C_OK)
        return;
    readValue(r, getrangeFn);
}

/* ------------------------------------------------------------------ LCS */

typedef struct lcsState {
    buf a, b;
    int done;
    char err[320];
} lcsState;

static void freeLcs(void *p) {
    lcsState *s = p;
    bufFree(&s->a);
    bufFree(&s->b);
    zfree(s);
}

static void lcsCompute(request *r, lcsState *s) {
    int getlen = 0, getidx = 0, withlen = 0;
    long long minlen = 0;
    for (int j = 3; j < r->argc; j++) {
        if (argIs(r, j, "idx")) getidx = 1;
        else if (argIs(r, j, "len")) getlen = 1;
        else if (argIs(r, j, "withmatchlen")) withlen = 1;
        else if (argIs(r, j, "minmatchlen") && j + 1 < r->argc) {
            if (getLongLongFromArg(r, ++j, &minlen, NULL) != C_OK) return;
            if (minlen < 0) minlen = 0;
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    if (getlen && getidx) {
        addReplyError(r, "If you want both the length and indexes, please just use IDX.");
        return;
    }
    size_t alen = s->a.len, blen = s->b.len;
    const char *a = s->a.ptr ? s->a.ptr : "", *b = s->b.ptr ? s->b.ptr : "";
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    if (cells * sizeof(uint32_t) > (unsigned long long)server.proto_max_bulk_len) {
        addReplyError(r, "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    uint32_t *t = zmalloc(cells * sizeof(uint32_t));
#define T(i, j) t[(size_t)(j) + (size_t)(i) * (blen + 1)]
    for (size_t i = 0; i <= alen; i++)
        for (size_t j = 0; j <= blen; j++) {
            if (!i || !j) T(i, j) = 0;
            else if (a[i - 1] == b[j - 1]) T(i, j) = T(i - 1, j - 1) + 1;
            else T(i, j) = T(i - 1, j) > T(i, j - 1) ? T(i - 1, j) : T(i, j - 1);
        }
    uint32_t total = T(alen, blen);
    if (getlen) {
        addReplyInteger(r, total);
        zfree(t);
        return;
    }
    /* Walk back from the end: the common string, and the matched ranges
     * from the last to the first, merged while contiguous in both. */
    char *str = zmalloc(total + 1);
    uint32_t k = total;
    typedef struct match {
        size_t as, ae, bs, be;
    } match;
    match *ms = NULL;
    size_t nms = 0, cap = 0;
    int open = 0;
    match cur = {0, 0, 0, 0};
    size_t i = alen, j = blen;
    while (i > 0 && j > 0) {
        int emit = 0;
        if (a[i - 1] == b[j - 1]) {
            str[--k] = a[i - 1];
            if (!open) {
                cur.as = cur.ae = i - 1;
                cur.bs = cur.be = j - 1;
                open = 1;
            } else if (cur.as == i && cur.bs == j) {
                cur.as--;
                cur.bs--;
            } else {
                emit = 1; /* not contiguous: cannot happen with the rule above */
            }
            if (cur.as == 0 || cur.bs == 0) emit = 1;
            i--;
            j--;
        } else {
            if (T(i - 1, j) > T(i, j - 1)) i--;
            else j--;
            if (open) emit = 1;
        }
        if (emit && open) {
            if ((long long)(cur.ae - cur.as + 1) >= minlen || minlen == 0) {
                if (nms == cap) {
                    cap = cap ? cap * 2 : 8;
                    ms = zrealloc(ms, sizeof(match) * cap);
                }
                ms[nms++] = cur;
            }
            open = 0;
        }
    }
#undef T
    if (getidx) {
        addReplyMapLen(r, 2);
        addReplyBulkCString(r, "matches");
        addReplyArrayLen(r, (long long)nms);
        for (size_t m = 0; m < nms; m++) {
            addReplyArrayLen(r, 2 + withlen);
            addReplyArrayLen(r, 2);
            addReplyInteger(r, (long long)ms[m].as);
            addReplyInteger(r, (long long)ms[m].ae);
            addReplyArrayLen(r, 2);
            addReplyInteger(r, (long long)ms[m].bs);
            addReplyInteger(r, (long long)ms[m].be);
            if (withlen) addReplyInteger(r, (long long)(ms[m].ae - ms[m].as + 1));
        }
        addReplyBulkCString(r, "len");
        addReplyInteger(r, total);
    } else {
        addReplyBulk(r, str, total);
    }
    zfree(ms);
    zfree(str);
    zfree(t);
}

static void lcsOne(request *r, const coordResult *res, void *pd) {
    lcsState *s = r->state;
    if (!res->ok) {
        if (!s->err[0]) snprintf(s->err, sizeof(s->err), "%s", res->err);
    } else {
        const version *v = liveVersion(res);
        if (v) bufAppend(pd ? &s->b : &s->a, v->val, v->vlen);
    }
    if (++s->done < 2) return;
    if (s->err[0]) addReplyError(r, s->err);
    else lcsCompute(r, s);
}

void lcsCommand(request *r) {
    lcsState *s = requestState(r, sizeof(*s));
    r->state_free = freeLcs;
    bufInit(&s->a);
    bufInit(&s->b);
    coordRead(r, r->db, r->argv[1], r->argvlen[1], lcsOne, NULL);
    coordRead(r, r->db, r->argv[2], r->argvlen[2], lcsOne, (void *)1);
}

/* ------------------------------------------------------------ VGET/VSET */

static void vgetDone(request *r, const coordResult *res, void *pd) {
    UNUSED(pd);
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    vclock ctx;
    vclockInit(&ctx);
    recordContext(res->rec, &ctx);
    buf enc;
    bufInit(&enc);
    if (ctx.n) contextEncode(&ctx, &enc);
    long long now = serverNowMs();
    int live = 0;
    for (int i = 0; i < res->rec->n; i++)
        if (versionLive(&res->rec->v[i], now)) live++;
    /* INCR's contributions show on the sibling GET shows (or alone, for a
     * key only INCR wrote). Only then: siblings of equal HLC are ordered by
     * actor there and by position here, so "the first" may be another
     * sibling, whose value must not be replaced (a VSET over this reply
     * would then supersede a value it never saw). */
    const version *view = res->rec->ctr ? stringView(res->rec) : NULL;
    const version *shown = res->rec->ctr ? recordVisible(res->rec, now) : NULL;
    /* [context, value...]: live siblings newest first; nil when none */
    addReplyArrayLen(r, 1 + (live ? live : 1));
    addReplyBulk(r, enc.ptr ? enc.ptr : "", enc.len);
    if (!live) {
        if (view) addReplyBulk(r, view->val, view->vlen);
        else addReplyNull(r);
    } else {
        int *order = zmalloc(sizeof(int) * (size_t)res->rec->n);
        int n = 0;
        for (int i = 0; i < res->rec->n; i++)
            if (versionLive(&res->rec->v[i], now)) order[n++] = i;
        for (int x = 1; x < n; x++) /* insertion sort by HLC, newest first */
            for (int y = x; y > 0 && res->rec->v[order[y]].counter > res->rec->v[order[y - 1]].counter; y--) {
                int t = order[y];
                order[y] = order[y - 1];
                order[y - 1] = t;
            }
        for (int i = 0; i < n; i++) {
            const version *v = &res->rec->v[order[i]];
            if (view && v == shown && view != v) v = view;
            addReplyBulk(r, v->val, v->vlen);
        }
        zfree(order);
    }
    bufFree(&enc);
    vclockFree(&ctx);
}

void vgetCommand(request *r) { coordRead(r, r->db, r->argv[1], r->argvlen[1], vgetDone, NULL); }

void vsetCommand(request *r) {
    vclock ctx;
    vclockInit(&ctx);
    if (r->argvlen[2] && contextDecode(&ctx, r->argv[2], r->argvlen[2]) != C_OK) {
        vclockFree(&ctx);
        addReplyError(r, "invalid causal context (pass the first element of VGET's reply, or \"\")");
        return;
    }
    pendingReply *pr = pendingReplyNew(r, PR_OK);
    pr->remaining = 1;
    writeOp op = {r->argv[3], r->argvlen[3], 0, 0, &ctx, 0};
    coordWrite(r, r->db, r->argv[1], r->argvlen[1], &op, writeThenReply, pr);
    vclockFree(&ctx);
}
