/* server.c -- main: configuration, the data directory and node identity,
 * the event loop, the cron, signals and a clean shutdown.
 *
 * Startup order: config -> log -> data dir -> RocksDB -> identity (node id,
 * clock actor, HLC high-water mark) -> key counters -> listener -> loop.
 * Shutdown (SIGTERM, SIGINT, SHUTDOWN): stop accepting, write the pending
 * batch, sync the WAL, flush memtables, close RocksDB, remove the pid file. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aae.h"
#include "bus.h"
#include "client.h"
#include "clock.h"
#include "commands.h"
#include "config.h"
#include "coord.h"
#include "db.h"
#include "gossip.h"
#include "request.h"
#include "write.h"
#include "handoff.h"
#include "hints.h"
#include "http.h"
#include "info.h"
#include "outflush.h"
#include "store.h"
#include "tls.h"

struct server server;

/* ---------------------------------------------------------------- identity */

static int metaGet(const char *k, buf *out) {
    storeValue v;
    int found = storeGet(CF_META, k, strlen(k), &v);
    if (found > 0) {
        bufClear(out);
        bufAppend(out, v.ptr, v.len);
        storeValueFree(&v);
    }
    return found;
}

static void metaPut(const char *k, const void *v, size_t len) {
    storePut(CF_META, k, strlen(k), v, len);
}

/* The node id is kept for the life of the data directory; the clock actor
 * too (a wiped directory is a new actor: Riak kv679). The HLC restarts
 * above its persisted mark (clock.c), so it never goes backwards across
 * restarts. */
static int loadIdentity(void) {
    buf b;
    bufInit(&b);
    int have = metaGet("node_id", &b) > 0 && b.len >= 1 && b.len <= 40;
    if (server.node_id_cfg[0]) {
        if (have && (b.len != strlen(server.node_id_cfg) ||
                     memcmp(b.ptr, server.node_id_cfg, b.len) != 0))
            serverLog(LL_WARNING, "node-id %s replaces the id %.*s kept in %s", server.node_id_cfg,
                      (int)b.len, b.ptr, server.dir);
        snprintf(server.node_id, sizeof(server.node_id), "%s", server.node_id_cfg);
        metaPut("node_id", server.node_id, strlen(server.node_id));
    } else if (have) {
        memcpy(server.node_id, b.ptr, b.len);
        server.node_id[b.len] = '\0';
    } else {
        getRandomHex(server.node_id, 40);
        server.node_id[40] = '\0';
        metaPut("node_id", server.node_id, 40);
    }
    if (metaGet("actor", &b) > 0 && b.len == 8) {
        uint64_t a = 0;
        for (int i = 7; i >= 0; i--) a = (a << 8) | (unsigned char)b.ptr[i];
        server.actor = a;
    } else {
        do getRandomBytes((unsigned char *)&server.actor, 8);
        while (server.actor == 0);
        unsigned char a[8];
        for (int i = 0; i < 8; i++) a[i] = (unsigned char)(server.actor >> (8 * i));
        metaPut("actor", a, 8);
    }
    /* The partition count shapes every storage key: data written with one
     * value is unreachable with another. */
    char qb[16];
    snprintf(qb, sizeof(qb), "%d", server.ring_partitions);
    if (metaGet("ring_partitions", &b) > 0) {
        if (b.len != strlen(qb) || memcmp(b.ptr, qb, b.len) != 0) {
            serverLog(LL_WARNING,
                      "The data in %s was written with ring-partitions %.*s; this node is "
                      "configured with %d. Start it with ring-partitions %.*s (it cannot change "
                      "for a data directory).",
                      server.dir, (int)b.len, b.ptr, server.ring_partitions, (int)b.len, b.ptr);
            bufFree(&b);
            return C_ERR;
        }
    } else {
        metaPut("ring_partitions", qb, strlen(qb));
    }
    clockLoad();
    bufFree(&b);
    int saved = server.wal_fsync;
    server.wal_fsync = WAL_FSYNC_ALWAYS; /* identity must be durable at once */
    int rc = storeCommit();
    server.wal_fsync = saved;
    return rc;
}

/* -------------------------------------------------------------------- cron */

static int cron_hz; /* the hz the cron timer was armed with */
static void scheduleCron(void);

