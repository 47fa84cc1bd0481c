/* forward.h -- sending work to a key's version coordinator (forward.c).
 *
 * API:
 *   forwardWrite(r, db, key, level, t, n, first, op, cb, pd)   COORD
 *   forwardCommand(r)                                          CMD */
#ifndef RINGKV_FORWARD_H
#define RINGKV_FORWARD_H

#include "coord.h"
#include "quorum.h"

/* Sends the write to the first reachable replica from t[first] on (first
 * -1: none is) and calls cb with its answer; if this node comes first, it
 * coordinates the write itself (write.c). Takes over one pending count the
 * caller holds on r; key, op and t are copied. */
void forwardWrite(request *r, int db, const char *key, size_t klen, int level,
                  const quorumTarget *t, int n, int first, const writeOp *op, coordCallback *cb,
                  void *pd);
/* Sends r to the key's version coordinator if r is a single-key
 * read-modify-write and that is another node; returns 1 if it did (r
 * completes when the answer comes; called by client.c). */
int forwardCommand(request *r);

#endif
