/* test_record.c -- storage keys, sibling sets and their encoding (record.c).
 *
 * A record is what replicas compare, merge and repair, so beside round trips
 * this checks the properties the design's correctness traps name:
 *   - a version obsoletes another exactly when its past covers the other's
 *     dot, and a merge never drops a concurrent sibling;
 *   - merging is order independent: every ordering of a set of concurrent
 *     and causally related updates gives the same record, byte for byte and
 *     digest for digest (anti-entropy compares digests);
 *   - the digest covers clocks and tombstones, not only the visible value;
 *   - decoding bytes from disk or the wire never trusts them: every
 *     truncation and corruption is rejected or at least harmless (run under
 *     valgrind; every decode reads an exact-size copy). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

/* ------------------------------------------------------------ helpers */

#define A 0xA1A1A1A1A1A1A1A1ULL
#define B 0xB2B2B2B2B2B2B2B2ULL
#define C 0xC3C3C3C3C3C3C3C3ULL
#define D 0x0000000000000004ULL

/* A version: dot (actor, counter), past as n (actor, counter) pairs. The
 * value is borrowed (a literal). */
static version mkv(uint64_t actor, uint64_t counter, int n, const uint64_t *past,
                   const char *val) {
    version v;
    versionInit(&v);
    v.actor = actor;
    v.counter = counter;
    for (int i = 0; i < n; i++) vclockRaise(&v.past, past[2 * i], past[2 * i + 1]);
    if (val) {
        v.val = val;
        v.vlen = strlen(val);
    }
    return v;
}

static version mktomb(uint64_t actor, uint64_t counter, int n, const uint64_t *past) {
    version v = mkv(actor, counter, n, past, NULL);
    v.tombstone = 1;
    return v;
}

/* The same version after the expiry cycle turned it into a tombstone: same
 * dot, same past and expiry, no value (db.c does exactly this). */
static version expiredCopy(const version *live) {
    version t;
    versionInit(&t);
    versionCopy(&t, live, 0);
    t.tombstone = 1;
    t.val = NULL;
    t.vlen = 0;
    return t;
}

static void encode(const record *r, buf *out) {
    bufClear(out);
    recordEncode(r, out);
}

/* Decodes from an exact-size private copy (so valgrind catches over-reads),
 * then owns the values so the copy can go. */
static int decodeCopy(record *r, const char *p, size_t len) {
    char *cp = malloc(len ? len : 1);
    memcpy(cp, p, len);
    int rc = recordDecode(r, cp, len);
    if (rc == C_OK) recordOwnValues(r);
    free(cp);
    return rc;
}

static int hasDot(const record *r, uint64_t actor, uint64_t counter) {
    for (int i = 0; i < r->n; i++)
        if (r->v[i].actor == actor && r->v[i].counter == counter) return 1;
    return 0;
}

static const version *findDot(const record *r, uint64_t actor, uint64_t counter) {
    for (int i = 0; i < r->n; i++)
        if (r->v[i].actor == actor && r->v[i].counter == counter) return &r->v[i];
    return NULL;
}

/* The invariants record.c promises after every call. */
static void assertInvariants(const record *r) {
    for (int i = 0; i < r->n; i++) {
        if (i > 0) {
            const version *a = &r->v[i - 1], *b = &r->v[i];
            cr_assert(a->actor < b->actor || (a->actor == b->actor && a->counter < b->counter),
                      "versions sorted by dot, no duplicates");
        }
        for (int j = 0; j < r->n; j++)
            if (i != j)
                cr_assert_not(versionObsoletes(&r->v[i], &r->v[j]),
                              "a version obsoletes a sibling it kept");
    }
}

static void assertSameRecord(const record *a, const record *b) {
    buf x, y;
    bufInit(&x);
    bufInit(&y);
    encode(a, &x);
    encode(b, &y);
    cr_assert_eq(x.len, y.len, "encodings differ in length");
    cr_assert(!memcmp(x.ptr, y.ptr, x.len), "encodings differ");
    cr_assert_eq(recordDigest(a), recordDigest(b));
    bufFree(&x);
    bufFree(&y);
}

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ------------------------------------------------------------------ keys */

Test(keys, encode_decode) {
    buf k;
    bufInit(&k);
    keyEncode(&k, 8, 3, "user:1000", 9);
    cr_assert_eq(k.len, KEY_PREFIX_LEN + 9);
    uint64_t h = keyHash(3, "user:1000", 9);
    unsigned slot;
    int db;
    const char *key;
    size_t klen;
    cr_assert_eq(keyDecode(k.ptr, k.len, &slot, &db, &key, &klen), C_OK);
    cr_assert_eq(slot, keySlot(h, 8));
    cr_assert_eq(db, 3);
    cr_assert_eq(klen, 9);
    cr_assert(!memcmp(key, "user:1000", 9));
    cr_assert_eq(key, k.ptr + KEY_PREFIX_LEN, "the key is not copied");
    /* [partition u16 BE][bucket u8][db u8] */
    unsigned char *p = (unsigned char *)k.ptr;
    cr_assert_eq(((unsigned)p[0] << 8) | p[1], keyPartition(h, 8));
    cr_assert_eq(p[2], keyBucket(h, 8));
    cr_assert_eq(p[3], 3);
    cr_assert_eq(slot, keyPartition(h, 8) * 256 + keyBucket(h, 8));
    /* NULL outputs are allowed */
    cr_assert_eq(keyDecode(k.ptr, k.len, NULL, NULL, NULL, NULL), C_OK);
    bufFree(&k);
}

Test(keys, binary_and_empty_keys) {
    buf k;
    bufInit(&k);
    keyEncode(&k, 8, 0, "", 0);
    cr_assert_eq(k.len, KEY_PREFIX_LEN);
    const char *key;
    size_t klen = 99;
    int db = -1;
    cr_assert_eq(keyDecode(k.ptr, k.len, NULL, &db, &key, &klen), C_OK);
    cr_assert_eq(klen, 0);
    cr_assert_eq(db, 0);
    keyEncode(&k, 8, 15, "a\0b\xff", 4);
    cr_assert_eq(k.len, KEY_PREFIX_LEN + 4, "keyEncode clears first");
    cr_assert_eq(keyDecode(k.ptr, k.len, NULL, &db, &key, &klen), C_OK);
    cr_assert_eq(klen, 4);
    cr_assert(!memcmp(key, "a\0b\xff", 4));
    cr_assert_eq(db, 15);
    bufFree(&k);
}

Test(keys, decode_rejects_short) {
    for (size_t l = 0; l < KEY_PREFIX_LEN; l++) {
        char *p = malloc(l ? l : 1);
        memset(p, 0, l);
        cr_assert_eq(keyDecode(p, l, NULL, NULL, NULL, NULL), C_ERR);
        free(p);
    }
}

