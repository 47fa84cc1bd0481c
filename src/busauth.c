/* busauth.c -- the cluster bus's secret, its proofs and protected-mode's
 * rule for bus peers. See busauth.h. Pure: OpenSSL's HMAC and PBKDF2 are
 * computations, nothing here reads a global or does I/O. */
#include "busauth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static int set(const char *s) { return s && s[0]; }

int busauthKindOf(const char *cluster_secret, const char *requirepass) {
    if (set(cluster_secret)) return BUSAUTH_CLUSTER_SECRET;
    if (set(requirepass)) return BUSAUTH_REQUIREPASS;
    return BUSAUTH_NONE;
}

static const char *const kindNames[] = {"none", "cluster-secret", "requirepass"};

const char *busauthKindName(int kind) {
    if (kind < 0 || kind > BUSAUTH_REQUIREPASS) return "unknown";
    return kindNames[kind];
}

int busauthKindParse(const char *s, size_t len) {
    for (int k = 0; k <= BUSAUTH_REQUIREPASS; k++)
        if (strlen(kindNames[k]) == len && !memcmp(kindNames[k], s, len)) return k;
    return BUSAUTH_UNKNOWN;
}

/* The salt names the purpose and the cluster: the same password gives
 * another key for another cluster, and the key is never the password. */
void busauthDerive(const char *password, size_t passlen, const char *cluster_name,
                   unsigned char key[BUSAUTH_KEY_LEN]) {
    char salt[320];
    int sl = snprintf(salt, sizeof(salt), "ringkv cluster bus|%.256s", cluster_name);
    PKCS5_PBKDF2_HMAC(password, (int)passlen, (const unsigned char *)salt, sl,
                      BUSAUTH_PBKDF2_ROUNDS, EVP_sha256(), BUSAUTH_KEY_LEN, key);
}

void busauthProof(const unsigned char *key, size_t keylen, const char *role, const char *a,
                  const char *b, char out[BUSAUTH_PROOF_HEX + 1]) {
    char msg[160];
    int ml = snprintf(msg, sizeof(msg), "%s|%s|%s", role, a, b);
    if (ml >= (int)sizeof(msg)) ml = (int)sizeof(msg) - 1;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, (size_t)ml, mac, &maclen);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[BUSAUTH_PROOF_HEX] = '\0';
}

int busauthProofEqual(const char *a, const char *b, size_t blen) {
    return blen == BUSAUTH_PROOF_HEX && CRYPTO_memcmp(a, b, BUSAUTH_PROOF_HEX) == 0;
}

int busauthIsRemote(const char *ip, const char *untrusted) {
    if (!isLoopbackAddr(ip)) return 1;
    return set(untrusted) && !strncmp(ip, untrusted, strlen(untrusted));
}

int busauthProtectedRefuses(int protected_mode, int kind, int tls_verified, int remote) {
    return protected_mode && kind == BUSAUTH_NONE && !tls_verified && remote;
}

static const char *setWhat(int kind) {
    return kind == BUSAUTH_CLUSTER_SECRET ? "a cluster-secret"
           : kind == BUSAUTH_REQUIREPASS  ? "no cluster-secret and a requirepass (its bus secret "
                                            "is derived from the password)"
                                          : "neither cluster-secret nor requirepass";
}

void busauthMismatch(int ours, int theirs, const char *us, const char *them, char *out,
                     size_t outlen) {
    const char *fix = "set the same cluster-secret on every node, or none and the same "
                      "requirepass on every node";
    if (theirs == BUSAUTH_UNKNOWN) {
        snprintf(out, outlen, "the bus secrets of %s and %s differ (%s has %s): %s", us, them,
                 us, setWhat(ours), fix);
    } else if (ours == theirs && ours == BUSAUTH_REQUIREPASS) {
        snprintf(out, outlen,
                 "the two nodes have different requirepass passwords (with no cluster-secret, "
                 "the bus secret is derived from requirepass): set the same requirepass on every "
                 "node, or the same cluster-secret");
    } else if (ours == theirs && ours == BUSAUTH_CLUSTER_SECRET) {
        snprintf(out, outlen,
                 "the two nodes have different cluster-secrets: set the same cluster-secret on "
                 "every node");
    } else {
        snprintf(out, outlen, "%s has %s, %s has %s: %s", us, setWhat(ours), them,
                 setWhat(theirs), fix);
    }
}
