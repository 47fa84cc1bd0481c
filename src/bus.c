/* bus.c -- cluster bus connections, request/reply matching, timeouts.
 * See bus.h for the contract.
 *
 * Invariants:
 *   - a pending request is in exactly two places: the global id table and
 *     its link's FIFO (oldest first, so the head has the earliest deadline);
 *     it leaves both before its callback runs, so the callback runs once;
 *   - a link is DOWN (waiting to reconnect), CONNECTING, or UP; requests
 *     are refused at once while DOWN, queued while CONNECTING (their
 *     deadlines still run), written while UP;
 *   - an inbound connection answers nothing but HELLO until HELLO succeeded
 *     (and, with a bus secret in force, AUTH);
 *   - what a peer must show at its handshake follows the configuration in
 *     force then (busauth.h): cluster-secret, else a key derived from
 *     requirepass, else nothing but a loopback address while protected-mode
 *     is on (or a verified TLS certificate);
 *   - a connection or link that came up with no secret in force is closed as
 *     soon as one comes into force (CONFIG SET requirepass): nothing proved
 *     that its peer knows it. One that proved a secret is kept when the
 *     password changes, as clients stay logged in (see secretRefresh).
 *
 * The handshake, one inbound connection (the sender's link does the mirror):
 *   accepted --first message, protected-mode refuses--> error, closed
 *   accepted --HELLO of another cluster, or whose secret kind cannot match
 *            ours--> "HELLO refused by ...: why", closed (helloRefuse)
 *   accepted --HELLO, no secret in force--> open (hello 2, not proven)
 *   accepted --HELLO with a nonce, secret--> AUTH expected (hello 1): we sent
 *            our nonce and our proof over the peer's nonce (helloHandler)
 *   hello 1 --AUTH with the peer's proof over ours--> open (hello 2, proven)
 *   hello 1 --the peer closes (its check of our proof failed)--> logged
 *   anything else before open --> error, closed (dispatch, authHandler)
 */
#include "bus.h"
#include "outflush.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "busauth.h"
#include "busreader.h"
#include "server.h"
#include "tls.h"

#define LINK_DOWN 0
#define LINK_CONNECTING 1 /* TCP (and TLS) connecting */
#define LINK_HANDSHAKE 2  /* HELLO (and AUTH) sent, waiting for the peer */
#define LINK_UP 3

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define TIMEOUT_TICK_MS 10

typedef struct pending {
    uint64_t id;            /* request id (unique per node) */
    busReplyCb *cb;         /* called once */
    void *pd;               /* its argument */
    long long deadline;     /* ms (monotonic) */
    busLink *link;          /* the link it was sent on */
    struct pending *next;   /* link FIFO */
    struct pending *prev;
    struct pending *hnext;  /* id table chain */
    char *msg;              /* formatted request not written yet (link not up), or NULL */
    size_t msglen;
} pending;

struct busLink {
    char host[64];             /* peer address */
    int port;                  /* peer bus port */
    char addr[80];             /* "host:port" */
    int state;                 /* LINK_* */
    struct bufferevent *bev;   /* the connection, or NULL */
    redisReader *reader;       /* parses the peer's replies */
    long long backoff;         /* ms before the next connect attempt */
    long long connect_deadline;/* give up connecting at (ms) */
    struct event *retry_ev;    /* reconnect timer */
    pending *head, *tail;      /* requests waiting for answers, oldest first */
    int refused;               /* the peer refused our HELLO (other cluster, wrong secret) */
    int proven;                /* up after the peer proved the bus secret (0: none was in force) */
    char nonce[33];            /* our HELLO challenge (hex) */
    busLink *next;             /* all links */
};

typedef struct busConn {
    struct bufferevent *bev;
    redisReader *reader;
    int hello;                 /* 0: HELLO expected, 1: AUTH expected, 2: authenticated */
    int proven;                /* authenticated by proving the bus secret (0: none was in force) */
    int remote;                /* not loopback (or debug-untrusted-prefix): for protected-mode */
    int peerkind;              /* the secret its HELLO says it has (BUSAUTH_*) */
    char cnonce[33];           /* the peer's challenge, from its HELLO */
    char snonce[33];           /* ours, sent in the HELLO answer */
    char peer_id[41];
    char addr[64];
    /* The sender's monotonic clock, in ours: the smallest "arrival - sent"
     * seen in this window and the last (a windowed minimum, so that clock
     * drift between machines cannot build up over a long connection). */
    long long off[2];
    long long off_since;       /* when off[0]'s window started (ms) */
    int has_off;
    busReq *reqs;              /* requests not answered yet */
    int closing;               /* close once the output is written */
    struct busConn *next, *prev;
} busConn;

typedef struct handlerEntry {
    const char *name;
    busHandler *h;
} handlerEntry;

static struct {
    struct evconnlistener *listener;
    busLink *links;
    busConn *conns;
    struct event *tick_ev;
    uint64_t next_id;
    pending **table;
    size_t tablesize;   /* power of two */
    size_t npending;
    handlerEntry handlers[32];
    int nhandlers;
    /* stats */
    long long sent, received, timeouts, link_failures, refused, late;
    long long inbound_refused; /* inbound connections turned away (handshake or protected-mode) */
} bus;

/* The secret in force for handshakes (busauth.h). secretRefresh() follows
 * the configuration: cluster-secret is fixed at startup, requirepass may
 * change with CONFIG SET at any time (checked every tick). */
static struct {
    int kind;                               /* BUSAUTH_* */
    const unsigned char *key;               /* the HMAC key: server.cluster_secret or derived */
    size_t keylen;
    unsigned char derived[BUSAUTH_KEY_LEN]; /* derived from pass */
    char *pass;                             /* copy of the requirepass derived from, or NULL */
} sec;

static long long nowMs(void) { return (long long)(monotonic_us() / 1000); }

static redisReader *newReader(void) {
    redisReader *r = busReaderCreate(); /* busreader.h: our reply objects, capped arrays */
    if (!r) abort();
    return r;
}

