/* test_resp.c -- the RESP request parser and the reply writers (resp.c).
 *
 * The parser is what every client byte goes through, so besides well formed
 * requests this checks every malformed input against Redis 7's own error
 * texts (clients and Redis's test suite match on them), and that a request
 * parses the same however the network splits it: a stream is replayed with
 * a cut at every byte boundary, and byte by byte, the way client.c feeds it
 * (the buffer always starts at the current request and grows with the same
 * prefix; after RESP_OK the request's bytes are dropped and the parser reset).
 * Every buffer handed to respParse is a fresh allocation of exactly the
 * bytes received, so valgrind sees any read past what has arrived. */
#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

static const respLimits AUTH = {512LL * 1024 * 1024, 1};
static const respLimits NOAUTH = {512LL * 1024 * 1024, 0};

/* ------------------------------------------------------------ helpers */

/* One parsed request: its arguments, copied out of the parser. */
typedef struct cmd {
    int argc;
    char **argv;
    size_t *argl;
    int isinline;
} cmd;

/* What a stream of bytes turned into. */
typedef struct outcome {
    int ncmds;
    cmd cmds[64];
    int error;        /* the stream ended in RESP_ERR */
    char err[128];    /* its text */
    size_t pending;   /* bytes received but not part of a complete request */
} outcome;

static void outcomeFree(outcome *o) {
    for (int i = 0; i < o->ncmds; i++) {
        for (int j = 0; j < o->cmds[i].argc; j++) free(o->cmds[i].argv[j]);
        free(o->cmds[i].argv);
        free(o->cmds[i].argl);
    }
    o->ncmds = 0;
}

static void keep(outcome *o, const respParser *p, const char *b) {
    cr_assert_lt(o->ncmds, 64);
    cmd *c = &o->cmds[o->ncmds++];
    c->argc = p->argc;
    c->isinline = p->isinline;
    c->argv = calloc((size_t)p->argc + 1, sizeof(char *));
    c->argl = calloc((size_t)p->argc + 1, sizeof(size_t));
    for (int i = 0; i < p->argc; i++) {
        c->argl[i] = p->args[i].len;
        c->argv[i] = malloc(p->args[i].len + 1);
        memcpy(c->argv[i], respArgPtr(p, b, i), p->args[i].len);
        c->argv[i][p->args[i].len] = '\0';
    }
}

/* Replays `s` as it would arrive in chunks ending at the offsets cuts[0..ncuts)
 * (then the rest), driving the parser exactly as client.c does. */
static void replay(const char *s, size_t len, const size_t *cuts, int ncuts,
                   const respLimits *lim, outcome *o) {
    memset(o, 0, sizeof(*o));
    respParser p;
    respParserInit(&p);
    size_t start = 0; /* first byte of the current request in s */
    size_t recv = 0;  /* bytes arrived so far */
    for (int k = 0; k <= ncuts && !o->error; k++) {
        size_t upto = k < ncuts ? cuts[k] : len;
        if (upto <= recv && k < ncuts) continue;
        recv = upto;
        for (;;) {
            size_t qlen = recv - start;
            /* an exact-size copy: reading past what arrived is a valgrind error */
            char *q = malloc(qlen ? qlen : 1);
            memcpy(q, s + start, qlen);
            int rc = respParse(&p, q, qlen, lim);
            if (rc == RESP_OK) {
                cr_assert_gt(p.consumed, 0, "RESP_OK must consume bytes");
                cr_assert_leq(p.consumed, qlen);
                keep(o, &p, q);
                start += p.consumed;
                respParserReset(&p);
                free(q);
                if (start == recv) break;
                continue;
            }
            if (rc == RESP_ERR) {
                cr_assert_not_null(p.err);
                o->error = 1;
                snprintf(o->err, sizeof(o->err), "%s", p.err);
            } else {
                cr_assert_eq(rc, RESP_NEED_MORE);
            }
            free(q);
            break;
        }
    }
    /* after an error the connection closes: count what was never parsed,
     * whether or not it had arrived when the error was seen */
    o->pending = (o->error ? len : recv) - start;
    respParserFree(&p);
}

static void parseWhole(const char *s, size_t len, const respLimits *lim, outcome *o) {
    replay(s, len, NULL, 0, lim, o);
}

static void assertSame(const outcome *a, const outcome *b, const char *what) {
    cr_assert_eq(a->ncmds, b->ncmds, "%s: %d commands vs %d", what, a->ncmds, b->ncmds);
    cr_assert_eq(a->error, b->error, "%s: error %d vs %d", what, a->error, b->error);
    cr_assert_str_eq(a->err, b->err, "%s", what);
    cr_assert_eq(a->pending, b->pending, "%s: pending %zu vs %zu", what, a->pending, b->pending);
    for (int i = 0; i < a->ncmds; i++) {
        cr_assert_eq(a->cmds[i].argc, b->cmds[i].argc, "%s: cmd %d argc", what, i);
        cr_assert_eq(a->cmds[i].isinline, b->cmds[i].isinline, "%s: cmd %d inline", what, i);
        for (int j = 0; j < a->cmds[i].argc; j++) {
            cr_assert_eq(a->cmds[i].argl[j], b->cmds[i].argl[j], "%s: cmd %d arg %d len", what,
                         i, j);
            cr_assert(!memcmp(a->cmds[i].argv[j], b->cmds[i].argv[j], a->cmds[i].argl[j]),
                      "%s: cmd %d arg %d bytes", what, i, j);
        }
    }
}

