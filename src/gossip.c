/* gossip.c -- the membership table, heartbeats, failure detection, the
 * ring. See gossip.h.
 *
 * Wire format of a table (the GOSSIP request's argument and its answer):
 * one line per member,
 *   id host port busport dc rack weight generation heartbeat status statusver suspect
 *   synced aware
 * where suspect is 1 if the sender suspects that member, synced the hash of
 * the future ring whose partitions it holds and aware the hash of the future
 * ring it knows of (hex; a line without aware, from an older node, counts as
 * knowing nothing: a membership change then waits for it). Merging keeps, per
 * member, the newest heartbeat (generation first), the address and
 * placement of the newest generation, and the status with the highest
 * version. A node's own entry is only ever written by itself. */
#include "gossip.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server.h"
#include "store.h"

#define GOSSIP_FANOUT 3
#define GOSSIP_MAX_WEIGHT 4096 /* the weight option's range (config.c): tokens per node */
#define META_MEMBERS "members"

typedef struct member {
    char id[41];          /* node id */
    char host[64];        /* address (clients and bus) */
    int port;             /* client port */
    int busport;          /* bus port */
    char dc[64];          /* data center */
    char rack[64];        /* rack */
    int weight;           /* tokens / share */
    uint64_t generation;  /* heartbeat generation: the node's start time (ms) */
    uint64_t heartbeat;   /* heartbeat counter within the generation */
    int status;           /* MEMBER_* */
    uint64_t status_ver;  /* status changes: the highest version wins */
    uint64_t synced;      /* hash of the future ring whose partitions it holds (handoff.c) */
    uint64_t aware;       /* hash of the future ring it knows of: once every member knows a
                             change, none writes to the old owners alone any more (handoff.c
                             waits for that before it pulls) */
    /* local view */
    long long last_beat_ms; /* when (generation, heartbeat) last advanced here */
    int suspect;          /* this node treats it as down */
    int down;             /* two or more nodes agree it is down */
    char (*reporters)[41];/* nodes that currently report it suspected */
    long long *report_ms; /* when each report was last heard */
    int nreporters;
    busLink *link;        /* outbound bus link (NULL for self) */
} member;

static struct {
    member *m;         /* the table; index 0 is self */
    int n, cap;
    ring *ring;        /* current owners: members NORMAL or LEAVING */
    int *ringmap;      /* ring member index -> table index */
    int ringn;
    ring *fut;         /* future owners: NORMAL or JOINING (== ring when no change is under way) */
    int *futmap;
    int futn;
    ringDcSpec spec[RING_MAX_DCS];
    int nspec;
    struct event *timer;
    char **seeds;      /* "host:busport" still to contact */
    int nseeds;
    int dirty;         /* table changed: rebuild ring, save snapshot */
    long long rounds;
    int heard;         /* a gossip exchange with a peer succeeded (gossipReady) */
    int alone;         /* started with nobody to ask: a cluster of one */
    long long started_ms; /* when gossipInit ran */
} g;

static void saveSelfStatus(void);
static void applyChanges(void);
static void byeHandler(busReq *req);

const char *gossipStatusName(int s) {
    switch (s) {
    case MEMBER_NORMAL: return "normal";
    case MEMBER_JOINING: return "joining";
    case MEMBER_LEAVING: return "leaving";
    case MEMBER_LEFT: return "left";
    }
    return "?";
}

const char *gossipHealthName(int h) {
    return h == GOSSIP_DOWN ? "down" : h == GOSSIP_SUSPECT ? "suspect" : "up";
}

/* --------------------------------------------------------------- queries */

int gossipCount(void) { return g.n; }
int gossipSelf(void) { return 0; }
const char *gossipMemberId(int i) { return g.m[i].id; }
const char *gossipMemberDc(int i) { return g.m[i].dc; }
int gossipMemberStatus(int i) { return g.m[i].status; }
busLink *gossipMemberLink(int i) { return g.m[i].link; }

void gossipMemberInfo(int i, memberInfo *out) {
    const member *m = &g.m[i];
    *out = (memberInfo){m->id, m->host, m->port, m->busport, m->dc, m->rack, m->weight, m->status,
                        i == 0 ? GOSSIP_UP : m->down ? GOSSIP_DOWN
                                         : m->suspect ? GOSSIP_SUSPECT : GOSSIP_UP,
                        i == 0};
}

int gossipMemberUp(int i) { return i == 0 || !g.m[i].suspect; }

int gossipMemberReachable(int i) {
    return i == 0 || (gossipMemberUp(i) && busLinkConnected(g.m[i].link));
}

/* A member that left is never "up", even while it still beats (it stops
 * once its peers confirmed): it owns nothing and is asked nothing. */
static int memberAlive(int i) { return g.m[i].status != MEMBER_LEFT && gossipMemberUp(i); }

