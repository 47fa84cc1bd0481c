/* client.c -- client connections: read, parse, dispatch, the ordered reply
 * queue, output limits. See client.h; requests themselves are request.c's.
 *
 * Life of a client's request:
 *   bytes -> c->qb -> respParse -> clientRequest (arguments copied, request
 *   queued at c->tail) -> prepare (lookup, arity, AUTH) -> in MULTI: queued
 *   (multi.c); else started when startable (key locks, or the client's
 *   earlier requests for a keyless command) -> complete (request.c) ->
 *   clientDone -> clientFlush moves the replies of the completed prefix of
 *   the queue to the connection, in arrival order, and frees those requests.
 *
 * Invariants:
 *   - a request's reply leaves only when every earlier request of the same
 *     client has left (pipelining order, even when replicas answer out of
 *     order);
 *   - a client is freed only by closeEvent (never inside its own callbacks);
 *     requests still in flight are detached (r->c = NULL, and the handler's
 *     r->detach) and dropped when they complete;
 *   - while a client has more than MAX_INFLIGHT requests queued, its input
 *     is not parsed (backpressure), and its unread output is bounded by
 *     client-output-buffer-limit, beyond which it is disconnected. */
#include "client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"
#include "forward.h"
#include "keylock.h"
#include "multi.h"
#include "outflush.h"
#include "server.h"
#include "tls.h"

#define MAX_INFLIGHT 4096     /* queued requests per client before reading pauses */
#define READ_CHUNK (64 * 1024)

static client *closeList;     /* clients to free at the next closeEvent */
/* Clients whose waiting request can start: run from an event, never from
 * inside the completion that made it possible (no unbounded recursion). */
static client **resumeList;
static int resumeLen, resumeCap;
static struct event *resumeEv;
static void scheduleResume(client *c);
static struct event *closeEv; /* frees the clients of closeList */
static void processInput(client *c);

/* ---------------------------------------------------------------- requests */

static void clientFlush(client *c);

/* A client's request waited for its key locks and has them: it starts from
 * resumeEvent (its client's parsing resumes after it). */
static void clientGranted(request *r) {
    if (r->c && r->c->waiting == r) scheduleResume(r->c);
}

/* A client's request is complete: its reply leaves with the completed
 * prefix of the queue, or is dropped if the client is gone. */
static void clientDone(request *r) {
    if (r->c) clientFlush(r->c);
    else requestFree(r); /* its client is gone: nobody to answer */
}

static const requestHooks clientHooks = {clientGranted, clientDone};

/* A new request of c, at the tail of its queue. */
static request *clientRequest(client *c) {
    request *r = requestCreate(&clientHooks, NULL);
    r->c = c;
    r->db = c->db;
    r->proto = c->proto;
    if (c->tail) c->tail->next = r;
    else c->head = r;
    c->tail = r;
    c->nreqs++;
    return r;
}

static void copyArgs(request *r, client *c, const char *base) {
    respParser *p = &c->parser;
    int argc = p->argc;
    if (r->argvcap < argc) {
        r->argv = zrealloc(r->argv, sizeof(char *) * (size_t)argc);
        r->argvlen = zrealloc(r->argvlen, sizeof(size_t) * (size_t)argc);
        r->argvcap = argc;
    }
    size_t total = 0;
    for (int i = 0; i < argc; i++) total += p->args[i].len + 1;
    bufClear(&r->argbuf);
    bufReserve(&r->argbuf, total);
    size_t off = 0;
    for (int i = 0; i < argc; i++) {
        size_t l = p->args[i].len;
        memcpy(r->argbuf.ptr + off, respArgPtr(p, base, i), l);
        r->argbuf.ptr[off + l] = '\0';
        r->argv[i] = r->argbuf.ptr + off;
        r->argvlen[i] = l;
        off += l + 1;
    }
    r->argbuf.len = off;
    r->argc = argc;
}

/* ----------------------------------------------------------------- closing */

static void closeEvent(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    while (closeList) {
        client *c = closeList;
        closeList = c->next;
        clientFree(c);
    }
}

