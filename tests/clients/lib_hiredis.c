/* lib_hiredis.c -- Debian's hiredis (libhiredis-dev) against a ringkv node.
 *
 * Built by tests/clients/run.py:  cc -o X lib_hiredis.c -lhiredis
 * Usage: X HOST PORT DB
 * Speaks the line protocol of run.py: "ok NAME" / "FAIL NAME: why" per
 * check, "RESTART" (then waits for a line on stdin), "DONE". The checks are
 * the same in every lib_* program. hiredis has no automatic reconnection:
 * after the restart the first command fails (REDIS_ERR, c->err set), the
 * program calls redisReconnect() as a hiredis application does, and the
 * next command must work. */
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static redisContext *c;
static char why[1024];
static int failed;

#define FAILF(...)                                      \
    do {                                                \
        snprintf(why, sizeof(why), __VA_ARGS__);        \
        failed = 1;                                     \
        return;                                         \
    } while (0)

static const char *typeName(int t) {
    switch (t) {
    case REDIS_REPLY_STRING: return "string";
    case REDIS_REPLY_ARRAY: return "array";
    case REDIS_REPLY_INTEGER: return "integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_STATUS: return "status";
    case REDIS_REPLY_ERROR: return "error";
    default: return "?";
    }
}

/* One command from a format; NULL (and c->err) on a connection error. */
static redisReply *cmd(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    return r;
}

/* Expectations: each frees the reply and sets why/failed on a mismatch. */
static int expectStatus(redisReply *r, const char *want, const char *what) {
    if (failed) { if (r) freeReplyObject(r); return 0; }
    if (!r) { snprintf(why, sizeof(why), "%s: connection error %s", what, c->errstr); failed = 1; return 0; }
    int ok = r->type == REDIS_REPLY_STATUS && !strcmp(r->str, want);
    if (!ok) {
        snprintf(why, sizeof(why), "%s: got %s %.200s, want status %s", what, typeName(r->type),
                 r->str ? r->str : "", want);
        failed = 1;
    }
    freeReplyObject(r);
    return ok;
}

static int expectInt(redisReply *r, long long want, const char *what) {
    if (failed) { if (r) freeReplyObject(r); return 0; }
    if (!r) { snprintf(why, sizeof(why), "%s: connection error %s", what, c->errstr); failed = 1; return 0; }
    int ok = r->type == REDIS_REPLY_INTEGER && r->integer == want;
    if (!ok) {
        snprintf(why, sizeof(why), "%s: got %s %lld %.200s, want integer %lld", what,
                 typeName(r->type), r->integer, r->str ? r->str : "", want);
        failed = 1;
    }
    freeReplyObject(r);
    return ok;
}

static int expectIntRange(redisReply *r, long long lo, long long hi, const char *what) {
    if (failed) { if (r) freeReplyObject(r); return 0; }
    if (!r) { snprintf(why, sizeof(why), "%s: connection error %s", what, c->errstr); failed = 1; return 0; }
    int ok = r->type == REDIS_REPLY_INTEGER && r->integer >= lo && r->integer <= hi;
    if (!ok) {
        snprintf(why, sizeof(why), "%s: got %s %lld, want %lld..%lld", what, typeName(r->type),
                 r->integer, lo, hi);
        failed = 1;
    }
    freeReplyObject(r);
    return ok;
}

static int isBulk(const redisReply *r, const char *want, size_t wlen) {
    if (!want) return r->type == REDIS_REPLY_NIL;
    return r->type == REDIS_REPLY_STRING && r->len == wlen && !memcmp(r->str, want, wlen);
}

static int expectBulkLen(redisReply *r, const char *want, size_t wlen, const char *what) {
    if (failed) { if (r) freeReplyObject(r); return 0; }
    if (!r) { snprintf(why, sizeof(why), "%s: connection error %s", what, c->errstr); failed = 1; return 0; }
    int ok = isBulk(r, want, wlen);
    if (!ok) {
        snprintf(why, sizeof(why), "%s: got %s (%zu bytes) %.100s, want %s", what,
                 typeName(r->type), r->len, r->str ? r->str : "", want ? "that string" : "nil");
        failed = 1;
    }
    freeReplyObject(r);
    return ok;
}

static int expectBulk(redisReply *r, const char *want, const char *what) {
    return expectBulkLen(r, want, want ? strlen(want) : 0, what);
}

static int expectError(redisReply *r, const char *contains, const char *what) {
    if (failed) { if (r) freeReplyObject(r); return 0; }
    if (!r) { snprintf(why, sizeof(why), "%s: connection error %s", what, c->errstr); failed = 1; return 0; }
    int ok = r->type == REDIS_REPLY_ERROR && strstr(r->str, contains);
    if (!ok) {
        snprintf(why, sizeof(why), "%s: got %s %.200s, want an error mentioning %s", what,
                 typeName(r->type), r->str ? r->str : "", contains);
        failed = 1;
    }
    freeReplyObject(r);
    return ok;
}

static redisReply *getReply(void) {
    void *rep = NULL;
    if (redisGetReply(c, &rep) != REDIS_OK) return NULL;
    return rep;
}

/* The element NIL stands for a nil element in an expected array. */
static const char NIL_ELEM[] = "(nil)";
#define NIL NIL_ELEM

static int cmpstr(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

/* Whether r is an array of exactly the n strings want (NIL: a nil element),
 * in that order, or in any order when anyOrder (each element once). */
static int arrayIs(const redisReply *r, const char **want, size_t n, int anyOrder) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) return 0;
    char **got = calloc(n + 1, sizeof(char *)), **exp = calloc(n + 1, sizeof(char *));
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        const redisReply *e = r->element[i];
        if (e->type == REDIS_REPLY_NIL) got[i] = strdup(NIL_ELEM);
        else if (e->type == REDIS_REPLY_STRING && strlen(e->str) == e->len) got[i] = strdup(e->str);
        else ok = 0;
        exp[i] = strdup(want[i]);
    }
    if (ok && anyOrder) {
        qsort(got, n, sizeof(char *), cmpstr);
        qsort(exp, n, sizeof(char *), cmpstr);
        for (size_t i = 1; i < n && ok; i++) ok = strcmp(got[i], got[i - 1]) != 0;
    }
    for (size_t i = 0; i < n && ok; i++) ok = !strcmp(got[i], exp[i]);
    for (size_t i = 0; i < n; i++) {
        free(got[i]);
        free(exp[i]);
    }
    free(got);
    free(exp);
    return ok;
}

/* The reply, for a failure message: "[a, b, (nil)]", "integer 3"... */
static const char *show(const redisReply *r) {
    static char buf[400];
    size_t o = 0;
    if (r->type == REDIS_REPLY_ARRAY) {
        o += snprintf(buf, sizeof(buf), "[");
        for (size_t i = 0; i < r->elements && o < sizeof(buf) - 40; i++) {
            const redisReply *e = r->element[i];
            o += snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? ", " : "",
                          e->type == REDIS_REPLY_STRING ? e->str : typeName(e->type));
        }
        snprintf(buf + o, sizeof(buf) - o, "]");
    } else if (r->type == REDIS_REPLY_INTEGER) {
        snprintf(buf, sizeof(buf), "integer %lld", r->integer);
    } else {
        snprintf(buf, sizeof(buf), "%s %.200s", typeName(r->type), r->str ? r->str : "");
    }
    return buf;
}