static void helloHandler(busReq *req);
static void helloRefuse(busReq *req, const char *why, const char *peerwhy);
static void protectedRefuse(busReq *req);
static void authHandler(busReq *req);
static void secretRefresh(void);
static void sendHello(busLink *l);
static void sendEx(busLink *l, int argc, const char **argv, const size_t *lens, busReplyCb *cb,
                   void *pd, long long timeout_ms, int handshake);

/* ------------------------------------------------------------ id table */

static void tableInsert(pending *p) {
    if (bus.npending * 2 >= bus.tablesize) {
        size_t ns = bus.tablesize ? bus.tablesize * 2 : 1024;
        pending **nt = zcalloc(sizeof(pending *) * ns);
        for (size_t i = 0; i < bus.tablesize; i++) {
            pending *e = bus.table[i];
            while (e) {
                pending *n = e->hnext;
                size_t b = e->id & (ns - 1);
                e->hnext = nt[b];
                nt[b] = e;
                e = n;
            }
        }
        zfree(bus.table);
        bus.table = nt;
        bus.tablesize = ns;
    }
    size_t b = p->id & (bus.tablesize - 1);
    p->hnext = bus.table[b];
    bus.table[b] = p;
    bus.npending++;
}

static pending *tableFind(uint64_t id) {
    if (!bus.tablesize) return NULL;
    for (pending *p = bus.table[id & (bus.tablesize - 1)]; p; p = p->hnext)
        if (p->id == id) return p;
    return NULL;
}

static pending *tableRemove(uint64_t id) {
    if (!bus.tablesize) return NULL;
    pending **pp = &bus.table[id & (bus.tablesize - 1)];
    while (*pp) {
        if ((*pp)->id == id) {
            pending *p = *pp;
            *pp = p->hnext;
            bus.npending--;
            return p;
        }
        pp = &(*pp)->hnext;
    }
    return NULL;
}

static void listUnlink(busLink *l, pending *p) {
    if (p->prev) p->prev->next = p->next;
    else l->head = p->next;
    if (p->next) p->next->prev = p->prev;
    else l->tail = p->prev;
    p->next = p->prev = NULL;
}

/* Takes p out of both structures and runs its callback. */
static void finish(pending *p, const busResult *res) {
    tableRemove(p->id);
    listUnlink(p->link, p);
    busReplyCb *cb = p->cb;
    void *pd = p->pd;
    zfree(p->msg);
    zfree(p);
    cb(res, pd);
}

/* p failed locally (link down, deadline): never written if its message is
 * still queued here, else its outcome at the peer is unknown. */
static void finishFailed(pending *p, int written_status, const char *why) {
    busResult res = {p->msg ? BUS_NOT_SENT : written_status, NULL, "", why};
    finish(p, &res);
}

static void failAll(busLink *l, const char *err) {
    while (l->head) finishFailed(l->head, BUS_LOST, err);
}

int busResultIs(const busResult *res, const char *code) {
    return res->status == BUS_REMOTE && !strcmp(res->code, code);
}

/* A peer's error answer: its first word (less a leading '-') is the code. */
static void finishRemote(pending *p, const char *text) {
    char code[32];
    const char *s = text[0] == '-' ? text + 1 : text;
    size_t n = 0;
    while (s[n] && s[n] != ' ' && n < sizeof(code) - 1) {
        code[n] = s[n];
        n++;
    }
    code[n] = '\0';
    busResult res = {BUS_REMOTE, NULL, code, text};
    finish(p, &res);
}

/* ---------------------------------------------------------------- writing */

/* A RESP array of bulk strings into out (cleared first). Our own: hiredis's
 * formatter calls sprintf for every header, measured at a few percent of a
 * replicated write's CPU. */
static buf wbuf; /* reused for every message written */

static void writeArgv(struct bufferevent *bev, int argc, const char **argv, const size_t *lens) {
    respFormatCommand(&wbuf, argc, argv, lens);
    bufferevent_write(bev, wbuf.ptr, wbuf.len);
    outflushQueue(bev); /* written at the end of this loop pass */
    if (wbuf.cap > (1 << 20)) bufFree(&wbuf); /* a big one: do not keep it */
}

/* ---------------------------------------------------------------- links */

static void linkConnect(busLink *l);

static void linkRetry(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    linkConnect(arg);
}

static void linkDown(busLink *l, const char *why) {
    if (l->state == LINK_UP)
        serverLog(LL_VERBOSE, "Cluster bus link to %s lost: %s", l->addr, why);
    if (l->bev) {
        outflushForget(l->bev);
        bufferevent_free(l->bev);
    }
    l->bev = NULL;
    if (l->reader) redisReaderFree(l->reader);
    l->reader = NULL;
    l->state = LINK_DOWN;
    bus.link_failures++;
    char err[160];
    snprintf(err, sizeof(err), "link to %s down (%s)", l->addr, why);
    failAll(l, err);
    struct timeval tv = {l->backoff / 1000, (l->backoff % 1000) * 1000};
    evtimer_add(l->retry_ev, &tv);
    l->backoff = l->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff * 2;
    if (l->refused) l->backoff = BACKOFF_MAX_MS * 5;
}

static void linkRead(struct bufferevent *bev, void *arg) {
    busLink *l = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_iovec v[16];
    int n = evbuffer_peek(in, -1, NULL, v, 16);
    size_t total = 0;
    for (int i = 0; i < n && i < 16; i++) {
        redisReaderFeed(l->reader, v[i].iov_base, v[i].iov_len);
        total += v[i].iov_len;
    }
    evbuffer_drain(in, total);
    for (;;) {
        void *r = NULL;
        if (redisReaderGetReply(l->reader, &r) != REDIS_OK) {
            linkDown(l, "protocol error");
            return;
        }
        if (!r) break;
        redisReply *rep = r;
        bus.received++;
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 3 &&
            rep->element[0]->type == REDIS_REPLY_STRING && !strcmp(rep->element[0]->str, "REPLY") &&
            rep->element[1]->type == REDIS_REPLY_STRING) {
            unsigned long long id = strtoull(rep->element[1]->str, NULL, 10);
            pending *p = tableFind(id);
            if (p) {
                const char *status = rep->element[2]->str;
                if (status && !strcmp(status, "OK")) {
                    busResult res = {BUS_OK, rep, "", ""};
                    finish(p, &res);
                } else {
                    finishRemote(p, status ? status : "error");
                }
            }
        }
        busFreeReply(rep);
        if (!l->reader) return; /* a callback took the link down */
    }
}

