/* tls.c -- OpenSSL contexts and TLS bufferevents. See tls.h.
 *
 * Two server contexts (clients: peer certificate required, optional or not
 * asked, per tls-auth-clients; bus: always required) and one client context
 * (bus links: present our certificate, verify the peer's). All verify
 * against tls-ca-cert-file. */
#include "tls.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>

#include "server.h"

static SSL_CTX *clientSrv, *busSrv, *busCli;

static void logSslError(const char *what) {
    char b[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, b, sizeof(b));
    serverLog(LL_WARNING, "TLS: %s: %s", what, e ? b : "unknown error");
}

static SSL_CTX *makeCtx(int server_side, int verify) {
    SSL_CTX *ctx = SSL_CTX_new(server_side ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        logSslError("SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, server.tls_cert_file) != 1) {
        logSslError("tls-cert-file");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, server.tls_key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        logSslError("tls-key-file");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (server.tls_ca_cert_file[0] &&
        SSL_CTX_load_verify_locations(ctx, server.tls_ca_cert_file, NULL) != 1) {
        logSslError("tls-ca-cert-file");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, verify, NULL);
    return ctx;
}

int tlsInit(void) {
    if (!server.tls_port && !server.tls_cluster) return C_OK;
    if (!server.tls_cert_file[0] || !server.tls_key_file[0]) {
        serverLog(LL_WARNING, "TLS needs tls-cert-file and tls-key-file");
        return C_ERR;
    }
    int cv = server.tls_auth_clients == 0   ? SSL_VERIFY_NONE
             : server.tls_auth_clients == 2 ? SSL_VERIFY_PEER
                                            : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    if (server.tls_port && !(clientSrv = makeCtx(1, cv))) return C_ERR;
    if (server.tls_cluster) {
        if (!server.tls_ca_cert_file[0]) {
            serverLog(LL_WARNING, "tls-cluster needs tls-ca-cert-file to verify peers");
            return C_ERR;
        }
        busSrv = makeCtx(1, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
        busCli = makeCtx(0, SSL_VERIFY_PEER);
        if (!busSrv || !busCli) return C_ERR;
    }
    return C_OK;
}

int tlsClusterEnabled(void) { return busCli != NULL; }

struct bufferevent *tlsBufferevent(int fd, int role) {
    SSL_CTX *ctx = role == TLS_ACCEPT_CLIENT ? clientSrv : role == TLS_ACCEPT_BUS ? busSrv : busCli;
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (!ssl) return NULL;
    return bufferevent_openssl_socket_new(
        server.base, fd, ssl,
        role == TLS_CONNECT_BUS ? BUFFEREVENT_SSL_CONNECTING : BUFFEREVENT_SSL_ACCEPTING,
        BEV_OPT_CLOSE_ON_FREE);
}
