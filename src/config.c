/* config.c -- the option table, conf file and argument parsing, CONFIG.
 *
 * Tables, not switches (STYLE habit 8): every option is one row below with
 * its type, default, limits and whether CONFIG SET may change it at runtime.
 * conf/ringkv.conf documents every row; a test checks the two agree.
 * No I/O but the conf file read and no request handling: the CONFIG command
 * lives in t_server.c, so this file is unit tested on its own. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "ring.h"
#include "server.h"

enum { T_BOOL, T_INT, T_I32, T_MEM, T_ENUM, T_STRING, T_OBUF }; /* T_INT: long long, T_I32: int */

#define F_IMMUTABLE 1 /* only in the conf file / command line */
#define F_SECRET 2    /* CONFIG GET does not show the value */

typedef struct enumVal {
    const char *name;
    int value;
} enumVal;

typedef struct option {
    const char *name;
    int type;
    void *ptr;           /* int* (bool, enum), long long* (int, mem), char** (string) */
    const char *deflt;   /* default, as text */
    long long min, max;  /* for T_INT / T_MEM */
    const enumVal *enums;/* for T_ENUM */
    int flags;
    /* Checks and applies a new value after it was stored; NULL = nothing to do. */
    int (*apply)(char *err, size_t errlen);
} option;

static const enumVal loglevels[] = {{"debug", LL_DEBUG}, {"verbose", LL_VERBOSE},
                                    {"notice", LL_NOTICE}, {"warning", LL_WARNING}, {NULL, 0}};
static const enumVal readfanouts[] = {{"needed", READ_FANOUT_NEEDED}, {"all", READ_FANOUT_ALL},
                                      {NULL, 0}};
static const enumVal quorummodes[] = {{"strict", QUORUM_STRICT}, {"sloppy", QUORUM_SLOPPY},
                                      {NULL, 0}};
static const enumVal tlsauth[] = {{"no", 0}, {"yes", 1}, {"optional", 2}, {NULL, 0}};
static const enumVal walfsync[] = {{"always", WAL_FSYNC_ALWAYS}, {"everysec", WAL_FSYNC_EVERYSEC},
                                   {"no", WAL_FSYNC_NO}, {NULL, 0}};
/* RocksDB's InfoLogLevel; 6 (past HEADER_LEVEL) writes nothing at all */
static const enumVal rocksdbloglevels[] = {{"debug", 0}, {"info", 1}, {"warn", 2}, {"error", 3},
                                           {"fatal", 4}, {"off", 6}, {NULL, 0}};

static int applyLoglevel(char *err, size_t errlen) {
    UNUSED(err);
    UNUSED(errlen);
    logSetLevel(server.verbosity);
    return C_OK;
}

static int applyPartitions(char *err, size_t errlen) {
    int q = server.ring_partitions, bits = 0;
    while ((1 << bits) < q) bits++;
    if ((1 << bits) != q) {
        snprintf(err, errlen, "argument must be a power of two");
        return C_ERR;
    }
    server.qbits = bits;
    return C_OK;
}

/* Redis options that tools read (redis-benchmark asks CONFIG GET save and
 * appendonly, and warns when they are missing). ringkv persists every write
 * through the RocksDB WAL and takes no snapshots: these are reported, and
 * `save` is accepted and ignored. */
static char *compat_save;
static int compat_appendonly;

/* Redis's small-encoding thresholds (listpack, intset, ziplist, HLL sparse):
 * ringkv keeps every collection per element in RocksDB, with no compact
 * encoding to switch from, so they change nothing. They are accepted and
 * reported as set, because applications and Redis's own test suite tune
 * them (a CONFIG SET ringkv refused would stop them). */
static long long compat_enc[16];

/* Node ids, data center and rack names travel in gossip lines separated by
 * spaces: keep them to a safe alphabet. */
static int safeName(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') return 0;
    return 1;
}

static int applyNodeId(char *err, size_t errlen) {
    if (server.node_id_cfg[0] && !safeName(server.node_id_cfg, 40)) {
        snprintf(err, errlen, "node-id must be 1-40 characters of [A-Za-z0-9._-]");
        return C_ERR;
    }
    return C_OK;
}

