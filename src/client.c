/* client.c -- client connections: read, parse, dispatch, the ordered reply
 * queue, output limits, and the reply helpers.
 *
 * Life of a request:
 *   bytes -> c->qb -> respParse -> requestCreate (arguments copied, request
 *   queued at c->tail) -> handler runs with r->pending = 1 -> the handler may
 *   start asynchronous operations, each holding one more pending count ->
 *   requestRelease drops counts; at zero the request is complete ->
 *   clientFlush moves the replies of the completed prefix of the queue to
 *   the connection, in arrival order, and recycles those requests.
 *
 * Invariants:
 *   - a request's reply leaves only when every earlier request of the same
 *     client has left (pipelining order, even when replicas answer out of
 *     order);
 *   - a client is freed only by closeEvent (never inside its own callbacks);
 *     requests still in flight are detached (r->c = NULL) and dropped when
 *     they complete;
 *   - while a client has more than MAX_INFLIGHT requests queued, its input
 *     is not parsed (backpressure), and its unread output is bounded by
 *     client-output-buffer-limit, beyond which it is disconnected. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus.h"
#include "commands.h"
#include "forward.h"
#include "keylock.h"
#include "metrics.h"
#include "outflush.h"
#include "replica.h"
#include "tls.h"
#include "server.h"

#define MAX_INFLIGHT 4096     /* queued requests per client before reading pauses */
#define REQUEST_POOL_MAX 1024 /* finished requests kept for reuse */
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

request *requestCreate(client *c) {
    request *r = server.free_requests;
    if (r) {
        server.free_requests = r->next;
        server.free_requests_len--;
    } else {
        r = zcalloc(sizeof(*r));
        r->out = evbuffer_new();
        bufInit(&r->argbuf);
    }
    r->c = c;
    r->next = NULL;
    r->pending = 0;
    r->argc = 0;
    r->cmd = NULL;
    r->db = c ? c->db : 0;
    r->proto = c ? c->proto : 2;
    r->start_us = ustime();
    r->state = NULL;
    r->state_free = NULL;
    r->failed = 0;
    r->parent = NULL;
    r->read_level = r->write_level = 0;
    r->forwarded = 0;
    r->busreq = NULL;
    if (c) {
        if (c->tail) c->tail->next = r;
        else c->head = r;
        c->tail = r;
        c->nreqs++;
    }
    return r;
}

static void requestFree(request *r) {
    if (r->state) {
        if (r->state_free) r->state_free(r->state);
        else zfree(r->state);
        r->state = NULL;
    }
    evbuffer_drain(r->out, evbuffer_get_length(r->out));
    if (server.free_requests_len < REQUEST_POOL_MAX && r->argbuf.cap < (1 << 20)) {
        bufClear(&r->argbuf);
        r->next = server.free_requests;
        server.free_requests = r;
        server.free_requests_len++;
        return;
    }
    evbuffer_free(r->out);
    bufFree(&r->argbuf);
    zfree(r->argv);
    zfree(r->argvlen);
    zfree(r);
}

void *requestState(request *r, size_t size) {
    if (r->state) {
        if (r->state_free) r->state_free(r->state);
        else zfree(r->state);
    }
    r->state = zcalloc(size);
    r->state_free = NULL;
    return r->state;
}

