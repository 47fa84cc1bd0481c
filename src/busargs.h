/* busargs.h -- one way to build the arguments of a cluster-bus request or
 * reply: push strings, byte ranges and integers, then send (busSend) or
 * answer (busReplyArgs). Replaces the hand-built argv/lens arrays and
 * their "char dbs[8]" number buffers at each call site. Also the one
 * reading of a db number from an inbound request.
 *
 * API:
 *   busArgsInit(a)                 an empty list
 *   busArgsStr(a, s)               a NUL-terminated string (borrowed)
 *   busArgsBytes(a, p, len)        len bytes at p (borrowed)
 *   busArgsInt(a, v)               an integer, in decimal (copied)
 *   busArgsSend(a, link, cb, pd, timeout_ms)   busSend, then busArgsFree
 *   busArgsReply(a, req)           busReplyArgs, then busArgsFree
 *   busArgsFree(a)                 releases what the list allocated
 *   busArgDb(req, i)               argument i of a request as a db number
 *
 * Conventions: a busArgs lives on its builder's stack and is never copied
 * (it points into itself); borrowed bytes must stay valid until it is sent
 * or answered (bus.c copies them then). Up to BUSARGS_INTS integers. */
#ifndef RINGKV_BUSARGS_H
#define RINGKV_BUSARGS_H

#include "bus.h"

#define BUSARGS_INLINE 8 /* arguments held without an allocation */
#define BUSARGS_INTS 6   /* integers a list can hold */

typedef struct busArgs {
    int argc;                            /* arguments pushed */
    int cap;                             /* room in argv/lens */
    const char **argv;                   /* inl_argv, or allocated */
    size_t *lens;                        /* inl_lens, or allocated */
    const char *inl_argv[BUSARGS_INLINE];
    size_t inl_lens[BUSARGS_INLINE];
    int nints;                           /* integers pushed */
    char ints[BUSARGS_INTS][24];         /* their decimal text */
} busArgs;

void busArgsInit(busArgs *a);
void busArgsStr(busArgs *a, const char *s);
void busArgsBytes(busArgs *a, const char *p, size_t len);
void busArgsInt(busArgs *a, long long v);
void busArgsSend(busArgs *a, busLink *l, busReplyCb *cb, void *pd, long long timeout_ms);
void busArgsReply(busArgs *a, busReq *req);
void busArgsFree(busArgs *a);
/* 0..databases-1, or -1 if argument i is missing or not one. */
int busArgDb(const busReq *req, int i);

#endif
