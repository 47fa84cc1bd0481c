/* record.c -- sibling sets, their encoding, and the storage key layout.
 * See record.h. Invariants of a record after any API call:
 *   - no version obsoletes another (they are mutually concurrent);
 *   - no two versions share a dot;
 *   - versions are sorted by (actor, counter), so equal sets encode to equal
 *     bytes and digest alike on every replica. */
#include "record.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "types/counter.h"

/* ------------------------------------------------------------------- keys */

uint64_t keyHash(int db, const char *key, size_t klen) {
    return XXH3_64bits_withSeed(key, klen, (XXH64_hash_t)db);
}

void keySlotPrefix(unsigned char *p, unsigned slot, int db) {
    p[0] = (unsigned char)(slot >> 16);
    p[1] = (unsigned char)(slot >> 8);
    p[2] = (unsigned char)slot;
    p[3] = (unsigned char)db;
}

void keyEncode(buf *out, int qbits, int db, const char *key, size_t klen) {
    unsigned char pre[KEY_PREFIX_LEN];
    keySlotPrefix(pre, keySlot(keyHash(db, key, klen), qbits), db);
    bufClear(out);
    bufAppend(out, pre, KEY_PREFIX_LEN);
    bufAppend(out, key, klen);
}

int keyDecode(const char *skey, size_t len, unsigned *slot, int *db, const char **key,
              size_t *klen) {
    if (len < KEY_PREFIX_LEN) return C_ERR;
    const unsigned char *p = (const unsigned char *)skey;
    if (slot) *slot = ((unsigned)p[0] << 16) | ((unsigned)p[1] << 8) | p[2];
    if (db) *db = p[3];
    if (key) *key = skey + KEY_PREFIX_LEN;
    if (klen) *klen = len - KEY_PREFIX_LEN;
    return C_OK;
}

/* --------------------------------------------------------------- versions */

void versionInit(version *v) {
    memset(v, 0, sizeof(*v));
    vclockInit(&v->past);
}

void versionFree(version *v) {
    vclockFree(&v->past);
    if (v->ownval) zfree((void *)v->val);
    v->val = NULL;
    v->ownval = 0;
}

void versionCopy(version *dst, const version *src, int copyval) {
    vclock past = dst->past;
    if (dst->ownval) zfree((void *)dst->val);
    *dst = *src;
    dst->past = past;
    vclockCopy(&dst->past, &src->past);
    if (copyval && src->val) {
        dst->val = zmemdup(src->val, src->vlen);
        dst->ownval = 1;
    } else {
        dst->ownval = 0;
    }
}

int versionObsoletes(const version *a, const version *b) {
    if (versionSameDot(a, b)) return 0;
    return vclockGet(&a->past, b->actor) >= b->counter;
}

void versionHistory(const version *v, vclock *out) {
    vclockCopy(out, &v->past);
    vclockRaise(out, v->actor, v->counter);
}

static int dotCmp(const version *a, const version *b) {
    if (a->actor != b->actor) return a->actor < b->actor ? -1 : 1;
    if (a->counter != b->counter) return a->counter < b->counter ? -1 : 1;
    return 0;
}

/* ---------------------------------------------------------------- records */

/* A record is a join-semilattice state: (seen, versions). seen is the
 * join of every past ever merged in (and of the dots a sibling cap
 * dropped); a version whose dot seen covers is gone for good. Merging
 * joins seen, takes the union of the versions, keeps per dot the greater
 * copy (versionPayloadCmp: a tombstone beats the live copy of the same
 * dot) and drops what seen covers. That is the join of two lattices (the
 * clock, and dot -> payload under a total order) read through "covered
 * dots are gone", which commutes with the join because seen only grows;
 * so merging is associative, commutative and idempotent for any input,
 * pruned or even nonsensical clocks included. (Without seen, "drop what
 * a surviving sibling obsoletes" is order dependent once a pruned past
 * stops covering a dot its predecessor's past covered.) */