void requestSetArgs(request *r, int argc, char **argv, const size_t *lens) {
    if (r->argvcap < argc) {
        r->argv = zrealloc(r->argv, sizeof(char *) * (size_t)argc);
        r->argvlen = zrealloc(r->argvlen, sizeof(size_t) * (size_t)argc);
        r->argvcap = argc;
    }
    size_t total = 0;
    for (int i = 0; i < argc; i++) total += lens[i] + 1;
    bufClear(&r->argbuf);
    bufReserve(&r->argbuf, total);
    size_t off = 0;
    for (int i = 0; i < argc; i++) {
        memcpy(r->argbuf.ptr + off, argv[i], lens[i]);
        r->argbuf.ptr[off + lens[i]] = '\0';
        r->argvlen[i] = lens[i];
        off += lens[i] + 1;
    }
    off = 0;
    for (int i = 0; i < argc; i++) {
        r->argv[i] = r->argbuf.ptr + off;
        off += lens[i] + 1;
    }
    r->argbuf.len = total;
    r->argc = argc;
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

static void clientFlush(client *c);

static void requestComplete(request *r) {
    keylockRelease(r);
    if (r->cmd) {
        long long us = ustime() - r->start_us;
        infoRecordCommand(r->cmd, us, r->failed);
        metricsCommand(r->cmd, us);
        slowlogMaybeAdd(r, us);
    }
    if (r->parent) { /* a command of an EXEC: its reply goes into EXEC's */
        multiChildDone(r->parent, r);
        requestFree(r);
        return;
    }
    if (r->busreq) { /* run for another node: the reply goes back over the bus */
        replicaCommandDone(r);
        requestFree(r);
        return;
    }
    if (r->c) clientFlush(r->c);
    else requestFree(r); /* its client is gone: nobody to answer */
}

void requestRelease(request *r) {
    if (--r->pending == 0) requestComplete(r);
}

/* ----------------------------------------------------------------- replies */

void addReplyError(request *r, const char *err) {
    respAddError(r->out, err);
    r->failed = 1;
    server.stat.total_error_replies++;
}

void addReplyErrorFormat(request *r, const char *fmt, ...) {
    char b[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof(b), fmt, ap);
    va_end(ap);
    addReplyError(r, b);
}

void addReplyErrorArity(request *r) {
    addReplyErrorFormat(r, "wrong number of arguments for '%s' command",
                        r->cmd ? r->cmd->name : r->argv[0]);
}

void addReplyStatus(request *r, const char *s) { respAddStatus(r->out, s); }
void addReplyOK(request *r) { respAddRaw(r->out, "+OK\r\n", 5); }
void addReplyInteger(request *r, long long v) { respAddInteger(r->out, v); }
void addReplyBulk(request *r, const char *p, size_t len) { respAddBulk(r->out, p, len); }
void addReplyBulkCString(request *r, const char *s) { respAddBulkCString(r->out, s); }
void addReplyNull(request *r) { respAddNull(r->out, r->proto); }
void addReplyNullArray(request *r) { respAddNullArray(r->out, r->proto); }
void addReplyArrayLen(request *r, long long n) { respAddArrayLen(r->out, n); }
void addReplyMapLen(request *r, long long n) { respAddMapLen(r->out, r->proto, n); }
void addReplySetLen(request *r, long long n) { respAddSetLen(r->out, r->proto, n); }
void addReplyDouble(request *r, double d) { respAddDouble(r->out, r->proto, d); }
void addReplyHelp(request *r, const char *const *lines) {
    long long n = 0;
    while (lines[n]) n++;
    addReplyArrayLen(r, n);
    for (long long i = 0; i < n; i++) addReplyStatus(r, lines[i]);
}

void addReplyVerbatim(request *r, const char *p, size_t len) {
    respAddVerbatim(r->out, r->proto, p, len, "txt");
}

/* ------------------------------------------------------------ arg helpers */

int argIs(request *r, int i, const char *s) { return i < r->argc && !strcasecmp(r->argv[i], s); }

int getLongLongFromArg(request *r, int i, long long *v, const char *err) {
    if (string2ll(r->argv[i], r->argvlen[i], v)) return C_OK;
    addReplyError(r, err ? err : ERR_NOT_INT);
    return C_ERR;
}

int getLongDoubleFromArg(request *r, int i, long double *v, const char *err) {
    if (string2ld(r->argv[i], r->argvlen[i], v)) return C_OK;
    addReplyError(r, err ? err : ERR_NOT_FLOAT);
    return C_ERR;
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
            if (r->cmd && r->cmd->proc == execCommand) multiDetach(r);
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
        if (cmd->proc == execCommand) { /* as Redis: a rejected EXEC ends the transaction */
            multiFree(c);
            addReplyErrorFormat(r, "-EXECABORT Transaction discarded because of: wrong number of "
                                   "arguments for '%s' command", cmd->name);
        } else {
            addReplyErrorFormat(r, "wrong number of arguments for '%s' command", cmd->name);
        }
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

int requestLockKeys(request *r) {
    int idx[64], *ip = idx, mode;
    if (r->argc > 64) ip = zmalloc(sizeof(int) * (size_t)r->argc);
    int n = commandKeys(r->cmd, r->argc, r->argv, ip, &mode);
    int ok = 1;
    if (n > 0) {
        char *kk[64], **keys = n > 64 ? zmalloc(sizeof(char *) * (size_t)n) : kk;
        size_t kl[64], *lens = n > 64 ? zmalloc(sizeof(size_t) * (size_t)n) : kl;
        for (int i = 0; i < n; i++) {
            keys[i] = r->argv[ip[i]];
            lens[i] = r->argvlen[ip[i]];
        }
        ok = keylockAcquire(r, r->db, keys, lens, n, mode);
        if (keys != kk) {
            zfree(keys);
            zfree(lens);
        }
    }
    if (ip != idx) zfree(ip);
    return ok;
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
        requestRun(r);
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

void requestRun(request *r) {
    if (!forwardCommand(r)) r->cmd->proc(r);
}

/* Requests (with their locks) to start from an event. */
static request **runList;
static int runLen, runCap;
static struct event *runEv;

static void runEvent(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    while (runLen) {
        request *r = runList[--runLen];
        if (r->busreq && busReqLate(r->busreq)) /* waited past its sender's deadline */
            addReplyError(r, "-LATE the command waited past its sender's deadline; not run");
        else r->cmd->proc(r);
        requestRelease(r);
    }
}

void requestRunLater(request *r) {
    if (runLen == runCap) {
        runCap = runCap ? runCap * 2 : 16;
        runList = zrealloc(runList, sizeof(request *) * (size_t)runCap);
    }
    runList[runLen++] = r;
    if (!runEv) runEv = event_new(server.base, -1, 0, runEvent, NULL);
    event_active(runEv, EV_TIMEOUT, 0);
}

static void lockGranted(request *r) {
    if (r->parent) multiChildGranted(r);
    else if (r->busreq) requestRunLater(r);
    else if (r->c && r->c->waiting == r) scheduleResume(r->c);
}

static void protocolError(client *c, const char *err) {
    request *r = requestCreate(c);
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
            request *r = requestCreate(c);
            copyArgs(r, c, base);
            r->pending = 1;
            respParserReset(&c->parser);
            pos += consumed;
            int ready = prepare(c, r);
            if (c->mstate && !(ready && multiPassThrough(r))) {
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
            if (ready) requestRun(r);
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
    keylockSetGrantHandler(lockGranted);
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
