/* collbatch.c -- collection batches and merges by kind. See collbatch.h. */
#include "collbatch.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "collkey.h"
#include "record.h"
#include "types/field.h"
#include "types/hll.h"
#include "types/keymeta.h"

void collBatchAppend(buf *out, int kind, const char *elem, size_t elen, const char *state,
                     size_t slen) {
    tcPutU8(out, (uint8_t)kind);
    tcPutVarint(out, elen);
    if (elen) bufAppend(out, elem, elen);
    tcPutVarint(out, slen);
    bufAppend(out, state, slen);
}

int collBatchNext(tcReader *rd, collEntry *e) {
    if (!rd->err && rd->off == rd->len) return 0;
    uint8_t kind = 0;
    uint64_t elen = 0, slen = 0;
    const unsigned char *ep = NULL, *sp = NULL;
    tcU8(rd, &kind);
    tcVarint(rd, &elen);
    if (elen > tcLeft(rd)) return -1;
    tcBytes(rd, (size_t)elen, &ep);
    tcVarint(rd, &slen);
    if (slen > tcLeft(rd)) return -1;
    tcBytes(rd, (size_t)slen, &sp);
    if (rd->err) return -1;
    if (kind != COLLKEY_META && kind != COLLKEY_HLL && kind != COLLKEY_ELEM) return -1;
    if (kind != COLLKEY_ELEM && elen) return -1;
    e->kind = kind;
    e->elem = (const char *)ep;
    e->elen = (size_t)elen;
    e->state = (const char *)sp;
    e->slen = (size_t)slen;
    /* a state that does not decode would be left out of every merge: refuse
     * the batch instead of acknowledging what will not be stored */
    return collStateValid(kind, e->state, e->slen) ? 1 : -1;
}

#define VALID_BODY(T, init, decode, fr) \
    T x;                                 \
    init(&x);                            \
    int ok = decode(&x, p, len) == C_OK; \
    fr(&x);                              \
    return ok;

static int validMeta(const char *p, size_t len) { VALID_BODY(keymeta, keymetaInit, keymetaDecode, keymetaFree) }
static int validField(const char *p, size_t len) { VALID_BODY(field, fieldInit, fieldDecode, fieldFree) }
static int validHll(const char *p, size_t len) { VALID_BODY(hll, hllInit, hllDecode, hllFree) }

int collStateValid(int kind, const char *p, size_t len) {
    switch (kind) {
    case COLLKEY_META: return validMeta(p, len);
    case COLLKEY_ELEM: return validField(p, len);
    case COLLKEY_HLL: return validHll(p, len);
    default: return 0;
    }
}

/* One kind's state handled through four functions. */
#define MERGE_BODY(T, init, decode, merge, encode, fr)                                \
    T acc, in;                                                                        \
    init(&acc);                                                                       \
    init(&in);                                                                        \
    int bad = 0;                                                                      \
    if (base && decode(&acc, base, blen) != C_OK) bad++; /* decode left acc empty */  \
    for (int i = 0; i < n; i++) {                                                     \
        if (decode(&in, ops[i], lens[i]) != C_OK) {                                   \
            bad++;                                                                    \
            continue;                                                                 \
        }                                                                             \
        merge(&acc, &in);                                                             \
    }                                                                                 \
    bufClear(out);                                                                    \
    encode(&acc, out);                                                                \
    fr(&acc);                                                                         \
    fr(&in);                                                                          \
    return bad;

static int mergeMeta(const char *base, size_t blen, const char *const *ops, const size_t *lens,
                     int n, buf *out) {
    MERGE_BODY(keymeta, keymetaInit, keymetaDecode, keymetaMerge, keymetaEncode, keymetaFree)
}

static int mergeField(const char *base, size_t blen, const char *const *ops, const size_t *lens,
                      int n, buf *out) {
    MERGE_BODY(field, fieldInit, fieldDecode, fieldMerge, fieldEncode, fieldFree)
}

