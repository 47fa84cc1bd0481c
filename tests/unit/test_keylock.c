/* test_keylock.c -- per-key ordering: which modes share a key, arrival
 * order per key (a compatible request never overtakes a queued one),
 * several keys at once without deadlock, a key named twice, a waiter that
 * leaves before its grant (head, middle and tail of a queue), the grant
 * handler, databases, and the table growing and shrinking back to empty.
 * Each Criterion test runs in its own process, so the module's table
 * starts empty every time. Branches left untested: a 64-bit hash
 * collision between two keys, lookup without create (no caller), and a
 * waiter missing from a queue it claimed (grants are all-or-nothing). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "keylock.h"

/* The requests the grant handler was called with, in order. */
static request *granted[64];
static int ngranted;

static void onGrant(request *r) { granted[ngranted++] = r; }

static void setup(void) {
    ngranted = 0;
    keylockSetGrantHandler(onGrant);
}

TestSuite(keylock, .init = setup);

static request *req(void) { return zcalloc(sizeof(request)); }

/* Acquires the keys named in a space-separated list. */
static int acquireDb(request *r, int db, const char *names, int mode) {
    static char copy[256];
    snprintf(copy, sizeof(copy), "%s", names);
    char *keys[16];
    size_t lens[16];
    int n = 0;
    for (char *k = strtok(copy, " "); k; k = strtok(NULL, " ")) {
        keys[n] = k;
        lens[n++] = strlen(k);
    }
    return keylockAcquire(r, db, keys, lens, n, mode);
}

static int acquire(request *r, const char *names, int mode) { return acquireDb(r, 0, names, mode); }

static int wasGranted(request *r) {
    for (int i = 0; i < ngranted; i++)
        if (granted[i] == r) return 1;
    return 0;
}

Test(keylock, a_free_key_is_granted_at_once_and_forgotten_on_release) {
    request *r = req();
    cr_assert_eq(acquire(r, "k", LOCK_EXCL), 1);
    cr_expect_not_null(r->locks);
    cr_expect_eq(keylockCount(), 1);
    cr_expect_eq(keylockWaits(), 0);
    keylockRelease(r);
    cr_expect_null(r->locks);
    cr_expect_eq(keylockCount(), 0);
    cr_expect_eq(ngranted, 0, "a request granted at once is not handed to the grant handler");
}

Test(keylock, releasing_a_request_without_locks_does_nothing) {
    request *r = req();
    keylockRelease(r);
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, reads_share_with_reads_and_plain_writes_with_plain_writes) {
    request *a = req(), *b = req(), *c = req(), *d = req();
    cr_expect_eq(acquire(a, "k", LOCK_READ), 1);
    cr_expect_eq(acquire(b, "k", LOCK_READ), 1);
    cr_expect_eq(acquire(c, "j", LOCK_BLIND), 1);
    cr_expect_eq(acquire(d, "j", LOCK_BLIND), 1);
    cr_expect_eq(keylockCount(), 2);
    cr_expect_eq(keylockWaits(), 0);
}