void recordInit(record *r) {
    r->ctr = NULL;
    r->n = 0;
    r->cap = 0;
    r->v = NULL;
    vclockInit(&r->seen);
}

void recordClear(record *r) {
    for (int i = 0; i < r->n; i++) versionFree(&r->v[i]);
    r->n = 0;
    vclockClear(&r->seen);
    if (r->ctr) {
        counterFree(r->ctr);
        zfree(r->ctr);
        r->ctr = NULL;
    }
}

counter *recordCounter(record *r) {
    if (!r->ctr) {
        r->ctr = zmalloc(sizeof(counter));
        counterInit(r->ctr);
    }
    return r->ctr;
}

/* No contribution and no floor: as good as no counter (not encoded). */
static int counterEmpty(const counter *c) { return !c || (c->n == 0 && c->floor == 0); }

void recordFree(record *r) {
    recordClear(r);
    zfree(r->v);
    vclockFree(&r->seen);
    recordInit(r);
}

static version *insertAt(record *r, int i) {
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 2;
        r->v = zrealloc(r->v, sizeof(version) * (size_t)cap);
        r->cap = cap;
    }
    memmove(r->v + i + 1, r->v + i, sizeof(version) * (size_t)(r->n - i));
    r->n++;
    versionInit(&r->v[i]);
    return &r->v[i];
}

static void removeAt(record *r, int i) {
    versionFree(&r->v[i]);
    memmove(r->v + i, r->v + i + 1, sizeof(version) * (size_t)(r->n - i - 1));
    r->n--;
}

static int covered(const vclock *seen, const version *v) {
    return vclockGet(seen, v->actor) >= v->counter;
}

/* dst = dst join src; returns 1 if dst grew. */
static int clockJoin(vclock *dst, const vclock *src) {
    int changed = 0;
    for (int i = 0; i < src->n; i++) {
        if (vclockGet(dst, src->e[i].actor) < src->e[i].counter) {
            vclockRaise(dst, src->e[i].actor, src->e[i].counter);
            changed = 1;
        }
    }
    return changed;
}

static int clockEqual(const vclock *a, const vclock *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (a->e[i].actor != b->e[i].actor || a->e[i].counter != b->e[i].counter) return 0;
    return 1;
}

/* The payload order of versionPayloadCmp, on the fields of either version
 * type (a decoded version, or one parsed in place by the merge's fast path). */
static int payloadCmp(int at, int64_t ae, const void *av, size_t al, const vcEntry *ap, int apn,
                      int bt, int64_t be, const void *bv, size_t bl, const vcEntry *bp, int bpn) {
    if (at != bt) return at ? 1 : -1;
    if (ae != be) return ae < be ? -1 : 1;
    if (at) al = bl = 0;
    if (al != bl) return al < bl ? -1 : 1;
    if (al) {
        int c = memcmp(av, bv, al);
        if (c) return c < 0 ? -1 : 1;
    }
    if (apn != bpn) return apn < bpn ? -1 : 1;
    for (int i = 0; i < apn; i++) {
        if (ap[i].actor != bp[i].actor) return ap[i].actor < bp[i].actor ? -1 : 1;
        if (ap[i].counter != bp[i].counter) return ap[i].counter < bp[i].counter ? -1 : 1;
    }
    return 0;
}

int versionPayloadCmp(const version *a, const version *b) {
    return payloadCmp(a->tombstone, a->expire, a->val, a->vlen, a->past.e, a->past.n,
                      b->tombstone, b->expire, b->val, b->vlen, b->past.e, b->past.n);
}

/* Drops the versions seen covers; returns how many. */
static int dropCovered(record *r) {
    int dropped = 0;
    for (int i = 0; i < r->n;) {
        if (covered(&r->seen, &r->v[i])) {
            removeAt(r, i);
            dropped++;
        } else {
            i++;
        }
    }
    return dropped;
}

/* Puts v (not covered) in: a new dot at its place, or the greater copy of
 * a dot already there. Returns 1 if r changed. */
