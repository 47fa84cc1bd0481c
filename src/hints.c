/* hints.c -- hinted handoff. See hints.h.
 *
 * Invariants:
 *   - a hint is deleted only after its owner acknowledged a PUT of exactly
 *     the bytes now stored (a hint updated meanwhile stays for next time);
 *   - per-owner counts and bytes mirror the column family (rebuilt by a scan
 *     at start), so the limits and INFO never drift after a restart;
 *   - at most one delivery batch per owner is in flight;
 *   - a hint whose owner left the cluster for good (RING LEAVE, RING FORGET)
 *     goes to the key's current owners instead, and is deleted only once
 *     every one of them stored it (orphans: it would wait for hint-max-age
 *     otherwise, and its write would reach the new replicas only by
 *     anti-entropy). */
#include "hints.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "bus.h"
#include "busargs.h"
#include "clock.h"
#include "db.h"
#include "gossip.h"
#include "server.h"

#define TICK_MS 100
#define SWEEP_EVERY_TICKS 50

typedef struct ownerStat {
    char id[41];
    long long count;  /* hints stored for it */
    long long bytes;  /* their size */
    int inflight;     /* deliveries waiting for an answer */
} ownerStat;

static struct {
    ownerStat *o;
    int n;
    long long delivered, dropped, refused;
    long long rerouted; /* hints of a gone owner stored by the key's owners instead */
    struct event *tick;
    long long ticks;
} hs;

static ownerStat *statOf(const char *id, int create) {
    for (int i = 0; i < hs.n; i++)
        if (!strcmp(hs.o[i].id, id)) return &hs.o[i];
    if (!create) return NULL;
    hs.o = zrealloc(hs.o, sizeof(ownerStat) * (size_t)(hs.n + 1));
    ownerStat *s = &hs.o[hs.n++];
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", id);
    return s;
}

long long hintsPending(void) {
    long long n = 0;
    for (int i = 0; i < hs.n; i++) n += hs.o[i].count;
    return n;
}

/* [owner len][owner][data key] */
static void hintKey(buf *out, const char *owner, int db, const char *key, size_t klen) {
    buf sk;
    bufInit(&sk);
    keyEncode(&sk, server.qbits, db, key, klen);
    unsigned char ol = (unsigned char)strlen(owner);
    bufClear(out);
    bufAppend(out, &ol, 1);
    bufAppend(out, owner, ol);
    bufAppend(out, sk.ptr, sk.len);
    bufFree(&sk);
}

static uint64_t get64(const char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | (unsigned char)p[i];
    return v;
}

int hintsRead(const char *owner, int db, const char *key, size_t klen, record *rec,
              storeValue *hold) {
    buf hk;
    bufInit(&hk);
    hintKey(&hk, owner, db, key, klen);
    recordClear(rec);
    int found = storeGet(CF_HINTS, hk.ptr, hk.len, hold);
    bufFree(&hk);
    if (found <= 0) return found;
    if (hold->len < 8 || recordDecode(rec, hold->ptr + 8, hold->len - 8) != C_OK) {
        storeValueFree(hold);
        return 0;
    }
    return 1;
}

/* Merges rec into the hint for (owner, key). C_ERR with err set when the
 * owner's hints are at hint-max-bytes or storage failed. */
