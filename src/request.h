/* request.h -- one command in flight: its arguments, the reply being built,
 * its pending count, and what its creator wants done when it can start and
 * when it is complete.
 *
 * A request is created by whoever received the command: a client connection
 * (client.c), an EXEC running a queued command (multi.c), or the cluster bus
 * when another node forwards a command here (replica.c, CMD). Each passes
 * its hooks, so that this file and the command handlers never need to know
 * which it was. It lives from creation until its done hook hands it back to
 * requestFree; it may complete out of order (a write waits for the storage
 * commit, a cluster read for its replicas).
 *
 * Life of a request:
 *   requestCreate(hooks, owner) -> arguments set -> its key locks taken
 *   (requestLockKeys; if another request holds one, hooks->granted runs when
 *   they are free) -> the handler runs with r->pending = 1 and may start
 *   asynchronous operations, each holding one more pending count ->
 *   requestRelease drops counts; at zero the request is complete: its locks
 *   go, its stats are counted and hooks->done takes it.
 *
 * API:
 *   requestCreate(hooks, owner) / requestFree(r)
 *   requestSetArgs(r, argc, argv, lens)   arguments (copied)
 *   requestState(r, size)                 the handler's continuation state
 *   requestLockKeys(r)                    the keys' locks (keylock.c)
 *   requestRelease(r)                     one async operation done
 *   requestRunLater(r, run)               run r from an event (locks held)
 *   addReply*(r, ...)                     the reply, into r->out
 *   argIs / getLongLongFromArg / getLongDoubleFromArg   argument parsing
 *
 * Invariants: hooks->done runs exactly once per request, after its last
 * pending count was released; a request's key locks are released before
 * it. The reply helpers only append to r->out: whoever takes the request in
 * done decides where the bytes go. */
#ifndef RINGKV_REQUEST_H
#define RINGKV_REQUEST_H

#include <stddef.h>

#include "util.h"

struct evbuffer;
struct command;
struct client;

typedef struct request request;
typedef void commandProc(request *r);

/* What the creator of a request wants done at its two milestones. */
typedef struct requestHooks {
    /* r waited for its key locks and now holds them: start it. Runs inside
     * keylockRelease of another request: defer the start to an event
     * (requestRunLater, or the creator's own). */
    void (*granted)(request *r);
    /* r is complete (no pending count left): r->out holds its whole reply.
     * The hook takes r and frees it with requestFree, now or later. */
    void (*done)(request *r);
} requestHooks;

struct request {
    struct client *c;       /* the connection it came from, NULL for a bus request; set
                               to NULL when the client goes away (the reply is dropped) */
    request *next;          /* next request of the same client, in arrival order */
    struct evbuffer *out;   /* the reply, built here */
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
    const requestHooks *hooks; /* its creator's: what to do when granted, when done */
    void *owner;            /* the creator's own: EXEC's request (multi.c), the bus
                               request a CMD answers (replica.c), NULL for a client */
    void (*detach)(request *r); /* set by a handler that passed r->c on (EXEC to its
                               children): the client is going away, stop using it */
    int read_level;         /* consistency for this request (0 = read-quorum) */
    int write_level;        /* (0 = write-quorum) */
    int forwarded;          /* run here for another node: never forward again */
};

/* A request with no arguments, no client and pending 0, from the pool.
 * hooks is borrowed for the request's life (a static table). */
request *requestCreate(const requestHooks *hooks, void *owner);
/* Requests created and not freed yet (a draining shutdown waits for 0). */
long requestsLive(void);
/* Frees r (its state too) or keeps it in the pool. Only the done hook, or
 * whoever holds a request that never started, calls it. */
void requestFree(request *r);
/* Copies argc arguments into r (borrowed for the call). */
void requestSetArgs(request *r, int argc, char **argv, const size_t *lens);
/* Zeroed state of size bytes, freed with the request (replaces any). */
void *requestState(request *r, size_t size);
/* Takes r's key locks (keylock.c); 1 if granted now, else r waits and its
 * hooks->granted runs when they are. */
int requestLockKeys(request *r);
/* Called by async completions: drops one pending count, completes at zero. */
void requestRelease(request *r);
/* Runs run(r) (r->cmd->proc if NULL) from an event, outside the current
 * stack, with r's pending count held, then releases it. */
void requestRunLater(request *r, commandProc *run);

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

/* ---- shared replies ---- */
#define ERR_SYNTAX "syntax error"
#define ERR_NOT_INT "value is not an integer or out of range"
#define ERR_NOT_FLOAT "value is not a valid float"
#define ERR_WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value"
#define ERR_NOAUTH "-NOAUTH Authentication required."
#define ERR_DB_INDEX "DB index is out of range"
#define ERR_OVERFLOW "increment or decrement would overflow"
#define ERR_NOKEY "no such key"

/* ---- argument parsing: on failure the error is replied, C_ERR returned ---- */
int getLongLongFromArg(request *r, int i, long long *v, const char *err);
int getLongDoubleFromArg(request *r, int i, long double *v, const char *err);
int argIs(request *r, int i, const char *s); /* case-insensitive */

#endif
