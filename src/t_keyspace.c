/* t_keyspace.c -- key and keyspace commands: DEL, EXISTS, the EXPIRE and
 * TTL families, TYPE, RENAME, COPY, MOVE, DUMP, RESTORE, KEYS, SCAN,
 * RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, SELECT; each acts on string keys and
 * on collection keys (sets, hashes, sorted sets, HyperLogLog: coll.h).
 *
 * Deleting a string writes a tombstone version with the context that was
 * read, so a delete supersedes exactly what it saw; deleting a collection
 * writes a DEL into its metadata (keymeta.h), O(1) whatever its size.
 * Changing an expiry writes a new version with the same value and the new
 * absolute expiry, or the collection's expiry register. Multi-key commands
 * (DEL k1 k2, RENAME, COPY) act key by key: there is no isolation across
 * keys (README says so). RENAME, COPY, MOVE and RESTORE write the
 * destination as a fresh key from an image of the value (dump.h): see
 * their section.
 *
 * KEYS/SCAN/RANDOMKEY/DBSIZE/FLUSH* span the cluster (clusterops.c). */
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
#include "dump.h"
#include "t_server.h"
#include "t_string.h"
#include "types/hash.h"
#include "types/zset.h"

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
    /* what to do with key 0's image (withImage) once it is read */
    void (*imagefn)(request *r, struct multiRead *m, const dumpImage *img, long long expire);
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

/* DEL of everything key i (argv[argi], in db) held: its collection, and a
 * string, hidden or not. */
static void delKeyIn(request *r, multiRead *m, int db, int i, int argi) {
    if (visible(&m->recs[i]))
        writeValueThenReply(r, &m->pr, db, r->argv[argi], r->argvlen[argi], NULL, 0, 1, 0,
                            &m->recs[i]);
    if (m->meta[i].clock.n) {
        keymeta d;
        keymetaInit(&d);
        keymetaDeltaDel(&d, &m->meta[i], m->now, server.actor, clockNext());
        collMetaWrite(r, m, db, i, argi, &d);
        keymetaFree(&d);
    }
}

static void delKey(request *r, multiRead *m, int i, int argi) { delKeyIn(r, m, r->db, i, argi); }

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

/* TYPE's answer for KT_*: HyperLogLog is a string in Redis, here too. */
static const char *typeNames[] = {"string", "set", "hash", "zset", "string", "list"};

static void typeAfterRead(request *r, multiRead *m) {
    int t = keyType(m, 0);
    addReplyStatus(r, t < 0 ? "none" : typeNames[t]);
}

void typeCommand(request *r) { readArgsFrom(r, 1, typeAfterRead); }

/* ---------------------------------------------- RENAME / COPY / MOVE / DUMP */

/* A key's value moves as an image (dump.h): what a user reads from it,
 * without its dots. RENAME, RENAMENX, COPY, MOVE and RESTORE write the image
 * to the destination as a fresh key: a DEL of everything the destination
 * held (the string it shows, a tombstone; its collection, a metadata DEL of
 * what was read), then one add per element carrying the element's current
 * value (an HSET of a field's value, a ZADD of a member's score, an SADD,
 * a PFADD's registers), in one batch with the creation of the key, so the
 * destination never shows a mix. The source, for RENAME and MOVE, is then
 * deleted as DEL deletes it. The expiry goes along as Redis takes it: RENAME
 * and MOVE keep it, COPY copies it, RESTORE takes its TTL argument.
 *
 * Reading a collection's image takes a second read (COLL_READ_ALL, or
 * COLL_READ_HLL for a sketch): the first (multiRead) tells the type. If the
 * key changed type in between, the read is made again with the right mode
 * (a few times at most: then the command fails, as a read at quorum would).
 *
 * TODO: the destination's batch holds every element, so a collection of
 * millions of elements is one write of that size (in memory here, one bus
 * message per replica). Writing it in chunks needs the destination hidden
 * until the last one lands (a creation stamp the chunks carry, made live by
 * the last), which coll.h has no way to say yet. */

