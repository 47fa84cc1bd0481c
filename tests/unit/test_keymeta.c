/* test_keymeta.c -- a collection key's metadata (types/keymeta.h): the
 * type-conflict rule, the join laws on arbitrary records (ties and all, not
 * only the ones operations make), and the codec every type shares
 * (types/tcodec.h): canonical varints, 128-bit integers at their limits,
 * long doubles in their one text, doubles without NaN. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "record.h"
#include "types/counter.h"
#include "types/keymeta.h"
#include "types/strctr.h"
#include "types/tcodec.h"
#include "typesim.h"

#define A 0xA1A1A1A1A1A1A1A1ULL
#define B 0x0000000000000B02ULL

/* ------------------------------------------------------- type conflicts */

Test(keymeta, concurrent_writes_of_two_types_resolve_to_the_newest_on_every_replica) {
    keymeta a, b, da, db;
    keymetaInit(&a), keymetaInit(&b), keymetaInit(&da), keymetaInit(&db);
    /* SADD k m at A (dot 100) || HSET k f v at B (dot 101): both create */
    keymetaDeltaCreate(&da, &a, 0, KT_SET, A, 100);
    keymetaDeltaCreate(&db, &b, 0, KT_HASH, B, 101);
    keymetaMerge(&a, &da);
    keymetaMerge(&b, &db);
    keymetaMerge(&a, &db);
    keymetaMerge(&b, &da);
    cr_assert(keymetaEqual(&a, &b));
    keymetaCand c[2] = {{KT_SET, 1, keymetaTypeStamp(&a, KT_SET)},
                        {KT_HASH, 1, keymetaTypeStamp(&a, KT_HASH)}};
    cr_assert_eq(keymetaResolveType(c, 2), 1, "the hash: its write is newer");
    keymetaCand r[2] = {c[1], c[0]};
    cr_assert_eq(keymetaResolveType(r, 2), 0, "whatever the order of the candidates");
    /* the loser is hidden, not gone: it shows again if the winner is emptied */
    c[1].live = 0;
    cr_assert_eq(keymetaResolveType(c, 2), 0);
    c[0].live = 0;
    cr_assert_eq(keymetaResolveType(c, 2), -1);
    /* a DEL that saw both removes both */
    keymetaDeltaDel(&da, &a, 0, A, 200);
    keymetaMerge(&a, &da);
    cr_assert(!keymetaTypeMayLive(&a, KT_SET, 0) && !keymetaTypeMayLive(&a, KT_HASH, 0));
    /* ties in the stamp go to the larger type number (never in practice:
     * one actor never repeats a timestamp) */
    keymetaCand t[2] = {{KT_ZSET, 1, {5, A}}, {KT_SET, 1, {5, A}}};
    cr_assert_eq(keymetaResolveType(t, 2), 0);
    keymetaFree(&a), keymetaFree(&b), keymetaFree(&da), keymetaFree(&db);
}

Test(keymeta, a_string_set_concurrently_with_a_collection) {
    /* SET k v at A (newer) || SADD k m at B: the string wins, and the set
     * keeps its member hidden; strctrCandidate makes the string's side */
    record r;
    counter c;
    recordInit(&r);
    counterInit(&c);
    version v;
    versionInit(&v);
    v.actor = A;
    v.counter = 300;
    v.val = "v";
    v.vlen = 1;
    recordAdd(&r, &v, 1);
    versionFree(&v);
    keymeta m, d;
    keymetaInit(&m), keymetaInit(&d);
    keymetaDeltaCreate(&d, &m, 0, KT_SET, B, 299);
    keymetaMerge(&m, &d);
    keymetaCand cands[2];
    strctrCandidate(&r, &c, 0, &cands[0]);
    cands[1] = (keymetaCand){KT_SET, 1, keymetaTypeStamp(&m, KT_SET)};
    cr_assert_eq(keymetaResolveType(cands, 2), 0, "the string, written last");
    /* an INCR through B after that makes the string newer still; a SADD
     * through B newer than everything makes the set win */
    counter dc;
    counterInit(&dc);
    long long out;
    cr_assert_eq(strctrDeltaIncrBy(&dc, &r, &c, 0, B, 301, 1, &out), NUMERR_NOTINT);
    keymetaDeltaWrite(&d, KT_SET, B, 302);
    keymetaMerge(&m, &d);
    cands[1].last = keymetaTypeStamp(&m, KT_SET);
    cr_assert_eq(keymetaResolveType(cands, 2), 1);
    counterFree(&dc);
    recordFree(&r);
    counterFree(&c);
    keymetaFree(&m), keymetaFree(&d);
}

/* ------------------------------------------- laws on arbitrary records */

