/* collstore.c -- this node's copy of collection keys. See collstore.h.
 *
 * Reads come from the store (its uncommitted batch included), writes are
 * merge operands (db.c's dbApplyRaw): a replica never reads before it
 * writes. */
#include "collstore.h"

#include <string.h>

#include "collbatch.h"
#include "collkey.h"
#include "merkle.h"
#include "server.h"
#include "types/field.h"
#include "types/keymeta.h"
#include "types/zset.h"

static void putBytes(buf *out, const char *p, size_t len) {
    tcPutVarint(out, len);
    if (len) bufAppend(out, p, len);
}

/* Reads the key of kind (no element) into out as a length-prefixed value. */
static int putStored(buf *out, buf *sk, int kind, int db, const char *key, size_t klen) {
    storeValue v;
    collKeyEncode(sk, server.qbits, kind, db, key, klen, NULL, 0);
    int found = storeGet(CF_DATA, sk->ptr, sk->len, &v);
    if (found < 0) return C_ERR;
    putBytes(out, found ? v.ptr : NULL, found ? v.len : 0);
    if (found) storeValueFree(&v);
    return C_OK;
}

static void putElem(buf *out, int named, const char *elem, size_t elen, const char *st,
                    size_t slen) {
    tcPutU8(out, (uint8_t)named);
    putBytes(out, elem, elen);
    putBytes(out, st, slen);
}

static int isNamed(const char *e, size_t elen, const char *const *names, const size_t *lens, int n) {
    for (int i = 0; i < n; i++)
        if (lens[i] == elen && !memcmp(names[i], e, elen)) return 1;
    return 0;
}

/* The storage order of two element names (bytewise, a prefix first). */
static int bytesCmp(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

/* COLL_READ_SAMPLE: COLL_PROBE elements live here, drawn at random from
 * the first SAMPLE_SCAN live ones at or after start in the element order
 * (wrapping around to the first): uniform over a set of up to SAMPLE_SCAN,
 * and over a stretch of that many around a random point beyond. start's
 * bytes also seed the draw. */
#define SAMPLE_SCAN 128

typedef struct sampleSlot {
    buf name, state;
} sampleSlot;

static int sampleElems(int db, const char *key, size_t klen, const char *meta, size_t mlen,
                       int mfound, const char *start, size_t slen, buf *els, uint64_t *count,
                       int *flags) {
    keymeta m;
    keymetaInit(&m);
    causalRemoval kr = {NULL, 0};
    if (mfound && keymetaDecode(&m, meta, mlen) == C_OK) keymetaRemoval(&m, serverNowMs(), &kr);
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < slen; i++) rng = (rng ^ (unsigned char)start[i]) * 0x100000001b3ULL;
    field f;
    fieldInit(&f);
    sampleSlot res[COLL_PROBE];
    for (int i = 0; i < COLL_PROBE; i++) {
        bufInit(&res[i].name);
        bufInit(&res[i].state);
    }
    buf sk, from;
    bufInit(&sk);
    bufInit(&from);
    collKeyElemPrefix(&sk, server.qbits, db, key, klen);
    bufAppend(&from, sk.ptr, sk.len);
    bufAppend(&from, start, slen);
    int seen = 0, wrapped = 0, whole = 0;
    storeIter *it = storeIterCreate(CF_DATA);
    storeIterSeek(it, from.ptr, from.len);
    while (seen < SAMPLE_SCAN) {
        size_t kl, vl;
        const char *k = storeIterValid(it) ? storeIterKey(it, &kl) : NULL;
        int in = k && kl >= sk.len && !memcmp(k, sk.ptr, sk.len);
        /* back at the start after wrapping: the whole set was seen */
        if (in && wrapped && bytesCmp(k + sk.len, kl - sk.len, start, slen) >= 0) {
            whole = 1;
            break;
        }
        if (!in) {
            if (wrapped) {
                whole = 1;
                break;
            }
            wrapped = 1;
            storeIterSeek(it, sk.ptr, sk.len);
            continue;
        }
        const char *v = storeIterValue(it, &vl);
        if (fieldDecode(&f, v, vl) == C_OK && fieldLive(&f, &kr)) {
            /* reservoir: the seen-th live element replaces a kept one with
             * probability COLL_PROBE / (seen + 1) */
            int slot = seen;
            if (seen >= COLL_PROBE) {
                rng ^= rng >> 12;
                rng ^= rng << 25;
                rng ^= rng >> 27;
                slot = (int)((rng * 0x2545f4914f6cdd1dULL) % (uint64_t)(seen + 1));
            }
            if (slot < COLL_PROBE) {
                bufClear(&res[slot].name);
                bufClear(&res[slot].state);
                bufAppend(&res[slot].name, k + sk.len, kl - sk.len);
                bufAppend(&res[slot].state, v, vl);
            }
            seen++;
        }
        storeIterNext(it);
    }
    storeIterFree(it);
    for (int i = 0; i < COLL_PROBE && i < seen; i++) {
        putElem(els, 0, res[i].name.ptr ? res[i].name.ptr : "", res[i].name.len, res[i].state.ptr,
                res[i].state.len);
        (*count)++;
    }
    for (int i = 0; i < COLL_PROBE; i++) {
        bufFree(&res[i].name);
        bufFree(&res[i].state);
    }
    if (whole) *flags |= COLL_ANS_COMPLETE;
    fieldFree(&f);
    keymetaFree(&m);
    bufFree(&sk);
    bufFree(&from);
    return C_OK;
}

