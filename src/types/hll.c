/* hll.c -- HyperLogLog chains, their merge, encoding and estimate. See
 * hll.h. Invariants: chains sorted by actor, one per actor; every register
 * <= HLL_MAX_RANK; seq >= epoch > 0. */
#include "hll.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "tcodec.h"

#define HLL_SEED 0x72696e676b76ULL /* "ringkv" */
#define KIND_SPARSE 0
#define KIND_DENSE 1

void hllInit(hll *h) {
    h->n = h->cap = 0;
    h->c = NULL;
}

void hllClear(hll *h) {
    for (int i = 0; i < h->n; i++) zfree(h->c[i].reg);
    h->n = 0;
}

void hllFree(hll *h) {
    hllClear(h);
    zfree(h->c);
    hllInit(h);
}

static hllChain *pushChain(hll *h, uint64_t actor, uint64_t epoch, uint64_t seq) {
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 2;
        h->c = zrealloc(h->c, sizeof(hllChain) * (size_t)h->cap);
    }
    hllChain *c = &h->c[h->n++];
    c->actor = actor;
    c->epoch = epoch;
    c->seq = seq;
    c->reg = zcalloc(HLL_REGISTERS);
    return c;
}

void hllCopy(hll *dst, const hll *src) {
    if (dst == src) return;
    hllClear(dst);
    for (int i = 0; i < src->n; i++) {
        hllChain *c = pushChain(dst, src->c[i].actor, src->c[i].epoch, src->c[i].seq);
        memcpy(c->reg, src->c[i].reg, HLL_REGISTERS);
    }
}

static int chainEqual(const hllChain *a, const hllChain *b) {
    return a->actor == b->actor && a->epoch == b->epoch && a->seq == b->seq &&
           memcmp(a->reg, b->reg, HLL_REGISTERS) == 0;
}

int hllEqual(const hll *a, const hll *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (!chainEqual(&a->c[i], &b->c[i])) return 0;
    return 1;
}

/* The register loops below are written branch-free over restrict pointers so
 * that -O2 vectorizes them (16 registers per instruction): every PFADD,
 * PFCOUNT and replica write runs several of them over 16384 registers. */
static void maxInto(uint8_t *restrict d, const uint8_t *restrict s) {
    for (int i = 0; i < HLL_REGISTERS; i++) d[i] = s[i] > d[i] ? s[i] : d[i];
}

/* maxInto that returns whether any register of d rose. */
static int raiseInto(uint8_t *restrict d, const uint8_t *restrict s) {
    uint8_t rose = 0;
    for (int i = 0; i < HLL_REGISTERS; i++) {
        uint8_t m = s[i] > d[i] ? s[i] : d[i];
        rose |= (uint8_t)(m ^ d[i]);
        d[i] = m;
    }
    return rose != 0;
}

/* In place: a chain of an actor dst lacks is inserted at its sorted place;
 * one with a larger epoch replaces dst's; the same epoch takes the larger
 * seq and the register-wise max. */
int hllMerge(hll *dst, const hll *src) {
    if (dst == src) return 0;
    int changed = 0;
    for (int j = 0; j < src->n; j++) {
        const hllChain *b = &src->c[j];
        int i = 0;
        while (i < dst->n && dst->c[i].actor < b->actor) i++;
        if (i == dst->n || dst->c[i].actor != b->actor) {
            hllChain *c = pushChain(dst, b->actor, b->epoch, b->seq); /* at the end ... */
            hllChain tmp = *c;
            memmove(dst->c + i + 1, dst->c + i, sizeof(hllChain) * (size_t)(dst->n - 1 - i));
            dst->c[i] = tmp; /* ... then moved to its place */
            memcpy(dst->c[i].reg, b->reg, HLL_REGISTERS);
            changed = 1;
            continue;
        }
        hllChain *a = &dst->c[i];
        if (b->epoch < a->epoch) continue;
        if (b->epoch > a->epoch) {
            a->epoch = b->epoch;
            a->seq = b->seq;
            memcpy(a->reg, b->reg, HLL_REGISTERS);
            changed = 1;
            continue;
        }
        if (b->seq > a->seq) {
            a->seq = b->seq;
            changed = 1;
        }
        if (raiseInto(a->reg, b->reg)) changed = 1;
    }
    return changed;
}

