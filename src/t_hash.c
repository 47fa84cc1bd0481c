/* t_hash.c -- the hash commands of Redis 7.0 (HSET ... HSCAN) over the
 * collection API (coll.h), each field a replicated state (types/hash.h).
 *
 * Every handler is a continuation, as in t_string.c:
 *
 *   handler: parse what Redis parses before it looks the key up (an
 *            increment, HRANDFIELD's count, HSCAN's cursor) and reply its
 *            error at once; then collRead the key
 *     -> xxxAfterRead (collRead's callback, the view borrowed for the call):
 *            a read error or WRONGTYPE is replied; a read command replies
 *            from the view and is done;
 *            a write computes its reply and its deltas into one collBatch:
 *            per field hashDelta* at one dot (collDot(): one per command,
 *            shared by all its fields), plus the metadata delta
 *            (collBatchTouch, or collBatchDel when an HDEL empties the key,
 *            as Redis deletes an emptied hash); a write that changes
 *            nothing (HSETNX of a present field, HDEL of absent ones)
 *            replies without writing
 *     -> collWrite -> writeThenReply (t_string.c): the prepared reply once
 *            the write level acknowledged the batch, else the write's error.
 *
 * Which elements a command reads: the ones it names (COLL_READ_FIELDS:
 * HGET, HMGET, HEXISTS, HSTRLEN, HSET, HSETNX, HMSET and the increments;
 * COLL_READ_NAMED for HDEL, whose read also says whether any other field
 * lives, which is how it knows it empties the key), or all of them
 * (COLL_READ_ALL: HLEN, HKEYS, HVALS, HGETALL, HRANDFIELD, HSCAN).
 * Single-key writes run at the key's version coordinator (forward.c), so
 * HSETNX and the increments read and write without a concurrent command of
 * the key in between, as in Redis.
 *
 * Replies and errors are Redis 7.0's, in the same order of checks. Where
 * ringkv differs:
 *   - HKEYS/HVALS/HGETALL list fields in byte order (Redis: its table order,
 *     which no client may rely on);
 *   - HSCAN's cursor is a position in the order of the fields' 64-bit hashes
 *     (XXH3): the cursor returned is the hash of the next field to return.
 *     A field present from the first call to the last is returned whatever
 *     was added or removed in between (Redis's guarantee), which a position
 *     in a list would not give once fields before it are deleted. Fields
 *     whose hashes are equal are never split across two pages.
 *
 * API: hashCommandTable (t_hash.h); the handlers are static. */
#include "t_hash.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include <event2/buffer.h>

#include "coll.h"
#include "t_string.h"
#include "types/hash.h"

#define ERR_HASH_NOT_INT "hash value is not an integer"
#define ERR_HASH_NOT_FLOAT "hash value is not a float"
#define ERR_NANINF_RESULT "increment would produce NaN or Infinity"
#define ERR_NANINF_ARG "value is NaN or Infinity"
#define ERR_DOT "internal error: a dot not above this node's own (HLC)"

/* ------------------------------------------------------------- helpers */

/* Reads argv[1]'s fields argv[first], argv[first+step]... with mode
 * (COLL_READ_FIELDS, or COLL_READ_NAMED when the command must know whether
 * other fields live). The name tables are copied by collRead, so they are
 * freed here. */
static void readNamed(request *r, int mode, int first, int step, collReadCb *cb, void *pd) {
    int n = 0;
    for (int j = first; j < r->argc; j += step) n++;
    char **names = zmalloc(sizeof(char *) * (size_t)(n ? n : 1));
    size_t *lens = zmalloc(sizeof(size_t) * (size_t)(n ? n : 1));
    for (int i = 0, j = first; j < r->argc; i++, j += step) {
        names[i] = r->argv[j];
        lens[i] = r->argvlen[j];
    }
    collRead(r, r->db, r->argv[1], r->argvlen[1], mode, names, lens, n, cb, pd);
    zfree(names);
    zfree(lens);
}

/* The fields alone: adds, increments and lookups need nothing else. */
static void readFields(request *r, int first, int step, collReadCb *cb, void *pd) {
    readNamed(r, COLL_READ_FIELDS, first, step, cb, pd);
}

static void readAll(request *r, collReadCb *cb, void *pd) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_ALL, NULL, NULL, 0, cb, pd);
}

/* The start of every read callback: 1 when it must stop, its error (the
 * read's, or WRONGTYPE) replied. */