Test(keys, hash_depends_on_db_and_bytes) {
    cr_assert_eq(keyHash(0, "k", 1), keyHash(0, "k", 1));
    cr_assert_neq(keyHash(0, "k", 1), keyHash(1, "k", 1), "the db seeds the hash");
    cr_assert_neq(keyHash(0, "k", 1), keyHash(0, "k\0", 2));
}

Test(keys, partition_bucket_slot_bits) {
    for (int i = 0; i < 1000; i++) {
        uint64_t h = rnd();
        for (int q = 3; q <= 16; q++) {
            unsigned part = keyPartition(h, q), bucket = keyBucket(h, q), slot = keySlot(h, q);
            cr_assert_lt(part, 1u << q);
            cr_assert_lt(bucket, 256u);
            cr_assert_eq(part, (unsigned)(h >> (64 - q)), "top qbits");
            cr_assert_eq(slot, part * 256 + bucket);
        }
    }
    cr_assert_eq(keyPartition(UINT64_MAX, 16), 65535);
    cr_assert_eq(keyBucket(UINT64_MAX, 16), 255);
    cr_assert_eq(keyPartition(0x8000000000000000ULL, 8), 128);
    cr_assert_eq(keyBucket(0x0080000000000000ULL, 8), 128);
}

static int cmpKey(const void *a, const void *b) {
    const buf *x = a, *y = b;
    size_t l = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->ptr, y->ptr, l);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Sorted storage keys: every partition's keys, and every (partition, bucket)
 * slot's keys, form one contiguous range, for several ring sizes. */
static void checkContiguous(int qbits) {
    enum { NKEYS = 4000 };
    buf *keys = calloc(NKEYS, sizeof(buf));
    for (int i = 0; i < NKEYS; i++) {
        char name[32];
        int n = snprintf(name, sizeof(name), "key:%d", i);
        bufInit(&keys[i]);
        keyEncode(&keys[i], qbits, i % 3, name, (size_t)n);
    }
    qsort(keys, NKEYS, sizeof(buf), cmpKey);
    unsigned nparts = 1u << qbits;
    unsigned char *seenPart = calloc(nparts, 1);
    unsigned char *seenSlot = calloc((size_t)nparts * 256, 1);
    unsigned prevPart = ~0u, prevSlot = ~0u;
    for (int i = 0; i < NKEYS; i++) {
        unsigned slot;
        int db;
        const char *key;
        size_t klen;
        cr_assert_eq(keyDecode(keys[i].ptr, keys[i].len, &slot, &db, &key, &klen), C_OK);
        uint64_t h = keyHash(db, key, klen);
        cr_assert_eq(slot, keySlot(h, qbits));
        unsigned part = slot >> 8;
        cr_assert_eq(part, keyPartition(h, qbits));
        cr_assert_eq(slot & 255, keyBucket(h, qbits));
        if (part != prevPart) {
            cr_assert_not(seenPart[part], "partition %u is split in two ranges", part);
            seenPart[part] = 1;
            cr_assert(prevPart == ~0u || part > prevPart, "partitions in order");
        }
        if (slot != prevSlot) {
            cr_assert_not(seenSlot[slot], "slot %u is split in two ranges", slot);
            seenSlot[slot] = 1;
        }
        /* the slot prefix is a range bound for scans */
        unsigned char pre[KEY_PREFIX_LEN];
        keySlotPrefix(pre, slot, db);
        cr_assert(!memcmp(pre, keys[i].ptr, KEY_PREFIX_LEN));
        prevPart = part;
        prevSlot = slot;
    }
    for (int i = 0; i < NKEYS; i++) bufFree(&keys[i]);
    free(keys);
    free(seenPart);
    free(seenSlot);
}

Test(keys, partitions_and_buckets_are_contiguous) {
    checkContiguous(3);
    checkContiguous(8);
    checkContiguous(10);
    checkContiguous(16);
}

Test(keys, slot_prefix_layout) {
    unsigned char p[4];
    keySlotPrefix(p, 0x123456, 7);
    cr_assert_eq(p[0], 0x12);
    cr_assert_eq(p[1], 0x34);
    cr_assert_eq(p[2], 0x56);
    cr_assert_eq(p[3], 7);
}

/* -------------------------------------------------------------- versions */

Test(version, obsoletes_iff_past_covers_dot) {
    uint64_t pa[] = {A, 10};
    version v1 = mkv(A, 10, 0, NULL, "v1");
    version v2 = mkv(B, 20, 1, pa, "v2"); /* written over v1 */
    uint64_t pb[] = {A, 9};
    version v3 = mkv(C, 30, 1, pb, "v3"); /* saw an older A event only */
    cr_assert(versionObsoletes(&v2, &v1));
    cr_assert_not(versionObsoletes(&v1, &v2));
    cr_assert_not(versionObsoletes(&v3, &v1), "A:9 does not cover dot A:10");
    cr_assert_not(versionObsoletes(&v1, &v3));
    cr_assert_not(versionObsoletes(&v1, &v1), "a version never obsoletes itself");
    /* a larger counter of the actor covers older dots too */
    uint64_t pc[] = {A, 11};
    version v4 = mkv(D, 5, 1, pc, "v4");
    cr_assert(versionObsoletes(&v4, &v1));
    /* a newer dot of the same actor with no past does not */
    version v5 = mkv(A, 12, 0, NULL, "v5");
    cr_assert_not(versionObsoletes(&v5, &v1), "no past: concurrent, even from the same actor");
    versionFree(&v1);
    versionFree(&v2);
    versionFree(&v3);
    versionFree(&v4);
    versionFree(&v5);
}

Test(version, history_and_copy) {
    uint64_t p[] = {B, 3, C, 4};
    version v = mkv(A, 7, 2, p, "hello");
    vclock h;
    vclockInit(&h);
    versionHistory(&v, &h);
    cr_assert_eq(h.n, 3);
    cr_assert_eq(vclockGet(&h, A), 7);
    cr_assert_eq(vclockGet(&h, B), 3);
    version c;
    versionInit(&c);
    versionCopy(&c, &v, 1);
    cr_assert(c.ownval);
    cr_assert_neq(c.val, v.val, "copyval copies the bytes");
    cr_assert_eq(c.vlen, 5);
    cr_assert(!memcmp(c.val, "hello", 5));
    cr_assert_eq(vclockCompare(&c.past, &v.past), VC_EQUAL);
    cr_assert_neq(c.past.e, v.past.e, "the past is a deep copy");
    versionCopy(&c, &v, 0); /* over an owned value: no leak */
    cr_assert_not(c.ownval);
    cr_assert_eq(c.val, v.val);
    versionFree(&c);
    versionFree(&v);
    vclockFree(&h);
}

