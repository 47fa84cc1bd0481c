/* test_config.c -- the option table, conf text, command line overrides and
 * CONFIG GET/SET semantics (config.c).
 *
 * Operators coming from Redis write the same "name value" lines and expect
 * the same error texts (Redis 7's config.c), so those are asserted exactly.
 * Every test starts from configInitDefaults(): config.c writes into the one
 * global server struct, and Criterion runs each test in its own process. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "server.h"

static char err[512];

static void init(void) {
    configInitDefaults();
    err[0] = '\0';
}

TestSuite(config, .init = init);

static int load(const char *text) {
    err[0] = '\0';
    return configLoadText(text, strlen(text), err, sizeof(err));
}

static int set(const char *name, const char *value, int startup) {
    err[0] = '\0';
    return configSet(name, value, startup, err, sizeof(err));
}

/* The value CONFIG GET shows for name. */
static const char *get(const char *name) {
    static buf b;
    bufClear(&b);
    cr_assert_eq(configGetValue(name, &b), C_OK, "no option '%s'", name);
    return b.ptr ? b.ptr : "";
}

/* ------------------------------------------------------------ defaults */

Test(config, defaults) {
    cr_assert_eq(server.port, 6379);
    cr_assert_str_eq(server.bind, "127.0.0.1");
    cr_assert_eq(server.ring_partitions, 256);
    cr_assert_eq(server.qbits, 8);
    cr_assert_eq(server.proto_max_bulk_len, 512LL * 1024 * 1024);
    cr_assert_eq(server.client_max_querybuf_len, 1024LL * 1024 * 1024);
    cr_assert_eq(server.obuf_hard, 1024LL * 1024 * 1024);
    cr_assert_eq(server.obuf_soft, 256LL * 1024 * 1024);
    cr_assert_eq(server.obuf_soft_secs, 60);
    cr_assert_eq(server.wal_fsync, WAL_FSYNC_EVERYSEC);
    cr_assert_eq(server.verbosity, LL_NOTICE);
    cr_assert_eq(server.daemonize, 0);
    cr_assert_eq(server.maxclients, 10000);
    cr_assert_eq(server.maxidletime, 0);
    cr_assert_eq(server.tcpkeepalive, 300);
    cr_assert_eq(server.databases, 16);
    cr_assert_eq(server.hz, 10);
    cr_assert_str_eq(get("port"), "6379");
    cr_assert_str_eq(get("daemonize"), "no");
    cr_assert_str_eq(get("loglevel"), "notice");
    cr_assert_str_eq(get("wal-fsync"), "everysec");
    cr_assert_str_eq(get("proto-max-bulk-len"), "536870912");
    cr_assert_str_eq(get("requirepass"), "");
}

Test(config, defaults_are_idempotent) {
    cr_assert_eq(set("port", "7001", 1), C_OK);
    cr_assert_eq(set("requirepass", "secret", 0), C_OK);
    configInitDefaults();
    cr_assert_eq(server.port, 6379);
    cr_assert_str_eq(server.requirepass, "");
}

/* ---------------------------------------------------------- conf text */

Test(config, load_text) {
    const char *conf = "# ringkv test config\n"
                       "\n"
                       "port 7001\n"
                       "   # an indented comment\n"
                       "bind 127.0.0.2\n"
                       "\t  maxclients 50\n"
                       "loglevel warning\n"
                       "daemonize yes\n"
                       "requirepass \"pass word\"\n"
                       "dir '/tmp/with space'\n"
                       "proto-max-bulk-len 64mb\n"
                       "ring-partitions 1024\n"
                       "wal-fsync always\n"
                       "timeout 30"; /* no final newline */
    cr_assert_eq(load(conf), C_OK, "%s", err);
    cr_assert_eq(server.port, 7001);
    cr_assert_str_eq(server.bind, "127.0.0.2");
    cr_assert_eq(server.maxclients, 50);
    cr_assert_eq(server.verbosity, LL_WARNING);
    cr_assert_eq(server.daemonize, 1);
    cr_assert_str_eq(server.requirepass, "pass word");
    cr_assert_str_eq(server.dir, "/tmp/with space");
    cr_assert_eq(server.proto_max_bulk_len, 64LL * 1024 * 1024);
    cr_assert_eq(server.ring_partitions, 1024);
    cr_assert_eq(server.qbits, 10);
    cr_assert_eq(server.wal_fsync, WAL_FSYNC_ALWAYS);
    cr_assert_eq(server.maxidletime, 30);
}

