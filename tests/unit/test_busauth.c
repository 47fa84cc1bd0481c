/* test_busauth.c -- what protects the cluster bus (busauth.c): the kind of
 * secret in force, the key derived from requirepass, the handshake's proofs,
 * protected-mode's rule for bus peers and the words of a refusal.
 *
 * The expected keys and proofs were computed independently, with Python's
 * hashlib.pbkdf2_hmac and hmac (see each test): every node of a cluster,
 * whatever version, must derive the same key from the same password, so a
 * change here is a change of the wire protocol. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "busauth.h"

static void hex(const unsigned char *k, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", k[i]);
}

/* ------------------------------------------------------------- the kind */

Test(kind, cluster_secret_wins_then_requirepass_then_none) {
    cr_assert_eq(busauthKindOf("s", "pw"), BUSAUTH_CLUSTER_SECRET);
    cr_assert_eq(busauthKindOf("s", ""), BUSAUTH_CLUSTER_SECRET);
    cr_assert_eq(busauthKindOf("", "pw"), BUSAUTH_REQUIREPASS);
    cr_assert_eq(busauthKindOf(NULL, "pw"), BUSAUTH_REQUIREPASS);
    cr_assert_eq(busauthKindOf("", ""), BUSAUTH_NONE);
    cr_assert_eq(busauthKindOf(NULL, NULL), BUSAUTH_NONE);
}

Test(kind, names_round_trip_and_strangers_are_unknown) {
    for (int k = BUSAUTH_NONE; k <= BUSAUTH_REQUIREPASS; k++) {
        const char *n = busauthKindName(k);
        cr_assert_eq(busauthKindParse(n, strlen(n)), k, "%s", n);
    }
    cr_assert_str_eq(busauthKindName(BUSAUTH_REQUIREPASS), "requirepass");
    cr_assert_str_eq(busauthKindName(BUSAUTH_CLUSTER_SECRET), "cluster-secret");
    cr_assert_str_eq(busauthKindName(BUSAUTH_UNKNOWN), "unknown");
    cr_assert_eq(busauthKindParse("requirepas", 10), BUSAUTH_UNKNOWN);
    cr_assert_eq(busauthKindParse("requirepassX", 12), BUSAUTH_UNKNOWN);
    cr_assert_eq(busauthKindParse("", 0), BUSAUTH_UNKNOWN);
    /* not terminated: only len bytes count */
    cr_assert_eq(busauthKindParse("nonesense", 4), BUSAUTH_NONE);
}

/* ------------------------------------------------------- the derived key */

Test(derive, matches_pbkdf2_hmac_sha256_with_the_cluster_name_as_salt) {
    /* hashlib.pbkdf2_hmac('sha256', b'pw', b'ringkv cluster bus|ringkv', 100000, 32) */
    unsigned char k[BUSAUTH_KEY_LEN];
    char h[2 * BUSAUTH_KEY_LEN + 1];
    busauthDerive("pw", 2, "ringkv", k);
    hex(k, sizeof(k), h);
    cr_assert_str_eq(h, "0a991f11cf7dd7b3727c321a10b7271aef6278df10963c11b0e6b8af22ff0ff6");
    /* the same password for a cluster of another name: another key */
    busauthDerive("pw", 2, "other", k);
    hex(k, sizeof(k), h);
    cr_assert_str_eq(h, "5a6c6b578c441b7302ba9d73502e617c048fa78a2f136e4f871d3ea6c5780fbb");
}

Test(derive, another_password_gives_another_key_and_the_key_is_not_the_password) {
    unsigned char a[BUSAUTH_KEY_LEN], b[BUSAUTH_KEY_LEN];
    busauthDerive("pw", 2, "ringkv", a);
    busauthDerive("pw2", 3, "ringkv", b);
    cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
    busauthDerive("pw", 2, "ringkv", b);
    cr_assert_eq(memcmp(a, b, sizeof(a)), 0, "deterministic");
    cr_assert_null(memmem(a, sizeof(a), "pw", 2));
}

/* ------------------------------------------------------------ the proofs */

Test(proof, is_hmac_sha256_of_role_and_nonces_in_lowercase_hex) {
    /* hmac.new(b's3cret', b'server|aaaa|bbbb', hashlib.sha256).hexdigest() */
    char p[BUSAUTH_PROOF_HEX + 1];
    busauthProof((const unsigned char *)"s3cret", 6, "server", "aaaa", "bbbb", p);
    cr_assert_str_eq(p, "702861c92b49171ec30f61e2853e47539cf431618be3283f0546eb48449c26f6");
}

Test(proof, roles_nonces_and_keys_all_change_it) {
    const unsigned char *k = (const unsigned char *)"key";
    char a[65], b[65];
    busauthProof(k, 3, "server", "n1", "n2", a);
    busauthProof(k, 3, "client", "n1", "n2", b);
    cr_assert_str_neq(a, b, "one side's proof must never serve as the other's");
    busauthProof(k, 3, "server", "n2", "n1", b);
    cr_assert_str_neq(a, b);
    busauthProof((const unsigned char *)"kez", 3, "server", "n1", "n2", b);
    cr_assert_str_neq(a, b);
}

