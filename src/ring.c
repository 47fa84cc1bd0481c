/* ring.c -- tokens, walks and bounded-load owner assignment. See ring.h.
 *
 * Determinism: members are processed in id order and ties on the ring are
 * broken by id, so the layout depends only on the set of members (ids, dcs,
 * racks, weights), not on the order a node happened to learn them.
 *
 * Assignment, per data-center entry of the replication spec:
 *   1. (first entry only) the preferred owner of each partition: the first
 *      member of the walk whose count of preferred partitions is below
 *      floor(fair share), then below ceil(fair share), then anyone;
 *   2. the other replicas: the first members of the walk not yet chosen
 *      that are on a rack not yet used by this partition and have room
 *      (floor, then ceil, then unbounded); then, if racks ran out, any
 *      member with room. */
#include "ring.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "util.h"

int ringSpecTotal(const ringDcSpec *spec, int nspec) {
    int t = 0;
    for (int i = 0; i < nspec; i++) t += spec[i].count;
    return t;
}

int ringParseReplication(const char *s, ringDcSpec *spec, int *nspec, char *err, size_t errlen) {
    int n = 0;
    const char *p = s;
    if (!*p) goto bad;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (n == RING_MAX_DCS) {
            snprintf(err, errlen, "at most %d data centers", RING_MAX_DCS);
            return -1;
        }
        long long c;
        if (colon) {
            size_t dl = (size_t)(colon - p);
            if (dl == 0 || dl >= RING_NAME_LEN) goto bad;
            memcpy(spec[n].dc, p, dl);
            spec[n].dc[dl] = '\0';
            if (!string2ll(colon + 1, len - dl - 1, &c)) goto bad;
        } else {
            if (n > 0 || end) goto bad; /* a bare count stands alone */
            spec[n].dc[0] = '\0';
            if (!string2ll(p, len, &c)) goto bad;
        }
        if (c < 1 || c > 64) goto bad;
        for (int i = 0; i < n; i++)
            if (!strcmp(spec[i].dc, spec[n].dc)) goto bad;
        spec[n].count = (int)c;
        n++;
        p += len;
        if (*p == ',') p++;
    }
    *nspec = n;
    return 0;
bad:
    snprintf(err, errlen, "replication must be a count (1-64) or dc:count,dc:count");
    return -1;
}

typedef struct token {
    uint64_t pos; /* place on the ring */
    int member;   /* canonical member index */
} token;

static const ringMember *sortBase;
static int byId(const void *a, const void *b) {
    return strcmp(sortBase[*(const int *)a].id, sortBase[*(const int *)b].id);
}
static int byPos(const void *a, const void *b) {
    const token *x = a, *y = b;
    if (x->pos != y->pos) return x->pos < y->pos ? -1 : 1;
    return x->member - y->member;
}

void ringFree(ring *r) {
    if (!r) return;
    zfree(r->replicas);
    zfree(r->walks);
    zfree(r);
}

/* Fair shares as floor/ceil caps for members of one data center. */
static long long capOf(double fair, int tier) {
    if (tier == 0) return (long long)floor(fair);
    if (tier == 1) return (long long)ceil(fair);
    return (long long)1 << 60;
}

