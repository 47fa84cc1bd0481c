/* multi.c -- MULTI / EXEC / DISCARD, and WATCH's honest refusal.
 *
 * MULTI queues a connection's commands (each answered +QUEUED, or with its
 * error, which dooms the transaction as in Redis); EXEC runs them in order,
 * one after the other, each with its own key locks (keylock.c), and answers
 * the array of their replies. That is all it promises: there is NO
 * isolation across keys and no atomicity. Other clients may see and change
 * the keys between the queued commands, and if one fails the others still
 * take effect (its error is in EXEC's array). WATCH, which would promise
 * optimistic isolation, answers an error instead of pretending.
 *
 * Each queued command runs as a child request of the EXEC request, created
 * with this file's hooks (request.h): the child's reply goes into EXEC's
 * array (childDone), and EXEC completes when the last child did. Children
 * run from a loop (not by recursion), and one waiting for a key lock
 * starts from an event (childGranted). A child borrows EXEC's client; if
 * the client goes away, execDetach stops the running child using it.
 *
 * API: see multi.h. */
#include "multi.h"

#include <event2/buffer.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "server.h"

typedef struct queued {
    int argc;
    char **argv;
    size_t *lens;
} queued;

typedef struct multiState {
    queued *q;
    int n, cap;
    int dirty;            /* a command failed to queue: EXEC aborts */
} multiState;

/* The state of a running EXEC (its request's state). */
typedef struct execState {
    queued *q;            /* taken from the client */
    int n;
    int idx;              /* next child to start */
    int inflight;         /* a child is running or waiting for its locks */
    int looping;          /* inside execRun: completions just return */
    request *child;       /* the child running or waiting, NULL between children */
    struct evbuffer *outs;/* the children's replies, in order */
} execState;

static void freeQueued(queued *q, int n) {
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < q[i].argc; j++) zfree(q[i].argv[j]);
        zfree(q[i].argv);
        zfree(q[i].lens);
    }
    zfree(q);
}

void multiFree(client *c) {
    multiState *m = c->mstate;
    if (!m) return;
    freeQueued(m->q, m->n);
    zfree(m);
    c->mstate = NULL;
}

void multiFlagDirty(client *c) {
    if (c->mstate) ((multiState *)c->mstate)->dirty = 1;
}

void multiAbort(client *c, request *r, const char *why) {
    multiFree(c);
    addReplyErrorFormat(r, "-EXECABORT Transaction discarded because of: %s", why);
}

void multiQueue(client *c, request *r) {
    multiState *m = c->mstate;
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->q = zrealloc(m->q, sizeof(queued) * (size_t)m->cap);
    }
    queued *q = &m->q[m->n++];
    q->argc = r->argc;
    q->argv = zmalloc(sizeof(char *) * (size_t)r->argc);
    q->lens = zmalloc(sizeof(size_t) * (size_t)r->argc);
    for (int i = 0; i < r->argc; i++) {
        q->argv[i] = zmemdup(r->argv[i], r->argvlen[i] + 1);
        q->lens[i] = r->argvlen[i];
    }
    addReplyStatus(r, "QUEUED");
}

void multiCommand(request *r) {
    client *c = r->c;
    if (c && c->mstate) {
        addReplyError(r, "MULTI calls can not be nested");
        return;
    }
    if (c) c->mstate = zcalloc(sizeof(multiState));
    addReplyOK(r);
}

void discardCommand(request *r) {
    client *c = r->c;
    if (!c || !c->mstate) {
        addReplyError(r, "DISCARD without MULTI");
        return;
    }
    multiFree(c);
    addReplyOK(r);
}

void watchCommand(request *r) {
    if (r->c && r->c->mstate) {
        addReplyError(r, "WATCH inside MULTI is not allowed");
        return;
    }
    addReplyError(r, "WATCH is not supported: ringkv has no isolation across keys, so it "
                     "could not honour it (see README: MULTI/EXEC)");
}

void unwatchCommand(request *r) { addReplyOK(r); /* nothing is ever watched */ }

/* --------------------------------------------------------------- EXEC */

static void freeExec(void *p) {
    execState *e = p;
    if (e->q) freeQueued(e->q, e->n);
    if (e->outs) evbuffer_free(e->outs);
    zfree(e);
}

static void execRun(request *p);

/* Called by request.c when a child that waited for its key locks has them:
 * it starts from an event (requestRunLater). */
static void childGranted(request *child) {
    child->pending = 1;
    requestRunLater(child, NULL);
}

/* Called by request.c when a child completed: its reply joins EXEC's, and
 * the next child starts (unless execRun's loop is the caller's caller). */
static void childDone(request *child) {
    request *p = child->owner;
    execState *e = p->state;
    evbuffer_add_buffer(e->outs, child->out);
    requestFree(child);
    e->idx++;
    e->inflight = 0;
    e->child = NULL;
    if (!e->looping) execRun(p);
}

static const requestHooks childHooks = {childGranted, childDone};

/* Runs a child whose locks are held. */
static void childStart(request *child) {
    child->pending = 1;
    child->cmd->proc(child);
    requestRelease(child);
}

/* Starts children in order until one goes asynchronous; finishes EXEC
 * after the last one. */
static void execRun(request *p) {
    execState *e = p->state;
    e->looping = 1;
    while (e->idx < e->n && !e->inflight) {
        queued *q = &e->q[e->idx];
        request *child = requestCreate(&childHooks, p);
        child->c = p->c;
        child->db = p->c ? p->c->db : p->db;
        child->proto = p->proto;
        child->read_level = p->read_level;
        child->write_level = p->write_level;
        requestSetArgs(child, q->argc, q->argv, q->lens);
        child->cmd = commandLookup(q->argv[0], q->lens[0]);
        e->inflight = 1;
        e->child = child;
        int now = requestLockKeys(child);
        if (now) childStart(child); /* else childGranted starts it */
    }
    e->looping = 0;
    if (e->idx == e->n && !e->inflight && e->outs) {
        addReplyArrayLen(p, e->n);
        evbuffer_add_buffer(p->out, e->outs);
        evbuffer_free(e->outs);
        e->outs = NULL;
        requestRelease(p);
    }
}

/* The client of an EXEC went away: its running child must not use it. */
static void execDetach(request *r) {
    execState *e = r->state;
    if (e && e->child) e->child->c = NULL;
}

void execCommand(request *r) {
    client *c = r->c;
    if (!c || !c->mstate) {
        addReplyError(r, "EXEC without MULTI");
        return;
    }
    multiState *m = c->mstate;
    c->mstate = NULL;
    if (m->dirty) {
        freeQueued(m->q, m->n);
        zfree(m);
        addReplyError(r, "-EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    execState *e = requestState(r, sizeof(*e));
    r->state_free = freeExec;
    r->detach = execDetach;
    e->q = m->q;
    e->n = m->n;
    e->outs = evbuffer_new();
    zfree(m);
    r->pending++; /* released when the last child is done */
    execRun(r);
}