static int applyPlacementName(char *err, size_t errlen) {
    if ((server.dc && !safeName(server.dc, 63)) || (server.rack && !safeName(server.rack, 63))) {
        snprintf(err, errlen, "dc and rack names must be 1-63 characters of [A-Za-z0-9._-]");
        return C_ERR;
    }
    return C_OK;
}

static int applyReplication(char *err, size_t errlen) {
    ringDcSpec spec[RING_MAX_DCS];
    int n;
    return ringParseReplication(server.replication, spec, &n, err, errlen) == 0 ? C_OK : C_ERR;
}

/* save and appendonly exist so that Redis tools asking for them (e.g.
 * redis-benchmark) get the truth: ringkv takes no snapshots and has no
 * AOF; every write goes to RocksDB's WAL (wal-fsync). Setting anything
 * else is refused rather than silently ignored. */
static int applySave(char *err, size_t errlen) {
    if (compat_save && compat_save[0]) {
        snprintf(err, errlen, "ringkv takes no snapshots: every write goes to the WAL (see wal-fsync)");
        zfree(compat_save);
        compat_save = zstrdup("");
        return C_ERR;
    }
    return C_OK;
}

static int applyAppendonly(char *err, size_t errlen) {
    if (compat_appendonly) {
        snprintf(err, errlen, "ringkv has no AOF: every write goes to the WAL (see wal-fsync)");
        compat_appendonly = 0;
        return C_ERR;
    }
    return C_OK;
}