/* COLL_READ_RANGE: the live members (through this node's own removal of
 * the key) in the score index's order, as q asks: up to q->limit of them
 * (0: all in range). Complete when the range ran out here. Index entries
 * that no longer match their element, or whose element a DEL or a fired
 * expiry removed (only a new write brings it back, and puts its entry
 * back), are removed on the way (db.c keeps the index; these deletions are
 * derived state, never replicated). Past the limit the walk looks a little
 * further (RANGE_PEEK entries) for another live member, so that a pop of
 * the last members can tell the key is now empty. */
#define RANGE_PEEK 64

/* Entries to remove met in a row are removed with one range deletion once
 * there are this many (a DEL of a large set leaves a run of them): the
 * iterators of later walks skip a range tombstone at once, where they step
 * over point tombstones one by one (measured: a reverse walk over 20,000 of
 * them took 40 ms per replica until compaction dropped them). */
#define RANGE_RUN 32

typedef struct deadRun {
    buf keys[RANGE_RUN]; /* the run's first entries (point deletions if it stays short) */
    int n;               /* entries in the run */
    buf lo, hi;          /* the run's smallest and largest entry, once it is long */
} deadRun;

/* Removes the run's entries (one range deletion if it is long) and empties it. */
static void deadRunEnd(deadRun *d) {
    if (d->n > RANGE_RUN) {
        bufAppend(&d->hi, "", 1); /* (the range's end is exclusive: just past hi) */
        storeDeleteRange(CF_ZINDEX, d->lo.ptr, d->lo.len, d->hi.ptr, d->hi.len);
    } else {
        for (int i = 0; i < d->n; i++) storeDelete(CF_ZINDEX, d->keys[i].ptr, d->keys[i].len);
    }
    d->n = 0;
    bufClear(&d->lo);
    bufClear(&d->hi);
}

/* One more entry to remove, met in walk order (rev: downwards). */
static void deadRunAdd(deadRun *d, const char *k, size_t kl, int rev) {
    if (d->n < RANGE_RUN) {
        bufClear(&d->keys[d->n]);
        bufAppend(&d->keys[d->n], k, kl);
    } else {
        if (d->n == RANGE_RUN) { /* long now: its ends, from the first entry kept */
            buf *first = &d->keys[0];
            bufAppend(rev ? &d->hi : &d->lo, first->ptr, first->len);
        }
        buf *end = rev ? &d->lo : &d->hi;
        bufClear(end);
        bufAppend(end, k, kl);
    }
    d->n++;
}

