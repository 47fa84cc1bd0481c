/* write.h -- a write at its version coordinator (write.c).
 *
 * API:
 *   writeCoordinate(r, db, key, level, op, cb, pd)   for a client's request
 *   writeCoordinateFor(req, db, key, level, op)      for a COORD request
 *   writeCoordinateBatch(r, db, key, level, batch, ...) a collection's deltas
 *   writeRepair(member, db, key, enc)                send a merged record */
#ifndef RINGKV_WRITE_H
#define RINGKV_WRITE_H

#include "bus.h"
#include "coord.h"

/* This node coordinates the write of op to (db, key) at level and calls cb
 * once the level is met or lost. Takes over one pending count the caller
 * holds on r; key and op are copied. */
void writeCoordinate(request *r, int db, const char *key, size_t klen, int level,
                     const writeOp *op, coordCallback *cb, void *pd);
/* The same for a collection's batch of deltas (collbatch.h): stored here
 * if this node replicates the key, sent to the other replicas as TPUT; no
 * fallbacks. batch is copied. */
void writeCoordinateBatch(request *r, int db, const char *key, size_t klen, int level,
                          const char *batch, size_t blen, coordCallback *cb, void *pd);
/* The same for a write another node forwarded: answers req (OK, or the
 * error), -NOTREPLICA at once if this node does not replicate the key. */
void writeCoordinateFor(busReq *req, int db, const char *key, size_t klen, int level,
                        const writeOp *op);
/* Sends a record (encoded) for (db, key) to a member, which merges it;
 * nobody waits for the answer (read repair). enc is borrowed. */
void writeRepair(int member, int db, const char *key, size_t klen, const buf *enc);

/* Writes this node coordinates for other nodes (COORD) and has not answered
 * yet (a draining shutdown waits for 0). */
long writeForPeersInFlight(void);

#endif