/* Connected, or the output outflush.c handed over is drained: from now on
 * outflush.c writes (a plain socket's bufferevent keeps EV_WRITE off). */
static void linkWrite(struct bufferevent *bev, void *arg) {
    UNUSED(arg);
    outflushDrained(bev);
}

static void linkEvent(struct bufferevent *bev, short what, void *arg) {
    UNUSED(bev);
    busLink *l = arg;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(l->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        sendHello(l);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        linkDown(l, (what & BEV_EVENT_EOF) ? "closed by peer" : strerror(EVUTIL_SOCKET_ERROR()));
    }
}

/* HMAC-SHA256(bus secret, role|a|b) in hex: the handshake's proofs. The
 * secret (and the password it may come from) never crosses the wire. */
static void proof(const char *role, const char *a, const char *b, char *out) {
    busauthProof(sec.key, sec.keylen, role, a, b, out);
}

static int secretSet(void) { return sec.kind != BUSAUTH_NONE; }

static void linkUp(busLink *l, int proven) {
    l->state = LINK_UP;
    l->backoff = BACKOFF_MIN_MS;
    l->refused = 0; /* whatever was wrong was mended: backoff and kicks as usual */
    l->proven = proven;
    serverLog(LL_VERBOSE, "Cluster bus link to %s up", l->addr);
    for (pending *p = l->head; p; p = p->next) {
        if (!p->msg) continue;
        bufferevent_write(l->bev, p->msg, p->msglen);
        outflushQueue(l->bev);
        zfree(p->msg);
        p->msg = NULL;
    }
}

static void refuse(busLink *l, const char *why) {
    l->refused = 1;
    bus.refused++;
    serverLog(LL_WARNING, "Cluster bus peer %s: %s", l->addr, why);
    if (l->state != LINK_DOWN) linkDown(l, why);
}

/* A handshake step failed: the peer's refusal (its error to HELLO or AUTH,
 * or protected-mode's DENIED: another cluster, another secret, a remote
 * peer without one) stops retrying for a while; anything else takes the
 * link down to reconnect. Decided on the error's code, never its text. */
static void handshakeFailed(busLink *l, const busResult *res) {
    if (busResultIs(res, "HELLO") || busResultIs(res, "AUTH") || busResultIs(res, "DENIED"))
        refuse(l, res->errstr);
    else
        linkDown(l, res->errstr[0] ? res->errstr : "handshake failed");
}

static void authDone(const busResult *res, void *pd) {
    busLink *l = pd;
    if (l->state != LINK_HANDSHAKE) return;
    if (res->status != BUS_OK) handshakeFailed(l, res);
    else linkUp(l, 1);
}

/* HELLO's answer: [peer id, its secret kind] or, with a bus secret, [peer
 * id, its challenge, its proof of the secret over ours, its secret kind]
 * (an older ringkv leaves the kind out). */
static void helloDone(const busResult *res, void *pd) {
    busLink *l = pd;
    if (l->state != LINK_HANDSHAKE) return;
    if (res->status != BUS_OK) {
        handshakeFailed(l, res);
        return;
    }
    const redisReply *reply = res->reply;
    int peersecret = reply->elements >= 6;
    size_t ki = peersecret ? 6 : 4;
    int peerkind = peersecret ? BUSAUTH_UNKNOWN : BUSAUTH_NONE;
    if (reply->elements > ki && reply->element[ki]->type == REDIS_REPLY_STRING)
        peerkind = busauthKindParse(reply->element[ki]->str, reply->element[ki]->len);
    char why[400], msg[460];
    if (secretSet() != peersecret) {
        busauthMismatch(sec.kind, peersecret ? peerkind : BUSAUTH_NONE, "this node", "the peer",
                        why, sizeof(why));
        snprintf(msg, sizeof(msg), "refusing it: %s", why);
        refuse(l, msg);
        return;
    }
    if (!secretSet()) {
        linkUp(l, 0);
        return;
    }
    const char *snonce = reply->element[4]->str;
    char expect[65], mine[65];
    proof("server", l->nonce, snonce, expect);
    if (reply->element[4]->len != 32 ||
        !busauthProofEqual(expect, reply->element[5]->str, reply->element[5]->len)) {
        busauthMismatch(sec.kind, peerkind, "this node", "the peer", why, sizeof(why));
        snprintf(msg, sizeof(msg), "it failed the bus secret challenge: %s", why);
        refuse(l, msg);
        return;
    }
    proof("client", snonce, l->nonce, mine);
    const char *argv[2] = {"AUTH", mine};
    size_t lens[2] = {4, 64};
    sendEx(l, 2, argv, lens, authDone, l, 0, 1);
}

static void sendHello(busLink *l) {
    l->state = LINK_HANDSHAKE;
    getRandomHex(l->nonce, 32);
    l->nonce[32] = '\0';
    char q[16], port[16], busport[16];
    snprintf(q, sizeof(q), "%d", server.ring_partitions);
    snprintf(port, sizeof(port), "%d", server.port);
    snprintf(busport, sizeof(busport), "%d", server.bus_port);
    /* the kind of our secret goes last: a peer whose secret differs can say
     * which setting to change (an older ringkv ignores it) */
    const char *argv[] = {"HELLO", server.cluster_name, q, server.node_id, server.announce_host,
                          port, busport, l->nonce, busauthKindName(sec.kind)};
    size_t lens[9];
    for (int i = 0; i < 9; i++) lens[i] = strlen(argv[i]);
    sendEx(l, 9, argv, lens, helloDone, l, 0, 1);
}

