/* t_keyspace.c -- key and keyspace commands: DEL, EXISTS, the EXPIRE and
 * TTL families, TYPE, RENAME, COPY, KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB,
 * FLUSHALL, SELECT.
 *
 * Deleting writes a tombstone version with the context that was read, so a
 * delete supersedes exactly what it saw. Changing an expiry writes a new
 * version with the same value and the new absolute expiry. Multi-key
 * commands (DEL k1 k2, RENAME, COPY) act key by key: there is no isolation
 * across keys (README says so).
 *
 * KEYS/SCAN/DBSIZE/FLUSH* act on this node's keyspace; the cluster issue
 * widens them to the whole cluster. */
#include "t_keyspace.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "clock.h"
#include "clusterops.h"
#include "coll.h"
#include "commands.h"
#include "t_string.h"

/* ------------------------------------------------------ multi-key reads */

/* Reads argv[first..] (every step-th) and calls fn with all records. */
typedef struct multiRead {
    pendingReply pr;   /* first: freed as a pendingReply by freeMultiRead */
    int n, done;       /* keys; reads answered (two per key: record, collection) */
    record *recs;      /* owned copies, values owned */
    int *type;         /* per key: KT_* it reads as (coll.h's type rule), -1 absent */
    keymeta *meta;     /* per key: a collection's merged metadata */
    long long now;     /* when the collection reads were merged */
    void (*fn)(request *r, struct multiRead *m);
    long long aux;     /* command specific */
} multiRead;

static void freeMultiRead(void *p) {
    multiRead *m = p;
    for (int i = 0; i < m->n; i++) {
        recordFree(&m->recs[i]);
        keymetaFree(&m->meta[i]);
    }
    zfree(m->recs);
    zfree(m->type);
    zfree(m->meta);
    bufFree(&m->pr.bulk);
    zfree(m);
}

static void multiReadDone(request *r, multiRead *m);

static void multiReadOne(request *r, const coordResult *res, void *pd) {
    multiRead *m = r->state;
    int i = (int)(intptr_t)pd;
    if (!res->ok) {
        if (!m->pr.err[0]) snprintf(m->pr.err, sizeof(m->pr.err), "%s", res->err);
    } else {
        recordMerge(&m->recs[i], res->rec, 1);
    }
    multiReadDone(r, m);
}

/* Called by coll.c with key i's collection view. */
static void multiCollOne(request *r, const collView *v, const char *err, void *pd) {
    multiRead *m = r->state;
    int i = (int)(intptr_t)pd;
    if (!v) {
        if (!m->pr.err[0]) snprintf(m->pr.err, sizeof(m->pr.err), "%s", err);
    } else {
        m->type[i] = collTypeOf(v);
        keymetaCopy(&m->meta[i], &v->meta);
        m->now = v->now_ms;
    }
    multiReadDone(r, m);
}

static void multiReadDone(request *r, multiRead *m) {
    if (++m->done < 2 * m->n) return;
    if (m->pr.err[0]) {
        addReplyError(r, m->pr.err);
        return;
    }
    m->fn(r, m);
}

static multiRead *multiReadNew(request *r, int n, void (*fn)(request *, multiRead *),
                               long long aux) {
    multiRead *m = requestState(r, sizeof(*m));
    r->state_free = freeMultiRead;
    bufInit(&m->pr.bulk);
    m->n = n;
    m->fn = fn;
    m->aux = aux;
    m->recs = zcalloc(sizeof(record) * (size_t)n);
    m->type = zmalloc(sizeof(int) * (size_t)n);
    m->meta = zmalloc(sizeof(keymeta) * (size_t)n);
    for (int i = 0; i < n; i++) {
        recordInit(&m->recs[i]);
        keymetaInit(&m->meta[i]);
        m->type[i] = -1;
    }
    return m;
}

/* Reads the keys argv[keyidx[i]] (in db dbs[i], or r->db if dbs is NULL);
 * m->fn runs once every read has answered. */
static void multiReadStart(request *r, multiRead *m, const int *keyidx, const int *dbs) {
    for (int i = 0; i < m->n; i++) {
        int db = dbs ? dbs[i] : r->db;
        coordRead(r, db, r->argv[keyidx[i]], r->argvlen[keyidx[i]], multiReadOne,
                  (void *)(intptr_t)i);
        collRead(r, db, r->argv[keyidx[i]], r->argvlen[keyidx[i]], COLL_READ_NAMED, NULL, NULL, 0,
                 multiCollOne, (void *)(intptr_t)i);
    }
}

