/* test_quorum.c -- the quorum decision: every level (counts, ONE/TWO/THREE,
 * QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, EACH_QUORUM) in strict mode (home
 * replicas only) and sloppy mode (fallbacks standing in for failed home
 * replicas), in one and in two data centers; fewer replicas than asked,
 * none at all, held-back replicas, target groups, the error texts clients
 * and tests match, and the read width of cluster-wide reads. */
#include <criterion/criterion.h>
#include <string.h>

#include "quorum.h"
#include "server.h"

/* Targets from a spec: space-separated tokens "<dc><state>[f]", state one
 * of + (ok), - (failed), ? (pending), . (held back); a trailing f makes it
 * a fallback standing in for a home replica of that dc. */
static int build(const char *spec, quorumTarget *t) {
    static char dcs[QUORUM_MAX_TARGETS][16];
    int n = 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        int dl = 0;
        while (p[dl] && strchr("+-?.", p[dl]) == NULL) dl++;
        cr_assert(dl > 0 && dl < 16 && p[dl], "bad spec %s", spec);
        memcpy(dcs[n], p, (size_t)dl);
        dcs[n][dl] = '\0';
        char s = p[dl];
        int fallback = p[dl + 1] == 'f';
        t[n] = (quorumTarget){n,
                              s == '+'   ? QUORUM_OK
                              : s == '-' ? QUORUM_FAILED
                              : s == '?' ? QUORUM_PENDING
                                         : QUORUM_HELD,
                              fallback ? 0 : -1,
                              0,
                              QUORUM_GROUP_CURRENT,
                              dcs[n]};
        n++;
        p += dl + 1 + fallback;
    }
    return n;
}

static quorumVerdict eval(int level, const char *spec, const char *local) {
    quorumTarget t[QUORUM_MAX_TARGETS];
    int n = build(spec, t);
    return quorumEval(level, t, n, local, QUORUM_GROUP_ALL);
}

