/* test_merge.c -- the record merge is a join (record.c: recordMerge and
 * recordMergeEncoded, which RocksDB's merge operator calls for its full and
 * partial merges in store.c).
 *
 * Replicas store incoming records blind, as merge operands, and RocksDB
 * merges them in whatever order and grouping its reads, flushes and
 * compactions meet them. That is safe only if the merge is associative,
 * commutative and idempotent for every input a replica can meet, so the
 * operands here are adversarial, not only what a well-behaved coordinator
 * writes: dots shared between operands, pasts that do not nest (pruned
 * clocks), tombstones, expired copies of a live version (same dot),
 * sibling caps, seen clocks with entries no version explains, and now and
 * then a version whose past covers its own dot, and now and then two
 * copies of one dot that differ (one dot is written once, so only garbage
 * does that; the merge must still pick one the same way everywhere). Every check compares the
 * canonical encodings byte for byte (digests and Merkle entries hash them).
 *
 *   - laws on records: a+b = b+a, (a+b)+c = a+(b+c), a+a = a, (a+b)+b = a+b;
 *   - every permutation of small operand sets, as a full merge (base +
 *     operands) and as operands only;
 *   - random groupings of larger sets: partial merges of random chunks,
 *     then a full merge of the partial results over a base, in random order;
 *   - a sibling cap: the dropped siblings never come back, whatever order
 *     the capped record and older copies meet in;
 *   - an expiry's tombstone beats the live copy of the same version;
 *   - malformed operands are left out, and change nothing else. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "types/counter.h"

#define A 0xA1A1A1A1A1A1A1A1ULL
#define B 0xB2B2B2B2B2B2B2B2ULL
#define C 0xC3C3C3C3C3C3C3C3ULL
#define D 0x0000000000000004ULL

static const uint64_t actors[] = {A, B, C, D};

static unsigned long long rng = 0x2545F4914F6CDD1DULL;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ------------------------------------------------------------ operands */

/* A dot's payload is a function of the dot (one coordinator writes a dot
 * once), whatever operand carries it: value, expiry and past. The past is
 * arbitrary (it need not nest with other pasts), rarely covering the dot
 * itself. Its value is static text, borrowed. */
static const char *vals[] = {"", "a", "bb", "value-c", "a longer value dddddddddddddddd"};

static void dotVersion(version *v, uint64_t actor, uint64_t counter) {
    versionInit(v);
    v->actor = actor;
    v->counter = counter;
    uint64_t h = actor * 0x9E3779B97F4A7C15ULL ^ counter * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    const char *val = vals[h % 5];
    v->val = val;
    v->vlen = strlen(val);
    if ((h >> 8) % 4 == 0) v->expire = 1700000000000LL + (int64_t)((h >> 12) % 1000);
    int np = (int)((h >> 20) % 4);
    for (int i = 0; i < np; i++) {
        uint64_t pa = actors[(h >> (24 + 3 * i)) % 4];
        uint64_t pc = 1 + (h >> (36 + 4 * i)) % 14;
        if (pa == actor && pc >= counter && (h >> 60) != 0) continue; /* self-cover: rare */
        vclockRaise(&v->past, pa, pc);
    }
}

/* A random operand: a few versions merged in (each live, or as the
 * tombstone an expiry makes of it), sometimes a seen entry no version
 * explains (a cap elsewhere), sometimes capped itself. Encoded into out. */
