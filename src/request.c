/* request.c -- requests: creation and the pool, arguments, the pending
 * count and completion, key locks, deferred runs, and the reply helpers.
 * See request.h for the life of a request and who creates one. */
#include "request.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "info.h"
#include "keylock.h"
#include "metrics.h"
#include "resp.h"
#include "server.h"

#define REQUEST_POOL_MAX 1024 /* finished requests kept for reuse */

static request *pool;  /* finished requests, reused */
static int poolLen;
static long live;      /* requests created and not freed yet */

long requestsLive(void) { return live; }

/* ---------------------------------------------------------------- requests */

request *requestCreate(const requestHooks *hooks, void *owner) {
    request *r = pool;
    if (r) {
        pool = r->next;
        poolLen--;
    } else {
        r = zcalloc(sizeof(*r));
        r->out = evbuffer_new();
        bufInit(&r->argbuf);
    }
    r->c = NULL;
    r->next = NULL;
    r->pending = 0;
    r->argc = 0;
    r->cmd = NULL;
    r->db = 0;
    r->proto = 2;
    r->start_us = ustime();
    r->state = NULL;
    r->state_free = NULL;
    r->failed = 0;
    r->hooks = hooks;
    r->owner = owner;
    r->detach = NULL;
    r->read_level = r->write_level = 0;
    r->forwarded = 0;
    live++;
    return r;
}

void requestFree(request *r) {
    live--;
    if (r->state) {
        if (r->state_free) r->state_free(r->state);
        else zfree(r->state);
        r->state = NULL;
    }
    evbuffer_drain(r->out, evbuffer_get_length(r->out));
    if (poolLen < REQUEST_POOL_MAX && r->argbuf.cap < (1 << 20)) {
        bufClear(&r->argbuf);
        r->next = pool;
        pool = r;
        poolLen++;
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

static void requestComplete(request *r) {
    keylockRelease(r);
    if (r->cmd) {
        long long us = ustime() - r->start_us;
        infoRecordCommand(r->cmd, us, r->failed);
        metricsCommand(r->cmd, us);
        slowlogMaybeAdd(r, us);
    }
    r->hooks->done(r);
}

void requestRelease(request *r) {
    if (--r->pending == 0) requestComplete(r);
}

/* ------------------------------------------------------------- key locks */

/* Called by keylock.c when a waiting request got its locks. */
static void lockGranted(request *r) { r->hooks->granted(r); }

int requestLockKeys(request *r) {
    keylockSetGrantHandler(lockGranted);
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

/* ------------------------------------------------------------ run later */

/* Requests (with their locks) to start from an event, and how. */
typedef struct laterRun {
    request *r;
    commandProc *run;
} laterRun;

static laterRun *runList;
static int runLen, runCap;
static struct event *runEv;

static void runEvent(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    while (runLen) {
        laterRun l = runList[--runLen];
        l.run(l.r);
        requestRelease(l.r);
    }
}

void requestRunLater(request *r, commandProc *run) {
    if (runLen == runCap) {
        runCap = runCap ? runCap * 2 : 16;
        runList = zrealloc(runList, sizeof(laterRun) * (size_t)runCap);
    }
    runList[runLen++] = (laterRun){r, run ? run : r->cmd->proc};
    if (!runEv) runEv = event_new(server.base, -1, 0, runEvent, NULL);
    event_active(runEv, EV_TIMEOUT, 0);
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
