/* collsim.h -- a collection key (a set, a hash, a sorted set: a keymeta
 * record plus one field state per element) under random concurrent
 * operations, for test_set.c, test_hash.c and test_zset.c:
 *   - csim: the replicas and the network (typesim.h), and the history of
 *     the operations made: what each did and what its coordinator had seen;
 *   - the model: what an element reads, computed from that history alone
 *     (never from the states under test): present iff a write of it was
 *     seen by no remove of it (and, where writes replace a value, by no
 *     later write), no DEL or creation of the key, and no passed expiry
 *     covers it; its value the newest such assignment; plus, per actor, the
 *     increments made after the last baseline a clear took of them;
 *   - for hashes and sorted sets (csType: what differs, value text or
 *     score), the generator of operations, each checked against what the
 *     command does on one Redis, and the two random-run tests.
 * A set makes its operations itself (test_set.c) and uses the model.
 * Header-only (static). */
#ifndef RINGKV_COLLSIM_H
#define RINGKV_COLLSIM_H

#include <math.h>
#include <stdio.h>

#include "types/number.h"
#include "typesim.h"

/* Operations, by what they do to an element or the key. */
enum {
    CS_ADD,     /* SADD, HSET, ZADD: writes the element (HSET and ZADD also assign a value) */
    CS_REM,     /* SREM, SPOP, HDEL, ZREM */
    CS_INCR,    /* HINCRBY */
    CS_INCRF,   /* HINCRBYFLOAT, ZINCRBY */
    CS_DEL,     /* DEL of the key */
    CS_EXPIRE,  /* EXPIRE */
    CS_PERSIST, /* PERSIST */
    CS_FIRE     /* a replica's expiry cycle */
};

#define CS_MAXFLD 5 /* elements of a run: a set's 5 members, a hash's or a sorted set's 4 */

typedef struct csOp {
    int kind;         /* CS_ */
    int rep;          /* its coordinator */
    int fld;          /* the element (ADD, REM, INCR, INCRF) */
    int val;          /* the value assigned, an index into the type's values */
    long long inc;    /* HINCRBY */
    long double finc; /* HINCRBYFLOAT, ZINCRBY */
    uint64_t actor, seq;
    int create;       /* a write that found the key absent: also a DEL */
    int applied;      /* the command succeeded (errors make no delta) */
    int64_t at;       /* EXPIRE: the expiry time */
    long long now;    /* when it ran */
    seenset seen;     /* the ops whose effects its coordinator held */
} csOp;

typedef struct csType csType;

typedef struct csim {
    simNet n;
    const csType *t;  /* a hash or a sorted set; NULL for a set */
    int addRemoves;   /* an ADD removes what it saw of its element (HSET and
                       * ZADD replace the value; SADD only adds) */
    int onlyIncr;     /* the ops are increments only */
    int checked;      /* ops checked against Redis */
    coll rep[SIM_NREP];
    coll delta[SIM_MAXOPS];
    csOp ops[SIM_MAXOPS];
} csim;

/* A new run; op makes one operation (its argument is the csim). */
static inline csim *csimNew(uint64_t seed, int maxops, void (*op)(void *), int addRemoves) {
    csim *s = zcalloc(sizeof(csim));
    simNetInit(&s->n, &collKind, s->rep, s->delta, maxops, 50, op, s, seed);
    s->addRemoves = addRemoves;
    return s;
}

static inline void csimFree(csim *s) {
    simNetFree(&s->n);
    zfree(s);
}

/* A random run's first part: `steps` steps, copying a replica's state into
 * a pool of poolCap states now and then, then as many of the deltas as the
 * pool holds; the join laws on 40 triples of them (with quiet, see
 * simLaws) and every order of 5; then everything delivered everywhere, and
 * the replicas equal. Adds the law cases and orders checked. */
