/* clusterops.c -- the commands that span every partition: SCAN and KEYS,
 * DBSIZE, FLUSHDB and FLUSHALL, and the bus requests they send:
 *   SCAN db cursor end count [pattern] -> next, then (key, versions without
 *                                         values) pairs, tombstones included,
 *                                         then, if the range holds collection
 *                                         keys, one element: their metadata
 *                                         (varint klen, key, varint mlen,
 *                                         keymeta) back to back, dead ones
 *                                         included (so the answer's length is
 *                                         odd exactly when it has one)
 *   COUNT db                           -> keys per partition, 8 bytes LE each
 *   FLUSH db                           -> OK once flushed (db -1: all)
 *
 * API: clusteropsScan, clusteropsCount, clusteropsFlush (t_keyspace.c),
 * clusteropsInit (coord.c); see clusterops.h.
 *
 * A SCAN cursor is a slot (partition * 256 + Merkle bucket), the same on
 * every node. Each partition is read from N - W + 1 of its replicas (so
 * from at least one that acknowledged any write, quorumReadWidth) and
 * their versions are merged, so a replica that missed writes or deletes
 * neither hides nor revives keys.
 *
 * States, and the function that moves each operation:
 *   scanOp:  clusteropsScan --> scanStep: ASKING the current partition's
 *            replicas (this node's copy at once) --scanAnswered(last)-->
 *            scanPartitionDone --> scanStep for the next partition, or
 *            scanFinish (count keys found, keyspace ended, or no replica
 *            of a partition answered: -CLUSTERDOWN)
 *   countOp: clusteropsCount --> ASKING every reachable node
 *            --countAnswered(last)--> countFinish
 *   flushOp: clusteropsFlush --> -CLUSTERDOWN at once if a node is down,
 *            else ASKING every node, flushing here --flushAnswered(last)-->
 *            flushFinish
 * Each op holds outstanding = 1 while it sends, so an answer that comes at
 * once never finishes it under its sender. */
#include "clusterops.h"

#include <stdio.h>
#include <string.h>

#include "busargs.h"
#include "coord.h"
#include "gossip.h"
#include "target.h"
#include "types/keymeta.h"
#include "types/strctr.h"
#include "types/tcodec.h"

/* ------------------------------------------------------------------- SCAN */

typedef struct scanOp {
    request *r;                 /* the client's request (one pending count held) */
    clusteropsScanCallback *cb; /* its continuation */
    void *pd;                   /* cb's private data */
    int outstanding;            /* replicas of this partition not answered yet, and a
                                   hold while asking */
    int db;
    unsigned long long cursor;  /* the slot the current partition is read from */
    unsigned long long nslots;  /* slots in the keyspace: the end */
    long count;                 /* keys wanted */
    char *pat;                  /* MATCH pattern (owned), NULL for every key */
    size_t patlen;
    int wlevel;                 /* the connection's write level: how many replicas to read */
    clusteropsKeys keys;        /* the answer so far */
    /* the partition being read */
    int answered;      /* replicas that answered */
    unsigned long long next; /* smallest cursor a replica stopped at */
    record *recs;      /* merged versions (headers) per key seen */
    keymeta *metas;    /* merged collection metadata per key seen (empty: none) */
    buf *names;        /* the keys, parallel to recs and metas */
    long nseen, capseen;
} scanOp;

static void keysAdd(clusteropsKeys *k, const char *key, size_t klen, int type) {
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->lens = zrealloc(k->lens, sizeof(size_t) * (size_t)k->cap);
        k->types = zrealloc(k->types, sizeof(int) * (size_t)k->cap);
    }
    k->types[k->n] = type;
    k->lens[k->n++] = klen;
    bufAppend(&k->bytes, key, klen);
}

