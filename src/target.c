/* target.c -- an operation's targets: the key's replicas as gossip's
 * current ring places them, reachability, sloppy-quorum fallbacks and the
 * version coordinator; see target.h. */
#include "target.h"

#include <event2/event.h>

#include <string.h>

#include "coord.h"
#include "gossip.h"
#include "store.h"

/* Data center names, interned: a target keeps a pointer to its DC's name
 * while gossip's member table may be reallocated under it. Few names, kept
 * for the life of the process. */
static const char *dcIntern(const char *dc) {
    static char **names;
    static int n;
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], dc)) return names[i];
    names = zrealloc(names, sizeof(char *) * (size_t)(n + 1));
    names[n] = zstrdup(dc);
    return names[n++];
}

static quorumTarget newTarget(int m, int owner, unsigned groups) {
    return (quorumTarget){m, QUORUM_PENDING, owner, 0, groups,
                          dcIntern(gossipMemberDc(owner >= 0 ? owner : m))};
}

int targetsOfKey(int db, const char *key, size_t klen, quorumTarget *t) {
    unsigned p = keyPartition(keyHash(db, key, klen), server.qbits);
    int list[QUORUM_MAX_TARGETS];
    int n = gossipOwners(p, list);
    for (int i = 0; i < n; i++) t[i] = newTarget(list[i], -1, QUORUM_GROUP_CURRENT);
    return n;
}

int targetsJoint(int db, const char *key, size_t klen, quorumTarget *t) {
    int n = targetsOfKey(db, key, klen, t);
    if (!gossipChanging()) return n;
    unsigned p = keyPartition(keyHash(db, key, klen), server.qbits);
    int fut[QUORUM_MAX_TARGETS];
    int nf = gossipFutureOwners(p, fut), home = n;
    for (int j = 0; j < nf; j++) {
        int i = 0;
        while (i < home && t[i].member != fut[j]) i++;
        if (i < home) t[i].groups |= QUORUM_GROUP_FUTURE;
        else if (n < QUORUM_MAX_TARGETS) t[n++] = newTarget(fut[j], -1, QUORUM_GROUP_FUTURE);
    }
    return n;
}

int targetJoint(const quorumTarget *t, int n) {
    for (int i = 0; i < n; i++)
        if (t[i].groups & QUORUM_GROUP_FUTURE) return 1;
    return 0;
}

busLink *targetLink(int idx) { return gossipMemberLink(idx); }

const char *targetMemberId(int idx) { return gossipMemberId(idx); }

int targetReachable(int idx) {
    if (idx == gossipSelf()) return 1;
    return gossipMemberUp(idx) && busLinkUsable(targetLink(idx));
}

/* The next reachable member along the partition's walk that is neither a
 * home replica nor already a fallback; -1 if there is none. */
static int pickFallback(int db, const char *key, size_t klen, const quorumTarget *t, int n) {
    unsigned p = keyPartition(keyHash(db, key, klen), server.qbits);
    int nm = gossipCount();
    int *walk = zmalloc(sizeof(int) * (size_t)(nm ? nm : 1));
    int wn = gossipWalk(p, walk);
    int found = -1;
    for (int j = 0; j < wn && found < 0; j++) {
        int m = walk[j];
        int used = 0;
        for (int i = 0; i < n; i++)
            if (t[i].member == m) used = 1;
        if (!used && targetReachable(m)) found = m;
    }
    zfree(walk);
    return found;
}

int targetAddFallback(int db, const char *key, size_t klen, quorumTarget *t, int *n, int i) {
    if (server.quorum_mode != QUORUM_SLOPPY || t[i].owner != -1 || t[i].replaced ||
        *n >= QUORUM_MAX_TARGETS)
        return -1;
    int m = pickFallback(db, key, klen, t, *n);
    if (m < 0) return -1;
    t[i].replaced = 1;
    t[(*n)++] = newTarget(m, t[i].member, t[i].groups);
    coordStats.fallbacks++;
    return *n - 1;
}

int targetCanCoordinate(int member) {
    if (member == gossipSelf()) return storeWritable();
    return targetReachable(member);
}

int targetCoordinator(const quorumTarget *t, int n, int level) {
    int local = level == LEVEL_LOCAL_ONE || level == LEVEL_LOCAL_QUORUM;
    for (int pass = local ? 0 : 1; pass < 2; pass++)
        for (int i = 0; i < n; i++)
            if (targetCanCoordinate(t[i].member) &&
                (pass || !strcmp(gossipMemberDc(t[i].member), server.dc)))
                return i;
    return -1;
}

quorumVerdict targetEval(int level, const quorumTarget *t, int n) {
    return quorumEvalJoint(level, t, n, server.dc);
}

int targetLevel(const request *r, int write) {
    int l = r ? (write ? r->write_level : r->read_level) : 0;
    return l ? l : (int)(write ? server.write_quorum : server.read_quorum);
}

targetRef *targetRefNew(void *op, int idx) {
    targetRef *ref = zmalloc(sizeof(*ref));
    ref->op = op;
    ref->idx = idx;
    return ref;
}

void *targetRefTake(targetRef *ref, int *idx) {
    void *op = ref->op;
    *idx = ref->idx;
    zfree(ref);
    return op;
}

int targetReadFanout(const quorumTarget *t, int n, int level) {
    if (server.read_fanout == READ_FANOUT_ALL || targetJoint(t, n) || level == LEVEL_LOCAL_ONE ||
        level == LEVEL_LOCAL_QUORUM || level == LEVEL_EACH_QUORUM)
        return n;
    quorumVerdict v = targetEval(level, t, n);
    return v.need < n ? v.need : n;
}

int targetPickReaders(quorumTarget *t, int n, int ask, int *pick) {
    int np = 0;
    for (int i = 0; i < n; i++) {
        t[i].state = QUORUM_HELD;
        if (t[i].member == gossipSelf()) pick[np++] = i;
    }
    for (int i = 0; i < n && np < ask; i++)
        if (t[i].member != gossipSelf() && targetReachable(t[i].member)) pick[np++] = i;
    for (int j = 0; j < np; j++) t[pick[j]].state = QUORUM_PENDING;
    return np;
}

int targetTakeHeld(quorumTarget *t, int n) {
    for (int i = 0; i < n; i++) {
        if (t[i].state != QUORUM_HELD) continue;
        t[i].state = QUORUM_PENDING;
        coordStats.read_retries++;
        return i;
    }
    return -1;
}

struct event *targetRetryTimer(const quorumTarget *t, int n,
                               void (*cb)(evutil_socket_t, short, void *), void *arg) {
    if (!quorumCount(t, n, QUORUM_HELD) || server.read_retry_ms <= 0) return NULL;
    struct event *ev = evtimer_new(server.base, cb, arg);
    struct timeval tv = {(time_t)(server.read_retry_ms / 1000),
                         (suseconds_t)(server.read_retry_ms % 1000) * 1000};
    evtimer_add(ev, &tv);
    return ev;
}