Test(config, load_text_crlf_and_case) {
    /* a conf file edited on Windows, names and enum values in capitals */
    cr_assert_eq(load("PORT 7002\r\nLogLevel DEBUG\r\nDaemonize YES\r\n"), C_OK, "%s", err);
    cr_assert_eq(server.port, 7002);
    cr_assert_eq(server.verbosity, LL_DEBUG);
    cr_assert_eq(server.daemonize, 1);
    cr_assert_str_eq(get("loglevel"), "debug");
}

Test(config, load_text_later_line_wins) {
    cr_assert_eq(load("port 7001\nport 7002\n"), C_OK);
    cr_assert_eq(server.port, 7002);
}

Test(config, load_text_empty_and_comments_only) {
    cr_assert_eq(load(""), C_OK);
    cr_assert_eq(load("\n\n   \n# nothing\n\t\n"), C_OK);
    cr_assert_eq(server.port, 6379);
}

Test(config, load_text_empty_quoted_value) {
    cr_assert_eq(load("requirepass foo\nrequirepass \"\"\n"), C_OK, "%s", err);
    cr_assert_str_eq(server.requirepass, "");
    cr_assert_eq(load("logfile ''\n"), C_OK, "%s", err);
    cr_assert_str_eq(server.logfile, "");
}

Test(config, load_text_escapes_in_quotes) {
    cr_assert_eq(load("requirepass \"a\\\"b\\x41\"\n"), C_OK, "%s", err);
    cr_assert_str_eq(server.requirepass, "a\"bA");
}

Test(config, unknown_option) {
    cr_assert_eq(load("port 7001\n\nno-such-option 1\n"), C_ERR);
    cr_assert_str_eq(err, "line 3: 'no-such-option': Bad directive or wrong number of arguments");
    cr_assert_eq(set("no-such-option", "1", 1), C_ERR);
    cr_assert_str_eq(err, "Bad directive or wrong number of arguments");
}

Test(config, missing_value) {
    cr_assert_eq(load("port\n"), C_ERR);
    cr_assert(strstr(err, "line 1"), "%s", err);
    cr_assert(strstr(err, "wrong number of arguments"), "%s", err);
}

Test(config, unbalanced_quotes) {
    cr_assert_eq(load("port 7001\nrequirepass \"abc\n"), C_ERR);
    cr_assert_str_eq(err, "line 2: unbalanced quotes");
    cr_assert_eq(load("requirepass \"abc\"def\n"), C_ERR);
    cr_assert_str_eq(err, "line 1: unbalanced quotes");
}

Test(config, error_stops_at_first_bad_line) {
    cr_assert_eq(load("port 7001\nport nope\nmaxclients 5\n"), C_ERR);
    cr_assert_eq(server.port, 7001, "lines before the error applied");
    cr_assert_eq(server.maxclients, 10000, "lines after it not");
}

/* ------------------------------------------------------------- values */

Test(config, bad_integer) {
    cr_assert_eq(set("port", "abc", 1), C_ERR);
    cr_assert_str_eq(err, "argument couldn't be parsed into an integer");
    cr_assert_eq(set("port", "70.5", 1), C_ERR);
    cr_assert_str_eq(err, "argument couldn't be parsed into an integer");
    cr_assert_eq(set("port", "", 1), C_ERR);
    cr_assert_eq(set("port", " 7001", 1), C_ERR);
    cr_assert_eq(set("maxclients", "99999999999999999999", 0), C_ERR);
    cr_assert_str_eq(err, "argument couldn't be parsed into an integer");
    cr_assert_eq(server.port, 6379, "a refused value leaves the old one");
    cr_assert_eq(load("port 12abc\n"), C_ERR);
    cr_assert_str_eq(err, "line 1: 'port': argument couldn't be parsed into an integer");
}