static int dcEq(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

#define CHECK(v, st, g, nd, d)                                                                 \
    do {                                                                                       \
        quorumVerdict v_ = (v);                                                                \
        cr_expect_eq(v_.status, (st), "status %d, want %d", v_.status, (st));                  \
        cr_expect_eq(v_.got, (g), "got %d, want %d", v_.got, (g));                             \
        cr_expect_eq(v_.need, (nd), "need %d, want %d", v_.need, (nd));                        \
        cr_expect(dcEq(v_.dc, (d)), "dc %s, want %s", v_.dc ? v_.dc : "-", (d) ? (d) : "-"); \
    } while (0)

#define MET QUORUM_MET
#define LOST QUORUM_LOST
#define WAIT QUORUM_WAITING

/* ---------------------------------------------------------------- matrix */

/* Each level against the same four situations, strict (no fallback) and
 * sloppy (a fallback answered for the failed home replica). */
typedef struct row {
    const char *spec;
    const char *local;
    int level;
    int status, got, need;
    const char *dc;
} row;

static const row matrix[] = {
    /* one DC: 3 home replicas, one answered, one failed, one pending */
    {"a+ a- a?", "a", 1, MET, 1, 1, NULL},
    {"a+ a- a?", "a", 2, WAIT, 1, 2, NULL},
    {"a+ a- a?", "a", 3, LOST, 1, 3, NULL},
    {"a+ a- a?", "a", LEVEL_QUORUM, WAIT, 1, 2, NULL},
    {"a+ a- a?", "a", LEVEL_ALL, LOST, 1, 3, NULL},
    {"a+ a- a?", "a", LEVEL_LOCAL_ONE, MET, 1, 1, "a"},
    {"a+ a- a?", "a", LEVEL_LOCAL_QUORUM, WAIT, 1, 2, "a"},
    {"a+ a- a?", "a", LEVEL_EACH_QUORUM, WAIT, 1, 2, "a"},
    /* the same, sloppy */
    {"a+ a- a? a+f", "a", 1, MET, 2, 1, NULL},
    {"a+ a- a? a+f", "a", 2, MET, 2, 2, NULL},
    {"a+ a- a? a+f", "a", 3, WAIT, 2, 3, NULL},
    {"a+ a- a? a+f", "a", LEVEL_QUORUM, MET, 2, 2, NULL},
    {"a+ a- a? a+f", "a", LEVEL_ALL, WAIT, 2, 3, NULL},
    {"a+ a- a? a+f", "a", LEVEL_LOCAL_ONE, MET, 2, 1, "a"},
    {"a+ a- a? a+f", "a", LEVEL_LOCAL_QUORUM, MET, 2, 2, "a"},
    {"a+ a- a? a+f", "a", LEVEL_EACH_QUORUM, MET, 0, 0, NULL},
    /* two DCs (a:2, b:1), this node in a, the failure in a */
    {"a+ a- b?", "a", 1, MET, 1, 1, NULL},
    {"a+ a- b?", "a", 2, WAIT, 1, 2, NULL},
    {"a+ a- b?", "a", 3, LOST, 1, 3, NULL},
    {"a+ a- b?", "a", LEVEL_QUORUM, WAIT, 1, 2, NULL},
    {"a+ a- b?", "a", LEVEL_ALL, LOST, 1, 3, NULL},
    {"a+ a- b?", "a", LEVEL_LOCAL_ONE, MET, 1, 1, "a"},
    {"a+ a- b?", "a", LEVEL_LOCAL_QUORUM, LOST, 1, 2, "a"},
    {"a+ a- b?", "a", LEVEL_EACH_QUORUM, LOST, 1, 2, "a"},
    /* the same, sloppy: the fallback counts for a */
    {"a+ a- b? a+f", "a", 1, MET, 2, 1, NULL},
    {"a+ a- b? a+f", "a", 2, MET, 2, 2, NULL},
    {"a+ a- b? a+f", "a", 3, WAIT, 2, 3, NULL},
    {"a+ a- b? a+f", "a", LEVEL_QUORUM, MET, 2, 2, NULL},
    {"a+ a- b? a+f", "a", LEVEL_ALL, WAIT, 2, 3, NULL},
    {"a+ a- b? a+f", "a", LEVEL_LOCAL_ONE, MET, 2, 1, "a"},
    {"a+ a- b? a+f", "a", LEVEL_LOCAL_QUORUM, MET, 2, 2, "a"},
    {"a+ a- b? a+f", "a", LEVEL_EACH_QUORUM, WAIT, 0, 1, "b"},
    /* two DCs, the failure in the other one */
    {"a+ a? b-", "a", 1, MET, 1, 1, NULL},
    {"a+ a? b-", "a", 2, WAIT, 1, 2, NULL},
    {"a+ a? b-", "a", 3, LOST, 1, 3, NULL},
    {"a+ a? b-", "a", LEVEL_QUORUM, WAIT, 1, 2, NULL},
    {"a+ a? b-", "a", LEVEL_ALL, LOST, 1, 3, NULL},
    {"a+ a? b-", "a", LEVEL_LOCAL_ONE, MET, 1, 1, "a"},
    {"a+ a? b-", "a", LEVEL_LOCAL_QUORUM, WAIT, 1, 2, "a"},
    {"a+ a? b-", "a", LEVEL_EACH_QUORUM, LOST, 0, 1, "b"}, /* lost beats waiting */
    /* the same, sloppy: the fallback counts for b, not for the local DC */
    {"a+ a? b- b+f", "a", 1, MET, 2, 1, NULL},
    {"a+ a? b- b+f", "a", 2, MET, 2, 2, NULL},
    {"a+ a? b- b+f", "a", 3, WAIT, 2, 3, NULL},
    {"a+ a? b- b+f", "a", LEVEL_QUORUM, MET, 2, 2, NULL},
    {"a+ a? b- b+f", "a", LEVEL_ALL, WAIT, 2, 3, NULL},
    {"a+ a? b- b+f", "a", LEVEL_LOCAL_ONE, MET, 1, 1, "a"},
    {"a+ a? b- b+f", "a", LEVEL_LOCAL_QUORUM, WAIT, 1, 2, "a"},
    {"a+ a? b- b+f", "a", LEVEL_EACH_QUORUM, WAIT, 1, 2, "a"},
    /* this node in b */
    {"a+ a+ b?", "b", LEVEL_LOCAL_ONE, WAIT, 0, 1, "b"},
    {"a+ a+ b-", "b", LEVEL_LOCAL_ONE, LOST, 0, 1, "b"},
    {"a+ a+ b- b+f", "b", LEVEL_LOCAL_ONE, MET, 1, 1, "b"},
    {"a+ a+ b?", "b", LEVEL_LOCAL_QUORUM, WAIT, 0, 1, "b"},
    /* everything answered / everything failed */
    {"a+ a+ b+", "a", LEVEL_ALL, MET, 3, 3, NULL},
    {"a+ a+ b+", "a", LEVEL_EACH_QUORUM, MET, 0, 0, NULL},
    {"a- a- b-", "a", 1, LOST, 0, 1, NULL},
    {"a- a- b-", "a", LEVEL_EACH_QUORUM, LOST, 0, 2, "a"},
};

Test(quorum, every_level_strict_and_sloppy_in_one_and_two_dcs) {
    for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
        const row *r = &matrix[i];
        quorumVerdict v = eval(r->level, r->spec, r->local);
        cr_expect(v.status == r->status && v.got == r->got && v.need == r->need &&
                      dcEq(v.dc, r->dc),
                  "row %zu (%s, level %d, local %s): got status %d %d of %d in %s, want %d %d of "
                  "%d in %s",
                  i, r->spec, r->level, r->local, v.status, v.got, v.need, v.dc ? v.dc : "-",
                  r->status, r->got, r->need, r->dc ? r->dc : "-");
    }
}

