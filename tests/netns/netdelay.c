/* netdelay.c -- holds each packet netfilter queues to it for its link's
 * delay (plus jitter), then lets it through: latency, jitter and the
 * reordering jitter causes, on real packets, without the kernel's netem
 * qdisc (which the test machines' kernels lack).
 *
 * Why userspace: iptables' NFQUEUE target hands a packet to a program over
 * netlink and waits for its verdict; the packet stays in the kernel until
 * then. This program answers NF_ACCEPT only once the packet's release time
 * has come, so the packet reaches the socket (INPUT rule: the receiver's
 * side) that much later. Loss is not done here: iptables' statistic match
 * drops packets (tests/netns/netbed.py installs both).
 *
 * Usage: netdelay [--rt] [--seed N] [--maxlen N] QUEUE:DELAY_US[:JITTER_US] ...
 *   one process per network namespace (netlink queues are per namespace),
 *   run there with `ip netns exec NS netdelay ...`; each QUEUE number is a
 *   link class (e.g. "from the other data center") with its own delay. A
 *   packet's delay is uniform in [DELAY-JITTER, DELAY+JITTER] (as netem's
 *   default), never below zero; packets of one flow closer together than
 *   2*JITTER may overtake each other (reordering, counted).
 *   Prints "ready" on stdout once every queue is bound (install the
 *   NFQUEUE rules after that), a stats line on SIGUSR1, and a last one on
 *   SIGTERM/SIGINT, after which every held packet is accepted at once.
 *
 * Stats line, per queue: "stats q=Q delay_us=N jitter_us=N packets=N
 *   reordered=N held_max=N delay_avg_us=N late_avg_us=N late_max_us=N
 *   late_over_1ms=N", where delay_avg is the mean delay drawn, late is how
 *   far after its release time a packet was actually accepted (this
 *   program's own error: scheduling, a busy machine), reordered counts
 *   packets accepted before one that arrived earlier on the same queue, and
 *   held_max is the most packets held at once (all queues).
 *
 * Invariants:
 *   - every packet received gets exactly one verdict (NF_ACCEPT), at or
 *     after its release time, or at exit;
 *   - held packets sit in one binary min-heap ordered by (release time,
 *     arrival sequence): one slow packet never holds up another whose time
 *     has come, and equal release times keep arrival order;
 *   - the queues are created with a large maxlen and FAIL_OPEN: a burst
 *     beyond maxlen is let through undelayed by the kernel (counted in
 *     /proc/net/netfilter/nfnetlink_queue), never dropped wholesale;
 *     the netlink socket has a large receive buffer and NETLINK_NO_ENOBUFS.
 */
/* glibc's netinet/in.h before the kernel's linux/in.h (via netfilter.h) */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define MAX_QUEUES 32
#define DEFAULT_MAXLEN 65536
#define RCVBUF (16 * 1024 * 1024)

typedef struct linkq {
    uint16_t num;               /* NFQUEUE --queue-num */
    long long delay_ns;         /* mean delay */
    long long jitter_ns;        /* uniform +- around it */
    struct nfq_q_handle *qh;    /* owned; destroyed at exit */
    unsigned long long packets; /* received */
    unsigned long long reordered;
    unsigned long long released_seq_max; /* highest arrival seq accepted so far */
    long long late_max_ns;      /* worst lateness of a verdict */
    long long late_sum_ns;      /* for the average lateness */
    unsigned long long late_1ms; /* verdicts more than 1 ms late */
    unsigned long long released; /* verdicts given on time (not cut short at exit) */
    long long delay_sum_ns;     /* sum of the delays actually applied */
} linkq;

typedef struct held {
    long long release_ns;       /* monotonic time the verdict is due */
    long long arrive_ns;
    unsigned long long seq;     /* arrival order over all queues */
    uint32_t id;                /* the kernel's packet id (host order) */
    linkq *q;
} held;

static linkq queues[MAX_QUEUES];
static int nqueues;
static held *heap;              /* owned, grows by doubling */
static size_t nheld, capheld, heldmax;
static unsigned long long nextseq = 1;
static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static volatile sig_atomic_t want_stats, want_exit;