/* Feeds s whole, then split at every single byte boundary, then at every
 * pair of boundaries (short inputs), then byte by byte: all must agree. */
static void assertSplitInvariant(const char *s, size_t len, const respLimits *lim) {
    outcome whole, part;
    parseWhole(s, len, lim, &whole);
    char what[64];
    for (size_t i = 0; i <= len; i++) {
        size_t cuts[1] = {i};
        replay(s, len, cuts, 1, lim, &part);
        snprintf(what, sizeof(what), "cut at %zu", i);
        assertSame(&whole, &part, what);
        outcomeFree(&part);
    }
    if (len <= 80) {
        for (size_t i = 1; i < len; i++) {
            for (size_t j = i + 1; j < len; j++) {
                size_t cuts[2] = {i, j};
                replay(s, len, cuts, 2, lim, &part);
                snprintf(what, sizeof(what), "cuts at %zu,%zu", i, j);
                assertSame(&whole, &part, what);
                outcomeFree(&part);
            }
        }
    }
    size_t *cuts = malloc(sizeof(size_t) * (len + 1));
    for (size_t i = 0; i <= len; i++) cuts[i] = i;
    replay(s, len, cuts, (int)len + 1, lim, &part);
    assertSame(&whole, &part, "byte by byte");
    outcomeFree(&part);
    free(cuts);
    outcomeFree(&whole);
}

#define S(lit) lit, sizeof(lit) - 1

static void assertArgs(const cmd *c, int argc, const char **argv, const size_t *argl) {
    cr_assert_eq(c->argc, argc, "argc %d, want %d", c->argc, argc);
    for (int i = 0; i < argc; i++) {
        size_t l = argl ? argl[i] : strlen(argv[i]);
        cr_assert_eq(c->argl[i], l, "arg %d: len %zu, want %zu", i, c->argl[i], l);
        cr_assert(!memcmp(c->argv[i], argv[i], l), "arg %d bytes differ", i);
    }
}

/* Parses one request given whole; returns the parser result. */
static int parseOne(respParser *p, const char *s, size_t len, const respLimits *lim) {
    char *q = malloc(len ? len : 1);
    memcpy(q, s, len);
    int rc = respParse(p, q, len, lim);
    free(q);
    return rc;
}

static void assertError(const char *s, size_t len, const respLimits *lim, const char *want) {
    outcome o;
    parseWhole(s, len, lim, &o);
    cr_assert(o.error, "expected error '%s'", want);
    cr_assert_str_eq(o.err, want);
    outcomeFree(&o);
}

/* ------------------------------------------------------ multibulk */

Test(resp, multibulk_simple) {
    outcome o;
    parseWhole(S("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"), &AUTH, &o);
    cr_assert_eq(o.ncmds, 1);
    cr_assert_not(o.error);
    cr_assert_eq(o.pending, 0);
    const char *want[] = {"SET", "key", "value"};
    assertArgs(&o.cmds[0], 3, want, NULL);
    cr_assert_not(o.cmds[0].isinline);
    outcomeFree(&o);
}

Test(resp, multibulk_offsets_point_into_buffer) {
    /* zero copy: arguments of a multibulk request are (offset, len) in buf */
    const char s[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    respParser p;
    respParserInit(&p);
    cr_assert_eq(respParse(&p, s, sizeof(s) - 1, &AUTH), RESP_OK);
    cr_assert_eq(p.consumed, sizeof(s) - 1);
    cr_assert_eq(p.argc, 2);
    cr_assert_eq(p.args[0].off, 8);
    cr_assert_eq(p.args[0].len, 3);
    cr_assert_eq(respArgPtr(&p, s, 0), s + 8);
    cr_assert_eq(p.args[1].off, 17);
    cr_assert_eq(p.args[1].len, 1);
    respParserFree(&p);
}

Test(resp, multibulk_consumed_stops_at_request_end) {
    const char s[] = "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI";
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, s, sizeof(s) - 1, &AUTH), RESP_OK);
    cr_assert_eq(p.consumed, 14);
    cr_assert_eq(p.argc, 1);
    respParserFree(&p);
}

Test(resp, multibulk_binary_safe) {
    /* NUL bytes, CR LF and '$' '*' inside bulk data, an empty argument */
    const char s[] = "*4\r\n$3\r\na\0b\r\n$4\r\n\r\n\r\n\r\n$0\r\n\r\n$5\r\n*1\r\n$\r\n";
    outcome o;
    parseWhole(s, sizeof(s) - 1, &AUTH, &o);
    cr_assert_eq(o.ncmds, 1);
    cr_assert_not(o.error);
    const char *want[] = {"a\0b", "\r\n\r\n", "", "*1\r\n$"};
    const size_t wl[] = {3, 4, 0, 5};
    assertArgs(&o.cmds[0], 4, want, wl);
    cr_assert_eq(o.pending, 0);
    outcomeFree(&o);
    assertSplitInvariant(s, sizeof(s) - 1, &AUTH);
}

Test(resp, multibulk_all_byte_values) {
    /* one argument holding every byte value 0..255 */
    char s[300];
    int n = snprintf(s, sizeof(s), "*1\r\n$256\r\n");
    for (int i = 0; i < 256; i++) s[n++] = (char)i;
    s[n++] = '\r';
    s[n++] = '\n';
    outcome o;
    parseWhole(s, (size_t)n, &AUTH, &o);
    cr_assert_eq(o.ncmds, 1);
    cr_assert_eq(o.cmds[0].argc, 1);
    cr_assert_eq(o.cmds[0].argl[0], 256);
    for (int i = 0; i < 256; i++) cr_assert_eq((unsigned char)o.cmds[0].argv[0][i], i);
    outcomeFree(&o);
}