static inline void csRunLawsConverge(csim *s, int seed, int steps, int poolCap, int quiet,
                                     int *lawCases, int *orders) {
    simPool pool;
    simPoolInit(&pool, &collKind, poolCap);
    for (int i = 0; i < steps; i++) {
        simNetStep(&s->n);
        if (!simPoolFull(&pool) && rngChance(&s->n.r, 15))
            simPoolAdd(&pool, &s->rep[rngInt(&s->n.r, SIM_NREP)]);
    }
    for (int i = 0; i < s->n.nops && !simPoolFull(&pool); i++) simPoolAdd(&pool, &s->delta[i]);
    if (pool.n >= 2) {
        *lawCases += simLaws(&pool, &s->n.r, 40, quiet);
        *orders += simOrders(&pool, &s->n.r);
    }
    simPoolFree(&pool);
    simNetDeliverAll(&s->n);
    simNetAssertConverged(&s->n, seed);
}

/* ------------------------------------------------------------- model */

static inline int csIsWrite(const csOp *o) {
    return o->applied && (o->kind == CS_ADD || o->kind == CS_INCR || o->kind == CS_INCRF);
}
static inline int csIsIncr(const csOp *o) {
    return o->applied && (o->kind == CS_INCR || o->kind == CS_INCRF);
}
/* Removes the key as far as it saw it. */
static inline int csIsDel(const csOp *o) {
    return o->applied && (o->kind == CS_DEL || (csIsWrite(o) && o->create));
}
/* Writes the key's expiry register. */
static inline int csIsRegWrite(const csOp *o) {
    return o->applied && (o->kind == CS_EXPIRE || o->kind == CS_PERSIST || csIsDel(o));
}

/* The expiry time of the register a state holding exactly `seen` has: the
 * register write with the largest stamp (0: none). */
static inline int64_t csModelRegister(const csim *s, const seenset *seen) {
    causalStamp best = {0, 0};
    int64_t at = 0;
    for (int i = 0; i < s->n.nops; i++) {
        const csOp *o = &s->ops[i];
        if (!seenHas(seen, i) || !csIsRegWrite(o)) continue;
        causalStamp st = {o->seq, o->actor};
        if (causalStampCmp(st, best) > 0) {
            best = st;
            at = o->kind == CS_EXPIRE ? o->at : 0;
        }
    }
    return at;
}

static inline uint64_t csFoldOf(int64_t at, long long now) {
    return at > 0 && now > at ? causalFloorOfMs(at) : 0;
}

/* The floor a state holding exactly `seen` reads with at time now: its own
 * expiry if passed, and every expiry a coordinator or replica folded. */
static inline uint64_t csModelFloor(const csim *s, const seenset *seen, long long now) {
    uint64_t floor = csFoldOf(csModelRegister(s, seen), now);
    for (int i = 0; i < s->n.nops; i++) {
        const csOp *o = &s->ops[i];
        if (!seenHas(seen, i) || !o->applied) continue;
        int folds = csIsDel(o) || o->kind == CS_EXPIRE || o->kind == CS_PERSIST || o->kind == CS_FIRE;
        if (!folds) continue;
        uint64_t f = csFoldOf(csModelRegister(s, &o->seen), o->now);
        if (f > floor) floor = f;
    }
    return floor;
}

/* Is actor's write with dot seq removed with the key (a DEL or creation
 * that saw it or a later write by the same actor, or a passed expiry)? */
static inline int csModelCovered(const csim *s, const seenset *seen, long long now, uint64_t actor,
                                 uint64_t seq) {
    if (seq <= csModelFloor(s, seen, now)) return 1;
    for (int i = 0; i < s->n.nops; i++) {
        const csOp *d = &s->ops[i];
        if (!seenHas(seen, i) || !csIsDel(d)) continue;
        for (int j = 0; j < s->n.nops; j++) {
            const csOp *w = &s->ops[j];
            if (seenHas(&d->seen, j) && csIsWrite(w) && w->actor == actor && w->seq >= seq) return 1;
        }
    }
    return 0;
}

/* Largest seq of actor's increments of field f among seen (0: none). */
static inline uint64_t csLastIncr(const csim *s, const seenset *seen, int f, uint64_t actor) {
    uint64_t m = 0;
    for (int i = 0; i < s->n.nops; i++) {
        const csOp *o = &s->ops[i];
        if (seenHas(seen, i) && csIsIncr(o) && o->fld == f && o->actor == actor && o->seq > m) m = o->seq;
    }
    return m;
}