static int readFailed(request *r, const collView *v, const char *err) {
    if (err || !v) {
        addReplyError(r, err ? err : "-NOQUORUM the read failed");
        return 1;
    }
    return collCheckType(r, v, KT_HASH);
}

/* An absent field's state, for the delta constructors' obs. */
static const field *emptyField(void) {
    static field none;
    static int init;
    if (!init) {
        fieldInit(&none);
        init = 1;
    }
    return &none;
}

/* The coordinator's state of a field: the view's, or empty. Borrowed. */
static const field *fieldOf(const collView *v, const char *name, size_t len) {
    collElem *e = collViewFind(v, name, len);
    return e ? &e->f : emptyField();
}

/* NUM_ABSENT, or the kind of what the field reads as, its text in out. */
static int readField(const collView *v, const char *name, size_t len, buf *out) {
    return hashFieldRead(fieldOf(v, name, len), &v->kr, out);
}

static const char *numErrText(int rc) {
    switch (rc) {
    case NUMERR_NOTINT: return ERR_HASH_NOT_INT;
    case NUMERR_NOTFLOAT: return ERR_HASH_NOT_FLOAT;
    case NUMERR_OVERFLOW: return ERR_OVERFLOW;
    case NUMERR_NANINF: return ERR_NANINF_RESULT;
    default: return ERR_DOT;
    }
}

/* Sends b; the reply (kind PR_*, ll, bulk) once it is acknowledged. */
static void writeThen(request *r, const collBatch *b, int kind, long long ll, const buf *bulk) {
    pendingReply *pr = pendingReplyNew(r, kind);
    pr->ll = ll;
    if (bulk && bulk->len) bufAppend(&pr->bulk, bulk->ptr, bulk->len);
    pr->remaining = 1;
    collWrite(r, r->db, r->argv[1], r->argvlen[1], b, writeThenReply, pr);
}

/* argv indexes by their bytes, then by position. */
static int argCmp(const void *a, const void *b, void *arg) {
    request *r = arg;
    int i = *(const int *)a, j = *(const int *)b;
    size_t li = r->argvlen[i], lj = r->argvlen[j];
    int c = memcmp(r->argv[i], r->argv[j], li < lj ? li : lj);
    if (c) return c;
    if (li != lj) return li < lj ? -1 : 1;
    return i < j ? -1 : (i > j);
}

/* Distinct names among argv[first], argv[first+step]...: the argv index of
 * the last occurrence of each (a repeated HSET field takes its last value,
 * as in Redis), in out (room for all), returns how many. */
static int distinctArgs(request *r, int first, int step, int *out) {
    int n = 0;
    for (int j = first; j < r->argc; j += step) out[n++] = j;
    qsort_r(out, (size_t)n, sizeof(int), argCmp, r);
    int m = 0;
    for (int k = 0; k < n; k++) {
        int last = k + 1 == n || r->argvlen[out[k]] != r->argvlen[out[k + 1]] ||
                   memcmp(r->argv[out[k]], r->argv[out[k + 1]], r->argvlen[out[k]]);
        if (last) out[m++] = out[k];
    }
    return m;
}

/* The view's live elements, in its (byte) order: indexes into v->el, in
 * *idx (owned by the caller, zfree), returns how many. */
static int liveFields(const collView *v, int **idx) {
    int *x = zmalloc(sizeof(int) * (size_t)(v->nel ? v->nel : 1));
    int n = 0;
    for (int i = 0; i < v->nel; i++)
        if (collElemLive(v, &v->el[i])) x[n++] = i;
    *idx = x;
    return n;
}

static void replyValue(request *r, const collView *v, const collElem *e, buf *tmp) {
    hashFieldRead(&e->f, &v->kr, tmp);
    addReplyBulk(r, tmp->ptr ? tmp->ptr : "", tmp->len);
}

/* A small random generator (xorshift64*), seeded once per command from the
 * system's: HRANDFIELD -1000000 should not make a million system calls. */