Test(resp, multibulk_empty_and_negative_count) {
    /* "*0" and "*-1" are empty requests: OK with no arguments, as Redis
     * (which skips them silently) */
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, S("*0\r\n"), &AUTH), RESP_OK);
    cr_assert_eq(p.argc, 0);
    cr_assert_eq(p.consumed, 4);
    respParserReset(&p);
    cr_assert_eq(parseOne(&p, S("*-1\r\n"), &AUTH), RESP_OK);
    cr_assert_eq(p.argc, 0);
    cr_assert_eq(p.consumed, 5);
    respParserReset(&p);
    cr_assert_eq(parseOne(&p, S("*-5\r\n*1\r\n"), &AUTH), RESP_OK);
    cr_assert_eq(p.argc, 0);
    cr_assert_eq(p.consumed, 5);
    respParserFree(&p);
}

Test(resp, multibulk_need_more_at_every_prefix) {
    const char s[] = "*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n";
    size_t len = sizeof(s) - 1;
    for (size_t i = 0; i < len; i++) {
        respParser p;
        respParserInit(&p);
        cr_assert_eq(parseOne(&p, s, i, &AUTH), RESP_NEED_MORE, "prefix %zu", i);
        respParserFree(&p);
    }
}

Test(resp, pending_bulk_hint) {
    respParser p;
    respParserInit(&p);
    const char s[] = "*2\r\n$3\r\nSET\r\n$100000\r\nabc";
    char *q = malloc(sizeof(s));
    memcpy(q, s, sizeof(s));
    cr_assert_eq(respParse(&p, q, 8, &AUTH), RESP_NEED_MORE);
    cr_assert_eq(respPendingBulk(&p), 5, "bulk of 3 + CRLF");
    cr_assert_eq(respParse(&p, q, sizeof(s) - 1, &AUTH), RESP_NEED_MORE);
    cr_assert_eq(respPendingBulk(&p), 100002);
    free(q);
    respParserReset(&p);
    cr_assert_eq(respPendingBulk(&p), 0);
    cr_assert_eq(parseOne(&p, S("GET a"), &AUTH), RESP_NEED_MORE);
    cr_assert_eq(respPendingBulk(&p), 0, "unknown for inline");
    respParserFree(&p);
}

Test(resp, large_bulk) {
    size_t vlen = 1 << 20;
    char hdr[64];
    int h = snprintf(hdr, sizeof(hdr), "*2\r\n$3\r\nSET\r\n$%zu\r\n", vlen);
    size_t len = (size_t)h + vlen + 2;
    char *s = malloc(len);
    memcpy(s, hdr, (size_t)h);
    for (size_t i = 0; i < vlen; i++) s[h + i] = (char)('a' + i % 26);
    memcpy(s + h + vlen, "\r\n", 2);
    /* arrives in 16 KB reads */
    size_t ncuts = len / 16384;
    size_t *cuts = malloc(sizeof(size_t) * ncuts);
    for (size_t i = 0; i < ncuts; i++) cuts[i] = (i + 1) * 16384;
    outcome a, b;
    replay(s, len, cuts, (int)ncuts, &AUTH, &a);
    parseWhole(s, len, &AUTH, &b);
    assertSame(&a, &b, "16k reads");
    cr_assert_eq(a.ncmds, 1);
    cr_assert_eq(a.cmds[0].argl[1], vlen);
    cr_assert(!memcmp(a.cmds[0].argv[1], s + h, vlen));
    outcomeFree(&a);
    outcomeFree(&b);
    free(cuts);
    free(s);
}

Test(resp, many_arguments_and_reset_shrinks) {
    /* 2000 arguments: more than any preallocation, and the reset after it
     * gives the memory back so an idle client stays small */
    buf b;
    bufInit(&b);
    bufPrintf(&b, "*2000\r\n");
    for (int i = 0; i < 2000; i++) bufPrintf(&b, "$%d\r\n%d\r\n", i < 10 ? 1 : i < 100 ? 2 : i < 1000 ? 3 : 4, i);
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, b.ptr, b.len, &AUTH), RESP_OK);
    cr_assert_eq(p.argc, 2000);
    cr_assert_eq(p.consumed, b.len);
    respParserReset(&p);
    cr_assert_eq(p.argcap, 0);
    cr_assert_null(p.args);
    cr_assert_eq(parseOne(&p, S("*1\r\n$4\r\nPING\r\n"), &AUTH), RESP_OK);
    cr_assert_eq(p.argc, 1);
    respParserFree(&p);
    bufFree(&b);
}

Test(resp, parser_reused_after_reset) {
    respParser p;
    respParserInit(&p);
    for (int i = 0; i < 100; i++) {
        char s[64];
        int n = snprintf(s, sizeof(s), "*2\r\n$3\r\nGET\r\n$%d\r\nkey%d\r\n", i < 10 ? 4 : 5, i);
        cr_assert_eq(parseOne(&p, s, (size_t)n, &AUTH), RESP_OK);
        cr_assert_eq(p.argc, 2);
        cr_assert_eq(p.consumed, (size_t)n);
        respParserReset(&p);
    }
    respParserFree(&p);
}

