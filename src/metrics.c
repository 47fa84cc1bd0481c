/* metrics.c -- latency histograms, SLOWLOG, latencystats, Prometheus text.
 * See metrics.h. */
#include "metrics.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aae.h"
#include "client.h"
#include "commands.h"
#include "coord.h"
#include "handoff.h"
#include "hints.h"
#include "store.h"

/* ------------------------------------------------------------ histograms */

#define SUB 8 /* buckets per power of two */

static int bucketOf(uint64_t us) {
    if (us < SUB) return (int)us;
    int msb = 63 - __builtin_clzll(us);
    int sub = (int)((us >> (msb - 3)) & (SUB - 1));
    int b = (msb - 2) * SUB + sub;
    return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

/* The largest value in bucket b. */
static uint64_t bucketTop(int b) {
    if (b < SUB) return (uint64_t)b;
    int msb = b / SUB + 2, sub = b % SUB;
    return ((uint64_t)(SUB + sub + 1) << (msb - 3)) - 1;
}

void histRecord(hist *h, uint64_t us) {
    h->b[bucketOf(us)]++;
    h->count++;
    h->sum_us += us;
}

uint64_t histPercentile(const hist *h, double p) {
    if (!h->count) return 0;
    uint64_t want = (uint64_t)ceil(p / 100.0 * (double)h->count), seen = 0;
    if (want < 1) want = 1;
    for (int b = 0; b < HIST_BUCKETS; b++) {
        seen += h->b[b];
        if (seen >= want) return bucketTop(b);
    }
    return bucketTop(HIST_BUCKETS - 1);
}

uint64_t histCountLE(const hist *h, uint64_t le) {
    uint64_t n = 0;
    for (int b = 0; b < HIST_BUCKETS && bucketTop(b) <= le; b++) n += h->b[b];
    return n;
}

/* ------------------------------------------------------------ recording */

#define MAX_COMMANDS 256
#define LEVEL_SLOTS 69 /* named levels -5..-1, counts 1..64 */

static hist *cmdHist[MAX_COMMANDS];
static hist *coordHist[2][LEVEL_SLOTS];
static uint64_t coordFail[2][LEVEL_SLOTS];

static int cmdIndex(const command *c) {
    for (int i = 0; commandTableAt(i); i++)
        if (commandTableAt(i) == c) return i;
    return -1;
}

void metricsCommand(const command *c, long long us) {
    int i = (int)(c - commandTableAt(0)); /* the table is one array */
    if (i < 0 || i >= MAX_COMMANDS || commandTableAt(i) != c) i = cmdIndex(c);
    if (i < 0 || i >= MAX_COMMANDS) return;
    if (!cmdHist[i]) cmdHist[i] = zcalloc(sizeof(hist));
    histRecord(cmdHist[i], us < 0 ? 0 : (uint64_t)us);
}

static int levelSlot(int level) {
    if (level < 0 && level >= -5) return -level - 1;
    if (level >= 1 && level <= 64) return 4 + level;
    return -1;
}

static void levelName(int slot, char *b, size_t len) {
    static const char *named[] = {"QUORUM", "ALL", "LOCAL_ONE", "LOCAL_QUORUM", "EACH_QUORUM"};
    if (slot < 5) snprintf(b, len, "%s", named[slot]);
    else snprintf(b, len, "%d", slot - 4);
}

void metricsCoord(int write, int level, long long us, int ok) {
    int s = levelSlot(level);
    if (s < 0) return;
    if (!coordHist[write][s]) coordHist[write][s] = zcalloc(sizeof(hist));
    histRecord(coordHist[write][s], us < 0 ? 0 : (uint64_t)us);
    if (!ok) coordFail[write][s]++;
}

void metricsReset(void) {
    for (int i = 0; i < MAX_COMMANDS; i++) {
        zfree(cmdHist[i]);
        cmdHist[i] = NULL;
    }
    for (int w = 0; w < 2; w++)
        for (int s = 0; s < LEVEL_SLOTS; s++) {
            zfree(coordHist[w][s]);
            coordHist[w][s] = NULL;
            coordFail[w][s] = 0;
        }
}

/* -------------------------------------------------------------- SLOWLOG */

#define SLOWLOG_ARGS 32
#define SLOWLOG_ARGLEN 128

typedef struct slowEntry {
    long long id;
    long long time;   /* unix seconds */
    long long us;     /* duration */
    int argc;
    char **argv;      /* owned */
    size_t *lens;
    char addr[64];
    char name[64];
} slowEntry;

static slowEntry *slow;   /* ring of slowlog_max_len entries, newest at slowHead-1 */
static long long slowLen, slowCap, slowHead, slowNextId;

static void slowFree(slowEntry *e) {
    for (int i = 0; i < e->argc; i++) zfree(e->argv[i]);
    zfree(e->argv);
    zfree(e->lens);
    memset(e, 0, sizeof(*e));
}

static void slowReset(void) {
    for (long long i = 0; i < slowCap; i++) slowFree(&slow[i]);
    slowLen = 0;
    slowHead = 0;
}

void slowlogMaybeAdd(request *r, long long us) {
    if (server.slowlog_slower_than < 0 || us < server.slowlog_slower_than ||
        server.slowlog_max_len <= 0)
        return;
    if (slowCap != server.slowlog_max_len) { /* resized: start over */
        slowReset();
        zfree(slow);
        slowCap = server.slowlog_max_len;
        slow = zcalloc(sizeof(slowEntry) * (size_t)slowCap);
    }
    slowEntry *e = &slow[slowHead];
    slowFree(e);
    slowHead = (slowHead + 1) % slowCap;
    if (slowLen < slowCap) slowLen++;
    e->id = slowNextId++;
    e->time = mstime() / 1000;
    e->us = us;
    int n = r->argc > SLOWLOG_ARGS ? SLOWLOG_ARGS : r->argc;
    e->argc = n;
    e->argv = zmalloc(sizeof(char *) * (size_t)n);
    e->lens = zmalloc(sizeof(size_t) * (size_t)n);
    for (int i = 0; i < n; i++) {
        char b[SLOWLOG_ARGLEN + 64];
        size_t l;
        if (i == SLOWLOG_ARGS - 1 && r->argc > SLOWLOG_ARGS) {
            l = (size_t)snprintf(b, sizeof(b), "... (%d more arguments)", r->argc - SLOWLOG_ARGS + 1);
        } else if (r->argvlen[i] > SLOWLOG_ARGLEN) {
            memcpy(b, r->argv[i], SLOWLOG_ARGLEN);
            l = SLOWLOG_ARGLEN + (size_t)snprintf(b + SLOWLOG_ARGLEN, 64, "... (%zu more bytes)",
                                                  r->argvlen[i] - SLOWLOG_ARGLEN);
        } else {
            memcpy(b, r->argv[i], r->argvlen[i]);
            l = r->argvlen[i];
        }
        e->argv[i] = zmemdup(b, l + 1);
        e->lens[i] = l;
    }
    snprintf(e->addr, sizeof(e->addr), "%s", r->c ? r->c->addr : "");
    snprintf(e->name, sizeof(e->name), "%s", r->c && r->c->name ? r->c->name : "");
}

void slowlogCommand(request *r) {
    if (argIs(r, 1, "get") && r->argc <= 3) {
        long long count = 10;
        if (r->argc == 3) {
            if (getLongLongFromArg(r, 2, &count, NULL) != C_OK) return;
            if (count < -1) {
                addReplyError(r, "count should be greater than or equal to -1");
                return;
            }
            if (count == -1) count = slowLen;
        }
        if (count > slowLen) count = slowLen;
        addReplyArrayLen(r, count);
        for (long long k = 0; k < count; k++) {
            slowEntry *e = &slow[(slowHead - 1 - k + slowCap * 2) % slowCap];
            addReplyArrayLen(r, 6);
            addReplyInteger(r, e->id);
            addReplyInteger(r, e->time);
            addReplyInteger(r, e->us);
            addReplyArrayLen(r, e->argc);
            for (int i = 0; i < e->argc; i++) addReplyBulk(r, e->argv[i], e->lens[i]);
            addReplyBulkCString(r, e->addr);
            addReplyBulkCString(r, e->name);
        }
    } else if (argIs(r, 1, "len") && r->argc == 2) {
        addReplyInteger(r, slowLen);
    } else if (argIs(r, 1, "reset") && r->argc == 2) {
        slowReset();
        addReplyOK(r);
    } else if (argIs(r, 1, "help") && r->argc == 2) {
        static const char *help[] = {
            "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "LEN", "    Return the length of the slowlog.",
            "RESET", "    Reset the slowlog.",
            "HELP", "    Print this help.", NULL};
        addReplyHelp(r, help);
    } else {
        commandUnknownSubcommand(r);
    }
}

/* ------------------------------------------------------- latencystats */

void metricsLatencyInfo(buf *out) {
    for (int i = 0; commandTableAt(i) && i < MAX_COMMANDS; i++) {
        hist *h = cmdHist[i];
        if (!h || !h->count) continue;
        bufPrintf(out, "latency_percentiles_usec_%s:p50=%.3f,p99=%.3f,p99.9=%.3f\r\n",
                  commandTableAt(i)->name, (double)histPercentile(h, 50),
                  (double)histPercentile(h, 99), (double)histPercentile(h, 99.9));
    }
    for (int w = 0; w < 2; w++)
        for (int s = 0; s < LEVEL_SLOTS; s++) {
            hist *h = coordHist[w][s];
            if (!h || !h->count) continue;
            char ln[32];
            levelName(s, ln, sizeof(ln));
            bufPrintf(out, "latency_percentiles_usec_%s_%s:p50=%.3f,p99=%.3f,p99.9=%.3f\r\n",
                      w ? "write" : "read", ln, (double)histPercentile(h, 50),
                      (double)histPercentile(h, 99), (double)histPercentile(h, 99.9));
        }
}

/* ------------------------------------------------------------ Prometheus */

static const uint64_t promBuckets[] = {100,    250,    500,     1000,    2500,    5000,
                                       10000,  25000,  50000,   100000,  250000,  500000,
                                       1000000, 2500000, 10000000};

static void promHist(buf *out, const char *name, const char *labels, const hist *h) {
    for (size_t i = 0; i < sizeof(promBuckets) / sizeof(promBuckets[0]); i++)
        bufPrintf(out, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, promBuckets[i] / 1e6,
                  (unsigned long long)histCountLE(h, promBuckets[i]));
    bufPrintf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)h->count);
    bufPrintf(out, "%s_sum{%s} %.6f\n", name, labels, (double)h->sum_us / 1e6);
    bufPrintf(out, "%s_count{%s} %llu\n", name, labels, (unsigned long long)h->count);
}

