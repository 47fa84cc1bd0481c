/* t_bitfield.c -- BITFIELD and BITFIELD_RO of Redis 7.0: integers of 1 to
 * 64 bits (i<bits>, u<bits> up to u63) at any bit offset of a string value.
 *
 *   BITFIELD key [GET type offset] [SET type offset value]
 *                [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ...
 *   BITFIELD_RO key [GET type offset] ...
 *
 * An offset is a bit number (bit 0 is the most significant bit of the first
 * byte, as SETBIT numbers them) or "#n", the n-th field of the type's width.
 * OVERFLOW applies to the SET and INCRBY that follow it: WRAP (the default)
 * keeps the low bits, SAT clamps to the type's range, FAIL leaves the field
 * as it is and replies nil for that operation.
 *
 * How it runs, as t_string.c's read-modify-writes (SETBIT, SETRANGE):
 *   1. every argument is parsed first; bad input gets Redis's error and
 *      nothing is read or written;
 *   2. the key is read (t_string.h's readTyped: a key holding a collection
 *      answers WRONGTYPE);
 *   3. GETs only: the reply is computed from the value read; nothing is
 *      written (BITFIELD with GETs only is a read, as in Redis);
 *   4. with SET or INCRBY: the new value is the old one, zero-padded to the
 *      last byte a SET/INCRBY touches, with the operations applied in
 *      order; it is written as a new version with the causal context read
 *      (a concurrent writer through another coordinator makes a sibling,
 *      never a lost update), keeping the old expiry; the reply is sent once
 *      the write is acknowledged. Nothing is written when the bytes did not
 *      change (every SET/INCRBY failed or rewrote the same bits) and the key
 *      existed; a missing key is created (zero bytes) even then, as Redis
 *      creates it.
 * BITFIELD is flagged CMD_WRITE (as in Redis), so forward.c runs it at the
 * key's version coordinator, whose key lock orders it with every other
 * read-modify-write of the key; BITFIELD_RO is a read and runs anywhere.
 *
 * A key INCR wrote reads as its number's text (stringView), as Redis reads
 * an integer-encoded string; the write then replaces the counter with the
 * bytes, as SETRANGE does.
 *
 * API: bitfieldCommandTable (t_bitfield.h), the rows commands.c gathers.
 *
 * Invariants: the reply has one entry per GET/SET/INCRBY, in order; a
 * write's reply is sent only after its write's callback. */
#include "t_bitfield.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "coord.h"
#include "server.h"
#include "t_string.h"

#define BF_GET 0
#define BF_SET 1
#define BF_INCRBY 2

#define BF_WRAP 0
#define BF_SAT 1
#define BF_FAIL 2

#define ERR_BF_TYPE \
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
#define ERR_BF_OFFSET "bit offset is not an integer or out of range"

/* One GET, SET or INCRBY, parsed. */
typedef struct bitfieldOp {
    uint64_t offset; /* first bit */
    int64_t arg;     /* SET's value or INCRBY's increment */
    int opcode;      /* BF_* */
    int owtype;      /* the OVERFLOW in force when it was named */
    int bits;        /* width, 1..64 */
    int sign;        /* i<bits> */
} bitfieldOp;

/* The request's state (requestState): the operations and the reply
 * prepared for when the write is acknowledged. */
typedef struct bitfieldState {
    int nops;
    bitfieldOp *ops;
    int readonly;        /* GETs only */
    uint64_t highest;    /* last bit a SET/INCRBY touches */
    long long *vals;     /* reply, per op */
    char *nulls;         /* 1 where the reply is nil (OVERFLOW FAIL) */
} bitfieldState;

static void bitfieldStateFree(void *p) {
    bitfieldState *s = p;
    zfree(s->ops);
    zfree(s->vals);
    zfree(s->nulls);
    zfree(s);
}

/* ------------------------------------------------------------- the bits */

/* The bits [off, off+bits) of p (len bytes; bits past the end read as 0),
 * most significant first. */
static uint64_t bitfieldGetBits(const unsigned char *p, size_t len, uint64_t off, int bits) {
    uint64_t v = 0;
    for (int j = 0; j < bits; j++, off++) {
        uint64_t byte = off >> 3;
        int bit = byte < len ? (p[byte] >> (7 - (int)(off & 7))) & 1 : 0;
        v = (v << 1) | (uint64_t)bit;
    }
    return v;
}

/* Stores the low 'bits' bits of v at off; p must hold them. */
static void bitfieldSetBits(unsigned char *p, uint64_t off, int bits, uint64_t v) {
    for (int j = 0; j < bits; j++, off++) {
        int bit = (int)((v >> (bits - 1 - j)) & 1);
        int shift = 7 - (int)(off & 7);
        unsigned char *b = p + (off >> 3);
        *b = (unsigned char)((*b & ~(1 << shift)) | (bit << shift));
    }
}