Test(version, live) {
    version v = mkv(A, 1, 0, NULL, "x");
    cr_assert(versionLive(&v, 1000));
    v.expire = 2000;
    cr_assert(versionLive(&v, 1999));
    cr_assert_not(versionLive(&v, 2001));
    v.expire = 0;
    v.tombstone = 1;
    cr_assert_not(versionLive(&v, 0));
    versionFree(&v);
}

/* ------------------------------------------------------------- recordAdd */

Test(record, add_concurrent_keeps_both) {
    record r;
    recordInit(&r);
    version a = mkv(A, 10, 0, NULL, "a");
    version b = mkv(B, 10, 0, NULL, "b");
    cr_assert_eq(recordAdd(&r, &b, 1), 1);
    cr_assert_eq(recordAdd(&r, &a, 1), 1);
    cr_assert_eq(r.n, 2);
    cr_assert_eq(r.v[0].actor, A, "sorted by dot");
    cr_assert_eq(r.v[1].actor, B);
    assertInvariants(&r);
    cr_assert_eq(recordAdd(&r, &a, 1), 0, "the same version again changes nothing");
    cr_assert_eq(r.n, 2);
    versionFree(&a);
    versionFree(&b);
    recordFree(&r);
}

Test(record, add_descendant_replaces) {
    record r;
    recordInit(&r);
    version a = mkv(A, 10, 0, NULL, "a");
    version b = mkv(B, 10, 0, NULL, "b");
    uint64_t pab[] = {A, 10, B, 10};
    version c = mkv(A, 20, 2, pab, "c"); /* resolves both */
    recordAdd(&r, &a, 1);
    recordAdd(&r, &b, 1);
    cr_assert_eq(recordAdd(&r, &c, 1), 1);
    cr_assert_eq(r.n, 1);
    cr_assert(hasDot(&r, A, 20));
    cr_assert_eq(recordAdd(&r, &a, 1), 0, "an obsolete version is refused");
    cr_assert_eq(recordAdd(&r, &b, 1), 0);
    cr_assert_eq(r.n, 1);
    versionFree(&a);
    versionFree(&b);
    versionFree(&c);
    recordFree(&r);
}

Test(record, add_partial_resolution_keeps_unseen_sibling) {
    /* VSET with a context that saw only one of two siblings supersedes
     * exactly that one */
    record r;
    recordInit(&r);
    version a = mkv(A, 10, 0, NULL, "a");
    version b = mkv(B, 11, 0, NULL, "b");
    uint64_t pa[] = {A, 10};
    version c = mkv(A, 30, 1, pa, "c");
    recordAdd(&r, &a, 1);
    recordAdd(&r, &b, 1);
    recordAdd(&r, &c, 1);
    cr_assert_eq(r.n, 2);
    cr_assert(hasDot(&r, B, 11), "the unseen sibling stays");
    cr_assert(hasDot(&r, A, 30));
    cr_assert_not(hasDot(&r, A, 10));
    assertInvariants(&r);
    versionFree(&a);
    versionFree(&b);
    versionFree(&c);
    recordFree(&r);
}

Test(record, add_from_old_context_stays_concurrent) {
    /* a write made from an old context is concurrent with what it never
     * saw, even when it comes from the same actor with a larger counter */
    record r;
    recordInit(&r);
    version v1 = mkv(A, 10, 0, NULL, "v1");
    uint64_t p1[] = {A, 10};
    version v2 = mkv(B, 20, 1, p1, "v2");
    version v3 = mkv(A, 30, 1, p1, "v3"); /* also from context {A:10} */
    recordAdd(&r, &v1, 1);
    recordAdd(&r, &v2, 1);
    recordAdd(&r, &v3, 1);
    cr_assert_eq(r.n, 2);
    cr_assert(hasDot(&r, B, 20));
    cr_assert(hasDot(&r, A, 30));
    versionFree(&v1);
    versionFree(&v2);
    versionFree(&v3);
    recordFree(&r);
}

Test(record, tombstone_obsoletes_what_it_saw) {
    record r;
    recordInit(&r);
    version a = mkv(A, 10, 0, NULL, "a");
    version b = mkv(B, 12, 0, NULL, "b");
    uint64_t pa[] = {A, 10};
    version del = mktomb(C, 20, 1, pa);
    recordAdd(&r, &a, 1);
    recordAdd(&r, &b, 1);
    recordAdd(&r, &del, 1);
    cr_assert_eq(r.n, 2, "the tombstone is kept as data, b survives");
    cr_assert(hasDot(&r, C, 20));
    cr_assert(findDot(&r, C, 20)->tombstone);
    cr_assert(hasDot(&r, B, 12));
    versionFree(&a);
    versionFree(&b);
    versionFree(&del);
    recordFree(&r);
}

Test(record, same_dot_tombstone_wins_over_expired_copy) {
    record r1, r2;
    recordInit(&r1);
    recordInit(&r2);
    version live = mkv(A, 10, 0, NULL, "val");
    live.expire = 5000;
    version tomb = expiredCopy(&live);
    /* live then tombstone */
    recordAdd(&r1, &live, 1);
    cr_assert_eq(recordAdd(&r1, &tomb, 1), 1);
    cr_assert_eq(r1.n, 1);
    cr_assert(r1.v[0].tombstone);
    /* tombstone then live: the live copy does not resurrect it */
    recordAdd(&r2, &tomb, 1);
    cr_assert_eq(recordAdd(&r2, &live, 1), 0);
    cr_assert_eq(r2.n, 1);
    cr_assert(r2.v[0].tombstone);
    assertSameRecord(&r1, &r2);
    cr_assert_eq(recordAdd(&r1, &tomb, 1), 0, "tombstone again: no change");
    versionFree(&live);
    versionFree(&tomb);
    recordFree(&r1);
    recordFree(&r2);
}

Test(record, copyval_zero_borrows) {
    record r;
    recordInit(&r);
    char val[] = "borrowed";
    version v = mkv(A, 1, 0, NULL, NULL);
    v.val = val;
    v.vlen = 8;
    recordAdd(&r, &v, 0);
    cr_assert_eq(r.v[0].val, val);
    cr_assert_not(r.v[0].ownval);
    recordOwnValues(&r);
    cr_assert(r.v[0].ownval);
    cr_assert_neq(r.v[0].val, val);
    memset(val, 'x', 8);
    cr_assert(!memcmp(r.v[0].val, "borrowed", 8));
    versionFree(&v);
    recordFree(&r);
}