/* ---------------------------------------------------------- single levels */

Test(quorum, counts_progress_from_waiting_to_met) {
    CHECK(eval(2, "a? a? a?", "a"), WAIT, 0, 2, NULL);
    CHECK(eval(2, "a+ a? a?", "a"), WAIT, 1, 2, NULL);
    CHECK(eval(2, "a+ a? a+", "a"), MET, 2, 2, NULL);
    CHECK(eval(2, "a+ a- a-", "a"), LOST, 1, 2, NULL);
}

Test(quorum, fewer_replicas_than_asked_caps_the_count) {
    CHECK(eval(5, "a? a?", "a"), WAIT, 0, 2, NULL);
    CHECK(eval(5, "a+ a+", "a"), MET, 2, 2, NULL);
    CHECK(eval(3, "a+", "a"), MET, 1, 1, NULL);
    /* fallbacks do not raise the cap: it counts home replicas */
    CHECK(eval(3, "a+ a- a+f", "a"), MET, 2, 2, NULL);
}

Test(quorum, a_level_always_needs_one_answer) {
    /* only fallbacks (no home replica counted): the need is clamped to 1 */
    CHECK(eval(2, "a?f", "a"), WAIT, 0, 1, NULL);
    CHECK(eval(LEVEL_ALL, "a?f", "a"), WAIT, 0, 1, NULL);
    CHECK(eval(LEVEL_ALL, "a+f", "a"), MET, 1, 1, NULL);
    CHECK(eval(0, "a? a?", "a"), WAIT, 0, 1, NULL);
}

Test(quorum, zero_replicas_is_lost_at_every_level) {
    int levels[] = {1, 2, 3, LEVEL_QUORUM, LEVEL_ALL, LEVEL_LOCAL_ONE, LEVEL_LOCAL_QUORUM,
                    LEVEL_EACH_QUORUM};
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        CHECK(quorumEval(levels[i], NULL, 0, "a", QUORUM_GROUP_ALL), LOST, 0, 1, NULL);
}

