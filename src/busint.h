/* busint.h -- the cluster bus's own structures, shared by its two files and
 * by no other: bus.c (connections, links, requests and replies, deadlines)
 * and bushandshake.c (HELLO, AUTH, protected mode, the bus secret).
 * Everything else uses bus.h.
 *
 * A link (outbound, one per peer address) is LINK_DOWN, LINK_CONNECTING,
 * LINK_HANDSHAKE or LINK_UP; an inbound connection is at hello 0 (HELLO
 * expected), 1 (AUTH expected) or 2 (open). When TCP (and TLS) connected,
 * bus.c calls busHandshakeStart, which moves the link to LINK_HANDSHAKE and
 * later brings it up (busLinkUp) or down (busLinkDown). bus.c
 * hands every message of an inbound connection that is not open yet to
 * busHandshakeInbound.
 *
 * API, bus.c for bushandshake.c:
 *   busLinkUp(l, proven) / busLinkDown(l, why)
 *   busSendHandshake(l, argv..., cb, pd)   written at once, not queued
 *   busConnCloseSoon(c)                    close once the output is written
 *   busCloseUnproven()                     close what opened with no secret
 * API, bushandshake.c for bus.c:
 *   busHandshakeInit() / busHandshakeRefresh()   the secret in force
 *   busHandshakeStart(l)                   send HELLO on a connected link
 *   busHandshakeInbound(c, r)              a message before the connection is open
 *   busHandshakeConnLost(c)                an inbound connection closed
 *   busHandshakeInfo(out)                  INFO lines */
#ifndef RINGKV_BUSINT_H
#define RINGKV_BUSINT_H

#include "bus.h"

#define LINK_DOWN 0       /* waiting to reconnect (backoff) */
#define LINK_CONNECTING 1 /* TCP (and TLS) connecting */
#define LINK_HANDSHAKE 2  /* HELLO (and AUTH) sent, waiting for the peer */
#define LINK_UP 3         /* requests are written */

struct bufferevent;
struct pending;

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
    struct pending *head, *tail; /* requests waiting for answers, oldest first */
    int refused;               /* the peer refused our HELLO (other cluster, wrong secret) */
    int proven;                /* up after the peer proved the bus secret (0: none was in force) */
    char nonce[33];            /* our HELLO challenge (hex) */
    busLink *next;             /* all links */
};

typedef struct busConn {
    struct bufferevent *bev;
    redisReader *reader;
    int hello;                 /* 0: HELLO expected, 1: AUTH expected, 2: open */
    int proven;                /* opened by proving the bus secret (0: none was in force) */
    int remote;                /* not loopback (or debug-untrusted-prefix): for protected-mode */
    int peerkind;              /* the secret its HELLO says it has (BUSAUTH_*) */
    char cnonce[33];           /* the peer's challenge, from its HELLO */
    char snonce[33];           /* ours, sent in the HELLO answer */
    char peer_id[41];
    char addr[64];
    /* The sender's monotonic clock, in ours: the smallest "arrival - sent"
     * seen in this window and the last (a windowed minimum, so that clock
     * drift between machines cannot build up over a long connection). */
    long long off[2];
    long long off_since;       /* when off[0]'s window started (ms) */
    int has_off;
    busReq *reqs;              /* requests not answered yet */
    int closing;               /* close once the output is written */
    struct busConn *next, *prev;
} busConn;

/* ---- bus.c, for bushandshake.c ---- */
void busLinkUp(busLink *l, int proven);
void busLinkDown(busLink *l, const char *why);
/* A handshake message: sent even though the link is not up. */
void busSendHandshake(busLink *l, int argc, const char **argv, const size_t *lens,
                      busReplyCb *cb, void *pd);
void busConnCloseSoon(busConn *c);
/* Closes every open connection and link that came up with no secret in
 * force; returns how many. */
int busCloseUnproven(void);

/* ---- bushandshake.c, for bus.c ---- */
/* At busInit: takes the secret in force and logs what protects the bus. */
void busHandshakeInit(void);
/* Every tick: follows CONFIG SET requirepass (busCloseUnproven when a
 * secret comes into force). */
void busHandshakeRefresh(void);
/* l connected: sends HELLO (state LINK_HANDSHAKE); ends in busLinkUp, or in
 * busLinkDown with l->refused set when the peer refused us. */
void busHandshakeStart(busLink *l);
/* r came on c before c was open: protected mode, HELLO, AUTH, or an error
 * and the connection closes. r is answered (or taken) here. */
void busHandshakeInbound(busConn *c, busReq *r);
/* c closed (by the peer, or an error) during its handshake: say why, if a
 * secret mismatch is the likely reason. */
void busHandshakeConnLost(busConn *c);
void busHandshakeInfo(buf *out);

#endif
