/* t_keyspace.h -- key and keyspace commands (t_keyspace.c): DEL, EXISTS,
 * TOUCH, the EXPIRE and TTL families, TYPE, RENAME, COPY, KEYS, SCAN,
 * RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, SELECT.
 *
 * API: the handlers below (rows of commands.c's table). */
#ifndef RINGKV_T_KEYSPACE_H
#define RINGKV_T_KEYSPACE_H

#include "request.h"

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
void keysCommand(request *r);
void scanCommand(request *r);
void randomkeyCommand(request *r);
void dbsizeCommand(request *r);
void flushdbCommand(request *r);
void flushallCommand(request *r);
void selectCommand(request *r);

#endif
