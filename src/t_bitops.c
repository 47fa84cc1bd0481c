/* t_bitops.c -- the bit commands over string values: SETBIT, GETBIT,
 * BITCOUNT, BITPOS, BITOP (BITFIELD is t_bitfield.c's).
 *
 * A string's bits are numbered from the most significant bit of its first
 * byte, as Redis does. SETBIT is a read-modify-write (t_string.c's rmw:
 * written with the causal context it read, keeping the expiry); GETBIT,
 * BITCOUNT and BITPOS read the value (t_string.c's readValue: WRONGTYPE on
 * a collection); BITOP reads every source and the destination, and writes
 * the result (an empty one deletes the destination). Semantics and error
 * texts follow Redis 7.0.
 *
 * Moved out of t_string.c to keep each file one concern and well under the
 * house limit.
 *
 * API (t_bitops.h): setbitCommand, getbitCommand, bitcountCommand,
 * bitposCommand, bitopCommand, rows of commands.c's table. */
#include "t_bitops.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "t_string.h"

/* ----------------------------------------------------------------- bits */

static int getBitOffset(request *r, int i, long long *off) {
    long long v;
    if (!string2ll(r->argv[i], r->argvlen[i], &v) || v < 0 ||
        (unsigned long long)v >> 3 >= (unsigned long long)server.proto_max_bulk_len) {
        addReplyError(r, "bit offset is not an integer or out of range");
        return C_ERR;
    }
    *off = v;
    return C_OK;
}

static int setbitFn(request *r, const version *old, buf *nv, pendingReply *pr) {
    long long off, bit;
    string2ll(r->argv[2], r->argvlen[2], &off);
    string2ll(r->argv[3], r->argvlen[3], &bit);
    size_t byte = (size_t)(off >> 3);
    size_t oldlen = old ? old->vlen : 0;
    size_t newlen = byte + 1 > oldlen ? byte + 1 : oldlen;
    bufReserve(nv, newlen);
    memset(nv->ptr, 0, newlen);
    if (old) memcpy(nv->ptr, old->val, oldlen);
    nv->len = newlen;
    int shift = 7 - (int)(off & 7);
    unsigned char *p = (unsigned char *)nv->ptr + byte;
    pr->ll = (*p >> shift) & 1;
    *p = (unsigned char)((*p & ~(1 << shift)) | (bit << shift));
    return 1;
}

void setbitCommand(request *r) {
    long long off, bit;
    if (getBitOffset(r, 2, &off) != C_OK) return;
    if (!string2ll(r->argv[3], r->argvlen[3], &bit) || (bit != 0 && bit != 1)) {
        addReplyError(r, "bit is not an integer or out of range");
        return;
    }
    rmw(r, setbitFn);
}

static void getbitFn(request *r, const version *v) {
    long long off;
    string2ll(r->argv[2], r->argvlen[2], &off);
    size_t byte = (size_t)(off >> 3);
    int bit = 0;
    if (v && byte < v->vlen) bit = (((unsigned char)v->val[byte]) >> (7 - (off & 7))) & 1;
    addReplyInteger(r, bit);
}

void getbitCommand(request *r) {
    long long off;
    if (getBitOffset(r, 2, &off) != C_OK) return;
    readValue(r, getbitFn);
}

/* Resolves a [start end] range over len units (bytes or bits) the Redis
 * way; returns 0 if the range is empty. */
static int resolveRange(long long *start, long long *end, long long len) {
    if (*start < 0) *start += len;
    if (*end < 0) *end += len;
    if (*start < 0) *start = 0;
    if (*end < 0) *end = 0;
    if (*end >= len) *end = len - 1;
    return *start <= *end && len > 0;
}

static int bitAt(const unsigned char *p, long long i) { return (p[i >> 3] >> (7 - (i & 7))) & 1; }

/* Parses [start end [BYTE|BIT]] at argv[si..]; reports whether given.
 * Returns C_ERR after replying. */
