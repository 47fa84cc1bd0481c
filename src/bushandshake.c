/* bushandshake.c -- the cluster bus's handshake: HELLO (same cluster,
 * same partition count, not ourselves), the bus secret's challenge and
 * response (AUTH), protected mode, and the secret in force. See bus.h for
 * what protects the bus, busauth.h for the pure parts (the secret's kinds,
 * its derivation from requirepass, the proofs), busint.h for how this file
 * and bus.c share a link and a connection.
 *
 * Invariants:
 *   - an inbound connection answers nothing but HELLO until HELLO succeeded
 *     (and, with a bus secret in force, AUTH); bus.c hands every message
 *     before that to busHandshakeInbound;
 *   - what a peer must show at its handshake follows the configuration in
 *     force then (busauth.h): cluster-secret, else a key derived from
 *     requirepass, else nothing but a loopback address while protected-mode
 *     is on (or a verified TLS certificate);
 *   - a connection or link that came up with no secret in force is closed as
 *     soon as one comes into force (CONFIG SET requirepass): nothing proved
 *     that its peer knows it. One that proved a secret is kept when the
 *     password changes, as clients stay logged in (see busHandshakeRefresh);
 *   - the secret (and the password it may come from) never crosses the wire:
 *     each side proves it with an HMAC over the other's random nonce.
 *
 * The handshake, one inbound connection (the sender's link does the mirror:
 * busHandshakeStart, helloDone, authDone):
 *   accepted --first message, protected-mode refuses--> error, closed
 *            (protectedRefuse)
 *   accepted --HELLO of another cluster, or whose secret kind cannot match
 *            ours--> "HELLO refused by ...: why", closed (helloRefuse)
 *   accepted --HELLO, no secret in force--> open (hello 2, not proven)
 *   accepted --HELLO with a nonce, secret--> AUTH expected (hello 1): we sent
 *            our nonce and our proof over the peer's nonce (helloHandler)
 *   hello 1 --AUTH with the peer's proof over ours--> open (hello 2, proven)
 *   hello 1 --the peer closes (its check of our proof failed)--> logged
 *            (busHandshakeConnLost)
 *   anything else before open --> error, closed (busHandshakeInbound,
 *            authHandler) */
#include "busint.h"

#include <stdio.h>
#include <string.h>

#include "busauth.h"
#include "server.h"
#include "tls.h"

static struct {
    int started;               /* busHandshakeInit ran: connections may exist */
    long long refused;         /* our HELLO or AUTH refused by a peer */
    long long inbound_refused; /* inbound connections turned away (handshake or protected-mode) */
} hs;

/* The secret in force for handshakes (busauth.h). busHandshakeRefresh() follows
 * the configuration: cluster-secret is fixed at startup, requirepass may
 * change with CONFIG SET at any time (checked every tick). */
static struct {
    int kind;                               /* BUSAUTH_* */
    const unsigned char *key;               /* the HMAC key: server.cluster_secret or derived */
    size_t keylen;
    unsigned char derived[BUSAUTH_KEY_LEN]; /* derived from pass */
    char *pass;                             /* copy of the requirepass derived from, or NULL */
} sec;

/* HMAC-SHA256(bus secret, role|a|b) in hex: the handshake's proofs. The
 * secret (and the password it may come from) never crosses the wire. */
static void proof(const char *role, const char *a, const char *b, char *out) {
    busauthProof(sec.key, sec.keylen, role, a, b, out);
}

static int secretSet(void) { return sec.kind != BUSAUTH_NONE; }

static void helloHandler(busReq *req);
static void helloRefuse(busReq *req, const char *why, const char *peerwhy);
static void protectedRefuse(busReq *req);
static void authHandler(busReq *req);

/* --------------------------------------------------------- outbound side */

/* The peer refused us (or we it): l stops retrying for a while. */
static void refuse(busLink *l, const char *why) {
    l->refused = 1;
    hs.refused++;
    serverLog(LL_WARNING, "Cluster bus peer %s: %s", l->addr, why);
    if (l->state != LINK_DOWN) busLinkDown(l, why);
}

