/* bus.c -- cluster bus connections, request/reply matching, timeouts.
 * See bus.h for the contract; the handshake (HELLO, AUTH, protected mode,
 * the bus secret) is bushandshake.c's, and busint.h is what the two share.
 *
 * Invariants:
 *   - a pending request is in exactly two places: the global id table and
 *     its link's FIFO (oldest first, so the head has the earliest deadline);
 *     it leaves both before its callback runs, so the callback runs once;
 *   - a link is DOWN (waiting to reconnect), CONNECTING (TCP, TLS),
 *     HANDSHAKE (HELLO and AUTH under way, bushandshake.c) or UP; requests
 *     are refused at once while DOWN, queued while CONNECTING or HANDSHAKE
 *     (their deadlines still run), written while UP;
 *   - an inbound connection's messages go to bushandshake.c until it is
 *     open (hello 2), to the registered handlers after;
 *   - a request that arrives after its sender's deadline is refused (LATE),
 *     never run: its sender has told its caller it failed. */
#include "busint.h"

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
#include "clock.h"
#include "outflush.h"
#include "resp.h"
#include "server.h"
#include "tls.h"
#include "vclock.h"

/* Bytes a connection reads per loop pass: libevent's default, 4 KB, took
 * about 500 reads (and passes) for one pipeline of 200 answers of 10 KB. */
#define BUS_MAX_READ (256 * 1024)
/* A tick this much later than its schedule means the loop was stalled
 * (SIGSTOP, a starved CPU): answers may be waiting unread in the sockets. */
#define STALL_MS 50

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define TIMEOUT_TICK_MS 10
/* A request's default timeout grows by replica-timeout per this many bytes. */
#define BUS_TIMEOUT_BYTES (256 * 1024)

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
    long long sent, received, timeouts, link_failures, late;
    long long stalls; /* ticks that found the loop stalled (deadlines waited a pass) */
} bus;

static long long nowMs(void) { return (long long)(monotonic_us() / 1000); }

size_t busPending(void) { return bus.npending; }

/* Reads the decimal digits at s (up to end) into *out: returns where they
 * stop, or NULL when there is none or the number overflows. Request ids
 * and their "id.sent.timeout.hlc" tokens are read on every message; glibc's
 * strtoull (locale, sign, base) was 450 instructions a number. */
static const char *readDecimal(const char *s, const char *end, unsigned long long *out) {
    unsigned long long v = 0;
    const char *p = s;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (ULLONG_MAX - d) / 10) return NULL;
        v = v * 10 + d;
    }
    if (p == s) return NULL;
    *out = v;
    return p;
}

static redisReader *newReader(void) {
    redisReader *r = busReaderCreate(); /* busreader.h: our reply objects, capped arrays */
    if (!r) abort();
    return r;
}

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

/* Closes l's connection, fails its requests (NOT_SENT if still queued
 * here, else LOST) and arms the reconnect after the backoff. */
void busLinkDown(busLink *l, const char *why) {
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
            busLinkDown(l, "protocol error");
            return;
        }
        if (!r) break;
        redisReply *rep = r;
        bus.received++;
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 3 &&
            rep->element[0]->type == REDIS_REPLY_STRING && !strcmp(rep->element[0]->str, "REPLY") &&
            rep->element[1]->type == REDIS_REPLY_STRING) {
            unsigned long long id = 0;
            readDecimal(rep->element[1]->str, rep->element[1]->str + rep->element[1]->len, &id);
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
        busHandshakeStart(l);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        busLinkDown(l, (what & BEV_EVENT_EOF) ? "closed by peer" : strerror(EVUTIL_SOCKET_ERROR()));
    }
}

/* Called by bushandshake.c once l's handshake succeeded (proven: the
 * peer proved the bus secret): the requests queued meanwhile are written. */