/* ------------------------------------------------------------ inline */

Test(resp, inline_simple) {
    outcome o;
    parseWhole(S("SET key value\r\n"), &AUTH, &o);
    cr_assert_eq(o.ncmds, 1);
    const char *want[] = {"SET", "key", "value"};
    assertArgs(&o.cmds[0], 3, want, NULL);
    cr_assert(o.cmds[0].isinline);
    cr_assert_eq(o.pending, 0);
    outcomeFree(&o);
}

Test(resp, inline_lf_only_and_spaces) {
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, S("  PING   hello\t world \n"), &AUTH), RESP_OK);
    cr_assert_eq(p.consumed, 23);
    cr_assert_eq(p.argc, 3);
    cr_assert_eq(p.isinline, 1);
    respParserFree(&p);

    outcome o;
    parseWhole(S("  PING   hello\t world \n"), &AUTH, &o);
    const char *want[] = {"PING", "hello", "world"};
    assertArgs(&o.cmds[0], 3, want, NULL);
    outcomeFree(&o);
}

Test(resp, inline_quotes_and_escapes) {
    outcome o;
    parseWhole(S("SET \"a b\" 'c d' \"\\x41\\x00\\n\" \"\"\r\n"), &AUTH, &o);
    cr_assert_eq(o.ncmds, 1);
    const char *want[] = {"SET", "a b", "c d", "A\0\n", ""};
    const size_t wl[] = {3, 3, 3, 3, 0};
    assertArgs(&o.cmds[0], 5, want, wl);
    outcomeFree(&o);
}

Test(resp, inline_empty_lines) {
    /* an empty line is a request with no arguments, as telnet users send */
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, S("\r\n"), &AUTH), RESP_OK);
    cr_assert_eq(p.argc, 0);
    cr_assert_eq(p.consumed, 2);
    respParserReset(&p);
    cr_assert_eq(parseOne(&p, S("\n"), &AUTH), RESP_OK);
    cr_assert_eq(p.argc, 0);
    cr_assert_eq(p.consumed, 1);
    respParserReset(&p);
    cr_assert_eq(parseOne(&p, S("   \r\n"), &AUTH), RESP_OK);
    cr_assert_eq(p.argc, 0);
    cr_assert_eq(p.consumed, 5);
    respParserFree(&p);
}

Test(resp, inline_need_more_without_newline) {
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, S("PING"), &AUTH), RESP_NEED_MORE);
    cr_assert_eq(parseOne(&p, S("PING\r"), &AUTH), RESP_NEED_MORE);
    cr_assert_eq(parseOne(&p, S("PING\r\n"), &AUTH), RESP_OK);
    cr_assert_eq(p.argc, 1);
    respParserFree(&p);
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, "", 0, &AUTH), RESP_NEED_MORE);
    respParserFree(&p);
}

Test(resp, inline_exactly_at_limit) {
    /* 64 KB without a newline is still waiting; one byte more is an error */
    size_t n = RESP_INLINE_MAX;
    char *s = malloc(n + 1);
    memset(s, 'a', n + 1);
    respParser p;
    respParserInit(&p);
    cr_assert_eq(respParse(&p, s, n, &AUTH), RESP_NEED_MORE);
    cr_assert_eq(respParse(&p, s, n + 1, &AUTH), RESP_ERR);
    cr_assert_str_eq(p.err, "Protocol error: too big inline request");
    respParserFree(&p);
    free(s);
}

/* --------------------------------------------------------- pipelines */

Test(resp, pipeline_mixed) {
    const char s[] = "*1\r\n$4\r\nPING\r\n"
                     "PING\r\n"
                     "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n"
                     "\r\n"
                     "*0\r\n"
                     "GET k\n"
                     "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    outcome o;
    parseWhole(s, sizeof(s) - 1, &AUTH, &o);
    cr_assert_not(o.error);
    cr_assert_eq(o.ncmds, 7);
    const char *c0[] = {"PING"};
    assertArgs(&o.cmds[0], 1, c0, NULL);
    assertArgs(&o.cmds[1], 1, c0, NULL);
    cr_assert(o.cmds[1].isinline);
    const char *c2[] = {"SET", "k", "v\r\n"};
    assertArgs(&o.cmds[2], 3, c2, NULL);
    cr_assert_eq(o.cmds[3].argc, 0);
    cr_assert_eq(o.cmds[4].argc, 0);
    const char *c5[] = {"GET", "k"};
    assertArgs(&o.cmds[5], 2, c5, NULL);
    assertArgs(&o.cmds[6], 2, c5, NULL);
    cr_assert_eq(o.pending, 0);
    outcomeFree(&o);
}

Test(resp, pipeline_with_trailing_partial) {
    const char s[] = "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$5\r\nab";
    outcome o;
    parseWhole(s, sizeof(s) - 1, &AUTH, &o);
    cr_assert_eq(o.ncmds, 1);
    cr_assert_not(o.error);
    cr_assert_eq(o.pending, sizeof(s) - 1 - 14);
    outcomeFree(&o);
}

/* ------------------------------------------- split at every boundary */

