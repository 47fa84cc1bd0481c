/* test_ring.c -- the ring: determinism, distinct replicas, balance, weights,
 * minimal movement on join/leave, racks and data centers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

typedef struct topo {
    int n;
    char ids[64][41];
    char dcs[64][16];
    char racks[64][16];
    ringMember m[64];
} topo;

static unsigned long long rng = 88172645463325252ULL;
static unsigned long long next64(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void topoRandom(topo *t, int n) {
    t->n = n;
    for (int i = 0; i < n; i++) {
        snprintf(t->ids[i], 41, "%016llx%016llx", next64(), next64());
        strcpy(t->dcs[i], "dc1");
        snprintf(t->racks[i], 16, "r%d", i);
        t->m[i] = (ringMember){t->ids[i], t->dcs[i], t->racks[i], 64};
    }
}

static ring *build(topo *t, const char *repl) {
    ringDcSpec spec[RING_MAX_DCS];
    int ns;
    char err[128];
    cr_assert_eq(ringParseReplication(repl, spec, &ns, err, sizeof(err)), 0, "%s", err);
    ring *r = ringCreate(t->m, t->n, 8, spec, ns);
    cr_assert_not_null(r);
    return r;
}

/* the replica set of partition p as ids, to compare rings built from
 * differently ordered member arrays */
static void idsOf(const ring *r, const topo *t, unsigned p, const char **out) {
    const int *l;
    int n = ringReplicas(r, p, &l);
    for (int i = 0; i < n; i++) out[i] = t->ids[l[i]];
}

Test(ring, deterministic_whatever_the_member_order) {
    topo a, b;
    topoRandom(&a, 7);
    b = a;
    /* reverse the order of b's members */
    for (int i = 0; i < 7; i++) {
        strcpy(b.ids[i], a.ids[6 - i]);
        strcpy(b.racks[i], a.racks[6 - i]);
        b.m[i] = (ringMember){b.ids[i], b.dcs[i], b.racks[i], 64};
    }
    ring *ra = build(&a, "3"), *rb = build(&b, "3");
    cr_assert_eq(ringHash(ra), ringHash(rb));
    for (unsigned p = 0; p < ra->q; p++) {
        const char *x[8], *y[8];
        idsOf(ra, &a, p, x);
        idsOf(rb, &b, p, y);
        for (int i = 0; i < 3; i++) cr_assert_str_eq(x[i], y[i]);
    }
    ringFree(ra);
    ringFree(rb);
}

Test(ring, n_distinct_replicas_and_capping) {
    for (int n = 1; n <= 12; n++) {
        topo t;
        topoRandom(&t, n);
        ring *r = build(&t, "3");
        cr_assert_eq(r->nreplicas, n < 3 ? n : 3);
        for (unsigned p = 0; p < r->q; p++) {
            const int *l;
            int c = ringReplicas(r, p, &l);
            for (int i = 0; i < c; i++)
                for (int j = i + 1; j < c; j++) cr_assert_neq(l[i], l[j]);
            const int *w;
            cr_assert_eq(ringWalk(r, p, &w), n);
        }
        ringFree(r);
    }
}

static void counts(const ring *r, int n, int *prim, int *slots) {
    memset(prim, 0, sizeof(int) * (size_t)n);
    memset(slots, 0, sizeof(int) * (size_t)n);
    for (unsigned p = 0; p < r->q; p++) {
        const int *l;
        int c = ringReplicas(r, p, &l);
        prim[l[0]]++;
        for (int i = 0; i < c; i++) slots[l[i]]++;
    }
}

Test(ring, balanced_within_15_percent_with_weight_64) {
    for (int trial = 0; trial < 20; trial++) {
        for (int n = 3; n <= 16; n++) {
            topo t;
            topoRandom(&t, n);
            ring *r = build(&t, "3");
            int prim[64], slots[64];
            counts(r, n, prim, slots);
            double fair1 = 256.0 / n, fairN = 256.0 * 3 / n;
            for (int i = 0; i < n; i++) {
                cr_assert(prim[i] >= fair1 * 0.85 && prim[i] <= fair1 * 1.15,
                          "n=%d node %d owns %d partitions, fair %.1f", n, i, prim[i], fair1);
                cr_assert(slots[i] >= fairN * 0.85 && slots[i] <= fairN * 1.15,
                          "n=%d node %d holds %d replicas, fair %.1f", n, i, slots[i], fairN);
            }
            ringFree(r);
        }
    }
}

Test(ring, proportional_to_weight) {
    for (int trial = 0; trial < 20; trial++) {
        topo t;
        topoRandom(&t, 8);
        t.m[0].weight = 128;
        t.m[1].weight = 32;
        t.m[2].weight = 96;
        ring *r = build(&t, "2");
        int prim[64], slots[64];
        counts(r, 8, prim, slots);
        double wsum = 0;
        for (int i = 0; i < 8; i++) wsum += t.m[i].weight;
        for (int i = 0; i < 8; i++) {
            double fair1 = 256.0 * t.m[i].weight / wsum, fairN = fair1 * 2;
            cr_assert(prim[i] >= fair1 * 0.85 - 1 && prim[i] <= fair1 * 1.15 + 1,
                      "weight %d owns %d, fair %.1f", t.m[i].weight, prim[i], fair1);
            cr_assert(slots[i] >= fairN * 0.8 && slots[i] <= fairN * 1.2,
                      "weight %d holds %d, fair %.1f", t.m[i].weight, slots[i], fairN);
        }
        ringFree(r);
    }
}