static option options[] = {
    {"port", T_I32, &server.port, "6379", 1, 65535, NULL, F_IMMUTABLE, NULL},
    {"bind", T_STRING, &server.bind, "127.0.0.1", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"dir", T_STRING, &server.dir, "./data", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"logfile", T_STRING, &server.logfile, "", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"loglevel", T_ENUM, &server.verbosity, "notice", 0, 0, loglevels, 0, applyLoglevel},
    {"pidfile", T_STRING, &server.pidfile, "", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"daemonize", T_BOOL, &server.daemonize, "no", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"requirepass", T_STRING, &server.requirepass, "", 0, 0, NULL, 0, NULL},
    {"protected-mode", T_BOOL, &server.protected_mode, "yes", 0, 0, NULL, 0, NULL},
    {"slowlog-log-slower-than", T_INT, &server.slowlog_slower_than, "10000", -1, (long long)1 << 40, NULL, 0, NULL},
    {"slowlog-max-len", T_INT, &server.slowlog_max_len, "128", 0, 1000000, NULL, 0, NULL},
    {"http-port", T_I32, &server.http_port, "0", 0, 65535, NULL, F_IMMUTABLE, NULL},
    {"tls-port", T_I32, &server.tls_port, "0", 0, 65535, NULL, F_IMMUTABLE, NULL},
    {"tls-cert-file", T_STRING, &server.tls_cert_file, "", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"tls-key-file", T_STRING, &server.tls_key_file, "", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"tls-ca-cert-file", T_STRING, &server.tls_ca_cert_file, "", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"tls-auth-clients", T_ENUM, &server.tls_auth_clients, "yes", 0, 0, tlsauth, F_IMMUTABLE, NULL},
    {"tls-cluster", T_BOOL, &server.tls_cluster, "no", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"maxclients", T_INT, &server.maxclients, "10000", 1, 1000000, NULL, 0, NULL},
    {"timeout", T_INT, &server.maxidletime, "0", 0, 2147483647, NULL, 0, NULL},
    {"tcp-keepalive", T_INT, &server.tcpkeepalive, "300", 0, 2147483647, NULL, 0, NULL},
    {"proto-max-bulk-len", T_MEM, &server.proto_max_bulk_len, "512mb", 1024 * 1024,
     (long long)1 << 40, NULL, 0, NULL},
    {"client-query-buffer-limit", T_MEM, &server.client_max_querybuf_len, "1gb", 1024 * 1024,
     (long long)1 << 40, NULL, 0, NULL},
    {"client-output-buffer-limit", T_OBUF, NULL, "normal 1gb 256mb 60", 0, 0, NULL, 0, NULL},
    {"wal-fsync", T_ENUM, &server.wal_fsync, "everysec", 0, 0, walfsync, 0, NULL},
    {"cache-size", T_MEM, &server.cache_size, "256mb", 1024 * 1024, (long long)1 << 50, NULL,
     F_IMMUTABLE, NULL},
    {"memtable-size", T_MEM, &server.memtable_size, "64mb", 1024 * 1024, (long long)1 << 40,
     NULL, F_IMMUTABLE, NULL},
    {"rocksdb-log-level", T_ENUM, &server.rocksdb_log_level, "off", 0, 0, rocksdbloglevels,
     F_IMMUTABLE, NULL},
    {"blob-threshold", T_MEM, &server.blob_threshold, "4kb", 0, (long long)1 << 32, NULL,
     F_IMMUTABLE, NULL},
    {"tombstone-grace", T_INT, &server.tombstone_grace, "86400", 0, (long long)1 << 40, NULL,
     F_IMMUTABLE, NULL},
    {"databases", T_I32, &server.databases, "16", 1, 256, NULL, F_IMMUTABLE, NULL},
    {"hz", T_I32, &server.hz, "10", 1, 500, NULL, 0, NULL},
    {"ring-partitions", T_I32, &server.ring_partitions, "256", 8, 65536, NULL, F_IMMUTABLE,
     applyPartitions},
    {"vclock-max-entries", T_INT, &server.vclock_max_entries, "10", 2, 1000, NULL, 0, NULL},
    {"max-siblings", T_INT, &server.max_siblings, "100", 1, 100000, NULL, 0, NULL},
    {"save", T_STRING, &compat_save, "", 0, 0, NULL, 0, applySave},
    {"set-max-intset-entries", T_INT, &compat_enc[0], "512", 0, LLONG_MAX, NULL, 0, NULL},
    {"set-max-listpack-entries", T_INT, &compat_enc[1], "128", 0, LLONG_MAX, NULL, 0, NULL},
    {"set-max-listpack-value", T_INT, &compat_enc[2], "64", 0, LLONG_MAX, NULL, 0, NULL},
    {"hash-max-listpack-entries", T_INT, &compat_enc[3], "128", 0, LLONG_MAX, NULL, 0, NULL},
    {"hash-max-listpack-value", T_INT, &compat_enc[4], "64", 0, LLONG_MAX, NULL, 0, NULL},
    {"hash-max-ziplist-entries", T_INT, &compat_enc[5], "128", 0, LLONG_MAX, NULL, 0, NULL},
    {"hash-max-ziplist-value", T_INT, &compat_enc[6], "64", 0, LLONG_MAX, NULL, 0, NULL},
    {"zset-max-listpack-entries", T_INT, &compat_enc[7], "128", 0, LLONG_MAX, NULL, 0, NULL},
    {"zset-max-listpack-value", T_INT, &compat_enc[8], "64", 0, LLONG_MAX, NULL, 0, NULL},
    {"zset-max-ziplist-entries", T_INT, &compat_enc[9], "128", 0, LLONG_MAX, NULL, 0, NULL},
    {"zset-max-ziplist-value", T_INT, &compat_enc[10], "64", 0, LLONG_MAX, NULL, 0, NULL},
    {"hll-sparse-max-bytes", T_INT, &compat_enc[11], "3000", 0, LLONG_MAX, NULL, 0, NULL},
    {"list-max-listpack-size", T_INT, &compat_enc[12], "-2", -5, LLONG_MAX, NULL, 0, NULL},
    {"list-max-ziplist-size", T_INT, &compat_enc[13], "-2", -5, LLONG_MAX, NULL, 0, NULL},
    {"list-compress-depth", T_INT, &compat_enc[14], "0", 0, LLONG_MAX, NULL, 0, NULL},
    {"stream-node-max-entries", T_INT, &compat_enc[15], "100", 0, LLONG_MAX, NULL, 0, NULL},
    {"appendonly", T_BOOL, &compat_appendonly, "no", 0, 0, NULL, F_IMMUTABLE, applyAppendonly},
    {"debug-clock-offset-ms", T_INT, &server.debug_clock_offset_ms, "0",
     -((long long)1 << 40), (long long)1 << 40, NULL, 0, NULL},
    {"debug-untrusted-prefix", T_STRING, &server.debug_untrusted_prefix, "", 0, 0, NULL, 0, NULL},
    /* cluster */
    {"node-id", T_STRING, &server.node_id_cfg, "", 0, 0, NULL, F_IMMUTABLE, applyNodeId},
    {"cluster-name", T_STRING, &server.cluster_name, "ringkv", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"cluster-secret", T_STRING, &server.cluster_secret, "", 0, 0, NULL, F_IMMUTABLE | F_SECRET, NULL},
    {"cluster-bus-port", T_I32, &server.bus_port, "0", 0, 65535, NULL, F_IMMUTABLE, NULL},
    {"cluster-announce-ip", T_STRING, &server.announce_ip, "", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"seeds", T_STRING, &server.seeds, "", 0, 0, NULL, F_IMMUTABLE, NULL},
    {"dc", T_STRING, &server.dc, "dc1", 0, 0, NULL, F_IMMUTABLE, applyPlacementName},
    {"rack", T_STRING, &server.rack, "rack1", 0, 0, NULL, F_IMMUTABLE, applyPlacementName},
    {"weight", T_I32, &server.weight, "64", 1, 4096, NULL, F_IMMUTABLE, NULL},
    {"replication", T_STRING, &server.replication, "3", 0, 0, NULL, F_IMMUTABLE, applyReplication},
    {"read-quorum", T_INT, &server.read_quorum, "2", 1, 64, NULL, 0, NULL},
    {"write-quorum", T_INT, &server.write_quorum, "2", 1, 64, NULL, 0, NULL},
    {"quorum-mode", T_ENUM, &server.quorum_mode, "sloppy", 0, 0, quorummodes, 0, NULL},
    {"read-fanout", T_ENUM, &server.read_fanout, "all", 0, 0, readfanouts, 0, NULL},
    {"read-retry-ms", T_INT, &server.read_retry_ms, "50", 0, 600000, NULL, 0, NULL},
    {"replica-timeout", T_INT, &server.replica_timeout, "1000", 10, 600000, NULL, 0, NULL},
    {"gossip-interval", T_INT, &server.gossip_interval, "1000", 10, 600000, NULL, F_IMMUTABLE, NULL},
    {"fail-timeout", T_INT, &server.fail_timeout, "5000", 50, 3600000, NULL, 0, NULL},
    {"hint-max-age", T_INT, &server.hint_max_age, "10800", 1, (long long)1 << 32, NULL, 0, NULL},
    {"hint-max-bytes", T_MEM, &server.hint_max_bytes, "1gb", 0, (long long)1 << 50, NULL, 0, NULL},
    {"hint-delivery-rate", T_INT, &server.hint_delivery_rate, "5000", 1, 100000000, NULL, 0, NULL},
    {"anti-entropy-interval", T_INT, &server.aae_interval, "60", 0, (long long)1 << 32, NULL, 0, NULL},
    {"anti-entropy-rate", T_INT, &server.aae_rate, "10000", 1, 100000000, NULL, 0, NULL},
    {"handoff-rate", T_MEM, &server.handoff_rate, "64mb", 1024, (long long)1 << 40, NULL, 0, NULL},
    {NULL, 0, NULL, NULL, 0, 0, NULL, 0, NULL},
};

