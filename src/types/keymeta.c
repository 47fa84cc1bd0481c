/* keymeta.c -- a collection key's metadata record. See keymeta.h.
 * Invariants: clocks sorted without zero counters (vclock.h); the expiry
 * register's value is 0 when its stamp is. */
#include "keymeta.h"

#include <string.h>

#include "tcodec.h"

#define MF_CLOCK 1
#define MF_RM 2
#define MF_FLOOR 4
#define MF_EXP 8

void keymetaInit(keymeta *m) {
    memset(m, 0, sizeof(*m));
    vclockInit(&m->clock);
    vclockInit(&m->rm);
}

void keymetaFree(keymeta *m) {
    vclockFree(&m->clock);
    vclockFree(&m->rm);
    keymetaInit(m);
}

void keymetaClear(keymeta *m) {
    vclockClear(&m->clock);
    vclockClear(&m->rm);
    m->floor = 0;
    m->expst = (causalStamp){0, 0};
    m->expat = 0;
    memset(m->last, 0, sizeof(m->last));
}

void keymetaCopy(keymeta *dst, const keymeta *src) {
    if (dst == src) return;
    vclockCopy(&dst->clock, &src->clock);
    vclockCopy(&dst->rm, &src->rm);
    dst->floor = src->floor;
    dst->expst = src->expst;
    dst->expat = src->expat;
    memcpy(dst->last, src->last, sizeof(dst->last));
}

static int clockEqual(const vclock *a, const vclock *b) {
    return vclockCompare(a, b) == VC_EQUAL;
}

int keymetaEqual(const keymeta *a, const keymeta *b) {
    if (!clockEqual(&a->clock, &b->clock) || !clockEqual(&a->rm, &b->rm)) return 0;
    if (a->floor != b->floor || causalStampCmp(a->expst, b->expst) != 0 || a->expat != b->expat)
        return 0;
    for (int t = 0; t <= KT_MAX; t++)
        if (causalStampCmp(a->last[t], b->last[t]) != 0) return 0;
    return 1;
}

/* The expiry register: the larger stamp wins; equal stamps (impossible in
 * valid states) keep the larger time, so merge stays a join on any input. */
static int expWins(causalStamp s1, int64_t at1, causalStamp s2, int64_t at2) {
    int c = causalStampCmp(s1, s2);
    return c > 0 || (c == 0 && at1 > at2);
}

int keymetaMerge(keymeta *dst, const keymeta *src) {
    if (dst == src) return 0;
    keymeta before;
    keymetaInit(&before);
    keymetaCopy(&before, dst);
    vclockMerge(&dst->clock, &src->clock);
    vclockMerge(&dst->rm, &src->rm);
    if (src->floor > dst->floor) dst->floor = src->floor;
    if (expWins(src->expst, src->expat, dst->expst, dst->expat)) {
        dst->expst = src->expst;
        dst->expat = src->expat;
    }
    for (int t = 0; t <= KT_MAX; t++)
        if (causalStampCmp(src->last[t], dst->last[t]) > 0) dst->last[t] = src->last[t];
    int changed = !keymetaEqual(&before, dst);
    keymetaFree(&before);
    return changed;
}

/* ------------------------------------------------------------- reading */

static int expPassed(const keymeta *m, long long now_ms) {
    return m->expat > 0 && now_ms > m->expat;
}

void keymetaRemoval(const keymeta *m, long long now_ms, causalRemoval *kr) {
    kr->rm = &m->rm;
    kr->floor = m->floor;
    if (expPassed(m, now_ms)) {
        uint64_t f = causalFloorOfMs(m->expat);
        if (f > kr->floor) kr->floor = f;
    }
}

long long keymetaTTL(const keymeta *m, long long now_ms) {
    if (m->expat == 0 || expPassed(m, now_ms)) return -1;
    return m->expat - now_ms;
}

causalStamp keymetaTypeStamp(const keymeta *m, int type) {
    if (type < 0 || type > KT_MAX) return (causalStamp){0, 0};
    return m->last[type];
}

int keymetaTypeMayLive(const keymeta *m, int type, long long now_ms) {
    causalStamp s = keymetaTypeStamp(m, type);
    if (s.ts == 0) return 0;
    causalRemoval kr;
    keymetaRemoval(m, now_ms, &kr);
    return !causalCovers(&kr, s.actor, s.ts);
}

int keymetaResolveType(const keymetaCand *c, int n) {
    int best = -1;
    for (int i = 0; i < n; i++) {
        if (!c[i].live) continue;
        if (best < 0) {
            best = i;
            continue;
        }
        int k = causalStampCmp(c[i].last, c[best].last);
        if (k > 0 || (k == 0 && c[i].type > c[best].type)) best = i;
    }
    return best;
}

/* -------------------------------------------------------------- deltas */

void keymetaDeltaWrite(keymeta *delta, int type, uint64_t actor, uint64_t seq) {
    keymetaClear(delta);
    vclockRaise(&delta->clock, actor, seq);
    if (type >= 0 && type <= KT_MAX) delta->last[type] = (causalStamp){seq, actor};
}