static void readKeys(request *r, const int *keyidx, const int *dbs, int n,
                     void (*fn)(request *, multiRead *), long long aux) {
    multiReadStart(r, multiReadNew(r, n, fn, aux), keyidx, dbs);
}

static void readArgsFrom(request *r, int first, void (*fn)(request *, multiRead *)) {
    int n = r->argc - first;
    int *idx = zmalloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++) idx[i] = first + i;
    readKeys(r, idx, NULL, n, fn, 0);
    zfree(idx);
}

/* What a read of the string shows (counter contributions included). */
static const version *visible(const record *rec) { return stringView(rec); }

/* What key i reads as: KT_* (a string also when only the record read saw
 * it, e.g. from a hint), or -1. */
static int keyType(const multiRead *m, int i) {
    if (m->type[i] >= 0) return m->type[i];
    return visible(&m->recs[i]) ? KT_STRING : -1;
}

/* Key i is a collection: its string record, if any, is hidden. */
static int isColl(const multiRead *m, int i) { return keyType(m, i) > KT_STRING; }

/* Adds a write of key i's collection metadata (a DEL, an expiry) to the
 * pending reply. */
static void collMetaWrite(request *r, multiRead *m, int db, int i, int argi, const keymeta *d) {
    collBatch b;
    collBatchInit(&b);
    collBatchMeta(&b, d);
    m->pr.remaining++;
    collWrite(r, db, r->argv[argi], r->argvlen[argi], &b, writeThenReply, &m->pr);
    collBatchFree(&b);
}

/* DEL of everything key i held (its collection, and a hidden string). */
static void delKey(request *r, multiRead *m, int i, int argi) {
    if (visible(&m->recs[i]))
        writeValueThenReply(r, &m->pr, r->db, r->argv[argi], r->argvlen[argi], NULL, 0, 1, 0,
                            &m->recs[i]);
    if (m->meta[i].clock.n) {
        keymeta d;
        keymetaInit(&d);
        keymetaDeltaDel(&d, &m->meta[i], m->now, server.actor, clockNext());
        collMetaWrite(r, m, r->db, i, argi, &d);
        keymetaFree(&d);
    }
}

/* ------------------------------------------------------ DEL / EXISTS */

static void delAfterRead(request *r, multiRead *m) {
    m->pr.kind = PR_INT;
    m->pr.ll = 0;
    m->pr.remaining = 1;
    for (int i = 0; i < m->n; i++) {
        if (keyType(m, i) < 0) continue;
        /* a key named twice is deleted (and counted) once */
        int dup = 0;
        for (int j = 0; j < i; j++)
            if (r->argvlen[1 + j] == r->argvlen[1 + i] &&
                !memcmp(r->argv[1 + j], r->argv[1 + i], r->argvlen[1 + i]))
                dup = 1;
        if (dup) continue;
        m->pr.ll++;
        delKey(r, m, i, 1 + i);
    }
    coordResult ok = {1, NULL, NULL, 0};
    writeThenReply(r, &ok, &m->pr);
}

void delCommand(request *r) { readArgsFrom(r, 1, delAfterRead); }

static void existsAfterRead(request *r, multiRead *m) {
    long long n = 0;
    for (int i = 0; i < m->n; i++)
        if (keyType(m, i) >= 0) n++;
    addReplyInteger(r, n);
}

void existsCommand(request *r) { readArgsFrom(r, 1, existsAfterRead); }
void touchCommand(request *r) { readArgsFrom(r, 1, existsAfterRead); }

/* ------------------------------------------------------------- EXPIRE */

#define EXP_NX 1
#define EXP_XX 2
#define EXP_GT 4
#define EXP_LT 8

static void expireAfterRead(request *r, multiRead *m) {
    const version *v = isColl(m, 0) ? NULL : visible(&m->recs[0]);
    long long when = m->aux;
    int flags = (int)m->pr.ll;
    if (!v && !isColl(m, 0)) {
        addReplyInteger(r, 0);
        return;
    }
    long long cur = -1;
    if (v && v->expire) cur = v->expire;
    if (!v) {
        long long ttl = keymetaTTL(&m->meta[0], m->now);
        if (ttl >= 0) cur = m->now + ttl;
    }
    if (((flags & EXP_NX) && cur != -1) || ((flags & EXP_XX) && cur == -1) ||
        ((flags & EXP_GT) && (cur == -1 || when <= cur)) ||
        ((flags & EXP_LT) && cur != -1 && when >= cur)) {
        addReplyInteger(r, 0);
        return;
    }
    m->pr.kind = PR_INT;
    m->pr.ll = 1;
    if (!v) { /* a collection: its expiry register, or a DEL when already past */
        keymeta d;
        keymetaInit(&d);
        if (when <= serverNowMs())
            keymetaDeltaDel(&d, &m->meta[0], m->now, server.actor, clockNext());
        else
            keymetaDeltaExpire(&d, &m->meta[0], m->now, server.actor, clockNext(), when);
        collMetaWrite(r, m, r->db, 0, 1, &d); /* the reply goes when it is written */
        keymetaFree(&d);
        return;
    }
    if (when <= serverNowMs()) /* already in the past: the key is deleted */
        writeValueThenReply(r, &m->pr, r->db, r->argv[1], r->argvlen[1], NULL, 0, 1, 0,
                            &m->recs[0]);
    else
        writeValueThenReply(r, &m->pr, r->db, r->argv[1], r->argvlen[1], v->val, v->vlen, 0, when,
                            &m->recs[0]);
}

