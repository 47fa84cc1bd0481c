/* t_server.c -- connection and server commands: PING, ECHO, QUIT, HELLO,
 * AUTH, RESET, CLIENT, CONFIG, TIME, SHUTDOWN, FUNCTION, OBJECT. */
#include <ctype.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "t_server.h"

#include "client.h"
#include "coll.h"
#include "commands.h"
#include "config.h"
#include "info.h"
#include "multi.h"
#include "t_string.h"

void pingCommand(request *r) {
    if (r->argc > 2) {
        addReplyErrorArity(r);
        return;
    }
    if (r->argc == 2) addReplyBulk(r, r->argv[1], r->argvlen[1]);
    else addReplyStatus(r, "PONG");
}

void echoCommand(request *r) { addReplyBulk(r, r->argv[1], r->argvlen[1]); }

void quitCommand(request *r) {
    addReplyOK(r);
    if (r->c) r->c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static int passwordMatches(const char *p, size_t len) {
    const char *pw = server.requirepass ? server.requirepass : "";
    size_t pl = strlen(pw);
    /* constant time in the length of the attempt */
    unsigned char diff = (unsigned char)(pl != len);
    for (size_t i = 0; i < len; i++) diff |= (unsigned char)(p[i] ^ (i < pl ? pw[i] : 0));
    return diff == 0 && pl > 0;
}

/* user must be "default": ringkv has no ACL users. */
static int checkCredentials(request *r, const char *user, size_t ulen, const char *pass,
                            size_t plen) {
    if ((user && !(ulen == 7 && !memcmp(user, "default", 7))) || !passwordMatches(pass, plen)) {
        addReplyError(r, "-WRONGPASS invalid username-password pair or user is disabled.");
        return C_ERR;
    }
    return C_OK;
}

void authCommand(request *r) {
    if (r->argc > 3) {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    if (!server.requirepass || !server.requirepass[0]) {
        if (r->argc == 2) {
            addReplyError(r, "AUTH <password> called without any password configured for the "
                             "default user. Are you sure your configuration is correct?");
            return;
        }
    }
    const char *user = r->argc == 3 ? r->argv[1] : NULL;
    size_t ulen = r->argc == 3 ? r->argvlen[1] : 0;
    int pi = r->argc - 1;
    if (!server.requirepass || !server.requirepass[0]) {
        /* "AUTH default anything" with no password set: Redis accepts it */
        if (user && ulen == 7 && !memcmp(user, "default", 7)) {
            addReplyOK(r);
            return;
        }
        addReplyError(r, "-WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    if (checkCredentials(r, user, ulen, r->argv[pi], r->argvlen[pi]) != C_OK) return;
    if (r->c) r->c->authenticated = 1;
    addReplyOK(r);
}

static int validClientName(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (s[i] < '!' || s[i] > '~') return 0;
    return 1;
}

void helloCommand(request *r) {
    long long ver = 0;
    int next = 1;
    if (r->argc >= 2) {
        if (!string2ll(r->argv[1], r->argvlen[1], &ver)) {
            addReplyError(r, "Protocol version is not an integer or out of range");
            return;
        }
        next = 2;
        if (ver < 2 || ver > 3) {
            addReplyError(r, "-NOPROTO unsupported protocol version");
            return;
        }
    }
    const char *setname = NULL;
    size_t setnamelen = 0;
    int authed_now = 0;
    for (int j = next; j < r->argc; j++) {
        int more = r->argc - j - 1;
        if (argIs(r, j, "auth") && more >= 2) {
            if (!server.requirepass || !server.requirepass[0]) {
                if (!(r->argvlen[j + 1] == 7 && !memcmp(r->argv[j + 1], "default", 7))) {
                    addReplyError(r,
                                  "-WRONGPASS invalid username-password pair or user is disabled.");
                    return;
                }
            } else if (checkCredentials(r, r->argv[j + 1], r->argvlen[j + 1], r->argv[j + 2],
                                        r->argvlen[j + 2]) != C_OK) {
                return;
            }
            authed_now = 1;
            j += 2;
        } else if (argIs(r, j, "setname") && more >= 1) {
            setname = r->argv[j + 1];
            setnamelen = r->argvlen[j + 1];
            if (!validClientName(setname, setnamelen)) {
                addReplyError(r, "Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            j++;
        } else {
            addReplyErrorFormat(r, "Syntax error in HELLO option '%s'", r->argv[j]);
            return;
        }
    }
    client *c = r->c;
    if (c && !c->authenticated && !authed_now) {
        addReplyError(r, "-NOAUTH HELLO must be called with the client already authenticated, "
                         "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                         "authenticate the client and select the RESP protocol version at the "
                         "same time");
        return;
    }
    if (c) {
        if (authed_now) c->authenticated = 1;
        if (setname) clientSetName(c, setname, setnamelen);
        if (ver) c->proto = (int)ver;
        r->proto = c->proto;
    }
    addReplyMapLen(r, 8);
    addReplyBulkCString(r, "server");
    addReplyBulkCString(r, "redis");
    addReplyBulkCString(r, "version");
    addReplyBulkCString(r, REDIS_COMPAT_VERSION);
    addReplyBulkCString(r, "proto");
    addReplyInteger(r, r->proto);
    addReplyBulkCString(r, "id");
    addReplyInteger(r, c ? (long long)c->id : 0);
    addReplyBulkCString(r, "mode");
    addReplyBulkCString(r, "standalone");
    addReplyBulkCString(r, "role");
    addReplyBulkCString(r, "master");
    addReplyBulkCString(r, "modules");
    addReplyArrayLen(r, 0);
    addReplyBulkCString(r, "ringkv");
    addReplyBulkCString(r, RINGKV_VERSION);
}

void resetCommand(request *r) {
    client *c = r->c;
    if (c) {
        multiFree(c);
        c->db = 0;
        c->proto = 2;
        clientSetName(c, NULL, 0);
        c->authenticated = !(server.requirepass && server.requirepass[0]);
    }
    addReplyStatus(r, "RESET");
}

/* ----------------------------------------------------------------- CLIENT */

static void clientListReply(request *r, long long only_id) {
    buf out;
    bufInit(&out);
    for (client *c = server.clients; c; c = c->next) {
        if (only_id && (long long)c->id != only_id) continue;
        clientInfoString(c, &out);
        bufAppend(&out, "\n", 1);
    }
    addReplyVerbatim(r, out.ptr ? out.ptr : "", out.len);
    bufFree(&out);
}

void clientCommand(request *r) {
    client *c = r->c;
    if (argIs(r, 1, "id") && r->argc == 2) {
        addReplyInteger(r, c ? (long long)c->id : 0);
    } else if (argIs(r, 1, "getname") && r->argc == 2) {
        if (c && c->name) addReplyBulkCString(r, c->name);
        else addReplyNull(r);
    } else if (argIs(r, 1, "setname") && r->argc == 3) {
        if (!validClientName(r->argv[2], r->argvlen[2])) {
            addReplyError(r, "Client names cannot contain spaces, newlines or special characters.");
            return;
        }
        if (c) clientSetName(c, r->argv[2], r->argvlen[2]);
        addReplyOK(r);
    } else if (argIs(r, 1, "setinfo") && r->argc == 4) {
        int name = argIs(r, 2, "lib-name");
        if (!name && !argIs(r, 2, "lib-ver")) {
            addReplyErrorFormat(r, "Unrecognized option '%s'", r->argv[2]);
            return;
        }
        if (!validClientName(r->argv[3], r->argvlen[3])) {
            addReplyErrorFormat(r, "%s cannot contain spaces, newlines or special characters.",
                                name ? "lib-name" : "lib-ver");
            return;
        }
        if (c) {
            char **f = name ? &c->lib_name : &c->lib_ver;
            zfree(*f);
            *f = zmemdup(r->argv[3], r->argvlen[3] + 1);
        }
        addReplyOK(r);
    } else if (argIs(r, 1, "info") && r->argc == 2) {
        buf out;
        bufInit(&out);
        if (c) clientInfoString(c, &out);
        bufAppend(&out, "\n", 1);
        addReplyVerbatim(r, out.ptr, out.len);
        bufFree(&out);
    } else if (argIs(r, 1, "list")) {
        long long id = 0;
        if (r->argc == 4 && argIs(r, 2, "type")) {
            if (!argIs(r, 3, "normal")) {
                if (argIs(r, 3, "master") || argIs(r, 3, "replica") || argIs(r, 3, "pubsub") ||
                    argIs(r, 3, "slave")) {
                    addReplyVerbatim(r, "", 0);
                } else {
                    addReplyErrorFormat(r, "Unknown client type '%s'", r->argv[3]);
                }
                return;
            }
        } else if (r->argc == 4 && argIs(r, 2, "id")) {
            if (!string2ll(r->argv[3], r->argvlen[3], &id) || id <= 0) {
                addReplyError(r, "Invalid client ID");
                return;
            }
        } else if (r->argc != 2) {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
        clientListReply(r, id);
    } else if (argIs(r, 1, "kill") && r->argc >= 3) {
        long long id = 0;
        const char *addr = NULL;
        if (r->argc == 3) {
            addr = r->argv[2];
        } else if (r->argc == 4 && argIs(r, 2, "id")) {
            if (!string2ll(r->argv[3], r->argvlen[3], &id)) {
                addReplyError(r, "client-id should be greater than 0");
                return;
            }
        } else if (r->argc == 4 && argIs(r, 2, "addr")) {
            addr = r->argv[3];
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
        long long killed = 0;
        client *k = server.clients;
        while (k) {
            client *next = k->next; /* closing unlinks k */
            if ((id && (long long)k->id == id) || (addr && !strcmp(k->addr, addr))) {
                if (k == c) k->flags |= CLIENT_CLOSE_AFTER_REPLY;
                else clientScheduleClose(k);
                killed++;
            }
            k = next;
        }
        if (r->argc == 3) {
            if (killed) addReplyOK(r);
            else addReplyError(r, "No such client");
        } else {
            addReplyInteger(r, killed);
        }
    } else if ((argIs(r, 1, "no-evict") || argIs(r, 1, "no-touch")) && r->argc == 3) {
        if (argIs(r, 2, "on") || argIs(r, 2, "off")) addReplyOK(r);
        else addReplyError(r, ERR_SYNTAX);
    } else if (argIs(r, 1, "help") && r->argc == 2) {
        static const char *help[] = {
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GETNAME", "    Return the name of the current connection.",
            "ID", "    Return the ID of the current connection.",
            "INFO", "    Return information about the current client connection.",
            "KILL <ip:port>|ID <client-id>|ADDR <ip:port>", "    Kill connections.",
            "LIST [TYPE normal] [ID <id>]", "    Return information about client connections.",
            "SETNAME <name>", "    Assign the name <name> to the current connection.",
            "SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client library name or version.",
            "HELP", "    Print this help.", NULL};
        addReplyHelp(r, help);
    } else {
        commandUnknownSubcommand(r);
    }
}

void timeCommand(request *r) {
    long long us = ustime() + server.debug_clock_offset_ms * 1000;
    addReplyArrayLen(r, 2);
    char b[32];
    snprintf(b, sizeof(b), "%lld", us / 1000000);
    addReplyBulkCString(r, b);
    snprintf(b, sizeof(b), "%lld", us % 1000000);
    addReplyBulkCString(r, b);
}

void shutdownCommand(request *r) {
    for (int j = 1; j < r->argc; j++) {
        if (argIs(r, j, "abort")) {
            addReplyError(r, "No shutdown in progress.");
            return;
        }
        if (!argIs(r, j, "nosave") && !argIs(r, j, "save") && !argIs(r, j, "now") &&
            !argIs(r, j, "force")) {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    if (r->c && !r->c->authenticated) {
        addReplyError(r, ERR_NOAUTH);
        return;
    }
    int now = 0;
    for (int j = 1; j < r->argc; j++)
        if (argIs(r, j, "now")) now = 1;
    /* No reply: like Redis, the connection just closes when we exit. */
    serverStop("User requested shutdown", now);
}

void functionCommand(request *r) {
    if (argIs(r, 1, "flush") && r->argc <= 3) {
        if (r->argc == 3 && !argIs(r, 2, "sync") && !argIs(r, 2, "async")) {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
        addReplyOK(r); /* there are never functions to flush */
    } else if (argIs(r, 1, "list")) {
        addReplyArrayLen(r, 0);
    } else {
        addReplyError(r, "ringkv has no functions or scripting");
    }
}

/* ----------------------------------------------------------------- CONFIG */

static void countOption(const char *name, const char *value, void *pd) {
    UNUSED(value);
    /* pd: the "|name|name|" list of options already listed */
    buf *seen = pd;
    char tok[128];
    snprintf(tok, sizeof(tok), "|%s|", name);
    if (strstr(seen->ptr, tok)) return;
    bufAppendStr(seen, name);
    bufAppend(seen, "|", 1);
}

/* CONFIG GET pattern [pattern ...]: several patterns may name one option,
 * which is listed once. */
static void configGetCommand(request *r) {
    buf seen, v;
    bufInit(&seen);
    bufInit(&v);
    bufAppend(&seen, "|", 1);
    for (int i = 2; i < r->argc; i++) configGet(r->argv[i], countOption, &seen);
    long long n = 0;
    for (char *p = seen.ptr + 1; *p; p++)
        if (*p == '|') n++;
    addReplyMapLen(r, n);
    char *p = seen.ptr + 1;
    while (*p) {
        char *bar = strchr(p, '|');
        *bar = '\0';
        configGetValue(p, &v);
        addReplyBulkCString(r, p);
        addReplyBulkCString(r, v.ptr ? v.ptr : "");
        p = bar + 1;
    }
    bufFree(&v);
    bufFree(&seen);
}

/* CONFIG SET name value [name value ...]: all or nothing, as Redis 7. */
static void configSetCommand(request *r) {
    if (r->argc < 4 || (r->argc % 2) != 0) {
        commandUnknownSubcommand(r); /* Redis's arity or syntax error */
        return;
    }
    int n = (r->argc - 2) / 2;
    for (int i = 0; i < n; i++) {
        const char *name = configCanonicalName(r->argv[2 + 2 * i]);
        if (!name) {
            addReplyErrorFormat(r, "Unknown option or number of arguments for CONFIG SET - '%s'",
                                r->argv[2 + 2 * i]);
            return;
        }
        for (int j = 0; j < i; j++)
            if (configCanonicalName(r->argv[2 + 2 * j]) == name) {
                addReplyErrorFormat(r,
                                    "CONFIG SET failed (possibly related to argument '%s') - "
                                    "duplicate parameter",
                                    r->argv[2 + 2 * i]);
                return;
            }
        if (!configIsMutable(name)) {
            addReplyErrorFormat(r,
                                "CONFIG SET failed (possibly related to argument '%s') - can't "
                                "set immutable config",
                                r->argv[2 + 2 * i]);
            return;
        }
    }
    buf *old = zcalloc(sizeof(buf) * (size_t)n);
    int failed = -1;
    char err[256];
    for (int i = 0; i < n; i++) {
        configGetValue(r->argv[2 + 2 * i], &old[i]);
        if (configSet(r->argv[2 + 2 * i], r->argv[3 + 2 * i], 0, err, sizeof(err)) != C_OK) {
            failed = i;
            break;
        }
    }
    if (failed >= 0) {
        char e2[256];
        for (int i = failed; i >= 0; i--)
            configSet(r->argv[2 + 2 * i], old[i].ptr ? old[i].ptr : "", 1, e2, sizeof(e2));
        addReplyErrorFormat(r, "CONFIG SET failed (possibly related to argument '%s') - %s",
                            r->argv[2 + 2 * failed], err);
    } else {
        /* No password any more: connections waiting at NOAUTH may go on,
         * as with Redis's nopass default user. */
        if (!server.requirepass || !server.requirepass[0])
            for (client *k = server.clients; k; k = k->next) k->authenticated = 1;
        addReplyOK(r);
    }
    for (int i = 0; i < n; i++) bufFree(&old[i]);
    zfree(old);
}

void configCommand(request *r) {
    if (argIs(r, 1, "get") && r->argc >= 3) {
        configGetCommand(r);
    } else if (argIs(r, 1, "set")) {
        configSetCommand(r);
    } else if (argIs(r, 1, "resetstat") && r->argc == 2) {
        infoResetStats();
        addReplyOK(r);
    } else if (argIs(r, 1, "rewrite") && r->argc == 2) {
        addReplyError(r, "CONFIG REWRITE is not supported: edit the conf file");
    } else if (argIs(r, 1, "help") && r->argc == 2) {
        static const char *help[] = {
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "HELP",
            "    Print this help.",
            NULL};
        addReplyHelp(r, help);
    } else {
        commandUnknownSubcommand(r);
    }
}

/* ----------------------------------------------------------------- OBJECT */

#define OBJ_ENCODING 0
#define OBJ_FREQ 1
#define OBJ_IDLETIME 2
#define OBJ_REFCOUNT 3

/* What Redis 7.0 calls a string's encoding: an integer it would keep as a
 * number, a short string kept with its object, or a separate buffer. */
static const char *stringEncoding(const char *p, size_t len, long long *ival, int *isint) {
    *isint = len <= 20 && string2ll(p, len, ival);
    if (*isint) return "int";
    return len <= 44 ? "embstr" : "raw";
}

/* Called by coll.c with the key's view (its string record and metadata).
 * pd: OBJ_*. */
static void objectRead(request *r, const collView *v, const char *err, void *pd) {
    int what = (int)(intptr_t)pd;
    if (!v) {
        addReplyError(r, err);
        return;
    }
    int t = collTypeOf(v);
    if (t < 0) {
        addReplyNull(r);
        return;
    }
    const version *sv = t == KT_STRING ? stringView(&v->str) : NULL;
    if (t == KT_STRING && !sv) {
        addReplyNull(r);
        return;
    }
    long long ival = 0;
    int isint = 0;
    const char *enc;
    /* Collections: each element is a RocksDB key of its own (collkey.h), so
     * none of Redis's compact encodings (intset, listpack) applies; the
     * answer is the encoding Redis uses for a large collection of the type:
     * "hashtable" for sets and hashes, "skiplist" for sorted sets, and "raw"
     * for HyperLogLog, a string in Redis. */
    if (sv) enc = stringEncoding(sv->val, sv->vlen, &ival, &isint);
    else if (t == KT_ZSET) enc = "skiplist";
    else if (t == KT_HLL) enc = "raw";
    else enc = "hashtable";
    switch (what) {
    case OBJ_ENCODING:
        addReplyBulkCString(r, enc);
        break;
    case OBJ_FREQ: /* ringkv has no maxmemory policy, so never an LFU one */
        addReplyError(r, "An LFU maxmemory policy is not selected, access frequency not "
                         "tracked. Please note that when switching between policies at "
                         "runtime LRU and LFU data will take some time to adjust.");
        break;
    case OBJ_IDLETIME: /* no access times are kept: every key reads as just used */
        addReplyInteger(r, 0);
        break;
    default: /* Redis shares the integers 0..9999 (OBJ_SHARED_REFCOUNT) */
        addReplyInteger(r, isint && ival >= 0 && ival < 10000 ? 2147483647LL : 1);
        break;
    }
}

/* Called by coll.c with the key's view for MEMORY USAGE: an estimate of
 * what the key takes on this node, not Redis's allocator sizes: the key,
 * its record or metadata, and the elements the read brought (a probe of a
 * few: a large collection is not read whole), with 48 bytes of overhead
 * per stored key, as RocksDB's memtable and index roughly take. */
static void memoryRead(request *r, const collView *v, const char *err, void *pd) {
    UNUSED(pd);
    if (!v) {
        addReplyError(r, err);
        return;
    }
    int t = collTypeOf(v);
    if (t < 0) {
        addReplyNull(r);
        return;
    }
    long long n = (long long)v->klen + 48;
    if (t == KT_STRING) {
        const version *sv = stringView(&v->str);
        n += sv ? (long long)sv->vlen + 24 : 0;
    } else {
        n += 64; /* the metadata */
        for (int i = 0; i < v->nel; i++)
            if (collElemLive(v, &v->el[i])) n += (long long)(v->klen + v->el[i].len) + 48 + 32;
    }
    addReplyInteger(r, n);
}

/* MEMORY USAGE key [SAMPLES count], MEMORY HELP. */
void memoryCommand(request *r) {
    if (argIs(r, 1, "help") && r->argc == 2) {
        static const char *help[] = {
            "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "USAGE <key> [SAMPLES <count>]",
            "    Return an estimate of the bytes the key takes on this node (its record or",
            "    metadata, and a sample of its elements).",
            "HELP",
            "    Prints this help.",
            NULL};
        addReplyHelp(r, help);
        return;
    }
    if (argIs(r, 1, "usage") && r->argc >= 3) {
        for (int j = 3; j < r->argc; j++) {
            long long samples;
            if (argIs(r, j, "samples") && j + 1 < r->argc) {
                if (getLongLongFromArg(r, j + 1, &samples, NULL) != C_OK) return;
                if (samples < 0) {
                    addReplyError(r, "ERR syntax error");
                    return;
                }
                j++;
            } else {
                addReplyError(r, "ERR syntax error");
                return;
            }
        }
        collRead(r, r->db, r->argv[2], r->argvlen[2], COLL_READ_NAMED, NULL, NULL, 0, memoryRead,
                 NULL);
        return;
    }
    commandUnknownSubcommand(r);
}

/* OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key, OBJECT HELP. */
void objectCommand(request *r) {
    static const char *subs[] = {"encoding", "freq", "idletime", "refcount"};
    if (argIs(r, 1, "help")) {
        if (r->argc != 2) {
            addReplyError(r, "wrong number of arguments for 'object|help' command");
            return;
        }
        static const char *help[] = {
            "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
            "HELP",
            "    Prints this help.",
            NULL};
        addReplyHelp(r, help);
        return;
    }
    for (int i = 0; i < 4; i++) {
        if (!argIs(r, 1, subs[i])) continue;
        if (r->argc != 3) {
            addReplyErrorFormat(r, "wrong number of arguments for 'object|%s' command", subs[i]);
            return;
        }
        collRead(r, r->db, r->argv[2], r->argvlen[2], COLL_READ_NAMED, NULL, NULL, 0, objectRead,
                 (void *)(intptr_t)i);
        return;
    }
    commandUnknownSubcommand(r);
}