Test(config, integer_range) {
    cr_assert_eq(set("port", "65536", 1), C_ERR);
    cr_assert_str_eq(err, "argument must be between 1 and 65535 inclusive");
    cr_assert_eq(set("port", "-1", 1), C_ERR);
    cr_assert_str_eq(err, "argument must be between 1 and 65535 inclusive");
    cr_assert_eq(set("port", "65535", 1), C_OK);
    cr_assert_eq(server.port, 65535);
    cr_assert_eq(set("port", "0", 1), C_ERR, "there is always a TCP listener");
    cr_assert_eq(set("port", "1", 1), C_OK);
    cr_assert_eq(server.port, 1);
    cr_assert_eq(set("maxclients", "0", 0), C_ERR);
    cr_assert_str_eq(err, "argument must be between 1 and 1000000 inclusive");
    cr_assert_eq(set("hz", "501", 0), C_ERR);
    cr_assert_str_eq(err, "argument must be between 1 and 500 inclusive");
    cr_assert_eq(set("databases", "4294967312", 1), C_ERR, "not truncated into an int");
    cr_assert_eq(server.databases, 16);
    cr_assert_eq(set("debug-clock-offset-ms", "-5000", 0), C_OK);
    cr_assert_eq(server.debug_clock_offset_ms, -5000);
}

Test(config, memory_values) {
    cr_assert_eq(set("proto-max-bulk-len", "1gb", 0), C_OK);
    cr_assert_eq(server.proto_max_bulk_len, 1LL << 30);
    cr_assert_str_eq(get("proto-max-bulk-len"), "1073741824");
    cr_assert_eq(set("proto-max-bulk-len", "2097152", 0), C_OK);
    cr_assert_eq(server.proto_max_bulk_len, 2097152);
    cr_assert_eq(set("proto-max-bulk-len", "12zb", 0), C_ERR);
    cr_assert_str_eq(err, "argument must be a memory value");
    cr_assert_eq(set("proto-max-bulk-len", "-1", 0), C_ERR);
    cr_assert_str_eq(err, "argument must be a memory value");
    cr_assert_eq(set("proto-max-bulk-len", "-1mb", 0), C_ERR);
    cr_assert_str_eq(err, "argument must be a memory value");
    cr_assert_eq(set("proto-max-bulk-len", "", 0), C_ERR);
    cr_assert_str_eq(err, "argument must be a memory value");
    cr_assert_eq(set("proto-max-bulk-len", "1.5gb", 0), C_ERR);
    cr_assert_str_eq(err, "argument must be a memory value");
    cr_assert_eq(set("proto-max-bulk-len", "1kb", 0), C_ERR);
    cr_assert_str_eq(err, "argument must be between 1048576 and 1099511627776 inclusive");
    cr_assert_eq(set("proto-max-bulk-len", "18446744073709551615", 0), C_ERR,
                 "beyond the range, even past LLONG_MAX");
    cr_assert_eq(server.proto_max_bulk_len, 2097152);
    cr_assert_eq(set("blob-threshold", "0", 1), C_OK);
    cr_assert_eq(server.blob_threshold, 0);
    cr_assert_eq(set("blob-threshold", "4KB", 1), C_OK);
    cr_assert_eq(server.blob_threshold, 4096);
}

Test(config, enum_values) {
    cr_assert_eq(set("loglevel", "loud", 0), C_ERR);
    cr_assert_str_eq(err, "argument(s) must be one of the following: debug, verbose, notice, warning");
    cr_assert_eq(set("wal-fsync", "sometimes", 0), C_ERR);
    cr_assert_str_eq(err, "argument(s) must be one of the following: always, everysec, no");
    cr_assert_eq(server.wal_fsync, WAL_FSYNC_EVERYSEC);
    cr_assert_eq(set("wal-fsync", "no", 0), C_OK);
    cr_assert_eq(server.wal_fsync, WAL_FSYNC_NO);
    cr_assert_str_eq(get("wal-fsync"), "no");
    cr_assert_eq(set("loglevel", "verbose", 0), C_OK);
    cr_assert_eq(server.verbosity, LL_VERBOSE);
    cr_assert_str_eq(get("loglevel"), "verbose");
    cr_assert_eq(set("loglevel", "", 0), C_ERR);
}