Test(record, merge_records) {
    record x, y;
    recordInit(&x);
    recordInit(&y);
    version a = mkv(A, 10, 0, NULL, "a");
    version b = mkv(B, 11, 0, NULL, "b");
    uint64_t pa[] = {A, 10};
    version c = mkv(C, 12, 1, pa, "c");
    recordAdd(&x, &a, 1);
    recordAdd(&x, &b, 1);
    recordAdd(&y, &c, 1);
    cr_assert_eq(recordMerge(&x, &y, 1), 1);
    cr_assert_eq(x.n, 2);
    cr_assert(hasDot(&x, B, 11));
    cr_assert(hasDot(&x, C, 12));
    cr_assert_eq(recordMerge(&x, &y, 1), 0, "merging again changes nothing");
    record e;
    recordInit(&e);
    cr_assert_eq(recordMerge(&x, &e, 1), 0, "merging an empty record changes nothing");
    cr_assert_eq(recordMerge(&e, &x, 1), 1);
    assertSameRecord(&e, &x);
    versionFree(&a);
    versionFree(&b);
    versionFree(&c);
    recordFree(&x);
    recordFree(&y);
    recordFree(&e);
}

/* --------------------------------------------- order independence */

/* A scenario of concurrent and causally related updates (histories are
 * causally closed, as coordinators produce them). */
#define NSCEN 8
static version scen[NSCEN];

static void buildScenario(void) {
    uint64_t pA100[] = {A, 100};
    uint64_t pAll[] = {A, 100, B, 110, C, 105};
    uint64_t pA120[] = {A, 120};
    scen[0] = mkv(A, 100, 0, NULL, "v1");          /* first write */
    scen[1] = mkv(B, 110, 1, pA100, "v2");         /* over v1 */
    scen[2] = mkv(C, 105, 0, NULL, "v3");          /* concurrent with v1, v2 */
    scen[3] = mkv(A, 120, 1, pA100, "v4-longer"); /* over v1, concurrent with v2 */
    scen[4] = mkv(B, 130, 3, pAll, "");            /* over v1 v2 v3, empty value */
    scen[5] = mktomb(C, 125, 1, pA120);            /* deletes v4 (and v1) */
    scen[6] = mkv(D, 90, 0, NULL, "expiring");     /* concurrent with all */
    scen[6].expire = 1700000000000LL;
    scen[7] = expiredCopy(&scen[6]); /* the same dot, expired elsewhere */
}

static void freeScenario(void) {
    for (int i = 0; i < NSCEN; i++) versionFree(&scen[i]);
}

/* Folds versions in the order given into a fresh record. */
static void fold(record *r, const int *order, int n) {
    recordInit(r);
    for (int i = 0; i < n; i++) {
        recordAdd(r, &scen[order[i]], 1);
        assertInvariants(r);
    }
}

Test(record, merge_order_independent_all_permutations) {
    buildScenario();
    int perm[NSCEN], c[NSCEN];
    for (int i = 0; i < NSCEN; i++) perm[i] = i, c[i] = 0;
    record ref;
    fold(&ref, perm, NSCEN);
    /* what must survive: v5 (B:130), the tombstone C:125, and D:90 as the
     * tombstone copy */
    cr_assert_eq(ref.n, 3);
    cr_assert(hasDot(&ref, B, 130));
    cr_assert(hasDot(&ref, C, 125));
    cr_assert(findDot(&ref, C, 125)->tombstone);
    cr_assert(hasDot(&ref, D, 90));
    cr_assert(findDot(&ref, D, 90)->tombstone, "the expired copy wins");
    buf refEnc;
    bufInit(&refEnc);
    encode(&ref, &refEnc);
    uint64_t refDigest = recordDigest(&ref);
    /* Heap's algorithm: all 8! = 40320 orders */
    int count = 1, i = 0;
    buf enc;
    bufInit(&enc);
    while (i < NSCEN) {
        if (c[i] < i) {
            int j = i % 2 == 0 ? 0 : c[i];
            int t = perm[j];
            perm[j] = perm[i];
            perm[i] = t;
            record r;
            recordInit(&r);
            for (int k = 0; k < NSCEN; k++) recordAdd(&r, &scen[perm[k]], 1);
            encode(&r, &enc);
            cr_assert_eq(enc.len, refEnc.len, "order %d differs", count);
            cr_assert(!memcmp(enc.ptr, refEnc.ptr, enc.len), "order %d differs", count);
            cr_assert_eq(recordDigest(&r), refDigest);
            recordFree(&r);
            count++;
            c[i]++;
            i = 0;
        } else {
            c[i] = 0;
            i++;
        }
    }
    cr_assert_eq(count, 40320);
    bufFree(&enc);
    bufFree(&refEnc);
    recordFree(&ref);
    freeScenario();
}

Test(record, merge_order_independent_across_replicas) {
    /* replicas each see a subset, then merge records in any grouping */
    buildScenario();
    for (int round = 0; round < 500; round++) {
        record rep[3];
        for (int k = 0; k < 3; k++) recordInit(&rep[k]);
        for (int v = 0; v < NSCEN; v++) {
            int mask = 1 + (int)(rnd() % 7); /* every version reaches someone */
            for (int k = 0; k < 3; k++)
                if (mask & (1 << k)) recordAdd(&rep[k], &scen[v], 1);
        }
        record x, y;
        recordInit(&x);
        recordInit(&y);
        recordMerge(&x, &rep[0], 1);
        recordMerge(&x, &rep[1], 1);
        recordMerge(&x, &rep[2], 1);
        recordMerge(&y, &rep[2], 1);
        recordMerge(&rep[1], &rep[0], 1); /* in place, other direction */
        recordMerge(&y, &rep[1], 1);
        assertSameRecord(&x, &y);
        cr_assert_eq(x.n, 3);
        recordFree(&x);
        recordFree(&y);
        for (int k = 0; k < 3; k++) recordFree(&rep[k]);
    }
    freeScenario();
}

/* Random causal histories: clients read some versions (context = join of
 * their histories) and a random actor writes over that context, sometimes
 * a delete. A context that covers a dot has seen that version (and so its
 * past): that is what a context read from a replica's record means, and
 * what makes "obsoletes" transitive. The expected record is the set of
 * versions no other version obsoletes, computed directly. */
