/* server.h -- the one server struct, the client and request types, and the
 * prototypes shared by the command modules.
 *
 * One event loop owns all of this state (STYLE habit 3): the client
 * connections, the requests in flight, the storage batch, timers. Nothing
 * here is touched from another thread.
 *
 * A request is one command from one client. It lives from the moment its
 * bytes are parsed until its reply has been handed to the connection, and it
 * may complete out of order (a write waits for the storage commit, a cluster
 * read for its replicas): the client keeps its requests in a queue and only
 * ever writes out the completed prefix, so replies leave in request order. */
#ifndef RINGKV_SERVER_H
#define RINGKV_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "record.h"
#include "resp.h"
#include "util.h"
#include "vclock.h"

struct event_base;
struct event;
struct evbuffer;
struct bufferevent;
struct evconnlistener;
struct command;

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

/* client flags */
#define CLIENT_CLOSE_AFTER_REPLY (1 << 0) /* QUIT, protocol error: close once flushed */
#define CLIENT_CLOSE_ASAP (1 << 1)        /* output limits: close at the next chance */
#define CLIENT_READ_PAUSED (1 << 2)       /* reading stopped for backpressure */
#define CLIENT_IN_CALLBACK (1 << 3)       /* inside its own read callback: free later */
#define CLIENT_RESUME_PENDING (1 << 4)    /* on the list of clients whose waiting request can start */

typedef struct request request;
typedef struct client client;

typedef void commandProc(request *r);

struct request {
    client *c;              /* owner; NULL once the client is gone (reply dropped) */
    request *next;          /* next request of the same client, in arrival order */
    struct evbuffer *out;   /* the reply, built here, flushed when at the head */
    int pending;            /* async operations in flight (+1 while the handler runs) */
    int argc;               /* arguments */
    char **argv;            /* argument pointers into argbuf, owned table */
    size_t *argvlen;        /* argument lengths, owned table */
    int argvcap;            /* table capacity */
    buf argbuf;             /* argument bytes (copied from the query buffer) */
    const struct command *cmd; /* the command being run */
    int db;                 /* selected db when the request arrived */
    int proto;              /* 2 or 3, when the request arrived */
    long long start_us;     /* arrival time (latency stats) */
    void *state;            /* handler continuation state (owned, freed with the request) */
    void (*state_free)(void *); /* how to free state, or NULL for zfree */
    int failed;             /* the reply is an error (error stats) */
    void *locks;            /* keylock.c's claim on the keys, NULL if none */
    request *parent;        /* EXEC running this queued command, or NULL */
    int read_level;         /* consistency for this request (0 = read-quorum) */
    int write_level;        /* (0 = write-quorum) */
    int forwarded;          /* run here for another node: never forward again */
    void *busreq;           /* the bus request (CMD) this request answers, or NULL */
};

struct client {
    uint64_t id;                /* CLIENT ID */
    struct bufferevent *bev;    /* the connection */
    int fd;                     /* socket */
    char addr[64];              /* peer ip:port */
    char laddr[64];             /* local ip:port */
    char *name;                 /* CLIENT SETNAME, owned, or NULL */
    char *lib_name;             /* CLIENT SETINFO lib-name, owned, or NULL */
    char *lib_ver;              /* CLIENT SETINFO lib-ver, owned, or NULL */
    buf qb;                     /* bytes read and not yet parsed into requests */
    respParser parser;          /* state of the request being parsed */
    request *head, *tail;       /* requests in arrival order, head = oldest */
    request *waiting;           /* parsed, waiting for key locks or earlier requests to start;
                                   no more input is parsed meanwhile */
    int nreqs;                  /* requests in the queue */
    int db;                     /* SELECTed db */
    int proto;                  /* HELLO protover: 2 or 3 */
    int authenticated;          /* passed AUTH, or no password is set */
    int flags;                  /* CLIENT_* */
    long long ctime;            /* connected at (unix s) */
    long long last_interaction; /* last read or write (unix s), for `timeout` */
    long long obuf_soft_since;  /* when the soft output limit was first passed (ms), 0 = not */
    const char *lastcmd;        /* name of the last command run */
    unsigned long long tot_cmds;/* commands run */
    void *mstate;               /* MULTI: the queued commands (multi.c), NULL if not in MULTI */
    int read_level;             /* CONSISTENCY READ: 0 = read-quorum, else LEVEL_* or a count */
    int write_level;            /* CONSISTENCY WRITE: 0 = write-quorum, else LEVEL_* or a count */
    client *prev, *next;        /* list of all clients */
};

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
    client *clients;             /* list head */
    long long nclients;
    uint64_t next_client_id;
    request *free_requests;      /* pool of finished requests, reused */
    int free_requests_len;
    uint64_t actor;              /* this data directory's incarnation: clock actor */
    char node_id[41];            /* stable node id (40 hex chars) */
    long long start_time;        /* unix ms */
    long long unixtime;          /* unix s, updated by the cron (clients' idle times) */
    long long cronloops;
    int shutdown_asap;
    char executable[1024];
    serverStats stat;
    long long debug_clock_offset_ms; /* test-only skew of this node's wall clock */
    char *debug_untrusted_prefix;    /* test-only: client addresses protected mode treats as remote */
};