static int isIntField(const option *o) { return o->type == T_I32; }

static option *lookup(const char *name) {
    for (option *o = options; o->name; o++)
        if (!strcasecmp(o->name, name)) return o;
    return NULL;
}

/* ----------------------------------------------------------------- values */

static int parseObuf(const char *value, long long *hard, long long *soft, long long *secs,
                     char *err, size_t errlen) {
    char **argv;
    size_t *argl;
    int argc = splitArgs(value, strlen(value), &argv, &argl);
    /* Redis 7's three texts, so operators see the mistake they made */
    const char *msg = NULL;
    if (argc <= 0 || argc % 4) msg = "Wrong number of arguments in buffer limit configuration.";
    long long h = *hard, s = *soft, t = *secs;
    for (int i = 0; !msg && i < argc; i += 4) {
        int normal = !strcasecmp(argv[i], "normal");
        /* classes we have no clients of are accepted and ignored */
        if (!normal && strcasecmp(argv[i], "replica") && strcasecmp(argv[i], "slave") &&
            strcasecmp(argv[i], "pubsub")) {
            msg = "Invalid client class specified in buffer limit configuration.";
            break;
        }
        int e1, e2;
        long long hh = (long long)memtoull(argv[i + 1], &e1);
        long long ss = (long long)memtoull(argv[i + 2], &e2);
        long long tt;
        if (e1 || e2 || !string2ll(argv[i + 3], argl[i + 3], &tt) || tt < 0) {
            msg = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            break;
        }
        if (normal) {
            h = hh;
            s = ss;
            t = tt;
        }
    }
    if (argc >= 0) freeSplitArgs(argv, argl, argc);
    if (msg) {
        snprintf(err, errlen, "%s", msg);
        return C_ERR;
    }
    *hard = h;
    *soft = s;
    *secs = t;
    return C_OK;
}