Test(resp, split_invariance_valid_requests) {
    static const struct {
        const char *s;
        size_t len;
    } cases[] = {
        {S("*1\r\n$4\r\nPING\r\n")},
        {S("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")},
        {S("*2\r\n$3\r\nGET\r\n$0\r\n\r\n")},
        {S("*3\r\n$3\r\nSET\r\n$2\r\n\r\n\r\n$4\r\n\0\0\r\n\r\n")},
        {S("*0\r\n")},
        {S("*-1\r\n")},
        {S("PING\r\n")},
        {S("PING\n")},
        {S("\r\n")},
        {S("SET \"a b\" 'c\\'d' \"\\x00\\xff\"\r\n")},
        {S("*2\r\n$4\r\nECHO\r\n$12\r\n$5\r\nhello\r\n\r\n")},
        {S("*1\r\n$10\r\n0123456789\r\n")},
        /* pipelines, mixing forms */
        {S("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n")},
        {S("PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\nECHO y\nQUIT\r\n")},
        {S("*2\r\n$3\r\nGET\r\n$1\r\na\r\n*0\r\n\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n")},
        {S("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\r\n\n\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nGET k\r\n")},
        /* a trailing incomplete request stays pending */
        {S("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$3\r\nab")},
        {S("PING\r\nPIN")},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assertSplitInvariant(cases[i].s, cases[i].len, &AUTH);
}

Test(resp, split_invariance_errors) {
    /* a stream that ends in a protocol error fails the same way, with the
     * same requests served before it, however it is split */
    static const struct {
        const char *s;
        size_t len;
    } cases[] = {
        {S("*1\r\n$4\r\nPING\r\n*x\r\n")},
        {S("*1\r\n$4\r\nPING\r\n*1\r\n%4\r\nPING\r\n")},
        {S("*2\r\n$3\r\nGET\r\n$-3\r\n")},
        {S("PING\r\nSET \"a\r\n")},
        {S("*11\r\n")},
        {S("*1\r\n$16385\r\n")},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        outcome o;
        parseWhole(cases[i].s, cases[i].len, &NOAUTH, &o);
        cr_assert(o.error, "case %zu must fail", i);
        outcomeFree(&o);
        assertSplitInvariant(cases[i].s, cases[i].len, &NOAUTH);
    }
}

Test(resp, split_invariance_long_pipeline) {
    /* 20 commands with values of growing size, cut at every boundary */
    buf b;
    bufInit(&b);
    for (int i = 0; i < 20; i++) {
        char v[40];
        memset(v, 'a' + i, sizeof(v));
        if (i % 5 == 4) {
            bufPrintf(&b, "SET k%d %.*s\r\n", i, i + 1, v);
        } else {
            bufPrintf(&b, "*3\r\n$3\r\nSET\r\n$%d\r\nk%d\r\n$%d\r\n", i < 10 ? 2 : 3, i, i);
            bufAppend(&b, v, (size_t)i);
            bufAppend(&b, "\r\n", 2);
        }
    }
    outcome o;
    parseWhole(b.ptr, b.len, &AUTH, &o);
    cr_assert_eq(o.ncmds, 20);
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(o.cmds[i].argc, 3);
        cr_assert_eq(o.cmds[i].argl[2], (size_t)(i % 5 == 4 ? i + 1 : i));
    }
    outcomeFree(&o);
    assertSplitInvariant(b.ptr, b.len, &AUTH);
    bufFree(&b);
}

/* ------------------------------------------------- malformed input */

Test(resp, err_invalid_multibulk_length) {
    const char *want = "Protocol error: invalid multibulk length";
    assertError(S("*\r\n"), &AUTH, want);
    assertError(S("*abc\r\n"), &AUTH, want);
    assertError(S("*1x\r\n"), &AUTH, want);
    assertError(S("* 1\r\n"), &AUTH, want);
    assertError(S("*1 \r\n"), &AUTH, want);
    assertError(S("*+1\r\n"), &AUTH, want);
    assertError(S("*01\r\n"), &AUTH, want);
    assertError(S("*-0\r\n"), &AUTH, want);
    assertError(S("*1.5\r\n"), &AUTH, want);
    assertError(S("*2147483648\r\n"), &AUTH, want);
    assertError(S("*99999999999999999999\r\n"), &AUTH, want);
    assertError(S("*\0\r\n"), &AUTH, want);
}

Test(resp, multibulk_count_int_max_is_accepted) {
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, S("*2147483647\r\n"), &AUTH), RESP_NEED_MORE);
    respParserFree(&p);
}

Test(resp, err_expected_dollar) {
    assertError(S("*1\r\nfoo\r\n"), &AUTH, "Protocol error: expected '$', got 'f'");
    assertError(S("*2\r\n$3\r\nGET\r\n:1\r\n"), &AUTH, "Protocol error: expected '$', got ':'");
    assertError(S("*1\r\n*1\r\n"), &AUTH, "Protocol error: expected '$', got '*'");
    assertError(S("*1\r\n \r\n"), &AUTH, "Protocol error: expected '$', got ' '");
    assertError(S("*1\r\n\r\n"), &AUTH, "Protocol error: expected '$', got '\r'");
    /* a bulk longer than announced runs into the next header */
    assertError(S("*2\r\n$1\r\nab\r\n$1\r\nc\r\n"), &AUTH,
                "Protocol error: expected '$', got '\n'");
}

Test(resp, expected_dollar_waits_for_the_line) {
    /* as Redis: the header line must be complete before it is judged */
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, S("*1\r\nfoo"), &AUTH), RESP_NEED_MORE);
    respParserFree(&p);
}

