/* keylock.h -- per-key ordering of requests at their coordinator. See
 * keylock.c for why and how. */
#ifndef RINGKV_KEYLOCK_H
#define RINGKV_KEYLOCK_H

#include "request.h"

#define LOCK_READ 1  /* reads: shared with reads */
#define LOCK_BLIND 2 /* plain writes: shared with plain writes */
#define LOCK_EXCL 3  /* read-modify-write: alone */

typedef void keylockGrantFn(request *r);

/* Claims keys for r (r->locks). Returns 1 if granted at once, 0 if r
 * waits: the grant handler runs when it gets them. */
int keylockAcquire(request *r, int db, char **keys, size_t *lens, int n, int mode);
/* Drops r's claim (granted or still waiting) and grants whoever can go. */
void keylockRelease(request *r);
void keylockSetGrantHandler(keylockGrantFn *fn);
long long keylockWaits(void);
size_t keylockCount(void);

#endif
