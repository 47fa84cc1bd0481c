/* fuzz_hll.c -- libFuzzer target for hllDecode (types/hll.h): a
 * HyperLogLog's register chains as stored or sent by a peer. Whole input,
 * and split in two halves. Checked on success: the encoding gives back the
 * input exactly; every register at most 51, chains sorted by actor with
 * seq >= epoch; merge with itself changes nothing; two halves merge
 * commutatively and idempotently; the view, the estimate and a PFADD delta
 * run, and a delta merged twice is merged once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/hll.h"

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz_hll: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

static int decodeExact(hll *h, const uint8_t *data, size_t size) {
    char *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, data, size);
    int rc = hllDecode(h, copy, size);
    if (rc == C_OK) {
        buf e;
        bufInit(&e);
        hllEncode(h, &e);
        CHECK(e.len == size && !memcmp(e.ptr, copy, size));
        bufFree(&e);
    } else {
        CHECK(h->n == 0);
    }
    free(copy);
    return rc;
}

static void exercise(const hll *h) {
    uint64_t top = 0;
    for (int i = 0; i < h->n; i++) {
        const hllChain *c = &h->c[i];
        if (i) CHECK(h->c[i - 1].actor < c->actor);
        CHECK(c->epoch > 0 && c->seq >= c->epoch);
        for (int r = 0; r < HLL_REGISTERS; r++) CHECK(c->reg[r] <= HLL_MAX_RANK);
        if (c->seq > top) top = c->seq;
    }
    hll x, d, y;
    hllInit(&x);
    hllInit(&d);
    hllInit(&y);
    hllCopy(&x, h);
    CHECK(hllMerge(&x, h) == 0);
    CHECK(hllEqual(&x, h));
    (void)hllCount(h, NULL);
    vclock rm;
    vclockInit(&rm);
    if (h->n) vclockRaise(&rm, h->c[0].actor, h->c[0].seq);
    causalRemoval kr = {&rm, 0};
    (void)hllCount(h, &kr);
    if (top < UINT64_MAX) {
        const char *e[2] = {"a", "b"};
        size_t l[2] = {1, 1};
        uint64_t actor = h->n ? h->c[0].actor : 9;
        if (hllDeltaAdd(&d, h, &kr, actor, top + 1, e, l, 2) >= 0) {
            hllCopy(&x, h);
            hllMerge(&x, &d);
            hllCopy(&y, &x);
            CHECK(hllMerge(&y, &d) == 0);
        }
    }
    vclockFree(&rm);
    hllFree(&x);
    hllFree(&d);
    hllFree(&y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hll h, a, b, ab, ba;
    hllInit(&h);
    hllInit(&a);
    hllInit(&b);
    hllInit(&ab);
    hllInit(&ba);
    if (decodeExact(&h, data, size) == C_OK) exercise(&h);
    if (size >= 4 && decodeExact(&a, data, size / 2) == C_OK &&
        decodeExact(&b, data + size / 2, size - size / 2) == C_OK) {
        hllCopy(&ab, &a);
        hllMerge(&ab, &b);
        hllCopy(&ba, &b);
        hllMerge(&ba, &a);
        CHECK(hllEqual(&ab, &ba));
        CHECK(hllMerge(&ab, &a) == 0 && hllMerge(&ab, &b) == 0);
        exercise(&ab);
    }
    hllFree(&h);
    hllFree(&a);
    hllFree(&b);
    hllFree(&ab);
    hllFree(&ba);
    return 0;
}
