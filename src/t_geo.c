/* t_geo.c -- the geo commands of Redis 7.0 over coll.h: GEOADD GEOPOS
 * GEODIST GEOHASH GEORADIUS GEORADIUS_RO GEORADIUSBYMEMBER
 * GEORADIUSBYMEMBER_RO GEOSEARCH GEOSEARCHSTORE.
 *
 * As in Redis, a geo set IS a sorted set: each member's score is the
 * 52-bit geohash of its position (geohash.h), so ZRANGE, ZSCORE, ZREM and
 * TYPE see a zset. GEOADD writes members exactly as ZADD does
 * (zsetDeltaAdd, one dot per command); the reads take scores with
 * zsetScore. Every handler is a continuation, as in t_zset.c: parse what
 * Redis parses before it looks at the key, read (collRead), then compute
 * the reply and, for a write, the deltas, replying once collWrite's
 * callback says the write is acknowledged.
 *
 * Searches read the key's type and the member they start from, if any
 * (COLL_READ_FIELDS), parse the options then, as Redis does (a wrong type is
 * reported before a bad option; FROMMEMBER needs the member's position),
 * and read the members of the cells geohashSearchCells picks through the
 * score index, one range read per distinct cell, all at once
 * (COLL_READ_RANGE: a cell is a range of geohash scores). The members
 * found, sorted by (score, member) as Redis's sorted set orders them, are
 * scanned cell by cell in geohashSearchCells's order, each tested against
 * the shape: the members found and their order before any sorting (what
 * COUNT ANY returns) are Redis's. A search costs the members of its cells,
 * not the size of the set.
 *
 * STORE, STOREDIST and GEOSEARCHSTORE replace the destination: the
 * results are copied, the destination is read (COLL_READ_META) and one
 * batch writes a DEL of what it held and the results' members (a string
 * there goes too, through writeValue), as ZRANGESTORE does.
 *
 * Keys: GEORADIUS's and GEORADIUSBYMEMBER's STORE destination is an option,
 * not a key position of their rows (commands.c's commandKeys knows only
 * key positions and numkeys commands): it is written without the key lock
 * a key position would take. GEOSEARCHSTORE's destination is argv[1] and
 * is locked.
 *
 * API: geoCommandTable (t_geo.h); the handlers are static. */
#include "t_geo.h"

#include <event2/buffer.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coll.h"
#include "collbatch.h"
#include "geohash.h"
#include "resp.h"
#include "t_string.h"
#include "types/zset.h"
#include "zrange.h"

#define ERR_MEMBER "could not decode requested zset member"
#define ERR_UNIT "unsupported unit provided. please use M, KM, FT, MI"

/* ================================================================ helpers */

/* Meters per unit, or -1 after replying Redis's error. */
static double parseUnit(request *r, int i) {
    if (argIs(r, i, "m")) return 1;
    if (argIs(r, i, "km")) return 1000;
    if (argIs(r, i, "ft")) return 0.3048;
    if (argIs(r, i, "mi")) return 1609.34;
    addReplyError(r, ERR_UNIT);
    return -1;
}

/* argv[i] as Redis's getDoubleFromObjectOrReply reads it. */
static int parseDouble(request *r, int i, double *d, const char *err) {
    if (zrangeParseDouble(r->argv[i], r->argvlen[i], d)) return C_OK;
    addReplyError(r, err ? err : ERR_NOT_FLOAT);
    return C_ERR;
}

/* argv[i], argv[i+1]: a longitude and a latitude in the indexable range. */
static int parseLonLat(request *r, int i, double xy[2]) {
    if (parseDouble(r, i, &xy[0], NULL) != C_OK || parseDouble(r, i + 1, &xy[1], NULL) != C_OK)
        return C_ERR;
    if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN || xy[1] > GEO_LAT_MAX) {
        addReplyErrorFormat(r, "invalid longitude,latitude pair %f,%f", xy[0], xy[1]);
        return C_ERR;
    }
    return C_OK;
}

/* argv[i] radius, argv[i+1] unit. */
static int parseDistance(request *r, int i, double *radius, double *conversion) {
    if (parseDouble(r, i, radius, "need numeric radius") != C_OK) return C_ERR;
    if (*radius < 0) {
        addReplyError(r, "radius cannot be negative");
        return C_ERR;
    }
    return (*conversion = parseUnit(r, i + 1)) < 0 ? C_ERR : C_OK;
}

/* argv[i] width, argv[i+1] height, argv[i+2] unit. */
static int parseBox(request *r, int i, double *w, double *h, double *conversion) {
    if (parseDouble(r, i, w, "need numeric width") != C_OK ||
        parseDouble(r, i + 1, h, "need numeric height") != C_OK)
        return C_ERR;
    if (*w < 0 || *h < 0) {
        addReplyError(r, "height or width cannot be negative");
        return C_ERR;
    }
    return (*conversion = parseUnit(r, i + 2)) < 0 ? C_ERR : C_OK;
}