static int putVersion(record *r, const version *v, int copyval) {
    int pos;
    for (pos = 0; pos < r->n; pos++) {
        int c = dotCmp(&r->v[pos], v);
        if (c == 0) {
            if (versionPayloadCmp(v, &r->v[pos]) <= 0) return 0;
            versionCopy(&r->v[pos], v, copyval);
            return 1;
        }
        if (c > 0) break;
    }
    versionCopy(insertAt(r, pos), v, copyval);
    return 1;
}

int recordAdd(record *r, const version *v, int copyval) {
    int changed = clockJoin(&r->seen, &v->past);
    if (changed) dropCovered(r);
    if (!covered(&r->seen, v)) changed |= putVersion(r, v, copyval);
    return changed;
}

int recordMerge(record *dst, const record *src, int copyval) {
    int ctrchanged = 0;
    if (!counterEmpty(src->ctr)) ctrchanged = counterMerge(recordCounter(dst), src->ctr);
    int grew = clockJoin(&dst->seen, &src->seen);
    for (int i = 0; i < src->n; i++) grew |= clockJoin(&dst->seen, &src->v[i].past);
    int changed = grew | ctrchanged;
    if (grew) dropCovered(dst);
    for (int i = 0; i < src->n; i++)
        if (!covered(&dst->seen, &src->v[i])) changed |= putVersion(dst, &src->v[i], copyval);
    return changed;
}

int recordCapSiblings(record *r, int max) {
    int dropped = 0;
    if (max < 1) max = 1;
    while (r->n > max) {
        int oldest = 0;
        for (int i = 1; i < r->n; i++)
            if (r->v[i].counter < r->v[oldest].counter ||
                (r->v[i].counter == r->v[oldest].counter && r->v[i].actor < r->v[oldest].actor))
                oldest = i;
        /* seen covers it from now on, here and wherever this record goes,
         * so a copy that is still elsewhere never brings it back */
        vclockRaise(&r->seen, r->v[oldest].actor, r->v[oldest].counter);
        dropped += dropCovered(r);
    }
    return dropped;
}

void recordContext(const record *r, vclock *out) {
    vclockCopy(out, &r->seen);
    for (int i = 0; i < r->n; i++) {
        vclockMerge(out, &r->v[i].past);
        vclockRaise(out, r->v[i].actor, r->v[i].counter);
    }
}

void versionClampPast(version *v) {
    for (int i = 0; i < v->past.n;) {
        if (v->past.e[i].counter >= v->counter) {
            memmove(v->past.e + i, v->past.e + i + 1,
                    sizeof(vcEntry) * (size_t)(v->past.n - i - 1));
            v->past.n--;
        } else {
            i++;
        }
    }
}

const version *recordNewest(const record *r) {
    const version *best = NULL;
    for (int i = 0; i < r->n; i++) {
        const version *v = &r->v[i];
        if (!best || v->counter > best->counter ||
            (v->counter == best->counter && v->actor > best->actor))
            best = v;
    }
    return best;
}

const version *recordVisible(const record *r, long long now_ms) {
    const version *v = recordNewest(r);
    return (v && versionLive(v, now_ms)) ? v : NULL;
}

int recordHasLive(const record *r, long long now_ms) {
    for (int i = 0; i < r->n; i++)
        if (versionLive(&r->v[i], now_ms)) return 1;
    return 0;
}

int64_t recordMinExpire(const record *r) {
    int64_t m = 0;
    for (int i = 0; i < r->n; i++)
        if (r->v[i].expire && (m == 0 || r->v[i].expire < m)) m = r->v[i].expire;
    return m;
}

/* ---------------------------------------------------------------- encoding */

static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* seen is exactly the join of the kept versions' pasts: then the encoding
 * leaves it out (format 1, which every record had before seen existed). */