/* expectArray(reply, anyOrder, what, "a", "b", NIL, ..., NULL) */
static int expectArray(redisReply *r, int anyOrder, const char *what, ...) {
    if (failed) { if (r) freeReplyObject(r); return 0; }
    if (!r) { snprintf(why, sizeof(why), "%s: connection error %s", what, c->errstr); failed = 1; return 0; }
    const char *want[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, what);
    for (const char *s; (s = va_arg(ap, const char *)) && n < 64;) want[n++] = s;
    va_end(ap);
    int ok = arrayIs(r, want, n, anyOrder);
    if (!ok) {
        snprintf(why, sizeof(why), "%s: got %s, want %zu elements%s", what, show(r), n,
                 anyOrder ? " in any order" : "");
        failed = 1;
    }
    freeReplyObject(r);
    return ok;
}

/* ---------------------------------------------------------------- checks */

static void t_ping(void) { expectStatus(cmd("PING"), "PONG", "PING"); }

static void t_strings(void) {
    freeReplyObject(cmd("DEL s1 s2"));
    expectStatus(cmd("SET s1 hello"), "OK", "SET");
    expectBulk(cmd("GET s1"), "hello", "GET");
    expectBulk(cmd("GET missing"), NULL, "GET missing");
    expectInt(cmd("APPEND s1 %s", " world"), 11, "APPEND");
    expectInt(cmd("STRLEN s1"), 11, "STRLEN");
    expectBulk(cmd("GETRANGE s1 0 4"), "hello", "GETRANGE");
    expectBulk(cmd("SET s1 x NX"), NULL, "SET NX on an existing key");
    expectBulk(cmd("SET s2 y XX"), NULL, "SET XX on a missing key");
    expectStatus(cmd("SET s2 y NX"), "OK", "SET NX on a missing key");
    expectBulk(cmd("GETDEL s2"), "y", "GETDEL");
    expectBulk(cmd("GET s2"), NULL, "GET after GETDEL");
}

static void t_binary(void) {
    char val[1024 + 16];
    size_t n = 0;
    for (int k = 0; k < 4; k++)
        for (int b = 0; b < 256; b++) val[n++] = (char)b;
    memcpy(val + n, "\r\n\0*1\r\n$3\r\n", 12);
    n += 12;
    const char key[] = "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87 \xe2\x9c\x93 \0\r\n";
    size_t klen = sizeof(key) - 1;
    expectStatus(cmd("SET %b %b", key, klen, val, n), "OK", "SET binary");
    expectBulkLen(cmd("GET %b", key, klen), val, n, "GET binary");
    expectInt(cmd("STRLEN %b", key, klen), (long long)n, "STRLEN binary");
}

static void t_large(void) {
    size_t n = 16 * 65536; /* 1 MiB */
    char *val = malloc(n);
    for (size_t i = 0; i < n; i++) val[i] = "0123456789abcdef"[i % 16];
    expectStatus(cmd("SET big %b", val, n), "OK", "SET 1 MiB");
    expectBulkLen(cmd("GET big"), val, n, "GET 1 MiB");
    free(val);
}

static void t_counters(void) {
    freeReplyObject(cmd("DEL c f c2"));
    expectInt(cmd("INCR c"), 1, "INCR");
    expectInt(cmd("INCRBY c 41"), 42, "INCRBY");
    expectInt(cmd("DECR c"), 41, "DECR");
    expectInt(cmd("DECRBY c 40"), 1, "DECRBY");
    expectBulk(cmd("INCRBYFLOAT f 1.5"), "1.5", "INCRBYFLOAT");
    expectBulk(cmd("INCRBYFLOAT f 0.1"), "1.6", "INCRBYFLOAT 0.1");
    expectBulk(cmd("GET c"), "1", "GET counter");
    expectBulk(cmd("GET f"), "1.6", "GET float counter");
    /* a SET value, float steps back to an integer, then INCR works again */
    expectStatus(cmd("SET c2 10"), "OK", "SET 10");
    expectBulk(cmd("INCRBYFLOAT c2 0.5"), "10.5", "INCRBYFLOAT 0.5");
    expectBulk(cmd("INCRBYFLOAT c2 0.5"), "11", "INCRBYFLOAT 0.5 again");
    expectBulk(cmd("GET c2"), "11", "GET after the float steps");
    expectInt(cmd("INCR c2"), 12, "INCR after INCRBYFLOAT");
    expectInt(cmd("INCRBY c2 -20"), -8, "INCRBY negative");
    expectError(cmd("INCRBYFLOAT c2 abc"), "ERR value is not a valid float", "INCRBYFLOAT abc");
}

static void t_multikey(void) {
    expectStatus(cmd("MSET m0 vm0 m1 vm1 m2 vm2 m3 vm3 m4 vm4 m5 vm5 m6 vm6 m7 vm7 m8 vm8 m9 vm9"),
                 "OK", "MSET");
    redisReply *r = cmd("MGET m0 m1 m2 m3 m4 m5 m6 m7 m8 m9 missing");
    if (!r) FAILF("MGET: connection error %s", c->errstr);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 11) {
        freeReplyObject(r);
        FAILF("MGET: not an array of 11");
    }
    for (int i = 0; i < 10; i++) {
        char want[8];
        snprintf(want, sizeof(want), "vm%d", i);
        if (!isBulk(r->element[i], want, strlen(want))) {
            freeReplyObject(r);
            FAILF("MGET element %d", i);
        }
    }
    if (r->element[10]->type != REDIS_REPLY_NIL) {
        freeReplyObject(r);
        FAILF("MGET missing key not nil");
    }
    freeReplyObject(r);
    expectInt(cmd("EXISTS m1 m2 missing"), 2, "EXISTS");
    expectInt(cmd("DEL m1 m2 m3 missing"), 3, "DEL");
    expectBulk(cmd("GET m1"), NULL, "GET after DEL");
    expectInt(cmd("UNLINK m4 m5"), 2, "UNLINK");
}

static void t_expiry(void) {
    freeReplyObject(cmd("DEL e1 e2 e3 e4"));
    expectStatus(cmd("SET e1 v EX 100"), "OK", "SET EX");
    expectIntRange(cmd("TTL e1"), 95, 100, "TTL");
    expectIntRange(cmd("PTTL e1"), 95000, 100000, "PTTL");
    expectInt(cmd("EXPIRE e1 200"), 1, "EXPIRE");
    expectIntRange(cmd("TTL e1"), 195, 200, "TTL after EXPIRE 200");
    expectInt(cmd("PERSIST e1"), 1, "PERSIST");
    expectInt(cmd("TTL e1"), -1, "TTL after PERSIST");
    expectInt(cmd("TTL missing"), -2, "TTL missing");
    expectInt(cmd("EXPIRE missing 10"), 0, "EXPIRE missing");
    long long at = (long long)time(NULL) + 100;
    expectStatus(cmd("SET e4 v EXAT %lld", at), "OK", "SET EXAT");
    expectInt(cmd("EXPIRETIME e4"), at, "EXPIRETIME");
    expectStatus(cmd("SET e2 v PX 300"), "OK", "SET PX");
    expectStatus(cmd("SETEX e3 1 v"), "OK", "SETEX");
    if (failed) return;
    usleep(1300 * 1000);
    expectBulk(cmd("GET e2"), NULL, "GET after PX expiry");
    expectBulk(cmd("GET e3"), NULL, "GET after SETEX expiry");
    expectInt(cmd("EXISTS e2 e3"), 0, "EXISTS after expiry");
    expectInt(cmd("TTL e2"), -2, "TTL after expiry");
    expectBulk(cmd("GET e1"), "v", "persisted key still there");
}