Test(config, bool_values) {
    cr_assert_eq(set("daemonize", "maybe", 1), C_ERR);
    cr_assert_str_eq(err, "argument must be 'yes' or 'no'");
    cr_assert_eq(set("daemonize", "1", 1), C_ERR);
    cr_assert_str_eq(err, "argument must be 'yes' or 'no'");
    cr_assert_eq(set("daemonize", "", 1), C_ERR);
    cr_assert_eq(set("daemonize", "YES", 1), C_OK);
    cr_assert_eq(server.daemonize, 1);
    cr_assert_str_eq(get("daemonize"), "yes");
    cr_assert_eq(set("daemonize", "No", 1), C_OK);
    cr_assert_eq(server.daemonize, 0);
}

Test(config, string_values) {
    cr_assert_eq(set("requirepass", "s3cr3t with spaces", 0), C_OK);
    cr_assert_str_eq(server.requirepass, "s3cr3t with spaces");
    cr_assert_str_eq(get("requirepass"), "s3cr3t with spaces");
    cr_assert_eq(set("requirepass", "", 0), C_OK);
    cr_assert_str_eq(server.requirepass, "");
}

/* --------------------------------------------------------- mutability */

Test(config, immutable_refused_at_runtime) {
    cr_assert_eq(set("port", "7001", 0), C_ERR);
    cr_assert_str_eq(err, "can't set immutable config");
    cr_assert_eq(server.port, 6379);
    cr_assert_eq(set("ring-partitions", "512", 0), C_ERR);
    cr_assert_str_eq(err, "can't set immutable config");
    cr_assert_eq(server.ring_partitions, 256);
    cr_assert_eq(set("bind", "0.0.0.0", 0), C_ERR);
    cr_assert_str_eq(server.bind, "127.0.0.1");
    cr_assert_eq(set("dir", "/", 0), C_ERR);
    cr_assert_eq(set("daemonize", "yes", 0), C_ERR);
    /* even an invalid value gets the immutable error, not a value error */
    cr_assert_eq(set("port", "nope", 0), C_ERR);
    cr_assert_str_eq(err, "can't set immutable config");
}

Test(config, immutable_accepted_at_startup) {
    cr_assert_eq(set("port", "7001", 1), C_OK, "%s", err);
    cr_assert_eq(server.port, 7001);
    cr_assert_eq(set("ring-partitions", "512", 1), C_OK, "%s", err);
    cr_assert_eq(server.qbits, 9);
    cr_assert_eq(set("bind", "0.0.0.0", 1), C_OK);
    cr_assert_str_eq(server.bind, "0.0.0.0");
}

Test(config, mutable_at_runtime) {
    cr_assert_eq(set("maxclients", "5", 0), C_OK, "%s", err);
    cr_assert_eq(server.maxclients, 5);
    cr_assert_eq(set("loglevel", "debug", 0), C_OK);
    cr_assert_eq(server.verbosity, LL_DEBUG);
    cr_assert_eq(set("timeout", "120", 0), C_OK);
    cr_assert_eq(server.maxidletime, 120);
    cr_assert_eq(set("hz", "100", 0), C_OK);
    cr_assert_eq(server.hz, 100);
}

Test(config, mutability_and_names) {
    cr_assert_not(configIsMutable("port"));
    cr_assert_not(configIsMutable("ring-partitions"));
    cr_assert(configIsMutable("maxclients"));
    cr_assert(configIsMutable("loglevel"));
    cr_assert(configIsMutable("MaxClients"), "names are case-insensitive");
    cr_assert_not(configIsMutable("no-such-option"));
    cr_assert_str_eq(configCanonicalName("PORT"), "port");
    cr_assert_str_eq(configCanonicalName("Proto-Max-Bulk-Len"), "proto-max-bulk-len");
    cr_assert_null(configCanonicalName("no-such-option"));
    cr_assert_null(configCanonicalName(""));
    buf b;
    bufInit(&b);
    cr_assert_eq(configGetValue("no-such-option", &b), C_ERR);
    cr_assert_eq(configGetValue("MAXCLIENTS", &b), C_OK);
    cr_assert_str_eq(b.ptr, "10000");
    bufFree(&b);
}