static void randomOperand(buf *out, int maxv, uint64_t maxc) {
    record r;
    recordInit(&r);
    int nv = (int)(rnd() % (uint64_t)(maxv + 1));
    for (int i = 0; i < nv; i++) {
        version v;
        dotVersion(&v, actors[rnd() % 4], 1 + rnd() % maxc);
        if (rnd() % 5 == 0) { /* the expired copy: same dot, past, expiry */
            v.tombstone = 1;
            v.val = NULL;
            v.vlen = 0;
        } else if (rnd() % 12 == 0) { /* garbage: another payload, same dot */
            v.val = vals[rnd() % 5];
            v.vlen = strlen(v.val);
            if (rnd() % 2) v.expire = v.expire ? 0 : 1700000000001LL;
        }
        recordAdd(&r, &v, 1);
        versionFree(&v);
    }
    if (rnd() % 6 == 0) vclockRaise(&r.seen, actors[rnd() % 4], 1 + rnd() % maxc);
    if (rnd() % 6 == 0) recordCapSiblings(&r, 1 + (int)(rnd() % 2));
    if (rnd() % 3 == 0) { /* INCR's counter contributions beside the versions */
        counter none, d;
        counterInit(&none);
        counterInit(&d);
        int k = 1 + (int)(rnd() % 2);
        for (int i = 0; i < k; i++) {
            if (counterDeltaIncr(&d, &none, NULL, actors[rnd() % 4], 1 + rnd() % maxc,
                                 (i128)(1 + rnd() % 5), 0) == C_OK)
                counterMerge(recordCounter(&r), &d);
        }
        if (rnd() % 4 == 0) { /* a SET observed them: baselines */
            counterDeltaClear(&d, recordCounter(&r));
            counterMerge(recordCounter(&r), &d);
        }
        counterFree(&none);
        counterFree(&d);
    }
    bufClear(out);
    recordEncode(&r, out);
    recordFree(&r);
}

/* What a store holds: the operand as it decodes (a merge's output). */
static void canonical(buf *b) {
    record r;
    recordInit(&r);
    cr_assert_eq(recordDecode(&r, b->ptr, b->len), C_OK);
    buf t;
    bufInit(&t);
    recordEncode(&r, &t);
    recordFree(&r);
    bufClear(b);
    bufAppend(b, t.ptr, t.len);
    bufFree(&t);
}

static void decodeOwned(record *r, const buf *b) {
    recordInit(r);
    cr_assert_eq(recordDecode(r, b->ptr, b->len), C_OK);
    recordOwnValues(r);
}

static void assertSameBytes(const buf *x, const buf *y, const char *what) {
    cr_assert_eq(x->len, y->len, "%s: lengths %zu and %zu", what, x->len, y->len);
    cr_assert(!memcmp(x->ptr, y->ptr, x->len), "%s: bytes differ", what);
}

/* a+b through recordMerge, encoded into out */
static void merge2(const buf *a, const buf *b, buf *out) {
    record x, y;
    decodeOwned(&x, a);
    decodeOwned(&y, b);
    recordMerge(&x, &y, 1);
    bufClear(out);
    recordEncode(&x, out);
    recordFree(&x);
    recordFree(&y);
}

/* The full merge RocksDB runs: base (or none) and operands in order. */
static void fullMerge(const buf *base, buf **ops, int n, buf *out) {
    const char *p[64];
    size_t l[64];
    for (int i = 0; i < n; i++) {
        p[i] = ops[i]->ptr;
        l[i] = ops[i]->len;
    }
    cr_assert_eq(recordMergeEncoded(base ? base->ptr : NULL, base ? base->len : 0, p, l, n, out),
                 0);
}

/* ---------------------------------------------------------------- laws */

Test(merge, laws_on_random_records) {
    buf a, b, c, ab, ba, bc, abc1, abc2, t, aa;
    buf *all[] = {&a, &b, &c, &ab, &ba, &bc, &abc1, &abc2, &t, &aa};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) bufInit(all[i]);
    for (int round = 0; round < 20000; round++) {
        uint64_t maxc = round % 2 ? 6 : 14; /* small: dots collide often */
        randomOperand(&a, 4, maxc);
        randomOperand(&b, 4, maxc);
        randomOperand(&c, 4, maxc);
        merge2(&a, &b, &ab);
        merge2(&b, &a, &ba);
        assertSameBytes(&ab, &ba, "commutative");
        merge2(&ab, &c, &abc1);
        merge2(&b, &c, &bc);
        merge2(&a, &bc, &abc2);
        assertSameBytes(&abc1, &abc2, "associative");
        merge2(&a, &a, &aa);
        canonical(&a); /* the operand as written may hold what its seen covers */
        assertSameBytes(&aa, &a, "idempotent");
        merge2(&ab, &b, &t);
        assertSameBytes(&t, &ab, "absorbs what it holds");
        /* a record decodes to itself: stored bytes are canonical */
        record r;
        decodeOwned(&r, &abc1);
        bufClear(&t);
        recordEncode(&r, &t);
        assertSameBytes(&t, &abc1, "canonical");
        recordFree(&r);
    }
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) bufFree(all[i]);
}