/* Unlinks c from the live list and frees it at the next closeEvent. */
void clientScheduleClose(client *c) {
    if (c->flags & CLIENT_CLOSE_ASAP) return;
    c->flags |= CLIENT_CLOSE_ASAP;
    if (c->prev) c->prev->next = c->next;
    else server.clients = c->next;
    if (c->next) c->next->prev = c->prev;
    server.nclients--;
    c->prev = NULL;
    c->next = closeList;
    closeList = c;
    if (c->bev) bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    if (!closeEv) closeEv = event_new(server.base, -1, 0, closeEvent, NULL);
    event_active(closeEv, EV_TIMEOUT, 0);
}

void clientFree(client *c) {
    if (c->waiting) {
        /* never started: it leaves the lock queues and goes with us */
        keylockRelease(c->waiting);
        c->waiting->pending = 0;
        c->waiting = NULL;
    }
    if (c->flags & CLIENT_RESUME_PENDING)
        for (int i = 0; i < resumeLen; i++)
            if (resumeList[i] == c) resumeList[i] = resumeList[--resumeLen];
    /* requests still waiting for replicas or storage finish without us */
    request *r = c->head;
    while (r) {
        request *next = r->next;
        if (r->pending == 0) {
            requestFree(r);
        } else {
            r->c = NULL;
            r->next = NULL;
            if (r->detach) r->detach(r);
        }
        r = next;
    }
    multiFree(c);
    if (c->bev) {
        outflushForget(c->bev);
        bufferevent_free(c->bev);
    }
    respParserFree(&c->parser);
    bufFree(&c->qb);
    zfree(c->name);
    zfree(c->lib_name);
    zfree(c->lib_ver);
    zfree(c);
}

void clientKillAll(void) {
    while (server.clients) clientScheduleClose(server.clients);
}

/* ----------------------------------------------------------------- output */

static size_t outputPending(client *c) {
    return c->bev ? evbuffer_get_length(bufferevent_get_output(c->bev)) : 0;
}

static void checkOutputLimits(client *c) {
    size_t len = outputPending(c);
    int over = 0;
    long long soft_ms = 0; /* how long the soft limit has been exceeded */
    if (server.obuf_hard && (long long)len > server.obuf_hard) over = 1;
    if (server.obuf_soft && (long long)len > server.obuf_soft) {
        long long now = mstime();
        if (!c->obuf_soft_since) c->obuf_soft_since = now;
        soft_ms = now - c->obuf_soft_since;
        if (soft_ms > server.obuf_soft_secs * 1000) over = 1;
    } else {
        c->obuf_soft_since = 0;
    }
    if (over) {
        serverLog(LL_WARNING,
                  "Client id=%llu addr=%s closed for overcoming of output buffer limits "
                  "(%zu bytes unread; above the soft limit for %lld ms).",
                  (unsigned long long)c->id, c->addr, len, soft_ms);
        server.stat.client_obuf_limit_disconnections++;
        clientScheduleClose(c);
    }
}

static void resumeReading(client *c) {
    if (!(c->flags & CLIENT_READ_PAUSED)) return;
    c->flags &= ~CLIENT_READ_PAUSED;
    bufferevent_enable(c->bev, EV_READ);
    processInput(c);
}

static void clientFlush(client *c) {
    if (c->flags & CLIENT_CLOSE_ASAP) {
        /* being freed: drop what completed */
        while (c->head && c->head->pending == 0) {
            request *r = c->head;
            c->head = r->next;
            if (!c->head) c->tail = NULL;
            c->nreqs--;
            requestFree(r);
        }
        return;
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    int moved = 0;
    while (c->head && c->head->pending == 0) {
        request *r = c->head;
        c->head = r->next;
        if (!c->head) c->tail = NULL;
        c->nreqs--;
        server.stat.net_output_bytes += (long long)evbuffer_get_length(r->out);
        evbuffer_add_buffer(out, r->out);
        requestFree(r);
        moved = 1;
    }
    if (moved) {
        c->last_interaction = server.unixtime;
        checkOutputLimits(c);
        /* written at the end of this loop pass (outflush.c); a client to
         * close once its replies are out has the bufferevent write them, so
         * that writeCallback sees the buffer drained */
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) bufferevent_enable(c->bev, EV_WRITE);
        else outflushQueue(c->bev);
    }
    if ((c->flags & CLIENT_CLOSE_AFTER_REPLY) && !c->head && outputPending(c) == 0)
        clientScheduleClose(c);
    if (c->waiting && (c->waiting->cmd->flags & CMD_BARRIER) && c->head == c->waiting)
        scheduleResume(c);
    if ((c->flags & CLIENT_READ_PAUSED) && c->nreqs < MAX_INFLIGHT / 2 &&
        !(c->flags & CLIENT_IN_CALLBACK))
        resumeReading(c);
}