static void t_pipeline(void) {
    for (int i = 0; i < 100; i++) redisAppendCommand(c, "SET p:%d %d", i, i);
    for (int i = 0; i < 100; i++) {
        redisAppendCommand(c, "INCR p:%d", i);
        redisAppendCommand(c, "GET p:%d", i);
    }
    redisAppendCommand(c, "SET p:str abc");
    redisAppendCommand(c, "INCR p:str");
    redisAppendCommand(c, "GET p:str");
    char what[64], want[16];
    for (int i = 0; i < 100; i++) {
        snprintf(what, sizeof(what), "SET reply %d", i);
        expectStatus(getReply(), "OK", what);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(what, sizeof(what), "INCR reply %d", i);
        expectInt(getReply(), i + 1, what);
        snprintf(what, sizeof(what), "GET reply %d", i);
        snprintf(want, sizeof(want), "%d", i + 1);
        expectBulk(getReply(), want, what);
    }
    expectStatus(getReply(), "OK", "SET p:str");
    expectError(getReply(), "not an integer", "INCR on a string in a pipeline");
    expectBulk(getReply(), "abc", "GET after the error");
}

static void t_transaction(void) {
    freeReplyObject(cmd("DEL t1 t2"));
    expectStatus(cmd("MULTI"), "OK", "MULTI");
    expectStatus(cmd("SET t1 a"), "QUEUED", "SET queued");
    expectStatus(cmd("INCR t2"), "QUEUED", "INCR queued");
    expectStatus(cmd("GET t1"), "QUEUED", "GET queued");
    expectStatus(cmd("MGET t1 t2"), "QUEUED", "MGET queued");
    if (failed) return;
    redisReply *r = cmd("EXEC");
    if (!r) FAILF("EXEC: connection error %s", c->errstr);
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
             r->element[0]->type == REDIS_REPLY_STATUS && !strcmp(r->element[0]->str, "OK") &&
             r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer == 1 &&
             isBulk(r->element[2], "a", 1) && r->element[3]->type == REDIS_REPLY_ARRAY &&
             r->element[3]->elements == 2 && isBulk(r->element[3]->element[0], "a", 1) &&
             isBulk(r->element[3]->element[1], "1", 1);
    freeReplyObject(r);
    if (!ok) FAILF("EXEC replies are not [OK, 1, a, [a, 1]]");
    /* the same, pipelined in one write */
    redisAppendCommand(c, "MULTI");
    redisAppendCommand(c, "INCR t2");
    redisAppendCommand(c, "GET t2");
    redisAppendCommand(c, "EXEC");
    expectStatus(getReply(), "OK", "MULTI (pipelined)");
    expectStatus(getReply(), "QUEUED", "INCR queued (pipelined)");
    expectStatus(getReply(), "QUEUED", "GET queued (pipelined)");
    if (failed) return;
    r = getReply();
    if (!r) FAILF("EXEC: connection error %s", c->errstr);
    ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
         r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 2 &&
         isBulk(r->element[1], "2", 1);
    freeReplyObject(r);
    if (!ok) FAILF("pipelined EXEC replies are not [2, \"2\"]");
    /* DISCARD */
    expectStatus(cmd("MULTI"), "OK", "MULTI");
    expectStatus(cmd("SET t4 x"), "QUEUED", "SET queued");
    expectStatus(cmd("DISCARD"), "OK", "DISCARD");
    expectBulk(cmd("GET t4"), NULL, "a discarded command did not run");
    expectError(cmd("EXEC"), "EXEC without MULTI", "EXEC without MULTI");
}

static void t_transaction_error(void) {
    freeReplyObject(cmd("DEL te te2"));
    expectStatus(cmd("MULTI"), "OK", "MULTI");
    expectStatus(cmd("SET te notanumber"), "QUEUED", "SET queued");
    expectStatus(cmd("INCR te"), "QUEUED", "INCR queued");
    expectStatus(cmd("SET te2 after"), "QUEUED", "SET queued");
    if (failed) return;
    redisReply *r = cmd("EXEC");
    if (!r) FAILF("EXEC: connection error %s", c->errstr);
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
             r->element[0]->type == REDIS_REPLY_STATUS &&
             r->element[1]->type == REDIS_REPLY_ERROR &&
             strstr(r->element[1]->str, "not an integer") &&
             r->element[2]->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (!ok) FAILF("EXEC replies are not [OK, error, OK]");
    expectBulk(cmd("GET te2"), "after", "command after the error ran");
    expectBulk(cmd("GET te"), "notanumber", "value");
}

static void t_transaction_abort(void) {
    freeReplyObject(cmd("DEL ta"));
    expectStatus(cmd("MULTI"), "OK", "MULTI");
    expectStatus(cmd("SET ta x"), "QUEUED", "SET queued");
    expectError(cmd("GET"), "wrong number of arguments", "GET without a key while queueing");
    expectError(cmd("EXEC"), "EXECABORT", "EXEC after a queueing error");
    expectBulk(cmd("GET ta"), NULL, "nothing of an aborted transaction ran");
}

static void t_watch(void) {
    expectError(cmd("WATCH w"), "WATCH", "WATCH");
    expectStatus(cmd("UNWATCH"), "OK", "UNWATCH");
    expectStatus(cmd("PING"), "PONG", "PING after WATCH error");
}

static void t_errors(void) {
    freeReplyObject(cmd("SET en abc"));
    expectError(cmd("INCR en"), "not an integer", "INCR on a string");
    expectError(cmd("LPUSH l x"), "unknown command", "LPUSH");
    expectError(cmd("GET a b"), "wrong number of arguments", "GET a b");
    expectError(cmd("SET en v EX -5"), "invalid expire", "SET EX -5");
    expectStatus(cmd("PING"), "PONG", "PING after errors");
    expectBulk(cmd("GET en"), "abc", "GET after errors");
}

/* expectPairs(reply, what, "f1", "v1", "f2", "v2", ..., NULL): a flat
 * field/value array (HGETALL) holding exactly these pairs, in any order. */