static int rangeElems(int db, const char *key, size_t klen, const char *meta, size_t mlen,
                      int mfound, const char *qp, size_t qlen, buf *els, uint64_t *count,
                      int *flags) {
    collRange q;
    if (collRangeDecode(&q, qp, qlen) != C_OK) return C_ERR;
    keymeta m;
    keymetaInit(&m);
    causalRemoval kr = {NULL, 0}, gone = {NULL, 0};
    if (mfound && keymetaDecode(&m, meta, mlen) == C_OK) {
        keymetaRemoval(&m, serverNowMs(), &kr);
        /* what DELs and fired expiries removed stays removed; an expiry that
         * has passed but not fired may still be replaced (a concurrent
         * PERSIST): only members the first removes lose their entries */
        keymetaRemoval(&m, 0, &gone);
    }
    buf pre, seek, ek;
    bufInit(&pre);
    bufInit(&seek);
    bufInit(&ek);
    collKeyZindexPrefix(&pre, server.qbits, db, key, klen);
    bufAppend(&seek, pre.ptr, pre.len);
    uint64_t from = 0;
    int bounded = q.rev ? q.hasmax : q.hasmin;
    if (q.rev) from = bounded ? collScoreBits(q.max) + 1 : UINT64_MAX;
    else if (bounded) from = collScoreBits(q.min);
    unsigned char b8[8];
    for (int i = 0; i < 8; i++) b8[i] = (unsigned char)(from >> (56 - 8 * i));
    if (q.rev || bounded) bufAppend(&seek, b8, 8);
    /* where this node knows the live entries begin (end): a walk from an
     * end starts there, past what earlier walks found gone (db.h) */
    buf hint;
    bufInit(&hint);
    if (dbZindexHint(pre.ptr, pre.len, q.rev, &hint) &&
        (q.rev ? bytesCmp(hint.ptr, hint.len, seek.ptr, seek.len) < 0
               : bytesCmp(hint.ptr, hint.len, seek.ptr, seek.len) > 0)) {
        bufClear(&seek);
        bufAppend(&seek, hint.ptr, hint.len);
    }
    buf keep; /* the first entry the walk kept (live, or dead for now only) */
    bufInit(&keep);
    int ranout = 0; /* the walk ran past the key's last entry */
    storeIter *it = storeIterCreate(CF_ZINDEX);
    if (q.rev) storeIterSeekForPrev(it, seek.ptr, seek.len);
    else storeIterSeek(it, seek.ptr, seek.len);
    field f;
    fieldInit(&f);
    deadRun dead;
    memset(&dead, 0, sizeof(dead));
    int complete = 1, peek = -1; /* peek: entries looked at past the limit */
    for (;; q.rev ? storeIterPrev(it) : storeIterNext(it)) {
        if (!storeIterValid(it)) {
            ranout = 1;
            break;
        }
        size_t kl;
        const char *k = storeIterKey(it, &kl);
        if (kl < pre.len || memcmp(k, pre.ptr, pre.len) != 0) {
            ranout = 1;
            break;
        }
        if (kl < pre.len + 8) {
            deadRunAdd(&dead, k, kl, q.rev);
            continue;
        }
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = (u << 8) | (unsigned char)k[pre.len + i];
        double score = collScoreFromBits(u);
        int past;
        if (!collRangeHas(&q, score, &past)) {
            if (past) break;
            deadRunEnd(&dead); /* a run covers only entries looked at */
            continue;
        }
        if (peek >= 0 && ++peek > RANGE_PEEK) {
            complete = 0; /* gave up looking: maybe more */
            break;
        }
        const char *e = k + pre.len + 8;
        size_t elen = kl - pre.len - 8;
        storeValue ev;
        collKeyEncode(&ek, server.qbits, COLLKEY_ELEM, db, key, klen, e, elen);
        int found = storeGet(CF_DATA, ek.ptr, ek.len, &ev);
        if (found < 0) {
            bufFree(&keep);
            bufFree(&hint);
            deadRunEnd(&dead);
            for (int i = 0; i < RANGE_RUN; i++) bufFree(&dead.keys[i]);
            bufFree(&dead.lo);
            bufFree(&dead.hi);
            storeIterFree(it);
            fieldFree(&f);
            keymetaFree(&m);
            bufFree(&pre);
            bufFree(&seek);
            bufFree(&ek);
            return C_ERR;
        }
        double now;
        if (!found || fieldDecode(&f, ev.ptr, ev.len) != C_OK || !f.scored ||
            !zsetScore(&f, NULL, &now) || collScoreBits(now) != u) {
            deadRunAdd(&dead, k, kl, q.rev); /* not this element's entry any more */
        } else if (!fieldLive(&f, &kr)) {
            /* dead for good until the member is written again, which puts
             * its entry back (db.c): a DEL of a large set costs one pass */
            if (!fieldLive(&f, &gone)) {
                deadRunAdd(&dead, k, kl, q.rev);
            } else { /* (kept: the run stops) */
                deadRunEnd(&dead);
                if (!keep.len) bufAppend(&keep, k, kl);
            }
        } else if (peek >= 0) {
            complete = 0; /* another live member lies beyond the limit */
            storeValueFree(&ev);
            break;
        } else {
            deadRunEnd(&dead);
            if (!keep.len) bufAppend(&keep, k, kl);
            putElem(els, 0, e, elen, ev.ptr, ev.len);
            (*count)++;
            if (q.limit && *count >= q.limit) peek = 0;
        }
        if (found) storeValueFree(&ev);
    }
    storeIterFree(it);
    deadRunEnd(&dead);
    for (int i = 0; i < RANGE_RUN; i++) bufFree(&dead.keys[i]);
    bufFree(&dead.lo);
    bufFree(&dead.hi);
    /* a walk from an end (no bound there) knows where the entries it kept
     * begin; one that kept none and ran out knows there are none: past the
     * last possible entry (lo), or the prefix itself (hi) */
    if (!bounded) {
        if (keep.len) {
            dbZindexHintSet(pre.ptr, pre.len, q.rev, keep.ptr, keep.len);
        } else if (ranout) {
            if (!q.rev)
                for (int i = 0; i < 9; i++) bufAppend(&pre, "\xff", 1);
            dbZindexHintSet(pre.ptr, q.rev ? pre.len - 0 : pre.len - 9, q.rev, pre.ptr, pre.len);
        }
    }
    bufFree(&keep);
    bufFree(&hint);
    if (complete) *flags |= COLL_ANS_COMPLETE;
    fieldFree(&f);
    keymetaFree(&m);
    bufFree(&pre);
    bufFree(&seek);
    bufFree(&ek);
    return C_OK;
}

