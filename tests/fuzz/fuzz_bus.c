/* fuzz_bus.c -- libFuzzer target for what decodes bytes from cluster peers.
 *
 * Byte 0 bit 0 chooses the part; the rest is the part's input.
 *
 * (a) + (c), bit 0 clear: bytes 1-2 are a cut point, the rest a byte stream
 *   a peer sends on a bus connection, fed in two chunks to the reader
 *   bus.c uses (busreader.c: hiredis's parser with our reply objects and
 *   its cap on arrays) as bus.c does (redisReaderFeed, then
 *   redisReaderGetReply until it has nothing; an error closes the
 *   connection). Every reply is walked (types known, strings NUL-terminated
 *   at len, ASan sees every byte read) and freed with busFreeReply. Then
 *   each message goes where bus.c sends it:
 *     - as an inbound request on a connection past HELLO and AUTH
 *       (dispatch): an array of two or more strings;
 *       "GOSSIP" goes to gossip.c's real gossipHandler, which must answer
 *       exactly once, with a table that merges back without error;
 *     - as the answer to our request (linkRead): ["REPLY", id, status,
 *       values...]; it goes to gossip.c's real gossipReplied, and its values
 *       to the decoders aae.c and read.c apply to element[3] and [4]
 *       (merkleKeyListDecode, recordDecode), without checking their types,
 *       as those callers do.
 *   gossip.c is included here whole (its mergeTable, the table line parser,
 *   is static and works on the membership table), with stubs below for the
 *   shell it calls (bus, store, log, replies): nothing is extracted or
 *   changed in it. Each input starts from a fresh table holding only this
 *   node. A function gossip.c starts calling later needs a stub here (the
 *   link of this target says "undefined reference").
 *
 * (b), bit 0 set: bytes 1-2 cut the rest into two Merkle key lists (a
 *   peer's answer to an AAE bucket request). merkleKeyListDecode must keep
 *   keys inside the input; re-encoding is a fixpoint; merkleDiffKeys
 *   reports nothing for a list against itself, is symmetric, and on two
 *   sorted lists reports exactly what a naive comparison finds. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip.c" /* src/ is on the include path */
#include "busreader.h"
#include "merkle.h"
#include "record.h"

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz_bus: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                \
        }                                                                           \
    } while (0)

/* ------------------------------------------------------------- stubs */

static unsigned long long sink; /* keeps reads of bytes from being optimized out */

static int answers;      /* busReply* calls for the request being handled */
static buf answerTable;  /* the table gossipHandler answered with */

void serverLog(int level, const char *fmt, ...) {
    /* format it anyway: ASan then checks every %s argument */
    char b[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof(b), fmt, ap);
    va_end(ap);
    UNUSED(level);
}

int storeGet(int cf, const char *key, size_t klen, storeValue *v) {
    UNUSED(cf);
    UNUSED(key);
    UNUSED(klen);
    UNUSED(v);
    return 0;
}

void storeValueFree(storeValue *v) { UNUSED(v); }

void storePut(int cf, const char *key, size_t klen, const char *val, size_t vlen) {
    UNUSED(cf);
    CHECK(memchr(key, 0, klen) == NULL);
    for (size_t i = 0; i < vlen; i++) sink += (unsigned char)val[i];
}

static char fakeLink; /* busLink is opaque: gossip.c only keeps the pointer */
busLink *busLinkGet(const char *host, int busport) {
    CHECK(host && host[0]);
    UNUSED(busport);
    return (busLink *)&fakeLink;
}
void busLinkKick(busLink *l) { UNUSED(l); }
int busLinkUsable(const busLink *l) {
    UNUSED(l);
    return 1;
}
int busLinkConnected(const busLink *l) {
    UNUSED(l);
    return 1;
}
void busRegister(const char *name, busHandler *h) {
    UNUSED(name);
    UNUSED(h);
}
void busSend(busLink *l, int argc, const char **argv, const size_t *lens, busReplyCb *cb, void *pd,
             long long timeout_ms) {
    UNUSED(l);
    UNUSED(argc);
    UNUSED(argv);
    UNUSED(lens);
    UNUSED(cb);
    UNUSED(timeout_ms);
    zfree(pd); /* the real one hands pd to cb, which frees it */
}
void busReplyError(busReq *req, const char *err) {
    UNUSED(req);
    CHECK(err && err[0]);
    answers++;
}
void busReplyArgs(busReq *req, int argc, const char **argv, const size_t *lens) {
    UNUSED(req);
    answers++;
    if (argc >= 2) {
        bufClear(&answerTable);
        bufAppend(&answerTable, argv[1], lens[1]);
    }
}