static inline int csIsRestart(const csim *s, int id);

/* The baseline of actor's chain for f in a state holding exactly seen. */
static inline uint64_t csModelBaseline(const csim *s, const seenset *seen, int f, uint64_t actor) {
    uint64_t b = 0;
    for (int i = 0; i < s->n.nops; i++) {
        const csOp *o = &s->ops[i];
        if (!seenHas(seen, i) || !o->applied || o->fld != f) continue;
        uint64_t x = 0;
        if (o->kind == CS_ADD || o->kind == CS_REM) x = csLastIncr(s, &o->seen, f, actor);
        else if (csIsIncr(o) && o->actor == actor && csIsRestart(s, i)) x = csLastIncr(s, &o->seen, f, actor);
        if (x > b) b = x;
    }
    return b;
}

/* An increment whose coordinator found its own chain removed with the key
 * restarts it: a baseline of what it saw. */
static inline int csIsRestart(const csim *s, int id) {
    const csOp *o = &s->ops[id];
    uint64_t e = csLastIncr(s, &o->seen, o->fld, o->actor);
    if (!e || e <= csModelBaseline(s, &o->seen, o->fld, o->actor)) return 0;
    return csModelCovered(s, &o->seen, o->now, o->actor, e);
}

/* Removed by a remove of the element that saw it (or a later write of it
 * by the same actor); where an ADD replaces the value, by such an ADD too. */
static inline int csRemovedInField(const csim *s, const csOp *w) {
    for (int i = 0; i < s->n.nops; i++) {
        const csOp *r = &s->ops[i];
        int removes = r->kind == CS_REM || (s->addRemoves && r->kind == CS_ADD);
        if (!r->applied || r->fld != w->fld || !removes) continue;
        for (int j = 0; j < s->n.nops; j++) {
            const csOp *x = &s->ops[j];
            if (seenHas(&r->seen, j) && csIsWrite(x) && x->fld == w->fld && x->actor == w->actor &&
                x->seq >= w->seq)
                return 1;
        }
    }
    return 0;
}

static inline seenset csAll(const csim *s) {
    seenset all = {{0, 0}};
    for (int i = 0; i < s->n.nops; i++) seenAdd(&all, i);
    return all;
}

/* Is element f present at now, once every op is everywhere? *base (when
 * base is not NULL): the newest assignment that survives, or NULL. */
static inline int csModelPresent(const csim *s, int f, long long now, const csOp **base) {
    seenset all = csAll(s);
    int present = 0;
    const csOp *b = NULL;
    for (int i = 0; i < s->n.nops; i++) {
        const csOp *w = &s->ops[i];
        if (!csIsWrite(w) || w->fld != f) continue;
        if (csRemovedInField(s, w) || csModelCovered(s, &all, now, w->actor, w->seq)) continue;
        present = 1;
        if (w->kind == CS_ADD && (!b || causalStampCmp((causalStamp){w->seq, w->actor},
                                                       (causalStamp){b->seq, b->actor}) > 0))
            b = w;
    }
    if (base) *base = b;
    return present;
}

/* The increments of element f that count at now: per actor, those after
 * its chain's baseline, unless the chain was removed with the key. */
static inline counterTotal csModelIncrements(const csim *s, int f, long long now) {
    seenset all = csAll(s);
    counterTotal t = {0, 0, 0};
    for (int a = 0; a < SIM_NREP; a++) {
        uint64_t e = csLastIncr(s, &all, f, simActors[a]);
        uint64_t b = csModelBaseline(s, &all, f, simActors[a]);
        if (!e || e <= b || csModelCovered(s, &all, now, simActors[a], e)) continue;
        t.live++;
        for (int i = 0; i < s->n.nops; i++) {
            const csOp *o = &s->ops[i];
            if (csIsIncr(o) && o->fld == f && o->actor == simActors[a] && o->seq > b) {
                t.isum += o->kind == CS_INCR ? o->inc : 0;
                t.fsum += o->kind == CS_INCRF ? o->finc : 0;
            }
        }
    }
    return t;
}

