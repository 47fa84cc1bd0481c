/* t_cluster.c -- cluster commands users and operators run through
 * redis-cli: CONSISTENCY (per connection levels) and RING (NODES, INFO,
 * OWNERS, LOCAL, JOIN, LEAVE, FORGET, PLAN, REPAIR, STATUS). The modules
 * below return data or call back; the replies are formatted here. */
#include "t_cluster.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aae.h"
#include "client.h"
#include "commands.h"
#include "coord.h"
#include "db.h"
#include "gossip.h"
#include "handoff.h"
#include "store.h"
#include "types/counter.h"
#include "t_string.h"

/* ------------------------------------------------------------ CONSISTENCY */

static const struct {
    const char *name;
    int level;
} levelNames[] = {{"ONE", 1},
                  {"TWO", 2},
                  {"THREE", 3},
                  {"QUORUM", LEVEL_QUORUM},
                  {"ALL", LEVEL_ALL},
                  {"LOCAL_ONE", LEVEL_LOCAL_ONE},
                  {"LOCAL_QUORUM", LEVEL_LOCAL_QUORUM},
                  {"EACH_QUORUM", LEVEL_EACH_QUORUM},
                  {NULL, 0}};

static int parseLevel(const char *s, size_t len, int *level) {
    long long n;
    if (string2ll(s, len, &n)) {
        if (n < 1 || n > 64) return C_ERR;
        *level = (int)n;
        return C_OK;
    }
    for (int i = 0; levelNames[i].name; i++)
        if (!strcasecmp(s, levelNames[i].name)) {
            *level = levelNames[i].level;
            return C_OK;
        }
    return C_ERR;
}

static void levelText(int level, char *b, size_t len) {
    for (int i = 0; levelNames[i].name; i++)
        if (levelNames[i].level == level && level < 0) {
            snprintf(b, len, "%s", levelNames[i].name);
            return;
        }
    snprintf(b, len, "%d", level);
}

/* CONSISTENCY [READ level] [WRITE level]: sets this connection's levels;
 * alone, shows them (and the quorum mode). DEFAULT goes back to the
 * server's read-quorum / write-quorum. */