#define XF_NX 1        /* only when the destination does not exist */
#define XF_DELSRC 2    /* the source goes (RENAME, MOVE) */
#define XF_REPLYINT 4  /* reply 1/0 (RENAMENX, COPY, MOVE), not +OK */
#define XF_NOKEYERR 8  /* a missing source is "ERR no such key" (RENAME*) */
/* aux: flags | destination db << 8 | the destination's argv index << 16 */
#define XF_AUX(flags, db, argi) ((long long)(flags) | ((long long)(db) << 8) | ((long long)(argi) << 16))
#define XF_FLAGS(m) ((int)((m)->aux & 0xff))
#define XF_DB(m) ((int)(((m)->aux >> 8) & 0xff))
#define XF_ARG(m) ((int)(((m)->aux >> 16) & 0xff))

#define IMAGE_READ_TRIES 3

/* Some collection type may live in m (hidden data of another type included). */
static int metaMayLive(const keymeta *m, long long now) {
    for (int t = KT_SET; t <= KT_MAX; t++)
        if (keymetaTypeMayLive(m, t, now)) return 1;
    return 0;
}

/* Writes img to key i of m (argv[argi], in db) as a fresh key expiring at
 * expire (unix ms, 0 = none); each write counts on m->pr. An image whose
 * expiry has passed only deletes what the key held (RESTORE's rule). */
static void writeImage(request *r, multiRead *m, int db, int i, int argi, const dumpImage *img,
                       long long expire) {
    const char *key = r->argv[argi];
    size_t klen = r->argvlen[argi];
    const keymeta *dm = &m->meta[i];
    if (expire && expire <= serverNowMs()) {
        delKeyIn(r, m, db, i, argi);
        return;
    }
    if (img->type == KT_STRING) {
        size_t vl = 0;
        const char *val = img->n ? dumpItemValue(img, 0, &vl) : "";
        writeValueThenReply(r, &m->pr, db, key, klen, val, vl, 0, expire, &m->recs[i]);
        if (metaMayLive(dm, m->now)) { /* the collection it replaces goes */
            keymeta d;
            keymetaInit(&d);
            keymetaDeltaDel(&d, dm, m->now, server.actor, clockNext());
            collMetaWrite(r, m, db, i, argi, &d);
            keymetaFree(&d);
        }
        return;
    }
    if (visible(&m->recs[i])) /* the string it replaces goes */
        writeValueThenReply(r, &m->pr, db, key, klen, NULL, 0, 1, 0, &m->recs[i]);
    uint64_t seq = collDot();
    keymeta d;
    keymetaInit(&d);
    keymetaDeltaCreate(&d, dm, m->now, img->type, server.actor, seq);
    if (expire) {
        keymeta e; /* a later stamp than the creation's reset of the register */
        keymetaInit(&e);
        keymetaDeltaExpire(&e, dm, m->now, server.actor, collDot(), expire);
        keymetaMerge(&d, &e);
        keymetaFree(&e);
    }
    collBatch b;
    collBatchInit(&b);
    collBatchMeta(&b, &d);
    keymetaFree(&d);
    /* the destination's old elements are removed by the creation's DEL
     * (their dots are below what it read), so each delta observes nothing */
    field f, none;
    fieldInit(&f);
    fieldInit(&none);
    for (int k = 0; k < img->n && img->type != KT_HLL; k++) {
        size_t nl, vl;
        const char *name = dumpItemName(img, k, &nl), *val = dumpItemValue(img, k, &vl);
        if (img->type == KT_SET) fieldDeltaAdd(&f, server.actor, seq);
        else if (img->type == KT_HASH) hashDeltaSet(&f, &none, server.actor, seq, val, vl);
        else zsetDeltaAdd(&f, &none, server.actor, seq, img->items[k].score);
        collBatchField(&b, name, nl, &f);
    }
    fieldFree(&f);
    fieldFree(&none);
    if (img->type == KT_HLL) {
        hll h, empty; /* a new chain of this node's, above any it had there */
        hllInit(&h);
        hllInit(&empty);
        if (hllDeltaRaise(&h, &empty, NULL, server.actor, seq, img->regs) != C_ERR && h.n)
            collBatchHll(&b, &h);
        hllFree(&h);
        hllFree(&empty);
    }
    m->pr.remaining++;
    collWrite(r, db, key, klen, &b, writeThenReply, &m->pr);
    collBatchFree(&b);
}