/* ---------------------------------------------------------------- dispatch */

static void unknownCommand(request *r) {
    char args[1024];
    size_t off = 0;
    args[0] = '\0';
    for (int i = 1; i < r->argc && off < sizeof(args) - 140; i++) {
        int l = (int)(r->argvlen[i] > 128 ? 128 : r->argvlen[i]);
        off += (size_t)snprintf(args + off, sizeof(args) - off, "'%.*s' ", l, r->argv[i]);
    }
    addReplyErrorFormat(r, "unknown command '%.128s', with args beginning with: %s", r->argv[0],
                        args);
}

/* Looks the command up and checks arity and authentication. Returns 1 if
 * the request may run, 0 if it was answered with an error. */
static int prepare(client *c, request *r) {
    command *cmd = commandLookup(r->argv[0], r->argvlen[0]);
    c->tot_cmds++;
    server.stat.numcommands++;
    if (!cmd) {
        unknownCommand(r);
        return 0;
    }
    r->cmd = cmd;
    c->lastcmd = cmd->name;
    if ((cmd->arity > 0 && cmd->arity != r->argc) || r->argc < -cmd->arity) {
        cmd->rejected_calls++;
        r->cmd = NULL;
        char err[160];
        snprintf(err, sizeof(err), "wrong number of arguments for '%s' command", cmd->name);
        if (cmd->flags & CMD_ENDS_MULTI) multiAbort(c, r, err); /* as Redis: EXECABORT */
        else addReplyError(r, err);
        return 0;
    }
    if (!c->authenticated && !(cmd->flags & CMD_NOAUTH)) {
        cmd->rejected_calls++;
        r->cmd = NULL;
        addReplyError(r, ERR_NOAUTH);
        return 0;
    }
    return 1;
}

/* May r start now? A keyless data command (CMD_BARRIER) waits for the
 * client's earlier requests; a keyed one for its key locks (keylock.c). */
static int startable(client *c, request *r) {
    r->db = c->db;
    r->proto = c->proto;
    r->read_level = c->read_level;
    r->write_level = c->write_level;
    if (r->cmd->flags & CMD_BARRIER) return c->head == r;
    return requestLockKeys(r);
}

/* Runs r's command: here, or at the key's version coordinator (forward.c). */
static void run(request *r) {
    if (!forwardCommand(r)) r->cmd->proc(r);
}

static void resumeEvent(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    while (resumeLen) {
        client *c = resumeList[--resumeLen];
        c->flags &= ~CLIENT_RESUME_PENDING;
        request *r = c->waiting;
        if (!r || (c->flags & CLIENT_CLOSE_ASAP)) continue;
        if ((r->cmd->flags & CMD_BARRIER) && c->head != r) continue;
        c->waiting = NULL;
        r->db = c->db;
        r->proto = c->proto;
        run(r);
        requestRelease(r);
        processInput(c);
    }
}

static void scheduleResume(client *c) {
    if (c->flags & CLIENT_RESUME_PENDING) return;
    c->flags |= CLIENT_RESUME_PENDING;
    if (resumeLen == resumeCap) {
        resumeCap = resumeCap ? resumeCap * 2 : 64;
        resumeList = zrealloc(resumeList, sizeof(client *) * (size_t)resumeCap);
    }
    resumeList[resumeLen++] = c;
    if (!resumeEv) resumeEv = event_new(server.base, -1, 0, resumeEvent, NULL);
    event_active(resumeEv, EV_TIMEOUT, 0);
}

static void protocolError(client *c, const char *err) {
    request *r = clientRequest(c);
    r->pending = 1;
    addReplyErrorFormat(r, "%s", err);
    serverLog(LL_VERBOSE, "Protocol error (%s) from client: id=%llu addr=%s", err,
              (unsigned long long)c->id, c->addr);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    bufferevent_disable(c->bev, EV_READ);
    requestRelease(r);
}

