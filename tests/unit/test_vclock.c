/* test_vclock.c -- vector clocks, varints and the hybrid logical clock
 * (vclock.c). Clocks decide which writes a replica keeps, so beside the
 * basic operations this checks the properties the design leans on: compare
 * agrees with pointwise order, pruning never makes a clock look newer, the
 * encoding is canonical and rejects anything malformed, and the HLC never
 * goes backwards whatever the wall clock does. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vclock.h"

/* A clock from "actor, counter" pairs, any order. */
static void mk(vclock *vc, int n, const uint64_t *pairs) {
    vclockInit(vc);
    for (int i = 0; i < n; i++) vclockRaise(vc, pairs[2 * i], pairs[2 * i + 1]);
}

static unsigned long long rng = 88172645463325252ULL;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void assertSorted(const vclock *vc) {
    for (int i = 1; i < vc->n; i++)
        cr_assert_lt(vc->e[i - 1].actor, vc->e[i].actor, "entries sorted, no duplicates");
    for (int i = 0; i < vc->n; i++) cr_assert_neq(vc->e[i].counter, 0, "no zero counters");
}

/* ------------------------------------------------------------ basics */

Test(vclock, raise_and_get) {
    vclock vc;
    vclockInit(&vc);
    vclockRaise(&vc, 5, 10);
    vclockRaise(&vc, 1, 3);
    vclockRaise(&vc, 5, 7);
    cr_assert_eq(vclockGet(&vc, 5), 10);
    cr_assert_eq(vclockGet(&vc, 1), 3);
    cr_assert_eq(vclockGet(&vc, 2), 0);
    cr_assert_eq(vc.n, 2);
    cr_assert_eq(vc.e[0].actor, 1);
    vclockFree(&vc);
}

Test(vclock, raise_zero_is_a_noop) {
    /* a zero counter means "absent": storing one would break equality */
    vclock vc;
    vclockInit(&vc);
    vclockRaise(&vc, 9, 0);
    cr_assert_eq(vc.n, 0);
    vclockRaise(&vc, 9, 4);
    vclockRaise(&vc, 9, 0);
    cr_assert_eq(vclockGet(&vc, 9), 4);
    vclockFree(&vc);
}

Test(vclock, raise_keeps_order_many_actors) {
    vclock vc;
    vclockInit(&vc);
    for (int i = 0; i < 500; i++) {
        uint64_t a = rnd() % 300, c = 1 + rnd() % 1000;
        uint64_t before = vclockGet(&vc, a);
        vclockRaise(&vc, a, c);
        cr_assert_eq(vclockGet(&vc, a), before > c ? before : c);
        assertSorted(&vc);
    }
    /* extreme actor values sort as unsigned */
    vclockRaise(&vc, UINT64_MAX, 1);
    vclockRaise(&vc, 0, 1);
    assertSorted(&vc);
    cr_assert_eq(vc.e[0].actor, 0);
    cr_assert_eq(vc.e[vc.n - 1].actor, UINT64_MAX);
    vclockFree(&vc);
}

Test(vclock, copy_clear_free) {
    uint64_t p[] = {3, 30, 1, 10, 2, 20};
    vclock a, b;
    mk(&a, 3, p);
    vclockInit(&b);
    vclockRaise(&b, 99, 99);
    vclockCopy(&b, &a);
    cr_assert_eq(vclockCompare(&a, &b), VC_EQUAL);
    cr_assert_eq(b.n, 3);
    vclockRaise(&a, 1, 11); /* a deep copy: b does not change */
    cr_assert_eq(vclockGet(&b, 1), 10);
    vclockClear(&b);
    cr_assert_eq(b.n, 0);
    cr_assert_eq(vclockGet(&b, 1), 0);
    vclockRaise(&b, 4, 4);
    cr_assert_eq(b.n, 1);
    vclockFree(&a);
    vclockFree(&b);
    cr_assert_eq(b.n, 0);
    cr_assert_null(b.e);
    vclockFree(&b); /* twice is fine */
}

