/* hll.h -- HyperLogLog as a replicated state: PFADD, PFCOUNT and PFMERGE
 * with Redis's precision (16384 registers, standard error 0.81%) and
 * Redis's estimator (Ertl's improved raw estimator, "New cardinality
 * estimation algorithms for HyperLogLog sketches", arXiv:1702.01284).
 * Pure: no I/O, no globals.
 *
 * Registers. An element hashes (XXH3-64) to a register index (the low 14
 * bits) and a rank (1 + the trailing zeros of the other 50 bits, 1..51); a
 * register keeps the largest rank it saw. Merging two sketches is the
 * register-wise maximum: exact, commutative, associative, idempotent.
 *
 * Chains. So that DEL and expiry can remove what they observed and keep
 * what was added concurrently (as for every other type), the registers are
 * kept per actor: a chain (actor, epoch, seq, registers) holds the
 * registers the actor's PFADDs raised, seq the dot of its latest one. A
 * key-level removal (keymeta.h) that covers the chain's seq removes it
 * whole; a chain it does not cover was written concurrently and stays.
 * When a coordinator finds its own chain removed, it starts a new one
 * (epoch = the new dot): an actor never extends a chain after that, so
 * merge keeps, per actor, the chain with the larger epoch, and of two
 * chains with the same epoch the larger seq and the register-wise max.
 * Normalized by construction: at most one chain per actor. What PFCOUNT
 * reads is the register-wise max of the live chains. If the same actor
 * adds to a chain concurrently with a DEL that covered part of it, the
 * whole chain stays (the one inexact case; DEL is otherwise exact).
 * Memory: 16 KB per chain in memory; a replica count of chains (usually
 * the one of the key's coordinator).
 *
 * Encoding: u8 1, varint n, n x chain sorted by actor:
 *   u64 actor, varint epoch, varint seq (>= epoch), u8 kind, registers:
 *   kind 0 sparse: varint k, k x (varint gap, u8 rank) over the non-zero
 *     registers in index order (gap = index - previous index - 1; the
 *     first gap is the index);
 *   kind 1 dense: 12288 bytes, 4 registers of 6 bits per 3 bytes.
 *   The kind is the shorter one (sparse on a tie); canonical only.
 *
 * API:
 *   hllInit/hllFree/hllClear/hllCopy/hllEqual
 *   hllMerge(dst, src)                      join
 *   hllEncode/hllDecode
 *   hllHash(elem, len, &index, &rank)
 *   hllView(h, kr, regs)                    register-wise max of live chains
 *   hllCountRegisters(regs)                 the estimate (PFCOUNT)
 *   hllDeltaRaise(delta, obs, kr, actor, seq, regs)   PFADD / PFMERGE
 *   hllDeltaAdd(delta, obs, kr, actor, seq, elems, lens, n)   PFADD
 */
#ifndef RINGKV_HLL_H
#define RINGKV_HLL_H

#include <stddef.h>
#include <stdint.h>

#include "causal.h"
#include "util.h"

#define HLL_P 14
#define HLL_REGISTERS (1 << HLL_P)
#define HLL_Q (64 - HLL_P)       /* hash bits for the rank */
#define HLL_MAX_RANK (HLL_Q + 1) /* 51 */
#define HLL_DENSE_BYTES (HLL_REGISTERS * 6 / 8)
#define HLL_FORMAT 1
#define HLL_MAX_CHAINS 1024

typedef struct hllChain {
    uint64_t actor; /* whose PFADDs */
    uint64_t epoch; /* the dot that started the chain */
    uint64_t seq;   /* the dot of its latest PFADD */
    uint8_t *reg;   /* HLL_REGISTERS ranks, owned */
} hllChain;

typedef struct hll {
    int n;        /* chains used, sorted by actor */
    int cap;      /* chains allocated */
    hllChain *c;  /* owned */
} hll;

void hllInit(hll *h);
void hllFree(hll *h);
void hllClear(hll *h);
void hllCopy(hll *dst, const hll *src); /* dst initialized */
int hllEqual(const hll *a, const hll *b);
/* Returns 1 if dst changed. */
int hllMerge(hll *dst, const hll *src);
void hllEncode(const hll *h, buf *out);
int hllDecode(hll *h, const void *p, size_t len);

void hllHash(const void *elem, size_t len, unsigned *index, uint8_t *rank);
/* regs: HLL_REGISTERS bytes, written. kr may be NULL. */
void hllView(const hll *h, const causalRemoval *kr, uint8_t *regs);
uint64_t hllCountRegisters(const uint8_t *regs);
uint64_t hllCount(const hll *h, const causalRemoval *kr);

/* The delta that raises the registers to at least regs (HLL_REGISTERS
 * ranks, borrowed) by actor at dot seq over obs: extends the actor's live
 * chain, or starts one. delta is cleared first. Returns 1 if the view
 * (what PFCOUNT reads) changes, 0 if not, C_ERR if seq is not above the
 * actor's chain. */
int hllDeltaRaise(hll *delta, const hll *obs, const causalRemoval *kr, uint64_t actor,
                  uint64_t seq, const uint8_t *regs);
/* PFADD of n elements. Same returns (PFADD's reply is the 1 or 0). */
int hllDeltaAdd(hll *delta, const hll *obs, const causalRemoval *kr, uint64_t actor,
                uint64_t seq, const char *const *elems, const size_t *lens, int n);

#endif
