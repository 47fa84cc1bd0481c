/* fuzz_resp.c -- libFuzzer target for the RESP request parser (resp.c), the
 * first code every client byte goes through.
 *
 * Input layout: byte 0 chooses the options, bytes 1-4 two cut points, the
 * rest is the byte stream a client sends. The stream is parsed the way
 * client.c feeds it: the buffer handed to respParse always starts at the
 * current request's first byte and grows as chunks arrive; on RESP_OK the
 * request's p->consumed bytes are dropped and the parser reset; RESP_ERR
 * ends the connection. Each chunk arrival copies the received bytes into a
 * fresh allocation of exactly that size (the old one is freed), so ASan
 * reports any read past what has arrived and any pointer the parser kept
 * across calls.
 *
 * Checked for every stream, authenticated and not:
 *   - RESP_OK: 0 < consumed <= bytes available; every argument lies inside
 *     the consumed bytes (multibulk: followed by its two CRLF bytes) or
 *     inside p->inl (inline); multibulk argc == the announced count; the
 *     unauthenticated limits (10 arguments, 16 KB bulks) and max_bulk hold;
 *   - RESP_NEED_MORE: p->pos <= bytes available, and a pending bulk really
 *     needs more bytes than there are;
 *   - RESP_ERR: a non-empty "Protocol error..." text;
 *   - the stream parsed whole and parsed in three chunks gives the same
 *     commands, the same final state and the same error text.
 * Byte 0 bits 0-2 choose proto-max-bulk-len. Bits 3, 6 and 7 all set pad
 * the stream past RESP_INLINE_MAX with a byte chosen by bits 4-5, to reach
 * the "too big" errors; those depend on how much has arrived (as in Redis),
 * so that mode checks the per-call invariants but not whole == split. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz_resp: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* What a stream turned into: the commands serialized as
 * "argc\n" + per argument "len:" bytes, so two outcomes compare as bytes. */
typedef struct outcome {
    buf cmds;       /* serialized commands, owned */
    int ncmds;      /* commands parsed */
    int rc;         /* the last respParse result: RESP_NEED_MORE or RESP_ERR */
    char err[128];  /* the error text when rc == RESP_ERR */
    size_t left;    /* bytes received but not consumed by a complete request */
} outcome;

static void checkOk(const respParser *p, const char *b, size_t avail, const respLimits *lim) {
    CHECK(p->consumed > 0 && p->consumed <= avail);
    CHECK(p->argc >= 0);
    if (p->argc) CHECK(p->args != NULL);
    if (p->isinline) {
        CHECK(b[0] != '*');
        CHECK(b[p->consumed - 1] == '\n');
        for (int i = 0; i < p->argc; i++)
            CHECK(p->args[i].off <= p->inl.len && p->args[i].len <= p->inl.len - p->args[i].off);
        return;
    }
    CHECK(b[0] == '*');
    CHECK(p->argc == p->mbtotal);
    if (!lim->authenticated) CHECK(p->argc <= 10);
    size_t prev = 0;
    for (int i = 0; i < p->argc; i++) {
        const respArg *a = &p->args[i];
        CHECK(a->off >= prev); /* in order, not overlapping */
        CHECK(a->off <= p->consumed && a->len <= p->consumed - a->off);
        CHECK(p->consumed - a->off - a->len >= 2); /* its CRLF is consumed too */
        CHECK((long long)a->len <= lim->max_bulk);
        if (!lim->authenticated) CHECK(a->len <= 16384);
        CHECK(a->off >= 4 && b[a->off - 2] == '\r'); /* right after "$len\r\n" */
        prev = a->off + a->len;
    }
}

static void recordCmd(outcome *o, const respParser *p, const char *b) {
    char h[32];
    int l = snprintf(h, sizeof(h), "%d\n", p->argc);
    bufAppend(&o->cmds, h, (size_t)l);
    for (int i = 0; i < p->argc; i++) {
        l = snprintf(h, sizeof(h), "%zu:", p->args[i].len);
        bufAppend(&o->cmds, h, (size_t)l);
        bufAppend(&o->cmds, respArgPtr(p, b, i), p->args[i].len);
    }
    o->ncmds++;
}