static int seenIsPasts(const record *r) {
    if (r->n == 1 && !covered(&r->seen, &r->v[0])) return clockEqual(&r->seen, &r->v[0].past);
    for (int i = 0; i < r->seen.n; i++) {
        uint64_t a = r->seen.e[i].actor, m = 0;
        for (int j = 0; j < r->n; j++) {
            if (covered(&r->seen, &r->v[j])) continue;
            uint64_t c = vclockGet(&r->v[j].past, a);
            if (c > m) m = c;
        }
        if (m != r->seen.e[i].counter) return 0;
    }
    for (int j = 0; j < r->n; j++) /* every past entry is in seen (an invariant) */
        if (!vclockDescends(&r->seen, &r->v[j].past)) return 0;
    return 1;
}

/* Raw writers for recordEncode, which reserves room for the whole record
 * once (one bufAppend per field cost a third of a coordinator's encode).
 * Same bytes as varintPut, put64 and vclockEncode. */
static unsigned char *rawVarint(unsigned char *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static unsigned char *raw64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *rawClock(unsigned char *p, const vclock *vc) {
    p = rawVarint(p, (uint64_t)vc->n);
    for (int i = 0; i < vc->n; i++) {
        p = raw64(p, vc->e[i].actor);
        p = rawVarint(p, vc->e[i].counter);
    }
    return p;
}

#define CLOCK_MAX(vc) (10 + (size_t)(vc).n * 18)

void recordEncode(const record *r, buf *out) {
    vclock whole; /* seen as decoding will make it, when it differs from seen */
    vclockInit(&whole);
    const vclock *seen = NULL;
    if (!seenIsPasts(r)) {
        seen = &r->seen;
        int all = 1;
        for (int j = 0; j < r->n && all; j++) all = vclockDescends(&r->seen, &r->v[j].past);
        if (!all) { /* a record built by hand: write what decoding makes of it */
            vclockCopy(&whole, &r->seen);
            for (int j = 0; j < r->n; j++) vclockMerge(&whole, &r->v[j].past);
            seen = &whole;
        }
    }
    /* what seen covers is gone (a record changed by hand may still hold it) */
    int n = 0;
    size_t max = 11 + (seen ? CLOCK_MAX(*seen) : 0);
    for (int i = 0; i < r->n; i++) {
        if (covered(&r->seen, &r->v[i])) continue;
        n++;
        max += 1 + 8 + 10 + 10 + CLOCK_MAX(r->v[i].past) + 10 +
               (r->v[i].tombstone ? 0 : r->v[i].vlen);
    }
    bufReserve(out, max);
    unsigned char *start = (unsigned char *)out->ptr + out->len, *p = start;
    int ctr = !counterEmpty(r->ctr);
    *p++ = (unsigned char)((seen ? RECORD_FORMAT_SEEN : RECORD_FORMAT) | (ctr ? RECORD_FLAG_CTR : 0));
    if (seen) p = rawClock(p, seen);
    p = rawVarint(p, (uint64_t)n);
    for (int i = 0; i < r->n; i++) {
        const version *v = &r->v[i];
        if (n < r->n && covered(&r->seen, v)) continue;
        *p++ = (unsigned char)((v->tombstone ? VF_TOMBSTONE : 0) | (v->expire ? VF_EXPIRE : 0));
        p = raw64(p, v->actor);
        p = rawVarint(p, v->counter);
        if (v->expire) p = rawVarint(p, (uint64_t)v->expire);
        p = rawClock(p, &v->past);
        size_t vlen = v->tombstone ? 0 : v->vlen;
        p = rawVarint(p, vlen);
        if (vlen) {
            memcpy(p, v->val, vlen);
            p += vlen;
        }
    }
    out->len += (size_t)(p - start);
    out->ptr[out->len] = '\0';
    if (ctr) counterEncode(r->ctr, out);
    vclockFree(&whole);
}

int recordDecode(record *r, const char *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    recordClear(r);
    if (len < 2) return C_ERR;
    int fmt = p[0] & ~RECORD_FLAG_CTR, hasctr = (p[0] & RECORD_FLAG_CTR) != 0;
    if (fmt != RECORD_FORMAT && fmt != RECORD_FORMAT_SEEN) return C_ERR;
    size_t off = 1;
    uint64_t n, x;
    long u;
    if (fmt == RECORD_FORMAT_SEEN) {
        if ((u = vclockDecode(&r->seen, p + off, len - off)) < 0) goto bad;
        off += (size_t)u;
    }
    if ((u = varintGet(p + off, len - off, &n)) < 0 || n > 1000000) goto bad;
    off += (size_t)u;
    for (uint64_t i = 0; i < n; i++) {
        if (len - off < 10) goto bad;
        version *v = insertAt(r, r->n);
        unsigned char flags = p[off++];
        if (flags & ~(VF_TOMBSTONE | VF_EXPIRE)) goto bad;
        v->tombstone = (flags & VF_TOMBSTONE) != 0;
        v->actor = get64(p + off);
        off += 8;
        if ((u = varintGet(p + off, len - off, &v->counter)) < 0 || v->counter == 0) goto bad;
        off += (size_t)u;
        if (flags & VF_EXPIRE) {
            if ((u = varintGet(p + off, len - off, &x)) < 0 || x == 0 || x > INT64_MAX)
                goto bad;
            v->expire = (int64_t)x;
            off += (size_t)u;
        }
        if ((u = vclockDecode(&v->past, p + off, len - off)) < 0) goto bad;
        off += (size_t)u;
        if ((u = varintGet(p + off, len - off, &x)) < 0) goto bad;
        off += (size_t)u;
        if (x > len - off) goto bad;
        v->val = (const char *)p + off;
        v->vlen = (size_t)x;
        off += (size_t)x;
        if (i > 0 && dotCmp(&r->v[i - 1], v) >= 0) goto bad;
    }
    if (hasctr) { /* the rest is the counter, never an empty one */
        if (counterDecode(recordCounter(r), p + off, len - off) != C_OK || counterEmpty(r->ctr))
            goto bad;
        off = len;
    }
    if (off != len) goto bad;
    /* seen holds every past (format 1 leaves it to be computed), and a
     * version it covers is gone: bytes from elsewhere are not trusted to
     * be in that form already */
    if (r->n == 1 && r->seen.n == 0) {
        vclockCopy(&r->seen, &r->v[0].past);
        if (covered(&r->seen, &r->v[0])) removeAt(r, 0);
    } else {
        for (int i = 0; i < r->n; i++) clockJoin(&r->seen, &r->v[i].past);
        dropCovered(r);
    }
    return C_OK;
bad:
    recordClear(r);
    return C_ERR;
}

void recordOwnValues(record *r) {
    for (int i = 0; i < r->n; i++) {
        version *v = &r->v[i];
        if (!v->ownval && v->val) {
            v->val = zmemdup(v->val, v->vlen);
            v->ownval = 1;
        }
    }
}

/* ------------------------------------------------- merge: the fast path */

/* Most merges RocksDB runs are a stored record and the record a coordinator
 * sent after it, which supersedes it: the result is the newer record as it
 * is. absorbsAll checks that on the encodings, parsed in place (no
 * allocation), and the merge then copies the bytes instead of decoding,
 * merging and encoding (callgrind: most of a merge's cost, on every read
 * of a key a replica wrote blind and in every compaction of it). Anything
 * larger than the small fixed sizes below, or not canonical, or malformed,
 * takes the general path (C_ERR below means only that: not this path). */
#define LIGHT_VERSIONS 8
#define LIGHT_CLOCK 24

typedef struct lightClock {
    int n;
    vcEntry e[LIGHT_CLOCK];
} lightClock;

typedef struct lightVersion {
    int tombstone;
    uint64_t actor, counter;
    uint64_t expire;
    const unsigned char *val;
    size_t vlen;
    lightClock past;
} lightVersion;

typedef struct lightRecord {
    int n;
    lightVersion v[LIGHT_VERSIONS];
    lightClock seen;  /* as decoding makes it: stored seen joined with the pasts */
    int canonical;    /* recordEncode of its decoding gives these bytes back */
} lightRecord;

/* A varint of u bytes at p as recordEncode writes them: no trailing zero
 * group (decoding accepts those; the bytes would differ). */
static int minimal(const unsigned char *p, long u) { return u == 1 || p[u - 1] != 0; }

/* -1 malformed, too large or not minimal, else bytes used. */
static long lightClockParse(const unsigned char *p, size_t len, lightClock *c) {
    uint64_t n;
    long used = varintGet(p, len, &n);
    if (used < 0 || n > LIGHT_CLOCK || !minimal(p, used)) return -1;
    size_t off = (size_t)used;
    c->n = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (len - off < 9) return -1;
        uint64_t actor = get64(p + off), counter;
        off += 8;
        long u = varintGet(p + off, len - off, &counter);
        if (u < 0 || counter == 0 || !minimal(p + off, u)) return -1;
        off += (size_t)u;
        if (c->n && c->e[c->n - 1].actor >= actor) return -1;
        c->e[c->n].actor = actor;
        c->e[c->n].counter = counter;
        c->n++;
    }
    return (long)off;
}