static uint64_t rngNext(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t rngSeed(void) {
    uint64_t s = 0;
    while (!s) getRandomBytes((unsigned char *)&s, sizeof(s));
    return s;
}

/* ------------------------------------------------- HSET HMSET HSETNX */

#define SET_HSET 0
#define SET_HMSET 1
#define SET_HSETNX 2

/* HSET key field value [field value ...] / HMSET (the same, +OK) /
 * HSETNX key field value:
 *   1. read the named fields (their state is what the assignment replaces);
 *   2. per distinct field, its last value: hashDeltaSet at the command's dot;
 *      a field not live before counts as created (HSET's reply);
 *   3. HSETNX of a live field replies 0 and writes nothing. */
static void hsetAfterRead(request *r, const collView *v, const char *err, void *pd) {
    int mode = (int)(intptr_t)pd;
    if (readFailed(r, v, err)) return;
    if (mode == SET_HSETNX && fieldLive(fieldOf(v, r->argv[2], r->argvlen[2]), &v->kr)) {
        addReplyInteger(r, 0);
        return;
    }
    int *fi = zmalloc(sizeof(int) * (size_t)r->argc);
    int n = distinctArgs(r, 2, 2, fi);
    uint64_t seq = collDot();
    collBatch b;
    collBatchInit(&b);
    collBatchTouch(&b, v, KT_HASH, seq);
    field d;
    fieldInit(&d);
    long long created = 0;
    for (int k = 0; k < n; k++) {
        int j = fi[k];
        const field *obs = fieldOf(v, r->argv[j], r->argvlen[j]);
        if (!fieldLive(obs, &v->kr)) created++;
        hashDeltaSet(&d, obs, server.actor, seq, r->argv[j + 1], r->argvlen[j + 1]);
        collBatchField(&b, r->argv[j], r->argvlen[j], &d);
    }
    fieldFree(&d);
    zfree(fi);
    if (mode == SET_HMSET) writeThen(r, &b, PR_OK, 0, NULL);
    else writeThen(r, &b, PR_INT, mode == SET_HSETNX ? 1 : created, NULL);
    collBatchFree(&b);
}

static void hsetGeneric(request *r, int mode) {
    if (r->argc % 2 == 1) { /* a field without its value */
        addReplyErrorArity(r);
        return;
    }
    readFields(r, 2, 2, hsetAfterRead, (void *)(intptr_t)mode);
}

static void hsetCommand(request *r) { hsetGeneric(r, SET_HSET); }
static void hmsetCommand(request *r) { hsetGeneric(r, SET_HMSET); }
static void hsetnxCommand(request *r) { hsetGeneric(r, SET_HSETNX); }

/* ---------------------------------------------------------------- HDEL */

/* HDEL key field [field ...]:
 *   1. read the named fields and whether another field lives;
 *   2. per distinct live field, hashDeltaDel of what was read (an HSET or
 *      HINCRBY this read did not see survives: observed-remove);
 *   3. none live: reply 0, write nothing; every live field of the key
 *      named (nothing else lives and the read saw every stored field): the
 *      key's DEL too, so the emptied hash is gone (TYPE none, EXISTS 0) as
 *      in Redis. The DEL alone is the metadata delta then: a touch at the
 *      same dot would leave a hash write the DEL does not cover. */
static void hdelAfterRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (readFailed(r, v, err)) return;
    int *fi = zmalloc(sizeof(int) * (size_t)r->argc);
    int n = distinctArgs(r, 2, 1, fi);
    collBatch b;
    collBatchInit(&b);
    field d;
    fieldInit(&d);
    long long deleted = 0;
    for (int k = 0; k < n; k++) {
        collElem *e = collViewFind(v, r->argv[fi[k]], r->argvlen[fi[k]]);
        if (!e || !collElemLive(v, e)) continue;
        deleted++;
        hashDeltaDel(&d, &e->f);
        collBatchField(&b, e->name, e->len, &d);
    }
    fieldFree(&d);
    zfree(fi);
    if (deleted == 0) {
        addReplyInteger(r, 0);
    } else {
        uint64_t seq = collDot();
        if (!v->more && v->complete) collBatchDel(&b, v, seq);
        else collBatchTouch(&b, v, KT_HASH, seq);
        writeThen(r, &b, PR_INT, deleted, NULL);
    }
    collBatchFree(&b);
}

static void hdelCommand(request *r) {
    readNamed(r, COLL_READ_NAMED, 2, 1, hdelAfterRead, NULL);
}

/* ---------------------------------------------- HINCRBY HINCRBYFLOAT */

/* HINCRBY key field increment: the increment is checked first (Redis
 * replies "not an integer" before it looks at the key), then the field:
 * hashDeltaIncrBy checks the value as Redis does and gives the reply. */
