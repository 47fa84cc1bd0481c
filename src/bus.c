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
 *   - an inbound connection answers nothing but HELLO until HELLO succeeded.
 */
#include "bus.h"

#include <arpa/inet.h>
#include <errno.h>
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

#include "server.h"

#define LINK_DOWN 0
#define LINK_CONNECTING 1
#define LINK_UP 2

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
    int refused;               /* the peer refused our HELLO (other cluster) */
    busLink *next;             /* all links */
};

typedef struct busConn {
    struct bufferevent *bev;
    redisReader *reader;
    int hello;                 /* HELLO accepted */
    char peer_id[41];
    char addr[64];
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
    long long sent, received, timeouts, link_failures, refused;
} bus;

static long long nowMs(void) { return (long long)(monotonic_us() / 1000); }

static void helloHandler(busReq *req);

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
static void finish(pending *p, int ok, const redisReply *reply, const char *err) {
    tableRemove(p->id);
    listUnlink(p->link, p);
    busReplyCb *cb = p->cb;
    void *pd = p->pd;
    zfree(p);
    cb(ok, reply, err, pd);
}

static void failAll(busLink *l, const char *err) {
    while (l->head) finish(l->head, 0, NULL, err);
}

/* ---------------------------------------------------------------- writing */

static void writeArgv(struct bufferevent *bev, int argc, const char **argv, const size_t *lens) {
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len > 0) bufferevent_write(bev, cmd, (size_t)len);
    redisFreeCommand(cmd);
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
    if (l->bev) bufferevent_free(l->bev);
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
                    finish(p, 1, rep, NULL);
                } else {
                    if (status && !strncmp(status, "HELLO ", 6)) {
                        l->refused = 1;
                        bus.refused++;
                        serverLog(LL_WARNING, "Cluster bus peer %s refused us: %s", l->addr,
                                  status + 6);
                    }
                    finish(p, 0, rep, status ? status : "error");
                }
            }
        }
        freeReplyObject(rep);
        if (!l->reader) return; /* a callback took the link down */
    }
}

static void linkEvent(struct bufferevent *bev, short what, void *arg) {
    UNUSED(bev);
    busLink *l = arg;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(l->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        l->state = LINK_UP;
        l->backoff = BACKOFF_MIN_MS;
        serverLog(LL_VERBOSE, "Cluster bus link to %s up", l->addr);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        linkDown(l, (what & BEV_EVENT_EOF) ? "closed by peer" : strerror(EVUTIL_SOCKET_ERROR()));
    }
}

static void helloDone(int ok, const redisReply *reply, const char *err, void *pd) {
    UNUSED(reply);
    busLink *l = pd;
    if (!ok && l->refused && l->state != LINK_DOWN) linkDown(l, err);
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
    l->bev = bufferevent_socket_new(server.base, fd, BEV_OPT_CLOSE_ON_FREE);
    l->reader = redisReaderCreate();
    l->reader->maxbuf = 0;
    bufferevent_setcb(l->bev, linkRead, NULL, linkEvent, l);
    bufferevent_enable(l->bev, EV_READ | EV_WRITE);
    l->state = LINK_CONNECTING;
    l->connect_deadline = nowMs() + server.replica_timeout;
    if (bufferevent_socket_connect(l->bev, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        linkDown(l, "connect failed");
        return;
    }
    /* HELLO goes first; requests may follow at once (the peer answers in
     * order and closes on a refused HELLO). */
    char q[16], port[16], busport[16];
    snprintf(q, sizeof(q), "%d", server.ring_partitions);
    snprintf(port, sizeof(port), "%d", server.port);
    snprintf(busport, sizeof(busport), "%d", server.bus_port);
    const char *argv[] = {"HELLO", server.cluster_name, q, server.node_id, server.announce_host,
                          port, busport};
    size_t lens[7];
    for (int i = 0; i < 7; i++) lens[i] = strlen(argv[i]);
    busSend(l, 7, argv, lens, helloDone, l, 0);
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
    if (l->bev) bufferevent_free(l->bev);
    if (l->reader) redisReaderFree(l->reader);
    event_free(l->retry_ev);
    zfree(l);
}

int busLinkConnected(const busLink *l) { return l && l->state == LINK_UP; }
int busLinkUsable(const busLink *l) { return l && l->state != LINK_DOWN; }
const char *busLinkAddr(const busLink *l) { return l->addr; }

void busSend(busLink *l, int argc, const char **argv, const size_t *lens, busReplyCb *cb, void *pd,
             long long timeout_ms) {
    if (l->state == LINK_DOWN) {
        char err[128];
        snprintf(err, sizeof(err), "link to %s down", l->addr);
        cb(0, NULL, err, pd);
        return;
    }
    pending *p = zcalloc(sizeof(*p));
    p->id = ++bus.next_id;
    p->cb = cb;
    p->pd = pd;
    p->deadline = nowMs() + (timeout_ms > 0 ? timeout_ms : server.replica_timeout);
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
    char idbuf[24];
    int idlen = snprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)p->id);
    /* argv[0] is the request name */
    avp[0] = argv[0];
    alp[0] = lens[0];
    avp[1] = idbuf;
    alp[1] = (size_t)idlen;
    for (int i = 1; i < argc; i++) {
        avp[i + 1] = argv[i];
        alp[i + 1] = lens[i];
    }
    writeArgv(l->bev, argc + 1, avp, alp);
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
            finish(l->head, 0, NULL, err);
        }
    }
}