int gossipReady(void) {
    if (!g.ring || g.ringn == 0) return 0; /* nobody owns anything yet */
    return g.alone || g.heard;
}

int gossipKnowsCluster(void) {
    return g.alone || g.heard || mstime() - g.started_ms >= server.fail_timeout;
}

static member *find(const char *id) {
    for (int i = 0; i < g.n; i++)
        if (!strcmp(g.m[i].id, id)) return &g.m[i];
    return NULL;
}

static member *add(const char *id) {
    if (g.n == g.cap) {
        g.cap = g.cap ? g.cap * 2 : 8;
        g.m = zrealloc(g.m, sizeof(member) * (size_t)g.cap);
    }
    member *m = &g.m[g.n++];
    memset(m, 0, sizeof(*m));
    snprintf(m->id, sizeof(m->id), "%s", id);
    m->last_beat_ms = mstime();
    g.dirty = 1;
    return m;
}

/* ---------------------------------------------------------------- ring */

/* Builds a ring of the members whose status is in the mask; map receives
 * ring index -> table index. */
static ring *buildRing(int mask, int **map, int *count) {
    ringMember *rm = zmalloc(sizeof(ringMember) * (size_t)g.n);
    zfree(*map);
    *map = zmalloc(sizeof(int) * (size_t)g.n);
    int k = 0;
    for (int i = 0; i < g.n; i++) {
        if (!(mask & (1 << g.m[i].status))) continue;
        rm[k] = (ringMember){g.m[i].id, g.m[i].dc, g.m[i].rack, g.m[i].weight};
        (*map)[k++] = i;
    }
    ring *r = ringCreate(rm, k, server.qbits, g.spec, g.nspec);
    zfree(rm);
    *count = k;
    return r;
}

static void rebuildRing(void) {
    uint64_t oldcur = g.ring ? ringHash(g.ring) : 0, oldfut = g.fut ? ringHash(g.fut) : 0;
    if (g.fut && g.fut != g.ring) ringFree(g.fut);
    ringFree(g.ring);
    g.ring = buildRing((1 << MEMBER_NORMAL) | (1 << MEMBER_LEAVING), &g.ringmap, &g.ringn);
    g.fut = buildRing((1 << MEMBER_NORMAL) | (1 << MEMBER_JOINING), &g.futmap, &g.futn);
    if (!g.ring || !g.fut) {
        serverLog(LL_WARNING, "Could not build the ring from %d members", g.n);
        exit(1);
    }
    if (oldcur != ringHash(g.ring))
        serverLog(LL_NOTICE, "Ring now has %d nodes, %d replicas per partition (ring hash %016llx)",
                  g.ringn, g.ring->nreplicas, (unsigned long long)ringHash(g.ring));
    if (ringHash(g.fut) != ringHash(g.ring) && oldfut != ringHash(g.fut))
        serverLog(LL_NOTICE, "Membership change under way: the ring will have %d nodes (ring hash %016llx)",
                  g.futn, (unsigned long long)ringHash(g.fut));
}

int gossipOwners(unsigned p, int *out) {
    if (!g.ring) return 0;
    const int *l;
    int n = ringReplicas(g.ring, p, &l);
    for (int i = 0; i < n; i++) out[i] = g.ringmap[l[i]];
    return n;
}

int gossipFutureOwners(unsigned p, int *out) {
    if (!g.fut) return 0;
    const int *l;
    int n = ringReplicas(g.fut, p, &l);
    for (int i = 0; i < n; i++) out[i] = g.futmap[l[i]];
    return n;
}

int gossipWalk(unsigned p, int *out) {
    if (!g.ring) return 0;
    const int *l;
    int n = ringWalk(g.ring, p, &l);
    for (int i = 0; i < n; i++) out[i] = g.ringmap[l[i]];
    return n;
}

int gossipOwnedCount(void) {
    int owned = 0;
    for (unsigned p = 0; p < (unsigned)server.ring_partitions; p++) {
        int l[64];
        int n = gossipOwners(p, l);
        for (int i = 0; i < n; i++)
            if (l[i] == 0) owned++;
    }
    return owned;
}

int gossipChanging(void) { return g.ring && g.fut && ringHash(g.ring) != ringHash(g.fut); }
uint64_t gossipFutureHash(void) { return g.fut ? ringHash(g.fut) : 0; }

static void saveSnapshot(void) {
    buf b;
    bufInit(&b);
    for (int i = 0; i < g.n; i++) {
        member *m = &g.m[i];
        bufPrintf(&b, "%s %s %d %d %s %s %d %d %llu\n", m->id, m->host, m->port, m->busport, m->dc,
                  m->rack, m->weight, m->status, (unsigned long long)m->status_ver);
    }
    storePut(CF_META, META_MEMBERS, strlen(META_MEMBERS), b.ptr ? b.ptr : "", b.len);
    bufFree(&b);
}