/* COLL_READ_COUNT: the collection's figures here (db.c keeps them as it
 * writes elements), counted again from the elements when their count is
 * stale (the key's removal changed since: a DEL, an expiry that passed)
 * and stored back. */
static int countElems(int db, const char *key, size_t klen, const char *meta, size_t mlen,
                      int mfound, collStats *st) {
    keymeta m;
    keymetaInit(&m);
    if (mfound && keymetaDecode(&m, meta, mlen) != C_OK) keymetaClear(&m);
    causalRemoval now;
    keymetaRemoval(&m, serverNowMs(), &now);
    int ok = 0;
    buf sk;
    bufInit(&sk);
    uint64_t mark = collRemovalMark(&now);
    collKeyZindexPrefix(&sk, server.qbits, db, key, klen); /* (the stats key's bytes) */
    int found = dbCollStats(sk.ptr, sk.len, st);
    if (found < 0) goto done;
    if (found && st->mark == mark) {
        ok = 1;
        goto done;
    }
    /* stale: counted from the elements, and kept */
    buf pre;
    bufInit(&pre);
    collKeyElemPrefix(&pre, server.qbits, db, key, klen);
    field f;
    fieldInit(&f);
    *st = (collStats){0, mark, 0};
    storeIter *it = storeIterCreate(CF_DATA);
    for (storeIterSeek(it, pre.ptr, pre.len); storeIterValid(it); storeIterNext(it)) {
        size_t kl, vl;
        const char *k = storeIterKey(it, &kl);
        if (kl < pre.len || memcmp(k, pre.ptr, pre.len) != 0) break;
        const char *v = storeIterValue(it, &vl);
        st->digest ^= merkleEntry(k, kl, v, vl);
        if (fieldDecode(&f, v, vl) == C_OK && fieldLive(&f, &now)) st->count++;
    }
    storeIterFree(it);
    fieldFree(&f);
    bufFree(&pre);
    dbCollStatsPut(sk.ptr, sk.len, st);
    ok = 1;
done:
    bufFree(&sk);
    keymetaFree(&m);
    return ok;
}