/* ------------------------------------------------------------ reading */

void hllHash(const void *elem, size_t len, unsigned *index, uint8_t *rank) {
    uint64_t h = XXH3_64bits_withSeed(elem, len, HLL_SEED);
    *index = (unsigned)(h & (HLL_REGISTERS - 1));
    uint64_t rest = (h >> HLL_P) | (1ULL << HLL_Q); /* the bound: rank <= 51 */
    *rank = (uint8_t)(__builtin_ctzll(rest) + 1);
}

static int chainLive(const hllChain *c, const causalRemoval *kr) {
    return !causalCovers(kr, c->actor, c->seq);
}

void hllView(const hll *h, const causalRemoval *kr, uint8_t *regs) {
    memset(regs, 0, HLL_REGISTERS);
    for (int i = 0; i < h->n; i++)
        if (chainLive(&h->c[i], kr)) maxInto(regs, h->c[i].reg);
}

/* Ertl's sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), for 0 <= x <= 1: the
 * correction for the registers still at zero. */
static double sigma(double x) {
    if (x == 1.0) return INFINITY;
    double z = x, y = 1.0, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (z != prev);
    return z;
}

/* Ertl's tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3: the
 * correction for the registers at the largest rank. */
static double tau(double x) {
    if (x == 0.0 || x == 1.0) return 0.0;
    double z = 1.0 - x, y = 1.0, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != prev);
    return z / 3.0;
}

uint64_t hllCountRegisters(const uint8_t *regs) {
    int hist[HLL_MAX_RANK + 1] = {0};
    for (int i = 0; i < HLL_REGISTERS; i++) hist[regs[i] <= HLL_MAX_RANK ? regs[i] : HLL_MAX_RANK]++;
    const double m = HLL_REGISTERS;
    const double alpha = 0.5 / log(2.0); /* alpha_inf */
    double z = m * tau((m - hist[HLL_Q + 1]) / m);
    for (int k = HLL_Q; k >= 1; k--) {
        z += hist[k];
        z *= 0.5;
    }
    z += m * sigma(hist[0] / m);
    return (uint64_t)llroundl(alpha * m * m / z);
}

uint64_t hllCount(const hll *h, const causalRemoval *kr) {
    uint8_t regs[HLL_REGISTERS];
    hllView(h, kr, regs);
    return hllCountRegisters(regs);
}

/* -------------------------------------------------------------- deltas */

static const hllChain *findChain(const hll *h, uint64_t actor) {
    for (int i = 0; i < h->n; i++)
        if (h->c[i].actor == actor) return &h->c[i];
    return NULL;
}

/* d[i] = regs[i] (at most HLL_MAX_RANK) where that is above own[i] (own
 * NULL: 0), else 0. */
static void raiseDelta(uint8_t *restrict d, const uint8_t *restrict regs,
                       const uint8_t *restrict own) {
    if (own) {
        for (int i = 0; i < HLL_REGISTERS; i++) {
            uint8_t r = regs[i] > HLL_MAX_RANK ? HLL_MAX_RANK : regs[i];
            d[i] = r > own[i] ? r : 0;
        }
    } else {
        for (int i = 0; i < HLL_REGISTERS; i++) d[i] = regs[i] > HLL_MAX_RANK ? HLL_MAX_RANK : regs[i];
    }
}

/* Whether any register of a is above b's. */
static int anyAbove(const uint8_t *restrict a, const uint8_t *restrict b) {
    uint8_t above = 0;
    for (int i = 0; i < HLL_REGISTERS; i++) above |= (uint8_t)(a[i] > b[i]);
    return above;
}

int hllDeltaRaise(hll *delta, const hll *obs, const causalRemoval *kr, uint64_t actor,
                  uint64_t seq, const uint8_t *regs) {
    hllClear(delta);
    const hllChain *own = findChain(obs, actor);
    if (seq == 0 || (own && seq <= own->seq)) return C_ERR;
    int extend = own && chainLive(own, kr);
    hllChain *c = pushChain(delta, actor, extend ? own->epoch : seq, seq);
    raiseDelta(c->reg, regs, extend ? own->reg : NULL);
    uint8_t view[HLL_REGISTERS];
    hllView(obs, kr, view);
    return anyAbove(c->reg, view);
}

