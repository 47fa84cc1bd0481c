/* dump.c -- key images and DUMP payloads. See dump.h.
 * Invariants: items[i]'s offsets lie within data; regs is set exactly when
 * type is KT_HLL. */
#include "dump.h"

#include <string.h>
#include <xxhash.h>

#include "types/hll.h"
#include "types/keymeta.h"
#include "types/tcodec.h"

void dumpImageInit(dumpImage *img, int type) {
    memset(img, 0, sizeof(*img));
    bufInit(&img->data);
    img->type = type;
    if (type == KT_HLL) img->regs = zcalloc(HLL_REGISTERS);
}

void dumpImageFree(dumpImage *img) {
    bufFree(&img->data);
    zfree(img->items);
    zfree(img->regs);
    memset(img, 0, sizeof(*img));
}

void dumpImageAdd(dumpImage *img, const char *name, size_t nlen, const char *val, size_t vlen,
                  double score) {
    if (img->n == img->cap) {
        img->cap = img->cap ? img->cap * 2 : 16;
        img->items = zrealloc(img->items, sizeof(dumpItem) * (size_t)img->cap);
    }
    dumpItem *it = &img->items[img->n++];
    it->off = img->data.len;
    it->len = nlen;
    if (nlen) bufAppend(&img->data, name, nlen);
    it->voff = img->data.len;
    it->vlen = vlen;
    if (vlen) bufAppend(&img->data, val, vlen);
    it->score = score;
}

const char *dumpItemName(const dumpImage *img, int i, size_t *len) {
    *len = img->items[i].len;
    return img->data.ptr ? img->data.ptr + img->items[i].off : "";
}

const char *dumpItemValue(const dumpImage *img, int i, size_t *len) {
    *len = img->items[i].vlen;
    return img->data.ptr ? img->data.ptr + img->items[i].voff : "";
}

static void putBytes(buf *out, const char *p, size_t len) {
    tcPutVarint(out, len);
    if (len) bufAppend(out, p, len);
}

void dumpEncode(const dumpImage *img, buf *out) {
    size_t start = out->len;
    tcPutU8(out, (uint8_t)img->type);
    size_t l;
    const char *p;
    if (img->type == KT_STRING) {
        l = 0;
        p = img->n ? dumpItemValue(img, 0, &l) : "";
        putBytes(out, p, l);
    } else if (img->type == KT_HLL) {
        uint64_t k = 0;
        for (int i = 0; i < HLL_REGISTERS; i++) k += img->regs[i] != 0;
        tcPutVarint(out, k);
        long prev = -1;
        for (long i = 0; i < HLL_REGISTERS; i++) {
            if (!img->regs[i]) continue;
            tcPutVarint(out, (uint64_t)(i - prev - 1));
            tcPutU8(out, img->regs[i]);
            prev = i;
        }
    } else {
        tcPutVarint(out, (uint64_t)img->n);
        for (int i = 0; i < img->n; i++) {
            p = dumpItemName(img, i, &l);
            putBytes(out, p, l);
            if (img->type == KT_HASH) {
                p = dumpItemValue(img, i, &l);
                putBytes(out, p, l);
            } else if (img->type == KT_ZSET) {
                tcPutDouble(out, img->items[i].score);
            }
        }
    }
    unsigned char foot[10];
    foot[0] = (unsigned char)(DUMP_VERSION & 0xff);
    foot[1] = (unsigned char)(DUMP_VERSION >> 8);
    bufAppend(out, foot, 2);
    uint64_t h = XXH3_64bits(out->ptr + start, out->len - start);
    for (int i = 0; i < 8; i++) foot[i] = (unsigned char)(h >> (8 * i));
    bufAppend(out, foot, 8);
}

static int readBytes(tcReader *rd, const unsigned char **p, uint64_t *len) {
    if (tcVarint(rd, len) != C_OK) return C_ERR;
    return tcBytes(rd, (size_t)*len, p);
}

int dumpDecode(dumpImage *img, const char *p, size_t len) {
    dumpImageInit(img, KT_STRING);
    if (len < 1 + 10) return DUMP_ERR_VERSION;
    const unsigned char *u = (const unsigned char *)p;
    size_t body = len - 10;
    unsigned ver = u[body] | ((unsigned)u[body + 1] << 8);
    uint64_t sum = 0;
    for (int i = 7; i >= 0; i--) sum = (sum << 8) | u[body + 2 + (size_t)i];
    if (ver != DUMP_VERSION || XXH3_64bits(p, len - 8) != sum) return DUMP_ERR_VERSION;

    tcReader rd;
    tcReaderInit(&rd, p, body);
    uint8_t type;
    if (tcU8(&rd, &type) != C_OK || type > KT_HLL) return DUMP_ERR_FORMAT;
    dumpImageFree(img);
    dumpImageInit(img, type);
    const unsigned char *a, *b;
    uint64_t al, bl, n;
    if (type == KT_STRING) {
        if (readBytes(&rd, &a, &al) != C_OK) goto bad;
        dumpImageAdd(img, NULL, 0, (const char *)a, al, 0);
    } else if (type == KT_HLL) {
        if (tcVarint(&rd, &n) != C_OK || n > HLL_REGISTERS) goto bad;
        uint64_t idx = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t gap;
            uint8_t rank;
            if (tcVarint(&rd, &gap) != C_OK || tcU8(&rd, &rank) != C_OK) goto bad;
            if (gap >= HLL_REGISTERS || rank == 0 || rank > HLL_MAX_RANK) goto bad;
            idx += gap;
            if (idx >= HLL_REGISTERS) goto bad;
            img->regs[idx++] = rank;
        }
    } else {
        /* each element takes at least a byte: a count above that is a lie */
        if (tcVarint(&rd, &n) != C_OK || n == 0 || n > tcLeft(&rd)) goto bad;
        for (uint64_t i = 0; i < n; i++) {
            double score = 0;
            bl = 0;
            b = NULL;
            if (readBytes(&rd, &a, &al) != C_OK) goto bad;
            if (type == KT_HASH && readBytes(&rd, &b, &bl) != C_OK) goto bad;
            if (type == KT_ZSET && tcDouble(&rd, &score) != C_OK) goto bad;
            dumpImageAdd(img, (const char *)a, al, (const char *)b, bl, score);
        }
    }
    if (tcDone(&rd) != C_OK) goto bad;
    return DUMP_OK;
bad:
    return DUMP_ERR_FORMAT;
}
