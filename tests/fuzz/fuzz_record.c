/* fuzz_record.c -- libFuzzer target for the decoders of stored and
 * replicated bytes in record.c and vclock.c: recordDecode (a RocksDB value,
 * or a record a peer sends in a bus reply), contextDecode (the causal
 * context a client hands to VSET), vclockDecode.
 *
 * Every input goes to all three. Checked:
 *   recordDecode -- on success: the record's invariants (dots sorted and
 *     distinct, no zero counter, clocks sorted, values inside the input, seen
 *     covering every past and no kept dot);
 *     x = encode(decode(input)) is no longer than the input (but for seen,
 *     when what decoding dropped leaves something in it), equals it when
 *     the input was canonical, and decode(x) encodes to x again (a fixpoint:
 *     replicas that re-encode agree byte for byte), and so is the merge
 *     operator's merge of the input with itself; recordDigest is stable
 *     and the same for both; merging the record into a copy of itself
 *     changes nothing; the record normalized by merging it into an empty one
 *     is a fixpoint of merging too, and equals the record when no sibling
 *     obsoletes another. The other record functions run on it for crashes.
 *   contextDecode / vclockDecode -- on success: encode, decode again, equal
 *     clocks and identical bytes; never more bytes used than given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "vclock.h"

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "fuzz_record: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

static void checkClock(const vclock *vc) {
    CHECK(vc->n >= 0 && vc->n <= vc->cap);
    for (int i = 0; i < vc->n; i++) {
        CHECK(vc->e[i].counter != 0);
        if (i) CHECK(vc->e[i - 1].actor < vc->e[i].actor);
    }
}

static int clockEqual(const vclock *a, const vclock *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (a->e[i].actor != b->e[i].actor || a->e[i].counter != b->e[i].counter) return 0;
    return 1;
}

static int bufEqual(const buf *a, const buf *b) {
    return a->len == b->len && (a->len == 0 || !memcmp(a->ptr, b->ptr, a->len));
}

static void encodeTo(const record *r, buf *out) {
    bufClear(out);
    recordEncode(r, out);
}

static void fuzzRecord(const char *data, size_t size) {
    record r;
    recordInit(&r);
    if (recordDecode(&r, data, size) != C_OK) {
        CHECK(r.n == 0);
        recordFree(&r);
        return;
    }
    /* encoding it gives back the input: format 1 with nothing dropped by
     * decoding (a version covered by its own past; a format 2 input may
     * hold a seen that decoding completes) and no bytes under a tombstone */
    uint64_t count = 0;
    int canonical = (unsigned char)data[0] == RECORD_FORMAT &&
                    varintGet((const unsigned char *)data + 1, size - 1, &count) > 0 &&
                    count == (uint64_t)r.n;
    int antichain = 1;    /* no sibling obsoletes another */
    for (int i = 0; i < r.n; i++) {
        const version *v = &r.v[i];
        CHECK(v->counter != 0);
        CHECK(v->expire >= 0);
        CHECK(!v->ownval);
        CHECK(v->vlen == 0 || (v->val >= data && v->vlen <= size &&
                               v->val - data <= (ptrdiff_t)(size - v->vlen)));
        checkClock(&v->past);
        if (i) CHECK(r.v[i - 1].actor < v->actor ||
                     (r.v[i - 1].actor == v->actor && r.v[i - 1].counter < v->counter));
        if (v->tombstone && v->vlen) canonical = 0;
        for (int j = 0; j < r.n; j++)
            if (j != i && versionObsoletes(v, &r.v[j])) antichain = 0;
        CHECK(vclockDescends(&r.seen, &v->past));
        CHECK(vclockGet(&r.seen, v->actor) < v->counter);
    }

    /* encode / decode fixpoint */
    buf e1, e2;
    bufInit(&e1);
    bufInit(&e2);
    encodeTo(&r, &e1);
    /* no longer than the input, but for seen: a version dropped because
     * another's past covers it leaves its own past in seen, stored when the
     * kept versions' pasts do not add up to it (format 2, with or without
     * counter contributions after the versions: RECORD_FLAG_CTR) */
    CHECK(e1.len <= size ||
          (((unsigned char)e1.ptr[0] & ~RECORD_FLAG_CTR) == RECORD_FORMAT_SEEN &&
           e1.len <= size + 10 + 18 * (size_t)r.seen.n));
    if (canonical && e1.len == size) CHECK(!memcmp(e1.ptr, data, size));
    record r2;
    recordInit(&r2);
    CHECK(recordDecode(&r2, e1.ptr, e1.len) == C_OK);
    CHECK(r2.n == r.n);
    for (int i = 0; i < r.n; i++) {
        const version *a = &r.v[i], *b = &r2.v[i];
        CHECK(a->actor == b->actor && a->counter == b->counter && a->expire == b->expire &&
              a->tombstone == b->tombstone);
        CHECK(clockEqual(&a->past, &b->past));
        if (!a->tombstone) CHECK(a->vlen == b->vlen && (!a->vlen || !memcmp(a->val, b->val, a->vlen)));
        else CHECK(b->vlen == 0);
    }
    encodeTo(&r2, &e2);
    CHECK(bufEqual(&e1, &e2));

    /* the merge operator (recordMergeEncoded, whose fast path copies an
     * operand it takes for canonical): the input merged with itself is its
     * canonical form, as a base and operand and as two operands */
    buf mo;
    bufInit(&mo);
    const char *ops2[2] = {data, data};
    size_t lens2[2] = {size, size};
    CHECK(recordMergeEncoded(data, size, ops2, lens2, 1, &mo) == 0);
    CHECK(bufEqual(&mo, &e1));
    CHECK(recordMergeEncoded(NULL, 0, ops2, lens2, 2, &mo) == 0);
    CHECK(bufEqual(&mo, &e1));
    bufFree(&mo);

    /* digest */
    uint64_t d = recordDigest(&r);
    CHECK(d == recordDigest(&r));
    CHECK(d == recordDigest(&r2));
    /* seen alone is a state too, and so are counter contributions alone */
    CHECK((d == 0) == (r.n == 0 && r.seen.n == 0 && !r.ctr));

    /* merging with itself */
    record c;
    recordInit(&c);
    CHECK(recordDecode(&c, data, size) == C_OK);
    CHECK(recordMerge(&c, &r, 1) == 0);
    encodeTo(&c, &e2);
    CHECK(bufEqual(&e1, &e2));
    recordOwnValues(&c);
    CHECK(recordMerge(&c, &r2, 0) == 0);

    record m, mc;
    recordInit(&m);
    recordInit(&mc);
    /* a record with no version may still carry seen (format 2, or its
     * versions covered by their own pasts): merging it in is a change */
    CHECK(recordMerge(&m, &r, 1) == (r.n > 0 || r.seen.n > 0 || r.ctr != NULL));
    CHECK(recordMerge(&mc, &m, 1) == (m.n > 0 || m.seen.n > 0 || m.ctr != NULL));
    CHECK(recordMerge(&m, &mc, 1) == 0);
    CHECK(recordMerge(&mc, &m, 0) == 0);
    buf em;
    bufInit(&em);
    encodeTo(&m, &em);
    encodeTo(&mc, &e2);
    CHECK(bufEqual(&em, &e2));
    if (antichain) CHECK(bufEqual(&em, &e1));
    CHECK(recordDigest(&m) == recordDigest(&mc));

    /* the rest of the API, for crashes and leaks */
    vclock ctx, back;
    vclockInit(&ctx);
    vclockInit(&back);
    recordContext(&r, &ctx);
    checkClock(&ctx);
    for (int i = 0; i < r.n; i++) {
        vclock h;
        vclockInit(&h);
        versionHistory(&r.v[i], &h);
        CHECK(vclockDescends(&ctx, &h));
        vclockFree(&h);
    }
    buf t;
    bufInit(&t);
    contextEncode(&ctx, &t);
    CHECK(contextDecode(&back, t.ptr, t.len) == C_OK);
    CHECK(clockEqual(&ctx, &back));
    const version *nv = recordNewest(&r);
    CHECK((nv != NULL) == (r.n > 0));
    (void)recordVisible(&r, 1000);
    (void)recordHasLive(&r, 1000);
    int64_t me = recordMinExpire(&r);
    CHECK(me >= 0);
    bufClear(&t);
    recordFormat(&r, 1000, &t);
    checkClock(&r.seen);
    int before = mc.n;
    int dropped = recordCapSiblings(&mc, 1);
    CHECK(mc.n == (before ? 1 : 0) && dropped == (before ? before - 1 : 0));

    bufFree(&t);
    vclockFree(&ctx);
    vclockFree(&back);
    bufFree(&em);
    recordFree(&m);
    recordFree(&mc);
    recordFree(&c);
    recordFree(&r2);
    bufFree(&e1);
    bufFree(&e2);
    recordFree(&r);
}