static void expireGeneric(request *r, int relative, int unit_ms) {
    int flags = 0;
    for (int j = 3; j < r->argc; j++) {
        if (argIs(r, j, "nx")) flags |= EXP_NX;
        else if (argIs(r, j, "xx")) flags |= EXP_XX;
        else if (argIs(r, j, "gt")) flags |= EXP_GT;
        else if (argIs(r, j, "lt")) flags |= EXP_LT;
        else {
            addReplyErrorFormat(r, "Unsupported option %s", r->argv[j]);
            return;
        }
    }
    if ((flags & EXP_NX) && (flags & (EXP_XX | EXP_GT | EXP_LT))) {
        addReplyError(r, "NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if ((flags & EXP_GT) && (flags & EXP_LT)) {
        addReplyError(r, "GT and LT options at the same time are not compatible");
        return;
    }
    long long when;
    if (getLongLongFromArg(r, 2, &when, NULL) != C_OK) return;
    if (!unit_ms) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) goto bad;
        when *= 1000;
    }
    long long base = relative ? serverNowMs() : 0;
    if (when > LLONG_MAX - base) goto bad;
    when += base;
    int idx = 1;
    multiRead *m = multiReadNew(r, 1, expireAfterRead, when);
    m->pr.ll = flags; /* read back in expireAfterRead */
    multiReadStart(r, m, &idx, NULL);
    return;
bad:
    addReplyErrorFormat(r, "invalid expire time in '%s' command", r->cmd->name);
}

void expireCommand(request *r) { expireGeneric(r, 1, 0); }
void pexpireCommand(request *r) { expireGeneric(r, 1, 1); }
void expireatCommand(request *r) { expireGeneric(r, 0, 0); }
void pexpireatCommand(request *r) { expireGeneric(r, 0, 1); }

static void persistAfterRead(request *r, multiRead *m) {
    if (isColl(m, 0)) {
        if (keymetaTTL(&m->meta[0], m->now) < 0) {
            addReplyInteger(r, 0);
            return;
        }
        m->pr.kind = PR_INT;
        m->pr.ll = 1;
        keymeta d;
        keymetaInit(&d);
        keymetaDeltaExpire(&d, &m->meta[0], m->now, server.actor, clockNext(), 0);
        collMetaWrite(r, m, r->db, 0, 1, &d); /* the reply goes when it is written */
        keymetaFree(&d);
        return;
    }
    const version *v = visible(&m->recs[0]);
    if (!v || !v->expire) {
        addReplyInteger(r, 0);
        return;
    }
    m->pr.kind = PR_INT;
    m->pr.ll = 1;
    writeValueThenReply(r, &m->pr, r->db, r->argv[1], r->argvlen[1], v->val, v->vlen, 0, 0,
                        &m->recs[0]);
}

void persistCommand(request *r) { readArgsFrom(r, 1, persistAfterRead); }

/* aux: bit 0 = milliseconds, bit 1 = absolute */
static void ttlAfterRead(request *r, multiRead *m) {
    const version *v = isColl(m, 0) ? NULL : visible(&m->recs[0]);
    int ms = m->aux & 1, absolute = (m->aux & 2) != 0;
    if (isColl(m, 0)) {
        long long left = keymetaTTL(&m->meta[0], m->now);
        if (left < 0) {
            addReplyInteger(r, -1);
            return;
        }
        long long ttl = absolute ? m->now + left : left;
        addReplyInteger(r, ms ? ttl : (absolute ? ttl / 1000 : (ttl + 500) / 1000));
        return;
    }
    if (!v) {
        addReplyInteger(r, -2);
        return;
    }
    if (!v->expire) {
        addReplyInteger(r, -1);
        return;
    }
    long long ttl = absolute ? v->expire : v->expire - serverNowMs();
    if (ttl < 0) ttl = 0;
    addReplyInteger(r, ms ? ttl : (absolute ? ttl / 1000 : (ttl + 500) / 1000));
}