/* A distance as Redis prints it: 4 decimals, rounded (llrint) once. */
static void replyDistance(request *r, double d) {
    char b[64];
    int n;
    if (d == 0) {
        n = snprintf(b, sizeof(b), "0.0000");
    } else {
        long long v = llrint(d * 10000.0);
        unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        n = snprintf(b, sizeof(b), "%s%llu.%04llu", v < 0 ? "-" : "", u / 10000, u % 10000);
    }
    addReplyBulk(r, b, (size_t)n);
}

/* A coordinate as Redis's addReplyHumanLongDouble prints it: 17 decimals,
 * trailing zeros (and a trailing point) dropped; a bulk string in RESP2,
 * a double in RESP3. */
static void replyCoord(request *r, double d) {
    char b[512];
    int n = snprintf(b, sizeof(b), "%.17f", d);
    if (strchr(b, '.')) {
        while (n > 0 && b[n - 1] == '0') n--;
        if (n > 0 && b[n - 1] == '.') n--;
    }
    b[n] = '\0';
    if (n == 2 && b[0] == '-' && b[1] == '0') {
        b[0] = '0';
        n = 1;
    }
    if (r->proto >= 3) {
        char line[600];
        int l = snprintf(line, sizeof(line), ",%.*s\r\n", n, b);
        respAddRaw(r->out, line, (size_t)l);
    } else {
        addReplyBulk(r, b, (size_t)n);
    }
}

/* The score of member (name, len) of a view of a zset, 1 if it lives. */
static int memberScore(const collView *v, const char *name, size_t len, double *score) {
    const collElem *e = collViewFind(v, name, len);
    return e && zsetScore(&e->f, &v->kr, score);
}

/* ------------------------------------------------------- command state */

/* A member a search found. */
typedef struct geoPoint {
    const char *ele; /* member bytes: borrowed from the view, or owned (store) */
    size_t len;
    double score;    /* its geohash */
    double xy[2];    /* its position */
    double dist;     /* from the centre, meters, then in the command's unit */
    long order;      /* when it was found (a stable sort) */
} geoPoint;

/* Command flags of the searches (Redis's georadiusGeneric). */
#define GEO_BYCOORDS (1 << 0) /* GEORADIUS[_RO] */
#define GEO_BYMEMBER (1 << 1) /* GEORADIUSBYMEMBER[_RO] */
#define GEO_SEARCH (1 << 2)   /* GEOSEARCH[STORE] */
#define GEO_STORE (1 << 3)    /* GEOSEARCHSTORE */
#define GEO_NOSTORE (1 << 4)  /* the _RO forms */

/* One request's state (requestState, freed by gstateFree). */
typedef struct gstate {
    /* GEOADD */
    int addflags;        /* GEOADD_* */
    int first;           /* argv index of the first longitude */
    int n;               /* its points */
    double *scores;      /* their geohashes, owned */
    /* searches */
    int flags;           /* GEO_* */
    int srcidx;          /* argv index of the source key */
    int dstidx;          /* argv index of the destination (0: no store) */
    int storedist;       /* store distances, not geohashes */
    geoPoint *res;       /* store: the results, members owned */
    long nres;
    struct searchArgs *args; /* the parsed options, owned */
    zitem *found;        /* the cells' live members (ele: offsets into names until done) */
    long nfound, capfound;
    buf names;           /* their bytes */
    int cells;           /* cell reads not answered yet */
    char rerr[320];      /* the first read error */
    /* the held reply */
    long long ll;
    int writes;          /* writes not acknowledged yet */
    char werr[320];      /* the first write error */
} gstate;

static void gstateFree(void *p) {
    gstate *s = p;
    zfree(s->args);
    zfree(s->found);
    bufFree(&s->names);
    zfree(s->scores);
    for (long i = 0; i < s->nres; i++) zfree((char *)s->res[i].ele);
    zfree(s->res);
    zfree(s);
}

static gstate *gstateNew(request *r) {
    gstate *s = requestState(r, sizeof(*s));
    r->state_free = gstateFree;
    bufInit(&s->names);
    return s;
}

/* The callback of each write (collWrite, writeValue): the count once the
 * last is acknowledged, or the first error. */
static void gwriteDone(request *r, const coordResult *res, void *pd) {
    gstate *s = pd;
    if (!res->ok && !s->werr[0]) snprintf(s->werr, sizeof(s->werr), "%s", res->err);
    if (--s->writes > 0) return;
    if (s->werr[0]) addReplyError(r, s->werr);
    else addReplyInteger(r, s->ll);
}

/* ================================================================ GEOADD */

