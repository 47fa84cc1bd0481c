/* commands.h -- the command table and COMMAND.
 *
 * A new command is one row in commands.c, one handler, one test (STYLE).
 * Each row carries what Redis's COMMAND reports (arity, flags, key positions)
 * and what COMMAND DOCS gives redis-cli for its hints (group, since,
 * summary, and an argument synopsis in help.h style, parsed into the
 * argument tree DOCS returns).
 *
 * API:
 *   commandsInit()                 build the lookup table
 *   commandLookup(name, len)       NULL if unknown
 *   commandCommand(r)              COMMAND [COUNT|INFO|DOCS|LIST|GETKEYS]
 *   commandUnknownSubcommand(r)    Redis's error for a bad subcommand
 *   commandTableAt(i)              every command, for stats
 * The handlers are declared by the modules that define them (t_string.h,
 * t_bitops.h, t_keyspace.h, t_server.h, t_cluster.h, multi.h, info.h,
 * metrics.h). */
#ifndef RINGKV_COMMANDS_H
#define RINGKV_COMMANDS_H

#include <stddef.h>

#include "request.h"
#include "server.h"

#define CMD_WRITE (1 << 0)
#define CMD_READONLY (1 << 1)
#define CMD_FAST (1 << 2)
#define CMD_NOAUTH (1 << 3)  /* allowed before AUTH */
#define CMD_ADMIN (1 << 4)
#define CMD_STALE (1 << 5)
#define CMD_LOADING (1 << 6)
#define CMD_NOSCRIPT (1 << 7)
#define CMD_BARRIER (1 << 8) /* keyless data command: starts after the client's earlier ones */
#define CMD_BLIND (1 << 9)   /* a write that reads nothing (lock shared with its kind) */
#define CMD_IN_MULTI (1 << 10)   /* runs at once inside MULTI instead of being queued */
#define CMD_ENDS_MULTI (1 << 11) /* a call rejected by the dispatcher ends the transaction
                                    (EXEC: EXECABORT, as Redis) */

typedef struct command {
    const char *name;   /* lower case */
    commandProc *proc;  /* handler */
    int arity;          /* > 0 exact argc, < 0 at least -arity */
    int flags;          /* CMD_* */
    int firstkey;       /* first key argument, 0 = none */
    int lastkey;        /* last key argument, -1 = last arg, -2 = before last... */
    int keystep;        /* step between keys */
    const char *group;  /* COMMAND DOCS group */
    const char *since;  /* Redis version that introduced it */
    const char *summary;
    const char *args;   /* synopsis, e.g. "key [key ...]" */
    /* stats (info.c) */
    long long calls;
    long long usec;
    long long failed_calls;
    long long rejected_calls;
} command;

void commandsInit(void);
command *commandLookup(const char *name, size_t len);
/* The keys of a call and the lock mode they need (keylock.h); returns the
 * number of keys, their argv indexes in idx (room for argc entries). */
int commandKeys(const command *c, int argc, char **argv, int *idx, int *mode);
void commandCommand(request *r);
void commandUnknownSubcommand(request *r);
/* Iterate every command (for INFO commandstats). */
command *commandTableAt(int i);

#endif
