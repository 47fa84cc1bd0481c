/* test_merkle.c -- the anti-entropy hash trees: a key's entry (covers the
 * key and every byte of its record; 0 only for no record), leaf updates by
 * XOR (order-free, reversible, bucket numbers wrap), the root, differing
 * leaves, the bucket key lists (round trip, growth, every kind of
 * malformed input) and the key diff two replicas exchange (missing on
 * either side, different entries, keys that are prefixes of others).
 * Untested: an XXH3 hash of 0 (the entry is then 1), which needs a
 * preimage. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "merkle.h"
#include "vclock.h" /* varintPut */

/* ----------------------------------------------------------------- entries */

Test(merkle, no_record_is_entry_zero_and_a_record_never_is) {
    cr_expect_eq(merkleEntry("k", 1, NULL, 0), 0);
    cr_expect_neq(merkleEntry("k", 1, "", 0), 0, "an empty record is a record");
    cr_expect_neq(merkleEntry("", 0, "v", 1), 0);
}

Test(merkle, an_entry_covers_the_key_and_every_byte_of_the_record) {
    uint64_t e = merkleEntry("key", 3, "record", 6);
    cr_expect_eq(e, merkleEntry("key", 3, "record", 6), "deterministic");
    cr_expect_neq(e, merkleEntry("kez", 3, "record", 6));
    cr_expect_neq(e, merkleEntry("key", 3, "recorD", 6));
    cr_expect_neq(e, merkleEntry("key", 3, "record!", 7));
    cr_expect_neq(e, merkleEntry("key", 3, "recor", 5));
    /* the key and the record do not run into each other */
    cr_expect_neq(merkleEntry("ab", 2, "c", 1), merkleEntry("a", 1, "bc", 2));
}

/* ------------------------------------------------------------ leaves, root */

Test(merkle, updates_are_xor_order_free_and_reversible) {
    merkle a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    uint64_t e1 = merkleEntry("k1", 2, "v1", 2), e2 = merkleEntry("k2", 2, "v2", 2);
    merkleUpdate(&a, 7, 0, e1);
    merkleUpdate(&a, 7, 0, e2);
    merkleUpdate(&b, 7, 0, e2);
    merkleUpdate(&b, 7, 0, e1);
    cr_expect_eq(a.leaf[7], b.leaf[7]);
    cr_expect_eq(merkleRoot(&a), merkleRoot(&b));
    /* a key rewritten: old entry out, new one in */
    uint64_t e1b = merkleEntry("k1", 2, "v1b", 3);
    merkleUpdate(&a, 7, e1, e1b);
    cr_expect_eq(a.leaf[7], e1b ^ e2);
    /* deleted again: the leaf is as if the key was never there */
    merkleUpdate(&a, 7, e1b, 0);
    cr_expect_eq(a.leaf[7], e2);
    merkleUpdate(&a, 7, e2, 0);
    cr_expect_eq(a.leaf[7], 0);
}

Test(merkle, bucket_numbers_wrap_onto_the_leaves) {
    merkle m;
    memset(&m, 0, sizeof(m));
    merkleUpdate(&m, MERKLE_LEAVES + 3, 0, 42);
    cr_expect_eq(m.leaf[3], 42);
    merkleUpdate(&m, 3, 42, 0);
    cr_expect_eq(m.leaf[3], 0);
}

Test(merkle, the_root_changes_with_any_leaf) {
    merkle a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    cr_expect_eq(merkleRoot(&a), merkleRoot(&b));
    for (unsigned i = 0; i < MERKLE_LEAVES; i += 51) {
        b = a;
        merkleUpdate(&b, i, 0, 1);
        cr_expect_neq(merkleRoot(&a), merkleRoot(&b), "leaf %u", i);
    }
    /* the same entries in different buckets are different trees */
    merkle c, d;
    memset(&c, 0, sizeof(c));
    memset(&d, 0, sizeof(d));
    merkleUpdate(&c, 1, 0, 5);
    merkleUpdate(&d, 2, 0, 5);
    cr_expect_neq(merkleRoot(&c), merkleRoot(&d));
    /* built is not part of the root */
    c.built = 1;
    d = c;
    d.built = 0;
    cr_expect_eq(merkleRoot(&c), merkleRoot(&d));
}