/* Another member listed at this node's own address is an earlier node that
 * lived here (it left, and a new node took its address): dialling it would
 * reach ourselves. */
static int atOwnAddress(const member *m) {
    return !strcmp(m->host, server.announce_host) && m->busport == server.bus_port;
}

static void applyChanges(void) {
    if (!g.dirty) return;
    g.dirty = 0;
    for (int i = 1; i < g.n; i++)
        if (!g.m[i].link && g.m[i].host[0] && !atOwnAddress(&g.m[i]))
            g.m[i].link = busLinkGet(g.m[i].host, g.m[i].busport);
    rebuildRing();
    saveSnapshot();
}

/* ------------------------------------------------------------ statuses */

#define META_SELF_STATUS "self_status"

static void saveSelfStatus(void) {
    char b[64];
    int l = snprintf(b, sizeof(b), "%d %llu", g.m[0].status, (unsigned long long)g.m[0].status_ver);
    storePut(CF_META, META_SELF_STATUS, strlen(META_SELF_STATUS), b, (size_t)l);
}

void gossipSetSelfStatus(int status) {
    member *me = &g.m[0];
    if (me->status == status) return;
    serverLog(LL_NOTICE, "This node is now %s", gossipStatusName(status));
    me->status = status;
    me->status_ver++;
    saveSelfStatus();
    g.dirty = 1;
    applyChanges();
}

int gossipSelfStatus(void) { return g.m[0].status; }
void gossipSetSynced(uint64_t h) { g.m[0].synced = h; }

int gossipAllAware(int *waiting) {
    uint64_t h = gossipFutureHash();
    int w = 0;
    for (int i = 1; i < g.n; i++)
        if (memberAlive(i) && g.m[i].aware != h) w++;
    if (waiting) *waiting = w;
    return w == 0;
}

/* Every member that is up reports it has what the future ring gives it. */
int gossipAllSynced(void) {
    uint64_t h = gossipFutureHash();
    for (int i = 0; i < g.n; i++) {
        if (g.m[i].status == MEMBER_LEFT || !gossipMemberUp(i)) continue;
        if (g.m[i].synced != h) return 0;
    }
    return 1;
}

/* RING FORGET: another node declares id gone for good. */
int gossipForget(const char *id, char *err, size_t errlen) {
    member *m = find(id);
    if (!m) {
        snprintf(err, errlen, "no node %.40s in the membership", id);
        return C_ERR;
    }
    if (m == &g.m[0]) {
        snprintf(err, errlen, "a node cannot forget itself: use RING LEAVE");
        return C_ERR;
    }
    if (!m->down && !m->suspect) {
        snprintf(err, errlen, "node %.40s is up: only a down node can be forgotten (RING LEAVE on it instead)", id);
        return C_ERR;
    }
    serverLog(LL_WARNING, "Forgetting node %.40s (%s:%d): its replicas move to the others, "
                          "pulled from the surviving copies",
              m->id, m->host, m->port);
    /* It leaves as a live node would (handoff.c: the new owners pull its
     * partitions from the surviving replicas, and reads and writes use both
     * rings meanwhile), except that it cannot say it is done: once every
     * node that is up holds its future partitions, any node marks it left
     * (gossipRetireGone). Marking it left at once would make its new owners
     * serve reads before they hold anything. */
    m->status = MEMBER_LEAVING;
    m->status_ver += 1000; /* above anything the forgotten node itself may still say */
    g.dirty = 1;
    applyChanges();
    return C_OK;
}

int gossipRetireGone(void) {
    int n = 0;
    for (int i = 1; i < g.n; i++) {
        member *m = &g.m[i];
        if (m->status != MEMBER_LEAVING || gossipMemberUp(i)) continue;
        serverLog(LL_WARNING, "Node %.40s (%s:%d) is gone while leaving (or was forgotten): its "
                              "partitions are with their new owners; it is left now",
                  m->id, m->host, m->port);
        m->status = MEMBER_LEFT;
        m->status_ver++; /* every node that does this picks the same version */
        g.dirty = 1;
        n++;
    }
    if (n) applyChanges();
    return n;
}

/* --------------------------------------------------------------- wire */

static void encodeTable(buf *out) {
    for (int i = 0; i < g.n; i++) {
        member *m = &g.m[i];
        uint64_t aware = i == 0 ? gossipFutureHash() : m->aware;
        bufPrintf(out, "%s %s %d %d %s %s %d %llu %llu %d %llu %d %llx %llx\n", m->id, m->host,
                  m->port, m->busport, m->dc, m->rack, m->weight,
                  (unsigned long long)m->generation, (unsigned long long)m->heartbeat, m->status,
                  (unsigned long long)m->status_ver, i == 0 ? 0 : m->suspect,
                  (unsigned long long)m->synced, (unsigned long long)aware);
    }
}

