/* quorum.c -- the quorum decision: given a consistency level, the targets
 * of an operation (each pending, answered, failed or held back; a home
 * replica or a fallback standing in for one; its data center) and the
 * local data center, is the level met, can it no longer be met, or must
 * the operation wait? Pure: the state machines (read.c, write.c) own the
 * targets and feed the answers; see quorum.h for the API.
 *
 * The levels:
 *   a count c          min(c, home replicas) answers anywhere (fewer
 *                      replicas than asked: all of them), at least 1
 *   QUORUM             home/2 + 1 answers anywhere
 *   ALL                every home replica's worth of answers
 *   LOCAL_ONE          1 answer counting for the local data center
 *   LOCAL_QUORUM       home/2 + 1 of the local data center's home replicas
 *   EACH_QUORUM        home/2 + 1 in every data center that has a home
 *                      replica; the first one lost decides, else the first
 *                      one still waiting
 * "home" counts home replicas only; answers count fallbacks too (sloppy
 * quorum: a fallback keeps a hint for the replica it stands in for, so it
 * answers for that replica's data center). A level is lost once the
 * answers plus the targets still pending or held back cannot reach it. */
#include "quorum.h"

#include <stdio.h>
#include <string.h>

#include "server.h" /* LEVEL_* */

static int sameDc(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }

static int inGroup(const quorumTarget *t, unsigned mask) { return (t->groups & mask) != 0; }

/* The answers so far, those still possible, and the home replicas of the
 * targets in mask whose data center is dc (any, if dc is NULL). */
typedef struct tally {
    int home, ok, open;
} tally;

static tally count(const quorumTarget *t, int n, unsigned mask, const char *dc) {
    tally c = {0, 0, 0};
    for (int i = 0; i < n; i++) {
        if (!inGroup(&t[i], mask) || (dc && !sameDc(t[i].dc, dc))) continue;
        if (t[i].owner < 0) c.home++;
        if (t[i].state == QUORUM_OK) c.ok++;
        else if (t[i].state == QUORUM_PENDING || t[i].state == QUORUM_HELD) c.open++;
    }
    return c;
}

static int decide(tally c, int need) {
    return c.ok >= need ? QUORUM_MET : c.ok + c.open < need ? QUORUM_LOST : QUORUM_WAITING;
}

/* EACH_QUORUM: one group per data center of a home replica, in the order
 * the targets name them. */
static quorumVerdict evalEach(const quorumTarget *t, int n, unsigned mask) {
    quorumVerdict v = {QUORUM_MET, 0, 0, NULL};
    for (int i = 0; i < n; i++) {
        if (t[i].owner >= 0 || !inGroup(&t[i], mask)) continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = t[j].owner < 0 && inGroup(&t[j], mask) && sameDc(t[j].dc, t[i].dc);
        if (seen) continue;
        tally c = count(t, n, mask, t[i].dc);
        int need = c.home / 2 + 1;
        int st = decide(c, need);
        if (st == QUORUM_MET) continue;
        if (v.status == QUORUM_MET || st == QUORUM_LOST) /* first waiting, or the lost one */
            v = (quorumVerdict){st, c.ok, need, t[i].dc};
        if (st == QUORUM_LOST) break;
    }
    return v;
}

quorumVerdict quorumEval(int level, const quorumTarget *t, int n, const char *localdc,
                         unsigned mask) {
    int any = 0;
    for (int i = 0; i < n && !any; i++) any = inGroup(&t[i], mask);
    if (!any) return (quorumVerdict){QUORUM_LOST, 0, 1, NULL};
    if (level == LEVEL_EACH_QUORUM) return evalEach(t, n, mask);
    int local = level == LEVEL_LOCAL_ONE || level == LEVEL_LOCAL_QUORUM;
    tally c = count(t, n, mask, local ? (localdc ? localdc : "") : NULL);
    int need;
    if (level == LEVEL_LOCAL_ONE) need = 1;
    else if (level == LEVEL_LOCAL_QUORUM || level == LEVEL_QUORUM) need = c.home / 2 + 1;
    else if (level == LEVEL_ALL) need = c.home;
    else need = level < c.home ? level : c.home; /* fewer replicas than asked: capped */
    if (need < 1) need = 1;
    return (quorumVerdict){decide(c, need), c.ok, need, local ? localdc : NULL};
}

quorumVerdict quorumEvalJoint(int level, const quorumTarget *t, int n, const char *localdc) {
    quorumVerdict cur = quorumEval(level, t, n, localdc, QUORUM_GROUP_CURRENT);
    int joint = 0;
    for (int i = 0; i < n && !joint; i++) joint = inGroup(&t[i], QUORUM_GROUP_FUTURE);
    if (!joint || cur.status == QUORUM_LOST) return cur;
    quorumVerdict fut = quorumEval(level, t, n, localdc, QUORUM_GROUP_FUTURE);
    if (fut.status == QUORUM_LOST || cur.status == QUORUM_MET) return fut;
    return cur; /* current waiting, future met or waiting */
}

char *quorumError(const quorumVerdict *v, const char *what, const char *detail, char *out,
                  size_t len) {
    int d = detail && detail[0];
    snprintf(out, len, "-NOQUORUM %d of %d replicas%s%s %s%s%s%s", v->got, v->need,
             v->dc ? " in " : "", v->dc ? v->dc : "", what, d ? " (" : "", d ? detail : "",
             d ? ")" : "");
    return out;
}

void quorumResult(quorumTarget *t, int ok) { t->state = ok ? QUORUM_OK : QUORUM_FAILED; }

int quorumCount(const quorumTarget *t, int n, int state) {
    int c = 0;
    for (int i = 0; i < n; i++) c += t[i].state == state;
    return c;
}

int quorumReadWidth(int wlevel, int n) {
    int w = wlevel == LEVEL_QUORUM || wlevel == LEVEL_LOCAL_QUORUM || wlevel == LEVEL_EACH_QUORUM
                ? n / 2 + 1
            : wlevel == LEVEL_ALL     ? n
            : wlevel == LEVEL_LOCAL_ONE ? 1
                                        : (wlevel < n ? wlevel : n);
    if (w < 1) w = 1;
    return n - w + 1;
}