/* Heap's algorithm over n operands: calls check(order) for every order. */
static void permutations(int n, void (*check)(const int *order, void *pd), void *pd) {
    int perm[8] = {0}, cnt[8] = {0};
    for (int i = 0; i < n; i++) perm[i] = i, cnt[i] = 0;
    check(perm, pd);
    int i = 0;
    while (i < n) {
        if (cnt[i] < i) {
            int j = i % 2 == 0 ? 0 : cnt[i];
            int x = perm[j];
            perm[j] = perm[i];
            perm[i] = x;
            check(perm, pd);
            cnt[i]++;
            i = 0;
        } else {
            cnt[i] = 0;
            i++;
        }
    }
}

typedef struct permCase {
    buf ops[6];
    int n;
    buf ref;       /* the merge of all, in order 0..n-1, operands only */
    buf out;
    long orders;
} permCase;

static void checkOrder(const int *order, void *pd) {
    permCase *pc = pd;
    buf *ops[6];
    for (int i = 0; i < pc->n; i++) ops[i] = &pc->ops[order[i]];
    /* operands only (a key whose first write came as a merge) */
    fullMerge(NULL, ops, pc->n, &pc->out);
    assertSameBytes(&pc->out, &pc->ref, "permutation, operands only");
    /* the first as the stored value, the rest as operands */
    fullMerge(ops[0], ops + 1, pc->n - 1, &pc->out);
    assertSameBytes(&pc->out, &pc->ref, "permutation, base + operands");
    /* a partial merge of the last two first (a flush meets them alone) */
    if (pc->n >= 3) {
        buf part;
        bufInit(&part);
        fullMerge(NULL, ops + pc->n - 2, 2, &part);
        buf *rest[6];
        for (int i = 0; i < pc->n - 2; i++) rest[i] = ops[i];
        rest[pc->n - 2] = &part;
        fullMerge(NULL, rest, pc->n - 1, &pc->out);
        assertSameBytes(&pc->out, &pc->ref, "permutation, partial merge of two");
        bufFree(&part);
    }
    pc->orders++;
}

Test(merge, every_permutation_of_small_sets) {
    permCase pc;
    memset(&pc, 0, sizeof(pc));
    for (int i = 0; i < 6; i++) bufInit(&pc.ops[i]);
    bufInit(&pc.ref);
    bufInit(&pc.out);
    long total = 0;
    for (int round = 0; round < 160; round++) {
        pc.n = 3 + round % 4; /* 3..6 operands: up to 720 orders */
        for (int i = 0; i < pc.n; i++) randomOperand(&pc.ops[i], 3, round % 3 ? 8 : 5);
        buf *ops[6];
        for (int i = 0; i < pc.n; i++) ops[i] = &pc.ops[i];
        fullMerge(NULL, ops, pc.n, &pc.ref);
        pc.orders = 0;
        permutations(pc.n, checkOrder, &pc);
        long want = 1;
        for (int i = 2; i <= pc.n; i++) want *= i;
        cr_assert_eq(pc.orders, want);
        total += pc.orders;
    }
    cr_assert_gt(total, 30000);
    for (int i = 0; i < 6; i++) bufFree(&pc.ops[i]);
    bufFree(&pc.ref);
    bufFree(&pc.out);
}

/* Merges ops[lo..hi) by a random grouping: split at a random point, merge
 * each side the same way, then the two results in a random order. */