static void setReport(member *m, const char *reporter, int suspects) {
    for (int i = 0; i < m->nreporters; i++) {
        if (strcmp(m->reporters[i], reporter)) continue;
        if (suspects) {
            m->report_ms[i] = mstime();
        } else {
            m->nreporters--;
            memmove(m->reporters[i], m->reporters[m->nreporters], 41);
            m->report_ms[i] = m->report_ms[m->nreporters];
        }
        return;
    }
    if (!suspects) return;
    m->reporters = zrealloc(m->reporters, 41 * (size_t)(m->nreporters + 1));
    m->report_ms = zrealloc(m->report_ms, sizeof(long long) * (size_t)(m->nreporters + 1));
    snprintf(m->reporters[m->nreporters], 41, "%s", reporter);
    m->report_ms[m->nreporters] = mstime();
    m->nreporters++;
}

/* Merges a table received from sender. Returns C_ERR if malformed. */
static int mergeTable(const char *sender, const char *text, size_t len) {
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) return C_ERR;
        char line[512];
        size_t l = (size_t)(nl - p);
        if (l >= sizeof(line)) return C_ERR;
        memcpy(line, p, l);
        line[l] = '\0';
        p = nl + 1;
        char id[64], host[64], dc[64], rack[64];
        int port, busport, weight, status, suspect;
        unsigned long long gen, hb, sver, synced, aware = 0;
        int fields = sscanf(line, "%63s %63s %d %d %63s %63s %d %llu %llu %d %llu %d %llx %llx", id,
                            host, &port, &busport, dc, rack, &weight, &gen, &hb, &status, &sver,
                            &suspect, &synced, &aware);
        if (fields != 13 && fields != 14) return C_ERR;
        /* A new member takes its address and weight only from a line whose
         * generation (its start time) is above 0; a weight outside the
         * option's range would make every node build a ring that fails or
         * does not fit in memory. */
        if (strlen(id) < 1 || strlen(id) > 40 || weight < 1 || weight > GOSSIP_MAX_WEIGHT ||
            gen == 0 || status < 0 || status > MEMBER_LEFT)
            return C_ERR;
        member *m = find(id);
        if (m == &g.m[0]) {
            /* Only we speak for ourselves, with one exception: a status set
             * for us by another node (RING FORGET), or the one we had before
             * our data directory was wiped, is newer than what we know. */
            if (sver > m->status_ver) {
                serverLog(LL_WARNING, "The cluster knows this node as %s (version %llu): adopting it",
                          gossipStatusName(status), sver);
                m->status = status;
                m->status_ver = sver;
                saveSelfStatus();
                g.dirty = 1;
            }
            continue;
        }
        if (!m) {
            m = add(id);
            m->status = status; /* a new member: its status as gossiped */
            m->status_ver = sver;
            serverLog(LL_NOTICE, "Node %.40s (%s:%d, %s/%s, %s) joined the membership", id, host,
                      port, dc, rack, gossipStatusName(status));
        }
        if (gen > m->generation || (gen == m->generation && hb > m->heartbeat)) {
            if (gen > m->generation &&
                (strcmp(m->host, host) || m->port != port || m->busport != busport ||
                 strcmp(m->dc, dc) || strcmp(m->rack, rack) || m->weight != weight)) {
                if (m->link && (strcmp(m->host, host) || m->busport != busport)) m->link = NULL;
                snprintf(m->host, sizeof(m->host), "%s", host);
                m->port = port;
                m->busport = busport;
                snprintf(m->dc, sizeof(m->dc), "%s", dc);
                snprintf(m->rack, sizeof(m->rack), "%s", rack);
                m->weight = weight;
                g.dirty = 1;
            }
            m->generation = gen;
            m->heartbeat = hb;
            m->synced = synced;
            m->aware = aware;
            busLinkKick(m->link);
            m->last_beat_ms = mstime();
            if (m->suspect) {
                m->suspect = 0;
                if (m->status != MEMBER_LEFT)
                    serverLog(LL_NOTICE, "Node %.40s (%s:%d) is back up", m->id, m->host, m->port);
            }
        }
        if (sver > m->status_ver) {
            m->status = status;
            m->status_ver = sver;
            g.dirty = 1;
        }
        if (strcmp(sender, id) != 0) setReport(m, sender, suspect);
    }
    return C_OK;
}

/* --------------------------------------------------------------- rounds */