static void cron(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    server.cronloops++;
    server.unixtime = mstime() / 1000; /* clients' idle times: 1/hz is precise enough */
    int persec = server.hz;
    infoTrackOps();
    /* active expiry: at most a quarter of the cron period */
    dbActiveExpireCycle(250000 / server.hz);
    dbRecountCycle(10000 / server.hz); /* 1% of a core: DBSIZE's figures catch up */
    if (server.cronloops % persec == 0) {
        clientsCron();
        storeCron(); /* wal-fsync changes, WAL sync failures, a full disk's resume */
    }
    /* CONFIG SET hz: re-arm at the new rate, or the "once per second" work
     * above (idle timeout, everysec WAL sync) would run hz/old-hz times
     * too rarely */
    if (server.hz != cron_hz) scheduleCron();
}

static void scheduleCron(void) {
    cron_hz = server.hz;
    struct timeval tv = {0, 1000000 / server.hz};
    if (!server.cron_ev) server.cron_ev = event_new(server.base, -1, EV_PERSIST, cron, NULL);
    event_add(server.cron_ev, &tv);
}

/* ---------------------------------------------------------------- network */

static void acceptCallback(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                           int salen, void *arg) {
    UNUSED(l);
    UNUSED(salen);
    int tls = arg != NULL;
    char addr[64] = "?";
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)sa;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(addr, sizeof(addr), "%s:%d", ip, ntohs(sin->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
        snprintf(addr, sizeof(addr), "%s:%d", ip, ntohs(sin6->sin6_port));
    }
    clientAccept(fd, addr, tls);
}

static void acceptError(struct evconnlistener *l, void *arg) {
    UNUSED(l);
    UNUSED(arg);
    serverLog(LL_WARNING, "Accepting client connection: %s", strerror(errno));
}

/* The client ports are bound at start (so a port in use stops the server at
 * once) but listen only once the node knows the cluster's ring: a client
 * that connects earlier is refused, as by a server still starting, instead
 * of getting NOQUORUM from a node that cannot route yet (Cassandra opens
 * its native port after joining the ring for the same reason). */