/* A passed expiry in obs is fired by whoever replaces or removes it. */
static void foldPassed(keymeta *delta, const keymeta *obs, long long now_ms) {
    if (expPassed(obs, now_ms)) {
        uint64_t f = causalFloorOfMs(obs->expat);
        if (f > delta->floor) delta->floor = f;
    }
}

void keymetaDeltaDel(keymeta *delta, const keymeta *obs, long long now_ms, uint64_t actor,
                     uint64_t seq) {
    keymetaClear(delta);
    vclockCopy(&delta->rm, &obs->clock);
    foldPassed(delta, obs, now_ms);
    delta->expst = (causalStamp){seq, actor};
    delta->expat = 0;
}

void keymetaDeltaCreate(keymeta *delta, const keymeta *obs, long long now_ms, int type,
                        uint64_t actor, uint64_t seq) {
    keymetaDeltaDel(delta, obs, now_ms, actor, seq);
    vclockRaise(&delta->clock, actor, seq);
    if (type >= 0 && type <= KT_MAX) delta->last[type] = (causalStamp){seq, actor};
}

void keymetaDeltaExpire(keymeta *delta, const keymeta *obs, long long now_ms, uint64_t actor,
                        uint64_t seq, int64_t at_ms) {
    keymetaClear(delta);
    foldPassed(delta, obs, now_ms);
    delta->expst = (causalStamp){seq, actor};
    delta->expat = at_ms > 0 ? at_ms : 0;
}

int keymetaDeltaFire(keymeta *delta, const keymeta *obs, long long now_ms) {
    keymetaClear(delta);
    foldPassed(delta, obs, now_ms);
    return delta->floor > obs->floor;
}

/* ------------------------------------------------------------ encoding */

void keymetaEncode(const keymeta *m, buf *out) {
    uint8_t flags = (uint8_t)((m->clock.n ? MF_CLOCK : 0) | (m->rm.n ? MF_RM : 0) |
                              (m->floor ? MF_FLOOR : 0) | (m->expst.ts ? MF_EXP : 0));
    tcPutU8(out, KEYMETA_FORMAT);
    tcPutU8(out, flags);
    if (flags & MF_CLOCK) tcPutClock(out, &m->clock);
    if (flags & MF_RM) tcPutClock(out, &m->rm);
    if (flags & MF_FLOOR) tcPutVarint(out, m->floor);
    if (flags & MF_EXP) {
        tcPutU64(out, m->expst.actor);
        tcPutVarint(out, m->expst.ts);
        tcPutVarint(out, (uint64_t)m->expat);
    }
    int nt = 0;
    for (int t = 0; t <= KT_MAX; t++) nt += m->last[t].ts != 0;
    tcPutVarint(out, (uint64_t)nt);
    for (int t = 0; t <= KT_MAX; t++) {
        if (!m->last[t].ts) continue;
        tcPutU8(out, (uint8_t)t);
        tcPutU64(out, m->last[t].actor);
        tcPutVarint(out, m->last[t].ts);
    }
}

int keymetaDecode(keymeta *m, const void *p, size_t len) {
    tcReader rd;
    uint8_t fmt, flags;
    uint64_t x, nt;
    keymetaClear(m);
    tcReaderInit(&rd, p, len);
    if (tcU8(&rd, &fmt) != C_OK || fmt != KEYMETA_FORMAT) goto bad;
    if (tcU8(&rd, &flags) != C_OK || (flags & ~(MF_CLOCK | MF_RM | MF_FLOOR | MF_EXP))) goto bad;
    if ((flags & MF_CLOCK) &&
        (tcClock(&rd, &m->clock, KEYMETA_MAX_ACTORS) != C_OK || m->clock.n == 0))
        goto bad;
    if ((flags & MF_RM) && (tcClock(&rd, &m->rm, KEYMETA_MAX_ACTORS) != C_OK || m->rm.n == 0))
        goto bad;
    if ((flags & MF_FLOOR) && (tcVarint(&rd, &m->floor) != C_OK || m->floor == 0)) goto bad;
    if (flags & MF_EXP) {
        if (tcU64(&rd, &m->expst.actor) != C_OK || tcVarint(&rd, &m->expst.ts) != C_OK ||
            tcVarint(&rd, &x) != C_OK)
            goto bad;
        if (m->expst.ts == 0 || x > INT64_MAX) goto bad;
        m->expat = (int64_t)x;
    }
    if (tcVarint(&rd, &nt) != C_OK || nt > KT_MAX + 1) goto bad;
    int prev = -1;
    for (uint64_t i = 0; i < nt; i++) {
        uint8_t t;
        causalStamp s;
        if (tcU8(&rd, &t) != C_OK || tcU64(&rd, &s.actor) != C_OK || tcVarint(&rd, &s.ts) != C_OK)
            goto bad;
        if (t > KT_MAX || (int)t <= prev || s.ts == 0) goto bad;
        m->last[t] = s;
        prev = t;
    }
    if (tcDone(&rd) != C_OK) goto bad;
    return C_OK;
bad:
    keymetaClear(m);
    return C_ERR;
}