static void hincrbyAfterRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (readFailed(r, v, err)) return;
    long long inc, result;
    string2ll(r->argv[3], r->argvlen[3], &inc); /* checked by the handler */
    uint64_t seq = collDot();
    field d;
    fieldInit(&d);
    int rc = hashDeltaIncrBy(&d, fieldOf(v, r->argv[2], r->argvlen[2]), &v->kr, server.actor,
                             seq, inc, &result);
    if (rc != NUMERR_OK) {
        addReplyError(r, numErrText(rc));
    } else {
        collBatch b;
        collBatchInit(&b);
        collBatchTouch(&b, v, KT_HASH, seq);
        collBatchField(&b, r->argv[2], r->argvlen[2], &d);
        writeThen(r, &b, PR_INT, result, NULL);
        collBatchFree(&b);
    }
    fieldFree(&d);
}

static void hincrbyCommand(request *r) {
    long long inc;
    if (getLongLongFromArg(r, 3, &inc, NULL) != C_OK) return;
    readFields(r, 2, 1, hincrbyAfterRead, NULL);
}

/* HINCRBYFLOAT key field increment: a NaN or infinite increment is refused
 * before the key is read, as in Redis; the reply is the value as a read
 * then shows it (number.h: "%.17Lf" without trailing zeros). */
static void hincrbyfloatAfterRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (readFailed(r, v, err)) return;
    long double inc;
    string2ld(r->argv[3], r->argvlen[3], &inc); /* checked by the handler */
    uint64_t seq = collDot();
    field d;
    fieldInit(&d);
    buf out;
    bufInit(&out);
    int rc = hashDeltaIncrByFloat(&d, fieldOf(v, r->argv[2], r->argvlen[2]), &v->kr,
                                  server.actor, seq, inc, &out);
    if (rc != NUMERR_OK) {
        addReplyError(r, numErrText(rc));
    } else {
        collBatch b;
        collBatchInit(&b);
        collBatchTouch(&b, v, KT_HASH, seq);
        collBatchField(&b, r->argv[2], r->argvlen[2], &d);
        writeThen(r, &b, PR_BULK, 0, &out);
        collBatchFree(&b);
    }
    bufFree(&out);
    fieldFree(&d);
}

static void hincrbyfloatCommand(request *r) {
    long double inc;
    if (getLongDoubleFromArg(r, 3, &inc, NULL) != C_OK) return;
    if (isnan(inc) || isinf(inc)) {
        addReplyError(r, ERR_NANINF_ARG);
        return;
    }
    readFields(r, 2, 1, hincrbyfloatAfterRead, NULL);
}

/* ------------------------------------- HGET HMGET HEXISTS HSTRLEN */

#define NAMED_HGET 0
#define NAMED_HMGET 1
#define NAMED_HEXISTS 2
#define NAMED_HSTRLEN 3

/* The reads of named fields: HGET key field (bulk or null), HMGET key
 * field [field ...] (one per field), HEXISTS key field (0/1), HSTRLEN key
 * field (the length of what HGET shows, 0 when absent). */
static void namedAfterRead(request *r, const collView *v, const char *err, void *pd) {
    int what = (int)(intptr_t)pd;
    if (readFailed(r, v, err)) return;
    buf t;
    bufInit(&t);
    if (what == NAMED_HMGET) addReplyArrayLen(r, r->argc - 2);
    for (int j = 2; j < r->argc; j++) {
        int kind = readField(v, r->argv[j], r->argvlen[j], &t);
        switch (what) {
        case NAMED_HGET:
        case NAMED_HMGET:
            if (kind == NUM_ABSENT) addReplyNull(r);
            else addReplyBulk(r, t.ptr ? t.ptr : "", t.len);
            break;
        case NAMED_HEXISTS: addReplyInteger(r, kind != NUM_ABSENT); break;
        case NAMED_HSTRLEN: addReplyInteger(r, (long long)t.len); break;
        }
    }
    bufFree(&t);
}

static void hgetCommand(request *r) {
    readFields(r, 2, 1, namedAfterRead, (void *)(intptr_t)NAMED_HGET);
}
static void hmgetCommand(request *r) {
    readFields(r, 2, 1, namedAfterRead, (void *)(intptr_t)NAMED_HMGET);
}
static void hexistsCommand(request *r) {
    readFields(r, 2, 1, namedAfterRead, (void *)(intptr_t)NAMED_HEXISTS);
}
static void hstrlenCommand(request *r) {
    readFields(r, 2, 1, namedAfterRead, (void *)(intptr_t)NAMED_HSTRLEN);
}

