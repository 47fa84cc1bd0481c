/* server.h -- the one server struct: the configuration (config.c fills
 * it), the runtime state of the process (server.c), the counters INFO
 * shows; and the constants its fields take.
 *
 * One event loop owns all of this state (STYLE habit 3): nothing here is
 * touched from another thread. Every module may read it; each module's own
 * API is in its own header (client.h, request.h, db.h, ...), never here.
 *
 * API (server.c): serverShutdown(), serverStop(why, now); serverNowMs() below. */
#ifndef RINGKV_SERVER_H
#define RINGKV_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "util.h"

struct event_base;
struct event;
struct evconnlistener;
struct client;

#define RINGKV_VERSION "0.1.0"
#define REDIS_COMPAT_VERSION "7.0.15" /* what HELLO and INFO claim to speak */

/* Consistency levels: a positive count of replicas, or one of these. */
#define LEVEL_QUORUM -1 /* a majority of the key's replicas */
#define LEVEL_ALL -2    /* every replica */
#define LEVEL_LOCAL_ONE -3    /* one replica in the coordinator's data center */
#define LEVEL_LOCAL_QUORUM -4 /* a majority of the replicas in the coordinator's data center */
#define LEVEL_EACH_QUORUM -5  /* a majority in every data center */

#define QUORUM_STRICT 0
#define QUORUM_SLOPPY 1
#define READ_FANOUT_NEEDED 0 /* a read asks as many replicas as its level needs */
#define READ_FANOUT_ALL 1    /* a read asks every replica (more read repair) */

#define WAL_FSYNC_NO 0
#define WAL_FSYNC_EVERYSEC 1
#define WAL_FSYNC_ALWAYS 2

typedef struct serverStats {
    long long numcommands;
    long long numconnections;
    long long rejected_conn;
    long long net_input_bytes;
    long long net_output_bytes;
    long long expiredkeys;
    long long keyspace_hits;
    long long keyspace_misses;
    long long total_error_replies;
    long long unexpected_error_replies;
    long long client_qbuf_limit_disconnections;
    long long client_obuf_limit_disconnections;
    long long siblings_dropped;
    long long stat_reset_time;
} serverStats;

struct server {
    /* ---- configuration (see config.c for names, defaults and meaning) ---- */
    char *configfile;            /* absolute path, or NULL */
    int port;
    char *bind;
    char *dir;
    char *logfile;
    int verbosity;
    char *pidfile;
    char *requirepass;
    int protected_mode;          /* no password: only loopback clients */
    long long slowlog_slower_than; /* microseconds, -1 = off */
    long long slowlog_max_len;
    int http_port;               /* /metrics and the status page, 0 = off */
    int tls_port;                /* 0 = no TLS listener for clients */
    char *tls_cert_file;
    char *tls_key_file;
    char *tls_ca_cert_file;
    int tls_auth_clients;        /* 0 no, 1 yes, 2 optional */
    int tls_cluster;             /* the cluster bus speaks TLS */
    struct evconnlistener *tls_listener;
    long long maxclients;
    long long maxidletime;       /* `timeout`, seconds, 0 = never */
    long long tcpkeepalive;
    long long proto_max_bulk_len;
    long long client_max_querybuf_len;
    long long obuf_hard;         /* client-output-buffer-limit normal: hard bytes */
    long long obuf_soft;         /* soft bytes */
    long long obuf_soft_secs;    /* soft seconds */
    int wal_fsync;
    long long cache_size;
    long long memtable_size;
    int rocksdb_log_level;       /* RocksDB's own LOG: its InfoLogLevel, 6 = off */
    long long blob_threshold;
    long long tombstone_grace;   /* seconds */
    int databases;
    int hz;
    int ring_partitions;         /* Q */
    int qbits;                   /* log2(Q) */
    long long vclock_max_entries;
    long long max_siblings;
    long long max_expire_per_cycle;
    int daemonize;
    /* cluster */
    char *node_id_cfg;           /* node-id: "" = generated once, kept in meta */
    char *cluster_name;          /* nodes of another cluster are refused */
    char *cluster_secret;        /* bus peers prove they know it (HMAC challenge-response) */
    int bus_port;                /* cluster-bus-port, 0 = port + 10000 */
    char *announce_ip;           /* cluster-announce-ip, "" = bind */
    char announce_host[64];      /* the address peers and clients use for us */
    char *seeds;                 /* host:port,... (client ports) */
    char *dc;                    /* data center of this node */
    char *rack;                  /* rack of this node */
    int weight;                  /* tokens / share of the partitions */
    char *replication;           /* "3" or "dc1:3,dc2:2" */
    long long read_quorum;       /* R */
    long long write_quorum;      /* W */
    int quorum_mode;             /* QUORUM_STRICT / QUORUM_SLOPPY */
    int read_fanout;             /* READ_FANOUT_* */
    long long read_retry_ms;     /* a read asks held-back replicas after this (0: only on failure) */
    long long replica_timeout;   /* ms */
    long long gossip_interval;   /* ms */
    long long fail_timeout;      /* ms */
    long long hint_max_age;      /* seconds */
    long long hint_max_bytes;    /* per owner */
    long long hint_delivery_rate;/* hints per second */
    long long aae_interval;      /* anti-entropy-interval, seconds, 0 = on demand */
    long long aae_rate;          /* anti-entropy-rate: keys repaired per second */
    long long handoff_rate;      /* bytes per second a partition transfer may move */

    /* ---- runtime ---- */
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *cron_ev;
    struct event *sigterm_ev, *sigint_ev;
    struct client *clients;      /* list head (client.c) */
    long long nclients;
    uint64_t next_client_id;
    uint64_t actor;              /* this data directory's incarnation: clock actor */
    char node_id[41];            /* stable node id (40 hex chars) */
    long long start_time;        /* unix ms */
    long long unixtime;          /* unix s, updated by the cron (clients' idle times) */
    long long cronloops;
    int shutdown_asap;
    int draining;                /* SIGTERM: finishing what is under way before stopping */
    char executable[1024];
    serverStats stat;
    long long debug_clock_offset_ms; /* test-only skew of this node's wall clock */
    char *debug_untrusted_prefix;    /* test-only: client addresses protected mode treats as remote */
};

extern struct server server;

/* Wall clock as this node sees it (includes the test-only offset). */
static inline long long serverNowMs(void) { return mstime() + server.debug_clock_offset_ms; }

/* Stops accepting, writes what is pending and closes the store. */
void serverShutdown(int from_signal);
/* Stops the server: at once (now), or after draining (see server.c).
 * why starts the log line ("Received SIGTERM", "User requested shutdown"). */
void serverStop(const char *why, int now);

#endif