static void linkConnect(busLink *l) {
    if (l->state != LINK_DOWN) return;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)l->port);
    if (inet_pton(AF_INET, l->host, &sin.sin_addr) != 1) {
        serverLog(LL_WARNING, "Cluster bus: bad peer address %s", l->addr);
        return;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return;
    evutil_make_socket_nonblocking(fd);
    evutil_make_socket_closeonexec(fd);
    /* originate from our own address, so a pair of loopback addresses can be
     * cut with iptables */
    struct sockaddr_in me;
    memset(&me, 0, sizeof(me));
    me.sin_family = AF_INET;
    if (inet_pton(AF_INET, server.bind, &me.sin_addr) == 1 && me.sin_addr.s_addr != 0)
        bind(fd, (struct sockaddr *)&me, sizeof(me));
    l->bev = tlsClusterEnabled() ? tlsBufferevent(fd, TLS_CONNECT_BUS)
                                 : bufferevent_socket_new(server.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!l->bev) {
        close(fd);
        linkDown(l, "TLS setup failed");
        return;
    }
    l->reader = newReader();
    bufferevent_setcb(l->bev, linkRead, linkWrite, linkEvent, l);
    bufferevent_enable(l->bev, EV_READ | EV_WRITE);
    l->state = LINK_CONNECTING;
    l->connect_deadline = nowMs() + server.replica_timeout;
    if (bufferevent_socket_connect(l->bev, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        linkDown(l, "connect failed");
        return;
    }
    /* HELLO is sent once connected (linkEvent); requests wait until the
     * handshake is done. */
}

busLink *busLinkGet(const char *host, int busport) {
    for (busLink *l = bus.links; l; l = l->next)
        if (l->port == busport && !strcmp(l->host, host)) return l;
    busLink *l = zcalloc(sizeof(*l));
    snprintf(l->host, sizeof(l->host), "%s", host);
    l->port = busport;
    snprintf(l->addr, sizeof(l->addr), "%s:%d", host, busport);
    l->state = LINK_DOWN;
    l->backoff = BACKOFF_MIN_MS;
    l->retry_ev = evtimer_new(server.base, linkRetry, l);
    l->next = bus.links;
    bus.links = l;
    linkConnect(l);
    return l;
}

void busLinkRelease(busLink *l) {
    busLink **pp = &bus.links;
    while (*pp && *pp != l) pp = &(*pp)->next;
    if (!*pp) return;
    *pp = l->next;
    failAll(l, "link released");
    if (l->bev) {
        outflushForget(l->bev);
        bufferevent_free(l->bev);
    }
    if (l->reader) redisReaderFree(l->reader);
    event_free(l->retry_ev);
    zfree(l);
}

/* The peer is alive (gossip heard it): a link waiting out its backoff
 * reconnects now rather than seconds later. */
void busLinkKick(busLink *l) {
    if (!l || l->state != LINK_DOWN || l->refused) return;
    evtimer_del(l->retry_ev);
    l->backoff = BACKOFF_MIN_MS;
    linkConnect(l);
}

int busLinkConnected(const busLink *l) { return l && l->state == LINK_UP; }
int busLinkUsable(const busLink *l) { return l && l->state != LINK_DOWN; }
const char *busLinkAddr(const busLink *l) { return l->addr; }

void busSend(busLink *l, int argc, const char **argv, const size_t *lens, busReplyCb *cb, void *pd,
             long long timeout_ms) {
    sendEx(l, argc, argv, lens, cb, pd, timeout_ms, 0);
}

/* Requests wait (formatted) until the link is up; the handshake's own
 * messages are written at once. */
static void sendEx(busLink *l, int argc, const char **argv, const size_t *lens, busReplyCb *cb,
                   void *pd, long long timeout_ms, int handshake) {
    if (l->state == LINK_DOWN) {
        char err[128];
        snprintf(err, sizeof(err), "link to %s down", l->addr);
        busResult res = {BUS_NOT_SENT, NULL, "", err};
        cb(&res, pd);
        return;
    }
    pending *p = zcalloc(sizeof(*p));
    p->id = ++bus.next_id;
    p->cb = cb;
    p->pd = pd;
    p->deadline = nowMs() + (timeout_ms > 0 ? timeout_ms : server.replica_timeout);
    /* (the id token below carries the creation time and the timeout) */
    p->link = l;
    p->prev = l->tail;
    if (l->tail) l->tail->next = p;
    else l->head = p;
    l->tail = p;
    tableInsert(p);
    /* [name, id, args...]: the id goes in second place */
    const char *av[64];
    size_t al[64];
    const char **avp = av;
    size_t *alp = al;
    if (argc + 2 > 64) {
        avp = zmalloc(sizeof(char *) * (size_t)(argc + 2));
        alp = zmalloc(sizeof(size_t) * (size_t)(argc + 2));
    }
    /* "id.sent.timeout.hlc": the receiver echoes it whole; from sent and
     * timeout (our monotonic ms) it tells a request that arrives after we
     * gave up on it, and hlc moves its clock up to ours. */
    char idbuf[96];
    long long timeout = timeout_ms > 0 ? timeout_ms : server.replica_timeout;
    int idlen = ll2string(idbuf, 24, (long long)p->id);
    idbuf[idlen++] = '.';
    idlen += ll2string(idbuf + idlen, 24, p->deadline - timeout);
    idbuf[idlen++] = '.';
    idlen += ll2string(idbuf + idlen, 24, timeout);
    idbuf[idlen++] = '.';
    idlen += ll2string(idbuf + idlen, 24, (long long)(server.clock.last & (~0ULL >> 1)));
    /* argv[0] is the request name */
    avp[0] = argv[0];
    alp[0] = lens[0];
    avp[1] = idbuf;
    alp[1] = (size_t)idlen;
    for (int i = 1; i < argc; i++) {
        avp[i + 1] = argv[i];
        alp[i + 1] = lens[i];
    }
    if (handshake || l->state == LINK_UP) {
        writeArgv(l->bev, argc + 1, avp, alp);
    } else {
        respFormatCommand(&wbuf, argc + 1, avp, alp);
        p->msg = zmemdup(wbuf.ptr, wbuf.len);
        p->msglen = wbuf.len;
        if (wbuf.cap > (1 << 20)) bufFree(&wbuf);
    }
    bus.sent++;
    if (avp != av) {
        zfree(avp);
        zfree(alp);
    }
}

/* Deadlines: the head of each link's FIFO is its oldest request. */
static void tick(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    secretRefresh();
    long long now = nowMs();
    for (busLink *l = bus.links; l; l = l->next) {
        if (l->state == LINK_CONNECTING && now > l->connect_deadline) {
            linkDown(l, "connect timeout");
            continue;
        }
        while (l->head && l->head->deadline <= now) {
            bus.timeouts++;
            char err[128];
            snprintf(err, sizeof(err), "timeout waiting for %s", l->addr);
            finishFailed(l->head, BUS_TIMEOUT, err);
        }
    }
}

/* ---------------------------------------------------------- inbound side */

static void connFree(busConn *c) {
    for (busReq *r = c->reqs; r; r = r->next) r->conn = NULL; /* answers dropped */
    if (c->prev) c->prev->next = c->next;
    else bus.conns = c->next;
    if (c->next) c->next->prev = c->prev;
    outflushForget(c->bev);
    bufferevent_free(c->bev);
    redisReaderFree(c->reader);
    zfree(c);
}

static void reqFree(busReq *r) {
    busFreeReply(r->msg);
    zfree((void *)r->argv);
    zfree((void *)r->lens);
    zfree(r);
}

static void reqDetach(busReq *r) {
    busConn *c = r->conn;
    if (!c) return;
    if (r->prev) r->prev->next = r->next;
    else c->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
}

static void answer(busReq *r, int argc, const char **argv, const size_t *lens) {
    if (r->conn && !r->conn->closing) writeArgv(r->conn->bev, argc, argv, lens);
    reqDetach(r);
    reqFree(r);
}

void busReplyArgs(busReq *req, int argc, const char **argv, const size_t *lens) {
    const char *av[64];
    size_t al[64];
    const char **avp = av;
    size_t *alp = al;
    if (argc + 3 > 64) {
        avp = zmalloc(sizeof(char *) * (size_t)(argc + 3));
        alp = zmalloc(sizeof(size_t) * (size_t)(argc + 3));
    }
    avp[0] = "REPLY";
    alp[0] = 5;
    avp[1] = req->argv[1];
    alp[1] = req->lens[1];
    avp[2] = "OK";
    alp[2] = 2;
    for (int i = 0; i < argc; i++) {
        avp[i + 3] = argv[i];
        alp[i + 3] = lens[i];
    }
    answer(req, argc + 3, avp, alp);
    if (avp != av) {
        zfree(avp);
        zfree(alp);
    }
}

void busReplyOK(busReq *req) { busReplyArgs(req, 0, NULL, NULL); }

void busReplyError(busReq *req, const char *err) {
    const char *av[3] = {"REPLY", req->argv[1], err};
    size_t al[3] = {5, req->lens[1], strlen(err)};
    answer(req, 3, av, al);
}

void busRegister(const char *name, busHandler *h) {
    bus.handlers[bus.nhandlers].name = name;
    bus.handlers[bus.nhandlers].h = h;
    bus.nhandlers++;
}

static void connCloseSoon(busConn *c) {
    c->closing = 1;
    bufferevent_disable(c->bev, EV_READ);
    /* the bufferevent writes what is left, and connWrite frees us after */
    bufferevent_enable(c->bev, EV_WRITE);
}

/* How long a request may have been under way when it arrives: past its
 * sender's timeout less this margin, the sender has given up (and told its
 * client the write failed), so it must not take effect now. The margin
 * covers the fastest one-way delay, which the offset estimate includes. */
#define LATE_MARGIN_MS 20
/* A peer's clock further ahead of ours than this is not followed. */
#define HLC_MAX_AHEAD_MS 60000
#define OFFSET_WINDOW_MS 30000

/* Reads "id.sent.timeout.hlc" (argv[1]): sets r->deadline (our monotonic
 * ms, 0 = unknown) and moves our clock up to the sender's. */
static void readIdToken(busConn *c, busReq *r) {
    const char *p = memchr(r->argv[1], '.', r->lens[1]);
    if (!p) return;
    char *e;
    long long sent = strtoll(p + 1, &e, 10);
    if (*e != '.') return;
    long long timeout = strtoll(e + 1, &e, 10);
    if (*e != '.') return;
    unsigned long long hlc = strtoull(e + 1, &e, 10);
    if (sent < 0 || sent > LLONG_MAX / 4 || timeout <= 0 || timeout > 86400000LL) return;
    long long now = nowMs();
    long long cand = now - sent;
    if (!c->has_off) {
        c->off[0] = c->off[1] = cand;
        c->off_since = now;
        c->has_off = 1;
    } else if (now - c->off_since > OFFSET_WINDOW_MS) {
        c->off[1] = c->off[0];
        c->off[0] = cand;
        c->off_since = now;
    } else if (cand < c->off[0]) {
        c->off[0] = cand;
    }
    long long off = c->off[0] < c->off[1] ? c->off[0] : c->off[1];
    r->deadline = sent + off + timeout;
    if (hlcPhysicalMs(hlc) <= (uint64_t)serverNowMs() + HLC_MAX_AHEAD_MS)
        hlcObserve(&server.clock, hlc);
}

int busReqLate(const busReq *req) {
    return req->deadline && nowMs() > req->deadline - LATE_MARGIN_MS;
}

static void dispatch(busConn *c, redisReply *msg) {
    if (msg->type != REDIS_REPLY_ARRAY || msg->elements < 2) {
        busFreeReply(msg);
        connCloseSoon(c);
        return;
    }
    for (size_t i = 0; i < msg->elements; i++) {
        if (msg->element[i]->type != REDIS_REPLY_STRING) {
            busFreeReply(msg);
            connCloseSoon(c);
            return;
        }
    }
    busReq *r = zcalloc(sizeof(*r));
    r->msg = msg;
    r->argc = (int)msg->elements;
    const char **argv = zmalloc(sizeof(char *) * msg->elements);
    size_t *lens = zmalloc(sizeof(size_t) * msg->elements);
    for (size_t i = 0; i < msg->elements; i++) {
        argv[i] = msg->element[i]->str;
        lens[i] = msg->element[i]->len;
    }
    r->argv = argv;
    r->lens = lens;
    r->conn = c;
    memcpy(r->peer_id, c->peer_id, sizeof(r->peer_id));
    r->next = c->reqs;
    if (c->reqs) c->reqs->prev = r;
    c->reqs = r;
    bus.received++;
    if (c->hello < 2) {
        if (c->hello == 0 && busauthProtectedRefuses(server.protected_mode, sec.kind,
                                                     tlsClusterEnabled(), c->remote)) {
            protectedRefuse(r);
        } else if (c->hello == 0 && !strcmp(argv[0], "HELLO")) {
            helloHandler(r);
        } else if (c->hello == 1 && !strcmp(argv[0], "AUTH")) {
            authHandler(r);
        } else {
            serverLog(LL_WARNING, "Cluster bus connection from %s sent %.20s before %s: closed",
                      c->addr, argv[0], c->hello == 0 ? "HELLO" : "AUTH");
            bus.inbound_refused++;
            busReplyError(r, c->hello == 0 ? "HELLO expected first on the cluster bus"
                                           : "AUTH expected: this node has a bus secret "
                                             "(cluster-secret or requirepass)");
            connCloseSoon(c);
        }
        return;
    }
    readIdToken(c, r);
    if (busReqLate(r)) {
        /* Its sender gave up on it (a cut or a stall delayed it): taking
         * effect now could overwrite what was acknowledged since. */
        bus.late++;
        serverLog(LL_VERBOSE, "Cluster bus: %.20s from %s arrived after its sender's deadline: refused",
                  argv[0], c->addr);
        busReplyError(r, "LATE the request arrived after its sender's deadline");
        return;
    }
    for (int i = 0; i < bus.nhandlers; i++) {
        if (!strcmp(bus.handlers[i].name, argv[0])) {
            bus.handlers[i].h(r);
            return;
        }
    }
    char err[128];
    snprintf(err, sizeof(err), "unknown bus request '%.40s'", argv[0]);
    busReplyError(r, err);
}

static void helloHandler(busReq *r) {
    busConn *c = r->conn;
    /* HELLO id cluster-name Q node-id host port busport */
    if (r->argc < 8) {
        busReplyError(r, "HELLO malformed");
        connCloseSoon(c);
        return;
    }
    char why[256] = "";
    long long q = strtoll(r->argv[3], NULL, 10);
    if (strcmp(r->argv[2], server.cluster_name) != 0) {
        snprintf(why, sizeof(why), "cluster-name '%.64s' differs from ours '%.64s'", r->argv[2],
                 server.cluster_name);
    } else if (q != server.ring_partitions) {
        snprintf(why, sizeof(why), "ring-partitions %lld differs from ours %d", q,
                 server.ring_partitions);
    } else if (!strcmp(r->argv[4], server.node_id)) {
        snprintf(why, sizeof(why), "it has our own node id %.40s", server.node_id);
    }
    /* HELLO ... nonce kind: the kind of secret the peer has (an older
     * ringkv does not say). One side with a secret and the other without
     * can never agree: refuse now, saying which setting differs. */
    c->peerkind = r->argc >= 10 ? busauthKindParse(r->argv[9], r->lens[9]) : BUSAUTH_UNKNOWN;
    char peerwhy[400] = "";
    int known = c->peerkind != BUSAUTH_UNKNOWN;
    if (!why[0] && known && secretSet() != (c->peerkind != BUSAUTH_NONE)) {
        char us[64];
        snprintf(us, sizeof(us), "node %.40s", server.node_id);
        busauthMismatch(sec.kind, c->peerkind, "this node", "the peer", why, sizeof(why));
        busauthMismatch(sec.kind, c->peerkind, us, "this node", peerwhy, sizeof(peerwhy));
    }
    if (!why[0] && secretSet() && (r->argc < 9 || r->lens[8] != 32)) {
        /* no challenge: a hand-made HELLO, or a peer with no secret at all */
        snprintf(why, sizeof(why), "no challenge in its HELLO: this node requires a bus secret "
                 "(it has %s)", sec.kind == BUSAUTH_CLUSTER_SECRET ? "a cluster-secret"
                 : "requirepass and no cluster-secret: the bus secret is derived from the password");
    }
    if (why[0]) {
        helloRefuse(r, why, peerwhy[0] ? peerwhy : why);
        return;
    }
    snprintf(c->peer_id, sizeof(c->peer_id), "%.40s", r->argv[4]);
    const char *kind = busauthKindName(sec.kind);
    if (!secretSet()) {
        c->hello = 2;
        c->proven = 0;
        const char *av[2] = {server.node_id, kind};
        size_t al[2] = {strlen(server.node_id), strlen(kind)};
        busReplyArgs(r, 2, av, al);
        return;
    }
    /* challenge-response: prove the secret over its nonce, ask for a proof
     * over ours */
    snprintf(c->cnonce, sizeof(c->cnonce), "%.32s", r->argv[8]);
    getRandomHex(c->snonce, 32);
    c->snonce[32] = '\0';
    char pr[65];
    proof("server", c->cnonce, c->snonce, pr);
    c->hello = 1;
    const char *av[4] = {server.node_id, c->snonce, pr, kind};
    size_t al[4] = {strlen(server.node_id), 32, 64, strlen(kind)};
    busReplyArgs(r, 4, av, al);
}

/* Logs why HELLO r is refused, answers it "HELLO refused by <us>: peerwhy"
 * (the same reason, as the peer will read it in its own log), closes. */
static void helloRefuse(busReq *r, const char *why, const char *peerwhy) {
    busConn *c = r->conn;
    bus.inbound_refused++;
    serverLog(LL_WARNING, "Refusing cluster bus peer %s (node %.40s at %.64s:%.8s): %s", c->addr,
              r->argv[4], r->argv[5], r->argv[6], why);
    char err[600];
    snprintf(err, sizeof(err), "HELLO refused by %.40s: %s", server.node_id, peerwhy);
    busReplyError(r, err);
    connCloseSoon(c);
}

/* protected-mode, with no bus secret in force: the first message of a
 * remote peer, whatever it is, gets this error and the connection closes.
 * Its code, DENIED, makes a ringkv peer log it and back off. */
static void protectedRefuse(busReq *r) {
    busConn *c = r->conn;
    bus.inbound_refused++;
    int hello = r->argc >= 5 && !strcmp(r->argv[0], "HELLO");
    serverLog(LL_WARNING,
              "Refusing cluster bus peer %s%s%.40s%s: protected-mode is on and this node has "
              "neither cluster-secret nor requirepass, so only bus peers on the loopback "
              "interface are accepted. To let nodes on other machines in, set cluster-secret to "
              "the same value on every node (or requirepass: the bus secret is then derived from "
              "the password), or set protected-mode no if the network is trusted",
              c->addr, hello ? " (node " : "", hello ? r->argv[4] : "", hello ? ")" : "");
    char err[400];
    snprintf(err, sizeof(err),
             "DENIED cluster bus peer refused by %.40s: protected mode: this node has neither "
             "cluster-secret nor requirepass, so it accepts bus peers from the loopback interface "
             "only. Set the same cluster-secret on every node.", server.node_id);
    busReplyError(r, err);
    connCloseSoon(c);
}

static void authHandler(busReq *r) {
    busConn *c = r->conn;
    char expect[65];
    proof("client", c->snonce, c->cnonce, expect);
    if (r->argc < 3 || !busauthProofEqual(expect, r->argv[2], r->lens[2])) {
        bus.inbound_refused++;
        char why[400], us[64];
        busauthMismatch(sec.kind, c->peerkind, "this node", "the peer", why, sizeof(why));
        serverLog(LL_WARNING, "Refusing cluster bus peer %s (node %.40s): it failed the bus "
                  "secret challenge: %s", c->addr, c->peer_id, why);
        snprintf(us, sizeof(us), "node %.40s", server.node_id);
        busauthMismatch(sec.kind, c->peerkind, us, "this node", why, sizeof(why));
        char err[500];
        snprintf(err, sizeof(err), "AUTH refused by %.40s: wrong bus secret: %s", server.node_id,
                 why);
        busReplyError(r, err);
        connCloseSoon(c);
        return;
    }
    c->hello = 2;
    c->proven = 1;
    busReplyOK(r);
}

static void connRead(struct bufferevent *bev, void *arg) {
    busConn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_iovec v[16];
    int n = evbuffer_peek(in, -1, NULL, v, 16);
    size_t total = 0;
    for (int i = 0; i < n && i < 16; i++) {
        redisReaderFeed(c->reader, v[i].iov_base, v[i].iov_len);
        total += v[i].iov_len;
    }
    evbuffer_drain(in, total);
    while (!c->closing) {
        void *m = NULL;
        if (redisReaderGetReply(c->reader, &m) != REDIS_OK) {
            connCloseSoon(c);
            break;
        }
        if (!m) break;
        dispatch(c, m);
    }
    if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0) connFree(c);
}