/* What a key reads as from its merged string record (counter contributions
 * included) and metadata, or -1: coll.c's type rule (collTypeOf) on what a
 * scan has. A scan reads no
 * elements, so a collection counts while its metadata says it may live;
 * the commands that empty a collection delete it (Redis deletes an emptied
 * key), which the metadata then shows. */
static int scanKeyType(const record *rec, const keymeta *m, long long now) {
    keymetaCand c[KT_MAX + 1];
    int n = 0;
    static const counter none;
    strctrCandidate(rec, rec->ctr ? rec->ctr : &none, now, &c[n++]);
    for (int t = KT_SET; t <= KT_HLL; t++) {
        c[n].type = t;
        c[n].live = keymetaTypeMayLive(m, t, now);
        c[n].last = keymetaTypeStamp(m, t);
        n++;
    }
    int w = keymetaResolveType(c, n);
    return w < 0 ? -1 : c[w].type;
}

/* A key one replica reported, with its versions (values left out) or its
 * collection metadata (one of rec, meta is NULL). */
static void scanSeen(scanOp *op, const char *key, size_t klen, const record *rec,
                     const keymeta *meta) {
    long i;
    for (i = 0; i < op->nseen; i++)
        if (op->names[i].len == klen && !memcmp(op->names[i].ptr, key, klen)) break;
    if (i == op->nseen) {
        if (op->nseen == op->capseen) {
            op->capseen = op->capseen ? op->capseen * 2 : 64;
            op->recs = zrealloc(op->recs, sizeof(record) * (size_t)op->capseen);
            op->metas = zrealloc(op->metas, sizeof(keymeta) * (size_t)op->capseen);
            op->names = zrealloc(op->names, sizeof(buf) * (size_t)op->capseen);
        }
        recordInit(&op->recs[i]);
        keymetaInit(&op->metas[i]);
        bufInit(&op->names[i]);
        bufAppend(&op->names[i], key, klen);
        op->nseen++;
    }
    if (rec) recordMerge(&op->recs[i], rec, 1);
    if (meta) keymetaMerge(&op->metas[i], meta);
}

static void scanSeenClear(scanOp *op) {
    for (long i = 0; i < op->nseen; i++) {
        recordFree(&op->recs[i]);
        keymetaFree(&op->metas[i]);
        bufFree(&op->names[i]);
    }
    op->nseen = 0;
}

static int scanCollectLocal(const char *key, size_t klen, const record *rec, const keymeta *meta,
                            void *pd) {
    scanOp *op = pd;
    if (op->pat && !stringmatchlen(op->pat, (int)op->patlen, key, (int)klen, 0)) return 0;
    scanSeen(op, key, klen, rec, meta);
    return 0;
}

static void scanFinish(scanOp *op, int ok, const char *err) {
    clusteropsScanResult res = {ok, err, op->cursor >= op->nslots ? 0 : op->cursor, &op->keys};
    request *r = op->r;
    op->cb(r, &res, op->pd);
    requestRelease(r);
    scanSeenClear(op);
    zfree(op->recs);
    zfree(op->metas);
    zfree(op->names);
    bufFree(&op->keys.bytes);
    zfree(op->keys.lens);
    zfree(op->keys.types);
    zfree(op->pat);
    zfree(op);
}

static void scanStep(scanOp *op);

/* Every asked replica answered for the current partition: the keys whose
 * merged versions are live, up to the smallest position a replica reached
 * (keys past it come again from there: at least once). */
static void scanPartitionDone(scanOp *op) {
    if (!op->answered) {
        char err[128];
        snprintf(err, sizeof(err), "-CLUSTERDOWN no replica of partition %u answered",
                 (unsigned)(op->cursor >> 8));
        scanFinish(op, 0, err);
        return;
    }
    long long now = serverNowMs();
    for (long i = 0; i < op->nseen; i++) {
        const char *k = op->names[i].ptr ? op->names[i].ptr : "";
        size_t kl = op->names[i].len;
        if (keySlot(keyHash(op->db, k, kl), server.qbits) >= op->next) continue;
        int t = scanKeyType(&op->recs[i], &op->metas[i], now);
        if (t >= 0) keysAdd(&op->keys, k, kl, t);
    }
    scanSeenClear(op);
    op->cursor = op->next;
    scanStep(op);
}

