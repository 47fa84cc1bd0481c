/* fuzz_keymeta.c -- libFuzzer target for keymetaDecode (types/keymeta.h):
 * a collection key's metadata record as stored or sent by a peer. Whole
 * input, and split in two halves. Checked on success: the encoding gives
 * back the input exactly; merge with itself changes nothing; two halves
 * merge commutatively and idempotently; the removal, TTL, type stamps and
 * every delta constructor run, and a delta merged twice is merged once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/keymeta.h"

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_keymeta: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static int decodeExact(keymeta *m, const uint8_t *data, size_t size) {
    char *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, data, size);
    int rc = keymetaDecode(m, copy, size);
    if (rc == C_OK) {
        buf e;
        bufInit(&e);
        keymetaEncode(m, &e);
        CHECK(e.len == size && !memcmp(e.ptr, copy, size));
        bufFree(&e);
    }
    free(copy);
    return rc;
}

static void exercise(const keymeta *m) {
    keymeta c, d, e;
    keymetaInit(&c);
    keymetaInit(&d);
    keymetaInit(&e);
    keymetaCopy(&c, m);
    CHECK(keymetaMerge(&c, m) == 0);
    long long nows[3] = {0, m->expat, m->expat + 1};
    for (int k = 0; k < 3; k++) {
        causalRemoval kr;
        keymetaRemoval(m, nows[k], &kr);
        CHECK(kr.floor >= m->floor);
        long long ttl = keymetaTTL(m, nows[k]);
        CHECK(ttl >= -1);
        for (int t = 0; t <= KT_MAX; t++) (void)keymetaTypeMayLive(m, t, nows[k]);
        for (int op = 0; op < 5; op++) {
            switch (op) {
            case 0: keymetaDeltaWrite(&d, KT_SET, 5, 99); break;
            case 1: keymetaDeltaCreate(&d, m, nows[k], KT_HASH, 5, 99); break;
            case 2: keymetaDeltaDel(&d, m, nows[k], 5, 99); break;
            case 3: keymetaDeltaExpire(&d, m, nows[k], 5, 99, 12345); break;
            case 4: keymetaDeltaFire(&d, m, nows[k]); break;
            }
            keymetaCopy(&c, m);
            keymetaMerge(&c, &d);
            keymetaCopy(&e, &c);
            CHECK(keymetaMerge(&e, &d) == 0);
        }
    }
    keymetaFree(&c);
    keymetaFree(&d);
    keymetaFree(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    keymeta m, a, b, ab, ba;
    keymetaInit(&m);
    keymetaInit(&a);
    keymetaInit(&b);
    keymetaInit(&ab);
    keymetaInit(&ba);
    if (decodeExact(&m, data, size) == C_OK) exercise(&m);
    if (size >= 4 && decodeExact(&a, data, size / 2) == C_OK &&
        decodeExact(&b, data + size / 2, size - size / 2) == C_OK) {
        keymetaCopy(&ab, &a);
        keymetaMerge(&ab, &b);
        keymetaCopy(&ba, &b);
        keymetaMerge(&ba, &a);
        CHECK(keymetaEqual(&ab, &ba));
        CHECK(keymetaMerge(&ab, &a) == 0 && keymetaMerge(&ab, &b) == 0);
        exercise(&ab);
    }
    keymetaFree(&m);
    keymetaFree(&a);
    keymetaFree(&b);
    keymetaFree(&ab);
    keymetaFree(&ba);
    return 0;
}