/* ----------------------------------------- hashes and sorted sets */

/* What a client reads of a hash or a sorted set. */
typedef struct csView {
    int present[CS_MAXFLD];
    char text[CS_MAXFLD][64]; /* a hash field's value */
    double score[CS_MAXFLD];  /* a sorted-set member's score */
} csView;

/* What an increment replied. */
typedef struct csReply {
    long long i;   /* HINCRBY */
    char text[64]; /* HINCRBYFLOAT */
    double score;  /* ZINCRBY */
} csReply;

/* What differs between hashes and sorted sets. */
struct csType {
    const char *name;   /* "hash", "zset": in messages */
    const char *what;   /* "field", "member": in messages */
    int keyType;        /* KT_HASH, KT_ZSET */
    int nfld;           /* elements a run uses */
    const char *names[CS_MAXFLD];
    int nvals;          /* values an ADD assigns */
    int scored;         /* the values are scores, not text */
    int intIncr;        /* an integer increment (HINCRBY) besides the float one */
    /* Element i's value, when present (returns whether it is). */
    int (*read)(const field *f, const causalRemoval *kr, csView *v, int i);
    /* What ADD, INCR or INCRF o does to its element on one Redis, and its
     * reply; a NUMERR_ code. */
    int (*redis)(csView *v, const csOp *o, csReply *reply);
    /* Makes ADD, REM, INCR or INCRF o's delta fd of its element from obs,
     * the coordinator's state of it; the reply; a NUMERR_ code. */
    int (*delta)(field *fd, field *obs, const causalRemoval *kr, const csOp *o, csReply *reply);
    /* The model's value of present element i: the newest assignment that
     * survives (or NULL) plus the increments that count. */
    void (*model)(const csOp *base, const counterTotal *t, csView *v, int i);
    /* What element i reads when increments alone (isum, fsum; anyf: some
     * of them float increments) made it. */
    void (*sum)(long long isum, long double fsum, int anyf, csView *v, int i);
};

static inline void csRead(const csType *t, const coll *c, long long now, csView *v) {
    causalRemoval kr;
    keymetaRemoval(&c->meta, now, &kr);
    for (int i = 0; i < t->nfld; i++) {
        field *f = collFind(c, t->names[i]);
        v->text[i][0] = '\0';
        v->score[i] = 0;
        v->present[i] = f && t->read(f, &kr, v, i);
    }
}

static inline int csViewEmpty(const csType *t, const csView *v) {
    for (int i = 0; i < t->nfld; i++)
        if (v->present[i]) return 0;
    return 1;
}

static inline int csSameElement(const csType *t, const csView *a, const csView *b, int i) {
    if (a->present[i] != b->present[i]) return 0;
    if (!a->present[i]) return 1;
    return t->scored ? a->score[i] == b->score[i] : !strcmp(a->text[i], b->text[i]);
}

static inline int csViewEqual(const csType *t, const csView *a, const csView *b) {
    for (int i = 0; i < t->nfld; i++)
        if (!csSameElement(t, a, b, i)) return 0;
    return 1;
}

/* Element i as messages show it. */
static inline const char *csShow(const csType *t, const csView *v, int i, char *out, size_t len) {
    if (t->scored) snprintf(out, len, "%g (%d)", v->score[i], v->present[i]);
    else snprintf(out, len, "\"%s\" (%d)", v->text[i], v->present[i]);
    return out;
}

static inline void csModelView(const csim *s, long long now, csView *v) {
    const csType *t = s->t;
    for (int f = 0; f < t->nfld; f++) {
        const csOp *base;
        v->present[f] = csModelPresent(s, f, now, &base);
        v->text[f][0] = '\0';
        v->score[f] = 0;
        if (!v->present[f]) continue;
        counterTotal tot = csModelIncrements(s, f, now);
        t->model(base, &tot, v, f);
    }
}