/* ---------------------------------------- HLEN HKEYS HVALS HGETALL */

#define ALL_KEYS 1
#define ALL_VALS 2

static void hlenAfterRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (readFailed(r, v, err)) return;
    addReplyInteger(r, collLiveCount(v));
}

/* (from the replicas' figures when they agree: collCount) */
static void hlenCommand(request *r) {
    collCount(r, r->db, r->argv[1], r->argvlen[1], KT_HASH, hlenAfterRead, NULL);
}

/* HKEYS, HVALS (arrays) and HGETALL (a map: RESP3 says so, RESP2 flattens
 * it), fields in byte order. */
static void getallAfterRead(request *r, const collView *v, const char *err, void *pd) {
    int what = (int)(intptr_t)pd;
    if (readFailed(r, v, err)) return;
    int *idx;
    int n = liveFields(v, &idx);
    if (what == (ALL_KEYS | ALL_VALS)) addReplyMapLen(r, n);
    else addReplyArrayLen(r, n);
    buf t;
    bufInit(&t);
    for (int k = 0; k < n; k++) {
        const collElem *e = &v->el[idx[k]];
        if (what & ALL_KEYS) addReplyBulk(r, e->name, e->len);
        if (what & ALL_VALS) replyValue(r, v, e, &t);
    }
    bufFree(&t);
    zfree(idx);
}

static void hkeysCommand(request *r) { readAll(r, getallAfterRead, (void *)(intptr_t)ALL_KEYS); }
static void hvalsCommand(request *r) { readAll(r, getallAfterRead, (void *)(intptr_t)ALL_VALS); }
static void hgetallCommand(request *r) {
    readAll(r, getallAfterRead, (void *)(intptr_t)(ALL_KEYS | ALL_VALS));
}

/* ---------------------------------------------------------- HRANDFIELD */

typedef struct hrandState {
    int withcount;   /* a count was given: an array reply, even when empty */
    long count;      /* < 0: that many, repeats allowed */
    int withvalues;  /* WITHVALUES */
} hrandState;

/* One field of HRANDFIELD's reply: [field, value] as a pair in RESP3, the
 * two flattened in RESP2, the field alone without WITHVALUES. */
static void hrandReplyOne(request *r, const collView *v, const collElem *e, int withvalues,
                          buf *t) {
    if (withvalues && r->proto > 2) addReplyArrayLen(r, 2);
    addReplyBulk(r, e->name, e->len);
    if (withvalues) replyValue(r, v, e, t);
}

/* HRANDFIELD key [count [WITHVALUES]]:
 *   no count: one random field, null when the key is absent;
 *   count 0 (or an absent key): an empty array;
 *   count < 0: -count fields drawn independently (repeats);
 *   count >= the hash's length: every field;
 *   otherwise: count distinct fields (a partial Fisher-Yates shuffle). */
static void hrandfieldAfterRead(request *r, const collView *v, const char *err, void *pd) {
    hrandState *s = pd;
    if (readFailed(r, v, err)) return;
    int *idx;
    int n = liveFields(v, &idx);
    uint64_t rng = rngSeed();
    buf t;
    bufInit(&t);
    if (!s->withcount) {
        if (n == 0) addReplyNull(r);
        else hrandReplyOne(r, v, &v->el[idx[rngNext(&rng) % (uint64_t)n]], 0, &t);
    } else if (n == 0 || s->count == 0) {
        addReplyArrayLen(r, 0);
    } else if (s->count < 0 || s->count == 1) {
        /* count >= -LONG_MAX (checked), so its negation fits */
        unsigned long c = s->count < 0 ? (unsigned long)-s->count : 1;
        long long len = (long long)c;
        addReplyArrayLen(r, s->withvalues && r->proto == 2 ? len * 2 : len);
        for (unsigned long k = 0; k < c; k++) {
            const collElem *e = &v->el[idx[rngNext(&rng) % (uint64_t)n]];
            hrandReplyOne(r, v, e, s->withvalues, &t);
            /* as Redis: a reply past the client's hard output limit stops
             * here (the connection is closed for it), so HRANDFIELD h
             * -9223372036854775807 cannot take the server's memory */
            if ((k & 1023) == 1023 && server.obuf_hard &&
                evbuffer_get_length(r->out) > (size_t)server.obuf_hard)
                break;
        }
    } else {
        int take = s->count >= n ? n : (int)s->count;
        addReplyArrayLen(r, s->withvalues && r->proto == 2 ? 2LL * take : take);
        for (int k = 0; k < take; k++) {
            if (take < n) { /* the first k places hold the fields drawn so far */
                int j = k + (int)(rngNext(&rng) % (uint64_t)(n - k));
                int x = idx[k];
                idx[k] = idx[j];
                idx[j] = x;
            }
            hrandReplyOne(r, v, &v->el[idx[k]], s->withvalues, &t);
        }
    }
    bufFree(&t);
    zfree(idx);
}