/* The image of a collection view of type t. */
static void imageFromView(dumpImage *img, const collView *v, int t) {
    dumpImageInit(img, t);
    if (t == KT_HLL) {
        hllView(&v->sketch, &v->kr, img->regs);
        return;
    }
    buf val;
    bufInit(&val);
    for (int k = 0; k < v->nel; k++) {
        const collElem *e = &v->el[k];
        if (!collElemLive(v, e)) continue;
        if (t == KT_SET) {
            dumpImageAdd(img, e->name, e->len, NULL, 0, 0);
        } else if (t == KT_HASH) {
            if (hashFieldRead(&e->f, &v->kr, &val) != NUM_ABSENT)
                dumpImageAdd(img, e->name, e->len, val.ptr, val.len, 0);
        } else {
            double score;
            if (zsetScore(&e->f, &v->kr, &score)) dumpImageAdd(img, e->name, e->len, NULL, 0, score);
        }
    }
    bufFree(&val);
}

static void imageFromString(dumpImage *img, const version *v) {
    dumpImageInit(img, KT_STRING);
    dumpImageAdd(img, NULL, 0, v->val, v->vlen, 0);
}

/* What to do with key 0's image: img NULL when the key does not exist. */
typedef void imageFn(request *r, multiRead *m, const dumpImage *img, long long expire);

static void imageCollRead(request *r, const collView *v, const char *err, void *pd);

static void imageRead(request *r, multiRead *m, int type, int tries) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], type == KT_HLL ? COLL_READ_HLL : COLL_READ_ALL,
             NULL, NULL, 0, imageCollRead, (void *)(intptr_t)(type | (tries << 8)));
}

/* Called by coll.c with key 0's collection, read whole. pd: the type it
 * was read as | tries << 8. */
static void imageCollRead(request *r, const collView *v, const char *err, void *pd) {
    multiRead *m = r->state;
    int asked = (int)((intptr_t)pd & 0xff), tries = (int)((intptr_t)pd >> 8);
    imageFn *fn = m->imagefn;
    if (!v) {
        addReplyError(r, err);
        return;
    }
    /* what the image was read through is what the source's DEL removes */
    keymetaCopy(&m->meta[0], &v->meta);
    recordMerge(&m->recs[0], &v->str, 1);
    m->now = v->now_ms;
    int t = collTypeOf(v);
    if (t < 0) {
        fn(r, m, NULL, 0);
        return;
    }
    if (t == KT_STRING) { /* it became a string since the first read */
        const version *sv = stringView(&v->str);
        if (!sv) {
            fn(r, m, NULL, 0);
            return;
        }
        dumpImage img;
        imageFromString(&img, sv);
        fn(r, m, &img, sv->expire);
        dumpImageFree(&img);
        return;
    }
    if ((t == KT_HLL) != (asked == KT_HLL)) { /* it changed type since the first read */
        if (tries + 1 >= IMAGE_READ_TRIES) {
            addReplyError(r, "-TRYAGAIN the key changed type while it was read");
            return;
        }
        imageRead(r, m, t, tries + 1);
        return;
    }
    dumpImage img;
    imageFromView(&img, v, t);
    long long ttl = keymetaTTL(&v->meta, v->now_ms);
    fn(r, m, &img, ttl >= 0 ? v->meta.expat : 0);
    dumpImageFree(&img);
}

