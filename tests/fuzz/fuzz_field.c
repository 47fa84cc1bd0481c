/* fuzz_field.c -- libFuzzer target for fieldDecode (types/field.h): the
 * bytes of one collection element (a set member, hash field, sorted-set
 * member) as stored in RocksDB or sent as a merge operand by a peer.
 *
 * Every input goes to the decoder whole, and split in two halves (two
 * states to merge). Checked on success:
 *   - canonical: encoding the decoded field gives back the input exactly;
 *   - invariants: clocks sorted without zero counters, no dot or value at
 *     or below the context, values sorted by actor;
 *   - merge: with itself and with an empty field changes nothing; of two
 *     decoded halves it is commutative and idempotent (same bytes);
 *   - the reads (presence, value, hash text, score, droppable) and every
 *     delta constructor run on it without a crash or leak, and a delta
 *     merged twice is merged once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/field.h"
#include "types/hash.h"
#include "types/zset.h"

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_field: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static void checkClock(const vclock *vc) {
    for (int i = 0; i < vc->n; i++) {
        CHECK(vc->e[i].counter != 0);
        if (i) CHECK(vc->e[i - 1].actor < vc->e[i].actor);
    }
}

static int sameBytes(const field *a, const field *b) {
    buf x, y;
    bufInit(&x);
    bufInit(&y);
    fieldEncode(a, &x);
    fieldEncode(b, &y);
    int same = x.len == y.len && !memcmp(x.ptr, y.ptr, x.len);
    bufFree(&x);
    bufFree(&y);
    return same;
}

static int decodeExact(field *f, const uint8_t *data, size_t size) {
    char *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, data, size);
    int rc = fieldDecode(f, copy, size);
    if (rc == C_OK) {
        buf e;
        bufInit(&e);
        fieldEncode(f, &e);
        CHECK(e.len == size && !memcmp(e.ptr, copy, size));
        bufFree(&e);
    } else {
        CHECK(f->dots.n == 0 && f->ctx.n == 0 && f->nv == 0 && f->ctr.n == 0);
    }
    free(copy);
    return rc;
}

static void exercise(const field *f) {
    checkClock(&f->dots);
    checkClock(&f->ctx);
    for (int i = 0; i < f->dots.n; i++) CHECK(f->dots.e[i].counter > vclockGet(&f->ctx, f->dots.e[i].actor));
    for (int i = 0; i < f->nv; i++) {
        CHECK(f->v[i].seq > vclockGet(&f->ctx, f->v[i].actor));
        if (i) CHECK(f->v[i - 1].actor < f->v[i].actor);
    }
    field c, e, d;
    fieldInit(&c);
    fieldInit(&e);
    fieldInit(&d);
    fieldCopy(&c, f);
    CHECK(fieldMerge(&c, f) == 0);
    CHECK(fieldEqual(&c, f));
    fieldMerge(&e, f);
    CHECK(sameBytes(&e, f));

    vclock rm;
    vclockInit(&rm);
    if (f->ctx.n) vclockRaise(&rm, f->ctx.e[0].actor, f->ctx.e[0].counter);
    causalRemoval krs[2] = {{NULL, 0}, {&rm, f->dots.n ? f->dots.e[0].counter : 0}};
    buf t;
    bufInit(&t);
    for (int k = 0; k < 2; k++) {
        (void)fieldLive(f, &krs[k]);
        (void)fieldValue(f, &krs[k]);
        (void)fieldDroppable(f, &krs[k]);
        (void)hashFieldRead(f, &krs[k], &t);
        double sc;
        (void)zsetScore(f, &krs[k], &sc);
    }
    uint64_t actor = f->dots.n ? f->dots.e[0].actor : 7, top = 1;
    for (int i = 0; i < f->dots.n; i++) top = f->dots.e[i].counter > top ? f->dots.e[i].counter : top;
    for (int i = 0; i < f->ctr.n; i++) {
        if (f->ctr.s[i].seq > top) top = f->ctr.s[i].seq;
        if (f->ctr.s[i].bseq > top) top = f->ctr.s[i].bseq;
    }
    uint64_t seq = top < UINT64_MAX - 10 ? top + 1 : 0;
    for (int k = 0; k < 5 && seq; k++) {
        long long r;
        double sc;
        int rc = C_OK;
        switch (k) {
        case 0: fieldDeltaRemove(&d, f); break;
        case 1: hashDeltaSet(&d, f, actor, seq, "v", 1); break;
        case 2: rc = hashDeltaIncrBy(&d, f, &krs[1], actor, seq, 3, &r) == NUMERR_OK ? C_OK : C_ERR; break;
        case 3: rc = hashDeltaIncrByFloat(&d, f, NULL, actor, seq, 0.5L, &t) == NUMERR_OK ? C_OK : C_ERR; break;
        case 4: rc = zsetDeltaIncr(&d, f, NULL, actor, seq, 1.5, &sc) == NUMERR_OK ? C_OK : C_ERR; break;
        }
        if (rc != C_OK) continue;
        fieldCopy(&c, f);
        fieldMerge(&c, &d);
        fieldCopy(&e, &c);
        CHECK(fieldMerge(&e, &d) == 0);
        CHECK(fieldEqual(&e, &c));
    }
    bufFree(&t);
    vclockFree(&rm);
    fieldFree(&c);
    fieldFree(&e);
    fieldFree(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    field f;
    fieldInit(&f);
    if (decodeExact(&f, data, size) == C_OK) exercise(&f);
    field a, b, ab, ba;
    fieldInit(&a);
    fieldInit(&b);
    fieldInit(&ab);
    fieldInit(&ba);
    if (size >= 4 && decodeExact(&a, data, size / 2) == C_OK &&
        decodeExact(&b, data + size / 2, size - size / 2) == C_OK) {
        fieldCopy(&ab, &a);
        fieldMerge(&ab, &b);
        fieldCopy(&ba, &b);
        fieldMerge(&ba, &a);
        CHECK(sameBytes(&ab, &ba));
        CHECK(fieldMerge(&ab, &b) == 0 && fieldMerge(&ab, &a) == 0);
        exercise(&ab);
    }
    fieldFree(&f);
    fieldFree(&a);
    fieldFree(&b);
    fieldFree(&ab);
    fieldFree(&ba);
    return 0;
}