Test(vclock, merge_is_pointwise_max) {
    uint64_t pa[] = {1, 5, 3, 1, 7, 9};
    uint64_t pb[] = {1, 2, 2, 8, 3, 4, 9, 1};
    vclock a, b;
    mk(&a, 3, pa);
    mk(&b, 4, pb);
    vclockMerge(&a, &b);
    assertSorted(&a);
    cr_assert_eq(a.n, 5);
    cr_assert_eq(vclockGet(&a, 1), 5);
    cr_assert_eq(vclockGet(&a, 2), 8);
    cr_assert_eq(vclockGet(&a, 3), 4);
    cr_assert_eq(vclockGet(&a, 7), 9);
    cr_assert_eq(vclockGet(&a, 9), 1);
    cr_assert(vclockDescends(&a, &b));
    vclockFree(&a);
    vclockFree(&b);
}

Test(vclock, merge_properties_random) {
    /* commutative, associative, idempotent, and the result descends both */
    for (int round = 0; round < 200; round++) {
        vclock x, y, z, xy, yx, t;
        vclockInit(&x);
        vclockInit(&y);
        vclockInit(&z);
        vclockInit(&xy);
        vclockInit(&yx);
        vclockInit(&t);
        for (int i = 0; i < 6; i++) {
            vclockRaise(&x, rnd() % 8, 1 + rnd() % 5);
            vclockRaise(&y, rnd() % 8, 1 + rnd() % 5);
            vclockRaise(&z, rnd() % 8, 1 + rnd() % 5);
        }
        vclockCopy(&xy, &x);
        vclockMerge(&xy, &y);
        vclockCopy(&yx, &y);
        vclockMerge(&yx, &x);
        cr_assert_eq(vclockCompare(&xy, &yx), VC_EQUAL);
        cr_assert_eq(xy.n, yx.n);
        cr_assert(!memcmp(xy.e, yx.e, sizeof(vcEntry) * (size_t)xy.n));
        cr_assert(vclockDescends(&xy, &x));
        cr_assert(vclockDescends(&xy, &y));
        vclockCopy(&t, &xy);
        vclockMerge(&t, &xy);
        cr_assert_eq(vclockCompare(&t, &xy), VC_EQUAL);
        /* (x+y)+z == x+(y+z) */
        vclockMerge(&xy, &z);
        vclockCopy(&t, &y);
        vclockMerge(&t, &z);
        vclockMerge(&t, &x);
        cr_assert_eq(vclockCompare(&xy, &t), VC_EQUAL);
        assertSorted(&xy);
        vclockFree(&x);
        vclockFree(&y);
        vclockFree(&z);
        vclockFree(&xy);
        vclockFree(&yx);
        vclockFree(&t);
    }
}

/* ------------------------------------------------------- compare */

Test(vclock, compare_cases) {
    vclock e1, e2, a, b, c, d;
    vclockInit(&e1);
    vclockInit(&e2);
    uint64_t pa[] = {1, 1, 2, 2};
    uint64_t pb[] = {1, 1, 2, 3};
    uint64_t pc[] = {1, 2, 2, 1};
    uint64_t pd[] = {1, 1, 2, 2, 3, 1};
    mk(&a, 2, pa);
    mk(&b, 2, pb);
    mk(&c, 2, pc);
    mk(&d, 3, pd);
    cr_assert_eq(vclockCompare(&e1, &e2), VC_EQUAL);
    cr_assert_eq(vclockCompare(&e1, &a), VC_BEFORE);
    cr_assert_eq(vclockCompare(&a, &e1), VC_AFTER);
    cr_assert_eq(vclockCompare(&a, &a), VC_EQUAL);
    cr_assert_eq(vclockCompare(&a, &b), VC_BEFORE);
    cr_assert_eq(vclockCompare(&b, &a), VC_AFTER);
    cr_assert_eq(vclockCompare(&b, &c), VC_CONCURRENT);
    cr_assert_eq(vclockCompare(&c, &b), VC_CONCURRENT);
    /* an extra actor makes a clock newer, not concurrent */
    cr_assert_eq(vclockCompare(&a, &d), VC_BEFORE);
    cr_assert_eq(vclockCompare(&d, &a), VC_AFTER);
    /* disjoint actors are concurrent */
    uint64_t px[] = {7, 1};
    uint64_t py[] = {8, 1};
    vclock x, y;
    mk(&x, 1, px);
    mk(&y, 1, py);
    cr_assert_eq(vclockCompare(&x, &y), VC_CONCURRENT);
    cr_assert(vclockDescends(&a, &e1));
    cr_assert_not(vclockDescends(&e1, &a));
    cr_assert(vclockDescends(&e1, &e2));
    cr_assert(vclockDescends(&b, &a));
    cr_assert_not(vclockDescends(&a, &b));
    vclockFree(&a);
    vclockFree(&b);
    vclockFree(&c);
    vclockFree(&d);
    vclockFree(&x);
    vclockFree(&y);
}