static int expectPairs(redisReply *r, const char *what, ...) {
    if (failed) { if (r) freeReplyObject(r); return 0; }
    if (!r) { snprintf(why, sizeof(why), "%s: connection error %s", what, c->errstr); failed = 1; return 0; }
    char *want[64], *got[64];
    size_t n = 0, g = 0;
    va_list ap;
    va_start(ap, what);
    for (const char *f, *v;
         (f = va_arg(ap, const char *)) && (v = va_arg(ap, const char *)) && n < 64;) {
        want[n] = malloc(strlen(f) + strlen(v) + 2);
        sprintf(want[n++], "%s=%s", f, v);
    }
    va_end(ap);
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 * n;
    for (size_t i = 0; ok && i < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        ok = f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING;
        if (!ok) break;
        got[g] = malloc(f->len + v->len + 2);
        sprintf(got[g++], "%s=%s", f->str, v->str);
    }
    if (ok) {
        qsort(got, g, sizeof(char *), cmpstr);
        qsort(want, n, sizeof(char *), cmpstr);
        for (size_t i = 0; ok && i < n; i++) ok = !strcmp(got[i], want[i]);
    }
    if (!ok) {
        snprintf(why, sizeof(why), "%s: got %s, want %zu pairs in any order", what, show(r), n);
        failed = 1;
    }
    for (size_t i = 0; i < g; i++) free(got[i]);
    for (size_t i = 0; i < n; i++) free(want[i]);
    freeReplyObject(r);
    return ok;
}

/* A command of argc words: fixed words, then "<prefix><i>" (and, with
 * pairs, "<vprefix><i>" or the score i/4) for i in 0..n-1. */
static redisReply *cmdMany(const char *head, const char *key, int n, const char *prefix,
                           int mode /* 0 members, 1 field value, 2 score member */) {
    int argc = 0;
    char **argv = calloc((size_t)(2 * n + 3), sizeof(char *));
    argv[argc++] = strdup(head);
    argv[argc++] = strdup(key);
    for (int i = 0; i < n; i++) {
        char a[32], b[32];
        snprintf(a, sizeof(a), "%s%d", prefix, i);
        if (mode == 2) {
            snprintf(b, sizeof(b), "%g", i / 4.0);
            argv[argc++] = strdup(b);
            argv[argc++] = strdup(a);
        } else {
            argv[argc++] = strdup(a);
            if (mode == 1) {
                snprintf(b, sizeof(b), "v%d", i);
                argv[argc++] = strdup(b);
            }
        }
    }
    redisReply *r = redisCommandArgv(c, argc, (const char **)argv, NULL);
    for (int i = 0; i < argc; i++) free(argv[i]);
    free(argv);
    return r;
}

/* SSCAN/HSCAN/ZSCAN key [MATCH match] [COUNT count] (count 0: none) to the
 * end; collects each element (pairs as "field=value"), strdup'd, into out.
 * Returns the count, or -1 with why set. */
static int scanKey(const char *scan, const char *key, const char *match, int count, int pairs,
                   char **out, int max) {
    char cur[32] = "0";
    int n = 0, rounds = 0;
    do {
        redisReply *r = match ? cmd("%s %s %s MATCH %s COUNT %d", scan, key, cur, match, count)
                        : count ? cmd("%s %s %s COUNT %d", scan, key, cur, count)
                                : cmd("%s %s %s", scan, key, cur);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY ||
            (pairs && r->element[1]->elements % 2)) {
            snprintf(why, sizeof(why), "%s %s %s: bad reply %s", scan, key, cur, r ? show(r) : "");
            if (r) freeReplyObject(r);
            return -1;
        }
        snprintf(cur, sizeof(cur), "%s", r->element[0]->str);
        redisReply *a = r->element[1];
        for (size_t i = 0; i < a->elements; i += pairs ? 2 : 1) {
            if (n == max) {
                freeReplyObject(r);
                snprintf(why, sizeof(why), "%s returned more than %d elements", scan, max);
                return -1;
            }
            char buf[128];
            if (pairs)
                snprintf(buf, sizeof(buf), "%s=%s", a->element[i]->str, a->element[i + 1]->str);
            else snprintf(buf, sizeof(buf), "%s", a->element[i]->str);
            out[n++] = strdup(buf);
        }
        freeReplyObject(r);
        if (++rounds > 100000) {
            snprintf(why, sizeof(why), "%s cursor never returned to 0", scan);
            return -1;
        }
    } while (strcmp(cur, "0"));
    return n;
}

/* got (n elements, freed here) must be exactly "<prefix><i>[=<value i>]" for
 * the i in 0..total-1 whose name starts with only (NULL: every i), once each;
 * values: 0 none, 1 "v<i>", 2 the score i/4 as Redis prints it. */
static void expectScan(char **got, int n, const char *prefix, int total, const char *only,
                       int values, const char *what) {
    char **want = calloc((size_t)total, sizeof(char *));
    int w = 0;
    for (int i = 0; i < total; i++) {
        char name[32], buf[80];
        snprintf(name, sizeof(name), "%s%d", prefix, i);
        if (only && strncmp(name, only, strlen(only))) continue;
        if (values == 1) snprintf(buf, sizeof(buf), "%s=v%d", name, i);
        else if (values == 2) snprintf(buf, sizeof(buf), "%s=%.17g", name, i / 4.0);
        else snprintf(buf, sizeof(buf), "%s", name);
        want[w++] = strdup(buf);
    }
    qsort(got, (size_t)n, sizeof(char *), cmpstr);
    qsort(want, (size_t)w, sizeof(char *), cmpstr);
    int ok = n == w;
    for (int i = 0; ok && i < n; i++) ok = !strcmp(got[i], want[i]);
    if (!ok && !failed) {
        int i = 0;
        while (i < n && i < w && !strcmp(got[i], want[i])) i++;
        snprintf(why, sizeof(why), "%s: %d elements, want %d; first difference: %s vs %s", what,
                 n, w, i < n ? got[i] : "-", i < w ? want[i] : "-");
        failed = 1;
    }
    for (int i = 0; i < n; i++) free(got[i]);
    for (int i = 0; i < w; i++) free(want[i]);
    free(want);
}

