/* field.c -- one collection element's state. See field.h. Invariants after
 * any API call: vals sorted by actor, no duplicates, seq > 0; no dot and no
 * value at or below ctx (normalized); the counter normalized. */
#include "field.h"

#include <string.h>

#include "tcodec.h"

#define FF_DOTS 1
#define FF_CTX 2
#define FF_VALS 4
#define FF_CTR 8
#define FF_SCORED 16

void fieldInit(field *f) {
    vclockInit(&f->dots);
    vclockInit(&f->ctx);
    f->nv = f->cap = 0;
    f->v = NULL;
    counterInit(&f->ctr);
    f->scored = 0;
}

static void clearVals(field *f) {
    for (int i = 0; i < f->nv; i++) zfree(f->v[i].val);
    f->nv = 0;
}

void fieldClear(field *f) {
    vclockClear(&f->dots);
    vclockClear(&f->ctx);
    clearVals(f);
    counterClear(&f->ctr);
    f->scored = 0;
}

void fieldFree(field *f) {
    clearVals(f);
    zfree(f->v);
    vclockFree(&f->dots);
    vclockFree(&f->ctx);
    counterFree(&f->ctr);
    fieldInit(f);
}

static fieldVal *pushVal(field *f, uint64_t actor, uint64_t seq, const void *val, size_t len) {
    if (f->nv == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 2;
        f->v = zrealloc(f->v, sizeof(fieldVal) * (size_t)f->cap);
    }
    fieldVal *v = &f->v[f->nv++];
    v->actor = actor;
    v->seq = seq;
    v->len = len;
    v->val = zmalloc(len ? len : 1);
    if (len) memcpy(v->val, val, len);
    return v;
}

void fieldCopy(field *dst, const field *src) {
    if (dst == src) return;
    fieldClear(dst);
    vclockCopy(&dst->dots, &src->dots);
    vclockCopy(&dst->ctx, &src->ctx);
    for (int i = 0; i < src->nv; i++)
        pushVal(dst, src->v[i].actor, src->v[i].seq, src->v[i].val, src->v[i].len);
    counterCopy(&dst->ctr, &src->ctr);
    dst->scored = src->scored;
}

static int clockEqual(const vclock *a, const vclock *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (a->e[i].actor != b->e[i].actor || a->e[i].counter != b->e[i].counter) return 0;
    return 1;
}

static int valCmp(const fieldVal *a, const fieldVal *b) {
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    return a->len ? memcmp(a->val, b->val, a->len) : 0;
}

int fieldEqual(const field *a, const field *b) {
    if (a->scored != b->scored || !clockEqual(&a->dots, &b->dots) ||
        !clockEqual(&a->ctx, &b->ctx) || a->nv != b->nv)
        return 0;
    for (int i = 0; i < a->nv; i++)
        if (a->v[i].actor != b->v[i].actor || valCmp(&a->v[i], &b->v[i]) != 0) return 0;
    return counterEqual(&a->ctr, &b->ctr);
}

/* Drop the dots and values ctx covers. */
static void normalize(field *f) {
    int k = 0;
    for (int i = 0; i < f->dots.n; i++)
        if (f->dots.e[i].counter > vclockGet(&f->ctx, f->dots.e[i].actor))
            f->dots.e[k++] = f->dots.e[i];
    f->dots.n = k;
    k = 0;
    for (int i = 0; i < f->nv; i++) {
        if (f->v[i].seq > vclockGet(&f->ctx, f->v[i].actor)) f->v[k++] = f->v[i];
        else zfree(f->v[i].val);
    }
    f->nv = k;
}

int fieldMerge(field *dst, const field *src) {
    if (dst == src) return 0;
    field out;
    fieldInit(&out);
    vclockCopy(&out.dots, &dst->dots);
    vclockMerge(&out.dots, &src->dots);
    vclockCopy(&out.ctx, &dst->ctx);
    vclockMerge(&out.ctx, &src->ctx);
    int i = 0, j = 0;
    while (i < dst->nv || j < src->nv) {
        const fieldVal *pick;
        if (j == src->nv || (i < dst->nv && dst->v[i].actor < src->v[j].actor)) {
            pick = &dst->v[i++];
        } else if (i == dst->nv || src->v[j].actor < dst->v[i].actor) {
            pick = &src->v[j++];
        } else {
            pick = valCmp(&dst->v[i], &src->v[j]) >= 0 ? &dst->v[i] : &src->v[j];
            i++;
            j++;
        }
        pushVal(&out, pick->actor, pick->seq, pick->val, pick->len);
    }
    counterCopy(&out.ctr, &dst->ctr);
    counterMerge(&out.ctr, &src->ctr);
    out.scored = dst->scored | src->scored;
    normalize(&out);
    int changed = !fieldEqual(dst, &out);
    fieldFree(dst);
    *dst = out;
    return changed;
}

/* ------------------------------------------------------------- reading */

int fieldLive(const field *f, const causalRemoval *kr) {
    for (int i = 0; i < f->dots.n; i++)
        if (causalDotLive(f->dots.e[i].actor, f->dots.e[i].counter, &f->ctx, kr)) return 1;
    return 0;
}

const fieldVal *fieldValue(const field *f, const causalRemoval *kr) {
    const fieldVal *best = NULL;
    for (int i = 0; i < f->nv; i++) {
        const fieldVal *v = &f->v[i];
        if (!causalDotLive(v->actor, v->seq, &f->ctx, kr)) continue;
        if (!best || v->seq > best->seq || (v->seq == best->seq && v->actor > best->actor))
            best = v;
    }
    return best;
}

