/* target.h -- the nodes an operation of the coordination files (read.c,
 * write.c, forward.c, clusterops.c) asks: a key's replicas in preference
 * order, whether a node can be asked now, the sloppy-quorum fallback for a
 * failed replica, the version coordinator, and the quorum verdict over
 * them (quorum.c, with this node's data center). The glue between the pure
 * quorum core and gossip's membership table.
 *
 * API:
 *   targetsOfKey(db, key, t)          the key's replicas as pending targets
 *   targetsJoint(db, key, t)          the same, and while partitions move
 *                                     the future owners too (joint quorums)
 *   targetReachable(m) / targetLink(m) / targetMemberId(m)
 *   targetAddFallback(db, key, t, &n, i)   a fallback for home target i
 *   targetCoordinator(t, n, level)     the version coordinator's index in t
 *   targetEval(level, t, n)            the joint quorum verdict
 *   targetJoint(t, n)                  some target is a future-only owner
 *   targetLevel(r, write)              the request's read or write level
 *   targetReadFanout(t, n, level)      how many replicas a read asks first
 *   targetPickReaders(t, n, ask, pick) read-fanout needed: which, the others held back
 *   targetTakeHeld(t, n)               the next held-back one to ask instead
 *   targetRetryTimer(t, n, cb, arg)    read-retry-ms's timer for the held-back ones
 *   targetRefNew(op, idx) / targetRefTake(ref, &idx)   an answer's context
 *
 * Invariant: a target's dc points at a name interned here for the life of
 * the process, so it stays valid while the membership table grows. */
#ifndef RINGKV_TARGET_H
#define RINGKV_TARGET_H

#include <event2/util.h>

#include "bus.h"
#include "quorum.h"
#include "request.h"
#include "server.h"

/* What an answer's callback gets: the operation and which of its targets
 * answered. Allocated by targetRefNew, freed by targetRefTake in the
 * callback. */
typedef struct targetRef {
    void *op;
    int idx;
} targetRef;

/* Fills t with the key's home replicas (pending, current owners);
 * returns how many. */
int targetsOfKey(int db, const char *key, size_t klen, quorumTarget *t);
/* The current owners (group CURRENT, and FUTURE when the future ring keeps
 * them), then, while the rings differ, the future owners that are not
 * current ones (group FUTURE). Reads and writes ask them all and meet
 * their level in both groups (quorumEvalJoint); the version coordinator is
 * the first of them that can coordinate: a current owner, unless none
 * can. */
int targetsJoint(int db, const char *key, size_t klen, quorumTarget *t);
int targetJoint(const quorumTarget *t, int n);
/* Can a request to this member be attempted now? This node always can; a
 * peer if gossip does not suspect it and its link is not in backoff. */
int targetReachable(int member);
busLink *targetLink(int member);
const char *targetMemberId(int member); /* borrowed until gossip changes */
/* Sloppy quorum only: adds a fallback for home target i (the next
 * reachable member along the partition's walk that is not a target yet)
 * and returns its index, or -1 (strict mode, already replaced, none). */
int targetAddFallback(int db, const char *key, size_t klen, quorumTarget *t, int *n, int i);
/* May this member create a version now? A peer if it is reachable; this
 * node unless its disk refuses writes (a full disk: the next replica then
 * coordinates, reading what it holds, instead of this node writing nothing
 * locally and a version over a stale record to the others). */
int targetCanCoordinate(int member);
/* The version coordinator of a write: the first replica that can coordinate
 * (in this data center for the LOCAL levels, so the write needs no other
 * one). Returns its index in t, or -1. */
int targetCoordinator(const quorumTarget *t, int n, int level);
quorumVerdict targetEval(int level, const quorumTarget *t, int n);
/* The connection's CONSISTENCY level, or the configured default. r may
 * be NULL. */
int targetLevel(const request *r, int write);
/* How many of a read's n targets it asks at first (read-fanout): all of
 * them (read-fanout all, a joint quorum, or a level counted per data
 * center), else as many as the level needs. */
int targetReadFanout(const quorumTarget *t, int n, int level);
/* read-fanout needed: marks every target held back (QUORUM_HELD), then
 * this node's own and the next reachable ones in preference order, up to
 * ask, pending; their indexes go to pick (all marked before the caller asks
 * any, so that a failure asks a held-back one). Returns how many. */
int targetPickReaders(quorumTarget *t, int n, int ask, int *pick);
/* The first held-back target, now pending (a read retry counted), for the
 * caller to ask; -1 when none is held back. */
int targetTakeHeld(quorumTarget *t, int n);
/* When some target is held back and read-retry-ms is set: a timer armed to
 * run cb(arg) after it (the caller frees it with event_free); else NULL. */
struct event *targetRetryTimer(const quorumTarget *t, int n,
                               void (*cb)(evutil_socket_t, short, void *), void *arg);
targetRef *targetRefNew(void *op, int idx);
/* Frees ref; returns its op and sets *idx. */
void *targetRefTake(targetRef *ref, int *idx);

#endif