static int parseBitRange(request *r, int si, int allow_start_only, long long *start,
                         long long *end, int *isbit, int *given, int *end_given) {
    *isbit = 0;
    *given = 0;
    *end_given = 0;
    int extra = r->argc - si;
    if (extra <= 0) return C_OK;
    if (!allow_start_only && extra == 1) {
        addReplyError(r, ERR_SYNTAX);
        return C_ERR;
    }
    if (extra > 3) {
        addReplyError(r, ERR_SYNTAX);
        return C_ERR;
    }
    if (getLongLongFromArg(r, si, start, NULL) != C_OK) return C_ERR;
    *given = 1;
    if (extra >= 2) {
        if (getLongLongFromArg(r, si + 1, end, NULL) != C_OK) return C_ERR;
        *end_given = 1;
    }
    if (extra == 3) {
        if (argIs(r, si + 2, "bit")) *isbit = 1;
        else if (!argIs(r, si + 2, "byte")) {
            addReplyError(r, ERR_SYNTAX);
            return C_ERR;
        }
    }
    return C_OK;
}

static void bitcountFn(request *r, const version *v) {
    long long start = 0, end = -1;
    int isbit, given, end_given;
    if (parseBitRange(r, 2, 0, &start, &end, &isbit, &given, &end_given) != C_OK) return;
    if (!v) {
        addReplyInteger(r, 0);
        return;
    }
    const unsigned char *p = (const unsigned char *)v->val;
    long long len = (long long)v->vlen * (isbit ? 8 : 1);
    if (given && start < 0 && end < 0 && start > end) {
        addReplyInteger(r, 0);
        return;
    }
    if (!resolveRange(&start, &end, len)) {
        addReplyInteger(r, 0);
        return;
    }
    long long count = 0;
    if (isbit) {
        for (long long i = start; i <= end; i++) count += bitAt(p, i);
    } else {
        for (long long i = start; i <= end; i++) count += __builtin_popcount(p[i]);
    }
    addReplyInteger(r, count);
}