/* The field's value: sign-extended for i<bits>. */
static __int128 bitfieldRead(const unsigned char *p, size_t len, const bitfieldOp *op) {
    uint64_t u = bitfieldGetBits(p, len, op->offset, op->bits);
    if (!op->sign) return (__int128)u;
    if (op->bits < 64 && ((u >> (op->bits - 1)) & 1)) u |= ~(uint64_t)0 << op->bits;
    return (__int128)(int64_t)u;
}

/* Fits an exact result into the field's type under owtype: returns 0 and
 * *out = the value to store, or 1 when OVERFLOW FAIL refuses it. The
 * arithmetic is exact (128 bits), so "overflow" means the result is outside
 * [min, max] of the type, as Redis decides it. */
static int bitfieldFit(const bitfieldOp *op, __int128 res, __int128 *out) {
    __int128 one = 1;
    __int128 max = op->sign ? (one << (op->bits - 1)) - 1 : (one << op->bits) - 1;
    __int128 min = op->sign ? -(one << (op->bits - 1)) : 0;
    if (res >= min && res <= max) {
        *out = res;
        return 0;
    }
    if (op->owtype == BF_FAIL) return 1;
    if (op->owtype == BF_SAT) {
        *out = res > max ? max : min;
        return 0;
    }
    /* WRAP: the low bits, read back as the type reads them */
    uint64_t low = (uint64_t)res;
    if (op->bits < 64) low &= ~(~(uint64_t)0 << op->bits);
    if (op->sign && op->bits < 64 && ((low >> (op->bits - 1)) & 1)) low |= ~(uint64_t)0 << op->bits;
    *out = op->sign ? (__int128)(int64_t)low : (__int128)low;
    return 0;
}

/* -------------------------------------------------------------- parsing */

/* i<1..64> or u<1..63>; Redis's error otherwise. */
static int bitfieldParseType(request *r, int i, int *sign, int *bits) {
    const char *p = r->argv[i];
    long long n;
    if (p[0] != 'i' && p[0] != 'u') goto bad;
    *sign = p[0] == 'i';
    if (!string2ll(p + 1, strlen(p + 1), &n) || n < 1 || n > (*sign ? 64 : 63)) goto bad;
    *bits = (int)n;
    return C_OK;
bad:
    addReplyError(r, ERR_BF_TYPE);
    return C_ERR;
}

/* A bit offset, or "#n" = n * bits; below proto-max-bulk-len bytes. */
static int bitfieldParseOffset(request *r, int i, int bits, uint64_t *off) {
    const char *p = r->argv[i];
    size_t len = r->argvlen[i];
    int hash = len && p[0] == '#';
    long long v;
    if (!string2ll(p + hash, len - (size_t)hash, &v)) goto bad;
    if (hash && __builtin_mul_overflow(v, (long long)bits, &v)) goto bad;
    if (v < 0 || (v >> 3) >= server.proto_max_bulk_len) goto bad;
    *off = (uint64_t)v;
    return C_OK;
bad:
    addReplyError(r, ERR_BF_OFFSET);
    return C_ERR;
}

/* Parses argv[2..] into s as Redis does, replying its error on bad input. */
static int bitfieldParse(request *r, bitfieldState *s) {
    int owtype = BF_WRAP;
    s->readonly = 1;
    s->ops = zmalloc(sizeof(bitfieldOp) * (size_t)(r->argc / 3 + 1));
    for (int j = 2; j < r->argc; j++) {
        int left = r->argc - j - 1;
        int opcode;
        if (argIs(r, j, "get") && left >= 2) {
            opcode = BF_GET;
        } else if (argIs(r, j, "set") && left >= 3) {
            opcode = BF_SET;
        } else if (argIs(r, j, "incrby") && left >= 3) {
            opcode = BF_INCRBY;
        } else if (argIs(r, j, "overflow") && left >= 1) {
            j++;
            if (argIs(r, j, "wrap")) owtype = BF_WRAP;
            else if (argIs(r, j, "sat")) owtype = BF_SAT;
            else if (argIs(r, j, "fail")) owtype = BF_FAIL;
            else {
                addReplyError(r, "Invalid OVERFLOW type specified");
                return C_ERR;
            }
            continue;
        } else {
            addReplyError(r, ERR_SYNTAX);
            return C_ERR;
        }
        bitfieldOp *op = &s->ops[s->nops];
        memset(op, 0, sizeof(*op));
        op->opcode = opcode;
        op->owtype = owtype;
        if (bitfieldParseType(r, j + 1, &op->sign, &op->bits) != C_OK) return C_ERR;
        if (bitfieldParseOffset(r, j + 2, op->bits, &op->offset) != C_OK) return C_ERR;
        if (opcode != BF_GET) {
            long long v;
            s->readonly = 0;
            if (op->offset + (uint64_t)op->bits - 1 > s->highest)
                s->highest = op->offset + (uint64_t)op->bits - 1;
            if (getLongLongFromArg(r, j + 3, &v, NULL) != C_OK) return C_ERR;
            op->arg = v;
        }
        s->nops++;
        j += opcode == BF_GET ? 2 : 3;
    }
    return C_OK;
}

