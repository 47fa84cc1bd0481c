/* counter.c -- counter contributions. See counter.h. Invariants after any
 * API call: slots sorted by actor with no duplicates; every slot has an
 * entry or a baseline; an entry's seq is above its baseline's and above the
 * floor; float totals are finite and never -0. */
#include "counter.h"

#include <math.h>
#include <string.h>

#define SF_ENTRY 1
#define SF_BASE 2
#define SF_EINT 4
#define SF_EFLT 8
#define SF_BINT 16
#define SF_BFLT 32
#define SF_ELO 64   /* the entry's float total needs a second ldouble (binary128) */
#define SF_BLO 128  /* the baseline's too */
#define SF_ALL 255

static int f128finite(f128 x) { return x - x == 0; }

/* A binary128 float total is written as two long doubles: x rounded, and
 * what that left (only when not 0): hi + lo == x, hi == (long double)x. */
static long double lowPart(f128 x) { return (long double)(x - (f128)(long double)x); }


void counterInit(counter *c) { memset(c, 0, sizeof(*c)); }

void counterFree(counter *c) {
    zfree(c->s);
    counterInit(c);
}

void counterClear(counter *c) {
    c->n = 0;
    c->floor = 0;
}

static void reserve(counter *c, int need) {
    if (c->cap >= need) return;
    int cap = c->cap ? c->cap : 2;
    while (cap < need) cap *= 2;
    c->s = zrealloc(c->s, sizeof(counterSlot) * (size_t)cap);
    c->cap = cap;
}

void counterCopy(counter *dst, const counter *src) {
    reserve(dst, src->n);
    if (src->n) memcpy(dst->s, src->s, sizeof(counterSlot) * (size_t)src->n);
    dst->n = src->n;
    dst->floor = src->floor;
}