void bitcountCommand(request *r) {
    long long s, e;
    int isbit, given, end_given;
    /* syntax first, as Redis (the range is parsed again with the value) */
    if (r->argc == 3 || r->argc > 5) {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    if (r->argc >= 4 && parseBitRange(r, 2, 0, &s, &e, &isbit, &given, &end_given) != C_OK) return;
    readValue(r, bitcountFn);
}

static void bitposFn(request *r, const version *v) {
    long long bit, start = 0, end = -1;
    int isbit, given, end_given;
    string2ll(r->argv[2], r->argvlen[2], &bit);
    if (parseBitRange(r, 3, 1, &start, &end, &isbit, &given, &end_given) != C_OK) return;
    if (!v) {
        addReplyInteger(r, bit ? -1 : 0);
        return;
    }
    const unsigned char *p = (const unsigned char *)v->val;
    long long bits = (long long)v->vlen * 8;
    long long s, e; /* bit range */
    if (!given) {
        s = 0;
        e = bits - 1;
    } else {
        long long len = isbit ? bits : (long long)v->vlen;
        if (!end_given) end = len - 1;
        if (!resolveRange(&start, &end, len)) {
            addReplyInteger(r, -1);
            return;
        }
        s = isbit ? start : start * 8;
        e = isbit ? end : end * 8 + 7;
    }
    if (bits == 0) {
        /* an existing empty string is an empty range: no 0 nor 1 in it (as
         * Redis); only a missing key is an infinite run of zeros */
        addReplyInteger(r, -1);
        return;
    }
    for (long long i = s; i <= e; i++) {
        if (bitAt(p, i) == bit) {
            addReplyInteger(r, i);
            return;
        }
    }
    /* No clear bit found and no explicit end: the string is taken as padded
     * with zero bits on the right, so the first one past it. */
    if (bit == 0 && !end_given) {
        addReplyInteger(r, e + 1);
        return;
    }
    addReplyInteger(r, -1);
}

void bitposCommand(request *r) {
    long long bit, s, e;
    int isbit, given, end_given;
    if (getLongLongFromArg(r, 2, &bit, NULL) != C_OK) return;
    if (bit != 0 && bit != 1) {
        addReplyError(r, "The bit argument must be 1 or 0.");
        return;
    }
    if (parseBitRange(r, 3, 1, &s, &e, &isbit, &given, &end_given) != C_OK) return;
    readValue(r, bitposFn);
}

/* BITOP: read every source key, combine, write destkey. */
typedef struct bitopState {
    pendingReply pr; /* first: freed as a pendingReply */
    int n, done;
    buf *vals;
    record dest; /* the destination's read record (context), values owned */
    int destdone;
} bitopState;

static void freeBitop(void *p) {
    bitopState *b = p;
    for (int i = 0; i < b->n; i++) bufFree(&b->vals[i]);
    zfree(b->vals);
    recordFree(&b->dest);
    bufFree(&b->pr.bulk);
    zfree(b);
}

static void bitopFinish(request *r, bitopState *b) {
    const char *op = r->argv[1];
    size_t maxlen = 0;
    for (int i = 0; i < b->n; i++)
        if (b->vals[i].len > maxlen) maxlen = b->vals[i].len;
    buf res;
    bufInit(&res);
    bufReserve(&res, maxlen);
    for (size_t j = 0; j < maxlen; j++) {
        unsigned char out = 0;
        for (int i = 0; i < b->n; i++) {
            unsigned char c = j < b->vals[i].len ? (unsigned char)b->vals[i].ptr[j] : 0;
            if (i == 0) out = c;
            else if (!strcasecmp(op, "and")) out &= c;
            else if (!strcasecmp(op, "or")) out |= c;
            else out ^= c;
        }
        if (!strcasecmp(op, "not")) out = (unsigned char)~out;
        res.ptr[j] = (char)out;
    }
    res.len = maxlen;
    b->pr.kind = PR_INT;
    b->pr.ll = (long long)maxlen;
    /* an empty result deletes the destination, as Redis does */
    writeValueThenReply(r, &b->pr, r->db, r->argv[2], r->argvlen[2], res.ptr ? res.ptr : "",
                        res.len, maxlen == 0, 0, &b->dest);
    bufFree(&res);
}

static void bitopOne(request *r, const coordResult *res, void *pd) {
    bitopState *b = r->state;
    int i = (int)(intptr_t)pd;
    if (!res->ok) {
        if (!b->pr.err[0]) snprintf(b->pr.err, sizeof(b->pr.err), "%s", res->err);
    } else if (i < 0) {
        recordMerge(&b->dest, res->rec, 1);
    } else {
        const version *v = liveVersion(res);
        if (v) bufAppend(&b->vals[i], v->val, v->vlen);
    }
    if (++b->done < b->n + 1) return;
    if (b->pr.err[0]) {
        addReplyError(r, b->pr.err);
        return;
    }
    bitopFinish(r, b);
}

void bitopCommand(request *r) {
    const char *op = r->argv[1];
    if (strcasecmp(op, "and") && strcasecmp(op, "or") && strcasecmp(op, "xor") &&
        strcasecmp(op, "not")) {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    if (!strcasecmp(op, "not") && r->argc != 4) {
        addReplyError(r, "BITOP NOT must be called with a single source key.");
        return;
    }
    bitopState *b = requestState(r, sizeof(*b));
    r->state_free = freeBitop;
    bufInit(&b->pr.bulk);
    recordInit(&b->dest);
    b->n = r->argc - 3;
    b->vals = zcalloc(sizeof(buf) * (size_t)b->n);
    coordRead(r, r->db, r->argv[2], r->argvlen[2], bitopOne, (void *)(intptr_t)-1);
    for (int i = 0; i < b->n; i++)
        coordRead(r, r->db, r->argv[3 + i], r->argvlen[3 + i], bitopOne, (void *)(intptr_t)i);
}