static uint64_t lightGet(const lightClock *c, uint64_t actor) {
    for (int i = 0; i < c->n; i++)
        if (c->e[i].actor == actor) return c->e[i].counter;
    return 0;
}

/* dst = dst join src; -1 if it does not fit. */
static int lightJoin(lightClock *dst, const lightClock *src) {
    lightClock r;
    int i = 0, j = 0;
    r.n = 0;
    while (i < dst->n || j < src->n) {
        if (r.n == LIGHT_CLOCK) return -1;
        if (j == src->n || (i < dst->n && dst->e[i].actor < src->e[j].actor)) {
            r.e[r.n++] = dst->e[i++];
        } else if (i == dst->n || src->e[j].actor < dst->e[i].actor) {
            r.e[r.n++] = src->e[j++];
        } else {
            r.e[r.n] = dst->e[i];
            if (src->e[j].counter > r.e[r.n].counter) r.e[r.n].counter = src->e[j].counter;
            r.n++;
            i++;
            j++;
        }
    }
    *dst = r;
    return 0;
}

static int lightLeq(const lightClock *a, const lightClock *b) {
    for (int i = 0; i < a->n; i++)
        if (lightGet(b, a->e[i].actor) < a->e[i].counter) return 0;
    return 1;
}

static int lightEqual(const lightClock *a, const lightClock *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (a->e[i].actor != b->e[i].actor || a->e[i].counter != b->e[i].counter) return 0;
    return 1;
}