int fieldDroppable(const field *f, const causalRemoval *kr) {
    if (f->ctr.n) return 0;
    if (fieldLive(f, kr) || fieldValue(f, kr)) return 0;
    for (int i = 0; i < f->ctx.n; i++)
        if (!causalCovers(kr, f->ctx.e[i].actor, f->ctx.e[i].counter)) return 0;
    return 1;
}

/* -------------------------------------------------------------- deltas */

void fieldDeltaAdd(field *delta, uint64_t actor, uint64_t seq) {
    fieldClear(delta);
    vclockRaise(&delta->dots, actor, seq);
}

void fieldDeltaRemove(field *delta, const field *obs) {
    fieldClear(delta);
    /* every dot it saw, the values' dots included (a value's dot is its
     * actor's presence dot or an older one, but obs may be partial) */
    vclockCopy(&delta->ctx, &obs->dots);
    for (int i = 0; i < obs->nv; i++) vclockRaise(&delta->ctx, obs->v[i].actor, obs->v[i].seq);
    counterDeltaClear(&delta->ctr, &obs->ctr);
}

void fieldDeltaAssign(field *delta, const field *obs, uint64_t actor, uint64_t seq,
                      const void *val, size_t len) {
    fieldDeltaRemove(delta, obs);
    vclockRaise(&delta->dots, actor, seq);
    pushVal(delta, actor, seq, val, len);
    normalize(delta); /* in case obs held a dot of this actor at seq or above */
}

int fieldDeltaIncr(field *delta, const field *obs, const causalRemoval *kr, uint64_t actor,
                   uint64_t seq, i128 di, long double df) {
    fieldClear(delta);
    if (seq <= vclockGet(&obs->dots, actor)) return C_ERR;
    if (counterDeltaIncr(&delta->ctr, &obs->ctr, kr, actor, seq, di, df) != C_OK) return C_ERR;
    vclockRaise(&delta->dots, actor, seq);
    return C_OK;
}

/* ------------------------------------------------------------ encoding */

void fieldEncode(const field *f, buf *out) {
    uint8_t flags = (uint8_t)((f->dots.n ? FF_DOTS : 0) | (f->ctx.n ? FF_CTX : 0) |
                              (f->nv ? FF_VALS : 0) | (f->ctr.n || f->ctr.floor ? FF_CTR : 0) |
                              (f->scored ? FF_SCORED : 0));
    tcPutU8(out, FIELD_FORMAT);
    tcPutU8(out, flags);
    if (flags & FF_DOTS) tcPutClock(out, &f->dots);
    if (flags & FF_CTX) tcPutClock(out, &f->ctx);
    if (flags & FF_VALS) {
        tcPutVarint(out, (uint64_t)f->nv);
        for (int i = 0; i < f->nv; i++) {
            tcPutU64(out, f->v[i].actor);
            tcPutVarint(out, f->v[i].seq);
            tcPutVarint(out, f->v[i].len);
            bufAppend(out, f->v[i].val, f->v[i].len);
        }
    }
    if (flags & FF_CTR) counterEncode(&f->ctr, out);
}

int fieldEncodedScored(const void *p, size_t len) {
    const unsigned char *b = p;
    return len >= 2 && b[0] == FIELD_FORMAT && (b[1] & FF_SCORED);
}

int fieldDecode(field *f, const void *p, size_t len) {
    tcReader rd;
    uint8_t fmt, flags;
    fieldClear(f);
    tcReaderInit(&rd, p, len);
    if (tcU8(&rd, &fmt) != C_OK || fmt != FIELD_FORMAT) goto bad;
    if (tcU8(&rd, &flags) != C_OK || (flags & ~(FF_DOTS | FF_CTX | FF_VALS | FF_CTR | FF_SCORED)))
        goto bad;
    f->scored = (flags & FF_SCORED) != 0;
    if (flags & FF_DOTS) {
        if (tcClock(&rd, &f->dots, FIELD_MAX_ACTORS) != C_OK || f->dots.n == 0) goto bad;
    }
    if (flags & FF_CTX) {
        if (tcClock(&rd, &f->ctx, FIELD_MAX_ACTORS) != C_OK || f->ctx.n == 0) goto bad;
    }
    for (int i = 0; i < f->dots.n; i++) /* normalized: no removed dot kept */
        if (f->dots.e[i].counter <= vclockGet(&f->ctx, f->dots.e[i].actor)) goto bad;
    if (flags & FF_VALS) {
        uint64_t n;
        if (tcVarint(&rd, &n) != C_OK || n == 0 || n > FIELD_MAX_ACTORS || n > tcLeft(&rd) / 10)
            goto bad;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t actor, seq, vlen;
            const unsigned char *vp;
            if (tcU64(&rd, &actor) != C_OK || tcVarint(&rd, &seq) != C_OK ||
                tcVarint(&rd, &vlen) != C_OK)
                goto bad;
            if (seq == 0 || seq <= vclockGet(&f->ctx, actor)) goto bad;
            if (k > 0 && actor <= f->v[f->nv - 1].actor) goto bad;
            if (vlen > tcLeft(&rd) || tcBytes(&rd, (size_t)vlen, &vp) != C_OK) goto bad;
            pushVal(f, actor, seq, vp, (size_t)vlen);
        }
    }
    if (flags & FF_CTR) {
        if (counterRead(&f->ctr, &rd) != C_OK) goto bad;
        if (f->ctr.n == 0 && f->ctr.floor == 0) goto bad; /* empty is encoded by absence */
    }
    if (tcDone(&rd) != C_OK) goto bad;
    return C_OK;
bad:
    fieldClear(f);
    return C_ERR;
}