Test(record, merge_random_histories) {
    enum { NV = 14 };
    uint64_t actors[] = {A, B, C, D};
    for (int round = 0; round < 150; round++) {
        version vs[NV];
        uint64_t hlc = 1000;
        for (int i = 0; i < NV; i++) {
            vclock ctx;
            vclockInit(&ctx);
            for (int j = 0; j < i; j++) {
                if (rnd() % 3 == 0) {
                    vclock h;
                    vclockInit(&h);
                    versionHistory(&vs[j], &h);
                    vclockMerge(&ctx, &h);
                    vclockFree(&h);
                }
            }
            /* close the context: whatever it covers, it has seen */
            for (int changed = 1; changed;) {
                changed = 0;
                for (int j = 0; j < i; j++) {
                    if (vclockGet(&ctx, vs[j].actor) < vs[j].counter) continue;
                    if (vclockDescends(&ctx, &vs[j].past)) continue;
                    vclockMerge(&ctx, &vs[j].past);
                    changed = 1;
                }
            }
            versionInit(&vs[i]);
            vs[i].actor = actors[rnd() % 4];
            vs[i].counter = hlc += 1 + rnd() % 5;
            vclockCopy(&vs[i].past, &ctx);
            vs[i].tombstone = rnd() % 5 == 0;
            if (!vs[i].tombstone) {
                vs[i].val = "some value";
                vs[i].vlen = 1 + rnd() % 9;
            }
            vclockFree(&ctx);
        }
        /* expected: not obsoleted by any other */
        int keepit[NV], nkeep = 0;
        for (int i = 0; i < NV; i++) {
            keepit[i] = 1;
            for (int j = 0; j < NV; j++)
                if (j != i && versionObsoletes(&vs[j], &vs[i])) keepit[i] = 0;
            nkeep += keepit[i];
        }
        record ref;
        recordInit(&ref);
        for (int i = 0; i < NV; i++) recordAdd(&ref, &vs[i], 1);
        cr_assert_eq(ref.n, nkeep);
        for (int i = 0; i < NV; i++)
            cr_assert_eq(hasDot(&ref, vs[i].actor, vs[i].counter), keepit[i],
                         "version %d: kept %d, expected %d", i,
                         hasDot(&ref, vs[i].actor, vs[i].counter), keepit[i]);
        assertInvariants(&ref);
        for (int s = 0; s < 20; s++) {
            int ord[NV];
            for (int i = 0; i < NV; i++) ord[i] = i;
            for (int i = NV - 1; i > 0; i--) {
                int j = (int)(rnd() % (uint64_t)(i + 1));
                int t = ord[i];
                ord[i] = ord[j];
                ord[j] = t;
            }
            record r;
            recordInit(&r);
            for (int i = 0; i < NV; i++) recordAdd(&r, &vs[ord[i]], 1);
            assertSameRecord(&r, &ref);
            recordFree(&r);
        }
        recordFree(&ref);
        for (int i = 0; i < NV; i++) versionFree(&vs[i]);
    }
}

/* ------------------------------------------------------- cap, context */

Test(record, cap_siblings_drops_oldest) {
    record r;
    recordInit(&r);
    uint64_t counters[] = {50, 10, 40, 20, 30};
    uint64_t actors[] = {A, B, C, D, 5};
    for (int i = 0; i < 5; i++) {
        version v = mkv(actors[i], counters[i], 0, NULL, "x");
        recordAdd(&r, &v, 1);
        versionFree(&v);
    }
    cr_assert_eq(r.n, 5);
    cr_assert_eq(recordCapSiblings(&r, 3), 2);
    cr_assert_eq(r.n, 3);
    cr_assert_not(hasDot(&r, B, 10));
    cr_assert_not(hasDot(&r, D, 20));
    cr_assert(hasDot(&r, A, 50));
    cr_assert(hasDot(&r, C, 40));
    cr_assert(hasDot(&r, 5, 30));
    assertInvariants(&r);
    cr_assert_eq(recordCapSiblings(&r, 3), 0);
    cr_assert_eq(recordCapSiblings(&r, 0), 2, "at least one version stays");
    cr_assert_eq(r.n, 1);
    cr_assert(hasDot(&r, A, 50), "the newest stays");
    recordFree(&r);
}

Test(record, context_is_join_of_histories) {
    record r;
    recordInit(&r);
    uint64_t p1[] = {C, 5, D, 9};
    uint64_t p2[] = {C, 7};
    version a = mkv(A, 10, 2, p1, "a");
    version b = mkv(B, 20, 1, p2, "b");
    recordAdd(&r, &a, 1);
    recordAdd(&r, &b, 1);
    vclock ctx;
    vclockInit(&ctx);
    vclockRaise(&ctx, 12345, 1); /* replaced, not merged into */
    recordContext(&r, &ctx);
    cr_assert_eq(ctx.n, 4);
    cr_assert_eq(vclockGet(&ctx, A), 10);
    cr_assert_eq(vclockGet(&ctx, B), 20);
    cr_assert_eq(vclockGet(&ctx, C), 7);
    cr_assert_eq(vclockGet(&ctx, D), 9);
    /* a write over this context obsoletes every sibling */
    version w = mkv(C, 30, 0, NULL, "w");
    vclockCopy(&w.past, &ctx);
    recordAdd(&r, &w, 1);
    cr_assert_eq(r.n, 1);
    cr_assert(hasDot(&r, C, 30));
    record e;
    recordInit(&e);
    recordContext(&e, &ctx);
    cr_assert_eq(ctx.n, 0);
    vclockFree(&ctx);
    versionFree(&a);
    versionFree(&b);
    versionFree(&w);
    recordFree(&r);
}

Test(context, encode_decode_roundtrip) {
    for (int round = 0; round < 300; round++) {
        vclock vc, d;
        vclockInit(&vc);
        vclockInit(&d);
        int n = (int)(rnd() % 12);
        for (int i = 0; i < n; i++) vclockRaise(&vc, rnd(), 1 + (rnd() >> (rnd() % 64)));
        buf t;
        bufInit(&t);
        contextEncode(&vc, &t);
        for (size_t i = 0; i < t.len; i++)
            cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                             t.ptr[i]) && t.ptr[i],
                      "base64url without padding: safe in any client and in RESP");
        char *cp = malloc(t.len ? t.len : 1);
        memcpy(cp, t.ptr, t.len);
        cr_assert_eq(contextDecode(&d, cp, t.len), C_OK);
        free(cp);
        cr_assert_eq(vclockCompare(&vc, &d), VC_EQUAL);
        cr_assert_eq(vc.n, d.n);
        bufFree(&t);
        vclockFree(&vc);
        vclockFree(&d);
    }
}

Test(context, empty_clock) {
    vclock vc, d;
    vclockInit(&vc);
    vclockInit(&d);
    buf t;
    bufInit(&t);
    contextEncode(&vc, &t);
    cr_assert_gt(t.len, 0, "an empty context is still a token");
    cr_assert_eq(contextDecode(&d, t.ptr, t.len), C_OK);
    cr_assert_eq(d.n, 0);
    bufFree(&t);
    vclockFree(&vc);
    vclockFree(&d);
}

static int ctxDecode(const char *s) {
    vclock vc;
    vclockInit(&vc);
    size_t len = strlen(s);
    char *cp = malloc(len ? len : 1);
    memcpy(cp, s, len);
    int rc = contextDecode(&vc, cp, len);
    free(cp);
    vclockFree(&vc);
    return rc;
}