/* The reference: compare by looking up every actor of both clocks. */
static int refCompare(const vclock *a, const vclock *b) {
    int ge = 1, le = 1;
    for (int i = 0; i < a->n; i++) {
        uint64_t x = a->e[i].counter, y = vclockGet(b, a->e[i].actor);
        if (x < y) ge = 0;
        if (x > y) le = 0;
    }
    for (int i = 0; i < b->n; i++) {
        uint64_t x = vclockGet(a, b->e[i].actor), y = b->e[i].counter;
        if (x < y) ge = 0;
        if (x > y) le = 0;
    }
    if (ge && le) return VC_EQUAL;
    if (ge) return VC_AFTER;
    if (le) return VC_BEFORE;
    return VC_CONCURRENT;
}

Test(vclock, compare_matches_reference_random) {
    int seen[4] = {0};
    for (int round = 0; round < 5000; round++) {
        vclock a, b;
        vclockInit(&a);
        vclockInit(&b);
        int na = (int)(rnd() % 5), nb = (int)(rnd() % 5);
        for (int i = 0; i < na; i++) vclockRaise(&a, rnd() % 5, 1 + rnd() % 3);
        /* b often starts from a, so every relation shows up */
        if (rnd() % 2) vclockCopy(&b, &a);
        for (int i = 0; i < nb; i++) vclockRaise(&b, rnd() % 5, 1 + rnd() % 3);
        int r = vclockCompare(&a, &b);
        cr_assert_eq(r, refCompare(&a, &b));
        int s = vclockCompare(&b, &a);
        int mirror[] = {VC_EQUAL, VC_AFTER, VC_BEFORE, VC_CONCURRENT};
        cr_assert_eq(s, mirror[r], "compare is antisymmetric");
        cr_assert_eq(vclockDescends(&a, &b), r == VC_EQUAL || r == VC_AFTER);
        seen[r]++;
        vclockFree(&a);
        vclockFree(&b);
    }
    for (int i = 0; i < 4; i++) cr_assert_gt(seen[i], 50, "relation %d exercised", i);
}

/* ---------------------------------------------------------- prune */

Test(vclock, prune_drops_oldest_counters) {
    uint64_t p[] = {1, 50, 2, 10, 3, 40, 4, 20, 5, 30};
    vclock vc;
    mk(&vc, 5, p);
    cr_assert_eq(vclockPrune(&vc, 3, 999), 2);
    cr_assert_eq(vc.n, 3);
    assertSorted(&vc);
    cr_assert_eq(vclockGet(&vc, 2), 0);
    cr_assert_eq(vclockGet(&vc, 4), 0);
    cr_assert_eq(vclockGet(&vc, 1), 50);
    cr_assert_eq(vclockGet(&vc, 3), 40);
    cr_assert_eq(vclockGet(&vc, 5), 30);
    cr_assert_eq(vclockPrune(&vc, 3, 999), 0, "under the limit: nothing to do");
    cr_assert_eq(vclockPrune(&vc, 10, 999), 0);
    cr_assert_eq(vc.n, 3);
    vclockFree(&vc);
}