Test(merkle, differing_leaves_none_some_all) {
    uint64_t a[MERKLE_LEAVES], b[MERKLE_LEAVES];
    unsigned out[MERKLE_LEAVES];
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    cr_expect_eq(merkleDiffLeaves(a, b, out), 0);
    b[0] = 1;
    b[100] = 2;
    b[MERKLE_LEAVES - 1] = 3;
    cr_assert_eq(merkleDiffLeaves(a, b, out), 3);
    cr_expect_eq(out[0], 0);
    cr_expect_eq(out[1], 100);
    cr_expect_eq(out[2], MERKLE_LEAVES - 1);
    for (int i = 0; i < MERKLE_LEAVES; i++) b[i] = (uint64_t)i + 1;
    cr_assert_eq(merkleDiffLeaves(a, b, out), MERKLE_LEAVES);
    for (unsigned i = 0; i < MERKLE_LEAVES; i++) cr_expect_eq(out[i], i);
}

/* --------------------------------------------------------------- key lists */

Test(merkle, a_key_list_round_trips) {
    buf l;
    bufInit(&l);
    merkleKeyListAdd(&l, "a", 1, 1);
    merkleKeyListAdd(&l, "", 0, 0);
    merkleKeyListAdd(&l, "bb", 2, 0xffffffffffffffffULL);
    merkleKey *k;
    cr_assert_eq(merkleKeyListDecode(l.ptr, l.len, &k), 3);
    cr_expect_eq(k[0].sklen, 1);
    cr_expect_eq(memcmp(k[0].skey, "a", 1), 0);
    cr_expect_eq(k[0].entry, 1);
    cr_expect_eq(k[1].sklen, 0);
    cr_expect_eq(k[1].entry, 0);
    cr_expect_eq(k[2].sklen, 2);
    cr_expect_eq(memcmp(k[2].skey, "bb", 2), 0);
    cr_expect_eq(k[2].entry, 0xffffffffffffffffULL);
    /* the keys point into the list */
    cr_expect(k[0].skey >= l.ptr && k[2].skey < l.ptr + l.len);
    zfree(k);
    bufFree(&l);
}

Test(merkle, an_empty_key_list_has_no_keys) {
    merkleKey *k = (merkleKey *)1;
    cr_expect_eq(merkleKeyListDecode("", 0, &k), 0);
    cr_expect_null(k);
}

Test(merkle, a_long_key_list_grows) {
    buf l;
    bufInit(&l);
    char name[32];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(name, sizeof(name), "key:%04d", i);
        merkleKeyListAdd(&l, name, (size_t)n, (uint64_t)i * 7919);
    }
    /* a key longer than one varint byte holds */
    char big[300];
    memset(big, 'x', sizeof(big));
    merkleKeyListAdd(&l, big, sizeof(big), 9);
    merkleKey *k;
    cr_assert_eq(merkleKeyListDecode(l.ptr, l.len, &k), 1001);
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(name, sizeof(name), "key:%04d", i);
        cr_expect(k[i].sklen == (size_t)n && !memcmp(k[i].skey, name, (size_t)n), "key %d", i);
        cr_expect_eq(k[i].entry, (uint64_t)i * 7919);
    }
    cr_expect_eq(k[1000].sklen, sizeof(big));
    cr_expect_eq(k[1000].entry, 9);
    zfree(k);
    bufFree(&l);
}

Test(merkle, every_truncation_of_a_key_list_is_malformed) {
    buf l;
    bufInit(&l);
    merkleKeyListAdd(&l, "first", 5, 11);
    size_t one = l.len;
    merkleKeyListAdd(&l, "second", 6, 22);
    for (size_t len = 1; len < l.len; len++) {
        if (len == one) continue; /* a whole first entry: a valid list of one */
        merkleKey *k = (merkleKey *)1;
        cr_expect_eq(merkleKeyListDecode(l.ptr, len, &k), -1, "truncated to %zu", len);
        cr_expect_null(k);
    }
    merkleKey *k;
    cr_expect_eq(merkleKeyListDecode(l.ptr, one, &k), 1);
    zfree(k);
    bufFree(&l);
}