Test(context, rejects_garbage) {
    const char *bad[] = {"", "A", "AAAAA", "!!!!", "AA==", "AA AA", "hello world", "*", "AQ",
                         /* base64 of a valid clock plus trailing bytes */
                         "AAAA",
                         /* unsorted actors */
                         "AgIAAAAAAAAAAQEAAAAAAAAAAQ",
                         /* zero counter */
                         "AQEAAAAAAAAAAA",
                         /* standard base64 alphabet is not url-safe: '+' '/' refused */
                         "A+/A"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(ctxDecode(bad[i]), C_ERR, "'%s' must be refused", bad[i]);
}

Test(context, rejects_every_truncation) {
    vclock vc;
    vclockInit(&vc);
    vclockRaise(&vc, A, 123456789);
    vclockRaise(&vc, B, 42);
    vclockRaise(&vc, C, 1);
    buf t;
    bufInit(&t);
    contextEncode(&vc, &t);
    for (size_t l = 0; l < t.len; l++) {
        vclock d;
        vclockInit(&d);
        char *cp = malloc(l ? l : 1);
        memcpy(cp, t.ptr, l);
        cr_assert_eq(contextDecode(&d, cp, l), C_ERR, "prefix %zu of %zu", l, t.len);
        free(cp);
        vclockFree(&d);
    }
    /* and a flipped character anywhere is refused or decodes to a valid clock */
    for (size_t i = 0; i < t.len; i++) {
        buf m;
        bufInit(&m);
        bufAppend(&m, t.ptr, t.len);
        m.ptr[i] = m.ptr[i] == 'A' ? 'B' : 'A';
        vclock d;
        vclockInit(&d);
        if (contextDecode(&d, m.ptr, m.len) == C_OK)
            for (int k = 1; k < d.n; k++) cr_assert_lt(d.e[k - 1].actor, d.e[k].actor);
        vclockFree(&d);
        bufFree(&m);
    }
    bufFree(&t);
    vclockFree(&vc);
}

/* ------------------------------------------------- newest, visible */

Test(record, newest_and_visible) {
    record r;
    recordInit(&r);
    cr_assert_null(recordNewest(&r));
    cr_assert_null(recordVisible(&r, 0));
    cr_assert_not(recordHasLive(&r, 0));
    version a = mkv(A, 100, 0, NULL, "a");
    version b = mkv(B, 200, 0, NULL, "b");
    recordAdd(&r, &a, 1);
    recordAdd(&r, &b, 1);
    cr_assert_eq(recordNewest(&r)->actor, B, "highest HLC");
    cr_assert_eq(recordVisible(&r, 0)->actor, B);
    /* ties on the counter: highest actor, the same on every replica */
    version c = mkv(C, 200, 0, NULL, "c");
    recordAdd(&r, &c, 1);
    cr_assert_eq(recordNewest(&r)->actor, C);
    versionFree(&a);
    versionFree(&b);
    versionFree(&c);
    recordFree(&r);
}

Test(record, visible_with_tombstone_newest) {
    record r;
    recordInit(&r);
    version a = mkv(A, 100, 0, NULL, "a");
    version del = mktomb(B, 200, 0, NULL); /* a delete concurrent with a */
    recordAdd(&r, &a, 1);
    recordAdd(&r, &del, 1);
    cr_assert_eq(r.n, 2, "a concurrent delete keeps the sibling as data");
    cr_assert_eq(recordNewest(&r)->actor, B);
    cr_assert_null(recordVisible(&r, 0), "plain GET: the newest is a delete");
    cr_assert(recordHasLive(&r, 0), "VGET still sees the live sibling");
    /* a later write concurrent with the delete is visible again */
    version c = mkv(C, 300, 0, NULL, "c");
    recordAdd(&r, &c, 1);
    cr_assert_eq(recordVisible(&r, 0)->actor, C);
    versionFree(&a);
    versionFree(&del);
    versionFree(&c);
    recordFree(&r);
}

Test(record, visible_with_expiry) {
    record r;
    recordInit(&r);
    version a = mkv(A, 100, 0, NULL, "a");
    a.expire = 5000;
    recordAdd(&r, &a, 1);
    cr_assert_not_null(recordVisible(&r, 4999));
    cr_assert_null(recordVisible(&r, 5001));
    cr_assert_eq(recordMinExpire(&r), 5000);
    cr_assert(recordHasLive(&r, 4000));
    cr_assert_not(recordHasLive(&r, 6000));
    version b = mkv(B, 50, 0, NULL, "b");
    b.expire = 3000;
    recordAdd(&r, &b, 1);
    cr_assert_eq(recordMinExpire(&r), 3000);
    version c = mkv(C, 10, 0, NULL, "c");
    recordAdd(&r, &c, 1);
    cr_assert_eq(recordMinExpire(&r), 3000, "no expiry is not the earliest");
    cr_assert(recordHasLive(&r, 1000000));
    versionFree(&a);
    versionFree(&b);
    versionFree(&c);
    recordFree(&r);
    recordInit(&r);
    cr_assert_eq(recordMinExpire(&r), 0);
    recordFree(&r);
}

/* ----------------------------------------------------------- encoding */

static void roundtrip(const record *r) {
    buf b;
    bufInit(&b);
    recordEncode(r, &b);
    record d;
    recordInit(&d);
    cr_assert_eq(decodeCopy(&d, b.ptr, b.len), C_OK);
    cr_assert_eq(d.n, r->n);
    for (int i = 0; i < r->n; i++) {
        const version *x = &r->v[i], *y = &d.v[i];
        cr_assert_eq(x->actor, y->actor);
        cr_assert_eq(x->counter, y->counter);
        cr_assert_eq(x->expire, y->expire);
        cr_assert_eq(x->tombstone, y->tombstone);
        cr_assert_eq(vclockCompare(&x->past, &y->past), VC_EQUAL);
        if (x->tombstone) {
            cr_assert_eq(y->vlen, 0, "a tombstone stores no value");
        } else {
            cr_assert_eq(x->vlen, y->vlen);
            cr_assert(!y->vlen || !memcmp(x->val, y->val, x->vlen));
        }
    }
    assertSameRecord(r, &d);
    recordFree(&d);
    bufFree(&b);
}

static void buildRich(record *r) {
    recordInit(r);
    uint64_t p1[] = {C, 5, D, 9};
    version a = mkv(A, hlcFromMs(1700000000000ULL) + 3, 2, p1, "alpha");
    a.expire = 1700000099999LL;
    version t = mktomb(B, 77, 1, p1);
    version e = mkv(5, 1, 0, NULL, "");
    version m = mkv(UINT64_MAX, UINT64_MAX, 0, NULL, "max");
    recordAdd(r, &a, 1);
    recordAdd(r, &t, 1);
    recordAdd(r, &e, 1);
    recordAdd(r, &m, 1);
    versionFree(&a);
    versionFree(&t);
    versionFree(&e);
    versionFree(&m);
}

Test(encoding, roundtrips) {
    record r;
    recordInit(&r);
    roundtrip(&r); /* empty */
    buildRich(&r);
    cr_assert_eq(r.n, 4);
    roundtrip(&r);
    recordFree(&r);
}

Test(encoding, empty_value_and_empty_record) {
    record r;
    recordInit(&r);
    buf b;
    bufInit(&b);
    recordEncode(&r, &b);
    cr_assert_eq(b.len, 2);
    cr_assert_eq((unsigned char)b.ptr[0], RECORD_FORMAT);
    cr_assert_eq(b.ptr[1], 0);
    cr_assert_eq(recordDigest(&r), 0, "nothing stored digests as 0");
    version v = mkv(A, 1, 0, NULL, "");
    recordAdd(&r, &v, 1);
    cr_assert_neq(recordDigest(&r), 0, "an empty value is not an absent key");
    roundtrip(&r);
    versionFree(&v);
    recordFree(&r);
    bufFree(&b);
}

Test(encoding, layout) {
    /* u8 format, varint count, per version: u8 flags, u64 actor LE, varint
     * counter, [varint expire], vclock, varint vlen, value */
    record r;
    recordInit(&r);
    uint64_t p[] = {2, 3};
    version v = mkv(1, 300, 1, p, "hi");
    v.expire = 5;
    recordAdd(&r, &v, 1);
    buf b;
    bufInit(&b);
    recordEncode(&r, &b);
    const unsigned char want[] = {1,    1,    VF_EXPIRE, 1, 0, 0, 0, 0, 0, 0, 0, 0xac, 0x02, 5,
                                  1,    2,    0,         0, 0, 0, 0, 0, 0, 3, 2, 'h',  'i'};
    cr_assert_eq(b.len, sizeof(want));
    cr_assert(!memcmp(b.ptr, want, sizeof(want)));
    versionFree(&v);
    recordFree(&r);
    bufFree(&b);
}

Test(encoding, large_value_and_many_siblings) {
    record r;
    recordInit(&r);
    size_t big = 4 << 20;
    char *val = malloc(big);
    for (size_t i = 0; i < big; i++) val[i] = (char)(i * 31);
    version v = mkv(A, 1, 0, NULL, NULL);
    v.val = val;
    v.vlen = big;
    recordAdd(&r, &v, 1);
    for (uint64_t i = 0; i < 300; i++) {
        uint64_t p[] = {A + 1 + i, i + 1};
        version s = mkv(B + i, 1000 + i, 1, p, "sibling");
        recordAdd(&r, &s, 1);
        versionFree(&s);
    }
    cr_assert_eq(r.n, 301);
    roundtrip(&r);
    versionFree(&v);
    free(val);
    recordFree(&r);
}

Test(encoding, tombstone_value_not_stored) {
    record r;
    recordInit(&r);
    version t = mktomb(A, 1, 0, NULL);
    t.val = "ghost";
    t.vlen = 5;
    recordAdd(&r, &t, 1);
    buf b;
    bufInit(&b);
    recordEncode(&r, &b);
    record d;
    recordInit(&d);
    cr_assert_eq(decodeCopy(&d, b.ptr, b.len), C_OK);
    cr_assert(d.v[0].tombstone);
    cr_assert_eq(d.v[0].vlen, 0);
    recordFree(&d);
    recordFree(&r);
    versionFree(&t);
    bufFree(&b);
}

Test(encoding, decode_rejects_every_truncation) {
    record r;
    buildRich(&r);
    buf b;
    bufInit(&b);
    recordEncode(&r, &b);
    record d;
    recordInit(&d);
    for (size_t l = 0; l < b.len; l++) {
        cr_assert_eq(decodeCopy(&d, b.ptr, l), C_ERR, "prefix %zu of %zu accepted", l, b.len);
        cr_assert_eq(d.n, 0, "a failed decode leaves an empty record");
    }
    /* and trailing bytes */
    bufAppend(&b, "\0", 1);
    cr_assert_eq(decodeCopy(&d, b.ptr, b.len), C_ERR);
    recordFree(&d);
    recordFree(&r);
    bufFree(&b);
}

Test(encoding, decode_survives_every_corruption) {
    /* flip each byte to several values: decode must not crash or over-read,
     * and whatever it accepts keeps the invariants and re-encodes */
    record r;
    buildRich(&r);
    buf b;
    bufInit(&b);
    recordEncode(&r, &b);
    static const unsigned char vals[] = {0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xff};
    record d;
    recordInit(&d);
    for (size_t i = 0; i < b.len; i++) {
        for (size_t k = 0; k < sizeof(vals); k++) {
            char *cp = malloc(b.len);
            memcpy(cp, b.ptr, b.len);
            cp[i] = (char)vals[k];
            if (recordDecode(&d, cp, b.len) == C_OK) {
                for (int j = 1; j < d.n; j++)
                    cr_assert(d.v[j - 1].actor < d.v[j].actor ||
                              (d.v[j - 1].actor == d.v[j].actor &&
                               d.v[j - 1].counter < d.v[j].counter));
                for (int j = 0; j < d.n; j++) cr_assert_neq(d.v[j].counter, 0);
                buf re;
                bufInit(&re);
                recordEncode(&d, &re);
                bufFree(&re);
                (void)recordDigest(&d);
            }
            recordClear(&d);
            free(cp);
        }
    }
    recordFree(&d);
    recordFree(&r);
    bufFree(&b);
}

Test(encoding, decode_random_garbage) {
    record d;
    recordInit(&d);
    for (int round = 0; round < 5000; round++) {
        size_t len = rnd() % 64;
        char *cp = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) cp[i] = (char)rnd();
        if (len) cp[0] = (char)RECORD_FORMAT;
        if (len > 1) cp[1] = (char)(rnd() % 4);
        (void)recordDecode(&d, cp, len);
        recordClear(&d);
        free(cp);
    }
    recordFree(&d);
}