static void randomMeta(rng *r, keymeta *m) {
    keymetaClear(m);
    static const uint64_t as[4] = {1, 2, 0xFFFFFFFFFFFFFFFFULL, 0x8000000000000000ULL};
    for (int i = 0; i < 4; i++) {
        if (rngChance(r, 50)) vclockRaise(&m->clock, as[i], 1 + (uint64_t)rngInt(r, 6));
        if (rngChance(r, 30)) vclockRaise(&m->rm, as[i], 1 + (uint64_t)rngInt(r, 6));
    }
    if (rngChance(r, 30)) m->floor = (uint64_t)rngInt(r, 6);
    if (rngChance(r, 60)) { /* small ranges: equal stamps with different times happen */
        m->expst = (causalStamp){1 + (uint64_t)rngInt(r, 3), as[rngInt(r, 2)]};
        m->expat = rngInt(r, 3);
    }
    for (int t = 0; t <= KT_MAX; t++)
        if (rngChance(r, 30)) m->last[t] = (causalStamp){1 + (uint64_t)rngInt(r, 4), as[rngInt(r, 4)]};
}

Test(keymeta, merge_is_a_join_on_arbitrary_records) {
    rng r;
    rngSeed(&r, 99);
    keymeta x[3], ab, ba, abc, bc, a_bc, aa;
    for (int i = 0; i < 3; i++) keymetaInit(&x[i]);
    keymetaInit(&ab), keymetaInit(&ba), keymetaInit(&abc), keymetaInit(&bc), keymetaInit(&a_bc),
        keymetaInit(&aa);
    int cases = 0;
    for (int k = 0; k < 20000; k++) {
        for (int i = 0; i < 3; i++) randomMeta(&r, &x[i]);
        keymetaCopy(&ab, &x[0]);
        keymetaMerge(&ab, &x[1]);
        keymetaCopy(&ba, &x[1]);
        keymetaMerge(&ba, &x[0]);
        cr_assert(keymetaEqual(&ab, &ba));
        keymetaCopy(&abc, &ab);
        keymetaMerge(&abc, &x[2]);
        keymetaCopy(&bc, &x[1]);
        keymetaMerge(&bc, &x[2]);
        keymetaCopy(&a_bc, &x[0]);
        keymetaMerge(&a_bc, &bc);
        cr_assert(keymetaEqual(&abc, &a_bc));
        keymetaCopy(&aa, &x[0]);
        cr_assert_eq(keymetaMerge(&aa, &x[0]), 0);
        cr_assert(keymetaEqual(&aa, &x[0]));
        /* the encoding of the merge decodes to it */
        buf e;
        bufInit(&e);
        keymetaEncode(&abc, &e);
        keymeta back;
        keymetaInit(&back);
        cr_assert_eq(keymetaDecode(&back, e.ptr, e.len), C_OK);
        cr_assert(keymetaEqual(&back, &abc));
        keymetaFree(&back);
        bufFree(&e);
        cases += 3;
    }
    fprintf(stderr, "keymeta: %d law cases on arbitrary records\n", cases);
    for (int i = 0; i < 3; i++) keymetaFree(&x[i]);
    keymetaFree(&ab), keymetaFree(&ba), keymetaFree(&abc), keymetaFree(&bc), keymetaFree(&a_bc),
        keymetaFree(&aa);
}

Test(keymeta, counters_merge_as_a_join_on_arbitrary_states_too) {
    /* ties in seq with different totals, floors, baselines above entries:
     * states no operation makes, merged deterministically all the same */
    rng r;
    rngSeed(&r, 7);
    counter x[3], ab, ba, abc, bc, a_bc;
    for (int i = 0; i < 3; i++) counterInit(&x[i]);
    counterInit(&ab), counterInit(&ba), counterInit(&abc), counterInit(&bc), counterInit(&a_bc);
    for (int k = 0; k < 20000; k++) {
        for (int i = 0; i < 3; i++) {
            counter raw;
            counterInit(&raw);
            counterClear(&x[i]);
            raw.floor = (uint64_t)rngInt(&r, 3);
            for (uint64_t a = 1; a <= 3; a++) {
                if (rngChance(&r, 40)) continue;
                counter one;
                counterInit(&one);
                one.n = 1;
                one.cap = 1;
                one.s = zcalloc(sizeof(counterSlot));
                one.s[0].actor = a;
                one.s[0].seq = (uint64_t)rngInt(&r, 4);
                one.s[0].isum = one.s[0].seq ? rngInt(&r, 3) - 1 : 0;
                one.s[0].fsum = one.s[0].seq ? (long double)(rngInt(&r, 3) - 1) / 2 : 0;
                one.s[0].bseq = (uint64_t)rngInt(&r, 3);
                one.s[0].bisum = one.s[0].bseq ? rngInt(&r, 3) - 1 : 0;
                if (!one.s[0].seq && !one.s[0].bseq) one.s[0].bseq = 1;
                counterMerge(&raw, &one); /* normalizes */
                counterFree(&one);
            }
            counterMerge(&x[i], &raw);
            counterFree(&raw);
        }
        counterCopy(&ab, &x[0]);
        counterMerge(&ab, &x[1]);
        counterCopy(&ba, &x[1]);
        counterMerge(&ba, &x[0]);
        cr_assert(counterEqual(&ab, &ba));
        counterCopy(&abc, &ab);
        counterMerge(&abc, &x[2]);
        counterCopy(&bc, &x[1]);
        counterMerge(&bc, &x[2]);
        counterCopy(&a_bc, &x[0]);
        counterMerge(&a_bc, &bc);
        cr_assert(counterEqual(&abc, &a_bc));
        counterCopy(&ab, &x[0]);
        cr_assert_eq(counterMerge(&ab, &x[0]), 0);
    }
    for (int i = 0; i < 3; i++) counterFree(&x[i]);
    counterFree(&ab), counterFree(&ba), counterFree(&abc), counterFree(&bc), counterFree(&a_bc);
}