int hintsStore(const char *owner, int db, const char *key, size_t klen, const record *in,
               storeCommitCb *cb, void *pd, const char **err) {
    buf hk;
    bufInit(&hk);
    hintKey(&hk, owner, db, key, klen);
    storeValue old;
    int found = storeGet(CF_HINTS, hk.ptr, hk.len, &old);
    if (found < 0) {
        bufFree(&hk);
        *err = "storage read failed";
        return C_ERR;
    }
    record merged;
    recordInit(&merged);
    uint64_t stored = (uint64_t)mstime();
    if (found && old.len >= 8 && recordDecode(&merged, old.ptr + 8, old.len - 8) == C_OK)
        stored = get64(old.ptr);
    recordMerge(&merged, in, 0);
    buf v;
    bufInit(&v);
    unsigned char ts[8];
    for (int i = 0; i < 8; i++) ts[i] = (unsigned char)(stored >> (8 * i));
    bufAppend(&v, ts, 8);
    recordEncode(&merged, &v);
    ownerStat *s = statOf(owner, 1);
    long long delta = (long long)v.len - (found ? (long long)old.len : 0);
    int rc = C_OK;
    if (delta > 0 && s->bytes + delta > server.hint_max_bytes) {
        hs.refused++;
        *err = "-HINTFULL hints for that owner are at hint-max-bytes";
        rc = C_ERR;
    } else {
        storePut(CF_HINTS, hk.ptr, hk.len, v.ptr, v.len);
        if (!found) s->count++;
        s->bytes += delta;
        storeAfterCommit(cb, pd);
    }
    for (int i = 0; i < in->n; i++) clockObserve(in->v[i].counter);
    recordFree(&merged);
    bufFree(&v);
    if (found) storeValueFree(&old);
    bufFree(&hk);
    return rc;
}

static void deleteHint(const char *hkey, size_t hklen, size_t vlen) {
    unsigned ol = (unsigned char)hkey[0];
    char owner[41];
    snprintf(owner, sizeof(owner), "%.*s", (int)ol, hkey + 1);
    storeDelete(CF_HINTS, hkey, hklen);
    ownerStat *s = statOf(owner, 1);
    s->count--;
    s->bytes -= (long long)vlen;
}

/* ------------------------------------------------------------ bus side */

static void hputDone(int ok, const char *err, void *pd) {
    busReq *req = pd;
    if (ok) busReplyOK(req);
    else busReplyError(req, err ? err : "storage write failed");
}

/* HPUT id owner db key record */
static void hputHandler(busReq *req) {
    int db = req->argc >= 6 ? busArgDb(req, 3) : -1;
    record rec;
    recordInit(&rec);
    if (db < 0 || req->lens[2] < 1 || req->lens[2] > 40 ||
        recordDecode(&rec, req->argv[5], req->lens[5]) != C_OK || (rec.n == 0 && !rec.ctr)) {
        recordFree(&rec);
        busReplyError(req, "HPUT malformed");
        return;
    }
    const char *err = NULL;
    if (hintsStore(req->argv[2], db, req->argv[4], req->lens[4], &rec, hputDone, req, &err) !=
        C_OK)
        busReplyError(req, err);
    recordFree(&rec);
}

/* HGET id owner db key -> "1" record | "0" */
static void hgetHandler(busReq *req) {
    int db = req->argc >= 5 ? busArgDb(req, 3) : -1;
    if (db < 0 || req->lens[2] < 1 || req->lens[2] > 40) {
        busReplyError(req, "HGET malformed");
        return;
    }
    record rec;
    recordInit(&rec);
    storeValue hold;
    int found = hintsRead(req->argv[2], db, req->argv[4], req->lens[4], &rec, &hold);
    if (found < 0) {
        busReplyError(req, "storage read failed");
    } else {
        busArgs args;
        busArgsInit(&args);
        busArgsStr(&args, found ? "1" : "0");
        if (found) busArgsBytes(&args, hold.ptr + 8, hold.len - 8); /* after its 8-byte timestamp */
        busArgsReply(&args, req);
        if (found) storeValueFree(&hold);
    }
    recordFree(&rec);
}

/* ------------------------------------------------------------- delivery */

/* One hint on its way: to its owner (one PUT), or, when its owner left for
 * good, to every current owner of its key. The hint is deleted once every
 * store acknowledged it, unless it was updated meanwhile (its bytes differ
 * from those sent). */
typedef struct hintSend {
    char owner[41];
    buf hkey;           /* the hint's key */
    uint64_t digest;    /* of the value that was sent */
    int pending;        /* stores still to answer (+1 while starting them) */
    int failed;         /* a store failed, or an owner could not be asked */
    long long *counter; /* what a success counts as: hs.delivered or hs.rerouted */
} hintSend;