Test(resp, err_invalid_bulk_length) {
    const char *want = "Protocol error: invalid bulk length";
    assertError(S("*1\r\n$\r\n"), &AUTH, want);
    assertError(S("*1\r\n$-1\r\n"), &AUTH, want);
    assertError(S("*1\r\n$-0\r\n"), &AUTH, want);
    assertError(S("*1\r\n$abc\r\n"), &AUTH, want);
    assertError(S("*1\r\n$+3\r\n"), &AUTH, want);
    assertError(S("*1\r\n$03\r\n"), &AUTH, want);
    assertError(S("*1\r\n$3 \r\n"), &AUTH, want);
    assertError(S("*1\r\n$99999999999999999999\r\n"), &AUTH, want);
    /* proto-max-bulk-len: 512 MB by default */
    assertError(S("*1\r\n$536870913\r\n"), &AUTH, want);
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, S("*1\r\n$536870912\r\n"), &AUTH), RESP_NEED_MORE);
    respParserFree(&p);
}

Test(resp, proto_max_bulk_len_limit) {
    respLimits lim = {10, 1};
    assertError(S("*1\r\n$11\r\n"), &lim, "Protocol error: invalid bulk length");
    outcome o;
    parseWhole(S("*1\r\n$10\r\n0123456789\r\n"), &lim, &o);
    cr_assert_not(o.error);
    cr_assert_eq(o.ncmds, 1);
    outcomeFree(&o);
    parseWhole(S("*2\r\n$1\r\na\r\n$11\r\n"), &lim, &o);
    cr_assert(o.error);
    cr_assert_str_eq(o.err, "Protocol error: invalid bulk length");
    outcomeFree(&o);
}

Test(resp, unauthenticated_limits) {
    /* as Redis: before AUTH, at most 10 arguments of at most 16 KB each */
    assertError(S("*11\r\n"), &NOAUTH, "Protocol error: unauthenticated multibulk length");
    assertError(S("*1\r\n$16385\r\n"), &NOAUTH, "Protocol error: unauthenticated bulk length");
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, S("*10\r\n"), &NOAUTH), RESP_NEED_MORE);
    respParserReset(&p);
    cr_assert_eq(parseOne(&p, S("*1\r\n$16384\r\n"), &NOAUTH), RESP_NEED_MORE);
    respParserReset(&p);
    /* authenticated clients have neither limit */
    cr_assert_eq(parseOne(&p, S("*11\r\n"), &AUTH), RESP_NEED_MORE);
    respParserReset(&p);
    cr_assert_eq(parseOne(&p, S("*1\r\n$16385\r\n"), &AUTH), RESP_NEED_MORE);
    respParserFree(&p);
    /* an invalid length is reported as invalid, not as unauthenticated */
    assertError(S("*1\r\n$-5\r\n"), &NOAUTH, "Protocol error: invalid bulk length");
    assertError(S("*x\r\n"), &NOAUTH, "Protocol error: invalid multibulk length");
}

Test(resp, err_too_big_mbulk_count_string) {
    size_t n = RESP_INLINE_MAX + 2;
    char *s = malloc(n);
    s[0] = '*';
    memset(s + 1, '1', n - 1);
    respParser p;
    respParserInit(&p);
    cr_assert_eq(respParse(&p, s, RESP_INLINE_MAX, &AUTH), RESP_NEED_MORE);
    cr_assert_eq(respParse(&p, s, n, &AUTH), RESP_ERR);
    cr_assert_str_eq(p.err, "Protocol error: too big mbulk count string");
    respParserFree(&p);
    free(s);
}

Test(resp, err_too_big_bulk_count_string) {
    size_t n = 4 + RESP_INLINE_MAX + 1;
    char *s = malloc(n);
    memcpy(s, "*1\r\n", 4);
    s[4] = '$';
    memset(s + 5, '1', n - 5);
    respParser p;
    respParserInit(&p);
    cr_assert_eq(respParse(&p, s, n - 1, &AUTH), RESP_NEED_MORE);
    cr_assert_eq(respParse(&p, s, n, &AUTH), RESP_ERR);
    cr_assert_str_eq(p.err, "Protocol error: too big bulk count string");
    respParserFree(&p);
    free(s);
}

Test(resp, err_too_big_bulk_count_string_after_args) {
    /* the limit counts from the header being read, not the request start */
    buf b;
    bufInit(&b);
    bufAppendStr(&b, "*2\r\n$3\r\nSET\r\n$");
    size_t hdr = b.len - 1;
    while (b.len - hdr <= RESP_INLINE_MAX) bufAppend(&b, "7", 1);
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, b.ptr, b.len, &AUTH), RESP_ERR);
    cr_assert_str_eq(p.err, "Protocol error: too big bulk count string");
    respParserFree(&p);
    bufFree(&b);
}

Test(resp, err_too_big_inline_request) {
    size_t n = RESP_INLINE_MAX + 100;
    char *s = malloc(n);
    memset(s, 'x', n);
    assertError(s, n, &AUTH, "Protocol error: too big inline request");
    free(s);
}

Test(resp, err_unbalanced_quotes) {
    const char *want = "Protocol error: unbalanced quotes in request";
    assertError(S("SET \"a b\r\n"), &AUTH, want);
    assertError(S("SET 'a b\r\n"), &AUTH, want);
    assertError(S("SET \"a\"b\r\n"), &AUTH, want);
    assertError(S("SET 'a'b\r\n"), &AUTH, want);
    assertError(S("\"\r\n"), &AUTH, want);
    assertError(S("SET \"a\\\"\r\n"), &AUTH, want);
}