static int decodeBytes(const unsigned char *p, size_t len) {
    record d;
    recordInit(&d);
    int rc = decodeCopy(&d, (const char *)p, len);
    recordFree(&d);
    return rc;
}

Test(encoding, decode_rejects_malformed) {
    /* a valid one-version record to mutate */
    const unsigned char ok[] = {1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 1, 'x'};
    cr_assert_eq(decodeBytes(ok, sizeof(ok)), C_OK);
    unsigned char m[sizeof(ok)];

    memcpy(m, ok, sizeof(ok));
    m[0] = 2; /* unknown format */
    cr_assert_eq(decodeBytes(m, sizeof(m)), C_ERR);
    memcpy(m, ok, sizeof(ok));
    m[0] = 0;
    cr_assert_eq(decodeBytes(m, sizeof(m)), C_ERR);

    memcpy(m, ok, sizeof(ok));
    m[2] = 4; /* unknown flag bit */
    cr_assert_eq(decodeBytes(m, sizeof(m)), C_ERR);

    memcpy(m, ok, sizeof(ok));
    m[11] = 0; /* zero counter */
    cr_assert_eq(decodeBytes(m, sizeof(m)), C_ERR);

    memcpy(m, ok, sizeof(ok));
    m[13] = 2; /* value longer than what is left */
    cr_assert_eq(decodeBytes(m, sizeof(m)), C_ERR);

    memcpy(m, ok, sizeof(ok));
    m[1] = 2; /* two versions announced, one present */
    cr_assert_eq(decodeBytes(m, sizeof(m)), C_ERR);

    memcpy(m, ok, sizeof(ok));
    m[1] = 0; /* zero versions, bytes left over */
    cr_assert_eq(decodeBytes(m, sizeof(m)), C_ERR);

    /* expiry flag with a zero expiry */
    const unsigned char zexp[] = {1, 1, VF_EXPIRE, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 1, 'x'};
    cr_assert_eq(decodeBytes(zexp, sizeof(zexp)), C_ERR);
    /* expiry beyond int64 */
    const unsigned char bigexp[] = {1, 1, VF_EXPIRE, 1, 0, 0, 0, 0, 0, 0, 0, 7,
                                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                                    0, 1, 'x'};
    cr_assert_eq(decodeBytes(bigexp, sizeof(bigexp)), C_ERR);
    /* a broken past clock (unsorted) */
    const unsigned char badpast[] = {1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7,
                                     2, 2, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                                     1, 'x'};
    cr_assert_eq(decodeBytes(badpast, sizeof(badpast)), C_ERR);
    /* versions out of order, and a duplicated dot */
    const unsigned char unsorted[] = {1, 2,
                                      0, 2, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0,
                                      0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0};
    cr_assert_eq(decodeBytes(unsorted, sizeof(unsorted)), C_ERR);
    const unsigned char dup[] = {1, 2,
                                 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0,
                                 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0};
    cr_assert_eq(decodeBytes(dup, sizeof(dup)), C_ERR);
    const unsigned char sorted[] = {1, 2,
                                    0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0,
                                    0, 1, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0};
    cr_assert_eq(decodeBytes(sorted, sizeof(sorted)), C_OK);
    /* an absurd count */
    const unsigned char huge[] = {1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0};
    cr_assert_eq(decodeBytes(huge, sizeof(huge)), C_ERR);
    cr_assert_eq(decodeBytes((const unsigned char *)"", 0), C_ERR);
    cr_assert_eq(decodeBytes((const unsigned char *)"\1", 1), C_ERR);
}