static int setValue(option *o, const char *value, char *err, size_t errlen) {
    switch (o->type) {
    case T_BOOL: {
        int v;
        if (!strcasecmp(value, "yes")) v = 1;
        else if (!strcasecmp(value, "no")) v = 0;
        else {
            snprintf(err, errlen, "argument must be 'yes' or 'no'");
            return C_ERR;
        }
        *(int *)o->ptr = v;
        return C_OK;
    }
    case T_INT:
    case T_I32:
    case T_MEM: {
        long long v;
        if (o->type == T_MEM) {
            int e;
            if (value[0] == '-') e = 1;
            else v = (long long)memtoull(value, &e);
            if (e) {
                snprintf(err, errlen, "argument must be a memory value");
                return C_ERR;
            }
        } else if (!string2ll(value, strlen(value), &v)) {
            snprintf(err, errlen, "argument couldn't be parsed into an integer");
            return C_ERR;
        }
        if (v < o->min || v > o->max) {
            snprintf(err, errlen, "argument must be between %lld and %lld inclusive", o->min,
                     o->max);
            return C_ERR;
        }
        if (isIntField(o)) *(int *)o->ptr = (int)v;
        else *(long long *)o->ptr = v;
        return C_OK;
    }
    case T_ENUM:
        for (const enumVal *e = o->enums; e->name; e++) {
            if (!strcasecmp(e->name, value)) {
                *(int *)o->ptr = e->value;
                return C_OK;
            }
        }
        snprintf(err, errlen, "argument(s) must be one of the following: ");
        for (const enumVal *e = o->enums; e->name; e++) {
            size_t l = strlen(err);
            snprintf(err + l, errlen - l, "%s%s", e->name, e[1].name ? ", " : "");
        }
        return C_ERR;
    case T_STRING: {
        char **p = (char **)o->ptr;
        zfree(*p);
        *p = zstrdup(value);
        return C_OK;
    }
    case T_OBUF:
        return parseObuf(value, &server.obuf_hard, &server.obuf_soft, &server.obuf_soft_secs, err,
                         errlen);
    }
    return C_ERR;
}

static void getValue(const option *o, buf *out) {
    bufClear(out);
    switch (o->type) {
    case T_BOOL: bufAppendStr(out, *(int *)o->ptr ? "yes" : "no"); break;
    case T_INT:
    case T_I32:
    case T_MEM:
        bufPrintf(out, "%lld", isIntField(o) ? (long long)*(int *)o->ptr : *(long long *)o->ptr);
        break;
    case T_ENUM:
        for (const enumVal *e = o->enums; e->name; e++)
            if (e->value == *(int *)o->ptr) {
                bufAppendStr(out, e->name);
                break;
            }
        break;
    case T_STRING: {
        const char *s = *(char **)o->ptr;
        if ((o->flags & F_SECRET) && s && s[0]) s = "(set, not shown)";
        bufAppendStr(out, s ? s : "");
        break;
    }
    case T_OBUF:
        bufPrintf(out, "normal %lld %lld %lld replica 0 0 0 pubsub 0 0 0", server.obuf_hard,
                  server.obuf_soft, server.obuf_soft_secs);
        break;
    }
}

void configInitDefaults(void) {
    char err[256];
    for (option *o = options; o->name; o++) {
        if (setValue(o, o->deflt, err, sizeof(err)) != C_OK) {
            fprintf(stderr, "bad default for %s: %s\n", o->name, err);
            abort();
        }
        if (o->apply) o->apply(err, sizeof(err));
    }
}

int configSet(const char *name, const char *value, int startup, char *err, size_t errlen) {
    option *o = lookup(name);
    if (!o) {
        snprintf(err, errlen, "Bad directive or wrong number of arguments");
        return C_ERR;
    }
    if (!startup && (o->flags & F_IMMUTABLE)) {
        snprintf(err, errlen, "can't set immutable config");
        return C_ERR;
    }
    if (setValue(o, value, err, errlen) != C_OK) return C_ERR;
    if (o->apply && o->apply(err, errlen) != C_OK) return C_ERR;
    return C_OK;
}