const counterSlot *counterFind(const counter *c, uint64_t actor) {
    int lo = 0, hi = c->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (c->s[mid].actor == actor) return &c->s[mid];
        if (c->s[mid].actor < actor) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

/* A total order on (seq, int total, float total): the newer entry of a
 * chain, and a deterministic pick between the impossible equal-seq ones. */
static int chainCmp(uint64_t s1, i128 i1, f128 f1, uint64_t s2, i128 i2, f128 f2) {
    if (s1 != s2) return s1 < s2 ? -1 : 1;
    if (i1 != i2) return i1 < i2 ? -1 : 1;
    if (f1 != f2) return f1 < f2 ? -1 : 1;
    return 0;
}

static int slotEqual(const counterSlot *a, const counterSlot *b) {
    return a->actor == b->actor && a->seq == b->seq && a->isum == b->isum && a->fsum == b->fsum &&
           a->bseq == b->bseq && a->bisum == b->bisum && a->bfsum == b->bfsum;
}

int counterEqual(const counter *a, const counter *b) {
    if (a->n != b->n || a->floor != b->floor) return 0;
    for (int i = 0; i < a->n; i++)
        if (!slotEqual(&a->s[i], &b->s[i])) return 0;
    return 1;
}

/* Drops what no longer contributes; returns 0 when the slot is empty. */
static int normalizeSlot(counterSlot *s, uint64_t floor) {
    if (s->seq && (s->seq <= s->bseq || s->seq <= floor)) {
        s->seq = 0;
        s->isum = 0;
        s->fsum = 0;
    }
    return s->seq || s->bseq;
}

static void joinSlot(counterSlot *d, const counterSlot *s) {
    if (chainCmp(s->seq, s->isum, s->fsum, d->seq, d->isum, d->fsum) > 0) {
        d->seq = s->seq;
        d->isum = s->isum;
        d->fsum = s->fsum;
    }
    if (chainCmp(s->bseq, s->bisum, s->bfsum, d->bseq, d->bisum, d->bfsum) > 0) {
        d->bseq = s->bseq;
        d->bisum = s->bisum;
        d->bfsum = s->bfsum;
    }
}

int counterMerge(counter *dst, const counter *src) {
    counter out;
    counterInit(&out);
    reserve(&out, dst->n + src->n);
    out.floor = dst->floor > src->floor ? dst->floor : src->floor;
    int i = 0, j = 0;
    while (i < dst->n || j < src->n) {
        counterSlot s;
        if (j == src->n || (i < dst->n && dst->s[i].actor < src->s[j].actor)) {
            s = dst->s[i++];
        } else if (i == dst->n || src->s[j].actor < dst->s[i].actor) {
            s = src->s[j++];
        } else {
            s = dst->s[i++];
            joinSlot(&s, &src->s[j++]);
        }
        if (normalizeSlot(&s, out.floor)) out.s[out.n++] = s;
    }
    int changed = !counterEqual(dst, &out);
    counterFree(dst);
    *dst = out;
    return changed;
}

/* ------------------------------------------------------------- deltas */

static int contributes(const counterSlot *s, uint64_t floor, const causalRemoval *kr) {
    return s->seq && s->seq > s->bseq && s->seq > floor && !causalCovers(kr, s->actor, s->seq);
}

static counterSlot *pushSlot(counter *c, uint64_t actor) {
    reserve(c, c->n + 1);
    counterSlot *s = &c->s[c->n++];
    memset(s, 0, sizeof(*s));
    s->actor = actor;
    return s;
}

int counterDeltaIncr(counter *delta, const counter *obs, const causalRemoval *kr,
                     uint64_t actor, uint64_t seq, i128 di, long double df) {
    counterClear(delta);
    const counterSlot *o = counterFind(obs, actor);
    if (seq == 0 || !isfinite(df) || (o && (seq <= o->seq || seq <= o->bseq))) return C_ERR;
    counterSlot base = {0};
    int withBase = 0;
    if (o && contributes(o, obs->floor, kr)) {
        base.isum = o->isum; /* extend the running total */
        base.fsum = o->fsum;
    } else if (o && o->seq > o->bseq) {
        /* the entry is there but expired or removed with the key: what it
         * holds is cleared, observed here, so the chain restarts above it */
        base.bseq = o->seq;
        base.bisum = base.isum = o->isum;
        base.bfsum = base.fsum = o->fsum;
        withBase = 1;
    } else if (o && o->bseq) {
        base.bseq = o->bseq;
        base.bisum = base.isum = o->bisum;
        base.bfsum = base.fsum = o->bfsum;
        withBase = 1;
    }
    i128 isum;
    if (__builtin_add_overflow(base.isum, di, &isum)) return C_ERR;
    f128 fsum = base.fsum + (f128)df + 0; /* + 0 turns -0 into 0 */
    if (!f128finite(fsum)) return C_ERR;
    counterSlot *s = pushSlot(delta, actor);
    s->seq = seq;
    s->isum = isum;
    s->fsum = fsum;
    if (withBase) {
        s->bseq = base.bseq;
        s->bisum = base.bisum;
        s->bfsum = base.bfsum;
    }
    return C_OK;
}

void counterDeltaClear(counter *delta, const counter *obs) {
    counterClear(delta);
    for (int i = 0; i < obs->n; i++) {
        const counterSlot *o = &obs->s[i];
        if (!o->seq) continue; /* its baseline is already everywhere it matters */
        counterSlot *s = pushSlot(delta, o->actor);
        s->bseq = o->seq;
        s->bisum = o->isum;
        s->bfsum = o->fsum;
    }
}

void counterSum(const counter *c, const causalRemoval *kr, counterTotal *t) {
    t->isum = 0;
    t->fsum = 0;
    t->live = 0;
    for (int i = 0; i < c->n; i++) {
        const counterSlot *s = &c->s[i];
        if (!contributes(s, c->floor, kr)) continue;
        i128 bi = s->bseq ? s->bisum : 0;
        f128 bf = s->bseq ? s->bfsum : 0;
        t->isum += s->isum - bi;
        t->fsum += s->fsum - bf;
        t->live++;
    }
    t->fsum += 0;
}

/* ------------------------------------------------------------ encoding */

void counterEncode(const counter *c, buf *out) {
    tcPutU8(out, COUNTER_FORMAT);
    tcPutVarint(out, c->floor);
    tcPutVarint(out, (uint64_t)c->n);
    for (int i = 0; i < c->n; i++) {
        const counterSlot *s = &c->s[i];
        uint8_t f = 0;
        if (s->seq) f |= SF_ENTRY | (s->isum ? SF_EINT : 0) | (s->fsum != 0 ? SF_EFLT : 0) |
                         (lowPart(s->fsum) != 0 ? SF_ELO : 0);
        if (s->bseq) f |= SF_BASE | (s->bisum ? SF_BINT : 0) | (s->bfsum != 0 ? SF_BFLT : 0) |
                          (lowPart(s->bfsum) != 0 ? SF_BLO : 0);
        tcPutU64(out, s->actor);
        tcPutU8(out, f);
        if (f & SF_ENTRY) {
            tcPutVarint(out, s->seq);
            if (f & SF_EINT) tcPutSvarint128(out, s->isum);
            if (f & SF_EFLT) tcPutLdouble(out, (long double)s->fsum);
            if (f & SF_ELO) tcPutLdouble(out, lowPart(s->fsum));
        }
        if (f & SF_BASE) {
            tcPutVarint(out, s->bseq);
            if (f & SF_BINT) tcPutSvarint128(out, s->bisum);
            if (f & SF_BFLT) tcPutLdouble(out, (long double)s->bfsum);
            if (f & SF_BLO) tcPutLdouble(out, lowPart(s->bfsum));
        }
    }
}


static int readTotals(tcReader *rd, int hasInt, int hasFlt, int hasLo, i128 *i, f128 *f) {
    long double hi = 0, lo = 0;
    *i = 0;
    *f = 0;
    if (hasInt && (tcSvarint128(rd, i) != C_OK || *i == 0)) return C_ERR;
    if (hasLo && !hasFlt) return C_ERR;
    if (hasFlt && tcLdouble(rd, &hi) != C_OK) return C_ERR;
    if (hasLo && tcLdouble(rd, &lo) != C_OK) return C_ERR;
    *f = (f128)hi + (f128)lo;
    /* canonical: the one split of *f (and not one rounded off) */
    if ((long double)*f != hi || lowPart(*f) != lo || !f128finite(*f)) return C_ERR;
    return C_OK;
}

int counterRead(counter *c, tcReader *rd) {
    uint8_t fmt;
    uint64_t n;
    counterClear(c);
    if (tcU8(rd, &fmt) != C_OK || fmt != COUNTER_FORMAT) goto bad;
    if (tcVarint(rd, &c->floor) != C_OK || tcVarint(rd, &n) != C_OK) goto bad;
    if (n > COUNTER_MAX_SLOTS || n > tcLeft(rd) / 10) goto bad;
    reserve(c, (int)n);
    for (uint64_t k = 0; k < n; k++) {
        uint64_t actor;
        uint8_t f;
        if (tcU64(rd, &actor) != C_OK || tcU8(rd, &f) != C_OK) goto bad;
        if (k > 0 && actor <= c->s[c->n - 1].actor) goto bad;
        if ((f & ~SF_ALL) || !(f & (SF_ENTRY | SF_BASE))) goto bad;
        if (!(f & SF_ENTRY) && (f & (SF_EINT | SF_EFLT | SF_ELO))) goto bad;
        if (!(f & SF_BASE) && (f & (SF_BINT | SF_BFLT | SF_BLO))) goto bad;
        counterSlot *s = pushSlot(c, actor);
        if (f & SF_ENTRY) {
            if (tcVarint(rd, &s->seq) != C_OK || s->seq == 0 || s->seq <= c->floor) goto bad;
            if (readTotals(rd, f & SF_EINT, f & SF_EFLT, f & SF_ELO, &s->isum, &s->fsum) != C_OK)
                goto bad;
        }
        if (f & SF_BASE) {
            if (tcVarint(rd, &s->bseq) != C_OK || s->bseq == 0) goto bad;
            if (readTotals(rd, f & SF_BINT, f & SF_BFLT, f & SF_BLO, &s->bisum, &s->bfsum) !=
                C_OK)
                goto bad;
            if (s->seq && s->seq <= s->bseq) goto bad;
        }
    }
    return C_OK;
bad:
    rd->err = 1;
    counterClear(c);
    return C_ERR;
}

int counterDecode(counter *c, const void *p, size_t len) {
    tcReader rd;
    tcReaderInit(&rd, p, len);
    if (counterRead(c, &rd) != C_OK || tcDone(&rd) != C_OK) {
        counterClear(c);
        return C_ERR;
    }
    return C_OK;
}
