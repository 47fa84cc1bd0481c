/* replica.c -- the bus requests a coordinator sends to a key's replicas,
 * served here:
 *   GET db key                             -> "1" record | "0"
 *   PUT db key record                      -> OK once merged and durable
 *   COORD db key W flags expire ctx value  -> OK once W replicas acked
 *                                            (write.c coordinates it)
 *   CMD db read-level write-level proto argv... -> the reply's RESP bytes
 *                                            (the command runs here)
 * The senders are read.c (GET), write.c (PUT) and forward.c (COORD, CMD).
 *
 * API: replicaInit (coord.c); see replica.h.
 *
 * GET answers at once. PUT answers when dbApply's commit is done
 * (putApplied): the record is stored blind, as a merge operand, with no
 * read. COORD hands the write to write.c, which answers. CMD
 * builds a request with no client and this file's hooks (request.h),
 * takes the keys' locks (requestLockKeys; if another request holds one,
 * cmdGranted runs it later, unless its sender gave up meanwhile), runs the
 * command, and cmdDone sends the reply back once it completed. Every
 * request is answered exactly once. */
#include "replica.h"

#include <event2/buffer.h>
#include <string.h>

#include "busargs.h"
#include "collkey.h"
#include "collstore.h"
#include "commands.h"
#include "db.h"
#include "handoff.h"
#include "keylock.h"
#include "request.h"
#include "server.h"
#include "store.h"
#include "write.h"

static void getHandler(busReq *req) {
    int db = req->argc >= 4 ? busArgDb(req, 2) : -1;
    if (db < 0) {
        busReplyError(req, "GET malformed");
        return;
    }
    storeValue v;
    int found = dbReadRaw(db, req->argv[3], req->lens[3], &v);
    if (found < 0) {
        busReplyError(req, "storage read failed");
        return;
    }
    busArgs args;
    busArgsInit(&args);
    /* "2": no record, but a collection's metadata (coord.h's coll) */
    busArgsStr(&args, found ? "1" : collStoreHasMeta(db, req->argv[3], req->lens[3]) ? "2" : "0");
    if (found) busArgsBytes(&args, v.ptr, v.len);
    busArgsReply(&args, req);
    if (found) storeValueFree(&v);
}

/* Called by db.c once a PUT's merge is committed. */
static void putApplied(int ok, const char *err, void *pd) {
    busReq *req = pd;
    if (ok) busReplyOK(req);
    else busReplyError(req, err ? err : "storage write failed");
}

static void putHandler(busReq *req) {
    int db = req->argc >= 5 ? busArgDb(req, 2) : -1;
    record rec;
    recordInit(&rec);
    if (db < 0 || recordDecode(&rec, req->argv[4], req->lens[4]) != C_OK || (rec.n == 0 && !rec.ctr)) {
        recordFree(&rec);
        busReplyError(req, "PUT malformed");
        return;
    }
    handoffNoteWrite(keyPartition(keyHash(db, req->argv[3], req->lens[3]), server.qbits));
    if (dbApply(db, req->argv[3], req->lens[3], &rec, req->argv[4], req->lens[4], putApplied,
                req) != C_OK)
        busReplyError(req, "storage failed");
    recordFree(&rec);
}

/* TPUT db key batch: a collection's deltas (collbatch.h), merged in blind;
 * answered once durable. */
static void tputHandler(busReq *req) {
    int db = req->argc >= 5 ? busArgDb(req, 2) : -1;
    if (db < 0) {
        busReplyError(req, "TPUT malformed");
        return;
    }
    handoffNoteWrite(keyPartition(keyHash(db, req->argv[3], req->lens[3]), server.qbits));
    if (collStoreApply(db, req->argv[3], req->lens[3], req->argv[4], req->lens[4], putApplied,
                       req) != C_OK)
        busReplyError(req, "TPUT malformed batch");
}

/* TREAD db key mode [name ...] -> this node's answer (collstore.h). */
static void treadHandler(busReq *req) {
    int db = req->argc >= 5 ? busArgDb(req, 2) : -1;
    long long mode;
    if (db < 0 || !string2ll(req->argv[4], req->lens[4], &mode) || mode < COLL_READ_META ||
        mode > COLL_READ_COUNT) {
        busReplyError(req, "TREAD malformed");
        return;
    }
    buf ans;
    bufInit(&ans);
    if (collStoreRead(db, req->argv[3], req->lens[3], (int)mode, req->argv + 5, req->lens + 5,
                      req->argc - 5, &ans) != C_OK) {
        bufFree(&ans);
        busReplyError(req, "storage read failed");
        return;
    }
    busArgs args;
    busArgsInit(&args);
    busArgsBytes(&args, ans.ptr, ans.len);
    busArgsReply(&args, req);
    bufFree(&ans);
}

/* RGET skey -> "1" value | "0": a collection's stored state by its storage
 * key (anti-entropy's fetch). */
