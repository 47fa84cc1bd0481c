/* busargs.c -- a bus request's or reply's argument list; see busargs.h. */
#include "busargs.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"

void busArgsInit(busArgs *a) {
    a->argc = 0;
    a->cap = BUSARGS_INLINE;
    a->argv = a->inl_argv;
    a->lens = a->inl_lens;
    a->nints = 0;
}

void busArgsBytes(busArgs *a, const char *p, size_t len) {
    if (a->argc == a->cap) {
        int cap = a->cap * 2;
        const char **argv = zmalloc(sizeof(char *) * (size_t)cap);
        size_t *lens = zmalloc(sizeof(size_t) * (size_t)cap);
        memcpy(argv, a->argv, sizeof(char *) * (size_t)a->argc);
        memcpy(lens, a->lens, sizeof(size_t) * (size_t)a->argc);
        busArgsFree(a);
        a->argv = argv;
        a->lens = lens;
        a->cap = cap;
    }
    a->argv[a->argc] = p ? p : "";
    a->lens[a->argc++] = len;
}

void busArgsStr(busArgs *a, const char *s) { busArgsBytes(a, s, strlen(s)); }

void busArgsInt(busArgs *a, long long v) {
    if (a->nints == BUSARGS_INTS) { /* a builder's bug: raise BUSARGS_INTS */
        serverLog(LL_WARNING, "busArgsInt: more than %d integers in one bus message", BUSARGS_INTS);
        abort();
    }
    char *s = a->ints[a->nints++];
    busArgsBytes(a, s, (size_t)ll2string(s, 24, v));
}

void busArgsFree(busArgs *a) {
    if (a->argv != a->inl_argv) {
        zfree(a->argv);
        zfree(a->lens);
    }
    a->argv = a->inl_argv;
    a->lens = a->inl_lens;
}

void busArgsSend(busArgs *a, busLink *l, busReplyCb *cb, void *pd, long long timeout_ms) {
    busSend(l, a->argc, a->argv, a->lens, cb, pd, timeout_ms);
    busArgsFree(a);
}

void busArgsReply(busArgs *a, busReq *req) {
    busReplyArgs(req, a->argc, a->argv, a->lens);
    busArgsFree(a);
}

int busArgDb(const busReq *req, int i) {
    long long db;
    if (i >= req->argc || !string2ll(req->argv[i], req->lens[i], &db) || db < 0 ||
        db >= server.databases)
        return -1;
    return (int)db;
}