static long long nowNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* xorshift64*: the jitter needs no more than this */
static uint64_t rnd64(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static int before(const held *a, const held *b) {
    return a->release_ns < b->release_ns || (a->release_ns == b->release_ns && a->seq < b->seq);
}

static void heapPush(held h) {
    if (nheld == capheld) {
        capheld = capheld ? capheld * 2 : 1024;
        heap = realloc(heap, capheld * sizeof(*heap));
        if (!heap) {
            fprintf(stderr, "netdelay: out of memory\n");
            abort();
        }
    }
    size_t i = nheld++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&h, &heap[p])) break;
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = h;
    if (nheld > heldmax) heldmax = nheld;
}

static held heapPop(void) {
    held top = heap[0], last = heap[--nheld];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= nheld) break;
        if (c + 1 < nheld && before(&heap[c + 1], &heap[c])) c++;
        if (!before(&heap[c], &last)) break;
        heap[i] = heap[c];
        i = c;
    }
    if (nheld) heap[i] = last;
    return top;
}

/* Called by nfq_handle_packet for each queued packet: computes its
 * release time and holds it. data is the linkq of its queue. */
static int onPacket(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
                    void *data) {
    (void)qh;
    (void)msg;
    linkq *q = data;
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
    if (!ph) return 0;
    long long now = nowNs(), d = q->delay_ns;
    if (q->jitter_ns > 0)
        d += (long long)(rnd64() % (uint64_t)(2 * q->jitter_ns + 1)) - q->jitter_ns;
    if (d < 0) d = 0;
    q->packets++;
    q->delay_sum_ns += d;
    heapPush((held){.release_ns = now + d, .arrive_ns = now, .seq = nextseq++,
                    .id = ntohl(ph->packet_id), .q = q});
    return 0;
}

static void accept1(held h, long long now) {
    linkq *q = h.q;
    if (h.seq < q->released_seq_max)
        q->reordered++;
    else
        q->released_seq_max = h.seq;
    long long late = now - h.release_ns;
    if (late > q->late_max_ns) q->late_max_ns = late;
    q->late_sum_ns += late;
    q->released++;
    if (late > 1000000) q->late_1ms++;
    nfq_set_verdict(q->qh, h.id, NF_ACCEPT, 0, NULL);
}

static void printStats(void) {
    for (int i = 0; i < nqueues; i++) {
        linkq *q = &queues[i];
        long long np = q->packets ? (long long)q->packets : 1;
        long long nr = q->released ? (long long)q->released : 1;
        printf("stats q=%u delay_us=%lld jitter_us=%lld packets=%llu reordered=%llu "
               "held_max=%zu delay_avg_us=%lld late_avg_us=%lld late_max_us=%lld "
               "late_over_1ms=%llu\n",
               q->num, q->delay_ns / 1000, q->jitter_ns / 1000, q->packets, q->reordered,
               heldmax, q->delay_sum_ns / np / 1000, q->late_sum_ns / nr / 1000,
               q->late_max_ns / 1000, q->late_1ms);
    }
    fflush(stdout);
}

static void onSignal(int sig) {
    if (sig == SIGUSR1)
        want_stats = 1;
    else
        want_exit = 1;
}

static int parseQueue(const char *arg, linkq *q) {
    unsigned num;
    long long d = 0, j = 0;
    int n = sscanf(arg, "%u:%lld:%lld", &num, &d, &j);
    if (n < 2 || num > 65535 || d < 0 || j < 0) return -1;
    q->num = (uint16_t)num;
    q->delay_ns = d * 1000;
    q->jitter_ns = j * 1000;
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: netdelay [--rt] [--seed N] [--maxlen N] QUEUE:DELAY_US[:JITTER_US] ...\n");
    exit(2);
}