Test(vclock, prune_never_drops_the_kept_actor) {
    /* the oldest entry belongs to the actor we keep (this node) */
    uint64_t p[] = {1, 5, 2, 10, 3, 40, 4, 20};
    vclock vc;
    mk(&vc, 4, p);
    cr_assert_eq(vclockPrune(&vc, 2, 1), 2);
    cr_assert_eq(vc.n, 2);
    cr_assert_eq(vclockGet(&vc, 1), 5);
    cr_assert_eq(vclockGet(&vc, 3), 40);
    /* max below 1 still keeps one entry, and it is the kept actor */
    cr_assert_eq(vclockPrune(&vc, 0, 1), 1);
    cr_assert_eq(vc.n, 1);
    cr_assert_eq(vclockGet(&vc, 1), 5);
    vclockFree(&vc);
}

Test(vclock, prune_ties_are_deterministic) {
    /* equal counters: the smaller actor goes first, on every replica alike */
    uint64_t p1[] = {9, 7, 4, 7, 6, 7};
    uint64_t p2[] = {6, 7, 9, 7, 4, 7};
    vclock a, b;
    mk(&a, 3, p1);
    mk(&b, 3, p2);
    cr_assert_eq(vclockPrune(&a, 2, 0), 1);
    cr_assert_eq(vclockPrune(&b, 2, 0), 1);
    cr_assert_eq(vclockGet(&a, 4), 0);
    cr_assert_eq(vclockCompare(&a, &b), VC_EQUAL);
    vclockFree(&a);
    vclockFree(&b);
}

Test(vclock, prune_never_makes_a_clock_newer) {
    /* a pruned clock descends only what the full clock descended: it may
     * look older or concurrent, never newer */
    for (int round = 0; round < 2000; round++) {
        vclock v, o, pr;
        vclockInit(&v);
        vclockInit(&o);
        vclockInit(&pr);
        for (int i = 0; i < 8; i++) vclockRaise(&v, rnd() % 10, 1 + rnd() % 20);
        if (rnd() % 2) vclockCopy(&o, &v);
        for (int i = 0; i < 3; i++) vclockRaise(&o, rnd() % 10, 1 + rnd() % 20);
        vclockCopy(&pr, &v);
        uint64_t keep = rnd() % 10;
        int max = 1 + (int)(rnd() % 6);
        int had = v.n;
        uint64_t kept = vclockGet(&v, keep);
        int dropped = vclockPrune(&pr, max, keep);
        cr_assert_eq(pr.n, had - dropped);
        cr_assert_leq(pr.n, had > max ? max : had);
        assertSorted(&pr);
        cr_assert_eq(vclockGet(&pr, keep), kept, "kept actor survives");
        cr_assert(vclockDescends(&v, &pr), "pruning only removes");
        for (int i = 0; i < pr.n; i++)
            cr_assert_eq(pr.e[i].counter, vclockGet(&v, pr.e[i].actor));
        if (vclockDescends(&pr, &o)) cr_assert(vclockDescends(&v, &o));
        int before = vclockCompare(&v, &o), after = vclockCompare(&pr, &o);
        if (after == VC_AFTER) cr_assert_eq(before, VC_AFTER);
        if (after == VC_EQUAL) cr_assert(before == VC_EQUAL || before == VC_AFTER);
        /* every dropped entry is no newer than every surviving one (bar keep) */
        for (int i = 0; i < v.n; i++) {
            if (vclockGet(&pr, v.e[i].actor)) continue;
            for (int j = 0; j < pr.n; j++) {
                if (pr.e[j].actor == keep) continue;
                cr_assert_leq(v.e[i].counter, pr.e[j].counter, "dropped an entry newer than one kept");
            }
        }
        vclockFree(&v);
        vclockFree(&o);
        vclockFree(&pr);
    }
}

/* -------------------------------------------------------- varints */