static void connWrite(struct bufferevent *bev, void *arg) {
    busConn *c = arg;
    if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0) connFree(c);
    else if (!c->closing) outflushDrained(bev);
}

static void connEvent(struct bufferevent *bev, short what, void *arg) {
    UNUSED(bev);
    busConn *c = arg;
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) return;
    if (c->hello == 1 && !c->closing) {
        /* A node that finds our proof wrong closes without a word: this side
         * of a secret mismatch is told only by this. */
        char why[400];
        busauthMismatch(sec.kind, c->peerkind, "this node", "the peer", why, sizeof(why));
        bus.inbound_refused++;
        serverLog(LL_WARNING, "Cluster bus peer %s (node %.40s) closed the connection without "
                  "answering our challenge (as a node whose bus secret differs does): %s",
                  c->addr, c->peer_id, why);
    }
    connFree(c);
}

static void busAccept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg) {
    UNUSED(lst);
    UNUSED(salen);
    UNUSED(arg);
    busConn *c = zcalloc(sizeof(*c));
    c->remote = 1; /* the bus listens on IPv4 only: anything else is not loopback */
    c->peerkind = BUSAUTH_UNKNOWN;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)sa;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(c->addr, sizeof(c->addr), "%s:%d", ip, ntohs(sin->sin_port));
        c->remote = busauthIsRemote(ip, server.debug_untrusted_prefix);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    evutil_make_socket_nonblocking(fd);
    c->bev = tlsClusterEnabled() ? tlsBufferevent(fd, TLS_ACCEPT_BUS)
                                 : bufferevent_socket_new(server.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        close(fd);
        zfree(c);
        return;
    }
    c->reader = newReader();
    bufferevent_setcb(c->bev, connRead, connWrite, connEvent, c);
    outflushEnable(c->bev);
    c->next = bus.conns;
    if (bus.conns) bus.conns->prev = c;
    bus.conns = c;
}