#define GEOADD_NX (1 << 0)
#define GEOADD_XX (1 << 1)
#define GEOADD_CH (1 << 2)

/* One distinct member of a GEOADD: what the command made of it so far. */
typedef struct addMember {
    const char *name;
    size_t len;
    const collElem *e; /* its element in the view, or NULL */
    int present;       /* a member (now, within the command) */
    double score;      /* its score then */
    int changed;       /* the command writes it */
} addMember;

/* Orders points k of a GEOADD by their member's bytes, then by k. */
typedef struct memberOrder {
    request *r;
    int first; /* argv index of the first longitude */
} memberOrder;

static int cmpMemberPos(const void *pa, const void *pb, void *pd) {
    const memberOrder *o = pd;
    int ka = *(const int *)pa, kb = *(const int *)pb;
    int i = o->first + 3 * ka + 2, j = o->first + 3 * kb + 2;
    size_t li = o->r->argvlen[i], lj = o->r->argvlen[j], m = li < lj ? li : lj;
    int c = m ? memcmp(o->r->argv[i], o->r->argv[j], m) : 0;
    if (c) return c;
    if (li != lj) return li < lj ? -1 : 1;
    return ka < kb ? -1 : (ka > kb);
}

/* slot[k] := the number of the distinct member point k names (equal
 * members the same number); returns how many distinct members. */
static int groupMembers(request *r, int first, int n, int *slot) {
    int *ord = zmalloc(sizeof(int) * (size_t)(n ? n : 1));
    for (int k = 0; k < n; k++) ord[k] = k;
    memberOrder o = {r, first};
    qsort_r(ord, (size_t)n, sizeof(int), cmpMemberPos, &o);
    int ng = 0;
    for (int k = 0; k < n; k++) {
        if (k > 0) {
            int a = first + 3 * ord[k] + 2, b = first + 3 * ord[k - 1] + 2;
            if (r->argvlen[a] != r->argvlen[b] || memcmp(r->argv[a], r->argv[b], r->argvlen[a]))
                ng++;
        }
        slot[ord[k]] = ng;
    }
    zfree(ord);
    return n ? ng + 1 : 0;
}

static void geoaddAfterRead(request *r, const collView *v, const char *err, void *pd) {
    gstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collCheckType(r, v, KT_ZSET)) return;
    int exists = collTypeOf(v) == KT_ZSET, f = s->addflags;
    if (!exists && (f & GEOADD_XX)) {
        addReplyInteger(r, 0);
        return;
    }
    /* distinct members (a member named twice gets the last score that
     * passed the options, as ZADD applies pairs in order) */
    int *slot = zmalloc(sizeof(int) * (size_t)s->n);
    int nm = groupMembers(r, s->first, s->n, slot);
    addMember *m = zcalloc(sizeof(addMember) * (size_t)(nm ? nm : 1));
    for (int j = 0; j < s->n; j++) {
        addMember *g = &m[slot[j]];
        if (g->name) continue;
        int a = s->first + 3 * j + 2;
        g->name = r->argv[a];
        g->len = r->argvlen[a];
        g->e = collViewFind(v, g->name, g->len);
        g->present = g->e && zsetScore(&g->e->f, &v->kr, &g->score);
    }
    long long added = 0, updated = 0;
    for (int j = 0; j < s->n; j++) {
        addMember *g = &m[slot[j]];
        double score = s->scores[j];
        if (g->present) {
            if ((f & GEOADD_NX) || score == g->score) continue;
            g->score = score;
            g->changed = 1;
            updated++;
        } else if (!(f & GEOADD_XX)) {
            g->present = 1;
            g->score = score;
            g->changed = 1;
            added++;
        }
    }
    s->ll = (f & GEOADD_CH) ? added + updated : added;
    if (added + updated == 0) {
        addReplyInteger(r, s->ll);
    } else {
        uint64_t seq = collDot();
        collBatch b;
        collBatchInit(&b);
        collBatchTouch(&b, v, KT_ZSET, seq);
        field delta, none;
        fieldInit(&delta);
        fieldInit(&none);
        for (int k = 0; k < nm; k++) {
            if (!m[k].changed) continue;
            zsetDeltaAdd(&delta, m[k].e ? &m[k].e->f : &none, server.actor, seq, m[k].score);
            collBatchField(&b, m[k].name, m[k].len, &delta);
        }
        fieldFree(&delta);
        fieldFree(&none);
        s->writes = 1;
        collWrite(r, r->db, r->argv[1], r->argvlen[1], &b, gwriteDone, s);
        collBatchFree(&b);
    }
    zfree(m);
    zfree(slot);
}

/* GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...] */
static void geoaddCommand(request *r) {
    int flags = 0, i = 2;
    for (; i < r->argc; i++) {
        if (argIs(r, i, "nx")) flags |= GEOADD_NX;
        else if (argIs(r, i, "xx")) flags |= GEOADD_XX;
        else if (argIs(r, i, "ch")) flags |= GEOADD_CH;
        else break;
    }
    int left = r->argc - i;
    if (left % 3 || left == 0 || ((flags & GEOADD_NX) && (flags & GEOADD_XX))) {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    gstate *s = gstateNew(r);
    s->addflags = flags;
    s->first = i;
    s->n = left / 3;
    s->scores = zmalloc(sizeof(double) * (size_t)s->n);
    char **names = zmalloc(sizeof(char *) * (size_t)s->n);
    size_t *lens = zmalloc(sizeof(size_t) * (size_t)s->n);
    for (int j = 0; j < s->n; j++) {
        double xy[2];
        if (parseLonLat(r, i + 3 * j, xy) != C_OK) goto out;
        geohashScore(xy[0], xy[1], &s->scores[j]);
        names[j] = r->argv[i + 3 * j + 2];
        lens[j] = r->argvlen[i + 3 * j + 2];
    }
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_FIELDS, names, lens, s->n,
             geoaddAfterRead, s);
out:
    zfree(names);
    zfree(lens);
}

/* ========================================================== point reads */

static void geoposAfterRead(request *r, const collView *v, const char *err, void *pd) {
    int hash = pd != NULL;
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collCheckType(r, v, KT_ZSET)) return;
    addReplyArrayLen(r, r->argc - 2);
    for (int j = 2; j < r->argc; j++) {
        double score;
        if (!memberScore(v, r->argv[j], r->argvlen[j], &score)) {
            if (hash) addReplyNull(r);
            else addReplyNullArray(r);
        } else if (hash) {
            char b[12];
            geohashString(score, b);
            addReplyBulk(r, b, 11);
        } else {
            double xy[2];
            geohashDecodeScore(score, xy);
            addReplyArrayLen(r, 2);
            replyCoord(r, xy[0]);
            replyCoord(r, xy[1]);
        }
    }
}

/* GEOPOS key [member ...] */
static void geoposCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_FIELDS, r->argv + 2, r->argvlen + 2,
             r->argc - 2, geoposAfterRead, NULL);
}

/* GEOHASH key [member ...] */
static void geohashCommand(request *r) {
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_FIELDS, r->argv + 2, r->argvlen + 2,
             r->argc - 2, geoposAfterRead, (void *)1);
}

static void geodistAfterRead(request *r, const collView *v, const char *err, void *pd) {
    gstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collCheckType(r, v, KT_ZSET)) return;
    double s1, s2, a[2], b[2];
    if (!memberScore(v, r->argv[2], r->argvlen[2], &s1) ||
        !memberScore(v, r->argv[3], r->argvlen[3], &s2)) {
        addReplyNull(r);
        return;
    }
    geohashDecodeScore(s1, a);
    geohashDecodeScore(s2, b);
    replyDistance(r, geohashDistance(a[0], a[1], b[0], b[1]) / s->scores[0]);
}

/* GEODIST key member1 member2 [M|KM|FT|MI] */
static void geodistCommand(request *r) {
    double unit = 1;
    if (r->argc == 5) {
        if ((unit = parseUnit(r, 4)) < 0) return;
    } else if (r->argc > 5) {
        addReplyError(r, ERR_SYNTAX);
        return;
    }
    gstate *s = gstateNew(r);
    s->scores = zmalloc(sizeof(double));
    s->scores[0] = unit;
    collRead(r, r->db, r->argv[1], r->argvlen[1], COLL_READ_FIELDS, r->argv + 2, r->argvlen + 2,
             2, geodistAfterRead, s);
}

/* ============================================================ searches */

/* The options of a search, as parsed once the source is read. */
typedef struct searchArgs {
    geoShape shape;
    int withdist, withhash, withcoord;
    int frommember, fromlonlat, byradius, bybox;
    int sort;        /* 0 none, 1 ASC, -1 DESC */
    int any;
    long long count; /* 0: all */
    int dstidx;      /* 0: no store */
    int storedist;
} searchArgs;

/* Parses the options of a search (Redis's order of checks); replies the
 * error and returns C_ERR on a bad one. exists: the source is a zset. */