/* ----------------------------------------------------- the membership */

#define SELF_ID "a3f1c0de00000000000000000000000000000001"
#define SEED_ADDR "127.0.0.9:16379"

/* A fresh table: only this node, one seed not yet answered. */
static void gossipReset(void) {
    for (int i = 0; i < g.n; i++) {
        zfree(g.m[i].reporters);
        zfree(g.m[i].report_ms);
    }
    zfree(g.m);
    if (g.fut && g.fut != g.ring) ringFree(g.fut);
    ringFree(g.ring);
    zfree(g.ringmap);
    zfree(g.futmap);
    for (int i = 0; i < g.nseeds; i++) zfree(g.seeds[i]);
    zfree(g.seeds);
    memset(&g, 0, sizeof(g));

    snprintf(server.node_id, sizeof(server.node_id), "%s", SELF_ID);
    server.qbits = 3; /* 8 partitions: the smallest ring-partitions */
    char err[128];
    CHECK(ringParseReplication("2", g.spec, &g.nspec, err, sizeof(err)) == 0);
    member *self = add(SELF_ID);
    snprintf(self->host, sizeof(self->host), "127.0.0.1");
    self->port = 6379;
    self->busport = 16379;
    snprintf(self->dc, sizeof(self->dc), "dc1");
    snprintf(self->rack, sizeof(self->rack), "r1");
    self->weight = 4;
    self->generation = 1;
    self->status = MEMBER_NORMAL;
    self->status_ver = 1;
    addSeed("127.0.0.9", 16379);
    g.dirty = 1;
    applyChanges();
}

/* ------------------------------------------------------- (a) and (c) */

/* Callers (aae.c, read.c, clusterops.c, handoff.c) read ->len of any element, and ->str
 * only when len says there are bytes: safe only while non-strings have
 * len 0, which this checks. */
static void walkReply(const redisReply *r, int depth) {
    CHECK(r != NULL && depth < 16);
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        CHECK(r->str != NULL && r->str[r->len] == '\0');
        for (size_t i = 0; i < r->len; i++) sink += (unsigned char)r->str[i];
        break;
    case REDIS_REPLY_ARRAY:
        CHECK(r->len == 0 && (r->elements == 0 || r->element != NULL));
        for (size_t i = 0; i < r->elements; i++) walkReply(r->element[i], depth + 1);
        break;
    case REDIS_REPLY_INTEGER:
    case REDIS_REPLY_NIL:
        CHECK(r->len == 0);
        break;
    default:
        CHECK(!"unknown reply type");
    }
}

/* What bus.c's dispatch does with an inbound message, for the requests
 * whose handler is here (GOSSIP). */
static void asRequest(redisReply *msg) {
    if (msg->type != REDIS_REPLY_ARRAY || msg->elements < 2) return;
    for (size_t i = 0; i < msg->elements; i++)
        if (msg->element[i]->type != REDIS_REPLY_STRING) return;
    busReq r;
    memset(&r, 0, sizeof(r));
    r.msg = msg;
    r.argc = (int)msg->elements;
    const char **argv = zmalloc(sizeof(char *) * msg->elements);
    size_t *lens = zmalloc(sizeof(size_t) * msg->elements);
    for (size_t i = 0; i < msg->elements; i++) {
        argv[i] = msg->element[i]->str;
        lens[i] = msg->element[i]->len;
    }
    r.argv = argv;
    r.lens = lens;
    memcpy(r.peer_id, "b000000000000000000000000000000000000002", 41);
    if (!strcmp(argv[0], "GOSSIP")) {
        answers = 0;
        bufClear(&answerTable);
        gossipHandler(&r);
        CHECK(answers == 1);
        /* what we answer, a peer must be able to merge */
        if (answerTable.len)
            CHECK(mergeTable("c000000000000000000000000000000000000003", answerTable.ptr,
                             answerTable.len) == C_OK);
        applyChanges();
    }
    zfree(argv);
    zfree(lens);
}