static int mergeHll(const char *base, size_t blen, const char *const *ops, const size_t *lens,
                    int n, buf *out) {
    MERGE_BODY(hll, hllInit, hllDecode, hllMerge, hllEncode, hllFree)
}

int collMergeEncoded(int kind, const char *base, size_t blen, const char *const *ops,
                     const size_t *lens, int n, buf *out) {
    switch (kind) {
    case COLLKEY_META: return mergeMeta(base, blen, ops, lens, n, out);
    case COLLKEY_ELEM: return mergeField(base, blen, ops, lens, n, out);
    case COLLKEY_HLL: return mergeHll(base, blen, ops, lens, n, out);
    default: return recordMergeEncoded(base, blen, ops, lens, n, out);
    }
}

/* ---------------------------------------------------------- score ranges */

#define CR_REV 1
#define CR_MIN 2
#define CR_MAX 4
#define CR_MINEX 8
#define CR_MAXEX 16

void collRangeEncode(const collRange *q, buf *out) {
    bufClear(out);
    tcPutU8(out, (uint8_t)((q->rev ? CR_REV : 0) | (q->hasmin ? CR_MIN : 0) |
                           (q->hasmax ? CR_MAX : 0) | (q->hasmin && q->minex ? CR_MINEX : 0) |
                           (q->hasmax && q->maxex ? CR_MAXEX : 0)));
    if (q->hasmin) tcPutDouble(out, q->min);
    if (q->hasmax) tcPutDouble(out, q->max);
    tcPutVarint(out, q->limit);
}

int collRangeDecode(collRange *q, const char *p, size_t len) {
    tcReader rd;
    uint8_t f;
    memset(q, 0, sizeof(*q));
    tcReaderInit(&rd, p, len);
    if (tcU8(&rd, &f) != C_OK || (f & ~(CR_REV | CR_MIN | CR_MAX | CR_MINEX | CR_MAXEX)))
        return C_ERR;
    q->rev = (f & CR_REV) != 0;
    q->hasmin = (f & CR_MIN) != 0;
    q->hasmax = (f & CR_MAX) != 0;
    q->minex = (f & CR_MINEX) != 0;
    q->maxex = (f & CR_MAXEX) != 0;
    if ((q->minex && !q->hasmin) || (q->maxex && !q->hasmax)) return C_ERR;
    if (q->hasmin && (tcDouble(&rd, &q->min) != C_OK || isnan(q->min))) return C_ERR;
    if (q->hasmax && (tcDouble(&rd, &q->max) != C_OK || isnan(q->max))) return C_ERR;
    if (tcVarint(&rd, &q->limit) != C_OK) return C_ERR;
    return tcDone(&rd);
}

int collRangeHas(const collRange *q, double score, int *past) {
    int below = q->hasmin && (score < q->min || (q->minex && score == q->min));
    int above = q->hasmax && (score > q->max || (q->maxex && score == q->max));
    *past = q->rev ? below : above;
    return !below && !above;
}

/* ------------------------------------------------------------- the figures */

void collStatsEncode(const collStats *st, unsigned char out[COLL_STATS_LEN]) {
    const uint64_t v[3] = {st->count, st->mark, st->digest};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 8; i++) out[8 * k + i] = (unsigned char)(v[k] >> (8 * i));
}

int collStatsDecode(collStats *st, const char *p, size_t len) {
    if (len != COLL_STATS_LEN) return C_ERR;
    uint64_t v[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++)
        for (int i = 7; i >= 0; i--) v[k] = (v[k] << 8) | (unsigned char)p[8 * k + i];
    st->count = v[0];
    st->mark = v[1];
    st->digest = v[2];
    return C_OK;
}

uint64_t collRemovalMark(const causalRemoval *kr) {
    buf b;
    bufInit(&b);
    vclock none;
    vclockInit(&none);
    tcPutClock(&b, kr && kr->rm ? kr->rm : &none);
    tcPutVarint(&b, kr ? kr->floor : 0);
    vclockFree(&none);
    uint64_t h = XXH3_64bits(b.ptr ? b.ptr : "", b.len);
    bufFree(&b);
    return h;
}
