/* aae.h -- active anti-entropy with Merkle trees. See aae.c. */
#ifndef RINGKV_AAE_H
#define RINGKV_AAE_H

#include "server.h"

void aaeInit(void);
/* RING REPAIR: starts a pass; if wait, r is answered when it ends. */
void aaeRepair(request *r, int wait);
void aaeStatus(buf *out); /* RING STATUS */
void aaeInfo(buf *out);   /* INFO antientropy */

#endif
