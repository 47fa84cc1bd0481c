/* hints.h -- hinted handoff: writes kept by a fallback node for a replica
 * that was down, served to reads while it is away, and handed over when
 * gossip sees it again.
 *
 * A hint is the merged record of one key for one intended owner, stored in
 * the hints column family with the time it was first stored. Delivery sends
 * the record to its owner as a normal replica write (the owner merges it:
 * versions keep their clocks, a duplicate delivery is harmless) and deletes
 * the hint only once the owner acknowledged exactly what is stored.
 *
 * Bounded: a hint older than hint-max-age is dropped (counted and logged;
 * anti-entropy repairs the owner from the other replicas), and a fallback
 * refuses new hints for an owner beyond hint-max-bytes (the write then
 * counts one acknowledgement less: visible, not hidden).
 *
 * API:
 *   hintsInit()                       count what is stored, start delivery
 *   hintsRead(owner, db, key, rec, hold)   1 / 0 / -1, as dbRead
 *   hintsInfo(out)                    INFO hints
 * Bus requests served: HPUT owner db key record, HGET owner db key. */
#ifndef RINGKV_HINTS_H
#define RINGKV_HINTS_H

#include "record.h"
#include "store.h"

void hintsInit(void);
/* Merges rec into the hint for (owner, key); cb runs once it is durable.
 * C_ERR with *err set (cb not called) at hint-max-bytes or on a storage
 * error. */
int hintsStore(const char *owner, int db, const char *key, size_t klen, const record *rec,
               storeCommitCb *cb, void *pd, const char **err);
int hintsRead(const char *owner, int db, const char *key, size_t klen, record *rec,
              storeValue *hold);
void hintsInfo(buf *out);
long long hintsPending(void);

#endif