/* ------------------------------------------------------- ring-partitions */

Test(config, ring_partitions_power_of_two) {
    cr_assert_eq(set("ring-partitions", "100", 1), C_ERR);
    cr_assert_str_eq(err, "argument must be a power of two");
    cr_assert_eq(server.qbits, 8);
    cr_assert_eq(set("ring-partitions", "1000", 1), C_ERR);
    cr_assert_str_eq(err, "argument must be a power of two");
    cr_assert_eq(set("ring-partitions", "4", 1), C_ERR);
    cr_assert_str_eq(err, "argument must be between 8 and 65536 inclusive");
    cr_assert_eq(set("ring-partitions", "131072", 1), C_ERR);
    cr_assert_eq(set("ring-partitions", "8", 1), C_OK);
    cr_assert_eq(server.qbits, 3);
    cr_assert_eq(set("ring-partitions", "65536", 1), C_OK);
    cr_assert_eq(server.qbits, 16);
    cr_assert_eq(set("ring-partitions", "256", 1), C_OK);
    cr_assert_eq(server.qbits, 8);
    cr_assert_eq(load("ring-partitions 48\n"), C_ERR);
    cr_assert_str_eq(err, "line 1: 'ring-partitions': argument must be a power of two");
}

/* ------------------------------------------------ output buffer limits */

Test(config, obuf_limits) {
    cr_assert_eq(set("client-output-buffer-limit", "normal 0 0 0", 0), C_OK, "%s", err);
    cr_assert_eq(server.obuf_hard, 0);
    cr_assert_eq(server.obuf_soft, 0);
    cr_assert_eq(server.obuf_soft_secs, 0);
    cr_assert_eq(set("client-output-buffer-limit",
                     "normal 1gb 512mb 120 replica 256mb 64mb 60 pubsub 32mb 8mb 60", 0),
                 C_OK, "%s", err);
    cr_assert_eq(server.obuf_hard, 1LL << 30);
    cr_assert_eq(server.obuf_soft, 512LL << 20);
    cr_assert_eq(server.obuf_soft_secs, 120);
    /* classes we have no clients of are accepted (Redis configs carry them) */
    cr_assert_eq(set("client-output-buffer-limit", "slave 256mb 64mb 60 pubsub 1 2 3", 0), C_OK,
                 "%s", err);
    cr_assert_eq(server.obuf_hard, 1LL << 30, "normal untouched");
    cr_assert_eq(set("client-output-buffer-limit", "NORMAL 4096 2048 5", 0), C_OK, "%s", err);
    cr_assert_eq(server.obuf_hard, 4096);
    cr_assert_eq(server.obuf_soft, 2048);
    cr_assert_eq(server.obuf_soft_secs, 5);
    const char *v = get("client-output-buffer-limit");
    cr_assert(!strncmp(v, "normal 4096 2048 5", 18), "got '%s'", v);
}

Test(config, obuf_limits_from_conf_text) {
    /* the Redis conf form: several words after the name */
    cr_assert_eq(load("client-output-buffer-limit normal 0 0 0\n"
                      "client-output-buffer-limit pubsub 32mb 8mb 60\n"),
                 C_OK, "%s", err);
    cr_assert_eq(server.obuf_hard, 0);
    cr_assert_eq(server.obuf_soft, 0);
}

