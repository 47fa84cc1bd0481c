/* t_hll.c -- HyperLogLog commands (PFADD, PFCOUNT, PFMERGE) over coll.h.
 *
 * A HyperLogLog key is a collection key whose state is one sketch (hll.h:
 * per-actor register chains, read through the key's removal), plus the
 * key's metadata (keymeta.h). Commands follow Redis 7.0: the same replies,
 * the same error texts, the same order of checks; the registers and the
 * estimator are Redis's (16384 registers, 0.81% standard error).
 *
 * What differs from Redis: our sketch is not a Redis string, so GET,
 * SETRANGE, APPEND... on an HLL key are WRONGTYPE, and a string key is
 * never a valid HyperLogLog ("WRONGTYPE Key is not a valid HyperLogLog
 * string value.", Redis's text for a string that is not one). A hash, set
 * or sorted-set key gets the ordinary WRONGTYPE text, as in Redis.
 *
 * Each handler is a continuation chain (like t_string.c): read, decide,
 * write the deltas, reply once the write level acknowledged them.
 *
 *   PFADD key [element ...]
 *     pfaddCommand --collRead(HLL)--> pfaddRead
 *       error / wrong type        --> reply, nothing written
 *       key exists, no register
 *       of ours would rise        --> :0, nothing written
 *       otherwise                 --collWrite(sketch delta + touch)--> hllWriteDone: :1 or :0
 *   PFCOUNT key [key ...]
 *     pfcountCommand --collRead(HLL) per key, in parallel--> pfcountRead
 *       the last answer           --> the first key's error in argv order,
 *                                     else the estimate of the register-wise
 *                                     max of the keys' views
 *   PFMERGE destkey [sourcekey ...]
 *     pfmergeCommand --collRead(HLL) per source--> pfmergeSource
 *       the last answer           --collRead(HLL) of destkey--> pfmergeDest
 *       an error on any key       --> the first key's error in argv order
 *       otherwise                 --collWrite(delta + touch)--> hllWriteDone: +OK
 *   destkey is read last, alone, because the write needs its view (borrowed
 *   for its callback only); Redis checks destkey's type first, so its error
 *   still wins over a source's.
 *
 * Deltas. A PFADD or PFMERGE raises this node's chain (actor server.actor)
 * at a fresh dot (collDot) to at least the registers it brings
 * (hllDeltaRaise): a replica merges that in blind, and a concurrent DEL
 * that did not see it leaves it standing (add wins). The metadata half is
 * collBatchTouch, which also recreates a key that was absent.
 *
 * API: hllCommandTable (t_hll.h); the handlers are static, reached
 * through the table only.
 *
 * Invariants: nothing is written before every key was read and checked;
 * a write's reply is sent only from its collWrite callback. */
#include "t_hll.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coll.h"

/* Redis's isHLLObjectOrReply text for a string that is not an HLL. */
#define ERR_HLL_STRING "-WRONGTYPE Key is not a valid HyperLogLog string value."
/* hllDeltaRaise refused the dot: collDot is above every dot read, so this
 * means the clock or the stored chain is broken; nothing is written. */
#define ERR_HLL_DOT "HyperLogLog write refused: this node's clock is behind its own chain"

/* The error a key's type gives a HyperLogLog command, or NULL when the key
 * is absent or an HLL. Not collCheckType: a multi-key command must pick the
 * error of the first key in argv order, not of the first answer. */
static const char *hllTypeError(const collView *v) {
    int t = collTypeOf(v);
    if (t < 0 || t == KT_HLL) return NULL;
    return t == KT_STRING ? ERR_HLL_STRING : ERR_WRONGTYPE;
}

/* Whether a delta built by hllDeltaRaise raises any register (it always
 * holds the chain, maybe with nothing in it). */
static int hllDeltaRaises(const hll *delta) {
    for (int i = 0; i < delta->n; i++) {
        const uint8_t *reg = delta->c[i].reg;
        uint8_t any = 0;
        for (int r = 0; r < HLL_REGISTERS; r++) any |= reg[r]; /* vectorized: no early exit */
        if (any) return 1;
    }
    return 0;
}