/* A handshake step failed: the peer's refusal (its error to HELLO or AUTH,
 * or protected-mode's DENIED: another cluster, another secret, a remote
 * peer without one) stops retrying for a while; anything else takes the
 * link down to reconnect. Decided on the error's code, never its text. */
static void handshakeFailed(busLink *l, const busResult *res) {
    if (busResultIs(res, "HELLO") || busResultIs(res, "AUTH") || busResultIs(res, "DENIED"))
        refuse(l, res->errstr);
    else
        busLinkDown(l, res->errstr[0] ? res->errstr : "handshake failed");
}

static void authDone(const busResult *res, void *pd) {
    busLink *l = pd;
    if (l->state != LINK_HANDSHAKE) return;
    if (res->status != BUS_OK) handshakeFailed(l, res);
    else busLinkUp(l, 1);
}

/* HELLO's answer: [peer id, its secret kind] or, with a bus secret, [peer
 * id, its challenge, its proof of the secret over ours, its secret kind]
 * (an older ringkv leaves the kind out). */
static void helloDone(const busResult *res, void *pd) {
    busLink *l = pd;
    if (l->state != LINK_HANDSHAKE) return;
    if (res->status != BUS_OK) {
        handshakeFailed(l, res);
        return;
    }
    const redisReply *reply = res->reply;
    int peersecret = reply->elements >= 6;
    size_t ki = peersecret ? 6 : 4;
    int peerkind = peersecret ? BUSAUTH_UNKNOWN : BUSAUTH_NONE;
    if (reply->elements > ki && reply->element[ki]->type == REDIS_REPLY_STRING)
        peerkind = busauthKindParse(reply->element[ki]->str, reply->element[ki]->len);
    char why[400], msg[460];
    if (secretSet() != peersecret) {
        busauthMismatch(sec.kind, peersecret ? peerkind : BUSAUTH_NONE, "this node", "the peer",
                        why, sizeof(why));
        snprintf(msg, sizeof(msg), "refusing it: %s", why);
        refuse(l, msg);
        return;
    }
    if (!secretSet()) {
        busLinkUp(l, 0);
        return;
    }
    const char *snonce = reply->element[4]->str;
    char expect[65], mine[65];
    proof("server", l->nonce, snonce, expect);
    if (reply->element[4]->len != 32 ||
        !busauthProofEqual(expect, reply->element[5]->str, reply->element[5]->len)) {
        busauthMismatch(sec.kind, peerkind, "this node", "the peer", why, sizeof(why));
        snprintf(msg, sizeof(msg), "it failed the bus secret challenge: %s", why);
        refuse(l, msg);
        return;
    }
    proof("client", snonce, l->nonce, mine);
    const char *argv[2] = {"AUTH", mine};
    size_t lens[2] = {4, 64};
    busSendHandshake(l, 2, argv, lens, authDone, l);
}

/* HELLO cluster-name Q node-id host port busport nonce kind */
void busHandshakeStart(busLink *l) {
    l->state = LINK_HANDSHAKE;
    getRandomHex(l->nonce, 32);
    l->nonce[32] = '\0';
    char q[16], port[16], busport[16];
    snprintf(q, sizeof(q), "%d", server.ring_partitions);
    snprintf(port, sizeof(port), "%d", server.port);
    snprintf(busport, sizeof(busport), "%d", server.bus_port);
    /* the kind of our secret goes last: a peer whose secret differs can say
     * which setting to change (an older ringkv ignores it) */
    const char *argv[] = {"HELLO", server.cluster_name, q, server.node_id, server.announce_host,
                          port, busport, l->nonce, busauthKindName(sec.kind)};
    size_t lens[9];
    for (int i = 0; i < 9; i++) lens[i] = strlen(argv[i]);
    busSendHandshake(l, 9, argv, lens, helloDone, l);
}

/* ---------------------------------------------------------- inbound side */

