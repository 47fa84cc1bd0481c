/* client.h -- client connections: accept, read and parse, dispatch, the
 * ordered reply queue, backpressure, output limits, idle timeout.
 *
 * A client's requests (request.h) are kept in arrival order; replies leave
 * only as the completed prefix of that queue, so pipelined replies keep
 * their order even when replicas answer out of order.
 *
 * API:
 *   clientAccept(fd, addr, tls)     a new connection (server.c's listeners)
 *   clientScheduleClose(c)          close soon, outside c's own callbacks
 *   clientFree(c)                   (closeEvent; requests in flight detach)
 *   clientsCron()                   idle clients, expired soft output limits
 *   clientSetName / clientInfoString / clientKillAll   for CLIENT and RESET
 * Flags: CLIENT_*; the list of clients is server.clients. */
#ifndef RINGKV_CLIENT_H
#define RINGKV_CLIENT_H

#include <stdint.h>

#include "request.h"
#include "resp.h"
#include "util.h"

struct bufferevent;

/* client flags */
#define CLIENT_CLOSE_AFTER_REPLY (1 << 0) /* QUIT, protocol error: close once flushed */
#define CLIENT_CLOSE_ASAP (1 << 1)        /* output limits: close at the next chance */
#define CLIENT_READ_PAUSED (1 << 2)       /* reading stopped for backpressure */
#define CLIENT_IN_CALLBACK (1 << 3)       /* inside its own read callback: free later */
#define CLIENT_RESUME_PENDING (1 << 4)    /* on the list of clients whose waiting request can start */

typedef struct client client;

struct client {
    uint64_t id;                /* CLIENT ID */
    struct bufferevent *bev;    /* the connection */
    int fd;                     /* socket */
    char addr[64];              /* peer ip:port */
    char laddr[64];             /* local ip:port */
    char *name;                 /* CLIENT SETNAME, owned, or NULL */
    char *lib_name;             /* CLIENT SETINFO lib-name, owned, or NULL */
    char *lib_ver;              /* CLIENT SETINFO lib-ver, owned, or NULL */
    buf qb;                     /* bytes read and not yet parsed into requests */
    respParser parser;          /* state of the request being parsed */
    request *head, *tail;       /* requests in arrival order, head = oldest */
    request *waiting;           /* parsed, waiting for key locks or earlier requests to start;
                                   no more input is parsed meanwhile */
    int nreqs;                  /* requests in the queue */
    int db;                     /* SELECTed db */
    int proto;                  /* HELLO protover: 2 or 3 */
    int authenticated;          /* passed AUTH, or no password is set */
    int flags;                  /* CLIENT_* */
    long long ctime;            /* connected at (unix s) */
    long long last_interaction; /* last read or write (unix s), for `timeout` */
    long long obuf_soft_since;  /* when the soft output limit was first passed (ms), 0 = not */
    const char *lastcmd;        /* name of the last command run */
    unsigned long long tot_cmds;/* commands run */
    void *mstate;               /* MULTI: the queued commands (multi.c), NULL if not in MULTI */
    int read_level;             /* CONSISTENCY READ: 0 = read-quorum, else LEVEL_* or a count */
    int write_level;            /* CONSISTENCY WRITE: 0 = write-quorum, else LEVEL_* or a count */
    client *prev, *next;        /* list of all clients */
};

void clientAccept(int fd, const char *addr, int tls);
void clientFree(client *c);
/* Closes c soon (outside any of its callbacks); safe from anywhere. */
void clientScheduleClose(client *c);
void clientsCron(void);
void clientSetName(client *c, const char *name, size_t len);
void clientInfoString(client *c, buf *out);
void clientKillAll(void);

#endif