/* ------------------------------------------------------------ the secret */

/* Closes every connection and link that came up with no secret in force
 * (a secret just came into force: nothing proved that their peers know it).
 * Links reconnect by themselves and prove it; peers that cannot are
 * refused. Returns how many were closed. */
static int dropUnproven(void) {
    int n = 0;
    busConn *c = bus.conns;
    while (c) {
        busConn *next = c->next;
        if (c->hello == 2 && !c->proven && !c->closing) {
            n++;
            if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) connFree(c);
            else connCloseSoon(c);
        }
        c = next;
    }
    for (busLink *l = bus.links; l; l = l->next) {
        if (l->state == LINK_UP && !l->proven) {
            n++;
            linkDown(l, "a bus secret came into force");
        }
    }
    return n;
}

/* Follows the configuration (called every tick, and by busInit): the kind of
 * secret in force and its key, derived again when requirepass changed.
 * CONFIG SET requirepass, with no cluster-secret:
 *   - none -> a password: connections that came up without a secret are
 *     closed (dropUnproven); new ones must prove the derived key;
 *   - a password -> another: new handshakes need the new one; links that
 *     proved the old one stay up (as authenticated clients do), so setting
 *     the new password on every node in turn never splits the cluster;
 *   - a password -> none: new peers need no proof (protected-mode applies).
 * The derivation (~20 ms) runs once per change, on the loop. */