static int bindOnly(const char *host, int port) {
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        serverLog(LL_WARNING, "Invalid bind address '%s' (an IPv4 address is expected)", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        serverLog(LL_WARNING, "Could not create server TCP listening socket %s:%d: %s", host, port,
                  strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    evutil_make_socket_nonblocking(fd);
    return fd;
}

static struct evconnlistener *listenOn(int fd, int tls) {
    struct evconnlistener *l =
        evconnlistener_new(server.base, acceptCallback, tls ? (void *)1 : NULL,
                           LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 511, fd);
    if (!l) {
        serverLog(LL_WARNING, "Could not listen for clients on port %d: %s",
                  tls ? server.tls_port : server.port, strerror(errno));
        return NULL;
    }
    evconnlistener_set_error_cb(l, acceptError);
    return l;
}

static int client_fd = -1, tls_fd = -1; /* bound, not listening yet */
static struct event *ready_ev;
static long long ready_wait_since;

/* Opens the client ports once the ring is known (gossipReady), or after
 * fail-timeout without it (the seeds are unreachable: serve what we can,
 * and say so). Called by a timer until it has. */
static void openClientPorts(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    int ready = gossipReady();
    if (!ready && mstime() - ready_wait_since < server.fail_timeout) return;
    event_free(ready_ev);
    ready_ev = NULL;
    if (!ready)
        serverLog(LL_WARNING, "No seed or peer answered within fail-timeout (%lld ms): serving "
                              "clients with the ring this node has; requests may fail until a "
                              "peer answers",
                  server.fail_timeout);
    server.listener = listenOn(client_fd, 0);
    client_fd = -1;
    if (tls_fd >= 0) {
        server.tls_listener = listenOn(tls_fd, 1);
        tls_fd = -1;
    }
    if (!server.listener || (server.tls_port && !server.tls_listener)) {
        serverShutdown(0);
        exit(1);
    }
    serverLog(LL_NOTICE, "Ready to accept connections on %s:%d (cluster bus %d)", server.bind,
              server.port, server.bus_port);
}

/* ---------------------------------------------------------------- signals */

/* SIGTERM drains first, as Cassandra's drain does: no new clients, peers
 * told to route around this node at once (BYE, instead of noticing after
 * fail-timeout), writes they send meanwhile refused unapplied (NOTCOORD:
 * they go to the next replica), and what is under way here (client
 * requests, writes coordinated for peers) finishes, for at most twice
 * replica-timeout. So a rolling restart costs clients no failed and no
 * "may have been applied" writes, but those of the clients connected to
 * this node. A second SIGTERM, or SIGINT, stops at once. */
static struct event *drain_ev;
static long long drain_until;

static void stopNow(void) {
    server.shutdown_asap = 1;
    event_base_loopbreak(server.base);
}

static void drainCheck(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    long reqs = requestsLive(), peers = writeForPeersInFlight();
    if (reqs > 0 || peers > 0) {
        if (mstime() < drain_until) return;
        serverLog(LL_WARNING, "Drain time is up with %ld requests and %ld peer writes under way",
                  reqs, peers);
    }
    stopNow();
}

void serverStop(const char *why, int now) {
    if (now || server.draining) {
        serverLog(LL_WARNING, "%s, scheduling shutdown...", why);
        stopNow();
        return;
    }
    serverLog(LL_WARNING, "%s: draining (no new clients, peers told to route around this node, "
                          "finishing what is under way), then shutting down...",
              why);
    server.draining = 1;
    if (server.listener) evconnlistener_disable(server.listener);
    if (server.tls_listener) evconnlistener_disable(server.tls_listener);
    gossipGoodbye();
    drain_until = mstime() + 2 * server.replica_timeout;
    drain_ev = event_new(server.base, -1, EV_PERSIST, drainCheck, NULL);
    struct timeval tv = {0, 10000};
    event_add(drain_ev, &tv);
}

static void signalCallback(evutil_socket_t sig, short what, void *arg) {
    UNUSED(what);
    UNUSED(arg);
    serverStop(sig == SIGINT ? "Received SIGINT" : "Received SIGTERM", sig == SIGINT);
}

void serverShutdown(int from_signal) {
    UNUSED(from_signal);
    serverLog(LL_WARNING, "Shutting down: writing pending data and closing the store");
    if (server.listener) evconnlistener_free(server.listener);
    server.listener = NULL;
    if (server.tls_listener) evconnlistener_free(server.tls_listener);
    server.tls_listener = NULL;
    busShutdown();
    httpShutdown();
    storeCommit();
    dbTreesSave();
    storeClose();
    if (server.pidfile && server.pidfile[0]) unlink(server.pidfile);
    serverLog(LL_WARNING, "ringkv is now ready to exit, bye bye...");
}

/* ------------------------------------------------------------------- main */

static int mkdirs(const char *path) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

static void usage(void) {
    fprintf(stderr,
            "Usage: ./ringkv-server [/path/to/ringkv.conf] [options]\n"
            "       ./ringkv-server -v or --version\n"
            "       ./ringkv-server -h or --help\n\n"
            "Examples:\n"
            "       ./ringkv-server (defaults: port 6379, data in ./data)\n"
            "       ./ringkv-server conf/ringkv.conf\n"
            "       ./ringkv-server --port 7001 --dir /var/lib/ringkv\n");
    exit(1);
}

static void writePidfile(void) {
    if (!server.pidfile || !server.pidfile[0]) return;
    FILE *fp = fopen(server.pidfile, "w");
    if (fp) {
        fprintf(fp, "%d\n", (int)getpid());
        fclose(fp);
    }
}

int main(int argc, char **argv) {
    memset(&server, 0, sizeof(server));
    configInitDefaults();
    if (argc >= 2) {
        if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version")) {
            printf("ringkv server v=%s (speaks Redis %s)\n", RINGKV_VERSION, REDIS_COMPAT_VERSION);
            return 0;
        }
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) usage();
    }
    char err[512];
    int first = 1;
    if (argc >= 2 && strncmp(argv[1], "--", 2) != 0) {
        char abs[PATH_MAX];
        server.configfile = zstrdup(realpath(argv[1], abs) ? abs : argv[1]);
        if (configLoadFile(argv[1], err, sizeof(err)) != C_OK) {
            fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR ***\n%s\n", err);
            return 1;
        }
        first = 2;
    }
    if (configLoadArgs(argc - first, argv + first, err, sizeof(err)) != C_OK) {
        fprintf(stderr, "\n*** FATAL CONFIG ERROR (command line) ***\n%s\n", err);
        return 1;
    }
    logSetup(server.logfile, server.verbosity);
    if (!server.bus_port) server.bus_port = server.port + 10000;
    if (server.bus_port > 65535) {
        fprintf(stderr, "cluster-bus-port: port + 10000 is above 65535, set cluster-bus-port\n");
        return 1;
    }
    snprintf(server.announce_host, sizeof(server.announce_host), "%s",
             server.announce_ip[0] ? server.announce_ip : server.bind);
    if (!strcmp(server.announce_host, "0.0.0.0")) {
        fprintf(stderr, "bind 0.0.0.0 needs cluster-announce-ip: the address other nodes and "
                        "clients should use to reach this node\n");
        return 1;
    }
    if (realpath("/proc/self/exe", server.executable) == NULL) server.executable[0] = '\0';
    server.start_time = mstime();
    server.unixtime = server.start_time / 1000;
    server.stat.stat_reset_time = server.start_time;

    if (server.daemonize) {
        if (daemon(1, server.logfile && server.logfile[0] ? 0 : 1) != 0) {
            perror("daemon");
            return 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)server.maxclients + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)server.maxclients + 64 ? rl.rlim_max
                                                                    : (rlim_t)server.maxclients + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    serverLog(LL_NOTICE, "ringkv %s starting (pid %d), speaking Redis %s", RINGKV_VERSION,
              (int)getpid(), REDIS_COMPAT_VERSION);
    if (mkdirs(server.dir) != 0) {
        serverLog(LL_WARNING, "Can't create data directory '%s': %s", server.dir, strerror(errno));
        return 1;
    }
    char dbpath[PATH_MAX];
    snprintf(dbpath, sizeof(dbpath), "%s/rocksdb", server.dir);

    server.base = event_base_new();
    if (!server.base) {
        serverLog(LL_WARNING, "Can't create the event loop");
        return 1;
    }
    char *serr = NULL;
    if (storeOpen(dbpath, &serr) != C_OK) {
        serverLog(LL_WARNING, "Can't open the store in %s: %s", dbpath, serr ? serr : "?");
        return 1;
    }
    if (loadIdentity() != C_OK) {
        serverLog(LL_WARNING, "Can't start with this data directory: %s",
                  storeLastError()[0] ? storeLastError() : "see above");
        storeClose();
        return 1;
    }
    dbInit();
    if (dbCheckFormat() != C_OK) {
        storeClose();
        return 1;
    }
    commandsInit();
    if (tlsInit() != C_OK) {
        storeClose();
        return 1;
    }
    client_fd = bindOnly(server.bind, server.port);
    if (server.tls_port) tls_fd = bindOnly(server.bind, server.tls_port);
    if (client_fd < 0 || (server.tls_port && tls_fd < 0) || busInit() != C_OK) {
        storeClose();
        return 1;
    }
    if (httpInit() != C_OK) {
        storeClose();
        return 1;
    }
    coordInit();
    hintsInit();
    aaeInit();
    handoffInit();
    if (gossipInit() != C_OK) {
        storeClose();
        return 1;
    }
    writePidfile();
    server.sigterm_ev = evsignal_new(server.base, SIGTERM, signalCallback, NULL);
    server.sigint_ev = evsignal_new(server.base, SIGINT, signalCallback, NULL);
    event_add(server.sigterm_ev, NULL);
    event_add(server.sigint_ev, NULL);
    scheduleCron();
    serverLog(LL_NOTICE, "Node %.40s, data in %s, wal-fsync %s", server.node_id, server.dir,
              server.wal_fsync == WAL_FSYNC_ALWAYS ? "always"
              : server.wal_fsync == WAL_FSYNC_EVERYSEC ? "everysec" : "no");
    ready_wait_since = mstime();
    if (!gossipReady())
        serverLog(LL_NOTICE, "Learning the ring from the seeds before accepting clients on %s:%d",
                  server.bind, server.port);
    ready_ev = event_new(server.base, -1, EV_PERSIST, openClientPorts, NULL);
    struct timeval rtv = {0, 20000};
    event_add(ready_ev, &rtv);
    openClientPorts(-1, 0, NULL);

    /* One pass runs every ready event; the replies they produced are then
     * written together before the loop waits again (outflush.c). */
    while (!server.shutdown_asap) {
        int rc = event_base_loop(server.base, EVLOOP_ONCE);
        outflushRun();
        if (rc != 0) break; /* no events left, or an error */
    }
    serverShutdown(0);
    return 0;
}