/* Every decimal "name:value" line of an INFO-style text becomes a gauge
 * ringkv_<prefix>_<name>. */
static void promFromInfo(buf *out, const char *prefix, const buf *info) {
    const char *p = info->ptr ? info->ptr : "", *end = p + info->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *colon = memchr(p, ':', l);
        if (colon) {
            char name[128], val[64];
            size_t nlen = (size_t)(colon - p), vlen = l - nlen - 1;
            while (vlen && (colon[vlen] == '\r' || colon[vlen] == '\n')) vlen--;
            if (nlen < sizeof(name) && vlen > 0 && vlen < sizeof(val)) {
                memcpy(name, p, nlen);
                name[nlen] = '\0';
                memcpy(val, colon + 1, vlen);
                val[vlen] = '\0';
                char *e;
                double d = strtod(val, &e);
                /* Plain decimals only: a hex digest such as "000e12ab"
                 * must not read as 0e12 (or as +Inf). */
                int ok = e != val && *e == '\0' && isfinite(d);
                for (const char *c = val; ok && *c; c++)
                    if (!isdigit((unsigned char)*c) && *c != '.' && *c != '-') ok = 0;
                for (char *c = name; *c; c++)
                    if (!isalnum((unsigned char)*c)) *c = '_';
                if (ok) bufPrintf(out, "ringkv_%s_%s %.17g\n", prefix, name, d);
            }
        }
        p += l + (nl ? 1 : 0);
    }
}

