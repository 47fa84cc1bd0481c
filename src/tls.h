/* tls.h -- TLS for clients (tls-port) and the cluster bus (tls-cluster),
 * with OpenSSL through libevent's OpenSSL bufferevents.
 *
 * API:
 *   tlsInit()                         load certificates (C_ERR: logged)
 *   tlsBufferevent(fd, role)          a bufferevent doing TLS on fd
 *   tlsClusterEnabled()
 * Roles: TLS_ACCEPT_CLIENT (client port: client certificates as
 * tls-auth-clients says), TLS_ACCEPT_BUS and TLS_CONNECT_BUS (peers always
 * present and verify certificates signed by tls-ca-cert-file). */
#ifndef RINGKV_TLS_H
#define RINGKV_TLS_H

struct bufferevent;

#define TLS_ACCEPT_CLIENT 0
#define TLS_ACCEPT_BUS 1
#define TLS_CONNECT_BUS 2

int tlsInit(void);
struct bufferevent *tlsBufferevent(int fd, int role);
int tlsClusterEnabled(void);

#endif
