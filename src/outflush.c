/* outflush.c -- output written once per pass of the event loop.
 *
 * A bufferevent writes when the loop reports its socket writable: one
 * epoll_ctl to ask, a later loop pass to write, one epoll_ctl to stop asking,
 * and replies that go out one by one between other events' work. Redis
 * instead writes every reply of a pass together just before the loop waits
 * again (beforeSleep): a peer process asleep in epoll is woken once for many
 * replies, and nothing waits for an extra pass. The client connections and
 * the cluster bus do the same through this file.
 *
 * API:
 *   outflushEnable(bev)  a new connection: reading on, and writing as below
 *   outflushDrained(bev) the owner's write callback: back to outflushRun
 *   outflushQueue(bev)   its output is to be written at the end of this pass
 *   outflushForget(bev)  before bufferevent_free: drop it from the queue
 *   outflushRun()        the main loop, after each pass: write what is queued
 *
 * Contract with the owners:
 *   - only plain-socket bufferevents (TLS ones write through OpenSSL and are
 *     ignored here), kept with EV_WRITE disabled: the bufferevent then never
 *     writes by itself, and this file writes with evbuffer_write;
 *   - what the socket does not take now, or a write error, is handed back to
 *     the bufferevent (EV_WRITE enabled): it writes the rest when the socket
 *     is writable, or reports the error to the owner's event callback as
 *     usual; the owner's write callback (run once the output is drained)
 *     calls outflushDrained, which disables EV_WRITE again;
 *   - the queue holds borrowed pointers, so owners call outflushForget before
 *     freeing a queued bufferevent. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "outflush.h"
#include "util.h"

static int isTls(struct bufferevent *bev) { return bufferevent_openssl_get_ssl(bev) != NULL; }

void outflushEnable(struct bufferevent *bev) {
    bufferevent_enable(bev, isTls(bev) ? EV_READ | EV_WRITE : EV_READ);
}

void outflushDrained(struct bufferevent *bev) {
    if (!isTls(bev)) bufferevent_disable(bev, EV_WRITE);
}

static struct bufferevent **queue; /* borrowed; NULL = forgotten */
static int queueLen, queueCap;

void outflushQueue(struct bufferevent *bev) {
    if (queueLen && queue[queueLen - 1] == bev) return; /* the usual repeat */
    if (isTls(bev)) return;
    if (queueLen == queueCap) {
        queueCap = queueCap ? queueCap * 2 : 64;
        queue = zrealloc(queue, sizeof(*queue) * (size_t)queueCap);
    }
    queue[queueLen++] = bev;
}

void outflushForget(struct bufferevent *bev) {
    for (int i = 0; i < queueLen; i++)
        if (queue[i] == bev) queue[i] = NULL;
}

void outflushRun(void) {
    /* entries are never added while this runs: writing calls no callback */
    for (int i = 0; i < queueLen; i++) {
        struct bufferevent *bev = queue[i];
        if (!bev) continue;
        struct evbuffer *out = bufferevent_get_output(bev);
        if (evbuffer_get_length(out) == 0) continue; /* a repeat, already written */
        if (bufferevent_get_enabled(bev) & EV_WRITE) continue; /* the bufferevent has it */
        /* a socket bufferevent keeps its output's front frozen so that only
         * it drains the buffer; we are draining on its behalf */
        evbuffer_unfreeze(out, 1);
        evbuffer_write(out, bufferevent_getfd(bev));
        evbuffer_freeze(out, 1);
        if (evbuffer_get_length(out) > 0) bufferevent_enable(bev, EV_WRITE);
    }
    queueLen = 0;
}
