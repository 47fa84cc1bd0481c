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

void recordInit(record *r) {
    r->n = 0;
    r->cap = 0;
    r->v = NULL;
}

void recordClear(record *r) {
    for (int i = 0; i < r->n; i++) versionFree(&r->v[i]);
    r->n = 0;
}

void recordFree(record *r) {
    recordClear(r);
    zfree(r->v);
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

int recordAdd(record *r, const version *v, int copyval) {
    int pos = r->n;
    for (int i = 0; i < r->n; i++) {
        version *e = &r->v[i];
        if (versionSameDot(e, v)) {
            /* The same version met twice. If one copy has been turned into
             * a tombstone by expiry, the tombstone wins so replicas agree. */
            if (v->tombstone && !e->tombstone) {
                versionCopy(e, v, copyval);
                return 1;
            }
            return 0;
        }
        if (versionObsoletes(e, v)) return 0;
    }
    for (int i = 0; i < r->n;) {
        if (versionObsoletes(v, &r->v[i])) removeAt(r, i);
        else i++;
    }
    for (pos = 0; pos < r->n && dotCmp(&r->v[pos], v) < 0; pos++)
        ;
    version *slot = insertAt(r, pos);
    versionCopy(slot, v, copyval);
    return 1;
}

int recordMerge(record *dst, const record *src, int copyval) {
    int changed = 0;
    for (int i = 0; i < src->n; i++) changed |= recordAdd(dst, &src->v[i], copyval);
    return changed;
}

int recordCapSiblings(record *r, int max) {
    int dropped = 0;
    if (max < 1) max = 1;
    while (r->n > max) {
        int oldest = 0;
        for (int i = 1; i < r->n; i++)
            if (r->v[i].counter < r->v[oldest].counter) oldest = i;
        removeAt(r, oldest);
        dropped++;
    }
    return dropped;
}

void recordContext(const record *r, vclock *out) {
    vclockClear(out);
    for (int i = 0; i < r->n; i++) {
        vclockMerge(out, &r->v[i].past);
        vclockRaise(out, r->v[i].actor, r->v[i].counter);
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

static void put64(buf *out, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    bufAppend(out, b, 8);
}

static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

void recordEncode(const record *r, buf *out) {
    unsigned char fmt = RECORD_FORMAT;
    bufAppend(out, &fmt, 1);
    varintPut(out, (uint64_t)r->n);
    for (int i = 0; i < r->n; i++) {
        const version *v = &r->v[i];
        unsigned char flags = (unsigned char)((v->tombstone ? VF_TOMBSTONE : 0) |
                                              (v->expire ? VF_EXPIRE : 0));
        bufAppend(out, &flags, 1);
        put64(out, v->actor);
        varintPut(out, v->counter);
        if (v->expire) varintPut(out, (uint64_t)v->expire);
        vclockEncode(&v->past, out);
        size_t vlen = v->tombstone ? 0 : v->vlen;
        varintPut(out, vlen);
        if (vlen) bufAppend(out, v->val, vlen);
    }
}

int recordDecode(record *r, const char *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    recordClear(r);
    if (len < 2 || p[0] != RECORD_FORMAT) return C_ERR;
    size_t off = 1;
    uint64_t n, x;
    long u = varintGet(p + off, len - off, &n);
    if (u < 0 || n > 1000000) return C_ERR;
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
    if (off != len) goto bad;
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

uint64_t recordDigest(const record *r) {
    if (r->n == 0) return 0;
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
