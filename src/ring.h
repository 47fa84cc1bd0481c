/* ring.h -- partitions, tokens and preference lists. Pure: no I/O, no
 * globals; every node derives the same ring from the same membership.
 *
 * The keyspace is cut into Q = 2^qbits partitions (a key's partition is the
 * top qbits of its hash, record.h). Each member has `weight` tokens on a
 * 64-bit ring, token i = XXH3-64(id "#" i). A partition's walk is the list of
 * distinct members met going clockwise from the partition's start: that is
 * the order in which the partition looks for owners, and the order in which
 * sloppy quorum looks for fallbacks.
 *
 * Owners are chosen along the walks with bounded loads: every member has a
 * share of the partitions proportional to its weight (floor first, then
 * ceil), so that owners are balanced to within one partition; a partition
 * takes the first members of its walk that still have room. Random tokens
 * alone leave a node 12-50% away from its fair share at 64 tokens and
 * Q = 256 (measured); the bounds remove that while keeping the property that
 * matters: a join or a leave moves about 1/n of the replicas, not more.
 * Replicas of one partition are distinct members, on distinct racks when
 * the data center has enough racks, and `replication` may ask for a count
 * per data center ("east:3,west:2").
 *
 * API:
 *   ringParseReplication("3" | "dc1:3,dc2:2", spec, &n, err)
 *   ringCreate(members, n, qbits, spec, nspec)  -> ring (NULL on bad input)
 *   ringFree
 *   ringReplicas(ring, partition, &list)        owners, in preference order
 *   ringWalk(ring, partition, &list)            every member, clockwise
 *   ringHash(ring)                               fingerprint of the layout
 * Member indexes refer to the array given to ringCreate. */
#ifndef RINGKV_RING_H
#define RINGKV_RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_MAX_DCS 16
#define RING_NAME_LEN 64

typedef struct ringMember {
    const char *id;   /* stable node id (borrowed during ringCreate) */
    const char *dc;   /* data center name */
    const char *rack; /* rack name */
    int weight;       /* tokens, and share of the partitions */
} ringMember;

typedef struct ringDcSpec {
    char dc[RING_NAME_LEN]; /* data center, "" = any (plain "replication N") */
    int count;              /* replicas wanted there */
} ringDcSpec;

typedef struct ring {
    int qbits;       /* log2 of the partition count */
    unsigned q;      /* partitions */
    int nmembers;    /* members the ring was built from */
    int nreplicas;   /* replicas per partition (may be fewer than asked) */
    int *replicas;   /* q * nreplicas member indexes, preference order */
    int *walks;      /* q * nmembers member indexes, clockwise */
    uint64_t hash;   /* fingerprint: equal rings have equal hashes */
} ring;

int ringParseReplication(const char *s, ringDcSpec *spec, int *nspec, char *err, size_t errlen);
ring *ringCreate(const ringMember *m, int n, int qbits, const ringDcSpec *spec, int nspec);
void ringFree(ring *r);
static inline int ringReplicas(const ring *r, unsigned p, const int **list) {
    *list = r->replicas + (size_t)p * (size_t)r->nreplicas;
    return r->nreplicas;
}
static inline int ringWalk(const ring *r, unsigned p, const int **list) {
    *list = r->walks + (size_t)p * (size_t)r->nmembers;
    return r->nmembers;
}
static inline uint64_t ringHash(const ring *r) { return r->hash; }
/* Total replicas the spec asks for. */
int ringSpecTotal(const ringDcSpec *spec, int nspec);

#endif