Test(vclock, varint_edge_values) {
    static const struct {
        uint64_t v;
        size_t len;
    } cases[] = {
        {0, 1}, {1, 1}, {127, 1}, {128, 2}, {255, 2}, {16383, 2}, {16384, 3},
        {(1ULL << 21) - 1, 3}, {1ULL << 21, 4}, {(1ULL << 35), 6}, {(1ULL << 56) - 1, 8},
        {1ULL << 56, 9}, {(1ULL << 63) - 1, 9}, {1ULL << 63, 10}, {UINT64_MAX, 10},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf b;
        bufInit(&b);
        varintPut(&b, cases[i].v);
        cr_assert_eq(b.len, cases[i].len, "value %llu: %zu bytes", (unsigned long long)cases[i].v,
                     b.len);
        uint64_t got = 12345;
        cr_assert_eq(varintGet((unsigned char *)b.ptr, b.len, &got), (long)b.len);
        cr_assert_eq(got, cases[i].v);
        /* every strict prefix is incomplete */
        for (size_t l = 0; l < b.len; l++) {
            unsigned char *cp = malloc(l ? l : 1);
            memcpy(cp, b.ptr, l);
            cr_assert_eq(varintGet(cp, l, &got), -1, "prefix %zu of %llu", l,
                         (unsigned long long)cases[i].v);
            free(cp);
        }
        /* trailing bytes are not consumed */
        bufAppend(&b, "\x7f\x01", 2);
        cr_assert_eq(varintGet((unsigned char *)b.ptr, b.len, &got), (long)cases[i].len);
        cr_assert_eq(got, cases[i].v);
        bufFree(&b);
    }
    uint64_t x;
    cr_assert_eq(varintGet((const unsigned char *)"\x80\x01", 2, &x), 2);
    cr_assert_eq(x, 128);
}

Test(vclock, varint_rejects_overlong) {
    uint64_t v;
    /* 10th byte may only carry bit 63 */
    const unsigned char over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    cr_assert_eq(varintGet(over, sizeof(over), &v), -1);
    const unsigned char over2[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    cr_assert_eq(varintGet(over2, sizeof(over2), &v), -1);
    /* 11 bytes: the 10th still has its continuation bit */
    const unsigned char eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                    0x80, 0x80, 0x80, 0x81, 0x00};
    cr_assert_eq(varintGet(eleven, sizeof(eleven), &v), -1);
    const unsigned char max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    cr_assert_eq(varintGet(max, sizeof(max), &v), 10);
    cr_assert_eq(v, UINT64_MAX);
    cr_assert_eq(varintGet(max, 0, &v), -1, "empty input");
}

/* ------------------------------------------------------- encoding */

static void roundtrip(const vclock *vc) {
    buf b;
    bufInit(&b);
    vclockEncode(vc, &b);
    vclock d;
    vclockInit(&d);
    vclockRaise(&d, 12345, 1); /* decode replaces what was there */
    cr_assert_eq(vclockDecode(&d, (unsigned char *)b.ptr, b.len), (long)b.len);
    cr_assert_eq(vclockCompare(vc, &d), VC_EQUAL);
    cr_assert_eq(d.n, vc->n);
    for (int i = 0; i < d.n; i++) {
        cr_assert_eq(d.e[i].actor, vc->e[i].actor);
        cr_assert_eq(d.e[i].counter, vc->e[i].counter);
    }
    /* re-encoding gives the same bytes: equal clocks, equal encodings */
    buf b2;
    bufInit(&b2);
    vclockEncode(&d, &b2);
    cr_assert_eq(b.len, b2.len);
    cr_assert(!memcmp(b.ptr, b2.ptr, b.len));
    /* every truncation is rejected, in an exact-size buffer */
    for (size_t l = 0; l < b.len; l++) {
        unsigned char *cp = malloc(l ? l : 1);
        memcpy(cp, b.ptr, l);
        cr_assert_eq(vclockDecode(&d, cp, l), -1, "truncated to %zu of %zu", l, b.len);
        free(cp);
    }
    /* trailing bytes are left to the caller */
    bufAppend(&b, "xyz", 3);
    cr_assert_eq(vclockDecode(&d, (unsigned char *)b.ptr, b.len), (long)b.len - 3);
    bufFree(&b);
    bufFree(&b2);
    vclockFree(&d);
}

