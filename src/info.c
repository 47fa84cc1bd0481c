/* info.c -- INFO in Redis's format, per-command stats, instantaneous ops.
 *
 * Sections: server clients memory stats commandstats keyspace storage.
 * "INFO" alone gives the default ones (all but commandstats), "INFO all"
 * or "INFO everything" every section, as in Redis. */
#include "info.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "aae.h"
#include "client.h"
#include "commands.h"
#include "coord.h"
#include "db.h"
#include "hints.h"
#include "metrics.h"
#include "store.h"

#define OPS_SAMPLES 16
static long long ops_samples[OPS_SAMPLES];
static int ops_idx;
static long long ops_last_count, ops_last_ms;

void infoRecordCommand(const struct command *cmd, long long us, int failed) {
    command *c = (command *)cmd;
    c->calls++;
    c->usec += us;
    if (failed) c->failed_calls++;
}

/* Called from the cron ~10 times a second. */
void infoTrackOps(void) {
    long long now = mstime();
    if (ops_last_ms && now > ops_last_ms) {
        long long ops = (server.stat.numcommands - ops_last_count) * 1000 / (now - ops_last_ms);
        ops_samples[ops_idx++ % OPS_SAMPLES] = ops;
    }
    ops_last_ms = now;
    ops_last_count = server.stat.numcommands;
}

static long long instantaneousOps(void) {
    long long sum = 0;
    for (int i = 0; i < OPS_SAMPLES; i++) sum += ops_samples[i];
    return sum / OPS_SAMPLES;
}

void infoResetStats(void) {
    metricsReset();
    long long rt = mstime();
    memset(&server.stat, 0, sizeof(server.stat));
    server.stat.stat_reset_time = rt;
    for (int i = 0; commandTableAt(i); i++) {
        command *c = commandTableAt(i);
        c->calls = c->usec = c->failed_calls = c->rejected_calls = 0;
    }
}

static void human(char *b, size_t len, double n) {
    const char *u = "BKMGT";
    int i = 0;
    while (n >= 1024 && i < 4) {
        n /= 1024;
        i++;
    }
    if (i == 0) snprintf(b, len, "%.0fB", n);
    else snprintf(b, len, "%.2f%c", n, u[i]);
}

static int wants(const char *section, int argc, char **argv, int dflt) {
    if (argc == 0) return dflt;
    for (int i = 0; i < argc; i++) {
        if (!strcasecmp(argv[i], section)) return 1;
        if (!strcasecmp(argv[i], "all") && strcmp(section, "commandstats") != 0) return 1;
        if (!strcasecmp(argv[i], "everything")) return 1;
        if (!strcasecmp(argv[i], "default") && dflt) return 1;
    }
    return 0;
}