static void sendDone(hintSend *h) {
    if (--h->pending > 0) return;
    ownerStat *s = statOf(h->owner, 1);
    s->inflight--;
    if (!h->failed) {
        storeValue v;
        if (storeGet(CF_HINTS, h->hkey.ptr, h->hkey.len, &v) > 0) {
            if (XXH3_64bits(v.ptr, v.len) == h->digest) {
                deleteHint(h->hkey.ptr, h->hkey.len, v.len);
                (*h->counter)++;
            }
            storeValueFree(&v);
        }
    }
    bufFree(&h->hkey);
    zfree(h);
}

/* Called by bus.c with a store's answer to PUT. */
static void sendStored(const busResult *res, void *pd) {
    hintSend *h = pd;
    if (res->status != BUS_OK) h->failed = 1;
    sendDone(h);
}

/* Called by db.c once this node stored it (it is one of the key's owners). */
static void sendStoredHere(int ok, const char *err, void *pd) {
    UNUSED(err);
    hintSend *h = pd;
    if (!ok) h->failed = 1;
    sendDone(h);
}

/* Stores the hint's record (rec, its encoding enc) on member m: as it is,
 * versions and clocks included; the target merges it like any replica
 * write. */
static void sendTo(hintSend *h, int m, int db, const char *key, size_t klen, const record *rec,
                   const char *enc, size_t elen) {
    h->pending++;
    if (m == gossipSelf()) {
        if (dbApply(db, key, klen, rec, enc, elen, sendStoredHere, h) != C_OK) sendStoredHere(0, NULL, h);
        return;
    }
    if (!gossipMemberReachable(m)) {
        h->failed = 1;
        sendDone(h);
        return;
    }
    busArgs args; /* PUT db key record */
    busArgsInit(&args);
    busArgsStr(&args, "PUT");
    busArgsInt(&args, db);
    busArgsBytes(&args, key, klen);
    busArgsBytes(&args, enc, elen);
    busArgsSend(&args, gossipMemberLink(m), sendStored, h, 0);
}

/* Sends up to budget of s's hints: to member to, or (to < 0: their owner
 * left for good) to each key's current owners. */
static void sendHints(ownerStat *s, long long budget, int to) {
    unsigned char ol = (unsigned char)strlen(s->id);
    char prefix[42];
    prefix[0] = (char)ol;
    memcpy(prefix + 1, s->id, ol);
    storeIter *it = storeIterCreate(CF_HINTS);
    long long sent = 0;
    for (storeIterSeek(it, prefix, (size_t)ol + 1); storeIterValid(it) && sent < budget;
         storeIterNext(it)) {
        size_t kl, vl;
        const char *k = storeIterKey(it, &kl);
        if (kl < (size_t)ol + 1 + KEY_PREFIX_LEN || memcmp(k, prefix, (size_t)ol + 1) != 0) break;
        const char *v = storeIterValue(it, &vl);
        int db;
        const char *key;
        size_t klen;
        record rec;
        recordInit(&rec);
        if (vl < 8 || keyDecode(k + ol + 1, kl - ol - 1, NULL, &db, &key, &klen) != C_OK ||
            recordDecode(&rec, v + 8, vl - 8) != C_OK) {
            recordFree(&rec);
            continue;
        }
        hintSend *h = zcalloc(sizeof(*h));
        snprintf(h->owner, sizeof(h->owner), "%s", s->id);
        bufInit(&h->hkey);
        bufAppend(&h->hkey, k, kl);
        h->digest = XXH3_64bits(v, vl);
        h->pending = 1;
        h->counter = to >= 0 ? &hs.delivered : &hs.rerouted;
        s->inflight++;
        sent++;
        if (to >= 0) {
            sendTo(h, to, db, key, klen, &rec, v + 8, vl - 8);
        } else {
            int owners[64];
            int n = gossipOwners(keyPartition(keyHash(db, key, klen), server.qbits), owners);
            if (n == 0) h->failed = 1;
            for (int j = 0; j < n; j++) sendTo(h, owners[j], db, key, klen, &rec, v + 8, vl - 8);
        }
        recordFree(&rec);
        sendDone(h);
    }
    storeIterFree(it);
}