static void gossipReplied(const busResult *res, void *pd) {
    int ok = res->status == BUS_OK;
    const redisReply *reply = res->reply;
    char *sender = pd;
    /* the peer's id and table must be strings: hiredis gives any other
     * type a NULL str, which mergeTable would compare as the sender */
    if (ok && reply->elements >= 5 && reply->element[3]->type == REDIS_REPLY_STRING &&
        reply->element[4]->type == REDIS_REPLY_STRING) {
        const redisReply *id = reply->element[3], *tab = reply->element[4];
        if (mergeTable(id->str, tab->str, tab->len) != C_OK)
            serverLog(LL_WARNING, "Malformed gossip from %.40s", id->str);
        else
            g.heard = 1;
        /* a seed answered: it is in the table now under its id */
        for (int i = 0; i < g.nseeds; i++) {
            if (sender && !strcmp(g.seeds[i], sender)) {
                zfree(g.seeds[i]);
                g.seeds[i] = g.seeds[--g.nseeds];
                break;
            }
        }
        applyChanges();
    }
    zfree(sender);
}

static void sendGossip(busLink *l, const char *seedaddr) {
    buf t;
    bufInit(&t);
    encodeTable(&t);
    const char *argv[3] = {"GOSSIP", server.node_id, t.ptr ? t.ptr : ""};
    size_t lens[3] = {6, strlen(server.node_id), t.len};
    busSend(l, 3, argv, lens, gossipReplied, seedaddr ? zstrdup(seedaddr) : NULL, 0);
    bufFree(&t);
}

static void gossipHandler(busReq *req) {
    /* GOSSIP id sender table */
    if (req->argc < 4 || mergeTable(req->argv[2], req->argv[3], req->lens[3]) != C_OK) {
        busReplyError(req, "malformed gossip");
        return;
    }
    g.heard = 1;
    applyChanges();
    buf t;
    bufInit(&t);
    encodeTable(&t);
    const char *av[2] = {server.node_id, t.ptr ? t.ptr : ""};
    size_t al[2] = {strlen(server.node_id), t.len};
    busReplyArgs(req, 2, av, al);
    bufFree(&t);
}

static void detectFailures(void) {
    long long now = mstime();
    for (int i = 1; i < g.n; i++) {
        member *m = &g.m[i];
        int sus = now - m->last_beat_ms > server.fail_timeout;
        if (m->status == MEMBER_LEFT) {
            /* gone on purpose: shown down once it stopped, without alarms */
            m->suspect = sus;
            m->down = sus;
            continue;
        }
        if (sus && !m->suspect)
            serverLog(LL_WARNING, "Node %.40s (%s:%d) suspected down: no heartbeat for %lld ms",
                      m->id, m->host, m->port, now - m->last_beat_ms);
        m->suspect = sus;
        /* reports expire when not repeated */
        for (int k = 0; k < m->nreporters;) {
            member *rep = find(m->reporters[k]);
            if (now - m->report_ms[k] > 2 * server.fail_timeout || !rep || rep->suspect) {
                setReport(m, m->reporters[k], 0);
            } else {
                k++;
            }
        }
        int agree = (m->suspect ? 1 : 0) + m->nreporters;
        int down = agree >= 2;
        if (down != m->down)
            serverLog(down ? LL_WARNING : LL_NOTICE, "Node %.40s (%s:%d) %s", m->id, m->host,
                      m->port, down ? "is down: two or more nodes agree" : "is no longer reported down");
        m->down = down;
    }
}

static void round_(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    g.rounds++;
    g.m[0].heartbeat++;
    detectFailures();
    /* a few random peers, and the seeds we have not heard from yet */
    int peers[GOSSIP_FANOUT], np = 0;
    int candidates = g.n - 1;
    for (int tries = 0; tries < 4 * GOSSIP_FANOUT && np < GOSSIP_FANOUT && np < candidates;
         tries++) {
        unsigned char rb[2];
        getRandomBytes(rb, 2);
        int i = 1 + (int)(((rb[0] << 8) | rb[1]) % (unsigned)candidates);
        if (g.m[i].status == MEMBER_LEFT || !g.m[i].link) continue;
        int dup = 0;
        for (int k = 0; k < np; k++)
            if (peers[k] == i) dup = 1;
        if (!dup) peers[np++] = i;
    }
    for (int k = 0; k < np; k++) sendGossip(g.m[peers[k]].link, NULL);
    for (int i = 0; i < g.nseeds; i++) {
        char host[64];
        int port;
        const char *colon = strrchr(g.seeds[i], ':');
        snprintf(host, sizeof(host), "%.*s", (int)(colon - g.seeds[i]), g.seeds[i]);
        port = atoi(colon + 1);
        sendGossip(busLinkGet(host, port), g.seeds[i]);
    }
    applyChanges();
}

/* ----------------------------------------------------------------- setup */

static void addSeed(const char *host, int busport) {
    char addr[96];
    snprintf(addr, sizeof(addr), "%s:%d", host, busport);
    for (int i = 0; i < g.nseeds; i++)
        if (!strcmp(g.seeds[i], addr)) return;
    g.seeds = zrealloc(g.seeds, sizeof(char *) * (size_t)(g.nseeds + 1));
    g.seeds[g.nseeds++] = zstrdup(addr);
}