Test(merkle, malformed_key_lists) {
    merkleKey *k;
    /* a varint that never ends */
    const char endless[] = "\xff\xff\xff";
    cr_expect_eq(merkleKeyListDecode(endless, 3, &k), -1);
    /* a key length past the end */
    const char longkey[] = "\x05" "ab";
    cr_expect_eq(merkleKeyListDecode(longkey, 3, &k), -1);
    /* a key with no room for its entry */
    const char noentry[] = "\x01" "a" "1234567";
    cr_expect_eq(merkleKeyListDecode(noentry, 9, &k), -1);
    /* a huge key length must not wrap around */
    buf l;
    bufInit(&l);
    varintPut(&l, 0xffffffffffffffffULL);
    bufAppend(&l, "12345678", 8);
    cr_expect_eq(merkleKeyListDecode(l.ptr, l.len, &k), -1);
    bufFree(&l);
    /* a good entry followed by garbage: the whole list is refused */
    bufInit(&l);
    merkleKeyListAdd(&l, "ok", 2, 1);
    bufAppend(&l, "\x7f", 1);
    k = (merkleKey *)1;
    cr_expect_eq(merkleKeyListDecode(l.ptr, l.len, &k), -1);
    cr_expect_null(k);
    bufFree(&l);
}

/* ---------------------------------------------------------------- key diff */

typedef struct seen {
    char line[64][48];
    int n;
} seen;

static void record(const merkleKey *mine, const merkleKey *theirs, void *pd) {
    seen *s = pd;
    const merkleKey *k = mine ? mine : theirs;
    snprintf(s->line[s->n++], 48, "%s %.*s", mine && theirs ? "both" : mine ? "mine" : "theirs",
             (int)k->sklen, k->skey);
    if (mine && theirs)
        cr_expect(mine->sklen == theirs->sklen && !memcmp(mine->skey, theirs->skey, mine->sklen));
}

static long list(merkleKey *k, const char *spec) {
    /* "key=entry key=entry ...", sorted by the caller */
    static char copy[8][256];
    static int slot;
    char *s = copy[slot++ % 8];
    snprintf(s, 256, "%s", spec);
    long n = 0;
    for (char *t = strtok(s, " "); t; t = strtok(NULL, " ")) {
        char *eq = strchr(t, '=');
        *eq = '\0';
        k[n].skey = t;
        k[n].sklen = strlen(t);
        k[n].entry = strtoull(eq + 1, NULL, 10);
        n++;
    }
    return n;
}

static void expectDiff(const char *a, const char *b, const char *want[], int nwant) {
    merkleKey ka[32], kb[32];
    long na = list(ka, a), nb = list(kb, b);
    seen s = {.n = 0};
    merkleDiffKeys(ka, na, kb, nb, record, &s);
    cr_expect_eq(s.n, nwant, "%s vs %s: %d differences, want %d", a, b, s.n, nwant);
    for (int i = 0; i < s.n && i < nwant; i++)
        cr_expect_str_eq(s.line[i], want[i], "%s vs %s: difference %d", a, b, i);
}

Test(merkle, equal_lists_have_no_difference) {
    expectDiff("a=1 b=2 c=3", "a=1 b=2 c=3", NULL, 0);
    expectDiff("", "", NULL, 0);
}

Test(merkle, keys_missing_on_either_side) {
    const char *w1[] = {"theirs a", "theirs b"};
    expectDiff("", "a=1 b=2", w1, 2);
    const char *w2[] = {"mine a", "mine b"};
    expectDiff("a=1 b=2", "", w2, 2);
    const char *w3[] = {"mine a", "theirs b", "mine c", "theirs d"};
    expectDiff("a=1 c=3", "b=2 d=4", w3, 4);
    const char *w4[] = {"theirs a", "mine z"};
    expectDiff("m=1 z=2", "a=1 m=1", w4, 2);
}

Test(merkle, keys_whose_entries_differ) {
    const char *w[] = {"both b"};
    expectDiff("a=1 b=2 c=3", "a=1 b=9 c=3", w, 1);
    const char *w2[] = {"both a", "mine b", "both c"};
    expectDiff("a=1 b=2 c=3", "a=2 c=4", w2, 3);
}

Test(merkle, a_key_that_is_a_prefix_of_another_sorts_first) {
    const char *w[] = {"mine ab", "theirs abc"};
    expectDiff("ab=1", "abc=1", w, 2);
    const char *w2[] = {"theirs ab", "mine abc"};
    expectDiff("abc=1", "ab=1", w2, 2);
}