static void t_sets(void) {
    freeReplyObject(cmd("DEL s1 s2 s3 sd sbig"));
    expectInt(cmd("SADD s1 a b c"), 3, "SADD");
    expectInt(cmd("SADD s1 a d"), 1, "SADD an existing and a new member");
    expectInt(cmd("SREM s1 b nope"), 1, "SREM");
    expectArray(cmd("SMEMBERS s1"), 1, "SMEMBERS", "a", "c", "d", NULL);
    expectInt(cmd("SISMEMBER s1 a"), 1, "SISMEMBER a member");
    expectInt(cmd("SISMEMBER s1 b"), 0, "SISMEMBER a removed member");
    expectInt(cmd("SCARD s1"), 3, "SCARD");
    expectInt(cmd("SCARD missing"), 0, "SCARD missing");
    expectArray(cmd("SMEMBERS missing"), 0, "SMEMBERS missing", NULL);
    expectInt(cmd("SADD s2 c d e"), 3, "SADD s2");
    expectArray(cmd("SINTER s1 s2"), 1, "SINTER", "c", "d", NULL);
    expectArray(cmd("SINTER s1 missing"), 0, "SINTER with a missing key", NULL);
    expectInt(cmd("SUNIONSTORE sd s1 s2"), 4, "SUNIONSTORE");
    expectArray(cmd("SMEMBERS sd"), 1, "SMEMBERS of the SUNIONSTORE destination", "a", "c", "d",
                "e", NULL);
    expectStatus(cmd("TYPE sd"), "set", "TYPE");
    char member[258];
    for (int i = 0; i < 256; i++) member[i] = (char)i;
    member[256] = '\r';
    member[257] = '\n';
    expectInt(cmd("SADD s3 %b %b", member, sizeof(member), "", (size_t)0), 2,
              "SADD binary and empty members");
    expectInt(cmd("SISMEMBER s3 %b", member, sizeof(member)), 1, "SISMEMBER binary");
    expectInt(cmd("SISMEMBER s3 %b", "", (size_t)0), 1, "SISMEMBER empty");
    if (failed) return;
    redisReply *r = cmd("SMEMBERS s3");
    if (!r) FAILF("SMEMBERS binary: connection error %s", c->errstr);
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2;
    for (size_t i = 0; ok && i < 2; i++) {
        const redisReply *e = r->element[i];
        ok = e->type == REDIS_REPLY_STRING &&
             (e->len == 0 || (e->len == sizeof(member) && !memcmp(e->str, member, e->len)));
    }
    ok = ok && r->element[0]->len != r->element[1]->len;
    freeReplyObject(r);
    if (!ok) FAILF("SMEMBERS binary: not the binary and the empty member");
    expectInt(cmd("SREM s2 c d e"), 3, "SREM every member");
    expectInt(cmd("EXISTS s2"), 0, "a set without members does not exist");
    expectInt(cmdMany("SADD", "sbig", 300, "m", 0), 300, "SADD 300 members");
    if (failed) return;
    static char *got[1000];
    const int counts[] = {0, 7, 1000};
    for (int v = 0; v < 3 && !failed; v++) {
        int n = scanKey("SSCAN", "sbig", NULL, counts[v], 0, got, 1000);
        if (n < 0) { failed = 1; return; }
        char what[64];
        snprintf(what, sizeof(what), "SSCAN COUNT %d", counts[v]);
        expectScan(got, n, "m", 300, NULL, 0, what);
    }
    int n = scanKey("SSCAN", "sbig", "m1*", 10, 0, got, 1000);
    if (n < 0) { failed = 1; return; }
    expectScan(got, n, "m", 300, "m1", 0, "SSCAN MATCH m1*");
}

static void t_hashes(void) {
    freeReplyObject(cmd("DEL h1 hbig"));
    expectInt(cmd("HSET h1 name ringkv n 10 f 1.5"), 3, "HSET three fields");
    expectInt(cmd("HSET h1 name rk"), 0, "HSET an existing field");
    expectBulk(cmd("HGET h1 name"), "rk", "HGET");
    expectBulk(cmd("HGET h1 nope"), NULL, "HGET a missing field");
    expectBulk(cmd("HGET missing name"), NULL, "HGET a missing key");
    expectPairs(cmd("HGETALL h1"), "HGETALL", "name", "rk", "n", "10", "f", "1.5", NULL);
    expectPairs(cmd("HGETALL missing"), "HGETALL missing", NULL);
    expectInt(cmd("HINCRBY h1 n 5"), 15, "HINCRBY");
    expectInt(cmd("HINCRBY h1 new -3"), -3, "HINCRBY a new field");
    expectBulk(cmd("HINCRBYFLOAT h1 f 0.25"), "1.75", "HINCRBYFLOAT");
    expectError(cmd("HINCRBY h1 name 1"), "ERR hash value is not an integer", "HINCRBY a string");
    expectInt(cmd("HDEL h1 name nope"), 1, "HDEL");
    expectInt(cmd("HLEN h1"), 3, "HLEN");
    expectInt(cmd("HEXISTS h1 name"), 0, "HEXISTS a deleted field");
    expectArray(cmd("HMGET h1 n name new"), 0, "HMGET", "15", NIL, "-3", NULL);
    expectPairs(cmd("HGETALL h1"), "HGETALL after the changes", "n", "15", "f", "1.75", "new", "-3",
                NULL);
    expectStatus(cmd("TYPE h1"), "hash", "TYPE");
    expectInt(cmd("HDEL h1 n f new"), 3, "HDEL every field");
    expectInt(cmd("EXISTS h1"), 0, "a hash without fields does not exist");
    expectInt(cmdMany("HSET", "hbig", 300, "f", 1), 300, "HSET 300 fields");
    if (failed) return;
    static char *got[1000];
    const int counts[] = {0, 7, 1000};
    for (int v = 0; v < 3 && !failed; v++) {
        int n = scanKey("HSCAN", "hbig", NULL, counts[v], 1, got, 1000);
        if (n < 0) { failed = 1; return; }
        char what[64];
        snprintf(what, sizeof(what), "HSCAN COUNT %d", counts[v]);
        expectScan(got, n, "f", 300, NULL, 1, what);
    }
    int n = scanKey("HSCAN", "hbig", "f1*", 10, 1, got, 1000);
    if (n < 0) { failed = 1; return; }
    expectScan(got, n, "f", 300, "f1", 1, "HSCAN MATCH f1*");
}

static void t_zsets(void) {
    freeReplyObject(cmd("DEL z1 zbig"));
    expectInt(cmd("ZADD z1 1 a 2.5 b -3 c 1 d"), 4, "ZADD");
    expectInt(cmd("ZADD z1 1 a 10 e"), 1, "ZADD an existing and a new member");
    expectArray(cmd("ZRANGE z1 0 -1 WITHSCORES"), 0, "ZRANGE WITHSCORES", "c", "-3", "a", "1", "d",
                "1", "b", "2.5", "e", "10", NULL);
    expectArray(cmd("ZRANGE z1 0 1"), 0, "ZRANGE 0 1", "c", "a", NULL);
    expectArray(cmd("ZRANGEBYSCORE z1 1 2.5"), 0, "ZRANGEBYSCORE 1 2.5", "a", "d", "b", NULL);
    expectArray(cmd("ZRANGEBYSCORE z1 (1 +inf WITHSCORES"), 0, "ZRANGEBYSCORE (1 +inf WITHSCORES",
                "b", "2.5", "e", "10", NULL);
    expectBulk(cmd("ZINCRBY z1 0.5 a"), "1.5", "ZINCRBY");
    expectBulk(cmd("ZINCRBY z1 2 new"), "2", "ZINCRBY a new member");
    expectBulk(cmd("ZSCORE z1 a"), "1.5", "ZSCORE");
    expectInt(cmd("ZREVRANK z1 e"), 0, "ZREVRANK of the highest");
    expectInt(cmd("ZREVRANK z1 c"), 5, "ZREVRANK of the lowest");
    expectBulk(cmd("ZREVRANK z1 nope"), NULL, "ZREVRANK of a missing member");
    expectInt(cmd("ZREM z1 b nope"), 1, "ZREM");
    expectArray(cmd("ZPOPMIN z1"), 0, "ZPOPMIN", "c", "-3", NULL);
    expectArray(cmd("ZPOPMIN z1 2"), 0, "ZPOPMIN 2", "d", "1", "a", "1.5", NULL);
    expectInt(cmd("ZCARD z1"), 2, "ZCARD");
    expectInt(cmd("ZADD z1 XX CH 20 e 1 nope"), 1, "ZADD XX CH");
    expectInt(cmd("ZADD z1 inf inf"), 1, "ZADD inf");
    expectArray(cmd("ZRANGE z1 0 -1 WITHSCORES"), 0, "ZRANGE WITHSCORES after the changes", "new",
                "2", "e", "20", "inf", "inf", NULL);
    expectError(cmd("ZINCRBY z1 abc e"), "ERR value is not a valid float", "ZINCRBY abc");
    expectStatus(cmd("TYPE z1"), "zset", "TYPE");
    expectArray(cmd("ZPOPMIN z1 10"), 0, "ZPOPMIN 10", "new", "2", "e", "20", "inf", "inf", NULL);
    expectInt(cmd("EXISTS z1"), 0, "a sorted set without members does not exist");
    expectArray(cmd("ZPOPMIN z1"), 0, "ZPOPMIN missing", NULL);
    expectInt(cmdMany("ZADD", "zbig", 300, "m", 2), 300, "ZADD 300 members");
    if (failed) return;
    static char *got[1000];
    int n = scanKey("ZSCAN", "zbig", NULL, 7, 1, got, 1000);
    if (n < 0) { failed = 1; return; }
    expectScan(got, n, "m", 300, NULL, 2, "ZSCAN COUNT 7");
    expectArray(cmd("ZRANGEBYSCORE zbig 10 11"), 0, "ZRANGEBYSCORE 10 11", "m40", "m41", "m42",
                "m43", "m44", NULL);
}