int main(int argc, char **argv) {
    unsigned maxlen = DEFAULT_MAXLEN;
    int rt = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rt")) {
            rt = 1;
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            rng = strtoull(argv[++i], NULL, 10) * 2654435761ULL + 1;
        } else if (!strcmp(argv[i], "--maxlen") && i + 1 < argc) {
            maxlen = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (argv[i][0] == '-' || nqueues == MAX_QUEUES || parseQueue(argv[i], &queues[nqueues])) {
            usage();
        } else {
            nqueues++;
        }
    }
    if (!nqueues) usage();
    /* hrtimer slack: ppoll would otherwise wake up to 50 us late */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    /* --rt: this process plays the network, which does not slow down when
     * the machine's CPUs are busy; as a SCHED_FIFO task it runs as soon as
     * a packet is due instead of waiting its turn behind the servers and
     * everything else (measured: tens of ms late at a load of 10 on 2
     * cores otherwise). It sleeps in ppoll between packets. */
    if (rt) {
        struct sched_param sp = {.sched_priority = 10};
        if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
            fprintf(stderr, "netdelay: SCHED_FIFO refused (%s): timing follows the load\n",
                    strerror(errno));
    }

    struct nfq_handle *h = nfq_open();
    if (!h) {
        perror("netdelay: nfq_open");
        return 1;
    }
    for (int i = 0; i < nqueues; i++) {
        linkq *q = &queues[i];
        q->qh = nfq_create_queue(h, q->num, onPacket, q);
        if (!q->qh) {
            fprintf(stderr, "netdelay: cannot bind queue %u (another listener?)\n", q->num);
            return 1;
        }
        if (nfq_set_mode(q->qh, NFQNL_COPY_META, 0) < 0) {
            perror("netdelay: nfq_set_mode");
            return 1;
        }
        if (nfq_set_queue_maxlen(q->qh, maxlen) < 0) perror("netdelay: nfq_set_queue_maxlen");
        /* FAIL_OPEN: over maxlen, the kernel accepts instead of dropping;
         * GSO: take big segments whole instead of having the kernel
         * segment them for us (fewer packets, same bytes) */
        uint32_t fl = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
        if (nfq_set_queue_flags(q->qh, fl, fl) < 0) perror("netdelay: nfq_set_queue_flags");
    }
    int fd = nfq_fd(h);
    nfnl_rcvbufsiz(nfq_nfnlh(h), RCVBUF);
    int one = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = onSignal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t block, none;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    /* signals are taken only inside ppoll: no check-then-sleep race */
    sigprocmask(SIG_BLOCK, &block, &none);

    printf("ready queues=%d maxlen=%u sched=%s\n", nqueues, maxlen,
           sched_getscheduler(0) == SCHED_FIFO ? "fifo" : "other");
    fflush(stdout);

    static char buf[256 * 1024] __attribute__((aligned));
    while (!want_exit) {
        long long now = nowNs();
        while (nheld && heap[0].release_ns <= now) accept1(heapPop(), now);
        struct timespec ts, *tsp = NULL;
        if (nheld) {
            long long wait = heap[0].release_ns - now;
            ts.tv_sec = wait / 1000000000LL;
            ts.tv_nsec = wait % 1000000000LL;
            tsp = &ts;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = ppoll(&pfd, 1, tsp, &none);
        if (r < 0 && errno != EINTR) {
            perror("netdelay: ppoll");
            break;
        }
        if (want_stats) {
            want_stats = 0;
            printStats();
        }
        if (r > 0 && (pfd.revents & POLLIN)) {
            for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
                    if (errno == ENOBUFS) continue; /* lost messages: their packets failed open */
                    perror("netdelay: recv");
                    want_exit = 1;
                    break;
                }
                nfq_handle_packet(h, buf, (int)n);
            }
        }
    }
    printStats();
    /* what is still held goes now (not counted: it is not late, it is cut short) */
    while (nheld) {
        held x = heapPop();
        nfq_set_verdict(x.q->qh, x.id, NF_ACCEPT, 0, NULL);
    }
    for (int i = 0; i < nqueues; i++) nfq_destroy_queue(queues[i].qh);
    nfq_close(h);
    free(heap);
    return 0;
}