static void ttlGeneric(request *r, int ms, int absolute) {
    int idx = 1;
    readKeys(r, &idx, NULL, 1, ttlAfterRead, ms | (absolute << 1));
}

void ttlCommand(request *r) { ttlGeneric(r, 0, 0); }
void pttlCommand(request *r) { ttlGeneric(r, 1, 0); }
void expiretimeCommand(request *r) { ttlGeneric(r, 0, 1); }
void pexpiretimeCommand(request *r) { ttlGeneric(r, 1, 1); }

static void typeAfterRead(request *r, multiRead *m) {
    /* HyperLogLog is a string in Redis: TYPE says so here too */
    static const char *names[] = {"string", "set", "hash", "zset", "string", "list"};
    int t = keyType(m, 0);
    addReplyStatus(r, t < 0 ? "none" : names[t]);
}

void typeCommand(request *r) { readArgsFrom(r, 1, typeAfterRead); }

/* ------------------------------------------------------- RENAME / COPY */

static int sameArg(request *r, int a, int b) {
    return r->argvlen[a] == r->argvlen[b] && !memcmp(r->argv[a], r->argv[b], r->argvlen[a]);
}

/* aux: 1 = NX */
static void renameAfterRead(request *r, multiRead *m) {
    int nx = (int)m->aux;
    const version *src = visible(&m->recs[0]);
    if (!src) {
        addReplyError(r, ERR_NOKEY);
        return;
    }
    if (sameArg(r, 1, 2)) {
        if (nx) addReplyInteger(r, 0);
        else addReplyOK(r);
        return;
    }
    if (nx && visible(&m->recs[1])) {
        addReplyInteger(r, 0);
        return;
    }
    m->pr.kind = nx ? PR_INT : PR_OK;
    m->pr.ll = 1;
    m->pr.remaining = 1;
    writeValueThenReply(r, &m->pr, r->db, r->argv[2], r->argvlen[2], src->val, src->vlen, 0,
                        src->expire, &m->recs[1]);
    writeValueThenReply(r, &m->pr, r->db, r->argv[1], r->argvlen[1], NULL, 0, 1, 0, &m->recs[0]);
    coordResult ok = {1, NULL, NULL, 0};
    writeThenReply(r, &ok, &m->pr);
}

static void renameGeneric(request *r, int nx) {
    int idx[2] = {1, 2};
    readKeys(r, idx, NULL, 2, renameAfterRead, nx);
}

void renameCommand(request *r) { renameGeneric(r, 0); }
void renamenxCommand(request *r) { renameGeneric(r, 1); }

/* aux: destination db | replace << 16 */
static void copyAfterRead(request *r, multiRead *m) {
    int dstdb = (int)(m->aux & 0xffff), replace = (int)(m->aux >> 16);
    const version *src = visible(&m->recs[0]);
    if (!src || (!replace && visible(&m->recs[1]))) {
        addReplyInteger(r, 0);
        return;
    }
    m->pr.kind = PR_INT;
    m->pr.ll = 1;
    writeValueThenReply(r, &m->pr, dstdb, r->argv[2], r->argvlen[2], src->val, src->vlen, 0,
                        src->expire, &m->recs[1]);
}