/* "host:port" or "host:port@busport" (Redis's notation); the bus port
 * defaults to port + 10000. */
static int parseAddr(const char *s, char *host, size_t hl, int *port, int *busport) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= hl) return C_ERR;
    snprintf(host, hl, "%.*s", (int)(colon - s), s);
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (p <= 0 || p > 65535) return C_ERR;
    long b = p + 10000;
    if (*end == '@') {
        b = strtol(end + 1, &end, 10);
        if (b <= 0 || b > 65535) return C_ERR;
    }
    if (*end) return C_ERR;
    *port = (int)p;
    *busport = (int)b;
    return C_OK;
}

int gossipJoin(const char *addr, char *err, size_t errlen) {
    char host[64];
    int port, busport;
    if (parseAddr(addr, host, sizeof(host), &port, &busport) != C_OK) {
        snprintf(err, errlen, "invalid address '%s' (host:port or host:port@busport)", addr);
        return C_ERR;
    }
    if (!strcmp(host, server.announce_host) && busport == server.bus_port) {
        snprintf(err, errlen, "that address is this node");
        return C_ERR;
    }
    addSeed(host, busport);
    return C_OK;
}

static void loadSnapshot(void) {
    storeValue v;
    if (storeGet(CF_META, META_MEMBERS, strlen(META_MEMBERS), &v) <= 0) return;
    const char *p = v.ptr, *end = v.ptr + v.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        char line[512];
        size_t l = (size_t)(nl - p);
        if (l < sizeof(line)) {
            memcpy(line, p, l);
            line[l] = '\0';
            char id[64], host[64], dc[64], rack[64];
            int port, busport, weight, status;
            unsigned long long sver;
            if (sscanf(line, "%63s %63s %d %d %63s %63s %d %d %llu", id, host, &port, &busport, dc,
                       rack, &weight, &status, &sver) == 9 &&
                strlen(id) <= 40 && strcmp(id, server.node_id) != 0 && !find(id)) {
                member *m = add(id);
                snprintf(m->host, sizeof(m->host), "%s", host);
                m->port = port;
                m->busport = busport;
                snprintf(m->dc, sizeof(m->dc), "%s", dc);
                snprintf(m->rack, sizeof(m->rack), "%s", rack);
                m->weight = weight;
                m->status = status;
                m->status_ver = sver;
            }
        }
        p = nl + 1;
    }
    storeValueFree(&v);
}

int gossipInit(void) {
    char err[256];
    if (ringParseReplication(server.replication, g.spec, &g.nspec, err, sizeof(err)) != 0) {
        serverLog(LL_WARNING, "replication '%s': %s", server.replication, err);
        return C_ERR;
    }
    member *self = add(server.node_id);
    snprintf(self->host, sizeof(self->host), "%s", server.announce_host);
    self->port = server.port;
    self->busport = server.bus_port;
    snprintf(self->dc, sizeof(self->dc), "%s", server.dc);
    snprintf(self->rack, sizeof(self->rack), "%s", server.rack);
    self->weight = server.weight;
    self->generation = (uint64_t)mstime();
    /* A node keeps its status across restarts; a new one starts joining
     * (handoff.c makes it normal once it holds its partitions). */
    storeValue sv;
    self->status = MEMBER_JOINING;
    self->status_ver = 1;
    if (storeGet(CF_META, META_SELF_STATUS, strlen(META_SELF_STATUS), &sv) > 0) {
        char b[64];
        snprintf(b, sizeof(b), "%.*s", (int)(sv.len < 63 ? sv.len : 63), sv.ptr);
        int st;
        unsigned long long ver;
        if (sscanf(b, "%d %llu", &st, &ver) == 2 && st >= 0 && st <= MEMBER_LEFT) {
            self->status = st;
            self->status_ver = ver;
        }
        storeValueFree(&sv);
        if (self->status == MEMBER_LEFT) {
            /* As Cassandra refuses a decommissioned node's data: what is
             * here was handed over when the node left, and serving from it
             * (or joining with it) would bring back old values. */
            serverLog(LL_WARNING,
                      "This data directory (%s) belongs to a node that left the cluster (or was "
                      "forgotten by it): its partitions were handed over to the other nodes. "
                      "ringkv will not start with it. To join the cluster again, start this node "
                      "with an empty data directory (remove or move %s): it then joins as a new "
                      "node and receives its share.",
                      server.dir, server.dir);
            return C_ERR;
        }
    } else {
        saveSelfStatus();
    }
    loadSnapshot();
    /* seeds may name this node itself (the same list on every node) */
    if (server.seeds && server.seeds[0]) {
        char *list = zstrdup(server.seeds), *save = NULL;
        for (char *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
            char host[64];
            int port, busport;
            if (parseAddr(tok, host, sizeof(host), &port, &busport) != C_OK) {
                serverLog(LL_WARNING, "Ignoring bad seed '%s' (host:port expected)", tok);
                continue;
            }
            if (!strcmp(host, server.announce_host) && port == server.port) continue;
            addSeed(host, busport);
        }
        zfree(list);
    }
    /* A node with nobody to join (no seeds but itself, no known peers) is
     * a cluster of one: it owns everything at once. */
    if (g.n == 1 && g.nseeds == 0) {
        g.alone = 1;
        if (self->status == MEMBER_JOINING) {
            self->status = MEMBER_NORMAL;
            self->status_ver++;
            saveSelfStatus();
        }
    }
    busRegister("GOSSIP", gossipHandler);
    busRegister("BYE", byeHandler);
    g.started_ms = mstime();
    g.dirty = 1;
    applyChanges();
    g.timer = event_new(server.base, -1, EV_PERSIST, round_, NULL);
    struct timeval tv = {server.gossip_interval / 1000, (server.gossip_interval % 1000) * 1000};
    event_add(g.timer, &tv);
    round_(-1, 0, NULL); /* say hello to the seeds at once */
    return C_OK;
}