void busHandshakeInbound(busConn *c, busReq *r) {
    if (c->hello == 0 && busauthProtectedRefuses(server.protected_mode, sec.kind,
                                                 tlsClusterEnabled(), c->remote)) {
        protectedRefuse(r);
    } else if (c->hello == 0 && !strcmp(r->argv[0], "HELLO")) {
        helloHandler(r);
    } else if (c->hello == 1 && !strcmp(r->argv[0], "AUTH")) {
        authHandler(r);
    } else {
        serverLog(LL_WARNING, "Cluster bus connection from %s sent %.20s before %s: closed",
                  c->addr, r->argv[0], c->hello == 0 ? "HELLO" : "AUTH");
        hs.inbound_refused++;
        busReplyError(r, c->hello == 0 ? "HELLO expected first on the cluster bus"
                                       : "AUTH expected: this node has a bus secret "
                                         "(cluster-secret or requirepass)");
        busConnCloseSoon(c);
    }
}

static void helloHandler(busReq *r) {
    busConn *c = r->conn;
    /* HELLO id cluster-name Q node-id host port busport */
    if (r->argc < 8) {
        busReplyError(r, "HELLO malformed");
        busConnCloseSoon(c);
        return;
    }
    char why[256] = "";
    long long q = strtoll(r->argv[3], NULL, 10);
    if (strcmp(r->argv[2], server.cluster_name) != 0) {
        snprintf(why, sizeof(why), "cluster-name '%.64s' differs from ours '%.64s'", r->argv[2],
                 server.cluster_name);
    } else if (q != server.ring_partitions) {
        snprintf(why, sizeof(why), "ring-partitions %lld differs from ours %d", q,
                 server.ring_partitions);
    } else if (!strcmp(r->argv[4], server.node_id)) {
        snprintf(why, sizeof(why), "it has our own node id %.40s", server.node_id);
    }
    /* HELLO ... nonce kind: the kind of secret the peer has (an older
     * ringkv does not say). One side with a secret and the other without
     * can never agree: refuse now, saying which setting differs. */
    c->peerkind = r->argc >= 10 ? busauthKindParse(r->argv[9], r->lens[9]) : BUSAUTH_UNKNOWN;
    char peerwhy[400] = "";
    int known = c->peerkind != BUSAUTH_UNKNOWN;
    if (!why[0] && known && secretSet() != (c->peerkind != BUSAUTH_NONE)) {
        char us[64];
        snprintf(us, sizeof(us), "node %.40s", server.node_id);
        busauthMismatch(sec.kind, c->peerkind, "this node", "the peer", why, sizeof(why));
        busauthMismatch(sec.kind, c->peerkind, us, "this node", peerwhy, sizeof(peerwhy));
    }
    if (!why[0] && secretSet() && (r->argc < 9 || r->lens[8] != 32)) {
        /* no challenge: a hand-made HELLO, or a peer with no secret at all */
        snprintf(why, sizeof(why), "no challenge in its HELLO: this node requires a bus secret "
                 "(it has %s)", sec.kind == BUSAUTH_CLUSTER_SECRET ? "a cluster-secret"
                 : "requirepass and no cluster-secret: the bus secret is derived from the password");
    }
    if (why[0]) {
        helloRefuse(r, why, peerwhy[0] ? peerwhy : why);
        return;
    }
    snprintf(c->peer_id, sizeof(c->peer_id), "%.40s", r->argv[4]);
    const char *kind = busauthKindName(sec.kind);
    if (!secretSet()) {
        c->hello = 2;
        c->proven = 0;
        const char *av[2] = {server.node_id, kind};
        size_t al[2] = {strlen(server.node_id), strlen(kind)};
        busReplyArgs(r, 2, av, al);
        return;
    }
    /* challenge-response: prove the secret over its nonce, ask for a proof
     * over ours */
    snprintf(c->cnonce, sizeof(c->cnonce), "%.32s", r->argv[8]);
    getRandomHex(c->snonce, 32);
    c->snonce[32] = '\0';
    char pr[65];
    proof("server", c->cnonce, c->snonce, pr);
    c->hello = 1;
    const char *av[4] = {server.node_id, c->snonce, pr, kind};
    size_t al[4] = {strlen(server.node_id), 32, 64, strlen(kind)};
    busReplyArgs(r, 4, av, al);
}