static void scanAnswered(const busResult *res, void *pd) {
    int ok = res->status == BUS_OK;
    const redisReply *reply = res->reply;
    scanOp *op = pd;
    unsigned long long next;
    if (ok && reply->elements >= 4 &&
        string2ull(reply->element[3]->str, reply->element[3]->len, &next) && next > op->cursor) {
        size_t pairsEnd = reply->elements - (reply->elements - 4) % 2;
        record rec;
        recordInit(&rec);
        for (size_t i = 4; i + 1 < pairsEnd; i += 2) {
            if (recordDecode(&rec, reply->element[i + 1]->str, reply->element[i + 1]->len) == C_OK)
                scanSeen(op, reply->element[i]->str, reply->element[i]->len, &rec, NULL);
        }
        recordFree(&rec);
        if (pairsEnd < reply->elements) { /* the collections' metadata */
            const redisReply *mb = reply->element[pairsEnd];
            tcReader rd;
            tcReaderInit(&rd, mb->str, mb->len);
            keymeta m;
            keymetaInit(&m);
            uint64_t kl, ml;
            const unsigned char *k, *mp;
            while (tcLeft(&rd) > 0) {
                if (tcVarint(&rd, &kl) != C_OK || tcBytes(&rd, kl, &k) != C_OK ||
                    tcVarint(&rd, &ml) != C_OK || tcBytes(&rd, ml, &mp) != C_OK)
                    break;
                if (keymetaDecode(&m, mp, ml) == C_OK)
                    scanSeen(op, (const char *)k, kl, NULL, &m);
            }
            keymetaFree(&m);
        }
        if (next < op->next) op->next = next;
        op->answered++;
    }
    if (--op->outstanding == 0) scanPartitionDone(op);
}

static void scanStep(scanOp *op) {
    if (op->cursor >= op->nslots || op->keys.n >= op->count) {
        scanFinish(op, 1, NULL);
        return;
    }
    unsigned p = (unsigned)(op->cursor >> 8);
    unsigned long long end = (unsigned long long)(p + 1) * 256;
    int owners[QUORUM_MAX_TARGETS];
    int n = gossipOwners(p, owners), width = quorumReadWidth(op->wlevel, n), asked = 0;
    op->next = end;
    op->answered = 0;
    op->outstanding = 1; /* held while asking */
    long want = op->count - op->keys.n;
    for (int i = 0; i < n && asked < width; i++) {
        int m = owners[i];
        if (!targetReachable(m)) continue;
        asked++;
        if (m == gossipSelf()) {
            unsigned long long nx = dbScanEx(op->db, op->cursor, end, want, 1, scanCollectLocal, op);
            if (nx < op->next) op->next = nx;
            op->answered++;
            continue;
        }
        busArgs args; /* SCAN db cursor end count [pattern]; slots fit a long long */
        busArgsInit(&args);
        busArgsStr(&args, "SCAN");
        busArgsInt(&args, op->db);
        busArgsInt(&args, (long long)op->cursor);
        busArgsInt(&args, (long long)end);
        busArgsInt(&args, want);
        if (op->pat) busArgsBytes(&args, op->pat, op->patlen);
        op->outstanding++;
        busArgsSend(&args, targetLink(m), scanAnswered, op, 0);
    }
    if (--op->outstanding == 0) scanPartitionDone(op);
}

