/* store.h -- RocksDB under ringkv: column families, the write batch of the
 * event-loop iteration (group commit), reads that see it, iterators, stats.
 *
 * Write path: storePut/storeMerge/storeDelete add to the batch of the current event-loop
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
 * nowhere else (STYLE habit 4); write errors are logged once per change of
 * the store's write health, not once per write.
 *
 * API:
 *   storeOpen/storeClose
 *   storeGet(cf, key, &value)          1 found, 0 absent, -1 error
 *   storePut/storeDelete(cf, ...)      into the current batch
 *   storeMerge(CF_DATA, key, record)   a record merged into the stored one (a
 *                                      merge operand: no read; RocksDB joins it
 *                                      with the record join, record.h)
 *   storeAfterCommit(cb, pd)           run cb once the batch is durable
 *   storeBeforeCommit(fn)              fn adds to each batch before it is written
 *                                      (up to 4 of them, run in the order given)
 *   storeCommit()                      write the batch now
 *   storeDeleteRange(cf, from, to)     committed at once
 *   storeIter*                         ordered iteration (commits the batch first); on
 *                                      CF_DATA an iterator stays in the partition of
 *                                      the key it was sought to (no SeekFirst there)
 *   storeCron()                        once a second: follows wal-fsync, reports
 *                                      the sync thread's failures, probes a failed
 *                                      store for RocksDB's resume
 *   storeWritable() / storeWriteError() 1 while writes are accepted / the text a
 *                                      refused write's callback gets ("" if none)
 *   storeOnWrite(fn)                   fn(ok) after each batch written or refused
 *   storeInfo(out)                     INFO storage lines
 *
 * A full disk (or another write error) is an error, not a crash: the batch
 * fails, its callbacks get ok = 0 and a text that names the disk
 * ("DISKFULL ..."), every later write fails the same way at once (reads go
 * on), one line is logged when that starts and one when it ends, and the
 * store writes again by itself once RocksDB resumed (after ENOSPC: once
 * memtable-size bytes are free). See store.c for the states.
 */
#ifndef RINGKV_STORE_H
#define RINGKV_STORE_H

#include <stddef.h>

#include "util.h"

/* CF_ZINDEX: sorted sets' score index (collkey.h), derived from CF_DATA's
 * element states by db.c; total order, walked both ways. CF_KSTATS: each
 * collection's element count and digest (collkey.h), derived the same way. */
enum { CF_DATA = 0, CF_META, CF_EXPIRES, CF_HINTS, CF_CLOCK, CF_ZINDEX, CF_KSTATS, CF_COUNT };

typedef struct storeValue {
    char *ptr;  /* value bytes, owned: release with storeValueFree */
    size_t len; /* length */
} storeValue;

/* err: NULL when ok; else the store's text for the failure (storeWriteError),
 * valid for the duration of the call. */
typedef void storeCommitCb(int ok, const char *err, void *pd);
/* ok: the batch is written; 0: refused, nothing of it is stored. */
typedef void storeWriteHook(int ok);

typedef struct storeIter storeIter;

int storeOpen(const char *path, char **err); /* err: static or owned string, log it */
void storeClose(void);
int storeGet(int cf, const char *key, size_t klen, storeValue *v);
void storeValueFree(storeValue *v);
void storePut(int cf, const char *key, size_t klen, const char *val, size_t vlen);
void storeDelete(int cf, const char *key, size_t klen);
/* A merge operand (an encoded record) for key; CF_DATA only. storeGet in the
 * same batch sees the merged record; durable like a put (WAL and memtable)
 * once the batch commits. */
void storeMerge(int cf, const char *key, size_t klen, const char *op, size_t oplen);
void storeAfterCommit(storeCommitCb *cb, void *pd);
/* fn runs at each commit of a non-empty batch, before it is written, and
 * may add to it (the server's clock mark rides in every batch). */
void storeBeforeCommit(void (*fn)(void));
int storeCommit(void);
int storeHasPending(void);
int storeDeleteRange(int cf, const char *from, size_t flen, const char *to, size_t tlen);
/* Compact a range (NULL = all) so range deletions free their space. */
void storeCompactRange(int cf, const char *from, size_t flen, const char *to, size_t tlen);
void storeCron(void);
int storeWritable(void);
const char *storeWriteError(void);
/* fn runs after each attempt to write a batch, before its callbacks: those
 * who keep state beside the batch take a refused batch's changes back.
 * Up to 4 hooks. */
void storeOnWrite(storeWriteHook *fn);
void storeInfo(buf *out);
const char *storeLastError(void);
unsigned long long storeWalSyncs(void);

storeIter *storeIterCreate(int cf);
void storeIterSeek(storeIter *it, const char *key, size_t klen);
void storeIterSeekBucket(storeIter *it, const char *prefix); /* CF_DATA, 3-byte prefix */
/* Not CF_DATA: the last key at or before key, and a step back. */
void storeIterSeekForPrev(storeIter *it, const char *key, size_t klen);
void storeIterPrev(storeIter *it);
void storeIterSeekFirst(storeIter *it);
int storeIterValid(storeIter *it);
void storeIterNext(storeIter *it);
const char *storeIterKey(storeIter *it, size_t *len);
const char *storeIterValue(storeIter *it, size_t *len);
void storeIterFree(storeIter *it);

#endif