/* C_OK, or C_ERR for malformed or too large (the general path decides). */
static int lightParse(const char *data, size_t len, lightRecord *r) {
    const unsigned char *p = (const unsigned char *)data;
    if (len < 2 || (p[0] != RECORD_FORMAT && p[0] != RECORD_FORMAT_SEEN)) return C_ERR;
    size_t off = 1;
    long u;
    lightClock stored;
    stored.n = 0;
    if (p[0] == RECORD_FORMAT_SEEN) {
        if ((u = lightClockParse(p + off, len - off, &stored)) < 0) return C_ERR;
        off += (size_t)u;
    }
    uint64_t n, x;
    if ((u = varintGet(p + off, len - off, &n)) < 0 || n > LIGHT_VERSIONS || !minimal(p + off, u))
        return C_ERR;
    off += (size_t)u;
    r->n = 0;
    lightClock pasts;
    pasts.n = 0;
    int canonical = 1;
    for (uint64_t i = 0; i < n; i++) {
        if (len - off < 10) return C_ERR;
        lightVersion *v = &r->v[r->n++];
        unsigned char flags = p[off++];
        if (flags & ~(VF_TOMBSTONE | VF_EXPIRE)) return C_ERR;
        v->tombstone = (flags & VF_TOMBSTONE) != 0;
        v->actor = get64(p + off);
        off += 8;
        if ((u = varintGet(p + off, len - off, &v->counter)) < 0 || v->counter == 0 ||
            !minimal(p + off, u))
            return C_ERR;
        off += (size_t)u;
        v->expire = 0;
        if (flags & VF_EXPIRE) {
            if ((u = varintGet(p + off, len - off, &x)) < 0 || x == 0 || x > INT64_MAX ||
                !minimal(p + off, u))
                return C_ERR;
            v->expire = x;
            off += (size_t)u;
        }
        if ((u = lightClockParse(p + off, len - off, &v->past)) < 0) return C_ERR;
        off += (size_t)u;
        if ((u = varintGet(p + off, len - off, &x)) < 0 || !minimal(p + off, u)) return C_ERR;
        off += (size_t)u;
        if (x > len - off) return C_ERR;
        v->val = p + off;
        v->vlen = (size_t)x;
        off += (size_t)x;
        if (v->tombstone && v->vlen) canonical = 0;
        if (i > 0) {
            const lightVersion *w = &r->v[r->n - 2];
            if (w->actor > v->actor || (w->actor == v->actor && w->counter >= v->counter))
                return C_ERR;
        }
        if (lightJoin(&pasts, &v->past) != 0) return C_ERR;
    }
    if (off != len) return C_ERR;
    r->seen = stored;
    if (lightJoin(&r->seen, &pasts) != 0) return C_ERR;
    /* format 2 exactly when the stored seen holds more than the pasts */
    if (p[0] == RECORD_FORMAT_SEEN && (!lightEqual(&stored, &r->seen) || lightEqual(&stored, &pasts)))
        canonical = 0;
    for (int i = 0; i < r->n; i++)
        if (lightGet(&r->seen, r->v[i].actor) >= r->v[i].counter) canonical = 0;
    r->canonical = canonical;
    return C_OK;
}