void metricsPrometheus(buf *out) {
    bufPrintf(out, "# HELP ringkv_commands_total Commands completed, by command.\n"
                   "# TYPE ringkv_commands_total counter\n");
    for (int i = 0; commandTableAt(i); i++) {
        command *c = commandTableAt(i);
        if (c->calls || c->failed_calls)
            bufPrintf(out, "ringkv_commands_total{cmd=\"%s\"} %lld\n", c->name, c->calls);
    }
    bufPrintf(out, "# HELP ringkv_command_errors_total Commands answered with an error.\n"
                   "# TYPE ringkv_command_errors_total counter\n");
    for (int i = 0; commandTableAt(i); i++) {
        command *c = commandTableAt(i);
        if (c->failed_calls)
            bufPrintf(out, "ringkv_command_errors_total{cmd=\"%s\"} %lld\n", c->name,
                      c->failed_calls);
    }
    bufPrintf(out, "# HELP ringkv_command_duration_seconds Time from a command's arrival to its "
                   "reply being ready.\n# TYPE ringkv_command_duration_seconds histogram\n");
    for (int i = 0; commandTableAt(i) && i < MAX_COMMANDS; i++) {
        if (!cmdHist[i] || !cmdHist[i]->count) continue;
        char labels[96];
        snprintf(labels, sizeof(labels), "cmd=\"%s\"", commandTableAt(i)->name);
        promHist(out, "ringkv_command_duration_seconds", labels, cmdHist[i]);
    }
    bufPrintf(out, "# HELP ringkv_coordinator_duration_seconds Quorum reads and writes this node "
                   "coordinated, by consistency level.\n"
                   "# TYPE ringkv_coordinator_duration_seconds histogram\n");
    for (int w = 0; w < 2; w++)
        for (int s = 0; s < LEVEL_SLOTS; s++) {
            if (!coordHist[w][s] || !coordHist[w][s]->count) continue;
            char ln[32], labels[96];
            levelName(s, ln, sizeof(ln));
            snprintf(labels, sizeof(labels), "op=\"%s\",level=\"%s\"", w ? "write" : "read", ln);
            promHist(out, "ringkv_coordinator_duration_seconds", labels, coordHist[w][s]);
        }
    bufPrintf(out, "# HELP ringkv_coordinator_failures_total Quorum operations that failed.\n"
                   "# TYPE ringkv_coordinator_failures_total counter\n");
    for (int w = 0; w < 2; w++)
        for (int s = 0; s < LEVEL_SLOTS; s++) {
            if (!coordHist[w][s]) continue;
            char ln[32];
            levelName(s, ln, sizeof(ln));
            bufPrintf(out, "ringkv_coordinator_failures_total{op=\"%s\",level=\"%s\"} %llu\n",
                      w ? "write" : "read", ln, (unsigned long long)coordFail[w][s]);
        }
    buf info;
    bufInit(&info);
    coordInfo(&info);
    promFromInfo(out, "ring", &info);
    bufClear(&info);
    hintsInfo(&info);
    promFromInfo(out, "hints", &info);
    bufClear(&info);
    aaeInfo(&info);
    promFromInfo(out, "antientropy", &info);
    bufClear(&info);
    storeInfo(&info);
    promFromInfo(out, "rocksdb", &info);
    bufFree(&info);
    bufPrintf(out, "ringkv_connected_clients %lld\n", server.nclients);
    bufPrintf(out, "ringkv_used_memory_bytes %zu\nringkv_rss_bytes %zu\n", zmalloc_used_memory(),
              zmalloc_rss());
    bufPrintf(out, "ringkv_uptime_seconds %lld\n", (mstime() - server.start_time) / 1000);
}