static void rgetHandler(busReq *req) {
    if (req->argc < 3 || collKeyKind(req->argv[2], req->lens[2]) <= COLLKEY_RECORD) {
        busReplyError(req, "RGET malformed");
        return;
    }
    storeValue v;
    int found = storeGet(CF_DATA, req->argv[2], req->lens[2], &v);
    if (found < 0) {
        busReplyError(req, "storage read failed");
        return;
    }
    busArgs args;
    busArgsInit(&args);
    busArgsStr(&args, found ? "1" : "0");
    if (found) busArgsBytes(&args, v.ptr, v.len);
    busArgsReply(&args, req);
    if (found) storeValueFree(&v);
}

/* RPUT skey state: a collection's state merged in blind (anti-entropy's
 * push); answered once durable. */
static void rputHandler(busReq *req) {
    if (req->argc < 4 || dbApplyRaw(req->argv[2], req->lens[2], req->argv[3], req->lens[3],
                                    putApplied, req) != C_OK)
        busReplyError(req, "RPUT malformed");
}

static void coordHandler(busReq *req) {
    /* COORD id db key W flags expire ctx value */
    int db = req->argc >= 9 ? busArgDb(req, 2) : -1;
    long long need, expire;
    if (db < 0 || !string2ll(req->argv[4], req->lens[4], &need) || req->lens[5] < 2 ||
        req->lens[5] > 3 ||
        !string2ll(req->argv[6], req->lens[6], &expire)) {
        busReplyError(req, "COORD malformed");
        return;
    }
    int tombstone = req->argv[5][0] == '1', hasctx = req->argv[5][1] == '1';
    int incr = req->lens[5] == 3 && req->argv[5][2] == '1';
    vclock ctx;
    vclockInit(&ctx);
    if (hasctx && req->lens[7] &&
        vclockDecode(&ctx, (const unsigned char *)req->argv[7], req->lens[7]) != (long)req->lens[7]) {
        vclockFree(&ctx);
        busReplyError(req, "COORD malformed context");
        return;
    }
    /* the client's level, evaluated here */
    writeOp op = {req->argv[8], req->lens[8], tombstone, expire, hasctx ? &ctx : NULL, incr};
    writeCoordinateFor(req, db, req->argv[3], req->lens[3], (int)need, &op);
    vclockFree(&ctx);
}

/* A CMD's request completed (called by request.c): its reply's bytes go
 * back to the forwarding node. */
static void cmdDone(request *r) {
    busReq *req = r->owner;
    size_t len = evbuffer_get_length(r->out);
    char *bytes = zmalloc(len ? len : 1);
    evbuffer_remove(r->out, bytes, len);
    busArgs args;
    busArgsInit(&args);
    busArgsBytes(&args, bytes, len);
    busArgsReply(&args, req);
    zfree(bytes);
    requestFree(r);
}

/* Runs a CMD that waited for its key locks, unless its sender has given up
 * on it meanwhile (it may have told its client the command failed). */
static void cmdRunLate(request *r) {
    if (busReqLate(r->owner))
        addReplyError(r, "-LATE the command waited past its sender's deadline; not run");
    else
        r->cmd->proc(r);
}

/* Called by request.c when a CMD that waited has its key locks. */
static void cmdGranted(request *r) { requestRunLater(r, cmdRunLate); }

static const requestHooks cmdHooks = {cmdGranted, cmdDone};

/* CMD id db read-level write-level proto argv... */
static void cmdHandler(busReq *req) {
    long long rl, wl, pr;
    int db = req->argc >= 7 ? busArgDb(req, 2) : -1;
    if (db < 0 || !string2ll(req->argv[3], req->lens[3], &rl) ||
        !string2ll(req->argv[4], req->lens[4], &wl) || !string2ll(req->argv[5], req->lens[5], &pr)) {
        busReplyError(req, "CMD malformed");
        return;
    }
    command *cmd = commandLookup(req->argv[6], req->lens[6]);
    if (!cmd) {
        busReplyError(req, "CMD unknown command");
        return;
    }
    if (!storeWritable() || server.draining) { /* run nothing: the sender runs it elsewhere */
        busReplyError(req, server.draining ? "-NOTCOORD this node is shutting down"
                                           : "-NOTCOORD this node's disk refuses writes");
        return;
    }
    request *r = requestCreate(&cmdHooks, req);
    requestSetArgs(r, req->argc - 6, (char **)req->argv + 6, req->lens + 6);
    r->cmd = cmd;
    r->db = db;
    r->read_level = (int)rl;
    r->write_level = (int)wl;
    r->proto = pr == 3 ? 3 : 2;
    r->forwarded = 1;
    r->pending = 1;
    int now = requestLockKeys(r);
    if (now) {
        cmd->proc(r);
        requestRelease(r);
    } /* else cmdGranted runs it */
}

void replicaInit(void) {
    busRegister("CMD", cmdHandler);
    busRegister("GET", getHandler);
    busRegister("PUT", putHandler);
    busRegister("COORD", coordHandler);
    busRegister("TPUT", tputHandler);
    busRegister("TREAD", treadHandler);
    busRegister("RGET", rgetHandler);
    busRegister("RPUT", rputHandler);
}