Test(keylock, a_write_waits_for_reads_and_reads_for_a_write) {
    request *rd = req(), *w = req(), *rd2 = req();
    cr_assert_eq(acquire(rd, "k", LOCK_READ), 1);
    cr_expect_eq(acquire(w, "k", LOCK_BLIND), 0);
    cr_expect_eq(acquire(rd2, "k", LOCK_READ), 0, "a read must not overtake the queued write");
    cr_expect_eq(keylockWaits(), 2);
    keylockRelease(rd);
    cr_expect_eq(ngranted, 1);
    cr_expect(wasGranted(w));
    cr_expect(!wasGranted(rd2));
    keylockRelease(w);
    cr_expect_eq(ngranted, 2);
    cr_expect(wasGranted(rd2));
    keylockRelease(rd2);
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, exclusive_is_alone_even_with_exclusive) {
    request *a = req(), *b = req(), *c = req();
    cr_assert_eq(acquire(a, "k", LOCK_EXCL), 1);
    cr_expect_eq(acquire(b, "k", LOCK_EXCL), 0);
    cr_expect_eq(acquire(c, "k", LOCK_READ), 0);
    keylockRelease(a);
    cr_expect_eq(ngranted, 1);
    cr_expect_eq(granted[0], b);
    keylockRelease(b);
    cr_expect_eq(ngranted, 2);
    cr_expect_eq(granted[1], c);
    keylockRelease(c);
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, waiting_readers_are_granted_together_up_to_a_writer) {
    request *w = req(), *r1 = req(), *r2 = req(), *w2 = req(), *r3 = req();
    cr_assert_eq(acquire(w, "k", LOCK_EXCL), 1);
    cr_expect_eq(acquire(r1, "k", LOCK_READ), 0);
    cr_expect_eq(acquire(r2, "k", LOCK_READ), 0);
    cr_expect_eq(acquire(w2, "k", LOCK_BLIND), 0);
    cr_expect_eq(acquire(r3, "k", LOCK_READ), 0);
    keylockRelease(w);
    cr_expect_eq(ngranted, 2);
    cr_expect_eq(granted[0], r1);
    cr_expect_eq(granted[1], r2);
    keylockRelease(r1);
    cr_expect_eq(ngranted, 2, "one reader still holds the key");
    keylockRelease(r2);
    cr_expect_eq(ngranted, 3);
    cr_expect_eq(granted[2], w2);
    keylockRelease(w2);
    cr_expect_eq(granted[3], r3);
    keylockRelease(r3);
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, several_keys_are_granted_only_all_together) {
    request *hb = req(), *ab = req();
    cr_assert_eq(acquire(hb, "b", LOCK_EXCL), 1);
    cr_expect_eq(acquire(ab, "a b", LOCK_EXCL), 0, "b is held: a alone is not enough");
    cr_expect_eq(keylockCount(), 2);
    keylockRelease(hb);
    cr_expect_eq(ngranted, 1);
    cr_expect_eq(granted[0], ab);
    keylockRelease(ab);
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, requests_on_shared_keys_meet_in_one_order_no_deadlock) {
    /* r1 takes (a, b), r2 (b, a), r3 (a): each is queued on every key at
     * arrival, so r2 never holds b while waiting for a held by r1 */
    request *h = req(), *r1 = req(), *r2 = req(), *r3 = req();
    cr_assert_eq(acquire(h, "a", LOCK_EXCL), 1);
    cr_expect_eq(acquire(r1, "a b", LOCK_EXCL), 0);
    cr_expect_eq(acquire(r2, "b a", LOCK_EXCL), 0, "b is free, but r1 queued on it first");
    cr_expect_eq(acquire(r3, "a", LOCK_EXCL), 0);
    keylockRelease(h);
    cr_assert_eq(ngranted, 1);
    cr_expect_eq(granted[0], r1);
    keylockRelease(r1);
    cr_assert_eq(ngranted, 2);
    cr_expect_eq(granted[1], r2);
    keylockRelease(r2);
    cr_assert_eq(ngranted, 3);
    cr_expect_eq(granted[2], r3);
    keylockRelease(r3);
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, a_key_named_twice_is_claimed_once) {
    request *a = req(), *b = req();
    cr_assert_eq(acquire(a, "k k k", LOCK_EXCL), 1);
    cr_expect_eq(keylockCount(), 1);
    cr_expect_eq(acquire(b, "k k", LOCK_READ), 0);
    keylockRelease(a);
    cr_expect_eq(ngranted, 1);
    cr_expect_eq(granted[0], b);
    keylockRelease(b);
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, databases_lock_separately) {
    request *a = req(), *b = req(), *c = req();
    cr_assert_eq(acquireDb(a, 0, "k", LOCK_EXCL), 1);
    cr_expect_eq(acquireDb(b, 1, "k", LOCK_EXCL), 1);
    cr_expect_eq(acquireDb(c, 15, "k", LOCK_EXCL), 1);
    cr_expect_eq(keylockCount(), 3);
    /* a key that is a prefix of another is another key */
    request *d = req();
    cr_expect_eq(acquireDb(d, 0, "kk", LOCK_EXCL), 1);
    cr_expect_eq(keylockCount(), 4);
}