Test(vclock, encode_decode_roundtrip) {
    vclock vc;
    vclockInit(&vc);
    roundtrip(&vc);
    vclockRaise(&vc, 0x1122334455667788ULL, 1);
    roundtrip(&vc);
    vclockRaise(&vc, 0, UINT64_MAX);
    vclockRaise(&vc, UINT64_MAX, 127);
    vclockRaise(&vc, 42, hlcFromMs(1700000000000ULL) + 3);
    roundtrip(&vc);
    for (int i = 0; i < 300; i++) vclockRaise(&vc, rnd(), 1 + (rnd() >> (rnd() % 64)));
    roundtrip(&vc);
    vclockFree(&vc);
}

Test(vclock, encoding_layout) {
    /* varint n, then per entry 8 byte actor LE and a varint counter */
    uint64_t p[] = {0x0102030405060708ULL, 300};
    vclock vc;
    mk(&vc, 1, p);
    buf b;
    bufInit(&b);
    vclockEncode(&vc, &b);
    const unsigned char want[] = {1, 8, 7, 6, 5, 4, 3, 2, 1, 0xac, 0x02};
    cr_assert_eq(b.len, sizeof(want));
    cr_assert(!memcmp(b.ptr, want, sizeof(want)));
    bufFree(&b);
    vclockFree(&vc);
}

static long decodeBytes(vclock *vc, const unsigned char *p, size_t len) {
    unsigned char *cp = malloc(len ? len : 1);
    memcpy(cp, p, len);
    long r = vclockDecode(vc, cp, len);
    free(cp);
    return r;
}

Test(vclock, decode_rejects_malformed) {
    vclock vc;
    vclockInit(&vc);
    /* unsorted actors */
    const unsigned char unsorted[] = {2, 2, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1};
    cr_assert_eq(decodeBytes(&vc, unsorted, sizeof(unsorted)), -1);
    /* duplicate actor */
    const unsigned char dup[] = {2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 2};
    cr_assert_eq(decodeBytes(&vc, dup, sizeof(dup)), -1);
    /* the same, sorted, is fine */
    const unsigned char ok[] = {2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1};
    cr_assert_eq(decodeBytes(&vc, ok, sizeof(ok)), (long)sizeof(ok));
    cr_assert_eq(vc.n, 2);
    /* zero counter: never produced, so corrupt */
    const unsigned char zero[] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    cr_assert_eq(decodeBytes(&vc, zero, sizeof(zero)), -1);
    /* counter with an overlong varint */
    const unsigned char big[] = {1, 1, 0, 0, 0, 0, 0, 0, 0,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03};
    cr_assert_eq(decodeBytes(&vc, big, sizeof(big)), -1);
    /* a count far beyond the bytes present */
    const unsigned char many[] = {0xff, 0xff, 0x03, 1};
    cr_assert_eq(decodeBytes(&vc, many, sizeof(many)), -1);
    const unsigned char toomany[] = {0x81, 0x80, 0x04}; /* 65537 */
    cr_assert_eq(decodeBytes(&vc, toomany, sizeof(toomany)), -1);
    /* count says 3, only 2 entries */
    const unsigned char short3[] = {3, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1};
    cr_assert_eq(decodeBytes(&vc, short3, sizeof(short3)), -1);
    cr_assert_eq(decodeBytes(&vc, (const unsigned char *)"", 0), -1);
    /* empty clock */
    cr_assert_eq(decodeBytes(&vc, (const unsigned char *)"\0", 1), 1);
    cr_assert_eq(vc.n, 0);
    vclockFree(&vc);
}