/* --------------------------------------------------------------- leaving */

/* A node that has left tells every peer before it stops (so that nobody
 * waits for a "leaving" node that is simply gone), then ends the loop. */
static int farewellPending;
static struct event *farewellTimer;

static void farewellStop(void) {
    if (farewellTimer) event_del(farewellTimer);
    server.shutdown_asap = 1;
    event_base_loopbreak(server.base);
}

static void farewellAnswered(const busResult *res, void *pd) {
    UNUSED(res);
    UNUSED(pd);
    if (--farewellPending == 0) farewellStop();
}

static void farewellTimeout(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    serverLog(LL_WARNING, "Not every peer confirmed this node left; stopping anyway");
    farewellStop();
}

void gossipFarewell(void) {
    buf t;
    bufInit(&t);
    encodeTable(&t);
    farewellPending = 1;
    for (int i = 1; i < g.n; i++) {
        if (g.m[i].status == MEMBER_LEFT || !gossipMemberUp(i) || !busLinkUsable(g.m[i].link))
            continue;
        const char *argv[3] = {"GOSSIP", server.node_id, t.ptr ? t.ptr : ""};
        size_t lens[3] = {6, strlen(server.node_id), t.len};
        farewellPending++;
        busSend(g.m[i].link, 3, argv, lens, farewellAnswered, NULL, 0);
    }
    bufFree(&t);
    farewellTimer = evtimer_new(server.base, farewellTimeout, NULL);
    struct timeval tv = {3, 0};
    evtimer_add(farewellTimer, &tv);
    if (--farewellPending == 0) farewellStop();
}

/* --------------------------------------------------------------- goodbye */

/* BYE id sender: the sender is shutting down (SIGTERM). Routing treats it
 * as down at once instead of after fail-timeout; it is up again when it
 * beats with a new generation (its restart). */
static void byeHandler(busReq *req) {
    if (req->argc < 3) {
        busReplyError(req, "BYE malformed");
        return;
    }
    char id[41];
    snprintf(id, sizeof(id), "%.*s", (int)(req->lens[2] < 40 ? req->lens[2] : 40), req->argv[2]);
    member *m = find(id);
    if (m && m != &g.m[0]) {
        if (!m->suspect)
            serverLog(LL_NOTICE, "Node %.40s (%s:%d) is shutting down: routing around it", m->id,
                      m->host, m->port);
        m->suspect = 1;
        m->last_beat_ms = 0; /* suspected until it beats again */
    }
    busReplyOK(req);
}

static void byeAnswered(const busResult *res, void *pd) {
    UNUSED(res);
    UNUSED(pd);
}

void gossipGoodbye(void) {
    event_del(g.timer); /* no more heartbeats: we are going */
    for (int i = 1; i < g.n; i++) {
        if (g.m[i].status == MEMBER_LEFT || !gossipMemberUp(i) || !busLinkUsable(g.m[i].link))
            continue;
        const char *argv[2] = {"BYE", server.node_id};
        size_t lens[2] = {3, strlen(server.node_id)};
        busSend(g.m[i].link, 2, argv, lens, byeAnswered, NULL, 0);
    }
}

/* ----------------------------------------------------------------- plan */

/* RING PLAN: what a join (joinaddr != NULL) or a leave (leaveid) would move,
 * compared with the future ring, without moving anything. avgbytes is this
 * node's average bytes per partition replica (an estimate). */