/* What the command does on one Redis; a NUMERR_ code. */
static inline int csRedis(const csType *t, csView *v, const csOp *o, csReply *reply) {
    switch (o->kind) {
    case CS_REM:
        v->present[o->fld] = 0;
        return NUMERR_OK;
    case CS_DEL:
        for (int i = 0; i < t->nfld; i++) v->present[i] = 0;
        return NUMERR_OK;
    case CS_EXPIRE:
    case CS_PERSIST:
    case CS_FIRE:
        return NUMERR_OK;
    default:
        return t->redis(v, o, reply);
    }
}

/* Runs one random op at a random replica (the csim's network calls it):
 * makes its delta from the replica's state, checks it does what the command
 * does on one Redis (the whole key read before and after, the reply, the
 * error, the TTL), applies it locally and queues it for the others. */
static inline void csOpRun(void *ctx) {
    csim *s = ctx;
    const csType *t = s->t;
    rng *r = &s->n.r;
    int p = rngInt(r, SIM_NREP);
    coll *c = &s->rep[p];
    int id = s->n.nops;
    csOp *o = &s->ops[id];
    coll *d = &s->delta[id];
    collInit(d);
    long long now = s->n.clk.now_ms;
    o->rep = p;
    o->actor = simActors[p];
    o->seq = simDot(&s->n.clk);
    o->now = now;
    o->seen = s->n.seen[p];
    o->fld = rngInt(r, t->nfld);
    o->val = rngInt(r, t->nvals);
    o->inc = rngInt(r, 11) - 5;
    o->finc = (long double)(rngInt(r, 17) - 8) / 4;
    int roll = s->onlyIncr ? 40 : rngInt(r, 100);
    o->kind = roll < 25 ? CS_ADD : roll < 40 ? CS_REM : roll < 60 && t->intIncr ? CS_INCR
            : roll < 72 ? CS_INCRF : roll < 80 ? CS_DEL : roll < 88 ? CS_EXPIRE
            : roll < 93 ? CS_PERSIST : CS_FIRE;
    if (s->onlyIncr && t->intIncr && rngChance(r, 30)) o->kind = CS_INCRF;
    csView before, after, want;
    csRead(t, c, now, &before);
    want = before;
    long long ttlBefore = keymetaTTL(&c->meta, now);
    causalRemoval kr;
    keymetaRemoval(&c->meta, now, &kr);
    field *obs = collGet(c, t->names[o->fld]);
    field *fd = collGet(d, t->names[o->fld]);
    csReply reply = {0, "", 0}, wantReply = {0, "", 0};
    int wantRc = csRedis(t, &want, o, &wantReply), rc = NUMERR_OK;
    o->create = csViewEmpty(t, &before);
    switch (o->kind) {
    case CS_DEL: keymetaDeltaDel(&d->meta, &c->meta, now, o->actor, o->seq); break;
    case CS_EXPIRE:
        o->at = now + 1 + rngInt(r, 12);
        keymetaDeltaExpire(&d->meta, &c->meta, now, o->actor, o->seq, o->at);
        break;
    case CS_PERSIST: keymetaDeltaExpire(&d->meta, &c->meta, now, o->actor, o->seq, 0); break;
    case CS_FIRE: keymetaDeltaFire(&d->meta, &c->meta, now); break;
    default: rc = t->delta(fd, obs, &kr, o, &reply); break;
    }
    cr_assert_eq(rc, wantRc, "op %d kind %d: error %d, Redis says %d", id, o->kind, rc, wantRc);
    o->applied = rc == NUMERR_OK;
    if (!o->applied) fieldClear(fd);
    if (csIsWrite(o)) {
        if (o->create) keymetaDeltaCreate(&d->meta, &c->meta, now, t->keyType, o->actor, o->seq);
        else keymetaDeltaWrite(&d->meta, t->keyType, o->actor, o->seq);
    }
    collMerge(c, d);
    simNetSent(&s->n, p);
    csRead(t, c, now, &after);
    char x[80], y[80];
    cr_assert(csViewEqual(t, &after, &want), "op %d kind %d on %s %d: reads %s, Redis %s", id,
              o->kind, t->what, o->fld, csShow(t, &after, o->fld, x, sizeof(x)),
              csShow(t, &want, o->fld, y, sizeof(y)));
    if (csIsIncr(o))
        cr_assert(reply.i == wantReply.i && !strcmp(reply.text, wantReply.text) &&
                      reply.score == wantReply.score,
                  "op %d kind %d replies %lld \"%s\" %g, Redis %lld \"%s\" %g", id, o->kind, reply.i,
                  reply.text, reply.score, wantReply.i, wantReply.text, wantReply.score);
    long long ttl = keymetaTTL(&c->meta, now);
    if (o->kind == CS_EXPIRE) cr_assert_eq(ttl, o->at - now);
    else if (o->kind == CS_PERSIST || o->kind == CS_DEL || (csIsWrite(o) && o->create)) cr_assert_eq(ttl, -1);
    else cr_assert_eq(ttl, ttlBefore);
    s->checked++;
}