Test(resp, error_does_not_leak_across_reset) {
    respParser p;
    respParserInit(&p);
    cr_assert_eq(parseOne(&p, S("*x\r\n"), &AUTH), RESP_ERR);
    cr_assert_not_null(p.err);
    respParserReset(&p);
    cr_assert_null(p.err);
    cr_assert_eq(parseOne(&p, S("*1\r\n$4\r\nPING\r\n"), &AUTH), RESP_OK);
    respParserFree(&p);
}

Test(resp, garbage_never_crashes) {
    /* random bytes, biased towards the protocol's own characters, at every
     * prefix: the parser answers and never reads past what it was given */
    static const char alphabet[] = "*$\r\n0123456789-+ \"'\\xab";
    unsigned seed = 12345;
    for (int round = 0; round < 300; round++) {
        char s[48];
        size_t len = 1 + (size_t)(round % (int)sizeof(s));
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            s[i] = (r & 7) == 0 ? (char)(r >> 3) : alphabet[(r >> 3) % (sizeof(alphabet) - 1)];
        }
        if (round % 3 == 0) s[0] = '*';
        outcome o;
        parseWhole(s, len, &AUTH, &o);
        outcomeFree(&o);
        size_t cuts[1] = {len / 2};
        replay(s, len, cuts, 1, &AUTH, &o);
        outcomeFree(&o);
    }
}

/* ------------------------------------------------------- reply writers */

static struct evbuffer *out;

static void setupOut(void) { out = evbuffer_new(); }
static void teardownOut(void) { evbuffer_free(out); }

/* Asserts the buffer holds exactly want[0..len), then empties it. */
static void expectBytes(const char *want, size_t len) {
    size_t n = evbuffer_get_length(out);
    char *got = malloc(n + 1);
    evbuffer_copyout(out, got, n);
    got[n] = '\0';
    cr_assert_eq(n, len, "got %zu bytes \"%s\", want %zu", n, got, len);
    cr_assert(!memcmp(got, want, len), "got \"%s\"", got);
    free(got);
    evbuffer_drain(out, n);
}
#define EXPECT(lit) expectBytes(lit, sizeof(lit) - 1)

TestSuite(reply, .init = setupOut, .fini = teardownOut);

Test(reply, status_and_raw) {
    respAddStatus(out, "OK");
    EXPECT("+OK\r\n");
    respAddStatus(out, "");
    EXPECT("+\r\n");
    respAddRaw(out, "a\0b", 3);
    EXPECT("a\0b");
}

Test(reply, error_default_code) {
    respAddError(out, "unknown command");
    EXPECT("-ERR unknown command\r\n");
    respAddError(out, "");
    EXPECT("-ERR \r\n");
}