int hllDeltaAdd(hll *delta, const hll *obs, const causalRemoval *kr, uint64_t actor,
                uint64_t seq, const char *const *elems, const size_t *lens, int n) {
    uint8_t *regs = zcalloc(HLL_REGISTERS);
    for (int i = 0; i < n; i++) {
        unsigned idx;
        uint8_t rank;
        hllHash(elems[i], lens[i], &idx, &rank);
        if (rank > regs[idx]) regs[idx] = rank;
    }
    int rc = hllDeltaRaise(delta, obs, kr, actor, seq, regs);
    zfree(regs);
    return rc;
}

/* ------------------------------------------------------------ encoding */

static size_t varintLen(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* The non-zero bytes of the 8 registers at p, as the top bit of each byte
 * of the result (byte j of the result for register p[j]). Adding 0x7f to
 * a byte's low 7 bits sets its top bit unless they are 0, and never carries
 * into the next byte. */
static inline uint64_t nonzero8(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    const uint64_t low = 0x7f7f7f7f7f7f7f7fULL;
    return (((w & low) + low) | w) & ~low;
}

/* Calls the statement body with r set to each non-zero register's index,
 * in order, 8 registers at a time: most of a sketch's registers are 0
 * until it has seen thousands of elements, and every encode and decode
 * walks it (a call per register was a sixth of a PFADD's time). */
#define FOR_EACH_SET(reg, r, body)                                  \
    for (long base_ = 0; base_ < HLL_REGISTERS; base_ += 8) {       \
        for (uint64_t m_ = nonzero8((reg) + base_); m_; m_ &= m_ - 1) { \
            long r = base_ + (__builtin_ctzll(m_) >> 3);            \
            body                                                    \
        }                                                           \
    }

/* The sparse encoding's length: varint k, then per register a gap of 1
 * byte (< 128) or 2 (every gap is < HLL_REGISTERS = 2^14) and its rank.
 * A length above HLL_DENSE_BYTES may be a lower bound (callers only
 * compare): a sketch with too many registers set is dense whatever its
 * gaps, which a count of the set registers (a popcount per 8) tells. */
static size_t sparseLen(const uint8_t *reg) {
    size_t k = 0, wide = 0;
    /* nonzero8's top bits, moved to the bottom of each byte and summed
     * into the top byte by the multiply (no popcount instruction at -O2) */
    for (long i = 0; i < HLL_REGISTERS; i += 8)
        k += (size_t)(((nonzero8(reg + i) >> 7) * 0x0101010101010101ULL) >> 56);
    if (2 * k > HLL_DENSE_BYTES) return 2 * k;
    k = 0;
    long prev = -1;
    FOR_EACH_SET(reg, r, {
        wide += (r - prev - 1) >= 128;
        prev = r;
        k++;
    })
    return varintLen(k) + 2 * k + wide;
}

void hllEncode(const hll *h, buf *out) {
    tcPutU8(out, HLL_FORMAT);
    tcPutVarint(out, (uint64_t)h->n);
    for (int i = 0; i < h->n; i++) {
        const hllChain *c = &h->c[i];
        tcPutU64(out, c->actor);
        tcPutVarint(out, c->epoch);
        tcPutVarint(out, c->seq);
        if (sparseLen(c->reg) <= HLL_DENSE_BYTES) {
            /* written into b, then appended once: no per-register call */
            unsigned char b[HLL_DENSE_BYTES];
            size_t n = 0;
            uint64_t k = 0;
            long prev = -1;
            FOR_EACH_SET(c->reg, r, {
                unsigned gap = (unsigned)(r - prev - 1);
                if (gap < 128) {
                    b[n++] = (unsigned char)gap;
                } else {
                    b[n++] = (unsigned char)(gap | 0x80);
                    b[n++] = (unsigned char)(gap >> 7);
                }
                b[n++] = c->reg[r];
                prev = r;
                k++;
            })
            tcPutU8(out, KIND_SPARSE);
            tcPutVarint(out, k);
            bufAppend(out, b, n);
        } else {
            tcPutU8(out, KIND_DENSE);
            unsigned char b[HLL_DENSE_BYTES];
            for (int r = 0; r < HLL_REGISTERS; r += 4) {
                uint32_t x = (uint32_t)c->reg[r] | ((uint32_t)c->reg[r + 1] << 6) |
                             ((uint32_t)c->reg[r + 2] << 12) | ((uint32_t)c->reg[r + 3] << 18);
                unsigned char *p = b + (r / 4) * 3;
                p[0] = (unsigned char)x;
                p[1] = (unsigned char)(x >> 8);
                p[2] = (unsigned char)(x >> 16);
            }
            bufAppend(out, b, sizeof(b));
        }
    }
}

/* Reads a chain's registers into reg (all 0). A sparse body is parsed here
 * rather than through tcVarint per entry: a gap is 1 byte, or 2 with a
 * non-zero second byte (canonical) below 0x80 (a longer one is >= 2^14,
 * out of range), exactly what tcVarint and the range check accept. Its
 * canonical length (sparse only if not longer than dense) is counted as it
 * is read. */
static int readChainRegs(tcReader *rd, uint8_t kind, uint8_t *reg) {
    if (kind == KIND_SPARSE) {
        uint64_t k;
        if (tcVarint(rd, &k) != C_OK || k > HLL_REGISTERS) return C_ERR;
        const unsigned char *p = rd->p + rd->off, *end = rd->p + rd->len;
        long idx = -1;
        for (uint64_t i = 0; i < k; i++) {
            if (p >= end) return C_ERR;
            unsigned gap = *p++;
            if (gap & 0x80) {
                if (p >= end || *p == 0 || *p >= 0x80) return C_ERR;
                gap = (gap & 0x7f) | ((unsigned)*p++ << 7);
            }
            if (p >= end) return C_ERR;
            uint8_t r = *p++;
            if (idx + 1 + (long)gap >= HLL_REGISTERS) return C_ERR;
            idx += 1 + (long)gap;
            if (r == 0 || r > HLL_MAX_RANK) return C_ERR;
            reg[idx] = r;
        }
        size_t used = (size_t)(p - (rd->p + rd->off));
        rd->off += used;
        return varintLen(k) + used <= HLL_DENSE_BYTES ? C_OK : C_ERR;
    }
    if (kind != KIND_DENSE) return C_ERR;
    const unsigned char *p;
    int bad = 0;
    if (tcBytes(rd, HLL_DENSE_BYTES, &p) != C_OK) return C_ERR;
    for (int r = 0; r < HLL_REGISTERS; r += 4) {
        const unsigned char *q = p + (r / 4) * 3;
        uint32_t x = (uint32_t)q[0] | ((uint32_t)q[1] << 8) | ((uint32_t)q[2] << 16);
        for (int j = 0; j < 4; j++) {
            uint8_t v = (uint8_t)((x >> (6 * j)) & 63);
            bad |= v > HLL_MAX_RANK; /* checked once, after the loop */
            reg[r + j] = v;
        }
    }
    if (bad) return C_ERR;
    return sparseLen(reg) > HLL_DENSE_BYTES ? C_OK : C_ERR;
}

int hllDecode(hll *h, const void *p, size_t len) {
    tcReader rd;
    uint8_t fmt;
    uint64_t n;
    hllClear(h);
    tcReaderInit(&rd, p, len);
    if (tcU8(&rd, &fmt) != C_OK || fmt != HLL_FORMAT) goto bad;
    if (tcVarint(&rd, &n) != C_OK || n > HLL_MAX_CHAINS || n > tcLeft(&rd) / 12) goto bad;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t actor, epoch, seq;
        uint8_t kind;
        if (tcU64(&rd, &actor) != C_OK || tcVarint(&rd, &epoch) != C_OK ||
            tcVarint(&rd, &seq) != C_OK || tcU8(&rd, &kind) != C_OK)
            goto bad;
        if (epoch == 0 || seq < epoch) goto bad;
        if (i > 0 && actor <= h->c[h->n - 1].actor) goto bad;
        hllChain *c = pushChain(h, actor, epoch, seq);
        if (readChainRegs(&rd, kind, c->reg) != C_OK) goto bad;
    }
    if (tcDone(&rd) != C_OK) goto bad;
    return C_OK;
bad:
    hllClear(h);
    return C_ERR;
}