void consistencyCommand(request *r) {
    client *c = r->c;
    int rl = c ? c->read_level : 0, wl = c ? c->write_level : 0;
    for (int j = 1; j < r->argc; j += 2) {
        int *dst = argIs(r, j, "read") ? &rl : argIs(r, j, "write") ? &wl : NULL;
        if (!dst || j + 1 >= r->argc) {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
        if (argIs(r, j + 1, "default")) {
            *dst = 0;
        } else if (parseLevel(r->argv[j + 1], r->argvlen[j + 1], dst) != C_OK) {
            addReplyErrorFormat(r,
                                "invalid consistency level '%.64s' (a count, ONE, TWO, THREE, "
                                "QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, EACH_QUORUM or DEFAULT)",
                                r->argv[j + 1]);
            return;
        }
    }
    if (r->argc > 1) {
        if (c) {
            c->read_level = rl;
            c->write_level = wl;
        }
        addReplyOK(r);
        return;
    }
    char b[32];
    addReplyMapLen(r, 3);
    addReplyBulkCString(r, "read");
    levelText(rl ? rl : (int)server.read_quorum, b, sizeof(b));
    addReplyBulkCString(r, b);
    addReplyBulkCString(r, "write");
    levelText(wl ? wl : (int)server.write_quorum, b, sizeof(b));
    addReplyBulkCString(r, b);
    addReplyBulkCString(r, "mode");
    addReplyBulkCString(r, server.quorum_mode == QUORUM_SLOPPY ? "sloppy" : "strict");
}

/* ------------------------------------------------------------------- RING */

/* RING NODES: one line per member, this node first. */
static void ringNodes(request *r) {
    int n = gossipCount();
    addReplyArrayLen(r, n);
    buf b;
    bufInit(&b);
    for (int i = 0; i < n; i++) {
        memberInfo m;
        gossipMemberInfo(i, &m);
        bufClear(&b);
        bufPrintf(&b, "%s %s:%d@%d %s %s %d %s %s%s", m.id, m.host, m.port, m.busport, m.dc,
                  m.rack, m.weight, gossipHealthName(m.health), gossipStatusName(m.status),
                  m.self ? " myself" : "");
        addReplyBulk(r, b.ptr, b.len);
    }
    bufFree(&b);
}

static void ringOwners(request *r) {
    unsigned p = keyPartition(keyHash(r->db, r->argv[2], r->argvlen[2]), server.qbits);
    int l[64];
    int n = gossipOwners(p, l);
    addReplyArrayLen(r, n);
    for (int i = 0; i < n; i++) {
        memberInfo m;
        gossipMemberInfo(l[i], &m);
        char b[96];
        snprintf(b, sizeof(b), "%s:%d", m.host, m.port);
        addReplyBulkCString(r, b);
    }
}

static void ringLocal(request *r) {
    record rec;
    recordInit(&rec);
    storeValue hold;
    int found = dbRead(r->db, r->argv[2], r->argvlen[2], &rec, &hold);
    if (found < 0) {
        addReplyError(r, "-IOERR storage read failed, see the server log");
        return;
    }
    long long now = serverNowMs();
    int ctr = rec.ctr && rec.ctr->n > 0;
    addReplyArrayLen(r, rec.n + ctr);
    buf t;
    bufInit(&t);
    if (ctr) {
        /* INCR's contributions: [what GET shows, one "actor:seq=total
         * (baseline bseq=total)" per node that incremented] */
        const version *view = stringView(&rec);
        addReplyArrayLen(r, 2);
        if (view) addReplyBulk(r, view->val, view->vlen);
        else addReplyNull(r);
        bufClear(&t);
        bufPrintf(&t, "counter");
        for (int i = 0; i < rec.ctr->n; i++) {
            const counterSlot *sl = &rec.ctr->s[i];
            char it[48], bt[48];
            tcFormatI128(sl->isum, it, sizeof(it));
            tcFormatI128(sl->bisum, bt, sizeof(bt));
            bufPrintf(&t, " %016llx:%llu=%s%+Lg (baseline %llu=%s%+Lg)", (unsigned long long)sl->actor,
                      (unsigned long long)sl->seq, it, (long double)sl->fsum,
                      (unsigned long long)sl->bseq, bt, (long double)sl->bfsum);
        }
        addReplyBulk(r, t.ptr, t.len);
    }
    for (int i = 0; i < rec.n; i++) {
        record one = {NULL, 1, 1, &rec.v[i], {0, 0, NULL}}; /* borrows the version */
        bufClear(&t);
        recordFormat(&one, now, &t);
        addReplyArrayLen(r, 2);
        if (rec.v[i].tombstone) addReplyNull(r);
        else addReplyBulk(r, rec.v[i].val, rec.v[i].vlen);
        addReplyBulk(r, t.ptr ? t.ptr : "", t.len);
    }
    bufFree(&t);
    recordFree(&rec);
    if (found > 0) storeValueFree(&hold);
}

/* Called by aae.c when the pass RING REPAIR waits for has ended. */
static void repairDone(long long keys, unsigned partitions, void *pd) {
    request *r = pd;
    char msg[160];
    snprintf(msg, sizeof(msg), "repaired %lld keys in %u partitions", keys, partitions);
    addReplyStatus(r, msg);
    requestRelease(r);
}

/* RING REPAIR [ASYNC]: an anti-entropy pass now; without ASYNC the reply
 * waits for its end (one pending count held until repairDone). */
static void ringRepair(request *r, int wait) {
    if (!aaeRepair(wait ? repairDone : NULL, r))
        addReplyStatus(r, "repaired 0 keys in 0 partitions");
    else if (!wait)
        addReplyStatus(r, "repair started (RING STATUS shows progress)");
    else
        r->pending++;
}

/* RING PLAN JOIN host:port [WEIGHT w] [DC d] [RACK r] | RING PLAN LEAVE [node-id] */
static void ringPlan(request *r) {
    const char *join = NULL, *leave = NULL, *dc = server.dc, *rack = server.rack;
    long long weight = 64;
    int j = 3;
    if (argIs(r, 2, "join") && r->argc >= 4) {
        join = r->argv[3];
        j = 4;
    } else if (argIs(r, 2, "leave")) {
        leave = r->argc >= 4 ? r->argv[3] : server.node_id;
        j = r->argc >= 4 ? 4 : 3;
    } else {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    for (; j < r->argc; j += 2) {
        if (j + 1 >= r->argc || !join) {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
        if (argIs(r, j, "weight")) {
            if (getLongLongFromArg(r, j + 1, &weight, NULL) != C_OK) return;
            if (weight < 1 || weight > 4096) {
                addReplyError(r, "weight must be between 1 and 4096");
                return;
            }
        } else if (argIs(r, j, "dc")) {
            dc = r->argv[j + 1];
        } else if (argIs(r, j, "rack")) {
            rack = r->argv[j + 1];
        } else {
            addReplyError(r, ERR_SYNTAX);
            return;
        }
    }
    /* this node's average bytes per partition replica it holds */
    int held = gossipOwnedCount();
    long long bytes = 0;
    for (unsigned p = 0; p < (unsigned)server.ring_partitions; p++) bytes += dbPartitionBytes(p);
    double avg = held ? (double)bytes / held : 0;
    buf o;
    bufInit(&o);
    char err[200];
    if (gossipPlan(join, dc, rack, (int)weight, leave, avg, &o, err, sizeof(err)) != C_OK)
        addReplyError(r, err);
    else
        addReplyVerbatim(r, o.ptr, o.len);
    bufFree(&o);
}

void ringCommand(request *r) {
    if (argIs(r, 1, "nodes") && r->argc == 2) {
        ringNodes(r);
    } else if (argIs(r, 1, "info") && r->argc == 2) {
        buf o;
        bufInit(&o);
        coordInfo(&o);
        addReplyVerbatim(r, o.ptr ? o.ptr : "", o.len);
        bufFree(&o);
    } else if (argIs(r, 1, "owners") && r->argc == 3) {
        ringOwners(r);
    } else if (argIs(r, 1, "local") && r->argc == 3) {
        ringLocal(r);
    } else if (argIs(r, 1, "join") && r->argc == 3) {
        char err[200];
        if (gossipJoin(r->argv[2], err, sizeof(err)) != C_OK) addReplyError(r, err);
        else addReplyOK(r);
    } else if (argIs(r, 1, "leave") && r->argc == 2) {
        int normal = 0;
        for (int i = 0; i < gossipCount(); i++)
            if (i != gossipSelf() && gossipMemberStatus(i) == MEMBER_NORMAL) normal++;
        if (gossipSelfStatus() != MEMBER_NORMAL) {
            addReplyError(r, "this node is not a normal member (see RING NODES)");
        } else if (normal == 0) {
            addReplyError(r, "this is the last node: there is no one to hand its data to");
        } else {
            gossipSetSelfStatus(MEMBER_LEAVING);
            addReplyStatus(r, "LEAVING: handing partitions over (RING STATUS shows progress); "
                              "the node stops when done");
        }
    } else if (argIs(r, 1, "forget") && r->argc == 3) {
        char err[200];
        if (gossipForget(r->argv[2], err, sizeof(err)) != C_OK) addReplyError(r, err);
        else addReplyOK(r);
    } else if (argIs(r, 1, "plan") && r->argc >= 3) {
        ringPlan(r);
    } else if (argIs(r, 1, "repair") && (r->argc == 2 || (r->argc == 3 && argIs(r, 2, "async")))) {
        ringRepair(r, r->argc == 2);
    } else if (argIs(r, 1, "status") && r->argc == 2) {
        buf o;
        bufInit(&o);
        aaeStatus(&o);
        handoffStatus(&o);
        addReplyVerbatim(r, o.ptr, o.len);
        bufFree(&o);
    } else if (argIs(r, 1, "help") && r->argc == 2) {
        static const char *help[] = {
            "RING <subcommand> [<arg> ...]. Subcommands are:",
            "NODES", "    One line per node: id host:port@bus dc rack weight health status.",
            "INFO", "    Partitions, replication, quorums, mode, ring hash, coordinator stats.",
            "OWNERS <key>", "    The key's replicas (client host:port) in preference order.",
            "LOCAL <key>", "    This node's stored versions of key: [value, clock] each.",
            "JOIN <host:port>", "    Join the cluster that node belongs to.",
            "LEAVE", "    Hand this node's partitions to their new owners, then stop.",
            "FORGET <node-id>", "    Remove a dead node; its partitions' new replicas are filled from the others.",
            "PLAN JOIN <host:port> [WEIGHT w] [DC d] [RACK r] | PLAN LEAVE [node-id]",
            "    What a join or a leave would move, moving nothing.",
            "REPAIR [ASYNC]", "    Anti-entropy pass with every replica now (waits for the end unless ASYNC).",
            "STATUS", "    Repairs and transfers in progress.",
            "HELP", "    Print this help.", NULL};
        addReplyHelp(r, help);
    } else {
        commandUnknownSubcommand(r);
    }
}