static void randomTree(buf **ops, int lo, int hi, buf *out) {
    if (hi - lo == 1) {
        bufClear(out);
        bufAppend(out, ops[lo]->ptr, ops[lo]->len);
        return;
    }
    int mid = lo + 1 + (int)(rnd() % (uint64_t)(hi - lo - 1));
    buf l, r;
    bufInit(&l);
    bufInit(&r);
    randomTree(ops, lo, mid, &l);
    randomTree(ops, mid, hi, &r);
    buf *two[2] = {&l, &r};
    if (rnd() % 2) {
        two[0] = &r;
        two[1] = &l;
    }
    if (rnd() % 2) fullMerge(two[0], two + 1, 1, out); /* a stored value and an operand */
    else fullMerge(NULL, two, 2, out);                 /* two operands: a partial merge */
    bufFree(&l);
    bufFree(&r);
}

Test(merge, random_groupings_of_larger_sets) {
    enum { N = 24 };
    buf store[N], ref, out;
    buf *ops[N];
    for (int i = 0; i < N; i++) bufInit(&store[i]);
    bufInit(&ref);
    bufInit(&out);
    for (int round = 0; round < 400; round++) {
        int n = 8 + (int)(rnd() % (N - 7));
        for (int i = 0; i < n; i++) {
            randomOperand(&store[i], 4, 12);
            ops[i] = &store[i];
        }
        fullMerge(NULL, ops, n, &ref);
        for (int s = 0; s < 25; s++) {
            for (int i = n - 1; i > 0; i--) { /* shuffle */
                int j = (int)(rnd() % (uint64_t)(i + 1));
                buf *x = ops[i];
                ops[i] = ops[j];
                ops[j] = x;
            }
            randomTree(ops, 0, n, &out);
            assertSameBytes(&out, &ref, "random grouping");
            /* duplicates change nothing: RocksDB may meet an operand twice
             * only if we wrote it twice, a replica may be sent one twice */
            buf *dup[2 * N];
            for (int i = 0; i < n; i++) dup[i] = dup[n + i] = ops[i];
            fullMerge(NULL, dup, 2 * n > 64 ? 64 : 2 * n, &out);
            assertSameBytes(&out, &ref, "duplicated operands");
        }
    }
    for (int i = 0; i < N; i++) bufFree(&store[i]);
    bufFree(&ref);
    bufFree(&out);
}

/* ------------------------------------------------------------ specifics */

static version mk(uint64_t actor, uint64_t counter, int n, const uint64_t *past,
                  const char *val) {
    version v;
    versionInit(&v);
    v.actor = actor;
    v.counter = counter;
    for (int i = 0; i < n; i++) vclockRaise(&v.past, past[2 * i], past[2 * i + 1]);
    v.val = val;
    v.vlen = val ? strlen(val) : 0;
    v.tombstone = val == NULL;
    return v;
}

static void encodeVersions(buf *out, version *vs, int n) {
    record r;
    recordInit(&r);
    for (int i = 0; i < n; i++) recordAdd(&r, &vs[i], 1);
    bufClear(out);
    recordEncode(&r, out);
    recordFree(&r);
}

static int holds(const buf *enc, uint64_t actor, uint64_t counter) {
    record r;
    decodeOwned(&r, enc);
    int found = 0;
    for (int i = 0; i < r.n; i++)
        if (r.v[i].actor == actor && r.v[i].counter == counter) found = 1;
    recordFree(&r);
    return found;
}

/* c, then b written over c, then a over b with a pruned past that no
 * longer names c: whoever meets c after b's record must still drop it. */
Test(merge, pruned_past_does_not_bring_back_what_a_predecessor_superseded) {
    uint64_t pc[] = {C, 5};
    uint64_t pb[] = {B, 10}; /* pruned: C's entry dropped */
    version c = mk(C, 5, 0, NULL, "c");
    version b = mk(B, 10, 1, pc, "b");
    version a = mk(A, 20, 1, pb, "a");
    buf oc, ob, oa, out;
    bufInit(&oc);
    bufInit(&ob);
    bufInit(&oa);
    bufInit(&out);
    encodeVersions(&oc, &c, 1);
    encodeVersions(&ob, &b, 1);
    encodeVersions(&oa, &a, 1);
    buf *orders[6][3] = {{&oc, &ob, &oa}, {&oc, &oa, &ob}, {&ob, &oc, &oa},
                         {&ob, &oa, &oc}, {&oa, &ob, &oc}, {&oa, &oc, &ob}};
    buf ref;
    bufInit(&ref);
    fullMerge(NULL, orders[0], 3, &ref);
    cr_assert(holds(&ref, A, 20));
    cr_assert_not(holds(&ref, B, 10));
    cr_assert_not(holds(&ref, C, 5), "b saw c: c stays gone");
    for (int i = 1; i < 6; i++) {
        fullMerge(NULL, orders[i], 3, &out);
        assertSameBytes(&out, &ref, "order");
    }
    /* the record keeps what b's past said (format 2: seen is stored) */
    cr_assert_eq(ref.ptr[0], RECORD_FORMAT_SEEN);
    /* and a (the newest) alone, with no c around, stays format 1 */
    cr_assert_eq(oa.ptr[0], RECORD_FORMAT);
    versionFree(&a);
    versionFree(&b);
    versionFree(&c);
    bufFree(&oa);
    bufFree(&ob);
    bufFree(&oc);
    bufFree(&out);
    bufFree(&ref);
}