const char *configCanonicalName(const char *name) {
    option *o = lookup(name);
    return o ? o->name : NULL;
}

int configIsMutable(const char *name) {
    option *o = lookup(name);
    return o && !(o->flags & F_IMMUTABLE);
}

int configGetValue(const char *name, buf *out) {
    option *o = lookup(name);
    if (!o) return C_ERR;
    getValue(o, out);
    return C_OK;
}

void configGet(const char *pattern, configGetFn *fn, void *pd) {
    buf v;
    bufInit(&v);
    for (option *o = options; o->name; o++) {
        if (!stringmatchlen(pattern, (int)strlen(pattern), o->name, (int)strlen(o->name), 1))
            continue;
        getValue(o, &v);
        fn(o->name, v.ptr ? v.ptr : "", pd);
    }
    bufFree(&v);
}

/* ------------------------------------------------------------- conf text */

/* One "name value..." line: the values are joined by spaces, so that
 * "client-output-buffer-limit normal 0 0 0" and quoted values both work. */
static int loadLine(char **argv, size_t *argl, int argc, char *err, size_t errlen) {
    UNUSED(argl);
    if (argc < 2) {
        snprintf(err, errlen, "wrong number of arguments for '%s'", argv[0]);
        return C_ERR;
    }
    buf v;
    bufInit(&v);
    for (int i = 1; i < argc; i++) {
        if (i > 1) bufAppend(&v, " ", 1);
        bufAppend(&v, argv[i], argl[i]);
    }
    char e[200];
    int rc = configSet(argv[0], v.ptr ? v.ptr : "", 1, e, sizeof(e));
    if (rc != C_OK) snprintf(err, errlen, "'%s': %s", argv[0], e);
    bufFree(&v);
    return rc;
}

int configLoadText(const char *text, size_t len, char *err, size_t errlen) {
    const char *p = text, *end = text + len;
    int lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        const char *s = p;
        p += l + (nl ? 1 : 0);
        while (l && isspace((unsigned char)*s)) {
            s++;
            l--;
        }
        if (l == 0 || s[0] == '#') continue;
        char **argv;
        size_t *argl;
        int argc = splitArgs(s, l, &argv, &argl);
        if (argc < 0) {
            snprintf(err, errlen, "line %d: unbalanced quotes", lineno);
            return C_ERR;
        }
        if (argc == 0) {
            freeSplitArgs(argv, argl, argc);
            continue;
        }
        char e[256];
        int rc = loadLine(argv, argl, argc, e, sizeof(e));
        freeSplitArgs(argv, argl, argc);
        if (rc != C_OK) {
            snprintf(err, errlen, "line %d: %s", lineno, e);
            return C_ERR;
        }
    }
    return C_OK;
}

int configLoadFile(const char *path, char *err, size_t errlen) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errlen, "can't open config file '%s': %s", path, strerror(errno));
        return C_ERR;
    }
    buf b;
    bufInit(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) bufAppend(&b, chunk, n);
    fclose(fp);
    int rc = configLoadText(b.ptr ? b.ptr : "", b.len, err, errlen);
    bufFree(&b);
    return rc;
}

/* "--port 7001 --seeds a:1,b:2" -> lines "port 7001" / "seeds a:1,b:2".
 * As redis-server does, every word up to the next "--name" is a value. */
int configLoadArgs(int argc, char **argv, char *err, size_t errlen) {
    buf text;
    bufInit(&text);
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2) && argv[i][2]) {
            if (text.len) bufAppend(&text, "\n", 1);
            bufAppendStr(&text, argv[i] + 2);
        } else {
            /* quote the value so spaces and empty strings survive */
            bufAppend(&text, " \"", 2);
            for (const char *c = argv[i]; *c; c++) {
                if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                    /* a raw newline would end the conf line: escape control bytes */
                    bufPrintf(&text, "\\x%02x", (unsigned char)*c);
                    continue;
                }
                if (*c == '"' || *c == '\\') bufAppend(&text, "\\", 1);
                bufAppend(&text, c, 1);
            }
            bufAppend(&text, "\"", 1);
        }
    }
    int rc = configLoadText(text.ptr ? text.ptr : "", text.len, err, errlen);
    bufFree(&text);
    return rc;
}