ring *ringCreate(const ringMember *m, int n, int qbits, const ringDcSpec *spec, int nspec) {
    if (n < 0 || qbits < 1 || qbits > 24 || nspec < 1) return NULL;
    for (int i = 0; i < n; i++)
        if (!m[i].id || !m[i].dc || !m[i].rack || m[i].weight < 1) return NULL;
    ring *r = zcalloc(sizeof(*r));
    r->qbits = qbits;
    r->q = 1u << qbits;
    r->nmembers = n;

    /* canonical order: by id; canon[k] = input index of the k-th member */
    int *canon = zmalloc(sizeof(int) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) canon[i] = i;
    sortBase = m;
    qsort(canon, (size_t)n, sizeof(int), byId);

    /* tokens */
    size_t ntok = 0;
    for (int i = 0; i < n; i++) ntok += (size_t)m[i].weight;
    token *tok = zmalloc(sizeof(token) * (ntok ? ntok : 1));
    size_t t = 0;
    for (int k = 0; k < n; k++) {
        const ringMember *mm = &m[canon[k]];
        char b[256];
        for (int i = 0; i < mm->weight; i++) {
            int l = snprintf(b, sizeof(b), "%s#%d", mm->id, i);
            tok[t].pos = XXH3_64bits(b, (size_t)l);
            tok[t].member = k;
            t++;
        }
    }
    qsort(tok, ntok, sizeof(token), byPos);

    /* walks (canonical indexes for now) */
    r->walks = zmalloc(sizeof(int) * (size_t)r->q * (size_t)(n ? n : 1));
    char *seen = zmalloc((size_t)(n ? n : 1));
    for (unsigned p = 0; p < r->q && n > 0; p++) {
        uint64_t start = (uint64_t)p << (64 - qbits);
        size_t lo = 0, hi = ntok;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (tok[mid].pos < start) lo = mid + 1;
            else hi = mid;
        }
        memset(seen, 0, (size_t)n);
        int *w = r->walks + (size_t)p * (size_t)n;
        int got = 0;
        for (size_t k = 0; k < ntok && got < n; k++) {
            int mem = tok[(lo + k) % ntok].member;
            if (!seen[mem]) {
                seen[mem] = 1;
                w[got++] = mem;
            }
        }
    }

    /* how many replicas per spec entry */
    int *want = zcalloc(sizeof(int) * (size_t)nspec);
    int total = 0;
    for (int s = 0; s < nspec; s++) {
        int avail = 0;
        for (int k = 0; k < n; k++)
            if (!spec[s].dc[0] || !strcmp(m[canon[k]].dc, spec[s].dc)) avail++;
        want[s] = spec[s].count < avail ? spec[s].count : avail;
        total += want[s];
    }
    r->nreplicas = total;
    r->replicas = zmalloc(sizeof(int) * (size_t)r->q * (size_t)(total ? total : 1));
    int *chosen = zcalloc(sizeof(int) * (size_t)r->q * (size_t)(total ? total : 1));
    int *nchosen = zcalloc(sizeof(int) * (size_t)r->q);
    long long *load1 = zcalloc(sizeof(long long) * (size_t)(n ? n : 1));
    long long *loadN = zcalloc(sizeof(long long) * (size_t)(n ? n : 1));
    double *fair1 = zcalloc(sizeof(double) * (size_t)(n ? n : 1));
    double *fairN = zcalloc(sizeof(double) * (size_t)(n ? n : 1));

    int base = 0; /* where this entry's replicas start in a partition's list */
    for (int s = 0; s < nspec; s++) {
        if (want[s] == 0) continue;
        double wsum = 0;
        for (int k = 0; k < n; k++)
            if (!spec[s].dc[0] || !strcmp(m[canon[k]].dc, spec[s].dc)) wsum += m[canon[k]].weight;
        for (int k = 0; k < n; k++) {
            int in = !spec[s].dc[0] || !strcmp(m[canon[k]].dc, spec[s].dc);
            fair1[k] = in ? (double)r->q * m[canon[k]].weight / wsum : 0;
            fairN[k] = in ? (double)r->q * want[s] * m[canon[k]].weight / wsum : 0;
            if (fairN[k] > r->q) fairN[k] = r->q;
        }
#define ELIGIBLE(k) (!spec[s].dc[0] || !strcmp(m[canon[k]].dc, spec[s].dc))
#define CHOSEN(p) (chosen + (size_t)(p) * (size_t)total)
        if (s == 0) {
            for (int tier = 0; tier < 3; tier++) {
                for (unsigned p = 0; p < r->q; p++) {
                    if (nchosen[p] > 0) continue;
                    const int *w = r->walks + (size_t)p * (size_t)n;
                    for (int j = 0; j < n; j++) {
                        int k = w[j];
                        if (!ELIGIBLE(k) || load1[k] >= capOf(fair1[k], tier)) continue;
                        CHOSEN(p)[nchosen[p]++] = k;
                        load1[k]++;
                        loadN[k]++;
                        break;
                    }
                }
            }
        }
        for (int strict = 1; strict >= 0; strict--) {
            for (int tier = 0; tier < 3; tier++) {
                for (unsigned p = 0; p < r->q; p++) {
                    const int *w = r->walks + (size_t)p * (size_t)n;
                    for (int j = 0; j < n && nchosen[p] < base + want[s]; j++) {
                        int k = w[j];
                        if (!ELIGIBLE(k) || loadN[k] >= capOf(fairN[k], tier)) continue;
                        int dup = 0, samerack = 0;
                        for (int c = 0; c < nchosen[p]; c++) {
                            int o = CHOSEN(p)[c];
                            if (o == k) dup = 1;
                            if (c >= base && !strcmp(m[canon[o]].rack, m[canon[k]].rack))
                                samerack = 1;
                        }
                        if (dup || (strict && samerack)) continue;
                        CHOSEN(p)[nchosen[p]++] = k;
                        loadN[k]++;
                    }
                }
            }
        }
#undef ELIGIBLE
        base += want[s];
    }

    /* canonical -> input indexes, and the fingerprint */
    XXH3_state_t *hs = XXH3_createState();
    XXH3_64bits_reset(hs);
    XXH3_64bits_update(hs, &qbits, sizeof(qbits));
    for (unsigned p = 0; p < r->q; p++) {
        for (int c = 0; c < total; c++) {
            int k = CHOSEN(p)[c];
            r->replicas[(size_t)p * (size_t)total + (size_t)c] = canon[k];
            XXH3_64bits_update(hs, m[canon[k]].id, strlen(m[canon[k]].id) + 1);
        }
        int *w = r->walks + (size_t)p * (size_t)n;
        for (int j = 0; j < n; j++) w[j] = canon[w[j]];
    }
#undef CHOSEN
    r->hash = XXH3_64bits_digest(hs);
    XXH3_freeState(hs);

    zfree(fair1);
    zfree(fairN);
    zfree(load1);
    zfree(loadN);
    zfree(nchosen);
    zfree(chosen);
    zfree(want);
    zfree(seen);
    zfree(tok);
    zfree(canon);
    return r;
}
