/* keymeta.h -- the metadata record of a collection key (set, hash, sorted
 * set, HyperLogLog): what makes DEL and expiry O(1) whatever the size of the
 * collection, and what decides a key's type when two types were written to
 * it concurrently. Pure: no I/O, no globals.
 *
 * A collection is stored as this record plus one RocksDB key per element
 * (field.h). A DEL does not visit the elements: it records, here, the dots
 * it saw, and every element is read through that record (causalRemoval).
 *
 * State (each part a join-semilattice, so the record is one):
 *   clock  every dot written to the key (the compact clock of the set):
 *          per actor the largest; a DEL's context is the clock it read
 *   rm     what DELs observed: a dot at or below rm[actor] is removed
 *   floor  what fired expiries removed: every dot with counter <= floor
 *   exp    the expiry register, last writer wins by stamp: an absolute time
 *          in ms, or 0 for none (PERSIST, DEL, and creating the key reset it)
 *   types  per data type, the stamp of the newest write of that type
 *
 * Expiry. Redis deletes a key once the clock passes its expiry time T; here
 * that removes every dot stamped at or before T (the floor of T, an HLC
 * bound), whoever made it and wherever it is stored: exactly what was in
 * the key at T, on every replica alike. A read at time now applies an
 * expiry whose time has passed as if it had fired (keymetaRemoval), so
 * nothing depends on when a replica's expiry cycle runs; a replica may also
 * fire it for good (keymetaDeltaFire, the same bytes on every replica), and
 * a coordinator that replaces a passed expiry fires it in the same delta.
 * What is written after T survives, and the key then has no TTL, as in
 * Redis. If an EXPIRE or PERSIST with a later stamp replaced the register
 * before anyone fired the old one, the old one never fires.
 *
 * DEL. rm := the clock the coordinator read; the expiry register is reset.
 * It removes what it saw and, per actor, what that actor wrote before: an
 * add made concurrently by another coordinator has a dot above rm and
 * survives. A write that finds the key absent (never written, deleted,
 * emptied or expired) creates it: its delta carries a DEL of what it saw,
 * so no stale TTL or hidden state of another type outlives the creation.
 *
 * Type conflicts (the rule, also in docs/types.md): a key written as two
 * types concurrently (e.g. SET k v on one side of a partition and SADD k m
 * on the other) reads as the type of the newest write among the types that
 * have live data: largest HLC timestamp, then largest actor, then the larger
 * type number. The other type's data stays stored, hidden, and goes with
 * the next DEL (or creation) that observes it. The stamps only grow and
 * liveness is a function of the merged state, so every replica picks the
 * same type: the rule is part of the join, not a tie-breaker applied once.
 *
 * Encoding: u8 1, u8 flags (1 clock, 2 rm, 4 floor, 8 exp),
 *   [clock] [clock rm] [varint floor] [u64 actor, varint ts, varint at],
 *   varint ntypes, ntypes x (u8 type, u64 actor, varint ts), types increasing
 *
 * API:
 *   keymetaInit/keymetaFree/keymetaClear/keymetaCopy/keymetaEqual
 *   keymetaMerge(dst, src)         join
 *   keymetaEncode/keymetaDecode
 *   keymetaRemoval(m, now, &kr)    the removal elements are read through
 *   keymetaTTL(m, now)             ms left, or -1 (none)
 *   keymetaTypeStamp(m, type)      newest write of a type
 *   keymetaResolveType(cands, n)   the type conflict rule
 *   keymetaDeltaWrite / keymetaDeltaCreate / keymetaDeltaDel /
 *   keymetaDeltaExpire / keymetaDeltaFire
 */
#ifndef RINGKV_KEYMETA_H
#define RINGKV_KEYMETA_H

#include <stddef.h>
#include <stdint.h>

#include "causal.h"
#include "util.h"
#include "vclock.h"

/* Data types. STRING keys keep their record (record.h) and take part in the
 * type rule through a candidate built from it. */
#define KT_STRING 0
#define KT_SET 1
#define KT_HASH 2
#define KT_ZSET 3
#define KT_HLL 4
#define KT_LIST 5 /* reserved for lists */
#define KT_MAX 5

typedef struct keymeta {
    vclock clock;               /* every dot written */
    vclock rm;                  /* DELs' observed context */
    uint64_t floor;             /* fired expiries */
    causalStamp expst;          /* expiry register stamp; ts 0 = never written */
    int64_t expat;              /* expiry register value: unix ms, 0 = none */
    causalStamp last[KT_MAX + 1]; /* newest write per type; ts 0 = none */
} keymeta;

#define KEYMETA_FORMAT 1
#define KEYMETA_MAX_ACTORS 65536

void keymetaInit(keymeta *m);
void keymetaFree(keymeta *m);
void keymetaClear(keymeta *m);
void keymetaCopy(keymeta *dst, const keymeta *src); /* dst initialized */
int keymetaEqual(const keymeta *a, const keymeta *b);
/* Returns 1 if dst changed. */
int keymetaMerge(keymeta *dst, const keymeta *src);
void keymetaEncode(const keymeta *m, buf *out);
int keymetaDecode(keymeta *m, const void *p, size_t len);

/* The removal elements are read through at time now_ms. kr borrows m. */
void keymetaRemoval(const keymeta *m, long long now_ms, causalRemoval *kr);
/* Milliseconds left before the key expires, or -1 when it has no expiry
 * (none set, or it has passed: what is left was written after it). */
long long keymetaTTL(const keymeta *m, long long now_ms);
causalStamp keymetaTypeStamp(const keymeta *m, int type);
/* The type's newest write is not removed: some data of the type may live. */
int keymetaTypeMayLive(const keymeta *m, int type, long long now_ms);

/* One candidate type for the type rule: does the key hold live data of it
 * (known to the caller: a live element, a live string version...), and the
 * stamp of its newest write. */
typedef struct keymetaCand {
    int type;
    int live;
    causalStamp last;
} keymetaCand;
/* Index of the winning candidate, or -1 when none is live. */
int keymetaResolveType(const keymetaCand *c, int n);

/* Deltas. Each clears delta first; obs is the coordinator's record
 * (borrowed), (actor, seq) the write's dot, now_ms the coordinator's clock. */
/* An add, increment or PFADD of type to an existing key. */
void keymetaDeltaWrite(keymeta *delta, int type, uint64_t actor, uint64_t seq);
/* The same write when the coordinator found the key absent: a DEL of what it
 * saw, then the write. */
void keymetaDeltaCreate(keymeta *delta, const keymeta *obs, long long now_ms, int type,
                        uint64_t actor, uint64_t seq);
/* DEL/UNLINK (and the removal half of anything that overwrites the key). */
void keymetaDeltaDel(keymeta *delta, const keymeta *obs, long long now_ms, uint64_t actor,
                     uint64_t seq);
/* EXPIRE family (at_ms > 0) and PERSIST (at_ms 0). */
void keymetaDeltaExpire(keymeta *delta, const keymeta *obs, long long now_ms, uint64_t actor,
                        uint64_t seq, int64_t at_ms);
/* Fire a passed expiry: any replica may, the delta depends only on the
 * register. Returns 0 (and an empty delta) if there is nothing to fire. */
int keymetaDeltaFire(keymeta *delta, const keymeta *obs, long long now_ms);

#endif
