/* keylock.c -- per-key ordering of requests at the node that coordinates
 * them.
 *
 * Why: a coordinator runs a command as asynchronous steps (read the
 * replicas, then write a version). Without ordering, two pipelined INCRs
 * from one client would both read the old value, and a GET pipelined after
 * a SET could overtake it. Redis users expect a connection's commands to
 * take effect in order, and INCR never to lose an increment when clients
 * go through the same node; so a request takes a lock on each key it
 * touches before it starts, and drops them when it completes.
 *
 * Modes: READ (shared with READ), BLIND (a plain write: shared with other
 * plain writes, whose order at the version coordinator is the order they
 * arrive in, so a pipeline of SETs still streams), EXCL (read-modify-write:
 * alone). Waiters are granted in arrival order per key, and a request
 * enters every key's queue at once when it arrives, so two requests always
 * meet in the same order on every key they share: no deadlock.
 *
 * Across nodes there is no locking: two coordinators racing on a key
 * produce siblings, never a lost acknowledged write (README explains).
 *
 * API:
 *   keylockAcquire(r, db, keys, lens, n, mode) -> 1 granted now, 0 queued
 *   keylockRelease(r)                           drop r's locks, grant waiters
 *   keylockSetGrantHandler(fn)                  called when a queued r is granted */
#include "keylock.h"

#include <string.h>
#include <xxhash.h>

typedef struct lockEntry lockEntry;

typedef struct waiter {
    request *r;
    struct waiter *next;
} waiter;

struct lockEntry {
    uint64_t hash;       /* of db and key */
    char *key;           /* db byte + key bytes, owned */
    size_t klen;
    int mode;            /* mode of the holders (0 = none) */
    int holders;         /* requests holding it */
    waiter *head, *tail; /* queued requests, oldest first */
    lockEntry *hnext;    /* hash chain */
};

/* A request's claim: its entries, and how many are not granted yet. */
typedef struct claim {
    int n;
    int mode;
    int missing;         /* entries still waited for */
    lockEntry *e[];      /* n entries */
} claim;

static lockEntry **table;
static size_t tsize, tcount;
static keylockGrantFn *grantFn;
static long long waits;

void keylockSetGrantHandler(keylockGrantFn *fn) { grantFn = fn; }
long long keylockWaits(void) { return waits; }

static lockEntry *lookup(int db, const char *key, size_t klen, int create) {
    uint64_t h = XXH3_64bits_withSeed(key, klen, (XXH64_hash_t)db + 1);
    if (tsize) {
        for (lockEntry *e = table[h & (tsize - 1)]; e; e = e->hnext)
            if (e->hash == h && e->klen == klen + 1 && (unsigned char)e->key[0] == db &&
                !memcmp(e->key + 1, key, klen))
                return e;
    }
    if (!create) return NULL;
    if (tcount * 2 >= tsize) {
        size_t ns = tsize ? tsize * 2 : 256;
        lockEntry **nt = zcalloc(sizeof(lockEntry *) * ns);
        for (size_t i = 0; i < tsize; i++) {
            lockEntry *e = table[i];
            while (e) {
                lockEntry *next = e->hnext;
                e->hnext = nt[e->hash & (ns - 1)];
                nt[e->hash & (ns - 1)] = e;
                e = next;
            }
        }
        zfree(table);
        table = nt;
        tsize = ns;
    }
    lockEntry *e = zcalloc(sizeof(*e));
    e->hash = h;
    e->klen = klen + 1;
    e->key = zmalloc(klen + 1);
    e->key[0] = (char)db;
    memcpy(e->key + 1, key, klen);
    e->hnext = table[h & (tsize - 1)];
    table[h & (tsize - 1)] = e;
    tcount++;
    return e;
}

static void dropIfIdle(lockEntry *e) {
    if (e->holders || e->head) return;
    lockEntry **pp = &table[e->hash & (tsize - 1)];
    while (*pp != e) pp = &(*pp)->hnext;
    *pp = e->hnext;
    tcount--;
    zfree(e->key);
    zfree(e);
}

static int compatible(const lockEntry *e, int mode) {
    return e->holders == 0 || (e->mode == mode && mode != LOCK_EXCL);
}

static void hold(lockEntry *e, int mode) {
    e->mode = mode;
    e->holders++;
}

int keylockAcquire(request *r, int db, char **keys, size_t *lens, int n, int mode) {
    claim *c = zcalloc(sizeof(claim) + sizeof(lockEntry *) * (size_t)n);
    c->mode = mode;
    /* the same key named twice is claimed once */
    for (int i = 0; i < n; i++) {
        lockEntry *e = lookup(db, keys[i], lens[i], 1);
        int dup = 0;
        for (int k = 0; k < c->n; k++)
            if (c->e[k] == e) dup = 1;
        if (!dup) c->e[c->n++] = e;
    }
    r->locks = c;
    int now = 1;
    for (int i = 0; i < c->n; i++)
        if (c->e[i]->head || !compatible(c->e[i], mode)) now = 0;
    if (now) {
        for (int i = 0; i < c->n; i++) hold(c->e[i], mode);
        return 1;
    }
    waits++;
    c->missing = c->n;
    for (int i = 0; i < c->n; i++) {
        waiter *w = zmalloc(sizeof(*w));
        w->r = r;
        w->next = NULL;
        if (c->e[i]->tail) c->e[i]->tail->next = w;
        else c->e[i]->head = w;
        c->e[i]->tail = w;
    }
    return 0;
}

/* r heads every queue it waits in and fits with the holders? */
static int grantable(request *r) {
    claim *c = r->locks;
    for (int i = 0; i < c->n; i++)
        if (!c->e[i]->head || c->e[i]->head->r != r || !compatible(c->e[i], c->mode)) return 0;
    return 1;
}

static void grant(request *r) {
    claim *c = r->locks;
    for (int i = 0; i < c->n; i++) {
        lockEntry *e = c->e[i];
        waiter *w = e->head;
        e->head = w->next;
        if (!e->head) e->tail = NULL;
        zfree(w);
        hold(e, c->mode);
    }
    c->missing = 0;
    if (grantFn) grantFn(r);
}

/* Grants, on e, every head waiter that can go now (several readers, or
 * several plain writers, may go together). */
static void wake(lockEntry *e) {
    while (e->head && grantable(e->head->r)) grant(e->head->r);
}

void keylockRelease(request *r) {
    claim *c = r->locks;
    if (!c) return;
    r->locks = NULL;
    if (c->missing) {
        /* never granted (its client went away): leave the queues */
        for (int i = 0; i < c->n; i++) {
            lockEntry *e = c->e[i];
            waiter **pp = &e->head, *prev = NULL;
            while (*pp && (*pp)->r != r) {
                prev = *pp;
                pp = &(*pp)->next;
            }
            if (*pp) {
                waiter *w = *pp;
                *pp = w->next;
                if (e->tail == w) e->tail = prev;
                zfree(w);
            }
        }
    } else {
        for (int i = 0; i < c->n; i++) {
            c->e[i]->holders--;
            if (!c->e[i]->holders) c->e[i]->mode = 0;
        }
    }
    for (int i = 0; i < c->n; i++) wake(c->e[i]);
    for (int i = 0; i < c->n; i++) dropIfIdle(c->e[i]);
    zfree(c);
}

size_t keylockCount(void) { return tcount; }