/* ---------------------------------------------------------- inbound side */

static void connFree(busConn *c) {
    for (busReq *r = c->reqs; r; r = r->next) r->conn = NULL; /* answers dropped */
    if (c->prev) c->prev->next = c->next;
    else bus.conns = c->next;
    if (c->next) c->next->prev = c->prev;
    bufferevent_free(c->bev);
    redisReaderFree(c->reader);
    zfree(c);
}

static void reqFree(busReq *r) {
    freeReplyObject(r->msg);
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
}

static void dispatch(busConn *c, redisReply *msg) {
    if (msg->type != REDIS_REPLY_ARRAY || msg->elements < 2) {
        freeReplyObject(msg);
        connCloseSoon(c);
        return;
    }
    for (size_t i = 0; i < msg->elements; i++) {
        if (msg->element[i]->type != REDIS_REPLY_STRING) {
            freeReplyObject(msg);
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
    if (!c->hello) {
        if (!strcmp(argv[0], "HELLO")) {
            helloHandler(r);
        } else {
            busReplyError(r, "HELLO expected first on the cluster bus");
            connCloseSoon(c);
        }
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
    if (why[0]) {
        serverLog(LL_WARNING, "Refusing cluster bus peer %s (node %.40s at %.64s:%.8s): %s", c->addr,
                  r->argv[4], r->argv[5], r->argv[6], why);
        char err[300];
        snprintf(err, sizeof(err), "HELLO refused by %.40s: %s", server.node_id, why);
        busReplyError(r, err);
        connCloseSoon(c);
        return;
    }
    c->hello = 1;
    snprintf(c->peer_id, sizeof(c->peer_id), "%.40s", r->argv[4]);
    const char *av[1] = {server.node_id};
    size_t al[1] = {strlen(server.node_id)};
    busReplyArgs(r, 1, av, al);
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
}

static void connEvent(struct bufferevent *bev, short what, void *arg) {
    UNUSED(bev);
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) connFree(arg);
}

static void busAccept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg) {
    UNUSED(lst);
    UNUSED(salen);
    UNUSED(arg);
    busConn *c = zcalloc(sizeof(*c));
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)sa;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(c->addr, sizeof(c->addr), "%s:%d", ip, ntohs(sin->sin_port));
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    evutil_make_socket_nonblocking(fd);
    c->bev = bufferevent_socket_new(server.base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->reader = redisReaderCreate();
    c->reader->maxbuf = 0;
    bufferevent_setcb(c->bev, connRead, connWrite, connEvent, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->next = bus.conns;
    if (bus.conns) bus.conns->prev = c;
    bus.conns = c;
}

int busInit(void) {
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
}