/* u[r] = max(u[r], v[r]) for every register (restrict: vectorized). */
static void hllRegsMax(uint8_t *restrict u, const uint8_t *restrict v) {
    for (int r = 0; r < HLL_REGISTERS; r++) u[r] = v[r] > u[r] ? v[r] : u[r];
}

/* ------------------------------------------------------------- writing */

/* What a write's callback replies: +OK (PFMERGE) or an integer (PFADD).
 * Lives in the request's state, so it outlives the read's callback. */
typedef struct hllWriteReply {
    int ok;         /* reply +OK */
    long long ll;   /* else this integer */
} hllWriteReply;

/* collWrite's callback (called by coll.c once the write level acked, or
 * on failure): the reply prepared before the write, or the write's error. */
static void hllWriteDone(request *r, const coordResult *res, void *pd) {
    const hllWriteReply *w = pd;
    if (!res->ok) {
        addReplyError(r, res->err);
        return;
    }
    if (w->ok) addReplyOK(r);
    else addReplyInteger(r, w->ll);
}

/* Writes delta and the metadata touch of an HLL write at seq to v's key,
 * replying through w once acknowledged. delta is borrowed. */
static void hllWrite(request *r, const collView *v, const hll *delta, uint64_t seq,
                     hllWriteReply *w) {
    collBatch b;
    collBatchInit(&b);
    collBatchHll(&b, delta);
    collBatchTouch(&b, v, KT_HLL, seq);
    collWrite(r, v->db, v->key, v->klen, &b, hllWriteDone, w);
    collBatchFree(&b);
}

/* --------------------------------------------------------------- PFADD */

/* collRead's callback for PFADD: decides the reply and writes the delta. */
static void pfaddRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (err) {
        addReplyError(r, err);
        return;
    }
    const char *terr = hllTypeError(v);
    if (terr) {
        addReplyError(r, terr);
        return;
    }
    int exists = collTypeOf(v) == KT_HLL;
    if (exists && r->argc == 2) { /* nothing to add to an existing HLL */
        addReplyInteger(r, 0);
        return;
    }
    uint64_t seq = collDot();
    hll delta;
    hllInit(&delta);
    /* With no element this is the empty chain that creates the key. */
    int rc = hllDeltaAdd(&delta, &v->sketch, &v->kr, server.actor, seq,
                         (const char *const *)(r->argv + 2), r->argvlen + 2, r->argc - 2);
    if (rc == C_ERR) {
        addReplyError(r, ERR_HLL_DOT);
    } else if (exists && !hllDeltaRaises(&delta)) {
        /* Every register already holds at least this in our own chain:
         * nothing to write (Redis writes nothing either). A delta that
         * raises our chain without changing the view is still written, so
         * that these elements survive a concurrent DEL of the others. */
        addReplyInteger(r, 0);
    } else {
        hllWriteReply *w = requestState(r, sizeof(*w));
        w->ll = exists ? rc : 1;
        hllWrite(r, v, &delta, seq, w);
    }
    hllFree(&delta);
}

/* PFADD key [element [element ...]] -> :1 if the estimate may have changed
 * (a register rose) or the key was created, else :0. */
static void pfaddCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_HLL, NULL, NULL, 0, pfaddRead, NULL);
}

/* ----------------------------------------------------- PFCOUNT, PFMERGE */

/* The state of a multi-key read (PFCOUNT, PFMERGE's sources): the
 * register-wise max of the views read so far, and the error of the first
 * key (in argv order) that had one. */
typedef struct hllUnion {
    int n;            /* keys read in parallel */
    int done;         /* answers received */
    int errkey;       /* argv index of the key whose error is kept, 0 = none */
    char err[320];    /* its error */
    hllWriteReply w;  /* PFMERGE's reply */
    uint8_t regs[HLL_REGISTERS]; /* the union of the views */
} hllUnion;

/* Takes the answer for argv[i] into u: its error if it comes before the one
 * kept, else its registers. */