Test(keylock, a_waiter_that_leaves_is_taken_out_of_every_queue) {
    request *h = req(), *w1 = req(), *w2 = req(), *w3 = req(), *w4 = req();
    cr_assert_eq(acquire(h, "a b", LOCK_EXCL), 1);
    cr_expect_eq(acquire(w1, "a", LOCK_EXCL), 0);
    cr_expect_eq(acquire(w2, "a b", LOCK_EXCL), 0);
    cr_expect_eq(acquire(w3, "a", LOCK_EXCL), 0);
    /* w2 leaves from the middle of a's queue and the head of b's */
    keylockRelease(w2);
    cr_expect_null(w2->locks);
    cr_expect_eq(ngranted, 0, "nobody can go while h holds both");
    /* w3 leaves from the tail of a's queue: a new waiter still queues last */
    keylockRelease(w3);
    cr_expect_eq(acquire(w4, "a", LOCK_EXCL), 0);
    keylockRelease(h);
    cr_assert_eq(ngranted, 1);
    cr_expect_eq(granted[0], w1);
    cr_expect_eq(keylockCount(), 1, "b is idle and dropped");
    keylockRelease(w1);
    cr_assert_eq(ngranted, 2);
    cr_expect_eq(granted[1], w4);
    keylockRelease(w4);
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, the_only_waiter_leaving_empties_the_queue) {
    request *h = req(), *w = req(), *w2 = req();
    cr_assert_eq(acquire(h, "k", LOCK_EXCL), 1);
    cr_expect_eq(acquire(w, "k", LOCK_EXCL), 0);
    keylockRelease(w);
    cr_expect_eq(acquire(w2, "k", LOCK_EXCL), 0);
    keylockRelease(h);
    cr_expect_eq(ngranted, 1);
    cr_expect_eq(granted[0], w2);
    keylockRelease(w2);
    keylockRelease(h); /* a second release: no locks, nothing happens */
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, a_queued_waiter_leaving_keeps_the_key_while_others_hold_it) {
    request *h = req(), *w = req();
    cr_assert_eq(acquire(h, "k", LOCK_READ), 1);
    cr_expect_eq(acquire(w, "k", LOCK_EXCL), 0);
    keylockRelease(w);
    cr_expect_eq(keylockCount(), 1);
    keylockRelease(h);
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, grants_without_a_handler_still_hold_the_keys) {
    keylockSetGrantHandler(NULL);
    request *a = req(), *b = req(), *c = req();
    cr_assert_eq(acquire(a, "k", LOCK_EXCL), 1);
    cr_expect_eq(acquire(b, "k", LOCK_EXCL), 0);
    keylockRelease(a);
    cr_expect_eq(ngranted, 0);
    /* b holds k now: c waits */
    cr_expect_eq(acquire(c, "k", LOCK_EXCL), 0);
    keylockRelease(b);
    keylockRelease(c);
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, the_table_grows_and_finds_every_key_again) {
    enum { N = 1000 };
    static request *r[N];
    char name[32];
    for (int i = 0; i < N; i++) {
        r[i] = req();
        snprintf(name, sizeof(name), "key:%d", i);
        cr_assert_eq(acquire(r[i], name, LOCK_EXCL), 1);
    }
    cr_expect_eq(keylockCount(), N);
    /* every key is still found after the rehashes: a second claim waits */
    request *w[N];
    for (int i = 0; i < N; i += 97) {
        w[i] = req();
        snprintf(name, sizeof(name), "key:%d", i);
        cr_expect_eq(acquire(w[i], name, LOCK_EXCL), 0, "key:%d not found again", i);
    }
    for (int i = 0; i < N; i++) keylockRelease(r[i]);
    cr_expect_eq(ngranted, (N + 96) / 97);
    for (int i = 0; i < N; i += 97) keylockRelease(w[i]);
    cr_expect_eq(keylockCount(), 0);
}

Test(keylock, a_waiter_first_on_one_key_but_not_on_another_waits_for_both) {
    /* w heads a's queue (nobody holds a) but is second on b's */
    request *ra = req(), *hb = req(), *x = req(), *w = req();
    cr_assert_eq(acquire(ra, "a", LOCK_READ), 1);
    cr_assert_eq(acquire(hb, "b", LOCK_EXCL), 1);
    cr_expect_eq(acquire(x, "b", LOCK_EXCL), 0);
    cr_expect_eq(acquire(w, "a b", LOCK_EXCL), 0);
    keylockRelease(ra);
    cr_expect_eq(ngranted, 0, "w heads a's queue but not b's");
    cr_expect_eq(keylockCount(), 2, "a is kept: w waits in its queue");
    keylockRelease(hb);
    cr_assert_eq(ngranted, 1);
    cr_expect_eq(granted[0], x);
    keylockRelease(x);
    cr_assert_eq(ngranted, 2);
    cr_expect_eq(granted[1], w);
    keylockRelease(w);
    cr_expect_eq(keylockCount(), 0);
}