Test(reply, error_own_code) {
    respAddError(out, "-NOQUORUM not enough replicas answered");
    EXPECT("-NOQUORUM not enough replicas answered\r\n");
    respAddError(out, "-WRONGTYPE Operation against a key holding the wrong kind of value");
    EXPECT("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    respAddError(out, "-");
    EXPECT("-\r\n");
}

Test(reply, error_newlines_become_spaces) {
    /* an error is one line: a CR or LF inside would desync the client */
    respAddError(out, "bad\r\nthing\n");
    EXPECT("-ERR bad  thing \r\n");
    respAddError(out, "-CODE a\rb");
    EXPECT("-CODE a b\r\n");
}

Test(reply, error_format) {
    respAddErrorFormat(out, "unknown command '%s', with args beginning with: %s", "FOO", "");
    EXPECT("-ERR unknown command 'FOO', with args beginning with: \r\n");
    respAddErrorFormat(out, "-BUSY %d scripts", 3);
    EXPECT("-BUSY 3 scripts\r\n");
    respAddErrorFormat(out, "line\n%s", "two");
    EXPECT("-ERR line two\r\n");
}

Test(reply, integers) {
    respAddInteger(out, 0);
    EXPECT(":0\r\n");
    respAddInteger(out, 1);
    EXPECT(":1\r\n");
    respAddInteger(out, -1);
    EXPECT(":-1\r\n");
    respAddInteger(out, 1234567890123LL);
    EXPECT(":1234567890123\r\n");
    respAddInteger(out, LLONG_MAX);
    EXPECT(":9223372036854775807\r\n");
    respAddInteger(out, LLONG_MIN);
    EXPECT(":-9223372036854775808\r\n");
}

Test(reply, bulks) {
    respAddBulk(out, "hello", 5);
    EXPECT("$5\r\nhello\r\n");
    respAddBulk(out, "", 0);
    EXPECT("$0\r\n\r\n");
    respAddBulk(out, NULL, 0);
    EXPECT("$0\r\n\r\n");
    respAddBulk(out, "a\0\r\nb", 5);
    EXPECT("$5\r\na\0\r\nb\r\n");
    respAddBulkCString(out, "foo");
    EXPECT("$3\r\nfoo\r\n");
    respAddBulkLongLong(out, -42);
    EXPECT("$3\r\n-42\r\n");
    respAddBulkLongLong(out, LLONG_MIN);
    EXPECT("$20\r\n-9223372036854775808\r\n");
}

Test(reply, large_bulk_copied) {
    size_t n = 100000;
    char *v = malloc(n);
    memset(v, 'z', n);
    respAddBulk(out, v, n);
    memset(v, 'y', n); /* the caller's bytes are only borrowed for the call */
    size_t total = evbuffer_get_length(out);
    cr_assert_eq(total, 9 + n + 2);
    char *got = malloc(total);
    evbuffer_remove(out, got, total);
    cr_assert(!memcmp(got, "$100000\r\n", 9));
    for (size_t i = 0; i < n; i++) cr_assert_eq(got[9 + i], 'z', "byte %zu", i);
    cr_assert(!memcmp(got + 9 + n, "\r\n", 2));
    free(got);
    free(v);
}

Test(reply, nulls) {
    respAddNull(out, 2);
    EXPECT("$-1\r\n");
    respAddNull(out, 3);
    EXPECT("_\r\n");
    respAddNullArray(out, 2);
    EXPECT("*-1\r\n");
    respAddNullArray(out, 3);
    EXPECT("_\r\n");
}

Test(reply, aggregates) {
    respAddArrayLen(out, 0);
    EXPECT("*0\r\n");
    respAddArrayLen(out, 3);
    EXPECT("*3\r\n");
    respAddMapLen(out, 2, 3);
    EXPECT("*6\r\n");
    respAddMapLen(out, 3, 3);
    EXPECT("%3\r\n");
    respAddMapLen(out, 3, 0);
    EXPECT("%0\r\n");
    respAddSetLen(out, 2, 4);
    EXPECT("*4\r\n");
    respAddSetLen(out, 3, 4);
    EXPECT("~4\r\n");
}

Test(reply, doubles) {
    respAddDouble(out, 3, 1.5);
    EXPECT(",1.5\r\n");
    respAddDouble(out, 2, 1.5);
    EXPECT("$3\r\n1.5\r\n");
    respAddDouble(out, 3, 3.0);
    EXPECT(",3\r\n");
    respAddDouble(out, 3, -2.25);
    EXPECT(",-2.25\r\n");
    respAddDouble(out, 2, 0.0);
    EXPECT("$1\r\n0\r\n");
    respAddDouble(out, 3, 1.0 / 0.0);
    EXPECT(",inf\r\n");
    respAddDouble(out, 3, -1.0 / 0.0);
    EXPECT(",-inf\r\n");
    respAddDouble(out, 2, 1.0 / 0.0);
    EXPECT("$3\r\ninf\r\n");
    respAddDouble(out, 2, -1.0 / 0.0);
    EXPECT("$4\r\n-inf\r\n");
}

Test(reply, bools) {
    respAddBool(out, 3, 1);
    EXPECT("#t\r\n");
    respAddBool(out, 3, 0);
    EXPECT("#f\r\n");
    respAddBool(out, 2, 1);
    EXPECT(":1\r\n");
    respAddBool(out, 2, 0);
    EXPECT(":0\r\n");
    respAddBool(out, 3, 42);
    EXPECT("#t\r\n");
}

Test(reply, verbatim) {
    respAddVerbatim(out, 3, "hello", 5, "txt");
    EXPECT("=9\r\ntxt:hello\r\n");
    respAddVerbatim(out, 2, "hello", 5, "txt");
    EXPECT("$5\r\nhello\r\n");
    respAddVerbatim(out, 3, "", 0, "mkd");
    EXPECT("=4\r\nmkd:\r\n");
    respAddVerbatim(out, 3, "a\r\nb", 4, "txt");
    EXPECT("=8\r\ntxt:a\r\nb\r\n");
}

Test(reply, writers_roundtrip_through_request_parser) {
    /* an array of bulks is a request: what we write, the parser reads */
    respAddArrayLen(out, 3);
    respAddBulkCString(out, "SET");
    respAddBulk(out, "k\0", 2);
    respAddBulkLongLong(out, 12345);
    size_t n = evbuffer_get_length(out);
    char *b = malloc(n);
    evbuffer_remove(out, b, n);
    outcome o;
    parseWhole(b, n, &AUTH, &o);
    cr_assert_eq(o.ncmds, 1);
    const char *want[] = {"SET", "k\0", "12345"};
    const size_t wl[] = {3, 2, 5};
    assertArgs(&o.cmds[0], 3, want, wl);
    outcomeFree(&o);
    free(b);
}

Test(reply, format_command_roundtrips_through_request_parser) {
    /* the bus's command writer: binary-safe, empty args, what the parser reads */
    const char *argv[] = {"PUT", "", "k\0\r\n", "12345"};
    const size_t lens[] = {3, 0, 4, 5};
    buf b;
    bufInit(&b);
    respFormatCommand(&b, 4, argv, lens);
    cr_assert_eq(b.len, strlen("*4\r\n$3\r\nPUT\r\n$0\r\n\r\n$4\r\n") + 4 + 2 +
                            strlen("$5\r\n12345\r\n"));
    cr_assert(memcmp(b.ptr, "*4\r\n$3\r\nPUT\r\n$0\r\n\r\n", 19) == 0);
    outcome o;
    parseWhole(b.ptr, b.len, &AUTH, &o);
    cr_assert_eq(o.ncmds, 1);
    assertArgs(&o.cmds[0], 4, argv, lens);
    outcomeFree(&o);
    respFormatCommand(&b, 1, argv, lens); /* cleared first */
    cr_assert_eq(b.len, 13);
    cr_assert(memcmp(b.ptr, "*1\r\n$3\r\nPUT\r\n", 13) == 0);
    bufFree(&b);
}