Test(quorum, quorum_is_a_majority_of_home_replicas) {
    CHECK(eval(LEVEL_QUORUM, "a?", "a"), WAIT, 0, 1, NULL);
    CHECK(eval(LEVEL_QUORUM, "a+ a?", "a"), WAIT, 1, 2, NULL);
    CHECK(eval(LEVEL_QUORUM, "a+ a+ a? a?", "a"), WAIT, 2, 3, NULL);
    CHECK(eval(LEVEL_QUORUM, "a+ a+ a+ a? a?", "a"), MET, 3, 3, NULL);
    CHECK(eval(LEVEL_QUORUM, "a+ a- a- a? a?", "a"), WAIT, 1, 3, NULL);
    CHECK(eval(LEVEL_QUORUM, "a+ a- a- a- a?", "a"), LOST, 1, 3, NULL);
}

Test(quorum, all_in_strict_mode_fails_with_one_replica_down) {
    CHECK(eval(LEVEL_ALL, "a+ a+ a-", "a"), LOST, 2, 3, NULL);
    CHECK(eval(LEVEL_ALL, "a+ a+ a- a+f", "a"), MET, 3, 3, NULL);
    CHECK(eval(LEVEL_ALL, "a+ a+ a- a-f", "a"), LOST, 2, 3, NULL);
}

Test(quorum, held_back_replicas_keep_a_level_possible) {
    CHECK(eval(2, "a+ a- a.", "a"), WAIT, 1, 2, NULL);
    CHECK(eval(LEVEL_ALL, "a+ a. a.", "a"), WAIT, 1, 3, NULL);
    CHECK(eval(LEVEL_EACH_QUORUM, "a+ a. b.", "a"), WAIT, 1, 2, "a");
}

Test(quorum, local_levels_ignore_other_dcs) {
    CHECK(eval(LEVEL_LOCAL_ONE, "b+ b+ a?", "a"), WAIT, 0, 1, "a");
    CHECK(eval(LEVEL_LOCAL_QUORUM, "b+ b+ a+ a? a?", "a"), WAIT, 1, 2, "a");
    CHECK(eval(LEVEL_LOCAL_QUORUM, "b+ b+ a+ a+ a?", "a"), MET, 2, 2, "a");
    /* no replica in this DC: nothing can answer for it */
    CHECK(eval(LEVEL_LOCAL_ONE, "b+ b+", "a"), LOST, 0, 1, "a");
    CHECK(eval(LEVEL_LOCAL_QUORUM, "b+ b+", "a"), LOST, 0, 1, "a");
    /* a fallback standing in for a b replica never counts for a */
    CHECK(eval(LEVEL_LOCAL_ONE, "a- b+f", "a"), LOST, 0, 1, "a");
}

Test(quorum, each_quorum_needs_a_majority_in_every_dc_with_a_home_replica) {
    /* a:3 needs 2, b:2 needs 2, c:1 needs 1 */
    const char *s = "a+ a+ a- b+ b+ c?";
    CHECK(eval(LEVEL_EACH_QUORUM, s, "a"), WAIT, 0, 1, "c");
    CHECK(eval(LEVEL_EACH_QUORUM, "a+ a+ a- b+ b+ c+", "a"), MET, 0, 0, NULL);
    /* the first waiting group is reported, in the targets' order */
    CHECK(eval(LEVEL_EACH_QUORUM, "a+ a? a? b? b?", "a"), WAIT, 1, 2, "a");
    CHECK(eval(LEVEL_EACH_QUORUM, "b? b? a+ a? a?", "a"), WAIT, 0, 2, "b");
    /* a lost group decides even after a waiting one */
    CHECK(eval(LEVEL_EACH_QUORUM, "a+ a? a? b+ b-", "a"), LOST, 1, 2, "b");
    /* a DC with only a fallback in it is no group of its own */
    CHECK(eval(LEVEL_EACH_QUORUM, "a+ a+ a- c+f", "a"), MET, 0, 0, NULL);
    CHECK(eval(LEVEL_EACH_QUORUM, "a+ a+ a- c-f", "a"), MET, 0, 0, NULL);
    /* ... and the fallback counts where its home replica is */
    CHECK(eval(LEVEL_EACH_QUORUM, "a+ a- a- b+ a+f", "a"), MET, 0, 0, NULL);
}