static int parseSearch(request *r, const collView *v, int flags, int exists, searchArgs *a) {
    memset(a, 0, sizeof(*a));
    int base;
    if (flags & GEO_BYCOORDS) {
        base = 6;
        a->shape.type = GEO_SHAPE_RADIUS;
        if (parseLonLat(r, 2, a->shape.xy) != C_OK) return C_ERR;
        if (parseDistance(r, 4, &a->shape.radius, &a->shape.conversion) != C_OK) return C_ERR;
    } else if (flags & GEO_BYMEMBER) {
        base = 5;
        /* no source: Redis reads the options alone (to know the reply) */
        if (exists) {
            a->shape.type = GEO_SHAPE_RADIUS;
            double score;
            if (!memberScore(v, r->argv[2], r->argvlen[2], &score)) {
                addReplyError(r, ERR_MEMBER);
                return C_ERR;
            }
            geohashDecodeScore(score, a->shape.xy);
            if (parseDistance(r, 3, &a->shape.radius, &a->shape.conversion) != C_OK) return C_ERR;
        }
    } else {
        base = (flags & GEO_STORE) ? 3 : 2;
    }
    int search = (flags & GEO_SEARCH) != 0;
    int canstore = !(flags & GEO_NOSTORE) && !search;
    int remaining = r->argc - base;
    for (int i = 0; i < remaining; i++) {
        int k = base + i;
        if (argIs(r, k, "withdist")) {
            a->withdist = 1;
        } else if (argIs(r, k, "withhash")) {
            a->withhash = 1;
        } else if (argIs(r, k, "withcoord")) {
            a->withcoord = 1;
        } else if (argIs(r, k, "any")) {
            a->any = 1;
        } else if (argIs(r, k, "asc")) {
            a->sort = 1;
        } else if (argIs(r, k, "desc")) {
            a->sort = -1;
        } else if (argIs(r, k, "count") && i + 1 < remaining) {
            if (getLongLongFromArg(r, k + 1, &a->count, NULL) != C_OK) return C_ERR;
            if (a->count <= 0) {
                addReplyError(r, "COUNT must be > 0");
                return C_ERR;
            }
            i++;
        } else if ((argIs(r, k, "store") || argIs(r, k, "storedist")) && i + 1 < remaining &&
                   canstore) {
            a->dstidx = k + 1;
            a->storedist = argIs(r, k, "storedist");
            i++;
        } else if (argIs(r, k, "storedist") && (flags & GEO_STORE)) {
            a->storedist = 1;
        } else if (argIs(r, k, "frommember") && i + 1 < remaining && search && !a->fromlonlat) {
            if (exists) {
                double score;
                if (!memberScore(v, r->argv[k + 1], r->argvlen[k + 1], &score)) {
                    addReplyError(r, ERR_MEMBER);
                    return C_ERR;
                }
                geohashDecodeScore(score, a->shape.xy);
            }
            a->frommember = 1;
            i++;
        } else if (argIs(r, k, "fromlonlat") && i + 2 < remaining && search && !a->frommember) {
            if (parseLonLat(r, k + 1, a->shape.xy) != C_OK) return C_ERR;
            a->fromlonlat = 1;
            i += 2;
        } else if (argIs(r, k, "byradius") && i + 2 < remaining && search && !a->bybox) {
            if (parseDistance(r, k + 1, &a->shape.radius, &a->shape.conversion) != C_OK)
                return C_ERR;
            a->shape.type = GEO_SHAPE_RADIUS;
            a->byradius = 1;
            i += 2;
        } else if (argIs(r, k, "bybox") && i + 3 < remaining && search && !a->byradius) {
            if (parseBox(r, k + 1, &a->shape.width, &a->shape.height, &a->shape.conversion) != C_OK)
                return C_ERR;
            a->shape.type = GEO_SHAPE_BOX;
            a->bybox = 1;
            i += 3;
        } else {
            addReplyError(r, ERR_SYNTAX);
            return C_ERR;
        }
    }
    if (flags & GEO_STORE) a->dstidx = 1;
    if (a->dstidx && (a->withdist || a->withhash || a->withcoord)) {
        addReplyErrorFormat(r, "%s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                            (flags & GEO_STORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return C_ERR;
    }
    if (search && !(a->frommember || a->fromlonlat)) {
        addReplyErrorFormat(r, "exactly one of FROMMEMBER or FROMLONLAT can be specified for %s",
                            r->argv[0]);
        return C_ERR;
    }
    if (search && !(a->byradius || a->bybox)) {
        addReplyErrorFormat(r, "exactly one of BYRADIUS and BYBOX can be specified for %s",
                            r->argv[0]);
        return C_ERR;
    }
    if (a->any && !a->count) {
        addReplyError(r, "the ANY argument requires COUNT argument");
        return C_ERR;
    }
    return C_OK;
}

/* The first of the n items (sorted by score) whose score is >= min. */
static long lowerBound(const zitem *it, long n, double min) {
    long lo = 0, hi = n;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (it[mid].score < min) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Appends to pts the members of the sorted items inside the shape, cell
 * by cell in geohashSearchCells's order (a cell equal to the one scanned
 * just before is skipped, as Redis skips it; one met again later is
 * scanned again, its members found twice, as in Redis), stopping at limit
 * (0: none). *ptsp gets the points (owned by the caller); returns how many. */
static long searchPoints(const geoShape *shape, const zitem *it, long n, long long limit,
                         geoPoint **ptsp) {
    long cap = 16;
    geoPoint *pts = zmalloc(sizeof(geoPoint) * (size_t)cap);
    geoCell cells[9];
    geohashSearchCells(shape, cells);
    long used = 0;
    int last = 0;
    for (int c = 0; c < 9; c++) {
        if (cells[c].bits == 0 && cells[c].step == 0) continue;
        if (last && cells[c].bits == cells[last].bits && cells[c].step == cells[last].step)
            continue;
        if (used && limit && used >= limit) break;
        double min, max;
        geohashCellScores(cells[c], &min, &max);
        for (long k = lowerBound(it, n, min); k < n && it[k].score < max; k++) {
            if (used == cap) {
                cap *= 2;
                pts = zrealloc(pts, sizeof(geoPoint) * (size_t)cap);
            }
            geoPoint *p = &pts[used];
            geohashDecodeScore(it[k].score, p->xy);
            if (geohashShapeContains(shape, p->xy, &p->dist)) {
                p->ele = it[k].ele;
                p->len = it[k].len;
                p->score = it[k].score;
                p->order = used;
                used++;
            }
            if (used && limit && used >= limit) break;
        }
        last = c;
    }
    *ptsp = pts;
    return used;
}

static int cmpAsc(const void *pa, const void *pb) {
    const geoPoint *a = pa, *b = pb;
    if (a->dist != b->dist) return a->dist < b->dist ? -1 : 1;
    return a->order < b->order ? -1 : (a->order > b->order);
}

static int cmpDesc(const void *pa, const void *pb) {
    const geoPoint *a = pa, *b = pb;
    if (a->dist != b->dist) return a->dist > b->dist ? -1 : 1;
    return a->order < b->order ? -1 : (a->order > b->order);
}

/* The destination was read: it becomes the results (a DEL of what was
 * read of it, then each member), or goes when there are none; a string
 * there goes too (a tombstone over the versions read, as DEL does it).
 * Replies the count once every write is acknowledged. */
static void storeAfterDst(request *r, const collView *v, const char *err, void *pd) {
    gstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    s->ll = s->nres;
    int hasmeta = v->meta.clock.n > 0;
    int hasstr = recordVisible(&v->str, v->now_ms) != NULL;
    if (s->nres == 0 && !hasmeta && !hasstr) {
        addReplyInteger(r, 0);
        return;
    }
    uint64_t seq = collDot();
    collBatch b;
    collBatchInit(&b);
    if (hasmeta) collBatchDel(&b, v, seq);
    if (s->nres > 0) {
        collBatchTouch(&b, v, KT_ZSET, seq);
        field delta, none;
        fieldInit(&delta);
        fieldInit(&none);
        for (long k = 0; k < s->nres; k++) {
            const geoPoint *p = &s->res[k];
            double score = s->storedist ? p->dist : p->score;
            zsetDeltaAdd(&delta, &none, server.actor, seq, score == 0 ? 0.0 : score);
            collBatchField(&b, p->ele, p->len, &delta);
        }
        fieldFree(&delta);
        fieldFree(&none);
    }
    /* both writes are counted before either can complete */
    s->writes = (b.n > 0) + hasstr;
    if (b.n > 0) collWrite(r, r->db, r->argv[s->dstidx], r->argvlen[s->dstidx], &b, gwriteDone, s);
    collBatchFree(&b);
    if (hasstr)
        writeValue(r, r->db, r->argv[s->dstidx], r->argvlen[s->dstidx], NULL, 0, 1, 0, &v->str,
                   gwriteDone, s);
}

/* Every cell was read: the search runs over the members found (s->found,
 * exists: the key is a sorted set), and replies or stores its result. */
static void searchFinish(request *r, gstate *s, int exists) {
    if (s->rerr[0]) {
        addReplyError(r, s->rerr);
        return;
    }
    searchArgs a = *s->args;
    long n = 0, used = 0;
    zitem *it = NULL;
    geoPoint *pts = NULL;
    if (exists) {
        /* the live members in the sorted set's order, each once (cells may
         * overlap, and a member read by two of them is one member) */
        it = s->found ? s->found : zmalloc(sizeof(zitem));
        s->found = NULL;
        for (long k = 0; k < s->nfound; k++) it[k].ele = s->names.ptr + (size_t)it[k].ele;
        zitemSort(it, s->nfound);
        for (long k = 0; k < s->nfound; k++)
            if (n == 0 || it[n - 1].len != it[k].len || it[n - 1].score != it[k].score ||
                memcmp(it[n - 1].ele, it[k].ele, it[k].len) != 0)
                it[n++] = it[k];
        /* COUNT without an order would return any N: Redis sorts (ANY excepted) */
        if (a.count && !a.sort && !a.any) a.sort = 1;
        used = searchPoints(&a.shape, it, n, a.any ? a.count : 0, &pts);
        if (a.sort) qsort(pts, (size_t)used, sizeof(geoPoint), a.sort > 0 ? cmpAsc : cmpDesc);
    }
    long ret = (a.count == 0 || used < a.count) ? used : (long)a.count;
    for (long k = 0; k < ret; k++) pts[k].dist /= a.shape.conversion;
    if (!a.dstidx) {
        int opts = a.withdist + a.withhash + a.withcoord;
        addReplyArrayLen(r, ret);
        for (long k = 0; k < ret; k++) {
            const geoPoint *p = &pts[k];
            if (opts) addReplyArrayLen(r, opts + 1);
            addReplyBulk(r, p->ele, p->len);
            if (a.withdist) replyDistance(r, p->dist);
            if (a.withhash) addReplyInteger(r, (long long)p->score);
            if (a.withcoord) {
                addReplyArrayLen(r, 2);
                replyCoord(r, p->xy[0]);
                replyCoord(r, p->xy[1]);
            }
        }
    } else {
        /* the results outlive the members found: copied for the destination's read */
        s->res = zmalloc(sizeof(geoPoint) * (size_t)(ret ? ret : 1));
        for (long k = 0; k < ret; k++) {
            s->res[k] = pts[k];
            char *m = zmalloc(pts[k].len + 1);
            memcpy(m, pts[k].ele, pts[k].len);
            m[pts[k].len] = '\0';
            s->res[k].ele = m;
            s->nres++;
        }
        collRead(r, r->db, r->argv[s->dstidx], r->argvlen[s->dstidx], COLL_READ_META, NULL, NULL,
                 0, storeAfterDst, s);
    }
    zfree(pts);
    zfree(it);
}

/* One cell's members were read (COLL_READ_RANGE): the live ones are kept
 * (copied: the view is the callback's); the last cell read finishes. */
static void cellRead(request *r, const collView *v, const char *err, void *pd) {
    gstate *s = pd;
    if (err) {
        if (!s->rerr[0]) snprintf(s->rerr, sizeof(s->rerr), "%s", err);
    } else if (collTypeOf(v) == KT_ZSET) {
        for (int i = 0; i < v->nel; i++) {
            double sc;
            if (!zsetScore(&v->el[i].f, &v->kr, &sc)) continue;
            if (s->nfound == s->capfound) {
                s->capfound = s->capfound ? s->capfound * 2 : 64;
                s->found = zrealloc(s->found, sizeof(zitem) * (size_t)s->capfound);
            }
            /* the offset of its bytes, made a pointer once all are in */
            s->found[s->nfound++] = (zitem){(const char *)(uintptr_t)s->names.len, v->el[i].len, sc};
            bufAppend(&s->names, v->el[i].name, v->el[i].len);
        }
    }
    if (--s->cells == 0) searchFinish(r, s, 1);
}

/* The key's type and the member a search starts from were read: the
 * options are parsed, then every distinct cell is read at once. */
static void searchAfterRead(request *r, const collView *v, const char *err, void *pd) {
    gstate *s = pd;
    if (err) {
        addReplyError(r, err);
        return;
    }
    if (collCheckType(r, v, KT_ZSET)) return;
    int exists = collTypeOf(v) == KT_ZSET;
    s->args = zmalloc(sizeof(searchArgs));
    if (parseSearch(r, v, s->flags, exists, s->args) != C_OK) return;
    s->dstidx = s->args->dstidx;
    s->storedist = s->args->storedist;
    if (!exists) {
        searchFinish(r, s, 0);
        return;
    }
    geoCell cells[9];
    geohashSearchCells(&s->args->shape, cells);
    collRange q[9];
    int nq = 0;
    for (int c = 0; c < 9; c++) {
        if (cells[c].bits == 0 && cells[c].step == 0) continue;
        double min, max;
        geohashCellScores(cells[c], &min, &max);
        int dup = 0;
        for (int j = 0; j < nq && !dup; j++) dup = q[j].min == min && q[j].max == max;
        if (dup) continue;
        q[nq++] = (collRange){.hasmin = 1, .hasmax = 1, .maxex = 1, .min = min, .max = max};
    }
    if (nq == 0) {
        searchFinish(r, s, 1);
        return;
    }
    /* all counted before any can answer (this node's own copy answers at once) */
    s->cells = nq;
    buf b;
    bufInit(&b);
    for (int j = 0; j < nq; j++) {
        collRangeEncode(&q[j], &b);
        char *name = b.ptr;
        size_t len = b.len;
        collRead(r, r->db, r->argv[s->srcidx], r->argvlen[s->srcidx], COLL_READ_RANGE, &name,
                 &len, 1, cellRead, s);
    }
    bufFree(&b);
}

static void searchGeneric(request *r, int srcidx, int flags) {
    gstate *s = gstateNew(r);
    s->flags = flags;
    s->srcidx = srcidx;
    /* the member a search may start from: GEORADIUSBYMEMBER's, or any
     * argument after a FROMMEMBER (the options are parsed once the key's
     * type is known) */
    char *names[64];
    size_t lens[64];
    int n = 0;
    if ((flags & GEO_BYMEMBER) && r->argc > 2) {
        names[n] = r->argv[2];
        lens[n++] = r->argvlen[2];
    }
    for (int k = srcidx + 1; k + 1 < r->argc && n < 64; k++)
        if (argIs(r, k, "frommember")) {
            names[n] = r->argv[k + 1];
            lens[n++] = r->argvlen[k + 1];
        }
    collRead(r, r->db, r->argv[srcidx], r->argvlen[srcidx], COLL_READ_FIELDS, names, lens, n,
             searchAfterRead, s);
}

/* GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST]
 *   [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key] */
static void georadiusCommand(request *r) { searchGeneric(r, 1, GEO_BYCOORDS); }
static void georadiusroCommand(request *r) { searchGeneric(r, 1, GEO_BYCOORDS | GEO_NOSTORE); }
/* GEORADIUSBYMEMBER key member radius M|KM|FT|MI [options as GEORADIUS] */
static void georadiusbymemberCommand(request *r) { searchGeneric(r, 1, GEO_BYMEMBER); }
static void georadiusbymemberroCommand(request *r) {
    searchGeneric(r, 1, GEO_BYMEMBER | GEO_NOSTORE);
}
/* GEOSEARCH key FROMMEMBER member|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit
 *   [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH] */
static void geosearchCommand(request *r) { searchGeneric(r, 1, GEO_SEARCH); }
/* GEOSEARCHSTORE dst src (as GEOSEARCH) [STOREDIST] */
static void geosearchstoreCommand(request *r) { searchGeneric(r, 2, GEO_SEARCH | GEO_STORE); }

/* ================================================================== table */

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define GEO "geo"
#define RADIUS_OPTS "[WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]"
#define SEARCH_FROM "FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]]"

command geoCommandTable[] = {
    {"geoadd", geoaddCommand, -5, W, 1, 1, 1, GEO, "3.2.0", "Add one or more geospatial items in the geospatial index represented using a sorted set",
     "key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]", 0, 0, 0, 0},
    {"geopos", geoposCommand, -2, R, 1, 1, 1, GEO, "3.2.0", "Returns longitude and latitude of members of a geospatial index",
     "key member [member ...]", 0, 0, 0, 0},
    {"geohash", geohashCommand, -2, R, 1, 1, 1, GEO, "3.2.0", "Returns members of a geospatial index as standard geohash strings",
     "key member [member ...]", 0, 0, 0, 0},
    {"geodist", geodistCommand, -4, R, 1, 1, 1, GEO, "3.2.0", "Returns the distance between two members of a geospatial index",
     "key member1 member2 [M|KM|FT|MI]", 0, 0, 0, 0},
    {"georadius", georadiusCommand, -6, W, 1, 1, 1, GEO, "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
     "key longitude latitude radius M|KM|FT|MI " RADIUS_OPTS " [STORE key] [STOREDIST key]", 0, 0, 0, 0},
    {"georadius_ro", georadiusroCommand, -6, R, 1, 1, 1, GEO, "3.2.10", "A read-only variant for GEORADIUS",
     "key longitude latitude radius M|KM|FT|MI " RADIUS_OPTS, 0, 0, 0, 0},
    {"georadiusbymember", georadiusbymemberCommand, -5, W, 1, 1, 1, GEO, "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
     "key member radius M|KM|FT|MI " RADIUS_OPTS " [STORE key] [STOREDIST key]", 0, 0, 0, 0},
    {"georadiusbymember_ro", georadiusbymemberroCommand, -5, R, 1, 1, 1, GEO, "3.2.10", "A read-only variant for GEORADIUSBYMEMBER",
     "key member radius M|KM|FT|MI " RADIUS_OPTS, 0, 0, 0, 0},
    {"geosearch", geosearchCommand, -7, R, 1, 1, 1, GEO, "6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
     "key " SEARCH_FROM " [WITHCOORD] [WITHDIST] [WITHHASH]", 0, 0, 0, 0},
    {"geosearchstore", geosearchstoreCommand, -8, W, 1, 2, 1, GEO, "6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
     "destination source " SEARCH_FROM " [STOREDIST]", 0, 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};
