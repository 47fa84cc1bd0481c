/* quorum.h -- the quorum decision of a read or a write, as a pure function
 * of (level, targets, local data center): no I/O, no globals. The state
 * machines (read.c, write.c) record each target's answer in its state and
 * ask quorumEval "enough?" after every change; quorumError words a verdict
 * that can no longer be met for the client. Shaped after Riak's
 * riak_kv_get_core / put_core: add a result, enough?, the response.
 *
 * API:
 *   quorumEval(level, t, n, localdc, mask)   met / cannot be met / waiting
 *   quorumEvalJoint(level, t, n, localdc)    the same in every group present
 *   quorumError(v, what, detail, out, len)   the -NOQUORUM text of a verdict
 *   quorumResult(t, ok)                      record one target's answer
 *   quorumCount(t, n, state)                 targets in a state
 *   quorumReadWidth(wlevel, n)               replicas a read must ask to meet
 *                                            every write of level wlevel
 *
 * Invariants: the verdict depends only on the arguments, so a level can be
 * evaluated over any subset of the targets (the group mask; joint quorums
 * while partitions move evaluate once per group). A fallback (owner >= 0)
 * never adds a home replica: it counts towards the level of the home
 * replica it stands in for, in that replica's data center. */
#ifndef RINGKV_QUORUM_H
#define RINGKV_QUORUM_H

#include <stddef.h>

/* An operation never has more targets than this (home replicas plus the
 * fallbacks standing in for them). */
#define QUORUM_MAX_TARGETS 64

/* A target's state. */
#define QUORUM_PENDING 0 /* asked, no answer yet */
#define QUORUM_OK 1      /* answered / acknowledged */
#define QUORUM_FAILED 2  /* failed, timed out or unreachable */
#define QUORUM_HELD 3    /* reads: held back while the asked ones suffice */

/* Target groups (bit mask). Every target belongs to at least one. */
#define QUORUM_GROUP_CURRENT 1u /* the partition's owners today */
#define QUORUM_GROUP_FUTURE 2u  /* its owners once a membership change ends */
#define QUORUM_GROUP_ALL (~0u)  /* evaluate over every target */

/* One node asked for an operation. The quorum core reads state, owner, dc
 * and groups; member and replaced belong to the state machines. */
typedef struct quorumTarget {
    int member;      /* the caller's index of the node (membership table) */
    int state;       /* QUORUM_* */
    int owner;       /* -1: a home replica; else the member index of the
                        home replica this fallback stands in for */
    int replaced;    /* home replica: a fallback was already added for it */
    unsigned groups; /* QUORUM_GROUP_* bits; a fallback has its home's */
    const char *dc;  /* the data center its answer counts for (a fallback:
                        its home replica's); borrowed, outlives the target */
} quorumTarget;

/* The verdict values. */
#define QUORUM_WAITING 0
#define QUORUM_MET 1
#define QUORUM_LOST -1 /* can no longer be met */

typedef struct quorumVerdict {
    int status;     /* QUORUM_MET / QUORUM_LOST / QUORUM_WAITING */
    int got, need;  /* answers of the deciding group, and how many it needs
                       (EACH_QUORUM met: 0 and 0, no single group decides) */
    const char *dc; /* the deciding group's data center, NULL when the
                       level counts replicas anywhere; borrowed from the
                       targets or localdc */
} quorumVerdict;

/* Evaluates level (a count >= 1 or LEVEL_*) over the targets whose groups
 * meet mask. localdc names this node's data center (the LOCAL levels).
 * No target in mask: lost, 0 of 1. t, localdc borrowed. */
quorumVerdict quorumEval(int level, const quorumTarget *t, int n, const char *localdc,
                         unsigned mask);
/* Joint quorum (while partitions move, Cassandra's pending ranges): the
 * level evaluated over the current owners and, when some target is in the
 * future group, over the future owners too. Met when met in both; lost when
 * lost in either (that group's verdict); else waiting. So an acknowledged
 * write has W acknowledgements among the owners of either ring, and a read
 * R answers in either, and every node overlaps with every other whichever
 * ring it routes by. */
quorumVerdict quorumEvalJoint(int level, const quorumTarget *t, int n, const char *localdc);
/* Writes "-NOQUORUM <got> of <need> replicas[ in <dc>] <what>[ (<detail>)]"
 * into out (len bytes, truncated, always terminated). detail may be NULL
 * or empty. Returns out. */
char *quorumError(const quorumVerdict *v, const char *what, const char *detail, char *out,
                  size_t len);
/* Records a target's answer: ok, or failed. */
void quorumResult(quorumTarget *t, int ok);
int quorumCount(const quorumTarget *t, int n, int state);
/* How many of a partition's n replicas a read must ask so that it meets at
 * least one that acknowledged any write of level wlevel: n - W + 1. */
int quorumReadWidth(int wlevel, int n);

#endif
