/* commands.c -- the command table, lookup, and COMMAND (COUNT, INFO, DOCS,
 * LIST, GETKEYS).
 *
 * COMMAND DOCS turns each row's synopsis ("key value [NX|XX] [GET]") into
 * the argument tree redis-cli 7 reads for its hints and HELP output: words
 * in capitals are tokens, [..] is optional, a|b is oneof, "x [x ...]" is
 * multiple. The synopses are the user-facing doc, so they are written the
 * way Redis's own help shows them. */
#include "commands.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "info.h"
#include "keylock.h"
#include "metrics.h"
#include "multi.h"
#include "t_bitfield.h"
#include "t_bitops.h"
#include "t_cluster.h"
#include "t_keyspace.h"
#include "t_hash.h"
#include "t_geo.h"
#include "t_hll.h"
#include "t_server.h"
#include "t_set.h"
#include "t_sort.h"
#include "t_string.h"
#include "t_zset.h"

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST

static command table[] = {
    /* strings */
    {"get", getCommand, 2, R | F, 1, 1, 1, "string", "1.0.0", "Get the value of a key", "key", 0, 0, 0, 0},
    {"set", setCommand, -3, W | CMD_BLIND, 1, 1, 1, "string", "1.0.0", "Set the string value of a key",
     "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]", 0, 0, 0, 0},
    {"setnx", setnxCommand, 3, W | F, 1, 1, 1, "string", "1.0.0", "Set the value of a key, only if the key does not exist", "key value", 0, 0, 0, 0},
    {"setex", setexCommand, 4, W | CMD_BLIND, 1, 1, 1, "string", "2.0.0", "Set the value and expiration of a key", "key seconds value", 0, 0, 0, 0},
    {"psetex", psetexCommand, 4, W | CMD_BLIND, 1, 1, 1, "string", "2.6.0", "Set the value and expiration in milliseconds of a key", "key milliseconds value", 0, 0, 0, 0},
    {"getset", getsetCommand, 3, W | F, 1, 1, 1, "string", "1.0.0", "Set the string value of a key and return its old value", "key value", 0, 0, 0, 0},
    {"getdel", getdelCommand, 2, W | F, 1, 1, 1, "string", "6.2.0", "Get the value of a key and delete the key", "key", 0, 0, 0, 0},
    {"getex", getexCommand, -2, W | F, 1, 1, 1, "string", "6.2.0", "Get the value of a key and optionally set its expiration",
     "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]", 0, 0, 0, 0},
    {"mget", mgetCommand, -2, R | F, 1, -1, 1, "string", "1.0.0", "Get the values of all the given keys", "key [key ...]", 0, 0, 0, 0},
    {"mset", msetCommand, -3, W | CMD_BLIND, 1, -1, 2, "string", "1.0.1", "Set multiple keys to multiple values", "key value [key value ...]", 0, 0, 0, 0},
    {"msetnx", msetnxCommand, -3, W, 1, -1, 2, "string", "1.0.1", "Set multiple keys to multiple values, only if none of the keys exist", "key value [key value ...]", 0, 0, 0, 0},
    {"strlen", strlenCommand, 2, R | F, 1, 1, 1, "string", "2.2.0", "Get the length of the value stored in a key", "key", 0, 0, 0, 0},
    {"append", appendCommand, 3, W | F, 1, 1, 1, "string", "2.0.0", "Append a value to a key", "key value", 0, 0, 0, 0},
    {"getrange", getrangeCommand, 4, R, 1, 1, 1, "string", "2.4.0", "Get a substring of the string stored at a key", "key start end", 0, 0, 0, 0},
    {"substr", getrangeCommand, 4, R, 1, 1, 1, "string", "1.0.0", "Get a substring of the string stored at a key", "key start end", 0, 0, 0, 0},
    {"setrange", setrangeCommand, 4, W, 1, 1, 1, "string", "2.2.0", "Overwrite part of a string at key starting at the specified offset", "key offset value", 0, 0, 0, 0},
    {"incr", incrCommand, 2, W | F, 1, 1, 1, "string", "1.0.0", "Increment the integer value of a key by one", "key", 0, 0, 0, 0},
    {"decr", decrCommand, 2, W | F, 1, 1, 1, "string", "1.0.0", "Decrement the integer value of a key by one", "key", 0, 0, 0, 0},
    {"incrby", incrbyCommand, 3, W | F, 1, 1, 1, "string", "1.0.0", "Increment the integer value of a key by the given amount", "key increment", 0, 0, 0, 0},
    {"decrby", decrbyCommand, 3, W | F, 1, 1, 1, "string", "1.0.0", "Decrement the integer value of a key by the given number", "key decrement", 0, 0, 0, 0},
    {"incrbyfloat", incrbyfloatCommand, 3, W | F, 1, 1, 1, "string", "2.6.0", "Increment the float value of a key by the given amount", "key increment", 0, 0, 0, 0},
    {"setbit", setbitCommand, 4, W, 1, 1, 1, "bitmap", "2.2.0", "Sets or clears the bit at offset in the string value stored at key", "key offset value", 0, 0, 0, 0},
    {"getbit", getbitCommand, 3, R | F, 1, 1, 1, "bitmap", "2.2.0", "Returns the bit value at offset in the string value stored at key", "key offset", 0, 0, 0, 0},
    {"bitcount", bitcountCommand, -2, R, 1, 1, 1, "bitmap", "2.6.0", "Count set bits in a string", "key [start end [BYTE|BIT]]", 0, 0, 0, 0},
    {"bitpos", bitposCommand, -3, R, 1, 1, 1, "bitmap", "2.8.7", "Find first bit set or clear in a string", "key bit [start [end [BYTE|BIT]]]", 0, 0, 0, 0},
    {"bitop", bitopCommand, -4, W, 2, -1, 1, "bitmap", "2.6.0", "Perform bitwise operations between strings", "operation destkey key [key ...]", 0, 0, 0, 0},
    {"lcs", lcsCommand, -3, R, 1, 2, 1, "string", "7.0.0", "Find longest common substring", "key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]", 0, 0, 0, 0},
    /* versions (ringkv) */
    {"vget", vgetCommand, 2, R | F, 1, 1, 1, "string", "ringkv", "Get every sibling version of a key with its causal context", "key", 0, 0, 0, 0},
    {"vset", vsetCommand, 4, W, 1, 1, 1, "string", "ringkv", "Write a value that supersedes exactly the versions of a causal context", "key context value", 0, 0, 0, 0},
    /* keyspace */
    {"del", delCommand, -2, W, 1, -1, 1, "generic", "1.0.0", "Delete a key", "key [key ...]", 0, 0, 0, 0},
    {"unlink", delCommand, -2, W | F, 1, -1, 1, "generic", "4.0.0", "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", "key [key ...]", 0, 0, 0, 0},
    {"exists", existsCommand, -2, R | F, 1, -1, 1, "generic", "1.0.0", "Determine if a key exists", "key [key ...]", 0, 0, 0, 0},
    {"touch", touchCommand, -2, R | F, 1, -1, 1, "generic", "3.2.1", "Alters the last access time of a key(s). Returns the number of existing keys specified.", "key [key ...]", 0, 0, 0, 0},
    {"expire", expireCommand, -3, W | F, 1, 1, 1, "generic", "1.0.0", "Set a key's time to live in seconds", "key seconds [NX|XX|GT|LT]", 0, 0, 0, 0},
    {"pexpire", pexpireCommand, -3, W | F, 1, 1, 1, "generic", "2.6.0", "Set a key's time to live in milliseconds", "key milliseconds [NX|XX|GT|LT]", 0, 0, 0, 0},
    {"expireat", expireatCommand, -3, W | F, 1, 1, 1, "generic", "1.2.0", "Set the expiration for a key as a UNIX timestamp", "key unix-time-seconds [NX|XX|GT|LT]", 0, 0, 0, 0},
    {"pexpireat", pexpireatCommand, -3, W | F, 1, 1, 1, "generic", "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "key unix-time-milliseconds [NX|XX|GT|LT]", 0, 0, 0, 0},
    {"ttl", ttlCommand, 2, R | F, 1, 1, 1, "generic", "1.0.0", "Get the time to live for a key in seconds", "key", 0, 0, 0, 0},
    {"pttl", pttlCommand, 2, R | F, 1, 1, 1, "generic", "2.6.0", "Get the time to live for a key in milliseconds", "key", 0, 0, 0, 0},
    {"expiretime", expiretimeCommand, 2, R | F, 1, 1, 1, "generic", "7.0.0", "Get the expiration Unix timestamp for a key", "key", 0, 0, 0, 0},
    {"pexpiretime", pexpiretimeCommand, 2, R | F, 1, 1, 1, "generic", "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", "key", 0, 0, 0, 0},
    {"persist", persistCommand, 2, W | F, 1, 1, 1, "generic", "2.2.0", "Remove the expiration from a key", "key", 0, 0, 0, 0},
    {"type", typeCommand, 2, R | F, 1, 1, 1, "generic", "1.0.0", "Determine the type stored at key", "key", 0, 0, 0, 0},
    {"rename", renameCommand, 3, W, 1, 2, 1, "generic", "1.0.0", "Rename a key", "key newkey", 0, 0, 0, 0},
    {"renamenx", renamenxCommand, 3, W | F, 1, 2, 1, "generic", "1.0.0", "Rename a key, only if the new key does not exist", "key newkey", 0, 0, 0, 0},
    {"copy", copyCommand, -3, W, 1, 2, 1, "generic", "6.2.0", "Copy a key", "source destination [DB destination-db] [REPLACE]", 0, 0, 0, 0},
    {"keys", keysCommand, 2, R | CMD_BARRIER, 0, 0, 0, "generic", "1.0.0", "Find all keys matching the given pattern", "pattern", 0, 0, 0, 0},
    {"scan", scanCommand, -2, R | CMD_BARRIER, 0, 0, 0, "generic", "2.8.0", "Incrementally iterate the keys space", "cursor [MATCH pattern] [COUNT count] [TYPE type]", 0, 0, 0, 0},
    {"randomkey", randomkeyCommand, 1, R | CMD_BARRIER, 0, 0, 0, "generic", "1.0.0", "Return a random key from the keyspace", "", 0, 0, 0, 0},
    {"dbsize", dbsizeCommand, 1, R | F | CMD_BARRIER, 0, 0, 0, "server", "1.0.0", "Return the number of keys in the selected database", "", 0, 0, 0, 0},
    {"flushdb", flushdbCommand, -1, W | CMD_BARRIER, 0, 0, 0, "server", "1.0.0", "Remove all keys from the current database", "[ASYNC|SYNC]", 0, 0, 0, 0},
    {"flushall", flushallCommand, -1, W | CMD_BARRIER, 0, 0, 0, "server", "1.0.0", "Remove all keys from all databases", "[ASYNC|SYNC]", 0, 0, 0, 0},
    {"select", selectCommand, 2, CMD_LOADING | CMD_STALE | F, 0, 0, 0, "connection", "1.0.0", "Change the selected database for the current connection", "index", 0, 0, 0, 0},
    /* connection and server */
    {"ping", pingCommand, -1, F | CMD_STALE, 0, 0, 0, "connection", "1.0.0", "Ping the server", "[message]", 0, 0, 0, 0},
    {"echo", echoCommand, 2, F, 0, 0, 0, "connection", "1.0.0", "Echo the given string", "message", 0, 0, 0, 0},
    {"quit", quitCommand, -1, CMD_IN_MULTI | CMD_NOAUTH | F | CMD_STALE | CMD_LOADING, 0, 0, 0, "connection", "1.0.0", "Close the connection", "", 0, 0, 0, 0},
    {"hello", helloCommand, -1, CMD_NOAUTH | F | CMD_STALE | CMD_LOADING, 0, 0, 0, "connection", "6.0.0", "Handshake with Redis", "[protover [AUTH username password] [SETNAME clientname]]", 0, 0, 0, 0},
    {"auth", authCommand, -2, CMD_NOAUTH | F | CMD_STALE | CMD_LOADING, 0, 0, 0, "connection", "1.0.0", "Authenticate to the server", "[username] password", 0, 0, 0, 0},
    {"reset", resetCommand, 1, CMD_IN_MULTI | CMD_NOAUTH | F | CMD_STALE | CMD_LOADING, 0, 0, 0, "connection", "6.2.0", "Reset the connection", "", 0, 0, 0, 0},
    {"client", clientCommand, -2, CMD_STALE | CMD_LOADING, 0, 0, 0, "connection", "2.4.0", "A container for client connection commands",
     "subcommand [arg [arg ...]]", 0, 0, 0, 0},
    {"command", commandCommand, -1, CMD_STALE | CMD_LOADING, 0, 0, 0, "server", "2.8.13", "Get array of Redis command details", "[subcommand [arg [arg ...]]]", 0, 0, 0, 0},
    {"config", configCommand, -2, CMD_ADMIN | CMD_STALE | CMD_LOADING, 0, 0, 0, "server", "2.0.0", "A container for server configuration commands", "subcommand [arg [arg ...]]", 0, 0, 0, 0},
    {"info", infoCommand, -1, CMD_STALE | CMD_LOADING, 0, 0, 0, "server", "1.0.0", "Get information and statistics about the server", "[section [section ...]]", 0, 0, 0, 0},
    {"slowlog", slowlogCommand, -2, CMD_ADMIN | CMD_LOADING | CMD_STALE, 0, 0, 0, "server", "2.2.12", "A container for slow log commands", "subcommand [arg [arg ...]]", 0, 0, 0, 0},
    {"time", timeCommand, 1, F | CMD_STALE | CMD_LOADING, 0, 0, 0, "server", "2.6.0", "Return the current server time", "", 0, 0, 0, 0},
    {"shutdown", shutdownCommand, -1, CMD_ADMIN | CMD_STALE | CMD_LOADING | CMD_NOAUTH, 0, 0, 0, "server", "1.0.0", "Synchronously save the dataset to disk and then shut down the server", "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]", 0, 0, 0, 0},
    /* transactions (no isolation across keys: see multi.c and README) */
    {"multi", multiCommand, 1, CMD_IN_MULTI | F | CMD_LOADING | CMD_STALE | CMD_NOSCRIPT, 0, 0, 0, "transactions", "1.2.0", "Mark the start of a transaction block", "", 0, 0, 0, 0},
    {"exec", execCommand, 1, CMD_IN_MULTI | CMD_ENDS_MULTI | CMD_LOADING | CMD_STALE | CMD_NOSCRIPT, 0, 0, 0, "transactions", "1.2.0", "Execute all commands issued after MULTI", "", 0, 0, 0, 0},
    {"discard", discardCommand, 1, CMD_IN_MULTI | F | CMD_LOADING | CMD_STALE | CMD_NOSCRIPT, 0, 0, 0, "transactions", "2.0.0", "Discard all commands issued after MULTI", "", 0, 0, 0, 0},
    {"watch", watchCommand, -2, CMD_IN_MULTI | F | CMD_LOADING | CMD_STALE | CMD_NOSCRIPT, 1, -1, 1, "transactions", "2.2.0", "Not supported: ringkv has no isolation across keys", "key [key ...]", 0, 0, 0, 0},
    {"unwatch", unwatchCommand, 1, F | CMD_LOADING | CMD_STALE | CMD_NOSCRIPT, 0, 0, 0, "transactions", "2.2.0", "Forget about all watched keys (there never are any)", "", 0, 0, 0, 0},
    /* cluster (ringkv) */
    {"ring", ringCommand, -2, CMD_ADMIN | CMD_STALE, 0, 0, 0, "cluster", "ringkv", "Cluster membership and placement: NODES, INFO, OWNERS, LOCAL, JOIN", "subcommand [arg [arg ...]]", 0, 0, 0, 0},
    {"consistency", consistencyCommand, -1, F | CMD_STALE, 0, 0, 0, "connection", "ringkv", "Show or set this connection's read and write consistency levels", "[READ level] [WRITE level]", 0, 0, 0, 0},
    {"function", functionCommand, -2, CMD_NOSCRIPT, 0, 0, 0, "scripting", "7.0.0", "A container for function commands (ringkv has no functions)", "subcommand [arg [arg ...]]", 0, 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};

#undef W
#undef R
#undef F

/* ------------------------------------------------------------------ lookup */

#define LOOKUP_SIZE 1024 /* power of two, > 2x the commands */
static command *lookupTable[LOOKUP_SIZE];

static unsigned nameHash(const char *s, size_t len) {
    unsigned h = 5381;
    for (size_t i = 0; i < len; i++) h = h * 33 + (unsigned)tolower((unsigned char)s[i]);
    return h & (LOOKUP_SIZE - 1);
}

/* Every command: this file's table, then each module's own table
 * (t_keyspace.c's newer key commands; t_set.c, t_hash.c, t_zset.c, t_hll.c: a
 * command there is one row in its module), copied into one array at start. */
static command *all;
static int nall;

static void gather(const command *t) {
    int n = 0;
    while (t[n].name) n++;
    all = zrealloc(all, sizeof(command) * (size_t)(nall + n + 1));
    memcpy(all + nall, t, sizeof(command) * (size_t)n);
    nall += n;
    memset(&all[nall], 0, sizeof(command));
}

void commandsInit(void) {
    if (!all) {
        gather(table);
        gather(keyspaceCommandTable);
        gather(setCommandTable);
        gather(hashCommandTable);
        gather(zsetCommandTable);
        gather(hllCommandTable);
        gather(bitfieldCommandTable);
        gather(sortCommandTable);
        gather(geoCommandTable);
    }
    for (command *c = all; c->name; c++) {
        unsigned h = nameHash(c->name, strlen(c->name));
        while (lookupTable[h]) h = (h + 1) & (LOOKUP_SIZE - 1);
        lookupTable[h] = c;
    }
}

command *commandLookup(const char *name, size_t len) {
    if (len == 0 || len > 32) return NULL;
    unsigned h = nameHash(name, len);
    while (lookupTable[h]) {
        command *c = lookupTable[h];
        if (strlen(c->name) == len && !strncasecmp(c->name, name, len)) return c;
        h = (h + 1) & (LOOKUP_SIZE - 1);
    }
    return NULL;
}

/* Commands whose keys follow a count argument (Redis's movable keys):
 * numkeys is argv[numidx], the keys come after it; dest is a key before it
 * (the *STORE commands' destination), 0 for none. */
static const struct {
    const char *name;
    int numidx, dest;
} numkeysCommands[] = {
    {"sintercard", 1, 0}, {"zintercard", 1, 0}, {"zunion", 1, 0},      {"zinter", 1, 0},
    {"zdiff", 1, 0},      {"zmpop", 1, 0},      {"zunionstore", 2, 1}, {"zinterstore", 2, 1},
    {"zdiffstore", 2, 1},
};

int commandKeys(const command *c, int argc, char **argv, int *idx, int *mode) {
    int n = 0;
    for (size_t k = 0; k < sizeof(numkeysCommands) / sizeof(numkeysCommands[0]); k++) {
        if (strcmp(c->name, numkeysCommands[k].name)) continue;
        int ni = numkeysCommands[k].numidx;
        long long nk = 0;
        if (numkeysCommands[k].dest && numkeysCommands[k].dest < argc)
            idx[n++] = numkeysCommands[k].dest;
        if (ni < argc && string2ll(argv[ni], strlen(argv[ni]), &nk) && nk > 0)
            for (long long i = 0; i < nk && ni + 1 + i < argc; i++) idx[n++] = ni + 1 + (int)i;
        *mode = (c->flags & CMD_READONLY) ? LOCK_READ : LOCK_EXCL;
        return n;
    }
    if (c->firstkey > 0 && c->firstkey < argc) {
        int last = c->lastkey < 0 ? argc + c->lastkey : c->lastkey;
        if (last >= argc) last = argc - 1;
        for (int i = c->firstkey; i <= last; i += c->keystep) idx[n++] = i;
    }
    if (c->flags & CMD_READONLY) {
        *mode = LOCK_READ;
    } else if (c->flags & CMD_BLIND) {
        *mode = LOCK_BLIND;
        /* SET with NX/XX/GET/KEEPTTL reads before it writes */
        if (c->proc == setCommand)
            for (int i = 3; i < argc; i++)
                if (!strcasecmp(argv[i], "nx") || !strcasecmp(argv[i], "xx") ||
                    !strcasecmp(argv[i], "get") || !strcasecmp(argv[i], "keepttl"))
                    *mode = LOCK_EXCL;
    } else {
        *mode = LOCK_EXCL;
    }
    return n;
}

command *commandTableAt(int i) {
    if (i < 0 || i >= nall) return NULL;
    return &all[i];
}

static int tableLen(void) { return nall; }

/* The subcommands the container commands know, with Redis 7.0's arity, so
 * that a known subcommand called with arguments its handler did not accept
 * gets the error Redis gives (arity, else syntax) rather than "unknown";
 * and with their docs, which COMMAND DOCS lists under "subcommands" as
 * "cmd|sub" (redis-cli then hints "CLIENT SETNAME connection-name"). */
static const struct {
    const char *cmd, *sub;
    int arity;
    const char *since, *summary, *args;
} subcommands[] = {
    {"config", "get", -3, "2.0.0", "Get the values of configuration parameters", "parameter [parameter ...]"},
    {"config", "set", -4, "2.0.0", "Set configuration parameters to the given values", "parameter value [parameter value ...]"},
    {"config", "resetstat", 2, "2.0.0", "Reset the stats returned by INFO", ""},
    {"config", "rewrite", 2, "2.8.0", "Rewrite the configuration file with the in memory configuration", ""},
    {"config", "help", 2, "5.0.0", "Show helpful text about the different subcommands", ""},
    {"client", "id", 2, "5.0.0", "Returns the client ID for the current connection", ""},
    {"client", "getname", 2, "2.6.9", "Get the current connection name", ""},
    {"client", "setname", 3, "2.6.9", "Set the current connection name", "connection-name"},
    {"client", "setinfo", 4, "7.2.0", "Set client or connection specific info", "LIB-NAME libname|LIB-VER libver"},
    {"client", "info", 2, "6.2.0", "Returns information about the current client connection.", ""},
    {"client", "list", -2, "2.4.0", "Get the list of client connections", "[TYPE type] [ID client-id]"},
    {"client", "kill", -3, "2.4.0", "Kill the connection of a client", "ip:port|ID client-id|ADDR ip:port"},
    {"client", "no-evict", 3, "7.0.0", "Set client eviction mode for the current connection", "ON|OFF"},
    {"client", "no-touch", 3, "7.2.0", "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.", "ON|OFF"},
    {"client", "help", 2, "5.0.0", "Show helpful text about the different subcommands", ""},
    {"command", "count", 2, "2.8.13", "Get total number of commands", ""},
    {"command", "info", -2, "2.8.13", "Get array of specific command details, or all when no argument is given.", "[command-name [command-name ...]]"},
    {"command", "docs", -2, "7.0.0", "Get array of specific command documentation", "[command-name [command-name ...]]"},
    {"command", "list", -2, "7.0.0", "Get an array of command names", ""},
    {"command", "getkeys", -4, "2.8.13", "Extract keys given a full command", ""},
    {"command", "help", 2, "5.0.0", "Show helpful text about the different subcommands", ""},
    {"object", "encoding", 3, "2.2.3", "Inspect the internal encoding of a Redis object", "key"},
    {"object", "freq", 3, "4.0.0", "Get the logarithmic access frequency counter of a Redis object", "key"},
    {"object", "idletime", 3, "2.2.3", "Get the time since a Redis object was last accessed", "key"},
    {"object", "refcount", 3, "2.2.3", "Get the number of references to the value of the key", "key"},
    {"object", "help", 2, "6.2.0", "Show helpful text about the different subcommands", ""},
    {"memory", "usage", -3, "4.0.0", "Estimate the memory usage of a key", "key [SAMPLES count]"},
    {"memory", "help", 2, "4.0.0", "Show helpful text about the different subcommands", ""},
    {"slowlog", "get", -2, "2.2.12", "Get the slow log's entries", "[count]"},
    {"slowlog", "len", 2, "2.2.12", "Get the slow log's length", ""},
    {"slowlog", "reset", 2, "2.2.12", "Clear all entries from the slow log", ""},
    {"slowlog", "help", 2, "6.2.0", "Show helpful text about the different subcommands", ""},
    {"function", "flush", -2, "7.0.0", "Deleting all functions (ringkv has none)", "[ASYNC|SYNC]"},
    {"function", "list", -2, "7.0.0", "List information about all the functions (ringkv has none)", ""},
    {"ring", "nodes", 2, "ringkv", "One line per node: id host:port@bus dc rack weight health status", ""},
    {"ring", "info", 2, "ringkv", "Partitions, replication, quorums, mode, ring hash, coordinator stats", ""},
    {"ring", "owners", 3, "ringkv", "The key's replicas (client host:port) in preference order", "key"},
    {"ring", "local", 3, "ringkv", "This node's stored versions of a key: [value, clock] each", "key"},
    {"ring", "join", 3, "ringkv", "Join the cluster the given node belongs to", "host:port"},
    {"ring", "leave", 2, "ringkv", "Hand this node's partitions to their new owners, then stop", ""},
    {"ring", "forget", 3, "ringkv", "Remove a dead node; its partitions' new replicas are filled from the others", "node-id"},
    {"ring", "plan", -3, "ringkv", "What a join or a leave would move, moving nothing", "JOIN host:port [WEIGHT weight] [DC dc] [RACK rack]|LEAVE [node-id]"},
    {"ring", "repair", -2, "ringkv", "Anti-entropy pass with every replica now (waits for the end unless ASYNC)", "[ASYNC]"},
    {"ring", "status", 2, "ringkv", "Repairs and transfers in progress", ""},
    {"ring", "help", 2, "ringkv", "Show helpful text about the different subcommands", ""},
    {NULL, NULL, 0, NULL, NULL, NULL}};

void commandUnknownSubcommand(request *r) {
    const char *name = r->cmd ? r->cmd->name : "";
    for (int i = 0; subcommands[i].cmd; i++) {
        if (strcmp(subcommands[i].cmd, name) || strcasecmp(subcommands[i].sub, r->argv[1]))
            continue;
        int a = subcommands[i].arity;
        if ((a > 0 && r->argc != a) || r->argc < -a)
            addReplyErrorFormat(r, "wrong number of arguments for '%s|%s' command", name,
                                subcommands[i].sub);
        else
            addReplyError(r, ERR_SYNTAX);
        return;
    }
    /* Redis names the command as the client typed it, in capitals */
    char upper[64];
    size_t n = r->argvlen[0] < sizeof(upper) - 1 ? r->argvlen[0] : sizeof(upper) - 1;
    for (size_t i = 0; i < n; i++) upper[i] = (char)toupper((unsigned char)r->argv[0][i]);
    upper[n] = '\0';
    addReplyErrorFormat(r, "unknown subcommand '%.128s'. Try %s HELP.", r->argv[1], upper);
}

/* ------------------------------------------------------------ COMMAND INFO */

static void addFlags(request *r, const command *c) {
    const char *names[12];
    int n = 0;
    if (c->flags & CMD_WRITE) names[n++] = "write";
    if (c->flags & CMD_READONLY) names[n++] = "readonly";
    if (c->flags & CMD_ADMIN) names[n++] = "admin";
    if (c->flags & CMD_NOSCRIPT) names[n++] = "noscript";
    if (c->flags & CMD_LOADING) names[n++] = "loading";
    if (c->flags & CMD_STALE) names[n++] = "stale";
    if (c->flags & CMD_NOAUTH) names[n++] = "no_auth";
    if (c->flags & CMD_FAST) names[n++] = "fast";
    addReplySetLen(r, n);
    for (int i = 0; i < n; i++) addReplyStatus(r, names[i]);
}

static void addCategories(request *r, const command *c) {
    const char *names[6];
    int n = 0;
    if (c->flags & CMD_WRITE) names[n++] = "@write";
    if (c->flags & CMD_READONLY) names[n++] = "@read";
    if (!strcmp(c->group, "string")) names[n++] = "@string";
    else if (!strcmp(c->group, "bitmap")) names[n++] = "@bitmap";
    else if (!strcmp(c->group, "generic")) names[n++] = "@keyspace";
    else if (!strcmp(c->group, "connection")) names[n++] = "@connection";
    else if (!strcmp(c->group, "set")) names[n++] = "@set";
    else if (!strcmp(c->group, "hash")) names[n++] = "@hash";
    else if (!strcmp(c->group, "sorted-set")) names[n++] = "@sortedset";
    else if (!strcmp(c->group, "hyperloglog")) names[n++] = "@hyperloglog";
    else if (!strcmp(c->group, "geo")) names[n++] = "@geo";
    if (c->flags & CMD_FAST) names[n++] = "@fast";
    else names[n++] = "@slow";
    if (c->flags & CMD_ADMIN) names[n++] = "@admin";
    addReplySetLen(r, n);
    for (int i = 0; i < n; i++) addReplyStatus(r, names[i]);
}

static void addKeySpecs(request *r, const command *c) {
    if (!c->firstkey) {
        addReplyArrayLen(r, 0);
        return;
    }
    addReplyArrayLen(r, 1);
    addReplyMapLen(r, 3);
    addReplyBulkCString(r, "flags");
    addReplySetLen(r, 1);
    addReplyStatus(r, (c->flags & CMD_WRITE) ? "RW" : "RO");
    addReplyBulkCString(r, "begin_search");
    addReplyMapLen(r, 2);
    addReplyBulkCString(r, "type");
    addReplyBulkCString(r, "index");
    addReplyBulkCString(r, "spec");
    addReplyMapLen(r, 1);
    addReplyBulkCString(r, "index");
    addReplyInteger(r, c->firstkey);
    addReplyBulkCString(r, "find_keys");
    addReplyMapLen(r, 2);
    addReplyBulkCString(r, "type");
    addReplyBulkCString(r, "range");
    addReplyBulkCString(r, "spec");
    addReplyMapLen(r, 3);
    addReplyBulkCString(r, "lastkey");
    addReplyInteger(r, c->lastkey < 0 ? c->lastkey : c->lastkey - c->firstkey);
    addReplyBulkCString(r, "keystep");
    addReplyInteger(r, c->keystep);
    addReplyBulkCString(r, "limit");
    addReplyInteger(r, 0);
}

static void addCommandInfo(request *r, const command *c) {
    if (!c) {
        addReplyNull(r);
        return;
    }
    addReplyArrayLen(r, 10);
    addReplyBulkCString(r, c->name);
    addReplyInteger(r, c->arity);
    addFlags(r, c);
    addReplyInteger(r, c->firstkey);
    addReplyInteger(r, c->lastkey);
    addReplyInteger(r, c->keystep);
    addCategories(r, c);
    addReplyArrayLen(r, 0); /* tips */
    addKeySpecs(r, c);
    addReplyArrayLen(r, 0); /* subcommands */
}

/* ------------------------------------------------------------ COMMAND DOCS */

/* Argument synopsis -> tree. A node is written straight into the reply as
 * a map; parse() first counts, so each node is emitted in one pass. */

typedef struct span {
    const char *p;
    size_t len;
} span;

static span trim(span s) {
    while (s.len && s.p[0] == ' ') {
        s.p++;
        s.len--;
    }
    while (s.len && s.p[s.len - 1] == ' ') s.len--;
    return s;
}

/* Split s at top-level separators sep (outside brackets). */
static int splitTop(span s, char sep, span *out, int max) {
    int n = 0, depth = 0;
    size_t start = 0;
    for (size_t i = 0; i <= s.len; i++) {
        char c = i < s.len ? s.p[i] : sep;
        if (c == '[') depth++;
        else if (c == ']') depth--;
        if (c == sep && depth == 0) {
            span t = trim((span){s.p + start, i - start});
            if (t.len && n < max) out[n++] = t;
            start = i + 1;
        }
    }
    return n;
}

static int isToken(span s) {
    if (!s.len) return 0;
    for (size_t i = 0; i < s.len; i++)
        if (!(isupper((unsigned char)s.p[i]) || s.p[i] == '-' || isdigit((unsigned char)s.p[i])))
            return 0;
    return 1;
}

static const char *argType(span name) {
    static const struct {
        const char *prefix;
        const char *type;
    } types[] = {{"key", "key"},           {"destkey", "key"},        {"newkey", "key"},
                 {"source", "key"},        {"destination-db", "integer"},
                 {"destination", "key"},   {"pattern", "pattern"},    {"unix-time", "unix-time"},
                 {"seconds", "integer"},   {"milliseconds", "integer"}, {"count", "integer"},
                 {"offset", "integer"},    {"start", "integer"},      {"end", "integer"},
                 {"decrement", "integer"}, {"index", "integer"},      {"cursor", "integer"},
                 {"bit", "integer"},       {"len", "integer"}, {"protover", "integer"},
                 {"client-id", "integer"}, {NULL, NULL}};
    for (int i = 0; types[i].prefix; i++) {
        size_t l = strlen(types[i].prefix);
        if (name.len >= l && !strncmp(name.p, types[i].prefix, l)) return types[i].type;
    }
    return "string";
}

static void addSpanBulk(request *r, span s) { addReplyBulk(r, s.p, s.len); }

static void addLowerBulk(request *r, span s) {
    char b[128];
    size_t n = s.len < sizeof(b) ? s.len : sizeof(b) - 1;
    for (size_t i = 0; i < n; i++) b[i] = (char)tolower((unsigned char)s.p[i]);
    addReplyBulk(r, b, n);
}

static void emitArgs(request *r, span s);

/* One argument node. optional/multiple come from the caller's syntax. */
/* A DOCS argument node's "flags" entry, when it has one (fields counts it). */
static void addNodeFlags(request *r, int optional, int multiple) {
    if (!optional && !multiple) return;
    addReplyBulkCString(r, "flags");
    addReplyArrayLen(r, (optional ? 1 : 0) + (multiple ? 1 : 0));
    if (optional) addReplyStatus(r, "optional");
    if (multiple) addReplyStatus(r, "multiple");
}

static void emitNode(request *r, span s, int optional, int multiple) {
    span alts[16], words[16];
    int fields = 2 + (optional || multiple ? 1 : 0);
    /* "TOKEN a|b|c": a oneof behind its token (ZUNION's AGGREGATE SUM|MIN|MAX) */
    if (splitTop(s, ' ', words, 16) == 2 && isToken(words[0])) {
        int n = splitTop(words[1], '|', alts, 16);
        if (n > 1) {
            addReplyMapLen(r, fields + 2);
            addReplyBulkCString(r, "name");
            addLowerBulk(r, words[0]);
            addReplyBulkCString(r, "type");
            addReplyBulkCString(r, "oneof");
            addReplyBulkCString(r, "token");
            addSpanBulk(r, words[0]);
            addNodeFlags(r, optional, multiple);
            addReplyBulkCString(r, "arguments");
            addReplyArrayLen(r, n);
            for (int i = 0; i < n; i++) emitNode(r, alts[i], 0, 0);
            return;
        }
    }
    int nalts = splitTop(s, '|', alts, 16);
    if (nalts > 1) {
        addReplyMapLen(r, fields + 1);
        addReplyBulkCString(r, "name");
        addLowerBulk(r, alts[0]);
        addReplyBulkCString(r, "type");
        addReplyBulkCString(r, "oneof");
        addNodeFlags(r, optional, multiple);
        addReplyBulkCString(r, "arguments");
        addReplyArrayLen(r, nalts);
        for (int i = 0; i < nalts; i++) emitNode(r, alts[i], 0, 0);
        return;
    }
    int nw = splitTop(s, ' ', words, 16);
    int hastoken = nw > 0 && isToken(words[0]);
    if (nw == 1 && s.p[0] == '[') { /* "[x]" alone: an optional group */
        emitNode(r, trim((span){s.p + 1, s.len - 2}), 1, multiple);
        return;
    }
    if (nw <= 1 || (hastoken && nw == 2 && words[1].p[0] != '[')) {
        /* a plain argument, a pure token, or "TOKEN name" */
        span name = hastoken && nw == 2 ? words[1] : words[0];
        const char *type = hastoken && nw == 1 ? "pure-token" : argType(name);
        addReplyMapLen(r, fields + (hastoken ? 1 : 0));
        addReplyBulkCString(r, "name");
        addLowerBulk(r, name);
        addReplyBulkCString(r, "type");
        addReplyBulkCString(r, type);
        if (hastoken) {
            addReplyBulkCString(r, "token");
            addSpanBulk(r, words[0]);
        }
        addNodeFlags(r, optional, multiple);
        return;
    }
    /* a block of several arguments */
    addReplyMapLen(r, fields + 1);
    addReplyBulkCString(r, "name");
    addLowerBulk(r, words[hastoken ? 1 : 0]);
    addReplyBulkCString(r, "type");
    addReplyBulkCString(r, "block");
    addNodeFlags(r, optional, multiple);
    addReplyBulkCString(r, "arguments");
    emitArgs(r, s);
}

/* Is item "[x ...]" the repetition of prev? */
static int isRepeat(span item) {
    return item.len > 5 && item.p[0] == '[' && !memcmp(item.p + item.len - 5, " ...]", 5);
}

/* "key value [key value ...]": if items[i..i+k) are the words repeated by
 * items[i+k] with k > 1, returns k (they form one repeated block, as Redis
 * documents MSET), else 0. */
static int repeatedGroup(const span *items, int n, int i) {
    for (int k = 2; i + k < n; k++) {
        if (!isRepeat(items[i + k])) continue;
        span inner = trim((span){items[i + k].p + 1, items[i + k].len - 5});
        span words[16];
        if (splitTop(inner, ' ', words, 16) != k) return 0;
        for (int m = 0; m < k; m++)
            if (words[m].len != items[i + m].len ||
                memcmp(words[m].p, items[i + m].p, words[m].len))
                return 0;
        return k;
    }
    return 0;
}

static void emitArgs(request *r, span s) {
    span items[32];
    int n = splitTop(s, ' ', items, 32);
    int count = 0;
    for (int i = 0; i < n; i++) {
        int k = isRepeat(items[i]) ? 0 : repeatedGroup(items, n, i);
        if (k) i += k; /* the group and its repetition are one node */
        if (!isRepeat(items[i]) || k) count++;
    }
    addReplyArrayLen(r, count);
    for (int i = 0; i < n; i++) {
        if (isRepeat(items[i])) continue;
        int k = repeatedGroup(items, n, i);
        if (k) {
            addReplyMapLen(r, 4);
            addReplyBulkCString(r, "name");
            addReplyBulkCString(r, "data");
            addReplyBulkCString(r, "type");
            addReplyBulkCString(r, "block");
            addReplyBulkCString(r, "flags");
            addReplyArrayLen(r, 1);
            addReplyStatus(r, "multiple");
            addReplyBulkCString(r, "arguments");
            emitArgs(r, (span){items[i].p, (size_t)(items[i + k - 1].p + items[i + k - 1].len -
                                                   items[i].p)});
            i += k;
            continue;
        }
        int multiple = i + 1 < n && isRepeat(items[i + 1]);
        if (items[i].p[0] == '[' && items[i].p[items[i].len - 1] == ']')
            emitNode(r, trim((span){items[i].p + 1, items[i].len - 2}), 1, multiple);
        else
            emitNode(r, items[i], 0, multiple);
    }
}

/* One docs map: summary, since, group, complexity, [arguments],
 * [subcommands] (nsubs > 0: the rows of subcommands[] for cmd). */
static void addDocsMap(request *r, const char *summary, const char *since, const char *group,
                       const char *complexity, const char *args, const char *cmd, int nsubs) {
    int hasargs = args && args[0];
    addReplyMapLen(r, 4 + hasargs + (nsubs > 0));
    addReplyBulkCString(r, "summary");
    addReplyBulkCString(r, summary);
    addReplyBulkCString(r, "since");
    addReplyBulkCString(r, since);
    addReplyBulkCString(r, "group");
    addReplyBulkCString(r, group);
    addReplyBulkCString(r, "complexity");
    addReplyBulkCString(r, complexity);
    if (hasargs) {
        addReplyBulkCString(r, "arguments");
        emitArgs(r, (span){args, strlen(args)});
    }
    if (nsubs > 0) {
        addReplyBulkCString(r, "subcommands");
        addReplyMapLen(r, nsubs);
        for (int i = 0; subcommands[i].cmd; i++) {
            if (strcmp(subcommands[i].cmd, cmd)) continue;
            char full[64];
            snprintf(full, sizeof(full), "%s|%s", cmd, subcommands[i].sub);
            addReplyBulkCString(r, full);
            addDocsMap(r, subcommands[i].summary, subcommands[i].since, group, "O(N)",
                       subcommands[i].args, NULL, 0);
        }
    }
}

static void addCommandDocs(request *r, const command *c) {
    int nsubs = 0;
    for (int i = 0; subcommands[i].cmd; i++)
        if (!strcmp(subcommands[i].cmd, c->name)) nsubs++;
    addReplyBulkCString(r, c->name);
    addDocsMap(r, c->summary, c->since, c->group, (c->flags & CMD_FAST) ? "O(1)" : "O(N)",
               c->args, c->name, nsubs);
}

/* ---------------------------------------------------------------- COMMAND */

void commandCommand(request *r) {
    int n = tableLen();
    if (r->argc == 1) {
        addReplyArrayLen(r, n);
        for (int i = 0; i < n; i++) addCommandInfo(r, &all[i]);
        return;
    }
    const char *sub = r->argv[1];
    if (!strcasecmp(sub, "count") && r->argc == 2) {
        addReplyInteger(r, n);
    } else if (!strcasecmp(sub, "info")) {
        if (r->argc == 2) {
            addReplyArrayLen(r, n);
            for (int i = 0; i < n; i++) addCommandInfo(r, &all[i]);
            return;
        }
        addReplyArrayLen(r, r->argc - 2);
        for (int i = 2; i < r->argc; i++)
            addCommandInfo(r, commandLookup(r->argv[i], r->argvlen[i]));
    } else if (!strcasecmp(sub, "docs")) {
        if (r->argc == 2) {
            addReplyMapLen(r, n);
            for (int i = 0; i < n; i++) addCommandDocs(r, &all[i]);
            return;
        }
        int found = 0;
        for (int i = 2; i < r->argc; i++)
            if (commandLookup(r->argv[i], r->argvlen[i])) found++;
        addReplyMapLen(r, found);
        for (int i = 2; i < r->argc; i++) {
            command *c = commandLookup(r->argv[i], r->argvlen[i]);
            if (c) addCommandDocs(r, c);
        }
    } else if (!strcasecmp(sub, "list") && r->argc == 2) {
        addReplyArrayLen(r, n);
        for (int i = 0; i < n; i++) addReplyBulkCString(r, all[i].name);
    } else if (!strcasecmp(sub, "getkeys") && r->argc >= 4) {
        command *c = commandLookup(r->argv[2], r->argvlen[2]);
        int argc = r->argc - 2;
        if (!c) {
            addReplyError(r, "Invalid command specified");
            return;
        }
        if ((c->arity > 0 && c->arity != argc) || argc < -c->arity) {
            addReplyError(r, "Invalid number of arguments specified for command");
            return;
        }
        if (!c->firstkey) {
            addReplyError(r, "The command has no key arguments");
            return;
        }
        int last = c->lastkey < 0 ? argc + c->lastkey : c->lastkey;
        int nkeys = 0;
        for (int i = c->firstkey; i <= last && i < argc; i += c->keystep) nkeys++;
        addReplyArrayLen(r, nkeys);
        for (int i = c->firstkey; i <= last && i < argc; i += c->keystep)
            addReplyBulk(r, r->argv[2 + i], r->argvlen[2 + i]);
    } else if (!strcasecmp(sub, "help") && r->argc == 2) {
        static const char *help[] = {
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)", "    Return details about all commands.",
            "COUNT", "    Return the total number of commands in this server.",
            "LIST", "    Return a list of all commands in this server.",
            "INFO [<command-name> ...]", "    Return details about multiple commands.",
            "DOCS [<command-name> ...]", "    Return documentation details about multiple commands.",
            "GETKEYS <full-command>", "    Return the keys from a full command.",
            "HELP", "    Print this help.", NULL};
        addReplyHelp(r, help);
    } else {
        commandUnknownSubcommand(r);
    }
}