static void fuzzContext(const char *data, size_t size) {
    vclock vc, vc2;
    vclockInit(&vc);
    vclockInit(&vc2);
    if (contextDecode(&vc, data, size) == C_OK) {
        checkClock(&vc);
        buf t, t2;
        bufInit(&t);
        bufInit(&t2);
        contextEncode(&vc, &t);
        CHECK(t.len <= size);
        CHECK(contextDecode(&vc2, t.ptr, t.len) == C_OK);
        CHECK(clockEqual(&vc, &vc2));
        contextEncode(&vc2, &t2);
        CHECK(bufEqual(&t, &t2));
        bufFree(&t);
        bufFree(&t2);
    }
    vclockFree(&vc);
    vclockFree(&vc2);
}

static void fuzzClock(const unsigned char *data, size_t size) {
    vclock vc, vc2;
    vclockInit(&vc);
    vclockInit(&vc2);
    long used = vclockDecode(&vc, data, size);
    CHECK(used >= -1 && used <= (long)size);
    if (used >= 0) {
        checkClock(&vc);
        buf e, e2;
        bufInit(&e);
        bufInit(&e2);
        vclockEncode(&vc, &e);
        CHECK(e.len <= (size_t)used);
        if (e.len == (size_t)used) CHECK(!memcmp(e.ptr, data, e.len));
        CHECK(vclockDecode(&vc2, (const unsigned char *)e.ptr, e.len) == (long)e.len);
        CHECK(clockEqual(&vc, &vc2));
        vclockEncode(&vc2, &e2);
        CHECK(bufEqual(&e, &e2));
        CHECK(vclockCompare(&vc, &vc2) == VC_EQUAL);
        bufFree(&e);
        bufFree(&e2);
    }
    vclockFree(&vc);
    vclockFree(&vc2);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
    /* an exact copy, so a read past the end is caught even for size 0 */
    char *data = malloc(size ? size : 1);
    if (size) memcpy(data, in, size);
    fuzzRecord(data, size);
    fuzzContext(data, size);
    fuzzClock((const unsigned char *)data, size);
    free(data);
    return 0;
}