static void processInput(client *c) {
    size_t pos = 0;
    respLimits lim = {server.proto_max_bulk_len, c->authenticated};
    c->flags |= CLIENT_IN_CALLBACK;
    while (pos < c->qb.len && !c->waiting &&
           !(c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP))) {
        if (c->nreqs >= MAX_INFLIGHT) {
            c->flags |= CLIENT_READ_PAUSED;
            bufferevent_disable(c->bev, EV_READ);
            break;
        }
        lim.authenticated = c->authenticated;
        const char *base = c->qb.ptr + pos;
        int rc = respParse(&c->parser, base, c->qb.len - pos, &lim);
        if (rc == RESP_NEED_MORE) {
            size_t want = respPendingBulk(&c->parser);
            if (want > c->qb.len - pos - c->parser.pos) {
                /* a big argument: make room once instead of growing by reads */
                bufReserve(&c->qb, c->parser.pos + want - (c->qb.len - pos));
            }
            break;
        }
        if (rc == RESP_ERR) {
            protocolError(c, c->parser.err);
            pos = c->qb.len;
            break;
        }
        size_t consumed = c->parser.consumed;
        if (c->parser.argc > 0) {
            request *r = clientRequest(c);
            copyArgs(r, c, base);
            r->pending = 1;
            respParserReset(&c->parser);
            pos += consumed;
            int ready = prepare(c, r);
            if (c->mstate && !(ready && (r->cmd->flags & CMD_IN_MULTI))) {
                /* in MULTI: queue it, or doom the transaction */
                if (ready) multiQueue(c, r);
                else multiFlagDirty(c);
                requestRelease(r);
                continue;
            }
            if (ready && !startable(c, r)) {
                c->waiting = r; /* parsing resumes once it started */
                break;
            }
            if (ready) run(r);
            requestRelease(r);
        } else {
            respParserReset(&c->parser);
            pos += consumed;
        }
    }
    c->flags &= ~CLIENT_IN_CALLBACK;
    if (pos) bufConsume(&c->qb, pos);
    if (c->qb.cap > (1 << 20) && c->qb.len < (1 << 16) && c->parser.pos == 0) {
        /* a large request passed: give the memory back */
        buf nb;
        bufInit(&nb);
        bufAppend(&nb, c->qb.ptr ? c->qb.ptr : "", c->qb.len);
        bufFree(&c->qb);
        c->qb = nb;
    }
}

static void readCallback(struct bufferevent *bev, void *arg) {
    client *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = evbuffer_get_length(in);
    if (n == 0 || (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY))) {
        evbuffer_drain(in, n);
        return;
    }
    bufReserve(&c->qb, n);
    evbuffer_remove(in, c->qb.ptr + c->qb.len, n);
    c->qb.len += n;
    c->qb.ptr[c->qb.len] = '\0';
    server.stat.net_input_bytes += (long long)n;
    c->last_interaction = server.unixtime;
    if ((long long)c->qb.len > server.client_max_querybuf_len) {
        serverLog(LL_WARNING, "Closing client that reached max query buffer length: id=%llu addr=%s (qbuf=%zu)",
                  (unsigned long long)c->id, c->addr, c->qb.len);
        server.stat.client_qbuf_limit_disconnections++;
        clientScheduleClose(c);
        return;
    }
    processInput(c);
}

static void writeCallback(struct bufferevent *bev, void *arg) {
    UNUSED(bev);
    client *c = arg;
    c->last_interaction = server.unixtime;
    outflushDrained(bev);
    if (c->obuf_soft_since) checkOutputLimits(c);
    if ((c->flags & CLIENT_CLOSE_AFTER_REPLY) && !c->head && outputPending(c) == 0)
        clientScheduleClose(c);
}

static void eventCallback(struct bufferevent *bev, short what, void *arg) {
    UNUSED(bev);
    client *c = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) clientScheduleClose(c);
}

/* ---------------------------------------------------------------- accept */