/* versionPayloadCmp on parsed versions. */
static int lightPayloadCmp(const lightVersion *a, const lightVersion *b) {
    return payloadCmp(a->tombstone, (int64_t)a->expire, a->val, a->vlen, a->past.e, a->past.n,
                      b->tombstone, (int64_t)b->expire, b->val, b->vlen, b->past.e, b->past.n);
}

/* Merging y into x changes nothing: x's seen covers y's, and every version
 * of y is covered by it or is in x with a copy no greater. */
static int lightAbsorbs(const lightRecord *x, const lightRecord *y) {
    if (!lightLeq(&y->seen, &x->seen)) return 0;
    for (int i = 0; i < y->n; i++) {
        const lightVersion *v = &y->v[i];
        if (lightGet(&x->seen, v->actor) >= v->counter) continue;
        int found = 0;
        for (int j = 0; j < x->n && !found; j++)
            if (x->v[j].actor == v->actor && x->v[j].counter == v->counter) {
                if (lightPayloadCmp(v, &x->v[j]) > 0) return 0;
                found = 1;
            }
        if (!found) return 0;
    }
    return 1;
}

/* The last operand, canonical, absorbs the base and every other operand:
 * the merge is that operand's bytes. */
static int lastAbsorbsAll(const char *base, size_t blen, const char *const *ops,
                          const size_t *lens, int n) {
    if (n < 1) return 0;
    lightRecord x, y;
    if (lightParse(ops[n - 1], lens[n - 1], &x) != C_OK || !x.canonical) return 0;
    if (base && (lightParse(base, blen, &y) != C_OK || !lightAbsorbs(&x, &y))) return 0;
    for (int i = 0; i < n - 1; i++)
        if (lightParse(ops[i], lens[i], &y) != C_OK || !lightAbsorbs(&x, &y)) return 0;
    return 1;
}