Test(encoding, decode_replaces_previous_content) {
    record r;
    buildRich(&r);
    const unsigned char ok[] = {1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 1, 'x'};
    cr_assert_eq(recordDecode(&r, (const char *)ok, sizeof(ok)), C_OK);
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.v[0].val, (const char *)ok + 14, "values point into the buffer");
    cr_assert_not(r.v[0].ownval);
    recordFree(&r);
}

/* ------------------------------------------------------------ digests */

static uint64_t digestOf(const version *vs, const int *order, int n) {
    record r;
    recordInit(&r);
    for (int i = 0; i < n; i++) recordAdd(&r, &vs[order[i]], 1);
    uint64_t d = recordDigest(&r);
    recordFree(&r);
    return d;
}

Test(digest, equal_sets_in_any_order) {
    uint64_t p[] = {D, 3};
    version vs[3] = {mkv(A, 10, 0, NULL, "a"), mkv(B, 20, 1, p, "b"), mktomb(C, 30, 0, NULL)};
    int o1[] = {0, 1, 2}, o2[] = {2, 1, 0}, o3[] = {1, 2, 0};
    uint64_t d = digestOf(vs, o1, 3);
    cr_assert_neq(d, 0);
    cr_assert_eq(digestOf(vs, o2, 3), d);
    cr_assert_eq(digestOf(vs, o3, 3), d);
    int sub[] = {0, 1};
    cr_assert_neq(digestOf(vs, sub, 2), d, "a missing tombstone is a difference");
    for (int i = 0; i < 3; i++) versionFree(&vs[i]);
}

Test(digest, differs_when_anything_but_order_differs) {
    /* same dot and value; the past, the tombstone flag, the expiry or the
     * value alone must change the digest (anti-entropy must see it) */
    uint64_t p1[] = {B, 5}, p2[] = {B, 6};
    version base = mkv(A, 10, 1, p1, "v");
    version past = mkv(A, 10, 1, p2, "v");
    version tomb = mkv(A, 10, 1, p1, NULL);
    tomb.tombstone = 1;
    version exp = mkv(A, 10, 1, p1, "v");
    exp.expire = 12345;
    version val = mkv(A, 10, 1, p1, "w");
    version dot = mkv(A, 11, 1, p1, "v");
    version *all[] = {&base, &past, &tomb, &exp, &val, &dot};
    uint64_t d[6];
    for (int i = 0; i < 6; i++) {
        record r;
        recordInit(&r);
        recordAdd(&r, all[i], 1);
        d[i] = recordDigest(&r);
        recordFree(&r);
    }
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++) cr_assert_neq(d[i], d[j], "variants %d and %d", i, j);
    for (int i = 0; i < 6; i++) versionFree(all[i]);
}

Test(digest, value_ownership_does_not_matter) {
    record x, y;
    recordInit(&x);
    recordInit(&y);
    version v = mkv(A, 1, 0, NULL, "same");
    recordAdd(&x, &v, 1);
    recordAdd(&y, &v, 0);
    cr_assert_eq(recordDigest(&x), recordDigest(&y));
    versionFree(&v);
    recordFree(&x);
    recordFree(&y);
}

/* ------------------------------------------------------------- format */

Test(record, format_text) {
    record r;
    recordInit(&r);
    uint64_t p[] = {B, hlcFromMs(7) + 1};
    version a = mkv(A, hlcFromMs(1000) + 2, 1, p, "x");
    a.expire = 500;
    version t = mktomb(C, hlcFromMs(2000), 0, NULL);
    recordAdd(&r, &a, 1);
    recordAdd(&r, &t, 1);
    buf b;
    bufInit(&b);
    recordFormat(&r, 1000, &b);
    cr_assert_str_eq(b.ptr,
                     "dot=a1a1a1a1a1a1a1a1:1000.2 past=[b2b2b2b2b2b2b2b2:7.1] expire=500 expired\n"
                     "dot=c3c3c3c3c3c3c3c3:2000.0 past=[] tombstone");
    versionFree(&a);
    versionFree(&t);
    recordFree(&r);
    bufFree(&b);
}