int gossipPlan(const char *joinaddr, const char *dc, const char *rack, int weight,
               const char *leaveid, double avgbytes, buf *out, char *err, size_t errlen) {
    int n = g.n + 1, k = 0, planned = -1;
    ringMember *rm = zmalloc(sizeof(ringMember) * (size_t)n);
    int *map = zmalloc(sizeof(int) * (size_t)n);
    int leaving = -1;
    for (int i = 0; i < g.n; i++) {
        if (g.m[i].status != MEMBER_NORMAL && g.m[i].status != MEMBER_JOINING) continue;
        if (leaveid && !strcmp(g.m[i].id, leaveid)) {
            leaving = i;
            continue;
        }
        rm[k] = (ringMember){g.m[i].id, g.m[i].dc, g.m[i].rack, g.m[i].weight};
        map[k++] = i;
    }
    if (leaveid && leaving < 0) {
        snprintf(err, errlen, "no node %.40s in the ring", leaveid);
        zfree(rm);
        zfree(map);
        return C_ERR;
    }
    if (joinaddr) {
        rm[k] = (ringMember){"planned-node", dc, rack, weight};
        planned = k;
        map[k++] = -1;
    }
    ring *r = ringCreate(rm, k, server.qbits, g.spec, g.nspec);
    if (!r || !g.fut) {
        snprintf(err, errlen, "could not build the planned ring");
        ringFree(r);
        zfree(rm);
        zfree(map);
        return C_ERR;
    }
    long long *gain = zcalloc(sizeof(long long) * (size_t)(g.n + 1));
    long long *loss = zcalloc(sizeof(long long) * (size_t)(g.n + 1));
    long long slots = 0, moving = 0, parts = 0;
    for (unsigned p = 0; p < r->q; p++) {
        int before[64], nb = gossipFutureOwners(p, before);
        const int *after;
        int na = ringReplicas(r, p, &after);
        int changed = 0;
        slots += na;
        for (int i = 0; i < na; i++) {
            int m = map[after[i]], was = 0;
            for (int j = 0; j < nb; j++)
                if (before[j] == m) was = 1;
            if (!was) {
                gain[m < 0 ? g.n : m]++;
                moving++;
                changed = 1;
            }
        }
        for (int j = 0; j < nb; j++) {
            int still = 0;
            for (int i = 0; i < na; i++)
                if (map[after[i]] == before[j]) still = 1;
            if (!still) loss[before[j]]++;
        }
        parts += changed;
    }
    if (joinaddr)
        bufPrintf(out, "plan: join %s (%s/%s, weight %d)\n", joinaddr, dc, rack, weight);
    else
        bufPrintf(out, "plan: leave %.40s (%s:%d)\n", g.m[leaving].id, g.m[leaving].host,
                  g.m[leaving].port);
    bufPrintf(out, "partitions affected: %lld of %u\n", parts, r->q);
    bufPrintf(out, "replica slots moving: %lld of %lld (%.1f%%)\n", moving, slots,
              slots ? 100.0 * (double)moving / (double)slots : 0.0);
    bufPrintf(out, "estimated bytes moving: %.0f (this node's average per partition replica)\n",
              avgbytes * (double)moving);
    for (int i = 0; i < g.n; i++) {
        if (!gain[i] && !loss[i] && i != leaving) continue;
        bufPrintf(out, "node %.40s %s:%d: +%lld -%lld replicas\n", g.m[i].id, g.m[i].host,
                  g.m[i].port, gain[i], loss[i]);
    }
    if (planned >= 0) bufPrintf(out, "new node %s: +%lld replicas\n", joinaddr, gain[g.n]);
    zfree(gain);
    zfree(loss);
    ringFree(r);
    zfree(rm);
    zfree(map);
    return C_OK;
}

void gossipInfo(buf *out) {
    int up = 0;
    for (int i = 0; i < g.n; i++)
        if (memberAlive(i)) up++; /* a node that left is not up, whatever it last said */
    bufPrintf(out, "ring_nodes:%d\r\nring_nodes_up:%d\r\n", g.n, up);
    bufPrintf(out, "ring_members:%d\r\n", g.ringn);
    bufPrintf(out, "ring_hash:%016llx\r\n", g.ring ? (unsigned long long)ringHash(g.ring) : 0ULL);
    bufPrintf(out, "gossip_rounds:%lld\r\n", g.rounds);
    int have = g.ring ? g.ring->nreplicas : 0;
    bufPrintf(out, "ring_partitions:%d\r\n", server.ring_partitions);
    bufPrintf(out, "ring_partitions_owned:%d\r\n", gossipOwnedCount());
    bufPrintf(out, "ring_replication:%s\r\n", server.replication);
    bufPrintf(out, "ring_replicas_per_partition:%d\r\n", have);
    bufPrintf(out, "ring_under_replicated:%d\r\n", have < ringSpecTotal(g.spec, g.nspec) ? 1 : 0);
}