static void hllUnionAdd(hllUnion *u, int i, const collView *v, const char *err) {
    const char *e = err ? err : hllTypeError(v);
    if (e) {
        if (!u->errkey || i < u->errkey) {
            u->errkey = i;
            snprintf(u->err, sizeof(u->err), "%s", e);
        }
        return;
    }
    if (u->errkey || collTypeOf(v) != KT_HLL) return; /* an absent key counts as empty */
    uint8_t view[HLL_REGISTERS];
    hllView(&v->sketch, &v->kr, view);
    hllRegsMax(u->regs, view);
}

/* collRead's callback for each key of PFCOUNT (pd: its argv index). */
static void pfcountRead(request *r, const collView *v, const char *err, void *pd) {
    hllUnion *u = r->state;
    hllUnionAdd(u, (int)(intptr_t)pd, v, err);
    if (++u->done < u->n) return;
    if (u->errkey) addReplyError(r, u->err);
    else addReplyInteger(r, (long long)hllCountRegisters(u->regs));
}

/* PFCOUNT key [key ...] -> the estimated cardinality of the union of the
 * keys' sets (absent keys count as empty). */
static void pfcountCommand(request *r) {
    hllUnion *u = requestState(r, sizeof(*u));
    u->n = r->argc - 1;
    for (int i = 1; i < r->argc; i++)
        collRead(r, r->db, r->argv[i], r->argvlen[i], COLL_READ_HLL, NULL, NULL, 0, pfcountRead,
                 (void *)(intptr_t)i);
}

/* collRead's callback for PFMERGE's destkey, read once every source was:
 * writes the sources' union into it as this node's delta. */
static void pfmergeDest(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    hllUnion *u = r->state;
    /* destkey comes first in argv: its error wins over a source's */
    const char *e = err ? err : hllTypeError(v);
    if (e) {
        addReplyError(r, e);
        return;
    }
    if (u->errkey) {
        addReplyError(r, u->err);
        return;
    }
    uint64_t seq = collDot();
    hll delta;
    hllInit(&delta);
    if (hllDeltaRaise(&delta, &v->sketch, &v->kr, server.actor, seq, u->regs) == C_ERR) {
        addReplyError(r, ERR_HLL_DOT);
    } else {
        /* Written even when nothing rises: Redis always writes destkey, and
         * PFMERGE creates it when absent. */
        u->w.ok = 1;
        hllWrite(r, v, &delta, seq, &u->w);
    }
    hllFree(&delta);
}

static void pfmergeReadDest(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_HLL, NULL, NULL, 0, pfmergeDest, NULL);
}

/* collRead's callback for each source of PFMERGE (pd: its argv index). */
static void pfmergeSource(request *r, const collView *v, const char *err, void *pd) {
    hllUnion *u = r->state;
    hllUnionAdd(u, (int)(intptr_t)pd, v, err);
    if (++u->done == u->n) pfmergeReadDest(r);
}

/* PFMERGE destkey [sourcekey ...] -> +OK: destkey holds the union of itself
 * and the sources (created empty when absent and no source has anything). */
static void pfmergeCommand(request *r) {
    hllUnion *u = requestState(r, sizeof(*u));
    u->n = r->argc - 2;
    if (u->n == 0) {
        pfmergeReadDest(r);
        return;
    }
    for (int i = 2; i < r->argc; i++)
        collRead(r, r->db, r->argv[i], r->argvlen[i], COLL_READ_HLL, NULL, NULL, 0,
                 pfmergeSource, (void *)(intptr_t)i);
}

/* ---------------------------------------------------------------- table */

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST

command hllCommandTable[] = {
    {"pfadd", pfaddCommand, -2, W | F, 1, 1, 1, "hyperloglog", "2.8.9",
     "Adds the specified elements to the specified HyperLogLog.", "key [element [element ...]]",
     0, 0, 0, 0},
    {"pfcount", pfcountCommand, -2, R, 1, -1, 1, "hyperloglog", "2.8.9",
     "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
     "key [key ...]", 0, 0, 0, 0},
    {"pfmerge", pfmergeCommand, -2, W, 1, -1, 1, "hyperloglog", "2.8.9",
     "Merge N different HyperLogLogs into a single one.", "destkey sourcekey [sourcekey ...]",
     0, 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};

#undef W
#undef R
#undef F