void clientAccept(int fd, const char *addr, int tls) {
    if (server.nclients >= server.maxclients) {
        const char *err = "-ERR max number of clients reached\r\n";
        ssize_t w = write(fd, err, strlen(err));
        UNUSED(w);
        /* Closing with unread input makes the kernel answer with a reset, which
         * can discard the error before the client reads it: swallow what the
         * client already sent, and send our FIN first. */
        char junk[4096];
        while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0) {}
        shutdown(fd, SHUT_WR);
        while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0) {}
        close(fd);
        server.stat.rejected_conn++;
        return;
    }
    /* protected mode, as Redis: without a password, only local clients */
    char ip[64];
    snprintf(ip, sizeof(ip), "%s", addr);
    char *colon = strrchr(ip, ':');
    if (colon) *colon = '\0';
    const char *untrusted = server.debug_untrusted_prefix;
    int remote = !isLoopbackAddr(ip) ||
                 (untrusted && untrusted[0] && !strncmp(ip, untrusted, strlen(untrusted)));
    if (server.protected_mode && !(server.requirepass && server.requirepass[0]) && remote) {
        const char *err =
            "-DENIED ringkv is running in protected mode: no password is set, so only clients "
            "on the loopback interface are accepted. Set requirepass (or protected-mode no, if "
            "the network is trusted) to accept others.\r\n";
        ssize_t w = write(fd, err, strlen(err));
        UNUSED(w);
        /* Closing with unread input makes the kernel answer with a reset, which
         * can discard the error before the client reads it: swallow what the
         * client already sent, and send our FIN first. */
        char junk[4096];
        while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0) {}
        shutdown(fd, SHUT_WR);
        while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0) {}
        close(fd);
        server.stat.rejected_conn++;
        return;
    }
    evutil_make_socket_nonblocking(fd);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (server.tcpkeepalive > 0) {
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        int idle = (int)server.tcpkeepalive;
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    }
    client *c = zcalloc(sizeof(*c));
    c->id = ++server.next_client_id;
    c->fd = fd;
    snprintf(c->addr, sizeof(c->addr), "%s", addr);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(c->laddr, sizeof(c->laddr), "%s:%d", ip, ntohs(sin->sin_port));
    }
    bufInit(&c->qb);
    respParserInit(&c->parser);
    c->proto = 2;
    c->authenticated = !(server.requirepass && server.requirepass[0]);
    c->ctime = mstime() / 1000;
    c->last_interaction = c->ctime;
    c->bev = tls ? tlsBufferevent(fd, TLS_ACCEPT_CLIENT)
                 : bufferevent_socket_new(server.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        close(fd);
        zfree(c);
        return;
    }
    /* libevent reads 4 KB per pass by default: a pipeline of big values
     * would take a pass per 4 KB */
    bufferevent_set_max_single_read(c->bev, 64 * 1024);
    bufferevent_setcb(c->bev, readCallback, writeCallback, eventCallback, c);
    bufferevent_setwatermark(c->bev, EV_READ, 0, READ_CHUNK * 16);
    outflushEnable(c->bev);
    c->next = server.clients;
    if (server.clients) server.clients->prev = c;
    server.clients = c;
    server.nclients++;
    server.stat.numconnections++;
}

/* Idle clients (`timeout`), and soft output limits that expired while the
 * client was silent. Called once per second from the server cron. */
void clientsCron(void) {
    long long now = mstime() / 1000;
    client *c = server.clients;
    while (c) {
        client *next = c->next;
        if (server.maxidletime && !c->head && now - c->last_interaction > server.maxidletime) {
            serverLog(LL_VERBOSE, "Closing idle client id=%llu", (unsigned long long)c->id);
            clientScheduleClose(c);
        } else if (c->obuf_soft_since) {
            checkOutputLimits(c);
        }
        c = next;
    }
}

void clientSetName(client *c, const char *name, size_t len) {
    zfree(c->name);
    c->name = len ? zmemdup(name, len + 1) : NULL;
    if (c->name) c->name[len] = '\0';
}

void clientInfoString(client *c, buf *out) {
    long long now = mstime() / 1000;
    bufPrintf(out,
              "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=N db=%d sub=0 "
              "psub=0 ssub=0 multi=-1 qbuf=%zu qbuf-free=%zu argv-mem=0 multi-mem=0 rbs=%zu rbp=0 "
              "obl=0 oll=%d omem=%zu tot-mem=%zu events=r cmd=%s user=default redir=-1 resp=%d "
              "lib-name=%s lib-ver=%s",
              (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
              now - c->ctime, now - c->last_interaction, c->db, c->qb.len, c->qb.cap - c->qb.len,
              c->qb.cap, c->nreqs, outputPending(c), c->qb.cap + outputPending(c),
              c->lastcmd ? c->lastcmd : "NULL", c->proto, c->lib_name ? c->lib_name : "",
              c->lib_ver ? c->lib_ver : "");
}