int recordMergeEncoded(const char *base, size_t blen, const char *const *ops,
                       const size_t *lens, int n, buf *out) {
    if (lastAbsorbsAll(base, blen, ops, lens, n)) {
        bufClear(out);
        bufAppend(out, ops[n - 1], lens[n - 1]);
        return 0;
    }
    record acc, one;
    recordInit(&acc);
    recordInit(&one);
    int bad = 0;
    if (base && recordDecode(&acc, base, blen) != C_OK) bad++;
    for (int i = 0; i < n; i++) {
        record *into = acc.n || acc.seen.n || acc.ctr ? &one : &acc; /* the first straight in */
        if (recordDecode(into, ops[i], lens[i]) != C_OK) {
            bad++;
            continue;
        }
        if (into == &one) recordMerge(&acc, &one, 0);
    }
    bufClear(out);
    recordEncode(&acc, out);
    recordFree(&acc);
    recordFree(&one);
    return bad;
}

uint64_t recordDigest(const record *r) {
    if (r->n == 0 && r->seen.n == 0 && counterEmpty(r->ctr)) return 0;
    buf b;
    bufInit(&b);
    recordEncode(r, &b);
    uint64_t d = XXH3_64bits(b.ptr, b.len);
    bufFree(&b);
    return d ? d : 1;
}

uint64_t recordDigestRaw(const char *enc, size_t len) {
    if (!enc || len == 0) return 0;
    uint64_t d = XXH3_64bits(enc, len);
    return d ? d : 1;
}

void recordFormat(const record *r, long long now_ms, buf *out) {
    for (int i = 0; i < r->n; i++) {
        const version *v = &r->v[i];
        bufPrintf(out, "%sdot=%016llx:%llu.%llu past=[", i ? "\n" : "",
                  (unsigned long long)v->actor, (unsigned long long)hlcPhysicalMs(v->counter),
                  (unsigned long long)(v->counter & ((1u << HLC_LOGICAL_BITS) - 1)));
        vclockFormat(&v->past, out);
        bufPrintf(out, "]%s", v->tombstone ? " tombstone" : "");
        if (v->expire)
            bufPrintf(out, " expire=%lld%s", (long long)v->expire,
                      v->expire < now_ms ? " expired" : "");
    }
}

/* --------------------------------------------------------------- context */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void contextEncode(const vclock *vc, buf *out) {
    buf raw;
    bufInit(&raw);
    vclockEncode(vc, &raw);
    const unsigned char *p = (const unsigned char *)raw.ptr;
    for (size_t i = 0; i < raw.len; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16;
        size_t left = raw.len - i;
        if (left > 1) x |= (uint32_t)p[i + 1] << 8;
        if (left > 2) x |= p[i + 2];
        char c[4] = {b64[(x >> 18) & 63], b64[(x >> 12) & 63], b64[(x >> 6) & 63], b64[x & 63]};
        bufAppend(out, c, left > 2 ? 4 : left + 1);
    }
    bufFree(&raw);
}

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

int contextDecode(vclock *vc, const char *s, size_t len) {
    if (len % 4 == 1 || len > 1 << 20) return C_ERR;
    buf raw;
    bufInit(&raw);
    for (size_t i = 0; i < len; i += 4) {
        size_t left = len - i < 4 ? len - i : 4;
        uint32_t x = 0;
        for (size_t j = 0; j < 4; j++) {
            int v = 0;
            if (j < left && (v = b64val((unsigned char)s[i + j])) < 0) {
                bufFree(&raw);
                return C_ERR;
            }
            x = (x << 6) | (uint32_t)v;
        }
        unsigned char o[3] = {(unsigned char)(x >> 16), (unsigned char)(x >> 8),
                              (unsigned char)x};
        bufAppend(&raw, o, left - 1);
    }
    long used = raw.len ? vclockDecode(vc, (unsigned char *)raw.ptr, raw.len) : -1;
    int ok = used >= 0 && (size_t)used == raw.len;
    bufFree(&raw);
    return ok ? C_OK : C_ERR;
}