/* Logs why HELLO r is refused, answers it "HELLO refused by <us>: peerwhy"
 * (the same reason, as the peer will read it in its own log), closes. */
static void helloRefuse(busReq *r, const char *why, const char *peerwhy) {
    busConn *c = r->conn;
    hs.inbound_refused++;
    serverLog(LL_WARNING, "Refusing cluster bus peer %s (node %.40s at %.64s:%.8s): %s", c->addr,
              r->argv[4], r->argv[5], r->argv[6], why);
    char err[600];
    snprintf(err, sizeof(err), "HELLO refused by %.40s: %s", server.node_id, peerwhy);
    busReplyError(r, err);
    busConnCloseSoon(c);
}

/* protected-mode, with no bus secret in force: the first message of a
 * remote peer, whatever it is, gets this error and the connection closes.
 * Its code, DENIED, makes a ringkv peer log it and back off. */
static void protectedRefuse(busReq *r) {
    busConn *c = r->conn;
    hs.inbound_refused++;
    int hello = r->argc >= 5 && !strcmp(r->argv[0], "HELLO");
    serverLog(LL_WARNING,
              "Refusing cluster bus peer %s%s%.40s%s: protected-mode is on and this node has "
              "neither cluster-secret nor requirepass, so only bus peers on the loopback "
              "interface are accepted. To let nodes on other machines in, set cluster-secret to "
              "the same value on every node (or requirepass: the bus secret is then derived from "
              "the password), or set protected-mode no if the network is trusted",
              c->addr, hello ? " (node " : "", hello ? r->argv[4] : "", hello ? ")" : "");
    char err[400];
    snprintf(err, sizeof(err),
             "DENIED cluster bus peer refused by %.40s: protected mode: this node has neither "
             "cluster-secret nor requirepass, so it accepts bus peers from the loopback interface "
             "only. Set the same cluster-secret on every node.", server.node_id);
    busReplyError(r, err);
    busConnCloseSoon(c);
}

static void authHandler(busReq *r) {
    busConn *c = r->conn;
    char expect[65];
    proof("client", c->snonce, c->cnonce, expect);
    if (r->argc < 3 || !busauthProofEqual(expect, r->argv[2], r->lens[2])) {
        hs.inbound_refused++;
        char why[400], us[64];
        busauthMismatch(sec.kind, c->peerkind, "this node", "the peer", why, sizeof(why));
        serverLog(LL_WARNING, "Refusing cluster bus peer %s (node %.40s): it failed the bus "
                  "secret challenge: %s", c->addr, c->peer_id, why);
        snprintf(us, sizeof(us), "node %.40s", server.node_id);
        busauthMismatch(sec.kind, c->peerkind, us, "this node", why, sizeof(why));
        char err[500];
        snprintf(err, sizeof(err), "AUTH refused by %.40s: wrong bus secret: %s", server.node_id,
                 why);
        busReplyError(r, err);
        busConnCloseSoon(c);
        return;
    }
    c->hello = 2;
    c->proven = 1;
    busReplyOK(r);
}

void busHandshakeConnLost(busConn *c) {
    if (c->hello != 1 || c->closing) return;
    /* A node that finds our proof wrong closes without a word: this side
     * of a secret mismatch is told only by this. */
    char why[400];
    busauthMismatch(sec.kind, c->peerkind, "this node", "the peer", why, sizeof(why));
    hs.inbound_refused++;
    serverLog(LL_WARNING, "Cluster bus peer %s (node %.40s) closed the connection without "
              "answering our challenge (as a node whose bus secret differs does): %s",
              c->addr, c->peer_id, why);
}

/* ------------------------------------------------------------ the secret */

/* Follows the configuration (called every tick, and by busInit): the kind of
 * secret in force and its key, derived again when requirepass changed.
 * CONFIG SET requirepass, with no cluster-secret:
 *   - none -> a password: connections that came up without a secret are
 *     closed (busCloseUnproven); new ones must prove the derived key;
 *   - a password -> another: new handshakes need the new one; links that
 *     proved the old one stay up (as authenticated clients do), so setting
 *     the new password on every node in turn never splits the cluster;
 *   - a password -> none: new peers need no proof (protected-mode applies).
 * The derivation (~20 ms) runs once per change, on the loop. */