static void t_hll(void) {
    freeReplyObject(cmd("DEL p1 p2 p3 pbig"));
    expectInt(cmd("PFADD p1 a b c"), 1, "PFADD");
    expectInt(cmd("PFADD p1 a b"), 0, "PFADD nothing new");
    expectInt(cmd("PFCOUNT p1"), 3, "PFCOUNT");
    expectInt(cmd("PFADD p2 c d"), 1, "PFADD p2");
    expectInt(cmd("PFCOUNT p1 p2"), 4, "PFCOUNT of two");
    expectStatus(cmd("PFMERGE p3 p1 p2"), "OK", "PFMERGE");
    expectInt(cmd("PFCOUNT p3"), 4, "PFCOUNT of the merge");
    expectInt(cmd("PFCOUNT missing"), 0, "PFCOUNT missing");
    for (int i = 0; i < 20000; i += 1000) {
        char prefix[16];
        snprintf(prefix, sizeof(prefix), "e%d:", i);
        expectIntRange(cmdMany("PFADD", "pbig", 1000, prefix, 0), 0, 1, "PFADD 1000 elements");
    }
    expectIntRange(cmd("PFCOUNT pbig"), 19400, 20600, "PFCOUNT of 20000 elements");
}

static void t_types_pipeline(void) {
    freeReplyObject(cmd("DEL xp:s xp:h xp:z xp:p xp:c"));
    redisAppendCommand(c, "SADD xp:s a b");
    redisAppendCommand(c, "HSET xp:h f v n 1");
    redisAppendCommand(c, "ZADD xp:z 1 m 2 n");
    redisAppendCommand(c, "PFADD xp:p a b c");
    redisAppendCommand(c, "INCRBY xp:c 5");
    redisAppendCommand(c, "INCRBYFLOAT xp:c 0.5");
    redisAppendCommand(c, "SMEMBERS xp:s");
    redisAppendCommand(c, "HINCRBY xp:h n 2");
    redisAppendCommand(c, "HGETALL xp:h");
    redisAppendCommand(c, "ZINCRBY xp:z 5 m");
    redisAppendCommand(c, "ZRANGE xp:z 0 -1 WITHSCORES");
    redisAppendCommand(c, "PFCOUNT xp:p");
    redisAppendCommand(c, "SADD xp:h x"); /* WRONGTYPE in the middle */
    redisAppendCommand(c, "SCARD xp:s");
    redisAppendCommand(c, "GET xp:c");
    for (int i = 0; i < 100; i++) {
        redisAppendCommand(c, "SADD xp:s m%d", i);
        redisAppendCommand(c, "HSET xp:h f%d %d", i, i);
        redisAppendCommand(c, "ZADD xp:z %d m%d", i, i);
    }
    redisAppendCommand(c, "SCARD xp:s");
    redisAppendCommand(c, "HLEN xp:h");
    redisAppendCommand(c, "ZCARD xp:z");
    redisAppendCommand(c, "ZREVRANK xp:z m");
    expectInt(getReply(), 2, "SADD");
    expectInt(getReply(), 2, "HSET");
    expectInt(getReply(), 2, "ZADD");
    expectInt(getReply(), 1, "PFADD");
    expectInt(getReply(), 5, "INCRBY");
    expectBulk(getReply(), "5.5", "INCRBYFLOAT");
    expectArray(getReply(), 1, "SMEMBERS", "a", "b", NULL);
    expectInt(getReply(), 3, "HINCRBY");
    expectPairs(getReply(), "HGETALL", "f", "v", "n", "3", NULL);
    expectBulk(getReply(), "6", "ZINCRBY");
    expectArray(getReply(), 0, "ZRANGE WITHSCORES", "n", "2", "m", "6", NULL);
    expectInt(getReply(), 3, "PFCOUNT");
    expectError(getReply(), "WRONGTYPE Operation against a key holding the wrong kind of value",
                "SADD on a hash in a pipeline");
    expectInt(getReply(), 2, "SCARD after the error");
    expectBulk(getReply(), "5.5", "GET after the error");
    for (int i = 0; i < 300; i++) expectInt(getReply(), 1, "SADD/HSET/ZADD");
    expectInt(getReply(), 102, "SCARD");
    expectInt(getReply(), 102, "HLEN");
    expectInt(getReply(), 102, "ZCARD");
    /* m (score 6) ranks below m7..m99 and m6 (equal scores: the greater member first) */
    expectInt(getReply(), 94, "ZREVRANK");
}