Test(vclock, decode_random_garbage_never_crashes) {
    vclock vc;
    vclockInit(&vc);
    for (int round = 0; round < 3000; round++) {
        unsigned char b[40];
        size_t len = rnd() % sizeof(b);
        for (size_t i = 0; i < len; i++) b[i] = (unsigned char)rnd();
        if (len) b[0] = (unsigned char)(rnd() % 4);
        long r = decodeBytes(&vc, b, len);
        cr_assert(r == -1 || (r > 0 && (size_t)r <= len));
        if (r > 0) assertSorted(&vc);
    }
    vclockFree(&vc);
}

Test(vclock, format_text) {
    uint64_t p[] = {0xab, hlcFromMs(1000) + 2, 0x10, 5};
    vclock vc;
    mk(&vc, 2, p);
    buf b;
    bufInit(&b);
    vclockFormat(&vc, &b);
    cr_assert_str_eq(b.ptr, "0000000000000010:0.5,00000000000000ab:1000.2");
    bufFree(&b);
    vclockFree(&vc);
}

/* ----------------------------------------------------------- HLC */

Test(hlc, next_follows_wall_clock) {
    hlc h = {0};
    uint64_t t1 = hlcNext(&h, 1000);
    cr_assert_eq(t1, hlcFromMs(1000));
    cr_assert_eq(hlcPhysicalMs(t1), 1000);
    uint64_t t2 = hlcNext(&h, 1000);
    cr_assert_eq(t2, t1 + 1, "same millisecond: logical +1");
    uint64_t t3 = hlcNext(&h, 1001);
    cr_assert_eq(t3, hlcFromMs(1001));
}

Test(hlc, next_monotonic_when_wall_clock_goes_back) {
    hlc h = {0};
    uint64_t prev = hlcNext(&h, 5000);
    /* the wall clock jumps back an hour, then creeps forward */
    for (uint64_t w = 1400; w < 5100; w += 7) {
        uint64_t t = hlcNext(&h, w);
        cr_assert_gt(t, prev);
        prev = t;
    }
    cr_assert_geq(hlcPhysicalMs(prev), 5000);
    cr_assert_lt(hlcPhysicalMs(prev), 5100, "follows the wall clock again once it catches up");
    for (int i = 0; i < 10000; i++) {
        uint64_t wall = 4000 + rnd() % 2000;
        uint64_t t = hlcNext(&h, wall);
        cr_assert_gt(t, prev, "hlcNext went backwards at wall %llu", (unsigned long long)wall);
        cr_assert_geq(t, hlcFromMs(wall), "at least the wall clock");
        prev = t;
    }
    /* a wall clock of 0 (or one that stopped) still moves forward */
    uint64_t t = hlcNext(&h, 0);
    cr_assert_gt(t, prev);
}

Test(hlc, logical_counter_carries_into_ms) {
    /* 65536 events in one millisecond: still strictly increasing */
    hlc h = {0};
    uint64_t prev = hlcNext(&h, 10);
    for (int i = 0; i < 70000; i++) {
        uint64_t t = hlcNext(&h, 10);
        cr_assert_eq(t, prev + 1);
        prev = t;
    }
    cr_assert_eq(hlcPhysicalMs(prev), 11);
    uint64_t t = hlcNext(&h, 11);
    cr_assert_gt(t, prev, "a millisecond borrowed by the carry is not reissued");
}

Test(hlc, observe) {
    hlc h = {0};
    hlcNext(&h, 100);
    /* a peer ahead of us: our next timestamp goes past what we saw */
    uint64_t remote = hlcFromMs(500) + 7;
    hlcObserve(&h, remote);
    uint64_t t = hlcNext(&h, 100);
    cr_assert_gt(t, remote);
    cr_assert_eq(t, remote + 1);
    /* an older observation changes nothing */
    hlcObserve(&h, hlcFromMs(50));
    cr_assert_eq(hlcNext(&h, 100), remote + 2);
    /* restart above a persisted high-water mark */
    hlc r = {0};
    hlcObserve(&r, remote + 1000);
    cr_assert_gt(hlcNext(&r, 1), remote + 1000);
    cr_assert_eq(hlcFromMs(hlcPhysicalMs(remote)), hlcFromMs(500));
}