int collStoreRead(int db, const char *key, size_t klen, int mode, const char *const *names,
                  const size_t *lens, int n, buf *out) {
    buf sk, els;
    bufInit(&sk);
    bufInit(&els);
    bufClear(out);
    int rc = C_ERR, flags = 0;
    uint64_t count = 0;
    storeValue mv = {NULL, 0};
    if (putStored(out, &sk, COLLKEY_RECORD, db, key, klen) != C_OK) goto done;
    collKeyEncode(&sk, server.qbits, COLLKEY_META, db, key, klen, NULL, 0);
    int mfound = storeGet(CF_DATA, sk.ptr, sk.len, &mv);
    if (mfound < 0) goto done;
    putBytes(out, mfound ? mv.ptr : NULL, mfound ? mv.len : 0);
    if (mode == COLL_READ_HLL) {
        if (putStored(out, &sk, COLLKEY_HLL, db, key, klen) != C_OK) goto done;
    } else {
        putBytes(out, NULL, 0);
    }
    if (mode == COLL_READ_NAMED || mode == COLL_READ_FIELDS) {
        for (int i = 0; i < n; i++) {
            storeValue ev;
            collKeyEncode(&sk, server.qbits, COLLKEY_ELEM, db, key, klen, names[i], lens[i]);
            int found = storeGet(CF_DATA, sk.ptr, sk.len, &ev);
            if (found < 0) goto done;
            if (!found) continue;
            putElem(&els, 1, names[i], lens[i], ev.ptr, ev.len);
            count++;
            storeValueFree(&ev);
        }
    }
    if (mode == COLL_READ_SAMPLE) {
        if (sampleElems(db, key, klen, mv.ptr, mfound ? mv.len : 0, mfound,
                        n > 0 ? names[0] : "", n > 0 ? lens[0] : 0, &els, &count,
                        &flags) != C_OK)
            goto done;
    }
    if (mode == COLL_READ_RANGE) {
        if (n < 1 || rangeElems(db, key, klen, mv.ptr, mfound ? mv.len : 0, mfound, names[0],
                                lens[0], &els, &count, &flags) != C_OK)
            goto done;
    }
    if (mode == COLL_READ_NAMED || mode == COLL_READ_ALL) {
        /* ALL: every element; NAMED: a probe for up to COLL_PROBE live ones
         * not named, read through this node's own removal */
        keymeta m;
        keymetaInit(&m);
        causalRemoval kr = {NULL, 0};
        if (mfound && keymetaDecode(&m, mv.ptr, mv.len) == C_OK)
            keymetaRemoval(&m, serverNowMs(), &kr);
        field f;
        fieldInit(&f);
        int extra = 0;
        flags |= COLL_ANS_COMPLETE;
        collKeyElemPrefix(&sk, server.qbits, db, key, klen);
        storeIter *it = storeIterCreate(CF_DATA);
        for (storeIterSeek(it, sk.ptr, sk.len); storeIterValid(it); storeIterNext(it)) {
            size_t kl, vl;
            const char *k = storeIterKey(it, &kl);
            if (kl < sk.len || memcmp(k, sk.ptr, sk.len) != 0) break;
            const char *v = storeIterValue(it, &vl);
            const char *e = k + sk.len;
            size_t elen = kl - sk.len;
            if (mode == COLL_READ_ALL) {
                putElem(&els, 0, e, elen, v, vl);
                count++;
                continue;
            }
            if (isNamed(e, elen, names, lens, n)) continue;
            if (fieldDecode(&f, v, vl) != C_OK || !fieldLive(&f, &kr)) continue;
            if (extra == COLL_PROBE) {
                flags &= ~COLL_ANS_COMPLETE;
                break;
            }
            putElem(&els, 0, e, elen, v, vl);
            count++;
            extra++;
            flags |= COLL_ANS_MORE;
        }
        storeIterFree(it);
        fieldFree(&f);
        keymetaFree(&m);
    }
    collStats st;
    if (mode == COLL_READ_COUNT &&
        countElems(db, key, klen, mv.ptr, mfound ? mv.len : 0, mfound, &st))
        flags |= COLL_ANS_STATS;
    tcPutU8(out, (uint8_t)flags);
    if (flags & COLL_ANS_STATS) {
        tcPutU64(out, st.count);
        tcPutU64(out, st.digest);
    }
    tcPutVarint(out, count);
    bufAppend(out, els.ptr, els.len);
    rc = C_OK;
done:
    if (mv.ptr) storeValueFree(&mv);
    bufFree(&sk);
    bufFree(&els);
    return rc;
}