static void t_types_transaction(void) {
    freeReplyObject(cmd("DEL xt:s xt:h xt:z xt:p xt:c"));
    const char *queued[] = {"SADD xt:s a", "HSET xt:h f 1", "ZADD xt:z 2 m", "PFADD xt:p x",
                            "INCR xt:c", "SISMEMBER xt:s a", "HINCRBY xt:h f 4", "ZINCRBY xt:z 1 m",
                            "PFCOUNT xt:p", "SMEMBERS xt:s", "HGETALL xt:h",
                            "ZRANGE xt:z 0 -1 WITHSCORES", "GET xt:c"};
    size_t nq = sizeof(queued) / sizeof(queued[0]);
    expectStatus(cmd("MULTI"), "OK", "MULTI");
    for (size_t i = 0; i < nq; i++) expectStatus(cmd(queued[i]), "QUEUED", queued[i]);
    if (failed) return;
    redisReply *r = cmd("EXEC");
    if (!r) FAILF("EXEC: connection error %s", c->errstr);
    const long long ints[] = {1, 1, 1, 1, 1, 1, 5};
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements == nq;
    for (size_t i = 0; ok && i < 7; i++)
        ok = r->element[i]->type == REDIS_REPLY_INTEGER && r->element[i]->integer == ints[i];
    const char *sm[] = {"a"}, *hg[] = {"f", "5"}, *zr[] = {"m", "3"};
    ok = ok && isBulk(r->element[7], "3", 1) && r->element[8]->type == REDIS_REPLY_INTEGER &&
         r->element[8]->integer == 1 && arrayIs(r->element[9], sm, 1, 0) &&
         arrayIs(r->element[10], hg, 2, 0) && arrayIs(r->element[11], zr, 2, 0) &&
         isBulk(r->element[12], "1", 1);
    if (!ok) {
        snprintf(why, sizeof(why), "EXEC replies: %s", show(r));
        failed = 1;
    }
    freeReplyObject(r);
    if (failed) return;
    /* WRONGTYPE inside EXEC: the error in its slot, the other commands ran */
    expectStatus(cmd("MULTI"), "OK", "MULTI");
    expectStatus(cmd("SADD xt:s b"), "QUEUED", "SADD queued");
    expectStatus(cmd("HGET xt:s f"), "QUEUED", "HGET queued");
    expectStatus(cmd("ZADD xt:z 4 m2"), "QUEUED", "ZADD queued");
    expectStatus(cmd("SREM xt:s a"), "QUEUED", "SREM queued");
    if (failed) return;
    r = cmd("EXEC");
    if (!r) FAILF("EXEC: connection error %s", c->errstr);
    ok = r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
         r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 1 &&
         r->element[1]->type == REDIS_REPLY_ERROR && !strncmp(r->element[1]->str, "WRONGTYPE", 9) &&
         r->element[2]->type == REDIS_REPLY_INTEGER && r->element[2]->integer == 1 &&
         r->element[3]->type == REDIS_REPLY_INTEGER && r->element[3]->integer == 1;
    if (!ok) {
        snprintf(why, sizeof(why), "EXEC with a WRONGTYPE: %s", show(r));
        failed = 1;
    }
    freeReplyObject(r);
    expectArray(cmd("SMEMBERS xt:s"), 0, "the set after EXEC", "b", NULL);
    expectBulk(cmd("ZSCORE xt:z m2"), "4", "the sorted set after EXEC");
    /* a command refused while queueing aborts the whole transaction */
    expectStatus(cmd("MULTI"), "OK", "MULTI");
    expectStatus(cmd("SADD xt:s zz"), "QUEUED", "SADD queued");
    expectStatus(cmd("HSET xt:h zz 1"), "QUEUED", "HSET queued");
    expectError(cmd("ZADD xt:z"), "wrong number of arguments", "ZADD without members");
    expectError(cmd("EXEC"), "EXECABORT", "EXEC after a queueing error");
    expectInt(cmd("SISMEMBER xt:s zz"), 0, "SADD of an aborted transaction did not run");
    expectInt(cmd("HEXISTS xt:h zz"), 0, "HSET of an aborted transaction did not run");
}

static void t_wrongtype(void) {
    freeReplyObject(cmd("DEL wt:str wt:set wt:hash wt:zset wt:hll"));
    expectStatus(cmd("SET wt:str v"), "OK", "SET");
    expectInt(cmd("SADD wt:set m"), 1, "SADD");
    expectInt(cmd("HSET wt:hash f v"), 1, "HSET");
    expectInt(cmd("ZADD wt:zset 1 m"), 1, "ZADD");
    expectInt(cmd("PFADD wt:hll a"), 1, "PFADD");
    const char *wrong[] = {"SADD wt:str x", "HSET wt:str f x", "ZADD wt:str 1 x", "GET wt:set",
                           "INCR wt:set", "HGET wt:set f", "ZRANGE wt:set 0 -1", "PFADD wt:set x",
                           "SMEMBERS wt:hash", "ZADD wt:hash 1 m", "HGETALL wt:zset",
                           "SISMEMBER wt:zset m", "SUNIONSTORE wt:new wt:set wt:hash",
                           "SADD wt:hll x"};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        redisReply *r = cmd(wrong[i]);
        if (failed) { if (r) freeReplyObject(r); return; }
        if (!r) FAILF("%s: connection error %s", wrong[i], c->errstr);
        int ok = r->type == REDIS_REPLY_ERROR &&
                 !strcmp(r->str,
                         "WRONGTYPE Operation against a key holding the wrong kind of value");
        if (!ok) snprintf(why, sizeof(why), "%s: got %s", wrong[i], show(r));
        freeReplyObject(r);
        if (!ok) { failed = 1; return; }
    }
    redisReply *r = cmd("PFADD wt:str x");
    if (!r) FAILF("PFADD on a string: connection error %s", c->errstr);
    int ok = r->type == REDIS_REPLY_ERROR &&
             !strcmp(r->str, "WRONGTYPE Key is not a valid HyperLogLog string value.");
    if (!ok) snprintf(why, sizeof(why), "PFADD on a string: got %s", show(r));
    freeReplyObject(r);
    if (!ok) { failed = 1; return; }
    /* nothing was written */
    expectStatus(cmd("TYPE wt:str"), "string", "TYPE of the string");
    expectStatus(cmd("TYPE wt:set"), "set", "TYPE of the set");
    expectStatus(cmd("TYPE wt:hash"), "hash", "TYPE of the hash");
    expectStatus(cmd("TYPE wt:zset"), "zset", "TYPE of the sorted set");
    expectStatus(cmd("TYPE wt:hll"), "string", "TYPE of the HyperLogLog");
    expectBulk(cmd("GET wt:str"), "v", "the string");
    expectArray(cmd("SMEMBERS wt:set"), 0, "the set", "m", NULL);
    expectPairs(cmd("HGETALL wt:hash"), "the hash", "f", "v", NULL);
    expectArray(cmd("ZRANGE wt:zset 0 -1 WITHSCORES"), 0, "the sorted set", "m", "1", NULL);
    expectInt(cmd("PFCOUNT wt:hll"), 1, "the HyperLogLog");
    expectInt(cmd("EXISTS wt:new"), 0, "no SUNIONSTORE destination");
    expectStatus(cmd("PING"), "PONG", "PING after WRONGTYPE errors");
}

/* SCAN [MATCH match] [COUNT count] (count 0: none) to the end; collects
 * into keys (strdup'd), returns the count or -1. */
static int scanAll(const char *match, int count, char **keys, int max) {
    char cur[32] = "0";
    int n = 0, rounds = 0;
    do {
        redisReply *r = match ? cmd("SCAN %s MATCH %s COUNT %d", cur, match, count)
                        : count ? cmd("SCAN %s COUNT %d", cur, count)
                                : cmd("SCAN %s", cur);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
            snprintf(why, sizeof(why), "SCAN %s: bad reply", cur);
            if (r) freeReplyObject(r);
            return -1;
        }
        snprintf(cur, sizeof(cur), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            if (n == max) {
                freeReplyObject(r);
                snprintf(why, sizeof(why), "SCAN returned more than %d keys", max);
                return -1;
            }
            keys[n++] = strdup(r->element[1]->element[i]->str);
        }
        freeReplyObject(r);
        if (++rounds > 100000) {
            snprintf(why, sizeof(why), "SCAN cursor never returned to 0");
            return -1;
        }
    } while (strcmp(cur, "0"));
    return n;
}