Test(merge, sibling_cap_is_not_undone_by_older_copies) {
    /* five concurrent siblings; a coordinator's write leaves three */
    version vs[5];
    uint64_t counters[] = {10, 20, 30, 40, 50};
    for (int i = 0; i < 5; i++) vs[i] = mk(actors[i % 4] + (uint64_t)i, counters[i], 0, NULL, "s");
    record r;
    recordInit(&r);
    for (int i = 0; i < 5; i++) recordAdd(&r, &vs[i], 1);
    cr_assert_eq(recordCapSiblings(&r, 3), 2);
    buf capped, old[5], out, ref;
    bufInit(&capped);
    bufInit(&out);
    bufInit(&ref);
    recordEncode(&r, &capped);
    for (int i = 0; i < 5; i++) {
        bufInit(&old[i]);
        encodeVersions(&old[i], &vs[i], 1);
    }
    /* the capped record and every replica's older copy, in every order */
    buf *ops[6] = {&capped, &old[0], &old[1], &old[2], &old[3], &old[4]};
    fullMerge(NULL, ops, 6, &ref);
    cr_assert_not(holds(&ref, vs[0].actor, 10), "a dropped sibling came back");
    cr_assert_not(holds(&ref, vs[1].actor, 20), "a dropped sibling came back");
    cr_assert(holds(&ref, vs[2].actor, 30));
    cr_assert(holds(&ref, vs[4].actor, 50));
    permCase pc;
    memset(&pc, 0, sizeof(pc));
    pc.n = 6;
    for (int i = 0; i < 6; i++) {
        bufInit(&pc.ops[i]);
        bufAppend(&pc.ops[i], ops[i]->ptr, ops[i]->len);
    }
    bufInit(&pc.ref);
    bufAppend(&pc.ref, ref.ptr, ref.len);
    bufInit(&pc.out);
    permutations(6, checkOrder, &pc);
    cr_assert_eq(pc.orders, 720);
    /* the merge itself never caps: merging more siblings than the cap
     * keeps them all (a coordinator's next write caps) */
    buf *five[5] = {&old[0], &old[1], &old[2], &old[3], &old[4]};
    fullMerge(NULL, five, 5, &out);
    record m;
    decodeOwned(&m, &out);
    cr_assert_eq(m.n, 5);
    recordFree(&m);
    for (int i = 0; i < 6; i++) bufFree(&pc.ops[i]);
    bufFree(&pc.ref);
    bufFree(&pc.out);
    for (int i = 0; i < 5; i++) {
        bufFree(&old[i]);
        versionFree(&vs[i]);
    }
    recordFree(&r);
    bufFree(&capped);
    bufFree(&out);
    bufFree(&ref);
}