/* The random runs: join laws on pairs, triples and all 120 orders of 5
 * states drawn from each run, every op against Redis (csOpRun), convergence,
 * and every element equal to the model now and after expiries pass. The
 * seed of run i is i * seedMul + seedAdd. */
static inline void csRandomRuns(const csType *t, int runs, uint64_t seedMul, uint64_t seedAdd) {
    int lawCases = 0, orders = 0, ops = 0;
    for (int seed = 1; seed <= runs; seed++) {
        csim *s = csimNew((uint64_t)seed * seedMul + seedAdd, SIM_MAXOPS, csOpRun, 1);
        s->t = t;
        csRunLawsConverge(s, seed, 40 + rngInt(&s->n.r, 120), 40, 0, &lawCases, &orders);
        for (int dt = 0; dt <= 30; dt += 15) {
            csView got, want;
            csRead(t, &s->rep[0], s->n.clk.now_ms + dt, &got);
            csModelView(s, s->n.clk.now_ms + dt, &want);
            char x[80], y[80];
            for (int f = 0; f < t->nfld; f++)
                cr_assert(csSameElement(t, &got, &want, f), "seed %d +%d ms %s %s: reads %s, the model says %s",
                          seed, dt, t->what, t->names[f], csShow(t, &got, f, x, sizeof(x)),
                          csShow(t, &want, f, y, sizeof(y)));
        }
        ops += s->n.nops;
        csimFree(s);
    }
    fprintf(stderr, "%s: %d runs, %d ops checked against Redis, %d law cases, %d merge orders\n",
            t->name, runs, ops, lawCases, orders);
    cr_assert_gt(lawCases, 10000);
}

/* Increments alone, delivered in any order and duplicated: every element
 * reads the sum of its increments (and exists iff it has one). */
static inline void csIncrementRuns(const csType *t, int runs, uint64_t seedMul) {
    for (int seed = 1; seed <= runs; seed++) {
        csim *s = csimNew((uint64_t)seed * seedMul, SIM_MAXOPS, csOpRun, 1);
        s->t = t;
        s->onlyIncr = 1;
        for (int i = 0; i < 150; i++) simNetStep(&s->n);
        simNetDeliverAll(&s->n);
        simNetAssertConverged(&s->n, seed);
        csView got, want;
        csRead(t, &s->rep[0], s->n.clk.now_ms, &got);
        for (int f = 0; f < t->nfld; f++) {
            long long isum = 0;
            long double fsum = 0;
            int any = 0, anyf = 0;
            for (int i = 0; i < s->n.nops; i++) {
                const csOp *o = &s->ops[i];
                if (o->fld != f || !o->applied) continue; /* refused as Redis refuses it */
                any = 1;
                if (o->kind == CS_INCR) isum += o->inc;
                else anyf = 1, fsum += o->finc;
            }
            cr_assert_eq(got.present[f], any);
            if (!any) continue;
            want.present[f] = 1;
            t->sum(isum, fsum, anyf, &want, f);
            char x[80], y[80];
            cr_assert(csSameElement(t, &got, &want, f), "seed %d %s %s: reads %s, the sum is %s", seed,
                      t->what, t->names[f], csShow(t, &got, f, x, sizeof(x)),
                      csShow(t, &want, f, y, sizeof(y)));
        }
        csimFree(s);
    }
}

#endif