/* ---------------------------------------------------------------- codec */

Test(keymeta, codec_varints_are_canonical) {
    const unsigned char ok[] = {0x80, 0x01}, overlong[] = {0x81, 0x00},
                        big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
                        toobig[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    uint64_t v;
    tcReader rd;
    tcReaderInit(&rd, ok, 2);
    cr_assert(tcVarint(&rd, &v) == C_OK && v == 128 && tcDone(&rd) == C_OK);
    tcReaderInit(&rd, overlong, 2);
    cr_assert_eq(tcVarint(&rd, &v), C_ERR);
    cr_assert_eq(tcU64(&rd, &v), C_ERR, "sticky");
    tcReaderInit(&rd, big, sizeof(big));
    cr_assert(tcVarint(&rd, &v) == C_OK && v == UINT64_MAX);
    tcReaderInit(&rd, toobig, sizeof(toobig));
    cr_assert_eq(tcVarint(&rd, &v), C_ERR);
    tcReaderInit(&rd, big, 9);
    cr_assert_eq(tcVarint(&rd, &v), C_ERR, "truncated");
}

Test(keymeta, codec_128_bit_integers_round_trip_at_their_limits) {
    i128 max = (i128)(((unsigned __int128)1 << 127) - 1), min = -max - 1;
    i128 cases[] = {0, 1, -1, 63, -64, 64, INT64_MAX, INT64_MIN, (i128)INT64_MAX * 3, max, min, max - 1};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf b;
        bufInit(&b);
        tcPutSvarint128(&b, cases[i]);
        cr_assert_leq(b.len, 19);
        tcReader rd;
        tcReaderInit(&rd, b.ptr, b.len);
        i128 back;
        cr_assert(tcSvarint128(&rd, &back) == C_OK && back == cases[i] && tcDone(&rd) == C_OK);
        for (size_t n = 0; n < b.len; n++) {
            tcReaderInit(&rd, b.ptr, n);
            cr_assert_eq(tcSvarint128(&rd, &back), C_ERR);
        }
        bufFree(&b);
    }
    char t[48];
    tcFormatI128(min, t, sizeof(t));
    cr_assert_str_eq(t, "-170141183460469231731687303715884105728");
    tcFormatI128((i128)INT64_MAX * 2, t, sizeof(t));
    cr_assert_str_eq(t, "18446744073709551614");
}

Test(keymeta, codec_long_doubles_have_one_text) {
    long double cases[] = {0.1L, -0.25L, 1e300L, LDBL_MIN, LDBL_MAX, -LDBL_TRUE_MIN, 3.0L};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf b;
        bufInit(&b);
        tcPutLdouble(&b, cases[i]);
        tcReader rd;
        tcReaderInit(&rd, b.ptr, b.len);
        long double back;
        cr_assert(tcLdouble(&rd, &back) == C_OK && back == cases[i] && tcDone(&rd) == C_OK,
                  "%Lg does not round-trip", cases[i]);
        bufFree(&b);
    }
    const char *bad[] = {"\x03" "3.0", "\x02" "+3", "\x03" "inf", "\x03" "nan", "\x01" "0", "\x02" "-0",
                         "\x02" " 3", "\x04" "0x10", "\x00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tcReader rd;
        size_t len = 1 + (size_t)(unsigned char)bad[i][0];
        tcReaderInit(&rd, bad[i], len);
        long double v;
        cr_assert_eq(tcLdouble(&rd, &v), C_ERR, "accepted text %zu", i);
    }
    unsigned char nan[8] = {0x7f, 0xf8, 0, 0, 0, 0, 0, 0}, one[8] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
    tcReader rd;
    double d;
    tcReaderInit(&rd, nan, 8);
    cr_assert_eq(tcDouble(&rd, &d), C_ERR);
    tcReaderInit(&rd, one, 8);
    cr_assert(tcDouble(&rd, &d) == C_OK && d == 1.0);
}