/* keys (sorted here) must be exactly sc:<i> for the i with prefix match. */
static int sameKeys(char **keys, int n, const char *prefix, const char *what) {
    char *want[400];
    int w = 0;
    for (int i = 0; i < 400; i++) {
        char k[16];
        snprintf(k, sizeof(k), "sc:%d", i);
        if (!strncmp(k, prefix, strlen(prefix))) want[w++] = strdup(k);
    }
    qsort(keys, (size_t)n, sizeof(char *), cmpstr);
    qsort(want, (size_t)w, sizeof(char *), cmpstr);
    int ok = n == w;
    for (int i = 0; ok && i < n; i++) ok = !strcmp(keys[i], want[i]);
    for (int i = 1; i < n; i++)
        if (!strcmp(keys[i], keys[i - 1])) {
            snprintf(why, sizeof(why), "%s: %s returned twice", what, keys[i]);
            ok = 0;
            failed = 1;
            break;
        }
    if (!ok && !failed) {
        snprintf(why, sizeof(why), "%s: %d keys, want %d", what, n, w);
        failed = 1;
    }
    for (int i = 0; i < w; i++) free(want[i]);
    return ok;
}

static void t_scan(void) {
    expectStatus(cmd("FLUSHDB"), "OK", "FLUSHDB");
    for (int i = 0; i < 400; i++) redisAppendCommand(c, "SET sc:%d 1", i);
    for (int i = 0; i < 400; i++) expectStatus(getReply(), "OK", "SET sc:*");
    if (failed) return;
    static char *keys[1000];
    const int counts[] = {0, 7, 1000};
    for (int v = 0; v < 3; v++) {
        int n = scanAll(NULL, counts[v], keys, 1000);
        if (n < 0) { failed = 1; return; }
        char what[64];
        snprintf(what, sizeof(what), "SCAN COUNT %d", counts[v]);
        sameKeys(keys, n, "sc:", what);
        for (int i = 0; i < n; i++) free(keys[i]);
        if (failed) return;
    }
    int n = scanAll("sc:1*", 50, keys, 1000);
    if (n < 0) { failed = 1; return; }
    sameKeys(keys, n, "sc:1", "SCAN MATCH sc:1*");
    for (int i = 0; i < n; i++) free(keys[i]);
    expectInt(cmd("DBSIZE"), 400, "DBSIZE");
    if (failed) return;
    redisReply *r = cmd("KEYS sc:1*");
    if (!r || r->type != REDIS_REPLY_ARRAY) FAILF("KEYS: bad reply");
    n = 0;
    for (size_t i = 0; i < r->elements && n < 1000; i++) keys[n++] = strdup(r->element[i]->str);
    freeReplyObject(r);
    sameKeys(keys, n, "sc:1", "KEYS sc:1*");
    for (int i = 0; i < n; i++) free(keys[i]);
}

static void t_reconnect_prepare(void) {
    expectStatus(cmd("SET rc before"), "OK", "SET before the restart");
    freeReplyObject(cmd("DEL rc:s rc:h rc:z"));
    expectInt(cmd("SADD rc:s a b"), 2, "SADD before the restart");
    expectInt(cmd("HSET rc:h f v"), 1, "HSET before the restart");
    expectInt(cmd("ZADD rc:z 1.5 m"), 1, "ZADD before the restart");
}

static int db;

static void t_reconnect(void) {
    /* hiredis does not reconnect by itself: the first command reports the
     * lost connection, the application reconnects. */
    redisReply *r = cmd("GET rc");
    if (r) {
        /* a reply on the old connection: only possible if it survived */
        freeReplyObject(r);
        FAILF("GET on the connection of the restarted node answered");
    }
    if (!c->err) FAILF("no error reported for the lost connection");
    if (redisReconnect(c) != REDIS_OK) FAILF("redisReconnect: %s", c->errstr);
    struct timeval tv = {20, 0};
    redisSetTimeout(c, tv);
    expectStatus(cmd("SELECT %d", db), "OK", "SELECT after reconnect");
    expectBulk(cmd("GET rc"), "before", "GET after the restart");
    expectStatus(cmd("SET rc2 after"), "OK", "SET after the restart");
    expectBulk(cmd("GET rc2"), "after", "GET after the restart");
    expectArray(cmd("SMEMBERS rc:s"), 1, "SMEMBERS after the restart", "a", "b", NULL);
    expectPairs(cmd("HGETALL rc:h"), "HGETALL after the restart", "f", "v", NULL);
    expectArray(cmd("ZRANGE rc:z 0 -1 WITHSCORES"), 0, "ZRANGE after the restart", "m", "1.5",
                NULL);
}

static void check(const char *name, void (*fn)(void)) {
    failed = 0;
    why[0] = 0;
    if (c->err) { /* a previous check broke the connection */
        if (redisReconnect(c) == REDIS_OK) freeReplyObject(cmd("SELECT %d", db));
    }
    fn();
    if (failed && !c->err) freeReplyObject(cmd("DISCARD")); /* a MULTI the check left open */
    if (failed) printf("FAIL %s: %s\n", name, why);
    else printf("ok %s\n", name);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s host port db\n", argv[0]);
        return 2;
    }
    db = atoi(argv[3]);
    struct timeval tv = {10, 0};
    c = redisConnectWithTimeout(argv[1], atoi(argv[2]), tv);
    if (!c || c->err) {
        printf("FAIL connect: %s\n", c ? c->errstr : "out of memory");
        return 1;
    }
    tv.tv_sec = 20;
    redisSetTimeout(c, tv);
    printf("version hiredis %d.%d.%d\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
    redisReply *r = cmd("SELECT %d", db);
    if (!r || r->type != REDIS_REPLY_STATUS) {
        printf("FAIL select\n");
        return 1;
    }
    freeReplyObject(r);
    static const struct {
        const char *name;
        void (*fn)(void);
    } checks[] = {{"ping", t_ping},
                  {"strings", t_strings},
                  {"binary", t_binary},
                  {"large", t_large},
                  {"counters", t_counters},
                  {"multikey", t_multikey},
                  {"expiry", t_expiry},
                  {"pipeline", t_pipeline},
                  {"transaction", t_transaction},
                  {"transaction_error", t_transaction_error},
                  {"transaction_abort", t_transaction_abort},
                  {"watch", t_watch},
                  {"errors", t_errors},
                  {"sets", t_sets},
                  {"hashes", t_hashes},
                  {"zsets", t_zsets},
                  {"hll", t_hll},
                  {"types_pipeline", t_types_pipeline},
                  {"types_transaction", t_types_transaction},
                  {"wrongtype", t_wrongtype},
                  {"scan", t_scan},
                  {"reconnect_prepare", t_reconnect_prepare}};
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) check(checks[i].name, checks[i].fn);
    printf("RESTART\n");
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof(line), stdin)) line[0] = 0;
    check("reconnect", t_reconnect);
    printf("DONE\n");
    fflush(stdout);
    redisFree(c);
    return 0;
}