extern struct server server;

/* Wall clock as this node sees it (includes the test-only offset). */
static inline long long serverNowMs(void) { return mstime() + server.debug_clock_offset_ms; }

/* ---- client.c ---- */
void clientAccept(int fd, const char *addr, int tls);
void clientFree(client *c);
/* Closes c soon (outside any of its callbacks); safe from anywhere. */
void clientScheduleClose(client *c);
void clientsCron(void);
request *requestCreate(client *c);
/* Copies argc arguments into r (borrowed for the call). */
void requestSetArgs(request *r, int argc, char **argv, const size_t *lens);
/* Called by async completions: drops one pending count, completes at zero. */
void requestRelease(request *r);
/* Takes r's key locks (keylock.c); 1 if granted now, else r waits and is
 * run when they are. */
int requestLockKeys(request *r);
/* Runs r's command: here, or at the key's version coordinator (forward.c). */
void requestRun(request *r);
/* Runs r (whose locks are held) from an event, outside the current stack. */
void requestRunLater(request *r);
/* Reply helpers: all write into r->out. */
void addReplyError(request *r, const char *err);
void addReplyErrorFormat(request *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void addReplyErrorArity(request *r);
void addReplyStatus(request *r, const char *s);
void addReplyOK(request *r);
void addReplyInteger(request *r, long long v);
void addReplyBulk(request *r, const char *p, size_t len);
void addReplyBulkCString(request *r, const char *s);
void addReplyNull(request *r);
void addReplyNullArray(request *r);
void addReplyArrayLen(request *r, long long n);
void addReplyMapLen(request *r, long long n);
void addReplySetLen(request *r, long long n);
void addReplyDouble(request *r, double d);
void addReplyVerbatim(request *r, const char *p, size_t len);
void addReplyHelp(request *r, const char *const *lines); /* NULL-terminated, as HELP replies */
void *requestState(request *r, size_t size); /* zeroed, freed with the request */
void clientSetName(client *c, const char *name, size_t len);
void clientInfoString(client *c, buf *out);
void clientKillAll(void);

/* ---- shared replies ---- */
#define ERR_SYNTAX "syntax error"
#define ERR_NOT_INT "value is not an integer or out of range"
#define ERR_NOT_FLOAT "value is not a valid float"
#define ERR_WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value"
#define ERR_NOAUTH "-NOAUTH Authentication required."
#define ERR_DB_INDEX "DB index is out of range"
#define ERR_OVERFLOW "increment or decrement would overflow"
#define ERR_NOKEY "no such key"

/* ---- helpers for argument parsing (client.c) ---- */
int getLongLongFromArg(request *r, int i, long long *v, const char *err);
int getLongDoubleFromArg(request *r, int i, long double *v, const char *err);
int argIs(request *r, int i, const char *s); /* case-insensitive */

/* ---- multi.c ---- */
int multiPassThrough(const request *r);
void multiQueue(client *c, request *r);
void multiFlagDirty(client *c);
void multiChildDone(request *parent, request *child);
void multiChildGranted(request *child);
void multiFree(client *c);
void multiDetach(request *r); /* EXEC request r lost its client */

/* ---- server.c ---- */
void serverShutdown(int from_signal);

/* ---- info.c ---- */
void infoCommand(request *r);
void infoResetStats(void);
void infoRecordCommand(const struct command *cmd, long long us, int failed);

#endif