/* Is the owner of these hints gone for good (left, forgotten, unknown)? */
static int ownerGone(const char *id) {
    for (int i = 0; i < gossipCount(); i++)
        if (!strcmp(gossipMemberId(i), id)) return gossipMemberStatus(i) == MEMBER_LEFT;
    return 1;
}

/* Drops hints older than hint-max-age. */
static void sweep(void) {
    long long limit = mstime() - server.hint_max_age * 1000;
    storeIter *it = storeIterCreate(CF_HINTS);
    long long dropped = 0;
    for (storeIterSeekFirst(it); storeIterValid(it); storeIterNext(it)) {
        size_t kl, vl;
        const char *k = storeIterKey(it, &kl);
        storeIterValue(it, &vl);
        const char *v = storeIterValue(it, &vl);
        if (vl >= 8 && (long long)get64(v) < limit) {
            deleteHint(k, kl, vl);
            dropped++;
        }
    }
    storeIterFree(it);
    if (dropped) {
        hs.dropped += dropped;
        serverLog(LL_WARNING,
                  "Dropped %lld hints older than hint-max-age (%lld s); anti-entropy will repair "
                  "their owners from the other replicas",
                  dropped, server.hint_max_age);
    }
}

static void tick(evutil_socket_t fd, short what, void *arg) {
    UNUSED(fd);
    UNUSED(what);
    UNUSED(arg);
    hs.ticks++;
    if (hs.ticks % SWEEP_EVERY_TICKS == 0) sweep();
    if (hintsPending() == 0) return;
    long long budget = server.hint_delivery_rate * TICK_MS / 1000;
    if (budget < 1) budget = 1;
    for (int i = 0; i < gossipCount(); i++) {
        if (i == gossipSelf() || !gossipMemberReachable(i)) continue;
        ownerStat *st = statOf(gossipMemberId(i), 0);
        if (st && st->count > 0 && st->inflight == 0) sendHints(st, budget, i);
    }
    for (int i = 0; i < hs.n; i++)
        if (hs.o[i].count > 0 && hs.o[i].inflight == 0 && ownerGone(hs.o[i].id))
            sendHints(&hs.o[i], budget, -1);
}

void hintsInit(void) {
    storeIter *it = storeIterCreate(CF_HINTS);
    for (storeIterSeekFirst(it); storeIterValid(it); storeIterNext(it)) {
        size_t kl, vl;
        const char *k = storeIterKey(it, &kl);
        storeIterValue(it, &vl);
        unsigned ol = (unsigned char)k[0];
        if (kl < 1 + ol) continue;
        char owner[41];
        snprintf(owner, sizeof(owner), "%.*s", (int)ol, k + 1);
        ownerStat *s = statOf(owner, 1);
        s->count++;
        s->bytes += (long long)vl;
    }
    storeIterFree(it);
    if (hintsPending())
        serverLog(LL_NOTICE, "%lld hints waiting for delivery", hintsPending());
    busRegister("HPUT", hputHandler);
    busRegister("HGET", hgetHandler);
    hs.tick = event_new(server.base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(hs.tick, &tv);
}

void hintsInfo(buf *out) {
    bufPrintf(out, "hints_pending:%lld\r\n", hintsPending());
    long long bytes = 0;
    for (int i = 0; i < hs.n; i++) bytes += hs.o[i].bytes;
    bufPrintf(out, "hints_pending_bytes:%lld\r\n", bytes);
    bufPrintf(out, "hints_delivered:%lld\r\nhints_dropped:%lld\r\nhints_refused:%lld\r\n",
              hs.delivered, hs.dropped, hs.refused);
    bufPrintf(out, "hints_rerouted:%lld\r\n", hs.rerouted);
    for (int i = 0; i < hs.n; i++)
        if (hs.o[i].count)
            bufPrintf(out, "hints_for_%s:%lld\r\n", hs.o[i].id, hs.o[i].count);
}