void clusteropsScan(request *r, int db, unsigned long long cursor, long count, const char *pat,
                    size_t patlen, clusteropsScanCallback *cb, void *pd) {
    scanOp *op = zcalloc(sizeof(*op));
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    op->db = db;
    op->cursor = cursor;
    op->nslots = (unsigned long long)server.ring_partitions * 256;
    op->count = count;
    op->wlevel = targetLevel(r, 1);
    if (pat && !(patlen == 1 && pat[0] == '*')) {
        op->pat = zmemdup(pat, patlen);
        op->patlen = patlen;
    }
    bufInit(&op->keys.bytes);
    r->pending++;
    scanStep(op);
}

/* SCAN db cursor end count [pattern] -> next, then (key, versions without
 * values) pairs, tombstones included, then the collections' metadata as one
 * element if there are any: the coordinator merges replicas. */
typedef struct scanReply {
    buf data;            /* keys and encoded version headers, back to back */
    buf metas;           /* collections: (varint klen, key, varint mlen, keymeta)... */
    size_t *offs, *lens; /* each one's place in data */
    int n, cap;
    const char *pat;     /* MATCH pattern (borrowed from the request), or NULL */
    size_t patlen;
} scanReply;

static int scanCollectReply(const char *key, size_t klen, const record *rec, const keymeta *meta,
                            void *pd) {
    scanReply *s = pd;
    if (s->pat && !stringmatchlen(s->pat, (int)s->patlen, key, (int)klen, 0)) return 0;
    if (meta) {
        buf e;
        bufInit(&e);
        keymetaEncode(meta, &e);
        tcPutVarint(&s->metas, klen);
        if (klen) bufAppend(&s->metas, key, klen);
        tcPutVarint(&s->metas, e.len);
        bufAppend(&s->metas, e.ptr, e.len);
        bufFree(&e);
        return 0;
    }
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->offs = zrealloc(s->offs, sizeof(size_t) * (size_t)s->cap);
        s->lens = zrealloc(s->lens, sizeof(size_t) * (size_t)s->cap);
    }
    s->offs[s->n] = s->data.len;
    s->lens[s->n++] = klen;
    bufAppend(&s->data, key, klen);
    record hdr; /* the versions without their values: enough to merge and decide */
    hdr.ctr = rec->ctr; /* borrowed: a key only INCR wrote lives by its counter */
    hdr.n = rec->n;
    hdr.cap = rec->n;
    hdr.v = zmalloc(sizeof(version) * (size_t)(rec->n ? rec->n : 1));
    hdr.seen = rec->seen; /* borrowed, as the versions' pasts are */
    for (int i = 0; i < rec->n; i++) {
        hdr.v[i] = rec->v[i];
        hdr.v[i].val = NULL;
        hdr.v[i].vlen = 0;
        hdr.v[i].ownval = 0;
    }
    size_t before = s->data.len;
    recordEncode(&hdr, &s->data);
    zfree(hdr.v);
    s->offs[s->n] = before;
    s->lens[s->n++] = s->data.len - before;
    return 0;
}

static void scanHandler(busReq *req) {
    int db = req->argc >= 6 ? busArgDb(req, 2) : -1;
    unsigned long long cursor, end;
    long long count;
    if (db < 0 || !string2ull(req->argv[3], req->lens[3], &cursor) ||
        !string2ull(req->argv[4], req->lens[4], &end) ||
        !string2ll(req->argv[5], req->lens[5], &count) || count < 1 || end == 0) {
        busReplyError(req, "SCAN malformed");
        return;
    }
    scanReply sr;
    memset(&sr, 0, sizeof(sr));
    bufInit(&sr.data);
    bufInit(&sr.metas);
    if (req->argc >= 7) {
        sr.pat = req->argv[6];
        sr.patlen = req->lens[6];
    }
    unsigned long long next = dbScanEx(db, cursor, end, (long)count, 1, scanCollectReply, &sr);
    busArgs args;
    busArgsInit(&args);
    busArgsInt(&args, (long long)next);
    for (int i = 0; i < sr.n; i++) busArgsBytes(&args, sr.data.ptr + sr.offs[i], sr.lens[i]);
    if (sr.metas.len) busArgsBytes(&args, sr.metas.ptr, sr.metas.len);
    busArgsReply(&args, req);
    bufFree(&sr.data);
    bufFree(&sr.metas);
    zfree(sr.offs);
    zfree(sr.lens);
}

