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

static void maxInto(uint8_t *d, const uint8_t *s) {
    for (int i = 0; i < HLL_REGISTERS; i++)
        if (s[i] > d[i]) d[i] = s[i];
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
        for (int r = 0; r < HLL_REGISTERS; r++)
            if (b->reg[r] > a->reg[r]) {
                a->reg[r] = b->reg[r];
                changed = 1;
            }
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

int hllDeltaRaise(hll *delta, const hll *obs, const causalRemoval *kr, uint64_t actor,
                  uint64_t seq, const uint8_t *regs) {
    hllClear(delta);
    const hllChain *own = findChain(obs, actor);
    if (seq == 0 || (own && seq <= own->seq)) return C_ERR;
    int extend = own && chainLive(own, kr);
    hllChain *c = pushChain(delta, actor, extend ? own->epoch : seq, seq);
    for (int i = 0; i < HLL_REGISTERS; i++) {
        uint8_t r = regs[i] > HLL_MAX_RANK ? HLL_MAX_RANK : regs[i];
        if (r > (extend ? own->reg[i] : 0)) c->reg[i] = r;
    }
    uint8_t view[HLL_REGISTERS];
    hllView(obs, kr, view);
    for (int i = 0; i < HLL_REGISTERS; i++)
        if (c->reg[i] > view[i]) return 1;
    return 0;
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

/* The first register at or after i that is not 0 (HLL_REGISTERS if none),
 * skipping zeros 8 at a time: most of a sketch's registers are 0 until it
 * has seen thousands of elements, and every encode and decode walks it. */
static long nextSet(const uint8_t *reg, long i) {
    while (i < HLL_REGISTERS && (i & 7)) {
        if (reg[i]) return i;
        i++;
    }
    while (i < HLL_REGISTERS) {
        uint64_t w;
        memcpy(&w, reg + i, 8);
        if (w) break;
        i += 8;
    }
    while (i < HLL_REGISTERS && !reg[i]) i++;
    return i;
}

/* The sparse encoding's length, or anything above HLL_DENSE_BYTES as soon
 * as it is known to exceed it (the callers only compare). */
static size_t sparseLen(const uint8_t *reg) {
    size_t n = 0, len = 0;
    long prev = -1;
    for (long i = nextSet(reg, 0); i < HLL_REGISTERS; i = nextSet(reg, i + 1)) {
        len += varintLen((uint64_t)(i - prev - 1)) + 1;
        if (len > HLL_DENSE_BYTES) return len;
        prev = i;
        n++;
    }
    return varintLen(n) + len;
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
            tcPutU8(out, KIND_SPARSE);
            uint64_t k = 0;
            for (long r = nextSet(c->reg, 0); r < HLL_REGISTERS; r = nextSet(c->reg, r + 1)) k++;
            tcPutVarint(out, k);
            long prev = -1;
            for (long r = nextSet(c->reg, 0); r < HLL_REGISTERS; r = nextSet(c->reg, r + 1)) {
                tcPutVarint(out, (uint64_t)(r - prev - 1));
                tcPutU8(out, c->reg[r]);
                prev = r;
            }
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

static int readChainRegs(tcReader *rd, uint8_t kind, uint8_t *reg) {
    if (kind == KIND_SPARSE) {
        uint64_t k, gap;
        if (tcVarint(rd, &k) != C_OK || k > HLL_REGISTERS) return C_ERR;
        long idx = -1;
        for (uint64_t i = 0; i < k; i++) {
            uint8_t r;
            if (tcVarint(rd, &gap) != C_OK || tcU8(rd, &r) != C_OK) return C_ERR;
            if (gap >= HLL_REGISTERS || idx + 1 + (long)gap >= HLL_REGISTERS) return C_ERR;
            idx += 1 + (long)gap;
            if (r == 0 || r > HLL_MAX_RANK) return C_ERR;
            reg[idx] = r;
        }
        return sparseLen(reg) <= HLL_DENSE_BYTES ? C_OK : C_ERR;
    }
    if (kind != KIND_DENSE) return C_ERR;
    const unsigned char *p;
    if (tcBytes(rd, HLL_DENSE_BYTES, &p) != C_OK) return C_ERR;
    for (int r = 0; r < HLL_REGISTERS; r += 4) {
        const unsigned char *q = p + (r / 4) * 3;
        uint32_t x = (uint32_t)q[0] | ((uint32_t)q[1] << 8) | ((uint32_t)q[2] << 16);
        for (int j = 0; j < 4; j++) {
            uint8_t v = (uint8_t)((x >> (6 * j)) & 63);
            if (v > HLL_MAX_RANK) return C_ERR;
            reg[r + j] = v;
        }
    }
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