/* What bus.c's linkRead does with a message on an outbound link, then the
 * callbacks: gossip's, and the decoders other callbacks apply. */
static void asReply(redisReply *rep) {
    if (!(rep->type == REDIS_REPLY_ARRAY && rep->elements >= 3 &&
          rep->element[0]->type == REDIS_REPLY_STRING && !strcmp(rep->element[0]->str, "REPLY") &&
          rep->element[1]->type == REDIS_REPLY_STRING))
        return;
    const char *status = rep->element[2]->str;
    int ok = status && !strcmp(status, "OK");
    busResult res = {ok ? BUS_OK : BUS_REMOTE, ok ? rep : NULL, "", ok ? "" : status ? status : "error"};
    gossipReplied(&res, zstrdup(SEED_ADDR));
    if (!ok) return;
    if (rep->elements >= 4) {
        merkleKey *keys = NULL;
        long n = merkleKeyListDecode(rep->element[3]->str, rep->element[3]->len, &keys);
        CHECK(n >= -1);
        zfree(keys);
    }
    if (rep->elements >= 5) {
        record rec;
        recordInit(&rec);
        if (recordDecode(&rec, rep->element[4]->str, rep->element[4]->len) == C_OK)
            sink += recordDigest(&rec);
        recordFree(&rec);
    }
}

static void fuzzStream(const char *data, size_t len, size_t cut) {
    gossipReset();
    redisReader *rd = busReaderCreate(); /* bus.c's reader */
    size_t from = 0;
    for (int c = 0; c < 2; c++) {
        size_t to = c == 0 ? cut : len;
        /* an exact copy of the chunk: hiredis copies it into its buffer */
        char *chunk = malloc(to - from + 1);
        memcpy(chunk, data + from, to - from);
        int frc = redisReaderFeed(rd, chunk, to - from);
        free(chunk);
        from = to;
        if (frc != REDIS_OK) break;
        int closed = 0;
        for (;;) {
            void *m = NULL;
            if (redisReaderGetReply(rd, &m) != REDIS_OK) {
                CHECK(rd->err != 0 && rd->errstr[0] != '\0');
                closed = 1;
                break;
            }
            if (!m) break;
            redisReply *rep = m;
            walkReply(rep, 0);
            asRequest(rep);
            asReply(rep);
            busFreeReply(rep);
        }
        if (closed) break;
    }
    redisReaderFree(rd);
}

/* ---------------------------------------------------------------- (b) */

typedef struct diffCount {
    long calls;  /* fn calls */
    long both;   /* calls with both sides */
} diffCount;

static void countDiff(const merkleKey *mine, const merkleKey *theirs, void *pd) {
    diffCount *d = pd;
    CHECK(mine || theirs);
    if (mine && theirs) {
        CHECK(mine->sklen == theirs->sklen && !memcmp(mine->skey, theirs->skey, mine->sklen));
        CHECK(mine->entry != theirs->entry);
        d->both++;
    }
    d->calls++;
}

static int keyCmpNaive(const merkleKey *a, const merkleKey *b) {
    size_t l = a->sklen < b->sklen ? a->sklen : b->sklen;
    int c = l ? memcmp(a->skey, b->skey, l) : 0;
    if (c) return c;
    return a->sklen < b->sklen ? -1 : a->sklen > b->sklen;
}

static int sortedUnique(const merkleKey *k, long n) {
    for (long i = 1; i < n; i++)
        if (keyCmpNaive(&k[i - 1], &k[i]) >= 0) return 0;
    return 1;
}

