/* multi.h -- MULTI / EXEC / DISCARD / WATCH (multi.c).
 *
 * API:
 *   multiCommand, execCommand, discardCommand, watchCommand, unwatchCommand
 *   multiQueue(c, r)        the dispatcher queues r in c's transaction
 *   multiFlagDirty(c)       a command failed to queue: EXEC will abort
 *   multiAbort(c, r, why)   EXEC was rejected by the dispatcher: end the
 *                           transaction, answer r EXECABORT (as Redis)
 *   multiFree(c)            drop c's transaction (DISCARD, RESET, teardown) */
#ifndef RINGKV_MULTI_H
#define RINGKV_MULTI_H

#include "client.h"

void multiCommand(request *r);
void execCommand(request *r);
void discardCommand(request *r);
void watchCommand(request *r);
void unwatchCommand(request *r);

void multiQueue(client *c, request *r);
void multiFlagDirty(client *c);
void multiAbort(client *c, request *r, const char *why);
void multiFree(client *c);

#endif