/* Feeds data[0..size) cut at cuts[0..ncuts) (ascending, <= size). */
static void run(const char *data, size_t size, const size_t *cuts, int ncuts,
                const respLimits *lim, outcome *o) {
    respParser p;
    respParserInit(&p);
    bufInit(&o->cmds);
    o->ncmds = 0;
    o->rc = RESP_NEED_MORE;
    o->err[0] = '\0';
    char *rx = NULL;  /* exactly the bytes received and not yet dropped */
    size_t rxlen = 0, pos = 0, from = 0;
    for (int c = 0; c <= ncuts && o->rc != RESP_ERR; c++) {
        size_t to = c < ncuts ? cuts[c] : size;
        /* a new allocation of exactly the unconsumed bytes plus the chunk */
        char *nrx = malloc(rxlen - pos + (to - from) + 1);
        if (rx) memcpy(nrx, rx + pos, rxlen - pos);
        memcpy(nrx + (rxlen - pos), data + from, to - from);
        rxlen = rxlen - pos + (to - from);
        pos = 0;
        free(rx);
        rx = nrx;
        from = to;
        for (;;) {
            size_t avail = rxlen - pos;
            const char *b = rx + pos;
            int rc = respParse(&p, b, avail, lim);
            o->rc = rc;
            if (rc == RESP_NEED_MORE) {
                CHECK(p.pos <= avail);
                size_t want = respPendingBulk(&p);
                if (want) CHECK(want > avail - p.pos);
                break;
            }
            if (rc == RESP_ERR) {
                CHECK(p.err != NULL && p.err[0] != '\0');
                CHECK(!strncmp(p.err, "Protocol error", 14));
                snprintf(o->err, sizeof(o->err), "%s", p.err);
                break;
            }
            CHECK(rc == RESP_OK);
            checkOk(&p, b, avail, lim);
            recordCmd(o, &p, b);
            pos += p.consumed;
            respParserReset(&p);
        }
    }
    o->left = rxlen - pos;
    free(rx);
    respParserFree(&p);
}

static void compare(const outcome *a, const outcome *b) {
    CHECK(a->ncmds == b->ncmds);
    CHECK(a->cmds.len == b->cmds.len);
    CHECK(a->cmds.len == 0 || !memcmp(a->cmds.ptr, b->cmds.ptr, a->cmds.len));
    CHECK(a->rc == b->rc);
    CHECK(!strcmp(a->err, b->err));
    if (a->rc == RESP_NEED_MORE) CHECK(a->left == b->left);
}

/* proto-max-bulk-len values: the default, and small ones to reach the
 * limit with small inputs. */
static const long long maxBulks[8] = {512LL * 1024 * 1024, 0, 1, 5, 16, 100, 16384, 16385};

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
    if (size < 5) return 0;
    unsigned opt = in[0];
    size_t c1 = (size_t)in[1] | (size_t)in[2] << 8, c2 = (size_t)in[3] | (size_t)in[4] << 8;
    const char *data = (const char *)in + 5;
    size_t len = size - 5;
    char *big = NULL;
    int amplify = (opt & 0xc8) == 0xc8; /* 1 input in 8: it costs 64 KB of parsing */
    if (amplify) {
        /* pad the stream past the inline/line limits with one repeated byte */
        static const char fill[4] = {'x', '1', ' ', '\r'};
        size_t pad = RESP_INLINE_MAX + 16;
        big = malloc(len + pad);
        memcpy(big, data, len);
        memset(big + len, fill[(opt >> 4) & 3], pad);
        data = big;
        len += pad;
        c1 *= 2;
        c2 *= 2;
    }
    size_t cuts[2] = {c1 % (len + 1), c2 % (len + 1)};
    if (cuts[0] > cuts[1]) {
        size_t t = cuts[0];
        cuts[0] = cuts[1];
        cuts[1] = t;
    }
    for (int auth = 0; auth <= 1; auth++) {
        respLimits lim = {maxBulks[opt & 7], auth};
        outcome whole, split;
        run(data, len, NULL, 0, &lim, &whole);
        run(data, len, cuts, 2, &lim, &split);
        if (!amplify && len <= RESP_INLINE_MAX) compare(&whole, &split);
        bufFree(&whole.cmds);
        bufFree(&split.cmds);
    }
    free(big);
    return 0;
}