Test(quorum, a_fallback_never_counts_as_a_home_replica) {
    /* 2 home replicas: QUORUM needs 2 whatever the number of fallbacks */
    CHECK(eval(LEVEL_QUORUM, "a- a- a+f a+f", "a"), MET, 2, 2, NULL);
    CHECK(eval(LEVEL_QUORUM, "a- a- a+f a?f", "a"), WAIT, 1, 2, NULL);
    CHECK(eval(LEVEL_QUORUM, "a- a- a+f a-f", "a"), LOST, 1, 2, NULL);
}

/* ----------------------------------------------------------------- groups */

Test(quorum, evaluates_over_a_group_of_targets_only) {
    quorumTarget t[QUORUM_MAX_TARGETS];
    int n = build("a+ a+ a? a? a-", t);
    /* current owners 0,1,2; future owners 2,3,4 (2 is in both) */
    t[0].groups = t[1].groups = 1;
    t[2].groups = 1 | 2;
    t[3].groups = t[4].groups = 2;
    CHECK(quorumEval(LEVEL_QUORUM, t, n, "a", 1), MET, 2, 2, NULL);
    CHECK(quorumEval(LEVEL_QUORUM, t, n, "a", 2), WAIT, 0, 2, NULL);
    CHECK(quorumEval(LEVEL_ALL, t, n, "a", 2), LOST, 0, 3, NULL);
    CHECK(quorumEval(LEVEL_QUORUM, t, n, "a", QUORUM_GROUP_ALL), WAIT, 2, 3, NULL);
    quorumResult(&t[2], 1);
    CHECK(quorumEval(LEVEL_QUORUM, t, n, "a", 2), WAIT, 1, 2, NULL);
    quorumResult(&t[3], 1);
    CHECK(quorumEval(LEVEL_QUORUM, t, n, "a", 2), MET, 2, 2, NULL);
    /* no target in the group */
    CHECK(quorumEval(LEVEL_QUORUM, t, n, "a", 4), LOST, 0, 1, NULL);
    CHECK(quorumEval(LEVEL_EACH_QUORUM, t, n, "a", 4), LOST, 0, 1, NULL);
}

Test(quorum, each_quorum_within_a_group) {
    quorumTarget t[QUORUM_MAX_TARGETS];
    int n = build("a+ b- a+ b+", t);
    t[0].groups = t[1].groups = 1;
    t[2].groups = t[3].groups = 2;
    CHECK(quorumEval(LEVEL_EACH_QUORUM, t, n, "a", 1), LOST, 0, 1, "b");
    CHECK(quorumEval(LEVEL_EACH_QUORUM, t, n, "a", 2), MET, 0, 0, NULL);
}

/* ---------------------------------------------------- results and counts */

Test(quorum, results_and_counts) {
    quorumTarget t[QUORUM_MAX_TARGETS];
    int n = build("a? a? a. a.", t);
    cr_expect_eq(quorumCount(t, n, QUORUM_HELD), 2);
    quorumResult(&t[0], 1);
    quorumResult(&t[1], 0);
    cr_expect_eq(t[0].state, QUORUM_OK);
    cr_expect_eq(t[1].state, QUORUM_FAILED);
    cr_expect_eq(quorumCount(t, n, QUORUM_OK), 1);
    cr_expect_eq(quorumCount(t, n, QUORUM_FAILED), 1);
    cr_expect_eq(quorumCount(t, n, QUORUM_PENDING), 0);
    cr_expect_eq(quorumCount(t, 0, QUORUM_OK), 0);
}

/* ----------------------------------------------------------- error texts */