Test(merge, expired_tombstone_beats_live_copy_in_any_order) {
    version live = mk(A, 10, 0, NULL, "v");
    live.expire = 5000;
    version tomb;
    versionInit(&tomb);
    versionCopy(&tomb, &live, 0);
    tomb.tombstone = 1;
    tomb.val = NULL;
    tomb.vlen = 0;
    version other = mk(B, 12, 0, NULL, "w");
    buf ol, ot, oo, x, y;
    bufInit(&ol);
    bufInit(&ot);
    bufInit(&oo);
    bufInit(&x);
    bufInit(&y);
    encodeVersions(&ol, &live, 1);
    encodeVersions(&ot, &tomb, 1);
    encodeVersions(&oo, &other, 1);
    buf *o1[3] = {&ol, &ot, &oo}, *o2[3] = {&ot, &oo, &ol};
    fullMerge(NULL, o1, 3, &x);
    fullMerge(&oo, o2, 2, &y);
    buf *o3[1] = {&ol};
    buf z;
    bufInit(&z);
    fullMerge(&y, o3, 1, &z);
    assertSameBytes(&x, &z, "orders");
    record r;
    decodeOwned(&r, &x);
    cr_assert_eq(r.n, 2);
    cr_assert(r.v[0].actor == A && r.v[0].tombstone, "the tombstone copy wins");
    recordFree(&r);
    versionFree(&live);
    versionFree(&tomb);
    versionFree(&other);
    bufFree(&ol);
    bufFree(&ot);
    bufFree(&oo);
    bufFree(&x);
    bufFree(&y);
    bufFree(&z);
}

Test(merge, delete_supersedes_what_it_saw_in_any_order) {
    uint64_t pa[] = {A, 10};
    version a = mk(A, 10, 0, NULL, "a");
    version b = mk(B, 11, 0, NULL, "b"); /* the delete did not see b */
    version del = mk(C, 20, 1, pa, NULL);
    buf oa, ob, od, ref, out;
    bufInit(&oa);
    bufInit(&ob);
    bufInit(&od);
    bufInit(&ref);
    bufInit(&out);
    encodeVersions(&oa, &a, 1);
    encodeVersions(&ob, &b, 1);
    encodeVersions(&od, &del, 1);
    buf *ops[3] = {&oa, &ob, &od};
    fullMerge(NULL, ops, 3, &ref);
    cr_assert_not(holds(&ref, A, 10));
    cr_assert(holds(&ref, B, 11), "a concurrent write survives the delete");
    cr_assert(holds(&ref, C, 20), "the tombstone is data");
    buf *rev[3] = {&od, &ob, &oa};
    fullMerge(NULL, rev, 3, &out);
    assertSameBytes(&out, &ref, "reverse");
    versionFree(&a);
    versionFree(&b);
    versionFree(&del);
    bufFree(&oa);
    bufFree(&ob);
    bufFree(&od);
    bufFree(&ref);
    bufFree(&out);
}

Test(merge, malformed_operands_are_left_out) {
    buf a, b, ref, out;
    bufInit(&a);
    bufInit(&b);
    bufInit(&ref);
    bufInit(&out);
    randomOperand(&a, 3, 10);
    randomOperand(&b, 3, 10);
    buf *two[2] = {&a, &b};
    fullMerge(NULL, two, 2, &ref);
    const char *p[4] = {a.ptr, "\x01\x05garbage", b.ptr, ""};
    size_t l[4] = {a.len, 9, b.len, 0};
    cr_assert_eq(recordMergeEncoded(NULL, 0, p, l, 4, &out), 2);
    assertSameBytes(&out, &ref, "garbage left out");
    cr_assert_eq(recordMergeEncoded("\x07", 1, p, l, 1, &out), 1, "a corrupt base");
    bufFree(&a);
    bufFree(&b);
    bufFree(&ref);
    bufFree(&out);
}

Test(merge, clamped_past_never_covers_its_own_dot) {
    version v = mk(A, 100, 0, NULL, "v");
    vclockRaise(&v.past, A, 5000); /* a client's context from the future */
    vclockRaise(&v.past, B, 7000);
    vclockRaise(&v.past, C, 99);
    versionClampPast(&v);
    cr_assert_eq(v.past.n, 1);
    cr_assert_eq(vclockGet(&v.past, C), 99);
    record r;
    recordInit(&r);
    recordAdd(&r, &v, 1);
    cr_assert_eq(r.n, 1, "the new version stays");
    recordFree(&r);
    versionFree(&v);
}

/* The bytes record.h documents, built field by field with the public
 * encoders: recordEncode writes them in one pass. */