int collStoreApply(int db, const char *key, size_t klen, const char *batch, size_t blen,
                   dbWriteCb *cb, void *pd) {
    tcReader rd;
    collEntry e;
    int r;
    /* check it all before anything goes into the write batch */
    tcReaderInit(&rd, batch, blen);
    while ((r = collBatchNext(&rd, &e)) == 1) {}
    if (r < 0) return C_ERR;
    buf sk;
    bufInit(&sk);
    tcReaderInit(&rd, batch, blen);
    while (collBatchNext(&rd, &e) == 1) {
        collKeyEncode(&sk, server.qbits, e.kind, db, key, klen, e.elem, e.elen);
        dbApplyRaw(sk.ptr, sk.len, e.state, e.slen, NULL, NULL);
    }
    bufFree(&sk);
    if (cb) storeAfterCommit(cb, pd);
    return C_OK;
}

int collStoreHasMeta(int db, const char *key, size_t klen) {
    buf sk;
    bufInit(&sk);
    collKeyEncode(&sk, server.qbits, COLLKEY_META, db, key, klen, NULL, 0);
    storeValue v;
    int found = storeGet(CF_DATA, sk.ptr, sk.len, &v);
    if (found > 0) storeValueFree(&v);
    bufFree(&sk);
    return found > 0;
}

int collAnswerInit(collAnswer *a, const char *p, size_t len) {
    uint64_t l;
    const unsigned char *b;
    uint8_t fl;
    memset(a, 0, sizeof(*a));
    tcReaderInit(&a->rd, p, len);
    tcVarint(&a->rd, &l);
    if (l > tcLeft(&a->rd)) return C_ERR;
    tcBytes(&a->rd, (size_t)l, &b);
    a->str = (const char *)b;
    a->strlen = (size_t)l;
    tcVarint(&a->rd, &l);
    if (l > tcLeft(&a->rd)) return C_ERR;
    tcBytes(&a->rd, (size_t)l, &b);
    a->meta = (const char *)b;
    a->metalen = (size_t)l;
    tcVarint(&a->rd, &l);
    if (l > tcLeft(&a->rd)) return C_ERR;
    tcBytes(&a->rd, (size_t)l, &b);
    a->sketch = (const char *)b;
    a->sketchlen = (size_t)l;
    tcU8(&a->rd, &fl);
    a->flags = fl;
    if (fl & COLL_ANS_STATS) {
        tcU64(&a->rd, &a->count);
        tcU64(&a->rd, &a->digest);
    }
    tcVarint(&a->rd, &a->n);
    return a->rd.err ? C_ERR : C_OK;
}

int collAnswerNext(collAnswer *a, int *named, const char **elem, size_t *elen, const char **state,
                   size_t *slen) {
    if (!a->rd.err && a->rd.off == a->rd.len) return 0;
    uint8_t nm;
    uint64_t l;
    const unsigned char *b;
    tcU8(&a->rd, &nm);
    tcVarint(&a->rd, &l);
    if (l > tcLeft(&a->rd)) return -1;
    tcBytes(&a->rd, (size_t)l, &b);
    *elem = (const char *)b;
    *elen = (size_t)l;
    tcVarint(&a->rd, &l);
    if (l > tcLeft(&a->rd)) return -1;
    tcBytes(&a->rd, (size_t)l, &b);
    *state = (const char *)b;
    *slen = (size_t)l;
    *named = nm;
    return a->rd.err ? -1 : 1;
}