Test(quorum, error_texts_are_the_ones_clients_match) {
    char e[320];
    quorumVerdict v = {LOST, 1, 2, NULL};
    cr_expect_str_eq(quorumError(&v, "answered", NULL, e, sizeof(e)),
                     "-NOQUORUM 1 of 2 replicas answered");
    cr_expect_str_eq(quorumError(&v, "acknowledged the write", "", e, sizeof(e)),
                     "-NOQUORUM 1 of 2 replicas acknowledged the write");
    cr_expect_str_eq(quorumError(&v, "acknowledged the write", "timeout", e, sizeof(e)),
                     "-NOQUORUM 1 of 2 replicas acknowledged the write (timeout)");
    quorumVerdict w = {LOST, 0, 2, "west"};
    cr_expect_str_eq(quorumError(&w, "acknowledged the write", "local storage: disk full", e,
                                 sizeof(e)),
                     "-NOQUORUM 0 of 2 replicas in west acknowledged the write (local storage: "
                     "disk full)");
    cr_expect_str_eq(quorumError(&w, "answered", NULL, e, sizeof(e)),
                     "-NOQUORUM 0 of 2 replicas in west answered");
}

Test(quorum, error_text_is_truncated_and_terminated) {
    char e[24];
    memset(e, 'x', sizeof(e));
    quorumVerdict v = {LOST, 1, 2, NULL};
    quorumError(&v, "acknowledged the write", "a long detail", e, sizeof(e));
    cr_expect_eq(strlen(e), sizeof(e) - 1);
    cr_expect_eq(strncmp(e, "-NOQUORUM 1 of 2", 16), 0);
}

/* ------------------------------------------------------------ read width */

Test(quorum, read_width_meets_every_acknowledged_write) {
    /* n - W + 1 */
    cr_expect_eq(quorumReadWidth(1, 3), 3);
    cr_expect_eq(quorumReadWidth(2, 3), 2);
    cr_expect_eq(quorumReadWidth(3, 3), 1);
    cr_expect_eq(quorumReadWidth(5, 3), 1); /* capped at n */
    cr_expect_eq(quorumReadWidth(LEVEL_QUORUM, 3), 2);
    cr_expect_eq(quorumReadWidth(LEVEL_QUORUM, 4), 2);
    cr_expect_eq(quorumReadWidth(LEVEL_QUORUM, 5), 3);
    cr_expect_eq(quorumReadWidth(LEVEL_LOCAL_QUORUM, 3), 2);
    cr_expect_eq(quorumReadWidth(LEVEL_EACH_QUORUM, 3), 2);
    cr_expect_eq(quorumReadWidth(LEVEL_ALL, 3), 1);
    cr_expect_eq(quorumReadWidth(LEVEL_LOCAL_ONE, 3), 3);
    cr_expect_eq(quorumReadWidth(1, 1), 1);
    /* no replicas: none to ask */
    cr_expect_eq(quorumReadWidth(LEVEL_QUORUM, 0), 0);
    cr_expect_eq(quorumReadWidth(2, 0), 0);
}

/* Joint quorums (a membership change): targets of the current ring (C), of
 * the future ring (F) or of both (B), each ok (+), failed (-) or pending
 * (?), all in one dc. */
static int buildJoint(const char *spec, quorumTarget *t) {
    int n = 0;
    for (const char *p = spec; *p; p++) {
        if (*p == ' ') continue;
        unsigned g = p[0] == 'C' ? QUORUM_GROUP_CURRENT
                     : p[0] == 'F' ? QUORUM_GROUP_FUTURE
                                   : QUORUM_GROUP_CURRENT | QUORUM_GROUP_FUTURE;
        int s = p[1] == '+' ? QUORUM_OK : p[1] == '-' ? QUORUM_FAILED : QUORUM_PENDING;
        t[n] = (quorumTarget){n, s, -1, 0, g, "dc1"};
        n++;
        p++;
    }
    return n;
}

static quorumVerdict joint(int level, const char *spec) {
    quorumTarget t[QUORUM_MAX_TARGETS];
    int n = buildJoint(spec, t);
    return quorumEvalJoint(level, t, n, "dc1");
}

Test(quorum, joint_without_future_targets_is_the_current_verdict) {
    CHECK(joint(2, "C+ C+ C?"), QUORUM_MET, 2, 2, NULL);
    CHECK(joint(2, "C+ C- C-"), QUORUM_LOST, 1, 2, NULL);
    CHECK(joint(LEVEL_QUORUM, "C+ C?"), QUORUM_WAITING, 1, 2, NULL);
}