/* ---------------------------------------------------------------- reply */

static void bitfieldReply(request *r, const bitfieldState *s) {
    addReplyArrayLen(r, s->nops);
    for (int i = 0; i < s->nops; i++) {
        if (s->nulls[i]) addReplyNull(r);
        else addReplyInteger(r, s->vals[i]);
    }
}

/* writeValue's callback: the prepared reply, or the write's error. */
static void bitfieldWritten(request *r, const coordResult *res, void *pd) {
    bitfieldState *s = pd;
    if (!res->ok) addReplyError(r, res->err);
    else bitfieldReply(r, s);
}

/* Runs the operations over the value read (old, NULL if absent) and writes
 * the result when SET/INCRBY changed it. */
static void bitfieldAfterRead(request *r, const coordResult *res, void *pd) {
    bitfieldState *s = pd;
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    const version *old = liveVersion(res);
    size_t oldlen = old ? old->vlen : 0;
    s->vals = zcalloc(sizeof(long long) * (size_t)(s->nops + 1));
    s->nulls = zcalloc((size_t)s->nops + 1);
    if (s->readonly) {
        const unsigned char *p = old ? (const unsigned char *)old->val : NULL;
        for (int i = 0; i < s->nops; i++) s->vals[i] = (long long)bitfieldRead(p, oldlen, &s->ops[i]);
        bitfieldReply(r, s);
        return;
    }
    /* the old bytes, zero-padded up to the last byte a SET/INCRBY touches */
    size_t newlen = (size_t)(s->highest >> 3) + 1;
    if (newlen < oldlen) newlen = oldlen;
    unsigned char *nv = zcalloc(newlen + 1);
    if (oldlen) memcpy(nv, old->val, oldlen);
    for (int i = 0; i < s->nops; i++) {
        const bitfieldOp *op = &s->ops[i];
        __int128 cur = bitfieldRead(nv, newlen, op), want, fit;
        if (op->opcode == BF_GET) {
            s->vals[i] = (long long)cur;
            continue;
        }
        /* SET u<bits> takes the value as Redis does, as an unsigned 64-bit
         * pattern: a negative value overflows upwards (SAT gives the max) */
        if (op->opcode == BF_SET) want = op->sign ? (__int128)op->arg : (__int128)(uint64_t)op->arg;
        else want = cur + op->arg;
        if (bitfieldFit(op, want, &fit)) {
            s->nulls[i] = 1;
            continue;
        }
        s->vals[i] = (long long)(op->opcode == BF_SET ? cur : fit);
        bitfieldSetBits(nv, op->offset, op->bits, (uint64_t)fit);
    }
    if (old && newlen == oldlen && !memcmp(nv, old->val, oldlen)) {
        bitfieldReply(r, s); /* nothing changed: nothing to write */
    } else {
        writeValue(r, r->db, r->argv[1], r->argvlen[1], (const char *)nv, newlen, 0,
                   old ? old->expire : 0, res->rec, bitfieldWritten, s);
    }
    zfree(nv);
}

static void bitfieldGeneric(request *r, int ro) {
    bitfieldState *s = requestState(r, sizeof(*s));
    r->state_free = bitfieldStateFree;
    if (bitfieldParse(r, s) != C_OK) return;
    if (ro && !s->readonly) {
        addReplyError(r, "BITFIELD_RO only supports the GET subcommand");
        return;
    }
    readTyped(r, bitfieldAfterRead, s);
}

static void bitfieldCommand(request *r) { bitfieldGeneric(r, 0); }
static void bitfieldroCommand(request *r) { bitfieldGeneric(r, 1); }

/* ---------------------------------------------------------------- table */

/* Arity, flags and key positions as Redis 7.0's COMMAND reports them. */
command bitfieldCommandTable[] = {
    {"bitfield", bitfieldCommand, -2, CMD_WRITE, 1, 1, 1, "bitmap", "3.2.0", "Perform arbitrary bitfield integer operations on strings",
     "key [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|INCRBY encoding offset increment] [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|INCRBY encoding offset increment ...]", 0, 0, 0, 0},
    {"bitfield_ro", bitfieldroCommand, -2, CMD_READONLY | CMD_FAST, 1, 1, 1, "bitmap", "6.0.0", "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
     "key [GET encoding offset [GET encoding offset ...]]", 0, 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};
