/* busauth.h -- what protects the cluster bus: which secret is in force, the
 * key derived from requirepass, the handshake's proofs, who counts as remote
 * for protected-mode, and the words that explain a refusal. Pure: no I/O,
 * no globals (bus.c passes the configuration in), so Criterion covers it.
 *
 * The bus is as protected as the client port:
 *   - cluster-secret set: peers prove they know it (HMAC challenge-response);
 *   - else requirepass set: peers prove they know a key derived from the
 *     password (busauthDerive), so whoever cannot AUTH on the client port
 *     cannot use the bus either; the password never crosses the network;
 *   - else no secret: protected-mode (on by default) accepts bus peers from
 *     the loopback interface only, as it does clients; a verified TLS
 *     certificate (tls-cluster) counts as a peer's credential.
 *
 * API:
 *   busauthKindOf(cluster_secret, requirepass)   BUSAUTH_* in force
 *   busauthKindName/busauthKindParse             its name on the wire and in logs
 *   busauthDerive(password, cluster_name, key)   the requirepass-derived key
 *   busauthProof(key, keylen, role, a, b, hex)   HMAC-SHA256(key, role|a|b) in hex
 *   busauthProofEqual(a, b)                      constant-time compare of two proofs
 *   busauthIsRemote(ip, untrusted_prefix)        protected-mode's "not loopback"
 *   busauthProtectedRefuses(...)                 protected-mode refuses this peer
 *   busauthMismatch(ours, theirs, us, them, ...) why two nodes' secrets differ
 *
 * Invariants: a derived key depends on the password and the cluster name
 * only (every node of a cluster derives the same one, nodes of clusters with
 * other names do not); proofs are 64 lowercase hex characters. */
#ifndef RINGKV_BUSAUTH_H
#define RINGKV_BUSAUTH_H

#include <stddef.h>

#define BUSAUTH_NONE 0           /* no cluster-secret, no requirepass */
#define BUSAUTH_CLUSTER_SECRET 1 /* cluster-secret is the HMAC key */
#define BUSAUTH_REQUIREPASS 2    /* no cluster-secret: the key is derived from requirepass */
#define BUSAUTH_UNKNOWN (-1)     /* a peer that did not say (an older ringkv) */

#define BUSAUTH_KEY_LEN 32    /* bytes of a derived key */
#define BUSAUTH_PROOF_HEX 64  /* hex characters of a proof */

/* PBKDF2 rounds for the derived key. A stranger who reaches the bus port can
 * collect proofs and guess passwords offline; 100,000 rounds of
 * HMAC-SHA256 (about 20 ms once per password on this project's machines)
 * make each guess cost more than an online AUTH attempt on the client port,
 * which anyone who reaches that port can make. Changing it changes every
 * derived key: nodes with another count refuse each other. */
#define BUSAUTH_PBKDF2_ROUNDS 100000

/* The kind in force: cluster-secret wins; NULL counts as empty. */
int busauthKindOf(const char *cluster_secret, const char *requirepass);
/* "cluster-secret", "requirepass" or "none" (static strings). */
const char *busauthKindName(int kind);
/* The inverse; BUSAUTH_UNKNOWN for anything else. s need not be terminated. */
int busauthKindParse(const char *s, size_t len);

/* key = PBKDF2-HMAC-SHA256(password, "ringkv cluster bus|" cluster_name,
 * BUSAUTH_PBKDF2_ROUNDS, 32 bytes). All borrowed; key is the caller's. */
void busauthDerive(const char *password, size_t passlen, const char *cluster_name,
                   unsigned char key[BUSAUTH_KEY_LEN]);

/* out (65 bytes, terminated) = hex(HMAC-SHA256(key, role "|" a "|" b)).
 * role is "server" or "client", so that one side's proof is never the
 * other's; a and b are the handshake's nonces. All borrowed. */
void busauthProof(const unsigned char *key, size_t keylen, const char *role, const char *a,
                  const char *b, char out[BUSAUTH_PROOF_HEX + 1]);
/* 1 when b (blen bytes, from the network) is the proof a (ours), compared in
 * constant time. */
int busauthProofEqual(const char *a, const char *b, size_t blen);

/* A peer address ("1.2.3.4", no port) is remote unless it is loopback;
 * untrusted (the test-only debug-untrusted-prefix, "" or NULL = none) makes
 * the addresses starting with it remote too. */
int busauthIsRemote(const char *ip, const char *untrusted);

/* protected-mode turns this peer away: it is on, no secret is in force, the
 * bus does not verify TLS certificates, and the peer is remote. */
int busauthProtectedRefuses(int protected_mode, int kind, int tls_verified, int remote);

/* A sentence for a log line or a peer's error: why a node whose secret is
 * of kind ours and a peer of kind theirs (BUSAUTH_UNKNOWN if it did not say)
 * cannot authenticate each other, and what to set. us and them name the two
 * as the reader sees them: "this node"/"the peer" in our log, "node <id>"/
 * "this node" in an error the peer will log. All borrowed. */
void busauthMismatch(int ours, int theirs, const char *us, const char *them, char *out,
                     size_t outlen);

#endif