/* ----------------------------------------------------------------- DBSIZE */

/* DBSIZE: every node reports its keys per partition. */
typedef struct countOp {
    request *r;                  /* the client's request (one pending count held) */
    clusteropsCountCallback *cb; /* its continuation */
    void *pd;                    /* cb's private data */
    int outstanding;             /* nodes not answered yet, and a hold while asking */
    int db;
    int nm;                      /* members when it started */
    long long **counts;          /* per member: one count per partition, or NULL */
} countOp;

/* Each partition counts as the largest count among its replicas that
 * answered: a replica that missed writes does not hide them (an estimate
 * when replicas miss different keys; anti-entropy evens them out). */
static void countFinish(countOp *op) {
    long long total = 0;
    char err[128] = "";
    for (unsigned p = 0; p < (unsigned)server.ring_partitions && !err[0]; p++) {
        int l[QUORUM_MAX_TARGETS];
        int n = gossipOwners(p, l), got = 0;
        long long best = 0;
        for (int i = 0; i < n; i++) {
            int m = l[i];
            if (m < op->nm && op->counts[m]) {
                if (!got || op->counts[m][p] > best) best = op->counts[m][p];
                got = 1;
            }
        }
        total += best;
        if (!got && n > 0)
            snprintf(err, sizeof(err), "-CLUSTERDOWN no replica of partition %u answered", p);
    }
    request *r = op->r;
    op->cb(r, !err[0], err[0] ? err : NULL, total, op->pd);
    requestRelease(r);
    for (int i = 0; i < op->nm; i++) zfree(op->counts[i]);
    zfree(op->counts);
    zfree(op);
}

static void countAnswered(const busResult *res, void *pd) {
    int ok = res->status == BUS_OK;
    const redisReply *reply = res->reply;
    int m;
    countOp *op = targetRefTake(pd, &m);
    size_t q = (size_t)server.ring_partitions;
    if (ok && reply->elements >= 4 && reply->element[3]->len == q * 8) {
        long long *c = zmalloc(sizeof(long long) * q);
        const unsigned char *b = (const unsigned char *)reply->element[3]->str;
        for (size_t p = 0; p < q; p++) {
            uint64_t v = 0;
            for (int k = 7; k >= 0; k--) v = (v << 8) | b[p * 8 + (size_t)k];
            c[p] = (long long)v;
        }
        op->counts[m] = c;
    }
    if (--op->outstanding == 0) countFinish(op);
}

void clusteropsCount(request *r, int db, clusteropsCountCallback *cb, void *pd) {
    countOp *op = zcalloc(sizeof(*op));
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    op->db = db;
    op->nm = gossipCount();
    op->counts = zcalloc(sizeof(long long *) * (size_t)op->nm);
    r->pending++;
    op->outstanding = 1; /* held until every request is out */
    size_t q = (size_t)server.ring_partitions;
    for (int m = 0; m < op->nm; m++) {
        if (m == gossipSelf()) {
            op->counts[m] = zmalloc(sizeof(long long) * q);
            dbRecount();
            for (size_t p = 0; p < q; p++) op->counts[m][p] = dbPartitionKeys(db, (unsigned)p);
        } else if (targetReachable(m)) {
            busArgs args; /* COUNT db */
            busArgsInit(&args);
            busArgsStr(&args, "COUNT");
            busArgsInt(&args, db);
            op->outstanding++;
            busArgsSend(&args, targetLink(m), countAnswered, targetRefNew(op, m), 0);
        }
    }
    if (--op->outstanding == 0) countFinish(op);
}