void copyCommand(request *r) {
    int dstdb = r->db, replace = 0;
    for (int j = 3; j < r->argc; j++) {
        if (argIs(r, j, "replace")) {
            replace = 1;
        } else if (argIs(r, j, "db") && j + 1 < r->argc) {
            long long d;
            if (getLongLongFromArg(r, ++j, &d, NULL) != C_OK) return;
            if (d < 0 || d >= server.databases) {
                addReplyError(r, ERR_DB_INDEX);
                return;
            }
            dstdb = (int)d;
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    if (dstdb == r->db && sameArg(r, 1, 2)) {
        addReplyError(r, "source and destination objects are the same");
        return;
    }
    int idx[2] = {1, 2}, dbs[2] = {r->db, dstdb};
    readKeys(r, idx, dbs, 2, copyAfterRead, dstdb | ((long long)replace << 16));
}

/* ----------------------------------------------------- KEYS / SCAN / ... */

/* KEYS, SCAN, RANDOMKEY, DBSIZE and FLUSH* go through clusterops.c's
 * whole-cluster operations. */

static void replyKeys(request *r, const clusteropsKeys *k) {
    addReplyArrayLen(r, k->n);
    size_t off = 0;
    for (long i = 0; i < k->n; i++) {
        addReplyBulk(r, k->bytes.ptr + off, k->lens[i]);
        off += k->lens[i];
    }
}

static void keysDone(request *r, const clusteropsScanResult *res, void *pd) {
    UNUSED(pd);
    if (!res->ok) addReplyError(r, res->err);
    else replyKeys(r, res->keys);
}

void keysCommand(request *r) {
    clusteropsScan(r, r->db, 0, LONG_MAX, r->argv[1], r->argvlen[1], keysDone, NULL);
}

/* pd: 1 if TYPE asked for something other than string */
static void scanDone(request *r, const clusteropsScanResult *res, void *pd) {
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    char cb[32];
    snprintf(cb, sizeof(cb), "%llu", res->next);
    addReplyArrayLen(r, 2);
    addReplyBulkCString(r, cb);
    if (pd) addReplyArrayLen(r, 0); /* only strings exist */
    else replyKeys(r, res->keys);
}

void scanCommand(request *r) {
    unsigned long long cursor;
    if (!string2ull(r->argv[1], r->argvlen[1], &cursor)) {
        addReplyError(r, "invalid cursor");
        return;
    }
    long long count = 10;
    const char *pat = NULL;
    size_t patlen = 0;
    int typeok = 1;
    for (int j = 2; j < r->argc; j++) {
        int more = j + 1 < r->argc;
        if (argIs(r, j, "count") && more) {
            if (getLongLongFromArg(r, ++j, &count, NULL) != C_OK) return;
            if (count < 1) {
                addReplyError(r, ERR_SYNTAX);
                return;
            }
        } else if (argIs(r, j, "match") && more) {
            pat = r->argv[++j];
            patlen = r->argvlen[j];
        } else if (argIs(r, j, "type") && more) {
            typeok = !strcasecmp(r->argv[++j], "string");
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    clusteropsScan(r, r->db, cursor, (long)count, pat, patlen, scanDone, typeok ? NULL : (void *)1);
}

/* RANDOMKEY: the first key from a random cursor on, wrapping once. */
static void randomkeyDone(request *r, const clusteropsScanResult *res, void *pd) {
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    if (res->keys->n > 0) {
        addReplyBulk(r, res->keys->bytes.ptr, res->keys->lens[0]);
    } else if (pd) {
        clusteropsScan(r, r->db, 0, 1, NULL, 0, randomkeyDone, NULL); /* wrap */
    } else {
        addReplyNull(r);
    }
}

void randomkeyCommand(request *r) {
    unsigned long long nslots = (unsigned long long)server.ring_partitions * 256;
    unsigned char rnd[8];
    getRandomBytes(rnd, sizeof(rnd));
    unsigned long long start = 0;
    for (int i = 0; i < 8; i++) start = (start << 8) | rnd[i];
    start %= nslots;
    clusteropsScan(r, r->db, start, 1, NULL, 0, randomkeyDone, start ? (void *)1 : NULL);
}

static void dbsizeDone(request *r, int ok, const char *err, long long n, void *pd) {
    UNUSED(pd);
    if (!ok) addReplyError(r, err);
    else addReplyInteger(r, n);
}

void dbsizeCommand(request *r) { clusteropsCount(r, r->db, dbsizeDone, NULL); }

static int flushArgs(request *r) {
    if (r->argc == 1) return C_OK;
    if (r->argc == 2 && (argIs(r, 1, "sync") || argIs(r, 1, "async"))) return C_OK;
    addReplyError(r, ERR_SYNTAX);
    return C_ERR;
}

static void flushDone(request *r, int ok, const char *err, long long n, void *pd) {
    UNUSED(n);
    UNUSED(pd);
    if (!ok) addReplyError(r, err);
    else addReplyOK(r);
}

void flushdbCommand(request *r) {
    if (flushArgs(r) != C_OK) return;
    clusteropsFlush(r, r->db, flushDone, NULL);
}

void flushallCommand(request *r) {
    if (flushArgs(r) != C_OK) return;
    clusteropsFlush(r, -1, flushDone, NULL);
}

void selectCommand(request *r) {
    long long id;
    if (getLongLongFromArg(r, 1, &id, NULL) != C_OK) return;
    if (id < 0 || id >= server.databases) {
        addReplyError(r, ERR_DB_INDEX);
        return;
    }
    if (r->c) r->c->db = (int)id;
    addReplyOK(r);
}