static void hrandfieldCommand(request *r) {
    hrandState *s = requestState(r, sizeof(*s));
    if (r->argc >= 3) {
        long long l;
        if (getLongLongFromArg(r, 2, &l, NULL) != C_OK) return;
        if (l < -LONG_MAX) {
            addReplyErrorFormat(r, "value is out of range, value must between %ld and %ld",
                                -LONG_MAX, LONG_MAX);
            return;
        }
        if (r->argc > 4 || (r->argc == 4 && !argIs(r, 3, "withvalues"))) {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
        if (r->argc == 4) {
            s->withvalues = 1;
            if (l < -LONG_MAX / 2 || l > LONG_MAX / 2) {
                addReplyError(r, "value is out of range");
                return;
            }
        }
        s->withcount = 1;
        s->count = (long)l;
    }
    readAll(r, hrandfieldAfterRead, s);
}

/* --------------------------------------------------------------- HSCAN */

/* A field's place in HSCAN's order: its hash, never 0 (cursor 0 starts). */
static uint64_t scanKey(const collElem *e) {
    uint64_t h = XXH3_64bits(e->name, e->len);
    return h ? h : 1;
}

typedef struct scanItem {
    uint64_t key; /* scanKey */
    int i;        /* index into v->el */
} scanItem;

static int scanItemCmp(const void *a, const void *b) {
    const scanItem *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : (x->i > y->i);
}

/* HSCAN key cursor [MATCH pattern] [COUNT count]: the options are parsed
 * after the key's lookup, as in Redis (an absent key answers an empty scan
 * whatever follows the cursor). COUNT fields are visited from the cursor
 * on, MATCH filters them by name. */
static void hscanAfterRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (readFailed(r, v, err)) return;
    if (collTypeOf(v) < 0) { /* an absent key: Redis's empty scan, options unread */
        addReplyArrayLen(r, 2);
        addReplyBulk(r, "0", 1);
        addReplyArrayLen(r, 0);
        return;
    }
    unsigned long long cursor;
    string2ull(r->argv[2], r->argvlen[2], &cursor); /* checked by the handler */
    long long count = 10;
    const char *pat = NULL;
    int patlen = 0;
    for (int i = 3; i < r->argc; i += 2) {
        int more = r->argc - i >= 2;
        if (more && argIs(r, i, "count")) {
            if (getLongLongFromArg(r, i + 1, &count, NULL) != C_OK) return;
            if (count < 1) {
                addReplyError(r, ERR_SYNTAX);
                return;
            }
        } else if (more && argIs(r, i, "match")) {
            pat = r->argv[i + 1];
            patlen = (int)r->argvlen[i + 1];
            if (patlen == 1 && pat[0] == '*') pat = NULL; /* matches everything */
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    int *idx;
    int n = liveFields(v, &idx);
    scanItem *it = zmalloc(sizeof(scanItem) * (size_t)(n ? n : 1));
    int m = 0;
    for (int k = 0; k < n; k++) {
        uint64_t key = scanKey(&v->el[idx[k]]);
        if (key >= cursor) it[m++] = (scanItem){key, idx[k]};
    }
    zfree(idx);
    qsort(it, (size_t)m, sizeof(scanItem), scanItemCmp);
    /* this page: count fields, and those whose hash equals the last one's */
    int end = m;
    if ((long long)m > count) {
        end = (int)count;
        while (end < m && it[end].key == it[end - 1].key) end++;
    }
    int *out = zmalloc(sizeof(int) * (size_t)(end ? end : 1));
    int nout = 0;
    for (int k = 0; k < end; k++) {
        const collElem *e = &v->el[it[k].i];
        if (pat && !stringmatchlen(pat, patlen, e->name, (int)e->len, 0)) continue;
        out[nout++] = it[k].i;
    }
    /* the next cursor: the hash of the next field, or 0 at the end */
    char cbuf[32];
    unsigned long long next = end < m ? (unsigned long long)it[end].key : 0;
    int clen = snprintf(cbuf, sizeof(cbuf), "%llu", next);
    addReplyArrayLen(r, 2);
    addReplyBulk(r, cbuf, (size_t)clen);
    addReplyArrayLen(r, (long long)nout * 2);
    buf t;
    bufInit(&t);
    for (int k = 0; k < nout; k++) {
        const collElem *e = &v->el[out[k]];
        addReplyBulk(r, e->name, e->len);
        replyValue(r, v, e, &t);
    }
    bufFree(&t);
    zfree(out);
    zfree(it);
}

static void hscanCommand(request *r) {
    unsigned long long cursor;
    if (!string2ull(r->argv[2], r->argvlen[2], &cursor)) {
        addReplyError(r, "invalid cursor");
        return;
    }
    readAll(r, hscanAfterRead, NULL);
}

/* ---------------------------------------------------------------- table */

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST

command hashCommandTable[] = {
    {"hset", hsetCommand, -4, W | F, 1, 1, 1, "hash", "2.0.0", "Set the string value of a hash field", "key field value [field value ...]", 0, 0, 0, 0},
    {"hsetnx", hsetnxCommand, 4, W | F, 1, 1, 1, "hash", "2.0.0", "Set the value of a hash field, only if the field does not exist", "key field value", 0, 0, 0, 0},
    {"hmset", hmsetCommand, -4, W | F, 1, 1, 1, "hash", "2.0.0", "Set multiple hash fields to multiple values", "key field value [field value ...]", 0, 0, 0, 0},
    {"hget", hgetCommand, 3, R | F, 1, 1, 1, "hash", "2.0.0", "Get the value of a hash field", "key field", 0, 0, 0, 0},
    {"hmget", hmgetCommand, -3, R | F, 1, 1, 1, "hash", "2.0.0", "Get the values of all the given hash fields", "key field [field ...]", 0, 0, 0, 0},
    {"hdel", hdelCommand, -3, W | F, 1, 1, 1, "hash", "2.0.0", "Delete one or more hash fields", "key field [field ...]", 0, 0, 0, 0},
    {"hexists", hexistsCommand, 3, R | F, 1, 1, 1, "hash", "2.0.0", "Determine if a hash field exists", "key field", 0, 0, 0, 0},
    {"hlen", hlenCommand, 2, R | F, 1, 1, 1, "hash", "2.0.0", "Get the number of fields in a hash", "key", 0, 0, 0, 0},
    {"hstrlen", hstrlenCommand, 3, R | F, 1, 1, 1, "hash", "3.2.0", "Get the length of the value of a hash field", "key field", 0, 0, 0, 0},
    {"hkeys", hkeysCommand, 2, R, 1, 1, 1, "hash", "2.0.0", "Get all the fields in a hash", "key", 0, 0, 0, 0},
    {"hvals", hvalsCommand, 2, R, 1, 1, 1, "hash", "2.0.0", "Get all the values in a hash", "key", 0, 0, 0, 0},
    {"hgetall", hgetallCommand, 2, R, 1, 1, 1, "hash", "2.0.0", "Get all the fields and values in a hash", "key", 0, 0, 0, 0},
    {"hincrby", hincrbyCommand, 4, W | F, 1, 1, 1, "hash", "2.0.0", "Increment the integer value of a hash field by the given number", "key field increment", 0, 0, 0, 0},
    {"hincrbyfloat", hincrbyfloatCommand, 4, W | F, 1, 1, 1, "hash", "2.6.0", "Increment the float value of a hash field by the given amount", "key field increment", 0, 0, 0, 0},
    {"hrandfield", hrandfieldCommand, -2, R, 1, 1, 1, "hash", "6.2.0", "Get one or multiple random fields from a hash", "key [count [WITHVALUES]]", 0, 0, 0, 0},
    {"hscan", hscanCommand, -3, R, 1, 1, 1, "hash", "2.8.0", "Incrementally iterate hash fields and associated values", "key cursor [MATCH pattern] [COUNT count]", 0, 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};