Test(proof, equal_only_for_the_exact_proof) {
    char a[65];
    busauthProof((const unsigned char *)"k", 1, "client", "x", "y", a);
    char b[65];
    memcpy(b, a, sizeof(b));
    cr_assert(busauthProofEqual(a, b, 64));
    cr_assert_not(busauthProofEqual(a, b, 63), "a shorter answer");
    cr_assert_not(busauthProofEqual(a, b, 65), "a longer answer");
    b[63] ^= 1;
    cr_assert_not(busauthProofEqual(a, b, 64));
    cr_assert_not(busauthProofEqual(a, "", 0));
}

/* --------------------------------------------------------- protected-mode */

Test(remote, loopback_is_local_unless_the_test_prefix_says_otherwise) {
    cr_assert_not(busauthIsRemote("127.0.0.1", ""));
    cr_assert_not(busauthIsRemote("127.0.24.11", NULL));
    cr_assert_not(busauthIsRemote("::1", ""));
    cr_assert_not(busauthIsRemote("::ffff:127.0.0.1", ""));
    cr_assert(busauthIsRemote("10.0.0.5", ""));
    cr_assert(busauthIsRemote("192.168.1.1", NULL));
    cr_assert(busauthIsRemote("128.0.0.1", ""));
    cr_assert(busauthIsRemote("127.0.24.250", "127.0.24.250"));
    cr_assert(busauthIsRemote("127.0.24.11", "127.0.24."));
    cr_assert_not(busauthIsRemote("127.0.0.1", "127.0.24."));
}

Test(remote, protected_mode_refuses_only_remote_peers_with_nothing_to_prove) {
    /* protected_mode, kind, tls_verified, remote */
    cr_assert(busauthProtectedRefuses(1, BUSAUTH_NONE, 0, 1));
    cr_assert_not(busauthProtectedRefuses(1, BUSAUTH_NONE, 0, 0), "loopback is trusted");
    cr_assert_not(busauthProtectedRefuses(0, BUSAUTH_NONE, 0, 1), "protected-mode no");
    cr_assert_not(busauthProtectedRefuses(1, BUSAUTH_REQUIREPASS, 0, 1), "must prove instead");
    cr_assert_not(busauthProtectedRefuses(1, BUSAUTH_CLUSTER_SECRET, 0, 1), "must prove instead");
    cr_assert_not(busauthProtectedRefuses(1, BUSAUTH_NONE, 1, 1), "its certificate was verified");
}

/* ------------------------------------------------------------ the words */

Test(mismatch, names_the_setting_to_change) {
    char w[400];
    const char *us = "this node", *them = "the peer";
    busauthMismatch(BUSAUTH_REQUIREPASS, BUSAUTH_REQUIREPASS, us, them, w, sizeof(w));
    cr_assert(strstr(w, "different requirepass"), "%s", w);
    busauthMismatch(BUSAUTH_CLUSTER_SECRET, BUSAUTH_CLUSTER_SECRET, us, them, w, sizeof(w));
    cr_assert(strstr(w, "different cluster-secrets"), "%s", w);
    busauthMismatch(BUSAUTH_REQUIREPASS, BUSAUTH_CLUSTER_SECRET, us, them, w, sizeof(w));
    cr_assert(strstr(w, "this node has no cluster-secret and a requirepass"), "%s", w);
    cr_assert(strstr(w, "the peer has a cluster-secret"), "%s", w);
    busauthMismatch(BUSAUTH_NONE, BUSAUTH_REQUIREPASS, us, them, w, sizeof(w));
    cr_assert(strstr(w, "this node has neither cluster-secret nor requirepass"), "%s", w);
    busauthMismatch(BUSAUTH_CLUSTER_SECRET, BUSAUTH_NONE, us, them, w, sizeof(w));
    cr_assert(strstr(w, "the peer has neither"), "%s", w);
    busauthMismatch(BUSAUTH_REQUIREPASS, BUSAUTH_UNKNOWN, us, them, w, sizeof(w));
    cr_assert(strstr(w, "bus secrets of this node and the peer differ"), "%s", w);
    cr_assert(strstr(w, "same cluster-secret"), "%s", w);
    /* the reader's point of view: in an error the peer logs */
    busauthMismatch(BUSAUTH_CLUSTER_SECRET, BUSAUTH_NONE, "node n1", "this node", w, sizeof(w));
    cr_assert(strstr(w, "node n1 has a cluster-secret, this node has neither"), "%s", w);
    /* a short buffer is cut, never overrun */
    char tiny[8];
    busauthMismatch(BUSAUTH_REQUIREPASS, BUSAUTH_REQUIREPASS, us, them, tiny, sizeof(tiny));
    cr_assert_eq(strlen(tiny), 7);
}
