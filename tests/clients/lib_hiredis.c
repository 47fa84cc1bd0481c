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
    freeReplyObject(cmd("DEL c f"));
    expectInt(cmd("INCR c"), 1, "INCR");
    expectInt(cmd("INCRBY c 41"), 42, "INCRBY");
    expectInt(cmd("DECR c"), 41, "DECR");
    expectInt(cmd("DECRBY c 40"), 1, "DECRBY");
    expectBulk(cmd("INCRBYFLOAT f 1.5"), "1.5", "INCRBYFLOAT");
    expectBulk(cmd("GET c"), "1", "GET counter");
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

static int cmpstr(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

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

static void t_reconnect_prepare(void) { expectStatus(cmd("SET rc before"), "OK", "SET before the restart"); }

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
}

static void check(const char *name, void (*fn)(void)) {
    failed = 0;
    why[0] = 0;
    if (c->err) { /* a previous check broke the connection */
        if (redisReconnect(c) == REDIS_OK) freeReplyObject(cmd("SELECT %d", db));
    }
    fn();
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