/* Calls fn with key 0's image, from the records read for a string, after a
 * whole read for a collection. */
static void withImage(request *r, multiRead *m, imageFn *fn) {
    int t = keyType(m, 0);
    m->imagefn = fn;
    if (t < 0) {
        fn(r, m, NULL, 0);
    } else if (t == KT_STRING) {
        const version *sv = visible(&m->recs[0]);
        if (!sv) { /* the collection read saw a string the record read did not */
            imageRead(r, m, KT_SET, 0);
            return;
        }
        dumpImage img;
        imageFromString(&img, sv);
        fn(r, m, &img, sv->expire);
        dumpImageFree(&img);
    } else {
        imageRead(r, m, t, 0);
    }
}

static int sameArg(request *r, int a, int b) {
    return r->argvlen[a] == r->argvlen[b] && !memcmp(r->argv[a], r->argv[b], r->argvlen[a]);
}

static void transferWrite(request *r, multiRead *m, const dumpImage *img, long long expire) {
    int flags = XF_FLAGS(m);
    if (!img) { /* gone since the first read */
        if (flags & XF_NOKEYERR) addReplyError(r, ERR_NOKEY);
        else addReplyInteger(r, 0);
        return;
    }
    m->pr.kind = (flags & XF_REPLYINT) ? PR_INT : PR_OK;
    m->pr.ll = 1;
    m->pr.remaining = 1; /* held while the writes go out */
    writeImage(r, m, XF_DB(m), 1, XF_ARG(m), img, expire);
    if (flags & XF_DELSRC) delKeyIn(r, m, r->db, 0, 1);
    coordResult ok = {1, NULL, NULL, 0};
    writeThenReply(r, &ok, &m->pr);
}

/* RENAME, RENAMENX, COPY and MOVE once both keys were read. */
static void transferAfterRead(request *r, multiRead *m) {
    int flags = XF_FLAGS(m);
    if (keyType(m, 0) < 0) {
        if (flags & XF_NOKEYERR) addReplyError(r, ERR_NOKEY);
        else addReplyInteger(r, 0);
        return;
    }
    if (XF_DB(m) == r->db && sameArg(r, 1, XF_ARG(m))) { /* RENAME k k */
        if (flags & XF_REPLYINT) addReplyInteger(r, 0);
        else addReplyOK(r);
        return;
    }
    if ((flags & XF_NX) && keyType(m, 1) >= 0) {
        addReplyInteger(r, 0);
        return;
    }
    withImage(r, m, transferWrite);
}

static void transferStart(request *r, int dstdb, int dstarg, int flags) {
    int idx[2] = {1, dstarg}, dbs[2] = {r->db, dstdb};
    readKeys(r, idx, dbs, 2, transferAfterRead, XF_AUX(flags, dstdb, dstarg));
}

void renameCommand(request *r) { transferStart(r, r->db, 2, XF_DELSRC | XF_NOKEYERR); }
void renamenxCommand(request *r) {
    transferStart(r, r->db, 2, XF_NX | XF_DELSRC | XF_REPLYINT | XF_NOKEYERR);
}

/* Parses a destination db argument; replies and returns C_ERR if bad. */
static int dbArg(request *r, int i, int *db) {
    long long d;
    if (getLongLongFromArg(r, i, &d, NULL) != C_OK) return C_ERR;
    if (d < 0 || d >= server.databases) {
        addReplyError(r, ERR_DB_INDEX);
        return C_ERR;
    }
    *db = (int)d;
    return C_OK;
}

