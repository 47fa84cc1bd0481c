/* coord.c -- the coordinator's entry: a command handler's read or write
 * goes to the state machine that runs it, and the coordination files'
 * counters are reported here. See coord.h.
 *
 * The coordination layer, top to bottom:
 *   coord.c       entry: coordRead -> read.c; coordWrite -> write.c when this
 *                 node is the version coordinator, else forward.c
 *   read.c        a read: fan-out, held-back replicas, quorum, read repair
 *   write.c       a write at its version coordinator: local write, replicas,
 *                 fallbacks and hints, future owners, late acks
 *   forward.c     a write (COORD) or a read-modify-write command (CMD) sent
 *                 to the key's version coordinator
 *   replica.c     the bus requests a coordinator sends: GET, PUT, COORD, CMD
 *   clusterops.c  SCAN/KEYS/DBSIZE/FLUSH across every partition
 *   target.c      the nodes an operation asks (gossip's view)
 *   quorum.c      the quorum decision (pure)
 * coordInfo writes the whole INFO ring section (RING INFO, /metrics too):
 * the ring as gossip.c reports it, the levels in force, these counters,
 * transfers (handoff.c) and the bus (bus.c).
 * In strict quorum mode only the preference list counts: fewer than R
 * answers or W acknowledgements is an error that says so, never a success. */
#include "coord.h"

#include "clusterops.h"
#include "forward.h"
#include "gossip.h"
#include "handoff.h"
#include "read.h"
#include "replica.h"
#include "target.h"
#include "write.h"

struct coordStats coordStats;

void coordRead(request *r, int db, const char *key, size_t klen, coordCallback *cb, void *pd) {
    readStart(r, db, key, klen, cb, pd);
}

void coordWrite(request *r, int db, const char *key, size_t klen, const writeOp *op,
                coordCallback *cb, void *pd) {
    coordStats.writes++;
    r->pending++;
    /* Candidates: the current owners, then (while partitions move) the
     * future ones: for a gossip round, a node that routes by the other ring
     * may refuse (NOTREPLICA), and one of them accepts (write.c). */
    quorumTarget t[QUORUM_MAX_TARGETS];
    int n = targetsJoint(db, key, klen, t);
    int level = targetLevel(r, 1);
    int first = targetCoordinator(t, n, level);
    if (first >= 0 && t[first].member == gossipSelf())
        writeCoordinate(r, db, key, klen, level, op, cb, pd);
    else
        forwardWrite(r, db, key, klen, level, t, n, first, op, cb, pd);
}

void coordInit(void) {
    clusteropsInit();
    replicaInit();
}

void coordInfo(buf *out) {
    const struct coordStats *s = &coordStats;
    gossipInfo(out);
    bufPrintf(out, "read_quorum:%lld\r\nwrite_quorum:%lld\r\n", server.read_quorum,
              server.write_quorum);
    bufPrintf(out, "quorum_mode:%s\r\n", server.quorum_mode == QUORUM_SLOPPY ? "sloppy" : "strict");
    bufPrintf(out, "coord_reads:%lld\r\ncoord_writes:%lld\r\ncoord_forwarded:%lld\r\n", s->reads,
              s->writes, s->forwarded);
    bufPrintf(out, "read_repairs:%lld\r\nnoquorum_errors:%lld\r\nlate_acks:%lld\r\n",
              s->read_repairs, s->noquorum, s->late_acks);
    bufPrintf(out, "sloppy_fallbacks:%lld\r\nread_retries:%lld\r\nrange_rereads:%lld\r\n",
              s->fallbacks, s->read_retries, s->range_rereads);
    handoffInfo(out);
    busInfo(out);
}