void busHandshakeRefresh(void) {
    int kind = busauthKindOf(server.cluster_secret, server.requirepass);
    if (kind == BUSAUTH_CLUSTER_SECRET) {
        /* cluster-secret cannot change at runtime: set once, by busInit */
        if (sec.kind == kind) return;
        sec.kind = kind;
        sec.key = (const unsigned char *)server.cluster_secret;
        sec.keylen = strlen(server.cluster_secret);
        return;
    }
    if (kind == sec.kind && (kind == BUSAUTH_NONE || !strcmp(sec.pass, server.requirepass)))
        return;
    int old = sec.kind;
    zfree(sec.pass);
    sec.pass = NULL;
    sec.key = NULL;
    sec.keylen = 0;
    if (kind == BUSAUTH_REQUIREPASS) {
        sec.pass = zstrdup(server.requirepass);
        busauthDerive(sec.pass, strlen(sec.pass), server.cluster_name, sec.derived);
        sec.key = sec.derived;
        sec.keylen = BUSAUTH_KEY_LEN;
    }
    sec.kind = kind;
    if (!hs.started) return; /* busInit: nothing is connected yet */
    if (old == BUSAUTH_NONE) {
        int n = busCloseUnproven();
        serverLog(LL_NOTICE, "Cluster bus: requirepass set and no cluster-secret: bus peers must "
                  "now prove they know the password (the bus secret is derived from it); %d bus "
                  "connection(s) opened without a secret were closed (nodes reconnect and prove "
                  "it; set the same requirepass on every node)", n);
    } else if (kind == BUSAUTH_REQUIREPASS) {
        serverLog(LL_NOTICE, "Cluster bus: requirepass changed: new bus connections must prove the "
                  "new password; links already authenticated stay up (a restart closes them). "
                  "Nodes with the old password are refused until they get the new one");
    } else {
        serverLog(LL_WARNING, "Cluster bus: requirepass cleared and no cluster-secret: new bus "
                  "peers are accepted without a secret, %s",
                  server.protected_mode ? "from the loopback interface only (protected-mode)"
                                        : "from anywhere (protected-mode is off)");
    }
}

/* At startup: one line saying what protects this node's bus. */
static void logProtection(void) {
    if (sec.kind == BUSAUTH_CLUSTER_SECRET) {
        serverLog(LL_NOTICE, "Cluster bus: peers must prove they know cluster-secret");
    } else if (sec.kind == BUSAUTH_REQUIREPASS) {
        serverLog(LL_NOTICE, "Cluster bus: no cluster-secret, so bus peers must prove they know "
                  "requirepass (the bus secret is derived from it; the password never crosses "
                  "the network)");
    } else if (tlsClusterEnabled()) {
        serverLog(LL_NOTICE, "Cluster bus: no cluster-secret or requirepass: bus peers are "
                  "authenticated by their TLS certificates only");
    } else if (!server.protected_mode) {
        serverLog(LL_WARNING, "Cluster bus: no cluster-secret or requirepass and protected-mode "
                  "is off: anyone who can reach %s:%d can read and write this node's data. Set "
                  "cluster-secret (the same on every node)", server.bind, server.bus_port);
    } else if (!isLoopbackAddr(server.bind)) {
        serverLog(LL_WARNING, "Cluster bus: protected-mode is on and neither cluster-secret nor "
                  "requirepass is set, so bus peers from outside the loopback interface will be "
                  "refused. To form a cluster across machines, set cluster-secret to the same "
                  "value on every node (or requirepass)");
    }
}

void busHandshakeInit(void) {
    busHandshakeRefresh();
    logProtection();
    hs.started = 1;
}

void busHandshakeInfo(buf *out) {
    bufPrintf(out, "bus_secret:%s\r\nbus_inbound_refused:%lld\r\n", busauthKindName(sec.kind),
              hs.inbound_refused);
}
