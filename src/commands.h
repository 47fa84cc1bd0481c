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
 *   commandUnknownSubcommand(r)    Redis's error for a bad subcommand */
#ifndef RINGKV_COMMANDS_H
#define RINGKV_COMMANDS_H

#include <stddef.h>

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

/* handlers */
void getCommand(request *r);
void setCommand(request *r);
void setnxCommand(request *r);
void setexCommand(request *r);
void psetexCommand(request *r);
void getsetCommand(request *r);
void getdelCommand(request *r);
void getexCommand(request *r);
void mgetCommand(request *r);
void msetCommand(request *r);
void msetnxCommand(request *r);
void strlenCommand(request *r);
void appendCommand(request *r);
void getrangeCommand(request *r);
void setrangeCommand(request *r);
void incrCommand(request *r);
void decrCommand(request *r);
void incrbyCommand(request *r);
void decrbyCommand(request *r);
void incrbyfloatCommand(request *r);
void setbitCommand(request *r);
void getbitCommand(request *r);
void bitcountCommand(request *r);
void bitposCommand(request *r);
void bitopCommand(request *r);
void lcsCommand(request *r);
void vgetCommand(request *r);
void vsetCommand(request *r);

void delCommand(request *r);
void existsCommand(request *r);
void expireCommand(request *r);
void pexpireCommand(request *r);
void expireatCommand(request *r);
void pexpireatCommand(request *r);
void ttlCommand(request *r);
void pttlCommand(request *r);
void persistCommand(request *r);
void expiretimeCommand(request *r);
void pexpiretimeCommand(request *r);
void typeCommand(request *r);
void renameCommand(request *r);
void renamenxCommand(request *r);
void copyCommand(request *r);
void keysCommand(request *r);
void scanCommand(request *r);
void dbsizeCommand(request *r);
void flushdbCommand(request *r);
void flushallCommand(request *r);
void selectCommand(request *r);
void touchCommand(request *r);
void randomkeyCommand(request *r);

void pingCommand(request *r);
void echoCommand(request *r);
void quitCommand(request *r);
void helloCommand(request *r);
void authCommand(request *r);
void clientCommand(request *r);
void timeCommand(request *r);
void shutdownCommand(request *r);
void functionCommand(request *r);
void configCommand(request *r);
void slowlogCommand(request *r);
void multiCommand(request *r);
void execCommand(request *r);
void discardCommand(request *r);
void watchCommand(request *r);
void unwatchCommand(request *r);
void resetCommand(request *r);
void ringCommand(request *r);
void consistencyCommand(request *r);

#endif
