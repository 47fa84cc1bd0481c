/* fuzz_counter.c -- libFuzzer target for counterDecode (types/counter.h):
 * a string key's counter contributions as stored or sent by a peer. Whole
 * input, and split in two halves. Checked on success: the encoding gives
 * back the input exactly; invariants (slots sorted, entries above their
 * baseline and the floor, finite floats); merge with itself and an empty
 * counter changes nothing; two halves merge commutatively and
 * idempotently; sums, an increment and a clear run, and a delta merged
 * twice is merged once. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/counter.h"
#include "types/number.h"

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_counter: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static int decodeExact(counter *c, const uint8_t *data, size_t size) {
    char *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, data, size);
    int rc = counterDecode(c, copy, size);
    if (rc == C_OK) {
        buf e;
        bufInit(&e);
        counterEncode(c, &e);
        CHECK(e.len == size && !memcmp(e.ptr, copy, size));
        bufFree(&e);
    } else {
        CHECK(c->n == 0);
    }
    free(copy);
    return rc;
}

static void exercise(const counter *c) {
    uint64_t top = c->floor;
    for (int i = 0; i < c->n; i++) {
        const counterSlot *s = &c->s[i];
        if (i) CHECK(c->s[i - 1].actor < s->actor);
        CHECK(s->seq || s->bseq);
        if (s->seq) CHECK(s->seq > s->bseq && s->seq > c->floor);
        CHECK(isfinite(s->fsum) && isfinite(s->bfsum));
        if (s->seq > top) top = s->seq;
        if (s->bseq > top) top = s->bseq;
    }
    counter x, d, y;
    counterInit(&x);
    counterInit(&d);
    counterInit(&y);
    counterCopy(&x, c);
    CHECK(counterMerge(&x, c) == 0);
    counterClear(&x);
    counterMerge(&x, c);
    CHECK(counterEqual(&x, c));
    counterTotal t;
    counterSum(c, NULL, &t);
    buf out;
    bufInit(&out);
    numberRead("12", 2, 1, &t, &out);
    numberRead(NULL, 0, 0, &t, &out);
    causalRemoval kr = {NULL, top};
    counterSum(c, &kr, &t);
    if (top < UINT64_MAX - 1) {
        uint64_t actor = c->n ? c->s[0].actor : 3;
        if (counterDeltaIncr(&d, c, &kr, actor, top + 1, 5, 0.25L) == C_OK) {
            counterCopy(&x, c);
            counterMerge(&x, &d);
            counterCopy(&y, &x);
            CHECK(counterMerge(&y, &d) == 0);
        }
        counterDeltaClear(&d, c);
        counterCopy(&x, c);
        counterMerge(&x, &d);
        counterSum(&x, NULL, &t);
        CHECK(t.live == 0); /* a clear of everything leaves nothing live */
    }
    bufFree(&out);
    counterFree(&x);
    counterFree(&d);
    counterFree(&y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    counter c, a, b, ab, ba;
    counterInit(&c);
    counterInit(&a);
    counterInit(&b);
    counterInit(&ab);
    counterInit(&ba);
    if (decodeExact(&c, data, size) == C_OK) exercise(&c);
    if (size >= 6 && decodeExact(&a, data, size / 2) == C_OK &&
        decodeExact(&b, data + size / 2, size - size / 2) == C_OK) {
        counterCopy(&ab, &a);
        counterMerge(&ab, &b);
        counterCopy(&ba, &b);
        counterMerge(&ba, &a);
        CHECK(counterEqual(&ab, &ba));
        CHECK(counterMerge(&ab, &a) == 0 && counterMerge(&ab, &b) == 0);
        exercise(&ab);
    }
    counterFree(&c);
    counterFree(&a);
    counterFree(&b);
    counterFree(&ab);
    counterFree(&ba);
    return 0;
}