Test(quorum, joint_needs_the_level_in_both_rings) {
    /* N=2, W=2: every replica moves (the case a single ring got wrong) */
    CHECK(joint(2, "C+ C+ F? F?"), QUORUM_WAITING, 0, 2, NULL);
    CHECK(joint(2, "C+ C+ F+ F?"), QUORUM_WAITING, 1, 2, NULL);
    CHECK(joint(2, "C+ C+ F+ F+"), QUORUM_MET, 2, 2, NULL);
    CHECK(joint(2, "C? C+ F+ F+"), QUORUM_WAITING, 1, 2, NULL);
    /* one replica stays (both rings): its answer counts in both */
    CHECK(joint(2, "B+ C+ F+"), QUORUM_MET, 2, 2, NULL);
    CHECK(joint(2, "B+ C+ F?"), QUORUM_WAITING, 1, 2, NULL);
    CHECK(joint(LEVEL_QUORUM, "B+ C? C? F? F?"), QUORUM_WAITING, 1, 2, NULL);
    CHECK(joint(LEVEL_QUORUM, "B+ C+ C? F+ F?"), QUORUM_MET, 2, 2, NULL);
    CHECK(joint(1, "C+ C? F? F?"), QUORUM_WAITING, 0, 1, NULL);
    CHECK(joint(1, "C? C? F+ F?"), QUORUM_WAITING, 0, 1, NULL);
    CHECK(joint(1, "C+ F+"), QUORUM_MET, 1, 1, NULL);
}

Test(quorum, joint_is_lost_when_either_ring_is_lost) {
    CHECK(joint(2, "C+ C+ F+ F-"), QUORUM_LOST, 1, 2, NULL);
    CHECK(joint(2, "C- C+ F+ F+"), QUORUM_LOST, 1, 2, NULL);
    CHECK(joint(2, "C- C? F+ F+"), QUORUM_LOST, 0, 2, NULL);
    CHECK(joint(LEVEL_ALL, "B+ C+ F-"), QUORUM_LOST, 1, 2, NULL);
    /* the current ring lost decides even while the future one waits */
    CHECK(joint(2, "C- C- F? F?"), QUORUM_LOST, 0, 2, NULL);
}

Test(quorum, joint_quorums_always_overlap) {
    /* Any set of targets meeting a write level W in both rings and any set
     * meeting a read level R in either ring share a target when R + W > N:
     * enumerate every acknowledgement pattern of 2 current-only, 1 shared
     * and 2 future-only targets (N = 3 in each ring), W = R = 2. */
    const unsigned groups[5] = {QUORUM_GROUP_CURRENT, QUORUM_GROUP_CURRENT,
                                QUORUM_GROUP_CURRENT | QUORUM_GROUP_FUTURE, QUORUM_GROUP_FUTURE,
                                QUORUM_GROUP_FUTURE};
    for (unsigned w = 0; w < 32; w++) {
        quorumTarget t[5];
        for (int i = 0; i < 5; i++)
            t[i] = (quorumTarget){i, (w >> i) & 1 ? QUORUM_OK : QUORUM_FAILED, -1, 0, groups[i],
                                  "dc1"};
        if (quorumEvalJoint(2, t, 5, "dc1").status != QUORUM_MET) continue;
        for (unsigned r = 0; r < 32; r++) {
            for (unsigned mask = QUORUM_GROUP_CURRENT; mask <= QUORUM_GROUP_FUTURE; mask <<= 1) {
                quorumTarget u[5];
                for (int i = 0; i < 5; i++)
                    u[i] = (quorumTarget){i, (r >> i) & 1 ? QUORUM_OK : QUORUM_FAILED, -1, 0,
                                          groups[i], "dc1"};
                /* a read that routes by one ring only */
                if (quorumEval(2, u, 5, "dc1", mask).status != QUORUM_MET) continue;
                unsigned in = 0;
                for (int i = 0; i < 5; i++)
                    if (groups[i] & mask) in |= 1u << i;
                cr_expect(w & r & in, "write %x and read %x (ring %u) share no replica", w, r,
                          mask);
            }
        }
    }
}