static void secretRefresh(void) {
    int kind = busauthKindOf(server.cluster_secret, server.requirepass);
    if (kind == BUSAUTH_CLUSTER_SECRET) {
        /* cluster-secret cannot change at runtime: set once, by busInit */
        if (sec.kind == kind) return;
        sec.kind = kind;
        sec.key = (const unsigned char *)server.cluster_secret;
        sec.keylen = strlen(server.cluster_secret);
        return;
    }
    if (kind == sec.kind && (kind == BUSAUTH_NONE || !strcmp(sec.pass, server.requirepass)))
        return;
    int old = sec.kind;
    zfree(sec.pass);
    sec.pass = NULL;
    sec.key = NULL;
    sec.keylen = 0;
    if (kind == BUSAUTH_REQUIREPASS) {
        sec.pass = zstrdup(server.requirepass);
        busauthDerive(sec.pass, strlen(sec.pass), server.cluster_name, sec.derived);
        sec.key = sec.derived;
        sec.keylen = BUSAUTH_KEY_LEN;
    }
    sec.kind = kind;
    if (!bus.listener) return; /* busInit: nothing is connected yet */
    if (old == BUSAUTH_NONE) {
        int n = dropUnproven();
        serverLog(LL_NOTICE, "Cluster bus: requirepass set and no cluster-secret: bus peers must "
                  "now prove they know the password (the bus secret is derived from it); %d bus "
                  "connection(s) opened without a secret were closed (nodes reconnect and prove "
                  "it; set the same requirepass on every node)", n);
    } else if (kind == BUSAUTH_REQUIREPASS) {
        serverLog(LL_NOTICE, "Cluster bus: requirepass changed: new bus connections must prove the "
                  "new password; links already authenticated stay up (a restart closes them). "
                  "Nodes with the old password are refused until they get the new one");
    } else {
        serverLog(LL_WARNING, "Cluster bus: requirepass cleared and no cluster-secret: new bus "
                  "peers are accepted without a secret, %s",
                  server.protected_mode ? "from the loopback interface only (protected-mode)"
                                        : "from anywhere (protected-mode is off)");
    }
}

