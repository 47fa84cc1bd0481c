/* collstore.c -- this node's copy of collection keys. See collstore.h.
 *
 * Reads come from the store (its uncommitted batch included), writes are
 * merge operands (db.c's dbApplyRaw): a replica never reads before it
 * writes. */
#include "collstore.h"

#include <string.h>

#include "collbatch.h"
#include "collkey.h"
#include "server.h"
#include "types/field.h"
#include "types/keymeta.h"

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
    tcPutU8(out, (uint8_t)flags);
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
