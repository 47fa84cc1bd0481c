/* merkle.c -- hash trees for anti-entropy. See merkle.h. */
#include "merkle.h"

#include <string.h>
#include <xxhash.h>

#include "vclock.h" /* varints */

uint64_t merkleEntry(const char *skey, size_t sklen, const char *rec, size_t rlen) {
    if (!rec) return 0;
    uint64_t e = XXH3_64bits_withSeed(rec, rlen, XXH3_64bits(skey, sklen));
    return e ? e : 1; /* 0 means "no record" */
}

uint64_t merkleRoot(const merkle *m) { return XXH3_64bits(m->leaf, sizeof(m->leaf)); }

int merkleDiffLeaves(const uint64_t *a, const uint64_t *b, unsigned *out) {
    int n = 0;
    for (unsigned i = 0; i < MERKLE_LEAVES; i++)
        if (a[i] != b[i]) out[n++] = i;
    return n;
}

void merkleKeyListAdd(buf *out, const char *skey, size_t sklen, uint64_t entry) {
    varintPut(out, sklen);
    bufAppend(out, skey, sklen);
    unsigned char e[8];
    for (int i = 0; i < 8; i++) e[i] = (unsigned char)(entry >> (8 * i));
    bufAppend(out, e, 8);
}

long merkleKeyListDecode(const char *data, size_t len, merkleKey **keys) {
    const unsigned char *p = (const unsigned char *)data;
    size_t off = 0;
    long n = 0, cap = 0;
    merkleKey *k = NULL;
    while (off < len) {
        uint64_t kl;
        long u = varintGet(p + off, len - off, &kl);
        if (u < 0 || kl > len - off - (size_t)u || len - off - (size_t)u - kl < 8) {
            zfree(k);
            *keys = NULL;
            return -1;
        }
        off += (size_t)u;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            k = zrealloc(k, sizeof(merkleKey) * (size_t)cap);
        }
        k[n].skey = data + off;
        k[n].sklen = (size_t)kl;
        off += (size_t)kl;
        uint64_t e = 0;
        for (int i = 7; i >= 0; i--) e = (e << 8) | p[off + (size_t)i];
        off += 8;
        k[n].entry = e;
        n++;
    }
    *keys = k;
    return n;
}

static int keyCmp(const merkleKey *a, const merkleKey *b) {
    size_t l = a->sklen < b->sklen ? a->sklen : b->sklen;
    int c = memcmp(a->skey, b->skey, l);
    if (c) return c;
    return a->sklen < b->sklen ? -1 : a->sklen > b->sklen ? 1 : 0;
}

void merkleDiffKeys(const merkleKey *a, long na, const merkleKey *b, long nb, merkleDiffFn *fn,
                    void *pd) {
    long i = 0, j = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : keyCmp(&a[i], &b[j]);
        if (c < 0) {
            fn(&a[i++], NULL, pd);
        } else if (c > 0) {
            fn(NULL, &b[j++], pd);
        } else {
            if (a[i].entry != b[j].entry) fn(&a[i], &b[j], pd);
            i++;
            j++;
        }
    }
}
