/* test_collkey.c -- where collections are stored (collkey.c) and the byte
 * formats of their writes (collbatch.c).
 *
 *   - every kind of storage key decodes back to what it encoded (kind, db,
 *     key, element), for empty, binary and long keys and elements, across
 *     the varint boundaries of the key length; a RECORD key is exactly
 *     keyEncode's; every kind of one key lies in the key's slot, and within
 *     it records < metadata < sketches < elements;
 *   - sorted as RocksDB sorts them, the element keys of one collection are
 *     contiguous, in element order (memcmp, shorter first), and start with
 *     collKeyElemPrefix, which no other collection's element key does, even
 *     for keys in the same slot that are prefixes of each other;
 *   - malformed storage keys are refused: too short, an unknown kind byte,
 *     a key length missing, too long, or not canonical;
 *   - a batch reads back entry for entry; a truncated batch, an unknown
 *     kind, an element on a non-element entry, trailing bytes, and a state
 *     that does not decode as its kind are refused (-1), so a replica never
 *     acknowledges what its merge would drop;
 *   - the score index: collScoreBits orders as the doubles do (infinities,
 *     zeros, subnormals, random bits) and reads back; -0 is stored as 0; a
 *     member's index entry is its key's prefix, the score, the member, so
 *     one key's entries sort by (score, member) as Redis orders them and
 *     never interleave with another key's of the same slot;
 *   - a score range's parameters read back, bad ones are refused, and
 *     collRangeHas says where a score lies for each direction;
 *   - collMergeEncoded joins each kind with that kind's merge (metadata,
 *     sketch, element, string record), equal to decoding and merging, with
 *     or without a base, idempotent, and counts (and leaves out) an operand
 *     of another kind. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collbatch.h"
#include "collkey.h"
#include "record.h"
#include "types/field.h"
#include "types/hll.h"
#include "types/keymeta.h"

/* --------------------------------------------------------------- helpers */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void) { /* xorshift64*: deterministic runs */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

/* n random bytes into p, from a small alphabet half the time (so that
 * shared prefixes and equal bytes are common). */
static void rndBytes(char *p, size_t n) {
    int small = rnd() & 1;
    for (size_t i = 0; i < n; i++) p[i] = small ? (char)("ab\0\xff"[rnd() % 4]) : (char)rnd();
}

/* memcmp order, shorter first on a common prefix: RocksDB's bytewise order. */
static int bytesCmp(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

static int startsWith(const buf *s, const buf *pre) {
    return s->len >= pre->len && memcmp(s->ptr, pre->ptr, pre->len) == 0;
}

static const int kinds[] = {COLLKEY_RECORD, COLLKEY_META, COLLKEY_HLL, COLLKEY_ELEM};

/* ---------------------------------------------------------- collkey.c */

static void checkRoundTrip(int qbits, int kind, int db, const char *key, size_t klen,
                           const char *elem, size_t elen) {
    buf s;
    bufInit(&s);
    collKeyEncode(&s, qbits, kind, db, key, klen, elem, elen);
    cr_assert_eq(collKeyKind(s.ptr, s.len), kind);
    int k2, db2;
    const char *key2, *elem2;
    size_t klen2, elen2;
    cr_assert_eq(collKeyDecode(s.ptr, s.len, &k2, &db2, &key2, &klen2, &elem2, &elen2), C_OK);
    cr_assert_eq(k2, kind);
    cr_assert_eq(db2, db);
    cr_assert_eq(klen2, klen);
    cr_assert(klen == 0 || memcmp(key2, key, klen) == 0);
    if (kind == COLLKEY_ELEM) {
        cr_assert_eq(elen2, elen);
        cr_assert(elen == 0 || memcmp(elem2, elem, elen) == 0);
    } else {
        cr_assert_null(elem2);
        cr_assert_eq(elen2, 0);
    }
    /* the slot is the key's, whatever the kind */
    unsigned slot;
    cr_assert_eq(keyDecode(s.ptr, s.len, &slot, NULL, NULL, NULL), C_OK);
    cr_assert_eq(slot, keySlot(keyHash(db, key, klen), qbits));
    if (kind == COLLKEY_RECORD) { /* a string's record key, byte for byte */
        buf r;
        bufInit(&r);
        keyEncode(&r, qbits, db, key, klen);
        cr_assert_eq(r.len, s.len);
        cr_assert(memcmp(r.ptr, s.ptr, s.len) == 0);
        bufFree(&r);
    }
    bufFree(&s);
}

Test(collkey, every_kind_decodes_to_what_it_encoded) {
    static const size_t klens[] = {0, 1, 5, 126, 127, 128, 129, 300, 16383, 16384, 70000};
    static const size_t elens[] = {0, 1, 3, 127, 128, 1000};
    static const int qbits[] = {1, 8, 10, 16};
    char *key = malloc(70000), *elem = malloc(1000);
    for (size_t q = 0; q < sizeof(qbits) / sizeof(qbits[0]); q++)
        for (size_t i = 0; i < sizeof(klens) / sizeof(klens[0]); i++)
            for (size_t j = 0; j < sizeof(elens) / sizeof(elens[0]); j++)
                for (int k = 0; k < 4; k++)
                    for (int db = 0; db < 16; db += 5) {
                        rndBytes(key, klens[i]);
                        rndBytes(elem, elens[j]);
                        checkRoundTrip(qbits[q], kinds[k], db, key, klens[i], elem, elens[j]);
                    }
    free(key);
    free(elem);
}

Test(collkey, one_key_s_kinds_share_its_slot_in_kind_order) {
    buf s[4];
    for (int k = 0; k < 4; k++) bufInit(&s[k]);
    for (int t = 0; t < 500; t++) {
        char key[40];
        size_t klen = rnd() % sizeof(key);
        rndBytes(key, klen);
        int db = (int)(rnd() % 16);
        for (int k = 0; k < 4; k++)
            collKeyEncode(&s[k], 8, kinds[k], db, key, klen, "e", 1);
        for (int k = 1; k < 4; k++) {
            cr_assert(memcmp(s[k].ptr, s[0].ptr, 3) == 0, "same slot bytes");
            cr_assert_lt((unsigned char)s[k - 1].ptr[3], (unsigned char)s[k].ptr[3]);
        }
        /* a collection's keys come after every db's string records */
        cr_assert_geq((unsigned char)s[1].ptr[3], 0x80);
    }
    for (int k = 0; k < 4; k++) bufFree(&s[k]);
}

/* A key of the same slot as base (qbits 1: 512 slots), found by trying
 * suffixes: keys that share bytes and slot, the case that could interleave. */
static size_t sameSlotKey(int db, const char *base, size_t blen, char *out, size_t outcap) {
    unsigned want = keySlot(keyHash(db, base, blen), 1);
    for (;;) {
        size_t extra = 1 + rnd() % 3;
        if (rnd() % 4 == 0) /* a total length of 127 or 128: the varint boundary */
            extra = (blen < 127 ? 127 - blen : 1) + (rnd() & 1);
        if (blen + extra > outcap) extra = outcap - blen;
        memcpy(out, base, blen);
        rndBytes(out + blen, extra);
        if (keySlot(keyHash(db, out, blen + extra), 1) == want) return blen + extra;
    }
}

typedef struct skey {
    buf s;   /* the storage key */
    int coll; /* which collection */
    int el;   /* which element of it */
} skey;

static int skeyCmp(const void *a, const void *b) {
    const skey *x = a, *y = b;
    return bytesCmp(x->s.ptr, x->s.len, y->s.ptr, y->s.len);
}

Test(collkey, element_keys_of_a_collection_are_contiguous_and_in_element_order) {
    enum { NCOLL = 24, NEL = 12 };
    char keys[NCOLL][200];
    size_t klens[NCOLL];
    char elems[NCOLL][NEL][8];
    size_t elens[NCOLL][NEL];
    int db = 3;
    /* collections in one slot whose keys are prefixes of each other, of
     * lengths on both sides of the one-byte varint limit, plus the empty
     * key and a key equal to another's key followed by an element */
    klens[0] = 1;
    keys[0][0] = 'a';
    for (int c = 1; c < NCOLL; c++) {
        int dup;
        do { /* a new key, not one already made */
            const int from = (int)(rnd() % (unsigned)c);
            klens[c] = sameSlotKey(db, keys[from], klens[from], keys[c], sizeof(keys[c]));
            dup = 0;
            for (int d = 0; d < c; d++)
                dup |= klens[d] == klens[c] && memcmp(keys[d], keys[c], klens[c]) == 0;
        } while (dup);
    }
    skey *all = calloc(NCOLL * NEL + NCOLL * 3, sizeof(skey));
    int n = 0;
    for (int c = 0; c < NCOLL; c++) {
        for (int e = 0; e < NEL; e++) {
            int dup;
            do { /* distinct elements, some empty, some prefixes of others */
                elens[c][e] = rnd() % 4;
                rndBytes(elems[c][e], elens[c][e]);
                dup = 0;
                for (int f = 0; f < e; f++)
                    dup |= elens[c][f] == elens[c][e] &&
                           memcmp(elems[c][f], elems[c][e], elens[c][e]) == 0;
            } while (dup);
            bufInit(&all[n].s);
            collKeyEncode(&all[n].s, 1, COLLKEY_ELEM, db, keys[c], klens[c], elems[c][e],
                          elens[c][e]);
            all[n].coll = c;
            all[n++].el = e;
        }
        for (int k = 0; k < 3; k++) { /* its other keys sort elsewhere */
            bufInit(&all[n].s);
            collKeyEncode(&all[n].s, 1, kinds[k], db, keys[c], klens[c], NULL, 0);
            all[n].coll = c;
            all[n++].el = -1;
        }
    }
    qsort(all, (size_t)n, sizeof(skey), skeyCmp);
    buf pre;
    bufInit(&pre);
    for (int c = 0; c < NCOLL; c++) {
        collKeyElemPrefix(&pre, 1, db, keys[c], klens[c]);
        int first = -1, last = -1;
        for (int i = 0; i < n; i++) {
            int mine = all[i].coll == c && all[i].el >= 0;
            cr_assert_eq(startsWith(&all[i].s, &pre), mine,
                         "collection %d's prefix %s element key %d", c,
                         mine ? "misses its" : "matches another's", i);
            if (!mine) continue;
            if (first < 0) first = i;
            last = i;
        }
        cr_assert_eq(last - first + 1, NEL, "collection %d's elements are contiguous", c);
        for (int i = first + 1; i <= last; i++) {
            int a = all[i - 1].el, b = all[i].el;
            cr_assert_lt(bytesCmp(elems[c][a], elens[c][a], elems[c][b], elens[c][b]), 0,
                         "collection %d's elements in element order", c);
        }
    }
    bufFree(&pre);
    for (int i = 0; i < n; i++) bufFree(&all[i].s);
    free(all);
}

static int decodes(const char *p, size_t len) {
    int kind, db;
    const char *key, *elem;
    size_t klen, elen;
    return collKeyDecode(p, len, &kind, &db, &key, &klen, &elem, &elen);
}

Test(collkey, malformed_keys_are_refused) {
    /* too short for the prefix */
    cr_assert_eq(collKeyKind("\x00\x01\x02", 3), -1);
    cr_assert_eq(decodes("\x00\x01\x02", 3), C_ERR);
    cr_assert_eq(decodes("", 0), C_ERR);
    /* kind bytes no kind uses (0x90.., 0xB0.., 0xD0.., 0xE0.., 0xF0..) */
    static const unsigned char bad[] = {0x90, 0x9F, 0xB0, 0xBF, 0xD0, 0xE0, 0xF0, 0xFF};
    for (size_t i = 0; i < sizeof(bad); i++) {
        char k[6] = {1, 2, 3, (char)bad[i], 'k', 'x'};
        cr_assert_eq(collKeyKind(k, sizeof(k)), -1, "kind byte %02x", bad[i]);
        cr_assert_eq(decodes(k, sizeof(k)), C_ERR);
    }
    /* an element key: the key length missing, beyond the end, or not
     * canonical (so one element cannot have two storage keys) */
    char e0[4] = {0, 0, 0, (char)0xC0};
    cr_assert_eq(decodes(e0, sizeof(e0)), C_ERR);
    char e1[7] = {0, 0, 0, (char)0xC0, 5, 'a', 'b'};
    cr_assert_eq(decodes(e1, sizeof(e1)), C_ERR);
    char e2[6] = {0, 0, 0, (char)0xC0, (char)0x80, (char)0x80}; /* unterminated */
    cr_assert_eq(decodes(e2, sizeof(e2)), C_ERR);
    char e3[8] = {0, 0, 0, (char)0xC3, (char)0x81, 0x00, 'k', 'e'}; /* 1 as two bytes */
    cr_assert_eq(decodes(e3, sizeof(e3)), C_ERR);
    char e4[16] = {0, 0, 0, (char)0xC0};
    memset(e4 + 4, 0xff, 12); /* more than 64 bits */
    cr_assert_eq(decodes(e4, sizeof(e4)), C_ERR);
    /* the edges that are well formed: an empty key, an empty element */
    char ok1[4] = {0, 0, 0, (char)0x85};
    cr_assert_eq(decodes(ok1, sizeof(ok1)), C_OK);
    char ok2[7] = {0, 0, 0, (char)0xC0, 2, 'k', 'k'};
    int kind, db;
    const char *key, *elem;
    size_t klen, elen;
    cr_assert_eq(collKeyDecode(ok2, sizeof(ok2), &kind, &db, &key, &klen, &elem, &elen), C_OK);
    cr_assert_eq(klen, 2);
    cr_assert_eq(elen, 0);
    char ok3[5] = {0, 0, 0, (char)0xC0, 0}; /* empty key, empty element */
    cr_assert_eq(collKeyDecode(ok3, sizeof(ok3), &kind, &db, &key, &klen, &elem, &elen), C_OK);
    cr_assert_eq(klen, 0);
    cr_assert_eq(elen, 0);
    /* a string record keeps its db byte as is */
    char rec[5] = {0, 0, 0, 15, 'k'};
    cr_assert_eq(collKeyDecode(rec, sizeof(rec), &kind, &db, &key, &klen, &elem, &elen), C_OK);
    cr_assert_eq(kind, COLLKEY_RECORD);
    cr_assert_eq(db, 15);
}

/* -------------------------------------------------------- collbatch.c */

#define ACTOR_A 0xA1A1A1A1A1A1A1A1ULL
#define ACTOR_B 0xB2B2B2B2B2B2B2B2ULL
#define T0 (((uint64_t)1700000000000ULL) << HLC_LOGICAL_BITS)

/* Encodings of small states of each kind, made by the deltas commands use. */
static void metaState(buf *out, uint64_t actor, uint64_t seq, int type) {
    keymeta m;
    keymetaInit(&m);
    keymetaDeltaWrite(&m, type, actor, seq);
    bufClear(out);
    keymetaEncode(&m, out);
    keymetaFree(&m);
}

static void hllState(buf *out, uint64_t actor, uint64_t seq, const char *e1, const char *e2) {
    hll obs, d;
    hllInit(&obs);
    hllInit(&d);
    const char *el[2] = {e1, e2};
    size_t lens[2] = {strlen(e1), strlen(e2)};
    cr_assert_eq(hllDeltaAdd(&d, &obs, NULL, actor, seq, el, lens, 2), 1);
    bufClear(out);
    hllEncode(&d, out);
    hllFree(&d);
    hllFree(&obs);
}

static void fieldState(buf *out, uint64_t actor, uint64_t seq, const char *val) {
    field obs, d;
    fieldInit(&obs);
    fieldInit(&d);
    fieldDeltaAssign(&d, &obs, actor, seq, val, strlen(val));
    bufClear(out);
    fieldEncode(&d, out);
    fieldFree(&d);
    fieldFree(&obs);
}

static void recordState(buf *out, uint64_t actor, uint64_t seq, const char *val) {
    record r;
    recordInit(&r);
    version v;
    versionInit(&v);
    v.actor = actor;
    v.counter = seq;
    v.val = val;
    v.vlen = strlen(val);
    recordAdd(&r, &v, 1);
    versionFree(&v);
    bufClear(out);
    recordEncode(&r, out);
    recordFree(&r);
}

typedef struct entrySpec {
    int kind;
    const char *elem;
    size_t elen;
    buf state;
} entrySpec;

/* A batch of a few entries of every kind; returns how many. */
static int buildBatch(buf *b, entrySpec *spec) {
    int n = 0;
    bufClear(b);
    for (int i = 0; i < 6; i++) bufInit(&spec[i].state);
    spec[n].kind = COLLKEY_META, spec[n].elem = "", spec[n].elen = 0;
    metaState(&spec[n++].state, ACTOR_A, T0 + 1, KT_SET);
    spec[n].kind = COLLKEY_ELEM, spec[n].elem = "member", spec[n].elen = 6;
    fieldState(&spec[n++].state, ACTOR_A, T0 + 1, "v");
    spec[n].kind = COLLKEY_ELEM, spec[n].elem = "", spec[n].elen = 0; /* the empty member */
    fieldState(&spec[n++].state, ACTOR_A, T0 + 1, "");
    spec[n].kind = COLLKEY_ELEM, spec[n].elem = "bin\0\r\n", spec[n].elen = 6;
    fieldState(&spec[n++].state, ACTOR_B, T0 + 2, "x");
    spec[n].kind = COLLKEY_HLL, spec[n].elem = "", spec[n].elen = 0;
    hllState(&spec[n++].state, ACTOR_A, T0 + 3, "a", "b");
    spec[n].kind = COLLKEY_META, spec[n].elem = "", spec[n].elen = 0;
    metaState(&spec[n++].state, ACTOR_B, T0 + 4, KT_HLL);
    for (int i = 0; i < n; i++)
        collBatchAppend(b, spec[i].kind, spec[i].elem, spec[i].elen, spec[i].state.ptr,
                        spec[i].state.len);
    return n;
}

static void freeSpec(entrySpec *spec, int n) {
    for (int i = 0; i < n; i++) bufFree(&spec[i].state);
}

/* Reads a whole batch: the number of entries, or -1 if it is refused. */
static int readAll(const char *p, size_t len) {
    tcReader rd;
    tcReaderInit(&rd, p, len);
    collEntry e;
    int n = 0, rc;
    while ((rc = collBatchNext(&rd, &e)) == 1) n++;
    return rc < 0 ? -1 : n;
}

Test(collbatch, a_batch_reads_back_entry_for_entry) {
    buf b;
    bufInit(&b);
    entrySpec spec[6];
    int n = buildBatch(&b, spec);
    tcReader rd;
    tcReaderInit(&rd, b.ptr, b.len);
    collEntry e;
    for (int i = 0; i < n; i++) {
        cr_assert_eq(collBatchNext(&rd, &e), 1, "entry %d", i);
        cr_assert_eq(e.kind, spec[i].kind);
        cr_assert_eq(e.elen, spec[i].elen);
        cr_assert(e.elen == 0 || memcmp(e.elem, spec[i].elem, e.elen) == 0);
        cr_assert_eq(e.slen, spec[i].state.len);
        cr_assert(memcmp(e.state, spec[i].state.ptr, e.slen) == 0);
    }
    cr_assert_eq(collBatchNext(&rd, &e), 0, "the end");
    cr_assert_eq(collBatchNext(&rd, &e), 0, "still the end");
    /* the empty batch has no entry */
    cr_assert_eq(readAll("", 0), 0);
    freeSpec(spec, n);
    bufFree(&b);
}

Test(collbatch, a_truncated_batch_is_refused) {
    buf b;
    bufInit(&b);
    entrySpec spec[6];
    int n = buildBatch(&b, spec);
    /* the offsets where an entry ends: a cut there is a shorter batch */
    size_t ends[6], off = 0;
    for (int i = 0; i < n; i++) {
        buf one;
        bufInit(&one);
        collBatchAppend(&one, spec[i].kind, spec[i].elem, spec[i].elen, spec[i].state.ptr,
                        spec[i].state.len);
        off += one.len;
        ends[i] = off;
        bufFree(&one);
    }
    cr_assert_eq(off, b.len);
    for (size_t cut = 1; cut < b.len; cut++) {
        /* exact-size copy: an over-read would show under valgrind/asan */
        char *p = malloc(cut);
        memcpy(p, b.ptr, cut);
        int whole = -1;
        for (int i = 0; i < n; i++)
            if (ends[i] == cut) whole = i + 1;
        cr_assert_eq(readAll(p, cut), whole, "cut at %zu", cut);
        free(p);
    }
    freeSpec(spec, n);
    bufFree(&b);
}

Test(collbatch, bad_entries_are_refused) {
    buf st, b;
    bufInit(&st);
    bufInit(&b);
    metaState(&st, ACTOR_A, T0 + 1, KT_HASH);
    /* unknown kinds: a string record is not a batch entry, nor is 4 or 255 */
    static const int badKinds[] = {COLLKEY_RECORD, 4, 255};
    for (size_t i = 0; i < 3; i++) {
        bufClear(&b);
        collBatchAppend(&b, badKinds[i], NULL, 0, st.ptr, st.len);
        cr_assert_eq(readAll(b.ptr, b.len), -1, "kind %d", badKinds[i]);
    }
    /* an element name on metadata or a sketch */
    bufClear(&b);
    collBatchAppend(&b, COLLKEY_META, "e", 1, st.ptr, st.len);
    cr_assert_eq(readAll(b.ptr, b.len), -1);
    buf h;
    bufInit(&h);
    hllState(&h, ACTOR_A, T0 + 1, "a", "b");
    bufClear(&b);
    collBatchAppend(&b, COLLKEY_HLL, "e", 1, h.ptr, h.len);
    cr_assert_eq(readAll(b.ptr, b.len), -1);
    /* trailing bytes after a good entry */
    bufClear(&b);
    collBatchAppend(&b, COLLKEY_META, NULL, 0, st.ptr, st.len);
    cr_assert_eq(readAll(b.ptr, b.len), 1);
    bufAppend(&b, "\x01", 1);
    cr_assert_eq(readAll(b.ptr, b.len), -1);
    /* element and state lengths beyond the end */
    cr_assert_eq(readAll("\x03\x05ab", 4), -1);
    cr_assert_eq(readAll("\x01\x00\x09\x01", 4), -1);
    bufFree(&h);
    bufFree(&st);
    bufFree(&b);
}

Test(collbatch, a_batch_with_a_malformed_state_is_refused) {
    buf meta, h, f, b;
    bufInit(&meta);
    bufInit(&h);
    bufInit(&f);
    bufInit(&b);
    metaState(&meta, ACTOR_A, T0 + 1, KT_SET);
    hllState(&h, ACTOR_A, T0 + 2, "x", "y");
    fieldState(&f, ACTOR_A, T0 + 3, "val");
    struct {
        int kind;
        const buf *st;
    } good[] = {{COLLKEY_META, &meta}, {COLLKEY_HLL, &h}, {COLLKEY_ELEM, &f}};
    for (int g = 0; g < 3; g++) {
        const char *elem = good[g].kind == COLLKEY_ELEM ? "m" : NULL;
        size_t elen = elem ? 1 : 0;
        /* each state under each other kind: does not decode as that kind */
        for (int o = 0; o < 3; o++) {
            if (o == g) continue;
            const char *oe = good[o].kind == COLLKEY_ELEM ? "m" : NULL;
            bufClear(&b);
            collBatchAppend(&b, COLLKEY_META, NULL, 0, meta.ptr, meta.len);
            collBatchAppend(&b, good[o].kind, oe, oe ? 1 : 0, good[g].st->ptr, good[g].st->len);
            cr_assert_eq(readAll(b.ptr, b.len), -1, "state of kind %d as kind %d",
                         good[g].kind, good[o].kind);
        }
        /* the state truncated, or with a byte appended, or its format byte
         * changed: the whole batch is refused, not just the entry */
        for (int damage = 0; damage < 3; damage++) {
            buf bad;
            bufInit(&bad);
            bufAppend(&bad, good[g].st->ptr, good[g].st->len);
            if (damage == 0) bad.len--;
            else if (damage == 1) bufAppend(&bad, "\x00", 1);
            else bad.ptr[0] = 0x7f;
            bufClear(&b);
            collBatchAppend(&b, COLLKEY_META, NULL, 0, meta.ptr, meta.len);
            collBatchAppend(&b, good[g].kind, elem, elen, bad.ptr, bad.len);
            cr_assert_eq(readAll(b.ptr, b.len), -1, "kind %d damage %d", good[g].kind, damage);
            bufFree(&bad);
        }
        /* and the good one is accepted */
        bufClear(&b);
        collBatchAppend(&b, good[g].kind, elem, elen, good[g].st->ptr, good[g].st->len);
        cr_assert_eq(readAll(b.ptr, b.len), 1);
    }
    bufFree(&meta);
    bufFree(&h);
    bufFree(&f);
    bufFree(&b);
}

/* The reference join of two encodings of kind: decode, merge, encode. */
static void refJoin(int kind, const buf *x, const buf *y, buf *out) {
    bufClear(out);
    switch (kind) {
    case COLLKEY_META: {
        keymeta a, c;
        keymetaInit(&a);
        keymetaInit(&c);
        cr_assert_eq(keymetaDecode(&a, x->ptr, x->len), C_OK);
        cr_assert_eq(keymetaDecode(&c, y->ptr, y->len), C_OK);
        keymetaMerge(&a, &c);
        keymetaEncode(&a, out);
        keymetaFree(&a);
        keymetaFree(&c);
        break;
    }
    case COLLKEY_HLL: {
        hll a, c;
        hllInit(&a);
        hllInit(&c);
        cr_assert_eq(hllDecode(&a, x->ptr, x->len), C_OK);
        cr_assert_eq(hllDecode(&c, y->ptr, y->len), C_OK);
        hllMerge(&a, &c);
        hllEncode(&a, out);
        hllFree(&a);
        hllFree(&c);
        break;
    }
    case COLLKEY_ELEM: {
        field a, c;
        fieldInit(&a);
        fieldInit(&c);
        cr_assert_eq(fieldDecode(&a, x->ptr, x->len), C_OK);
        cr_assert_eq(fieldDecode(&c, y->ptr, y->len), C_OK);
        fieldMerge(&a, &c);
        fieldEncode(&a, out);
        fieldFree(&a);
        fieldFree(&c);
        break;
    }
    default: {
        record a, c;
        recordInit(&a);
        recordInit(&c);
        cr_assert_eq(recordDecode(&a, x->ptr, x->len), C_OK);
        cr_assert_eq(recordDecode(&c, y->ptr, y->len), C_OK);
        recordMerge(&a, &c, 1);
        recordEncode(&a, out);
        recordFree(&a);
        recordFree(&c);
    }
    }
}

static void makeState(int kind, int which, buf *out) {
    uint64_t actor = which ? ACTOR_B : ACTOR_A, seq = T0 + 10 + (uint64_t)which;
    switch (kind) {
    case COLLKEY_META: metaState(out, actor, seq, which ? KT_ZSET : KT_SET); break;
    case COLLKEY_HLL: hllState(out, actor, seq, which ? "c" : "a", which ? "d" : "b"); break;
    case COLLKEY_ELEM: fieldState(out, actor, seq, which ? "two" : "one"); break;
    default: recordState(out, actor, seq, which ? "two" : "one");
    }
}

static void assertBufEq(const buf *a, const buf *b, const char *what, int kind) {
    cr_assert_eq(a->len, b->len, "%s (kind %d): %zu vs %zu bytes", what, kind, a->len, b->len);
    cr_assert(memcmp(a->ptr, b->ptr, a->len) == 0, "%s (kind %d)", what, kind);
}

Test(collbatch, merge_encoded_joins_each_kind_with_its_merge) {
    buf x, y, ref, got, got2;
    bufInit(&x);
    bufInit(&y);
    bufInit(&ref);
    bufInit(&got);
    bufInit(&got2);
    for (int k = 0; k < 4; k++) {
        int kind = kinds[k];
        makeState(kind, 0, &x);
        makeState(kind, 1, &y);
        refJoin(kind, &x, &y, &ref);
        cr_assert(ref.len != x.len || memcmp(ref.ptr, x.ptr, x.len) != 0,
                  "kind %d: the join differs from one side (the test means something)", kind);
        /* no base, two operands */
        const char *ops[2] = {x.ptr, y.ptr};
        size_t lens[2] = {x.len, y.len};
        cr_assert_eq(collMergeEncoded(kind, NULL, 0, ops, lens, 2, &got), 0);
        assertBufEq(&got, &ref, "ops x y", kind);
        /* base x, operand y; and the other order */
        cr_assert_eq(collMergeEncoded(kind, x.ptr, x.len, ops + 1, lens + 1, 1, &got), 0);
        assertBufEq(&got, &ref, "base x op y", kind);
        cr_assert_eq(collMergeEncoded(kind, y.ptr, y.len, ops, lens, 1, &got), 0);
        assertBufEq(&got, &ref, "base y op x", kind);
        /* idempotent: the join merged with its parts again is itself */
        const char *ops3[3] = {x.ptr, ref.ptr, y.ptr};
        size_t lens3[3] = {x.len, ref.len, y.len};
        cr_assert_eq(collMergeEncoded(kind, ref.ptr, ref.len, ops3, lens3, 3, &got), 0);
        assertBufEq(&got, &ref, "join again", kind);
        /* a base alone comes back canonical, out cleared first */
        bufAppend(&got2, "junk", 4);
        cr_assert_eq(collMergeEncoded(kind, x.ptr, x.len, NULL, NULL, 0, &got2), 0);
        assertBufEq(&got2, &x, "base alone", kind);
        bufClear(&got2);
    }
    bufFree(&x);
    bufFree(&y);
    bufFree(&ref);
    bufFree(&got);
    bufFree(&got2);
}

Test(collbatch, merge_encoded_leaves_out_and_counts_another_kind_s_state) {
    buf st[4], got;
    for (int k = 0; k < 4; k++) {
        bufInit(&st[k]);
        makeState(kinds[k], 0, &st[k]);
    }
    bufInit(&got);
    for (int k = 0; k < 4; k++) {
        for (int o = 0; o < 4; o++) {
            if (o == k) continue;
            /* st[k] is kind k's; st[o] given as kind k is malformed there */
            const char *ops[2] = {st[o].ptr, st[k].ptr};
            size_t lens[2] = {st[o].len, st[k].len};
            cr_assert_eq(collMergeEncoded(kinds[k], NULL, 0, ops, lens, 2, &got), 1,
                         "kind %d given kind %d's state", kinds[k], kinds[o]);
            assertBufEq(&got, &st[k], "the good operand alone", kinds[k]);
            /* as a base too */
            cr_assert_eq(collMergeEncoded(kinds[k], st[o].ptr, st[o].len, ops + 1, lens + 1, 1,
                                          &got), 1);
            assertBufEq(&got, &st[k], "the good operand over a bad base", kinds[k]);
        }
    }
    for (int k = 0; k < 4; k++) bufFree(&st[k]);
    bufFree(&got);
}

/* ------------------------------------------------------ the score index */

static double rndDouble(void) {
    static const double special[] = {0.0, -0.0, 1.0, -1.0, 1e-310, -1e-310, 1e308, -1e308,
                                     INFINITY, -INFINITY, 0.5, -0.5, 2.0, 3.0};
    if (rnd() % 3 == 0) return special[rnd() % (sizeof(special) / sizeof(special[0]))];
    double d;
    do {
        uint64_t u = rnd();
        memcpy(&d, &u, sizeof(d));
    } while (isnan(d));
    return d;
}

static void beBytes(uint64_t u, unsigned char *b) {
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(u >> (56 - 8 * i));
}

Test(collkey, score_bits_order_as_the_doubles_do_and_read_back) {
    for (int i = 0; i < 20000; i++) {
        double a = rndDouble(), b = rndDouble();
        unsigned char x[8], y[8];
        beBytes(collScoreBits(a), x);
        beBytes(collScoreBits(b), y);
        int c = memcmp(x, y, 8);
        if (a < b) cr_assert_lt(c, 0, "%g < %g", a, b);
        else if (a > b) cr_assert_gt(c, 0, "%g > %g", a, b);
        else cr_assert_eq(c, 0, "%g == %g", a, b); /* -0 and 0 too */
        double back = collScoreFromBits(collScoreBits(a));
        cr_assert(back == a && !signbit(back) == !(signbit(a) && a != 0), "%g", a);
    }
    cr_assert_eq(collScoreBits(-0.0), collScoreBits(0.0));
}

Test(collkey, index_entries_of_a_key_sort_by_score_then_member_and_stay_together) {
    enum { NKEY = 6, NMEM = 40 };
    int db = 2;
    char keys[NKEY][200];
    size_t klens[NKEY];
    klens[0] = 1;
    keys[0][0] = 'z';
    for (int c = 1; c < NKEY; c++) /* same slot, prefixes of each other */
        klens[c] = sameSlotKey(db, keys[c - 1], klens[c - 1], keys[c], sizeof(keys[c]));
    skey *all = calloc(NKEY * NMEM, sizeof(skey));
    double scores[NKEY * NMEM];
    char mems[NKEY * NMEM][4];
    size_t mlens[NKEY * NMEM];
    int n = 0;
    buf ek;
    bufInit(&ek);
    for (int c = 0; c < NKEY; c++)
        for (int m = 0; m < NMEM; m++, n++) {
            scores[n] = (double)(int)(rnd() % 5) - 2; /* ties on purpose */
            if (rnd() % 7 == 0) scores[n] = -0.0;
            mlens[n] = rnd() % 4;
            rndBytes(mems[n], mlens[n]);
            collKeyEncode(&ek, 1, COLLKEY_ELEM, db, keys[c], klens[c], mems[n], mlens[n]);
            bufInit(&all[n].s);
            cr_assert_eq(collKeyZindexOfElem(&all[n].s, ek.ptr, ek.len, scores[n]), C_OK);
            all[n].coll = c;
            all[n].el = n; /* (the index into scores and mems) */
        }
    /* not an element key: refused */
    collKeyEncode(&ek, 10, COLLKEY_META, db, keys[0], klens[0], NULL, 0);
    buf bad;
    bufInit(&bad);
    cr_assert_eq(collKeyZindexOfElem(&bad, ek.ptr, ek.len, 1.0), C_ERR);
    bufFree(&bad);
    qsort(all, (size_t)n, sizeof(skey), skeyCmp);
    for (int c = 0; c < NKEY; c++) {
        buf pre;
        bufInit(&pre);
        collKeyZindexPrefix(&pre, 1, db, keys[c], klens[c]);
        int first = -1, last = -1;
        for (int i = 0; i < n; i++) {
            if (all[i].coll != c) {
                /* no other key's entry starts with this key's prefix */
                cr_assert(!startsWith(&all[i].s, &pre));
                continue;
            }
            cr_assert(startsWith(&all[i].s, &pre));
            cr_assert_eq(all[i].s.len, pre.len + 8 + mlens[all[i].el]);
            if (first < 0) first = i;
            else cr_assert_eq(last, i - 1, "key %d's entries are contiguous", c);
            last = i;
            if (first != i) { /* (score, member) order, -0 as 0 */
                int p = all[i - 1].el, q = all[i].el;
                double sp = scores[p], sq = scores[q];
                cr_assert(sp < sq || (sp == sq && bytesCmp(mems[p], mlens[p], mems[q], mlens[q]) <= 0));
            }
        }
        bufFree(&pre);
    }
    for (int i = 0; i < n; i++) bufFree(&all[i].s);
    free(all);
    bufFree(&ek);
}

Test(collbatch, a_score_range_reads_back_and_bad_ones_are_refused) {
    collRange q = {.rev = 1, .hasmin = 1, .hasmax = 1, .minex = 1, .maxex = 0,
                   .min = -INFINITY, .max = 2.5, .limit = 300};
    buf b;
    bufInit(&b);
    collRangeEncode(&q, &b);
    collRange r;
    cr_assert_eq(collRangeDecode(&r, b.ptr, b.len), C_OK);
    cr_assert(r.rev && r.hasmin && r.hasmax && r.minex && !r.maxex);
    cr_assert(r.min == -INFINITY && r.max == 2.5 && r.limit == 300);
    collRange none = {0};
    collRangeEncode(&none, &b);
    cr_assert_eq(collRangeDecode(&r, b.ptr, b.len), C_OK);
    cr_assert(!r.rev && !r.hasmin && !r.hasmax && r.limit == 0);
    /* truncated, trailing bytes, unknown flags, an exclusive bound that is
     * not there, a NaN bound */
    collRangeEncode(&q, &b);
    cr_assert_eq(collRangeDecode(&r, b.ptr, b.len - 1), C_ERR);
    bufAppend(&b, "x", 1);
    cr_assert_eq(collRangeDecode(&r, b.ptr, b.len), C_ERR);
    const char f1[] = {(char)0x40, 0};
    cr_assert_eq(collRangeDecode(&r, f1, 2), C_ERR);
    const char f2[] = {(char)0x08, 0};
    cr_assert_eq(collRangeDecode(&r, f2, 2), C_ERR);
    collRange nan = {.hasmin = 1, .min = NAN};
    collRangeEncode(&nan, &b);
    cr_assert_eq(collRangeDecode(&r, b.ptr, b.len), C_ERR);
    bufFree(&b);
}

Test(collbatch, a_score_range_says_where_a_score_lies) {
    collRange q = {.hasmin = 1, .hasmax = 1, .minex = 1, .min = 1, .max = 3};
    int past;
    cr_assert(!collRangeHas(&q, 1, &past) && !past); /* (1: excluded, before the walk's end */
    cr_assert(collRangeHas(&q, 2, &past));
    cr_assert(collRangeHas(&q, 3, &past));           /* 3]: included */
    cr_assert(!collRangeHas(&q, 3.5, &past) && past); /* forward: past the max ends it */
    q.rev = 1;
    cr_assert(!collRangeHas(&q, 3.5, &past) && !past); /* reverse: above the max, go on */
    cr_assert(!collRangeHas(&q, 1, &past) && past);    /* reverse: the min ends it */
    collRange all = {0};
    cr_assert(collRangeHas(&all, -INFINITY, &past) && collRangeHas(&all, INFINITY, &past));
}

Test(collbatch, a_collection_s_figures_read_back_and_a_removal_s_mark_follows_it) {
    collStats st = {123456789012345ULL, 0xdeadbeefcafef00dULL, 42}, back;
    unsigned char enc[COLL_STATS_LEN];
    collStatsEncode(&st, enc);
    cr_assert_eq(collStatsDecode(&back, (const char *)enc, COLL_STATS_LEN), C_OK);
    cr_assert(back.count == st.count && back.mark == st.mark && back.digest == st.digest);
    cr_assert_eq(collStatsDecode(&back, (const char *)enc, COLL_STATS_LEN - 1), C_ERR);
    /* no removal reads the same as an empty one; a DEL's context or a
     * floor changes the mark, equal removals share it */
    vclock rm, rm2;
    vclockInit(&rm);
    vclockInit(&rm2);
    causalRemoval none = {NULL, 0}, empty = {&rm, 0};
    cr_assert_eq(collRemovalMark(NULL), collRemovalMark(&none));
    cr_assert_eq(collRemovalMark(&none), collRemovalMark(&empty));
    vclockRaise(&rm, 7, 100);
    vclockRaise(&rm2, 7, 100);
    causalRemoval del = {&rm, 0}, del2 = {&rm2, 0}, fired = {&rm, 5};
    cr_assert_neq(collRemovalMark(&del), collRemovalMark(&none));
    cr_assert_eq(collRemovalMark(&del), collRemovalMark(&del2));
    cr_assert_neq(collRemovalMark(&fired), collRemovalMark(&del));
    vclockRaise(&rm2, 7, 101);
    cr_assert_neq(collRemovalMark(&del), collRemovalMark(&del2));
    vclockFree(&rm);
    vclockFree(&rm2);
}