static void countHandler(busReq *req) {
    int db = req->argc >= 3 ? busArgDb(req, 2) : -1;
    if (db < 0) {
        busReplyError(req, "COUNT malformed");
        return;
    }
    size_t q = (size_t)server.ring_partitions;
    unsigned char *b = zmalloc(q * 8);
    dbRecount();
    for (size_t p = 0; p < q; p++) {
        uint64_t v = (uint64_t)dbPartitionKeys(db, (unsigned)p);
        for (int k = 0; k < 8; k++) b[p * 8 + (size_t)k] = (unsigned char)(v >> (8 * k));
    }
    busArgs args;
    busArgsInit(&args);
    busArgsBytes(&args, (const char *)b, q * 8);
    busArgsReply(&args, req);
    zfree(b);
}

/* ------------------------------------------------------------------ FLUSH */

/* FLUSHDB / FLUSHALL: deletes without tombstones, so it needs every node:
 * a node that missed it would bring the data back through repair. */
typedef struct flushOp {
    request *r;                  /* the client's request (one pending count held) */
    clusteropsCountCallback *cb; /* its continuation */
    void *pd;                    /* cb's private data */
    int outstanding;             /* nodes not answered yet, and a hold while asking */
    char err[200];               /* the first failure, "" if none */
} flushOp;

static void flushFinish(flushOp *op) {
    request *r = op->r;
    op->cb(r, !op->err[0], op->err[0] ? op->err : NULL, 0, op->pd);
    requestRelease(r);
    zfree(op);
}

static void flushAnswered(const busResult *res, void *pd) {
    int ok = res->status == BUS_OK;
    const char *err = res->errstr;
    flushOp *op = pd;
    if (!ok && !op->err[0]) snprintf(op->err, sizeof(op->err), "-ERR flush failed on a node: %s", err);
    if (--op->outstanding == 0) flushFinish(op);
}

void clusteropsFlush(request *r, int db, clusteropsCountCallback *cb, void *pd) {
    int nm = gossipCount();
    flushOp *op = zcalloc(sizeof(*op));
    op->r = r;
    op->cb = cb;
    op->pd = pd;
    r->pending++;
    for (int i = 0; i < nm; i++) {
        if (gossipMemberStatus(i) == MEMBER_LEFT || targetReachable(i)) continue;
        memberInfo mi;
        gossipMemberInfo(i, &mi);
        snprintf(op->err, sizeof(op->err),
                 "-CLUSTERDOWN %s needs every node: %s:%d is down (nothing was flushed)",
                 db < 0 ? "FLUSHALL" : "FLUSHDB", mi.host, mi.port);
        flushFinish(op);
        return;
    }
    op->outstanding = 1;
    for (int i = 0; i < nm; i++) {
        if (i == gossipSelf() || gossipMemberStatus(i) == MEMBER_LEFT) continue;
        busArgs args; /* FLUSH db */
        busArgsInit(&args);
        busArgsStr(&args, "FLUSH");
        busArgsInt(&args, db);
        op->outstanding++;
        busArgsSend(&args, targetLink(i), flushAnswered, op, 10 * server.replica_timeout);
    }
    if (dbFlush(db) != C_OK && !op->err[0])
        snprintf(op->err, sizeof(op->err), "-IOERR flush failed, see the server log");
    if (--op->outstanding == 0) flushFinish(op);
}

static void flushHandler(busReq *req) {
    long long db;
    if (req->argc < 3 || !string2ll(req->argv[2], req->lens[2], &db) || db < -1 ||
        db >= server.databases) {
        busReplyError(req, "FLUSH malformed");
        return;
    }
    if (dbFlush((int)db) != C_OK) busReplyError(req, "flush failed");
    else busReplyOK(req);
}

void clusteropsInit(void) {
    busRegister("SCAN", scanHandler);
    busRegister("COUNT", countHandler);
    busRegister("FLUSH", flushHandler);
}
