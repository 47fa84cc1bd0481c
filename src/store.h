/* store.h -- RocksDB under ringkv: column families, the write batch of the
 * event-loop iteration (group commit), reads that see it, iterators, stats.
 *
 * Write path: storePut/storeDelete add to the batch of the current event-loop
 * iteration (a RocksDB WriteBatch, mirrored in a hash table so that storeGet
 * sees it at once). The
 * batch is written once, at the end of the iteration, as one RocksDB write:
 * WAL (commit log) -> memtable -> SSTables by flush and compaction. With
 * wal-fsync always that one write is synced, so one fsync covers every write
 * of the iteration (group commit); callbacks registered with
 * storeAfterCommit run after it, and only then may anything be acknowledged.
 *
 * Read path: batch -> memtable -> block cache -> bloom filters -> SSTables.
 *
 * Errors from RocksDB become a log line and a C_ERR/err string here and
 * nowhere else (STYLE habit 4).
 *
 * API:
 *   storeOpen/storeClose
 *   storeGet(cf, key, &value)          1 found, 0 absent, -1 error
 *   storePut/storeDelete(cf, ...)      into the current batch
 *   storeAfterCommit(cb, pd)           run cb once the batch is durable
 *   storeBeforeCommit(fn)              fn adds to each batch before it is written
 *   storeCommit()                      write the batch now
 *   storeDeleteRange(cf, from, to)     committed at once
 *   storeIter*                         ordered iteration (commits the batch first); on
 *                                      CF_DATA an iterator stays in the partition of
 *                                      the key it was sought to (no SeekFirst there)
 *   storeSyncWal()                     fsync the WAL (wal-fsync everysec)
 *   storeInfo(out)                     INFO storage lines
 */
#ifndef RINGKV_STORE_H
#define RINGKV_STORE_H

#include <stddef.h>

#include "util.h"

enum { CF_DATA = 0, CF_META, CF_EXPIRES, CF_HINTS, CF_COUNT };

typedef struct storeValue {
    char *ptr;  /* value bytes, owned: release with storeValueFree */
    size_t len; /* length */
} storeValue;

typedef void storeCommitCb(int ok, const char *err, void *pd);

typedef struct storeIter storeIter;

int storeOpen(const char *path, char **err); /* err: static or owned string, log it */
void storeClose(void);
int storeGet(int cf, const char *key, size_t klen, storeValue *v);
void storeValueFree(storeValue *v);
void storePut(int cf, const char *key, size_t klen, const char *val, size_t vlen);
void storeDelete(int cf, const char *key, size_t klen);
void storeAfterCommit(storeCommitCb *cb, void *pd);
/* fn runs at each commit of a non-empty batch, before it is written, and
 * may add to it (the server's clock mark rides in every batch). */
void storeBeforeCommit(void (*fn)(void));
int storeCommit(void);
int storeHasPending(void);
int storeDeleteRange(int cf, const char *from, size_t flen, const char *to, size_t tlen);
/* Compact a range (NULL = all) so range deletions free their space. */
void storeCompactRange(int cf, const char *from, size_t flen, const char *to, size_t tlen);
void storeSyncWal(void);
void storeInfo(buf *out);
const char *storeLastError(void);
unsigned long long storeWalSyncs(void);

storeIter *storeIterCreate(int cf);
void storeIterSeek(storeIter *it, const char *key, size_t klen);
void storeIterSeekBucket(storeIter *it, const char *prefix); /* CF_DATA, 3-byte prefix */
void storeIterSeekFirst(storeIter *it);
int storeIterValid(storeIter *it);
void storeIterNext(storeIter *it);
const char *storeIterKey(storeIter *it, size_t *len);
const char *storeIterValue(storeIter *it, size_t *len);
void storeIterFree(storeIter *it);

#endif
