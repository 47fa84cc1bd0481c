/* gossip.h -- membership: the table of nodes, heartbeats, failure
 * detection, and the ring derived from the table.
 *
 * Every gossip-interval a node bumps its own heartbeat and swaps tables with
 * a few random peers (push-pull over the bus). A peer whose heartbeat has
 * not advanced for fail-timeout is suspected: routing treats it as down at
 * once, and it is reported down cluster-wide when two or more nodes suspect
 * it. It comes back by itself when it beats again. A heartbeat is
 * (generation, counter) with the generation taken at process start, so a
 * restarted node's counter starting again from zero still counts as news.
 *
 * The table is kept in the meta column family, so a restarted node knows
 * its peers even if the seeds are gone.
 *
 * API:
 *   gossipInit()             load the table, add self, contact seeds
 *   gossipMembers(&n)        the table (index = ring member index)
 *   gossipRing()             the current ring (rebuilt when the table changes)
 *   gossipMemberUp(i)        routing view: not suspected (self always up)
 *   gossipSelf()             this node's index
 *   gossipJoin(addr)         RING JOIN: gossip with that node as a seed
 *   gossipAllAware/AllSynced the phases of a membership change (handoff.c)
 *   gossipReady()            the ring is known: clients may be served
 *   gossipNodesReply(r)      RING NODES
 *   gossipInfo(out)          INFO ring lines */
#ifndef RINGKV_GOSSIP_H
#define RINGKV_GOSSIP_H

#include "bus.h"
#include "ring.h"
#include "util.h"

#define MEMBER_NORMAL 0
#define MEMBER_JOINING 1
#define MEMBER_LEAVING 2
#define MEMBER_LEFT 3

typedef struct member {
    char id[41];          /* node id */
    char host[64];        /* address (clients and bus) */
    int port;             /* client port */
    int busport;          /* bus port */
    char dc[64];          /* data center */
    char rack[64];        /* rack */
    int weight;           /* tokens / share */
    uint64_t generation;  /* heartbeat generation: the node's start time (ms) */
    uint64_t heartbeat;   /* heartbeat counter within the generation */
    int status;           /* MEMBER_* */
    uint64_t status_ver;  /* status changes: the highest version wins */
    uint64_t synced;      /* hash of the future ring whose partitions it holds (handoff.c) */
    uint64_t aware;       /* hash of the future ring it knows of: once every member knows a
                             change, none writes to the old owners alone any more (handoff.c
                             waits for that before it pulls) */
    /* local view */
    long long last_beat_ms; /* when (generation, heartbeat) last advanced here */
    int suspect;          /* this node treats it as down */
    int down;             /* two or more nodes agree it is down */
    char (*reporters)[41];/* nodes that currently report it suspected */
    long long *report_ms; /* when each report was last heard */
    int nreporters;
    busLink *link;        /* outbound bus link (NULL for self) */
} member;

int gossipInit(void); /* C_ERR: the node must not start (logged) */
/* Owners of partition p (member indexes, preference order) in the current
 * ring (NORMAL and LEAVING members: reads, version coordination, W), in the
 * future ring (NORMAL and JOINING: where data is moving to), and the current
 * ring's walk (sloppy fallbacks). Return the count. */
int gossipOwners(unsigned p, int *out);
int gossipFutureOwners(unsigned p, int *out);
int gossipWalk(unsigned p, int *out);
int gossipChanging(void);       /* the future ring differs from the current */
uint64_t gossipFutureHash(void);
void gossipSetSelfStatus(int status);
int gossipSelfStatus(void);
void gossipSetSynced(uint64_t h);
int gossipAllSynced(void);      /* every member that is up holds its future partitions */
/* Every member that is up knows the future ring we know (so every write
 * coordinated from now on also goes to the future owners). *waiting gets
 * the count of those that do not, when not NULL. */
int gossipAllAware(int *waiting);
/* This node has learned the cluster's ring: it is a cluster of one, or a
 * gossip exchange with a peer succeeded and the ring has owners. Clients
 * are not served before (server.c). */
int gossipReady(void);
/* This node's view of the membership is worth acting on: it is alone, or
 * heard from a peer, or none answered for fail-timeout (then it may form a
 * cluster of its own). Before that a new node sees only itself, and would
 * take every partition for its own (handoff.c waits). */
int gossipKnowsCluster(void);
/* RING FORGET: a down member leaves without its help (it becomes LEAVING;
 * gossipRetireGone makes it LEFT once its partitions have moved). */
int gossipForget(const char *id, char *err, size_t errlen);
/* Every LEAVING member that is down becomes LEFT (called by handoff.c once
 * every member that is up holds the future ring). Returns how many. */
int gossipRetireGone(void);
/* Tells every peer our (LEFT) status, then stops the server. */
void gossipFarewell(void);
int gossipPlan(const char *joinaddr, const char *dc, const char *rack, int weight,
               const char *leaveid, double avgbytes, buf *out, char *err, size_t errlen);
member *gossipMembers(int *n);
const ring *gossipRing(void);
int gossipMemberUp(int i);
int gossipSelf(void);
int gossipJoin(const char *addr, char *err, size_t errlen); /* "host:port[@busport]" */
int gossipUpCount(void);
/* Ring member index -> member (the ring holds members of status NORMAL
 * and LEAVING only). */
member *gossipRingMember(int ringidx);
int gossipRingMemberIndex(int ringidx);
void gossipInfo(buf *out);
struct request;
void gossipNodesReply(struct request *r);

#endif
