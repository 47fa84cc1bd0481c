/* collkey.c -- the storage keys of collections. See collkey.h. */
#include "collkey.h"

#include <string.h>

#include "record.h"
#include "types/tcodec.h"

static const unsigned char kindByte[] = {0x00, 0x80, 0xA0, 0xC0};

void collKeyEncode(buf *out, int qbits, int kind, int db, const char *key, size_t klen,
                   const char *elem, size_t elen) {
    unsigned char pre[KEY_PREFIX_LEN];
    keySlotPrefix(pre, keySlot(keyHash(db, key, klen), qbits), kindByte[kind] | db);
    bufClear(out);
    bufAppend(out, pre, KEY_PREFIX_LEN);
    if (kind == COLLKEY_ELEM) tcPutVarint(out, klen);
    bufAppend(out, key, klen);
    if (kind == COLLKEY_ELEM) bufAppend(out, elem, elen);
}

void collKeyElemPrefix(buf *out, int qbits, int db, const char *key, size_t klen) {
    collKeyEncode(out, qbits, COLLKEY_ELEM, db, key, klen, NULL, 0);
}

int collKeyKind(const char *skey, size_t len) {
    if (len < KEY_PREFIX_LEN) return -1;
    unsigned char b = (unsigned char)skey[3];
    if (b < 0x80) return COLLKEY_RECORD;
    switch (b & 0xF0) {
    case 0x80: return COLLKEY_META;
    case 0xA0: return COLLKEY_HLL;
    case 0xC0: return COLLKEY_ELEM;
    }
    return -1;
}

int collKeyDecode(const char *skey, size_t len, int *kind, int *db, const char **key,
                  size_t *klen, const char **elem, size_t *elen) {
    int k = collKeyKind(skey, len);
    if (k < 0) return C_ERR;
    *kind = k;
    *db = (unsigned char)skey[3] & 0x0F;
    if (k == COLLKEY_RECORD) *db = (unsigned char)skey[3];
    *elem = NULL;
    *elen = 0;
    if (k != COLLKEY_ELEM) {
        *key = skey + KEY_PREFIX_LEN;
        *klen = len - KEY_PREFIX_LEN;
        return C_OK;
    }
    tcReader rd;
    tcReaderInit(&rd, skey + KEY_PREFIX_LEN, len - KEY_PREFIX_LEN);
    uint64_t kl;
    if (tcVarint(&rd, &kl) != C_OK || kl > tcLeft(&rd)) return C_ERR;
    *key = skey + KEY_PREFIX_LEN + rd.off;
    *klen = (size_t)kl;
    *elem = *key + kl;
    *elen = tcLeft(&rd) - (size_t)kl;
    return C_OK;
}

void collKeyZindexPrefix(buf *out, int qbits, int db, const char *key, size_t klen) {
    unsigned char pre[KEY_PREFIX_LEN];
    keySlotPrefix(pre, keySlot(keyHash(db, key, klen), qbits), db);
    bufClear(out);
    bufAppend(out, pre, KEY_PREFIX_LEN);
    tcPutVarint(out, klen);
    bufAppend(out, key, klen);
}

uint64_t collScoreBits(double d) {
    if (d == 0) d = 0.0; /* -0 */
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return (u >> 63) ? ~u : u | (1ULL << 63);
}

double collScoreFromBits(uint64_t u) {
    u = (u >> 63) ? u & ~(1ULL << 63) : ~u;
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

/* out := the element key's [slot][db][varint klen][key]; *elem, *elen its
 * element. */
static int elemPrefix(buf *out, const char *skey, size_t sklen, const char **elem, size_t *elen) {
    int kind, db;
    const char *key;
    size_t klen;
    if (collKeyDecode(skey, sklen, &kind, &db, &key, &klen, elem, elen) != C_OK ||
        kind != COLLKEY_ELEM)
        return C_ERR;
    bufClear(out);
    bufAppend(out, skey, KEY_PREFIX_LEN - 1); /* the slot */
    unsigned char d = (unsigned char)db;
    bufAppend(out, &d, 1);
    bufAppend(out, skey + KEY_PREFIX_LEN, (size_t)(key - skey) - KEY_PREFIX_LEN + klen);
    return C_OK;
}

int collKeyStatsOfElem(buf *out, const char *skey, size_t sklen) {
    const char *elem;
    size_t elen;
    return elemPrefix(out, skey, sklen, &elem, &elen);
}

int collKeyZindexOfElem(buf *out, const char *skey, size_t sklen, double score) {
    const char *elem;
    size_t elen;
    if (elemPrefix(out, skey, sklen, &elem, &elen) != C_OK) return C_ERR;
    uint64_t u = collScoreBits(score);
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(u >> (56 - 8 * i));
    bufAppend(out, b, 8);
    bufAppend(out, elem, elen);
    return C_OK;
}