/* At startup: one line saying what protects this node's bus. */
static void logProtection(void) {
    if (sec.kind == BUSAUTH_CLUSTER_SECRET) {
        serverLog(LL_NOTICE, "Cluster bus: peers must prove they know cluster-secret");
    } else if (sec.kind == BUSAUTH_REQUIREPASS) {
        serverLog(LL_NOTICE, "Cluster bus: no cluster-secret, so bus peers must prove they know "
                  "requirepass (the bus secret is derived from it; the password never crosses "
                  "the network)");
    } else if (tlsClusterEnabled()) {
        serverLog(LL_NOTICE, "Cluster bus: no cluster-secret or requirepass: bus peers are "
                  "authenticated by their TLS certificates only");
    } else if (!server.protected_mode) {
        serverLog(LL_WARNING, "Cluster bus: no cluster-secret or requirepass and protected-mode "
                  "is off: anyone who can reach %s:%d can read and write this node's data. Set "
                  "cluster-secret (the same on every node)", server.bind, server.bus_port);
    } else if (!isLoopbackAddr(server.bind)) {
        serverLog(LL_WARNING, "Cluster bus: protected-mode is on and neither cluster-secret nor "
                  "requirepass is set, so bus peers from outside the loopback interface will be "
                  "refused. To form a cluster across machines, set cluster-secret to the same "
                  "value on every node (or requirepass)");
    }
}

int busInit(void) {
    secretRefresh();
    logProtection();
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)server.bus_port);
    inet_pton(AF_INET, server.bind, &sin.sin_addr);
    bus.listener = evconnlistener_new_bind(server.base, busAccept, NULL,
                                           LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 511,
                                           (struct sockaddr *)&sin, sizeof(sin));
    if (!bus.listener) {
        serverLog(LL_WARNING, "Could not listen on the cluster bus %s:%d: %s", server.bind,
                  server.bus_port, strerror(errno));
        return C_ERR;
    }
    bus.tick_ev = event_new(server.base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, TIMEOUT_TICK_MS * 1000};
    event_add(bus.tick_ev, &tv);
    return C_OK;
}

void busShutdown(void) {
    if (bus.listener) evconnlistener_free(bus.listener);
    bus.listener = NULL;
    while (bus.links) busLinkRelease(bus.links);
    while (bus.conns) connFree(bus.conns);
    if (bus.tick_ev) event_free(bus.tick_ev);
    bus.tick_ev = NULL;
}

void busInfo(buf *out) {
    int up = 0, n = 0;
    for (busLink *l = bus.links; l; l = l->next) {
        n++;
        if (l->state == LINK_UP) up++;
    }
    int conns = 0;
    for (busConn *c = bus.conns; c; c = c->next) conns++;
    bufPrintf(out, "bus_links:%d\r\nbus_links_up:%d\r\nbus_inbound:%d\r\n", n, up, conns);
    bufPrintf(out, "bus_requests_sent:%lld\r\nbus_messages_received:%lld\r\n", bus.sent,
              bus.received);
    bufPrintf(out, "bus_requests_pending:%zu\r\nbus_timeouts:%lld\r\nbus_link_failures:%lld\r\n",
              bus.npending, bus.timeouts, bus.link_failures);
    bufPrintf(out, "bus_requests_late:%lld\r\n", bus.late);
    bufPrintf(out, "bus_secret:%s\r\nbus_inbound_refused:%lld\r\n", busauthKindName(sec.kind),
              bus.inbound_refused);
}