void infoCommand(request *r) {
    int argc = r->argc - 1;
    char **argv = r->argv + 1;
    buf o;
    bufInit(&o);
    long long now = mstime();
    int sections = 0;

    if (wants("server", argc, argv, 1)) {
        struct utsname u;
        uname(&u);
        bufPrintf(&o, "%s# Server\r\n", sections++ ? "\r\n" : "");
        bufPrintf(&o, "redis_version:%s\r\n", REDIS_COMPAT_VERSION);
        bufPrintf(&o, "ringkv_version:%s\r\n", RINGKV_VERSION);
        bufPrintf(&o, "redis_mode:standalone\r\n");
        bufPrintf(&o, "os:%s %s %s\r\n", u.sysname, u.release, u.machine);
        bufPrintf(&o, "arch_bits:%d\r\n", (int)sizeof(long) * 8);
        bufPrintf(&o, "multiplexing_api:epoll\r\n");
        bufPrintf(&o, "process_id:%d\r\n", (int)getpid());
        bufPrintf(&o, "run_id:%s\r\n", server.node_id);
        bufPrintf(&o, "node_id:%s\r\n", server.node_id);
        bufPrintf(&o, "tcp_port:%d\r\n", server.port);
        bufPrintf(&o, "server_time_usec:%lld\r\n", ustime());
        bufPrintf(&o, "uptime_in_seconds:%lld\r\n", (now - server.start_time) / 1000);
        bufPrintf(&o, "uptime_in_days:%lld\r\n", (now - server.start_time) / 86400000);
        bufPrintf(&o, "hz:%d\r\n", server.hz);
        bufPrintf(&o, "executable:%s\r\n", server.executable);
        bufPrintf(&o, "config_file:%s\r\n", server.configfile ? server.configfile : "");
    }
    if (wants("clients", argc, argv, 1)) {
        bufPrintf(&o, "%s# Clients\r\n", sections++ ? "\r\n" : "");
        bufPrintf(&o, "connected_clients:%lld\r\n", server.nclients);
        bufPrintf(&o, "maxclients:%lld\r\n", server.maxclients);
        bufPrintf(&o, "blocked_clients:0\r\n");
    }
    if (wants("memory", argc, argv, 1)) {
        char h1[32], h2[32];
        size_t used = zmalloc_used_memory(), rss = zmalloc_rss();
        human(h1, sizeof(h1), (double)used);
        human(h2, sizeof(h2), (double)rss);
        bufPrintf(&o, "%s# Memory\r\n", sections++ ? "\r\n" : "");
        bufPrintf(&o, "used_memory:%zu\r\n", used);
        bufPrintf(&o, "used_memory_human:%s\r\n", h1);
        bufPrintf(&o, "used_memory_rss:%zu\r\n", rss);
        bufPrintf(&o, "used_memory_rss_human:%s\r\n", h2);
        bufPrintf(&o, "mem_allocator:jemalloc\r\n");
        bufPrintf(&o, "block_cache_capacity:%lld\r\n", server.cache_size);
        bufPrintf(&o, "memtable_budget:%lld\r\n", server.memtable_size * 3);
    }
    if (wants("stats", argc, argv, 1)) {
        bufPrintf(&o, "%s# Stats\r\n", sections++ ? "\r\n" : "");
        bufPrintf(&o, "total_connections_received:%lld\r\n", server.stat.numconnections);
        bufPrintf(&o, "total_commands_processed:%lld\r\n", server.stat.numcommands);
        bufPrintf(&o, "instantaneous_ops_per_sec:%lld\r\n", instantaneousOps());
        bufPrintf(&o, "total_net_input_bytes:%lld\r\n", server.stat.net_input_bytes);
        bufPrintf(&o, "total_net_output_bytes:%lld\r\n", server.stat.net_output_bytes);
        bufPrintf(&o, "rejected_connections:%lld\r\n", server.stat.rejected_conn);
        bufPrintf(&o, "expired_keys:%lld\r\n", server.stat.expiredkeys);
        bufPrintf(&o, "evicted_keys:0\r\n");
        bufPrintf(&o, "keyspace_hits:%lld\r\n", server.stat.keyspace_hits);
        bufPrintf(&o, "keyspace_misses:%lld\r\n", server.stat.keyspace_misses);
        /* buckets written since DBSIZE's figures were last counted (0: exact) */
        bufPrintf(&o, "keyspace_uncounted_buckets:%lld\r\n", dbDirtyBuckets());
        bufPrintf(&o, "total_error_replies:%lld\r\n", server.stat.total_error_replies);
        bufPrintf(&o, "siblings_dropped:%lld\r\n", server.stat.siblings_dropped);
        bufPrintf(&o, "client_query_buffer_limit_disconnections:%lld\r\n",
                  server.stat.client_qbuf_limit_disconnections);
        bufPrintf(&o, "client_output_buffer_limit_disconnections:%lld\r\n",
                  server.stat.client_obuf_limit_disconnections);
    }
    if (wants("commandstats", argc, argv, 0)) {
        bufPrintf(&o, "%s# Commandstats\r\n", sections++ ? "\r\n" : "");
        for (int i = 0; commandTableAt(i); i++) {
            command *c = commandTableAt(i);
            if (!c->calls && !c->failed_calls && !c->rejected_calls) continue;
            bufPrintf(&o,
                      "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,"
                      "failed_calls=%lld\r\n",
                      c->name, c->calls, c->usec, c->calls ? (double)c->usec / (double)c->calls : 0,
                      c->rejected_calls, c->failed_calls);
        }
    }
    if (wants("latencystats", argc, argv, 1)) {
        bufPrintf(&o, "%s# Latencystats\r\n", sections++ ? "\r\n" : "");
        metricsLatencyInfo(&o);
    }
    if (wants("keyspace", argc, argv, 1)) {
        bufPrintf(&o, "%s# Keyspace\r\n", sections++ ? "\r\n" : "");
        dbRecount(); /* once, at most 100 ms */
        for (int d = 0; d < server.databases; d++) {
            long long k = dbKeys(d);
            if (k > 0) bufPrintf(&o, "db%d:keys=%lld,expires=%lld,avg_ttl=0\r\n", d, k, dbExpires(d));
        }
    }
    if (wants("ring", argc, argv, 1)) {
        bufPrintf(&o, "%s# Ring\r\n", sections++ ? "\r\n" : "");
        coordInfo(&o);
    }
    if (wants("hints", argc, argv, 1)) {
        bufPrintf(&o, "%s# Hints\r\n", sections++ ? "\r\n" : "");
        hintsInfo(&o);
    }
    if (wants("antientropy", argc, argv, 1)) {
        bufPrintf(&o, "%s# Antientropy\r\n", sections++ ? "\r\n" : "");
        aaeInfo(&o);
    }
    if (wants("storage", argc, argv, 1)) {
        bufPrintf(&o, "%s# Storage\r\n", sections++ ? "\r\n" : "");
        storeInfo(&o);
    }
    addReplyVerbatim(r, o.ptr ? o.ptr : "", o.len);
    bufFree(&o);
}