/* replica slots whose member changed between two rings (compared by id) */
static int moved(const ring *a, const topo *ta, const ring *b, const topo *tb) {
    int changed = 0;
    for (unsigned p = 0; p < a->q; p++) {
        const char *x[8], *y[8];
        idsOf(a, ta, p, x);
        idsOf(b, tb, p, y);
        for (int i = 0; i < b->nreplicas; i++) {
            int found = 0;
            for (int j = 0; j < a->nreplicas; j++)
                if (!strcmp(y[i], x[j])) found = 1;
            if (!found) changed++;
        }
    }
    return changed;
}

Test(ring, join_moves_about_one_in_n_plus_one) {
    for (int trial = 0; trial < 10; trial++) {
        for (int n = 3; n <= 10; n++) {
            topo t;
            topoRandom(&t, n + 1);
            topo small = t;
            small.n = n;
            ring *before = build(&small, "3"), *after = build(&t, "3");
            int ch = moved(before, &small, after, &t);
            double frac = ch / (256.0 * 3), ideal = 1.0 / (n + 1);
            cr_assert(frac >= ideal * 0.8 && frac <= ideal * 1.6,
                      "n=%d -> %d moved %.3f of the replica slots, ideal %.3f", n, n + 1, frac,
                      ideal);
            /* and a leave is the same change backwards */
            int back = moved(after, &t, before, &small);
            cr_assert(back / (256.0 * 3) <= ideal * 1.6);
            ringFree(before);
            ringFree(after);
        }
    }
}

Test(ring, distinct_racks_when_there_are_enough) {
    topo t;
    topoRandom(&t, 9);
    for (int i = 0; i < 9; i++) snprintf(t.racks[i], 16, "rack%d", i % 3);
    ring *r = build(&t, "3");
    for (unsigned p = 0; p < r->q; p++) {
        const int *l;
        ringReplicas(r, p, &l);
        cr_assert(strcmp(t.racks[l[0]], t.racks[l[1]]) && strcmp(t.racks[l[0]], t.racks[l[2]]) &&
                      strcmp(t.racks[l[1]], t.racks[l[2]]),
                  "partition %u has two replicas on one rack", p);
    }
    ringFree(r);
}

/* Property: random topologies of data centers and racks; every list holds
 * exactly the asked count per data center (capped by what exists), distinct
 * members, and distinct racks within a data center whenever it has enough. */
Test(ring, data_center_placement_property) {
    const char *dcs[3] = {"east", "west", "north"};
    for (int trial = 0; trial < 200; trial++) {
        topo t;
        int n = 2 + (int)(next64() % 14);
        topoRandom(&t, n);
        int nracks[3] = {1 + (int)(next64() % 4), 1 + (int)(next64() % 4), 1 + (int)(next64() % 4)};
        for (int i = 0; i < n; i++) {
            int d = (int)(next64() % 3);
            strcpy(t.dcs[i], dcs[d]);
            snprintf(t.racks[i], 16, "%s-r%d", dcs[d], (int)(next64() % (unsigned)nracks[d]));
            t.m[i].weight = 16 + (int)(next64() % 100);
        }
        int want[3] = {1 + (int)(next64() % 3), 1 + (int)(next64() % 3), 0};
        char repl[64];
        snprintf(repl, sizeof(repl), "east:%d,west:%d", want[0], want[1]);
        ring *r = build(&t, repl);
        int have[3] = {0, 0, 0}, racks[3] = {0, 0, 0};
        for (int d = 0; d < 2; d++) {
            char seen[64][16];
            int ns = 0;
            for (int i = 0; i < n; i++) {
                if (strcmp(t.dcs[i], dcs[d])) continue;
                have[d]++;
                int dup = 0;
                for (int k = 0; k < ns; k++)
                    if (!strcmp(seen[k], t.racks[i])) dup = 1;
                if (!dup) strcpy(seen[ns++], t.racks[i]);
            }
            racks[d] = ns;
        }
        int expect[2] = {want[0] < have[0] ? want[0] : have[0], want[1] < have[1] ? want[1] : have[1]};
        cr_assert_eq(r->nreplicas, expect[0] + expect[1]);
        for (unsigned p = 0; p < r->q; p++) {
            const int *l;
            int c = ringReplicas(r, p, &l);
            int got[2] = {0, 0};
            for (int i = 0; i < c; i++) {
                for (int j = i + 1; j < c; j++) cr_assert_neq(l[i], l[j]);
                int d = !strcmp(t.dcs[l[i]], "east") ? 0 : !strcmp(t.dcs[l[i]], "west") ? 1 : 2;
                cr_assert_neq(d, 2, "a replica in a data center the spec does not name");
                got[d]++;
                /* distinct racks in d whenever d has at least as many racks as replicas */
                if (racks[d] >= expect[d])
                    for (int j = 0; j < i; j++)
                        if (!strcmp(t.dcs[l[j]], t.dcs[l[i]]))
                            cr_assert(strcmp(t.racks[l[j]], t.racks[l[i]]),
                                      "two replicas on rack %s", t.racks[l[i]]);
            }
            cr_assert_eq(got[0], expect[0]);
            cr_assert_eq(got[1], expect[1]);
        }
        ringFree(r);
    }
}

Test(ring, parse_replication) {
    ringDcSpec s[RING_MAX_DCS];
    int n;
    char err[128];
    cr_assert_eq(ringParseReplication("3", s, &n, err, sizeof(err)), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(s[0].count, 3);
    cr_assert_str_eq(s[0].dc, "");
    cr_assert_eq(ringParseReplication("east:3,west:2", s, &n, err, sizeof(err)), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(s[1].dc, "west");
    cr_assert_eq(s[1].count, 2);
    const char *bad[] = {"", "0", "-1", "x", "east:", ":3", "east:3,east:2", "3,east:2", "east:0", "65", NULL};
    for (int i = 0; bad[i]; i++)
        cr_assert_eq(ringParseReplication(bad[i], s, &n, err, sizeof(err)), -1, "%s", bad[i]);
}