/* Decodes one list, checks it, returns the count (-1 if malformed). */
static long decodeList(const char *p, size_t len, merkleKey **keys) {
    long n = merkleKeyListDecode(p, len, keys);
    if (n < 0) {
        CHECK(*keys == NULL);
        return n;
    }
    buf e, e2;
    bufInit(&e);
    bufInit(&e2);
    for (long i = 0; i < n; i++) {
        const merkleKey *k = &(*keys)[i];
        CHECK(k->skey >= p && k->sklen <= len && (size_t)(k->skey - p) <= len - k->sklen);
        merkleKeyListAdd(&e, k->skey, k->sklen, k->entry);
    }
    CHECK(e.len <= len);
    if (e.len == len && len) CHECK(!memcmp(e.ptr, p, len));
    merkleKey *k2 = NULL;
    CHECK(merkleKeyListDecode(e.ptr ? e.ptr : "", e.len, &k2) == n);
    for (long i = 0; i < n; i++) {
        CHECK(k2[i].sklen == (*keys)[i].sklen && k2[i].entry == (*keys)[i].entry);
        CHECK(!k2[i].sklen || !memcmp(k2[i].skey, (*keys)[i].skey, k2[i].sklen));
        merkleKeyListAdd(&e2, k2[i].skey, k2[i].sklen, k2[i].entry);
    }
    CHECK(e.len == e2.len && (!e.len || !memcmp(e.ptr, e2.ptr, e.len)));
    zfree(k2);
    bufFree(&e);
    bufFree(&e2);
    return n;
}

static void fuzzKeyLists(const char *data, size_t len, size_t cut) {
    char *a = malloc(cut + 1), *b = malloc(len - cut + 1);
    memcpy(a, data, cut);
    memcpy(b, data + cut, len - cut);
    merkleKey *ka = NULL, *kb = NULL;
    long na = decodeList(a, cut, &ka), nb = decodeList(b, len - cut, &kb);
    if (na >= 0) {
        diffCount self = {0, 0};
        merkleDiffKeys(ka, na, ka, na, countDiff, &self);
        CHECK(self.calls == 0);
    }
    if (na >= 0 && nb >= 0) {
        diffCount ab = {0, 0}, ba = {0, 0};
        merkleDiffKeys(ka, na, kb, nb, countDiff, &ab);
        merkleDiffKeys(kb, nb, ka, na, countDiff, &ba);
        CHECK(ab.calls == ba.calls && ab.both == ba.both);
        if (sortedUnique(ka, na) && sortedUnique(kb, nb)) {
            long want = 0, wantBoth = 0;
            for (long i = 0; i < na; i++) {
                long j = 0;
                while (j < nb && keyCmpNaive(&ka[i], &kb[j])) j++;
                if (j == nb) want++;
                else if (ka[i].entry != kb[j].entry) want++, wantBoth++;
            }
            for (long j = 0; j < nb; j++) {
                long i = 0;
                while (i < na && keyCmpNaive(&ka[i], &kb[j])) i++;
                if (i == na) want++;
            }
            CHECK(ab.calls == want && ab.both == wantBoth);
        }
    }
    /* two leaf arrays, as aae.c compares them (an answer of exactly 2 KB) */
    if (len >= 2 * sizeof(((merkle *)0)->leaf)) {
        merkle x, y;
        memcpy(x.leaf, data, sizeof(x.leaf));
        memcpy(y.leaf, data + sizeof(x.leaf), sizeof(y.leaf));
        unsigned out[MERKLE_LEAVES];
        int n = merkleDiffLeaves(x.leaf, y.leaf, out);
        CHECK(n >= 0 && n <= MERKLE_LEAVES);
        if (n == 0) CHECK(merkleRoot(&x) == merkleRoot(&y));
    }
    zfree(ka);
    zfree(kb);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
    if (size < 3) return 0;
    size_t cut = (size_t)in[1] | (size_t)in[2] << 8;
    const char *data = (const char *)in + 3;
    size_t len = size - 3;
    cut %= len + 1;
    if (in[0] & 1) fuzzKeyLists(data, len, cut);
    else fuzzStream(data, len, cut);
    return 0;
}