Test(config, obuf_limits_errors) {
    /* Redis 7's texts, one per kind of mistake */
    cr_assert_eq(set("client-output-buffer-limit", "normal 1gb", 0), C_ERR);
    cr_assert_str_eq(err, "Wrong number of arguments in buffer limit configuration.");
    cr_assert_eq(set("client-output-buffer-limit", "normal 1 2 3 pubsub", 0), C_ERR);
    cr_assert_str_eq(err, "Wrong number of arguments in buffer limit configuration.");
    cr_assert_eq(set("client-output-buffer-limit", "foo 1 1 1", 0), C_ERR);
    cr_assert_str_eq(err, "Invalid client class specified in buffer limit configuration.");
    cr_assert_eq(set("client-output-buffer-limit", "master 1 1 1", 0), C_ERR);
    cr_assert_str_eq(err, "Invalid client class specified in buffer limit configuration.");
    cr_assert_eq(set("client-output-buffer-limit", "normal abc 1 1", 0), C_ERR);
    cr_assert_str_eq(err,
                     "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    cr_assert_eq(set("client-output-buffer-limit", "normal 1 1xb 1", 0), C_ERR);
    cr_assert_str_eq(err,
                     "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    cr_assert_eq(set("client-output-buffer-limit", "normal 1 1 -1", 0), C_ERR);
    cr_assert_str_eq(err,
                     "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    cr_assert_eq(set("client-output-buffer-limit", "normal 1 1 x", 0), C_ERR);
    cr_assert_str_eq(err,
                     "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    /* all or nothing: a bad class after a good one changes nothing */
    cr_assert_eq(set("client-output-buffer-limit", "normal 1 2 3 bogus 1 1 1", 0), C_ERR);
    cr_assert_eq(server.obuf_hard, 1LL << 30);
    cr_assert_eq(server.obuf_soft, 256LL << 20);
    cr_assert_eq(server.obuf_soft_secs, 60);
    cr_assert_eq(set("client-output-buffer-limit", "normal \"1 2 3", 0), C_ERR);
}

/* ------------------------------------------------------------ CONFIG GET */

typedef struct got {
    int n;
    char names[128][64];
    char values[128][256];
} got;

static void collect(const char *name, const char *value, void *pd) {
    got *g = pd;
    cr_assert_lt(g->n, 128);
    snprintf(g->names[g->n], sizeof(g->names[0]), "%s", name);
    snprintf(g->values[g->n], sizeof(g->values[0]), "%s", value);
    g->n++;
}

static int has(const got *g, const char *name) {
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->names[i], name)) return i;
    return -1;
}

Test(config, get_exact_and_nocase) {
    got g = {0};
    configGet("port", collect, &g);
    cr_assert_eq(g.n, 1);
    cr_assert_str_eq(g.names[0], "port");
    cr_assert_str_eq(g.values[0], "6379");
    memset(&g, 0, sizeof(g));
    configGet("PORT", collect, &g);
    cr_assert_eq(g.n, 1, "CONFIG GET is case-insensitive");
    cr_assert_str_eq(g.names[0], "port", "the canonical name is returned");
}

Test(config, get_glob) {
    got g = {0};
    configGet("*max*", collect, &g);
    const char *want[] = {"maxclients", "proto-max-bulk-len", "vclock-max-entries",
                          "max-siblings"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_assert_geq(has(&g, want[i]), 0, "'%s' missing from *max*", want[i]);
    for (int i = 0; i < g.n; i++)
        cr_assert(strstr(g.names[i], "max"), "'%s' does not match *max*", g.names[i]);
    cr_assert_str_eq(g.values[has(&g, "maxclients")], "10000");

    memset(&g, 0, sizeof(g));
    configGet("?ort", collect, &g);
    cr_assert_geq(has(&g, "port"), 0);
    for (int i = 0; i < g.n; i++) cr_assert_eq(strlen(g.names[i]), 4);

    memset(&g, 0, sizeof(g));
    configGet("[bd]i*", collect, &g);
    cr_assert_geq(has(&g, "bind"), 0);
    cr_assert_geq(has(&g, "dir"), 0);
    for (int i = 0; i < g.n; i++)
        cr_assert((g.names[i][0] == 'b' || g.names[i][0] == 'd') && g.names[i][1] == 'i');

    memset(&g, 0, sizeof(g));
    configGet("no-such-*", collect, &g);
    cr_assert_eq(g.n, 0);
}

Test(config, get_all) {
    got g = {0};
    configGet("*", collect, &g);
    const char *some[] = {"port", "bind", "dir", "loglevel", "maxclients", "timeout",
                          "proto-max-bulk-len", "client-output-buffer-limit", "ring-partitions",
                          "databases", "requirepass", "wal-fsync"};
    for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++)
        cr_assert_geq(has(&g, some[i]), 0, "'%s' missing from *", some[i]);
    for (int i = 0; i < g.n; i++) {
        cr_assert_eq(has(&g, g.names[i]), i, "'%s' listed twice", g.names[i]);
        /* every name CONFIG GET shows, CONFIG GET name finds, with the same value */
        cr_assert_str_eq(get(g.names[i]), g.values[i]);
    }
}

Test(config, get_reflects_set) {
    cr_assert_eq(set("maxclients", "77", 0), C_OK);
    got g = {0};
    configGet("maxclients", collect, &g);
    cr_assert_str_eq(g.values[0], "77");
}

/* ------------------------------------------------------ command line */

static int args(int argc, const char **argv) {
    err[0] = '\0';
    return configLoadArgs(argc, (char **)argv, err, sizeof(err));
}

Test(config, load_args) {
    const char *argv[] = {"--port", "7001", "--bind", "127.0.0.1", "--loglevel", "warning"};
    cr_assert_eq(args(6, argv), C_OK, "%s", err);
    cr_assert_eq(server.port, 7001);
    cr_assert_str_eq(server.bind, "127.0.0.1");
    cr_assert_eq(server.verbosity, LL_WARNING);
}

Test(config, load_args_value_with_spaces_and_quotes) {
    const char *argv[] = {"--requirepass", "a b  c", "--dir", "/tmp/x \"y\" \\z"};
    cr_assert_eq(args(4, argv), C_OK, "%s", err);
    cr_assert_str_eq(server.requirepass, "a b  c");
    cr_assert_str_eq(server.dir, "/tmp/x \"y\" \\z");
}

Test(config, load_args_value_with_control_bytes) {
    /* a newline in an argument must not split the value into conf lines */
    const char *argv[] = {"--requirepass", "line1\nline2\r\tend", "--port", "7005"};
    cr_assert_eq(args(4, argv), C_OK, "%s", err);
    cr_assert_str_eq(server.requirepass, "line1\nline2\r\tend");
    cr_assert_eq(server.port, 7005);
}

Test(config, load_args_empty_value) {
    const char *argv[] = {"--requirepass", "", "--port", "7003"};
    cr_assert_eq(args(4, argv), C_OK, "%s", err);
    cr_assert_str_eq(server.requirepass, "");
    cr_assert_eq(server.port, 7003);
}

Test(config, load_args_multi_word_value) {
    /* as redis-server: every word up to the next --name belongs to the value */
    const char *argv[] = {"--client-output-buffer-limit", "normal", "0", "0", "0", "--port",
                          "7004"};
    cr_assert_eq(args(7, argv), C_OK, "%s", err);
    cr_assert_eq(server.obuf_hard, 0);
    cr_assert_eq(server.obuf_soft_secs, 0);
    cr_assert_eq(server.port, 7004);
}

Test(config, load_args_negative_number_is_a_value) {
    const char *argv[] = {"--debug-clock-offset-ms", "-250"};
    cr_assert_eq(args(2, argv), C_OK, "%s", err);
    cr_assert_eq(server.debug_clock_offset_ms, -250);
}

Test(config, load_args_errors) {
    const char *unknown[] = {"--no-such-option", "1"};
    cr_assert_eq(args(2, unknown), C_ERR);
    cr_assert(strstr(err, "Bad directive or wrong number of arguments"), "%s", err);
    const char *bad[] = {"--port", "99999"};
    cr_assert_eq(args(2, bad), C_ERR);
    cr_assert(strstr(err, "argument must be between 1 and 65535 inclusive"), "%s", err);
    const char *novalue[] = {"--port"};
    cr_assert_eq(args(1, novalue), C_ERR);
    cr_assert(strstr(err, "wrong number of arguments"), "%s", err);
    cr_assert_eq(args(0, NULL), C_OK, "no arguments: nothing to do");
}