void copyCommand(request *r) {
    int dstdb = r->db, replace = 0;
    for (int j = 3; j < r->argc; j++) {
        if (argIs(r, j, "replace")) {
            replace = 1;
        } else if (argIs(r, j, "db") && j + 1 < r->argc) {
            if (dbArg(r, ++j, &dstdb) != C_OK) return;
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    if (dstdb == r->db && sameArg(r, 1, 2)) {
        addReplyError(r, "source and destination objects are the same");
        return;
    }
    transferStart(r, dstdb, 2, XF_REPLYINT | (replace ? 0 : XF_NX));
}

/* MOVE key db */
void moveCommand(request *r) {
    int dstdb;
    long long d;
    /* Redis: not an integer, then out of range, then the same db */
    if (getLongLongFromArg(r, 2, &d, NULL) != C_OK) return;
    if (d < INT_MIN || d > INT_MAX) {
        addReplyError(r, "value is out of range, value must between -2147483648 and 2147483647");
        return;
    }
    if (dbArg(r, 2, &dstdb) != C_OK) return;
    if (dstdb == r->db) {
        addReplyError(r, "source and destination objects are the same");
        return;
    }
    transferStart(r, dstdb, 1, XF_NX | XF_DELSRC | XF_REPLYINT);
}

/* ---------------------------------------------------------- DUMP / RESTORE */

static void dumpWithImage(request *r, multiRead *m, const dumpImage *img, long long expire) {
    UNUSED(m);
    UNUSED(expire); /* DUMP carries no TTL: RESTORE takes it as an argument */
    if (!img) {
        addReplyNull(r);
        return;
    }
    buf out;
    bufInit(&out);
    dumpEncode(img, &out);
    addReplyBulk(r, out.ptr, out.len);
    bufFree(&out);
}

static void dumpAfterRead(request *r, multiRead *m) { withImage(r, m, dumpWithImage); }

/* DUMP key: our own payload (dump.h), for RESTORE on ringkv. */
void dumpCommand(request *r) { readArgsFrom(r, 1, dumpAfterRead); }

#define RS_REPLACE 1
#define RS_ABSTTL 2

/* RESTORE's checks in Redis's order once the key was read: BUSYKEY, the
 * TTL, the payload's version and checksum, its contents. aux: RS_*. */
static void restoreAfterRead(request *r, multiRead *m) {
    int flags = (int)m->aux;
    if (!(flags & RS_REPLACE) && keyType(m, 0) >= 0) {
        addReplyError(r, "-BUSYKEY Target key name already exists.");
        return;
    }
    long long ttl;
    if (getLongLongFromArg(r, 2, &ttl, NULL) != C_OK) return;
    if (ttl < 0) {
        addReplyError(r, "Invalid TTL value, must be >= 0");
        return;
    }
    dumpImage img;
    int rc = dumpDecode(&img, r->argv[3], r->argvlen[3]);
    if (rc != DUMP_OK) {
        addReplyError(r, rc == DUMP_ERR_VERSION ? "DUMP payload version or checksum are wrong"
                                                : "Bad data format");
        dumpImageFree(&img);
        return;
    }
    long long expire = 0;
    if (ttl) {
        long long base = (flags & RS_ABSTTL) ? 0 : serverNowMs();
        expire = ttl > LLONG_MAX - base ? LLONG_MAX : ttl + base;
    }
    m->pr.kind = PR_OK;
    m->pr.remaining = 1;
    writeImage(r, m, r->db, 0, 1, &img, expire);
    dumpImageFree(&img);
    coordResult ok = {1, NULL, NULL, 0};
    writeThenReply(r, &ok, &m->pr);
}

/* RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
 * IDLETIME and FREQ are checked as Redis checks them and then ignored:
 * ringkv keeps no access times or frequencies. */
void restoreCommand(request *r) {
    int flags = 0, idle = 0, freq = 0;
    for (int j = 4; j < r->argc; j++) {
        int more = j + 1 < r->argc;
        long long v;
        if (argIs(r, j, "replace")) {
            flags |= RS_REPLACE;
        } else if (argIs(r, j, "absttl")) {
            flags |= RS_ABSTTL;
        } else if (argIs(r, j, "idletime") && more && !freq) {
            if (getLongLongFromArg(r, ++j, &v, NULL) != C_OK) return;
            if (v < 0) {
                addReplyError(r, "Invalid IDLETIME value, must be >= 0");
                return;
            }
            idle = 1;
        } else if (argIs(r, j, "freq") && more && !idle) {
            if (getLongLongFromArg(r, ++j, &v, NULL) != C_OK) return;
            if (v < 0 || v > 255) {
                addReplyError(r, "Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            freq = 1;
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    int idx = 1;
    readKeys(r, &idx, NULL, 1, restoreAfterRead, flags);
}

/* ----------------------------------------------------- KEYS / SCAN / ... */

/* KEYS, SCAN, RANDOMKEY, DBSIZE and FLUSH* go through clusterops.c's
 * whole-cluster operations. */

/* SCAN ... TYPE name keeps the keys whose TYPE answer is name (Redis 7.0:
 * a name no type has matches nothing, without an error). */
#define SCAN_ANYTYPE NULL

static int typeMatches(int t, const char *name) {
    return !name || !strcasecmp(typeNames[t], name);
}

static void replyKeys(request *r, const clusteropsKeys *k, const char *type) {
    long n = 0;
    for (long i = 0; i < k->n; i++) n += typeMatches(k->types[i], type);
    addReplyArrayLen(r, n);
    size_t off = 0;
    for (long i = 0; i < k->n; i++) {
        if (typeMatches(k->types[i], type)) addReplyBulk(r, k->bytes.ptr + off, k->lens[i]);
        off += k->lens[i];
    }
}

static void keysDone(request *r, const clusteropsScanResult *res, void *pd) {
    UNUSED(pd);
    if (!res->ok) addReplyError(r, res->err);
    else replyKeys(r, res->keys, SCAN_ANYTYPE);
}

void keysCommand(request *r) {
    clusteropsScan(r, r->db, 0, LONG_MAX, r->argv[1], r->argvlen[1], keysDone, NULL);
}

/* pd: the TYPE name (argv, borrowed: the request outlives the scan), or
 * NULL for every type */
static void scanDone(request *r, const clusteropsScanResult *res, void *pd) {
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    char cb[32];
    snprintf(cb, sizeof(cb), "%llu", res->next);
    addReplyArrayLen(r, 2);
    addReplyBulkCString(r, cb);
    replyKeys(r, res->keys, pd);
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
    const char *type = SCAN_ANYTYPE;
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
            type = r->argv[++j];
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    clusteropsScan(r, r->db, cursor, (long)count, pat, patlen, scanDone, (void *)type);
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

/* ------------------------------------------------------------- the table */

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST

command keyspaceCommandTable[] = {
    {"move", moveCommand, 3, W | F, 1, 1, 1, "generic", "1.0.0", "Move a key to another database", "key db", 0, 0, 0, 0},
    {"dump", dumpCommand, 2, R, 1, 1, 1, "generic", "2.6.0", "Return a serialized version of the value stored at the specified key.", "key", 0, 0, 0, 0},
    {"restore", restoreCommand, -4, W, 1, 1, 1, "generic", "2.6.0", "Create a key using the provided serialized value, previously obtained using DUMP.",
     "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]", 0, 0, 0, 0},
    /* a container, as in Redis: no key positions of its own (its subcommands
     * name the key), so it waits for the client's earlier commands instead */
    {"object", objectCommand, -2, R | CMD_BARRIER, 0, 0, 0, "generic", "2.2.3", "A container for object introspection commands", "", 0, 0, 0, 0},
    {"memory", memoryCommand, -2, R | CMD_BARRIER, 0, 0, 0, "server", "4.0.0", "A container for memory diagnostics commands", "", 0, 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};

#undef W
#undef R
#undef F
