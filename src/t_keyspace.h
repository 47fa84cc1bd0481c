/* t_keyspace.h -- key and keyspace commands (t_keyspace.c): DEL, EXISTS,
 * TOUCH, the EXPIRE and TTL families, TYPE, RENAME, COPY, MOVE, DUMP,
 * RESTORE, KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, SELECT.
 *
 * API: the handlers below (rows of commands.c's table), and
 *   keyspaceCommandTable   rows gathered by commands.c (ends with a NULL
 *                          name): MOVE, DUMP, RESTORE, and OBJECT (whose
 *                          handler is t_server.c's) */
#ifndef RINGKV_T_KEYSPACE_H
#define RINGKV_T_KEYSPACE_H

#include "commands.h"
#include "request.h"

extern command keyspaceCommandTable[];

void delCommand(request *r);
void existsCommand(request *r);
void touchCommand(request *r);
void expireCommand(request *r);
void pexpireCommand(request *r);
void expireatCommand(request *r);
void pexpireatCommand(request *r);
void persistCommand(request *r);
void ttlCommand(request *r);
void pttlCommand(request *r);
void expiretimeCommand(request *r);
void pexpiretimeCommand(request *r);
void typeCommand(request *r);
void renameCommand(request *r);
void renamenxCommand(request *r);
void copyCommand(request *r);
void moveCommand(request *r);
void dumpCommand(request *r);
void restoreCommand(request *r);
void keysCommand(request *r);
void scanCommand(request *r);
void randomkeyCommand(request *r);
void dbsizeCommand(request *r);
void flushdbCommand(request *r);
void flushallCommand(request *r);
void selectCommand(request *r);

#endif