void busLinkUp(busLink *l, int proven) {
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
        busLinkDown(l, "TLS setup failed");
        return;
    }
    bufferevent_set_max_single_read(l->bev, BUS_MAX_READ);
    l->reader = newReader();
    bufferevent_setcb(l->bev, linkRead, linkWrite, linkEvent, l);
    bufferevent_enable(l->bev, EV_READ | EV_WRITE);
    l->state = LINK_CONNECTING;
    l->connect_deadline = nowMs() + server.replica_timeout;
    if (bufferevent_socket_connect(l->bev, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        busLinkDown(l, "connect failed");
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

void busSendHandshake(busLink *l, int argc, const char **argv, const size_t *lens,
                      busReplyCb *cb, void *pd) {
    sendEx(l, argc, argv, lens, cb, pd, 0, 1);
}

long long busTimeoutFor(size_t bytes) {
    return server.replica_timeout * (1 + (long long)(bytes / BUS_TIMEOUT_BYTES));
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
    if (timeout_ms <= 0) {
        /* replica-timeout, and as much again per BUS_TIMEOUT_BYTES sent: a
         * healthy replica needs time in proportion to what it must apply
         * (measured: a 20,000-member GEOADD's batch, 1.1 MB, took a loaded
         * replica over a second to store; its coordinator called it down) */
        size_t bytes = 0;
        for (int i = 0; i < argc; i++) bytes += lens[i];
        timeout_ms = busTimeoutFor(bytes);
    }
    pending *p = zcalloc(sizeof(*p));
    p->id = ++bus.next_id;
    p->cb = cb;
    p->pd = pd;
    p->deadline = nowMs() + timeout_ms;
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
    long long timeout = timeout_ms;
    int idlen = ll2string(idbuf, 24, (long long)p->id);
    idbuf[idlen++] = '.';
    idlen += ll2string(idbuf + idlen, 24, p->deadline - timeout);
    idbuf[idlen++] = '.';
    idlen += ll2string(idbuf + idlen, 24, timeout);
    idbuf[idlen++] = '.';
    idlen += ll2string(idbuf + idlen, 24, (long long)(clockLast() & (~0ULL >> 1)));
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
    busHandshakeRefresh();
    long long now = nowMs();
    static long long last_tick;
    if (last_tick && now - last_tick > TIMEOUT_TICK_MS + STALL_MS) {
        /* The loop was stalled: after a resume, libevent runs due timers
         * before it reads the sockets, and answers that came in time would
         * be called timeouts (seen: every GET of a node held for 1.5 s by
         * SIGSTOP failed, its answers unread in the socket). Give the loop
         * one pass to read them first. */
        last_tick = now;
        bus.stalls++;
        return;
    }
    last_tick = now;
    for (busLink *l = bus.links; l; l = l->next) {
        if (l->state == LINK_CONNECTING && now > l->connect_deadline) {
            busLinkDown(l, "connect timeout");
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

void busConnCloseSoon(busConn *c) {
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
    const char *end = r->argv[1] + r->lens[1];
    const char *p = memchr(r->argv[1], '.', r->lens[1]);
    if (!p) return;
    unsigned long long usent, utimeout, hlc;
    const char *e = readDecimal(p + 1, end, &usent);
    if (!e || e == end || *e != '.') return;
    e = readDecimal(e + 1, end, &utimeout);
    if (!e || e == end || *e != '.') return;
    int has_hlc = readDecimal(e + 1, end, &hlc) != NULL;
    if (usent > (unsigned long long)LLONG_MAX / 4 || utimeout == 0 || utimeout > 86400000ULL) return;
    long long sent = (long long)usent, timeout = (long long)utimeout;
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
    if (has_hlc && hlcPhysicalMs(hlc) <= (uint64_t)serverNowMs() + HLC_MAX_AHEAD_MS)
        clockObserve(hlc);
}

int busReqLate(const busReq *req) {
    return req->deadline && nowMs() > req->deadline - LATE_MARGIN_MS;
}

static void dispatch(busConn *c, redisReply *msg) {
    if (msg->type != REDIS_REPLY_ARRAY || msg->elements < 2) {
        busFreeReply(msg);
        busConnCloseSoon(c);
        return;
    }
    for (size_t i = 0; i < msg->elements; i++) {
        if (msg->element[i]->type != REDIS_REPLY_STRING) {
            busFreeReply(msg);
            busConnCloseSoon(c);
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
        busHandshakeInbound(c, r);
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
            busConnCloseSoon(c);
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
    busHandshakeConnLost(c);
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
    bufferevent_set_max_single_read(c->bev, BUS_MAX_READ);
    c->reader = newReader();
    bufferevent_setcb(c->bev, connRead, connWrite, connEvent, c);
    outflushEnable(c->bev);
    c->next = bus.conns;
    if (bus.conns) bus.conns->prev = c;
    bus.conns = c;
}

/* A secret just came into force (bushandshake.c): nothing proved that the
 * peers of what came up without one know it. Links reconnect by themselves
 * and prove it; peers that cannot are refused. */
int busCloseUnproven(void) {
    int n = 0;
    busConn *c = bus.conns;
    while (c) {
        busConn *next = c->next;
        if (c->hello == 2 && !c->proven && !c->closing) {
            n++;
            if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) connFree(c);
            else busConnCloseSoon(c);
        }
        c = next;
    }
    for (busLink *l = bus.links; l; l = l->next) {
        if (l->state == LINK_UP && !l->proven) {
            n++;
            busLinkDown(l, "a bus secret came into force");
        }
    }
    return n;
}

/* ---------------------------------------------------------------- init */

int busInit(void) {
    busHandshakeInit();
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
    bufPrintf(out, "bus_requests_late:%lld\r\nbus_loop_stalls:%lld\r\n", bus.late, bus.stalls);
    busHandshakeInfo(out);
}