Test(merge, encoding_is_the_documented_layout) {
    for (int round = 0; round < 2000; round++) {
        buf op;
        bufInit(&op);
        randomOperand(&op, 4, 12);
        record r;
        decodeOwned(&r, &op);
        buf want, got;
        bufInit(&want);
        bufInit(&got);
        vclock pasts;
        vclockInit(&pasts);
        for (int i = 0; i < r.n; i++) vclockMerge(&pasts, &r.v[i].past);
        int fmt2 = vclockCompare(&pasts, &r.seen) != VC_EQUAL || pasts.n != r.seen.n;
        unsigned char f = (unsigned char)((fmt2 ? RECORD_FORMAT_SEEN : RECORD_FORMAT) |
                                          (r.ctr ? RECORD_FLAG_CTR : 0));
        bufAppend(&want, &f, 1);
        if (fmt2) vclockEncode(&r.seen, &want);
        varintPut(&want, (uint64_t)r.n);
        for (int i = 0; i < r.n; i++) {
            const version *v = &r.v[i];
            unsigned char flags = (unsigned char)((v->tombstone ? VF_TOMBSTONE : 0) |
                                                  (v->expire ? VF_EXPIRE : 0));
            bufAppend(&want, &flags, 1);
            unsigned char a[8];
            for (int j = 0; j < 8; j++) a[j] = (unsigned char)(v->actor >> (8 * j));
            bufAppend(&want, a, 8);
            varintPut(&want, v->counter);
            if (v->expire) varintPut(&want, (uint64_t)v->expire);
            vclockEncode(&v->past, &want);
            size_t vlen = v->tombstone ? 0 : v->vlen;
            varintPut(&want, vlen);
            bufAppend(&want, v->val, vlen);
        }
        if (r.ctr) counterEncode(r.ctr, &want); /* the counter last */
        recordEncode(&r, &got);
        assertSameBytes(&got, &want, "layout");
        assertSameBytes(&got, &op, "the operand decoded and encoded again");
        vclockFree(&pasts);
        recordFree(&r);
        bufFree(&op);
        bufFree(&want);
        bufFree(&got);
    }
}

/* recordMergeEncoded copies the newest operand when it absorbs everything
 * else (the usual replica case: a coordinator's record over the one before
 * it) instead of decoding and merging: it must give exactly what the
 * general merge gives, for those pairs and for random ones. */
Test(merge, fast_path_gives_what_the_general_merge_gives) {
    buf a, b, slow, fast;
    bufInit(&a);
    bufInit(&b);
    bufInit(&slow);
    bufInit(&fast);
    long absorbed = 0;
    for (int round = 0; round < 20000; round++) {
        randomOperand(&a, 3, 10);
        if (round % 2) {
            /* b written over a, as a coordinator does: a's context, a new dot */
            record r;
            decodeOwned(&r, &a);
            version v;
            versionInit(&v);
            recordContext(&r, &v.past);
            v.actor = actors[rnd() % 4];
            v.counter = 100 + rnd() % 50;
            v.val = vals[rnd() % 5];
            v.vlen = strlen(v.val);
            v.tombstone = rnd() % 4 == 0;
            if (v.tombstone) v.vlen = 0;
            recordAdd(&r, &v, 1);
            bufClear(&b);
            recordEncode(&r, &b);
            versionFree(&v);
            recordFree(&r);
        } else {
            randomOperand(&b, 3, 10);
        }
        merge2(&a, &b, &slow);
        buf *two[2] = {&a, &b};
        fullMerge(NULL, two, 2, &fast);
        assertSameBytes(&fast, &slow, "operands a, b");
        buf *one[1] = {&b};
        fullMerge(&a, one, 1, &fast);
        assertSameBytes(&fast, &slow, "base a, operand b");
        if (slow.len == b.len && !memcmp(slow.ptr, b.ptr, b.len)) absorbed++;
    }
    cr_assert_gt(absorbed, 5000, "the pairs that take the fast path are tested (%ld)", absorbed);
    bufFree(&a);
    bufFree(&b);
    bufFree(&slow);
    bufFree(&fast);
}
