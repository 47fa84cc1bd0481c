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
 * Callers ask, by member index (0 .. gossipCount()-1, this node is
 * gossipSelf()); the table itself is private to gossip.c (STYLE: a narrow
 * module API, as Redis's cluster.h). An index stays valid for the life of
 * the process: members are only ever added (one that left stays, LEFT).
 *
 * API:
 *   gossipInit()             load the table, add self, contact seeds
 *   gossipCount() / gossipSelf()       members (self included) / this node's index
 *   gossipMemberInfo(i, &mi)           one member, for display and messages
 *   gossipMemberId/Dc/Status/Link(i)   one field, for the hot paths
 *   gossipMemberUp(i)        routing view: not suspected (self always up)
 *   gossipMemberReachable(i) self, or up with its bus link connected
 *   gossipOwners/FutureOwners/Walk(p)  a partition's members, in order
 *   gossipOwnedCount()       partitions this node replicates (current ring)
 *   gossipJoin(addr)         RING JOIN: gossip with that node as a seed
 *   gossipForget(id)         RING FORGET
 *   gossipPlan(...)          RING PLAN: what a join or leave would move
 *   gossipAllAware/AllSynced the phases of a membership change (handoff.c)
 *   gossipReady()            the ring is known: clients may be served
 *   gossipInfo(out)          INFO ring lines: the membership and the ring
 *   gossipStatusName(s) / gossipHealthName(h)   words for RING NODES and the status page
 */
#ifndef RINGKV_GOSSIP_H
#define RINGKV_GOSSIP_H

#include "bus.h"
#include "ring.h"
#include "util.h"

#define MEMBER_NORMAL 0
#define MEMBER_JOINING 1
#define MEMBER_LEAVING 2
#define MEMBER_LEFT 3

/* How this node sees a member's health. */
#define GOSSIP_UP 0      /* beating (this node is always up to itself) */
#define GOSSIP_SUSPECT 1 /* this node stopped hearing its heartbeat: routing avoids it */
#define GOSSIP_DOWN 2    /* two or more nodes agree it stopped */

/* One member as callers may see it. The strings are borrowed from the
 * table: valid until control returns to the event loop. */
typedef struct memberInfo {
    const char *id;   /* node id (40 hex chars) */
    const char *host; /* address (clients and bus) */
    int port;         /* client port */
    int busport;      /* bus port */
    const char *dc;   /* data center */
    const char *rack; /* rack */
    int weight;       /* tokens / share of the partitions */
    int status;       /* MEMBER_* */
    int health;       /* GOSSIP_* */
    int self;         /* 1 for this node */
} memberInfo;

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
/* Tells every peer that this node is shutting down (routing then avoids
 * it at once) and stops heartbeating. */
void gossipGoodbye(void);
/* Tells every peer our (LEFT) status, then stops the server. */
void gossipFarewell(void);
int gossipPlan(const char *joinaddr, const char *dc, const char *rack, int weight,
               const char *leaveid, double avgbytes, buf *out, char *err, size_t errlen);
int gossipCount(void);
int gossipSelf(void);
void gossipMemberInfo(int i, memberInfo *out);
const char *gossipMemberId(int i);
const char *gossipMemberDc(int i);
int gossipMemberStatus(int i);
/* The outbound bus link to member i; NULL for self (or a member at this
 * node's own address, an earlier node that lived here). */
busLink *gossipMemberLink(int i);
int gossipMemberUp(int i);
int gossipMemberReachable(int i);
int gossipOwnedCount(void);
int gossipJoin(const char *addr, char *err, size_t errlen); /* "host:port[@busport]" */
void gossipInfo(buf *out);
const char *gossipStatusName(int status);
const char *gossipHealthName(int health);

#endif
