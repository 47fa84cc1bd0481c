/* bus.h -- the cluster bus: RESP over TCP between nodes, on the server's
 * event loop. libevent bufferevents carry the bytes, hiredis's reader parses
 * them and its formatter writes them (its async context is not used).
 *
 * Roles: every node listens on its bus port for inbound connections, and
 * keeps one outbound link per peer address for its own requests. A request
 * is [name, id, args...]; the answer comes back on the same connection as
 * ["REPLY", id, "OK"|error, values...], matched by id, in any order.
 * Outbound links bind to the node's own address (so tests can cut pairs of
 * 127.0.0.x addresses with iptables), reconnect with backoff, and every
 * request has a deadline: its callback runs exactly once, with the answer,
 * or with an error on timeout or when the link drops.
 *
 * The first message on a connection is HELLO (cluster name, partition
 * count, sender id; bushandshake.c): a peer of another cluster is refused
 * with a log line.
 * The bus is as protected as the client port (busauth.h): with a secret in
 * force (cluster-secret, else a key derived from requirepass) both ends
 * prove it over each other's random nonce before anything else; with none,
 * protected-mode accepts peers on the loopback interface only (or with a
 * verified TLS certificate). Peers whose secrets differ refuse each other,
 * and both logs say which setting differs.
 *
 * API:
 *   busInit()                          listen on the bus port
 *   busLinkGet(host, busport)          the outbound link to an address
 *   busSend(link, argv..., cb, pd, ms) a request; cb(res, pd) once
 *   busLinkConnected(link)             handshake done, link usable
 *   busRegister(name, handler)         an internal command (table in bus.c users)
 *   busReplyOK/busReplyError/busReplyArgs(req, ...)   answer an inbound request
 *   busInfo(out)                       INFO lines */
#ifndef RINGKV_BUS_H
#define RINGKV_BUS_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct busLink busLink;
typedef struct busReq busReq;

/* What became of a request, as hiredis reports a reader's error: a kind
 * the caller decides on, and a text for people only (never matched).
 * Whether a failed request may have taken effect at the peer is what a
 * caller needs to know before it sends the request elsewhere or runs it
 * itself: only BUS_NOT_SENT says it cannot have. */
#define BUS_OK 0       /* answered OK: reply holds the REPLY array (values from element[3]) */
#define BUS_NOT_SENT 1 /* never written to the peer (its link was down, or went down or
                          timed out with the request still queued): it cannot take effect */
#define BUS_LOST 2     /* written, then the link failed before the answer: unknown outcome */
#define BUS_TIMEOUT 3  /* written, no answer by the deadline: unknown outcome (a late
                          arrival is refused by the peer, see busReqLate) */
#define BUS_REMOTE 4   /* the peer answered with an error: code names it */

typedef struct busResult {
    int status;              /* BUS_* */
    const redisReply *reply; /* BUS_OK: the answer; NULL otherwise */
    const char *code;        /* BUS_REMOTE: the error's first word without a leading '-'
                                ("NOTREPLICA", "LATE", "NOQUORUM", ...); "" otherwise */
    const char *errstr;      /* a failure, for people (logs, client error texts); "" on OK */
} busResult;

/* Called exactly once per request. res and everything it points to are
 * borrowed for the call. */
typedef void busReplyCb(const busResult *res, void *pd);
/* res is a remote error with this code. */
int busResultIs(const busResult *res, const char *code);

/* An inbound request: argv[0] is the name, argv[1] the id, then args.
 * The handler answers exactly once with busReply*, now or later; req stays
 * valid until then (if the connection dies first, the answer is dropped). */
struct busReq {
    redisReply *msg;     /* the whole message (owned until answered) */
    int argc;            /* msg->elements */
    const char **argv;   /* msg->element[i]->str */
    const size_t *lens;  /* lengths */
    struct busConn *conn;/* NULL once the connection is gone */
    char peer_id[41];    /* the sender's node id (from its HELLO) */
    long long deadline;  /* when its sender gives up, in our monotonic ms (0: unknown) */
    busReq *next;        /* in the connection's list of open requests */
    busReq *prev;
};

typedef void busHandler(busReq *req);

int busInit(void);
void busShutdown(void);
busLink *busLinkGet(const char *host, int busport);
int busLinkConnected(const busLink *l);
/* The peer is known alive: reconnect a link in backoff at once. */
void busLinkKick(busLink *l);
/* Not in backoff after a failure: a request sent now will be attempted. */
int busLinkUsable(const busLink *l);
const char *busLinkAddr(const busLink *l);
/* The default timeout of a request of this many bytes (busSend). */
long long busTimeoutFor(size_t bytes);
/* argv/lens borrowed for the call. timeout_ms <= 0 uses replica-timeout, and
 * as much again per 256 KB of the request (a big batch takes longer to
 * apply). */
void busSend(busLink *l, int argc, const char **argv, const size_t *lens, busReplyCb *cb, void *pd,
             long long timeout_ms);
void busRegister(const char *name, busHandler *h);
/* The request's sender has given up on it by now (see the id token in
 * bus.c): a handler that waited must not let it take effect. */
int busReqLate(const busReq *req);
void busReplyOK(busReq *req);
void busReplyError(busReq *req, const char *err);
void busReplyArgs(busReq *req, int argc, const char **argv, const size_t *lens);
void busInfo(buf *out);
/* Requests sent and not answered yet. */
size_t busPending(void);
/* Drops links to addresses not in use any more (called by gossip). */
void busLinkRelease(busLink *l);

#endif
